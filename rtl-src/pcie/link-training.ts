// Reset and link of the SSD below the 7-series root port (facts digest §0 #8, §A.2 pl_* ports,
// §A.6 steps 0-1): PERST# low for `perstCycles` (the CEM specification's 100 ms), released; then
// `user_lnk_up` within `linkUpTimeoutCycles`, or the error NO_LINK; then `configDelayCycles` (the
// base specification's 100 ms before the first configuration request, at 5 GT/s and below) during
// which the link must stay up (else LINK_LOST). If both ends are Gen2-capable (`pl_link_gen2_cap`)
// and the link came up at 2.5 GT/s (`pl_sel_lnk_rate` = 0), a directed speed change follows:
// `pl_directed_link_change` = 2'b10 with `pl_directed_link_speed` = 1 (5 GT/s), held until
// `pl_directed_change_done` or `speedChangeTimeoutCycles`. A speed change that never reports done is
// not fatal: the request is withdrawn, `speed_change_timed_out` says so, and the speed reached is
// reported as it is. Then `user_lnk_up` again within `linkUpTimeoutCycles` (else LINK_LOST), and
// `done` with the link's speed and width as the core reports them. After `done` the link is
// watched: a drop of `user_lnk_up` ends in LINK_LOST (everything above the link has to start again).
//
// The sequence runs out of reset (PERST# is low from power-up: the SSD is held in reset while the
// FPGA configures), and again from the start on a `start` pulse in any state: PERST# is asserted
// anew, so a restart is a conventional reset of the SSD. Every wait is bounded by one of the four
// timing parameters; one countdown timer (lib/countdown-timer.ts) times them all, and a state that
// ends on it lasts exactly its parameter's cycles (PERST# is low for exactly `perstCycles`).
//
// The directed change's width field asks for the current width (a speed-only change ignores it
// anyway), and the change is not marked autonomous: it is the controller's own decision, not a
// reaction to a reliability problem (autonomous changes are for those). Every output is a register
// but `pl_directed_link_auton`, a constant.
import { C, Module, type Value, cat, constant, mux } from "../../hdl/index.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";

export interface LinkTrainingParams {
  /** PERST# low time, cycles (>= 1). */
  perstCycles: number;
  /** Longest wait for user_lnk_up, after PERST# and after a speed change, cycles. */
  linkUpTimeoutCycles: number;
  /** Wait after user_lnk_up before the first configuration request may go out, cycles. */
  configDelayCycles: number;
  /** Longest wait for pl_directed_change_done, cycles. */
  speedChangeTimeoutCycles: number;
}

/** `error_code` values, in this order from 1 (0 = none). */
export const LINK_TRAINING_ERRORS = ["NO_LINK", "LINK_LOST"] as const;
export type LinkTrainingError = (typeof LINK_TRAINING_ERRORS)[number];
export const linkTrainingErrorCode = (error: LinkTrainingError) => LINK_TRAINING_ERRORS.indexOf(error) + 1;

/** pl_directed_link_change: 2'b10 asks for a speed change only (facts digest §A.2). */
const DIRECTED_CHANGE_SPEED = 0b10;
/** pl_directed_link_speed: 1 = 5.0 GT/s. */
const DIRECTED_SPEED_5GT = 1;
/** More than a second of 250 MHz cycles would be a mistake, not a choice. */
const MAX_WAIT_CYCLES = 2 ** 32;

function checkParams(p: LinkTrainingParams): void {
  for (const key of ["perstCycles", "linkUpTimeoutCycles", "configDelayCycles", "speedChangeTimeoutCycles"] as const) {
    const value = p[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > MAX_WAIT_CYCLES) {
      throw new RangeError(`link training: ${key} ${value} is not an integer in 1..2^32`);
    }
  }
}

/**
 * PERST#, link-up, the configuration delay and the directed speed change to 5 GT/s of the SSD
 * below the root port; `done` with the link speed and width, or `error` with NO_LINK/LINK_LOST.
 */
