// The NVMe controller behind BAR0: the enable/ready handshake, controller reset and shutdown, doorbells,
// round-robin arbitration with SQE fetch over DMA, the life of a command (firmware overhead, execution by
// the admin or I/O command set, completion posting with phase tag, interrupts), asynchronous events,
// and data movement through PRPs. The PCIe function around it (config space, BAR decode, MSI-X table) is
// in ssd.ts and reached through the port.

import type { Tlp } from "../pcie/tlp.ts";
import type { Command, CommandContext, ControllerStats, ErrorDetail, FeatureState } from "./command-context.ts";
import { AdminCommandSet, DEFAULT_OVER_TEMPERATURE } from "./admin.ts";
import { DmaEngine } from "./dma.ts";
import { ErrorLog, type ErrorLogEntry, NO_PARAMETER_LOCATION, parameterErrorLocation } from "./error-log.ts";
import type { FaultInjector } from "./faults.ts";
import { IoCommandSet } from "./io.ts";
import { NamespaceMedia } from "./media.ts";
import type { ModelLog } from "./model-log.ts";
import type { SsdOptions } from "./options.ts";
import type { PrpResult } from "./prp.ts";
import { walkPrps } from "./prp.ts";
import { CompletionQueue, SubmissionQueue } from "./queues.ts";
import { cc, ControllerRegisters } from "./registers.ts";
import { SanitizeOperation } from "./sanitize.ts";
import type { Scheduler } from "./scheduler.ts";
import type { NvmeStatus } from "./status.ts";
import { describeStatus, isSuccess, Status, statusField } from "./status.ts";
import type { SubmissionEntry } from "./submission-entry.ts";
import { CQE_BYTES, encodeCompletionEntry, parseSubmissionEntry, SQE_BYTES } from "./submission-entry.ts";
import type { TimingModel } from "./timing.ts";

/** What the controller needs from the PCIe function it lives in. */
export interface FunctionPort {
  requesterId(): number;
  maxPayloadBytes(): number;
  maxReadRequestBytes(): number;
  extendedTags(): boolean;
  busMasterEnabled(): boolean;
  /** A request or completion, sent ahead of posted TLPs not built yet. */
  send(tlp: Tlp): void;
  /** A posted transfer (data, CQ entries), its TLPs built in order behind every earlier one. */
  post(job: Iterator<Tlp, void, void>): void;
  /** A completion queue with interrupts enabled got new entries. */
  raiseInterrupt(vector: number): void;
  /** Level of the legacy pin interrupt (used when MSI-X is off). */
  setPinInterrupt(asserted: boolean): void;
  msixEnabled(): boolean;
  msixVectors: number;
}

const AER_TYPE_ERROR = 0;
const AER_INFO_INVALID_DB_REGISTER = 0;
const AER_INFO_INVALID_DB_VALUE = 1;
const LOG_ERROR_INFO = 0x01;

export type { Command, ControllerStats, ErrorDetail, FeatureState } from "./command-context.ts";
export type { ErrorLogEntry } from "./error-log.ts";

export class NvmeController implements CommandContext {
  readonly regs: ControllerRegisters;
  readonly dma: DmaEngine;
  readonly media: NamespaceMedia[];
  readonly sqs = new Map<number, SubmissionQueue>();
  readonly cqs = new Map<number, CompletionQueue>();
  readonly inFlight = new Set<Command>();
  readonly stats: ControllerStats = {
    commandsCompleted: 0,
    commandsFailed: 0,
    completionsDropped: 0,
    hostReadCommands: 0,
    hostWriteCommands: 0,
    dataUnitsRead: 0,
    dataUnitsWritten: 0,
    unsafeShutdowns: 0,
    powerCycles: 1,
    doorbellErrors: 0,
  };
  features: FeatureState;
  /** An I/O queue has been created since reset (Number of Queues may no longer change). */
  ioQueuesCreated = false;
  readonly errorLog: ErrorLog;
  readonly sanitize: SanitizeOperation;
  readonly formatting = new Set<number>();
  readonly pendingAsyncRequests: Command[] = [];
  private asyncEvents: { type: number; info: number; logPage: number }[] = [];
  readonly maskedEventTypes = new Set<number>();
  private rrCursor = 0;
  /** Entries being fetched: they count against maxOutstandingCommands before they become commands. */
  private entriesInFetch = 0;
  private interruptsDue = new Set<CompletionQueue>();
  private interruptFlushScheduled = false;
  /** Bumped by every reset so that stale scheduled work (ready timer, shutdown) is ignored. */
  private generation = 0;
  private shuttingDown = false;
  private readonly admin: AdminCommandSet;
  private readonly io: IoCommandSet;

