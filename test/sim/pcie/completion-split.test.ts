import { describe, expect, it } from "vitest";
import { completeMemoryRead, completionWithoutData, judgeCompletionChunk, splitReadCompletion, type CompletionSplitParams } from "../../../sim/pcie/completion-split.ts";
import { encodeTlp } from "../../../sim/pcie/codec.ts";
import { CplStatus, type MemRequest } from "../../../sim/pcie/tlp.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

/** Check every rule of §B.5 on one split; returns a description of the first violation. */
function violation(first: number, length: number, params: CompletionSplitParams): string | undefined {
  const chunks = splitReadCompletion(BigInt(first), length, params);
  let cursor = first;
  let remaining = length;
  for (let k = 0; k < chunks.length; k++) {
    const c = chunks[k];
    const address = Number(c.address);
    const isLast = k === chunks.length - 1;
    if (address !== cursor) return `chunk ${k} starts at ${address}, expected ${cursor}`;
    if (c.offset !== cursor - first) return `chunk ${k} offset ${c.offset}`;
    if (c.byteCount !== remaining) return `chunk ${k} Byte Count ${c.byteCount}, remaining ${remaining}`;
    if (c.lowerAddress !== (address & 0x7f)) return `chunk ${k} Lower Address ${c.lowerAddress}`;
    if (c.bytes < 1) return `chunk ${k} is empty`;
    const end = address + c.bytes;
    if (!isLast && end % params.rcb !== 0) return `chunk ${k} ends at ${end}, not on an RCB (${params.rcb}) boundary`;
    const payloadStart = Number(c.payloadAddress);
    if (payloadStart !== (address & ~3)) return `chunk ${k} payload starts at ${payloadStart}`;
    if (c.lengthDw !== Math.ceil((end - payloadStart) / 4)) return `chunk ${k} length ${c.lengthDw} DW does not cover its bytes`;
    if (c.lengthDw * 4 > params.mps) return `chunk ${k} carries ${c.lengthDw * 4} B > MPS ${params.mps}`;
    if ((params.policy ?? "largest") === "largest" && !isLast) {
      // Largest-piece policy: one more RCB block would have exceeded MPS.
      if (end + params.rcb - payloadStart <= params.mps && end + params.rcb <= first + length + 3) {
        return `chunk ${k} could have been larger`;
      }
    }
    if (params.policy === "rcb" && !isLast && Math.floor(address / params.rcb) !== Math.floor((end - 1) / params.rcb)) {
      return `chunk ${k} spans two RCB blocks`;
    }
    if (params.policy === "aligned" && !isLast && (end % params.alignBytes! !== 0 || Math.floor(address / params.alignBytes!) !== Math.floor((end - 1) / params.alignBytes!))) {
      return `chunk ${k} does not end at the first ${params.alignBytes}-aligned address after its start`;
    }
    cursor = end;
    remaining -= c.bytes;
  }
  if (remaining !== 0) return `${remaining} bytes never returned`;
  return undefined;
}

