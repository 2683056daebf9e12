// The lint runner checks each hierarchy once, from its roots: a warning in a module that only a
// parent instantiates must still be found, and a clean hierarchy must stay clean.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
import { rootModules } from "../../sim/engine/verilog-scan.ts";
import { hasTool } from "../../tools/external.ts";
import { lintFiles } from "../../tools/lint.ts";

function child(readsAll: boolean): Module {
  const m = new Module(`lint_child_${readsAll ? "clean" : "unread"}`);
  const word = m.input(8);
  const flag = m.output(1);
  m.comb(flag, readsAll ? word.any() : word.bit(0));
  return m;
}

function parent(readsAll: boolean): Module {
  const m = new Module(`lint_parent_${readsAll ? "clean" : "unread"}`);
  const word = m.input(8);
  const flag = m.output(1);
  const inner = m.instance(child(readsAll), { name: "inner" });
  m.comb(inner.io.word, word);
  m.comb(flag, inner.io.flag);
  return m;
}

describe("lintFiles", () => {
  it("takes the modules no other module instantiates as the roots", () => {
    const files = emitDesign(parent(true)).files.map((f) => ({ path: f.fileName, text: f.text }));
    expect(files.length).toBe(2);
    expect(rootModules(files)).toEqual(["lint_parent_clean"]);
  });

  it.skipIf(!hasTool("verilator") || !hasTool("iverilog"))("finds a warning in a submodule through its parent, and nothing in a clean hierarchy", async () => {
    expect((await lintFiles(emitDesign(parent(true)).files)).findings).toEqual([]);
    const report = await lintFiles(emitDesign(parent(false)).files);
    const verilator = report.findings.filter((f) => f.tool === "verilator");
    expect(verilator.length).toBe(1);
    expect(verilator[0].module).toBe("lint_parent_unread");
    expect(verilator[0].message).toMatch(/lint_child_unread\.v.*word/s);
  });
});
