// What the admin and I/O command sets see of the controller that runs them. The controller
// implements it and hands itself down, so the command sets never import the controller and the
// files form no import cycle.
import type { NvmeField } from "../../rtl-src/nvme/nvme-field.ts";
import type { DmaEngine } from "./dma.ts";
import type { ErrorLog } from "./error-log.ts";
import type { FaultInjector } from "./faults.ts";
import type { NamespaceMedia } from "./media.ts";
import type { ModelLog } from "./model-log.ts";
import type { SsdOptions } from "./options.ts";
import type { PrpResult } from "./prp.ts";
import type { CompletionQueue, SubmissionQueue } from "./queues.ts";
import type { ControllerRegisters } from "./registers.ts";
import type { SanitizeOperation } from "./sanitize.ts";
import type { Scheduler } from "./scheduler.ts";
import type { NvmeStatus } from "./status.ts";
import type { SubmissionEntry } from "./submission-entry.ts";
import type { TimingModel } from "./timing.ts";

export interface Command {
  sqid: number;
  sqe: SubmissionEntry;
  cancelled: boolean;
  completed: boolean;
  /** A misdirectData fault's move of PRP1, decided at the command's first data transfer. */
  misdirect?: bigint;
}

/** What the Error Information log entry of a failed command says beyond its status. */
export interface ErrorDetail {
  /** The submission entry field at fault (Parameter Error Location). */
  field?: NvmeField;
  /** The first LBA in error. */
  lba?: bigint;
}

export interface ControllerStats {
  commandsCompleted: number;
  commandsFailed: number;
  completionsDropped: number;
  hostReadCommands: number;
  hostWriteCommands: number;
  dataUnitsRead: number;
  dataUnitsWritten: number;
  unsafeShutdowns: number;
  powerCycles: number;
  doorbellErrors: number;
}

export interface FeatureState {
  arbitration: number;
  powerState: number;
  /** Temperature thresholds of the composite sensor, kelvin. */
  overTemperature: number;
  underTemperature: number;
  /** Write Atomicity Normal: DN = 1 means only AWUPF applies. */
  disableNormal: boolean;
  volatileWriteCache: boolean;
  interruptCoalescing: number;
  asyncEventConfig: number;
}

export interface CommandContext {
  readonly options: SsdOptions;
  readonly timing: TimingModel;
  readonly faults: FaultInjector;
  readonly scheduler: Scheduler;
  readonly log: ModelLog;
  readonly regs: ControllerRegisters;
  readonly dma: DmaEngine;
  readonly media: NamespaceMedia[];
  readonly sqs: Map<number, SubmissionQueue>;
  readonly cqs: Map<number, CompletionQueue>;
  readonly stats: ControllerStats;
  features: FeatureState;
  ioQueuesCreated: boolean;
  readonly errorLog: ErrorLog;
  readonly sanitize: SanitizeOperation;
  /** Namespaces a Format NVM is formatting right now. */
  readonly formatting: Set<number>;
  readonly pendingAsyncRequests: Command[];
  readonly maskedEventTypes: Set<number>;
  readonly now: number;
  readonly pageSize: number;
  readonly maxTransferBytes: number;
  readonly msixVectors: number;
  readonly msixEnabled: boolean;
  namespace(nsid: number): NamespaceMedia | undefined;
  nsidValid(nsid: number): boolean;
  deliverAsyncEvents(): void;
  identity(cmd: Command): { sqid: number; opcode: number; nsid: number; cid: number };
  complete(cmd: Command, status: NvmeStatus, dw0?: number, error?: ErrorDetail): void;
  addCompletionQueue(cq: CompletionQueue): void;
  addSubmissionQueue(sq: SubmissionQueue): void;
  deleteSubmissionQueue(qid: number): void;
  deleteCompletionQueue(qid: number): void;
  mapData(cmd: Command, length: number, done: (r: PrpResult) => void): void;
  toHost(cmd: Command, data: Uint8Array, done: (status: NvmeStatus) => void, poisoned?: boolean): void;
  fromHost(cmd: Command, length: number, done: (status: NvmeStatus, data?: Uint8Array) => void): void;
}
