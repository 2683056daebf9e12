// Reset and link of the SSD, as emitted Verilog on both engines, against a scripted peer that plays
// the 7-series core's physical-layer ports (user_lnk_up, pl_*): it holds the link down while PERST#
// is low, brings it up a chosen number of cycles after PERST# rises (or never), and answers a
// directed speed change after a chosen delay (or never). The checks: PERST# is low for exactly
// perstCycles, out of reset and after `start`; done comes exactly configDelayCycles after the link
// came up; no link and a lost link end in their named errors within their bounds; the speed change
// is asked for (2'b10, 5 GT/s, the current width, held until done) only when both ends are
// Gen2-capable and the link came up at 2.5 GT/s, and a change that never completes still ends in
// done at 2.5 GT/s; `start` runs it all again from any state.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { type LinkTrainingError, type LinkTrainingParams, linkTraining, linkTrainingErrorCode } from "../../../rtl-src/pcie/link-training.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

// Distinct lengths, two of them longer than one 8-bit piece of the countdown timer.
const PARAMS: LinkTrainingParams = { perstCycles: 300, linkUpTimeoutCycles: 700, configDelayCycles: 41, speedChangeTimeoutCycles: 90 };
const LTSSM_DETECT_QUIET = 0x00;
const LTSSM_POLLING_ACTIVE = 0x04;
const LTSSM_L0 = 0x16;
const LTSSM_RECOVERY = 0x1c;

interface PeerScript {
  /** Cycles from PERST# release to user_lnk_up; undefined: the link never comes up. */
  linkUpAfter?: number;
  /** pl_sel_lnk_rate the link trains to: 0 = 2.5 GT/s, 1 = 5 GT/s. */
  rate: 0 | 1;
  /** pl_sel_lnk_width code: 00 x1 ... 11 x8. */
  widthCode: number;
  gen2Capable: boolean;
  /** Cycles from the directed change's request to pl_directed_change_done; undefined: never. */
  changeDoneAfter?: number;
  /** Cycles user_lnk_up drops during the change (the LTSSM in Recovery); 0: it stays up. */
  recoveryDownCycles?: number;
  /** Whether the change reaches 5 GT/s (a partner may refuse). */
  changeReachesGen2?: boolean;
}

interface DirectedRequest {
  cycle: number;
  change: number;
  speed: number;
  width: number;
  auton: number;
}

/** The core's physical-layer side, one edge at a time; outputs follow the design's outputs a cycle later. */
class ScriptedLinkPeer {
  user_lnk_up = 0;
  rate = 0;
  ltssm = LTSSM_DETECT_QUIET;
  changeDone = 0;
  /** Lengths of the runs of cycles with perst_n low, in order (the current run last). */
  readonly perstLowRuns: number[] = [];
  readonly requests: DirectedRequest[] = [];
  /** Set by the test to take the link down (true) or let the script run (false). */
  forcedDown = false;
  private perstHigh = false;
  private releasedAt = -1;
  private changeSince = -1;
  private recoveryUntil = -1;
  private cycle = 0;

  constructor(
    private readonly sim: Simulator,
    public script: PeerScript,
  ) {}

  edge(): void {
    const sim = this.sim;
    sim.poke("user_lnk_up", this.user_lnk_up);
    sim.poke("pl_sel_lnk_rate", this.rate);
    sim.poke("pl_sel_lnk_width", this.script.widthCode);
    sim.poke("pl_link_gen2_cap", this.script.gen2Capable && this.user_lnk_up ? 1 : 0);
    sim.poke("pl_directed_change_done", this.changeDone);
    sim.poke("pl_ltssm_state", this.ltssm);
    // Sample what this edge sees, then clock.
    const perst_n = sim.peek("perst_n");
    if (perst_n === 0) {
      if (this.perstHigh || this.perstLowRuns.length === 0) this.perstLowRuns.push(0);
      this.perstLowRuns[this.perstLowRuns.length - 1]++;
    }
    const change = sim.peek("pl_directed_link_change");
    if (change !== 0) {
      this.requests.push({ cycle: this.cycle, change, speed: sim.peek("pl_directed_link_speed"), width: sim.peek("pl_directed_link_width"), auton: sim.peek("pl_directed_link_auton") });
    }
    sim.step();
    this.cycle++;
    this.react(perst_n, change);
  }

  run(cycles: number): void {
    for (let i = 0; i < cycles; i++) this.edge();
  }

  /** Edges until `until` holds (checked before each edge); returns how many ran, throws past `max`. */
  runUntil(until: () => boolean, max: number, what: string): number {
    for (let n = 0; n < max; n++) {
      if (until()) return n;
      this.edge();
    }
    if (until()) return max;
    throw new Error(`${what}: not within ${max} cycles`);
  }

