// The example of hdl/README.md, kept here so that the documentation cannot drift from the DSL.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
import { lintFiles } from "../../tools/lint.ts";
import { icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";

function pulseCounter(width: number): Module {
  const m = new Module(`pulse_counter_w${width}`);
  const pulse = m.input(1);
  const clear = m.input(1);
  const count = m.output(width); // a register: it is assigned with sync below
  const saturated = m.output(1); // combinational: assigned with comb

  const at_max = count.all();
  m.If(clear, () => m.sync(count, 0)).Elif(pulse.and(at_max.not()), () => m.sync(count, count.addWrap(1)));
  m.comb(saturated, at_max);
  return m;
}

describe("the hdl/README.md example", () => {
  it("emits what the README says", async () => {
    const { files } = emitDesign(pulseCounter(8));
    expect(files.map((f) => f.fileName)).toEqual(["pulse_counter_w8.v"]);
    const text = files[0].text;
    for (const port of ["clk", "rst", "pulse", "clear", "count", "saturated"]) expect(text).toMatch(new RegExp(`(input|output) +(wire|reg) +(\\[7:0\\] )?${port}\\b`));
    expect(text).toContain("wire at_max = &count;");
    expect((await lintFiles(files)).findings).toEqual([]);
  });

  it.skipIf(!icarusAvailable())("counts pulses, saturates, and clears", () => {
    const out = runModule(pulseCounter(2), { inputs: { pulse: [1, 1, 1, 1, 1, 0], clear: [0, 0, 0, 0, 0, 1, 0] }, cycles: 7 });
    expect(out.count).toEqual([0n, 1n, 2n, 3n, 3n, 3n, 0n]);
    expect(out.saturated).toEqual([0n, 0n, 0n, 1n, 1n, 1n, 0n]);
  });
});
