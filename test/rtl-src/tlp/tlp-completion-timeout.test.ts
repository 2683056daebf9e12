// The completion timeout alone, as emitted Verilog on both engines: an armed tag is reported on
// expired_valid/expired_tag once, after the configured time and not before (within the tick
// granularity and the sweep documented in tlp-completion-timeout.ts); a tag stopped in time is
// never reported; a re-armed tag starts its time again.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { AGE_LIMIT, tickPeriod, tlpCompletionTimeout } from "../../../rtl-src/tlp/tlp-completion-timeout.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const TAGS = 8;
const TIMEOUT = 120;
/**
 * Latest report after start: the AGE_LIMIT-th tick, the sweep reaching the tag (a round, and one
 * more when it expired in the cycle the look-ahead read it), and the look-ahead and output registers.
 */
const LATEST = AGE_LIMIT * tickPeriod(TIMEOUT) + 2 * TAGS + 2;

type Event = { cycle: number; start?: number; stop?: number };

/** Runs a schedule of starts and stops; returns each report as { tag, cycle }. */
function run(sim: Simulator, events: Event[], cycles: number) {
  const reports: { tag: number; cycle: number }[] = [];
  sim.reset(2);
  for (let cycle = 0; cycle < cycles; cycle++) {
    const now = events.filter((e) => e.cycle === cycle);
    const start = now.find((e) => e.start !== undefined)?.start;
    const stop = now.find((e) => e.stop !== undefined)?.stop;
    sim.poke("start_valid", start === undefined ? 0 : 1);
    sim.poke("start_tag", start ?? 0);
    sim.poke("stop_valid", stop === undefined ? 0 : 1);
    sim.poke("stop_tag", stop ?? 0);
    if (sim.peek("expired_valid")) reports.push({ tag: sim.peek("expired_tag"), cycle });
    sim.step();
  }
  return reports;
}

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)(`tlp_completion_timeout_t${TAGS}_c${TIMEOUT} (%s)`, (engine) => {
  let sim: Simulator;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = tlpCompletionTimeout({ tags: TAGS, completionTimeoutCycles: TIMEOUT });
      const { files } = emitDesign(module);
      sim = await createSimulator({ sources: emittedSources(files), top: module.name, engine });
    }
    return sim;
  };

  it("reports every armed tag once, after the timeout and not before", async () => {
    const random = seededRandom(5);
    const starts = Array.from({ length: TAGS }, (_, tag) => ({ cycle: 10 + tag * 7 + Math.floor(random() * 5), start: tag }));
    const reports = run(await simulator(), starts, 600);
    expect(reports.map((r) => r.tag).sort()).toEqual(Array.from({ length: TAGS }, (_, tag) => tag));
    for (const { tag, cycle } of reports) {
      const armed = starts[tag].cycle;
      expect(cycle - armed, `tag ${tag}`).toBeGreaterThan(TIMEOUT);
      expect(cycle - armed, `tag ${tag}`).toBeLessThanOrEqual(LATEST);
    }
  });

  it("never reports a tag stopped before its time is up, however late that stop", async () => {
    // The final completion arriving exactly completionTimeoutCycles after the request is in time.
    const inTime = Array.from({ length: TAGS }, (_, tag) => [
      { cycle: 5 + 3 * tag, start: tag },
      { cycle: 5 + 3 * tag + TIMEOUT, stop: tag },
    ]).flat();
    expect(run(await simulator(), inTime, 600)).toEqual([]);
    // And a stop after the report changes nothing about the report.
    const first = run(await simulator(), [{ cycle: 5, start: 3 }], 400);
    expect(first).toHaveLength(1);
    const late = run(await simulator(), [
      { cycle: 5, start: 3 },
      { cycle: first[0].cycle + 1, stop: 3 },
    ], 400);
    expect(late).toEqual(first);
  });

  it("starts the time again when a tag is re-armed", async () => {
    const reports = run(await simulator(), [
      { cycle: 5, start: 1 },
      { cycle: 60, stop: 1 },
      { cycle: 100, start: 1 },
    ], 600);
    expect(reports).toHaveLength(1);
    expect(reports[0].tag).toBe(1);
    expect(reports[0].cycle - 100).toBeGreaterThan(TIMEOUT);
    expect(reports[0].cycle - 100).toBeLessThanOrEqual(LATEST);
  });
});
