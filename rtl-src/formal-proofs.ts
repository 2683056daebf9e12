// Every formal proof `nvme-host formal` runs (tools/formal.ts), with the harness it runs on and the
// deliberately broken variant that must fail it. A harness is a formal-only module: it instantiates
// the block with small parameters, makes the block's ports its own, assumes the stream rules on
// what the block receives and asserts them on what it sends (lib/axis-properties.ts), and checks
// beat and packet accounting with counters of its own. None of these modules goes into
// generated/: the registers that remember the previous cycle live here, not in the blocks. The
// blocks' own invariants (relations between their registers) are assertions in the blocks.
//
// A broken variant is a one-expression change to the emitted Verilog of the block (tools/formal.ts
// `applyMutation`), so no builder carries a test-only bug; the text it replaces must occur exactly
// once, so a change to a block that moves it makes the test say so rather than pass vacuously.
import { type Bundle, C, Module, type Signal, type Value, cat, mux } from "../hdl/index.ts";
import type { FormalProof } from "../tools/formal.ts";
import { axisRules, beatCounter, sequencedInput, streamView } from "./lib/axis-properties.ts";
import { axisSkidBuffer } from "./lib/axis-skid-buffer.ts";
import { slotOffer } from "./lib/slot-allocator.ts";
import { syncFifo } from "./lib/sync-fifo.ts";
import { ioCompletionQueue } from "./nvme/io-completion-queue.ts";
import { SLOT_BITS } from "./nvme/io-interfaces.ts";
import { judgeCompletion, slotFlagRegisters, takeOfferedSlot, updateSlotFlags } from "./nvme/io-slot-flags.ts";
import { ioSqTail } from "./nvme/io-sq-tail.ts";
import { tlpCompleter } from "./tlp/tlp-completer.ts";
import { tlpRx } from "./tlp/tlp-rx.ts";
import { tlpTxPacker } from "./tlp/tlp-tx-packer.ts";
import { completionHeaderDws, isMemoryRequest, requestHeaderDws, requestNeedsFourDw } from "./tlp/tx-header-fields.ts";

/** The skid buffer passes every beat once, in order, and keeps the stream rules on its output. */
export function axisSkidBufferProof(): Module {
  const m = new Module("axis_skid_buffer_proof");
  const block = m.instance(axisSkidBuffer({ dataWidth: 8, keep: false }), { name: "block" });
  const input = block.ports.s_axis.signals;
  const output = block.ports.m_axis.signals;
  const s_axis = m.promote(block.ports.s_axis);
  const m_axis = m.promote(block.ports.m_axis);
  const { fire: input_fire } = axisRules(m, streamView(block.ports.s_axis), "input", "s_axis");
  const { fire: output_fire } = axisRules(m, streamView(block.ports.m_axis), "output", "m_axis");
  const sent = sequencedInput(m, input_fire, input.tdata, "sent");
  const received = beatCounter(m, output_fire, 8, "received");
  m.If(output.tvalid, () => m.assert(output.tdata.eq(received)));
  // Two beats at most inside (the output register and the skid register).
  m.assert(sent.subWrap(received).le(2));
  const witness = witnessPort(m, received.eq(3));
  return m.exposing({ s_axis, m_axis, witness });
}

/** The FIFO passes every word once, in order; `count` is the words inside; the stream rules hold. */
export function syncFifoProof(): Module {
  const depth = 4;
  const m = new Module("sync_fifo_proof");
  const block = m.instance(syncFifo({ width: 4, depth }), { name: "block" });
  const input = m.promote(block.ports.in);
  const output = m.promote(block.ports.out);
  const count = m.promote(block.ports.count);
  const { fire: input_fire } = axisRules(m, streamView(block.ports.in), "input", "in");
  const { fire: output_fire } = axisRules(m, streamView(block.ports.out), "output", "out");
  const sent = sequencedInput(m, input_fire, block.ports.in.signals.data, "sent");
  const received = beatCounter(m, output_fire, 4, "received");
  m.If(block.ports.out.signals.valid, () => m.assert(block.ports.out.signals.data.eq(received)));
  const inside = sent.subWrap(received);
  m.assert(inside.le(depth + 1));
  m.assert(block.ports.count.zext(4).eq(inside));
  const witness = witnessPort(m, received.eq(6));
  return m.exposing({ input, output, count, witness });
}

/**
 * The slot offer (inline logic, here in a module of its own) names the lowest slot that was free
 * two cycles before, and says whether there was one.
 */
export function slotOfferProof(): Module {
  const slots = 16;
  const m = new Module("slot_offer_proof");
  const free = m.input(slots);
  const offer = slotOffer(m, Array.from({ length: slots }, (_, i) => free.bit(i)), "offer");
  const available = m.output(1);
  const index = m.output(offer.index.width);
  m.comb(available, offer.available);
  m.comb(index, offer.index);
  const free_before = m.signal(slots);
  const free_two_before = m.signal(slots);
  m.sync(free_before, free);
  m.sync(free_two_before, free_before);
  m.assert(offer.available.eq(free_two_before.any()));
  for (let slot = 0; slot < slots; slot++) {
    // The slot offered was free, and every lower one was taken.
    m.If(offer.available.and(offer.index.eq(slot)), () => m.assert(free_two_before.bits(slot, 0).eq(C(2 ** slot, slot + 1))));
  }
  const witness = witnessPort(m, offer.available.and(offer.index.bit(3)));
  return m.exposing({ free, available, index, witness });
}

