// Fuzzing the engines: random DSL designs (expressions over random widths and signedness,
// registers with enables and case statements, a memory) emitted to Verilog and run on the
// DSL reference model, the js engine, the verilator engine and Icarus. The seeds listed
// first each found a bug once (see sim/engine/README.md); the others are fresh designs.
// `npx tsx sim/bench/sim-fuzz.ts` runs many more.
import { describe, expect, it } from "vitest";
import { fuzzRound } from "../../../sim/engine/fuzz-check.ts";
import { icarusAvailable } from "../../../tools/icarus.ts";
import { type EngineName, verilatorAvailable, nativeAvailable } from "../../../sim/engine/index.ts";

const REGRESSION_SEEDS = [1, 7, 13, 24, 28, 47, 2003, 2005];
const FRESH_SEEDS = [1001, 1002, 1003];
const CYCLES = 400;

const hasVerilator = verilatorAvailable();
const engines: EngineName[] = [...(hasVerilator ? (["js", "verilator"] as const) : (["js"] as const)), ...(nativeAvailable() ? (["native"] as const) : [])];
const icarus = icarusAvailable();

describe("random DSL designs", () => {
  it.each([...REGRESSION_SEEDS, ...FRESH_SEEDS])("seed %i agrees on every simulator and with the DSL's meaning", async (seed) => {
    const round = await fuzzRound(seed, { cycles: CYCLES, engines, icarus });
    const context = `seed ${seed}\n${round.design.describe()}`;
    expect(round.referenceMismatch, context).toBeNull();
    expect(round.agreement.onlyIn, context).toEqual({});
    expect(round.agreement.first, `${context}\n${JSON.stringify(round.agreement.first, null, 2)}`).toBeNull();
    expect(round.agreement.comparedSignals).toBeGreaterThan(10);
  });
});
