// The board's LEDs from the controller's status, on the PCIe user clock: each LED is a register
// (an output pin straight from a flip-flop), and the table below is the one place that says which
// LED means what (the board tops add the board-clock heartbeat as the eighth).
import { Module, cat } from "../../hdl/index.ts";
import { heartbeat } from "../lib/heartbeat.ts";

/** What each bit of `leds` shows, lowest first. */
export const STATUS_LEDS = [
  "link up (user_lnk_up: the data link layer is up)",
  "controller READY (bring-up done: Identify read, I/O queues created)",
  "controller fault (bring-up FAULT, or an I/O fault: a lost completion)",
  "link at Gen2 x4 (5 GT/s, four lanes)",
  "exerciser verified: at least one whole pass written and read back with no mismatch and no error",
  "exerciser failed: a read-back mismatch or a command error (held until reset)",
  "PCIe user clock heartbeat (the hard block's 250 MHz clock runs)",
] as const;

export interface StatusLedsParams {
  /** The heartbeat toggles every 2^heartbeatBit cycles (27 at 250 MHz: 0.93 Hz). */
  heartbeatBit: number;
}

export const STATUS_LEDS_250MHZ: StatusLedsParams = { heartbeatBit: 27 };

/** Registered LED outputs for the controller's state, the link and the exerciser. */
export function statusLeds(p: StatusLedsParams = STATUS_LEDS_250MHZ) {
  if (!Number.isInteger(p.heartbeatBit) || p.heartbeatBit < 1 || p.heartbeatBit > 40) throw new RangeError(`statusLeds: heartbeatBit = ${p.heartbeatBit}, must be an integer in 1..40`);
  const m = new Module(`status_leds_b${p.heartbeatBit}`);
  m.parameters({ heartbeatBit: p.heartbeatBit });
  const link_up = m.input(1);
  const ready = m.input(1);
  const fault = m.input(1);
  const io_fault = m.input(1);
  /** status_link_speed: 1 = 2.5 GT/s, 2 = 5 GT/s. */
  const link_speed = m.input(2);
  /** status_link_width: lanes. */
  const link_width = m.input(4);
  const exerciser_verified = m.input(1);
  const exerciser_failed = m.input(1);
  /** Bit i shows STATUS_LEDS[i]. */
  const leds = m.output(STATUS_LEDS.length);

  const beat = heartbeat(m, "beat", 2 ** p.heartbeatBit);
  const gen2_x4 = link_speed.eq(2).and(link_width.eq(4));
  // Most significant first: bit 6 down to bit 0 of STATUS_LEDS.
  m.sync(leds, cat(beat, exerciser_failed, exerciser_verified, gen2_x4.and(link_up), fault.or(io_fault), ready, link_up));
  return m.exposing({ link_up, ready, fault, io_fault, link_speed, link_width, exerciser_verified, exerciser_failed, leds });
}
