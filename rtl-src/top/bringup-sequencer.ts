// The order of the bring-up, from power-up (or `restart`) to READY: each phase is a block of its
// own (link training, root-port set-up, enumeration, the root port's MPS/MRRS, NVMe enable, the
// admin commands); this block starts one after the other, waits for its done or error, and keeps
// the first error with the phase it came from, the phase's own step and cause codes and a detail
// word (an NVMe status, a completion status). Every phase bounds its own waits, so the sequence always
// ends, in READY or in FAULT.
//
// Handshake with a phase: `<phase>_start` is high for the first cycle in the phase's state; the
// phase clears its done/error when it sees it, so that cycle's done/error (maybe the previous
// run's) is not looked at. From then on the first of done or error ends the phase.
//
// `restart` runs the whole sequence again from the link (PERST#). It is taken in READY or FAULT,
// and remembered if it comes while a phase runs, so no phase is ever cut off in the middle of an
// access: a TLP half sent or an access left waiting would outlive the restart. In READY, a link
// that goes down is a fault of its own (LINK_LOST).
import { Module, constant } from "../../hdl/index.ts";

/** The phases in order; each has <name>_start out and <name>_done/_error/_step/_code/_detail in. */
export const BRINGUP_PHASES = ["link", "root_port", "enumerate", "root_port_mps", "nvme_enable", "admin"] as const;
export type BringupPhase = (typeof BRINGUP_PHASES)[number];

/** The sequencer's states, in code order: `status_state` is the index in this list. */
export const BRINGUP_STATES = ["POWER_UP", "LINK", "ROOT_PORT", "ENUMERATE", "ROOT_PORT_MPS", "NVME_ENABLE", "ADMIN", "READY", "FAULT"] as const;
export type BringupState = (typeof BRINGUP_STATES)[number];

const PHASE_STATE: Record<BringupPhase, BringupState> = {
  link: "LINK",
  root_port: "ROOT_PORT",
  enumerate: "ENUMERATE",
  root_port_mps: "ROOT_PORT_MPS",
  nvme_enable: "NVME_ENABLE",
  admin: "ADMIN",
};

export const STATE_BITS = 4;
export const ERROR_STEP_BITS = 8;
export const ERROR_CODE_BITS = 8;
export const ERROR_DETAIL_BITS = 16;
/** `error_code` when the fault is the sequencer's own: the link went down while READY. */
export const LINK_LOST_CODE = 1;

/** Starts the bring-up phases in order and keeps the first error; READY when the last one is done. */
export function bringupSequencer() {
  const m = new Module("bringup_sequencer");

  /** A pulse: run the whole sequence again (taken in READY or FAULT, remembered until then). */
  const restart = m.input(1);
  /** user_lnk_up, watched while READY. */
  const link_up = m.input(1);

  const phases = BRINGUP_PHASES.map((name) => ({
    start: m.output(1, { name: `${name}_start` }),
    done: m.input(1, { name: `${name}_done` }),
    error: m.input(1, { name: `${name}_error` }),
    step: m.input(ERROR_STEP_BITS, { name: `${name}_step` }),
    code: m.input(ERROR_CODE_BITS, { name: `${name}_code` }),
    detail: m.input(ERROR_DETAIL_BITS, { name: `${name}_detail` }),
  }));

  /** The state, as its index in BRINGUP_STATES. */
  const state = m.output(STATE_BITS);
  const ready = m.output(1);
  const fault = m.output(1);
  /** The state the fault happened in (index in BRINGUP_STATES), and its phase's step, cause code and detail word. */
  const error_state = m.output(STATE_BITS);
  const error_step = m.output(ERROR_STEP_BITS);
  const error_code = m.output(ERROR_CODE_BITS);
  const error_detail = m.output(ERROR_DETAIL_BITS);

  const seq = m.fsm(BRINGUP_STATES, { name: "seq" });
  const stateCodes = BRINGUP_STATES.map((s, i) => constant(`STATE_${s}`, i, STATE_BITS));
  const linkLost = constant("ERROR_LINK_LOST", LINK_LOST_CODE, ERROR_CODE_BITS);
  // The first cycle in a state: a phase's start pulse, and the cycle its done/error are not yet its own.
  // Every transition goes to another state, so it is a register set with each one (and out of reset),
  // not a compare of the state with last cycle's: the phases' done/error (logic over the lanes in the
  // array cores) meet one flag on their way to the state register.
  const launching = m.signal(1, { reset: 1 });
  const go = (next: BringupState) => {
    seq.next(next);
    m.sync(launching, 1);
  };
  phases.forEach((phase, index) => m.comb(phase.start, seq.is(PHASE_STATE[BRINGUP_PHASES[index]]).and(launching)));
  const restart_pending = m.signal(1);
  m.If(restart, () => m.sync(restart_pending, 1)).Elif(seq.is("LINK").and(launching), () => m.sync(restart_pending, 0));

  const startPhase = (index: number) => go(PHASE_STATE[BRINGUP_PHASES[index]]);

  const handlers: Partial<Record<BringupState, () => void>> = {
    POWER_UP: () => startPhase(0),
    READY: () =>
      m.If(restart.or(restart_pending), () => startPhase(0)).Elif(link_up.not(), () => {
        m.sync(error_state, stateCodes[BRINGUP_STATES.indexOf("READY")]);
        m.sync(error_step, 0);
        m.sync(error_code, linkLost);
        m.sync(error_detail, 0);
        go("FAULT");
      }),
    FAULT: () =>
      m.If(restart.or(restart_pending), () => {
        m.sync(error_state, 0);
        m.sync(error_step, 0);
        m.sync(error_code, 0);
        m.sync(error_detail, 0);
        startPhase(0);
      }),
  };
  phases.forEach((phase, index) => {
    const here = PHASE_STATE[BRINGUP_PHASES[index]];
    handlers[here] = () =>
      m.If(launching.not().and(phase.error), () => {
        m.sync(error_state, stateCodes[BRINGUP_STATES.indexOf(here)]);
        m.sync(error_step, phase.step);
        m.sync(error_code, phase.code);
        m.sync(error_detail, phase.detail);
        go("FAULT");
      }).Elif(launching.not().and(phase.done), () => {
        if (index + 1 < phases.length) startPhase(index + 1);
        else go("READY");
      });
  });
  // Every state's handler clears launching first; `go` sets it with the transition.
  seq.body(Object.fromEntries(BRINGUP_STATES.map((state) => [state, () => {
    m.sync(launching, 0);
    handlers[state]?.();
  }])));

  m.comb(state, seq.state.zext(STATE_BITS));
  m.comb(ready, seq.is("READY"));
  m.comb(fault, seq.is("FAULT"));

  return m.exposing({ restart, link_up, phases, state, ready, fault, error_state, error_step, error_code, error_detail });
}
