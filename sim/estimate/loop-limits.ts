// Closed loops of commands: the job's queue depth, the controller's slots and its read and write
// buffers. Each holds N commands that take a latency R; the loop allows N / R commands per cycle, or
// fewer when the commands move as a convoy behind the SSD's fetches (see convoyGap).
import type { JobSpec, SystemSpec } from "../workload/job.ts";
import { prpListEntries } from "./command-traffic.ts";
import { userCommandLatency, type PieceLatency } from "./command-latency.ts";
import type { Limit } from "./resource-limits.ts";
import { CONTROLLER_FRONT_CYCLES, CONTROLLER_WRITE_LANDED_DEPTH, USER_PORT_BYTES_PER_CYCLE, type Resolved } from "./system-view.ts";

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
  /**
   * Cycles per unit at each shared resource the units queue for in turn (the link, the user data
   * ports), part of latency + extra; absent: the units only wait for each other at the wire bound.
   */
  shared?: number[];
}

/**
 * The loop's limit in units per cycle. A convoy idles the link for `gap` once per round of n units,
 * and longer when the extra work of the unit that starts the next round outlasts the other n - 1
 * transfers; otherwise the loop is bounded by n / (latency + extra) and the wire.
 */
function loopRate(l: Loop): number {
  const plain = l.n / (l.latency + l.extra);
  if (l.gap === null && l.shared !== undefined && l.n > 1) {
    const think = l.latency + l.extra - l.shared.reduce((sum, s) => sum + s, 0);
    if (think >= 0) return Math.min(plain, queueingRate(l.n, l.shared, think));
  }
  if (l.gap === null || l.n <= 1) return plain;
  const gap = l.gap + Math.max(0, l.extra - (l.n - 1) * l.wire);
  return Math.min(plain, l.n / (l.n * l.wire + gap));
}

/**
 * Units per cycle of `n` units that circulate through `shared` resources in turn (fixed cycles per
 * unit at each, first come first served) and a delay `think` they do not queue for (media, firmware,
 * the controller's fixed stages): mean-value analysis, the recursion over 1..n units in which a unit
 * arriving at a resource waits for the units queued there. A fixed service time is less variable
 * than the analysis assumes, so a unit waits for half of the service under way, not all of it.
 * Linear between whole numbers of units. At one unit it is 1 / (think + shared): the unloaded
 * latency; with many it nears 1 / (the busiest resource's cycles), which the resource's own limit
 * states (the correction can overshoot it there; the estimate takes the least of the limits).
 * Measured on fastSsd, 4 KiB random reads at MPS 256 (sim / this): QD2 516.3 / 508.0 MB/s, QD4
 * 932.4 / 968.4, QD8 1712 / 1639, where n / latency gave 517.2, 1034 and 1849.
 */
export function queueingRate(n: number, shared: readonly number[], think: number): number {
  const whole = Math.floor(n);
  let queued = shared.map(() => 0);
  let busy = shared.map(() => 0);
  let before = 0;
  let rate = 0;
  // Up to the next whole unit, for the fraction of it beyond `whole`.
  for (let units = 1; units <= Math.ceil(n); units++) {
    const residence = shared.map((service, k) => service * (1 + queued[k] - busy[k] / 2));
    before = rate;
    rate = units / (think + residence.reduce((sum, r) => sum + r, 0));
    queued = residence.map((r) => rate * r);
    busy = shared.map((service) => rate * service);
  }
  return n === whole ? rate : before + (n - whole) * (rate - before);
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
  /** Cycles of a write's latency that pass while the round before drains (PieceLatency.overlapped). */
  overlapped: number;
}

/**
 * Whether the units of a direction move as a convoy, and the link's idle time per round. Only where
 * the link is the busiest resource. Reads do only on an SSD that builds all of a command's data TLPs
 * at once (`readsConvoy`: its transmitLookaheadTlps is 0): it queues its SQ entry (and PRP list)
 * fetches behind read data in one upstream FIFO and the next round starts only once the data ahead
 * has left; reads of at most two pages (no PRP list) carry one command across the gap, and media
 * still producing the round's data covers part of it. An SSD that builds its data TLPs as its
 * transmit queue drains (the default) sends a fetch after a few TLPs, so its reads flow. Writes do
 * when a PRP list is fetched (its CplD waits behind write data in the controller's downstream
 * direction); without one only while the loop cannot cover one latency.
 */
