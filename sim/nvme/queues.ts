// Submission and completion queue state (facts digest §E.3). The controller owns head of each SQ and tail
// + phase of each CQ; the host owns SQ tail and CQ head through doorbells. A CQ never overwrites an entry
// the host has not released: completions wait in order until there is room.

import type { CompletionEntry } from "./submission-entry.ts";

export class SubmissionQueue {
  head = 0;
  tail = 0;
  /** An SQE fetch is on the bus; the next one starts after it returns, so entries arrive in order. */
  fetching = false;

  constructor(
    readonly qid: number,
    readonly base: bigint,
    readonly size: number,
    readonly cqid: number,
  ) {}

  get available(): number {
    return (this.tail - this.head + this.size) % this.size;
  }

  /** Why a tail doorbell value is invalid, or undefined. */
  tailProblem(value: number): string | undefined {
    if (value >= this.size) return `SQ ${this.qid} tail ${value} is beyond the queue size ${this.size}`;
    return undefined;
  }
}

export interface WaitingCompletion {
  entry: Omit<CompletionEntry, "phase">;
  /** Told the phase tag the entry is posted with (the Error Information log records it). */
  onPosted?: (phase: number) => void;
}

export class CompletionQueue {
  head = 0;
  tail = 0;
  phase = 1;
  readonly waiting: WaitingCompletion[] = [];
  readonly sqids = new Set<number>();

  constructor(
    readonly qid: number,
    readonly base: bigint,
    readonly size: number,
    readonly interruptsEnabled: boolean,
    readonly vector: number,
  ) {}

  get full(): boolean {
    return (this.tail + 1) % this.size === this.head;
  }

  /** Entries posted and not yet released by the host. */
  get outstanding(): number {
    return (this.tail - this.head + this.size) % this.size;
  }

  /** Why a head doorbell value is invalid, or undefined. It may not pass entries not yet posted. */
  headProblem(value: number): string | undefined {
    if (value >= this.size) return `CQ ${this.qid} head ${value} is beyond the queue size ${this.size}`;
    const released = (value - this.head + this.size) % this.size;
    if (released > this.outstanding) {
      return `CQ ${this.qid} head ${value} releases ${released} entries but only ${this.outstanding} are posted (head ${this.head}, tail ${this.tail})`;
    }
    return undefined;
  }

  /** Slot for the next entry and its phase; advances the tail. */
  claimSlot(): { index: number; phase: number } {
    const slot = { index: this.tail, phase: this.phase };
    this.tail = (this.tail + 1) % this.size;
    if (this.tail === 0) this.phase ^= 1;
    return slot;
  }
}
