// The figures benchmark (sim/bench/system-figures.ts and its modules figures-matrix/-run/-report/-pool):
//  - the matrix: every configuration the issue names, each id once, in its groups, as independent
//    command lines (--list-jobs), and each a job that `nvme-host sim` would run the same way;
//  - the report from fabricated results (the table and merge logic need no simulation): merging JSON
//    documents of several runs, the goals' PASS/MISS lines with what binds and the what-if, the
//    published rows, the plots written only when complete; --merge through the command line;
//  - one tiny real configuration on the js engine, in this thread and on worker threads (the same
//    deterministic simulation must give the same figures either way).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parseXml from "onml/parse.js";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../../hdl/location.ts";
import { estimate, linkCeiling } from "../../../sim/estimate/estimate.ts";
import {
  type FigureConfig,
  FigureSelectionError,
  GOAL_IDS,
  figureCommandLine,
  figureConfig,
  figureMatrix,
  modelKey,
  planFigure,
  quickIds,
  selectFigures,
} from "../../../sim/bench/figures-matrix.ts";
import { runFiguresInWorkers } from "../../../sim/bench/figures-pool.ts";
import {
  FiguresMergeError,
  evaluateGoals,
  figurePlots,
  figuresDocument,
  formatFigures,
  mergeOutcomes,
  parseFiguresDocument,
  stageDifferences,
} from "../../../sim/bench/figures-report.ts";
import { FIGURES_JSON_VERSION, type FigureOutcome, type FigureResult, isFailure, runFigure } from "../../../sim/bench/figures-run.ts";

const KIB = 1024;
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
const script = join(projectRoot, "sim/bench/system-figures.ts");
const dir = mkdtempSync(join(tmpdir(), "system-figures-"));

function figures(...args: string[]) {
  return spawnSync(process.execPath, [tsxCli, script, ...args], { encoding: "utf8", timeout: 60_000 });
}

const matrix = figureMatrix(["js", "verilator"]);
const byId = new Map(matrix.map((c) => [c.id, c]));

