// The synchroniser chain: the output is the input `stages` edges later, it holds its power-up
// value until then (a reset synchroniser starts asserted), the stages carry ASYNC_REG, and the
// module has no combinational path and no reset of its own.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { bitSynchronizer } from "../../../rtl-src/lib/bit-synchronizer.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)("bit_synchronizer on the %s engine", (engine) => {
  it.each([
    { stages: 2, powerUp: 1 as const },
    { stages: 3, powerUp: 0 as const },
  ])("follows its input $stages edges later, holding $powerUp from power-up until then", async (p) => {
    const module = bitSynchronizer(p);
    const { files } = emitDesign(module);
    const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine });
    try {
      const random = seededRandom(p.stages);
      const inputs: number[] = [];
      for (let cycle = 0; cycle < 200; cycle++) {
        const expected = cycle < p.stages ? p.powerUp : inputs[cycle - p.stages];
        expect(sim.peek("level_out"), `cycle ${cycle}`).toBe(expected);
        const level = cycle < 5 ? 1 - p.powerUp : random() < 0.3 ? 1 - (inputs.at(-1) ?? 0) : (inputs.at(-1) ?? 0);
        inputs.push(level);
        sim.poke("level_in", level);
        sim.step();
      }
      // The reset input does nothing: the chain has no reset (it would have to come from the other domain).
      sim.poke("level_in", 1);
      sim.step(p.stages);
      sim.reset(3);
      expect(sim.peek("level_out")).toBe(1);
    } finally {
      sim.close();
    }
  });
});

describe("bit_synchronizer's Verilog", () => {
  it("marks the stages ASYNC_REG, has no combinational path, and refuses bad parameters", () => {
    const { files, design } = emitDesign(bitSynchronizer({ stages: 2, powerUp: 1 }));
    expect(files[0].text).toContain('(* ASYNC_REG = "TRUE" *) reg  [1:0] stages = 2\'d3;');
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    expect(() => bitSynchronizer({ stages: 1, powerUp: 0 })).toThrow(/stages = 1/);
    expect(() => bitSynchronizer({ stages: 2, powerUp: 2 as 0 })).toThrow(/powerUp = 2/);
  });
});
