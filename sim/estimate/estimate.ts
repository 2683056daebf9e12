// The analytic throughput estimator (`nvme-host estimate`, issue 11): for a fio job on a system it
// predicts bandwidth, IOPS and mean completion latency per direction and names the constraint that
// binds, from the same models the simulation runs (the link model's wire and flow control, the SSD
// model's firmware, media and write cache, the controller's slots, buffers and pieces). Each
// constraint is a limit on user commands per second; the estimate is the smallest, except that a
// closed loop of commands (the queue depth, the controller's slots, its buffers) is also bounded by
// how many commands it holds and how long each takes.
//
// Equations (cycles of the 250 MHz user clock; X = user commands per cycle):
//  - a resource with capacity C per cycle that one command uses D of:      X <= C / D
//    (link wire bytes incl. framing, DLLPs and SKP; AXI beats; SSD firmware cores; media units and
//    bus; flow-control credits over their return loop; the controller's user ports and engine)
//  - a loop of N commands with latency R, of which S on the busiest wire:  X <= N / (N S + Z)
//    with Z = R - S when the SSD's fetches wait behind data (its single upstream FIFO: SQ entry and
//    PRP list reads queue behind read data, a write's PRP list CplD behind write data): the commands
//    then move as one convoy and the link idles for Z once per round. Reads of at most two pages
//    carry one command across the gap (Z = R - 2S). Writes without a PRP list keep the link busy
//    (X <= N / R). Measured against the models in test/sim/estimate/estimator.test.ts.
//  - latency: the unloaded latency R (a sum of named stages) while no resource is saturated,
//    N / X (Little's law) otherwise.
//  - a write cache: writes complete at cache speed until the cache is full, then at the media's
//    program rate; the job's length (size, number_ios, runtime, ramp_time) says how much of each.
import { DEFAULT_LINK_PARAMS, GEN3_SKP_INTERVAL_SYMBOLS, type CreditLimits, type Generation } from "../pcie/link-params.ts";
import { resolveSsdOptions, type SsdOptions } from "../nvme/options.ts";
import type { TimingParams } from "../nvme/timing.ts";
import { readPercent, type JobSpec, type SystemSpec } from "../workload/job.ts";
import {
  addTallies,
  commandTraffic,
  dataTraffic,
  emptyTally,
  fetchTraffic,
  HOST_PAGE_BYTES,
  prpListEntries,
  SQE_BYTES,
  CQE_BYTES,
  DOORBELL_PAYLOAD_BYTES,
  PRP_ENTRY_SIZE,
  type CommandTraffic,
  type CompletionSplit,
  type TlpTally,
  type TrafficParams,
} from "./command-traffic.ts";
import {
  AXI_BEAT_BYTES,
  DLLP_BYTES,
  FC_DATA_CREDIT_BYTES,
  streamCeiling,
  tlpBeats,
  tlpsPerDllp,
  tlpWireBytes,
  usableWireBytesPerCycle,
  USER_CLOCK_HZ,
  type LinkBudgetParams,
  type WireWait,
} from "./link-budget.ts";

// ---- the controller's own timing (rtl-src/), cycles; the reference host's where it differs ----

/** io_engine's front: a user command is checked and cut in about 15 cycles (io-engine.ts "Speed"). */
export const CONTROLLER_FRONT_CYCLES = 15;
/** io_engine sustains a piece about every 16 cycles with an instant SSD (io-engine.ts "Speed"). */
export const CONTROLLER_ENGINE_CYCLES_PER_PIECE = 16;
/**
 * A doorbell from the engine's decision to its beats on s_axis_tx: access-port arbiter, pcie_requester,
 * transmit arbiter and packer, each registered (a few cycles each). Not measured yet.
 */
export const CONTROLLER_DOORBELL_CYCLES = 8;
/**
 * The completer's turnaround from an MRd's last beat on m_axis_rx to its first CplD beat on s_axis_tx:
 * receive parser, read queue, splitter, the data source's 4-cycle first beat, transmit arbiter. Not measured yet.
 */
export const CONTROLLER_COMPLETER_CYCLES = 12;
/** From the CQ entry's last beat to the piece's retirement (io_completion_queue, S1, S2, retire). */
export const CONTROLLER_RETIRE_CYCLES = 6;
/** The user ports are 64-bit AXI4-Stream at the user clock: 8 bytes per cycle each way. */
export const USER_PORT_BYTES_PER_CYCLE = 8;
/** The reference host answers a memory read in the cycle after its last beat (sim/testbench/reference-io-run.ts). */
const REFERENCE_TURNAROUND_CYCLES = 1;
/** CplDs the transmit arbiter sends in a row while a request (a doorbell) waits (tlp_tx `cr4`). */
const COMPLETION_RUN = 4;
/** The root port supports MPS up to this (the link model's mpsSupported). */
const ROOT_PORT_MPS = DEFAULT_LINK_PARAMS.mpsSupported;
/** A resource runs at capacity ("binds") when the estimate reaches this share of its limit. */
export const BINDING_SHARE = 0.97;
/** Rounds of the fixed point between throughput and DLLP traffic (DLLPs depend on TLP rates). */
const FIXED_POINT_ROUNDS = 8;
const NS_PER_CYCLE = 1e9 / USER_CLOCK_HZ;

export type HostKind = "controller" | "reference";

export interface EstimateGeometry {
  /** The namespace's LBA size, bytes. */
  lbaBytes: number;
  /** The SSD's largest transfer (MDTS), bytes; Infinity when unlimited. */
  mdtsBytes: number;
}

export interface EstimateOptions {
  /**
   * `controller` (default): the emitted core (pieces, slots, buffers, user ports). `reference`: a host
   * that behaves as the controller on the wire but has no pieces, slots or buffers
   * (sim/testbench/reference-io-run.ts), for comparison with the models alone.
   */
  host?: HostKind;
  /** How the host cuts its CplDs (default: the controller's `largest`). */
  completionSplit?: CompletionSplit;
}

/** One limit the estimate considered, in the units the report prints. */
export interface Constraint {
  /** Short name for the report ("link down", "SSD media units", ...). */
  name: string;
  /** snake_case key for JSON. */
  key: string;
  /** User commands per second this constraint allows (both directions together). */
  commandsPerSecond: number;
  /** The same in payload bytes per second (both directions together). */
  bytesPerSecond: number;
  /** How the limit follows from the models, in words and numbers. */
  detail: string;
  /** The constraint the estimate runs into. */
  binds: boolean;
}

export interface LatencyStage {
  name: string;
  ns: number;
}

export interface DirectionEstimate {
  bytesPerSecond: number;
  iops: number;
  /** Mean completion latency (submission accepted -> completion), ns. */
  meanLatencyNs: number;
  /** The unloaded (QD1) latency of one command and its stages. */
  unloadedLatencyNs: number;
  stages: LatencyStage[];
}

