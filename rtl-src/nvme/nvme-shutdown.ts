// Normal shutdown of the NVMe controller (NVMe 1.4 §7.6.2; PROTOCOL_FACTS §E.10; the reference
// driver's shutdown in sim/host/driver.ts), through the PCIe access port: so that the SSD saves its
// volatile write cache and mapping tables before power is removed.
//
// On `start`:
//  1 DRAIN       wait for `io_idle` (the I/O engine has no command in flight): while `active` the I/O
//                engine refuses new commands, so the commands in flight complete (each within the
//                engine's I/O timeout) and io_idle comes. The wait is bounded by the shutdown
//                timeout; if I/O is still not idle then, the shutdown goes ahead anyway (a lost
//                command must not stop the SSD from saving its cache before power goes) and the run
//                ends in error IO_DRAIN_TIMEOUT, with `complete` set if the SSD did complete.
//  2 READ_CC     CC; all ones is DEVICE_GONE, EN = 0 is NOT_ENABLED (a disabled controller has
//                nothing to shut down: nothing is written).
//  3 WRITE_CC    CC with SHN = 01b (normal), every other bit as read (EN stays 1).
//  4 POLL_CSTS   CSTS now and then every `pollIntervalCycles`, until SHST = 10b (shutdown
//                complete): `done` and `complete`. SHST 00b (not yet seen) and 01b (in progress)
//                keep polling; CSTS all ones is DEVICE_GONE; CFS without SHST complete is
//                CONTROLLER_FATAL; no SHST complete within the timeout is SHUTDOWN_TIMEOUT.
// Every access error (no completion, a UR/CA/CRS status, a poisoned completion) stops the sequence
// with its own error code.
//
// The timeout. NVMe says the host waits RTD3E (Identify Controller, µs) for SHST complete, or a time
// of its choosing when RTD3E is 0; Linux waits max(RTD3E, 5 s) capped at 60 s. Here each wait
// (drain, then SHST) lasts (clamp(RTD3E >> RTD3E_UNIT_SHIFT, minTimeoutUnits - 1, maxTimeoutUnits - 1)
// + 1) units of `timeoutUnitCycles`. With the hardware's unit of 2^19 µs (131 072 000 cycles at
// 250 MHz, 524 ms) that is RTD3E to RTD3E + 524 ms, kept between minTimeoutUnits and
// maxTimeoutUnits units: hardwareShutdownParams waits 5.2 s to 60.3 s. RTD3E is sampled the cycle
// before start.
//
// After the run. The controller stays shut down: it takes no command until it is reset (CC.EN = 0,
// as nvme_init does at the next bring-up). So `active` (refuse new I/O) holds from `start` until
// `clear`, which the core pulses when a new bring-up reaches READY; `done` or `error` with
// `error_code` hold until the next `start` or `clear`. A `start` while the sequence runs is
// ignored, as is a `clear` (the core must not restart the SSD while `busy`: every wait is bounded).
// A `start` after done or error runs it again (CC is read again; a controller already shut down
// answers SHST complete at the first poll).
//
// Every output is a register; the register address is bar0_address OR the register offset, which is
// the sum because BAR0 is aligned to its size (at least 16 KiB).
import { C, Module, type Value, bitsFor, constant } from "../../hdl/index.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { type AccessFault, accessPortClient } from "../pcie/access-port-client.ts";
import { ACCESS_KIND_BITS, AccessKind, pcieAccessRequest, pcieAccessResponse } from "../pcie/pcie-access.ts";
import { type NvmeField, setBits32 } from "./nvme-field.ts";
import { IdentifyControllerField } from "./nvme-identify.ts";
import { CcField, CstsField, NvmeRegister } from "./nvme-registers.ts";

export interface NvmeShutdownParams {
  /** Cycles of one timeout unit; RTD3E >> RTD3E_UNIT_SHIFT counts whole units when this is 2^19 µs. */
  timeoutUnitCycles: number;
  /** Units each wait lasts at least (RTD3E 0 or small). */
  minTimeoutUnits: number;
  /** Units each wait lasts at most (a bogus RTD3E). */
  maxTimeoutUnits: number;
  /** Cycles between two reads of CSTS. */
  pollIntervalCycles: number;
}

