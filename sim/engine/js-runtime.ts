// Multi-word helpers called by compiled JS models for the operations too long to
// inline (wide shifts, multiplication, division). Values live in an Int32Array as
// little-endian 32-bit words; the bits above a value's width are kept zero.
// Nothing here allocates once the scratch arrays have grown to the design's widest value.

let limbsA = new Float64Array(64);
let limbsB = new Float64Array(64);
let limbsY = new Float64Array(64);
let divTmp = new Int32Array(64);

function growScratch(words: number): void {
  if (limbsA.length >= words * 2 + 2) return;
  limbsA = new Float64Array(words * 2 + 2);
  limbsB = new Float64Array(words * 2 + 2);
  limbsY = new Float64Array(words * 2 + 2);
  divTmp = new Int32Array(words * 4 + 4);
}

/**
 * 32 bits of a value starting at bit `pos` (which may be negative or past the
 * end): bits below 0 read as 0, bits at or above `width` read as `fill` (0 or -1).
 */
export function bitsAt(S: Int32Array, off: number, width: number, pos: number, fill: number): number {
  if (pos >= width) return fill;
  if (pos <= -32) return 0;
  if (pos < 0) return (bitsAt(S, off, width, 0, fill) << -pos);
  const w = pos >>> 5;
  const b = pos & 31;
  const nw = (width + 31) >>> 5;
  const top = width & 31;
  // Words past the top read as fill; the top word's unused bits read as fill too.
  const lo = wordWithFill(S, off, nw, top, w, fill);
  if (b === 0) return lo;
  const hi = wordWithFill(S, off, nw, top, w + 1, fill);
  return (lo >>> b) | (hi << (32 - b));
}

function wordWithFill(S: Int32Array, off: number, nw: number, top: number, w: number, fill: number): number {
  if (w >= nw) return fill;
  const v = S[off + w];
  if (w === nw - 1 && top !== 0 && fill !== 0) return v | (-1 << top);
  return v;
}

/**
 * dst (dstWidth bits) = src shifted right by `amount` bits (left when negative),
 * reading `fill` above the source's width.
 */
export function shiftInto(
  S: Int32Array, dst: number, dstWidth: number,
  src: number, srcWidth: number, amount: number, fill: number,
): void {
  const nw = (dstWidth + 31) >>> 5;
  for (let k = 0; k < nw; k++) {
    S[dst + k] = bitsAt(S, src, srcWidth, k * 32 + amount, fill);
  }
  const top = dstWidth & 31;
  if (top !== 0) S[dst + nw - 1] &= (1 << top) - 1;
}

/** y = a * b modulo 2^(32 n); operands and result are n words each. */
export function mulInto(S: Int32Array, y: number, a: number, b: number, n: number): void {
  growScratch(n);
  const limbs = n * 2;
  for (let i = 0; i < n; i++) {
    limbsA[2 * i] = S[a + i] & 0xffff;
    limbsA[2 * i + 1] = S[a + i] >>> 16;
    limbsB[2 * i] = S[b + i] & 0xffff;
    limbsB[2 * i + 1] = S[b + i] >>> 16;
  }
  limbsY.fill(0, 0, limbs);
  for (let i = 0; i < limbs; i++) {
    const ai = limbsA[i];
    if (ai === 0) continue;
    let carry = 0;
    for (let j = 0; i + j < limbs; j++) {
      const t = limbsY[i + j] + ai * limbsB[j] + carry;
      const low = t % 65536;
      limbsY[i + j] = low;
      carry = (t - low) / 65536;
    }
  }
  for (let i = 0; i < n; i++) S[y + i] = limbsY[2 * i] | (limbsY[2 * i + 1] << 16);
}

function isNegative(S: Int32Array, x: number, n: number): boolean {
  return S[x + n - 1] < 0;
}

function negateInPlace(T: Int32Array, x: number, n: number): void {
  let carry = 1;
  for (let i = 0; i < n; i++) {
    const t = (~T[x + i] >>> 0) + carry;
    T[x + i] = t | 0;
    carry = t > 0xffffffff ? 1 : 0;
  }
}

/**
 * Signed or unsigned division of two n-word two's-complement values (the caller
 * extends both operands so that their signs sit in bit 32n-1). Quotient truncates
 * toward zero and the remainder takes the dividend's sign, as Verilog and Yosys
 * define them; division by zero gives 0, as Verilator does.
 */
export function divInto(S: Int32Array, y: number, a: number, b: number, n: number, signed: boolean, remainder: boolean): void {
  growScratch(n);
  const T = divTmp;
  const qa = 0, qb = n, rem = 2 * n, quo = 3 * n;
  let zero = true;
  for (let i = 0; i < n; i++) {
    T[qa + i] = S[a + i];
    T[qb + i] = S[b + i];
    if (S[b + i] !== 0) zero = false;
  }
  if (zero) {
    for (let i = 0; i < n; i++) S[y + i] = 0;
    return;
  }
  const negA = signed && isNegative(S, a, n);
  const negB = signed && isNegative(S, b, n);
  if (negA) negateInPlace(T, qa, n);
  if (negB) negateInPlace(T, qb, n);
  for (let i = 0; i < n; i++) {
    T[rem + i] = 0;
    T[quo + i] = 0;
  }
  for (let bit = n * 32 - 1; bit >= 0; bit--) {
    // rem = rem << 1 | a[bit]
    for (let i = n - 1; i > 0; i--) T[rem + i] = (T[rem + i] << 1) | (T[rem + i - 1] >>> 31);
    T[rem] = (T[rem] << 1) | ((T[qa + (bit >>> 5)] >>> (bit & 31)) & 1);
    if (unsignedGreaterOrEqual(T, rem, qb, n)) {
      let borrow = 0;
      for (let i = 0; i < n; i++) {
        const t = (T[rem + i] >>> 0) - (T[qb + i] >>> 0) - borrow;
        T[rem + i] = t | 0;
        borrow = t < 0 ? 1 : 0;
      }
      T[quo + (bit >>> 5)] |= 1 << (bit & 31);
    }
  }
  const out = remainder ? rem : quo;
  if (remainder ? negA : negA !== negB) negateInPlace(T, out, n);
  for (let i = 0; i < n; i++) S[y + i] = T[out + i];
}

function unsignedGreaterOrEqual(T: Int32Array, x: number, z: number, n: number): boolean {
  for (let i = n - 1; i >= 0; i--) {
    const xi = T[x + i] >>> 0, zi = T[z + i] >>> 0;
    if (xi !== zi) return xi > zi;
  }
  return true;
}

export const runtime = { bitsAt, shiftInto, mulInto, divInto };
export type Runtime = typeof runtime;