  private react(perst_n: number, change: number): void {
    const s = this.script;
    if (perst_n === 0 || this.forcedDown) {
      // Held in reset (or unplugged): no link, the LTSSM in Detect.
      this.perstHigh = perst_n !== 0;
      if (perst_n === 0) this.releasedAt = -1;
      this.user_lnk_up = 0;
      this.rate = 0;
      this.ltssm = LTSSM_DETECT_QUIET;
      this.changeDone = 0;
      this.changeSince = -1;
      return;
    }
    if (!this.perstHigh) this.releasedAt = this.cycle;
    this.perstHigh = true;
    const since = this.cycle - this.releasedAt;
    if (this.user_lnk_up === 0 && this.recoveryUntil < 0) {
      if (s.linkUpAfter !== undefined && since >= s.linkUpAfter) {
        this.user_lnk_up = 1;
        this.rate = s.rate;
        this.ltssm = LTSSM_L0;
      } else {
        this.ltssm = since > 3 ? LTSSM_POLLING_ACTIVE : LTSSM_DETECT_QUIET;
      }
      return;
    }
    // Link up: a directed change.
    if (change !== 0 && this.changeSince < 0) this.changeSince = this.cycle;
    if (change === 0) {
      this.changeSince = -1;
      this.changeDone = 0;
    }
    if (this.changeSince >= 0 && this.changeDone === 0 && s.changeDoneAfter !== undefined && this.cycle - this.changeSince >= s.changeDoneAfter) {
      this.changeDone = 1;
      if (s.changeReachesGen2 !== false) this.rate = 1;
      if (s.recoveryDownCycles) {
        this.user_lnk_up = 0;
        this.ltssm = LTSSM_RECOVERY;
        this.recoveryUntil = this.cycle + s.recoveryDownCycles;
      }
    }
    if (this.recoveryUntil >= 0 && this.cycle >= this.recoveryUntil) {
      this.recoveryUntil = -1;
      this.user_lnk_up = 1;
      this.ltssm = LTSSM_L0;
    }
  }
}

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const healthy: PeerScript = { linkUpAfter: 120, rate: 1, widthCode: 2, gen2Capable: true };

function status(sim: Simulator) {
  return {
    done: sim.peek("done"),
    error: sim.peek("error"),
    error_code: sim.peek("error_code"),
    busy: sim.peek("busy"),
    link_speed: sim.peek("link_speed"),
    link_width: sim.peek("link_width"),
    speed_change_timed_out: sim.peek("speed_change_timed_out"),
    perst_n: sim.peek("perst_n"),
  };
}

const ended = (sim: Simulator) => () => sim.peek("done") === 1 || sim.peek("error") === 1;
const errorCode = (e: LinkTrainingError) => linkTrainingErrorCode(e);

function pulseStart(peer: ScriptedLinkPeer, sim: Simulator): void {
  sim.poke("start", 1);
  peer.edge();
  sim.poke("start", 0);
}