/** RTD3E (µs) >> 19 is a count of 524.288 ms units. */
export const RTD3E_UNIT_SHIFT = 19;

/** The hardware's timing at 250 MHz: units of 2^19 µs, 10 to 115 of them (5.2 s to 60.3 s), CSTS read every 1 ms. */
export const hardwareShutdownParams: NvmeShutdownParams = {
  timeoutUnitCycles: 2 ** RTD3E_UNIT_SHIFT * 250,
  minTimeoutUnits: 10,
  maxTimeoutUnits: 115,
  pollIntervalCycles: 250_000,
};

/** SHN = 01b: normal shutdown notification; SHST = 10b: shutdown processing complete. */
export const SHN_NORMAL = 0b01;
export const SHST_COMPLETE = 0b10;

/** The error codes in order; `error_code` is the position in this list plus one (0 = none). */
export const NVME_SHUTDOWN_ERRORS = [
  /** io_idle did not come within the timeout; the shutdown went ahead (see `complete`). */
  "IO_DRAIN_TIMEOUT",
  /** CC or CSTS reads all ones: the device is gone. */
  "DEVICE_GONE",
  /** CC.EN is 0: no controller to shut down; nothing was written. */
  "NOT_ENABLED",
  /** CSTS.CFS before shutdown complete: controller fatal status. */
  "CONTROLLER_FATAL",
  /** SHST did not become 10b within the timeout. */
  "SHUTDOWN_TIMEOUT",
  /** A register access got no completion within the completion timeout. */
  "ACCESS_TIMED_OUT",
  /** A register access was answered with UR, CA or CRS. */
  "ACCESS_FAILED",
  /** A register read was answered with a poisoned completion. */
  "ACCESS_POISONED",
] as const;
export type NvmeShutdownError = (typeof NVME_SHUTDOWN_ERRORS)[number];

/** The error each way an access can fail stops the sequence with. */
const ACCESS_ERRORS = { TIMED_OUT: "ACCESS_TIMED_OUT", POISONED: "ACCESS_POISONED", FAILED: "ACCESS_FAILED" } as const satisfies Record<Exclude<AccessFault, "NONE">, NvmeShutdownError>;
export const NVME_SHUTDOWN_ERROR_BITS = bitsFor(NVME_SHUTDOWN_ERRORS.length);

/** `error_code` of an error. */
export function nvmeShutdownErrorCode(error: NvmeShutdownError): number {
  return NVME_SHUTDOWN_ERRORS.indexOf(error) + 1;
}

/** The states in order; `error_step` is the state the fault happened in (its position here). */
export const NVME_SHUTDOWN_STATES = ["IDLE", "DRAIN", "READ_CC", "CHECK_CC", "WRITE_CC", "POLL_WAIT", "POLL_CSTS", "POLL_CHECK", "DONE", "FAULT"] as const;
const STATES = NVME_SHUTDOWN_STATES;
type AccessState = "READ_CC" | "WRITE_CC" | "POLL_CSTS";

/** Units of a wait for RTD3E `rtd3e` µs (what the hardware computes). */
export function shutdownTimeoutUnits(p: NvmeShutdownParams, rtd3e: number): number {
  const units = Math.floor((rtd3e >>> 0) / 2 ** RTD3E_UNIT_SHIFT) + 1;
  return Math.min(p.maxTimeoutUnits, Math.max(p.minTimeoutUnits, units));
}

function checkParams(p: NvmeShutdownParams): void {
  const int = (name: keyof NvmeShutdownParams, lo: number, hi: number) => {
    const v = p[name];
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`nvme_shutdown: ${name} ${v} is not an integer in ${lo}..${hi}`);
  };
  int("timeoutUnitCycles", 1, 2 ** 32);
  int("minTimeoutUnits", 1, 2 ** (32 - RTD3E_UNIT_SHIFT));
  int("maxTimeoutUnits", p.minTimeoutUnits, 2 ** (32 - RTD3E_UNIT_SHIFT));
  int("pollIntervalCycles", 1, 2 ** 24);
}

