// How the NVMe tables of this directory place a field: a little-endian unit of `size` bytes at byte
// `offset` (of a queue entry, an Identify page, or BAR0 for a register), and bits [msb:lsb] of it.
// A whole unit is lsb 0, width 8 * size; a string or a byte array is a unit of any size.
//
// Plain data and byte helpers, no dependency on the DSL: the SSD model (sim/nvme), the reference
// driver (sim/host) and the hardware that will parse these structures on the fly all read the same
// entries. `firstByte`/`bitInFirstByte` say where a field starts in the byte stream.

export interface NvmeField {
  readonly offset: number;
  readonly size: number;
  readonly msb: number;
  readonly lsb: number;
  readonly width: number;
}

/** A whole little-endian unit (`size` bytes at `offset`). */
export function unit(offset: number, size: number): NvmeField {
  return { offset, size, msb: 8 * size - 1, lsb: 0, width: 8 * size };
}

/** Bits [msb:lsb] of the little-endian unit of `size` bytes at `offset`. */
export function bits(offset: number, size: number, msb: number, lsb: number): NvmeField {
  if (msb < lsb || msb >= 8 * size) throw new RangeError(`bits [${msb}:${lsb}] do not fit ${size} bytes`);
  return { offset, size, msb, lsb, width: msb - lsb + 1 };
}

/** The byte of the structure holding the field's bit 0. */
export function firstByte(f: NvmeField): number {
  return f.offset + (f.lsb >> 3);
}

export function bitInFirstByte(f: NvmeField): number {
  return f.lsb & 7;
}

function mask(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

/** The field out of its unit's value. */
export function getBits(unitValue: bigint, f: NvmeField): bigint {
  return (unitValue >> BigInt(f.lsb)) & mask(f.width);
}

/** The unit's value with the field replaced by `value` (cut to the field's width). */
export function setBits(unitValue: bigint, f: NvmeField, value: bigint | number): bigint {
  const m = mask(f.width) << BigInt(f.lsb);
  return (unitValue & ~m) | ((BigInt(value) << BigInt(f.lsb)) & m);
}

/** getBits for a unit of at most 4 bytes, as numbers. */
export function getBits32(unitValue: number, f: NvmeField): number {
  if (f.size > 4) throw new RangeError("getBits32: the unit is wider than 32 bits");
  return f.width === 32 ? unitValue >>> 0 : (unitValue >>> f.lsb) & ((1 << f.width) - 1);
}

/** setBits for a unit of at most 4 bytes, as numbers. */
export function setBits32(unitValue: number, f: NvmeField, value: number): number {
  if (f.size > 4) throw new RangeError("setBits32: the unit is wider than 32 bits");
  if (f.width === 32) return value >>> 0;
  const m = ((1 << f.width) - 1) << f.lsb;
  return ((unitValue & ~m) | ((value << f.lsb) & m)) >>> 0;
}

function readUnit(bytes: Uint8Array, f: NvmeField): bigint {
  let value = 0n;
  for (let i = f.size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[f.offset + i]);
  return value;
}

function writeUnit(bytes: Uint8Array, f: NvmeField, value: bigint): void {
  for (let i = 0; i < f.size; i++) bytes[f.offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

/** A field of a structure in bytes, as a bigint (any width). */
export function readFieldBig(bytes: Uint8Array, f: NvmeField): bigint {
  return getBits(readUnit(bytes, f), f);
}

/** A field of at most 32 bits, as a number. */
export function readField(bytes: Uint8Array, f: NvmeField): number {
  if (f.width > 32) throw new RangeError(`readField: ${f.width} bits; use readFieldBig`);
  if (f.size <= 4) {
    let value = 0;
    for (let i = f.size - 1; i >= 0; i--) value = value * 256 + bytes[f.offset + i];
    return getBits32(value >>> 0, f);
  }
  return Number(readFieldBig(bytes, f));
}

/** Writes a field into a structure in bytes, keeping the other bits of its unit. */
export function writeField(bytes: Uint8Array, f: NvmeField, value: bigint | number): void {
  writeUnit(bytes, f, setBits(readUnit(bytes, f), f, value));
}
