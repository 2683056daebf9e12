// Inline logic for io_engine; builds no module: the flags of its command slots. A slot is one
// NVMe command in flight, and its index is the command's CID. Each slot has a busy flag (set as
// a piece is submitted into it, cleared as its completion is judged, all cleared by a queue
// restart) and a poisoned flag (a poisoned write to its read window came since its submission); the
// lowest free slot is offered to the front (lib/slot-allocator.ts). Its own file so that the formal
// proof `io_slot_flags` (rtl-src/formal-proofs.ts) proves the very logic the engine builds: a CID
// is never handed to a second command while the first is in flight.
//
// The engine places the logic in four calls, where its registers have always been declared and
// assigned, so that its emitted Verilog keeps its order: the flags and the offer
// (`slotFlagRegisters`), the slot taken with a piece (`takeOfferedSlot`), a completion record's
// lookup and judgement (`judgeCompletion`), and the flags' updates (`updateSlotFlags`).
//
// Timing. The offer lags the busy flags by two cycles (slot-allocator.ts), so the front takes a
// slot at most every fourth cycle (its cut of a piece takes longer): a slot it takes was free two
// cycles before, and nothing but a submission sets a flag. A completion record (CID, status) is
// offered for one cycle and holds the next (io_completion_queue without a record FIFO: the next
// record is two cycles later at least); its slot's flags are looked up in two steps (a group of 8
// as the record comes, the flag in the group the cycle after), so neither is a 32- or 64-way choice
// in one cycle.
import { C, type Module, type Signal, type Value, bitsFor, cat } from "../../hdl/index.ts";
import { type SlotOffer, slotOffer } from "../lib/slot-allocator.ts";

/** log2 of the flags in a group looked up as a record comes (8). */
const LOOKUP_GROUP_BITS = 3;

export interface SlotFlags {
  /** Slots built (1..64): the CIDs 0..slots-1. */
  slots: number;
  /** Bits of a slot index. */
  slotBits: number;
  /** Bits of a lookup group's index within it (at most slotBits). */
  groupBits: number;
  /** One per index 0..2^slotBits-1; none beyond the slots built (never free, never poisoned). */
  busy: readonly (Signal | undefined)[];
  poisoned: readonly (Signal | undefined)[];
  /** The lowest slot free two cycles before (registers). */
  offer: SlotOffer;
}

/** Declares the busy and poisoned flags of `slots` slots (named busy_<i>, poisoned_<i>) and the offer (free_slot_*). */
export function slotFlagRegisters(m: Module, slots: number): SlotFlags {
  const slotBits = Math.max(1, bitsFor(slots - 1));
  const slotFlags = 2 ** slotBits;
  const busy = Array.from({ length: slotFlags }, (_, i) => (i < slots ? m.signal(1, { name: `busy_${i}` }) : undefined));
  const poisoned = Array.from({ length: slotFlags }, (_, i) => (i < slots ? m.signal(1, { name: `poisoned_${i}`, resetless: true }) : undefined));
  const offer = slotOffer(m, busy.map((b) => (b ? b.not() : C(0, 1))), "free_slot");
  return { slots, slotBits, groupBits: Math.min(slotBits, LOOKUP_GROUP_BITS), busy, poisoned, offer };
}

/** The register `issue_slot`: the slot offered in the cycle the front takes a piece (`take`), held until the next. */
export function takeOfferedSlot(m: Module, f: SlotFlags, take: Value): Signal {
  const issue_slot = m.signal(f.slotBits, { resetless: true });
  m.If(take, () => m.sync(issue_slot, f.offer.index));
  return issue_slot;
}

export interface CompletionRecord {
  /** A record this cycle (at most every other cycle). */
  valid: Value;
  /** Its CID; holds the cycle after the record. */
  cid: Value;
}

export interface CompletionJudgement {
  /** A record came in the cycle before (S1). */
  s1_valid: Signal;
  /** Its CID as a slot index (the record's CID holds in S1). */
  s1_slot: Value;
  /** Its CID names a slot (0..slots-1). */
  s1_in_range: Signal;
  /** Its slot was in flight as it came: it completes that slot's command; else it is a stray. */
  s1_ok: Value;
  /** Its slot's poisoned flag as it came. */
  s1_poisoned: Value;
  /** Its slot's group of busy flags as it came (the flag is bit slot % 2^groupBits). */
  s1_busy_group: Signal;
  /** Its slot's flag is to be cleared (S1, a slot in range, not faulted). */
  s1_frees: Value;
}

