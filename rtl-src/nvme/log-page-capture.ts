// Parses the log pages the controller reads (Get Log Page, issued by log_page_refresh) on the fly,
// as the SSD writes them into their regions of the virtual host memory
// (rtl-src/hostmem/host-memory-map.ts): nothing stores a page as a page.
//  - SMART / Health Information (LID 02h, 512 bytes, smartLog region): the quadwords of every field
//    NVMe 1.4 defines in it (bytes 0..SMART_LOG_KEPT_BYTES-1: critical warning, temperatures,
//    spare, percentage used, the 128-bit counters whole, thermal management times), kept in a small
//    distributed RAM as their bytes pass, read a byte at a time through `page_address`/`page_data`
//    (status page 2, page-field-capture.ts: StatusPage, pageAddress).
//  - Error Information (LID 01h, errorLog region): the newest `errorEntries` 64-byte entries (the
//    SSD writes them newest first), of each every field NVMe 1.4 defines (its first
//    ERROR_ENTRY_KEPT_BYTES: error count, SQID, CID, status, parameter error location, LBA, NSID,
//    vendor log page, transport type, command and transport specific), in the same RAM, read
//    through the page port at their page offsets (status page 3). The memory keeps aligned blocks of
//    quadwords, so it may keep more bytes than these: logKeptOffsets lists what the port shows.
//  - Sanitize Status (LID 81h, sanitizeStatusLog region): SPROG and SSTAT's state in registers
//    (`sanitize_sprog`, `sanitize_state`), which nvme_erase polls; not on the page port.
//
// The writes are parsed by page-field-capture.ts (shared with identify_capture): any number of
// writes, in any order, at any DW, with byte enables on their ends; the payload moves at 8 bytes a
// cycle, held one cycle per write when its header comes with its first beat.
// A byte keeps its old value until the bytes of a new page overwrite it: a refresh updates the
// page in place, and a user reading it during a refresh may see old and new bytes mixed
// (log_page_refresh's `valid` of each log says when they are one page).
//
// Poisoned writes (EP set) are consumed, their data ignored, counted, and shown as a one-cycle
// `poisoned_write` pulse (log_page_refresh turns one during a refresh into an error). Writes outside
// the pages (a router never forwards them) are consumed and ignored. `clear` zeroes the counter
// and the registers at once and sweeps the memory to zero in LOG_SWEEP_CYCLES (before a new
// bring-up: the pages of another SSD must not remain); a write under way at that moment waits for
// the sweep, and what it writes after it is kept.
import { Module, constant } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";
import {
  ERROR_INFORMATION_ENTRY_BYTES,
  ErrorInformationField,
  SANITIZE_STATUS_LOG_BYTES,
  SMART_LOG_BYTES,
  SanitizeStatusField,
  SmartLogField,
  temperatureSensorField,
} from "./nvme-log-page.ts";
import { CAPTURE_PAGE_BYTES, type CapturedPage, type KeptRange, PAGE_ADDRESS_BITS, checkCapturedPages, keptMemoryDepth, keptOffsets, pageFieldCapture } from "./page-field-capture.ts";

export interface LogPageCaptureParams {
  /** Where the SSD writes each log page: 4 KiB-aligned addresses below 4 GiB. */
  smartBase: number;
  errorBase: number;
  sanitizeBase: number;
  /** Error Information entries kept, the newest first: 1..MAX_ERROR_LOG_ENTRIES. */
  errorEntries: number;
}

export const DEFAULT_ERROR_LOG_ENTRIES = 4;
/** As many 64-byte entries as one 4 KiB page holds (a longer read would need PRP2). */
export const MAX_ERROR_LOG_ENTRIES = CAPTURE_PAGE_BYTES / ERROR_INFORMATION_ENTRY_BYTES;

export const defaultLogPageCaptureParams: LogPageCaptureParams = {
  smartBase: HostMemoryMap.smartLog.base,
  errorBase: HostMemoryMap.errorLog.base,
  sanitizeBase: HostMemoryMap.sanitizeStatusLog.base,
  errorEntries: DEFAULT_ERROR_LOG_ENTRIES,
};

