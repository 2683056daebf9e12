// Compiles a word-level netlist into straight-line JavaScript over one Int32Array.
//
// State layout: every net owns ceil(width/32) little-endian words (at least one);
// the bits above a net's width are always zero. Register nets sit in one block and
// their next-state copies in a mirror block, so the clock edge commits with one
// copyWithin. Memories follow, then scratch words for operands of helper calls.
//
// The generated code defines comb() (settles every combinational net from inputs,
// registers and memories) and edge() (computes next states from settled nets,
// writes memories, then commits). It is split into functions of moderate size so
// V8 optimises each of them.
//
// Three ways to evaluate (`JsEvaluation`):
// - "full": every cell every cycle, the edge commits every register with one copyWithin.
// - "activity": the cells are partitioned into blocks (js-partition.ts), each with a flag
//   bit in the Int32Array F, set when a value the block reads changes; a block whose flag is
//   clear is skipped, its nets keep their (still correct) values. Combinational blocks
//   compare the nets other blocks read before and after evaluating; a flip-flop is sampled
//   only when its D/EN/SRST inputs changed since its last sample (else its next state is its
//   current value: by induction, the last sample either loaded a value that is now the
//   register's, or kept it), and only changed registers are committed; a memory write port
//   sets the flag of the memory's read ports (a memory's write ports are one block, so
//   re-running an unchanged block rewrites what it wrote last); an input sets its readers'
//   flags when poked with a new value (the engine applies `inputs[].marks`). The idea
//   follows ESSENT's conditional partitioning (Beamer and Donofrio, DAC 2020).
// - "adaptive" (default): activity evaluation, switching to full evaluation for a while
//   when most blocks are evaluated every cycle anyway (a busy design runs faster without
//   the flags and comparisons); back in activity evaluation every flag is set once.
import {
  type Cell, type Chunk, type Net, type Netlist, type Sig,
  NetlistError, isConst, paramBits, paramBool, paramInt,
} from "./netlist.ts";
import { groupBySameInputs, partitionComb } from "./js-partition.ts";

export const COMPILER_VERSION = 22;

export type JsEvaluation = "adaptive" | "activity" | "full";
export const JS_EVALUATIONS: readonly JsEvaluation[] = ["adaptive", "activity", "full"];

/**
 * Adaptive evaluation: edges per measurement of activity (`probeEdges`); the share of blocks
 * evaluated per edge above which evaluating every cell is cheaper (`busyShare`: skipping costs
 * a flag test and comparisons per block, about three times a block's plain evaluation, so a
 * synthetic pipeline with 58 % of its blocks busy runs at half the speed of full evaluation);
 * edges then run with full evaluation before activity is measured again (`fullEdges`, doubled
 * after each measurement that finds the design still busy, up to `maxFullEdges`), for
 * `recheckEdges`: the activity code of a busy design runs too rarely for V8 to optimise it, so
 * these measurements are slow and kept short and rare.
 */
export const ADAPTIVE = { probeEdges: 256, recheckEdges: 64, busyShare: 0.25, fullEdges: 16384, maxFullEdges: 1 << 20 } as const;

export type ChunkLayout = { offset: number; lsb: number; width: number } | { bits: string; width: number };

export interface SignalLayout {
  name: string;
  width: number;
  direction: "input" | "output" | "internal";
  chunks: ChunkLayout[];
  /** True when the value depends on combinational logic (a peek must settle first). */
  combinational: boolean;
  /**
   * True when no bit is combinational: every bit comes from a flip-flop, a memory read
   * register or a constant (Yosys folds a register that is never loaded into a constant).
   */
  register: boolean;
}

export interface CompiledJsModel {
  compilerVersion: number;
  top: string;
  stateWords: number;
  evaluation: JsEvaluation;
  /**
   * Body of `new Function("S", "R", code)`, returning `{ comb, edge, F, A, blocks, evaluated,
   * fullEdges, probe }` (F: the activity flags, A: their summary, both empty in "full"
   * evaluation; `blocks` of logic, how many were `evaluated()` and how many edges ran with
   * full evaluation so far; `probe`: the edge's blocks, for settleAtPowerUp).
   */
  code: string;
  /** Initial state as [index, value] pairs (memory contents, register init values). */
  initial: number[];
  signals: SignalLayout[];
  /**
   * Top-level inputs; `marks` are [flag word, bits] pairs to OR into F when the input's value
   * changes, with bit (word & 31) of A[word >>> 5] (empty in "full" evaluation).
   */
  inputs: { name: string; width: number; offset: number; marks: number[] }[];
  clock: string | null;
  cellCount: number;
  /**
   * Activity evaluation: the flags (F, A) to start from when `initial` already holds the
   * combinational values settled at power-up (see settleAtPowerUp in js-engine.ts); without
   * it the model starts with every flag set.
   */
  powerUp?: { F: number[]; A: number[] };
}

export const SUPPORTED_CELLS = [
  "$not", "$pos", "$neg", "$and", "$or", "$xor", "$xnor",
  "$reduce_and", "$reduce_or", "$reduce_xor", "$reduce_xnor", "$reduce_bool",
  "$logic_not", "$logic_and", "$logic_or",
  "$shl", "$shr", "$sshl", "$sshr", "$shift", "$shiftx",
  "$lt", "$le", "$eq", "$ne", "$eqx", "$nex", "$ge", "$gt",
  "$add", "$sub", "$mul", "$div", "$mod",
  "$mux", "$pmux", "$bmux", "$bwmux", "$bweqx",
  "$dff", "$dffe", "$sdff", "$sdffe", "$sdffce", "$mem_v2",
];
const SUPPORTED = new Set(SUPPORTED_CELLS);
const FLIP_FLOPS = new Set(["$dff", "$dffe", "$sdff", "$sdffe", "$sdffce"]);
const CLOCK_NAME = "clk";
const FUNCTION_SOURCE_LIMIT = 12_000;


const wordsOf = (width: number) => Math.max(1, (width + 31) >>> 5);
const maskOf = (bits: number) => (bits >= 32 ? -1 : 2 ** bits - 1);
/** Bits used in the top word of a value of this width (1..32). */
const topBits = (width: number) => width - 32 * (wordsOf(width) - 1) || 32;

export function compileNetlist(netlist: Netlist, evaluation: JsEvaluation = "adaptive"): CompiledJsModel {
  return new Compiler(netlist, evaluation).compile();
}

class Compiler {
  private offset = new Map<number, number>();
  private next = 0;
  private regBase = 0;
  private regWords = 0;
  private nextBase = 0;
  private tmp = 0;
  private lines: string[] = [];
  private initial: number[] = [];
  private clockNet: Net | null;
  /** Activity evaluation: flag marks per input net id. */
  private inputMarks = new Map<number, number[]>();
  /**
   * State words this function has stored, by offset: the local holding the value, read instead of
   * the word (a cell reading a value computed by an earlier cell of its block). Cleared at every
   * function and block scope.
   */
  private stored = new Map<number, string>();
  /** Locals declared const (bind() and store()): used as they are, never bound again. */
  private constants = new Set<string>();
  /**
   * Activity evaluation: marks of the nets read by other blocks, by net id, while their cell is
   * emitted; store() writes such a net only when its value changed, and then sets the marks.
   */
  private watchedStores = new Map<number, string>();
  private handledStores = new Set<number>();

  constructor(private readonly netlist: Netlist, private readonly evaluation: JsEvaluation) {
    this.clockNet = netlist.inputs.get(CLOCK_NAME) ?? null;
  }

