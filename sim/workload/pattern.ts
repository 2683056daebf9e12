// Test data that is distinct per namespace, per block, per pass (each rewrite of a block) and per
// 64-bit word, and that says where it came from: every word is a bijective 64-bit mix of the packed
// tuple (word index, nsid, pass, lba), so a word found in the wrong place can be decoded back into
// the (nsid, lba, pass, word) it was written as. That turns "mismatch at byte 512" into "block 7
// arrived where block 8 belongs" or "this is pass 3's data: the rewrite never reached the media".
//
// Packing (64 bits, exactly invertible): word index in bits [12:0] (LBAs up to 64 KiB), nsid[4:0]
// in [17:13], pass[13:0] in [31:18], lba[31:0] in [63:32]. The parts that do not fit (lba >= 2^32,
// pass >= 2^14, nsid >= 32) are hashed into a 64-bit value XORed over the mix, so data stays
// distinct there too (with hash odds instead of a proof) and decodes when the high parts are guessed.
//
// Words are in memory order, as on the user port: word k holds bytes [8k, 8k+8) of the block,
// little-endian, the low 32 bits (`lo`) first.

/** Largest LBA size the packing covers: 8192 words of 8 bytes. */
export const MAX_PATTERN_LBA_BYTES = 65536;
const WORD_BITS = 13;
const NSID_BITS = 5;
const PASS_BITS = 14;
const WORD_MASK = (1 << WORD_BITS) - 1;
const NSID_MASK = (1 << NSID_BITS) - 1;
const PASS_MASK = (1 << PASS_BITS) - 1;
const NSID_SHIFT = WORD_BITS;
const PASS_SHIFT = WORD_BITS + NSID_BITS;
const TWO_32 = 4294967296;

/** Feistel round keys: any distinct constants; four rounds diffuse every input bit into every output bit. */
const K0 = 0x243f6a88;
const K1 = 0x85a308d3;
const K2 = 0x13198a2e;
const K3 = 0x03707344;

/** Murmur3's 32-bit finaliser: the Feistel round function (need not be invertible). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The 64-bit bijection: a four-round Feistel network over the two 32-bit halves; result in out[at], out[at+1]. */
function mix64(lo: number, hi: number, out: Uint32Array, at: number): void {
  let l = lo >>> 0;
  let r = hi >>> 0;
  let t = (l ^ fmix32((r + K0) >>> 0)) >>> 0;
  l = r;
  r = t;
  t = (l ^ fmix32((r + K1) >>> 0)) >>> 0;
  l = r;
  r = t;
  t = (l ^ fmix32((r + K2) >>> 0)) >>> 0;
  l = r;
  r = t;
  t = (l ^ fmix32((r + K3) >>> 0)) >>> 0;
  out[at] = r;
  out[at + 1] = t;
}

/** The inverse of mix64. */
function unmix64(lo: number, hi: number, out: Uint32Array, at: number): void {
  let l = lo >>> 0;
  let r = hi >>> 0;
  // Each round took (l, r) to (r, l ^ F(r)); undo them in reverse order.
  let t = (r ^ fmix32((l + K3) >>> 0)) >>> 0;
  r = l;
  l = t;
  t = (r ^ fmix32((l + K2) >>> 0)) >>> 0;
  r = l;
  l = t;
  t = (r ^ fmix32((l + K1) >>> 0)) >>> 0;
  r = l;
  l = t;
  t = (r ^ fmix32((l + K0) >>> 0)) >>> 0;
  r = l;
  l = t;
  out[at] = l;
  out[at + 1] = r;
}

const scratch = new Uint32Array(4);

/** The value XORed over blocks whose lba, pass or nsid do not fit the packing (0 when all fit). */
function overflowMask(nsid: number, lba: number, pass: number, out: Uint32Array, at: number): void {
  const lbaHigh = Math.floor(lba / TWO_32);
  const passHigh = Math.floor(pass / (PASS_MASK + 1));
  const nsidHigh = nsid >>> NSID_BITS;
  if (lbaHigh === 0 && passHigh === 0 && nsidHigh === 0) {
    out[at] = 0;
    out[at + 1] = 0;
    return;
  }
  mix64((lbaHigh ^ Math.imul(nsidHigh, 0x9e3779b1)) >>> 0, (passHigh ^ Math.imul(nsidHigh, 0x7feb352d) ^ 0x5bd1e995) >>> 0, out, at);
}

