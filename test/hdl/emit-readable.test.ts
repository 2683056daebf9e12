// The emitted Verilog reads like hand-written RTL: a header saying what the module is for and what
// it was built with, ports grouped by bundle, protocol constants as named localparams, snake_case
// names, and registers that share a reset in one always block.
import { describe, expect, it } from "vitest";
import { C, HdlError, Module, axiStream, constant, emitDesign, isSnakeCase, toSnakeCase } from "../../hdl/index.ts";
import { lintFiles } from "../../tools/lint.ts";

const CODE_CPLD = constant("CODE_CPLD", 0x4a, 8);
const STATUS_UR = constant("STATUS_UR", 1, 3);

describe("readable emitted Verilog", () => {
  it("opens with the builder's doc comment and the parameters it was built with", () => {
    const text = emitDesign(simpleDocumented()).files[0].text;
    const header = text.slice(0, text.indexOf("`default_nettype none"));
    expect(header).toContain("// A documented counter: counts up while `enable` is high,\n// and wraps.\n");
    expect(header).toMatch(/\/\/ Built with:\n\/\/   width  8\n\/\/   label  0x00ff\n\/\/   fast   true\n/);
  });

  it("takes an explicit description over the doc comment", () => {
    const m = simpleDocumented();
    m.describe("Explicitly described.");
    expect(emitDesign(m).files[0].text).toContain("// Explicitly described.\n");
  });

  it("puts clock and reset first, then ungrouped ports, then each bundle under its name", () => {
    const m = new Module("grouped_ports");
    const def = axiStream({ dataWidth: 8, keep: false, last: false });
    const in_axis = m.port(def, "slave");
    const flag = m.input(1);
    const out_axis = m.port(def, "master");
    const total = m.output(8);
    m.connect(in_axis, out_axis);
    m.sync(total, total.addWrap(flag.zext(8)));
    const text = emitDesign(m).files[0].text;
    const ports = text.slice(text.indexOf("module grouped_ports ("), text.indexOf(");"));
    expect(ports.split("\n").map((l) => l.trim())).toEqual([
      "module grouped_ports (",
      "input  wire clk,",
      "input  wire rst,",
      "input  wire flag,",
      "output reg  [7:0] total = 8'd0,",
      "// in_axis_*: axis8, slave",
      "input  wire [7:0] in_axis_tdata,",
      "input  wire in_axis_tvalid,",
      "output wire in_axis_tready,",
      "// out_axis_*: axis8, master",
      "output wire [7:0] out_axis_tdata,",
      "output wire out_axis_tvalid,",
      "input  wire out_axis_tready",
      "",
    ]);
  });

  it("declares a named constant once as a localparam and uses its name; masks print in hex", () => {
    const text = emitDesign(namedConstants()).files[0].text;
    expect(text.match(/localparam/g)).toHaveLength(2);
    expect(text).toContain("localparam [2:0] STATUS_UR = 3'd1;");
    expect(text).toMatch(/localparam \[7:0\] CODE_CPLD = 8'h4a; \/\/ test\/hdl\/emit-readable\.test\.ts:\d+\n/);
    expect(text).toContain("assign is_cpld = (code == CODE_CPLD) | (code == CODE_CPLD);");
    expect(text).toContain("assign status = STATUS_UR;");
    expect(text).toContain("assign low_byte = word & 16'h00ff;");
    expect(text).toContain("(word < 16'h03e8) & (word > 16'd3)");
  });

  it("rejects a constant name that is not UPPER_SNAKE_CASE, and two different constants of one name", () => {
    expect(() => constant("CodeCpld", 1, 8)).toThrow(/emit-readable\.test\.ts:\d+: constant name "CodeCpld" is not UPPER_SNAKE_CASE/);
    const m = new Module("clashing_constants");
    const a = m.input(8);
    const y = m.output(1);
    m.comb(y, a.eq(constant("CLASH", 1, 8)).or(a.eq(constant("CLASH", 2, 8))));
    expect(() => emitDesign(m)).toThrow(/two different constants named "CLASH"/);
  });

  it("converts TypeScript camelCase names to snake_case", () => {
    expect(["addressDw", "rxNpOk", "dw0Data", "HTTPServer", "MAX_LEN", "s_axis"].map(toSnakeCase)).toEqual(["address_dw", "rx_np_ok", "dw0_data", "http_server", "max_len", "s_axis"]);
    expect(isSnakeCase("rx_np_ok")).toBe(true);
    expect(isSnakeCase("rxNpOk")).toBe(false);
    const m = new Module("camel_names");
    const dataIn = m.input(8);
    const sumOut = m.output(9);
    const { carryFlag } = { carryFlag: m.signal(1) };
    const partialSum = dataIn.add(dataIn);
    m.sync(carryFlag, partialSum.msb());
    m.comb(sumOut, partialSum.and(carryFlag.repeat(9)));
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("input  wire [7:0] data_in,");
    expect(text).toContain("output wire [8:0] sum_out");
    expect(text).toContain("reg  carry_flag = 1'b0;");
    expect(text).toContain("wire [8:0] partial_sum = ");
    expect(text).not.toMatch(/dataIn|sumOut|carryFlag|partialSum/);
  });

  it("rejects an explicit name that is not snake_case, naming the line", () => {
    const m = new Module("bad_name");
    const x = m.input(1, { name: "dataValid" });
    const y = m.output(1);
    m.comb(y, x);
    let error: unknown;
    try {
      emitDesign(m);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HdlError);
    expect(String((error as Error).message)).toMatch(/^test\/hdl\/emit-readable\.test\.ts:\d+: port name "dataValid" is not snake_case .*write "data_valid"/);
  });

  it("puts registers with a reset in one always block, resetless ones in another, each group with its trail", async () => {
    const m = new Module("merged_registers");
    const a = m.input(8);
    const go = m.input(1);
    const first = m.output(8);
    const second = m.output(8);
    const third = m.output(8);
    const data = m.output(8);
    const data_reg = m.signal(8, { resetless: true });
    m.If(go, () => m.sync(first, a));
    m.sync(second, first);
    m.sync(third, second.addWrap(1));
    m.sync(data_reg, a.xor(first));
    m.comb(data, data_reg);
    const { files } = emitDesign(m);
    const text = files[0].text;
    expect(text.match(/always @\(posedge clk\)/g)).toHaveLength(2);
    expect(text.match(/if \(rst\)/g)).toHaveLength(1);
    expect(text).toMatch(
      /\/\/ registers with a reset value: 3 statement groups\n  always @\(posedge clk\) begin\n    if \(rst\) begin\n      first <= 8'd0;\n      second <= 8'd0;\n      third <= 8'd0;\n    end else begin\n      \/\/ test\/hdl\/emit-readable\.test\.ts:\d+\n      if \(go\) begin\n        first <= a;\n      end\n      \/\/ test\/hdl\/emit-readable\.test\.ts:\d+\n      second <= first;\n      \/\/ test\/hdl\/emit-readable\.test\.ts:\d+\n      third <= second \+ 8'd1;\n    end\n  end\n/,
    );
    const report = await lintFiles(files);
    expect(report.findings).toEqual([]);
  });

  it("stays lint-clean with a header, localparams and hex masks", async () => {
    const report = await lintFiles([...emitDesign(simpleDocumented()).files, ...emitDesign(namedConstants()).files]);
    expect(report.findings).toEqual([]);
  });
});

/**
 * A documented counter: counts up while `enable` is high,
 * and wraps.
 */
function simpleDocumented(): Module {
  const m = new Module("documented_counter");
  m.parameters({ width: 8, label: "0x00ff", fast: true });
  const enable = m.input(1);
  const count = m.output(8);
  m.If(enable, () => m.sync(count, count.addWrap(1)));
  return m;
}

function namedConstants(): Module {
  const m = new Module("named_constants");
  const code = m.input(8);
  const word = m.input(16);
  const is_cpld = m.output(1);
  const low_byte = m.output(16);
  const in_range = m.output(1);
  const status = m.output(3);
  // The same named constant twice in one expression: one localparam.
  m.comb(is_cpld, code.eq(CODE_CPLD).or(code.eq(CODE_CPLD)));
  m.comb(low_byte, word.and(0x00ff));
  m.comb(in_range, word.lt(C(1000, 16)).and(word.gt(C(3, 16))));
  m.comb(status, STATUS_UR);
  return m;
}
