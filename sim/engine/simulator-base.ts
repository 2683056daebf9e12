// Behaviour both engines share: names, value checks, the step loop with VCD, reset.
// An engine supplies raw word access, settling of combinational logic and clock edges.
import type { EngineName } from "./engine-choice.ts";
import { unknownSignal } from "./signal-names.ts";
import type { PortExchange, PortExchangeSpec, SignalHandle, SignalInfo, SignalRef, Simulator } from "./simulator.ts";
import { VCD_PERIOD_NS, VcdWriter } from "./vcd.ts";

export const CLOCK = "clk";
export const RESET = "rst";

export class SignalValueError extends Error {
  override name = "SignalValueError";
}

/** One port of an exchange: where its words sit in the shared array. */
export interface ExchangePort {
  handle: SignalHandle;
  /** Word offset in the exchange's inputs or outputs. */
  at: number;
  words: number;
  /** Mask of the valid bits of the port's top word. */
  topMask: number;
}

/** An engine's allocation-free cycle over the shared arrays; it leaves the cycle count to the base. */
export interface ExchangeCore {
  cycle(): void;
  /** Like runUntilChange(); the base has checked maxCycles. */
  run(maxCycles: number): number;
  /** Like runWhileStable(); the base has checked maxCycles. */
  runStable(maxCycles: number): number;
}

export abstract class SimulatorBase implements Simulator {
  abstract readonly engine: EngineName;
  readonly signals: readonly SignalInfo[];
  protected readonly handles: SignalHandle[];
  private readonly byName = new Map<string, SignalHandle>();
  private readonly words: Uint32Array;
  protected cycles = 0;
  private vcd: VcdWriter | null = null;
  private edgeObservers: (() => void)[] = [];
  /** The clock input and its aliases inside instances (u_x.clk), drawn as a square wave in VCDs. */
  private readonly clockIndexes: Set<number>;
  private readonly pokeable: boolean[];
  /** Largest number poke() accepts per signal (2^width - 1, capped at 2^53 - 1). */
  private readonly maxNumber: number[];

  constructor(readonly top: string, signals: readonly SignalInfo[]) {
    this.signals = signals;
    this.handles = signals.map((s, index) => Object.freeze({ ...s, index }));
    for (const h of this.handles) this.byName.set(h.name, h);
    this.words = new Uint32Array(signals.reduce((n, s) => Math.max(n, Math.ceil(s.width / 32)), 1));
    this.pokeable = this.handles.map((h) => h.direction === "input" && h.name !== CLOCK);
    this.maxNumber = this.handles.map((h) => 2 ** Math.min(h.width, 53) - 1);
    this.clockIndexes = new Set(this.handles.filter((h) => h.width === 1 && (h.name === CLOCK || h.name.endsWith(`.${CLOCK}`))).map((h) => h.index));
  }

  get cycle(): number {
    return this.cycles;
  }

  signal(name: string): SignalHandle {
    const h = this.byName.get(name);
    if (!h) throw unknownSignal(name, this.top, [...this.byName.keys()]);
    return h;
  }

  protected resolve(ref: SignalRef): SignalHandle {
    if (typeof ref === "string") return this.signal(ref);
    if (this.handles[ref.index] !== ref) throw new Error(`signal handle "${ref.name}" belongs to another simulator`);
    return ref;
  }

  poke(ref: SignalRef, value: number | bigint): void {
    const h = this.resolve(ref);
    if (!this.pokeable[h.index]) throw this.notPokeable(h);
    if (typeof value === "number") {
      if (!(value >= 0 && value <= this.maxNumber[h.index] && Number.isInteger(value))) {
        throw new SignalValueError(`${describe(value)} does not fit the ${h.width}-bit input "${h.name}" of ${this.top} (0 .. ${h.width <= 53 ? 2 ** h.width - 1 : "2^53"})`);
      }
      if (h.width <= 32) return this.writeNumber(h, value);
      this.words.fill(0);
      this.words[0] = value % 4294967296;
      this.words[1] = Math.floor(value / 4294967296);
      return this.writeWords(h, this.words);
    }
    if (value < 0n || value >> BigInt(h.width) !== 0n) {
      throw new SignalValueError(`${describe(value)} does not fit the ${h.width}-bit input "${h.name}" of ${this.top}`);
    }
    const n = Math.ceil(h.width / 32);
    for (let i = 0; i < n; i++) this.words[i] = Number((value >> BigInt(32 * i)) & 0xffffffffn);
    this.writeWords(h, this.words);
  }

