// The simulation behind `nvme-host sim` (issue 11): fio jobs (sim/workload/job.ts) run on the full system
// (the emitted core on js or Verilator, the link model, the SSD model; full-system.ts) through the
// controller's user ports, and measured as fio measures them.
//
// How a run goes: the system is built from the SystemSpec (the core's slots, buffers and piece size, the
// MPS/MRRS it offers, the link's generation and width) and brought up to READY; then the jobs run in
// stonewall groups, one group after the other, the jobs of a group (and the numjobs clones of each)
// at once. Each clone is a command stream (sim/workload/job-stream.ts) that keeps its own iodepth of
// commands submitted to the user-port driver (sim/testbench/user-port-driver.ts), refilled at every
// completion; the driver interleaves the clones' commands on the one command port in the order they
// were submitted, holds back a command that overlaps one in flight (random writes can collide), sends
// every write's data (distinct per block and pass, sim/workload/pattern.ts) and checks every byte of
// every read against what the run wrote before (blocks never written read as zeroes, as the SSD model's
// fresh media does). With verify, a job that writes then reads every block it wrote back, as fio's verify
// phase does: those reads count in the job's read figures (fio accounts them as reads, with the verify
// phase's time as the read runtime), never in its write figures.
//
// Time: ramp_time and runtime are simulated time from the start of the job's group: commands completed
// before the ramp ends are not counted, and a job with a runtime stops issuing at ramp + runtime and
// counts what completed up to then (its commands still in flight finish uncounted). Latency is fio's
// clat: from the cycle the controller accepted the command to the cycle its completion was taken, 4 ns
// a cycle.
//
// Errors, as fio has them: a command whose completion reports an error class is counted in
// commandErrors, is the job's `error` if it came first, is left out of the figures (fio accounts only
// I/O that succeeded), and stops its clone (fio ends a job at an I/O error, without a verify phase). A
// read that succeeded with the wrong data counts in verifyErrors and makes the job's error 1, and the
// job goes on checking (fio's verify_fatal=0).
//
// Speed: the user side runs at full rate (no back-pressure from the driver), and whenever the driver
// only waits for read data or completions the system fast-forwards through the idle link (skipIdle
// with the user-port valids watched). The engine's cycle dominates the rest (see sim/bench/job-runner.ts).
import type { EngineName } from "../engine/index.ts";
import { emitDesign } from "../../hdl/index.ts";
import { type NvmeHostCoreParams, nvmeHostCore, simulationCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { resolveSsdOptions } from "../nvme/options.ts";
import { type TlpCounts, TlpCounter } from "../pcie/tlp-counter.ts";
import { type TraceSink, TraceWriter, teeTrace } from "../pcie/trace.ts";
import { type CommandRecord, type DriverStalls, USER_PORT_DRIVER_WATCH, UserPortDriver, readIoGeometry } from "../testbench/user-port-driver.ts";
import { type NamespaceGeometry, UserErrorClass, UserOpcode } from "../testbench/user-command.ts";
import type { DirectionResult, JobResult, JobSpec, SystemSpec } from "../workload/job.ts";
import { RW_MODES, readPercent } from "../workload/job.ts";
import { JobStream } from "../workload/job-stream.ts";
import { type RunStatusReader, arrayCoreFor, arrayNamespace, arrayRunStatus } from "./array-core.ts";
import { type BringupReport, STATUS_WATCH, readBringupReport, waitForOutcome } from "./bringup.ts";
import { type FullSystem, NS_PER_CYCLE, type VerilogCore, buildSystem } from "./full-system.ts";
import { emittedSources } from "../engine/designs.ts";

/** What a run of jobs measured, and what fio cannot tell (the controller's counters, the simulation's speed). */
export interface SimRunReport {
  /** One per job and clone in job order (clones together when the job has group_reporting). */
  jobs: JobResult[];
  /** Per job, one result per clone, for fio's reports (sim/workload/fio-report.ts reportEntries). */
  clones: JobResult[][];
  engine: EngineName;
  /** Reads that completed successfully with data other than what the run wrote (or zeroes where it wrote nothing). */
  verifyErrors: number;
  /** Commands whose completion reported an error class other than none. */
  commandErrors: number;
  /** The first problems in words: data mismatches, protocol errors of the controller, a run that stopped making progress. */
  errors: string[];
  /** The bring-up before the jobs (link reached, MPS/MRRS in use, what Identify found). */
  bringup: BringupReport;
  counters: {
    /** User commands completed, and the NVMe commands (pieces) the controller cut them into. */
    commands: number;
    nvmeCommands: number;
    /** Doorbell writes the controller sent (SQ tail, CQ head), and both per user command and per NVMe command. */
    doorbells: { sq: number; cq: number };
    doorbellsPerCommand: number;
    doorbellsPerNvmeCommand: number;
    /** TLPs by kind and direction (down = to the SSD), and their bytes (header + payload, no framing). */
    tlps: TlpCounts;
    tlpBytes: { down: number; up: number };
    /** Cycles the controller held the user side up (driver's view), and cycles a command was held back by an overlap. */
    stalls: DriverStalls & { overlap: number };
  };
  sim: {
    /** Cycles of the jobs (after the bring-up), their wall time and the rate. */
    cycles: number;
    wallSeconds: number;
    cyclesPerSecond: number;
    /** Of those cycles: stepped with the models, and skipped inside the engine while the models were idle. */
    steppedCycles: number;
    fastForwardedCycles: number;
    bringupCycles: number;
    bringupWallSeconds: number;
    /** Building the system: elaborating and emitting the core (once per process and parameter set), loading or compiling the model. */
    buildWallSeconds: number;
  };
}

/** One command of a run as it completed (RunJobsOptions.onCommand). */
export interface CommandEvent {
  /** The job's position in the list, its name, and the clone (0..numjobs-1). */
  job: number;
  name: string;
  clone: number;
  /** "main", or "verify" for the read-back after a job's writes. */
  phase: "main" | "verify";
  read: boolean;
  /** Byte offset in the namespace, and length. */
  offset: number;
  bytes: number;
  acceptCycle: number;
  completeCycle: number;
  errorClass: number;
  /** Counted in the job's figures (inside its measured window). */
  counted: boolean;
}

export interface RunJobsOptions {
  /** Called now and then with the fraction of the work done (0..1); the CLI draws a bar on stderr. */
  progress?: (fraction: number) => void;
  /**
   * Called when each stonewall group starts (the first right after the bring-up), with the system:
   * where a test reaches behind the controller's back (the SSD model's media, its faults).
   */
  onGroupStart?: (group: number, system: FullSystem) => void;
  /** Called at every completion (tests, traces of a run): which job, which command, when. */
  onCommand?: (event: CommandEvent) => void;
  /** The core's parameters that SystemSpec does not set (default simulationCoreParams: the hardware's logic, waits shortened). */
  baseCoreParams?: NvmeHostCoreParams;
}

/** A job or system option the run cannot take; names the job, the option and its value. */
export class SimOptionError extends Error {
  override name = "SimOptionError";
  constructor(
    readonly option: string,
    readonly value: unknown,
    why: string,
    readonly job?: string,
  ) {
    super(`${job !== undefined ? `job "${job}": ` : ""}${option}=${String(value)}: ${why}`);
  }
}

/** The controller did not reach READY; `report` says where it stopped. */
export class SimBringupError extends Error {
  override name = "SimBringupError";
  constructor(readonly report: BringupReport) {
    const e = report.error;
    super(`bring-up failed: ${e ? `${e.step} ${e.code}${e.detail ? ` (${e.detail})` : ""}` : "not ready"}`);
  }
}

/** Longest bring-up, cycles (50 ms of simulated time). */
const BRINGUP_MAX_CYCLES = 12_500_000;
/** Completions the run waits without any before it gives up, in I/O timeouts of the core (which completes a lost command with TIMEOUT after one). */
const WATCHDOG_IO_TIMEOUTS = 4;
/** Progress is reported at most this often, ms of wall time. */
const PROGRESS_INTERVAL_MS = 200;
/** The error code of a verify mismatch in JobResult.error (the contract: fio's `error`, 1 for a mismatch). */
const VERIFY_ERROR_CODE = 1;
/** Largest slots the core takes, and the SQ it then needs (one entry always stays free). */
const MAX_SLOTS = 64;

/** The core's parameters for a system: slots, buffers, piece size and MPS/MRRS over `base`. */
export function coreParamsFor(system: SystemSpec, base: NvmeHostCoreParams = simulationCoreParams): NvmeHostCoreParams {
  checkSystem(system);
  let ioQueueEntries = base.ioQueueEntries;
  while (ioQueueEntries < system.slots + 1) ioQueueEntries *= 2;
  return {
    ...base,
    // The MPS the controller offers: the enumeration takes the least of it, the root port's supported
    // (rootPortMpsCode) and the SSD's Device Capabilities, and sets it on both ends.
    tlp: { ...base.tlp, maxPayloadBytes: system.mps },
    enumeration: { ...base.enumeration, mrrsCode: Math.log2(system.mrrs / 128) },
    ioQueueEntries,
    io: { ...base.io, slots: system.slots, writeBufferBytes: system.bufferBytes, readBufferBytes: system.bufferBytes, maxPieceBytes: system.maxPieceBytes },
  };
}

function checkSystem(s: SystemSpec): void {
  const fail = (option: string, value: unknown, why: string): never => {
    throw new SimOptionError(option, value, why);
  };
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (![1, 2, 3].includes(s.gen)) fail("gen", s.gen, "not a PCIe generation 1, 2 or 3");
  if (![1, 2, 4, 8].includes(s.lanes)) fail("lanes", s.lanes, "not a link width 1, 2, 4 or 8");
  if (![128, 256, 512].includes(s.mps)) fail("mps", s.mps, "not 128, 256 or 512 bytes");
  if (![128, 256, 512, 1024, 2048, 4096].includes(s.mrrs)) fail("mrrs", s.mrrs, "not 128..4096 bytes in powers of two");
  if (!Number.isInteger(s.slots) || s.slots < 1 || s.slots > MAX_SLOTS) fail("slots", s.slots, `not an integer in 1..${MAX_SLOTS}`);
  if (!pow2(s.bufferBytes) || s.bufferBytes < 65536 || s.bufferBytes > 1 << 20) fail("buffer", s.bufferBytes, "not a power of two in 64 KiB..1 MiB");
  if (!pow2(s.maxPieceBytes) || s.maxPieceBytes < 4096 || s.maxPieceBytes > s.bufferBytes) fail("piece", s.maxPieceBytes, `not a power of two in 4 KiB..the buffer (${s.bufferBytes} B)`);
}

/**
 * Checks a job against the namespace it runs on, before anything is simulated: bs a multiple of the LBA
 * size, the region inside the capacity, and every count in range. Throws SimOptionError naming the option.
 */
export function checkJob(job: JobSpec, namespace: NamespaceGeometry): void {
  const fail = (option: string, value: unknown, why: string): never => {
    throw new SimOptionError(option, value, why, job.name);
  };
  const positive = (option: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 1) fail(option, value, "not a positive integer");
  };
  const { lbaBytes } = namespace;
  const capacityBytes = namespace.capacityBlocks * lbaBytes;
  if (!RW_MODES.includes(job.rw)) fail("rw", job.rw, `not one of ${RW_MODES.join(", ")}`);
  positive("bs", job.bs);
  if (job.bs % lbaBytes !== 0) fail("bs", job.bs, `not a multiple of the namespace's LBA size (${lbaBytes} B)`);
  if (job.bs / lbaBytes > 0xffffffff) fail("bs", job.bs, "more blocks than one command can carry (2^32 - 1)");
  positive("iodepth", job.iodepth);
  positive("numjobs", job.numjobs);
  if (!Number.isSafeInteger(job.offset) || job.offset < 0) fail("offset", job.offset, "not a non-negative integer");
  if (job.offset % lbaBytes !== 0) fail("offset", job.offset, `not a multiple of the namespace's LBA size (${lbaBytes} B)`);
  if (job.offset >= capacityBytes) fail("offset", job.offset, `at or past the namespace's capacity (${capacityBytes} B)`);
  const size = job.size ?? capacityBytes - job.offset;
  if (job.size !== null) {
    positive("size", job.size);
    if (job.offset + job.size > capacityBytes) fail("size", job.size, `offset ${job.offset} + size ${job.size} = ${job.offset + job.size} is past the namespace's capacity (${capacityBytes} B)`);
  }
  if (size < job.bs) fail("size", size, `smaller than bs (${job.bs})`);
  if (job.numberIos !== null) positive("number_ios", job.numberIos);
  if (job.runtimeNs !== null && !(job.runtimeNs > 0)) fail("runtime", job.runtimeNs, "not a positive time (ns)");
  if (!(job.rampTimeNs >= 0)) fail("ramp_time", job.rampTimeNs, "not a non-negative time (ns)");
  if (!(job.rwmixread >= 0 && job.rwmixread <= 100)) fail("rwmixread", job.rwmixread, "not a percentage 0..100");
  if (!Number.isSafeInteger(job.randseed) || job.randseed < 0) fail("randseed", job.randseed, "not a non-negative integer");
}

