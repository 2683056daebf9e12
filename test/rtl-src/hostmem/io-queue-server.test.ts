// io_queue_server, as emitted Verilog on both engines.
//
// The bench plays the I/O engine (slot records, SQ entry table) and the completer (data requests,
// the response with random back-pressure); every DW served is checked against the reference
// (sim/testbench/io-queue-reference.ts), which builds the SQ entries and PRP list pages from the
// contract's rules with the same field tables. Reads cover whole entries, several entries, parts
// of entries from odd DWs, whole and partial PRP list pages, Dataset Management ranges, pages of
// slots past `slots`, and records rewritten between reads. The SSD model's own parser and PRP
// walker then read served entries and lists, to show the model accepts them. Last, the timing the
// completer relies on: the first beat four cycles after the request, then one beat per cycle, with
// no gap between back-to-back requests.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { type IoQueueServerParams, ioQueueServer } from "../../../rtl-src/hostmem/io-queue-server.ts";
import { HOST_PAGE_BYTES, MAX_PIECE_BYTES_LIMIT, NvmIoOpcode, dataWindowAddress, prpListAddress } from "../../../rtl-src/nvme/io-interfaces.ts";
import { encodeDsmRanges } from "../../../sim/host/commands.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { type PrpResult, walkPrps } from "../../../sim/nvme/prp.ts";
import { parseSubmissionEntry } from "../../../sim/nvme/submission-entry.ts";
import { randomInt, seededRandom } from "../../../sim/random.ts";
import { type IoQueueTables, type IoSlotRecord, ioQueueDws } from "../../../sim/testbench/io-queue-reference.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const SQ = HostMemoryMap.ioSq.base;
const PRP = HostMemoryMap.prpLists.base;
const OPCODES = Object.values(NvmIoOpcode);

/** One data request and the DWs it was answered with (filled as the beats come). */
interface Read {
  address: number;
  lengthDw: number;
  answer: number[];
  done: boolean;
  /** Cycle of the request's handshake, and of each beat's. */
  takenAt?: number;
  beatCycles: number[];
}

/** Plays the I/O engine's table writes and the completer's side of the data requests. */
class ServerBench {
  readonly tables: { slots: number; records: IoSlotRecord[]; sqSlots: number[] } & IoQueueTables;
  cycle = 0;
  /** Probability that `response_tready` is high in a cycle, and that a waiting request is offered. */
  readyProbability = 0.7;
  offerProbability = 0.7;
  private readonly waiting: Read[] = [];
  private readonly answering: Read[] = [];
  private offered = false;
  private readonly words = new Uint32Array(2);

  constructor(readonly sim: Simulator, readonly params: IoQueueServerParams, private readonly random: () => number) {
    this.tables = { slots: params.slots, records: [], sqSlots: new Array(params.sqEntries).fill(0) };
    sim.reset(2);
    for (const name of ["slot_record_valid", "sq_entry_valid", "request_valid", "response_tready"]) sim.poke(name, 0);
  }

  writeRecord(slot: number, r: IoSlotRecord): void {
    const { sim } = this;
    sim.poke("slot_record_slot", slot);
    sim.poke("slot_record_opcode", r.opcode);
    sim.poke("slot_record_nsid", r.nsid >>> 0);
    sim.poke("slot_record_slba", r.slba);
    sim.poke("slot_record_blocks", r.blocks >>> 0);
    sim.poke("slot_record_bytes", r.bytes);
    sim.poke("slot_record_fua", r.fua ? 1 : 0);
    sim.poke("slot_record_valid", 1);
    this.step();
    sim.poke("slot_record_valid", 0);
    this.tables.records[slot] = r;
  }

  writeSqEntry(index: number, slot: number): void {
    const { sim } = this;
    sim.poke("sq_entry_index", index);
    sim.poke("sq_entry_slot", slot);
    sim.poke("sq_entry_valid", 1);
    this.step();
    sim.poke("sq_entry_valid", 0);
    this.tables.sqSlots[index] = slot;
  }

