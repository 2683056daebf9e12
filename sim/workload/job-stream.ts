// The commands one fio job (one clone of it, with numjobs) issues, in the order it issues them, as fio
// chooses them:
//  - sequential jobs (read, write, readwrite) walk the region [offset, offset + size) in bs steps; a mix
//    keeps a position per direction, as fio does (each direction walks the region on its own); with
//    time_based a walk that reaches the end starts again at the region's start;
//  - random jobs (randread, randwrite, randrw) pick bs-aligned offsets uniformly in the region from the
//    job's randseed (sim/random.ts), with replacement (fio's `norandommap`; fio's default random map,
//    which touches every block once per pass, is not modelled);
//  - the mixes choose each command's direction with probability rwmixread % of a read, from a random
//    stream of their own, so changing the offsets' stream does not change the mix;
//  - the budget: without time_based a job stops after `size` bytes (both directions together), or
//    after number_ios commands, whichever comes first; with time_based only number_ios (and the
//    runner's clock) end it;
//  - verify: the bs blocks the job wrote, each once, in offset order, are what fio's verify phase
//    reads back after the writes (verifyOffsets()).
// Time (runtime, ramp_time) is the runner's business (sim/system/job-runner.ts): a stream knows nothing
// of cycles.
import { seededUint32 } from "../random.ts";
import { type JobSpec, isRandom, readPercent } from "./job.ts";

/** One command of a stream: a bs-sized read or write at a byte offset of the namespace. */
export interface StreamCommand {
  read: boolean;
  /** Byte offset in the namespace (a multiple of bs from the region's start). */
  offset: number;
  bytes: number;
}

const TWO_32 = 4294967296;

/** A 32-bit seed for one of a clone's random streams, mixed from the job's randseed (Murmur3's finaliser). */
function streamSeed(randseed: number, job: number, clone: number, purpose: number): number {
  let h = (Math.floor(randseed) ^ Math.floor(randseed / TWO_32)) >>> 0;
  for (const part of [job, clone, purpose]) {
    h = Math.imul(h ^ part ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

export class JobStream {
  /** Commands handed out so far, and their bytes. */
  issuedIos = 0;
  issuedBytes = 0;
  /** The region, bytes: [regionStart, regionStart + regionBytes), regionBytes a whole number of bs. */
  readonly regionStart: number;
  readonly regionBytes: number;
  private readonly blocks: number;
  private readonly random: boolean;
  private readonly readPercent: number;
  private readonly nextOffset: () => number;
  private readonly nextDirection: () => number;
  /** Sequential positions (block index in the region) per direction: [read, write]. */
  private readonly position = [0, 0];
  /** Written bs blocks (index in the region), for the verify phase. */
  private readonly written = new Set<number>();

  /**
   * `namespaceBytes` resolves `size: null` (to the end of the namespace); `jobIndex` and `clone` make
   * each job and each numjobs clone draw its own random streams from the same randseed.
   */
  constructor(
    readonly job: JobSpec,
    namespaceBytes: number,
    jobIndex = 0,
    readonly clone = 0,
  ) {
    const size = job.size ?? namespaceBytes - job.offset;
    this.regionStart = job.offset;
    this.blocks = Math.floor(size / job.bs);
    this.regionBytes = this.blocks * job.bs;
    if (this.blocks < 1) throw new RangeError(`job "${job.name}": size=${size} is smaller than bs=${job.bs}`);
    this.random = isRandom(job.rw);
    this.readPercent = readPercent(job);
    this.nextOffset = seededUint32(streamSeed(job.randseed, jobIndex, clone, 1));
    this.nextDirection = seededUint32(streamSeed(job.randseed, jobIndex, clone, 2));
  }

  /** No command left: the size or number_ios budget is spent (time is the runner's to watch). */
  get exhausted(): boolean {
    const { job } = this;
    if (job.numberIos !== null && this.issuedIos >= job.numberIos) return true;
    return !this.timeBased && this.issuedBytes + job.bs > this.regionBytes;
  }

  /** time_based counts only with a runtime (fio ignores it without one). */
  get timeBased(): boolean {
    return this.job.timeBased && this.job.runtimeNs !== null;
  }

  /** The next command, or null when the budget is spent. */
  next(): StreamCommand | null {
    if (this.exhausted) return null;
    const { job } = this;
    const read = this.readPercent === 100 ? true : this.readPercent === 0 ? false : this.nextDirection() % 100 < this.readPercent;
    let block: number;
    if (this.random) {
      // 53 bits of randomness: uniform over any region a safe integer can address.
      const u = (this.nextOffset() * 2097152 + (this.nextOffset() >>> 11)) / 9007199254740992;
      block = Math.floor(u * this.blocks);
    } else {
      const d = read ? 0 : 1;
      block = this.position[d];
      this.position[d] = block + 1 === this.blocks ? 0 : block + 1;
    }
    if (!read) this.written.add(block);
    this.issuedIos++;
    this.issuedBytes += job.bs;
    return { read, offset: this.regionStart + block * job.bs, bytes: job.bs };
  }

  /** Byte offsets of every bs block this stream wrote, each once, ascending: fio's verify phase reads them back. */
  verifyOffsets(): number[] {
    return [...this.written].sort((a, b) => a - b).map((block) => this.regionStart + block * this.job.bs);
  }
}