  constructor(
    readonly options: SsdOptions,
    readonly timing: TimingModel,
    readonly faults: FaultInjector,
    readonly scheduler: Scheduler,
    readonly log: ModelLog,
    private readonly port: FunctionPort,
    completionTimeoutCycles: () => number,
  ) {
    this.regs = new ControllerRegisters(
      { mqes: options.mqes, timeout: options.capTimeout, dstrd: options.dstrd, mpsmin: options.mpsmin, mpsmax: options.mpsmax },
      { onControllerConfiguration: (prev, next) => this.onConfiguration(prev, next) },
    );
    this.dma = new DmaEngine({
      requesterId: () => port.requesterId(),
      maxPayloadBytes: () => port.maxPayloadBytes(),
      maxReadRequestBytes: () => port.maxReadRequestBytes(),
      extendedTags: () => port.extendedTags(),
      busMasterEnabled: () => port.busMasterEnabled(),
      completionTimeoutCycles,
      send: (tlp) => port.send(tlp),
      post: (job) => port.post(job),
      scheduler,
      log,
    });
    this.media = options.namespaces.map((ns) => new NamespaceMedia(ns.lbaSize, ns.capacityBlocks, options.indirectionUnitBytes));
    this.features = this.defaultFeatures();
    this.errorLog = new ErrorLog(options.elpe);
    // A sanitize outlives controller resets and power cycles (NVMe 1.4 §8.15): its state is not reset.
    this.sanitize = new SanitizeOperation(this);
    this.admin = new AdminCommandSet(this);
    this.io = new IoCommandSet(this);
  }

  get now(): number {
    return this.scheduler.now;
  }

  /** Memory page size selected by CC.MPS. */
  get pageSize(): number {
    return 1 << (12 + cc.mps(this.regs.cc));
  }

  /** Maximum data transfer size in bytes, or Infinity. */
  get maxTransferBytes(): number {
    return this.options.mdts === 0 ? Number.POSITIVE_INFINITY : (1 << this.options.mdts) * (1 << (12 + this.options.mpsmin));
  }

  get msixVectors(): number {
    return this.port.msixVectors;
  }
  get msixEnabled(): boolean {
    return this.port.msixEnabled();
  }

  /** Namespace media for an active NSID, or undefined. */
  namespace(nsid: number): NamespaceMedia | undefined {
    return nsid >= 1 && nsid <= this.media.length ? this.media[nsid - 1] : undefined;
  }

  /** Valid NSID for this controller (1..NN); broadcast is handled by the callers that allow it. */
  nsidValid(nsid: number): boolean {
    return nsid >= 1 && nsid <= this.options.maxNamespaces;
  }

  // ---- reset, enable, shutdown -------------------------------------------------------------------

  /** Power-on / conventional reset of the whole controller. */
  powerOnReset(): void {
    this.faults.controllerReset();
    this.resetState();
    this.regs.reset();
    this.timing.reset();
  }

  /** Controller fatal status (CSTS.CFS): stop processing until the host resets the controller. */
  declareFatal(reason: string): void {
    this.log.add(this.now, "controller-fatal", reason);
    this.regs.setFatal();
  }

