// read_buffer, as emitted Verilog on both engines, with a 32 KiB ring, 8 slots and 8-bit tags.
//
// The test plays the I/O engine and the SSD around it. The engine allocates pieces of the ring
// (wrapping at its end, reused once released), gives each a slot and its base (slot_base), and the
// SSD writes each piece through the slot's data window in random memory writes: any DW start (odd
// ones included), 1..64 DWs, shuffled, some parts written twice, partial first/last byte enables,
// every DW distinct; poisoned writes and writes to slots the buffer has no window for go in between
// and must be dropped (the poisoned ones reported on slot_poisoned in order, in time, and both
// counted). Once a piece's last payload beat is taken the engine reads it out in one or two
// read_out entries, as soon as the next cycle; every beat the user takes (random tready) is checked
// byte for byte against a reference ring that applied the same writes, with its tag and tlast
// (only at the end of a command), and a read_release of 8 bytes must come the cycle after each beat
// the user took, and at no other time. The releases free the engine's allocation.
//
// Then the throughput figures: landing takes a write's first payload beat the cycle after its header,
// then a beat every cycle, one idle cycle between writes back to back; read-out gives a beat every
// cycle across entries of two beats or more, its first 4 cycles after the entry.
import { describe, expect, it } from "vitest";
import { readBuffer } from "../../../rtl-src/hostmem/read-buffer.ts";
import { dataWindowAddress } from "../../../rtl-src/nvme/io-interfaces.ts";
import { type EngineName, type Simulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { randomInt, seededRandom } from "../../../sim/random.ts";
import { StrobeDriver, beatOf, buildMonitored, quietReset, shuffle, streamPorts } from "../../../sim/testbench/io-buffer-harness.ts";
import { type Beat, StreamSink, StreamSource } from "../../../sim/testbench/stream-drivers.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const BYTES = 32 * 1024;
const SLOTS = 8;
const TAG_BITS = 8;
const UNMAPPED_SLOTS = [SLOTS, 33, 63];
/** Cycles from a read_out handshake to its first beat on user_read_data. */
const READ_OUT_LATENCY = 4;

interface MemoryWrite {
  address: bigint;
  dws: number[];
  firstBe: number;
  lastBe: number;
  poisoned: boolean;
  /** Slot of the window written. */
  slot: number;
  /** Index of the piece it belongs to, or -1. */
  piece: number;
}

interface Piece {
  /** Ring byte where it starts, counted from the start of the run (not wrapped). */
  start: number;
  bytes: number;
  slot: number;
  tag: number;
  /** The last piece of its command: its final read-out entry has `last`. */
  lastOfCommand: boolean;
  /** Payload beats still to be taken before it can be read out. */
  beatsToLand: number;
  /** Its bytes as the reference ring holds them once all its writes have landed. */
  expected?: Uint8Array;
}

interface Entry {
  base: number;
  bytes: number;
  tag: number;
  last: boolean;
  data: Uint8Array;
}

/** Byte enables of DW `i` of a write of `count` DWs. */
const dwEnables = (w: MemoryWrite, i: number) => (i === 0 ? w.firstBe : i === w.dws.length - 1 ? w.lastBe : 0xf);

function payloadBeats(dws: readonly number[]): Beat[] {
  const beats: Beat[] = [];
  for (let i = 0; i < dws.length; i += 2) {
    const both = i + 1 < dws.length;
    beats.push([beatOf(dws[i], both ? dws[i + 1] : 0), both ? 0xffn : 0x0fn, i + 2 >= dws.length ? 1n : 0n]);
  }
  return beats;
}

interface TrafficOptions {
  readiness: number;
  /** Ring bytes the run moves through the buffer. */
  totalBytes: number;
  maxCycles: number;
}

/**
 * Plays the engine and the SSD around the buffer until `totalBytes` have landed and been read out.
 * `ring` is the reference of the buffer's RAM (reset does not clear it), kept from run to run.
 */
function runTraffic(sim: Simulator, ring: Uint8Array, random: () => number, o: TrafficOptions) {
  const headerBeats: Beat[] = [];
  const payloadBeatList: Beat[] = [];
  /** For each payload beat, the write it belongs to. */
  const beatWrite: number[] = [];
  const writes: MemoryWrite[] = [];
  const headerSource = new StreamSource(sim, streamPorts(sim, "window_write"), ["address", "length_dw", "first_be", "last_be", "poisoned"], headerBeats, o.readiness, random);
  const payloadSource = new StreamSource(sim, streamPorts(sim, "window_write_data"), ["tdata", "tkeep", "tlast"], payloadBeatList, o.readiness, random);
  const entryBeats: Beat[] = [];
  const entries: Entry[] = [];
  const entrySource = new StreamSource(sim, streamPorts(sim, "read_out"), ["base", "bytes", "tag", "last"], entryBeats, o.readiness, random);
  const userSink = new StreamSink(sim, streamPorts(sim, "user_read_data"), ["tdata", "tkeep", "tuser", "tlast"], o.readiness, random);
  const slotBase = new StrobeDriver(sim, "slot_base");

  const pieces: Piece[] = [];
  const freeSlots = new Set(Array.from({ length: SLOTS }, (_, s) => s));
  let allocated = 0;
  let released = 0;
  let readOutPieces = 0;
  let commandTag = randomInt(random, 0, 255);
  let checkedBeats = 0;
  let entryAt = 0;
  let entryByte = 0;
  const releaseDue = new Map<number, number>();
  let releases = 0;
  const poisonExpected: { slot: number; firstBeatCycle: number }[] = [];
  const poisonSeen: { slot: number; cycle: number }[] = [];
  let poisonedCount = 0;
  let unmappedCount = 0;
  let writeSerial = 0;

  /** Headers and payloads of the writes made this cycle: offered from the next (see the loop). */
  const pending: (() => void)[] = [];
  const addWrite = (w: MemoryWrite) => {
    const index = writes.length;
    writes.push(w);
    pending.push(() => {
      headerBeats.push([w.address, BigInt(w.dws.length % 1024), BigInt(w.firstBe), BigInt(w.lastBe), w.poisoned ? 1n : 0n]);
      for (const beat of payloadBeats(w.dws)) {
        payloadBeatList.push(beat);
        beatWrite.push(index);
      }
    });
    if (w.piece >= 0) pieces[w.piece].beatsToLand += Math.ceil(w.dws.length / 2);
  };

  const allocate = () => {
    if (freeSlots.size === 0 || pieces.length - readOutPieces >= 4 || allocated >= o.totalBytes) return;
    const bytes = random() < 0.7 ? 512 * randomInt(random, 1, 4) : 8 * randomInt(random, 1, 300);
    if (allocated + bytes - released > BYTES) return;
    const slot = [...freeSlots][randomInt(random, 0, freeSlots.size - 1)];
    freeSlots.delete(slot);
    const lastOfCommand = random() < 0.5;
    const index = pieces.length;
    const piece: Piece = { start: allocated, bytes, slot, tag: commandTag, lastOfCommand, beatsToLand: 0 };
    pieces.push(piece);
    if (lastOfCommand) commandTag = randomInt(random, 0, 255);
    allocated += bytes;
    slotBase.push({ slot, base: piece.start % BYTES });
    // The SSD's writes: the whole piece in random cuts, some parts twice, in any order, with
    // partial byte enables at some ends; poisoned and unmapped writes in between.
    const dws = bytes / 4;
    const cuts: { offset: number; length: number }[] = [];
    for (let offset = 0; offset < dws; ) {
      const length = randomInt(random, 1, Math.min(dws - offset, 64));
      cuts.push({ offset, length });
      offset += length;
    }
    while (random() < 0.3) {
      const offset = randomInt(random, 0, dws - 1);
      cuts.push({ offset, length: randomInt(random, 1, Math.min(dws - offset, 20)) });
    }
    const pieceWrites: MemoryWrite[] = shuffle(cuts, random).map((c) => {
      const serial = writeSerial++;
      const partial = random() < 0.2;
      return {
        address: BigInt(dataWindowAddress(slot) + 4 * c.offset),
        dws: Array.from({ length: c.length }, (_, i) => ((serial * 0x0001_0003 + i * 0x0101_0101 + 0x5a00_0000) ^ (index << 8)) >>> 0),
        firstBe: partial ? randomInt(random, 1, 15) : 0xf,
        lastBe: c.length === 1 ? 0 : partial ? randomInt(random, 1, 15) : 0xf,
        poisoned: false,
        slot,
        piece: index,
      };
    });
    if (random() < 0.15) {
      const length = randomInt(random, 1, Math.min(dws, 16));
      const serial = writeSerial++;
      pieceWrites.splice(randomInt(random, 0, pieceWrites.length), 0, {
        address: BigInt(dataWindowAddress(slot) + 4 * randomInt(random, 0, dws - length)),
        dws: Array.from({ length }, (_, i) => (0xdead_0000 + serial * 64 + i) >>> 0),
        firstBe: 0xf, lastBe: length === 1 ? 0 : 0xf, poisoned: true, slot, piece: index,
      });
    }
    if (random() < 0.15) {
      const length = randomInt(random, 1, 16);
      const unmapped = UNMAPPED_SLOTS[randomInt(random, 0, UNMAPPED_SLOTS.length - 1)];
      pieceWrites.splice(randomInt(random, 0, pieceWrites.length), 0, {
        address: BigInt(dataWindowAddress(unmapped) + 4 * randomInt(random, 0, 2000)),
        dws: Array.from({ length }, (_, i) => (0xbad0_0000 + i) >>> 0),
        firstBe: 0xf, lastBe: length === 1 ? 0 : 0xf, poisoned: random() < 0.3, slot: unmapped, piece: -1,
      });
    }
    for (const w of pieceWrites) {
      addWrite(w);
      if (w.poisoned) poisonedCount++;
      if (w.piece < 0) unmappedCount++;
      if (w.poisoned || w.piece < 0) continue;
      // The reference: the write lands at (base + offset) mod BYTES, byte by byte as enabled.
      const offset = Number(w.address - BigInt(dataWindowAddress(slot)));
      w.dws.forEach((dw, i) => {
        const enables = dwEnables(w, i);
        for (let b = 0; b < 4; b++) if ((enables >> b) & 1) ring[(piece.start + offset + 4 * i + b) % BYTES] = (dw >>> (8 * b)) & 0xff;
      });
    }
    piece.expected = Uint8Array.from({ length: bytes }, (_, i) => ring[(piece.start + i) % BYTES]);
  };

  /** Read-out of a piece whose payload has all been taken: one or two entries. */
  const readOut = (piece: Piece) => {
    const words = piece.bytes / 8;
    const split = words > 1 && random() < 0.4 ? randomInt(random, 1, words - 1) : words;
    const parts = split === words ? [words] : [split, words - split];
    let at = 0;
    parts.forEach((partWords, i) => {
      const entry: Entry = {
        base: (piece.start + 8 * at) % BYTES,
        bytes: 8 * partWords,
        tag: piece.tag,
        last: piece.lastOfCommand && i === parts.length - 1,
        data: piece.expected!.subarray(8 * at, 8 * (at + partWords)),
      };
      entries.push(entry);
      entryBeats.push([BigInt(entry.base), BigInt(entry.bytes), BigInt(entry.tag), entry.last ? 1n : 0n]);
      at += partWords;
    });
    freeSlots.add(piece.slot);
  };

  const checkBeats = (cycle: number) => {
    for (; checkedBeats < userSink.received.length; checkedBeats++) {
      const [data, keep, tag, last] = userSink.received[checkedBeats];
      const entry = entries[entryAt];
      expect(entry, "a user beat no entry asked for").toBeDefined();
      const expected = entry.data.subarray(entryByte, entryByte + 8);
      const final = entryByte + 8 === entry.bytes;
      expect({ entry: entryAt, byte: entryByte, data: data.toString(16), keep, tag: Number(tag), last: last === 1n }).toEqual({
        entry: entryAt,
        byte: entryByte,
        data: Buffer.from(expected).reverse().toString("hex").replace(/^0+(?=.)/, ""),
        keep: 0xffn,
        tag: entry.tag,
        last: final && entry.last,
      });
      entryByte += 8;
      releaseDue.set(cycle + 1, 8);
      if (final) {
        entryAt++;
        entryByte = 0;
      }
    }
  };

  let cycle = 0;
  for (; ; cycle++) {
    if (cycle >= o.maxCycles) throw new Error(`stuck at cycle ${cycle}: ${payloadSource.sent}/${payloadBeatList.length} beats landed, ${entryAt}/${entries.length} entries read out`);
    if (allocated >= o.totalBytes && released === allocated && entryAt === entries.length) break;
    // The release strobe of the beat the user took last cycle, and no other.
    const releaseValid = sim.peek("read_release_valid");
    const due = releaseDue.get(cycle);
    expect({ cycle, release: releaseValid ? sim.peek("read_release_bytes") : undefined }).toEqual({ cycle, release: due });
    if (due !== undefined) {
      releaseDue.delete(cycle);
      released += due;
      releases++;
    }
    if (sim.peek("slot_poisoned_valid")) poisonSeen.push({ slot: sim.peek("slot_poisoned_slot"), cycle });
    // The SSD writes a slot's window after its base strobe (in hardware after the doorbell, long
    // after): the writes of a piece allocated last cycle are offered from this one.
    for (const offer of pending.splice(0)) offer();
    allocate();

    headerSource.drive();
    payloadSource.drive();
    entrySource.drive();
    userSink.drive();
    slotBase.drive();
    const sentBefore = payloadSource.sent;
    headerSource.settle();
    payloadSource.settle();
    entrySource.settle();
    userSink.settle();
    if (payloadSource.sent > sentBefore) {
      const beat = sentBefore;
      const w = writes[beatWrite[beat]];
      const firstOfWrite = beat === 0 || beatWrite[beat - 1] !== beatWrite[beat];
      if (firstOfWrite && w.poisoned && w.piece >= 0) poisonExpected.push({ slot: w.slot, firstBeatCycle: cycle });
      if (w.piece >= 0) {
        const piece = pieces[w.piece];
        piece.beatsToLand--;
      }
    }
    sim.step();
    // A piece whose every beat was taken can be read out from the next cycle on.
    while (readOutPieces < pieces.length && pieces[readOutPieces].beatsToLand === 0 && pieces[readOutPieces].expected) readOut(pieces[readOutPieces++]);
    checkBeats(cycle);
  }
  return { cycles: cycle, releases, beats: userSink.received.length, poisonExpected, poisonSeen, poisonedCount, unmappedCount, writes: writes.length };
}

describe.each(engines)("read_buffer, %s engine", (engine) => {
  let sim: Simulator | undefined;
  /** What the simulated RAM holds: zeros at power-up, then every landed write. */
  const ring = new Uint8Array(BYTES);
  const build = async () => (sim ??= await buildMonitored(readBuffer({ bytes: BYTES, slots: SLOTS, tagBits: TAG_BITS }), engine));

  it("rejects bad parameters, naming them", () => {
    expect(() => readBuffer({ bytes: 3 * 1024 * 1024, slots: 8, tagBits: 8 })).toThrow(/read_buffer: bytes 3145728 is not a power of two/);
    expect(() => readBuffer({ bytes: BYTES, slots: 100, tagBits: 8 })).toThrow(/read_buffer: slots 100/);
    expect(() => readBuffer({ bytes: BYTES, slots: 8, tagBits: 0 })).toThrow(/read_buffer: tagBits 0 is not an integer in 1..16/);
  });

  for (const [readiness, seed] of [[0.6, 1], [1, 2]] as const) {
    it(`lands the SSD's writes at any alignment and reads them out to the user, ${readiness === 1 ? "nothing stalling" : "random back-pressure"}`, { timeout: 120_000 }, async () => {
      const s = await build();
      quietReset(s);
      const r = runTraffic(s, ring, seededRandom(seed + (engine === "js" ? 0 : 100)), { readiness, totalBytes: 3 * BYTES, maxCycles: 100_000 });
      expect(r.releases).toBe(r.beats);
      // Each poisoned write to a live slot is reported once, in order, by the cycle its first beat is taken.
      expect(r.poisonSeen.map((p) => p.slot)).toEqual(r.poisonExpected.map((p) => p.slot));
      r.poisonSeen.forEach((p, i) => expect(p.cycle).toBeLessThanOrEqual(r.poisonExpected[i].firstBeatCycle));
      expect(r.poisonExpected.length).toBeGreaterThan(0);
      expect(s.peek("poisoned_writes")).toBe(r.poisonedCount);
      expect(r.unmappedCount).toBeGreaterThan(0);
      expect(s.peek("unmapped_writes")).toBe(r.unmappedCount);
    });
  }

  it("takes a write's first payload beat the cycle after its header, then a beat every cycle, with one idle cycle between writes back to back", async () => {
    const s = await build();
    quietReset(s);
    const lengths = [3, 4, 64, 3, 33, 4, 2, 2, 1, 2, 2];
    const headers: Beat[] = lengths.map((n, i) => [BigInt(dataWindowAddress(i % SLOTS) + 4 * (i + 1)), BigInt(n), 0xfn, n > 1 ? 0xfn : 0n, 0n]);
    const perWrite = lengths.map((n) => payloadBeats(Array.from({ length: n }, (_, i) => i)));
    const beats = perWrite.flat();
    const random = seededRandom(9);
    const headerSource = new StreamSource(s, streamPorts(s, "window_write"), ["address", "length_dw", "first_be", "last_be", "poisoned"], headers, 1, random);
    const payloadSource = new StreamSource(s, streamPorts(s, "window_write_data"), ["tdata", "tkeep", "tlast"], beats, 1, random);
    const taken: number[] = [];
    for (let cycle = 0; cycle < 200 && payloadSource.sent < beats.length; cycle++) {
      headerSource.drive();
      payloadSource.drive();
      const before = payloadSource.sent;
      headerSource.settle();
      payloadSource.settle();
      if (payloadSource.sent > before) taken.push(cycle);
      s.step();
    }
    expect(taken).toHaveLength(beats.length);
    // One translation stage: the first beat is taken the cycle after its header (cycle 0).
    expect(taken[0]).toBe(1);
    // Within a write no gap; the next header is taken the cycle after a write's last beat, and
    // its first beat the cycle after that.
    const steps = taken.slice(1).map((c, i) => c - taken[i]);
    const expected: number[] = [];
    perWrite.forEach((w, i) => {
      if (i > 0) expected.push(2);
      for (let k = 1; k < w.length; k++) expected.push(1);
    });
    expect(steps).toEqual(expected);
  });

  it(`reads out a beat every cycle across entries, the first ${READ_OUT_LATENCY} cycles after the entry`, async () => {
    // Entries of two beats and more (the engine's are whole logical blocks, 64 beats at least).
    const s = await build();
    quietReset(s);
    const sizes = [64, 16, 16, 512, 24];
    const bases = [BYTES - 64, 0, 8, BYTES - 256, 1000]; // the fourth wraps at the ring end
    const entries: Beat[] = sizes.map((bytes, i) => [BigInt(bases[i]), BigInt(bytes), BigInt(0x40 + i), i === sizes.length - 1 ? 1n : 0n]);
    const entrySource = new StreamSource(s, streamPorts(s, "read_out"), ["base", "bytes", "tag", "last"], entries, 1, seededRandom(4));
    s.poke("user_read_data_tready", 1);
    let handshake = -1;
    const beats: { cycle: number; tag: number; last: number }[] = [];
    const releases: { cycle: number; bytes: number }[] = [];
    const total = sizes.reduce((a, b) => a + b, 0) / 8;
    for (let cycle = 0; cycle < 300; cycle++) {
      entrySource.drive();
      const before = entrySource.sent;
      entrySource.settle();
      if (handshake < 0 && entrySource.sent > before) handshake = cycle;
      if (s.peek("user_read_data_tvalid")) beats.push({ cycle, tag: s.peek("user_read_data_tuser"), last: s.peek("user_read_data_tlast") });
      if (s.peek("read_release_valid")) releases.push({ cycle, bytes: s.peek("read_release_bytes") });
      s.step();
    }
    expect(beats).toHaveLength(total);
    expect(beats[0].cycle - handshake).toBe(READ_OUT_LATENCY);
    expect(beats[total - 1].cycle - beats[0].cycle).toBe(total - 1);
    expect(beats.map((b) => b.tag)).toEqual(sizes.flatMap((bytes, i) => new Array(bytes / 8).fill(0x40 + i)));
    expect(beats.filter((b) => b.last).map((b) => b.cycle)).toEqual([beats[total - 1].cycle]);
    // Each beat's 8 bytes released the cycle after it was taken.
    expect(releases).toEqual(beats.map((b) => ({ cycle: b.cycle + 1, bytes: 8 })));
  });
});
