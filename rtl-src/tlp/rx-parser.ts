// The receive side of the TLP layer: parses the 7-series root port's m_axis_rx beats (PROTOCOL_FACTS
// §A.4) and routes each TLP by its fields.
//
//  - Completions (Cpl/CplD) addressed to us (Requester ID = ours, tag < `tags`) go out on ONE
//    completion port with their tag; the tag allocator owns the tag -> requester map and the
//    completion timeout, so it sees every completion in one place, and a demultiplexer by tag bits
//    is a trivial block downstream of it if requesters need their own ports. Others are counted as
//    unexpected and dropped, as are CplLk/CplDLk (we never send a locked read).
//  - Memory reads (3DW and 4DW) queue in a FIFO for the completer. Its fill level drives rx_np_ok,
//    which drops while there is still room for NP_SLACK more reads: the core may deliver a couple
//    of non-posted TLPs after rx_np_ok falls (§A.2), and one may be inside this parser. So a stalled
//    completer holds back only non-posted TLPs; posted writes and completions keep flowing.
//  - Memory writes go out as a header and a payload stream.
//  - Messages are counted and dropped.
//  - Other non-posted requests (IO, configuration, MRdLk, AtomicOps, TCfg*) are answered: an
//    Unsupported Request completion header queues for the transmit arbiter (that queue also gates
//    rx_np_ok). Reserved Fmt/Type encodings are Malformed.
//  - Malformed TLPs (reserved type, payload over MPS, a memory request crossing 4 KiB or breaking
//    the byte-enable rules, IO/configuration Length other than 1, beats contradicting the header)
//    are dropped and counted; a non-posted one gets no completion (a Malformed TLP is discarded).
//
// Payloads come out in memory order: the per-DW byte swap of §A.4 undone, and a 3DW TLP's payload
// (which starts in the high DW of the second beat) shifted down one DW. The header of a TLP with
// data is emitted when its second beat arrives, so its payload follows without a gap. The core
// never delivers a TLP whose beats contradict its Length; should one arrive after its header was
// forwarded, its payload stream ends (tlast) at whichever comes first, the input's tlast or the
// announced Length, and the TLP is counted as malformed.
//
// m_axis_rx_tready depends on registers only (this parser's state and the registered ready of the
// output buffers): it falls only while the output the current beat needs is full.
import { C, Module, type Signal, type Value, cat, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { decodeRxTlpKind } from "./rx-tlp-kind.ts";
import { unsupportedRequestFields } from "./rx-unsupported-completion.ts";
import {
  CompletionStatus,
  type TlpLayerParams,
  completionHeader,
  coreRxStream,
  payloadStream,
  receivedCompletion,
  receivedMemoryRead,
  receivedMemoryWrite,
} from "./tlp-interfaces.ts";

export type TlpRxParams = Pick<TlpLayerParams, "maxPayloadBytes" | "tags" | "requesterId">;

export interface TlpRxOptions {
  /** RAM words of the memory-read and UR-completion queues (each holds one more in its output register). */
  nonPostedQueueDepth?: number;
  /** Width of the status counters (they wrap). */
  counterWidth?: number;
}

const DEFAULT_NON_POSTED_QUEUE_DEPTH = 8;
const DEFAULT_COUNTER_WIDTH = 32;
/** Free non-posted queue slots below which rx_np_ok falls: 2 the core may still send, 1 in this parser, 1 for rx_np_ok's register. */
const NP_SLACK = 4;
const KEEP_BOTH = 0xff;
const KEEP_LOW = 0x0f;
const FOUR_KIB_DW = 1024;
/** Completion and memory-write headers buffered ahead of their consumers (their payload waits in a 2-beat slice). */
const HEADER_QUEUE_DEPTH = 2;

/** Field lists of the queued/buffered headers, most significant first. */
const MEM_READ_FIELDS = ["address", "length_dw", "first_be", "last_be", "requester_id", "tag", "tc", "attr"] as const;
const MEM_WRITE_FIELDS = ["address", "length_dw", "first_be", "last_be", "poisoned"] as const;
const COMPLETION_FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "tag", "completer_id", "poisoned"] as const;
const UR_FIELDS = ["byte_count", "lower_address", "requester_id", "tag", "tc", "attr"] as const;

