// NVMe completion status values (NVMe 1.4 §4.6.1.2): Status Code Type, Status Code and Do Not Retry.
// The DNR choices follow QEMU's nvme device, which the conformance suite compares this model with.

import { getBits32, setBits32 } from "../../rtl-src/nvme/nvme-field.ts";
import { CqeField } from "../../rtl-src/nvme/nvme-cqe.ts";

export interface NvmeStatus {
  /** Status Code Type: 0 generic, 1 command specific, 2 media and data integrity, 7 vendor. */
  sct: number;
  /** Status Code. */
  sc: number;
  /** Do Not Retry. */
  dnr: boolean;
}

function status(sct: number, sc: number, dnr: boolean): NvmeStatus {
  return Object.freeze({ sct, sc, dnr });
}

export const Status = {
  success: status(0, 0x00, false),
  invalidOpcode: status(0, 0x01, true),
  invalidField: status(0, 0x02, true),
  dataTransferError: status(0, 0x04, false),
  abortedPowerLoss: status(0, 0x05, false),
  internalError: status(0, 0x06, false),
  abortRequested: status(0, 0x07, false),
  abortedSqDeletion: status(0, 0x08, false),
  invalidNamespace: status(0, 0x0b, true),
  commandSequenceError: status(0, 0x0c, true),
  invalidPrpOffset: status(0, 0x13, true),
  /** The most recent sanitize failed and the controller is in its failure mode (NVMe 1.4 §8.15). */
  sanitizeFailed: status(0, 0x1c, true),
  /** The command is not allowed while a sanitize operation runs (NVMe 1.4 §8.15.1). */
  sanitizeInProgress: status(0, 0x1d, false),
  lbaOutOfRange: status(0, 0x80, true),
  /** A Format NVM of the command's namespace is running (NVM command set generic status 84h). */
  formatInProgress: status(0, 0x84, false),
  invalidCompletionQueue: status(1, 0x00, true),
  invalidQueueIdentifier: status(1, 0x01, true),
  invalidQueueSize: status(1, 0x02, true),
  asyncEventLimitExceeded: status(1, 0x05, false),
  invalidInterruptVector: status(1, 0x08, true),
  invalidQueueDeletion: status(1, 0x0c, false),
  featureNotSaveable: status(1, 0x0d, true),
  featureNotChangeable: status(1, 0x0e, true),
  featureNotNamespaceSpecific: status(1, 0x0f, true),
  /** Format NVM: the LBA format or protection setting asked for is not one the namespace offers. */
  invalidFormat: status(1, 0x0a, true),
} as const;

export function isSuccess(s: NvmeStatus): boolean {
  return s.sct === 0 && s.sc === 0;
}

/** The Status Field of a CQE (DW3[31:17]), its parts placed by rtl-src/nvme/nvme-cqe.ts. */
export function statusField(s: NvmeStatus): number {
  let dw3 = setBits32(0, CqeField.sc, s.sc);
  dw3 = setBits32(dw3, CqeField.sct, s.sct);
  dw3 = setBits32(dw3, CqeField.dnr, s.dnr ? 1 : 0);
  return getBits32(dw3, CqeField.status);
}

export function statusFromField(field: number): NvmeStatus {
  const dw3 = setBits32(0, CqeField.status, field);
  return { sc: getBits32(dw3, CqeField.sc), sct: getBits32(dw3, CqeField.sct), dnr: getBits32(dw3, CqeField.dnr) === 1 };
}

export function describeStatus(s: NvmeStatus): string {
  const name = Object.entries(Status).find(([, v]) => v.sct === s.sct && v.sc === s.sc)?.[0] ?? "unnamed";
  return `SCT ${s.sct} SC 0x${s.sc.toString(16).padStart(2, "0")} (${name})${s.dnr ? " DNR" : ""}`;
}
