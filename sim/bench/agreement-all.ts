// Every design in generated/ (not only the representatives `npm test` runs) under the same random
// stimulus on the js engine, the verilator engine and Icarus: one line per design, a summary, exit
// 1 on any disagreement.
//   npx tsx sim/bench/agreement-all.ts [--cycles N] [--seed S]
import { checkAgreement } from "../engine/agreement.ts";
import { designsIn, representativeTops } from "../engine/designs.ts";
import { type EngineName, verilatorAvailable } from "../engine/index.ts";
import { hierarchySources, undefinedModules } from "../engine/verilog-scan.ts";
import { icarusAvailable } from "../../tools/icarus.ts";

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive whole number, got ${process.argv[i + 1]}`);
  return v;
}

const cycles = option("cycles", 3000);
const seed = option("seed", 0x5eed);
const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const icarus = icarusAvailable();
const generated = designsIn(new URL("../../generated", import.meta.url).pathname);
const representatives = new Set(representativeTops(generated));
console.log(`${generated.tops.length} designs x ${cycles} cycles, seed ${seed}, on ${engines.join(", ")}${icarus ? ", icarus" : ""} (* = also in npm test)`);

let failures = 0;
let skipped = 0;
const start = performance.now();
for (const top of generated.tops) {
  const blackBoxes = undefinedModules(generated.sources, top);
  if (blackBoxes.length > 0) {
    skipped++;
    console.log(`  ${top}: skipped, instantiates ${blackBoxes.join(", ")}`);
    continue;
  }
  const t0 = performance.now();
  const report = await checkAgreement(hierarchySources(generated.sources, top), top, { cycles, seed, engines, icarus });
  const problem = report.first ? `differ: ${JSON.stringify(report.first)}` : Object.keys(report.onlyIn).length ? `signal lists differ: ${JSON.stringify(report.onlyIn)}` : "";
  if (problem) failures++;
  const mark = representatives.has(top) ? "*" : " ";
  console.log(`${mark} ${top}: ${problem || "agree"} (${report.comparedOutputs} outputs, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
console.log(`${generated.tops.length - skipped - failures} agree, ${failures} differ, ${skipped} skipped in ${((performance.now() - start) / 1000).toFixed(0)} s`);
process.exit(failures > 0 ? 1 : 0);