/**
 * The output `witness`: the harness's sign that the behaviour its properties are about happens
 * (beats through, a wrap, a TLP out). tools/formal.ts checks that it can be set within the depth
 * under the assumptions, so assumptions that leave nothing to check (a proof that proves nothing)
 * fail the proof.
 */
function witnessPort(m: Module, condition: Value): Signal {
  // A register (set by the condition, kept), so that the cycle it saw satisfied the assumptions.
  const witness = m.output(1, { name: "witness" });
  m.If(condition, () => m.sync(witness, 1));
  return witness;
}

/**
 * Drives the block's input bundle `bundle` from inputs of the harness named `<prefix>_<field>`,
 * except the fields `fixed` ties to a value; its backward fields become outputs. Returns the
 * harness's port signals.
 */
function bundleInputs(m: Module, bundle: Bundle<string>, prefix: string, fixed: Record<string, Value>): Record<string, Signal> {
  const ports: Record<string, Signal> = {};
  for (const field of bundle.fieldNames) {
    const signal = bundle.signals[field];
    if (bundle.def.fields[field].direction === "backward") {
      ports[field] = m.output(signal.width, { name: `${prefix}_${field}` });
      m.comb(ports[field], signal);
    } else if (field in fixed) {
      m.comb(signal, fixed[field]);
    } else {
      ports[field] = m.input(signal.width, { name: `${prefix}_${field}` });
      m.comb(signal, ports[field]);
    }
  }
  return ports;
}

/**
 * A two-entry queue of per-packet figures, pushed when a packet starts and popped when it ends
 * (both in one cycle allowed); `head` is the oldest packet's figure, `entries` how many are held.
 */
function packetQueue(m: Module, push: Value, pushed: Value, pop: Value, name: string) {
  const head = m.signal(pushed.width, { name: `${name}_head` });
  const second = m.signal(pushed.width, { name: `${name}_second` });
  const entries = m.signal(2, { name: `${name}_entries` });
  m.If(pop.and(push), () => {
    m.If(entries.eq(1), () => m.sync(head, pushed)).Elif(entries.eq(2), () => {
      m.sync(head, second);
      m.sync(second, pushed);
    });
  })
    .Elif(pop, () => {
      m.sync(head, second);
      m.sync(entries, entries.subWrap(1));
    })
    .Elif(push, () => {
      m.If(entries.eq(0), () => m.sync(head, pushed)).Else(() => m.sync(second, pushed));
      m.sync(entries, entries.addWrap(1));
    });
  return { head, entries };
}

/** The beats of a TLP on s_axis_tx: {DW1, DW0}, then the rest of the header and the payload two DWs a beat. */
function txBeats(fourDw: Value, hasData: Value, lengthDw: Value): Value {
  const dws = mux(fourDw, C(2, 4), C(1, 4)).add(mux(hasData, lengthDw.trunc(3).zext(4), C(0, 4))).trunc(4);
  return dws.addWrap(1).shr(1).zext(4).addWrap(1);
}

/**
 * The TX packer: stream rules on s_axis_tx; every header taken leaves as exactly one TLP, in order,
 * with the number of beats its format and length make; a header is taken only once the previous
 * TLP's payload words are all consumed. Payloads of 1..4 DWs keep the depth small.
 */
export function tlpTxPackerProof(): Module {
  const requesterId = 0x0100;
  const m = new Module("tlp_tx_packer_proof");
  const block = m.instance(tlpTxPacker({ requesterId }), { name: "block" });
  const { req, req_four_dw, cpl, payload, s_axis_tx } = block.ports;
  // The fields that only travel as data are tied to constants, so the solver works on the control
  // the properties are about (with them free, a 12-cycle check takes ten times as long).
  const address_high = m.input(1);
  const address_low = m.input(2);
  const ports = {
    req: bundleInputs(m, req, "req", { address: cat(C(0, 31), address_high, C(0, 30), address_low), first_be: C(0, 4), last_be: C(0, 4), tag: C(0, 8) }),
    address_high,
    address_low,
    req_four_dw: m.promote(req_four_dw),
    cpl: bundleInputs(m, cpl, "cpl", { status: C(0, 3), byte_count: C(0, 12), lower_address: C(0, 7), requester_id: C(0, 16), tag: C(0, 8), tc: C(0, 3), attr: C(0, 2) }),
    payload: bundleInputs(m, payload, "payload", { tdata: C(0, 64) }),
    s_axis_tx: m.promote(s_axis_tx),
    input_error: m.promote(block.ports.input_error),
  };
  const r = req.signals;
  const c = cpl.signals;
  const req_view = streamView(req);
  const { fire: req_fire } = axisRules(m, { ...req_view, payload: cat(req_view.payload, req_four_dw) }, "input", "req");
  const { fire: cpl_fire } = axisRules(m, streamView(cpl), "input", "cpl");
  const { fire: payload_fire } = axisRules(m, streamView(payload), "input", "payload");
  const { fire: out_fire } = axisRules(m, streamView(s_axis_tx), "output", "s_axis_tx");
  // The header ports' contracts: Length 1..4 here, 1 for configuration requests; req_four_dw as the arbiter computes it.
  m.assume(r.length_dw.ne(0).and(r.length_dw.le(4)));
  m.assume(c.length_dw.ne(0).and(c.length_dw.le(4)));
  m.assume(isMemoryRequest(r.kind).or(r.length_dw.eq(1)));
  m.assume(req_four_dw.eq(requestNeedsFourDw(r.kind, r.address)));

  const request = requestHeaderDws(r, req_four_dw, requesterId);
  const completion = completionHeaderDws(c, requesterId);
  const header_fire = req_fire.or(cpl_fire);
  m.assert(req_fire.and(cpl_fire).not());
  const beats = mux(cpl_fire, txBeats(completion.fourDw, completion.hasData, c.length_dw), txBeats(request.fourDw, request.hasData, r.length_dw));
  const wordsOf = (hasData: Value, lengthDw: Value) => mux(hasData, lengthDw.trunc(3).addWrap(1).shr(1).zext(4), C(0, 4));
  const words = mux(cpl_fire, wordsOf(completion.hasData, c.length_dw), wordsOf(request.hasData, r.length_dw));

  const last_fire = out_fire.and(s_axis_tx.signals.tlast);
  const tlps = packetQueue(m, header_fire, beats, last_fire, "tlps");
  const beat_in_tlp = m.signal(4);
  m.If(last_fire, () => m.sync(beat_in_tlp, 0)).Elif(out_fire, () => m.sync(beat_in_tlp, beat_in_tlp.addWrap(1)));
  m.If(out_fire, () => {
    // A beat belongs to a TLP whose header was taken, and tlast comes on its last beat.
    m.assert(tlps.entries.ne(0));
    m.assert(s_axis_tx.signals.tlast.eq(beat_in_tlp.addWrap(1).eq(tlps.head)));
  });
  m.assert(tlps.entries.ne(3));
  const tlps_done = beatCounter(m, last_fire, 2, "tlps_done");

  // Payload words: the words of the TLPs taken so far, minus those consumed.
  const words_owed = m.signal(4);
  m.sync(words_owed, words_owed.add(mux(header_fire, words, C(0, 4))).trunc(4).subWrap(payload_fire.zext(4)));
  m.If(header_fire, () => m.assert(words_owed.eq(0)));
  m.If(payload_fire, () => m.assert(words_owed.ne(0)));
  const witness = witnessPort(m, tlps_done.eq(2));
  return m.exposing({ ...ports, witness });
}