  /** Queues a data request; the bench offers it when the ones before it are taken. */
  read(address: number, lengthDw: number): Read {
    const r: Read = { address, lengthDw, answer: [], done: false, beatCycles: [] };
    this.waiting.push(r);
    return r;
  }

  /** Runs until every queued request is answered in full. */
  drain(maxCycles = 20_000): void {
    for (let n = 0; n < maxCycles; n++) {
      if (this.waiting.length === 0 && this.answering.length === 0) return;
      this.step();
    }
    throw new Error(`requests not answered within ${maxCycles} cycles`);
  }

  /** Reads `lengthDw` DWs at `address` and returns them. */
  readNow(address: number, lengthDw: number): number[] {
    const r = this.read(address, lengthDw);
    this.drain();
    return r.answer;
  }

  readBytes(address: number, length: number): Uint8Array {
    const dws = this.readNow(address, length / 4);
    const out = Buffer.alloc(length);
    dws.forEach((dw, i) => out.writeUInt32LE(dw, 4 * i));
    return new Uint8Array(out);
  }

  step(): void {
    const { sim } = this;
    const next = this.waiting[0];
    this.offered = next !== undefined && (this.offered || this.random() < this.offerProbability);
    sim.poke("request_valid", this.offered ? 1 : 0);
    if (this.offered) {
      sim.poke("request_address", BigInt(next.address));
      sim.poke("request_length_dw", next.lengthDw);
      if (sim.peek("request_ready")) {
        next.takenAt = this.cycle;
        this.answering.push(this.waiting.shift()!);
        this.offered = false;
      }
    }
    const ready = this.random() < this.readyProbability;
    sim.poke("response_tready", ready ? 1 : 0);
    if (ready && sim.peek("response_tvalid")) {
      const r = this.answering[0];
      if (!r) throw new Error(`cycle ${this.cycle}: a beat with no request outstanding`);
      sim.peekWords("response_tdata", this.words);
      const keep = sim.peek("response_tkeep");
      const owed = r.lengthDw - r.answer.length;
      expect(keep, `beat at cycle ${this.cycle}: tkeep with ${owed} DWs owed`).toBe(owed > 1 ? 0xff : 0x0f);
      expect(sim.peek("response_tlast"), `beat at cycle ${this.cycle}: tlast with ${owed} DWs owed`).toBe(owed <= 2 ? 1 : 0);
      r.answer.push(this.words[0] >>> 0);
      if (keep === 0xff) r.answer.push(this.words[1] >>> 0);
      else expect(this.words[1], "the unused lane is zero").toBe(0);
      r.beatCycles.push(this.cycle);
      if (owed <= 2) {
        r.done = true;
        this.answering.shift();
      }
    }
    sim.step();
    this.cycle++;
  }
}

/** A record with fields distinct per slot, of the opcode given, moving `bytes`. */
function randomRecord(random: () => number, slot: number, opcode: number, bytes: number): IoSlotRecord {
  const big32 = () => BigInt(Math.floor(random() * 2 ** 32));
  return {
    opcode,
    nsid: ((slot + 1) * 0x0101_0101 + Math.floor(random() * 256)) >>> 0,
    slba: (big32() << 32n) | big32(),
    blocks: randomInt(random, 1, 2 ** 32 - 1),
    bytes,
    fua: random() < 0.5,
  };
}

/** Transfer sizes that choose each PRP2 form, edges included. */
function randomBytes(random: () => number, opcode: number): number {
  if (opcode !== NvmIoOpcode.READ && opcode !== NvmIoOpcode.WRITE) return random() < 0.8 ? 0 : randomInt(random, 1, MAX_PIECE_BYTES_LIMIT);
  const choices = [512, HOST_PAGE_BYTES, HOST_PAGE_BYTES + 4, 2 * HOST_PAGE_BYTES, 2 * HOST_PAGE_BYTES + 512, MAX_PIECE_BYTES_LIMIT];
  return random() < 0.5 ? choices[Math.floor(random() * choices.length)] : randomInt(random, 1, MAX_PIECE_BYTES_LIMIT);
}

