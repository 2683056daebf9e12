// Parses the Identify Controller and Identify Namespace pages on the fly, as the SSD writes them into
// their two regions of the virtual host memory (rtl-src/hostmem/host-memory-map.ts): nothing stores
// a page; the fields the controller needs are kept in registers as their bytes pass, and the first
// 128 bytes of the controller page (VID, SSVID, SN, MN, FR and their neighbours) in a small memory
// the status port reads byte by byte.
//
// Input: the SSD's memory writes as the TLP layer hands them out (`receivedMemoryWrite` header +
// `payloadStream` payload, the first payload DW being the one at the header's DW address, in
// [31:0]). A page may come in any number of writes, in any order, each starting at any DW and with
// byte enables on its first and last DW; a byte is kept when its write covers it with its byte
// enable set, so a page written in pieces that meet inside a DW comes out whole. Nothing depends on
// the order of the writes: the LBA format table is kept for all 16 formats (LBADS and MS of each,
// 3 bytes) and the format FLBAS selects is chosen from it every cycle, so FLBAS may arrive before or
// after its table.
//
// Flow: a header is taken into a two-entry queue (the write being parsed and the next), so a header
// can be taken while the previous write's payload streams; the payload goes through a register
// slice and is consumed while its header is the one being parsed. A header that comes no later
// than its payload's first beat (as a router that decides by the address forwards them) meets no
// back-pressure at all: the payload moves at 8 bytes a cycle, back to back across writes. A payload
// that comes before its header waits for it in the slice. The only other back-pressure is the
// 16 cycles after `clear` (and after reset) while the string memory is swept to zero.
//
// Each payload beat is turned into "quadword order" in one register stage: the DW at an even
// address in byte lanes 0-3, the odd one in lanes 4-7, each lane with its byte enable and its
// half's quadword index in the page (a write starting at an odd DW spans two quadwords per beat).
// A field byte at page offset o is then written from lane o mod 8 when that half's index equals
// o div 8: a 9-bit compare with a constant per quadword used, no shifter.
//
// Poisoned writes (EP set) are consumed, their data ignored, and counted. Writes outside both
// pages (a router never forwards them) are consumed and ignored. `clear` empties every field and
// the counter at once, and sweeps the string memory; a write under way at that moment goes on, and
// what it writes after the clear is kept.
import { C, Module, type Signal, type Value, cat, constant, mux } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { KEEP_BOTH_DW } from "../lib/stream-payload.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField as Ctrl, IdentifyNamespaceField as Ns, lbaFormatField } from "./nvme-identify.ts";

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
/** Bytes per 64-bit payload beat: the unit the page is parsed in. */
const QWORD_BYTES = 8;
/** The string memory holds the controller page's first STRING_BYTES bytes (SN, MN and FR end at byte 72). */
export const STRING_BYTES = 128;
const STRING_QWORDS = STRING_BYTES / QWORD_BYTES;
/** string_data shows the byte at string_address this many cycles later (memory read, then lane select). */
export const STRING_READ_LATENCY = 2;
const PAGE_QWORD_BITS = Math.log2(IDENTIFY_BYTES / QWORD_BYTES);
const POISONED_COUNT_BITS = 8;

for (const f of [Ctrl.sn, Ctrl.mn, Ctrl.fr]) {
  if (f.offset + f.size > STRING_BYTES) throw new RangeError(`identify capture: string field at ${f.offset}+${f.size} lies beyond the ${STRING_BYTES}-byte string memory`);
}

function checkParams(p: IdentifyCaptureParams): void {
  for (const [name, base] of Object.entries(p)) {
    if (!Number.isInteger(base) || base < 0 || base % IDENTIFY_BYTES !== 0 || base + IDENTIFY_BYTES > 2 ** 32) {
      throw new RangeError(`identify capture: ${name} = 0x${Number(base).toString(16)} is not a ${IDENTIFY_BYTES}-byte aligned page below 4 GiB`);
    }
  }
  if (p.controllerBase === p.namespaceBase) throw new RangeError(`identify capture: controllerBase and namespaceBase are both 0x${p.controllerBase.toString(16)}`);
}

