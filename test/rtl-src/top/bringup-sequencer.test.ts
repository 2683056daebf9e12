// The bring-up sequencer with every phase played by a scripted block: phases start one at a time
// in order, each only after the previous one is done; the first error stops the sequence in FAULT
// with the phase's state, code and detail; restart runs it again (at once from READY or FAULT,
// deferred while a phase runs); a link that drops while READY is a fault of its own.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { BRINGUP_PHASES, BRINGUP_STATES, type BringupPhase, LINK_LOST_CODE, bringupSequencer } from "../../../rtl-src/top/bringup-sequencer.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

/** A phase block: after a start it takes `cycles`, then raises done (or error with code/detail); done/error drop at the next start. */
interface Script {
  cycles: number;
  fail?: { code: number; detail: number };
}

class Phases {
  readonly starts: BringupPhase[] = [];
  private readonly busy = new Map<BringupPhase, number>();
  constructor(
    readonly sim: Simulator,
    public scripts: Partial<Record<BringupPhase, Script>>,
  ) {}

  step(): void {
    const { sim } = this;
    for (const phase of BRINGUP_PHASES) {
      if (sim.peek(`${phase}_start`)) {
        this.starts.push(phase);
        this.busy.set(phase, this.scripts[phase]?.cycles ?? 3);
        sim.poke(`${phase}_done`, 0);
        sim.poke(`${phase}_error`, 0);
      } else if (this.busy.has(phase)) {
        const left = this.busy.get(phase)! - 1;
        if (left > 0) this.busy.set(phase, left);
        else {
          this.busy.delete(phase);
          const fail = this.scripts[phase]?.fail;
          sim.poke(`${phase}_error`, fail ? 1 : 0);
          sim.poke(`${phase}_done`, fail ? 0 : 1);
          sim.poke(`${phase}_code`, fail?.code ?? 0);
          sim.poke(`${phase}_detail`, fail?.detail ?? 0);
        }
      }
      // Another phase's stale done must not matter: leave it high.
    }
    sim.step();
  }

  runUntilState(state: (typeof BRINGUP_STATES)[number], max = 500): number {
    for (let n = 0; n < max; n++) {
      if (this.sim.peek("state") === BRINGUP_STATES.indexOf(state)) return n;
      this.step();
    }
    throw new Error(`state ${state} not reached in ${max} cycles (state ${BRINGUP_STATES[this.sim.peek("state")]})`);
  }
}

describe.each(engines)("bringup_sequencer, %s engine", (engine) => {
  const build = async () => {
    const { files, design } = emitDesign(bringupSequencer());
    const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine });
    sim.poke("link_up", 1);
    sim.reset(2);
    return sim;
  };

  it("runs the phases in order, each once, to READY; a failing phase stops it with its state, code and detail; restart succeeds", async () => {
    const sim = await build();
    const phases = new Phases(sim, { enumerate: { cycles: 7 }, admin: { cycles: 20 } });
    phases.runUntilState("READY");
    expect(phases.starts).toEqual([...BRINGUP_PHASES]);
    expect(sim.peek("ready")).toBe(1);
    expect(sim.peek("fault")).toBe(0);

    phases.scripts = { nvme_enable: { cycles: 4, fail: { code: 5, detail: 0x1234 } } };
    phases.starts.length = 0;
    sim.poke("restart", 1);
    phases.step();
    sim.poke("restart", 0);
    phases.runUntilState("FAULT");
    expect(phases.starts).toEqual(["link", "root_port", "enumerate", "root_port_mps", "nvme_enable"]);
    expect({ state: sim.peek("error_state"), code: sim.peek("error_code"), detail: sim.peek("error_detail") }).toEqual({
      state: BRINGUP_STATES.indexOf("NVME_ENABLE"),
      code: 5,
      detail: 0x1234,
    });
    for (let n = 0; n < 50; n++) phases.step();
    expect(sim.peek("state")).toBe(BRINGUP_STATES.indexOf("FAULT"));

    phases.scripts = {};
    sim.poke("restart", 1);
    phases.step();
    sim.poke("restart", 0);
    phases.runUntilState("READY");
    expect(sim.peek("error_code")).toBe(0);
  });

  it("defers a restart that comes while a phase runs, and reports a link lost while READY", async () => {
    const sim = await build();
    const phases = new Phases(sim, { root_port: { cycles: 30 } });
    phases.runUntilState("ROOT_PORT");
    phases.step();
    sim.poke("restart", 1);
    phases.step();
    sim.poke("restart", 0);
    phases.runUntilState("READY");
    // The running phase finished, the sequence went on to READY, then the remembered restart ran it all again.
    expect(phases.starts.slice(0, BRINGUP_PHASES.length)).toEqual([...BRINGUP_PHASES]);
    phases.runUntilState("LINK");
    phases.runUntilState("READY");
    expect(phases.starts).toHaveLength(2 * BRINGUP_PHASES.length);
    for (let n = 0; n < 20; n++) phases.step();
    expect(phases.starts).toHaveLength(2 * BRINGUP_PHASES.length);

    sim.poke("link_up", 0);
    phases.runUntilState("FAULT");
    expect(sim.peek("error_state")).toBe(BRINGUP_STATES.indexOf("READY"));
    expect(sim.peek("error_code")).toBe(LINK_LOST_CODE);
  });
});