describe.each(engines)("link_training (%s)", (engine) => {
  let sim: Simulator | undefined;
  afterAll(() => sim?.close());
  const design = async () => {
    if (!sim) {
      const module = linkTraining(PARAMS);
      const { files } = emitDesign(module);
      sim = await createSimulator({ sources: emittedSources(files), top: module.name, engine });
    }
    for (const input of ["start", "user_lnk_up", "pl_sel_lnk_rate", "pl_sel_lnk_width", "pl_link_gen2_cap", "pl_directed_change_done", "pl_ltssm_state"]) sim.poke(input, 0);
    sim.reset(3);
    return sim;
  };

  it("holds PERST# low for exactly perstCycles, waits for the link, then configDelayCycles, and reports the Gen2 link without a speed change", async () => {
    const sim = await design();
    const peer = new ScriptedLinkPeer(sim, healthy);
    expect(status(sim)).toMatchObject({ perst_n: 0, busy: 1, done: 0, error: 0 });
    const cycles = peer.runUntil(ended(sim), PARAMS.perstCycles + 500, "done");
    expect(peer.perstLowRuns).toEqual([PARAMS.perstCycles]);
    // Link up 120 cycles after the release and seen a cycle later; the delay starts the cycle after.
    expect(cycles).toBe(PARAMS.perstCycles + healthy.linkUpAfter! + 1 + PARAMS.configDelayCycles + 1);
    expect(status(sim)).toEqual({ done: 1, error: 0, error_code: 0, busy: 0, link_speed: 2, link_width: 4, speed_change_timed_out: 0, perst_n: 1 });
    expect(peer.requests).toEqual([]);
    peer.run(200);
    expect(status(sim)).toMatchObject({ done: 1, error: 0 });
  });

  it("reports every width as lanes", async () => {
    for (const [widthCode, lanes] of [[0, 1], [1, 2], [3, 8]]) {
      const sim = await design();
      const peer = new ScriptedLinkPeer(sim, { ...healthy, widthCode, linkUpAfter: 5 });
      peer.runUntil(ended(sim), 1000, "done");
      expect(status(sim)).toMatchObject({ done: 1, link_width: lanes });
    }
  });

  it("reports NO_LINK exactly linkUpTimeoutCycles after PERST# release, with the LTSSM state, and PERST# stays released", async () => {
    const sim = await design();
    const peer = new ScriptedLinkPeer(sim, { ...healthy, linkUpAfter: undefined });
    const cycles = peer.runUntil(ended(sim), 2000, "error");
    expect(cycles).toBe(PARAMS.perstCycles + PARAMS.linkUpTimeoutCycles);
    expect(status(sim)).toMatchObject({ done: 0, error: 1, error_code: errorCode("NO_LINK"), busy: 0, perst_n: 1 });
    expect(sim.peek("error_ltssm_state")).toBe(LTSSM_POLLING_ACTIVE);
    // A link that comes up just in time is taken.
    const again = await design();
    const late = new ScriptedLinkPeer(again, { ...healthy, linkUpAfter: PARAMS.linkUpTimeoutCycles - 2 });
    late.runUntil(ended(again), 2000, "done");
    expect(status(again)).toMatchObject({ done: 1, error: 0 });
  });

  it("changes a 2.5 GT/s link of two Gen2-capable ends to 5 GT/s: 2'b10, speed 1, the current width, held until done", async () => {
    const sim = await design();
    const script: PeerScript = { linkUpAfter: 30, rate: 0, widthCode: 2, gen2Capable: true, changeDoneAfter: 25 };
    const peer = new ScriptedLinkPeer(sim, script);
    peer.runUntil(ended(sim), 2000, "done");
    expect(status(sim)).toEqual({ done: 1, error: 0, error_code: 0, busy: 0, link_speed: 2, link_width: 4, speed_change_timed_out: 0, perst_n: 1 });
    // Held every cycle from the request to the cycle done was seen, with the same value.
    const first = peer.requests[0];
    expect(peer.requests.every((r) => r.change === 0b10 && r.speed === 1 && r.width === 2 && r.auton === 0)).toBe(true);
    expect(peer.requests.map((r) => r.cycle)).toEqual(Array.from({ length: peer.requests.length }, (_, i) => first.cycle + i));
    expect(peer.requests.length).toBe(script.changeDoneAfter! + 2);
    expect(sim.peek("pl_directed_link_change")).toBe(0);
  });

  it("waits for the link to come back after the change (Recovery), bounded", async () => {
    const sim = await design();
    const peer = new ScriptedLinkPeer(sim, { linkUpAfter: 30, rate: 0, widthCode: 1, gen2Capable: true, changeDoneAfter: 10, recoveryDownCycles: 60 });
    peer.runUntil(ended(sim), 2000, "done");
    expect(status(sim)).toMatchObject({ done: 1, link_speed: 2, link_width: 2 });
    // Down for good after done: the relink wait ends in LINK_LOST after linkUpTimeoutCycles.
    const lost = await design();
    const never = new ScriptedLinkPeer(lost, { linkUpAfter: 30, rate: 0, widthCode: 1, gen2Capable: true, changeDoneAfter: 10, recoveryDownCycles: 1e9 });
    never.runUntil(() => lost.peek("pl_directed_link_change") !== 0, 2000, "change");
    const cycles = never.runUntil(ended(lost), 2000, "error");
    expect(status(lost)).toMatchObject({ done: 0, error: 1, error_code: errorCode("LINK_LOST") });
    expect(cycles).toBeLessThanOrEqual(10 + 3 + PARAMS.linkUpTimeoutCycles);
    expect(cycles).toBeGreaterThanOrEqual(PARAMS.linkUpTimeoutCycles);
  });

  it("skips the speed change when the link is not Gen2-capable", async () => {
    const sim = await design();
    const peer = new ScriptedLinkPeer(sim, { linkUpAfter: 30, rate: 0, widthCode: 2, gen2Capable: false, changeDoneAfter: 5 });
    const cycles = peer.runUntil(ended(sim), 2000, "done");
    expect(cycles).toBe(PARAMS.perstCycles + 30 + 1 + PARAMS.configDelayCycles + 1);
    expect(status(sim)).toMatchObject({ done: 1, link_speed: 1, link_width: 4, speed_change_timed_out: 0 });
    expect(peer.requests).toEqual([]);
  });

  it("finishes at 2.5 GT/s when the change never reports done, withdrawing the request after speedChangeTimeoutCycles", async () => {
    const sim = await design();
    const peer = new ScriptedLinkPeer(sim, { linkUpAfter: 30, rate: 0, widthCode: 3, gen2Capable: true, changeDoneAfter: undefined });
    peer.runUntil(ended(sim), 2000, "done");
    expect(status(sim)).toEqual({ done: 1, error: 0, error_code: 0, busy: 0, link_speed: 1, link_width: 8, speed_change_timed_out: 1, perst_n: 1 });
    expect(peer.requests.length).toBe(PARAMS.speedChangeTimeoutCycles);
    expect(sim.peek("pl_directed_link_change")).toBe(0);
    // A change that completes but stays at 2.5 GT/s is reported as it is, not as timed out.
    const refused = await design();
    const peer2 = new ScriptedLinkPeer(refused, { linkUpAfter: 30, rate: 0, widthCode: 3, gen2Capable: true, changeDoneAfter: 4, changeReachesGen2: false });
    peer2.runUntil(ended(refused), 2000, "done");
    expect(status(refused)).toMatchObject({ done: 1, link_speed: 1, speed_change_timed_out: 0 });
  });

  it("reports LINK_LOST when the link drops during the configuration delay or after done", async () => {
    const sim = await design();
    const peer = new ScriptedLinkPeer(sim, healthy);
    peer.runUntil(() => sim.peek("user_lnk_up") === 1, 2000, "link up");
    peer.run(PARAMS.configDelayCycles - 10);
    peer.forcedDown = true;
    const cycles = peer.runUntil(ended(sim), 10, "error");
    expect(cycles).toBeLessThanOrEqual(3);
    expect(status(sim)).toMatchObject({ done: 0, error: 1, error_code: errorCode("LINK_LOST"), busy: 0 });

    const after = await design();
    const peer2 = new ScriptedLinkPeer(after, healthy);
    peer2.runUntil(ended(after), 2000, "done");
    peer2.run(50);
    peer2.forcedDown = true;
    peer2.runUntil(() => after.peek("error") === 1, 3, "error");
    expect(status(after)).toMatchObject({ done: 0, error: 1, error_code: errorCode("LINK_LOST"), link_speed: 2 });
  });

  it("runs again on start from any state: PERST# low for exactly perstCycles each time, the request withdrawn", async () => {
    const sim = await design();
    const script: PeerScript = { linkUpAfter: 30, rate: 0, widthCode: 2, gen2Capable: true, changeDoneAfter: 20 };
    const peer = new ScriptedLinkPeer(sim, script);
    peer.runUntil(ended(sim), 2000, "done");
    expect(status(sim)).toMatchObject({ done: 1, link_speed: 2 });
    // After done.
    pulseStart(peer, sim);
    expect(status(sim)).toMatchObject({ done: 0, error: 0, busy: 1, perst_n: 0, link_speed: 0, link_width: 0 });
    peer.runUntil(ended(sim), 2000, "done again");
    expect(status(sim)).toMatchObject({ done: 1, link_speed: 2, link_width: 4 });
    // In the middle of the speed change: the change is withdrawn with PERST#.
    peer.script = { ...script, changeDoneAfter: undefined };
    pulseStart(peer, sim);
    peer.runUntil(() => sim.peek("pl_directed_link_change") !== 0, 2000, "change");
    peer.run(5);
    pulseStart(peer, sim);
    expect({ change: sim.peek("pl_directed_link_change"), speed: sim.peek("pl_directed_link_speed"), perst_n: sim.peek("perst_n") }).toEqual({ change: 0, speed: 0, perst_n: 0 });
    // During PERST# itself: the low time starts over.
    peer.run(100);
    pulseStart(peer, sim);
    peer.script = script;
    peer.runUntil(ended(sim), 2000, "done after restarts");
    expect(status(sim)).toMatchObject({ done: 1, link_speed: 2 });
    // After an error.
    peer.forcedDown = true;
    peer.runUntil(() => sim.peek("error") === 1, 3, "error");
    peer.forcedDown = false;
    pulseStart(peer, sim);
    peer.runUntil(ended(sim), 2000, "done after error");
    expect(status(sim)).toMatchObject({ done: 1, error: 0, error_code: 0 });
    // Runs: out of reset, after done, the restart during the change, the one during PERST# (100 + perstCycles), after the error.
    expect(peer.perstLowRuns).toEqual([PARAMS.perstCycles, PARAMS.perstCycles, PARAMS.perstCycles, 100 + 1 + PARAMS.perstCycles, PARAMS.perstCycles]);
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => linkTraining({ ...PARAMS, perstCycles: 0 })).toThrow(/perstCycles 0/);
    expect(() => linkTraining({ ...PARAMS, configDelayCycles: 1.5 })).toThrow(/configDelayCycles 1.5/);
    expect(() => linkTraining({ ...PARAMS, linkUpTimeoutCycles: 2 ** 33 })).toThrow(/linkUpTimeoutCycles/);
  });
});
