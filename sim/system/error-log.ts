// The Error Information log as the controller's core reads it (rtl-src/nvme/log-page-refresh.ts,
// log-page-capture.ts): a pulse on `error_log_refresh`, the outcome on `status_error_log_*`, and the
// newest entries read through the page port (status page 3), decoded with the table the hardware
// keeps them by (READABLE_ERROR_FIELDS, ErrorInformationField).
import { DEFAULT_ERROR_LOG_ENTRIES, READABLE_ERROR_FIELDS, defaultLogPageCaptureParams, errorEntryField, logKeptOffsets } from "../../rtl-src/nvme/log-page-capture.ts";
import { LOG_REFRESH_ERRORS } from "../../rtl-src/nvme/log-page-refresh.ts";
import { readField, readFieldBig } from "../../rtl-src/nvme/nvme-field.ts";
import type { Simulator } from "../engine/index.ts";
import { describeStatus, statusFromField } from "../nvme/status.ts";
import { readPagePort } from "../testbench/page-port.ts";

/** One Error Information entry, as the page port shows it. */
export interface ErrorLogEntryReport {
  /** Rises over the SSD's life; 0 = unused (such entries are left out). */
  errorCount: bigint;
  sqid: number;
  cid: number;
  /** The completion's Status Field without its phase tag {DNR, M, CRD, SCT, SC}, and in words. */
  status: number;
  statusText: string;
  parameterErrorLocation: number;
  lba: bigint;
  nsid: number;
}

/** A system whose core can be stepped (a FullSystem fits). */
export interface LogSystem {
  readonly sim: Pick<Simulator, "peek" | "poke">;
  step(cycles?: number): void;
}

/** Pulses `error_log_refresh` and steps until the refresh ends; returns its error cause name, or null when it succeeded. */
export function refreshErrorLog(system: LogSystem, maxCycles = 2_000_000): string | null {
  const { sim } = system;
  sim.poke("error_log_refresh", 1);
  system.step(1);
  sim.poke("error_log_refresh", 0);
  for (let cycle = 0; sim.peek("status_error_log_busy") === 1; cycle += 100) {
    if (cycle >= maxCycles) throw new Error(`the error log refresh did not end within ${maxCycles} cycles`);
    system.step(100);
  }
  if (sim.peek("status_error_log_error") === 0) return null;
  const cause = sim.peek("status_error_log_error_cause");
  return LOG_REFRESH_ERRORS[cause - 1] ?? `CAUSE_${cause}`;
}

/** The used entries among the newest `entries` the core keeps, newest first (through the page port, the system in step). */
export function readErrorLog(system: LogSystem & { readonly sim: Pick<Simulator, "peek" | "poke" | "step"> }, entries = DEFAULT_ERROR_LOG_ENTRIES): ErrorLogEntryReport[] {
  const page = readPagePort(system.sim, "errorLog", logKeptOffsets("error", { ...defaultLogPageCaptureParams, errorEntries: entries }), () => system.step(1));
  const out: ErrorLogEntryReport[] = [];
  for (let e = 0; e < entries; e++) {
    const field = (f: (typeof READABLE_ERROR_FIELDS)[keyof typeof READABLE_ERROR_FIELDS]) => errorEntryField(e, f);
    const errorCount = readFieldBig(page, field(READABLE_ERROR_FIELDS.errorCount));
    if (errorCount === 0n) continue;
    const status = readField(page, field(READABLE_ERROR_FIELDS.statusField)) >>> 1;
    out.push({
      errorCount,
      sqid: readField(page, field(READABLE_ERROR_FIELDS.sqid)),
      cid: readField(page, field(READABLE_ERROR_FIELDS.cid)),
      status,
      statusText: describeStatus(statusFromField(status)),
      parameterErrorLocation: readField(page, field(READABLE_ERROR_FIELDS.parameterErrorLocation)),
      lba: readFieldBig(page, field(READABLE_ERROR_FIELDS.lba)),
      nsid: readField(page, field(READABLE_ERROR_FIELDS.nsid)) >>> 0,
    });
  }
  return out;
}
