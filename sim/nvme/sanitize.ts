// Sanitize (admin opcode 84h, NVMe 1.4 §5.24 and §8.15) and its Sanitize Status log (LID 81h). The
// command only starts the operation: it completes at once and the erase runs in the background for
// as long as the timing model says, over every namespace. While it runs, every I/O command and every
// admin command the specification does not allow during a sanitize is aborted with Sanitize In
// Progress (commands already in flight too). A failed sanitize (injected: FaultInjector.failSanitize)
// puts the controller in its failure mode, where the same commands are aborted with Sanitize Failed
// until a new sanitize succeeds or, after an unrestricted one (AUSE = 1), Exit Failure Mode.
//
// What the media holds afterwards: block and crypto erase deallocate every block (it reads as DLFEAT
// says: zeroes); overwrite writes the pattern over every byte, pass after pass (inverted between
// passes with OIPBP), then deallocates too. With NDAS = 1 and No-Deallocate Inhibited clear the blocks
// stay allocated and read as the operation left them: the last pass's pattern, erased NAND (FFh), or
// the old data decrypted under the new key (deterministic pseudo-random bytes). With No-Deallocate
// Inhibited set the controller deallocates anyway and reports SSTAT 100b.

import { getBits32, type NvmeField, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { LogPageId, SANITIZE_STATUS_LOG_BYTES, SanitizeState, SanitizeStatusField } from "../../rtl-src/nvme/nvme-log-page.ts";
import { AdminCommandField, SanitizeAction } from "../../rtl-src/nvme/nvme-sqe.ts";
import { randomBytes } from "../random.ts";
import { AdminOpcode } from "./admin-opcodes.ts";
import type { FaultInjector } from "./faults.ts";
import { NamespaceMedia } from "./media.ts";
import type { ModelLog } from "./model-log.ts";
import type { SsdOptions } from "./options.ts";
import type { Scheduler } from "./scheduler.ts";
import type { NvmeStatus } from "./status.ts";
import { Status } from "./status.ts";
import { CYCLES_PER_US, type TimingModel } from "./timing.ts";

/** What the sanitize operation needs from the controller it runs in. */
export interface SanitizePort {
  readonly options: SsdOptions;
  readonly timing: TimingModel;
  readonly scheduler: Scheduler;
  readonly faults: FaultInjector;
  readonly log: ModelLog;
  /** The namespaces' media; a finished sanitize replaces each entry with the sanitized media. */
  readonly media: NamespaceMedia[];
  /** A sanitize started: abort every command in flight that may not run during it. */
  abortDisallowedInFlight(): void;
}

/** The outcome of a Sanitize command: its status and, for an error, the field at fault. */
export interface SanitizeCommandResult {
  status: NvmeStatus;
  field?: NvmeField;
}

/**
 * Admin commands allowed while a sanitize runs or has failed (NVMe 1.4 §8.15.1): queue management,
 * Get Log Page (of the logs below), Identify, Abort, Get/Set Features, Asynchronous Event Request,
 * Keep Alive, NVMe-MI Send/Receive. Sanitize itself decides (Sanitize In Progress / failure rules).
 */
const ALLOWED_ADMIN_OPCODES: ReadonlySet<number> = new Set([
  AdminOpcode.deleteIoSq,
  AdminOpcode.createIoSq,
  AdminOpcode.getLogPage,
  AdminOpcode.deleteIoCq,
  AdminOpcode.createIoCq,
  AdminOpcode.identify,
  AdminOpcode.abort,
  AdminOpcode.setFeatures,
  AdminOpcode.getFeatures,
  AdminOpcode.asyncEventRequest,
  AdminOpcode.keepAlive,
  AdminOpcode.nvmeMiSend,
  AdminOpcode.nvmeMiReceive,
  AdminOpcode.sanitize,
]);

/** Log pages readable during a sanitize, of those the model offers: Error Information, SMART / Health, Sanitize Status. */
const ALLOWED_LOG_PAGES: ReadonlySet<number> = new Set([LogPageId.errorInformation, LogPageId.smartHealth, LogPageId.sanitizeStatus]);

/** OWPASS 0 means 16 passes. */
const MAX_OVERWRITE_PASSES = 16;
const NO_ESTIMATE = 0xffffffff;
const CYCLES_PER_SECOND = 1e6 * CYCLES_PER_US;
/** What erased NAND reads as when a block erase leaves the blocks allocated. */
const ERASED_BYTE = 0xff;

interface RunningSanitize {
  action: number;
  startCycle: number;
  endCycle: number;
  passes: number;
  passCycles: number;
  cdw10: number;
  cdw11: number;
}

export class SanitizeOperation {
  private state: number = SanitizeState.neverSanitized;
  private running: RunningSanitize | undefined;
  /** After a failed sanitize: "restricted" (AUSE was 0: only a new restricted sanitize recovers) or "unrestricted". */
  private failureMode: "none" | "restricted" | "unrestricted" = "none";
  private lastCdw10 = 0;
  private overwritePassesCompleted = 0;
  /** Nothing written to the media since manufacture or since the last successful sanitize. */
  private globalDataErased = true;
  /** Bumped by every crypto erase: the key the old data would now be decrypted with. */
  private keyGeneration = 0;

  constructor(private readonly port: SanitizePort) {}

  /** Any sanitize action supported (Identify SANICAP): without one the opcode is not supported at all. */
  get supported(): boolean {
    const o = this.port.options;
    return o.sanitizeBlockErase || o.sanitizeOverwrite || o.sanitizeCryptoErase;
  }

  get inProgress(): boolean {
    return this.running !== undefined;
  }

  get inFailureMode(): boolean {
    return this.failureMode !== "none";
  }

  /** User data was written (Write, Write Zeroes): the Global Data Erased bit clears. */
  noteMediaWritten(): void {
    this.globalDataErased = false;
  }

  /**
   * The status a command gets instead of running because of a sanitize (in progress or failed), or
   * undefined when it may run. `cdw10` is the command's CDW10 (Get Log Page's log identifier).
   */
  refusal(sqid: number, opcode: number, cdw10: number): NvmeStatus | undefined {
    const status = this.running ? Status.sanitizeInProgress : this.failureMode !== "none" ? Status.sanitizeFailed : undefined;
    if (!status) return undefined;
    if (sqid !== 0 || !ALLOWED_ADMIN_OPCODES.has(opcode)) return status;
    if (opcode === AdminOpcode.getLogPage && !ALLOWED_LOG_PAGES.has(getBits32(cdw10, AdminCommandField.logPageId))) return status;
    return undefined;
  }

  /** A Sanitize command (CDW10, CDW11): check it, start the operation, and say how the command completes. */
  command(cdw10: number, cdw11: number): SanitizeCommandResult {
    const F = AdminCommandField;
    const action = getBits32(cdw10, F.sanitizeAction);
    const unrestricted = getBits32(cdw10, F.sanitizeAllowUnrestrictedExit) === 1;
    const o = this.port.options;
    if (this.running) return { status: Status.sanitizeInProgress };
    const supported: Record<number, boolean> = {
      [SanitizeAction.exitFailureMode]: true,
      [SanitizeAction.blockErase]: o.sanitizeBlockErase,
      [SanitizeAction.overwrite]: o.sanitizeOverwrite,
      [SanitizeAction.cryptoErase]: o.sanitizeCryptoErase,
    };
    if (!supported[action]) return { status: Status.invalidField, field: F.sanitizeAction };
    if (action === SanitizeAction.exitFailureMode) {
      // Without a failure there is nothing to exit: success, no action (NVMe 1.4 §5.24).
      if (this.failureMode === "restricted") return { status: Status.sanitizeFailed };
      this.failureMode = "none";
      return { status: Status.success };
    }
    if (this.failureMode === "restricted" && unrestricted) return { status: Status.sanitizeFailed, field: F.sanitizeAllowUnrestrictedExit };
    this.start(action, cdw10 >>> 0, cdw11 >>> 0);
    return { status: Status.success };
  }

  /** The 512-byte Sanitize Status log page as of now. */
  statusLog(): Uint8Array {
    const page = new Uint8Array(SANITIZE_STATUS_LOG_BYTES);
    const F = SanitizeStatusField;
    const now = this.port.scheduler.now;
    const r = this.running;
    let passes = this.overwritePassesCompleted;
    let progress = 0xffff;
    if (r) {
      const span = r.endCycle - r.startCycle;
      progress = span <= 0 ? 0xffff : Math.min(0xffff, Math.floor(((now - r.startCycle) / span) * 0x10000));
      passes = r.action === SanitizeAction.overwrite && r.passCycles > 0 ? Math.min(r.passes, Math.floor((now - r.startCycle) / r.passCycles)) : 0;
    }
    writeField(page, F.sprog, progress);
    writeField(page, F.sstatState, r ? SanitizeState.inProgress : this.state);
    writeField(page, F.sstatOverwritePasses, passes);
    writeField(page, F.sstatGlobalDataErased, this.globalDataErased ? 1 : 0);
    writeField(page, F.scdw10, this.lastCdw10);
    const o = this.port.options;
    const seconds = (cycles: number) => Math.ceil(cycles / CYCLES_PER_SECOND);
    writeField(page, F.estimatedOverwrite, o.sanitizeOverwrite ? seconds(this.durationCycles(SanitizeAction.overwrite, MAX_OVERWRITE_PASSES, true)) : NO_ESTIMATE);
    writeField(page, F.estimatedBlockErase, o.sanitizeBlockErase ? seconds(this.durationCycles(SanitizeAction.blockErase, 1, true)) : NO_ESTIMATE);
    writeField(page, F.estimatedCryptoErase, o.sanitizeCryptoErase ? seconds(this.durationCycles(SanitizeAction.cryptoErase, 1, true)) : NO_ESTIMATE);
    // The No-Deallocate estimates apply when SANICAP NODMMAS reports that media is modified after a
    // no-deallocate sanitize; the model reports NODMMAS 00b (not reported), so they are not reported either.
    writeField(page, F.estimatedOverwriteNoDeallocate, NO_ESTIMATE);
    writeField(page, F.estimatedBlockEraseNoDeallocate, NO_ESTIMATE);
    writeField(page, F.estimatedCryptoEraseNoDeallocate, NO_ESTIMATE);
    return page;
  }

  /** Cycles the action takes over every namespace, deallocating at the end or not. */
  durationCycles(action: number, passes: number, deallocate: boolean): number {
    const { timing, media } = this.port;
    const bytes = media.reduce((sum, ns) => sum + ns.capacityBlocks * ns.lbaSize, 0);
    const deallocation = deallocate ? media.length * timing.params.deallocateAllCycles : 0;
    switch (action) {
      case SanitizeAction.blockErase:
        return timing.blockEraseCycles(bytes) + deallocation;
      case SanitizeAction.cryptoErase:
        return timing.params.cryptoEraseCycles + deallocation;
      case SanitizeAction.overwrite:
        return passes * timing.overwritePassCycles(bytes) + deallocation;
      default:
        return 0;
    }
  }

  private start(action: number, cdw10: number, cdw11: number): void {
    const { scheduler, options, log } = this.port;
    const F = AdminCommandField;
    const passes = getBits32(cdw10, F.sanitizeOverwritePasses) || MAX_OVERWRITE_PASSES;
    const noDeallocate = getBits32(cdw10, F.sanitizeNoDeallocate) === 1;
    const deallocate = !noDeallocate || options.sanitizeNoDeallocateInhibited;
    const now = scheduler.now;
    const run: RunningSanitize = {
      action,
      startCycle: now,
      endCycle: now + this.durationCycles(action, action === SanitizeAction.overwrite ? passes : 1, deallocate),
      passes: action === SanitizeAction.overwrite ? passes : 0,
      passCycles: action === SanitizeAction.overwrite ? this.port.timing.overwritePassCycles(this.totalBytes()) : 0,
      cdw10,
      cdw11,
    };
    this.running = run;
    this.failureMode = "none";
    this.lastCdw10 = cdw10;
    this.overwritePassesCompleted = 0;
    log.add(now, "erase", `sanitize action ${action} started, ends at cycle ${run.endCycle}`);
    this.port.abortDisallowedInFlight();
    scheduler.at(run.endCycle, () => this.finish(run, deallocate, noDeallocate));
  }

  private finish(run: RunningSanitize, deallocate: boolean, noDeallocateAsked: boolean): void {
    const { faults, log, media, options } = this.port;
    this.running = undefined;
    const unrestricted = getBits32(run.cdw10, AdminCommandField.sanitizeAllowUnrestrictedExit) === 1;
    if (faults.takeSanitizeFailure()) {
      this.state = SanitizeState.failed;
      this.failureMode = unrestricted ? "unrestricted" : "restricted";
      log.add(this.port.scheduler.now, "fault-injected", `sanitize action ${run.action} failed (${this.failureMode} failure mode)`);
      return;
    }
    if (run.action === SanitizeAction.cryptoErase) this.keyGeneration++;
    const background = deallocate ? undefined : this.leftBehind(run);
    media.forEach((old, i) => {
      const fresh = new NamespaceMedia(old.lbaSize, old.capacityBlocks, options.indirectionUnitBytes);
      if (background) fresh.setBackground(background(old.lbaSize));
      media[i] = fresh;
    });
    this.overwritePassesCompleted = run.passes;
    this.globalDataErased = true;
    this.state = noDeallocateAsked && deallocate ? SanitizeState.completedNoDeallocate : SanitizeState.completed;
    log.add(this.port.scheduler.now, "erase", `sanitize action ${run.action} completed${deallocate ? "" : " without deallocation"}`);
  }

  /** What each allocated block reads as after a sanitize that does not deallocate, per block size. */
  private leftBehind(run: RunningSanitize): (lbaSize: number) => (lba: number) => Uint8Array {
    switch (run.action) {
      case SanitizeAction.overwrite: {
        const invert = getBits32(run.cdw10, AdminCommandField.sanitizeOverwriteInvert) === 1;
        // Pass 1 writes the pattern, pass 2 its inverse, ... so an even pass count ends inverted.
        const last = invert && run.passes % 2 === 0 ? ~getBits32(run.cdw11, AdminCommandField.sanitizeOverwritePattern) >>> 0 : getBits32(run.cdw11, AdminCommandField.sanitizeOverwritePattern);
        return (lbaSize) => {
          const block = new Uint8Array(lbaSize);
          const view = new DataView(block.buffer);
          for (let at = 0; at < lbaSize; at += 4) view.setUint32(at, last, true);
          return () => block;
        };
      }
      case SanitizeAction.blockErase:
        return (lbaSize) => {
          const block = new Uint8Array(lbaSize).fill(ERASED_BYTE);
          return () => block;
        };
      default: {
        const key = this.keyGeneration;
        return (lbaSize) => (lba) => randomBytes(lbaSize, (Math.imul(lba, 0x9e3779b1) ^ Math.imul(key, 0x85ebca6b)) >>> 0);
      }
    }
  }

  private totalBytes(): number {
    return this.port.media.reduce((sum, ns) => sum + ns.capacityBlocks * ns.lbaSize, 0);
  }
}
