// Inline logic shared by write_buffer and read_buffer; builds no module of its own.
//
// An SSD access to slot s's data window at offset o is buffer byte (base[s] + o) mod `bytes`
// (rtl-src/nvme/io-interfaces.ts): the window translation. Both buffers keep their ring in two
// banks of 32-bit words, the even DWs of the ring in one and the odd DWs in the other, each bank
// word w holding DW 2w (even bank) or 2w + 1 (odd bank). A 64-bit beat of an access that starts at
// ring DW d = 2w + odd carries DWs d + 2k and d + 2k + 1 in beat k: one from each bank, the odd
// bank's at word w + k and the even bank's at word w + k + odd. So an access at any DW alignment
// moves one beat per cycle, with both banks addressed separately and the two DWs swapped when
// `odd`, and no realignment buffer. Ring sizes are powers of two, so the wrap at the ring end is
// the word address's own wrap.
//
// The translation is a short pipeline, one access per cycle, with valid/ready between stages:
//  - stage A: the slot's base is read from the base table (a small RAM written by the engine's
//    bufferSlotBase strobe), the access's offset and slot flags are registered;
//  - stage B: start DW d = base + offset and d + 1 (two adders side by side, so that both bank
//    addresses are ready: w = d >> 1, and w + odd = (d + 1) >> 1), registered.
// The consumer takes stage B's result (odd-bank word, even-bank word, odd, mapped, extra).
import { type Bundle, type FieldOf, type Memory, type Module, type Signal, type Value, addressBits, bitsFor, constant } from "../../hdl/index.ts";
import { BUFFER_OFFSET_BITS, DATA_WINDOW_BYTES, MAX_SLOTS, SLOT_BITS, type bufferSlotBase } from "../nvme/io-interfaces.ts";

/** Smallest and largest ring the buffers accept (the offsets of the contract are 20 bits). */
export const MIN_BUFFER_BYTES = 32 * 1024;
export const MAX_BUFFER_BYTES = 2 ** BUFFER_OFFSET_BITS;
/** Bit of a window address where the slot number starts (each window is DATA_WINDOW_BYTES). */
export const WINDOW_SLOT_LSB = Math.log2(DATA_WINDOW_BYTES);

/** The buffer parameters both modules share, checked; `who` names the module in the error. */
export function checkBufferParams(who: string, bytes: number, slots: number): void {
  if (!Number.isInteger(bytes) || bytes < MIN_BUFFER_BYTES || bytes > MAX_BUFFER_BYTES || (bytes & (bytes - 1)) !== 0) {
    throw new RangeError(`${who}: bytes ${bytes} is not a power of two in ${MIN_BUFFER_BYTES}..${MAX_BUFFER_BYTES}`);
  }
  if (!Number.isInteger(slots) || slots < 1 || slots > MAX_SLOTS) throw new RangeError(`${who}: slots ${slots} is not an integer in 1..${MAX_SLOTS}`);
}

/** Widths that follow from the ring size. */
export function ringWidths(bytes: number) {
  /** Bits of a bank word address (a 64-bit ring word). */
  const wordBits = Math.log2(bytes / 8);
  /** Bits of a ring DW index. */
  const dwBits = wordBits + 1;
  return { wordBits, dwBits };
}

/** The slot number of a data-window address. */
export function windowSlot(address: Value): Value {
  return address.bits(WINDOW_SLOT_LSB + SLOT_BITS - 1, WINDOW_SLOT_LSB);
}

/** The window offset of `address` in DWs, modulo the ring (the bits the translation uses). */
export function windowOffsetDw(address: Value, bytes: number): Value {
  return address.bits(Math.log2(bytes) - 1, 2);
}