export interface WriteCacheEstimate {
  cacheBytes: number;
  /** Throughput while the cache takes the writes, and once it is full (both directions, bytes/s). */
  burstBytesPerSecond: number;
  sustainedBytesPerSecond: number;
  /** Seconds of the run until the cache is full (Infinity when it never fills). */
  fillSeconds: number;
  /** Share of the measured window after the cache filled (0..1). */
  sustainedShare: number;
}

export interface Estimate {
  job: { name: string; rw: JobSpec["rw"]; bs: number; iodepth: number; numjobs: number; readPercent: number };
  system: {
    host: HostKind;
    ssd: string;
    /** Speed and width both ends reach (the SSD's own limits included). */
    gen: Generation;
    lanes: number;
    mps: number;
    mrrs: number;
    lbaBytes: number;
    mdtsBytes: number;
    /** Largest NVMe command: min(maxPieceBytes, MDTS) on the controller, MDTS on the reference host. */
    pieceBytes: number;
    slots: number | null;
    bufferBytes: number | null;
  };
  read: DirectionEstimate;
  write: DirectionEstimate;
  total: { bytesPerSecond: number; iops: number };
  /** The binding constraint's name. */
  binding: string;
  constraints: Constraint[];
  /** Payload ceiling of the link alone for long transfers (linkCeiling), and the share of it reached. */
  linkCeiling: { read: number; write: number };
  linkShare: { read: number; write: number };
  writeCache: WriteCacheEstimate | null;
  notes: string[];
}

/** The system as the estimate sees it, every option resolved. */
interface Resolved {
  host: HostKind;
  link: LinkBudgetParams;
  mps: number;
  mrrs: number;
  lbaBytes: number;
  mdtsBytes: number;
  pieceBytes: number;
  ssd: SsdOptions & { timingParams: TimingParams };
  timing: TimingParams;
  split: CompletionSplit;
  /** Bytes per cycle of TLPs and DLLPs on the wire, SKP deducted. */
  wireRate: number;
  capacityBytes: number;
}

/** Throw a RangeError naming the parameter and its value. */
function fail(name: string, value: unknown, why: string): never {
  throw new RangeError(`estimate: ${name} = ${JSON.stringify(value)}: ${why}`);
}

function resolve(job: JobSpec, system: SystemSpec, geometry: EstimateGeometry | undefined, options: EstimateOptions): Resolved {
  const host = options.host ?? "controller";
  if (host !== "controller" && host !== "reference") fail("host", host, "must be controller or reference");
  const ssd = resolveSsdOptions(system.ssd.options);
  if (![1, 2, 3].includes(system.gen)) fail("gen", system.gen, "must be 1, 2 or 3");
  if (![1, 2, 4, 8].includes(system.lanes)) fail("lanes", system.lanes, "must be 1, 2, 4 or 8");
  if (![128, 256, 512].includes(system.mps)) fail("mps", system.mps, "must be 128, 256 or 512");
  if (![128, 256, 512, 1024, 2048, 4096].includes(system.mrrs)) fail("mrrs", system.mrrs, "must be 128..4096, a power of two");
  // The link trains at what both ends support (sim/system/full-system.ts passes the SSD's limits).
  const generation = Math.min(system.gen, ssd.linkSpeed) as Generation;
  const lanes = Math.min(system.lanes, ssd.linkWidth);
  const link: LinkBudgetParams = {
    ...DEFAULT_LINK_PARAMS,
    generation,
    lanes,
    // resolveLinkParams picks Gen3's own SKP spacing when the link runs at Gen3.
    skpIntervalSymbols: generation === 3 ? GEN3_SKP_INTERVAL_SYMBOLS : DEFAULT_LINK_PARAMS.skpIntervalSymbols,
  };
  const mps = Math.min(system.mps, ssd.maxPayloadSupported, ROOT_PORT_MPS);
  const namespace = ssd.namespaces[0];
  const lbaBytes = geometry?.lbaBytes ?? namespace.lbaSize;
  const mdtsBytes = geometry?.mdtsBytes ?? (ssd.mdts === 0 ? Infinity : 2 ** ssd.mdts * (HOST_PAGE_BYTES << ssd.mpsmin));
  if (!Number.isInteger(lbaBytes) || lbaBytes < 512) fail("geometry.lbaBytes", lbaBytes, "must be an integer of at least 512");
  if (!(mdtsBytes >= HOST_PAGE_BYTES)) fail("geometry.mdtsBytes", mdtsBytes, "must be at least one 4 KiB page (Infinity for no limit)");
  if (!Number.isInteger(job.bs) || job.bs <= 0 || job.bs % lbaBytes !== 0) fail("bs", job.bs, `must be a positive multiple of the ${lbaBytes}-byte LBA`);
  if (!Number.isInteger(job.iodepth) || job.iodepth < 1) fail("iodepth", job.iodepth, "must be a positive integer");
  if (!Number.isInteger(job.numjobs) || job.numjobs < 1) fail("numjobs", job.numjobs, "must be a positive integer");
  const percent = readPercent(job);
  if (!(percent >= 0 && percent <= 100)) fail("rwmixread", job.rwmixread, "must be 0..100");
  let pieceBytes = mdtsBytes;
  if (host === "controller") {
    if (!Number.isInteger(system.slots) || system.slots < 1) fail("slots", system.slots, "must be a positive integer");
    if (!Number.isInteger(system.bufferBytes) || system.bufferBytes < HOST_PAGE_BYTES) fail("bufferBytes", system.bufferBytes, "must be at least 4096");
    if (!Number.isInteger(system.maxPieceBytes) || system.maxPieceBytes < HOST_PAGE_BYTES) fail("maxPieceBytes", system.maxPieceBytes, "must be at least 4096");
    pieceBytes = Math.min(system.maxPieceBytes, mdtsBytes, system.bufferBytes);
  }
  // Pieces are cut at whole blocks.
  pieceBytes = Math.floor(Math.min(pieceBytes, Number.MAX_SAFE_INTEGER) / lbaBytes) * lbaBytes;
  return {
    host,
    link,
    mps,
    mrrs: system.mrrs,
    lbaBytes,
    mdtsBytes,
    pieceBytes,
    ssd,
    timing: ssd.timingParams,
    split: options.completionSplit ?? "largest",
    wireRate: usableWireBytesPerCycle(generation, lanes, link.skpIntervalSymbols),
    capacityBytes: namespace.capacityBlocks * namespace.lbaSize,
  };
}

/** The NVMe commands one user command becomes: full pieces and a remainder. */
function piecesOf(bs: number, pieceBytes: number): number[] {
  const pieces: number[] = [];
  for (let left = bs; left > 0; left -= pieceBytes) pieces.push(Math.min(left, pieceBytes));
  return pieces;
}

