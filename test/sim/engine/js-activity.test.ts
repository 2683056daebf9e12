// The js engine's activity evaluation (js-compiler.ts, js-partition.ts) skips the blocks of logic
// whose inputs did not change. These tests hold it to the "full" evaluation (every cell every
// cycle, compiled from the same netlist) and to Verilator on designs that go quiet and wake up
// again: a register changing every 37th cycle feeding a large cone, a memory written rarely,
// inputs poked now and then, peeks of signals inside skipped blocks, and the port exchange's
// runUntilChange / runWhileStable; on random designs of the fuzzer under random stimulus; and
// the adaptive evaluation (the default) switching to full evaluation on a busy design and back.
// The native engine (the same model compiled to machine code) joins the fixtures' comparisons.
import { describe, expect, it } from "vitest";
import { syntheticPipeline } from "../../../sim/bench/sim-synthetic.ts";
import { designsIn } from "../../../sim/engine/designs.ts";
import { randomDesign } from "../../../sim/engine/fuzz.ts";
import { ADAPTIVE, type JsEvaluation, compileNetlist, findDecoders } from "../../../sim/engine/js-compiler.ts";
import { JsSimulator, resolveJsEvaluation, settleAtPowerUp } from "../../../sim/engine/js-engine.ts";
import { buildNetlist } from "../../../sim/engine/netlist.ts";
import { type Simulator, createSimulator, nativeAvailable, verilatorAvailable } from "../../../sim/engine/index.ts";
import { type PortSpec, prng, wordsOf } from "../../../sim/engine/stimulus.ts";
import { hierarchySources, undefinedModules } from "../../../sim/engine/verilog-scan.ts";
import { type VerilogSource, readSources, synthesizeNetlist } from "../../../sim/engine/yosys.ts";

const FIXTURE = readSources([new URL("../../fixtures/engine/activity_wake.v", import.meta.url).pathname]);
const TOP = "activity_wake";
const DECODER_FIXTURE = readSources([new URL("../../fixtures/engine/activity_decoder.v", import.meta.url).pathname]);
const DECODER_TOP = "activity_decoder";

/** The same netlist compiled each way (settled at power-up, as buildJsModel does). */
async function evaluations(sources: readonly VerilogSource[], top: string): Promise<Record<JsEvaluation, JsSimulator>> {
  const netlist = buildNetlist(await synthesizeNetlist(sources, top), top);
  const build = (evaluation: JsEvaluation) => new JsSimulator(settleAtPowerUp(compileNetlist(netlist, evaluation)));
  return { adaptive: build("adaptive"), activity: build("activity"), full: build("full") };
}

/**
 * Inputs that mostly hold still: each cycle each input takes a new random value with
 * probability 1/`every`; rst is high for the first two cycles and then rarely.
 */
function sparseStimulus(inputs: readonly PortSpec[], cycles: number, seed: number, every: number): Uint32Array[] {
  const rand = prng(seed);
  return inputs.map((p) => {
    const nw = wordsOf(p.width);
    const values = new Uint32Array(cycles * nw);
    for (let c = 0; c < cycles; c++) {
      for (let w = 0; w < nw; w++) {
        let v: number;
        if (p.name === "rst") v = c < 2 || rand() % 499 === 0 ? 1 : 0;
        else if (c > 0 && rand() % every !== 0) v = values[(c - 1) * nw + w];
        else v = rand();
        if (w === nw - 1 && p.width % 32 !== 0) v &= 2 ** (p.width % 32) - 1;
        values[c * nw + w] = v;
      }
    }
    return values;
  });
}

/**
 * Drives every simulator with the same sparse stimulus and compares every shared signal every
 * cycle, twice: after the pokes (combinational logic settled on new inputs, before the edge)
 * and after the edge. Returns the first difference, or null.
 */
function compareSparse(sims: Simulator[], cycles: number, seed: number, every: number): string | null {
  const inputs = sims[0].signals.filter((s) => s.direction === "input" && s.name !== "clk");
  const shared = sims[0].signals.filter((s) => sims.every((sim) => sim.signals.some((t) => t.name === s.name)) && !/(^|\.)clk$/.test(s.name));
  const stimulus = sparseStimulus(inputs, cycles, seed, every);
  const words = sims.map(() => new Uint32Array(16));
  const check = (c: number, when: string): string | null => {
    for (const s of shared) {
      sims.forEach((sim, i) => sim.peekWords(s.name, words[i]));
      for (let w = 0; w < wordsOf(s.width); w++) {
        const differ = words.some((x) => x[w] !== words[0][w]);
        if (differ) return `cycle ${c} ${when}: ${s.name} is ${sims.map((sim, i) => `${sim.engine}${i} 0x${words[i][w].toString(16)}`).join(", ")} (word ${w})`;
      }
    }
    return null;
  };
  for (let c = 0; c < cycles; c++) {
    inputs.forEach((p, i) => {
      const nw = wordsOf(p.width);
      for (const sim of sims) sim.pokeWords(p.name, stimulus[i].subarray(c * nw, c * nw + nw));
    });
    const before = check(c, "before the edge");
    if (before) return before;
    for (const sim of sims) sim.step();
    const after = check(c, "after the edge");
    if (after) return after;
  }
  return null;
}

