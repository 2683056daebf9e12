// Test helper: emit a DSL module and run it with the same per-cycle vectors on every simulator
// installed (the js engine always, Verilator and Icarus when present), sampled as `runModule`
// samples: each cycle after its inputs are applied, before its rising edge.
import { type Module, emitDesign } from "../../hdl/index.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../engine/index.ts";
import { icarusAvailable } from "../../tools/icarus.ts";
import { type ModuleRun, runModule } from "./run-module.ts";

export type SimulatorName = "js" | "verilator" | "icarus";

/** The simulators `runOnEverySimulator` will use on this machine. */
export function installedSimulators(): SimulatorName[] {
  return ["js", ...(verilatorAvailable() ? (["verilator"] as const) : []), ...(icarusAvailable() ? (["icarus"] as const) : [])];
}

/** Per simulator, per sampled name, the value in each cycle after reset. */
export async function runOnEverySimulator(top: Module, run: ModuleRun): Promise<Record<SimulatorName, Record<string, bigint[]>>> {
  const results: Partial<Record<SimulatorName, Record<string, bigint[]>>> = {};
  for (const simulator of installedSimulators()) {
    results[simulator] = simulator === "icarus" ? runModule(top, run) : await runOnEngine(top, run, simulator);
  }
  return results as Record<SimulatorName, Record<string, bigint[]>>;
}

async function runOnEngine(top: Module, run: ModuleRun, engine: EngineName): Promise<Record<string, bigint[]>> {
  const { files } = emitDesign(top);
  const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: top.name, engine });
  try {
    const hasReset = sim.signals.some((s) => s.name === "rst" && s.direction === "input");
    const resetCycles = hasReset ? (run.resetCycles ?? 1) : 0;
    const outputs = run.outputs ?? top.ports.filter((p) => p.kind === "output").map((p) => top.displayName(p));
    const samples: Record<string, bigint[]> = Object.fromEntries(outputs.map((name) => [name, []]));
    for (let cycle = 0; cycle < resetCycles + run.cycles; cycle++) {
      if (hasReset) sim.poke("rst", cycle < resetCycles ? 1 : 0);
      const vector = Math.max(0, cycle - resetCycles);
      for (const [name, series] of Object.entries(run.inputs ?? {})) sim.poke(name, BigInt(series[Math.min(vector, series.length - 1)]));
      if (cycle >= resetCycles) for (const name of outputs) samples[name].push(sim.peekBig(name));
      sim.step();
    }
    return samples;
  } finally {
    sim.close();
  }
}

/** Input name -> value, one record per vector. */
export type Vector = Record<string, bigint | number>;

/**
 * The outputs a combinational module settles to for each vector, per simulator installed, so a test
 * can require all of them to give the documented answer rather than merely to agree.
 */
export async function settleEverywhere(top: Module, vectors: readonly Vector[]): Promise<Map<SimulatorName, Record<string, bigint[]>>> {
  const names = Object.keys(vectors[0] ?? {});
  const inputs = Object.fromEntries(names.map((name) => [name, vectors.map((v) => BigInt(v[name]))]));
  const results = await runOnEverySimulator(top, { inputs, cycles: vectors.length });
  return new Map(installedSimulators().map((name) => [name, results[name]]));
}
