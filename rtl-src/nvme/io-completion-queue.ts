// I/O completion queue 1, with no host RAM (PROTOCOL_FACTS §E.2–E.3): the SSD's memory writes to
// the I/O CQ region (HostMemoryMap.ioCq, routed here by host_memory_router) are parsed as they
// stream in, as admin_engine parses the admin CQ, and every new entry leaves as one record
// {cid, status, sq_head} on `record`. Nothing of an entry is stored once its record is out.
//
//  - Parsing. Each DW is taken at the address it lands on (entries may share a TLP or be split over
//    TLPs, at any DW offset). DW2 (SQ head) is kept as it passes; DW3 (CID, phase, status) decides,
//    a cycle after it arrives: an entry at the head position whose phase tag is the expected phase
//    is new, so a record is made and the head advances; the expected phase inverts when the head
//    wraps at the runtime queue size `queue_entries` (what the bring-up created, at most `entries`).
//    An entry written with the expected phase away from the head is counted (`misplaced_entries`)
//    and ignored; so is every DW of a poisoned write (`poisoned_writes`). The CID is not judged
//    here: the I/O engine knows which commands are in flight.
//  - Records. With `recordFifoDepth` > 0 they queue in a small FIFO (LUT RAM) so that a busy
//    consumer never makes the parser drop an entry: the payload stream is held (tready low) while
//    the FIFO could not take the records of the beats already accepted. With 0 (what the I/O
//    engine uses: it takes a record every cycle) a record is offered for one cycle, the cycle its
//    DW3 is judged, straight from the parser's registers, and the writes are never held; its `cid`
//    and `status` also hold in the cycle after (the next DW3 is two beats later at least), its
//    `sq_head` does not.
//  - Head doorbell, coalesced. `doorbell_due` is high while the head has moved past the value last
//    rung; the engine rings the CQ head doorbell with `cq_head` when its access port is free, then
//    reports the value it wrote on `doorbell_rung_*`. One doorbell covers every entry consumed
//    since the last.
//  - `reset_queues` (a pulse, after every controller enable) puts the head at 0, the expected phase
//    at 1 and the rung head at 0.
//
// Every output is a register or a decode of registers (the record is the FIFO's output register, or
// with no FIFO the judged DW3's registers and the judgement).
import { C, Module, type Value, bitsFor, cat, mux } from "../../hdl/index.ts";
import { defineBundle } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import { SQ_INDEX_BITS } from "./io-interfaces.ts";
import { CQE_BYTES, CqeField } from "./nvme-cqe.ts";
import type { NvmeField } from "./nvme-field.ts";

/** Most entries the I/O CQ region holds. */
export const IO_CQ_MAX_ENTRIES = HostMemoryMap.ioCq.bytes / CQE_BYTES;
/** Bits of a CQ head index. */
export const CQ_INDEX_BITS = bitsFor(IO_CQ_MAX_ENTRIES - 1);