describe("completion splitting: every length 1..4096 B x every start alignment mod 64", () => {
  const cases: CompletionSplitParams[] = [
    { rcb: 64, mps: 128 },
    { rcb: 128, mps: 512 },
    { rcb: 64, mps: 256, policy: "rcb" },
    { rcb: 64, mps: 512, policy: "aligned", alignBytes: 256 },
  ];
  for (const params of cases) {
    it(`RCB ${params.rcb}, MPS ${params.mps}, ${params.policy ?? "largest"} pieces`, () => {
      let checked = 0;
      let crossing = 0;
      for (let align = 0; align < 64; align++) {
        for (let length = 1; length <= 4096; length++) {
          // Place the read at `align` mod 64 inside a page so it does not cross 4 KiB when that is possible.
          const pageOffset = align + length <= 4096 ? align : -1;
          if (pageOffset < 0) {
            crossing++;
            continue;
          }
          const first = 0x4000_0000 + pageOffset + (length < 2048 ? 1024 : 0);
          const problem = violation(first, length, params);
          if (problem) throw new Error(`start 0x${first.toString(16)} length ${length}: ${problem}`);
          checked++;
        }
      }
      expect(checked + crossing).toBe(64 * 4096);
      expect(crossing).toBe(2016);
    });
  }

  it("reads that would cross 4 KiB are refused", () => {
    expect(() => splitReadCompletion(0x1fc0n, 0x41, { rcb: 64, mps: 128 })).toThrow(/crosses a 4 KiB boundary/);
    expect(() => splitReadCompletion(0x1000n, 4097, { rcb: 64, mps: 128 })).toThrow(/Byte Count must be 1..4096/);
    expect(() => splitReadCompletion(0x1000n, 8, { rcb: 32, mps: 128 })).toThrow(/RCB 32/);
    expect(() => splitReadCompletion(0x1000n, 8, { rcb: 64, mps: 192 })).toThrow(/MPS 192/);
    expect(() => splitReadCompletion(0x1000n, 8, { rcb: 64, mps: 256, policy: "aligned", alignBytes: 512 })).toThrow(/alignBytes 512/);
    expect(() => splitReadCompletion(0x1000n, 8, { rcb: 128, mps: 256, policy: "aligned", alignBytes: 64 })).toThrow(/alignBytes 64/);
    expect(() => splitReadCompletion(0x1000n, 8, { rcb: 64, mps: 256, policy: "aligned" })).toThrow(/alignBytes undefined/);
  });

  it("a worked example: 300 B from 0x1034 with RCB 64, MPS 128, largest pieces", () => {
    const chunks = splitReadCompletion(0x1034n, 300, { rcb: 64, mps: 128 });
    expect(chunks.map((c) => [Number(c.address), c.bytes, c.byteCount, c.lowerAddress, c.lengthDw])).toEqual([
      [0x1034, 76, 300, 0x34, 19], // to the last RCB boundary a 128-byte payload from 0x1034 can reach: 0x1080
      [0x1080, 128, 224, 0x00, 32],
      [0x1100, 96, 96, 0x00, 24],
    ]);
  });

  it("a worked example: 300 B from 0x1034 with MPS 512, cut at every 256-aligned address", () => {
    const chunks = splitReadCompletion(0x1034n, 300, { rcb: 64, mps: 512, policy: "aligned", alignBytes: 256 });
    expect(chunks.map((c) => [Number(c.address), c.bytes, c.byteCount, c.lowerAddress, c.lengthDw])).toEqual([
      [0x1034, 204, 300, 0x34, 51], // a largest-pieces split would have sent all 300 B in one CplD
      [0x1100, 96, 96, 0x00, 24],
    ]);
  });
});

describe("completions built for an MRd", () => {
  const memory = (address: bigint, length: number) => new Uint8Array(length).map((_, i) => Number((address + BigInt(i)) & 0xffn));

  it("copy TC/Attr/IDs, carry the right bytes and encode as legal TLPs", () => {
    const mrd: MemRequest = { kind: "MRd", ...plain, tc: 1, attr: 2, requesterId: 0x0100, tag: 0x33, address: 0x2e04n, addr64: false, lengthDw: 64, firstBe: 0xc, lastBe: 0x3 };
    const completions = completeMemoryRead(mrd, 0x0000, memory, { rcb: 64, mps: 128 });
    expect(completions.map((c) => [c.byteCount, c.lowerAddress, c.lengthDw])).toEqual([
      [252, 0x06, 31],
      [130, 0x00, 32],
      [2, 0x00, 1],
    ]);
    expect(completions.map((c) => c.data![0])).toEqual([0x04, 0x80, 0x00]);
    for (const c of completions) {
      expect([c.kind, c.tc, c.attr, c.requesterId, c.tag, c.completerId, c.status]).toEqual(["CplD", 1, 2, 0x0100, 0x33, 0, CplStatus.SC]);
      expect(() => encodeTlp(c)).not.toThrow();
    }
  });

  it("a zero-length read returns one DW with Byte Count 1", () => {
    const mrd: MemRequest = { kind: "MRd", ...plain, requesterId: 0x0100, tag: 1, address: 0x1008n, addr64: false, lengthDw: 1, firstBe: 0, lastBe: 0 };
    const [cpl, ...rest] = completeMemoryRead(mrd, 0, memory, { rcb: 64, mps: 128 });
    expect(rest).toHaveLength(0);
    expect([cpl.byteCount, cpl.lowerAddress, cpl.lengthDw]).toEqual([1, 0x08, 1]);
  });

  it("UR completions carry the first completion's Byte Count / Lower Address; config completions 4 / 0", () => {
    const mrd: MemRequest = { kind: "MRd", ...plain, requesterId: 0x0100, tag: 1, address: 0x10f0n, addr64: false, lengthDw: 4, firstBe: 0xe, lastBe: 0xf };
    const ur = completionWithoutData(mrd, 0, CplStatus.UR);
    expect([ur.kind, ur.status, ur.byteCount, ur.lowerAddress, ur.lengthDw]).toEqual(["Cpl", CplStatus.UR, 15, 0x71, 0]);
    const crs = completionWithoutData({ kind: "CfgRd0", ...plain, requesterId: 0, tag: 2, bus: 1, device: 0, fn: 0, register: 0, firstBe: 0xf }, 0x0100, CplStatus.CRS);
    expect([crs.status, crs.byteCount, crs.lowerAddress]).toEqual([CplStatus.CRS, 4, 0]);
  });
});