  private onConfiguration(previous: number, next: number): void {
    const wasEnabled = cc.enabled(previous);
    const enabled = cc.enabled(next);
    if (!wasEnabled && enabled) this.enable();
    else if (wasEnabled && !enabled) this.controllerReset();
    if (enabled && cc.shn(next) !== 0 && cc.shn(previous) === 0) this.shutdown(cc.shn(next) === 2);
  }

  private enable(): void {
    const r = this.regs;
    const problem = this.enableProblem();
    if (problem) {
      this.declareFatal(`CC.EN set with invalid configuration: ${problem}`);
      return;
    }
    if (this.faults.takeFatalOnEnable()) {
      this.log.add(this.now, "fault-injected", "CC.EN set: CSTS.CFS raised instead of becoming ready");
      this.declareFatal("injected controller fatal status during enable");
      return;
    }
    const asqs = (r.aqa & 0xfff) + 1;
    const acqs = ((r.aqa >>> 16) & 0xfff) + 1;
    const cq = new CompletionQueue(0, r.acq, acqs, true, 0);
    const sq = new SubmissionQueue(0, r.asq, asqs, 0);
    cq.sqids.add(0);
    this.cqs.set(0, cq);
    this.sqs.set(0, sq);
    if (this.faults.takeNeverReady()) {
      this.log.add(this.now, "fault-injected", "CC.EN set: CSTS.RDY will never be set");
      return;
    }
    const generation = this.generation;
    this.scheduler.after(this.options.readyDelayCycles, () => {
      if (generation !== this.generation || r.fatal) return;
      r.setReady(true);
      this.pump();
    });
  }

  private enableProblem(): string | undefined {
    const r = this.regs;
    const mps = cc.mps(r.cc);
    if (mps < this.options.mpsmin || mps > this.options.mpsmax) return `CC.MPS ${mps} outside CAP.MPSMIN..MPSMAX ${this.options.mpsmin}..${this.options.mpsmax}`;
    if (cc.css(r.cc) !== 0) return `CC.CSS ${cc.css(r.cc)} is not the NVM command set`;
    if (cc.ams(r.cc) !== 0) return `CC.AMS ${cc.ams(r.cc)} is not round robin`;
    if ((r.aqa & 0xfff) === 0 || ((r.aqa >>> 16) & 0xfff) === 0) return `AQA 0x${r.aqa.toString(16)} gives an admin queue of fewer than 2 entries`;
    const page = BigInt(this.pageSize - 1);
    if (r.asq === 0n || (r.asq & page) !== 0n) return `ASQ 0x${r.asq.toString(16)} is zero or not page aligned`;
    if (r.acq === 0n || (r.acq & page) !== 0n) return `ACQ 0x${r.acq.toString(16)} is zero or not page aligned`;
    return undefined;
  }

  /** CC.EN 1 -> 0: every queue and command is gone, CSTS returns to 0. */
  private controllerReset(): void {
    this.faults.controllerReset();
    this.resetState();
    this.regs.csts = 0;
  }

  private resetState(): void {
    this.generation++;
    this.entriesInFetch = 0;
    for (const cmd of this.inFlight) cmd.cancelled = true;
    this.inFlight.clear();
    for (const cmd of this.pendingAsyncRequests) cmd.cancelled = true;
    this.pendingAsyncRequests.length = 0;
    this.asyncEvents = [];
    this.maskedEventTypes.clear();
    this.dma.cancelAll();
    this.sqs.clear();
    this.cqs.clear();
    this.interruptsDue.clear();
    this.port.setPinInterrupt(false);
    this.features = this.defaultFeatures();
    this.ioQueuesCreated = false;
    this.shuttingDown = false;
  }

  private shutdown(abrupt: boolean): void {
    this.shuttingDown = true;
    this.regs.setShutdownStatus(1);
    const generation = this.generation;
    const drained = abrupt ? this.now : this.timing.flushDone(this.now);
    this.scheduler.at(drained + this.options.shutdownDelayCycles, () => {
      if (generation !== this.generation) return;
      this.regs.setShutdownStatus(2);
    });
  }

