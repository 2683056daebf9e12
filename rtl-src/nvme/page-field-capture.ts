// Inline logic for identify_capture and smart_log_capture; builds no module.
//
// Keeps fields of 4 KiB pages of the virtual host memory (rtl-src/hostmem/host-memory-map.ts) as
// the SSD writes them: nothing stores a page; each field byte the caller asks for is a register,
// written as its byte passes.
//
// Input: the SSD's memory writes as the TLP layer hands them out (`receivedMemoryWrite` header +
// `payloadStream` payload, the first payload DW being the one at the header's DW address, in
// [31:0]). A page may come in any number of writes, in any order, each starting at any DW and with
// byte enables on its first and last DW; a byte is kept when its write covers it with its byte
// enable set, so a page written in pieces that meet inside a DW comes out whole.
//
// Flow: a header is taken into a two-entry queue (the write being parsed and the next), so a header
// can be taken while the previous write's payload streams; the payload goes through a register
// slice and is consumed while its header is the one being parsed. A header that comes no later
// than its payload's first beat (as a router that decides by the address forwards them) meets no
// back-pressure at all: the payload moves at 8 bytes a cycle, back to back across writes. A payload
// that comes before its header waits for it in the slice. The caller may hold beats back (`hold`).
//
// Each payload beat is turned into "quadword order" in one register stage (stage B): the DW at an
// even address in byte lanes 0-3, the odd one in lanes 4-7, each lane with its byte enable and its
// half's quadword index in the page (a write starting at an odd DW spans two quadwords per beat).
// A field byte at page offset o is then written from lane o mod 8 when that half's index equals
// o div 8: a 9-bit compare with a constant per quadword used, no shifter.
//
// Poisoned writes (EP set) are consumed and their data ignored (the caller counts them from
// `poisoned_header`). Writes outside every page (a router never forwards them) are consumed and
// ignored. A beat taken in the cycle of `clear` is dropped: the caller zeroes its fields then.
import { C, type Bundle, type FieldOf, type Module, type Signal, type Value, cat, constant, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { KEEP_BOTH_DW } from "../lib/stream-payload.ts";
import type { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";

/** The unit pages are parsed in: one 4 KiB host page. */
export const CAPTURE_PAGE_BYTES = 4096;
/** Bytes per 64-bit payload beat. */
export const QWORD_BYTES = 8;
/** Bits of a quadword index in a page. */
export const PAGE_QWORD_BITS = Math.log2(CAPTURE_PAGE_BYTES / QWORD_BYTES);

export interface CapturedPage<P extends string> {
  /** Names the page's registers (`cur_<name>`, `b_<name>`, `<name>_qw<n>_<half>_hit`). */
  name: P;
  /** Its address: CAPTURE_PAGE_BYTES-aligned, below 4 GiB. */
  base: number;
  /** The name of the page number constant in the Verilog. */
  constantName: string;
}

export interface PageFieldCaptureOptions<P extends string> {
  /** The pages parsed; writes elsewhere are consumed and ignored. */
  pages: readonly CapturedPage<P>[];
  /** The header port (slave) and the payload port (slave) of the module. */
  write: Bundle<FieldOf<typeof receivedMemoryWrite>>;
  data: Bundle<FieldOf<typeof payloadStream>>;
  /** 1: forget what is being written (beats taken now are dropped). */
  clear: Value;
  /** Beats wait while it is 1 (omit for never). */
  hold?: Value;
}

export interface PageFieldCapture<P extends string> {
  /** 1 in the cycle a poisoned write's header is taken. */
  poisoned_header: Value;
  /** The quadword-ordered beat (stage B), for callers that keep more than fields (identify's strings). */
  b_data: Signal;
  b_be: Signal;
  b_even_qword: Signal;
  b_odd_qword: Signal;
  /** Stage B holds a beat of this page to apply. */
  pageValid: Record<P, Signal>;
  /** A write is held or being parsed, or a beat waits to be applied. */
  pending: Value;
  /**
   * A register per byte of `f` (a field of page `page`), named `<name>_byte<k>`, zeroed by `clear`;
   * returns the field's bits.
   */
  keepField: (page: P, name: string, f: NvmeField) => Value;
}

/** Checks that each page is CAPTURE_PAGE_BYTES-aligned below 4 GiB, and that no two are the same. */
export function checkCapturedPages(who: string, pages: readonly { name: string; base: number }[]): void {
  for (const { name, base } of pages) {
    if (!Number.isInteger(base) || base < 0 || base % CAPTURE_PAGE_BYTES !== 0 || base + CAPTURE_PAGE_BYTES > 2 ** 32) {
      throw new RangeError(`${who}: ${name} = 0x${Number(base).toString(16)} is not a ${CAPTURE_PAGE_BYTES}-byte aligned page below 4 GiB`);
    }
  }
  for (let i = 0; i < pages.length; i++) {
    for (let j = i + 1; j < pages.length; j++) {
      if (pages[i].base === pages[j].base) throw new RangeError(`${who}: ${pages[i].name} and ${pages[j].name} are both 0x${pages[i].base.toString(16)}`);
    }
  }
}

/** The whole-byte span of a field inside its unit: the bytes that hold bits lsb..msb. */
function byteSpan(f: NvmeField): { first: number; last: number } {
  return { first: f.lsb >> 3, last: f.msb >> 3 };
}

/** Parses the writes into `pages` and returns what the caller builds its fields from. */
export function pageFieldCapture<P extends string>(m: Module, o: PageFieldCaptureOptions<P>): PageFieldCapture<P> {
  if (o.pages.length === 0) throw new RangeError("pageFieldCapture: no pages");
  checkCapturedPages("pageFieldCapture", o.pages.map((p) => ({ name: p.name, base: p.base })));
  const { clear } = o;
  const pageNumbers = o.pages.map((p) => constant(p.constantName, p.base / CAPTURE_PAGE_BYTES, 52));
  const full_be = constant("ALL_BYTES", 0xf, 4);

  // ---- headers: the write being parsed (cur_*) and the next one (next_*) ----
  const header = o.write.signals;
  const header_ready = m.signal(1, { reset: 1 });
  m.comb(header.ready, header_ready);
  const header_fire = header.valid.and(header_ready);
  // What the parser keeps of a header: the page it falls in, where its first DW lies, its byte enables.
  const in_page = header.address.bits(63, 12);
  const in_pages = pageNumbers.map((n, i) => {
    const hit = m.signal(1, { name: `in_${o.pages[i].name}` });
    m.comb(hit, in_page.eq(n));
    return hit;
  });
  const in_qword = header.address.bits(11, 3);
  const in_odd = header.address.bit(2);
  /** Quadword of the even DW (lanes 0-3) of the first beat: the next one when the write starts at an odd DW. */
  const in_even_qword = in_qword.addWrap(in_odd.zext(PAGE_QWORD_BITS));

  interface HeaderSlot {
    valid: Signal;
    pages: Signal[];
    poisoned: Signal;
    odd: Signal;
    even_qword: Signal;
    odd_qword: Signal;
    first_be: Signal;
    last_be: Signal;
  }
  const slot = (prefix: string): HeaderSlot => ({
    valid: m.signal(1, { name: `${prefix}_valid` }),
    pages: o.pages.map((p) => m.signal(1, { name: `${prefix}_${p.name}` })),
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

  // ---- payload: a register slice, consumed while its header is current and nothing holds it ----
  const payload_slice = m.instance(axisSkidBuffer({ dataWidth: 64 }));
  m.connect(o.data, payload_slice.ports.s_axis);
  const beat = payload_slice.ports.m_axis.signals;
  const { hold } = o;
  const take_beat = m.signal(1);
  m.comb(take_beat, hold === undefined ? cur.valid : cur.valid.and(hold.not()));
  m.comb(beat.tready, take_beat);
  const beat_fire = beat.tvalid.and(take_beat);
  const cur_done = beat_fire.and(beat.tlast);
  const cur_free = cur.valid.not().or(cur_done);

  const loadSlot = (target: HeaderSlot, fromNext: boolean) => {
    const pick = (a: Value, b: Value) => (fromNext ? a : b);
    m.sync(target.valid, 1);
    target.pages.forEach((flag, i) => m.sync(flag, pick(next.pages[i], in_pages[i])));
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
  // Which page the beat belongs to: a bit per page after the first (the first is "none of them").
  const b_pages = o.pages.slice(1).map((p) => m.signal(1, { name: `b_${p.name}` }));
  const b_data = m.signal(64, { resetless: true });
  const b_be = m.signal(8, { resetless: true });
  const b_even_qword = m.signal(PAGE_QWORD_BITS, { resetless: true });
  const b_odd_qword = m.signal(PAGE_QWORD_BITS, { resetless: true });
  const in_any_page = cur.pages.slice(1).reduce((a: Value, b) => a.or(b), cur.pages[0] as Value);
  m.sync(b_valid, beat_fire.and(in_any_page).and(cur.poisoned.not()).and(clear.not()));
  b_pages.forEach((flag, i) => m.sync(flag, cur.pages[i + 1]));
  m.sync(b_data, mux(cur.odd, cat(low_dw, high_dw), beat.tdata));
  m.sync(b_be, mux(cur.odd, cat(low_be, high_be), cat(high_be, low_be)));
  m.sync(b_even_qword, cur.even_qword);
  m.sync(b_odd_qword, cur.odd_qword);

  const pageValid = {} as Record<P, Signal>;
  o.pages.forEach((p, i) => {
    const valid = m.signal(1, { name: `b_${p.name}_valid` });
    if (i === 0) m.comb(valid, b_pages.reduce((v: Value, flag) => v.and(flag.not()), b_valid));
    else m.comb(valid, b_valid.and(b_pages[i - 1]));
    pageValid[p.name] = valid;
  });

  // One decode per (page, half, quadword) a kept byte lies in.
  const hits = new Map<string, Signal>();
  const qwordHit = (page: P, lane: number, qword: number): Signal => {
    const half = lane < 4 ? "even" : "odd";
    const key = `${page}_qw${qword}_${half}`;
    let hit = hits.get(key);
    if (!hit) {
      hit = m.signal(1, { name: `${key}_hit` });
      const index = half === "even" ? b_even_qword : b_odd_qword;
      m.comb(hit, pageValid[page].and(index.eq(qword)));
      hits.set(key, hit);
    }
    return hit;
  };

  const keepField = (page: P, name: string, f: NvmeField): Value => {
    const { first, last } = byteSpan(f);
    if (f.offset + last >= CAPTURE_PAGE_BYTES) throw new RangeError(`pageFieldCapture: field ${name} at ${f.offset}+${f.size} lies beyond the page`);
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

  return {
    poisoned_header: header_fire.and(header.poisoned),
    b_data,
    b_be,
    b_even_qword,
    b_odd_qword,
    pageValid,
    pending: cur.valid.or(next.valid).or(beat.tvalid).or(b_valid),
    keepField,
  };
}
