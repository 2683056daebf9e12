// The analytic throughput estimator (`nvme-host estimate`, issue 11): for a fio job on a system it
// predicts bandwidth, IOPS and mean completion latency per direction and names the constraint that
// binds, from the same models the simulation runs (the link model's wire and flow control, the SSD
// model's firmware, media and write cache, the controller's slots, buffers and pieces). Each
// constraint is a limit on user commands per second; the estimate is the smallest, except that a
// closed loop of commands (the queue depth, the controller's slots, its buffers) is also bounded by
// how many commands it holds and how long each takes.
//
// Equations (cycles of the 250 MHz user clock; X = user commands per cycle):
//  - a resource with capacity C per cycle that one command uses D of:  X <= C / D
//    (resource-limits.ts: the link's wires, bytes of TLPs with framing plus the Acks and UpdateFCs
//    the other direction's TLPs cause, SKP deducted; the AXI side's beats; flow-control credits over
//    their return loop; the SSD's firmware cores, media units and media bus; the controller's user
//    ports and engine). The DLLP count depends on the TLP rate, so X and it are iterated to a fixed point.
//  - a closed loop of N commands that take R each (loop-limits.ts: the job's queue depth, the
//    controller's slots, its read and write buffers):  X <= N / R, and where the link is the busiest
//    resource and the SSD's fetches wait behind data (its single upstream FIFO), the commands move
//    as a convoy:  X <= N / (N S + Z), S the busiest wire's time per command, Z the part of R the
//    link cannot overlap (see convoyGap).
//  - the estimate is the smallest limit. A resource "binds" when the estimate reaches BINDING_SHARE of
//    its limit; otherwise the tightest loop does.
//  - latency: the unloaded latency R (command-latency.ts, a sum of named stages) while nothing
//    saturates, N / X (Little's law) otherwise.
//  - a write cache: writes complete at the rate above until the cache is full, then at the media's
//    program rate; the job's length (size, number_ios, runtime, ramp_time) says how much of the
//    measured window is in each phase.
// The agreement with the models is measured in test/sim/estimate/estimator.test.ts and, as a wider
// table, by sim/bench/estimate-vs-model.ts.
import { readPercent, type JobSpec, type SystemSpec } from "../workload/job.ts";
import { HOST_PAGE_BYTES, SQE_BYTES, type TrafficParams } from "./command-traffic.ts";
import { pieceLatency, userCommandLatency, type PieceLatency } from "./command-latency.ts";
import { DLLP_BYTES, streamCeiling, tlpsPerDllp, tlpWireBytes, USER_CLOCK_HZ, type WireWait } from "./link-budget.ts";
import { loopLimits } from "./loop-limits.ts";
import { commandLoad, mediaProgramLimits, resourceLimits, type CommandLoad, type Limit } from "./resource-limits.ts";
import { COMPLETION_RUN, CONTROLLER_DOORBELL_CYCLES, piecesOf, resolve, type EstimateGeometry, type EstimateOptions, type HostKind, type Resolved } from "./system-view.ts";
import type { Generation } from "../pcie/link-params.ts";

export type { EstimateGeometry, EstimateOptions, HostKind } from "./system-view.ts";
export {
  CONTROLLER_COMPLETER_CYCLES,
  CONTROLLER_WRITE_LANDED_DEPTH,
  CONTROLLER_DOORBELL_CYCLES,
  CONTROLLER_ENGINE_CYCLES_PER_PIECE,
  CONTROLLER_FRONT_CYCLES,
  CONTROLLER_RETIRE_CYCLES,
  USER_PORT_BYTES_PER_CYCLE,
} from "./system-view.ts";
export { CONVOY_FETCH_LAG_COMMANDS, WRITE_FLOW_COMMANDS } from "./loop-limits.ts";

/** A resource runs at capacity ("binds") when the estimate reaches this share of its limit. */
export const BINDING_SHARE = 0.97;
/** Rounds of the fixed point between throughput and DLLP traffic (DLLPs depend on TLP rates). */
const FIXED_POINT_ROUNDS = 8;
const NS_PER_CYCLE = 1e9 / USER_CLOCK_HZ;

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

/**
 * Predict `job` on `system`. `geometry` overrides what the SSD spec says about the namespace's LBA
 * size and MDTS (e.g. what Identify found); `options.host` chooses the controller (default) or the
 * reference host.
 */
export function estimate(job: JobSpec, system: SystemSpec, geometry?: EstimateGeometry, options: EstimateOptions = {}): Estimate {
  // An array has its own estimate (array-estimate.ts; system-estimate.ts chooses): never one SSD's by mistake.
  if (system.array !== undefined) throw new RangeError(`estimate: system.array = ${system.array.source}: estimate an array with estimateSystem (sim/estimate/system-estimate.ts)`);
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
    // A direction's data moves at the slower of its wire and its AXI side: both are one FIFO in the convoy.
    const cyclesOf = (...keys: string[]) => Math.max(...keys.map((key) => 1 / limits.find((l) => l.key === key)!.x));
    const wire = { up: cyclesOf("link_up", "axi_rx"), down: cyclesOf("link_down", "axi_tx") };
    // The convoy idles the link only where the link is the busiest resource.
    const tightest = limits.reduce((a, b) => (b.x < a.x ? b : a));
    const linkBinds = ["link_up", "link_down", "axi_rx", "axi_tx"].includes(tightest.key);
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
  // Little's law over the commands the controller has accepted: its front takes the next command
  // only once every piece of the current one is placed, so it holds at most as many commands as its
  // slots and buffer rooms hold pieces, plus the one being cut. The others wait at the command port,
  // outside the completion latency (accepted -> completion).
  let accepted = userInFlight;
  if (controller) {
    const rings = (readShare > 0 ? 1 : 0) + (readShare < 1 ? 1 : 0);
    const held = Math.min(system.slots, rings * Math.floor(system.bufferBytes / pieces[0]));
    accepted = Math.min(userInFlight, Math.floor(held / pieces.length) + 1);
    // Held back by the write intake, write j is accepted when write j - 1 is placed and completes one
    // period after the write DEPTH before it: P + R after its acceptance (P = 1 / X, R its NVMe latency).
    if (binding.key === "write_intake") {
      const nvme = latency.write[latency.write.length - 1].total;
      accepted = Math.min(accepted, 1 + nvme * meanX * (1 - readShare));
    }
  }
  const queueing = Math.max(0, accepted / meanX - meanUnloaded);
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
  if (job.verify) notes.push("verify: the checks cost no I/O here; a write job's read-back phase is not estimated");
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

