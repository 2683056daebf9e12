// Long fuzzing run: many random DSL designs through the reference model, the engines
// and Icarus. Prints one line per design and a summary; exits 1 on any disagreement.
//   npx tsx sim/bench/sim-fuzz.ts [--designs N] [--cycles N] [--seed S] [--depth D] [--outputs N]
import { fuzzRound } from "../engine/fuzz-check.ts";
import { DEFAULT_FUZZ } from "../engine/fuzz.ts";
import { icarusAvailable } from "../../tools/icarus.ts";
import { type EngineName, nativeAvailable, verilatorAvailable } from "../engine/index.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a whole number, got ${process.argv[i + 1]}`);
  return v;
}

const designs = option("designs", 50);
const cycles = option("cycles", 2000);
const first = option("seed", Date.now() % 1_000_000);
const shape = { ...DEFAULT_FUZZ, depth: option("depth", DEFAULT_FUZZ.depth), outputs: option("outputs", DEFAULT_FUZZ.outputs) };
const engines: EngineName[] = [...(verilatorAvailable() ? (["js", "verilator"] as const) : (["js"] as const)), ...(nativeAvailable() ? (["native"] as const) : [])];
const icarus = icarusAvailable();
console.log(`fuzzing ${designs} designs x ${cycles} cycles from seed ${first} on reference, ${engines.join(", ")}${icarus ? ", icarus" : ""}`);

let failures = 0;
const start = performance.now();
for (let seed = first; seed < first + designs; seed++) {
  const t0 = performance.now();
  try {
    const r = await fuzzRound(seed, { cycles, engines, icarus }, shape);
    const problem = r.referenceMismatch
      ? `reference differs: ${JSON.stringify(r.referenceMismatch)}`
      : r.agreement.first
        ? `simulators differ: ${JSON.stringify(r.agreement.first)}`
        : Object.keys(r.agreement.onlyIn).length
          ? `signal lists differ: ${JSON.stringify(r.agreement.onlyIn)}`
          : "";
    if (problem) failures++;
    console.log(`seed ${seed}: ${problem || "ok"} (${r.agreement.comparedSignals} signals, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    failures++;
    console.log(`seed ${seed}: error: ${(err as Error).message.split("\n").slice(0, 4).join(" / ")}`);
  }
}
console.log(`${designs - failures}/${designs} designs agree (${((performance.now() - start) / 1000).toFixed(0)} s)`);
process.exit(failures > 0 ? 1 : 0);
