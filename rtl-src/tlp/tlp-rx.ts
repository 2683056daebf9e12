// The receive side of the TLP layer: parses the 7-series root port's m_axis_rx beats (PROTOCOL_FACTS
// §A.4) and routes each TLP by its fields.
//
//  - Completions (Cpl/CplD) addressed to us (Requester ID = ours, tag < `tags`) go out on ONE
//    completion port with their tag; the tag allocator owns the tag -> requester map and the
//    completion timeout, so it sees every completion in one place, and a demultiplexer by tag bits
//    is a trivial block downstream of it if requesters need their own ports. Others are counted as
//    unexpected and dropped, as are CplLk/CplDLk (we never send a locked read).
//  - Memory reads (3DW and 4DW) queue in a FIFO for the completer (this block's, or with
//    `externalReadQueue` the completer's own, which the layer builds that way). Its fill level drives rx_np_ok,
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
import { C, Module, type Signal, type Value, bitsFor, cat, mux } from "../../hdl/index.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { rxHeaderParser } from "./rx-header-parser.ts";
import { rxPayloadPath } from "./rx-payload-path.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { readByteCount, readByteCountTerms, unsupportedRequestFields } from "./rx-unsupported-completion.ts";
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
import { CPL_STATUS_UR } from "./tlp-constants.ts";

export type TlpRxParams = Pick<TlpLayerParams, "maxPayloadBytes" | "tags" | "requesterId">;

export interface TlpRxOptions {
  /** RAM words of the memory-read and UR-completion queues (each holds one more in its output register). */
  nonPostedQueueDepth?: number;
  /** Width of the status counters (they wrap). */
  counterWidth?: number;
  /**
   * Keep 33 bits of the SSD's memory-read and memory-write addresses in the queues: bits [31:0] and
   * whether any of bits [63:32] is set, delivered as bit 32 (bits [63:33] read 0). For a layer
   * whose host memory lies below 4 GiB (the controller's virtual map): an address at or above 4 GiB
   * still decodes as outside every region, and 31 bits per queued request are saved.
   */
  collapseHighAddress?: boolean;
  /**
   * The memory reads go straight into their consumer's queue (the completer's, in the layer) rather
   * than into a queue here: mem_read_valid pulses for one cycle per read, only when mem_read_ready
   * was high as its beat 1 was taken (the consumer's registered "room for one more", which nothing
   * but this port can take away), and `mem_read_count` (the consumer queue's fill level, of
   * nonPostedQueueDepth + 1 words) drives rx_np_ok as this block's own queue would.
   */
  externalReadQueue?: boolean;
  /**
   * Queue each memory write's Requester ID with its header and deliver it on `mem_write_requester_id`
   * (valid with mem_write_valid): a host behind a switch tells its SSDs' writes apart by it (issue
   * 14). Off, nothing is queued for it (16 bits per queued header saved) and the port is absent.
   */
  memWriteRequesterId?: boolean;
  /**
   * RAM words of the payload queue (it holds one more in its output register): more than the
   * cycles a consumer takes from a header to its payload keeps m_axis_rx_tready high between TLPs.
   */
  payloadQueueDepth?: number;
}

const REQUESTER_ID_BITS = 16;
/** Address bits queued with collapseHighAddress: [31:0] and the flag for [63:32]. */
const COLLAPSED_ADDRESS_BITS = 33;

const DEFAULT_NON_POSTED_QUEUE_DEPTH = 8;
const DEFAULT_COUNTER_WIDTH = 32;
/** Free non-posted queue slots below which rx_np_ok falls: 2 the core may still send, 1 in this parser, 1 for rx_np_ok's register. */
const NP_SLACK = 4;
/** Completion and memory-write headers buffered ahead of their consumers (their payloads wait in the payload queue). */
const HEADER_QUEUE_DEPTH = 2;
/**
 * Payload beats buffered ahead of their consumers (RAM words; one more in the output register). A
 * memory write's payload leaves only once its consumer has taken the header and decided where the
 * payload goes (the router's route queue, the array core's lane): a few cycles after the header.
 * With room for more than that latency, the next TLP's header is parsed and routed while the
 * previous payload still drains, so m_axis_rx_tready stays high across TLP boundaries (a 2-beat
 * slice held it low 3 cycles per TLP: reads capped at 37 cycles per 256-byte write, 93 % of the link).
 */
const DEFAULT_PAYLOAD_QUEUE_DEPTH = 16;

/** Field lists of the queued/buffered headers, most significant first. */
const MEM_READ_FIELDS = ["address", "length_dw", "first_be", "last_be", "requester_id", "tag", "tc", "attr"] as const;
const MEM_WRITE_FIELDS = ["address", "length_dw", "first_be", "last_be", "poisoned"] as const;
const COMPLETION_FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "tag", "completer_id", "poisoned"] as const;
const UR_FIELDS = ["byte_count", "lower_address", "requester_id", "tag", "tc", "attr"] as const;

