// A builder called twice with the same parameters makes two module objects of one name (a FIFO in
// the receive parser and another in the completer, say): the design holds both, checks both, and
// emits the module once; two modules that share a name but differ are still an error.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";

function register(width: number, name = `reg_w${width}`, invert = false): Module {
  const m = new Module(name);
  const d = m.input(width);
  const q = m.output(width);
  m.sync(q, invert ? d.not() : d);
  return m;
}

function parentOf(first: Module, second: Module): Module {
  const m = new Module("two_children");
  const d = m.input(first.ports[0].width);
  const q = m.output(first.ports[0].width);
  const a = m.instance(first);
  const b = m.instance(second);
  m.comb(a.io.d, d);
  m.comb(b.io.d, a.io.q);
  m.comb(q, b.io.q);
  return m;
}

describe("modules built twice", () => {
  it("emits a module built twice with the same parameters once, and clocks both instances", () => {
    const { files, design } = emitDesign(parentOf(register(8), register(8)));
    expect(files.map((f) => f.fileName)).toEqual(["reg_w8.v", "two_children.v"]);
    expect(design.twins.size).toBe(1);
    const parent = files[1].text;
    expect(parent.match(/reg_w8 \w+ \(/g)).toHaveLength(2);
    expect(parent.match(/\.clk\(clk\)/g)).toHaveLength(2);
  });

  it("still refuses two different modules of one name, pointing at both", () => {
    expect(() => emitDesign(parentOf(register(8, "reg"), register(8, "reg", true)))).toThrow(/two different modules are both named "reg".*hdl\/twin-modules\.test\.ts/);
  });
});
