// The erase request of the controller's core (rtl-src/nvme/nvme-erase.ts) from TypeScript: the
// request handshake on `user_erase_*`, and the status port's `status_erase_*` decoded with the
// tables the RTL is built from (ERASE_STATES, EraseKind, UserErrorClass), so a code and its name
// cannot drift. A full system (sim/system/full-system.ts) or any simulator of the core will do.
import { ERASE_STATES, type EraseState } from "../../rtl-src/nvme/nvme-erase.ts";
import { EraseKind, USER_ERROR_CLASS_NAMES } from "../../rtl-src/user/user-port.ts";
import type { Simulator } from "../engine/index.ts";
import { describeStatus, statusFromField } from "../nvme/status.ts";

export type EraseKindName = keyof typeof EraseKind;

/** The kind names by value (EraseKind). */
export const ERASE_KIND_NAMES: readonly EraseKindName[] = (Object.entries(EraseKind) as [EraseKindName, number][]).sort((a, b) => a[1] - b[1]).map(([name]) => name);

/** What the status port says of the last erase request. */
export interface EraseStatus {
  /** IDLE (none yet), RUNNING, DONE, FAILED or REFUSED. */
  state: EraseState;
  /** The request's kind (EraseKind name). */
  kind: string;
  /** Percent, 0..100. */
  progress: number;
  /** UserErrorClass name: NONE, NVME_STATUS, PCIE_FAULT, TIMEOUT, NOT_READY, BAD_REQUEST, UNSUPPORTED, BUSY. */
  errorClass: string;
  /** With NVME_STATUS: the NVMe Status Field {DNR, M, CRD, SCT, SC}; else 0. */
  status: number;
  /** The status in words ("" for none). */
  statusText: string;
}

/** A system whose core can be stepped: a FullSystem, or a plain simulator with its step. */
export interface EraseSystem {
  readonly sim: Pick<Simulator, "peek" | "poke">;
  step(cycles?: number): void;
}

/** The EraseKind value of a kind name (case-insensitive, "-" for "_"); throws naming the kinds for any other. */
export function eraseKindOf(name: string): number {
  const key = name.toUpperCase().replace(/-/g, "_");
  const value = (EraseKind as Record<string, number>)[key];
  if (value === undefined) throw new RangeError(`unknown erase kind ${JSON.stringify(name)}: one of ${ERASE_KIND_NAMES.join(", ")}`);
  return value;
}

/** The status port's erase fields, decoded. */
export function readEraseStatus(sim: Pick<Simulator, "peek">): EraseStatus {
  const stateCode = sim.peek("status_erase_state");
  const kindCode = sim.peek("status_erase_kind");
  const classCode = sim.peek("status_erase_error_class");
  const status = sim.peek("status_erase_status");
  const errorClass = USER_ERROR_CLASS_NAMES[classCode] ?? `CLASS_${classCode}`;
  return {
    state: ERASE_STATES[stateCode] ?? (`STATE_${stateCode}` as EraseState),
    kind: ERASE_KIND_NAMES[kindCode] ?? `KIND_${kindCode}`,
    progress: sim.peek("status_erase_progress"),
    errorClass,
    status,
    statusText: errorClass === "NVME_STATUS" ? describeStatus(statusFromField(status)) : "",
  };
}

/**
 * Offers the request on `user_erase_*` until the core takes it (one handshake), then steps two
 * cycles more, after which the status port shows this request (RUNNING, or REFUSED with its class).
 * Returns the cycles it waited for the port. Throws after `maxCycles` (an erase still running).
 */
export function requestErase(system: EraseSystem, kind: number, nsid = 0xffff_ffff, maxCycles = 1_000_000): number {
  const { sim } = system;
  sim.poke("user_erase_kind", kind);
  sim.poke("user_erase_nsid", nsid >>> 0);
  sim.poke("user_erase_valid", 1);
  for (let cycle = 0; cycle < maxCycles; cycle++) {
    const taken = sim.peek("user_erase_ready") === 1;
    system.step(1);
    if (taken) {
      sim.poke("user_erase_valid", 0);
      system.step(2);
      return cycle;
    }
  }
  sim.poke("user_erase_valid", 0);
  throw new Error(`the erase request was not taken within ${maxCycles} cycles (an erase still running?)`);
}

export interface WaitForEraseOptions {
  /** Longest wait, cycles. */
  maxCycles: number;
  /** Cycles between two looks at the status (default 1000: 4 µs at 250 MHz). */
  sampleCycles?: number;
  /** Called at each look while it runs, and once with the outcome. */
  onSample?: (status: EraseStatus, cycle: number) => void;
}

/** Steps until the erase is no longer RUNNING; returns the outcome. Throws after `maxCycles`. */
export function waitForErase(system: EraseSystem & { readonly cycle: number }, options: WaitForEraseOptions): EraseStatus {
  const sample = options.sampleCycles ?? 1000;
  const start = system.cycle;
  for (;;) {
    const status = readEraseStatus(system.sim);
    options.onSample?.(status, system.cycle);
    if (status.state !== "RUNNING") return status;
    if (system.cycle - start >= options.maxCycles) throw new Error(`the erase still runs after ${options.maxCycles} cycles (progress ${status.progress} %)`);
    system.step(Math.min(sample, options.maxCycles - (system.cycle - start)));
  }
}

/** requestErase, then waitForErase: the whole erase, its outcome decoded. */
export function runErase(system: EraseSystem & { readonly cycle: number }, request: { kind: number; nsid?: number }, options: WaitForEraseOptions): EraseStatus {
  requestErase(system, request.kind, request.nsid ?? 0xffff_ffff, options.maxCycles);
  return waitForErase(system, options);
}