/** Media operations of one command: the SSD model reads and programs in media pages (TimingModel.pages). */
function mediaOps(bytes: number, pageBytes: number): number[] {
  const ops: number[] = [];
  for (let left = bytes; left > 0; left -= pageBytes) ops.push(Math.min(left, pageBytes));
  return ops;
}

function busCycles(bytes: number, timing: TimingParams): number {
  return Number.isFinite(timing.mediaBytesPerCycle) ? Math.ceil(bytes / timing.mediaBytesPerCycle) : 0;
}

/** Cycles from the SSD having a command's pieces to the media being done with them (no queueing). */
function mediaLatency(bytes: number, latency: number, timing: TimingParams): number {
  const ops = mediaOps(bytes, timing.mediaPageBytes);
  const rounds = Math.ceil(ops.length / timing.parallelUnits);
  return rounds * latency + ops.reduce((sum, op) => sum + busCycles(op, timing), 0);
}

/** Stages of one NVMe command's unloaded latency, in cycles, and the part of it the data spends on the busy wire. */
interface PieceLatency {
  stages: { name: string; cycles: number }[];
  total: number;
  /** Cycles the command's data occupies its wire (the part of the latency another command cannot overlap in a convoy). */
  transfer: number;
}

function pieceLatency(isRead: boolean, bytes: number, r: Resolved, p: TrafficParams): PieceLatency {
  const L = r.link.latencyCycles;
  const rate = r.wireRate;
  const controller = r.host === "controller";
  const turnaround = controller ? CONTROLLER_COMPLETER_CYCLES : REFERENCE_TURNAROUND_CYCLES;
  // A TLP handed to an idle wire arrives after its bytes and the link's latency; the receiver then takes its beats.
  const oneWay = (wireBytes: number) => wireBytes / rate + L;
  const stages: { name: string; cycles: number }[] = [];
  const stage = (name: string, cycles: number) => stages.push({ name, cycles });
  const doorbellBeats = tlpBeats(DOORBELL_PAYLOAD_BYTES);
  stage("SQ doorbell", (controller ? CONTROLLER_DOORBELL_CYCLES : 1) + doorbellBeats + oneWay(tlpWireBytes(DOORBELL_PAYLOAD_BYTES)));
  const fetch = (bytesRead: number) => {
    const t = fetchTraffic(bytesRead, p);
    return oneWay(t.up.wireBytes) + t.up.beats + turnaround + t.down.beats + t.down.wireBytes / rate + L;
  };
  stage("SQ entry fetch", fetch(SQE_BYTES));
  stage("SSD firmware", r.timing.commandOverheadCycles);
  const entries = prpListEntries(bytes);
  if (entries > 0) stage("PRP list fetch", fetch(entries * PRP_ENTRY_SIZE));
  const data = dataTraffic(isRead, bytes, p);
  const cqe = tlpWireBytes(CQE_BYTES);
  let transfer: number;
  if (isRead) {
    stage("media read", mediaLatency(bytes, r.timing.readLatencyCycles, r.timing));
    // TLPs reach m_axis_rx whole: the CQ entry waits for the last data TLP's beats to be taken.
    transfer = (data.up.wireBytes + cqe) / rate;
    const lastBeats = tlpBeats(Math.min(r.mps, bytes));
    stage("data + CQ entry up", data.up.wireBytes / rate + L + Math.max(cqe / rate, lastBeats) + tlpBeats(CQE_BYTES));
  } else {
    // The MRds go up together; CplDs stream back at the slower of wire and AXI, the first one only
    // once all its beats are in (the link model deframes before it transmits), interleaved with the
    // Acks and UpdateFCs the MRds make the root port send.
    const requests = data.up.nonPosted;
    const cplCycles = data.down.wireBytes / data.down.tlps / rate;
    const period = (data.down.wireBytes / rate) / requests;
    const wait: WireWait = { busy: 1, tlpCycles: cplCycles };
    const dllps =
      requests / tlpsPerDllp(period, r.link.ackEveryTlps, r.link.ackMaxDelayCycles, wait) +
      requests / tlpsPerDllp(period, r.link.updateFcEveryTlps, r.link.updateFcMaxDelayCycles, wait);
    transfer = Math.max((data.down.wireBytes + dllps * DLLP_BYTES) / rate, data.down.beats);
    const firstRequest = oneWay(tlpWireBytes(0)) + tlpBeats(0) + turnaround;
    stage("data down", firstRequest + tlpBeats(data.down.payloadBytes / data.down.tlps) + transfer + L);
    const cached = r.timing.writeCacheBytes > 0;
    stage(cached ? "write cache insert" : "media program", cached ? r.timing.cacheInsertCycles : mediaLatency(bytes, r.timing.programLatencyCycles, r.timing));
    stage("CQ entry up", oneWay(cqe) + tlpBeats(CQE_BYTES));
  }
  if (controller) stage("completion parse and retire", CONTROLLER_RETIRE_CYCLES);
  return { stages, total: stages.reduce((sum, s) => sum + s.cycles, 0), transfer };
}

/** Per user command, averaged over the read/write mix. */
interface CommandLoad {
  traffic: CommandTraffic;
  pieces: number;
  /** Media unit-cycles and bus cycles (reads; writes' programs separately: a write cache defers them). */
  readUnitCycles: number;
  readBusCycles: number;
  programUnitCycles: number;
  programBusCycles: number;
}

function commandLoad(job: JobSpec, r: Resolved, p: TrafficParams, readShare: number): CommandLoad {
  const pieces = piecesOf(job.bs, r.pieceBytes);
  let traffic: CommandTraffic = { down: emptyTally(), up: emptyTally() };
  const load = { readUnitCycles: 0, readBusCycles: 0, programUnitCycles: 0, programBusCycles: 0 };
  for (const bytes of pieces) {
    const ops = mediaOps(bytes, r.timing.mediaPageBytes);
    const bus = ops.reduce((sum, op) => sum + busCycles(op, r.timing), 0);
    if (readShare > 0) {
      const t = commandTraffic(true, bytes, p);
      traffic = { down: addTallies(traffic.down, t.down, readShare), up: addTallies(traffic.up, t.up, readShare) };
      load.readUnitCycles += readShare * ops.length * r.timing.readLatencyCycles;
      load.readBusCycles += readShare * bus;
    }
    if (readShare < 1) {
      const t = commandTraffic(false, bytes, p);
      traffic = { down: addTallies(traffic.down, t.down, 1 - readShare), up: addTallies(traffic.up, t.up, 1 - readShare) };
      load.programUnitCycles += (1 - readShare) * ops.length * r.timing.programLatencyCycles;
      load.programBusCycles += (1 - readShare) * bus;
    }
  }
  return { traffic, pieces: pieces.length, ...load };
}

