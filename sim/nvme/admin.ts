// The admin command set (NVMe 1.4 §5): queue creation and deletion with every parameter check, Identify,
// Get/Set Features, Get Log Page, Abort and Asynchronous Event Request. Status choices follow QEMU 7.2's
// nvme device where the spec leaves room, so the two can be compared command by command.

import { getBits32, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { LogPageId, SMART_LOG_BYTES, SmartLogField } from "../../rtl-src/nvme/nvme-log-page.ts";
import { AdminCommandField, SqeField } from "../../rtl-src/nvme/nvme-sqe.ts";
import { AdminOpcode } from "../../rtl-src/nvme/nvme-opcodes.ts";
import type { Command, CommandContext, ErrorDetail } from "./command-context.ts";
import { formatNvm } from "./format.ts";
import { activeNamespaceList, identifyController, identifyNamespace } from "./identify.ts";
import { CompletionQueue, SubmissionQueue } from "./queues.ts";
import { cc } from "./registers.ts";
import type { NvmeStatus } from "./status.ts";
import { Status } from "./status.ts";

export { AdminOpcode };

export const FeatureId = {
  arbitration: 0x01,
  powerManagement: 0x02,
  temperatureThreshold: 0x04,
  volatileWriteCache: 0x06,
  numberOfQueues: 0x07,
  interruptCoalescing: 0x08,
  writeAtomicityNormal: 0x0a,
  asyncEventConfig: 0x0b,
} as const;

const NSID_BROADCAST = 0xffffffff;
/** Kelvin; the warning threshold QEMU reports. */
export const DEFAULT_OVER_TEMPERATURE = 0x157;
/** The composite temperature the model reports, kelvin (50 °C). */
const MODEL_TEMPERATURE = 0x143;

/** What the SMART / Health log page reports (NVMe 1.4 Figure 194), each placed by SmartLogField. */
export interface SmartHealthInfo {
  criticalWarning: number;
  /** Kelvin. */
  compositeTemperature: number;
  availableSpare: number;
  availableSpareThreshold: number;
  percentageUsed: number;
  /** Thousands of 512-byte units, rounded up. */
  dataUnitsRead: bigint;
  dataUnitsWritten: bigint;
  hostReadCommands: bigint;
  hostWriteCommands: bigint;
  controllerBusyTime: bigint;
  powerCycles: bigint;
  powerOnHours: bigint;
  unsafeShutdowns: bigint;
  mediaErrors: bigint;
  errorLogEntries: bigint;
}

/** A new, healthy drive: no warning, all spare left (threshold 10 %), nothing counted. */
export const IDLE_SMART_HEALTH: SmartHealthInfo = {
  criticalWarning: 0,
  compositeTemperature: 0,
  availableSpare: 100,
  availableSpareThreshold: 10,
  percentageUsed: 0,
  dataUnitsRead: 0n,
  dataUnitsWritten: 0n,
  hostReadCommands: 0n,
  hostWriteCommands: 0n,
  controllerBusyTime: 0n,
  powerCycles: 0n,
  powerOnHours: 0n,
  unsafeShutdowns: 0n,
  mediaErrors: 0n,
  errorLogEntries: 0n,
};

/** The 512-byte SMART / Health Information log page (LID 02h) holding `info`; reserved bytes zero. */
export function smartHealthLog(info: SmartHealthInfo): Uint8Array {
  const page = new Uint8Array(SMART_LOG_BYTES);
  for (const name of Object.keys(info) as (keyof SmartHealthInfo)[]) writeField(page, SmartLogField[name], info[name]);
  return page;
}

export class AdminCommandSet {
  constructor(private readonly c: CommandContext) {}

  execute(cmd: Command): void {
    const e = cmd.sqe;
    const done = (status: NvmeStatus, dw0 = 0) => this.c.complete(cmd, status, dw0);
    if (e.psdt !== 0 || e.fuse !== 0) return done(Status.invalidField);
    switch (e.opcode) {
      case AdminOpcode.deleteIoSq:
        return done(this.deleteSq(e.cdw10 & 0xffff));
      case AdminOpcode.createIoSq:
        return done(this.createSq(cmd));
      case AdminOpcode.getLogPage:
        return this.getLogPage(cmd, done);
      case AdminOpcode.deleteIoCq:
        return done(this.deleteCq(e.cdw10 & 0xffff));
      case AdminOpcode.createIoCq:
        return done(this.createCq(cmd));
      case AdminOpcode.identify:
        return this.identify(cmd, done);
      case AdminOpcode.abort:
        return this.abort(cmd, done);
      case AdminOpcode.setFeatures:
        return this.setFeatures(cmd, done);
      case AdminOpcode.getFeatures:
        return this.getFeatures(cmd, done);
      case AdminOpcode.asyncEventRequest:
        return this.asyncEventRequest(cmd, done);
      case AdminOpcode.formatNvm:
        if (!this.c.options.formatNvm) return done(Status.invalidOpcode);
        return formatNvm(this.c, cmd);
      case AdminOpcode.sanitize: {
        if (!this.c.sanitize.supported) return done(Status.invalidOpcode);
        const result = this.c.sanitize.command(e.cdw10, e.cdw11);
        return this.c.complete(cmd, result.status, 0, { field: result.field });
      }
      default:
        return this.c.complete(cmd, Status.invalidOpcode, 0, { field: SqeField.opcode });
    }
  }

  private createCq(cmd: Command): NvmeStatus {
    const c = this.c;
    const e = cmd.sqe;
    const qid = e.cdw10 & 0xffff;
    const qsize = e.cdw10 >>> 16;
    const contiguous = (e.cdw11 & 1) === 1;
    const interrupts = ((e.cdw11 >>> 1) & 1) === 1;
    const vector = e.cdw11 >>> 16;
    if (cc.iosqes(c.regs.cc) !== 6 || cc.iocqes(c.regs.cc) !== 4) return Status.invalidQueueSize;
    if (qid === 0 || qid > c.options.ioQueuePairs || c.cqs.has(qid)) return Status.invalidQueueIdentifier;
    if (qsize === 0 || qsize > c.options.mqes) return Status.invalidQueueSize;
    if ((e.prp1 & BigInt(c.pageSize - 1)) !== 0n) return Status.invalidPrpOffset;
    if (!c.msixEnabled && vector !== 0) return Status.invalidInterruptVector;
    if (vector >= c.msixVectors) return Status.invalidInterruptVector;
    if (!contiguous) return Status.invalidField;
    c.addCompletionQueue(new CompletionQueue(qid, e.prp1, qsize + 1, interrupts, vector));
    return Status.success;
  }

  private createSq(cmd: Command): NvmeStatus {
    const c = this.c;
    const e = cmd.sqe;
    const qid = e.cdw10 & 0xffff;
    const qsize = e.cdw10 >>> 16;
    const contiguous = (e.cdw11 & 1) === 1;
    const cqid = e.cdw11 >>> 16;
    if (cqid === 0 || !c.cqs.has(cqid)) return Status.invalidCompletionQueue;
    if (qid === 0 || qid > c.options.ioQueuePairs || c.sqs.has(qid)) return Status.invalidQueueIdentifier;
    if (qsize === 0 || qsize > c.options.mqes) return Status.invalidQueueSize;
    if ((e.prp1 & BigInt(c.pageSize - 1)) !== 0n) return Status.invalidPrpOffset;
    if (!contiguous) return Status.invalidField;
    c.addSubmissionQueue(new SubmissionQueue(qid, e.prp1, qsize + 1, cqid));
    return Status.success;
  }

  private deleteSq(qid: number): NvmeStatus {
    if (qid === 0 || !this.c.sqs.has(qid)) return Status.invalidQueueIdentifier;
    this.c.deleteSubmissionQueue(qid);
    return Status.success;
  }

  private deleteCq(qid: number): NvmeStatus {
    const cq = this.c.cqs.get(qid);
    // NVMe 1.4 §5.5: an invalid QID is Invalid Queue Identifier (QEMU 7.2 answers Invalid CQ here).
    if (qid === 0 || !cq) return Status.invalidQueueIdentifier;
    if (cq.sqids.size > 0) return Status.invalidQueueDeletion;
    this.c.deleteCompletionQueue(qid);
    return Status.success;
  }

  private identify(cmd: Command, done: (s: NvmeStatus, dw0?: number) => void): void {
    const c = this.c;
    const e = cmd.sqe;
    const cns = e.cdw10 & 0xff;
    let data: Uint8Array;
    switch (cns) {
      case 0x00: {
        if (!c.nsidValid(e.nsid)) return done(Status.invalidNamespace);
        const ns = c.namespace(e.nsid);
        const opts = c.options.namespaces[e.nsid - 1];
        data = ns && opts
          ? identifyNamespace({
              nsid: e.nsid,
              capacityBlocks: ns.capacityBlocks,
              lbaSize: ns.lbaSize,
              nawun: opts.nawun,
              nawupf: opts.nawupf,
              nabspf: opts.nabspf,
              nabo: opts.nabo,
              preferredWriteBlocks: Math.max(1, c.options.indirectionUnitBytes / ns.lbaSize),
              lbaFormats: c.options.lbaFormats,
            })
          : new Uint8Array(4096);
        break;
      }
      case 0x01:
        data = identifyController({
          pciVendorId: c.options.vendorId,
          pciSubsystemVendorId: c.options.subsystemVendorId,
          serial: c.options.serial,
          model: c.options.model,
          firmware: c.options.firmware,
          mdts: c.options.mdts,
          nn: c.options.maxNamespaces,
          volatileWriteCache: c.timing.hasWriteCache,
          awun: c.options.awun,
          awupf: c.options.awupf,
          aerl: 3,
          acl: 3,
          elpe: c.options.elpe,
          rtd3e: Math.ceil((c.timing.params.flushOverheadCycles + c.options.shutdownDelayCycles) / 250),
          maxOutstandingCommands: Math.min(c.options.maxOutstandingCommands, 0xffff),
          erase: c.options,
        });
        break;
      case 0x02:
        if (e.nsid >= NSID_BROADCAST - 1) return done(Status.invalidNamespace);
        data = activeNamespaceList(c.media.map((_, i) => i + 1), e.nsid);
        break;
      default:
        return done(Status.invalidField);
    }
    c.toHost(cmd, data, (s) => done(s));
  }

  private getLogPage(cmd: Command, done: (s: NvmeStatus, dw0?: number) => void): void {
    const c = this.c;
    const e = cmd.sqe;
    const F = AdminCommandField;
    const fail = (status: NvmeStatus, error: ErrorDetail) => c.complete(cmd, status, 0, error);
    const lid = getBits32(e.cdw10, F.logPageId);
    const retainEvent = getBits32(e.cdw10, F.logRetainEvent) === 1;
    const numd = getBits32(e.cdw11, F.logDwordsUpper) * 0x10000 + getBits32(e.cdw10, F.logDwordsLower) + 1;
    const length = numd * 4;
    const offset = (BigInt(e.cdw13 >>> 0) << 32n) | BigInt(e.cdw12 >>> 0);
    if ((offset & 3n) !== 0n) return fail(Status.invalidField, { field: F.logPageOffset });
    if (length > c.maxTransferBytes) return fail(Status.invalidField, { field: F.logDwordsLower });
    let page: Uint8Array;
    switch (lid) {
      case LogPageId.errorInformation:
        page = c.errorLog.page();
        if (!retainEvent) c.maskedEventTypes.delete(0);
        break;
      case LogPageId.smartHealth:
        page = this.smartLog();
        if (!retainEvent) c.maskedEventTypes.delete(1);
        break;
      case LogPageId.sanitizeStatus:
        // Mandatory with Sanitize; without it the log does not exist (as in QEMU 7.2).
        if (!c.sanitize.supported) return fail(Status.invalidField, { field: F.logPageId });
        page = c.sanitize.statusLog();
        break;
      default:
        return fail(Status.invalidField, { field: F.logPageId });
    }
    // Like QEMU: an offset at or past the end of the log is refused; a read past the end returns what there is.
    if (offset >= BigInt(page.length)) return fail(Status.invalidField, { field: F.logPageOffset });
    const from = Number(offset);
    const slice = page.subarray(from, Math.min(page.length, from + length));
    c.toHost(cmd, slice, (s) => {
      done(s);
      c.deliverAsyncEvents();
    });
  }

  private smartLog(): Uint8Array {
    const s = this.c.stats;
    return smartHealthLog({
      ...IDLE_SMART_HEALTH,
      compositeTemperature: MODEL_TEMPERATURE,
      dataUnitsRead: BigInt(Math.ceil(s.dataUnitsRead / 1000)),
      dataUnitsWritten: BigInt(Math.ceil(s.dataUnitsWritten / 1000)),
      hostReadCommands: BigInt(s.hostReadCommands),
      hostWriteCommands: BigInt(s.hostWriteCommands),
      powerCycles: BigInt(s.powerCycles),
      unsafeShutdowns: BigInt(s.unsafeShutdowns),
      errorLogEntries: this.c.errorLog.errorCount,
    });
  }

  private abort(cmd: Command, done: (s: NvmeStatus, dw0?: number) => void): void {
    const c = this.c;
    const sqid = cmd.sqe.cdw10 & 0xffff;
    const cid = cmd.sqe.cdw10 >>> 16;
    if (!c.sqs.has(sqid)) return done(Status.invalidField, 1);
    if (sqid === 0) {
      const index = c.pendingAsyncRequests.findIndex((r) => r.sqe.cid === cid);
      if (index >= 0) {
        const [aborted] = c.pendingAsyncRequests.splice(index, 1);
        c.complete(aborted, Status.abortRequested);
        return done(Status.success, 0);
      }
    }
    // Commands already executing are not aborted (DW0 bit 0 = 1), as in QEMU.
    done(Status.success, 1);
  }

  private asyncEventRequest(cmd: Command, done: (s: NvmeStatus, dw0?: number) => void): void {
    const c = this.c;
    if (c.pendingAsyncRequests.length > 3) return done(Status.asyncEventLimitExceeded);
    c.pendingAsyncRequests.push(cmd);
    c.deliverAsyncEvents();
  }

  private featureNamespaceProblem(nsid: number): NvmeStatus | undefined {
    if (nsid === 0 || nsid === NSID_BROADCAST) return undefined;
    return this.c.nsidValid(nsid) ? Status.featureNotNamespaceSpecific : Status.invalidNamespace;
  }

  private setFeatures(cmd: Command, done: (s: NvmeStatus, dw0?: number) => void): void {
    const c = this.c;
    const e = cmd.sqe;
    const fid = e.cdw10 & 0xff;
    const save = (e.cdw10 >>> 31) === 1;
    const supported = (Object.values(FeatureId) as number[]).includes(fid);
    if (save && supported) return done(Status.featureNotSaveable);
    if (!supported) return done(Status.invalidField);
    const nsProblem = this.featureNamespaceProblem(e.nsid);
    if (nsProblem) return done(nsProblem);
    const f = c.features;
    switch (fid) {
      case FeatureId.arbitration:
        f.arbitration = e.cdw11 >>> 0;
        return done(Status.success);
      case FeatureId.powerManagement:
        if ((e.cdw11 & 0x1f) !== 0) return done(Status.invalidField);
        f.powerState = 0;
        return done(Status.success);
      case FeatureId.volatileWriteCache: {
        if (!c.timing.hasWriteCache) return done(Status.invalidField);
        const enable = (e.cdw11 & 1) === 1;
        if (f.volatileWriteCache && !enable) {
          // Turning the cache off writes it back first.
          f.volatileWriteCache = false;
          c.scheduler.at(c.timing.flushDone(c.now), () => done(Status.success));
          return;
        }
        f.volatileWriteCache = enable;
        return done(Status.success);
      }
      case FeatureId.numberOfQueues: {
        if (c.ioQueuesCreated) return done(Status.commandSequenceError);
        if ((e.cdw11 & 0xffff) === 0xffff || e.cdw11 >>> 16 === 0xffff) return done(Status.invalidField);
        return done(Status.success, this.queuesAllocated());
      }
      case FeatureId.temperatureThreshold: {
        const threshold = (e.cdw11 >>> 20) & 3;
        if (((e.cdw11 >>> 16) & 0xf) !== 0) return done(Status.success); // only the composite sensor exists
        if (threshold > 1) return done(Status.invalidField);
        if (threshold === 0) f.overTemperature = e.cdw11 & 0xffff;
        else f.underTemperature = e.cdw11 & 0xffff;
        return done(Status.success);
      }
      case FeatureId.interruptCoalescing:
        f.interruptCoalescing = e.cdw11 & 0xffff;
        return done(Status.success);
      case FeatureId.writeAtomicityNormal:
        f.disableNormal = (e.cdw11 & 1) === 1;
        return done(Status.success);
      case FeatureId.asyncEventConfig:
        f.asyncEventConfig = e.cdw11 >>> 0;
        return done(Status.success);
    }
  }

  /** Like QEMU, the controller always grants every queue pair it supports (zero-based NSQA/NCQA). */
  private queuesAllocated(): number {
    const n = this.c.options.ioQueuePairs - 1;
    return ((n << 16) | n) >>> 0;
  }

  private getFeatures(cmd: Command, done: (s: NvmeStatus, dw0?: number) => void): void {
    const c = this.c;
    const e = cmd.sqe;
    const fid = e.cdw10 & 0xff;
    const select = (e.cdw10 >>> 8) & 7;
    if (!(Object.values(FeatureId) as number[]).includes(fid)) return done(Status.invalidField);
    if (select === 3) return done(Status.success, fid === FeatureId.powerManagement ? 0 : 0x4); // changeable
    if (select > 3) return done(Status.invalidField);
    const current = select === 0;
    const f = c.features;
    switch (fid) {
      case FeatureId.arbitration:
        return done(Status.success, current ? f.arbitration : 0x7);
      case FeatureId.powerManagement:
        return done(Status.success, current ? f.powerState : 0);
      case FeatureId.volatileWriteCache:
        return done(Status.success, current ? Number(f.volatileWriteCache) : Number(c.timing.hasWriteCache));
      case FeatureId.numberOfQueues:
        return done(Status.success, this.queuesAllocated());
      case FeatureId.temperatureThreshold: {
        if (((e.cdw11 >>> 16) & 0xf) !== 0) return done(Status.success, 0);
        const threshold = (e.cdw11 >>> 20) & 3;
        if (threshold > 1) return done(Status.invalidField);
        const defaults = [DEFAULT_OVER_TEMPERATURE, 0];
        return done(Status.success, current ? (threshold === 0 ? f.overTemperature : f.underTemperature) : defaults[threshold]);
      }
      case FeatureId.interruptCoalescing:
        return done(Status.success, current ? f.interruptCoalescing : 0);
      case FeatureId.writeAtomicityNormal:
        return done(Status.success, current ? Number(f.disableNormal) : 0);
      case FeatureId.asyncEventConfig:
        return done(Status.success, current ? f.asyncEventConfig : 0);
    }
  }
}
