// The analytic estimator (sim/estimate/): its link arithmetic against hand-computed numbers, the
// binding constraint moving as the system changes, the report, bad input, and its agreement with the
// models themselves: the reference host over the link and SSD models, where the link or the SSD binds.
import { describe, expect, it } from "vitest";
import { BINDING_SHARE, estimate, linkCeiling, type Estimate } from "../../../sim/estimate/estimate.ts";
import { commandTraffic, type TrafficParams } from "../../../sim/estimate/command-traffic.ts";
import { skpShare, streamCeiling, tlpBeats, tlpsPerDllp, tlpWireBytes, wireBytesPerCycle } from "../../../sim/estimate/link-budget.ts";
import { queueingRate } from "../../../sim/estimate/loop-limits.ts";
import { estimateJson, formatEstimate } from "../../../sim/estimate/report.ts";
import { analyticPayloadCeiling, DEFAULT_LINK_PARAMS } from "../../../sim/pcie/link-params.ts";
import { timingPresets } from "../../../sim/nvme/timing.ts";
import { jobFor, systemFor, type ComparisonCase } from "../../../sim/testbench/estimate-cases.ts";
import { runReferenceIo } from "../../../sim/testbench/reference-io-run.ts";
import type { JobSpec, SystemSpec } from "../../../sim/workload/job.ts";

const KIB = 1024;
const GEN2_X4_BYTES_PER_SECOND = 2e9;
const GEN12_SKP = 4 / 1180;

function job(over: Partial<JobSpec> = {}): JobSpec {
  return {
    name: "job", rw: "randread", bs: 4 * KIB, iodepth: 1, size: null, offset: 0, numberIos: 10_000, runtimeNs: null, rampTimeNs: 0,
    timeBased: false, rwmixread: 50, numjobs: 1, verify: false, randseed: 1, stonewall: false, groupReporting: false, ...over,
  };
}

function system(over: Partial<SystemSpec> = {}, preset: "fastSsd" | "consumerSsd" | "instant" = "fastSsd", ssd: object = {}): SystemSpec {
  return {
    ssd: { source: preset, preset, options: { timing: preset, ...ssd }, faults: [] },
    gen: 2, lanes: 4, mps: 256, mrrs: 512, slots: 32, bufferBytes: 128 * KIB, maxPieceBytes: 32 * KIB, engine: "js", ...over,
  };
}

function bound(e: Estimate, key: string): number {
  const c = e.constraints.find((x) => x.key === key);
  if (!c) throw new Error(`no constraint ${key} in ${e.constraints.map((x) => x.key).join(", ")}`);
  return c.bytesPerSecond;
}

function bindingKey(e: Estimate): string {
  return e.constraints.find((c) => c.binds)!.key;
}

