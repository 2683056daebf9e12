// One configuration of the figures benchmark (figures-matrix.ts), run: the job on the full system
// (runJobs: the emitted core on an engine, the link model, the SSD model), the analytic estimate for
// the same job and system (estimate), the link model's ceiling (linkCeiling), and, where the
// configuration asks, the reference host on the same job, link and SSD (runReferenceIo) and a CPU
// profile of the run. The result is plain JSON (FigureResult), so a worker thread can post it back
// and `--json` / `--merge` can carry it between machines.
//
// Throughput is the steady rate of the measured window: the completions after ramp_time, the first
// one excluded, over the time from the first to the last (k - 1 commands in t_k - t_1). fio's own
// figure (bytes / (last completion - end of ramp)) is kept too; with a few dozen large commands in
// the window it carries up to one command's worth of phase error, which the steady rate does not.
import type { EngineName } from "../engine/index.ts";
import { estimate, linkCeiling, type LatencyStage } from "../estimate/estimate.ts";
import { NS_PER_CYCLE } from "../system/full-system.ts";
import { type CommandEvent, runJobs } from "../system/job-runner.ts";
import { runReferenceIo } from "../testbench/reference-io-run.ts";
import { CpuProfiler, splitProfile, threadCpuSeconds } from "./cpu-profile.ts";
import { type FigureConfig, isReadRw, planFigure } from "./figures-matrix.ts";

/** The version of the JSON layout below; --merge refuses other versions. */
export const FIGURES_JSON_VERSION = 1;

/** Commands the reference host runs before and inside its measured window (QD1: each one alone). */
const REFERENCE_WARMUP = 20;
const REFERENCE_COMMANDS = 300;

export interface FigureResult {
  version: number;
  id: string;
  config: FigureConfig;
  /** The `nvme-host sim` command that runs the same job. */
  command: string;
  engine: EngineName;
  direction: "read" | "write";
  simulated: {
    /** Steady rate of the measured window (see the file comment), bytes/s and commands/s. */
    bytesPerSecond: number;
    iops: number;
    /** fio's figure for the same window: io bytes / runtime. */
    fioBytesPerSecond: number;
    /** Completion latency (accepted at the user port -> completion at the user port) of the window's commands, ns. */
    meanLatencyNs: number;
    p50LatencyNs: number;
    p99LatencyNs: number;
    /** Commands counted in the window, and the window, ns of simulated time. */
    commands: number;
    windowNs: number;
  };
  estimate: {
    bytesPerSecond: number;
    iops: number;
    meanLatencyNs: number;
    unloadedLatencyNs: number;
    /** The binding constraint, its key and how it follows from the models. */
    binding: string;
    bindingKey: string | null;
    bindingDetail: string;
    stages: LatencyStage[];
  };
  /** The link model's payload ceiling for this system (linkCeiling), bytes/s. */
  ceiling: { read: number; write: number };
  /** The reference host on the same job, link and SSD (QD1 cases), and the estimate's stages for it. */
  reference?: {
    meanLatencyNs: number;
    bytesPerSecond: number;
    iops: number;
    commands: number;
    stages: LatencyStage[];
    wallSeconds: number;
  };
  counters: {
    commands: number;
    nvmeCommands: number;
    doorbellsPerCommand: number;
    stalls: { commandPort: number; writeData: number; readData: number; overlap: number };
  };
  errors: { verify: number; command: number; messages: string[] };
  sim: {
    cycles: number;
    steppedCycles: number;
    fastForwardedCycles: number;
    /** Wall time of the jobs, and CPU time of the thread that ran them (the machine may be shared). */
    wallSeconds: number;
    cpuSeconds: number;
    cyclesPerSecond: number;
    cyclesPerCpuSecond: number;
    buildWallSeconds: number;
    bringupCycles: number;
    bringupWallSeconds: number;
  };
  /** Per cent of the jobs' CPU time by part (cpu-profile.ts), for the profiled cases. */
  profile?: Record<string, number>;
}

/** A configuration that could not run (bad build, bring-up failed, a crash in the worker). */
export interface FigureFailure {
  version: number;
  id: string;
  config: FigureConfig;
  engine: EngineName;
  failed: string;
}

export type FigureOutcome = FigureResult | FigureFailure;