/** DLLPs one user command makes the far receivers send on a wire, given the TLP rates (commands per cycle X). */
function dllpBytes(
  received: TlpTally,
  credits: CreditLimits,
  x: number,
  wait: WireWait,
  link: LinkBudgetParams,
): number {
  if (x <= 0 || received.tlps === 0) return 0;
  const cyclesPerCommand = 1 / x;
  const per = (count: number, every: number, delay: number) => (count > 0 ? count / tlpsPerDllp(cyclesPerCommand / count, every, delay, wait) : 0);
  let dllps = per(received.tlps, link.ackEveryTlps, link.ackMaxDelayCycles);
  // Receivers with infinite credits of a class never send its UpdateFC (LinkDirection.returnCredits).
  const finite = (h: number, d: number) => Number.isFinite(h) || Number.isFinite(d);
  if (finite(credits.postedHeader, credits.postedData)) dllps += per(received.posted, link.updateFcEveryTlps, link.updateFcMaxDelayCycles);
  if (finite(credits.nonPostedHeader, credits.nonPostedData)) dllps += per(received.nonPosted, link.updateFcEveryTlps, link.updateFcMaxDelayCycles);
  if (finite(credits.completionHeader, credits.completionData)) dllps += per(received.completions, link.updateFcEveryTlps, link.updateFcMaxDelayCycles);
  return dllps * DLLP_BYTES;
}

/** Posted and non-posted TLPs of a direction and their data credits (completions: the only infinite class here). */
function creditLimit(label: string, key: string, sent: TlpTally, postedDataCredits: number, credits: CreditLimits, r: Resolved, reverseWait: WireWait): Limit[] {
  const out: Limit[] = [];
  // During I/O every non-posted TLP is a data-less MRd; the posted ones are the rest but completions.
  const requests = sent.nonPosted;
  const postedWire = sent.wireBytes - requests * tlpWireBytes(0);
  const postedBeats = sent.beats - requests * tlpBeats(0);
  if (sent.posted > 0 && Number.isFinite(credits.postedHeader) && sent.completions === 0) {
    const loop = creditLoopCycles(postedWire / sent.posted, postedBeats / sent.posted, r, reverseWait);
    const byHeader = credits.postedHeader / sent.posted;
    const byData = Number.isFinite(credits.postedData) && postedDataCredits > 0 ? credits.postedData / postedDataCredits : Infinity;
    out.push({
      name: `flow control ${label} posted`,
      key: `flow_control_${key}_posted`,
      x: Math.min(byHeader, byData) / loop,
      detail: `${credits.postedHeader} header / ${credits.postedData} data credits, back every ${loop.toFixed(0)} cycles`,
    });
  }
  if (requests > 0 && Number.isFinite(credits.nonPostedHeader)) {
    const loop = creditLoopCycles(tlpWireBytes(0), tlpBeats(0), r, reverseWait);
    out.push({
      name: `flow control ${label} non-posted`,
      key: `flow_control_${key}_non_posted`,
      x: credits.nonPostedHeader / requests / loop,
      detail: `${credits.nonPostedHeader} header credits, back every ${loop.toFixed(0)} cycles`,
    });
  }
  return out;
}

function postedDataCredits(job: JobSpec, r: Resolved, readShare: number): number {
  // Only the upstream posted TLPs (read data MWrs, CQ entries) carry data the root port's credits count.
  let credits = 0;
  for (const bytes of piecesOf(job.bs, r.pieceBytes)) {
    if (readShare > 0) {
      for (let page = 0; page * HOST_PAGE_BYTES < bytes; page++) {
        const length = Math.min(HOST_PAGE_BYTES, bytes - page * HOST_PAGE_BYTES);
        const full = Math.floor(length / r.mps);
        const rest = length - full * r.mps;
        credits += readShare * (full * Math.ceil(r.mps / FC_DATA_CREDIT_BYTES) + (rest > 0 ? Math.ceil(rest / FC_DATA_CREDIT_BYTES) : 0));
      }
    }
    credits += Math.ceil(CQE_BYTES / FC_DATA_CREDIT_BYTES);
  }
  return credits;
}

/**
 * Cycles a credit takes to come back while the credits are what holds the sender back: the sender
 * then sends a returned batch back to back, so the receiver's UpdateFC falls due after `every` TLPs
 * a TLP's length apart (or its delay), waits for the busy reverse wire, and crosses the link.
 */
function creditLoopCycles(tlpWire: number, tlpBeatCount: number, r: Resolved, reverseWait: WireWait): number {
  const L = r.link.latencyCycles;
  const tlpCycles = tlpWire / r.wireRate;
  const due = Math.min(r.link.updateFcMaxDelayCycles, (r.link.updateFcEveryTlps - 1) * Math.max(tlpCycles, tlpBeatCount));
  return tlpCycles + L + tlpBeatCount + due + (reverseWait.busy * reverseWait.tlpCycles) / 2 + DLLP_BYTES / r.wireRate + L;
}

/**
 * The payload ceiling of the link alone for long transfers, bytes per second: reads as back-to-back
 * MPS-sized MWrs up, writes as MPS-sized CplDs down answering MRRS-sized MRds, with the Acks and
 * UpdateFCs those MRds make the root port send on the same wire. The sim report's "% of link reached".
 */
export function linkCeiling(system: SystemSpec): { read: number; write: number } {
  const job: JobSpec = {
    name: "ceiling", rw: "read", bs: HOST_PAGE_BYTES, iodepth: 1, size: null, offset: 0, numberIos: null, runtimeNs: null,
    rampTimeNs: 0, timeBased: false, rwmixread: 100, numjobs: 1, verify: false, randseed: 0, stonewall: false, groupReporting: false,
  };
  const r = resolve(job, system, { lbaBytes: 512, mdtsBytes: Infinity }, { host: "reference" });
  const read = streamCeiling(r.link, r.mps);
  // Per MRRS bytes of write data: one MRd up, answered by MRRS/MPS CplDs. The saturated down wire sends
  // the MRd's Ack and UpdateFC only between CplDs.
  const cplPerRequest = Math.max(1, r.mrrs / r.mps);
  const cplCycles = tlpWireBytes(r.mps) / r.wireRate;
  const period = cplPerRequest * cplCycles;
  const wait: WireWait = { busy: 1, tlpCycles: cplCycles };
  const perRequest =
    DLLP_BYTES / tlpsPerDllp(period, r.link.ackEveryTlps, r.link.ackMaxDelayCycles, wait) +
    DLLP_BYTES / tlpsPerDllp(period, r.link.updateFcEveryTlps, r.link.updateFcMaxDelayCycles, wait);
  const write = streamCeiling(r.link, r.mps, perRequest / cplPerRequest);
  return { read, write };
}

