// The bring-up blocks' busy / done / error outputs: after every edge they equal a plain model of a
// run (start sets busy and clears done and error; fail ends it in error; finish ends it done; start
// wins over fail, fail over finish), each event's own body runs in its branch and no other, and a
// branch chained after the three runs only when none of them does. Random events, often several
// in the same cycle, so every priority is exercised.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { runStatus } from "../../../rtl-src/lib/run-status.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
/** What `detail` holds after each branch: distinct per branch, never the reset value 0. */
const DETAIL = { start: 1, fail: 2, finish: 3, other: 4 } as const;

function statusDesign() {
  const m = new Module("run_status_test");
  const start = m.input(1);
  const fail = m.input(1);
  const finish = m.input(1);
  const other = m.input(1);
  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  const detail = m.output(3);
  runStatus(m, { busy, done, error }, {
    start,
    fail,
    finish,
    onStart: () => m.sync(detail, DETAIL.start),
    onFail: () => m.sync(detail, DETAIL.fail),
    onFinish: () => m.sync(detail, DETAIL.finish),
  }).Elif(other, () => m.sync(detail, DETAIL.other));
  const { files, design } = emitDesign(m);
  return { top: design.top.name, sources: emittedSources(files) };
}

describe.each(engines)("run status (%s engine)", (engine) => {
  it("follows start, fail and finish in priority order, each with its own body", async () => {
    const sim = await createSimulator({ ...statusDesign(), engine });
    try {
      const random = seededRandom(engine === "js" ? 3 : 4);
      for (const name of ["start", "fail", "finish", "other"]) sim.poke(name, 0);
      sim.reset(2);
      const model = { busy: 0, done: 0, error: 0, detail: 0 };
      const seen = new Set<number>();
      for (let cycle = 0; cycle < 2000; cycle++) {
        const events = { start: random() < 0.2 ? 1 : 0, fail: random() < 0.3 ? 1 : 0, finish: random() < 0.3 ? 1 : 0, other: random() < 0.5 ? 1 : 0 };
        for (const [name, value] of Object.entries(events)) sim.poke(name, value);
        sim.step();
        if (events.start) Object.assign(model, { busy: 1, done: 0, error: 0, detail: DETAIL.start });
        else if (events.fail) Object.assign(model, { busy: 0, error: 1, detail: DETAIL.fail });
        else if (events.finish) Object.assign(model, { busy: 0, done: 1, detail: DETAIL.finish });
        else if (events.other) model.detail = DETAIL.other;
        seen.add(model.detail);
        const actual = { busy: sim.peek("busy"), done: sim.peek("done"), error: sim.peek("error"), detail: sim.peek("detail") };
        expect(actual, `cycle ${cycle}`).toEqual(model);
      }
      expect([...seen].sort()).toEqual([1, 2, 3, 4]);
    } finally {
      sim.close();
    }
  });
});
