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

/**
 * Command-specific fields of the admin commands the controller sends (NVMe 1.4 §5; PROTOCOL_FACTS
 * §E.4): bits of CDW10 and CDW11, placed like the SQE fields above (byte offset of the DW in the
 * entry, bits of that DW). Queue sizes, the Number of Queues counts and the Get Log Page dword
 * count are zero-based. Get Log Page's offset (CDW12/13) is not on the admin command port: the
 * controller reads every log from its start.
 */
const cdw10 = (msb: number, lsb: number) => bits(SqeField.cdw10.offset, 4, msb, lsb);
const cdw11 = (msb: number, lsb: number) => bits(SqeField.cdw11.offset, 4, msb, lsb);
export const AdminCommandField = {
  /** Identify: Controller or Namespace Structure (01h controller, 00h namespace). */
  identifyCns: cdw10(7, 0),
  identifyCntid: cdw10(31, 16),
  /** Create I/O CQ / SQ: queue identifier and zero-based size. */
  createQueueId: cdw10(15, 0),
  createQueueSize: cdw10(31, 16),
  /** Create I/O CQ / SQ: physically contiguous. */
  createQueueContiguous: cdw11(0, 0),
  /** Create I/O CQ: interrupts enabled, interrupt vector. */
  createCqInterruptsEnabled: cdw11(1, 1),
  createCqInterruptVector: cdw11(31, 16),
  /** Create I/O SQ: priority (weighted round robin only), the CQ it completes into. */
  createSqPriority: cdw11(2, 1),
  createSqCqId: cdw11(31, 16),
  /** Set / Get Features: feature identifier, save. */
  featureId: cdw10(7, 0),
  featureSave: cdw10(31, 31),
  /** Set Features Number of Queues (FID 07h): submission and completion queues requested. */
  numberOfSqsRequested: cdw11(15, 0),
  numberOfCqsRequested: cdw11(31, 16),
  /** Get Log Page (NVMe 1.4 Figure 190/191): log identifier, log specific field, retain asynchronous event. */
  logPageId: cdw10(7, 0),
  logSpecificField: cdw10(11, 8),
  logRetainEvent: cdw10(15, 15),
  /** Get Log Page: dwords to return, zero-based, lower and upper 16 bits (NUMDL, NUMDU). */
  logDwordsLower: cdw10(31, 16),
  logDwordsUpper: cdw11(15, 0),
  /** Get Log Page: log specific identifier (1.4). */
  logSpecificId: cdw11(31, 16),
  /** Get Log Page: byte offset into the log (LPOL in CDW12, LPOU in CDW13), a multiple of 4. */
  logPageOffset: unit(SqeField.cdw12.offset, 8),
  /** Format NVM (NVMe 1.4 Figure 299): LBA format, metadata settings, protection, Secure Erase Settings (SecureEraseSetting). */
  formatLbaFormat: cdw10(3, 0),
  formatMetadataSettings: cdw10(4, 4),
  formatProtectionInfo: cdw10(7, 5),
  formatProtectionLocation: cdw10(8, 8),
  formatSecureErase: cdw10(11, 9),
  /** Sanitize (NVMe 1.4 Figure 372): action (SanitizeAction), allow unrestricted sanitize exit, overwrite pass count, invert between passes, no-deallocate after sanitize. */
  sanitizeAction: cdw10(2, 0),
  sanitizeAllowUnrestrictedExit: cdw10(3, 3),
  sanitizeOverwritePasses: cdw10(7, 4),
  sanitizeOverwriteInvert: cdw10(8, 8),
  sanitizeNoDeallocate: cdw10(9, 9),
  /** Sanitize: the 32-bit pattern an overwrite writes. */
  sanitizeOverwritePattern: cdw11(31, 0),
} as const;

/** Format NVM Secure Erase Settings (SES). */
export const SecureEraseSetting = {
  none: 0,
  userDataErase: 1,
  cryptographicErase: 2,
} as const;

/** Sanitize Action (SANACT). */
export const SanitizeAction = {
  exitFailureMode: 1,
  blockErase: 2,
  overwrite: 3,
  cryptoErase: 4,
} as const;

/**
 * Command-specific fields of the NVM I/O commands the controller sends (NVMe 1.4 §6; PROTOCOL_FACTS
 * §E.5), placed like the SQE fields above. Read, Write and Write Zeroes share the LBA fields; NLB is
 * zero-based. Dataset Management's NR is zero-based too (0 = one range).
 */
const cdw12 = (msb: number, lsb: number) => bits(SqeField.cdw12.offset, 4, msb, lsb);
export const NvmCommandField = {
  /** Starting LBA: CDW10 (low) and CDW11 (high) as one 8-byte unit. */
  slba: unit(SqeField.cdw10.offset, 8),
  /** Number of logical blocks, zero-based. */
  nlb: cdw12(15, 0),
  /** Force Unit Access (read, write, write zeroes). */
  fua: cdw12(30, 30),
  /** Dataset Management: number of ranges, zero-based. */
  dsmRanges: cdw10(7, 0),
  /** Dataset Management attribute: deallocate (AD). */
  dsmDeallocate: cdw11(2, 2),
} as const;

/** One Dataset Management range (NVMe 1.4 Figure 364): 16 bytes, the list is an array of them. */
export const DSM_RANGE_BYTES = 16;
export const DsmRangeField = {
  contextAttributes: unit(0, 4),
  /** Length in logical blocks, not zero-based. */
  length: unit(4, 4),
  slba: unit(8, 8),
} as const;

/** A PRP list entry (NVMe 1.4 §4.3): the 64-bit address of a page; the list is an array of them. */
export const PRP_ENTRY_BYTES = 8;
export const PrpEntryField = {
  address: unit(0, 8),
} as const;
