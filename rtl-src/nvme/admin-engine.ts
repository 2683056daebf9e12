// The admin queue, with no host RAM (PROTOCOL_FACTS §E.1–E.3; the reference driver's submitAdmin
// and sim/host/queues.ts). It takes one admin command at a time on `command` and answers it on
// `completion`:
//
//  - Submission. The command is held in registers and owns the SQ slot at the tail. The SQ tail
//    doorbell (BAR0 + 0x1000) is rung with tail + 1 through the access port. When the SSD reads
//    the admin SQ region (the completer's data requests, routed here by host_memory_router), the
//    answer is built on the fly: the held command's 64-byte entry at its slot (opcode, CID, NSID,
//    PRP1, CDW10, CDW11 from the command, every other DW zero), zeros everywhere else. A data
//    request is answered with exactly its DWs, in order, before the next request is taken.
//  - Completion. The SSD's memory writes to the admin CQ region are parsed as they stream in, DW by
//    DW at the address each DW lands on: DW0 of an entry is kept; DW3 (CID, phase, status) decides,
//    a cycle later (PROTOCOL_FACTS §I #4): an entry at the head position whose phase tag is the
//    expected phase is new, so the head advances (the phase inverts at the wrap). A new entry
//    whose CID is the held command's completes it; any other new entry is consumed and counted
//    (`stray_entries`). Entries may share a TLP or be split over TLPs; a poisoned write is
//    ignored and counted, and so is an entry written with the expected phase away from the head
//    (`misplaced_entries`). The CQ head doorbell (BAR0 + 0x1000 + (4 << DSTRD)) is rung with the
//    new head, then the command is answered with the entry's status and DW0.
//  - Failures. No completion within `adminTimeoutCycles` of the SQ doorbell (`formatTimeoutCycles`
//    for a Format NVM, whose secure erase of a whole namespace may take minutes): answered timed_out.
//    A doorbell write the access port reports failed: answered pcie_error (a failed SQ doorbell
//    leaves the tail where it was). Either way the engine takes the next command; a completion
//    that comes late is consumed as a stray entry. `reset_queues` (a pulse) puts tail, head and
//    phase back to their initial state (tail 0, head 0, expected phase 1), as every controller
//    enable starts the queues afresh (PROTOCOL_FACTS §I #3); a command still waiting for its
//    completion then is answered timed_out.
//
// CIDs are ADMIN_CID_PREFIX with an 8-bit count in the low byte: distinct for 256 commands in a
// row, never 0 (what a zero SQ entry would carry) and never FFFFh (reserved).
//
// Every output is a register or a decode of registers: the SQ response beat and the command's
// answer sit in registers, the readies are decodes of state registers. Doorbell addresses are
// bar0_address OR the offset, which is the sum because BAR0 is aligned to its size and holds the
// doorbells.
import { C, Module, type Signal, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "../lib/stream-payload.ts";
import { ACCESS_KIND_BITS, AccessKind, pcieAccessRequest, pcieAccessResponse } from "../pcie/pcie-access.ts";
import { CPL_STATUS_SC } from "../tlp/tlp-constants.ts";
import { completerDataRequest, payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import { AdminOpcode, adminCommand, adminCompletion } from "./admin-command.ts";
import { CQE_BYTES, CqeField } from "./nvme-cqe.ts";
import type { NvmeField } from "./nvme-field.ts";
import { CapField, doorbellOffset } from "./nvme-registers.ts";
import { SQE_BYTES, SqeField } from "./nvme-sqe.ts";

export interface AdminEngineParams {
  /** Entries of the admin SQ and CQ, as nvme_init programs them in AQA. */
  adminQueueEntries: number;
  /** Cycles from the SQ doorbell to the completion entry before the command is answered timed_out. */
  adminTimeoutCycles: number;
  /** The same for a Format NVM (default adminTimeoutCycles): a user-data erase of a large namespace takes minutes. */
  formatTimeoutCycles?: number;
}

/** The CID's high byte; the low byte counts commands. */
export const ADMIN_CID_PREFIX = 0xa0;
const CID_COUNT_BITS = 8;
const COUNTER_BITS = 16;

function checkParams(p: AdminEngineParams): void {
  const max = Math.min(HostMemoryMap.adminSq.bytes / SQE_BYTES, HostMemoryMap.adminCq.bytes / CQE_BYTES);
  if (!Number.isInteger(p.adminQueueEntries) || p.adminQueueEntries < 2 || p.adminQueueEntries > max) {
    throw new RangeError(`admin_engine: adminQueueEntries ${p.adminQueueEntries} is not an integer in 2..${max} (the admin queue regions of the host-memory map)`);
  }
  for (const key of ["adminTimeoutCycles", "formatTimeoutCycles"] as const) {
    const cycles = p[key];
    if (cycles === undefined && key === "formatTimeoutCycles") continue;
    if (!Number.isInteger(cycles) || cycles! < 1 || cycles! > 2 ** 40) throw new RangeError(`admin_engine: ${key} ${cycles} is not an integer in 1..2^40`);
  }
}

/** The command fields the SQ entry carries, and where the SQE table puts them. */
interface EntryField {
  field: NvmeField;
  value: Value;
}

/**
 * The 16 DWs of the SQ entry built from `fields` (each placed by the SQE table, the unit's other
 * bits zero): DW i as a value, zero where no field lies.
 */
function entryDws(fields: readonly EntryField[]): Value[] {
  const dws: (Value | undefined)[] = Array.from({ length: SQE_BYTES / 4 }, () => undefined);
  for (const { field, value } of fields) {
    const unitBits = 8 * field.size;
    if (field.offset % 4 !== 0 || field.size % 4 !== 0) throw new RangeError(`SQE field at byte ${field.offset} (${field.size} bytes) is not made of whole DWs`);
    if (value.width > field.width) throw new RangeError(`SQE field at byte ${field.offset}: ${value.width} bits do not fit its ${field.width}`);
    const placed = field.lsb === 0 ? value.zext(unitBits) : cat(value.zext(unitBits - field.lsb), C(0, field.lsb));
    for (let k = 0; k < field.size / 4; k++) {
      const index = field.offset / 4 + k;
      const part = placed.bits(32 * k + 31, 32 * k);
      dws[index] = dws[index] === undefined ? part : dws[index]!.or(part);
    }
  }
  return dws.map((dw) => dw ?? C(0, 32));
}

/**
 * One admin command at a time: builds its SQ entry when the SSD fetches it, rings the SQ tail
 * doorbell, parses the completion entry from the SSD's write to the admin CQ, rings the CQ head
 * doorbell and answers with the entry's status and DW0.
 */
export function adminEngine(p: AdminEngineParams) {
  checkParams(p);
  const formatTimeoutCycles = p.formatTimeoutCycles ?? p.adminTimeoutCycles;
  const formatOwnTimeout = formatTimeoutCycles !== p.adminTimeoutCycles;
  const m = new Module(`admin_engine_q${p.adminQueueEntries}_t${p.adminTimeoutCycles}${formatOwnTimeout ? `_f${formatTimeoutCycles}` : ""}`);
  m.parameters({ ...p, adminSq: `0x${HostMemoryMap.adminSq.base.toString(16)}`, adminCq: `0x${HostMemoryMap.adminCq.base.toString(16)}`, cidPrefix: `0x${ADMIN_CID_PREFIX.toString(16)}` });
  const entries = p.adminQueueEntries;

  /** The SSD's BAR0 (aligned to its size, below 4 GiB). */
  const bar0_address = m.input(32);
  /** CAP.DSTRD: the doorbell stride is 4 << dstrd bytes. */
  const dstrd = m.input(CapField.dstrd.width);
  /** A pulse after every controller enable: tail, head and phase back to their initial state. */
  const reset_queues = m.input(1);
  const command = m.port(adminCommand, "slave");
  const completion = m.port(adminCompletion, "master");
  const access_request = m.port(pcieAccessRequest, "master");
  const access_response = m.port(pcieAccessResponse, "slave");
  /** The admin SQ region's data requests (from host_memory_router) and their answers. */
  const sq_request = m.port(completerDataRequest, "slave");
  const sq_response = m.port(payloadStream, "master");
  /** The SSD's memory writes to the admin CQ region (from host_memory_router). */
  const cq_write = m.port(receivedMemoryWrite, "slave");
  const cq_write_data = m.port(payloadStream, "slave");
  const slotBits = bitsFor(entries - 1);
  /** Queue state, for status and tests. */
  const sq_tail = m.output(slotBits);
  const cq_head = m.output(slotBits);
  const cq_phase = m.output(1, { reset: 1 });
  /** New CQ entries that answered no command in flight (wrong CID, or none in flight). */
  const stray_entries = m.output(COUNTER_BITS);
  /** CQ entries written with the expected phase at a position other than the head. */
  const misplaced_entries = m.output(COUNTER_BITS);
  /** Poisoned writes to the admin CQ, ignored. */
  const poisoned_writes = m.output(COUNTER_BITS);

  const sqDwBits = Math.log2(HostMemoryMap.adminSq.bytes / 4);
  const cqDwBits = Math.log2(HostMemoryMap.adminCq.bytes / 4);
  const sqEntryDwBits = Math.log2(SQE_BYTES / 4);
  const cqEntryDwBits = Math.log2(CQE_BYTES / 4);
  if (!Number.isInteger(sqDwBits) || !Number.isInteger(cqDwBits)) throw new RangeError("admin_engine: the admin queue regions are not powers of two");
  const nextSlot = (slot: Value) => mux(slot.eq(entries - 1), C(0, slotBits), slot.addWrap(1));

  // ---- the held command ----
  const cmd_opcode = m.signal(8, { resetless: true });
  const cmd_nsid = m.signal(32, { resetless: true });
  const cmd_prp1 = m.signal(32, { resetless: true });
  const cmd_cdw10 = m.signal(32, { resetless: true });
  const cmd_cdw11 = m.signal(32, { resetless: true });
  const cid_count = m.signal(CID_COUNT_BITS);
  const CID_PREFIX = constant("ADMIN_CID_PREFIX", ADMIN_CID_PREFIX, 16 - CID_COUNT_BITS);
  const cmd_cid = cat(CID_PREFIX, cid_count);
  const cmd_slot = m.signal(slotBits, { resetless: true });
  /** A command is held: its entry is served and its completion awaited. */
  const pending = m.signal(1);

  // ---- SQ reads: the entry built on the fly ----
  const sq_busy = m.signal(1);
  // The DW index of the response beat's low lane; the high lane's is the next one (see lane_b).
  const sq_dw_a = m.signal(sqDwBits, { resetless: true });
  const sq_left = m.signal(completerDataRequest.fields.length_dw.shape.width, { resetless: true });
  const sq_out_valid = m.signal(1);
  const sq_out_data = m.signal(64, { resetless: true });
  const sq_out_keep = m.signal(8, { resetless: true });
  const sq_out_last = m.signal(1, { resetless: true });
  const dws = entryDws([
    { field: SqeField.opcode, value: cmd_opcode },
    { field: SqeField.cid, value: cmd_cid },
    { field: SqeField.nsid, value: cmd_nsid },
    { field: SqeField.prp1, value: cmd_prp1 },
    { field: SqeField.cdw10, value: cmd_cdw10 },
    { field: SqeField.cdw11, value: cmd_cdw11 },
  ]);
  /** The DW at region DW index `index`: the held entry's DW at its slot, zero elsewhere. */
  // `next` picks the DW after `index` (the high lane): the entry's DW after it, in the next entry
  // when `index` is an entry's last DW.
  const laneDw = (index: Signal, next: boolean, name: string): Signal => {
    const dw = m.signal(32, { name: `${name}_entry_dw` });
    const entryDws = dws.length;
    m.Switch(index.bits(sqEntryDwBits - 1, 0), (s) => {
      dws.forEach((_, i) => s.Case(i, () => m.comb(dw, dws[next ? (i + 1) % entryDws : i])));
    });
    const entry = index.bits(sqDwBits - 1, sqEntryDwBits);
    const slot = cmd_slot.zext(sqDwBits - sqEntryDwBits);
    const lastDw = index.bits(sqEntryDwBits - 1, 0).eq(entryDws - 1);
    const here = pending.and(next ? mux(lastDw, entry.addWrap(1).eq(slot), entry.eq(slot)) : entry.eq(slot));
    const lane = m.signal(32, { name });
    m.comb(lane, mux(here, dw, C(0, 32)));
    return lane;
  };
  const lane_a = laneDw(sq_dw_a, false, "sq_lane_a");
  const lane_b = laneDw(sq_dw_a, true, "sq_lane_b");
  const sq_accept = sq_request.signals.valid.and(sq_busy.not());
  const sq_advance = sq_busy.and(sq_out_valid.not().or(sq_response.signals.tready));
  const sq_final = sq_left.le(2);
  const request_dw = sq_request.signals.address.bits(sqDwBits + 1, 2);
  m.If(sq_accept, () => {
    m.sync(sq_dw_a, request_dw);
    m.sync(sq_left, sq_request.signals.length_dw);
  }).Elif(sq_advance, () => {
    m.sync(sq_dw_a, sq_dw_a.addWrap(2));
    m.sync(sq_left, mux(sq_final, C(0, sq_left.width), sq_left.subWrap(2)));
  });
  m.If(sq_accept, () => m.sync(sq_busy, 1)).Elif(sq_advance.and(sq_final), () => m.sync(sq_busy, 0));
  m.If(sq_advance, () => {
    m.sync(sq_out_data, cat(mux(sq_left.gt(1), lane_b, C(0, 32)), lane_a));
    m.sync(sq_out_keep, mux(sq_left.gt(1), KEEP_BOTH_DW, KEEP_LOW_DW));
    m.sync(sq_out_last, sq_final);
  });
  m.If(sq_advance, () => m.sync(sq_out_valid, 1)).Elif(sq_response.signals.tready, () => m.sync(sq_out_valid, 0));
  m.comb(sq_request.signals.ready, sq_busy.not());
  m.comb(sq_response.signals.tvalid, sq_out_valid);
  m.comb(sq_response.signals.tdata, sq_out_data);
  m.comb(sq_response.signals.tkeep, sq_out_keep);
  m.comb(sq_response.signals.tlast, sq_out_last);
  m.waiveUnread(sq_request.signals.address, "the admin SQ region's DW index is all that matters: the router sends only addresses inside it");

  // ---- CQ writes: parsed as they stream in ----
  const cq_in_tlp = m.signal(1);
  // The DW index of the beat's low lane; the high lane's is the next one (no register of its own:
  // see b_is and dw3_entry).
  const cq_dw_a = m.signal(cqDwBits, { resetless: true });
  const cq_poisoned = m.signal(1, { resetless: true });
  const cq_header_taken = cq_write.signals.valid.and(cq_in_tlp.not());
  const write_dw = cq_write.signals.address.bits(cqDwBits + 1, 2);
  const cq_beat = cq_write_data.signals.tvalid.and(cq_in_tlp);
  m.If(cq_header_taken, () => {
    m.sync(cq_dw_a, write_dw);
    m.sync(cq_poisoned, cq_write.signals.poisoned);
  }).Elif(cq_beat, () => m.sync(cq_dw_a, cq_dw_a.addWrap(2)));
  m.If(cq_header_taken, () => m.sync(cq_in_tlp, 1)).Elif(cq_beat.and(cq_write_data.signals.tlast), () => m.sync(cq_in_tlp, 0));
  m.comb(cq_write.signals.ready, cq_in_tlp.not());
  m.comb(cq_write_data.signals.tready, cq_in_tlp);
  m.waiveUnread(cq_write_data.signals.tkeep, "DW-granular: bit 4 tells whether the high DW is there");
  m.waiveUnread(access_response.signals.data, "doorbells are writes: no read data");
  m.waiveUnread(cq_write.signals.address, "the admin CQ region's DW index is all that matters: the router sends only addresses inside it");
  m.waiveUnread(cq_write.signals.length_dw, "the payload stream's tlast ends the write");
  m.waiveUnread(cq_write.signals.first_be, "a controller writes whole CQ entries: every DW is taken whole");
  m.waiveUnread(cq_write.signals.last_be, "a controller writes whole CQ entries: every DW is taken whole");

  const dwInEntry = (index: Value) => index.bits(cqEntryDwBits - 1, 0);
  const entryOf = (index: Value) => index.bits(cqDwBits - 1, cqEntryDwBits);
  const usable = cq_beat.and(cq_poisoned.not());
  const lane_b_valid = cq_write_data.signals.tkeep.bit(4);
  const data_a = cq_write_data.signals.tdata.bits(31, 0);
  const data_b = cq_write_data.signals.tdata.bits(63, 32);
  const dwIndexOf = (f: NvmeField) => f.offset / 4;
  const a_is = (f: NvmeField) => dwInEntry(cq_dw_a).eq(dwIndexOf(f));
  // The high lane holds DW index cq_dw_a + 1: its DW in the entry is the low lane's plus one (mod 4).
  const dwsPerEntry = CQE_BYTES / 4;
  const b_is = (f: NvmeField) => lane_b_valid.and(dwInEntry(cq_dw_a).eq((dwIndexOf(f) + dwsPerEntry - 1) % dwsPerEntry));
  // DW3 (CID, phase, status) of an entry, judged the cycle after it arrives.
  const dw3_seen = m.signal(1);
  // DW3 is kept as its CID's count byte, whether its CID's high byte is ADMIN_CID_PREFIX, and its
  // phase and status (bits 31:16).
  const cidPrefixLsb = CqeField.cid.lsb + CID_COUNT_BITS;
  const cidPrefixMsb = CqeField.cid.msb;
  const dw3_low = m.signal(cidPrefixLsb, { resetless: true });
  const dw3_prefix_ok = m.signal(1, { resetless: true });
  const dw3_high = m.signal(31 - cidPrefixMsb, { resetless: true });
  // The entry's position, as its low bits (a head's width) and whether the rest are zero.
  const dw3_entry = m.signal(slotBits, { resetless: true });
  const dw3_entry_in_queue = m.signal(1, { resetless: true });
  m.sync(dw3_seen, usable.and(a_is(CqeField.cid).or(b_is(CqeField.cid))));
  const dw3_data = mux(a_is(CqeField.cid), data_a, data_b);
  m.sync(dw3_low, dw3_data.bits(cidPrefixLsb - 1, 0));
  m.sync(dw3_prefix_ok, dw3_data.bits(cidPrefixMsb, cidPrefixLsb).eq(CID_PREFIX));
  m.sync(dw3_high, dw3_data.bits(31, cidPrefixMsb + 1));
  // A DW3 in the high lane lies in the low lane's entry (the low lane holds its DW2).
  m.sync(dw3_entry, entryOf(cq_dw_a).bits(slotBits - 1, 0));
  const entryBits = cqDwBits - cqEntryDwBits;
  m.sync(dw3_entry_in_queue, slotBits < entryBits ? entryOf(cq_dw_a).bits(entryBits - 1, slotBits).eq(0) : C(1, 1));
  /** DW3's bits of field f (at or above bit 16). */
  const dw3Field = (f: NvmeField) => {
    if (f.lsb <= cidPrefixMsb) throw new RangeError(`admin_engine: CQE field at bits ${f.msb}:${f.lsb} is not kept from DW3`);
    return dw3_high.bits(f.msb - cidPrefixMsb - 1, f.lsb - cidPrefixMsb - 1);
  };
  const poisoned_write = cq_header_taken.and(cq_write.signals.poisoned);
  statusCounter(m, poisoned_writes, poisoned_write, "poisoned_count");

  const expected_phase = cq_phase;
  const phase_new = dw3Field(CqeField.phase).eq(expected_phase);
  const at_head = dw3_entry_in_queue.and(dw3_entry.eq(cq_head));
  const new_entry = dw3_seen.and(phase_new).and(at_head);
  const misplaced = dw3_seen.and(phase_new).and(at_head.not());
  statusCounter(m, misplaced_entries, misplaced, "misplaced_count");
  m.If(reset_queues, () => {
    m.sync(cq_head, 0);
    m.sync(cq_phase, 1);
  }).Elif(new_entry, () => {
    m.sync(cq_head, nextSlot(cq_head));
    m.If(cq_head.eq(entries - 1), () => m.sync(cq_phase, cq_phase.not()));
  });

  // ---- the command's life ----
  const ctl = m.fsm(["IDLE", "RING_SQ", "WAIT_CQE", "RING_CQ", "ANSWER"]);
  const MEM_WRITE = constant("ACCESS_KIND_MEM_WRITE", AccessKind.MEM_WRITE, ACCESS_KIND_BITS);
  const SQ0_TAIL_DOORBELL = constant("SQ0_TAIL_DOORBELL", doorbellOffset(0, "sqTail", 0), 32);
  const rq = access_request.signals;
  const rs = access_response.signals;
  const request_taken = rq.valid.and(rq.ready);
  const answered = rs.valid.and(rs.ready);
  const access_failed = rs.timed_out.or(rs.poisoned).or(rs.status.ne(CPL_STATUS_SC));

  // The CQ head doorbell's offset for each stride, from the register table.
  const cq_doorbell = m.signal(32);
  m.Switch(dstrd, (s) => {
    for (let stride = 0; stride < 2 ** dstrd.width; stride++) {
      s.Case(stride, () => m.comb(cq_doorbell, C(doorbellOffset(0, "cqHead", stride), 32)));
    }
  });

  // The completion entry of the held command: taken when it comes, whatever state the FSM is in.
  // Its status and DW0 are the answer's (zero for a command answered without an entry: they are
  // cleared when the command is taken).
  const cqe_arrived = m.signal(1);
  const cqe_status = m.signal(adminCompletion.fields.status.shape.width);
  const cqe_dw0 = m.signal(32);
  const answers_command = pending.and(cqe_arrived.not()).and(dw3_prefix_ok).and(dw3_low.eq(cid_count));
  const command_taken = command.signals.valid.and(ctl.is("IDLE"));
  const completes_command = new_entry.and(answers_command);
  m.If(command_taken, () => {
    m.sync(cqe_arrived, 0);
    m.sync(cqe_status, 0);
  }).Elif(completes_command, () => {
    m.sync(cqe_arrived, 1);
    m.sync(cqe_status, dw3Field(CqeField.status));
  });
  // DW0 of the latest entry written while the held command waits (a DW3 comes at least a beat
  // after its entry's DW0), kept in the answer's register itself: it stops following the writes
  // once the command's entry is judged (the DW0 of a next entry may land in that very cycle), and
  // is zero for a command answered without an entry (cleared when the command is taken and when
  // it is answered so).
  const answered_without_entry = m.signal(1);
  const dw0_clear = command_taken.or(answered_without_entry.and(completes_command.not()));
  const dw0_take = pending.and(cqe_arrived.not()).and(completes_command.not()).and(usable).and(a_is(CqeField.dw0).or(b_is(CqeField.dw0)));
  m.If(dw0_clear, () => m.sync(cqe_dw0, 0)).Elif(dw0_take, () => m.sync(cqe_dw0, mux(a_is(CqeField.dw0), data_a, data_b)));
  statusCounter(m, stray_entries, new_entry.and(answers_command.not()), "stray_count");

  // Reset of the queues while a command waits for its completion: it is answered timed_out.
  const abandoned = m.signal(1);
  const timeout_load = m.signal(1);
  // WAIT_CQE lasts the timeout and the cycle of the load.
  const waitCqeCycles = p.adminTimeoutCycles + 1;
  const waitFormatCycles = formatTimeoutCycles + 1;
  /** The held command is a Format NVM (only with a timeout of its own). */
  const cmd_is_format = formatOwnTimeout ? m.signal(1, { resetless: true }) : undefined;
  const timeout = countdownTimer(m, "command_timer", {
    maxCycles: Math.max(waitCqeCycles, waitFormatCycles),
    loads: cmd_is_format
      ? [
          { when: timeout_load.and(cmd_is_format), cycles: waitFormatCycles },
          { when: timeout_load, cycles: waitCqeCycles },
        ]
      : [{ when: timeout_load, cycles: waitCqeCycles }],
  });
  const sq_doorbell_rung = m.signal(1);
  m.If(reset_queues, () => m.sync(sq_tail, 0)).Elif(sq_doorbell_rung, () => m.sync(sq_tail, nextSlot(sq_tail)));

  const answer = (timedOut: number, pcieError: Value | number, withEntry = false) => {
    ctl.next("ANSWER");
    if (!withEntry) m.comb(answered_without_entry, 1);
    m.sync(pending, 0);
    m.sync(completion.signals.valid, 1);
    m.sync(completion.signals.timed_out, timedOut);
    m.sync(completion.signals.pcie_error, pcieError);
  };
  const ring = (offset: Value, value: Value) => {
    m.sync(rq.kind, MEM_WRITE);
    m.sync(rq.address, bar0_address.or(offset));
    m.sync(rq.data, value.zext(32));
    m.sync(rq.byte_en, 0b1111);
    m.sync(rq.valid, 1);
  };
  /** Hold the request until taken, then take the response. */
  const awaitAccess = () => {
    m.If(request_taken, () => {
      m.sync(rq.valid, 0);
      m.sync(rs.ready, 1);
    });
    m.If(answered, () => m.sync(rs.ready, 0));
  };

  ctl.body({
    IDLE: () =>
      m.If(command_taken, () => {
        m.sync(cmd_opcode, command.signals.opcode);
        if (cmd_is_format) m.sync(cmd_is_format, command.signals.opcode.eq(constant("FORMAT_NVM", AdminOpcode.formatNvm, 8)));
        m.sync(cmd_nsid, command.signals.nsid);
        m.sync(cmd_prp1, command.signals.prp1);
        m.sync(cmd_cdw10, command.signals.cdw10);
        m.sync(cmd_cdw11, command.signals.cdw11);
        m.sync(cid_count, cid_count.addWrap(1));
        m.sync(cmd_slot, sq_tail);
        m.sync(pending, 1);
        m.sync(abandoned, 0);
        ring(SQ0_TAIL_DOORBELL, nextSlot(sq_tail));
        ctl.next("RING_SQ");
      }),
    RING_SQ: () => {
      awaitAccess();
      m.If(reset_queues, () => m.sync(abandoned, 1));
      m.If(answered, () => {
        m.If(access_failed, () => answer(0, 1))
          .Elif(abandoned.or(reset_queues), () => answer(1, 0))
          .Else(() => {
            m.comb(sq_doorbell_rung, 1);
            m.comb(timeout_load, 1);
            ctl.next("WAIT_CQE");
          });
      });
    },
    WAIT_CQE: () =>
      m.If(cqe_arrived, () => {
        ring(cq_doorbell, cq_head);
        ctl.next("RING_CQ");
      })
        .Elif(abandoned.or(reset_queues).or(timeout.expired), () => answer(1, 0)),
    RING_CQ: () => {
      awaitAccess();
      m.If(answered, () => answer(0, access_failed, true));
    },
    ANSWER: () =>
      m.If(completion.signals.ready, () => {
        m.sync(completion.signals.valid, 0);
        ctl.next("IDLE");
      }),
  });
  m.comb(command.signals.ready, ctl.is("IDLE"));
  m.comb(completion.signals.status, cqe_status);
  m.comb(completion.signals.dw0, cqe_dw0);

  return m.exposing({
    bar0_address,
    dstrd,
    reset_queues,
    command,
    completion,
    access_request,
    access_response,
    sq_request,
    sq_response,
    cq_write,
    cq_write_data,
    sq_tail,
    cq_head,
    cq_phase,
    stray_entries,
    misplaced_entries,
    poisoned_writes,
  });
}
