// The contracts of the main job (`nvme-host sim` and `nvme-host estimate`, DESIGN.md "CLI"): a fio job
// after parsing (JobSpec), the system it runs on (SystemSpec), and what a run measured (JobResult),
// shared by the fio parser (fio-job.ts), the runner (sim/system/job-runner.ts), the estimator
// (sim/estimate/) and the reports (fio-report.ts). Units are resolved here once: bytes and
// nanoseconds of simulated time, never fio's strings.
import type { EngineName } from "../engine/index.ts";
import type { SsdSpec } from "../system/ssd-spec.ts";
import type { SystemTopology } from "../system/topology.ts";

/** fio's `rw` after aliases: `rw` is `readwrite`, `randrw` mixes random reads and writes. */
export type RwMode = "read" | "write" | "randread" | "randwrite" | "readwrite" | "randrw";

export const RW_MODES: readonly RwMode[] = ["read", "write", "randread", "randwrite", "readwrite", "randrw"];

export function isRandom(rw: RwMode): boolean {
  return rw === "randread" || rw === "randwrite" || rw === "randrw";
}

/** Percent of commands that read: 100 for reads, 0 for writes, `rwmixread` for the mixes. */
export function readPercent(job: Pick<JobSpec, "rw" | "rwmixread">): number {
  if (job.rw === "read" || job.rw === "randread") return 100;
  if (job.rw === "write" || job.rw === "randwrite") return 0;
  return job.rwmixread;
}

/** One fio job, with every option resolved to a number (fio's defaults where the job is silent). */
export interface JobSpec {
  /** The section name of the job file, or "job" on the command line. */
  name: string;
  rw: RwMode;
  /** Block size of every command, bytes (a multiple of the namespace's LBA size, checked when the run starts). */
  bs: number;
  /** Commands in flight (per job; numjobs clones share the controller's slots). */
  iodepth: number;
  /** Bytes of the region the job addresses, from `offset`; null = to the end of the namespace. */
  size: number | null;
  /** Byte offset of the region (fio `offset`). */
  offset: number;
  /** Stop after this many commands (fio `number_ios`); null = no limit. */
  numberIos: number | null;
  /** Simulated time limit, ns (fio `runtime`); null = none. */
  runtimeNs: number | null;
  /** Simulated time run before measuring starts, ns (fio `ramp_time`). */
  rampTimeNs: number;
  /** fio `time_based`: loop over the region until runtime has passed. */
  timeBased: boolean;
  /** Percent reads in `readwrite`/`randrw` (fio default 50). */
  rwmixread: number;
  /** Identical clones of this job running at once (fio `numjobs`), each with its own stream. */
  numjobs: number;
  /** Check every read against the data this run wrote earlier (fio `verify`, any pattern name). */
  verify: boolean;
  /** Seed of random offsets and mixes (fio `randseed`). */
  randseed: number;
  /** Wait for the jobs before this one to finish before starting (fio `stonewall`). */
  stonewall: boolean;
  /** Report clones (numjobs) together as one (fio `group_reporting`). */
  groupReporting: boolean;
}

/** The system a job runs on (the CLI's system options, DESIGN.md), resolved. */
export interface SystemSpec {
  /** The SSD model: preset or file (`--ssd`), parsed by sim/system/ssd-spec.ts. */
  ssd: SsdSpec;
  /** Link generation and width (`--gen`, `--lanes`): default 2 and 4. */
  gen: 1 | 2 | 3;
  lanes: 1 | 2 | 4 | 8;
  /** Max payload and max read request size, bytes (`--mps`, `--mrrs`): default 256 and 512. */
  mps: 128 | 256 | 512;
  mrrs: 128 | 256 | 512 | 1024 | 2048 | 4096;
  /** The controller's command slots (queue depth limit, `--slots`): default 32. */
  slots: number;
  /** The controller's write and read buffers, bytes each (`--buffer`): default 128 KiB. */
  bufferBytes: number;
  /** Largest NVMe command the engine issues, bytes (min with MDTS): default 32 KiB. */
  maxPieceBytes: number;
  engine: EngineName;
  /** TLP trace file (`--trace`), VCD file (`--vcd`). */
  trace?: string;
  vcd?: string;
  /**
   * Several SSDs behind a PCIe switch, striped into one device (`--ssds`, `--topology`, `--stripe`,
   * `--switch`; issue 14). Absent: one SSD on the root port, no switch (`ssd` above). Present: `ssd` is
   * not used; each SSD's options are in `topology.ssds`, and `slots`, `bufferBytes` and `maxPieceBytes`
   * are each lane's (every SSD has a controller lane of its own).
   */
  array?: ArraySpec;
}

/** A striped array (RAID 0) of the SSDs of a topology. */
export interface ArraySpec {
  /** The switch and what is on each downstream port (sim/system/topology.ts); 1, 2 or 4 SSDs present. */
  topology: SystemTopology;
  /** RAID 0 stripe size, bytes: a power of two, 4 KiB..1 MiB (rtl-src/user/user-port-striper.ts). */
  stripeBytes: number;
  /** Where it came from, for reports: "--ssds 4 x consumerSsd" or the topology file's path. */
  source: string;
}

/** What one direction of a job measured (fio's `read` / `write` objects). */
export interface DirectionResult {
  /** Bytes moved by completed commands inside the measured window. */
  ioBytes: number;
  /** Commands completed inside the measured window. */
  totalIos: number;
  /** Measured window, ns of simulated time (after ramp_time). */
  runtimeNs: number;
  /** Completion latency of each command in the window, ns (submission accepted -> completion), in completion order. */
  clatNs: number[];
}

/** What a run measured for one job (or one group with group_reporting). */
export interface JobResult {
  name: string;
  /** 0, or the first error's code (fio's `error`: a command's error class, or 1 for a verify mismatch). */
  error: number;
  read: DirectionResult;
  write: DirectionResult;
}