describe("link arithmetic", () => {
  it("prices a TLP on the wire and on the 64-bit AXI side (PROTOCOL_FACTS A.4, F.1)", () => {
    // STP 1 + sequence 2 + LCRC 4 + END 1, 3DW header, payload.
    expect(tlpWireBytes(0)).toBe(20);
    expect(tlpWireBytes(4)).toBe(24);
    expect(tlpWireBytes(16)).toBe(36);
    expect(tlpWireBytes(256)).toBe(276);
    // 3DW + N DW: ceil((3 + N) / 2) beats; a request without data still takes two.
    expect(tlpBeats(0)).toBe(2);
    expect(tlpBeats(4)).toBe(2);
    expect(tlpBeats(16)).toBe(4);
    expect(tlpBeats(64)).toBe(10);
    expect(tlpBeats(128)).toBe(18);
    expect(tlpBeats(256)).toBe(34);
    expect(tlpBeats(512)).toBe(66);
  });

  it("gives each generation its line code and SKP share", () => {
    expect(wireBytesPerCycle(1, 4)).toBe(4);
    expect(wireBytesPerCycle(2, 4)).toBe(8);
    expect(wireBytesPerCycle(2, 1)).toBe(2);
    // 8 GT/s x 4 lanes x 128/130 / 8 bits = 3.938 GB/s = 15.75 bytes per 4 ns.
    expect(wireBytesPerCycle(3, 4)).toBeCloseTo((8e9 * 4 * (128 / 130)) / 8 / 250e6, 9);
    expect(skpShare(2, 4, 1180)).toBeCloseTo(GEN12_SKP, 12);
    expect(skpShare(3, 4, 370 * 16)).toBeCloseTo(1 / 370, 12);
  });

  it("matches the facts digest's F.2 table and the link bench's analytic ceiling", () => {
    const link = { ...DEFAULT_LINK_PARAMS, generation: 2 as const, lanes: 4 };
    // 256 / 276 of 2 GB/s, less 4 SKP symbols per 1180: 1.8487 GB/s.
    expect(streamCeiling(link, 256)).toBeCloseTo(GEN2_X4_BYTES_PER_SECOND * (256 / 276) * (1 - GEN12_SKP), 0);
    for (const mps of [128, 256, 512]) expect(streamCeiling(link, mps)).toBeCloseTo(analyticPayloadCeiling(2, 4, mps, 12, 1180), 0);
    // 128 B: 86.5 % -> 1.730 GB/s before SKP.
    expect(streamCeiling({ ...link, skpIntervalSymbols: Infinity }, 128) / 1e9).toBeCloseTo(1.7297, 4);
  });

  it("counts the TLPs the receivers' Acks and UpdateFCs answer", () => {
    const idle = { busy: 0, tlpCycles: 0 };
    // Every 4 TLPs or 64 cycles: TLPs 10 cycles apart fall due by count, 4 each.
    expect(tlpsPerDllp(10, 4, 64, idle)).toBe(4);
    // 34.5 cycles apart (256-byte MWrs at Gen2 x4): the timer, after the first and the second.
    expect(tlpsPerDllp(34.5, 4, 64, idle)).toBe(2);
    expect(tlpsPerDllp(100, 4, 64, idle)).toBe(1);
    // On a wire busy with 66.5-cycle TLPs the DLLP waits for the end of one: a second TLP comes in
    // unless the wait is under 2.5 cycles (2 - 2.5 / 66.5, averaged over 64 points).
    expect(tlpsPerDllp(66.5, 4, 64, { busy: 1, tlpCycles: 66.5 })).toBeCloseTo(2 - 2.5 / 66.5, 1);
  });

  it("counts a 4 KiB read's and write's TLPs as the SSD model and the controller cut them", () => {
    const p: TrafficParams = { mps: 256, mrrs: 512, rcb: 64, completionSplit: "largest", entriesPerFetch: 1, doorbellsPerCommand: 2 };
    const read = commandTraffic(true, 4096, p);
    // Up: 16 MWr of 256 B + CQ entry + SQ entry fetch MRd.
    expect(read.up.tlps).toBe(18);
    expect(read.up.wireBytes).toBe(16 * 276 + 36 + 20);
    // Down: two doorbells + the 64-byte SQ entry CplD (F.3's 48 + 84 bytes).
    expect(read.down.wireBytes).toBe(2 * 24 + 84);
    const write = commandTraffic(false, 4096, p);
    // Down: 8 MRRS reads answered by 2 CplDs of 256 B each, the SQ entry, the doorbells.
    expect(write.down.completions).toBe(16 + 1);
    expect(write.down.wireBytes).toBe(16 * 276 + 84 + 48);
    expect(write.up.nonPosted).toBe(8 + 1);
    // The reference transport answers in 64-byte CplDs: 64 of them, 84 bytes each.
    const rcb = commandTraffic(false, 4096, { ...p, completionSplit: "rcb" });
    expect(rcb.down.completions).toBe(64 + 1);
    // 128 KiB: a PRP list of 31 entries (248 B) read once.
    const big = commandTraffic(true, 128 * KIB, p);
    expect(big.up.nonPosted).toBe(2);
    expect(big.down.wireBytes).toBe(2 * 24 + 84 + tlpWireBytes(248));
  });

  it("gives the link's ceiling per direction: reads as MWr streams, writes with the MRds' DLLPs", () => {
    const c = linkCeiling(system());
    expect(c.read).toBeCloseTo(analyticPayloadCeiling(2, 4, 256, 12, 1180), 0);
    expect(c.write).toBeLessThan(c.read);
    expect(c.write).toBeGreaterThan(0.98 * c.read);
    const gen1 = linkCeiling(system({ gen: 1 }));
    expect(gen1.read / c.read).toBeCloseTo(0.5, 9);
  });
});

