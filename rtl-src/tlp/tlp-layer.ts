// The whole TLP layer: what the controller above it sees of PCIe, in TLP fields only.
//
//  - Transmit (tx-top.ts): the request sources `req<i>_*` (+ `req<i>_payload_*`) pass straight
//    through; its one completion source is fed by the completion merger (completion-merge.ts) from
//    the completer's CplDs and the receive side's UR completions. The CplD payload goes from the
//    completer to the transmit side directly (the merger only orders headers).
//  - Receive (rx-parser.ts): `m_axis_rx_*` and `rx_np_ok` face the core; received completions
//    (`completion_*` + `completion_data_*`) and the SSD's memory writes (`mem_write_*` +
//    `mem_write_data_*`) go out, its memory reads go to the completer, its UR answers to the merger.
//    The reads are queued once, in the completer's read queue: the receive side pushes into it and
//    paces rx_np_ok by its fill level (tlp-rx.ts `externalReadQueue`).
//  - Completer (completer.ts): answers the SSD's memory reads; its data source is outside
//    (`data_request_*` out, `data_response_*` in).
//  - Tags (tag-allocator.ts): `allocate_*` hands out tags for our non-posted requests. It watches
//    the completion headers the layer hands out (a header counts when `completion_valid` and
//    `completion_ready` are both high), frees their tags, and times out the others
//    (`expired_*`, `timeout`, `timeout_tag`).
//
// Every output of every block is a register or a decode of registers, and the glue here adds only
// wires and one AND whose result goes into a register (the tag allocator's completion watch): no
// combinational path from any input of the layer to any of its outputs.
import { type Bundle, type FieldOf, Module, type Signal } from "../../hdl/index.ts";
import { type CompleterOptions, servedRegionsTag, tlpCompleter } from "./tlp-completer.ts";
import { tlpCompletionMerge } from "./tlp-completion-merge.ts";
import { type TlpRxOptions, tlpRx } from "./tlp-rx.ts";
import { tlpTagAllocator } from "./tlp-tag-allocator.ts";
import { type TlpLayerParams, hex16, payloadStream, requestHeader } from "./tlp-interfaces.ts";
import { tlpTx } from "./tlp-tx.ts";

export interface TlpLayerOptions {
  /** Request sources of the transmit side (configuration, register reads, doorbell writes, ...). */
  requestSources?: number;
  /** Completions sent in a row, while a request waits, before the request goes. */
  completionRun?: number;
  completer?: CompleterOptions;
  rx?: TlpRxOptions;
}

/** Configuration requests, register reads (non-posted, waiting on tags) and doorbell writes (posted) each get their own. */
export const DEFAULT_REQUEST_SOURCES = 3;
export const DEFAULT_COMPLETION_RUN = 4;

/** The tag allocator's outputs that the layer passes out unchanged. */
const TAG_STATUS_OUTPUTS = ["outstanding", "expired_valid", "expired_tag", "timeout", "timeout_tag", "unexpected_completion"] as const;
const RX_COUNTERS = ["count_messages", "count_unsupported", "count_malformed", "count_poisoned", "count_unexpected"] as const;
/** The received-completion fields the tag allocator reads. */
const WATCHED_COMPLETION_FIELDS = ["tag", "status", "has_data", "byte_count", "lower_address", "length_dw"] as const;

/**
 * The TLP layer: transmit side, receive side, completer and tag allocator, with the CplD/UR
 * completion merger, between the 7-series root port's AXI4-Stream ports and the field bundles of
 * tlp-interfaces.ts.
 */