/**
 * The completer answers every read once, in order, with a CplD whose fields are the read's, after
 * asking the data source for that CplD's DWs. Read n (from reset) carries tag n, n % 4 + 1 DWs at
 * RCB-aligned address (n % 4) * 64, so one CplD answers it; first/last byte enables whole.
 */
export function tlpCompleterProof(): Module {
  const m = new Module("tlp_completer_proof");
  const block = m.instance(tlpCompleter({ maxPayloadBytes: 128, readCompletionBoundary: 64 }, { readQueueDepth: 2, headerQueueDepth: 2 }), { name: "block" });
  const { mem_read, data_request, data_response, completion, completion_payload } = block.ports;
  const reads = m.signal(8);
  const readFields = (n: Value) => {
    const length = n.bits(1, 0).zext(10).addWrap(1);
    return { length, address: cat(C(0, 56), n.bits(1, 0), C(0, 6)), bytes: cat(length, C(0, 2)).trunc(12) };
  };
  const next_read = readFields(reads);
  const ports = {
    mem_read: bundleInputs(m, mem_read, "mem_read", {
      address: next_read.address,
      length_dw: next_read.length,
      first_be: C(0xf, 4),
      last_be: mux(next_read.length.eq(1), C(0, 4), C(0xf, 4)),
      requester_id: C(0, 16),
      tag: reads,
      tc: C(0, 3),
      attr: C(0, 2),
    }),
    data_request: m.promote(data_request),
    data_response: bundleInputs(m, data_response, "data_response", { tdata: C(0, 64) }),
    completion: m.promote(completion),
    completion_payload: m.promote(completion_payload),
    read_queue_count: m.promote(block.ports.read_queue_count),
  };
  const { fire: read_fire } = axisRules(m, streamView(mem_read), "input", "mem_read");
  m.If(read_fire, () => m.sync(reads, reads.addWrap(1)));
  axisRules(m, streamView(data_response), "input", "data_response");
  axisRules(m, streamView(completion_payload), "output", "completion_payload");
  const { fire: request_fire } = axisRules(m, streamView(data_request), "output", "data_request");
  const { fire: completion_fire } = axisRules(m, streamView(completion), "output", "completion");
  const requests = beatCounter(m, request_fire, 8, "requests");
  const completions = beatCounter(m, completion_fire, 8, "completions");

  const request = data_request.signals;
  const requested = readFields(requests);
  m.If(request.valid, () => {
    m.assert(request.address.eq(requested.address));
    m.assert(request.length_dw.eq(requested.length.zext(11)));
  });
  const cpl = completion.signals;
  const answered = readFields(completions);
  m.If(cpl.valid, () => {
    m.assert(cpl.tag.eq(completions));
    m.assert(cpl.has_data.eq(1));
    m.assert(cpl.length_dw.eq(answered.length));
    m.assert(cpl.byte_count.eq(answered.bytes));
    m.assert(cpl.lower_address.eq(answered.address.bits(6, 0)));
    m.assert(cpl.requester_id.eq(0));
  });
  // Capacities (and no answer before its read, no request before its read): 3 reads in the read
  // queue and 2 in the splitter (the one whose data request waits, and the next) not yet requested;
  // 4 requested but not answered (3 CplD headers queued, 1 in the splitter's output). A CplD header
  // is queued as its data request is offered, so it may leave one request ahead.
  m.assert(reads.subWrap(completions).le(9));
  m.assert(reads.subWrap(requests).le(5));
  m.assert(requests.addWrap(1).subWrap(completions).le(5));
  const witness = witnessPort(m, completions.eq(1));
  return m.exposing({ ...ports, witness });
}

