// A level from another clock domain (or a pin), brought into this module's clock: a chain of
// flip-flops marked ASYNC_REG, so that Vivado places them together and never folds them into a
// shift-register LUT, and the first one's metastability has a whole cycle to settle. Used for the
// board's reset button, for resets crossing into the PCIe user clock (a reset synchroniser: power
// up asserted, `powerUp` = 1) and for switches.
//
// The DSL has synchronous resets only, so the output follows the input in both directions after
// `stages` edges of this clock; a reset crossing in is therefore seen only while this clock runs,
// which the board tops arrange (the PCIe user clock's logic is held by user_reset_out until its
// clock is up anyway). The stages have no reset of their own: a reset of the synchroniser would have
// to come from the domain it is synchronising.
import { Module, cat } from "../../hdl/index.ts";

export interface BitSynchronizerParams {
  /** Flip-flops in the chain (>= 2). */
  stages: number;
  /** The value the chain powers up holding (1 for a reset: asserted from configuration on). */
  powerUp: 0 | 1;
}

/** Two flip-flops, power-up asserted: a reset synchroniser. */
export const RESET_SYNCHRONIZER: BitSynchronizerParams = { stages: 2, powerUp: 1 };
/** Two flip-flops, power-up 0: a switch or a status level. */
export const LEVEL_SYNCHRONIZER: BitSynchronizerParams = { stages: 2, powerUp: 0 };

/**
 * A 1-bit synchroniser: `level_out` is `level_in` `stages` clock edges later, through a chain of
 * ASYNC_REG flip-flops that power up holding `powerUp`.
 */
export function bitSynchronizer(p: BitSynchronizerParams = RESET_SYNCHRONIZER) {
  if (!Number.isInteger(p.stages) || p.stages < 2 || p.stages > 8) throw new RangeError(`bitSynchronizer: stages = ${p.stages}, must be an integer in 2..8`);
  if (p.powerUp !== 0 && p.powerUp !== 1) throw new RangeError(`bitSynchronizer: powerUp = ${String(p.powerUp)}, must be 0 or 1`);
  const m = new Module(`bit_synchronizer_s${p.stages}_p${p.powerUp}`);
  m.parameters({ stages: p.stages, powerUp: p.powerUp });
  /** The level to bring in: from another clock domain or a pin. */
  const level_in = m.input(1);
  /** `level_in`, `stages` edges of this clock later (a register). */
  const level_out = m.output(1);
  const stages = m.signal(p.stages, { reset: p.powerUp ? (1n << BigInt(p.stages)) - 1n : 0n, resetless: true, attributes: { ASYNC_REG: "TRUE" } });
  m.sync(stages, cat(stages.bits(p.stages - 2, 0), level_in));
  m.comb(level_out, stages.msb());
  return m.exposing({ level_in, level_out });
}
