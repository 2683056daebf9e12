// What the figures benchmark prints and writes from its results (figures-run.ts FigureOutcome), be they
// from this process or merged from JSON files of other runs (`--merge`): the table by section, the
// goals as PASS/MISS lines measured against the link model's ceiling of the same run (and, where one is
// missed, what binds: the estimate's binding constraint and its detail, and the what-if run that
// relaxes it), the published figures of comparable designs, the simulation's speed per engine and
// where its time goes, the JSON document, and the SVG plots (svg-plot.ts).
import { formatBytesPerSecond, formatIops, formatNs } from "../estimate/report.ts";
import type { LatencyStage } from "../estimate/estimate.ts";
import { BLOCK_SIZES, type FigureConfig, type FigureGroup, GOAL_IDS, QUEUE_DEPTHS, figureId } from "./figures-matrix.ts";
import { FIGURES_JSON_VERSION, type FigureOutcome, type FigureResult, isFailure } from "./figures-run.ts";
import { type PlotSeries, linePlot } from "./svg-plot.ts";

const KIB = 1024;

/** Goals of issue 11, against the link model's ceiling (and the reference host) of the same run. */
export const GOALS = {
  /** Sequential 128 KiB QD32 read and write at MPS 256: this share of the link ceiling. */
  sequentialShare: 0.97,
  /** Random 4 KiB read QD32 on the link-bound SSD. */
  randomReadIops: 400_000,
  /** QD1 4 KiB read: mean latency at most this much above the reference host's, ns. */
  qd1LatencyExcessNs: 2000,
  /** Cycles per second of the full system under I/O, per engine. */
  speed: { verilator: 1_000_000, js: 300_000 } as Readonly<Record<string, number>>,
};

/** Figures other designs published (read and write, bytes/s), shown beside ours. */
export const PUBLISHED: readonly { design: string; link: string; read: [number, number]; write: number }[] = [
  { design: "CPU-less NVMe host (thesis design)", link: "Gen2 x4", read: [842e6, 842e6], write: 1.17e9 },
  { design: "LiteNVMe", link: "Gen2 x4", read: [1.24e9, 1.42e9], write: 1.51e9 },
  { design: "LiteNVMe", link: "Gen3 x4", read: [2.69e9, 2.69e9], write: 2.74e9 },
];

const SECTIONS: readonly { group: FigureGroup; title: string }[] = [
  { group: "table", title: "sequential 128 KiB QD32, random 4 KiB QD1 and QD32; fastSsd at MPS 128/256/512, consumerSsd at MPS 256" },
  { group: "queue-depth", title: "throughput vs queue depth (fastSsd, MPS 256): 4 KiB random read, 128 KiB sequential read" },
  { group: "block-size", title: "throughput vs block size (fastSsd, MPS 256, QD32): sequential read and write" },
  { group: "what-if", title: "what-if: a goal case with the constraint that binds it relaxed (fastSsd, MPS 256)" },
];

export type GoalStatus = "PASS" | "MISS" | "NOT RUN";

export interface GoalLine {
  status: GoalStatus;
  /** What the goal is, with its configuration. */
  goal: string;
  id: string;
  /** The measurement against the goal, in words. */
  measured: string;
  /** Why, where it is missed: the binding constraint, the what-if, the stages. */
  detail: string[];
}

