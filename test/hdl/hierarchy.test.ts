// Hierarchy: submodule instances (kept as Verilog instances), black boxes with parameters, and
// bundles connected in one call with their directions checked.
import { describe, expect, it } from "vitest";
import { Module, axiStream, defineBundle, emitDesign } from "../../hdl/index.ts";
import { runTestbench } from "../../tools/icarus.ts";
import { icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";

function adder(): Module {
  const m = new Module("adder8");
  const a = m.input(8);
  const b = m.input(8);
  const sum = m.output(9);
  m.sync(sum, a.add(b));
  return m;
}

describe("instances", () => {
  it.skipIf(!icarusAvailable())("instantiate a child twice; its ports appear as <instance>_<port> signals", () => {
    const top = new Module("two_adders");
    const x = top.input(8);
    const y = top.output(10);
    const child = adder();
    const first = top.instance(child);
    const second = top.instance(child);
    top.comb(first.io.a, x);
    top.comb(first.io.b, x);
    top.comb(second.io.a, x);
    top.comb(second.io.b, 3);
    top.comb(y, first.io.sum.add(second.io.sum));
    const { files } = emitDesign(top);
    expect(files.map((f) => f.moduleName)).toEqual(["adder8", "two_adders"]);
    const text = files[1].text;
    expect(text).toContain("adder8 first (");
    expect(text).toContain(".sum(first_sum)");
    expect(text).toContain("adder8 second (");
    const out = runModule(top, { inputs: { x: [10, 20, 30] }, cycles: 4 });
    expect(out.y.slice(1)).toEqual([33n, 63n, 93n]);
  });

  it("a black box is instantiated with its parameters and no module file", () => {
    const top = new Module("uses_bufg");
    const clock_in = top.input(1);
    const clock_out = top.output(1);
    const buffer = top.blackbox({ module: "BUFGCE", parameters: { SIM_DEVICE: "7SERIES", INIT: { value: 5, width: 4 }, DEPTH: 2 }, inputs: { I: 1, CE: 1 }, outputs: { O: 1 } });
    top.comb(buffer.io.I, clock_in);
    top.comb(buffer.io.CE, 1);
    top.comb(clock_out, buffer.io.O);
    const { files } = emitDesign(top);
    expect(files).toHaveLength(1);
    expect(files[0].text).toContain('BUFGCE #(\n    .SIM_DEVICE("7SERIES"),\n    .INIT(4\'h5),\n    .DEPTH(2)\n  ) buffer (');
    expect(files[0].text).not.toContain("clk");
  });
});

describe("black boxes in simulation", () => {
  it.skipIf(!icarusAvailable())("connect to a Verilog module given with its parameters", () => {
    const top = new Module("uses_scaler");
    const x = top.input(8);
    const y = top.output(12);
    const scaler = top.blackbox({ module: "scaler", parameters: { FACTOR: 5 }, inputs: { din: 8 }, outputs: { dout: 12 } });
    top.comb(scaler.io.din, x);
    top.comb(y, scaler.io.dout);
    const verilogModel = "module scaler #(parameter FACTOR = 1) (input wire [7:0] din, output wire [11:0] dout);\n  assign dout = din * FACTOR;\nendmodule\n";
    const { files } = emitDesign(top);
    const result = runTestbench({
      files: [...files, { fileName: "scaler.v", moduleName: "scaler", text: verilogModel }],
      top: "uses_scaler",
      cycles: 3,
      inputs: [{ name: "x", width: 8 }],
      vectors: [[1n], [7n], [200n]],
      outputs: [{ name: "y", width: 12 }],
    });
    expect(result.samples.map((s) => s[0])).toEqual([5n, 35n, 1000n]);
  });
});

describe("bundles", () => {
  const def = axiStream({ dataWidth: 16, userWidth: 2 });

  it.skipIf(!icarusAvailable())("connect passes forward fields downstream and ready upstream", () => {
    const m = new Module("axis_pass");
    const s_axis = m.port(def, "slave");
    const m_axis = m.port(def, "master");
    m.connect(s_axis, m_axis);
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("assign m_axis_tdata = s_axis_tdata;");
    expect(text).toContain("assign s_axis_tready = m_axis_tready;");
    const paths = emitDesign(m).design.combinationalPaths.get(m)!;
    expect(paths.get("m_axis_tdata")).toEqual(["s_axis_tdata"]);
    expect(paths.get("s_axis_tready")).toEqual(["m_axis_tready"]);
    const out = runModule(m, {
      inputs: { s_axis_tdata: [0xabcd], s_axis_tkeep: [3], s_axis_tlast: [1], s_axis_tuser: [2], s_axis_tvalid: [1], m_axis_tready: [0, 1] },
      cycles: 2,
      outputs: ["m_axis_tdata", "m_axis_tuser", "s_axis_tready"],
    });
    expect(out).toEqual({ m_axis_tdata: [0xabcdn, 0xabcdn], m_axis_tuser: [2n, 2n], s_axis_tready: [0n, 1n] });
  });

  it("connect rejects a consumer as the source, a producer as the sink, and different bundles", () => {
    const m = new Module("axis_wrong");
    const s_axis = m.port(def, "slave");
    const m_axis = m.port(def, "master");
    expect(() => m.connect(m_axis, s_axis)).toThrow(/first bundle .* consumes data/);
    const narrow = m.port(axiStream({ dataWidth: 8, userWidth: 2 }), "master");
    expect(() => m.connect(s_axis, narrow)).toThrow(/field "tdata" is forward 16-bit unsigned in axis16klu2 but forward 8-bit unsigned in axis8klu2/);
  });

  it("custom bundles name their ports <prefix>_<field>", () => {
    const request = defineBundle("request", { addr: ["forward", 12], valid: ["forward", 1], ready: ["backward", 1] });
    const m = new Module("custom_bundle");
    const cmd = m.port(request, "slave");
    const out = m.port(request, "master", { prefix: "fwd" });
    m.connect(cmd, out);
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("input  wire [11:0] cmd_addr");
    expect(text).toContain("output wire cmd_ready");
    expect(text).toContain("output wire [11:0] fwd_addr");
  });
});

describe("documented combinational paths", () => {
  it("head the emitted module, and a blank reason is refused", () => {
    const m = new Module("documented_passthrough");
    const a = m.input(1);
    const y = m.output(1);
    m.comb(y, a);
    m.documentCombinationalPaths("y follows a: the parent registers it");
    const { files, design } = emitDesign(m);
    expect(files[0].text).toContain("// Combinational paths from inputs to outputs, by design: y follows a: the parent registers it\n");
    expect(design.combinationalPaths.get(m)!.get("y")).toEqual(["a"]);
    expect(() => m.documentCombinationalPaths(" ")).toThrow(/one-line reason/);
  });
});
