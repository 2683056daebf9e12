// Physical Region Page entries for a transfer of any shape (NVMe 1.4 §4.3): PRP1 with its in-page
// offset, PRP2 as the second page or as a pointer to a PRP list, and lists that chain through their
// last entry when a list page (possibly entered at an offset) runs out.

export interface PagedBuffer {
  pageSize: number;
  /** Page-aligned addresses of the pages the transfer touches, in transfer order. */
  pages: bigint[];
  /** Byte offset of the first byte inside pages[0]; a multiple of 4. */
  offset: number;
  length: number;
}

export interface PrpListPage {
  /** Where these entries go: a page address plus the starting offset inside it. */
  address: bigint;
  entries: bigint[];
}

export interface PrpPlan {
  prp1: bigint;
  prp2: bigint;
  /** List pages to write to host memory before submitting, in chain order. */
  lists: PrpListPage[];
}

export interface PrpListOptions {
  /** Byte offset inside the first list page where the list starts (QW aligned); the spec lets it end at that page's end. */
  firstListOffset?: number;
}

export function pagesSpanned(pageSize: number, offset: number, length: number): number {
  return Math.ceil((offset + length) / pageSize);
}

/** Plan PRP1/PRP2 and any list pages; `allocListPage` returns a fresh page-aligned address. */
export function planPrps(buffer: PagedBuffer, allocListPage: () => bigint, options: PrpListOptions = {}): PrpPlan {
  const { pageSize, pages, offset, length } = buffer;
  if (length <= 0) throw new Error(`PRP plan: transfer length ${length} must be positive`);
  if (offset < 0 || offset >= pageSize || offset % 4 !== 0) throw new Error(`PRP plan: offset ${offset} must be DW aligned inside a ${pageSize}-byte page`);
  const needed = pagesSpanned(pageSize, offset, length);
  if (pages.length !== needed) throw new Error(`PRP plan: transfer of ${length} bytes at offset ${offset} spans ${needed} pages but ${pages.length} were given`);
  const unaligned = pages.find((p) => p % BigInt(pageSize) !== 0n);
  if (unaligned !== undefined) throw new Error(`PRP plan: page 0x${unaligned.toString(16)} is not ${pageSize}-byte aligned`);

  const prp1 = pages[0] + BigInt(offset);
  if (needed === 1) return { prp1, prp2: 0n, lists: [] };
  if (needed === 2) return { prp1, prp2: pages[1], lists: [] };

  const listOffset = options.firstListOffset ?? 0;
  if (listOffset < 0 || listOffset >= pageSize || listOffset % 8 !== 0) throw new Error(`PRP plan: list offset ${listOffset} must be QW aligned inside the page`);
  const lists: PrpListPage[] = [];
  let remaining = pages.slice(1);
  let address = allocListPage() + BigInt(listOffset);
  const prp2 = address;
  while (remaining.length > 0) {
    const capacity = (pageSize - Number(address % BigInt(pageSize))) / 8;
    if (remaining.length <= capacity) {
      lists.push({ address, entries: remaining });
      break;
    }
    const next = allocListPage();
    lists.push({ address, entries: [...remaining.slice(0, capacity - 1), next] });
    remaining = remaining.slice(capacity - 1);
    address = next;
  }
  return { prp1, prp2, lists };
}

export function encodePrpList(entries: bigint[]): Uint8Array {
  const out = new Uint8Array(entries.length * 8);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => view.setBigUint64(i * 8, e, true));
  return out;
}
