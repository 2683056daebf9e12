// Inline logic for a client of the PCIe access port (pcie-access.ts) that runs one register access
// at a time from a step machine (nvme_init, nvme_shutdown); builds no module.
//
// The client's step machine enters a state that wants an access and waits there for `done`; the
// port starts the access when it is idle and the step machine is in such a state (`active`, a
// decode of the step register), offers it until taken, then awaits the response and takes it. The
// request is the client's decode of its step register (kind, address, data per access state),
// registered here every cycle (the data passes as the decode it is): it holds while the state does. What the access read is only on the port
// in the cycle it is taken (`answered`): the client loads what it needs from `data` then
// (`answered_ok` says the access succeeded), rather than keeping a copy of every response. The
// rest of the outcome is registered for the step machine, which decides a cycle later from
// registers (so its many states decide on few, registered inputs), and the port starts from
// registers too (not from the step machine's wide choice of its next state): `done` (one cycle), `fault`
// (ACCESS_FAULTS), `all_ones` (the data read all ones: a device that is gone) and `status` (the
// completion status, for the error report).
import { type Bundle, type FieldOf, type Module, type Signal, type Value, constant } from "../../hdl/index.ts";
import { CPL_STATUS_SC } from "../tlp/tlp-constants.ts";
import type { pcieAccessRequest, pcieAccessResponse } from "./pcie-access.ts";

/** How an access ended; `fault` holds the position in this list. */
export const ACCESS_FAULTS = ["NONE", "TIMED_OUT", "POISONED", "FAILED"] as const;
export type AccessFault = (typeof ACCESS_FAULTS)[number];
const FAULT_BITS = 2;

/** The access the step machine's state asks for: decodes of registers, held while the state is. */
export interface AccessPortRequest {
  /** The step machine is in a state that waits for an access; every such state is left in the cycle of `done`. */
  active: Value;
  kind: Value;
  /** The byte address (or configAddress). */
  address: Value;
  data: Value;
  byteEnable?: Value | number;
}

export interface AccessPortClient {
  /** The response is taken in this cycle: `data` holds what was read. */
  answered: Value;
  /** `answered`, and the access succeeded (no timeout, not poisoned, status SC). */
  answered_ok: Value;
  /** The port's read data (meaningful with `answered`). */
  data: Value;
  /** One cycle, the cycle after `answered`: the outcome is in the registers below. */
  done: Signal;
  fault: Signal;
  /** `fault`'s codes, as named constants. */
  Fault: Record<AccessFault, Value>;
  /** The last access's data read all ones. */
  all_ones: Signal;
  /** The last access's completion status. */
  status: Signal;
  /**
   * A step-machine state body that waits for the access: on `done`, a fault calls `onFault` with
   * it, else `then` runs.
   */
  whenDone: (onFault: (fault: Exclude<AccessFault, "NONE">) => void, then: () => void) => () => void;
}

/**
 * The request/response handshakes of one access at a time on `request`/`response` (the client's
 * ports), for the access `wanted` describes: offered from the second cycle of an access state on.
 */
export function accessPortClient(
  m: Module,
  request: Bundle<FieldOf<typeof pcieAccessRequest>>,
  response: Bundle<FieldOf<typeof pcieAccessResponse>>,
  wanted: AccessPortRequest,
): AccessPortClient {
  const rq = request.signals;
  const rs = response.signals;
  const Fault = {} as Record<AccessFault, Value>;
  ACCESS_FAULTS.forEach((name, i) => (Fault[name] = constant(`ACCESS_FAULT_${name}`, i, FAULT_BITS)));

  const port_phase = m.fsm(["IDLE", "OFFER", "AWAIT"]);
  const request_taken = rq.valid.and(rq.ready);
  const answered = port_phase.is("AWAIT").and(rs.valid).and(rs.ready);
  const succeeded = rs.timed_out.or(rs.poisoned).not().and(rs.status.eq(CPL_STATUS_SC));
  const done = m.signal(1, { name: "access_done" });
  const fault = m.signal(FAULT_BITS, { name: "access_fault", resetless: true });
  const all_ones = m.signal(1, { name: "access_all_ones", resetless: true });
  const status = m.signal(3, { name: "access_status", resetless: true });
  port_phase.body({
    // Not in the cycle of `done`: the step machine leaves the state of the access just answered then.
    IDLE: () =>
      m.If(wanted.active.and(done.not()), () => {
        m.sync(rq.valid, 1);
        port_phase.next("OFFER");
      }),
    OFFER: () =>
      m.If(request_taken, () => {
        m.sync(rq.valid, 0);
        m.sync(rs.ready, 1);
        port_phase.next("AWAIT");
      }),
    AWAIT: () =>
      m.If(answered, () => {
        m.sync(rs.ready, 0);
        m.sync(all_ones, rs.data.all());
        m.sync(status, rs.status);
        m.If(rs.timed_out, () => m.sync(fault, Fault.TIMED_OUT))
          .Elif(rs.poisoned, () => m.sync(fault, Fault.POISONED))
          .Elif(rs.status.ne(CPL_STATUS_SC), () => m.sync(fault, Fault.FAILED))
          .Else(() => m.sync(fault, Fault.NONE));
        port_phase.next("IDLE");
      }),
  });
  m.sync(done, answered);

  m.sync(rq.kind, wanted.kind);
  m.sync(rq.address, wanted.address);
  // The write data is the client's decode itself, not a register: it holds while the state does,
  // so from the first cycle of the offer on, as a register would (a register of 32 bits per client
  // saved; the port copies it when it takes the request).
  m.comb(rq.data, wanted.data);
  m.sync(rq.byte_en, wanted.byteEnable ?? 0b1111);
  const whenDone = (onFault: (fault: Exclude<AccessFault, "NONE">) => void, then: () => void) => () =>
    m.If(done, () =>
      m.If(fault.eq(Fault.TIMED_OUT), () => onFault("TIMED_OUT"))
        .Elif(fault.eq(Fault.POISONED), () => onFault("POISONED"))
        .Elif(fault.eq(Fault.FAILED), () => onFault("FAILED"))
        .Else(then),
    );
  return { answered, answered_ok: answered.and(succeeded), data: rs.data, done, fault, Fault, all_ones, status, whenDone };
}