function widthOf(def: { fields: Record<string, { shape: { width: number } }> }, fields: readonly string[]): number {
  return fields.reduce((sum, f) => sum + def.fields[f].shape.width, 0);
}

function byteSwap(dw: Value): Value {
  return cat(dw.bits(7, 0), dw.bits(15, 8), dw.bits(23, 16), dw.bits(31, 24));
}

function checkParams(params: TlpRxParams, options: Required<TlpRxOptions>): void {
  const fail = (name: string, value: number, why: string) => {
    throw new RangeError(`tlp_rx: ${name} = ${value}: ${why}`);
  };
  if (![128, 256, 512, 1024, 2048, 4096].includes(params.maxPayloadBytes)) fail("maxPayloadBytes", params.maxPayloadBytes, "must be 128..4096, a power of two");
  if (!Number.isInteger(params.tags) || params.tags < 1 || params.tags > 256 || (params.tags & (params.tags - 1)) !== 0) fail("tags", params.tags, "must be a power of two, 1..256");
  if (!Number.isInteger(params.requesterId) || params.requesterId < 0 || params.requesterId > 0xffff) fail("requesterId", params.requesterId, "must be 16-bit");
  if (!Number.isInteger(options.nonPostedQueueDepth) || options.nonPostedQueueDepth < NP_SLACK) {
    fail("nonPostedQueueDepth", options.nonPostedQueueDepth, `must be an integer >= ${NP_SLACK} (rx_np_ok needs room for ${NP_SLACK} more)`);
  }
  if (!Number.isInteger(options.counterWidth) || options.counterWidth < 1 || options.counterWidth > 64) fail("counterWidth", options.counterWidth, "must be 1..64");
}

