// The transmit side of the TLP layer (tlp_tx: arbiter + packer), run as emitted Verilog against the
// hard-IP + link model: every TLP the far end receives is, byte for byte, one the test asked a
// source for, in that source's order, none lost or duplicated; plus the arbitration policy and
// back-to-back packing at the interface itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { tlpTx, type TlpTxParams } from "../../../rtl-src/tlp/tlp-tx.ts";
import { CapturingEndpoint, createTlpTxSimulator, TxPortCapture, TxSources, type TxRequest } from "../../../sim/testbench/tlp-tx-driver.ts";
import { type Simulator, verilatorAvailable, VERILATOR_INSTALL_HINT } from "../../../sim/engine/index.ts";
import { RootPortBridge } from "../../../sim/testbench/root-port-bridge.ts";
import { decodeTlp, encodeTlp } from "../../../sim/pcie/codec.ts";
import { LinkModel } from "../../../sim/pcie/link-model.ts";
import { randomBytes, randomInt, seededRandom } from "../../../sim/testbench/random-tlp.ts";
import type { Completion, ConfigRequest, MemRequest, Tlp } from "../../../sim/pcie/tlp.ts";
import { CplStatus } from "../../../sim/pcie/tlp.ts";
import { readTraceFile, TraceWriter } from "../../../sim/pcie/trace.ts";

const PARAMS: TlpTxParams = { requesterId: 0x00a8, requestSources: 3, completionRun: 4 };
const MPS_DW = 64;
const MRRS_DW = 128;
const FOUR_GIB = 1n << 32n;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** First/Last BE pairs PCIe allows for a request of `lengthDw` DWs at `address` (PROTOCOL_FACTS §B.5). */
function legalByteEnables(lengthDw: number, address: bigint): [number, number][] {
  const all = Array.from({ length: 16 }, (_, i) => i);
  if (lengthDw === 1) return all.map((first) => [first, 0]);
  const nonZero = all.slice(1);
  if (lengthDw === 2 && (address & 7n) === 0n) return nonZero.flatMap((first) => nonZero.map((last): [number, number] => [first, last]));
  return [0b1111, 0b1110, 0b1100, 0b1000].flatMap((first) => [0b0001, 0b0011, 0b0111, 0b1111].map((last): [number, number] => [first, last]));
}

/** A DW-aligned address where `lengthDw` DWs fit without crossing 4 KiB, below or above 4 GiB. */
function randomAddress(random: () => number, lengthDw: number, high: boolean, qwAligned?: boolean): bigint {
  const page = high ? (BigInt(randomInt(random, 1, 0xffff_ffff)) << 32n) | (BigInt(randomInt(random, 0, 0xfffff)) << 12n) : BigInt(randomInt(random, 0, 0xfffff)) << 12n;
  let offset = randomInt(random, 0, 1024 - lengthDw) * 4;
  if (qwAligned !== undefined) offset = (offset & ~7) | (qwAligned ? 0 : 4);
  if (offset + lengthDw * 4 > 4096) offset -= 8;
  return page | BigInt(offset);
}

function memRequest(kind: "MRd" | "MWr", random: () => number, lengthDw: number, address: bigint, be: [number, number]): MemRequest {
  const tlp: MemRequest = {
    kind, tc: 0, attr: 0, ep: false, td: false,
    requesterId: PARAMS.requesterId, tag: randomInt(random, 0, 255),
    address, addr64: address >= FOUR_GIB, lengthDw, firstBe: be[0], lastBe: be[1],
  };
  if (kind === "MWr") tlp.data = randomBytes(random, lengthDw * 4);
  return tlp;
}

function configRequest(random: () => number): ConfigRequest {
  const kind = (["CfgRd0", "CfgWr0", "CfgRd1", "CfgWr1"] as const)[randomInt(random, 0, 3)];
  const tlp: ConfigRequest = {
    kind, tc: 0, attr: 0, ep: false, td: false,
    requesterId: PARAMS.requesterId, tag: randomInt(random, 0, 255),
    bus: randomInt(random, 0, 255), device: randomInt(random, 0, 31), fn: randomInt(random, 0, 7),
    register: randomInt(random, 0, 1023) * 4, firstBe: randomInt(random, 0, 15),
  };
  if (kind === "CfgWr0" || kind === "CfgWr1") tlp.data = randomBytes(random, 4);
  return tlp;
}

