// The admin commands from "controller enabled" to "I/O queues created" (PROTOCOL_FACTS §E.9 steps
// 7-11; the reference driver's bringUp in sim/host/driver.ts), one at a time through the admin
// command port (rtl-src/nvme/admin-command.ts), each completion checked before the next command:
//
//   1 IDENTIFY_CONTROLLER   Identify CNS 01h into the identifyController region; then SQES and CQES
//                           must allow 64- and 16-byte entries, NN must be at least 1
//   2 IDENTIFY_NAMESPACE    Identify CNS 00h, NSID 1, into the identifyNamespace region; then NSZE
//                           must be non-zero, the format FLBAS selects must exist (<= NLBAF), have
//                           512- or 4096-byte blocks (LBADS 9 or 12) and no metadata (MS 0)
//   3 SET_NUMBER_OF_QUEUES  Set Features FID 07h, NSQR = NCQR = 0 (one pair). NSQA/NCQA in DW0 are
//                           zero-based, so any answer grants at least the one pair: nothing to check
//   4 CREATE_IO_CQ          QID 1, QSIZE = min(ioQueueEntries, CAP.MQES + 1) - 1, PC 1, IEN 0, at ioCq
//   5 CREATE_IO_SQ          QID 1, the same QSIZE, PC 1, QPRIO 0, CQID 1, at ioSq
//
// The Identify data reaches this module as the SSD's memory writes (identify_write header and
// payload, forwarded by the router) and is parsed on the fly by an identify_capture inside it,
// cleared at every start. The SSD writes the data before it posts the completion, but the two
// reach us by different paths (the capture, the admin engine), so after an Identify completion the
// sequence waits until the capture has been idle for IDENTIFY_QUIET_CYCLES in a row (at most
// IDENTIFY_SETTLE_LIMIT cycles; past that the checks judge what arrived) before it checks the
// fields. Poisoned Identify data fails the step.
//
// A completion with a non-zero status (SCT or SC; DNR and M alone do not fail a command), one that
// timed out, or one with a PCIe error stops the sequence with `error`, `error_step` (the step, 1-5)
// and `error_cause` (ADMIN_BRINGUP_ERRORS, 1-based), and for a status its Status Field in
// `error_status`. Every wait on the admin engine is bounded by the engine's own command timeout
// (its completion then comes with timed_out); the settle wait by IDENTIFY_SETTLE_LIMIT. `start`
// runs the sequence again from the first step, from idle, done or error alike.
//
// Results, registers or decodes of registers, valid with `done` (and from the step that finds them
// on): capacity_blocks (NSZE), lba_bytes (2^LBADS, 0 when LBADS >= 32), mdts_bytes, awupf_bytes,
// io_queue_entries, and every captured Identify field, and the page read port for the status port.
//
// MDTS encoding: mdts_bytes_log2 = 12 + CAP.MPSMIN + MDTS, or 0 for MDTS 0 (no limit); mdts_bytes =
// 2^mdts_bytes_log2 when that is below 2^32, else 0, so 0 means "no limit a 32-bit transfer size can
// reach" (MDTS 0, or a limit of 4 GiB or more).
// AWUPF: (NAWUPF + 1) blocks when NSFEAT.NSABP says the namespace's atomic units are valid, else
// (AWUPF + 1) blocks, times the block size (0 when LBADS >= 16, which no accepted format has).
// The same unit in blocks is `atomic_blocks`, and `atomic_boundary` says how atomic writes meet the
// namespace's atomic boundary for power fail (AtomicBoundary; NVMe 1.4 §6.4.3): the boundary
// applies to the namespace's units only (NSABP set; the controller's AWUPF holds across boundaries),
// and only when NABSPF is not 0; the io_engine handles a power-of-two size starting at LBA 0 (NABSPF
// = 2^k - 1, NABO = 0), as Linux does, and treats any other boundary as one every block crosses.
import { C, Module, type Signal, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { runStatus } from "../lib/run-status.ts";
import { AdminOpcode, adminCommand, adminCompletion } from "./admin-command.ts";
import {
  CAPTURED_CONTROLLER_FIELDS,
  CAPTURED_NAMESPACE_FIELDS,
  type CapturedControllerField,
  type CapturedNamespaceField,
  defaultIdentifyCaptureParams,
  identifyCapture,
} from "./identify-capture.ts";
import { CQE_BYTES, CqeField } from "./nvme-cqe.ts";
import { type NvmeField, setBits32 } from "./nvme-field.ts";
import { IdentifyControllerField as Ctrl, IdentifyNamespaceField as Ns } from "./nvme-identify.ts";
import { CapField } from "./nvme-registers.ts";
import { AdminCommandField as Cmd, SQE_BYTES, SqeField } from "./nvme-sqe.ts";

export interface AdminBringupParams {
  /** I/O queue entries wanted; the queue pair created has min(this, CAP.MQES + 1). */
  ioQueueEntries: number;
}

/**
 * `atomic_boundary` of the bring-up's results: how an atomic write must sit against the namespace's
 * atomic boundary for power fail.
 */
export const AtomicBoundary = {
  /** No boundary applies (NSABP clear, or NABSPF 0). */
  NONE: 0,
  /** Boundaries every NABSPF + 1 blocks from LBA 0 (a power of two, NABO 0): `atomic_boundary_mask` = NABSPF. */
  MASK: 1,
  /** A boundary the controller does not handle (NABO not 0, or NABSPF + 1 not a power of two): only one-block writes are atomic. */
  SINGLE_BLOCK: 2,
} as const;
export const ATOMIC_BOUNDARY_BITS = 2;

/** The steps in order; `error_step` is the position in this list plus one (0 = none). */
export const ADMIN_BRINGUP_STEPS = ["IDENTIFY_CONTROLLER", "IDENTIFY_NAMESPACE", "SET_NUMBER_OF_QUEUES", "CREATE_IO_CQ", "CREATE_IO_SQ"] as const;
export type AdminBringupStep = (typeof ADMIN_BRINGUP_STEPS)[number];

/** Why a step failed; `error_cause` is the position in this list plus one (0 = none). */
export const ADMIN_BRINGUP_ERRORS = [
  /** The completion's status is not success: SCT/SC in error_status. */
  "COMMAND_STATUS",
  /** The admin engine saw no completion within its timeout. */
  "COMPLETION_TIMEOUT",
  /** A doorbell write or the entry fetch failed at the PCIe level. */
  "PCIE_ERROR",
  /** Identify data came in a poisoned write. */
  "IDENTIFY_DATA_POISONED",
  /** SQES/CQES do not allow 64-byte submission and 16-byte completion entries. */
  "QUEUE_ENTRY_SIZES",
  /** NN is 0, or namespace 1 has NSZE 0. */
  "NO_NAMESPACE",
  /** The selected LBA format does not exist, is not 512 or 4096 bytes, or has metadata. */
  "LBA_FORMAT",
] as const;
export type AdminBringupError = (typeof ADMIN_BRINGUP_ERRORS)[number];

/** log2 of the entry sizes the controller uses (CC.IOSQES / IOCQES). */
const SQ_ENTRY_LOG2 = Math.log2(SQE_BYTES);
const CQ_ENTRY_LOG2 = Math.log2(CQE_BYTES);
/** The LBA data sizes supported (log2): 512 and 4096 bytes. */
const SUPPORTED_LBADS = [9, 12] as const;
/** CNS values and the feature identifier used (NVMe 1.4 Figures 245, 271). */
const CNS_NAMESPACE = 0x00;
const CNS_CONTROLLER = 0x01;
const FID_NUMBER_OF_QUEUES = 0x07;
const NAMESPACE_ID = 1;
const IO_QUEUE_ID = 1;
/** Memory page size is 2^(12 + MPS) (NVMe 1.4 §3.1.1). */
const PAGE_SHIFT_BASE = 12;
/** After an Identify completion: idle cycles of the capture in a row before the fields are judged, and the most cycles to wait for them. */
export const IDENTIFY_QUIET_CYCLES = 8;
export const IDENTIFY_SETTLE_LIMIT = 255;

function checkParams(p: AdminBringupParams): void {
  const most = Math.min(HostMemoryMap.ioSq.bytes / SQE_BYTES, HostMemoryMap.ioCq.bytes / CQE_BYTES);
  if (!Number.isInteger(p.ioQueueEntries) || p.ioQueueEntries < 2 || p.ioQueueEntries > most) {
    throw new RangeError(`admin bring-up: ioQueueEntries = ${p.ioQueueEntries}, must be an integer in 2..${most} (the I/O queue regions of the host-memory map)`);
  }
}

/** A 32-bit command DW from fields of it (`dw` is the SQE DW they belong to): constants and values placed at their bits. */
function commandDword(dw: NvmeField, parts: [NvmeField, number | Value][]): Value {
  let constant_bits = 0;
  const values: Value[] = [];
  for (const [f, v] of parts) {
    if (f.offset !== dw.offset || f.size !== dw.size) throw new RangeError(`field at byte ${f.offset} is not part of the DW at byte ${dw.offset}`);
    if (typeof v === "number") {
      constant_bits = setBits32(constant_bits, f, v);
    } else {
      if (v.width > f.width) throw new RangeError(`a ${v.width}-bit value does not fit a ${f.width}-bit field`);
      const pieces: Value[] = [];
      if (f.msb < 31) pieces.push(C(0, 31 - f.msb));
      pieces.push(v.zext(f.width));
      if (f.lsb > 0) pieces.push(C(0, f.lsb));
      values.push(pieces.length === 1 ? pieces[0] : cat(...pieces));
    }
  }
  return values.reduce((all, v) => all.or(v), C(constant_bits, 32) as Value);
}

/** Bits of `unitValue` (the value of f's whole unit, `unit`) that make field `f`. */
function fieldOf(unitValue: Value, unit: NvmeField, f: NvmeField): Value {
  if (f.offset !== unit.offset) throw new RangeError(`field at byte ${f.offset} is not part of the unit at byte ${unit.offset}`);
  return unitValue.bits(f.msb - unit.lsb, f.lsb - unit.lsb);
}

/**
 * After `start`: Identify Controller, Identify Namespace 1, Set Features Number of Queues, Create
 * I/O CQ 1 and Create I/O SQ 1 through the admin command port, each completion and the Identify
 * data checked; ends with `done` and the results for the status port, or `error` with the step
 * and the cause.
 */
export function adminBringup(p: AdminBringupParams) {
  checkParams(p);
  const m = new Module(`admin_bringup_q${p.ioQueueEntries}`);
  m.parameters({ ...p, identifyController: `0x${HostMemoryMap.identifyController.base.toString(16)}`, identifyNamespace: `0x${HostMemoryMap.identifyNamespace.base.toString(16)}` });

  /** A pulse: run the sequence (ignored while it runs). */
  const start = m.input(1);
  /** CAP.MQES (zero-based) and CAP.MPSMIN, sampled at start. */
  const mqes = m.input(CapField.mqes.width);
  const mpsmin = m.input(CapField.mpsmin.width);
  const admin_command = m.port(adminCommand, "master");
  const admin_completion = m.port(adminCompletion, "slave");

  const capture = m.instance(identifyCapture(defaultIdentifyCaptureParams));
  const cp = capture.ports;
  const identify_write = m.promote(cp.identify_write, { prefix: "identify_write" });
  const identify_write_data = m.promote(cp.identify_write_data, { prefix: "identify_write_data" });
  const page_address = m.promote(cp.page_address);
  const page_data = m.promote(cp.page_data);
  const poisoned_writes = m.promote(cp.poisoned_writes);
  const lbads = m.promote(cp.lbads);
  const ms = m.promote(cp.ms);
  const controller = {} as Record<CapturedControllerField, Signal>;
  for (const name of Object.keys(CAPTURED_CONTROLLER_FIELDS) as CapturedControllerField[]) controller[name] = m.promote(cp.controller[name]);
  const namespace = {} as Record<CapturedNamespaceField, Signal>;
  for (const name of Object.keys(CAPTURED_NAMESPACE_FIELDS) as CapturedNamespaceField[]) namespace[name] = m.promote(cp.namespace[name]);
  const clear_capture = m.signal(1);
  m.comb(cp.clear, clear_capture);

  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  /** The failed step: its position in ADMIN_BRINGUP_STEPS plus one; 0 while no step failed. */
  const error_step = m.output(bitsFor(ADMIN_BRINGUP_STEPS.length));
  /** Why: its position in ADMIN_BRINGUP_ERRORS plus one; 0 while no step failed. */
  const error_cause = m.output(bitsFor(ADMIN_BRINGUP_ERRORS.length));
  /** With cause COMMAND_STATUS: the completion's Status Field {DNR, M, CRD, SCT, SC}. */
  const error_status = m.output(adminCompletion.fields.status.shape.width);
  const capacity_blocks = m.output(Ns.nsze.width);
  const lba_bytes = m.output(32);
  const mdts_bytes_log2 = m.output(9);
  const mdts_bytes = m.output(32);
  const awupf_bytes = m.output(32);
  /** The power-fail atomic unit in blocks: (NAWUPF or AWUPF) + 1, as awupf_bytes chooses. */
  const atomic_blocks = m.output(Ctrl.awupf.width + 1);
  /** How atomic writes meet the atomic boundary (AtomicBoundary). */
  const atomic_boundary = m.output(ATOMIC_BOUNDARY_BITS);
  const io_queue_entries = m.output(bitsFor(p.ioQueueEntries));

  const step = m.fsm(["IDLE", ...ADMIN_BRINGUP_STEPS, "DONE", "FAULT"]);
  const phase = m.fsm(["IDLE", "LOAD", "OFFER", "AWAIT", "JUDGE", "SETTLE", "CHECK"]);
  const idle = step.is("IDLE").or(step.is("DONE")).or(step.is("FAULT"));
  const launch = start.and(idle);

  // ---- what is sampled at start ----
  // QSIZE is at most ioQueueEntries - 1: only its bits up to that are kept.
  const sizeBits = bitsFor(p.ioQueueEntries - 1);
  const queue_size_kept = m.signal(sizeBits, { resetless: true });
  const queue_size = queue_size_kept.zext(Cmd.createQueueSize.width);
  const page_log2 = m.signal(mdts_bytes_log2.width, { resetless: true });
  const most_entries = constant("IO_QUEUE_SIZE_WANTED", p.ioQueueEntries - 1, mqes.width);
  m.If(launch, () => {
    m.sync(queue_size_kept, mux(mqes.lt(most_entries), mqes, most_entries).bits(sizeBits - 1, 0));
    m.sync(page_log2, mpsmin.zext(mdts_bytes_log2.width).addWrap(PAGE_SHIFT_BASE));
  });
  m.sync(clear_capture, launch);

  // ---- the command of each step ----
  const commands: Record<AdminBringupStep, { opcode: number; nsid: number; prp1: number; cdw10: Value; cdw11: Value }> = {
    IDENTIFY_CONTROLLER: {
      opcode: AdminOpcode.identify,
      nsid: 0,
      prp1: HostMemoryMap.identifyController.base,
      cdw10: commandDword(SqeField.cdw10, [[Cmd.identifyCns, CNS_CONTROLLER]]),
      cdw11: C(0, 32),
    },
    IDENTIFY_NAMESPACE: {
      opcode: AdminOpcode.identify,
      nsid: NAMESPACE_ID,
      prp1: HostMemoryMap.identifyNamespace.base,
      cdw10: commandDword(SqeField.cdw10, [[Cmd.identifyCns, CNS_NAMESPACE]]),
      cdw11: C(0, 32),
    },
    SET_NUMBER_OF_QUEUES: {
      opcode: AdminOpcode.setFeatures,
      nsid: 0,
      prp1: 0,
      cdw10: commandDword(SqeField.cdw10, [[Cmd.featureId, FID_NUMBER_OF_QUEUES]]),
      cdw11: commandDword(SqeField.cdw11, [[Cmd.numberOfSqsRequested, 0], [Cmd.numberOfCqsRequested, 0]]),
    },
    CREATE_IO_CQ: {
      opcode: AdminOpcode.createIoCq,
      nsid: 0,
      prp1: HostMemoryMap.ioCq.base,
      cdw10: commandDword(SqeField.cdw10, [[Cmd.createQueueId, IO_QUEUE_ID], [Cmd.createQueueSize, queue_size]]),
      cdw11: commandDword(SqeField.cdw11, [[Cmd.createQueueContiguous, 1], [Cmd.createCqInterruptsEnabled, 0], [Cmd.createCqInterruptVector, 0]]),
    },
    CREATE_IO_SQ: {
      opcode: AdminOpcode.createIoSq,
      nsid: 0,
      prp1: HostMemoryMap.ioSq.base,
      cdw10: commandDword(SqeField.cdw10, [[Cmd.createQueueId, IO_QUEUE_ID], [Cmd.createQueueSize, queue_size]]),
      cdw11: commandDword(SqeField.cdw11, [[Cmd.createQueueContiguous, 1], [Cmd.createSqPriority, 0], [Cmd.createSqCqId, IO_QUEUE_ID]]),
    },
  };
  const command = admin_command.signals;
  // The fields are a decode of the step register (and of queue_size, sampled at start): the step
  // holds from LOAD until the completion is judged, so they are stable while the command is offered.
  m.Switch(step.state, (s) => {
    for (const name of ADMIN_BRINGUP_STEPS) {
      const c = commands[name];
      s.Case(step.stateCode(name).bits_, () => {
        m.comb(command.opcode, c.opcode);
        m.comb(command.nsid, c.nsid);
        m.comb(command.prp1, c.prp1);
        m.comb(command.cdw10, c.cdw10);
        m.comb(command.cdw11, c.cdw11);
      });
    }
  });
  const command_fire = command.valid.and(command.ready);
  m.If(phase.is("LOAD"), () => m.sync(command.valid, 1)).Elif(command_fire, () => m.sync(command.valid, 0));

  // ---- the completion, registered and judged a cycle later ----
  const completion = admin_completion.signals;
  const completion_fire = completion.valid.and(completion.ready);
  m.If(command_fire, () => m.sync(completion.ready, 1)).Elif(completion_fire, () => m.sync(completion.ready, 0));
  const status = m.signal(completion.status.width, { resetless: true });
  const timed_out = m.signal(1, { resetless: true });
  const pcie_error = m.signal(1, { resetless: true });
  /** The completion failed the command (timeout, PCIe error, or a status): one register the sequence judges by. */
  const completion_bad = m.signal(1, { resetless: true });
  const statusLsb = CqeField.status.lsb;
  m.If(completion_fire, () => {
    m.sync(status, completion.status);
    m.sync(timed_out, completion.timed_out);
    m.sync(pcie_error, completion.pcie_error);
    m.sync(completion_bad, completion.pcie_error.or(completion.timed_out).or(completion.status.bits(CqeField.sct.msb - statusLsb, CqeField.sc.lsb - statusLsb).any()));
  });
  m.waiveUnread(completion.dw0, "Number of Queues' NSQA/NCQA are zero-based: any answer grants the one pair asked for");

  // ---- the Identify checks, judged from registers kept up to date every cycle ----
  const sqes = controller.sqes;
  const cqes = controller.cqes;
  const sq_entry = constant("SQ_ENTRY_LOG2", SQ_ENTRY_LOG2, 4);
  const cq_entry = constant("CQ_ENTRY_LOG2", CQ_ENTRY_LOG2, 4);
  const entry_sizes_ok = m.signal(1);
  m.sync(
    entry_sizes_ok,
    fieldOf(sqes, Ctrl.sqes, Ctrl.sqesMin).le(sq_entry)
      .and(fieldOf(sqes, Ctrl.sqes, Ctrl.sqesMax).ge(sq_entry))
      .and(fieldOf(cqes, Ctrl.cqes, Ctrl.cqesMin).le(cq_entry))
      .and(fieldOf(cqes, Ctrl.cqes, Ctrl.cqesMax).ge(cq_entry)),
  );
  const no_namespaces = m.signal(1);
  m.sync(no_namespaces, controller.nn.eq(0));
  const empty_namespace = m.signal(1);
  m.sync(empty_namespace, namespace.nsze.eq(0));
  const format_ok = m.signal(1);
  const supported_size = SUPPORTED_LBADS.map((n) => lbads.eq(constant(`LBADS_${2 ** n}`, n, lbads.width))).reduce((a, b) => a.or(b));
  const format_exists = fieldOf(namespace.flbas, Ns.flbas, Ns.flbasFormat).zext(Ns.nlbaf.width).le(namespace.nlbaf);
  m.sync(format_ok, supported_size.and(ms.eq(0)).and(format_exists));
  const poisoned = cp.poisoned_seen;
  // The step's data verdict, from those registers into one more, every cycle: it is read in CHECK,
  // after the settle wait, when the fields have been still for IDENTIFY_QUIET_CYCLES.
  const data_bad = m.signal(1);
  m.sync(data_bad, poisoned.or(mux(step.is("IDENTIFY_CONTROLLER"), entry_sizes_ok.not().or(no_namespaces), empty_namespace.or(format_ok.not()))));

  // ---- the settle wait after an Identify completion ----
  const quiet_cycles = m.signal(bitsFor(IDENTIFY_QUIET_CYCLES));
  const settle_cycles = m.signal(bitsFor(IDENTIFY_SETTLE_LIMIT));
  const quiet = constant("IDENTIFY_QUIET_CYCLES", IDENTIFY_QUIET_CYCLES, quiet_cycles.width);
  const settle_limit = constant("IDENTIFY_SETTLE_LIMIT", IDENTIFY_SETTLE_LIMIT, settle_cycles.width);
  const settled = m.signal(1);
  m.If(phase.is("SETTLE"), () => {
    m.sync(settle_cycles, settle_cycles.addWrap(1));
    m.If(cp.busy, () => m.sync(quiet_cycles, 0)).Elif(quiet_cycles.ne(quiet), () => m.sync(quiet_cycles, quiet_cycles.addWrap(1)));
    m.sync(settled, quiet_cycles.eq(quiet).or(settle_cycles.eq(settle_limit)));
  }).Else(() => {
    m.sync(settle_cycles, 0);
    m.sync(quiet_cycles, 0);
    m.sync(settled, 0);
  });

  // ---- the sequence ----
  const is_identify = step.is("IDENTIFY_CONTROLLER").or(step.is("IDENTIFY_NAMESPACE"));
  const command_failed = phase.is("JUDGE").and(completion_bad);
  const command_passed = phase.is("JUDGE").and(completion_bad.not());
  const data_failed = phase.is("CHECK").and(data_bad);
  const failed = command_failed.or(data_failed);
  /** The step is over and good: the next one may start. */
  const passed = command_passed.and(is_identify.not()).or(phase.is("CHECK").and(data_failed.not()));

  phase.body({
    IDLE: () => m.If(launch, () => phase.next("LOAD")),
    LOAD: () => phase.next("OFFER"),
    OFFER: () => m.If(command_fire, () => phase.next("AWAIT")),
    AWAIT: () => m.If(completion_fire, () => phase.next("JUDGE")),
    JUDGE: () =>
      m.If(command_failed.or(step.is("CREATE_IO_SQ")), () => phase.next("IDLE"))
        .Elif(is_identify, () => phase.next("SETTLE"))
        .Else(() => phase.next("LOAD")),
    SETTLE: () => m.If(settled, () => phase.next("CHECK")),
    CHECK: () => m.If(data_failed, () => phase.next("IDLE")).Else(() => phase.next("LOAD")),
  });
  const stepBodies: Partial<Record<AdminBringupStep, () => void>> = {};
  ADMIN_BRINGUP_STEPS.forEach((name, index) => {
    const following = index + 1 < ADMIN_BRINGUP_STEPS.length ? ADMIN_BRINGUP_STEPS[index + 1] : "DONE";
    stepBodies[name] = () => m.If(failed, () => step.next("FAULT")).Elif(passed, () => step.next(following));
  });
  const restart = () => m.If(launch, () => step.next(ADMIN_BRINGUP_STEPS[0]));
  step.body({ IDLE: restart, DONE: restart, FAULT: restart, ...stepBodies });

  // ---- status ----
  const stepCodes = ADMIN_BRINGUP_STEPS.map((name, index) => constant(`ERROR_STEP_${name}`, index + 1, error_step.width));
  const causeCode = (cause: AdminBringupError) => constant(`ERROR_${cause}`, ADMIN_BRINGUP_ERRORS.indexOf(cause) + 1, error_cause.width);
  const failing_step = m.signal(error_step.width);
  m.Switch(step.state, (s) => {
    ADMIN_BRINGUP_STEPS.forEach((name, index) => s.Case(step.stateCode(name).bits_, () => m.comb(failing_step, stepCodes[index])));
  });
  const failing_cause = m.signal(error_cause.width);
  m.If(phase.is("JUDGE"), () => {
    m.If(pcie_error, () => m.comb(failing_cause, causeCode("PCIE_ERROR")))
      .Elif(timed_out, () => m.comb(failing_cause, causeCode("COMPLETION_TIMEOUT")))
      .Else(() => m.comb(failing_cause, causeCode("COMMAND_STATUS")));
  })
    .Elif(poisoned, () => m.comb(failing_cause, causeCode("IDENTIFY_DATA_POISONED")))
    .Elif(step.is("IDENTIFY_CONTROLLER").and(entry_sizes_ok.not()), () => m.comb(failing_cause, causeCode("QUEUE_ENTRY_SIZES")))
    .Elif(step.is("IDENTIFY_CONTROLLER").or(empty_namespace), () => m.comb(failing_cause, causeCode("NO_NAMESPACE")))
    .Else(() => m.comb(failing_cause, causeCode("LBA_FORMAT")));
  const status_cause = phase.is("JUDGE").and(pcie_error.not()).and(timed_out.not());

  runStatus(m, { busy, done, error }, {
    start: launch,
    fail: failed,
    finish: passed.and(step.is("CREATE_IO_SQ")),
    onStart: () => {
      m.sync(error_step, 0);
      m.sync(error_cause, 0);
      m.sync(error_status, 0);
    },
    onFail: () => {
      m.sync(error_step, failing_step);
      m.sync(error_cause, failing_cause);
      m.sync(error_status, mux(status_cause, status, C(0, status.width)));
    },
  });

  // ---- results, kept up to date from the captured fields ----
  m.comb(capacity_blocks, namespace.nsze);
  /** 2^log2 as a `width`-bit value, for log2 in lowest..width-1 (0 otherwise): one compare per bit, no shifter. */
  const powerOfTwo = (log2: Value, width: number, lowest: number): Value => {
    const ones = Array.from({ length: width - lowest }, (_, i) => log2.eq(C(width - 1 - i, log2.width)));
    return lowest === 0 ? cat(...ones) : cat(...ones, C(0, lowest));
  };
  // lba_bytes is a decode of LBADS registered (its low bits and whether it is below 32): LBADS is
  // read out of the capture's LUT RAM, and a user adds to the size at once (the exerciser's beat
  // count), so the LUT RAM read stops at a register; 6 flip-flops instead of 32, the same cycle.
  // awupf_bytes is a decode of registers: it changes only while the Identify data streams in.
  const lbadsBits = bitsFor(lba_bytes.width - 1);
  const lbads_low = m.signal(lbadsBits, { resetless: true });
  const lbads_fits = m.signal(1);
  m.sync(lbads_low, lbads.bits(lbadsBits - 1, 0));
  m.sync(lbads_fits, lbads.bits(lbads.width - 1, lbadsBits).eq(0));
  m.comb(lba_bytes, mux(lbads_fits, powerOfTwo(lbads_low, lba_bytes.width, 0), C(0, lba_bytes.width)));
  const mdts = controller.mdts;
  m.sync(mdts_bytes_log2, mux(mdts.eq(0), C(0, mdts_bytes_log2.width), page_log2.addWrap(mdts.zext(mdts_bytes_log2.width))));
  // 2^log2 for log2 in PAGE_SHIFT_BASE..31; a non-zero log2 is never below PAGE_SHIFT_BASE, and 0 gives 0.
  m.sync(mdts_bytes, powerOfTwo(mdts_bytes_log2, mdts_bytes.width, PAGE_SHIFT_BASE));
  const namespace_atomics = fieldOf(namespace.nsfeat, Ns.nsfeat, Ns.nsfeatAtomics);
  m.sync(atomic_blocks, mux(namespace_atomics.eq(1), namespace.nawupf, controller.awupf).add(1));
  // NABSPF = 2^k - 1 exactly when no set bit has a clear bit below it: a LUT tree, no carry chain.
  const nabspf = namespace.nabspf;
  const contiguous = Array.from({ length: nabspf.width - 1 }, (_, j) => nabspf.bit(j + 1).not().or(nabspf.bit(j))).reduce((a, b) => a.and(b));
  const boundary_applies = namespace_atomics.eq(1).and(nabspf.any());
  const ABOUNDARY_NONE = constant("ATOMIC_BOUNDARY_NONE", AtomicBoundary.NONE, ATOMIC_BOUNDARY_BITS);
  const ABOUNDARY_MASK = constant("ATOMIC_BOUNDARY_MASK", AtomicBoundary.MASK, ATOMIC_BOUNDARY_BITS);
  const ABOUNDARY_SINGLE = constant("ATOMIC_BOUNDARY_SINGLE_BLOCK", AtomicBoundary.SINGLE_BLOCK, ATOMIC_BOUNDARY_BITS);
  m.sync(atomic_boundary, mux(boundary_applies.not(), ABOUNDARY_NONE, mux(contiguous.and(cp.nabo_set.not()), ABOUNDARY_MASK, ABOUNDARY_SINGLE)));
  const shift_bits = 4;
  const shift_fits = lbads.bits(lbads.width - 1, shift_bits).eq(0);
  m.comb(awupf_bytes, mux(shift_fits, atomic_blocks.zext(32).shlBy(lbads.bits(shift_bits - 1, 0)), C(0, 32)));
  m.sync(io_queue_entries, queue_size.bits(io_queue_entries.width - 1, 0).addWrap(1));

  return m.exposing({
    start,
    mqes,
    mpsmin,
    admin_command,
    admin_completion,
    identify_write,
    identify_write_data,
    page_address,
    page_data,
    busy,
    done,
    error,
    error_step,
    error_cause,
    error_status,
    capacity_blocks,
    lba_bytes,
    mdts_bytes_log2,
    mdts_bytes,
    awupf_bytes,
    atomic_blocks,
    atomic_boundary,
    io_queue_entries,
    poisoned_writes,
    lbads,
    ms,
    controller,
    namespace,
  });
}
