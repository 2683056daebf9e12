// The board-clock side of a board top: the reset of the pcie_7x hard block and a heartbeat LED,
// both on the board's free-running system clock, so they work before (and whether or not) the PCIe
// reference clock and the hard block's user clock run.
//
// `pcie_reset_n` (the block's asynchronous, active-low `sys_rst_n`) is held low for `holdCycles`
// after configuration and after every press of the board's reset button, and while it is pressed:
// the block starts only once the board's clocks have settled, and the button restarts everything
// (the block's user_reset_out then holds the controller, which starts again from PERST#). The
// button is synchronised first (bit_synchronizer); the hold time debounces it. The heartbeat blinks
// at the board clock / 2^(heartbeatBit + 1): proof that the bitstream runs.
import { Module } from "../../hdl/index.ts";
import { LEVEL_SYNCHRONIZER, bitSynchronizer } from "../lib/bit-synchronizer.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { heartbeat as heartbeatRegister } from "../lib/heartbeat.ts";

export interface BoardResetParams {
  /** Board-clock cycles `pcie_reset_n` stays low after configuration and after the button (>= 1). */
  holdCycles: number;
  /** The heartbeat toggles every 2^heartbeatBit cycles: period 2^(heartbeatBit + 1) cycles. */
  heartbeatBit: number;
}

/** At the boards' 200 MHz: a 10.5 ms hold (2^21 cycles) and a heartbeat of 1.5 Hz (bit 26). */
export const BOARD_RESET_200MHZ: BoardResetParams = { holdCycles: 2 ** 21, heartbeatBit: 26 };

/** The hard block's reset and a heartbeat, on the board's system clock. */
export function boardReset(p: BoardResetParams = BOARD_RESET_200MHZ) {
  if (!Number.isSafeInteger(p.holdCycles) || p.holdCycles < 1 || p.holdCycles > 2 ** 32) throw new RangeError(`boardReset: holdCycles = ${p.holdCycles}, must be an integer in 1..2^32`);
  if (!Number.isInteger(p.heartbeatBit) || p.heartbeatBit < 1 || p.heartbeatBit > 40) throw new RangeError(`boardReset: heartbeatBit = ${p.heartbeatBit}, must be an integer in 1..40`);
  const m = new Module(`board_reset_h${p.holdCycles}_b${p.heartbeatBit}`);
  m.parameters({ holdCycles: p.holdCycles, heartbeatBit: p.heartbeatBit });
  /** The board's reset button, active high, straight from its pin. */
  const reset_button = m.input(1);
  /** To pcie_7x `sys_rst_n`: low from configuration, while the button is pressed, and `holdCycles` after either. */
  const pcie_reset_n = m.output(1);
  /** A square wave of 2^(heartbeatBit + 1) cycles, for an LED. */
  const heartbeat = m.output(1);

  const button = m.instance(bitSynchronizer(LEVEL_SYNCHRONIZER), { name: "button_sync" });
  m.comb(button.ports.level_in, reset_button);
  const pressed = button.ports.level_out;
  const hold = countdownTimer(m, "hold", { maxCycles: p.holdCycles, loads: [{ when: pressed, cycles: p.holdCycles }], resetCycles: p.holdCycles });
  m.sync(pcie_reset_n, hold.expired.and(pressed.not()));

  m.comb(heartbeat, heartbeatRegister(m, "beat", 2 ** p.heartbeatBit));
  return m.exposing({ reset_button, pcie_reset_n, heartbeat });
}
