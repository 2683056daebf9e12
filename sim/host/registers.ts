// NVMe controller registers in BAR0 as the host sees them (NVMe 1.4 §3.1): offsets, and the decode of
// CAP/CSTS and encode of CC/AQA the driver needs.

import { type NvmeField, getBits, getBits32, setBits32 } from "../../rtl-src/nvme/nvme-field.ts";
import { AqaField, CapField, CcField, CstsField, DOORBELL_BASE, NvmeRegister, doorbellOffset as nvmeDoorbellOffset } from "../../rtl-src/nvme/nvme-registers.ts";

export const Reg = {
  CAP: NvmeRegister.CAP.offset,
  VS: NvmeRegister.VS.offset,
  INTMS: NvmeRegister.INTMS.offset,
  INTMC: NvmeRegister.INTMC.offset,
  CC: NvmeRegister.CC.offset,
  CSTS: NvmeRegister.CSTS.offset,
  AQA: NvmeRegister.AQA.offset,
  ASQ: NvmeRegister.ASQ.offset,
  ACQ: NvmeRegister.ACQ.offset,
  DOORBELLS: DOORBELL_BASE,
} as const;

export interface ControllerCapabilities {
  /** Maximum entries per I/O queue (CAP.MQES + 1). */
  maxQueueEntries: number;
  contiguousQueuesRequired: boolean;
  /** CAP.TO: worst-case time to RDY, in ms. */
  readyTimeoutMs: number;
  /** Bytes between doorbells: 4 << DSTRD. */
  doorbellStride: number;
  nvmCommandSet: boolean;
  minPageSize: number;
  maxPageSize: number;
  raw: bigint;
}

export function decodeCap(cap: bigint): ControllerCapabilities {
  const field = (f: NvmeField) => Number(getBits(cap, f));
  return {
    maxQueueEntries: field(CapField.mqes) + 1,
    contiguousQueuesRequired: field(CapField.cqr) === 1,
    readyTimeoutMs: field(CapField.to) * 500,
    doorbellStride: 4 << field(CapField.dstrd),
    // CSS bit 0 (CAP bit 37): the NVM command set.
    nvmCommandSet: (field(CapField.css) & 1) === 1,
    minPageSize: 1 << (12 + field(CapField.mpsmin)),
    maxPageSize: 2 ** (12 + field(CapField.mpsmax)),
    raw: cap,
  };
}

export interface ControllerStatus {
  ready: boolean;
  fatal: boolean;
  /** CSTS.SHST: 0 normal, 1 shutdown in progress, 2 shutdown complete. */
  shutdownStatus: number;
}

export function decodeCsts(csts: number): ControllerStatus {
  return { ready: getBits32(csts, CstsField.rdy) === 1, fatal: getBits32(csts, CstsField.cfs) === 1, shutdownStatus: getBits32(csts, CstsField.shst) };
}

export const ShutdownNotification = { none: 0, normal: 1, abrupt: 2 } as const;

export interface ControllerConfiguration {
  enable: boolean;
  pageSize: number;
  shutdown: number;
  ioSqEntryBytes: number;
  ioCqEntryBytes: number;
}

export function encodeCc(c: ControllerConfiguration): number {
  let cc = setBits32(0, CcField.en, c.enable ? 1 : 0);
  cc = setBits32(cc, CcField.mps, Math.log2(c.pageSize) - 12);
  cc = setBits32(cc, CcField.shn, c.shutdown);
  cc = setBits32(cc, CcField.iosqes, Math.log2(c.ioSqEntryBytes));
  return setBits32(cc, CcField.iocqes, Math.log2(c.ioCqEntryBytes));
}

/** AQA from queue sizes in entries (the register holds them zero-based). */
export function encodeAqa(sqEntries: number, cqEntries: number): number {
  return setBits32(setBits32(0, AqaField.asqs, sqEntries - 1), AqaField.acqs, cqEntries - 1);
}

/** Offset of a queue's doorbell in BAR0 (NVMe 1.4 §3.1.24/25). */
export function doorbellOffset(qid: number, kind: "sqTail" | "cqHead", stride: number): number {
  return nvmeDoorbellOffset(qid, kind, Math.log2(stride) - 2);
}
