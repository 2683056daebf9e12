// The PCIe front of the controller's cores (nvme_host_core, nvme_array_core): the TLP layer, the
// requester that owns its one request source, the access arbiter in front of it (the enumerator
// its client 0, the lanes' clients after it), link training, the root port's set-up, the bring-up
// sequencer and the enumerator; the pcie_7x user-side ports, the controls (restart, shutdown, the
// log refreshes), the front's phases (link, root port, enumeration, root port with the chosen
// MPS/MRRS) and the front's status fields. Inline logic: builds no module of its own. The cores
// add their lanes, the lane phases (NVMe enable, admin) and the host memory the SSDs reach.
//
// Built in three steps so that a core places its lanes between them: `pcieFront` instances the
// blocks, `front.promotePorts()` gives the core its pcie_7x ports and controls and wires the
// access port, `front.sequencePhases()` runs the front's phases; `front.status()` and
// `front.restartAfterShutdown()` add the status fields and the restart rule.
import { C, type Module, type Signal, type Value, cat, mux } from "../../hdl/index.ts";
import { servedReadRegions } from "../hostmem/host-memory-router.ts";
import type { PortsOf } from "../lib/ports-of.ts";
import { LANE_ROUTER_TARGETS } from "../nvme/nvme-lane.ts";
import { type LinkTrainingParams, linkTraining } from "../pcie/link-training.ts";
import { pcieAccessArbiter } from "../pcie/pcie-access-arbiter.ts";
import type { PcieEnumeratorParams, pcieEnumerator } from "../pcie/pcie-enumerator.ts";
import { connectRequesterToLayer, pcieRequester } from "../pcie/pcie-requester.ts";
import { rootPortSetup } from "../pcie/root-port-setup.ts";
import { type TlpLayerParams, hex16 } from "../tlp/tlp-interfaces.ts";
import { tlpLayer } from "../tlp/tlp-layer.ts";
import { ERROR_DETAIL_BITS, ERROR_STEP_BITS, bringupSequencer } from "./bringup-sequencer.ts";

/** What the front is built from (the cores' parameters extend it). */
export interface PcieFrontParams {
  tlp: TlpLayerParams;
  link: LinkTrainingParams;
  enumeration: Pick<PcieEnumeratorParams, "rootPortMpsCode" | "mrrsCode" | "crsTimeoutCycles" | "crsRetryDelayCycles" | "accessTimeoutCycles">;
  /** cfg_mgmt timeout of each root-port access, cycles. */
  cfgMgmtTimeoutCycles: number;
}

/** The root port's secondary bus: the SSD's bus, or the switch's upstream port's. */
export const SECONDARY_BUS = 1;
/** Target Link Speed written to the root port: 5 GT/s. */
const TARGET_LINK_SPEED = 2;

/** The enumerator's ports the front wires (pcie_enumerator and pcie_topology_enumerator both have them). */
type EnumeratorPorts = Pick<PortsOf<typeof pcieEnumerator>, "request" | "response" | "start" | "done" | "error" | "error_step" | "error_code" | "error_status" | "mps_code" | "mrrs_code">;

export interface PcieFrontOptions<E extends EnumeratorPorts> {
  /** The root port's subordinate bus (the highest bus number below it). */
  subordinateBus: number;
  /** The root port's memory window, where the enumerator places the BARs. */
  barWindow: { base: number; bytes: number };
  /** The enumerator (built with the same secondary bus and window), instanced as `enumerator`. */
  enumerator: Module<E>;
  /** Clients of the access arbiter after the enumerator (client 0): the lanes'. */
  laneClients: number;
  /** The receive side reports each memory write's Requester ID (a core that routes by it). */
  memWriteRequesterId?: boolean;
}

/** The parameters the front adds to a core's list (`m.parameters`), in the cores' order. */
export function pcieFrontParameters(p: PcieFrontParams) {
  return {
    maxPayloadBytes: p.tlp.maxPayloadBytes,
    maxReadRequestBytes: p.tlp.maxReadRequestBytes,
    tags: p.tlp.tags,
    requesterId: hex16(p.tlp.requesterId),
    completionTimeoutCycles: p.tlp.completionTimeoutCycles,
    ...p.link,
    ...p.enumeration,
  };
}

