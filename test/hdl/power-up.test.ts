// Power-up: before the first reset every register holds its reset value (a resetless register
// and a memory's read data their `reset` option, 0 unless given), on every simulator, and the
// emitted Verilog says so in declaration initialisers, which Vivado takes for the flip-flops' INIT.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
import { installedSimulators, runOnEverySimulator } from "../../sim/testbench/run-everywhere.ts";

/** An FSM whose reset state is not its first, registers with and without reset, a memory read register. */
function powerUpSample(): Module {
  const m = new Module("power_up_sample");
  const go = m.input(1);
  const state_code = m.output(2);
  const count = m.output(4, { reset: 9 });
  const stamp = m.signal(6, { reset: 0x2b, resetless: true });
  const stamp_out = m.output(6);
  const word = m.output(8);

  const ctl = m.fsm(["IDLE", "RUN", "DONE"], { reset: "RUN" });
  ctl.body({ RUN: () => m.If(go, () => ctl.next("DONE")), DONE: () => ctl.next("IDLE") });
  m.comb(state_code, ctl.state);
  m.If(go, () => m.sync(count, count.addWrap(1)));
  m.If(go, () => m.sync(stamp, stamp.addWrap(1)));
  m.comb(stamp_out, stamp);
  const table = m.memory({ width: 8, depth: 4, init: [0xa5, 0x5a] });
  table.writePort({ addr: 0, data: 0, en: 0 });
  const read = table.readPort({ addr: 1, en: go });
  m.comb(word, read.data);
  return m;
}

describe("power-up", () => {
  it("emits every register with its reset value as a declaration initialiser", () => {
    const text = emitDesign(powerUpSample()).files[0].text;
    expect(text).toMatch(/reg  \[1:0\] ctl = 2'd1;/);
    expect(text).toMatch(/output reg  \[3:0\] count = 4'd9/);
    expect(text).toMatch(/reg  \[5:0\] stamp = 6'd43;/);
    expect(text).toMatch(/reg  \[7:0\] table_rdata = 8'd0;/);
  });

  it(`holds every register at its reset value before the first reset (${installedSimulators().join(", ")})`, async () => {
    // No reset at all: cycle 0 shows the power-up state, then `go` moves everything on.
    const runs = await runOnEverySimulator(powerUpSample(), { inputs: { go: [0, 1, 1, 0] }, cycles: 4, resetCycles: 0 });
    for (const [simulator, out] of Object.entries(runs)) {
      expect({ simulator, ...out }).toEqual({
        simulator,
        state_code: [1n, 1n, 2n, 0n], // RUN, RUN, DONE, IDLE
        count: [9n, 9n, 10n, 11n],
        stamp_out: [0x2bn, 0x2bn, 0x2cn, 0x2dn],
        word: [0n, 0n, 0x5an, 0x5an],
      });
    }
  }, 240_000);

  it("a reset puts the registers back, except the resetless one", async () => {
    const runs = await runOnEverySimulator(powerUpSample(), { inputs: { go: [1, 1, 1] }, cycles: 3, resetCycles: 2 });
    for (const [simulator, out] of Object.entries(runs)) {
      // Two reset cycles with go high: stamp (resetless) counted them, count did not.
      expect({ simulator, count: out.count, stamp_out: out.stamp_out }).toEqual({ simulator, count: [9n, 10n, 11n], stamp_out: [0x2dn, 0x2en, 0x2fn] });
    }
  }, 240_000);
});
