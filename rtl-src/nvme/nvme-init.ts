// NVMe controller initialisation through the PCIe access port (PROTOCOL_FACTS §D, §E.9; the
// reference driver's readCap/disable/enable in sim/host/driver.ts): read CAP (low half, then high)
// and VS; check that the controller speaks the NVM command set and takes 4 KiB pages; read CC and
// CSTS; reset the controller if it is enabled (CC.EN = 0, SHN = 0, then CSTS.RDY = 0); program the
// admin queue (AQA, ASQ, ACQ: virtual host addresses from rtl-src/hostmem/host-memory-map.ts) and
// enable it (CC = NVM command set, 4 KiB pages, round robin, IOSQES 6, IOCQES 4, EN 1); wait for
// CSTS.RDY = 1. Every register is a 32-bit MEM_READ/MEM_WRITE at bar0_address + its offset.
//
// The waits. A controller found with EN = 1 and RDY = 0 is still coming up from an earlier enable:
// it gets the time to finish (RDY = 1) before EN is cleared, as NVMe 1.4 §7.6.1 and the reference
// driver do; but not when CSTS.CFS is set, because such a controller never becomes ready and the
// reset is what clears the fault (so `start` after a CFS error recovers the controller). Each wait
// polls CSTS every `pollIntervalCycles` and is bounded by (CAP.TO + 1) x `readyTimeoutUnitCycles`
// (one 500 ms unit more than NVMe's worst case, as Linux and the reference driver allow; it also
// gives a controller reporting TO = 0 one unit). CSTS all ones (the device is gone) ends any wait
// at once; CSTS.CFS ends the waits for RDY = 1, not the wait for RDY = 0 (the reset in progress is
// the cure for CFS, and a controller may clear CFS and RDY in either order).
//
// Every access error (no completion, a UR/CA/CRS status, a poisoned completion) stops the sequence
// with its own error code; so does each failed check. `done` or `error` with `error_code` holds
// until the next `start`, which runs the sequence from the top after a done or an error alike (a
// `start` while it runs is ignored). The CAP fields later blocks need are outputs, valid from
// `done`. `queues_reset` pulses when the enabling CC write goes out: the controller's admin queue
// starts afresh there (PROTOCOL_FACTS §I #3), so the admin engine's `reset_queues` must follow it.
//
// Every output is a register or a slice of one; the register address is bar0_address OR the
// register offset, which is the sum because BAR0 is aligned to its size (at least 16 KiB).
import { C, Module, type Value, bitsFor, constant } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { type AccessFault, accessPortClient } from "../pcie/access-port-client.ts";
import { ACCESS_KIND_BITS, AccessKind, pcieAccessRequest, pcieAccessResponse } from "../pcie/pcie-access.ts";
import { CQE_BYTES } from "./nvme-cqe.ts";
import { type NvmeField, setBits32 } from "./nvme-field.ts";
import { AcqField, AqaField, AsqField, CapField, CcField, CstsField, NvmeRegister } from "./nvme-registers.ts";
import { SQE_BYTES } from "./nvme-sqe.ts";

export interface NvmeInitParams {
  /** Entries of the admin submission and completion queues (AQA holds them zero-based). */
  adminQueueEntries: number;
  /** Cycles of one CAP.TO unit: 500 ms = 125_000_000 cycles at 250 MHz. */
  readyTimeoutUnitCycles: number;
  /** Cycles between two reads of CSTS while waiting for RDY. */
  pollIntervalCycles: number;
}

/** The error codes in order; `error_code` is the position in this list plus one (0 = none). */
export const NVME_INIT_ERRORS = [
  /** CAP reads all ones: the device is gone or BAR0 does not decode. */
  "DEVICE_GONE",
  /** CAP.CSS does not include the NVM command set. */
  "NO_NVM_COMMAND_SET",
  /** 4 KiB pages are outside CAP.MPSMIN..MPSMAX. */
  "PAGE_SIZE_UNSUPPORTED",
  /** CSTS reads all ones. */
  "CSTS_ALL_ONES",
  /** CSTS.CFS while waiting for RDY = 1: controller fatal status. */
  "CONTROLLER_FATAL",
  /** RDY did not become 1 within CAP.TO. */
  "READY_TIMEOUT",
  /** RDY did not become 0 within CAP.TO after CC.EN was cleared. */
  "RESET_TIMEOUT",
  /** A register access got no completion within the completion timeout. */
  "ACCESS_TIMED_OUT",
  /** A register access was answered with UR, CA or CRS. */
  "ACCESS_FAILED",
  /** A register read was answered with a poisoned completion. */
  "ACCESS_POISONED",
] as const;
export type NvmeInitError = (typeof NVME_INIT_ERRORS)[number];
export const NVME_INIT_ERROR_BITS = 4;

