// Measures what the models do without the controller: the reference host driver (sim/host/driver.ts)
// brings the SSD model up over the link model (enumeration, MPS/MRRS on both ends, queues), then a
// host that behaves as the controller does on the wire keeps `iodepth x numjobs` reads or writes in
// flight and times them in simulated cycles: SQ entries and the CQ in host memory, SQ tail and CQ head
// doorbells coalesced (one at a time, each with the latest value, taking turns), CID = slot, and a
// transmit arbiter that sends CplDs first but lets a waiting doorbell through after COMPLETION_RUN of
// them (the controller's tlp_tx). It is the yardstick for the analytic estimator (sim/estimate/):
// the same link, the same SSD, the same wire; no pieces, slots or buffers.
//
// The host answers the SSD's memory reads in one of two ways: `largest` cuts CplDs as the
// controller's completer does (each as large as MPS allows, ending on the 64-byte RCB), `rcb` as the
// reference transport does (a CplD per 64 bytes). Idle stretches (the SSD's media time, with nothing
// on the link) are skipped with the link model's nextEventCycle / advanceIdle, which is exact.
import { NvmeDriver, type IoQueuePair } from "../host/driver.ts";
import * as cmd from "../host/commands.ts";
import { ModelTransport } from "../host/model-transport.ts";
import { planPrps, encodePrpList } from "../host/prp.ts";
import { decodeCqe, isSuccess, CQE_BYTES, describeStatus, type CompletionEntry } from "../host/completion.ts";
import { doorbellOffset } from "../host/registers.ts";
import { Fifo } from "../pcie/fifo.ts";
import { completeMemoryRead, type CompletionSplitParams } from "../pcie/completion-split.ts";
import { requestedByteRange } from "../pcie/tlp-rules.ts";
import type { DirectionCounters } from "../pcie/link-direction.ts";
import type { Completion, MemRequest, Tlp } from "../pcie/tlp.ts";
import { resolveSsdOptions } from "../nvme/options.ts";
import { seededRandom } from "../random.ts";
import { readPercent, isRandom, type JobSpec, type SystemSpec } from "../workload/job.ts";

export type HostCompletionSplit = "largest" | "rcb";

export interface ReferenceIoOptions {
  /** Commands completed before the measured window opens (fills the pipeline). */
  warmupCommands: number;
  /** Commands completed inside the measured window. */
  commands: number;
  /** How the host cuts its CplDs (see the file comment); default `largest`, the controller's way. */
  completionSplit?: HostCompletionSplit;
  /** Give up after this many simulated cycles (a hang is a bug, not a slow run). */
  maxCycles?: number;
}

export interface ReferenceDirection {
  commands: number;
  bytes: number;
  bytesPerSecond: number;
  iops: number;
  /** Mean time from writing the SQ entry to the CQ entry landing in host memory, ns. */
  meanLatencyNs: number;
}

export interface ReferenceIoResult {
  read: ReferenceDirection;
  write: ReferenceDirection;
  /** Measured window, ns of simulated time. */
  windowNs: number;
  /** What the link carried inside the window, per direction (down = host to SSD). */
  link: { down: DirectionCounters; up: DirectionCounters };
  mps: number;
  mrrs: number;
  /** Simulated cycles of the whole run (bring-up included) and wall time, for the bench. */
  cycles: number;
  wallSeconds: number;
}

const NS_PER_CYCLE = 4;
const HOST_ID = 0x0000;
const DEFAULT_MAX_CYCLES = 200_000_000;
/** The host's read completion boundary (the root port's, PROTOCOL_FACTS A.7). */
const HOST_RCB = 64;
const REFERENCE_CPL_BYTES = 64;
/** CplDs the controller's transmit arbiter sends in a row while a request waits (tlp_tx cr4). */
const COMPLETION_RUN = 4;
/** The reference transport's CplD cut: 64-byte pieces, legal under any MPS (sim/host/model-transport.ts). */
const REFERENCE_CPL_MPS = 128;

interface Slot {
  prp1: bigint;
  prp2: bigint;
}

interface InFlight {
  isRead: boolean;
  submittedCycle: number;
}

