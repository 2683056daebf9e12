// The analytic prediction for several SSDs behind a PCIe switch, striped into one device (issue 14,
// SystemSpec.array). Each SSD sits on a controller lane of its own (its own slots, buffers and piece
// size) behind its own downstream link; every lane's TLPs also cross the switch and the one root link.
//
// The model, in user commands per cycle X:
//  - the stripe pattern (rtl-src/user/user-port-striper.ts: stripe s = a / B on lane s mod N, cut at
//    stripe boundaries) says, for the job's offsets (bs-aligned, sequential or uniform), which
//    sub-commands of which size each command puts on each SSD;
//  - one SSD with q sub-commands of size s in flight sustains X_s(q) of them: the one-SSD estimate
//    (estimate.ts) of that SSD on its downstream link, with the switch's and the root link's latency
//    on every TLP (system-view.ts SwitchPath), at iodepth q;
//  - sequential jobs: the Q commands in flight are a window of consecutive commands; at each position
//    of the window, lane i holds q_i of its sub-commands and turns them over in q_i / X(q_i), so the
//    window moves at Q / max_i(q_i / X(q_i)) commands per cycle; the job runs at the harmonic mean of
//    that over the pattern's positions (time is spent where it is slow);
//  - random jobs whose commands each touch one SSD: the SSDs are the stations of a closed network of
//    Q commands, each visited with its share of the commands and serving at X(q) with q present
//    (load-dependent, product form): X = G(Q - 1) / G(Q) by the convolution algorithm. A QD1 job thus
//    gets one SSD's QD1 rate, and a deep queue gets N SSDs' rate less the imbalance of random placement;
//  - random jobs whose commands span SSDs: each SSD holds its mean share of the sub-commands;
//  - the shared parts bound the sum: the root link (both wires, its credits), the controller's one
//    TLP layer (AXI rx/tx) and its user ports: the one-SSD estimate's limits of those for the whole job
//    on the root link. Aggregate = min(shared limits, what the SSDs sustain); the binding constraint is
//    the shared limit when it is the lower, else the slowest SSD's own binding constraint.
//  - sequential reads over two or more SSDs: the read data leaves in command order, and each lane's
//    read buffer is its own, so a lane's data that has landed waits in its buffer while older data
//    comes from the other lanes, and the lane cannot send its SSD more reads meanwhile; and an SSD
//    model that builds a command's data TLPs all at once (transmitLookaheadTlps 0) fetches the next
//    commands only once its own data has gone up the link (a read request does not pass a posted
//    write), so it cannot overlap its media latency with its transfers. What that costs is found by a
//    small fluid model of the lanes (inOrderSequentialReads): each lane's buffer, its pieces, the
//    SSDs' transfers sharing the root link, the in-order drain at the user port; the SSD's latency is
//    the one that makes the model give one SSD's estimate on one lane. With that convoy, 128 KiB
//    stripes and 128 KiB lane buffers, the lanes end up transferring at the same time and waiting out
//    their latency at the same time (measured: 2 SSDs at 77 % of twice one); an SSD that sends its
//    fetches between its data TLPs (the default) keeps two lanes at the link (98.5 %).
// Not modelled: the striper's own budget of sub-commands in flight, its in-order completion for
// random and mixed jobs (a slow SSD holds back the completions behind it), and the switch's queue
// towards a slow downstream port.
import { resolveSsdOptions } from "../nvme/options.ts";
import { DEFAULT_LINK_PARAMS, type Generation } from "../pcie/link-params.ts";
import { resolveDownstreamLink, resolveSwitchParams, type SwitchParams } from "../pcie/switch-params.ts";
import { readPercent, type JobSpec, type SystemSpec } from "../workload/job.ts";
import { BINDING_SHARE, estimate, linkCeiling, type Constraint, type Estimate, type WriteCacheEstimate } from "./estimate.ts";
import { usableWireBytesPerCycle } from "./link-budget.ts";
import { ROOT_PORT_MPS, fail, type EstimateGeometry, type EstimateOptions, type SwitchPath } from "./system-view.ts";

const USER_CLOCK_HZ = 250e6;
const NS_PER_CYCLE = 1e9 / USER_CLOCK_HZ;
/** Start offsets of the stripe pattern examined at most (evenly spaced when the pattern is longer). */
const MAX_PATTERN_POSITIONS = 2048;
/** The limits of the resources every SSD's traffic shares (keys of the one-SSD estimate's constraints). */
const SHARED_KEYS = new Set(["link_up", "link_down", "axi_tx", "axi_rx", "flow_control_up_posted", "flow_control_up_non_posted", "user_read_port", "user_write_port"]);