  compile(): CompiledJsModel {
    const { netlist } = this;
    for (const cell of netlist.cells) {
      if (!SUPPORTED.has(cell.type)) {
        throw new NetlistError(
          `the JS engine does not support cell type ${cell.type} (cell ${cell.name}${cell.src ? ` from ${cell.src}` : ""}); ` +
          `supported: ${SUPPORTED_CELLS.join(" ")}`,
        );
      }
    }
    this.layout();
    const code: string[] = [
      '"use strict";',
      // var, not const or let: the functions below read these without a check for the
      // temporal dead zone on every access.
      "var bitsAt = R.bitsAt, shiftInto = R.shiftInto, mulInto = R.mulInto, divInto = R.divInto;",
    ];
    if (this.evaluation === "full") {
      const full = this.fullCode(code, "");
      code.push(`function comb() { ${full.comb} }`, `function edge() { ${full.edge} }`);
      code.push("return { comb, edge, F: new Int32Array(0), A: new Int32Array(0), blocks: 0, evaluated: () => 0, fullEdges: () => 0 };");
    } else {
      this.activityCode(code, this.evaluation === "adaptive");
    }
    this.initialRegisters();

    return {
      compilerVersion: COMPILER_VERSION,
      top: netlist.top,
      evaluation: this.evaluation,
      stateWords: this.next,
      code: code.join("\n"),
      initial: this.initial,
      signals: netlist.signals.map((s) => ({
        name: s.name,
        width: s.width,
        direction: s.direction,
        chunks: s.sig.chunks.map((c) => (isConst(c) ? { bits: c.bits, width: c.width } : { offset: this.off(c.net), lsb: c.lsb, width: c.width })),
        combinational: s.sig.chunks.some((c) => !isConst(c) && c.net.kind === "comb"),
        register: s.sig.chunks.every((c) => isConst(c) || c.net.kind === "reg"),
      })),
      inputs: [...netlist.inputs].map(([name, net]) => ({ name, width: net.width, offset: this.off(net), marks: this.inputMarks.get(net.id) ?? [] })),
      clock: this.clockNet ? CLOCK_NAME : null,
      cellCount: netlist.cells.length,
    };
  }

  // ---- full evaluation -----------------------------------------------------------

  /**
   * Every cell every cycle: defines the functions of the combinational cells, flip-flops and
   * memory writes (named from `prefix`) and returns the bodies of comb() and edge() calling them.
   */
  private fullCode(code: string[], prefix: string): { comb: string; edge: string } {
    const { netlist } = this;
    const comb = netlist.cells.filter((c) => !FLIP_FLOPS.has(c.type));
    const combBlocks = this.schedule(comb.map((c) => [c])).order.map((cell) => this.block(() => this.emitComb(cell)));
    const edgeBlocks: string[] = [];
    for (const cell of netlist.cells) {
      if (FLIP_FLOPS.has(cell.type)) edgeBlocks.push(this.block(() => this.emitFlipFlop(cell)));
    }
    const writeBlocks = netlist.cells
      .filter((c) => c.type === "$mem_v2")
      .map((cell) => this.block(() => this.emitMemoryWrites(cell, "")));
    const combFns = this.functions(`${prefix}comb`, combBlocks, code);
    const sample = this.functions(`${prefix}sample`, edgeBlocks, code);
    const write = this.functions(`${prefix}write`, writeBlocks, code);
    return {
      comb: combFns.map((f) => `${f}();`).join(" "),
      edge: [...sample, ...write].map((f) => `${f}();`).join(" ") +
        (this.regWords > 0 ? ` S.copyWithin(${this.regBase}, ${this.nextBase}, ${this.nextBase + this.regWords});` : ""),
    };
  }

  // ---- activity evaluation --------------------------------------------------------

