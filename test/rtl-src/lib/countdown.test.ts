// The countdown timer in pieces: loaded with random values at random moments, its count and its
// expired flag equal a plain down-counter's on every cycle, across piece boundaries (3-bit pieces
// of a 10-bit count), for loads from registers and from a constant.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { countdown } from "../../../rtl-src/lib/countdown.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";

const WIDTH = 10;
const CONSTANT = 517;
const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

function timerDesign() {
  const m = new Module(`countdown_test_w${WIDTH}`);
  const load = m.input(1);
  const value = m.input(WIDTH);
  const load_constant = m.input(1);
  const expired = m.output(1);
  const count = m.output(WIDTH);
  const constant_expired = m.output(1);
  const timer = countdown(m, "timer", { width: WIDTH, load, value, pieceBits: 3 });
  const fixed = countdown(m, "fixed", { width: WIDTH, load: load_constant, value: CONSTANT, pieceBits: 4 });
  m.comb(expired, timer.expired);
  m.comb(count, timer.count);
  m.comb(constant_expired, fixed.expired);
  const { files, design } = emitDesign(m);
  return { top: design.top.name, sources: files.map((f) => ({ path: f.fileName, text: f.text })) };
}

describe.each(engines)("countdown (%s engine)", (engine) => {
  it("counts like a plain down-counter and expires after the value loaded", async () => {
    const sim = await createSimulator({ ...timerDesign(), engine });
    try {
      const random = seededRandom(7);
      sim.reset(2);
      let count = 0;
      let fixed = 0;
      for (let cycle = 0; cycle < 6000; cycle++) {
        const load = random() < 0.004 ? 1 : 0;
        const value = random() < 0.3 ? Math.floor(random() * 8) : Math.floor(random() * 2 ** WIDTH);
        const loadConstant = random() < 0.001 ? 1 : 0;
        sim.poke("load", load);
        sim.poke("value", value);
        sim.poke("load_constant", loadConstant);
        sim.step();
        count = load ? value : Math.max(0, count - 1);
        fixed = loadConstant ? CONSTANT : Math.max(0, fixed - 1);
        expect({ count: sim.peek("count"), expired: sim.peek("expired"), fixed: sim.peek("constant_expired") }, `cycle ${cycle}`)
          .toEqual({ count, expired: count === 0 ? 1 : 0, fixed: fixed === 0 ? 1 : 0 });
      }
    } finally {
      sim.close();
    }
  });

  it("rejects a bad width, a value that does not fit and a multi-bit load", () => {
    const m = new Module("countdown_bad");
    expect(() => countdown(m, "t", { width: 0, load: m.input(1), value: 0 })).toThrow(/width = 0/);
    expect(() => countdown(m, "t", { width: 4, load: m.input(1), value: 16 })).toThrow(/value 16 does not fit 4 bits/);
    expect(() => countdown(m, "t", { width: 4, load: m.input(2), value: 1 })).toThrow(/load must be 1 bit/);
  });
});
