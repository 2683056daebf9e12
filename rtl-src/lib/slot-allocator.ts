// Inline logic for io_engine's command slots; builds no module.
//
// The lowest free slot of a bitmap, offered from registers, in two registered stages so that no
// path from the bitmap to the offer is wider than a group: first the lowest free slot of each
// group of GROUP_SIZE (lowestSet inside the group, a few LUTs), then the lowest group with one (a
// second lowestSet over the groups' flags, and a choice among their indexes). One lowestSet over
// 32 or 64 flags is seven logic levels (LUT6, MUXF7, MUXF8 twice, then a LUT); each stage here is
// at most four.
//
// The offer lags the bitmap by two cycles. A slot taken is still offered for up to two cycles, so
// the user of the offer must not take another slot within two cycles of taking one; a slot freed
// is offered two cycles later.
import { C, type Module, type Value, cat, mux } from "../../hdl/index.ts";
import { lowestSet } from "./lowest-set.ts";

/** Flags per first-stage group. */
const GROUP_SIZE = 8;

export interface SlotOffer {
  /** 1 when some slot was free two cycles ago (a register). */
  available: Value;
  /** The lowest slot free two cycles ago (a register). */
  index: Value;
}

/**
 * Registers named `<name>_*` offering the lowest index whose `free` flag is set; `free.length` must
 * be a power of two (pad with constant 0).
 */
export function slotOffer(m: Module, free: readonly Value[], name: string): SlotOffer {
  const count = free.length;
  if (count < 1 || (count & (count - 1)) !== 0) throw new RangeError(`slotOffer ${name}: ${count} flags is not a power of two`);
  const indexBits = Math.max(1, Math.log2(count));
  const available = m.signal(1, { name: `${name}_available` });
  const index = m.signal(indexBits, { name: `${name}_index`, resetless: true });
  if (count <= GROUP_SIZE) {
    // One stage of logic, registered twice so the lag is the same for every size.
    const lowest = lowestSet(free);
    const stage_found = m.signal(1, { name: `${name}_found` });
    const stage_index = m.signal(indexBits, { name: `${name}_lowest`, resetless: true });
    m.sync(stage_found, lowest.found);
    m.sync(stage_index, lowest.index);
    m.sync(available, stage_found);
    m.sync(index, stage_index);
    return { available, index };
  }
  const groups = count / GROUP_SIZE;
  const groupBits = Math.log2(GROUP_SIZE);
  const found: Value[] = [];
  const lowIndexes: Value[] = [];
  for (let g = 0; g < groups; g++) {
    const lowest = lowestSet(free.slice(g * GROUP_SIZE, (g + 1) * GROUP_SIZE));
    const group_found = m.signal(1, { name: `${name}_found_${g}` });
    const group_index = m.signal(groupBits, { name: `${name}_lowest_${g}`, resetless: true });
    m.sync(group_found, lowest.found);
    m.sync(group_index, lowest.index);
    found.push(group_found);
    lowIndexes.push(group_index);
  }
  const group = lowestSet(found);
  let low: Value = C(0, groupBits);
  group.grant.forEach((granted, g) => {
    low = low.or(mux(granted, lowIndexes[g], C(0, groupBits)));
  });
  m.sync(available, group.found);
  m.sync(index, cat(group.index, low));
  return { available, index };
}
