// The bring-up blocks' countdown timer, split into pieces with registered zero flags: `expired`
// rises on exactly the cycle a plain counter loaded with the same wait would reach zero, for waits
// that cross every piece boundary, loads that interrupt a wait, loads in priority order, and the
// wait that runs out of reset. Small pieces (2 bits) make every boundary reachable in a few hundred
// cycles.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { countdownTimer } from "../../../rtl-src/lib/countdown-timer.ts";
import { type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/testbench/tlp-rx-traffic.ts";

const LOADS = [1, 2, 4, 5, 16, 17, 64, 100] as const;
const RESET_CYCLES = 37;

function timerDesign() {
  const m = new Module("countdown_timer_test_p2");
  const load = m.input(LOADS.length);
  const expired = m.output(1);
  const timer = countdownTimer(m, "timer", {
    maxCycles: 100,
    resetCycles: RESET_CYCLES,
    pieceBits: 2,
    loads: LOADS.map((cycles, i) => ({ when: load.bit(i), cycles })),
  });
  m.comb(expired, timer.expired);
  const { files, design } = emitDesign(m);
  return { top: design.top.name, sources: files.map((f) => ({ path: `generated/${f.fileName}`, text: f.text })) };
}

/** Random loads (sometimes several at once, sometimes in the middle of a wait) against a plain count. */
function checkAgainstPlainCount(sim: Simulator, cycles: number, seed: number): void {
  const random = seededRandom(seed);
  sim.poke("load", 0);
  sim.reset(2);
  // Cycles left after this one; the wait out of reset counts as a load in the reset cycle.
  let left = RESET_CYCLES - 1;
  let expirations = 0;
  for (let cycle = 0; cycle < cycles; cycle++) {
    expect(sim.peek("expired"), `cycle ${cycle}: ${left} cycles left`).toBe(left === 0 ? 1 : 0);
    let load = 0;
    if (random() < (left === 0 ? 0.3 : 0.02)) load = random() < 0.2 ? Math.floor(random() * 2 ** LOADS.length) : 1 << Math.floor(random() * LOADS.length);
    sim.poke("load", load);
    sim.step();
    if (left === 1) expirations++;
    if (load !== 0) {
      const first = LOADS.findIndex((_, i) => (load >> i) & 1);
      left = LOADS[first] - 1;
    } else if (left > 0) {
      left--;
    }
  }
  // Every wait length ran out at least once.
  expect(expirations).toBeGreaterThan(30);
}

describe("countdown timer", () => {
  const design = timerDesign();

  it("expires on the cycle a plain counter reaches zero (js engine)", async () => {
    const sim = await createSimulator({ ...design, engine: "js" });
    try {
      checkAgainstPlainCount(sim, 4000, 1);
    } finally {
      sim.close();
    }
  });

  it.skipIf(!verilatorAvailable())("expires on the cycle a plain counter reaches zero (Verilator)", async () => {
    const sim = await createSimulator({ ...design, engine: "verilator" });
    try {
      checkAgainstPlainCount(sim, 4000, 2);
    } finally {
      sim.close();
    }
  });

  it("rejects bad loads, naming them", () => {
    const m = new Module("countdown_timer_bad");
    const go = m.input(1);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [{ when: go, cycles: 11 }] })).toThrow(/countdownTimer t: loads\[0\].cycles 11/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [{ when: go, cycles: 0 }] })).toThrow(/cycles 0/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, resetCycles: 12, loads: [{ when: go, cycles: 3 }] })).toThrow(/resetCycles 12/);
  });
});
