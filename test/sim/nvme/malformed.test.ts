import { describe, expect, it } from "vitest";
import type { Tlp } from "../../../sim/pcie/tlp.ts";
import { CplStatus } from "../../../sim/pcie/tlp.ts";
import { BAR0, DATA, expectOk, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

const base = { tc: 0, attr: 0, ep: false, td: false, requesterId: 0 };

describe("NVMe SSD against malformed TLPs", () => {
  it("answers a MRd crossing 4 KiB with UR and logs why", () => {
    const h = new TestHost();
    h.bringUp();
    const c = h.request({ ...base, kind: "MRd", tag: 9, address: BAR0 + 0xffcn, addr64: false, lengthDw: 2, firstBe: 0xf, lastBe: 0xf });
    expect(c.status).toBe(CplStatus.UR);
    expect(h.ssd.counters.malformedTlps).toBe(1);
    expect(h.ssd.log.inCategory("tlp-rejected").at(-1)!.reason).toMatch(/4 KiB/);
  });

  it("drops a MWr whose payload does not match its length, or exceeds MPS", () => {
    const h = new TestHost();
    h.bringUp({ mps: 128 });
    const before = h.mmioRead32(0x24);
    h.send({ ...base, kind: "MWr", tag: 0, address: BAR0 + 0x24n, addr64: false, lengthDw: 2, firstBe: 0xf, lastBe: 0xf, data: new Uint8Array(4) });
    h.send({ ...base, kind: "MWr", tag: 0, address: BAR0 + 0x2000n, addr64: false, lengthDw: 64, firstBe: 0xf, lastBe: 0xf, data: new Uint8Array(256) });
    expect(h.ssd.counters.postedDropped).toBe(2);
    expect(h.ssd.counters.malformedTlps).toBe(2);
    expect(h.mmioRead32(0x24)).toBe(before);
    const reasons = h.ssd.log.inCategory("tlp-rejected").map((e) => e.reason);
    expect(reasons.some((r) => /payload is 4 B but length says 2 DW/.test(r))).toBe(true);
    expect(reasons.some((r) => /exceeds MPS/.test(r))).toBe(true);
  });

  it("rejects illegal byte enables, ignores poisoned writes and messages", () => {
    const h = new TestHost();
    h.bringUp();
    const c = h.request({ ...base, kind: "MRd", tag: 3, address: BAR0, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0xf });
    expect(c.status).toBe(CplStatus.UR);
    h.send({ ...base, kind: "MWr", ep: true, tag: 0, address: BAR0 + 0x24n, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, data: new Uint8Array([1, 2, 3, 4]) });
    h.send({ ...base, kind: "Msg", tag: 0, routing: 0b100, messageCode: 0x50, headerTail: new Uint8Array(8), lengthDw: 0 });
    expect(h.ssd.counters.postedDropped).toBe(2);
    expect(h.mmioRead32(0x24)).toBe(0x000f000f);
  });

  it("never throws on nonsense records and keeps serving commands", () => {
    const h = new TestHost();
    h.bringUp();
    const junk = [
      { ...base, kind: "MRd", tag: 1, address: BAR0, addr64: false, lengthDw: 0, firstBe: 0xf, lastBe: 0 },
      { ...base, kind: "MRd", tag: 2, address: BAR0 + 1n, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 },
      { ...base, kind: "MWr", tag: 0, address: BAR0, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 },
      { ...base, kind: "CfgWr0", tag: 4, bus: 1, device: 0, fn: 0, register: 0x10, firstBe: 0xf },
      { ...base, kind: "CfgRd0", tag: 5, bus: 1, device: 0, fn: 0, register: 4097, firstBe: 0xf },
      { ...base, kind: "CplD", completerId: 0, status: 0, bcm: false, byteCount: 9999, requesterId: 0x100, tag: 1, lowerAddress: 0, lengthDw: 1, data: new Uint8Array(4) },
      { ...base, kind: "Bogus" },
      { ...base, kind: "MRd", tc: 9, tag: 6, address: BAR0, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 },
    ] as unknown as Tlp[];
    for (const tlp of junk) expect(() => h.send(tlp)).not.toThrow();
    expect(h.ssd.counters.malformedTlps).toBe(junk.length);
    const urs = h.ssd.counters.unsupportedRequests;
    expect(urs).toBe(5);
    h.settle();
    expectOk(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw12: 0 })), "read after junk");
  });

  it("answers a multi-DW MMIO read with correct byte count and lower address", () => {
    const h = new TestHost();
    h.bringUp();
    const c = h.request({ ...base, kind: "MRd", tag: 11, address: BAR0 + 0x20n, addr64: false, lengthDw: 4, firstBe: 0xc, lastBe: 0x3 });
    expect(c.status).toBe(CplStatus.SC);
    expect(c.byteCount).toBe(12);
    expect(c.lowerAddress).toBe(0x22);
    expect(c.lengthDw).toBe(4);
  });

  it("splits a large MMIO read into CplDs no bigger than MPS, cut at aligned addresses", () => {
    const h = new TestHost();
    h.bringUp({ mps: 128 });
    const tag = 12;
    h.completionsFor(tag).length = 0;
    h.send({ ...base, kind: "MRd", tag, address: BAR0 + BigInt(h.ssd.layout.msixTableOffset), addr64: false, lengthDw: 64, firstBe: 0xf, lastBe: 0xf });
    h.settle();
    const cpls = h.completionsFor(tag);
    expect(cpls.map((c) => c.lengthDw * 4)).toEqual([128, 128]);
    expect(cpls.map((c) => c.byteCount)).toEqual([256, 128]);
  });
});
