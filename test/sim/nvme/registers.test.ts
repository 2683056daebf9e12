import { describe, expect, it } from "vitest";
import { ACQ, ASQ, TestHost } from "../../../sim/testbench/nvme-harness.ts";

describe("NVMe controller registers", () => {
  it("reports CAP and VS from the options", () => {
    const h = new TestHost({ mqes: 1023, capTimeout: 20, dstrd: 1, mpsmin: 0, mpsmax: 2 });
    h.enumerate();
    const cap = (BigInt(h.mmioRead32(4)) << 32n) | BigInt(h.mmioRead32(0));
    expect(Number(cap & 0xffffn)).toBe(1023);
    expect(Number((cap >> 16n) & 1n)).toBe(1); // CQR
    expect(Number((cap >> 24n) & 0xffn)).toBe(20);
    expect(Number((cap >> 32n) & 0xfn)).toBe(1);
    expect(Number((cap >> 37n) & 1n)).toBe(1);
    expect(Number((cap >> 48n) & 0xfn)).toBe(0);
    expect(Number((cap >> 52n) & 0xfn)).toBe(2);
    expect(h.mmioRead32(8)).toBe(0x00010400);
  });

  it("sets CSTS.RDY only after the ready delay and clears it on CC.EN = 0", () => {
    const h = new TestHost({ readyDelayCycles: 5000 });
    h.enumerate();
    h.mmioWrite32(0x24, 0x000f000f);
    h.mmioWrite64(0x28, ASQ);
    h.mmioWrite64(0x30, ACQ);
    const start = h.cycle;
    h.mmioWrite32(0x14, 0x00460001);
    expect(h.mmioRead32(0x1c) & 1).toBe(0);
    h.runUntil(() => (h.mmioRead32(0x1c) & 1) === 1);
    expect(h.cycle - start).toBeGreaterThanOrEqual(5000);
    expect(h.mmioRead32(0x14)).toBe(0x00460001);
    h.mmioWrite32(0x14, 0x00460000);
    expect(h.mmioRead32(0x1c)).toBe(0);
  });

  it("rejects a configuration outside CAP with CSTS.CFS", () => {
    const h = new TestHost({ mpsmax: 0 });
    h.enumerate();
    h.mmioWrite32(0x24, 0x000f000f);
    h.mmioWrite64(0x28, ASQ);
    h.mmioWrite64(0x30, ACQ);
    h.mmioWrite32(0x14, 0x00460001 | (1 << 7)); // MPS 8 KiB > MPSMAX
    h.settle();
    expect(h.mmioRead32(0x1c) & 3).toBe(2);
    expect(h.ssd.log.count("controller-fatal")).toBe(1);
  });

  it("refuses an admin queue of one entry", () => {
    const h = new TestHost();
    h.enumerate();
    h.mmioWrite32(0x24, 0);
    h.mmioWrite64(0x28, ASQ);
    h.mmioWrite64(0x30, ACQ);
    h.mmioWrite32(0x14, 0x00460001);
    h.settle();
    expect(h.mmioRead32(0x1c) & 3).toBe(2);
  });

  it("reports shutdown in progress, then complete after the cache drained", () => {
    const h = new TestHost({ timing: "consumerSsd", shutdownDelayCycles: 1000 });
    h.bringUp();
    h.mmioWrite32(0x14, 0x00460001 | (1 << 14));
    expect((h.mmioRead32(0x1c) >> 2) & 3).toBe(1);
    h.runUntil(() => ((h.mmioRead32(0x1c) >> 2) & 3) === 2);
    h.mmioWrite32(0x14, 0x00460000);
    expect(h.mmioRead32(0x1c)).toBe(0);
  });

  it("keeps read-only registers and CC fields that may not change while enabled", () => {
    const h = new TestHost();
    h.bringUp();
    h.mmioWrite32(0x08, 0x12345678);
    expect(h.mmioRead32(0x08)).toBe(0x00010400);
    h.mmioWrite32(0x14, 0x00460001 | (1 << 7));
    expect(h.mmioRead32(0x14)).toBe(0x00460001);
    expect(h.ssd.log.count("register-write-ignored")).toBe(1);
  });
});
