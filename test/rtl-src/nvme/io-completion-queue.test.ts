// io_completion_queue, as emitted Verilog on both engines: the SSD's memory writes to the I/O CQ
// (one entry per write, two sharing one, an entry split over two or three writes at any DW) turn
// into one record per new entry, in order, with the entry's CID, status and SQ head; the head and
// the expected phase follow the runtime queue size through many wraps; stale entries (the old
// phase), entries written away from the head and poisoned writes are ignored (the last two
// counted); a consumer that stops taking records holds the writes back without losing any; the
// head doorbell is asked for while the head is past the value last rung; reset_queues starts over.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { RECORD_FIFO_DEPTH, checkIoCompletionQueueParams, ioCompletionQueue } from "../../../rtl-src/nvme/io-completion-queue.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const MAX_ENTRIES = 64;
const CQ_BASE = HostMemoryMap.ioCq.base;

interface Entry {
  cid: number;
  status: number;
  sqHead: number;
  phase: number;
}

interface CqWrite {
  dw: number;
  dws: number[];
  poisoned?: boolean;
}

const entryDws = (e: Entry) => [0x1234_5678 ^ e.cid, 0, ((7 << 16) | e.sqHead) >>> 0, ((e.status << 17) | (e.phase << 16) | e.cid) >>> 0];

class CqBench {
  readonly records: { cid: number; status: number; sqHead: number }[] = [];
  private readonly queue: CqWrite[] = [];
  private current: { write: CqWrite; headerSent: boolean; at: number } | undefined;
  recordReady = () => this.random() < 0.8;
  /** Without a FIFO: a record's cid and status must hold the cycle after it is offered (the engine reads them then). */
  checkHold = false;
  private offeredLast: { cid: number; status: number } | undefined;
  private readonly words = new Uint32Array(2);
  private beatOffered = false;

  constructor(readonly sim: Simulator, readonly entries: number, private readonly random: () => number) {
    sim.reset(2);
    for (const name of ["cq_write_valid", "cq_write_data_tvalid", "reset_queues", "doorbell_rung", "record_ready"]) sim.poke(name, 0);
    sim.poke("queue_entries", entries);
  }

  write(...writes: CqWrite[]): void {
    this.queue.push(...writes);
  }

  step(cycles = 1): void {
    for (let n = 0; n < cycles; n++) {
      const { sim } = this;
      const take = this.recordReady();
      sim.poke("record_ready", take ? 1 : 0);
      if (this.checkHold && this.offeredLast) {
        expect({ cid: sim.peek("record_cid"), status: sim.peek("record_status") }, "the record the cycle after").toEqual(this.offeredLast);
      }
      this.offeredLast = sim.peek("record_valid") ? { cid: sim.peek("record_cid"), status: sim.peek("record_status") } : undefined;
      if (take && sim.peek("record_valid")) this.records.push({ cid: sim.peek("record_cid"), status: sim.peek("record_status"), sqHead: sim.peek("record_sq_head") });
      this.cqPort();
      sim.step();
    }
  }

  /** Steps until every write is sent and `records` has `count` entries. */
  until(count: number, max = 5000): void {
    for (let n = 0; n < max; n++) {
      if (this.queue.length === 0 && !this.current && this.records.length >= count) return;
      this.step();
    }
    throw new Error(`${this.records.length} of ${count} records, ${this.queue.length} writes left after ${max} cycles`);
  }

  ringDoorbell(): number {
    const head = this.sim.peek("cq_head");
    this.sim.poke("doorbell_rung", 1);
    this.sim.poke("doorbell_rung_head", head);
    this.step();
    this.sim.poke("doorbell_rung", 0);
    return head;
  }