function checkTuple(nsid: number, lba: number, pass: number): void {
  if (!Number.isInteger(nsid) || nsid < 0 || nsid > 0xffffffff) throw new RangeError(`pattern: nsid ${nsid} is not an integer in 0..2^32-1`);
  if (!Number.isSafeInteger(lba) || lba < 0) throw new RangeError(`pattern: lba ${lba} is not a non-negative safe integer`);
  if (!Number.isSafeInteger(pass) || pass < 0) throw new RangeError(`pattern: pass ${pass} is not a non-negative safe integer`);
}

/** Throws unless `lbaBytes` is a multiple of 8 in 8..MAX_PATTERN_LBA_BYTES. */
export function checkPatternLbaBytes(lbaBytes: number): void {
  if (!Number.isInteger(lbaBytes) || lbaBytes < 8 || lbaBytes > MAX_PATTERN_LBA_BYTES || lbaBytes % 8 !== 0) {
    throw new RangeError(`pattern: lbaBytes ${lbaBytes} is not a multiple of 8 in 8..${MAX_PATTERN_LBA_BYTES}`);
  }
}

/**
 * One block's pattern with the per-block work done once: `word(w)` then costs one Feistel mix. For hot
 * loops (the user-port driver makes a word per beat).
 */
export class BlockPattern {
  nsid = 0;
  lba = 0;
  pass = 0;
  private baseLo = 0;
  private keyHi = 0;
  private readonly mask = new Uint32Array(2);

  /** Selects the block; returns this. */
  set(nsid: number, lba: number, pass: number): this {
    checkTuple(nsid, lba, pass);
    this.nsid = nsid;
    this.lba = lba;
    this.pass = pass;
    this.baseLo = (((nsid & NSID_MASK) << NSID_SHIFT) | ((pass & PASS_MASK) << PASS_SHIFT)) >>> 0;
    this.keyHi = lba >>> 0;
    overflowMask(nsid, lba, pass, this.mask, 0);
    return this;
  }

  /** Word `w` of the block (low half, then high half) into out[at], out[at + 1]. */
  word(w: number, out: Uint32Array, at: number): void {
    mix64((this.baseLo | w) >>> 0, this.keyHi, out, at);
    out[at] = (out[at] ^ this.mask[0]) >>> 0;
    out[at + 1] = (out[at + 1] ^ this.mask[1]) >>> 0;
  }
}

const sharedBlock = new BlockPattern();

/** Word `w` of block (nsid, lba, pass) into out[at] (low 32 bits) and out[at + 1] (high 32 bits). */
export function patternWord(nsid: number, lba: number, pass: number, w: number, out: Uint32Array, at = 0): void {
  if (!Number.isInteger(w) || w < 0 || w > WORD_MASK) throw new RangeError(`pattern: word index ${w} is not an integer in 0..${WORD_MASK}`);
  sharedBlock.set(nsid, lba, pass).word(w, out, at);
}

/** Word `w` of block (nsid, lba, pass) as a bigint (for messages and tests). */
export function patternWordBig(nsid: number, lba: number, pass: number, w: number): bigint {
  patternWord(nsid, lba, pass, w, scratch, 0);
  return (BigInt(scratch[1]) << 32n) | BigInt(scratch[0]);
}

/** Fills `lbaBytes / 4` 32-bit words of `out` from `at` with block (nsid, lba, pass). */
export function fillBlockWords(out: Uint32Array, at: number, nsid: number, lba: number, pass: number, lbaBytes: number): void {
  checkPatternLbaBytes(lbaBytes);
  if (at < 0 || at + lbaBytes / 4 > out.length) throw new RangeError(`fillBlockWords: ${lbaBytes / 4} words at ${at} do not fit ${out.length}`);
  const block = sharedBlock.set(nsid, lba, pass);
  for (let w = 0; w < lbaBytes / 8; w++) block.word(w, out, at + 2 * w);
}

/** Fills `lbaBytes` bytes of `out` from byte `at` with block (nsid, lba, pass), little-endian. */
export function fillBlockBytes(out: Uint8Array, at: number, nsid: number, lba: number, pass: number, lbaBytes: number): void {
  checkPatternLbaBytes(lbaBytes);
  if (at < 0 || at + lbaBytes > out.length) throw new RangeError(`fillBlockBytes: ${lbaBytes} bytes at ${at} do not fit ${out.length}`);
  const block = sharedBlock.set(nsid, lba, pass);
  for (let w = 0; w < lbaBytes / 8; w++) {
    block.word(w, scratch, 0);
    writeWord(out, at + 8 * w, scratch[0], scratch[1]);
  }
}