  /**
   * Activity evaluation (see the top of this file and js-partition.ts for the blocks), each
   * block a function of its own (c<k> combinational, s<k> of the edge): V8 compiles and
   * optimises the ones that run, and a cold block costs nothing but its parse.
   *
   * Flags: bit k of F is block k, the combinational blocks first; the edge's blocks start at
   * word edge0 (a multiple of 32). Bit w of the summary A says that F[w] may be non-zero, so
   * combActive() visits only words with work, lowest set bit first: a block only flags blocks
   * after it (its readers), so this keeps the topological order. A mark in a block's own word
   * needs no summary bit: the loop over that word reads it again after each block.
   */
  private activityCode(code: string[], adaptive: boolean): void {
    const { netlist } = this;
    const flipFlops = netlist.cells.filter((c) => FLIP_FLOPS.has(c.type));
    const memories = netlist.cells.filter((c) => c.type === "$mem_v2");
    const comb = netlist.cells.filter((c) => !FLIP_FLOPS.has(c.type));
    const edgeInputs = (cell: Cell): Sig[] => {
      if (cell.type !== "$mem_v2") return ["D", "EN", "SRST"].flatMap((p) => (cell.inputs[p] ? [cell.inputs[p]] : []));
      return [cell.inputs.WR_EN, cell.inputs.WR_ADDR, cell.inputs.WR_DATA];
    };

    // Topological order, one flip-flop's (or memory's write) fan-in cone after another.
    const producer = this.producers(comb);
    const sinkStarts = [...flipFlops, ...memories].map((sink) => {
      const starts: Cell[] = [];
      for (const sig of edgeInputs(sink)) for (const c of sig.chunks) if (!isConst(c) && c.net.kind === "comb") starts.push(producer.get(c.net.id)!);
      return starts;
    });
    const { order } = this.schedule([...sinkStarts, ...comb.map((c) => [c])]);
    const combBlocks = partitionComb({ order, inputsOf: (cell) => this.combInputs(cell), producer });
    const edgeBlocks = groupBySameInputs([...flipFlops, ...memories], edgeInputs);
    const combWords = Math.ceil(combBlocks.length / 32);
    const edge0 = Math.ceil(combWords / 32) * 32;
    const edgeWords = Math.ceil(edgeBlocks.length / 32);
    const edgeFlag = (j: number) => edge0 * 32 + j;

    // Who reads what: net id -> flags of the blocks that read it; memory -> its read ports' block.
    const readers = new Map<number, Set<number>>();
    const addReader = (sig: Sig, flag: number) => {
      for (const c of sig.chunks) {
        if (isConst(c)) continue;
        let set = readers.get(c.net.id);
        if (!set) readers.set(c.net.id, (set = new Set()));
        set.add(flag);
      }
    };
    const memoryReadFlag = new Map<Cell, number>();
    combBlocks.forEach((cells, i) => {
      for (const cell of cells) {
        for (const sig of this.combInputs(cell)) addReader(sig, i);
        if (cell.type === "$mem_v2") memoryReadFlag.set(cell, i);
      }
    });
    edgeBlocks.forEach((cells, j) => {
      for (const cell of cells) for (const sig of edgeInputs(cell)) addReader(sig, edgeFlag(j));
    });
    /** Code setting the flags (and summary bits, except for word `ownWord`) of `flags`. */
    const markCode = (flags: Iterable<number>, ownWord = -1): string => {
      const pairs = markPairs(flags);
      const out: string[] = [];
      const summary = new Map<number, number>();
      for (let i = 0; i < pairs.length; i += 2) {
        const w = pairs[i];
        out.push(`F[${w}] |= ${pairs[i + 1]};`);
        if (w !== ownWord) summary.set(w >>> 5, (summary.get(w >>> 5) ?? 0) | flagBit(w));
      }
      for (const [a, bits] of summary) out.push(`A[${a}] |= ${bits};`);
      return out.join(" ");
    };
    const readersOf = (net: Net, except = -1) => [...(readers.get(net.id) ?? [])].filter((f) => f !== except);
    for (const net of netlist.inputs.values()) this.inputMarks.set(net.id, markPairs(readersOf(net)));

    // Combinational blocks: evaluate when flagged; nets read elsewhere compared, readers flagged.
    const combParts = combBlocks.map((cells, i) => {
      this.lines = [];
      const word = i >>> 5;
      this.emit(`function c${i}() {`);
      const scratchStart = this.next;
      const decoders = findDecoders(cells);
      this.stored.clear();
      for (const cell of cells) {
        const decoder = decoders.get(cell);
        if (decoder !== undefined) {
          if (decoder.taps[0].cell === cell) this.emitDecoder(decoder, (nets) => markCode(nets.flatMap((net) => readersOf(net, i)), word));
          continue;
        }
        const watched = Object.values(cell.outputs)
          .map((net) => ({ net, marks: markCode(readersOf(net, i), word) }))
          .filter((w) => w.marks !== "");
        // The old value, for outputs that the cell's code writes other than through store().
        const beforeAt = this.lines.length;
        const before = watched.map(({ net }) => Array.from({ length: wordsOf(net.width) }, (_, k) => {
          const old = `t${this.tmp++}`;
          this.emit(`const ${old} = S[${this.off(net) + k}];`);
          return old;
        }));
        const beforeLines = this.lines.splice(beforeAt);
        this.watchedStores = new Map(watched.map(({ net, marks }) => [net.id, marks]));
        this.handledStores.clear();
        const cellAt = this.lines.length;
        this.emitComb(cell);
        this.watchedStores.clear();
        const unhandled = watched.map((w, n) => ({ ...w, n })).filter(({ net }) => !this.handledStores.has(net.id));
        if (unhandled.length > 0) {
          this.lines.splice(cellAt, 0, ...unhandled.flatMap(({ n }) => beforeLines.slice(before.slice(0, n).reduce((a, b) => a + b.length, 0), before.slice(0, n + 1).reduce((a, b) => a + b.length, 0))));
          for (const { net, marks, n } of unhandled) {
            const differs = before[n].map((old, k) => `S[${this.off(net) + k}] !== ${old}`).join(" || ");
            this.emit(`if (${differs}) { ${marks} }`);
          }
        }
      }
      this.emit("}");
      this.stored.clear();
      const outputs = cells.flatMap((cell) => Object.values(cell.outputs).flatMap((net) => Array.from({ length: wordsOf(net.width) }, (_, k) => this.off(net) + k)));
      return hoistReads(this.lines, new Set(outputs), scratchStart).join("\n");
    });

    // Edge blocks run on the flags as they stood when the edge began (EV), so that a register
    // changed by this edge flags its readers for the next one.
    const edgeParts = edgeBlocks.map((cells, j) => {
      this.lines = [];
      this.stored.clear();
      const scratchStart = this.next;
      this.emit(`function s${j}() {`);
      for (const cell of cells) {
        this.emit("{");
        if (cell.type === "$mem_v2") this.emitMemoryWrites(cell, markCode([memoryReadFlag.get(cell)!]));
        else this.emitFlipFlopChanges(cell, markCode(readersOf(cell.outputs.Q)));
        this.emit("}");
      }
      this.emit("}");
      return hoistReads(this.lines, new Set(), scratchStart).join("\n");
    });

    code.push(...combParts, ...edgeParts);
    const summaryWords = edge0 / 32 + Math.ceil(edgeWords / 32);
    const init: string[] = [];
    const summaryInit = new Array<number>(summaryWords).fill(0);
    const setWords = (first: number, words: number, blocks: number) => {
      for (let w = 0; w < words; w++) {
        init.push(`F[${first + w}] = ${wordMask(blocks, w)};`);
        summaryInit[(first + w) >>> 5] |= flagBit(first + w);
      }
    };
    setWords(0, combWords, combBlocks.length);
    setWords(edge0, edgeWords, edgeBlocks.length);
    summaryInit.forEach((bits, a) => init.push(`A[${a}] = ${bits};`));
    code.push(
      `var F = new Int32Array(${edge0 + edgeWords});`,
      `var A = new Int32Array(${Math.max(1, summaryWords)});`,
      `var EW = new Int32Array(${Math.max(1, edgeWords)});`,
      `var EV = new Int32Array(${Math.max(1, edgeWords)});`,
      `var L = new Int32Array(${Math.max(1, this.regWords)});`,
      "var nL = 0;",
      "var evaluated = 0;",
      `var CB = [${combBlocks.map((_, i) => `c${i}`).join(", ")}];`,
      `var SB = [${edgeBlocks.map((_, j) => `s${j}`).join(", ")}];`,
      ...init,
    );
    code.push([
      "function combActive() {",
      `for (let s = 0; s < ${edge0 / 32}; s++) {`,
      "for (;;) {",
      "const a = A[s]; if (a === 0) break;",
      "const low = a & -a; A[s] = a ^ low;",
      "const w = (s << 5) + 31 - Math.clz32(low);",
      "for (;;) { const f = F[w]; if (f === 0) break; const bit = f & -f; F[w] = f ^ bit; evaluated++; CB[(w << 5) + 31 - Math.clz32(bit)](); }",
      "}",
      "}",
      "}",
    ].join("\n"));
    code.push([
      "function edgeActive() {",
      "let n = 0;",
      `for (let s = ${edge0 / 32}; s < ${summaryWords}; s++) {`,
      "let a = A[s]; A[s] = 0;",
      "while (a !== 0) { const low = a & -a; a ^= low; const w = (s << 5) + 31 - Math.clz32(low); EW[n] = w; EV[n] = F[w]; F[w] = 0; n++; }",
      "}",
      "for (let i = 0; i < n; i++) {",
      `const base = (EW[i] - ${edge0}) << 5;`,
      "let e = EV[i];",
      "while (e !== 0) { const bit = e & -e; e ^= bit; evaluated++; SB[base + 31 - Math.clz32(bit)](); }",
      "}",
      `for (let i = 0; i < nL; i++) { const x = L[i]; S[x] = S[x + ${this.nextBase - this.regBase}]; }`,
      "nL = 0;",
      "}",
    ].join("\n"));
    const blocks = combBlocks.length + edgeBlocks.length;
    if (!adaptive) {
      code.push("function comb() { combActive(); }", "function edge() { edgeActive(); }");
    } else {
      // Full evaluation while busy; back to activity with every flag set (all blocks run once).
      // comb() and edge() hold the full evaluation's calls themselves: one call less per cycle.
      const full = this.fullCode(code, "full_");
      code.push(
        `var full = false, fullLeft = 0, fullDone = 0, windowEdges = 0, windowLength = ${ADAPTIVE.probeEdges}, windowStart = 0, stretch = ${ADAPTIVE.fullEdges};`,
        `function comb() { if (full) { ${full.comb} } else combActive(); }`,
        [
          "function edge() {",
          `if (full) { ${full.edge} if (--fullLeft === 0) toActivity(); return; }`,
          "edgeActive();",
          "if (++windowEdges === windowLength) measure();",
          "}",
        ].join("\n"),
        `function toActivity() { full = false; fullDone += stretch; windowEdges = 0; windowLength = ${ADAPTIVE.recheckEdges}; windowStart = evaluated; ${init.join(" ")} }`,
        [
          "function measure() {",
          `const busy = evaluated - windowStart > ${ADAPTIVE.busyShare * blocks} * windowLength;`,
          `if (busy && fullDone > 0) stretch = Math.min(2 * stretch, ${ADAPTIVE.maxFullEdges}); else if (!busy) stretch = ${ADAPTIVE.fullEdges};`,
          `full = busy; fullLeft = stretch; windowEdges = 0; windowLength = ${ADAPTIVE.probeEdges}; windowStart = evaluated;`,
          "}",
        ].join("\n"),
      );
    }
    code.push(
      `return { comb, edge, F, A, blocks: ${blocks}, evaluated: () => evaluated, fullEdges: () => ${adaptive ? "fullDone + (full ? stretch - fullLeft : 0)" : "0"}, ` +
      `probe: { edgeBlocks: SB, edge0: ${edge0}, pending: () => nL, clear: () => { nL = 0; } } };`,
    );
  }

  /**
   * Activity evaluation of a decoder (findDecoders): the value is compared with the one it had
   * when the decoder last ran (kept in a state word of its own); when it moved, only the outputs
   * of the old and of the new value change, so only those are written and their readers flagged.
   * The invariant: the outputs show the decoding of the kept value. It holds from power-up (the
   * kept value starts as one that matches no tap, the outputs as its decoding) and after full
   * evaluation, which leaves the decoding of the current value: the update then rewrites the
   * old and the new value's outputs to what they already show, and flags their readers once more.
   */
  private emitDecoder(decoder: Decoder, marksOf: (nets: Net[]) => string): void {
    const kept = this.alloc(1);
    const matches = new Set(decoder.taps.map((t) => t.match));
    let sentinel = -1;
    while (matches.has(sentinel)) sentinel--;
    this.initial.push(kept, sentinel);
    for (const tap of decoder.taps) if (tap.active === 0) this.initial.push(this.off(tap.cell.outputs.Y), 1);
    const byMatch = new Map<number, DecoderTap[]>();
    for (const tap of decoder.taps) byMatch.set(tap.match, [...(byMatch.get(tap.match) ?? []), tap]);
    const value = this.bind(this.fetch(decoder.value)[0]);
    const previous = `t${this.tmp++}`;
    const cases = (active: boolean) => [...byMatch].map(([match, taps]) => {
      const writes = taps.map((t) => `S[${this.off(t.cell.outputs.Y)}] = ${active ? t.active : 1 - t.active};`);
      return `case ${match}: ${writes.join(" ")} ${marksOf(taps.map((t) => t.cell.outputs.Y))} break;`;
    }).join(" ");
    this.emit(`const ${previous} = S[${kept}];`);
    this.emit(`if (${value} !== ${previous}) {`);
    this.emit(`S[${kept}] = ${value};`);
    this.emit(`switch (${previous}) { ${cases(false)} }`);
    this.emit(`switch (${value}) { ${cases(true)} }`);
    this.emit("}");
  }

