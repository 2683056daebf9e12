// The controller's core: everything inside the pcie_7x boundary. Its ports are the hard block's
// user-side ports (s_axis_tx, m_axis_rx, rx_np_ok, user_lnk_up, cfg_mgmt, pl_*), the SSD's PERST#,
// and the controller's own status port; a board top wraps it with the pcie_7x black box, clocks
// and resets.
//
// Inside, from power-up (or `restart`) to READY, the bring-up sequencer runs one phase after the
// other: link training (PERST#, link up, the configuration delay, the speed change to 5 GT/s), the
// root port's own set-up through cfg_mgmt, enumeration of the SSD (configuration requests), the root
// port set up again with the MPS/MRRS the enumeration chose, NVMe initialisation (registers), and
// the admin commands (Identify, queues). Enumeration, NVMe initialisation and the admin engine's
// doorbells share one PCIe access port (an arbiter in front of pcie_requester, which owns the TLP
// layer's one request source, its tags and completions). The SSD's memory reads and writes reach
// the virtual host memory through the router: the admin SQ entry is built by the admin engine when
// the SSD fetches it, the CQ entry parsed as it is written, the Identify pages parsed on the fly.
//
// The status port (status_*) says where the bring-up is (BRINGUP_STATES), what it found, and on a
// fault the state, step, cause and detail (decoded in TypeScript by sim/system/bringup-status.ts).
// The Identify strings are read through `string_address`/`string_data`.
import { C, Module, type Value, cat, mux } from "../../hdl/index.ts";
import { BAR_WINDOW } from "../hostmem/host-memory-map.ts";
import { BRINGUP_ROUTER_TARGETS, connectHostMemoryRouter, hostMemoryRouter } from "../hostmem/host-memory-router.ts";
import { adminBringup } from "../nvme/admin-bringup.ts";
import { type AdminEngineParams, adminEngine } from "../nvme/admin-engine.ts";
import { type NvmeInitParams, nvmeInit } from "../nvme/nvme-init.ts";
import { type LinkTrainingParams, linkTraining } from "../pcie/link-training.ts";
import { pcieAccessArbiter } from "../pcie/pcie-access-arbiter.ts";
import { type PcieEnumeratorParams, pcieEnumerator } from "../pcie/pcie-enumerator.ts";
import { connectRequesterToLayer, pcieRequester } from "../pcie/pcie-requester.ts";
import { rootPortSetup } from "../pcie/root-port-setup.ts";
import { type TlpLayerParams, defaultTlpLayerParams, hex16 } from "../tlp/tlp-interfaces.ts";
import { tlpLayer } from "../tlp/tlp-layer.ts";
import { ERROR_DETAIL_BITS, ERROR_STEP_BITS, bringupSequencer } from "./bringup-sequencer.ts";

export interface NvmeHostCoreParams {
  tlp: TlpLayerParams;
  link: LinkTrainingParams;
  enumeration: Pick<PcieEnumeratorParams, "rootPortMpsCode" | "mrrsCode" | "crsTimeoutCycles" | "crsRetryDelayCycles" | "accessTimeoutCycles">;
  nvme: Omit<NvmeInitParams, "adminQueueEntries"> & Pick<AdminEngineParams, "adminTimeoutCycles">;
  /** Entries of the admin SQ and CQ. */
  adminQueueEntries: number;
  /** I/O queue entries wanted (the pair created has min(this, CAP.MQES + 1)). */
  ioQueueEntries: number;
  /** cfg_mgmt timeout of each root-port access, cycles. */
  cfgMgmtTimeoutCycles: number;
}

/** The root port's secondary bus: the SSD's bus (no switch yet). */
const SECONDARY_BUS = 1;
/** Target Link Speed written to the root port: 5 GT/s. */
const TARGET_LINK_SPEED = 2;
const CYCLES_PER_US = 250;
const CYCLES_PER_MS = 1000 * CYCLES_PER_US;

/** The timings of the hardware at 250 MHz (the specification's waits; see rtl-src/designs.ts for why each). */
export const hardwareCoreParams: NvmeHostCoreParams = {
  tlp: defaultTlpLayerParams,
  link: { perstCycles: 100 * CYCLES_PER_MS, linkUpTimeoutCycles: 1000 * CYCLES_PER_MS, configDelayCycles: 100 * CYCLES_PER_MS, speedChangeTimeoutCycles: 100 * CYCLES_PER_MS },
  enumeration: {
    rootPortMpsCode: 2,
    mrrsCode: 2,
    crsTimeoutCycles: 1000 * CYCLES_PER_MS,
    crsRetryDelayCycles: CYCLES_PER_MS,
    accessTimeoutCycles: 2 * defaultTlpLayerParams.completionTimeoutCycles,
  },
  nvme: { readyTimeoutUnitCycles: 500 * CYCLES_PER_MS, pollIntervalCycles: 10 * CYCLES_PER_US, adminTimeoutCycles: 5000 * CYCLES_PER_MS },
  adminQueueEntries: 32,
  ioQueueEntries: 64,
  cfgMgmtTimeoutCycles: 256,
};

