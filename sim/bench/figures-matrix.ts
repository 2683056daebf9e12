// The configurations of the figures benchmark (sim/bench/system-figures.ts, issue 11 "Figures"): each is
// one fio job on one system, identified by a stable id that `--only` and `--list-jobs` use, so a CI
// matrix or a cluster array job can run any one of them alone and `--merge` can put them together.
//
// The matrix:
//  - "table": sequential 128 KiB QD32 read and write, random 4 KiB QD1 and QD32 read and write, on the
//    link-bound SSD preset (fastSsd) at MPS 128, 256 and 512, and on the consumer preset (consumerSsd)
//    at MPS 256; the QD1 cases also run the reference host (the golden software driver's behaviour on
//    the same link and SSD model) for the latency goal;
//  - "queue-depth": 4 KiB random read and 128 KiB sequential read at QD 1, 2, 4, ..., 64 (fastSsd, MPS 256);
//  - "block-size": sequential read and write of 4 KiB ... 1 MiB at QD32 (fastSsd, MPS 256);
//  - "what-if": the goal cases again with the constraint the estimate names relaxed (larger buffers,
//    more slots), so that a missed goal's cause is measured, not guessed;
//  - "speed": one busy and one mostly-waiting case on every engine, the busy one profiled (where the
//    CPU time goes), for the simulation speed under I/O.
//
// Sizes (documented in system-figures.ts): a measured window of a few thousand 4 KiB commands or about
// 6 MiB of larger ones, after a ramp_time of twice the estimated mean latency that drops the start-up.
// The job is given to the runner as fio options (parseJobs), so every configuration is also an
// `nvme-host sim` command line (FigurePlan.command) that reproduces it.
import { estimate } from "../estimate/estimate.ts";
import type { EngineName } from "../engine/index.ts";
import { parseJobs } from "../workload/fio-job.ts";
import type { JobSpec, SystemSpec } from "../workload/job.ts";
import { DEFAULT_SYSTEM, parseSystemArguments } from "../../tools/system-options.ts";

export type SsdPreset = "fastSsd" | "consumerSsd";
export type FigureRw = "read" | "write" | "randread" | "randwrite";
export type FigureGroup = "table" | "queue-depth" | "block-size" | "what-if" | "speed";
export type Mps = 128 | 256 | 512;

export const FIGURE_GROUPS: readonly FigureGroup[] = ["table", "queue-depth", "block-size", "what-if", "speed"];

/** One configuration: a job on a system, and what to measure besides the run. */
export interface FigureConfig {
  /** Stable and unique: `fast-mps256-read-128k-qd32`, `speed-js-read-128k-qd32`. */
  id: string;
  /** The sections of the table (and plots) it belongs to. */
  groups: FigureGroup[];
  preset: SsdPreset;
  mps: Mps;
  rw: FigureRw;
  /** Block size, bytes. */
  bs: number;
  iodepth: number;
  /** The controller's slots and buffer bytes (DEFAULT_SYSTEM's unless a what-if changes them). */
  slots: number;
  bufferBytes: number;
  /** Commands the measured window should hold (after the ramp). */
  windowCommands: number;
  /** The engine this configuration is about (the speed cases); else the run's engine. */
  engine?: EngineName;
  /** Also run the reference host on the same job, link and SSD (for the latency goal). */
  reference: boolean;
  /** Sample the CPU during the jobs and split the time by part. */
  profile: boolean;
  /** Words for the table: "seq read 128 KiB QD32", with a what-if's change. */
  label: string;
}

const KIB = 1024;
const MIB = 1024 * KIB;
export const QUEUE_DEPTHS = [1, 2, 4, 8, 16, 32, 64] as const;
export const BLOCK_SIZES = [4, 8, 16, 32, 64, 128, 256, 512, 1024].map((k) => k * KIB);
/** The region random jobs address: large enough that random offsets rarely meet, small beside the namespace. */
const RANDOM_REGION_BYTES = 64 * MIB;
/** The measured window's target for sequential jobs, bytes (at least SEQ_MIN_COMMANDS commands). */
const SEQ_WINDOW_BYTES = 6 * MIB;
const SEQ_MIN_COMMANDS = 24;
const SEQ_MAX_COMMANDS = 1536;
/** Random 4 KiB: a few hundred commands at QD1, more with depth, at most a few thousand. */
const RANDOM_QD1_COMMANDS = 300;
const RANDOM_COMMANDS_PER_DEPTH = 100;
const RANDOM_MAX_COMMANDS = 2000;
/** The ramp is this many estimated mean latencies: every slot has turned over at least once. */
const RAMP_LATENCIES = 2;

