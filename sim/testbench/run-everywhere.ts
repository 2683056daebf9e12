// Test helper: one combinational DSL module, one list of input vectors, the outputs it settles to
// on every simulator we have (js engine, Verilator, Icarus), so that a test can require all three
// to give the documented answer rather than merely to agree with each other.
import { type Module, emitDesign } from "../../hdl/index.ts";
import { createSimulator, verilatorAvailable } from "../engine/index.ts";
import { icarusAvailable, runModule } from "./run-module.ts";

export type SimulatorName = "js" | "verilator" | "icarus";

/** Input name -> value, one record per vector. */
export type Vector = Record<string, bigint | number>;

/** Per simulator available here: output name -> settled value per vector. */
export async function settleEverywhere(top: Module, vectors: readonly Vector[]): Promise<Map<SimulatorName, Record<string, bigint[]>>> {
  const { files, design } = emitDesign(top);
  const sources = files.map((f) => ({ path: `generated/${f.fileName}`, text: f.text }));
  const outputs = top.ports.filter((p) => p.kind === "output").map((p) => top.displayName(p));
  const results = new Map<SimulatorName, Record<string, bigint[]>>();
  const engines: ("js" | "verilator")[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
  for (const engine of engines) {
    const sim = await createSimulator({ sources, top: design.top.name, engine });
    try {
      const got: Record<string, bigint[]> = Object.fromEntries(outputs.map((name) => [name, []]));
      for (const vector of vectors) {
        for (const [name, value] of Object.entries(vector)) sim.poke(name, BigInt(value));
        for (const name of outputs) got[name].push(sim.peekBig(name));
      }
      results.set(engine, got);
    } finally {
      sim.close();
    }
  }
  if (icarusAvailable()) {
    const names = Object.keys(vectors[0] ?? {});
    const inputs = Object.fromEntries(names.map((name) => [name, vectors.map((v) => BigInt(v[name]))]));
    results.set("icarus", runModule(top, { inputs, cycles: vectors.length }));
  }
  return results;
}