describe("what binds", () => {
  it("QD1: the latency of one command, a sum of named stages", () => {
    const e = estimate(job({ iodepth: 1 }), system(), undefined, { host: "reference" });
    expect(bindingKey(e)).toBe("queue_depth_latency");
    expect(e.read.meanLatencyNs).toBeCloseTo(e.read.unloadedLatencyNs, 6);
    const stages = e.read.stages.map((s) => s.name);
    expect(stages).toEqual(["SQ doorbell", "SQ entry fetch", "SSD firmware", "media read", "data + CQ entry up"]);
    const firmware = e.read.stages.find((s) => s.name === "SSD firmware")!;
    expect(firmware.ns).toBe(1000);
    // IOPS = one in flight / latency.
    expect(e.read.iops).toBeCloseTo(1e9 / e.read.meanLatencyNs, 3);
  });

  it("the controller adds its front, its doorbell path and the read-out of the data to the user port", () => {
    const reference = estimate(job(), system(), undefined, { host: "reference" });
    const controller = estimate(job(), system());
    const readOut = controller.read.stages.find((s) => s.name === "read-out to the user port")!;
    // 4 KiB at 8 bytes per 4 ns.
    expect(readOut.ns).toBe(2048);
    expect(controller.read.unloadedLatencyNs - reference.read.unloadedLatencyNs).toBeGreaterThan(readOut.ns);
  });

  it("between QD1 and the link, commands queue at the link and the user port: the loop falls short of n / latency", () => {
    const at = (iodepth: number) => estimate(job({ iodepth }), system());
    const qd1 = at(1);
    const unqueued = (n: number) => n * qd1.read.bytesPerSecond;
    // One command waits for nobody; each one more waits longer.
    expect(qd1.read.meanLatencyNs).toBeCloseTo(qd1.read.unloadedLatencyNs, 6);
    const shares = [2, 4, 8].map((n) => at(n).read.bytesPerSecond / unqueued(n));
    expect(shares[0]).toBeLessThan(1);
    expect(shares[1]).toBeLessThan(shares[0]);
    expect(shares[2]).toBeLessThan(shares[1]);
    // The emitted controller on Verilator (`npx tsx sim/bench/system-figures.ts --only fast-mps256-randread-4k-qd4`,
    // and qd8): 931.8 MB/s and 1.712 GB/s, where n / latency gave 1.034 and 1.849 GB/s.
    expect(at(4).read.bytesPerSecond / 931.8e6).toBeCloseTo(1, 1);
    expect(at(8).read.bytesPerSecond / 1.712e9).toBeCloseTo(1, 1);
    expect(bindingKey(at(8))).toBe("queue_depth_latency");
    // Once the link binds, it is the link's limit.
    expect(bindingKey(at(32))).toBe("link_up");
    expect(queueingRate(1, [100, 50], 850)).toBeCloseTo(1 / 1000, 12);
    expect(queueingRate(2.5, [100, 50], 850)).toBeCloseTo((queueingRate(2, [100, 50], 850) + queueingRate(3, [100, 50], 850)) / 2, 12);
  });

  it("sequential 128 KiB at QD32: the link, at the ceiling less per-command traffic", () => {
    const read = estimate(job({ rw: "read", bs: 128 * KIB, iodepth: 32 }), system(), undefined, { host: "reference" });
    expect(bindingKey(read)).toBe("link_up");
    expect(read.read.bytesPerSecond).toBeGreaterThan(0.99 * read.linkCeiling.read);
    const write = estimate(job({ rw: "write", bs: 128 * KIB, iodepth: 32 }), system(), undefined, { host: "reference" });
    expect(bindingKey(write)).toBe("link_down");
    expect(write.write.bytesPerSecond).toBeGreaterThan(0.98 * write.linkCeiling.write);
    // A bigger MPS, less framing.
    const mps512 = estimate(job({ rw: "read", bs: 128 * KIB, iodepth: 32 }), system({ mps: 512 }), undefined, { host: "reference" });
    expect(mps512.read.bytesPerSecond / read.read.bytesPerSecond).toBeCloseTo(streamCeiling({ ...DEFAULT_LINK_PARAMS }, 512) / streamCeiling({ ...DEFAULT_LINK_PARAMS }, 256), 2);
  });

  it("the controller's buffer: four 32 KiB pieces in flight hold a consumer SSD's sequential reads back; a bigger buffer moves the limit to the link", () => {
    const seq = job({ rw: "read", bs: 128 * KIB, iodepth: 32 });
    const small = estimate(seq, system({}, "consumerSsd"));
    expect(bindingKey(small)).toBe("read_buffer_bandwidth_delay");
    expect(small.read.bytesPerSecond).toBeLessThan(0.9 * bound(small, "link_up"));
    const big = estimate(seq, system({ bufferBytes: 1024 * KIB }, "consumerSsd"));
    expect(bindingKey(big)).toBe("link_up");
    expect(big.read.bytesPerSecond).toBeGreaterThan(small.read.bytesPerSecond);
  });

  it("the controller: its receive path keeps up with the link; two landed verdicts hold small writes back", () => {
    const reads = estimate(job({ rw: "read", bs: 32 * KIB, iodepth: 32 }), system({ bufferBytes: 1024 * KIB }));
    // 256-byte MWrs: 34 beats each against 34.5 cycles of wire, so the wire binds, as on the reference host.
    expect(bindingKey(reads)).toBe("link_up");
    expect(bound(reads, "axi_rx")).toBeGreaterThan(bound(reads, "link_up"));
    const referenceReads = estimate(job({ rw: "read", bs: 32 * KIB, iodepth: 32 }), system({ bufferBytes: 1024 * KIB }), undefined, { host: "reference" });
    expect(bound(reads, "axi_rx")).toBeCloseTo(bound(referenceReads, "axi_rx"), 6);
    const writes = estimate(job({ rw: "randwrite", iodepth: 32 }), system());
    expect(bindingKey(writes)).toBe("write_intake");
    // Two writes per (4 KiB of data in + one write's NVMe latency).
    const nvme = writes.write.unloadedLatencyNs - 4096 / 8 * 4 - 15 * 4;
    expect(writes.write.iops).toBeCloseTo(2 / ((4096 / 8 * 4 + 15 * 4 + nvme) * 1e-9), -3);
    const reference = estimate(job({ rw: "randwrite", iodepth: 32 }), system(), undefined, { host: "reference" });
    expect(reference.constraints.map((c) => c.key)).not.toContain("write_intake");
  });

  it("the controller's slots bound the commands in flight", () => {
    const deep = job({ rw: "randread", iodepth: 64 });
    const e = estimate(deep, system({ slots: 2, bufferBytes: 1024 * KIB }));
    expect(bindingKey(e)).toBe("slots_latency");
    // numjobs clones share them: 16 x 2 is the same load as 32.
    const clones = estimate(job({ rw: "randread", iodepth: 16, numjobs: 2 }), system());
    const single = estimate(job({ rw: "randread", iodepth: 32 }), system());
    expect(clones.read.bytesPerSecond).toBeCloseTo(single.read.bytesPerSecond, 0);
  });

  it("the consumer SSD: media units for 4 KiB random reads, firmware for cached writes, the program rate once the cache is full", () => {
    const read = estimate(job({ rw: "randread", iodepth: 32 }), system({}, "consumerSsd"), undefined, { host: "reference" });
    expect(bindingKey(read)).toBe("ssd_media_read_units");
    // 16 units x one 4 KiB operation per 60 µs.
    expect(read.read.iops).toBeCloseTo(16 / 60e-6, -2);
    const short = estimate(job({ rw: "randwrite", iodepth: 32, numberIos: 2000 }), system({}, "consumerSsd"), undefined, { host: "reference" });
    expect(bindingKey(short)).toBe("ssd_firmware");
    expect(short.write.iops).toBeCloseTo(2 / 5e-6, -2);
    // fio's default region is the whole 1 GiB namespace: the 64 MiB cache fills early.
    const long = estimate(job({ rw: "randwrite", iodepth: 32, numberIos: null }), system({}, "consumerSsd"), undefined, { host: "reference" });
    expect(bindingKey(long)).toBe("ssd_media_program_units");
    expect(long.writeCache!.sustainedShare).toBeGreaterThan(0.9);
    // 16 units x one 4 KiB program per 600 µs.
    expect(long.writeCache!.sustainedBytesPerSecond).toBeCloseTo((16 / 600e-6) * 4096, -3);
    expect(long.writeCache!.fillSeconds * long.writeCache!.burstBytesPerSecond).toBeGreaterThan(timingPresets.consumerSsd.writeCacheBytes);
    // ramp_time past the fill: the measured window is all sustained.
    const ramped = estimate(job({ rw: "randwrite", iodepth: 32, numberIos: null, rampTimeNs: 200e6 }), system({}, "consumerSsd"), undefined, { host: "reference" });
    expect(ramped.write.bytesPerSecond).toBeCloseTo(long.writeCache!.sustainedBytesPerSecond, -3);
  });

  it("no write cache: every write waits for its program", () => {
    const e = estimate(job({ rw: "randwrite", iodepth: 1 }), system({}, "fastSsd", { timing: { ...timingPresets.fastSsd, writeCacheBytes: 0 } }), undefined, { host: "reference" });
    expect(e.writeCache).toBeNull();
    expect(e.write.stages.map((s) => s.name)).toContain("media program");
    expect(e.write.unloadedLatencyNs).toBeGreaterThan(30_000);
  });

  it("the 64-bit x 250 MHz AXI side binds once the link is faster (Gen3 x4 on an SSD that trains there)", () => {
    const e = estimate(job({ rw: "read", bs: 128 * KIB, iodepth: 32 }), system({ gen: 3 }, "fastSsd", { linkSpeed: 3 }), undefined, { host: "reference" });
    expect(e.system.gen).toBe(3);
    expect(bindingKey(e)).toBe("axi_rx");
    expect(e.read.bytesPerSecond).toBeLessThan(2e9);
    // The SSD's own Gen2 limit wins over --gen 3, with a note.
    const gen2 = estimate(job(), system({ gen: 3 }));
    expect(gen2.system.gen).toBe(2);
    expect(gen2.notes.join(" ")).toMatch(/trains at Gen2 x4/);
  });

  it("an instant SSD leaves the link and the queue depth; a read/write mix shares the link", () => {
    const instant = estimate(job({ rw: "randread", iodepth: 32 }), system({}, "instant"), undefined, { host: "reference" });
    const consumer = estimate(job({ rw: "randread", iodepth: 32 }), system({}, "consumerSsd"), undefined, { host: "reference" });
    expect(bindingKey(instant)).toMatch(/^(link_up|queue_depth_latency)$/);
    expect(instant.read.bytesPerSecond).toBeGreaterThan(consumer.read.bytesPerSecond);
    expect(Number.isFinite(instant.read.bytesPerSecond)).toBe(true);
    const mix = estimate(job({ rw: "randrw", rwmixread: 70, iodepth: 32 }), system(), undefined, { host: "reference" });
    expect(mix.read.iops / mix.total.iops).toBeCloseTo(0.7, 9);
    expect(mix.write.iops / mix.total.iops).toBeCloseTo(0.3, 9);
  });

  it("names a resource only when the estimate runs near its limit, else the queue depth", () => {
    const e = estimate(job({ rw: "randread", iodepth: 2 }), system(), undefined, { host: "reference" });
    expect(e.constraints.filter((c) => c.binds)).toHaveLength(1);
    expect(bindingKey(e)).toBe("queue_depth_latency");
    const resources = e.constraints.filter((c) => c.key !== "queue_depth_latency");
    expect(e.read.bytesPerSecond).toBeLessThan(BINDING_SHARE * Math.min(...resources.map((c) => c.bytesPerSecond)));
  });
});