function completion(random: () => number, lengthDw: number | undefined, status: CplStatus = CplStatus.SC): Completion {
  const tlp: Completion = {
    kind: lengthDw === undefined ? "Cpl" : "CplD",
    tc: randomInt(random, 0, 7), attr: randomInt(random, 0, 3), ep: false, td: false,
    completerId: PARAMS.requesterId, status, bcm: false,
    byteCount: randomInt(random, 1, 4096), requesterId: randomInt(random, 0, 0xffff), tag: randomInt(random, 0, 255),
    lowerAddress: randomInt(random, 0, 127), lengthDw: lengthDw ?? 0,
  };
  if (lengthDw !== undefined) tlp.data = randomBytes(random, lengthDw * 4);
  return tlp;
}

/** Requests of every kind: every write length, every legal BE pair, both address ranges, configuration. */
function coverageRequests(random: () => number): TxRequest[] {
  const requests: TxRequest[] = [];
  for (let length = 1; length <= MPS_DW; length++) {
    const address = randomAddress(random, length, length % 3 === 0);
    const bes = legalByteEnables(length, address);
    requests.push(memRequest("MWr", random, length, address, bes[randomInt(random, 0, bes.length - 1)]));
  }
  for (const [length, qwAligned] of [[1, undefined], [2, true], [2, false], [5, undefined]] as const) {
    const address = randomAddress(random, length, random() < 0.5, qwAligned);
    for (const be of legalByteEnables(length, address)) requests.push(memRequest(random() < 0.5 ? "MWr" : "MRd", random, length, address, be));
  }
  for (let i = 0; i < 40; i++) {
    const length = randomInt(random, 1, MRRS_DW);
    const address = randomAddress(random, length, random() < 0.5);
    const bes = legalByteEnables(length, address);
    requests.push(memRequest("MRd", random, length, address, bes[randomInt(random, 0, bes.length - 1)]));
  }
  for (let i = 0; i < 40; i++) requests.push(configRequest(random));
  return requests;
}

function coverageCompletions(random: () => number): Completion[] {
  const completions: Completion[] = [];
  for (let length = 1; length <= MPS_DW; length++) completions.push(completion(random, length));
  for (let i = 0; i < 30; i++) completions.push(completion(random, undefined, [CplStatus.SC, CplStatus.UR, CplStatus.CA][i % 3]));
  return completions;
}

