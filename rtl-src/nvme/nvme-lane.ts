// One SSD's share of the controller (issue 14): everything that talks NVMe to one SSD once the PCIe
// front (TLP layer, requester, link training, root port, enumeration, the bring-up sequencer) has
// found it and given it a BAR0. nvme_host_core is that front and one lane; nvme_array_core is the
// front and a lane per SSD behind a switch.
//
// Inside: NVMe initialisation (registers), the admin engine and the admin port shared by the
// bring-up's commands, the log refreshes and the erase; the admin bring-up (Identify, queues); the
// I/O path (io_engine, the queue server, the write and read buffers); the log pages, erase and
// normal shutdown; and the host-memory router with the blocks that answer the SSD's reads and
// writes of the virtual host memory (rtl-src/hostmem/host-memory-map.ts: every lane has the same
// map, so an array core picks the lane by the requester ID before the router).
//
// The lane's boundary is wiring only (no register is added): the front starts its two phases
// (`enable_start`: nvme_init; `admin_start`: the admin bring-up) and reads each phase's
// done/error/step/code/detail; it says when the controller is READY (`ready`); the lane's four
// access-port clients (nvme_init, the admin engine's doorbells, the I/O engine's doorbells, the
// shutdown) leave as four client bundles, so the front's one arbiter keeps its width and depth (an
// array core puts a small arbiter per lane in front of its top one).
import { type Bundle, C, type FieldOf, Module, type Value, mux } from "../../hdl/index.ts";
import { type HostMemoryRouterParams, hostMemoryRouter } from "../hostmem/host-memory-router.ts";
import { ioQueueServer } from "../hostmem/io-queue-server.ts";
import { readBuffer } from "../hostmem/read-buffer.ts";
import { writeBuffer } from "../hostmem/write-buffer.ts";
import { adminBringup } from "./admin-bringup.ts";
import type { adminCommand, adminCompletion } from "./admin-command.ts";
import { type AdminEngineParams, adminEngine } from "./admin-engine.ts";
import { type IoEngineParams, ioEngine } from "./io-engine.ts";
import { defaultLogPageCaptureParams, logPageCapture } from "./log-page-capture.ts";
import { coreLogPages, logPageRefresh } from "./log-page-refresh.ts";
import { type NvmeEraseParams, nvmeErase } from "./nvme-erase.ts";
import { type NvmeInitParams, nvmeInit } from "./nvme-init.ts";
import { type NvmeShutdownParams, nvmeShutdown } from "./nvme-shutdown.ts";
import { PAGE_ADDRESS_BITS } from "./page-field-capture.ts";

export interface NvmeLaneParams {
  nvme: Omit<NvmeInitParams, "adminQueueEntries"> & Required<Pick<AdminEngineParams, "adminTimeoutCycles" | "formatTimeoutCycles">>;
  /** Entries of the admin SQ and CQ. */
  adminQueueEntries: number;
  /** I/O queue entries wanted (the pair created has min(this, CAP.MQES + 1)). */
  ioQueueEntries: number;
  /** The I/O path: commands in flight, tag width, buffers, piece size, I/O timeout (its SQ size is ioQueueEntries). */
  io: Omit<IoEngineParams, "sqEntries">;
  /** Normal shutdown: its waits (RTD3E-derived) and CSTS poll interval. */
  shutdown: NvmeShutdownParams;
  /** Erase requests: the Sanitize Status poll interval and budget, the overwrite pattern. */
  erase: NvmeEraseParams;
  /** Error Information log entries read on error_log_refresh (the newest first). */
  errorLogEntries: number;
}

/**
 * Who answers the SSD's memory accesses: the admin queue and Identify pages of the bring-up, the
 * I/O SQ and PRP lists (queue server), the data windows (write buffer for reads, read buffer for
 * writes) and the I/O CQ (the engine).
 */
export const LANE_ROUTER_TARGETS = {
  readTargets: [
    { name: "admin_sq", regions: ["adminSq"] },
    { name: "io_queue", regions: ["ioSq", "prpLists"] },
    { name: "write_window", regions: ["dataWindows"] },
  ],
  writeTargets: [
    { name: "admin_cq", regions: ["adminCq"] },
    { name: "identify", regions: ["identifyController", "identifyNamespace"] },
    { name: "io_cq", regions: ["ioCq"] },
    { name: "read_window", regions: ["dataWindows"] },
    { name: "log_pages", regions: ["smartLog", "errorLog", "sanitizeStatusLog"] },
  ],
} as const satisfies HostMemoryRouterParams;