  /** Combinational producer of every comb net. */
  private producers(comb: Cell[]): Map<number, Cell> {
    const producer = new Map<number, Cell>();
    for (const cell of comb) for (const net of Object.values(cell.outputs)) if (net.kind === "comb") producer.set(net.id, cell);
    return producer;
  }

  // ---- layout ---------------------------------------------------------------

  private layout(): void {
    const { nets, cells } = this.netlist;
    this.regBase = this.next;
    for (const net of nets) if (net.kind === "reg") this.place(net);
    this.regWords = this.next - this.regBase;
    this.nextBase = this.alloc(this.regWords);
    for (const net of nets) if (net.kind !== "reg") this.place(net);
    for (const cell of cells) {
      if (cell.type !== "$mem_v2") continue;
      const size = paramInt(cell.raw, "SIZE");
      const width = paramInt(cell.raw, "WIDTH");
      const base = this.alloc(size * wordsOf(width));
      this.memBase.set(cell, base);
      const init = paramBits(cell.raw, "INIT");
      for (let a = 0; a < size; a++) this.setInitial(base + a * wordsOf(width), init.slice(a * width, (a + 1) * width));
    }
  }

  private memBase = new Map<Cell, number>();

  private place(net: Net): void {
    this.offset.set(net.id, this.alloc(wordsOf(net.width)));
  }

  private alloc(words: number): number {
    const o = this.next;
    this.next += words;
    return o;
  }

  private off(net: Net): number {
    return this.offset.get(net.id)!;
  }

  private nextOf(net: Net): number {
    return this.off(net) - this.regBase + this.nextBase;
  }

  /** Records initial words for `bits` (LSB first; x reads as 0) starting at word `base`. */
  private setInitial(base: number, bits: string): void {
    for (let w = 0; w * 32 < bits.length; w++) {
      let v = 0;
      for (let b = Math.min(31, bits.length - 1 - w * 32); b >= 0; b--) v = (v << 1) | (bits[w * 32 + b] === "1" ? 1 : 0);
      if (v !== 0) this.initial.push(base + w, v | 0);
    }
  }

  private initialRegisters(): void {
    const words = new Map<number, number>();
    for (let i = 0; i < this.initial.length; i += 2) words.set(this.initial[i], this.initial[i + 1]);
    for (const s of this.netlist.signals) {
      if (!s.init) continue;
      let pos = 0;
      for (const c of s.sig.chunks) {
        if (!isConst(c) && c.net.kind === "reg") {
          for (let i = 0; i < c.width; i++) {
            if (s.init[pos + i] !== "1") continue;
            const bit = c.lsb + i;
            const idx = this.off(c.net) + (bit >>> 5);
            words.set(idx, (words.get(idx) ?? 0) | (1 << (bit & 31)));
          }
        }
        pos += c.width;
      }
    }
    this.initial = [...words].sort((a, b) => a[0] - b[0]).flat();
  }

  // ---- scheduling -------------------------------------------------------------

  /**
   * Combinational cells in dependency order (a loop is an error naming its cells): a
   * depth-first walk from each group of start cells in turn; `group` tells which group's
   * walk reached a cell first.
   */
  private schedule(starts: Cell[][]): { order: Cell[]; group: Map<Cell, number> } {
    const comb = this.netlist.cells.filter((c) => !FLIP_FLOPS.has(c.type));
    const producer = this.producers(comb);
    const deps = new Map<Cell, Set<Cell>>();
    for (const cell of comb) {
      const d = new Set<Cell>();
      for (const sig of this.combInputs(cell)) {
        for (const c of sig.chunks) if (!isConst(c) && c.net.kind === "comb") d.add(producer.get(c.net.id)!);
      }
      deps.set(cell, d);
    }
    const order: Cell[] = [];
    const group = new Map<Cell, number>();
    const state = new Map<Cell, 1 | 2>();
    let current = 0;
    const visit = (cell: Cell, path: Cell[]) => {
      const s = state.get(cell);
      if (s === 2) return;
      if (s === 1) {
        const loop = path.slice(path.indexOf(cell));
        throw new NetlistError(`combinational loop through ${loop.map((c) => `${c.name}${c.src ? ` (${c.src})` : ""}`).join(" -> ")}`);
      }
      state.set(cell, 1);
      path.push(cell);
      for (const d of deps.get(cell)!) visit(d, path);
      path.pop();
      state.set(cell, 2);
      order.push(cell);
      group.set(cell, current);
    };
    starts.forEach((cells, g) => {
      current = g;
      for (const cell of cells) visit(cell, []);
    });
    return { order, group };
  }

  private combInputs(cell: Cell): Sig[] {
    if (cell.type !== "$mem_v2") return Object.values(cell.inputs);
    const abits = paramInt(cell.raw, "ABITS");
    return this.readPorts(cell).map((p) => slice(cell.inputs.RD_ADDR, p * abits, abits));
  }

  private readPorts(cell: Cell): number[] {
    return Array.from({ length: paramInt(cell.raw, "RD_PORTS") }, (_, p) => p);
  }

  // ---- code emission helpers ----------------------------------------------------

  private block(emit: () => void): string {
    this.lines = [];
    this.stored.clear();
    emit();
    this.stored.clear();
    return `{\n${this.lines.join("\n")}\n}`;
  }

  private functions(prefix: string, blocks: string[], code: string[]): string[] {
    const names: string[] = [];
    let body: string[] = [];
    let size = 0;
    const flush = () => {
      if (body.length === 0) return;
      const name = `${prefix}${names.length}`;
      code.push(`function ${name}() {\n${body.join("\n")}\n}`);
      names.push(name);
      body = [];
      size = 0;
    };
    for (const b of blocks) {
      if (size + b.length > FUNCTION_SOURCE_LIMIT) flush();
      body.push(b);
      size += b.length;
    }
    flush();
    return names;
  }

  private emit(line: string): void {
    this.lines.push(line);
  }

  /** Binds an expression to a local unless it is already a plain load or literal. */
  private bind(expr: string): string {
    if (/^(S\[\d+\]|-?\d+)$/.test(expr) || this.constants.has(expr)) return expr;
    const name = `t${this.tmp++}`;
    this.emit(`const ${name} = ${expr};`);
    this.constants.add(name);
    return name;
  }

  private bindAll(words: string[]): string[] {
    return words.map((w) => this.bind(w));
  }

  /** Word expressions (int32, zero above the width) for a value made of chunks. */
  private fetch(sig: Sig): string[] {
    const parts: string[][] = Array.from({ length: wordsOf(sig.width) }, () => []);
    const consts = new Array<number>(wordsOf(sig.width)).fill(0);
    let pos = 0;
    for (const c of sig.chunks) {
      let done = 0;
      while (done < c.width) {
        const at = pos + done;
        const len = Math.min(c.width - done, 32 - (at & 31));
        if (isConst(c)) {
          for (let i = 0; i < len; i++) if (c.bits[done + i] === "1") consts[at >>> 5] |= 1 << ((at + i) & 31);
        } else {
          const e = this.extract(c.net, c.lsb + done, len);
          parts[at >>> 5].push((at & 31) === 0 ? e : `(${e} << ${at & 31})`);
        }
        done += len;
      }
      pos += c.width;
    }
    return parts.map((p, w) => {
      if (consts[w] !== 0) p.push(String(consts[w]));
      return p.length === 0 ? "0" : p.length === 1 ? p[0] : `(${p.join(" | ")})`;
    });
  }

  /** `len` (<= 32) bits of a net starting at bit `bit`. */
  private extract(net: Net, bit: number, len: number): string {
    const base = this.off(net) + (bit >>> 5);
    const b = bit & 31;
    const reachesTop = bit + len === net.width;
    const word = (o: number) => this.stored.get(o) ?? `S[${o}]`;
    if (b + len <= 32) {
      const e = b === 0 ? word(base) : `(${word(base)} >>> ${b})`;
      return reachesTop || b + len === 32 ? e : `(${e} & ${maskOf(len)})`;
    }
    const e = `((${word(base)} >>> ${b}) | (${word(base + 1)} << ${32 - b}))`;
    return reachesTop || len === 32 ? e : `(${e} & ${maskOf(len)})`;
  }

