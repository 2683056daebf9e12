// The completer's emitted Verilog against the reference splitter, with its payload: random reads of
// every alignment under random back-pressure on every port, zero-length reads, reads queued back to
// back, full rate, and the structural promises (registered outputs, parameter checks).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { tlpCompleter } from "../../../rtl-src/tlp/tlp-completer.ts";
import { verilatorAvailable } from "../../../sim/engine/index.ts";
import type { Simulator } from "../../../sim/engine/index.ts";
import { type BackPressure, CompleterDriver, type ReadRequest, buildCompleterSimulator, readOfBytes } from "../../../sim/testbench/tlp-completer-harness.ts";
import { seededRandom } from "../../../sim/random.ts";

const params = { maxPayloadBytes: 256, readCompletionBoundary: 64 };
const choppy: BackPressure = { readValid: 0.5, requestReady: 0.6, responseValid: 0.7, headerReady: 0.5, payloadReady: 0.6, sourceLatency: 9 };

function randomReads(random: () => number, count: number): ReadRequest[] {
  const reads: ReadRequest[] = [];
  for (let i = 0; i < count; i++) {
    const page = BigInt(Math.floor(random() * 2 ** 20)) << (random() < 0.5 ? 12n : 32n);
    const offset = Math.floor(random() * 4096);
    const small = random() < 0.5;
    const bytes = 1 + Math.floor(random() * (small ? Math.min(300, 4096 - offset) : 4096 - offset));
    reads.push(readOfBytes(page, offset, bytes, { requesterId: Math.floor(random() * 0x10000), tag: i & 0xff, tc: i & 7, attr: (i >> 3) & 3 }));
  }
  return reads;
}

/** At every alignment mod 64, the lengths that end just before, on and just after the RCB and MPS boundaries. */
function edgeReads(): ReadRequest[] {
  const reads: ReadRequest[] = [];
  for (let offset = 0; offset < 64; offset++) {
    for (const end of [1, 2, 4, 5, 63, 64, 65, 255, 256, 257, 511, 512, 513, 4096 - offset]) {
      const bytes = end > offset ? end - offset : end;
      reads.push(readOfBytes(0x3_0000_0000n, offset, bytes, { requesterId: offset, tag: end & 0xff, tc: 2, attr: 1 }));
    }
  }
  return reads;
}

const zeroLengthRead: ReadRequest = { address: 0x2000_0044n, lengthDw: 1, firstBe: 0, lastBe: 0, requesterId: 0x0100, tag: 9, tc: 0, attr: 0 };

describe("tlp_completer on the js engine", () => {
  let sim: Simulator;
  let driver: CompleterDriver;
  beforeAll(async () => {
    sim = await buildCompleterSimulator(params, "js");
    sim.reset(2);
    driver = new CompleterDriver(sim);
  });
  afterAll(() => sim?.close());

  it("answers random reads of every alignment with the reference CplDs under random back-pressure", () => {
    const random = seededRandom(11);
    const reads = randomReads(random, 300);
    const result = driver.run(reads, { params, payload: true, backPressure: choppy, random });
    expect(result.mismatches).toEqual([]);
    expect(result.reads).toBe(reads.length);
  });

  it("answers reads ending on and beside every RCB and MPS boundary, at every alignment", () => {
    const result = driver.run(edgeReads(), { params, payload: true });
    expect(result.mismatches).toEqual([]);
  });

  it("answers a zero-length read with one DW and byte count 1, between ordinary reads", () => {
    const ids = { requesterId: 0x0100, tag: 1, tc: 0, attr: 0 };
    const reads = [readOfBytes(0x2000_0000n, 3, 300, ids), zeroLengthRead, readOfBytes(0x2000_0000n, 0x7c, 9, { ...ids, tag: 2 })];
    const result = driver.run(reads, { params, payload: true });
    expect(result.mismatches).toEqual([]);
    expect(result.completions).toBe(2 + 1 + 1);
  });

  it("sends back-to-back CplDs with a payload beat every cycle when nothing pushes back", () => {
    const reads = Array.from({ length: 64 }, (_, i) => readOfBytes(0x4000_0000n + BigInt(i) * 0x1000n, 0, 4096, { requesterId: 1, tag: i, tc: 0, attr: 0 }));
    const result = driver.run(reads, { params, payload: true });
    expect(result.mismatches).toEqual([]);
    expect(result.payloadBeats).toBe(64 * 4096 / 8);
    // Only the pipeline's fill at the start is idle: the source answers 2 cycles after each request.
    expect(result.busyCycles / result.cycles).toBeGreaterThan(0.999);
  });
});

