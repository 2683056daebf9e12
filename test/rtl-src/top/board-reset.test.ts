// The board-clock side of a board top: pcie_reset_n low from configuration for exactly the hold
// time (plus the button synchroniser's two cycles), low again while the button is pressed and the
// hold time after its release, glitches of the button restart the hold; the heartbeat toggles every
// 2^heartbeatBit cycles. Short parameters; the hardware's are checked by the board tops' tests.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { BOARD_RESET_200MHZ, boardReset } from "../../../rtl-src/top/board-reset.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const HOLD = 37;
const BEAT_BIT = 3;

/** Cycles until pcie_reset_n rises, checking it stays low until then. */
function cyclesUntilReleased(sim: Simulator, limit: number): number {
  for (let cycle = 0; cycle < limit; cycle++) {
    if (sim.peek("pcie_reset_n") === 1) return cycle;
    sim.step();
  }
  throw new Error(`pcie_reset_n still low after ${limit} cycles`);
}

describe.each(engines)("board_reset on the %s engine", (engine) => {
  it("holds the hard block in reset after configuration and after the button, and beats its heart", async () => {
    const module = boardReset({ holdCycles: HOLD, heartbeatBit: BEAT_BIT });
    const { files } = emitDesign(module);
    const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine });
    try {
      sim.poke("reset_button", 0);
      // From power-up, no reset pulse: low for exactly the hold time.
      expect(cyclesUntilReleased(sim, 200)).toBe(HOLD);
      // A press: low two cycles later (the synchroniser), for as long as it lasts, then the hold time.
      sim.poke("reset_button", 1);
      sim.step(2);
      expect(sim.peek("pcie_reset_n")).toBe(1);
      sim.step();
      expect(sim.peek("pcie_reset_n")).toBe(0);
      sim.step(100);
      expect(sim.peek("pcie_reset_n")).toBe(0);
      sim.poke("reset_button", 0);
      expect(cyclesUntilReleased(sim, 200)).toBe(HOLD + 2);
      // A bounce in the middle of the hold starts it again.
      sim.poke("reset_button", 1);
      sim.step(5);
      sim.poke("reset_button", 0);
      sim.step(20);
      sim.poke("reset_button", 1);
      sim.step();
      sim.poke("reset_button", 0);
      expect(cyclesUntilReleased(sim, 200)).toBe(HOLD + 2);
      // The heartbeat: a square wave of 2 x 2^BEAT_BIT cycles.
      const edges: number[] = [];
      let last = sim.peek("heartbeat");
      for (let cycle = 0; cycle < 100; cycle++) {
        sim.step();
        const now = sim.peek("heartbeat");
        if (now !== last) edges.push(cycle);
        last = now;
      }
      const gaps = edges.slice(1).map((e, i) => e - edges[i]);
      expect(gaps.length).toBeGreaterThan(5);
      expect(new Set(gaps)).toEqual(new Set([2 ** BEAT_BIT]));
    } finally {
      sim.close();
    }
  });
});

describe("board_reset's parameters", () => {
  it("for the boards: a 10 ms hold and a heartbeat near 1.5 Hz at 200 MHz; bad values are refused", () => {
    expect(BOARD_RESET_200MHZ.holdCycles / 200e6).toBeGreaterThan(0.01);
    expect(200e6 / 2 ** (BOARD_RESET_200MHZ.heartbeatBit + 1)).toBeCloseTo(1.49, 1);
    expect(() => boardReset({ holdCycles: 0, heartbeatBit: 3 })).toThrow(/holdCycles = 0/);
    expect(() => boardReset({ holdCycles: 10, heartbeatBit: 0 })).toThrow(/heartbeatBit = 0/);
    const { design } = emitDesign(boardReset({ holdCycles: 10, heartbeatBit: 3 }));
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
  });
});