export function tlpLayer(params: TlpLayerParams, options: TlpLayerOptions = {}) {
  const requestSources = options.requestSources ?? DEFAULT_REQUEST_SOURCES;
  const completionRun = options.completionRun ?? DEFAULT_COMPLETION_RUN;
  const m = new Module(layerName(params, options, requestSources, completionRun));
  m.parameters({ ...params, requesterId: hex16(params.requesterId), requestSources, completionRun });
  // The SSD's memory reads are queued once, in the completer: the receive side pushes into that
  // queue (checking its room as it takes the read's beat 1) and paces rx_np_ok by its fill level.
  const readQueueDepth = options.completer?.readQueueDepth ?? options.rx?.nonPostedQueueDepth;
  if (options.completer?.readQueueDepth !== undefined && options.rx?.nonPostedQueueDepth !== undefined && options.completer.readQueueDepth !== options.rx.nonPostedQueueDepth) {
    throw new RangeError(`tlp_layer: completer.readQueueDepth ${options.completer.readQueueDepth} and rx.nonPostedQueueDepth ${options.rx.nonPostedQueueDepth} must be equal (one read queue serves both)`);
  }
  const tx = tlpTx({ requesterId: params.requesterId, requestSources, completionRun });
  const rx = tlpRx(params, { ...options.rx, nonPostedQueueDepth: readQueueDepth, externalReadQueue: true });
  const completer = tlpCompleter(params, { ...options.completer, readQueueDepth });
  const tags = tlpTagAllocator(params);
  const tx_inst = m.instance(tx, { name: "tx" });
  const rx_inst = m.instance(rx, { name: "rx" });
  const completer_inst = m.instance(completer, { name: "completer" });
  const tags_inst = m.instance(tags, { name: "tags" });
  const merge = m.instance(tlpCompletionMerge(), { name: "merge" });

  // The core.
  const s_axis_tx = m.promote(tx_inst.ports.s_axis_tx);
  const m_axis_rx = m.promote(rx_inst.ports.m_axis_rx);
  const rx_np_ok = m.promote(rx_inst.ports.rx_np_ok);
  /** The core's user_lnk_up: the receive side's parser restarts while the link is down. */
  const user_lnk_up = m.promote(rx_inst.ports.user_lnk_up);

  // Our requests.
  const reqs: Bundle<FieldOf<typeof requestHeader>>[] = [];
  const req_payloads: Bundle<FieldOf<typeof payloadStream>>[] = [];
  for (let i = 0; i < requestSources; i++) {
    reqs.push(m.promote(tx_inst.ports.reqs[i]));
    req_payloads.push(m.promote(tx_inst.ports.req_payloads[i]));
  }
  const tx_input_error = m.promote(tx_inst.ports.input_error, { name: "tx_input_error" });

  // Tags, and the completions that end them.
  const allocate_valid = m.promote(tags_inst.ports.allocate_valid);
  const allocate_tag = m.promote(tags_inst.ports.allocate_tag);
  const allocate_ready = m.promote(tags_inst.ports.allocate_ready);
  const tag_status = TAG_STATUS_OUTPUTS.map((name) => m.promote(tags_inst.ports[name]));
  const completion = m.promote(rx_inst.ports.completion);
  const completion_data = m.promote(rx_inst.ports.completion_data);
  m.comb(tags_inst.ports.completion.valid, rx_inst.ports.completion.signals.valid.and(completion.signals.ready));
  for (const field of WATCHED_COMPLETION_FIELDS) m.comb(tags_inst.ports.completion[field], rx_inst.ports.completion.signals[field]);

  // The SSD's memory writes, and its reads answered by the completer.
  const mem_write = m.promote(rx_inst.ports.mem_write);
  const mem_write_data = m.promote(rx_inst.ports.mem_write_data);
  m.connect(rx_inst.ports.mem_read, completer_inst.ports.mem_read);
  const rxPorts = rx_inst.ports as Partial<Record<"mem_read_count", Signal>>;
  m.comb(rxPorts.mem_read_count!, completer_inst.ports.read_queue_count);
  const data_request = m.promote(completer_inst.ports.data_request);
  /** The SSD's BDF on each data request (the read's Requester ID): an array core picks the SSD's lane by it. */
  const data_request_requester_id = m.promote(completer_inst.ports.data_request_requester_id);
  // With rx.memWriteRequesterId: each memory write's Requester ID, valid with mem_write_valid.
  const rxWritePorts = rx_inst.ports as Partial<Record<"mem_write_requester_id", Signal>>;
  const mem_write_requester_id = rxWritePorts.mem_write_requester_id ? [m.promote(rxWritePorts.mem_write_requester_id, { name: "mem_write_requester_id" })] : [];
  const data_response = m.promote(completer_inst.ports.data_response);

  // The completions we send: CplDs and UR answers merged; the CplD payload goes straight to tx.
  m.connect(completer_inst.ports.completion, merge.ports.cpl);
  m.connect(rx_inst.ports.ur_completion, merge.ports.ur);
  m.connect(merge.ports.merged, tx_inst.ports.cpl);
  m.connect(completer_inst.ports.completion_payload, tx_inst.ports.cpl_payload);

  const rx_counters = RX_COUNTERS.map((name) => m.promote(rx_inst.ports[name]));
  // With served regions the completer answers reads of other addresses with UR and counts them.
  const completerPorts = completer_inst.ports as Partial<Record<"unmapped_reads", Signal>>;
  const unmappedReadCounter = completerPorts.unmapped_reads;
  const completer_counters = unmappedReadCounter ? [m.promote(unmappedReadCounter, { name: "unmapped_reads" })] : [];
  return m.exposing({
    s_axis_tx,
    m_axis_rx,
    rx_np_ok,
    user_lnk_up,
    reqs,
    req_payloads,
    tx_input_error,
    allocate_valid,
    allocate_tag,
    allocate_ready,
    tag_status,
    completion,
    completion_data,
    mem_write,
    mem_write_data,
    data_request,
    data_request_requester_id,
    data_response,
    mem_write_requester_id,
    rx_counters,
    completer_counters,
  });
}

/** The parameters that change the layer, and the block options given (the blocks' defaults otherwise). */
function layerName(params: TlpLayerParams, options: TlpLayerOptions, requestSources: number, completionRun: number): string {
  const id = params.requesterId.toString(16).padStart(4, "0");
  const parts = [
    `mps${params.maxPayloadBytes}`,
    `rcb${params.readCompletionBoundary}`,
    `t${params.tags}`,
    `id${id}`,
    `to${params.completionTimeoutCycles}`,
    `r${requestSources}`,
    `cr${completionRun}`,
  ];
  const given: [string, number | undefined][] = [
    ["npq", options.rx?.nonPostedQueueDepth],
    ["cw", options.rx?.counterWidth],
    ["rq", options.completer?.readQueueDepth],
    ["hq", options.completer?.headerQueueDepth],
  ];
  for (const [key, value] of given) if (value !== undefined) parts.push(`${key}${value}`);
  if (options.rx?.collapseHighAddress) parts.push("a33");
  if (options.rx?.memWriteRequesterId) parts.push("wrid");
  const served = options.completer?.servedRegions;
  if (served) parts.push(servedRegionsTag(served).slice(1));
  return `tlp_layer_${parts.join("_")}`;
}