/** Emitted cores, once per process and parameter set (elaborating and emitting the core takes seconds). */
const emittedCores = new Map<string, VerilogCore>();

function emittedCore(params: NvmeHostCoreParams): VerilogCore {
  const key = JSON.stringify(params);
  let core = emittedCores.get(key);
  if (!core) {
    const module = nvmeHostCore(params);
    const { files } = emitDesign(module);
    core = { sources: emittedSources(files), top: module.name };
    emittedCores.set(key, core);
  }
  return core;
}

/** The namespace the user ports address: the one SSD's first, or the array's (array-core.ts). */
function namespaceOf(system: SystemSpec): NamespaceGeometry {
  if (system.array) {
    try {
      return arrayNamespace(system);
    } catch (error) {
      // --ssds makes sources "N x PRESET ...", a topology file's is its path.
      throw new SimOptionError(/^\d+ x /.test(system.array.source) ? "ssds" : "topology", system.array.source, (error as Error).message);
    }
  }
  const [firstNs] = resolveSsdOptions(system.ssd.options).namespaces;
  return { nsid: 1, lbaBytes: firstNs.lbaSize, capacityBlocks: firstNs.capacityBlocks };
}

/**
 * How the run reads the core's status: the bring-up report, the namespace it found and the doorbell
 * window, and its count of NVMe commands. The one place that knows the status port's layout: the
 * one-SSD core's here, the array core's (per SSD) in array-core.ts.
 */
