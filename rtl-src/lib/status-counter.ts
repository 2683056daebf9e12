// Inline logic for tlp_rx (its status counters); builds no module.
//
// A wrapping event counter for the receive parser's status outputs, built so that no carry chain is
// longer than one piece: a 32-bit `+ 1` is eight CARRY4 in a row, more logic levels than the
// parser's 250 MHz budget. The count is kept in pieces of PIECE_BITS; a piece steps when the event
// comes while every piece below it is all ones, which each lower piece tracks in a register of its
// own (set as it steps to all ones, cleared as it steps past). The concatenated value is exact on
// every cycle, as a plain counter's would be.
import { C, type Module, type Signal, type Value, cat } from "../../hdl/index.ts";

/** Four CARRY4 per piece. */
const PIECE_BITS = 16;

/**
 * Drives `counter` (assigned nowhere else) with the number of cycles `event` was high, modulo
 * 2^width; `name` prefixes its registers.
 */
export function statusCounter(m: Module, counter: Signal, event: Value, name: string, pieceBits = PIECE_BITS): void {
  if (event.width !== 1) throw new RangeError(`statusCounter ${name}: the event must be 1 bit, got ${event.width}`);
  if (!Number.isInteger(pieceBits) || pieceBits < 1) throw new RangeError(`statusCounter ${name}: pieceBits = ${pieceBits}, must be a positive integer`);
  const pieces: Signal[] = [];
  /** Every piece below the current one is all ones (undefined for the lowest). */
  let below_all_ones: Value | undefined;
  for (let lsb = 0; lsb < counter.width; lsb += pieceBits) {
    const msb = Math.min(lsb + pieceBits, counter.width) - 1;
    const piece = m.signal(msb - lsb + 1, { name: `${name}_${msb}_${lsb}` });
    const steps = below_all_ones === undefined ? event : event.and(below_all_ones);
    m.If(steps, () => m.sync(piece, piece.addWrap(1)));
    if (msb < counter.width - 1) {
      const all_ones = m.signal(1, { name: `${name}_${msb}_${lsb}_all_ones` });
      m.If(steps, () => m.sync(all_ones, piece.eq(C((1n << BigInt(piece.width)) - 2n, piece.width))));
      below_all_ones = below_all_ones === undefined ? all_ones : below_all_ones.and(all_ones);
    }
    pieces.push(piece);
  }
  m.comb(counter, cat(...pieces.reverse()));
}
