// One namespace's sparse block store. Memory is spent only on blocks written with data. A write first
// lands in a volatile layer (visible to reads at once) and becomes durable when the timing model says its
// program finished; durability is applied in submission order so an older write never overwrites a newer
// one. A power failure decides the fate of every write not yet durable: a write of at most the atomic
// unit (AWUPF/NAWUPF + 1 blocks) that crosses no atomic boundary (NABSPF/NABO) survives entirely or
// not at all; a larger one, or one across a boundary, is torn (NVMe 1.4 §6.4.2: no guarantee).
// The indirection-unit counters measure how much the media must rewrite for what the host wrote.
// After a sanitize that leaves the blocks allocated (No-Deallocate After Sanitize), every block the
// host has not written or deallocated since reads as the sanitize left it: the background.

export interface MediaWrite {
  readonly id: number;
  readonly slba: number;
  readonly nlb: number;
  /** Block data, or null for zeroes / deallocation. */
  readonly data: Uint8Array | null;
  programmed: boolean;
}

export type PowerFailOutcome = "applied" | "lost" | "torn";

export interface PowerFailRecord {
  slba: number;
  nlb: number;
  /** The write was within the atomic unit and crossed no atomic boundary. */
  atomic: boolean;
  outcome: PowerFailOutcome;
  /** Leading blocks that reached the media (all for "applied", none for "lost"). */
  blocksApplied: number;
}

export interface WriteAmplification {
  /** Bytes the host asked to write (Write commands). */
  hostBytes: number;
  /** Bytes the media rewrites: every indirection unit a write touches, in full. */
  mediaBytes: number;
  /** Writes that touched at least one indirection unit only partly (read-modify-write). */
  unalignedWrites: number;
  /** Indirection units rewritten only partly. */
  partialUnits: number;
}

/** An atomic boundary for power fail: boundaries at LBAs offset + k x blocks (k >= 0). */
export interface AtomicBoundary {
  blocks: number;
  offset: number;
}

/** A write of blocks slba..slba+nlb-1 crosses a boundary: its first and last blocks lie on either side of one. */
export function crossesAtomicBoundary(slba: number, nlb: number, boundary: AtomicBoundary | undefined): boolean {
  if (!boundary || nlb < 2) return false;
  // LBAs below the first boundary fall in "period -1".
  const period = (lba: number) => Math.floor((lba - boundary.offset) / boundary.blocks);
  return period(slba) !== period(slba + nlb - 1);
}

/** What an allocated block the host never wrote reads as, by LBA (one shared block is fine: reads copy). */
export type BackgroundBlock = (lba: number) => Uint8Array;

export class NamespaceMedia {
  private readonly durable = new Map<number, Uint8Array>();
  private background: BackgroundBlock | undefined;
  /** Ranges deallocated since the background was set: they read as deallocated, not as the background. */
  private deallocatedOverBackground: { slba: number; nlb: number }[] = [];
  private readonly volatile = new Map<number, { write: MediaWrite; block: Uint8Array }>();
  /** Zeroing/deallocation writes not yet durable; they shadow older volatile and durable blocks. */
  private zeroing: MediaWrite[] = [];
  private queue: MediaWrite[] = [];
  private nextId = 1;
  readonly amplification: WriteAmplification = { hostBytes: 0, mediaBytes: 0, unalignedWrites: 0, partialUnits: 0 };
  blocksRead = 0;
  blocksWritten = 0;

  constructor(
    readonly lbaSize: number,
    readonly capacityBlocks: number,
    readonly indirectionUnitBytes: number,
  ) {}

  /**
   * Every block of a fresh namespace reads as `background` until written or deallocated (a sanitize
   * with No-Deallocate After Sanitize: erased media, the overwrite pattern, or data under a new key).
   */
  setBackground(background: BackgroundBlock): void {
    if (this.storedBlocks > 0 || this.queue.length > 0) throw new Error("NamespaceMedia.setBackground: only a fresh namespace takes a background");
    this.background = background;
  }

  /** Blocks holding data in either layer (an upper bound when the layers overlap). */
  get storedBlocks(): number {
    return this.durable.size + this.volatile.size;
  }

  read(slba: number, nlb: number): Uint8Array {
    const out = new Uint8Array(nlb * this.lbaSize);
    for (let i = 0; i < nlb; i++) {
      const block = this.visible(slba + i);
      if (block) out.set(block, i * this.lbaSize);
    }
    this.blocksRead += nlb;
    return out;
  }

  /** Accept a write (data) or a zeroing (null); it is visible at once and durable after `persist`. */
  stage(slba: number, nlb: number, data: Uint8Array | null, countsAsHostWrite: boolean): MediaWrite {
    const write: MediaWrite = { id: this.nextId++, slba, nlb, data, programmed: false };
    if (data) {
      for (let i = 0; i < nlb; i++) this.volatile.set(slba + i, { write, block: data.subarray(i * this.lbaSize, (i + 1) * this.lbaSize) });
      this.blocksWritten += nlb;
    } else {
      this.zeroing.push(write);
    }
    this.queue.push(write);
    if (countsAsHostWrite) this.countAmplification(slba, nlb);
    return write;
  }

