// The controller's core: everything inside the pcie_7x boundary. Its ports are the hard block's
// user-side ports (s_axis_tx, m_axis_rx, rx_np_ok, user_lnk_up, cfg_mgmt, pl_*), the SSD's PERST#,
// and the controller's own status port; a board top wraps it with the pcie_7x black box, clocks
// and resets.
//
// Inside, from power-up (or `restart`) to READY, the bring-up sequencer runs one phase after the
// other: link training (PERST#, link up, the configuration delay, the speed change to 5 GT/s), the
// root port's own set-up through cfg_mgmt, enumeration of the SSD (configuration requests), the root
// port set up again with the MPS/MRRS the enumeration chose, NVMe initialisation (registers), and
// the admin commands (Identify, queues). Everything from NVMe initialisation on (and the host
// memory the SSD reads and writes) is one nvme_lane (rtl-src/nvme/nvme-lane.ts): this core is the
// PCIe front and one lane; nvme_array_core (nvme-array-core.ts) is the front and a lane per SSD
// behind a switch. Enumeration, NVMe initialisation and the admin engine's
// doorbells share one PCIe access port (an arbiter in front of pcie_requester, which owns the TLP
// layer's one request source, its tags and completions). The SSD's memory reads and writes reach
// the virtual host memory through the router: the admin SQ entry is built by the admin engine when
// the SSD fetches it, the CQ entry parsed as it is written, the Identify pages parsed on the fly.
//
// After READY the I/O path runs (issue 10): the user's commands (rtl-src/user/user-port.ts) go to
// the I/O engine, which cuts them into NVMe commands, places their data in the write or read buffer
// (two rings in block RAM), writes a compact record per command and rings the I/O doorbells through
// the same access port. The SSD's fetches of the I/O SQ and PRP lists are answered by the queue
// server from those records, its reads of write data by the write buffer, its writes of read data
// and CQ entries land in the read buffer and the engine's completion queue. Read data leaves on
// `user_read_data` in command order, completions on `user_completion`.
//
// After READY the admin queue serves the log pages (log_page_refresh, log_page_capture: the SMART /
// Health log and the newest Error Information entries on the user's pulses, the Sanitize Status log
// for an erase) and the erase requests (nvme_erase: Format NVM or Sanitize, issue 15), one admin
// command at a time.
//
// The status port (status_*) says where the bring-up is (BRINGUP_STATES), what it found, and on a
// fault the state, step, cause and detail (decoded in TypeScript by sim/system/bringup.ts), and how
// the last erase went (sim/system/erase-status.ts). The Identify pages, the SMART / Health log and
// the error log are read a byte at a time through `page_address`/`page_data`
// (rtl-src/nvme/page-field-capture.ts: StatusPage, pageAddress).
import { PAGE_ADDRESS_BITS } from "../nvme/page-field-capture.ts";
import { Module } from "../../hdl/index.ts";
import { BAR_WINDOW } from "../hostmem/host-memory-map.ts";
import { hardwareShutdownParams } from "../nvme/nvme-shutdown.ts";
import { DEFAULT_ERROR_LOG_ENTRIES } from "../nvme/log-page-capture.ts";
import { hardwareEraseParams } from "../nvme/nvme-erase.ts";
import { LANE_ROUTER_TARGETS, type NvmeLaneParams, nvmeLane } from "../nvme/nvme-lane.ts";
import { pcieEnumerator } from "../pcie/pcie-enumerator.ts";
import { defaultTlpLayerParams } from "../tlp/tlp-interfaces.ts";
import { type PcieFrontParams, SECONDARY_BUS, connectPhase, frontEnumeratorParams, pcieFront, pcieFrontParameters } from "./pcie-front.ts";

/** The PCIe front's parameters (rtl-src/top/pcie-front.ts) and the lane's. */
export interface NvmeHostCoreParams extends NvmeLaneParams, PcieFrontParams {}

