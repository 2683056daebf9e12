// write_buffer, as emitted Verilog on both engines, with a 32 KiB ring and 8 slots.
//
// The test plays the I/O engine and the SSD around it. Write commands go in as write_expect
// entries, their data on user_write_data (every DW distinct per command and position) with random
// gaps: exact lengths, tlast early (padded with zeros) and late (cut), dropped commands, a command
// longer than the ring and padding that fills it. As fill_pointer shows data stored, the engine
// cuts it into pieces, gives each a slot and its base (slot_base), and the SSD reads the piece
// through the slot's data window in random requests (any DW start, odd ones included, any length,
// shuffled, some read twice, wrapping at the ring end), plus reads of slots the buffer has no
// window for; every answer is checked DW by DW against a reference of what was stored, in request
// order. A piece is released once all its reads are answered. Some pieces wait until the ring is
// full, so the user's stream stalls there and resumes after the release. write_landed must report
// each command's length check in order, and fill_pointer must count every stored word (padding
// included) and never run more than the ring ahead of the releases.
//
// Then the figures the I/O engine is built on: the intake takes a beat every cycle across command
// boundaries, fill_pointer counts a beat the cycle after it is taken, and a 512-byte read cut into
// completions (at an even and at an odd DW start) streams one beat per cycle with the first beat 4
// cycles after the first request.
import { describe, expect, it } from "vitest";
import { WRITE_FILL_POINTER_BITS, dataWindowAddress } from "../../../rtl-src/nvme/io-interfaces.ts";
import { writeBuffer } from "../../../rtl-src/hostmem/write-buffer.ts";
import { type EngineName, type Simulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { randomInt, seededRandom } from "../../../sim/random.ts";
import { StrobeDriver, beatOf, quietReset, buildMonitored, highDw, lowDw, shuffle, streamPorts } from "../../../sim/testbench/io-buffer-harness.ts";
import { type Beat, StreamSink, StreamSource } from "../../../sim/testbench/stream-drivers.ts";

/** fill_pointer counts stored bytes modulo 2^WRITE_FILL_POINTER_BITS, whatever the ring's size (io-interfaces.ts). */
const FILL_MODULUS = 2 ** WRITE_FILL_POINTER_BITS;

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const BYTES = 32 * 1024;
const WORDS = BYTES / 8;
const SLOTS = 8;
/** Slots of the map the buffer has no window for (reads answer zeros). */
const UNMAPPED_SLOTS = [SLOTS, 21, 63];
/** Cycles from a data request's handshake to its first beat on window_response. */
const READ_LATENCY = 4;

interface WriteCommand {
  /** Expected length in 8-byte words (write_expect bytes / 8). */
  words: number;
  /** Beats the user sends, tlast on the last. */
  sent: number;
  drop: boolean;
}

/** The DW at position `dw` of command `command`'s data: distinct per command and position. */
const dataDw = (command: number, dw: number) => ((((command & 0xff) << 24) | (dw & 0xff_ffff)) ^ 0x00a5_0000) >>> 0;

/** Every DW the buffer stores, in store order: data up to the expected length, then zero padding. */
function storedStream(commands: readonly WriteCommand[]): Uint32Array {
  const total = commands.reduce((sum, c) => sum + (c.drop ? 0 : c.words), 0);
  const dws = new Uint32Array(2 * total);
  let at = 0;
  commands.forEach((c, n) => {
    if (c.drop) return;
    for (let i = 0; i < 2 * Math.min(c.words, c.sent); i++) dws[at + i] = dataDw(n, i);
    at += 2 * c.words;
  });
  return dws;
}

function userBeats(commands: readonly WriteCommand[]): Beat[] {
  return commands.flatMap((c, n) => Array.from({ length: c.sent }, (_, i): Beat => [beatOf(dataDw(n, 2 * i), dataDw(n, 2 * i + 1)), 0xffn, i === c.sent - 1 ? 1n : 0n]));
}

interface ReadRequest {
  address: bigint;
  length: number;
  expected: number[];
  /** Index of the piece it reads, or -1 for an unmapped slot. */
  piece: number;
}

interface Piece {
  /** First word, counted from the start of the stored stream. */
  start: number;
  words: number;
  slot: number;
  unanswered: number;
}

interface TrafficOptions {
  /** Probability a source offers a beat / a sink is ready, each cycle. */
  readiness: number;
  /** Probability a piece waits for the ring to be full before it is cut. */
  lazyPieces: number;
  maxCycles: number;
}

/** Plays the engine and the SSD around the buffer until every command is stored, read and released. */
function runTraffic(sim: Simulator, commands: readonly WriteCommand[], random: () => number, o: TrafficOptions) {
  const stored = storedStream(commands);
  const totalWords = stored.length / 2;
  const chance = () => random() < o.readiness;
  const expectSource = new StreamSource(sim, streamPorts(sim, "write_expect"), ["bytes", "drop"], commands.map((c): Beat => [BigInt(8 * c.words), c.drop ? 1n : 0n]), o.readiness, random);
  const beats = userBeats(commands);
  const userSource = new StreamSource(sim, streamPorts(sim, "user_write_data"), ["tdata", "tkeep", "tlast"], beats, o.readiness, random);
  const landedSink = new StreamSink(sim, streamPorts(sim, "write_landed"), ["length_ok"], o.readiness, random);
  const requestBeats: Beat[] = [];
  const requestSource = new StreamSource(sim, streamPorts(sim, "window_request"), ["address", "length_dw"], requestBeats, o.readiness, random);
  const responseSink = new StreamSink(sim, streamPorts(sim, "window_response"), ["tdata", "tkeep", "tlast"], o.readiness, random);
  const slotBase = new StrobeDriver(sim, "slot_base");
  const release = new StrobeDriver(sim, "write_release");
  /** Pieces whose release strobe is queued, in order. */
  const releasing: Piece[] = [];

  const requests: ReadRequest[] = [];
  const pieces: Piece[] = [];
  const freeSlots = new Set(Array.from({ length: SLOTS }, (_, s) => s));
  let cutUpTo = 0;
  let released = 0;
  let releasedPieces = 0;
  let waitForFull = random() < o.lazyPieces;
  let fill = 0;
  let lastFillPointer = 0;
  let answered = 0;
  let answerDws: number[] = [];
  let checkedBeats = 0;
  let maxOccupancy = 0;
  let stallsWhileFull = 0;
  let unmappedRequests = 0;

  const cutPiece = () => {
    const available = fill - cutUpTo;
    const occupancy = fill - released;
    if (available === 0 || freeSlots.size === 0 || pieces.length - releasedPieces >= 4) return;
    const allIn = fill === totalWords;
    if (waitForFull && occupancy < WORDS && !allIn) return;
    let words = randomInt(random, 1, 512);
    if (words > available) {
      if (occupancy < WORDS && !allIn) return;
      words = available;
    }
    const slot = [...freeSlots][randomInt(random, 0, freeSlots.size - 1)];
    freeSlots.delete(slot);
    const index = pieces.length;
    const piece: Piece = { start: cutUpTo, words, slot, unanswered: 0 };
    pieces.push(piece);
    cutUpTo += words;
    waitForFull = random() < o.lazyPieces;
    slotBase.push({ slot, base: (8 * piece.start) % BYTES });
    // The SSD reads the whole piece in random cuts, some parts twice, in any order.
    const dws = 2 * words;
    const reads: { offset: number; length: number }[] = [];
    for (let offset = 0; offset < dws; ) {
      const length = randomInt(random, 1, Math.min(dws - offset, random() < 0.1 ? 1024 : 48));
      reads.push({ offset, length });
      offset += length;
    }
    while (random() < 0.3) {
      const offset = randomInt(random, 0, dws - 1);
      reads.push({ offset, length: randomInt(random, 1, Math.min(dws - offset, 40)) });
    }
    for (const r of shuffle(reads, random)) {
      const expected = Array.from({ length: r.length }, (_, i) => stored[2 * piece.start + r.offset + i]);
      requests.push({ address: BigInt(dataWindowAddress(slot) + 4 * r.offset), length: r.length, expected, piece: index });
      piece.unanswered++;
    }
    // Reads of slots with no window now and then (the first piece always has one).
    if (random() < 0.1 || unmappedRequests === 0) {
      const length = randomInt(random, 1, 40);
      const slot = UNMAPPED_SLOTS[randomInt(random, 0, UNMAPPED_SLOTS.length - 1)];
      requests.push({ address: BigInt(dataWindowAddress(slot) + 4 * randomInt(random, 0, 4000)), length, expected: new Array(length).fill(0), piece: -1 });
      unmappedRequests++;
    }
  };

  const checkAnswers = () => {
    for (; checkedBeats < responseSink.received.length; checkedBeats++) {
      const [data, keep, last] = responseSink.received[checkedBeats];
      const request = requests[answered];
      expect(request, "an answer beat no request asked for").toBeDefined();
      expect([0xffn, 0x0fn]).toContain(keep);
      answerDws.push(lowDw(data));
      if (keep === 0xffn) answerDws.push(highDw(data));
      const complete = answerDws.length >= request.length;
      expect({ request: answered, last: last === 1n }).toEqual({ request: answered, last: complete });
      if (keep === 0x0fn) expect(last).toBe(1n);
      if (!complete) continue;
      expect(answerDws, `request ${answered}: ${request.length} DWs at 0x${request.address.toString(16)}`).toEqual(request.expected);
      answerDws = [];
      answered++;
      if (request.piece >= 0) pieces[request.piece].unanswered--;
    }
    // Pieces are retired in order, each once all its reads are answered.
    while (releasedPieces < pieces.length && pieces[releasedPieces].unanswered === 0) {
      const piece = pieces[releasedPieces++];
      release.push({ bytes: 8 * piece.words });
      releasing.push(piece);
    }
  };

  let cycle = 0;
  for (; ; cycle++) {
    if (cycle >= o.maxCycles) {
      throw new Error(`stuck at cycle ${cycle}: ${userSource.sent}/${beats.length} beats sent, fill ${fill}/${totalWords}, ${answered}/${requests.length} reads answered, ${released} words released`);
    }
    const done = landedSink.received.length === commands.length && released === totalWords && answered === requests.length;
    if (done) break;
    const fillPointer = sim.peek("fill_pointer");
    fill += ((fillPointer - lastFillPointer + FILL_MODULUS) % FILL_MODULUS) / 8;
    lastFillPointer = fillPointer;
    // Releases count once their strobe has been applied.
    const occupancy = fill - released;
    expect(occupancy, `cycle ${cycle}: stored words not yet released`).toBeLessThanOrEqual(WORDS);
    maxOccupancy = Math.max(maxOccupancy, occupancy);
    // The SSD reads a piece's window after its base strobe (in hardware after the doorbell, long
    // after): the requests of a piece cut last cycle are offered from this one.
    for (const r of requests.slice(requestBeats.length)) requestBeats.push([r.address, BigInt(r.length)]);
    cutPiece();

    expectSource.drive();
    userSource.drive();
    landedSink.drive();
    requestSource.drive();
    responseSink.drive();
    slotBase.drive();
    release.drive();
    const releasedNow = releasing.shift();
    if (releasedNow) {
      released += releasedNow.words;
      freeSlots.add(releasedNow.slot);
    }
    if (occupancy === WORDS && sim.peek("user_write_data_tvalid") && !sim.peek("user_write_data_tready")) stallsWhileFull++;
    expectSource.settle();
    userSource.settle();
    landedSink.settle();
    requestSource.settle();
    responseSink.settle();
    sim.step();
    checkAnswers();
  }
  return {
    cycles: cycle,
    fill,
    totalWords,
    landed: landedSink.received.map(([ok]) => Number(ok)),
    maxOccupancy,
    stallsWhileFull,
    unmappedRequests,
    requests: requests.length,
  };
}

/** The write_landed length_ok each command must get: exact, or dropped (don't care, reported 1). */
const lengthOk = (commands: readonly WriteCommand[]) => commands.map((c) => (c.drop || c.sent === c.words ? 1 : 0));

describe.each(engines)("write_buffer, %s engine", (engine) => {
  let sim: Simulator | undefined;
  const build = async () => (sim ??= await buildMonitored(writeBuffer({ bytes: BYTES, slots: SLOTS }), engine));

  it("rejects bad parameters, naming them", () => {
    expect(() => writeBuffer({ bytes: 48 * 1024, slots: 8 })).toThrow(/write_buffer: bytes 49152 is not a power of two/);
    expect(() => writeBuffer({ bytes: 16 * 1024, slots: 8 })).toThrow(/bytes 16384/);
    expect(() => writeBuffer({ bytes: BYTES, slots: 0 })).toThrow(/write_buffer: slots 0 is not an integer in 1..64/);
    expect(() => writeBuffer({ bytes: BYTES, slots: 65 })).toThrow(/slots 65/);
  });

  const commands: WriteCommand[] = [
    { words: 64, sent: 64, drop: false },
    { words: 6000, sent: 6000, drop: false }, // longer than the ring (4096 words)
    { words: 200, sent: 130, drop: false }, // tlast early: 70 words of padding
    { words: 100, sent: 180, drop: false }, // runs long: 80 beats cut
    { words: 50, sent: 50, drop: true },
    { words: 1, sent: 1, drop: false },
    { words: 3000, sent: 1, drop: false }, // tlast on the first beat: padding fills the ring
    { words: 64, sent: 65, drop: false },
    { words: 64, sent: 63, drop: false },
    { words: 512, sent: 1, drop: true },
    { words: 700, sent: 700, drop: false },
  ];

  it("stores write commands as expected and answers the SSD's reads of every slot's window, ring full and wrapping", { timeout: 120_000 }, async () => {
    const s = await build();
    quietReset(s);
    const result = runTraffic(s, commands, seededRandom(engine === "js" ? 11 : 12), { readiness: 0.7, lazyPieces: 0.3, maxCycles: 120_000 });
    expect(result.landed).toEqual(lengthOk(commands));
    expect(result.fill).toBe(result.totalWords);
    expect(result.maxOccupancy).toBe(WORDS);
    expect(result.stallsWhileFull).toBeGreaterThan(0);
    expect(result.unmappedRequests).toBeGreaterThan(0);
    expect(s.peek("unmapped_reads")).toBe(result.unmappedRequests);
    expect(s.peek("fill_pointer")).toBe((8 * result.totalWords) % FILL_MODULUS);
  });

  it("keeps every stream going with no gaps when nothing stalls", { timeout: 60_000 }, async () => {
    const s = await build();
    quietReset(s);
    const random = seededRandom(5);
    const more: WriteCommand[] = Array.from({ length: 12 }, () => {
      const words = 64 * randomInt(random, 1, 8);
      const kind = random();
      return { words, sent: kind < 0.2 ? words - randomInt(random, 1, 60) : kind < 0.4 ? words + randomInt(random, 1, 30) : words, drop: random() < 0.15 };
    });
    const result = runTraffic(s, more, random, { readiness: 1, lazyPieces: 0, maxCycles: 40_000 });
    expect(result.landed).toEqual(lengthOk(more));
    expect(result.fill).toBe(result.totalWords);
  });

  it("takes a user beat every cycle across commands, and counts it in fill_pointer the next cycle", async () => {
    const s = await build();
    quietReset(s);
    const words = [256, 64, 128];
    const expectSource = new StreamSource(s, streamPorts(s, "write_expect"), ["bytes", "drop"], words.map((w): Beat => [BigInt(8 * w), 0n]), 1, seededRandom(3));
    const beats = userBeats(words.map((w) => ({ words: w, sent: w, drop: false })));
    s.poke("write_landed_ready", 1);
    for (let i = 0; i < 4; i++) {
      expectSource.drive();
      expectSource.settle();
      s.step();
    }
    // The first command's length is in the intake, the second's waits in the expect register.
    expect(expectSource.sent).toBe(2);
    const taken: number[] = [];
    const fillAfter: number[] = [];
    for (let cycle = 0, next = 0; next < beats.length && cycle < 1000; cycle++) {
      expectSource.drive();
      expectSource.settle();
      const [data, keep, last] = beats[next];
      s.poke("user_write_data_tvalid", 1);
      s.poke("user_write_data_tdata", data);
      s.poke("user_write_data_tkeep", keep);
      s.poke("user_write_data_tlast", last);
      const ready = s.peek("user_write_data_tready") === 1;
      s.step();
      if (ready) {
        taken.push(cycle);
        fillAfter.push(s.peek("fill_pointer"));
        next++;
      }
    }
    s.poke("user_write_data_tvalid", 0);
    expect(expectSource.sent).toBe(words.length);
    const total = words.reduce((a, b) => a + b, 0);
    expect(taken).toHaveLength(total);
    expect(taken[total - 1] - taken[0]).toBe(total - 1);
    expect(fillAfter).toEqual(Array.from({ length: total }, (_, i) => 8 * (i + 1)));
    s.step(4);
    expect(s.peek("write_landed_valid")).toBe(0);
  });

  for (const startDw of [0, 1]) {
    it(`answers a 512-byte read cut into completions at ${startDw === 0 ? "an even" : "an odd"} DW start one beat per cycle, first beat ${READ_LATENCY} cycles after the request`, async () => {
      const s = await build();
      quietReset(s);
      // Fill 1 KiB of the ring through the intake, at the ring's start.
      const words = 128;
      const command: WriteCommand = { words, sent: words, drop: false };
      const beats = userBeats([command]);
      const stored = storedStream([command]);
      s.poke("write_expect_valid", 1);
      s.poke("write_expect_bytes", 8 * words);
      s.poke("write_expect_drop", 0);
      s.poke("write_landed_ready", 1);
      s.step();
      s.poke("write_expect_valid", 0);
      for (let next = 0; next < beats.length; ) {
        s.poke("user_write_data_tvalid", 1);
        s.poke("user_write_data_tdata", beats[next][0]);
        s.poke("user_write_data_tkeep", 0xff);
        s.poke("user_write_data_tlast", beats[next][2]);
        if (s.peek("user_write_data_tready")) next++;
        s.step();
      }
      s.poke("user_write_data_tvalid", 0);
      const slot = 5;
      const base = 64; // bytes into the ring
      s.poke("slot_base_valid", 1);
      s.poke("slot_base_slot", slot);
      s.poke("slot_base_base", base);
      s.step();
      s.poke("slot_base_valid", 0);
      // The completer's cuts of a 512-byte read (RCB 64, MPS 256): to the first 64-byte boundary, then 256, then the rest.
      const first = 16 - (startDw % 16);
      const cuts = [first, 64, 128 - first - 64];
      const offsets = cuts.map((_, i) => startDw + cuts.slice(0, i).reduce((a, b) => a + b, 0));
      s.poke("window_response_tready", 1);
      const requestCycles: number[] = [];
      const beatCycles: number[] = [];
      const got: number[] = [];
      for (let cycle = 0, next = 0; cycle < 200; cycle++) {
        s.poke("window_request_valid", next < cuts.length ? 1 : 0);
        if (next < cuts.length) {
          s.poke("window_request_address", BigInt(dataWindowAddress(slot) + 4 * offsets[next]));
          s.poke("window_request_length_dw", cuts[next]);
          if (s.peek("window_request_ready")) {
            requestCycles.push(cycle);
            next++;
          }
        }
        if (s.peek("window_response_tvalid")) {
          beatCycles.push(cycle);
          const data = s.peekBig("window_response_tdata");
          got.push(lowDw(data));
          if (s.peek("window_response_tkeep") === 0xff) got.push(highDw(data));
        }
        s.step();
      }
      const total = cuts.reduce((a, b) => a + b, 0);
      const beatsExpected = cuts.reduce((sum, n) => sum + Math.ceil(n / 2), 0);
      expect(got).toEqual(Array.from(stored.subarray(base / 4 + startDw, base / 4 + startDw + total)));
      expect(beatCycles).toHaveLength(beatsExpected);
      expect(beatCycles[0] - requestCycles[0]).toBe(READ_LATENCY);
      // Back to back: no idle cycle inside the answer, also where one request's answer ends and the next begins.
      expect(beatCycles[beatCycles.length - 1] - beatCycles[0]).toBe(beatsExpected - 1);
    });
  }
});
