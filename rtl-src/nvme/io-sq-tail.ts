// Inline logic for io_engine; builds no module: the I/O submission queue's tail, its room and its
// tail doorbell's bookkeeping. The tail advances by one (modulo the queue's entries) per entry
// written; one entry always stays free, so the tail never reaches the head the SSD reports from
// behind and at most entries - 1 are in the queue; a tail doorbell is due while the tail differs from
// the value last rung. Its own file so that the formal proof `io_sq_tail` (rtl-src/formal-proofs.ts)
// proves the very logic the engine builds.
//
// Timing: every output is a register. The room flag is two registers behind the tail (the next
// tail index, then its compare with the head), so the engine writes an entry at most every third
// cycle (its front takes more than that per piece): an entry written while `sq_room` is high always
// had room.
import { C, type Module, type Signal, type Value, mux } from "../../hdl/index.ts";

/** The registers io_sq_tail drives (declared by the engine: some are its outputs, some are read before this logic is placed). */
export interface SqTailRegisters {
  /** The tail: the index of the next entry to write. */
  sq_tail: Signal;
  /** The entry after the tail is not the head: one more entry may be written. */
  sq_room: Signal;
  /** The tail value the last successful SQ tail doorbell wrote. */
  sq_tail_rung: Signal;
  /** A tail doorbell is due: the tail differs from the value last rung. */
  sq_due: Signal;
}

export interface SqTailInputs {
  /** The queue's entries (2..2^width; at most what sq_tail can index). */
  queue_entries: Value;
  /** An entry is written at the tail this cycle. */
  submit: Value;
  /** The queues restart: tail, head and rung value back to 0. */
  restart: Value;
  /** The SQ head the SSD reports (SQHD of its completions). */
  sq_head: Value;
  /** A tail doorbell succeeded; it wrote `rung_value`. */
  rung: Value;
  rung_value: Value;
}

/** Returns the internal registers (for the proof's invariants). */
export function ioSqTail(m: Module, r: SqTailRegisters, i: SqTailInputs) {
  const bits = r.sq_tail.width;
  const last_sq_index = m.signal(bits, { resetless: true });
  m.sync(last_sq_index, i.queue_entries.zext(bits + 1).subWrap(1).trunc(bits));
  const sq_tail_next = m.signal(bits, { resetless: true });
  m.sync(sq_tail_next, mux(r.sq_tail.eq(last_sq_index), C(0, bits), r.sq_tail.addWrap(1)));
  m.If(i.restart, () => m.sync(r.sq_tail, 0)).Elif(i.submit, () => m.sync(r.sq_tail, sq_tail_next));
  m.sync(r.sq_room, sq_tail_next.ne(i.sq_head));
  m.sync(r.sq_due, r.sq_tail.ne(r.sq_tail_rung).and(i.restart.not()));
  m.If(i.restart, () => m.sync(r.sq_tail_rung, 0)).Elif(i.rung, () => m.sync(r.sq_tail_rung, i.rung_value));
  return { last_sq_index, sq_tail_next };
}
