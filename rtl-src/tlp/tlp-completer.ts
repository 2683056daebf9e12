// The completer: answers the memory reads the SSD sends us (submission queue entries, PRP lists,
// write data) with CplDs cut at the read completion boundary and at MPS. Reads queue in a FIFO and
// are answered strictly in arrival order, which satisfies the ordering rules for reads from one
// requester. For every CplD the splitter asks the data source for exactly that CplD's DWs and
// queues its header; the source's answers become the CplD payloads unchanged, so a CplD's payload
// stream is the source's answer to its request, tlast included. Requests run ahead of the headers
// the transmit arbiter takes (up to the header queue's capacity), which hides the source's latency:
// back-to-back CplDs go out with no gap while the source keeps up.
//
// Every output is a register (FIFO output registers, the splitter's registers, a skid buffer on
// the payload); no path runs combinationally from an input to an output.
import { Module, cat } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { type CompleterSplitParams, tlpCompleterSplitter } from "./tlp-completer-splitter.ts";
import { completerDataRequest, completionHeader, payloadStream, receivedMemoryRead } from "./tlp-interfaces.ts";

export interface CompleterOptions {
  /** Memory reads the completer accepts ahead of the one being cut (RAM words; the FIFO holds one more). */
  readQueueDepth?: number;
  /**
   * CplD headers queued for the arbiter, hence how many payload requests run ahead of it: enough
   * to cover the data source's latency in CplDs.
   */
  headerQueueDepth?: number;
}

const DEFAULT_READ_QUEUE_DEPTH = 8;
const DEFAULT_HEADER_QUEUE_DEPTH = 8;

/** The memory-read fields that travel through the read queue, most significant first. */
const READ_FIELDS = ["address", "length_dw", "first_be", "last_be", "requester_id", "tag", "tc", "attr"] as const;
/** The CplD header fields that vary (has_data is 1 and status SC for every CplD the completer makes). */
const HEADER_FIELDS = ["byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"] as const;

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
  const m = new Module(
    `tlp_completer_mps${params.maxPayloadBytes}_rcb${params.readCompletionBoundary}_rq${readQueueDepth}_hq${headerQueueDepth}`,
  );
  m.parameters({ maxPayloadBytes: params.maxPayloadBytes, readCompletionBoundary: params.readCompletionBoundary, readQueueDepth, headerQueueDepth });
  const mem_read = m.port(receivedMemoryRead, "slave");
  const data_request = m.port(completerDataRequest, "master");
  const data_response = m.port(payloadStream, "slave");
  const completion = m.port(completionHeader, "master");
  const completion_payload = m.port(payloadStream, "master");

  const readWidth = READ_FIELDS.reduce((sum, f) => sum + receivedMemoryRead.fields[f].shape.width, 0);
  const headerWidth = HEADER_FIELDS.reduce((sum, f) => sum + completionHeader.fields[f].shape.width, 0);
  const read_queue = m.instance(syncFifo({ width: readWidth, depth: readQueueDepth }));
  const splitter = m.instance(tlpCompleterSplitter(params));
  const header_queue = m.instance(syncFifo({ width: headerWidth, depth: headerQueueDepth }));
  const payload_slice = m.instance(axisSkidBuffer({ dataWidth: 64 }));

  m.comb(read_queue.ports.in.signals.data, cat(...READ_FIELDS.map((f) => mem_read.signals[f])));
  m.comb(read_queue.ports.in.signals.valid, mem_read.signals.valid);
  m.comb(mem_read.signals.ready, read_queue.ports.in.signals.ready);
  const queued_read = read_queue.ports.out.signals.data;
  let lsb = readWidth;
  for (const field of READ_FIELDS) {
    const width = receivedMemoryRead.fields[field].shape.width;
    lsb -= width;
    m.comb(splitter.ports.mem_read.signals[field], queued_read.bits(lsb + width - 1, lsb));
  }
  m.comb(splitter.ports.mem_read.signals.valid, read_queue.ports.out.signals.valid);
  m.comb(read_queue.ports.out.signals.ready, splitter.ports.mem_read.signals.ready);

  m.connect(splitter.ports.data_request, data_request);

  m.comb(header_queue.ports.in.signals.data, cat(...HEADER_FIELDS.map((f) => splitter.ports.completion.signals[f])));
  m.comb(header_queue.ports.in.signals.valid, splitter.ports.completion.signals.valid);
  m.comb(splitter.ports.completion.signals.ready, header_queue.ports.in.signals.ready);
  const queued_header = header_queue.ports.out.signals.data;
  lsb = headerWidth;
  for (const field of HEADER_FIELDS) {
    const width = completionHeader.fields[field].shape.width;
    lsb -= width;
    m.comb(completion.signals[field], queued_header.bits(lsb + width - 1, lsb));
  }
  m.comb(completion.signals.has_data, 1);
  m.comb(completion.signals.status, 0);
  m.comb(completion.signals.valid, header_queue.ports.out.signals.valid);
  m.comb(header_queue.ports.out.signals.ready, completion.signals.ready);

  m.connect(data_response, payload_slice.ports.s_axis);
  m.connect(payload_slice.ports.m_axis, completion_payload);
  return m.exposing({ mem_read, data_request, data_response, completion, completion_payload });
}
