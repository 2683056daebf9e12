// Inline logic for the busy / done / error outputs of the bring-up blocks (root_port_setup,
// pcie_enumerator, admin_bringup); builds no module.
//
// A run starts on `start`: busy set, done and error cleared. It ends in error on `fail` (busy
// cleared, error set) or completes on `finish` (busy cleared, done set). Start wins over fail, and
// fail over finish, so a block restarted in the cycle it fails runs again, and a step that both
// fails and would finish fails. Each event's `on...` body runs in the same branch: the place to
// clear a run's results and error details, or to record them.
import type { IfChain, Module, Signal, Value } from "../../hdl/index.ts";

export interface RunStatusFlags {
  busy: Signal;
  done: Signal;
  error: Signal;
}

export interface RunStatusEvents {
  start: Value;
  fail: Value;
  finish: Value;
  onStart?: () => void;
  onFail?: () => void;
  onFinish?: () => void;
}

/**
 * Drives `busy`, `done` and `error` from the events; returns the chain, so that lower-priority
 * branches (a result captured on a step that passes) can follow with `.Elif`.
 */
export function runStatus(m: Module, flags: RunStatusFlags, events: RunStatusEvents): IfChain {
  const { busy, done, error } = flags;
  return m
    .If(events.start, () => {
      m.sync(busy, 1);
      m.sync(done, 0);
      m.sync(error, 0);
      events.onStart?.();
    })
    .Elif(events.fail, () => {
      m.sync(busy, 0);
      m.sync(error, 1);
      events.onFail?.();
    })
    .Elif(events.finish, () => {
      m.sync(busy, 0);
      m.sync(done, 1);
      events.onFinish?.();
    });
}