/**
 * The receive side's outputs: the stream rules on every output; each memory write and each
 * completion with data has one payload stream ending in one tlast, a bounded distance from its
 * header; the reads pulse into the consumer's queue (a FIFO here, as the completer's in the layer)
 * only when it has room. Built as the layer builds it (externalReadQueue), with small queues.
 */
export function tlpRxProof(): Module {
  const nonPostedQueueDepth = 4;
  const m = new Module("tlp_rx_proof");
  const block = m.instance(tlpRx({ maxPayloadBytes: 128, tags: 4, requesterId: 0x0100 }, { nonPostedQueueDepth, counterWidth: 4, externalReadQueue: true }), {
    name: "block",
  });
  const { m_axis_rx, completion, completion_data, mem_read, mem_write, mem_write_data, ur_completion } = block.ports;
  const read_queue = m.instance(syncFifo({ width: 8, depth: nonPostedQueueDepth }), { name: "read_queue" });
  m.comb(read_queue.ports.in.signals.data, mem_read.signals.tag);
  m.comb(read_queue.ports.in.signals.valid, mem_read.signals.valid);
  m.comb(mem_read.signals.ready, read_queue.ports.in.signals.ready);
  // With externalReadQueue the block has a mem_read_count input (its type is the union of both forms).
  const { mem_read_count } = block.ports as { mem_read_count?: Signal };
  if (!mem_read_count) throw new Error("tlp_rx with externalReadQueue has a mem_read_count input");
  m.comb(mem_read_count, read_queue.ports.count);
  const ports = {
    m_axis_rx: m.promote(m_axis_rx),
    rx_np_ok: m.promote(block.ports.rx_np_ok),
    // Free: the link may drop at any beat, and every output must still keep its rules.
    user_lnk_up: m.promote(block.ports.user_lnk_up),
    completion: m.promote(completion),
    completion_data: m.promote(completion_data),
    reads: m.promote(read_queue.ports.out),
    mem_write: m.promote(mem_write),
    mem_write_data: m.promote(mem_write_data),
    ur_completion: m.promote(ur_completion),
  };
  axisRules(m, streamView(m_axis_rx), "input", "m_axis_rx");
  const { fire: completion_fire } = axisRules(m, streamView(completion), "output", "completion");
  const { fire: completion_data_fire } = axisRules(m, streamView(completion_data), "output", "completion_data");
  const { fire: write_fire } = axisRules(m, streamView(mem_write), "output", "mem_write");
  const { fire: write_data_fire } = axisRules(m, streamView(mem_write_data), "output", "mem_write_data");
  axisRules(m, streamView(ur_completion), "output", "ur_completion");
  // A read goes only into a queue with room.
  m.If(mem_read.signals.valid, () => m.assert(mem_read.signals.ready));

  const pairing = (headers: Value, lasts: Value, name: string) => {
    const header_count = beatCounter(m, headers, 4, `${name}_headers`);
    const last_count = beatCounter(m, lasts, 4, `${name}_lasts`);
    // The difference, offset by 2, within 0..4: neither side runs more than two packets ahead.
    m.assert(header_count.subWrap(last_count).addWrap(2).le(4));
    return last_count;
  };
  const write_lasts = pairing(write_fire, write_data_fire.and(mem_write_data.signals.tlast), "writes");
  const completion_lasts = pairing(completion_fire.and(completion.signals.has_data), completion_data_fire.and(completion_data.signals.tlast), "completions");
  const witness = witnessPort(m, write_lasts.ne(0).or(completion_lasts.ne(0)));
  return m.exposing({ ...ports, witness });
}

/**
 * The I/O completion queue's CID, head, phase and doorbell logic, as the I/O engine builds it (no
 * record FIFO), with a queue of 3 entries (so the head wraps at a non-power of two). The SSD model
 * here writes whole entries (one 4-DW write at an entry-aligned address below the queue's size, in
 * two beats; poisoned or not), and every entry it writes carries its own index as CID. Then: the
 * head and expected phase are those of a reference count of the records made (0 and 1 after
 * `reset_queues`); a record's CID is the head's (the entry consumed is the one at the head); the
 * doorbell is due exactly while the head differs from the value the engine last reported ringing;
 * records come at least two cycles apart, the CID held in the cycle after (io_slot_flags assumes so).
 */
