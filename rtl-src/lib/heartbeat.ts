// Inline logic for the boards' heartbeat LEDs: a register that toggles every `halfPeriodCycles`
// cycles, timed by a countdown timer (lib/countdown-timer.ts: no carry chain longer than one of its
// pieces, so a 2^27-cycle period fits the logic-level budget). Builds no module.
import type { Module, Signal } from "../../hdl/index.ts";
import { countdownTimer } from "./countdown-timer.ts";

/** Drives and returns a register named `name` that toggles every `halfPeriodCycles` cycles (>= 2), starting at 0. */
export function heartbeat(m: Module, name: string, halfPeriodCycles: number): Signal {
  if (!Number.isSafeInteger(halfPeriodCycles) || halfPeriodCycles < 2 || halfPeriodCycles > 2 ** 40) {
    throw new RangeError(`heartbeat ${name}: halfPeriodCycles = ${halfPeriodCycles}, must be an integer in 2..2^40`);
  }
  const beat = m.signal(1, { name });
  const half_over = m.signal(1, { name: `${name}_half_over` });
  const timer = countdownTimer(m, `${name}_timer`, { maxCycles: halfPeriodCycles, loads: [{ when: half_over, cycles: halfPeriodCycles }], resetCycles: halfPeriodCycles });
  m.comb(half_over, timer.expired);
  m.If(half_over, () => m.sync(beat, beat.not()));
  return beat;
}
