// Refreshes the SMART / Health fields on request: on a `refresh` pulse it sends one Get Log Page
// command (NVMe 1.4 §5.14: opcode 02h, NSID FFFFFFFFh for the controller-wide page, PRP1 = the
// smartLog region of the host-memory map, CDW10 = LID 02h with NUMDL = 127, i.e. 512 bytes, RAE 0,
// CDW11 = NUMDU 0) on the admin command port (rtl-src/nvme/admin-command.ts; admin_engine executes
// it), and judges the completion. The page's bytes reach smart_log_capture as the SSD's memory
// writes, by another path than the completion (the router, not the admin engine), so after a good
// completion the refresh waits until the capture has been idle for SMART_QUIET_CYCLES in a row (at
// most SMART_SETTLE_LIMIT cycles) before it says `done`: the fields are then the new page.
//
// Outcome, at the end of each refresh: `done` for one cycle; `error` (held until the next refresh
// ends) with `error_cause` (SMART_REFRESH_ERRORS, 1-based) and, for a failed status, the Status
// Field in `error_status`. `valid` says the fields hold one whole page from a refresh that
// succeeded: set at its end, cleared when a refresh starts (the fields are about to change), when
// one fails, and by `clear` (also one during the refresh: the capture zeroed part of the page).
//
// Requests. A `refresh` while one runs is remembered (one, however many come) and runs once more
// after it, so the fields a user sees after `done` with `busy` low are never older than the last
// request. A refresh asked for while `ready` is low (the core is not READY: bring-up, fault or
// shutdown) ends at once with NOT_READY and sends nothing.
//
// Waits: the command port and the completion are bounded by the admin engine's own command timeout
// (its answer then comes with timed_out), the settle wait by SMART_SETTLE_LIMIT.
//
// Every output is a register, a constant (the command's fields) or a decode of registers (`busy`).
// In the core the admin command port is shared with admin_bringup, which has finished by READY.
import { C, Module, bitsFor, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { AdminOpcode, adminCommand, adminCompletion } from "./admin-command.ts";
import { CqeField } from "./nvme-cqe.ts";
import { setBits32 } from "./nvme-field.ts";
import { LogPageId, SMART_LOG_BYTES } from "./nvme-log-page.ts";
import { AdminCommandField as Cmd } from "./nvme-sqe.ts";
import { CAPTURE_PAGE_BYTES, checkCapturedPages } from "./page-field-capture.ts";

export interface SmartRefreshParams {
  /** Where the SSD is told to write the page (PRP1): the smartLog region, 4 KiB aligned. */
  base: number;
}

export const defaultSmartRefreshParams: SmartRefreshParams = { base: HostMemoryMap.smartLog.base };

/** Why a refresh failed; `error_cause` is the position in this list plus one (0 = none). */
export const SMART_REFRESH_ERRORS = [
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
export type SmartRefreshError = (typeof SMART_REFRESH_ERRORS)[number];

/** `error_cause` of an error. */
export function smartRefreshErrorCode(error: SmartRefreshError): number {
  return SMART_REFRESH_ERRORS.indexOf(error) + 1;
}

/** NSID FFFFFFFFh: the log page of the whole controller (NVMe 1.4 §5.14.1.2). */
export const SMART_LOG_NSID = 0xffff_ffff;
/** After a good completion: idle cycles of the capture in a row before `done`, and the most cycles to wait. */
export const SMART_QUIET_CYCLES = 8;
export const SMART_SETTLE_LIMIT = 255;

/** The Get Log Page command a refresh sends, as the admin command port carries it. */
export function smartLogCommand(base: number): { opcode: number; nsid: number; prp1: number; cdw10: number; cdw11: number } {
  const dwords = SMART_LOG_BYTES / 4 - 1;
  let cdw10 = setBits32(0, Cmd.logPageId, LogPageId.smartHealth);
  cdw10 = setBits32(cdw10, Cmd.logDwordsLower, dwords & 0xffff);
  cdw10 = setBits32(cdw10, Cmd.logRetainEvent, 0);
  const cdw11 = setBits32(0, Cmd.logDwordsUpper, dwords >>> 16);
  return { opcode: AdminOpcode.getLogPage, nsid: SMART_LOG_NSID, prp1: base, cdw10, cdw11 };
}

/**
 * On `refresh`: Get Log Page SMART / Health into the smartLog region through the admin command
 * port; `done` once the completion is good and the capture has settled, or with `error`.
 */
export function smartRefresh(params: SmartRefreshParams = defaultSmartRefreshParams) {
  checkCapturedPages("smart refresh", [{ name: "base", base: params.base }]);
  if (SMART_LOG_BYTES > CAPTURE_PAGE_BYTES) throw new RangeError("smart refresh: the log page does not fit one page (PRP2 would be needed)");
  const m = new Module(`smart_refresh_b${params.base.toString(16)}`);
  m.parameters({ base: `0x${params.base.toString(16)}`, logBytes: SMART_LOG_BYTES, quietCycles: SMART_QUIET_CYCLES, settleLimit: SMART_SETTLE_LIMIT });

  /** A pulse: refresh the fields (remembered while one runs). */
  const refresh = m.input(1);
  /** The core is READY: the admin command port may be used. */
  const ready = m.input(1);
  /** A pulse: forget the page (`valid` low) and a remembered request, as smart_log_capture's clear does its fields. */
  const clear = m.input(1);
  /** smart_log_capture's busy and poisoned_write. */
  const capture_busy = m.input(1);
  const capture_poisoned = m.input(1);
  const admin_command = m.port(adminCommand, "master");
  const admin_completion = m.port(adminCompletion, "slave");
  /** A refresh runs or is remembered. */
  const busy = m.output(1);
  /** One cycle at the end of each refresh. */
  const done = m.output(1);
  /** The last refresh failed (from its end to the next one's end). */
  const error = m.output(1);
  /** Why: its position in SMART_REFRESH_ERRORS plus one; 0 after a refresh that succeeded. */
  const error_cause = m.output(bitsFor(SMART_REFRESH_ERRORS.length));
  /** With COMMAND_STATUS: the completion's Status Field {DNR, M, CRD, SCT, SC}; else 0. */
  const error_status = m.output(adminCompletion.fields.status.shape.width);
  /** The capture's fields are one whole page from the last refresh, which succeeded. */
  const valid = m.output(1);

  const ctl = m.fsm(["IDLE", "OFFER", "AWAIT", "JUDGE", "SETTLE", "END"]);
  const again = m.signal(1);
  const request = refresh.or(again);
  const launch = ctl.is("IDLE").and(request).and(ready);
  const refuse = ctl.is("IDLE").and(request).and(ready.not());

  // ---- the command: constants on the port, offered from launch until taken ----
  const c = smartLogCommand(params.base);
  const command = admin_command.signals;
  m.comb(command.opcode, constant("GET_LOG_PAGE", c.opcode, 8));
  m.comb(command.nsid, constant("SMART_LOG_NSID", c.nsid, 32));
  m.comb(command.prp1, constant("SMART_LOG_BASE", c.prp1, 32));
  m.comb(command.cdw10, constant("SMART_LOG_CDW10", c.cdw10, 32));
  m.comb(command.cdw11, constant("SMART_LOG_CDW11", c.cdw11, 32));
  const command_fire = command.valid.and(command.ready);
  m.If(launch, () => m.sync(command.valid, 1)).Elif(command_fire, () => m.sync(command.valid, 0));

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
  m.If(launch, () => m.sync(poisoned, 0)).Elif(capture_poisoned.and(ctl.is("IDLE").not()), () => m.sync(poisoned, 1));

  // ---- the settle wait after a good completion ----
  const quiet_cycles = m.signal(bitsFor(SMART_QUIET_CYCLES));
  const settle_cycles = m.signal(bitsFor(SMART_SETTLE_LIMIT));
  const quiet = constant("SMART_QUIET_CYCLES", SMART_QUIET_CYCLES, quiet_cycles.width);
  const settle_limit = constant("SMART_SETTLE_LIMIT", SMART_SETTLE_LIMIT, settle_cycles.width);
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

  // ---- requests: one remembered while a refresh runs ----
  m.If(clear.or(launch).or(refuse), () => m.sync(again, 0)).Elif(refresh, () => m.sync(again, 1));
  m.comb(busy, ctl.is("IDLE").not().or(again));

  // ---- outcome ----
  const causeCode = (cause: SmartRefreshError) => constant(`ERROR_${cause}`, smartRefreshErrorCode(cause), error_cause.width);
  const ending = ctl.is("END");
  const failed = command_failed.or(poisoned);
  m.sync(done, ending.or(refuse));
  m.If(refuse, () => {
    m.sync(error, 1);
    m.sync(error_cause, causeCode("NOT_READY"));
    m.sync(error_status, 0);
  }).Elif(ending, () => {
    m.sync(error, failed);
    m.If(pcie_error, () => m.sync(error_cause, causeCode("PCIE_ERROR")))
      .Elif(timed_out, () => m.sync(error_cause, causeCode("COMPLETION_TIMEOUT")))
      .Elif(status_failed, () => m.sync(error_cause, causeCode("COMMAND_STATUS")))
      .Elif(poisoned, () => m.sync(error_cause, causeCode("DATA_POISONED")))
      .Else(() => m.sync(error_cause, 0));
    m.sync(error_status, mux(status_failed.and(pcie_error.not()).and(timed_out.not()), status, C(0, status.width)));
  });
  // A clear while a refresh runs zeroes fields it may already have written: that page is not whole.
  const cleared = m.signal(1);
  m.If(launch, () => m.sync(cleared, 0)).Elif(clear, () => m.sync(cleared, 1));
  m.If(clear.or(launch).or(refuse), () => m.sync(valid, 0)).Elif(ending, () => m.sync(valid, failed.not().and(cleared.not())));

  return m.exposing({
    refresh,
    ready,
    clear,
    capture_busy,
    capture_poisoned,
    admin_command,
    admin_completion,
    busy,
    done,
    error,
    error_cause,
    error_status,
    valid,
  });
}
