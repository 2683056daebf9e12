// The formal runner: proves the assertions of an emitted design with Yosys's SAT solver (Yosys in
// WebAssembly, `sat -tempinduct`), assuming its assumptions. No SymbiYosys: one Yosys script per
// proof, on the Verilog emitDesign writes (the properties sit in it behind `ifdef FORMAL`, which
// `read_verilog -formal` defines).
//
// Method "induction": temporal induction over lengths 1..depth: at each the base case (no assertion
// fails in that many cycles from the initial state, every register at its `initial` value, which
// is its reset value) and then the induction step (that many cycles satisfying every assertion,
// from ANY state, cannot be followed by one that breaks one). Method "bounded": one SAT problem of
// `depth` cycles from the initial state (`sat -seq`), every assertion checked in every cycle.
// Reset (`rst`) and every input stay free: only the assumptions constrain them. Outcomes:
//  - "proved": an induction step succeeded: the assertions hold in every reachable state.
//  - "bounded": no counterexample within `depth` cycles from reset (an induction that did not
//    close, or a bounded check): a bounded model check of `depth` cycles.
//  - "failed": a counterexample: the first cycle where an assertion breaks, and the port values up
//    to it.
//  - "vacuous": the assertions hold, but the design's `witness` output (a harness's sign that what
//    its properties are about happens) cannot rise within the depth under the assumptions, so the
//    proof may prove nothing.
// A design with no assertion is an error, not a pass; so is a log the runner cannot read.
import type { Module } from "../hdl/index.ts";
import { emitDesign } from "../hdl/index.ts";
import { yosys } from "./yosys.ts";

/** A change to one emitted file, for the deliberately broken variant of a proof. */
export interface Mutation {
  /** What the change breaks, in words. */
  description: string;
  /** The emitted module whose text changes. */
  module: string;
  /** Text that occurs exactly once in that module's file, and what replaces it. */
  find: string;
  replace: string;
}

export interface FormalProof {
  /** The block proved (the name `nvme-host formal` takes). */
  name: string;
  /** What is proved, in a line. */
  description: string;
  /** The longest induction tried, and the cycles from reset a bounded result covers. */
  depth: number;
  /**
   * "induction" (temporal induction up to `depth`) where the properties can close an induction;
   * "bounded" (the base cases only: a bounded model check of `depth` cycles from reset) where the
   * harness cannot see state the block holds (a beat's data, its tlast inside a buffer), so that
   * the induction steps would only cost time.
   */
  method: "induction" | "bounded";
  /** The design: the block, or a formal-only harness around it. */
  build: () => Module;
  /** The broken variant, which must fail. */
  broken: Mutation;
}

/** "vacuous": the properties hold, but the design's `witness` cannot rise within the depth. */
export type FormalStatus = "proved" | "bounded" | "failed" | "vacuous";

export interface FormalResult {
  name: string;
  top: string;
  /** The variant run: the design as built, or its broken variant. */
  variant: "design" | "broken";
  status: FormalStatus;
  depth: number;
  /** proved: the induction length that closed. */
  inductionLength?: number;
  /** failed: the cycle (1 = the first cycle from reset) in which an assertion breaks. */
  failedStep?: number;
  /** failed: Yosys's table of the ports over the counterexample's cycles. */
  counterexample?: string;
  /**
   * Not failed, and the design has a `witness` output: a cycle within the depth in which its
   * condition holds under the assumptions (the solver's trace; not necessarily the first).
   */
  witnessStep?: number;
  asserts: number;
  assumes: number;
  /** Wall time of the Yosys runs. */
  seconds: number;
  /** CPU time Yosys reports for its runs (steadier than wall time on a loaded machine). */
  cpuSeconds: number;
  log: string;
}

export class FormalError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = "FormalError";
  }
}

export interface VerilogText {
  fileName: string;
  moduleName: string;
  text: string;
}

