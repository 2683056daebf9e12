// The LEDs: each bit of `leds` is the register of its STATUS_LEDS meaning, one cycle after its
// inputs (link up, READY, either fault, Gen2 x4 only while the link is up, the exerciser's two
// verdicts), and bit 6 is a square wave of 2 x 2^heartbeatBit cycles.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { STATUS_LEDS, STATUS_LEDS_250MHZ, statusLeds } from "../../../rtl-src/top/status-leds.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)("status_leds on the %s engine", (engine) => {
  it("shows each status bit a cycle later, and a heartbeat", async () => {
    const module = statusLeds({ heartbeatBit: 2 });
    const { files } = emitDesign(module);
    const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine });
    try {
      const random = seededRandom(5);
      sim.reset(2);
      let expected = -1;
      const beats: number[] = [];
      for (let cycle = 0; cycle < 300; cycle++) {
        const leds = sim.peek("leds");
        if (expected >= 0) expect(leds & 0x3f, `cycle ${cycle}`).toBe(expected);
        beats.push((leds >> 6) & 1);
        const v = {
          link_up: random() < 0.7 ? 1 : 0,
          ready: random() < 0.5 ? 1 : 0,
          fault: random() < 0.2 ? 1 : 0,
          io_fault: random() < 0.2 ? 1 : 0,
          link_speed: Math.floor(random() * 3),
          link_width: [1, 2, 4, 8][Math.floor(random() * 4)],
          exerciser_verified: random() < 0.5 ? 1 : 0,
          exerciser_failed: random() < 0.5 ? 1 : 0,
        };
        for (const [name, value] of Object.entries(v)) sim.poke(name, value);
        const gen2x4 = v.link_speed === 2 && v.link_width === 4 && v.link_up === 1 ? 1 : 0;
        expected = v.link_up | (v.ready << 1) | ((v.fault | v.io_fault) << 2) | (gen2x4 << 3) | (v.exerciser_verified << 4) | (v.exerciser_failed << 5);
        sim.step();
      }
      const edges = beats.flatMap((b, i) => (i > 0 && b !== beats[i - 1] ? [i] : []));
      expect(edges.length).toBeGreaterThan(20);
      expect(new Set(edges.slice(1).map((e, i) => e - edges[i]))).toEqual(new Set([4]));
    } finally {
      sim.close();
    }
  });
});

describe("status_leds' table", () => {
  it("names seven LEDs, beats near 1 Hz at 250 MHz, and has no combinational path", () => {
    expect(STATUS_LEDS).toHaveLength(7);
    expect(250e6 / 2 ** (STATUS_LEDS_250MHZ.heartbeatBit + 1)).toBeCloseTo(0.93, 1);
    const { design } = emitDesign(statusLeds());
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    expect(() => statusLeds({ heartbeatBit: 0 })).toThrow(/heartbeatBit = 0/);
  });
});