/** BAR0 lies in the root port's 32-bit memory window. */
const BAR0_ADDRESS_BITS = 32;

type AdminClient = { admin_command: Bundle<FieldOf<typeof adminCommand>>; admin_completion: Bundle<FieldOf<typeof adminCompletion>> };

/**
 * The admin command port shared by the bring-up's commands, the log refreshes and the erase. The
 * bring-up's never overlap the others (those run only while READY, the bring-up's commands only
 * before), and the others are one command at a time each; the first client offering in list order
 * has the port, and `owner` remembers whose command is out, so the completion goes back to it.
 */
function shareAdminPort(
  m: Module,
  admin: { command: Bundle<FieldOf<typeof adminCommand>>; completion: Bundle<FieldOf<typeof adminCompletion>> },
  clients: readonly AdminClient[],
): void {
  const out = admin.command.signals;
  const offers = clients.map((c) => c.admin_command.signals);
  // Client i has the port when it offers and no client before it does.
  const picks = offers.map((o, i) => (i === 0 ? o.valid : offers.slice(0, i).reduce((none: Value, before) => none.and(before.valid.not()), o.valid)));
  for (const field of ["opcode", "nsid", "prp1", "cdw10", "cdw11"] as const) {
    let value: Value = offers[offers.length - 1][field];
    for (let i = offers.length - 2; i >= 0; i--) value = mux(offers[i].valid, offers[i][field], value);
    m.comb(out[field], value);
  }
  m.comb(out.valid, offers.reduce((any: Value, o) => any.or(o.valid), C(0, 1)));
  offers.forEach((o, i) => m.comb(o.ready, out.ready.and(picks[i])));
  const owner = clients.map((_, i) => m.signal(1, { name: `admin_owner_${i}`, reset: i === 0 ? 1 : 0 }));
  m.If(out.valid.and(out.ready), () => owner.forEach((o, i) => m.sync(o, picks[i])));
  const answer = admin.completion.signals;
  let answerReady: Value = C(0, 1);
  clients.forEach((c, i) => {
    const t = c.admin_completion.signals;
    for (const field of ["status", "dw0", "timed_out", "pcie_error"] as const) m.comb(t[field], answer[field]);
    m.comb(t.valid, answer.valid.and(owner[i]));
    answerReady = answerReady.or(owner[i].and(t.ready));
  });
  m.comb(answer.ready, answerReady);
}

/** A short, stable digest of the parameters that have no place in the name (timeouts, poll intervals). */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The module name: queue and buffer sizes, then a digest of the waits (hardware and simulation lanes differ there). */
function laneName(p: NvmeLaneParams): string {
  const kib = (bytes: number) => bytes / 1024;
  const io = `s${p.io.slots}_w${kib(p.io.writeBufferBytes)}k_r${kib(p.io.readBufferBytes)}k_p${kib(p.io.maxPieceBytes)}k`;
  const waits = digest(JSON.stringify([p.nvme, p.adminQueueEntries, p.io, p.shutdown, p.erase, p.errorLogEntries]));
  return `nvme_lane_q${p.ioQueueEntries}_${io}_h${waits}`;
}

function checkParams(p: NvmeLaneParams): void {
  for (const [name, value] of [
    ["adminQueueEntries", p.adminQueueEntries],
    ["ioQueueEntries", p.ioQueueEntries],
    ["errorLogEntries", p.errorLogEntries],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`nvme_lane: ${name} ${value} must be a positive integer`);
  }
}

/**
 * One SSD's NVMe side: initialisation, the admin bring-up, the I/O path, log pages, erase and
 * shutdown, and the host-memory router with the blocks that answer the SSD.
 */
