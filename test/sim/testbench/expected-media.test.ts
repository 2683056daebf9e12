// The expected media follows the SSD model: checked here state by state, and against the model itself
// (the NVMe command path of sim/nvme through the test host): after a random sequence of writes, write
// zeroes, deallocates and rewrites, every block the model reads back is what ExpectedMedia says.
import { describe, expect, it } from "vitest";
import { BlockState, EXPECT_ANY, EXPECT_ZEROES, ExpectedMedia, WRITTEN_BASE, describeState } from "../../../sim/testbench/expected-media.ts";
import { UserErrorClass, UserOpcode } from "../../../sim/testbench/user-command.ts";
import { DATA, TestHost, expectOk, sqe } from "../../../sim/testbench/nvme-harness.ts";
import { seededRandom, randomInt } from "../../../sim/random.ts";
import { patternBlocks } from "../../../sim/workload/pattern.ts";

const ns1 = { nsid: 1, lbaBytes: 512, capacityBlocks: 100_000 };

describe("ExpectedMedia states", () => {
  it("never written, written, zeroes, deallocated and unknown read as the model reads them", () => {
    const m = new ExpectedMedia([ns1]);
    expect(m.expected(1, 5)).toBe(EXPECT_ZEROES);
    m.write(1, 0, 10, 3);
    m.writeZeroes(1, 2, 2);
    m.deallocate(1, 6, 1);
    m.markUnknown(1, 8, 1);
    expect(Array.from({ length: 11 }, (_, lba) => m.expected(1, lba))).toEqual([3, 3, EXPECT_ZEROES, EXPECT_ZEROES, 3, 3, EXPECT_ZEROES, 3, EXPECT_ANY, 3, EXPECT_ZEROES]);
    expect(m.runs(1, 0, 11).map((r) => [r.lba, r.count, describeState(r.state)])).toEqual([
      [0, 2, "written pass 3"],
      [2, 2, "zeroes"],
      [4, 2, "written pass 3"],
      [6, 1, "deallocated"],
      [7, 1, "written pass 3"],
      [8, 1, "unknown"],
      [9, 1, "written pass 3"],
      [10, 1, "never written"],
    ]);
    const lenient = new ExpectedMedia([ns1], { deallocatedReads: "unknown" });
    lenient.deallocate(1, 0, 1);
    expect(lenient.expected(1, 0)).toBe(EXPECT_ANY);
  });

  it("keeps ranges exact across its 4096-block chunks, whole and partial", () => {
    const m = new ExpectedMedia([ns1]);
    m.write(1, 4000, 9000, 7); // partial chunk, two whole chunks, partial chunk
    m.writeZeroes(1, 8191, 2); // across a chunk boundary inside a whole-chunk run
    expect(m.runs(1, 3999, 9003).map((r) => [r.lba, r.count, r.state])).toEqual([
      [3999, 1, BlockState.NEVER_WRITTEN],
      [4000, 4191, WRITTEN_BASE + 7],
      [8191, 2, BlockState.ZEROES],
      [8193, 4807, WRITTEN_BASE + 7],
      [13000, 2, BlockState.NEVER_WRITTEN],
    ]);
  });

  it("deallocates a whole 2 TB namespace in little memory", () => {
    const big = new ExpectedMedia([{ nsid: 1, lbaBytes: 512, capacityBlocks: (2 * 1024 ** 4) / 512 }]);
    big.write(1, 2 ** 32 - 4, 4, 1);
    const start = performance.now();
    big.deallocate(1, 0, (2 * 1024 ** 4) / 512);
    expect(performance.now() - start).toBeLessThan(2000);
    expect(big.expected(1, 2 ** 32 - 1)).toBe(EXPECT_ZEROES);
    expect(big.state(1, 2 ** 32 - 1)).toBe(BlockState.DEALLOCATED);
  });

  it("applies completions: success defines the blocks, a failure after the SSD makes them unknown, a refusal changes nothing", () => {
    const m = new ExpectedMedia([ns1]);
    const write = (lba: number, pass: number) => ({ opcode: UserOpcode.WRITE, nsid: 1, lba, blockCount: 4, pass });
    m.apply(write(0, 1), UserErrorClass.NONE);
    m.apply(write(0, 2), UserErrorClass.BAD_REQUEST);
    m.apply(write(0, 3), UserErrorClass.NOT_READY);
    expect(m.expected(1, 0)).toBe(1);
    for (const failure of [UserErrorClass.NVME_STATUS, UserErrorClass.PCIE_FAULT, UserErrorClass.TIMEOUT]) {
      m.apply(write(0, 4), UserErrorClass.NONE);
      m.apply(write(0, 5), failure);
      expect(m.expected(1, 3)).toBe(EXPECT_ANY);
    }
    m.apply({ opcode: UserOpcode.WRITE_ZEROES, nsid: 1, lba: 0, blockCount: 2 }, UserErrorClass.NONE);
    m.apply({ opcode: UserOpcode.DEALLOCATE, nsid: 1, lba: 3, blockCount: 1 }, UserErrorClass.NONE);
    m.apply({ opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 4 }, UserErrorClass.NVME_STATUS);
    expect([0, 1, 2, 3].map((lba) => m.expected(1, lba))).toEqual([EXPECT_ZEROES, EXPECT_ZEROES, EXPECT_ANY, EXPECT_ZEROES]);
    expect(m.maxPass).toBe(4);
  });

  it("rejects bad namespaces and ranges, naming them", () => {
    expect(() => new ExpectedMedia([])).toThrow(/namespaces is empty/);
    expect(() => new ExpectedMedia([{ ...ns1, lbaBytes: 520 + 1 }])).toThrow(/lbaBytes 521/);
    expect(() => new ExpectedMedia([ns1, ns1])).toThrow(/nsid 1 is listed twice/);
    const m = new ExpectedMedia([ns1]);
    expect(() => m.write(1, 99_999, 2, 1)).toThrow(/lba 99999 \+2 is outside 0..100000/);
    expect(() => m.write(2, 0, 1, 1)).toThrow(/no namespace 2/);
    expect(() => new ExpectedMedia([ns1], { deallocatedReads: "ones" as "zeroes" })).toThrow(/deallocatedReads "ones"/);
  });
});