/** One new completion entry: its CID, Status Field without the phase tag, and SQ head pointer. */
export const ioCompletionRecord = defineBundle("io_completion_record", {
  cid: ["forward", CqeField.cid.width],
  /** {DNR, M, CRD[1:0], SCT[2:0], SC[7:0]}. */
  status: ["forward", CqeField.status.width],
  /** SQHD, cut to an SQ index (the SQ has at most 2^SQ_INDEX_BITS entries). */
  sq_head: ["forward", SQ_INDEX_BITS],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

export interface IoCompletionQueueParams {
  /** Largest queue the bring-up may create (queue_entries never exceeds it). */
  entries: number;
  /**
   * Records the FIFO holds for a consumer that pauses (0: none; the consumer then takes every
   * record the cycle it is offered, `record.ready` is not read, and nothing holds the writes).
   */
  recordFifoDepth: number;
}

/** A FIFO deep enough for the records of beats already accepted, and some slack. */
export const RECORD_FIFO_DEPTH = 8;
/** Records the parser may still make from beats already accepted (the beat, the judged DW3, the registered push). */
const RECORDS_IN_FLIGHT = 3;
const COUNTER_BITS = 16;

export function checkIoCompletionQueueParams(p: IoCompletionQueueParams): void {
  if (!Number.isInteger(p.entries) || p.entries < 2 || p.entries > IO_CQ_MAX_ENTRIES) {
    throw new RangeError(`io_completion_queue: entries ${p.entries} is not an integer in 2..${IO_CQ_MAX_ENTRIES} (the I/O CQ region of the host-memory map)`);
  }
  if (p.recordFifoDepth !== 0 && (!Number.isInteger(p.recordFifoDepth) || p.recordFifoDepth < RECORDS_IN_FLIGHT + 1)) {
    throw new RangeError(`io_completion_queue: recordFifoDepth ${p.recordFifoDepth} is neither 0 nor an integer of at least ${RECORDS_IN_FLIGHT + 1}`);
  }
}

/**
 * I/O completion queue 1: the SSD's CQ entries parsed as they are written, one record per new
 * entry, the head and phase kept, the head doorbell asked for when due.
 */
export function ioCompletionQueue(p: IoCompletionQueueParams) {
  checkIoCompletionQueueParams(p);
  const m = new Module(`io_completion_queue_q${p.entries}_f${p.recordFifoDepth}`);
  m.parameters({ ...p, ioCq: `0x${HostMemoryMap.ioCq.base.toString(16)}` });

  /** Entries of the I/O CQ the bring-up created (2..entries). */
  const queue_entries = m.input(bitsFor(p.entries));
  /** A pulse after every controller enable: head 0, expected phase 1. */
  const reset_queues = m.input(1);
  /** The SSD's memory writes to the I/O CQ region (from host_memory_router). */
  const cq_write = m.port(receivedMemoryWrite, "slave");
  const cq_write_data = m.port(payloadStream, "slave");
  const record = m.port(ioCompletionRecord, "master");
  /** The engine rang the CQ head doorbell with `doorbell_rung_head` (a strobe). */
  const doorbell_rung = m.input(1);
  const doorbell_rung_head = m.input(CQ_INDEX_BITS);
  const cq_head = m.output(CQ_INDEX_BITS);
  const cq_phase = m.output(1, { reset: 1 });
  /** The head moved since the last doorbell: ring it with `cq_head`. */
  const doorbell_due = m.output(1);
  const misplaced_entries = m.output(COUNTER_BITS);
  const poisoned_writes = m.output(COUNTER_BITS);

  const cqDwBits = Math.log2(HostMemoryMap.ioCq.bytes / 4);
  const entryDwBits = Math.log2(CQE_BYTES / 4);
  if (!Number.isInteger(cqDwBits)) throw new RangeError("io_completion_queue: the I/O CQ region is not a power of two");

  // ---- the writes, DW by DW at their landing address ----
  const in_tlp = m.signal(1);
  const dw_a = m.signal(cqDwBits, { resetless: true });
  /** Lane b's DW: the next one. */
  const dw_b = dw_a.addWrap(1);
  const write_poisoned = m.signal(1, { resetless: true });
  const header_taken = cq_write.signals.valid.and(in_tlp.not());
  const write_dw = cq_write.signals.address.bits(cqDwBits + 1, 2);
  const recordBits = CqeField.cid.width + CqeField.status.width + SQ_INDEX_BITS;
  const fifo = p.recordFifoDepth > 0 ? m.instance(syncFifo({ width: recordBits, depth: p.recordFifoDepth }), { name: "record_fifo" }) : undefined;
  /** Room for the records of every beat accepted so far and of this one. */
  const room = fifo ? fifo.ports.count.le(p.recordFifoDepth - RECORDS_IN_FLIGHT) : C(1, 1);
  const beat = cq_write_data.signals.tvalid.and(in_tlp).and(room);
  m.If(header_taken, () => {
    m.sync(dw_a, write_dw);
    m.sync(write_poisoned, cq_write.signals.poisoned);
  }).Elif(beat, () => m.sync(dw_a, dw_a.addWrap(2)));
  m.If(header_taken, () => m.sync(in_tlp, 1)).Elif(beat.and(cq_write_data.signals.tlast), () => m.sync(in_tlp, 0));
  m.comb(cq_write.signals.ready, in_tlp.not());
  m.comb(cq_write_data.signals.tready, in_tlp.and(room));
  m.waiveUnread(cq_write_data.signals.tkeep, "DW-granular: bit 4 tells whether the high DW is there");
  m.waiveUnread(cq_write.signals.address, "the I/O CQ region's DW index is all that matters: the router sends only addresses inside it");
  m.waiveUnread(cq_write.signals.length_dw, "the payload stream's tlast ends the write");
  m.waiveUnread(cq_write.signals.first_be, "a controller writes whole CQ entries: every DW is taken whole");
  m.waiveUnread(cq_write.signals.last_be, "a controller writes whole CQ entries: every DW is taken whole");

  const dwInEntry = (index: Value) => index.bits(entryDwBits - 1, 0);
  const usable = beat.and(write_poisoned.not());
  const lane_b_valid = cq_write_data.signals.tkeep.bit(4);
  const data_a = cq_write_data.signals.tdata.bits(31, 0);
  const data_b = cq_write_data.signals.tdata.bits(63, 32);
  const dwIndexOf = (f: NvmeField) => f.offset / 4;
  const a_is = (f: NvmeField) => dwInEntry(dw_a).eq(dwIndexOf(f));
  const b_is = (f: NvmeField) => lane_b_valid.and(dwInEntry(dw_b).eq(dwIndexOf(f)));
  const field = (dw: typeof data_a, f: NvmeField) => dw.bits(f.msb, f.lsb);
  // SQ head (DW2) of the latest entry written: an entry's DW2 comes with or before its DW3.
  const entry_sq_head = m.signal(SQ_INDEX_BITS, { resetless: true });
  m.If(usable.and(a_is(CqeField.sqhd)), () => m.sync(entry_sq_head, field(data_a, CqeField.sqhd).trunc(SQ_INDEX_BITS)))
    .Elif(usable.and(b_is(CqeField.sqhd)), () => m.sync(entry_sq_head, field(data_b, CqeField.sqhd).trunc(SQ_INDEX_BITS)));
  // DW3 (CID, phase, status), judged the cycle after it arrives, and kept until the next DW3: that
  // is two beats later at least (an entry is four DWs, and a write's first beat follows its
  // header), so it holds the cycle it is judged and the one after.
  const dw3_seen = m.signal(1);
  const dw3_value = m.signal(32, { resetless: true });
  const dw3_entry = m.signal(cqDwBits - entryDwBits, { resetless: true });
  const dw3_in_a = usable.and(a_is(CqeField.cid));
  const dw3_in_b = usable.and(b_is(CqeField.cid));
  m.sync(dw3_seen, dw3_in_a.or(dw3_in_b));
  m.If(dw3_in_a, () => {
    m.sync(dw3_value, data_a);
    m.sync(dw3_entry, dw_a.bits(cqDwBits - 1, entryDwBits));
  }).Elif(dw3_in_b, () => {
    m.sync(dw3_value, data_b);
    m.sync(dw3_entry, dw_b.bits(cqDwBits - 1, entryDwBits));
  });
  statusCounter(m, poisoned_writes, header_taken.and(cq_write.signals.poisoned), "poisoned_count");

  // ---- head and phase ----
  const last_index = m.signal(CQ_INDEX_BITS, { resetless: true });
  m.sync(last_index, queue_entries.zext(CQ_INDEX_BITS + 1).subWrap(1).trunc(CQ_INDEX_BITS));
  const phase_new = field(dw3_value, CqeField.phase).eq(cq_phase);
  const at_head = dw3_entry.eq(cq_head);
  const new_entry = dw3_seen.and(phase_new).and(at_head);
  statusCounter(m, misplaced_entries, dw3_seen.and(phase_new).and(at_head.not()), "misplaced_count");
  m.If(reset_queues, () => {
    m.sync(cq_head, 0);
    m.sync(cq_phase, 1);
  }).Elif(new_entry, () => {
    const wraps = cq_head.eq(last_index);
    m.sync(cq_head, mux(wraps, C(0, CQ_INDEX_BITS), cq_head.addWrap(1)));
    m.If(wraps, () => m.sync(cq_phase, cq_phase.not()));
  });

  // ---- records ----
  const recordOf = () => cat(field(dw3_value, CqeField.cid), field(dw3_value, CqeField.status), entry_sq_head);
  let record_data: Value;
  if (fifo) {
    // Registered on the way into the FIFO, so that its count logic starts from flip-flops.
    const push_valid = m.signal(1);
    const push_data = m.signal(recordBits, { resetless: true });
    m.sync(push_valid, new_entry);
    m.sync(push_data, recordOf());
    m.comb(fifo.ports.in.signals.valid, push_valid);
    m.comb(fifo.ports.in.signals.data, push_data);
    // fifo in.ready is never low when a record comes: beats are taken only while the FIFO has room for their records.
    m.comb(record.signals.valid, fifo.ports.out.signals.valid);
    m.comb(fifo.ports.out.signals.ready, record.signals.ready);
    record_data = fifo.ports.out.signals.data;
  } else {
    // Offered straight from the parser's registers in the cycle the entry is judged new: DW3 and
    // the SQ head of its entry stay in place that cycle (the next entry's DW2 is at least a beat
    // later), and the consumer takes the record then.
    m.comb(record.signals.valid, new_entry);
    m.waiveUnread(record.signals.ready, "recordFifoDepth 0: the consumer takes every record the cycle it is offered");
    record_data = recordOf();
  }
  const statusLsb = SQ_INDEX_BITS;
  const cidLsb = statusLsb + CqeField.status.width;
  m.comb(record.signals.cid, record_data.bits(cidLsb + CqeField.cid.width - 1, cidLsb));
  m.comb(record.signals.status, record_data.bits(cidLsb - 1, statusLsb));
  m.comb(record.signals.sq_head, record_data.bits(statusLsb - 1, 0));

  // ---- the head doorbell ----
  const rung_head = m.signal(CQ_INDEX_BITS);
  m.If(reset_queues, () => m.sync(rung_head, 0)).Elif(doorbell_rung, () => m.sync(rung_head, doorbell_rung_head));
  m.comb(doorbell_due, rung_head.ne(cq_head));

  return m.exposing({
    queue_entries,
    reset_queues,
    cq_write,
    cq_write_data,
    record,
    doorbell_rung,
    doorbell_rung_head,
    cq_head,
    cq_phase,
    doorbell_due,
    misplaced_entries,
    poisoned_writes,
  });
}
