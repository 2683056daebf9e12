// Benchmark of the coupling between a simulated design and the link model: the TLP layer behind
// the link + hard-IP model, cycles per wall second, with the bridge's ports crossing port by port
// (a poke or peek per port per cycle) or through one PortExchange call per cycle.
//  1. ports only: the bridge stepping the layer and the link with the link up and no traffic.
//  2. real traffic: the line-rate run of sim/bench/tlp-layer.ts (256-byte MWr down, MRd/MWr up),
//     harness included, without and with the stream protocol monitors the tests use (a monitor
//     observes every edge, so it takes the exchange's per-port path), and with only the ports
//     visible (as the full-system figures run the core: Verilator optimises the internals).
//  3. the full system (sim/system/buildSystem) with the stand-in core (sim/testbench/system-stand-in.ts)
//     and the SSD model, with fast-forward and stepping every cycle: a bring-up (PERST#, training,
//     CRS retries, speed change, configuration writes: mostly waiting), busy traffic (back-to-back
//     MRd on a zero-latency link: the models work nearly every cycle), and a link that never trains
//     (all waiting); and the TLP layer top as the core on an idle link, with every signal visible or
//     only its ports (Verilator then optimises the internals).
//  4. the controller's own core (rtl-src/top/nvme-host-core.ts, simulation timings) bringing the SSD
//     model up to READY, as `nvme-host identify` does: the default SSD, one answering CRS for 1.6 ms
//     (mostly waiting), and a consumer SSD (consumerSsd timing, CRS for 1.5 ms, RDY after 250 µs).
//     Each row says how many cycles ran with the models stepping and how many inside the engine
//     alone (fast-forward: exact, the same trace as stepping every cycle). "first" is the first
//     run in the process (what a command-line run sees), "again" a second one. On Verilator, also
//     the core alone with its inputs held: an edge there evaluates the whole core whatever it
//     does, so this is the most any bring-up can reach on that engine.
// --only layer runs 1 and 2 (the TLP layer top alone with its real port traffic), system 3,
// controller 4. At the end, a summary puts the figures issue 9 asks for next to their goals: the
// full-system speed during bring-up (4, the default SSD and the long waits; goal >= 1 M cycles/s on
// Verilator, >= 300 k on js; the native engine, the js engine's model as machine code, is held to
// Verilator's goal), first run and again, and the TLP layer top alone with its real port
// traffic (2, line rate through the exchange). Wall-clock figures on a machine shared with other jobs
// are low; the main-thread CPU figure shows what the run itself costs.
//   npx tsx sim/bench/system-coupling.ts [--engine js|verilator|native] [--blocks N] [--cycles N] [--only layer|system|controller] [--json]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type TlpLayerParams, defaultTlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { createSimulator, ENGINES, type EngineName, resolveEngine, verilatorAvailable } from "../engine/index.ts";
import { emitDesign } from "../../hdl/index.ts";
import { LinkModel } from "../pcie/link-model.ts";
import { seededRandom } from "../random.ts";
import { type BridgeCoupling, RootPortBridge } from "../testbench/root-port-bridge.ts";
import { ScriptedEndpoint } from "../testbench/scripted-endpoint.ts";
import { buildLayerSimulator, runLayer } from "../testbench/tlp-layer-harness.ts";
import { LAYER_REQUEST_SOURCES, lineRateLayerTraffic, sourceOf } from "../testbench/tlp-layer-traffic.ts";
import { buildSystem, type SystemOptions } from "../system/full-system.ts";
import { tlpLayer } from "../../rtl-src/tlp/tlp-layer.ts";
import { systemStandIn } from "../testbench/system-stand-in.ts";
import { nvmeHostCore, simulationCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { STATUS_WATCH, waitForOutcome } from "../system/bringup.ts";
import type { SsdOptions } from "../nvme/options.ts";
import { emittedSources } from "../engine/designs.ts";

const { values } = parseArgs({ options: { engine: { type: "string" }, blocks: { type: "string", default: "150" }, cycles: { type: "string", default: "300000" }, only: { type: "string" }, json: { type: "boolean", default: false } } });
const engines: EngineName[] = values.engine ? [resolveEngine(values.engine) as EngineName] : ENGINES.filter((e) => e !== "verilator" || verilatorAvailable());
const blocks = Number(values.blocks);
const idleCycles = Number(values.cycles);
const params: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: 1_000_000 };
const couplings: BridgeCoupling[] = ["per-port", "exchange"];
const BLOCK_BYTES = 256;