/**
 * Who answers the SSD's memory accesses: the lane's router targets (rtl-src/nvme/nvme-lane.ts).
 */
export const CORE_ROUTER_TARGETS = LANE_ROUTER_TARGETS;

const CYCLES_PER_US = 250;
/**
 * Tags of the core's own non-posted requests: they all come from pcie_requester, one access at a
 * time, so two would do; four leave room for a tag still being freed after its completion (three
 * cycles) and keep the tag allocator's completion-timeout sweep a 4:1 choice.
 */
const CORE_TAGS = 4;
const CYCLES_PER_MS = 1000 * CYCLES_PER_US;

/** The timings of the hardware at 250 MHz (the specification's waits; see rtl-src/designs.ts for why each). */
export const hardwareCoreParams: NvmeHostCoreParams = {
  tlp: { ...defaultTlpLayerParams, tags: CORE_TAGS },
  link: { perstCycles: 100 * CYCLES_PER_MS, linkUpTimeoutCycles: 1000 * CYCLES_PER_MS, configDelayCycles: 100 * CYCLES_PER_MS, speedChangeTimeoutCycles: 100 * CYCLES_PER_MS },
  enumeration: {
    rootPortMpsCode: 2,
    mrrsCode: 2,
    crsTimeoutCycles: 1000 * CYCLES_PER_MS,
    crsRetryDelayCycles: CYCLES_PER_MS,
    accessTimeoutCycles: 2 * defaultTlpLayerParams.completionTimeoutCycles,
  },
  // Format NVM: 30 minutes (a user-data erase of a large namespace).
  nvme: { readyTimeoutUnitCycles: 500 * CYCLES_PER_MS, pollIntervalCycles: 10 * CYCLES_PER_US, adminTimeoutCycles: 5000 * CYCLES_PER_MS, formatTimeoutCycles: 1800_000 * CYCLES_PER_MS },
  adminQueueEntries: 32,
  ioQueueEntries: 64,
  cfgMgmtTimeoutCycles: 256,
  // 256 KiB of buffer in all; pieces of 32 KiB keep four in flight per direction.
  io: { slots: 32, tagBits: 8, writeBufferBytes: 128 * 1024, readBufferBytes: 128 * 1024, maxPieceBytes: 32 * 1024, ioTimeoutCycles: 5000 * CYCLES_PER_MS },
  shutdown: hardwareShutdownParams,
  erase: hardwareEraseParams,
  errorLogEntries: DEFAULT_ERROR_LOG_ENTRIES,
};

/**
 * The same core with every wait shortened for simulation (microseconds instead of the
 * specification's 100 ms and seconds): the sequence and every check are the hardware's. The SSD
 * model's own delays (readyDelayCycles, crsCycles) must fit these: CAP.TO units of 20 µs, CRS for at
 * most 2 ms, a completion within 100 µs, an admin command within 2 ms. Erases keep the hardware's
 * bounds (a Format NVM within 30 minutes, a sanitize within 4 hours): a realistic one takes seconds
 * of simulated time, and `nvme-host erase` follows it with this same core.
 */
