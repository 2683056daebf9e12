// The AXI4-Stream register slice: every beat through once, in order, at full rate, under any
// valid/ready pattern; outputs are registers and no path runs combinationally through it.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { axisSkidBuffer } from "../../../rtl-src/lib/axis-skid-buffer.ts";
import { runTestbench } from "../../../tools/icarus.ts";
import { icarusAvailable } from "../../../sim/testbench/run-module.ts";
import { pattern, randomWord, seededRandom } from "../../../sim/testbench/streams.ts";

const fields = [
  { name: "tdata", width: 64 },
  { name: "tkeep", width: 8 },
  { name: "tlast", width: 1 },
];

function run(beats: bigint[][], validPattern: boolean[], readyPattern: boolean[], cycles: number) {
  const { files } = emitDesign(axisSkidBuffer({ dataWidth: 64 }));
  return runTestbench({
    files,
    top: "axis_skid_buffer_axis64kl",
    cycles,
    sources: [{ prefix: "s_axis", fields, beats, validPattern, valid: "tvalid", ready: "tready" }],
    sinks: [{ prefix: "m_axis", fields, readyPattern, valid: "tvalid", ready: "tready" }],
  });
}

describe("axis_skid_buffer", () => {
  const random = seededRandom(7);
  const beats = Array.from({ length: 300 }, () => [randomWord(random, 64), randomWord(random, 8), randomWord(random, 1)]);

  it.skipIf(!icarusAvailable())("passes every beat once and in order under random valid and ready", () => {
    const result = run(beats, pattern(random, 37, 0.6), pattern(random, 41, 0.5), 1500);
    expect(result.sent.s_axis).toBe(beats.length);
    expect(result.received.m_axis).toEqual(beats);
  });

  it.skipIf(!icarusAvailable())("moves one beat per cycle when both sides are always ready", () => {
    const result = run(beats, [true], [true], beats.length + 3);
    expect(result.received.m_axis).toEqual(beats);
  });

  it("has no combinational path from any input to any output", () => {
    const { design } = emitDesign(axisSkidBuffer({ dataWidth: 64 }));
    expect([...design.combinationalPaths.get(design.top)!.entries()]).toEqual([]);
  });
});
