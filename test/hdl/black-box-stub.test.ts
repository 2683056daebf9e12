// Black boxes around the DSL: the port-exact stubs `emitBlackBoxStub` writes (lint clean on all
// three tools, a black box to Yosys, ports exactly as described), the list of black boxes a design
// places (`design.blackBoxes`), and children in a clock domain of their own
// (`m.instance(child, { clock, reset })`), the way a board top runs its logic on a clock a black box
// makes.
import { describe, expect, it } from "vitest";
import { type BlackBoxDef, Module, blackBoxStubFileName, cat, emitBlackBoxStub, emitDesign } from "../../hdl/index.ts";
import { runTestbench } from "../../tools/icarus.ts";
import { lintFiles, unavailableLintTools } from "../../tools/lint.ts";
import { yosys } from "../../tools/yosys.ts";
import { icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";

const buffer: BlackBoxDef = {
  module: "DIFF_BUF",
  parameters: { DIFF_TERM: "TRUE", DEPTH: 3, INIT: { value: 0xa, width: 4 } },
  inputs: { I: 1, IB: 1, sel: 3 },
  outputs: { O: 1, status: 12 },
};

/** A parent that places the black box and uses every output. */
function bufferUser(): Module {
  const m = new Module("buffer_user");
  const p = m.input(1);
  const n = m.input(1);
  const seen = m.output(13);
  const buf = m.blackbox(buffer);
  m.comb(buf.ports.I, p);
  m.comb(buf.ports.IB, n);
  m.comb(buf.ports.sel, 5);
  m.comb(seen, cat(buf.ports.status, buf.ports.O));
  return m;
}

describe("black-box stubs", () => {
  const stub = emitBlackBoxStub(buffer, { description: "A differential input buffer (test)." });

  it("declare every port with its direction and width, in order, and the parameters with their values", () => {
    expect(stub).toContain("(* blackbox *)\nmodule DIFF_BUF #(\n  parameter DIFF_TERM = \"TRUE\",\n  parameter DEPTH = 3,\n  parameter INIT = 4'ha\n) (");
    const ports = [...stub.matchAll(/^ {2}(input |output) wire (\[\d+:0\] )?(\w+)/gm)].map((m) => `${m[1].trim()} ${m[2] ?? ""}${m[3]}`);
    expect(ports).toEqual(["input I", "input IB", "input [2:0] sel", "output O", "output [11:0] status"]);
    expect(stub).toContain("assign status = 12'd0;");
    expect(stub).toContain("// A differential input buffer (test).");
    expect(blackBoxStubFileName(buffer)).toBe("DIFF_BUF.v");
  });

  it("with the design that places it, pass Verilator -Wall, Yosys hierarchy -check and Icarus", { timeout: 60_000 }, async () => {
    const { files } = emitDesign(bufferUser());
    const report = await lintFiles(files, { library: [{ fileName: "DIFF_BUF.v", moduleName: "DIFF_BUF", text: stub }] });
    expect(report.skipped).toEqual(unavailableLintTools());
    expect(report.findings).toEqual([]);
  });

  it("without the stub, the design fails Yosys hierarchy -check (the check that the stub is needed for)", { timeout: 60_000 }, async () => {
    const { files } = emitDesign(bufferUser());
    const report = await lintFiles(files);
    expect(report.findings.some((f) => f.tool === "yosys" && /DIFF_BUF/.test(f.message))).toBe(true);
  });

  it("stay a black box when Yosys flattens the design: the cell is kept, nothing inside it is read", { timeout: 60_000 }, async () => {
    const { files } = emitDesign(bufferUser());
    const sources = Object.fromEntries([...files.map((f) => [f.fileName, f.text]), ["DIFF_BUF.v", stub]]);
    const run = await yosys(`read_verilog ${Object.keys(sources).join(" ")}; hierarchy -check -top buffer_user; proc; flatten; opt; tee -q -o stat.txt stat`, sources);
    // Without `(* blackbox *)` the flattening would dissolve the cell into the stub's constants.
    expect(run.files["stat.txt"]).toMatch(/\s1\s+DIFF_BUF\b|DIFF_BUF\s+1\b/);
  });

  it.skipIf(!icarusAvailable())("read as 0 in simulation", () => {
    const { files } = emitDesign(bufferUser());
    const result = runTestbench({
      files: [...files, { fileName: "DIFF_BUF.v", moduleName: "DIFF_BUF", text: stub }],
      top: "buffer_user",
      cycles: 2,
      inputs: [{ name: "p", width: 1 }],
      vectors: [[1n], [0n]],
      outputs: [{ name: "seen", width: 13 }],
    });
    expect(result.samples.map((s) => s[0])).toEqual([0n, 0n]);
  });

  it("refuse names that are not Verilog identifiers, and a black box with no ports", () => {
    expect(() => emitBlackBoxStub({ module: "bad-name", inputs: { a: 1 }, outputs: {} })).toThrow(/"bad-name" is not a Verilog identifier/);
    expect(() => emitBlackBoxStub({ module: "ok", inputs: { "a b": 1 }, outputs: {} })).toThrow(/port "a b" is not a Verilog identifier/);
    expect(() => emitBlackBoxStub({ module: "ok", inputs: {}, outputs: {} })).toThrow(/has no ports/);
  });
});

describe("the black boxes of a design", () => {
  it("are listed once per module name, in name order, with the parameter names of every instance", () => {
    const m = new Module("two_kinds");
    const a = m.input(1);
    const y = m.output(2);
    const first = m.blackbox({ module: "ZB", parameters: { X: 1 }, inputs: { I: 1 }, outputs: { O: 1 } });
    const second = m.blackbox({ module: "ZB", parameters: { Y: "b" }, inputs: { I: 1 }, outputs: { O: 1 } });
    const other = m.blackbox({ module: "AB", inputs: { I: 1 }, outputs: { O: 1 } });
    for (const bb of [first, second, other]) m.comb(bb.ports.I, a);
    m.comb(y, first.ports.O.zext(2).or(second.ports.O.zext(2)).or(other.ports.O.zext(2)));
    const { design } = emitDesign(m);
    expect(design.blackBoxes.map((b) => b.module)).toEqual(["AB", "ZB"]);
    expect(design.blackBoxes[1].parameters).toEqual({ X: 1, Y: "b" });
  });

  it("two black boxes of one name with different ports are an error", () => {
    const m = new Module("clashing_boxes");
    const a = m.input(1);
    const first = m.blackbox({ module: "ZB", inputs: { I: 1 }, outputs: { O: 1 } });
    const second = m.blackbox({ module: "ZB", inputs: { I: 2 }, outputs: { O: 1 } });
    m.comb(first.ports.I, a);
    m.comb(second.ports.I, 0);
    expect(() => emitDesign(m)).toThrow(/two black boxes named ZB have different ports/);
  });

  it("every input of a black box must be driven: an input left floating is an error", () => {
    const m = new Module("floating_box");
    const y = m.output(1);
    const bb = m.blackbox({ module: "ZB", inputs: { I: 1 }, outputs: { O: 1 } });
    m.comb(y, bb.ports.O);
    expect(() => emitDesign(m)).toThrow(/"bb_I" is used .* but nothing drives it/);
  });
});

/** A counter on its own clock; `clk`/`rst` are whatever its parent connects. */
function counter(): Module {
  const m = new Module("domain_counter");
  const count = m.output(8);
  m.sync(count, count.addWrap(1));
  return m;
}

describe("children in a clock domain of their own", () => {
  it("connect the given clock and reset; a parent with no register of its own gets no clk/rst ports", () => {
    const m = new Module("domain_parent");
    const other_clock = m.input(1);
    const other_reset = m.input(1);
    const count = m.output(8);
    const child = m.instance(counter(), { clock: other_clock, reset: other_reset });
    m.comb(count, child.io.count);
    const text = emitDesign(m).files.find((f) => f.moduleName === "domain_parent")!.text;
    expect(text).toContain(".clk(other_clock),\n    .rst(other_reset),");
    expect(text).not.toMatch(/input {2}wire clk\b/);
    expect(emitDesign(m).design.warnings).toEqual([]);
  });

  it("a constant reset is written as a constant", () => {
    const m = new Module("domain_no_reset");
    const other_clock = m.input(1);
    const count = m.output(8);
    const child = m.instance(counter(), { clock: other_clock, reset: 0 });
    m.comb(count, child.io.count);
    expect(emitDesign(m).files.find((f) => f.moduleName === "domain_no_reset")!.text).toContain(".rst(1'b0),");
  });

  it.skipIf(!icarusAvailable())("run on their own clock: a child clocked at half the rate counts half as fast", () => {
    const m = new Module("half_rate");
    const run = m.input(1);
    const fast = m.output(8);
    const slow = m.output(8);
    const half = m.signal(1);
    m.If(run, () => m.sync(half, half.not()));
    const fastChild = m.instance(counter(), { name: "fast_counter" });
    const slowChild = m.instance(counter(), { name: "slow_counter", clock: half, reset: 0 });
    m.comb(fast, fastChild.io.count);
    m.comb(slow, slowChild.io.count);
    const out = runModule(m, { inputs: { run: [1] }, cycles: 12 });
    expect(out.fast.at(-1)! - out.fast[1]).toBe(10n);
    expect(out.slow.at(-1)! - out.slow[1]).toBe(5n);
  });

  it("refuse half a domain, a clock wider than a bit, and a clock for a child with no register", () => {
    const m = new Module("domain_errors");
    const c = m.input(1);
    const wide = m.input(2);
    expect(() => m.instance(counter(), { clock: c })).toThrow(/give both clock and reset/);
    expect(() => m.instance(counter(), { clock: wide, reset: 0 })).toThrow(/clock must be 1 bit, got 2 bits/);
    const comb = new Module("comb_child");
    const x = comb.input(1);
    const y = comb.output(1);
    comb.comb(y, x);
    const p = new Module("domain_comb_parent");
    const pc = p.input(1);
    const py = p.output(1);
    const inst = p.instance(comb, { clock: pc, reset: 0 });
    p.comb(inst.io.x, pc);
    p.comb(py, inst.io.y);
    expect(() => emitDesign(p)).toThrow(/is given a clock, but comb_child has no register/);
  });
});

describe("attributes", () => {
  it("are written before an internal signal's declaration and pass the three lint tools", { timeout: 60_000 }, async () => {
    const m = new Module("attributed_sync");
    const d = m.input(1);
    const q = m.output(1);
    const stages = m.signal(2, { attributes: { ASYNC_REG: "TRUE" }, resetless: true });
    m.sync(stages, cat(stages.bit(0), d));
    m.comb(q, stages.msb());
    const { files } = emitDesign(m);
    expect(files[0].text).toContain('(* ASYNC_REG = "TRUE" *) reg  [1:0] stages = 2\'d0;');
    const report = await lintFiles(files);
    expect(report.findings).toEqual([]);
  });

  it("are refused on ports, with names that are not identifiers, and with values that could end the attribute", () => {
    const m = new Module("bad_attributes");
    expect(() => m.output(1, { attributes: { KEEP: "TRUE" } })).toThrow(/attributes are for internal signals/);
    expect(() => m.signal(1, { attributes: { "A B": "1" } })).toThrow(/attribute name "A B" is not a Verilog identifier/);
    expect(() => m.signal(1, { attributes: { KEEP: 'x" *) (* Y = "' } })).toThrow(/may not hold quotes/);
    expect(() => m.signal(1, { attributes: { KEEP: "a *) b" } })).toThrow(/comment delimiters/);
  });
});