/** One SSD of the array as the estimate sees it. */
export interface ArraySsdEstimate {
  /** Its downstream port on the switch, and the preset or file it came from. */
  port: number;
  ssd: string;
  /** What its downstream link trains at. */
  gen: Generation;
  lanes: number;
  /** Its share of the job's bytes (0..1), its mean sub-commands in flight, and what it moves (bytes/s). */
  share: number;
  queueDepth: number;
  bytesPerSecond: number;
  /** Its own binding constraint at that queue depth. */
  binding: string;
}

export interface ArrayEstimate {
  ssdCount: number;
  stripeBytes: number;
  switch: { vendorId: number; deviceId: number; latencyNs: number; upstream: { gen: Generation; lanes: number } };
  /** What the root link trains at. */
  rootLink: { gen: Generation; lanes: number };
  /** What the SSDs sustain together (before the shared limits), bytes/s. */
  ssdsBytesPerSecond: number;
  /** The tightest shared limit (root link, TLP layer, user ports), bytes/s. */
  sharedBytesPerSecond: number;
  /** Mean SSDs one command touches. */
  ssdsPerCommand: number;
  ssds: ArraySsdEstimate[];
}

/** An estimate of an array: the one-SSD layout, plus what the array adds. */
export type ArraySystemEstimate = Estimate & { array: ArrayEstimate };

/** A sub-command a user command puts on a lane. */
interface SubCommand {
  lane: number;
  bytes: number;
}

