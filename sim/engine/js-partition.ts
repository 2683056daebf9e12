// Partitions a netlist's combinational cells into the blocks the js engine's activity
// evaluation skips or runs as a whole (js-compiler.ts): each block has one flag, set when a
// net it reads from outside changes.
//
// 1. Cells that read exactly the same nets form one block: when it wakes, every cell in it has
//    a changed input (e.g. the 32 comparisons `sweep == k` of a tag scanner are one block, so
//    the per-tag logic behind them wakes only for the two comparisons whose result changed).
// 2. A cell left alone by (1) whose every combinational reader sits in one block joins that
//    block (up to MERGED_BLOCK_CELLS cells): chains of small cells then cost one flag test and
//    no comparisons between them, at the price of running them when the block wakes for
//    another input.
// 3. Blocks are ordered so that each comes after every block it reads from.
//
// The block graph stays acyclic. After (1): if blocks G1 -> G2 -> ... -> G1 read each other,
// since every member of a block reads what any member reads, their cells would form a loop.
// Each merge in (2) moves a cell P into the block B holding all of P's readers; a cycle through
// the merged block would need a path from B back to P, which with P -> B was a cycle before.
import { type Cell, NetlistError, type Sig, isConst } from "./netlist.ts";

/** Most cells a block grows to by merging lone cells into their readers' block. */
export const MERGED_BLOCK_CELLS = 12;

export interface CombGraph {
  /** Combinational cells in a topological order (producers first). */
  order: Cell[];
  /** The values a cell reads (a memory's read addresses; its contents come from its write ports). */
  inputsOf(cell: Cell): Sig[];
  /** The cell that drives each combinational net. */
  producer: Map<number, Cell>;
}

export function partitionComb(graph: CombGraph): Cell[][] {
  const { order, inputsOf, producer } = graph;
  const position = new Map<Cell, number>();
  order.forEach((cell, i) => position.set(cell, i));

  // (1) Same inputs, same block.
  const byKey = new Map<string, Cell[]>();
  for (const cell of order) {
    const key = `${netIds(inputsOf(cell)).join(",")}|${cell.type === "$mem_v2" ? cell.name : ""}`;
    const block = byKey.get(key);
    if (block) block.push(cell);
    else byKey.set(key, [cell]);
  }
  const blockOf = new Map<Cell, Cell[]>();
  for (const block of byKey.values()) for (const cell of block) blockOf.set(cell, block);

  // (2) A lone cell joins the one block that reads it; readers first, so chains collapse.
  const combReaders = new Map<Cell, Set<Cell>>();
  for (const cell of order) {
    for (const id of netIds(inputsOf(cell))) {
      const p = producer.get(id);
      if (!p) continue;
      let set = combReaders.get(p);
      if (!set) combReaders.set(p, (set = new Set()));
      set.add(cell);
    }
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const cell = order[i];
    const own = blockOf.get(cell)!;
    if (own.length !== 1) continue;
    const readers = combReaders.get(cell);
    if (!readers || readers.size === 0) continue;
    let target: Cell[] | null = null;
    for (const r of readers) {
      const b = blockOf.get(r)!;
      if (target === null) target = b;
      else if (target !== b) {
        target = null;
        break;
      }
    }
    if (target === null || target === own || target.length >= MERGED_BLOCK_CELLS) continue;
    target.push(cell);
    blockOf.set(cell, target);
    own.length = 0;
  }

  // (3) Blocks in dependency order, cells inside each in the topological order.
  const blocks: Cell[][] = [];
  const state = new Map<Cell[], 1 | 2>();
  const visit = (block: Cell[]) => {
    const s = state.get(block);
    if (s === 2) return;
    if (s === 1) throw new NetlistError(`internal: activity blocks form a loop (at ${block[0].name})`);
    state.set(block, 1);
    for (const cell of block) {
      for (const id of netIds(inputsOf(cell))) {
        const p = producer.get(id);
        if (!p) continue;
        const b = blockOf.get(p)!;
        if (b !== block) visit(b);
      }
    }
    state.set(block, 2);
    block.sort((a, b) => position.get(a)! - position.get(b)!);
    blocks.push(block);
  };
  for (const cell of order) visit(blockOf.get(cell)!);
  return blocks;
}

/** Items grouped by the set of nets they read (flip-flops of the edge). */
export function groupBySameInputs(cells: Cell[], inputsOf: (cell: Cell) => Sig[]): Cell[][] {
  const byKey = new Map<string, Cell[]>();
  for (const cell of cells) {
    const key = netIds(inputsOf(cell)).join(",");
    const group = byKey.get(key);
    if (group) group.push(cell);
    else byKey.set(key, [cell]);
  }
  return [...byKey.values()];
}

/** Ids of the nets some values read, ascending, each once. */
function netIds(sigs: Sig[]): number[] {
  const ids = new Set<number>();
  for (const sig of sigs) for (const c of sig.chunks) if (!isConst(c)) ids.add(c.net.id);
  return [...ids].sort((a, b) => a - b);
}