type Coupling = BridgeCoupling | "fast-forward" | "every cycle";
/** Issue 9's goals for the full-system speed during bring-up, in M cycles per wall second (native code: Verilator's). */
const BRINGUP_GOAL_M: Record<EngineName, number> = { verilator: 1, js: 0.3, native: 1 };
/** The rows the summary shows: what was run, on which engine, and its figures. */
const summaryRows: { engine: EngineName; what: string; round: string; cycles: number; rate: number; cpuRate?: number }[] = [];
const results: { engine: EngineName; run: string; coupling: Coupling; cycles: number; mCyclesPerSecond: number; fastForwarded?: number; stepped?: number }[] = [];
function report(engine: EngineName, run: string, coupling: Coupling, cycles: number, seconds: number, fastForwarded?: number, cpuSeconds?: number): { rate: number; cpuRate?: number } {
  const rate = cycles / seconds / 1e6;
  const stepped = fastForwarded === undefined ? undefined : cycles - fastForwarded;
  const cpuRate = cpuSeconds === undefined ? undefined : Number((cycles / cpuSeconds / 1e6).toFixed(3));
  results.push({ engine, run, coupling, cycles, mCyclesPerSecond: Number(rate.toFixed(3)), ...(fastForwarded === undefined ? {} : { fastForwarded, stepped }), ...(cpuRate === undefined ? {} : { mCyclesPerCpuSecond: cpuRate }) });
  const share = fastForwarded === undefined ? "" : `  (${stepped} stepped with the models, ${fastForwarded} = ${((100 * fastForwarded) / cycles).toFixed(1)} % fast-forwarded)`;
  const cpu = cpuRate === undefined ? "" : `  [${cpuRate.toFixed(3)} M per second of main-thread CPU]`;
  if (!values.json) console.log(`${engine.padEnd(9)} ${run.padEnd(52)} ${coupling.padEnd(12)} ${String(cycles).padStart(9)} cycles  ${rate.toFixed(3)} M cycles/s${share}${cpu}`);
  return { rate, cpuRate };
}

/**
 * CPU time of this process's main thread so far, in seconds, where Linux tells it (else undefined):
 * on a machine shared with other jobs it shows the run's own cost when the wall clock does not.
 */
