// The completer in its place in the TLP layer, for system runs behind the link model: tlp_rx takes
// the SSD's memory reads off m_axis_rx, tlp_completer answers them, tlp_tx packs the CplDs onto
// s_axis_tx. The data source stays outside (data_request_* / data_response_* are top-level ports
// that the run plays in TypeScript); the other receive ports are drained and the request sources
// of tlp_tx are idle. A test fixture, not a part of the controller.
import { type Bundle, Module, emitDesign } from "../../hdl/index.ts";
import { tlpCompleter } from "../../rtl-src/tlp/tlp-completer.ts";
import { tlpRx } from "../../rtl-src/tlp/tlp-rx.ts";
import type { TlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { tlpTx } from "../../rtl-src/tlp/tlp-tx.ts";
import { RootPortBridge } from "./root-port-bridge.ts";
import { type Simulator, type EngineName, createSimulator } from "../engine/index.ts";
import { completeMemoryRead } from "../pcie/completion-split.ts";
import { LinkModel } from "../pcie/link-model.ts";
import { ScriptedEndpoint } from "./scripted-endpoint.ts";
import type { Completion, MemRequest } from "../pcie/tlp.ts";
import type { TraceSink } from "../pcie/trace.ts";
import { CompleterDataSource } from "./completer-data-source.ts";
import { memoryDw } from "./tlp-completer-harness.ts";
import { monitorStreams } from "./stream-monitor.ts";

export type CompleterSystemParams = Pick<TlpLayerParams, "maxPayloadBytes" | "readCompletionBoundary" | "tags" | "requesterId">;

export function tlpCompleterSystem(params: CompleterSystemParams): Module {
  const m = new Module(`tlp_completer_system_mps${params.maxPayloadBytes}_rcb${params.readCompletionBoundary}`);
  const rx = m.instance(tlpRx(params), { name: "rx" });
  const completer = m.instance(tlpCompleter(params), { name: "completer" });
  const tx = m.instance(tlpTx({ requesterId: params.requesterId, requestSources: 1, completionRun: 4 }), { name: "tx" });

  m.promote(rx.ports.m_axis_rx);
  m.promote(rx.ports.rx_np_ok);
  m.promote(rx.ports.user_lnk_up);
  m.connect(rx.ports.mem_read, completer.ports.mem_read);
  m.promote(completer.ports.data_request);
  m.promote(completer.ports.data_response);
  m.connect(completer.ports.completion, tx.ports.cpl);
  m.connect(completer.ports.completion_payload, tx.ports.cpl_payload);
  m.promote(tx.ports.s_axis_tx);

  const { completion, completion_data, mem_write, mem_write_data, ur_completion } = rx.ports;
  for (const drained of [completion.signals.ready, completion_data.signals.tready, mem_write.signals.ready, mem_write_data.signals.tready, ur_completion.signals.ready]) {
    m.comb(drained, 1);
  }
  for (const request of [tx.ports.reqs[0], tx.ports.req_payloads[0]] as Bundle[]) {
    for (const field of request.fieldNames) if (request.def.fields[field].direction === "forward") m.comb(request.signals[field], 0);
  }
  return m;
}

export async function buildCompleterSystemSimulator(params: CompleterSystemParams, engine: EngineName): Promise<Simulator> {
  const module = tlpCompleterSystem(params);
  const { files } = emitDesign(module);
  return monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine }));
}

export interface SystemRunOptions {
  params: CompleterSystemParams;
  random: () => number;
  /** Probability per cycle that the data source offers its next beat. */
  sourceValid: number;
  /** The core's transmit buffers: few make the link push back on s_axis_tx_tready. */
  txBuffers: number;
  trace?: TraceSink;
  maxCycles?: number;
}

export interface SystemRunResult {
  /** The CplDs the peer received, in arrival order. */
  received: Completion[];
  /** The CplDs the reference completer would send for the reads, in order. */
  expected: Completion[];
  cycles: number;
  /** Beats taken on s_axis_tx, and the cycles tready was high from the first of them to the last. */
  txBeats: number;
  txReadyCycles: number;
}

/** The peer sends `reads` upstream; runs until it has as many CplDs as the reference says it should get. */
export function runCompleterSystem(sim: Simulator, reads: readonly MemRequest[], options: SystemRunOptions): SystemRunResult {
  const { params, random } = options;
  const rcb = params.readCompletionBoundary;
  if (rcb !== 64 && rcb !== 128) throw new RangeError(`readCompletionBoundary ${rcb} is not 64 or 128`);
  const split = { rcb, mps: params.maxPayloadBytes };
  sim.reset(2);
  const endpoint = new ScriptedEndpoint({ split });
  const expected: Completion[] = [];
  for (const read of reads) {
    endpoint.queueUpstream(read);
    expected.push(...completeMemoryRead(read, params.requesterId, readReference, split));
  }
  const link = new LinkModel(
    endpoint,
    { mps: params.maxPayloadBytes, rcb, trainingCycles: 4, txBuffers: options.txBuffers },
    { trace: options.trace },
  );
  const bridge = new RootPortBridge(sim, link);
  const source = new CompleterDataSource(sim, () => random() < options.sourceValid, () => true);
  const start = link.cycle;
  const txValid = sim.signal("s_axis_tx_tvalid");
  let txBeats = 0;
  let readySinceFirstBeat = 0;
  let txReadyCycles = 0;
  bridge.runUntil(() => {
    source.beforeEdge();
    const ready = link.ports.s_axis_tx_tready === 1;
    if (ready && (txBeats > 0 || sim.peek(txValid))) readySinceFirstBeat++;
    if (ready && sim.peek(txValid)) {
      txBeats++;
      txReadyCycles = readySinceFirstBeat;
    }
    return endpoint.completions.length >= expected.length;
  }, options.maxCycles ?? 200_000, `${expected.length} CplDs at the peer`);
  return { received: endpoint.completions, expected, cycles: link.cycle - start, txBeats, txReadyCycles };
}

function readReference(payloadAddress: bigint, byteLength: number): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < byteLength; i += 4) view.setUint32(i, memoryDw(payloadAddress + BigInt(i)), true);
  return bytes;
}
