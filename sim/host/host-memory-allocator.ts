// Hands out aligned regions of the transport's host-memory window to the driver (queues, PRP lists,
// data buffers, Identify pages). First fit over a sorted free list; freeing merges neighbours so a
// long conformance run on one QEMU instance does not fragment RAM.

interface Extent {
  start: bigint;
  end: bigint;
}

export class HostMemoryAllocator {
  private free: Extent[];
  private readonly live = new Map<bigint, bigint>();

  constructor(private readonly window: { start: bigint; end: bigint }) {
    if (window.end <= window.start) throw new Error(`host memory window 0x${window.start.toString(16)}..0x${window.end.toString(16)} is empty`);
    this.free = [{ ...window }];
  }

  /** Reserve `bytes` at an address that is a multiple of `align` (a power of two). */
  alloc(bytes: number, align = 4096): bigint {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`host memory allocation of ${bytes} bytes: size must be a positive integer`);
    if (!Number.isSafeInteger(align) || align <= 0 || (align & (align - 1)) !== 0) throw new Error(`host memory alignment ${align} is not a power of two`);
    const size = BigInt(bytes);
    const a = BigInt(align);
    for (let i = 0; i < this.free.length; i++) {
      const extent = this.free[i];
      const start = ((extent.start + a - 1n) / a) * a;
      if (start + size > extent.end) continue;
      const pieces: Extent[] = [];
      if (start > extent.start) pieces.push({ start: extent.start, end: start });
      if (start + size < extent.end) pieces.push({ start: start + size, end: extent.end });
      this.free.splice(i, 1, ...pieces);
      this.live.set(start, size);
      return start;
    }
    throw new Error(`host memory exhausted: no ${bytes}-byte region aligned to ${align} in 0x${this.window.start.toString(16)}..0x${this.window.end.toString(16)} (${this.live.size} regions live)`);
  }

  release(address: bigint): void {
    const size = this.live.get(address);
    if (size === undefined) throw new Error(`host memory release of 0x${address.toString(16)}: not an allocated region`);
    this.live.delete(address);
    const freed = { start: address, end: address + size };
    let i = this.free.findIndex((e) => e.start > address);
    if (i < 0) i = this.free.length;
    this.free.splice(i, 0, freed);
    const next = this.free[i + 1];
    if (next && next.start === freed.end) {
      freed.end = next.end;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.end === freed.start) {
      prev.end = freed.end;
      this.free.splice(i, 1);
    }
  }

  get liveRegions(): number {
    return this.live.size;
  }
}
