// Inline logic for tlp_tag_allocator; builds no module.
//
// The lowest-numbered tag whose flag is set, both as a one-hot grant (to update per-tag state
// without decoding an index again) and as an index (to hand out). Built as a tree of four-way
// choices, each node picking its lowest child with a flag set: depth log4 of the tag count, which
// synthesis packs into a few wide LUT levels, where a tree of 2:1 choices mapped into a chain of
// LUT + MUXF7 + MUXF8 per level.
import { C, type Value, cat, mux } from "../../hdl/index.ts";

export interface LowestSet {
  /** 1 when any flag is set. */
  found: Value;
  /** `grant[i]` is 1 when flag i is the lowest set one. */
  grant: Value[];
  /** Index of the lowest set flag (0 when none is); log2(flags.length) bits, at least 1. */
  index: Value;
}

/** `flags[i]` is tag i's 1-bit flag; the count must be a power of two. */
export function lowestSet(flags: readonly Value[]): LowestSet {
  const count = flags.length;
  if (count < 1 || (count & (count - 1)) !== 0) throw new RangeError(`lowestSet: ${count} flags is not a power of two`);
  if (count === 1) return { found: flags[0], grant: [flags[0]], index: C(0, 1) };
  if (count === 2) return { found: flags[0].or(flags[1]), grant: [flags[0], flags[1].and(flags[0].not())], index: flags[0].not() };
  const quarter = count / 4;
  const children = [0, 1, 2, 3].map((q) => lowestSet(flags.slice(q * quarter, (q + 1) * quarter)));
  const [f0, f1, f2] = children.map((c) => c.found);
  const noneBefore = [C(1, 1), f0.not(), f0.or(f1).not(), cat(f0, f1, f2).any().not()];
  const grant = children.flatMap((child, q) => (q === 0 ? child.grant : child.grant.map((g) => g.and(noneBefore[q]))));
  const which = cat(f0.or(f1).not(), f0.not().and(f1.or(f2.not())));
  const index =
    quarter === 1 ? which : cat(which, mux(f0, children[0].index, mux(f1, children[1].index, mux(f2, children[2].index, children[3].index))));
  return { found: cat(...children.map((c) => c.found)).any(), grant, index };
}
