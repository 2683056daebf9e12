// A value's shape: how many bits it has and whether they are read as two's complement.
import { HdlError } from "./errors.ts";
import type { CallSite } from "./location.ts";

export interface Shape {
  readonly width: number;
  readonly signed: boolean;
}

/** What DSL calls accept where a shape is expected: a bare number means that many unsigned bits. */
export type ShapeLike = number | Shape;

export function unsigned(width: number): Shape {
  return { width, signed: false };
}

export function signed(width: number): Shape {
  return { width, signed: true };
}

export function toShape(shape: ShapeLike, site: CallSite | undefined): Shape {
  const result = typeof shape === "number" ? unsigned(shape) : shape;
  if (!Number.isInteger(result.width) || result.width < 1) {
    throw new HdlError(`width must be a positive integer, got ${result.width}`, site);
  }
  return result;
}

export function describeShape(shape: Shape): string {
  return `${shape.width}-bit ${shape.signed ? "signed" : "unsigned"}`;
}

/** The bit pattern of `value` in `shape`, or an error if the value does not fit. */
export function encodeConstant(value: number | bigint, shape: Shape, site: CallSite | undefined): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new HdlError(`constant ${value} is not a safe integer; pass a bigint`, site);
  }
  const v = BigInt(value);
  const min = shape.signed ? -(1n << BigInt(shape.width - 1)) : 0n;
  const max = shape.signed ? (1n << BigInt(shape.width - 1)) - 1n : (1n << BigInt(shape.width)) - 1n;
  if (v < min || v > max) {
    throw new HdlError(`constant ${v} does not fit ${describeShape(shape)} (range ${min}..${max})`, site);
  }
  return v < 0n ? v + (1n << BigInt(shape.width)) : v;
}

/** Bits needed to hold the unsigned number `n` (at least 1). */
export function bitsFor(n: number | bigint): number {
  let v = BigInt(n);
  if (v < 0n) throw new Error(`bitsFor expects a non-negative number, got ${n}`);
  let bits = 1;
  while (v > 1n) {
    v >>= 1n;
    bits++;
  }
  return bits;
}

/** Address bits for `depth` entries: ceil(log2(depth)), at least 1. */
export function addressBits(depth: number): number {
  return depth <= 2 ? 1 : bitsFor(depth - 1);
}