  /** Extends or truncates word expressions from one width to another. */
  private extend(words: string[], from: number, to: number, signed: boolean): string[] {
    const nTo = wordsOf(to);
    if (to <= from) {
      const out = words.slice(0, nTo);
      if (to < from && to % 32 !== 0) out[nTo - 1] = `(${out[nTo - 1]} & ${maskOf(topBits(to))})`;
      return out;
    }
    const nFrom = wordsOf(from);
    const out = words.slice();
    if (signed) {
      const tb = topBits(from);
      const top = this.bind(out[nFrom - 1]);
      out[nFrom - 1] = tb === 32 ? top : `((${top} << ${32 - tb}) >> ${32 - tb})`;
      if (nTo > nFrom) {
        const sign = this.bind(`(${top} << ${32 - tb}) >> 31`);
        while (out.length < nTo) out.push(sign);
      }
      if (to % 32 !== 0) out[nTo - 1] = `(${out[nTo - 1]} & ${maskOf(topBits(to))})`;
    } else {
      while (out.length < nTo) out.push("0");
    }
    return out;
  }

  /** A value of up to 32 bits as an exact JS number, per its signedness. */
  private numberOf(word: string, width: number, signed: boolean): string {
    if (signed) return width === 32 ? `(${word} | 0)` : `((${word} << ${32 - width}) >> ${32 - width})`;
    return width === 32 ? `(${word} >>> 0)` : word;
  }

  /**
   * Writes a net's words. The values go into locals first, so that later cells of the function
   * read them without loading the state words again; a net other blocks read (activity
   * evaluation) is written only when it changed, and then flags its readers. `fits`: the words
   * are int32s with no bit above the net's width already (a bitwise operation on values of that
   * width, a choice among them, 0 or 1), so they need no mask.
   */
  private store(net: Net, words: string[], fits = false): void {
    const o = this.off(net);
    const n = wordsOf(net.width);
    const values: string[] = [];
    for (let i = 0; i < n; i++) {
      const w = words[i] ?? "0";
      if (fits && !/^-?\d+$/.test(w)) {
        values.push(this.bind(w));
        continue;
      }
      const masked = i === n - 1 && net.width % 32 !== 0;
      if (/^-?\d+$/.test(w)) {
        // A constant: folded to the int32 the state word reads back.
        values.push(String(masked ? Number(w) & maskOf(topBits(net.width)) : Number(w) | 0));
        continue;
      }
      // As an int32, exactly what the state word reads back (an expression may be a larger number).
      const local = `t${this.tmp++}`;
      this.emit(`const ${local} = ${masked ? `${w} & ${maskOf(topBits(net.width))}` : `(${w}) | 0`};`);
      this.constants.add(local);
      values.push(local);
    }
    const marks = this.watchedStores.get(net.id);
    const writes = values.map((v, i) => `S[${o + i}] = ${v};`).join(" ");
    if (marks === undefined) this.emit(writes);
    else {
      this.emit(`if (${values.map((v, i) => `S[${o + i}] !== ${v}`).join(" || ")}) { ${writes} ${marks} }`);
      this.handledStores.add(net.id);
    }
    values.forEach((v, i) => this.stored.set(o + i, v));
  }

  private storeBit(net: Net, bit: string): void {
    this.store(net, [`(${bit} ? 1 : 0)`], true);
  }

  /** Copies word expressions into fresh scratch words and returns their offset. */
  private scratch(words: string[]): number {
    const o = this.alloc(words.length);
    words.forEach((w, i) => this.emit(`S[${o + i}] = ${w};`));
    return o;
  }

  /** Offset of a value held in state words: the net itself when the sig is a whole net. */
  private inMemory(sig: Sig, width: number, signed: boolean): number {
    const c = sig.chunks[0];
    if (sig.chunks.length === 1 && !isConst(c) && c.lsb === 0 && c.width === c.net.width && width === c.width) return this.off(c.net);
    return this.scratch(this.extend(this.fetch(sig), sig.width, width, signed));
  }

  // ---- combinational cells ------------------------------------------------------

  private emitComb(cell: Cell): void {
    const p = (name: string) => paramInt(cell.raw, name);
    const flag = (name: string) => paramBool(cell.raw, name);
    const t = cell.type;
    if (t === "$mem_v2") return this.emitMemoryReads(cell);
    const Y = cell.outputs.Y;
    const yw = Y.width;
    const A = cell.inputs.A;
    switch (t) {
      case "$not": case "$pos": case "$neg": {
        const a = this.bindAll(this.extend(this.fetch(A), A.width, yw, flag("A_SIGNED")));
        if (t === "$not") return this.store(Y, a.map((w) => `~${w}`));
        if (t === "$pos") return this.store(Y, a, true);
        return this.addSub(Y, a.map(() => "0"), a, true);
      }
      case "$and": case "$or": case "$xor": case "$xnor": case "$bweqx": {
        const a = this.bindAll(this.extend(this.fetch(A), A.width, yw, t !== "$bweqx" && flag("A_SIGNED")));
        const B = cell.inputs.B;
        const b = this.bindAll(this.extend(this.fetch(B), B.width, yw, t !== "$bweqx" && flag("B_SIGNED")));
        const op = { $and: "&", $or: "|", $xor: "^", $xnor: "^", $bweqx: "^" }[t];
        const inv = t === "$xnor" || t === "$bweqx";
        return this.store(Y, a.map((w, i) => (inv ? `~(${w} ^ ${b[i]})` : `(${w} ${op} ${b[i]})`)), !inv);
      }
      case "$add": case "$sub": case "$mul": {
        const B = cell.inputs.B;
        const a = this.bindAll(this.extend(this.fetch(A), A.width, yw, flag("A_SIGNED")));
        const b = this.bindAll(this.extend(this.fetch(B), B.width, yw, flag("B_SIGNED")));
        if (t !== "$mul") return this.addSub(Y, a, b, t === "$sub");
        if (a.length === 1) return this.store(Y, [`Math.imul(${a[0]}, ${b[0]})`]);
        const y = this.off(Y);
        this.emit(`mulInto(S, ${y}, ${this.scratch(a)}, ${this.scratch(b)}, ${a.length});`);
        if (yw % 32 !== 0) this.emit(`S[${y + a.length - 1}] &= ${maskOf(topBits(yw))};`);
        return;
      }
      case "$div": case "$mod": return this.divMod(cell, t === "$mod");
      case "$lt": case "$le": case "$gt": case "$ge": return this.compare(cell);
      case "$eq": case "$ne": case "$eqx": case "$nex": {
        const B = cell.inputs.B;
        const w = Math.max(A.width, B.width);
        const signed = flag("A_SIGNED") && flag("B_SIGNED");
        const a = this.extend(this.fetch(A), A.width, w, signed);
        const b = this.extend(this.fetch(B), B.width, w, signed);
        const diff = a.map((x, i) => `(${x} ^ ${b[i]})`).join(" | ");
        return this.storeBit(Y, `(${diff}) ${t === "$eq" || t === "$eqx" ? "===" : "!=="} 0`);
      }
      case "$logic_not": return this.storeBit(Y, `${this.anySet(A)} === 0`);
      case "$reduce_or": case "$reduce_bool": return this.storeBit(Y, `${this.anySet(A)} !== 0`);
      case "$logic_and": case "$logic_or": {
        const op = t === "$logic_and" ? "&&" : "||";
        return this.storeBit(Y, `(${this.anySet(A)} !== 0) ${op} (${this.anySet(cell.inputs.B)} !== 0)`);
      }
      case "$reduce_and": {
        const a = this.fetch(A);
        const all = a.map((w, i) => `${w} === ${i === a.length - 1 ? maskOf(topBits(A.width)) : -1}`);
        return this.storeBit(Y, all.join(" && "));
      }
      case "$reduce_xor": case "$reduce_xnor": {
        const par = this.bind(`(${this.fetch(A).join(" ^ ")})`);
        const x = `t${this.tmp++}`;
        this.emit(`let ${x} = ${par} ^ (${par} >>> 16); ${x} ^= ${x} >>> 8; ${x} ^= ${x} >>> 4; ${x} ^= ${x} >>> 2; ${x} ^= ${x} >>> 1;`);
        return this.store(Y, [t === "$reduce_xor" ? `(${x} & 1)` : `(~${x} & 1)`], true);
      }
      case "$shl": case "$shr": case "$sshl": case "$sshr": case "$shift": case "$shiftx": return this.shift(cell);
      case "$mux": {
        const s = this.bind(this.fetch(cell.inputs.S)[0]);
        const a = this.fetch(A);
        const b = this.fetch(cell.inputs.B);
        return this.store(Y, a.map((w, i) => `(${s} ? ${b[i]} : ${w})`), true);
      }
      case "$bwmux": {
        const s = this.bindAll(this.fetch(cell.inputs.S));
        const a = this.bindAll(this.fetch(A));
        const b = this.bindAll(this.fetch(cell.inputs.B));
        return this.store(Y, a.map((w, i) => `((${w} & ~${s[i]}) | (${b[i]} & ${s[i]}))`), true);
      }
      case "$pmux": return this.pmux(cell);
      case "$bmux": {
        const sel = this.numberOf(this.bind(this.fetch(cell.inputs.S)[0]), cell.inputs.S.width, false);
        return this.shiftBy(Y, A, A.width, false, false, `(${sel} * ${p("WIDTH")})`);
      }
    }
    throw new NetlistError(`internal: no code for cell type ${t}`);
  }

