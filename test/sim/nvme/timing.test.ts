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

  it("erases at parallelUnits x eraseBlockBytes per tBERS; an overwrite pass erases then programs every page", () => {
    const p = { ...timingPresets.consumerSsd, parallelUnits: 4, eraseBlockBytes: 1 << 20, blockEraseLatencyCycles: 1000, mediaPageBytes: 16384, programLatencyCycles: 100, mediaBytesPerCycle: 8 };
    const t = new TimingModel(p);
    expect(t.blockEraseCycles(4 << 20)).toBe(1000);
    expect(t.blockEraseCycles((4 << 20) + 1)).toBe(2000);
    // 64 pages over 4 units: 16 rounds of 100 cycles, but the bus needs 1 MiB / 8 = 131072 cycles.
    expect(t.overwritePassCycles(1 << 20)).toBe(1000 + (1 << 20) / 8);
    const fastBus = new TimingModel({ ...p, mediaBytesPerCycle: 1 << 20 });
    expect(fastBus.overwritePassCycles(1 << 20)).toBe(1000 + 16 * 100);
    expect(new TimingModel(timingPresets.instant).overwritePassCycles(1 << 30)).toBe(0);
  });

  it("the presets erase a 1 TB drive in a realistic time: seconds for a block erase, tens of minutes per overwrite pass", () => {
    const terabyte = 1e12;
    const seconds = (cycles: number) => cycles / 250e6;
    const consumer = new TimingModel(timingPresets.consumerSsd);
    expect(seconds(consumer.blockEraseCycles(terabyte))).toBeGreaterThan(5);
    expect(seconds(consumer.blockEraseCycles(terabyte))).toBeLessThan(60);
    expect(seconds(consumer.overwritePassCycles(terabyte)) / 60).toBeGreaterThan(20);
    expect(seconds(consumer.overwritePassCycles(terabyte)) / 60).toBeLessThan(90);
    expect(seconds(timingPresets.consumerSsd.cryptoEraseCycles)).toBeLessThan(1);
  });
});