  private defaultFeatures(): FeatureState {
    return {
      arbitration: 0x7,
      powerState: 0,
      overTemperature: DEFAULT_OVER_TEMPERATURE,
      underTemperature: 0,
      disableNormal: false,
      volatileWriteCache: this.timing.hasWriteCache,
      interruptCoalescing: 0,
      asyncEventConfig: 0,
    };
  }

  // ---- doorbells ---------------------------------------------------------------------------------

  /** A DW written in the doorbell area; `offset` counts from BAR0 + 0x1000. */
  writeDoorbell(offset: number, value: number): void {
    const stride = 4 << this.options.dstrd;
    if (offset % stride !== 0) {
      this.doorbellError(`doorbell write at BAR0+0x${(0x1000 + offset).toString(16)} falls between doorbells (stride ${stride} B)`, AER_INFO_INVALID_DB_REGISTER);
      return;
    }
    const index = offset / stride;
    const qid = index >> 1;
    const isCompletion = (index & 1) === 1;
    const newValue = value & 0xffff;
    if (isCompletion) {
      const cq = this.cqs.get(qid);
      if (!cq) return this.doorbellError(`CQ ${qid} head doorbell written but the queue does not exist`, AER_INFO_INVALID_DB_REGISTER);
      const problem = cq.headProblem(newValue);
      if (problem) return this.doorbellError(problem, AER_INFO_INVALID_DB_VALUE);
      cq.head = newValue;
      this.drainCompletions(cq);
      this.updatePinInterrupt();
      this.pump();
    } else {
      const sq = this.sqs.get(qid);
      if (!sq) return this.doorbellError(`SQ ${qid} tail doorbell written but the queue does not exist`, AER_INFO_INVALID_DB_REGISTER);
      const problem = sq.tailProblem(newValue);
      if (problem) return this.doorbellError(problem, AER_INFO_INVALID_DB_VALUE);
      if (qid !== 0 && this.faults.takeIgnoredDoorbell()) {
        this.log.add(this.now, "fault-injected", `SQ ${qid} tail doorbell ${newValue} ignored: the SSD stopped fetching`);
        return;
      }
      sq.tail = newValue;
      this.pump();
    }
  }

  private doorbellError(reason: string, info: number): void {
    this.stats.doorbellErrors++;
    this.log.add(this.now, "doorbell-invalid", `${reason}; write ignored`);
    // Like QEMU: the error is reported as an asynchronous event only to a host that asked for events.
    if (this.pendingAsyncRequests.length > 0) this.raiseAsyncEvent(AER_TYPE_ERROR, info, LOG_ERROR_INFO);
  }

  // ---- asynchronous events -----------------------------------------------------------------------

  raiseAsyncEvent(type: number, info: number, logPage: number): void {
    this.asyncEvents.push({ type, info, logPage });
    this.deliverAsyncEvents();
  }

  deliverAsyncEvents(): void {
    while (this.pendingAsyncRequests.length > 0 && this.asyncEvents.length > 0) {
      const index = this.asyncEvents.findIndex((e) => !this.maskedEventTypes.has(e.type));
      if (index < 0) return;
      const [event] = this.asyncEvents.splice(index, 1);
      this.maskedEventTypes.add(event.type);
      const request = this.pendingAsyncRequests.shift()!;
      this.complete(request, Status.success, event.type | (event.info << 8) | (event.logPage << 16));
    }
  }

  // ---- arbitration and fetch ---------------------------------------------------------------------

  /** Fetch submission entries from every queue that has some, round robin, as limits allow. */
  pump(): void {
    const r = this.regs;
    if (!r.ready || r.fatal || this.shuttingDown) return;
    const ids = [...this.sqs.keys()].sort((a, b) => a - b);
    if (ids.length === 0) return;
    for (let k = 0; k < ids.length; k++) {
      const sq = this.sqs.get(ids[(this.rrCursor + k) % ids.length])!;
      if (sq.fetching || sq.available === 0) continue;
      const room = this.options.maxOutstandingCommands - this.inFlight.size - this.entriesInFetch;
      if (room <= 0) return;
      this.fetch(sq, room);
    }
    this.rrCursor = (this.rrCursor + 1) % ids.length;
  }

