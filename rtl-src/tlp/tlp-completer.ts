// The completer: answers the memory reads the SSD sends us (submission queue entries, PRP lists,
// write data) with CplDs cut at the read completion boundary and at MPS. Reads queue in a FIFO and
// are answered strictly in arrival order, which satisfies the ordering rules for reads from one
// requester. For every CplD the splitter asks the data source for exactly that CplD's DWs and
// queues its header; the source's answers become the CplD payloads unchanged, so a CplD's payload
// stream is the source's answer to its request, tlast included. Requests run ahead of the headers
// the transmit arbiter takes (up to the header queue's capacity), which hides the source's latency:
// back-to-back CplDs go out with no gap while the source keeps up.
//
// With `servedRegions`, a read of an address outside every region (no host memory there: the
// virtual map has nothing to answer with) gets one Unsupported Request completion instead (PCIe
// Base §2.3.1; Byte Count and Lower Address as for any memory read, PROTOCOL_FACTS §B.5), with no
// data request, and is counted on `unmapped_reads`. The decision is made as the read enters the
// queue and travels with it; at the head of the queue the UR header goes into the header queue a
// cycle later (its fields are computed into registers) and only once the splitter has handed out
// every header of the read before, so completions leave in read order.
//
// Every header output is a register (FIFO output registers, the splitter's registers, the counter).
// The payload is the data source's answer passed straight through (data_response_* ->
// completion_payload_*, and its tready back): the source registers its answer (the host-memory
// router's register slice), and a second slice here would only hold the same beats twice.
import { C, Module, type Value, bitsFor, cat, mux } from "../../hdl/index.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { type CompleterSplitParams, tlpCompleterSplitter } from "./tlp-completer-splitter.ts";
import { readByteCount, readByteCountTerms, unsupportedRequestFields } from "./rx-unsupported-completion.ts";
import { CPL_STATUS_SC, CPL_STATUS_UR } from "./tlp-constants.ts";
import { completerDataRequest, completionHeader, payloadStream, receivedMemoryRead } from "./tlp-interfaces.ts";

export interface CompleterOptions {
  /** Memory reads the completer accepts ahead of the one being cut (RAM words; the FIFO holds one more). */
  readQueueDepth?: number;
  /**
   * CplD headers queued for the arbiter, hence how many payload requests run ahead of it: enough
   * to cover the data source's latency in CplDs.
   */
  headerQueueDepth?: number;
  /**
   * The address ranges where host memory answers (naturally aligned powers of two below 4 GiB);
   * reads elsewhere get UR. Absent: every read is answered with data.
   */
  servedRegions?: readonly ServedRegion[];
}

export interface ServedRegion {
  readonly base: number;
  readonly bytes: number;
}

const DEFAULT_READ_QUEUE_DEPTH = 8;
const DEFAULT_HEADER_QUEUE_DEPTH = 8;

/** The memory-read fields that travel through the read queue, most significant first. */
const READ_FIELDS = ["address", "length_dw", "first_be", "last_be", "requester_id", "tag", "tc", "attr"] as const;
/** The completion header fields that vary: has_data and status only when some reads get UR. */
const HEADER_FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"] as const;
const CPLD_HEADER_FIELDS = HEADER_FIELDS.slice(2);
/** The UR header's two computed fields. */
const UR_BYTE_COUNT_BITS = 12;
const UR_LOWER_ADDRESS_BITS = 7;
const COUNTER_BITS = 32;
/** Address bits a read in a served region needs (every region lies below 4 GiB). */
const SERVED_ADDRESS_BITS = 32;

function checkServedRegions(regions: readonly ServedRegion[]): void {
  for (const { base, bytes } of regions) {
    if (!Number.isInteger(bytes) || bytes < 4096 || (bytes & (bytes - 1)) !== 0 || !Number.isInteger(base) || base < 0 || base % bytes !== 0 || base + bytes > 2 ** 32) {
      throw new RangeError(`completer: served region 0x${base.toString(16)} + 0x${bytes.toString(16)} is not a naturally aligned power of two of at least 4 KiB below 4 GiB`);
    }
  }
}

/** True when the 64-bit `address` lies in none of `regions`. */
function outsideRegions(address: Value, regions: readonly ServedRegion[]): Value {
  const inside = regions.map(({ base, bytes }) => {
    const low = Math.log2(bytes);
    return address.bits(63, low).eq(C(base / bytes, 64 - low));
  });
  return inside.length === 0 ? C(1, 1) : inside.reduce((a, b) => a.or(b)).not();
}

/** A short tag for module names (`_ur<count>x<hash>`): regions differ in base and size. */
export function servedRegionsTag(regions: readonly ServedRegion[]): string {
  let hash = 0;
  for (const { base, bytes } of regions) hash = (Math.imul(hash ^ base, 0x9e3779b1) + Math.log2(bytes)) >>> 0;
  return `_ur${regions.length}x${hash.toString(16).padStart(8, "0")}`;
}