export function ioCompletionQueueProof(): Module {
  const entries = 3;
  const m = new Module("io_completion_queue_proof");
  const block = m.instance(ioCompletionQueue({ entries: 4, recordFifoDepth: 0 }), { name: "block" });
  const { cq_write, cq_write_data, record } = block.ports;
  m.comb(block.ports.queue_entries, C(entries, block.ports.queue_entries.width));
  const write_entry = m.input(2);
  const dw3_status_phase = m.input(16);
  const ports = {
    reset_queues: m.promote(block.ports.reset_queues),
    write_entry,
    cq_write: bundleInputs(m, cq_write, "cq_write", { address: cat(C(0, 58), write_entry, C(0, 4)), length_dw: C(4, 10), first_be: C(0xf, 4), last_be: C(0xf, 4) }),
    dw3_status_phase,
    cq_write_data: bundleInputs(m, cq_write_data, "cq_write_data", { tkeep: C(0xff, 8) }),
    record: m.promote(record),
    doorbell_rung: m.promote(block.ports.doorbell_rung),
    doorbell_rung_head: m.promote(block.ports.doorbell_rung_head),
    cq_head: m.promote(block.ports.cq_head),
    cq_phase: m.promote(block.ports.cq_phase),
    doorbell_due: m.promote(block.ports.doorbell_due),
    misplaced_entries: m.promote(block.ports.misplaced_entries),
    poisoned_writes: m.promote(block.ports.poisoned_writes),
  };
  const { fire: write_fire } = axisRules(m, { ...streamView(cq_write), payload: cat(streamView(cq_write).payload, write_entry) }, "input", "cq_write");
  const data = cq_write_data.signals;
  const { fire: data_fire } = axisRules(m, streamView(cq_write_data), "input", "cq_write_data");
  m.assume(write_entry.lt(entries));
  // The engine reports ringing with a head index of this queue.
  m.assume(block.ports.doorbell_rung_head.lt(entries));
  // The write's two beats: {DW1, DW0}, then {DW3, DW2} with tlast; DW3 = {status, phase, CID = the entry's index}.
  const writing_entry = m.signal(2);
  m.If(write_fire, () => m.sync(writing_entry, write_entry));
  const second_beat = m.signal(1);
  m.If(data_fire, () => m.sync(second_beat, second_beat.not()));
  m.assume(data.tlast.eq(second_beat));
  m.If(second_beat, () => m.assume(data.tdata.bits(63, 32).eq(cat(dw3_status_phase, C(0, 14), writing_entry))));

  const head = m.signal(block.ports.cq_head.width);
  const phase = m.signal(1, { reset: 1 });
  const rung = m.signal(block.ports.cq_head.width);
  const { reset_queues, doorbell_rung, doorbell_rung_head, cq_head, cq_phase, doorbell_due } = block.ports;
  m.If(reset_queues, () => {
    m.sync(head, 0);
    m.sync(phase, 1);
  }).Elif(record.signals.valid, () => {
    const wraps = head.eq(entries - 1);
    m.sync(head, mux(wraps, C(0, head.width), head.addWrap(1)));
    m.If(wraps, () => m.sync(phase, phase.not()));
  });
  m.If(reset_queues, () => m.sync(rung, 0)).Elif(doorbell_rung, () => m.sync(rung, doorbell_rung_head));
  m.assert(cq_head.eq(head));
  m.assert(cq_phase.eq(phase));
  m.If(record.signals.valid, () => m.assert(record.signals.cid.eq(cq_head.zext(16))));
  m.assert(doorbell_due.eq(rung.ne(cq_head)));
  // What the engine's slot logic relies on (io_slot_flags assumes it): records at least two cycles
  // apart, the CID held in the cycle after one.
  const record_before = m.signal(1);
  const cid_before = m.signal(record.signals.cid.width);
  m.sync(record_before, record.signals.valid);
  m.sync(cid_before, record.signals.cid);
  m.If(record_before, () => m.assert(record.signals.valid.not().and(record.signals.cid.eq(cid_before))));
  const witness = witnessPort(m, cq_phase.not());
  return m.exposing({ ...ports, witness });
}

/**
 * The I/O engine's SQ tail, room and tail doorbell bookkeeping (io-sq-tail.ts, the inline logic the
 * engine builds, here in a module of its own), with a queue of 3 entries (a wrap at a non-power of
 * two). Around it, as the engine and the SSD use it: an entry is written only while `sq_room` says
 * so and never within 3 cycles of the last entry or a restart (the engine's front takes longer per
 * piece, and a restart waits for the front); a tail doorbell, when due, writes the tail and succeeds
 * the next cycle (no restart meanwhile: the engine restarts with its doorbell idle); the SSD fetches
 * an entry only when its head is behind the tail the doorbells announced. Then: the tail is a
 * reference count of the entries written, modulo 3; the entries in the queue (written, not yet
 * fetched; a plain count) never exceed 2 (entries - 1), and the tail is that many ahead of the head;
 * every entry the SSD fetches was written (the doorbells announce no entry before it is written);
 * a doorbell is due exactly while the tail differs from the value last rung.
 */
