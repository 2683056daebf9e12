// The read buffer (issue 10): the SSD's read data on its way to the user. A ring of `bytes` bytes in
// block RAM, written by the SSD's memory writes to the data windows and read out to the user's
// stream in the order the I/O engine says. The engine owns the ring's allocation: it reserves
// space before a read is submitted and learns it is free again from `read_release`.
//
//  - Landing. A memory write to slot s's window at offset o (`window_write` header + its payload,
//    routed here by host_memory_router, payload in memory order starting with the DW at the
//    address) lands at ring byte (base[s] + o) mod `bytes`, where base[s] came on `slot_base`
//    before the doorbell: any DW alignment, any order, wrapping at the ring end, one beat per
//    cycle, with byte enables from first_be (its first DW) and last_be (its last DW). A poisoned
//    write is dropped (payload taken) and reported once on `slot_poisoned` {slot} and counted;
//    a write to a slot >= `slots` is dropped and counted.
//    Timing the engine relies on ("the data is in the RAM before the completion that follows it
//    on the same ordered stream has been parsed and retired"): a payload beat taken in cycle t is
//    written into the RAM at the clock edge that ends cycle t, always. A poisoned write's
//    `slot_poisoned` strobe is high no later than the cycle its first payload beat is taken.
//  - Read-out. `read_out` entries (base, bytes, tag, last), in the engine's order: `bytes` bytes
//    from ring byte `base` (wrapping) to `user_read_data`, 8 bytes a beat, tkeep 0xFF, tuser =
//    tag, tlast on the final beat of an entry with `last`; the user's tready is honoured (no beat
//    dropped or repeated), one beat per cycle sustained, also from one entry to the next (entries
//    of at least two beats: the engine's are whole logical blocks). Each beat the user takes frees
//    its 8 bytes: `read_release` {bytes = 8} is strobed the cycle after. Bases and byte counts are
//    whole 8-byte words (LBA sizes are >= 512): their bits [2:0] are not read; an entry of 0 bytes
//    streams nothing and releases nothing.
//
// The ring is two banks of 32-bit words (even and odd DWs, rtl-src/hostmem/data-window.ts), each
// bank four byte lanes with their own write enables, so a write at an odd DW lands in one cycle a
// beat, each DW at its own bank word. Every output is a register or a decode of registers: the
// header port goes straight into the window translation (its ready a decode of the translation's
// valid flags), `window_write_data.tready` is a decode of the packet and translation flags,
// `read_out.ready` the emptiness of the entry register, user_read_data an output register, the
// strobes registers. The user's tready moves the read-out pipeline (RAM read and output register)
// in the same cycle, as a stall of a plain pipeline. Latencies (cycles, on an idle block): a
// write's first payload beat is taken the cycle after its header was (one translation stage: the
// base is read as the header is taken, the bank words are its sum with the offset, added as each
// beat lands); the next header is taken the cycle after a write's last beat, so back-to-back
// writes of n beats land n of every n + 1 cycles (on the link each TLP brings a header beat that
// carries no payload, so the landing keeps up with the link); a read_out entry taken in cycle t has its
// first beat on user_read_data in cycle t + 4 (entry register, reader, RAM, output register).
import { C, Module, cat, constant, mux } from "../../hdl/index.ts";
import { fieldSlice } from "../lib/field-slice.ts";
import { pieceDownCounter } from "../lib/piece-down-counter.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { KEEP_BOTH_DW } from "../lib/stream-payload.ts";
import { PIECE_BYTES_BITS, SLOT_BITS, bufferRelease, bufferSlotBase, readOut, slotPoisoned } from "../nvme/io-interfaces.ts";
import { payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import { userReadData } from "../user/user-port.ts";
import { checkBufferParams, ringWidths, windowOffsetDw, windowSlot, windowTranslator } from "./data-window.ts";

export interface ReadBufferParams {
  /** Ring size in bytes: a power of two, 32 KiB..1 MiB (block RAM). */
  bytes: number;
  /** Command slots with a data window (1..64); writes to other slots' windows are dropped. */
  slots: number;
  /** Width of the user's command tag (tuser of user_read_data), 1..16. */
  tagBits: number;
}

const COUNTER_BITS = 32;
const WORD_BYTES_LOG2 = 3;
/** Beats of a read-out entry: its bytes / 8. */
const ENTRY_BEAT_BITS = PIECE_BYTES_BITS - WORD_BYTES_LOG2;
const DW_BYTES = 4;
/** Byte enables of a whole DW. */
const ALL_BYTES = constant("DW_ALL_BYTES", 0xf, DW_BYTES);

function checkParams(p: ReadBufferParams): void {
  checkBufferParams("read_buffer", p.bytes, p.slots);
  if (!Number.isInteger(p.tagBits) || p.tagBits < 1 || p.tagBits > 16) throw new RangeError(`read_buffer: tagBits ${p.tagBits} is not an integer in 1..16`);
}

/**
 * The read data ring: the SSD's memory writes to the data windows land at any alignment with byte
 * enables, and the engine's read-out entries stream to the user with their tag, then are released.
 */
export function readBuffer(p: ReadBufferParams) {
  checkParams(p);
  const m = new Module(`read_buffer_b${p.bytes / 1024}k_s${p.slots}_t${p.tagBits}`);
  m.parameters({ bytes: p.bytes, slots: p.slots, tagBits: p.tagBits });
  const { wordBits } = ringWidths(p.bytes);
  const words = p.bytes / 8;

  /** The SSD's memory writes to the data windows (from host_memory_router). */
  const window_write = m.port(receivedMemoryWrite, "slave");
  const window_write_data = m.port(payloadStream, "slave");
  const slot_base = m.port(bufferSlotBase, "slave");
  const slot_poisoned = m.port(slotPoisoned, "master");
  const read_out = m.port(readOut(p.tagBits), "slave");
  const read_release = m.port(bufferRelease, "master");
  const user_read_data = m.port(userReadData(p.tagBits), "master");
  /** Poisoned memory writes (dropped). */
  const poisoned_writes = m.output(COUNTER_BITS);
  /** Memory writes to a slot >= slots (dropped). */
  const unmapped_writes = m.output(COUNTER_BITS);

  m.waiveUnread(window_write.signals.address, "the router sends only data-window addresses: the slot and the offset modulo the ring are read");
  m.waiveUnread(window_write.signals.length_dw, "the payload's tlast and tkeep end the write");
  m.waiveUnread(read_out.signals.base, "bases are whole 8-byte words of the ring: bits [2:0] are not read");
  m.waiveUnread(read_out.signals.bytes, "byte counts are whole 8-byte words: bits [2:0] are not read");

  // Byte lanes 0..3: the even bank (ring DW 2w), 4..7: the odd bank (ring DW 2w + 1).
  const lanes = Array.from({ length: 8 }, (_, i) => m.memory({ width: 8, depth: words, name: `lane${i}` }));

  // ---- landing ----
  // The header goes straight into the window translation (its one stage registers the fields and
  // reads the slot's base); its ready is the stage's emptiness, so it does not follow the
  // payload's tvalid.
  const h = window_write.signals;
  const header_slot = windowSlot(h.address);
  /** A beat of the write in the translation lands and more follow: its offset steps on. */
  const land_step = m.signal(1);
  const window = windowTranslator(m, "window", {
    bytes: p.bytes,
    slots: p.slots,
    slotBase: slot_base,
    valid: h.valid,
    slot: header_slot,
    offsetDw: windowOffsetDw(h.address, p.bytes),
    extra: cat(h.first_be, h.last_be, h.poisoned),
    registeredReady: true,
    stages: 1,
    step: land_step,
  });
  m.comb(h.ready, window.ready);
  const x = window.out.extra;
  const b_first_be = x.bits(8, 5);
  const b_last_be = x.bits(4, 1);
  const b_poisoned = x.bit(0);

  // A poisoned write is reported as its header enters the translation, which is no later than
  // the cycle its first payload beat is taken (the strobe shows the cycle after).
  const poison_strobe = m.signal(1);
  const poison_slot = m.signal(SLOT_BITS, { resetless: true });
  const entering_poisoned = window.accepted.and(h.poisoned);
  m.sync(poison_strobe, entering_poisoned.and(window.offeredMapped));
  m.If(window.accepted, () => m.sync(poison_slot, header_slot));
  m.comb(slot_poisoned.signals.valid, poison_strobe);
  m.comb(slot_poisoned.signals.slot, poison_slot);
  statusCounter(m, poisoned_writes, entering_poisoned, "poisoned_write_count");
  statusCounter(m, unmapped_writes, window.accepted.and(window.offeredMapped.not()), "unmapped_write_count");

  // A write's payload is taken while its header is in the translation stage, which the lander
  // works on in place: the stage's offset steps a beat on as each beat lands (the bank words are
  // the base plus that offset, added here, the adders straight into the RAM's address), and the
  // stage is freed with the write's last beat. Each beat lands in the RAM in the cycle it is
  // taken, so no payload is registered here and a beat is in the RAM before anything that follows
  // it on the router's ordered stream. The first beat is taken the cycle after the header: a
  // second translation stage (the sums registered) would cost that cycle on every TLP, and with it
  // a stall of the link's receive stream per TLP while the router's buffers fill.
  const d = window_write_data.signals;
  const in_packet = m.signal(1);
  m.comb(d.tready, window.out.valid);
  const beat = d.tvalid.and(window.out.valid);
  m.If(beat, () => m.sync(in_packet, d.tlast.not()));
  m.comb(window.take, beat.and(d.tlast));
  m.comb(land_step, beat.and(d.tlast.not()));
  const odd_word = window.out.oddWord;
  const even_word = window.out.evenWord;
  const swap = window.out.odd;
  const store = window.out.mapped.and(b_poisoned.not());
  const last_be = b_last_be;

  // A beat's DWs in memory order: DW 2k (low) and DW 2k + 1 (high) of the write. The first DW
  // takes first_be, the last DW last_be (a one-DW write has only first_be), the others all bytes;
  // the high DW of an odd count's last beat is not there.
  const both = d.tkeep.eq(KEEP_BOTH_DW);
  const low_be = mux(in_packet.not(), b_first_be, mux(d.tlast.and(both.not()), last_be, ALL_BYTES));
  const high_be = mux(d.tlast, mux(both, last_be, C(0, DW_BYTES)), ALL_BYTES);
  const low_dw = d.tdata.bits(31, 0);
  const high_dw = d.tdata.bits(63, 32);
  const bank_data = mux(swap, cat(low_dw, high_dw), cat(high_dw, low_dw));
  const lane_enables = mux(beat.and(store), mux(swap, cat(low_be, high_be), cat(high_be, low_be)), C(0, 8));
  lanes.forEach((lane, i) => {
    lane.writePort({ addr: i < DW_BYTES ? even_word : odd_word, data: bank_data.bits(8 * i + 7, 8 * i), en: lane_enables.bit(i) });
  });

  // ---- read-out ----
  // One entry waits in a register while the reader streams the one before: the engine can hand
  // over the next read-out as soon as it has one, and `read_out.ready` is that register's
  // emptiness (a flip-flop). Entries of two beats or more follow each other with no gap; every
  // entry the engine sends is whole logical blocks, 64 beats at least.
  const ro = read_out.signals;
  const entry = fieldSlice(
    m,
    "entry",
    { word: ro.base.bits(wordBits + WORD_BYTES_LOG2 - 1, WORD_BYTES_LOG2), beats: ro.bytes.bits(PIECE_BYTES_BITS - 1, WORD_BYTES_LOG2), tag: ro.tag, last: ro.last },
    ro.valid,
    { skid: false },
  );
  m.comb(ro.ready, entry.ready);

  // Three stages: the reader (the entry being streamed: its word, tag, beats left), the RAM read
  // (the lanes' read registers, `rd_*`), the output register (`user_read_data`). The RAM stage and
  // the output register move together when the output is free or taken (the RAM holds its word
  // while not enabled), so the output is registered and holds two beats when the user stops.
  const u = user_read_data.signals;
  const out_valid = m.signal(1);
  const advance = m.signal(1);
  m.comb(advance, out_valid.not().or(u.tready));
  const reading = m.signal(1);
  const read_word = m.signal(wordBits, { resetless: true });
  const read_tag = m.signal(p.tagBits, { resetless: true });
  const read_last = m.signal(1, { resetless: true });
  const issue = m.signal(1);
  const reader_load = m.signal(1);
  const rd_valid = m.signal(1);
  const beats_left = pieceDownCounter(m, "beats_left", { width: ENTRY_BEAT_BITS, load: reader_load, value: entry.fields.beats, step: issue });
  m.comb(issue, reading.and(rd_valid.not().or(advance)));
  const last_issue = issue.and(beats_left.one);
  m.comb(reader_load, entry.valid.and(reading.not().or(last_issue)));
  m.comb(entry.take, reader_load);
  m.If(reader_load, () => {
    m.sync(read_word, entry.fields.word);
    m.sync(read_tag, entry.fields.tag);
    m.sync(read_last, entry.fields.last);
  }).Elif(issue, () => m.sync(read_word, read_word.addWrap(1)));
  m.If(reader_load, () => m.sync(reading, entry.fields.beats.any())).Elif(last_issue, () => m.sync(reading, 0));

  const lane_reads = lanes.map((lane) => lane.readPort({ addr: read_word, en: issue }));
  const rd_tag = m.signal(p.tagBits, { resetless: true });
  const rd_tlast = m.signal(1, { resetless: true });
  m.If(issue, () => {
    m.sync(rd_tag, read_tag);
    m.sync(rd_tlast, beats_left.one.and(read_last));
  });
  m.If(issue, () => m.sync(rd_valid, 1)).Elif(advance, () => m.sync(rd_valid, 0));

  const out_data = m.signal(64, { resetless: true });
  const out_tag = m.signal(p.tagBits, { resetless: true });
  const out_last = m.signal(1, { resetless: true });
  m.If(advance, () => {
    m.sync(out_valid, rd_valid);
    m.sync(out_data, cat(...lane_reads.map((r) => r.data).reverse()));
    m.sync(out_tag, rd_tag);
    m.sync(out_last, rd_tlast);
  });
  m.comb(u.tvalid, out_valid);
  m.comb(u.tdata, out_data);
  m.comb(u.tkeep, KEEP_BOTH_DW);
  m.comb(u.tlast, out_last);
  m.comb(u.tuser, out_tag);

  // Every beat the user takes frees its 8 bytes at the ring's oldest end (the entries are read
  // out in ring order): a strobe the cycle after.
  const release_strobe = m.signal(1);
  m.sync(release_strobe, out_valid.and(u.tready));
  m.comb(read_release.signals.valid, release_strobe);
  m.comb(read_release.signals.bytes, C(1 << WORD_BYTES_LOG2, PIECE_BYTES_BITS));

  return m.exposing({
    window_write,
    window_write_data,
    slot_base,
    slot_poisoned,
    read_out,
    read_release,
    user_read_data,
    poisoned_writes,
    unmapped_writes,
  });
}