describe.skipIf(!verilatorAvailable())("tlp_completer on Verilator (skipped when verilator is not installed)", () => {
  it("answers random reads under random back-pressure as the reference says", async () => {
    const sim = await buildCompleterSimulator(params, "verilator");
    try {
      sim.reset(2);
      const random = seededRandom(23);
      const reads = [...randomReads(random, 300), ...edgeReads(), zeroLengthRead];
      const result = new CompleterDriver(sim).run(reads, { params, payload: true, backPressure: choppy, random });
      expect(result.mismatches).toEqual([]);
    } finally {
      sim.close();
    }
  });
});

/** Served regions for the UR tests: the reads of randomReads() land both inside and outside them. */
const served = [
  { base: 0x2000_0000, bytes: 0x2000_0000 },
  { base: 0x1000_0000, bytes: 0x1_0000 },
];

function mixedReads(random: () => number, count: number): ReadRequest[] {
  const reads: ReadRequest[] = [];
  for (let i = 0; i < count; i++) {
    const choice = random();
    // Inside a region, just outside one, or above 4 GiB (a 4DW read is never ours).
    const page = choice < 0.4 ? 0x2000_0000n + (BigInt(Math.floor(random() * 0x2_0000)) << 12n)
      : choice < 0.6 ? 0x1000_0000n + (BigInt(Math.floor(random() * 16)) << 12n)
      : choice < 0.8 ? 0x1001_0000n + (BigInt(Math.floor(random() * 16)) << 12n)
      : BigInt(0x2000_0000 + Math.floor(random() * 2 ** 20)) << 32n;
    const offset = Math.floor(random() * 4096);
    const bytes = 1 + Math.floor(random() * Math.min(600, 4096 - offset));
    reads.push(readOfBytes(page, offset, bytes, { requesterId: 0x0100, tag: i & 0xff, tc: i & 7, attr: (i >> 3) & 3 }));
  }
  return reads;
}

function unmappedCount(reads: readonly ReadRequest[]): number {
  return reads.filter((r) => !served.some(({ base, bytes }) => r.address >= BigInt(base) && r.address < BigInt(base + bytes))).length;
}

describe.each(["js", ...(verilatorAvailable() ? ["verilator" as const] : [])] as const)("tlp_completer with served regions on %s", (engine) => {
  it("answers reads outside every region with one UR completion in read order, counts them, and asks no data for them", async () => {
    const sim = await buildCompleterSimulator(params, engine, { servedRegions: served });
    try {
      sim.reset(2);
      const random = seededRandom(engine === "js" ? 31 : 37);
      const reads = [...mixedReads(random, 200), zeroLengthRead, readOfBytes(0x1001_0000n, 0, 4, { requesterId: 1, tag: 3, tc: 0, attr: 0 })];
      const result = new CompleterDriver(sim).run(reads, { params, payload: true, backPressure: choppy, random, servedRegions: served });
      expect(result.mismatches).toEqual([]);
      const unmapped = unmappedCount(reads);
      expect(unmapped).toBeGreaterThan(50);
      expect(unmapped).toBeLessThan(reads.length - 50);
      expect(sim.peek("unmapped_reads")).toBe(unmapped);
    } finally {
      sim.close();
    }
  });
});

describe("tlp_completer structure", () => {
  it("has no combinational path from an input to an output but the payload passing through, with or without served regions", () => {
    for (const options of [{}, { servedRegions: served }]) {
      const { design } = emitDesign(tlpCompleter(params, options));
      const paths = [...design.combinationalPaths.get(design.top)!.entries()].map(([output, inputs]) => [output, [...inputs].sort()]);
      expect(paths.sort()).toEqual([
        ["completion_payload_tdata", ["data_response_tdata"]],
        ["completion_payload_tkeep", ["data_response_tkeep"]],
        ["completion_payload_tlast", ["data_response_tlast"]],
        ["completion_payload_tvalid", ["data_response_tvalid"]],
        ["data_response_tready", ["completion_payload_tready"]],
      ]);
    }
  });

  it("names its parameters in the module name", () => {
    expect(tlpCompleter({ maxPayloadBytes: 128, readCompletionBoundary: 128 }, { readQueueDepth: 4 }).name).toBe("tlp_completer_mps128_rcb128_rq4_hq8");
  });

  it("refuses an MPS, RCB or queue depth the design cannot honour", () => {
    expect(() => tlpCompleter({ maxPayloadBytes: 100, readCompletionBoundary: 64 })).toThrow(/maxPayloadBytes 100/);
    expect(() => tlpCompleter({ maxPayloadBytes: 256, readCompletionBoundary: 32 })).toThrow(/readCompletionBoundary 32/);
    expect(() => tlpCompleter(params, { headerQueueDepth: 1 })).toThrow(/headerQueueDepth 1/);
    expect(() => tlpCompleter(params, { servedRegions: [{ base: 0x1800, bytes: 0x1000 }] })).toThrow(/served region 0x1800 \+ 0x1000/);
    expect(() => tlpCompleter(params, { servedRegions: [{ base: 0xffff_f000, bytes: 0x2000 }] })).toThrow(/served region/);
  });
});
