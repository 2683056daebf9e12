// The one-DW stream re-aligner: the payload of each packet, minus its first DW, comes out
// QW-aligned with the right tkeep and tlast, under random valid/ready patterns.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { axisRealignDw } from "../../../rtl-src/lib/axis-realign-dw.ts";
import { runTestbench } from "../../../tools/icarus.ts";
import { icarusAvailable } from "../../../sim/testbench/run-module.ts";
import { pattern, randomWord, seededRandom } from "../../../sim/testbench/streams.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { pumpStream } from "../../../sim/testbench/stream-drivers.ts";
import { findStreams, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

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

/** Packets of every length 1..24 DW and 20 random ones, each DW distinct. */
function testPackets(random: () => number): bigint[][] {
  const packets: bigint[][] = [];
  for (let length = 1; length <= 24; length++) packets.push(Array.from({ length }, () => randomWord(random, 32)));
  for (let i = 0; i < 20; i++) packets.push(Array.from({ length: 1 + Math.floor(random() * 70) }, () => randomWord(random, 32)));
  return packets;
}

/** Data in an unused upper half (tkeep 0x0F) is undefined; compare only valid DWs. */
const validDws = (beats: bigint[][]) => beats.map(([data, keep, last]) => [keep === 0x0fn ? data & 0xffffffffn : data, keep, last]);

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)("axis_realign_dw64 on the %s engine, watched by the stream monitor", (engine) => {
  it("drops the first DW of each packet and re-packs the rest under random valid and ready", async () => {
    const random = seededRandom(5);
    const packets = testPackets(random);
    const input = packets.flatMap(beatsOf);
    const expected = packets.filter((p) => p.length > 1).flatMap((p) => beatsOf(p.slice(1)));
    const module = axisRealignDw();
    const { files } = emitDesign(module);
    const sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine }));
    sim.reset(2);
    const fields = ["tdata", "tkeep", "tlast"];
    const run = pumpStream(sim, findStreams(sim.signals), {
      source: { prefix: "s_axis", fields, beats: input, offerProbability: 0.6 },
      sink: { prefix: "m_axis", fields, readyProbability: 0.5, expectedBeats: expected.length },
      random,
      maxCycles: input.length * 6 + 50,
    });
    expect(run.sent).toBe(input.length);
    expect(validDws(run.received)).toEqual(expected);
    expect(sim.streamMonitors.get("m_axis")!.stallCycles).toBeGreaterThan(0);
    sim.close();
  });
});

describe("axis_realign_dw64", () => {
  it.skipIf(!icarusAvailable())("drops the first DW of each packet and re-packs the rest, every length and pattern", () => {
    const random = seededRandom(11);
    const packets = testPackets(random);
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
      expect(validDws(result.received.m_axis)).toEqual(expected);
    }
  });

  it("has no combinational path from any input to any output", () => {
    const { design } = emitDesign(axisRealignDw());
    expect([...design.combinationalPaths.get(design.top)!.entries()]).toEqual([]);
  });
});
