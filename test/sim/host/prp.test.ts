import { describe, expect, it } from "vitest";
import { encodePrpList, pagesSpanned, planPrps } from "../../../sim/host/prp.ts";

const PAGE = 4096;
const pagesAt = (n: number, base = 0x10_0000n) => Array.from({ length: n }, (_, i) => base + BigInt(i * 2 * PAGE));

function listAllocator(start = 0x80_0000n) {
  let next = start;
  return () => {
    const page = next;
    next += BigInt(PAGE);
    return page;
  };
}

describe("planPrps", () => {
  it("uses PRP1 only, with its offset, for a transfer inside one page", () => {
    expect(planPrps({ pageSize: PAGE, pages: pagesAt(1), offset: 0x200, length: 0xe00 }, listAllocator())).toEqual({ prp1: 0x10_0200n, prp2: 0n, lists: [] });
  });

  it("points PRP2 at the second page when the transfer spans exactly two", () => {
    const pages = pagesAt(2);
    expect(planPrps({ pageSize: PAGE, pages, offset: 0x800, length: PAGE }, listAllocator())).toEqual({ prp1: pages[0] + 0x800n, prp2: pages[1], lists: [] });
  });

  it("builds one list holding pages 2..P when they fit", () => {
    const pages = pagesAt(5);
    const plan = planPrps({ pageSize: PAGE, pages, offset: 0, length: 5 * PAGE }, listAllocator());
    expect(plan.prp2).toBe(0x80_0000n);
    expect(plan.lists).toEqual([{ address: 0x80_0000n, entries: pages.slice(1) }]);
  });

  it("chains through the last entry when a list entered at an offset runs out of page", () => {
    const pages = pagesAt(6);
    const plan = planPrps({ pageSize: PAGE, pages, offset: 0, length: 6 * PAGE }, listAllocator(), { firstListOffset: PAGE - 16 });
    expect(plan.prp2).toBe(0x80_0000n + BigInt(PAGE - 16));
    expect(plan.lists).toEqual([
      { address: 0x80_0000n + BigInt(PAGE - 16), entries: [pages[1], 0x80_1000n] },
      { address: 0x80_1000n, entries: pages.slice(2) },
    ]);
  });

  it("chains full list pages after 511 entries", () => {
    const pages = pagesAt(600);
    const plan = planPrps({ pageSize: PAGE, pages, offset: 0, length: 600 * PAGE }, listAllocator());
    expect(plan.lists.map((l) => l.entries.length)).toEqual([512, 88]);
    expect(plan.lists[0].entries[511]).toBe(plan.lists[1].address);
    expect(plan.lists[0].entries[510]).toBe(pages[511]);
  });

  it("rejects a page count that does not match the transfer, misaligned pages and bad offsets", () => {
    expect(() => planPrps({ pageSize: PAGE, pages: pagesAt(1), offset: 8, length: PAGE }, listAllocator())).toThrow(/spans 2 pages but 1/);
    expect(() => planPrps({ pageSize: PAGE, pages: [0x1000_0200n], offset: 0, length: 512 }, listAllocator())).toThrow(/not 4096-byte aligned/);
    expect(() => planPrps({ pageSize: PAGE, pages: pagesAt(1), offset: 2, length: 512 }, listAllocator())).toThrow(/DW aligned/);
    expect(() => planPrps({ pageSize: PAGE, pages: pagesAt(3), offset: 0, length: 3 * PAGE }, listAllocator(), { firstListOffset: 4 })).toThrow(/QW aligned/);
  });
});

describe("PRP helpers", () => {
  it("counts spanned pages from the offset", () => {
    expect(pagesSpanned(PAGE, 0, PAGE)).toBe(1);
    expect(pagesSpanned(PAGE, 4, PAGE)).toBe(2);
    expect(pagesSpanned(PAGE, 0xffc, 8)).toBe(2);
  });

  it("encodes list entries as little-endian 64-bit words", () => {
    expect(Array.from(encodePrpList([0x1_2345_6000n]))).toEqual([0x00, 0x60, 0x45, 0x23, 0x01, 0, 0, 0]);
  });
});
