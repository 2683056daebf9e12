// fio-style reports of a run (DESIGN.md CLI, issue 11): fio's normal text layout and its JSON layout,
// built from the JobResults a runner measured, so that people and scripts that read fio's output read
// ours. The layouts follow fio's documentation (HOWTO "Interpreting the output", "JSON output") and the
// output fio prints; the figures are computed here from the exact latency lists, not from fio's
// histogram buckets, so percentiles are exact (nearest rank) where fio's are bucket approximations.
//
// What differs from fio, on purpose:
//   - No pid and no wall-clock date on a job's first line, no cpu, IO depth or disk lines: a
//     simulation has none of them. Nothing is invented to fill fio's slots.
//   - Runtimes are simulated and often well under a millisecond, so the text prints msec with up to
//     three decimals (`4.096msec`) where fio prints whole msec, and the JSON `runtime` (msec, as fio)
//     is a fraction rather than fio's integer. Bandwidth and IOPS come from the exact runtime in ns.
//   - `lat_ns` (fio's submission-to-completion total) equals `clat_ns`: commands enter the controller
//     at the user port handshake, so there is no separate submission stage to time (`slat_ns` has N=0).
//
// Group reporting follows fio: a stonewall starts a new group (group ids 0, 1, ...), and with
// `group_reporting` consecutive jobs of the same group (clones included) are reported as one, named
// after the first, with `jobs=` counting the clones merged.
import type { DirectionResult, JobResult, JobSpec } from "./job.ts";

/** fio's default percentile list (its `percentile_list` default). */
export const FIO_PERCENTILES: readonly number[] = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

// ---------------------------------------------------------------------------------------------
// Statistics.

export interface LatencyStats {
  n: number;
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (n - 1), 0 for one sample, as fio reports it. */
  stddev: number;
}

export function latencyStats(ns: readonly number[]): LatencyStats {
  const n = ns.length;
  if (n === 0) return { n: 0, min: 0, max: 0, mean: 0, stddev: 0 };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of ns) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / n;
  // Two passes: the sum of squares of ns latencies over a long run exceeds 2^53 and loses the variance.
  let squares = 0;
  for (const v of ns) squares += (v - mean) * (v - mean);
  return { n, min, max, mean, stddev: n > 1 ? Math.sqrt(squares / (n - 1)) : 0 };
}

/**
 * Exact percentiles by nearest rank: the p-th percentile is the smallest latency with at least p % of
 * the samples at or below it (rank ceil(p/100 × N)). That is fio's rule too, applied by fio to its
 * histogram buckets and here to the latencies themselves. Empty input gives an empty list.
 */
export function nearestRankPercentiles(ns: readonly number[], percentiles: readonly number[] = FIO_PERCENTILES): number[] {
  if (ns.length === 0) return [];
  const sorted = Float64Array.from(ns).sort();
  return percentiles.map((p) => {
    if (!(p > 0 && p <= 100)) throw new Error(`percentile ${p}: not in (0, 100]`);
    // p in hundredths of a hundredth (99.99 -> 999900) keeps p × N exact in integers: 99.99 / 100 × 10000
    // in floating point is 9999.000000000002, whose ceiling would skip a rank.
    const scaled = Math.round(p * 10000);
    const rank = Math.max(1, Math.ceil((scaled * sorted.length) / 1_000_000));
    return sorted[rank - 1];
  });
}

/** One direction's figures, from the exact runtime. */
interface DirectionFigures {
  ioBytes: number;
  totalIos: number;
  runtimeNs: number;
  /** Bytes per simulated second, floored (fio's integer bw_bytes). */
  bwBytes: number;
  iops: number;
}

