// Benchmark of the coupling between a simulated design and the link model: the TLP layer behind
// the link + hard-IP model, cycles per wall second, with the bridge's ports crossing port by port
// (a poke or peek per port per cycle) or through one PortExchange call per cycle.
//  1. ports only: the bridge stepping the layer and the link with the link up and no traffic.
//  2. real traffic: the line-rate run of sim/bench/tlp-layer.ts (256-byte MWr down, MRd/MWr up),
//     harness included, without and with the stream protocol monitors the tests use (a monitor
//     observes every edge, so it takes the exchange's per-port path).
//   npx tsx sim/bench/system-coupling.ts [--engine js|verilator] [--blocks N] [--cycles N] [--json]
import { parseArgs } from "node:util";
import { type TlpLayerParams, defaultTlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { ENGINES, type EngineName, resolveEngine, verilatorAvailable } from "../engine/index.ts";
import { LinkModel } from "../pcie/link-model.ts";
import { seededRandom } from "../random.ts";
import { type BridgeCoupling, RootPortBridge } from "../testbench/root-port-bridge.ts";
import { ScriptedEndpoint } from "../testbench/scripted-endpoint.ts";
import { buildLayerSimulator, runLayer } from "../testbench/tlp-layer-harness.ts";
import { LAYER_REQUEST_SOURCES, lineRateLayerTraffic, sourceOf } from "../testbench/tlp-layer-traffic.ts";

const { values } = parseArgs({ options: { engine: { type: "string" }, blocks: { type: "string", default: "150" }, cycles: { type: "string", default: "300000" }, json: { type: "boolean", default: false } } });
const engines: EngineName[] = values.engine ? [resolveEngine(values.engine) as EngineName] : ENGINES.filter((e) => e !== "verilator" || verilatorAvailable());
const blocks = Number(values.blocks);
const idleCycles = Number(values.cycles);
const params: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: 1_000_000 };
const couplings: BridgeCoupling[] = ["per-port", "exchange"];
const BLOCK_BYTES = 256;

const results: { engine: EngineName; run: string; coupling: BridgeCoupling; cycles: number; mCyclesPerSecond: number }[] = [];
function report(engine: EngineName, run: string, coupling: BridgeCoupling, cycles: number, seconds: number): void {
  const rate = cycles / seconds / 1e6;
  results.push({ engine, run, coupling, cycles, mCyclesPerSecond: Number(rate.toFixed(3)) });
  if (!values.json) console.log(`${engine.padEnd(9)} ${run.padEnd(32)} ${coupling.padEnd(8)} ${String(cycles).padStart(8)} cycles  ${rate.toFixed(3)} M cycles/s`);
}

for (const engine of engines) {
  const plain = await buildLayerSimulator(params, engine, { requestSources: LAYER_REQUEST_SOURCES }, false);
  for (const coupling of couplings) {
    plain.reset(4);
    const link = new LinkModel(new ScriptedEndpoint(), { mps: params.maxPayloadBytes, trainingCycles: 4, latencyCycles: 20 });
    const bridge = new RootPortBridge(plain, link, coupling);
    bridge.step(1000); // warm-up: link training, JIT
    const started = performance.now();
    bridge.step(idleCycles);
    report(engine, "ports only, link up, idle", coupling, idleCycles, (performance.now() - started) / 1000);
  }
  const monitored = await buildLayerSimulator(params, engine, { requestSources: LAYER_REQUEST_SOURCES }, true);
  for (const [sim, label] of [[plain, "line rate"], [monitored, "line rate, stream monitors"]] as const) {
    for (const coupling of couplings) {
      const started = performance.now();
      const run = runLayer(sim, { params, random: seededRandom(1), sourceOf, requestSources: LAYER_REQUEST_SOURCES, ...lineRateLayerTraffic(params, blocks, BLOCK_BYTES), readiness: 1, txBuffers: 32, maxCycles: 200 * blocks + 10_000, coupling });
      report(engine, label, coupling, run.cycles, (performance.now() - started) / 1000);
    }
  }
  plain.close();
  monitored.close();
}
if (values.json) console.log(JSON.stringify(results, null, 2));