  private fetch(sq: SubmissionQueue, room: number): void {
    const arbitrationBurst = this.features.arbitration & 7;
    const burstLimit = arbitrationBurst === 7 ? Number.POSITIVE_INFINITY : 1 << arbitrationBurst;
    const perRead = Math.max(1, Math.floor(this.port.maxReadRequestBytes() / SQE_BYTES));
    const count = Math.min(sq.available, sq.size - sq.head, this.options.sqeFetchBurst, burstLimit, perRead, room);
    sq.fetching = true;
    this.entriesInFetch += count;
    const generation = this.generation;
    const address = sq.base + BigInt(sq.head * SQE_BYTES);
    this.dma.read(address, count * SQE_BYTES, (result) => {
      sq.fetching = false;
      if (generation !== this.generation) return;
      this.entriesInFetch -= count;
      if (this.sqs.get(sq.qid) !== sq) return;
      if (!result.ok) {
        this.declareFatal(`SQ ${sq.qid} entry fetch at 0x${address.toString(16)} failed: ${result.reason}`);
        return;
      }
      sq.head = (sq.head + count) % sq.size;
      for (let i = 0; i < count; i++) {
        const sqe = parseSubmissionEntry(result.data.subarray(i * SQE_BYTES, (i + 1) * SQE_BYTES));
        this.start({ sqid: sq.qid, sqe, cancelled: false, completed: false });
      }
      this.pump();
    });
  }

  private start(cmd: Command): void {
    this.inFlight.add(cmd);
    const at = this.timing.commandStart(this.now);
    this.scheduler.at(at, () => this.execute(cmd));
  }

  private execute(cmd: Command): void {
    if (cmd.cancelled || this.regs.fatal) return;
    if (this.faults.takeFatalOnCommand(this.identity(cmd))) {
      this.log.add(this.now, "fault-injected", `SQ ${cmd.sqid} CID ${cmd.sqe.cid} opcode 0x${cmd.sqe.opcode.toString(16)}: CSTS.CFS raised instead of executing it`);
      this.declareFatal("injected controller fatal status during a command");
      return;
    }
    const injected = this.faults.takeStatus(this.identity(cmd));
    if (injected) {
      this.log.add(this.now, "fault-injected", `SQ ${cmd.sqid} CID ${cmd.sqe.cid} opcode 0x${cmd.sqe.opcode.toString(16)}: injected status`);
      this.complete(cmd, injected);
      return;
    }
    const refusal = this.sanitize.refusal(cmd.sqid, cmd.sqe.opcode, cmd.sqe.cdw10);
    if (refusal) return this.complete(cmd, refusal);
    if (cmd.sqid === 0) this.admin.execute(cmd);
    else this.io.execute(cmd);
  }

  /** A sanitize started: commands in flight that may not run during it are aborted with its status. */
  abortDisallowedInFlight(): void {
    for (const cmd of [...this.inFlight]) {
      const refusal = this.sanitize.refusal(cmd.sqid, cmd.sqe.opcode, cmd.sqe.cdw10);
      if (!refusal) continue;
      this.complete(cmd, refusal);
      // Its data transfers and media access stop here too.
      cmd.cancelled = true;
    }
  }

  identity(cmd: Command): { sqid: number; opcode: number; nsid: number; cid: number } {
    return { sqid: cmd.sqid, opcode: cmd.sqe.opcode, nsid: cmd.sqe.nsid, cid: cmd.sqe.cid };
  }

  // ---- completion --------------------------------------------------------------------------------

