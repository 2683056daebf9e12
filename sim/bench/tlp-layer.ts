// Benchmark of the whole TLP layer (rtl-src/tlp/tlp-layer.ts) behind the link model:
//  1. line rate both ways at once: we send back-to-back 256-byte MWr while the peer reads 256-byte
//     blocks from us (CplDs) and writes 256-byte blocks to us; every consumer always ready. Figures:
//     s_axis_tx beats per cycle the core held tready high, against the 34-beat ideal per 256-byte
//     3DW TLP; m_axis_rx_tready high in the cycles the core offered a beat.
//  2. the random mixed traffic of test/rtl-src/tlp/tlp-layer.test.ts, larger, with random back-pressure.
//  3. Yosys synth_xilinx -family xc7 of the layer with the default parameters.
//   npx tsx sim/bench/tlp-layer.ts [--engine js|verilator] [--blocks N] [--no-synth]
import { parseArgs } from "node:util";
import { emitDesign } from "../../hdl/index.ts";
import { tlpLayer } from "../../rtl-src/tlp/tlp-layer.ts";
import { type TlpLayerParams, defaultTlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, resolveEngine } from "../engine/index.ts";
import { decodeTlp, encodeTlp } from "../pcie/codec.ts";
import type { Tlp } from "../pcie/tlp.ts";
import { seededRandom } from "../random.ts";
import { synthesize } from "../../tools/synth.ts";
import { type LayerRunResult, buildLayerSimulator, runLayer } from "../testbench/tlp-layer-harness.ts";
import { LAYER_REQUEST_SOURCES, expectedLayerCompletions, lineRateLayerTraffic, randomLayerTraffic, sourceOf } from "../testbench/tlp-layer-traffic.ts";

const { values } = parseArgs({ options: { engine: { type: "string" }, blocks: { type: "string", default: "400" }, "no-synth": { type: "boolean", default: false } } });
const engine = resolveEngine(values.engine) as EngineName;
const blocks = Number(values.blocks);
if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`--blocks ${values.blocks} is not a positive integer`);

const params: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: 1_000_000 };
const BLOCK_BYTES = 256;
const BEATS_PER_BLOCK_TLP = 2 + BLOCK_BYTES / 8;
const hex = (tlp: Tlp) => Buffer.from(encodeTlp(tlp)).toString("hex");

const sim = await buildLayerSimulator(params, engine, { requestSources: LAYER_REQUEST_SOURCES });
console.log(`tlp_layer MPS ${params.maxPayloadBytes} RCB ${params.readCompletionBoundary} tags ${params.tags}, ${engine} engine`);

/** The run's own consistency: every request reached the peer, the CplDs are the reference's, every tag came back. */
function check(name: string, run: LayerRunResult, requests: number): void {
  const problems: string[] = [];
  const peerRequests = run.peerReceived.filter((t) => t.kind !== "Cpl" && t.kind !== "CplD");
  if (peerRequests.length !== requests) problems.push(`${peerRequests.length} of ${requests} requests reached the peer`);
  const upTlps = run.trace.filter((e) => e.dir === "up").map((e) => decodeHex(e.tlp));
  const expected = expectedLayerCompletions(upTlps, params).cplds.map(hex);
  const got = run.peerReceived.filter((t) => t.kind === "CplD").map(hex);
  if (got.join() !== expected.join()) problems.push(`the peer got ${got.length} CplDs, not the reference's ${expected.length}`);
  if (run.status.outstanding !== 0 || run.status.timeout !== 0 || run.status.unexpected_completion !== 0 || run.tagReuse.length > 0) {
    problems.push(`tags: ${JSON.stringify({ outstanding: run.status.outstanding, timeout: run.status.timeout, unexpected: run.status.unexpected_completion, reuse: run.tagReuse.length })}`);
  }
  if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
}

function decodeHex(text: string): Tlp {
  return decodeTlp(Buffer.from(text, "hex"));
}

// 1. Line rate.
{
  const { downstream, upstream } = lineRateLayerTraffic(params, blocks, BLOCK_BYTES);
  const started = performance.now();
  const run = runLayer(sim, { params, random: seededRandom(1), sourceOf, requestSources: LAYER_REQUEST_SOURCES, downstream, upstream, readiness: 1, txBuffers: 32, maxCycles: 200 * blocks + 10_000 });
  const seconds = (performance.now() - started) / 1000;
  check("line rate", run, downstream.length);
  const txTlps = run.peerReceived.length;
  const ideal = BEATS_PER_BLOCK_TLP * txTlps;
  console.log(
    `line rate: ${blocks} MWr down + ${run.peerReceived.length - blocks} CplDs down, ${blocks} MWr + ${blocks} MRd up, 256 B each, in ${run.cycles} cycles\n` +
      `  s_axis_tx: ${run.txBeats} beats (ideal ${ideal}) in ${run.txReadyCycles} cycles with tready high: ${((100 * ideal) / run.txReadyCycles).toFixed(2)} % of the 34-beat ideal\n` +
      `  m_axis_rx: ${run.rxBeats} beats taken, tready low in ${run.rxStallCycles} of the ${run.rxBeats + run.rxStallCycles} cycles a beat was offered: ` +
      `tready high ${((100 * run.rxBeats) / (run.rxBeats + run.rxStallCycles)).toFixed(2)} %\n` +
      `  ${(run.cycles / seconds / 1e6).toFixed(2)} M cycles/s simulated`,
  );
}

// 2. Mixed random traffic with back-pressure.
{
  const random = seededRandom(7);
  const traffic = randomLayerTraffic(random, params, { configs: 100, reads: 150, writes: 250, upstream: 600, upstreamSpacing: 20 });
  const started = performance.now();
  const run = runLayer(sim, { params, random, sourceOf, requestSources: LAYER_REQUEST_SOURCES, ...traffic, readiness: 0.7, txBuffers: 3, maxCycles: 500_000 });
  const seconds = (performance.now() - started) / 1000;
  check("mixed traffic", run, traffic.downstream.length);
  console.log(
    `mixed traffic with back-pressure: ${run.peerReceived.length} TLPs down, ${run.trace.filter((e) => e.dir === "up").length} up, ` +
      `${run.completions.length} completions and ${run.memWrites.length} writes handed up, in ${run.cycles} cycles; ${(run.cycles / seconds / 1e6).toFixed(2)} M cycles/s simulated`,
  );
}
sim.close();

// 3. Resources.
if (!values["no-synth"]) {
  const module = tlpLayer(defaultTlpLayerParams);
  const report = await synthesize(emitDesign(module).files, module.name);
  console.log(`synth_xilinx -family xc7, ${module.name}: ${report.luts} LUTs, ${report.flipFlops} flip-flops, ${report.blockRam36} RAMB36, ${report.logicLevels} logic levels`);
}
