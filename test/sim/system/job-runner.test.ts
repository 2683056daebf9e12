// fio jobs on the full system (sim/system/job-runner.ts), on every engine installed: the emitted core brought
// up against the SSD model, then short jobs through the user ports with every read checked against what
// the run wrote. Three runs per engine, each a few stonewall groups, and every behaviour asserted from the
// report and from each command's completion (onCommand): sizes and counts, verify (zero mismatches, and a
// mismatch found when the SSD's media is altered behind the controller's back), numjobs clones sharing
// the controller, stonewall ordering, runtime ending at the simulated time, ramp_time leaving early
// commands out, number_ios; and a bad job refused before anything is built.
import { beforeAll, describe, expect, it } from "vitest";
import { type EngineName, verilatorAvailable } from "../../../sim/engine/index.ts";
import { NS_PER_CYCLE } from "../../../sim/system/full-system.ts";
import { type CommandEvent, type RunJobsOptions, type SimRunReport, SimOptionError, runJobs } from "../../../sim/system/job-runner.ts";
import { parseSsdArgument, parseSsdSpec } from "../../../sim/system/ssd-spec.ts";
import { UserErrorClass } from "../../../sim/testbench/user-command.ts";
import type { JobSpec, SystemSpec } from "../../../sim/workload/job.ts";
import { JobStream } from "../../../sim/workload/job-stream.ts";

const KIB = 1024;

const base: JobSpec = {
  name: "job",
  rw: "read",
  bs: 4 * KIB,
  iodepth: 8,
  size: 64 * KIB,
  offset: 0,
  numberIos: null,
  runtimeNs: null,
  rampTimeNs: 0,
  timeBased: false,
  rwmixread: 50,
  numjobs: 1,
  verify: false,
  randseed: 3,
  stonewall: false,
  groupReporting: false,
};

function systemOn(engine: EngineName): SystemSpec {
  return { ssd: parseSsdArgument(undefined), gen: 2, lanes: 4, mps: 256, mrrs: 512, slots: 32, bufferBytes: 128 * KIB, maxPieceBytes: 32 * KIB, engine };
}

interface Run {
  report: SimRunReport;
  events: CommandEvent[];
  /** Cycle at which each stonewall group started. */
  groupStarts: number[];
  /** What the progress callback was given. */
  progress: number[];
}

async function run(jobs: JobSpec[], engine: EngineName, onGroupStart?: RunJobsOptions["onGroupStart"], ssd = parseSsdArgument(undefined)): Promise<Run> {
  const events: CommandEvent[] = [];
  const groupStarts: number[] = [];
  const progress: number[] = [];
  const report = await runJobs(jobs, { ...systemOn(engine), ssd }, {
    onCommand: (e) => events.push(e),
    onGroupStart: (group, system) => {
      groupStarts.push(system.cycle);
      onGroupStart?.(group, system);
    },
    progress: (fraction) => progress.push(fraction),
  });
  return { report, events, groupStarts, progress };
}

const of = (r: Run, job: number) => r.events.filter((e) => e.job === job);

/** First run: sequential write then verified read, numjobs clones, number_ios. */
const sequentialJobs: JobSpec[] = [
  { ...base, name: "seqwrite", rw: "write", bs: 16 * KIB, size: 256 * KIB },
  { ...base, name: "seqread", rw: "read", bs: 16 * KIB, size: 256 * KIB, verify: true, stonewall: true },
  { ...base, name: "clones", rw: "read", bs: 8 * KIB, size: 64 * KIB, offset: 256 * KIB, iodepth: 4, numjobs: 2, stonewall: true },
  { ...base, name: "grouped", rw: "randread", bs: 4 * KIB, size: 64 * KIB, iodepth: 2, numjobs: 2, numberIos: 6, groupReporting: true, stonewall: true },
  { ...base, name: "ios", rw: "read", bs: 4 * KIB, size: 1024 * KIB, numberIos: 10, stonewall: true },
  { ...base, name: "writeverify", rw: "write", bs: 8 * KIB, size: 32 * KIB, offset: 512 * KIB, iodepth: 2, verify: true, stonewall: true },
];

/** Second run: a random mix with verify (random writes collide), then a time-based random read with a ramp. */
// time_based with a long runtime: number_ios ends it (96 commands over 32 blocks).
const randrw: JobSpec = { ...base, name: "randrw", rw: "randrw", bs: 4 * KIB, size: 128 * KIB, numberIos: 96, timeBased: true, runtimeNs: 1e9, verify: true, iodepth: 8 };
const timed: JobSpec = { ...base, name: "timed", rw: "randread", bs: 4 * KIB, size: 1024 * KIB, iodepth: 16, timeBased: true, runtimeNs: 40_000, rampTimeNs: 30_000, stonewall: true };