/** Run `job` (its rw, bs, iodepth x numjobs, rwmixread, randseed) on `system` with the reference host. */
export async function runReferenceIo(job: JobSpec, system: SystemSpec, options: ReferenceIoOptions): Promise<ReferenceIoResult> {
  const wallStart = performance.now();
  const ssdOptions = resolveSsdOptions(system.ssd.options);
  const transport = await ModelTransport.start({
    ssd: system.ssd.options,
    link: {
      generation: system.gen,
      lanes: system.lanes,
      endpointMaxSpeed: Math.min(system.gen, ssdOptions.linkSpeed) as 1 | 2 | 3,
      endpointMaxWidth: Math.min(system.lanes, ssdOptions.linkWidth),
    },
  });
  const queueDepth = job.iodepth * job.numjobs;
  const driver = new NvmeDriver(transport, {
    pci: { maxPayloadBytes: system.mps, maxReadRequestBytes: system.mrrs },
    ioQueueEntries: Math.max(queueDepth + 1, 2),
    commandTimeoutNs: 50e6,
  });
  const { namespace, io } = await driver.bringUp();
  const mps = transport.ssd.config.maxPayloadBytes;
  const mrrs = transport.ssd.config.maxReadRequestBytes;
  const lbaBytes = namespace.lbaBytes;
  if (job.bs % lbaBytes !== 0) throw new RangeError(`bs ${job.bs} is not a multiple of the namespace's ${lbaBytes}-byte LBA`);
  if (job.bs > driver.maxTransferBytes) throw new RangeError(`bs ${job.bs} exceeds the SSD's MDTS (${driver.maxTransferBytes} bytes)`);

  const host = new WireHost(transport, io, queueDepth, options.completionSplit === "rcb"
    ? { rcb: HOST_RCB, mps: REFERENCE_CPL_MPS, policy: "aligned", alignBytes: REFERENCE_CPL_BYTES }
    : { rcb: HOST_RCB, mps, policy: "largest" });
  const slots = allocateSlots(driver, transport, queueDepth, job.bs);
  const blocks = job.bs / lbaBytes;
  const regionBlocks = Math.floor(Number(namespace.nsze) / blocks) * blocks;
  if (regionBlocks < blocks) throw new RangeError(`namespace of ${namespace.nsze} blocks holds no ${blocks}-block command`);
  const random = seededRandom(job.randseed);
  const readShare = readPercent(job) / 100;
  let nextLba = 0;
  const pickLba = (): number => {
    if (isRandom(job.rw)) return Math.floor(random() * (regionBlocks / blocks)) * blocks;
    const lba = nextLba;
    nextLba = (nextLba + blocks) % regionBlocks;
    return lba;
  };

  const link = transport.link;
  const total = options.warmupCommands + options.commands;
  const commands: (InFlight | undefined)[] = new Array(queueDepth).fill(undefined);
  let submitted = 0;
  let completed = 0;
  let windowStart = -1;
  let downAtStart = snapshot(link.counters.down);
  let upAtStart = snapshot(link.counters.up);
  const sums = { read: { commands: 0, latency: 0 }, write: { commands: 0, latency: 0 } };
  const openWindow = () => {
    windowStart = link.cycle;
    downAtStart = snapshot(link.counters.down);
    upAtStart = snapshot(link.counters.up);
  };

  // CID = slot, as the controller numbers its commands.
  const submit = (slot: number) => {
    const isRead = random() < readShare;
    const range = { nsid: 1, slba: BigInt(pickLba()), blocks };
    const dptr = { prp1: slots[slot].prp1, prp2: slots[slot].prp2 };
    commands[slot] = { isRead, submittedCycle: link.cycle };
    host.submit(isRead ? cmd.read(range, dptr) : cmd.write(range, dptr), slot);
    submitted++;
  };
  host.onCompletion = (entry) => {
    const done = commands[entry.cid];
    if (!done) throw new Error(`reference run: completion for CID ${entry.cid}, which is not in flight`);
    if (!isSuccess(entry.status)) throw new Error(`reference run: CID ${entry.cid} failed: ${describeStatus(entry.status)}`);
    commands[entry.cid] = undefined;
    completed++;
    // Every completion inside the window counts, whenever its command was submitted (Little's law).
    if (windowStart >= 0) {
      const sum = done.isRead ? sums.read : sums.write;
      sum.commands++;
      sum.latency += (link.cycle - done.submittedCycle) * NS_PER_CYCLE;
    }
    if (completed === options.warmupCommands) openWindow();
    if (submitted < total) submit(entry.cid);
  };

  for (let slot = 0; slot < Math.min(queueDepth, total); slot++) submit(slot);
  if (options.warmupCommands === 0) openWindow();
  const maxCycles = options.maxCycles ?? DEFAULT_MAX_CYCLES;
  while (completed < total) {
    if (link.cycle > maxCycles) throw new Error(`reference run: ${completed} of ${total} commands after ${maxCycles} cycles`);
    host.step();
  }

  const windowNs = (link.cycle - windowStart) * NS_PER_CYCLE;
  const direction = (sum: { commands: number; latency: number }): ReferenceDirection => ({
    commands: sum.commands,
    bytes: sum.commands * job.bs,
    bytesPerSecond: (sum.commands * job.bs) / (windowNs / 1e9),
    iops: sum.commands / (windowNs / 1e9),
    meanLatencyNs: sum.commands > 0 ? sum.latency / sum.commands : 0,
  });
  await transport.close();
  return {
    read: direction(sums.read),
    write: direction(sums.write),
    windowNs,
    link: { down: difference(link.counters.down, downAtStart), up: difference(link.counters.up, upAtStart) },
    mps,
    mrrs,
    cycles: link.cycle,
    wallSeconds: (performance.now() - wallStart) / 1e3,
  };
}

