// Byte-addressed memory over a 64-bit space, allocated in 4 KiB pages on first write; unwritten bytes read
// as a fixed fill value so a test can tell them apart from data it wrote.

const PAGE_BYTES = 4096;

export class SparseMemory {
  private readonly pages = new Map<bigint, Uint8Array>();

  constructor(private readonly unwrittenByte = 0) {}

  read(address: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = address + BigInt(done);
      const offset = Number(at & BigInt(PAGE_BYTES - 1));
      const chunk = Math.min(length - done, PAGE_BYTES - offset);
      const page = this.pages.get(at >> 12n);
      if (page) out.set(page.subarray(offset, offset + chunk), done);
      else out.fill(this.unwrittenByte, done, done + chunk);
      done += chunk;
    }
    return out;
  }

  /** Write `data`; where `enabled` is given, only bytes whose flag is true are stored. */
  write(address: bigint, data: Uint8Array, enabled?: (index: number) => boolean): void {
    for (let done = 0; done < data.length; ) {
      const at = address + BigInt(done);
      const offset = Number(at & BigInt(PAGE_BYTES - 1));
      const chunk = Math.min(data.length - done, PAGE_BYTES - offset);
      const page = this.page(at >> 12n);
      if (enabled === undefined) {
        page.set(data.subarray(done, done + chunk), offset);
      } else {
        for (let i = 0; i < chunk; i++) if (enabled(done + i)) page[offset + i] = data[done + i];
      }
      done += chunk;
    }
  }

  private page(number: bigint): Uint8Array {
    let page = this.pages.get(number);
    if (!page) {
      page = new Uint8Array(PAGE_BYTES).fill(this.unwrittenByte);
      this.pages.set(number, page);
    }
    return page;
  }
}