/** The job's length: user commands to run, the time limit and the ramp, cycles (for the write cache's phases). */
function jobHorizon(job: JobSpec, r: Resolved): { commands: number; cycles: number; rampCycles: number } {
  const cyclesPerNs = USER_CLOCK_HZ / 1e9;
  const cycles = job.runtimeNs === null ? Infinity : job.runtimeNs * cyclesPerNs;
  let commands = Infinity;
  if (job.numberIos !== null) commands = job.numberIos * job.numjobs;
  // fio's default region is the whole namespace from `offset`.
  else if (!job.timeBased) commands = Math.max(1, Math.floor((job.size ?? Math.max(0, r.capacityBytes - job.offset)) / job.bs)) * job.numjobs;
  return { commands, cycles, rampCycles: job.rampTimeNs * cyclesPerNs };
}

/**
 * Commands per cycle over the measured window (after the ramp, until the job ends) when the first
 * `fillCycles` run at `burstX` and the rest at `sustainedX`; and the share of the window past the fill.
 */
function cachePhases(h: { commands: number; cycles: number; rampCycles: number }, burstX: number, sustainedX: number, fillCycles: number): { meanX: number; sustainedShare: number } {
  const done = (t: number) => (t <= fillCycles ? burstX * t : burstX * fillCycles + sustainedX * (t - fillCycles));
  const burstCommands = burstX * fillCycles;
  const endByCommands = h.commands <= burstCommands ? h.commands / burstX : fillCycles + (h.commands - burstCommands) / sustainedX;
  const end = Math.min(h.cycles, endByCommands);
  const start = Math.min(h.rampCycles, end);
  if (end <= start) return end <= fillCycles ? { meanX: burstX, sustainedShare: 0 } : { meanX: sustainedX, sustainedShare: 1 };
  return { meanX: (done(end) - done(start)) / (end - start), sustainedShare: Math.max(0, end - Math.max(start, fillCycles)) / (end - start) };
}

interface Limit {
  name: string;
  key: string;
  /** User commands per cycle. */
  x: number;
  detail: string;
  /** A closed loop (its limit depends on queueing, not on a resource's capacity). */
  loop?: boolean;
}

/**
 * Predict `job` on `system`. `geometry` overrides what the SSD spec says about the namespace's LBA
 * size and MDTS (e.g. what Identify found); `options.host` chooses the controller (default) or the
 * reference host.
 */
export function estimate(job: JobSpec, system: SystemSpec, geometry?: EstimateGeometry, options: EstimateOptions = {}): Estimate {
  const r = resolve(job, system, geometry, options);
  const readShare = readPercent(job) / 100;
  const controller = r.host === "controller";
  const pieces = piecesOf(job.bs, r.pieceBytes);
  const userInFlight = job.iodepth * job.numjobs;
  const maxEntriesPerFetch = Math.max(1, Math.min(r.ssd.sqeFetchBurst, Math.floor(r.mrrs / SQE_BYTES)));
  const notes: string[] = [];

  // Pieces the SSD holds at most: the user's commands, the controller's slots, the SSD's own limit.
  const slotPieces = controller ? system.slots : Infinity;
  const ssdPieces = Math.min(userInFlight * pieces.length, slotPieces, r.ssd.maxOutstandingCommands);
  const entriesPerFetch = Math.min(maxEntriesPerFetch, Math.max(1, Math.ceil(ssdPieces / 4)));

  // With no write cache, writes complete only once programmed: the media's program work is a resource
  // like the others. With one, it is deferred until the cache is full (below).
  const cached = r.timing.writeCacheBytes > 0;
  let x = Infinity;
  let limits: Limit[] = [];
  let programLimits: Limit[] = [];
  let load!: CommandLoad;
  let latency!: { read: PieceLatency[]; write: PieceLatency[] };
  let doorbells = 2;
  for (let round = 0; round < FIXED_POINT_ROUNDS; round++) {
    const p: TrafficParams = { mps: r.mps, mrrs: r.mrrs, rcb: r.link.rcb, completionSplit: r.split, entriesPerFetch, doorbellsPerCommand: doorbells };
    load = commandLoad(job, r, p, readShare);
    // Unloaded: every fetch brings one entry and every command rings both doorbells.
    const unloaded: TrafficParams = { ...p, entriesPerFetch: 1, doorbellsPerCommand: 2 };
    latency = {
      read: pieces.map((bytes) => pieceLatency(true, bytes, r, unloaded)),
      write: pieces.map((bytes) => pieceLatency(false, bytes, r, unloaded)),
    };
    limits = resourceLimits(job, r, load, readShare, Number.isFinite(x) ? x : 0);
    programLimits = mediaProgramLimits(load, r);
    if (!cached) limits.push(...programLimits);
    const wireOf = (key: string) => 1 / limits.find((l) => l.key === key)!.x;
    const wire = { up: wireOf("link_up"), down: wireOf("link_down") };
    // The convoy idles the link only where the link is the busiest resource.
    const tightest = limits.reduce((a, b) => (b.x < a.x ? b : a));
    const linkBinds = tightest.key === "link_up" || tightest.key === "link_down";
    const mediaCycles = Math.max(load.readBusCycles, load.readUnitCycles / r.timing.parallelUnits);
    limits.push(...loopLimits(job, r, latency, readShare, userInFlight, pieces, wire, system, mediaCycles, linkBinds));
    const next = Math.min(...limits.map((l) => l.x));
    // Doorbells are coalesced once pieces come faster than the access port rings them (a doorbell
    // waits behind up to COMPLETION_RUN CplDs on a busy down wire).
    const down = load.traffic.down;
    const tlpCycles = down.tlps > 0 ? down.wireBytes / down.tlps / r.wireRate : 0;
    const busyDown = Math.min(1, (next * down.wireBytes) / r.wireRate);
    const accessCycles = (controller ? CONTROLLER_DOORBELL_CYCLES : 1) + busyDown * COMPLETION_RUN * tlpCycles;
    doorbells = Math.min(2, 1 / (next * pieces.length) / accessCycles);
    const settled = Math.abs(next - x) <= 1e-9 * next;
    x = next;
    if (settled) break;
  }

  // The write cache takes writes at the rate above until it is full; then the media's program rate
  // holds them. The job's length says how much of the measured window is in each phase.
  const burstX = x;
  const sustainedX = Math.min(burstX, ...programLimits.map((l) => l.x));
  let meanX = burstX;
  let writeCache: WriteCacheEstimate | null = null;
  if (cached && sustainedX < burstX) {
    const fillCycles = r.timing.writeCacheBytes / ((1 - readShare) * job.bs * (burstX - sustainedX));
    const phases = cachePhases(jobHorizon(job, r), burstX, sustainedX, fillCycles);
    meanX = phases.meanX;
    writeCache = {
      cacheBytes: r.timing.writeCacheBytes,
      burstBytesPerSecond: burstX * job.bs * USER_CLOCK_HZ,
      sustainedBytesPerSecond: sustainedX * job.bs * USER_CLOCK_HZ,
      fillSeconds: fillCycles / USER_CLOCK_HZ,
      sustainedShare: phases.sustainedShare,
    };
  }
  // The program work binds once the cache is full for most of the window.
  const programBinds = cached && writeCache !== null && writeCache.sustainedShare >= 0.5;
  const effective = programBinds ? [...limits, ...programLimits] : limits;
  const binding = pickBinding(effective, meanX);
  const deferred = cached ? programLimits.filter((l) => !effective.includes(l)).map((l) => ({ ...l, detail: `${l.detail}; the write cache defers it while it has room` })) : [];
  const considered = [...effective, ...deferred];

  const constraints: Constraint[] = considered.map((l) => ({
    name: l.name,
    key: l.key,
    commandsPerSecond: l.x * USER_CLOCK_HZ,
    bytesPerSecond: l.x * job.bs * USER_CLOCK_HZ,
    detail: l.detail,
    binds: l === binding,
  }));

  // Latency: unloaded while nothing saturates, Little's law otherwise.
  const userLatency = (isRead: boolean) => userCommandLatency(isRead, job, r, isRead ? latency.read : latency.write);
  const readLatency = userLatency(true);
  const writeLatency = userLatency(false);
  const meanUnloaded = readShare * readLatency.cycles + (1 - readShare) * writeLatency.cycles;
  const queueing = Math.max(0, userInFlight / meanX - meanUnloaded);
  const direction = (share: number, l: { cycles: number; stages: { name: string; cycles: number }[] }): DirectionEstimate => ({
    bytesPerSecond: share * meanX * job.bs * USER_CLOCK_HZ,
    iops: share * meanX * USER_CLOCK_HZ,
    meanLatencyNs: share > 0 ? (l.cycles + queueing) * NS_PER_CYCLE : 0,
    unloadedLatencyNs: l.cycles * NS_PER_CYCLE,
    stages: l.stages.map((s) => ({ name: s.name, ns: s.cycles * NS_PER_CYCLE })),
  });
  const read = direction(readShare, readLatency);
  const write = direction(1 - readShare, writeLatency);
  const ceiling = linkCeiling(system);
  if (r.link.generation < system.gen || r.link.lanes < system.lanes) {
    notes.push(`the SSD supports Gen${r.ssd.linkSpeed} x${r.ssd.linkWidth}: the link trains at Gen${r.link.generation} x${r.link.lanes}`);
  }
  if (r.mps < system.mps) notes.push(`MPS ${system.mps} requested, ${r.mps} agreed (the SSD supports ${r.ssd.maxPayloadSupported})`);
  notes.push("random and sequential offsets cost the same: the SSD model's media ignores the LBA");
  return {
    job: { name: job.name, rw: job.rw, bs: job.bs, iodepth: job.iodepth, numjobs: job.numjobs, readPercent: readShare * 100 },
    system: {
      host: r.host,
      ssd: system.ssd.source,
      gen: r.link.generation,
      lanes: r.link.lanes,
      mps: r.mps,
      mrrs: r.mrrs,
      lbaBytes: r.lbaBytes,
      mdtsBytes: r.mdtsBytes,
      pieceBytes: r.pieceBytes,
      slots: controller ? system.slots : null,
      bufferBytes: controller ? system.bufferBytes : null,
    },
    read,
    write,
    total: { bytesPerSecond: read.bytesPerSecond + write.bytesPerSecond, iops: read.iops + write.iops },
    binding: binding.name,
    constraints,
    linkCeiling: ceiling,
    linkShare: {
      read: ceiling.read > 0 ? read.bytesPerSecond / ceiling.read : 0,
      write: ceiling.write > 0 ? write.bytesPerSecond / ceiling.write : 0,
    },
    writeCache,
    notes,
  };
}

