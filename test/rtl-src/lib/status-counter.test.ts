// The receive parser's status counter, split into pieces whose carries are registered: its value
// equals a plain wrapping count of the event on every cycle, across every piece boundary. Small
// pieces (2 bits) make the boundaries and the wrap reachable in a few hundred cycles.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { statusCounter } from "../../../rtl-src/lib/status-counter.ts";
import { type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/testbench/tlp-rx-traffic.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const WIDTH = 7;
const PIECE_BITS = 2;

function counterDesign() {
  const m = new Module(`rx_status_counter_test_w${WIDTH}_p${PIECE_BITS}`);
  const pulse = m.input(1);
  const count = m.output(WIDTH);
  statusCounter(m, count, pulse, "count", PIECE_BITS);
  const { files, design } = emitDesign(m);
  return { top: design.top.name, sources: emittedSources(files) };
}

/** Drives random pulses (dense runs, so every piece wraps several times) and checks the count after each edge. */
function checkAgainstPlainCount(sim: Simulator, cycles: number, seed: number): void {
  const random = seededRandom(seed);
  sim.reset(2);
  let expected = 0;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const pulse = random() < 0.85 ? 1 : 0;
    sim.poke("pulse", pulse);
    sim.step();
    expected = (expected + pulse) % 2 ** WIDTH;
    expect(sim.peek("count"), `cycle ${cycle}`).toBe(expected);
  }
}

describe("rx status counter", () => {
  const design = counterDesign();

  it("counts like a plain wrapping counter on every cycle (js engine)", async () => {
    const sim = await createSimulator({ ...design, engine: "js" });
    try {
      checkAgainstPlainCount(sim, 600, 1);
    } finally {
      sim.close();
    }
  });

  it.skipIf(!verilatorAvailable())("counts like a plain wrapping counter on every cycle (Verilator)", async () => {
    const sim = await createSimulator({ ...design, engine: "verilator" });
    try {
      checkAgainstPlainCount(sim, 600, 2);
    } finally {
      sim.close();
    }
  });

  it("refuses a multi-bit event and an empty piece", () => {
    const m = new Module("rx_status_counter_bad");
    const count = m.output(8);
    expect(() => statusCounter(m, count, m.input(2), "count")).toThrow(/event must be 1 bit/);
    expect(() => statusCounter(m, count, m.input(1), "count", 0)).toThrow(/pieceBits = 0/);
  });
});
