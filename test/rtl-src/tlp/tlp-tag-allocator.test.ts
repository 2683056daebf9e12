// The tag allocator with its completion timeout, as emitted Verilog: every tag handed out once,
// freed by the final completion only (in any order), by a timeout otherwise, never handed out twice,
// and the outstanding count, the expiry pulses and the sticky status outputs that go with it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { AGE_LIMIT, tickPeriod } from "../../../rtl-src/tlp/tlp-completion-timeout.ts";
import { tlpTagAllocator } from "../../../rtl-src/tlp/tlp-tag-allocator.ts";
import { type EngineName, type SignalHandle, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const TAGS = 8;
const NEVER = 1_000_000;

interface CompletionSeen {
  tag: number;
  status?: number;
  hasData?: boolean;
  byteCount: number;
  lowerAddress: number;
  lengthDw: number;
}

/** Drives the allocator one cycle at a time and remembers what came out. */
class AllocatorBench {
  private readonly h: Record<string, SignalHandle> = {};
  expired: { tag: number; cycle: number }[] = [];

  constructor(readonly sim: Simulator) {
    for (const s of sim.signals) if (s.direction !== "internal") this.h[s.name] = sim.signal(s.name);
    sim.reset(2);
    sim.step(); // the first offer is registered one cycle after reset
  }

  out(name: string): number {
    return this.sim.peek(this.h[name]);
  }

  /** One clock edge: take the offered tag if `take`, show `completion` if given. Returns the tag taken. */
  cycle(take: boolean, completion?: CompletionSeen): number | undefined {
    const { sim, h } = this;
    sim.poke(h.allocate_ready, take ? 1 : 0);
    sim.poke(h.completion_valid, completion ? 1 : 0);
    if (completion) {
      sim.poke(h.completion_tag, completion.tag);
      sim.poke(h.completion_status, completion.status ?? 0);
      sim.poke(h.completion_has_data, completion.hasData === false ? 0 : 1);
      sim.poke(h.completion_byte_count, completion.byteCount & 0xfff);
      sim.poke(h.completion_lower_address, completion.lowerAddress);
      sim.poke(h.completion_length_dw, completion.lengthDw & 0x3ff);
    }
    const taken = take && this.out("allocate_valid") ? this.out("allocate_tag") : undefined;
    if (this.out("expired_valid")) this.expired.push({ tag: this.out("expired_tag"), cycle: sim.cycle });
    sim.step();
    return taken;
  }

  idle(cycles: number): void {
    for (let i = 0; i < cycles; i++) this.cycle(false);
  }
}

async function bench(tags: number, completionTimeoutCycles: number, engine: EngineName = "js"): Promise<AllocatorBench> {
  const module = tlpTagAllocator({ tags, completionTimeoutCycles });
  const { files } = emitDesign(module);
  const sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine }));
  return new AllocatorBench(sim);
}

/** The final CplD of a 64-byte read at a DW-aligned address: byte count equals its bytes. */
const finalCpl = (tag: number): CompletionSeen => ({ tag, byteCount: 64, lowerAddress: 0, lengthDw: 16 });

