// Memory request shape for an arbitrary byte range inside one DW-aligned window: the DW-aligned start
// address, length in DW and First/Last DW Byte Enables (facts digest §B.3, §B.5).

export interface DwWindow {
  dwAddress: bigint;
  lengthDw: number;
  firstBe: number;
  lastBe: number;
  /** Byte offset of the first requested byte inside the first DW. */
  lead: number;
}

export function dwWindow(address: bigint, length: number): DwWindow {
  const lead = Number(address & 3n);
  const total = lead + length;
  const lengthDw = Math.ceil(total / 4);
  const trailBytes = total % 4 === 0 ? 4 : total % 4;
  const lastMask = (1 << trailBytes) - 1;
  const firstMask = (0xf << lead) & 0xf;
  if (lengthDw === 1) return { dwAddress: address - BigInt(lead), lengthDw, firstBe: firstMask & lastMask, lastBe: 0, lead };
  return { dwAddress: address - BigInt(lead), lengthDw, firstBe: firstMask, lastBe: lastMask, lead };
}

/** End (exclusive) of the piece starting at `address` that stays inside one `granule`-aligned block. */
export function pieceEnd(address: bigint, end: bigint, granule: number): bigint {
  const g = BigInt(granule);
  const boundary = (address / g + 1n) * g;
  return boundary < end ? boundary : end;
}
