// The fast engine: a Verilator model behind an N-API addon. JS reads and writes the
// model's signals directly in its memory (an external ArrayBuffer over the root
// object), so a cycle costs one native call.
import { createRequire } from "node:module";
import { type ExchangeCore, type ExchangePort, SimulatorBase } from "./simulator-base.ts";
import type { SignalHandle } from "./simulator.ts";
import { type NativeSignal, type SignalVisibility, type VerilatorModel, buildVerilatorModel, verilatorAvailable, VERILATOR_INSTALL_HINT } from "./verilator-build.ts";

export { buildVerilatorModel, verilatorAvailable, VERILATOR_INSTALL_HINT, type SignalVisibility };

interface Addon {
  create(): [number, ArrayBuffer, number[]];
  step(id: number, cycles: number): void;
  eval(id: number): void;
  destroy(id: number): void;
  exchange(id: number, descriptor: ArrayBuffer, inputs: ArrayBuffer, outputs: ArrayBuffer, watch: ArrayBuffer): number;
  exchangeCycle(exchange: number): void;
  exchangeRun(exchange: number, maxCycles: number): number;
  exchangeRunStable(exchange: number, maxCycles: number): number;
}

const load = createRequire(import.meta.url);

export class VerilatorSimulator extends SimulatorBase {
  readonly engine = "verilator" as const;
  private readonly addon: Addon;
  private readonly id: number;
  private u8: Uint8Array;
  private u16: Uint16Array;
  private u32: Uint32Array;
  private readonly offsets: number[];
  private readonly bytes: NativeSignal["bytes"][];
  private readonly masks: number[];
  /** True when an input was written since the model's last evaluation. */
  private dirty = false;
  /** Per signal: 1 when it is an input written since the last evaluation. */
  private readonly written: Uint8Array;
  private readonly writtenList: number[] = [];
  /**
   * Per signal: the inputs that reach it combinationally (a peek settles only when one of them was
   * written), or null: any written input may change it.
   */
  private readonly dependsOn: (Int32Array | null)[];
  private closed = false;

  constructor(readonly model: VerilatorModel) {
    super(model.top, model.signals.map(({ name, width, direction }) => ({ name, width, direction })));
    this.addon = load(model.addonPath) as Addon;
    const [id, buffer, offsets] = this.addon.create();
    this.id = id;
    this.offsets = offsets;
    this.bytes = model.signals.map((s) => s.bytes);
    this.masks = model.signals.map((s) => (s.width >= 32 ? -1 : 2 ** s.width - 1));
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer, 0, buffer.byteLength >>> 1);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    this.written = new Uint8Array(model.signals.length);
    const dependencies = model.combinationalInputs;
    // An input read back needs no evaluation: its value is where the write put it.
    this.dependsOn = model.signals.map((s, i) => (s.direction === "input" ? new Int32Array(0) : dependencies?.[i] ? Int32Array.from(dependencies[i]!) : null));
  }

  /** Whether reading signal `i` must evaluate the model first (an input it depends on was written). */
  private stale(i: number): boolean {
    if (!this.dirty) return false;
    const inputs = this.dependsOn[i];
    if (inputs === null) return true;
    for (let k = 0; k < inputs.length; k++) if (this.written[inputs[k]] !== 0) return true;
    return false;
  }

  /** The model was evaluated with every input as written. */
  private clean(): void {
    this.dirty = false;
    const list = this.writtenList;
    for (let k = 0; k < list.length; k++) this.written[list[k]] = 0;
    list.length = 0;
  }

  private markWritten(i: number): void {
    this.dirty = true;
    if (this.written[i] === 0) {
      this.written[i] = 1;
      this.writtenList.push(i);
    }
  }

  protected readNumber(h: SignalHandle): number {
    const i = h.index;
    if (this.stale(i)) this.settle();
    const o = this.offsets[i];
    switch (this.bytes[i]) {
      case 1: return this.u8[o] & this.masks[i];
      case 2: return this.u16[o >>> 1] & this.masks[i];
      default: return (this.u32[o >>> 2] & this.masks[i]) >>> 0;
    }
  }

  protected readWords(h: SignalHandle, out: Uint32Array): void {
    if (h.width <= 32) {
      out[0] = this.readNumber(h);
      return;
    }
    if (this.stale(h.index)) this.settle();
    const o = this.offsets[h.index] >>> 2;
    const n = Math.ceil(h.width / 32);
    for (let w = 0; w < n; w++) out[w] = this.u32[o + w];
    const top = h.width % 32;
    if (top !== 0) out[n - 1] &= 2 ** top - 1;
  }

  protected writeNumber(h: SignalHandle, value: number): void {
    const i = h.index;
    const o = this.offsets[i];
    switch (this.bytes[i]) {
      case 1: this.u8[o] = value; break;
      case 2: this.u16[o >>> 1] = value; break;
      default: this.u32[o >>> 2] = value;
    }
    this.markWritten(i);
  }

  protected writeWords(h: SignalHandle, words: Uint32Array): void {
    if (h.width <= 32) return this.writeNumber(h, words[0]);
    const o = this.offsets[h.index] >>> 2;
    const n = Math.ceil(h.width / 32);
    for (let w = 0; w < n; w++) this.u32[o + w] = words[w];
    this.markWritten(h.index);
  }

  protected advance(cycles: number): void {
    if (this.closed) throw new Error(`the ${this.top} model was closed`);
    this.addon.step(this.id, cycles);
    this.clean();
  }

  protected settle(): void {
    if (this.closed) throw new Error(`the ${this.top} model was closed`);
    this.addon.eval(this.id);
    this.clean();
  }

  /** Hands the shared arrays to the addon once; each cycle is then one native call. */
  protected exchangeCore(inputs: readonly ExchangePort[], outputs: readonly ExchangePort[], I: Uint32Array, O: Uint32Array, W: Uint32Array): ExchangeCore {
    if (this.closed) throw new Error(`the ${this.top} model was closed`);
    const ports = [...inputs, ...outputs];
    const descriptor = new Uint32Array(2 + 5 * ports.length);
    descriptor[0] = inputs.length;
    descriptor[1] = outputs.length;
    ports.forEach((p, i) => {
      const bytes = this.bytes[p.handle.index];
      descriptor.set([this.offsets[p.handle.index], bytes === 8 ? 0 : bytes, p.words, p.at, p.topMask], 2 + 5 * i);
    });
    // The addon keeps raw pointers into these buffers: hold them as long as the exchange lives.
    const buffers = [descriptor.buffer, I.buffer, O.buffer, W.buffer] as ArrayBuffer[];
    const id = this.addon.exchange(this.id, buffers[0], buffers[1], buffers[2], buffers[3]);
    const addon = this.addon;
    return {
      cycle: () => {
        if (this.closed) throw new Error(`the ${this.top} model was closed`);
        addon.exchangeCycle(id);
        this.clean();
      },
      run: (max) => {
        if (this.closed) throw new Error(`the ${this.top} model was closed`);
        void buffers;
        const n = addon.exchangeRun(id, max);
        this.clean();
        return n;
      },
      runStable: (max) => {
        if (this.closed) throw new Error(`the ${this.top} model was closed`);
        const n = addon.exchangeRunStable(id, max);
        this.clean();
        return n;
      },
    };
  }

  protected dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.destroy(this.id);
    // The buffers point into freed memory now; empty views make any later access harmless.
    this.u8 = new Uint8Array(0);
    this.u16 = new Uint16Array(0);
    this.u32 = new Uint32Array(0);
  }
}
