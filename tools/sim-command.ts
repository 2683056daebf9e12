// `nvme-host sim` and `nvme-host estimate` (issue 11, DESIGN.md CLI): fio jobs, from a job file and/or
// fio-style options, run on the full system (sim/system/job-runner.ts) or predicted analytically
// (sim/estimate/), reported in fio's text or JSON layout plus what fio cannot tell: the link's ceiling
// and the share reached, the binding constraint, the controller's counters, the simulation's speed.
import { readFileSync } from "node:fs";
import { estimateJson, formatBytesPerSecond, formatEstimate } from "../sim/estimate/report.ts";
import { type SystemEstimate as Estimate, estimateSystem as estimate, systemLinkCeiling as linkCeiling } from "../sim/estimate/system-estimate.ts";
import { type SimRunReport, SimBringupError, SimOptionError, runJobs } from "../sim/system/job-runner.ts";
import { FioJobError, type JobFileInput, parseJobs } from "../sim/workload/fio-job.ts";
import { type NvmeHostJson, formatFioJson, formatFioText, reportEntries } from "../sim/workload/fio-report.ts";
import type { EngineName } from "../sim/engine/index.ts";
import type { JobSpec, SystemSpec } from "../sim/workload/job.ts";
import { type OutputFormat, SYSTEM_OPTIONS, SystemOptionError, parseSystemArguments } from "./system-options.ts";

/** A mistake in what the user asked for: the CLI prints it with the usage and exits 2. */
export class JobUsageError extends Error {}

export interface ParsedJobCommand {
  jobs: JobSpec[];
  system: SystemSpec;
  outputFormat: OutputFormat;
  notices: string[];
  /** The job file as given, if any. */
  jobFile?: string;
}

/**
 * The command line of sim/estimate: an optional job file (the one positional argument), fio options,
 * system options. Bad input throws JobUsageError naming the option (and the file's line).
 */