export function runStatusFor(system: SystemSpec): RunStatusReader {
  if (system.array) return arrayRunStatus(system);
  return {
    bringup(full) {
      const report = readBringupReport(full);
      const [namespace] = readIoGeometry(full.sim).namespaces;
      return { report, namespace, doorbells: { bar0: report.pcie.bar0, bytes: report.pcie.bar0_bytes, dstrd: report.nvme.dstrd } };
    },
    nvmeCommands: (full) => full.sim.peek("status_io_pieces"),
  };
}

/** One direction's figures while they are collected, with each command's completion cycle for merging clones. */
class DirectionFigures {
  ioBytes = 0;
  totalIos = 0;
  readonly clatNs: number[] = [];
  readonly completedAt: number[] = [];

  add(bytes: number, latencyCycles: number, completeCycle: number): void {
    this.ioBytes += bytes;
    this.totalIos++;
    this.clatNs.push(latencyCycles * NS_PER_CYCLE);
    this.completedAt.push(completeCycle);
  }
}

type Phase = "idle" | "main" | "verify" | "done";

/** One clone of one job while it runs: its stream, its commands in flight, its clock and figures. */
class CloneRun {
  phase: Phase = "idle";
  inFlight = 0;
  startCycle = 0;
  /** Completions from here on count (start + ramp_time). */
  windowStart = 0;
  /** Issue stops here and later completions do not count (start + ramp_time + runtime); null without a runtime. */
  endCycle: number | null = null;
  endedByTime = false;
  lastMainCompletion = -1;
  mainReads = 0;
  mainWrites = 0;
  verifyStart = -1;
  lastVerifyCompletion = -1;
  verifyOffsets: number[] = [];
  verifyNext = 0;
  readonly read = new DirectionFigures();
  readonly write = new DirectionFigures();
  error = 0;
  errorCycle = Infinity;
  /** A command failed: as fio does on an I/O error, the clone issues nothing more (no verify phase either). */
  failed = false;