/** `count` consecutive blocks from `lba`, all of one pass, as bytes (what a write of them carries). */
export function patternBlocks(nsid: number, lba: number, count: number, pass: number, lbaBytes: number): Uint8Array {
  checkPatternLbaBytes(lbaBytes);
  const out = new Uint8Array(count * lbaBytes);
  for (let i = 0; i < count; i++) fillBlockBytes(out, i * lbaBytes, nsid, lba + i, pass, lbaBytes);
  return out;
}

/** Where a word came from: the pattern block and word it decodes to, or plain zeroes. */
export type WordOrigin = { kind: "pattern"; nsid: number; lba: number; pass: number; byteOffset: number } | { kind: "zeroes" };

/** What decoding may assume: the expected block (to guess the high parts) and limits that rule out chance decodes. */
export interface RecogniseContext {
  /** The block that was expected at this place: its lba, pass and nsid high parts are tried. */
  hint?: { nsid: number; lba: number; pass?: number };
  lbaBytes: number;
  /** Blocks of the namespace (a decoded lba must be below). */
  capacityBlocks?: number;
  /** Highest pass written so far (a decoded pass must not exceed it). */
  maxPass?: number;
  /** Namespace IDs in use (a decoded nsid must be one of them, compared on its low 5 bits). */
  nsids?: readonly number[];
}

const decode = new Uint32Array(4);

/**
 * Decodes a 64-bit word into the pattern block it belongs to, if it is plausibly one: the word index
 * inside the LBA size and within the context's limits. Random data passes these checks with odds of
 * about 2^-25 or less; a real pattern word passes them always. Zero is reported as zeroes.
 */
export function recognisePatternWord(lo: number, hi: number, context: RecogniseContext): WordOrigin | null {
  lo >>>= 0;
  hi >>>= 0;
  if (lo === 0 && hi === 0) return { kind: "zeroes" };
  const hint = context.hint;
  const candidates: { nsid: number; lba: number; pass: number }[] = [{ nsid: 0, lba: 0, pass: 0 }];
  if (hint) candidates.unshift({ nsid: hint.nsid, lba: hint.lba, pass: hint.pass ?? 0 });
  const words = context.lbaBytes / 8;
  for (const c of candidates) {
    overflowMask(c.nsid, c.lba, c.pass, decode, 2);
    unmix64(lo ^ decode[2], hi ^ decode[3], decode, 0);
    const w = decode[0] & WORD_MASK;
    const nsidLow = (decode[0] >>> NSID_SHIFT) & NSID_MASK;
    const passLow = decode[0] >>> PASS_SHIFT;
    const lba = Math.floor(c.lba / TWO_32) * TWO_32 + decode[1];
    const pass = Math.floor(c.pass / (PASS_MASK + 1)) * (PASS_MASK + 1) + passLow;
    const nsid = ((c.nsid >>> NSID_BITS) << NSID_BITS) + nsidLow;
    if (w >= words) continue;
    if (context.capacityBlocks !== undefined && lba >= context.capacityBlocks) continue;
    if (context.maxPass !== undefined && pass > context.maxPass) continue;
    if (context.nsids !== undefined ? !context.nsids.some((n) => (n & NSID_MASK) === nsidLow) : hint !== undefined && (hint.nsid & NSID_MASK) !== nsidLow) continue;
    // Without limits, demand the hinted neighbourhood so that random words are not "recognised".
    if (context.capacityBlocks === undefined && hint !== undefined && Math.abs(lba - hint.lba) > 1 << 20) continue;
    return { kind: "pattern", nsid, lba, pass, byteOffset: 8 * w };
  }
  return null;
}

/** What a block was expected to hold: a pattern pass, or zeroes. */
export type ExpectedBlock = number | "zeroes";

/** The first word of a block that differs from what was expected. */
export interface PatternMismatch {
  nsid: number;
  lba: number;
  /** Byte offset of the word inside the block. */
  byteOffset: number;
  expectedContent: ExpectedBlock;
  expected: bigint;
  got: bigint;
  /** Where the got word belongs, when it decodes to a plausible pattern block or is zero; null when unrecognisable. */
  gotOrigin: WordOrigin | null;
  /** Words of the block (or buffer) that differ, counting this one. */
  wrongWords: number;
}

/** One line for a mismatch: where, what was expected, what came, and whose data that is. */
export function describeMismatch(m: PatternMismatch): string {
  const hex = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;
  const want = m.expectedContent === "zeroes" ? "zeroes" : `pass ${m.expectedContent}`;
  const origin = describeOrigin(m.gotOrigin);
  return `ns ${m.nsid} lba ${m.lba} byte ${m.byteOffset}: expected ${hex(m.expected)} (${want}), got ${hex(m.got)} (${origin})` + (m.wrongWords > 1 ? `; ${m.wrongWords} words wrong` : "");
}

