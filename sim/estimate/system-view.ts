// The system as the estimator sees it: every SystemSpec and SSD option resolved (the link trains at
// what both ends support, MPS is what both ends and the root port agree on, pieces are cut at min(piece
// size, MDTS)), checked with errors that name the parameter, and the controller's own timing in cycles.
import { DEFAULT_LINK_PARAMS, GEN3_SKP_INTERVAL_SYMBOLS, type Generation, type LinkParams } from "../pcie/link-params.ts";
import { resolveSsdOptions, type SsdOptions } from "../nvme/options.ts";
import type { TimingParams } from "../nvme/timing.ts";
import { readPercent, type JobSpec, type SystemSpec } from "../workload/job.ts";
import { HOST_PAGE_BYTES, type CompletionSplit } from "./command-traffic.ts";
import { usableWireBytesPerCycle, type LinkBudgetParams } from "./link-budget.ts";

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
/**
 * Write verdicts (`write_landed`) the write buffer holds for the engine: its landed slice, an output
 * and a skid register (rtl-src/lib/field-slice.ts). The buffer takes no write data while the slice is
 * full, and the engine takes a verdict only when it retires the write, after its completion: so at
 * most this many writes have landed and wait for their completion while the next one's data waits.
 */
export const CONTROLLER_WRITE_LANDED_DEPTH = 2;
/** The user ports are 64-bit AXI4-Stream at the user clock: 8 bytes per cycle each way. */
export const USER_PORT_BYTES_PER_CYCLE = 8;
/** The reference host answers a memory read in the cycle after its last beat (sim/testbench/reference-io-run.ts). */
export const REFERENCE_TURNAROUND_CYCLES = 1;
/** CplDs the transmit arbiter sends in a row while a request (a doorbell) waits (tlp_tx `cr4`). */
export const COMPLETION_RUN = 4;
/** The root port supports MPS up to this (the link model's mpsSupported). */
export const ROOT_PORT_MPS = DEFAULT_LINK_PARAMS.mpsSupported;
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
  /**
   * One lane of an array behind a PCIe switch (array-estimate.ts): the SSD's own link is the switch's
   * downstream one (its credits and latency; `SystemSpec.gen`/`lanes` give the speed and width it trains
   * at), and every TLP also crosses the switch and the root link, stored and forwarded whole.
   */
  switchPath?: SwitchPath;
}

/** What a TLP crosses between the root port and an SSD behind a switch, besides the SSD's own link. */
export interface SwitchPath {
  /** The switch's downstream link to this SSD (resolved: credits, latency, Ack/UpdateFC timing). */
  downstreamLink: LinkParams;
  /** The switch's ingress-to-egress latency plus the root link's latency, cycles. */
  hopLatencyCycles: number;
  /** The root link's bytes per cycle after SKP (a TLP is stored whole before it moves on). */
  rootBytesPerCycle: number;
  /** Largest payload the switch's ports support (bounds the MPS of the path). */
  mpsSupported: number;
}

/** The system as the estimate sees it, every option resolved. */
export interface Resolved {
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
  /** Cycles a TLP of `wireBytes` spends between the root port and the SSD's own link (0 without a switch). */
  hopCycles: (wireBytes: number) => number;
}

/** Throw a RangeError naming the parameter and its value. */
export function fail(name: string, value: unknown, why: string): never {
  throw new RangeError(`estimate: ${name} = ${JSON.stringify(value)}: ${why}`);
}

export function resolve(job: JobSpec, system: SystemSpec, geometry: EstimateGeometry | undefined, options: EstimateOptions): Resolved {
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
  const path = options.switchPath;
  const linkBase = path ? path.downstreamLink : DEFAULT_LINK_PARAMS;
  const link: LinkBudgetParams = {
    latencyCycles: linkBase.latencyCycles,
    ackEveryTlps: linkBase.ackEveryTlps,
    ackMaxDelayCycles: linkBase.ackMaxDelayCycles,
    updateFcEveryTlps: linkBase.updateFcEveryTlps,
    updateFcMaxDelayCycles: linkBase.updateFcMaxDelayCycles,
    rootPortRxCredits: linkBase.rootPortRxCredits,
    endpointRxCredits: linkBase.endpointRxCredits,
    rcb: DEFAULT_LINK_PARAMS.rcb,
    generation,
    lanes,
    // resolveLinkParams picks Gen3's own SKP spacing when the link runs at Gen3.
    skpIntervalSymbols: generation === 3 ? GEN3_SKP_INTERVAL_SYMBOLS : DEFAULT_LINK_PARAMS.skpIntervalSymbols,
  };
  const mps = Math.min(system.mps, ssd.maxPayloadSupported, ROOT_PORT_MPS, path?.mpsSupported ?? Infinity);
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
    hopCycles: path ? (wireBytes) => path.hopLatencyCycles + wireBytes / path.rootBytesPerCycle : () => 0,
  };
}

/** The NVMe commands one user command becomes: full pieces and a remainder. */
export function piecesOf(bs: number, pieceBytes: number): number[] {
  const pieces: number[] = [];
  for (let left = bs; left > 0; left -= pieceBytes) pieces.push(Math.min(left, pieceBytes));
  return pieces;
}

/** Media operations of one command: the SSD model reads and programs in media pages (TimingModel.pages). */
export function mediaOps(bytes: number, pageBytes: number): number[] {
  const ops: number[] = [];
  for (let left = bytes; left > 0; left -= pageBytes) ops.push(Math.min(left, pageBytes));
  return ops;
}

export function busCycles(bytes: number, timing: TimingParams): number {
  return Number.isFinite(timing.mediaBytesPerCycle) ? Math.ceil(bytes / timing.mediaBytesPerCycle) : 0;
}

/** Cycles from the SSD having a command's pieces to the media being done with them (no queueing). */
export function mediaLatency(bytes: number, latency: number, timing: TimingParams): number {
  const ops = mediaOps(bytes, timing.mediaPageBytes);
  const rounds = Math.ceil(ops.length / timing.parallelUnits);
  return rounds * latency + ops.reduce((sum, op) => sum + busCycles(op, timing), 0);
}

