// Facts read straight from emitted Verilog (one module per file, `reg` declarations,
// `module_name instance_name (` instances): the hierarchical names of a design's `reg`
// variables declared without an initial value (the Icarus testbench sets them to 0 at time 0,
// as the engines power them up; the DSL gives every register one), and the modules it
// instantiates without a definition (black boxes such as pcie_7x), and the sources of a hierarchy.
import type { VerilogSource } from "./yosys.ts";

interface ModuleInfo {
  regs: string[];
  instances: { module: string; name: string }[];
}

function modulesIn(sources: readonly VerilogSource[]): Map<string, ModuleInfo> {
  const modules = new Map<string, ModuleInfo>();
  for (const s of sources) {
    for (const m of s.text.matchAll(/^\s*module\s+(\w+)([\s\S]*?)^\s*endmodule/gm)) modules.set(m[1], scan(m[2]));
  }
  return modules;
}

/** Modules instantiated somewhere below `top` that no source defines. */
export function undefinedModules(sources: readonly VerilogSource[], top: string): string[] {
  const modules = modulesIn(sources);
  const missing = new Set<string>();
  const seen = new Set<string>();
  const visit = (module: string) => {
    if (seen.has(module)) return;
    seen.add(module);
    const info = modules.get(module);
    if (!info) {
      missing.add(module);
      return;
    }
    for (const i of info.instances) visit(i.module);
  };
  visit(top);
  return [...missing].filter((m) => m !== top).sort();
}

/**
 * The sources that define `top` and the modules below it, in the order given: what a simulator or
 * a linter of `top` needs to read (a folder of every design's files is mostly other designs).
 */
export function hierarchySources<S extends VerilogSource>(sources: readonly S[], top: string): S[] {
  const modules = modulesIn(sources);
  const needed = new Set<string>();
  const visit = (module: string) => {
    if (needed.has(module) || !modules.has(module)) return;
    needed.add(module);
    for (const i of modules.get(module)!.instances) visit(i.module);
  };
  visit(top);
  if (needed.size === 0) throw new Error(`no source defines module ${top}`);
  return sources.filter((s) => [...s.text.matchAll(/^\s*module\s+(\w+)/gm)].some((m) => needed.has(m[1])));
}

/**
 * The modules of `sources` that no other module of `sources` instantiates: the roots of their
 * hierarchies, in source order. Every module defined in `sources` lies below one of them.
 */
export function rootModules(sources: readonly VerilogSource[]): string[] {
  const modules = modulesIn(sources);
  const instantiated = new Set<string>();
  for (const [name, info] of modules) for (const i of info.instances) if (i.module !== name) instantiated.add(i.module);
  return [...modules.keys()].filter((name) => !instantiated.has(name));
}

export function registersWithoutInitialValue(sources: readonly VerilogSource[], top: string): Set<string> {
  const modules = modulesIn(sources);
  const names = new Set<string>();
  const visit = (module: string, prefix: string, depth: number) => {
    const info = modules.get(module);
    if (!info || depth > 64) return;
    for (const r of info.regs) names.add(prefix + r);
    for (const i of info.instances) visit(i.module, `${prefix}${i.name}.`, depth + 1);
  };
  visit(top, "", 0);
  return names;
}

function scan(body: string): ModuleInfo {
  const regs = [...body.matchAll(/^\s*(?:output\s+)?reg\b(?:\s+signed)?(?:\s*\[[^\]]+\])?\s+(\w+)\s*(?:[,;)]|$)/gm)].map((m) => m[1]);
  const keywords = new Set(["module", "input", "output", "wire", "reg", "assign", "always", "initial", "if", "else", "case", "begin", "end", "localparam", "parameter", "integer", "for"]);
  const instances = [...body.matchAll(/^\s*(\w+)\s+(?:#\s*\([\s\S]*?\)\s*)?(\w+)\s*\(/gm)]
    .filter((m) => !keywords.has(m[1]))
    .map((m) => ({ module: m[1], name: m[2] }));
  return { regs, instances };
}
