// The port exchange on both engines against the per-port path of a second instance of the same
// design: every output word every cycle, wide ports, internal signals, runUntilChange's stop.
import { describe, expect, it } from "vitest";
import { type EngineName, type PortExchange, type Simulator, createSimulator, verilatorAvailable, nativeAvailable } from "../../../sim/engine/index.ts";
import { designsIn } from "../../../sim/engine/designs.ts";
import { hierarchySources } from "../../../sim/engine/verilog-scan.ts";
import { randomStimulus, wordsOf } from "../../../sim/engine/stimulus.ts";

const FIXTURES = new URL("../../fixtures/engine/", import.meta.url).pathname;
const GENERATED = new URL("../../../generated/", import.meta.url).pathname;
const engines: EngineName[] = [...(verilatorAvailable() ? (["js", "verilator"] as const) : (["js"] as const)), ...(nativeAvailable() ? (["native"] as const) : [])];
const generated = designsIn(GENERATED);
const layerTop = generated.tops.find((t) => t.startsWith("tlp_layer_"))!;

const designs = [
  { label: "counter_top", sources: [`${FIXTURES}counter_top.v`, `${FIXTURES}counter.v`], top: "counter_top" },
  { label: "wide_datapath", sources: [`${FIXTURES}wide_datapath.v`, `${FIXTURES}wide_alu.v`], top: "wide_datapath" },
  { label: "tlp_layer", sources: hierarchySources(generated.sources, layerTop), top: layerTop },
];

interface Pair {
  fast: Simulator;
  reference: Simulator;
  x: PortExchange;
  inputs: string[];
  outputs: string[];
}

/** Two instances: one driven through an exchange of every input and every non-clock signal, one port by port. */
async function pair(engine: EngineName, design: (typeof designs)[number]): Promise<Pair> {
  const fast = await createSimulator({ sources: design.sources, top: design.top, engine });
  const reference = await createSimulator({ sources: design.sources, top: design.top, engine });
  const inputs = fast.signals.filter((s) => s.direction === "input" && s.name !== "clk").map((s) => s.name);
  const outputs = fast.signals.filter((s) => s.direction !== "input" && !/(^|\.)clk$/.test(s.name)).map((s) => s.name);
  return { fast, reference, x: fast.portExchange({ inputs, outputs }), inputs, outputs };
}

/** The reference's view of the outputs in the exchange's layout (what peek gives before the edge). */
function referenceOutputs(p: Pair, into: Uint32Array): Uint32Array {
  const words = new Uint32Array(16);
  for (const name of p.outputs) {
    const h = p.reference.signal(name);
    p.reference.peekWords(h, words);
    into.set(words.subarray(0, wordsOf(h.width)), p.x.offsetOf(name));
  }
  return into;
}

function firstDifference(a: Uint32Array, b: Uint32Array, p: Pair): string | null {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const name = p.outputs.filter((n) => p.x.offsetOf(n) <= i).at(-1);
      return `word ${i} (${name}): exchange 0x${a[i].toString(16)}, per port 0x${b[i].toString(16)}`;
    }
  }
  return null;
}

/** Random inputs for `cycles` cycles through both paths; throws at the first output word that differs. */
function driveRandom(p: Pair, cycles: number, seed: number): void {
  const stimulus = randomStimulus(p.inputs.map((name) => p.fast.signal(name)), cycles, seed);
  const expected = new Uint32Array(p.x.outputs.length);
  for (let c = 0; c < cycles; c++) {
    stimulus.inputs.forEach((port, i) => {
      const n = wordsOf(port.width);
      const words = stimulus.values[i].subarray(c * n, c * n + n);
      p.x.inputs.set(words, p.x.offsetOf(port.name));
      p.reference.pokeWords(port.name, words);
    });
    p.x.cycle();
    referenceOutputs(p, expected);
    p.reference.step();
    const diff = firstDifference(p.x.outputs, expected, p);
    if (diff) throw new Error(`cycle ${c}: ${diff}`);
  }
}

