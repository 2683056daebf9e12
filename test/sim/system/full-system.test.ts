// The full-system simulation on both engines, with the stand-in core (sim/testbench/system-stand-in.ts):
// PERST# holds the SSD in reset and its release starts the CRS window, the directed speed change, the
// TLP trace, fast-forward giving exactly the run that cycle-by-cycle stepping gives, a link that never
// trains, the VCD, and the SSD's options reaching the model.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type EngineName, verilatorAvailable } from "../../../sim/engine/index.ts";
import { decodeTlp } from "../../../sim/pcie/codec.ts";
import { LtssmState } from "../../../sim/pcie/link-model.ts";
import { readTraceFile } from "../../../sim/pcie/trace.ts";
import { CplStatus, type Tlp } from "../../../sim/pcie/tlp.ts";
import { buildSystem, NS_PER_CYCLE, type SystemOptions } from "../../../sim/system/full-system.ts";
import { STAND_IN_STATES, systemStandIn } from "../../../sim/testbench/system-stand-in.ts";
import type { MonitoredSimulator } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const dir = mkdtempSync(join(tmpdir(), "full-system-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PERST_CYCLES = 1500;
const CRS_CYCLES = 4000;
const TRAINING = 600;
const stateCode = (name: (typeof STAND_IN_STATES)[number]) => STAND_IN_STATES.indexOf(name);

function options(engine: EngineName, extra: Partial<SystemOptions> = {}): SystemOptions {
  return {
    core: systemStandIn({ perstCycles: PERST_CYCLES, retryGapCycles: 700, reads: 12, speedUp: true }),
    engine,
    ssd: { crsCycles: CRS_CYCLES },
    link: { trainingCycles: TRAINING, retrainCycles: 400, initialSpeed: 1, latencyCycles: 60 },
    watch: ["done"],
    ...extra,
  };
}

/** The trace as decoded TLPs with their cycles. */
function tlpsOf(path: string): { cycle: number; dir: string; tlp: Tlp }[] {
  return readTraceFile(path).map((e) => ({ cycle: e.cycle, dir: e.dir, tlp: decodeTlp(e.tlp) }));
}

describe.each(engines)("full system on the %s engine", (engine) => {
  it("PERST# holds the SSD; its release starts training and the CRS window; the bring-up steps reach the SSD", async () => {
    const trace = join(dir, `bring-up-${engine}.jsonl`);
    const system = await buildSystem(options(engine, { trace }));
    const { sim, link, ssd } = system;
    // While PERST# is low the link is down and the SSD sees nothing.
    system.step(PERST_CYCLES - 10);
    expect(sim.peek("perst_n")).toBe(0);
    expect(link.ports.user_lnk_up).toBe(0);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.detectQuiet);
    expect(ssd.counters.tlpsReceived).toBe(0);
    const cycles = system.runUntil(() => sim.peek("done") === 1, 100_000, "stand-in done");
    expect(cycles).toBeGreaterThan(CRS_CYCLES);
    expect(system.timeNs).toBe(system.cycle * NS_PER_CYCLE);

    expect(sim.peek("vendor_device")).toBe(0x0010_1b36);
    expect(sim.peek("reads_done")).toBe(12);
    expect(sim.peek("cap_low")).toBe(Number(ssd.controller.regs.cap & 0xffffffffn));
    expect(link.speed).toBe(2); // the directed speed change from 2.5 GT/s
    expect(link.counters.directedChanges).toBe(1);
    const crsRetries = sim.peek("crs_retries");
    system.close();

    const tlps = tlpsOf(trace);
    const release = PERST_CYCLES; // perst_n goes high at the edge ending cycle PERST_CYCLES - 1
    const answers = tlps.filter((t) => t.dir === "up" && (t.tlp.kind === "Cpl" || t.tlp.kind === "CplD"));
    const probes = answers.slice(0, crsRetries + 1);
    expect(crsRetries).toBeGreaterThan(0);
    expect(probes.slice(0, -1).every((t) => t.tlp.kind === "Cpl" && t.tlp.status === CplStatus.CRS)).toBe(true);
    const firstRequest = tlps.find((t) => t.dir === "down")!;
    expect(firstRequest.cycle).toBeGreaterThanOrEqual(release + TRAINING);
    // The SSD's CfgRd0 arrived after release + crsCycles for the first SC answer, before it for the last CRS.
    const lastCrsRequest = tlps.filter((t) => t.dir === "down" && t.tlp.kind === "CfgRd0").at(-2)!;
    expect(lastCrsRequest.cycle).toBeLessThan(release + CRS_CYCLES);
    expect(probes.at(-1)!.cycle).toBeGreaterThan(release + CRS_CYCLES);
    expect(tlps.filter((t) => t.dir === "down").map((t) => t.tlp.kind)).toEqual([
      ...Array(crsRetries + 1).fill("CfgRd0"),
      "CfgWr0",
      "CfgWr0",
      ...Array(12).fill("MRd"),
    ]);
  });

  it("fast-forward gives the same trace, cycle counts and core state as stepping every cycle", async () => {
    const runs = [];
    for (const fastForward of [true, false]) {
      const trace = join(dir, `exact-${engine}-${fastForward}.jsonl`);
      const system = await buildSystem(options(engine, { trace, fastForward }));
      const cycles = system.runUntil(() => system.sim.peek("done") === 1, 100_000);
      const afterDone = system.cycle;
      system.step(12_345); // idle after done: fast-forward all the way
      const state = ["vendor_device", "crs_retries", "reads_done", "cap_low", "state", "perst_n"].map((n) => system.sim.peek(n));
      system.close();
      runs.push({ cycles, afterDone, end: system.cycle, state, trace: readFileSync(trace, "utf8"), stats: system.stats, counters: JSON.stringify(system.link.counters, (_, v) => (v instanceof Map ? [...v] : v)) });
    }
    const [fast, slow] = runs;
    expect(fast.trace).toBe(slow.trace);
    expect(fast.cycles).toBe(slow.cycles);
    expect(fast.afterDone).toBe(slow.afterDone);
    expect(fast.end).toBe(slow.end);
    expect(fast.state).toEqual(slow.state);
    expect(fast.counters).toBe(slow.counters);
    expect(fast.state[4]).toBe(stateCode("DONE"));
    expect(slow.stats.fastForwardedCycles).toBe(0);
    // Most of the run is waiting (PERST#, training, CRS gaps, retrain, latency).
    expect(fast.stats.fastForwardedCycles).toBeGreaterThan(0.8 * fast.end);
    expect(fast.stats.steppedCycles + fast.stats.fastForwardedCycles).toBe(fast.end);
  });

  it("a link that never trains: the core waits for ever, inside the engine", async () => {
    const system = await buildSystem(options(engine, { faults: [{ inject: "noLink" }] }));
    expect(() => system.runUntil(() => system.sim.peek("done") === 1, 1_000_000, "done")).toThrow(/done not reached within 1000000 cycles/);
    expect(system.sim.peek("state")).toBe(stateCode("LINK_WAIT"));
    expect(system.link.ports.pl_ltssm_state).toBe(LtssmState.detectActive);
    expect(system.stats.fastForwardedCycles).toBeGreaterThan(990_000);
    expect(system.stats.fastForwards).toBeLessThan(10);
    system.close();
  });
});

describe.skipIf(!verilatorAvailable())("full system with only the core's ports visible", () => {
  it("runs exactly like the model with every signal visible", async () => {
    const traces = [];
    for (const visibility of ["all", "ports"] as const) {
      const trace = join(dir, `visibility-${visibility}.jsonl`);
      const system = await buildSystem(options("verilator", { trace, visibility }));
      system.runUntil(() => system.sim.peek("done") === 1, 100_000);
      if (visibility === "ports") expect(system.sim.signals.some((s) => s.direction === "internal")).toBe(false);
      system.close();
      traces.push(readFileSync(trace, "utf8"));
    }
    expect(traces[1]).toBe(traces[0]);
    expect(traces[0].split("\n").length).toBeGreaterThan(15);
  });
});

describe("full system options", () => {
  it("passes SSD options to the model, takes a Verilog core, writes a VCD, and names a mistyped watch signal", async () => {
    const core = systemStandIn({ perstCycles: 20, retryGapCycles: 50, reads: 0, speedUp: false });
    const { emitDesign } = await import("../../../hdl/index.ts");
    const files = emitDesign(core).files.map((f) => ({ path: f.fileName, text: f.text }));
    const vcd = join(dir, "system.vcd");
    const system = await buildSystem({ core: { sources: files, top: core.name }, ssd: { vendorId: 0x144d, deviceId: 0xa808 }, link: { trainingCycles: 100 }, vcd, monitorStreams: true });
    system.runUntil(() => system.sim.peek("done") === 1, 20_000);
    expect(system.sim.peek("vendor_device")).toBe(0xa808_144d);
    expect([...(system.sim as MonitoredSimulator).streamMonitors.keys()]).toEqual(["m_axis_rx", "s_axis_tx"]);
    expect(system.link.speed).toBe(2);
    system.close();
    const text = readFileSync(vcd, "utf8");
    expect(text).toContain("$enddefinitions");
    expect(text).toMatch(/\$var wire 1 \S+ perst_n \$end/);
    await expect(buildSystem({ core, watch: ["dnoe"] })).rejects.toThrow(/dnoe/);
    expect(existsSync(vcd)).toBe(true);
  });

  it("the SSD's link limits reach the link: an x1 Gen1 SSD trains at x1, 2.5 GT/s, and no Gen2 capability", async () => {
    const core = systemStandIn({ perstCycles: 20, retryGapCycles: 50, reads: 0, speedUp: true });
    const system = await buildSystem({ core, ssd: { linkSpeed: 1, linkWidth: 1 }, link: { trainingCycles: 100 } });
    system.runUntil(() => system.sim.peek("done") === 1, 20_000);
    expect(system.link.ports.pl_link_gen2_cap).toBe(0);
    expect(system.link.ports.pl_sel_lnk_width).toBe(0);
    expect(system.link.counters.directedChanges).toBe(0);
    system.close();
  });
});
