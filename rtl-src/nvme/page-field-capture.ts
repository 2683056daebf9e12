// Inline logic for identify_capture and smart_log_capture; builds no module.
//
// Keeps bytes of 4 KiB pages of the virtual host memory (rtl-src/hostmem/host-memory-map.ts) as
// the SSD writes them: nothing stores a page. Two ways to keep a byte, both written as the byte
// passes:
//  - in a register (`keepField`): for the fields the hardware itself works from (a register per
//    field byte, always readable);
//  - in the kept-bytes memory (`kept`): whole quadwords of the page, listed by the caller, in a small
//    distributed RAM of eight byte lanes (a lane per byte, so byte enables are honoured), read a
//    byte at a time through the page read port (`readByte`) or a quadword at a time (`readSlot`).
//    This is where the fields for the status port live (strings, Identify fields, the SMART page):
//    a few LUTs of RAM instead of a flip-flop per bit.
//
// Input: the SSD's memory writes as the TLP layer hands them out (`receivedMemoryWrite` header +
// `payloadStream` payload, the first payload DW being the one at the header's DW address, in
// [31:0]). A page may come in any number of writes, in any order, each starting at any DW and with
// byte enables on its first and last DW; a byte is kept when its write covers it with its byte
// enable set, so a page written in pieces that meet inside a DW comes out whole.
//
// Flow: a header is taken into a two-entry queue (the write being parsed and the next), so a header
// can be taken while the previous write's payload streams; a payload beat is consumed while its
// header is the one being parsed (its tready is a decode of registers: that header is there and
// nothing holds it). A header that comes before its payload's first beat meets no back-pressure:
// the payload moves at 8 bytes a cycle, back to back across writes; one that comes with it (as a
// router that decides by the address forwards them) costs the payload one cycle per write (the
// header is taken first). A payload that comes before its header waits for it at its source (the
// router's register slice). There is no buffer here: the writes that come this way are the
// bring-up's Identify pages and the SMART log, never the data path. The caller may hold beats back
// (`hold`); the kept-bytes memory holds them while it is swept to zero after `clear` (and after
// reset).
//
// A beat is applied as it is taken, in "quadword order": the DW at an even address in byte lanes
// 0-3, the odd one in lanes 4-7, each lane with its byte enable and its half's quadword index in the
// page (a write starting at an odd DW spans two quadwords per beat; the indexes are the current
// write's registers). A field byte at page offset o is written from lane o mod 8 when that half's
// index equals o div 8: a 9-bit compare with a constant per quadword used, no shifter. The memory's
// lanes 0-3 are written at the slot of the even half's quadword, lanes 4-7 at the odd half's.
//
// Poisoned writes (EP set) are consumed and their data ignored (the caller counts them from
// `poisoned_header`). Writes outside every page (a router never forwards them) are consumed and
// ignored. A beat taken in the cycle of `clear` is dropped: the caller zeroes its fields then.
import { C, type Bundle, type FieldOf, type Module, type Signal, type Value, addressBits, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { KEEP_BOTH_DW } from "../lib/stream-payload.ts";
import type { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { NvmeField } from "./nvme-field.ts";

/** The unit pages are parsed in: one 4 KiB host page. */
export const CAPTURE_PAGE_BYTES = 4096;
/** Bytes per 64-bit payload beat. */
export const QWORD_BYTES = 8;
/** Bits of a quadword index in a page. */
export const PAGE_QWORD_BITS = Math.log2(CAPTURE_PAGE_BYTES / QWORD_BYTES);

/**
 * The page read port of the controller's status port: `page_address` = {page number, byte offset
 * in the page}, `page_data` the byte there PAGE_READ_LATENCY cycles later (0 for a byte that is not
 * kept, or not written since the last clear). The page numbers:
 */
export const StatusPage = { identifyController: 0, identifyNamespace: 1, smartLog: 2, errorLog: 3 } as const;
export type StatusPageName = keyof typeof StatusPage;
const STATUS_PAGE_BITS = 2;
const PAGE_OFFSET_BITS = Math.log2(CAPTURE_PAGE_BYTES);
export const PAGE_ADDRESS_BITS = STATUS_PAGE_BITS + PAGE_OFFSET_BITS;
export const PAGE_READ_LATENCY = 3;

/** page_address for byte `offset` of status page `page`. */
export function pageAddress(page: StatusPageName, offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset >= CAPTURE_PAGE_BYTES) throw new RangeError(`pageAddress: offset ${offset} is not in a ${CAPTURE_PAGE_BYTES}-byte page`);
  return StatusPage[page] * CAPTURE_PAGE_BYTES + offset;
}

export interface CapturedPage<P extends string> {
  /** Names the page's registers (`cur_<name>`, `b_<name>`, `<name>_qw<n>_<half>_hit`). */
  name: P;
  /** Its address: CAPTURE_PAGE_BYTES-aligned, below 4 GiB. */
  base: number;
  /** The name of the page number constant in the Verilog. */
  constantName: string;
  /** Its number on the page read port (only for a page with kept bytes). */
  statusPage?: StatusPageName;
}

/** Bytes `offset`..`offset + size - 1` of page `page`: the quadwords that hold them go into the kept-bytes memory. */
export interface KeptRange<P extends string> {
  page: P;
  offset: number;
  size: number;
}

export interface PageFieldCaptureOptions<P extends string> {
  /** The pages parsed; writes elsewhere are consumed and ignored. */
  pages: readonly CapturedPage<P>[];
  /** The header port (slave) and the payload port (slave) of the module. */
  write: Bundle<FieldOf<typeof receivedMemoryWrite>>;
  data: Bundle<FieldOf<typeof payloadStream>>;
  /** 1: forget what is being written (beats taken now are dropped); sweeps the kept-bytes memory. */
  clear: Value;
  /** Beats wait while it is 1 (omit for never). */
  hold?: Value;
  /** Byte ranges kept in the memory (omit for none). */
  kept?: readonly KeptRange<P>[];
}

/** The kept-bytes memory: eight byte lanes, a slot per kept quadword. */
export interface KeptBytes<P extends string> {
  /** Slots in use, and the memory's depth (a power of two). */
  slots: number;
  depth: number;
  /** The slot of quadword `qword` of `page` (slots of consecutive kept quadwords are consecutive). */
  slotOf: (page: P, qword: number) => number;
  /**
   * The byte at `address` (PAGE_ADDRESS_BITS: {status page, offset}), PAGE_READ_LATENCY cycles
   * later, in a register: 0 for a byte of no kept quadword of these pages.
   */
  readByte: (address: Value) => Signal;
  /** Lanes `lanes` (0..7) of slot `slot`, a cycle later (registers), in the order asked. */
  readSlot: (slot: Value, lanes: readonly number[]) => Signal[];
}

export interface PageFieldCapture<P extends string> {
  /** 1 in the cycle a poisoned write's header is taken. */
  poisoned_header: Value;
  /** A write is held or being parsed, a payload beat waits, or the memory is being swept. */
  pending: Value;
  /**
   * A register per byte of `f` (a field of page `page`) holding that byte's bits of the field (all
   * eight for a whole unit, one for a flag), named `<name>_byte<k>`, zeroed by `clear`; returns the
   * field's bits.
   */
  keepField: (page: P, name: string, f: NvmeField) => Value;
  /**
   * A flip-flop per byte of `f` saying whether that byte's bits of the field were written non-zero
   * (named `<name>_byte<k>`, zeroed by `clear`); returns whether any was: for a field the hardware
   * only compares with zero, one flip-flop per byte instead of eight.
   */
  keepNonZero: (page: P, name: string, f: NvmeField) => Value;
  /** With `kept`: the memory. */
  kept?: KeptBytes<P>;
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

/** The byte range a field's unit occupies: for `kept` lists built from field tables. */
export function fieldRange<P extends string>(page: P, f: NvmeField): KeptRange<P> {
  return { page, offset: f.offset, size: f.size };
}

/** The kept quadwords, page by page in `pages` order and ascending in each: their slot is their position. */
function keptQwords<P extends string>(pages: readonly CapturedPage<P>[], kept: readonly KeptRange<P>[]): { page: number; qword: number }[] {
  const out: { page: number; qword: number }[] = [];
  pages.forEach((p, page) => {
    const qwords = new Set<number>();
    for (const r of kept.filter((k) => k.page === p.name)) {
      if (!Number.isInteger(r.offset) || !Number.isInteger(r.size) || r.size < 1 || r.offset < 0 || r.offset + r.size > CAPTURE_PAGE_BYTES) {
        throw new RangeError(`pageFieldCapture: kept bytes ${r.offset}+${r.size} of ${p.name} do not lie in the page`);
      }
      for (let q = Math.floor(r.offset / QWORD_BYTES); q <= Math.floor((r.offset + r.size - 1) / QWORD_BYTES); q++) qwords.add(q);
    }
    if (qwords.size > 0 && p.statusPage === undefined) throw new RangeError(`pageFieldCapture: page ${p.name} keeps bytes but has no statusPage`);
    for (const qword of [...qwords].sort((a, b) => a - b)) out.push({ page, qword });
  });
  for (const r of kept) if (!pages.some((p) => p.name === r.page)) throw new RangeError(`pageFieldCapture: kept bytes of ${r.page}, which is not parsed`);
  return out;
}

/** Depth of the kept-bytes memory for `kept` (0 for none): the sweep after clear takes as many cycles. */
export function keptMemoryDepth<P extends string>(pages: readonly CapturedPage<P>[], kept: readonly KeptRange<P>[]): number {
  return keptLayout(pages, kept).depth;
}

/** The byte offsets of `page` the memory keeps (the aligned blocks of quadwords that hold `kept`), ascending. */
export function keptOffsets<P extends string>(pages: readonly CapturedPage<P>[], kept: readonly KeptRange<P>[], page: P): number[] {
  const layout = keptLayout(pages, kept);
  const index = pages.findIndex((p) => p.name === page);
  const blockBytes = layout.blockQwords * QWORD_BYTES;
  return layout.blocks.filter((b) => b.page === index).flatMap((b) => Array.from({ length: blockBytes }, (_, i) => b.block * blockBytes + i));
}

/**
 * Where the kept quadwords live: in aligned blocks of `blockQwords` (the largest power of two that
 * still fits the memory the quadwords need), a block's slots being consecutive, blocks in `pages`
 * order and ascending in each; slot = block position x blockQwords + the quadword's offset in it.
 */
function keptLayout<P extends string>(pages: readonly CapturedPage<P>[], kept: readonly KeptRange<P>[]): { depth: number; blockQwords: number; blocks: { page: number; block: number }[] } {
  const qwords = keptQwords(pages, kept);
  if (qwords.length === 0) return { depth: 0, blockQwords: 1, blocks: [] };
  const depth = Math.max(2, 2 ** Math.ceil(Math.log2(qwords.length)));
  for (let blockQwords = depth; ; blockQwords /= 2) {
    const blocks: { page: number; block: number }[] = [];
    for (const q of qwords) {
      const block = Math.floor(q.qword / blockQwords);
      if (!blocks.some((b) => b.page === q.page && b.block === block)) blocks.push({ page: q.page, block });
    }
    if (blocks.length * blockQwords <= depth) return { depth, blockQwords, blocks };
  }
}

/** The OR of `terms` (0 for none). */
function any(terms: readonly Value[]): Value {
  return terms.length === 0 ? C(0, 1) : terms.length === 1 ? terms[0] : cat(...terms).any();
}

/** Parses the writes into `pages` and returns what the caller builds its fields from. */
export function pageFieldCapture<P extends string>(m: Module, o: PageFieldCaptureOptions<P>): PageFieldCapture<P> {
  if (o.pages.length === 0) throw new RangeError("pageFieldCapture: no pages");
  checkCapturedPages("pageFieldCapture", o.pages.map((p) => ({ name: p.name, base: p.base })));
  const { clear } = o;
  const pageNumbers = o.pages.map((p) => constant(p.constantName, p.base / CAPTURE_PAGE_BYTES, 52));
  const full_be = constant("ALL_BYTES", 0xf, 4);
  const layout = keptLayout(o.pages, o.kept ?? []);
  const keeps = layout.blocks.length > 0;
  const depth = layout.depth;
  const slotBits = keeps ? addressBits(depth) : 0;

  // The kept-bytes memory is swept to zero after clear (and after reset), holding the payload back.
  const sweeping = keeps ? m.signal(1, { reset: 1, name: "sweeping" }) : undefined;
  const sweep_slot = keeps ? m.signal(slotBits, { name: "sweep_slot" }) : undefined;
  const holds = [o.hold, sweeping].filter((h): h is Value => h !== undefined);
  const hold = holds.length === 0 ? undefined : holds.reduce((a, b) => a.or(b));

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

  // ---- payload: consumed while its header is current and nothing holds it ----
  const beat = o.data.signals;
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

  // ---- the beat taken, in quadword order with its byte enables ----
  const low_dw = beat.tdata.bits(31, 0);
  const high_dw = beat.tdata.bits(63, 32);
  /** tkeep is DW-granular: 0xFF, or 0x0F on a last beat that carries one DW. */
  const has_high = beat.tkeep.eq(KEEP_BOTH_DW);
  /** Byte enables of the beat's first and second DW (the write's first DW: first_be; its last: last_be). */
  const low_be = mux(cur_first_beat, cur.first_be, mux(beat.tlast.and(has_high.not()), cur.last_be, full_be));
  const high_be = mux(has_high, mux(beat.tlast, cur.last_be, full_be), C(0, 4));
  /** A beat of a page is taken, to apply (not poisoned, not in the cycle of clear). */
  const beat_applies = beat_fire.and(cur.poisoned.not()).and(clear.not());
  // Zero while the memory is swept: the sweep writes this data.
  const q_data = m.signal(64, { name: "q_data" });
  m.comb(q_data, mux(sweeping ?? C(0, 1), C(0, 64), mux(cur.odd, cat(low_dw, high_dw), beat.tdata)));
  const q_be = m.signal(8, { name: "q_be" });
  m.comb(q_be, mux(cur.odd, cat(low_be, high_be), cat(high_be, low_be)));

  const pageValids = new Map<P, Signal>();
  /** A beat of `page` is taken, to apply (a signal made on first use). */
  const pageValid = (page: P): Signal => {
    let valid = pageValids.get(page);
    if (!valid) {
      valid = m.signal(1, { name: `q_${page}_valid` });
      m.comb(valid, beat_applies.and(cur.pages[o.pages.findIndex((p) => p.name === page)]));
      pageValids.set(page, valid);
    }
    return valid;
  };

  // One decode per (page, half, quadword) a kept byte lies in.
  const hits = new Map<string, Signal>();
  const qwordHit = (page: P, lane: number, qword: number): Signal => {
    const half = lane < 4 ? "even" : "odd";
    const key = `${page}_qw${qword}_${half}`;
    let hit = hits.get(key);
    if (!hit) {
      hit = m.signal(1, { name: `${key}_hit` });
      const index = half === "even" ? cur.even_qword : cur.odd_qword;
      m.comb(hit, pageValid(page).and(index.eq(qword)));
      hits.set(key, hit);
    }
    return hit;
  };

  const keepBytes = (page: P, name: string, f: NvmeField, nonZero: boolean): Signal[] => {
    const { first, last } = byteSpan(f);
    if (f.offset + last >= CAPTURE_PAGE_BYTES) throw new RangeError(`pageFieldCapture: field ${name} at ${f.offset}+${f.size} lies beyond the page`);
    const parts: Signal[] = [];
    for (let k = first; k <= last; k++) {
      const offset = f.offset + k;
      const lane = offset % QWORD_BYTES;
      // The field's bits in this byte: lo..hi of the byte.
      const lo = Math.max(f.lsb, 8 * k) - 8 * k;
      const hi = Math.min(f.msb, 8 * k + 7) - 8 * k;
      const bits = q_data.bits(8 * lane + hi, 8 * lane + lo);
      const part = m.signal(nonZero ? 1 : hi - lo + 1, { name: `${name}_byte${k}` });
      const write = qwordHit(page, lane, Math.floor(offset / QWORD_BYTES)).and(q_be.bit(lane));
      m.If(clear, () => m.sync(part, 0)).Elif(write, () => m.sync(part, nonZero ? bits.any() : bits));
      parts.push(part);
    }
    return parts;
  };
  const keepField = (page: P, name: string, f: NvmeField): Value => {
    const parts = keepBytes(page, name, f, false);
    return parts.length === 1 ? parts[0] : cat(...[...parts].reverse());
  };
  const keepNonZero = (page: P, name: string, f: NvmeField): Value => {
    const parts = keepBytes(page, name, f, true);
    return parts.length === 1 ? parts[0] : cat(...parts).any();
  };

  // ---- the kept-bytes memory ----
  let kept: KeptBytes<P> | undefined;
  if (keeps && sweeping && sweep_slot) {
    const sweep_last = constant("KEPT_SWEEP_LAST", depth - 1, slotBits);
    m.If(clear, () => {
      m.sync(sweeping, 1);
      m.sync(sweep_slot, 0);
    }).Elif(sweeping, () => {
      m.sync(sweep_slot, sweep_slot.addWrap(1));
      m.If(sweep_slot.eq(sweep_last), () => m.sync(sweeping, 0));
    });
    // The slot of each half's quadword, and whether it is kept: the kept quadwords lie in aligned
    // blocks, so the low bits of the index are the slot's and only the block is looked up (an OR of
    // one compare per kept block, per slot bit). The slot matters only where the quadword is kept
    // (the memory is written, and a byte read, only then), so its bits look at no more than tells
    // the kept blocks apart: the block's low bits up to the highest kept block, and one page flag
    // fewer than there are pages with kept blocks (the last is "none of the others"). The whole
    // compare (page, every block bit) is the `hit` alone: the write address is a few inputs narrower
    // than the enable (in the Identify capture 7 instead of 10, two logic levels fewer).
    const blockOffsetBits = Math.log2(layout.blockQwords);
    const blockBits = PAGE_QWORD_BITS - blockOffsetBits;
    const slotBlockBits = Math.min(blockBits, bitsFor(Math.max(...layout.blocks.map((b) => b.block))));
    const keptPages = [...new Set(layout.blocks.map((b) => b.page))];
    const slotLookup = (pageFlags: readonly Value[], index: Value) => {
      const block = index.bits(PAGE_QWORD_BITS - 1, blockOffsetBits);
      const terms = layout.blocks.map(({ page, block: b }) => pageFlags[page].and(block.eq(b)));
      const slotBlock = block.bits(slotBlockBits - 1, 0);
      const lastPage = keptPages[keptPages.length - 1];
      const noEarlierPage = any(keptPages.slice(0, -1).map((page) => pageFlags[page])).not();
      const slotTerms = layout.blocks.map(({ page, block: b }) => (page === lastPage ? noEarlierPage : pageFlags[page]).and(slotBlock.eq(b)));
      const blockSlotBits = slotBits - blockOffsetBits;
      const blockSlot = Array.from({ length: blockSlotBits }, (_, b) => any(slotTerms.filter((_, s) => (s >> b) & 1)));
      const at = blockOffsetBits === 0 ? cat(...blockSlot.reverse()) : blockSlotBits === 0 ? index.bits(blockOffsetBits - 1, 0) : cat(...blockSlot.reverse(), index.bits(blockOffsetBits - 1, 0));
      return { hit: any(terms), at };
    };
    const lookup = (index: Signal, half: string) => {
      const found = slotLookup(cur.pages, index);
      const hit = m.signal(1, { name: `${half}_kept` });
      const at = m.signal(slotBits, { name: `${half}_slot` });
      m.comb(hit, found.hit);
      m.comb(at, found.at);
      return { hit: beat_applies.and(hit), at };
    };
    const even = lookup(cur.even_qword, "even");
    const odd = lookup(cur.odd_qword, "odd");
    const lanes = Array.from({ length: QWORD_BYTES }, (_, lane) => {
      const memory = m.memory({ width: 8, depth, name: `kept_lane${lane}` });
      const half = lane < QWORD_BYTES / 2 ? even : odd;
      memory.writePort({
        addr: mux(sweeping, sweep_slot, half.at),
        data: q_data.bits(8 * lane + 7, 8 * lane),
        en: sweeping.or(half.hit.and(q_be.bit(lane))),
      });
      return memory;
    });
    const slotOf = (page: P, qword: number): number => {
      const pageIndex = o.pages.findIndex((p) => p.name === page);
      const block = layout.blocks.findIndex((b) => b.page === pageIndex && b.block === Math.floor(qword / layout.blockQwords));
      if (block < 0) throw new RangeError(`pageFieldCapture: quadword ${qword} of ${page} is not kept`);
      return block * layout.blockQwords + (qword % layout.blockQwords);
    };
    const allLanes = lanes.map((_, lane) => lane);
    const readSlot = (at: Value, which: readonly number[] = allLanes): Signal[] => which.map((lane) => lanes[lane].readPort({ addr: at, en: 1 }).data);
    const readByte = (address: Value): Signal => {
      if (address.width !== PAGE_ADDRESS_BITS) throw new RangeError(`readByte: the address is ${address.width} bits, not ${PAGE_ADDRESS_BITS}`);
      // Three registered steps: the slot looked up, the memory read, the lane chosen.
      const status_page = address.bits(PAGE_ADDRESS_BITS - 1, PAGE_OFFSET_BITS);
      const pageFlags = o.pages.map((p) => (p.statusPage === undefined ? C(0, 1) : status_page.eq(StatusPage[p.statusPage])));
      const found = slotLookup(pageFlags, address.bits(PAGE_OFFSET_BITS - 1, 3));
      const read_slot = m.signal(slotBits, { name: "page_read_slot", resetless: true });
      const read_kept = m.signal(1, { name: "page_read_kept" });
      const read_lane = m.signal(3, { name: "page_read_lane", resetless: true });
      m.sync(read_slot, found.at);
      m.sync(read_kept, found.hit);
      m.sync(read_lane, address.bits(2, 0));
      const words = readSlot(read_slot);
      const word_kept = m.signal(1, { name: "page_word_kept" });
      const word_lane = m.signal(3, { name: "page_word_lane", resetless: true });
      m.sync(word_kept, read_kept);
      m.sync(word_lane, read_lane);
      const data = m.signal(8, { name: "page_read_data" });
      m.If(word_kept.not(), () => m.sync(data, 0)).Else(() => m.Switch(word_lane, (s) => words.forEach((word, lane) => s.Case(lane, () => m.sync(data, word)))));
      return data;
    };
    kept = { slots: layout.blocks.length * layout.blockQwords, depth, slotOf, readByte, readSlot };
  }

  return {
    poisoned_header: header_fire.and(header.poisoned),
    pending: any([cur.valid, next.valid, beat.tvalid, ...(sweeping ? [sweeping] : [])]),
    keepField,
    keepNonZero,
    kept,
  };
}
