// Parses the Identify Controller and Identify Namespace pages on the fly, as the SSD writes them into
// their two regions of the virtual host memory (rtl-src/hostmem/host-memory-map.ts): nothing stores
// a page. The fields the controller itself works from are kept in registers as their bytes pass
// (CAPTURED_*_FIELDS); the quadwords of every field the status port shows (READABLE_*_FIELDS:
// strings, IDs, sizes, the LBA format table) are kept in a small distributed RAM, read a byte at a
// time through `page_address`/`page_data` (page-field-capture.ts: StatusPage, pageAddress).
//
// The writes are parsed by page-field-capture.ts (shared with smart_log_capture): any number of
// writes per page, in any order, at any DW, with byte enables on their ends; a header that comes
// with its payload's first beat holds the payload one cycle per write. The only other back-pressure here is
// the IDENTIFY_SWEEP_CYCLES after `clear` (and after reset) while the memory is swept to zero.
// Nothing depends on the order of the writes: the LBA format table (all 16 formats) is in the
// memory, and the format FLBAS selects is read from it every cycle (lbads and ms follow the table
// and FLBAS a cycle or two later), so FLBAS may arrive before or after its table.
//
// Poisoned writes (EP set) are consumed, their data ignored, and counted. Writes outside both
// pages (a router never forwards them) are consumed and ignored. `clear` empties every field and
// the counter at once, and sweeps the memory; a write under way at that moment goes on, and what it
// writes after the clear is kept.
import { Module, type Signal, cat, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField as Ctrl, IdentifyNamespaceField as Ns, lbaFormatField } from "./nvme-identify.ts";
import {
  CAPTURE_PAGE_BYTES,
  type CapturedPage,
  type KeptRange,
  PAGE_ADDRESS_BITS,
  QWORD_BYTES,
  checkCapturedPages,
  fieldRange,
  keptMemoryDepth,
  keptOffsets,
  pageFieldCapture,
} from "./page-field-capture.ts";

export interface IdentifyCaptureParams {
  /** Where the SSD writes Identify Controller data: a 4 KiB-aligned address below 4 GiB. */
  controllerBase: number;
  /** Where it writes Identify Namespace data. */
  namespaceBase: number;
}

export const defaultIdentifyCaptureParams: IdentifyCaptureParams = {
  controllerBase: HostMemoryMap.identifyController.base,
  namespaceBase: HostMemoryMap.identifyNamespace.base,
};

/**
 * The controller-page fields the hardware works from, kept in registers (a flag in one flip-flop):
 * each an output port of the same name and width.
 */
export const CAPTURED_CONTROLLER_FIELDS = {
  mdts: Ctrl.mdts,
  rtd3e: Ctrl.rtd3e,
  sqes: Ctrl.sqes,
  cqes: Ctrl.cqes,
  nn: Ctrl.nn,
  awupf: Ctrl.awupf,
  // What the erase kinds need (nvme_erase): a flip-flop each.
  oacs_format_nvm: Ctrl.oacsFormatNvm,
  fna_crypto_erase: Ctrl.fnaCryptoErase,
  sanicap_crypto_erase: Ctrl.sanicapCryptoErase,
  sanicap_block_erase: Ctrl.sanicapBlockErase,
  sanicap_overwrite: Ctrl.sanicapOverwrite,
} as const satisfies Record<string, NvmeField>;

/** The namespace-page fields kept in registers. NSZE keeps all 64 bits (the capacity). */
export const CAPTURED_NAMESPACE_FIELDS = {
  nsze: Ns.nsze,
  nsfeat: Ns.nsfeat,
  nlbaf: Ns.nlbaf,
  flbas: Ns.flbas,
  nawupf: Ns.nawupf,
  /** The atomic boundary for power fail (atomic writes, io_engine). */
  nabspf: Ns.nabspf,
} as const satisfies Record<string, NvmeField>;

export type CapturedControllerField = keyof typeof CAPTURED_CONTROLLER_FIELDS;
export type CapturedNamespaceField = keyof typeof CAPTURED_NAMESPACE_FIELDS;

/** The controller-page fields readable through the page port (`nvme id-ctrl`'s: strings and all). */
export const READABLE_CONTROLLER_FIELDS = {
  vid: Ctrl.vid,
  ssvid: Ctrl.ssvid,
  sn: Ctrl.sn,
  mn: Ctrl.mn,
  fr: Ctrl.fr,
  mdts: Ctrl.mdts,
  rtd3e: Ctrl.rtd3e,
  oacs: Ctrl.oacs,
  sqes: Ctrl.sqes,
  cqes: Ctrl.cqes,
  nn: Ctrl.nn,
  oncs: Ctrl.oncs,
  vwc: Ctrl.vwc,
  awun: Ctrl.awun,
  awupf: Ctrl.awupf,
} as const satisfies Record<string, NvmeField>;