function shuffle<T>(random: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, 0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

interface TrafficOptions {
  seed: number;
  /** Probability that an idle source holds back its valid in a cycle. */
  gap: number;
  /** The core's TX buffers: few buffers make the link push back on tready often. */
  txBuffers: number;
  trace?: TraceWriter;
  requests?: TxRequest[];
  completions?: Completion[];
}

/** Runs the traffic through design + link; returns what each source asked for and what arrived. */
function runTraffic(sim: Simulator, options: TrafficOptions) {
  const random = seededRandom(options.seed);
  sim.reset(2);
  const endpoint = new CapturingEndpoint();
  const link = new LinkModel(endpoint, { mps: MPS_DW * 4, trainingCycles: 10, txBuffers: options.txBuffers }, { trace: options.trace });
  const bridge = new RootPortBridge(sim, link);
  const sources = new TxSources(sim, PARAMS.requestSources, { gap: options.gap, random });
  const expected: string[][] = Array.from({ length: PARAMS.requestSources + 1 }, () => []);
  for (const request of shuffle(random, options.requests ?? coverageRequests(random))) {
    const source = randomInt(random, 0, PARAMS.requestSources - 1);
    sources.request(source, request);
    expected[source].push(hex(encodeTlp(request)));
  }
  for (const tlp of options.completions ?? coverageCompletions(random)) {
    sources.complete(tlp);
    expected[PARAMS.requestSources].push(hex(encodeTlp(tlp)));
  }
  const total = expected.reduce((n, list) => n + list.length, 0);
  const inputError = sim.signal("input_error");
  let inputErrors = 0;
  let tuserSeen = 0;
  const tuser = sim.signal("s_axis_tx_tuser");
  const cycles = bridge.runUntil(() => {
    sources.beforeEdge();
    inputErrors += sim.peek(inputError);
    tuserSeen |= sim.peek(tuser);
    return sources.idle && endpoint.received.length >= total;
  }, 200_000, "all TLPs delivered");
  return { expected, received: endpoint.received.map((r) => r.tlp), link, inputErrors, tuserSeen, cycles };
}

/** Checks every received TLP against the head of some source's queue (per-source order), and that all arrived. */
function expectDeliveredInSourceOrder(expected: string[][], received: Tlp[]): void {
  const queues = expected.map((list) => [...list]);
  received.forEach((tlp, index) => {
    const bytes = hex(encodeTlp(tlp));
    const source = queues.findIndex((queue) => queue[0] === bytes);
    if (source < 0) throw new Error(`TLP #${index} received (${tlp.kind} ${bytes.slice(0, 48)}...) is not the next one of any source`);
    queues[source].shift();
  });
  expect(queues.map((q) => q.length)).toEqual(expected.map(() => 0));
}

/** Runs the design with s_axis_tx_tready always high until the sources are empty and the pipeline drained. */
function runWithReadyHigh(sources: TxSources, port: TxPortCapture, maxCycles = 10_000): void {
  const sim = port.sim;
  let drained = 0;
  for (let n = 0; n < maxCycles && drained < 4; n++) {
    const beats = port.beats;
    sources.beforeEdge();
    port.beforeEdge(true);
    sim.step();
    drained = sources.idle && port.beats === beats ? drained + 1 : 0;
  }
  if (drained < 4) throw new Error(`sources still busy after ${maxCycles} cycles`);
}

let jsSim: Simulator;
beforeAll(async () => {
  jsSim = await createTlpTxSimulator(PARAMS, "js");
}, 120_000);
afterAll(() => jsSim?.close());

describe("tlp_tx on the link model", () => {
  it("delivers every requested TLP byte for byte, under source gaps and link back-pressure", () => {
    const run = runTraffic(jsSim, { seed: 5, gap: 0.3, txBuffers: 2 });
    expectDeliveredInSourceOrder(run.expected, run.received);
    expect(run.received.length).toBe(run.expected.flat().length);
    expect(run.link.counters.dropCounts.size).toBe(0);
    expect(run.link.counters.txBackpressureCycles).toBeGreaterThan(100);
    expect(run.inputErrors).toBe(0);
    expect(run.tuserSeen).toBe(0);
  });

  it("writes a TLP trace that matches what the endpoint received", () => {
    const dir = mkdtempSync(join(tmpdir(), "tlp-tx-"));
    try {
      const path = join(dir, "trace.jsonl");
      const trace = new TraceWriter(path);
      const random = seededRandom(9);
      const requests = Array.from({ length: 30 }, () => {
        const length = randomInt(random, 1, MPS_DW);
        const address = randomAddress(random, length, random() < 0.5);
        const bes = legalByteEnables(length, address);
        return memRequest("MWr", random, length, address, bes[0]);
      });
      const completions = Array.from({ length: 30 }, () => completion(random, randomInt(random, 1, MPS_DW)));
      const run = runTraffic(jsSim, { seed: 9, gap: 0, txBuffers: 32, trace, requests, completions });
      trace.close();
      expectDeliveredInSourceOrder(run.expected, run.received);
      const entries = readTraceFile(path);
      expect(entries.every((e) => e.dir === "down")).toBe(true);
      expect(entries.map((e) => hex(e.tlp))).toEqual(run.received.map((t) => hex(encodeTlp(t))));
      expect(entries.map((e) => decodeTlp(e.tlp).kind).sort()).toEqual([...Array(30).fill("CplD"), ...Array(30).fill("MWr")]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!verilatorAvailable())(`gives the same TLPs on Verilator${verilatorAvailable() ? "" : ` (skipped: ${VERILATOR_INSTALL_HINT})`}`, async () => {
    const sim = await createTlpTxSimulator(PARAMS, "verilator");
    try {
      const run = runTraffic(sim, { seed: 21, gap: 0.2, txBuffers: 3 });
      expectDeliveredInSourceOrder(run.expected, run.received);
      expect(run.link.counters.dropCounts.size).toBe(0);
      expect(run.inputErrors).toBe(0);
    } finally {
      sim.close();
    }
  }, 300_000);
});

describe("tlp_tx arbitration", () => {
  it("keeps completions flowing under saturated requests, and serves request sources round-robin", () => {
    const random = seededRandom(3);
    const perSource = 40;
    const requests = Array.from({ length: PARAMS.requestSources * perSource }, (_, i) => {
      const tlp = memRequest("MRd", random, 1, randomAddress(random, 1, false), [0xf, 0]);
      tlp.tag = i % PARAMS.requestSources;
      return tlp;
    });
    const completions = Array.from({ length: 200 }, () => completion(random, 2));
    jsSim.reset(2);
    const sources = new TxSources(jsSim, PARAMS.requestSources);
    requests.forEach((r) => sources.request(r.tag, r));
    completions.forEach((c) => sources.complete(c));
    const port = new TxPortCapture(jsSim);
    runWithReadyHigh(sources, port);
    const order = port.tlps.map((bytes) => decodeTlp(bytes));
    // While both kinds wait: completionRun completions, then one request, round and round.
    // While both kinds wait: completionRun completions, then one request, round and round. (At
    // the very start the completion source's holding register is still refilling once.)
    const letters = order.map((t) => (t.kind === "CplD" ? "C" : `R${(t as MemRequest).tag}`));
    const lastCompletion = letters.lastIndexOf("C");
    const requestTags = letters.slice(0, lastCompletion).filter((l) => l !== "C");
    expect(requestTags.length).toBeGreaterThan(30);
    expect(requestTags).toEqual(requestTags.map((_, i) => `R${i % PARAMS.requestSources}`));
    const runs = letters.slice(letters.indexOf("R0") + 1, lastCompletion).join("").split(/R\d/).slice(0, -1).map((run) => run.length);
    expect(new Set(runs)).toEqual(new Set([PARAMS.completionRun]));
    expect(order.length).toBe(requests.length + completions.length);
  });

  it("lets a completion pass a saturated request source, behind at most the TLPs already chosen", () => {
    const random = seededRandom(4);
    jsSim.reset(2);
    const sources = new TxSources(jsSim, PARAMS.requestSources);
    for (let i = 0; i < 100; i++) sources.request(1, memRequest("MWr", random, 4, randomAddress(random, 4, false), [0xf, 0xf]));
    const port = new TxPortCapture(jsSim);
    const waits: number[] = [];
    let offeredAt = -1;
    for (let n = 0; n < 2000 && !sources.idle; n++) {
      // A completion shows up every 37 cycles while the request source stays saturated.
      if (n % 37 === 0 && sources.pendingHeaders().completions === 0) {
        sources.complete(completion(random, 1));
        offeredAt = port.tlps.length;
      }
      sources.beforeEdge();
      port.beforeEdge(true);
      jsSim.step();
      const last = port.tlps.at(-1);
      if (offeredAt >= 0 && last && decodeTlp(last).kind === "CplD") {
        waits.push(port.tlps.length - 1 - offeredAt);
        offeredAt = -1;
      }
    }
    expect(waits.length).toBeGreaterThan(5);
    // Counted in TLPs finished after the completion was offered: the one on the wire, the one the
    // packer may have started in that cycle and the one already in the selection register; never
    // a request chosen once the completion is held.
    expect(Math.max(...waits)).toBeLessThanOrEqual(3);
  });
});

describe("tlp_tx packing", () => {
  it("sends back-to-back TLPs with no idle beat when tready stays high", () => {
    const random = seededRandom(8);
    jsSim.reset(2);
    const sources = new TxSources(jsSim, PARAMS.requestSources);
    const asked: Tlp[] = [];
    for (let i = 0; i < 60; i++) {
      const length = randomInt(random, 1, MPS_DW);
      const address = randomAddress(random, length, i % 2 === 0);
      const request = i % 3 === 0 ? configRequest(random) : memRequest(i % 4 === 0 ? "MRd" : "MWr", random, length, address, legalByteEnables(length, address)[0]);
      sources.request(i % PARAMS.requestSources, request);
      asked.push(request);
    }
    for (let i = 0; i < 20; i++) {
      const tlp = i % 4 === 0 ? completion(random, undefined, CplStatus.UR) : completion(random, randomInt(random, 1, MPS_DW));
      sources.complete(tlp);
      asked.push(tlp);
    }
    const port = new TxPortCapture(jsSim);
    runWithReadyHigh(sources, port);
    expect(port.errors).toEqual([]);
    expect(port.tlps.map(hex).sort()).toEqual(asked.map((t) => hex(encodeTlp(t))).sort());
    const idealBeats = asked.reduce((n, t) => n + Math.ceil(encodeTlp(t).length / 8), 0);
    expect(port.beats).toBe(idealBeats);
    expect(port.lastBeatCycle - port.firstBeatCycle + 1).toBe(idealBeats);
  });

  it("has no combinational path from any input to any output", () => {
    const { design } = emitDesign(tlpTx(PARAMS));
    expect([...design.combinationalPaths.get(design.top)!.entries()]).toEqual([]);
  });
});