function mainThreadCpuSeconds(): number | undefined {
  try {
    return Number(readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e9;
  } catch {
    return undefined;
  }
}

/** The full-system runs: the stand-in's bring-up, busy MRd traffic, and a link that never trains. */
async function fullSystem(engine: EngineName): Promise<void> {
  const runs: { label: string; options: Omit<SystemOptions, "engine" | "fastForward">; cycles?: number }[] = [
    {
      label: "full system: bring-up",
      options: {
        core: systemStandIn({ perstCycles: 50_000, retryGapCycles: 5_000, reads: 0, speedUp: true }),
        ssd: { crsCycles: 200_000 },
        link: { initialSpeed: 1 },
      },
    },
    {
      label: "full system: busy (MRd loop)",
      options: { core: systemStandIn({ perstCycles: 100, retryGapCycles: 100, reads: 100_000, speedUp: false }), link: { trainingCycles: 100, latencyCycles: 0 } },
    },
    { label: "full system: no link (all idle)", options: { core: systemStandIn(), faults: [{ inject: "noLink" }] }, cycles: 20_000_000 },
    // A core of realistic size (the TLP layer, ~2 600 flip-flops) on an idle link: the engine's own speed bounds the run.
    { label: "full system: TLP layer core, idle", options: { core: tlpLayer(params), link: { trainingCycles: 100 } }, cycles: 2_000_000 },
    { label: "full system: TLP layer core, idle, ports", options: { core: tlpLayer(params), link: { trainingCycles: 100 }, visibility: "ports" }, cycles: 2_000_000 },
  ];
  // Twice: the first round pays for the JIT of the models' code paths (as a single CLI run does), the
  // second shows the steady speed.
  for (const round of ["first", "again"]) {
    for (const run of runs) {
      for (const fastForward of [true, false]) {
        const watch = run.label.includes("TLP layer") ? [] : ["done"];
        const system = await buildSystem({ ...run.options, engine, fastForward, watch });
        const started = performance.now();
        if (run.cycles !== undefined) system.step(fastForward ? run.cycles : run.cycles / 20);
        else system.runUntil(() => system.sim.peek("done") === 1, 50_000_000, run.label);
        const seconds = (performance.now() - started) / 1000;
        report(engine, `${run.label} (${round})`, fastForward ? "fast-forward" : "every cycle", system.cycle, seconds, system.stats.fastForwardedCycles);
        system.close();
      }
    }
  }
}

/** SSDs the controller brings up: the default one, CRS for a while, and a consumer drive's timing. */
const CONTROLLER_SSDS: { label: string; ssd: Partial<SsdOptions> }[] = [
  { label: "", ssd: {} },
  { label: ", CRS 1.6 ms", ssd: { crsCycles: 400_000 } },
  { label: ", consumerSsd CRS 1.5 ms RDY 250 µs", ssd: { timing: "consumerSsd", crsCycles: 375_000, readyDelayCycles: 62_500 } },
];

/**
 * The controller core's bring-up to READY, with the visibility `nvme-host identify` uses ("ports":
 * Verilator may optimise the internals away; the js engine shows every signal either way) and, on
 * Verilator, with every signal visible too.
 */
async function controllerBringup(engine: EngineName): Promise<void> {
  const visibilities = engine === "verilator" ? (["ports", "all"] as const) : (["ports"] as const);
  for (const round of ["first", "again"]) {
    for (const visibility of visibilities) {
      for (const { label, ssd } of CONTROLLER_SSDS) {
        const system = await buildSystem({ core: nvmeHostCore(simulationCoreParams), engine, ssd, watch: [...STATUS_WATCH], visibility });
        const cpuStarted = mainThreadCpuSeconds();
        const started = performance.now();
        waitForOutcome(system, 10_000_000);
        const seconds = (performance.now() - started) / 1000;
        const cpuEnded = mainThreadCpuSeconds();
        if (system.sim.peek("status_ready") !== 1) throw new Error(`controller bring-up did not reach READY (state ${system.sim.peek("status_state")})`);
        const row = `controller core to READY${label}${visibility === "all" && engine === "verilator" ? ", all signals" : ""} (${round})`;
        const cpuSeconds = cpuStarted === undefined || cpuEnded === undefined ? undefined : cpuEnded - cpuStarted;
        const figures = report(engine, row, "fast-forward", system.cycle, seconds, system.stats.fastForwardedCycles, cpuSeconds);
        if (visibility === "ports") summaryRows.push({ engine, what: `bring-up to READY${label || ", default SSD"}`, round, cycles: system.cycle, ...figures });
        system.close();
      }
    }
  }
}

/** Cycles of the Verilator ceiling run: a few seconds, long against the build's and reset's costs. */
const CEILING_CYCLES = 2_000_000;

/**
 * Verilator evaluates the whole core on every clock edge, busy or waiting, so the core alone in the
 * engine (ports only, inputs held after reset, no models, no exchange) runs as fast as any
 * bring-up on this engine can: the summary shows it next to the goal.
 */
async function verilatorCeiling(): Promise<void> {
  const core = nvmeHostCore(simulationCoreParams);
  const sources = emittedSources(emitDesign(core).files);
  const sim = await createSimulator({ sources, top: core.name, engine: "verilator", visibility: "ports" });
  sim.reset(4);
  sim.step(10_000); // past the first settles after reset
  const cpuStarted = mainThreadCpuSeconds();
  const started = performance.now();
  sim.step(CEILING_CYCLES);
  const seconds = (performance.now() - started) / 1000;
  const cpuEnded = mainThreadCpuSeconds();
  const figures = report("verilator", "controller core alone, inputs held (the engine's ceiling)", "every cycle", CEILING_CYCLES, seconds, undefined, cpuStarted === undefined || cpuEnded === undefined ? undefined : cpuEnded - cpuStarted);
  summaryRows.push({ engine: "verilator", what: "the core alone in the engine, inputs held: the ceiling", round: "no models", cycles: CEILING_CYCLES, ...figures });
  sim.close();
}

/** The TLP layer top alone behind the bridge: ports only on an idle link, then line-rate traffic. */
async function layerAlone(engine: EngineName): Promise<void> {
  const plain = await buildLayerSimulator(params, engine, { requestSources: LAYER_REQUEST_SOURCES }, false);
  for (const coupling of couplings) {
    plain.reset(4);
    const link = new LinkModel(new ScriptedEndpoint(), { mps: params.maxPayloadBytes, trainingCycles: 4, latencyCycles: 20 });
    const bridge = new RootPortBridge(plain, link, coupling);
    bridge.step(1000); // warm-up: link training, JIT
    const started = performance.now();
    bridge.step(idleCycles);
    report(engine, "TLP layer: ports only, link up, idle", coupling, idleCycles, (performance.now() - started) / 1000);
  }
  const monitored = await buildLayerSimulator(params, engine, { requestSources: LAYER_REQUEST_SOURCES }, true);
  // Ports only, as the full-system figures run the core (the run touches ports only; Verilator may
  // then optimise the layer's internals away; the js engine shows every signal either way).
  const portsOnly = await buildLayerSimulator(params, engine, { requestSources: LAYER_REQUEST_SOURCES }, false, "ports");
  for (const [sim, label] of [[plain, "TLP layer: line rate"], [portsOnly, "TLP layer: line rate, ports"], [monitored, "TLP layer: line rate, stream monitors"]] as const) {
    for (const coupling of couplings) {
      const cpuStarted = mainThreadCpuSeconds();
      const started = performance.now();
      const run = runLayer(sim, { params, random: seededRandom(1), sourceOf, requestSources: LAYER_REQUEST_SOURCES, ...lineRateLayerTraffic(params, blocks, BLOCK_BYTES), readiness: 1, txBuffers: 32, maxCycles: 200 * blocks + 10_000, coupling });
      const seconds = (performance.now() - started) / 1000;
      const cpuEnded = mainThreadCpuSeconds();
      const figures = report(engine, label, coupling, run.cycles, seconds, undefined, cpuStarted === undefined || cpuEnded === undefined ? undefined : cpuEnded - cpuStarted);
      if (sim !== monitored && coupling === "exchange") {
        const what = `TLP layer top alone, real port traffic (line rate, ${blocks} blocks${sim === portsOnly ? ", ports" : ""})`;
        summaryRows.push({ engine, what, round: "after the idle runs", cycles: run.cycles, ...figures });
      }
    }
  }
  plain.close();
  portsOnly.close();
  monitored.close();
}

for (const engine of engines) {
  if (values.only !== undefined && !["layer", "system", "controller"].includes(values.only)) throw new Error(`--only ${values.only}: choose layer, system or controller`);
  if (values.only === undefined || values.only === "layer") await layerAlone(engine);
  if (values.only === undefined || values.only === "system") await fullSystem(engine);
  if (values.only === undefined || values.only === "controller") {
    await controllerBringup(engine);
    if (engine === "verilator") await verilatorCeiling();
  }
}
if (values.json) console.log(JSON.stringify(results, null, 2));
else printSummary();

/** Issue 9's figures next to their goals, one line per engine and run. */
function printSummary(): void {
  if (summaryRows.length === 0) return;
  console.log("\nSummary: full-system speed during bring-up (controller core, nvme-host identify's visibility) and the TLP layer top alone");
  console.log("(M cycles per wall second; in brackets per second of main-thread CPU; goal >= 1 M on Verilator and native, >= 0.3 M on js)");
  for (const row of summaryRows) {
    const goal = BRINGUP_GOAL_M[row.engine];
    const verdict = row.rate >= goal ? "meets the goal" : row.cpuRate !== undefined && row.cpuRate >= goal ? "below the goal on the wall clock, meets it in CPU time" : "below the goal";
    const cpu = row.cpuRate === undefined ? "" : ` [${row.cpuRate.toFixed(3)}]`;
    console.log(`  ${row.engine.padEnd(9)} ${`${row.what} (${row.round})`.padEnd(68)} ${String(row.cycles).padStart(7)} cycles  ${row.rate.toFixed(3)}${cpu} M/s  goal ${goal} M: ${verdict}`);
  }
}
