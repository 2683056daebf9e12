// Runs one design under the same random stimulus on several simulators and reports
// the first cycle where they disagree, on every signal they share: ports and internal
// signals by hierarchical name. Every bit has a defined value (registers power up at their
// initial value, memories hold theirs, inputs are driven from time 0), so a bit Icarus
// leaves at x is a disagreement too.
import { runTestbench } from "../../tools/icarus.ts";
import type { EngineName } from "./engine-choice.ts";
import { createSimulator, type SignalVisibility } from "./index.ts";
import { buildJsModel } from "./js-engine.ts";
import { registersWithoutInitialValue } from "./verilog-scan.ts";
import type { SignalHandle, Simulator } from "./simulator.ts";
import { type PortSpec, type Stimulus, randomStimulus, wordsOf } from "./stimulus.ts";
import type { VerilogSource } from "./yosys.ts";

export interface AgreementOptions {
  cycles: number;
  seed: number;
  engines: readonly EngineName[];
  icarus: boolean;
  /**
   * "all" (default): every signal the simulators share, internal ones by hierarchical name. "ports":
   * the top module's ports only, with the models built for that (a Verilator model then shares its
   * build with the full-system runs of the same design, which see only ports).
   */
  visibility?: SignalVisibility;
}

export interface Disagreement {
  cycle: number;
  signal: string;
  /** Hex value per simulator; "x" digits where Icarus had no value. */
  values: Record<string, string>;
  /** Inputs applied before that cycle's edge, in hex. */
  inputs: Record<string, string>;
  /** Every signal that differs in that cycle (the first is `signal`). */
  differing: string[];
}

export interface AgreementReport {
  top: string;
  cycles: number;
  /** Signals compared every cycle, and how many of them are outputs. */
  comparedSignals: number;
  comparedOutputs: number;
  /** Signal names one engine has and the other lacks (should be empty). */
  onlyIn: Record<string, string[]>;
  /** Signal bits Icarus left at x, over the whole run. */
  icarusUnknownBits: number;
  first: Disagreement | null;
}

export interface Trace {
  name: string;
  signals: PortSpec[];
  values: Uint32Array;
  unknown?: Uint32Array;
}

export async function checkAgreement(sources: readonly VerilogSource[], top: string, options: AgreementOptions): Promise<AgreementReport> {
  const sims: Simulator[] = [];
  try {
    const visibility = options.visibility ?? "all";
    for (const engine of options.engines) sims.push(await createSimulator({ sources, top, engine, visibility }));
    const reference = sims[0];
    const inputs = reference.signals.filter((s) => s.direction === "input");
    const stim = randomStimulus(inputs, options.cycles, options.seed);

    // The js engine shows every signal whatever the visibility: compare what was asked for.
    const compared = (sim: Simulator) => (visibility === "all" ? sim.signals : sim.signals.filter((x) => x.direction !== "internal"));
    const names = sims.map((s) => new Set(compared(s).map((x) => x.name)));
    const common = compared(reference).filter((s) => names.every((n) => n.has(s.name)));
    const onlyIn: Record<string, string[]> = {};
    sims.forEach((s, i) => {
      const missing = compared(s).filter((x) => names.some((n, j) => j !== i && !n.has(x.name))).map((x) => x.name);
      if (missing.length) onlyIn[s.engine] = missing;
    });

    const traces: Trace[] = sims.map((sim) => ({ name: sim.engine, signals: common, values: drive(sim, stim, common) }));
    let icarusUnknownBits = 0;
    if (options.icarus) {
      // Flip-flops written without an initial value power up at 0, as on the engines: `reg`s
      // in the Verilog that are not combinational in the netlist.
      const regs = registersWithoutInitialValue(sources, top);
      const { model } = await buildJsModel(sources, top);
      const flipFlops = model.signals.filter((s) => s.register && regs.has(s.name));
      const ic = runIcarus(sources, top, stim, common, flipFlops);
      traces.push({ name: "icarus", signals: common, values: ic.values, unknown: ic.unknown });
      for (const w of ic.unknown) icarusUnknownBits += popcount(w);
    }
    return {
      top,
      cycles: options.cycles,
      comparedSignals: common.length,
      comparedOutputs: common.filter((s) => s.direction === "output").length,
      onlyIn,
      icarusUnknownBits,
      first: firstDifference(traces, stim),
    };
  } finally {
    for (const s of sims) s.close();
  }
}

