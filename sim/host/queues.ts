// Submission and completion rings in host memory (NVMe 1.4 §4.1): the host writes SQEs at the tail
// and rings the tail doorbell; it consumes CQEs whose phase tag matches the pass it expects, and
// releases them through the head doorbell. SQ space is reclaimed from the SQ Head field of CQEs.

import { type Command, encodeSqe, SQE_BYTES } from "./commands.ts";
import { CQE_BYTES, type CompletionEntry, decodeCqe } from "./completion.ts";
import { doorbellOffset } from "./registers.ts";
import type { NvmeTransport } from "./transport.ts";

export interface QueueLocation {
  qid: number;
  base: bigint;
  entries: number;
  /** BAR0 bus address and doorbell stride, for ringing this queue's doorbell. */
  bar0: bigint;
  doorbellStride: number;
}

export class SubmissionQueue {
  private tail = 0;
  private head = 0;
  private nextCid = 0;

  constructor(
    private readonly transport: NvmeTransport,
    readonly location: QueueLocation,
  ) {}

  get qid(): number {
    return this.location.qid;
  }

  get isFull(): boolean {
    return (this.tail + 1) % this.location.entries === this.head;
  }

  /** Write the entry and ring the tail doorbell; returns the CID given to the command. */
  async submit(command: Command, cid?: number): Promise<number> {
    if (this.isFull) throw new Error(`SQ ${this.qid} is full (${this.location.entries} entries, head ${this.head}, tail ${this.tail})`);
    const id = cid ?? this.allocateCid();
    await this.transport.writeMemory(this.location.base + BigInt(this.tail * SQE_BYTES), encodeSqe(command, id));
    this.tail = (this.tail + 1) % this.location.entries;
    await this.ringDoorbell(this.tail);
    return id;
  }

  /** Ring the tail doorbell with any value (tests use this to write invalid doorbell values). */
  async ringDoorbell(value: number): Promise<void> {
    const { bar0, doorbellStride } = this.location;
    await this.transport.mmioWrite32(bar0 + BigInt(doorbellOffset(this.qid, "sqTail", doorbellStride)), value);
  }

  /** The controller reports how far it has consumed the queue in each CQE. */
  noteHead(sqHead: number): void {
    if (sqHead >= this.location.entries) throw new Error(`SQ ${this.qid}: controller reported SQ head ${sqHead} beyond ${this.location.entries} entries`);
    this.head = sqHead;
  }

  private allocateCid(): number {
    const cid = this.nextCid;
    // CID 0xFFFF is reserved for errors not tied to a command (NVMe 1.4 §4.6.1).
    this.nextCid = (this.nextCid + 1) % 0xffff;
    return cid;
  }
}

export class CompletionQueue {
  private head = 0;
  private phase = 1;

  constructor(
    private readonly transport: NvmeTransport,
    readonly location: QueueLocation,
  ) {}

  get qid(): number {
    return this.location.qid;
  }

  /** Zero the ring so no stale entry carries the phase tag of the first pass. */
  async clear(): Promise<void> {
    await this.transport.writeMemory(this.location.base, new Uint8Array(this.location.entries * CQE_BYTES));
  }

  /** The next new entry, consumed and released to the controller, or undefined if none has arrived. */
  async poll(): Promise<CompletionEntry | undefined> {
    const raw = await this.transport.readMemory(this.location.base + BigInt(this.head * CQE_BYTES), CQE_BYTES);
    const entry = decodeCqe(raw);
    if (entry.phase !== this.phase) return undefined;
    this.head = (this.head + 1) % this.location.entries;
    if (this.head === 0) this.phase ^= 1;
    const { bar0, doorbellStride } = this.location;
    await this.transport.mmioWrite32(bar0 + BigInt(doorbellOffset(this.qid, "cqHead", doorbellStride)), this.head);
    return entry;
  }
}
