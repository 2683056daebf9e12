// Statements and their Verilog behaviour: comb defaults, If/Elif/Else priority, Switch/Case/
// Default, registers with reset values, resetless registers, FSMs with named states.
import { describe, expect, it } from "vitest";
import { Module, type Value, emitDesign, signed } from "../../hdl/index.ts";
import { icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";

const sim = it.skipIf(!icarusAvailable());

describe("combinational statements", () => {
  sim("a comb signal not assigned on a path takes its default value (no latch)", () => {
    const m = new Module("comb_default");
    const sel = m.input(2);
    const x = m.input(8);
    const y = m.output(8, { reset: 0x5a });
    m.If(sel.eq(1), () => m.comb(y, x)).Elif(sel.eq(2), () => m.comb(y, x.not()));
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("y = 8'd90;");
    const out = runModule(m, { inputs: { sel: [0, 1, 2, 3], x: [0x0f] }, cycles: 4 });
    expect(out.y).toEqual([0x5an, 0x0fn, 0xf0n, 0x5an]);
  });

  sim("If/Elif/Else gives the first true branch priority", () => {
    const m = new Module("if_priority");
    const a = m.input(1);
    const b = m.input(1);
    const y = m.output(2);
    m.If(a, () => m.comb(y, 1))
      .Elif(b, () => m.comb(y, 2))
      .Else(() => m.comb(y, 3));
    const out = runModule(m, { inputs: { a: [0, 0, 1, 1], b: [0, 1, 0, 1] }, cycles: 4 });
    expect(out.y).toEqual([3n, 2n, 1n, 1n]);
  });

  sim("Switch selects the case of the subject's value, lists of values, and Default", () => {
    const m = new Module("switch_cases");
    const op = m.input(3);
    const y = m.output(signed(6));
    m.Switch(op, (s) => {
      s.Case(0, () => m.comb(y, 10));
      s.Case([1, 5], () => m.comb(y, -7));
      s.Default(() => m.comb(y, 31));
    });
    const out = runModule(m, { inputs: { op: [0, 1, 2, 5, 7] }, cycles: 5 });
    expect(out.y).toEqual([10n, 57n, 31n, 57n, 31n]); // -7 as a 6-bit pattern is 57
  });

  it("an Elif condition that is not a value (a number from untyped code) is an error, not an Else", () => {
    const m = new Module("elif_number");
    const a = m.input(1);
    const y = m.output(1);
    const chain = m.If(a, () => m.comb(y, 1));
    expect(() => chain.Elif(0 as unknown as Value, () => m.comb(y, 0))).toThrow(/Elif condition must be a 1-bit value, got 0/);
  });

  it("a duplicate Case value is an error naming both places", () => {
    const m = new Module("switch_dup");
    const op = m.input(2);
    const y = m.output(1);
    expect(() =>
      m.Switch(op, (s) => {
        s.Case(1, () => m.comb(y, 1));
        s.Case([2, 1], () => m.comb(y, 0));
      }),
    ).toThrow(/Case value 1 already handled at test\/hdl\/statements\.test\.ts:\d+/);
  });
});

describe("registers", () => {
  sim("sync registers take their reset value during reset and update at the clock edge", () => {
    const m = new Module("counter_reset");
    const en = m.input(1);
    const count = m.output(4, { reset: 9 });
    m.If(en, () => m.sync(count, count.addWrap(1)));
    const out = runModule(m, { inputs: { en: [1, 1, 0, 1, 1, 1, 1, 1, 1, 1] }, cycles: 10, resetCycles: 2 });
    expect(out.count).toEqual([9n, 10n, 11n, 11n, 12n, 13n, 14n, 15n, 0n, 1n]);
  });

  sim("a resetless register ignores rst and has no reset branch", () => {
    const m = new Module("resetless");
    const d = m.input(8);
    const q = m.output(8, { resetless: true });
    const r = m.output(8, { reset: 1 });
    m.sync(q, d);
    m.sync(r, d);
    const text = emitDesign(m).files[0].text;
    expect(text).toMatch(/always @\(posedge clk\) begin\n {4}q <= d;/);
    const out = runModule(m, { inputs: { d: [7, 8, 9] }, cycles: 3, resetCycles: 1, outputs: ["q", "r"] });
    // q captured d during the reset cycle already; r only after reset.
    expect(out.q).toEqual([7n, 7n, 8n]);
    expect(out.r).toEqual([1n, 7n, 8n]);
  });
});

describe("FSM with named states", () => {
  sim("states are localparams, next moves at the clock edge, is() tests the state", () => {
    const m = new Module("fsm_handshake");
    const start = m.input(1);
    const done = m.input(1);
    const busy = m.output(1);
    const pulses = m.output(4);
    const control = m.fsm(["IDLE", "RUN", "FINISH"]);
    control.body({
      IDLE: () => m.If(start, () => control.next("RUN")),
      RUN: () => {
        m.comb(busy, 1);
        m.If(done, () => control.next("FINISH"));
      },
      FINISH: () => control.next("IDLE"),
    });
    m.If(control.is("FINISH"), () => m.sync(pulses, pulses.addWrap(1)));
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("localparam [1:0] CONTROL_IDLE = 2'd0;");
    expect(text).toContain("CONTROL_RUN: begin");
    expect(text).toContain("control <= CONTROL_FINISH;");
    const out = runModule(m, {
      inputs: { start: [0, 1, 0, 0, 0, 0, 1, 0, 0, 0], done: [0, 0, 0, 1, 0, 0, 0, 1, 0, 0] },
      cycles: 10,
      outputs: ["busy", "pulses", "control"],
    });
    expect(out.control).toEqual([0n, 0n, 1n, 1n, 2n, 0n, 0n, 1n, 2n, 0n]);
    expect(out.busy).toEqual([0n, 0n, 1n, 1n, 0n, 0n, 0n, 1n, 0n, 0n]);
    expect(out.pulses.at(-1)).toBe(2n);
  });

  it("the reset state can be chosen", () => {
    const m = new Module("fsm_reset");
    const y = m.output(1);
    const phase = m.fsm(["A", "B"], { reset: "B" });
    phase.body({ A: () => phase.next("B"), B: () => phase.next("A") });
    m.comb(y, phase.is("A"));
    expect(emitDesign(m).files[0].text).toContain("phase <= PHASE_B;");
  });
});
