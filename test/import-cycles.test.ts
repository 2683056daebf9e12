// Imports never form a cycle, type-only ones included (DESIGN.md): the finder is checked on small
// graphs, then run on the whole tree.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findImportCycles, importGraph, importSpecifiers } from "../tools/import-cycles.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("the cycle finder", () => {
  it("finds each cycle once, as a chain of files", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts", "d.ts"]],
      ["c.ts", ["a.ts"]],
      ["d.ts", ["d.ts"]],
      ["e.ts", ["a.ts"]],
    ]);
    expect(findImportCycles(graph)).toEqual([
      ["a.ts", "b.ts", "c.ts", "a.ts"],
      ["d.ts", "d.ts"],
    ]);
  });

  it("finds nothing in a graph without cycles", () => {
    expect(findImportCycles(new Map([["a.ts", ["b.ts", "c.ts"]], ["b.ts", ["c.ts"]], ["c.ts", []]]))).toEqual([]);
  });

  it("reads every kind of import", () => {
    const text = [
      'import { a } from "./a.ts";',
      'import type { B } from "./b.ts";',
      'export { c } from "./c.ts";',
      'export type * from "./d.ts";',
      'const e = await import("./e.ts");',
      'let f: import("./f.ts").F;',
      'import "./g.ts";',
      'const dynamic = import(name);',
    ].join("\n");
    expect(importSpecifiers("x.ts", text)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts"]);
  });
});

describe("the project", () => {
  it("has no import cycle", () => {
    const graph = importGraph(root, ["hdl", "rtl-src", "sim", "tools", "test", "bin"]);
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("hdl/module.ts")).toContain("hdl/fsm.ts");
    const cycles = findImportCycles(graph).map((chain) => chain.join(" -> "));
    expect(cycles, `import cycles:\n${cycles.join("\n")}`).toEqual([]);
  });
});