  constructor(
    readonly job: JobSpec,
    readonly jobIndex: number,
    readonly stream: JobStream,
  ) {}

  start(cycle: number): void {
    this.phase = "main";
    this.startCycle = cycle;
    this.windowStart = cycle + Math.round(this.job.rampTimeNs / NS_PER_CYCLE);
    this.endCycle = this.job.runtimeNs === null ? null : this.windowStart + Math.round(this.job.runtimeNs / NS_PER_CYCLE);
  }

  noteError(code: number, cycle: number): void {
    if (this.error === 0 || cycle < this.errorCycle) {
      this.error = code;
      this.errorCycle = cycle;
    }
  }

  /** Main phase: the window the figures cover, cycles. */
  mainWindowCycles(): number {
    const end = this.endedByTime && this.endCycle !== null ? this.endCycle : this.lastMainCompletion;
    return Math.max(0, end - this.windowStart);
  }

  verifyCycles(): number {
    return this.verifyStart < 0 || this.lastVerifyCompletion < 0 ? 0 : this.lastVerifyCompletion - this.verifyStart;
  }

  /** Fraction of this clone's work done at `cycle` (for the progress bar). */
  fraction(cycle: number): number {
    if (this.phase === "idle") return 0;
    if (this.phase === "done") return 1;
    const verifies = this.job.verify && readPercent(this.job) < 100;
    if (this.phase === "verify") return 0.5 + (0.5 * this.verifyNext) / Math.max(1, this.verifyOffsets.length);
    const parts: number[] = [];
    const s = this.stream;
    if (this.endCycle !== null) parts.push((cycle - this.startCycle) / Math.max(1, this.endCycle - this.startCycle));
    if (this.job.numberIos !== null) parts.push(s.issuedIos / this.job.numberIos);
    if (!s.timeBased) parts.push(s.issuedBytes / s.regionBytes);
    const main = Math.min(1, Math.max(0, ...parts));
    return verifies ? 0.5 * main : main;
  }
}