/** Every field of the SMART page, readable through the page port (the counters in all their 128 bits). */
export const READABLE_SMART_FIELDS = {
  ...SmartLogField,
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`temperatureSensor${i + 1}`, temperatureSensorField(i + 1)])),
} as const satisfies Record<string, NvmeField>;

/** The kept bytes: 0 up to the end of the last field NVMe 1.4 defines (the rest of the page is reserved). */
export const SMART_LOG_KEPT_BYTES = Math.max(...Object.values(READABLE_SMART_FIELDS).map((f) => f.offset + f.size));

/** The fields of an Error Information entry the page port shows: every one NVMe 1.4 defines. */
export const READABLE_ERROR_FIELDS = ErrorInformationField satisfies Record<string, NvmeField>;

/** Kept bytes at the start of each entry. */
export const ERROR_ENTRY_KEPT_BYTES = Math.max(...Object.values(READABLE_ERROR_FIELDS).map((f) => f.offset + f.size));

/** Field `f` of entry `entry` (0 = the newest) of the Error Information log, as a field of its page. */
export function errorEntryField(entry: number, f: NvmeField): NvmeField {
  if (!Number.isInteger(entry) || entry < 0 || entry >= MAX_ERROR_LOG_ENTRIES) throw new RangeError(`error log entry ${entry} is not 0..${MAX_ERROR_LOG_ENTRIES - 1}`);
  return { ...f, offset: entry * ERROR_INFORMATION_ENTRY_BYTES + f.offset };
}

/** The Sanitize Status fields kept in registers (output ports `sanitize_sprog`, `sanitize_state`). */
export const CAPTURED_SANITIZE_FIELDS = {
  sanitize_sprog: SanitizeStatusField.sprog,
  sanitize_state: SanitizeStatusField.sstatState,
} as const satisfies Record<string, NvmeField>;

const POISONED_COUNT_BITS = 8;

if (SMART_LOG_KEPT_BYTES > SMART_LOG_BYTES) throw new RangeError(`log page capture: ${SMART_LOG_KEPT_BYTES} kept bytes are more than the ${SMART_LOG_BYTES}-byte page`);
if (ERROR_ENTRY_KEPT_BYTES > ERROR_INFORMATION_ENTRY_BYTES) throw new RangeError(`log page capture: ${ERROR_ENTRY_KEPT_BYTES} kept bytes are more than an error log entry`);
if (SANITIZE_STATUS_LOG_BYTES > CAPTURE_PAGE_BYTES) throw new RangeError("log page capture: the Sanitize Status log does not fit a page");

type LogPage = "smart" | "error" | "sanitize";

function capturedPages(p: LogPageCaptureParams): CapturedPage<LogPage>[] {
  return [
    { name: "smart", base: p.smartBase, constantName: "SMART_LOG_PAGE", statusPage: "smartLog" },
    { name: "error", base: p.errorBase, constantName: "ERROR_LOG_PAGE", statusPage: "errorLog" },
    { name: "sanitize", base: p.sanitizeBase, constantName: "SANITIZE_STATUS_PAGE" },
  ];
}

function keptRanges(p: LogPageCaptureParams): KeptRange<LogPage>[] {
  return [
    { page: "smart", offset: 0, size: SMART_LOG_KEPT_BYTES },
    ...Array.from({ length: p.errorEntries }, (_, i): KeptRange<LogPage> => ({ page: "error", offset: i * ERROR_INFORMATION_ENTRY_BYTES, size: ERROR_ENTRY_KEPT_BYTES })),
  ];
}

function checkParams(p: LogPageCaptureParams): void {
  checkCapturedPages("log page capture", [
    { name: "smartBase", base: p.smartBase },
    { name: "errorBase", base: p.errorBase },
    { name: "sanitizeBase", base: p.sanitizeBase },
  ]);
  if (!Number.isInteger(p.errorEntries) || p.errorEntries < 1 || p.errorEntries > MAX_ERROR_LOG_ENTRIES) {
    throw new RangeError(`log page capture: errorEntries = ${p.errorEntries}, must be an integer in 1..${MAX_ERROR_LOG_ENTRIES}`);
  }
}

