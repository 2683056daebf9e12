// The write buffer (issue 10): the user's write data on its way to the SSD. A ring of `bytes` bytes
// in block RAM, written by the user's stream and read by the SSD through its data windows.
//
//  - Intake. The I/O engine pushes one `write_expect` (bytes, drop) per write command, in command
//    order; the `user_write_data` stream is taken for it until tlast and stored at the fill
//    pointer, 8 bytes a beat. At most the expected length is stored: a stream that runs long is
//    cut (the rest up to tlast is taken and dropped), one whose tlast comes early is padded with
//    zero words up to the expected length (the padding is stored like data, after tlast). `drop`
//    takes the stream up to tlast and stores nothing. At tlast one `write_landed` {length_ok} is
//    pushed: 1 when tlast came exactly on the last expected beat (always 1 for drop); when tlast
//    came early the padding is still being stored then, and `fill_pointer` tells when it is in.
//    Lengths can be far larger than the ring (a 16 TiB command), so storage proceeds as space
//    frees: the stream stalls (tready low) while the ring is full, and so does padding.
//    `fill_pointer` counts the bytes stored, padding included, modulo 2^WRITE_FILL_POINTER_BITS (a register);
//    `write_release` frees bytes at the oldest end (the engine retires write pieces in order); the
//    ring is full when fill - free = `bytes`, and it can be filled to the last word.
//  - Serving the SSD. A data request (`window_request`, routed here by host_memory_router for the
//    data windows) at slot s's window offset o is answered on `window_response` with the ring's
//    bytes from (base[s] + o) mod `bytes`, where base[s] came on `slot_base` before the doorbell:
//    any DW alignment, any length 1..1024 DW, any order, as often as asked, wrapping at the ring
//    end, in request order with exactly the DWs asked for, one beat per cycle sustained from one
//    request to the next (requests of two beats or more; one-beat requests back to back get a
//    beat every other cycle). Requests for a slot >= `slots` are answered with zeros and counted
//    (`unmapped_reads`).
//
// The ring is two banks of 32-bit words (even and odd DWs, rtl-src/hostmem/data-window.ts), so an
// odd-DW start costs nothing: each bank is read at its own word. Every output is a register or a
// decode of registers: the expect port enters through a one-word register (its ready is that
// register's emptiness), the request port straight into the window translation's one stage (its
// ready that stage's emptiness; the start address is added as the reader takes the request), the
// landed port leaves through a register slice, the response through an output register that moves
// with the RAM read stage on the response's tready (a plain pipeline stall), `fill_pointer` is the
// stored-word register times 8. Latencies (cycles, on an idle block): a data request taken in
// cycle t has its first beat on `window_response` in cycle t + 4 (base lookup, reader, RAM, output
// register); a user beat taken in cycle t is in the RAM at the end of cycle t and counted in
// `fill_pointer` from cycle t + 1; `write_landed` is valid from cycle t + 2 after the tlast beat
// (landed slice). Length bits below 8 bytes are ignored (LBA sizes are multiples of 8): `bytes` of
// an expect and of a release count whole words.
import { C, Module, type Value, cat, mux } from "../../hdl/index.ts";
import { fieldSlice } from "../lib/field-slice.ts";
import { pieceDownCounter, pieceFlagsOf } from "../lib/piece-down-counter.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "../lib/stream-payload.ts";
import { BUFFER_OFFSET_BITS, COMMAND_BYTES_BITS, WRITE_FILL_POINTER_BITS, bufferRelease, bufferSlotBase, writeExpect, writeLanded } from "../nvme/io-interfaces.ts";
import { completerDataRequest, payloadStream } from "../tlp/tlp-interfaces.ts";
import { userWriteData } from "../user/user-port.ts";
import { checkBufferParams, ringWidths, windowOffsetDw, windowSlot, windowTranslator } from "./data-window.ts";

export interface WriteBufferParams {
  /** Ring size in bytes: a power of two, 32 KiB..1 MiB (block RAM). */
  bytes: number;
  /** Command slots with a data window (1..64); reads of other slots' windows answer zeros. */
  slots: number;
}

