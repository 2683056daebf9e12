import { describe, expect, it } from "vitest";
import { TimingModel, timingPresets } from "../../../sim/nvme/timing.ts";
import { DATA, expectOk, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

function qd1ReadCycles(timing: "fastSsd" | "consumerSsd"): number {
  const h = new TestHost({ timing });
  h.bringUp();
  const t = h.cycle;
  expectOk(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw12: 7 })), "read");
  return h.cycle - t;
}

describe("NVMe SSD timing model", () => {
  it("the consumer preset is slower per command than the fast preset, which is still above its media latency", () => {
    const fast = qd1ReadCycles("fastSsd");
    const consumer = qd1ReadCycles("consumerSsd");
    expect(fast).toBeGreaterThan(timingPresets.fastSsd.readLatencyCycles);
    expect(consumer).toBeGreaterThan(timingPresets.consumerSsd.readLatencyCycles + timingPresets.consumerSsd.commandOverheadCycles);
    expect(consumer).toBeGreaterThan(fast * 3);
  });

  it("spreads media reads over parallel units and serialises them on the internal bus", () => {
    const t = new TimingModel({ ...timingPresets.consumerSsd, parallelUnits: 4, mediaBytesPerCycle: 16 });
    const page = timingPresets.consumerSsd.mediaPageBytes;
    const tR = timingPresets.consumerSsd.readLatencyCycles;
    expect(t.readReady(4 * page, 0)).toBe(tR + 4 * (page / 16));
    expect(t.readReady(page, 0)).toBe(2 * tR + page / 16);
  });

  it("completes cached writes early, and Flush waits for the program", () => {
    const p = timingPresets.consumerSsd;
    const t = new TimingModel(p);
    const w = t.write(4096, 0, true);
    expect(w.completeAt).toBeLessThan(w.persistAt);
    expect(t.flushDone(0)).toBe(w.persistAt + p.flushOverheadCycles);
    const direct = t.write(4096, 0, false);
    expect(direct.completeAt).toBe(direct.persistAt);
  });

  it("stalls cached writes when the cache is full", () => {
    const t = new TimingModel({ ...timingPresets.consumerSsd, writeCacheBytes: 8192 });
    const a = t.write(8192, 0, true);
    const b = t.write(4096, 0, true);
    expect(b.completeAt).toBeGreaterThanOrEqual(a.persistAt);
  });

  it("queues commands for the firmware cores", () => {
    const t = new TimingModel({ ...timingPresets.consumerSsd, controllerCores: 2, commandOverheadCycles: 100 });
    expect([t.commandStart(0), t.commandStart(0), t.commandStart(0)]).toEqual([100, 100, 200]);
  });
});
