// Resource estimates from Yosys's generic Xilinx 7-series flow (`synth_xilinx -family xc7`):
// LUTs, flip-flops, block RAM and the longest LUT path. Vivado's numbers will differ somewhat;
// these are for comparing designs and catching a memory that did not map to block RAM.
import { createHash } from "node:crypto";
import { yosys } from "./yosys.ts";
import { type VerilogFile, hierarchyOf } from "./lint.ts";

export interface SynthReport {
  top: string;
  /** Cell counts by type (LUT1..LUT6, FDRE, RAMB18E1, CARRY4, ...). */
  cells: Record<string, number>;
  luts: number;
  flipFlops: number;
  /** Block RAM in RAMB36 equivalents (a RAMB18 counts as half). */
  blockRam36: number;
  /** DSP48E1 slices. */
  dsp: number;
  /** Logic levels on the longest path between registers/ports: LUT, MUXF7/8 and CARRY4 cells count one each (as Vivado counts them). */
  logicLevels: number;
  /** That path, from its start to its end: each logic cell's type and the net it drives. */
  longestPath: { cell: string; drives: string }[];
  /** Where that path starts (the registers or ports feeding its first cell) and ends (the registers or ports it feeds): net names, a few. */
  longestPathFrom: string[];
  longestPathTo: string[];
  /** LUT-as-memory cells: distributed RAM (RAM32M, RAM64M, RAM32X1D, ...) and shift registers (SRL16E, SRLC32E); cells, not LUTs, and not counted in `luts`. */
  lutRam: number;
  /** Instances of black boxes (modules given as `(* blackbox *)` stubs, e.g. the pcie_7x hard IP), by module: kept, never counted in the figures above. */
  blackBoxes: Record<string, number>;
  /** With `{ tree: true }`: the figures per instance, from a second, hierarchical synthesis. */
  tree?: SynthTreeNode;
}

/** The resource figures of a set of cells (one module's own, or an instance's subtree). */
export interface ResourceFigures {
  luts: number;
  flipFlops: number;
  /** In RAMB36 equivalents (a RAMB18 counts as half). */
  blockRam36: number;
  dsp: number;
  /** LUT-as-memory cells (distributed RAM, SRL), as in SynthReport. */
  lutRam: number;
}

/**
 * One instance in the hierarchical synthesis (`synth_xilinx` without -flatten: every module is
 * optimised on its own, without its parent's constants or knowing which outputs are unused, so the
 * totals come out above the flattened figures; on the core about 15 % more LUTs and 20 % more FFs).
 */
export interface SynthTreeNode {
  /** The instance's name in its parent; the top's own name for the top. */
  instance: string;
  module: string;
  /** A `(* blackbox *)` stub (e.g. the pcie_7x hard IP): listed, not descended into, figures 0. */
  blackBox: boolean;
  /** The module's own cells, without its submodules. */
  own: ResourceFigures;
  /** Own cells plus every child's subtree. */
  subtree: ResourceFigures;
  /** Longest logic path within the module's own cells: registers, ports and submodule instance ports end a path. */
  logicLevels: number;
  /** Sorted by subtree LUTs (most first), then by instance name. */
  children: SynthTreeNode[];
}

export interface SynthOptions {
  /** Also synthesise without -flatten and report the figures per instance (SynthReport.tree). */
  tree?: boolean;
}

export async function synthesize(allFiles: readonly VerilogFile[], top: string, options: SynthOptions = {}): Promise<SynthReport> {
  const files = hierarchyOf(allFiles, top);
  const sources = Object.fromEntries(files.map((f) => [f.fileName, f.text]));
  const run = await yosys(
    `read_verilog ${files.map((f) => f.fileName).join(" ")}; synth_xilinx -family xc7 -top ${top} -flatten -noiopad; ` +
      "tee -q -o stat.txt stat; write_json netlist.json",
    sources,
  );
  const stubs = blackBoxModules(files);
  const cells = parseCellCounts(run.files["stat.txt"] ?? "", stubs);
  return {
    top,
    cells,
    ...figuresOfCells(cells),
    ...longestLogicPath(JSON.parse(run.files["netlist.json"] ?? "{}"), top),
    blackBoxes: Object.fromEntries(stubs.filter((name) => cells[name] !== undefined).map((name) => [name, cells[name]])),
    ...(options.tree ? { tree: await synthesizeTree(files, top) } : {}),
  };
}

