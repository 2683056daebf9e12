// The transmit arbiter alone, as emitted Verilog on both engines, in front of a model of the packer:
// completions first but at most `completionRun` in a row while a request waits, requests
// round-robin, a source with nothing to send never blocks another, and every header and payload
// word comes out once, in order per source, with its own TLP, under random back-pressure.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { RequestKind } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { tlpTxArbiter } from "../../../rtl-src/tlp/tlp-tx-arbiter.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const SOURCES = 3;
const COMPLETION_RUN = 4;
/** The completion source's number in the records below. */
const CPL = SOURCES;

interface Tlp {
  source: number;
  seq: number;
  words: number;
}

interface Scenario {
  /** TLPs each request source has to send, and the completion source (index SOURCES). */
  tlps: Tlp[][];
  /** Chance per cycle that the packer model is ready (headers and payload words). */
  readyShare: number;
  /** Cycle at which each source starts offering (its valid then holds until the handshake). */
  startCycle?: number[];
  seed: number;
}

interface Outcome {
  /** Sources of the headers the packer took, in order. */
  order: number[];
  /** The longest run of completions the packer took after a request had entered the arbiter and before it came out. */
  completionsPassingARequest: number;
  problems: string[];
}

function tlpsOf(source: number, count: number, random: () => number): Tlp[] {
  return Array.from({ length: count }, (_, seq) => ({ source, seq, words: random() < 0.4 ? 0 : 1 + Math.floor(random() * 4) }));
}

const wordOf = (t: Tlp, index: number) => ((t.source << 24) | (t.seq << 8) | index) >>> 0;

function run(sim: Simulator, scenario: Scenario): Outcome {
  const random = seededRandom(scenario.seed);
  const problems: string[] = [];
  const order: number[] = [];
  const out: { source: number; cycle: number }[] = [];
  const entered = new Map<Tlp, number>();
  let completionsPassingARequest = 0;
  const next = Array(SOURCES + 1).fill(0);
  /** Payload words each source has been asked for (its headers taken) but not yet given. */
  const pendingWords: { tlp: Tlp; index: number }[][] = Array.from({ length: SOURCES + 1 }, () => []);
  const taken: number[] = Array(SOURCES + 1).fill(0);
  let sending: { tlp: Tlp; index: number } | undefined;
  /** The packer sends a header-only TLP's second beat: no header this cycle (every TLP is at least two beats). */
  let headerTail = false;
  const prefix = (source: number) => (source === CPL ? "cpl" : `req${source}`);

  sim.reset(2);
  for (let cycle = 0; cycle < 4000; cycle++) {
    for (let s = 0; s <= SOURCES; s++) {
      const tlp = scenario.tlps[s][next[s]];
      const offering = tlp !== undefined && cycle >= (scenario.startCycle?.[s] ?? 0);
      const p = prefix(s);
      sim.poke(`${p}_valid`, offering ? 1 : 0);
      if (offering && s === CPL) {
        sim.poke("cpl_has_data", tlp.words ? 1 : 0);
        sim.poke("cpl_length_dw", 2 * tlp.words);
        sim.poke("cpl_requester_id", tlp.seq);
        sim.poke("cpl_tag", 0xcc);
      } else if (offering) {
        sim.poke(`${p}_kind`, tlp.words ? RequestKind.MWr : RequestKind.MRd);
        sim.poke(`${p}_address`, (BigInt(s) << 40n) | (BigInt(tlp.seq) << 12n));
        sim.poke(`${p}_length_dw`, tlp.words ? 2 * tlp.words : 1);
        sim.poke(`${p}_tag`, tlp.seq & 0xff);
      }
      const word = pendingWords[s][0];
      sim.poke(`${p}_payload_tvalid`, word ? 1 : 0);
      if (word) {
        const w = wordOf(word.tlp, word.index);
        sim.pokeWords(`${p}_payload_tdata`, [w, ~w >>> 0]);
        sim.poke(`${p}_payload_tkeep`, 0xff);
        sim.poke(`${p}_payload_tlast`, word.index === word.tlp.words - 1 ? 1 : 0);
      }
    }
    // The packer: a header when it has nothing else of a TLP to send, the completion first, like tlp_tx_packer.
    const ready = random() < scenario.readyShare;
    const headerReady = ready && sending === undefined && !headerTail;
    sim.poke("sel_cpl_ready", headerReady ? 1 : 0);
    sim.poke("sel_req_ready", headerReady && !sim.peek("sel_cpl_valid") ? 1 : 0);
    sim.poke("sel_payload_tready", ready && sending !== undefined ? 1 : 0);

    const sourceTaken = Array.from({ length: SOURCES + 1 }, (_, s) => sim.peek(`${prefix(s)}_valid`) === 1 && sim.peek(`${prefix(s)}_ready`) === 1);
    const wordTaken = Array.from({ length: SOURCES + 1 }, (_, s) => sim.peek(`${prefix(s)}_payload_tvalid`) === 1 && sim.peek(`${prefix(s)}_payload_tready`) === 1);
    if (wordTaken.filter(Boolean).length > 1) problems.push(`cycle ${cycle}: two payload sources read at once`);

    let header: Tlp | undefined;
    if (sim.peek("sel_cpl_valid") && sim.peek("sel_cpl_ready")) {
      header = scenario.tlps[CPL][sim.peek("sel_cpl_requester_id")];
      if (sim.peek("sel_cpl_has_data") !== (header.words ? 1 : 0)) problems.push(`cycle ${cycle}: completion ${header.seq} has_data`);
    } else if (sim.peek("sel_req_valid") && sim.peek("sel_req_ready")) {
      const address = sim.peekBig("sel_req_address");
      const source = Number(address >> 40n);
      header = scenario.tlps[source]?.[Number((address >> 12n) & 0xfffffn)];
      if (header && sim.peek("sel_req_four_dw") !== (source !== 0 ? 1 : 0)) problems.push(`cycle ${cycle}: request ${source}.${header.seq} four_dw`);
    }
    if (sending && sim.peek("sel_payload_tvalid") && sim.peek("sel_payload_tready")) {
      const words = new Uint32Array(2);
      sim.peekWords("sel_payload_tdata", words);
      const want = wordOf(sending.tlp, sending.index);
      const last = sending.index === sending.tlp.words - 1;
      if (words[0] !== want || words[1] !== (~want >>> 0) || sim.peek("sel_payload_tlast") !== (last ? 1 : 0)) {
        problems.push(`cycle ${cycle}: payload word ${sending.index} of ${sending.tlp.source}.${sending.tlp.seq} is ${words[0].toString(16)}`);
      }
      sending = last ? undefined : { tlp: sending.tlp, index: sending.index + 1 };
    }
    sim.step();
    if (headerTail && ready) headerTail = false;

    for (let s = 0; s <= SOURCES; s++) {
      if (sourceTaken[s]) {
        const tlp = scenario.tlps[s][next[s]++];
        entered.set(tlp, cycle);
        for (let index = 0; index < tlp.words; index++) pendingWords[s].push({ tlp, index });
      }
      if (wordTaken[s]) pendingWords[s].shift();
    }
    if (header) {
      if (header.seq !== taken[header.source]) problems.push(`cycle ${cycle}: ${header.source}.${header.seq} out of order (expected seq ${taken[header.source]})`);
      taken[header.source] = header.seq + 1;
      order.push(header.source);
      out.push({ source: header.source, cycle });
      if (header.source !== CPL) {
        const since = entered.get(header)!;
        const passed = out.filter((o) => o.source === CPL && o.cycle > since).length;
        completionsPassingARequest = Math.max(completionsPassingARequest, passed);
        out.splice(0, out.length);
      }
      if (header.words) sending = { tlp: header, index: 0 };
      else headerTail = true;
    }
  }
  scenario.tlps.forEach((list, s) => {
    if (taken[s] !== list.length) problems.push(`source ${s}: ${taken[s]} of ${list.length} TLPs came out`);
  });
  return { order, completionsPassingARequest, problems };
}

