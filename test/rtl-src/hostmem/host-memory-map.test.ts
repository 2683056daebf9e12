// The virtual host-memory map: every region below 4 GiB (3DW headers only), naturally aligned, none
// overlapping another or the BAR window, and the decode the RTL and the tests share gives each
// address its region.
import { describe, expect, it } from "vitest";
import { BAR_WINDOW, HostMemoryMap, type HostMemoryRegion, MAX_WINDOW_SSDS, barWindowFor, regionOf } from "../../../rtl-src/hostmem/host-memory-map.ts";

const regions = Object.entries(HostMemoryMap) as [keyof typeof HostMemoryMap, HostMemoryRegion][];

describe("host-memory map", () => {
  it("lies below 4 GiB, naturally aligned, with no two regions (or the BAR window) overlapping", () => {
    const all = [...regions.map(([, r]) => r), barWindowFor(MAX_WINDOW_SSDS)];
    for (const r of all) {
      expect(r.base + r.bytes, r.what).toBeLessThanOrEqual(2 ** 32);
      expect(r.base % r.bytes, r.what).toBe(0);
      expect(r.bytes & (r.bytes - 1), r.what).toBe(0);
    }
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        const [a, b] = [all[i], all[j]];
        expect(a.base + a.bytes <= b.base || b.base + b.bytes <= a.base, `${a.what} / ${b.what}`).toBe(true);
      }
    }
  });

  it("sizes the window behind a switch at a MiB per SSD (a power of two), at the BAR window's base, and refuses other counts", () => {
    expect([1, 2, 3, 4].map((n) => [barWindowFor(n).base, barWindowFor(n).bytes])).toEqual([
      [BAR_WINDOW.base, 1 << 20],
      [BAR_WINDOW.base, 2 << 20],
      [BAR_WINDOW.base, 4 << 20],
      [BAR_WINDOW.base, 4 << 20],
    ]);
    expect(() => barWindowFor(0)).toThrow(/ssds 0/);
    expect(() => barWindowFor(5)).toThrow(/ssds 5/);
  });

  it("decodes the first and last byte of each region to it, and the bytes just outside to something else", () => {
    for (const [name, r] of regions) {
      expect(regionOf(r.base)).toBe(name);
      expect(regionOf(r.base + r.bytes - 1)).toBe(name);
      expect(regionOf(r.base - 1)).not.toBe(name);
      expect(regionOf(r.base + r.bytes)).not.toBe(name);
    }
    expect(regionOf(BAR_WINDOW.base)).toBeUndefined();
    expect(regionOf(0)).toBeUndefined();
  });

  it("gives the queues room for the largest queues the controller creates", () => {
    expect(HostMemoryMap.adminSq.bytes / 64).toBeGreaterThanOrEqual(32);
    expect(HostMemoryMap.adminCq.bytes / 16).toBeGreaterThanOrEqual(32);
    expect(HostMemoryMap.ioSq.bytes / 64).toBeGreaterThanOrEqual(1024);
    expect(HostMemoryMap.ioCq.bytes / 16).toBeGreaterThanOrEqual(1024);
  });
});
