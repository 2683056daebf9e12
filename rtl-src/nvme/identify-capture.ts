// Parses the Identify Controller and Identify Namespace pages on the fly, as the SSD writes them into
// their two regions of the virtual host memory (rtl-src/hostmem/host-memory-map.ts): nothing stores
// a page; the fields the controller needs are kept in registers as their bytes pass, and the first
// 128 bytes of the controller page (VID, SSVID, SN, MN, FR and their neighbours) in a small memory
// the status port reads byte by byte.
//
// The writes are parsed by page-field-capture.ts (shared with smart_log_capture): any number of
// writes per page, in any order, at any DW, with byte enables on their ends; a header that comes no
// later than its payload's first beat meets no back-pressure. The only other back-pressure here is
// the 16 cycles after `clear` (and after reset) while the string memory is swept to zero. Nothing
// depends on the order of the writes: the LBA format table is kept for all 16 formats (LBADS and MS
// of each, 3 bytes) and the format FLBAS selects is chosen from it every cycle, so FLBAS may arrive
// before or after its table.
//
// Poisoned writes (EP set) are consumed, their data ignored, and counted. Writes outside both
// pages (a router never forwards them) are consumed and ignored. `clear` empties every field and
// the counter at once, and sweeps the string memory; a write under way at that moment goes on, and
// what it writes after the clear is kept.
import { C, Module, type Signal, type Value, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField as Ctrl, IdentifyNamespaceField as Ns, lbaFormatField } from "./nvme-identify.ts";
import { CAPTURE_PAGE_BYTES, PAGE_QWORD_BITS, QWORD_BYTES, checkCapturedPages, pageFieldCapture } from "./page-field-capture.ts";

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

