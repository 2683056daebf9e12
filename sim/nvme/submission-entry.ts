// The 64-byte Submission Queue Entry (facts digest §E.1) and the 16-byte Completion Queue Entry (§E.2),
// as records, placed by the field tables of rtl-src/nvme/ that the host driver uses too.

import type { NvmeStatus } from "./status.ts";
import { statusField } from "./status.ts";
import { type NvmeField, readField, readFieldBig, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { SQE_BYTES, SQE_COMMAND_DWS, SqeField } from "../../rtl-src/nvme/nvme-sqe.ts";
import { CQE_BYTES, CqeField } from "../../rtl-src/nvme/nvme-cqe.ts";

export interface SubmissionEntry {
  opcode: number;
  fuse: number;
  psdt: number;
  cid: number;
  nsid: number;
  mptr: bigint;
  prp1: bigint;
  prp2: bigint;
  cdw10: number;
  cdw11: number;
  cdw12: number;
  cdw13: number;
  cdw14: number;
  cdw15: number;
}

export { SQE_BYTES } from "../../rtl-src/nvme/nvme-sqe.ts";
export { CQE_BYTES } from "../../rtl-src/nvme/nvme-cqe.ts";

export function parseSubmissionEntry(bytes: Uint8Array): SubmissionEntry {
  const entry = bytes.subarray(0, SQE_BYTES);
  const dw = (f: NvmeField) => readField(entry, f);
  const qw = (f: NvmeField) => readFieldBig(entry, f);
  const [cdw10, cdw11, cdw12, cdw13, cdw14, cdw15] = SQE_COMMAND_DWS.map(dw);
  return {
    opcode: dw(SqeField.opcode),
    fuse: dw(SqeField.fuse),
    psdt: dw(SqeField.psdt),
    cid: dw(SqeField.cid),
    nsid: dw(SqeField.nsid),
    mptr: qw(SqeField.mptr),
    prp1: qw(SqeField.prp1),
    prp2: qw(SqeField.prp2),
    cdw10,
    cdw11,
    cdw12,
    cdw13,
    cdw14,
    cdw15,
  };
}

export function encodeSubmissionEntry(e: SubmissionEntry): Uint8Array {
  const bytes = new Uint8Array(SQE_BYTES);
  writeField(bytes, SqeField.opcode, e.opcode);
  writeField(bytes, SqeField.fuse, e.fuse);
  writeField(bytes, SqeField.psdt, e.psdt);
  writeField(bytes, SqeField.cid, e.cid);
  writeField(bytes, SqeField.nsid, e.nsid >>> 0);
  writeField(bytes, SqeField.mptr, e.mptr);
  writeField(bytes, SqeField.prp1, e.prp1);
  writeField(bytes, SqeField.prp2, e.prp2);
  [e.cdw10, e.cdw11, e.cdw12, e.cdw13, e.cdw14, e.cdw15].forEach((value, i) => writeField(bytes, SQE_COMMAND_DWS[i], value >>> 0));
  return bytes;
}

export interface CompletionEntry {
  dw0: number;
  sqHead: number;
  sqid: number;
  cid: number;
  phase: number;
  status: NvmeStatus;
}

export function encodeCompletionEntry(c: CompletionEntry): Uint8Array {
  const bytes = new Uint8Array(CQE_BYTES);
  writeField(bytes, CqeField.dw0, c.dw0 >>> 0);
  writeField(bytes, CqeField.sqhd, c.sqHead);
  writeField(bytes, CqeField.sqid, c.sqid);
  writeField(bytes, CqeField.cid, c.cid);
  writeField(bytes, CqeField.phase, c.phase);
  writeField(bytes, CqeField.status, statusField(c.status));
  return bytes;
}

export function decodeCompletionEntry(bytes: Uint8Array): { dw0: number; sqHead: number; sqid: number; cid: number; phase: number; statusField: number } {
  const entry = bytes.subarray(0, CQE_BYTES);
  const dw = (f: NvmeField) => readField(entry, f);
  return { dw0: dw(CqeField.dw0), sqHead: dw(CqeField.sqhd), sqid: dw(CqeField.sqid), cid: dw(CqeField.cid), phase: dw(CqeField.phase), statusField: dw(CqeField.status) };
}
