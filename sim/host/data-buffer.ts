// A data buffer in host memory laid out the way a test wants the PRPs to look: starting at any DW
// offset inside its first page, over pages that are either contiguous or scattered (each page on its
// own, in descending address order, with a gap after it) so a device that assumes contiguity fails.

import type { HostMemoryAllocator } from "./host-memory-allocator.ts";
import { type PagedBuffer, pagesSpanned } from "./prp.ts";
import type { NvmeTransport } from "./transport.ts";

export interface BufferShape {
  /** Byte offset of the data inside the first page (a multiple of 4). */
  offset?: number;
  scattered?: boolean;
}

export class DataBuffer implements PagedBuffer {
  private constructor(
    readonly pageSize: number,
    readonly pages: bigint[],
    readonly offset: number,
    readonly length: number,
    private readonly allocations: bigint[],
  ) {}

  static allocate(allocator: HostMemoryAllocator, pageSize: number, length: number, shape: BufferShape = {}): DataBuffer {
    const offset = shape.offset ?? 0;
    if (offset < 0 || offset >= pageSize || offset % 4 !== 0) throw new Error(`data buffer offset ${offset} must be DW aligned inside a ${pageSize}-byte page`);
    const count = pagesSpanned(pageSize, offset, length);
    if (!shape.scattered) {
      const base = allocator.alloc(count * pageSize, pageSize);
      const pages = Array.from({ length: count }, (_, i) => base + BigInt(i * pageSize));
      return new DataBuffer(pageSize, pages, offset, length, [base]);
    }
    const allocations = Array.from({ length: count }, () => allocator.alloc(2 * pageSize, pageSize));
    return new DataBuffer(pageSize, [...allocations].reverse(), offset, length, allocations);
  }

  async write(t: NvmeTransport, data: Uint8Array): Promise<void> {
    if (data.length !== this.length) throw new Error(`data buffer holds ${this.length} bytes, asked to write ${data.length}`);
    for (const piece of this.pieces()) await t.writeMemory(piece.address, data.subarray(piece.start, piece.start + piece.length));
  }

  async read(t: NvmeTransport): Promise<Uint8Array> {
    const out = new Uint8Array(this.length);
    for (const piece of this.pieces()) out.set(await t.readMemory(piece.address, piece.length), piece.start);
    return out;
  }

  release(allocator: HostMemoryAllocator): void {
    for (const a of this.allocations) allocator.release(a);
  }

  /** Per page: where its bytes sit in host memory and in the buffer. */
  private *pieces(): Generator<{ address: bigint; start: number; length: number }> {
    let start = 0;
    for (let i = 0; i < this.pages.length; i++) {
      const inPage = i === 0 ? this.offset : 0;
      const length = Math.min(this.pageSize - inPage, this.length - start);
      yield { address: this.pages[i] + BigInt(inPage), start, length };
      start += length;
    }
  }
}