/** The native engine's activity and adaptive evaluations of a design (none without g++). */
async function nativeEvaluations(sources: readonly VerilogSource[], top: string): Promise<Simulator[]> {
  if (!nativeAvailable()) return [];
  return Promise.all((["activity", "adaptive"] as const).map((jsEvaluation) => createSimulator({ sources, top, engine: "native", jsEvaluation })));
}

describe("activity evaluation", () => {
  it("chooses adaptive by default, another by option or NVME_HOST_JS_EVALUATION, and rejects other names", () => {
    expect(resolveJsEvaluation(undefined, {})).toBe("adaptive");
    expect(resolveJsEvaluation(undefined, { NVME_HOST_JS_EVALUATION: "full" })).toBe("full");
    expect(resolveJsEvaluation("activity", { NVME_HOST_JS_EVALUATION: "full" })).toBe("activity");
    expect(() => resolveJsEvaluation("lazy", {})).toThrow(/unknown js evaluation "lazy".*adaptive, activity, full/);
  });

  it("agrees with full evaluation and Verilator on every signal, before and after every edge, with inputs poked now and then", async () => {
    const { adaptive, activity, full } = await evaluations(FIXTURE, TOP);
    const sims: Simulator[] = [activity, full, adaptive, ...(await nativeEvaluations(FIXTURE, TOP))];
    if (verilatorAvailable()) sims.push(await createSimulator({ sources: FIXTURE, top: TOP, engine: "verilator" }));
    expect(compareSparse(sims, 3000, 7, 40)).toBeNull();
    for (const sim of sims) sim.close();
  });

  it("skips the cone while its register holds still, wakes it when the register changes, and peeks show its current values", async () => {
    const { activity, full } = await evaluations(FIXTURE, TOP);
    for (const sim of [activity, full]) {
      sim.reset(2);
      sim.poke("enable", 1);
    }
    const cone = ["s1", "s3", "s5", "sel", "s6", "s8", "s10", "cone_out"];
    const evaluatedIn = (steps: number) => {
      const before = activity.activity.evaluated;
      activity.step(steps);
      full.step(steps);
      return activity.activity.evaluated - before;
    };
    // Step to the edge that changes `slow`: the next settle runs its cone; the one after is
    // quiet again (only tick and prescale move).
    while (activity.peek("slow_edge") === 0) evaluatedIn(1);
    evaluatedIn(1);
    const wake = evaluatedIn(1);
    const quiet = evaluatedIn(1);
    expect(quiet).toBeLessThan(activity.activity.blocks / 3);
    expect(wake).toBeGreaterThan(2 * quiet);
    for (let c = 0; c < 80; c++) {
      for (const name of cone) expect(activity.peekBig(name), `${name} at step ${c}`).toBe(full.peekBig(name));
      expect(activity.peekBig("acc")).toBe(full.peekBig("acc"));
      evaluatedIn(1);
    }
    activity.close();
    full.close();
  });

  it("re-reads a memory written rarely, through its combinational and its registered read port", async () => {
    const { activity, full } = await evaluations(FIXTURE, TOP);
    const sims = [activity, full];
    for (const sim of sims) sim.reset(1);
    // `we` writes at raddr, which is held: the combinational read must show the new word with
    // no input changing; the registered read (raddr ^ 3) and the writes when tick wraps too.
    for (let round = 0; round < 8; round++) {
      const address = (round * 5) % 16;
      for (const sim of sims) {
        sim.poke("raddr", address);
        sim.poke("wdata", 0x1000 + round);
        sim.poke("we", 1);
      }
      expect(activity.peek("mem_rdata")).toBe(full.peek("mem_rdata"));
      for (const sim of sims) sim.step();
      for (const sim of sims) sim.poke("we", 0);
      expect(activity.peek("mem_rdata")).toBe(0x1000 + round);
      expect(full.peek("mem_rdata")).toBe(0x1000 + round);
      for (let c = 0; c < 100; c++) {
        for (const sim of sims) sim.step();
        for (const name of ["mem_rdata", "mem_rdata_q", "acc"]) expect(activity.peekBig(name), `${name} round ${round} cycle ${c}`).toBe(full.peekBig(name));
      }
    }
    activity.close();
    full.close();
  });

  it("stops runUntilChange and runWhileStable where full evaluation does, with inputs held and poked between runs", async () => {
    const { activity, full } = await evaluations(FIXTURE, TOP);
    const inputs = ["rst", "enable", "we", "raddr", "wdata"];
    const outputs = ["cone_out", "mem_rdata", "mem_rdata_q", "acc", "slow_edge", "s3"];
    const xs = [activity, full].map((sim) => sim.portExchange({ inputs, outputs }));
    const rand = prng(99);
    for (const x of xs) {
      x.inputs[x.offsetOf("rst")] = 1;
      x.cycle();
      x.inputs[x.offsetOf("rst")] = 0;
    }
    for (let trial = 0; trial < 24; trial++) {
      const watched = outputs[trial % outputs.length];
      const enable = rand() & 1;
      const raddr = rand() & 15;
      const runs = xs.map((x) => {
        x.inputs[x.offsetOf("enable")] = enable;
        x.inputs[x.offsetOf("raddr")] = raddr;
        x.watch.fill(0);
        x.watch.fill(0xffffffff, x.offsetOf(watched), x.offsetOf(watched) + (watched === "cone_out" || watched === "acc" ? 2 : 1));
        return trial % 2 === 0 ? x.runWhileStable(300) : x.runUntilChange(300);
      });
      expect(runs[0], `trial ${trial} watching ${watched}`).toBe(runs[1]);
      expect([...xs[0].outputs]).toEqual([...xs[1].outputs]);
      for (const name of ["slow", "tick", "prescale", ...outputs]) expect(activity.peekBig(name), name).toBe(full.peekBig(name));
    }
    expect(activity.cycle).toBe(full.cycle);
    activity.close();
    full.close();
  });
});