  private cqPort(): void {
    const { sim } = this;
    if (!this.current && this.queue.length > 0) this.current = { write: this.queue.shift()!, headerSent: false, at: 0 };
    const c = this.current;
    sim.poke("cq_write_valid", c && !c.headerSent ? 1 : 0);
    sim.poke("cq_write_data_tvalid", 0);
    if (!c) return;
    if (!c.headerSent) {
      sim.poke("cq_write_address", BigInt(CQ_BASE + 4 * c.write.dw));
      sim.poke("cq_write_length_dw", c.write.dws.length);
      sim.poke("cq_write_first_be", 0xf);
      sim.poke("cq_write_last_be", c.write.dws.length > 1 ? 0xf : 0);
      sim.poke("cq_write_poisoned", c.write.poisoned ? 1 : 0);
      if (sim.peek("cq_write_ready")) c.headerSent = true;
      return;
    }
    const left = c.write.dws.length - c.at;
    this.words[0] = c.write.dws[c.at];
    this.words[1] = left > 1 ? c.write.dws[c.at + 1] : 0;
    sim.pokeWords("cq_write_data_tdata", this.words);
    sim.poke("cq_write_data_tkeep", left > 1 ? 0xff : 0x0f);
    sim.poke("cq_write_data_tlast", left <= 2 ? 1 : 0);
    // A beat once offered stays offered until taken; a new one comes after a random gap.
    this.beatOffered ||= this.random() < 0.85;
    sim.poke("cq_write_data_tvalid", this.beatOffered ? 1 : 0);
    if (this.beatOffered && sim.peek("cq_write_data_tready")) {
      this.beatOffered = false;
      c.at += 2;
      if (c.at >= c.write.dws.length) this.current = undefined;
    }
  }
}

/** The writes an SSD might make for entries at positions first.. (one, two sharing, or split at a random DW). */
function writesFor(random: () => number, position: number, entries: Entry[], queueEntries: number): CqWrite[] {
  const out: CqWrite[] = [];
  let p = position;
  for (let i = 0; i < entries.length; i++) {
    const dws = entryDws(entries[i]);
    const next = entries[i + 1];
    const r = random();
    if (next && (p + 1) % queueEntries !== 0 && r < 0.3) {
      out.push({ dw: 4 * p, dws: [...dws, ...entryDws(next)] });
      i++;
      p = (p + 2) % queueEntries;
      continue;
    }
    if (r < 0.6) {
      const cut = 1 + Math.floor(random() * 3);
      out.push({ dw: 4 * p, dws: dws.slice(0, cut) }, { dw: 4 * p + cut, dws: dws.slice(cut) });
    } else out.push({ dw: 4 * p, dws });
    p = (p + 1) % queueEntries;
  }
  return out;
}

