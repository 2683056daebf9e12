// The whole TLP layer: what the controller above it sees of PCIe, in TLP fields only.
//
//  - Transmit (tx-top.ts): the request sources `req<i>_*` (+ `req<i>_payload_*`) pass straight
//    through; its one completion source is fed by the completion merger (completion-merge.ts) from
//    the completer's CplDs and the receive side's UR completions. The CplD payload goes from the
//    completer to the transmit side directly (the merger only orders headers).
//  - Receive (rx-parser.ts): `m_axis_rx_*` and `rx_np_ok` face the core; received completions
//    (`completion_*` + `completion_data_*`) and the SSD's memory writes (`mem_write_*` +
//    `mem_write_data_*`) go out, its memory reads go to the completer, its UR answers to the merger.
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
import { Module } from "../../hdl/index.ts";
import { type CompleterOptions, tlpCompleter } from "./tlp-completer.ts";
import { tlpCompletionMerge } from "./tlp-completion-merge.ts";
import { type TlpRxOptions, tlpRx } from "./tlp-rx.ts";
import { tlpTagAllocator } from "./tlp-tag-allocator.ts";
import {
  type TlpLayerParams,
  completerDataRequest,
  completionHeader,
  coreRxStream,
  coreTxStream,
  hex16,
  payloadStream,
  receivedCompletion,
  receivedMemoryRead,
  receivedMemoryWrite,
  requestHeader,
} from "./tlp-interfaces.ts";
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
export function tlpLayer(params: TlpLayerParams, options: TlpLayerOptions = {}): Module {
  const requestSources = options.requestSources ?? DEFAULT_REQUEST_SOURCES;
  const completionRun = options.completionRun ?? DEFAULT_COMPLETION_RUN;
  const m = new Module(layerName(params, options, requestSources, completionRun));
  m.parameters({ ...params, requesterId: hex16(params.requesterId), requestSources, completionRun });
  const tx = tlpTx({ requesterId: params.requesterId, requestSources, completionRun });
  const rx = tlpRx(params, options.rx);
  const completer = tlpCompleter(params, options.completer);
  const tags = tlpTagAllocator(params);
  const tx_inst = m.instance(tx, { name: "tx" });
  const rx_inst = m.instance(rx, { name: "rx" });
  const completer_inst = m.instance(completer, { name: "completer" });
  const tags_inst = m.instance(tags, { name: "tags" });
  const merge = m.instance(tlpCompletionMerge(), { name: "merge" });

  // The core.
  m.connect(tx_inst.bundle(coreTxStream, "s_axis_tx"), m.port(coreTxStream, "master", { prefix: "s_axis_tx" }));
  m.connect(m.port(coreRxStream, "slave", { prefix: "m_axis_rx" }), rx_inst.bundle(coreRxStream, "m_axis_rx"));
  const rx_np_ok = m.output(1);
  m.comb(rx_np_ok, rx_inst.io.rx_np_ok);

  // Our requests.
  for (let i = 0; i < requestSources; i++) {
    m.connect(m.port(requestHeader, "slave", { prefix: `req${i}` }), tx_inst.bundle(requestHeader, `req${i}`));
    m.connect(m.port(payloadStream, "slave", { prefix: `req${i}_payload` }), tx_inst.bundle(payloadStream, `req${i}_payload`));
  }
  const tx_input_error = m.output(1);
  m.comb(tx_input_error, tx_inst.io.input_error);

  // Tags, and the completions that end them.
  const allocate_valid = m.output(1);
  const allocate_tag = m.output(tags_inst.io.allocate_tag.width);
  const allocate_ready = m.input(1);
  m.comb(allocate_valid, tags_inst.io.allocate_valid);
  m.comb(allocate_tag, tags_inst.io.allocate_tag);
  m.comb(tags_inst.io.allocate_ready, allocate_ready);
  for (const name of TAG_STATUS_OUTPUTS) {
    const status = m.output(tags_inst.io[name].width, { name });
    m.comb(status, tags_inst.io[name]);
  }
  const completion = m.port(receivedCompletion, "master");
  m.connect(rx_inst.bundle(receivedCompletion, "completion"), completion);
  m.connect(rx_inst.bundle(payloadStream, "completion_data"), m.port(payloadStream, "master", { prefix: "completion_data" }));
  m.comb(tags_inst.io.completion_valid, rx_inst.io.completion_valid.and(completion.signals.ready));
  for (const field of WATCHED_COMPLETION_FIELDS) m.comb(tags_inst.io[`completion_${field}`], rx_inst.io[`completion_${field}`]);

  // The SSD's memory writes, and its reads answered by the completer.
  m.connect(rx_inst.bundle(receivedMemoryWrite, "mem_write"), m.port(receivedMemoryWrite, "master", { prefix: "mem_write" }));
  m.connect(rx_inst.bundle(payloadStream, "mem_write_data"), m.port(payloadStream, "master", { prefix: "mem_write_data" }));
  m.connect(rx_inst.bundle(receivedMemoryRead, "mem_read"), completer_inst.bundle(receivedMemoryRead, "mem_read"));
  m.connect(completer_inst.bundle(completerDataRequest, "data_request"), m.port(completerDataRequest, "master", { prefix: "data_request" }));
  m.connect(m.port(payloadStream, "slave", { prefix: "data_response" }), completer_inst.bundle(payloadStream, "data_response"));

  // The completions we send: CplDs and UR answers merged; the CplD payload goes straight to tx.
  m.connect(completer_inst.bundle(completionHeader, "completion"), merge.bundle(completionHeader, "cpl"));
  m.connect(rx_inst.bundle(completionHeader, "ur_completion"), merge.bundle(completionHeader, "ur"));
  m.connect(merge.bundle(completionHeader, "merged"), tx_inst.bundle(completionHeader, "cpl"));
  m.connect(completer_inst.bundle(payloadStream, "completion_payload"), tx_inst.bundle(payloadStream, "cpl_payload"));

  for (const name of RX_COUNTERS) {
    const counter = m.output(rx_inst.io[name].width, { name });
    m.comb(counter, rx_inst.io[name]);
  }
  return m;
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
  return `tlp_layer_${parts.join("_")}`;
}