/** The Icarus trace in the engines' layout: `observe` after every edge, and its x/z bits. */
function runIcarus(
  sources: readonly VerilogSource[], top: string, stim: Stimulus, observe: readonly PortSpec[], zeroAtPowerUp: readonly PortSpec[],
): { values: Uint32Array; unknown: Uint32Array } {
  const vectors: bigint[][] = [];
  for (let c = 0; c < stim.cycles; c++) vectors.push(stim.inputs.map((p, i) => wordsToBigint(stim.values[i], c * wordsOf(p.width), p.width)));
  const result = runTestbench({
    files: sources.map((s) => ({ fileName: s.path, text: s.text })),
    top,
    cycles: stim.cycles,
    inputs: stim.inputs,
    vectors,
    outputs: observe.map((p) => ({ ...p, internal: true })),
    sample: "after-edge",
    zeroAtPowerUp,
    unknownBits: "report",
  });
  const stride = observe.reduce((n, p) => n + wordsOf(p.width), 0);
  const values = new Uint32Array(stim.cycles * stride);
  const unknown = new Uint32Array(stim.cycles * stride);
  for (let c = 0; c < stim.cycles; c++) {
    let at = c * stride;
    observe.forEach((p, i) => {
      bigintToWords(result.samples[c][i], values, at, p.width);
      bigintToWords(result.unknown[c][i], unknown, at, p.width);
      at += wordsOf(p.width);
    });
  }
  return { values, unknown };
}

function wordsToBigint(words: Uint32Array, at: number, width: number): bigint {
  let v = 0n;
  for (let w = wordsOf(width) - 1; w >= 0; w--) v = (v << 32n) | BigInt(words[at + w]);
  return v;
}

function bigintToWords(value: bigint, into: Uint32Array, at: number, width: number): void {
  for (let w = 0; w < wordsOf(width); w++) into[at + w] = Number((value >> BigInt(32 * w)) & 0xffffffffn);
}

/** Applies the stimulus cycle by cycle and records `observe` after every edge. */
export function drive(sim: Simulator, stim: Stimulus, observe: readonly PortSpec[]): Uint32Array {
  const ins = stim.inputs.map((p) => sim.signal(p.name));
  const outs: SignalHandle[] = observe.map((p) => sim.signal(p.name));
  const stride = observe.reduce((n, p) => n + wordsOf(p.width), 0);
  const trace = new Uint32Array(stim.cycles * stride);
  const scratch = new Uint32Array(observe.reduce((n, p) => Math.max(n, wordsOf(p.width)), 1));
  for (let c = 0; c < stim.cycles; c++) {
    ins.forEach((h, i) => {
      const nw = wordsOf(h.width);
      if (h.width <= 32) sim.poke(h, stim.values[i][c]);
      else sim.pokeWords(h, stim.values[i].subarray(c * nw, (c + 1) * nw));
    });
    sim.step();
    let at = c * stride;
    for (const h of outs) {
      const nw = wordsOf(h.width);
      sim.peekWords(h, scratch);
      for (let w = 0; w < nw; w++) trace[at + w] = scratch[w];
      at += nw;
    }
  }
  return trace;
}

/** The first cycle and signal where the traces differ; a bit a trace marks unknown (x) differs from every value. */
export function firstDifference(traces: readonly Trace[], stim: Stimulus): Disagreement | null {
  if (traces.length < 2) return null;
  const signals = traces[0].signals;
  const stride = signals.reduce((n, p) => n + wordsOf(p.width), 0);
  for (let c = 0; c < stim.cycles; c++) {
    const differing: { signal: PortSpec; at: number }[] = [];
    let at = c * stride;
    for (const s of signals) {
      for (let w = 0; w < wordsOf(s.width); w++) {
        const unknown = traces.some((t) => (t.unknown?.[at + w] ?? 0) !== 0);
        const ref = traces[0].values[at + w];
        if (unknown || !traces.every((t) => t.values[at + w] === ref)) {
          differing.push({ signal: s, at });
          break;
        }
      }
      at += wordsOf(s.width);
    }
    if (differing.length === 0) continue;
    const { signal, at: where } = differing[0];
    const values: Record<string, string> = {};
    for (const t of traces) values[t.name] = hex(t.values, t.unknown, where, signal.width);
    const inputs: Record<string, string> = {};
    stim.inputs.forEach((p, i) => (inputs[p.name] = hex(stim.values[i], undefined, c * wordsOf(p.width), p.width)));
    return { cycle: c, signal: signal.name, values, inputs, differing: differing.map((d) => d.signal.name) };
  }
  return null;
}

function hex(values: Uint32Array, unknown: Uint32Array | undefined, at: number, width: number): string {
  let s = "";
  for (let d = Math.ceil(width / 4) - 1; d >= 0; d--) {
    const b = d * 4;
    const word = at + (b >>> 5);
    const nib = (values[word] >>> (b & 31)) & 15;
    const x = unknown ? (unknown[word] >>> (b & 31)) & 15 : 0;
    s += x ? "x" : nib.toString(16);
  }
  return s;
}

function popcount(w: number): number {
  let n = 0;
  for (let x = w; x !== 0; x &= x - 1) n++;
  return n;
}
