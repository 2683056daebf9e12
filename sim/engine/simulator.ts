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
  /** Holds rst high for `cycles` edges (default 1), then low. */
  reset(cycles?: number): void;
  /** Starts writing a VCD of every signal to `path` (closed by close() or another dumpVcd). */
  dumpVcd(path: string): void;
  /** Ends the VCD, if any, and frees native resources. */
  close(): void;
}
