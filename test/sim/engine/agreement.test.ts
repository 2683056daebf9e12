// Differential tests: the designs in generated/ (one per builder and width class, see
// representativeTops, on the js engine and Icarus; `npm run bench:agreement` runs every one on all
// three) and the engine fixtures run under the same random stimulus on the js engine, the verilator
// engine and Icarus Verilog, and every output (every shared signal, between the engines) must agree
// every cycle.
import { describe, expect, it } from "vitest";
import { type AgreementReport, checkAgreement, drive, firstDifference } from "../../../sim/engine/agreement.ts";
import { icarusAvailable } from "../../../tools/icarus.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { randomStimulus } from "../../../sim/engine/stimulus.ts";
import { coreChildren, describeGeneratedAgreement, isArrayCore, isControllerCore } from "./generated-agreement.ts";
import { designsIn } from "../../../sim/engine/designs.ts";
import { readSources } from "../../../sim/engine/yosys.ts";
import { Module, emitDesign } from "../../../hdl/index.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const FIXTURES = `${ROOT}test/fixtures/engine/`;
const CYCLES = 3000;

const hasVerilator = verilatorAvailable();
const hasIcarus = icarusAvailable();
const engines: EngineName[] = hasVerilator ? ["js", "verilator"] : ["js"];

function expectAgreement(report: AgreementReport): void {
  expect(report.onlyIn).toEqual({});
  expect(report.first, JSON.stringify(report.first, null, 2)).toBeNull();
}

describeGeneratedAgreement(
  "designs in generated/ (the core and its children: agreement-core.test.ts; not the array cores)",
  (top, set) => !isControllerCore(top) && !isArrayCore(top) && !coreChildren(set).has(top),
);

describe("the designs the core's agreement covers", () => {
  it("are the core's own children, the lane among them", () => {
    const children = [...coreChildren(designsIn(`${ROOT}generated`))];
    expect(children.some((top) => top.startsWith("nvme_lane_"))).toBe(true);
    expect(children.every((top) => !isControllerCore(top))).toBe(true);
  });
});

describe("engine fixtures", () => {
  const fixtures: [string, string[]][] = [
    ["counter_top", ["counter_top.v", "counter.v"]],
    ["wide_datapath", ["wide_datapath.v", "wide_alu.v"]],
    ["regress_feedback_mux", ["regress_feedback_mux.v"]],
    ["regress_power_up", ["regress_power_up.v"]],
  ];
  it.each(fixtures)("%s agrees on every simulator", async (top, files) => {
    const report = await checkAgreement(readSources(files.map((f) => FIXTURES + f)), top, { cycles: CYCLES, seed: 42, engines, icarus: hasIcarus });
    expectAgreement(report);
  });
});

describe("regressions", () => {
  it("powers flip-flops without an initial value up at 0, even one Yosys could fold into its reset value (fuzz seed 47)", async () => {
    const sim = await createSimulator({ sources: [`${FIXTURES}regress_power_up.v`], top: "regress_power_up", engine: "js" });
    expect(sim.peek("fixed")).toBe(0);
    sim.poke("rst", 1);
    sim.step();
    expect(sim.peek("snapshot")).toBe(0);
    expect(sim.peek("fixed")).toBe(11);
    sim.close();
  });

  it("keeps a feedback mux's named output exact on the js engine (fuzz seed 13)", async () => {
    const sim = await createSimulator({ sources: [`${FIXTURES}regress_feedback_mux.v`], top: "regress_feedback_mux", engine: "js" });
    sim.reset();
    sim.poke("use_packed", 1);
    sim.poke("sel", 1);
    sim.poke("d", 1);
    sim.poke("high", 5);
    sim.step();
    sim.poke("sel", 0);
    sim.poke("d", 0);
    // sel low: the mux passes q (1), so packed_next = {high, q}.
    expect(sim.peek("q_out")).toBe(1);
    expect(sim.peek("packed_next")).toBe((5 << 1) | 1);
    sim.close();
  });
});

describe("the comparison", () => {
  it("reports the first cycle and signal where two traces differ, counting x as a difference", async () => {
    const sources = readSources([`${FIXTURES}counter_top.v`, `${FIXTURES}counter.v`]);
    const sim = await createSimulator({ sources, top: "counter_top", engine: "js" });
    const inputs = sim.signals.filter((s) => s.direction === "input");
    const observed = sim.signals.filter((s) => s.direction === "output");
    const stim = randomStimulus(inputs, 50, 1);
    const values = drive(sim, stim, observed);
    sim.close();
    const bent = values.slice();
    const stride = values.length / 50;
    bent[17 * stride + 1] ^= 0x100; // cycle 17, total's high word (outputs by name: total, value, wraps)
    expect(firstDifference([{ name: "a", signals: observed, values }, { name: "b", signals: observed, values: values.slice() }], stim)).toBeNull();
    const diff = firstDifference([{ name: "a", signals: observed, values }, { name: "b", signals: observed, values: bent }], stim);
    expect(diff?.cycle).toBe(17);
    expect(diff?.signal).toBe("total");
    // An x bit is a disagreement even where the other bits match: every bit has a defined value.
    const unknown = new Uint32Array(values.length);
    unknown[23 * stride + 1] = 0x100;
    const withX = firstDifference([{ name: "a", signals: observed, values }, { name: "icarus", signals: observed, values: values.slice(), unknown }], stim);
    expect(withX?.cycle).toBe(23);
    expect(withX?.signal).toBe("total");
    expect(withX?.values.icarus).toMatch(/x/);
  });

  it.skipIf(!hasIcarus)("runs a purely combinational top (no clk, no rst) on every simulator", async () => {
    const m = new Module("comb_only_top");
    const a = m.input(8);
    const b = m.input(8);
    const sum = m.output(9);
    const same = m.output(1);
    m.comb(sum, a.add(b));
    m.comb(same, a.eq(b));
    const sources = emitDesign(m).files.map((f) => ({ path: f.fileName, text: f.text }));
    const report = await checkAgreement(sources, "comb_only_top", { cycles: 200, seed: 3, engines, icarus: true });
    expectAgreement(report);
    expect(report.comparedOutputs).toBe(2);
  });

  it.skipIf(!hasIcarus)("counts a bit Icarus leaves at x as a disagreement, naming the signal and cycle", async () => {
    // Hand-written, not DSL: the memory has no initial contents, so Icarus reads x where the
    // engines read 0. (The DSL zero-fills such a memory.)
    const text = [
      "module x_memory (input wire clk, input wire [1:0] addr, output reg [7:0] q);",
      "  reg [7:0] mem [0:3];",
      "  always @(posedge clk) q <= mem[addr];",
      "endmodule",
      "",
    ].join("\n");
    const report = await checkAgreement([{ path: "x_memory.v", text }], "x_memory", { cycles: 20, seed: 5, engines, icarus: true });
    expect(report.first?.cycle).toBe(0);
    expect(report.first?.signal).toBe("q");
    expect(report.first?.values.icarus).toBe("xx");
    expect(report.icarusUnknownBits).toBeGreaterThan(0);
  });
});