/** The error each way an access can fail stops the sequence with. */
const ACCESS_ERRORS = { TIMED_OUT: "ACCESS_TIMED_OUT", POISONED: "ACCESS_POISONED", FAILED: "ACCESS_FAILED" } as const satisfies Record<Exclude<AccessFault, "NONE">, NvmeInitError>;

/** `error_code` of an error. */
export function nvmeInitErrorCode(error: NvmeInitError): number {
  return NVME_INIT_ERRORS.indexOf(error) + 1;
}

/** CC.MPS for the 4 KiB host page: every queue and PRP of the controller is laid out in 4 KiB pages. */
export const HOST_PAGE_MPS = 0;

/** The CC value that enables the controller: NVM command set, 4 KiB pages, round robin, 64-byte SQEs, 16-byte CQEs. */
export function enablingCc(): number {
  let cc = setBits32(0, CcField.css, 0);
  cc = setBits32(cc, CcField.mps, HOST_PAGE_MPS);
  cc = setBits32(cc, CcField.ams, 0);
  cc = setBits32(cc, CcField.shn, 0);
  cc = setBits32(cc, CcField.iosqes, 6);
  cc = setBits32(cc, CcField.iocqes, 4);
  return setBits32(cc, CcField.en, 1);
}

/** AQA for `entries` admin SQ and CQ entries (zero-based fields). */
export function adminQueueAttributes(entries: number): number {
  return setBits32(setBits32(0, AqaField.asqs, entries - 1), AqaField.acqs, entries - 1);
}

/** Admin queue entries the host-memory map's admin SQ and CQ regions hold (64-byte SQEs, 16-byte CQEs). */
export function maxAdminQueueEntries(): number {
  return Math.min(HostMemoryMap.adminSq.bytes / SQE_BYTES, HostMemoryMap.adminCq.bytes / CQE_BYTES, 2 ** AqaField.asqs.width);
}

function checkParams(p: NvmeInitParams): void {
  const max = maxAdminQueueEntries();
  if (!Number.isInteger(p.adminQueueEntries) || p.adminQueueEntries < 2 || p.adminQueueEntries > max) {
    throw new RangeError(`nvme_init: adminQueueEntries ${p.adminQueueEntries} is not an integer in 2..${max} (the admin queue regions of the host-memory map)`);
  }
  if (!Number.isInteger(p.readyTimeoutUnitCycles) || p.readyTimeoutUnitCycles < 1 || p.readyTimeoutUnitCycles > 2 ** 32) {
    throw new RangeError(`nvme_init: readyTimeoutUnitCycles ${p.readyTimeoutUnitCycles} is not an integer in 1..2^32`);
  }
  if (!Number.isInteger(p.pollIntervalCycles) || p.pollIntervalCycles < 1 || p.pollIntervalCycles > 2 ** 24) {
    throw new RangeError(`nvme_init: pollIntervalCycles ${p.pollIntervalCycles} is not an integer in 1..2^24`);
  }
  for (const [what, base, field] of [["admin SQ", HostMemoryMap.adminSq.base, AsqField.base], ["admin CQ", HostMemoryMap.adminCq.base, AcqField.base]] as const) {
    if (base % 2 ** field.lsb !== 0) throw new RangeError(`nvme_init: the ${what} base 0x${base.toString(16)} is not aligned as ${field.lsb} reserved bits require`);
  }
}

/** A named constant per name, `<prefix>_<name>`, numbered in list order from `first`. */
function namedConstants<const N extends string>(prefix: string, names: readonly N[], width: number, first = 0): Record<N, Value> {
  const out = {} as Record<N, Value>;
  names.forEach((name, i) => (out[name] = constant(`${prefix}_${name}`, first + i, width)));
  return out;
}