describe("the matrix", () => {
  it("has the issue's table, both sweeps, the what-ifs and the speed cases, each id once", () => {
    expect(new Set(matrix.map((c) => c.id)).size).toBe(matrix.length);
    const group = (g: string) => matrix.filter((c) => c.groups.includes(g as never));
    // 6 workloads x (fastSsd at MPS 128/256/512 + consumerSsd at 256).
    expect(group("table")).toHaveLength(24);
    expect(new Set(group("table").map((c) => `${c.preset} ${c.mps}`))).toEqual(new Set(["fastSsd 128", "fastSsd 256", "fastSsd 512", "consumerSsd 256"]));
    expect(group("table").filter((c) => c.mps === 512).map((c) => `${c.rw} ${c.bs / KIB}k qd${c.iodepth}`)).toEqual([
      "read 128k qd32", "write 128k qd32", "randread 4k qd1", "randwrite 4k qd1", "randread 4k qd32", "randwrite 4k qd32",
    ]);
    // QD 1..64 for 4 KiB random and 128 KiB sequential reads; 4 KiB..1 MiB sequential read and write at QD32.
    expect(group("queue-depth").map((c) => `${c.rw} ${c.bs / KIB}k qd${c.iodepth}`).sort()).toEqual(
      [1, 2, 4, 8, 16, 32, 64].flatMap((q) => [`randread 4k qd${q}`, `read 128k qd${q}`]).sort(),
    );
    expect(group("block-size").filter((c) => c.rw === "write").map((c) => c.bs / KIB).sort((a, b) => a - b)).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    expect(group("block-size").every((c) => c.iodepth === 32 && c.preset === "fastSsd" && c.mps === 256)).toBe(true);
    // A case in several groups appears once, with all of them.
    expect(byId.get("fast-mps256-read-128k-qd32")!.groups).toEqual(["table", "queue-depth", "block-size"]);
    expect(matrix).toHaveLength(24 + 11 + 16 + 3 + 4);
    // The reference host runs for the QD1 cases only; one profiled speed case per engine.
    expect(matrix.filter((c) => c.reference).map((c) => c.id)).toEqual(group("table").filter((c) => c.iodepth === 1).map((c) => c.id));
    expect(matrix.filter((c) => c.profile).map((c) => c.id)).toEqual(["speed-js-read-128k-qd32", "speed-verilator-read-128k-qd32"]);
    // Every goal case and what-if is in the matrix.
    for (const id of [GOAL_IDS.seqRead, GOAL_IDS.seqWrite, ...GOAL_IDS.randRead, ...GOAL_IDS.qd1Read, ...Object.values(GOAL_IDS.whatIf)]) expect(byId.has(id)).toBe(true);
    expect(figureMatrix(["js"]).some((c) => c.id.startsWith("speed-verilator"))).toBe(false);
  });

  it("selects by id or group, names an unknown one, and --quick is the goal cases at MPS 256", () => {
    expect(selectFigures(matrix, ["fast-mps512-write-128k-qd32", "what-if"]).map((c) => c.id)).toEqual([
      "fast-mps512-write-128k-qd32",
      "fast-mps256-read-128k-qd32-buf1m",
      "fast-mps256-write-128k-qd32-buf1m",
      "fast-mps256-randread-4k-qd64-slots64-buf256k",
    ]);
    expect(() => selectFigures(matrix, ["fast-mps256-read-128k-qd33"])).toThrow(FigureSelectionError);
    expect(() => selectFigures(matrix, ["nope"])).toThrow(/--only nope: no such configuration or group/);
    expect(selectFigures(matrix, quickIds("js")).map((c) => c.id)).toEqual([
      "fast-mps256-read-128k-qd32", "fast-mps256-write-128k-qd32", "fast-mps256-randread-4k-qd1", "fast-mps256-randread-4k-qd32", "speed-js-read-128k-qd32",
    ]);
  });

  it("plans each configuration as an nvme-host sim job: a window of steady commands after a ramp from the estimate", () => {
    const seq = planFigure(byId.get("fast-mps256-read-128k-qd32")!, "verilator");
    expect(seq.job).toMatchObject({ name: "fast-mps256-read-128k-qd32", rw: "read", bs: 128 * KIB, iodepth: 32, numberIos: null });
    expect(seq.system).toMatchObject({ mps: 256, mrrs: 512, slots: 32, bufferBytes: 128 * KIB, engine: "verilator", gen: 2, lanes: 4 });
    expect(seq.system.ssd.preset).toBe("fastSsd");
    // The ramp is twice the estimated mean latency; the size covers the ramp's commands and 48 more (6 MiB).
    const e = estimate(seq.job, seq.system);
    expect(seq.job.rampTimeNs).toBe(Math.ceil((2 * e.read.meanLatencyNs) / 1000) * 1000);
    expect(seq.job.size! / seq.job.bs).toBe(48 + Math.ceil((seq.job.rampTimeNs / 1e9) * e.read.iops));
    expect(seq.command).toBe(`npx nvme-host sim ${[...seq.jobArgs, ...seq.systemArgs].join(" ")}`);
    expect(seq.command).toContain("--rw=read --bs=128k --iodepth=32 --size=");

    const random = planFigure(byId.get("fast-mps256-randread-4k-qd64-slots64-buf256k")!, "js");
    expect(random.job).toMatchObject({ rw: "randread", bs: 4 * KIB, iodepth: 64, size: 64 * 1024 * KIB });
    expect(random.job.numberIos).toBeGreaterThan(2000);
    expect(random.system).toMatchObject({ slots: 64, bufferBytes: 256 * KIB, engine: "js" });
    expect(random.systemArgs).toEqual(["--ssd=fastSsd", "--mps=256", "--slots=64", "--buffer=256k", "--engine=js"]);
    // A speed case keeps its own engine whatever the run's.
    expect(planFigure(byId.get("speed-js-read-128k-qd32")!, "verilator").system.engine).toBe("js");
    expect(modelKey(byId.get("consumer-mps256-read-128k-qd32")!, "js")).toBe(modelKey(byId.get("fast-mps256-read-128k-qd32")!, "js"));
    expect(modelKey(byId.get("fast-mps128-read-128k-qd32")!, "js")).not.toBe(modelKey(byId.get("fast-mps256-read-128k-qd32")!, "js"));
  });

  it("lists each configuration as an independent command line (--list-jobs)", () => {
    expect(figureCommandLine(byId.get("fast-mps256-read-128k-qd32")!)).toBe(
      "npx tsx sim/bench/system-figures.ts --only fast-mps256-read-128k-qd32 --json > fast-mps256-read-128k-qd32.json",
    );
    expect(figureCommandLine(byId.get("fast-mps256-read-128k-qd32")!, "js")).toContain("--only fast-mps256-read-128k-qd32 --engine js --json");
    const run = figures("--list-jobs", "--quick", "--engine", "js");
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split("\n")).toEqual(selectFigures(matrix, quickIds("js")).map((c) => figureCommandLine(c, "js")));
    const bad = figures("--list-jobs", "--only", "nope");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--only nope: no such configuration or group/);
  });
});

