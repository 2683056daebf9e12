import { describe, expect, it } from "vitest";
import type { MemRequest } from "../../../sim/pcie/tlp.ts";
import { CplStatus } from "../../../sim/pcie/tlp.ts";
import { Status } from "../../../sim/nvme/status.ts";
import { BAR0, DATA, expectOk, pattern, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

const read8 = (prp1: bigint) => sqe({ opcode: 0x02, nsid: 1, prp1, cdw12: 7 });

describe("NVMe SSD fault injection", () => {
  it("completes a chosen command with a chosen status, once", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.injectStatus({ sqid: 1, opcode: 0x02 }, { sct: 2, sc: 0x81, dnr: false });
    expect(h.io(read8(DATA)).code).toBe(0x281);
    expectOk(h.io(read8(DATA)), "second read");
    expect(h.ssd.faults.fired.status).toBe(1);
  });

  it("drops a completion: the host never sees it, later commands complete", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.dropCompletion({ opcode: 0x00 });
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
    h.settle();
    expect(h.peekCompletion(1)).toBeUndefined();
    expect(h.ssd.controller.stats.completionsDropped).toBe(1);
    expectOk(h.io(read8(DATA)), "read");
  });

  it("sends read data in poisoned TLPs", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.poisonReadData({ opcode: 0x02 });
    const from = h.upstream.length;
    expectOk(h.io(read8(DATA)), "read");
    const data = h.sent("MWr", from).filter((t) => (t as MemRequest).address >= DATA) as MemRequest[];
    expect(data.length).toBeGreaterThan(0);
    expect(data.every((t) => t.ep)).toBe(true);
    expect(h.responder.stats.poisonedWritesIgnored).toBe(data.length);
  });

  it("sends an admin command's data (Identify) in poisoned TLPs, once", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.poisonReadData({ sqid: 0, opcode: 0x06 });
    const identify = sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 });
    for (const poisoned of [true, false]) {
      const from = h.upstream.length;
      expectOk(h.admin(identify), "Identify");
      const data = h.sent("MWr", from).filter((t) => (t as MemRequest).address >= DATA) as MemRequest[];
      expect(data.reduce((bytes, t) => bytes + t.lengthDw * 4, 0)).toBe(4096);
      expect(data.every((t) => t.ep === poisoned)).toBe(true);
    }
    expect(h.ssd.faults.fired.poisonedData).toBe(1);
  });

  it("adds a latency spike to one command", () => {
    const h = new TestHost();
    h.bringUp();
    let t = h.cycle;
    expectOk(h.io(read8(DATA)), "read");
    const normal = h.cycle - t;
    h.ssd.faults.latencySpike({ opcode: 0x02 }, 100_000);
    t = h.cycle;
    expectOk(h.io(read8(DATA)), "slow read");
    expect(h.cycle - t).toBeGreaterThanOrEqual(100_000);
    expect(h.cycle - t).toBeGreaterThan(normal);
  });

  it("a completion held back by a latency spike is never posted once the controller was reset", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.latencySpike({ opcode: 0x00 }, 50_000);
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
    h.wait(1000);
    expect(h.ssd.faults.fired.latencySpike).toBe(1);
    h.mmioWrite32(0x14, 0x00460000);
    h.bringUp();
    const from = h.upstream.length;
    h.wait(100_000);
    expect(h.peekCompletion(1)).toBeUndefined();
    expect(h.sent("MWr", from)).toEqual([]);
  });

  it("answers MMIO reads with UR or CA when told to", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.failMmioReads("CA");
    h.ssd.faults.failMmioReads("UR");
    expect(h.memRead(BAR0).status).toBe(CplStatus.CA);
    expect(h.memRead(BAR0).status).toBe(CplStatus.UR);
    expect(h.memRead(BAR0).status).toBe(CplStatus.SC);
  });

  it("answers an MMIO read with poisoned data, or never, when told to", () => {
    const h = new TestHost();
    h.bringUp();
    const csts = h.mmioRead32(0x1c);
    h.ssd.faults.failMmioReads("poisoned");
    const poisoned = h.memRead(BAR0 + 0x1cn);
    expect(poisoned.status).toBe(CplStatus.SC);
    expect(poisoned.ep).toBe(true);
    h.ssd.faults.failMmioReads("dropped");
    const tag = 250; // a tag the harness does not hand out in this test
    h.send({ kind: "MRd", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag, address: BAR0 + 0x1cn, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 });
    h.settle();
    expect(h.completionsFor(tag)).toEqual([]);
    expect(h.mmioRead32(0x1c)).toBe(csts);
    expect(h.ssd.faults.fired.mmioReadFailure).toBe(2);
  });

  it("goes fatal (CSTS.CFS) at a matching command instead of executing it (fatalOnCommand)", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.fatalOnCommand({ sqid: 1, opcode: 0x02 });
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush before");
    h.submit(1, read8(DATA));
    h.settle();
    expect(h.peekCompletion(1)).toBeUndefined();
    expect(h.mmioRead32(0x1c) & 2).toBe(2);
    expect(h.ssd.faults.fired.fatalOnCommand).toBe(1);
  });

  it("moves a command's data pointer (misdirectData): its data goes where the host never mapped", () => {
    const h = new TestHost();
    h.bringUp();
    const offset = 0x4000_0000n;
    h.ssd.faults.misdirectData({ opcode: 0x02 }, offset);
    const from = h.upstream.length;
    expectOk(h.io(read8(DATA)), "misdirected read");
    const writes = h.sent("MWr", from) as MemRequest[];
    expect(writes.some((t) => t.address === DATA + offset)).toBe(true);
    expect(writes.some((t) => t.address === DATA)).toBe(false);
    const next = h.upstream.length;
    expectOk(h.io(read8(DATA)), "next read");
    expect((h.sent("MWr", next) as MemRequest[]).some((t) => t.address === DATA)).toBe(true);
    expect(h.ssd.faults.fired.misdirectedData).toBe(1);
    expect(() => h.ssd.faults.misdirectData({}, 0n)).toThrow(/offset 0/);
  });

  it("stops fetching commands (stopFetching) until the controller is reset", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.faults.stopFetching();
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
    h.settle();
    expect(h.peekCompletion(1)).toBeUndefined();
    expect(h.ssd.faults.fired.ignoredDoorbell).toBe(1);
    // Admin commands still run: only the I/O queues are ignored.
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    h.mmioWrite32(0x14, 0x00460000);
    h.enable();
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify after reset");
    expect(() => h.ssd.faults.stopFetching(0)).toThrow(/count 0/);
  });

  it("raises CSTS.CFS and stops processing until the controller is reset", () => {
    const h = new TestHost();
    h.bringUp();
    h.ssd.injectControllerFatal();
    expect(h.mmioRead32(0x1c) & 2).toBe(2);
    h.submit(1, sqe({ opcode: 0x00, nsid: 1 }));
    h.settle();
    expect(h.peekCompletion(1)).toBeUndefined();
    h.mmioWrite32(0x14, 0x00460000);
    expect(h.mmioRead32(0x1c)).toBe(0);
    h.enable();
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify after reset");
  });

  it("raises CSTS.CFS when CC.EN is set (fatalOnEnable), once; the next enable after a reset succeeds", () => {
    const h = new TestHost();
    h.enumerate();
    h.ssd.faults.fatalOnEnable();
    h.mmioWrite32(0x24, 0x000f000f);
    h.mmioWrite64(0x28, 0x10000n);
    h.mmioWrite64(0x30, 0x20000n);
    h.mmioWrite32(0x14, 0x00460001);
    expect(h.mmioRead32(0x1c) & 3).toBe(2); // CFS, not RDY
    h.settle();
    expect(h.ssd.nextEventCycle()).toBeUndefined(); // nothing pending: RDY will not come
    expect(h.mmioRead32(0x1c) & 3).toBe(2);
    h.mmioWrite32(0x14, 0x00460000);
    expect(h.mmioRead32(0x1c)).toBe(0);
    h.enable();
    expect(h.mmioRead32(0x1c) & 3).toBe(1);
    expect(h.ssd.faults.fired.fatalOnEnable).toBe(1);
  });

  it("never sets CSTS.RDY after CC.EN (neverReady), for the given number of enables", () => {
    const h = new TestHost();
    h.enumerate();
    h.ssd.faults.neverReady(2);
    for (let attempt = 0; attempt < 2; attempt++) {
      h.mmioWrite32(0x24, 0x000f000f);
      h.mmioWrite64(0x28, 0x10000n);
      h.mmioWrite64(0x30, 0x20000n);
      h.mmioWrite32(0x14, 0x00460001);
      h.settle();
      expect(h.ssd.nextEventCycle()).toBeUndefined(); // no ready timer pending
      expect(h.mmioRead32(0x1c)).toBe(0);
      h.mmioWrite32(0x14, 0x00460000);
    }
    h.enable();
    expect(h.mmioRead32(0x1c) & 1).toBe(1);
    expect(h.ssd.faults.fired.neverReady).toBe(2);
  });

  it("matches by namespace and command ID and fires the requested number of times", () => {
    const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: 100 }, { lbaSize: 512, capacityBlocks: 100 }] });
    h.bringUp();
    h.ssd.faults.injectStatus({ nsid: 2 }, Status.internalError, 2);
    expectOk(h.io(read8(DATA)), "ns1");
    const ns2 = sqe({ opcode: 0x02, nsid: 2, prp1: DATA, cdw12: 0 });
    expect(h.io(ns2).code).toBe(0x06);
    expect(h.io(ns2).code).toBe(0x06);
    expectOk(h.io(ns2), "third");
    h.ssd.faults.injectStatus({ cid: 777 }, Status.invalidField);
    expect(h.io({ ...ns2, cid: 777 }).code).toBe(0x02);
    h.memory.write(DATA, pattern(512, 1));
  });

  it("fails the next sanitize operations (failSanitize), then lets them succeed", () => {
    const h = new TestHost({ sanitizeBlockErase: true });
    h.bringUp();
    h.ssd.faults.failSanitize(1);
    const state = () => {
      expectOk(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x81 | (127 << 16) })), "sanitize log");
      return h.memory.read(DATA + 2n, 1)[0] & 7;
    };
    expectOk(h.admin(sqe({ opcode: 0x84, cdw10: 2 })), "first sanitize");
    h.wait(1000);
    expect(state()).toBe(3);
    expectOk(h.admin(sqe({ opcode: 0x84, cdw10: 2 })), "second sanitize");
    h.wait(1000);
    expect(state()).toBe(1);
    expect(h.ssd.faults.fired.sanitizeFailure).toBe(1);
  });
});