/** The states in order; `error_step` is the state the fault happened in (its position here: IDLE is 0). */
export const NVME_INIT_STATES = [
  "IDLE",
  "READ_CAP_LO",
  "READ_CAP_HI",
  "READ_VS",
  "CHECK_CAP",
  "READ_CC",
  "READ_CSTS",
  "CHECK_STATE",
  "DISABLE",
  "POLL_WAIT",
  "POLL_CSTS",
  "POLL_CHECK",
  "WRITE_AQA",
  "WRITE_ASQ_LO",
  "WRITE_ASQ_HI",
  "WRITE_ACQ_LO",
  "WRITE_ACQ_HI",
  "ENABLE",
  "DONE",
  "FAULT",
] as const;
const STATES = NVME_INIT_STATES;
type State = (typeof STATES)[number];
type AccessState = Extract<State, `READ_${string}` | `WRITE_${string}` | "DISABLE" | "POLL_CSTS" | "ENABLE">;

/** What the poll loop waits for: RDY = 1 before clearing EN, RDY = 0 after, RDY = 1 after setting EN. */
const WAIT_KINDS = ["READY_BEFORE_DISABLE", "NOT_READY", "READY_AFTER_ENABLE"] as const;

/**
 * After `start`: reads CAP and VS, checks them, resets the NVMe controller if it is enabled,
 * programs AQA/ASQ/ACQ and enables it, waiting for CSTS.RDY within CAP.TO; ends with `done`, or
 * `error` and `error_code`.
 */
