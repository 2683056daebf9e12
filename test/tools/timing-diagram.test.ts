// Timing diagrams recorded from the emitted axis_skid_buffer on the js engine: the WaveDrom waves say
// what the simulation did cycle by cycle (checked against a log kept by the testbench itself), idle
// stretches become gaps, markers land on their transfers, and the SVG parses with one row per signal.
// TIMING_DIAGRAM_OUT=out/user-interface.svg writes the user-interface stand-in's diagram there, to look at.
import { writeFileSync } from "node:fs";
import parseXml from "onml/parse.js";
import { beforeAll, describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../../rtl-src/lib/axis-skid-buffer.ts";
import { UserOpcode, userCommand, userCompletion, userReadData, userWriteData } from "../../rtl-src/user/user-port.ts";
import { type Simulator, createSimulator } from "../../sim/engine/index.ts";
import {
  type Recording,
  type WaveGroup,
  type WaveJson,
  type WaveLane,
  recordWaves,
  recordWindow,
  renderSvg,
  streamGroup,
  timingDiagramSvg,
  toWaveJson,
  transferCycles,
  userInterfaceMarkers,
  userInterfaceSignals,
} from "../../tools/timing-diagram.ts";

const SIGNALS = ["s_axis_tvalid", "s_axis_tready", "s_axis_tdata", "s_axis_tlast", "m_axis_tvalid", "m_axis_tready", "m_axis_tdata", "m_axis_tlast"] as const;
type Sample = Record<(typeof SIGNALS)[number], bigint>;

/**
 * A source offering `beats` from relative cycle `offerFrom` (tlast on the last), a sink whose ready
 * follows `readyPattern` ('1'/'0' per cycle, '0' past its end): the drive function for recordWindow,
 * and the testbench's own log of what each edge sampled.
 */
function scenario(sim: Simulator, beats: readonly bigint[], offerFrom: number, readyPattern: string) {
  const start = sim.cycle;
  const log: Sample[] = [];
  let next = 0;
  const drive = (cycle: number) => {
    const previous = log.at(-1);
    if (previous && previous.s_axis_tvalid === 1n && previous.s_axis_tready === 1n) next++;
    const offering = cycle - start >= offerFrom && next < beats.length;
    sim.poke("s_axis_tvalid", offering ? 1 : 0);
    sim.poke("s_axis_tdata", offering ? beats[next] : 0n);
    sim.poke("s_axis_tlast", offering && next === beats.length - 1 ? 1 : 0);
    sim.poke("m_axis_tready", readyPattern[cycle - start] === "1" ? 1 : 0);
    log.push(Object.fromEntries(SIGNALS.map((name) => [name, sim.peekBig(name)])) as Sample);
  };
  return { drive, log };
}

/** The lanes of a WaveDrom description by "group.label" (or "label" outside groups). */
function lanes(json: WaveJson): Map<string, WaveLane> {
  const byName = new Map<string, WaveLane>();
  for (const item of json.signal) {
    if (Array.isArray(item)) {
      const [group, ...rows] = item as WaveGroup;
      for (const lane of rows) byName.set(`${group}.${lane.name}`, lane);
    } else if (item.name) byName.set(item.name, item);
  }
  return byName;
}

/** The cycle (relative) each column stands for, from the head's labels: a gap "…" covers those between its neighbours. */
function columnCycles(json: WaveJson, columns: number): number[][] {
  const tock = json.head?.tock;
  if (typeof tock === "number") return Array.from({ length: columns }, (_, i) => [tock + i]);
  const labels = String(tock).trim().split(" ");
  expect(labels).toHaveLength(columns);
  return labels.map((label, i) => {
    if (label !== "…") return [Number(label)];
    const from = Number(labels[i - 1]) + 1;
    return Array.from({ length: Number(labels[i + 1]) - from }, (_, k) => from + k);
  });
}

/** A lane decoded back to one value per cycle: "0"/"1" for waves, the box's label for buses, "x" where not shown. */
function decode(lane: WaveLane, cycles: number[][]): string[] {
  const values: string[] = [];
  const data = [...(lane.data ?? [])];
  let value = "";
  [...lane.wave!].forEach((brick, i) => {
    if (brick === "=") value = data.shift()!;
    else if (brick === "0" || brick === "1" || brick === "x") value = brick;
    else expect(".|").toContain(brick);
    for (const _ of cycles[i]) values.push(value);
  });
  expect(data).toEqual([]);
  return values;
}

/** Every element of a JsonML tree, depth first. */
function elements(node: unknown): [string, Record<string, unknown>, ...unknown[]][] {
  if (!Array.isArray(node) || typeof node[0] !== "string") return [];
  const element = node as [string, Record<string, unknown>, ...unknown[]];
  return [element, ...element.slice(2).flatMap(elements)];
}

/** The text of every <text> element, in document order. */
function texts(node: unknown): string[] {
  const flat = (n: unknown): string => (typeof n === "string" ? n : Array.isArray(n) ? n.slice(2).map(flat).join("") : "");
  return elements(node)
    .filter((e) => e[0] === "text")
    .map(flat);
}

describe("timing diagrams of the emitted axis_skid_buffer (js engine)", () => {
  let sim: Simulator;
  beforeAll(async () => {
    const module = axisSkidBuffer({ dataWidth: 64 });
    const { files } = emitDesign(module);
    sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine: "js" });
  });

  const beats = [0x1111_0000_0000_00a1n, 0x2222_0000_0000_00b2n, 0x3333_0000_0000_00c3n];
  // The sink refuses the first beat for 3 cycles, takes two beats, refuses the last once and takes it;
  // 32 idle cycles follow.
  const readyPattern = "00000110" + "1".repeat(33);
  const groups = () => [streamGroup(sim, "s_axis", { fields: ["tdata", "tlast"] }), streamGroup(sim, "m_axis", { fields: ["tdata", "tlast"], format: { tdata: (v) => `D${v & 0xfn}` } })];

  function record() {
    sim.reset(2);
    const run = scenario(sim, beats, 1, readyPattern);
    const recording = recordWindow(sim, groups(), { cycles: readyPattern.length, drive: run.drive });
    return { recording, log: run.log };
  }

  it("draws back-pressure and transfers as the simulation did them, cycle by cycle", () => {
    const { recording, log } = record();
    const json = toWaveJson(recording, { fitLabels: false });
    const byName = lanes(json);
    // The first output beat waits 3 cycles (2..4) with tready low and moves at 5; the skid register takes
    // the second input beat meanwhile, so the input sees tready fall only with both slots full (3..5).
    expect(byName.get("m_axis.tvalid")!.wave).toBe("0.1......0|.");
    expect(byName.get("m_axis.tready")!.wave).toBe("0....1.01.|.");
    expect(byName.get("m_axis.tdata")).toEqual({ name: "tdata", wave: "x.=...==.x|.", data: ["D1", "D2", "D3"] });
    expect(byName.get("m_axis.tlast")!.wave).toBe("0......1.0|.");
    expect(byName.get("s_axis.tvalid")!.wave).toBe("01.....0..|.");
    expect(byName.get("s_axis.tready")!.wave).toBe("01.0..1...|.");
    expect(byName.get("s_axis.tdata")!.data).toEqual(beats.map((b) => `0x${b.toString(16)}`));
    // Cycles 9..40 change nothing: cycle 9, a gap, cycle 40.
    expect(byName.get("clk")!.wave).toBe("p.........|.");
    expect(json.head!.tock).toBe("0 1 2 3 4 5 6 7 8 9 … 40 ");
    // Every lane, decoded, says what the edge of each cycle sampled (the testbench's own log).
    const cycles = columnCycles(json, byName.get("clk")!.wave!.length);
    expect(cycles.flat()).toEqual(log.map((_, i) => i));
    for (const [key, lane] of byName) {
      if (key === "clk") continue;
      const [group, field] = key.split(".");
      const signal = `${group}_${field}` as keyof Sample;
      const valid = `${group}_tvalid` as keyof Sample;
      const format = group === "m_axis" ? (v: bigint) => `D${v & 0xfn}` : (v: bigint) => `0x${v.toString(16)}`;
      const expected = log.map((s) => (field === "tdata" ? (s[valid] === 1n ? format(s[signal]) : "x") : String(s[signal])));
      expect(decode(lane, cycles), key).toEqual(expected);
    }
  });

  it("draws a burst whose beats differ only in elided signals as its first beat, a gap and its last beat", () => {
    sim.reset(2);
    const burst = Array.from({ length: 12 }, (_, i) => BigInt(0x100 + i));
    const run = scenario(sim, burst, 1, "1".repeat(30));
    const recording = recordWindow(sim, groups(), { cycles: 30, drive: run.drive });
    const plain = lanes(toWaveJson(recording, { fitLabels: false }));
    expect(plain.get("s_axis.tdata")!.data).toEqual(burst.map((b) => `0x${b.toString(16)}`));
    const elided = lanes(toWaveJson(recording, { fitLabels: false, elide: ["s_axis_tdata", "m_axis_tdata"] }));
    // Beat 0 comes with tvalid rising; beats 1..10 move with only tdata changing: beat 1, a gap, beat 10;
    // beat 11 carries tlast.
    expect(elided.get("s_axis.tdata")!.data!.slice(0, 4)).toEqual(["0x100", "0x101", "0x10a", "0x10b"]);
    expect(elided.get("s_axis.tdata")!.wave).toContain("|");
    expect(elided.get("clk")!.wave!.length).toBeLessThan(plain.get("clk")!.wave!.length);
    expect(() => toWaveJson(recording, { elide: ["no_such_signal"] })).toThrow(/elide names "no_such_signal"/);
  });

  it("points markers at the edges of their transfers and renders an SVG with one row per signal", () => {
    const { recording } = record();
    const first = recording.runs[0].cycle;
    const json = toWaveJson(recording, {
      title: "axis_skid_buffer",
      markers: (r) => [
        { cycle: transferCycles(r, "m_axis")[0], label: "first beat out", signal: "m_axis_tvalid" },
        ...transferCycles(r, "m_axis", "m_axis_tlast").map((cycle) => ({ cycle, label: "tlast", signal: "m_axis_tlast" })),
        { cycle: first + 20, label: "idle" },
      ],
    });
    // Transfers at cycles 5 and 8: arrows to the edges ending them (column boundaries 6 and 9), labels to
    // their right on leader lines, "tlast" a row lower to clear "first beat out"; cycle 20 is in the gap (column 10).
    expect(json.signal.slice(0, 2)).toEqual([{ node: "......A..B.G" }, { node: ".........D.E" }]);
    const byName = lanes(json);
    expect(byName.get("m_axis.tvalid")!.node).toBe("......C");
    expect(byName.get("m_axis.tlast")!.node).toBe(".........F");
    expect(json.edge).toEqual(["A->C", "A-B first beat out", "D->F", "D-E tlast", "G idle"]);
    // Bus labels cut to their boxes: 64-bit values in one-cycle boxes; the last beat's four cycles (160 px) hold it whole.
    expect(byName.get("s_axis.tdata")!.data).toEqual(["0x…", "0x…", "0x33330000000000c3"]);
    expect(byName.get("m_axis.tdata")!.data).toEqual(["D1", "D2", "D3"]);

    const svg = renderSvg(json);
    const root = parseXml(svg); // strict: malformed XML throws
    expect(root[0]).toBe("svg");
    // One lane per row: the marker rows (no name), the clock, each signal.
    const rows = elements(root).filter((e) => /^wavelane_\d+_0$/.test(String(e[1].id)));
    expect(rows.map((row) => texts(row)[0])).toEqual(["", "", "clk", "tvalid", "tready", "tdata", "tlast", "tvalid", "tready", "tdata", "tlast"]);
    const all = texts(root);
    for (const label of ["axis_skid_buffer", "s_axis", "m_axis", "first beat out", "tlast", "idle", "D1", "D2", "D3", "…", "40"]) expect(all).toContain(label);
  });

  it("keeps equal beats apart, draws every cycle without an idle limit, and records any scenario until stopped", () => {
    sim.reset(2);
    const same = 0x5a5an;
    const run = scenario(sim, [same, same, same + 1n], 0, "1".repeat(12));
    const recording = recordWaves(sim, groups(), () => {
      for (let i = 0; i < 12; i++) {
        run.drive(sim.cycle);
        sim.step(1);
      }
    });
    sim.step(5); // after the recording: not in it
    expect(recording.runs.reduce((n, r) => n + r.cycles, 0)).toBe(12);
    // At hscale 2 a cycle is 80 px: room for "0x5a5a" in a one-cycle box.
    const json = toWaveJson(recording, { idleLimit: Infinity, cycleNumbers: "absolute", clock: null, hscale: 2 });
    expect(json.config).toEqual({ hscale: 2 });
    const byName = lanes(json);
    expect(byName.has("clk")).toBe(false);
    // The first beat waits a cycle for tready (low until the first edge after reset), the next two follow at once.
    expect(byName.get("s_axis.tready")!.wave).toBe("01..........");
    expect(byName.get("s_axis.tdata")).toEqual({ name: "tdata", wave: "=.==x.......", data: ["0x5a5a", "0x5a5a", "0x5a5b"] });
    expect(byName.get("m_axis.tdata")).toEqual({ name: "tdata", wave: "x.===x......", data: ["D10", "D10", "D11"] });
    expect(json.head).toEqual({ tock: recording.runs[0].cycle });
  });

  it("records a window of a { sim, step } system, running the cycles before it unrecorded", () => {
    sim.reset(2);
    let stepped = 0;
    const system = { sim, step: (cycles = 1) => { stepped += cycles; sim.step(cycles); } };
    const start = sim.cycle + 7;
    const run = scenario(sim, [0xa1n, 0xb2n], 0, "1".repeat(20)); // relative to now: offers from the window's start
    const recording = recordWindow(system, groups(), { start, cycles: 6, drive: run.drive });
    expect(recording.runs[0].cycle).toBe(start);
    expect(stepped).toBe(13);
    expect(transferCycles(recording, "s_axis")).toEqual([start, start + 1]);
    expect(transferCycles(recording, "m_axis")).toEqual([start + 1, start + 2]);
    const svg = timingDiagramSvg(system, ["m_axis_tvalid", { signal: "m_axis_tdata", label: "data" }], { cycles: 4 }, { cycleNumbers: "none" });
    expect(texts(parseXml(svg))).toContain("data");
  });

  it("names what is wrong in bad requests", () => {
    expect(() => recordWindow(sim, ["m_axis_tvaild"], { cycles: 1 })).toThrow(/m_axis_tvalid/);
    expect(() => recordWindow(sim, [{ signal: "m_axis_tdata", valid: "m_axis_tdata" }], { cycles: 1 })).toThrow(/valid "m_axis_tdata" is 64 bits, not 1/);
    expect(() => recordWindow(sim, ["m_axis_tvalid"], { cycles: 0 })).toThrow(/window.cycles 0/);
    expect(() => recordWindow(sim, ["m_axis_tvalid"], { start: sim.cycle - 1, cycles: 1 })).toThrow(/window.start/);
    expect(() => streamGroup(sim, "x_axis")).toThrow(/no valid\/ready stream "x_axis" \(it has m_axis, s_axis\)/);
    expect(() => streamGroup(sim, "m_axis", { fields: ["tuser"] })).toThrow(/no payload field "tuser" \(it has tdata, tkeep, tlast\)/);
    const recording: Recording = recordWindow(sim, ["m_axis_tvalid"], { cycles: 2 });
    expect(() => toWaveJson(recording, { idleLimit: 2 })).toThrow(/idleLimit 2/);
    expect(() => toWaveJson(recording, { markers: [{ cycle: 0, label: "early" }] })).toThrow(/marker "early" at cycle 0 is outside/);
    expect(() => toWaveJson(recording, { markers: [{ cycle: recording.runs[0].cycle, label: "m", signal: "s_axis_tvalid" }] })).toThrow(/not a row/);
  });
});