  /** OR of all words of a value: nonzero exactly when some bit is set. */
  private anySet(sig: Sig): string {
    return `(${this.fetch(sig).join(" | ")})`;
  }

  private addSub(Y: Net, a: string[], b: string[], subtract: boolean): void {
    const o = this.off(Y);
    const n = wordsOf(Y.width);
    if (n === 1) return this.store(Y, [`(${a[0]} ${subtract ? "-" : "+"} ${b[0]})`]);
    const c = `t${this.tmp++}`;
    const s = `t${this.tmp++}`;
    this.emit(`let ${c} = 0, ${s} = 0;`);
    for (let i = 0; i < n; i++) {
      const mask = i === n - 1 && Y.width % 32 !== 0 ? ` & ${maskOf(topBits(Y.width))}` : "";
      if (subtract) this.emit(`${s} = (${a[i]} >>> 0) - (${b[i]} >>> 0) - ${c}; S[${o + i}] = ${s}${mask}; ${c} = ${s} < 0 ? 1 : 0;`);
      else this.emit(`${s} = (${a[i]} >>> 0) + (${b[i]} >>> 0) + ${c}; S[${o + i}] = ${s}${mask}; ${c} = ${s} > 4294967295 ? 1 : 0;`);
    }
  }

  private divMod(cell: Cell, remainder: boolean): void {
    const A = cell.inputs.A, B = cell.inputs.B, Y = cell.outputs.Y;
    const as = paramBool(cell.raw, "A_SIGNED"), bs = paramBool(cell.raw, "B_SIGNED");
    if (A.width <= 32 && B.width <= 32 && Y.width <= 32) {
      const a = this.bind(this.numberOf(this.fetch(A)[0], A.width, as));
      const b = this.bind(this.numberOf(this.fetch(B)[0], B.width, bs));
      const r = remainder ? `${a} % ${b}` : `Math.trunc(${a} / ${b})`;
      return this.store(Y, [`(${b} === 0 ? 0 : ${r})`]);
    }
    const signed = as || bs;
    const n = wordsOf(Math.max(A.width, B.width, Y.width) + (signed ? 1 : 0));
    const a = this.scratch(this.extend(this.fetch(A), A.width, n * 32, as));
    const b = this.scratch(this.extend(this.fetch(B), B.width, n * 32, bs));
    const q = this.alloc(n);
    this.emit(`divInto(S, ${q}, ${a}, ${b}, ${n}, ${signed}, ${remainder});`);
    const words = Array.from({ length: n }, (_, i) => `S[${q + i}]`);
    this.store(Y, this.extend(words, n * 32, Y.width, false));
  }

  private compare(cell: Cell): void {
    const A = cell.inputs.A, B = cell.inputs.B, Y = cell.outputs.Y;
    const as = paramBool(cell.raw, "A_SIGNED"), bs = paramBool(cell.raw, "B_SIGNED");
    const op = { $lt: "<", $le: "<=", $gt: ">", $ge: ">=" }[cell.type]!;
    if (A.width <= 32 && B.width <= 32) {
      const a = this.numberOf(this.fetch(A)[0], A.width, as);
      const b = this.numberOf(this.fetch(B)[0], B.width, bs);
      return this.storeBit(Y, `${a} ${op} ${b}`);
    }
    // Both sides as two's complement in whole words, one bit wider than the wider operand.
    const n = wordsOf(Math.max(A.width, B.width) + 1);
    const a = this.bindAll(this.extend(this.fetch(A), A.width, n * 32, as));
    const b = this.bindAll(this.extend(this.fetch(B), B.width, n * 32, bs));
    let cmp = "0";
    for (let i = 0; i < n; i++) {
      const [x, y] = i === n - 1 ? [a[i], b[i]] : [`(${a[i]} >>> 0)`, `(${b[i]} >>> 0)`];
      cmp = `(${a[i]} !== ${b[i]} ? (${x} < ${y} ? -1 : 1) : ${cmp})`;
    }
    const r = this.bind(cmp);
    this.storeBit(Y, `${r} ${op} 0`);
  }

  private shift(cell: Cell): void {
    const A = cell.inputs.A, B = cell.inputs.B, Y = cell.outputs.Y;
    const t = cell.type;
    const as = paramBool(cell.raw, "A_SIGNED");
    const bSigned = (t === "$shift" || t === "$shiftx") && paramBool(cell.raw, "B_SIGNED");
    const amount = this.bind(this.shiftAmount(B, bSigned));
    const wide = Math.max(A.width, Y.width);
    switch (t) {
      case "$shl": case "$sshl": return this.shiftBy(Y, A, wide, as, false, `-(${amount})`);
      case "$shr": return this.shiftBy(Y, A, wide, as, false, amount);
      case "$sshr": return as ? this.shiftBy(Y, A, A.width, true, true, amount) : this.shiftBy(Y, A, wide, false, false, amount);
      default: return this.shiftBy(Y, A, A.width, false, false, amount);
    }
  }

  /** The shift amount as a JS number, clamped to +-2^31 (past any width). */
  private shiftAmount(B: Sig, signed: boolean): string {
    const b = this.fetch(B);
    if (b.length === 1) return this.numberOf(b[0], B.width, signed);
    const words = this.bindAll(this.extend(b, B.width, b.length * 32, signed));
    const upper = words.slice(1);
    if (!signed) return `((${upper.join(" | ")}) !== 0 ? 2147483647 : (${words[0]} >>> 0))`;
    const sign = this.bind(`${words[words.length - 1]} >> 31`);
    const inRange = [...upper.map((w) => `${w} === ${sign}`), `(${words[0]} >> 31) === ${sign}`].join(" && ");
    return `(${inRange} ? ${words[0]} : (${sign} ? -2147483648 : 2147483647))`;
  }

  /**
   * Y = bits of A (extended to `srcWidth`) from position `amount` up (negative:
   * shifted left); positions past the source read as its sign (`signFill`) or 0.
   */
  private shiftBy(Y: Net, A: Sig, srcWidth: number, srcSigned: boolean, signFill: boolean, amount: string): void {
    const s = this.bind(amount);
    if (srcWidth <= 32 && Y.width <= 32) {
      const a = this.bind(this.extend(this.fetch(A), A.width, srcWidth, srcSigned)[0]);
      const full = signFill ? this.bind(`((${a} << ${32 - srcWidth}) >> ${32 - srcWidth})`) : a;
      const right = signFill ? `(${s} >= 32 ? (${full} >> 31) : (${full} >> ${s}))` : `(${s} >= 32 ? 0 : (${full} >>> ${s}))`;
      const left = `(${s} <= -32 ? 0 : (${a} << -${s}))`;
      return this.store(Y, [`(${s} < 0 ? ${left} : ${right})`]);
    }
    const src = this.inMemory(A, srcWidth, srcSigned);
    const fill = signFill ? this.bind(`(S[${src + wordsOf(srcWidth) - 1}] << ${32 - topBits(srcWidth)}) >> 31`) : "0";
    this.emit(`shiftInto(S, ${this.off(Y)}, ${Y.width}, ${src}, ${srcWidth}, ${s}, ${fill});`);
  }

