// The three checks every emitted file must pass: Verilator's -Wall lint, Yosys's structural
// check, and Icarus Verilog in Verilog-2005 mode.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool, missingToolMessage, runTool } from "./external.ts";
import { hierarchySources, rootModules } from "../sim/engine/verilog-scan.ts";
import { yosys } from "./yosys.ts";

export interface LintFinding {
  tool: "verilator" | "yosys" | "iverilog";
  module: string;
  message: string;
}

export interface LintReport {
  findings: LintFinding[];
  /** Tools that could not run, with the command that installs them. */
  skipped: string[];
}

export interface VerilogFile {
  fileName: string;
  moduleName: string;
  text: string;
}

const LINT_TOOLS = [
  { command: "verilator", debianPackage: "verilator" },
  { command: "iverilog", debianPackage: "iverilog" },
] as const;

/** What `lintFiles` reports as skipped on this machine: one message per lint tool not installed. */
export function unavailableLintTools(): string[] {
  return LINT_TOOLS.filter((t) => !hasTool(t.command)).map((t) => missingToolMessage(t.command, t.debianPackage));
}

/**
 * Lints every module of `files`: each hierarchy once, from its root (a module that no other module
 * of `files` instantiates), since each tool checks every module below the top it is given. A
 * finding names the root it was found under; its message names the file and line. `library` files
 * (the stubs of black boxes) are available to every hierarchy but not linted as roots of their own.
 */
export async function lintFiles(files: readonly VerilogFile[], options: { library?: readonly VerilogFile[] } = {}): Promise<LintReport> {
  const findings: LintFinding[] = [];
  const skipped = unavailableLintTools();
  const library = options.library ?? [];
  const everyFile = [...files, ...library];
  const rootNames = new Set(rootModules(files.map((f) => ({ path: f.fileName, text: f.text }))));
  const roots = files.filter((f) => rootNames.has(f.moduleName));
  const dir = mkdtempSync(join(tmpdir(), "nvme-host-lint-"));
  try {
    for (const file of everyFile) writeFileSync(join(dir, file.fileName), file.text);
    if (hasTool("verilator")) {
      for (const file of roots) {
        const run = runTool("verilator", ["--lint-only", "-Wall", `-I${dir}`, "--top-module", file.moduleName, join(dir, file.fileName)]);
        if (run.status !== 0 || run.output.trim() !== "") findings.push({ tool: "verilator", module: file.moduleName, message: run.output.trim() });
      }
    }
    if (hasTool("iverilog")) {
      for (const file of roots) {
        const run = runTool("iverilog", ["-g2005", "-Wall", "-o", "/dev/null", `-s`, file.moduleName, ...everyFile.map((f) => join(dir, f.fileName))]);
        const output = run.output
          .split("\n")
          .filter((line) => line.trim() !== "" && !/timescale/.test(line))
          .join("\n");
        if (run.status !== 0 || output !== "") findings.push({ tool: "iverilog", module: file.moduleName, message: output });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const file of roots) {
    // Only the root's own hierarchy: reading every file took Yosys seconds per root, most of the lint.
    const hierarchy = hierarchyOf(everyFile, file.moduleName);
    const sources: Record<string, string> = Object.fromEntries(hierarchy.map((f) => [f.fileName, f.text]));
    try {
      const run = await yosys(
        `read_verilog ${hierarchy.map((f) => f.fileName).join(" ")}; hierarchy -check -top ${file.moduleName}; proc; check -assert`,
        sources,
      );
      const warnings = run.log.split("\n").filter((line) => /^Warning:/.test(line));
      if (warnings.length > 0) findings.push({ tool: "yosys", module: file.moduleName, message: warnings.join("\n") });
    } catch (error) {
      findings.push({ tool: "yosys", module: file.moduleName, message: (error as Error).message });
    }
  }
  return { findings, skipped };
}

/**
 * The files of `top` and the modules below it, in name order: ABC's mapping depends on what Yosys
 * read and in which order, so the same design must always be given the same way.
 */
export function hierarchyOf(files: readonly VerilogFile[], top: string): VerilogFile[] {
  const needed = new Set(hierarchySources(files.map((f) => ({ path: f.fileName, text: f.text })), top).map((s) => s.path));
  return files.filter((f) => needed.has(f.fileName)).sort((a, b) => a.fileName.localeCompare(b.fileName));
}
