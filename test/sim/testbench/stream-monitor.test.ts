// The stream monitor: it finds every valid/ready stream of a design, stays quiet on legal
// traffic (the skid buffer under random valid and ready, on both engines), and fails a run the
// cycle a valid drops before its ready or a payload changes while it waits.
import { describe, expect, it } from "vitest";
import { C, Module, emitDesign } from "../../../hdl/index.ts";
import { axisSkidBuffer } from "../../../rtl-src/lib/axis-skid-buffer.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type Beat, pumpStream } from "../../../sim/testbench/stream-drivers.ts";
import { StreamProtocolError, findStreams, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { randomWord } from "../../../sim/testbench/streams.ts";

async function simulate(module: Module, engine: EngineName): Promise<Simulator> {
  const { files } = emitDesign(module);
  return createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine });
}

/** A producer with a bug chosen by `bug`: its valid follows a counter bit, or its data counts while it waits. */
function badProducer(bug: "valid drops" | "data changes"): Module {
  const m = new Module(bug === "valid drops" ? "producer_drops_valid" : "producer_changes_data");
  const out_ready = m.input(1);
  const out_valid = m.output(1);
  const out_data = m.output(8);
  const count = m.signal(8);
  m.sync(count, count.addWrap(1));
  m.comb(out_valid, bug === "valid drops" ? count.bit(1) : 1);
  m.comb(out_data, bug === "valid drops" ? C(0x5a, 8) : count);
  m.waiveUnread(out_ready, "the producer ignores ready: that is its bug");
  return m;
}

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe("findStreams", () => {
  it("finds both sides of the skid buffer with their payload fields", async () => {
    const sim = await simulate(axisSkidBuffer({ dataWidth: 64 }), "js");
    const streams = findStreams(sim.signals);
    expect(streams.map((s) => [s.prefix, s.valid.name, s.ready.name, s.payload.map((p) => p.name)])).toEqual([
      ["m_axis", "m_axis_tvalid", "m_axis_tready", ["m_axis_tdata", "m_axis_tkeep", "m_axis_tlast"]],
      ["s_axis", "s_axis_tvalid", "s_axis_tready", ["s_axis_tdata", "s_axis_tkeep", "s_axis_tlast"]],
    ]);
    sim.close();
  });

  it("gives a port to the stream with the longest prefix", () => {
    const port = (name: string, direction: "input" | "output") => ({ name, width: 1, direction });
    const streams = findStreams([
      port("req_valid", "input"), port("req_ready", "output"), port("req_address", "input"),
      port("req_payload_tvalid", "input"), port("req_payload_tready", "output"), port("req_payload_tdata", "input"),
    ]);
    expect(streams.map((s) => [s.prefix, s.payload.map((p) => p.name)])).toEqual([
      ["req", ["req_address"]],
      ["req_payload", ["req_payload_tdata"]],
    ]);
  });
});

describe.each(engines)("stream monitor on the %s engine", (engine) => {
  it("passes the skid buffer under random valid and ready and counts every beat on both sides", async () => {
    const sim = monitorStreams(await simulate(axisSkidBuffer({ dataWidth: 64 }), engine));
    const random = seededRandom(11);
    const beats: Beat[] = Array.from({ length: 400 }, (_, i) => [randomWord(random, 64) ^ BigInt(i), BigInt(i & 0xff), BigInt(i % 7 === 6 ? 1 : 0)]);
    const fields = ["tdata", "tkeep", "tlast"];
    sim.reset(2);
    const run = pumpStream(sim, findStreams(sim.signals), {
      source: { prefix: "s_axis", fields, beats, offerProbability: 0.6 },
      sink: { prefix: "m_axis", fields, readyProbability: 0.5, expectedBeats: beats.length },
      random,
      maxCycles: 3000,
    });
    expect(run.received).toEqual(beats.map((b) => [...b]));
    expect(sim.streamMonitors.get("s_axis")!.beats).toBe(beats.length);
    expect(sim.streamMonitors.get("m_axis")!.beats).toBe(beats.length);
    expect(sim.streamMonitors.get("m_axis")!.stallCycles).toBeGreaterThan(50);
    sim.close();
  });

  it("fails the cycle a design drops valid before ready", async () => {
    const sim = monitorStreams(await simulate(badProducer("valid drops"), engine));
    sim.reset(1);
    sim.poke("out_ready", 0);
    expect(() => sim.step(10)).toThrow(StreamProtocolError);
    expect(() => sim.step(10)).toThrow(/out_valid dropped at cycle \d+ before out_ready/);
    sim.close();
  });

  it("fails the cycle a design changes its payload while it waits for ready", async () => {
    const sim = monitorStreams(await simulate(badProducer("data changes"), engine));
    sim.reset(1);
    sim.poke("out_ready", 1);
    sim.step(5); // legal while every beat is taken
    sim.poke("out_ready", 0);
    expect(() => sim.step(3)).toThrow(/out_data changed from 0x[0-9a-f]+ to 0x[0-9a-f]+ at cycle \d+ while out_valid waited/);
    sim.close();
  });

  it("fails a test bench that drops valid into a design that is not ready", async () => {
    const sim = monitorStreams(await simulate(axisSkidBuffer({ dataWidth: 64 }), engine));
    sim.reset(2);
    sim.poke("m_axis_tready", 0);
    sim.poke("s_axis_tvalid", 1);
    sim.step(4); // two beats fill the buffer; then s_axis_tready is low
    expect(sim.peek("s_axis_tready")).toBe(0);
    sim.poke("s_axis_tvalid", 0);
    expect(() => sim.step()).toThrow(/s_axis_tvalid dropped/);
    sim.close();
  });
});