describe("decoders", () => {
  it("evaluates comparisons of one value with many constants as decoders, and agrees with full evaluation and Verilator", async () => {
    const netlist = buildNetlist(await synthesizeNetlist(DECODER_FIXTURE, DECODER_TOP), DECODER_TOP);
    // The sweep's taps ($eq and $ne), the word's and the signed value's that can match; Yosys
    // makes the comparisons with 0 reductions, so the pick's two taps left are no decoder.
    const decoders = new Set(findDecoders(netlist.cells).values());
    expect([...decoders].map((d) => d.taps.length).sort((a, b) => a - b)).toEqual([3, 5, 31]);
    const { adaptive, activity, full } = await evaluations(DECODER_FIXTURE, DECODER_TOP);
    const sims: Simulator[] = [activity, full, adaptive, ...(await nativeEvaluations(DECODER_FIXTURE, DECODER_TOP))];
    if (verilatorAvailable()) sims.push(await createSimulator({ sources: DECODER_FIXTURE, top: DECODER_TOP, engine: "verilator" }));
    expect(compareSparse(sims, 400, 17, 3)).toBeNull();
    expect(compareSparse(sims, 400, 18, 60)).toBeNull();
    for (const sim of sims) sim.close();
  });

  it("stays exact across the adaptive evaluation's stretches of full evaluation (which leave the decoders' kept values behind)", async () => {
    const { adaptive, full } = await evaluations(DECODER_FIXTURE, DECODER_TOP);
    // The native engine's adaptive evaluation too: the same switch, compiled.
    const native = nativeAvailable() ? [await createSimulator({ sources: DECODER_FIXTURE, top: DECODER_TOP, engine: "native", jsEvaluation: "adaptive" }) as JsSimulator] : [];
    const sims = [adaptive, full, ...native];
    const rand = prng(23);
    const outputs = ["onehot", "word_taps", "signed_taps", "pick_taps", "hits", "sweep"];
    const { probeEdges, recheckEdges, fullEdges } = ADAPTIVE;
    const busyUntil = probeEdges + fullEdges / 2;
    const cycles = probeEdges + fullEdges + recheckEdges + 600;
    const specials = [0xffffffff, 0x80000000, 0, 7, 0x12345678, 0x80000001];
    for (let c = 0; c < cycles; c++) {
      // Busy (new inputs every cycle) until the adaptive evaluation has gone full, then mostly quiet.
      if (c < busyUntil || rand() % 50 === 0) {
        const word = rand() % 3 === 0 ? specials[rand() % specials.length] : rand() >>> 0;
        const pick = rand() & 31;
        const nibble = rand() & 15;
        for (const sim of sims) {
          sim.poke("rst", c < 2 ? 1 : 0);
          sim.poke("word", word);
          sim.poke("pick", pick);
          sim.poke("nibble", nibble);
        }
      }
      for (const sim of [adaptive, ...native]) for (const name of outputs) expect(sim.peek(name), `${name} before edge ${c} (${sim.engine})`).toBe(full.peek(name));
      for (const sim of sims) sim.step();
      for (const sim of [adaptive, ...native]) for (const name of outputs) expect(sim.peek(name), `${name} after edge ${c} (${sim.engine})`).toBe(full.peek(name));
      // One stretch of full evaluation is over: back in activity evaluation, every block ran once.
      if (c === probeEdges + fullEdges + recheckEdges / 2) for (const sim of [adaptive, ...native]) expect(sim.activity.fullEdges).toBe(fullEdges);
    }
    for (const sim of sims) sim.close();
  });
});