export function isReadRw(rw: FigureRw): boolean {
  return rw === "read" || rw === "randread";
}

function sizeText(bytes: number): string {
  if (bytes % MIB === 0) return `${bytes / MIB}m`;
  if (bytes % KIB === 0) return `${bytes / KIB}k`;
  return String(bytes);
}

function presetShort(preset: SsdPreset): string {
  return preset === "fastSsd" ? "fast" : "consumer";
}

export function figureId(c: Pick<FigureConfig, "preset" | "mps" | "rw" | "bs" | "iodepth" | "slots" | "bufferBytes">): string {
  const extras: string[] = [];
  if (c.slots !== DEFAULT_SYSTEM.slots) extras.push(`slots${c.slots}`);
  if (c.bufferBytes !== DEFAULT_SYSTEM.bufferBytes) extras.push(`buf${sizeText(c.bufferBytes)}`);
  return [presetShort(c.preset), `mps${c.mps}`, c.rw, sizeText(c.bs), `qd${c.iodepth}`, ...extras].join("-");
}

function sizeWords(bytes: number): string {
  return bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / KIB} KiB`;
}

export function workloadLabel(c: Pick<FigureConfig, "rw" | "bs" | "iodepth" | "slots" | "bufferBytes">): string {
  const kind = c.rw.startsWith("rand") ? "rand" : "seq";
  const dir = isReadRw(c.rw) ? "read" : "write";
  const changes: string[] = [];
  if (c.slots !== DEFAULT_SYSTEM.slots) changes.push(`${c.slots} slots`);
  if (c.bufferBytes !== DEFAULT_SYSTEM.bufferBytes) changes.push(`${sizeWords(c.bufferBytes)} buffers`);
  return `${kind} ${dir} ${sizeWords(c.bs)} QD${c.iodepth}${changes.length ? ` (${changes.join(", ")})` : ""}`;
}

function windowFor(rw: FigureRw, bs: number, iodepth: number): number {
  if (rw.startsWith("rand")) return iodepth === 1 ? RANDOM_QD1_COMMANDS : Math.min(RANDOM_MAX_COMMANDS, RANDOM_QD1_COMMANDS + RANDOM_COMMANDS_PER_DEPTH * iodepth);
  return Math.min(SEQ_MAX_COMMANDS, Math.max(SEQ_MIN_COMMANDS, Math.ceil(SEQ_WINDOW_BYTES / bs)));
}

export interface FigureConfigInput {
  preset: SsdPreset;
  mps: Mps;
  rw: FigureRw;
  bs: number;
  iodepth: number;
  slots?: number;
  bufferBytes?: number;
  group: FigureGroup;
  reference?: boolean;
}

/** A configuration from its workload and system (slots and buffers default to the hardware's; the window from the sizes rule). */
export function figureConfig(input: FigureConfigInput): FigureConfig {
  const c = { slots: DEFAULT_SYSTEM.slots, bufferBytes: DEFAULT_SYSTEM.bufferBytes, ...input };
  return {
    id: figureId(c),
    groups: [input.group],
    preset: c.preset,
    mps: c.mps,
    rw: c.rw,
    bs: c.bs,
    iodepth: c.iodepth,
    slots: c.slots,
    bufferBytes: c.bufferBytes,
    windowCommands: windowFor(c.rw, c.bs, c.iodepth),
    reference: input.reference ?? false,
    profile: false,
    label: workloadLabel(c),
  };
}

/** The speed cases: a busy link (every cycle stepped) and random reads (more waiting), on one engine. */
function speedConfigs(engine: EngineName): FigureConfig[] {
  const busy: FigureConfig = {
    ...figureConfig({ preset: "fastSsd", mps: 256, rw: "read", bs: 128 * KIB, iodepth: 32, group: "speed" }),
    windowCommands: 16,
    engine,
    profile: true,
  };
  const random: FigureConfig = {
    ...figureConfig({ preset: "fastSsd", mps: 256, rw: "randread", bs: 4 * KIB, iodepth: 32, group: "speed" }),
    windowCommands: 500,
    engine,
  };
  return [busy, random].map((c) => ({ ...c, id: `speed-${engine}-${c.rw}-${sizeText(c.bs)}-qd${c.iodepth}`, label: `${c.label}${c.profile ? ", profiled" : ""}` }));
}

/** The goal cases (system-figures goals) by role. */
export const GOAL_IDS = {
  seqRead: "fast-mps256-read-128k-qd32",
  seqWrite: "fast-mps256-write-128k-qd32",
  randRead: ["fast-mps128-randread-4k-qd32", "fast-mps256-randread-4k-qd32", "fast-mps512-randread-4k-qd32"],
  qd1Read: ["fast-mps128-randread-4k-qd1", "fast-mps256-randread-4k-qd1", "fast-mps512-randread-4k-qd1", "consumer-mps256-randread-4k-qd1"],
  /** The goal case each what-if relaxes. */
  whatIf: {
    "fast-mps256-read-128k-qd32": "fast-mps256-read-128k-qd32-buf1m",
    "fast-mps256-write-128k-qd32": "fast-mps256-write-128k-qd32-buf1m",
    "fast-mps256-randread-4k-qd32": "fast-mps256-randread-4k-qd64-slots64-buf256k",
  } as Readonly<Record<string, string>>,
} as const;

/** The ids --quick runs: the goal cases at MPS 256, and the profiled speed case of the run's engine. */
export function quickIds(engine: EngineName): string[] {
  return [GOAL_IDS.seqRead, GOAL_IDS.seqWrite, "fast-mps256-randread-4k-qd32", "fast-mps256-randread-4k-qd1", `speed-${engine}-read-128k-qd32`];
}

/**
 * Every configuration, in table order, each id once (a case in several groups lists them all).
 * `engines`: the engines the speed cases run on (those installed).
 */
export function figureMatrix(engines: readonly EngineName[]): FigureConfig[] {
  const list: FigureConfig[] = [];
  const table = (preset: SsdPreset, mps: Mps) => [
    figureConfig({ preset, mps, rw: "read", bs: 128 * KIB, iodepth: 32, group: "table" }),
    figureConfig({ preset, mps, rw: "write", bs: 128 * KIB, iodepth: 32, group: "table" }),
    figureConfig({ preset, mps, rw: "randread", bs: 4 * KIB, iodepth: 1, group: "table", reference: true }),
    figureConfig({ preset, mps, rw: "randwrite", bs: 4 * KIB, iodepth: 1, group: "table", reference: true }),
    figureConfig({ preset, mps, rw: "randread", bs: 4 * KIB, iodepth: 32, group: "table" }),
    figureConfig({ preset, mps, rw: "randwrite", bs: 4 * KIB, iodepth: 32, group: "table" }),
  ];
  for (const mps of [128, 256, 512] as const) list.push(...table("fastSsd", mps));
  list.push(...table("consumerSsd", 256));
  for (const iodepth of QUEUE_DEPTHS) {
    list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "randread", bs: 4 * KIB, iodepth, group: "queue-depth" }));
    list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "read", bs: 128 * KIB, iodepth, group: "queue-depth" }));
  }
  for (const bs of BLOCK_SIZES) {
    list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "read", bs, iodepth: 32, group: "block-size" }));
    list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "write", bs, iodepth: 32, group: "block-size" }));
  }
  list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "read", bs: 128 * KIB, iodepth: 32, bufferBytes: 1024 * KIB, group: "what-if" }));
  list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "write", bs: 128 * KIB, iodepth: 32, bufferBytes: 1024 * KIB, group: "what-if" }));
  list.push(figureConfig({ preset: "fastSsd", mps: 256, rw: "randread", bs: 4 * KIB, iodepth: 64, slots: 64, bufferBytes: 256 * KIB, group: "what-if" }));
  for (const engine of engines) list.push(...speedConfigs(engine));

  const byId = new Map<string, FigureConfig>();
  for (const c of list) {
    const seen = byId.get(c.id);
    if (!seen) byId.set(c.id, c);
    else {
      for (const g of c.groups) if (!seen.groups.includes(g)) seen.groups.push(g);
      seen.reference ||= c.reference;
    }
  }
  return [...byId.values()];
}

/** Bad --only input: names the id. */
export class FigureSelectionError extends Error {
  override name = "FigureSelectionError";
}

/** The configurations `only` names (ids or group names, in matrix order); an unknown name throws. */
export function selectFigures(matrix: readonly FigureConfig[], only: readonly string[]): FigureConfig[] {
  const wanted = new Set(only);
  for (const name of wanted) {
    if (!matrix.some((c) => c.id === name) && !(FIGURE_GROUPS as readonly string[]).includes(name)) {
      throw new FigureSelectionError(`--only ${name}: no such configuration or group (--list-jobs prints the ids; groups: ${FIGURE_GROUPS.join(", ")})`);
    }
  }
  return matrix.filter((c) => wanted.has(c.id) || c.groups.some((g) => wanted.has(g)));
}

/** What a configuration runs: the job and the system, as parsed from its fio and system options. */
export interface FigurePlan {
  job: JobSpec;
  system: SystemSpec;
  /** fio options and system options, as `nvme-host sim` takes them. */
  jobArgs: string[];
  systemArgs: string[];
  /** The `nvme-host sim` command that runs the same job (the benchmark measures the same window). */
  command: string;
}

/**
 * The job and system of `c` on `engine` (c.engine wins). The ramp and the number of commands come from
 * the estimate of the job: ramp_time = RAMP_LATENCIES estimated mean latencies (whole µs), and enough
 * commands for the ramp and windowCommands more.
 */
export function planFigure(c: FigureConfig, engine: EngineName): FigurePlan {
  const runEngine = c.engine ?? engine;
  const systemArgs = [`--ssd=${c.preset}`, `--mps=${c.mps}`];
  if (c.slots !== DEFAULT_SYSTEM.slots) systemArgs.push(`--slots=${c.slots}`);
  if (c.bufferBytes !== DEFAULT_SYSTEM.bufferBytes) systemArgs.push(`--buffer=${sizeText(c.bufferBytes)}`);
  systemArgs.push(`--engine=${runEngine}`);
  const { system } = parseSystemArguments(systemArgs, runEngine, {});
  const base = [`--name=${c.id}`, `--rw=${c.rw}`, `--bs=${sizeText(c.bs)}`, `--iodepth=${c.iodepth}`];
  const probe = parseJobs({ args: [...base, `--size=${sizeText(RANDOM_REGION_BYTES)}`] }).jobs[0];
  const e = estimate(probe, system);
  const direction = isReadRw(c.rw) ? e.read : e.write;
  const rampUs = Math.max(1, Math.ceil((RAMP_LATENCIES * direction.meanLatencyNs) / 1000));
  const rampCommands = Math.ceil(((rampUs * 1000) / 1e9) * direction.iops);
  const commands = c.windowCommands + rampCommands;
  const jobArgs = [...base];
  if (c.rw.startsWith("rand")) jobArgs.push(`--size=${sizeText(RANDOM_REGION_BYTES)}`, `--number_ios=${commands}`);
  else jobArgs.push(`--size=${sizeText(commands * c.bs)}`);
  jobArgs.push(`--ramp_time=${rampUs}us`);
  const parsed = parseJobs({ args: jobArgs });
  if (parsed.jobs.length !== 1) throw new Error(`${c.id}: the options made ${parsed.jobs.length} jobs`);
  return { job: parsed.jobs[0], system, jobArgs, systemArgs, command: `npx nvme-host sim ${[...jobArgs, ...systemArgs].join(" ")}` };
}

/** The command line that runs one configuration alone and saves its JSON (for --list-jobs). */
export function figureCommandLine(c: FigureConfig, engine?: EngineName): string {
  return `npx tsx sim/bench/system-figures.ts --only ${c.id}${engine && !c.engine ? ` --engine ${engine}` : ""} --json > ${c.id}.json`;
}

/** The core a configuration builds (engine, MPS, slots, buffers): configurations with the same key share one model. */
export function modelKey(c: FigureConfig, engine: EngineName): string {
  return `${c.engine ?? engine}-mps${c.mps}-slots${c.slots}-buf${c.bufferBytes}`;
}
