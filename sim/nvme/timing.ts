// When things happen inside the SSD, in 250 MHz user-clock cycles (4 ns). Commands queue for a few
// firmware cores (command overhead); media operations spread over parallel units (dies/planes) with a
// read or program latency per media page, and share one internal data bus of limited bandwidth. A
// volatile write cache completes writes early and programs them in the background; Flush waits for it.

export interface TimingParams {
  /** Firmware cores handling commands in parallel. */
  controllerCores: number;
  /** Per-command firmware time on one core. */
  commandOverheadCycles: number;
  /** Media page read latency (tR). */
  readLatencyCycles: number;
  /** Media page program latency (tPROG). */
  programLatencyCycles: number;
  /** Media page size: the unit of a read or program operation. */
  mediaPageBytes: number;
  /** Independent media units (dies x planes) working at once. */
  parallelUnits: number;
  /** Internal data-bus bandwidth between media and controller. */
  mediaBytesPerCycle: number;
  /** Volatile write cache size; 0 = no cache (Identify VWC = 0). */
  writeCacheBytes: number;
  /** Time to accept a write into the cache before its completion may be posted. */
  cacheInsertCycles: number;
  /** Extra time a Flush or shutdown takes after the cache drained. */
  flushOverheadCycles: number;
}

/** Cycles per microsecond at the 250 MHz user clock. */
export const CYCLES_PER_US = 250;

export const timingPresets = {
  /** Media and firmware faster than a Gen2 x4 link: the link limits throughput at modest queue depth. */
  fastSsd: {
    controllerCores: 8,
    commandOverheadCycles: 1 * CYCLES_PER_US,
    readLatencyCycles: 8 * CYCLES_PER_US,
    programLatencyCycles: 30 * CYCLES_PER_US,
    mediaPageBytes: 4096,
    parallelUnits: 64,
    mediaBytesPerCycle: 32,
    writeCacheBytes: 256 * 1024 * 1024,
    cacheInsertCycles: 1 * CYCLES_PER_US,
    flushOverheadCycles: 5 * CYCLES_PER_US,
  },
  /** A typical TLC consumer drive: slower firmware, 16 KiB pages, fewer dies, a modest write cache. */
  consumerSsd: {
    controllerCores: 2,
    commandOverheadCycles: 5 * CYCLES_PER_US,
    readLatencyCycles: 60 * CYCLES_PER_US,
    programLatencyCycles: 600 * CYCLES_PER_US,
    mediaPageBytes: 16384,
    parallelUnits: 16,
    mediaBytesPerCycle: 12,
    writeCacheBytes: 64 * 1024 * 1024,
    cacheInsertCycles: 3 * CYCLES_PER_US,
    flushOverheadCycles: 200 * CYCLES_PER_US,
  },
  /** No internal delay at all, for functional tests: only the link and DMA take time. */
  instant: {
    controllerCores: 1024,
    commandOverheadCycles: 0,
    readLatencyCycles: 0,
    programLatencyCycles: 0,
    mediaPageBytes: 4096,
    parallelUnits: 1,
    mediaBytesPerCycle: Number.POSITIVE_INFINITY,
    writeCacheBytes: 16 * 1024 * 1024,
    cacheInsertCycles: 0,
    flushOverheadCycles: 0,
  },
} satisfies Record<string, TimingParams>;

export type TimingPresetName = keyof typeof timingPresets;

export interface WriteTiming {
  /** When the write's completion may be posted. */
  completeAt: number;
  /** When the data is on the media (durable). */
  persistAt: number;
}

export class TimingModel {
  private coreFree: number[];
  private unitFree: number[];
  private busFree = 0;
  /** Cached writes not yet programmed: when each drains and how many bytes it holds. */
  private cached: { persistAt: number; bytes: number }[] = [];

  constructor(readonly params: TimingParams) {
    this.coreFree = new Array(params.controllerCores).fill(0);
    this.unitFree = new Array(params.parallelUnits).fill(0);
  }

  reset(): void {
    this.coreFree.fill(0);
    this.unitFree.fill(0);
    this.busFree = 0;
    this.cached = [];
  }

  get hasWriteCache(): boolean {
    return this.params.writeCacheBytes > 0;
  }

  /** When a command arriving at `now` has had its firmware processing. */
  commandStart(now: number): number {
    const core = this.earliest(this.coreFree);
    const done = Math.max(now, this.coreFree[core]) + this.params.commandOverheadCycles;
    this.coreFree[core] = done;
    return done;
  }

  /** When `bytes` read from the media starting at `now` are in the controller, ready to DMA. */
  readReady(bytes: number, now: number): number {
    let ready = now;
    for (const piece of this.pages(bytes)) {
      const unit = this.earliest(this.unitFree);
      const sensed = Math.max(now, this.unitFree[unit]) + this.params.readLatencyCycles;
      this.unitFree[unit] = sensed;
      this.busFree = Math.max(this.busFree, sensed) + this.busCycles(piece);
      ready = Math.max(ready, this.busFree);
    }
    return ready;
  }

  /** When `bytes` handed to the media at `now` are programmed. */
  programDone(bytes: number, now: number): number {
    let done = now;
    for (const piece of this.pages(bytes)) {
      this.busFree = Math.max(this.busFree, now) + this.busCycles(piece);
      const unit = this.earliest(this.unitFree);
      const programmed = Math.max(this.busFree, this.unitFree[unit]) + this.params.programLatencyCycles;
      this.unitFree[unit] = programmed;
      done = Math.max(done, programmed);
    }
    return done;
  }

  /** Timing of a write whose data is all in the controller at `now`. */
  write(bytes: number, now: number, useCache: boolean): WriteTiming {
    if (!useCache || !this.hasWriteCache) {
      const persistAt = this.programDone(bytes, now);
      return { completeAt: persistAt, persistAt };
    }
    const admitted = this.cacheRoomAt(bytes, now);
    const persistAt = this.programDone(bytes, admitted);
    this.cached.push({ persistAt, bytes });
    return { completeAt: admitted + this.params.cacheInsertCycles, persistAt };
  }

  /** When everything cached at `now` is on the media, plus the flush overhead. */
  flushDone(now: number): number {
    this.drain(now);
    const last = this.cached.reduce((t, c) => Math.max(t, c.persistAt), now);
    return last + this.params.flushOverheadCycles;
  }

  private cacheRoomAt(bytes: number, now: number): number {
    this.drain(now);
    const capacity = this.params.writeCacheBytes;
    let used = this.cached.reduce((s, c) => s + c.bytes, 0);
    if (used + bytes <= capacity) return now;
    const byDrain = [...this.cached].sort((a, b) => a.persistAt - b.persistAt);
    for (const c of byDrain) {
      used -= c.bytes;
      if (used + bytes <= capacity) return Math.max(now, c.persistAt);
    }
    return now;
  }

  private drain(now: number): void {
    this.cached = this.cached.filter((c) => c.persistAt > now);
  }

  private *pages(bytes: number): Generator<number> {
    const page = this.params.mediaPageBytes;
    for (let left = bytes; left > 0; left -= page) yield Math.min(left, page);
  }

  private busCycles(bytes: number): number {
    return Math.ceil(bytes / this.params.mediaBytesPerCycle);
  }

  private earliest(free: number[]): number {
    let best = 0;
    for (let i = 1; i < free.length; i++) if (free[i] < free[best]) best = i;
    return best;
  }
}
