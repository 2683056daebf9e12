// The default engine: Yosys (WebAssembly) flattens the Verilog, js-compiler.ts turns the
// netlist into JavaScript, and JsSimulator runs it. Compiled models are cached by hash.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { version as yosysVersion } from "@yowasp/yosys";
import { cacheDir, hashOf, lockBuild } from "./cache.ts";
import { type NativeModelFunctions, type OutputPart, exchangeTable, instantiateNativeModel } from "./native-build.ts";
import { type CompiledJsModel, COMPILER_VERSION, JS_EVALUATIONS, type JsEvaluation, compileNetlist } from "./js-compiler.ts";
import { runtime } from "./js-runtime.ts";
import { buildNetlist } from "./netlist.ts";
import { CLOCK, type ExchangeCore, type ExchangePort, SimulatorBase } from "./simulator-base.ts";
import type { SignalHandle } from "./simulator.ts";
import { type VerilogSource, YOSYS_SCRIPT, synthesizeNetlist } from "./yosys.ts";

export interface BuildReport {
  fromCache: boolean;
  seconds: number;
}

/** Environment variable choosing the js engine's evaluation when no option does: "adaptive" (default), "activity" or "full". */
export const JS_EVALUATION_ENV = "NVME_HOST_JS_EVALUATION";

export function resolveJsEvaluation(option?: string, env: NodeJS.ProcessEnv = process.env): JsEvaluation {
  const chosen = option ?? env[JS_EVALUATION_ENV] ?? "adaptive";
  if ((JS_EVALUATIONS as readonly string[]).includes(chosen)) return chosen as JsEvaluation;
  const from = option !== undefined ? "the jsEvaluation option" : JS_EVALUATION_ENV;
  throw new Error(`unknown js evaluation "${chosen}" (from ${from}); choose one of: ${JS_EVALUATIONS.join(", ")}`);
}

export async function buildJsModel(
  sources: readonly VerilogSource[], top: string, useCache = true, evaluation: JsEvaluation = resolveJsEvaluation(),
): Promise<{ model: CompiledJsModel; report: BuildReport; codeCache?: string }> {
  const start = performance.now();
  const key = hashOf(["js", String(COMPILER_VERSION), evaluation, yosysVersion, YOSYS_SCRIPT.join(";"), top, ...sources.map((s) => s.text)]);
  const dir = cacheDir("engine-js");
  const file = join(dir, `${key}.json`);
  // V8's bytecode for the model's code, per V8 version (V8 rejects data from another version or flags).
  const codeCache = useCache ? join(dir, `${key}.v8-${process.versions.v8}.bin`) : undefined;
  if (useCache && existsSync(file)) {
    const model = JSON.parse(readFileSync(file, "utf8")) as CompiledJsModel;
    return { model, report: { fromCache: true, seconds: (performance.now() - start) / 1000 }, codeCache };
  }
  // One process builds a model at a time; the others wait for it and load what it built.
  const release = useCache ? await lockBuild(`${file}.lock`, () => existsSync(file)) : () => {};
  if (release === undefined) return buildJsModel(sources, top, useCache, evaluation);
  try {
    const json = await synthesizeNetlist(sources, top);
    const model = settleAtPowerUp(compileNetlist(buildNetlist(json, top), evaluation));
    if (useCache) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(model));
      renameSync(tmp, file);
    }
    return { model, report: { fromCache: false, seconds: (performance.now() - start) / 1000 }, codeCache };
  } finally {
    release();
  }
}

/**
 * A model's code as a script of its own, from V8's code cache when there is one. Unless the
 * cache holds them, V8 compiles each of the thousands of block functions on its first call
 * (parsing and bytecode generation were a fifth of a short bring-up's run time); the cache
 * holds every block's bytecode, and loading it costs a third of compiling the script. When
 * `cacheFile` is missing or rejected (another V8 version or flags), the code is compiled,
 * every function is run once on a scratch state, and the cache is written for the next time.
 */
