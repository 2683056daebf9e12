// The bring-up blocks' countdown timer, split into pieces with registered zero flags: `expired`
// rises on exactly the cycle a plain counter loaded with the same wait would reach zero, for waits
// that cross every piece boundary, loads that interrupt a wait, loads in priority order, the wait
// that runs out of reset, and a timer without one (expired out of reset, its pieces resetless); a
// timer with `step` counts only the cycles where step is 1 (random ones here). Small pieces (2 and
// 3 bits) make every boundary reachable in a few hundred cycles.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { countdownTimer } from "../../../rtl-src/lib/countdown-timer.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

/** Three timers: one with a wait out of reset (2-bit pieces), one without (3-bit pieces of a 10-bit count), one that counts steps. */
const TIMERS = {
  timer: { loads: [1, 2, 4, 5, 16, 17, 64, 100], resetCycles: 37, pieceBits: 2, stepped: false },
  plain: { loads: [1, 8, 9, 518, 1000], resetCycles: undefined, pieceBits: 3, stepped: false },
  stepped: { loads: [1, 2, 5, 17, 40], resetCycles: undefined, pieceBits: 2, stepped: true },
} as const;
type TimerName = keyof typeof TIMERS;
const NAMES = Object.keys(TIMERS) as TimerName[];
const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

function timerDesign() {
  const m = new Module("countdown_timer_test_p2_p3");
  for (const name of NAMES) {
    const t = TIMERS[name];
    const load = m.input(t.loads.length, { name: `${name}_load` });
    const expired = m.output(1, { name: `${name}_expired_out` });
    const timer = countdownTimer(m, name, {
      maxCycles: Math.max(...t.loads),
      resetCycles: t.resetCycles,
      pieceBits: t.pieceBits,
      loads: t.loads.map((cycles, i) => ({ when: load.bit(i), cycles })),
      step: t.stepped ? m.input(1, { name: `${name}_step` }) : undefined,
    });
    m.comb(expired, timer.expired);
  }
  const { files, design } = emitDesign(m);
  return { top: design.top.name, sources: emittedSources(files) };
}

/** Random loads (sometimes several at once, sometimes in the middle of a wait) against a plain count per timer. */
function checkAgainstPlainCount(sim: Simulator, cycles: number, seed: number): void {
  const random = seededRandom(seed);
  for (const name of NAMES) sim.poke(`${name}_load`, 0);
  sim.poke("stepped_step", 0);
  sim.reset(2);
  // Cycles left after this one; the wait out of reset counts as a load in the reset cycle.
  const left = Object.fromEntries(NAMES.map((name) => [name, (TIMERS[name].resetCycles ?? 1) - 1])) as Record<TimerName, number>;
  const expirations = Object.fromEntries(NAMES.map((name) => [name, 0])) as Record<TimerName, number>;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const loads = {} as Record<TimerName, number>;
    const step = random() < 0.4 ? 1 : 0;
    sim.poke("stepped_step", step);
    for (const name of NAMES) {
      const n = TIMERS[name].loads.length;
      expect(sim.peek(`${name}_expired_out`), `${name} cycle ${cycle}: ${left[name]} cycles left`).toBe(left[name] === 0 ? 1 : 0);
      let load = 0;
      if (random() < (left[name] === 0 ? 0.3 : 0.02)) load = random() < 0.2 ? Math.floor(random() * 2 ** n) : 1 << Math.floor(random() * n);
      sim.poke(`${name}_load`, load);
      loads[name] = load;
    }
    sim.step();
    for (const name of NAMES) {
      if (left[name] === 1) expirations[name]++;
      if (loads[name] !== 0) {
        const first = TIMERS[name].loads.findIndex((_, i) => (loads[name] >> i) & 1);
        left[name] = TIMERS[name].loads[first] - 1;
      } else if (left[name] > 0 && (step === 1 || !TIMERS[name].stepped)) {
        left[name]--;
      }
    }
  }
  // Every wait length ran out at least once.
  for (const name of NAMES) expect(expirations[name], name).toBeGreaterThan(30);
}

describe("countdown timer", () => {
  const design = timerDesign();

  it.each(engines)("expires on the cycle a plain counter reaches zero (%s engine)", async (engine) => {
    const sim = await createSimulator({ ...design, engine });
    try {
      checkAgainstPlainCount(sim, 6000, engine === "js" ? 1 : 2);
    } finally {
      sim.close();
    }
  });

  it("rejects bad parameters and loads, naming them", () => {
    const m = new Module("countdown_timer_bad");
    const go = m.input(1);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [{ when: go, cycles: 11 }] })).toThrow(/countdownTimer t: loads\[0\].cycles 11/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [{ when: go, cycles: 0 }] })).toThrow(/cycles 0/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, resetCycles: 12, loads: [{ when: go, cycles: 3 }] })).toThrow(/resetCycles 12/);
    expect(() => countdownTimer(m, "t", { maxCycles: 0, loads: [{ when: go, cycles: 1 }] })).toThrow(/maxCycles 0/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, pieceBits: 0, loads: [{ when: go, cycles: 1 }] })).toThrow(/pieceBits 0/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [{ when: m.input(2), cycles: 1 }] })).toThrow(/loads\[0\].when is 2 bits/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [] })).toThrow(/no loads/);
    expect(() => countdownTimer(m, "t", { maxCycles: 10, loads: [{ when: go, cycles: 1 }], step: m.input(3) })).toThrow(/step is 3 bits/);
  });
});
