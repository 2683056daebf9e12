// Reads log pages on request, one at a time: on a log's `<name>_refresh` pulse it sends one Get Log
// Page command (NVMe 1.4 §5.14: opcode 02h, NSID FFFFFFFFh for the controller-wide pages, PRP1 =
// the log's region of the host-memory map, CDW10 = LID with NUMDL = its dwords - 1 (zero-based),
// RAE 0, CDW11 = NUMDU) on the admin command port (rtl-src/nvme/admin-command.ts; admin_engine
// executes it), and judges the completion. The page's bytes reach log_page_capture as the SSD's
// memory writes, by another path than the completion (the router, not the admin engine), so after
// a good completion the refresh waits until the capture has been idle for LOG_QUIET_CYCLES in a row
// (at most LOG_SETTLE_LIMIT cycles) before it says `done`: the fields are then the new page.
//
// The logs are a parameter (LogPageRead: name, LID, bytes, base); the core reads three: the SMART /
// Health log (on the user's pulse), the Error Information log (likewise) and the Sanitize Status log
// (nvme_erase's polls while a sanitize runs). One command, one completion and one settle wait serve
// them all (the admin engine runs one command at a time anyway); each log has its own requests and
// outcome.
//
// Outcome of each log, at the end of each of its refreshes: `<name>_done` for one cycle;
// `<name>_error` (held until that log's next refresh ends) with `<name>_error_cause`
// (LOG_REFRESH_ERRORS, 1-based) and, for a failed status, the Status Field in
// `<name>_error_status`. `<name>_valid` says the capture holds one whole page of that log from a
// refresh that succeeded: set at its end, cleared when one of its refreshes starts (the fields are
// about to change), when one fails, and by `clear` (also one during the refresh: the capture zeroed
// part of the page).
//
// Requests. A refresh of a log while it runs (or while another log's runs) is remembered (one per
// log, however many come) and runs after, the lowest-numbered log first, so the fields a user sees
// after `done` with `busy` low are never older than the last request. A refresh asked for while
// `ready` is low (the core is not READY: bring-up, fault or shutdown) ends at once with NOT_READY
// and sends nothing.
//
// Waits: the command port and the completion are bounded by the admin engine's own command timeout
// (its answer then comes with timed_out), the settle wait by LOG_SETTLE_LIMIT.
//
// Every output is a register, a decode of registers (`busy`, the command's fields: the current log's
// constants).
import { C, Module, type Signal, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { AdminOpcode, adminCommand, adminCompletion } from "./admin-command.ts";
import { CqeField } from "./nvme-cqe.ts";
import { setBits32 } from "./nvme-field.ts";
import { ERROR_INFORMATION_ENTRY_BYTES, LogPageId, SANITIZE_STATUS_LOG_BYTES, SMART_LOG_BYTES } from "./nvme-log-page.ts";
import { AdminCommandField as Cmd } from "./nvme-sqe.ts";
import { CAPTURE_PAGE_BYTES, checkCapturedPages } from "./page-field-capture.ts";

/** One log page the module reads. */
export interface LogPageRead<N extends string = string> {
  /** snake_case: its ports are `<name>_refresh`, `<name>_busy`, `<name>_done`, ... */
  name: N;
  /** Log Page Identifier (LogPageId). */
  lid: number;
  /** Bytes read from the start of the log: a multiple of 4, at most one page (PRP1 only). */
  bytes: number;
  /** Where the SSD is told to write it (PRP1): a 4 KiB page below 4 GiB. */
  base: number;
}

export interface LogPageRefreshParams<N extends string = string> {
  logs: readonly LogPageRead<N>[];
}

/** The logs the core reads: SMART / Health, the newest `errorEntries` Error Information entries, Sanitize Status. */
export function coreLogPages(errorEntries: number): LogPageRead<"smart" | "error_log" | "sanitize">[] {
  return [
    { name: "smart", lid: LogPageId.smartHealth, bytes: SMART_LOG_BYTES, base: HostMemoryMap.smartLog.base },
    { name: "error_log", lid: LogPageId.errorInformation, bytes: errorEntries * ERROR_INFORMATION_ENTRY_BYTES, base: HostMemoryMap.errorLog.base },
    { name: "sanitize", lid: LogPageId.sanitizeStatus, bytes: SANITIZE_STATUS_LOG_BYTES, base: HostMemoryMap.sanitizeStatusLog.base },
  ];
}

/** Why a refresh failed; `<name>_error_cause` is the position in this list plus one (0 = none). */
export const LOG_REFRESH_ERRORS = [
  /** Asked for while `ready` was low: nothing was sent. */
  "NOT_READY",
  /** The completion's status is not success: SCT/SC in error_status. */
  "COMMAND_STATUS",
  /** The admin engine saw no completion within its timeout. */
  "COMPLETION_TIMEOUT",
  /** A doorbell write or the entry fetch failed at the PCIe level. */
  "PCIE_ERROR",
  /** Some of the page came in a poisoned write: the fields may be partly old. */
  "DATA_POISONED",
] as const;
export type LogRefreshError = (typeof LOG_REFRESH_ERRORS)[number];

/** `error_cause` of an error. */
export function logRefreshErrorCode(error: LogRefreshError): number {
  return LOG_REFRESH_ERRORS.indexOf(error) + 1;
}

/** NSID FFFFFFFFh: the log page of the whole controller (NVMe 1.4 §5.14.1.2). */
export const LOG_NSID = 0xffff_ffff;
/** After a good completion: idle cycles of the capture in a row before `done`, and the most cycles to wait. */
export const LOG_QUIET_CYCLES = 8;
export const LOG_SETTLE_LIMIT = 255;

/** The Get Log Page command a refresh of `log` sends, as the admin command port carries it. */
export function logPageCommand(log: Pick<LogPageRead, "lid" | "bytes" | "base">): { opcode: number; nsid: number; prp1: number; cdw10: number; cdw11: number } {
  const dwords = log.bytes / 4 - 1;
  let cdw10 = setBits32(0, Cmd.logPageId, log.lid);
  cdw10 = setBits32(cdw10, Cmd.logDwordsLower, dwords & 0xffff);
  cdw10 = setBits32(cdw10, Cmd.logRetainEvent, 0);
  const cdw11 = setBits32(0, Cmd.logDwordsUpper, dwords >>> 16);
  return { opcode: AdminOpcode.getLogPage, nsid: LOG_NSID, prp1: log.base, cdw10, cdw11 };
}

function checkParams<N extends string>(p: LogPageRefreshParams<N>): void {
  if (p.logs.length === 0) throw new RangeError("log page refresh: logs is empty");
  checkCapturedPages("log page refresh", p.logs.map((l) => ({ name: `${l.name}.base`, base: l.base })));
  const names = new Set<string>();
  for (const l of p.logs) {
    if (!/^[a-z][a-z0-9_]*$/.test(l.name)) throw new RangeError(`log page refresh: log name ${JSON.stringify(l.name)} is not snake_case`);
    if (names.has(l.name)) throw new RangeError(`log page refresh: log ${l.name} is listed twice`);
    names.add(l.name);
    if (!Number.isInteger(l.lid) || l.lid < 0 || l.lid > 0xff) throw new RangeError(`log page refresh: ${l.name}.lid = ${l.lid}, must be a byte`);
    if (!Number.isInteger(l.bytes) || l.bytes < 4 || l.bytes % 4 !== 0 || l.bytes > CAPTURE_PAGE_BYTES) {
      throw new RangeError(`log page refresh: ${l.name}.bytes = ${l.bytes}, must be a multiple of 4 in 4..${CAPTURE_PAGE_BYTES} (one page: PRP2 would be needed)`);
    }
  }
}

/** The ports of one log. */
export type LogRefreshPorts = {
  refresh: Signal;
  busy: Signal;
  done: Signal;
  error: Signal;
  error_cause: Signal;
  error_status: Signal;
  valid: Signal;
};

/**
 * On `<name>_refresh`: Get Log Page of that log into its region through the admin command port;
 * `<name>_done` once the completion is good and the capture has settled, or with `<name>_error`.
 */
export function logPageRefresh<N extends string>(params: LogPageRefreshParams<N>) {
  checkParams(params);
  const { logs } = params;
  const hex = (n: number) => n.toString(16);
  const m = new Module(`log_page_refresh_${logs.map((l) => `${l.name}_${hex(l.lid)}x${l.bytes}at${hex(l.base)}`).join("_")}`);
  m.parameters({
    logs: logs.map((l) => `${l.name}: LID 0x${hex(l.lid)}, ${l.bytes} bytes at 0x${hex(l.base)}`).join("; "),
    quietCycles: LOG_QUIET_CYCLES,
    settleLimit: LOG_SETTLE_LIMIT,
  });

  /** The core is READY: the admin command port may be used. */
  const ready = m.input(1);
  /** A pulse: forget the pages (every `valid` low) and the remembered requests, as log_page_capture's clear does its fields. */
  const clear = m.input(1);
  /** log_page_capture's busy and poisoned_write. */
  const capture_busy = m.input(1);
  const capture_poisoned = m.input(1);
  const admin_command = m.port(adminCommand, "master");
  const admin_completion = m.port(adminCompletion, "slave");
  const statusWidth = adminCompletion.fields.status.shape.width;
  const ports: LogRefreshPorts[] = logs.map((l) => ({
    /** A pulse: refresh this log's fields (remembered while a refresh runs). */
    refresh: m.input(1, { name: `${l.name}_refresh` }),
    /** A refresh of this log runs or is remembered. */
    busy: m.output(1, { name: `${l.name}_busy` }),
    /** One cycle at the end of each of its refreshes. */
    done: m.output(1, { name: `${l.name}_done` }),
    /** Its last refresh failed (from its end to the next one's end). */
    error: m.output(1, { name: `${l.name}_error` }),
    /** Why: the position in LOG_REFRESH_ERRORS plus one; 0 after a refresh that succeeded. */
    error_cause: m.output(bitsFor(LOG_REFRESH_ERRORS.length), { name: `${l.name}_error_cause` }),
    /** With COMMAND_STATUS: the completion's Status Field {DNR, M, CRD, SCT, SC}; else 0. */
    error_status: m.output(statusWidth, { name: `${l.name}_error_status` }),
    /** The capture holds one whole page of this log from its last refresh, which succeeded. */
    valid: m.output(1, { name: `${l.name}_valid` }),
  }));

  const ctl = m.fsm(["IDLE", "OFFER", "AWAIT", "JUDGE", "SETTLE", "END"]);
  const again = logs.map((l) => m.signal(1, { name: `${l.name}_again` }));
  /** The log whose refresh runs (one-hot), set at launch. */
  const current = logs.map((l) => m.signal(1, { name: `${l.name}_current` }));
  const request = ports.map((p, i) => p.refresh.or(again[i]));
  const idle = ctl.is("IDLE");
  // The lowest-numbered log asking goes first.
  const pick = request.map((r, i) => (i === 0 ? r : r.and(any(request.slice(0, i)).not())));
  const anyRequest = any(request);
  const launch = idle.and(anyRequest).and(ready);
  const launches = pick.map((p) => launch.and(p));
  const refuses = request.map((r) => idle.and(r).and(ready.not()));

  // ---- the command: the current log's constants on the port, offered from launch until taken ----
  const command = admin_command.signals;
  const commands = logs.map((l) => logPageCommand(l));
  const pickConstant = (field: "opcode" | "nsid" | "prp1" | "cdw10" | "cdw11", width: number): Value => {
    const name = (l: LogPageRead) => `${l.name.toUpperCase()}_${field.toUpperCase()}`;
    let value: Value = constant(name(logs[0]), commands[0][field] >>> 0, width);
    for (let i = 1; i < logs.length; i++) {
      if (commands[i][field] === commands[0][field]) continue;
      value = mux(current[i], constant(name(logs[i]), commands[i][field] >>> 0, width), value);
    }
    return value;
  };
  m.comb(command.opcode, constant("GET_LOG_PAGE", AdminOpcode.getLogPage, 8));
  m.comb(command.nsid, constant("LOG_NSID", LOG_NSID, 32));
  m.comb(command.prp1, pickConstant("prp1", 32));
  m.comb(command.cdw10, pickConstant("cdw10", 32));
  m.comb(command.cdw11, pickConstant("cdw11", 32));
  const command_fire = command.valid.and(command.ready);
  m.If(launch, () => m.sync(command.valid, 1)).Elif(command_fire, () => m.sync(command.valid, 0));
  current.forEach((c, i) => m.If(launch, () => m.sync(c, pick[i])));

  // ---- the completion, registered and judged a cycle later ----
  const completion = admin_completion.signals;
  const completion_fire = completion.valid.and(completion.ready);
  m.If(command_fire, () => m.sync(completion.ready, 1)).Elif(completion_fire, () => m.sync(completion.ready, 0));
  const status = m.signal(completion.status.width, { resetless: true });
  const timed_out = m.signal(1, { resetless: true });
  const pcie_error = m.signal(1, { resetless: true });
  m.If(completion_fire, () => {
    m.sync(status, completion.status);
    m.sync(timed_out, completion.timed_out);
    m.sync(pcie_error, completion.pcie_error);
  });
  m.waiveUnread(completion.dw0, "Get Log Page returns nothing in DW0");
  const statusLsb = CqeField.status.lsb;
  const status_failed = status.bits(CqeField.sct.msb - statusLsb, CqeField.sc.lsb - statusLsb).any();
  const command_failed = pcie_error.or(timed_out).or(status_failed);

  // ---- poisoned page data, from the command on ----
  const poisoned = m.signal(1);
  m.If(launch, () => m.sync(poisoned, 0)).Elif(capture_poisoned.and(idle.not()), () => m.sync(poisoned, 1));

  // ---- the settle wait after a good completion ----
  const quiet_cycles = m.signal(bitsFor(LOG_QUIET_CYCLES));
  const settle_cycles = m.signal(bitsFor(LOG_SETTLE_LIMIT));
  const quiet = constant("LOG_QUIET_CYCLES", LOG_QUIET_CYCLES, quiet_cycles.width);
  const settle_limit = constant("LOG_SETTLE_LIMIT", LOG_SETTLE_LIMIT, settle_cycles.width);
  const settled = m.signal(1);
  m.If(ctl.is("SETTLE"), () => {
    m.sync(settle_cycles, settle_cycles.addWrap(1));
    m.If(capture_busy, () => m.sync(quiet_cycles, 0)).Elif(quiet_cycles.ne(quiet), () => m.sync(quiet_cycles, quiet_cycles.addWrap(1)));
    m.sync(settled, quiet_cycles.eq(quiet).or(settle_cycles.eq(settle_limit)));
  }).Else(() => {
    m.sync(settle_cycles, 0);
    m.sync(quiet_cycles, 0);
    m.sync(settled, 0);
  });

  ctl.body({
    IDLE: () => m.If(launch, () => ctl.next("OFFER")),
    OFFER: () => m.If(command_fire, () => ctl.next("AWAIT")),
    AWAIT: () => m.If(completion_fire, () => ctl.next("JUDGE")),
    JUDGE: () => m.If(command_failed, () => ctl.next("END")).Else(() => ctl.next("SETTLE")),
    SETTLE: () => m.If(settled, () => ctl.next("END")),
    END: () => ctl.next("IDLE"),
  });

  // ---- outcome, per log ----
  const causeCode = (cause: LogRefreshError) => constant(`ERROR_${cause}`, logRefreshErrorCode(cause), ports[0].error_cause.width);
  const ending = ctl.is("END");
  const failed = command_failed.or(poisoned);
  // A clear while a refresh runs zeroes fields it may already have written: that page is not whole.
  const cleared = m.signal(1);
  m.If(launch, () => m.sync(cleared, 0)).Elif(clear, () => m.sync(cleared, 1));
  const end_cause = m.signal(ports[0].error_cause.width);
  m.If(pcie_error, () => m.comb(end_cause, causeCode("PCIE_ERROR")))
    .Elif(timed_out, () => m.comb(end_cause, causeCode("COMPLETION_TIMEOUT")))
    .Elif(status_failed, () => m.comb(end_cause, causeCode("COMMAND_STATUS")))
    .Elif(poisoned, () => m.comb(end_cause, causeCode("DATA_POISONED")))
    .Else(() => m.comb(end_cause, 0));
  const end_status = mux(status_failed.and(pcie_error.not()).and(timed_out.not()), status, C(0, status.width));
  ports.forEach((p, i) => {
    const ends = ending.and(current[i]);
    // Requests: one remembered while a refresh runs.
    m.If(clear.or(launches[i]).or(refuses[i]), () => m.sync(again[i], 0)).Elif(p.refresh, () => m.sync(again[i], 1));
    m.comb(p.busy, idle.not().and(current[i]).or(again[i]));
    m.sync(p.done, ends.or(refuses[i]));
    m.If(refuses[i], () => {
      m.sync(p.error, 1);
      m.sync(p.error_cause, causeCode("NOT_READY"));
      m.sync(p.error_status, 0);
    }).Elif(ends, () => {
      m.sync(p.error, failed);
      m.sync(p.error_cause, end_cause);
      m.sync(p.error_status, end_status);
    });
    m.If(clear.or(launches[i]).or(refuses[i]), () => m.sync(p.valid, 0)).Elif(ends, () => m.sync(p.valid, failed.not().and(cleared.not())));
  });

  return m.exposing({
    ready,
    clear,
    capture_busy,
    capture_poisoned,
    admin_command,
    admin_completion,
    logs: Object.fromEntries(logs.map((l, i) => [l.name, ports[i]])) as Record<N, LogRefreshPorts>,
  });
}

/** The OR of `terms`. */
function any(terms: readonly Value[]): Value {
  return terms.length === 1 ? terms[0] : cat(...terms).any();
}
