// Configurations on which the estimator (sim/estimate/) is compared with the models, shared by its
// test (test/sim/estimate/estimator.test.ts) and its bench (sim/bench/estimate-vs-model.ts): the
// issue's figures (sequential 128 KiB QD32 and random 4 KiB QD1/QD32, reads and writes, the
// link-bound and the consumer SSD, MPS 128/256/512) and sweeps of queue depth and block size.
import { timingPresets, type TimingPresetName } from "../nvme/timing.ts";
import type { SsdOptions } from "../nvme/options.ts";
import type { JobSpec, RwMode, SystemSpec } from "../workload/job.ts";

export interface ComparisonCase {
  label: string;
  rw: RwMode;
  bs: number;
  iodepth: number;
  preset: TimingPresetName;
  mps: 128 | 256 | 512;
  mrrs?: 128 | 256 | 512 | 1024 | 2048 | 4096;
  /** SSD options over the preset (a smaller write cache, say). */
  ssd?: Partial<SsdOptions>;
  /**
   * What of the estimate to compare: the job's mean (default), or the rate once the SSD's write cache is
   * full (the measured window then starts after the cache filled).
   */
  compare?: "mean" | "sustained";
  /** Commands run before and inside the measured window. */
  warmup: number;
  commands: number;
}

const KIB = 1024;

function brief(rw: RwMode, bs: number, iodepth: number, preset: TimingPresetName, mps: 128 | 256 | 512): ComparisonCase {
  const big = bs >= 64 * KIB;
  const commands = big ? 120 : iodepth === 1 ? 60 : 1200;
  return {
    label: `${preset} MPS ${mps} ${rw} ${bs / KIB}K QD${iodepth}`,
    rw,
    bs,
    iodepth,
    preset,
    mps,
    warmup: Math.min(2 * iodepth, commands),
    commands,
  };
}

/** The table: 2 presets x 3 MPS x 6 workloads. */
export const BRIEF_CASES: ComparisonCase[] = (["fastSsd", "consumerSsd"] as const).flatMap((preset) =>
  ([128, 256, 512] as const).flatMap((mps) => [
    brief("read", 128 * KIB, 32, preset, mps),
    brief("write", 128 * KIB, 32, preset, mps),
    brief("randread", 4 * KIB, 1, preset, mps),
    brief("randwrite", 4 * KIB, 1, preset, mps),
    brief("randread", 4 * KIB, 32, preset, mps),
    brief("randwrite", 4 * KIB, 32, preset, mps),
  ]),
);

/** Queue depth and block size sweeps on the link-bound SSD at MPS 256, and a write cache that fills. */
export const GRID_CASES: ComparisonCase[] = [
  ...[1, 4, 8, 16, 64].flatMap((iodepth) => [
    { ...brief("randread", 4 * KIB, iodepth, "fastSsd", 256), commands: 800 },
    { ...brief("randwrite", 4 * KIB, iodepth, "fastSsd", 256), commands: 800 },
  ]),
  ...[16, 32, 64].flatMap((kib) => [4, 16, 32].map((iodepth) => ({ ...brief("randread", kib * KIB, iodepth, "fastSsd", 256), commands: 300 }))),
  ...[16, 64].flatMap((kib) => [4, 16].map((iodepth) => ({ ...brief("randwrite", kib * KIB, iodepth, "fastSsd", 256), commands: 300 }))),
  { ...brief("write", 128 * KIB, 32, "fastSsd", 256), mrrs: 128, label: "fastSsd MPS 256 MRRS 128 write 128K QD32" },
  {
    ...brief("randwrite", 4 * KIB, 32, "consumerSsd", 256),
    ssd: { timing: { ...timingPresets.consumerSsd, writeCacheBytes: 256 * KIB } },
    label: "consumerSsd 256K cache randwrite 4K QD32",
    compare: "sustained",
    warmup: 200,
    commands: 400,
  },
];

/**
 * The controller itself (the emitted core on Verilator, sim/testbench/controller-io-run.ts): the
 * issue's sequential and random figures at MPS 256 on the link-bound SSD, and a bigger buffer.
 */
export const CONTROLLER_CASES: (ComparisonCase & { bufferBytes?: number })[] = [
  { ...brief("randread", 4 * KIB, 1, "fastSsd", 256), commands: 40, warmup: 5 },
  { ...brief("randwrite", 4 * KIB, 1, "fastSsd", 256), commands: 40, warmup: 5 },
  { ...brief("read", 128 * KIB, 32, "fastSsd", 256), commands: 24, warmup: 8 },
  { ...brief("write", 128 * KIB, 32, "fastSsd", 256), commands: 24, warmup: 8 },
  { ...brief("randread", 4 * KIB, 32, "fastSsd", 256), commands: 400, warmup: 64 },
  { ...brief("randwrite", 4 * KIB, 32, "fastSsd", 256), commands: 300, warmup: 32 },
  { ...brief("randwrite", 16 * KIB, 32, "fastSsd", 256), commands: 300, warmup: 32 },
  { ...brief("read", 32 * KIB, 32, "fastSsd", 256), label: "fastSsd MPS 256 read 32K QD32, 1 MiB buffer", bufferBytes: 1024 * KIB, commands: 60, warmup: 40 },
];

export function jobFor(c: ComparisonCase): JobSpec {
  return {
    name: c.label,
    rw: c.rw,
    bs: c.bs,
    iodepth: c.iodepth,
    size: null,
    offset: 0,
    numberIos: c.warmup + c.commands,
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
}

export function systemFor(c: ComparisonCase & { bufferBytes?: number }): SystemSpec {
  return {
    ssd: { source: c.preset, preset: c.preset, options: { timing: c.preset, ...c.ssd }, faults: [] },
    gen: 2,
    lanes: 4,
    mps: c.mps,
    mrrs: c.mrrs ?? 512,
    slots: 32,
    bufferBytes: c.bufferBytes ?? 128 * KIB,
    maxPieceBytes: 32 * KIB,
    engine: "js",
  };
}