/** The SSDs present, in port order, with the switch's parameters and the root link's speed and width. */
interface ArrayView {
  switchParams: SwitchParams;
  members: { port: number; system: SystemSpec; path: SwitchPath; gen: Generation; lanes: number }[];
  rootGen: Generation;
  rootLanes: number;
  mps: number;
  stripeBytes: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Throughput of a closed network of `population` customers over stations visited with probabilities
 * `visits` (summing to 1), station i completing `rate(i, k)` per cycle with k present (load-dependent,
 * product form): G(population - 1) / G(population), G by the convolution algorithm (Buzen), with the
 * station factors f_i(k) = prod_{j <= k} visits_i / rate(i, j). Customers per cycle.
 */
export function closedNetworkThroughput(visits: readonly number[], rate: (station: number, present: number) => number, population: number): number {
  if (!Number.isInteger(population) || population < 1) throw new RangeError(`closedNetworkThroughput: population ${population} is not a positive integer`);
  // No station yet: only the empty network has a way to be.
  let g: number[] = Array.from({ length: population + 1 }, (_, k) => (k === 0 ? 1 : 0));
  visits.forEach((visit, station) => {
    const f = [1];
    for (let k = 1; k <= population; k++) f.push(visit === 0 ? 0 : f[k - 1] * (visit / rate(station, k)));
    const next: number[] = [];
    for (let total = 0; total <= population; total++) {
      let sum = 0;
      for (let k = 0; k <= total; k++) sum += f[k] * g[total - k];
      next.push(sum);
    }
    g = next;
  });
  return g[population - 1] / g[population];
}

/** What the fluid model of in-order striped reads takes (inOrderSequentialReads). */
export interface InOrderReadModel {
  /** SSDs (lanes), each with a read buffer of `bufferBytes`, reads cut into pieces of at most `pieceBytes`. */
  lanes: number;
  bufferBytes: number;
  pieceBytes: number;
  stripeBytes: number;
  /** The user's commands: their size and how many are in flight. */
  commandBytes: number;
  queueDepth: number;
  /** From an SSD's fetch of a read to its first data leaving the SSD. */
  latencyCycles: number;
  /** The shared root link (or receive path), and the user's read data port, in bytes per cycle. */
  linkBytesPerCycle: number;
  portBytesPerCycle: number;
  /** The bytes the job reads from offset 0 (start-up included, as a short job sees it). */
  totalBytes: number;
  /**
   * An SSD fetches the pieces sent to it only once none of its own data waits to go up (an SSD
   * model that builds a command's data TLPs all at once: transmitLookaheadTlps 0); else as soon as
   * they are sent.
   */
  fetchesWaitForData: boolean;
}

/** Time step of the fluid model in cycles: about 1/70 of a 32 KiB piece on a Gen2 x4 link. */
const FLUID_STEP_CYCLES = 64;
/** The bytes the fluid model runs at most (the mean settles well within). */
const FLUID_MAX_BYTES = 16 * 1024 * 1024;
/** Rounding the fluid's fractions of bytes may leave: far below a byte. */
const FLUID_SLACK_BYTES = 1e-6;
/** A bound on the model's run (the link moves far more than a byte in 64 cycles). */
const FLUID_MAX_CYCLES_PER_BYTE = 64;
/** The user's read data port: one 64-bit beat per cycle. */
const USER_PORT_BYTES_PER_CYCLE = 8;

/**
 * A sequential read through the striper as a fluid model, in bytes per cycle: the data cut into
 * pieces at commands, stripes and the piece size, each stripe on lane s mod N. A lane reserves room in
 * its read buffer for a piece before sending it (and only for the user's queue depth of commands);
 * its SSD fetches the pieces sent once none of its own data waits to go up, and has a piece's data
 * ready `latencyCycles` after the fetch; the SSDs with data ready share the link equally, each sending
 * its pieces in order; the user port takes the data in command order as it lands, freeing the room.
 */
export function inOrderSequentialReads(m: InOrderReadModel): number {
  for (const [name, value] of Object.entries(m)) {
    if (name === "fetchesWaitForData") continue;
    if (!(Number.isFinite(value) && value >= 0)) fail(`inOrderSequentialReads.${name}`, value, "must be a finite number >= 0");
  }
  const { lanes: n, bufferBytes, stripeBytes, commandBytes, queueDepth, latencyCycles, linkBytesPerCycle, portBytesPerCycle } = m;
  const pieceBytes = Math.min(m.pieceBytes, stripeBytes, commandBytes, bufferBytes);
  const totalBytes = Math.min(m.totalBytes, FLUID_MAX_BYTES);
  if (n < 1 || pieceBytes <= 0 || totalBytes <= 0 || linkBytesPerCycle <= 0 || portBytesPerCycle <= 0 || queueDepth < 1) return 0;
  interface Piece { lane: number; bytes: number; command: number; fetchedAt: number; moved: number; drained: number }
  const pieces: Piece[] = [];
  for (let at = 0; at < totalBytes; ) {
    const stripeEnd = (Math.floor(at / stripeBytes) + 1) * stripeBytes;
    const commandEnd = (Math.floor(at / commandBytes) + 1) * commandBytes;
    const bytes = Math.min(pieceBytes, stripeEnd - at, commandEnd - at, totalBytes - at);
    pieces.push({ lane: Math.floor(at / stripeBytes) % n, bytes, command: Math.floor(at / commandBytes), fetchedAt: -1, moved: 0, drained: 0 });
    at += bytes;
  }
  const byLane = Array.from({ length: n }, (_, lane) => pieces.filter((x) => x.lane === lane));
  const sent = new Array<number>(n).fill(0);
  const moving = new Array<number>(n).fill(0);
  const reserved = new Array<number>(n).fill(0);
  const ready = (x: Piece, t: number) => x.fetchedAt >= 0 && x.fetchedAt + latencyCycles <= t;
  let head = 0;
  let t = 0;
  while (head < pieces.length) {
    const window = pieces[head].command + queueDepth;
    const active: Piece[] = [];
    for (let lane = 0; lane < n; lane++) {
      const list = byLane[lane];
      while (sent[lane] < list.length && reserved[lane] + list[sent[lane]].bytes <= bufferBytes + FLUID_SLACK_BYTES && list[sent[lane]].command < window) {
        reserved[lane] += list[sent[lane]].bytes;
        sent[lane]++;
      }
      while (moving[lane] < list.length && list[moving[lane]].moved >= list[moving[lane]].bytes - FLUID_SLACK_BYTES) moving[lane]++;
      const next = list[moving[lane]];
      const backlog = m.fetchesWaitForData && next !== undefined && moving[lane] < sent[lane] && ready(next, t);
      if (!backlog) for (let k = moving[lane]; k < sent[lane]; k++) if (list[k].fetchedAt < 0) list[k].fetchedAt = t;
      if (next !== undefined && ready(next, t)) active.push(next);
    }
    for (const x of active) x.moved = Math.min(x.bytes, x.moved + (linkBytesPerCycle * FLUID_STEP_CYCLES) / active.length);
    for (let budget = portBytesPerCycle * FLUID_STEP_CYCLES; budget > 0 && head < pieces.length; ) {
      const x = pieces[head];
      const take = Math.min(budget, x.moved - x.drained);
      x.drained += take;
      reserved[x.lane] -= take;
      budget -= take;
      if (x.drained < x.bytes - FLUID_SLACK_BYTES) break;
      head++;
    }
    t += FLUID_STEP_CYCLES;
    // Every step moves data unless every lane waits for its latency: far more steps than that is a bug.
    if (t > FLUID_MAX_CYCLES_PER_BYTE * totalBytes + pieces.length * latencyCycles) throw new Error(`inOrderSequentialReads: no progress after ${t} cycles`);
  }
  return totalBytes / t;
}

/** The in-order constraint's name (and the binding's, when it binds). */
export const IN_ORDER_READS = "in-order read data over the lanes' own read buffers";

/** Bisection steps for the SSD latency that makes the fluid model give one SSD's estimate. */
const LATENCY_SEARCH_STEPS = 16;

/** The sub-commands of a command of `bytes` at byte `offset` of the array (the striper's walk). */
export function stripeWalk(offset: number, bytes: number, stripeBytes: number, ssds: number): SubCommand[] {
  const out: SubCommand[] = [];
  for (let at = offset, left = bytes; left > 0; ) {
    const stripe = Math.floor(at / stripeBytes);
    const piece = Math.min(left, (stripe + 1) * stripeBytes - at);
    out.push({ lane: stripe % ssds, bytes: piece });
    at += piece;
    left -= piece;
  }
  return out;
}

function arrayView(system: SystemSpec): ArrayView {
  const array = system.array;
  if (array === undefined) fail("array", array, "the system has no array");
  const { stripeBytes, topology } = array;
  if (!Number.isInteger(stripeBytes) || stripeBytes < 4096 || stripeBytes > 1 << 20 || (stripeBytes & (stripeBytes - 1)) !== 0) {
    fail("array.stripeBytes", stripeBytes, "must be a power of two from 4 KiB to 1 MiB");
  }
  let switchParams: SwitchParams;
  try {
    switchParams = resolveSwitchParams(topology.switch ?? {});
  } catch (error) {
    fail("array.topology.switch", topology.switch, (error as Error).message);
  }
  const present = topology.ssds.flatMap((entry, port) => (entry === null || entry === undefined ? [] : [{ port, entry }]));
  if (![1, 2, 4].includes(present.length)) fail("array.topology.ssds", `${present.length} SSDs present`, "the striper takes 1, 2 or 4");
  const rootGen = Math.min(system.gen, switchParams.upstreamSpeed) as Generation;
  const rootLanes = Math.min(system.lanes, switchParams.upstreamWidth);
  const resolved = present.map(({ port, entry }) => ({ port, entry, options: resolveSsdOptions(entry.ssd) }));
  // The enumeration sets one MPS on the whole path: the least of the root port's, the switch's and every SSD's.
  const mps = Math.min(system.mps, ROOT_PORT_MPS, switchParams.mpsSupported, ...resolved.map((m) => m.options.maxPayloadSupported));
  const rootRate = usableWireBytesPerCycle(rootGen, rootLanes, DEFAULT_LINK_PARAMS.skpIntervalSymbols);
  const members = resolved.map(({ port, entry, options }) => {
    const link = resolveDownstreamLink(switchParams.downstreamLinks[port], { linkSpeed: options.linkSpeed, linkWidth: options.linkWidth });
    const gen = Math.min(link.generation, link.endpointMaxSpeed) as Generation;
    const lanes = Math.min(link.lanes, link.endpointMaxWidth);
    const preset = typeof entry.ssd?.timing === "string" ? entry.ssd.timing : system.ssd.preset;
    const laneSystem: SystemSpec = {
      ...system,
      array: undefined,
      ssd: { source: typeof entry.ssd?.timing === "string" ? entry.ssd.timing : `ssds[${port}]`, preset, options: entry.ssd ?? {}, faults: [...(entry.faults ?? [])] },
      gen,
      lanes: lanes as SystemSpec["lanes"],
      mps: mps as SystemSpec["mps"],
    };
    const path: SwitchPath = {
      downstreamLink: link,
      hopLatencyCycles: switchParams.latencyCycles + DEFAULT_LINK_PARAMS.latencyCycles,
      rootBytesPerCycle: rootRate,
      mpsSupported: switchParams.mpsSupported,
    };
    return { port, system: laneSystem, path, gen, lanes };
  });
  return { switchParams, members, rootGen, rootLanes, mps, stripeBytes };
}

/** The payload ceiling of the root link (linkCeiling of estimate.ts, at what the root link trains at and the path's MPS). */
export function arrayLinkCeiling(system: SystemSpec): { read: number; write: number } {
  const view = arrayView(system);
  return linkCeiling(rootSystem(system, view));
}

/** The whole job on the root link, as if one SSD with the array's first SSD's timing were there: for the shared limits. */
function rootSystem(system: SystemSpec, view: ArrayView): SystemSpec {
  const first = view.members[0].system;
  return {
    ...system,
    array: undefined,
    gen: view.rootGen,
    lanes: view.rootLanes as SystemSpec["lanes"],
    mps: view.mps as SystemSpec["mps"],
    ssd: { ...first.ssd, options: { ...first.ssd.options, linkSpeed: view.switchParams.upstreamSpeed, linkWidth: view.switchParams.upstreamWidth, maxPayloadSupported: view.mps } },
  };
}

/** The job's user commands over its run (Infinity when only time ends it), as the estimate's horizon counts them. */
function jobCommands(job: JobSpec, capacityBytes: number): number {
  if (job.numberIos !== null) return job.numberIos * job.numjobs;
  if (job.timeBased) return Infinity;
  return Math.max(1, Math.floor((job.size ?? Math.max(0, capacityBytes - job.offset)) / job.bs)) * job.numjobs;
}

/** The array's capacity: N x the smallest SSD's first namespace, rounded down to whole rows of stripes. */
export function arrayCapacityBytes(system: SystemSpec): number {
  const view = arrayView(system);
  const smallest = Math.min(...view.members.map((m) => {
    const ns = resolveSsdOptions(m.system.ssd.options).namespaces[0];
    return ns.capacityBlocks * ns.lbaSize;
  }));
  const n = view.members.length;
  return Math.floor((smallest * n) / (n * view.stripeBytes)) * n * view.stripeBytes;
}

/**
 * Predict `job` on the array `system.array` describes. `geometry` as for estimate() (each SSD's LBA
 * size and MDTS); `options.host` must be the controller.
 */
export function estimateArray(job: JobSpec, system: SystemSpec, geometry?: EstimateGeometry, options: EstimateOptions = {}): ArraySystemEstimate {
  if ((options.host ?? "controller") !== "controller") fail("host", options.host, "an array is estimated for the controller only");
  const view = arrayView(system);
  const n = view.members.length;
  const B = view.stripeBytes;
  const Q = job.iodepth * job.numjobs;
  const readShare = readPercent(job) / 100;
  const capacityBytes = arrayCapacityBytes(system);
  const total = jobCommands(job, capacityBytes);

  // The stripe pattern: the command offsets modulo a row of stripes (n B) repeat every P commands.
  const row = n * B;
  const period = row / gcd(job.bs % row === 0 ? row : job.bs % row, row);
  const positions = Math.min(period, MAX_PATTERN_POSITIONS);
  /** The sub-commands of the job's command number `index` (offsets from `offset`, bs apart). */
  const walkOf = (index: number) => stripeWalk((job.offset + (index % period) * job.bs) % row, job.bs, B, n);
  const positionIndex = (k: number) => Math.floor((k * period) / positions);
  const walks = Array.from({ length: positions }, (_, k) => walkOf(positionIndex(k)));
  // Per lane and size: mean sub-commands per user command.
  const perLane: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  let touched = 0;
  for (const walk of walks) {
    touched += new Set(walk.map((s) => s.lane)).size;
    for (const s of walk) perLane[s.lane].set(s.bytes, (perLane[s.lane].get(s.bytes) ?? 0) + 1 / positions);
  }
  const ssdsPerCommand = touched / positions;
  const subPerCommand = perLane.map((m) => [...m.values()].reduce((a, b) => a + b, 0));

  // Lane i at q sub-commands of `bytes` in flight: sub-commands per cycle, and its estimate.
  const cache = new Map<string, Estimate>();
  const laneEstimate = (lane: number, bytes: number, q: number): Estimate => {
    const key = `${lane}:${bytes}:${q}`;
    let e = cache.get(key);
    if (!e) {
      const share = perLane[lane].get(bytes) ?? 0;
      const laneJob: JobSpec = { ...job, bs: bytes, iodepth: q, numjobs: 1, numberIos: Number.isFinite(total) ? Math.max(1, Math.ceil(total * share)) : null };
      e = estimate(laneJob, view.members[lane].system, geometry, { ...options, switchPath: view.members[lane].path });
      cache.set(key, e);
    }
    return e;
  };
  const subRate = (lane: number, bytes: number, q: number) => laneEstimate(lane, bytes, q).total.iops / USER_CLOCK_HZ;
  /** Lane i's sub-commands per cycle with q in flight, its sizes mixed as the pattern mixes them (time adds up). */
  const laneRate = (lane: number, q: number, mix: Map<number, number> = perLane[lane]): number => {
    if (q <= 0) return 0;
    const lo = Math.max(1, Math.floor(q));
    const at = (depth: number) => {
      const count = [...mix.values()].reduce((a, b) => a + b, 0);
      let cyclesPerSub = 0;
      for (const [bytes, c] of mix) cyclesPerSub += c / count / subRate(lane, bytes, depth);
      return 1 / cyclesPerSub;
    };
    // Below one in flight the lane is busy that share of the time; between depths, interpolate.
    if (q < 1) return q * at(1);
    if (q === lo) return at(lo);
    return at(lo) + (q - lo) * (at(lo + 1) - at(lo));
  };

  let ssdsX: number;
  const laneDepth: number[] = subPerCommand.map((c) => c * Q);
  const random = job.rw === "randread" || job.rw === "randwrite" || job.rw === "randrw";
  if (random && ssdsPerCommand === 1 && walks.every((w) => w.length === 1)) {
    ssdsX = closedNetworkThroughput(subPerCommand, laneRate, Q);
  } else if (!random) {
    // A window of Q consecutive commands; its sub-commands per lane at each position of the pattern.
    let cyclesPerCommand = 0;
    for (let k = 0; k < positions; k++) {
      const window: Map<number, number>[] = Array.from({ length: n }, () => new Map());
      const first = positionIndex(k);
      for (let j = 0; j < Q; j++) {
        const walk = positions === period ? walks[(k + j) % positions] : walkOf(first + j);
        for (const s of walk) window[s.lane].set(s.bytes, (window[s.lane].get(s.bytes) ?? 0) + 1);
      }
      let turnover = 0;
      for (let lane = 0; lane < n; lane++) {
        const q = [...window[lane].values()].reduce((a, b) => a + b, 0);
        if (q > 0) turnover = Math.max(turnover, q / laneRate(lane, q, window[lane]));
      }
      cyclesPerCommand += turnover / Q;
    }
    ssdsX = positions / cyclesPerCommand;
  } else {
    // Random commands spanning SSDs: each holds its mean share; the slowest sets the pace.
    ssdsX = Math.min(...laneDepth.map((q, lane) => (subPerCommand[lane] > 0 ? laneRate(lane, q) / subPerCommand[lane] : Infinity)));
  }

  // The shared limits: the whole job on the root link and the one TLP layer.
  const shared = estimate(job, rootSystem(system, view), geometry, options);
  const sharedConstraints = shared.constraints.filter((c) => SHARED_KEYS.has(c.key));
  const tightestShared = sharedConstraints.reduce<Constraint | undefined>((a, c) => (a === undefined || c.commandsPerSecond < a.commandsPerSecond ? c : a), undefined);
  const sharedX = tightestShared ? tightestShared.commandsPerSecond / USER_CLOCK_HZ : Infinity;

  // Sequential reads over several lanes: the in-order data and the lanes' own read buffers (see the header).
  let inOrderX = Infinity;
  if (!random && readShare === 1 && n > 1 && Number.isFinite(sharedX)) {
    const one = estimate(job, view.members[0].system, geometry, { ...options, switchPath: view.members[0].path });
    const oneBytesPerCycle = one.read.bytesPerSecond / USER_CLOCK_HZ;
    const model = (lanes: number, latencyCycles: number) =>
      inOrderSequentialReads({
        lanes, latencyCycles, bufferBytes: system.bufferBytes, pieceBytes: one.system.pieceBytes, stripeBytes: B, commandBytes: job.bs, queueDepth: Q,
        linkBytesPerCycle: sharedX * job.bs, portBytesPerCycle: USER_PORT_BYTES_PER_CYCLE, totalBytes: Number.isFinite(total) ? total * job.bs : FLUID_MAX_BYTES,
        fetchesWaitForData: resolveSsdOptions(view.members[0].system.ssd.options).transmitLookaheadTlps === 0,
      });
    // The latency that makes one lane move what one SSD's estimate says (none when the link binds one SSD).
    let lo = 0;
    let hi = (4 * system.bufferBytes) / oneBytesPerCycle;
    if (model(1, lo) > oneBytesPerCycle) {
      for (let step = 0; step < LATENCY_SEARCH_STEPS; step++) {
        const mid = (lo + hi) / 2;
        if (model(1, mid) > oneBytesPerCycle) lo = mid;
        else hi = mid;
      }
      inOrderX = model(n, lo) / job.bs;
    }
    // Within a few per cent of the other limits it is their start-up and rounding, not a limit of its own.
    if (inOrderX >= BINDING_SHARE * Math.min(ssdsX, sharedX)) inOrderX = Infinity;
  }
  const inOrderBinds = inOrderX < Math.min(ssdsX, sharedX);
  const x = Math.min(ssdsX, sharedX, inOrderX);

  // Each SSD at its mean depth: what it moves and what binds it.
  const typical = (lane: number) => {
    const depth = Math.max(1, Math.round(laneDepth[lane]));
    const sizes = [...perLane[lane].entries()].sort((a, b) => b[1] - a[1]);
    return sizes.length > 0 ? laneEstimate(lane, sizes[0][0], depth) : undefined;
  };
  const bytesPerCommand = job.bs;
  const ssds: ArraySsdEstimate[] = view.members.map((m, lane) => {
    const laneBytes = [...perLane[lane].entries()].reduce((sum, [bytes, c]) => sum + bytes * c, 0);
    const e = typical(lane);
    return {
      port: m.port,
      ssd: m.system.ssd.source,
      gen: m.gen,
      lanes: m.lanes,
      share: laneBytes / bytesPerCommand,
      queueDepth: laneDepth[lane],
      bytesPerSecond: x * laneBytes * USER_CLOCK_HZ,
      binding: e?.binding ?? "no commands",
    };
  });
  // The SSD that paces the others: the fewest user commands per cycle at its mean depth (RAID 0 gives each its share).
  const pace = (lane: number) => (subPerCommand[lane] > 0 ? laneRate(lane, Math.max(1, laneDepth[lane])) / subPerCommand[lane] : Infinity);
  const busiestLane = ssds.reduce((slowest, _, lane) => (pace(lane) < pace(slowest) ? lane : slowest), 0);
  const busiest = ssds[busiestLane];
  const sharedBinds = !inOrderBinds && tightestShared !== undefined && x >= BINDING_SHARE * sharedX && sharedX <= ssdsX;
  const ssdsConstraint: Constraint = {
    name: `SSDs (${n}, ${B / 1024} KiB stripes)`,
    key: "array_ssds",
    commandsPerSecond: ssdsX * USER_CLOCK_HZ,
    bytesPerSecond: ssdsX * job.bs * USER_CLOCK_HZ,
    detail: `what the ${n} SSDs sustain together, each on its own lane and downstream link with its share of the queue depth (${laneDepth.map((q) => q.toFixed(1)).join(" / ")} sub-commands) and of the stripe pattern (${ssdsPerCommand.toFixed(2)} SSDs per command); SSD on port ${busiest.port}: ${busiest.binding}`,
    binds: !sharedBinds && !inOrderBinds,
  };
  const inOrderConstraint: Constraint[] = Number.isFinite(inOrderX)
    ? [{
      name: IN_ORDER_READS,
      key: "array_in_order_reads",
      commandsPerSecond: inOrderX * USER_CLOCK_HZ,
      bytesPerSecond: inOrderX * job.bs * USER_CLOCK_HZ,
      detail: `read data in command order out of ${n} lanes' own ${system.bufferBytes / 1024} KiB read buffers: a lane's landed data waits for the older lanes' and holds its room, and each SSD fetches its next reads only after its data has gone up`,
      binds: inOrderBinds,
    }]
    : [];
  const constraints: Constraint[] = [
    ssdsConstraint,
    ...inOrderConstraint,
    ...sharedConstraints.map((c) => ({ ...c, name: `${c.name} (shared)`, binds: sharedBinds && c === tightestShared })),
  ];
  const binding = inOrderBinds ? IN_ORDER_READS : sharedBinds ? `${tightestShared!.name} (shared by the ${n} SSDs)` : `the SSDs: ${busiest.binding} (each SSD)`;

  // Latency: one command's unloaded latency on its SSD (through the switch); loaded, the busiest SSD's
  // mean at its depth, longer in proportion where a shared limit slows the SSDs down (Little's law).
  const unloaded = laneEstimate(busiestLane, [...perLane[busiestLane].entries()].sort((a, b) => b[1] - a[1])[0][0], 1);
  const loaded = typical(busiestLane) ?? unloaded;
  const slowdown = ssdsX / x;
  const direction = (share: number, d: Estimate["read"], l: Estimate["read"]) => ({
    bytesPerSecond: share * x * job.bs * USER_CLOCK_HZ,
    iops: share * x * USER_CLOCK_HZ,
    meanLatencyNs: share > 0 ? Math.max(d.unloadedLatencyNs, l.meanLatencyNs * slowdown) : 0,
    unloadedLatencyNs: d.unloadedLatencyNs,
    stages: d.stages,
  });
  const read = direction(readShare, unloaded.read, loaded.read);
  const write = direction(1 - readShare, unloaded.write, loaded.write);
  const ceiling = linkCeiling(rootSystem(system, view));
  const laneCaches = view.members.map((_, lane) => typical(lane)?.writeCache ?? null);
  let writeCache: WriteCacheEstimate | null = null;
  if (laneCaches.every((c) => c !== null)) {
    const caches = laneCaches as WriteCacheEstimate[];
    writeCache = {
      cacheBytes: caches.reduce((s, c) => s + c.cacheBytes, 0),
      burstBytesPerSecond: Math.min(sharedX * job.bs * USER_CLOCK_HZ, caches.reduce((s, c) => s + c.burstBytesPerSecond, 0)),
      sustainedBytesPerSecond: Math.min(sharedX * job.bs * USER_CLOCK_HZ, caches.reduce((s, c) => s + c.sustainedBytesPerSecond, 0)),
      fillSeconds: Math.max(...caches.map((c) => c.fillSeconds)),
      sustainedShare: Math.min(...caches.map((c) => c.sustainedShare)),
    };
  }
  const notes = [
    `${n} SSDs striped in ${B / 1024} KiB stripes behind the switch (${view.switchParams.latencyCycles * NS_PER_CYCLE} ns); root link Gen${view.rootGen} x${view.rootLanes}, MPS ${view.mps} on the whole path`,
    "each SSD on a controller lane of its own: slots, buffers and pieces are per lane",
    random && ssdsPerCommand === 1 ? "random placement: the SSDs as a closed network of the queue's commands (product form), so some SSDs sit idle while others queue" : "",
    Number.isFinite(inOrderX) ? `in-order read data over the lanes' own read buffers: ${(inOrderX * job.bs * USER_CLOCK_HZ / 1e9).toFixed(3)} GB/s (fluid model)` : "",
    "not modelled: the striper's budget of sub-commands in flight and its in-order completions (random and mixed jobs)",
    ...shared.notes.filter((note) => note.startsWith("random and sequential")),
  ].filter(Boolean);
  return {
    job: { name: job.name, rw: job.rw, bs: job.bs, iodepth: job.iodepth, numjobs: job.numjobs, readPercent: readShare * 100 },
    system: { ...unloaded.system, gen: view.rootGen, lanes: view.rootLanes, ssd: system.array!.source },
    read,
    write,
    total: { bytesPerSecond: read.bytesPerSecond + write.bytesPerSecond, iops: read.iops + write.iops },
    binding,
    constraints,
    linkCeiling: ceiling,
    linkShare: {
      read: ceiling.read > 0 ? read.bytesPerSecond / ceiling.read : 0,
      write: ceiling.write > 0 ? write.bytesPerSecond / ceiling.write : 0,
    },
    writeCache,
    notes,
    array: {
      ssdCount: n,
      stripeBytes: B,
      switch: {
        vendorId: view.switchParams.vendorId,
        deviceId: view.switchParams.deviceId,
        latencyNs: view.switchParams.latencyCycles * NS_PER_CYCLE,
        upstream: { gen: view.switchParams.upstreamSpeed, lanes: view.switchParams.upstreamWidth },
      },
      rootLink: { gen: view.rootGen, lanes: view.rootLanes },
      ssdsBytesPerSecond: ssdsX * job.bs * USER_CLOCK_HZ,
      sharedBytesPerSecond: sharedX * job.bs * USER_CLOCK_HZ,
      ssdsPerCommand,
      ssds,
    },
  };
}