/**
 * The completer: answers the SSD's memory reads in arrival order with CplDs cut at the read
 * completion boundary and MPS, their payloads fetched from the data source.
 */
export function tlpCompleter(params: CompleterSplitParams, options: CompleterOptions = {}) {
  const readQueueDepth = options.readQueueDepth ?? DEFAULT_READ_QUEUE_DEPTH;
  const headerQueueDepth = options.headerQueueDepth ?? DEFAULT_HEADER_QUEUE_DEPTH;
  for (const [what, depth] of [["readQueueDepth", readQueueDepth], ["headerQueueDepth", headerQueueDepth]] as const) {
    if (!Number.isInteger(depth) || depth < 2) throw new RangeError(`completer: ${what} ${depth} must be an integer >= 2`);
  }
  const served = options.servedRegions;
  if (served) checkServedRegions(served);
  const m = new Module(
    `tlp_completer_mps${params.maxPayloadBytes}_rcb${params.readCompletionBoundary}_rq${readQueueDepth}_hq${headerQueueDepth}${served ? servedRegionsTag(served) : ""}`,
  );
  m.documentCombinationalPaths("the data source's answer is the CplD payload: data_response_* pass to completion_payload_*, and its tready back");
  m.parameters({
    maxPayloadBytes: params.maxPayloadBytes,
    readCompletionBoundary: params.readCompletionBoundary,
    readQueueDepth,
    headerQueueDepth,
    ...(served ? { servedRegions: served.map(({ base, bytes }) => `0x${base.toString(16)}+0x${bytes.toString(16)}`).join(" ") } : {}),
  });
  const mem_read = m.port(receivedMemoryRead, "slave");
  const data_request = m.port(completerDataRequest, "master");
  const data_response = m.port(payloadStream, "slave");
  const completion = m.port(completionHeader, "master");
  const completion_payload = m.port(payloadStream, "master");
  /** Reads of unmapped addresses answered with UR (only with servedRegions). */
  const unmapped_reads = served ? m.output(COUNTER_BITS, { name: "unmapped_reads" }) : undefined;
  /** Reads in the read queue (readQueueDepth + 1 at most): a receive side that pushes into it directly paces itself by this. */
  const read_queue_count = m.output(bitsFor(readQueueDepth + 1));

  // With served regions (all below 4 GiB) a read that reaches the splitter lies below 4 GiB: the
  // queue keeps the low 32 address bits (the UR answer needs only the low 7).
  const queuedWidth = (field: (typeof READ_FIELDS)[number]) => (served && field === "address" ? SERVED_ADDRESS_BITS : receivedMemoryRead.fields[field].shape.width);
  const fieldsWidth = READ_FIELDS.reduce((sum, f) => sum + queuedWidth(f), 0);
  const urWidth = served ? 1 : 0;
  const readWidth = fieldsWidth + urWidth;
  const headerFields: readonly (typeof HEADER_FIELDS)[number][] = served ? HEADER_FIELDS : CPLD_HEADER_FIELDS;
  const headerWidth = headerFields.reduce((sum, f) => sum + completionHeader.fields[f].shape.width, 0);
  const read_queue = m.instance(syncFifo({ width: readWidth, depth: readQueueDepth }));
  const splitter = m.instance(tlpCompleterSplitter(params));
  const header_queue = m.instance(syncFifo({ width: headerWidth, depth: headerQueueDepth }));

  const incoming = cat(...READ_FIELDS.map((f) => mem_read.signals[f].bits(queuedWidth(f) - 1, 0)));
  m.comb(read_queue.ports.in.signals.data, served ? cat(incoming, outsideRegions(mem_read.signals.address, served)) : incoming);
  m.comb(read_queue.ports.in.signals.valid, mem_read.signals.valid);
  m.comb(mem_read.signals.ready, read_queue.ports.in.signals.ready);
  m.comb(read_queue_count, read_queue.ports.count);
  const queued_read = read_queue.ports.out.signals.data;
  let lsb = readWidth;
  const queuedField: Record<string, Value> = {};
  for (const field of READ_FIELDS) {
    const width = queuedWidth(field);
    lsb -= width;
    queuedField[field] = queued_read.bits(lsb + width - 1, lsb);
    m.comb(splitter.ports.mem_read.signals[field], queuedField[field].zext(receivedMemoryRead.fields[field].shape.width));
  }
  const unmapped = served ? queued_read.bit(0) : C(0, 1);
  const split = splitter.ports.completion.signals;
  // The splitter has handed every header of the reads before this one to the header queue.
  const splitter_idle = splitter.ports.mem_read.signals.ready.and(split.valid.not());
  // A UR is rare: its Byte Count is computed from the queue's output into
  // registers, and the UR goes one cycle after the read reached the head (`ur_fields_ready`).
  let push_ur: Value = C(0, 1);
  let urFields: [Value, Value] | undefined;
  if (served) {
    const ur_lower_address = m.signal(UR_LOWER_ADDRESS_BITS, { resetless: true });
    const ur_fields_ready = m.signal(1);
    const q = queuedField;
    const ur = unsupportedRequestFields(C(1, 1), cat(q.length_dw.eq(0), q.length_dw), q.first_be, q.last_be, q.address.bits(6, 2));
    // The Byte Count in the two steps tlp_rx uses: the byte-enable terms and the Length are registered
    // from the head every cycle, and the one 10-bit subtraction runs from those registers into the
    // header queue. The head holds still until the UR is pushed, and the push waits a cycle
    // (ur_fields_ready), so the registers hold this read's terms by then. Computed from the queue's
    // output in one step, the striped core mapped it to 7 levels.
    const terms = readByteCountTerms(q.length_dw.eq(1), q.first_be, q.last_be);
    const ur_length_dw = m.signal(q.length_dw.width, { resetless: true });
    const ur_dw_borrow = m.signal(terms.dwBorrow.width, { resetless: true });
    const ur_low_bits = m.signal(terms.lowBits.width, { resetless: true });
    m.sync(ur_length_dw, q.length_dw);
    m.sync(ur_dw_borrow, terms.dwBorrow);
    m.sync(ur_low_bits, terms.lowBits);
    const ur_byte_count = m.signal(UR_BYTE_COUNT_BITS);
    m.comb(ur_byte_count, readByteCount(ur_length_dw, { dwBorrow: ur_dw_borrow, lowBits: ur_low_bits }));
    m.sync(ur_lower_address, ur.lowerAddress);
    push_ur = read_queue.ports.out.signals.valid.and(unmapped).and(ur_fields_ready).and(splitter_idle).and(header_queue.ports.in.signals.ready);
    m.sync(ur_fields_ready, read_queue.ports.out.signals.valid.and(unmapped).and(push_ur.not()));
    urFields = [ur_byte_count, ur_lower_address];
  }
  if (served) {
    m.comb(splitter.ports.mem_read.signals.valid, read_queue.ports.out.signals.valid.and(unmapped.not()));
    m.comb(read_queue.ports.out.signals.ready, mux(unmapped, push_ur, splitter.ports.mem_read.signals.ready));
  } else {
    m.comb(splitter.ports.mem_read.signals.valid, read_queue.ports.out.signals.valid);
    m.comb(read_queue.ports.out.signals.ready, splitter.ports.mem_read.signals.ready);
  }
  if (unmapped_reads) statusCounter(m, unmapped_reads, push_ur, "unmapped_reads");

  m.connect(splitter.ports.data_request, data_request);
  /** The Requester ID of the read a data request answers (the SSD's BDF), valid with data_request_valid. */
  const data_request_requester_id = m.promote(splitter.ports.data_request_requester_id);

  const cpldFields = CPLD_HEADER_FIELDS.map((f) => split[f]);
  const splitHeader = served ? cat(C(1, 1), CPL_STATUS_SC, ...cpldFields) : cat(...cpldFields);
  if (urFields) {
    const urHeader = cat(
      C(0, 1),
      CPL_STATUS_UR,
      ...urFields,
      C(0, 10),
      queuedField.requester_id,
      queuedField.tag,
      queuedField.tc,
      queuedField.attr,
    );
    m.comb(header_queue.ports.in.signals.data, mux(push_ur, urHeader, splitHeader));
    m.comb(header_queue.ports.in.signals.valid, split.valid.or(push_ur));
  } else {
    m.comb(header_queue.ports.in.signals.data, splitHeader);
    m.comb(header_queue.ports.in.signals.valid, split.valid);
  }
  m.comb(split.ready, header_queue.ports.in.signals.ready);
  const queued_header = header_queue.ports.out.signals.data;
  lsb = headerWidth;
  for (const field of headerFields) {
    const width = completionHeader.fields[field].shape.width;
    lsb -= width;
    m.comb(completion.signals[field], queued_header.bits(lsb + width - 1, lsb));
  }
  if (!served) {
    m.comb(completion.signals.has_data, 1);
    m.comb(completion.signals.status, CPL_STATUS_SC);
  }
  m.comb(completion.signals.valid, header_queue.ports.out.signals.valid);
  m.comb(header_queue.ports.out.signals.ready, completion.signals.ready);

  m.connect(data_response, completion_payload);
  const ports = { mem_read, data_request, data_request_requester_id, data_response, completion, completion_payload, read_queue_count };
  return unmapped_reads ? m.exposing({ ...ports, unmapped_reads }) : m.exposing(ports);
}
