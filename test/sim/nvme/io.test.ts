import { describe, expect, it } from "vitest";
import { DATA, expectOk, pattern, sameBytes, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

const SC = (sct: number, sc: number) => (sct << 8) | sc;
const W = 0x01;
const R = 0x02;

function rw(opcode: number, slba: number, blocks: number, prp1: bigint, prp2 = 0n, nsid = 1) {
  return sqe({ opcode, nsid, prp1, prp2, cdw10: slba, cdw11: 0, cdw12: blocks - 1 });
}

describe("NVMe I/O commands", () => {
  it("writes then reads back 4 KiB with PRP1 only", () => {
    const h = new TestHost();
    h.bringUp();
    const data = pattern(4096, 1);
    h.memory.write(DATA, data);
    expectOk(h.io(rw(W, 100, 8, DATA)), "write");
    expectOk(h.io(rw(R, 100, 8, DATA + 0x10000n)), "read");
    expect(h.memory.read(DATA + 0x10000n, 4096)).toEqual(data);
  });

  it("handles PRP1 with an offset plus PRP2 as the second page", () => {
    const h = new TestHost();
    h.bringUp();
    const data = pattern(4096, 2);
    h.memory.write(DATA + 0x200n, data.subarray(0, 0xe00));
    h.memory.write(DATA + 0x5000n, data.subarray(0xe00));
    expectOk(h.io(rw(W, 8, 8, DATA + 0x200n, DATA + 0x5000n)), "write");
    expectOk(h.io(rw(R, 8, 8, DATA + 0x20000n)), "read");
    expect(h.memory.read(DATA + 0x20000n, 4096)).toEqual(data);
  });

  it("follows a PRP list and a chained PRP list (with a list offset)", () => {
    const h = new TestHost({ mdts: 0 });
    h.bringUp();
    const pages = 400; // two list pages: the first (at an offset) holds one entry and the chain pointer
    const bytes = pages * 4096;
    const data = pattern(bytes, 3);
    const list1 = 0x8000000n + 0xff0n; // two entries left in this page: one data entry, one chain pointer
    const list2 = 0x8100000n;
    const page = (i: number) => 0x1000000n + BigInt(i) * 0x3000n; // scattered pages
    h.memory.write(DATA, data.subarray(0, 4096));
    for (let i = 1; i < pages; i++) h.memory.write(page(i), data.subarray(i * 4096, (i + 1) * 4096));
    h.memory.writeU64(list1, page(1));
    h.memory.writeU64(list1 + 8n, list2);
    for (let i = 2; i < pages; i++) h.memory.writeU64(list2 + BigInt((i - 2) * 8), page(i));
    expectOk(h.io(rw(W, 0, bytes / 512, DATA, list1)), "write");
    const back = 0x40000000n;
    const listR = 0x8200000n;
    for (let i = 1; i < pages; i++) h.memory.writeU64(listR + BigInt((i - 1) * 8), back + BigInt(i) * 4096n);
    expectOk(h.io(rw(R, 0, bytes / 512, back, listR)), "read into a contiguous buffer");
    expect(sameBytes(h.memory.read(back, bytes), data)).toBe(true);
  });

  it("fails bad PRPs with PRP Offset Invalid", () => {
    const h = new TestHost();
    h.bringUp();
    expect(h.io(rw(R, 0, 8, DATA + 2n)).code).toBe(SC(0, 0x13)); // PRP1 not DW aligned
    expect(h.io(rw(R, 0, 16, DATA + 0x800n, DATA + 0x1004n)).code).toBe(SC(0, 0x13)); // PRP2 page with offset (2 pages)
    expect(h.io(rw(R, 0, 24, DATA, DATA + 0x10004n)).code).toBe(SC(0, 0x13)); // list pointer not QW aligned
    h.memory.writeU64(DATA + 0x10000n, DATA + 0x20000n);
    h.memory.writeU64(DATA + 0x10008n, DATA + 0x30010n);
    expect(h.io(rw(R, 0, 24, DATA, DATA + 0x10000n)).code).toBe(SC(0, 0x13)); // list entry with offset
  });

  it("enforces MDTS, LBA range, namespace and opcode", () => {
    const h = new TestHost({ mdts: 2, namespaces: [{ lbaSize: 512, capacityBlocks: 1024 }], maxNamespaces: 2 });
    h.bringUp();
    expect(h.io(rw(R, 0, 33, DATA)).code).toBe(SC(0, 0x02)); // 16.5 KiB > 16 KiB
    expect(h.io(rw(R, 0, 32, DATA, DATA + 0x10000n)).code).toBe(0); // exactly MDTS
    expect(h.io(rw(R, 1000, 25, DATA)).code).toBe(SC(0, 0x80));
    const far = h.io(sqe({ opcode: R, nsid: 1, prp1: DATA, cdw10: 0, cdw11: 1, cdw12: 0 }));
    expect(far.code).toBe(SC(0, 0x80));
    expect(far.dnr).toBe(true);
    expect(h.io(rw(R, 0, 1, DATA, 0n, 0)).code).toBe(SC(0, 0x0b));
    expect(h.io(rw(R, 0, 1, DATA, 0n, 3)).code).toBe(SC(0, 0x0b));
    expect(h.io(rw(R, 0, 1, DATA, 0n, 2)).code).toBe(SC(0, 0x02)); // valid but inactive
    expect(h.io(sqe({ opcode: 0x7c, nsid: 1 })).code).toBe(SC(0, 0x01));
  });

  it("works with 4096-byte LBAs on a second namespace", () => {
    const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: 64 }, { lbaSize: 4096, capacityBlocks: 64 }] });
    h.bringUp();
    const data = pattern(8192, 4);
    h.memory.write(DATA, data);
    expectOk(h.io(rw(W, 3, 2, DATA, DATA + 0x1000n, 2)), "write ns2");
    expectOk(h.io(rw(R, 3, 2, DATA + 0x10000n, DATA + 0x11000n, 2)), "read ns2");
    expect(h.memory.read(DATA + 0x10000n, 8192)).toEqual(data);
    expect(h.io(rw(R, 63, 2, DATA, DATA + 0x1000n, 2)).code).toBe(0x80);
  });

  it("Write Zeroes and Dataset Management deallocate read back as zeroes", () => {
    const h = new TestHost();
    h.bringUp();
    h.memory.write(DATA, pattern(8192, 5));
    expectOk(h.io(rw(W, 0, 16, DATA, DATA + 0x1000n)), "write");
    expectOk(h.io(sqe({ opcode: 0x08, nsid: 1, cdw10: 2, cdw12: 1 })), "write zeroes 2..3");
    const ranges = DATA + 0x40000n;
    h.memory.write(ranges, new Uint8Array(32));
    h.memory.writeU32(ranges + 4n, 2);
    h.memory.writeU64(ranges + 8n, 10n);
    h.memory.writeU32(ranges + 16n + 4n, 0xffffffff); // a huge range that is out of bounds
    h.memory.writeU64(ranges + 16n + 8n, 0n);
    expect(h.io(sqe({ opcode: 0x09, nsid: 1, prp1: ranges, cdw10: 1, cdw11: 1 << 2 })).code).toBe(0x80);
    h.memory.writeU32(ranges + 16n + 4n, 0);
    expectOk(h.io(sqe({ opcode: 0x09, nsid: 1, prp1: ranges, cdw10: 1, cdw11: 1 << 2 })), "deallocate 10..11");
    expectOk(h.io(rw(R, 0, 16, DATA + 0x10000n, DATA + 0x11000n)), "read");
    const back = h.memory.read(DATA + 0x10000n, 8192);
    const original = pattern(8192, 5);
    for (let lba = 0; lba < 16; lba++) {
      const block = back.subarray(lba * 512, (lba + 1) * 512);
      const zero = lba === 2 || lba === 3 || lba === 10 || lba === 11;
      expect(zero ? block.every((b) => b === 0) : block.every((b, i) => b === original[lba * 512 + i])).toBe(true);
    }
    expect(h.io(sqe({ opcode: 0x08, nsid: 1, cdw10: 0xffffff00, cdw11: 0xffffffff, cdw12: 0 })).code).toBe(0x80);
  });

  it("deallocates a whole 2 TB namespace without touching every block", () => {
    const blocks = (2 * 1024 ** 4) / 512;
    const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: blocks }] });
    h.bringUp();
    h.memory.write(DATA, pattern(4096, 6));
    expectOk(h.io(rw(W, blocks - 8, 8, DATA)), "write at the end");
    expect(h.ssd.controller.media[0].storedBlocks).toBe(8);
    const ranges = DATA + 0x40000n;
    h.memory.write(ranges, new Uint8Array(16));
    h.memory.writeU32(ranges + 4n, 0xffffffff);
    h.memory.writeU64(ranges + 8n, BigInt(blocks - 0xffffffff));
    expectOk(h.io(sqe({ opcode: 0x09, nsid: 1, prp1: ranges, cdw10: 0, cdw11: 1 << 2 })), "trim");
    expectOk(h.io(rw(R, blocks - 8, 8, DATA + 0x10000n)), "read");
    expect(h.memory.read(DATA + 0x10000n, 4096).every((b) => b === 0)).toBe(true);
  });

  it("Flush completes only after the write cache drained (consumer timing)", () => {
    const h = new TestHost({ timing: "consumerSsd" });
    h.bringUp();
    h.memory.write(DATA, pattern(65536, 7));
    const prpList = DATA + 0x100000n;
    for (let i = 1; i < 16; i++) h.memory.writeU64(prpList + BigInt((i - 1) * 8), DATA + BigInt(i) * 4096n);
    const t0 = h.cycle;
    expectOk(h.io(rw(W, 0, 128, DATA, prpList)), "cached write");
    const writeLatency = h.cycle - t0;
    const t1 = h.cycle;
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush");
    const flushLatency = h.cycle - t1;
    expect(flushLatency).toBeGreaterThan(h.ssd.timing.params.programLatencyCycles - writeLatency);
    expect(h.ssd.controller.media[0].unpersisted.length).toBe(0);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 0xffffffff })), "flush all namespaces");
  });

  it("posts completions with SQ head, SQ ID, CID and a phase that flips on wrap", () => {
    const h = new TestHost();
    h.bringUp({ ioDepth: 4 });
    const seen: { phase: number; sqHead: number; cid: number; sqid: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const cid = h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
      const c = h.reap(1);
      expect(c.cid).toBe(cid);
      seen.push({ phase: c.phase, sqHead: c.sqHead, cid: c.cid, sqid: c.sqid });
    }
    expect(seen.map((s) => s.phase)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(seen.map((s) => s.sqHead)).toEqual([1, 2, 3, 0, 1, 2]);
    expect(seen.every((s) => s.sqid === 1)).toBe(true);
  });

  it("holds completions while the CQ is full and posts them when the host frees entries", () => {
    const h = new TestHost();
    h.bringUp({ ioDepth: 4 });
    for (let i = 0; i < 3; i++) h.submit(1, sqe({ opcode: 0x00, nsid: 1 }), false);
    h.ringSq(1);
    h.settle();
    // CQ of 4 entries holds 3; consume none yet, then submit two more.
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }), false);
    h.ringSq(1);
    h.settle();
    expect(h.ssd.controller.cqs.get(1)!.waiting.length).toBe(1);
    const first = h.reap(1);
    expect(first.code).toBe(0);
    h.settle();
    expect(h.ssd.controller.cqs.get(1)!.waiting.length).toBe(0);
    for (let i = 0; i < 3; i++) expect(h.reap(1).code).toBe(0);
  });

  it("logs and ignores doorbell values beyond the queue and head doorbells passing the tail", () => {
    const h = new TestHost();
    h.bringUp({ ioDepth: 8 });
    h.mmioWrite32(0x1008, 8);
    h.mmioWrite32(0x100c, 3);
    h.mmioWrite32(0x1000 + 8 * 50, 1);
    expect(h.ssd.controller.stats.doorbellErrors).toBe(3);
    expect(h.ssd.log.count("doorbell-invalid")).toBe(3);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "still works");
  });
});