function blackBoxModules(files: readonly VerilogFile[]): string[] {
  return files.filter((f) => /^\(\* blackbox \*\)$/m.test(f.text)).map((f) => f.moduleName);
}

const LUT_RAM_CELL = /^(RAM\d+(M\d*|X\d+[SD])|SRL16E?|SRLC16E?|SRLC32E)$/;

function figuresOfCells(cells: Record<string, number>): ResourceFigures {
  const sum = (pattern: RegExp) => Object.entries(cells).filter(([type]) => pattern.test(type)).reduce((s, [, n]) => s + n, 0);
  return {
    luts: sum(/^LUT\d$/),
    flipFlops: sum(/^FD/),
    blockRam36: sum(/^RAMB36/) + sum(/^RAMB18/) / 2,
    dsp: sum(/^DSP/),
    lutRam: sum(LUT_RAM_CELL),
  };
}

function addFigures(a: ResourceFigures, b: ResourceFigures): ResourceFigures {
  return { luts: a.luts + b.luts, flipFlops: a.flipFlops + b.flipFlops, blockRam36: a.blockRam36 + b.blockRam36, dsp: a.dsp + b.dsp, lutRam: a.lutRam + b.lutRam };
}

const NO_FIGURES: ResourceFigures = { luts: 0, flipFlops: 0, blockRam36: 0, dsp: 0, lutRam: 0 };

/**
 * The same flow as `synthesize` without -flatten, on the same files in the same order: `stat`
 * gives each module's own cells, the netlist its instances (cells whose type is a module of the
 * design) and, per module, the longest logic path with submodule ports ending it as registers do.
 */
async function synthesizeTree(files: readonly VerilogFile[], top: string): Promise<SynthTreeNode> {
  const run = await yosys(
    `read_verilog ${files.map((f) => f.fileName).join(" ")}; synth_xilinx -family xc7 -top ${top} -noiopad; ` + "tee -q -o stat.txt stat; write_json netlist.json",
    Object.fromEntries(files.map((f) => [f.fileName, f.text])),
  );
  const stubs = new Set(blackBoxModules(files));
  const designModules = new Set(files.map((f) => f.moduleName));
  const { modules: ownCells, total } = parseHierarchicalStat(run.files["stat.txt"] ?? "");
  const netlist = JSON.parse(run.files["netlist.json"] ?? "{}") as { modules?: Record<string, NetlistModule> };
  const levelsOf = new Map<string, number>();
  const primitiveTotals: Record<string, number> = {};
  const build = (instance: string, module: string): SynthTreeNode => {
    if (stubs.has(module)) return { instance, module, blackBox: true, own: NO_FIGURES, subtree: NO_FIGURES, logicLevels: 0, children: [] };
    const cells = ownCells.get(module);
    const netlistModule = netlist.modules?.[module];
    if (!cells || !netlistModule) throw new Error(`synthesize: the hierarchical synthesis of ${top} has no module ${module} in its ${cells ? "netlist" : "stat report"}`);
    for (const [type, count] of Object.entries(cells)) primitiveTotals[type] = (primitiveTotals[type] ?? 0) + count;
    if (!levelsOf.has(module)) levelsOf.set(module, longestLogicPath(netlist, module).logicLevels);
    const children = Object.entries(netlistModule.cells)
      .filter(([, cell]) => designModules.has(cell.type))
      .map(([name, cell]) => build(name, cell.type))
      .sort((a, b) => b.subtree.luts - a.subtree.luts || a.instance.localeCompare(b.instance));
    const own = figuresOfCells(cells);
    return { instance, module, blackBox: false, own, subtree: children.reduce((sum, child) => addFigures(sum, child.subtree), own), logicLevels: levelsOf.get(module)!, children };
  };
  const root = build(top, top);
  // The instances' own cells must add up to Yosys's own total of the hierarchy: a check that the
  // per-module sections were read whole.
  if (total) {
    const mismatched = [...new Set([...Object.keys(total), ...Object.keys(primitiveTotals)])].filter((type) => (total[type] ?? 0) !== (primitiveTotals[type] ?? 0));
    if (mismatched.length > 0) {
      throw new Error(`synthesize: per-instance cells of ${top} do not add up to Yosys's design total for ${mismatched.map((t) => `${t} (${primitiveTotals[t] ?? 0} vs ${total[t] ?? 0})`).join(", ")}`);
    }
  }
  return root;
}

