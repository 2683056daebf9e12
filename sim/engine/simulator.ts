// The one interface every test and model uses to run emitted Verilog, whatever the engine.
import type { EngineName } from "./engine-choice.ts";

export type Direction = "input" | "output" | "internal";

export interface SignalInfo {
  /** Dot-separated DSL path below the top module: "count", "u_skid.out_valid". */
  name: string;
  width: number;
  direction: Direction;
}

/** A resolved signal; pass it instead of a name on hot paths (no lookup per call). */
export interface SignalHandle extends SignalInfo {
  readonly index: number;
}

export type SignalRef = string | SignalHandle;

/** Which signals a PortExchange carries: inputs written by the caller, outputs written by the engine. */
export interface PortExchangeSpec {
  /** Top-level inputs (not clk), applied before every edge. */
  inputs: readonly string[];
  /** Any signals (usually top-level outputs), captured before every edge with the inputs applied. */
  outputs: readonly string[];
}

/**
 * Ports exchanged through shared arrays, one engine call per cycle (see sim/engine/README.md).
 * Every port sits at a fixed word offset; a port wider than 32 bits takes several little-endian words.
 */
export interface PortExchange {
  readonly inputs: Uint32Array;
  readonly outputs: Uint32Array;
  /** One mask per output word: the bits whose change ends runUntilChange(). All ones at first. */
  readonly watch: Uint32Array;
  /** Word offset of a port in `inputs` or `outputs`. */
  offsetOf(port: string): number;
  /**
   * One cycle: applies `inputs` (bits above a port's width ignored), settles combinational logic,
   * writes the outputs as they are now (what peek() gives after poke(), before step()) into
   * `outputs`, then applies one rising edge.
   */
  cycle(): void;
  /**
   * Runs cycle() with the inputs held until one changes a watched bit of `outputs`, or `maxCycles`
   * cycles have run; returns the cycles run (the changing one included).
   */
  runUntilChange(maxCycles: number): number;
  /**
   * Like runUntilChange(), but stops *before* the cycle whose watched outputs differ: that cycle's
   * outputs are in `outputs` and its edge is not applied. Returns the edges applied (0..maxCycles).
   * Peeks afterwards show the state in which a watched output first shows its new value, exactly
   * where a step-by-step loop checking after each step() would stop.
   */
  runWhileStable(maxCycles: number): number;
}

export interface Simulator {
  readonly engine: EngineName;
  readonly top: string;
  /** Rising clock edges since the model was created. */
  readonly cycle: number;
  readonly signals: readonly SignalInfo[];

  /** Resolves a name once; throws with the closest names when there is no such signal. */
  signal(name: string): SignalHandle;
  /** Drives a top-level input (not clk, which step() drives). Numbers up to 2^53, bigints any width. */
  poke(signal: SignalRef, value: number | bigint): void;
  /** Value of a signal of at most 32 bits, as an unsigned number. */
  peek(signal: SignalRef): number;
  /** Value of a signal of any width (allocates a bigint). */
  peekBig(signal: SignalRef): bigint;
  /** Value as little-endian 32-bit words written into `out` (no allocation); returns `out`. */
  peekWords(signal: SignalRef, out: Uint32Array): Uint32Array;
  /** Drives a top-level input from little-endian 32-bit words. */
  pokeWords(signal: SignalRef, words: ArrayLike<number>): void;
  /** Applies `cycles` rising edges of clk (default 1). Outputs read afterwards show the state after the last edge. */
  step(cycles?: number): void;
  /** Sets up a port exchange; it stays valid until close(). */
  portExchange(spec: PortExchangeSpec): PortExchange;
  /**
   * Calls `observer` before every rising edge from now on, with the inputs of that edge applied
   * (peeks show what the edge will sample). Edges run by step(), reset() and port exchanges alike.
   * Returns a function that removes the observer (port exchanges take their fast path again once
   * no observer and no VCD is left).
   */
  beforeEdge(observer: () => void): () => void;
  /** Holds rst high for `cycles` edges (default 1), then low. */
  reset(cycles?: number): void;
  /** Starts writing a VCD of every signal to `path` (closed by close() or another dumpVcd). */
  dumpVcd(path: string): void;
  /** Ends the VCD, if any, and frees native resources. */
  close(): void;
}