  /** Finish a command: its completion entry goes to the CQ of its SQ (unless a fault drops it). */
  complete(cmd: Command, status: NvmeStatus, dw0 = 0, error: ErrorDetail = {}): void {
    if (cmd.cancelled || cmd.completed) return;
    cmd.completed = true;
    this.inFlight.delete(cmd);
    this.stats.commandsCompleted++;
    let logged: ErrorLogEntry | undefined;
    if (!isSuccess(status)) {
      this.stats.commandsFailed++;
      logged = this.recordError(cmd, status, error);
    }
    const id = this.identity(cmd);
    const delay = this.faults.takeDelay(id);
    if (this.faults.takeDrop(id)) {
      this.stats.completionsDropped++;
      this.log.add(this.now, "fault-injected", `SQ ${cmd.sqid} CID ${cmd.sqe.cid}: completion dropped`);
      this.pump();
      return;
    }
    // A completion held back by a latency spike dies with a reset, as the command does.
    const generation = this.generation;
    const post = () => {
      if (generation !== this.generation) return;
      const sq = this.sqs.get(cmd.sqid);
      const cq = sq ? this.cqs.get(sq.cqid) : undefined;
      if (!sq || !cq || cmd.cancelled) return;
      const onPosted = logged ? (phase: number) => (logged.phaseTag = phase) : undefined;
      cq.waiting.push({ entry: { dw0, sqHead: sq.head, sqid: cmd.sqid, cid: cmd.sqe.cid, status }, onPosted });
      this.drainCompletions(cq);
      this.pump();
    };
    if (delay > 0) this.scheduler.after(delay, post);
    else post();
  }

  private drainCompletions(cq: CompletionQueue): void {
    let posted = false;
    while (cq.waiting.length > 0 && !cq.full) {
      const waiting = cq.waiting.shift()!;
      const slot = cq.claimSlot();
      const bytes = encodeCompletionEntry({ ...waiting.entry, phase: slot.phase });
      waiting.onPosted?.(slot.phase);
      this.dma.write(cq.base + BigInt(slot.index * CQE_BYTES), bytes);
      posted = true;
    }
    if (posted && cq.interruptsEnabled) this.scheduleInterrupt(cq);
  }

  /** Entries posted in one cycle share one interrupt message per queue. */
  private scheduleInterrupt(cq: CompletionQueue): void {
    this.interruptsDue.add(cq);
    if (this.interruptFlushScheduled) return;
    this.interruptFlushScheduled = true;
    this.scheduler.after(0, () => {
      this.interruptFlushScheduled = false;
      const due = [...this.interruptsDue];
      this.interruptsDue.clear();
      if (this.port.msixEnabled()) {
        for (const q of due) if (this.cqs.get(q.qid) === q) this.port.raiseInterrupt(q.vector);
      }
      this.updatePinInterrupt();
    });
  }

  private updatePinInterrupt(): void {
    if (this.port.msixEnabled()) return;
    let asserted = false;
    for (const cq of this.cqs.values()) {
      if (cq.interruptsEnabled && cq.outstanding > 0 && (this.regs.intMask & (1 << (cq.vector & 31))) === 0) asserted = true;
    }
    this.port.setPinInterrupt(asserted);
  }

  private recordError(cmd: Command, status: NvmeStatus, error: ErrorDetail): ErrorLogEntry {
    this.log.add(this.now, "command-error", `SQ ${cmd.sqid} CID ${cmd.sqe.cid} opcode 0x${cmd.sqe.opcode.toString(16)} failed: ${describeStatus(status)}`);
    return this.errorLog.record({
      sqid: cmd.sqid,
      cid: cmd.sqe.cid,
      statusField: statusField(status),
      parameterErrorLocation: error.field ? parameterErrorLocation(error.field) : NO_PARAMETER_LOCATION,
      lba: error.lba ?? 0n,
      nsid: cmd.sqe.nsid,
    });
  }

  // ---- queues (used by the admin command set) ----------------------------------------------------

  addCompletionQueue(cq: CompletionQueue): void {
    this.cqs.set(cq.qid, cq);
    this.ioQueuesCreated = true;
  }

  addSubmissionQueue(sq: SubmissionQueue): void {
    this.sqs.set(sq.qid, sq);
    this.cqs.get(sq.cqid)!.sqids.add(sq.qid);
    this.ioQueuesCreated = true;
  }