/** `files` with `mutation` applied; throws unless its text occurs exactly once in its module. */
export function applyMutation(files: readonly VerilogText[], mutation: Mutation): VerilogText[] {
  const file = files.find((f) => f.moduleName === mutation.module);
  if (!file) throw new FormalError(`mutation: no emitted module ${mutation.module} (modules: ${files.map((f) => f.moduleName).join(", ")})`, "");
  const occurrences = file.text.split(mutation.find).length - 1;
  if (occurrences !== 1) throw new FormalError(`mutation: "${mutation.find}" occurs ${occurrences} times in ${file.fileName}, not once`, "");
  return files.map((f) => (f === file ? { ...f, text: f.text.replace(mutation.find, () => mutation.replace) } : f));
}

/**
 * Proves the assertions of `files` (top module `top`): by temporal induction up to `depth` cycles
 * ("induction"), or by a bounded check of `depth` cycles from reset ("bounded").
 */
export async function proveFiles(
  files: readonly VerilogText[],
  top: string,
  depth: number,
  method: FormalProof["method"] = "induction",
  options: { firstFailure?: boolean } = {},
): Promise<Omit<FormalResult, "name" | "variant">> {
  if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`formal: depth ${depth} must be a positive integer`);
  // sat's step n judges the cycle before it (see satRun), so cycles 1..depth take depth + 1 steps.
  const steps = depth + 1;
  const started = performance.now();
  let cpuSeconds = 0;
  const finish = (run: SatRun, outcome: Pick<FormalResult, "status" | "inductionLength" | "failedStep" | "counterexample">) => ({
    top,
    depth,
    asserts: run.asserts,
    assumes: run.assumes,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSeconds + run.cpuSeconds,
    log: run.log,
    ...outcome,
  });
  if (method === "bounded" && !options.firstFailure) {
    // One SAT problem of every step at once: much faster than growing it step by step, which is
    // needed only to find the first failing cycle (`firstFailure`: a run expected to fail starts there).
    const run = await satRun(files, top, `sat -seq ${steps} -prove-asserts -set-assumes -show-ports`);
    if (/SAT proof finished - no model found: SUCCESS!/.test(run.log)) return finish(run, { status: "bounded" });
    if (!/SAT proof finished - model found: FAIL!/.test(run.log)) throw new FormalError(`formal: cannot tell the outcome from the Yosys log of ${top}`, run.log);
    cpuSeconds += run.cpuSeconds;
  }
  const run = await satRun(files, top, `sat -tempinduct${method === "bounded" ? " -tempinduct-baseonly" : ""} -prove-asserts -set-assumes -maxsteps ${steps} -show-ports`);
  const log = run.log;
  const proven = [...log.matchAll(/Base case for induction length (\d+) proven\./g)].map((m) => Number(m[1]));
  const basesInOrder = proven.every((n, i) => n === i + 1);
  if (method === "induction" && /Induction step proven: SUCCESS!/.test(log)) {
    const lengths = [...log.matchAll(/Trying induction with length (\d+)/g)].map((m) => Number(m[1]));
    return finish(run, { status: "proved", inductionLength: lengths.at(-1) });
  }
  if (/model found for base case: FAIL!/.test(log) && basesInOrder) {
    // The first length whose base case fails is proven.length + 1; its last step judges the cycle before.
    const failedStep = proven.length;
    return finish(run, { status: "failed", failedStep, counterexample: counterexampleTable(log, failedStep) });
  }
  const reachedDepth = /Reached maximum number of time steps -> (proof failed|proved base case for \d+ steps: SUCCESS!)/.test(log);
  if (reachedDepth && basesInOrder && proven.length === steps) return finish(run, { status: "bounded" });
  throw new FormalError(`formal: cannot tell the outcome from the Yosys log of ${top}`, log);
}

interface SatRun {
  log: string;
  asserts: number;
  assumes: number;
  cpuSeconds: number;
}