/** LBA Format descriptors in the namespace page (NVMe 1.4 §5.15.2.1: LBAF0..LBAF15). */
export const LBA_FORMATS = 16;

/** The namespace-page fields readable through the page port, with the whole LBA format table. */
export const READABLE_NAMESPACE_FIELDS = {
  nsze: Ns.nsze,
  ncap: Ns.ncap,
  nsfeat: Ns.nsfeat,
  nlbaf: Ns.nlbaf,
  flbas: Ns.flbas,
  nawun: Ns.nawun,
  nawupf: Ns.nawupf,
  ...Object.fromEntries(Array.from({ length: LBA_FORMATS }, (_, i) => [`lbaf${i}`, lbaFormatField(i).whole])),
} as const satisfies Record<string, NvmeField>;

const POISONED_COUNT_BITS = 8;

if (IDENTIFY_BYTES !== CAPTURE_PAGE_BYTES) throw new RangeError(`identify capture: ${IDENTIFY_BYTES}-byte Identify pages are not the parser's ${CAPTURE_PAGE_BYTES}-byte pages`);

type IdentifyPage = "controller" | "namespace";

function capturedPages(p: IdentifyCaptureParams): CapturedPage<IdentifyPage>[] {
  return [
    { name: "controller", base: p.controllerBase, constantName: "CONTROLLER_PAGE", statusPage: "identifyController" },
    { name: "namespace", base: p.namespaceBase, constantName: "NAMESPACE_PAGE", statusPage: "identifyNamespace" },
  ];
}

const KEPT_RANGES: KeptRange<IdentifyPage>[] = [
  ...Object.values(READABLE_CONTROLLER_FIELDS).map((f) => fieldRange<IdentifyPage>("controller", f)),
  ...Object.values(READABLE_NAMESPACE_FIELDS).map((f) => fieldRange<IdentifyPage>("namespace", f)),
];

/** Cycles the memory sweep after `clear` (and after reset) holds writes back. */
export const IDENTIFY_SWEEP_CYCLES = keptMemoryDepth(capturedPages(defaultIdentifyCaptureParams), KEPT_RANGES);

/** The bytes of each page the page port shows (the readable fields' bytes and their neighbours in aligned blocks); others read 0. */
export const IDENTIFY_KEPT_BYTES = {
  controller: keptOffsets(capturedPages(defaultIdentifyCaptureParams), KEPT_RANGES, "controller"),
  namespace: keptOffsets(capturedPages(defaultIdentifyCaptureParams), KEPT_RANGES, "namespace"),
} as const;

function checkParams(p: IdentifyCaptureParams): void {
  checkCapturedPages("identify capture", [
    { name: "controllerBase", base: p.controllerBase },
    { name: "namespaceBase", base: p.namespaceBase },
  ]);
}

/**
 * Watches the SSD's memory writes into the Identify Controller and Identify Namespace pages and
 * keeps, as registers, the fields the controller works from (and the selected LBA format's LBADS
 * and MS); the fields the status port shows are read a byte at a time through `page_address`.
 */
