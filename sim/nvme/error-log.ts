// The Error Information log (LID 01h, NVMe 1.4 §5.14.1.1): one 64-byte entry for every command the
// controller completes with an error status, newest first. The controller keeps Identify ELPE + 1
// entries; older ones fall off, but the Error Count keeps rising over the controller's life (and the
// SMART log's Number of Error Information Log Entries counts them all). Entries are placed by
// ErrorInformationField (rtl-src/nvme/nvme-log-page.ts), the table the hardware reads them with.

import { bitInFirstByte, firstByte, type NvmeField, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { ERROR_INFORMATION_ENTRY_BYTES, ErrorInformationField } from "../../rtl-src/nvme/nvme-log-page.ts";

/** Parameter Error Location when the controller does not say which field was wrong. */
export const NO_PARAMETER_LOCATION = 0xffff;

export interface ErrorLogEntry {
  /** Rises from 1 over the controller's life; 0 marks an unused entry. */
  errorCount: bigint;
  sqid: number;
  cid: number;
  /** The completion's 15-bit Status Field (SC, SCT, CRD, M, DNR). */
  statusField: number;
  /** The phase tag the completion was posted with (bit 0 of the entry's status word); 0 until posted. */
  phaseTag: number;
  /** Byte [7:0] and bit [10:8] in the submission entry of the field in error, or NO_PARAMETER_LOCATION. */
  parameterErrorLocation: number;
  /** The first LBA in error (commands with an LBA range), else 0. */
  lba: bigint;
  nsid: number;
}

/** The Parameter Error Location of a field of the submission entry: its first byte and first bit. */
export function parameterErrorLocation(field: NvmeField): number {
  return firstByte(field) | (bitInFirstByte(field) << 8);
}

export class ErrorLog {
  private readonly entries: ErrorLogEntry[] = [];
  private count = 0n;

  /** `elpe` is Identify ELPE: the log holds elpe + 1 entries. */
  constructor(readonly elpe: number) {
    if (!Number.isInteger(elpe) || elpe < 0 || elpe > 255) throw new RangeError(`ErrorLog: elpe ${elpe} is not 0..255`);
  }

  /** Errors recorded over the controller's life (SMART Number of Error Information Log Entries). */
  get errorCount(): bigint {
    return this.count;
  }

  /** The entries kept, newest first. */
  get newestFirst(): readonly ErrorLogEntry[] {
    return this.entries;
  }

  get pageBytes(): number {
    return (this.elpe + 1) * ERROR_INFORMATION_ENTRY_BYTES;
  }

  /** Add an entry for a failed command; the returned entry may still get its phase tag when posted. */
  record(entry: Omit<ErrorLogEntry, "errorCount" | "phaseTag">): ErrorLogEntry {
    this.count++;
    const kept: ErrorLogEntry = { ...entry, errorCount: this.count, phaseTag: 0 };
    this.entries.unshift(kept);
    this.entries.length = Math.min(this.entries.length, this.elpe + 1);
    return kept;
  }

  /** The whole log page: ELPE + 1 entries, newest first, unused entries zero. */
  page(): Uint8Array {
    const page = new Uint8Array(this.pageBytes);
    const F = ErrorInformationField;
    this.entries.forEach((e, i) => {
      const entry = page.subarray(i * ERROR_INFORMATION_ENTRY_BYTES, (i + 1) * ERROR_INFORMATION_ENTRY_BYTES);
      writeField(entry, F.errorCount, e.errorCount);
      writeField(entry, F.sqid, e.sqid);
      writeField(entry, F.cid, e.cid);
      writeField(entry, F.statusField, ((e.statusField << 1) | (e.phaseTag & 1)) & 0xffff);
      writeField(entry, F.parameterErrorLocation, e.parameterErrorLocation);
      writeField(entry, F.lba, e.lba);
      writeField(entry, F.nsid, e.nsid >>> 0);
    });
    return page;
  }
}