/** The binding constraint: the resource the estimate runs at (>= BINDING_SHARE of its limit), else the tightest loop. */
function pickBinding(limits: Limit[], x: number): Limit {
  const tightest = (list: Limit[]) => list.reduce((a, b) => (b.x < a.x ? b : a));
  const resources = limits.filter((l) => !l.loop);
  const resource = resources.length > 0 ? tightest(resources) : undefined;
  if (resource && x >= BINDING_SHARE * resource.x) return resource;
  return tightest(limits);
}

/** Limits of the resources one user command uses: wires, AXI, flow control, SSD firmware and media reads, controller ports and engine. */
function resourceLimits(job: JobSpec, r: Resolved, load: CommandLoad, readShare: number, x: number): Limit[] {
  const { down, up } = load.traffic;
  const limits: Limit[] = [];
  const waitOf = (t: TlpTally): WireWait => ({
    busy: x > 0 ? Math.min(1, (x * t.wireBytes) / r.wireRate) : 0,
    tlpCycles: t.tlps > 0 ? t.wireBytes / t.tlps / r.wireRate : 0,
  });
  const downWait = waitOf(down);
  const upWait = waitOf(up);
  // The root port's receiver answers upstream TLPs on the down wire, the SSD's answers downstream ones on the up wire.
  const dllpDown = dllpBytes(up, r.link.rootPortRxCredits, x, downWait, r.link);
  const dllpUp = dllpBytes(down, r.link.endpointRxCredits, x, upWait, r.link);
  const gbps = (bytesPerCycle: number) => ((bytesPerCycle * USER_CLOCK_HZ) / 1e9).toFixed(3);
  const wire = (dir: string, key: string, t: TlpTally, dllp: number) =>
    limits.push({
      name: `link ${dir}`,
      key: `link_${key}`,
      x: r.wireRate / (t.wireBytes + dllp),
      detail: `${gbps(r.wireRate)} GB/s of wire after SKP (Gen${r.link.generation} x${r.link.lanes}); per command ${t.tlps.toFixed(1)} TLPs, ${t.wireBytes.toFixed(0)} B with framing + ${dllp.toFixed(0)} B of DLLPs for ${t.payloadBytes.toFixed(0)} B of payload`,
    });
  wire("down", "down", down, dllpDown);
  wire("up", "up", up, dllpUp);
  limits.push({
    name: "AXI tx",
    key: "axi_tx",
    x: 1 / down.beats,
    detail: `64 bits x 250 MHz (${gbps(AXI_BEAT_BYTES)} GB/s); ${down.beats.toFixed(1)} beats per command, each TLP from a fresh beat`,
  });
  limits.push({
    name: "AXI rx",
    key: "axi_rx",
    x: 1 / up.beats,
    detail: `64 bits x 250 MHz (${gbps(AXI_BEAT_BYTES)} GB/s); ${up.beats.toFixed(1)} beats per command, each TLP from a fresh beat`,
  });
  // Flow control: the root port's receive credits bound what the SSD sends up; the SSD's bound the down side.
  const upCredits = postedDataCredits(job, r, readShare);
  limits.push(...creditLimit("up", "up", up, upCredits, r.link.rootPortRxCredits, r, downWait));
  // Down, the posted TLPs are doorbells; the completions (the SSD's credits for them are infinite) are left out.
  const doorbellsOnly: TlpTally = { ...emptyTally(), tlps: down.posted, posted: down.posted, wireBytes: down.posted * tlpWireBytes(DOORBELL_PAYLOAD_BYTES), beats: down.posted * tlpBeats(DOORBELL_PAYLOAD_BYTES) };
  const downDataCredits = down.posted * Math.ceil(DOORBELL_PAYLOAD_BYTES / FC_DATA_CREDIT_BYTES);
  limits.push(...creditLimit("down", "down", doorbellsOnly, downDataCredits, r.link.endpointRxCredits, r, upWait));
  const t = r.timing;
  limits.push({
    name: "SSD firmware",
    key: "ssd_firmware",
    x: t.controllerCores / (t.commandOverheadCycles * load.pieces),
    detail: `${t.controllerCores} cores x ${(t.commandOverheadCycles / 250).toFixed(2)} µs per NVMe command, ${load.pieces} per user command`,
  });
  if (load.readUnitCycles > 0) {
    limits.push({
      name: "SSD media read units",
      key: "ssd_media_read_units",
      x: t.parallelUnits / load.readUnitCycles,
      detail: `${t.parallelUnits} units, tR ${(t.readLatencyCycles / 250).toFixed(1)} µs per media operation of up to ${t.mediaPageBytes} B`,
    });
  }
  if (load.readBusCycles > 0) {
    limits.push({
      name: "SSD media bus (reads)",
      key: "ssd_media_bus_read",
      x: 1 / load.readBusCycles,
      detail: `${t.mediaBytesPerCycle} B per cycle between media and controller`,
    });
  }
  if (r.host === "controller") {
    const portReads = readShare * job.bs;
    const portWrites = (1 - readShare) * job.bs;
    if (portReads > 0) {
      limits.push({ name: "user read port", key: "user_read_port", x: USER_PORT_BYTES_PER_CYCLE / portReads, detail: "64-bit AXI4-Stream at 250 MHz" });
    }
    if (portWrites > 0) {
      limits.push({ name: "user write port", key: "user_write_port", x: USER_PORT_BYTES_PER_CYCLE / portWrites, detail: "64-bit AXI4-Stream at 250 MHz" });
    }
    limits.push({
      name: "controller command engine",
      key: "controller_engine",
      x: 1 / (CONTROLLER_ENGINE_CYCLES_PER_PIECE * load.pieces),
      detail: `about ${CONTROLLER_ENGINE_CYCLES_PER_PIECE} cycles per piece (io_engine)`,
    });
  }
  return limits;
}

