import { describe, expect, it } from "vitest";
import { CplStatus } from "../../../sim/pcie/tlp.ts";
import { BAR0, TestHost } from "../../../sim/testbench/nvme-harness.ts";

describe("NVMe SSD config space", () => {
  it("identifies as an NVMe controller with a capability list", () => {
    const h = new TestHost();
    expect(h.cfgRead(0x00)).toBe(0x00101b36);
    expect(h.cfgRead(0x08) >>> 8).toBe(0x010802);
    expect((h.cfgRead(0x04) >>> 16) & 0x10).toBe(0x10);
    const ids: number[] = [];
    for (let p = h.cfgRead(0x34) & 0xfc; p !== 0; p = (h.cfgRead(p) >>> 8) & 0xfc) ids.push(h.cfgRead(p) & 0xff);
    expect(ids).toEqual([0x10, 0x11, 0x01]);
  });

  it("sizes BAR0 as a 64-bit BAR and decodes MMIO only with Memory Space Enable", () => {
    const h = new TestHost();
    expect(h.cfgRead(0x10) & 0xf).toBe(0b0100);
    h.cfgWrite(0x10, 0xffffffff);
    h.cfgWrite(0x14, 0xffffffff);
    const low = h.cfgRead(0x10);
    const high = h.cfgRead(0x14);
    const mask = (BigInt(high) << 32n) | BigInt(low & 0xfffffff0);
    const size = (~mask + 1n) & 0xffffffffffffffffn;
    expect(size).toBe(BigInt(h.ssd.layout.size));
    expect(size >= 16384n).toBe(true);
    h.cfgWrite(0x10, Number(BAR0));
    h.cfgWrite(0x14, 0);
    expect(h.memRead(BAR0).status).toBe(CplStatus.UR);
    h.cfgWrite(0x04, 0x2, 0b0011);
    const cap = h.memRead(BAR0, 2, 0xf, 0xf);
    expect(cap.status).toBe(CplStatus.SC);
    expect(cap.data!.length).toBe(8);
    expect(h.memRead(BAR0 + BigInt(h.ssd.layout.size)).status).toBe(CplStatus.UR);
    expect(h.ssd.counters.unsupportedRequests).toBe(2);
    expect((h.cfgRead(0x48) >>> 16) & 0x8).toBe(0x8); // DevStatus.UR detected
  });

  it("sizes BAR0 as a 32-bit BAR when asked, with BAR1 unimplemented", () => {
    const h = new TestHost({ bar0AddressBits: 32, bar0Size: 65536 });
    expect(h.cfgRead(0x10) & 0xf).toBe(0b0000);
    h.cfgWrite(0x10, 0xffffffff);
    h.cfgWrite(0x14, 0xffffffff);
    expect(h.cfgRead(0x10) >>> 0).toBe(0xffff0000);
    expect(h.cfgRead(0x14)).toBe(0);
    h.cfgWrite(0x10, 0xe0010000);
    h.cfgWrite(0x04, 0x2, 0b0011);
    expect(h.ssd.config.bar0Base).toBe(0xe0010000n);
    expect(h.memRead(0xe0010000n).status).toBe(CplStatus.SC);
    expect(h.memRead(0xe0000000n).status).toBe(CplStatus.UR);
  });

  it("offers another class code when configured (a device that is not NVMe)", () => {
    expect(new TestHost({ classCode: 0x010601 }).cfgRead(0x08) >>> 8).toBe(0x010601);
    expect(() => new TestHost({ classCode: 0x1000000 })).toThrow(/classCode 16777216/);
    expect(() => new TestHost({ bar0AddressBits: 48 as 32 })).toThrow(/bar0AddressBits 48/);
  });

  it("reports MPS/ExtTag in DevCap, takes MPS/MRRS in DevCtl and shows the link", () => {
    const h = new TestHost({ maxPayloadSupported: 256 });
    expect(h.cfgRead(0x44) & 0x7).toBe(1);
    expect((h.cfgRead(0x44) >> 5) & 1).toBe(1);
    expect(h.cfgRead(0x48) & 0xffff).toBe(0x2810);
    h.enumerate(256, 1024);
    expect(h.ssd.config.maxPayloadBytes).toBe(256);
    expect(h.ssd.config.maxReadRequestBytes).toBe(1024);
    const linkStatus = h.cfgRead(0x50) >>> 16;
    expect(linkStatus & 0xf).toBe(2);
    expect((linkStatus >> 4) & 0x3f).toBe(4);
  });

  it("describes the MSI-X table in BAR0 and keeps Status bits write-1-to-clear", () => {
    const h = new TestHost();
    const control = h.cfgRead(0x80) >>> 16;
    expect((control & 0x7ff) + 1).toBe(65);
    expect(h.cfgRead(0x84)).toBe(h.ssd.layout.msixTableOffset);
    expect(h.cfgRead(0x88)).toBe(h.ssd.layout.msixPbaOffset);
    h.memRead(0x1234n); // UR sets DevStatus.URD
    expect((h.cfgRead(0x48) >>> 16) & 0x8).toBe(0x8);
    h.cfgWrite(0x48, 0x0008 << 16, 0b0100);
    expect((h.cfgRead(0x48) >>> 16) & 0x8).toBe(0);
  });

  it("answers CRS for the configured time after reset, then succeeds", () => {
    const h = new TestHost({ crsCycles: 1000 });
    expect(h.cfgRequest("CfgRd0", 0).status).toBe(CplStatus.CRS);
    expect(h.ssd.counters.crsCompletions).toBe(1);
    h.cycle = 1000;
    expect(h.cfgRead(0)).toBe(0x00101b36);
    h.ssd.reset(h.cycle);
    expect(h.cfgRequest("CfgRd0", 0).status).toBe(CplStatus.CRS);
  });

  it("setCrsCycles changes the CRS window of the following resets, not the current one", () => {
    const h = new TestHost({ crsCycles: 1_000_000 });
    h.ssd.setCrsCycles(500);
    expect(h.cfgRequest("CfgRd0", 0).status).toBe(CplStatus.CRS);
    h.cycle = 2000;
    expect(h.cfgRequest("CfgRd0", 0).status).toBe(CplStatus.CRS); // still the window of the first reset
    const reset = h.cycle;
    h.ssd.reset(reset);
    expect(h.cfgRequest("CfgRd0", 0).status).toBe(CplStatus.CRS);
    h.cycle = reset + 500;
    expect(h.cfgRead(0)).toBe(0x00101b36);
    expect(h.ssd.options.crsCycles).toBe(500);
    expect(() => h.ssd.setCrsCycles(-1)).toThrow(/setCrsCycles\(-1\)/);
  });

  it("answers UR to other functions and type-1 requests and captures its bus number", () => {
    const h = new TestHost();
    expect(h.cfgRequest("CfgRd0", 0, 0, 0xf, 3).status).toBe(CplStatus.UR);
    const t1 = h.request({ kind: "CfgRd1", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: 77, bus: 2, device: 0, fn: 0, register: 0, firstBe: 0xf });
    expect(t1.status).toBe(CplStatus.UR);
    h.cfgWrite(0x3c, 0x0b, 0b0001);
    expect(h.ssd.requesterId).toBe(0x0100);
    expect(h.cfgRead(0x3c) & 0xff).toBe(0x0b);
  });
});
