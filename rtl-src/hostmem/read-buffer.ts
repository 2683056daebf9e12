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
//    written into the RAM at the clock edge that ends cycle t + 2, always (a read of the ring
//    issued in cycle t + 3 or later sees it): 2 cycles. A poisoned write's `slot_poisoned` strobe
//    is high no later than the cycle after its first payload beat is taken.
//  - Read-out. `read_out` entries (base, bytes, tag, last), in the engine's order: `bytes` bytes
//    from ring byte `base` (wrapping) to `user_read_data`, 8 bytes a beat, tkeep 0xFF, tuser =
//    tag, tlast on the final beat of an entry with `last`; the user's tready is honoured (no beat
//    dropped or repeated), one beat per cycle sustained, also from one entry to the next. When an
//    entry's final beat has been taken by the user, `read_release` {bytes} is strobed (the cycle
//    after). Bases and byte counts are whole 8-byte words (LBA sizes are >= 512): their bits
//    [2:0] are not read; an entry of 0 bytes streams nothing and releases nothing.
//
// The ring is two banks of 32-bit words (even and odd DWs, rtl-src/hostmem/data-window.ts), each
// bank four byte lanes with their own write enables, so a write at an odd DW lands in one cycle a
// beat, each DW at its own bank word. Every output is a register: the header and read-out ports
// enter through register slices, user_read_data leaves through one, the strobes are registers.
// Latencies (cycles, on an idle block): a payload beat is taken from the cycle after its header
// was (the header's translation overlaps the beat's two pipeline registers); a read_out entry
// taken in cycle t has its first beat on user_read_data in cycle t + 4 (slice, reader, RAM,
// output slice).
import { C, Module, cat, constant, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
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
/** Headers taken whose payload has not started: the header slice, stages A and B, one more. */
const HEADERS_AHEAD_BITS = 3;
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
  const h = window_write.signals;
  const header = fieldSlice(
    m,
    "header_slice",
    { slot: windowSlot(h.address), offset: windowOffsetDw(h.address, p.bytes), first_be: h.first_be, last_be: h.last_be, poisoned: h.poisoned },
    h.valid,
  );
  m.comb(h.ready, header.ready);
  const window = windowTranslator(m, "window", {
    bytes: p.bytes,
    slots: p.slots,
    slotBase: slot_base,
    valid: header.valid,
    slot: header.fields.slot,
    offsetDw: header.fields.offset,
    extra: cat(header.fields.first_be, header.fields.last_be, header.fields.poisoned),
  });
  m.comb(header.take, window.ready);
  const x = window.out.extra;
  const b_first_be = x.bits(8, 5);
  const b_last_be = x.bits(4, 1);
  const b_poisoned = x.bit(0);

  // A poisoned write is reported as its header enters the translation, which is no later than
  // the cycle its first payload beat is taken (the strobe shows the cycle after).
  const poison_strobe = m.signal(1);
  const poison_slot = m.signal(SLOT_BITS, { resetless: true });
  const entering_poisoned = window.accepted.and(header.fields.poisoned);
  m.sync(poison_strobe, entering_poisoned.and(window.offeredMapped));
  m.If(window.accepted, () => m.sync(poison_slot, header.fields.slot));
  m.comb(slot_poisoned.signals.valid, poison_strobe);
  m.comb(slot_poisoned.signals.slot, poison_slot);
  statusCounter(m, poisoned_writes, entering_poisoned, "poisoned_write_count");
  statusCounter(m, unmapped_writes, window.accepted.and(window.offeredMapped.not()), "unmapped_write_count");

  // Payload beats are taken only for a header already taken (`headers_ahead` counts headers whose
  // payload has not started), and pass two registers (P1, P2) with no stall: by the time a
  // write's first beat reaches P2, two cycles after it was taken and at least three after its
  // header, the header has left the translation's stage B (stage B frees as the previous write's
  // first beat passes P2, each beat takes a cycle). So P2 is always written into the RAM in its
  // own cycle: the landing latency is fixed.
  const d = window_write_data.signals;
  const in_packet = m.signal(1);
  const headers_ahead = m.signal(HEADERS_AHEAD_BITS);
  const payload_ready = in_packet.or(headers_ahead.ne(0));
  m.comb(d.tready, payload_ready);
  const beat = d.tvalid.and(payload_ready);
  const first_beat = beat.and(in_packet.not());
  const header_taken = h.valid.and(header.ready);
  m.If(beat, () => m.sync(in_packet, d.tlast.not()));
  m.If(header_taken.and(first_beat.not()), () => m.sync(headers_ahead, headers_ahead.addWrap(1)))
    .Elif(first_beat.and(header_taken.not()), () => m.sync(headers_ahead, headers_ahead.subWrap(1)));

  const p1_valid = m.signal(1);
  const p1_first = m.signal(1, { resetless: true });
  const p1_data = m.signal(64, { resetless: true });
  const p1_last = m.signal(1, { resetless: true });
  const p1_both = m.signal(1, { resetless: true });
  const p2_valid = m.signal(1);
  const p2_first = m.signal(1, { resetless: true });
  const p2_data = m.signal(64, { resetless: true });
  const p2_last = m.signal(1, { resetless: true });
  const p2_both = m.signal(1, { resetless: true });
  m.sync(p1_valid, beat);
  m.sync(p1_first, first_beat);
  m.sync(p1_data, d.tdata);
  m.sync(p1_last, d.tlast);
  m.sync(p1_both, d.tkeep.eq(KEEP_BOTH_DW));
  m.sync(p2_valid, p1_valid);
  m.sync(p2_first, p1_first);
  m.sync(p2_data, p1_data);
  m.sync(p2_last, p1_last);
  m.sync(p2_both, p1_both);

  // The lander: a write's first beat takes its bank words, swap and byte enables from stage B;
  // the next beats from registers loaded then.
  const starts = p2_valid.and(p2_first);
  m.comb(window.take, starts);
  const land_odd_word = m.signal(wordBits, { resetless: true });
  const land_even_word = m.signal(wordBits, { resetless: true });
  const land_swap = m.signal(1, { resetless: true });
  const land_store = m.signal(1, { resetless: true });
  const land_last_be = m.signal(DW_BYTES, { resetless: true });
  const odd_word = mux(p2_first, window.out.oddWord, land_odd_word);
  const even_word = mux(p2_first, window.out.evenWord, land_even_word);
  const swap = mux(p2_first, window.out.odd, land_swap);
  const store = mux(p2_first, window.out.mapped.and(b_poisoned.not()), land_store);
  const last_be = mux(p2_first, b_last_be, land_last_be);
  m.If(p2_valid, () => {
    m.sync(land_odd_word, odd_word.addWrap(1));
    m.sync(land_even_word, even_word.addWrap(1));
    m.sync(land_swap, swap);
    m.sync(land_store, store);
    m.sync(land_last_be, last_be);
  });

  // A beat's DWs in memory order: DW 2k (low) and DW 2k + 1 (high) of the write. The first DW
  // takes first_be, the last DW last_be (a one-DW write has only first_be), the others all bytes;
  // the high DW of an odd count's last beat is not there.
  const low_be = mux(p2_first, b_first_be, mux(p2_last.and(p2_both.not()), last_be, ALL_BYTES));
  const high_be = mux(p2_last, mux(p2_both, last_be, C(0, DW_BYTES)), ALL_BYTES);
  const low_dw = p2_data.bits(31, 0);
  const high_dw = p2_data.bits(63, 32);
  const bank_data = mux(swap, cat(low_dw, high_dw), cat(high_dw, low_dw));
  const lane_enables = mux(p2_valid.and(store), mux(swap, cat(low_be, high_be), cat(high_be, low_be)), C(0, 8));
  lanes.forEach((lane, i) => {
    lane.writePort({ addr: i < DW_BYTES ? even_word : odd_word, data: bank_data.bits(8 * i + 7, 8 * i), en: lane_enables.bit(i) });
  });

  // ---- read-out ----
  const ro = read_out.signals;
  const entry = fieldSlice(
    m,
    "entry_slice",
    { word: ro.base.bits(wordBits + WORD_BYTES_LOG2 - 1, WORD_BYTES_LOG2), beats: ro.bytes.bits(PIECE_BYTES_BITS - 1, WORD_BYTES_LOG2), tag: ro.tag, last: ro.last },
    ro.valid,
  );
  m.comb(ro.ready, entry.ready);
  const output_slice = m.instance(axisSkidBuffer({ dataWidth: 64, keep: false, userWidth: p.tagBits + 1 + ENTRY_BEAT_BITS }), { name: "output_slice" });
  const os = output_slice.ports.s_axis.signals;
  const oo = output_slice.ports.m_axis.signals;

  const reading = m.signal(1);
  const read_word = m.signal(wordBits, { resetless: true });
  const read_tag = m.signal(p.tagBits, { resetless: true });
  const read_last = m.signal(1, { resetless: true });
  const read_beats = m.signal(ENTRY_BEAT_BITS, { resetless: true });
  const issue = m.signal(1);
  const reader_load = m.signal(1);
  const rd_valid = m.signal(1);
  const beats_left = pieceDownCounter(m, "beats_left", { width: ENTRY_BEAT_BITS, load: reader_load, value: entry.fields.beats, step: issue });
  m.comb(issue, reading.and(rd_valid.not().or(os.tready)));
  const last_issue = issue.and(beats_left.one);
  m.comb(reader_load, entry.valid.and(reading.not().or(last_issue)));
  m.comb(entry.take, reader_load);
  m.If(reader_load, () => {
    m.sync(read_word, entry.fields.word);
    m.sync(read_tag, entry.fields.tag);
    m.sync(read_last, entry.fields.last);
    m.sync(read_beats, entry.fields.beats);
  }).Elif(issue, () => m.sync(read_word, read_word.addWrap(1)));
  m.If(reader_load, () => m.sync(reading, entry.fields.beats.any())).Elif(last_issue, () => m.sync(reading, 0));

  const lane_reads = lanes.map((lane) => lane.readPort({ addr: read_word, en: issue }));
  const rd_tag = m.signal(p.tagBits, { resetless: true });
  const rd_end = m.signal(1, { resetless: true });
  const rd_tlast = m.signal(1, { resetless: true });
  const rd_beats = m.signal(ENTRY_BEAT_BITS, { resetless: true });
  m.If(issue, () => {
    m.sync(rd_tag, read_tag);
    m.sync(rd_end, beats_left.one);
    m.sync(rd_tlast, beats_left.one.and(read_last));
    m.sync(rd_beats, read_beats);
  });
  m.If(issue, () => m.sync(rd_valid, 1)).Elif(os.tready, () => m.sync(rd_valid, 0));
  m.comb(os.tvalid, rd_valid);
  m.comb(os.tdata, cat(...lane_reads.map((r) => r.data).reverse()));
  m.comb(os.tlast, rd_tlast);
  m.comb(os.tuser, cat(rd_beats, rd_end, rd_tag));

  const u = user_read_data.signals;
  m.comb(u.tvalid, oo.tvalid);
  m.comb(u.tdata, oo.tdata);
  m.comb(u.tkeep, KEEP_BOTH_DW);
  m.comb(u.tlast, oo.tlast);
  m.comb(u.tuser, oo.tuser.bits(p.tagBits - 1, 0));
  m.comb(oo.tready, u.tready);
  const out_end = oo.tuser.bit(p.tagBits);
  const out_beats = oo.tuser.bits(p.tagBits + ENTRY_BEAT_BITS, p.tagBits + 1);

  const release_strobe = m.signal(1);
  const release_bytes = m.signal(PIECE_BYTES_BITS, { resetless: true });
  const entry_left = oo.tvalid.and(u.tready).and(out_end);
  m.sync(release_strobe, entry_left);
  m.If(entry_left, () => m.sync(release_bytes, cat(out_beats, C(0, WORD_BYTES_LOG2))));
  m.comb(read_release.signals.valid, release_strobe);
  m.comb(read_release.signals.bytes, release_bytes);

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