  pokeWords(ref: SignalRef, words: ArrayLike<number>): void {
    const h = this.resolve(ref);
    if (!this.pokeable[h.index]) throw this.notPokeable(h);
    const n = Math.ceil(h.width / 32);
    if (words.length !== n) throw new SignalValueError(`input "${h.name}" is ${h.width} bits: give ${n} words, not ${words.length}`);
    const top = h.width % 32;
    if (top !== 0 && words[n - 1] >>> top !== 0) {
      throw new SignalValueError(`word ${n - 1} (0x${(words[n - 1] >>> 0).toString(16)}) sets bits above the ${h.width}-bit input "${h.name}"`);
    }
    for (let i = 0; i < n; i++) this.words[i] = words[i];
    this.writeWords(h, this.words);
  }

  peek(ref: SignalRef): number {
    const h = this.resolve(ref);
    if (h.width > 32) throw new SignalValueError(`"${h.name}" is ${h.width} bits wide: use peekBig() or peekWords()`);
    return this.readNumber(h);
  }

  peekBig(ref: SignalRef): bigint {
    const h = this.resolve(ref);
    const n = Math.ceil(h.width / 32);
    this.readWords(h, this.words);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 32n) | BigInt(this.words[i]);
    return v;
  }

  peekWords(ref: SignalRef, out: Uint32Array): Uint32Array {
    const h = this.resolve(ref);
    const n = Math.ceil(h.width / 32);
    if (out.length < n) throw new SignalValueError(`"${h.name}" is ${h.width} bits: peekWords needs ${n} words, got ${out.length}`);
    this.readWords(h, out);
    return out;
  }

  step(cycles = 1): void {
    if (!Number.isInteger(cycles) || cycles < 0) throw new RangeError(`step() takes a whole number of cycles, not ${cycles}`);
    if (!this.vcd && this.edgeObservers.length === 0) {
      this.advance(cycles);
      this.cycles += cycles;
      return;
    }
    for (let i = 0; i < cycles; i++) {
      for (const observer of this.edgeObservers) observer();
      if (this.vcd) this.record(this.cycles * VCD_PERIOD_NS + VCD_PERIOD_NS / 2, 0);
      this.advance(1);
      this.cycles++;
      if (this.vcd) this.record(this.cycles * VCD_PERIOD_NS, 1);
    }
  }

  beforeEdge(observer: () => void): () => void {
    this.edgeObservers.push(observer);
    // A new array, so that an edge running the observers (for...of over the old one) is not disturbed.
    return () => {
      this.edgeObservers = this.edgeObservers.filter((o) => o !== observer);
    };
  }

  portExchange(spec: PortExchangeSpec): PortExchange {
    const seen = new Set<string>();
    const layout = (names: readonly string[], kind: "input" | "output"): ExchangePort[] => {
      let at = 0;
      return names.map((name) => {
        if (seen.has(name)) throw new Error(`port exchange of ${this.top}: "${name}" is listed twice`);
        seen.add(name);
        const handle = this.signal(name);
        if (kind === "input" && !this.pokeable[handle.index]) throw this.notPokeable(handle);
        const words = Math.ceil(handle.width / 32);
        const top = handle.width % 32;
        const port = { handle, at, words, topMask: top === 0 ? 0xffffffff : 2 ** top - 1 };
        at += words;
        return port;
      });
    };
    const inputs = layout(spec.inputs, "input");
    const outputs = layout(spec.outputs, "output");
    const wordCount = (ports: ExchangePort[]) => ports.reduce((n, p) => n + p.words, 0);
    const I = new Uint32Array(wordCount(inputs));
    const O = new Uint32Array(wordCount(outputs));
    const W = new Uint32Array(O.length).fill(0xffffffff);
    const offsets = new Map([...inputs, ...outputs].map((p) => [p.handle.name, p.at]));
    const core = this.exchangeCore(inputs, outputs, I, O, W);
    const scratch = this.words;
    // VCDs and edge observers need the model between the settle and the edge: the per-port path.
    /** Applies the inputs, settles, captures the outputs; true when a watched bit changed. */
    const sampleByPort = (): boolean => {
      for (const p of inputs) {
        for (let w = 0; w < p.words; w++) scratch[w] = I[p.at + w];
        scratch[p.words - 1] &= p.topMask;
        this.writeWords(p.handle, scratch);
      }
      this.settle();
      let changed = 0;
      for (const p of outputs) {
        this.readWords(p.handle, scratch);
        for (let w = 0; w < p.words; w++) {
          changed |= (scratch[w] ^ O[p.at + w]) & W[p.at + w];
          O[p.at + w] = scratch[w];
        }
      }
      return changed !== 0;
    };
    const portByPort = (): boolean => {
      const changed = sampleByPort();
      this.step(1);
      return changed;
    };
    return {
      inputs: I,
      outputs: O,
      watch: W,
      offsetOf: (port) => {
        const at = offsets.get(port);
        if (at === undefined) throw new Error(`port exchange of ${this.top} has no port "${port}" (it has ${[...offsets.keys()].join(", ")})`);
        return at;
      },
      cycle: () => {
        if (this.vcd || this.edgeObservers.length > 0) {
          portByPort();
          return;
        }
        core.cycle();
        this.cycles++;
      },
      runUntilChange: (maxCycles) => {
        if (!Number.isInteger(maxCycles) || maxCycles < 0 || maxCycles > 0xffffffff) throw new RangeError(`runUntilChange() takes a whole number of cycles below 2^32, not ${maxCycles}`);
        if (this.vcd || this.edgeObservers.length > 0) {
          for (let n = 1; n <= maxCycles; n++) if (portByPort()) return n;
          return maxCycles;
        }
        const n = core.run(maxCycles);
        this.cycles += n;
        return n;
      },
      runWhileStable: (maxCycles) => {
        if (!Number.isInteger(maxCycles) || maxCycles < 0 || maxCycles > 0xffffffff) throw new RangeError(`runWhileStable() takes a whole number of cycles below 2^32, not ${maxCycles}`);
        if (this.vcd || this.edgeObservers.length > 0) {
          for (let n = 0; n < maxCycles; n++) {
            if (sampleByPort()) return n;
            this.step(1);
          }
          return maxCycles;
        }
        const n = core.runStable(maxCycles);
        this.cycles += n;
        return n;
      },
    };
  }

  reset(cycles = 1): void {
    const rst = this.signal(RESET);
    this.poke(rst, 1);
    this.step(cycles);
    this.poke(rst, 0);
  }

  dumpVcd(path: string): void {
    this.vcd?.close();
    this.vcd = new VcdWriter(path, this.top, this.signals, this.clockIndexes);
    this.record(this.cycles * VCD_PERIOD_NS, this.cycles > 0 ? 1 : 0);
  }

  close(): void {
    this.vcd?.close();
    this.vcd = null;
    this.dispose();
  }

  private record(time: number, clock: 0 | 1): void {
    this.settle();
    this.vcd!.sample(time, clock, (i, out) => this.readWords(this.handles[i], out));
  }

  private notPokeable(h: SignalHandle): SignalValueError {
    if (h.name === CLOCK) return new SignalValueError(`"${CLOCK}" is driven by step(); it cannot be poked`);
    return new SignalValueError(`"${h.name}" is ${h.direction === "output" ? "an output" : "an internal signal"} of ${this.top}; only inputs can be poked`);
  }

  /** Value of a signal of at most 32 bits, with combinational logic settled. */
  protected abstract readNumber(h: SignalHandle): number;
  /** Value as words into `out`, with combinational logic settled. */
  protected abstract readWords(h: SignalHandle, out: Uint32Array): void;
  protected abstract writeNumber(h: SignalHandle, value: number): void;
  protected abstract writeWords(h: SignalHandle, words: Uint32Array): void;
  /** Applies `cycles` rising edges. */
  protected abstract advance(cycles: number): void;
  /** Brings every combinational signal up to date with inputs and state. */
  protected abstract settle(): void;
  protected abstract dispose(): void;
  /** The engine's fast cycle over the shared arrays, set up once per exchange. */
  protected abstract exchangeCore(inputs: readonly ExchangePort[], outputs: readonly ExchangePort[], I: Uint32Array, O: Uint32Array, W: Uint32Array): ExchangeCore;
}

function describe(value: number | bigint): string {
  return typeof value === "bigint" ? `value ${value}n` : `value ${value}`;
}
