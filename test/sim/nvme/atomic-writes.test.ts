import { describe, expect, it } from "vitest";
import { IdentifyNamespaceField as Ns } from "../../../rtl-src/nvme/nvme-identify.ts";
import { readField } from "../../../rtl-src/nvme/nvme-field.ts";
import { crossesAtomicBoundary } from "../../../sim/nvme/media.ts";
import type { NamespaceOptions } from "../../../sim/nvme/options.ts";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { DATA, expectOk, pattern, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

const SMALL = 8; // AWUPF = 7 -> 8-block atomic unit
const LARGE = 64;

function setup(seed: number) {
  const h = new TestHost({ timing: "consumerSsd", awun: 15, awupf: SMALL - 1, mdts: 0 });
  h.bringUp();
  const list = DATA + 0x400000n;
  for (let i = 1; i < 8; i++) h.memory.writeU64(list + BigInt((i - 1) * 8), DATA + BigInt(i) * 4096n);
  const writes: { slba: number; nlb: number; data: Uint8Array }[] = [];
  for (let i = 0; i < 8; i++) {
    const nlb = i % 2 === 0 ? SMALL : LARGE;
    const slba = i * 1000;
    const data = pattern(nlb * 512, seed * 100 + i + 1);
    h.memory.write(DATA, data);
    expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, prp2: nlb * 512 > 8192 ? list : DATA + 4096n, cdw10: slba, cdw12: nlb - 1 })), "write");
    writes.push({ slba, nlb, data });
  }
  return { h, writes };
}

describe("atomic writes and power-fail injection", () => {
  it("reports AWUN/AWUPF in Identify Controller", () => {
    const { h } = setup(1);
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    const v = new DataView(h.memory.read(DATA, 4096).buffer);
    expect(v.getUint16(526, true)).toBe(15);
    expect(v.getUint16(528, true)).toBe(SMALL - 1);
  });

  it("never tears a write within AWUPF, and does tear larger ones, across seeds", () => {
    let torn = 0;
    let smallApplied = 0;
    let smallLost = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const { h, writes } = setup(seed);
      const media = h.ssd.controller.media[0];
      expect(media.unpersisted.length).toBe(writes.length); // completed from the volatile cache
      const report = h.ssd.powerFail(h.cycle, seed);
      torn += report.tornWrites;
      for (const w of writes) {
        const after = media.read(w.slba, w.nlb);
        const newBlocks = Array.from({ length: w.nlb }, (_, b) =>
          after.subarray(b * 512, (b + 1) * 512).every((x, i) => x === w.data[b * 512 + i]),
        );
        const count = newBlocks.filter(Boolean).length;
        const zeros = Array.from({ length: w.nlb }, (_, b) => after.subarray(b * 512, (b + 1) * 512).every((x) => x === 0));
        newBlocks.forEach((isNew, b) => expect(isNew || zeros[b]).toBe(true));
        if (w.nlb <= SMALL) {
          expect(count === 0 || count === w.nlb).toBe(true);
          if (count === 0) smallLost++;
          else smallApplied++;
        }
      }
      expect(h.ssd.controller.stats.unsafeShutdowns).toBe(1);
    }
    expect(torn).toBeGreaterThan(0);
    expect(smallApplied).toBeGreaterThan(0);
    expect(smallLost).toBeGreaterThan(0);
  });

  it("keeps everything that a Flush covered", () => {
    const { h, writes } = setup(3);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush");
    const report = h.ssd.powerFail(h.cycle, 3);
    expect(report.tornWrites + report.lostWrites).toBe(0);
    for (const w of writes) expect(h.ssd.controller.media[0].read(w.slba, w.nlb)).toEqual(w.data);
  });

  it("loses nothing after a clean shutdown and comes back needing enumeration", () => {
    const { h, writes } = setup(4);
    h.mmioWrite32(0x14, 0x00460001 | (1 << 14));
    h.runUntil(() => ((h.mmioRead32(0x1c) >> 2) & 3) === 2);
    h.ssd.powerFail(h.cycle, 4);
    expect(h.ssd.controller.stats.unsafeShutdowns).toBe(0);
    expect(h.cfgRead(0x10) & 0xfffffff0).toBe(0);
    h.bringUp();
    const w = writes[1];
    expectOk(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, prp2: DATA + 0x400000n, cdw10: w.slba, cdw12: w.nlb - 1 })), "read back");
    expect(h.memory.read(DATA, 4096)).toEqual(w.data.subarray(0, 4096));
  });
});

/** Writes of `nlb` blocks at `slba` (each its own pattern) to an SSD with namespace `ns`, completed from the write cache, then a power failure. */
function powerFailAfter(ns: Partial<NamespaceOptions>, writes: [number, number][], seed: number, awupf = 63) {
  const h = new TestHost({ timing: "consumerSsd", awupf, mdts: 0, namespaces: [{ lbaSize: 512, capacityBlocks: 1 << 20, ...ns }] });
  h.bringUp();
  const list = DATA + 0x400000n;
  for (let i = 1; i < 16; i++) h.memory.writeU64(list + BigInt((i - 1) * 8), DATA + BigInt(i) * 4096n);
  writes.forEach(([slba, nlb], i) => {
    h.memory.write(DATA, pattern(nlb * 512, seed * 100 + i + 1));
    expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, prp2: nlb * 512 > 8192 ? list : DATA + 4096n, cdw10: slba, cdw12: nlb - 1 })), "write");
  });
  return h.ssd.powerFail(h.cycle, seed).namespaces[0].writes;
}