function modelFactory(model: CompiledJsModel, cacheFile?: string, remember = true): ModelFactory {
  // One script per model code in a process: later simulators of the same model share its
  // compiled functions (each still has its own state and V8 type feedback).
  const known = remember ? factories.get(model.code) : undefined;
  if (known) return known;
  const source = `(function (S, R) {\n${model.code}\n})`;
  const filename = `nvme-host-model:${model.top}`;
  const cached = cacheFile !== undefined && existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const script = new vm.Script(source, { filename, cachedData: cached });
  const factory = script.runInThisContext() as ModelFactory;
  if (cacheFile !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    compileEveryFunction(model, factory);
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData());
    renameSync(tmp, cacheFile);
  }
  if (remember) factories.set(model.code, factory);
  return factory;
}

type ModelFactory = (S: Int32Array, R: typeof runtime) => ModelFunctions;
const factories = new Map<string, ModelFactory>();

/** Runs every block once on a scratch state (all flags are set at first), so that each has bytecode to cache. */
function compileEveryFunction(model: CompiledJsModel, factory: ModelFactory): void {
  const S = new Int32Array(model.stateWords);
  for (let i = 0; i < model.initial.length; i += 2) S[model.initial[i]] = model.initial[i + 1];
  const fns = factory(S, runtime);
  fns.comb();
  if (fns.probe) for (const sample of fns.probe.edgeBlocks) sample();
  fns.edge();
}

/**
 * For activity models: settles the combinational logic at power-up (registers and memories at
 * their initial values, inputs and clk 0) once, at build time, and keeps the values in
 * `initial`, so a new simulator does not evaluate (nor make V8 compile) every block first. The
 * edge's blocks whose first sample would change a register or write a memory start flagged;
 * the others start asleep: their next state is their current value until an input changes,
 * which flags them like any change. Returns a new model; "full" models are returned as they are.
 */
export function settleAtPowerUp(model: CompiledJsModel): CompiledJsModel {
  if (model.evaluation === "full") return model;
  const S = new Int32Array(model.stateWords);
  for (let i = 0; i < model.initial.length; i += 2) S[model.initial[i]] = model.initial[i + 1];
  const fns = modelFactory(model, undefined, false)(S, runtime);
  fns.comb();
  const settled = S.slice();
  const { F, A } = fns;
  const probe = fns.probe!;
  F.fill(0);
  A.fill(0);
  const first: number[] = [];
  probe.edgeBlocks.forEach((sample, j) => {
    sample();
    if (probe.pending() > 0 || F.some((w) => w !== 0)) first.push(j);
    probe.clear();
    F.fill(0);
    S.set(settled);
  });
  for (const j of first) {
    const w = probe.edge0 + (j >>> 5);
    F[w] |= 1 << (j & 31);
    A[w >>> 5] |= 1 << (w & 31);
  }
  const initial: number[] = [];
  settled.forEach((v, i) => {
    if (v !== 0) initial.push(i, v);
  });
  return { ...model, initial, powerUp: { F: [...F], A: [...A] } };
}

interface ModelFunctions {
  comb(): void;
  edge(): void;
  /** Activity flags and their summary (empty in "full" evaluation): a changed input ORs its marks into them. */
  F: Int32Array;
  A: Int32Array;
  blocks: number;
  evaluated(): number;
  fullEdges(): number;
  /** Activity models only. */
  probe?: { edgeBlocks: (() => void)[]; edge0: number; pending(): number; clear(): void };
  /** The native engine's exchange runs (native-build.ts). */
  run?: NativeModelFunctions["run"];
}

/** How to read one signal: a fast path for values inside one state word, chunks otherwise. */
interface Reader {
  word: number;
  shift: number;
  mask: number;
  combinational: boolean;
  chunks: CompiledJsModel["signals"][number]["chunks"];
  width: number;
  inputOffset: number;
  /** For an input: [flag word, bits] pairs to set when its value changes. */
  marks: number[];
}

export class JsSimulator extends SimulatorBase {
  /** "native" when the model's code runs as machine code (native-build.ts). */
  readonly engine: "js" | "native";
  private readonly S: Int32Array;
  private readonly fns: ModelFunctions;
  private readonly readers: Reader[];
  private readonly clockOffset: number;
  private dirty = true;
  private readonly one = new Uint32Array(1);

