// The whole TLP layer behind the link and hard-IP model, a scripted peer on the other side, traffic
// both ways at once: we send configuration requests, memory reads and writes (tags from the layer's
// allocator) while the peer reads from us, writes to us, and sends completions nobody asked for,
// messages and configuration requests a root port refuses. Random back-pressure everywhere. Every
// TLP each side receives must be the one intended, byte for byte, none lost or duplicated.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { tlpCompletionMerge } from "../../../rtl-src/tlp/tlp-completion-merge.ts";
import { tlpLayer } from "../../../rtl-src/tlp/tlp-layer.ts";
import { type TlpLayerParams, completionHeader, defaultTlpLayerParams } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { expectedRx } from "../../../sim/testbench/tlp-rx-expected.ts";
import { buildLayerSimulator, type LayerRequest, type LayerRunResult, runLayer } from "../../../sim/testbench/tlp-layer-harness.ts";
import { LAYER_REQUEST_SOURCES, expectedLayerCompletions, randomLayerTraffic, sourceOf } from "../../../sim/testbench/tlp-layer-traffic.ts";
import { type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { decodeTlp, encodeTlp } from "../../../sim/pcie/codec.ts";
import type { MemRequest, Tlp } from "../../../sim/pcie/tlp.ts";
import { TraceWriter, readTraceFile } from "../../../sim/pcie/trace.ts";
import { seededRandom } from "../../../sim/random.ts";
import { randomMemoryRead, randomMemoryWrite } from "../../../sim/testbench/tlp-rx-traffic.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const params: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: 200_000 };
const layerOptions = { requestSources: LAYER_REQUEST_SOURCES };
const hex = (tlp: Tlp) => Buffer.from(encodeTlp(tlp)).toString("hex");
const bytesHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const isCompletion = (tlp: Tlp) => tlp.kind === "Cpl" || tlp.kind === "CplD";

const MERGE_FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"] as const;
const MERGE_WIDTHS = MERGE_FIELDS.map((f) => completionHeader.fields[f].shape.width);
type Header = number[];

/** Runs tlp_completion_merge with `cpl` and `ur` headers queued; returns what came out, in order, and when. */
function runMerge(sim: Simulator, cpl: Header[], ur: Header[], offer: () => boolean, take: () => boolean): { out: Header[]; cycles: number[] } {
  sim.reset(2);
  const queues = { cpl: [...cpl], ur: [...ur] };
  const offered = { cpl: false, ur: false };
  const out: Header[] = [];
  const cycles: number[] = [];
  for (let cycle = 0; out.length < cpl.length + ur.length; cycle++) {
    if (cycle > 20 * (cpl.length + ur.length) + 100) throw new Error(`${out.length} of ${cpl.length + ur.length} headers out after ${cycle} cycles`);
    for (const source of ["cpl", "ur"] as const) {
      const head = queues[source][0];
      offered[source] = head !== undefined && (offered[source] || offer());
      if (offered[source]) MERGE_FIELDS.forEach((f, i) => sim.poke(`${source}_${f}`, head[i]));
      sim.poke(`${source}_valid`, offered[source] ? 1 : 0);
    }
    const ready = take();
    sim.poke("merged_ready", ready ? 1 : 0);
    if (ready && sim.peek("merged_valid")) {
      out.push(MERGE_FIELDS.map((f) => sim.peek(`merged_${f}`)));
      cycles.push(cycle);
    }
    for (const source of ["cpl", "ur"] as const) {
      if (offered[source] && sim.peek(`${source}_ready`)) {
        queues[source].shift();
        offered[source] = false;
      }
    }
    sim.step();
  }
  return { out, cycles };
}

describe("tlp_completion_merge", () => {
  const random = seededRandom(77);
  const headers = (count: number, hasData: number) =>
    Array.from({ length: count }, (_, n) => MERGE_WIDTHS.map((w, i) => (i === 0 ? hasData : MERGE_FIELDS[i] === "tag" ? n : Math.floor(random() * 2 ** w))));
  const cpl = headers(60, 1);
  const ur = headers(25, 0);
  let sim: Simulator;
  const build = async () => {
    const { files, design } = emitDesign(tlpCompletionMerge());
    sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine: "js" }));
  };
  const key = (h: Header) => h.join(",");

  it("passes every header of both sources, each source in order, under random valid and ready", async () => {
    await build();
    const { out } = runMerge(sim, cpl, ur, () => random() < 0.5, () => random() < 0.6);
    expect(out.filter((h) => h[0] === 1).map(key)).toEqual(cpl.map(key));
    expect(out.filter((h) => h[0] === 0).map(key)).toEqual(ur.map(key));
  });

  it("alternates while both wait, and passes a lone source at one header per cycle", async () => {
    await build();
    const { out, cycles } = runMerge(sim, cpl, ur, () => true, () => true);
    const sources = out.map((h) => (h[0] === 1 ? "c" : "u")).join("");
    // The grant starts with the completer.
    expect(sources).toBe(`${"cu".repeat(25)}${"c".repeat(35)}`);
    const loneRun = cycles.slice(50);
    expect(loneRun[loneRun.length - 1] - loneRun[0]).toBe(loneRun.length - 1);
  });
});

