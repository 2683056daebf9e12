// The data pattern: distinct per namespace, block, pass and word, never a constant, the same whether
// made as bytes or as words, and decodable: a word in the wrong place names the block and pass it
// belongs to, which is how a misplaced or stale block is diagnosed.
import { describe, expect, it } from "vitest";
import {
  BlockPattern,
  checkBlockBytes,
  checkBlockWords,
  describeMismatch,
  fillBlockBytes,
  fillBlockWords,
  patternBlocks,
  patternWord,
  patternWordBig,
  recognisePatternWord,
} from "../../../sim/workload/pattern.ts";
import { seededRandom } from "../../../sim/random.ts";

const words = new Uint32Array(2);
function word(nsid: number, lba: number, pass: number, w: number): [number, number] {
  patternWord(nsid, lba, pass, w, words);
  return [words[0], words[1]];
}

describe("pattern words", () => {
  it("differ across namespaces, blocks, passes and words, and none is zero", () => {
    const seen = new Set<bigint>();
    let n = 0;
    for (const nsid of [1, 2, 31, 32, 33])
      for (const lba of [0, 1, 2, 511, 4096, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3])
        for (const pass of [0, 1, 2, 16383, 16384, 16385])
          for (const w of [0, 1, 2, 63, 511]) {
            const v = patternWordBig(nsid, lba, pass, w);
            expect(v).not.toBe(0n);
            seen.add(v);
            n++;
          }
    expect(seen.size).toBe(n);
  });

  it("are not a constant or a counter: bits flip about half the time between neighbours", () => {
    let flips = 0;
    const count = 2000;
    for (let w = 0; w < count; w++) {
      const a = patternWordBig(1, 100, 1, w);
      const b = patternWordBig(1, 100, 1, w + 1);
      flips += (a ^ b).toString(2).split("").filter((c) => c === "1").length;
    }
    expect(flips / count).toBeGreaterThan(28);
    expect(flips / count).toBeLessThan(36);
  });

  it("fills the same data as bytes (little-endian, word k at byte 8k) and as words", () => {
    const bytes = new Uint8Array(512 + 16);
    const asWords = new Uint32Array(128 + 4);
    fillBlockBytes(bytes, 16, 3, 77, 5, 512);
    fillBlockWords(asWords, 4, 3, 77, 5, 512);
    expect(Array.from(new Uint32Array(bytes.buffer, 16, 128))).toEqual(Array.from(asWords.subarray(4)));
    const [lo, hi] = word(3, 77, 5, 2);
    expect(new DataView(bytes.buffer).getBigUint64(16 + 16, true)).toBe((BigInt(hi) << 32n) | BigInt(lo));
    expect(patternBlocks(3, 77, 2, 5, 512).subarray(0, 512)).toEqual(bytes.subarray(16));
    const block = new BlockPattern().set(3, 77, 5);
    const out = new Uint32Array(2);
    block.word(2, out, 0);
    expect([out[0], out[1]]).toEqual([lo, hi]);
  });

  it("rejects what the packing cannot represent, naming the value", () => {
    expect(() => fillBlockBytes(new Uint8Array(600), 0, 1, 0, 1, 500)).toThrow(/lbaBytes 500/);
    expect(() => patternWord(1, -1, 0, 0, words)).toThrow(/lba -1/);
    expect(() => patternWord(1, 0, 0.5, 0, words)).toThrow(/pass 0.5/);
    expect(() => patternWord(1, 0, 0, 8192, words)).toThrow(/word index 8192/);
  });
});