/** The enumerator's parameters the front sets: its bus, the root port's window, the largest MPS the layer takes, the cores' enumeration timings. */
export function frontEnumeratorParams(p: PcieFrontParams, barWindow: { base: number; bytes: number }) {
  return {
    secondaryBus: SECONDARY_BUS,
    barWindowBase: barWindow.base,
    barWindowBytes: barWindow.bytes,
    maxMpsCode: Math.log2(p.tlp.maxPayloadBytes / 128),
    ...p.enumeration,
  };
}

/** The sequencer's phases, by name. */
type Phase = PortsOf<typeof bringupSequencer>["phases"][number];

/** Wires a sequencer phase's done / error / step / code / detail (each widened to the phase's port). */
export function connectPhase(m: Module, phase: Phase, done: Value, error: Value, step: Value, code: Value, detail: Value): void {
  m.comb(phase.done, done);
  m.comb(phase.error, error);
  m.comb(phase.step, step.zext(phase.step.width));
  m.comb(phase.code, code.zext(phase.code.width));
  m.comb(phase.detail, detail.zext(phase.detail.width));
}

/** Instances the front's blocks in `m` (see the header for the steps that follow). */
export function pcieFront<E extends EnumeratorPorts>(m: Module, p: PcieFrontParams, o: PcieFrontOptions<E>) {
  // The whole host-memory map lies below 4 GiB: the receive side keeps 33 address bits per queued
  // request (an address at or above 4 GiB still decodes as unmapped). The completer answers the
  // regions a lane's router serves (every lane has the whole map).
  const rx = o.memWriteRequesterId ? { collapseHighAddress: true, memWriteRequesterId: true } : { collapseHighAddress: true };
  const layer = m.instance(tlpLayer(p.tlp, { requestSources: 1, completer: { servedRegions: servedReadRegions(LANE_ROUTER_TARGETS) }, rx }), { name: "layer" });
  const requester = m.instance(pcieRequester({ secondaryBus: SECONDARY_BUS }), { name: "requester" });
  const arbiter = m.instance(pcieAccessArbiter({ clients: 1 + o.laneClients }), { name: "access_arbiter" });
  const sequencer = m.instance(bringupSequencer(), { name: "sequencer" });
  const link = m.instance(linkTraining(p.link), { name: "link" });
  const rootPort = m.instance(
    rootPortSetup({
      secondaryBus: SECONDARY_BUS,
      subordinateBus: o.subordinateBus,
      memoryWindowBase: o.barWindow.base,
      memoryWindowBytes: o.barWindow.bytes,
      targetLinkSpeed: TARGET_LINK_SPEED,
      timeoutCycles: p.cfgMgmtTimeoutCycles,
    }),
    { name: "root_port" },
  );
  const enumerator = m.instance(o.enumerator, { name: "enumerator" });
  const l = layer.ports;
  const lk = link.ports;
  const s = sequencer.ports;
  const e: EnumeratorPorts = enumerator.ports;
  const rq = requester.ports;

  /**
   * The pcie_7x user-side ports and the controls, promoted to `m`; the requester wired to the
   * layer and the arbiter, the enumerator to client 0. Returns the ports and the lanes' clients.
   */
  const promotePorts = () => {
    const ports = {
      s_axis_tx: m.promote(l.s_axis_tx),
      m_axis_rx: m.promote(l.m_axis_rx),
      rx_np_ok: m.promote(l.rx_np_ok),
      cfg_mgmt: m.promote(rootPort.ports.cfg_mgmt, { prefix: "cfg_mgmt" }),
      user_lnk_up: m.promote(lk.user_lnk_up),
      pl_sel_lnk_rate: m.promote(lk.pl_sel_lnk_rate),
      pl_sel_lnk_width: m.promote(lk.pl_sel_lnk_width),
      pl_link_gen2_cap: m.promote(lk.pl_link_gen2_cap),
      pl_directed_change_done: m.promote(lk.pl_directed_change_done),
      pl_ltssm_state: m.promote(lk.pl_ltssm_state),
      pl_directed_link_change: m.promote(lk.pl_directed_link_change),
      pl_directed_link_speed: m.promote(lk.pl_directed_link_speed),
      pl_directed_link_width: m.promote(lk.pl_directed_link_width),
      pl_directed_link_auton: m.promote(lk.pl_directed_link_auton),
      /** The SSDs' PERST# (with a switch: one reset for the switch and every SSD), active low. */
      perst_n: m.promote(lk.perst_n),
      /** A pulse: run the whole bring-up again (from PERST#); held while a shutdown runs, then applied. */
      restart: m.input(1, { name: "restart" }),
      /** A pulse while READY: normal shutdown of every READY SSD (new commands refused, I/O drained, CC.SHN, SHST complete). */
      shutdown: m.input(1, { name: "shutdown" }),
      /** A pulse while READY: every READY SSD reads its SMART / Health log (page 2 of the page port). */
      smart_refresh: m.input(1, { name: "smart_refresh" }),
      /** A pulse while READY: every READY SSD reads its newest Error Information log entries (page 3). */
      error_log_refresh: m.input(1, { name: "error_log_refresh" }),
    };
    m.comb(s.link_up, ports.user_lnk_up);
    m.comb(l.user_lnk_up, ports.user_lnk_up);
    connectRequesterToLayer(m, requester, layer);
    m.connect(arbiter.ports.access_request, rq.access);
    m.connect(rq.response, arbiter.ports.access_response);
    const [enumeratorClient, ...laneClients] = arbiter.ports.clients;
    m.connect(e.request, enumeratorClient.request);
    m.connect(enumeratorClient.response, e.response);
    return { ports, laneClients };
  };

  /**
   * The front's phases: link training, the root port set up twice (before enumeration with the
   * smallest MPS, what an SSD accepts before it is configured; then with the MPS/MRRS the
   * enumeration chose: the set-up samples them with `start`), the enumeration. Returns the lane
   * phases (NVMe enable, admin), the core's to start and end.
   */
  const sequencePhases = () => {
    const [linkPhase, rootPortPhase, enumeratePhase, rootPortMpsPhase, enablePhase, adminPhase] = s.phases;
    const rp = rootPort.ports;
    m.comb(rp.start, rootPortPhase.start.or(rootPortMpsPhase.start));
    m.comb(rp.mps_code, mux(rootPortMpsPhase.start, e.mps_code, C(0, e.mps_code.width)));
    m.comb(rp.mrrs_code, mux(rootPortMpsPhase.start, e.mrrs_code, C(p.enumeration.mrrsCode, e.mrrs_code.width)));
    m.comb(lk.start, linkPhase.start);
    m.comb(e.start, enumeratePhase.start);
    connectPhase(m, linkPhase, lk.done, lk.error, C(0, ERROR_STEP_BITS), lk.error_code, lk.error_ltssm_state);
    // A root-port step fails by a cfg_mgmt timeout (cause 1) or a read-back that differs (cause 2).
    const rootPortCause = cat(rp.error_timed_out.not(), rp.error_timed_out);
    connectPhase(m, rootPortPhase, rp.done, rp.error, rp.error_step, rootPortCause, C(0, ERROR_DETAIL_BITS));
    connectPhase(m, rootPortMpsPhase, rp.done, rp.error, rp.error_step, rootPortCause, C(0, ERROR_DETAIL_BITS));
    connectPhase(m, enumeratePhase, e.done, e.error, e.error_step, e.error_code, e.error_status);
    return { linkPhase, enablePhase, adminPhase };
  };

  /** The bring-up's and the link's status fields, promoted (the first fields of a core's status port). */
  const status = () => ({
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
  });

  /** `restart` to the sequencer; one asked for while a shutdown runs waits for it (its waits are bounded). */
  const restartAfterShutdown = (restart: Signal, shutdownBusy: Value) => {
    const restart_held = m.signal(1, { name: "restart_held" });
    m.If(shutdownBusy.not(), () => m.sync(restart_held, 0)).Elif(restart, () => m.sync(restart_held, 1));
    m.comb(s.restart, restart.or(restart_held).and(shutdownBusy.not()));
  };

  return { layer, requester, arbiter, sequencer, link, rootPort, enumerator, promotePorts, sequencePhases, status, restartAfterShutdown };
}