describe("ExpectedMedia against the SSD model", () => {
  for (const lbaBytes of [512, 4096] as const) {
    it(`matches every block the model reads back after random writes, zeroes and deallocates (${lbaBytes}-byte LBAs)`, () => {
      const blocks = 96;
      const h = new TestHost({ mdts: 0, namespaces: [{ lbaSize: lbaBytes, capacityBlocks: 4096 }] });
      h.bringUp();
      const media = new ExpectedMedia([{ nsid: 1, lbaBytes, capacityBlocks: 4096 }]);
      const random = seededRandom(lbaBytes);
      const ranges = DATA + 0x400000n;
      let pass = 1;
      const prps = (bytes: number) => {
        // A data buffer at DATA, its PRP list after it: the model needs PRP2 as a list beyond two pages.
        const pages = Math.ceil(bytes / 4096);
        const list = DATA + 0x200000n;
        for (let i = 1; i < pages; i++) h.memory.writeU64(list + BigInt((i - 1) * 8), DATA + BigInt(i * 4096));
        return { prp1: DATA, prp2: pages === 1 ? 0n : pages === 2 ? DATA + 4096n : list };
      };
      for (let i = 0; i < 60; i++) {
        const count = randomInt(random, 1, 12);
        const lba = randomInt(random, 0, blocks - count);
        const kind = random();
        if (kind < 0.6) {
          h.memory.write(DATA, patternBlocks(1, lba, count, pass, lbaBytes));
          expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, ...prps(count * lbaBytes), cdw10: lba, cdw12: count - 1 })), `write ${lba}+${count}`);
          media.write(1, lba, count, pass++);
        } else if (kind < 0.8) {
          expectOk(h.io(sqe({ opcode: 0x08, nsid: 1, cdw10: lba, cdw12: count - 1 })), `write zeroes ${lba}+${count}`);
          media.writeZeroes(1, lba, count);
        } else {
          h.memory.write(ranges, new Uint8Array(16));
          h.memory.writeU32(ranges + 4n, count);
          h.memory.writeU64(ranges + 8n, BigInt(lba));
          expectOk(h.io(sqe({ opcode: 0x09, nsid: 1, prp1: ranges, cdw10: 0, cdw11: 1 << 2 })), `deallocate ${lba}+${count}`);
          media.deallocate(1, lba, count);
        }
      }
      const states = new Set(media.runs(1, 0, blocks + 8).map((r) => (r.state >= WRITTEN_BASE ? WRITTEN_BASE : r.state)));
      expect([...states].sort()).toEqual([BlockState.NEVER_WRITTEN, BlockState.ZEROES, BlockState.DEALLOCATED, WRITTEN_BASE]);
      const readBlocks = blocks + 8; // past the used range: never written
      expectOk(h.io(sqe({ opcode: 0x02, nsid: 1, ...prps(readBlocks * lbaBytes), cdw10: 0, cdw12: readBlocks - 1 })), "read back");
      const back = h.memory.read(DATA, readBlocks * lbaBytes);
      expect(media.checkBytes(1, 0, back)).toBeNull();
      // The check can fail: one stale block is found and named.
      back.set(patternBlocks(1, 5, 1, 0, lbaBytes), 5 * lbaBytes);
      const m = media.checkBytes(1, 0, back);
      expect(m).toMatchObject({ lba: 5, byteOffset: 0, gotOrigin: { kind: "pattern", lba: 5, pass: 0 } });
    });
  }
});