function directionFigures(d: DirectionResult): DirectionFigures {
  // A direction the job never used has no runtime in fio (runtime 0, left out of group figures).
  const used = d.totalIos > 0 || d.ioBytes > 0;
  const runtimeNs = used ? d.runtimeNs : 0;
  const seconds = runtimeNs / 1e9;
  return {
    ioBytes: d.ioBytes,
    totalIos: d.totalIos,
    runtimeNs,
    bwBytes: runtimeNs > 0 ? Math.floor(d.ioBytes / seconds) : 0,
    iops: runtimeNs > 0 ? d.totalIos / seconds : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Merging (group_reporting).

function sumDirections(ds: readonly DirectionResult[]): DirectionResult {
  const clatNs: number[] = [];
  for (const d of ds) for (const v of d.clatNs) clatNs.push(v);
  return {
    ioBytes: ds.reduce((s, d) => s + d.ioBytes, 0),
    totalIos: ds.reduce((s, d) => s + d.totalIos, 0),
    // fio's group figure: the clones ran side by side, so the group ran as long as the longest.
    runtimeNs: ds.reduce((m, d) => Math.max(m, d.runtimeNs), 0),
    clatNs,
  };
}

/** Sums results into one (fio's group_reporting): bytes and commands add, runtime is the longest, latencies join; the first error wins. */
export function sumJobResults(results: readonly JobResult[], name?: string): JobResult {
  if (results.length === 0) throw new Error("sumJobResults: no results to sum");
  return {
    name: name ?? results[0].name,
    error: results.find((r) => r.error !== 0)?.error ?? 0,
    read: sumDirections(results.map((r) => r.read)),
    write: sumDirections(results.map((r) => r.write)),
  };
}

/** One reported job (a clone, a job, or a merged group), as fio prints one thread_stat. */
export interface ReportEntry {
  result: JobResult;
  /** fio's reporting group: 0 for the first jobs, +1 at every stonewall. */
  groupId: number;
  /** How many clones the entry covers (fio's `jobs=`). */
  members: number;
}

/** fio's group ids: the group changes at every job with stonewall (not at the first job, nor between clones). */
export function groupIds(jobs: readonly Pick<JobSpec, "stonewall">[]): number[] {
  let group = 0;
  return jobs.map((job, i) => {
    if (i > 0 && job.stonewall) group++;
    return group;
  });
}

/**
 * The report entries of a run: `results[i]` holds job i's clones (numjobs results, in clone order).
 * Without group_reporting every clone is its own entry; with it, consecutive group_reporting jobs of
 * the same group merge into one entry (fio's rule), named after the first.
 */
export function reportEntries(jobs: readonly JobSpec[], results: readonly (readonly JobResult[])[]): ReportEntry[] {
  if (results.length !== jobs.length) throw new Error(`reportEntries: ${jobs.length} jobs but results for ${results.length}`);
  const groups = groupIds(jobs);
  const entries: { parts: JobResult[]; groupId: number; merging: boolean }[] = [];
  jobs.forEach((job, i) => {
    const clones = results[i];
    if (clones.length !== job.numjobs) throw new Error(`reportEntries: job ${job.name} has numjobs=${job.numjobs} but ${clones.length} results`);
    for (const clone of clones) {
      const last = entries[entries.length - 1];
      if (job.groupReporting && last !== undefined && last.merging && last.groupId === groups[i]) {
        last.parts.push(clone);
      } else {
        entries.push({ parts: [clone], groupId: groups[i], merging: job.groupReporting });
      }
    }
  });
  return entries.map((e) => ({
    result: e.parts.length === 1 ? e.parts[0] : sumJobResults(e.parts),
    groupId: e.groupId,
    members: e.parts.length,
  }));
}

// ---------------------------------------------------------------------------------------------
// Number formatting in fio's style.

const SI_PREFIXES = ["", "k", "M", "G", "T", "P", "E"];
const IEC_PREFIXES = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

function digits(n: number): number {
  return String(Math.floor(n)).length;
}

/**
 * fio's way of printing a quantity in at most `maxDigits` digits: scale by 1000 (or 1024 with `pow2`)
 * until the integer part fits, then use the digits left over for decimals (one goes to the point):
 * 31897600 B -> "30.4MiB", 1728000000 B/s -> "1648MiB/s" (pow2) or "1728MB/s".
 */
export function formatFioNumber(value: number, maxDigits: number, pow2: boolean, unit: string): string {
  const thousand = pow2 ? 1024 : 1000;
  const prefixes = pow2 ? IEC_PREFIXES : SI_PREFIXES;
  let scaled = Math.floor(value);
  let power = 0;
  if (digits(scaled) <= maxDigits) return `${scaled}${unit}`;
  while (digits(scaled) > maxDigits && power < prefixes.length - 1) {
    scaled /= thousand;
    power++;
  }
  const decimals = maxDigits - digits(scaled) - 1;
  const number = decimals <= 0 ? String(Math.round(scaled)) : scaled.toFixed(decimals);
  return `${number}${prefixes[power]}${unit}`;
}

/** Simulated runtimes are short: msec with up to three decimals (fio prints whole msec). */
export function formatMsec(ns: number): string {
  const ms = ns / 1e6;
  if (ms >= 1000) return String(Math.round(ms));
  return String(Number(ms.toFixed(3)));
}

function fixed2(v: number, width: number): string {
  return v.toFixed(2).padStart(width);
}

/** fio's unit for a latency line: msec or usec only when the whole range, and its spread, is that large. */
function latencyUnit(s: LatencyStats): { name: "nsec" | "usec" | "msec"; divisor: number } {
  if (s.min > 2_000_000 && s.max > 99_999_999 && s.stddev > 1_000_000) return { name: "msec", divisor: 1e6 };
  if (s.min > 2000 && s.max > 99_999 && s.stddev > 1000) return { name: "usec", divisor: 1e3 };
  return { name: "nsec", divisor: 1 };
}

function latencyLine(label: string, s: LatencyStats): string {
  const unit = latencyUnit(s);
  const min = formatFioNumber(Math.floor(s.min / unit.divisor), 6, false, "");
  const max = formatFioNumber(Math.floor(s.max / unit.divisor), 6, false, "");
  return `    ${label} (${unit.name}): min=${min}, max=${max}, avg=${fixed2(s.mean / unit.divisor, 5)}, stdev=${fixed2(s.stddev / unit.divisor, 5)}`;
}

/** fio's `clat percentiles` block: the unit from the percentile values' range, values rounded up into it. */
function percentileBlock(label: string, ns: readonly number[]): string[] {
  const values = nearestRankPercentiles(ns);
  if (values.length === 0) return [];
  const minv = Math.min(...values);
  const maxv = Math.max(...values);
  let divisor = 1;
  let unit = "nsec";
  if (minv > 2_000_000 && maxv > 99_999_999) {
    divisor = 1e6;
    unit = "msec";
  } else if (minv > 2000 && maxv > 99_999) {
    divisor = 1e3;
    unit = "usec";
  }
  const shown = values.map((v) => Math.ceil(v / divisor));
  const width = Math.max(5, digits(Math.floor(maxv / divisor)));
  // fio's line budget: 73 columns after the "     |" margin, an entry is " 99.99th=[" + value + "],".
  const precision = 2;
  const perLine = Math.floor((80 - 7) / (precision + 10 + width));
  const lines = [`    ${label} percentiles (${unit}):`];
  let line = "     |";
  FIO_PERCENTILES.forEach((p, i) => {
    const last = i === FIO_PERCENTILES.length - 1;
    line += ` ${p.toFixed(precision).padStart(precision + 3)}th=[${String(shown[i]).padStart(width)}]${last ? "" : ","}`;
    if (last || i % perLine === perLine - 1) {
      lines.push(line);
      line = "     |";
    }
  });
  return lines;
}

/** fio's latency distribution buckets: each label is the bucket's exclusive upper bound in its unit. */
const LAT_BOUNDS = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000];
const LAT_MSEC_BOUNDS = [...LAT_BOUNDS, 2000];

/** The `lat (nsec/usec/msec)` lines: percent of the entry's commands per bucket (0.01 % at least for a non-empty one). */
function latencyDistribution(ns: readonly number[]): string[] {
  const total = ns.length;
  if (total === 0) return [];
  const nsec = new Array<number>(LAT_BOUNDS.length).fill(0);
  const usec = new Array<number>(LAT_BOUNDS.length).fill(0);
  const msec = new Array<number>(LAT_MSEC_BOUNDS.length + 1).fill(0);
  const bucket = (v: number, bounds: readonly number[]): number => {
    const i = bounds.findIndex((b) => v < b);
    return i < 0 ? bounds.length : i;
  };
  for (const v of ns) {
    if (v < 1000) nsec[bucket(Math.floor(v), LAT_BOUNDS)]++;
    else if (v < 1_000_000) usec[bucket(Math.floor(v / 1000), LAT_BOUNDS)]++;
    else msec[bucket(Math.floor(v / 1_000_000), LAT_MSEC_BOUNDS)]++;
  }
  const lines: string[] = [];
  const show = (counts: number[], labels: string[], unit: string) => {
    const items: string[] = [];
    counts.forEach((c, i) => {
      if (c === 0) return;
      const pct = Math.max((100 * c) / total, 0.01);
      items.push(`${labels[i]}=${pct.toFixed(2)}%`);
    });
    for (let i = 0; i < items.length; i += 5) lines.push(`  lat (${unit})   : ${items.slice(i, i + 5).join(", ")}`);
  };
  const labels = LAT_BOUNDS.map(String);
  show(nsec, labels, "nsec");
  show(usec, labels, "usec");
  show(msec, [...LAT_MSEC_BOUNDS.map(String), ">=2000"], "msec");
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The text report.

const DIRECTIONS = [
  { key: "read", label: "read", group: "   READ" },
  { key: "write", label: "write", group: "  WRITE" },
] as const;

function directionLines(label: string, d: DirectionResult): string[] {
  const f = directionFigures(d);
  if (f.ioBytes === 0 || f.runtimeNs === 0) return [];
  const iops = formatFioNumber(Math.floor(f.iops), 4, false, "");
  const bw = formatFioNumber(f.bwBytes, 4, true, "B/s");
  const bwAlt = formatFioNumber(f.bwBytes, 4, false, "B/s");
  const io = formatFioNumber(f.ioBytes, 4, true, "B");
  const lines = [`  ${label}: IOPS=${iops}, BW=${bw} (${bwAlt})(${io}/${formatMsec(f.runtimeNs)}msec)`];
  const stats = latencyStats(d.clatNs);
  if (stats.n > 0) {
    lines.push(latencyLine("clat", stats));
    lines.push(...percentileBlock("clat", d.clatNs));
  }
  return lines;
}

function entryLines(e: ReportEntry): string[] {
  const r = e.result;
  const moved = r.read.ioBytes + r.write.ioBytes + r.read.totalIos + r.write.totalIos;
  // fio leaves out a job that moved nothing; one that failed is shown, or its error would be hidden.
  if (moved === 0 && r.error === 0) return [];
  const lines = [`${r.name}: (groupid=${e.groupId}, jobs=${e.members}): err=${String(r.error).padStart(2)}`];
  for (const dir of DIRECTIONS) lines.push(...directionLines(dir.label, r[dir.key]));
  lines.push(...latencyDistribution([...r.read.clatNs, ...r.write.clatNs]));
  lines.push(`     issued rwts: total=${r.read.totalIos},${r.write.totalIos},0,0 short=0,0,0,0 dropped=0,0,0,0`);
  return lines;
}

/** fio's "Run status group" summary: aggregate bandwidth over the longest runtime, the entries' min-max, io, run range. */
function groupLines(entries: readonly ReportEntry[]): string[] {
  const ids = [...new Set(entries.map((e) => e.groupId))].sort((a, b) => a - b);
  const lines: string[] = [];
  for (const id of ids) {
    lines.push("", `Run status group ${id} (all jobs):`);
    const members = entries.filter((e) => e.groupId === id);
    for (const dir of DIRECTIONS) {
      const figures = members.map((e) => directionFigures(e.result[dir.key])).filter((f) => f.runtimeNs > 0);
      if (figures.length === 0) continue;
      const io = figures.reduce((s, f) => s + f.ioBytes, 0);
      const minRun = Math.min(...figures.map((f) => f.runtimeNs));
      const maxRun = Math.max(...figures.map((f) => f.runtimeNs));
      const agg = Math.floor(io / (maxRun / 1e9));
      const minBw = Math.min(...figures.map((f) => f.bwBytes));
      const maxBw = Math.max(...figures.map((f) => f.bwBytes));
      const b2 = (v: number) => formatFioNumber(v, 4, true, "B/s");
      const b10 = (v: number) => formatFioNumber(v, 4, false, "B/s");
      lines.push(
        `${dir.group}: bw=${b2(agg)} (${b10(agg)}), ${b2(minBw)}-${b2(maxBw)} (${b10(minBw)}-${b10(maxBw)}), ` +
          `io=${formatFioNumber(io, 4, true, "B")} (${formatFioNumber(io, 4, false, "B")}), run=${formatMsec(minRun)}-${formatMsec(maxRun)}msec`,
      );
    }
  }
  return lines;
}

export interface TextReportOptions {
  /** Preformatted lines appended after fio's text (what fio cannot tell: link ceiling, counters, speed). */
  extras?: readonly string[];
}

/** fio's normal output for a run: each entry, then the run status groups, then the extras. Ends with a newline. */
export function formatFioText(entries: readonly ReportEntry[], options: TextReportOptions = {}): string {
  const lines: string[] = [];
  for (const e of entries) lines.push(...entryLines(e));
  lines.push(...groupLines(entries));
  if (options.extras !== undefined && options.extras.length > 0) lines.push("", ...options.extras);
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// The JSON report.

/** The `nvme_host` object (DESIGN.md CLI): what fio cannot tell. The runner and the estimator fill it. */
export interface NvmeHostJson {
  engine?: string;
  verify_errors?: number;
  command_errors?: number;
  link_ceiling_bytes_per_s?: { read: number; write: number };
  binding_constraint?: string;
  sim?: { cycles: number; wall_s: number; cycles_per_s: number };
  [key: string]: unknown;
}

export interface FioLatencyJson {
  min: number;
  max: number;
  mean: number;
  stddev: number;
  N: number;
  /** Keys as fio prints them ("%f": "1.000000" ... "99.990000"); left out when N is 0, as fio does. */
  percentile?: Record<string, number>;
}

export interface FioDirectionJson {
  io_bytes: number;
  io_kbytes: number;
  bw_bytes: number;
  /** KiB/s, as fio. */
  bw: number;
  iops: number;
  /** msec, as fio (a fraction here: simulated runs are short). */
  runtime: number;
  total_ios: number;
  short_ios: number;
  drop_ios: number;
  slat_ns: FioLatencyJson;
  clat_ns: FioLatencyJson;
  lat_ns: FioLatencyJson;
}

export interface FioJobJson {
  jobname: string;
  groupid: number;
  error: number;
  read: FioDirectionJson;
  write: FioDirectionJson;
  trim: FioDirectionJson;
}

export interface FioJsonReport {
  "fio version": string;
  timestamp: number;
  timestamp_ms: number;
  time: string;
  jobs: FioJobJson[];
  nvme_host: NvmeHostJson;
}

export interface JsonReportOptions {
  nvmeHost: NvmeHostJson;
  /** fio's "fio version" slot: which program wrote the report (default "nvme-host"). */
  version?: string;
  /** When the report was made (default now); tests pass a fixed time. */
  now?: Date;
}

function latencyJson(ns: readonly number[], withPercentiles: boolean): FioLatencyJson {
  const s = latencyStats(ns);
  const json: FioLatencyJson = { min: s.min, max: s.max, mean: s.mean, stddev: s.stddev, N: s.n };
  if (withPercentiles && s.n > 0) {
    const values = nearestRankPercentiles(ns);
    json.percentile = Object.fromEntries(FIO_PERCENTILES.map((p, i) => [p.toFixed(6), values[i]]));
  }
  return json;
}

function directionJson(d: DirectionResult): FioDirectionJson {
  const f = directionFigures(d);
  return {
    io_bytes: f.ioBytes,
    io_kbytes: Math.floor(f.ioBytes / 1024),
    bw_bytes: f.bwBytes,
    bw: Math.floor(f.bwBytes / 1024),
    iops: f.iops,
    runtime: f.runtimeNs / 1e6,
    total_ios: f.totalIos,
    short_ios: 0,
    drop_ios: 0,
    slat_ns: latencyJson([], false),
    clat_ns: latencyJson(d.clatNs, true),
    // fio prints lat percentiles only with lat_percentiles=1 (off by default); the same here.
    lat_ns: latencyJson(d.clatNs, false),
  };
}

const EMPTY_DIRECTION: DirectionResult = { ioBytes: 0, totalIos: 0, runtimeNs: 0, clatNs: [] };

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** C's ctime layout in local time ("Sat Jun 24 12:07:54 2017"), as fio's "time". */
function ctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2)} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`;
}

/** fio's JSON layout for a run, with the `nvme_host` object at the top level. */
export function fioJsonReport(entries: readonly ReportEntry[], options: JsonReportOptions): FioJsonReport {
  const now = options.now ?? new Date();
  return {
    "fio version": options.version ?? "nvme-host",
    timestamp: Math.floor(now.getTime() / 1000),
    timestamp_ms: now.getTime(),
    time: ctime(now),
    jobs: entries.map((e) => ({
      jobname: e.result.name,
      groupid: e.groupId,
      error: e.result.error,
      read: directionJson(e.result.read),
      write: directionJson(e.result.write),
      trim: directionJson(EMPTY_DIRECTION),
    })),
    nvme_host: options.nvmeHost,
  };
}

/** The JSON report as text (two-space indent, newline at the end). */
export function formatFioJson(entries: readonly ReportEntry[], options: JsonReportOptions): string {
  return `${JSON.stringify(fioJsonReport(entries, options), null, 2)}\n`;
}