export function ioSqTailProof(): Module {
  const entries = 3;
  const bits = 2;
  const m = new Module("io_sq_tail_proof");
  const submit = m.input(1);
  const restart = m.input(1);
  const ring = m.input(1);
  const fetch = m.input(1);
  const sq_tail = m.output(bits);
  const sq_room = m.output(1);
  const sq_tail_rung = m.output(bits);
  const sq_due = m.output(1);
  /** The SSD's head: the next entry it fetches. */
  const sq_head = m.output(bits);
  const db_value = m.signal(bits);
  const db_pending = m.signal(1);
  const inner = ioSqTail(m, { sq_tail, sq_room, sq_tail_rung, sq_due }, { queue_entries: C(entries, bits + 1), submit, restart, sq_head, rung: db_pending, rung_value: db_value });

  // The engine's side: entries only with room and at least 3 cycles apart (and from a restart).
  const settled = m.signal(2);
  m.If(submit.or(restart), () => m.sync(settled, 0)).Elif(settled.ne(3), () => m.sync(settled, settled.addWrap(1)));
  m.If(submit, () => m.assume(sq_room.and(settled.eq(3)).and(restart.not())));
  // The doorbell: chosen while due, written the next cycle.
  m.If(ring.and(sq_due).and(db_pending.not()).and(restart.not()), () => {
    m.sync(db_value, sq_tail);
    m.sync(db_pending, 1);
  }).Else(() => m.sync(db_pending, 0));
  m.If(restart, () => m.assume(db_pending.not()));
  // The SSD: fetches (advancing its head, modulo 3) only entries announced by a doorbell.
  const advanced = (v: Value) => mux(v.eq(entries - 1), C(0, bits), v.addWrap(1));
  m.If(fetch, () => m.assume(sq_head.ne(sq_tail_rung).and(restart.not())));
  m.If(restart, () => m.sync(sq_head, 0)).Elif(fetch, () => m.sync(sq_head, advanced(sq_head)));

  // References: the entries written (modulo 3), and those in the queue (a plain count).
  const ref_tail = m.signal(bits);
  const in_queue = m.signal(3);
  m.If(restart, () => m.sync(ref_tail, 0)).Elif(submit, () => m.sync(ref_tail, advanced(ref_tail)));
  m.If(restart, () => m.sync(in_queue, 0))
    .Elif(submit.and(fetch.not()), () => m.sync(in_queue, in_queue.addWrap(1)))
    .Elif(fetch.and(submit.not()), () => m.sync(in_queue, in_queue.subWrap(1)));
  m.assert(sq_tail.eq(ref_tail));
  m.assert(in_queue.le(entries - 1));
  // The tail is in_queue entries ahead of the head (modulo 3).
  const ahead = mux(sq_tail.ge(sq_head), sq_tail.subWrap(sq_head), sq_tail.addWrap(entries).subWrap(sq_head));
  m.assert(ahead.zext(3).eq(in_queue));
  // Only written entries are fetched: the value rung (and one being written) lies between the head
  // and the tail, in queue order.
  m.If(fetch, () => m.assert(in_queue.ne(0)));
  const from_head = (v: Value) => mux(v.ge(sq_head), v.subWrap(sq_head), v.addWrap(entries).subWrap(sq_head)).zext(3);
  m.assert(from_head(sq_tail_rung).le(in_queue));
  m.If(db_pending, () => m.assert(from_head(db_value).le(in_queue).and(db_value.lt(entries))));
  // The inner registers settle a cycle and two after the tail moves (what the induction needs).
  m.If(settled.ne(0), () => m.assert(inner.last_sq_index.eq(entries - 1)));
  m.If(settled.ge(2), () => m.assert(inner.sq_tail_next.eq(advanced(sq_tail))));
  m.If(settled.eq(3).and(sq_room), () => m.assert(advanced(sq_tail).ne(sq_head)));
  // The indices stay in the queue.
  m.assert(sq_tail.lt(entries).and(sq_head.lt(entries)).and(sq_tail_rung.lt(entries)));
  // Due exactly while the tail differs from the value last rung (as of the cycle before).
  const due_expected = m.signal(1);
  m.sync(due_expected, sq_tail.ne(sq_tail_rung).and(restart.not()));
  m.assert(sq_due.eq(due_expected));
  const witness = witnessPort(m, in_queue.eq(entries - 1));
  return m.exposing({ submit, restart, ring, fetch, sq_tail, sq_room, sq_tail_rung, sq_due, sq_head, witness });
}

/**
 * The I/O engine's command slots (io-slot-flags.ts, the inline logic the engine builds, here in a
 * module of its own), with 12 slots (16 flag positions: two lookup groups of 8, CIDs 12..15 and
 * above naming no slot). A slot's index is its command's CID. Around it, as the engine and the SSD
 * use it: the front takes a piece at most every fourth cycle, and one that will reach the SSD
 * (not refused, not faulted) only while a slot is on offer; the piece reaches the SSD the cycle
 * after (`submit`, as the engine's submit_strobe); a restart comes with the front idle and no
 * piece being submitted; `faulted` is free. The SSD is free too: a completion record may carry any
 * CID at any time (its own command's, a stale one, a duplicate, one out of range), at most every
 * other cycle, its CID held the cycle after (io_completion_queue's contract). Against a reference
 * of which commands are in flight (a slot from its submission until a record with its CID comes
 * while it is in flight and is not judged while faulted, or a restart), proves: every busy flag is
 * the reference's (so a slot becomes busy only by a submission into it, and stays busy until its
 * own completion or a restart: a record for a slot not in flight changes nothing); the slot the
 * front takes for a command is one in range and not in flight (no CID is handed to a second
 * command while the first is in flight); a record is judged its command's completion exactly when
 * its CID was in flight as it came, with the poisoned flag that slot had then.
 */