describe.each(engines)("%s engine", (engine) => {
  describe.each(designs)("$label", (design) => {
    it("gives the outputs poke/peek/step gives, every word every cycle, and the same state after", async () => {
      const p = await pair(engine, design);
      driveRandom(p, 400, 11);
      expect(p.fast.cycle).toBe(400);
      for (const name of p.outputs) expect(p.fast.peekBig(name), name).toBe(p.reference.peekBig(name));
      p.fast.close();
      p.reference.close();
    });

    it("runUntilChange stops on the cycle a watched output first changes, inputs held", async () => {
      const p = await pair(engine, design);
      for (let trial = 0; trial < 6; trial++) {
        driveRandom(p, 20, 100 + trial);
        // Hold the last inputs; on the reference, find the first cycle whose pre-edge outputs differ.
        const before = Uint32Array.from(p.x.outputs);
        const now = new Uint32Array(before.length);
        let expected = 64;
        for (let n = 1; n <= 64; n++) {
          referenceOutputs(p, now);
          p.reference.step();
          if (firstDifference(now, before, p)) {
            expected = n;
            break;
          }
        }
        const cycle = p.fast.cycle;
        expect(p.x.runUntilChange(64)).toBe(expected);
        expect(p.fast.cycle).toBe(cycle + expected);
        expect(firstDifference(p.x.outputs, now, p)).toBeNull();
      }
      p.fast.close();
      p.reference.close();
    });

    it("runWhileStable stops before the cycle a watched output first changes, inputs held", async () => {
      const p = await pair(engine, design);
      for (let trial = 0; trial < 6; trial++) {
        driveRandom(p, 20, 200 + trial);
        const before = Uint32Array.from(p.x.outputs);
        const now = new Uint32Array(before.length);
        let stable = 64;
        for (let n = 0; n < 64; n++) {
          referenceOutputs(p, now);
          if (firstDifference(now, before, p)) {
            stable = n;
            break;
          }
          p.reference.step();
        }
        const cycle = p.fast.cycle;
        expect(p.x.runWhileStable(64)).toBe(stable);
        expect(p.fast.cycle).toBe(cycle + stable);
        if (stable < 64) expect(firstDifference(p.x.outputs, now, p)).toBeNull();
        for (const name of p.outputs) expect(p.fast.peekBig(name), name).toBe(p.reference.peekBig(name));
        // Catch the reference up with the cycle that changed, so both continue from the same state.
        if (stable < 64) {
          p.x.cycle();
          p.reference.step();
        }
      }
      p.fast.close();
      p.reference.close();
    });
  });

  it("runWhileStable stops before the cycle a watched output first changes, and peeks show that state", async () => {
    const sim = await createSimulator({ sources: designs[0].sources, top: "counter_top", engine });
    const x = sim.portExchange({ inputs: ["rst", "en", "limit", "addend"], outputs: ["value", "total", "wraps"] });
    x.inputs[x.offsetOf("rst")] = 1;
    x.cycle();
    x.inputs[x.offsetOf("rst")] = 0;
    x.cycle();
    expect(x.runWhileStable(50)).toBe(50);
    expect(x.runWhileStable(0)).toBe(0);
    x.inputs[x.offsetOf("en")] = 1;
    x.inputs[x.offsetOf("limit")] = 9;
    x.inputs[x.offsetOf("addend")] = 5;
    x.watch.fill(0);
    x.watch[x.offsetOf("wraps")] = 0xffff;
    // runUntilChange ran 11 cycles here, the 11th being the first to show wraps = 1: stop before it.
    const cycle = sim.cycle;
    expect(x.runWhileStable(1000)).toBe(10);
    expect(sim.cycle).toBe(cycle + 10);
    expect(x.outputs[x.offsetOf("wraps")]).toBe(1);
    expect(sim.peek("wraps")).toBe(1);
    expect(sim.peek("value")).toBe(0);
    // The changed cycle did not run: a cycle() runs it (and `outputs` already hold its sample).
    x.cycle();
    expect(x.outputs[x.offsetOf("wraps")]).toBe(1);
    expect(sim.cycle).toBe(cycle + 11);
    expect(sim.peek("value")).toBe(1);
    // A watched bit changing under an observer takes the per-port path with the same answer.
    const seen: number[] = [];
    sim.beforeEdge(() => seen.push(sim.peek("value")));
    x.watch[x.offsetOf("wraps")] = 0;
    x.watch[x.offsetOf("value")] = 0x8;
    expect(x.runWhileStable(1000)).toBe(7);
    expect(sim.peek("value")).toBe(8);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
    sim.close();
  });

  it("runUntilChange watches only the bits of `watch` and respects maxCycles", async () => {
    const sim = await createSimulator({ sources: designs[0].sources, top: "counter_top", engine });
    const x = sim.portExchange({ inputs: ["rst", "en", "limit", "addend"], outputs: ["value", "total", "wraps"] });
    x.inputs[x.offsetOf("rst")] = 1;
    x.cycle();
    x.inputs[x.offsetOf("rst")] = 0;
    x.cycle();
    expect(x.runUntilChange(50)).toBe(50); // en low, addend 0: nothing moves
    expect(x.runUntilChange(0)).toBe(0);
    x.inputs[x.offsetOf("en")] = 1;
    x.inputs[x.offsetOf("limit")] = 9;
    x.inputs[x.offsetOf("addend")] = 5; // total changes every cycle, but is not watched
    x.watch.fill(0);
    x.watch[x.offsetOf("wraps")] = 0xffff;
    // value 0 now; the edge of cycle 10 (value 9 == limit) wraps; cycle 11 shows wraps = 1.
    expect(x.runUntilChange(1000)).toBe(11);
    expect(x.outputs[x.offsetOf("wraps")]).toBe(1);
    expect(x.outputs[x.offsetOf("value")]).toBe(0);
    expect(x.outputs[x.offsetOf("total")]).toBe(5 * 10);
    x.watch[x.offsetOf("wraps")] = 0;
    x.watch[x.offsetOf("value")] = 0x8; // bit 3 of value: set at value 8
    expect(x.runUntilChange(1000)).toBe(8);
    expect(x.outputs[x.offsetOf("value")]).toBe(8);
    x.watch.fill(0);
    const cycle = sim.cycle;
    expect(x.runUntilChange(37)).toBe(37);
    expect(sim.cycle).toBe(cycle + 37);
    // the cycle that showed 8 ended with its edge (9); peek shows the state after the last edge
    expect(sim.peek("value")).toBe((9 + 37) % 10);
    sim.close();
  });

  it("calls beforeEdge observers once per exchange cycle with the inputs applied, until removed", async () => {
    const sim = await createSimulator({ sources: designs[0].sources, top: "counter_top", engine });
    const x = sim.portExchange({ inputs: ["rst", "en", "limit", "addend"], outputs: ["value"] });
    sim.reset();
    const seen: number[] = [];
    const removeObserver = sim.beforeEdge(() => seen.push(sim.peek("en") * 1000 + sim.peek("value")));
    x.inputs[x.offsetOf("en")] = 1;
    x.inputs[x.offsetOf("limit")] = 200;
    x.cycle();
    x.cycle();
    expect(x.runUntilChange(10)).toBe(1);
    expect(seen).toEqual([1000, 1001, 1002]);
    expect(x.outputs[0]).toBe(2);
    // Removed, the observer sees no more edges, and the exchange gives the same values on its fast path.
    const second: number[] = [];
    const removeSecond = sim.beforeEdge(() => second.push(sim.peek("value")));
    removeObserver();
    x.cycle();
    removeSecond();
    x.cycle();
    sim.step(2);
    expect(seen).toEqual([1000, 1001, 1002]);
    expect(second).toEqual([3]);
    expect(sim.peek("value")).toBe(7);
    sim.close();
  });

  it("rejects outputs as inputs, unknown names and names listed twice", async () => {
    const sim = await createSimulator({ sources: designs[0].sources, top: "counter_top", engine });
    expect(() => sim.portExchange({ inputs: ["value"], outputs: [] })).toThrow(/only inputs can be poked/);
    expect(() => sim.portExchange({ inputs: ["clk"], outputs: [] })).toThrow(/driven by step/);
    expect(() => sim.portExchange({ inputs: [], outputs: ["valeu"] })).toThrow(/value/);
    expect(() => sim.portExchange({ inputs: ["en"], outputs: ["en"] })).toThrow(/twice/);
    const x = sim.portExchange({ inputs: ["en"], outputs: ["value"] });
    expect(() => x.offsetOf("wraps")).toThrow(/no port "wraps"/);
    sim.close();
  });
});