describe("the namespace's atomic unit and atomic boundary (NAWUPF, NABSPF, NABO)", () => {
  it("reports NAWUPF, NABSPF and NABO with NSFEAT.NSABP in Identify Namespace", () => {
    const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: 4096, nawupf: 15, nabspf: 31, nabo: 4 }] });
    h.bringUp();
    expectOk(h.admin(sqe({ opcode: 0x06, nsid: 1, prp1: DATA, cdw10: 0 })), "identify ns");
    const page = h.memory.read(DATA, 4096);
    expect([readField(page, Ns.nsfeatAtomics), readField(page, Ns.nawupf), readField(page, Ns.nabspf), readField(page, Ns.nabo)]).toEqual([1, 15, 31, 4]);
    // Without namespace units nothing is reported (the controller's AWUPF applies, which knows no boundary).
    const plain = new TestHost({});
    plain.bringUp();
    expectOk(plain.admin(sqe({ opcode: 0x06, nsid: 1, prp1: DATA, cdw10: 0 })), "identify ns");
    const plainPage = plain.memory.read(DATA, 4096);
    expect([readField(plainPage, Ns.nsfeatAtomics), readField(plainPage, Ns.nabspf)]).toEqual([0, 0]);
  });

  it("takes NAWUPF, not AWUPF, when the namespace reports its units", () => {
    // AWUPF 63 would cover 16 blocks; NAWUPF 7 does not.
    const records = powerFailAfter({ nawupf: 7 }, [[0, 8], [100, 16], [200, 9]], 5);
    expect(records.map((r) => [r.nlb, r.atomic])).toEqual([[8, true], [16, false], [9, false]]);
    expect(records.filter((r) => !r.atomic).every((r) => r.outcome === "torn")).toBe(true);
  });

  it("tears a write across an atomic boundary even within the unit; NABO moves the boundaries", () => {
    // Unit 16 blocks, boundaries every 8 blocks from LBA 0.
    const at0 = powerFailAfter({ nawupf: 15, nabspf: 7 }, [[16, 8], [20, 8], [30, 3], [31, 1]], 7);
    expect(at0.map((r) => r.atomic)).toEqual([true, false, false, true]);
    expect(at0[1].outcome).toBe("torn");
    expect(at0[2].outcome).toBe("torn");
    for (const r of at0.filter((x) => x.atomic)) expect(["applied", "lost"]).toContain(r.outcome);
    // The same with NABO 2: boundaries at 2, 10, 18, ...; LBAs 0-1 lie before the first.
    const at2 = powerFailAfter({ nawupf: 15, nabspf: 7, nabo: 2 }, [[16, 8], [18, 8], [0, 2], [0, 3]], 7);
    expect(at2.map((r) => r.atomic)).toEqual([false, true, true, false]);
  });

  it("decides a crossing by the blocks written, and checks the options", () => {
    const b = { blocks: 8, offset: 0 };
    expect([crossesAtomicBoundary(0, 8, b), crossesAtomicBoundary(1, 8, b), crossesAtomicBoundary(7, 1, b), crossesAtomicBoundary(7, 2, b), crossesAtomicBoundary(7, 2, undefined)]).toEqual([false, true, false, true, false]);
    const o = { blocks: 8, offset: 3 };
    expect([crossesAtomicBoundary(0, 3, o), crossesAtomicBoundary(0, 4, o), crossesAtomicBoundary(3, 8, o), crossesAtomicBoundary(4, 8, o)]).toEqual([false, true, false, true]);
    expect(() => new NvmeSsd({ namespaces: [{ lbaSize: 512, capacityBlocks: 64, nabspf: 7, nabo: 8 }] })).toThrow(/nabo 8 is above nabspf 7/);
    expect(() => new NvmeSsd({ namespaces: [{ lbaSize: 512, capacityBlocks: 64, nawupf: 70000 }] })).toThrow(/nawupf 70000/);
  });
});

describe("indirection-unit write amplification", () => {
  it("counts whole units rewritten for partial and unaligned writes", () => {
    const h = new TestHost({ indirectionUnitBytes: 16384 });
    h.bringUp();
    const write = (slba: number, nlb: number) => {
      h.memory.write(DATA, pattern(nlb * 512, slba));
      const list = DATA + 0x100000n;
      for (let i = 1; i < 8; i++) h.memory.writeU64(list + BigInt((i - 1) * 8), DATA + BigInt(i) * 4096n);
      expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, prp2: nlb > 16 ? list : DATA + 4096n, cdw10: slba, cdw12: nlb - 1 })), "write");
    };
    write(0, 8); // 4 KiB in one 16 KiB unit
    let wa = h.ssd.writeAmplification(1);
    expect([wa.hostBytes, wa.mediaBytes, wa.unalignedWrites]).toEqual([4096, 16384, 1]);
    write(32, 32); // exactly one unit, aligned
    wa = h.ssd.writeAmplification(1);
    expect([wa.hostBytes, wa.mediaBytes, wa.unalignedWrites]).toEqual([4096 + 16384, 16384 * 2, 1]);
    write(72, 32); // 16 KiB straddling two units
    wa = h.ssd.writeAmplification(1);
    expect([wa.hostBytes, wa.mediaBytes, wa.partialUnits, wa.unalignedWrites]).toEqual([4096 + 16384 * 2, 16384 * 4, 1 + 2, 2]);
    expect(() => h.ssd.writeAmplification(9)).toThrow(/namespace 9/);
  });

  it("reports the indirection unit as the namespace's preferred write granularity", () => {
    const h = new TestHost({ indirectionUnitBytes: 16384 });
    h.bringUp();
    expectOk(h.admin(sqe({ opcode: 0x06, nsid: 1, prp1: DATA, cdw10: 0 })), "identify ns");
    const v = new DataView(h.memory.read(DATA, 4096).buffer);
    expect(v.getUint16(64, true)).toBe(31);
  });
});