export function linkTraining(p: LinkTrainingParams) {
  checkParams(p);
  const m = new Module(`link_training_p${p.perstCycles}_l${p.linkUpTimeoutCycles}_c${p.configDelayCycles}_s${p.speedChangeTimeoutCycles}`);
  m.parameters({ ...p });

  /** A pulse: start again from PERST#, in any state. */
  const start = m.input(1);
  /** The core's user_lnk_up: Data Link Layer up. */
  const user_lnk_up = m.input(1);
  /** 0 = 2.5 GT/s, 1 = 5.0 GT/s. */
  const pl_sel_lnk_rate = m.input(1);
  /** 00 x1, 01 x2, 10 x4, 11 x8. */
  const pl_sel_lnk_width = m.input(2);
  /** Both ends of the link are Gen2-capable. */
  const pl_link_gen2_cap = m.input(1);
  const pl_directed_change_done = m.input(1);
  const pl_ltssm_state = m.input(6);

  /** The SSD's PERST#, active low; low from power-up. */
  const perst_n = m.output(1);
  const busy = m.output(1, { reset: 1 });
  const done = m.output(1);
  const error = m.output(1);
  /** LINK_TRAINING_ERRORS position + 1; 0 while no error. */
  const error_code = m.output(2);
  /** pl_ltssm_state when NO_LINK was reported: where training got stuck (Detect, Polling, ...). */
  const error_ltssm_state = m.output(6);
  /** With `done`: 1 = 2.5 GT/s, 2 = 5.0 GT/s (the Link Status encoding). */
  const link_speed = m.output(2);
  /** With `done`: lanes, 1, 2, 4 or 8. */
  const link_width = m.output(4);
  /** The speed change was asked for and pl_directed_change_done never came. */
  const speed_change_timed_out = m.output(1);
  const pl_directed_link_change = m.output(2);
  const pl_directed_link_speed = m.output(1);
  const pl_directed_link_width = m.output(2);
  const pl_directed_link_auton = m.output(1);

  const step = m.fsm(["PERST", "WAIT_LINK", "CONFIG_DELAY", "SPEED_CHANGE", "WAIT_RELINK", "DONE", "FAULT"]);

  // What happens this cycle, one name per transition (none of them while `start` is high).
  const not_restarting = start.not();
  const wait_over = m.signal(1);
  const perst_over = not_restarting.and(step.is("PERST")).and(wait_over);
  const link_came_up = not_restarting.and(step.is("WAIT_LINK")).and(user_lnk_up);
  const no_link = not_restarting.and(step.is("WAIT_LINK")).and(user_lnk_up.not()).and(wait_over);
  const config_wait_over = not_restarting.and(step.is("CONFIG_DELAY")).and(user_lnk_up).and(wait_over);
  // Both ends can do 5 GT/s and the link came up at 2.5.
  const wants_gen2 = pl_link_gen2_cap.and(pl_sel_lnk_rate.not());
  const change_speed = config_wait_over.and(wants_gen2);
  const change_over = not_restarting.and(step.is("SPEED_CHANGE")).and(pl_directed_change_done.or(wait_over));
  const relinked = not_restarting.and(step.is("WAIT_RELINK")).and(user_lnk_up);
  const trained = config_wait_over.and(wants_gen2.not()).or(relinked);
  const link_lost = not_restarting.and(
    step.is("CONFIG_DELAY").and(user_lnk_up.not())
      .or(step.is("WAIT_RELINK").and(user_lnk_up.not()).and(wait_over))
      .or(step.is("DONE").and(user_lnk_up.not())),
  );

  const timer = countdownTimer(m, "wait_timer", {
    maxCycles: Math.max(p.perstCycles, p.linkUpTimeoutCycles, p.configDelayCycles, p.speedChangeTimeoutCycles),
    resetCycles: p.perstCycles,
    loads: [
      { when: start, cycles: p.perstCycles },
      { when: perst_over, cycles: p.linkUpTimeoutCycles },
      { when: link_came_up, cycles: p.configDelayCycles },
      { when: change_speed, cycles: p.speedChangeTimeoutCycles },
      { when: change_over, cycles: p.linkUpTimeoutCycles },
    ],
  });
  m.comb(wait_over, timer.expired);

  type Step = Parameters<typeof step.next>[0];
  /** `start` first, then each [event, state] in order. */
  const goes = (...moves: [Value, Step][]) => () => {
    const chain = m.If(start, () => step.next("PERST"));
    for (const [when, state] of moves) chain.Elif(when, () => step.next(state));
  };
  step.body({
    PERST: goes([perst_over, "WAIT_LINK"]),
    WAIT_LINK: goes([link_came_up, "CONFIG_DELAY"], [no_link, "FAULT"]),
    CONFIG_DELAY: goes([change_speed, "SPEED_CHANGE"], [trained, "DONE"], [link_lost, "FAULT"]),
    SPEED_CHANGE: goes([change_over, "WAIT_RELINK"]),
    WAIT_RELINK: goes([trained, "DONE"], [link_lost, "FAULT"]),
    DONE: goes([link_lost, "FAULT"]),
    FAULT: goes(),
  });

  const errorNoLink = constant("ERROR_NO_LINK", linkTrainingErrorCode("NO_LINK"), 2);
  const errorLinkLost = constant("ERROR_LINK_LOST", linkTrainingErrorCode("LINK_LOST"), 2);
  m.If(start, () => {
    m.sync(perst_n, 0);
    m.sync(busy, 1);
    m.sync(done, 0);
    m.sync(error, 0);
    m.sync(error_code, 0);
    m.sync(error_ltssm_state, 0);
    m.sync(link_speed, 0);
    m.sync(link_width, 0);
    m.sync(speed_change_timed_out, 0);
    m.sync(pl_directed_link_change, 0);
    m.sync(pl_directed_link_speed, 0);
  })
    .Elif(perst_over, () => m.sync(perst_n, 1))
    .Elif(change_speed, () => {
      m.sync(pl_directed_link_change, DIRECTED_CHANGE_SPEED);
      m.sync(pl_directed_link_speed, DIRECTED_SPEED_5GT);
      m.sync(pl_directed_link_width, pl_sel_lnk_width);
    })
    .Elif(change_over, () => {
      m.sync(pl_directed_link_change, 0);
      m.sync(pl_directed_link_speed, 0);
      m.sync(speed_change_timed_out, pl_directed_change_done.not());
    })
    .Elif(trained, () => {
      m.sync(busy, 0);
      m.sync(done, 1);
      // The Link Status encodings of what the core reports: speed 1/2 from the rate bit, lanes 1 << code.
      m.sync(link_speed, cat(pl_sel_lnk_rate, pl_sel_lnk_rate.not()));
      m.sync(link_width, C(1, 4).shlBy(pl_sel_lnk_width));
    })
    .Elif(no_link.or(link_lost), () => {
      m.sync(busy, 0);
      m.sync(done, 0);
      m.sync(error, 1);
      m.sync(error_code, mux(no_link, errorNoLink, errorLinkLost));
      m.If(no_link, () => m.sync(error_ltssm_state, pl_ltssm_state));
    });
  m.comb(pl_directed_link_auton, 0);

  return m.exposing({
    start,
    user_lnk_up,
    pl_sel_lnk_rate,
    pl_sel_lnk_width,
    pl_link_gen2_cap,
    pl_directed_change_done,
    pl_ltssm_state,
    perst_n,
    busy,
    done,
    error,
    error_code,
    error_ltssm_state,
    link_speed,
    link_width,
    speed_change_timed_out,
    pl_directed_link_change,
    pl_directed_link_speed,
    pl_directed_link_width,
    pl_directed_link_auton,
  });
}
