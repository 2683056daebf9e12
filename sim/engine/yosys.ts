// Runs Yosys (WebAssembly) over a set of Verilog files and returns the flattened
// word-level netlist as Yosys JSON. Errors come back with the caller's own file paths.
import { readFileSync } from "node:fs";
import { type YosysTree, YosysError, yosys } from "../../tools/yosys.ts";
import type { YosysJson } from "./yosys-json.ts";

export interface VerilogSource {
  /** Path shown in error messages (the real file path when read from disk). */
  path: string;
  text: string;
}

/**
 * Passes that turn the design into one flat module of word-level cells the JS compiler
 * understands. Every named wire is kept, even when unused, so that any DSL signal can
 * be peeked and both engines dump the same signals.
 */
export const YOSYS_SCRIPT = [
  "proc",
  "flatten",
  "setattr -set keep 1 w:\\*",
  // A short list on purpose: Yosys in WebAssembly spends most of its time in opt_clean,
  // so run only what the compiler needs. Memories stay as the emitted Verilog wrote them:
  // an asynchronous read port feeding a flip-flop (no memory_dff, whose merging of
  // address registers leaves the port's first value undefined).
  "opt_expr",
  "opt_clean",
  "memory_collect",
  // Flip-flops power up at their declaration's initial value (the DSL gives every register
  // one), else at 0 (7-series INIT = 0, and what Verilator and the Icarus testbench do).
  // Without an explicit init, opt_dff treats the power-up value as "don't care" and may
  // fold a register into its reset value before any reset.
  "setundef -zero -init",
  // Synchronous resets become $sdff cells. No enable inference (-nodffe): it rewrites the
  // feedback input of a mux to x, which is wrong when that mux's output is a named wire.
  "opt_dff -nodffe",
  "opt_clean",
];

export class VerilogError extends Error {
  override name = "VerilogError";
}

export function readSources(paths: readonly string[]): VerilogSource[] {
  return paths.map((path) => {
    try {
      return { path, text: readFileSync(path, "utf8") };
    } catch (err) {
      throw new VerilogError(`cannot read Verilog file ${path}: ${(err as Error).message}`);
    }
  });
}

/** Virtual name of source i inside Yosys's file tree; mapped back to the real path in messages. */
function virtualName(i: number, path: string): string {
  const base = path.split("/").pop() ?? "design.v";
  return `src${i}/${base}`;
}

/** `passes`: what runs after reading (default YOSYS_SCRIPT, the js engine's). */
export async function synthesizeNetlist(sources: readonly VerilogSource[], top: string, passes: readonly string[] = YOSYS_SCRIPT): Promise<YosysJson> {
  if (sources.length === 0) throw new VerilogError("no Verilog sources given");
  const tree: YosysTree = {};
  const names = sources.map((s, i) => virtualName(i, s.path));
  sources.forEach((s, i) => {
    tree[`src${i}`] = { [names[i].split("/")[1]]: s.text };
  });
  const script = [
    `read_verilog -noautowire ${names.join(" ")}`,
    `hierarchy -check -top ${top}`,
    ...passes,
    "write_json netlist.json",
  ].join("; ");
  let run;
  try {
    run = await yosys(script, tree, { quiet: true });
  } catch (err) {
    const log = err instanceof YosysError ? err.log : "";
    throw new VerilogError(`Yosys rejected the design (top ${top}):\n${explain(log || String(err), sources, names)}`);
  }
  const json = run.files["netlist.json"];
  if (json === undefined) throw new VerilogError(`Yosys produced no netlist for top ${top}:\n${run.log}`);
  return JSON.parse(json) as YosysJson;
}

/** Keeps Yosys's error lines and replaces virtual file names by the caller's paths. */
function explain(log: string, sources: readonly VerilogSource[], names: readonly string[]): string {
  let text = log;
  names.forEach((n, i) => {
    text = text.split(n).join(sources[i].path);
  });
  const errors = text.split("\n").filter((l) => /ERROR|error/.test(l));
  return (errors.length > 0 ? errors : text.split("\n").slice(-10)).join("\n").trim();
}