export function nvmeInit(p: NvmeInitParams) {
  checkParams(p);
  const m = new Module(`nvme_init_q${p.adminQueueEntries}_u${p.readyTimeoutUnitCycles}_p${p.pollIntervalCycles}`);
  m.parameters({ ...p, adminSq: `0x${HostMemoryMap.adminSq.base.toString(16)}`, adminCq: `0x${HostMemoryMap.adminCq.base.toString(16)}` });

  /** A pulse: run the sequence (ignored while it runs). */
  const start = m.input(1);
  /** The SSD's BAR0 (aligned to its size, below 4 GiB), read at every access. */
  const bar0_address = m.input(32);
  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  /** With `error`: the position of the error in NVME_INIT_ERRORS plus one; 0 otherwise. */
  const error_code = m.output(NVME_INIT_ERROR_BITS);
  /** With `error`: the state it happened in (NVME_INIT_STATES), and the failed access's completion status. */
  const error_step = m.output(bitsFor(STATES.length - 1));
  const error_status = m.output(3);
  /** One cycle when the enabling CC write went out: the admin queues start afresh. */
  const queues_reset = m.output(1);
  /** CAP fields, valid from `done`. */
  const mqes = m.output(CapField.mqes.width, { resetless: true });
  const dstrd = m.output(CapField.dstrd.width, { resetless: true });
  const cap_to = m.output(CapField.to.width, { resetless: true });
  const mpsmin = m.output(CapField.mpsmin.width, { resetless: true });
  const mpsmax = m.output(CapField.mpsmax.width, { resetless: true });
  /** VS as read. */
  const version = m.output(32);

  const access_request = m.port(pcieAccessRequest, "master");
  const access_response = m.port(pcieAccessResponse, "slave");

  // CAP is kept as the fields used (every one lies in one 32-bit half) and whether each half read all ones.
  const cap_lo_all_ones = m.signal(1, { resetless: true });
  const cap_hi_all_ones = m.signal(1, { resetless: true });
  const cap_nvm = m.signal(1, { resetless: true });
  const cc_value = m.signal(32, { resetless: true });
  const wait_kind = m.signal(2, { resetless: true });
  const Wait = namedConstants("WAIT", WAIT_KINDS, 2);
  /** Field `f` of CAP's low (half 0) or high (half 1) DW, as the DW `v` holds it. */
  const capHalf = (v: Value, f: NvmeField, half: 0 | 1) => {
    if (Math.floor(f.lsb / 32) !== half || Math.floor(f.msb / 32) !== half) throw new RangeError(`CAP bits [${f.msb}:${f.lsb}] are not in DW ${half}`);
    return v.bits(f.msb - 32 * half, f.lsb - 32 * half);
  };
  const dw = (v: Value, f: NvmeField) => v.bits(f.msb, f.lsb);

  const ctl = m.fsm(STATES);
  const codes = namedConstants("NVME_INIT_ERROR", NVME_INIT_ERRORS, NVME_INIT_ERROR_BITS, 1);

  // The ready timeout: CAP.TO + 1 units of readyTimeoutUnitCycles, a prescaler and a unit count.
  const wait_start = m.signal(1);
  const ready_units = m.signal(CapField.to.width, { resetless: true });
  const unit_load = m.signal(1);
  const unit = countdownTimer(m, "unit_timer", { maxCycles: p.readyTimeoutUnitCycles, loads: [{ when: unit_load, cycles: p.readyTimeoutUnitCycles }] });
  const units_left = ready_units.ne(0);
  m.comb(unit_load, wait_start.or(unit.expired.and(units_left)));
  m.If(wait_start, () => m.sync(ready_units, cap_to)).Elif(unit.expired.and(units_left), () => m.sync(ready_units, ready_units.subWrap(1)));
  const ready_timed_out = m.signal(1);
  m.If(wait_start, () => m.sync(ready_timed_out, 0)).Elif(unit.expired.and(units_left.not()), () => m.sync(ready_timed_out, 1));

  // The pause between two reads of CSTS: POLL_WAIT lasts the interval and the cycle of the load.
  const poll_load = m.signal(1);
  const pollWaitCycles = p.pollIntervalCycles + 1;
  const poll = countdownTimer(m, "poll_timer", { maxCycles: pollWaitCycles, loads: [{ when: poll_load, cycles: pollWaitCycles }] });

  // The access of each access state: its kind, register offset and write data.
  // CC as read, with EN and SHN cleared (as the reference driver and Linux write it).
  const disablingCc = constant("CC_KEEP_WHEN_DISABLING", setBits32(setBits32(0xffff_ffff, CcField.en, 0), CcField.shn, 0), 32);
  const MEM_READ = constant("ACCESS_KIND_MEM_READ", AccessKind.MEM_READ, ACCESS_KIND_BITS);
  const MEM_WRITE = constant("ACCESS_KIND_MEM_WRITE", AccessKind.MEM_WRITE, ACCESS_KIND_BITS);
  const accesses: Record<AccessState, { kind: Value; offset: number; data: Value }> = {
    READ_CAP_LO: { kind: MEM_READ, offset: NvmeRegister.CAP.offset, data: C(0, 32) },
    READ_CAP_HI: { kind: MEM_READ, offset: NvmeRegister.CAP.offset + 4, data: C(0, 32) },
    READ_VS: { kind: MEM_READ, offset: NvmeRegister.VS.offset, data: C(0, 32) },
    READ_CC: { kind: MEM_READ, offset: NvmeRegister.CC.offset, data: C(0, 32) },
    READ_CSTS: { kind: MEM_READ, offset: NvmeRegister.CSTS.offset, data: C(0, 32) },
    POLL_CSTS: { kind: MEM_READ, offset: NvmeRegister.CSTS.offset, data: C(0, 32) },
    DISABLE: { kind: MEM_WRITE, offset: NvmeRegister.CC.offset, data: cc_value.and(disablingCc) },
    WRITE_AQA: { kind: MEM_WRITE, offset: NvmeRegister.AQA.offset, data: constant("ADMIN_QUEUE_ATTRIBUTES", adminQueueAttributes(p.adminQueueEntries), 32) },
    WRITE_ASQ_LO: { kind: MEM_WRITE, offset: NvmeRegister.ASQ.offset, data: constant("ADMIN_SQ_BASE", HostMemoryMap.adminSq.base, 32) },
    WRITE_ASQ_HI: { kind: MEM_WRITE, offset: NvmeRegister.ASQ.offset + 4, data: C(0, 32) },
    WRITE_ACQ_LO: { kind: MEM_WRITE, offset: NvmeRegister.ACQ.offset, data: constant("ADMIN_CQ_BASE", HostMemoryMap.adminCq.base, 32) },
    WRITE_ACQ_HI: { kind: MEM_WRITE, offset: NvmeRegister.ACQ.offset + 4, data: C(0, 32) },
    ENABLE: { kind: MEM_WRITE, offset: NvmeRegister.CC.offset, data: constant("ENABLING_CC", enablingCc(), 32) },
  };

  // The port (access-port-client.ts): the step machine decides on the registered outcome a cycle
  // after each access; what a read brings is loaded where it belongs as it is taken.
  // The request of the access state the sequence is in, decoded from the state register.
  const accessStates = Object.keys(accesses) as AccessState[];
  const wanted_kind = m.signal(ACCESS_KIND_BITS);
  const wanted_offset = m.signal(32);
  const wanted_data = m.signal(32);
  m.Switch(ctl.state, (s) => {
    for (const state of accessStates) {
      s.Case(ctl.stateCode(state).bits_, () => {
        m.comb(wanted_kind, accesses[state].kind);
        m.comb(wanted_offset, accesses[state].offset);
        m.comb(wanted_data, accesses[state].data);
      });
    }
  });
  const port = accessPortClient(m, access_request, access_response, {
    active: accessStates.map((state) => ctl.is(state)).reduce((a, b) => a.or(b)),
    kind: wanted_kind,
    address: bar0_address.or(wanted_offset),
    data: wanted_data,
  });
  /** Go to an access state (only inside the body): the port offers its request two cycles later. */
  const enter = (state: AccessState) => {
    ctl.next(state);
  };
  const fault = (code: NvmeInitError) => {
    ctl.next("FAULT");
    m.sync(busy, 0);
    m.sync(error, 1);
    m.sync(error_code, codes[code]);
  };
  /** Start a wait for CSTS.RDY: the timeout starts over; the first read of CSTS goes out now or after an interval. */
  const beginWait = (kind: Value, pollFirst: boolean) => {
    m.sync(wait_kind, kind);
    m.comb(wait_start, 1);
    if (pollFirst) enter("POLL_CSTS");
    else {
      m.comb(poll_load, 1);
      ctl.next("POLL_WAIT");
    }
  };
  // The state a fault happened in is the last one before FAULT: followed every cycle outside FAULT
  // (a decode of the state as enable, not the fault conditions), and the last access's status
  // (no access follows a fault).
  m.If(ctl.is("FAULT").not(), () => m.sync(error_step, ctl.state));
  m.comb(error_status, port.status);
  const access_ok = port.done.and(port.fault.eq(port.Fault.NONE));

  // What the reads bring, loaded as each is taken (a failed read loads nothing: the sequence stops).
  const csts_rdy = m.signal(1, { resetless: true });
  const csts_cfs = m.signal(1, { resetless: true });
  const read = port.data;
  m.If(port.answered_ok, () => {
    m.If(ctl.is("READ_CAP_LO"), () => {
      m.sync(mqes, capHalf(read, CapField.mqes, 0));
      m.sync(cap_to, capHalf(read, CapField.to, 0));
    })
      .Elif(ctl.is("READ_CAP_HI"), () => {
        m.sync(dstrd, capHalf(read, CapField.dstrd, 1));
        // CSS bit 0: the NVM command set.
        m.sync(cap_nvm, capHalf(read, CapField.css, 1).bit(0));
        m.sync(mpsmin, capHalf(read, CapField.mpsmin, 1));
        m.sync(mpsmax, capHalf(read, CapField.mpsmax, 1));
      })
      .Elif(ctl.is("READ_VS"), () => m.sync(version, read))
      .Elif(ctl.is("READ_CC"), () => m.sync(cc_value, read))
      .Elif(ctl.is("READ_CSTS").or(ctl.is("POLL_CSTS")), () => {
        m.sync(csts_rdy, dw(read, CstsField.rdy));
        m.sync(csts_cfs, dw(read, CstsField.cfs));
      });
  });
  const csts_all_ones = port.all_ones;
  const waiting_for_ready = wait_kind.ne(Wait.NOT_READY);

  /** What an access state does: wait for the access, stop on an access error, else `then`. */
  const accessBody = (then: () => void) => port.whenDone((f) => fault(ACCESS_ERRORS[f]), then);

  const launch = start.and(ctl.is("IDLE").or(ctl.is("DONE")).or(ctl.is("FAULT")));
  const restart = () =>
    m.If(launch, () => {
      m.sync(busy, 1);
      m.sync(done, 0);
      m.sync(error, 0);
      m.sync(error_code, 0);
      enter("READ_CAP_LO");
    });

  // With 4 KiB pages (MPS 0) the check is MPSMIN = 0; MPSMAX >= 0 always holds.
  const pageSupported = HOST_PAGE_MPS === 0 ? mpsmin.eq(0) : mpsmin.le(HOST_PAGE_MPS).and(mpsmax.ge(HOST_PAGE_MPS));
  const cc_enabled = dw(cc_value, CcField.en);
  // CHECK_CAP's verdicts, registered a cycle after the reads they judge (the VS read lies between):
  // the state's next-state logic then sees two flags, not the compares behind them.
  const cap_device_gone = m.signal(1, { resetless: true });
  const cap_page_ok = m.signal(1, { resetless: true });
  m.sync(cap_device_gone, cap_lo_all_ones.and(cap_hi_all_ones));
  m.sync(cap_page_ok, pageSupported);

  ctl.body({
    IDLE: restart,
    DONE: restart,
    FAULT: restart,
    READ_CAP_LO: accessBody(() => {
      m.sync(cap_lo_all_ones, port.all_ones);
      enter("READ_CAP_HI");
    }),
    READ_CAP_HI: accessBody(() => {
      m.sync(cap_hi_all_ones, port.all_ones);
      enter("READ_VS");
    }),
    READ_VS: accessBody(() => ctl.next("CHECK_CAP")),
    CHECK_CAP: () =>
      m.If(cap_device_gone, () => fault("DEVICE_GONE"))
        .Elif(cap_nvm.not(), () => fault("NO_NVM_COMMAND_SET"))
        .Elif(cap_page_ok.not(), () => fault("PAGE_SIZE_UNSUPPORTED"))
        .Else(() => enter("READ_CC")),
    READ_CC: accessBody(() => enter("READ_CSTS")),
    READ_CSTS: accessBody(() => ctl.next("CHECK_STATE")),
    CHECK_STATE: () =>
      m.If(csts_all_ones, () => fault("CSTS_ALL_ONES"))
        .Elif(cc_enabled.not().and(csts_rdy.not()), () => enter("WRITE_AQA"))
        .Elif(cc_enabled.and(csts_rdy.not()).and(csts_cfs.not()), () => beginWait(Wait.READY_BEFORE_DISABLE, false))
        .Else(() => enter("DISABLE")),
    DISABLE: accessBody(() => beginWait(Wait.NOT_READY, true)),
    POLL_WAIT: () => m.If(poll.expired, () => enter("POLL_CSTS")),
    POLL_CSTS: accessBody(() => ctl.next("POLL_CHECK")),
    POLL_CHECK: () =>
      m.If(csts_all_ones, () => fault("CSTS_ALL_ONES"))
        .Elif(csts_rdy.eq(waiting_for_ready), () => {
          m.If(wait_kind.eq(Wait.READY_BEFORE_DISABLE), () => enter("DISABLE"))
            .Elif(wait_kind.eq(Wait.NOT_READY), () => enter("WRITE_AQA"))
            .Else(() => {
              ctl.next("DONE");
              m.sync(busy, 0);
              m.sync(done, 1);
            });
        })
        .Elif(csts_cfs.and(waiting_for_ready), () => fault("CONTROLLER_FATAL"))
        .Elif(ready_timed_out, () => m.If(wait_kind.eq(Wait.NOT_READY), () => fault("RESET_TIMEOUT")).Else(() => fault("READY_TIMEOUT")))
        .Else(() => {
          m.comb(poll_load, 1);
          ctl.next("POLL_WAIT");
        }),
    WRITE_AQA: accessBody(() => enter("WRITE_ASQ_LO")),
    WRITE_ASQ_LO: accessBody(() => enter("WRITE_ASQ_HI")),
    WRITE_ASQ_HI: accessBody(() => enter("WRITE_ACQ_LO")),
    WRITE_ACQ_LO: accessBody(() => enter("WRITE_ACQ_HI")),
    WRITE_ACQ_HI: accessBody(() => enter("ENABLE")),
    ENABLE: accessBody(() => beginWait(Wait.READY_AFTER_ENABLE, true)),
  });

  m.sync(queues_reset, ctl.is("ENABLE").and(access_ok));

  return m.exposing({
    start,
    bar0_address,
    busy,
    done,
    error,
    error_code,
    error_step,
    error_status,
    queues_reset,
    mqes,
    dstrd,
    cap_to,
    mpsmin,
    mpsmax,
    version,
    access_request,
    access_response,
  });
}