/**
 * Runs `jobs` on the full system `system` describes and measures them. Throws SimOptionError for a job or
 * system option the run cannot take (before anything is built) and SimBringupError when the controller
 * does not reach READY; problems found while the jobs run (errors, mismatches) are in the report.
 */
export async function runJobs(jobs: readonly JobSpec[], system: SystemSpec, options: RunJobsOptions = {}): Promise<SimRunReport> {
  if (jobs.length === 0) throw new SimOptionError("jobs", 0, "no job to run");
  const params = coreParamsFor(system, options.baseCoreParams);
  const namespace = namespaceOf(system);
  for (const job of jobs) checkJob(job, namespace);
  // The core before anything is built or written.
  const core = system.array ? arrayCoreFor(system, params) : emittedCore(params);
  const status = runStatusFor(system);

  const buildStart = performance.now();
  const counter = new TlpCounter();
  counter.enabled = false;
  const writer = system.trace !== undefined ? new TraceWriter(system.trace) : undefined;
  const trace: TraceSink = writer ? teeTrace(counter, writer) : counter;
  let full: FullSystem | undefined;
  try {
    full = await buildSystem({
      core,
      engine: system.engine,
      // Several SSDs behind the switch, or the one SSD on the root port.
      ...(system.array ? { topology: system.array.topology } : { ssd: system.ssd.options, faults: system.ssd.faults }),
      link: { generation: system.gen, lanes: system.lanes },
      trace,
      vcd: system.vcd,
      watch: [...STATUS_WATCH, ...USER_PORT_DRIVER_WATCH],
      // Only ports are read: Verilator may optimise the internals, unless a VCD wants them.
      visibility: system.vcd ? "all" : "ports",
    });
    const buildWallSeconds = (performance.now() - buildStart) / 1000;
    const bringupStart = performance.now();
    waitForOutcome(full, BRINGUP_MAX_CYCLES);
    const bringupCycles = full.cycle;
    const { report: bringup, namespace: found, doorbells } = status.bringup(full);
    const bringupWallSeconds = (performance.now() - bringupStart) / 1000;
    if (bringup.state !== "ready") throw new SimBringupError(bringup);
    if (found.lbaBytes !== namespace.lbaBytes || found.capacityBlocks !== namespace.capacityBlocks) {
      throw new Error(`the controller found namespace 1 as ${found.capacityBlocks} blocks of ${found.lbaBytes} B, the SSD model${system.array ? "s give" : " has"} ${namespace.capacityBlocks} of ${namespace.lbaBytes} B`);
    }
    counter.setDoorbells(doorbells.bar0, doorbells.bytes, doorbells.dstrd);
    const run = new JobsRun(full, jobs, namespace, params, options);
    const ioStart = performance.now();
    const startCycle = full.cycle;
    const startStats = { ...full.stats };
    const piecesBefore = status.nvmeCommands(full);
    counter.enabled = true;
    run.run();
    counter.enabled = false;
    const wallSeconds = (performance.now() - ioStart) / 1000;
    const cycles = full.cycle - startCycle;
    const nvmeCommands = (status.nvmeCommands(full) - piecesBefore) >>> 0;
    const driverReport = run.driver.report();
    const commands = driverReport.completed;
    return {
      jobs: run.results(),
      clones: run.cloneResults(),
      engine: full.engine,
      verifyErrors: run.verifyErrors,
      commandErrors: run.commandErrors,
      errors: [...run.errors, ...driverReport.errors].slice(0, 20),
      bringup,
      counters: {
        commands,
        nvmeCommands,
        doorbells: { sq: counter.sqDoorbells, cq: counter.cqDoorbells },
        doorbellsPerCommand: commands === 0 ? 0 : (counter.sqDoorbells + counter.cqDoorbells) / commands,
        doorbellsPerNvmeCommand: nvmeCommands === 0 ? 0 : (counter.sqDoorbells + counter.cqDoorbells) / nvmeCommands,
        tlps: counter.counts(),
        tlpBytes: { down: counter.bytesDown, up: counter.bytesUp },
        stalls: { ...driverReport.stalls, overlap: driverReport.hazardStallCycles },
      },
      sim: {
        cycles,
        wallSeconds,
        cyclesPerSecond: wallSeconds > 0 ? cycles / wallSeconds : 0,
        steppedCycles: full.stats.steppedCycles - startStats.steppedCycles,
        fastForwardedCycles: full.stats.fastForwardedCycles - startStats.fastForwardedCycles,
        bringupCycles,
        bringupWallSeconds,
        buildWallSeconds,
      },
    };
  } finally {
    full?.close();
    writer?.close();
  }
}