describe.each(engines)("io_completion_queue, %s engine", (engine) => {
  const sims = new Map<number, Simulator>();
  const bench = async (entries: number, seed: number, recordFifoDepth = RECORD_FIFO_DEPTH) => {
    let sim = sims.get(recordFifoDepth);
    if (!sim) {
      const { files, design } = emitDesign(ioCompletionQueue({ entries: MAX_ENTRIES, recordFifoDepth }));
      sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
      sims.set(recordFifoDepth, sim);
    }
    const b = new CqBench(sim, entries, seededRandom(seed));
    // Without a FIFO the consumer takes every record as it comes.
    if (recordFifoDepth === 0) {
      b.recordReady = () => true;
      b.checkHold = true;
    }
    return b;
  };

  for (const [entries, depth] of [[2, RECORD_FIFO_DEPTH], [5, RECORD_FIFO_DEPTH], [MAX_ENTRIES, RECORD_FIFO_DEPTH], [5, 0]]) {
    it(`parses entries split and shared across writes, through many wraps of a ${entries}-entry queue (record FIFO of ${depth})`, async () => {
      const b = await bench(entries, entries + depth, depth);
      const random = seededRandom(100 + entries);
      const expected: { cid: number; status: number; sqHead: number }[] = [];
      let posted = 0;
      for (let round = 0; round < 12; round++) {
        // At most entries - 1 outstanding between doorbells, as an SSD may post.
        const count = 1 + Math.floor(random() * (entries - 1));
        const batch: Entry[] = [];
        for (let i = 0; i < count; i++) {
          const e = { cid: Math.floor(random() * 0x10000), status: Math.floor(random() * 0x8000), sqHead: Math.floor(random() * 1024), phase: Math.floor((posted + i) / entries) % 2 === 0 ? 1 : 0 };
          batch.push(e);
          expected.push({ cid: e.cid, status: e.status, sqHead: e.sqHead });
        }
        b.write(...writesFor(random, posted % entries, batch, entries));
        posted += count;
        b.until(expected.length);
        b.step(4);
        expect(b.sim.peek("cq_head")).toBe(posted % entries);
        expect(b.sim.peek("cq_phase")).toBe(Math.floor(posted / entries) % 2 === 0 ? 1 : 0);
        expect(b.sim.peek("doorbell_due")).toBe(1);
        expect(b.ringDoorbell()).toBe(posted % entries);
        expect(b.sim.peek("doorbell_due")).toBe(0);
      }
      expect(b.records).toEqual(expected);
      expect({ misplaced: b.sim.peek("misplaced_entries"), poisoned: b.sim.peek("poisoned_writes") }).toEqual({ misplaced: 0, poisoned: 0 });
    });
  }

  it("ignores stale phases; counts and ignores entries away from the head and poisoned writes", async () => {
    const b = await bench(4, 7);
    const e = (cid: number, phase: number): Entry => ({ cid, status: 0, sqHead: cid & 0x3ff, phase });
    // Stale (phase 0) at the head, poisoned at the head, the right phase one ahead: no record.
    b.write({ dw: 0, dws: entryDws(e(1, 0)) }, { dw: 0, dws: entryDws(e(2, 1)), poisoned: true }, { dw: 8, dws: entryDws(e(3, 1)) });
    b.until(0);
    b.step(10);
    expect(b.records).toEqual([]);
    expect({ misplaced: b.sim.peek("misplaced_entries"), poisoned: b.sim.peek("poisoned_writes"), head: b.sim.peek("cq_head"), due: b.sim.peek("doorbell_due") })
      .toEqual({ misplaced: 1, poisoned: 1, head: 0, due: 0 });
    // Now the real ones, 0 then 1 (the misplaced entry at 2 is written again, in turn).
    b.write({ dw: 0, dws: entryDws(e(4, 1)) }, { dw: 4, dws: entryDws(e(5, 1)) }, { dw: 8, dws: entryDws(e(6, 1)) });
    b.until(3);
    expect(b.records.map((r) => r.cid)).toEqual([4, 5, 6]);
    // reset_queues: head 0, phase 1; phase-1 entries at 0 are new again.
    b.sim.poke("reset_queues", 1);
    b.step();
    b.sim.poke("reset_queues", 0);
    expect({ head: b.sim.peek("cq_head"), phase: b.sim.peek("cq_phase"), due: b.sim.peek("doorbell_due") }).toEqual({ head: 0, phase: 1, due: 0 });
    b.write({ dw: 0, dws: entryDws(e(7, 1)) });
    b.until(4);
    expect(b.records.at(-1)?.cid).toBe(7);
  });

  it("holds the writes back while nobody takes records, and loses none", async () => {
    const b = await bench(MAX_ENTRIES, 9);
    let stopped = true;
    b.recordReady = () => !stopped;
    const batch: Entry[] = Array.from({ length: 40 }, (_, i) => ({ cid: 100 + i, status: i, sqHead: i, phase: 1 }));
    // All in back-to-back writes of two entries each.
    const writes: CqWrite[] = [];
    for (let i = 0; i < batch.length; i += 2) writes.push({ dw: 4 * i, dws: [...entryDws(batch[i]), ...entryDws(batch[i + 1])] });
    b.write(...writes);
    b.step(200);
    expect(b.records).toEqual([]);
    expect(b.sim.peek("cq_write_data_tready")).toBe(0);
    const headWhileStopped = b.sim.peek("cq_head");
    expect(headWhileStopped).toBeGreaterThan(0);
    expect(headWhileStopped).toBeLessThan(batch.length);
    stopped = false;
    b.until(batch.length);
    expect(b.records).toEqual(batch.map((e) => ({ cid: e.cid, status: e.status, sqHead: e.sqHead })));
  });
});

describe("io_completion_queue parameters", () => {
  it("rejects a queue the I/O CQ region cannot hold, naming it", () => {
    expect(() => checkIoCompletionQueueParams({ entries: 1, recordFifoDepth: 0 })).toThrow(/entries 1/);
    expect(() => checkIoCompletionQueueParams({ entries: 1025, recordFifoDepth: 0 })).toThrow(/entries 1025/);
    expect(() => checkIoCompletionQueueParams({ entries: 64, recordFifoDepth: 2 })).toThrow(/recordFifoDepth 2/);
    expect(() => ioCompletionQueue({ entries: 1024, recordFifoDepth: 0 })).not.toThrow();
  });
});