export function tlpRx(params: TlpRxParams, rxOptions: TlpRxOptions = {}): Module {
  const options: Required<TlpRxOptions> = {
    nonPostedQueueDepth: rxOptions.nonPostedQueueDepth ?? DEFAULT_NON_POSTED_QUEUE_DEPTH,
    counterWidth: rxOptions.counterWidth ?? DEFAULT_COUNTER_WIDTH,
  };
  checkParams(params, options);
  const id = params.requesterId.toString(16).padStart(4, "0");
  const m = new Module(
    `tlp_rx_mps${params.maxPayloadBytes}_t${params.tags}_id${id}_npq${options.nonPostedQueueDepth}_c${options.counterWidth}`,
  );

  const m_axis_rx = m.port(coreRxStream, "slave");
  m.waiveUnread(m_axis_rx.signals.tuser, "EP is read from the header; ECRC errors are not acted on; bar_hit is meaningless with the root port's BARs off; is_sof/is_eof are 128-bit only");
  const rx_np_ok = m.output(1);
  const completion = m.port(receivedCompletion, "master");
  const completion_data = m.port(payloadStream, "master");
  const mem_read = m.port(receivedMemoryRead, "master");
  const mem_write = m.port(receivedMemoryWrite, "master");
  const mem_write_data = m.port(payloadStream, "master");
  const ur_completion = m.port(completionHeader, "master");
  const count_messages = m.output(options.counterWidth);
  const count_unsupported = m.output(options.counterWidth);
  const count_malformed = m.output(options.counterWidth);
  const count_poisoned = m.output(options.counterWidth);
  const count_unexpected = m.output(options.counterWidth);

  // ---- output buffers ----
  const completionWidth = widthOf(receivedCompletion, COMPLETION_FIELDS);
  const memWriteWidth = widthOf(receivedMemoryWrite, MEM_WRITE_FIELDS);
  const completion_queue = m.instance(syncFifo({ width: completionWidth, depth: HEADER_QUEUE_DEPTH }));
  const payloadSlice = axisSkidBuffer({ dataWidth: 64 });
  const completion_data_slice = m.instance(payloadSlice);
  const mem_write_queue = m.instance(syncFifo({ width: memWriteWidth, depth: HEADER_QUEUE_DEPTH }));
  const mem_write_data_slice = m.instance(payloadSlice);
  const read_queue = m.instance(syncFifo({ width: widthOf(receivedMemoryRead, MEM_READ_FIELDS), depth: options.nonPostedQueueDepth }));
  const ur_queue = m.instance(syncFifo({ width: widthOf(completionHeader, UR_FIELDS), depth: options.nonPostedQueueDepth }));

  // ---- the beat on the input ----
  const input = m_axis_rx.signals;
  const beat_low = input.tdata.bits(31, 0);
  const beat_high = input.tdata.bits(63, 32);
  const in_ready = m.signal(1);
  const fire = input.tvalid.and(in_ready);

  // Beat 0 carries {H1, H0}: how many beats the whole TLP takes (header + payload + digest).
  const first_has_data = beat_low.bit(30);
  const first_length = beat_low.bits(9, 0);
  const first_payload_dw = mux(first_has_data, mux(first_length.eq(0), C(FOUR_KIB_DW, 11), first_length.zext(11)), C(0, 11));
  const first_total_dw = first_payload_dw.zext(12).addWrap(mux(beat_low.bit(29), C(4, 12), C(3, 12))).addWrap(beat_low.bit(15).zext(12));
  const beats_after_first = first_total_dw.addWrap(1).shr(1).trunc(11).subWrap(1);

  // ---- parser state ----
  const parser = m.fsm(["START", "HEADER1", "PAYLOAD", "DISCARD"]);
  /** The DW0 fields used after beat 0: Fmt/Type, TC, EP, Attr, Length. */
  const h0 = m.signal(24, { resetless: true });
  const h1 = m.signal(32, { resetless: true });
  /** The TLP's DW count is odd: its tlast beat carries only the low DW (tkeep 0x0F). */
  const ends_in_low_dw = m.signal(1);
  /** Beats of the current TLP still to come, this one included. */
  const beats_left = m.signal(11);

  const fmt_type = h0.bits(23, 16);
  const kind = decodeRxTlpKind(fmt_type);
  const has_data = h0.bit(22);
  const four_dw = h0.bit(21);
  const tc = h0.bits(15, 13);
  const poisoned = h0.bit(12);
  const attr = h0.bits(11, 10);
  const length_field = h0.bits(9, 0);
  const length_dw = mux(length_field.eq(0), C(FOUR_KIB_DW, 11), length_field.zext(11));
  const requester_id = h1.bits(31, 16);
  const request_tag = h1.bits(15, 8);
  const last_be = h1.bits(7, 4);
  const first_be = h1.bits(3, 0);

  // Beat 1 carries {H3, H2} (4DW) or {D0, H2} (3DW).
  const address_dw = mux(four_dw, beat_high.bits(31, 2), beat_low.bits(31, 2));
  const address = cat(mux(four_dw, beat_low, C(0, 32)), address_dw, C(0, 2));
  const completion_requester = beat_low.bits(31, 16);
  const completion_tag = beat_low.bits(15, 8);
  const raw_status = h1.bits(15, 13);
  const defined_status = [CompletionStatus.SC, CompletionStatus.UR, CompletionStatus.CRS, CompletionStatus.CA]
    .map((code) => raw_status.eq(code))
    .reduce((a, b) => a.or(b));
  // A requester treats a reserved completion status as Unsupported Request (PCIe Base §2.3.2).
  const status = mux(defined_status, raw_status, C(CompletionStatus.UR, 3));
  const tag_in_range = params.tags >= 256 ? C(1, 1) : completion_tag.lt(params.tags);
  const expected_completion = kind.completion.and(completion_requester.eq(params.requesterId)).and(tag_in_range);

  const memory_request = kind.memoryRead.or(kind.memoryWrite).or(kind.lockedRead);
  const crosses_4k = address_dw.bits(9, 0).zext(11).add(length_dw).gt(FOUR_KIB_DW);
  const bad_byte_enables = mux(length_dw.eq(1), last_be.ne(0), first_be.eq(0).or(last_be.eq(0)));
  const over_mps = has_data.and(length_dw.gt(params.maxPayloadBytes / 4));
  const malformed_header = kind.reserved
    .or(over_mps)
    .or(memory_request.and(crosses_4k.or(bad_byte_enables)))
    .or(kind.singleDwRequest.and(length_dw.ne(1)));
  // tkeep is 0xFF on every beat but the last, which has 0x0F when the TLP's DW count is odd (§A.4).
  const keep_bad = input.tkeep.ne(mux(input.tlast.and(ends_in_low_dw), C(KEEP_LOW, 8), C(KEEP_BOTH, 8)));
  const framing_bad = input.tlast.xor(beats_left.eq(1)).or(keep_bad);
  const header_ok = parser.is("HEADER1").and(fire).and(framing_bad.not()).and(malformed_header.not());

  const push_read = header_ok.and(kind.memoryRead);
  const push_write = header_ok.and(kind.memoryWrite);
  const push_completion = header_ok.and(expected_completion);
  const push_unsupported = header_ok.and(kind.unsupportedRequest);
  const forward_payload = push_write.or(push_completion.and(has_data));

  // ---- payload realignment ----
  const payload_shift = m.signal(1);
  const payload_to_completion = m.signal(1);
  /** Payload DWs of the current TLP not yet emitted. */
  const dw_left = m.signal(11);
  /** The high DW of the previous beat (3DW TLPs: the low DW of the next output word). */
  const held = m.signal(32, { resetless: true });
  /** A 3DW TLP's last DW is in `held` and goes out alone. */
  const flush_pending = m.signal(1);

  const payload_ready = mux(payload_to_completion, completion_data_slice.io.s_axis_tready, mem_write_data_slice.io.s_axis_tready);
  const beat_emits = parser.is("PAYLOAD").and(mux(payload_shift, dw_left.ge(2), dw_left.ne(0)));
  const emit_fire = fire.and(beat_emits);
  const flush_fire = flush_pending.and(payload_ready);
  const ends_early = input.tlast.and(beats_left.ne(1));
  const emit_low = mux(payload_shift, held, beat_low);
  const emit_high = mux(payload_shift, beat_low, beat_high);

  const out_valid = m.signal(1);
  const out_data = m.signal(64);
  const out_keep = m.signal(8);
  const out_last = m.signal(1);
  m.If(flush_pending, () => {
    m.comb(out_valid, 1);
    m.comb(out_data, cat(C(0, 32), byteSwap(held)));
    m.comb(out_keep, KEEP_LOW);
    m.comb(out_last, 1);
  }).Else(() => {
    m.comb(out_valid, emit_fire);
    m.comb(out_data, cat(byteSwap(emit_high), byteSwap(emit_low)));
    m.comb(out_keep, mux(dw_left.ge(2), C(KEEP_BOTH, 8), C(KEEP_LOW, 8)));
    m.comb(out_last, dw_left.le(2).or(ends_early));
  });

  m.If(header_ok.and(forward_payload), () => {
    m.sync(payload_shift, four_dw.not());
    m.sync(payload_to_completion, kind.completion);
    m.sync(dw_left, length_dw);
    m.sync(held, beat_high);
    m.sync(flush_pending, four_dw.not().and(length_dw.eq(1)));
  })
    .Elif(emit_fire, () => {
      m.sync(held, beat_high);
      m.If(ends_early.or(dw_left.le(2)), () => m.sync(dw_left, 0)).Else(() => m.sync(dw_left, dw_left.subWrap(2)));
      m.sync(flush_pending, payload_shift.and(dw_left.eq(3)).and(ends_early.not()));
    })
    .Elif(flush_fire, () => {
      m.sync(flush_pending, 0);
      m.sync(dw_left, 0);
    });

  // ---- input ready: the output the current beat needs has room ----
  const header_room = mux(
    kind.memoryRead,
    read_queue.io.in_ready,
    mux(
      kind.memoryWrite,
      mem_write_queue.io.in_ready.and(flush_pending.not()),
      mux(
        kind.completion,
        completion_queue.io.in_ready.and(has_data.not().or(flush_pending.not())),
        mux(kind.unsupportedRequest, ur_queue.io.in_ready, C(1, 1)),
      ),
    ),
  );
  m.comb(in_ready, mux(parser.is("HEADER1"), header_room, mux(beat_emits, payload_ready, C(1, 1))));
  m.comb(input.tready, in_ready);

  // ---- parser sequence ----
  parser.body({
    START: () => {
      m.If(fire, () => {
        m.sync(h0, cat(beat_low.bits(31, 24), beat_low.bits(22, 20), beat_low.bit(14), beat_low.bits(13, 12), beat_low.bits(9, 0)));
        m.sync(ends_in_low_dw, first_total_dw.bit(0));
        m.sync(h1, beat_high);
        m.sync(beats_left, beats_after_first);
        // A TLP that ends in its first beat is shorter than any header: dropped as malformed.
        m.If(input.tlast.not(), () => parser.next("HEADER1"));
      });
    },
    HEADER1: () => {
      m.If(fire, () => {
        m.sync(beats_left, beats_left.subWrap(1));
        m.If(input.tlast, () => parser.next("START"))
          .Elif(framing_bad.or(malformed_header), () => parser.next("DISCARD"))
          .Else(() => parser.next("PAYLOAD"));
      });
    },
    PAYLOAD: () => {
      m.If(fire, () => {
        m.sync(beats_left, beats_left.subWrap(1));
        m.If(input.tlast, () => parser.next("START")).Elif(beats_left.eq(1), () => parser.next("DISCARD"));
      });
    },
    DISCARD: () => {
      m.If(fire.and(input.tlast), () => parser.next("START"));
    },
  });

  // ---- header outputs ----
  const completion_fields: Record<(typeof COMPLETION_FIELDS)[number], Value> = {
    has_data,
    status,
    byte_count: h1.bits(11, 0),
    lower_address: beat_low.bits(6, 0),
    length_dw: mux(has_data, length_field, C(0, 10)),
    tag: completion_tag,
    completer_id: requester_id,
    poisoned,
  };
  m.comb(completion_queue.io.in_data, cat(...COMPLETION_FIELDS.map((f) => completion_fields[f])));
  m.comb(completion_queue.io.in_valid, push_completion);
  unpack(m, completion_queue.io.out_data, completion.signals, COMPLETION_FIELDS, completionWidth);
  m.comb(completion.signals.valid, completion_queue.io.out_valid);
  m.comb(completion_queue.io.out_ready, completion.signals.ready);

  const mem_write_fields: Record<(typeof MEM_WRITE_FIELDS)[number], Value> = { address, length_dw: length_field, first_be, last_be, poisoned };
  m.comb(mem_write_queue.io.in_data, cat(...MEM_WRITE_FIELDS.map((f) => mem_write_fields[f])));
  m.comb(mem_write_queue.io.in_valid, push_write);
  unpack(m, mem_write_queue.io.out_data, mem_write.signals, MEM_WRITE_FIELDS, memWriteWidth);
  m.comb(mem_write.signals.valid, mem_write_queue.io.out_valid);
  m.comb(mem_write_queue.io.out_ready, mem_write.signals.ready);

  const mem_read_fields: Record<(typeof MEM_READ_FIELDS)[number], Value> = {
    address,
    length_dw: length_field,
    first_be,
    last_be,
    requester_id,
    tag: request_tag,
    tc,
    attr,
  };
  m.comb(read_queue.io.in_data, cat(...MEM_READ_FIELDS.map((f) => mem_read_fields[f])));
  m.comb(read_queue.io.in_valid, push_read);
  unpack(m, read_queue.io.out_data, mem_read.signals, MEM_READ_FIELDS, read_queue.io.out_data.width);
  m.comb(mem_read.signals.valid, read_queue.io.out_valid);
  m.comb(read_queue.io.out_ready, mem_read.signals.ready);

  const ur = unsupportedRequestFields(kind.lockedRead, length_dw, first_be, last_be, address_dw.bits(4, 0));
  const ur_fields: Record<(typeof UR_FIELDS)[number], Value> = {
    byte_count: ur.byteCount,
    lower_address: ur.lowerAddress,
    requester_id,
    tag: request_tag,
    tc,
    attr,
  };
  m.comb(ur_queue.io.in_data, cat(...UR_FIELDS.map((f) => ur_fields[f])));
  m.comb(ur_queue.io.in_valid, push_unsupported);
  unpack(m, ur_queue.io.out_data, ur_completion.signals, UR_FIELDS, ur_queue.io.out_data.width);
  m.comb(ur_completion.signals.has_data, 0);
  m.comb(ur_completion.signals.status, CompletionStatus.UR);
  m.comb(ur_completion.signals.length_dw, 0);
  m.comb(ur_completion.signals.valid, ur_queue.io.out_valid);
  m.comb(ur_queue.io.out_ready, ur_completion.signals.ready);

  // ---- payload outputs ----
  for (const [slice, toCompletion] of [
    [completion_data_slice, 1],
    [mem_write_data_slice, 0],
  ] as const) {
    m.comb(slice.io.s_axis_tvalid, out_valid.and(payload_to_completion.eq(toCompletion)));
    m.comb(slice.io.s_axis_tdata, out_data);
    m.comb(slice.io.s_axis_tkeep, out_keep);
    m.comb(slice.io.s_axis_tlast, out_last);
  }
  m.connect(completion_data_slice.bundle(payloadStream, "m_axis"), completion_data);
  m.connect(mem_write_data_slice.bundle(payloadStream, "m_axis"), mem_write_data);

  // ---- rx_np_ok and status counters ----
  const npLimit = options.nonPostedQueueDepth + 1 - NP_SLACK;
  const np_room = read_queue.io.count.le(npLimit).and(ur_queue.io.count.le(npLimit));
  m.sync(rx_np_ok, np_room);

  const malformed = fire.and(
    mux(
      parser.is("START"),
      input.tlast,
      mux(parser.is("HEADER1"), framing_bad.or(malformed_header), parser.is("PAYLOAD").and(ends_early.or(keep_bad).or(input.tlast.not().and(beats_left.eq(1))))),
    ),
  );
  const unexpected = header_ok.and(kind.completion.and(expected_completion.not()).or(kind.lockedCompletion));
  count(m, count_messages, header_ok.and(kind.message));
  count(m, count_unsupported, push_unsupported);
  count(m, count_malformed, malformed);
  count(m, count_poisoned, poisoned.and(push_write.or(push_completion)));
  count(m, count_unexpected, unexpected);
  return m;
}

/** Drives `ports[field]` from the low `width` bits of `packed`, fields most significant first. */
function unpack(m: Module, packed: Value, ports: Readonly<Record<string, Signal>>, fields: readonly string[], width: number): void {
  let lsb = width;
  for (const field of fields) {
    const fieldWidth = ports[field].width;
    lsb -= fieldWidth;
    m.comb(ports[field], packed.bits(lsb + fieldWidth - 1, lsb));
  }
}

function count(m: Module, counter: Signal, event: Value): void {
  m.If(event, () => m.sync(counter, counter.addWrap(1)));
}