  private pmux(cell: Cell): void {
    const A = cell.inputs.A, B = cell.inputs.B, S = cell.inputs.S, Y = cell.outputs.Y;
    const width = Y.width;
    const sel = this.bindAll(this.fetch(S));
    const bit = (k: number) => `(${sel[k >>> 5]} & ${(1 << (k & 31)) | 0})`;
    const n = S.width;
    if (wordsOf(width) === 1) {
      let e = this.fetch(A)[0];
      for (let k = n - 1; k >= 0; k--) e = `(${bit(k)} ? ${this.fetch(slice(B, k * width, width))[0]} : ${e})`;
      return this.store(Y, [e], true);
    }
    let idx = "-1";
    for (let k = n - 1; k >= 0; k--) idx = `(${bit(k)} ? ${k} : ${idx})`;
    const which = this.bind(idx);
    const a = this.fetch(A);
    const cases = Array.from({ length: n }, (_, k) => this.fetch(slice(B, k * width, width)));
    this.store(Y, a.map((w, i) => {
      let e = w;
      for (let k = n - 1; k >= 0; k--) e = `(${which} === ${k} ? ${cases[k][i]} : ${e})`;
      return e;
    }), true);
  }

  // ---- sequential cells -----------------------------------------------------------

  private checkClock(cell: Cell, sig: Sig, polarity: boolean, what: string): void {
    const c = sig.chunks[0];
    const ok = sig.width === 1 && !isConst(c) && c.net === this.clockNet;
    if (!ok) {
      throw new NetlistError(
        `${what} of cell ${cell.name}${cell.src ? ` (${cell.src})` : ""} is not clocked by the input ${CLOCK_NAME}; ` +
        "the engine simulates designs with one clock named clk",
      );
    }
    if (!polarity) throw new NetlistError(`${what} of cell ${cell.name}${cell.src ? ` (${cell.src})` : ""} uses the falling edge of ${CLOCK_NAME}; only rising edges are supported`);
  }

  private emitFlipFlop(cell: Cell): void {
    const raw = cell.raw;
    this.checkClock(cell, cell.inputs.CLK, paramBool(raw, "CLK_POLARITY"), "flip-flop");
    const Q = cell.outputs.Q;
    const n = this.nextOf(Q);
    const q = this.off(Q);
    const words = wordsOf(Q.width);
    const d = this.fetch(cell.inputs.D);
    const assign = (vals: string[]) => vals.map((v, i) => `S[${n + i}] = ${v};`).join(" ");
    const keep = assign(Array.from({ length: words }, (_, i) => `S[${q + i}]`));
    const load = assign(d);
    const t = cell.type;
    const en = t === "$dff" || t === "$sdff" ? null : `${this.bind(this.fetch(cell.inputs.EN)[0])} === ${paramBool(raw, "EN_POLARITY") ? 1 : 0}`;
    let srst: string | null = null;
    let resetTo = "";
    if (t.startsWith("$sdff")) {
      srst = `${this.bind(this.fetch(cell.inputs.SRST)[0])} === ${paramBool(raw, "SRST_POLARITY") ? 1 : 0}`;
      resetTo = assign(this.fetch(constSig(paramBits(raw, "SRST_VALUE"))));
    }
    if (t === "$dff") this.emit(load);
    else if (t === "$dffe") this.emit(`if (${en}) { ${load} } else { ${keep} }`);
    else if (t === "$sdff") this.emit(`if (${srst}) { ${resetTo} } else { ${load} }`);
    else if (t === "$sdffe") this.emit(`if (${srst}) { ${resetTo} } else if (${en}) { ${load} } else { ${keep} }`);
    else this.emit(`if (${en}) { if (${srst}) { ${resetTo} } else { ${load} } } else { ${keep} }`);
  }

  /**
   * Activity evaluation: the next state into locals (the current value unless loaded or
   * reset); when it differs from the current value, into the mirror, queued for commit,
   * and the register's readers flagged.
   */
  private emitFlipFlopChanges(cell: Cell, marks: string): void {
    const raw = cell.raw;
    this.checkClock(cell, cell.inputs.CLK, paramBool(raw, "CLK_POLARITY"), "flip-flop");
    const Q = cell.outputs.Q;
    const n = this.nextOf(Q);
    const q = this.off(Q);
    const words = wordsOf(Q.width);
    const v = Array.from({ length: words }, () => `t${this.tmp++}`);
    const t = cell.type;
    const en = t === "$dff" || t === "$sdff" ? null : `${this.bind(this.fetch(cell.inputs.EN)[0])} === ${paramBool(raw, "EN_POLARITY") ? 1 : 0}`;
    const srst = t.startsWith("$sdff") ? `${this.bind(this.fetch(cell.inputs.SRST)[0])} === ${paramBool(raw, "SRST_POLARITY") ? 1 : 0}` : null;
    const d = this.fetch(cell.inputs.D);
    const assign = (vals: string[]) => vals.map((x, i) => `${v[i]} = ${x};`).join(" ");
    const load = assign(d);
    const resetTo = srst ? assign(this.fetch(constSig(paramBits(raw, "SRST_VALUE")))) : "";
    this.emit(`let ${v.map((x, i) => `${x} = S[${q + i}]`).join(", ")};`);
    if (t === "$dff") this.emit(load);
    else if (t === "$dffe") this.emit(`if (${en}) { ${load} }`);
    else if (t === "$sdff") this.emit(`if (${srst}) { ${resetTo} } else { ${load} }`);
    else if (t === "$sdffe") this.emit(`if (${srst}) { ${resetTo} } else if (${en}) { ${load} }`);
    else this.emit(`if (${en}) { if (${srst}) { ${resetTo} } else { ${load} } }`);
    const differs = v.map((x, i) => `${x} !== S[${q + i}]`).join(" || ");
    const commit = v.map((x, i) => `S[${n + i}] = ${x}; L[nL++] = ${q + i};`).join(" ");
    this.emit(`if (${differs}) { ${commit} ${marks} }`);
  }

  private memoryShape(cell: Cell) {
    const raw = cell.raw;
    const shape = {
      size: paramInt(raw, "SIZE"),
      offset: paramInt(raw, "OFFSET"),
      abits: paramInt(raw, "ABITS"),
      width: paramInt(raw, "WIDTH"),
      wrPorts: paramInt(raw, "WR_PORTS"),
      base: this.memBase.get(cell)!,
      name: String(raw.parameters.MEMID ?? cell.name).replace(/^\\/, ""),
    };
    if (shape.abits > 31) throw new NetlistError(`memory ${shape.name}: ${shape.abits}-bit addresses are not supported`);
    if (/1/.test(paramBits(raw, "RD_WIDE_CONTINUATION")) || /1/.test(paramBits(raw, "WR_WIDE_CONTINUATION"))) {
      throw new NetlistError(`memory ${shape.name}: wide (multi-word) memory ports are not supported`);
    }
    if (/1/.test(paramBits(raw, "RD_CLK_ENABLE"))) {
      // YOSYS_SCRIPT keeps reads asynchronous, each followed by its flip-flop, as emitted.
      throw new NetlistError(`memory ${shape.name}: clocked read ports are not supported (run without memory_dff)`);
    }
    return shape;
  }

  /** Emits `const <index> = address - offset` and returns the in-range test. */
  private address(sig: Sig, offset: number, size: number): { index: string; inRange: string } {
    const index = this.bind(offset === 0 ? this.fetch(sig)[0] : `(${this.fetch(sig)[0]} - ${offset})`);
    return { index, inRange: `(${index} >>> 0) < ${size}` };
  }

  private emitMemoryReads(cell: Cell): void {
    const m = this.memoryShape(cell);
    const nw = wordsOf(m.width);
    for (const p of this.readPorts(cell)) {
      const out = cell.outputs[`RD_DATA${p}`];
      const { index, inRange } = this.address(slice(cell.inputs.RD_ADDR, p * m.abits, m.abits), m.offset, m.size);
      const row = this.bind(`${m.base} + ${index} * ${nw}`);
      this.store(out, Array.from({ length: nw }, (_, i) => `(${inRange} ? S[${row} + ${i}] : 0)`), true);
    }
  }

