// Exhaustive check of how the completer cuts reads: every length 1..4096 bytes at every start
// alignment mod 64 (so every first/last byte-enable pattern) that stays inside a 4 KiB page, for
// RCB 64 with MPS 128 and 256, streamed back to back through one simulation; every CplD header
// and payload request is compared with the reference splitter. Payloads are checked by
// test/rtl-src/tlp/tlp-completer.test.ts. Runs on Verilator (the faster engine here) when it is installed.
import { describe, expect, it } from "vitest";
import { type EngineName, verilatorAvailable } from "../../../sim/engine/index.ts";
import { CompleterDriver, type ReadRequest, buildCompleterSimulator, readOfBytes } from "../../../sim/testbench/tlp-completer-harness.ts";
import type { CompleterSplitParams } from "../../../rtl-src/tlp/tlp-completer-splitter.ts";

const engine: EngineName = verilatorAvailable() ? "verilator" : "js";
// The js engine is several times slower: it takes every 5th length (still every alignment, and
// every first/last byte-enable pattern, since 5 is odd) to stay inside the time limit.
const exhaustiveStep = engine === "verilator" ? 1 : 5;

/** How many reads `everyRead(step)` yields. */
function readCount(step: number): number {
  let n = 0;
  for (let offset = 0; offset < 64; offset++) n += Math.ceil((4096 - offset) / step);
  return n;
}

/** Every length at every alignment mod 64, each in its own page, with IDs that change from read to read. */
function* everyRead(lengthStep = 1): Generator<ReadRequest> {
  let index = 0;
  for (let offset = 0; offset < 64; offset++) {
    for (let bytes = 1; offset + bytes <= 4096; bytes += lengthStep) {
      const page = BigInt(index % 3 === 0 ? 0x1_0000_0000 + index : index) << 12n;
      yield readOfBytes(page, offset, bytes, { requesterId: index & 0xffff, tag: index & 0xff, tc: index & 7, attr: (index >> 3) & 3 });
      index++;
    }
  }
}

async function splitsLikeTheReference(params: CompleterSplitParams, engineName: EngineName, lengthStep = 1) {
  const sim = await buildCompleterSimulator(params, engineName);
  try {
    sim.reset(2);
    return new CompleterDriver(sim).run(everyRead(lengthStep), { params, payload: false });
  } finally {
    sim.close();
  }
}

describe(`tlp_completer cuts every read like the reference (${engine} engine)`, () => {
  for (const maxPayloadBytes of [128, 256]) {
    const lengths = exhaustiveStep === 1 ? "every length 1..4096 B" : `every ${exhaustiveStep}th length 1..4096 B`;
    it(`RCB 64, MPS ${maxPayloadBytes}: ${lengths} at every alignment mod 64`, async () => {
      const result = await splitsLikeTheReference({ maxPayloadBytes, readCompletionBoundary: 64 }, engine, exhaustiveStep);
      expect(result.mismatches).toEqual([]);
      expect(result.reads).toBe(readCount(exhaustiveStep));
    }, 120_000);
  }

  it("RCB 128, MPS 512: every 7th length at every alignment, on the js engine", async () => {
    const result = await splitsLikeTheReference({ maxPayloadBytes: 512, readCompletionBoundary: 128 }, "js", 7);
    expect(result.mismatches).toEqual([]);
  }, 60_000);
});
