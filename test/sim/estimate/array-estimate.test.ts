// The array estimate (sim/estimate/array-estimate.ts): the striper's cuts, the closed network of SSDs
// against hand-computed cases, and the figures: sequential 128 KiB QD32 over 1, 2 and 4
// consumer-preset SSDs behind the Gen2 x4 switch (writes against min(ceiling, N x one SSD), reads against
// the fluid model of in-order reads and the simulation's figures), the 4 KiB random
// table (QD1, QD32, QD8 x 2 jobs) against one SSD, a slow x1 switch, and bad input.
import { describe, expect, it } from "vitest";
import { IN_ORDER_READS, closedNetworkThroughput, estimateArray, inOrderSequentialReads, stripeWalk } from "../../../sim/estimate/array-estimate.ts";
import { estimate, linkCeiling, type Estimate } from "../../../sim/estimate/estimate.ts";
import { estimateJson, formatEstimate } from "../../../sim/estimate/report.ts";
import { estimateSystem, systemLinkCeiling } from "../../../sim/estimate/system-estimate.ts";
import { bringUpTopology } from "../../../sim/host/topology-bringup.ts";
import { TopologyTransport } from "../../../sim/host/topology-transport.ts";
import type { SystemTopology } from "../../../sim/system/topology.ts";
import type { JobSpec, RwMode, SystemSpec } from "../../../sim/workload/job.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";

const KIB = 1024;
/** `npm run bench:array`: sequential 128 KiB QD32 reads of 1, 2 and 4 consumerSsd SSDs behind gen2x4, bytes/s. */
const MEASURED_READS = [1.101e9, 1.828e9, 1.848e9];
/** Long enough that a write's figure is what the SSDs sustain once their write caches are full, for one SSD and for four. */
const RUNTIME_NS = 10e9;

function job(rw: RwMode, bs: number, iodepth: number, numjobs = 1): JobSpec {
  return {
    name: `${rw}-${bs / KIB}k-qd${iodepth}x${numjobs}`, rw, bs, iodepth, size: null, offset: 0, numberIos: null, runtimeNs: RUNTIME_NS, rampTimeNs: 0,
    timeBased: true, rwmixread: 50, numjobs, verify: false, randseed: 1, stonewall: false, groupReporting: false,
  };
}

function oneSsd(preset = "consumerSsd", ssdOptions: Partial<SsdOptions> = {}): SystemSpec {
  return {
    ssd: { source: preset, preset: preset as "consumerSsd", options: { timing: preset as "consumerSsd", ...ssdOptions }, faults: [] },
    gen: 2, lanes: 4, mps: 256, mrrs: 512, slots: 32, bufferBytes: 128 * KIB, maxPieceBytes: 32 * KIB, engine: "js",
  };
}

function array(ssds: number, options: { stripe?: number; switchPreset?: "gen2x4" | "gen2x4x2" | "asm1184e"; preset?: string; ssd?: Partial<SsdOptions> } = {}): SystemSpec {
  const base = oneSsd(options.preset, options.ssd);
  return {
    ...base,
    array: {
      topology: { switch: { preset: options.switchPreset ?? "gen2x4" }, ssds: Array.from({ length: ssds }, () => ({ ssd: base.ssd.options })) },
      stripeBytes: options.stripe ?? 128 * KIB,
      source: `${ssds} x ${base.ssd.source}`,
    },
  };
}

/** The controller's own ceiling for a direction: the link's, or its TLP layer's (AXI) when that is lower (reads: the receive path's gaps). */
function controllerCeiling(e: Estimate, read: boolean): number {
  const ceiling = read ? e.linkCeiling.read : e.linkCeiling.write;
  const axi = e.constraints.find((c) => c.key === (read ? "axi_rx" : "axi_tx"))!.bytesPerSecond;
  return Math.min(ceiling, axi);
}