/**
 * The same core with every wait shortened for simulation (microseconds instead of the
 * specification's 100 ms and seconds): the sequence and every check are the hardware's. The SSD
 * model's own delays (readyDelayCycles, crsCycles) must fit these: CAP.TO units of 20 µs, CRS for at
 * most 2 ms, a completion within 100 µs, an admin command within 2 ms.
 */
export const simulationCoreParams: NvmeHostCoreParams = {
  tlp: { ...defaultTlpLayerParams, completionTimeoutCycles: 100 * CYCLES_PER_US },
  link: { perstCycles: 2 * CYCLES_PER_US, linkUpTimeoutCycles: 200 * CYCLES_PER_US, configDelayCycles: 2 * CYCLES_PER_US, speedChangeTimeoutCycles: 50 * CYCLES_PER_US },
  enumeration: {
    rootPortMpsCode: 2,
    mrrsCode: 2,
    crsTimeoutCycles: 2 * CYCLES_PER_MS,
    crsRetryDelayCycles: 5 * CYCLES_PER_US,
    accessTimeoutCycles: 200 * CYCLES_PER_US,
  },
  nvme: { readyTimeoutUnitCycles: 20 * CYCLES_PER_US, pollIntervalCycles: 1 * CYCLES_PER_US, adminTimeoutCycles: 2 * CYCLES_PER_MS },
  adminQueueEntries: 8,
  ioQueueEntries: 64,
  cfgMgmtTimeoutCycles: 256,
};

/** The module name: the parameters that change it, briefly. */
function coreName(p: NvmeHostCoreParams): string {
  return `nvme_host_core_mps${p.tlp.maxPayloadBytes}_q${p.ioQueueEntries}_perst${p.link.perstCycles}_to${p.tlp.completionTimeoutCycles}`;
}

/**
 * The NVMe host controller's core inside the pcie_7x boundary: from power-up to READY (link, root
 * port, enumeration, NVMe initialisation, Identify, I/O queues), with a status port.
 */
