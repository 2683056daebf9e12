// Inline logic for tlp_rx; builds no module.
//
// Byte Count and Lower Address of the Unsupported Request completion the receive parser queues for
// a non-posted request it does not serve. PROTOCOL_FACTS §B.5: fill them as the first successful
// completion would carry them — for a (locked) memory read, the bytes the request asks for and the
// address of its first enabled byte; for IO and configuration requests Byte Count 4, Lower Address 0.
import { C, type Value, cat, mux } from "../../hdl/index.ts";

export interface UnsupportedRequestFields {
  byteCount: Value;
  lowerAddress: Value;
}

/** Bytes a 1-DW read asks for, by First BE (§B.5: 1xx1 → 4, 01x1/1x10 → 3, 0011/0110/1100 → 2, else 1). */
function singleDwBytes(firstBe: Value): Value {
  const table = Array.from({ length: 16 }, (_, be) => {
    if ((be & 0b1001) === 0b1001) return 4;
    if ((be & 0b1101) === 0b0101 || (be & 0b1011) === 0b1010) return 3;
    if (be === 0b0011 || be === 0b0110 || be === 0b1100) return 2;
    return 1;
  });
  let bytes: Value = C(table[0], 3);
  for (let be = 1; be < 16; be++) bytes = mux(firstBe.eq(be), C(table[be], 3), bytes);
  return bytes;
}

/** Disabled bytes before the first enabled one (First BE xxx1 → 0, xx10 → 1, x100 → 2, 1000 → 3; 0000 → 0). */
function leadingDisabled(firstBe: Value): Value {
  return mux(firstBe.bit(0), C(0, 2), mux(firstBe.bit(1), C(1, 2), mux(firstBe.bit(2), C(2, 2), mux(firstBe.bit(3), C(3, 2), C(0, 2)))));
}

/** Disabled bytes after the last enabled one (Last BE 1xxx → 0, 01xx → 1, 001x → 2, 0001 → 3). */
function trailingDisabled(lastBe: Value): Value {
  return mux(lastBe.bit(3), C(0, 2), mux(lastBe.bit(2), C(1, 2), mux(lastBe.bit(1), C(2, 2), C(3, 2))));
}

/**
 * `lengthDw` is the decoded length (1..1024, 11 bits), `addressLow` the request's address bits [6:2].
 * Byte Count is 12 bits, where 4096 wraps to 0 exactly as the field encodes it.
 */
export function unsupportedRequestFields(
  isMemoryRead: Value,
  lengthDw: Value,
  firstBe: Value,
  lastBe: Value,
  addressLow: Value,
): UnsupportedRequestFields {
  const lead = leadingDisabled(firstBe);
  const multiDwBytes = cat(lengthDw, C(0, 2))
    .subWrap(lead.zext(13))
    .subWrap(trailingDisabled(lastBe).zext(13))
    .trunc(12);
  const readBytes = mux(lengthDw.eq(1), singleDwBytes(firstBe).zext(12), multiDwBytes);
  return {
    byteCount: mux(isMemoryRead, readBytes, C(4, 12)),
    lowerAddress: mux(isMemoryRead, cat(addressLow, lead), C(0, 7)),
  };
}

/**
 * Byte Count of a memory read split in two steps, for a parser that sees the byte enables a cycle
 * before it must have the Byte Count: 4·Length − k, where k (0..6) is the disabled bytes at both
 * ends (for a 1-DW read, 4 minus `singleDwBytes`). With k = 4·q − r (r = −k mod 4), the result is
 * {Length − q, r}: the first step (`readByteCountTerms`, byte enables only) gives q (0..2) and r,
 * the second (`readByteCount`) one 10-bit subtraction. Length 1024 is Length field 0: (0 − q) mod
 * 1024 gives the same low 10 bits, and 4096 wraps to 0 exactly as the field encodes it.
 */
export interface ReadByteCountTerms {
  /** ceil(k / 4): whole DWs the disabled bytes take off (0..2). */
  dwBorrow: Value;
  /** −k mod 4: the Byte Count's bits [1:0]. */
  lowBits: Value;
}

export function readByteCountTerms(lengthIsOne: Value, firstBe: Value, lastBe: Value): ReadByteCountTerms {
  const single = singleDwBytes(firstBe);
  // k = 4 − bytes: borrow 1 unless all 4 bytes, low bits = bytes mod 4.
  const singleBorrow = mux(single.eq(4), C(0, 2), C(1, 2));
  const singleLow = single.bits(1, 0);
  // k = lead + trail (each 0..3), written as logic of their bits rather than an adder: the carry
  // chain an adder maps to put four more logic levels between the header beat and the register
  // (nvme_array_core's receive side came out at 8).
  const lead = leadingDisabled(firstBe);
  const trail = trailingDisabled(lastBe);
  const leadIs = (n: number) => lead.eq(n);
  const trailIs = (n: number) => trail.eq(n);
  /** k > 4: 2+3, 3+2 or 3+3. */
  const kOver4 = leadIs(3).and(trail.bit(1)).or(leadIs(2).and(trailIs(3)));
  const kZero = leadIs(0).and(trailIs(0));
  const multiBorrow = cat(kOver4, kOver4.not().and(kZero.not()));
  // −k mod 4 = {k1 ^ k0, k0}, with k0 = lead0 ^ trail0 and k1 = lead1 ^ trail1 ^ (lead0 & trail0).
  const k0 = lead.bit(0).xor(trail.bit(0));
  const k1 = lead.bit(1).xor(trail.bit(1)).xor(lead.bit(0).and(trail.bit(0)));
  const multiLow = cat(k1.xor(k0), k0);
  return { dwBorrow: mux(lengthIsOne, singleBorrow, multiBorrow), lowBits: mux(lengthIsOne, singleLow, multiLow) };
}

/** `lengthField` is the request's 10-bit Length field (0 = 1024 DWs); returns the 12-bit Byte Count. */
export function readByteCount(lengthField: Value, terms: ReadByteCountTerms): Value {
  return cat(lengthField.subWrap(terms.dwBorrow.zext(10)), terms.lowBits);
}