describe("tlp_tag_allocator without timeouts", () => {
  let b: AllocatorBench;
  beforeAll(async () => (b = await bench(TAGS, NEVER)));
  afterAll(() => b?.sim.close());

  it("hands out every tag once, one per cycle, then offers none", () => {
    const taken = Array.from({ length: TAGS }, () => b.cycle(true));
    expect(new Set(taken).size).toBe(TAGS);
    expect(taken.every((t) => t !== undefined && t < TAGS)).toBe(true);
    expect(b.out("allocate_valid")).toBe(0);
    expect(b.out("outstanding")).toBe(TAGS);
    expect(b.cycle(true)).toBeUndefined();
  });

  it("frees tags out of order on their final completion only, and offers them again", () => {
    // Not final: 256 bytes still owed, this CplD carries the 64 up to the RCB boundary.
    b.cycle(false, { tag: 5, byteCount: 256, lowerAddress: 0x40, lengthDw: 16 });
    // Not final either: 3 bytes skipped at the start leave 61 in the payload, 62 still owed.
    b.cycle(false, { tag: 5, byteCount: 62, lowerAddress: 0x43, lengthDw: 16 });
    b.idle(3);
    expect(b.out("outstanding")).toBe(TAGS);
    expect(b.out("allocate_valid")).toBe(0);
    b.cycle(false, { tag: 5, byteCount: 61, lowerAddress: 0x43, lengthDw: 16 });
    b.cycle(false, { tag: 2, byteCount: 1, lowerAddress: 0x07, lengthDw: 1 });
    b.cycle(false, { tag: 6, status: 1, hasData: false, byteCount: 4, lowerAddress: 0, lengthDw: 0 }); // UR ends it too
    b.cycle(false, { tag: 0, byteCount: 0, lowerAddress: 0, lengthDw: 0 }); // 4096 bytes in 1024 DW
    b.idle(3); // a tag is free three cycles after its final completion
    expect(b.out("outstanding")).toBe(TAGS - 4);
    const again = [b.cycle(true), b.cycle(true), b.cycle(true), b.cycle(true), b.cycle(true)];
    expect(again.slice(0, 4).sort()).toEqual([0, 2, 5, 6]);
    expect(again[4]).toBeUndefined();
    expect(b.out("outstanding")).toBe(TAGS);
    expect(b.out("unexpected_completion")).toBe(0);
    expect(b.out("timeout")).toBe(0);
  });

  it("flags a completion for a tag that is not outstanding, and frees nothing for it", () => {
    b.cycle(false, finalCpl(3));
    b.idle(3);
    expect(b.out("unexpected_completion")).toBe(0);
    b.cycle(false, finalCpl(3)); // 3 is free now: unexpected
    b.cycle(false, finalCpl(200)); // beyond the tag range
    b.idle(3);
    expect(b.out("unexpected_completion")).toBe(1);
    expect(b.out("outstanding")).toBe(TAGS - 1);
    expect(b.cycle(true)).toBe(3);
  });
});

describe("tlp_tag_allocator with 32 tags", () => {
  let b: AllocatorBench;
  beforeAll(async () => (b = await bench(32, NEVER)));
  afterAll(() => b?.sim.close());

  it("offers the lowest free tag when the offer is made, one tag per cycle", () => {
    const all = Array.from({ length: 32 }, () => b.cycle(true));
    expect(all).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(b.out("allocate_valid")).toBe(0);
    const freed = [17, 3, 30, 8, 12, 1, 31, 16];
    for (const tag of freed) b.cycle(false, finalCpl(tag));
    b.idle(3);
    // 17 went on offer while it was the only free tag; each later offer is the lowest free then.
    const again = freed.map(() => b.cycle(true));
    expect(again).toEqual([17, 1, 3, 8, 12, 16, 30, 31]);
    expect(b.cycle(true)).toBeUndefined();
    expect(b.out("outstanding")).toBe(32);
  });
});

describe("tlp_tag_allocator completion timeout", () => {
  const timeout = 60;
  const period = tickPeriod(timeout);
  let b: AllocatorBench;
  beforeAll(async () => (b = await bench(TAGS, timeout)));
  afterAll(() => b?.sim.close());

  it("expires unanswered tags within the promised window, frees them and keeps the first in the sticky status", () => {
    const start = new Map<number, number>();
    for (const gap of [0, 3, 10]) {
      b.idle(gap);
      const cycle = b.sim.cycle;
      start.set(b.cycle(true)!, cycle);
    }
    const answered = b.cycle(true)!;
    b.idle(5);
    b.cycle(false, finalCpl(answered));
    b.idle(timeout * 2);
    expect(b.expired.map((e) => e.tag).sort()).toEqual([...start.keys()].sort());
    for (const { tag, cycle } of b.expired) {
      const waited = cycle - start.get(tag)!;
      expect(waited).toBeGreaterThan(timeout);
      // The sweep reaches an expired tag within two rounds (tlp-completion-timeout.ts).
      expect(waited).toBeLessThanOrEqual(AGE_LIMIT * period + 2 * TAGS + 1);
    }
    expect(b.out("outstanding")).toBe(0);
    expect(b.out("timeout")).toBe(1);
    expect(b.out("timeout_tag")).toBe(b.expired[0].tag);
    // A late completion for an expired tag is unexpected.
    b.cycle(false, finalCpl(b.expired[1].tag));
    b.idle(3);
    expect(b.out("unexpected_completion")).toBe(1);
  });
});

