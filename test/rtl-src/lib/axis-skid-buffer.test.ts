// The AXI4-Stream register slice: every beat through once, in order, at full rate, under any
// valid/ready pattern; outputs are registers and no path runs combinationally through it.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { axisSkidBuffer } from "../../../rtl-src/lib/axis-skid-buffer.ts";
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

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)("axis_skid_buffer on the %s engine, watched by the stream monitor", (engine) => {
  it("passes every beat once and in order at any back-pressure, and never stalls a full-rate stream", async () => {
    const module = axisSkidBuffer({ dataWidth: 64 });
    const { files } = emitDesign(module);
    const sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine }));
    const random = seededRandom(23);
    const names = fields.map((f) => f.name);
    for (const [offer, ready] of [[1, 1], [0.7, 0.3], [0.3, 0.9]]) {
      const beats = Array.from({ length: 200 }, (_, i) => [randomWord(random, 64) ^ BigInt(i << 8), BigInt(i & 0xff), BigInt(i & 1)]);
      sim.reset(2);
      const run = pumpStream(sim, findStreams(sim.signals), {
        source: { prefix: "s_axis", fields: names, beats, offerProbability: offer },
        sink: { prefix: "m_axis", fields: names, readyProbability: ready, expectedBeats: beats.length },
        random,
        maxCycles: 2000,
      });
      expect(run.received).toEqual(beats);
      // At full rate: one cycle for tready to rise after reset and one of latency, then a beat a cycle.
      if (offer === 1 && ready === 1) expect(run.cycles).toBe(beats.length + 2);
    }
    sim.close();
  });
});
