// The default engine: Yosys (WebAssembly) flattens the Verilog, js-compiler.ts turns the
// netlist into JavaScript, and JsSimulator runs it. Compiled models are cached by hash.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { version as yosysVersion } from "@yowasp/yosys";
import { cacheDir, hashOf } from "./cache.ts";
import { type CompiledJsModel, COMPILER_VERSION, compileNetlist } from "./js-compiler.ts";
import { runtime } from "./js-runtime.ts";
import { buildNetlist } from "./netlist.ts";
import { CLOCK, SimulatorBase } from "./simulator-base.ts";
import type { SignalHandle } from "./simulator.ts";
import { type VerilogSource, YOSYS_SCRIPT, synthesizeNetlist } from "./yosys.ts";

export interface BuildReport {
  fromCache: boolean;
  seconds: number;
}

export async function buildJsModel(
  sources: readonly VerilogSource[], top: string, useCache = true,
): Promise<{ model: CompiledJsModel; report: BuildReport }> {
  const start = performance.now();
  const key = hashOf(["js", String(COMPILER_VERSION), yosysVersion, YOSYS_SCRIPT.join(";"), top, ...sources.map((s) => s.text)]);
  const file = join(cacheDir("engine-js"), `${key}.json`);
  if (useCache && existsSync(file)) {
    const model = JSON.parse(readFileSync(file, "utf8")) as CompiledJsModel;
    return { model, report: { fromCache: true, seconds: (performance.now() - start) / 1000 } };
  }
  const json = await synthesizeNetlist(sources, top);
  const model = compileNetlist(buildNetlist(json, top));
  if (useCache) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(model));
    renameSync(tmp, file);
  }
  return { model, report: { fromCache: false, seconds: (performance.now() - start) / 1000 } };
}

interface ModelFunctions {
  comb(): void;
  edge(): void;
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
}

export class JsSimulator extends SimulatorBase {
  readonly engine = "js" as const;
  private readonly S: Int32Array;
  private readonly fns: ModelFunctions;
  private readonly readers: Reader[];
  private readonly clockOffset: number;
  private dirty = true;
  private readonly one = new Uint32Array(1);

  constructor(readonly model: CompiledJsModel) {
    super(model.top, model.signals.map(({ name, width, direction }) => ({ name, width, direction })));
    this.S = new Int32Array(model.stateWords);
    for (let i = 0; i < model.initial.length; i += 2) this.S[model.initial[i]] = model.initial[i + 1];
    this.fns = new Function("S", "R", model.code)(this.S, runtime) as ModelFunctions;
    const inputs = new Map(model.inputs.map((p) => [p.name, p.offset]));
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
      };
    });
    this.clockOffset = inputs.get(CLOCK) ?? -1;
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
    this.S[this.readers[h.index].inputOffset] = value;
    this.dirty = true;
  }

  protected writeWords(h: SignalHandle, words: Uint32Array): void {
    const o = this.readers[h.index].inputOffset;
    const n = Math.ceil(h.width / 32);
    for (let i = 0; i < n; i++) this.S[o + i] = words[i];
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
    if (this.clockOffset >= 0) this.S[this.clockOffset] = 1;
  }

  protected settle(): void {
    if (!this.dirty) return;
    this.fns.comb();
    this.dirty = false;
  }

  protected dispose(): void {}

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