  /** The write's program finished; it and every earlier finished write become durable, in order. */
  persist(write: MediaWrite): void {
    write.programmed = true;
    while (this.queue.length > 0 && this.queue[0].programmed) this.makeDurable(this.queue.shift()!);
  }

  /** Writes staged but not yet durable. */
  get unpersisted(): readonly MediaWrite[] {
    return this.queue;
  }

  /**
   * Power is lost: every write not yet durable is applied, lost or torn. A write whose program finished
   * is applied; a data write of at most `atomicBlocks` blocks that crosses no `boundary` is applied or
   * lost as a whole; any other is torn (a leading part reaches the media). Zeroing is journaled
   * metadata and always applied. `random` returns numbers in [0, 1).
   */
  powerFail(atomicBlocks: number, random: () => number, boundary?: AtomicBoundary): PowerFailRecord[] {
    const records: PowerFailRecord[] = [];
    for (const write of this.queue) {
      let applied = write.nlb;
      let outcome: PowerFailOutcome = "applied";
      const atomic = write.nlb <= atomicBlocks && !crossesAtomicBoundary(write.slba, write.nlb, boundary);
      if (!write.programmed && write.data) {
        if (atomic) {
          if (random() < 0.5) {
            applied = 0;
            outcome = "lost";
          }
        } else {
          applied = 1 + Math.floor(random() * (write.nlb - 1));
          outcome = "torn";
        }
      }
      this.applyDurably(write, applied);
      records.push({ slba: write.slba, nlb: write.nlb, atomic, outcome, blocksApplied: applied });
    }
    this.queue = [];
    this.zeroing = [];
    this.volatile.clear();
    return records;
  }

  private visible(lba: number): Uint8Array | undefined {
    const pending = this.volatile.get(lba);
    let zeroId = 0;
    for (const z of this.zeroing) if (lba >= z.slba && lba < z.slba + z.nlb && z.id > zeroId) zeroId = z.id;
    if (pending && pending.write.id > zeroId) return pending.block;
    if (zeroId > 0) return undefined;
    const durable = this.durable.get(lba);
    if (durable || !this.background) return durable;
    if (this.deallocatedOverBackground.some((r) => lba >= r.slba && lba < r.slba + r.nlb)) return undefined;
    return this.background(lba);
  }

  private makeDurable(write: MediaWrite): void {
    this.applyDurably(write, write.nlb);
    if (write.data) {
      for (let i = 0; i < write.nlb; i++) {
        const lba = write.slba + i;
        if (this.volatile.get(lba)?.write === write) this.volatile.delete(lba);
      }
      return;
    }
    this.zeroing = this.zeroing.filter((z) => z !== write);
    for (const lba of keysInRange(this.volatile, write.slba, write.nlb)) {
      if (this.volatile.get(lba)!.write.id < write.id) this.volatile.delete(lba);
    }
  }

  private applyDurably(write: MediaWrite, blocks: number): void {
    if (!write.data) {
      for (const lba of keysInRange(this.durable, write.slba, blocks)) this.durable.delete(lba);
      if (this.background && blocks > 0) this.deallocatedOverBackground.push({ slba: write.slba, nlb: blocks });
      return;
    }
    for (let i = 0; i < blocks; i++) this.durable.set(write.slba + i, write.data.slice(i * this.lbaSize, (i + 1) * this.lbaSize));
  }

  private countAmplification(slba: number, nlb: number): void {
    const iu = this.indirectionUnitBytes;
    const start = slba * this.lbaSize;
    const end = start + nlb * this.lbaSize;
    const firstUnit = Math.floor(start / iu);
    const lastUnit = Math.floor((end - 1) / iu);
    const units = lastUnit - firstUnit + 1;
    let partial = 0;
    if (start % iu !== 0) partial++;
    if (end % iu !== 0 && (lastUnit !== firstUnit || start % iu === 0)) partial++;
    const a = this.amplification;
    a.hostBytes += end - start;
    a.mediaBytes += units * iu;
    a.partialUnits += partial;
    if (partial > 0) a.unalignedWrites++;
  }
}

/** Keys of `map` in [slba, slba + nlb), visiting whichever is smaller: the range or the map. */
function keysInRange(map: Map<number, unknown>, slba: number, nlb: number): number[] {
  if (nlb <= map.size) {
    const keys: number[] = [];
    for (let lba = slba; lba < slba + nlb; lba++) if (map.has(lba)) keys.push(lba);
    return keys;
  }
  return [...map.keys()].filter((lba) => lba >= slba && lba < slba + nlb);
}