export function isFailure(outcome: FigureOutcome): outcome is FigureFailure {
  return "failed" in outcome;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs configuration `c` (on `engine` unless the configuration names its own) and measures it. */
export async function runFigure(c: FigureConfig, engine: EngineName): Promise<FigureResult> {
  const plan = planFigure(c, engine);
  const read = isReadRw(c.rw);
  const completions: { cycle: number; bytes: number }[] = [];
  const onCommand = (event: CommandEvent) => {
    if (event.counted && event.phase === "main" && event.read === read) completions.push({ cycle: event.completeCycle, bytes: event.bytes });
  };
  const profiler = c.profile ? new CpuProfiler() : undefined;
  let cpuStart = threadCpuSeconds();
  const report = await runJobs([plan.job], plan.system, {
    onCommand,
    onGroupStart: (group) => {
      if (group !== 0) return;
      cpuStart = threadCpuSeconds();
      profiler?.start();
    },
  });
  const cpuSeconds = threadCpuSeconds() - cpuStart;
  const profile = profiler ? splitProfile(await profiler.stop()) : undefined;

  const job = report.jobs[0];
  const d = read ? job.read : job.write;
  completions.sort((a, b) => a.cycle - b.cycle);
  let bytesPerSecond = d.runtimeNs > 0 ? d.ioBytes / (d.runtimeNs / 1e9) : 0;
  let iops = d.runtimeNs > 0 ? d.totalIos / (d.runtimeNs / 1e9) : 0;
  if (completions.length >= 2) {
    const spanNs = (completions[completions.length - 1].cycle - completions[0].cycle) * NS_PER_CYCLE;
    const bytes = completions.slice(1).reduce((sum, x) => sum + x.bytes, 0);
    if (spanNs > 0) {
      bytesPerSecond = bytes / (spanNs / 1e9);
      iops = (completions.length - 1) / (spanNs / 1e9);
    }
  }
  const sorted = [...d.clatNs].sort((a, b) => a - b);

  const geometry = { lbaBytes: Number(report.bringup.ns.lba_bytes), mdtsBytes: Number(report.bringup.ctrl.mdts_bytes) };
  const e = estimate(plan.job, plan.system, geometry);
  const ed = read ? e.read : e.write;
  const binding = e.constraints.find((x) => x.binds);

  let reference: FigureResult["reference"];
  if (c.reference) {
    const run = await runReferenceIo(plan.job, plan.system, { warmupCommands: REFERENCE_WARMUP, commands: REFERENCE_COMMANDS });
    const rd = read ? run.read : run.write;
    const er = estimate(plan.job, plan.system, geometry, { host: "reference" });
    reference = {
      meanLatencyNs: rd.meanLatencyNs,
      bytesPerSecond: rd.bytesPerSecond,
      iops: rd.iops,
      commands: rd.commands,
      stages: (read ? er.read : er.write).stages,
      wallSeconds: run.wallSeconds,
    };
  }

  const s = report.sim;
  const c2 = report.counters;
  return {
    version: FIGURES_JSON_VERSION,
    id: c.id,
    config: c,
    command: plan.command,
    engine: report.engine,
    direction: read ? "read" : "write",
    simulated: {
      bytesPerSecond,
      iops,
      fioBytesPerSecond: d.runtimeNs > 0 ? d.ioBytes / (d.runtimeNs / 1e9) : 0,
      meanLatencyNs: mean(d.clatNs),
      p50LatencyNs: percentile(sorted, 50),
      p99LatencyNs: percentile(sorted, 99),
      commands: d.totalIos,
      windowNs: d.runtimeNs,
    },
    estimate: {
      bytesPerSecond: ed.bytesPerSecond,
      iops: ed.iops,
      meanLatencyNs: ed.meanLatencyNs,
      unloadedLatencyNs: ed.unloadedLatencyNs,
      binding: e.binding,
      bindingKey: binding?.key ?? null,
      bindingDetail: binding?.detail ?? "",
      stages: ed.stages,
    },
    ceiling: linkCeiling(plan.system),
    ...(reference ? { reference } : {}),
    counters: {
      commands: c2.commands,
      nvmeCommands: c2.nvmeCommands,
      doorbellsPerCommand: c2.doorbellsPerCommand,
      stalls: { ...c2.stalls },
    },
    errors: { verify: report.verifyErrors, command: report.commandErrors, messages: report.errors.slice(0, 5) },
    sim: {
      cycles: s.cycles,
      steppedCycles: s.steppedCycles,
      fastForwardedCycles: s.fastForwardedCycles,
      wallSeconds: s.wallSeconds,
      cpuSeconds,
      cyclesPerSecond: s.cyclesPerSecond,
      cyclesPerCpuSecond: cpuSeconds > 0 ? s.cycles / cpuSeconds : 0,
      buildWallSeconds: s.buildWallSeconds,
      bringupCycles: s.bringupCycles,
      bringupWallSeconds: s.bringupWallSeconds,
    },
    ...(profile ? { profile } : {}),
  };
}

/** Builds (or loads from .cache/) the model a configuration needs, by a bring-up and one short command. */
export async function prepareFigureModel(c: FigureConfig, engine: EngineName): Promise<void> {
  const plan = planFigure(c, engine);
  await runJobs([{ ...plan.job, rw: "read", bs: 4096, iodepth: 1, size: 4096, numberIos: 1, rampTimeNs: 0, offset: 0 }], plan.system);
}