describe("activity evaluation on random designs", () => {
  it.for([3, 11, 19, 23, 31, 42])("fuzz seed %i agrees with full evaluation on every signal every cycle under random stimulus", async (seed) => {
    const design = randomDesign(seed);
    const { activity, full } = await evaluations(design.sources, design.top);
    expect(compareSparse([activity, full], 600, seed, 2), design.describe()).toBeNull();
    expect(compareSparse([activity, full], 600, seed + 1, 30), design.describe()).toBeNull();
    activity.close();
    full.close();
  });
});

describe("adaptive evaluation", () => {
  it("runs a busy design with full evaluation, measures again now and then, and agrees with full evaluation throughout", async () => {
    const busy = syntheticPipeline(8, 32);
    const { adaptive, full } = await evaluations([{ path: "synthetic.v", text: busy.text }], busy.top);
    const sims = [adaptive, full];
    const shared = adaptive.signals.filter((s) => s.name !== "clk");
    const a = new Uint32Array(2);
    const b = new Uint32Array(2);
    const rand = prng(5);
    const { probeEdges, recheckEdges, fullEdges } = ADAPTIVE;
    const cycles = probeEdges + 2 * recheckEdges + 3 * fullEdges + 1000;
    const marks = new Map<number, { fullEdges: number; evaluated: number }>();
    for (let c = 0; c < cycles; c++) {
      const data = rand();
      for (const sim of sims) {
        sim.poke("rst", c < 2 ? 1 : 0);
        sim.poke("in_valid", (c >>> 1) & 1);
        sim.poke("in_data", data);
        sim.step();
      }
      for (const s of shared) {
        adaptive.peekWords(s.name, a);
        full.peekWords(s.name, b);
        if (a[0] !== b[0] || a[1] !== b[1]) expect.fail(`cycle ${c}: ${s.name} adaptive 0x${a[0].toString(16)} full 0x${b[0].toString(16)}`);
      }
      marks.set(adaptive.cycle, adaptive.activity);
    }
    // Busy from the start: after the first measurement, full evaluation; then a short measuring
    // stretch in activity evaluation, and full evaluation again for twice as long.
    const at = (cycle: number) => marks.get(cycle)!;
    expect(at(probeEdges).fullEdges).toBe(0);
    expect(at(probeEdges + fullEdges).fullEdges).toBe(fullEdges);
    expect(at(probeEdges + recheckEdges + fullEdges).fullEdges).toBe(fullEdges);
    expect(at(probeEdges + recheckEdges + fullEdges).evaluated).toBeGreaterThan(at(probeEdges + fullEdges).evaluated);
    expect(at(probeEdges + recheckEdges + 3 * fullEdges).fullEdges).toBe(3 * fullEdges);
    expect(at(probeEdges + 2 * recheckEdges + 3 * fullEdges).fullEdges).toBe(3 * fullEdges);
    expect(at(cycles).fullEdges).toBe(3 * fullEdges + 1000);
    adaptive.close();
    full.close();
  });
});

describe("activity evaluation on designs in generated/", () => {
  const generated = designsIn(new URL("../../../generated", import.meta.url).pathname);
  // Designs with memories, counters that wait, FSMs and a wide datapath; a sample to keep test time small.
  const picks = ["sync_fifo_w64_d512", "tlp_completion_timeout", "pcie_enumerator", "tlp_rx_", "admin_bringup"];
  const tops = picks.map((p) => generated.tops.find((t) => t.startsWith(p))).filter((t): t is string => t !== undefined);

  it("has the designs to test", () => {
    expect(tops.length).toBe(picks.length);
  });

  it.for(tops)("%s agrees with full evaluation on every signal every cycle, inputs poked now and then", async (top) => {
    expect(undefinedModules(generated.sources, top)).toEqual([]);
    const { activity, full } = await evaluations(hierarchySources(generated.sources, top), top);
    expect(compareSparse([activity, full], 1500, 3, 25)).toBeNull();
    expect(activity.activity.evaluated).toBeLessThan(activity.activity.blocks * 1500);
    activity.close();
    full.close();
  });
});