/** Lengths of the runs of completions in `order`. */
function completionRuns(order: number[]): number[] {
  const runs: number[] = [];
  let run = 0;
  for (const s of order) {
    if (s === CPL) run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  return runs;
}

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)(`tlp_tx_arbiter_r${SOURCES}_c${COMPLETION_RUN} (%s)`, (engine) => {
  let sim: Simulator;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = tlpTxArbiter({ requestSources: SOURCES, completionRun: COMPLETION_RUN });
      const { files } = emitDesign(module);
      sim = await createSimulator({ sources: emittedSources(files), top: module.name, engine });
    }
    return sim;
  };

  it("with every source always holding a TLP: completions first, exactly completionRun in a row, requests round-robin", async () => {
    const random = seededRandom(1);
    const tlps = [0, 1, 2, 3].map((s) => tlpsOf(s, s === CPL ? 400 : 60, random));
    const { order, problems } = run(await simulator(), { tlps, readyShare: 1, seed: 1 });
    expect(problems).toEqual([]);
    expect(order[0]).toBe(CPL);
    // The completion source refills its holding register in the cycle after its first header is
    // chosen, so request 0 gets that one turn; from there on, while requests are waiting,
    // completions come in runs of exactly completionRun, each followed by one request.
    // (The requests outlast the completions; the steady state ends with the last completion.)
    const steady = order.slice(order.indexOf(0) + 1, order.lastIndexOf(CPL) + 1);
    expect(steady.slice(0, 10)).toEqual([CPL, CPL, CPL, CPL, 1, CPL, CPL, CPL, CPL, 2]);
    expect(completionRuns(steady).every((r) => r === COMPLETION_RUN)).toBe(true);
    expect(steady.filter((s, i) => s !== CPL && steady[i + 1] !== undefined && steady[i + 1] !== CPL)).toEqual([]);
    const requests = order.filter((s) => s !== CPL);
    expect(requests.slice(0, 9)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(requests.every((s, i) => i === 0 || s === (requests[i - 1] + 1) % SOURCES)).toBe(true);
  });

  it("a source with nothing to send never blocks the others", async () => {
    const random = seededRandom(2);
    const tlps = [tlpsOf(0, 50, random), [], tlpsOf(2, 50, random), []];
    const { order, problems } = run(await simulator(), { tlps, readyShare: 1, seed: 2 });
    expect(problems).toEqual([]);
    expect(order.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => (i % 2 ? 2 : 0)));
  });

  it("under random back-pressure and sources that start at random times, loses, repeats and reorders nothing", async () => {
    for (const seed of [3, 4, 5]) {
      const random = seededRandom(seed);
      const tlps = [0, 1, 2, 3].map((s) => tlpsOf(s, 40, random));
      const startCycle = [0, 1, 2, 3].map(() => Math.floor(random() * 200));
      const { completionsPassingARequest, problems } = run(await simulator(), { tlps, readyShare: 0.6, startCycle, seed });
      expect(problems).toEqual([]);
      // One completion may already sit in the selection register when the request arrives.
      expect(completionsPassingARequest).toBeLessThanOrEqual(COMPLETION_RUN + 1);
      expect(completionsPassingARequest).toBeGreaterThanOrEqual(COMPLETION_RUN);
    }
  });
});