/**
 * Random traffic against a model of which tags are out: a tag is never handed out while the model
 * has it out, only outstanding tags expire, and after a pause the count matches the model. Only
 * tags well inside their timeout are answered, so no completion races its tag's expiry.
 */
async function soak(engine: EngineName, seed: number, rounds: number): Promise<void> {
  const timeout = 150;
  const b = await bench(TAGS, timeout, engine);
  try {
    const random = seededRandom(seed);
    const out = new Map<number, number>(); // tag -> cycle it was taken
    let seenExpired = 0;
    for (let round = 0; round < rounds; round++) {
      for (let n = 0; n < 40; n++) {
        const answerable = [...out].filter(([, taken]) => b.sim.cycle - taken < timeout - 8).map(([tag]) => tag);
        const answer = answerable.length > 0 && random() < 0.3 ? answerable[Math.floor(random() * answerable.length)] : undefined;
        const final = random() < 0.6;
        const cpl = answer === undefined ? undefined : final ? finalCpl(answer) : { tag: answer, byteCount: 512, lowerAddress: 0, lengthDw: 16 };
        const cycle = b.sim.cycle;
        const taken = b.cycle(random() < 0.2, cpl);
        if (answer !== undefined && final) out.delete(answer);
        for (; seenExpired < b.expired.length; seenExpired++) {
          const { tag } = b.expired[seenExpired];
          expect(out.has(tag)).toBe(true);
          expect(b.expired[seenExpired].cycle - out.get(tag)!).toBeGreaterThan(timeout);
          out.delete(tag);
        }
        if (taken !== undefined) {
          expect(out.has(taken)).toBe(false);
          out.set(taken, cycle);
        }
      }
      b.idle(3);
      for (; seenExpired < b.expired.length; seenExpired++) out.delete(b.expired[seenExpired].tag);
      expect(b.out("outstanding")).toBe(out.size);
    }
    expect(b.expired.length).toBeGreaterThan(0);
    expect(b.out("unexpected_completion")).toBe(0);
  } finally {
    b.sim.close();
  }
}

describe("tlp_tag_allocator under random traffic", () => {
  it("never hands out an outstanding tag and counts exactly (js engine)", async () => {
    await soak("js", 3, 150);
  });

  it.skipIf(!verilatorAvailable())("does the same on Verilator (skipped when verilator is not installed)", async () => {
    await soak("verilator", 4, 150);
  });
});

describe("tlp_tag_allocator structure", () => {
  it("has no combinational path from an input to an output, for 2 to 256 tags", () => {
    for (const tags of [2, 32, 256]) {
      const { design } = emitDesign(tlpTagAllocator({ tags, completionTimeoutCycles: 12_500_000 }));
      expect([...design.combinationalPaths.get(design.top)!.entries()]).toEqual([]);
    }
  });

  it("refuses a tag count or timeout it cannot build", () => {
    expect(() => tlpTagAllocator({ tags: 24, completionTimeoutCycles: 100 })).toThrow(/tags 24/);
    expect(() => tlpTagAllocator({ tags: 512, completionTimeoutCycles: 100 })).toThrow(/tags 512/);
    expect(() => tlpTagAllocator({ tags: 8, completionTimeoutCycles: 0 })).toThrow(/completionTimeoutCycles 0/);
  });
});