/** The jobs' run on a system that is READY: groups, clones, the driver and the figures. */
class JobsRun {
  readonly driver: UserPortDriver;
  readonly clones: CloneRun[][] = [];
  readonly errors: string[] = [];
  verifyErrors = 0;
  commandErrors = 0;
  /** Commands submitted and not completed: the clone that submitted each, and whether it is a verify read. */
  private readonly owners = new Map<CommandRecord, { clone: CloneRun; verify: boolean }>();
  private readonly lbaBytes: number;
  private nextPass = 1;
  private lastProgressCycle = 0;
  private readonly watchdogCycles: number;

  constructor(
    private readonly system: FullSystem,
    private readonly jobs: readonly JobSpec[],
    namespace: NamespaceGeometry,
    params: NvmeHostCoreParams,
    private readonly options: RunJobsOptions,
  ) {
    this.lbaBytes = namespace.lbaBytes;
    this.watchdogCycles = WATCHDOG_IO_TIMEOUTS * params.io.ioTimeoutCycles;
    this.driver = new UserPortDriver(system, {
      namespaces: [namespace],
      // The user side at full rate: the figures are the controller's, not a slow consumer's.
      writeGapProbability: 0,
      readReadyProbability: 1,
      completionReadyProbability: 1,
      skipIdle: true,
      stopOnError: false,
      onCompletion: (record) => this.completed(record),
    });
    const capacityBytes = namespace.capacityBlocks * namespace.lbaBytes;
    jobs.forEach((job, jobIndex) => {
      const clones: CloneRun[] = [];
      for (let clone = 0; clone < job.numjobs; clone++) clones.push(new CloneRun(job, jobIndex, new JobStream(job, capacityBytes, jobIndex, clone)));
      this.clones.push(clones);
    });
  }