export function nvmeLane(p: NvmeLaneParams) {
  checkParams(p);
  const m = new Module(laneName(p));
  m.parameters({
    ...p.nvme,
    adminQueueEntries: p.adminQueueEntries,
    ioQueueEntries: p.ioQueueEntries,
    ...Object.fromEntries(Object.entries(p.io).map(([k, v]) => [`io${k[0].toUpperCase()}${k.slice(1)}`, v])),
    ...Object.fromEntries(Object.entries(p.shutdown).map(([k, v]) => [`shutdown${k[0].toUpperCase()}${k.slice(1)}`, v])),
    ...Object.fromEntries(Object.entries(p.erase).map(([k, v]) => [`erase${k[0].toUpperCase()}${k.slice(1)}`, v])),
    errorLogEntries: p.errorLogEntries,
  });

  const init = m.instance(nvmeInit({ adminQueueEntries: p.adminQueueEntries, readyTimeoutUnitCycles: p.nvme.readyTimeoutUnitCycles, pollIntervalCycles: p.nvme.pollIntervalCycles }), { name: "nvme_init" });
  const admin = m.instance(
    adminEngine({ adminQueueEntries: p.adminQueueEntries, adminTimeoutCycles: p.nvme.adminTimeoutCycles, formatTimeoutCycles: p.nvme.formatTimeoutCycles }),
    { name: "admin_engine" },
  );
  const bringup = m.instance(adminBringup({ ioQueueEntries: p.ioQueueEntries }), { name: "admin_bringup" });
  const router = m.instance(hostMemoryRouter(LANE_ROUTER_TARGETS), { name: "router" });
  const engine = m.instance(ioEngine({ ...p.io, sqEntries: p.ioQueueEntries }), { name: "io_engine" });
  const queueServer = m.instance(ioQueueServer({ slots: p.io.slots, sqEntries: p.ioQueueEntries }), { name: "io_queue_server" });
  const writeBuf = m.instance(writeBuffer({ bytes: p.io.writeBufferBytes, slots: p.io.slots }), { name: "write_buffer" });
  const logCapture = m.instance(logPageCapture({ ...defaultLogPageCaptureParams, errorEntries: p.errorLogEntries }), { name: "log_capture" });
  const logRefresher = m.instance(logPageRefresh({ logs: coreLogPages(p.errorLogEntries) }), { name: "log_refresh" });
  const eraser = m.instance(nvmeErase(p.erase), { name: "erase" });
  const shutdownSequence = m.instance(nvmeShutdown(p.shutdown), { name: "shutdown" });
  const readBuf = m.instance(readBuffer({ bytes: p.io.readBufferBytes, slots: p.io.slots, tagBits: p.io.tagBits }), { name: "read_buffer" });

  // ---- what the front gives the lane ----
  /** The SSD's BAR0 (the enumerator's; below 4 GiB), stable from the enable phase on. */
  const bar0_address = m.input(BAR0_ADDRESS_BITS);
  /** A pulse: start NVMe initialisation (the sequencer's enable phase). */
  const enable_start = m.input(1);
  /** A pulse: start the admin bring-up (Identify, queues; the sequencer's admin phase). */
  const admin_start = m.input(1);
  /** The controller is READY (the sequencer's): the I/O path, log pages, erase and shutdown work only then. */
  const ready = m.input(1);
  /** A pulse while READY: normal shutdown (new commands refused, I/O drained, CC.SHN, SHST complete). */
  const shutdown = m.input(1);
  /** A pulse while READY: read the SMART / Health log (its bytes on page_address / page_data, page 2). */
  const smart_refresh = m.input(1);
  /** A pulse while READY: read the newest Error Information log entries (page 3). */
  const error_log_refresh = m.input(1);

  // ---- the access-port clients, toward the front's arbiter ----
  const n = init.ports;
  const io = engine.ports;
  const sd = shutdownSequence.ports;
  const access = [
    { request: m.promote(n.access_request, { prefix: "init_access_request" }), response: m.promote(n.access_response, { prefix: "init_access_response" }) },
    { request: m.promote(admin.ports.access_request, { prefix: "admin_access_request" }), response: m.promote(admin.ports.access_response, { prefix: "admin_access_response" }) },
    { request: m.promote(io.access_request, { prefix: "io_access_request" }), response: m.promote(io.access_response, { prefix: "io_access_response" }) },
    { request: m.promote(sd.access_request, { prefix: "shutdown_access_request" }), response: m.promote(sd.access_response, { prefix: "shutdown_access_response" }) },
  ];

  // ---- virtual host memory: the SSD's reads (the completer's data requests) and writes ----
  const r = router.ports;
  const data_request = m.promote(r.data_request, { prefix: "data_request" });
  const data_response = m.promote(r.data_response, { prefix: "data_response" });
  const mem_write = m.promote(r.mem_write, { prefix: "mem_write" });
  const mem_write_data = m.promote(r.mem_write_data, { prefix: "mem_write_data" });
  const reads = r.reads;
  const writes = r.writes;
  m.connect(reads.admin_sq.request, admin.ports.sq_request);
  m.connect(admin.ports.sq_response, reads.admin_sq.response);
  m.connect(writes.admin_cq.write, admin.ports.cq_write);
  m.connect(writes.admin_cq.write_data, admin.ports.cq_write_data);
  m.connect(writes.identify.write, bringup.ports.identify_write);
  m.connect(writes.identify.write_data, bringup.ports.identify_write_data);
  m.connect(reads.io_queue.request, queueServer.ports.request);
  m.connect(queueServer.ports.response, reads.io_queue.response);
  m.connect(reads.write_window.request, writeBuf.ports.window_request);
  m.connect(writeBuf.ports.window_response, reads.write_window.response);
  m.connect(writes.io_cq.write, io.cq_write);
  m.connect(writes.io_cq.write_data, io.cq_write_data);
  m.connect(writes.read_window.write, readBuf.ports.window_write);
  m.connect(writes.read_window.write_data, readBuf.ports.window_write_data);
  m.connect(writes.log_pages.write, logCapture.ports.log_write);
  m.connect(writes.log_pages.write_data, logCapture.ports.log_write_data);

  // ---- the I/O path: the engine decides, the servers and buffers answer the SSD ----
  m.connect(io.slot_record, queueServer.ports.slot_record);
  m.connect(io.sq_entry, queueServer.ports.sq_entry);
  m.connect(io.write_slot_base, writeBuf.ports.slot_base);
  m.connect(io.read_slot_base, readBuf.ports.slot_base);
  m.connect(io.write_expect, writeBuf.ports.write_expect);
  m.connect(writeBuf.ports.write_landed, io.write_landed);
  m.comb(io.write_fill_pointer, writeBuf.ports.fill_pointer);
  m.connect(io.write_release, writeBuf.ports.write_release);
  m.connect(io.read_out, readBuf.ports.read_out);
  m.connect(readBuf.ports.read_release, io.read_release);
  m.connect(readBuf.ports.slot_poisoned, io.slot_poisoned);
  m.comb(io.stray_write, r.unmapped_write);
  const user_command = m.promote(io.user_command, { prefix: "user_command" });
  const user_completion = m.promote(io.user_completion, { prefix: "user_completion" });
  const user_write_data = m.promote(writeBuf.ports.user_write_data, { prefix: "user_write_data" });
  const user_read_data = m.promote(readBuf.ports.user_read_data, { prefix: "user_read_data" });

  // ---- what each phase needs from the ones before ----
  const b = bringup.ports;
  m.comb(n.bar0_address, bar0_address);
  m.comb(admin.ports.bar0_address, bar0_address);
  m.comb(admin.ports.dstrd, n.dstrd);
  m.comb(admin.ports.reset_queues, n.queues_reset);
  m.comb(io.bar0_address, bar0_address);
  m.comb(io.dstrd, n.dstrd);
  m.comb(io.reset_queues, n.queues_reset);
  m.comb(b.mqes, n.mqes);
  m.comb(b.mpsmin, n.mpsmin);
  m.comb(n.start, enable_start);
  m.comb(b.start, admin_start);
  const lr = logRefresher.ports;
  const lc = logCapture.ports;
  const er = eraser.ports;
  shareAdminPort(m, admin.ports, [b, lr, er]);

  // ---- the phases' outcomes, for the front's sequencer ----
  const enable = {
    done: m.promote(n.done, { name: "enable_done" }),
    error: m.promote(n.error, { name: "enable_error" }),
    step: m.promote(n.error_step, { name: "enable_error_step" }),
    code: m.promote(n.error_code, { name: "enable_error_code" }),
    detail: m.promote(n.error_status, { name: "enable_error_detail" }),
  };
  const adminPhase = {
    done: m.promote(b.done, { name: "admin_done" }),
    error: m.promote(b.error, { name: "admin_error" }),
    step: m.promote(b.error_step, { name: "admin_error_step" }),
    code: m.promote(b.error_cause, { name: "admin_error_code" }),
    detail: m.promote(b.error_status, { name: "admin_error_detail" }),
  };

  // The I/O engine works from what the bring-up found; it takes commands only while READY.
  m.comb(io.ready, ready);
  // ---- shutdown, log pages and erase, after READY ----
  const logs = { smart: lr.logs.smart, errorLog: lr.logs.error_log, sanitize: lr.logs.sanitize };
  m.comb(io.refuse_new, sd.active);
  m.comb(io.refuse_busy, er.running);
  m.comb(sd.start, shutdown.and(ready));
  m.comb(sd.bar0_address, bar0_address);
  m.comb(sd.rtd3e, b.controller.rtd3e);
  m.comb(sd.io_idle, io.idle);
  // The SSD stays shut down until the next bring-up resets it: `active` holds until READY again.
  const was_ready = m.signal(1);
  m.sync(was_ready, ready);
  m.comb(sd.clear, ready.and(was_ready.not()));
  m.comb(logs.smart.refresh, smart_refresh);
  m.comb(logs.errorLog.refresh, error_log_refresh);
  m.comb(lr.ready, ready.and(sd.active.not()));
  m.comb(lr.capture_busy, lc.busy);
  m.comb(lr.capture_poisoned, lc.poisoned_write);
  m.comb(lr.clear, admin_start);
  m.comb(lc.clear, admin_start);
  // An erase needs the core READY with a working I/O engine, no I/O and no log refresh under way.
  const user_erase = m.promote(er.user_erase, { prefix: "user_erase" });
  m.comb(er.ready, ready.and(sd.active.not()).and(io.fault.not()));
  m.comb(er.io_quiet, io.quiet);
  m.comb(er.admin_busy, logs.smart.busy.or(logs.errorLog.busy).or(logs.sanitize.busy));
  m.comb(er.oacs_format_nvm, b.controller.oacs_format_nvm);
  m.comb(er.fna_crypto_erase, b.controller.fna_crypto_erase);
  m.comb(er.sanicap_crypto_erase, b.controller.sanicap_crypto_erase);
  m.comb(er.sanicap_block_erase, b.controller.sanicap_block_erase);
  m.comb(er.sanicap_overwrite, b.controller.sanicap_overwrite);
  m.comb(er.flbas, b.namespace.flbas);
  m.comb(logs.sanitize.refresh, er.poll);
  m.comb(er.poll_done, logs.sanitize.done);
  m.comb(er.poll_error, logs.sanitize.error);
  m.comb(er.poll_error_cause, logs.sanitize.error_cause);
  m.comb(er.poll_error_status, logs.sanitize.error_status);
  m.comb(er.sanitize_sprog, lc.sanitize_sprog);
  m.comb(er.sanitize_state, lc.sanitize_state);
  m.comb(io.queue_entries, b.io_queue_entries.trunc(io.queue_entries.width));
  // LBADS saturated to the engine's width (the bring-up refuses any LBA size but 512 B..4 KiB anyway).
  const shiftTop = io.lba_shift.width;
  m.comb(io.lba_shift, mux(b.lbads.bits(b.lbads.width - 1, shiftTop).any(), C(2 ** shiftTop - 1, shiftTop), b.lbads.bits(shiftTop - 1, 0)));
  m.comb(io.mdts, b.controller.mdts);
  m.comb(io.capacity_blocks, b.capacity_blocks);
  m.comb(io.namespace_count, b.controller.nn);
  m.comb(io.atomic_blocks, b.atomic_blocks);
  m.comb(io.atomic_boundary, b.atomic_boundary);
  m.comb(io.atomic_boundary_mask, b.namespace.nabspf);

  // ---- the lane's status (the core's status port names) ----
  const status = {
    status_nvme_version: m.promote(n.version, { name: "status_nvme_version" }),
    status_mqes: m.promote(n.mqes, { name: "status_mqes" }),
    status_dstrd: m.promote(n.dstrd, { name: "status_dstrd" }),
    status_capacity_blocks: m.promote(b.capacity_blocks, { name: "status_capacity_blocks" }),
    status_lba_bytes: m.promote(b.lba_bytes, { name: "status_lba_bytes" }),
    status_mdts_bytes_log2: m.promote(b.mdts_bytes_log2, { name: "status_mdts_bytes_log2" }),
    status_awupf_bytes: m.promote(b.awupf_bytes, { name: "status_awupf_bytes" }),
    status_io_queue_entries: m.promote(b.io_queue_entries, { name: "status_io_queue_entries" }),
    status_unmapped_writes: m.promote(r.unmapped_writes, { name: "status_unmapped_writes" }),
    status_io_fault: m.promote(io.fault, { name: "status_io_fault" }),
    status_io_fault_class: m.promote(io.fault_class, { name: "status_io_fault_class" }),
    status_io_in_flight: m.promote(io.in_flight, { name: "status_io_in_flight" }),
    status_io_commands: m.promote(io.commands_accepted, { name: "status_io_commands" }),
    status_io_pieces: m.promote(io.pieces_submitted, { name: "status_io_pieces" }),
    status_io_sq_doorbells: m.promote(io.sq_doorbells, { name: "status_io_sq_doorbells" }),
    status_io_cq_doorbells: m.promote(io.cq_doorbells, { name: "status_io_cq_doorbells" }),
    status_io_stray_entries: m.promote(io.stray_entries, { name: "status_io_stray_entries" }),
    status_io_errors_nvme_status: m.promote(io.errors_nvme_status, { name: "status_io_errors_nvme_status" }),
    status_io_errors_pcie_fault: m.promote(io.errors_pcie_fault, { name: "status_io_errors_pcie_fault" }),
    status_io_errors_timeout: m.promote(io.errors_timeout, { name: "status_io_errors_timeout" }),
    status_io_errors_not_ready: m.promote(io.errors_not_ready, { name: "status_io_errors_not_ready" }),
    status_io_errors_bad_request: m.promote(io.errors_bad_request, { name: "status_io_errors_bad_request" }),
    status_poisoned_data_writes: m.promote(readBuf.ports.poisoned_writes, { name: "status_poisoned_data_writes" }),
    status_shutdown_active: m.promote(sd.active, { name: "status_shutdown_active" }),
    status_shutdown_busy: m.promote(sd.busy, { name: "status_shutdown_busy" }),
    status_shutdown_done: m.promote(sd.done, { name: "status_shutdown_done" }),
    status_shutdown_complete: m.promote(sd.complete, { name: "status_shutdown_complete" }),
    status_shutdown_error: m.promote(sd.error, { name: "status_shutdown_error" }),
    status_shutdown_error_code: m.promote(sd.error_code, { name: "status_shutdown_error_code" }),
    status_smart_valid: m.promote(logs.smart.valid, { name: "status_smart_valid" }),
    status_smart_busy: m.promote(logs.smart.busy, { name: "status_smart_busy" }),
    status_smart_error: m.promote(logs.smart.error, { name: "status_smart_error" }),
    status_smart_error_cause: m.promote(logs.smart.error_cause, { name: "status_smart_error_cause" }),
    status_smart_error_status: m.promote(logs.smart.error_status, { name: "status_smart_error_status" }),
    status_error_log_valid: m.promote(logs.errorLog.valid, { name: "status_error_log_valid" }),
    status_error_log_busy: m.promote(logs.errorLog.busy, { name: "status_error_log_busy" }),
    status_error_log_error: m.promote(logs.errorLog.error, { name: "status_error_log_error" }),
    status_error_log_error_cause: m.promote(logs.errorLog.error_cause, { name: "status_error_log_error_cause" }),
    status_error_log_error_status: m.promote(logs.errorLog.error_status, { name: "status_error_log_error_status" }),
    status_erase_state: m.promote(er.state, { name: "status_erase_state" }),
    status_erase_kind: m.promote(er.kind, { name: "status_erase_kind" }),
    status_erase_progress: m.promote(er.progress, { name: "status_erase_progress" }),
    status_erase_error_class: m.promote(er.error_class, { name: "status_erase_error_class" }),
    status_erase_status: m.promote(er.status, { name: "status_erase_status" }),
  };
  // The Identify pages and the log pages, a byte at a time: each capture answers its own pages
  // (StatusPage) from a register and 0 for the others.
  /** {page (StatusPage: 0 Identify Controller, 1 Identify Namespace, 2 SMART / Health log, 3 error log), byte offset}. */
  const page_address = m.input(PAGE_ADDRESS_BITS);
  /** The byte at page_address, PAGE_READ_LATENCY cycles later (0 for a byte not kept). */
  const page_data = m.output(8);
  m.comb(b.page_address, page_address);
  m.comb(lc.page_address, page_address);
  m.comb(page_data, b.page_data.or(lc.page_data));

  return m.exposing({
    bar0_address,
    enable_start,
    admin_start,
    ready,
    shutdown,
    smart_refresh,
    error_log_refresh,
    access,
    data_request,
    data_response,
    mem_write,
    mem_write_data,
    user_command,
    user_write_data,
    user_read_data,
    user_completion,
    user_erase,
    enable,
    admin: adminPhase,
    status,
    page_address,
    page_data,
  });
}