function widthOf(def: { fields: Record<string, { shape: { width: number } }> }, fields: readonly string[]): number {
  return fields.reduce((sum, f) => sum + def.fields[f].shape.width, 0);
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
  if (!Number.isInteger(options.payloadQueueDepth) || options.payloadQueueDepth < 2) fail("payloadQueueDepth", options.payloadQueueDepth, "must be an integer >= 2");
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
    collapseHighAddress: rxOptions.collapseHighAddress ?? false,
    externalReadQueue: rxOptions.externalReadQueue ?? false,
    memWriteRequesterId: rxOptions.memWriteRequesterId ?? false,
    payloadQueueDepth: rxOptions.payloadQueueDepth ?? DEFAULT_PAYLOAD_QUEUE_DEPTH,
  };
  checkParams(params, options);
  const id = params.requesterId.toString(16).padStart(4, "0");
  const m = new Module(
    `tlp_rx_mps${params.maxPayloadBytes}_t${params.tags}_id${id}_npq${options.nonPostedQueueDepth}_c${options.counterWidth}${options.collapseHighAddress ? "_a33" : ""}${options.externalReadQueue ? "_xrq" : ""}${options.memWriteRequesterId ? "_wrid" : ""}${options.payloadQueueDepth === DEFAULT_PAYLOAD_QUEUE_DEPTH ? "" : `_pq${options.payloadQueueDepth}`}`,
  );
  m.parameters({
    maxPayloadBytes: params.maxPayloadBytes,
    tags: params.tags,
    requesterId: hex16(params.requesterId),
    nonPostedQueueDepth: options.nonPostedQueueDepth,
    counterWidth: options.counterWidth,
    collapseHighAddress: options.collapseHighAddress ? 1 : 0,
    externalReadQueue: options.externalReadQueue ? 1 : 0,
    memWriteRequesterId: options.memWriteRequesterId ? 1 : 0,
    payloadQueueDepth: options.payloadQueueDepth,
  });
  if (options.externalReadQueue) m.documentCombinationalPaths("m_axis_rx_tready follows mem_read_ready (the consumer queue's registered room) while a read's beat 1 is on the input");

  const m_axis_rx = m.port(coreRxStream, "slave");
  m.waiveUnread(m_axis_rx.signals.tuser, "EP is read from the header; ECRC errors are not acted on; bar_hit is meaningless with the root port's BARs off; is_sof/is_eof are 128-bit only");
  const rx_np_ok = m.output(1);
  /** The core's user_lnk_up: the parser restarts at a TLP's first beat while it is low. */
  const user_lnk_up = m.input(1);
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
  const addressSaving = options.collapseHighAddress ? receivedMemoryWrite.fields.address.shape.width - COLLAPSED_ADDRESS_BITS : 0;
  const memWriteWidth = widthOf(receivedMemoryWrite, MEM_WRITE_FIELDS) - addressSaving + (options.memWriteRequesterId ? REQUESTER_ID_BITS : 0);
  const completion_queue = m.instance(syncFifo({ width: completionWidth, depth: HEADER_QUEUE_DEPTH }));
  // One queue for both payload outputs: the parser emits one TLP's payload at a time, and the
  // beat's destination travels with it (the top bit: 1 = completion_data), then tlast, tkeep, tdata.
  const PAYLOAD_WORD_BITS = 1 + 1 + 8 + 64;
  const payload_queue = m.instance(syncFifo({ width: PAYLOAD_WORD_BITS, depth: options.payloadQueueDepth }), { name: "payload_queue" });
  const mem_write_queue = m.instance(syncFifo({ width: memWriteWidth, depth: HEADER_QUEUE_DEPTH }));
  const read_queue = options.externalReadQueue ? undefined : m.instance(syncFifo({ width: widthOf(receivedMemoryRead, MEM_READ_FIELDS) - addressSaving, depth: options.nonPostedQueueDepth }));
  /** The consumer's queue fill level (externalReadQueue). */
  const mem_read_count = options.externalReadQueue ? m.input(bitsFor(options.nonPostedQueueDepth + 1), { name: "mem_read_count" }) : undefined;
  const read_room = read_queue ? read_queue.ports.in.signals.ready : mem_read.signals.ready;
  const read_count = read_queue ? read_queue.ports.count : mem_read_count!;
  const ur_queue = m.instance(syncFifo({ width: widthOf(completionHeader, UR_FIELDS), depth: options.nonPostedQueueDepth }));

  // ---- the beat on the input: header capture and decode, parser sequence, malformed checks ----
  const input = m_axis_rx.signals;
  const in_ready = m.signal(1);
  const fire = input.tvalid.and(in_ready);
  const header = rxHeaderParser(m, params, input, fire, user_lnk_up);
  const { parser, kind, has_data, poisoned, header_ok, expected_completion, crosses_4k } = header;

  // ---- routing: decided by beat 1, acted on in the next cycle ----
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
  const carries_payload = kind.memoryWrite.or(kind.completion.and(has_data));
  const payload = rxPayloadPath(m, header, fire, carries_payload, kind.memoryWrite.or(expected_completion), payload_queue.ports.in.signals.ready);
  const { flush_pending } = payload;

  // ---- input ready: the output the current beat needs has room ----
  // The kind registers are one-hot or all low (one class per TLP), so the room is a sum of products
  // rather than a priority chain of muxes: the chain mapped to four levels of its own, on the path
  // header_room -> in_ready -> fire -> flush_pending (7 levels in the striped core).
  const routed_kinds: Value[] = [kind.memoryRead, kind.memoryWrite, kind.completion, kind.unsupportedRequest];
  m.assert(routed_kinds.map((k): Value => k.zext(3)).reduce((a, b) => a.add(b)).le(1));
  const header_room = kind.memoryRead.and(read_room)
    .or(kind.memoryWrite.and(mem_write_queue.ports.in.signals.ready).and(flush_pending.not()))
    .or(kind.completion.and(completion_queue.ports.in.signals.ready).and(has_data.not().or(flush_pending.not())))
    .or(kind.unsupportedRequest.and(ur_queue.ports.in.signals.ready))
    .or(routed_kinds.reduce((a, b) => a.or(b)).not());
  m.comb(in_ready, mux(parser.is("HEADER1"), header_room, mux(payload.beat_emits, payload.payload_ready, C(1, 1))));
  m.comb(input.tready, in_ready);

  // ---- completion path ----
  const completion_fields: Record<(typeof COMPLETION_FIELDS)[number], Value> = {
    has_data,
    status: header.status,
    byte_count: header.byte_count,
    lower_address: header.routed.lowerAddress,
    length_dw: mux(has_data, header.length_field, C(0, 10)),
    tag: header.routed.completionTag,
    completer_id: header.completer_id,
    poisoned,
  };
  queueRecords(m, completion_queue.ports, COMPLETION_FIELDS, completion_fields, push_completion, completion.signals);

  // ---- memory-write path ----
  const routed_address = header.routed.address;
  const queued_address = options.collapseHighAddress ? cat(header.routed.highAddressNonzero, routed_address.bits(31, 0)) : routed_address;
  const mem_write_fields: Record<(typeof MEM_WRITE_FIELDS)[number], Value> = {
    address: queued_address,
    length_dw: header.length_field,
    first_be: header.first_be,
    last_be: header.last_be,
    poisoned,
  };
  /** The write's Requester ID (memWriteRequesterId), valid with mem_write_valid. */
  const mem_write_requester_id = options.memWriteRequesterId ? m.output(REQUESTER_ID_BITS, { name: "mem_write_requester_id" }) : undefined;
  if (mem_write_requester_id) {
    const sink = { ...mem_write.signals, requester_id: mem_write_requester_id };
    queueRecords(m, mem_write_queue.ports, [...MEM_WRITE_FIELDS, "requester_id"], { ...mem_write_fields, requester_id: header.requester_id }, push_write, sink);
  } else queueRecords(m, mem_write_queue.ports, MEM_WRITE_FIELDS, mem_write_fields, push_write, mem_write.signals);

  // ---- memory-read queue ----
  const mem_read_fields: Record<(typeof MEM_READ_FIELDS)[number], Value> = {
    address: queued_address,
    length_dw: header.length_field,
    first_be: header.first_be,
    last_be: header.last_be,
    requester_id: header.requester_id,
    tag: header.request_tag,
    tc: header.tc,
    attr: header.attr,
  };
  if (read_queue) queueRecords(m, read_queue.ports, MEM_READ_FIELDS, mem_read_fields, push_read, mem_read.signals);
  else {
    for (const field of MEM_READ_FIELDS) m.comb(mem_read.signals[field], mem_read_fields[field].zext(mem_read.signals[field].width));
    m.comb(mem_read.signals.valid, push_read);
  }

  // ---- Unsupported Request answers ----
  const ur = unsupportedRequestFields(kind.lockedRead, header.length_dw, header.first_be, header.last_be, header.routed.addressDw.bits(4, 0));
  // Byte Count needs only beat 0's fields, in two register steps so no path holds more than one
  // subtraction: the byte-enable terms load with beat 0 (every cycle in START, so the input's
  // handshake is not on their path), the Byte Count while beat 1 is checked.
  const ur_dw_borrow = m.signal(2, { resetless: true });
  const ur_low_bits = m.signal(2, { resetless: true });
  const first = header.first;
  const firstTerms = readByteCountTerms(first.lengthIsOne, first.firstBe, first.lastBe);
  m.If(first.loads, () => {
    m.sync(ur_dw_borrow, firstTerms.dwBorrow);
    m.sync(ur_low_bits, firstTerms.lowBits);
  });
  const ur_byte_count = m.signal(12, { resetless: true });
  m.sync(ur_byte_count, mux(kind.lockedRead, readByteCount(header.length_field, { dwBorrow: ur_dw_borrow, lowBits: ur_low_bits }), C(4, 12)));
  const ur_fields: Record<(typeof UR_FIELDS)[number], Value> = {
    byte_count: ur_byte_count,
    lower_address: ur.lowerAddress,
    requester_id: header.requester_id,
    tag: header.request_tag,
    tc: header.tc,
    attr: header.attr,
  };
  queueRecords(m, ur_queue.ports, UR_FIELDS, ur_fields, push_unsupported, ur_completion.signals);
  m.comb(ur_completion.signals.has_data, 0);
  m.comb(ur_completion.signals.status, CPL_STATUS_UR);
  m.comb(ur_completion.signals.length_dw, 0);

  // ---- payload outputs ----
  const queue_in = payload_queue.ports.in.signals;
  m.comb(queue_in.valid, payload.out_valid);
  m.comb(queue_in.data, cat(payload.payload_to_completion, payload.out_last, payload.out_keep, payload.out_data));
  const queue_out = payload_queue.ports.out.signals;
  const to_completion = queue_out.data.bit(PAYLOAD_WORD_BITS - 1);
  for (const [out, mine] of [
    [completion_data.signals, to_completion],
    [mem_write_data.signals, to_completion.not()],
  ] as const) {
    m.comb(out.tvalid, queue_out.valid.and(mine));
    m.comb(out.tdata, queue_out.data.bits(63, 0));
    m.comb(out.tkeep, queue_out.data.bits(71, 64));
    m.comb(out.tlast, queue_out.data.bit(72));
  }
  m.comb(queue_out.ready, mux(to_completion, completion_data.signals.tready, mem_write_data.signals.tready));

  // ---- rx_np_ok and status counters ----
  const npLimit = options.nonPostedQueueDepth + 1 - NP_SLACK;
  // A header routed this cycle is not in its queue's count yet.
  const np_room = queueBelow(read_count, push_read, npLimit).and(queueBelow(ur_queue.ports.count, push_unsupported, npLimit));
  m.sync(rx_np_ok, np_room);

  // A 4 KiB crossing is counted the cycle after its beat 1, together with that beat's other checks,
  // which it passed: the two never coincide.
  statusCounter(m, count_messages, message_received, "count_messages");
  statusCounter(m, count_unsupported, push_unsupported, "count_unsupported");
  statusCounter(m, count_malformed, header.malformed.or(header_passed.and(crosses_4k)), "count_malformed");
  statusCounter(m, count_poisoned, poisoned.and(push_write.or(push_completion)), "count_poisoned");
  statusCounter(m, count_unexpected, unexpected_received, "count_unexpected");
  const ports = {
    m_axis_rx,
    rx_np_ok,
    user_lnk_up,
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
  };
  return m.exposing({ ...ports, ...(mem_read_count ? { mem_read_count } : {}), ...(mem_write_requester_id ? { mem_write_requester_id } : {}) });
}