/**
 * Test equipment with the user interface's four ports (the contract's bundles and names): a command is
 * completed with its tag once the completion port takes it, and write data comes back as read data
 * through a register slice, tagged with the last command's tag. Only here to give the diagram helpers
 * the port names of the real core.
 */
function userPortLoop() {
  const m = new Module("user_port_loop");
  const user_command = m.port(userCommand(), "slave");
  const user_write_data = m.port(userWriteData, "slave");
  const user_read_data = m.port(userReadData(), "master");
  const user_completion = m.port(userCompletion(), "master");
  const pending = m.signal(1);
  const tag = m.signal(8);
  m.If(user_command.signals.valid.and(pending.not()), () => {
    m.sync(pending, 1);
    m.sync(tag, user_command.signals.tag);
  }).Elif(user_completion.signals.ready, () => m.sync(pending, 0));
  m.comb(user_command.signals.ready, pending.not());
  m.comb(user_completion.signals.valid, pending);
  m.comb(user_completion.signals.tag, tag);
  m.comb(user_completion.signals.error_class, 0);
  m.comb(user_completion.signals.status, 0);
  const loop = m.instance(axisSkidBuffer({ dataWidth: 64 }), { name: "loop" });
  m.connect(user_write_data, loop.ports.s_axis);
  for (const field of ["tdata", "tkeep", "tlast", "tvalid"] as const) m.comb(user_read_data.signals[field], loop.ports.m_axis.signals[field]);
  m.comb(loop.ports.m_axis.signals.tready, user_read_data.signals.tready);
  m.comb(user_read_data.signals.tuser, tag);
  return m;
}

