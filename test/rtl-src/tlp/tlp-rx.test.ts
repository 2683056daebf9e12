// The receive parser's emitted Verilog behind the link + hard-IP model: every TLP an SSD sends is
// reported on the right port with the same fields and payload bytes, none lost or duplicated,
// under random back-pressure; counters count what is dropped; rx_np_ok holds back only reads.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { tlpRx } from "../../../rtl-src/tlp/tlp-rx.ts";
import { type Simulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { type ExpectedRx, expectedRx } from "../../../sim/testbench/tlp-rx-expected.ts";
import { BeatDrivenRx, type RxConsumerPatterns, type RxConsumers, createRxSimulator, emitRxDesign } from "../../../sim/testbench/tlp-rx-harness.ts";
import { runLinked } from "../../../sim/testbench/tlp-rx-linked-run.ts";
import { randomMemoryRead, randomMemoryWrite, randomUpstreamTlp, seededRandom } from "../../../sim/testbench/tlp-rx-traffic.ts";
import type { Completion, Tlp } from "../../../sim/pcie/tlp.ts";
import { tlpToBeats } from "../../../sim/pcie/axis-framing.ts";
import { encodeTlp } from "../../../sim/pcie/codec.ts";

const params = { maxPayloadBytes: 256, tags: 32, requesterId: 0x0000 };
const design = emitRxDesign(params);
const hasVerilator = verilatorAvailable();

function randomPatterns(seed: number, readyShare: number): RxConsumerPatterns {
  const random = seededRandom(seed);
  const pattern = () => {
    const bits = Array.from({ length: 97 }, () => random() < readyShare);
    return (cycle: number) => bits[cycle % bits.length];
  };
  return { completion: pattern(), completionData: pattern(), memRead: pattern(), memWrite: pattern(), memWriteData: pattern(), urCompletion: pattern() };
}

/** Everything the design reported equals what `expected` says, in order, with nothing extra. */
function expectReported(consumers: RxConsumers, expected: ExpectedRx): void {
  expect(consumers.completions.taken).toEqual(expected.completions);
  expect(consumers.completionData.packets).toEqual(expected.completionPayloads);
  expect(consumers.memReads.taken).toEqual(expected.memReads);
  expect(consumers.memWrites.taken).toEqual(expected.memWrites);
  expect(consumers.memWriteData.packets).toEqual(expected.memWritePayloads);
  expect(consumers.urCompletions.taken).toEqual(expected.urCompletions);
  expect(consumers.counters()).toEqual(expected.counters);
  expect(consumers.completionData.keepErrors).toEqual([]);
  expect(consumers.memWriteData.keepErrors).toEqual([]);
}

describe("tlp_rx structure", () => {
  it("has no combinational path from an input to an output", () => {
    const { design: elaborated } = emitDesign(tlpRx(params));
    expect([...elaborated.combinationalPaths.get(elaborated.top)!.entries()]).toEqual([]);
  });

  it("names its parameters and refuses impossible ones", () => {
    expect(tlpRx({ maxPayloadBytes: 512, tags: 256, requesterId: 0x0100 }).name).toBe("tlp_rx_mps512_t256_id0100_npq8_c32");
    expect(tlpRx(params, { collapseHighAddress: true }).name).toBe("tlp_rx_mps256_t32_id0000_npq8_c32_a33");
    expect(() => tlpRx({ ...params, tags: 48 })).toThrow(/tags = 48/);
    expect(() => tlpRx(params, { nonPostedQueueDepth: 2 })).toThrow(/nonPostedQueueDepth = 2/);
    expect(tlpRx(params, { payloadQueueDepth: 4 }).name).toBe("tlp_rx_mps256_t32_id0000_npq8_c32_pq4");
    expect(() => tlpRx(params, { payloadQueueDepth: 0 })).toThrow(/payloadQueueDepth = 0/);
  });
});

describe.skipIf(!hasVerilator)("tlp_rx behind the link model (Verilator)", () => {
  let sim: Simulator;
  let traceDir: string;
  beforeAll(async () => {
    sim = await createRxSimulator(design, "verilator");
    traceDir = mkdtempSync(join(tmpdir(), "tlp-rx-"));
  });
  afterAll(() => {
    sim?.close();
    if (traceDir && existsSync(traceDir)) rmSync(traceDir, { recursive: true });
  });

  it("reports random upstream traffic field for field and byte for byte under random back-pressure, and traces it", () => {
    sim.reset(2);
    const random = seededRandom(7);
    const tlps = Array.from({ length: 500 }, () => randomUpstreamTlp(random, params));
    const tracePath = join(traceDir, "rx.trace.jsonl");
    const run = runLinked(sim, tlps, { patterns: randomPatterns(3, 0.6), tracePath });
    expectReported(run.rx.consumers, expectedRx(run.delivered, params));
    const lines = readFileSync(tracePath, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { dir: string; tlp: string });
    expect(lines.length).toBe(tlps.length);
    expect(lines.every((l) => l.dir === "up" && /^[0-9a-f]+$/.test(l.tlp))).toBe(true);
  });

  it("takes MWr of every length 1..MPS at even, odd and page-end DW offsets, 3DW and 4DW", () => {
    sim.reset(2);
    const random = seededRandom(21);
    const tlps: Tlp[] = [];
    for (let lengthDw = 1; lengthDw <= params.maxPayloadBytes / 4; lengthDw++) {
      for (const offsetDw of [0, 1, 1023 - lengthDw + 1]) {
        const write = randomMemoryWrite(random, { ...params, digestShare: 0 }, lengthDw, Math.min(offsetDw, 1024 - lengthDw));
        tlps.push(write);
      }
    }
    const run = runLinked(sim, tlps, {});
    expectReported(run.rx.consumers, expectedRx(run.delivered, params));
    const writes = run.rx.consumers.memWrites.taken;
    expect(new Set(writes.map((w) => w.lengthDw)).size).toBe(params.maxPayloadBytes / 4);
    expect(writes.some((w) => w.address >= 1n << 32n)).toBe(true);
    expect(writes.some((w) => w.address < 1n << 32n)).toBe(true);
  });

  it("keeps m_axis_rx_tready high over back-to-back writes whose consumer takes a payload only a few cycles after its header", () => {
    // As the host-memory router (and the array core's lane routing) does: a write's header is taken
    // at once, its payload only once the route decided from the header has gone through a queue.
    const ROUTE_CYCLES = 5;
    const WRITES = 200;
    sim.reset(2);
    const headerCycles: number[] = [];
    let rx: BeatDrivenRx | undefined;
    const payloadAfterRoute = (cycle: number) => {
      const consumers = rx!.consumers;
      while (headerCycles.length < consumers.memWrites.taken.length) headerCycles.push(cycle);
      const current = consumers.memWriteData.packets.length;
      return current < headerCycles.length && cycle >= headerCycles[current] + ROUTE_CYCLES;
    };
    rx = new BeatDrivenRx(sim, { memWriteData: payloadAfterRoute });
    const random = seededRandom(8);
    const writes = Array.from({ length: WRITES }, (_, i) => randomMemoryWrite(random, { ...params, digestShare: 0 }, params.maxPayloadBytes / 4, (i % 4) * 64));
    for (const write of writes) rx.queueBeats(tlpToBeats(encodeTlp(write)));
    rx.runUntilIdle(WRITES * 100);
    expect(rx.consumers.memWriteData.packets).toEqual(writes.map((w) => (w as { data: Uint8Array }).data));
    // The first write's route is waited for once; after that every offered beat is taken.
    expect(rx.offeredCycles - rx.takenCycles).toBeLessThanOrEqual(ROUTE_CYCLES);
  });

  it("drops rx_np_ok while the memory-read consumer stalls, and posted writes and completions keep flowing", () => {
    sim.reset(2);
    const random = seededRandom(5);
    const tlps: Tlp[] = [];
    for (let i = 0; i < 40; i++) {
      tlps.push(randomMemoryRead(random, params));
      for (let k = 0; k < 3; k++) tlps.push(randomMemoryWrite(random, params));
    }
    const stallUntil = 6000;
    const run = runLinked(sim, tlps, { patterns: { memRead: (cycle) => cycle >= stallUntil }, maxCycles: 50_000 });
    const consumers = run.rx.consumers;
    expectReported(consumers, expectedRx(run.delivered, params));
    expect(run.rx.npHeldCycles).toBeGreaterThan(stallUntil / 2);
    expect(run.link.counters.rxNpHeldCycles).toBeGreaterThan(0);
    // While reads were held back, writes kept arriving; the reads taken meanwhile fit the read queue.
    const during = run.delivered.filter((_, i) => run.deliveryCycles[i] < stallUntil);
    const readQueueCapacity = 8 + 1;
    expect(during.filter((t) => t.kind === "MRd").length).toBeLessThanOrEqual(readQueueCapacity);
    expect(during.filter((t) => t.kind === "MWr").length).toBeGreaterThan(60);
  });
});

/** The address a layer built with collapseHighAddress delivers: bits [31:0], and bit 32 for any of [63:32]. */
function collapsed(address: bigint): bigint {
  return (address & 0xffff_ffffn) | (address >> 32n !== 0n ? 1n << 32n : 0n);
}

describe("tlp_rx with collapseHighAddress on the js engine", () => {
  it("delivers every field as without it, but addresses at or above 4 GiB as bit 32 and bits [31:0]", async () => {
    const sim = await createRxSimulator(emitRxDesign(params, { collapseHighAddress: true }), "js");
    try {
      const random = seededRandom(31);
      const tlps = Array.from({ length: 160 }, () => randomUpstreamTlp(random, params));
      const run = runLinked(sim, tlps, { patterns: randomPatterns(9, 0.7) });
      const expected = expectedRx(run.delivered, params);
      expect(expected.memWrites.some((w) => w.address >= 1n << 32n) && expected.memReads.some((r) => r.address >= 1n << 32n)).toBe(true);
      expectReported(run.rx.consumers, {
        ...expected,
        memReads: expected.memReads.map((r) => ({ ...r, address: collapsed(r.address) })),
        memWrites: expected.memWrites.map((w) => ({ ...w, address: collapsed(w.address) })),
      });
    } finally {
      sim.close();
    }
  });
});

describe("tlp_rx with memWriteRequesterId on the js engine", () => {
  it("delivers each memory write's Requester ID with its header, every other field as without it", async () => {
    expect(tlpRx(params, { memWriteRequesterId: true }).name).toBe("tlp_rx_mps256_t32_id0000_npq8_c32_wrid");
    const sim = await createRxSimulator(emitRxDesign(params, { memWriteRequesterId: true }), "js");
    try {
      const random = seededRandom(44);
      // Writes from several requesters (SSDs behind a switch), among the other traffic.
      const tlps = Array.from({ length: 120 }, (_, i) => {
        const tlp = randomUpstreamTlp(random, params);
        return tlp.kind === "MWr" ? { ...tlp, requesterId: ((3 + (i % 4)) << 8) | (i & 7) } : tlp;
      });
      const run = runLinked(sim, tlps, { patterns: randomPatterns(10, 0.7) });
      const expected = expectedRx(run.delivered, params);
      const requesters = run.delivered.flatMap((t) => (t.kind === "MWr" ? [t.requesterId] : []));
      expect(new Set(requesters).size).toBeGreaterThan(2);
      expectReported(run.rx.consumers, { ...expected, memWrites: expected.memWrites.map((w, i) => ({ ...w, requesterId: requesters[i] })) });
    } finally {
      sim.close();
    }
  });
});

describe("tlp_rx on the js engine", () => {
  it("reports random upstream traffic as on Verilator", async () => {
    const sim = await createRxSimulator(design, "js");
    try {
      const random = seededRandom(12);
      const tlps = Array.from({ length: 120 }, () => randomUpstreamTlp(random, params));
      const run = runLinked(sim, tlps, { patterns: randomPatterns(8, 0.7) });
      expectReported(run.rx.consumers, expectedRx(run.delivered, params));
    } finally {
      sim.close();
    }
  });
});

describe("tlp_rx across a link drop on the js engine", () => {
  /** A CplD of ours (requester 0, tag < 32) whose data is distinct per seed. */
  function completionOfOurs(random: () => number, tag: number): Completion {
    const data = Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256));
    return { kind: "CplD", tc: 0, attr: 0, ep: false, td: false, completerId: 0x0100, status: 0, bcm: false, byteCount: 32, requesterId: params.requesterId, tag, lowerAddress: 0, lengthDw: 8, data };
  }

  // A TLP cut after its first beat (the parser in HEADER1), in its payload (PAYLOAD, the header
  // forwarded), and a completion cut in its payload: after the link comes back up, the next TLPs
  // (a completion of ours, then a memory write) come out whole. Without the restart on link down
  // the parser takes their beats for the rest of the lost TLP, and the completion is lost.
  it("parses the first TLPs after the link comes back up, whatever beat the drop cut", async () => {
    const sim = await createRxSimulator(design, "js");
    try {
      const random = seededRandom(41);
      const cuts: { tlp: Tlp; beatsTaken: number }[] = [
        { tlp: randomMemoryWrite(random, { ...params, digestShare: 0 }, 16), beatsTaken: 1 },
        { tlp: randomMemoryWrite(random, { ...params, digestShare: 0 }, 16), beatsTaken: 4 },
        { tlp: completionOfOurs(random, 3), beatsTaken: 3 },
      ];
      for (const [index, cut] of cuts.entries()) {
        sim.reset(2);
        const rx = new BeatDrivenRx(sim);
        rx.queueBeats(tlpToBeats(encodeTlp(cut.tlp)));
        for (let n = 0; rx.takenCycles < cut.beatsTaken; n++) {
          if (n > 50) throw new Error("the cut TLP's beats were not taken");
          rx.step();
        }
        rx.dropLink();
        for (let i = 0; i < 8; i++) rx.step();
        rx.linkUp = true;
        const after: Tlp[] = [completionOfOurs(random, 10 + index), randomMemoryWrite(random, { ...params, digestShare: 0 })];
        for (const tlp of after) rx.queueBeats(tlpToBeats(encodeTlp(tlp)));
        rx.runUntilIdle(200);
        const expected = expectedRx(after, params);
        const c = rx.consumers;
        // The cut TLP's header went out once its beat 1 was taken; its payload then ends early.
        const cutForwarded = cut.beatsTaken >= 2;
        const cutIsCompletion = cut.tlp.kind === "CplD";
        expect(c.completions.taken).toEqual([...(cutForwarded && cutIsCompletion ? [expect.anything()] : []), ...expected.completions]);
        expect(c.completionData.packets.slice(cutIsCompletion && cutForwarded ? 1 : 0)).toEqual(expected.completionPayloads);
        expect(c.memWrites.taken).toEqual([...(cutForwarded && !cutIsCompletion ? [expect.anything()] : []), ...expected.memWrites]);
        expect(c.memWriteData.packets.slice(cutForwarded && !cutIsCompletion ? 1 : 0)).toEqual(expected.memWritePayloads);
        if (cutForwarded) {
          // The cut payload ended (tlast) before its announced length.
          const cutPackets = cutIsCompletion ? c.completionData.packets : c.memWriteData.packets;
          expect(cutPackets[0].length).toBeLessThan((cut.tlp as { lengthDw: number }).lengthDw * 4);
        }
        expect(c.completionData.keepErrors).toEqual([]);
        expect(c.memWriteData.keepErrors).toEqual([]);
      }
    } finally {
      sim.close();
    }
  });
});