export const simulationCoreParams: NvmeHostCoreParams = {
  tlp: { ...defaultTlpLayerParams, tags: CORE_TAGS, completionTimeoutCycles: 100 * CYCLES_PER_US },
  link: { perstCycles: 2 * CYCLES_PER_US, linkUpTimeoutCycles: 200 * CYCLES_PER_US, configDelayCycles: 2 * CYCLES_PER_US, speedChangeTimeoutCycles: 50 * CYCLES_PER_US },
  enumeration: {
    rootPortMpsCode: 2,
    mrrsCode: 2,
    crsTimeoutCycles: 2 * CYCLES_PER_MS,
    crsRetryDelayCycles: 5 * CYCLES_PER_US,
    accessTimeoutCycles: 200 * CYCLES_PER_US,
  },
  nvme: { ...hardwareCoreParams.nvme, readyTimeoutUnitCycles: 20 * CYCLES_PER_US, pollIntervalCycles: 1 * CYCLES_PER_US, adminTimeoutCycles: 2 * CYCLES_PER_MS },
  adminQueueEntries: 8,
  ioQueueEntries: 64,
  cfgMgmtTimeoutCycles: 256,
  io: { ...hardwareCoreParams.io, ioTimeoutCycles: 10 * CYCLES_PER_MS },
  // Units of 250 µs (RTD3E's 2^19 µs unit shortened), 4 to 8 units (the model flushes its write
  // cache first), CSTS read every 5 µs.
  shutdown: { timeoutUnitCycles: 250 * CYCLES_PER_US, minTimeoutUnits: 4, maxTimeoutUnits: 8, pollIntervalCycles: 5 * CYCLES_PER_US },
  // The Sanitize Status log every 100 µs: 1 % steps of a 10 ms erase. Each poll is a Get Log Page on
  // the link, stepped cycle by cycle, so a shorter interval makes a long erase simulate slower.
  erase: { ...hardwareCoreParams.erase, pollIntervalCycles: 100 * CYCLES_PER_US },
  errorLogEntries: DEFAULT_ERROR_LOG_ENTRIES,
};

/** The module name: the parameters that change it, briefly. */
function coreName(p: NvmeHostCoreParams): string {
  const kib = (bytes: number) => bytes / 1024;
  const io = `s${p.io.slots}_w${kib(p.io.writeBufferBytes)}k_r${kib(p.io.readBufferBytes)}k_p${kib(p.io.maxPieceBytes)}k`;
  return `nvme_host_core_mps${p.tlp.maxPayloadBytes}_q${p.ioQueueEntries}_${io}_perst${p.link.perstCycles}_to${p.tlp.completionTimeoutCycles}`;
}

/**
 * The NVMe host controller's core inside the pcie_7x boundary: from power-up to READY (link, root
 * port, enumeration, NVMe initialisation, Identify, I/O queues), with a status port.
 */