/** The media's program work (writes), which a write cache defers while it has room. */
function mediaProgramLimits(load: CommandLoad, r: Resolved): Limit[] {
  const t = r.timing;
  const limits: Limit[] = [];
  const units = load.programUnitCycles + load.readUnitCycles;
  if (load.programUnitCycles > 0) {
    limits.push({
      name: "SSD media program units",
      key: "ssd_media_program_units",
      x: t.parallelUnits / units,
      detail: `${t.parallelUnits} units, tPROG ${(t.programLatencyCycles / 250).toFixed(0)} µs per media operation of up to ${t.mediaPageBytes} B (reads share them)`,
    });
  }
  if (load.programBusCycles > 0) {
    limits.push({
      name: "SSD media bus (programs)",
      key: "ssd_media_bus_program",
      x: 1 / (load.programBusCycles + load.readBusCycles),
      detail: `${t.mediaBytesPerCycle} B per cycle between media and controller (reads share it)`,
    });
  }
  return limits;
}

/**
 * One closed loop: `n` units (user commands or pieces) circulate; each takes `latency` cycles
 * unloaded plus `extra` outside the SSD (the controller's read-out or data-in and its front), and
 * `wire` cycles of the busiest wire. `gap` is the latency the link cannot overlap when the units move
 * as a convoy (null: they do not).
 */
interface Loop {
  n: number;
  latency: number;
  extra: number;
  wire: number;
  gap: number | null;
}

/**
 * The loop's limit in units per cycle. A convoy idles the link for `gap` once per round of n units,
 * and longer when the extra work of the unit that starts the next round outlasts the other n - 1
 * transfers; otherwise the loop is bounded by n / (latency + extra) and the wire.
 */
function loopRate(l: Loop): number {
  const plain = l.n / (l.latency + l.extra);
  if (l.gap === null || l.n <= 1) return plain;
  const gap = l.gap + Math.max(0, l.extra - (l.n - 1) * l.wire);
  return Math.min(plain, l.n / (l.n * l.wire + gap));
}

/**
 * Commands whose data the link sends, in a convoy round, before the round's last SQ entry fetch is
 * issued: the first completion comes back after one command, and the fetch it triggers waits behind
 * the data already queued (about six more at every queue depth and block size measured, see
 * sim/bench/estimate-vs-model.ts --grid). Media still producing the round's data after that point
 * queues behind the fetch and covers the gap.
 */
export const CONVOY_FETCH_LAG_COMMANDS = 7;

/**
 * Writes without a PRP list keep the link busy once the loop holds one latency's worth of transfers
 * and this many commands more (measured: 4 KiB writes convoy at QD4 and flow from QD8).
 */
export const WRITE_FLOW_COMMANDS = 2;

interface ConvoyUnit {
  isRead: boolean;
  bytes: number;
  n: number;
  latency: number;
  transfer: number;
  /** Busiest-wire cycles per unit. */
  wire: number;
  /** Cycles the SSD's media takes to produce one unit's read data (bus or units, whichever is slower). */
  media: number;
}

/**
 * Whether the units of a direction move as a convoy, and the link's idle time per round. Only where
 * the link is the busiest resource: reads always do, as the SSD queues its SQ entry (and PRP list)
 * fetches behind read data in one upstream FIFO and the next round starts only once the data ahead
 * has left; reads of at most two pages (no PRP list) carry one command across the gap, and media
 * still producing the round's data covers part of it. Writes do when a PRP list is fetched (its
 * CplD waits behind write data); without one only while the loop cannot cover one latency.
 */
function convoyGap(u: ConvoyUnit, linkBinds: boolean): number | null {
  if (!linkBinds) return null;
  const noList = prpListEntries(u.bytes) === 0;
  const gap = u.latency - u.transfer;
  if (u.isRead) {
    const carried = noList && u.n > 1 ? u.transfer : 0;
    const stillProducing = Math.max(0, u.n * u.media - CONVOY_FETCH_LAG_COMMANDS * u.wire);
    return Math.max(0, gap - carried - stillProducing);
  }
  if (!noList) return Math.max(0, gap);
  return u.n * u.wire <= u.latency + WRITE_FLOW_COMMANDS * u.wire ? Math.max(0, gap - (u.n > 1 ? u.transfer : 0)) : null;
}

/**
 * Closed loops: the job's queue depth (user commands), the controller's slots (pieces until their
 * completion is parsed) and its read and write buffers (pieces until read out or released).
 */