export interface WindowTranslatorOptions {
  bytes: number;
  slots: number;
  /** The engine's bufferSlotBase strobe (this buffer's own). */
  slotBase: Bundle<FieldOf<typeof bufferSlotBase>>;
  /** An access offered: slot number, window offset in DWs (windowOffsetDw), fields carried along. */
  valid: Value;
  slot: Value;
  offsetDw: Value;
  extra: Value;
  /**
   * true: `ready` is a decode of the stages' valid flags only (stage A empty, or stage B empty so
   * that A moves on), so that it does not follow `take` in the same cycle; for a caller whose
   * `take` depends on an input port and that offers `ready` on another. Stage A then takes an
   * access one cycle later when both stages are full and B is taken.
   */
  registeredReady?: boolean;
  /**
   * 1: no stage B; the start DW and bank words are added from stage A's registers as the consumer
   * takes them (its register after the adders is the next stage). Stage A then holds one access
   * at a time: the next is taken once the consumer took this one. Default 2.
   */
  stages?: 1 | 2;
  /**
   * The consumer works on the last stage's access in place. When high (and `take` is not), its
   * bank words step one beat on (both + 1: with two stages B's words, with one stage A's offset
   * by 2 DWs); `take` then frees the stage after the last beat.
   */
  step?: Value;
}

export interface WindowTranslation {
  /** To the source: stage A takes the access this cycle when `valid` is high. */
  ready: Value;
  /** Stage A takes an access this cycle (valid and ready). */
  accepted: Value;
  /** The offered access's slot is < slots. */
  offeredMapped: Value;
  /** Stage B's result. */
  out: {
    valid: Value;
    /** Bank word of the odd bank for beat 0 (w). */
    oddWord: Value;
    /** Bank word of the even bank for beat 0 (w + odd). */
    evenWord: Value;
    /** The access starts on an odd DW: beat k's low DW is the odd bank's, its high DW the even bank's. */
    odd: Value;
    /** slot < slots. */
    mapped: Value;
    extra: Value;
  };
  /** Driven by the caller (m.comb): stage B's result is taken this cycle. */
  take: Signal;
}

/** The window translation pipeline in `m` (registers named `<name>_*`, base table `<name>_base_table`). */
export function windowTranslator(m: Module, name: string, o: WindowTranslatorOptions): WindowTranslation {
  const { wordBits, dwBits } = ringWidths(o.bytes);
  if (o.offsetDw.width !== dwBits) throw new RangeError(`windowTranslator ${name}: offsetDw is ${o.offsetDw.width} bits, not ${dwBits}`);
  if (o.slot.width !== SLOT_BITS) throw new RangeError(`windowTranslator ${name}: slot is ${o.slot.width} bits, not ${SLOT_BITS}`);
  const SLOTS = constant(`${name.toUpperCase()}_SLOTS`, o.slots, bitsFor(MAX_SLOTS));
  const tableDepth = Math.max(2, o.slots);
  const tableAddressBits = addressBits(tableDepth);
  const base_table = m.memory({ width: dwBits, depth: tableDepth, name: `${name}_base_table` });
  const sb = o.slotBase.signals;
  m.waiveUnread(sb.base, "the base is DW aligned and lies in the ring: only bits [log2(bytes)-1:2] are kept");
  base_table.writePort({
    addr: sb.slot.bits(tableAddressBits - 1, 0),
    data: sb.base.bits(dwBits + 1, 2),
    en: sb.valid.and(sb.slot.zext(SLOTS.width).lt(SLOTS)),
  });

  const take = m.signal(1, { name: `${name}_take` });
  if (o.stages === 1) return oneStage(m, name, o, { base_table, tableAddressBits, SLOTS, take, wordBits, dwBits });
  // Stage A: the base being read, the access's own fields registered.
  const a_valid = m.signal(1, { name: `${name}_a_valid` });
  const a_offset = m.signal(dwBits, { name: `${name}_a_offset`, resetless: true });
  const a_mapped = m.signal(1, { name: `${name}_a_mapped`, resetless: true });
  const a_extra = m.signal(o.extra.width, { name: `${name}_a_extra`, resetless: true });
  // Stage B: the start DW and the one after it.
  const b_valid = m.signal(1, { name: `${name}_b_valid` });
  const b_start = m.signal(dwBits, { name: `${name}_b_start`, resetless: true });
  const b_even_word = m.signal(wordBits, { name: `${name}_b_even_word`, resetless: true });
  const b_mapped = m.signal(1, { name: `${name}_b_mapped`, resetless: true });
  const b_extra = m.signal(o.extra.width, { name: `${name}_b_extra`, resetless: true });

  const b_free = b_valid.not().or(take);
  const a_moves = m.signal(1, { name: `${name}_a_moves` });
  m.comb(a_moves, a_valid.and(b_free));
  const a_free = o.registeredReady ? a_valid.not().or(b_valid.not()) : a_valid.not().or(b_free);
  const a_takes = m.signal(1, { name: `${name}_a_takes` });
  m.comb(a_takes, o.valid.and(a_free));
  const offered_mapped = o.slot.zext(SLOTS.width).lt(SLOTS);
  const base = base_table.readPort({ addr: o.slot.bits(tableAddressBits - 1, 0), en: a_takes });

  m.If(a_takes, () => {
    m.sync(a_offset, o.offsetDw);
    m.sync(a_mapped, offered_mapped);
    m.sync(a_extra, o.extra);
  });
  m.If(a_takes, () => m.sync(a_valid, 1)).Elif(a_moves, () => m.sync(a_valid, 0));

  // With `step`, B's bank words move on a beat in place (the odd-bank word is b_start's top bits:
  // + 2 keeps the DW's parity, the swap).
  const b_load = m.If(a_moves, () => {
    m.sync(b_start, base.data.addWrap(a_offset));
    m.sync(b_even_word, base.data.add(a_offset).addWrap(1).bits(dwBits - 1, 1));
    m.sync(b_mapped, a_mapped);
    m.sync(b_extra, a_extra);
  });
  if (o.step) {
    b_load.Elif(o.step, () => {
      m.sync(b_start, b_start.addWrap(2));
      m.sync(b_even_word, b_even_word.addWrap(1));
    });
  }
  m.If(a_moves, () => m.sync(b_valid, 1)).Elif(take, () => m.sync(b_valid, 0));

  return {
    ready: a_free,
    accepted: a_takes,
    offeredMapped: offered_mapped,
    out: {
      valid: b_valid,
      oddWord: b_start.bits(dwBits - 1, 1),
      evenWord: b_even_word,
      odd: b_start.bit(0),
      mapped: b_mapped,
      extra: b_extra,
    },
    take,
  };
}

