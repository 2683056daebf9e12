import { describe, expect, it } from "vitest";
import type { PrpResult } from "../../../sim/nvme/prp.ts";
import { walkPrps } from "../../../sim/nvme/prp.ts";
import { HostMemory } from "../../../sim/nvme/host-memory-responder.ts";

const PS = 4096;

/** Walk synchronously against a host memory, recording each list read. */
function walk(memory: HostMemory, prp1: bigint, prp2: bigint, length: number, failAt?: bigint) {
  const reads: { address: bigint; bytes: number }[] = [];
  let result: PrpResult | undefined;
  walkPrps(prp1, prp2, length, PS, (address, bytes, done) => {
    reads.push({ address, bytes });
    done(address === failAt ? undefined : memory.read(address, bytes), "UR");
  }, (r) => (result = r));
  return { result: result!, reads };
}

describe("PRP walker", () => {
  it("uses PRP1 alone when the transfer fits in its page", () => {
    const { result, reads } = walk(new HostMemory(), 0x1200n, 0xdead0000n, 0xe00);
    expect(result).toEqual({ ok: true, segments: [{ address: 0x1200n, length: 0xe00 }] });
    expect(reads).toEqual([]);
  });

  it("reads only the list entries it needs, starting at the list offset", () => {
    const m = new HostMemory();
    [0x5000n, 0x9000n, 0x7000n].forEach((a, i) => m.writeU64(0x20010n + BigInt(8 * i), a));
    const { result, reads } = walk(m, 0x1800n, 0x20010n, 0x800 + 2 * PS + 100);
    expect(reads).toEqual([{ address: 0x20010n, bytes: 24 }]);
    expect(result.ok && result.segments).toEqual([
      { address: 0x1800n, length: 0x800 },
      { address: 0x5000n, length: PS },
      { address: 0x9000n, length: PS },
      { address: 0x7000n, length: 100 },
    ]);
  });

  it("chains from the last slot of a full list page only when more than one page remains", () => {
    const m = new HostMemory();
    const list = 0x40000n;
    for (let i = 0; i < 511; i++) m.writeU64(list + BigInt(8 * i), 0x100000n + BigInt(i) * 0x1000n);
    m.writeU64(list + 511n * 8n, 0x50000n); // chain
    m.writeU64(0x50000n, 0x900000n);
    m.writeU64(0x50008n, 0x901000n);
    const { result, reads } = walk(m, 0x0n, list, PS * (1 + 511 + 2));
    expect(reads).toEqual([{ address: list, bytes: 4096 }, { address: 0x50000n, bytes: 16 }]);
    expect(result.ok && result.segments.length).toBe(514);
    expect(result.ok && result.segments.at(-1)).toEqual({ address: 0x901000n, length: PS });
    // Exactly 512 remaining pages fit the list page without a chain pointer.
    m.writeU64(list + 511n * 8n, 0x200000n);
    const exact = walk(m, 0x0n, list, PS * 513);
    expect(exact.reads.length).toBe(1);
    expect(exact.result.ok && exact.result.segments.at(-1)).toEqual({ address: 0x200000n, length: PS });
  });

  it("fails a misaligned chain pointer with PRP Offset Invalid and a failed list read with Data Transfer Error", () => {
    const m = new HostMemory();
    m.writeU64(0x40ff8n, 0x50008n); // one slot left: it is the chain pointer, misaligned
    const bad = walk(m, 0x0n, 0x40ff8n, PS * 3);
    expect(!bad.result.ok && bad.result.status.sc).toBe(0x13);
    const failed = walk(m, 0x0n, 0x60000n, PS * 3, 0x60000n);
    expect(!failed.result.ok && failed.result.status.sc).toBe(0x04);
    expect(!failed.result.ok && failed.result.reason).toMatch(/UR/);
  });
});
