// The AXI4-Stream rules as properties: asserted on a stream a module sends, they catch a valid that
// drops before ready and a payload that changes while stalled; assumed on a stream it receives,
// they constrain the inputs; the sequence-numbered input makes a lost beat show.
import { describe, expect, it } from "vitest";
import { C, Module, emitDesign } from "../../../hdl/index.ts";
import { axisRules, beatCounter, sequencedInput } from "../../../rtl-src/lib/axis-properties.ts";
import { proveFiles } from "../../../tools/formal.ts";

/** A source of 4-bit beats: `go` starts one; the flaw under test decides what happens while stalled. */
function source(name: string, flaw: "none" | "drops valid" | "changes data"): Module {
  const m = new Module(name);
  const go = m.input(1);
  const ready = m.input(1);
  const valid = m.output(1);
  const data = m.output(4);
  const fire = valid.and(ready);
  m.If(valid.not().and(go), () => m.sync(valid, 1))
    .Elif(fire, () => m.sync(valid, 0))
    .Elif(flaw === "drops valid" ? valid : C(0, 1), () => m.sync(valid, 0));
  m.If(fire.or(flaw === "changes data" ? valid : 0), () => m.sync(data, data.addWrap(1)));
  axisRules(m, { valid, ready, payload: data }, "output", "out");
  return m;
}

async function check(m: Module, depth = 6) {
  return proveFiles(emitDesign(m).files, m.name, depth, "bounded");
}

describe("axisRules and sequencedInput", () => {
  it("hold on a source that keeps valid and data until ready", async () => {
    expect((await check(source("axis_rules_good", "none"))).status).toBe("bounded");
  });

  it("catch a valid dropped before ready, and data changed while stalled", async () => {
    const dropped = await check(source("axis_rules_dropped", "drops valid"));
    expect(dropped.status).toBe("failed");
    // valid rises in cycle 2 at the earliest and is gone in cycle 3 without a handshake.
    expect(dropped.failedStep).toBe(3);
    expect((await check(source("axis_rules_changed", "changes data"))).status).toBe("failed");
  });

  it("as assumptions, hold the inputs to the rules", async () => {
    const m = new Module("axis_rules_input");
    const valid = m.input(1);
    const ready = m.input(1);
    const data = m.input(4);
    axisRules(m, { valid, ready, payload: data }, "input", "in");
    const was_stalled = m.signal(1);
    const was_data = m.signal(4);
    m.sync(was_stalled, valid.and(ready.not()));
    m.sync(was_data, data);
    m.If(was_stalled, () => m.assert(valid.and(data.eq(was_data))));
    expect((await check(m)).status).toBe("bounded");
  });

  it("number the input beats, so that a beat lost on the way shows as a wrong number", async () => {
    const build = (loses: boolean) => {
      const m = new Module(loses ? "axis_sequence_lossy" : "axis_sequence_wire");
      const valid = m.input(1);
      const data = m.input(4);
      const sent = sequencedInput(m, valid, data, "sent");
      // A "channel" that passes beats straight through, or drops beat 2.
      const out_valid = loses ? valid.and(data.ne(2)) : valid;
      const received = beatCounter(m, out_valid, 4, "received");
      m.If(out_valid, () => m.assert(data.eq(received)));
      m.assert(sent.eq(received).or(loses ? 1 : 0));
      return m;
    };
    expect((await check(build(false))).status).toBe("bounded");
    expect((await check(build(true))).status).toBe("failed");
  });
});
