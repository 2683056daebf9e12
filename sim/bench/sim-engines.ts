// Engine benchmark: build times and cycles per second for each engine on the designs in
// generated/ and on a synthetic design of about 2 000 flip-flops with 64-bit datapaths,
// driven from TypeScript with a poke and a peek per cycle; plus the js model build time
// for netlists of about 10 000 cells.
//   npx tsx sim/bench/sim-engines.ts [--engine js|verilator] [--seconds S] [--no-big]
import { designsIn } from "../engine/designs.ts";
import { undefinedModules } from "../engine/verilog-scan.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable, VERILATOR_INSTALL_HINT } from "../engine/index.ts";
import { buildJsModel } from "../engine/js-engine.ts";
import type { VerilogSource } from "../engine/yosys.ts";
import { syntheticPipeline } from "./sim-synthetic.ts";

const argv = process.argv.slice(2);
const seconds = Number(argv[argv.indexOf("--seconds") + 1] ?? 1) || 1;
const only = argv.includes("--engine") ? (argv[argv.indexOf("--engine") + 1] as EngineName) : null;
const engines: EngineName[] = (only ? [only] : (["js", "verilator"] as EngineName[])).filter((e) => {
  if (e === "verilator" && !verilatorAvailable()) {
    console.log(`verilator engine skipped: Verilator is not installed (${VERILATOR_INSTALL_HINT})`);
    return false;
  }
  return true;
});

interface Row {
  engine: string;
  design: string;
  build: number;
  cyclesPerSecond: number;
}

/**
 * Cycles per second with one poke and one peek per cycle: the best of three runs of about
 * `seconds` each, after a warm-up (other processes share this machine's two cores).
 */
function measure(sim: Simulator, poke: string, peek: string): number {
  const input = sim.signal(poke);
  const output = sim.signal(peek);
  const wide = output.width > 32;
  const words = new Uint32Array(Math.ceil(output.width / 32));
  let sink = 0;
  const run = (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      sim.poke(input, (i >>> 1) & 1);
      sim.step();
      sink ^= wide ? sim.peekWords(output, words)[0] : sim.peek(output);
    }
    return (performance.now() - t0) / 1000;
  };
  sim.reset(2);
  let n = 10_000;
  while (run(n) < 0.2) n *= 2; // warm-up, and a batch size that takes at least 0.2 s
  const batches = Math.max(1, Math.round(seconds / 0.2));
  let best = 0;
  for (let r = 0; r < 3; r++) {
    let time = 0;
    for (let b = 0; b < batches; b++) time += run(n);
    best = Math.max(best, (n * batches) / time);
  }
  if (sink === -1) console.log(""); // keeps the peeks from being optimised away
  return best;
}

async function bench(engine: EngineName, design: string, sources: VerilogSource[], top: string, poke: string, peek: string): Promise<Row> {
  const t0 = performance.now();
  const sim = await createSimulator({ sources, top, engine, cache: false });
  const build = (performance.now() - t0) / 1000;
  const cyclesPerSecond = measure(sim, poke, peek);
  sim.close();
  return { engine, design, build, cyclesPerSecond };
}

/** A 1-bit input to toggle and an output to read, preferring handshake signals. */
function portsOf(sim: Simulator): { poke: string; peek: string } {
  const inputs = sim.signals.filter((s) => s.direction === "input" && s.name !== "clk" && s.name !== "rst");
  const outputs = sim.signals.filter((s) => s.direction === "output");
  const poke = (inputs.find((s) => s.width === 1 && /valid|ready/.test(s.name)) ?? inputs.find((s) => s.width === 1) ?? inputs[0]).name;
  const peek = (outputs.find((s) => /valid/.test(s.name)) ?? outputs[0]).name;
  return { poke, peek };
}

const rows: Row[] = [];
const generated = designsIn(new URL("../../generated", import.meta.url).pathname);
const synthetic = syntheticPipeline(31, 64);
for (const engine of engines) {
  for (const top of generated.tops) {
    const blackBoxes = undefinedModules(generated.sources, top);
    if (blackBoxes.length > 0) {
      if (engine === engines[0]) console.log(`${top} skipped: it instantiates ${blackBoxes.join(", ")}, which no engine can simulate`);
      continue;
    }
    const probe = await createSimulator({ sources: generated.sources, top, engine: "js" });
    const { poke, peek } = portsOf(probe);
    probe.close();
    rows.push(await bench(engine, top, generated.sources, top, poke, peek));
  }
  rows.push(await bench(engine, `synthetic (${synthetic.flipFlops} flip-flops, 64-bit)`, [{ path: "synthetic.v", text: synthetic.text }], synthetic.top, "in_valid", "out_data"));
}

console.log("\nengine     design                                         build s   cycles/s");
for (const r of rows) {
  console.log(`${r.engine.padEnd(10)} ${r.design.padEnd(46)} ${r.build.toFixed(2).padStart(7)}   ${(r.cyclesPerSecond / 1e6).toFixed(2).padStart(6)} M`);
}

if (!argv.includes("--no-big") && engines.includes("js")) {
  console.log("\njs model build (Yosys + compile), no cache:");
  for (const [lanes, width] of [[2000, 16], [1600, 64]] as const) {
    const big = syntheticPipeline(lanes, width);
    const t0 = performance.now();
    const { model } = await buildJsModel([{ path: "big.v", text: big.text }], big.top, false);
    const dt = (performance.now() - t0) / 1000;
    console.log(`  ${model.cellCount} cells, ${big.flipFlops} flip-flops (${width}-bit lanes): ${dt.toFixed(1)} s`);
  }
}
