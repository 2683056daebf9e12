// One fuzz round: a random DSL design run on the reference model, the js engine, and
// (through checkAgreement) the verilator engine and Icarus, all under one stimulus.
import { type AgreementReport, checkAgreement } from "./agreement.ts";
import type { EngineName } from "./engine-choice.ts";
import { type FuzzDesign, type FuzzOptions, DEFAULT_FUZZ, randomDesign } from "./fuzz.ts";
import { createSimulator } from "./index.ts";
import { randomStimulus, wordsOf } from "./stimulus.ts";

export interface FuzzRound {
  seed: number;
  design: FuzzDesign;
  /** First cycle where the js engine and the DSL reference model differ. */
  referenceMismatch: { cycle: number; output: string; reference: string; js: string; expression: string } | null;
  agreement: AgreementReport;
}

export async function fuzzRound(
  seed: number,
  run: { cycles: number; engines: readonly EngineName[]; icarus: boolean },
  options: FuzzOptions = DEFAULT_FUZZ,
): Promise<FuzzRound> {
  const design = randomDesign(seed, options);
  const referenceMismatch = await compareWithReference(design, run.cycles, seed);
  const agreement = await checkAgreement(design.sources, design.top, { cycles: run.cycles, seed, engines: run.engines, icarus: run.icarus });
  return { seed, design, referenceMismatch, agreement };
}

async function compareWithReference(design: FuzzDesign, cycles: number, seed: number): Promise<FuzzRound["referenceMismatch"]> {
  const sim = await createSimulator({ sources: design.sources, top: design.top, engine: "js" });
  try {
    const ref = design.reference;
    const stim = randomStimulus(sim.signals.filter((s) => s.direction === "input"), cycles, seed);
    const ins = stim.inputs.map((p) => sim.signal(p.name));
    for (let c = 0; c < cycles; c++) {
      ins.forEach((h, i) => {
        const nw = wordsOf(h.width);
        let v = 0n;
        for (let w = nw - 1; w >= 0; w--) v = (v << 32n) | BigInt(stim.values[i][c * nw + w]);
        sim.poke(h, v);
        ref.poke(h.name, v);
      });
      sim.step();
      ref.step();
      for (const out of ref.outputs) {
        const js = sim.peekBig(out.name);
        const expected = ref.peek(out.name);
        if (js !== expected) {
          return { cycle: c, output: out.name, reference: expected.toString(16), js: js.toString(16), expression: out.node.text };
        }
      }
    }
    return null;
  } finally {
    sim.close();
  }
}