describe("recognising where a word came from", () => {
  it("decodes every word back to its (nsid, lba, pass, byte offset), also beyond the packed ranges given a hint", () => {
    const random = seededRandom(5);
    for (let i = 0; i < 500; i++) {
      const nsid = 1 + Math.floor(random() * 40);
      const lba = Math.floor(random() * 2 ** 36);
      const pass = Math.floor(random() * 40000);
      const w = Math.floor(random() * 512);
      const [lo, hi] = word(nsid, lba, pass, w);
      const origin = recognisePatternWord(lo, hi, { lbaBytes: 4096, hint: { nsid, lba: lba + 3, pass } });
      expect(origin).toEqual({ kind: "pattern", nsid, lba, pass, byteOffset: 8 * w });
    }
  });

  it("says zeroes for zero and does not recognise random data", () => {
    expect(recognisePatternWord(0, 0, { lbaBytes: 512 })).toEqual({ kind: "zeroes" });
    const random = seededRandom(9);
    let recognised = 0;
    for (let i = 0; i < 20000; i++) {
      const lo = Math.floor(random() * 2 ** 32);
      const hi = Math.floor(random() * 2 ** 32);
      if (recognisePatternWord(lo, hi, { lbaBytes: 512, hint: { nsid: 1, lba: 1000 }, capacityBlocks: 2 ** 21, maxPass: 100, nsids: [1] })) recognised++;
    }
    expect(recognised).toBe(0);
  });
});

describe("checking a block", () => {
  const lbaBytes = 512;
  const block = (lba: number, pass: number) => patternBlocks(1, lba, 1, pass, lbaBytes);

  it("passes the right data and the right zeroes", () => {
    expect(checkBlockBytes(block(10, 2), 0, 1, 10, 2, lbaBytes)).toBeNull();
    expect(checkBlockBytes(new Uint8Array(lbaBytes), 0, 1, 10, "zeroes", lbaBytes)).toBeNull();
    const asWords = new Uint32Array(lbaBytes / 4);
    fillBlockWords(asWords, 0, 1, 10, 2, lbaBytes);
    expect(checkBlockWords(asWords, 0, 1, 10, 2, lbaBytes)).toBeNull();
  });

  it("reports a misplaced block with the block it really is", () => {
    const m = checkBlockBytes(block(11, 2), 0, 1, 10, 2, lbaBytes)!;
    expect(m).toMatchObject({ lba: 10, byteOffset: 0, wrongWords: 64, gotOrigin: { kind: "pattern", nsid: 1, lba: 11, pass: 2, byteOffset: 0 } });
    expect(describeMismatch(m)).toMatch(/^ns 1 lba 10 byte 0: expected 0x[0-9a-f]{16} \(pass 2\), got 0x[0-9a-f]{16} \(ns 1 lba 11 pass 2 byte 0\); 64 words wrong$/);
  });

  it("reports stale data with the pass it came from, and zeroes as zeroes", () => {
    expect(checkBlockBytes(block(10, 1), 0, 1, 10, 2, lbaBytes)!.gotOrigin).toEqual({ kind: "pattern", nsid: 1, lba: 10, pass: 1, byteOffset: 0 });
    expect(checkBlockBytes(new Uint8Array(lbaBytes), 0, 1, 10, 2, lbaBytes)!.gotOrigin).toEqual({ kind: "zeroes" });
    expect(checkBlockBytes(block(10, 2), 0, 1, 10, "zeroes", lbaBytes)!.gotOrigin).toMatchObject({ lba: 10, pass: 2 });
  });

  it("finds one changed byte, at its word, and sees a shifted stream as the neighbouring words", () => {
    const data = block(10, 2);
    data[200] ^= 0x40;
    const m = checkBlockBytes(data, 0, 1, 10, 2, lbaBytes)!;
    expect(m).toMatchObject({ byteOffset: 200, wrongWords: 1, gotOrigin: null });
    const two = patternBlocks(1, 10, 2, 2, lbaBytes);
    const shifted = two.slice(8, 8 + lbaBytes); // one beat dropped
    expect(checkBlockBytes(shifted, 0, 1, 10, 2, lbaBytes)!.gotOrigin).toEqual({ kind: "pattern", nsid: 1, lba: 10, pass: 2, byteOffset: 8 });
  });
});