/** "zeroes", "ns 1 lba 7 pass 3 byte 16", or "not pattern data". */
export function describeOrigin(origin: WordOrigin | null): string {
  if (origin === null) return "not pattern data";
  if (origin.kind === "zeroes") return "zeroes";
  return `ns ${origin.nsid} lba ${origin.lba} pass ${origin.pass} byte ${origin.byteOffset}`;
}

/** Context for checks: limits for recognising misplaced data. */
export type CheckContext = Omit<RecogniseContext, "hint" | "lbaBytes">;

/**
 * Checks one block held as 32-bit words (`lbaBytes / 4` of them from `at`) against what it should be;
 * returns the first mismatch (with the count of wrong words) or null.
 */
export function checkBlockWords(words: Uint32Array, at: number, nsid: number, lba: number, expected: ExpectedBlock, lbaBytes: number, context: CheckContext = {}): PatternMismatch | null {
  checkPatternLbaBytes(lbaBytes);
  if (at < 0 || at + lbaBytes / 4 > words.length) throw new RangeError(`checkBlockWords: ${lbaBytes / 4} words at ${at} do not fit ${words.length}`);
  return checkBlock((w, out) => {
    out[0] = words[at + 2 * w];
    out[1] = words[at + 2 * w + 1];
  }, nsid, lba, expected, lbaBytes, context);
}

/** Checks one block held as bytes (`lbaBytes` of them from byte `at`). */
export function checkBlockBytes(bytes: Uint8Array, at: number, nsid: number, lba: number, expected: ExpectedBlock, lbaBytes: number, context: CheckContext = {}): PatternMismatch | null {
  checkPatternLbaBytes(lbaBytes);
  if (at < 0 || at + lbaBytes > bytes.length) throw new RangeError(`checkBlockBytes: ${lbaBytes} bytes at ${at} do not fit ${bytes.length}`);
  return checkBlock((w, out) => {
    out[0] = readWord(bytes, at + 8 * w);
    out[1] = readWord(bytes, at + 8 * w + 4);
  }, nsid, lba, expected, lbaBytes, context);
}

const got = new Uint32Array(2);
const want = new Uint32Array(2);

function checkBlock(read: (w: number, out: Uint32Array) => void, nsid: number, lba: number, expected: ExpectedBlock, lbaBytes: number, context: CheckContext): PatternMismatch | null {
  const block = expected === "zeroes" ? null : sharedBlock.set(nsid, lba, expected);
  let first: PatternMismatch | null = null;
  for (let w = 0; w < lbaBytes / 8; w++) {
    read(w, got);
    if (block) block.word(w, want, 0);
    else want.fill(0);
    if (got[0] === want[0] && got[1] === want[1]) continue;
    if (first) {
      first.wrongWords++;
      continue;
    }
    first = mismatchAt(nsid, lba, 8 * w, expected, want[0], want[1], got[0], got[1], lbaBytes, context);
  }
  return first;
}

/** A mismatch record for one word, with the got word decoded (used by the checks and by the user-port driver). */
export function mismatchAt(
  nsid: number,
  lba: number,
  byteOffset: number,
  expected: ExpectedBlock,
  wantLo: number,
  wantHi: number,
  gotLo: number,
  gotHi: number,
  lbaBytes: number,
  context: CheckContext = {},
): PatternMismatch {
  const big = (lo: number, hi: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const hint = { nsid, lba, pass: expected === "zeroes" ? undefined : expected };
  return {
    nsid,
    lba,
    byteOffset,
    expectedContent: expected,
    expected: big(wantLo, wantHi),
    got: big(gotLo, gotHi),
    gotOrigin: recognisePatternWord(gotLo, gotHi, { ...context, hint, lbaBytes }),
    wrongWords: 1,
  };
}

function writeWord(out: Uint8Array, at: number, lo: number, hi: number): void {
  out[at] = lo & 0xff;
  out[at + 1] = (lo >>> 8) & 0xff;
  out[at + 2] = (lo >>> 16) & 0xff;
  out[at + 3] = lo >>> 24;
  out[at + 4] = hi & 0xff;
  out[at + 5] = (hi >>> 8) & 0xff;
  out[at + 6] = (hi >>> 16) & 0xff;
  out[at + 7] = hi >>> 24;
}

function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}
