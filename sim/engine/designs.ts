// Finds the designs in a folder of emitted Verilog: one module per file, every file
// passed to the simulator so that instances resolve.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type VerilogSource, readSources } from "./yosys.ts";

export interface DesignSet {
  sources: VerilogSource[];
  /** Module names, one per file, in file order. */
  tops: string[];
}

export function designsIn(folder: string): DesignSet {
  const files = readdirSync(folder).filter((f) => f.endsWith(".v")).sort().map((f) => join(folder, f));
  const sources = readSources(files);
  const tops = sources.map((s) => {
    const m = /^\s*module\s+([A-Za-z_][A-Za-z0-9_$]*)/m.exec(s.text);
    if (!m) throw new Error(`${s.path}: no module declaration found`);
    return m[1];
  });
  return { sources, tops };
}