export interface SpeedRow {
  engine: string;
  /** "all runs" or a speed case's id. */
  scope: string;
  label: string;
  cycles: number;
  steppedCycles: number;
  fastForwardedCycles: number;
  wallSeconds: number;
  cpuSeconds: number;
  cyclesPerSecond: number;
  cyclesPerCpuSecond: number;
  profile?: Record<string, number>;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

function signedPct(ratio: number): string {
  const v = (ratio - 1) * 100;
  return `${v >= 0 ? "+" : ""}${v.toFixed(1)} %`;
}

function ceilingOf(r: FigureResult): number {
  return r.direction === "read" ? r.ceiling.read : r.ceiling.write;
}

function systemWords(c: FigureConfig): string {
  return `${c.preset} MPS ${c.mps}`;
}

function resultsOf(outcomes: readonly FigureOutcome[]): Map<string, FigureResult> {
  const map = new Map<string, FigureResult>();
  for (const o of outcomes) if (!isFailure(o)) map.set(o.id, o);
  return map;
}

// ---------------------------------------------------------------------------------------------
// Goals.

function bindingLines(r: FigureResult, prefix = "binds (estimate)"): string[] {
  return [`${prefix}: ${r.estimate.binding}${r.estimate.bindingDetail ? ` — ${r.estimate.bindingDetail}` : ""}`];
}

function whatIfLines(id: string, results: Map<string, FigureResult>, show: (r: FigureResult) => string): string[] {
  const whatIf = GOAL_IDS.whatIf[id];
  if (whatIf === undefined) return [];
  const w = results.get(whatIf);
  if (!w) return [`what-if ${whatIf}: not run (npx tsx sim/bench/system-figures.ts --only ${whatIf})`];
  return [`what-if, simulated: ${w.config.label}: ${show(w)}; then binds (estimate): ${w.estimate.binding}${w.estimate.bindingDetail ? ` — ${w.estimate.bindingDetail}` : ""}`];
}

/** The controller's latency stages that the reference host does not have, or that take longer on it (estimate). */
export function stageDifferences(controller: readonly LatencyStage[], reference: readonly LatencyStage[]): string[] {
  const ref = new Map(reference.map((s) => [s.name, s.ns]));
  const out: string[] = [];
  for (const s of controller) {
    const other = ref.get(s.name);
    if (other === undefined) out.push(`${s.name} ${formatNs(s.ns)}`);
    else if (Math.abs(s.ns - other) >= 1) out.push(`${s.name} ${formatNs(s.ns)} (reference host ${formatNs(other)})`);
  }
  return out;
}

export function evaluateGoals(outcomes: readonly FigureOutcome[]): GoalLine[] {
  const results = resultsOf(outcomes);
  const lines: GoalLine[] = [];
  const notRun = (id: string, goal: string): GoalLine => ({ status: "NOT RUN", goal, id, measured: `not in these results (npx tsx sim/bench/system-figures.ts --only ${id})`, detail: [] });

  for (const [id, dir] of [[GOAL_IDS.seqRead, "read"], [GOAL_IDS.seqWrite, "write"]] as const) {
    const goal = `sequential ${dir} 128 KiB QD32, fastSsd MPS 256: >= ${GOALS.sequentialShare * 100} % of the link-model ceiling`;
    const r = results.get(id);
    if (!r) {
      lines.push(notRun(id, goal));
      continue;
    }
    const share = r.simulated.bytesPerSecond / ceilingOf(r);
    const pass = share >= GOALS.sequentialShare;
    const detail = pass
      ? []
      : [
          ...bindingLines(r),
          `estimate ${formatBytesPerSecond(r.estimate.bytesPerSecond)} = ${pct(r.estimate.bytesPerSecond / ceilingOf(r))} of the ceiling (simulated ${signedPct(r.simulated.bytesPerSecond / r.estimate.bytesPerSecond)} from it)`,
          ...whatIfLines(id, results, (w) => `${formatBytesPerSecond(w.simulated.bytesPerSecond)} = ${pct(w.simulated.bytesPerSecond / ceilingOf(w))} of the ceiling`),
        ];
    lines.push({ status: pass ? "PASS" : "MISS", goal, id, measured: `${formatBytesPerSecond(r.simulated.bytesPerSecond)} = ${pct(share)} of ${formatBytesPerSecond(ceilingOf(r))}`, detail });
  }

  for (const id of GOAL_IDS.randRead) {
    const mps = /mps(\d+)/.exec(id)?.[1];
    const goal = `random read 4 KiB QD32, fastSsd MPS ${mps}: >= ${formatIops(GOALS.randomReadIops)} IOPS`;
    const r = results.get(id);
    if (!r) {
      lines.push(notRun(id, goal));
      continue;
    }
    const pass = r.simulated.iops >= GOALS.randomReadIops;
    const detail = pass
      ? []
      : [
          ...bindingLines(r),
          `estimate ${formatIops(r.estimate.iops)} IOPS (simulated ${signedPct(r.simulated.iops / r.estimate.iops)} from it)`,
          ...whatIfLines(id, results, (w) => `${formatIops(w.simulated.iops)} IOPS`),
        ];
    lines.push({ status: pass ? "PASS" : "MISS", goal, id, measured: `${formatIops(r.simulated.iops)} IOPS (${formatBytesPerSecond(r.simulated.bytesPerSecond)}, ${pct(r.simulated.bytesPerSecond / ceilingOf(r))} of the link ceiling)`, detail });
  }

  for (const id of GOAL_IDS.qd1Read) {
    const [preset, mps] = [id.startsWith("fast") ? "fastSsd" : "consumerSsd", /mps(\d+)/.exec(id)?.[1]];
    const goal = `random read 4 KiB QD1, ${preset} MPS ${mps}: mean latency within ${formatNs(GOALS.qd1LatencyExcessNs)} of the reference host's`;
    const r = results.get(id);
    if (!r || !r.reference) {
      lines.push(notRun(id, goal));
      continue;
    }
    const excess = r.simulated.meanLatencyNs - r.reference.meanLatencyNs;
    const pass = excess <= GOALS.qd1LatencyExcessNs;
    const differences = stageDifferences(r.estimate.stages, r.reference.stages);
    const detail = pass
      ? []
      : [
          `the controller's stages beyond the reference host's (estimate, unloaded ${formatNs(r.estimate.unloadedLatencyNs)}): ${differences.join(", ") || "none"}`,
        ];
    lines.push({
      status: pass ? "PASS" : "MISS",
      goal,
      id,
      measured: `${formatNs(r.simulated.meanLatencyNs)} vs the reference host's ${formatNs(r.reference.meanLatencyNs)}: ${excess >= 0 ? "+" : "-"}${formatNs(Math.abs(excess))}`,
      detail,
    });
  }

  for (const row of speedRows(outcomes).filter((s) => s.scope !== "all runs")) {
    const target = GOALS.speed[row.engine];
    if (target === undefined) continue;
    const pass = row.cyclesPerCpuSecond >= target;
    const profile = row.profile ? [`time: ${profileWords(row.profile)}`] : [];
    lines.push({
      status: pass ? "PASS" : "MISS",
      goal: `simulation speed, ${row.engine} engine, ${row.label}: >= ${formatRate(target)} cycles/s`,
      id: row.scope,
      measured: `${formatRate(row.cyclesPerCpuSecond)} cycles per second of the worker's CPU (wall clock on this machine: ${formatRate(row.cyclesPerSecond)}/s; ${pct(row.fastForwardedCycles / Math.max(1, row.cycles))} of ${row.cycles} cycles fast-forwarded)`,
      detail: pass ? [] : profile,
    });
  }
  return lines;
}

function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  return `${(perSecond / 1e3).toFixed(0)} k`;
}