// ---------------------------------------------------------------------------------------------
// Fabricated results: the report's logic on numbers chosen to land on each side of every goal.

const CEILING = { read: 1.849e9, write: 1.82e9 };

interface Numbers {
  bw?: number;
  iops?: number;
  latencyNs?: number;
  estimateBw?: number;
  referenceNs?: number;
  binding?: string;
  cycles?: number;
  cpuSeconds?: number;
}

function fabricate(c: FigureConfig, n: Numbers = {}): FigureResult {
  const read = c.rw === "read" || c.rw === "randread";
  const bw = n.bw ?? (n.iops !== undefined ? n.iops * c.bs : 1e9);
  const iops = bw / c.bs;
  const stages = [{ name: "media read", ns: 8512 }, { name: "read-out to the user port", ns: 2048 }, { name: "SQ doorbell", ns: 452 }];
  return {
    version: FIGURES_JSON_VERSION,
    id: c.id,
    config: c,
    command: `npx nvme-host sim --name=${c.id}`,
    engine: c.engine ?? "verilator",
    direction: read ? "read" : "write",
    simulated: { bytesPerSecond: bw, iops, fioBytesPerSecond: bw, meanLatencyNs: n.latencyNs ?? 20_000, p50LatencyNs: 20_000, p99LatencyNs: 21_000, commands: 100, windowNs: 1e6 },
    estimate: {
      bytesPerSecond: n.estimateBw ?? bw,
      iops: (n.estimateBw ?? bw) / c.bs,
      meanLatencyNs: 19_000,
      unloadedLatencyNs: 15_976,
      binding: n.binding ?? "queue depth x latency",
      bindingKey: "queue_depth_latency",
      bindingDetail: `detail of ${n.binding ?? "queue depth x latency"}`,
      stages,
    },
    ceiling: CEILING,
    ...(c.reference ? { reference: { meanLatencyNs: n.referenceNs ?? 13_600, bytesPerSecond: 3e8, iops: 73_500, commands: 300, stages: [stages[0], { name: "SQ doorbell", ns: 424 }], wallSeconds: 1 } } : {}),
    counters: { commands: 100, nvmeCommands: 100, doorbellsPerCommand: 2, stalls: { commandPort: 0, writeData: 0, readData: 0, overlap: 0 } },
    errors: { verify: 0, command: 0, messages: [] },
    sim: {
      cycles: n.cycles ?? 1_000_000,
      steppedCycles: n.cycles ?? 1_000_000,
      fastForwardedCycles: 0,
      wallSeconds: 4,
      cpuSeconds: n.cpuSeconds ?? 2,
      cyclesPerSecond: (n.cycles ?? 1e6) / 4,
      cyclesPerCpuSecond: (n.cycles ?? 1e6) / (n.cpuSeconds ?? 2),
      buildWallSeconds: 3,
      bringupCycles: 17_074,
      bringupWallSeconds: 0.2,
    },
    ...(c.profile ? { profile: { engine: 80, "link model": 12, "SSD model": 8 } } : {}),
  };
}

