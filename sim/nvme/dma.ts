// The SSD's bus-master engine. Reads of host memory become MRd TLPs (each <= MRRS and inside one
// MRRS-aligned block, so never across 4 KiB), issued while tags are free and several at a time; their
// CplDs are reassembled by tag using Byte Count and Lower Address. Writes become MWr TLPs of <= MPS,
// likewise aligned, and built one at a time as the SSD's transmit queue asks for them. Failed, poisoned,
// malformed or missing completions fail the read with a reason.

import type { Completion, MemRequest, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";
import { dwWindow, pieceEnd } from "./byte-enables.ts";
import type { ModelLog } from "./model-log.ts";
import type { Scheduler } from "./scheduler.ts";

export interface DmaEnvironment {
  requesterId(): number;
  maxPayloadBytes(): number;
  maxReadRequestBytes(): number;
  extendedTags(): boolean;
  busMasterEnabled(): boolean;
  completionTimeoutCycles(): number;
  send(tlp: Tlp): void;
  /**
   * Queue a posted transfer, whose TLPs are built when the transmit side has room for them, behind
   * every earlier one. Without it (a bare engine) each write's TLPs are all sent at once.
   */
  post?(job: Iterator<Tlp, void, void>): void;
  scheduler: Scheduler;
  log: ModelLog;
}

export type DmaReadResult = { ok: true; data: Uint8Array } | { ok: false; reason: string };

export interface DmaCounters {
  readRequests: number;
  readBytes: number;
  writeRequests: number;
  writeBytes: number;
  completionsReceived: number;
  completionErrors: number;
  timeouts: number;
  maxTagsInFlight: number;
}

interface ReadJob {
  data: Uint8Array;
  chunksLeft: number;
  failure?: string;
  cancelled: boolean;
  done: (result: DmaReadResult) => void;
}

interface ReadChunk {
  job: ReadJob;
  address: bigint;
  /** Offset of this chunk in the job's buffer. */
  offset: number;
  length: number;
  received: number;
  tag: number;
  /**
   * A completion for this chunk was wrong: its command has failed, but the tag stays busy until the
   * completer's last completion for it (or the timeout), so a late CplD cannot land in a new read.
   */
  failed: boolean;
}

const FOUR_GIB = 1n << 32n;

export class DmaEngine {
  readonly counters: DmaCounters = {
    readRequests: 0,
    readBytes: 0,
    writeRequests: 0,
    writeBytes: 0,
    completionsReceived: 0,
    completionErrors: 0,
    timeouts: 0,
    maxTagsInFlight: 0,
  };
  private waiting: ReadChunk[] = [];
  private readonly inFlight = new Map<number, ReadChunk>();
  private freeTags: number[] = Array.from({ length: 256 }, (_, i) => i);
  private jobs = new Set<ReadJob>();

  constructor(private readonly env: DmaEnvironment) {}

  /** Read `length` bytes of host memory at `address`; `done` runs once, when all bytes arrived or the read failed. */
  read(address: bigint, length: number, done: (result: DmaReadResult) => void): void {
    const job: ReadJob = { data: new Uint8Array(length), chunksLeft: 0, cancelled: false, done };
    if (!this.env.busMasterEnabled()) {
      this.finish(job, "bus master enable is 0: the SSD may not read host memory");
      return;
    }
    if (length === 0) {
      this.finish(job);
      return;
    }
    this.jobs.add(job);
    const mrrs = this.env.maxReadRequestBytes();
    const end = address + BigInt(length);
    for (let at = address; at < end; ) {
      const next = pieceEnd(at, end, Math.min(mrrs, 4096));
      const chunk: ReadChunk = { job, address: at, offset: Number(at - address), length: Number(next - at), received: 0, tag: -1, failed: false };
      this.waiting.push(chunk);
      job.chunksLeft++;
      at = next;
    }
    this.issue();
  }

  /**
   * Posted write of `data` to host memory at `address`, split at MPS-aligned boundaries. The TLPs are
   * built as the transmit queue drains; false when bus mastering is off and nothing will be written.
   */
  write(address: bigint, data: Uint8Array, poisoned = false): boolean {
    if (!this.env.busMasterEnabled()) {
      this.env.log.add(this.env.scheduler.now, "dma-error", `MWr of ${data.length} B to 0x${address.toString(16)} dropped: bus master enable is 0`);
      return false;
    }
    // The bytes are taken now: a caller's buffer may change before the last TLP is built.
    const job = this.writeTlps(address, data.slice(), poisoned, Math.min(this.env.maxPayloadBytes(), 4096));
    if (this.env.post) this.env.post(job);
    else for (const tlp of job) this.env.send(tlp);
    return true;
  }

  /**
   * The MWr TLPs of one write, made on demand. MPS is the one in force when the write was queued (as if
   * the engine had been programmed then); bus mastering is checked again for each TLP, since a device
   * must stop issuing requests once the host clears it.
   */
  private *writeTlps(address: bigint, data: Uint8Array, poisoned: boolean, mps: number): Generator<Tlp, void, void> {
    const end = address + BigInt(data.length);
    for (let at = address; at < end; ) {
      if (!this.env.busMasterEnabled()) {
        this.env.log.add(this.env.scheduler.now, "dma-error", `MWr of ${Number(end - at)} B to 0x${at.toString(16)} dropped: bus master enable cleared before it was sent`);
        return;
      }
      const next = pieceEnd(at, end, mps);
      const w = dwWindow(at, Number(next - at));
      const payload = new Uint8Array(w.lengthDw * 4);
      const from = Number(at - address);
      payload.set(data.subarray(from, from + Number(next - at)), w.lead);
      this.counters.writeRequests++;
      this.counters.writeBytes += Number(next - at);
      at = next;
      yield this.memRequest("MWr", w.dwAddress, w.lengthDw, w.firstBe, w.lastBe, 0, payload, poisoned);
    }
  }

  /** A completion from the host arrived; returns a reason if it matched no outstanding read. */
  receiveCompletion(cpl: Completion): string | undefined {
    this.counters.completionsReceived++;
    const chunk = this.inFlight.get(cpl.tag);
    if (!chunk || cpl.requesterId !== this.env.requesterId()) {
      return `completion for requester 0x${cpl.requesterId.toString(16)} tag ${cpl.tag} matches no outstanding read`;
    }
    if (chunk.failed) {
      if (endsRequest(cpl)) this.releaseTag(chunk);
      return undefined;
    }
    const problem = this.absorb(chunk, cpl);
    if (problem) {
      this.counters.completionErrors++;
      chunk.failed = true;
      this.settle(chunk.job, problem);
      if (endsRequest(cpl)) this.releaseTag(chunk);
      return undefined;
    }
    if (chunk.received === chunk.length) {
      this.releaseTag(chunk);
      this.settle(chunk.job);
    }
    return undefined;
  }

  /** Forget every read in progress (controller reset): no callback will run; tags stay busy until answered or timed out. */
  cancelAll(): void {
    for (const job of this.jobs) job.cancelled = true;
    this.jobs.clear();
    this.waiting = [];
  }

  /** Power loss: forget every read and tag at once. */
  reset(): void {
    this.cancelAll();
    this.inFlight.clear();
    this.freeTags = Array.from({ length: 256 }, (_, i) => i);
  }

  private absorb(chunk: ReadChunk, cpl: Completion): string | undefined {
    const where = `tag ${cpl.tag} read of ${chunk.length} B at 0x${chunk.address.toString(16)}`;
    if (cpl.status !== CplStatus.SC) {
      const name = cpl.status === CplStatus.UR ? "UR" : cpl.status === CplStatus.CA ? "CA" : `status ${cpl.status}`;
      return `${where}: completed with ${name}`;
    }
    if (cpl.ep) return `${where}: poisoned completion data`;
    if (cpl.kind !== "CplD" || !cpl.data) return `${where}: successful completion without data`;
    const remaining = chunk.length - chunk.received;
    const expectedLa = Number((chunk.address + BigInt(chunk.received)) & 0x7fn);
    if (cpl.byteCount !== remaining) return `${where}: Byte Count ${cpl.byteCount}, expected ${remaining}`;
    if (cpl.lowerAddress !== expectedLa) return `${where}: Lower Address 0x${cpl.lowerAddress.toString(16)}, expected 0x${expectedLa.toString(16)}`;
    if (cpl.data.length > this.env.maxPayloadBytes()) return `${where}: CplD payload ${cpl.data.length} B exceeds MPS ${this.env.maxPayloadBytes()} B`;
    const lead = cpl.lowerAddress & 3;
    const carried = cpl.data.length - lead;
    if (carried <= 0) return `${where}: CplD carries no requested byte`;
    if (carried > remaining + 3) return `${where}: CplD carries ${carried} B but only ${remaining} B remain`;
    const take = Math.min(carried, remaining);
    if (take < remaining && ((chunk.address + BigInt(chunk.received + take)) & 63n) !== 0n) {
      return `${where}: partial completion does not end on a 64-byte RCB boundary`;
    }
    chunk.job.data.set(cpl.data.subarray(lead, lead + take), chunk.offset + chunk.received);
    chunk.received += take;
    return undefined;
  }

  private issue(): void {
    const limit = this.env.extendedTags() ? 256 : 32;
    while (this.waiting.length > 0) {
      const index = this.freeTags.findIndex((t) => t < limit);
      if (index < 0) return;
      const tag = this.freeTags.splice(index, 1)[0];
      const chunk = this.waiting.shift()!;
      chunk.tag = tag;
      this.inFlight.set(tag, chunk);
      this.counters.maxTagsInFlight = Math.max(this.counters.maxTagsInFlight, this.inFlight.size);
      const w = dwWindow(chunk.address, chunk.length);
      this.env.send(this.memRequest("MRd", w.dwAddress, w.lengthDw, w.firstBe, w.lastBe, tag));
      this.counters.readRequests++;
      this.counters.readBytes += chunk.length;
      const timeout = this.env.completionTimeoutCycles();
      if (!Number.isFinite(timeout)) continue;
      this.env.scheduler.after(timeout, () => {
        if (this.inFlight.get(tag) !== chunk) return;
        this.releaseTag(chunk);
        if (chunk.failed) return;
        this.counters.timeouts++;
        this.settle(chunk.job, `tag ${tag} read of ${chunk.length} B at 0x${chunk.address.toString(16)}: completion timeout`);
      });
    }
  }

  private releaseTag(chunk: ReadChunk): void {
    this.inFlight.delete(chunk.tag);
    this.freeTags.push(chunk.tag);
    this.issue();
  }

  /** One chunk of `job` is over: all its bytes arrived, or it failed with `failure`. */
  private settle(job: ReadJob, failure?: string): void {
    if (failure && !job.failure) {
      job.failure = failure;
      if (!job.cancelled) this.env.log.add(this.env.scheduler.now, "dma-error", failure);
    }
    job.chunksLeft--;
    if (job.failure && !job.cancelled) {
      // The command fails now; completions still owed for its other chunks are discarded on arrival.
      this.waiting = this.waiting.filter((c) => c.job !== job);
      job.cancelled = true;
      this.jobs.delete(job);
      job.done({ ok: false, reason: job.failure });
    } else if (job.chunksLeft === 0 && !job.cancelled) {
      this.jobs.delete(job);
      job.done({ ok: true, data: job.data });
    }
  }

  private finish(job: ReadJob, failure?: string): void {
    if (failure) this.env.log.add(this.env.scheduler.now, "dma-error", failure);
    job.done(failure ? { ok: false, reason: failure } : { ok: true, data: job.data });
  }

  private memRequest(
    kind: "MRd" | "MWr",
    address: bigint,
    lengthDw: number,
    firstBe: number,
    lastBe: number,
    tag: number,
    data?: Uint8Array,
    poisoned = false,
  ): MemRequest {
    return {
      kind,
      tc: 0,
      attr: 0,
      ep: poisoned,
      td: false,
      requesterId: this.env.requesterId(),
      tag,
      address,
      addr64: address >= FOUR_GIB,
      lengthDw,
      firstBe,
      lastBe,
      ...(data ? { data } : {}),
    };
  }
}

/**
 * Whether the completer sends nothing more for this request after `cpl`: an error status, no data,
 * or a Byte Count that this completion's own bytes cover (PCIe Base §2.3.1.1).
 */
function endsRequest(cpl: Completion): boolean {
  if (cpl.status !== CplStatus.SC || cpl.kind !== "CplD" || !cpl.data) return true;
  return cpl.byteCount <= cpl.data.length - (cpl.lowerAddress & 3);
}
