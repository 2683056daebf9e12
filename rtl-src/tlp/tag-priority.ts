// The lowest-numbered tag whose flag is set, as a balanced tree of 2:1 choices (depth log2 of the
// tag count, not a chain as long as the tag count): used to pick a free tag to hand out and an
// expired tag to reap.
import { C, type Value, cat, mux } from "../../hdl/index.ts";

export interface LowestSet {
  /** 1 when any flag is set. */
  found: Value;
  /** Index of the lowest set flag (0 when none is); log2(flags.length) bits, at least 1. */
  index: Value;
}

/** `flags[i]` is tag i's 1-bit flag; the count must be a power of two. */
export function lowestSet(flags: readonly Value[]): LowestSet {
  const count = flags.length;
  if (count < 1 || (count & (count - 1)) !== 0) throw new RangeError(`lowestSet: ${count} flags is not a power of two`);
  if (count === 1) return { found: flags[0], index: C(0, 1) };
  if (count === 2) return { found: flags[0].or(flags[1]), index: flags[0].not() };
  const low = lowestSet(flags.slice(0, count / 2));
  const high = lowestSet(flags.slice(count / 2));
  return {
    found: low.found.or(high.found),
    index: mux(low.found, cat(C(0, 1), low.index), cat(C(1, 1), high.index)),
  };
}