function loopLimits(
  job: JobSpec,
  r: Resolved,
  latency: { read: PieceLatency[]; write: PieceLatency[] },
  readShare: number,
  userInFlight: number,
  pieces: number[],
  wireByDirection: { up: number; down: number },
  system: SystemSpec,
  mediaCycles: number,
  linkBinds: boolean,
): Limit[] {
  const limits: Limit[] = [];
  const wireCycles = Math.max(wireByDirection.up, wireByDirection.down);
  const controller = r.host === "controller";
  const shares: [boolean, number][] = [
    [true, readShare],
    [false, 1 - readShare],
  ];
  const active = shares.filter(([, share]) => share > 0);
  const pieceCount = pieces.length;
  // Per direction, for one user command: NVMe latency (its pieces sharing the wire), data transfer, controller extras.
  const direction = (isRead: boolean) => {
    const list = isRead ? latency.read : latency.write;
    const user = userCommandLatency(isRead, job, r, list);
    const transfer = list.reduce((sum, l) => sum + l.transfer, 0);
    const nvme = list[0].total + list.slice(1).reduce((sum, l) => sum + l.transfer, 0);
    return { user: user.cycles, nvme, transfer, extra: user.cycles - nvme, piece: list[0] };
  };
  const mix = (f: (isRead: boolean) => number) => active.reduce((sum, [isRead, share]) => sum + share * f(isRead), 0);
  const gapMix = (n: number, perUnit: (isRead: boolean) => Omit<ConvoyUnit, "isRead" | "n">) => {
    let gap = 0;
    for (const [isRead, share] of active) {
      const g = convoyGap({ ...perUnit(isRead), isRead, n }, linkBinds);
      if (g === null) return null;
      gap += share * g;
    }
    return gap;
  };
  const describe = (what: string, l: Loop, unit: string) => {
    const convoy = l.gap !== null && l.n > 1;
    const base = `${what}: ${fmt(l.n)} ${unit} in flight, ${(l.latency / 250).toFixed(2)} µs each${l.extra > 0 ? ` + ${(l.extra / 250).toFixed(2)} µs in the controller` : ""}`;
    // A gap the media's own pace covers is no convoy worth naming.
    return convoy && (l.gap ?? 0) >= 1 ? `${base}; the SSD's fetches queue behind data, so they move as a convoy and the link idles ${((l.gap ?? 0) / 250).toFixed(2)} µs per round` : base;
  };

  // The user's loop: a command is resubmitted when its completion (after its read-out) comes back.
  const userN = Math.min(userInFlight, r.ssd.maxOutstandingCommands / pieceCount);
  const userLoop: Loop = {
    n: userN,
    latency: mix((d) => direction(d).nvme),
    extra: mix((d) => direction(d).extra),
    wire: wireCycles,
    gap: gapMix(userN, (d) => {
      const x = direction(d);
      return { latency: x.nvme, transfer: x.transfer, bytes: pieces.length === 1 ? pieces[0] : r.pieceBytes, wire: wireCycles, media: mediaCycles };
    }),
  };
  limits.push({ name: "queue depth x latency", key: "queue_depth_latency", x: loopRate(userLoop), detail: describe(`iodepth ${job.iodepth} x numjobs ${job.numjobs}`, userLoop, "commands"), loop: true });
  if (!controller) return limits;

  // Pieces: a slot frees when its completion is parsed, so its loop is the NVMe latency alone.
  const pieceWire = wireCycles / pieceCount;
  const pieceUnit = (isRead: boolean) => {
    const l = (isRead ? latency.read : latency.write)[0];
    return { latency: l.total, transfer: l.transfer, bytes: pieces[0], wire: pieceWire, media: mediaCycles / pieceCount };
  };
  const slotN = Math.min(system.slots, userInFlight * pieceCount, r.ssd.maxOutstandingCommands);
  const slotLoop: Loop = {
    n: slotN,
    latency: mix((d) => pieceUnit(d).latency),
    extra: 0,
    wire: pieceWire,
    gap: gapMix(slotN, pieceUnit),
  };
  limits.push({
    name: "controller slots x latency",
    key: "slots_latency",
    x: loopRate(slotLoop) / pieceCount,
    detail: describe(`${system.slots} slots`, slotLoop, "pieces"),
    loop: true,
  });
  // Buffers: a read piece holds its room until read out to the user, a write piece from its data
  // coming in until its completion. Each direction's ring holds bufferBytes / pieceBytes pieces.
  for (const [isRead, share] of active) {
    const bytes = pieces[0];
    // A read piece keeps its room after its slot is free (until read out): the ring, not the slots, counts.
    const n = Math.min(Math.floor(system.bufferBytes / bytes), userInFlight * pieceCount);
    const unit = pieceUnit(isRead);
    const held = bytes / USER_PORT_BYTES_PER_CYCLE + CONTROLLER_FRONT_CYCLES;
    const wire = (isRead ? wireByDirection.up : wireByDirection.down) / (pieceCount * share);
    const gap = convoyGap({ ...unit, isRead, n, wire, media: mediaCycles / (pieceCount * share) }, linkBinds);
    const loop: Loop = { n, latency: unit.latency, extra: held, wire, gap };
    const label = isRead ? "read" : "write";
    limits.push({
      name: `${label} buffer bandwidth-delay`,
      key: `${label}_buffer_bandwidth_delay`,
      x: loopRate(loop) / (pieceCount * share),
      detail: describe(`${system.bufferBytes / 1024} KiB ${label} buffer / ${bytes / 1024} KiB pieces`, loop, "pieces"),
      loop: true,
    });
  }
  return limits;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** A user command's latency from acceptance to completion: its pieces in parallel (sharing the wire), plus the controller's stages. */
function userCommandLatency(isRead: boolean, job: JobSpec, r: Resolved, list: PieceLatency[]): { cycles: number; stages: { name: string; cycles: number }[] } {
  const first = list[0];
  const stages = first.stages.map((s) => ({ ...s }));
  // Later pieces follow the first on the wire.
  const moreTransfer = list.slice(1).reduce((sum, l) => sum + l.transfer, 0);
  if (moreTransfer > 0) stages.push({ name: `${list.length - 1} more pieces on the wire`, cycles: moreTransfer });
  if (r.host === "controller") {
    const pieceBytes = Math.min(job.bs, r.pieceBytes);
    stages.unshift({ name: "check and cut", cycles: CONTROLLER_FRONT_CYCLES });
    if (isRead) stages.push({ name: "read-out to the user port", cycles: pieceBytes / USER_PORT_BYTES_PER_CYCLE });
    else stages.unshift({ name: "write data into the buffer", cycles: pieceBytes / USER_PORT_BYTES_PER_CYCLE });
  }
  return { cycles: stages.reduce((sum, s) => sum + s.cycles, 0), stages };
}
