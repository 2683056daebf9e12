// Parses the SMART / Health Information log page (Get Log Page LID 02h, 512 bytes) on the fly, as
// the SSD writes it into the smartLog region of the virtual host memory
// (rtl-src/hostmem/host-memory-map.ts): nothing stores the page as a page; the quadwords of every
// field NVMe 1.4 defines in it (bytes 0..SMART_LOG_KEPT_BYTES-1: critical warning, temperatures,
// spare, percentage used, the 128-bit counters whole, thermal management times) are kept in a small
// distributed RAM as their bytes pass, read a byte at a time through `page_address`/`page_data`
// (page 2 of the status port, page-field-capture.ts: StatusPage, pageAddress).
//
// The writes are parsed by page-field-capture.ts (shared with identify_capture): any number of
// writes, in any order, at any DW, with byte enables on their ends; the payload moves at 8 bytes a
// cycle, held one cycle per write when its header comes with its first beat.
// A byte keeps its old value until the bytes of a new page overwrite it: a refresh updates the
// page in place, and a user reading it during a refresh may see old and new bytes mixed
// (smart_refresh's `valid` says when they are one page).
//
// Poisoned writes (EP set) are consumed, their data ignored, counted, and shown as a one-cycle
// `poisoned_write` pulse (smart_refresh turns one during a refresh into an error). Writes outside
// the page (a router never forwards them) are consumed and ignored. `clear` zeroes the counter at
// once and sweeps the memory to zero in SMART_SWEEP_CYCLES (before a new bring-up: the page of
// another SSD must not remain); a write under way at that moment waits for the sweep, and what it
// writes after it is kept.
import { Module, constant } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";
import { SMART_LOG_BYTES, SmartLogField, temperatureSensorField } from "./nvme-log-page.ts";
import { CAPTURE_PAGE_BYTES, type CapturedPage, type KeptRange, PAGE_ADDRESS_BITS, checkCapturedPages, keptMemoryDepth, pageFieldCapture } from "./page-field-capture.ts";

export interface SmartLogCaptureParams {
  /** Where the SSD writes the log page: a 4 KiB-aligned address below 4 GiB. */
  base: number;
}

export const defaultSmartLogCaptureParams: SmartLogCaptureParams = { base: HostMemoryMap.smartLog.base };

/** Every field of the page, readable through the page port (the counters in all their 128 bits). */
export const READABLE_SMART_FIELDS = {
  ...SmartLogField,
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`temperatureSensor${i + 1}`, temperatureSensorField(i + 1)])),
} as const satisfies Record<string, NvmeField>;

/** The kept bytes: 0 up to the end of the last field NVMe 1.4 defines (the rest of the page is reserved). */
export const SMART_LOG_KEPT_BYTES = Math.max(...Object.values(READABLE_SMART_FIELDS).map((f) => f.offset + f.size));

const POISONED_COUNT_BITS = 8;

if (SMART_LOG_KEPT_BYTES > SMART_LOG_BYTES) throw new RangeError(`smart log capture: ${SMART_LOG_KEPT_BYTES} kept bytes are more than the ${SMART_LOG_BYTES}-byte page`);

const PAGES: CapturedPage<"smart">[] = [{ name: "smart", base: 0, constantName: "SMART_LOG_PAGE", statusPage: "smartLog" }];
const KEPT: KeptRange<"smart">[] = [{ page: "smart", offset: 0, size: SMART_LOG_KEPT_BYTES }];

/** Cycles the memory sweep after `clear` (and after reset) holds writes back. */
export const SMART_SWEEP_CYCLES = keptMemoryDepth(PAGES, KEPT);

/**
 * Watches the SSD's memory writes into the SMART / Health log page and keeps its fields in a small
 * memory, read a byte at a time through `page_address`/`page_data`.
 */
export function smartLogCapture(params: SmartLogCaptureParams = defaultSmartLogCaptureParams) {
  checkCapturedPages("smart log capture", [{ name: "base", base: params.base }]);
  const m = new Module(`smart_log_capture_b${params.base.toString(16)}`);
  m.parameters({ base: `0x${params.base.toString(16)}`, pageBytes: CAPTURE_PAGE_BYTES, logBytes: SMART_LOG_BYTES, keptBytes: SMART_LOG_KEPT_BYTES });

  const smart_write = m.port(receivedMemoryWrite, "slave");
  const smart_write_data = m.port(payloadStream, "slave");
  m.waiveUnread(smart_write.signals.length_dw, "the payload's tlast and tkeep delimit each write");
  m.waiveUnread(smart_write.signals.address, "a write starts at a DW: bits [1:0] are zero");
  /** A pulse: zero the counter and sweep the memory. */
  const clear = m.input(1);
  /** {page (StatusPage: 2 the SMART log), byte offset}; other pages read 0. */
  const page_address = m.input(PAGE_ADDRESS_BITS);
  /** The byte at page_address, PAGE_READ_LATENCY cycles later (0 where nothing was written since clear, or past the kept bytes). */
  const page_data = m.output(8);
  /** A write is held or being parsed, or the memory is being swept: bytes may still change. */
  const busy = m.output(1, { reset: 1 });
  /** Poisoned writes since clear (saturating); their data was ignored. */
  const poisoned_writes = m.output(POISONED_COUNT_BITS);
  /** One cycle per poisoned write taken. */
  const poisoned_write = m.output(1);

  const parser = pageFieldCapture(m, {
    pages: PAGES.map((p) => ({ ...p, base: params.base })),
    write: smart_write,
    data: smart_write_data,
    clear,
    kept: KEPT,
  });
  m.comb(page_data, parser.kept!.readByte(page_address));

  const poisoned_max = constant("POISONED_COUNT_MAX", 2 ** POISONED_COUNT_BITS - 1, POISONED_COUNT_BITS);
  m.If(clear, () => m.sync(poisoned_writes, 0)).Elif(parser.poisoned_header.and(poisoned_writes.ne(poisoned_max)), () =>
    m.sync(poisoned_writes, poisoned_writes.addWrap(1)),
  );
  m.sync(poisoned_write, parser.poisoned_header);
  m.sync(busy, parser.pending.or(clear));

  return m.exposing({
    smart_write,
    smart_write_data,
    clear,
    page_address,
    page_data,
    busy,
    poisoned_writes,
    poisoned_write,
  });
}