  /** Delete an SQ: its commands still in flight are abandoned without completion (as QEMU does). */
  deleteSubmissionQueue(qid: number): void {
    const sq = this.sqs.get(qid)!;
    for (const cmd of this.inFlight) {
      if (cmd.sqid === qid) {
        cmd.cancelled = true;
        this.inFlight.delete(cmd);
      }
    }
    const cq = this.cqs.get(sq.cqid);
    cq?.sqids.delete(qid);
    if (cq) {
      const keep = cq.waiting.filter((w) => w.entry.sqid !== qid);
      cq.waiting.length = 0;
      cq.waiting.push(...keep);
    }
    this.sqs.delete(qid);
  }

  deleteCompletionQueue(qid: number): void {
    this.cqs.delete(qid);
    this.updatePinInterrupt();
  }

  // ---- data movement through PRPs ----------------------------------------------------------------

  mapData(cmd: Command, length: number, done: (r: PrpResult) => void): void {
    // A misdirect fault moves PRP1 once per command (mapData may run again for the same command).
    if (cmd.misdirect === undefined) {
      cmd.misdirect = this.faults.takeMisdirect(this.identity(cmd));
      if (cmd.misdirect !== 0n) this.log.add(this.now, "fault-injected", `SQ ${cmd.sqid} CID ${cmd.sqe.cid}: PRP1 0x${cmd.sqe.prp1.toString(16)} moved by 0x${cmd.misdirect.toString(16)}`);
    }
    walkPrps(
      cmd.sqe.prp1 + cmd.misdirect,
      cmd.sqe.prp2,
      length,
      this.pageSize,
      (address, bytes, got) => this.dma.read(address, bytes, (r) => (r.ok ? got(r.data) : got(undefined, r.reason))),
      done,
    );
  }

  /**
   * Controller -> host: write `data` to the command's PRPs; `done` gets the status once the MWrs are
   * queued. The data goes out poisoned when `poisoned` says so or, without it, when a poisonReadData
   * rule matches the command (Identify, Get Log Page: their data is read data like a Read's).
   */
  toHost(cmd: Command, data: Uint8Array, done: (status: NvmeStatus) => void, poisoned?: boolean): void {
    this.mapData(cmd, data.length, (r) => {
      if (cmd.cancelled) return;
      if (!r.ok) return this.failTransfer(cmd, r.status, r.reason, done);
      if (poisoned === undefined) poisoned = this.faults.takePoison(this.identity(cmd));
      let offset = 0;
      for (const seg of r.segments) {
        if (!this.dma.write(seg.address, data.subarray(offset, offset + seg.length), poisoned)) {
          return this.failTransfer(cmd, Status.dataTransferError, "bus mastering disabled", done);
        }
        offset += seg.length;
      }
      done(Status.success);
    });
  }

  /** Host -> controller: read `length` bytes from the command's PRPs. */
  fromHost(cmd: Command, length: number, done: (status: NvmeStatus, data?: Uint8Array) => void): void {
    this.mapData(cmd, length, (r) => {
      if (cmd.cancelled) return;
      if (!r.ok) return this.failTransfer(cmd, r.status, r.reason, done);
      const data = new Uint8Array(length);
      let left = r.segments.length;
      let failed = false;
      let offset = 0;
      for (const seg of r.segments) {
        const at = offset;
        offset += seg.length;
        this.dma.read(seg.address, seg.length, (res) => {
          if (failed || cmd.cancelled) return;
          if (!res.ok) {
            failed = true;
            return this.failTransfer(cmd, Status.dataTransferError, res.reason, done);
          }
          data.set(res.data, at);
          if (--left === 0) done(Status.success, data);
        });
      }
    });
  }

  private failTransfer(cmd: Command, status: NvmeStatus, reason: string, done: (status: NvmeStatus) => void): void {
    this.log.add(this.now, "command-error", `SQ ${cmd.sqid} CID ${cmd.sqe.cid} opcode 0x${cmd.sqe.opcode.toString(16)}: ${reason}`);
    done(status);
  }
}