  /** The stonewall groups: a job with stonewall starts a new one. */
  private groups(): CloneRun[][] {
    const groups: CloneRun[][] = [];
    this.jobs.forEach((job, i) => {
      if (i === 0 || job.stonewall) groups.push([]);
      groups[groups.length - 1].push(...this.clones[i]);
    });
    return groups;
  }

  run(): void {
    const groups = this.groups();
    let lastReport = performance.now();
    this.options.progress?.(0);
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g];
      this.options.onGroupStart?.(g, this.system);
      const now = this.system.cycle;
      this.lastProgressCycle = now;
      for (const clone of group) clone.start(now);
      // Fill the clones' queues in turn, so each starts with its share of the command port.
      const depth = Math.max(...group.map((c) => c.job.iodepth));
      for (let d = 0; d < depth; d++) for (const clone of group) if (clone.phase !== "done" && clone.inFlight < clone.job.iodepth) this.issue(clone, now, 1);
      for (const clone of group) if (clone.inFlight === 0) this.nextPhase(clone, now);
      let steps = 0;
      while (!this.driver.idle) {
        const limit = this.lastProgressCycle + this.watchdogCycles;
        if (this.system.cycle >= limit) {
          this.errors.push(`no command completed for ${this.watchdogCycles} cycles (at cycle ${this.system.cycle}): ${this.driver.backlog()}`);
          for (const clone of group) if (clone.phase !== "done") clone.noteError(UserErrorClass.TIMEOUT, this.system.cycle);
          this.options.progress?.(1);
          return;
        }
        this.driver.advance(limit);
        if ((++steps & 1023) === 0 && this.options.progress) {
          const wall = performance.now();
          if (wall - lastReport >= PROGRESS_INTERVAL_MS) {
            lastReport = wall;
            const inGroup = group.reduce((sum, c) => sum + c.fraction(this.system.cycle), 0) / group.length;
            this.options.progress((g + inGroup) / groups.length);
          }
        }
      }
      for (const clone of group) if (clone.phase !== "done") this.nextPhase(clone, this.system.cycle);
    }
    this.options.progress?.(1);
  }

  /** Submits up to `most` of the clone's next commands; the clone's phase decides which. */
  private issue(clone: CloneRun, now: number, most: number): number {
    let issued = 0;
    while (issued < most && !clone.failed) {
      let read: boolean;
      let offset: number;
      let bytes = clone.job.bs;
      const verify = clone.phase === "verify";
      if (clone.phase === "main") {
        if (clone.endCycle !== null && now >= clone.endCycle) {
          clone.endedByTime = true;
          break;
        }
        const next = clone.stream.next();
        if (!next) break;
        ({ read, offset, bytes } = next);
      } else if (verify) {
        if (clone.verifyNext >= clone.verifyOffsets.length) break;
        read = true;
        offset = clone.verifyOffsets[clone.verifyNext++];
      } else break;
      const lba = offset / this.lbaBytes;
      const blockCount = bytes / this.lbaBytes;
      const [record] = this.driver.submit([
        read ? { opcode: UserOpcode.READ, nsid: 1, lba, blockCount } : { opcode: UserOpcode.WRITE, nsid: 1, lba, blockCount, pass: this.nextPass++ },
      ]);
      this.owners.set(record, { clone, verify });
      clone.inFlight++;
      issued++;
    }
    return issued;
  }

  /** A clone with nothing in flight and nothing left to issue in its phase moves on: main -> verify (if it wrote, with verify) -> done. */
  private nextPhase(clone: CloneRun, now: number): void {
    while (clone.inFlight === 0 && clone.phase !== "done") {
      if (clone.phase === "main" && clone.job.verify && !clone.failed) {
        clone.verifyOffsets = clone.stream.verifyOffsets();
        if (clone.verifyOffsets.length > 0) {
          clone.phase = "verify";
          clone.verifyStart = now;
          this.issue(clone, now, clone.job.iodepth);
          continue;
        }
      }
      clone.phase = "done";
    }
  }

  private completed(record: CommandRecord): void {
    const { clone, verify } = this.owners.get(record)!;
    this.owners.delete(record);
    const now = record.completeCycle;
    this.lastProgressCycle = now;
    clone.inFlight--;
    const read = record.command.opcode === UserOpcode.READ;
    const bytes = record.command.blockCount * record.lbaBytes;
    const latency = record.completeCycle - record.acceptCycle;
    const failed = record.errorClass !== UserErrorClass.NONE;
    // fio accounts only commands that succeeded.
    let counted = !failed;
    if (verify) {
      if (counted) clone.read.add(bytes, latency, now);
      clone.lastVerifyCompletion = now;
    } else {
      clone.lastMainCompletion = now;
      counted &&= now >= clone.windowStart && (clone.endCycle === null || now <= clone.endCycle);
      if (counted) {
        if (read) {
          clone.read.add(bytes, latency, now);
          clone.mainReads++;
        } else {
          clone.write.add(bytes, latency, now);
          clone.mainWrites++;
        }
      }
    }
    if (failed) {
      this.commandErrors++;
      clone.noteError(record.errorClass, now);
      clone.failed = true;
    } else if (record.firstMismatch !== null) {
      this.verifyErrors++;
      clone.noteError(VERIFY_ERROR_CODE, now);
    }
    this.options.onCommand?.({
      job: clone.jobIndex,
      name: clone.job.name,
      clone: clone.stream.clone,
      phase: verify ? "verify" : "main",
      read,
      offset: (record.command.lba as number) * record.lbaBytes,
      bytes,
      acceptCycle: record.acceptCycle,
      completeCycle: now,
      errorClass: record.errorClass,
      counted,
    });
    // Refill to the clone's iodepth (the command can go out on this very cycle), or move on.
    if (clone.phase !== "done") {
      this.issue(clone, this.system.cycle, clone.job.iodepth - clone.inFlight);
      if (clone.inFlight === 0) this.nextPhase(clone, now);
    }
  }

  /** Per job, one result per clone (fio-report.ts reportEntries merges them as fio's group_reporting does). */
  cloneResults(): JobResult[][] {
    return this.clones.map((clones) => clones.map((clone) => merge([clone])));
  }

  results(): JobResult[] {
    const out: JobResult[] = [];
    for (const clones of this.clones) {
      if (clones[0].job.groupReporting && clones.length > 1) out.push(merge(clones));
      else for (const clone of clones) out.push(merge([clone]));
    }
    return out;
  }
}