/** windowTranslator with stages = 1: stage A only, the additions after it. */
function oneStage(
  m: Module,
  name: string,
  o: WindowTranslatorOptions,
  t: { base_table: Memory; tableAddressBits: number; SLOTS: Value; take: Signal; wordBits: number; dwBits: number },
): WindowTranslation {
  const a_valid = m.signal(1, { name: `${name}_a_valid` });
  const a_offset = m.signal(t.dwBits, { name: `${name}_a_offset`, resetless: true });
  const a_mapped = m.signal(1, { name: `${name}_a_mapped`, resetless: true });
  const a_extra = m.signal(o.extra.width, { name: `${name}_a_extra`, resetless: true });
  const a_free = o.registeredReady ? a_valid.not() : a_valid.not().or(t.take);
  const a_takes = m.signal(1, { name: `${name}_a_takes` });
  m.comb(a_takes, o.valid.and(a_free));
  const offered_mapped = o.slot.zext(t.SLOTS.width).lt(t.SLOTS);
  const base = t.base_table.readPort({ addr: o.slot.bits(t.tableAddressBits - 1, 0), en: a_takes });
  const a_load = m.If(a_takes, () => {
    m.sync(a_offset, o.offsetDw);
    m.sync(a_mapped, offered_mapped);
    m.sync(a_extra, o.extra);
  });
  // With `step`, the offset moves on a beat (2 DWs) in place: the sums after it follow.
  if (o.step) a_load.Elif(o.step, () => m.sync(a_offset, a_offset.addWrap(2)));
  m.If(a_takes, () => m.sync(a_valid, 1)).Elif(t.take, () => m.sync(a_valid, 0));
  const start = m.signal(t.dwBits, { name: `${name}_start` });
  const even_word = m.signal(t.wordBits, { name: `${name}_even_word` });
  m.comb(start, base.data.addWrap(a_offset));
  m.comb(even_word, base.data.add(a_offset).addWrap(1).bits(t.dwBits - 1, 1));
  return {
    ready: a_free,
    accepted: a_takes,
    offeredMapped: offered_mapped,
    out: { valid: a_valid, oddWord: start.bits(t.dwBits - 1, 1), evenWord: even_word, odd: start.bit(0), mapped: a_mapped, extra: a_extra },
    take: t.take,
  };
}