describe("report", () => {
  it("prints the estimate, the ceiling and every constraint; JSON has snake_case keys and no Infinity", () => {
    const e = estimate(job({ rw: "read", bs: 128 * KIB, iodepth: 32 }), system({}, "consumerSsd"));
    const text = formatEstimate(e).join("\n");
    expect(text).toMatch(/read : IOPS=[\d.]+k, BW=\d+MiB\/s \([\d.]+ GB\/s\), mean clat/);
    expect(text).toMatch(/binding constraint: read buffer bandwidth-delay/);
    expect(text).toMatch(/\* read buffer bandwidth-delay .*\(binds\)/);
    for (const c of e.constraints) expect(text).toContain(c.name);
    const json = estimateJson(e);
    expect(json.binding_constraint).toBe("read buffer bandwidth-delay");
    expect(json.link_ceiling_bytes_per_s.read).toBeCloseTo(e.linkCeiling.read, 0);
    expect(json.read.bw_bytes).toBeCloseTo(e.read.bytesPerSecond, 0);
    const serialized = JSON.stringify(json);
    expect(JSON.parse(serialized)).toEqual(json);
    const keys: string[] = [];
    const walk = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) keys.push(k), walk(v);
    };
    walk(json);
    expect(keys.filter((k) => !/^[a-z0-9_]+$/.test(k))).toEqual([]);
    const reference = estimateJson(estimate(job(), system(), undefined, { host: "reference" }));
    expect(reference.system.slots).toBeNull();
  });
});