describe("the stripe pattern", () => {
  it("cuts a command at stripe boundaries and deals the stripes round the SSDs", () => {
    expect(stripeWalk(0, 128 * KIB, 128 * KIB, 4)).toEqual([{ lane: 0, bytes: 128 * KIB }]);
    expect(stripeWalk(3 * 128 * KIB, 4 * KIB, 128 * KIB, 4)).toEqual([{ lane: 3, bytes: 4 * KIB }]);
    // Stripe 5 is on lane 1 of 4; a 12 KiB command from 4 KiB before its end spills into stripe 6 (lane 2).
    expect(stripeWalk(6 * 128 * KIB - 4 * KIB, 12 * KIB, 128 * KIB, 4)).toEqual([{ lane: 1, bytes: 4 * KIB }, { lane: 2, bytes: 8 * KIB }]);
    // 256 KiB over 64 KiB stripes and 2 SSDs: four sub-commands, two on each.
    expect(stripeWalk(0, 256 * KIB, 64 * KIB, 2).map((s) => s.lane)).toEqual([0, 1, 0, 1]);
  });

  it("spreads a sequential 128 KiB job evenly and puts every command on one SSD", () => {
    const e = estimateArray(job("read", 128 * KIB, 32), array(4));
    expect(e.array.ssds.map((s) => s.share)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(e.array.ssds.map((s) => s.queueDepth)).toEqual([8, 8, 8, 8]);
    expect(e.array.ssdsPerCommand).toBe(1);
    // 64 KiB stripes: every command touches two SSDs, each holding 16 of the 64 sub-commands.
    const half = estimateArray(job("read", 128 * KIB, 32), array(4, { stripe: 64 * KIB }));
    expect(half.array.ssdsPerCommand).toBe(2);
    expect(half.array.ssds.map((s) => s.queueDepth)).toEqual([16, 16, 16, 16]);
  });
});

describe("the SSDs as a closed network", () => {
  it("gives N x the rate of stations that never saturate (rate proportional to those present)", () => {
    const mu = 0.01;
    for (const q of [1, 4, 32]) expect(closedNetworkThroughput([0.25, 0.25, 0.25, 0.25], (_, k) => k * mu, q)).toBeCloseTo(q * mu, 12);
  });

  it("loses the idle station's share when placement is random: 2 customers, 2 single servers", () => {
    // States (2,0), (1,1), (0,2) are equally likely; throughput mu, 2 mu, mu: 4/3 mu.
    const mu = 0.02;
    expect(closedNetworkThroughput([0.5, 0.5], () => mu, 2)).toBeCloseTo((4 / 3) * mu, 12);
    // One customer: one station busy at a time, whatever the number of stations.
    expect(closedNetworkThroughput([0.25, 0.25, 0.25, 0.25], () => mu, 1)).toBeCloseTo(mu, 12);
    // Many customers: both busy but in the 2 of 201 equally likely states where one holds them all.
    expect(closedNetworkThroughput([0.5, 0.5], () => mu, 200)).toBeCloseTo(2 * mu * (200 / 201), 12);
  });
});

describe("the fluid model of in-order striped reads", () => {
  const model = { lanes: 1, bufferBytes: 128 * KIB, pieceBytes: 32 * KIB, stripeBytes: 128 * KIB, commandBytes: 128 * KIB, queueDepth: 32, latencyCycles: 0, linkBytesPerCycle: 4, portBytesPerCycle: 8, totalBytes: 8192 * KIB, fetchesWaitForData: true };

  it("runs at the link's rate with no latency, and at buffer / (latency + buffer / link) with one", () => {
    expect(inOrderSequentialReads(model) / 4).toBeGreaterThan(0.98);
    // One lane: it transfers a buffer-full, then its next fetch waits for that data to have gone up.
    const latency = 32768;
    const got = inOrderSequentialReads({ ...model, latencyCycles: latency });
    const period = latency + (128 * KIB) / 4;
    expect(got / ((128 * KIB) / period)).toBeGreaterThan(0.95);
    expect(got / ((128 * KIB) / period)).toBeLessThan(1.05);
  });

  it("two lanes with a stripe per buffer fall well short of twice one lane; a bigger buffer or a faster SSD recovers it", () => {
    const one = inOrderSequentialReads({ ...model, latencyCycles: 32768 });
    const two = inOrderSequentialReads({ ...model, lanes: 2, latencyCycles: 32768 });
    expect(two / one).toBeLessThan(1.7);
    expect(two).toBeGreaterThan(one);
    expect(inOrderSequentialReads({ ...model, lanes: 2, latencyCycles: 32768, bufferBytes: 1024 * KIB })).toBeGreaterThan(1.15 * two);
    expect(inOrderSequentialReads({ ...model, lanes: 2 }) / 4).toBeGreaterThan(0.98);
  });

  it("with fetches that do not wait for the SSD's own data, overlaps the latency: two lanes twice one, at most the link", () => {
    const flowing = { ...model, fetchesWaitForData: false, latencyCycles: 32768 };
    const one = inOrderSequentialReads(flowing);
    // One lane's buffer is the only bound: buffer / latency, more than with the convoy's buffer / (latency + buffer / link).
    expect(one).toBeGreaterThan(1.2 * inOrderSequentialReads({ ...model, latencyCycles: 32768 }));
    const two = inOrderSequentialReads({ ...flowing, lanes: 2 });
    expect(two / Math.min(4, 2 * one)).toBeGreaterThan(0.9);
    expect(two).toBeLessThanOrEqual(4);
  });

  it("names a bad parameter", () => {
    expect(() => inOrderSequentialReads({ ...model, latencyCycles: -1 })).toThrow(/latencyCycles/);
    expect(() => inOrderSequentialReads({ ...model, bufferBytes: Number.NaN })).toThrow(/bufferBytes/);
  });
});

describe("sequential 128 KiB QD32 over 1, 2 and 4 consumer-preset SSDs behind the Gen2 x4 switch", () => {
  it("read: 2 and 4 SSDs at min(ceiling, N x one SSD) within 3 %, near what the simulation measures", () => {
    const single = estimate(job("read", 128 * KIB, 32), oneSsd());
    const one = single.read.bytesPerSecond;
    const ceiling = controllerCeiling(single, true);
    // The ceiling for reads is the link's: the controller's receive path takes a beat every cycle.
    expect(ceiling / single.linkCeiling.read).toBeGreaterThan(0.999);
    // `npm run bench:array` (Verilator, 20 ms windows after a ramp).
    const measured = MEASURED_READS;
    const benchJob: JobSpec = { ...job("read", 128 * KIB, 32), size: 32768 * KIB, timeBased: false, runtimeNs: null };
    [1, 2, 4].forEach((n, i) => {
      const got = estimateSystem(benchJob, array(n)).read.bytesPerSecond;
      expect(got).toBeLessThanOrEqual(ceiling * 1.0001);
      expect(Math.abs(got / measured[i] - 1), `${n} SSDs: ${got} against the simulation's ${measured[i]}`).toBeLessThan(0.06);
      const expected = Math.min(ceiling, n * one);
      expect(Math.abs(got / expected - 1), `${n} SSDs: ${got} against ${expected}`).toBeLessThan(0.03);
    });
  });

  it("read, with an SSD that builds a command's data TLPs all at once: the in-order data holds 2 SSDs well below twice one, as the simulation measures", () => {
    // transmitLookaheadTlps 0: its SQ fetches wait behind its queued data (the convoy).
    const convoy = { ssd: { transmitLookaheadTlps: 0 } };
    const one = estimate(job("read", 128 * KIB, 32), oneSsd("consumerSsd", convoy.ssd)).read.bytesPerSecond;
    // `npm run bench:array` with transmitLookaheadTlps 0 (the SSD model before it had a transmit bound).
    const measured = [0.872e9, 1.337e9, 1.842e9];
    const benchJob: JobSpec = { ...job("read", 128 * KIB, 32), size: 32768 * KIB, timeBased: false, runtimeNs: null };
    [1, 2, 4].forEach((n, i) => {
      const got = estimateSystem(benchJob, array(n, convoy)).read.bytesPerSecond;
      expect(Math.abs(got / measured[i] - 1), `${n} SSDs: ${got} against the simulation's ${measured[i]}`).toBeLessThan(0.06);
      // Two SSDs: far below twice one (the lanes transfer together and wait out their latency together).
      if (n === 2) expect(got).toBeLessThan(0.8 * 2 * one);
    });
  });

  it("write: min(ceiling, N x one SSD) within 3 %", () => {
    const single = estimate(job("write", 128 * KIB, 32), oneSsd());
    const one = single.write.bytesPerSecond;
    const ceiling = controllerCeiling(single, false);
    // The ceiling is the link's for writes.
    expect(ceiling / single.linkCeiling.write).toBeGreaterThan(0.999);
    const figures: number[] = [];
    for (const n of [1, 2, 4]) {
      const got = estimateSystem(job("write", 128 * KIB, 32), array(n)).write.bytesPerSecond;
      const expected = Math.min(ceiling, n * one);
      expect(Math.abs(got / expected - 1), `${n} SSDs: ${got} against ${expected}`).toBeLessThan(0.03);
      expect(got).toBeLessThanOrEqual(ceiling * 1.0001);
      figures.push(got);
    }
    // More SSDs never lose; 1 -> 2 doubles (well below the ceiling).
    expect(figures[1] / figures[0]).toBeGreaterThan(1.95);
    expect(figures[2]).toBeGreaterThanOrEqual(figures[1]);
  });

  it("names what binds: the SSDs' own limit, or for reads over several SSDs the in-order data", () => {
    expect(estimateArray(job("read", 128 * KIB, 32), array(1)).binding).toBe("the SSDs: read buffer bandwidth-delay (each SSD)");
    expect(estimateArray(job("read", 128 * KIB, 32), array(2)).binding).toBe("link up (shared by the 2 SSDs)");
    expect(estimateArray(job("read", 128 * KIB, 32), array(2, { ssd: { transmitLookaheadTlps: 0 } })).binding).toBe(IN_ORDER_READS);
    // Four SSDs over a long run: within 3 % of the shared link, which names the limit.
    expect(estimateArray(job("read", 128 * KIB, 32), array(4)).binding).toBe("link up (shared by the 4 SSDs)");
    expect(estimateArray(job("write", 128 * KIB, 32), array(1)).binding).toBe("the SSDs: SSD media program units (each SSD)");
    // Four full write caches program 4 x 437 MB/s: just below the link's 1.82 GB/s.
    expect(estimateArray(job("write", 128 * KIB, 32), array(4)).binding).toBe("the SSDs: SSD media program units (each SSD)");
  });

  it("adds to a command what the switch model adds for the reference host (within 10 %)", async () => {
    // The reference host driver (sim/host/) on the link and SSD models, with and without the switch model:
    // one 4 KiB read and one write at a time, the CQ polled every cycle, timed in simulated ns.
    const timed = async (below: { ssd: { timing: "consumerSsd" } } | { topology: SystemTopology }) => {
      const t = await TopologyTransport.start(below);
      const [s] = (await bringUpTopology(t, { driver: { commandTimeoutNs: 20e6, pollIntervalNs: 4 } })).ssds;
      const ns = { nsid: 1, lbaBytes: s.namespace!.lbaBytes };
      let at = t.link.cycle;
      await s.driver!.writeBlocks(s.io!, ns, 64n, new Uint8Array(4 * KIB).fill(0x5a));
      const write = (t.link.cycle - at) * 4;
      at = t.link.cycle;
      await s.driver!.readBlocks(s.io!, ns, 64n, (4 * KIB) / ns.lbaBytes);
      return { read: (t.link.cycle - at) * 4, write };
    };
    const direct = await timed({ ssd: { timing: "consumerSsd" } });
    const behind = await timed({ topology: { switch: { preset: "gen2x4" }, ssds: [{ ssd: { timing: "consumerSsd" } }] } });
    for (const [rw, dir] of [["randread", "read"], ["randwrite", "write"]] as const) {
      const measured = behind[dir] - direct[dir];
      const estimated = estimateArray(job(rw, 4 * KIB, 1), array(1))[dir].unloadedLatencyNs - estimate(job(rw, 4 * KIB, 1), oneSsd())[dir].unloadedLatencyNs;
      expect(measured, dir).toBeGreaterThan(1000);
      expect(Math.abs(estimated / measured - 1), `${dir}: estimate +${estimated.toFixed(0)} ns, model +${measured} ns`).toBeLessThan(0.1);
    }
  });

  it("adds the switch's and the second link's latency to every command", () => {
    const direct = estimate(job("randread", 4 * KIB, 1), oneSsd()).read.unloadedLatencyNs;
    const behind = estimateArray(job("randread", 4 * KIB, 1), array(1)).read.unloadedLatencyNs;
    // Four crossings of the switch and the second link (the doorbell, the fetch's MRd and its CplD, the
    // data with the CQ entry behind it): 152 ns of switch + 200 ns of link latency + the TLP stored whole.
    expect(behind - direct).toBeGreaterThan(4 * (152 + 200));
    expect(behind - direct).toBeLessThan(4 * (152 + 200) + 400);
  });
});

describe("the 4 KiB random table: a 4-SSD array next to one SSD", () => {
  const table = (["randread", "randwrite"] as const).flatMap((rw) =>
    ([[1, 1], [32, 1], [8, 2]] as const).map(([iodepth, numjobs]) => {
      const j = job(rw, 4 * KIB, iodepth, numjobs);
      return { rw, iodepth, numjobs, single: estimate(j, oneSsd()).total.iops, four: estimateArray(j, array(4)) };
    }),
  );
  const row = (rw: string, iodepth: number, numjobs: number) => table.find((r) => r.rw === rw && r.iodepth === iodepth && r.numjobs === numjobs)!;

  it("QD1: one SSD at a time, a little slower for the switch", () => {
    for (const rw of ["randread", "randwrite"]) {
      const r = row(rw, 1, 1);
      expect(r.four.total.iops / r.single).toBeGreaterThan(0.9);
      expect(r.four.total.iops / r.single).toBeLessThan(1.35); // writes: four write caches fill more slowly
    }
    expect(row("randread", 1, 1).four.total.iops).toBeLessThan(row("randread", 1, 1).single);
  });

  it("QD32: reads spread over four SSDs are bound by each one's queue depth x latency, writes by four SSDs' program rate", () => {
    const reads = row("randread", 32, 1);
    expect(reads.four.total.iops / reads.single).toBeGreaterThan(1.4);
    expect(reads.four.binding).toMatch(/^the SSDs: queue depth x latency/);
    const writes = row("randwrite", 32, 1);
    expect(writes.four.total.iops / writes.single).toBeGreaterThan(3.5);
    expect(writes.four.total.iops / writes.single).toBeLessThan(4.4);
  });

  it("QD8 x 2 jobs: 16 in flight spread over four SSDs; reads are latency-bound, so no faster than one SSD", () => {
    const reads = row("randread", 8, 2);
    expect(reads.four.total.iops / reads.single).toBeGreaterThan(0.95);
    expect(reads.four.total.iops / reads.single).toBeLessThan(1.01);
    expect(reads.four.array.ssds.map((s) => s.queueDepth)).toEqual([4, 4, 4, 4]);
    const writes = row("randwrite", 8, 2);
    expect(writes.four.total.iops).toBeGreaterThan(2.5 * writes.single);
    // Random placement leaves SSDs idle while others queue: below QD32's.
    expect(writes.four.total.iops).toBeLessThan(row("randwrite", 32, 1).four.total.iops);
  });
});

describe("other switches, the report and bad input", () => {
  it("an ASM1184e-like x1 switch: everything goes through the x1 root link at MPS 128", () => {
    const system = array(4, { switchPreset: "asm1184e" });
    const e = estimateArray(job("read", 128 * KIB, 32), system);
    expect(e.array.rootLink).toEqual({ gen: 2, lanes: 1 });
    expect(e.system.mps).toBe(128);
    expect(e.binding).toBe("link up (shared by the 4 SSDs)");
    expect(e.linkCeiling).toEqual(systemLinkCeiling(system));
    expect(e.linkCeiling.read).toBeCloseTo(linkCeiling({ ...oneSsd(), lanes: 1, mps: 128 }).read, 0);
    expect(e.read.bytesPerSecond / e.linkCeiling.read).toBeGreaterThan(0.97);
  });

  it("prints and serialises the array", () => {
    const e = estimateSystem(job("read", 128 * KIB, 32), array(2, { stripe: 256 * KIB }));
    const text = formatEstimate(e).join("\n");
    expect(text).toContain("2 SSDs striped in 256 KiB stripes");
    expect(text).toContain("SSD on port 1 (consumerSsd, Gen2 x4)");
    const json = estimateJson(e);
    expect(json.array).toMatchObject({ ssd_count: 2, stripe_bytes: 256 * KIB, root_link: { gen: 2, lanes: 4 } });
    expect(json.array?.ssds.map((s) => s.port)).toEqual([0, 1]);
  });

  it("refuses an array given to the one-SSD estimate, 3 SSDs, and a bad stripe, naming them", () => {
    expect(() => estimate(job("read", 128 * KIB, 32), array(2))).toThrow("estimate: system.array = 2 x consumerSsd");
    const three = array(4);
    three.array!.topology = { ssds: [{}, null, {}, {}] };
    expect(() => estimateArray(job("read", 128 * KIB, 32), three)).toThrow(`array.topology.ssds = "3 SSDs present": the striper takes 1, 2 or 4`);
    const stripe = array(2, { stripe: 3000 });
    expect(() => estimateArray(job("read", 128 * KIB, 32), stripe)).toThrow("array.stripeBytes = 3000");
  });
});
