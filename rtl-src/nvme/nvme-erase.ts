// The erase request of the user interface (issue 15; rtl-src/user/user-port.ts: userErase,
// EraseKind): a secure erase of the SSD's user data by Format NVM or Sanitize, with its progress
// and outcome on the status port. One request at a time: `user_erase` is ready while no erase runs.
//
// A request is judged a cycle after it is taken, in this order (the inputs are registers):
//  - REFUSED / NOT_READY: the core is not READY (`ready` low: bring-up, fault, shutdown, an I/O
//    engine fault);
//  - REFUSED / BUSY: I/O is in flight (`io_quiet` low) or a log refresh is pending (`admin_busy`);
//  - REFUSED / BAD_REQUEST: a kind EraseKind does not name;
//  - REFUSED / UNSUPPORTED: the SSD does not offer the kind, by the Identify fields captured at
//    bring-up: CRYPTO_ERASE needs OACS.Format and FNA.CryptoErase, USER_DATA_ERASE OACS.Format,
//    SANITIZE_BLOCK_ERASE / _OVERWRITE / _CRYPTO_ERASE their SANICAP bit.
// A refused request sends nothing to the SSD. An accepted one runs (`running`; the I/O engine then
// refuses new commands BUSY, and a command it took in the cycles before is refused too, as its
// check ends later):
//  - CRYPTO_ERASE / USER_DATA_ERASE: Format NVM (NVMe 1.4 §5.23) of the request's namespace
//    (FFFFFFFFh: all), the namespace's current LBA format kept (FLBAS[3:0] as LBAF, FLBAS[4] as
//    MSET; no protection information), Secure Erase Settings 2 (cryptographic) or 1 (user data).
//    Progress 0 while it runs, 100 once it completed successfully. Its completion is awaited the
//    admin engine's Format NVM timeout (a user-data erase of a large namespace takes minutes).
//  - SANITIZE_*: Sanitize (NVMe 1.4 §5.24) of the whole NVM subsystem, SANACT 2 (block erase), 3
//    (overwrite: one pass of `overwritePattern`, no inversion) or 4 (crypto erase), AUSE 0, NDAS 0
//    (the SSD deallocates afterwards). The command completes once the sanitize has started; then
//    the Sanitize Status log (LID 81h) is read every `pollIntervalCycles` (log_page_refresh's
//    sanitize log, captured by log_page_capture: SPROG and SSTAT): progress = SPROG x 100 / 65536
//    (rounded down; a bit-serial multiply, no DSP), DONE (progress 100) when SSTAT says completed
//    (or completed without deallocation), FAILED when it says failed, and FAILED / TIMEOUT after
//    `sanitizeTimeoutCycles` of polls without either.
//
// Outcome (the status port): `state` (ERASE_STATES), `kind` (the request's), `progress` (0..100),
// `error_class` (UserErrorClass) and `status` (the NVMe Status Field for NVME_STATUS, else 0):
//  - the Format NVM or Sanitize completion: a status (SCT or SC non-zero) is NVME_STATUS, no
//    completion within the admin engine's timeout TIMEOUT, a PCIe error PCIE_FAULT;
//  - a poll that failed: its Get Log Page status NVME_STATUS, its timeout TIMEOUT, a PCIe error or
//    poisoned page data PCIE_FAULT, the core no longer READY NOT_READY;
//  - SSTAT failed: NVME_STATUS with SANITIZE_FAILED_STATUS (Sanitize Failed, the status the SSD
//    then gives the commands it refuses).
// The status holds from the second cycle after the request's handshake until the next request's.
//
// Waits: the admin command port and the completion are bounded by the admin engine's timeouts (it
// answers timed_out), each poll by the admin engine's timeout and the refresh's settle limit, the
// interval by its timer, the sanitize as a whole by the poll budget (sanitizeTimeoutCycles).
// The admin port is free when an erase starts (nothing else uses it after READY but the log
// refreshes, which `admin_busy` says are idle), so the command is taken at once; a restart of the
// bring-up in that cycle or two is not looked for.
//
// Every output is a register or a decode of registers; the command's fields are decodes of the
// request's registers and of FLBAS, which holds while READY.
import { C, Module, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { ERASE_KIND_BITS, EraseKind, USER_ERROR_CLASS_BITS, UserErrorClass, userErase } from "../user/user-port.ts";
import { AdminOpcode, adminCommand, adminCompletion } from "./admin-command.ts";
import { CqeField } from "./nvme-cqe.ts";
import { setBits32 } from "./nvme-field.ts";
import { IdentifyNamespaceField as Ns } from "./nvme-identify.ts";
import { LOG_REFRESH_ERRORS, type LogRefreshError, logRefreshErrorCode } from "./log-page-refresh.ts";
import { SanitizeState, SanitizeStatusField } from "./nvme-log-page.ts";
import { AdminCommandField as Cmd, SanitizeAction, SecureEraseSetting } from "./nvme-sqe.ts";

export interface NvmeEraseParams {
  /** Cycles from the end of one Sanitize Status poll to the next. */
  pollIntervalCycles: number;
  /** How long a sanitize may run before it is given up with TIMEOUT, cycles (counted in polls: rounded up to whole intervals). */
  sanitizeTimeoutCycles: number;
  /** The 32-bit pattern a sanitize overwrite writes. */
  overwritePattern: number;
}

const CYCLES_PER_MS = 250_000;
/** On hardware: a poll every millisecond, a sanitize may take four hours (an overwrite of a large drive), a zero pattern. */
export const hardwareEraseParams: NvmeEraseParams = { pollIntervalCycles: CYCLES_PER_MS, sanitizeTimeoutCycles: 4 * 3600 * 1000 * CYCLES_PER_MS, overwritePattern: 0 };

/** `state` of the status port. */
export const ERASE_STATES = ["IDLE", "RUNNING", "DONE", "FAILED", "REFUSED"] as const;
export type EraseState = (typeof ERASE_STATES)[number];
export const ERASE_STATE_BITS = 3;
/** `progress` of the status port: percent, 0..100. */
export const ERASE_PROGRESS_BITS = 7;
export const ERASE_PROGRESS_DONE = 100;

/** Status Field of Sanitize Failed (NVMe 1.4 Figure 128: SCT 0, SC 1Ch): what a sanitize whose SSTAT says failed reports. */
export const SANITIZE_FAILED_STATUS = 0x1c;

/** Whether `kind` is done by Format NVM (else by Sanitize). */
export function isFormatKind(kind: number): boolean {
  return kind === EraseKind.CRYPTO_ERASE || kind === EraseKind.USER_DATA_ERASE;
}

/** The admin command an erase of `kind` sends, as the admin command port carries it (FLBAS of the namespace for a Format NVM). */
export function eraseCommand(kind: number, nsid: number, flbas: number, overwritePattern: number): { opcode: number; nsid: number; prp1: number; cdw10: number; cdw11: number } {
  if (isFormatKind(kind)) {
    let cdw10 = setBits32(0, Cmd.formatLbaFormat, flbas & 0xf);
    cdw10 = setBits32(cdw10, Cmd.formatMetadataSettings, (flbas >> 4) & 1);
    cdw10 = setBits32(cdw10, Cmd.formatSecureErase, kind === EraseKind.CRYPTO_ERASE ? SecureEraseSetting.cryptographicErase : SecureEraseSetting.userDataErase);
    return { opcode: AdminOpcode.formatNvm, nsid: nsid >>> 0, prp1: 0, cdw10, cdw11: 0 };
  }
  const action = { [EraseKind.SANITIZE_BLOCK_ERASE]: SanitizeAction.blockErase, [EraseKind.SANITIZE_OVERWRITE]: SanitizeAction.overwrite, [EraseKind.SANITIZE_CRYPTO_ERASE]: SanitizeAction.cryptoErase }[kind];
  if (action === undefined) throw new RangeError(`eraseCommand: kind ${kind} is not an EraseKind`);
  let cdw10 = setBits32(0, Cmd.sanitizeAction, action);
  cdw10 = setBits32(cdw10, Cmd.sanitizeOverwritePasses, action === SanitizeAction.overwrite ? 1 : 0);
  const cdw11 = action === SanitizeAction.overwrite ? overwritePattern >>> 0 : 0;
  return { opcode: AdminOpcode.sanitize, nsid: 0, prp1: 0, cdw10, cdw11 };
}

/** The progress a Sanitize Status SPROG gives: floor(SPROG x 100 / 65536). */
export function sanitizeProgressPercent(sprog: number): number {
  return Math.floor((sprog * 100) / 65536);
}

/** Polls a sanitize may take. */
export function sanitizePollBudget(p: NvmeEraseParams): number {
  return Math.ceil(p.sanitizeTimeoutCycles / p.pollIntervalCycles);
}

function checkParams(p: NvmeEraseParams): void {
  if (!Number.isSafeInteger(p.pollIntervalCycles) || p.pollIntervalCycles < 1 || p.pollIntervalCycles > 2 ** 32) {
    throw new RangeError(`nvme_erase: pollIntervalCycles = ${p.pollIntervalCycles}, must be an integer in 1..2^32`);
  }
  if (!Number.isSafeInteger(p.sanitizeTimeoutCycles) || p.sanitizeTimeoutCycles < p.pollIntervalCycles) {
    throw new RangeError(`nvme_erase: sanitizeTimeoutCycles = ${p.sanitizeTimeoutCycles}, must be an integer of at least pollIntervalCycles (${p.pollIntervalCycles})`);
  }
  if (sanitizePollBudget(p) >= 2 ** 40) throw new RangeError(`nvme_erase: sanitizeTimeoutCycles = ${p.sanitizeTimeoutCycles} is 2^40 polls or more`);
  if (!Number.isInteger(p.overwritePattern) || p.overwritePattern < 0 || p.overwritePattern > 0xffff_ffff) {
    throw new RangeError(`nvme_erase: overwritePattern = ${p.overwritePattern}, must be a 32-bit unsigned integer`);
  }
}

/** Bits of SPROG x 25 (SPROG x 100 / 4): the bit-serial multiply's steps; the percent is its bits 14..20. */
const PRODUCT_BITS = SanitizeStatusField.sprog.width + 5;
const PERCENT_LSB = PRODUCT_BITS - ERASE_PROGRESS_BITS;

/**
 * Takes erase requests, refuses those it must, sends the Format NVM or Sanitize, follows a
 * sanitize through the Sanitize Status log, and reports progress and outcome.
 */
export function nvmeErase(params: NvmeEraseParams) {
  checkParams(params);
  const polls = sanitizePollBudget(params);
  const m = new Module(`nvme_erase_i${params.pollIntervalCycles}_n${polls}_p${params.overwritePattern.toString(16)}`);
  m.parameters({ ...params, overwritePattern: `0x${params.overwritePattern.toString(16)}`, sanitizePolls: polls });

  const user_erase = m.port(userErase, "slave");
  /** The core is READY (and not shutting down, and the I/O engine not faulted). */
  const ready = m.input(1);
  /** The I/O engine takes, checks and cuts no command and has none at the SSD. */
  const io_quiet = m.input(1);
  /** A log refresh (SMART, error log) runs or is remembered. */
  const admin_busy = m.input(1);
  /** The Identify fields the kinds need, captured at bring-up. */
  const oacs_format_nvm = m.input(1);
  const fna_crypto_erase = m.input(1);
  const sanicap_crypto_erase = m.input(1);
  const sanicap_block_erase = m.input(1);
  const sanicap_overwrite = m.input(1);
  /** FLBAS of namespace 1 (the format a Format NVM keeps). */
  const flbas = m.input(Ns.flbas.width);
  const admin_command = m.port(adminCommand, "master");
  const admin_completion = m.port(adminCompletion, "slave");
  /** A pulse: read the Sanitize Status log (log_page_refresh's sanitize_refresh). */
  const poll = m.output(1);
  /** The poll's outcome (log_page_refresh's sanitize_done, _error, _error_cause, _error_status). */
  const poll_done = m.input(1);
  const poll_error = m.input(1);
  const poll_error_cause = m.input(bitsFor(LOG_REFRESH_ERRORS.length));
  const poll_error_status = m.input(adminCompletion.fields.status.shape.width);
  /** SPROG and SSTAT[2:0] as log_page_capture keeps them (still from a poll's settle to the next poll). */
  const sanitize_sprog = m.input(SanitizeStatusField.sprog.width);
  const sanitize_state = m.input(SanitizeStatusField.sstatState.width);
  /** An erase runs: the I/O engine refuses new commands BUSY. */
  const running = m.output(1);
  const state = m.output(ERASE_STATE_BITS);
  const kind = m.output(ERASE_KIND_BITS);
  const progress = m.output(ERASE_PROGRESS_BITS);
  const error_class = m.output(USER_ERROR_CLASS_BITS);
  const status = m.output(adminCompletion.fields.status.shape.width);

  const STATE = Object.fromEntries(ERASE_STATES.map((name, i) => [name, constant(`ERASE_${name}`, i, ERASE_STATE_BITS)])) as Record<string, Value> as Record<EraseState, Value>;
  const errorClass = (name: keyof typeof UserErrorClass) => constant(`ERR_${name}`, UserErrorClass[name], USER_ERROR_CLASS_BITS);
  const kindIs = (name: keyof typeof EraseKind) => kind.eq(constant(`KIND_${name}`, EraseKind[name], ERASE_KIND_BITS));

  const ctl = m.fsm(["IDLE", "CHECK", "OFFER", "AWAIT", "JUDGE", "INTERVAL", "POLL", "EXAMINE", "PROGRESS"]);
  const request = user_erase.signals;
  m.comb(request.ready, ctl.is("IDLE"));
  const taken = request.valid.and(ctl.is("IDLE"));
  /** The Format NVM's NSID: the request's for a Format NVM kind, 0 for a sanitize (zeroed as it is taken: a register's reset pin, no multiplexer). */
  const nsid = m.signal(32, { resetless: true });
  const format_requested = request.kind.le(EraseKind.USER_DATA_ERASE);
  m.If(taken, () => {
    m.sync(kind, request.kind);
    m.sync(nsid, mux(format_requested, request.nsid, C(0, 32)));
  });

  // ---- the judgement ----
  const is_format = kindIs("CRYPTO_ERASE").or(kindIs("USER_DATA_ERASE"));
  const known = kind.le(EraseKind.SANITIZE_CRYPTO_ERASE);
  const supported = m.signal(1);
  m.Switch(kind, (s) => {
    s.Case(EraseKind.CRYPTO_ERASE, () => m.comb(supported, oacs_format_nvm.and(fna_crypto_erase)));
    s.Case(EraseKind.USER_DATA_ERASE, () => m.comb(supported, oacs_format_nvm));
    s.Case(EraseKind.SANITIZE_BLOCK_ERASE, () => m.comb(supported, sanicap_block_erase));
    s.Case(EraseKind.SANITIZE_OVERWRITE, () => m.comb(supported, sanicap_overwrite));
    s.Case(EraseKind.SANITIZE_CRYPTO_ERASE, () => m.comb(supported, sanicap_crypto_erase));
  });
  const refusal = mux(
    ready.not(),
    errorClass("NOT_READY"),
    mux(io_quiet.not().or(admin_busy), errorClass("BUSY"), mux(known.not(), errorClass("BAD_REQUEST"), mux(supported.not(), errorClass("UNSUPPORTED"), errorClass("NONE")))),
  );
  const refused = refusal.ne(errorClass("NONE"));

  // ---- the command: decodes of the request's registers ----
  const command = admin_command.signals;
  const sanitize_action = m.signal(Cmd.sanitizeAction.width);
  m.Switch(kind, (s) => {
    s.Case(EraseKind.SANITIZE_BLOCK_ERASE, () => m.comb(sanitize_action, SanitizeAction.blockErase));
    s.Case(EraseKind.SANITIZE_OVERWRITE, () => m.comb(sanitize_action, SanitizeAction.overwrite));
    s.Default(() => m.comb(sanitize_action, SanitizeAction.cryptoErase));
  });
  const secure_erase = mux(kindIs("CRYPTO_ERASE"), C(SecureEraseSetting.cryptographicErase, Cmd.formatSecureErase.width), C(SecureEraseSetting.userDataErase, Cmd.formatSecureErase.width));
  const flbasOf = (f: typeof Ns.flbasFormat) => flbas.bits(f.msb, f.lsb);
  const is_overwrite = kindIs("SANITIZE_OVERWRITE");
  const format_cdw10 = place([
    [Cmd.formatLbaFormat, flbasOf(Ns.flbasFormat)],
    [Cmd.formatMetadataSettings, flbasOf(Ns.flbasExtended)],
    [Cmd.formatSecureErase, secure_erase],
  ]);
  const sanitize_cdw10 = place([
    [Cmd.sanitizeAction, sanitize_action],
    [Cmd.sanitizeOverwritePasses, is_overwrite.zext(Cmd.sanitizeOverwritePasses.width)],
  ]);
  m.comb(command.opcode, mux(is_format, constant("FORMAT_NVM", AdminOpcode.formatNvm, 8), constant("SANITIZE", AdminOpcode.sanitize, 8)));
  m.comb(command.nsid, nsid);
  m.comb(command.prp1, 0);
  m.comb(command.cdw10, mux(is_format, format_cdw10, sanitize_cdw10));
  m.comb(command.cdw11, mux(is_overwrite, constant("OVERWRITE_PATTERN", params.overwritePattern, 32), C(0, 32)));
  m.waiveUnread(flbas, "FLBAS[7:5] are reserved");
  m.documentCombinationalPaths("admin_command_cdw10 carries the LBA format of the flbas input (Identify's FLBAS, captured at bring-up and steady while READY): a Format NVM keeps the namespace's format without a copy of it");
  const command_fire = command.valid.and(command.ready);

  // ---- the completion: judged as it is taken ----
  const completion = admin_completion.signals;
  const completion_fire = completion.valid.and(completion.ready);
  m.waiveUnread(completion.dw0, "Format NVM and Sanitize return nothing in DW0");
  const statusLsb = CqeField.status.lsb;
  const completion_status_failed = completion.status.bits(CqeField.sct.msb - statusLsb, CqeField.sc.lsb - statusLsb).any();
  const completion_class = mux(
    completion.pcie_error,
    errorClass("PCIE_FAULT"),
    mux(completion.timed_out, errorClass("TIMEOUT"), mux(completion_status_failed, errorClass("NVME_STATUS"), errorClass("NONE"))),
  );
  const completion_is_status = completion_status_failed.and(completion.pcie_error.not()).and(completion.timed_out.not());
  const pollCause = (cause: LogRefreshError) => poll_error_cause.eq(constant(`POLL_${cause}`, logRefreshErrorCode(cause), poll_error_cause.width));
  const poll_class = mux(
    pollCause("NOT_READY"),
    errorClass("NOT_READY"),
    mux(pollCause("COMMAND_STATUS"), errorClass("NVME_STATUS"), mux(pollCause("COMPLETION_TIMEOUT"), errorClass("TIMEOUT"), errorClass("PCIE_FAULT"))),
  );

  // ---- the sanitize's log ----
  const upperSnake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
  const sanitizeIs = (name: keyof typeof SanitizeState) => sanitize_state.eq(constant(`SSTAT_${upperSnake(name)}`, SanitizeState[name], sanitize_state.width));
  const sanitize_completed = sanitizeIs("completed").or(sanitizeIs("completedNoDeallocate"));
  const sanitize_failed = sanitizeIs("failed");
  const interval_load = m.signal(1);
  const interval = countdownTimer(m, "interval_timer", { maxCycles: params.pollIntervalCycles, loads: [{ when: interval_load, cycles: params.pollIntervalCycles }] });
  // The poll budget counts polls: loaded with polls + 1 when the erase starts, it has expired after `polls` polls.
  const budget = countdownTimer(m, "poll_budget", { maxCycles: polls + 1, loads: [{ when: taken, cycles: polls + 1 }], step: poll });

  // ---- progress: floor(SPROG x 25 / 2^14), SPROG x 25 = SPROG x 16 + SPROG x 8 + SPROG, a bit a cycle ----
  // Product bit j = SPROG[j] + SPROG[j-3] + SPROG[j-4] + carry; SPROG[j] is fetched into a register
  // the step before (step j + 1 computes bit j; step 0 a zero bit before bit 0), the other two come
  // from a delay line of the bits already used; the percent is the product's last
  // ERASE_PROGRESS_BITS bits.
  const step = m.signal(bitsFor(PRODUCT_BITS));
  const fetched = m.signal(1);
  const delay = m.signal(4);
  const carry = m.signal(2);
  /** The product's latest bits but one: with the next bit, the percent at the last step. */
  const product = m.signal(ERASE_PROGRESS_BITS - 1);
  const sprog_bit = mux(step.msb(), C(0, 1), sanitize_sprog.bitAt(step.bits(step.width - 2, 0)));
  const bit_sum = fetched.zext(3).addWrap(delay.bit(2).zext(3)).addWrap(delay.bit(3).zext(3)).addWrap(carry.zext(3));
  const last_step = step.eq(PRODUCT_BITS);
  const product_next = cat(bit_sum.bit(0), product);
  if (PERCENT_LSB + ERASE_PROGRESS_BITS !== PRODUCT_BITS || 2 ** (step.width - 1) !== SanitizeStatusField.sprog.width) throw new Error("nvme_erase: the progress multiply's widths do not match");
  m.If(ctl.is("PROGRESS"), () => {
    m.sync(step, step.addWrap(1));
    m.sync(fetched, sprog_bit);
    m.sync(delay, cat(delay.bits(2, 0), fetched));
    m.sync(carry, bit_sum.bits(2, 1));
    m.sync(product, product_next.bits(ERASE_PROGRESS_BITS - 1, 1));
  }).Else(() => {
    m.sync(step, 0);
    m.sync(fetched, 0);
    m.sync(delay, 0);
    m.sync(carry, 0);
  });

  // ---- the sequence and the outcome ----
  const finish = (outcome: "DONE" | "FAILED") => {
    m.sync(state, STATE[outcome]);
    if (outcome === "DONE") m.sync(progress, ERASE_PROGRESS_DONE);
    ctl.next("IDLE");
  };
  ctl.body({
    IDLE: () => m.If(taken, () => ctl.next("CHECK")),
    CHECK: () => {
      m.sync(progress, 0);
      m.sync(status, 0);
      m.sync(error_class, refusal);
      m.If(refused, () => {
        m.sync(state, STATE.REFUSED);
        ctl.next("IDLE");
      }).Else(() => {
        m.sync(state, STATE.RUNNING);
        m.sync(command.valid, 1);
        ctl.next("OFFER");
      });
    },
    OFFER: () =>
      m.If(command_fire, () => {
        m.sync(command.valid, 0);
        m.sync(completion.ready, 1);
        ctl.next("AWAIT");
      }),
    AWAIT: () =>
      m.If(completion_fire, () => {
        m.sync(completion.ready, 0);
        m.sync(error_class, completion_class);
        m.sync(status, mux(completion_is_status, completion.status, C(0, status.width)));
        ctl.next("JUDGE");
      }),
    JUDGE: () =>
      m.If(error_class.ne(errorClass("NONE")), () => finish("FAILED"))
        .Elif(is_format, () => finish("DONE"))
        .Else(() => {
          m.comb(interval_load, 1);
          ctl.next("INTERVAL");
        }),
    INTERVAL: () =>
      m.If(interval.expired, () => {
        m.sync(poll, 1);
        ctl.next("POLL");
      }),
    POLL: () => {
      m.sync(poll, 0);
      m.If(poll_done, () => {
        m.If(poll_error, () => {
          m.sync(error_class, poll_class);
          m.sync(status, mux(pollCause("COMMAND_STATUS"), poll_error_status, C(0, status.width)));
          finish("FAILED");
        }).Else(() => ctl.next("EXAMINE"));
      });
    },
    EXAMINE: () =>
      m.If(sanitize_completed, () => finish("DONE"))
        .Elif(sanitize_failed, () => {
          m.sync(error_class, errorClass("NVME_STATUS"));
          m.sync(status, constant("SANITIZE_FAILED_STATUS", SANITIZE_FAILED_STATUS, status.width));
          finish("FAILED");
        })
        .Elif(budget.expired, () => {
          m.sync(error_class, errorClass("TIMEOUT"));
          finish("FAILED");
        })
        .Else(() => ctl.next("PROGRESS")),
    PROGRESS: () =>
      m.If(last_step, () => {
        m.sync(progress, product_next);
        m.comb(interval_load, 1);
        ctl.next("INTERVAL");
      }),
  });
  m.comb(running, state.eq(STATE.RUNNING));

  return m.exposing({
    user_erase,
    ready,
    io_quiet,
    admin_busy,
    oacs_format_nvm,
    fna_crypto_erase,
    sanicap_crypto_erase,
    sanicap_block_erase,
    sanicap_overwrite,
    flbas,
    admin_command,
    admin_completion,
    poll,
    poll_done,
    poll_error,
    poll_error_cause,
    poll_error_status,
    sanitize_sprog,
    sanitize_state,
    running,
    state,
    kind,
    progress,
    error_class,
    status,
  });
}

/** A 32-bit command DW of fields (all of one DW) from values: each placed at its bits, the rest zero. */
function place(parts: [typeof Cmd.formatLbaFormat, Value][]): Value {
  let word: Value = C(0, 32);
  for (const [f, v] of parts) {
    if (v.width !== f.width) throw new RangeError(`nvme_erase: a ${v.width}-bit value for a ${f.width}-bit field`);
    const pieces: Value[] = [];
    if (f.msb < 31) pieces.push(C(0, 31 - f.msb));
    pieces.push(v);
    if (f.lsb > 0) pieces.push(C(0, f.lsb));
    word = word.or(pieces.length === 1 ? pieces[0] : cat(...pieces));
  }
  return word;
}