/**
 * `stat` of a hierarchical design: a section per module (`=== name ===`, its own cells, submodule
 * instances among them) and a `=== design hierarchy ===` section (the instance tree, then the
 * totals over every instance). Returns the primitive cells per module and the totals' primitive
 * cells (undefined when Yosys printed no hierarchy section).
 */
function parseHierarchicalStat(stat: string): { modules: Map<string, Record<string, number>>; total?: Record<string, number> } {
  const modules = new Map<string, Record<string, number>>();
  let total: Record<string, number> | undefined;
  const sections = stat.split(/^=== (.+) ===[ \t]*$/m);
  for (let i = 1; i + 1 < sections.length; i += 2) {
    const name = sections[i].trim();
    const body = sections[i + 1];
    if (name === "design hierarchy") {
      // The instance tree comes first, up to the first blank line after it; the totals follow.
      const totals = body.replace(/^\s*\n/, "").split(/\n[ \t]*\n/).slice(1).join("\n");
      total = parseCellCounts(totals);
    } else modules.set(name.replace(/^\\/, ""), parseCellCounts(body));
  }
  return { modules, total };
}

/**
 * The hierarchical figures of `report` (synthesised with `{ tree: true }`) as text: both totals,
 * then one line per instance, indented under its parent.
 */
export function formatSynthTree(report: SynthReport): string[] {
  const tree = report.tree;
  if (!tree) throw new Error(`formatSynthTree: the report of ${report.top} was made without { tree: true }`);
  const figures = (f: ResourceFigures) => `${f.luts} LUTs, ${f.flipFlops} FFs, ${f.blockRam36} BRAM36, ${f.dsp} DSP, ${f.lutRam} LUT RAM cells`;
  const lines = [
    `${report.top}: per instance, from a hierarchical synthesis (synth_xilinx without -flatten). Nothing is optimised across module`,
    "boundaries there (no constants or unused outputs propagated), so its totals differ from the flattened figures, which are the",
    "ones budgeted and quoted; use it to compare instances with each other:",
    `  flattened:    ${figures(report)}, ${report.logicLevels} logic levels`,
    `  hierarchical: ${figures(tree.subtree)}`,
    "subtree: LUTs, FFs, BRAM36, DSP, LUT RAM cells of the instance and everything below it; own: the module's own cells;",
    "levels: longest logic path within the module (registers, ports and submodule ports end a path; without its parent's",
    "constants a module can show a level more than the flattened design has)",
    "",
  ];
  const header = `${"LUTs".padStart(6)} ${"FFs".padStart(6)} ${"BRAM36".padStart(6)} ${"DSP".padStart(4)} ${"LUTRAM".padStart(6)} ${"own LUTs".padStart(8)} ${"own FFs".padStart(7)} ${"levels".padStart(6)}`;
  lines.push(`${header}  instance  module`);
  const visit = (node: SynthTreeNode, depth: number): void => {
    const indent = "  ".repeat(depth);
    const name = depth === 0 ? `${node.module} (top)` : `${node.instance}  ${node.module}`;
    if (node.blackBox) lines.push(`${"".padStart(header.length)}  ${indent}${name} (black box)`);
    else {
      const { subtree: s, own: o } = node;
      lines.push(
        `${String(s.luts).padStart(6)} ${String(s.flipFlops).padStart(6)} ${String(s.blockRam36).padStart(6)} ${String(s.dsp).padStart(4)} ${String(s.lutRam).padStart(6)} ` +
          `${String(o.luts).padStart(8)} ${String(o.flipFlops).padStart(7)} ${String(node.logicLevels).padStart(6)}  ${indent}${name}`,
      );
    }
    for (const child of node.children) visit(child, depth + 1);
  };
  visit(tree, 0);
  return lines;
}

function parseCellCounts(stat: string, blackBoxes: readonly string[] = []): Record<string, number> {
  const cells: Record<string, number> = {};
  for (const line of stat.split("\n")) {
    const match = /^\s+(\d+)\s+\S*\s*\$?([A-Za-z_][\w$]*)\s*$/.exec(line) ?? /^\s+([A-Za-z_][\w$]*)\s+(\d+)\s*$/.exec(line);
    if (!match) continue;
    const [count, type] = /^\d+$/.test(match[1]) ? [Number(match[1]), match[2]] : [Number(match[2]), match[1]];
    if (/^(LUT|FD|RAM|CARRY|MUXF|SRL|DSP|BUFG|IBUF|OBUF|INV|VCC|GND)/.test(type) || blackBoxes.includes(type)) cells[type] = (cells[type] ?? 0) + count;
  }
  return cells;
}