  /** `codeCache`: a file for V8's compiled code of the model (see modelFactory), or none. */
  constructor(readonly model: CompiledJsModel, options: { codeCache?: string; nativeAddon?: string } = {}) {
    super(model.top, model.signals.map(({ name, width, direction }) => ({ name, width, direction })));
    this.S = new Int32Array(model.stateWords);
    for (let i = 0; i < model.initial.length; i += 2) this.S[model.initial[i]] = model.initial[i + 1];
    this.engine = options.nativeAddon !== undefined ? "native" : "js";
    this.fns = options.nativeAddon !== undefined
      ? instantiateNativeModel(options.nativeAddon, this.S)
      : modelFactory(model, options.codeCache)(this.S, runtime);
    if (model.powerUp) {
      this.fns.F.set(model.powerUp.F);
      this.fns.A.set(model.powerUp.A);
    }
    const inputs = new Map(model.inputs.map((p) => [p.name, p.offset]));
    const marks = new Map(model.inputs.map((p) => [p.name, p.marks]));
    this.readers = model.signals.map((s) => {
      const c = s.chunks[0];
      const single = s.chunks.length === 1 && "offset" in c && (c.lsb & 31) + c.width <= 32;
      return {
        word: single ? c.offset + (c.lsb >>> 5) : -1,
        shift: single ? c.lsb & 31 : 0,
        mask: s.width >= 32 ? -1 : 2 ** s.width - 1,
        combinational: s.combinational,
        chunks: s.chunks,
        width: s.width,
        inputOffset: inputs.get(s.name) ?? -1,
        marks: marks.get(s.name) ?? [],
      };
    });
    this.clockOffset = inputs.get(CLOCK) ?? -1;
    this.clockMarks = marks.get(CLOCK) ?? [];
    this.F = this.fns.F;
    this.A = this.fns.A;
  }

  private readonly clockMarks: number[];
  private readonly F: Int32Array;
  private readonly A: Int32Array;

  /** Sets the activity flags of an input's readers (its value changed). */
  private mark(marks: number[]): void {
    const F = this.F;
    const A = this.A;
    for (let i = 0; i < marks.length; i += 2) {
      const w = marks[i];
      F[w] |= marks[i + 1];
      A[w >>> 5] |= 1 << (w & 31);
    }
  }

  /** `clk` reads 1 once the first edge has been applied. */
  private clockHigh(): void {
    if (this.clockOffset < 0 || this.S[this.clockOffset] === 1) return;
    this.S[this.clockOffset] = 1;
    this.mark(this.clockMarks);
  }

  /**
   * Activity evaluation: the blocks of logic the model is cut into, how many block evaluations
   * ran so far (each cycle runs only the blocks whose inputs changed), and how many edges the
   * adaptive evaluation ran with every cell evaluated (while most blocks were busy). All 0 in
   * "full" evaluation.
   */
  get activity(): { blocks: number; evaluated: number; fullEdges: number } {
    return { blocks: this.fns.blocks, evaluated: this.fns.evaluated(), fullEdges: this.fns.fullEdges() };
  }

  protected readNumber(h: SignalHandle): number {
    const r = this.readers[h.index];
    if (this.dirty && r.combinational) this.settle();
    if (r.word >= 0) return ((this.S[r.word] >>> r.shift) & r.mask) >>> 0;
    this.gather(r, this.one);
    return this.one[0];
  }

  protected readWords(h: SignalHandle, out: Uint32Array): void {
    const r = this.readers[h.index];
    if (this.dirty && r.combinational) this.settle();
    if (r.word >= 0) {
      out[0] = ((this.S[r.word] >>> r.shift) & r.mask) >>> 0;
      return;
    }
    this.gather(r, out);
  }

  protected writeNumber(h: SignalHandle, value: number): void {
    const r = this.readers[h.index];
    if (this.S[r.inputOffset] !== (value | 0)) {
      this.S[r.inputOffset] = value;
      if (r.marks.length > 0) this.mark(r.marks);
    }
    this.dirty = true;
  }

  protected writeWords(h: SignalHandle, words: Uint32Array): void {
    const r = this.readers[h.index];
    const o = r.inputOffset;
    const n = Math.ceil(h.width / 32);
    let changed = false;
    for (let i = 0; i < n; i++) {
      if (this.S[o + i] !== (words[i] | 0)) {
        this.S[o + i] = words[i];
        changed = true;
      }
    }
    if (changed) this.mark(r.marks);
    this.dirty = true;
  }

