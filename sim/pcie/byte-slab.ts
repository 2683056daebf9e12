// Hands out small byte arrays as views into large shared buffers. Allocating an ArrayBuffer per TLP costs
// far more than the copy into it; views into a 256 KiB slab cost one small object each. A slab is freed
// by the garbage collector once no view into it is alive.

const SLAB_BYTES = 256 * 1024;

export class ByteSlab {
  private slab = new Uint8Array(SLAB_BYTES);
  private used = 0;

  /** A zero-filled array of `length` bytes. */
  alloc(length: number): Uint8Array {
    if (length > SLAB_BYTES / 4) return new Uint8Array(length);
    if (this.used + length > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + length);
    this.used += (length + 7) & ~7;
    return view;
  }

  /** A copy of `source[0, length)`. */
  copy(source: Uint8Array, length: number): Uint8Array {
    const view = this.alloc(length);
    view.set(source.subarray(0, length));
    return view;
  }
}
