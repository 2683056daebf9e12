// The block-RAM FIFO: order kept under random push/pull, first word falls through, full rate,
// capacity depth + 1, any depth, a count that matches, and block RAM in synthesis.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { syncFifo } from "../../../rtl-src/lib/sync-fifo.ts";
import { runTestbench } from "../../../tools/icarus.ts";
import { synthesize } from "../../../tools/synth.ts";
import { icarusAvailable } from "../../../sim/testbench/run-module.ts";
import { pattern, randomWord, seededRandom } from "../../../sim/testbench/streams.ts";

function run(width: number, depth: number, words: bigint[], validPattern: boolean[], readyPattern: boolean[], cycles: number) {
  const { files } = emitDesign(syncFifo({ width, depth }));
  return runTestbench({
    files,
    top: `sync_fifo_w${width}_d${depth}`,
    cycles,
    sources: [{ prefix: "in", fields: [{ name: "data", width }], beats: words.map((w) => [w]), validPattern }],
    sinks: [{ prefix: "out", fields: [{ name: "data", width }], readyPattern }],
    outputs: [{ name: "count", width: Math.ceil(Math.log2(depth + 2)) }],
  });
}

const sim = it.skipIf(!icarusAvailable());

describe("sync_fifo", () => {
  const random = seededRandom(3);
  const words = Array.from({ length: 400 }, () => randomWord(random, 64));

  sim("keeps order under random push and pull patterns (power-of-two and other depths)", () => {
    for (const depth of [16, 6]) {
      const result = run(64, depth, words, pattern(random, 29, 0.7), pattern(random, 31, 0.4), 1600);
      expect(result.received.out).toEqual(words.map((w) => [w]));
    }
  });

  sim("sustains one word per cycle and shows the first word one cycle after the RAM has it", () => {
    const result = run(64, 16, words, [true], [true], words.length + 3);
    expect(result.received.out).toHaveLength(words.length);
  });

  sim("holds depth + 1 words when nobody reads, and counts them", () => {
    const result = run(16, 8, words.slice(0, 20).map((w) => w & 0xffffn), [true], [false], 30);
    expect(result.sent.in).toBe(9);
    expect(result.samples.at(-1)).toEqual([9n]);
    expect(result.samples.map((s) => s[0]).slice(0, 4)).toEqual([0n, 1n, 2n, 3n]);
  });

  it("maps 512 x 64 bits of storage to block RAM, not to LUTs or flip-flops", async () => {
    const { files } = emitDesign(syncFifo({ width: 64, depth: 512 }));
    const report = await synthesize(files, "sync_fifo_w64_d512");
    expect(report.blockRam36).toBeGreaterThanOrEqual(1);
    expect(Object.keys(report.cells).filter((c) => /^RAM(32|64|128|256)/.test(c))).toEqual([]);
    expect(report.flipFlops).toBeLessThan(100);
  });
});