export function ioSlotFlagsProof(): Module {
  const slots = 12;
  const m = new Module("io_slot_flags_proof");
  const take = m.input(1);
  const refused = m.input(1);
  const faulted = m.input(1);
  const restart = m.input(1);
  const record_valid = m.input(1);
  const record_cid = m.input(16);
  const poisoned_valid = m.input(1);
  const poisoned_slot = m.input(SLOT_BITS);
  const flags = slotFlagRegisters(m, slots);
  const issue_slot = takeOfferedSlot(m, flags, take);
  const submit = m.signal(1);
  m.sync(submit, take.and(refused.not()).and(faulted.not()));
  const judged = judgeCompletion(m, flags, { valid: record_valid, cid: record_cid }, faulted);
  updateSlotFlags(m, flags, judged, { issue_slot, submit, restart, poisoned_valid, poisoned_slot });
  const busy = m.output(slots);
  m.comb(busy, cat(...flags.busy.slice(0, slots).map((b) => b!).reverse()));
  const offer_available = m.output(1);
  const offer_index = m.output(flags.slotBits);
  m.comb(offer_available, flags.offer.available);
  m.comb(offer_index, flags.offer.index);
  const completes = m.output(1);
  m.comb(completes, judged.s1_ok);

  // The engine's side: a piece at most every fourth cycle, a command's only with a slot on offer;
  // a restart with the front idle and no piece being submitted.
  const since_take = m.signal(2);
  m.If(take, () => m.sync(since_take, 0)).Elif(since_take.ne(3), () => m.sync(since_take, since_take.addWrap(1)));
  const commands = take.and(refused.not()).and(faulted.not());
  m.If(take, () => m.assume(since_take.eq(3)));
  m.If(commands, () => m.assume(flags.offer.available));
  m.If(restart, () => m.assume(take.or(submit).not()));
  // The completion queue's side: records at most every other cycle, the CID held the cycle after.
  const record_before = m.signal(1);
  const cid_before = m.signal(16);
  m.sync(record_before, record_valid);
  m.sync(cid_before, record_cid);
  m.If(record_before, () => m.assume(record_valid.not().and(record_cid.eq(cid_before))));

  // The reference: which slots are in flight, and their poisoned flags.
  const slotBits = flags.slotBits;
  const taken_slot = m.signal(slotBits);
  m.If(take, () => m.sync(taken_slot, flags.offer.index));
  const in_flight = Array.from({ length: slots }, (_, i) => m.signal(1, { name: `in_flight_${i}` }));
  const ref_poisoned = Array.from({ length: slots }, (_, i) => m.signal(1, { name: `ref_poisoned_${i}` }));
  const flagOf = (reference: Signal[], slot: Value) => reference.map((f, i) => f.and(slot.eq(i))).reduce((a, b) => a.or(b), C(0, 1) as Value);
  /** A record came (the cycle before) whose CID was in flight; its slot and that slot's poisoned flag then. */
  const accepted = m.signal(1);
  const accepted_slot = m.signal(slotBits);
  const accepted_poisoned = m.signal(1);
  m.sync(accepted, record_valid.and(flagOf(in_flight, record_cid)));
  m.sync(accepted_slot, record_cid.trunc(slotBits));
  m.sync(accepted_poisoned, flagOf(ref_poisoned, record_cid));
  /** Slot 0 completed a command (the witness: it is then taken again). */
  const slot0_completed = m.signal(1);
  in_flight.forEach((f, i) => {
    const submitted = submit.and(taken_slot.eq(i));
    m.If(restart, () => m.sync(f, 0))
      .Elif(submitted, () => m.sync(f, 1))
      .Elif(accepted.and(accepted_slot.eq(i)).and(faulted.not()), () => m.sync(f, 0));
    m.If(submitted, () => m.sync(ref_poisoned[i], 0)).Elif(poisoned_valid.and(poisoned_slot.eq(i)), () => m.sync(ref_poisoned[i], 1));
  });
  m.If(accepted.and(accepted_slot.eq(0)).and(faulted.not()).and(restart.not()), () => m.sync(slot0_completed, 1));

  // Every busy flag is the reference's, and a slot in flight has the reference's poisoned flag
  // (the engine's have no reset: a slot's matters only from its submission on).
  in_flight.forEach((f, i) => {
    m.assert(flags.busy[i]!.eq(f));
    m.If(f, () => m.assert(flags.poisoned[i]!.eq(ref_poisoned[i])));
  });
  // No CID handed to a second command: the slot taken for a command is in range and not in
  // flight, and still not as the command reaches the SSD (in the slot the front took).
  m.If(commands, () => m.assert(flags.offer.index.lt(slots).and(flagOf(in_flight, flags.offer.index).not())));
  m.If(submit, () => m.assert(issue_slot.eq(taken_slot).and(taken_slot.lt(slots)).and(flagOf(in_flight, taken_slot).not())));
  m.If(submit, () => m.assert(since_take.eq(0)));
  // A record completes a command exactly when its CID was in flight as it came, with the slot's poisoned flag then.
  m.If(judged.s1_valid, () => m.assert(judged.s1_ok.eq(accepted)));
  m.If(judged.s1_valid.and(accepted), () => m.assert(judged.s1_poisoned.eq(accepted_poisoned)));
  const witness = witnessPort(m, submit.and(taken_slot.eq(0)).and(slot0_completed));
  return m.exposing({ take, refused, faulted, restart, record_valid, record_cid, poisoned_valid, poisoned_slot, busy, offer_available, offer_index, completes, witness });
}