  protected advance(cycles: number): void {
    if (cycles === 0) return;
    const { comb, edge } = this.fns;
    if (this.dirty) comb();
    edge();
    for (let i = 1; i < cycles; i++) {
      comb();
      edge();
    }
    this.dirty = true;
    this.clockHigh();
  }

  protected settle(): void {
    if (!this.dirty) return;
    this.fns.comb();
    this.dirty = false;
  }

  protected dispose(): void {}

  /**
   * Compiles the exchange into one function per operation: fixed offsets, no lookups or closures
   * per cycle. The inputs never change in the model's own code, so run() writes them once. An input
   * word that changes sets its readers' activity flags.
   */
  protected exchangeCore(inputs: readonly ExchangePort[], outputs: readonly ExchangePort[], I: Uint32Array, O: Uint32Array, W: Uint32Array): ExchangeCore {
    const markCode = (marks: number[]) => {
      const out: string[] = [];
      for (let i = 0; i < marks.length; i += 2) out.push(`F[${marks[i]}] |= ${marks[i + 1]}; A[${marks[i] >>> 5}] |= ${1 << (marks[i] & 31)};`);
      return out.join(" ");
    };
    const writes: string[] = ["let w = 0;"];
    for (const p of inputs) {
      const r = this.readers[p.handle.index];
      const o = r.inputOffset;
      const marks = markCode(r.marks);
      for (let w = 0; w < p.words; w++) {
        const value = `I[${p.at + w}]${w === p.words - 1 && p.topMask !== 0xffffffff ? ` & ${p.topMask}` : ""}`;
        writes.push(marks === "" ? `S[${o + w}] = ${value};` : `w = ${value}; if (S[${o + w}] !== (w | 0)) { S[${o + w}] = w; ${marks} }`);
      }
    }
    const expressions: string[] = [];
    for (const p of outputs) this.outputWordExpressions(this.readers[p.handle.index]).forEach((expr, w) => (expressions[p.at + w] = expr));
    const reads = expressions.map((expr, k) => `O[${k}] = ${expr};`);
    const clock = this.clockOffset >= 0 ? `if (S[${this.clockOffset}] !== 1) { S[${this.clockOffset}] = 1; ${markCode(this.clockMarks)} }` : "";
    const args = ["S", "F", "A", "I", "O", "comb", "edge"];
    const values = [this.S, this.fns.F, this.fns.A, I, O, this.fns.comb, this.fns.edge];
    const cycle = new Function(...args, `return function cycle() {\n${writes.join("\n")}\ncomb();\n${reads.join("\n")}\nedge();\n${clock}\n};`)(...values) as () => void;
    const nativeRun = this.fns.run;
    if (nativeRun !== undefined) {
      // The native engine runs the loop itself: the inputs are written here, once, as below.
      const write = new Function(...args, `return function write() {\n${writes.join("\n")}\n};`)(...values) as () => void;
      const words: { constant: number; parts: OutputPart[] }[] = [];
      for (const p of outputs) this.outputWordParts(this.readers[p.handle.index]).forEach((word, w) => (words[p.at + w] = word));
      const table = exchangeTable(words, this.clockOffset, this.clockMarks);
      const runNative = (max: number, stable: boolean) => {
        write();
        const n = nativeRun(table, O, W, max, stable);
        this.dirty = true;
        return n;
      };
      return {
        cycle: () => {
          cycle();
          this.dirty = true;
        },
        run: (max) => runNative(max, false),
        runStable: (max) => runNative(max, true),
      };
    }
    // The runs compare only the watched words each cycle, and read the others on the cycle they
    // stop on (or the last one): one loop per watch mask, compiled when the mask changes.
    const compiledFor = new Uint32Array(W.length);
    let runs: Pick<ExchangeCore, "run" | "runStable"> | null = null;
    const runsForWatch = (): Pick<ExchangeCore, "run" | "runStable"> => {
      let same = runs !== null;
      for (let k = 0; same && k < W.length; k++) same = W[k] === compiledFor[k];
      if (same) return runs!;
      compiledFor.set(W);
      const watched: string[] = [];
      const rest: string[] = [];
      expressions.forEach((expr, k) => {
        if (W[k] !== 0) watched.push(`v = ${expr}; c |= (v ^ O[${k}]) & ${W[k] | 0}; O[${k}] = v;`);
        else rest.push(`O[${k}] = ${expr};`);
      });
      runs = new Function(...args, `
        return {
          run(max) {
            ${writes.join("\n")}
            let v = 0;
            for (let n = 1; n <= max; n++) {
              let c = 0;
              comb();
              ${watched.join("\n")}
              if (c !== 0 || n === max) {
                ${rest.join("\n")}
                edge();
                ${clock}
                return n;
              }
              edge();
            }
            ${clock}
            return max;
          },
          runStable(max) {
            ${writes.join("\n")}
            let v = 0;
            for (let n = 0; n < max; n++) {
              let c = 0;
              comb();
              ${watched.join("\n")}
              if (c !== 0) {
                ${rest.join("\n")}
                return n;
              }
              if (n === max - 1) {
                ${rest.join("\n")}
              }
              edge();
              ${clock}
            }
            return max;
          },
        };`)(...values) as Pick<ExchangeCore, "run" | "runStable">;
      return runs;
    };
    return {
      cycle: () => {
        cycle();
        this.dirty = true;
      },
      run: (max) => {
        const n = runsForWatch().run(max);
        this.dirty = true;
        return n;
      },
      runStable: (max) => {
        const n = runsForWatch().runStable(max);
        this.dirty = true;
        return n;
      },
    };
  }