const COUNTER_BITS = 32;
/** Bytes per ring word (one 64-bit beat). */
const WORD_BYTES_LOG2 = 3;
/**
 * Bits of a write command's length that can be set: at most 2^32 - 1 blocks (the user port's
 * block_count) of at most 4 KiB, so below 2^44 bytes (of the contract's COMMAND_BYTES_BITS).
 */
const COMMAND_LENGTH_BITS = 32 + 12;
if (COMMAND_LENGTH_BITS > COMMAND_BYTES_BITS) throw new Error("write_buffer: the contract's write_expect bytes are narrower than a command's length");
/** A data request asks for at most 1024 DWs: 512 beats. */
const REQUEST_BEAT_BITS = 10;

/**
 * The write data ring: the user's write stream stored as the engine's write_expect entries say,
 * served to the SSD's reads of the data windows at any alignment, one beat per cycle.
 */
export function writeBuffer(p: WriteBufferParams) {
  checkBufferParams("write_buffer", p.bytes, p.slots);
  const m = new Module(`write_buffer_b${p.bytes / 1024}k_s${p.slots}`);
  m.parameters({ bytes: p.bytes, slots: p.slots });
  const { wordBits } = ringWidths(p.bytes);
  const words = p.bytes / 8;

  const user_write_data = m.port(userWriteData, "slave");
  const write_expect = m.port(writeExpect, "slave");
  const write_landed = m.port(writeLanded, "master");
  const write_release = m.port(bufferRelease, "slave");
  const slot_base = m.port(bufferSlotBase, "slave");
  /** Bytes stored (padding included) modulo 2 x bytes. */
  const fill_pointer = m.output(WRITE_FILL_POINTER_BITS);
  /** The SSD's reads of the data windows (from host_memory_router) and their answers. */
  const window_request = m.port(completerDataRequest, "slave");
  const window_response = m.port(payloadStream, "master");
  /** Data requests for a slot >= slots (answered with zeros). */
  const unmapped_reads = m.output(COUNTER_BITS);

  m.waiveUnread(user_write_data.signals.tkeep, "LBA sizes are multiples of 8 bytes: every beat is whole");
  m.waiveUnread(write_expect.signals.bytes, `lengths are whole 8-byte words below 2^${COMMAND_LENGTH_BITS}: only bits [${COMMAND_LENGTH_BITS - 1}:3] are read`);
  m.waiveUnread(write_release.signals.bytes, "releases are whole words of the ring: bits [2:0] and those above 2 x bytes are not read");
  m.waiveUnread(window_request.signals.address, "the router sends only data-window addresses: the slot and the offset modulo the ring are read");

  const even_bank = m.memory({ width: 32, depth: words });
  const odd_bank = m.memory({ width: 32, depth: words });

  // ---- intake ----
  const expect_words = write_expect.signals.bytes.bits(COMMAND_LENGTH_BITS - 1, WORD_BYTES_LOG2);
  const expect = fieldSlice(
    m,
    "expect_slice",
    // The count's flags are computed before the slice: loading the count then copies flip-flops,
    // and the intake's decision (tvalid, tlast, full) stays within 6 levels of the count's flags.
    { words: expect_words, words_flags: pieceFlagsOf(expect_words), drop: write_expect.signals.drop },
    write_expect.signals.valid,
    { skid: false },
  );
  m.comb(write_expect.signals.ready, expect.ready);
  const landed_push = m.signal(1);
  const landed_ok = m.signal(1);
  const landed = fieldSlice(m, "landed_slice", { length_ok: landed_ok }, landed_push);
  m.comb(write_landed.signals.valid, landed.valid);
  m.comb(write_landed.signals.length_ok, landed.fields.length_ok);
  m.comb(landed.take, write_landed.signals.ready);

  // The engine counts bytes modulo 2^WRITE_FILL_POINTER_BITS whatever the ring's size
  // (io-interfaces.ts), so the stored words are counted at that width; the fill pointer in ring
  // words (modulo 2 x words) is its low bits. Fill and free pointers are full when they are
  // `words` apart.
  const stored_words = m.signal(WRITE_FILL_POINTER_BITS - WORD_BYTES_LOG2);
  const fill = stored_words.bits(wordBits, 0);
  const fill_plus_one = m.signal(wordBits + 1, { reset: 1 });
  const free = m.signal(wordBits + 1);
  const full = m.signal(1);
  /** Where fill stands when the ring is full: free + words. */
  const full_at = cat(free.msb().not(), free.bits(wordBits - 1, 0));

  const intake = m.fsm(["IDLE", "TAKE", "PAD"]);
  const drop = m.signal(1, { resetless: true });
  const store = m.signal(1);
  const load_command = m.signal(1);
  const words_left = pieceDownCounter(m, "words_left", { width: COMMAND_LENGTH_BITS - WORD_BYTES_LOG2, load: load_command, value: expect.fields.words, valueFlags: expect.fields.words_flags, step: store });
  /** Every expected word is stored: beats now are the cut tail of a stream that runs long. */
  const discard = drop.or(words_left.zero);
  const taking = intake.is("TAKE");
  const padding = intake.is("PAD");
  const in_ready = taking.and(landed.ready).and(discard.or(full.not()));
  const d = user_write_data.signals;
  m.comb(d.tready, in_ready);
  const beat = d.tvalid.and(in_ready);
  const store_beat = beat.and(discard.not());
  const store_pad = padding.and(full.not());
  m.comb(store, store_beat.or(store_pad));
  const beat_last = beat.and(d.tlast);
  /** tlast came before the last expected word: the rest is padded. */
  const pad_after = store_beat.and(words_left.one.not());
  const finishes = beat_last.and(pad_after.not()).or(store_pad.and(words_left.one));
  m.comb(load_command, expect.valid.and(intake.is("IDLE").or(finishes)));
  m.comb(expect.take, load_command);
  m.comb(landed_push, beat_last);
  m.comb(landed_ok, drop.or(store_beat.and(words_left.one)));

  m.If(load_command, () => m.sync(drop, expect.fields.drop));
  intake.body({
    IDLE: () => {
      m.If(expect.valid, () => intake.next("TAKE"));
    },
    TAKE: () => {
      m.If(beat_last, () => {
        m.If(pad_after, () => intake.next("PAD")).Elif(expect.valid.not(), () => intake.next("IDLE"));
      });
    },
    PAD: () => {
      m.If(store_pad.and(words_left.one), () => {
        m.If(expect.valid.not(), () => intake.next("IDLE")).Else(() => intake.next("TAKE"));
      });
    },
  });

  const store_data = mux(padding, C(0, 64), d.tdata);
  even_bank.writePort({ addr: fill.bits(wordBits - 1, 0), data: store_data.bits(31, 0), en: store });
  odd_bank.writePort({ addr: fill.bits(wordBits - 1, 0), data: store_data.bits(63, 32), en: store });

  m.If(store, () => {
    m.sync(fill_plus_one, fill_plus_one.addWrap(1));
    m.sync(stored_words, stored_words.addWrap(1));
  });
  // A release (the engine's registered strobe) of at least one word leaves room; otherwise a store
  // fills the ring when fill + 1 reaches full_at (both registers: the compare sits before the
  // store's select).
  const release_words = write_release.signals.bytes.bits(wordBits + WORD_BYTES_LOG2, WORD_BYTES_LOG2);
  const releasing = write_release.signals.valid.and(release_words.any());
  m.If(releasing, () => m.sync(full, 0)).Elif(store, () => m.sync(full, fill_plus_one.eq(full_at)));
  m.If(releasing, () => m.sync(free, free.addWrap(release_words)));
  m.comb(fill_pointer, cat(stored_words, C(0, WORD_BYTES_LOG2)));

  // ---- serving the SSD's reads ----
  // The request goes straight into the window translation, one stage (the base lookup, the fields
  // registered); its ready is that stage's emptiness, so it does not follow the response's tready,
  // and the reader adds the start address as it takes the request.
  const r = window_request.signals;
  const length = r.length_dw;
  const window = windowTranslator(m, "window", {
    bytes: p.bytes,
    slots: p.slots,
    slotBase: slot_base,
    valid: r.valid,
    slot: windowSlot(r.address),
    offsetDw: windowOffsetDw(r.address, p.bytes),
    /** Beats of the answer: ceil(length / 2), and whether the length is odd. */
    extra: cat(length.add(1).bits(REQUEST_BEAT_BITS, 1), length.bit(0)),
    registeredReady: true,
    stages: 1,
  });
  m.comb(r.ready, window.ready);

  // Three stages: the reader (the request being answered: its bank words, beats left), the RAM
  // read (both banks' read registers, `rd_*`), the output register (`window_response`). The RAM
  // stage and the output register move together when the output is free or taken (the RAMs hold
  // their words while not enabled): a plain pipeline stall on the response's tready.
  const rs = window_response.signals;
  const out_valid = m.signal(1);
  const advance = m.signal(1);
  m.comb(advance, out_valid.not().or(rs.tready));
  const running = m.signal(1);
  const rd_valid = m.signal(1);
  const odd_word = m.signal(wordBits, { resetless: true });
  const even_word = m.signal(wordBits, { resetless: true });
  const swap = m.signal(1, { resetless: true });
  const mapped = m.signal(1, { resetless: true });
  const odd_length = m.signal(1, { resetless: true });
  const issue = m.signal(1);
  const reader_load = m.signal(1);
  const beats_left = pieceDownCounter(m, "beats_left", { width: REQUEST_BEAT_BITS, load: reader_load, value: window.out.extra.bits(REQUEST_BEAT_BITS, 1), step: issue });
  m.comb(issue, running.and(rd_valid.not().or(advance)));
  const last_issue = issue.and(beats_left.one);
  m.comb(reader_load, window.out.valid.and(running.not().or(last_issue)));
  m.comb(window.take, reader_load);
  m.If(reader_load, () => {
    m.sync(odd_word, window.out.oddWord);
    m.sync(even_word, window.out.evenWord);
    m.sync(swap, window.out.odd);
    m.sync(mapped, window.out.mapped);
    m.sync(odd_length, window.out.extra.bit(0));
  }).Elif(issue, () => {
    m.sync(odd_word, odd_word.addWrap(1));
    m.sync(even_word, even_word.addWrap(1));
  });
  m.If(reader_load, () => m.sync(running, 1)).Elif(last_issue, () => m.sync(running, 0));
  statusCounter(m, unmapped_reads, reader_load.and(window.out.mapped.not()), "unmapped_read_count");

  const even_read = even_bank.readPort({ addr: even_word, en: issue });
  const odd_read = odd_bank.readPort({ addr: odd_word, en: issue });
  const rd_swap = m.signal(1, { resetless: true });
  const rd_zero = m.signal(1, { resetless: true });
  const rd_last = m.signal(1, { resetless: true });
  const rd_keep_low = m.signal(1, { resetless: true });
  m.If(issue, () => {
    m.sync(rd_swap, swap);
    m.sync(rd_zero, mapped.not());
    m.sync(rd_last, beats_left.one);
    m.sync(rd_keep_low, beats_left.one.and(odd_length));
  });
  m.If(issue, () => m.sync(rd_valid, 1)).Elif(advance, () => m.sync(rd_valid, 0));
  const beat_data: Value = mux(rd_swap, cat(even_read.data, odd_read.data), cat(odd_read.data, even_read.data));
  const out_data = m.signal(64, { resetless: true });
  const out_keep_low = m.signal(1, { resetless: true });
  const out_last = m.signal(1, { resetless: true });
  m.If(advance, () => {
    m.sync(out_valid, rd_valid);
    m.sync(out_data, mux(rd_zero, C(0, 64), beat_data));
    m.sync(out_keep_low, rd_keep_low);
    m.sync(out_last, rd_last);
  });
  m.comb(rs.tvalid, out_valid);
  m.comb(rs.tdata, out_data);
  m.comb(rs.tkeep, mux(out_keep_low, KEEP_LOW_DW, KEEP_BOTH_DW));
  m.comb(rs.tlast, out_last);

  return m.exposing({
    user_write_data,
    write_expect,
    write_landed,
    write_release,
    slot_base,
    fill_pointer,
    window_request,
    window_response,
    unmapped_reads,
  });
}