function profileWords(profile: Record<string, number>): string {
  return Object.entries(profile).map(([part, share]) => `${part} ${share} %`).join(", ");
}

// ---------------------------------------------------------------------------------------------
// Speed.

/** Per engine: every run together, then each speed case. Rates per wall second and per second of the thread's CPU. */
export function speedRows(outcomes: readonly FigureOutcome[]): SpeedRow[] {
  const results = [...resultsOf(outcomes).values()];
  const rows: SpeedRow[] = [];
  const engines = [...new Set(results.map((r) => r.engine))].sort();
  const row = (engine: string, scope: string, label: string, list: FigureResult[], profile?: Record<string, number>): SpeedRow => {
    const sum = (pick: (r: FigureResult) => number) => list.reduce((s, r) => s + pick(r), 0);
    const cycles = sum((r) => r.sim.cycles);
    const wall = sum((r) => r.sim.wallSeconds);
    const cpu = sum((r) => r.sim.cpuSeconds);
    return {
      engine,
      scope,
      label,
      cycles,
      steppedCycles: sum((r) => r.sim.steppedCycles),
      fastForwardedCycles: sum((r) => r.sim.fastForwardedCycles),
      wallSeconds: wall,
      cpuSeconds: cpu,
      cyclesPerSecond: wall > 0 ? cycles / wall : 0,
      cyclesPerCpuSecond: cpu > 0 ? cycles / cpu : 0,
      ...(profile ? { profile } : {}),
    };
  };
  for (const engine of engines) {
    const mine = results.filter((r) => r.engine === engine);
    rows.push(row(engine, "all runs", `all ${mine.length} runs on this engine`, mine));
    for (const r of mine.filter((x) => x.config.groups.includes("speed"))) rows.push(row(engine, r.id, r.config.label, [r], r.profile));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// The table.

const COLUMNS = [
  ["configuration", 46],
  ["workload", 48],
  ["SSD, MPS", 19],
  ["simulated", 12],
  ["estimate", 12],
  ["sim/est", 8],
  ["ceiling", 12],
  ["of ceil.", 8],
  ["IOPS", 8],
  ["mean clat", 10],
] as const;

function cells(values: readonly string[]): string {
  return values.map((v, i) => (i < 3 ? v.padEnd(COLUMNS[i][1]) : v.padStart(COLUMNS[i][1]))).join(" ");
}

function tableRow(o: FigureOutcome): string {
  if (isFailure(o)) return `${o.id.padEnd(COLUMNS[0][1])} FAILED: ${o.failed.split("\n")[0]}`;
  const r = o;
  const ceiling = ceilingOf(r);
  return `${cells([
    r.id,
    r.config.label,
    systemWords(r.config),
    formatBytesPerSecond(r.simulated.bytesPerSecond),
    formatBytesPerSecond(r.estimate.bytesPerSecond),
    signedPct(r.simulated.bytesPerSecond / r.estimate.bytesPerSecond),
    formatBytesPerSecond(ceiling),
    pct(r.simulated.bytesPerSecond / ceiling),
    formatIops(r.simulated.iops),
    formatNs(r.simulated.meanLatencyNs),
  ])}  ${r.estimate.binding}`;
}

/** The whole report: sections, goals, published figures, speed. `source` says how the results were made (the command). */
export function formatFigures(outcomes: readonly FigureOutcome[], source?: string): string[] {
  const out: string[] = [];
  const engines = [...new Set(outcomes.map((o) => o.engine))].join(", ");
  out.push(`nvme-host figures: Gen2 x4, MRRS 512, 32 KiB pieces; ${outcomes.length} configurations; engine ${engines}`);
  if (source) out.push(`from: ${source}`);
  out.push("simulated = steady rate of the measured window (after ramp_time); estimate = nvme-host estimate; ceiling = the link model's payload ceiling; clat = accepted -> completed at the user port");
  const header = `${cells(COLUMNS.map(([name]) => name))}  binding constraint (estimate)`;
  for (const { group, title } of SECTIONS) {
    const rows = outcomes.filter((o) => o.config.groups.includes(group));
    if (rows.length === 0) continue;
    // A sweep reads down its axis: by workload, then depth or size.
    if (group === "queue-depth" || group === "block-size") {
      const order = (o: FigureOutcome) => [o.config.rw, o.config.bs, o.config.iodepth] as const;
      rows.sort((a, b) => {
        const [x, y] = [order(a), order(b)];
        return x[0] !== y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] !== y[1] ? x[1] - y[1] : x[2] - y[2];
      });
    }
    out.push("", `== ${title}`, header);
    for (const o of rows) out.push(tableRow(o));
  }
  for (const o of outcomes) {
    if (isFailure(o) || (o.errors.verify === 0 && o.errors.command === 0)) continue;
    out.push(`errors in ${o.id}: ${o.errors.command} commands, ${o.errors.verify} verify${o.errors.messages.length ? `: ${o.errors.messages[0]}` : ""}`);
  }
  const references = outcomes.filter((o): o is FigureResult => !isFailure(o) && o.reference !== undefined);
  if (references.length > 0) {
    out.push("", "== the reference host (golden driver's behaviour) on the same link and SSD model, QD1");
    for (const r of references) {
      const ref = r.reference!;
      out.push(`${r.id.padEnd(COLUMNS[0][1])} controller ${formatNs(r.simulated.meanLatencyNs)} (${formatIops(r.simulated.iops)} IOPS), reference host ${formatNs(ref.meanLatencyNs)} (${formatIops(ref.iops)} IOPS): ${signedNs(r.simulated.meanLatencyNs - ref.meanLatencyNs)}`);
    }
  }

  out.push("", "== goals (measured against the link-model ceiling and the reference host of this run)");
  for (const g of evaluateGoals(outcomes)) {
    out.push(`${g.status.padEnd(7)} ${g.goal}: ${g.measured}`);
    for (const d of g.detail) out.push(`        ${d}`);
  }

  out.push("", "== published figures (for comparison; other designs on real SSDs, ours on the models)");
  out.push(...publishedLines(outcomes));

  const speed = speedRows(outcomes);
  if (speed.length > 0) {
    out.push("", "== simulation speed under I/O (cycles per wall second on this machine; per second of the running thread's CPU)");
    for (const s of speed) {
      out.push(
        `${s.engine.padEnd(9)} ${s.label.padEnd(44)} ${String(s.cycles).padStart(10)} cycles (${pct(s.fastForwardedCycles / Math.max(1, s.cycles))} fast-forwarded) in ${s.wallSeconds.toFixed(1)} s: ${formatRate(s.cyclesPerSecond)}/s wall, ${formatRate(s.cyclesPerCpuSecond)}/s CPU`,
      );
      if (s.profile) out.push(`          time: ${profileWords(s.profile)}`);
    }
  }
  const failed = outcomes.filter(isFailure);
  if (failed.length > 0) {
    out.push("", `== ${failed.length} configuration(s) failed`);
    for (const f of failed) out.push(`${f.id}: ${f.failed.split("\n").slice(0, 3).join(" | ")}`);
  }
  return out;
}

function signedNs(ns: number): string {
  return `${ns >= 0 ? "+" : "-"}${formatNs(Math.abs(ns))}`;
}

function range([lo, hi]: [number, number]): string {
  return lo === hi ? formatBytesPerSecond(lo) : `${formatBytesPerSecond(lo).replace(" GB/s", "")}–${formatBytesPerSecond(hi)}`;
}

export function publishedLines(outcomes: readonly FigureOutcome[]): string[] {
  const results = resultsOf(outcomes);
  const read = results.get(GOAL_IDS.seqRead);
  const write = results.get(GOAL_IDS.seqWrite);
  const out: string[] = [];
  const line = (design: string, r: string, w: string) => out.push(`${design.padEnd(70)} read ${r.padStart(16)}   write ${w.padStart(11)}`);
  if (read || write) {
    line("this design, simulated: fastSsd, Gen2 x4, MPS 256, 128 KiB QD32", read ? formatBytesPerSecond(read.simulated.bytesPerSecond) : "-", write ? formatBytesPerSecond(write.simulated.bytesPerSecond) : "-");
    const c = (read ?? write)!.ceiling;
    line("the link model's ceiling, Gen2 x4, MPS 256, MRRS 512", formatBytesPerSecond(c.read), formatBytesPerSecond(c.write));
  }
  for (const p of PUBLISHED) line(`${p.design}, ${p.link}`, range(p.read), formatBytesPerSecond(p.write));
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON.

export interface FiguresDocument {
  benchmark: "nvme-host system-figures";
  version: number;
  results: FigureOutcome[];
  goals: GoalLine[];
  speed: SpeedRow[];
}

export function figuresDocument(outcomes: readonly FigureOutcome[]): FiguresDocument {
  return { benchmark: "nvme-host system-figures", version: FIGURES_JSON_VERSION, results: [...outcomes], goals: evaluateGoals(outcomes), speed: speedRows(outcomes) };
}

/** Bad --merge input: names the file and what is wrong. */
export class FiguresMergeError extends Error {
  override name = "FiguresMergeError";
}

/** The outcomes in one JSON document of `--json` (or a bare array of outcomes); `source` names it in errors. */
export function parseFiguresDocument(text: string, source: string): FigureOutcome[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FiguresMergeError(`${source}: not JSON (${(error as Error).message})`);
  }
  const list = Array.isArray(value) ? value : (value as { results?: unknown } | null)?.results;
  if (!Array.isArray(list)) throw new FiguresMergeError(`${source}: no "results" array (expected the output of system-figures.ts --json)`);
  list.forEach((o: unknown, i) => {
    const r = o as Partial<FigureResult & { failed: string }> | null;
    if (r === null || typeof r !== "object" || typeof r.id !== "string" || typeof r.config !== "object") throw new FiguresMergeError(`${source}: results[${i}] is not a configuration's result`);
    if (r.version !== FIGURES_JSON_VERSION) throw new FiguresMergeError(`${source}: results[${i}] (${r.id}) has version ${String(r.version)}, this benchmark reads version ${FIGURES_JSON_VERSION}`);
    if (!("failed" in r) && (typeof r.simulated !== "object" || typeof r.estimate !== "object" || typeof r.ceiling !== "object")) throw new FiguresMergeError(`${source}: results[${i}] (${r.id}) lacks simulated/estimate/ceiling`);
  });
  return list as FigureOutcome[];
}

/**
 * Outcomes of several runs as one list: in `order` (the matrix's ids) where known, others after in
 * the order given; a configuration in several inputs: a result wins over a failure, else the later
 * input wins. `notes` says what was replaced.
 */
export function mergeOutcomes(inputs: readonly (readonly FigureOutcome[])[], order: readonly string[] = []): { outcomes: FigureOutcome[]; notes: string[] } {
  const byId = new Map<string, FigureOutcome>();
  const notes: string[] = [];
  for (const list of inputs) {
    for (const o of list) {
      const seen = byId.get(o.id);
      if (seen && !isFailure(seen) && isFailure(o)) {
        notes.push(`${o.id}: a failure after a result; the result kept`);
        continue;
      }
      if (seen) notes.push(`${o.id}: given more than once; the later kept`);
      byId.set(o.id, o);
    }
  }
  const rank = new Map(order.map((id, i) => [id, i]));
  const outcomes = [...byId.values()];
  const position = new Map(outcomes.map((o, i) => [o.id, i]));
  outcomes.sort((a, b) => (rank.get(a.id) ?? order.length + position.get(a.id)!) - (rank.get(b.id) ?? order.length + position.get(b.id)!));
  return { outcomes, notes };
}

// ---------------------------------------------------------------------------------------------
// Plots.

const COLORS = { random: "#1f77b4", sequential: "#d62728", write: "#2ca02c", ceiling: "#555555" };

function sizeTick(bytes: number): string {
  return bytes >= 1024 * KIB ? `${bytes / (1024 * KIB)} MiB` : `${bytes / KIB} KiB`;
}

function subtitle(r: FigureResult, extra: string): string {
  const c = r.config;
  return `${c.preset}, Gen2 x4, MPS ${c.mps}, MRRS 512, ${c.slots} slots, ${c.bufferBytes / KIB} KiB buffers, 32 KiB pieces${extra}; ${r.engine} engine`;
}

function pointsOf(results: readonly FigureResult[], x: (r: FigureResult) => number, y: (r: FigureResult) => number) {
  return results.map((r) => ({ x: x(r), y: y(r) / 1e9 }));
}

/** The plots whose configurations all have results: throughput vs queue depth, and vs block size. */
export function figurePlots(outcomes: readonly FigureOutcome[]): { file: string; svg: string }[] {
  const results = resultsOf(outcomes);
  const plots: { file: string; svg: string }[] = [];
  const pick = (ids: string[]) => (ids.every((id) => results.has(id)) ? ids.map((id) => results.get(id)!) : undefined);
  const base = { preset: "fastSsd", mps: 256, slots: 32, bufferBytes: 128 * KIB } as const;

  const random = pick(QUEUE_DEPTHS.map((iodepth) => figureId({ ...base, rw: "randread", bs: 4 * KIB, iodepth })));
  const sequential = pick(QUEUE_DEPTHS.map((iodepth) => figureId({ ...base, rw: "read", bs: 128 * KIB, iodepth })));
  if (random && sequential) {
    const qd = (r: FigureResult) => r.config.iodepth;
    const ceiling = random[0].ceiling.read / 1e9;
    const series: PlotSeries[] = [
      { name: "128 KiB sequential read, simulated", points: pointsOf(sequential, qd, (r) => r.simulated.bytesPerSecond), color: COLORS.sequential, marker: "circle" },
      { name: "128 KiB sequential read, estimate", points: pointsOf(sequential, qd, (r) => r.estimate.bytesPerSecond), color: COLORS.sequential, dash: "6 4", marker: "square", markerFill: "open" },
      { name: "4 KiB random read, simulated", points: pointsOf(random, qd, (r) => r.simulated.bytesPerSecond), color: COLORS.random, marker: "circle" },
      { name: "4 KiB random read, estimate", points: pointsOf(random, qd, (r) => r.estimate.bytesPerSecond), color: COLORS.random, dash: "6 4", marker: "square", markerFill: "open" },
      { name: `link ceiling, read (${ceiling.toFixed(3)} GB/s)`, points: [{ x: 1, y: ceiling }, { x: 64, y: ceiling }], color: COLORS.ceiling, dash: "2 3" },
    ];
    plots.push({
      file: "throughput-vs-queue-depth.svg",
      svg: linePlot({
        title: "Read throughput vs queue depth: simulated, estimated, link ceiling",
        subtitle: subtitle(random[0], ""),
        x: { label: "queue depth (commands in flight, iodepth; log scale)", scale: "log2", ticks: QUEUE_DEPTHS.map((q) => ({ value: q, label: String(q) })) },
        y: { label: "throughput (GB/s = 10^9 bytes/s)", scale: "linear", min: 0 },
        series,
      }),
    });
  }

  const reads = pick(BLOCK_SIZES.map((bs) => figureId({ ...base, rw: "read", bs, iodepth: 32 })));
  const writes = pick(BLOCK_SIZES.map((bs) => figureId({ ...base, rw: "write", bs, iodepth: 32 })));
  if (reads && writes) {
    const bs = (r: FigureResult) => r.config.bs;
    const [lo, hi] = [BLOCK_SIZES[0], BLOCK_SIZES[BLOCK_SIZES.length - 1]];
    const { read, write } = reads[0].ceiling;
    const series: PlotSeries[] = [
      { name: "sequential read, simulated", points: pointsOf(reads, bs, (r) => r.simulated.bytesPerSecond), color: COLORS.sequential, marker: "circle" },
      { name: "sequential read, estimate", points: pointsOf(reads, bs, (r) => r.estimate.bytesPerSecond), color: COLORS.sequential, dash: "6 4", marker: "square", markerFill: "open" },
      { name: "sequential write, simulated", points: pointsOf(writes, bs, (r) => r.simulated.bytesPerSecond), color: COLORS.write, marker: "triangle" },
      { name: "sequential write, estimate", points: pointsOf(writes, bs, (r) => r.estimate.bytesPerSecond), color: COLORS.write, dash: "6 4", marker: "square", markerFill: "open" },
      { name: `link ceiling, read (${(read / 1e9).toFixed(3)} GB/s)`, points: [{ x: lo, y: read / 1e9 }, { x: hi, y: read / 1e9 }], color: COLORS.ceiling, dash: "2 3" },
      { name: `link ceiling, write (${(write / 1e9).toFixed(3)} GB/s)`, points: [{ x: lo, y: write / 1e9 }, { x: hi, y: write / 1e9 }], color: COLORS.ceiling, dash: "8 3 2 3", width: 1.5 },
    ];
    plots.push({
      file: "throughput-vs-block-size.svg",
      svg: linePlot({
        title: "Sequential throughput vs block size at QD32: simulated, estimated, link ceiling",
        subtitle: subtitle(reads[0], ", iodepth 32"),
        x: { label: "block size (bs; log scale)", scale: "log2", ticks: BLOCK_SIZES.map((b) => ({ value: b, label: sizeTick(b) })) },
        y: { label: "throughput (GB/s = 10^9 bytes/s)", scale: "linear", min: 0 },
        series,
      }),
    });
  }
  return plots;
}