/** Every configuration, with: seq read PASS (98 %), seq write MISS (90 %, its what-if at 98 %), random QD32 PASS at MPS 256 only, QD1 latency PASS at MPS 256 only. */
function fabricatedRun(): FigureResult[] {
  const special: Record<string, Numbers> = {
    [GOAL_IDS.seqRead]: { bw: 0.98 * CEILING.read },
    [GOAL_IDS.seqWrite]: { bw: 0.9 * CEILING.write, estimateBw: 0.91 * CEILING.write, binding: "write buffer bandwidth-delay" },
    "fast-mps256-write-128k-qd32-buf1m": { bw: 0.98 * CEILING.write, binding: "link down" },
    "fast-mps128-randread-4k-qd32": { iops: 390_000, binding: "controller slots x latency" },
    "fast-mps256-randread-4k-qd32": { iops: 410_000 },
    "fast-mps512-randread-4k-qd32": { iops: 399_000 },
    "fast-mps256-randread-4k-qd1": { latencyNs: 15_100, referenceNs: 13_600 },
    "fast-mps128-randread-4k-qd1": { latencyNs: 16_000, referenceNs: 13_600 },
    "speed-verilator-read-128k-qd32": { cycles: 2_400_000, cpuSeconds: 2 },
    "speed-js-read-128k-qd32": { cycles: 500_000, cpuSeconds: 2 },
  };
  return matrix.map((c) => fabricate(c, special[c.id] ?? {}));
}

function statusOf(outcomes: FigureOutcome[], id: string): string | undefined {
  return evaluateGoals(outcomes).find((g) => g.id === id)?.status;
}