function convoyGap(u: ConvoyUnit, linkBinds: boolean, readsConvoy: boolean): number | null {
  if (!linkBinds) return null;
  const noList = prpListEntries(u.bytes) === 0;
  const gap = u.latency - u.transfer;
  if (u.isRead) {
    if (!readsConvoy) return null;
    const carried = noList && u.n > 1 ? u.transfer : 0;
    const stillProducing = Math.max(0, u.n * u.media - CONVOY_FETCH_LAG_COMMANDS * u.wire);
    return Math.max(0, gap - carried - stillProducing);
  }
  if (!noList) return Math.max(0, gap - u.overlapped);
  return u.n * u.wire <= u.latency + WRITE_FLOW_COMMANDS * u.wire ? Math.max(0, gap - (u.n > 1 ? u.transfer : 0)) : null;
}

/**
 * Closed loops: the job's queue depth (user commands), the controller's slots (pieces until their
 * completion is parsed) and its read and write buffers (pieces until read out or released).
 */
export function loopLimits(
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
  const readsConvoy = r.ssd.transmitLookaheadTlps === 0;
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
      const g = convoyGap({ ...perUnit(isRead), isRead, n }, linkBinds, readsConvoy);
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
  // What the commands queue for in turn: the link, and the controller's user data ports (one per direction).
  const userPorts = controller ? active.map(([, share]) => (share * job.bs) / USER_PORT_BYTES_PER_CYCLE) : [];
  const userLoop: Loop = {
    n: userN,
    latency: mix((d) => direction(d).nvme),
    extra: mix((d) => direction(d).extra),
    wire: wireCycles,
    shared: [wireCycles, ...userPorts],
    gap: gapMix(userN, (d) => {
      const x = direction(d);
      return { latency: x.nvme, transfer: x.transfer, bytes: pieces.length === 1 ? pieces[0] : r.pieceBytes, wire: wireCycles, media: mediaCycles, overlapped: x.piece.overlapped };
    }),
  };
  limits.push({ name: "queue depth x latency", key: "queue_depth_latency", x: loopRate(userLoop), detail: describe(`iodepth ${job.iodepth} x numjobs ${job.numjobs}`, userLoop, "commands"), loop: true });
  if (!controller) return limits;

  // Pieces: a slot frees when its completion is parsed, so its loop is the NVMe latency alone.
  const pieceWire = wireCycles / pieceCount;
  const pieceUnit = (isRead: boolean) => {
    const l = (isRead ? latency.read : latency.write)[0];
    return { latency: l.total, transfer: l.transfer, bytes: pieces[0], wire: pieceWire, media: mediaCycles / pieceCount, overlapped: l.overlapped };
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
    const gap = convoyGap({ ...unit, isRead, n, wire, media: mediaCycles / (pieceCount * share) }, linkBinds, readsConvoy);
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
  // Write intake: the write buffer takes a command's data only while its `write_landed` slice has
  // room, and the engine takes a verdict when it retires the command, after its completion. So the
  // data of a write streams in only once the write CONTROLLER_WRITE_LANDED_DEPTH before it retired.
  if (readShare < 1) {
    const lastPiece = latency.write[latency.write.length - 1];
    const n = Math.min(CONTROLLER_WRITE_LANDED_DEPTH, userInFlight);
    const loop: Loop = { n, latency: lastPiece.total, extra: job.bs / USER_PORT_BYTES_PER_CYCLE + CONTROLLER_FRONT_CYCLES, wire: wireByDirection.down, gap: null };
    limits.push({
      name: "write intake (landed verdicts)",
      key: "write_intake",
      x: loopRate(loop) / (1 - readShare),
      detail: `the write buffer stops taking data while ${CONTROLLER_WRITE_LANDED_DEPTH} writes wait for retirement: ${fmt(n)} writes, each ${(loop.extra / 250).toFixed(2)} µs of data in + ${(loop.latency / 250).toFixed(2)} µs to its completion`,
      loop: true,
    });
  }
  return limits;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

