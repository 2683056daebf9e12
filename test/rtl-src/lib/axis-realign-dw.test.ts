// The one-DW stream re-aligner: the payload of each packet, minus its first DW, comes out
// QW-aligned with the right tkeep and tlast, under random valid/ready patterns.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { axisRealignDw } from "../../../rtl-src/lib/axis-realign-dw.ts";
import { runTestbench } from "../../../tools/icarus.ts";
import { icarusAvailable } from "../../../sim/testbench/run-module.ts";
import { pattern, randomWord, seededRandom } from "../../../sim/testbench/streams.ts";

const fields = [
  { name: "tdata", width: 64 },
  { name: "tkeep", width: 8 },
  { name: "tlast", width: 1 },
];

/** Beats of a packet of `dws` 32-bit words, DW 0 in the low half of the first beat. */
function beatsOf(dws: bigint[]): bigint[][] {
  const beats: bigint[][] = [];
  for (let i = 0; i < dws.length; i += 2) {
    const last = i + 2 >= dws.length;
    const high = i + 1 < dws.length ? dws[i + 1] : 0n;
    beats.push([(high << 32n) | dws[i], i + 1 < dws.length ? 0xffn : 0x0fn, last ? 1n : 0n]);
  }
  return beats;
}

describe("axis_realign_dw64", () => {
  it.skipIf(!icarusAvailable())("drops the first DW of each packet and re-packs the rest, every length and pattern", () => {
    const random = seededRandom(11);
    const packets: bigint[][] = [];
    for (let length = 1; length <= 24; length++) packets.push(Array.from({ length }, () => randomWord(random, 32)));
    for (let i = 0; i < 20; i++) packets.push(Array.from({ length: 1 + Math.floor(random() * 70) }, () => randomWord(random, 32)));
    const input = packets.flatMap(beatsOf);
    const expected = packets.filter((p) => p.length > 1).flatMap((p) => beatsOf(p.slice(1)));
    for (const [valid, ready] of [[[true], [true]], [pattern(random, 23, 0.6), pattern(random, 19, 0.5)]]) {
      const { files } = emitDesign(axisRealignDw());
      const result = runTestbench({
        files,
        top: "axis_realign_dw64",
        cycles: input.length * 4 + 20,
        sources: [{ prefix: "s_axis", fields, beats: input, validPattern: valid, valid: "tvalid", ready: "tready" }],
        sinks: [{ prefix: "m_axis", fields, readyPattern: ready, valid: "tvalid", ready: "tready" }],
      });
      expect(result.sent.s_axis).toBe(input.length);
      // Data in an unused upper half (tkeep 0x0F) is undefined; compare only valid DWs.
      const masked = result.received.m_axis.map(([data, keep, last]) => [keep === 0x0fn ? data & 0xffffffffn : data, keep, last]);
      expect(masked).toEqual(expected);
    }
  });

  it("has no combinational path from any input to any output", () => {
    const { design } = emitDesign(axisRealignDw());
    expect([...design.combinationalPaths.get(design.top)!.entries()]).toEqual([]);
  });
});
