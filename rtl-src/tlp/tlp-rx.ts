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
// (which starts in the high DW of the second beat) shifted down one DW. The header checks and the
// header-queue writes they lead to are spread over three cycles, as one they would not fit 250 MHz:
// what beat 0 alone decides (type, MPS, byte enables, IO/configuration Length) as it arrives; the
// framing as beat 1 arrives; the 4 KiB crossing, whose carry chain on beat 1's address ends in a
// register, in the cycle after, when the header is written into its queue (a crossing request's
// header, payload and remaining beats are withheld). The payload path is loaded by beat 1, so the
// payload follows without a gap. The core never delivers a TLP whose beats contradict its Length;
// should one arrive after its header was forwarded, its payload stream ends (tlast) at whichever
// comes first, the input's tlast or the announced Length, and the TLP is counted as malformed.
//
// m_axis_rx_tready depends on registers only (this parser's state and the registered ready of the
// output buffers): it falls only while the output the current beat needs is full. A header queue's
// room is checked with the second beat; nothing else writes that queue before the routed header does.
import { C, Module, type Signal, type Value, cat, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { decodeRxTlpKind } from "./rx-tlp-kind.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { unsupportedRequestFields } from "./rx-unsupported-completion.ts";
import {
  type TlpLayerParams,
  completionHeader,
  coreRxStream,
  payloadStream,
  receivedCompletion,
  receivedMemoryRead,
  receivedMemoryWrite,
} from "./tlp-interfaces.ts";
import { hex16 } from "./tlp-interfaces.ts";
import { CPL_STATUS_CA, CPL_STATUS_CRS, CPL_STATUS_SC, CPL_STATUS_UR, KEEP_BOTH_DW, KEEP_LOW_DW } from "./tlp-constants.ts";

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

/**
 * The receive side of the TLP layer: parses 7-series m_axis_rx beats and routes each TLP
 * (completions to their requester, memory reads to the completer with rx_np_ok flow control,
 * memory writes out), answers what a root port does not serve with UR, and counts what it drops.
 */
export function tlpRx(params: TlpRxParams, rxOptions: TlpRxOptions = {}) {
  const options: Required<TlpRxOptions> = {
    nonPostedQueueDepth: rxOptions.nonPostedQueueDepth ?? DEFAULT_NON_POSTED_QUEUE_DEPTH,
    counterWidth: rxOptions.counterWidth ?? DEFAULT_COUNTER_WIDTH,
  };
  checkParams(params, options);
  const id = params.requesterId.toString(16).padStart(4, "0");
  const m = new Module(
    `tlp_rx_mps${params.maxPayloadBytes}_t${params.tags}_id${id}_npq${options.nonPostedQueueDepth}_c${options.counterWidth}`,
  );
  m.parameters({ maxPayloadBytes: params.maxPayloadBytes, tags: params.tags, requesterId: hex16(params.requesterId), nonPostedQueueDepth: options.nonPostedQueueDepth, counterWidth: options.counterWidth });

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

  // Beat 0 carries {H1, H0}: how many beats the whole TLP takes (header + payload + digest). With
  // P payload DWs and a 3 or 4 DW header (+1 digest DW), the beats after this one are
  // ceil((P + header + digest) / 2) - 1 = (P + header + digest - 1) >> 1.
  const first_has_data = beat_low.bit(30);
  const first_four_dw = beat_low.bit(29);
  const first_digest = beat_low.bit(15);
  const first_length = beat_low.bits(9, 0);
  const first_payload_dw = mux(first_has_data, mux(first_length.eq(0), C(FOUR_KIB_DW, 11), first_length.zext(11)), C(0, 11));
  const header_digest_dw_minus_one = mux(first_four_dw, C(3, 3), C(2, 3)).addWrap(first_digest.zext(3));
  const beats_after_first = first_payload_dw.zext(12).addWrap(header_digest_dw_minus_one.zext(12)).shr(1);
  const first_total_dw_odd = first_payload_dw.bit(0).xor(first_four_dw.not()).xor(first_digest);
  // Two beats: no payload and anything but a 4DW header with a digest, or 1 DW after a bare 3DW header.
  const first_two_beats = mux(first_has_data, first_length.eq(1).and(first_four_dw.not()).and(first_digest.not()), first_four_dw.and(first_digest).not());
  const first_kind = decodeRxTlpKind(beat_low.bits(31, 24));
  const first_length_dw = mux(first_length.eq(0), C(FOUR_KIB_DW, 11), first_length.zext(11));
  const first_first_be = beat_high.bits(3, 0);
  const first_last_be = beat_high.bits(7, 4);
  const first_bad_byte_enables = mux(first_length_dw.eq(1), first_last_be.ne(0), first_first_be.eq(0).or(first_last_be.eq(0)));
  const first_over_mps = first_has_data.and(first_length_dw.gt(params.maxPayloadBytes / 4));
  const first_memory_request = first_kind.memoryRead.or(first_kind.memoryWrite).or(first_kind.lockedRead);
  /** Everything that makes a TLP malformed and is known from its first beat. */
  const first_malformed = first_kind.reserved
    .or(first_over_mps)
    .or(first_memory_request.and(first_bad_byte_enables))
    .or(first_kind.singleDwRequest.and(first_length_dw.ne(1)));

  // ---- parser state ----
  const parser = m.fsm(["START", "HEADER1", "PAYLOAD", "DISCARD"]);
  /** The DW0 fields used after beat 0: Fmt[1:0] (with data, 4DW header), TC, EP, Attr, Length. */
  const h0 = m.signal(18, { resetless: true });
  const h1 = m.signal(32, { resetless: true });
  /** Beat 1, {H3, H2} or {D0, H2}, but for H3's reserved bits [1:0]: the routed header's fields. */
  const h23 = m.signal(62, { resetless: true });
  /** The TLP's class, decoded from its Fmt/Type as beat 0 arrives. */
  const kind = routingKindRegisters(m);
  /** Beat 0 alone makes the TLP malformed (reserved type, over MPS, byte enables, IO/configuration Length). */
  const malformed_first_beat = m.signal(1);
  /** MRd, MWr or MRdLk: the 4 KiB rule applies. */
  const memory_request = m.signal(1);
  /** Length - 1 (mod 1024): the request crosses 4 KiB when its DW address [9:0] plus this carries out. */
  const last_dw_index = m.signal(10, { resetless: true });
  /** Beat 1's address carried out (see last_dw_index), read as a 3DW and as a 4DW header. */
  const carry_4k_3dw = m.signal(1, { resetless: true });
  const carry_4k_4dw = m.signal(1, { resetless: true });
  /** The TLP's DW count is odd: its tlast beat carries only the low DW (tkeep 0x0F). */
  const ends_in_low_dw = m.signal(1);
  /** Beats of the current TLP still to come, this one included. */
  const beats_left = m.signal(11);
  /** beats_left is 1: the beat on the input must be the TLP's last (a register, so no compare precedes the framing checks). */
  const last_beat_due = m.signal(1);

  const has_data = h0.bit(17);
  const four_dw = h0.bit(16);
  const tc = h0.bits(15, 13);
  const poisoned = h0.bit(12);
  const attr = h0.bits(11, 10);
  const length_field = h0.bits(9, 0);
  const length_dw = mux(length_field.eq(0), C(FOUR_KIB_DW, 11), length_field.zext(11));
  const requester_id = h1.bits(31, 16);
  const request_tag = h1.bits(15, 8);
  const last_be = h1.bits(7, 4);
  const first_be = h1.bits(3, 0);

  // Beat 1 carries {H3, H2} (4DW) or {D0, H2} (3DW): checked as it arrives, routed from h23 next cycle.
  const beat1 = beatOneFields(beat_low, beat_high.bits(31, 2), four_dw);
  const routed = beatOneFields(h23.bits(31, 0), h23.bits(61, 32), four_dw);
  const raw_status = h1.bits(15, 13);
  const defined_status = [CPL_STATUS_SC, CPL_STATUS_UR, CPL_STATUS_CRS, CPL_STATUS_CA]
    .map((code) => raw_status.eq(code))
    .reduce((a, b) => a.or(b));
  // A requester treats a reserved completion status as Unsupported Request (PCIe Base §2.3.2).
  const status = mux(defined_status, raw_status, CPL_STATUS_UR);
  const tag_in_range = params.tags >= 256 ? C(1, 1) : beat1.completionTag.lt(params.tags);
  const expected_completion = kind.completion.and(beat1.completionRequester.eq(params.requesterId)).and(tag_in_range);

  // tkeep is 0xFF on every beat but the last, which has 0x0F when the TLP's DW count is odd (§A.4).
  const keep_bad = input.tkeep.ne(mux(input.tlast.and(ends_in_low_dw), KEEP_LOW_DW, KEEP_BOTH_DW));
  const framing_bad = input.tlast.xor(last_beat_due).or(keep_bad);
  const header_ok = parser.is("HEADER1").and(fire).and(framing_bad.not()).and(malformed_first_beat.not());
  const carries_past_4k = (addressDw: Value) => addressDw.bits(9, 0).add(last_dw_index).bit(10);
  // The 4 KiB check ends in registers (one per header size, so no address mux precedes the carry
  // chain) and acts from the next cycle: it withholds the routed header, the payload and the rest of
  // the TLP of a request that crosses. Valid until the next beat 1.
  const crosses_4k = memory_request.and(mux(four_dw, carry_4k_4dw, carry_4k_3dw));

  // The routing decided by beat 1, acted on in the next cycle.
  const header_passed = m.signal(1);
  const route_read = m.signal(1);
  const route_write = m.signal(1);
  const route_unsupported = m.signal(1);
  const push_completion = m.signal(1);
  const message_received = m.signal(1);
  const unexpected_received = m.signal(1);
  m.sync(header_passed, header_ok);
  m.sync(route_read, header_ok.and(kind.memoryRead));
  m.sync(route_write, header_ok.and(kind.memoryWrite));
  m.sync(route_unsupported, header_ok.and(kind.unsupportedRequest));
  m.sync(push_completion, header_ok.and(expected_completion));
  m.sync(message_received, header_ok.and(kind.message));
  m.sync(unexpected_received, header_ok.and(kind.completion.and(expected_completion.not()).or(kind.lockedCompletion)));
  // Completions and messages are not memory requests: the 4 KiB rule does not apply to them.
  const push_read = route_read.and(crosses_4k.not());
  const push_write = route_write.and(crosses_4k.not());
  const push_unsupported = route_unsupported.and(crosses_4k.not());
  const forward_payload = kind.memoryWrite.or(expected_completion.and(has_data));

  // ---- payload realignment ----
  const payload_shift = m.signal(1);
  const payload_to_completion = m.signal(1);
  /** Payload DWs of the current TLP not yet emitted. */
  const dw_left = m.signal(11);
  /** The high DW of the previous beat (3DW TLPs: the low DW of the next output word). */
  const held = m.signal(32, { resetless: true });
  /** A 3DW TLP's last DW is in `held` and goes out alone. */
  const flush_pending = m.signal(1);
  /** The next beat carries payload DWs to forward (unless the TLP crosses 4 KiB): m_axis_rx_tready without a compare on dw_left. */
  const payload_due = m.signal(1);

  const payload_ready = mux(payload_to_completion, completion_data_slice.ports.s_axis.signals.tready, mem_write_data_slice.ports.s_axis.signals.tready);
  const beat_emits = parser.is("PAYLOAD").and(payload_due).and(crosses_4k.not());
  const emit_fire = fire.and(beat_emits);
  const flush_fire = flush_pending.and(payload_ready);
  const ends_early = input.tlast.and(last_beat_due.not());
  const emit_low = mux(payload_shift, held, beat_low);
  const emit_high = mux(payload_shift, beat_low, beat_high);

  const out_valid = m.signal(1);
  const out_data = m.signal(64);
  const out_keep = m.signal(8);
  const out_last = m.signal(1);
  m.If(flush_pending, () => {
    m.comb(out_valid, 1);
    m.comb(out_data, cat(C(0, 32), byteSwap(held)));
    m.comb(out_keep, KEEP_LOW_DW);
    m.comb(out_last, 1);
  }).Else(() => {
    m.comb(out_valid, emit_fire);
    m.comb(out_data, cat(byteSwap(emit_high), byteSwap(emit_low)));
    m.comb(out_keep, mux(dw_left.ge(2), KEEP_BOTH_DW, KEEP_LOW_DW));
    m.comb(out_last, dw_left.le(2).or(ends_early));
  });

  // The payload path is loaded before the 4 KiB check is known (crosses_4k keeps such a payload
  // in), but never while a flush is pending: header_room holds such a beat 1 back. A lone flushed
  // DW is the payload of a 1-DW request, which never crosses 4 KiB.
  m.If(parser.is("HEADER1").and(fire).and(forward_payload), () => {
    m.sync(payload_shift, four_dw.not());
    m.sync(payload_to_completion, kind.completion);
    m.sync(dw_left, length_dw);
    m.sync(held, beat_high);
    m.sync(flush_pending, header_ok.and(four_dw.not()).and(length_dw.eq(1)));
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
  // A shifted (3DW) payload emits a word while two DWs are left (the last one alone is flushed), an
  // unshifted one while any is.
  m.If(parser.is("HEADER1").and(fire), () => m.sync(payload_due, forward_payload.and(four_dw.or(length_dw.ge(2))))).Elif(emit_fire, () =>
    m.sync(payload_due, ends_early.not().and(mux(payload_shift, dw_left.ge(4), dw_left.ge(3)))),
  );

  // ---- input ready: the output the current beat needs has room ----
  const header_room = mux(
    kind.memoryRead,
    read_queue.ports.in.signals.ready,
    mux(
      kind.memoryWrite,
      mem_write_queue.ports.in.signals.ready.and(flush_pending.not()),
      mux(
        kind.completion,
        completion_queue.ports.in.signals.ready.and(has_data.not().or(flush_pending.not())),
        mux(kind.unsupportedRequest, ur_queue.ports.in.signals.ready, C(1, 1)),
      ),
    ),
  );
  m.comb(in_ready, mux(parser.is("HEADER1"), header_room, mux(beat_emits, payload_ready, C(1, 1))));
  m.comb(input.tready, in_ready);

  // ---- parser sequence ----
  parser.body({
    START: () => {
      m.If(fire, () => {
        m.sync(h0, cat(beat_low.bits(30, 29), beat_low.bits(22, 20), beat_low.bit(14), beat_low.bits(13, 12), beat_low.bits(9, 0)));
        m.sync(ends_in_low_dw, first_total_dw_odd);
        m.sync(h1, beat_high);
        m.sync(beats_left, beats_after_first.trunc(11));
        m.sync(last_beat_due, first_two_beats);
        for (const key of ROUTING_KINDS) m.sync(kind[key], first_kind[key]);
        m.sync(malformed_first_beat, first_malformed);
        m.sync(memory_request, first_memory_request);
        m.sync(last_dw_index, first_length.subWrap(1));
        // A TLP that ends in its first beat is shorter than any header: dropped as malformed.
        m.If(input.tlast.not(), () => parser.next("HEADER1"));
      });
    },
    HEADER1: () => {
      m.If(fire, () => {
        m.sync(h23, cat(beat_high.bits(31, 2), beat_low));
        m.sync(carry_4k_3dw, carries_past_4k(beat_low.bits(31, 2)));
        m.sync(carry_4k_4dw, carries_past_4k(beat_high.bits(31, 2)));
        m.sync(beats_left, beats_left.subWrap(1));
        m.sync(last_beat_due, beats_left.eq(2));
        m.If(input.tlast, () => parser.next("START"))
          .Elif(framing_bad.or(malformed_first_beat), () => parser.next("DISCARD"))
          .Else(() => parser.next("PAYLOAD"));
      });
    },
    PAYLOAD: () => {
      m.If(fire, () => {
        m.sync(beats_left, beats_left.subWrap(1));
        m.sync(last_beat_due, beats_left.eq(2));
        m.If(input.tlast, () => parser.next("START")).Elif(last_beat_due, () => parser.next("DISCARD"));
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
    lower_address: routed.lowerAddress,
    length_dw: mux(has_data, length_field, C(0, 10)),
    tag: routed.completionTag,
    completer_id: requester_id,
    poisoned,
  };
  m.comb(completion_queue.ports.in.signals.data, cat(...COMPLETION_FIELDS.map((f) => completion_fields[f])));
  m.comb(completion_queue.ports.in.signals.valid, push_completion);
  unpack(m, completion_queue.ports.out.signals.data, completion.signals, COMPLETION_FIELDS, completionWidth);
  m.comb(completion.signals.valid, completion_queue.ports.out.signals.valid);
  m.comb(completion_queue.ports.out.signals.ready, completion.signals.ready);

  const mem_write_fields: Record<(typeof MEM_WRITE_FIELDS)[number], Value> = { address: routed.address, length_dw: length_field, first_be, last_be, poisoned };
  m.comb(mem_write_queue.ports.in.signals.data, cat(...MEM_WRITE_FIELDS.map((f) => mem_write_fields[f])));
  m.comb(mem_write_queue.ports.in.signals.valid, push_write);
  unpack(m, mem_write_queue.ports.out.signals.data, mem_write.signals, MEM_WRITE_FIELDS, memWriteWidth);
  m.comb(mem_write.signals.valid, mem_write_queue.ports.out.signals.valid);
  m.comb(mem_write_queue.ports.out.signals.ready, mem_write.signals.ready);

  const mem_read_fields: Record<(typeof MEM_READ_FIELDS)[number], Value> = {
    address: routed.address,
    length_dw: length_field,
    first_be,
    last_be,
    requester_id,
    tag: request_tag,
    tc,
    attr,
  };
  m.comb(read_queue.ports.in.signals.data, cat(...MEM_READ_FIELDS.map((f) => mem_read_fields[f])));
  m.comb(read_queue.ports.in.signals.valid, push_read);
  unpack(m, read_queue.ports.out.signals.data, mem_read.signals, MEM_READ_FIELDS, read_queue.ports.out.signals.data.width);
  m.comb(mem_read.signals.valid, read_queue.ports.out.signals.valid);
  m.comb(read_queue.ports.out.signals.ready, mem_read.signals.ready);

  const ur = unsupportedRequestFields(kind.lockedRead, length_dw, first_be, last_be, routed.addressDw.bits(4, 0));
  // Byte Count (two subtractions) needs only beat 0's fields: it is computed while beat 1 is checked.
  const ur_byte_count = m.signal(12, { resetless: true });
  m.sync(ur_byte_count, ur.byteCount);
  const ur_fields: Record<(typeof UR_FIELDS)[number], Value> = {
    byte_count: ur_byte_count,
    lower_address: ur.lowerAddress,
    requester_id,
    tag: request_tag,
    tc,
    attr,
  };
  m.comb(ur_queue.ports.in.signals.data, cat(...UR_FIELDS.map((f) => ur_fields[f])));
  m.comb(ur_queue.ports.in.signals.valid, push_unsupported);
  unpack(m, ur_queue.ports.out.signals.data, ur_completion.signals, UR_FIELDS, ur_queue.ports.out.signals.data.width);
  m.comb(ur_completion.signals.has_data, 0);
  m.comb(ur_completion.signals.status, CPL_STATUS_UR);
  m.comb(ur_completion.signals.length_dw, 0);
  m.comb(ur_completion.signals.valid, ur_queue.ports.out.signals.valid);
  m.comb(ur_queue.ports.out.signals.ready, ur_completion.signals.ready);

  // ---- payload outputs ----
  for (const [slice, toCompletion] of [
    [completion_data_slice, 1],
    [mem_write_data_slice, 0],
  ] as const) {
    m.comb(slice.ports.s_axis.signals.tvalid, out_valid.and(payload_to_completion.eq(toCompletion)));
    m.comb(slice.ports.s_axis.signals.tdata, out_data);
    m.comb(slice.ports.s_axis.signals.tkeep, out_keep);
    m.comb(slice.ports.s_axis.signals.tlast, out_last);
  }
  m.connect(completion_data_slice.ports.m_axis, completion_data);
  m.connect(mem_write_data_slice.ports.m_axis, mem_write_data);

  // ---- rx_np_ok and status counters ----
  const npLimit = options.nonPostedQueueDepth + 1 - NP_SLACK;
  // A header routed this cycle is not in its queue's count yet.
  const np_room = queueBelow(read_queue.ports.count, push_read, npLimit).and(queueBelow(ur_queue.ports.count, push_unsupported, npLimit));
  m.sync(rx_np_ok, np_room);

  /** The beat taken in the previous cycle showed its TLP malformed (the 4 KiB crossing aside). */
  const malformed = m.signal(1);
  m.sync(
    malformed,
    fire.and(
      mux(
        parser.is("START"),
        input.tlast,
        mux(
          parser.is("HEADER1"),
          framing_bad.or(malformed_first_beat),
          parser.is("PAYLOAD").and(crosses_4k.not()).and(ends_early.or(keep_bad).or(input.tlast.not().and(last_beat_due))),
        ),
      ),
    ),
  );
  // A 4 KiB crossing is counted the cycle after its beat 1, together with that beat's other checks,
  // which it passed: the two never coincide.
  statusCounter(m, count_messages, message_received, "count_messages");
  statusCounter(m, count_unsupported, push_unsupported, "count_unsupported");
  statusCounter(m, count_malformed, malformed.or(header_passed.and(crosses_4k)), "count_malformed");
  statusCounter(m, count_poisoned, poisoned.and(push_write.or(push_completion)), "count_poisoned");
  statusCounter(m, count_unexpected, unexpected_received, "count_unexpected");
  return m.exposing({
    m_axis_rx,
    rx_np_ok,
    completion,
    completion_data,
    mem_read,
    mem_write,
    mem_write_data,
    ur_completion,
    count_messages,
    count_unsupported,
    count_malformed,
    count_poisoned,
    count_unexpected,
  });
}

/** The classes that steer a TLP after its first beat (reserved and IO/configuration Length are settled by then). */
const ROUTING_KINDS = ["memoryRead", "memoryWrite", "completion", "lockedCompletion", "message", "unsupportedRequest", "lockedRead"] as const;
type RoutingKind = Record<(typeof ROUTING_KINDS)[number], Signal>;

/** One register per routing class, named `kind_<class>`; the parser loads them from beat 0. */
function routingKindRegisters(m: Module): RoutingKind {
  const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return Object.fromEntries(ROUTING_KINDS.map((key) => [key, m.signal(1, { name: `kind_${snake(key)}` })])) as RoutingKind;
}

/** The header fields in beat 1, {H3, H2} of a 4DW header or {D0, H2} of a 3DW one, from its low DW and H3[31:2]. */
function beatOneFields(low: Value, highAddressDw: Value, fourDw: Value) {
  const addressDw = mux(fourDw, highAddressDw, low.bits(31, 2));
  return {
    addressDw,
    address: cat(mux(fourDw, low, C(0, 32)), addressDw, C(0, 2)),
    completionRequester: low.bits(31, 16),
    completionTag: low.bits(15, 8),
    lowerAddress: low.bits(6, 0),
  };
}

/** `count` plus the header being written this cycle stays within `limit`. */
function queueBelow(count: Value, pushing: Value, limit: number): Value {
  return mux(pushing, count.le(limit - 1), count.le(limit));
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