export function nvmeHostCore(p: NvmeHostCoreParams = hardwareCoreParams) {
  const m = new Module(coreName(p));
  m.parameters({
    ...pcieFrontParameters(p),
    ...p.nvme,
    adminQueueEntries: p.adminQueueEntries,
    ioQueueEntries: p.ioQueueEntries,
    cfgMgmtTimeoutCycles: p.cfgMgmtTimeoutCycles,
    ...Object.fromEntries(Object.entries(p.io).map(([k, v]) => [`io${k[0].toUpperCase()}${k.slice(1)}`, v])),
  });

  // The SSD sits on the root port's secondary bus (no switch): the only bus below it.
  const barWindow = BAR_WINDOW;
  const enumerator = pcieEnumerator(frontEnumeratorParams(p, barWindow));
  const laneModule = nvmeLane(p);
  const front = pcieFront(m, p, { subordinateBus: SECONDARY_BUS, barWindow, enumerator, laneClients: laneModule.exposed.access.length });
  // The SSD's NVMe side: initialisation, admin bring-up, I/O path, log pages, erase, shutdown, and
  // the host-memory router with the blocks that answer the SSD.
  const lane = m.instance(laneModule, { name: "lane" });

  // ---- the pcie_7x user-side ports and the controls; the TLP layer and the one access port ----
  const { ports: pcie, laneClients } = front.promotePorts();
  const ln = lane.ports;
  ln.access.forEach((client, i) => {
    m.connect(client.request, laneClients[i].request);
    m.connect(laneClients[i].response, client.response);
  });

  // ---- virtual host memory: the SSD's reads and writes, to the lane's router ----
  const l = front.layer.ports;
  m.connect(l.data_request, ln.data_request);
  m.connect(ln.data_response, l.data_response);
  m.connect(l.mem_write, ln.mem_write);
  m.connect(l.mem_write_data, ln.mem_write_data);

  // ---- the I/O path's user ports ----
  const user_command = m.promote(ln.user_command, { prefix: "user_command" });
  const user_completion = m.promote(ln.user_completion, { prefix: "user_completion" });
  const user_write_data = m.promote(ln.user_write_data, { prefix: "user_write_data" });
  const user_read_data = m.promote(ln.user_read_data, { prefix: "user_read_data" });

  // ---- what each phase needs from the ones before ----
  const e = front.enumerator.ports;
  m.comb(ln.bar0_address, e.bar0_address);

  // ---- the phases: the front's, then the lane's NVMe enable and admin bring-up ----
  const { enablePhase, adminPhase } = front.sequencePhases();
  m.comb(ln.enable_start, enablePhase.start);
  m.comb(ln.admin_start, adminPhase.start);
  const en = ln.enable;
  connectPhase(m, enablePhase, en.done, en.error, en.step, en.code, en.detail);
  const ad = ln.admin;
  connectPhase(m, adminPhase, ad.done, ad.error, ad.step, ad.code, ad.detail);

  // ---- the lane's working life, after READY ----
  const ls = ln.status;
  m.comb(ln.ready, front.sequencer.ports.ready);
  m.comb(ln.shutdown, pcie.shutdown);
  m.comb(ln.smart_refresh, pcie.smart_refresh);
  m.comb(ln.error_log_refresh, pcie.error_log_refresh);
  front.restartAfterShutdown(pcie.restart, ls.status_shutdown_busy);
  const user_erase = m.promote(ln.user_erase, { prefix: "user_erase" });

  // ---- the status port ----
  const status = {
    ...front.status(),
    status_vendor_id: m.promote(e.vendor_id, { name: "status_vendor_id" }),
    status_device_id: m.promote(e.device_id, { name: "status_device_id" }),
    status_bar0_address: m.promote(e.bar0_address, { name: "status_bar0_address" }),
    status_bar0_size_log2: m.promote(e.bar0_size_log2, { name: "status_bar0_size_log2" }),
    status_nvme_version: m.promote(ls.status_nvme_version, { name: "status_nvme_version" }),
    status_mqes: m.promote(ls.status_mqes, { name: "status_mqes" }),
    status_dstrd: m.promote(ls.status_dstrd, { name: "status_dstrd" }),
    status_capacity_blocks: m.promote(ls.status_capacity_blocks, { name: "status_capacity_blocks" }),
    status_lba_bytes: m.promote(ls.status_lba_bytes, { name: "status_lba_bytes" }),
    status_mdts_bytes_log2: m.promote(ls.status_mdts_bytes_log2, { name: "status_mdts_bytes_log2" }),
    status_awupf_bytes: m.promote(ls.status_awupf_bytes, { name: "status_awupf_bytes" }),
    status_io_queue_entries: m.promote(ls.status_io_queue_entries, { name: "status_io_queue_entries" }),
    status_unmapped_reads: m.promote(l.completer_counters[0], { name: "status_unmapped_reads" }),
    status_unmapped_writes: m.promote(ls.status_unmapped_writes, { name: "status_unmapped_writes" }),
    status_stray_completions: m.promote(front.requester.ports.stray_completions, { name: "status_stray_completions" }),
    status_io_fault: m.promote(ls.status_io_fault, { name: "status_io_fault" }),
    status_io_fault_class: m.promote(ls.status_io_fault_class, { name: "status_io_fault_class" }),
    status_io_in_flight: m.promote(ls.status_io_in_flight, { name: "status_io_in_flight" }),
    status_io_commands: m.promote(ls.status_io_commands, { name: "status_io_commands" }),
    status_io_pieces: m.promote(ls.status_io_pieces, { name: "status_io_pieces" }),
    status_io_sq_doorbells: m.promote(ls.status_io_sq_doorbells, { name: "status_io_sq_doorbells" }),
    status_io_cq_doorbells: m.promote(ls.status_io_cq_doorbells, { name: "status_io_cq_doorbells" }),
    status_io_stray_entries: m.promote(ls.status_io_stray_entries, { name: "status_io_stray_entries" }),
    status_io_errors_nvme_status: m.promote(ls.status_io_errors_nvme_status, { name: "status_io_errors_nvme_status" }),
    status_io_errors_pcie_fault: m.promote(ls.status_io_errors_pcie_fault, { name: "status_io_errors_pcie_fault" }),
    status_io_errors_timeout: m.promote(ls.status_io_errors_timeout, { name: "status_io_errors_timeout" }),
    status_io_errors_not_ready: m.promote(ls.status_io_errors_not_ready, { name: "status_io_errors_not_ready" }),
    status_io_errors_bad_request: m.promote(ls.status_io_errors_bad_request, { name: "status_io_errors_bad_request" }),
    status_poisoned_data_writes: m.promote(ls.status_poisoned_data_writes, { name: "status_poisoned_data_writes" }),
    status_shutdown_active: m.promote(ls.status_shutdown_active, { name: "status_shutdown_active" }),
    status_shutdown_busy: m.promote(ls.status_shutdown_busy, { name: "status_shutdown_busy" }),
    status_shutdown_done: m.promote(ls.status_shutdown_done, { name: "status_shutdown_done" }),
    status_shutdown_complete: m.promote(ls.status_shutdown_complete, { name: "status_shutdown_complete" }),
    status_shutdown_error: m.promote(ls.status_shutdown_error, { name: "status_shutdown_error" }),
    status_shutdown_error_code: m.promote(ls.status_shutdown_error_code, { name: "status_shutdown_error_code" }),
    status_smart_valid: m.promote(ls.status_smart_valid, { name: "status_smart_valid" }),
    status_smart_busy: m.promote(ls.status_smart_busy, { name: "status_smart_busy" }),
    status_smart_error: m.promote(ls.status_smart_error, { name: "status_smart_error" }),
    status_smart_error_cause: m.promote(ls.status_smart_error_cause, { name: "status_smart_error_cause" }),
    status_smart_error_status: m.promote(ls.status_smart_error_status, { name: "status_smart_error_status" }),
    status_error_log_valid: m.promote(ls.status_error_log_valid, { name: "status_error_log_valid" }),
    status_error_log_busy: m.promote(ls.status_error_log_busy, { name: "status_error_log_busy" }),
    status_error_log_error: m.promote(ls.status_error_log_error, { name: "status_error_log_error" }),
    status_error_log_error_cause: m.promote(ls.status_error_log_error_cause, { name: "status_error_log_error_cause" }),
    status_error_log_error_status: m.promote(ls.status_error_log_error_status, { name: "status_error_log_error_status" }),
    status_erase_state: m.promote(ls.status_erase_state, { name: "status_erase_state" }),
    status_erase_kind: m.promote(ls.status_erase_kind, { name: "status_erase_kind" }),
    status_erase_progress: m.promote(ls.status_erase_progress, { name: "status_erase_progress" }),
    status_erase_error_class: m.promote(ls.status_erase_error_class, { name: "status_erase_error_class" }),
    status_erase_status: m.promote(ls.status_erase_status, { name: "status_erase_status" }),
  };
  // The Identify pages and the log pages, a byte at a time: each capture answers its own pages
  // (StatusPage) from a register and 0 for the others.
  /** {page (StatusPage: 0 Identify Controller, 1 Identify Namespace, 2 SMART / Health log, 3 error log), byte offset}. */
  const page_address = m.input(PAGE_ADDRESS_BITS);
  /** The byte at page_address, PAGE_READ_LATENCY cycles later (0 for a byte not kept). */
  const page_data = m.output(8);
  m.comb(ln.page_address, page_address);
  m.comb(page_data, ln.page_data);

  return m.exposing({
    ...pcie,
    user_command,
    user_write_data,
    user_read_data,
    user_completion,
    user_erase,
    status,
    page_address,
    page_data,
  });
}
