// Inline logic for the bring-up blocks' timers (poll intervals, ready and command timeouts); builds
// no module.
//
// A down-counter loaded with a number of cycles, and a flag that says it has run out. Timeouts on
// hardware are long (5 s is 1.25e9 cycles at 250 MHz, 31 bits), and a 31-bit decrement is eight
// CARRY4 in a row, over the 250 MHz budget. So the count is kept in pieces of at most PIECE_BITS,
// each with a registered "this piece is zero" flag: the lowest piece steps every cycle, a higher
// one steps (borrows) when every piece below it is zero, which the flags tell without a carry
// chain across pieces. The concatenated pieces hold the exact count on every cycle, as a plain
// counter would.
import { C, type Module, type Signal, type Value, type ValueLike, cat } from "../../hdl/index.ts";

/** Three CARRY4 per piece. */
const PIECE_BITS = 12;

export interface CountdownOptions {
  /** Bits of the count (the largest value loaded must fit). */
  width: number;
  /** 1 in a cycle: the count becomes `value` at this edge. */
  load: Value;
  /** Cycles to run: `expired` rises this many edges after the load edge (0: at once). */
  value: ValueLike;
  pieceBits?: number;
}

export interface Countdown {
  /** 1 when the count is zero: `value` cycles have passed since the load (and before any load: it powers up at zero). */
  expired: Value;
  /** The count, for tests and status outputs. */
  count: Value;
}

/** A down-counter in pieces, loaded with `value` when `load` is high; `name` prefixes its registers. */
export function countdown(m: Module, name: string, options: CountdownOptions): Countdown {
  const { width, load } = options;
  const pieceBits = options.pieceBits ?? PIECE_BITS;
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`countdown ${name}: width = ${width}, must be a positive integer`);
  if (!Number.isInteger(pieceBits) || pieceBits < 1) throw new RangeError(`countdown ${name}: pieceBits = ${pieceBits}, must be a positive integer`);
  if (load.width !== 1) throw new RangeError(`countdown ${name}: load must be 1 bit, got ${load.width}`);
  const given = options.value;
  if (typeof given === "number" || typeof given === "bigint") {
    if (BigInt(given) < 0n || BigInt(given) >= 1n << BigInt(width)) throw new RangeError(`countdown ${name}: value ${given} does not fit ${width} bits`);
  } else if (given.width !== width) {
    throw new RangeError(`countdown ${name}: value is ${given.width} bits, the count ${width}`);
  }
  /** Bits [msb:lsb] of the loaded value: a constant per piece when the value is a number. */
  const slice = (msb: number, lsb: number): Value =>
    typeof given === "number" || typeof given === "bigint" ? C((BigInt(given) >> BigInt(lsb)) & ((1n << BigInt(msb - lsb + 1)) - 1n), msb - lsb + 1) : given.bits(msb, lsb);

  const pieces: Signal[] = [];
  const zeros: Signal[] = [];
  for (let lsb = 0; lsb < width; lsb += pieceBits) {
    const msb = Math.min(lsb + pieceBits, width) - 1;
    pieces.push(m.signal(msb - lsb + 1, { name: `${name}_${msb}_${lsb}`, resetless: true }));
    // Powers up (and resets) at "zero", so the counter starts expired, never running by accident.
    zeros.push(m.signal(1, { name: `${name}_${msb}_${lsb}_zero`, reset: 1 }));
  }
  const expired = zeros.length === 1 ? zeros[0] : cat(...zeros).all();
  pieces.forEach((piece, i) => {
    const lsb = i * pieceBits;
    const loaded = slice(lsb + piece.width - 1, lsb);
    // A piece steps when the count is running and every piece below it is zero (its borrow).
    const below = zeros.slice(0, i);
    const steps = below.length === 0 ? expired.not() : expired.not().and(below.length === 1 ? below[0] : cat(...below).all());
    m.If(load, () => {
      m.sync(piece, loaded);
      m.sync(zeros[i], loaded.eq(0));
    }).Elif(steps, () => {
      m.sync(piece, piece.subWrap(1));
      m.sync(zeros[i], piece.eq(1));
    });
  });
  return { expired, count: cat(...[...pieces].reverse()) };
}