describe("bad input names the parameter", () => {
  it.each([
    [{ bs: 1000 }, {}, /bs = 1000/],
    [{ iodepth: 0 }, {}, /iodepth = 0/],
    [{}, { mps: 1024 }, /mps = 1024/],
    [{}, { gen: 4 }, /gen = 4/],
    [{}, { slots: 0 }, /slots = 0/],
  ])("%j %j", (jobOver, systemOver, message) => {
    expect(() => estimate(job(jobOver as Partial<JobSpec>), system(systemOver as Partial<SystemSpec>))).toThrow(message);
  });
});

/**
 * Agreement with the models: the reference host runs each configuration on the link and SSD models
 * (sim/testbench/reference-io-run.ts) and the estimate for the same host must come within 3 % where
 * the link or the SSD (media, firmware) binds, and QD1 latency within 3 %. The wider table is the
 * bench: npx tsx sim/bench/estimate-vs-model.ts --grid.
 */
describe("agreement with the link and SSD models", () => {
  const AGREEMENT = 0.03;
  const cases: ComparisonCase[] = [
    ...([128, 256, 512] as const).flatMap((mps) => [
      { label: `read 128K QD32 MPS ${mps}`, rw: "read" as const, bs: 128 * KIB, iodepth: 32, preset: "fastSsd" as const, mps, warmup: 40, commands: 40 },
      { label: `write 128K QD32 MPS ${mps}`, rw: "write" as const, bs: 128 * KIB, iodepth: 32, preset: "fastSsd" as const, mps, warmup: 40, commands: 40 },
    ]),
    { label: "randwrite 4K QD32", rw: "randwrite", bs: 4 * KIB, iodepth: 32, preset: "fastSsd", mps: 256, warmup: 64, commands: 600 },
    { label: "consumer randread 4K QD32", rw: "randread", bs: 4 * KIB, iodepth: 32, preset: "consumerSsd", mps: 256, warmup: 64, commands: 300 },
    { label: "consumer randwrite 4K QD32", rw: "randwrite", bs: 4 * KIB, iodepth: 32, preset: "consumerSsd", mps: 256, warmup: 64, commands: 600 },
    { label: "consumer read 128K QD32", rw: "read", bs: 128 * KIB, iodepth: 32, preset: "consumerSsd", mps: 256, warmup: 40, commands: 40 },
    {
      label: "consumer, 256 KiB cache full, randwrite 4K QD32",
      rw: "randwrite", bs: 4 * KIB, iodepth: 32, preset: "consumerSsd", mps: 256, warmup: 200, commands: 300, compare: "sustained",
      ssd: { timing: { ...timingPresets.consumerSsd, writeCacheBytes: 256 * KIB } },
    },
  ];

  it.each(cases)("$label", async (c) => {
    const e = estimate(jobFor(c), systemFor(c), undefined, { host: "reference" });
    const binding = bindingKey(e);
    expect(binding).toMatch(/^(link_(up|down)|ssd_)/);
    const run = await runReferenceIo(jobFor(c), systemFor(c), { warmupCommands: c.warmup, commands: c.commands });
    const isRead = c.rw.includes("read");
    const measured = (isRead ? run.read : run.write).bytesPerSecond;
    const estimated = c.compare === "sustained" ? e.writeCache!.sustainedBytesPerSecond : (isRead ? e.read : e.write).bytesPerSecond;
    expect(Math.abs(estimated / measured - 1)).toBeLessThan(AGREEMENT);
  });

  it("the reference transport's 64-byte CplDs: 128 KiB writes at QD32", async () => {
    const c: ComparisonCase = { label: "rcb write", rw: "write", bs: 128 * KIB, iodepth: 32, preset: "fastSsd", mps: 256, warmup: 40, commands: 40 };
    const e = estimate(jobFor(c), systemFor(c), undefined, { host: "reference", completionSplit: "rcb" });
    expect(bindingKey(e)).toBe("link_down");
    // 64 of 84 bytes on the wire carry data: well below the 256-byte CplDs' 1.81 GB/s.
    expect(e.write.bytesPerSecond).toBeLessThan(1.5e9);
    const run = await runReferenceIo(jobFor(c), systemFor(c), { warmupCommands: c.warmup, commands: c.commands, completionSplit: "rcb" });
    expect(Math.abs(e.write.bytesPerSecond / run.write.bytesPerSecond - 1)).toBeLessThan(AGREEMENT);
  });

  it.each([
    { label: "randread 4K QD1", rw: "randread" as const, preset: "fastSsd" as const },
    { label: "randwrite 4K QD1", rw: "randwrite" as const, preset: "fastSsd" as const },
    { label: "consumer randread 4K QD1", rw: "randread" as const, preset: "consumerSsd" as const },
  ])("$label latency", async ({ label, rw, preset }) => {
    const c: ComparisonCase = { label, rw, bs: 4 * KIB, iodepth: 1, preset, mps: 256, warmup: 4, commands: 20 };
    const e = estimate(jobFor(c), systemFor(c), undefined, { host: "reference" });
    const run = await runReferenceIo(jobFor(c), systemFor(c), { warmupCommands: c.warmup, commands: c.commands });
    const measured = (rw === "randread" ? run.read : run.write).meanLatencyNs;
    const estimated = (rw === "randread" ? e.read : e.write).meanLatencyNs;
    expect(Math.abs(estimated / measured - 1)).toBeLessThan(AGREEMENT);
  });
});
