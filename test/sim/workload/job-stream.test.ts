// The commands a fio job issues (sim/workload/job-stream.ts), without any simulation: sequential walks
// and their wrap, random offsets (aligned, inside the region, spread over it, repeatable from randseed,
// different per clone), the read/write mix, the size and number_ios budgets, and the verify list.
import { describe, expect, it } from "vitest";
import type { JobSpec } from "../../../sim/workload/job.ts";
import { JobStream, type StreamCommand } from "../../../sim/workload/job-stream.ts";

const job: JobSpec = {
  name: "t",
  rw: "read",
  bs: 4096,
  iodepth: 1,
  size: 64 * 1024,
  offset: 8192,
  numberIos: null,
  runtimeNs: null,
  rampTimeNs: 0,
  timeBased: false,
  rwmixread: 50,
  numjobs: 1,
  verify: false,
  randseed: 7,
  stonewall: false,
  groupReporting: false,
};
const NAMESPACE = 1 << 30;

function drain(stream: JobStream, most = 100_000): StreamCommand[] {
  const out: StreamCommand[] = [];
  for (let c = stream.next(); c && out.length < most; c = stream.next()) out.push(c);
  return out;
}

describe("JobStream", () => {
  it("walks a sequential region once in bs steps and stops after size bytes", () => {
    const commands = drain(new JobStream({ ...job, rw: "write" }, NAMESPACE));
    expect(commands.map((c) => c.offset)).toEqual(Array.from({ length: 16 }, (_, i) => 8192 + i * 4096));
    expect(commands.every((c) => !c.read && c.bytes === 4096)).toBe(true);
  });

  it("leaves out a partial block at the region's end, and takes size = null as the rest of the namespace", () => {
    expect(drain(new JobStream({ ...job, size: 10_000 }, NAMESPACE)).length).toBe(2);
    const whole = new JobStream({ ...job, size: null, offset: NAMESPACE - 5 * 4096 }, NAMESPACE);
    expect(whole.regionBytes).toBe(5 * 4096);
    expect(drain(whole).length).toBe(5);
  });

  it("wraps a time_based sequential walk to the region's start, and ends it at number_ios", () => {
    const stream = new JobStream({ ...job, timeBased: true, runtimeNs: 1000, numberIos: 40 }, NAMESPACE);
    const offsets = drain(stream).map((c) => c.offset);
    expect(offsets.length).toBe(40);
    expect(offsets[16]).toBe(8192);
    expect(offsets[39]).toBe(8192 + 7 * 4096);
    // time_based without a runtime means nothing to fio: the size ends the job.
    expect(drain(new JobStream({ ...job, timeBased: true }, NAMESPACE)).length).toBe(16);
  });

  it("ends at number_ios when that comes before the size", () => {
    expect(drain(new JobStream({ ...job, numberIos: 5 }, NAMESPACE)).length).toBe(5);
  });

  it("picks random offsets aligned to bs inside the region, spread over all of it, the same for the same seed and another for another clone", () => {
    const spec: JobSpec = { ...job, rw: "randread", size: 1 << 20, timeBased: true, runtimeNs: 1, numberIos: 4000 };
    const offsets = drain(new JobStream(spec, NAMESPACE)).map((c) => c.offset);
    expect(offsets.length).toBe(4000);
    for (const o of offsets) {
      expect((o - 8192) % 4096).toBe(0);
      expect(o >= 8192 && o < 8192 + (1 << 20)).toBe(true);
    }
    // 256 blocks, 4000 draws: every block is hit, none far more often than the mean (about 15.6).
    const hits = new Map<number, number>();
    for (const o of offsets) hits.set(o, (hits.get(o) ?? 0) + 1);
    expect(hits.size).toBe(256);
    expect(Math.max(...hits.values())).toBeLessThan(40);
    expect(drain(new JobStream(spec, NAMESPACE)).map((c) => c.offset)).toEqual(offsets);
    expect(drain(new JobStream(spec, NAMESPACE, 0, 1)).map((c) => c.offset)).not.toEqual(offsets);
    expect(drain(new JobStream({ ...spec, randseed: 8 }, NAMESPACE)).map((c) => c.offset)).not.toEqual(offsets);
  });

  it("mixes reads and writes at rwmixread, with a position per direction for sequential mixes", () => {
    const random = drain(new JobStream({ ...job, rw: "randrw", rwmixread: 70, size: 1 << 20, timeBased: true, runtimeNs: 1, numberIos: 5000 }, NAMESPACE));
    const reads = random.filter((c) => c.read).length;
    expect(reads / random.length).toBeGreaterThan(0.66);
    expect(reads / random.length).toBeLessThan(0.74);
    const sequential = drain(new JobStream({ ...job, rw: "readwrite" }, NAMESPACE));
    expect(sequential.length).toBe(16); // size counts both directions
    const readOffsets = sequential.filter((c) => c.read).map((c) => c.offset);
    const writeOffsets = sequential.filter((c) => !c.read).map((c) => c.offset);
    expect(readOffsets).toEqual(readOffsets.map((_, i) => 8192 + i * 4096));
    expect(writeOffsets).toEqual(writeOffsets.map((_, i) => 8192 + i * 4096));
    expect(readOffsets.length).toBeGreaterThan(0);
    expect(writeOffsets.length).toBeGreaterThan(0);
  });

  it("lists every block it wrote once, in offset order, for the verify phase", () => {
    const stream = new JobStream({ ...job, rw: "randrw", size: 64 * 1024, numberIos: 60 }, NAMESPACE);
    const written = new Set(drain(stream).filter((c) => !c.read).map((c) => c.offset));
    expect(stream.verifyOffsets()).toEqual([...written].sort((a, b) => a - b));
    expect(new JobStream({ ...job }, NAMESPACE).verifyOffsets()).toEqual([]);
  });

  it("refuses a region smaller than one block", () => {
    expect(() => new JobStream({ ...job, size: 4000 }, NAMESPACE)).toThrow(/size=4000 is smaller than bs=4096/);
  });
});
