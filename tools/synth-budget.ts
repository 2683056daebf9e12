// The resource budgets of the designs that matter (tools/synth-budget.json) and the committed
// report of their last synthesis (docs/synth-report.json). `nvme-host synth --budget` synthesises
// every budgeted top and fails when one is over; `--write-report` records the figures with a digest
// of the Verilog they came from, so that a fast test can hold CI to the budgets without minutes of
// synthesis, and notices a report made from other Verilog than generated/ holds.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../hdl/location.ts";
import type { SynthReport } from "./synth.ts";

/** The figures a budget limits (and a report records). */
export const BUDGET_FIGURES = ["luts", "flipFlops", "blockRam36", "dsp", "logicLevels"] as const;
export type BudgetFigure = (typeof BUDGET_FIGURES)[number];
export type SynthFigures = Record<BudgetFigure, number>;

export const BUDGET_PATH = join(projectRoot, "tools", "synth-budget.json");
export const REPORT_PATH = join(projectRoot, "docs", "synth-report.json");

export interface ReportEntry extends SynthFigures {
  /** Instances of black boxes kept (the pcie_7x hard block, primitives), by module. */
  blackBoxes: Record<string, number>;
  /** hierarchyHash of the Verilog synthesised. */
  sourceHash: string;
}

export interface SynthReportFile {
  "//": string;
  tops: Record<string, ReportEntry>;
}

const FIGURE_NAMES: Record<BudgetFigure, string> = { luts: "LUTs", flipFlops: "flip-flops", blockRam36: "RAMB36", dsp: "DSP48", logicLevels: "logic levels" };

export function readBudgets(path = BUDGET_PATH): Record<string, SynthFigures> {
  const file = JSON.parse(readFileSync(path, "utf8")) as { budgets?: Record<string, Partial<SynthFigures>> };
  if (!file.budgets || typeof file.budgets !== "object") throw new Error(`${path}: no "budgets" object`);
  const budgets: Record<string, SynthFigures> = {};
  for (const [top, budget] of Object.entries(file.budgets)) {
    for (const figure of BUDGET_FIGURES) {
      const value = budget[figure];
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) throw new Error(`${path}: budget of ${top} has ${figure} = ${String(value)}, must be a number >= 0`);
    }
    budgets[top] = budget as SynthFigures;
  }
  return budgets;
}

/** One sentence per figure over its budget. */
export function overBudget(top: string, figures: SynthFigures, budget: SynthFigures): string[] {
  return BUDGET_FIGURES.filter((f) => figures[f] > budget[f]).map((f) => `${top}: ${figures[f]} ${FIGURE_NAMES[f]}, over the budget of ${budget[f]}`);
}

export function figuresOf(report: SynthReport): SynthFigures {
  return { luts: report.luts, flipFlops: report.flipFlops, blockRam36: report.blockRam36, dsp: report.dsp, logicLevels: report.logicLevels };
}

export function readReport(path = REPORT_PATH): SynthReportFile {
  return JSON.parse(readFileSync(path, "utf8")) as SynthReportFile;
}

export function writeReport(entries: Record<string, ReportEntry>, path = REPORT_PATH): void {
  const file: SynthReportFile = {
    "//": "Written by `npx nvme-host synth --budget --write-report` (Yosys synth_xilinx -family xc7, black boxes kept); checked against tools/synth-budget.json by test/tools/synth-budget.test.ts.",
    tops: entries,
  };
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
}