/** Figures of one clone, or of clones reported as one (fio's group_reporting: bytes and I/Os summed, the longest runtime, every latency). */
function merge(clones: readonly CloneRun[]): JobResult {
  const direction = (pick: (c: CloneRun) => DirectionFigures, runtime: (c: CloneRun) => number): DirectionResult => {
    const all = clones.map(pick);
    const result: DirectionResult = { ioBytes: 0, totalIos: 0, runtimeNs: 0, clatNs: [] };
    for (const d of all) {
      result.ioBytes += d.ioBytes;
      result.totalIos += d.totalIos;
    }
    result.runtimeNs = Math.max(0, ...clones.map(runtime)) * NS_PER_CYCLE;
    if (all.length === 1) result.clatNs = [...all[0].clatNs];
    else {
      // Completion order across clones (the contract's order for clatNs).
      const entries: [number, number][] = [];
      for (const d of all) for (let i = 0; i < d.clatNs.length; i++) entries.push([d.completedAt[i], d.clatNs[i]]);
      entries.sort((a, b) => a[0] - b[0]);
      result.clatNs = entries.map((e) => e[1]);
    }
    return result;
  };
  let error = 0;
  let errorCycle = Infinity;
  for (const c of clones) {
    if (c.error !== 0 && c.errorCycle < errorCycle) {
      error = c.error;
      errorCycle = c.errorCycle;
    }
  }
  return {
    name: clones[0].job.name,
    error,
    // fio's read runtime: the main phase's when it read, plus the verify phase's.
    read: direction((c) => c.read, (c) => (c.mainReads > 0 ? c.mainWindowCycles() : 0) + c.verifyCycles()),
    write: direction((c) => c.write, (c) => (c.mainWrites > 0 ? c.mainWindowCycles() : 0)),
  };
}