/**
 * A digest of the Verilog `synthesize` reads for `top` (its hierarchy, stubs included): a report
 * that records it says which design its figures are of.
 */
export function hierarchyHash(files: readonly VerilogFile[], top: string): string {
  const hash = createHash("sha256");
  for (const file of hierarchyOf(files, top)) hash.update(`${file.fileName}\0${file.text}\0`);
  return hash.digest("hex").slice(0, 16);
}

interface NetlistCell {
  type: string;
  port_directions: Record<string, "input" | "output" | "inout">;
  connections: Record<string, (number | string)[]>;
}

const LOGIC_CELL = /^(LUT\d|MUXF[78]|CARRY4)$/;

interface NetlistModule {
  cells: Record<string, NetlistCell>;
  netnames?: Record<string, { bits: (number | string)[]; hide_name?: number }>;
}

/** Longest chain of logic cells in the flattened netlist (a DAG once registers cut the loops), and its cells. */
function longestLogicPath(netlist: { modules?: Record<string, NetlistModule> }, top: string): Pick<SynthReport, "logicLevels" | "longestPath" | "longestPathFrom" | "longestPathTo"> {
  const module = netlist.modules?.[top];
  const allCells = Object.values(module?.cells ?? {});
  const cells = allCells.filter((c) => LOGIC_CELL.test(c.type));
  const driverOf = new Map<number | string, number>();
  cells.forEach((cell, index) => {
    for (const [port, bits] of Object.entries(cell.connections)) {
      if (cell.port_directions[port] === "output") for (const bit of bits) driverOf.set(bit, index);
    }
  });
  const depth = new Map<number, number>();
  const deepestInput = new Map<number, number>();
  const visiting = new Set<number>();
  const levelOf = (index: number): number => {
    const known = depth.get(index);
    if (known !== undefined) return known;
    if (visiting.has(index)) return 0;
    visiting.add(index);
    let deepest = 0;
    const cell = cells[index];
    for (const [port, bits] of Object.entries(cell.connections)) {
      if (cell.port_directions[port] !== "input") continue;
      for (const bit of bits) {
        const driver = driverOf.get(bit);
        if (driver === undefined || driver === index) continue;
        const level = levelOf(driver);
        if (level > deepest) {
          deepest = level;
          deepestInput.set(index, driver);
        }
      }
    }
    visiting.delete(index);
    depth.set(index, deepest + 1);
    return deepest + 1;
  };
  let end = -1;
  let longest = 0;
  for (let i = 0; i < cells.length; i++) {
    const level = levelOf(i);
    if (level > longest) [longest, end] = [level, i];
  }
  const nameOfBit = new Map<number | string, string>();
  for (const [name, net] of Object.entries(module?.netnames ?? {})) {
    net.bits.forEach((bit, i) => {
      if (!nameOfBit.has(bit) || !net.hide_name) nameOfBit.set(bit, net.bits.length > 1 ? `${name}[${i}]` : name);
    });
  }
  const path: { cell: string; drives: string }[] = [];
  for (let i: number | undefined = end; i !== undefined && i >= 0; i = deepestInput.get(i)) {
    const cell = cells[i];
    const output = Object.entries(cell.connections).find(([port]) => cell.port_directions[port] === "output");
    path.unshift({ cell: cell.type, drives: output ? (nameOfBit.get(output[1][0]) ?? String(output[1][0])) : "?" });
  }
  const few = (names: Iterable<string>) => [...new Set(names)].slice(0, 4);
  const bitsOf = (cell: NetlistCell, direction: "input" | "output") =>
    Object.entries(cell.connections).filter(([port]) => cell.port_directions[port] === direction).flatMap(([, bits]) => bits);
  let first = end;
  while (first >= 0 && deepestInput.has(first)) first = deepestInput.get(first)!;
  const from = first < 0 ? [] : bitsOf(cells[first], "input").filter((b) => typeof b === "number" && !driverOf.has(b)).map((b) => nameOfBit.get(b) ?? String(b));
  const endBits = new Set(end < 0 ? [] : bitsOf(cells[end], "output"));
  const to = allCells
    .filter((c) => !LOGIC_CELL.test(c.type) && bitsOf(c, "input").some((b) => endBits.has(b)))
    .flatMap((c) => bitsOf(c, "output").map((b) => nameOfBit.get(b) ?? c.type));
  return { logicLevels: longest, longestPath: path, longestPathFrom: few(from), longestPathTo: few(to) };
}