describe("tlp_layer", () => {
  it("has no combinational path from an input to an output, and every block in it", () => {
    const { design } = emitDesign(tlpLayer(params, layerOptions));
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    for (const module of design.modules) {
      if (!module.combinationalPathsReason) expect({ module: module.name, paths: [...design.combinationalPaths.get(module)!] }).toEqual({ module: module.name, paths: [] });
    }
  });

  const engines = verilatorAvailable() ? (["js", "verilator"] as const) : (["js"] as const);
  if (!verilatorAvailable()) it.skip("on Verilator: verilator is not installed", () => {});
  for (const engine of engines) {
    it(`carries random traffic both ways behind the link model, byte for byte (${engine} engine)`, async () => {
      const sim = await buildLayerSimulator(params, engine, layerOptions);
      const dir = mkdtempSync(join(tmpdir(), "tlp-layer-"));
      try {
        const random = seededRandom(engine === "js" ? 501 : 502);
        const traffic = randomLayerTraffic(random, params, { configs: 24, reads: 40, writes: 60, upstream: 150, upstreamSpacing: 20 });
        const tracePath = join(dir, "trace.jsonl");
        const traceWriter = new TraceWriter(tracePath);
        const run = runLayer(sim, {
          params, random, sourceOf, requestSources: LAYER_REQUEST_SOURCES, ...traffic, readiness: 0.7, txBuffers: 3, trace: traceWriter,
        });
        traceWriter.close();
        checkRun(run, traffic.downstream.length);
        // Everything the peer sent on its own crossed the link (the rest of "up" are its answers).
        const up = run.trace.filter((e) => e.dir === "up").map((e) => e.tlp);
        for (const { tlp } of traffic.upstream) {
          const at = up.indexOf(hex(tlp));
          expect(at, `upstream ${tlp.kind} never delivered`).toBeGreaterThanOrEqual(0);
          up.splice(at, 1);
        }

        const written = readTraceFile(tracePath);
        expect(written.map((e) => `${e.cycle} ${e.dir} ${Buffer.from(e.tlp).toString("hex")}`))
          .toEqual(run.trace.map((e) => `${e.cycle} ${e.dir} ${e.tlp}`));
      } finally {
        sim.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});

describe("tlp_layer read queue", () => {
  it("holds the peer's reads back with rx_np_ok while the completer's queue is full, and its writes keep flowing", async () => {
    const sim = await buildLayerSimulator(params, "js", layerOptions);
    try {
      const random = seededRandom(17);
      const traffic = randomLayerTraffic(random, params, { configs: 2, reads: 2, writes: 2, upstream: 0, upstreamSpacing: 1 });
      const upstream: { tlp: Tlp; readyCycle: number }[] = [];
      for (let i = 0; i < 24; i++) {
        upstream.push({ tlp: { ...randomMemoryRead(random, params), requesterId: 0x0100 }, readyCycle: 0 });
        for (let k = 0; k < 3; k++) upstream.push({ tlp: { ...randomMemoryWrite(random, params), requesterId: 0x0100 }, readyCycle: 0 });
      }
      const stalledUntil = 4000;
      const run = runLayer(sim, {
        params, random, sourceOf, requestSources: LAYER_REQUEST_SOURCES, ...traffic, upstream, readiness: 0.8, txBuffers: 4, dataSourceStalledUntil: stalledUntil, maxCycles: 200_000,
      });
      // Every read answered as the reference completer cuts it, every write delivered.
      const up = run.trace.filter((e) => e.dir === "up").map((e) => ({ cycle: e.cycle, tlp: decodeTlp(Buffer.from(e.tlp, "hex")) }));
      const delivered = up.map((e) => e.tlp);
      expect(run.peerReceived.filter((t) => t.kind === "CplD").map(hex)).toEqual(expectedLayerCompletions(delivered, params).cplds.map(hex));
      expect(run.memWrites).toEqual(expectedRx(delivered, { requesterId: params.requesterId, tags: params.tags }).memWrites);
      expect(run.memWrites.length).toBe(72);
      expect(run.npHeldCycles).toBeGreaterThan(stalledUntil / 2);
      // The reads waited in the core's non-posted buffer, not on m_axis_rx: the parser never sat on
      // a read it could not queue, so the writes behind it kept flowing.
      expect(run.rxStallCycles).toBeLessThan(stalledUntil / 10);
    } finally {
      sim.close();
    }
  }, 120_000);
});

describe("tlp_layer completion timeout", () => {
  it("reports a request the peer never answers on expired_*/timeout, frees its tag, and carries on", async () => {
    const quick: TlpLayerParams = { ...params, completionTimeoutCycles: 3000 };
    const sim = await buildLayerSimulator(quick, "js", layerOptions);
    try {
      const random = seededRandom(9);
      const traffic = randomLayerTraffic(random, quick, { configs: 4, reads: 8, writes: 4, upstream: 10, upstreamSpacing: 40 });
      const isRead = (r: LayerRequest): r is MemRequest => r.kind === "MRd";
      const lost = traffic.downstream.find(isRead)!;
      const run = runLayer(sim, {
        params: quick, random, sourceOf, requestSources: LAYER_REQUEST_SOURCES, ...traffic, readiness: 0.8, txBuffers: 4,
        peerIgnores: (tlp) => tlp.kind === "MRd" && tlp.address === lost.address,
      });
      const lostTag = run.issued.filter(isRead).find((r) => r.address === lost.address)!.tag;
      expect(run.expired).toEqual([lostTag]);
      expect({ timeout: run.status.timeout, tag: run.status.timeout_tag, outstanding: run.status.outstanding }).toEqual({ timeout: 1, tag: lostTag, outstanding: 0 });
      expect(run.tagReuse).toEqual([]);
      // Every other request was answered: the peer's completions all came up to the layer's port.
      const delivered = run.trace.filter((e) => e.dir === "up").map((e) => decodeTlp(Buffer.from(e.tlp, "hex")));
      expect(run.completions).toEqual(expectedRx(delivered, { requesterId: quick.requesterId, tags: quick.tags }).completions);
      expect(run.status.unexpected_completion).toBe(0);
    } finally {
      sim.close();
    }
  }, 60_000);
});

function checkRun(run: LayerRunResult, requests: number): void {
  // Downstream: each request source's TLPs reach the peer as issued, in order.
  expect(run.issued.length).toBe(requests);
  const peerRequests = run.peerReceived.filter((t) => !isCompletion(t));
  for (let source = 0; source < LAYER_REQUEST_SOURCES; source++) {
    expect(peerRequests.filter((t) => sourceOf(t as LayerRequest) === source).map(hex)).toEqual(run.issued.filter((t) => sourceOf(t) === source).map(hex));
  }
  expect(peerRequests.length).toBe(requests);

  // Upstream: what the core delivered on m_axis_rx, in the order the link's trace gives.
  const delivered = run.trace.filter((e) => e.dir === "up").map((e) => decodeTlp(Buffer.from(e.tlp, "hex")));
  const sentDown = run.trace.filter((e) => e.dir === "down").map((e) => e.tlp);
  expect(sentDown).toEqual(run.peerReceived.map(hex));

  // The completions we send: the reference completer's CplDs for the peer's reads, and a UR for
  // each of its configuration requests, each stream in order.
  const expected = expectedLayerCompletions(delivered, params);
  const peerCompletions = run.peerReceived.filter(isCompletion);
  expect(peerCompletions.filter((t) => t.kind === "CplD").map(hex)).toEqual(expected.cplds.map(hex));
  expect(peerCompletions.filter((t) => t.kind === "Cpl").map(hex)).toEqual(expected.urs.map(hex));
  expect(expected.urs.length).toBeGreaterThan(0);

  // What the layer hands up: the peer's completions to our requests (UR ones too), its writes.
  const rx = expectedRx(delivered, { requesterId: params.requesterId, tags: params.tags });
  expect(run.completions).toEqual(rx.completions);
  expect(run.completionPayloads.map(bytesHex)).toEqual(rx.completionPayloads.map(bytesHex));
  expect(rx.completions.some((c) => c.status !== 0)).toBe(true);
  expect(run.memWrites).toEqual(rx.memWrites);
  expect(run.memWritePayloads.map(bytesHex)).toEqual(rx.memWritePayloads.map(bytesHex));
  expect({
    messages: run.status.count_messages, unsupported: run.status.count_unsupported, malformed: run.status.count_malformed,
    poisoned: run.status.count_poisoned, unexpected: run.status.count_unexpected,
  }).toEqual(rx.counters);
  expect(rx.counters.unexpected).toBeGreaterThan(0);

  // Every tag came back, none was handed out twice, nothing timed out or went wrong.
  expect(run.tagReuse).toEqual([]);
  expect({ outstanding: run.status.outstanding, timeout: run.status.timeout, unexpected: run.status.unexpected_completion, txError: run.status.tx_input_error })
    .toEqual({ outstanding: 0, timeout: 0, unexpected: 0, txError: 0 });
}
