import { describe, expect, it } from "vitest";
import { HostMemoryAllocator } from "../../../sim/host/host-memory-allocator.ts";

const window = { start: 0x100_0000n, end: 0x110_0000n };

describe("HostMemoryAllocator", () => {
  it("hands out aligned, non-overlapping regions", () => {
    const a = new HostMemoryAllocator(window);
    const x = a.alloc(100, 64);
    const y = a.alloc(4096, 4096);
    const z = a.alloc(8, 8);
    expect(x % 64n).toBe(0n);
    expect(y % 4096n).toBe(0n);
    expect(y).toBeGreaterThanOrEqual(x + 100n);
    expect(z >= x + 100n && (z + 8n <= y || z >= y + 4096n)).toBe(true);
  });

  it("reuses released space and merges neighbours back into one extent", () => {
    const a = new HostMemoryAllocator(window);
    const first = a.alloc(0x8_0000);
    const second = a.alloc(0x8_0000);
    expect(() => a.alloc(4096)).toThrow(/exhausted/);
    a.release(first);
    a.release(second);
    expect(a.alloc(0x10_0000)).toBe(window.start);
    expect(a.liveRegions).toBe(1);
  });

  it("rejects bad sizes, alignments and releases of unknown addresses", () => {
    const a = new HostMemoryAllocator(window);
    expect(() => a.alloc(0)).toThrow(/positive/);
    expect(() => a.alloc(16, 24)).toThrow(/power of two/);
    expect(() => a.release(0x100_0040n)).toThrow(/not an allocated region/);
    expect(() => new HostMemoryAllocator({ start: 10n, end: 10n })).toThrow(/empty/);
  });
});
