// Parses the SMART / Health Information log page (Get Log Page LID 02h, 512 bytes) on the fly, as
// the SSD writes it into the smartLog region of the virtual host memory
// (rtl-src/hostmem/host-memory-map.ts): nothing stores the page; the fields an FPGA user watches
// are kept in registers as their bytes pass, for the status port.
//
// The writes are parsed by page-field-capture.ts (shared with identify_capture): any number of
// writes, in any order, at any DW, with byte enables on their ends; a header that comes no later
// than its payload's first beat meets no back-pressure, and the payload moves at 8 bytes a cycle.
// A field keeps its old value until the bytes of a new page overwrite it: a refresh updates the
// fields in place, and a user reading them during a refresh may see old and new bytes mixed
// (smart_refresh's `valid` says when they are one page).
//
// What is kept, and how wide (the page's counters are 128 bits; these widths are what a status
// port needs for the life of any drive, the low bits of the page's value):
//  - critical_warning (8), composite_temperature (16, kelvin), available_spare and
//    available_spare_threshold (8, percent), percentage_used (8, percent, may exceed 100);
//  - data_units_read / data_units_written (64, thousands of 512-byte units: 2^64 of them is 9 x 10^24
//    bytes), host_read_commands / host_write_commands (64: 580 000 years at 1 M commands/s),
//    media_errors (64);
//  - power_on_hours (32: 490 000 years) and unsafe_shutdowns (32).
// The rest of the page (busy time, power cycles, error log entries, temperature sensors and times)
// is not kept: one line in SMART_LOG_CAPTURED adds a field.
//
// Poisoned writes (EP set) are consumed, their data ignored, counted, and shown as a one-cycle
// `poisoned_write` pulse (smart_refresh turns one during a refresh into an error). Writes outside
// the page (a router never forwards them) are consumed and ignored. `clear` zeroes every field and
// the counter at once (before a new bring-up: the fields of another SSD must not remain); a write
// under way at that moment goes on, and what it writes after the clear is kept.
import { Module, type Signal, constant } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import { type NvmeField, bits } from "./nvme-field.ts";
import { SMART_LOG_BYTES, SmartLogField as S } from "./nvme-log-page.ts";
import { CAPTURE_PAGE_BYTES, checkCapturedPages, pageFieldCapture } from "./page-field-capture.ts";

export interface SmartLogCaptureParams {
  /** Where the SSD writes the log page: a 4 KiB-aligned address below 4 GiB. */
  base: number;
}

export const defaultSmartLogCaptureParams: SmartLogCaptureParams = { base: HostMemoryMap.smartLog.base };

/** The low `width` bits of a counter of the page. */
function low(f: NvmeField, width: number): NvmeField {
  return bits(f.offset, f.size, width - 1, 0);
}

/** The fields kept, each an output port of the same name and the field's width. */
export const SMART_LOG_CAPTURED = {
  critical_warning: S.criticalWarning,
  composite_temperature: S.compositeTemperature,
  available_spare: S.availableSpare,
  available_spare_threshold: S.availableSpareThreshold,
  percentage_used: S.percentageUsed,
  data_units_read: low(S.dataUnitsRead, 64),
  data_units_written: low(S.dataUnitsWritten, 64),
  host_read_commands: low(S.hostReadCommands, 64),
  host_write_commands: low(S.hostWriteCommands, 64),
  media_errors: low(S.mediaErrors, 64),
  power_on_hours: low(S.powerOnHours, 32),
  unsafe_shutdowns: low(S.unsafeShutdowns, 32),
} as const satisfies Record<string, NvmeField>;
export type SmartLogCapturedField = keyof typeof SMART_LOG_CAPTURED;

const POISONED_COUNT_BITS = 8;

for (const [name, f] of Object.entries(SMART_LOG_CAPTURED)) {
  if (f.offset + f.size > SMART_LOG_BYTES) throw new RangeError(`smart log capture: ${name} at ${f.offset}+${f.size} lies beyond the ${SMART_LOG_BYTES}-byte page`);
}

/**
 * Watches the SSD's memory writes into the SMART / Health log page and keeps, as registers, the
 * fields of SMART_LOG_CAPTURED.
 */
export function smartLogCapture(params: SmartLogCaptureParams = defaultSmartLogCaptureParams) {
  checkCapturedPages("smart log capture", [{ name: "base", base: params.base }]);
  const m = new Module(`smart_log_capture_b${params.base.toString(16)}`);
  m.parameters({ base: `0x${params.base.toString(16)}`, pageBytes: CAPTURE_PAGE_BYTES, logBytes: SMART_LOG_BYTES });

  const smart_write = m.port(receivedMemoryWrite, "slave");
  const smart_write_data = m.port(payloadStream, "slave");
  m.waiveUnread(smart_write.signals.length_dw, "the payload's tlast and tkeep delimit each write");
  m.waiveUnread(smart_write.signals.address, "a write starts at a DW: bits [1:0] are zero");
  /** A pulse: zero every field and the counter. */
  const clear = m.input(1);
  /** A write is held or being parsed: fields may still change. */
  const busy = m.output(1);
  /** Poisoned writes since clear (saturating); their data was ignored. */
  const poisoned_writes = m.output(POISONED_COUNT_BITS);
  /** One cycle per poisoned write taken. */
  const poisoned_write = m.output(1);

  const parser = pageFieldCapture(m, {
    pages: [{ name: "smart", base: params.base, constantName: "SMART_LOG_PAGE" }],
    write: smart_write,
    data: smart_write_data,
    clear,
  });

  const fields = {} as Record<SmartLogCapturedField, Signal>;
  for (const [name, f] of Object.entries(SMART_LOG_CAPTURED) as [SmartLogCapturedField, NvmeField][]) {
    const port = m.output(f.width, { name });
    m.comb(port, parser.keepField("smart", name, f));
    fields[name] = port;
  }

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
    busy,
    poisoned_writes,
    poisoned_write,
    fields,
  });
}
