// The NVMe controller registers in BAR0, NVMe 1.4 §3.1 (PROTOCOL_FACTS §D): each register as a
// unit at its BAR0 offset, and its fields as bits of that unit.
import { bits, unit } from "./nvme-field.ts";

export const NvmeRegister = {
  CAP: unit(0x00, 8),
  VS: unit(0x08, 4),
  INTMS: unit(0x0c, 4),
  INTMC: unit(0x10, 4),
  CC: unit(0x14, 4),
  CSTS: unit(0x1c, 4),
  NSSR: unit(0x20, 4),
  AQA: unit(0x24, 4),
  ASQ: unit(0x28, 8),
  ACQ: unit(0x30, 8),
} as const;

const cap = (msb: number, lsb: number) => bits(NvmeRegister.CAP.offset, 8, msb, lsb);
export const CapField = {
  /** Maximum Queue Entries Supported, zero-based. */
  mqes: cap(15, 0),
  /** Contiguous Queues Required. */
  cqr: cap(16, 16),
  /** Arbitration Mechanisms Supported: bit 17 WRR with urgent, bit 18 vendor specific. */
  ams: cap(18, 17),
  /** Ready timeout, 500 ms units. */
  to: cap(31, 24),
  /** Doorbell stride: 4 << DSTRD bytes. */
  dstrd: cap(35, 32),
  nssrs: cap(36, 36),
  /** Command Sets Supported: bit 37 the NVM command set. */
  css: cap(44, 37),
  bps: cap(45, 45),
  /** Page sizes 2^(12 + MPSMIN) .. 2^(12 + MPSMAX). */
  mpsmin: cap(51, 48),
  mpsmax: cap(55, 52),
  pmrs: cap(56, 56),
  cmbs: cap(57, 57),
} as const;

const dw = (register: { offset: number }, msb: number, lsb: number) => bits(register.offset, 4, msb, lsb);
export const VsField = { major: dw(NvmeRegister.VS, 31, 16), minor: dw(NvmeRegister.VS, 15, 8), tertiary: dw(NvmeRegister.VS, 7, 0) } as const;

export const CcField = {
  en: dw(NvmeRegister.CC, 0, 0),
  css: dw(NvmeRegister.CC, 6, 4),
  /** Memory page size 2^(12 + MPS). */
  mps: dw(NvmeRegister.CC, 10, 7),
  ams: dw(NvmeRegister.CC, 13, 11),
  shn: dw(NvmeRegister.CC, 15, 14),
  /** log2 of the I/O submission / completion queue entry size. */
  iosqes: dw(NvmeRegister.CC, 19, 16),
  iocqes: dw(NvmeRegister.CC, 23, 20),
} as const;

export const CstsField = {
  rdy: dw(NvmeRegister.CSTS, 0, 0),
  cfs: dw(NvmeRegister.CSTS, 1, 1),
  /** 00 normal, 01 shutdown in progress, 10 shutdown complete. */
  shst: dw(NvmeRegister.CSTS, 3, 2),
  nssro: dw(NvmeRegister.CSTS, 4, 4),
  pp: dw(NvmeRegister.CSTS, 5, 5),
} as const;

export const AqaField = {
  /** Admin SQ / CQ sizes, zero-based. */
  asqs: dw(NvmeRegister.AQA, 11, 0),
  acqs: dw(NvmeRegister.AQA, 27, 16),
} as const;

/** The page-aligned base address bits of ASQ and ACQ ([11:0] are reserved). */
export const AsqField = { base: bits(NvmeRegister.ASQ.offset, 8, 63, 12) } as const;
export const AcqField = { base: bits(NvmeRegister.ACQ.offset, 8, 63, 12) } as const;

export const DOORBELL_BASE = 0x1000;

/** BAR0 offset of queue `qid`'s SQ tail or CQ head doorbell, with the stride of CAP.DSTRD (NVMe 1.4 §3.1.24/25). */
export function doorbellOffset(qid: number, kind: "sqTail" | "cqHead", dstrd: number): number {
  return DOORBELL_BASE + (2 * qid + (kind === "cqHead" ? 1 : 0)) * (4 << dstrd);
}