/** Runs one `sat` command on the design, after counting its assertions and assumptions. */
async function satRun(files: readonly VerilogText[], top: string, sat: string): Promise<SatRun> {
  const tree = Object.fromEntries(files.map((f) => [f.fileName, f.text]));
  // async2sync turns the clocked checks into ones sat can import (each sampled by a register, so a
  // check is judged one step after the cycle it looks at: the solver's step n+1 sees cycle n);
  // memory_map gives the FIFOs' memories as registers, which sat needs.
  const script = [
    `read_verilog -formal ${files.map((f) => f.fileName).join(" ")}`,
    `prep -flatten -top ${top}`,
    "memory_map",
    "async2sync",
    "chformal -lower",
    // Registers that only ever hold their initial value (a harness's copies of inputs it ties to
    // constants) become constants, and what they fed folds away.
    "opt_dff",
    "opt -fast",
    "opt_clean",
    "tee -q -o formal-stat.txt stat",
    sat,
  ].join("; ");
  const run = await yosys(script, tree);
  const stat = run.files["formal-stat.txt"] ?? "";
  const count = (cell: string) => Number(new RegExp(`\\$${cell}\\s+(\\d+)`).exec(stat)?.[1] ?? 0);
  const asserts = count("assert");
  if (asserts === 0) throw new FormalError(`formal: ${top} has no assertion to prove`, run.log);
  const cpuSeconds = Number(/CPU: user ([\d.]+)s/.exec(run.log)?.[1] ?? 0);
  return { log: run.log, asserts, assumes: count("assume"), cpuSeconds };
}

/** The last signal table sat printed (the base-case counterexample): the ports in cycles 1..`lastStep`. */
function counterexampleTable(log: string, lastStep: number): string | undefined {
  const table = [...log.matchAll(/\n( +Time Signal Name[^\n]*\n[\s\S]*?)\n\n/g)].map((m) => m[1]).at(-1);
  if (table === undefined) return undefined;
  // Rows are "<step> <signal> <value>..."; the initial-state rows ("init") show every register.
  const rows = table.split("\n").filter((row) => {
    if (/^\s*init /.test(row)) return false;
    const step = /^\s*(\d+) /.exec(row);
    return step === null || Number(step[1]) <= lastStep;
  });
  const separator = (row: string) => /^\s*-+ -+/.test(row);
  const kept = rows.filter((row, i) => !(separator(row) && i > 0 && separator(rows[i - 1])));
  rows.length = 0;
  rows.push(...kept);
  while (rows.length > 0 && separator(rows.at(-1)!)) rows.pop();
  return rows.join("\n");
}

/** Runs `proof` on the emitted Verilog of its design, or of its broken variant. */
export async function runProof(proof: FormalProof, variant: "design" | "broken" = "design"): Promise<FormalResult> {
  const design = proof.build();
  const { files } = emitDesign(design);
  const top = design.name;
  const used = variant === "broken" ? applyMutation(files, proof.broken) : files;
  const result: FormalResult = { name: proof.name, variant, ...(await proveFiles(used, top, proof.depth, proof.method, { firstFailure: variant === "broken" })) };
  const topText = used.find((f) => f.moduleName === top)?.text ?? "";
  if (result.status === "failed" || !/\boutput\s+(wire|reg)\s+witness\b/.test(topText)) return result;
  const started = performance.now();
  const witness = await firstWitness(used, top, proof.depth);
  result.seconds += (performance.now() - started) / 1000;
  result.cpuSeconds += witness.cpuSeconds;
  return witness.step === undefined ? { ...result, status: "vacuous" } : { ...result, witnessStep: witness.step };
}

/** A cycle (within `depth`) in which the design's `witness` condition can hold under its assumptions; none: it cannot. */
export async function firstWitness(files: readonly VerilogText[], top: string, depth: number): Promise<{ step?: number; cpuSeconds: number }> {
  // One SAT problem over every step; the model's table shows where the witness rose.
  const run = await satRun(files, top, `sat -seq ${depth + 1} -prove witness 0 -set-assumes -show witness`);
  if (/SAT proof finished - model found: FAIL!/.test(run.log)) {
    const risen = [...run.log.matchAll(/^\s*(\d+) \\witness\s+1\s/gm)].map((m) => Number(m[1]));
    // The witness is a register: the first step it shows 1 is the cycle after the one it saw.
    if (risen.length > 0) return { step: Math.min(...risen) - 1, cpuSeconds: run.cpuSeconds };
  }
  if (/SAT proof finished - no model found: SUCCESS!/.test(run.log)) return { cpuSeconds: run.cpuSeconds };
  throw new FormalError(`formal: cannot tell from the Yosys log whether ${top}'s witness rises`, run.log);
}
