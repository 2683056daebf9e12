// Benchmark (and a way to try) the simulation runner behind `nvme-host sim` (sim/system/job-runner.ts): fio
// jobs on the full system, printing what they measured (simulated MB/s, IOPS, mean latency) and how fast
// the simulation ran (cycles, wall time, cycles per wall second and per second of this process's CPU:
// the machine may be shared, and a wall clock then counts the waits for a core). Cases:
//  - seq write 128 KiB QD32, then (stonewall) a seq read 128 KiB QD32 of the same region with verify;
//  - randread 4 KiB QD32 over 64 MiB for a fixed simulated time (never-written blocks read as zeroes).
// --profile samples the CPU during the jobs (node:inspector) and splits the time by part: the engine
// (the model's cycle: the native Verilator call, or the js engine's code), the link model, the SSD model,
// the user-port driver (its pattern words and checks), the full-system coupling and runner, GC.
//   npx tsx sim/bench/job-runner.ts [--engine js|verilator] [--size 16m] [--runtime-us 500] [--profile] [--json]
import { parseArgs } from "node:util";
import { ENGINES, type EngineName, resolveEngine, verilatorAvailable } from "../engine/index.ts";
import { type SimRunReport, runJobs } from "../system/job-runner.ts";
import { parseSsdArgument } from "../system/ssd-spec.ts";
import { CpuProfiler, splitProfile, topFunctions } from "./cpu-profile.ts";
import type { JobSpec, SystemSpec } from "../workload/job.ts";

const { values } = parseArgs({
  options: {
    engine: { type: "string" },
    size: { type: "string" },
    "runtime-us": { type: "string" },
    ssd: { type: "string" },
    profile: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const engines: EngineName[] = values.engine ? [resolveEngine(values.engine)] : ENGINES.filter((e) => e !== "verilator" || verilatorAvailable());

function bytes(text: string): number {
  const m = /^(\d+)([kmg]?)$/i.exec(text);
  if (!m) throw new Error(`--size ${text}: not a size like 16m`);
  return Number(m[1]) * 1024 ** " kmg".indexOf((m[2] || " ").toLowerCase());
}

const baseJob: JobSpec = {
  name: "job",
  rw: "read",
  bs: 4096,
  iodepth: 32,
  size: null,
  offset: 0,
  numberIos: null,
  runtimeNs: null,
  rampTimeNs: 0,
  timeBased: false,
  rwmixread: 50,
  numjobs: 1,
  verify: false,
  randseed: 1,
  stonewall: false,
  groupReporting: false,
};

function system(engine: EngineName): SystemSpec {
  return { ssd: parseSsdArgument(values.ssd), gen: 2, lanes: 4, mps: 256, mrrs: 512, slots: 32, bufferBytes: 128 * 1024, maxPieceBytes: 32 * 1024, engine };
}

interface Case {
  name: string;
  jobs: (engine: EngineName) => JobSpec[];
}

const cases: Case[] = [
  {
    name: "seq 128k QD32: write, then verified read",
    jobs: (engine) => {
      const size = values.size ? bytes(values.size) : engine === "verilator" ? 16 << 20 : 4 << 20;
      return [
        { ...baseJob, name: "seqwrite", rw: "write", bs: 128 * 1024, size },
        { ...baseJob, name: "seqread", rw: "read", bs: 128 * 1024, size, verify: true, stonewall: true },
      ];
    },
  },
  {
    name: "randread 4k QD32",
    jobs: (engine) => {
      const runtimeUs = Number(values["runtime-us"] ?? (engine === "verilator" ? 2000 : 500));
      return [{ ...baseJob, name: "randread", rw: "randread", bs: 4096, size: 64 << 20, runtimeNs: runtimeUs * 1000, timeBased: true }];
    },
  },
];

const rows: Record<string, unknown>[] = [];
for (const engine of engines) {
  for (const c of cases) {
    const profiler = values.profile ? new CpuProfiler() : undefined;
    let cpuStart = process.cpuUsage();
    const report: SimRunReport = await runJobs(c.jobs(engine), system(engine), {
      onGroupStart: (group) => {
        if (group !== 0) return;
        cpuStart = process.cpuUsage();
        profiler?.start();
      },
    });
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    let profile: Record<string, number> | undefined;
    if (profiler) {
      const cpuProfile = await profiler.stop();
      if (process.env.JOB_RUNNER_PROFILE_TOP) for (const { ms, name } of topFunctions(cpuProfile)) console.log(`  ${ms.toFixed(0).padStart(6)} ms ${name}`);
      profile = splitProfile(cpuProfile);
    }
    const s = report.sim;
    for (const job of report.jobs) {
      for (const dir of ["write", "read"] as const) {
        const d = job[dir];
        if (d.totalIos === 0) continue;
        const seconds = d.runtimeNs / 1e9;
        const meanUs = d.clatNs.reduce((a, b) => a + b, 0) / d.clatNs.length / 1000;
        rows.push({ engine, case: c.name, job: job.name, dir, error: job.error, mbPerSecond: Math.round(d.ioBytes / seconds / 1e6), iops: Math.round(d.totalIos / seconds), meanClatUs: Number(meanUs.toFixed(2)), ios: d.totalIos, runtimeUs: Math.round(d.runtimeNs / 1000) });
      }
    }
    const speed = { engine, case: c.name, cycles: s.cycles, wallSeconds: Number(s.wallSeconds.toFixed(2)), cyclesPerSecond: Math.round(s.cyclesPerSecond), cyclesPerCpuSecond: Math.round(s.cycles / cpuSeconds), steppedCycles: s.steppedCycles, fastForwardedCycles: s.fastForwardedCycles, verifyErrors: report.verifyErrors, commandErrors: report.commandErrors, errors: report.errors.slice(0, 3), doorbellsPerCommand: Number(report.counters.doorbellsPerCommand.toFixed(3)), ...(profile ? { profile } : {}) };
    rows.push(speed);
    if (!values.json) {
      for (const r of rows.filter((r) => r.case === c.name && r.engine === engine && "dir" in r)) {
        console.log(`${engine.padEnd(9)} ${String(r.job).padEnd(9)} ${String(r.dir).padEnd(5)} ${String(r.mbPerSecond).padStart(6)} MB/s ${String(r.iops).padStart(8)} IOPS  clat mean ${String(r.meanClatUs).padStart(7)} µs  (${r.ios} I/Os in ${r.runtimeUs} µs, error ${r.error})`);
      }
      console.log(`${engine.padEnd(9)} ${c.name}: ${s.cycles} cycles (${s.steppedCycles} stepped, ${s.fastForwardedCycles} fast-forwarded) in ${s.wallSeconds.toFixed(2)} s: ${Math.round(s.cyclesPerSecond / 1000)} k cycles/s wall, ${Math.round(s.cycles / cpuSeconds / 1000)} k per CPU-second; verify errors ${report.verifyErrors}, command errors ${report.commandErrors}${report.errors.length ? `; ${report.errors[0]}` : ""}`);
      if (profile) console.log(`          time: ${Object.entries(profile).map(([k, v]) => `${k} ${v} %`).join(", ")}`);
    }
  }
}
if (values.json) console.log(JSON.stringify(rows, null, 2));