/**
 * The host's side of the wire during I/O, as the controller behaves there: SQ entries and the CQ in
 * host memory, the SSD's reads answered with CplDs cut by `split`, and a transmit arbiter that sends
 * completions first but never more than COMPLETION_RUN in a row while a doorbell waits. Doorbells
 * are coalesced as the controller's engine does: one doorbell at a time, each carrying the latest
 * SQ tail or CQ head, taking turns when both are due.
 */
class WireHost {
  onCompletion: (entry: CompletionEntry) => void = () => undefined;
  private readonly completions = new Fifo<Completion>();
  private doorbell: MemRequest | undefined;
  private completionRun = 0;
  private sqTail = 0;
  private sqTailRung = 0;
  private cqHead = 0;
  private cqHeadRung = 0;
  private cqPhase = 1;
  private ringSqNext = true;
  private readonly cqBase: bigint;
  private readonly cqEnd: bigint;
  private readonly sqEntries: number;
  private readonly cqEntries: number;
  private readonly sqDoorbell: bigint;
  private readonly cqDoorbell: bigint;

  constructor(
    private readonly t: ModelTransport,
    private readonly io: IoQueuePair,
    queueDepth: number,
    private readonly split: CompletionSplitParams,
  ) {
    this.cqBase = io.cq.location.base;
    this.cqEntries = io.cq.location.entries;
    this.cqEnd = this.cqBase + BigInt(this.cqEntries * CQE_BYTES);
    this.sqEntries = io.sq.location.entries;
    if (this.sqEntries <= queueDepth) throw new RangeError(`SQ of ${this.sqEntries} entries cannot hold ${queueDepth} commands`);
    const { bar0, doorbellStride, qid } = io.sq.location;
    this.sqDoorbell = bar0 + BigInt(doorbellOffset(qid, "sqTail", doorbellStride));
    this.cqDoorbell = bar0 + BigInt(doorbellOffset(qid, "cqHead", doorbellStride));
    t.port.onReceive((tlp) => this.fromSsd(tlp));
  }

  submit(command: cmd.Command, cid: number): void {
    this.t.hostMemory.write(this.io.sq.location.base + BigInt(this.sqTail * cmd.SQE_BYTES), cmd.encodeSqe(command, cid));
    this.sqTail = (this.sqTail + 1) % this.sqEntries;
  }