export function identifyCapture(params: IdentifyCaptureParams = defaultIdentifyCaptureParams) {
  checkParams(params);
  const hex = (n: number) => n.toString(16);
  const m = new Module(`identify_capture_c${hex(params.controllerBase)}_n${hex(params.namespaceBase)}`);
  m.parameters({ controllerBase: `0x${hex(params.controllerBase)}`, namespaceBase: `0x${hex(params.namespaceBase)}` });

  const identify_write = m.port(receivedMemoryWrite, "slave");
  const identify_write_data = m.port(payloadStream, "slave");
  m.waiveUnread(identify_write.signals.length_dw, "the payload's tlast and tkeep delimit each write");
  m.waiveUnread(identify_write.signals.address, "a write starts at a DW: bits [1:0] are zero");
  /** A pulse: forget every field, zero the counter, sweep the memory (before a new bring-up). */
  const clear = m.input(1);
  /** {page (StatusPage: 0 controller, 1 namespace), byte offset}; other pages read 0. */
  const page_address = m.input(PAGE_ADDRESS_BITS);
  /** The byte at page_address, PAGE_READ_LATENCY cycles later (0 where nothing was written since clear, or not kept). */
  const page_data = m.output(8);
  /** A write is held or being parsed, or the memory is being swept: fields may still change. */
  const busy = m.output(1, { reset: 1 });
  /** Poisoned writes since clear (saturating); their data was ignored. */
  const poisoned_writes = m.output(POISONED_COUNT_BITS);
  /** At least one poisoned write since clear. */
  const poisoned_seen = m.output(1);
  /** LBADS (log2 of the data size) and MS (metadata bytes) of the LBA format FLBAS[3:0] selects. */
  const lbads = m.output(lbaFormatField(0).lbads.width);
  const ms = m.output(lbaFormatField(0).ms.width);
  /** NABO (the first atomic boundary's LBA) is not zero: only compared with zero, so a flip-flop per byte. */
  const nabo_set = m.output(1);

  const parser = pageFieldCapture(m, {
    pages: capturedPages(params),
    write: identify_write,
    data: identify_write_data,
    clear,
    kept: KEPT_RANGES,
  });
  const { keepField, keepNonZero } = parser;
  const kept = parser.kept!;

  const controllerFields = {} as Record<CapturedControllerField, Signal>;
  for (const [name, f] of Object.entries(CAPTURED_CONTROLLER_FIELDS) as [CapturedControllerField, NvmeField][]) {
    const port = m.output(f.width, { name });
    m.comb(port, keepField("controller", name, f));
    controllerFields[name] = port;
  }
  const namespaceFields = {} as Record<CapturedNamespaceField, Signal>;
  for (const [name, f] of Object.entries(CAPTURED_NAMESPACE_FIELDS) as [CapturedNamespaceField, NvmeField][]) {
    const port = m.output(f.width, { name });
    m.comb(port, keepField("namespace", name, f));
    namespaceFields[name] = port;
  }

  m.comb(nabo_set, keepNonZero("namespace", "nabo_set", Ns.nabo));

  // ---- the format FLBAS selects, read from the table in the memory every cycle ----
  // Two formats per quadword: the even one in lanes 0-3, the odd one in lanes 4-7; a format's MS is
  // its bytes 0-1, LBADS its byte 2.
  const lbaf0 = lbaFormatField(0);
  const firstQword = lbaf0.whole.offset / QWORD_BYTES;
  const formatsPerQword = QWORD_BYTES / lbaf0.whole.size;
  const selected_format = fieldOf(namespaceFields.flbas, Ns.flbas, Ns.flbasFormat);
  const table_slot = constant("LBA_FORMAT_TABLE_SLOT", kept.slotOf("namespace", firstQword), Math.log2(kept.depth));
  const format_qword = selected_format.bits(selected_format.width - 1, Math.log2(formatsPerQword));
  const msByte = lbaf0.ms.lsb / 8;
  const lbadsByte = lbaf0.lbads.lsb / 8;
  const formatBytes = [msByte, msByte + 1, lbadsByte];
  const formatLanes = [...formatBytes, ...formatBytes.map((k) => lbaf0.whole.size + k)];
  const format_lanes = kept.readSlot(table_slot.addWrap(format_qword.zext(table_slot.width)), formatLanes);
  const format_words: Record<number, Signal> = Object.fromEntries(formatLanes.map((lane, i) => [lane, format_lanes[i]]));
  const format_odd = m.signal(1, { resetless: true });
  m.sync(format_odd, selected_format.bit(0));
  // A decode of registers: the memory's read registers and the format's half, read together.
  const formatByte = (k: number) => mux(format_odd, format_words[lbaf0.whole.size + k], format_words[k]);
  m.comb(lbads, formatByte(lbadsByte));
  m.comb(ms, cat(formatByte(msByte + 1), formatByte(msByte)));

  // ---- the page read port ----
  m.comb(page_data, kept.readByte(page_address));

  // ---- poisoned writes ----
  const poisoned_max = constant("POISONED_COUNT_MAX", 2 ** POISONED_COUNT_BITS - 1, POISONED_COUNT_BITS);
  const count_poisoned = parser.poisoned_header;
  m.If(clear, () => {
    m.sync(poisoned_writes, 0);
    m.sync(poisoned_seen, 0);
  }).Elif(count_poisoned, () => {
    m.sync(poisoned_seen, 1);
    m.If(poisoned_writes.ne(poisoned_max), () => m.sync(poisoned_writes, poisoned_writes.addWrap(1)));
  });

  m.sync(busy, parser.pending.or(clear));

  return m.exposing({
    identify_write,
    identify_write_data,
    clear,
    page_address,
    page_data,
    busy,
    poisoned_writes,
    poisoned_seen,
    lbads,
    ms,
    nabo_set,
    controller: controllerFields,
    namespace: namespaceFields,
  });
}

/** Bits of `unitValue` (the value of f's whole unit, `unit`) that make field `f`. */
function fieldOf(unitValue: Signal, unit: NvmeField, f: NvmeField) {
  if (f.offset !== unit.offset) throw new RangeError(`field at byte ${f.offset} is not part of the unit at byte ${unit.offset}`);
  return unitValue.bits(f.msb - unit.lsb, f.lsb - unit.lsb);
}
