// Resource estimates from Yosys's generic Xilinx 7-series flow (`synth_xilinx -family xc7`):
// LUTs, flip-flops, block RAM and the longest LUT path. Vivado's numbers will differ somewhat;
// these are for comparing designs and catching a memory that did not map to block RAM.
import { createHash } from "node:crypto";
import { yosys } from "./yosys.ts";
import type { VerilogFile } from "./lint.ts";

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
  /** Instances of black boxes (modules given as `(* blackbox *)` stubs, e.g. the pcie_7x hard IP), by module: kept, never counted in the figures above. */
  blackBoxes: Record<string, number>;
}

export async function synthesize(allFiles: readonly VerilogFile[], top: string): Promise<SynthReport> {
  const files = hierarchyOf(allFiles, top);
  const sources = Object.fromEntries(files.map((f) => [f.fileName, f.text]));
  const run = await yosys(
    `read_verilog ${files.map((f) => f.fileName).join(" ")}; synth_xilinx -family xc7 -top ${top} -flatten -noiopad; ` +
      "tee -q -o stat.txt stat; write_json netlist.json",
    sources,
  );
  const stubs = files.filter((f) => /^\(\* blackbox \*\)$/m.test(f.text)).map((f) => f.moduleName);
  const cells = parseCellCounts(run.files["stat.txt"] ?? "", stubs);
  const sum = (pattern: RegExp) => Object.entries(cells).filter(([type]) => pattern.test(type)).reduce((s, [, n]) => s + n, 0);
  return {
    top,
    cells,
    luts: sum(/^LUT\d$/),
    flipFlops: sum(/^FD/),
    blockRam36: sum(/^RAMB36/) + sum(/^RAMB18/) / 2,
    dsp: sum(/^DSP/),
    ...longestLogicPath(JSON.parse(run.files["netlist.json"] ?? "{}"), top),
    blackBoxes: Object.fromEntries(stubs.filter((name) => cells[name] !== undefined).map((name) => [name, cells[name]])),
  };
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

/**
 * The files of `top` and the modules below it, in name order: ABC's mapping depends on what Yosys
 * read and in which order, so the same design must always be given the same way.
 */
function hierarchyOf(files: readonly VerilogFile[], top: string): VerilogFile[] {
  const byModule = new Map(files.map((f) => [f.moduleName, f]));
  const needed = new Set<string>();
  const visit = (name: string): void => {
    const file = byModule.get(name);
    if (!file || needed.has(name)) return;
    needed.add(name);
    for (const match of file.text.matchAll(/^\s+([A-Za-z_]\w*)\s+(?:#\(|[A-Za-z_]\w*\s*\()/gm)) visit(match[1]);
  };
  visit(top);
  if (needed.size === 0) throw new Error(`synthesize: no file defines module ${top}`);
  return files.filter((f) => needed.has(f.moduleName)).sort((a, b) => a.fileName.localeCompare(b.fileName));
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
