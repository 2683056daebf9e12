// Inline logic; builds no module.
//
// A structure laid out by one of the NVMe field tables (rtl-src/nvme/nvme-field.ts: a queue entry,
// a Dataset Management range, a PRP entry) built from values, as the 32-bit words the SSD reads:
// each field's value placed at its unit and bits, the rest zero. The words no field touches are
// reported as such, so a builder can rely on them being constant zero (and say so at build time).
import { C, type Module, type Signal, type Value, cat } from "../../hdl/index.ts";
import type { NvmeField } from "../nvme/nvme-field.ts";

export interface PlacedField {
  field: NvmeField;
  value: Value;
}

/**
 * DW i of a `bytes`-long structure holding `fields` (each zero-extended into its bits), or
 * undefined where no field lies. Fields must be made of whole DWs (units of 4 or 8 bytes at DW
 * offsets); fields sharing a DW are ORed, so they must not overlap.
 */
export function structureDws(bytes: number, fields: readonly PlacedField[]): (Value | undefined)[] {
  if (!Number.isInteger(bytes) || bytes < 4 || bytes % 4 !== 0) throw new RangeError(`structureDws: ${bytes} bytes is not a whole number of DWs`);
  const dws: (Value | undefined)[] = Array.from({ length: bytes / 4 }, () => undefined);
  for (const { field, value } of fields) {
    if (field.offset % 4 !== 0 || field.size % 4 !== 0) throw new RangeError(`structureDws: field at byte ${field.offset} (${field.size} bytes) is not made of whole DWs`);
    if (field.offset + field.size > bytes) throw new RangeError(`structureDws: field at byte ${field.offset} (${field.size} bytes) lies past the ${bytes}-byte structure`);
    if (value.width > field.width) throw new RangeError(`structureDws: field at byte ${field.offset}: ${value.width} bits do not fit its ${field.width}`);
    const unitBits = 8 * field.size;
    const placed = field.lsb === 0 ? value.zext(unitBits) : cat(value.zext(unitBits - field.lsb), C(0, field.lsb));
    for (let k = 0; k < field.size / 4; k++) {
      const index = field.offset / 4 + k;
      const part = placed.bits(32 * k + 31, 32 * k);
      dws[index] = dws[index] === undefined ? part : dws[index]!.or(part);
    }
  }
  return dws;
}

/**
 * A 32-bit comb signal `name` in `m`: DW `index` of `dws` (a power-of-two count; undefined words
 * read zero), as one case statement on the index.
 */
export function selectDw(m: Module, index: Value, dws: readonly (Value | undefined)[], name: string): Signal {
  if (dws.length !== 2 ** index.width) throw new RangeError(`selectDw: ${dws.length} words for a ${index.width}-bit index`);
  const dw = m.signal(32, { name });
  m.Switch(index, (s) => {
    dws.forEach((value, i) => {
      if (value !== undefined) s.Case(i, () => m.comb(dw, value));
    });
  });
  return dw;
}
