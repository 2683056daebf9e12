// Inline logic for the bring-up blocks' waits and timeouts (PERST#, link-up, the 100 ms
// configuration delay, CRS retries, CSTS poll intervals, the ready and command timeouts); builds no
// module.
//
// One down-counter serves every wait of a sequencer: each wait loads it with its own constant, and
// it counts to zero and stays there. Timeouts on hardware are long (5 s at 250 MHz is 1.25e9
// cycles, 31 bits), and a 31-bit decrement is eight CARRY4 in a row, over the 6 logic levels of the
// 250 MHz budget. So the count is kept in pieces of at most `pieceBits` (a decimal counter's
// digits, in base 2^pieceBits): the lowest piece steps every cycle, a higher one when every piece
// below it is zero, and each piece keeps a registered "I am zero" flag (set as it steps down from 1,
// or by a load of 0), so no comparison of the whole count sits anywhere. `expired` is the AND of the
// flags. The count is exact: a plain counter loaded with the same value would reach zero on the
// same cycle.
//
// The loads are constants, so their pieces and zero flags are constants too: a load costs one
// multiplexer input per register, not a comparison.
//
// With `step`, the counter counts events rather than cycles: it moves only in the cycles where
// `step` is 1 (nvme_erase counts its Sanitize Status polls so).
import { C, type Module, type Signal, type Value, bitsFor, cat } from "../../hdl/index.ts";

/**
 * Two CARRY4 and an 8-input zero test per piece: the timer's registers sit at most 4 logic levels
 * behind their sources in every user, admin_engine's 41-bit command timer included (12-bit pieces:
 * up to 5).
 */
const PIECE_BITS = 8;

export interface CountdownLoad {
  /** 1 in the cycle the wait starts (the cycle whose edge enters the waiting state). */
  when: Value;
  /** The wait's length: `expired` is 1 in the `cycles`-th cycle after `when` (>= 1), and after. */
  cycles: number;
}

export interface CountdownTimerOptions {
  /** The longest wait any load asks for; sets the counter's width. */
  maxCycles: number;
  /** The waits, in priority order when two `when`s are high together. */
  loads: readonly CountdownLoad[];
  /** The wait running out of reset (as if loaded in the reset cycle); none: expired out of reset. */
  resetCycles?: number;
  pieceBits?: number;
  /** Count only the cycles where this is 1 (default: every cycle); a wait of N then lasts N - 1 steps after its load. */
  step?: Value;
}

export interface CountdownTimer {
  /** 1 once the last load's wait has run out (and until the next load). */
  expired: Value;
}

/**
 * Drives a down-counter named `name` (registers `<name>_<msb>_<lsb>` and their zero flags), loaded
 * by `loads`; a state that leaves on `expired` and was entered with a load of N cycles lasts exactly
 * N cycles.
 */
export function countdownTimer(m: Module, name: string, options: CountdownTimerOptions): CountdownTimer {
  const { maxCycles, loads } = options;
  const pieceBits = options.pieceBits ?? PIECE_BITS;
  const fail = (why: string) => {
    throw new RangeError(`countdownTimer ${name}: ${why}`);
  };
  if (!Number.isSafeInteger(maxCycles) || maxCycles < 1 || maxCycles > 2 ** 41) fail(`maxCycles ${maxCycles} is not an integer in 1..2^41`);
  if (!Number.isInteger(pieceBits) || pieceBits < 1) fail(`pieceBits ${pieceBits} is not a positive integer`);
  const checkCycles = (what: string, cycles: number) => {
    if (!Number.isSafeInteger(cycles) || cycles < 1 || cycles > maxCycles) fail(`${what} ${cycles} is not an integer in 1..maxCycles (${maxCycles})`);
  };
  if (loads.length === 0) fail("no loads");
  loads.forEach((load, i) => {
    if (load.when.width !== 1) fail(`loads[${i}].when is ${load.when.width} bits, not 1`);
    checkCycles(`loads[${i}].cycles`, load.cycles);
  });
  if (options.resetCycles !== undefined) checkCycles("resetCycles", options.resetCycles);
  if (options.step !== undefined && options.step.width !== 1) fail(`step is ${options.step.width} bits, not 1`);

  // The counter holds the cycles left after the current one: a load of N cycles writes N - 1.
  const width = Math.max(1, bitsFor(maxCycles - 1));
  const ranges: { lsb: number; bits: number }[] = [];
  for (let lsb = 0; lsb < width; lsb += pieceBits) ranges.push({ lsb, bits: Math.min(pieceBits, width - lsb) });
  const pieceOf = (count: number, r: { lsb: number; bits: number }) => Math.floor(count / 2 ** r.lsb) % 2 ** r.bits;
  const resetCount = options.resetCycles === undefined ? 0 : options.resetCycles - 1;

  const pieces: Signal[] = [];
  const zeros: Signal[] = [];
  for (const r of ranges) {
    const msb = r.lsb + r.bits - 1;
    const initial = pieceOf(resetCount, r);
    // Without a wait out of reset the pieces need no reset: every zero flag resets to 1, so nothing
    // steps or reads them until a load has written every piece.
    const pieceReset = options.resetCycles === undefined ? { resetless: true } : { reset: initial };
    pieces.push(m.signal(r.bits, { name: `${name}_${msb}_${r.lsb}`, ...pieceReset }));
    zeros.push(m.signal(1, { name: `${name}_${msb}_${r.lsb}_zero`, reset: initial === 0 ? 1 : 0 }));
  }
  // Not registered: the flags are, and `expired` is one LUT on them (up to six pieces).
  const expired = zeros.length === 1 ? zeros[0] : cat(...zeros).all();
  const running = expired.not();
  /** The count moves this cycle. */
  const moves = options.step === undefined ? running : running.and(options.step);

  const loadAll = (cycles: number) => {
    ranges.forEach((r, i) => {
      const value = pieceOf(cycles - 1, r);
      m.sync(pieces[i], C(value, r.bits));
      m.sync(zeros[i], value === 0 ? 1 : 0);
    });
  };
  const countDown = () => {
    ranges.forEach((r, i) => {
      // A piece steps when every piece below it is zero (the lowest: always), while the count runs.
      const below = zeros.slice(0, i);
      const steps = below.length === 0 ? moves : moves.and(below.length === 1 ? below[0] : cat(...below).all());
      m.If(steps, () => {
        m.sync(pieces[i], pieces[i].subWrap(1));
        m.sync(zeros[i], pieces[i].eq(1));
      });
    });
  };
  let chain = m.If(loads[0].when, () => loadAll(loads[0].cycles));
  for (const load of loads.slice(1)) chain = chain.Elif(load.when, () => loadAll(load.cycles));
  chain.Else(countDown);
  return { expired };
}
