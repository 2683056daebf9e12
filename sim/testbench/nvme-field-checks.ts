// Shared checks for the NVMe field tables' tests: where a field sits as "offset.bit" text, and
// whether two fields of a table overlap without one being a part of the other.
import type { NvmeField } from "../../rtl-src/nvme/nvme-field.ts";

/** Absolute bit range of a field in its structure. */
function range(f: NvmeField): [number, number] {
  return [8 * f.offset + f.lsb, 8 * f.offset + f.msb];
}

/** Pairs of fields that share bits although neither contains the other. */
export function overlaps(table: Record<string, NvmeField>): string[] {
  const entries = Object.entries(table);
  const found: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [a0, a1] = range(entries[i][1]);
      const [b0, b1] = range(entries[j][1]);
      const disjoint = a1 < b0 || b1 < a0;
      const nested = (a0 <= b0 && b1 <= a1) || (b0 <= a0 && a1 <= b1);
      if (!disjoint && !nested) found.push(`${entries[i][0]} / ${entries[j][0]}`);
    }
  }
  return found;
}

/** "byte 77", "byte 12 bits 31:17" (bits of the unit at that byte). */
export function where(f: NvmeField): string {
  return f.lsb === 0 && f.width === 8 * f.size ? `byte ${f.offset} size ${f.size}` : `byte ${f.offset} bits ${f.msb}:${f.lsb}`;
}
