// The workload generator: seeded, conflict-free within its window, block counts from 1 to beyond MDTS,
// a new pass for every write, every changed range read back (so zeroes after write zeroes and
// deallocate are checked), refused requests marked as such; and bad options named.
import { describe, expect, it } from "vitest";
import { BlockState, ExpectedMedia } from "../../../sim/testbench/expected-media.ts";
import { DEFAULT_IO_MIX, WRITE_THEN_READ_MIX, generateIoWorkload, type IoWorkloadOptions } from "../../../sim/testbench/io-workloads.ts";
import { UserErrorClass, UserOpcode, changesMedia, findConflicts, predictedErrorClass } from "../../../sim/testbench/user-command.ts";

const base: IoWorkloadOptions = { lbaBytes: 512, capacityBlocks: 1 << 20, mdtsBytes: 128 * 1024, maxBlocks: 600, commands: 400, seed: 1, region: { lba: 1000, blocks: 5000 } };

describe("generateIoWorkload", () => {
  it("is the same for the same seed and differs for another", () => {
    expect(generateIoWorkload(base)).toEqual(generateIoWorkload(base));
    expect(generateIoWorkload({ ...base, seed: 2 }).commands).not.toEqual(generateIoWorkload(base).commands);
  });

  it("never puts conflicting commands within its window, even in a crowded region", () => {
    for (const [addressing, window, blocks] of [["random", 64, 5000], ["sequential", 64, 5000], ["random", 32, 300], ["sequential", 8, 40]] as const) {
      const work = generateIoWorkload({ ...base, addressing, conflictWindow: window, region: { lba: 0, blocks }, maxBlocks: Math.min(600, blocks) });
      expect(findConflicts(work.commands, window)).toEqual([]);
      expect(findConflicts(work.commands, window + 40).length).toBeGreaterThan(0); // the window is what keeps them apart
    }
  });

  it("covers block counts from 1 to beyond MDTS, and counts the ones the controller must split", () => {
    const work = generateIoWorkload({ ...base, commands: 1000, region: { lba: 0, blocks: 100_000 } });
    const counts = new Set(work.commands.filter((c) => c.opcode === UserOpcode.WRITE || c.opcode === UserOpcode.READ).map((c) => c.blockCount));
    const mdtsBlocks = (128 * 1024) / 512;
    for (const n of [1, 2, 8, mdtsBlocks - 1, mdtsBlocks, mdtsBlocks + 1, 2 * mdtsBlocks, 2 * mdtsBlocks + 1, 600]) expect(counts).toContain(n);
    expect(Math.max(...counts)).toBe(600);
    const split = work.commands.filter((c) => (c.opcode === UserOpcode.WRITE || c.opcode === UserOpcode.READ) && c.blockCount > mdtsBlocks).length;
    expect(work.splitCommands).toBe(split);
    expect(split).toBeGreaterThan(100);
  });

  it("gives every write a new pass, in order, continuing from firstPass", () => {
    const work = generateIoWorkload({ ...base, firstPass: 50 });
    const passes = work.commands.filter((c) => c.opcode === UserOpcode.WRITE).map((c) => c.pass!);
    expect(passes).toEqual(passes.map((_, i) => 50 + i));
    expect(work.nextPass).toBe(50 + passes.length);
  });

  it("reads back every range it changed, and some of those reads expect zeroes from write zeroes and deallocate", () => {
    const work = generateIoWorkload({ ...base, mix: { ...DEFAULT_IO_MIX, writeZeroes: 15, deallocate: 15 } });
    const { commands } = work;
    commands.forEach((c, i) => {
      if (!changesMedia(c.opcode) || c.expect !== undefined) return;
      const readBack = commands.slice(i + 1).some((r) => r.opcode === UserOpcode.READ && r.lba === c.lba && r.blockCount === c.blockCount);
      expect(readBack, `command ${i} read back`).toBe(true);
    });
    // Replay on the expected media as if every command succeeded: reads do meet zeroed and deallocated blocks that were written before.
    const media = new ExpectedMedia([{ nsid: 1, lbaBytes: 512, capacityBlocks: 1 << 20 }]);
    const zeroedAfterData = new Set<number>();
    let readsOfZeroes = 0;
    for (const c of commands) {
      if (c.opcode === UserOpcode.READ) {
        for (let lba = c.lba as number; lba < (c.lba as number) + c.blockCount; lba++) if (zeroedAfterData.has(lba)) readsOfZeroes++;
      }
      if ((c.opcode === UserOpcode.WRITE_ZEROES || c.opcode === UserOpcode.DEALLOCATE) && typeof c.lba === "number") {
        for (let lba = c.lba; lba < c.lba + c.blockCount; lba++) if (media.state(1, lba) >= BlockState.UNKNOWN + 1) zeroedAfterData.add(lba);
      }
      if (c.opcode === UserOpcode.WRITE && typeof c.lba === "number") for (let lba = c.lba; lba < c.lba + c.blockCount; lba++) zeroedAfterData.delete(lba);
      media.apply(c, UserErrorClass.NONE);
    }
    expect(work.counts.WRITE_ZEROES).toBeGreaterThan(20);
    expect(work.counts.DEALLOCATE).toBeGreaterThan(20);
    expect(readsOfZeroes).toBeGreaterThan(1000);
  });

  it("writes first and reads everything back with the write-then-read mix, in order when sequential", () => {
    const work = generateIoWorkload({ ...base, mix: WRITE_THEN_READ_MIX, addressing: "sequential", commands: 50, maxBlocks: 40 });
    const writes = work.commands.filter((c) => c.opcode === UserOpcode.WRITE);
    const reads = work.commands.filter((c) => c.opcode === UserOpcode.READ);
    expect(writes.length).toBe(50);
    expect(reads.map((r) => [r.lba, r.blockCount])).toEqual(writes.map((w) => [w.lba, w.blockCount]));
    writes.slice(1).forEach((w, i) => expect(w.lba).toBe((writes[i].lba as number) + writes[i].blockCount));
    expect(work.counts.verify).toBe(50);
  });

  it("marks requests that must be refused, and the driver's own prediction agrees", () => {
    const namespaces = [{ nsid: 1, lbaBytes: 512, capacityBlocks: 1 << 20 }];
    const work = generateIoWorkload({ ...base, mix: { badRequest: 20 } });
    const bad = work.commands.filter((c) => c.expect !== undefined);
    expect(bad.length).toBe(work.counts.bad);
    expect(bad.length).toBeGreaterThan(50);
    for (const c of bad) {
      expect(c.expect).toBe(UserErrorClass.BAD_REQUEST);
      expect(predictedErrorClass(c, namespaces)).toBe(UserErrorClass.BAD_REQUEST);
    }
    const kinds = new Set(bad.map((c) => (typeof c.lba === "bigint" ? "lba 2^64-1" : c.nsid === 0 ? "nsid 0" : c.blockCount === 0 ? "0 blocks" : "past the end")));
    expect([...kinds].sort()).toEqual(["0 blocks", "lba 2^64-1", "nsid 0", "past the end"]);
    for (const c of work.commands.filter((c) => c.expect === undefined)) expect(predictedErrorClass(c, namespaces)).toBe(UserErrorClass.NONE);
  });

  it("rejects bad options, naming them", () => {
    expect(() => generateIoWorkload({ ...base, lbaBytes: 500 })).toThrow(/lbaBytes 500/);
    expect(() => generateIoWorkload({ ...base, mdtsBytes: 256 })).toThrow(/mdtsBytes 256/);
    expect(() => generateIoWorkload({ ...base, maxBlocks: 0 })).toThrow(/maxBlocks 0/);
    expect(() => generateIoWorkload({ ...base, region: { lba: 0, blocks: 2 << 20 } })).toThrow(/region.blocks 2097152/);
    expect(() => generateIoWorkload({ ...base, mix: { read: -1 } })).toThrow(/mix.read -1/);
    expect(() => generateIoWorkload({ ...base, mix: { reads: 1 } as never })).toThrow(/unknown kind "reads"/);
    expect(() => generateIoWorkload({ ...base, mix: { read: 0, write: 0, flush: 0, writeZeroes: 0, deallocate: 0 } })).toThrow(/every mix weight is 0/);
  });
});
