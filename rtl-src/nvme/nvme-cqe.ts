// The 16-byte Completion Queue Entry, NVMe 1.4 §4.6 (PROTOCOL_FACTS §E.2): byte offsets into the
// entry as the controller writes it (little-endian DWs).
import { bits, unit } from "./nvme-field.ts";

export const CQE_BYTES = 16;

export const CqeField = {
  /** Command specific. */
  dw0: unit(0, 4),
  dw1: unit(4, 4),
  sqhd: bits(8, 4, 15, 0),
  sqid: bits(8, 4, 31, 16),
  cid: bits(12, 4, 15, 0),
  phase: bits(12, 4, 16, 16),
  /** The whole Status Field, {DNR, M, CRD, SCT, SC}. */
  status: bits(12, 4, 31, 17),
  sc: bits(12, 4, 24, 17),
  sct: bits(12, 4, 27, 25),
  crd: bits(12, 4, 29, 28),
  more: bits(12, 4, 30, 30),
  dnr: bits(12, 4, 31, 31),
} as const;
