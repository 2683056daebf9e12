import { describe, expect, it } from "vitest";
import type { MemRequest, Tlp } from "../../../sim/pcie/tlp.ts";
import { DATA, expectOk, pattern, sameBytes, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

function rw(opcode: number, slba: number, blocks: number, prp1: bigint, prp2 = 0n) {
  return sqe({ opcode, nsid: 1, prp1, prp2, cdw10: slba, cdw12: blocks - 1 });
}

function memRequests(tlps: Tlp[], kind: "MRd" | "MWr"): MemRequest[] {
  return tlps.filter((t): t is MemRequest => t.kind === kind);
}

/** A 64 KiB buffer starting 0x600 into a page, described by a PRP list. */
function scatteredBuffer(h: TestHost, base: bigint, list: bigint): { prp1: bigint; prp2: bigint } {
  const first = base + 0x600n;
  for (let i = 1; i <= 16; i++) h.memory.writeU64(list + BigInt((i - 1) * 8), base + BigInt(i) * 0x2000n);
  return { prp1: first, prp2: list };
}

describe("NVMe SSD DMA engine", () => {
  for (const [mps, mrrs] of [
    [128, 512],
    [256, 128],
    [512, 4096],
  ]) {
    it(`keeps MRd <= MRRS ${mrrs}, MWr <= MPS ${mps}, never across 4 KiB`, () => {
      const h = new TestHost({ mdts: 0 });
      h.bringUp({ mps, mrrs });
      const { prp1, prp2 } = scatteredBuffer(h, DATA, DATA + 0x80000n);
      const from = h.upstream.length;
      expectOk(h.io(rw(0x01, 0, 128, prp1, prp2)), "write");
      expectOk(h.io(rw(0x02, 0, 128, prp1, prp2)), "read");
      const tlps = h.upstream.slice(from).map((s) => s.tlp);
      const reads = memRequests(tlps, "MRd");
      const writes = memRequests(tlps, "MWr");
      expect(reads.length).toBeGreaterThan(64 * 1024 / mrrs - 1);
      expect(writes.length).toBeGreaterThan(64 * 1024 / mps - 1);
      for (const t of [...reads, ...writes]) {
        const end = t.address + BigInt(t.lengthDw * 4) - 1n;
        expect(end >> 12n).toBe(t.address >> 12n);
      }
      for (const t of reads) expect(t.lengthDw * 4).toBeLessThanOrEqual(mrrs);
      for (const t of writes) expect(t.lengthDw * 4).toBeLessThanOrEqual(mps);
    });
  }

  it("keeps several reads in flight with distinct tags and reassembles RCB-split completions", () => {
    const h = new TestHost({ mdts: 0 }, { splitBytes: 64, maxPayloadBytes: 128 });
    h.bringUp({ mps: 128, mrrs: 512 });
    const data = pattern(65536 + 0xa00, 9);
    h.memory.write(DATA, data);
    const { prp1, prp2 } = { prp1: DATA + 0x600n, prp2: DATA + 0x80000n };
    for (let i = 1; i <= 16; i++) h.memory.writeU64(prp2 + BigInt((i - 1) * 8), DATA + BigInt(i) * 0x1000n);
    expectOk(h.io(rw(0x01, 0, 128, prp1, prp2)), "write");
    expect(h.ssd.controller.dma.counters.maxTagsInFlight).toBeGreaterThan(8);
    expect(h.responder.stats.completions).toBeGreaterThan(h.responder.stats.reads);
    expectOk(h.io(rw(0x02, 0, 128, DATA + 0x200000n)), "read");
    // The read went to PRP1 only for the first page; compare what the write took with what the media holds.
    const media = h.ssd.controller.media[0].read(0, 128);
    expect(sameBytes(media, data.subarray(0x600, 0x600 + 65536))).toBe(true);
  });

  it("uses 8-bit tags only with Extended Tag Enable", () => {
    for (const extTag of [false, true]) {
      const h = new TestHost({ mdts: 0 });
      h.bringUp({ mps: 128, mrrs: 128 });
      if (extTag) h.cfgWrite(0x48, h.cfgRead(0x48) | (1 << 8), 0b0011);
      h.memory.write(DATA, pattern(65536, 11));
      for (let i = 1; i <= 16; i++) h.memory.writeU64(DATA + 0x80000n + BigInt((i - 1) * 8), DATA + BigInt(i) * 0x1000n);
      const from = h.upstream.length;
      expectOk(h.io(rw(0x01, 0, 128, DATA, DATA + 0x80000n)), "write");
      const tags = memRequests(h.upstream.slice(from).map((s) => s.tlp), "MRd").map((t) => t.tag);
      const max = h.ssd.controller.dma.counters.maxTagsInFlight;
      if (extTag) expect(max).toBeGreaterThan(32);
      else {
        expect(max).toBe(32);
        expect(Math.max(...tags)).toBeLessThan(32);
      }
    }
  });

  it("uses 4DW headers for host memory above 4 GiB", () => {
    const h = new TestHost();
    h.bringUp();
    const high = 0x1_2345_0000n;
    h.memory.write(high, pattern(4096, 10));
    const from = h.upstream.length;
    expectOk(h.io(rw(0x01, 0, 8, high)), "write from high memory");
    const reads = memRequests(h.upstream.slice(from).map((s) => s.tlp), "MRd").filter((t) => t.address >= 1n << 32n);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((t) => t.addr64)).toBe(true);
  });

  for (const answer of ["UR", "CA", "poison", "silence"] as const) {
    it(`fails a write whose data read is answered ${answer} with Data Transfer Error`, () => {
      const h = new TestHost({ completionTimeoutCycles: 20_000 });
      h.bringUp();
      h.responder.answerRead = (req) => (req.address >= DATA && req.address < DATA + 0x10000n ? answer : "normal");
      const c = h.io(rw(0x01, 0, 8, DATA));
      expect(c.code).toBe(0x04);
      expect(c.dnr).toBe(false);
      expect(h.ssd.log.count("dma-error")).toBeGreaterThan(0);
      if (answer === "silence") expect(h.ssd.controller.dma.counters.timeouts).toBeGreaterThan(0);
      h.responder.answerRead = () => "normal";
      expectOk(h.io(rw(0x01, 0, 8, DATA)), "next write");
    });
  }

  it("takes the completion timeout from Device Control 2", () => {
    const h = new TestHost();
    h.bringUp();
    h.cfgWrite(0x68, 0b0001, 0b0001); // 50-100 us range
    expect(h.ssd.completionTimeoutCycles()).toBe(100 * 250);
    h.responder.answerRead = (req) => (req.address >= DATA && req.address < DATA + 0x10000n ? "silence" : "normal");
    const t = h.cycle;
    expect(h.io(rw(0x01, 0, 8, DATA)).code).toBe(0x04);
    expect(h.cycle - t).toBeLessThan(100 * 250 + 5000);
    h.cfgWrite(0x68, 0b10000, 0b0001);
    expect(h.ssd.completionTimeoutCycles()).toBe(Number.POSITIVE_INFINITY);
  });

  it("sets CSTS.CFS when a submission entry cannot be fetched", () => {
    const h = new TestHost();
    h.bringUp();
    h.responder.answerRead = (req) => (req.address >= 0x30000n && req.address < 0x31000n ? "UR" : "normal");
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
    h.settle();
    expect(h.mmioRead32(0x1c) & 2).toBe(2);
    expect(h.ssd.log.count("controller-fatal")).toBe(1);
  });

  it("logs completions that match no outstanding read and keeps working", () => {
    const h = new TestHost();
    h.bringUp();
    h.send({ kind: "CplD", tc: 0, attr: 0, ep: false, td: false, completerId: 0, status: 0, bcm: false, byteCount: 4, requesterId: h.ssd.requesterId, tag: 200, lowerAddress: 0, lengthDw: 1, data: new Uint8Array(4) });
    expect(h.ssd.counters.unexpectedCompletions).toBe(1);
    expect(h.ssd.log.count("completion-unexpected")).toBe(1);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush");
  });

  it("does not read or write host memory without Bus Master Enable", () => {
    const h = new TestHost();
    h.bringUp();
    h.cfgWrite(0x04, 0x0002, 0b0011);
    const from = h.upstream.length;
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
    h.settle();
    expect(h.sent("MRd", from).length).toBe(0);
    expect(h.mmioRead32(0x1c) & 2).toBe(2);
  });
});
