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
  /** Media erase block size: the unit a block erase (tBERS) clears on one parallel unit. */
  eraseBlockBytes: number;
  /** Media block erase latency (tBERS). User-data erase and sanitize block erase run at parallelUnits * eraseBlockBytes per tBERS. */
  blockEraseLatencyCycles: number;
  /** Cryptographic erase: changing the media encryption key, whatever the capacity. */
  cryptoEraseCycles: number;
  /** Deallocating a whole namespace (resetting its logical-to-physical map): the part of every format and sanitize that does not scale with capacity. */
  deallocateAllCycles: number;
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
    // 64 units x 8 MiB per 2 ms = 256 GiB/s: a 1 GiB namespace is erased in 4 ms (plus the map reset).
    eraseBlockBytes: 8 * 1024 * 1024,
    blockEraseLatencyCycles: 2000 * CYCLES_PER_US,
    cryptoEraseCycles: 1000 * CYCLES_PER_US,
    deallocateAllCycles: 100 * CYCLES_PER_US,
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
    // TLC: 16 MiB blocks, tBERS 3.5 ms; 16 units erase 64 GiB/s (1 TB in ~15 s). Overwrite is bound by
    // programming (16 x 16 KiB per 600 us = 437 MB/s: 1 TB takes ~40 min per pass), as on real drives.
    eraseBlockBytes: 16 * 1024 * 1024,
    blockEraseLatencyCycles: 3500 * CYCLES_PER_US,
    cryptoEraseCycles: 20_000 * CYCLES_PER_US,
    deallocateAllCycles: 2000 * CYCLES_PER_US,
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
    eraseBlockBytes: 4 * 1024 * 1024,
    blockEraseLatencyCycles: 0,
    cryptoEraseCycles: 0,
    deallocateAllCycles: 0,
  },
} satisfies Record<string, TimingParams>;

export type TimingPresetName = keyof typeof timingPresets;

/** Which erase commands an SSD supports, as reported in Identify Controller (the SsdOptions of the same names). */
export interface EraseSupport {
  /** OACS bit 1: Format NVM supported. */
  formatNvm: boolean;
  /** FNA bit 0: a format applies to every namespace, whatever the NSID. */
  formatAppliesToAllNamespaces: boolean;
  /** FNA bit 1: a secure erase (SES 1 or 2) applies to every namespace, whatever the NSID. */
  secureEraseAppliesToAllNamespaces: boolean;
  /** FNA bit 2: Format NVM's cryptographic erase (SES 2) supported. */
  formatCryptoErase: boolean;
  /** SANICAP bit 1: Sanitize block erase supported. */
  sanitizeBlockErase: boolean;
  /** SANICAP bit 2: Sanitize overwrite supported. */
  sanitizeOverwrite: boolean;
  /** SANICAP bit 0: Sanitize crypto erase supported. */
  sanitizeCryptoErase: boolean;
  /** SANICAP bit 29: No-Deallocate Inhibited (the controller deallocates after a sanitize even when NDAS asks it not to). */
  sanitizeNoDeallocateInhibited: boolean;
}

/**
 * Which erase commands an SSD of each preset supports, where it differs from the QEMU-like defaults
 * (options.ts): a consumer drive offers every Format NVM and Sanitize kind. An option given
 * explicitly (e.g. `sanitizeOverwrite: false`) wins over the preset.
 */
export const presetEraseSupport: Record<TimingPresetName, Partial<EraseSupport>> = {
  fastSsd: {},
  consumerSsd: { formatCryptoErase: true, sanitizeBlockErase: true, sanitizeOverwrite: true, sanitizeCryptoErase: true },
  instant: {},
};

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

  /** Block-erasing `bytes` of media, every parallel unit erasing one block per tBERS (user-data erase, sanitize block erase). */
  blockEraseCycles(bytes: number): number {
    const perRound = this.params.parallelUnits * this.params.eraseBlockBytes;
    return Math.ceil(bytes / perRound) * this.params.blockEraseLatencyCycles;
  }

  /**
   * One overwrite pass over `bytes`: the blocks are erased, then every page programmed, limited by the
   * parallel units' program latency or the internal bus, whichever is slower.
   */
  overwritePassCycles(bytes: number): number {
    const p = this.params;
    const pages = Math.ceil(bytes / p.mediaPageBytes);
    const programming = Math.ceil(pages / p.parallelUnits) * p.programLatencyCycles;
    return this.blockEraseCycles(bytes) + Math.max(programming, this.busCycles(bytes));
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
