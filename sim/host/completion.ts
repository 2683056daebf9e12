// Completion queue entries (NVMe 1.4 §4.6) decoded into typed fields, with names for the status
// codes the conformance suite meets so a failing comparison reads as words, not numbers.

import { type NvmeField, readField } from "../../rtl-src/nvme/nvme-field.ts";
import { CQE_BYTES, CqeField } from "../../rtl-src/nvme/nvme-cqe.ts";

export const StatusCodeType = { generic: 0, commandSpecific: 1, mediaError: 2, path: 3, vendor: 7 } as const;

export const GenericStatus = {
  success: 0x00,
  invalidOpcode: 0x01,
  invalidField: 0x02,
  commandIdConflict: 0x03,
  dataTransferError: 0x04,
  internalError: 0x06,
  abortedSqDeletion: 0x08,
  invalidNamespaceOrFormat: 0x0b,
  commandSequenceError: 0x0c,
  invalidPrpOffset: 0x13,
  sanitizeFailed: 0x1c,
  sanitizeInProgress: 0x1d,
  lbaOutOfRange: 0x80,
  capacityExceeded: 0x81,
  formatInProgress: 0x84,
} as const;

export const CommandSpecificStatus = {
  invalidCompletionQueue: 0x00,
  invalidQueueIdentifier: 0x01,
  invalidQueueSize: 0x02,
  invalidInterruptVector: 0x08,
  invalidFormat: 0x0a,
  invalidQueueDeletion: 0x0c,
} as const;

export interface CommandStatus {
  sct: number;
  sc: number;
  /** Command Retry Delay (NVMe 1.4). */
  crd: number;
  more: boolean;
  doNotRetry: boolean;
}

export interface CompletionEntry {
  dw0: number;
  dw1: number;
  sqHead: number;
  sqId: number;
  cid: number;
  phase: number;
  status: CommandStatus;
}

export { CQE_BYTES };

/** The CQE's fields, read by the table the SSD model writes with (rtl-src/nvme/nvme-cqe.ts). */
export function decodeCqe(bytes: Uint8Array): CompletionEntry {
  if (bytes.length !== CQE_BYTES) throw new Error(`completion entry must be ${CQE_BYTES} bytes, got ${bytes.length}`);
  const f = (field: NvmeField) => readField(bytes, field);
  return {
    dw0: f(CqeField.dw0),
    dw1: f(CqeField.dw1),
    sqHead: f(CqeField.sqhd),
    sqId: f(CqeField.sqid),
    cid: f(CqeField.cid),
    phase: f(CqeField.phase),
    status: { sc: f(CqeField.sc), sct: f(CqeField.sct), crd: f(CqeField.crd), more: f(CqeField.more) === 1, doNotRetry: f(CqeField.dnr) === 1 },
  };
}

export function isSuccess(status: CommandStatus): boolean {
  return status.sct === 0 && status.sc === 0;
}

const genericNames = new Map<number, string>(Object.entries(GenericStatus).map(([k, v]) => [v, k]));
const specificNames = new Map<number, string>(Object.entries(CommandSpecificStatus).map(([k, v]) => [v, k]));

/** e.g. "generic/invalidField (0x02) DNR" — stable text used in comparisons and reports. */
export function describeStatus(status: CommandStatus): string {
  const table = status.sct === 0 ? genericNames : status.sct === 1 ? specificNames : undefined;
  const sctName = Object.entries(StatusCodeType).find(([, v]) => v === status.sct)?.[0] ?? `sct${status.sct}`;
  const scName = table?.get(status.sc) ?? "unnamed";
  const flags = [status.doNotRetry ? " DNR" : "", status.more ? " M" : ""].join("");
  return `${sctName}/${scName} (0x${status.sc.toString(16).padStart(2, "0")})${flags}`;
}

export class CommandFailedError extends Error {
  constructor(
    readonly what: string,
    readonly completion: CompletionEntry,
  ) {
    super(`${what} failed: ${describeStatus(completion.status)}`);
    this.name = "CommandFailedError";
  }
}