  /** One cycle: ring a due doorbell, keep the port's transmit queue fed, clock the link (or skip idle time). */
  step(): void {
    const port = this.t.port;
    const link = this.t.link;
    if (this.doorbell === undefined) this.doorbell = this.dueDoorbell();
    // One TLP waiting behind the one on the wire keeps TLPs back to back and lets a doorbell pass.
    if (port.pendingTx <= 1) {
      const takeDoorbell = this.doorbell !== undefined && (this.completions.length === 0 || this.completionRun >= COMPLETION_RUN);
      if (takeDoorbell) {
        port.send(this.doorbell!);
        this.doorbell = undefined;
        this.completionRun = 0;
      } else if (this.completions.length > 0) {
        port.send(this.completions.shift()!);
        this.completionRun++;
      }
    }
    if (port.pendingTx === 0 && this.doorbell === undefined && this.completions.length === 0) {
      const next = link.nextEventCycle();
      if (next > link.cycle + 1 && Number.isFinite(next)) link.advanceIdle(next - link.cycle - 1);
    }
    port.step();
  }

  private dueDoorbell(): MemRequest | undefined {
    const sqDue = this.sqTail !== this.sqTailRung;
    const cqDue = this.cqHead !== this.cqHeadRung;
    if (!sqDue && !cqDue) return undefined;
    const ringSq = sqDue && (!cqDue || this.ringSqNext);
    this.ringSqNext = !ringSq;
    const value = ringSq ? this.sqTail : this.cqHead;
    if (ringSq) this.sqTailRung = value;
    else this.cqHeadRung = value;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value, true);
    const address = ringSq ? this.sqDoorbell : this.cqDoorbell;
    return { kind: "MWr", tc: 0, attr: 0, ep: false, td: false, requesterId: HOST_ID, tag: 0, address, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, data };
  }

  private fromSsd(tlp: Tlp): void {
    const memory = this.t.hostMemory;
    if (tlp.kind === "MWr") {
      const { firstByteAddress, byteCount } = requestedByteRange(tlp);
      const lead = Number(firstByteAddress - tlp.address);
      memory.write(firstByteAddress, tlp.data!.subarray(lead, lead + byteCount));
      if (firstByteAddress >= this.cqBase && firstByteAddress < this.cqEnd) this.takeCompletions();
      return;
    }
    if (tlp.kind === "MRd") {
      for (const cpl of completeMemoryRead(tlp, HOST_ID, (address, length) => memory.read(address, length), this.split)) this.completions.push(cpl);
      return;
    }
    throw new Error(`reference run: unexpected ${tlp.kind} from the SSD during I/O`);
  }

  /** Entries whose phase says they are new, in ring order. */
  private takeCompletions(): void {
    for (;;) {
      const entry = decodeCqe(this.t.hostMemory.read(this.cqBase + BigInt(this.cqHead * CQE_BYTES), CQE_BYTES));
      if (entry.phase !== this.cqPhase) return;
      this.cqHead = (this.cqHead + 1) % this.cqEntries;
      if (this.cqHead === 0) this.cqPhase ^= 1;
      this.onCompletion(entry);
    }
  }
}

/** One page-aligned buffer per command in flight, its PRP list (if any) written once. */
function allocateSlots(driver: NvmeDriver, t: ModelTransport, count: number, bytes: number): Slot[] {
  return Array.from({ length: count }, () => {
    const buffer = driver.allocateBuffer(bytes);
    const plan = planPrps(buffer, () => driver.memory.alloc(buffer.pageSize, buffer.pageSize));
    for (const list of plan.lists) t.hostMemory.write(list.address, encodePrpList(list.entries));
    return { prp1: plan.prp1, prp2: plan.prp2 };
  });
}

function snapshot(c: DirectionCounters): DirectionCounters {
  return { ...c, creditStallCycles: [...c.creditStallCycles] };
}

function difference(now: DirectionCounters, before: DirectionCounters): DirectionCounters {
  return {
    tlps: now.tlps - before.tlps,
    tlpBytes: now.tlpBytes - before.tlpBytes,
    payloadBytes: now.payloadBytes - before.payloadBytes,
    wireBytes: now.wireBytes - before.wireBytes,
    acks: now.acks - before.acks,
    updateFcs: now.updateFcs - before.updateFcs,
    skpOrderedSets: now.skpOrderedSets - before.skpOrderedSets,
    creditStallCycles: [0, 1, 2].map((i) => now.creditStallCycles[i] - before.creditStallCycles[i]) as [number, number, number],
  };
}