const engines: EngineName[] = ["js", ...(verilatorAvailable() ? (["verilator"] as const) : [])];

for (const engine of engines) {
  describe(`jobs on the full system, ${engine} engine`, () => {
    let sequential: Run;
    let mixed: Run;
    let corrupted: Run;
    let failing: Run;
    const corruptLba = 40; // 512-byte LBAs: block 40 lies in the second 16 KiB command (LBAs 32..63)
    beforeAll(async () => {
      sequential = await run(sequentialJobs, engine);
      mixed = await run([randrw, timed], engine);
      corrupted = await run(
        [
          { ...base, name: "write", rw: "write", bs: 16 * KIB, size: 64 * KIB },
          { ...base, name: "check", rw: "read", bs: 16 * KIB, size: 64 * KIB, verify: true, stonewall: true },
        ],
        engine,
        (group, system) => {
          // Between the write and the read: one block of the SSD's media changes behind the controller's back.
          if (group === 1) system.ssd.controller.namespace(1)!.stage(corruptLba, 1, new Uint8Array(512).fill(0xa5), false);
        },
      );
      // The SSD completes the run's first I/O read with an NVMe error status (Unrecovered Read Error).
      const faultySsd = parseSsdSpec({ faults: [{ inject: "injectStatus", match: { sqid: 1, opcode: 2 }, status: { sct: 2, sc: 0x81 }, count: 1 }] }, "faulty SSD");
      failing = await run(
        [
          { ...base, name: "fill", rw: "write", bs: 8 * KIB, size: 32 * KIB },
          { ...base, name: "readback", rw: "read", bs: 8 * KIB, size: 32 * KIB, iodepth: 1, verify: true, stonewall: true },
        ],
        engine,
        undefined,
        faultySsd,
      );
    }, 240_000);

    it("writes then reads a region back with every byte checked: io bytes = size, I/Os = size / bs, zero mismatches", () => {
      const { report } = sequential;
      expect(report.errors).toEqual([]);
      expect(report.engine).toBe(engine);
      expect({ verify: report.verifyErrors, command: report.commandErrors }).toEqual({ verify: 0, command: 0 });
      const [write, read] = report.jobs;
      expect(write).toMatchObject({ name: "seqwrite", error: 0, write: { ioBytes: 256 * KIB, totalIos: 16 }, read: { ioBytes: 0, totalIos: 0, runtimeNs: 0 } });
      expect(read).toMatchObject({ name: "seqread", error: 0, read: { ioBytes: 256 * KIB, totalIos: 16 }, write: { ioBytes: 0, totalIos: 0 } });
      for (const d of [write.write, read.read]) {
        expect(d.clatNs.length).toBe(16);
        expect(Math.min(...d.clatNs)).toBeGreaterThan(1000); // a 16 KiB command takes microseconds
        expect(d.runtimeNs).toBeGreaterThanOrEqual(Math.max(...d.clatNs));
      }
      // The sequential walk, in order.
      expect(of(sequential, 0).map((e) => e.offset)).toEqual(Array.from({ length: 16 }, (_, i) => i * 16 * KIB));
      // Controller counters: the link carried the data both ways, doorbells were coalesced.
      const { counters } = report;
      expect(counters.tlps.down.CplD).toBeGreaterThan(0); // write data, read by the SSD
      expect(counters.tlps.up.MWr).toBeGreaterThan(0); // read data and completions, written by the SSD
      expect(counters.tlpBytes.down + counters.tlpBytes.up).toBeGreaterThan(2 * 256 * KIB);
      expect(counters.doorbells.sq).toBeGreaterThan(0);
      expect(counters.doorbellsPerCommand).toBeGreaterThan(0);
      expect(counters.doorbellsPerCommand).toBeLessThanOrEqual(2);
      expect(counters.nvmeCommands).toBeGreaterThanOrEqual(counters.commands);
      expect(report.sim.cycles).toBeGreaterThan(0);
      expect(report.sim.bringupCycles).toBeGreaterThan(0);
    });

    it("reports progress from 0 to 1", () => {
      const { progress } = sequential;
      expect(progress[0]).toBe(0);
      expect(progress[progress.length - 1]).toBe(1);
      for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);
    });

    it("starts a stonewalled job only after the jobs before it completed", () => {
      const { groupStarts } = sequential;
      expect(groupStarts.length).toBe(sequentialJobs.length);
      for (let job = 1; job < sequentialJobs.length; job++) {
        const lastBefore = Math.max(...sequential.events.filter((e) => e.job < job).map((e) => e.completeCycle));
        const firstAccept = Math.min(...of(sequential, job).map((e) => e.acceptCycle));
        expect(groupStarts[job]).toBeGreaterThanOrEqual(lastBefore);
        expect(firstAccept).toBeGreaterThan(lastBefore);
      }
    });

    it("runs numjobs clones at once, each with its own stream, sharing the controller", () => {
      const [, , a, b] = sequential.report.jobs;
      for (const clone of [a, b]) expect(clone).toMatchObject({ name: "clones", error: 0, read: { ioBytes: 64 * KIB, totalIos: 8 } });
      const events = of(sequential, 2);
      const clone0 = events.filter((e) => e.clone === 0);
      const clone1 = events.filter((e) => e.clone === 1);
      expect(clone0.length).toBe(8);
      expect(clone1.length).toBe(8);
      // Interleaved: each clone had commands in flight while the other's completed.
      expect(Math.min(...clone1.map((e) => e.acceptCycle))).toBeLessThan(Math.max(...clone0.map((e) => e.completeCycle)));
      expect(Math.min(...clone0.map((e) => e.acceptCycle))).toBeLessThan(Math.max(...clone1.map((e) => e.completeCycle)));
      // Each keeps its own iodepth (4) of commands in flight, never more.
      for (const clone of [clone0, clone1]) {
        for (const e of clone) expect(clone.filter((o) => o.acceptCycle <= e.acceptCycle && o.completeCycle > e.acceptCycle).length).toBeLessThanOrEqual(4);
      }
      // group_reporting: the clones of "grouped" are one result, both clones' I/Os together.
      const grouped = sequential.report.jobs.filter((j) => j.name === "grouped");
      expect(grouped.length).toBe(1);
      expect(grouped[0].read).toMatchObject({ totalIos: 12, ioBytes: 12 * 4 * KIB });
      expect(grouped[0].read.clatNs.length).toBe(12);
    });

    it("reads back what a write job with verify wrote, as fio's verify phase: reads in the read figures, not in the write figures", () => {
      const job = sequential.report.jobs.find((j) => j.name === "writeverify")!;
      const events = of(sequential, sequentialJobs.length - 1);
      expect(job.error).toBe(0);
      expect(job.write).toMatchObject({ totalIos: 4, ioBytes: 32 * KIB });
      expect(job.read).toMatchObject({ totalIos: 4, ioBytes: 32 * KIB });
      expect(events.filter((e) => e.phase === "verify").map((e) => [e.read, e.offset])).toEqual([0, 1, 2, 3].map((i) => [true, 512 * KIB + i * 8 * KIB]));
      // Each direction's runtime is its own phase's.
      const writes = events.filter((e) => e.phase === "main");
      const reads = events.filter((e) => e.phase === "verify");
      expect(job.write.runtimeNs).toBe((Math.max(...writes.map((e) => e.completeCycle)) - sequential.groupStarts[sequentialJobs.length - 1]) * NS_PER_CYCLE);
      expect(job.read.runtimeNs).toBe((Math.max(...reads.map((e) => e.completeCycle)) - Math.max(...writes.map((e) => e.completeCycle))) * NS_PER_CYCLE);
    });

    it("stops after number_ios commands", () => {
      const ios = sequential.report.jobs.find((j) => j.name === "ios")!;
      expect(ios.read).toMatchObject({ totalIos: 10, ioBytes: 10 * 4 * KIB });
      expect(of(sequential, 4).length).toBe(10);
    });

    it("runs a random read/write mix with verify: collisions held back, every read checked, then the written blocks read back", () => {
      const { report } = mixed;
      expect(report.errors).toEqual([]);
      expect({ verify: report.verifyErrors, command: report.commandErrors }).toEqual({ verify: 0, command: 0 });
      const [mix] = report.jobs;
      // The same stream the runner used: which commands, and which blocks the verify phase reads back.
      const stream = new JobStream(randrw, 1 << 30, 0, 0);
      const commands = Array.from({ length: 96 }, () => stream.next()!);
      const reads = commands.filter((c) => c.read).length;
      const verifyReads = stream.verifyOffsets().length;
      expect(mix.error).toBe(0);
      expect(mix.write.totalIos).toBe(96 - reads);
      // fio accounts the verify phase's reads as reads (never as writes).
      expect(mix.read.totalIos).toBe(reads + verifyReads);
      const main = of(mixed, 0).filter((e) => e.phase === "main");
      // Completions come in acceptance order, and commands are accepted in the order the stream made them.
      expect(main.map((e) => [e.read, e.offset])).toEqual(commands.map((c) => [c.read, c.offset]));
      const verify = of(mixed, 0).filter((e) => e.phase === "verify");
      expect(verify.map((e) => e.offset).sort((a, b) => a - b)).toEqual(stream.verifyOffsets());
      // The read-back starts once the last write completed (on that very edge at the earliest).
      expect(Math.min(...verify.map((e) => e.acceptCycle))).toBeGreaterThanOrEqual(Math.max(...main.map((e) => e.completeCycle)));
      // 32 blocks, 8 in flight: some commands had to wait for an overlapping one.
      expect(report.counters.stalls.overlap).toBeGreaterThan(0);
    });

    it("ends a time-based job at its runtime after the ramp, counting only what completed in between", () => {
      const start = mixed.groupStarts[1];
      const windowStart = start + 30_000 / NS_PER_CYCLE;
      const end = windowStart + 40_000 / NS_PER_CYCLE;
      const timedResult = mixed.report.jobs[1];
      const events = of(mixed, 1);
      expect(timedResult.error).toBe(0);
      expect(timedResult.read.runtimeNs).toBe(40_000);
      const inWindow = events.filter((e) => e.completeCycle >= windowStart && e.completeCycle <= end);
      expect(timedResult.read.totalIos).toBe(inWindow.length);
      expect(events.filter((e) => e.counted).length).toBe(inWindow.length);
      expect(timedResult.read.ioBytes).toBe(inWindow.length * 4 * KIB);
      // The ramp's commands ran and were left out; none was issued after the end.
      expect(events.filter((e) => e.completeCycle < windowStart).length).toBeGreaterThan(4);
      expect(events.filter((e) => e.completeCycle > end).length).toBeGreaterThan(0);
      expect(Math.max(...events.map((e) => e.acceptCycle))).toBeLessThanOrEqual(end + 16);
      expect(inWindow.length).toBeGreaterThan(10); // 4 KiB reads at about 1.7 GB/s: one every 2.4 µs
    });

    it("finds data changed behind the controller's back: the read of that block is a verify error", () => {
      const { report, events } = corrupted;
      expect(report.commandErrors).toBe(0);
      expect(report.verifyErrors).toBe(1);
      const [write, check] = report.jobs;
      expect(write.error).toBe(0);
      expect(check.error).toBe(1);
      expect(check.read.totalIos).toBe(4);
      expect(report.errors.length).toBe(1);
      expect(report.errors[0]).toMatch(/READ ns 1 lba 32 \+32.*read wrong data/);
      expect(report.errors[0]).toMatch(/lba 40/);
      expect(events.filter((e) => e.job === 1).length).toBe(4);
    });

    it("reports a command's error as fio does: the job's error is the error class, the job stops, the failed command is not counted", () => {
      const { report, events } = failing;
      expect(report.commandErrors).toBe(1);
      expect(report.verifyErrors).toBe(0);
      const [fill, readback] = report.jobs;
      expect(fill.error).toBe(0);
      expect(readback.error).toBe(UserErrorClass.NVME_STATUS);
      const failed = events.filter((e) => e.errorClass !== UserErrorClass.NONE);
      expect(failed.map((e) => [e.name, e.read, e.offset])).toEqual([["readback", true, 0]]);
      // iodepth 1: the failed read was the only command the job issued.
      expect(events.filter((e) => e.name === "readback").length).toBe(1);
      expect(readback.read).toMatchObject({ totalIos: 0, ioBytes: 0 });
    });
  });
}

describe("jobs the controller cannot take", () => {
  const system = systemOn("js");
  it("refuses a block size that is not a multiple of the LBA size, naming the job, the option and the value", async () => {
    await expect(runJobs([{ ...base, name: "odd", bs: 1000 }], system)).rejects.toThrow(SimOptionError);
    await expect(runJobs([{ ...base, name: "odd", bs: 1000 }], system)).rejects.toThrow(`job "odd": bs=1000: not a multiple of the namespace's LBA size (512 B)`);
  });

  it("refuses a region past the capacity, and a bad system option", async () => {
    await expect(runJobs([{ ...base, offset: 1 << 30, size: 4096 }], system)).rejects.toThrow(/offset=1073741824: at or past the namespace's capacity \(1073741824 B\)/);
    await expect(runJobs([{ ...base, offset: (1 << 30) - 4096, size: 8192 }], system)).rejects.toThrow(/size=8192: offset 1073737728 \+ size 8192 = 1073745920 is past the namespace's capacity/);
    await expect(runJobs([base], { ...system, slots: 100 })).rejects.toThrow(/slots=100: not an integer in 1..64/);
    await expect(runJobs([{ ...base, iodepth: 0 }], system)).rejects.toThrow(/iodepth=0: not a positive integer/);
  });
});
