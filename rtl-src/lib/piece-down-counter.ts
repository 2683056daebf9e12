// Inline logic for the I/O buffers' lengths (write_buffer's expected command length, 45 bits of
// words; read_buffer's read-out entries, 19 bits of beats; the SSD reads' beats); builds no module.
//
// A down-counter loaded with a value that is only known at run time, counting one step at a time,
// whose users need to know "is it zero" and "is it one" every cycle. A plain 45-bit decrement is
// twelve CARRY4 in a row, and a compare of the whole count after it two LUT levels more: far over
// the 6 logic levels of 250 MHz. As in countdown-timer.ts the count is kept in pieces of at most
// `pieceBits`: the lowest piece steps on every step, a higher one when every piece below it is
// zero (they borrow from it, wrapping to all ones), and each piece keeps a registered "I am zero"
// flag, the lowest also an "I am one" flag, set as it steps or loads. `one` is one LUT on the
// flags; `zero` a register of its own. The count is exact, as a plain counter's would be.
import { C, type Module, type Signal, type Value, cat } from "../../hdl/index.ts";

/** Two CARRY4 and an 8-input compare per piece. */
const PIECE_BITS = 8;

export interface PieceDownCounterOptions {
  /** Bits of the count. */
  width: number;
  /** 1: the count becomes `value` at the edge (wins over `step`). */
  load: Value;
  /** The value a load writes (`width` bits). */
  value: Value;
  /** 1: the count goes down by one at the edge. Never while it is zero (it would wrap). */
  step: Value;
  pieceBits?: number;
  /**
   * The flags of `value` (pieceFlagsOf(value)), registered by the caller beside it: a load then
   * copies flip-flops instead of comparing `value`, which keeps a late load decision short.
   */
  valueFlags?: Value;
}

export interface PieceDownCounter {
  /** The count is 0. */
  zero: Value;
  /** The count is 1. */
  one: Value;
}

/**
 * What a load of `value` sets the counter's flags to: bit i = piece i is zero, then "the count is
 * one", then "the count is zero" (pieces of `pieceBits`, as the counter cuts them).
 */
export function pieceFlagsOf(value: Value, pieceBits = PIECE_BITS): Value {
  const zeros: Value[] = [];
  for (let lsb = 0; lsb < value.width; lsb += pieceBits) zeros.push(value.bits(Math.min(lsb + pieceBits, value.width) - 1, lsb).eq(0));
  const lowPiece = value.bits(Math.min(pieceBits, value.width) - 1, 0);
  const higherZero = zeros.length === 1 ? C(1, 1) : cat(...zeros.slice(1)).all();
  return cat(value.eq(0), lowPiece.eq(1).and(higherZero), ...zeros.reverse());
}

/**
 * Drives a loadable down-counter named `name` (registers `<name>_<msb>_<lsb>` and their flags,
 * resetless except the flags, which reset to "zero").
 */
export function pieceDownCounter(m: Module, name: string, options: PieceDownCounterOptions): PieceDownCounter {
  const { width, load, value, step } = options;
  const pieceBits = options.pieceBits ?? PIECE_BITS;
  const fail = (why: string) => {
    throw new RangeError(`pieceDownCounter ${name}: ${why}`);
  };
  if (!Number.isInteger(width) || width < 2) fail(`width ${width} is not an integer >= 2`);
  if (!Number.isInteger(pieceBits) || pieceBits < 2) fail(`pieceBits ${pieceBits} is not an integer >= 2`);
  if (value.width !== width) fail(`value is ${value.width} bits, not ${width}`);
  if (load.width !== 1 || step.width !== 1) fail("load and step must be 1 bit");

  const ranges: { lsb: number; msb: number }[] = [];
  for (let lsb = 0; lsb < width; lsb += pieceBits) ranges.push({ lsb, msb: Math.min(lsb + pieceBits, width) - 1 });
  const pieces: Signal[] = [];
  const zeros: Signal[] = [];
  for (const r of ranges) {
    pieces.push(m.signal(r.msb - r.lsb + 1, { name: `${name}_${r.msb}_${r.lsb}`, resetless: true }));
    zeros.push(m.signal(1, { name: `${name}_${r.msb}_${r.lsb}_zero`, reset: 1 }));
  }
  const low_one = m.signal(1, { name: `${name}_${ranges[0].msb}_0_one` });
  const all = (flags: readonly Value[]) => (flags.length === 1 ? flags[0] : cat(...flags).all());
  const higher_zero = zeros.length === 1 ? C(1, 1) : all(zeros.slice(1));
  const one = zeros.length === 1 ? low_one : low_one.and(higher_zero);

  const flags = options.valueFlags ?? pieceFlagsOf(value, pieceBits);
  if (flags.width !== ranges.length + 2) fail(`valueFlags is ${flags.width} bits, not ${ranges.length + 2} (pieceFlagsOf(value))`);
  m.If(load, () => {
    ranges.forEach((r, i) => {
      m.sync(pieces[i], value.bits(r.msb, r.lsb));
      m.sync(zeros[i], flags.bit(i));
    });
    m.sync(low_one, flags.bit(ranges.length));
  }).Elif(step, () => {
    ranges.forEach((r, i) => {
      const body = () => {
        m.sync(pieces[i], pieces[i].subWrap(1));
        m.sync(zeros[i], pieces[i].eq(1));
        if (i === 0) m.sync(low_one, pieces[i].eq(C(2, pieces[i].width)));
      };
      if (i === 0) body();
      else m.If(all(zeros.slice(0, i)), body);
    });
  });
  // The whole count is 0: a register of its own (users put it before late logic such as an input
  // ready), built only when a user asks for it.
  let all_zero: Signal | undefined;
  return {
    get zero(): Value {
      if (!all_zero) {
        const flag = m.signal(1, { name: `${name}_zero`, reset: 1 });
        m.If(load, () => m.sync(flag, flags.bit(ranges.length + 1))).Elif(step, () => m.sync(flag, one));
        all_zero = flag;
      }
      return all_zero;
    },
    one,
  };
}