/** Writes a random record for every slot (each opcode several times) and a random slot in every SQ entry. */
function fillTables(b: ServerBench, random: () => number): void {
  for (let slot = 0; slot < b.params.slots; slot++) {
    const opcode = OPCODES[slot % OPCODES.length];
    b.writeRecord(slot, randomRecord(random, slot, opcode, randomBytes(random, opcode)));
  }
  for (let index = 0; index < b.params.sqEntries; index++) b.writeSqEntry(index, Math.floor(random() * b.params.slots));
}

/** A request inside one 4 KiB page of `base`'s region: `page`, DW `first`, `length` DWs (cut at the page end). */
function inPage(base: number, page: number, first: number, length: number): [number, number] {
  const dw = first % 1024;
  return [base + page * HOST_PAGE_BYTES + 4 * dw, Math.max(1, Math.min(length, 1024 - dw))];
}

const CONFIGS: IoQueueServerParams[] = [
  { slots: 64, sqEntries: 64 },
  // Not a power of two: the record RAM has addresses past its depth; 16 entries alias the 1024 of the region.
  { slots: 37, sqEntries: 16 },
];

describe.each(engines)("io_queue_server, %s engine", (engine) => {
  const sims = new Map<string, Simulator>();
  const benchFor = async (params: IoQueueServerParams, seed: number) => {
    const key = JSON.stringify(params);
    let sim = sims.get(key);
    if (!sim) {
      const { files, design } = emitDesign(ioQueueServer(params));
      sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
      sims.set(key, sim);
    }
    return new ServerBench(sim, params, seededRandom(seed));
  };

  for (const params of CONFIGS) {
    it(`serves every DW the reference does, for reads of any shape under back-pressure (slots ${params.slots}, sqEntries ${params.sqEntries})`, async () => {
      const random = seededRandom(1000 + params.slots);
      const b = await benchFor(params, params.slots);
      fillTables(b, random);
      const sqPages = HostMemoryMap.ioSq.bytes / HOST_PAGE_BYTES;
      const sqPage = () => Math.floor(random() * Math.min(sqPages, Math.ceil((params.sqEntries * 64) / HOST_PAGE_BYTES) + 1));
      const dsmSlots = b.tables.records.map((r, s) => (r.opcode === NvmIoOpcode.DATASET_MANAGEMENT ? s : -1)).filter((s) => s >= 0);
      const shapes: (() => [number, number])[] = [
        // One whole entry, several whole entries.
        () => inPage(SQ, sqPage(), 16 * randomInt(random, 0, 63), 16),
        () => inPage(SQ, sqPage(), 16 * randomInt(random, 0, 63), 16 * randomInt(random, 2, 8)),
        // Part of an entry, from any DW (odd starts straddle entries), of any length.
        () => inPage(SQ, sqPage(), randomInt(random, 0, 1023), randomInt(random, 1, 40)),
        () => inPage(SQ, sqPage(), 2 * randomInt(random, 0, 511) + 1, randomInt(random, 1, 200)),
        // PRP list pages, of slots below and past `slots`, at any DW.
        () => inPage(PRP, randomInt(random, 0, params.slots - 1), randomInt(random, 0, 1023), randomInt(random, 1, 64)),
        () => inPage(PRP, randomInt(random, params.slots, 255), randomInt(random, 0, 1023), randomInt(random, 1, 16)),
        // A Dataset Management range, and around it.
        () => inPage(PRP, dsmSlots[Math.floor(random() * dsmSlots.length)], randomInt(random, 0, 5), randomInt(random, 1, 8)),
      ];
      const reads: { r: Read; expected: number[] }[] = [];
      const queue = (address: number, lengthDw: number) => reads.push({ r: b.read(address, lengthDw), expected: ioQueueDws(b.tables, address, lengthDw) });
      for (let n = 0; n < 140; n++) queue(...shapes[n % shapes.length]());
      // Whole pages, the longest requests: the last SQ page of the table and a slot's PRP list.
      queue(SQ + Math.floor(((params.sqEntries - 1) * 64) / HOST_PAGE_BYTES) * HOST_PAGE_BYTES, 1024);
      queue(PRP + (params.slots - 1) * HOST_PAGE_BYTES, 1024);
      b.drain(60_000);
      for (const [i, { r, expected }] of reads.entries()) {
        expect(r.answer, `read ${i}: ${r.lengthDw} DWs at 0x${r.address.toString(16)}`).toEqual(expected);
      }
      // The reference itself is not all zeros where it should not be.
      expect(reads.filter(({ expected }) => expected.some((dw) => dw !== 0)).length).toBeGreaterThan(100);

      // Records and entries rewritten between reads are served from then on.
      for (let n = 0; n < 6; n++) {
        const slot = randomInt(random, 0, params.slots - 1);
        const opcode = OPCODES[n % OPCODES.length];
        b.writeRecord(slot, randomRecord(random, slot, opcode, randomBytes(random, opcode)));
        b.writeSqEntry(n, slot);
        expect(b.readNow(SQ + 64 * n, 16), `entry ${n} after rewriting slot ${slot}`).toEqual(ioQueueDws(b.tables, SQ + 64 * n, 16));
        expect(b.readNow(prpListAddress(slot), 8), `slot ${slot}'s list page after rewriting`).toEqual(ioQueueDws(b.tables, prpListAddress(slot), 8));
      }
    });
  }

  it("serves entries the SSD model parses as meant, and PRP lists its walker follows to the data window", async () => {
    const params = CONFIGS[0];
    const b = await benchFor(params, 7);
    b.readyProbability = 0.5;
    const random = seededRandom(77);
    const cases: { slot: number; record: IoSlotRecord }[] = [
      { slot: 0, record: { ...randomRecord(random, 0, NvmIoOpcode.READ, 512), blocks: 1 } },
      { slot: 9, record: { ...randomRecord(random, 9, NvmIoOpcode.WRITE, 2 * HOST_PAGE_BYTES), blocks: 16, fua: true } },
      { slot: 33, record: { ...randomRecord(random, 33, NvmIoOpcode.READ, 1 << 17), blocks: 256 } },
      { slot: 63, record: { ...randomRecord(random, 63, NvmIoOpcode.WRITE, MAX_PIECE_BYTES_LIMIT), blocks: 4096, fua: false } },
      { slot: 20, record: { ...randomRecord(random, 20, NvmIoOpcode.WRITE_ZEROES, 0), blocks: 65536, fua: true } },
      { slot: 21, record: randomRecord(random, 21, NvmIoOpcode.FLUSH, 0) },
      { slot: 42, record: { ...randomRecord(random, 42, NvmIoOpcode.DATASET_MANAGEMENT, 0), blocks: 0x8000_0001 } },
    ];
    cases.forEach(({ slot, record }, entry) => {
      b.writeRecord(slot, record);
      b.writeSqEntry(entry, slot);
    });
    for (const [entry, { slot, record }] of cases.entries()) {
      const sqe = parseSubmissionEntry(b.readBytes(SQ + 64 * entry, 64));
      const what = `entry ${entry} (slot ${slot}, opcode ${record.opcode})`;
      const window = BigInt(dataWindowAddress(slot));
      const list = BigInt(prpListAddress(slot));
      const data = record.opcode === NvmIoOpcode.READ || record.opcode === NvmIoOpcode.WRITE;
      const lba = data || record.opcode === NvmIoOpcode.WRITE_ZEROES;
      const dsm = record.opcode === NvmIoOpcode.DATASET_MANAGEMENT;
      expect(sqe, what).toEqual({
        opcode: record.opcode, fuse: 0, psdt: 0, cid: slot, nsid: record.nsid, mptr: 0n,
        prp1: data ? window : dsm ? list : 0n,
        prp2: record.bytes <= HOST_PAGE_BYTES ? 0n : record.bytes <= 2 * HOST_PAGE_BYTES ? window + 4096n : list,
        cdw10: lba ? Number(record.slba & 0xffff_ffffn) : 0,
        cdw11: lba ? Number(record.slba >> 32n) : dsm ? 1 << 2 : 0,
        cdw12: lba ? (((record.blocks - 1) & 0xffff) | (record.fua ? 1 << 30 : 0)) >>> 0 : 0,
        cdw13: 0, cdw14: 0, cdw15: 0,
      });
      if (data) {
        // The model's PRP walker, reading the list pages from the server: the transfer lands in
        // the slot's data window, page after page.
        let result: PrpResult | undefined;
        walkPrps(sqe.prp1, sqe.prp2, record.bytes, HOST_PAGE_BYTES, (address, bytes, done) => done(b.readBytes(Number(address), bytes)), (r) => (result = r));
        expect(result?.ok, what).toBe(true);
        const segments = result!.ok ? result!.segments : [];
        expect(segments.reduce((sum, s) => sum + s.length, 0)).toBe(record.bytes);
        segments.forEach((s, i) => expect(s.address, `${what} segment ${i}`).toBe(window + BigInt(i * HOST_PAGE_BYTES)));
      }
      if (dsm) {
        // What the model reads at PRP1 for NR + 1 = 1 range: the range, as the driver encodes one.
        expect(sqe.cdw10 & 0xff).toBe(0);
        expect(b.readBytes(Number(sqe.prp1), 16)).toEqual(encodeDsmRanges([{ slba: record.slba, blocks: record.blocks }]));
      }
    }
  });

  it("answers four cycles after a request, then one beat per cycle, with no gap between requests", async () => {
    const b = await benchFor(CONFIGS[0], 3);
    fillTables(b, seededRandom(33));
    b.readyProbability = 1;
    b.offerProbability = 1;
    // Whole entries, single DWs, a whole page, odd starts, PRP list pages and a DSM range.
    const requests: [number, number][] = [[SQ + 64 * 3, 16], [PRP + HOST_PAGE_BYTES * 5 + 4 * 7, 1], [SQ, 1024], [SQ + 4 * 15, 3], [PRP + HOST_PAGE_BYTES * 4, 2], [PRP + HOST_PAGE_BYTES * 9 + 4 * 3, 64], [SQ + 4 * 101, 5]];
    const lengths = requests.map(([, length]) => length);
    const reads = requests.map(([address, length]) => b.read(address, length));
    b.drain();
    expect(reads[0].beatCycles[0] - reads[0].takenAt!).toBe(4);
    const beats = reads.flatMap((r) => r.beatCycles);
    expect(beats.length).toBe(lengths.reduce((sum, n) => sum + Math.ceil(n / 2), 0));
    // Every beat follows the one before it by one cycle: back-to-back requests leave no gap.
    expect(beats.map((c, i) => c - beats[0] - i).filter((d) => d !== 0)).toEqual([]);
    reads.forEach((r) => expect(r.answer).toEqual(ioQueueDws(b.tables, r.address, r.lengthDw)));
  });
});

describe("io_queue_server parameters", () => {
  it("rejects bad parameters, naming them", () => {
    expect(() => ioQueueServer({ slots: 0, sqEntries: 64 })).toThrow(/slots 0/);
    expect(() => ioQueueServer({ slots: 65, sqEntries: 64 })).toThrow(/slots 65/);
    expect(() => ioQueueServer({ slots: 2.5, sqEntries: 64 })).toThrow(/slots 2.5/);
    expect(() => ioQueueServer({ slots: 8, sqEntries: 48 })).toThrow(/sqEntries 48/);
    expect(() => ioQueueServer({ slots: 8, sqEntries: 2048 })).toThrow(/sqEntries 2048/);
    expect(() => ioQueueServer({ slots: 8, sqEntries: 1 })).toThrow(/sqEntries 1/);
    expect(ioQueueServer({ slots: 1, sqEntries: 2 }).name).toBe("io_queue_server_s1_q2");
  });
});