describe("user-interface diagrams (a stand-in with the user ports, js engine)", () => {
  it("groups the four streams with names for opcodes and error classes, and marks commands, last beats and completions", async () => {
    const module = userPortLoop();
    const { files } = emitDesign(module);
    const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine: "js" });
    sim.reset(2);
    const start = sim.cycle;
    // A WRITE (tag 7) of 4 beats, its completion taken 2 cycles late; 100 idle cycles; a READ (tag 8).
    const drive = (cycle: number) => {
      const t = cycle - start;
      const read = t >= 110;
      const commandOffered = t === 1 || t === 110;
      sim.poke("user_command_valid", commandOffered ? 1 : 0);
      sim.poke("user_command_opcode", commandOffered ? (read ? UserOpcode.READ : UserOpcode.WRITE) : 0);
      sim.poke("user_command_tag", commandOffered ? (read ? 8 : 7) : 0);
      sim.poke("user_command_block_count", commandOffered ? 1 : 0);
      sim.poke("user_command_lba", commandOffered ? 0x40n : 0n);
      const beat = t - 2;
      const writing = beat >= 0 && beat < 4;
      sim.poke("user_write_data_tvalid", writing ? 1 : 0);
      sim.poke("user_write_data_tdata", writing ? 0xd0n + BigInt(beat) : 0n);
      sim.poke("user_write_data_tkeep", writing ? 0xff : 0);
      sim.poke("user_write_data_tlast", beat === 3 ? 1 : 0);
      sim.poke("user_read_data_tready", 1);
      sim.poke("user_completion_ready", t >= 4 ? 1 : 0);
    };
    const recording = recordWindow(sim, userInterfaceSignals(sim), { cycles: 116, drive });
    const json = toWaveJson(recording, { markers: userInterfaceMarkers, hscale: 2 }); // 80 px a cycle: room for "WRITE"
    if (process.env.TIMING_DIAGRAM_OUT) writeFileSync(process.env.TIMING_DIAGRAM_OUT, renderSvg({ ...json, head: { ...json.head, text: "user interface (stand-in): a write, then a read" } }));
    expect(json.signal.filter(Array.isArray).map((group) => (group as WaveGroup).map((lane) => (typeof lane === "string" ? lane : lane.name)))).toEqual([
      ["user_command", "valid", "ready", "opcode", "lba", "block_count", "tag"],
      ["user_write_data", "tvalid", "tready", "tdata", "tlast"],
      ["user_read_data", "tvalid", "tready", "tdata", "tlast", "tuser"],
      ["user_completion", "valid", "ready", "tag", "error_class", "status"],
    ]);
    const byName = lanes(json);
    expect(byName.get("user_command.opcode")!.data).toEqual(["WRITE", "READ"]);
    expect(byName.get("user_command.tag")!.data).toEqual(["7", "8"]);
    expect(byName.get("user_completion.tag")!.data).toEqual(["7", "8"]);
    expect(byName.get("user_completion.error_class")!.data).toEqual(["NONE", "NONE"]);
    expect(byName.get("user_read_data.tdata")!.data).toEqual(["0xd0", "0xd1", "0xd2", "0xd3"]);
    // Command at 1 and 110, last write beat at 5 and its read-back at 6, completions at 4 (taken late) and 111.
    expect(json.edge!.filter((e) => !e.includes("->")).map((e) => e.replace(/^\S+ /, ""))).toEqual([
      "command accepted",
      "completion",
      "last write beat",
      "last read beat",
      "command accepted",
      "completion",
    ]);
    expect(userInterfaceMarkers(recording).map((m) => m.cycle - start)).toEqual([1, 110, 5, 6, 4, 111]);
    // The idle stretch between the two commands is one gap in every lane.
    expect(byName.get("clk")!.wave).toMatch(/^p\.+\|\.+$/);
    expect(byName.get("clk")!.wave!.length).toBeLessThan(30);
    expect(() => userInterfaceSignals(sim) && recordWindow(sim, ["user_command_valid"], { cycles: 1 })).not.toThrow();
    sim.close();
  });
});
