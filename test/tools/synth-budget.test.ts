// The synthesis budgets (tools/synth-budget.json) held by CI without minutes of synthesis: the
// committed report (docs/synth-report.json, written by `npx nvme-host synth --budget
// --write-report`) must cover every budgeted top, be made from the Verilog generated/ holds today
// (a digest of each top's hierarchy), and be within every budget. So a design that grows past its
// budget fails here once its report is refreshed, and a design changed without refreshing the
// report fails here too.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitAllDesigns } from "../../tools/generate.ts";
import { BUDGET_FIGURES, overBudget, readBudgets, readReport } from "../../tools/synth-budget.ts";
import { hierarchyHash } from "../../tools/synth.ts";

const REFRESH = "run `npx nvme-host synth --budget --write-report` and commit docs/synth-report.json";

describe("synthesis budgets", () => {
  const budgets = readBudgets();
  const report = readReport();
  const { files, stubs } = emitAllDesigns();
  const everyFile = [...files, ...stubs];

  it("budget the core, both board tops and the exerciser, all emitted by rtl-src/", () => {
    const tops = Object.keys(budgets);
    expect(tops.some((t) => t.startsWith("nvme_host_core_"))).toBe(true);
    expect(tops).toEqual(expect.arrayContaining(["board_top_kc705", "board_top_vc707"]));
    for (const top of tops) expect(files.some((f) => f.moduleName === top), top).toBe(true);
  });

  it("are met by the committed report, which is of today's Verilog", () => {
    for (const [top, budget] of Object.entries(budgets)) {
      const entry = report.tops[top];
      expect(entry, `docs/synth-report.json has no ${top}: ${REFRESH}`).toBeDefined();
      expect(entry.sourceHash, `the report of ${top} is of other Verilog than generated/ holds: ${REFRESH}`).toBe(hierarchyHash(everyFile, top));
      expect(overBudget(top, entry, budget)).toEqual([]);
    }
  });

  it("count the board tops with the hard block and the primitives kept as black boxes", () => {
    for (const top of ["board_top_kc705", "board_top_vc707"]) {
      expect(report.tops[top].blackBoxes).toMatchObject({ pcie_7x_0: 1, IBUFDS_GTE2: 1, IBUFDS: 1 });
    }
  });

  it("name every figure over its budget, and refuse a budget file with a figure missing", () => {
    const budget = { luts: 100, flipFlops: 100, blockRam36: 1, dsp: 0, logicLevels: 6 };
    expect(overBudget("x", { ...budget }, budget)).toEqual([]);
    expect(overBudget("x", { ...budget, luts: 101, logicLevels: 7 }, budget)).toEqual(["x: 101 LUTs, over the budget of 100", "x: 7 logic levels, over the budget of 6"]);
    expect(BUDGET_FIGURES).toEqual(["luts", "flipFlops", "blockRam36", "dsp", "logicLevels"]);
    const dir = mkdtempSync(join(tmpdir(), "nvme-host-budget-"));
    try {
      const path = join(dir, "budget.json");
      writeFileSync(path, JSON.stringify({ budgets: { x: { luts: 1, flipFlops: 1, blockRam36: 0, logicLevels: 3 } } }));
      expect(() => readBudgets(path)).toThrow(/budget of x has dsp = undefined/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