describe("the report, from fabricated results", () => {
  const run = fabricatedRun();

  it("merges the JSON of separate runs into the matrix's order; a result wins over a failure", () => {
    // Three "machines": the first half, the second half (in reverse), and a failed retry of one case.
    const half = Math.floor(run.length / 2);
    const failed: FigureOutcome = { version: FIGURES_JSON_VERSION, id: run[0].id, config: run[0].config, engine: "verilator", failed: "bring-up failed" };
    const documents = [figuresDocument(run.slice(0, half)), figuresDocument(run.slice(half).reverse()), figuresDocument([failed])].map((d) => JSON.stringify(d));
    const inputs = documents.map((text, i) => parseFiguresDocument(text, `run${i}.json`));
    const { outcomes, notes } = mergeOutcomes(inputs, matrix.map((c) => c.id));
    expect(outcomes.map((o) => o.id)).toEqual(matrix.map((c) => c.id));
    expect(outcomes.some(isFailure)).toBe(false);
    expect(notes).toEqual([`${run[0].id}: a failure after a result; the result kept`]);
    // A later result replaces an earlier one; ids outside the order come last.
    const newer = { ...run[1], simulated: { ...run[1].simulated, bytesPerSecond: 123 } };
    const stranger = fabricate(figureConfig({ preset: "fastSsd", mps: 256, rw: "read", bs: 8 * KIB, iodepth: 3, group: "table" }));
    const merged = mergeOutcomes([[stranger, run[1]], [newer]], matrix.map((c) => c.id));
    expect(merged.outcomes.map((o) => o.id)).toEqual([run[1].id, stranger.id]);
    expect((merged.outcomes[0] as FigureResult).simulated.bytesPerSecond).toBe(123);
    expect(merged.notes).toEqual([`${run[1].id}: given more than once; the later kept`]);
  });

  it("refuses input that is not a figures document, naming the file", () => {
    expect(() => parseFiguresDocument("{", "a.json")).toThrow(FiguresMergeError);
    expect(() => parseFiguresDocument("{}", "b.json")).toThrow(/b\.json: no "results" array/);
    expect(() => parseFiguresDocument(JSON.stringify({ results: [{ ...run[0], version: 99 }] }), "c.json")).toThrow(/c\.json: results\[0\] \(fast-mps128-read-128k-qd32\) has version 99/);
    expect(() => parseFiguresDocument(JSON.stringify({ results: [{ id: "x" }] }), "d.json")).toThrow(/d\.json: results\[0\] is not a configuration's result/);
    // A bare array of outcomes is accepted too.
    expect(parseFiguresDocument(JSON.stringify(run.slice(0, 2)), "e.json")).toHaveLength(2);
  });

  it("judges the goals against the ceiling and the reference host of the same results", () => {
    const goals = evaluateGoals(run);
    expect(statusOf(run, GOAL_IDS.seqRead)).toBe("PASS");
    expect(statusOf(run, GOAL_IDS.seqWrite)).toBe("MISS");
    expect(GOAL_IDS.randRead.map((id) => statusOf(run, id))).toEqual(["MISS", "PASS", "MISS"]);
    expect(GOAL_IDS.qd1Read.map((id) => statusOf(run, id))).toEqual(["MISS", "PASS", "MISS", "MISS"]);
    expect(statusOf(run, "speed-verilator-read-128k-qd32")).toBe("PASS"); // 1.2 M per CPU second
    expect(statusOf(run, "speed-js-read-128k-qd32")).toBe("MISS"); // 250 k
    // A miss says what binds (the estimate's constraint and detail) and what the what-if measured.
    const write = goals.find((g) => g.id === GOAL_IDS.seqWrite)!;
    expect(write.measured).toBe("1.638 GB/s = 90.0 % of 1.820 GB/s");
    expect(write.detail).toEqual([
      "binds (estimate): write buffer bandwidth-delay — detail of write buffer bandwidth-delay",
      "estimate 1.656 GB/s = 91.0 % of the ceiling (simulated -1.1 % from it)",
      "what-if, simulated: seq write 128 KiB QD32 (1 MiB buffers): 1.784 GB/s = 98.0 % of the ceiling; then binds (estimate): link down — detail of link down",
    ]);
    const latency = goals.find((g) => g.id === "fast-mps128-randread-4k-qd1")!;
    expect(latency.measured).toBe("16.00 µs vs the reference host's 13.60 µs: +2.40 µs");
    expect(latency.detail[0]).toContain("read-out to the user port 2.05 µs, SQ doorbell 452 ns (reference host 424 ns)");
    expect(goals.find((g) => g.id === GOAL_IDS.seqRead)!.detail).toEqual([]);
    // Without a case, its goal is NOT RUN and says how to run it.
    const partial = run.filter((r) => r.id !== GOAL_IDS.seqRead);
    expect(statusOf(partial, GOAL_IDS.seqRead)).toBe("NOT RUN");
    expect(stageDifferences([{ name: "a", ns: 5 }, { name: "b", ns: 7 }], [{ name: "a", ns: 5 }])).toEqual(["b 7 ns"]);
  });

  it("prints every section's rows, the goals, the published figures and the speed", () => {
    const text = formatFigures(run).join("\n");
    for (const title of ["== sequential 128 KiB QD32", "== throughput vs queue depth", "== throughput vs block size", "== what-if", "== goals", "== published figures", "== simulation speed"]) {
      expect(text).toContain(title);
    }
    const row = text.split("\n").find((l) => l.startsWith("fast-mps256-write-128k-qd32 "))!;
    expect(row).toMatch(/seq write 128 KiB QD32\s+fastSsd MPS 256\s+1\.638 GB\/s\s+1\.656 GB\/s\s+-1\.1 %\s+1\.820 GB\/s\s+90\.0 %\s+12\.5k\s+20\.00 µs\s+write buffer bandwidth-delay/);
    expect(text).toMatch(/^PASS {4}sequential read 128 KiB QD32, fastSsd MPS 256: >= 97 % of the link-model ceiling: 1\.812 GB\/s = 98\.0 % of 1\.849 GB\/s$/m);
    expect(text).toMatch(/^MISS {4}random read 4 KiB QD32, fastSsd MPS 128: >= 400\.0k IOPS: 390\.0k IOPS/m);
    expect(text).toMatch(/CPU-less NVMe host \(thesis design\), Gen2 x4\s+read\s+842\.0 MB\/s\s+write\s+1\.170 GB\/s/);
    expect(text).toMatch(/LiteNVMe, Gen2 x4\s+read 1\.240–1\.420 GB\/s\s+write\s+1\.510 GB\/s/);
    expect(text).toMatch(/LiteNVMe, Gen3 x4\s+read\s+2\.690 GB\/s\s+write\s+2\.740 GB\/s/);
    expect(text).toMatch(/this design, simulated: fastSsd, Gen2 x4, MPS 256, 128 KiB QD32\s+read\s+1\.812 GB\/s\s+write\s+1\.638 GB\/s/);
    expect(text).toMatch(/verilator seq read 128 KiB QD32, profiled\s+2400000 cycles .*: 600 k\/s wall, 1\.20 M\/s CPU/);
    expect(text).toContain("time: engine 80 %, link model 12 %, SSD model 8 %");
    // A failed configuration is a row of its own and listed at the end.
    const failed: FigureOutcome = { version: FIGURES_JSON_VERSION, id: run[0].id, config: run[0].config, engine: "js", failed: "bring-up failed: PCIE_LINK\nstack" };
    const withFailure = formatFigures([failed, ...run.slice(1)]).join("\n");
    expect(withFailure).toMatch(/^fast-mps128-read-128k-qd32\s+FAILED: bring-up failed: PCIE_LINK$/m);
    expect(withFailure).toContain("== 1 configuration(s) failed");
  });

  it("plots throughput vs queue depth and vs block size only when every point is there", () => {
    const plots = figurePlots(run);
    expect(plots.map((p) => p.file)).toEqual(["throughput-vs-queue-depth.svg", "throughput-vs-block-size.svg"]);
    for (const p of plots) {
      const root = parseXml(p.svg);
      expect(root[0]).toBe("svg");
      expect(p.svg).toContain("fastSsd, Gen2 x4, MPS 256, MRRS 512, 32 slots, 128 KiB buffers");
      expect(p.svg).toContain("throughput (GB/s = 10^9 bytes/s)");
    }
    expect(plots[0].svg).toContain("4 KiB random read, simulated");
    expect(plots[0].svg).toContain("128 KiB sequential read, estimate");
    expect(plots[0].svg).toContain("link ceiling, read (1.849 GB/s)");
    expect(plots[1].svg).toContain("sequential write, simulated");
    expect(plots[1].svg).toContain("link ceiling, write (1.820 GB/s)");
    expect(plots[1].svg).toContain(">1 MiB<");
    // One queue-depth point missing: only the block-size plot.
    expect(figurePlots(run.filter((r) => r.id !== "fast-mps256-randread-4k-qd8")).map((p) => p.file)).toEqual(["throughput-vs-block-size.svg"]);
  });

  it("--merge turns the JSON files of separate runs into the same table and plots", () => {
    const half = Math.floor(run.length / 2);
    const files = [run.slice(0, half), run.slice(half)].map((part, i) => {
      const file = join(dir, `part${i}.json`);
      writeFileSync(file, JSON.stringify(figuresDocument(part)));
      return file;
    });
    const plots = join(dir, "plots");
    const saved = join(dir, "merged.json");
    const merged = figures("--merge", ...files, "--plots", plots, "--save", saved);
    expect(merged.stderr).toContain("plot:");
    expect(merged.status).toBe(0);
    expect(merged.stdout.trimEnd()).toBe(formatFigures(run, `npx tsx sim/bench/system-figures.ts --merge ${files.join(" ")} --plots ${plots} --save ${saved}`).join("\n"));
    expect(JSON.parse(readFileSync(saved, "utf8"))).toEqual(JSON.parse(JSON.stringify(figuresDocument(run))));
    expect(readFileSync(join(plots, "throughput-vs-block-size.svg"), "utf8")).toBe(figurePlots(run)[1].svg);
    const json = figures("--merge", ...files, "--json", "--no-plots");
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(figuresDocument(run))));
    const bad = figures("--merge", join(dir, "missing.json"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/missing\.json: cannot read \(ENOENT\)/);
    expect(existsSync(join(dir, "plots", "throughput-vs-queue-depth.svg"))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Real runs, tiny, on the js engine.

describe("a tiny real configuration on the js engine", () => {
  const qd1 = { ...figureConfig({ preset: "fastSsd", mps: 256, rw: "randread", bs: 4 * KIB, iodepth: 1, group: "table", reference: true }), windowCommands: 6 };
  const writes = { ...figureConfig({ preset: "fastSsd", mps: 256, rw: "write", bs: 16 * KIB, iodepth: 4, group: "block-size" }), windowCommands: 8 };
  let alone: FigureResult;

  it("runs the job, the estimate, the link ceiling and the reference host, and agrees with the estimate", async () => {
    alone = await runFigure(qd1, "js");
    expect(alone.engine).toBe("js");
    expect(alone.errors).toEqual({ verify: 0, command: 0, messages: [] });
    expect(alone.simulated.commands).toBeGreaterThanOrEqual(6);
    // QD1 reads: one command at a time, so the rate is the latency's inverse, and both agree with the estimate.
    expect(alone.simulated.iops * alone.simulated.meanLatencyNs * 1e-9).toBeCloseTo(1, 1);
    expect(alone.simulated.meanLatencyNs / alone.estimate.meanLatencyNs).toBeCloseTo(1, 1);
    expect(alone.ceiling).toEqual(linkCeiling(planFigure(qd1, "js").system));
    expect(alone.estimate.binding).toBe("queue depth x latency");
    // The reference host on the same job: no controller stages, so faster by about the read-out of 4 KiB (2 µs).
    expect(alone.reference!.commands).toBe(300);
    expect(alone.simulated.meanLatencyNs - alone.reference!.meanLatencyNs).toBeGreaterThan(1000);
    expect(alone.simulated.meanLatencyNs - alone.reference!.meanLatencyNs).toBeLessThan(4000);
    expect(alone.sim.cycles).toBeGreaterThan(0);
    expect(alone.sim.cpuSeconds).toBeGreaterThan(0);
    expect(alone.sim.steppedCycles + alone.sim.fastForwardedCycles).toBe(alone.sim.cycles);
  });

  it("gives the same figures on worker threads (the simulation is deterministic)", async () => {
    const seen: string[] = [];
    const outcomes = await runFiguresInWorkers([qd1, writes], { engine: "js", workers: 2, onOutcome: (o) => seen.push(o.id) });
    expect(outcomes.map((o) => o.id)).toEqual([qd1.id, writes.id]);
    expect(seen.sort()).toEqual([qd1.id, writes.id].sort());
    const [threaded, written] = outcomes as FigureResult[];
    expect(outcomes.some(isFailure)).toBe(false);
    expect(threaded.simulated).toEqual(alone.simulated);
    expect(threaded.sim.cycles).toBe(alone.sim.cycles);
    expect(threaded.reference!.meanLatencyNs).toBe(alone.reference!.meanLatencyNs);
    expect(written.direction).toBe("write");
    expect(written.errors.command).toBe(0);
    expect(written.simulated.bytesPerSecond).toBeGreaterThan(0);
  });
});