/**
 * A completion record's slot flags, looked up as it comes and judged the cycle after (S1): its
 * slot was in flight (its busy flag, unless the previous record freed it since the group was
 * read), so it completes that command; else it is a stray. While `faulted` no record frees a slot
 * (every piece retires with the fault's class; the restart frees them all).
 */
export function judgeCompletion(m: Module, f: SlotFlags, record: CompletionRecord, faulted: Value): CompletionJudgement {
  const { slotBits, groupBits } = f;
  const busyVector = cat(...f.busy.map((b) => b ?? C(1, 1)).reverse());
  const poisonedVector = cat(...f.poisoned.map((b) => b ?? C(0, 1)).reverse());
  const s1_valid = m.signal(1);
  /** The record's CID and status hold the cycle after it (io_completion_queue without a FIFO). */
  const s1_slot = record.cid.trunc(slotBits);
  /** The CID names a slot (0..slots-1). */
  const s1_in_range = m.signal(1, { resetless: true });
  const groupOf = (vector: Value) =>
    slotBits > groupBits ? vector.sliceAt(cat(record.cid.bits(slotBits - 1, groupBits), C(0, groupBits)), 2 ** groupBits) : vector;
  const s1_busy_group = m.signal(2 ** groupBits, { resetless: true });
  const s1_poisoned_group = m.signal(2 ** groupBits, { resetless: true });
  m.sync(s1_valid, record.valid);
  m.If(record.valid, () => {
    m.sync(s1_busy_group, groupOf(busyVector));
    m.sync(s1_poisoned_group, groupOf(poisonedVector));
    m.sync(s1_in_range, record.cid.lt(f.slots));
  });
  const freed_last = m.signal(1);
  const freed_last_slot = m.signal(slotBits, { resetless: true });
  const inGroup = (group: Value) => group.bitAt(s1_slot.trunc(groupBits));
  const s1_ok = s1_valid.and(s1_in_range).and(inGroup(s1_busy_group)).and(freed_last.and(freed_last_slot.eq(s1_slot)).not());
  const s1_frees = s1_valid.and(s1_in_range).and(faulted.not());
  m.sync(freed_last, s1_frees);
  m.sync(freed_last_slot, s1_slot);
  return { s1_valid, s1_slot, s1_in_range, s1_ok, s1_poisoned: inGroup(s1_poisoned_group), s1_busy_group, s1_frees };
}

export interface SlotFlagUpdates {
  /** The slot the piece submitted this cycle takes (takeOfferedSlot). */
  issue_slot: Value;
  /** A piece reaches the SSD in slot `issue_slot` (the cycle after the front took it). */
  submit: Value;
  /** The queues restart: every slot is free (no command of before can complete any more). */
  restart: Value;
  /** A poisoned write to slot `poisoned_slot`'s read window. */
  poisoned_valid: Value;
  poisoned_slot: Value;
}

/**
 * Sets and clears the flags: busy from the submission until its completion is judged (or a
 * restart). A record frees its slot only if the slot was busy as the record came (the group read
 * then): a record whose CID was not in flight (a stray or repeated entry of a faulty SSD) changes
 * nothing, even when a new command is submitted into that slot in the very cycle it comes, so the
 * slot is not offered again while that command is at the SSD.
 */
export function updateSlotFlags(m: Module, f: SlotFlags, judged: CompletionJudgement, u: SlotFlagUpdates): void {
  f.busy.forEach((b, i) => {
    if (!b) return;
    const issued = u.submit.and(u.issue_slot.eq(i));
    m.If(u.restart, () => m.sync(b, 0))
      .Elif(issued, () => m.sync(b, 1))
      .Elif(judged.s1_frees.and(judged.s1_slot.eq(i)).and(judged.s1_busy_group.bit(i % 2 ** f.groupBits)), () => m.sync(b, 0));
    m.If(issued, () => m.sync(f.poisoned[i]!, 0)).Elif(u.poisoned_valid.and(u.poisoned_slot.eq(i)), () => m.sync(f.poisoned[i]!, 1));
  });
}