/**
 * After `start`: waits for the I/O to drain, sets CC.SHN = 01b (read-modify-write) and polls CSTS
 * until SHST = 10b, each wait bounded by the RTD3E-derived timeout; ends with `done` and
 * `complete`, or `error` and `error_code`.
 */
export function nvmeShutdown(p: NvmeShutdownParams) {
  checkParams(p);
  const m = new Module(`nvme_shutdown_u${p.timeoutUnitCycles}_n${p.minTimeoutUnits}_${p.maxTimeoutUnits}_p${p.pollIntervalCycles}`);
  m.parameters({ ...p, rtd3eUnitShift: RTD3E_UNIT_SHIFT });

  /** A pulse: shut the controller down (ignored while it runs). */
  const start = m.input(1);
  /** A pulse: forget the outcome, `active` low (a new bring-up is READY); ignored while busy. */
  const clear = m.input(1);
  /** The SSD's BAR0 (aligned to its size, below 4 GiB). */
  const bar0_address = m.input(32);
  /** Identify Controller RTD3E, µs (0: not reported), sampled the cycle before start. */
  const rtd3e = m.input(IdentifyControllerField.rtd3e.width);
  /** The I/O engine has no command in flight. */
  const io_idle = m.input(1);
  m.waiveUnread(rtd3e, "the timeout counts whole units of 2^19 µs: RTD3E's low 19 bits round down");
  /** From start until clear: the I/O engine must refuse new commands (the SSD is, or is being, shut down). */
  const active = m.output(1);
  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  /** With `error`: the position of the error in NVME_SHUTDOWN_ERRORS plus one; 0 otherwise. */
  const error_code = m.output(NVME_SHUTDOWN_ERROR_BITS);
  /** With `error`: the state it happened in (NVME_SHUTDOWN_STATES), and the failed access's completion status. */
  const error_step = m.output(bitsFor(STATES.length - 1));
  const error_status = m.output(3);
  /** The SSD reported shutdown complete (SHST = 10b) in this run: power may be removed. */
  const complete = m.output(1);

  const access_request = m.port(pcieAccessRequest, "master");
  const access_response = m.port(pcieAccessResponse, "slave");

  const ctl = m.fsm(STATES);
  const codes = {} as Record<NvmeShutdownError, Value>;
  NVME_SHUTDOWN_ERRORS.forEach((name, i) => (codes[name] = constant(`NVME_SHUTDOWN_ERROR_${name}`, i + 1, NVME_SHUTDOWN_ERROR_BITS)));
  const dw = (v: Value, f: NvmeField) => v.bits(f.msb, f.lsb);

  // ---- the timeout: a prescaler of timeoutUnitCycles and a count of the units left ----
  const unitBits = Math.max(1, bitsFor(p.maxTimeoutUnits - 1));
  const rtd3eBits = rtd3e.width - RTD3E_UNIT_SHIFT;
  // RTD3E in whole units, clamped to (min - 1)..(max - 1): the wait counts one unit more.
  const rtd3e_units = rtd3e.bits(rtd3e.width - 1, RTD3E_UNIT_SHIFT);
  const fewest = constant("TIMEOUT_UNITS_FEWEST", p.minTimeoutUnits - 1, rtd3eBits);
  const most = constant("TIMEOUT_UNITS_MOST", p.maxTimeoutUnits - 1, rtd3eBits);
  // Followed while no run goes on (RTD3E is a static Identify field), so it is ready at launch.
  const wait_units = m.signal(unitBits, { resetless: true });
  const launch = start.and(ctl.is("IDLE").or(ctl.is("DONE")).or(ctl.is("FAULT")));
  m.If(busy.not(), () => {
    m.If(rtd3e_units.lt(fewest), () => m.sync(wait_units, C(p.minTimeoutUnits - 1, unitBits)))
      .Elif(rtd3e_units.gt(most), () => m.sync(wait_units, C(p.maxTimeoutUnits - 1, unitBits)))
      .Else(() => m.sync(wait_units, rtd3e_units.bits(unitBits - 1, 0)));
  });
  const wait_start = m.signal(1);
  const units_left = m.signal(unitBits, { resetless: true });
  const unit_load = m.signal(1);
  const unit = countdownTimer(m, "unit_timer", { maxCycles: p.timeoutUnitCycles, loads: [{ when: unit_load, cycles: p.timeoutUnitCycles }] });
  const more_units = units_left.ne(0);
  m.comb(unit_load, wait_start.or(unit.expired.and(more_units)));
  m.If(wait_start, () => m.sync(units_left, wait_units)).Elif(unit.expired.and(more_units), () => m.sync(units_left, units_left.subWrap(1)));
  const timed_out = m.signal(1);
  m.If(wait_start, () => m.sync(timed_out, 0)).Elif(unit.expired.and(more_units.not()), () => m.sync(timed_out, 1));

  // The pause between two reads of CSTS: POLL_WAIT lasts the interval and the cycle of the load.
  const poll_load = m.signal(1);
  const pollWaitCycles = p.pollIntervalCycles + 1;
  const poll = countdownTimer(m, "poll_timer", { maxCycles: pollWaitCycles, loads: [{ when: poll_load, cycles: pollWaitCycles }] });

  // ---- the accesses ----
  const cc_value = m.signal(32, { resetless: true });
  const MEM_READ = constant("ACCESS_KIND_MEM_READ", AccessKind.MEM_READ, ACCESS_KIND_BITS);
  const MEM_WRITE = constant("ACCESS_KIND_MEM_WRITE", AccessKind.MEM_WRITE, ACCESS_KIND_BITS);
  const cc_keep = constant("CC_KEEP_WHEN_SHUTTING_DOWN", setBits32(0xffff_ffff, CcField.shn, 0), 32);
  const cc_shn = constant("CC_SHN_NORMAL", setBits32(0, CcField.shn, SHN_NORMAL), 32);
  const accesses: Record<AccessState, { kind: Value; offset: number }> = {
    READ_CC: { kind: MEM_READ, offset: NvmeRegister.CC.offset },
    WRITE_CC: { kind: MEM_WRITE, offset: NvmeRegister.CC.offset },
    POLL_CSTS: { kind: MEM_READ, offset: NvmeRegister.CSTS.offset },
  };
  // The port (access-port-client.ts): the sequence decides on the registered outcome a cycle after
  // each access; what a read brings is loaded where it belongs as it is taken.
  // The request of the access state the sequence is in, decoded from the state register.
  const accessStates = Object.keys(accesses) as AccessState[];
  const wanted_kind = m.signal(ACCESS_KIND_BITS);
  const wanted_offset = m.signal(32);
  m.Switch(ctl.state, (s) => {
    for (const state of accessStates) {
      s.Case(ctl.stateCode(state).bits_, () => {
        m.comb(wanted_kind, accesses[state].kind);
        m.comb(wanted_offset, accesses[state].offset);
      });
    }
  });
  // The one write's data (CC with SHN set) goes with every access: a read sends no data, so the
  // port's data is the write value as it is, no decode of the state (the port passes it unregistered).
  const wanted_data = m.signal(32);
  m.comb(wanted_data, cc_value.and(cc_keep).or(cc_shn));
  const port = accessPortClient(m, access_request, access_response, {
    active: accessStates.map((state) => ctl.is(state)).reduce((a, b) => a.or(b)),
    kind: wanted_kind,
    address: bar0_address.or(wanted_offset),
    data: wanted_data,
  });
  /** Go to an access state: the port offers its request two cycles later. */
  const enter = (state: AccessState) => {
    ctl.next(state);
  };
  const fault = (code: NvmeShutdownError) => {
    ctl.next("FAULT");
    m.sync(busy, 0);
    m.sync(error, 1);
    m.sync(error_code, codes[code]);
  };
  m.If(ctl.is("FAULT").not(), () => m.sync(error_step, ctl.state));
  m.comb(error_status, port.status);

  /** What an access state does: wait for the access, stop on an access error, else `then`. */
  const accessBody = (then: () => void) => port.whenDone((f) => fault(ACCESS_ERRORS[f]), then);

  // CC and CSTS as read, loaded as each read is taken (a failed read loads nothing: the sequence
  // stops); whether the last read was all ones, from the port's registers.
  const csts_complete = m.signal(1, { resetless: true });
  const csts_cfs = m.signal(1, { resetless: true });
  const shst_complete = constant("SHST_COMPLETE", SHST_COMPLETE, CstsField.shst.width);
  m.If(port.answered_ok, () => {
    m.If(ctl.is("READ_CC"), () => m.sync(cc_value, port.data)).Elif(ctl.is("POLL_CSTS"), () => {
      m.sync(csts_complete, dw(port.data, CstsField.shst).eq(shst_complete));
      m.sync(csts_cfs, dw(port.data, CstsField.cfs));
    });
  });
  const last_read_all_ones = port.all_ones;
  /** The drain wait ran out: the run ends in IO_DRAIN_TIMEOUT even if the shutdown completes. */
  const drain_timed_out = m.signal(1);

  const restart = () =>
    m.If(launch, () => {
      m.sync(busy, 1);
      m.sync(done, 0);
      m.sync(error, 0);
      m.sync(error_code, 0);
      m.sync(complete, 0);
      m.sync(active, 1);
      m.sync(drain_timed_out, 0);
      m.comb(wait_start, 1);
      ctl.next("DRAIN");
    }).Elif(clear, () => {
      m.sync(done, 0);
      m.sync(error, 0);
      m.sync(error_code, 0);
      m.sync(complete, 0);
      m.sync(active, 0);
      ctl.next("IDLE");
    });

  ctl.body({
    IDLE: restart,
    DONE: restart,
    FAULT: restart,
    DRAIN: () =>
      m.If(io_idle, () => enter("READ_CC")).Elif(timed_out, () => {
        m.sync(drain_timed_out, 1);
        enter("READ_CC");
      }),
    READ_CC: accessBody(() => ctl.next("CHECK_CC")),
    CHECK_CC: () =>
      m.If(last_read_all_ones, () => fault("DEVICE_GONE"))
        .Elif(dw(cc_value, CcField.en).not(), () => fault("NOT_ENABLED"))
        .Else(() => enter("WRITE_CC")),
    WRITE_CC: accessBody(() => {
      m.comb(wait_start, 1);
      enter("POLL_CSTS");
    }),
    POLL_WAIT: () => m.If(poll.expired, () => enter("POLL_CSTS")),
    POLL_CSTS: accessBody(() => ctl.next("POLL_CHECK")),
    POLL_CHECK: () =>
      m.If(last_read_all_ones, () => fault("DEVICE_GONE"))
        .Elif(csts_complete, () => {
          m.sync(complete, 1);
          m.If(drain_timed_out, () => fault("IO_DRAIN_TIMEOUT")).Else(() => {
            ctl.next("DONE");
            m.sync(busy, 0);
            m.sync(done, 1);
          });
        })
        .Elif(csts_cfs, () => fault("CONTROLLER_FATAL"))
        .Elif(timed_out, () => fault("SHUTDOWN_TIMEOUT"))
        .Else(() => {
          m.comb(poll_load, 1);
          ctl.next("POLL_WAIT");
        }),
  });

  return m.exposing({
    start,
    clear,
    bar0_address,
    rtd3e,
    io_idle,
    active,
    busy,
    done,
    error,
    error_code,
    error_step,
    error_status,
    complete,
    access_request,
    access_response,
  });
}
