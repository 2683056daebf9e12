// Submission queue entries (NVMe 1.4 §4.2) and builders for every command the reference host sends.
// Builders fill only what the spec defines; raw submission lets tests set any field to anything.

import { setBits32, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { AdminCommandField, SQE_BYTES, SQE_COMMAND_DWS, SqeField } from "../../rtl-src/nvme/nvme-sqe.ts";

export const AdminOpcode = {
  deleteIoSq: 0x00,
  createIoSq: 0x01,
  getLogPage: 0x02,
  deleteIoCq: 0x04,
  createIoCq: 0x05,
  identify: 0x06,
  abort: 0x08,
  setFeatures: 0x09,
  getFeatures: 0x0a,
  asyncEventRequest: 0x0c,
  formatNvm: 0x80,
  sanitize: 0x84,
} as const;

export const NvmOpcode = {
  flush: 0x00,
  write: 0x01,
  read: 0x02,
  writeZeroes: 0x08,
  datasetManagement: 0x09,
} as const;

export const LogPageId = { errorInformation: 0x01, smartHealth: 0x02, sanitizeStatus: 0x81 } as const;
export const IdentifyCns = { namespace: 0x00, controller: 0x01, activeNamespaces: 0x02 } as const;
export const FeatureId = { volatileWriteCache: 0x06, numberOfQueues: 0x07 } as const;

/** Everything in an SQE except the CID, which the queue assigns. */
export interface Command {
  opcode: number;
  nsid?: number;
  /** DW0 bits 9:8 and 15:14, sent as given (tests use them to provoke errors). */
  fuse?: number;
  psdt?: number;
  cdw2?: number;
  cdw3?: number;
  mptr?: bigint;
  prp1?: bigint;
  prp2?: bigint;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  cdw15?: number;
}

export { SQE_BYTES };

/** The SQE bytes, placed by the table the SSD model parses with (rtl-src/nvme/nvme-sqe.ts). */
export function encodeSqe(command: Command, cid: number): Uint8Array {
  const sqe = new Uint8Array(SQE_BYTES);
  writeField(sqe, SqeField.opcode, command.opcode);
  writeField(sqe, SqeField.fuse, command.fuse ?? 0);
  writeField(sqe, SqeField.psdt, command.psdt ?? 0);
  writeField(sqe, SqeField.cid, cid);
  writeField(sqe, SqeField.nsid, (command.nsid ?? 0) >>> 0);
  writeField(sqe, SqeField.cdw2, (command.cdw2 ?? 0) >>> 0);
  writeField(sqe, SqeField.cdw3, (command.cdw3 ?? 0) >>> 0);
  writeField(sqe, SqeField.mptr, command.mptr ?? 0n);
  writeField(sqe, SqeField.prp1, command.prp1 ?? 0n);
  writeField(sqe, SqeField.prp2, command.prp2 ?? 0n);
  const cdws = [command.cdw10, command.cdw11, command.cdw12, command.cdw13, command.cdw14, command.cdw15];
  cdws.forEach((v, i) => writeField(sqe, SQE_COMMAND_DWS[i], (v ?? 0) >>> 0));
  return sqe;
}

export interface DataPointer {
  prp1: bigint;
  prp2: bigint;
}

export function identify(cns: number, nsid: number, dptr: DataPointer): Command {
  return { opcode: AdminOpcode.identify, nsid, ...dptr, cdw10: cns };
}

export interface CreateCqFields {
  qid: number;
  entries: number;
  base: bigint;
  physicallyContiguous?: boolean;
  interruptsEnabled?: boolean;
  interruptVector?: number;
}

export function createIoCq(f: CreateCqFields): Command {
  const pc = f.physicallyContiguous ?? true ? 1 : 0;
  const ien = f.interruptsEnabled ? 2 : 0;
  return {
    opcode: AdminOpcode.createIoCq,
    prp1: f.base,
    cdw10: (((f.entries - 1) & 0xffff) << 16) | (f.qid & 0xffff),
    cdw11: ((f.interruptVector ?? 0) << 16) | ien | pc,
  };
}

export interface CreateSqFields {
  qid: number;
  entries: number;
  base: bigint;
  cqid: number;
  physicallyContiguous?: boolean;
  priority?: number;
}

export function createIoSq(f: CreateSqFields): Command {
  const pc = f.physicallyContiguous ?? true ? 1 : 0;
  return {
    opcode: AdminOpcode.createIoSq,
    prp1: f.base,
    cdw10: (((f.entries - 1) & 0xffff) << 16) | (f.qid & 0xffff),
    cdw11: ((f.cqid & 0xffff) << 16) | ((f.priority ?? 0) << 1) | pc,
  };
}

export function deleteIoSq(qid: number): Command {
  return { opcode: AdminOpcode.deleteIoSq, cdw10: qid };
}

export function deleteIoCq(qid: number): Command {
  return { opcode: AdminOpcode.deleteIoCq, cdw10: qid };
}

/** Set Features Number of Queues: counts of I/O SQs and CQs wanted (sent zero-based). */
export function setNumberOfQueues(sqs: number, cqs: number): Command {
  return { opcode: AdminOpcode.setFeatures, cdw10: FeatureId.numberOfQueues, cdw11: (((cqs - 1) << 16) | (sqs - 1)) >>> 0 };
}

export function getFeatures(fid: number): Command {
  return { opcode: AdminOpcode.getFeatures, cdw10: fid };
}

export interface BlockRange {
  nsid: number;
  slba: bigint;
  /** Number of logical blocks (1-based here; encoded zero-based). */
  blocks: number;
}

function rwCommand(opcode: number, r: BlockRange, dptr: DataPointer, cdw12Flags = 0): Command {
  return {
    opcode,
    nsid: r.nsid,
    ...dptr,
    cdw10: Number(r.slba & 0xffff_ffffn),
    cdw11: Number((r.slba >> 32n) & 0xffff_ffffn),
    cdw12: (cdw12Flags | ((r.blocks - 1) & 0xffff)) >>> 0,
  };
}

export function read(r: BlockRange, dptr: DataPointer): Command {
  return rwCommand(NvmOpcode.read, r, dptr);
}

export function write(r: BlockRange, dptr: DataPointer, fua = false): Command {
  return rwCommand(NvmOpcode.write, r, dptr, fua ? 1 << 30 : 0);
}

export function writeZeroes(r: BlockRange, deallocate = false): Command {
  return rwCommand(NvmOpcode.writeZeroes, r, { prp1: 0n, prp2: 0n }, deallocate ? 1 << 25 : 0);
}

export function flush(nsid: number): Command {
  return { opcode: NvmOpcode.flush, nsid };
}

export interface DsmRange {
  slba: bigint;
  blocks: number;
  contextAttributes?: number;
}

export const DSM_RANGE_BYTES = 16;

/** The range list a Dataset Management command points at (NVMe 1.4 Figure 364). */
export function encodeDsmRanges(ranges: DsmRange[]): Uint8Array {
  if (ranges.length < 1 || ranges.length > 256) throw new Error(`Dataset Management takes 1..256 ranges, got ${ranges.length}`);
  const out = new Uint8Array(ranges.length * DSM_RANGE_BYTES);
  const view = new DataView(out.buffer);
  ranges.forEach((r, i) => {
    view.setUint32(i * 16, r.contextAttributes ?? 0, true);
    view.setUint32(i * 16 + 4, r.blocks, true);
    view.setBigUint64(i * 16 + 8, r.slba, true);
  });
  return out;
}

export function datasetManagement(nsid: number, rangeCount: number, dptr: DataPointer, attributes: { deallocate?: boolean }): Command {
  return { opcode: NvmOpcode.datasetManagement, nsid, ...dptr, cdw10: rangeCount - 1, cdw11: attributes.deallocate ? 4 : 0 };
}

/** Get Log Page of `bytes` (a multiple of 4) from byte `offset` of log `lid`. */
export function getLogPage(lid: number, bytes: number, dptr: DataPointer, offset = 0n, retainEvent = false): Command {
  if (bytes < 4 || bytes % 4 !== 0) throw new Error(`Get Log Page length ${bytes} is not a positive multiple of 4`);
  const numd = bytes / 4 - 1;
  const F = AdminCommandField;
  let cdw10 = setBits32(0, F.logPageId, lid);
  cdw10 = setBits32(cdw10, F.logRetainEvent, retainEvent ? 1 : 0);
  cdw10 = setBits32(cdw10, F.logDwordsLower, numd & 0xffff);
  return {
    opcode: AdminOpcode.getLogPage,
    nsid: 0xffff_ffff,
    ...dptr,
    cdw10,
    cdw11: setBits32(0, F.logDwordsUpper, numd >>> 16),
    cdw12: Number(offset & 0xffff_ffffn),
    cdw13: Number(offset >> 32n),
  };
}

export interface FormatNvmFields {
  nsid: number;
  /** LBA Format index (Identify Namespace LBAF). */
  lbaFormat: number;
  /** Secure Erase Settings: 0 none, 1 user-data erase, 2 cryptographic erase. */
  secureErase?: number;
  metadataSettings?: number;
  protectionInfo?: number;
  protectionLocation?: number;
}

export function formatNvm(f: FormatNvmFields): Command {
  const F = AdminCommandField;
  let cdw10 = setBits32(0, F.formatLbaFormat, f.lbaFormat);
  cdw10 = setBits32(cdw10, F.formatMetadataSettings, f.metadataSettings ?? 0);
  cdw10 = setBits32(cdw10, F.formatProtectionInfo, f.protectionInfo ?? 0);
  cdw10 = setBits32(cdw10, F.formatProtectionLocation, f.protectionLocation ?? 0);
  cdw10 = setBits32(cdw10, F.formatSecureErase, f.secureErase ?? 0);
  return { opcode: AdminOpcode.formatNvm, nsid: f.nsid, cdw10 };
}

export interface SanitizeFields {
  /** SANACT: 1 exit failure mode, 2 block erase, 3 overwrite, 4 crypto erase. */
  action: number;
  /** AUSE: allow unrestricted sanitize exit. */
  allowUnrestrictedExit?: boolean;
  /** OWPASS: overwrite passes, 1..16 (sent as 0 for 16). */
  overwritePasses?: number;
  /** OIPBP: invert the pattern between overwrite passes. */
  invertBetweenPasses?: boolean;
  /** NDAS: no deallocate after sanitize. */
  noDeallocate?: boolean;
  /** OVRPAT: the 32-bit overwrite pattern. */
  overwritePattern?: number;
}

export function sanitize(f: SanitizeFields): Command {
  const F = AdminCommandField;
  const passes = f.overwritePasses ?? 1;
  if (!Number.isInteger(passes) || passes < 1 || passes > 16) throw new Error(`overwrite passes ${passes} is not 1..16`);
  let cdw10 = setBits32(0, F.sanitizeAction, f.action);
  cdw10 = setBits32(cdw10, F.sanitizeAllowUnrestrictedExit, f.allowUnrestrictedExit ? 1 : 0);
  cdw10 = setBits32(cdw10, F.sanitizeOverwritePasses, passes & 0xf);
  cdw10 = setBits32(cdw10, F.sanitizeOverwriteInvert, f.invertBetweenPasses ? 1 : 0);
  cdw10 = setBits32(cdw10, F.sanitizeNoDeallocate, f.noDeallocate ? 1 : 0);
  return { opcode: AdminOpcode.sanitize, cdw10, cdw11: setBits32(0, F.sanitizeOverwritePattern, f.overwritePattern ?? 0) };
}
