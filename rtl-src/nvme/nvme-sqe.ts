// The 64-byte Submission Queue Entry, NVMe 1.4 §4.2 (PROTOCOL_FACTS §E.1): byte offsets into the
// entry as the host writes it (little-endian DWs).
import { bits, unit } from "./nvme-field.ts";

export const SQE_BYTES = 64;

export const SqeField = {
  /** CDW0. */
  opcode: bits(0, 4, 7, 0),
  fuse: bits(0, 4, 9, 8),
  psdt: bits(0, 4, 15, 14),
  cid: bits(0, 4, 31, 16),
  nsid: unit(4, 4),
  cdw2: unit(8, 4),
  cdw3: unit(12, 4),
  mptr: unit(16, 8),
  prp1: unit(24, 8),
  prp2: unit(32, 8),
  cdw10: unit(40, 4),
  cdw11: unit(44, 4),
  cdw12: unit(48, 4),
  cdw13: unit(52, 4),
  cdw14: unit(56, 4),
  cdw15: unit(60, 4),
} as const;

/** CDW10..CDW15 in order. */
export const SQE_COMMAND_DWS = [SqeField.cdw10, SqeField.cdw11, SqeField.cdw12, SqeField.cdw13, SqeField.cdw14, SqeField.cdw15] as const;