describe("judging one CplD of a split (judgeCompletionChunk)", () => {
  it("accepts every CplD the reference splitter makes, under each policy, and counts its bytes", () => {
    const cases: CompletionSplitParams[] = [
      { rcb: 64, mps: 128 },
      { rcb: 128, mps: 512 },
      { rcb: 64, mps: 256, policy: "rcb" },
      { rcb: 64, mps: 512, policy: "aligned", alignBytes: 256 },
    ];
    let judged = 0;
    for (const params of cases) {
      for (let align = 0; align < 64; align += 3) {
        for (let length = 1; length <= 4096 - align; length += 37) {
          const first = 0x7000_0000n + BigInt(align);
          for (const chunk of splitReadCompletion(first, length, params)) {
            const verdict = judgeCompletionChunk(first, length, chunk.offset, chunk.lengthDw, params);
            if (verdict.violation !== undefined || verdict.bytes !== chunk.bytes) {
              throw new Error(`${JSON.stringify(params)} 0x${first.toString(16)}+${length} chunk at ${chunk.offset}: ${verdict.violation ?? `${verdict.bytes} B, splitter says ${chunk.bytes}`}`);
            }
            judged++;
          }
        }
      }
    }
    expect(judged).toBeGreaterThan(10_000);
  });

  it("refuses a CplD that stops short of an RCB boundary, runs past the read, or exceeds MPS", () => {
    const params = { rcb: 64, mps: 256 };
    // 300 B from 0x1034: the first CplD may end at 0x1040, 0x1080, 0x10c0 or 0x1100 (MPS), not at 0x1050.
    expect(judgeCompletionChunk(0x1034n, 300, 0, 7, params)).toEqual({ bytes: 28, violation: "CplD ends at 0x1050 before the read's end, not on a 64-byte read completion boundary" });
    expect(judgeCompletionChunk(0x1034n, 300, 0, 3, params)).toEqual({ bytes: 12 });
    expect(judgeCompletionChunk(0x1034n, 300, 0, 35, params)).toEqual({ bytes: 140 });
    expect(judgeCompletionChunk(0x1034n, 300, 0, 76, params).violation).toBe("CplD carries 304 B, more than Max_Payload_Size 256 B");
    // The last 96 B from 0x1100 are 24 DW: 25 DW run past the read.
    expect(judgeCompletionChunk(0x1034n, 300, 204, 24, params)).toEqual({ bytes: 96 });
    expect(judgeCompletionChunk(0x1034n, 300, 204, 25, params).violation).toBe("CplD carries 25 DW but only 24 DW (0x1100..0x1160) are left of the read");
    // A cut at 0x1040 is legal with RCB 64, not with RCB 128; one at 0x1080 with both.
    expect(judgeCompletionChunk(0x1034n, 300, 0, 3, { rcb: 128, mps: 256 }).violation).toMatch(/ends at 0x1040 .* not on a 128-byte read completion boundary/);
    expect(judgeCompletionChunk(0x1034n, 300, 0, 19, { rcb: 128, mps: 256 })).toEqual({ bytes: 76 });
    expect(() => judgeCompletionChunk(0x1034n, 300, 300, 1, params)).toThrow(/offset 300/);
    expect(() => judgeCompletionChunk(0x1034n, 300, 0, 1, { rcb: 32, mps: 256 })).toThrow(/RCB 32/);
  });
});