  /** One JavaScript expression per 32-bit word of a signal, reading the state words it lives in. */
  private outputWordExpressions(r: Reader): string[] {
    if (r.word >= 0) return [`(S[${r.word}] >>> ${r.shift}) & ${r.mask}`];
    return this.outputWordParts(r).map(({ constant, parts }) => {
      const terms = parts.map(({ word, shift: b, len, at }) => {
        let bits = b === 0 ? `S[${word}]` : `(S[${word}] >>> ${b})`;
        if (b !== 0 && b + len > 32) bits = `(${bits} | (S[${word + 1}] << ${32 - b}))`;
        if (len < 32) bits = `(${bits} & ${(2 ** len - 1) >>> 0})`;
        return at === 0 ? bits : `(${bits} << ${at})`;
      });
      if (constant !== 0 || terms.length === 0) terms.push(String(constant >>> 0));
      return terms.join(" | ");
    });
  }

  /** Each 32-bit word of a signal as its constant bits and its slices of state words (for the exchanges). */
  private outputWordParts(r: Reader): { constant: number; parts: OutputPart[] }[] {
    const n = Math.ceil(r.width / 32);
    const words = Array.from({ length: n }, () => ({ constant: 0, parts: [] as OutputPart[] }));
    let pos = 0;
    for (const c of r.chunks) {
      let done = 0;
      while (done < c.width) {
        const len = Math.min(c.width - done, 32 - (pos & 31));
        const at = pos & 31;
        if ("bits" in c) {
          let bits = 0;
          for (let i = len - 1; i >= 0; i--) bits = (bits << 1) | (c.bits[done + i] === "1" ? 1 : 0);
          words[pos >>> 5].constant |= bits << at;
        } else {
          const bit = c.lsb + done;
          words[pos >>> 5].parts.push({ word: c.offset + (bit >>> 5), shift: bit & 31, len, at });
        }
        pos += len;
        done += len;
      }
    }
    return words;
  }

  /** Assembles a value from its chunks (slices of state words and constants), 32 bits at a time. */
  private gather(r: Reader, out: Uint32Array): void {
    const S = this.S;
    const n = Math.ceil(r.width / 32);
    for (let w = 0; w < n; w++) out[w] = 0;
    let pos = 0;
    for (const c of r.chunks) {
      let done = 0;
      while (done < c.width) {
        const len = Math.min(c.width - done, 32 - (pos & 31));
        let bits: number;
        if ("bits" in c) {
          bits = 0;
          for (let i = len - 1; i >= 0; i--) bits = (bits << 1) | (c.bits[done + i] === "1" ? 1 : 0);
        } else {
          const bit = c.lsb + done;
          const word = c.offset + (bit >>> 5);
          const b = bit & 31;
          bits = S[word] >>> b;
          if (b !== 0 && b + len > 32) bits |= S[word + 1] << (32 - b);
          if (len < 32) bits &= (1 << len) - 1;
        }
        out[pos >>> 5] |= bits << (pos & 31);
        pos += len;
        done += len;
      }
    }
  }
}