export function nvmeHostCore(p: NvmeHostCoreParams = hardwareCoreParams) {
  const m = new Module(coreName(p));
  m.parameters({
    maxPayloadBytes: p.tlp.maxPayloadBytes,
    maxReadRequestBytes: p.tlp.maxReadRequestBytes,
    tags: p.tlp.tags,
    requesterId: hex16(p.tlp.requesterId),
    completionTimeoutCycles: p.tlp.completionTimeoutCycles,
    ...p.link,
    ...p.enumeration,
    ...p.nvme,
    adminQueueEntries: p.adminQueueEntries,
    ioQueueEntries: p.ioQueueEntries,
    cfgMgmtTimeoutCycles: p.cfgMgmtTimeoutCycles,
  });

  const layer = m.instance(tlpLayer(p.tlp, { requestSources: 1 }), { name: "layer" });
  const requester = m.instance(pcieRequester({ secondaryBus: SECONDARY_BUS }), { name: "requester" });
  const arbiter = m.instance(pcieAccessArbiter({ clients: 3 }), { name: "access_arbiter" });
  const sequencer = m.instance(bringupSequencer(), { name: "sequencer" });
  const link = m.instance(linkTraining(p.link), { name: "link" });
  const rootPort = m.instance(
    rootPortSetup({
      secondaryBus: SECONDARY_BUS,
      subordinateBus: SECONDARY_BUS,
      memoryWindowBase: BAR_WINDOW.base,
      memoryWindowBytes: BAR_WINDOW.bytes,
      targetLinkSpeed: TARGET_LINK_SPEED,
      timeoutCycles: p.cfgMgmtTimeoutCycles,
    }),
    { name: "root_port" },
  );
  const enumerator = m.instance(
    pcieEnumerator({
      secondaryBus: SECONDARY_BUS,
      barWindowBase: BAR_WINDOW.base,
      barWindowBytes: BAR_WINDOW.bytes,
      maxMpsCode: Math.log2(p.tlp.maxPayloadBytes / 128),
      ...p.enumeration,
    }),
    { name: "enumerator" },
  );
  const init = m.instance(nvmeInit({ adminQueueEntries: p.adminQueueEntries, readyTimeoutUnitCycles: p.nvme.readyTimeoutUnitCycles, pollIntervalCycles: p.nvme.pollIntervalCycles }), { name: "nvme_init" });
  const admin = m.instance(adminEngine({ adminQueueEntries: p.adminQueueEntries, adminTimeoutCycles: p.nvme.adminTimeoutCycles }), { name: "admin_engine" });
  const bringup = m.instance(adminBringup({ ioQueueEntries: p.ioQueueEntries }), { name: "admin_bringup" });
  const router = m.instance(hostMemoryRouter(BRINGUP_ROUTER_TARGETS), { name: "router" });

  // ---- the pcie_7x user-side ports ----
  const l = layer.ports;
  const s_axis_tx = m.promote(l.s_axis_tx);
  const m_axis_rx = m.promote(l.m_axis_rx);
  const rx_np_ok = m.promote(l.rx_np_ok);
  const cfg_mgmt = m.promote(rootPort.ports.cfg_mgmt, { prefix: "cfg_mgmt" });
  const user_lnk_up = m.promote(link.ports.user_lnk_up);
  const pl_sel_lnk_rate = m.promote(link.ports.pl_sel_lnk_rate);
  const pl_sel_lnk_width = m.promote(link.ports.pl_sel_lnk_width);
  const pl_link_gen2_cap = m.promote(link.ports.pl_link_gen2_cap);
  const pl_directed_change_done = m.promote(link.ports.pl_directed_change_done);
  const pl_ltssm_state = m.promote(link.ports.pl_ltssm_state);
  const pl_directed_link_change = m.promote(link.ports.pl_directed_link_change);
  const pl_directed_link_speed = m.promote(link.ports.pl_directed_link_speed);
  const pl_directed_link_width = m.promote(link.ports.pl_directed_link_width);
  const pl_directed_link_auton = m.promote(link.ports.pl_directed_link_auton);
  /** The SSD's PERST#, active low. */
  const perst_n = m.promote(link.ports.perst_n);
  /** A pulse: run the whole bring-up again (from PERST#). */
  const restart = m.promote(sequencer.ports.restart);
  m.comb(sequencer.ports.link_up, user_lnk_up);

  // ---- the TLP layer and the one access port ----
  const rq = requester.ports;
  connectRequesterToLayer(m, requester, layer);
  m.connect(arbiter.ports.access_request, rq.access);
  m.connect(rq.response, arbiter.ports.access_response);
  const [enumeratorClient, initClient, adminClient] = arbiter.ports.clients;
  m.connect(enumerator.ports.request, enumeratorClient.request);
  m.connect(enumeratorClient.response, enumerator.ports.response);
  m.connect(init.ports.access_request, initClient.request);
  m.connect(initClient.response, init.ports.access_response);
  m.connect(admin.ports.access_request, adminClient.request);
  m.connect(adminClient.response, admin.ports.access_response);

  // ---- virtual host memory ----
  connectHostMemoryRouter(m, router, layer, admin);
  m.connect(router.ports.writes.identify.write, bringup.ports.identify_write);
  m.connect(router.ports.writes.identify.write_data, bringup.ports.identify_write_data);

  // ---- what each phase needs from the ones before ----
  const e = enumerator.ports;
  const n = init.ports;
  m.comb(n.bar0_address, e.bar0_address);
  m.comb(admin.ports.bar0_address, e.bar0_address);
  m.comb(admin.ports.dstrd, n.dstrd);
  m.comb(admin.ports.reset_queues, n.queues_reset);
  m.comb(bringup.ports.mqes, n.mqes);
  m.comb(bringup.ports.mpsmin, n.mpsmin);
  m.connect(bringup.ports.admin_command, admin.ports.command);
  m.connect(admin.ports.completion, bringup.ports.admin_completion);

  // The root port is set up twice: before enumeration with the smallest MPS (what an SSD accepts
  // before it is configured), then with the MPS/MRRS the enumeration chose.
  const s = sequencer.ports;
  const [linkPhase, rootPortPhase, enumeratePhase, rootPortMpsPhase, enablePhase, adminPhase] = s.phases;
  // The set-up samples its MPS/MRRS inputs with `start`.
  const rp = rootPort.ports;
  m.comb(rp.start, rootPortPhase.start.or(rootPortMpsPhase.start));
  m.comb(rp.mps_code, mux3(rootPortMpsPhase.start, e.mps_code, 0));
  m.comb(rp.mrrs_code, mux3(rootPortMpsPhase.start, e.mrrs_code, p.enumeration.mrrsCode));
  m.comb(link.ports.start, linkPhase.start);
  m.comb(e.start, enumeratePhase.start);
  m.comb(n.start, enablePhase.start);
  m.comb(bringup.ports.start, adminPhase.start);

  // ---- each phase's done / error / step / code / detail ----
  const lk = link.ports;
  connectPhase(linkPhase, lk.done, lk.error, C(0, ERROR_STEP_BITS), lk.error_code, lk.error_ltssm_state);
  // A root-port step fails by a cfg_mgmt timeout (cause 1) or a read-back that differs (cause 2).
  const rootPortCause = cat(rp.error_timed_out.not(), rp.error_timed_out);
  connectPhase(rootPortPhase, rp.done, rp.error, rp.error_step, rootPortCause, C(0, ERROR_DETAIL_BITS));
  connectPhase(rootPortMpsPhase, rp.done, rp.error, rp.error_step, rootPortCause, C(0, ERROR_DETAIL_BITS));
  connectPhase(enumeratePhase, e.done, e.error, e.error_step, e.error_code, e.error_status);
  connectPhase(enablePhase, n.done, n.error, n.error_step, n.error_code, n.error_status);
  const b = bringup.ports;
  connectPhase(adminPhase, b.done, b.error, b.error_step, b.error_cause, b.error_status);

  function connectPhase(phase: (typeof s.phases)[number], done: Value, error: Value, step: Value, code: Value, detail: Value) {
    m.comb(phase.done, done);
    m.comb(phase.error, error);
    m.comb(phase.step, step.zext(phase.step.width));
    m.comb(phase.code, code.zext(phase.code.width));
    m.comb(phase.detail, detail.zext(phase.detail.width));
  }
  function mux3(select: Value, whenSet: Value, otherwise: number): Value {
    return mux(select, whenSet, C(otherwise, whenSet.width));
  }

  // ---- the status port ----
  const status = {
    status_state: m.promote(s.state, { name: "status_state" }),
    status_ready: m.promote(s.ready, { name: "status_ready" }),
    status_fault: m.promote(s.fault, { name: "status_fault" }),
    status_error_state: m.promote(s.error_state, { name: "status_error_state" }),
    status_error_step: m.promote(s.error_step, { name: "status_error_step" }),
    status_error_code: m.promote(s.error_code, { name: "status_error_code" }),
    status_error_detail: m.promote(s.error_detail, { name: "status_error_detail" }),
    status_link_speed: m.promote(lk.link_speed, { name: "status_link_speed" }),
    status_link_width: m.promote(lk.link_width, { name: "status_link_width" }),
    status_mps_code: m.promote(e.mps_code, { name: "status_mps_code" }),
    status_mrrs_code: m.promote(e.mrrs_code, { name: "status_mrrs_code" }),
    status_vendor_id: m.promote(e.vendor_id, { name: "status_vendor_id" }),
    status_device_id: m.promote(e.device_id, { name: "status_device_id" }),
    status_bar0_address: m.promote(e.bar0_address, { name: "status_bar0_address" }),
    status_bar0_size_log2: m.promote(e.bar0_size_log2, { name: "status_bar0_size_log2" }),
    status_nvme_version: m.promote(n.version, { name: "status_nvme_version" }),
    status_mqes: m.promote(n.mqes, { name: "status_mqes" }),
    status_dstrd: m.promote(n.dstrd, { name: "status_dstrd" }),
    status_capacity_blocks: m.promote(b.capacity_blocks, { name: "status_capacity_blocks" }),
    status_lba_bytes: m.promote(b.lba_bytes, { name: "status_lba_bytes" }),
    status_mdts_bytes_log2: m.promote(b.mdts_bytes_log2, { name: "status_mdts_bytes_log2" }),
    status_awupf_bytes: m.promote(b.awupf_bytes, { name: "status_awupf_bytes" }),
    status_io_queue_entries: m.promote(b.io_queue_entries, { name: "status_io_queue_entries" }),
    status_unmapped_reads: m.promote(router.ports.unmapped_reads, { name: "status_unmapped_reads" }),
    status_unmapped_writes: m.promote(router.ports.unmapped_writes, { name: "status_unmapped_writes" }),
    status_stray_completions: m.promote(rq.stray_completions, { name: "status_stray_completions" }),
  };
  const identify = {
    controller: Object.fromEntries(Object.entries(b.controller).map(([name, signal]) => [name, m.promote(signal, { name: `id_ctrl_${name}` })])),
    namespace: Object.fromEntries(Object.entries(b.namespace).map(([name, signal]) => [name, m.promote(signal, { name: `id_ns_${name}` })])),
  };
  const string_address = m.promote(b.string_address);
  const string_data = m.promote(b.string_data);

  return m.exposing({
    s_axis_tx,
    m_axis_rx,
    rx_np_ok,
    cfg_mgmt,
    user_lnk_up,
    pl_sel_lnk_rate,
    pl_sel_lnk_width,
    pl_link_gen2_cap,
    pl_directed_change_done,
    pl_ltssm_state,
    pl_directed_link_change,
    pl_directed_link_speed,
    pl_directed_link_width,
    pl_directed_link_auton,
    perst_n,
    restart,
    status,
    identify,
    string_address,
    string_data,
  });
}
