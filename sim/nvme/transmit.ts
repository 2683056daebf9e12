// The SSD's transmit side. A real controller does not build a command's whole data transfer as TLPs
// ahead of time: its DMA engine makes the next MWr when its small transmit buffer has room, and its
// command-fetch and PRP engines get their turn in between. So posted TLPs (data, CQ entries, MSI-X,
// INTx messages) wait here as jobs, in order, and are built only while fewer than `lookahead` TLPs wait
// to go upstream. Reads the SSD issues and completions it owes are never queued behind posted work
// that is not built yet: they go straight into the outgoing FIFO. PCIe allows that, since ordering is
// about TLPs already sent, and posted TLPs keep their order among themselves (a CQ entry never passes
// its command's data).

import { Fifo } from "../pcie/fifo.ts";
import type { Tlp } from "../pcie/tlp.ts";

/** A posted transfer: each `next()` builds its next TLP; done when it has none left (or gave up). */
export type PostedJob = Iterator<Tlp, void, void>;

export class TransmitQueue {
  private readonly built = new Fifo<Tlp>();
  private readonly posted = new Fifo<PostedJob>();

  /** `lookahead` TLPs at most wait built; 0 = no bound (every posted TLP built when posted). */
  constructor(private readonly lookahead: number) {
    if (!Number.isSafeInteger(lookahead) || lookahead < 0) throw new RangeError(`TransmitQueue lookahead ${lookahead} is not a non-negative integer`);
  }

  /** TLPs built and waiting to go upstream. */
  get length(): number {
    return this.built.length;
  }

  /** Posted jobs with TLPs still to build. */
  get jobsWaiting(): number {
    return this.posted.length;
  }

  /** Whether nothing waits, built or not. */
  get empty(): boolean {
    return this.built.length === 0 && this.posted.length === 0;
  }

  /** A non-posted request or a completion: it goes out behind what is built, ahead of what is not. */
  send(tlp: Tlp): void {
    this.built.push(tlp);
  }

  /** A posted transfer: its TLPs go out after those of every earlier posted job. */
  post(job: PostedJob): void {
    this.posted.push(job);
    this.fill();
  }

  shift(): Tlp | undefined {
    const tlp = this.built.shift();
    this.fill();
    return tlp;
  }

  /** Drop everything, built or not (a reset). */
  clear(): void {
    this.built.clear();
    this.posted.clear();
  }

  private fill(): void {
    const bound = this.lookahead === 0 ? Number.POSITIVE_INFINITY : this.lookahead;
    while (this.built.length < bound) {
      const job = this.posted.peek();
      if (!job) return;
      const step = job.next();
      if (step.done) this.posted.shift();
      else this.built.push(step.value);
    }
  }
}