/** `count` plus the header being written this cycle stays within `limit`. */
function queueBelow(count: Value, pushing: Value, limit: number): Value {
  return mux(pushing, count.le(limit - 1), count.le(limit));
}

/** The in/out ports of a sync FIFO instance, as records travel through it. */
interface RecordQueue {
  in: { signals: { data: Signal; valid: Signal } };
  out: { signals: { data: Signal; valid: Signal; ready: Signal } };
}

/**
 * Packs `values` (in `fields` order, most significant first, each as wide as given) into `queue`
 * when `push`, and unpacks the queue's head onto the fields of `sink` (zero-extended where a value
 * is narrower than its field), whose valid/ready follow the queue's.
 */
function queueRecords<F extends string>(
  m: Module,
  queue: RecordQueue,
  fields: readonly F[],
  values: Readonly<Record<F, Value>>,
  push: Value,
  sink: Readonly<Record<F | "valid" | "ready", Signal>>,
): void {
  m.comb(queue.in.signals.data, cat(...fields.map((f) => values[f])));
  m.comb(queue.in.signals.valid, push);
  let lsb = queue.out.signals.data.width;
  for (const field of fields) {
    const width = values[field].width;
    lsb -= width;
    m.comb(sink[field], queue.out.signals.data.bits(lsb + width - 1, lsb).zext(sink[field].width));
  }
  m.comb(sink.valid, queue.out.signals.valid);
  m.comb(queue.out.signals.ready, sink.ready);
}