/** Cycles the memory sweep after `clear` (and after reset) holds writes back. */
export function logSweepCycles(p: LogPageCaptureParams = defaultLogPageCaptureParams): number {
  return keptMemoryDepth(capturedPages(p), keptRanges(p));
}

/** The byte offsets of the SMART or the error log page the page port shows (others read 0), ascending. */
export function logKeptOffsets(page: "smart" | "error", p: LogPageCaptureParams = defaultLogPageCaptureParams): number[] {
  return keptOffsets(capturedPages(p), keptRanges(p), page);
}

/**
 * Watches the SSD's memory writes into the SMART / Health, Error Information and Sanitize Status
 * log pages: the first two kept in a small memory read a byte at a time through
 * `page_address`/`page_data`, the sanitize progress and state in registers.
 */
export function logPageCapture(params: LogPageCaptureParams = defaultLogPageCaptureParams) {
  checkParams(params);
  const hex = (n: number) => n.toString(16);
  const m = new Module(`log_page_capture_s${hex(params.smartBase)}_e${hex(params.errorBase)}x${params.errorEntries}_z${hex(params.sanitizeBase)}`);
  m.parameters({
    smartBase: `0x${hex(params.smartBase)}`,
    errorBase: `0x${hex(params.errorBase)}`,
    sanitizeBase: `0x${hex(params.sanitizeBase)}`,
    errorEntries: params.errorEntries,
    pageBytes: CAPTURE_PAGE_BYTES,
    smartKeptBytes: SMART_LOG_KEPT_BYTES,
    errorEntryKeptBytes: ERROR_ENTRY_KEPT_BYTES,
  });

  const log_write = m.port(receivedMemoryWrite, "slave");
  const log_write_data = m.port(payloadStream, "slave");
  m.waiveUnread(log_write.signals.length_dw, "the payload's tlast and tkeep delimit each write");
  m.waiveUnread(log_write.signals.address, "a write starts at a DW: bits [1:0] are zero");
  /** A pulse: zero the counter and the registers, sweep the memory. */
  const clear = m.input(1);
  /** {page (StatusPage: 2 the SMART log, 3 the error log), byte offset}; other pages read 0. */
  const page_address = m.input(PAGE_ADDRESS_BITS);
  /** The byte at page_address, PAGE_READ_LATENCY cycles later (0 where nothing was written since clear, or not kept). */
  const page_data = m.output(8);
  /** A write is held or being parsed, or the memory is being swept: bytes may still change. */
  const busy = m.output(1, { reset: 1 });
  /** Poisoned writes since clear (saturating); their data was ignored. */
  const poisoned_writes = m.output(POISONED_COUNT_BITS);
  /** One cycle per poisoned write taken. */
  const poisoned_write = m.output(1);

  const parser = pageFieldCapture(m, {
    pages: capturedPages(params),
    write: log_write,
    data: log_write_data,
    clear,
    kept: keptRanges(params),
  });
  m.comb(page_data, parser.kept!.readByte(page_address));
  const sanitize_sprog = m.output(SanitizeStatusField.sprog.width);
  const sanitize_state = m.output(SanitizeStatusField.sstatState.width);
  m.comb(sanitize_sprog, parser.keepField("sanitize", "sanitize_sprog", CAPTURED_SANITIZE_FIELDS.sanitize_sprog));
  m.comb(sanitize_state, parser.keepField("sanitize", "sanitize_state", CAPTURED_SANITIZE_FIELDS.sanitize_state));

  const poisoned_max = constant("POISONED_COUNT_MAX", 2 ** POISONED_COUNT_BITS - 1, POISONED_COUNT_BITS);
  m.If(clear, () => m.sync(poisoned_writes, 0)).Elif(parser.poisoned_header.and(poisoned_writes.ne(poisoned_max)), () =>
    m.sync(poisoned_writes, poisoned_writes.addWrap(1)),
  );
  m.sync(poisoned_write, parser.poisoned_header);
  m.sync(busy, parser.pending.or(clear));

  return m.exposing({
    log_write,
    log_write_data,
    clear,
    page_address,
    page_data,
    busy,
    poisoned_writes,
    poisoned_write,
    sanitize_sprog,
    sanitize_state,
  });
}
