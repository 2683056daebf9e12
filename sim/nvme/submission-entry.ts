// The 64-byte Submission Queue Entry (facts digest §E.1) and the 16-byte Completion Queue Entry (§E.2).

import type { NvmeStatus } from "./status.ts";
import { statusField } from "./status.ts";

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

export const SQE_BYTES = 64;
export const CQE_BYTES = 16;

export function parseSubmissionEntry(bytes: Uint8Array): SubmissionEntry {
  const v = new DataView(bytes.buffer, bytes.byteOffset, SQE_BYTES);
  const dw0 = v.getUint32(0, true);
  return {
    opcode: dw0 & 0xff,
    fuse: (dw0 >>> 8) & 3,
    psdt: (dw0 >>> 14) & 3,
    cid: dw0 >>> 16,
    nsid: v.getUint32(4, true),
    mptr: v.getBigUint64(16, true),
    prp1: v.getBigUint64(24, true),
    prp2: v.getBigUint64(32, true),
    cdw10: v.getUint32(40, true),
    cdw11: v.getUint32(44, true),
    cdw12: v.getUint32(48, true),
    cdw13: v.getUint32(52, true),
    cdw14: v.getUint32(56, true),
    cdw15: v.getUint32(60, true),
  };
}

export function encodeSubmissionEntry(e: SubmissionEntry): Uint8Array {
  const bytes = new Uint8Array(SQE_BYTES);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, (e.opcode & 0xff) | ((e.fuse & 3) << 8) | ((e.psdt & 3) << 14) | ((e.cid & 0xffff) << 16), true);
  v.setUint32(4, e.nsid >>> 0, true);
  v.setBigUint64(16, e.mptr, true);
  v.setBigUint64(24, e.prp1, true);
  v.setBigUint64(32, e.prp2, true);
  [e.cdw10, e.cdw11, e.cdw12, e.cdw13, e.cdw14, e.cdw15].forEach((dw, i) => v.setUint32(40 + 4 * i, dw >>> 0, true));
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
  const v = new DataView(bytes.buffer);
  v.setUint32(0, c.dw0 >>> 0, true);
  v.setUint32(8, (c.sqHead & 0xffff) | ((c.sqid & 0xffff) << 16), true);
  v.setUint32(12, ((c.cid & 0xffff) | ((c.phase & 1) << 16) | (statusField(c.status) << 17)) >>> 0, true);
  return bytes;
}

export function decodeCompletionEntry(bytes: Uint8Array): { dw0: number; sqHead: number; sqid: number; cid: number; phase: number; statusField: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, CQE_BYTES);
  const dw2 = v.getUint32(8, true);
  const dw3 = v.getUint32(12, true);
  return { dw0: v.getUint32(0, true), sqHead: dw2 & 0xffff, sqid: dw2 >>> 16, cid: dw3 & 0xffff, phase: (dw3 >>> 16) & 1, statusField: dw3 >>> 17 };
}