export const formalProofs: FormalProof[] = [
  {
    name: "axis_skid_buffer_invariants",
    description: "the block's own assertions: the skid register is full only behind a full output register, and input is stopped meanwhile",
    depth: 6,
    method: "induction",
    build: () => axisSkidBuffer({ dataWidth: 8, keep: false }),
    broken: {
      description: "input is never stopped",
      module: "axis_skid_buffer_axis8l",
      find: "in_ready <= ~skid_valid_next;",
      replace: "in_ready <= 1'b1;",
    },
  },
  {
    name: "sync_fifo_invariants",
    description: "the block's own assertions: word counts, full flag and pointers agree (4 words of RAM)",
    depth: 8,
    method: "induction",
    build: () => syncFifo({ width: 4, depth: 4 }),
    broken: {
      description: "the RAM is full one word late",
      module: "sync_fifo_w4_d4",
      find: "ram_words == 3'd3",
      replace: "ram_words == 3'd4",
    },
  },
  {
    name: "axis_skid_buffer",
    description: "AXI4-Stream rules on m_axis; every beat out once and in order (sequence-numbered data); at most 2 beats held",
    depth: 10,
    method: "bounded",
    build: axisSkidBufferProof,
    broken: {
      description: "a beat arriving while the output is stalled is not kept in the skid register",
      module: "axis_skid_buffer_axis8l",
      find: "wire skid_valid_next = (~output_free) & (skid_valid | input_fire);",
      replace: "wire skid_valid_next = (~output_free) & skid_valid;",
    },
  },
  {
    name: "sync_fifo",
    description: "stream rules on out; every word out once and in order; count = words inside <= depth + 1; counters and pointers agree",
    depth: 12,
    method: "bounded",
    build: syncFifoProof,
    broken: {
      description: "the RAM is full one word late: a push into a full RAM overwrites the oldest word",
      module: "sync_fifo_w4_d4",
      find: "ram_words == 3'd3",
      replace: "ram_words == 3'd4",
    },
  },
  {
    name: "slot_allocator",
    description: "the slot offer (16 slots, two stages) is the lowest slot free two cycles before, available iff one was",
    depth: 4,
    method: "induction",
    build: slotOfferProof,
    broken: {
      description: "the second group's lowest slot is offered even when the first group has a free one",
      module: "slot_offer_proof",
      find: "(offer_found_1 & (~offer_found_0)) ? offer_lowest_1",
      replace: "offer_found_1 ? offer_lowest_1",
    },
  },
  {
    name: "tlp_tx_packer",
    description: "stream rules on s_axis_tx; each header taken leaves as one TLP, in order, with the beats its format and Length make; payload words consumed exactly",
    depth: 9,
    method: "bounded",
    build: tlpTxPackerProof,
    broken: {
      description: "after a 3DW header with an odd number of payload DWs, a flush beat follows the TLP's last beat (a second tlast)",
      module: "tlp_tx_packer_id0100",
      find: "if (four_dw | odd_dws) begin",
      replace: "if (four_dw) begin",
    },
  },
  {
    name: "tlp_completer",
    description: "stream rules on data_request, completion, completion_payload; every read answered once, in order, with its own fields and one data request",
    depth: 9,
    method: "bounded",
    build: tlpCompleterProof,
    broken: {
      description: "the header queue lets a CplD header go whether or not the transmit side takes it (a completion lost)",
      module: "tlp_completer_mps128_rcb64_rq2_hq2",
      find: "assign header_queue_out_ready = completion_ready;",
      replace: "assign header_queue_out_ready = 1'b1;",
    },
  },
  {
    name: "tlp_rx",
    description: "stream rules on every output; each memory write and CplD has one payload stream, at most two packets from its header; reads only into room",
    depth: 6,
    method: "bounded",
    build: tlpRxProof,
    broken: {
      description: "the payload queue takes its ready from the other payload output (a CplD's payload beat leaves when the write side is ready)",
      module: "tlp_rx_mps128_t4_id0100_npq4_c4_xrq",
      find: "assign payload_queue_out_ready = to_completion ? completion_data_tready : mem_write_data_tready;",
      replace: "assign payload_queue_out_ready = to_completion ? mem_write_data_tready : completion_data_tready;",
    },
  },
  {
    name: "io_sq_tail",
    description: "the I/O SQ tail counts the entries written (wrap at 3); at most 2 in the queue; the SSD fetches only written entries (doorbells announce nothing early); a tail doorbell is due exactly while the tail differs from the value rung",
    depth: 12,
    method: "induction",
    build: ioSqTailProof,
    broken: {
      description: "the tail wraps one entry late (after index 3 of a 3-entry queue)",
      module: "io_sq_tail_proof",
      find: "sq_tail_next <= (sq_tail == last_sq_index) ? 2'd0 : (sq_tail + 2'd1);",
      replace: "sq_tail_next <= (sq_tail == (last_sq_index + 2'd1)) ? 2'd0 : (sq_tail + 2'd1);",
    },
  },
  {
    name: "io_slot_flags",
    description:
      "the I/O command slots (12): a busy flag is set only by a submission into the slot taken from the offer, cleared only by a completion record whose CID was in flight as it came (or a restart); a stray record changes nothing; the slot taken for a command is never in flight (no CID reuse); a record completes a command exactly when its CID was in flight",
    depth: 12,
    method: "induction",
    build: ioSlotFlagsProof,
    broken: {
      description: "a completion record frees its slot whether or not the slot was in flight as it came (a stray record racing a new command frees that command's slot)",
      module: "io_slot_flags_proof",
      find: "end else if ((s1_frees & (s1_slot == 4'd0)) & s1_busy_group[0]) begin",
      replace: "end else if (s1_frees & (s1_slot == 4'd0)) begin",
    },
  },
  {
    name: "io_completion_queue",
    description: "CQ head and phase follow the records made (wrap at 3 entries); a record's CID is the head entry's; the head doorbell is due exactly while the head differs from the value last rung",
    depth: 12,
    method: "bounded",
    build: ioCompletionQueueProof,
    broken: {
      description: "the rung head is taken from the current head, not the value the engine wrote (a head that moved meanwhile is never announced)",
      module: "io_completion_queue_q4_f0",
      find: "rung_head <= doorbell_rung_head;",
      replace: "rung_head <= cq_head;",
    },
  },
];