/** The whole-byte span of a field inside its unit: the bytes that hold bits lsb..msb. */
function byteSpan(f: NvmeField): { first: number; last: number } {
  return { first: f.lsb >> 3, last: f.msb >> 3 };
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

  const controller_page = constant("CONTROLLER_PAGE", params.controllerBase / IDENTIFY_BYTES, 52);
  const namespace_page = constant("NAMESPACE_PAGE", params.namespaceBase / IDENTIFY_BYTES, 52);
  const full_be = constant("ALL_BYTES", 0xf, 4);

  // ---- headers: the write being parsed (cur_*) and the next one (next_*) ----
  const header = identify_write.signals;
  const header_ready = m.signal(1, { reset: 1 });
  m.comb(header.ready, header_ready);
  const header_fire = header.valid.and(header_ready);
  // What the parser keeps of a header: the page it falls in, where its first DW lies, its byte enables.
  const in_page = header.address.bits(63, 12);
  const in_controller = in_page.eq(controller_page);
  const in_namespace = in_page.eq(namespace_page);
  const in_qword = header.address.bits(11, 3);
  const in_odd = header.address.bit(2);
  /** Quadword of the even DW (lanes 0-3) of the first beat: the next one when the write starts at an odd DW. */
  const in_even_qword = in_qword.addWrap(in_odd.zext(PAGE_QWORD_BITS));

  interface HeaderSlot {
    valid: Signal;
    controller: Signal;
    namespace: Signal;
    poisoned: Signal;
    odd: Signal;
    even_qword: Signal;
    odd_qword: Signal;
    first_be: Signal;
    last_be: Signal;
  }
  const slot = (prefix: string): HeaderSlot => ({
    valid: m.signal(1, { name: `${prefix}_valid` }),
    controller: m.signal(1, { name: `${prefix}_controller` }),
    namespace: m.signal(1, { name: `${prefix}_namespace` }),
    poisoned: m.signal(1, { name: `${prefix}_poisoned` }),
    odd: m.signal(1, { name: `${prefix}_odd`, resetless: true }),
    even_qword: m.signal(PAGE_QWORD_BITS, { name: `${prefix}_even_qword`, resetless: true }),
    odd_qword: m.signal(PAGE_QWORD_BITS, { name: `${prefix}_odd_qword`, resetless: true }),
    first_be: m.signal(4, { name: `${prefix}_first_be`, resetless: true }),
    last_be: m.signal(4, { name: `${prefix}_last_be`, resetless: true }),
  });
  const cur = slot("cur");
  const next = slot("next");
  /** The current write's next beat is its first. */
  const cur_first_beat = m.signal(1);

  // ---- payload: a register slice, consumed while its header is current and no sweep runs ----
  const payload_slice = m.instance(axisSkidBuffer({ dataWidth: 64 }));
  m.connect(identify_write_data, payload_slice.ports.s_axis);
  const beat = payload_slice.ports.m_axis.signals;
  const sweeping = m.signal(1, { reset: 1 });
  const sweep_address = m.signal(Math.log2(STRING_QWORDS));
  const take_beat = m.signal(1);
  m.comb(take_beat, cur.valid.and(sweeping.not()));
  m.comb(beat.tready, take_beat);
  const beat_fire = beat.tvalid.and(take_beat);
  const cur_done = beat_fire.and(beat.tlast);
  const cur_free = cur.valid.not().or(cur_done);

  const loadSlot = (target: HeaderSlot, fromNext: boolean) => {
    const pick = (a: Value, b: Value) => (fromNext ? a : b);
    m.sync(target.valid, 1);
    m.sync(target.controller, pick(next.controller, in_controller));
    m.sync(target.namespace, pick(next.namespace, in_namespace));
    m.sync(target.poisoned, pick(next.poisoned, header.poisoned));
    m.sync(target.odd, pick(next.odd, in_odd));
    m.sync(target.even_qword, pick(next.even_qword, in_even_qword));
    m.sync(target.odd_qword, pick(next.odd_qword, in_qword));
    m.sync(target.first_be, pick(next.first_be, header.first_be));
    m.sync(target.last_be, pick(next.last_be, header.last_be));
  };
  // The current slot takes the queued header, else the incoming one, when its write ends (or it is empty).
  m.If(cur_free, () => {
    m.If(next.valid, () => {
      loadSlot(cur, true);
      m.sync(cur_first_beat, 1);
    })
      .Elif(header_fire, () => {
        loadSlot(cur, false);
        m.sync(cur_first_beat, 1);
      })
      .Else(() => m.sync(cur.valid, 0));
  }).Elif(beat_fire, () => {
    m.sync(cur.even_qword, cur.even_qword.addWrap(1));
    m.sync(cur.odd_qword, cur.odd_qword.addWrap(1));
    m.sync(cur_first_beat, 0);
  });
  // The queued slot fills when a header comes while the current write goes on; header_ready is
  // low while it is full (a header is taken only into a free slot).
  const next_valid_after = cur_free.not().and(next.valid.or(header_fire));
  m.If(cur_free.not().and(header_fire), () => loadSlot(next, false)).Else(() => m.sync(next.valid, next_valid_after));
  m.sync(header_ready, next_valid_after.not());

  // ---- stage B: the beat in quadword order with its byte enables (registered) ----
  const low_dw = beat.tdata.bits(31, 0);
  const high_dw = beat.tdata.bits(63, 32);
  /** tkeep is DW-granular: 0xFF, or 0x0F on a last beat that carries one DW. */
  const has_high = beat.tkeep.eq(KEEP_BOTH_DW);
  /** Byte enables of the beat's first and second DW (the write's first DW: first_be; its last: last_be). */
  const low_be = mux(cur_first_beat, cur.first_be, mux(beat.tlast.and(has_high.not()), cur.last_be, full_be));
  const high_be = mux(has_high, mux(beat.tlast, cur.last_be, full_be), C(0, 4));
  const b_valid = m.signal(1);
  const b_namespace = m.signal(1);
  const b_data = m.signal(64, { resetless: true });
  const b_be = m.signal(8, { resetless: true });
  const b_even_qword = m.signal(PAGE_QWORD_BITS, { resetless: true });
  const b_odd_qword = m.signal(PAGE_QWORD_BITS, { resetless: true });
  m.sync(b_valid, beat_fire.and(cur.controller.or(cur.namespace)).and(cur.poisoned.not()).and(clear.not()));
  m.sync(b_namespace, cur.namespace);
  m.sync(b_data, mux(cur.odd, cat(low_dw, high_dw), beat.tdata));
  m.sync(b_be, mux(cur.odd, cat(low_be, high_be), cat(high_be, low_be)));
  m.sync(b_even_qword, cur.even_qword);
  m.sync(b_odd_qword, cur.odd_qword);

  const b_controller_valid = m.signal(1);
  const b_namespace_valid = m.signal(1);
  m.comb(b_controller_valid, b_valid.and(b_namespace.not()));
  m.comb(b_namespace_valid, b_valid.and(b_namespace));

  // One decode per (page, half, quadword) a kept byte lies in.
  const hits = new Map<string, Signal>();
  const qwordHit = (page: "controller" | "namespace", lane: number, qword: number): Signal => {
    const half = lane < 4 ? "even" : "odd";
    const key = `${page}_qw${qword}_${half}`;
    let hit = hits.get(key);
    if (!hit) {
      hit = m.signal(1, { name: `${key}_hit` });
      const index = half === "even" ? b_even_qword : b_odd_qword;
      m.comb(hit, (page === "controller" ? b_controller_valid : b_namespace_valid).and(index.eq(qword)));
      hits.set(key, hit);
    }
    return hit;
  };

  /** A register per kept byte of `f` (a field of its page); returns the field's bits. */
  const keepField = (page: "controller" | "namespace", name: string, f: NvmeField): Value => {
    const { first, last } = byteSpan(f);
    const bytes: Signal[] = [];
    for (let k = first; k <= last; k++) {
      const offset = f.offset + k;
      const lane = offset % QWORD_BYTES;
      const byte = m.signal(8, { name: `${name}_byte${k}` });
      const write = qwordHit(page, lane, Math.floor(offset / QWORD_BYTES)).and(b_be.bit(lane));
      m.If(clear, () => m.sync(byte, 0)).Elif(write, () => m.sync(byte, b_data.bits(8 * lane + 7, 8 * lane)));
      bytes.push(byte);
    }
    const unit = cat(...[...bytes].reverse());
    return unit.bits(f.msb - 8 * first, f.lsb - 8 * first);
  };

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
  const count_poisoned = header_fire.and(header.poisoned);
  m.If(clear, () => {
    m.sync(poisoned_writes, 0);
    m.sync(poisoned_seen, 0);
  }).Elif(count_poisoned, () => {
    m.sync(poisoned_seen, 1);
    m.If(poisoned_writes.ne(poisoned_max), () => m.sync(poisoned_writes, poisoned_writes.addWrap(1)));
  });

  m.sync(busy, cur.valid.or(next.valid).or(beat.tvalid).or(b_valid).or(sweeping).or(clear));

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