export function parseJobCommand(args: readonly string[], defaultEngine: EngineName = "js", readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): ParsedJobCommand {
  try {
    // First pass: find the positional (the job file); fio options may come before or after it.
    const first = parseJobs({ args, env: process.env, systemOptions: SYSTEM_OPTIONS });
    const { positionals } = parseSystemArguments(first.systemArgs, defaultEngine);
    if (positionals.length > 1) throw new JobUsageError(`one job file at most, got ${positionals.map((p) => JSON.stringify(p)).join(", ")}`);
    let parsed = first;
    let jobFile: string | undefined;
    if (positionals.length === 1) {
      jobFile = positionals[0];
      let text: string;
      try {
        text = readFile(jobFile);
      } catch (error) {
        throw new JobUsageError(`${jobFile}: cannot read the job file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      const file: JobFileInput = { path: jobFile, text };
      const rest = [...args];
      rest.splice(rest.indexOf(jobFile), 1);
      parsed = parseJobs({ file, args: rest, env: process.env, systemOptions: SYSTEM_OPTIONS });
    }
    const { system, outputFormat } = parseSystemArguments(parsed.systemArgs.filter((a) => a !== jobFile), defaultEngine);
    if (parsed.jobs.length === 0) throw new JobUsageError(jobFile ? `${jobFile}: no job in the file (only [global]?)` : "no job: give fio options (--rw=read --bs=128k --size=4m ...) or a job file");
    return { jobs: parsed.jobs, system, outputFormat, notices: parsed.notices, jobFile };
  } catch (error) {
    if (error instanceof FioJobError || error instanceof SystemOptionError) throw new JobUsageError(error.message);
    throw error;
  }
}

/** A progress bar on stderr, drawn only on a terminal and only once a run has taken a few seconds. */
function progressBar(): { update(fraction: number): void; done(): void } {
  const started = performance.now();
  const shownAfterMs = 3000;
  let drawn = false;
  let last = -1;
  const tty = process.stderr.isTTY === true;
  return {
    update(fraction) {
      if (!tty || performance.now() - started < shownAfterMs) return;
      const percent = Math.floor(fraction * 100);
      if (percent === last) return;
      last = percent;
      const width = 40;
      const filled = Math.round((percent / 100) * width);
      const elapsed = (performance.now() - started) / 1000;
      process.stderr.write(`\r[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(percent).padStart(3)}%  ${elapsed.toFixed(0)} s`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write("\r\x1b[K");
    },
  };
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)} %` : "-";
}

/** The lines after fio's report: the link's ceiling and the share reached, what binds, the controller's counters, the run's speed. */
export function simExtras(report: SimRunReport, system: SystemSpec, estimates: readonly Estimate[]): string[] {
  const ceiling = linkCeiling(system);
  const out: string[] = [];
  const link = `Gen${system.gen} x${system.lanes}, MPS ${report.bringup.link.mps || system.mps}, MRRS ${report.bringup.link.mrrs || system.mrrs}`;
  const ssd = system.array ? `${system.array.source}, ${system.array.stripeBytes / 1024} KiB stripes` : `SSD ${system.ssd.source}`;
  const per = system.array ? " per SSD" : "";
  out.push(`nvme-host: ${report.engine} engine, ${ssd}, ${link}, ${system.slots} slots, ${system.bufferBytes / 1024} KiB buffers, ${system.maxPieceBytes / 1024} KiB pieces${per}`);
  out.push(`  link ceiling (payload): read ${formatBytesPerSecond(ceiling.read)}, write ${formatBytesPerSecond(ceiling.write)}`);
  report.jobs.forEach((job, i) => {
    const e = estimates[Math.min(i, estimates.length - 1)];
    const parts: string[] = [];
    for (const [dir, d, c] of [["read", job.read, ceiling.read], ["write", job.write, ceiling.write]] as const) {
      if (d.totalIos === 0 || d.runtimeNs === 0) continue;
      const bw = d.ioBytes / (d.runtimeNs / 1e9);
      const predicted = dir === "read" ? e.read.bytesPerSecond : e.write.bytesPerSecond;
      // A write job's reads are its verify phase, which the estimate does not cover.
      const versus = predicted > 0 ? ` (estimate ${formatBytesPerSecond(predicted)})` : " (verify read-back)";
      parts.push(`${dir} ${formatBytesPerSecond(bw)} = ${percent(bw, c)} of the link${versus}`);
    }
    if (parts.length > 0) out.push(`  ${job.name}: ${parts.join("; ")}; binds: ${e.binding}`);
  });
  const c = report.counters;
  const down = Object.entries(c.tlps.down).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  const up = Object.entries(c.tlps.up).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ");
  out.push(`  controller: ${c.commands} commands as ${c.nvmeCommands} NVMe commands, ${c.doorbellsPerCommand.toFixed(2)} doorbells per command (SQ ${c.doorbells.sq}, CQ ${c.doorbells.cq})`);
  out.push(`  TLPs down: ${down || "none"}`);
  out.push(`  TLPs up:   ${up || "none"}`);
  out.push(`  stalls (cycles): command port ${c.stalls.commandPort}, write data ${c.stalls.writeData}, read data ${c.stalls.readData}, overlapping commands ${c.stalls.overlap}`);
  out.push(`  errors: ${report.commandErrors} commands, ${report.verifyErrors} verify`);
  for (const line of report.errors.slice(0, 5)) out.push(`    ${line}`);
  const s = report.sim;
  out.push(
    `  simulation: ${s.cycles} cycles (${((s.cycles * 4) / 1000).toFixed(1)} µs simulated) in ${s.wallSeconds.toFixed(1)} s, ${(s.cyclesPerSecond / 1e6).toFixed(2)} M cycles/s; bring-up ${s.bringupCycles} cycles; build ${s.buildWallSeconds.toFixed(1)} s`,
  );
  return out;
}

function nvmeHostJson(report: SimRunReport, system: SystemSpec, estimates: readonly Estimate[]): NvmeHostJson {
  const ceiling = linkCeiling(system);
  return {
    engine: report.engine,
    verify_errors: report.verifyErrors,
    command_errors: report.commandErrors,
    link_ceiling_bytes_per_s: { read: ceiling.read, write: ceiling.write },
    binding_constraint: estimates[0]?.binding,
    estimate: estimates.map(estimateJson),
    counters: report.counters,
    errors: report.errors,
    ...(system.array ? { array: arraySystemJson(system) } : {}),
    sim: { cycles: report.sim.cycles, wall_s: report.sim.wallSeconds, cycles_per_s: report.sim.cyclesPerSecond },
    sim_detail: { bringup_cycles: report.sim.bringupCycles, build_s: report.sim.buildWallSeconds, stepped_cycles: report.sim.steppedCycles, fast_forwarded_cycles: report.sim.fastForwardedCycles },
  };
}

/** The array of the sim report's `nvme_host` object: SSD count, stripe, switch, each SSD's port and model. */
export function arraySystemJson(system: SystemSpec) {
  const array = system.array!;
  const ssds = array.topology.ssds.flatMap((entry, port) => (entry === null || entry === undefined ? [] : [{ port, timing: typeof entry.ssd?.timing === "string" ? entry.ssd.timing : null }]));
  return {
    source: array.source,
    ssd_count: ssds.length,
    stripe_bytes: array.stripeBytes,
    switch: { preset: array.topology.switch?.preset ?? "gen2x4", ...array.topology.switch },
    ssds,
  };
}

/** `nvme-host sim`: 0 when every command succeeded and every read checked out, 1 otherwise. */
export async function simCommand(args: readonly string[], print: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const parsed = parseJobCommand(args);
  for (const notice of parsed.notices) process.stderr.write(`notice: ${notice}\n`);
  const bar = progressBar();
  let report: SimRunReport;
  try {
    report = await runJobs(parsed.jobs, parsed.system, { progress: (f) => bar.update(f) });
  } catch (error) {
    bar.done();
    if (error instanceof SimOptionError) throw new JobUsageError(error.message);
    if (error instanceof SimBringupError) {
      print(`nvme-host sim: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  bar.done();
  const geometry = { lbaBytes: Number(report.bringup.ns.lba_bytes), mdtsBytes: Number(report.bringup.ctrl.mdts_bytes) };
  const estimates = parsed.jobs.map((job) => estimate(job, parsed.system, geometry));
  const entries = reportEntries(parsed.jobs, report.clones);
  if (parsed.outputFormat === "json") print(formatFioJson(entries, { nvmeHost: nvmeHostJson(report, parsed.system, estimates) }));
  else print(`${formatFioText(entries, { extras: simExtras(report, parsed.system, estimates) })}\n`);
  return report.verifyErrors === 0 && report.commandErrors === 0 ? 0 : 1;
}

/** `nvme-host estimate`: the analytic prediction for each job. */
export function estimateCommand(args: readonly string[], print: (text: string) => void = (t) => process.stdout.write(t)): number {
  const parsed = parseJobCommand(args);
  for (const notice of parsed.notices) process.stderr.write(`notice: ${notice}\n`);
  let estimates: Estimate[];
  try {
    estimates = parsed.jobs.map((job) => estimate(job, parsed.system));
  } catch (error) {
    throw new JobUsageError((error as Error).message);
  }
  if (parsed.outputFormat === "json") print(`${JSON.stringify({ jobs: estimates.map(estimateJson) }, null, 2)}\n`);
  else print(`${estimates.map((e) => formatEstimate(e).join("\n")).join("\n\n")}\n`);
  return 0;
}