  /** `onWrite` runs after each write (activity evaluation: flags the read ports). */
  private emitMemoryWrites(cell: Cell, onWrite: string): void {
    const raw = cell.raw;
    const m = this.memoryShape(cell);
    const nw = wordsOf(m.width);
    const clocked = paramBits(raw, "WR_CLK_ENABLE");
    const polarity = paramBits(raw, "WR_CLK_POLARITY");
    // Later ports are written last, so they win when two ports write one address.
    for (let w = 0; w < m.wrPorts; w++) {
      if (clocked[w] !== "1") throw new NetlistError(`write port ${w} of memory ${m.name} is not clocked`);
      this.checkClock(cell, slice(cell.inputs.WR_CLK, w, 1), polarity[w] === "1", `write port ${w} of memory ${m.name}`);
      const enSig = slice(cell.inputs.WR_EN, w * m.width, m.width);
      const data = this.fetch(slice(cell.inputs.WR_DATA, w * m.width, m.width));
      const { index, inRange } = this.address(slice(cell.inputs.WR_ADDR, w * m.abits, m.abits), m.offset, m.size);
      const single = singleBit(enSig);
      if (single) {
        const e = this.fetch({ width: 1, chunks: [single] })[0];
        const row = `${m.base} + ${index} * ${nw}`;
        this.emit(`if (${e} !== 0 && ${inRange}) { const r = ${row}; ${data.map((d, i) => `S[r + ${i}] = ${d};`).join(" ")} ${onWrite} }`);
        continue;
      }
      const en = this.fetch(enSig);
      const writes = en.map((e, i) => `S[r + ${i}] = (S[r + ${i}] & ~${e}) | (${data[i]} & ${e});`).join(" ");
      this.emit(`if (${inRange}) { const r = ${m.base} + ${index} * ${nw}; ${writes} ${onWrite} }`);
    }
  }
}

/** Flag bit of block k within its word (as an int32). */
function flagBit(k: number): number {
  return (1 << (k & 31)) | 0;
}

/** The flag bits of word `w` when `blocks` blocks are numbered from 0. */
function wordMask(blocks: number, w: number): number {
  const inWord = Math.min(32, blocks - 32 * w);
  return inWord >= 32 ? -1 : (2 ** inWord - 1) | 0;
}

/** Flags as [word, bits] pairs, one pair per word, words ascending. */
function markPairs(flags: Iterable<number>): number[] {
  const words = new Map<number, number>();
  for (const f of flags) words.set(f >>> 5, (words.get(f >>> 5) ?? 0) | flagBit(f));
  return [...words].sort((a, b) => a[0] - b[0]).flat();
}

/** The sub-value of `sig` from bit `lsb`, `width` bits wide. */
function slice(sig: Sig, lsb: number, width: number): Sig {
  const chunks: Chunk[] = [];
  let pos = 0;
  for (const c of sig.chunks) {
    const from = Math.max(lsb, pos), to = Math.min(lsb + width, pos + c.width);
    if (from < to) {
      if (isConst(c)) chunks.push({ bits: c.bits.slice(from - pos, to - pos), width: to - from });
      else chunks.push({ net: c.net, lsb: c.lsb + from - pos, width: to - from });
    }
    pos += c.width;
  }
  return { width, chunks };
}

function constSig(bits: string): Sig {
  const clean = bits.replace(/[^1]/g, "0");
  return { width: clean.length, chunks: [{ bits: clean, width: clean.length }] };
}

/** When every bit of `sig` is one and the same net bit, that bit. */
function singleBit(sig: Sig): Chunk | null {
  const first = sig.chunks[0];
  if (!first || isConst(first) || first.width !== 1) return null;
  for (const c of sig.chunks) {
    if (isConst(c) || c.width !== 1 || c.net !== first.net || c.lsb !== first.lsb) return null;
  }
  return first;
}

/** Fewest comparisons with constants of one value that the activity code evaluates as a decoder. */
export const DECODER_MIN_TAPS = 3;

/** A 1-bit comparison of a value with a constant: which value (as its fetched int32) sets Y to `active`. */
interface DecoderTap {
  cell: Cell;
  match: number;
  /** Y when the value equals `match` (1 for $eq, 0 for $ne); the other value otherwise. */
  active: 0 | 1;
}

/** Comparisons of one value (at most 32 bits) with distinct constants: `sweep == 0`, `sweep == 1`, ... */
interface Decoder {
  value: Sig;
  taps: DecoderTap[];
}

/**
 * The decoders among a block's cells: $eq/$ne cells with a 1-bit result comparing the same value
 * of at most 32 bits with a constant, at least DECODER_MIN_TAPS of them. A comparison that can
 * never hold (the constant has bits the value's extension cannot produce) stays a plain cell.
 */
export function findDecoders(cells: readonly Cell[]): Map<Cell, Decoder> {
  const groups = new Map<string, Decoder>();
  for (const cell of cells) {
    const tap = decoderTap(cell);
    if (!tap) continue;
    const key = sigKey(tap.value);
    const group = groups.get(key);
    if (group) group.taps.push(tap.tap);
    else groups.set(key, { value: tap.value, taps: [tap.tap] });
  }
  const result = new Map<Cell, Decoder>();
  for (const group of groups.values()) {
    if (group.taps.length < DECODER_MIN_TAPS) continue;
    for (const tap of group.taps) result.set(tap.cell, group);
  }
  return result;
}

function decoderTap(cell: Cell): { value: Sig; tap: DecoderTap } | null {
  if (cell.type !== "$eq" && cell.type !== "$ne") return null;
  if (cell.outputs.Y.width !== 1) return null;
  const A = cell.inputs.A, B = cell.inputs.B;
  const aConst = A.chunks.every(isConst), bConst = B.chunks.every(isConst);
  if (aConst === bConst) return null;
  const value = aConst ? B : A;
  const constant = aConst ? A : B;
  if (value.width < 1 || value.width > 32) return null;
  const signed = paramBool(cell.raw, "A_SIGNED") && paramBool(cell.raw, "B_SIGNED");
  const width = Math.max(A.width, B.width);
  const wide = extendBits(constBits(constant), constant.width, width, signed);
  const match = wide & ((1n << BigInt(value.width)) - 1n);
  if (extendBits(match, value.width, width, signed) !== wide) return null;
  return { value, tap: { cell, match: Number(BigInt.asIntN(32, match)), active: cell.type === "$eq" ? 1 : 0 } };
}

/** A constant sig's bits as an unsigned bigint (x and z read as 0, as everywhere in the engine). */
function constBits(sig: Sig): bigint {
  let v = 0n;
  let pos = 0n;
  for (const c of sig.chunks) {
    const bits = (c as { bits: string }).bits;
    for (let i = 0; i < c.width; i++) if (bits[i] === "1") v |= 1n << (pos + BigInt(i));
    pos += BigInt(c.width);
  }
  return v;
}

/** `v` (`from` bits) zero- or sign-extended to `to` bits. */
function extendBits(v: bigint, from: number, to: number, signed: boolean): bigint {
  if (!signed || from >= to || ((v >> BigInt(from - 1)) & 1n) === 0n) return v;
  return v | (((1n << BigInt(to - from)) - 1n) << BigInt(from));
}

/** A sig as text: equal texts read the same bits. */
function sigKey(sig: Sig): string {
  return sig.chunks.map((c) => (isConst(c) ? `'${c.bits}` : `${c.net.id}:${c.lsb}:${c.width}`)).join(",");
}

/**
 * A block function's lines with each state word that it reads more than once, and that nothing in
 * it writes, read once into a local at the top (unoptimised code pays an inline-cache lookup per
 * read). Written are: `written` (the block's outputs), words from `scratchStart` on (scratch
 * allocated for the block, which helpers write), and every word the lines assign.
 */
function hoistReads(lines: string[], written: Set<number>, scratchStart: number): string[] {
  const body = lines.slice(1).join("\n");
  for (const m of body.matchAll(/S\[(\d+)\]\s*(?:=(?!=)|[&|^+-]=)/g)) written.add(Number(m[1]));
  const reads = new Map<number, number>();
  for (const m of body.matchAll(/S\[(\d+)\]/g)) {
    const o = Number(m[1]);
    if (!written.has(o) && o < scratchStart) reads.set(o, (reads.get(o) ?? 0) + 1);
  }
  const hoisted = [...reads].filter(([, n]) => n > 1).map(([o]) => o);
  if (hoisted.length === 0) return lines;
  const set = new Set(hoisted);
  const rewritten = lines.slice(1).map((line) => line.replace(/S\[(\d+)\]/g, (whole, o: string) => (set.has(Number(o)) ? `r${o}` : whole)));
  return [lines[0], hoisted.map((o) => `const r${o} = S[${o}];`).join(" "), ...rewritten];
}