/** The controller-page fields kept in registers, each an output port of the same name and width. */
export const CAPTURED_CONTROLLER_FIELDS = {
  vid: Ctrl.vid,
  ssvid: Ctrl.ssvid,
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

/**
 * The namespace-page fields kept in registers. NSZE and NCAP keep all 64 bits: 128 flip-flops, and
 * the status port reports what the SSD said, not a truncation of it.
 */
export const CAPTURED_NAMESPACE_FIELDS = {
  nsze: Ns.nsze,
  ncap: Ns.ncap,
  nsfeat: Ns.nsfeat,
  nlbaf: Ns.nlbaf,
  flbas: Ns.flbas,
  nawun: Ns.nawun,
  nawupf: Ns.nawupf,
} as const satisfies Record<string, NvmeField>;

export type CapturedControllerField = keyof typeof CAPTURED_CONTROLLER_FIELDS;
export type CapturedNamespaceField = keyof typeof CAPTURED_NAMESPACE_FIELDS;

/** LBA Format descriptors in the namespace page (NVMe 1.4 §5.15.2.1: LBAF0..LBAF15). */
export const LBA_FORMATS = 16;
/** The string memory holds the controller page's first STRING_BYTES bytes (SN, MN and FR end at byte 72). */
export const STRING_BYTES = 128;
const STRING_QWORDS = STRING_BYTES / QWORD_BYTES;
/** string_data shows the byte at string_address this many cycles later (memory read, then lane select). */
export const STRING_READ_LATENCY = 2;
const POISONED_COUNT_BITS = 8;

for (const f of [Ctrl.sn, Ctrl.mn, Ctrl.fr]) {
  if (f.offset + f.size > STRING_BYTES) throw new RangeError(`identify capture: string field at ${f.offset}+${f.size} lies beyond the ${STRING_BYTES}-byte string memory`);
}

if (IDENTIFY_BYTES !== CAPTURE_PAGE_BYTES) throw new RangeError(`identify capture: ${IDENTIFY_BYTES}-byte Identify pages are not the parser's ${CAPTURE_PAGE_BYTES}-byte pages`);

function checkParams(p: IdentifyCaptureParams): void {
  checkCapturedPages("identify capture", [
    { name: "controllerBase", base: p.controllerBase },
    { name: "namespaceBase", base: p.namespaceBase },
  ]);
}

/**
 * Watches the SSD's memory writes into the Identify Controller and Identify Namespace pages and
 * keeps, as registers, the fields the controller needs (and the selected LBA format's LBADS and
 * MS), with the controller page's first 128 bytes (the ASCII strings) readable through a small
 * read port.
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
  /** A pulse: forget every field, zero the counter, sweep the string memory (before a new bring-up). */
  const clear = m.input(1);
  /** Byte offset in the Identify Controller page, 0..127 (SN at 4, MN at 24, FR at 64). */
  const string_address = m.input(Math.log2(STRING_BYTES));
  /** The byte at string_address, STRING_READ_LATENCY cycles later (0 where nothing was written since clear). */
  const string_data = m.output(8);
  /** A write is held or being parsed, or the string memory is being swept: fields may still change. */
  const busy = m.output(1, { reset: 1 });
  /** Poisoned writes since clear (saturating); their data was ignored. */
  const poisoned_writes = m.output(POISONED_COUNT_BITS);
  /** At least one poisoned write since clear. */
  const poisoned_seen = m.output(1);
  /** LBADS (log2 of the data size) and MS (metadata bytes) of the LBA format FLBAS[3:0] selects. */
  const lbads = m.output(lbaFormatField(0).lbads.width);
  const ms = m.output(lbaFormatField(0).ms.width);

  // The string memory's sweep after clear holds the payload back (declared first: the parser reads it).
  const sweeping = m.signal(1, { reset: 1 });
  const sweep_address = m.signal(Math.log2(STRING_QWORDS));
  const parser = pageFieldCapture(m, {
    pages: [
      { name: "controller", base: params.controllerBase, constantName: "CONTROLLER_PAGE" },
      { name: "namespace", base: params.namespaceBase, constantName: "NAMESPACE_PAGE" },
    ],
    write: identify_write,
    data: identify_write_data,
    clear,
    hold: sweeping,
  });
  const { b_data, b_be, b_even_qword, b_odd_qword, keepField } = parser;
  const b_controller_valid = parser.pageValid.controller;

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

  // ---- the LBA format table, and the format FLBAS selects (re-chosen every cycle) ----
  const formats = Array.from({ length: LBA_FORMATS }, (_, i) => {
    const lbaf = lbaFormatField(i);
    return { lbads: keepField("namespace", `lbaf${i}_lbads`, lbaf.lbads), ms: keepField("namespace", `lbaf${i}_ms`, lbaf.ms) };
  });
  const flbasFormat = Ns.flbasFormat;
  const selected_format = namespaceFields.flbas.bits(flbasFormat.msb - Ns.flbas.lsb, flbasFormat.lsb - Ns.flbas.lsb);
  m.Switch(selected_format, (s) => {
    formats.forEach((format, i) =>
      s.Case(i, () => {
        m.sync(lbads, format.lbads);
        m.sync(ms, format.ms);
      }),
    );
  });

  // ---- the string memory: a byte-wide memory per lane (a byte enable each), quadwords 0..15 ----
  const sweep_last = constant("STRING_SWEEP_LAST", STRING_QWORDS - 1, sweep_address.width);
  m.If(clear, () => {
    m.sync(sweeping, 1);
    m.sync(sweep_address, 0);
  }).Elif(sweeping, () => {
    m.sync(sweep_address, sweep_address.addWrap(1));
    m.If(sweep_address.eq(sweep_last), () => m.sync(sweeping, 0));
  });
  const read_qword = string_address.bits(string_address.width - 1, 3);
  const read_lane = m.signal(3, { resetless: true });
  m.sync(read_lane, string_address.bits(2, 0));
  const lane_words: Value[] = [];
  for (let lane = 0; lane < QWORD_BYTES; lane++) {
    const memory = m.memory({ width: 8, depth: STRING_QWORDS, name: `string_lane${lane}` });
    const index = lane < 4 ? b_even_qword : b_odd_qword;
    const in_strings = index.bits(PAGE_QWORD_BITS - 1, Math.log2(STRING_QWORDS)).eq(0);
    const write = b_controller_valid.and(b_be.bit(lane)).and(in_strings);
    memory.writePort({
      addr: mux(sweeping, sweep_address, index.bits(Math.log2(STRING_QWORDS) - 1, 0)),
      data: mux(sweeping, C(0, 8), b_data.bits(8 * lane + 7, 8 * lane)),
      en: sweeping.or(write),
    });
    lane_words.push(memory.readPort({ addr: read_qword, en: 1 }).data);
  }
  m.Switch(read_lane, (s) => lane_words.forEach((word, lane) => s.Case(lane, () => m.sync(string_data, word))));

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

  m.sync(busy, parser.pending.or(sweeping).or(clear));

  return m.exposing({
    identify_write,
    identify_write_data,
    clear,
    string_address,
    string_data,
    busy,
    poisoned_writes,
    poisoned_seen,
    lbads,
    ms,
    controller: controllerFields,
    namespace: namespaceFields,
  });
}
