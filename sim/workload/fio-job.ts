// fio's job options for `nvme-host sim` and `nvme-host estimate` (DESIGN.md, CLI): a fio job file
// (INI: `[global]` and one section per job) and/or fio-style command-line options, resolved into
// JobSpec records (job.ts). Storage people bring fio job files; they should run here unchanged, so
// names, units, defaults and inheritance follow fio's documentation (HOWTO "Job file format",
// "Parameter types", "Job file parameters"). Where fio has a quirk that would silently do something
// else here, we follow fio and say so in a notice instead of "fixing" it.
//
// The entry point is `parseJobs({ file?, args, env?, systemOptions? })`:
//   - `file`: the job file's path (for messages) and text; the CLI reads it, this module does no I/O.
//   - `args`: the command line after the command name (and after the job file argument, if the CLI
//     took it out; a positional argument left in is passed through to `systemArgs`).
//   - returns `{ jobs, notices, systemArgs }`: the jobs in file/command-line order, one line per
//     notice (an ignored option, a fio quirk), and the arguments that are not job options (system
//     options such as `--ssd`, `--engine`, `--output-format`, positionals), in their original order
//     and form, for the CLI to parse.
// Bad input throws FioJobError whose message starts with where it came from: `job.fio:12: bs=4q: not
// a size (...)` for a file, `--bs=4q: ...` for the command line.
//
// Precedence, lowest first: fio's defaults < the file's [global] sections above the job < options on
// the command line before any `--name` < the job's own section. (fio itself lets a job file's [global]
// override the command line; issue 11 asks for the command line to win, so that `nvme-host sim job.fio
// --iodepth=64` tries a file at another depth. A job section still wins: it is the more specific.)
//
// Without a job file, fio's command-line rules apply: `--name=X` starts job X, options before the first
// `--name` are global (so is `--name=global ...`), and when no `--name` is given at all the options
// make one job named "job" (fio would ask for a name; here a one-job command line is the common case).
import { RW_MODES, type JobSpec, type RwMode } from "./job.ts";

/** Bad job input: the message names where (file:line or the command-line option), the option and the value. */
export class FioJobError extends Error {
  override name = "FioJobError";
  constructor(
    message: string,
    /** `path:line` in a job file, `--option=value` on the command line, or the job the check concerns. */
    readonly location: string,
    readonly option?: string,
    readonly value?: string,
  ) {
    super(message);
  }
}

export interface JobFileInput {
  /** As given on the command line: messages print it as is. */
  path: string;
  text: string;
}

/** Whether a system option takes a value (`--ssd PRESET` or `--ssd=PRESET`) or is a bare flag. */
export type SystemOptionArity = "value" | "flag";

/**
 * The options the CLI parses itself (DESIGN.md CLI, issue 11): passed through in `systemArgs`. The CLI
 * can pass its own table to parseJobs when it grows; a name in neither table is an unknown option.
 */
export const DEFAULT_SYSTEM_OPTIONS: Readonly<Record<string, SystemOptionArity>> = {
  ssd: "value",
  gen: "value",
  lanes: "value",
  mps: "value",
  mrrs: "value",
  slots: "value",
  buffer: "value",
  "max-piece": "value",
  engine: "value",
  trace: "value",
  vcd: "value",
  "output-format": "value",
  output: "value",
  json: "flag",
  help: "flag",
};

export interface ParseJobsInput {
  file?: JobFileInput;
  args?: readonly string[];
  /** Values for fio's `${VAR}` expansion in job files (the CLI passes process.env); unset names expand to "" as in fio. */
  env?: Readonly<Record<string, string | undefined>>;
  systemOptions?: Readonly<Record<string, SystemOptionArity>>;
}

export interface ParsedJobs {
  jobs: JobSpec[];
  /** One line each, prefixed with where the option came from; for the CLI to print on stderr. */
  notices: string[];
  /** Every argument that is not a job option, in order and as written. */
  systemArgs: string[];
}

/** fio's `randseed` default (its documented default value 0x89), so a job without randseed is repeatable. */
export const FIO_DEFAULT_RANDSEED = 0x89;
/** An NVMe I/O queue holds at most 65536 entries, one always empty: no job can keep more in flight. */
export const MAX_IODEPTH = 65535;
/** Each clone is a stream the runner drives next to the others; hundreds already share 32 slots. */
export const MAX_NUMJOBS = 256;
/** Keeps bs × iodepth and buffer arithmetic exact in a Number and buffers allocatable. */
export const MAX_BS = 1 << 30;

/** The job fields fio defaults when a job is silent (name aside). */
export const JOB_DEFAULTS: Readonly<Omit<JobSpec, "name">> = {
  rw: "read",
  bs: 4096,
  iodepth: 1,
  size: null,
  offset: 0,
  numberIos: null,
  runtimeNs: null,
  rampTimeNs: 0,
  timeBased: false,
  rwmixread: 50,
  numjobs: 1,
  verify: false,
  randseed: FIO_DEFAULT_RANDSEED,
  stonewall: false,
  groupReporting: false,
};

// ---------------------------------------------------------------------------------------------
// Values: fio's "Parameter types" (int with unit suffixes and kb_base, time with unit suffixes).

/** Thrown by the value parsers; the caller adds the location and the option. */
class ValueError extends Error {}

type KbBase = 1000 | 1024;

const SIZE_HELP = "a whole number of bytes with an optional unit k, m, g, t, p (kb_base=1024: powers of 1024) or KiB, MiB...; e.g. 4096, 4k, 128k, 64m";
const COUNT_HELP = "a whole number, e.g. 32 (fio's unit suffixes such as 1k are accepted)";
const TIME_HELP = "a whole number with an optional unit d, h, m (minutes), s, ms, us; no unit = seconds, as in fio; e.g. 2ms, 500us";

const PREFIX_POWERS: Readonly<Record<string, number>> = { k: 1, m: 2, g: 3, t: 4, p: 5 };

/**
 * A fio int: decimal digits with an optional unit suffix (case-insensitive), or 0x hex digits. With
 * kb_base=1024 (fio's default) k/m/g/t/p (and kb, mb...) are powers of 1024 and the IEC forms
 * ki/kib, mi/mib... are powers of 1000 — fio's documented compatibility inversion; with kb_base=1000
 * it is the other way round. A `b` suffix means bytes. Percentages and zones are rejected here; the
 * caller words that error.
 */
export function parseFioSize(text: string, kbBase: KbBase = 1024): number {
  const raw = text.trim();
  let value: bigint;
  const hex = /^0x([0-9a-f]+)$/i.exec(raw);
  if (hex) {
    value = BigInt(`0x${hex[1]}`);
  } else {
    const m = /^(\d+)([a-z%]*)$/i.exec(raw);
    if (!m) throw new ValueError(/^\d*\.\d/.test(raw) ? `not a whole number (fio takes no fractions; write 1536k, not 1.5m)` : `not a size (${SIZE_HELP})`);
    const suffix = m[2].toLowerCase();
    if (suffix === "%") throw new ValueError("a percentage");
    if (suffix === "z") throw new ValueError("zones (fio's zonemode) are not modelled");
    value = BigInt(m[1]) * BigInt(sizeMultiplier(suffix, kbBase));
  }
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ValueError(`too large (more than 2^53 - 1)`);
  return Number(value);
}

function sizeMultiplier(suffix: string, kbBase: KbBase): number {
  if (suffix === "" || suffix === "b") return 1;
  const m = /^([kmgtp])(i?)(b?)$/.exec(suffix);
  if (!m) throw new ValueError(`not a size: unknown unit "${suffix}" (${SIZE_HELP})`);
  const iec = m[2] === "i";
  const base = iec ? (kbBase === 1024 ? 1000 : 1024) : kbBase;
  return base ** PREFIX_POWERS[m[1]];
}

/** True when `text` uses an IEC suffix (KiB, Mi...), which fio's default kb_base=1024 reads as a power of 1000. */
function usesIecSuffix(text: string): boolean {
  return /^\d+[kmgtp]ib?$/i.test(text.trim());
}

const TIME_UNIT_NS: Readonly<Record<string, number>> = {
  "": 1e9,
  s: 1e9,
  sec: 1e9,
  ms: 1e6,
  msec: 1e6,
  us: 1e3,
  usec: 1e3,
  m: 60e9,
  h: 3600e9,
  d: 86400e9,
};

/** A fio time: a whole number with an optional unit (no unit = seconds), in ns. */
export function parseFioTime(text: string): number {
  const m = /^(\d+)([a-z]*)$/i.exec(text.trim());
  if (!m) throw new ValueError(/^\d*\.\d/.test(text.trim()) ? `not a whole number (fio takes no fractions; write 1500us, not 1.5ms)` : `not a time (${TIME_HELP})`);
  const unit = TIME_UNIT_NS[m[2].toLowerCase()];
  if (unit === undefined) throw new ValueError(`not a time: unknown unit "${m[2]}" (${TIME_HELP})`);
  const ns = Number(m[1]) * unit;
  if (!Number.isSafeInteger(ns)) throw new ValueError("too large");
  return ns;
}

/** fio's bool-ish flags (`time_based`, `stonewall`...): bare means 1; a value must be 0 or 1. */
function parseFlag(raw: string | undefined): boolean {
  if (raw === undefined) return true;
  if (raw === "1") return true;
  if (raw === "0") return false;
  throw new ValueError("not 0 or 1 (a bare flag means 1)");
}

function parseCount(raw: string): number {
  try {
    return parseFioSize(raw);
  } catch (e) {
    if (e instanceof ValueError && e.message.startsWith("not a size")) throw new ValueError(`not a number (${COUNT_HELP})`);
    throw e;
  }
}

/** fio's `verify` methods: every one but `0` and `null` checks data here (we check our own pattern, not fio's header). */
const VERIFY_CHECKING = [
  "md5", "crc64", "crc32", "crc32c", "crc32c-intel", "crc16", "crc7", "sha1", "sha256", "sha512",
  "sha3-224", "sha3-256", "sha3-384", "sha3-512", "xxhash", "meta", "pattern", "pattern_hdr",
];

// ---------------------------------------------------------------------------------------------
// The option table.

/** Where a setting came from, for messages. */
interface Origin {
  /** Job file path, or undefined for the command line. */
  file?: string;
  line?: number;
}

interface Setting {
  /** The option as written (an alias such as `readwrite` stays `readwrite` in messages). */
  option: string;
  /** undefined for a bare flag. */
  raw: string | undefined;
  origin: Origin;
}

/** The JobSpec fields an option can set (rwmixread and rwmixwrite share one: the later wins, as in fio). */
type JobKey =
  | "name" | "rw" | "bs" | "iodepth" | "size" | "offset" | "number_ios" | "runtime" | "ramp_time"
  | "time_based" | "rwmix" | "numjobs" | "verify" | "randseed" | "stonewall" | "group_reporting" | "kb_base";

interface JobOption {
  key: JobKey;
  /** Takes no value (a bare flag); `verify` may also be bare. */
  flag?: boolean;
  bareAllowed?: boolean;
}

/** Options that set JobSpec fields, by every name fio accepts (aliases from fio's option table). */
const JOB_OPTIONS: Readonly<Record<string, JobOption>> = {
  name: { key: "name" },
  rw: { key: "rw" },
  readwrite: { key: "rw" },
  bs: { key: "bs" },
  blocksize: { key: "bs" },
  iodepth: { key: "iodepth" },
  size: { key: "size" },
  offset: { key: "offset" },
  fileoffset: { key: "offset" },
  number_ios: { key: "number_ios" },
  runtime: { key: "runtime" },
  timeout: { key: "runtime" },
  ramp_time: { key: "ramp_time" },
  time_based: { key: "time_based", flag: true },
  rwmixread: { key: "rwmix" },
  rwmixwrite: { key: "rwmix" },
  numjobs: { key: "numjobs" },
  verify: { key: "verify", bareAllowed: true },
  randseed: { key: "randseed" },
  stonewall: { key: "stonewall", flag: true },
  wait_for_previous: { key: "stonewall", flag: true },
  group_reporting: { key: "group_reporting", flag: true },
  kb_base: { key: "kb_base" },
};

/**
 * fio options that mean nothing for a simulated controller: accepted, with one notice each saying why.
 * The reason is what a fio user needs to know about the run, not a restatement of the option.
 */
const IGNORED_OPTIONS: Readonly<Record<string, string>> = (() => {
  const table: Record<string, string> = {};
  const add = (reason: string, names: string[]) => {
    for (const n of names) table[n] = reason;
  };
  add("the target is the SSD model's namespace, not a file", [
    "filename", "filename_format", "directory", "nrfiles", "openfiles", "file_service_type", "unique_filename",
    "opendir", "create_on_open", "create_serialize", "allow_file_create", "allow_mounted_write", "pre_read",
    "unlink", "unlink_each_loop", "lockfile", "create_only", "invalidate", "fadvise_hint", "fallocate",
    "overwrite", "filesize",
  ]);
  add("the controller is the I/O engine; there is no OS or host CPU in the path", [
    "ioengine", "direct", "buffered", "sync", "thread", "iomem", "mem", "iomem_align", "mem_align",
    "hugepage-size", "lockmem", "iodepth_batch", "iodepth_batch_submit", "iodepth_batch_complete",
    "iodepth_batch_complete_min", "iodepth_batch_complete_max", "iodepth_low", "registerfiles", "fixedbufs",
    "hipri", "sqthread_poll", "sqthread_poll_cpu", "cpus_allowed", "cpus_allowed_policy", "cpumask",
    "numa_cpu_nodes", "numa_mem_policy", "nice", "prio", "prioclass", "cmdprio_percentage", "gtod_reduce",
    "clocksource", "exitall", "exitall_on_error", "continue_on_error", "uid", "gid", "cgroup",
  ]);
  add("no flush commands are issued", ["fsync", "fdatasync", "end_fsync", "fsync_on_close", "end_syncfs", "sync_file_range", "write_barrier"]);
  add("offsets come from randseed; a run is always repeatable and random offsets may repeat", [
    "norandommap", "randrepeat", "allrandrepeat", "random_generator",
  ]);
  add("no log files are written (the JSON output has the figures)", [
    "write_bw_log", "write_lat_log", "write_iops_log", "write_hist_log", "log_avg_msec", "log_hist_msec",
    "log_hist_coarseness", "log_max_value", "log_offset", "log_compression", "log_store_compressed",
    "per_job_logs", "log_unix_epoch", "log_alternate_epoch", "log_prio", "log_entries", "bwavgtime", "iopsavgtime",
  ]);
  add("the report's statistics are fixed: completion latency with fio's default percentiles", [
    "disable_lat", "disable_clat", "disable_slat", "disable_bw_measurement", "clat_percentiles",
    "lat_percentiles", "slat_percentiles", "percentile_list", "significant_figures", "unit_base", "stats",
    "description",
  ]);
  add("reporting groups follow stonewall", ["new_group"]);
  add("data is the project's distinct-per-block pattern (sim/workload/pattern.ts)", [
    "buffer_pattern", "buffer_compress_percentage", "buffer_compress_chunk", "dedupe_percentage",
    "refill_buffers", "scramble_buffers", "zero_buffers",
  ]);
  add("verify checks the project's own pattern in every read, not fio's header", [
    "verify_pattern", "verify_interval", "verify_offset", "verify_fatal", "verify_dump", "verify_async",
    "verify_async_cpus", "verify_backlog", "verify_backlog_batch", "verify_state_save", "verify_state_load",
    "do_verify", "experimental_verify", "verify_header_seed", "verify_write_sequence",
  ]);
  return table;
})();

/** fio options that would change the workload in a way the runner does not model: an error, not a silent difference. */
const UNSUPPORTED_OPTIONS: Readonly<Record<string, string>> = (() => {
  const table: Record<string, string> = {};
  const add = (reason: string, names: string[]) => {
    for (const n of names) table[n] = reason;
  };
  add("one block size per job", ["bsrange", "blocksize_range", "bssplit", "blocksize_unaligned", "bs_unaligned", "bs_is_seq_rand", "blockalign", "ba"]);
  add("no rate limits or think time", [
    "rate", "rate_iops", "rate_min", "rate_iops_min", "rate_process", "rate_ignore_thinktime", "rate_cycle",
    "thinktime", "thinktime_spin", "thinktime_blocks", "thinktime_blocks_type", "thinktime_iotime",
    "latency_target", "latency_window", "latency_percentile", "latency_run", "flow", "flow_id", "flow_sleep",
  ]);
  add("offsets are sequential or uniform random over [offset, offset+size)", [
    "random_distribution", "percentage_random", "rw_sequencer", "offset_increment", "offset_align",
    "zonemode", "zonesize", "zonerange", "zoneskip", "zonecapacity", "random_sequence_stride",
  ]);
  add("size, number_ios and runtime bound the job", ["loops", "io_size", "io_limit", "fill_device", "fill_fs", "size_increment", "ramp_size", "startdelay", "exit_what", "wait_for"]);
  add("no trims, syncs or replays", ["trim_percentage", "trim_verify_zero", "trim_backlog", "trim_backlog_batch", "read_iolog", "write_iolog", "replay_no_stall", "replay_redirect", "replay_align", "replay_scale", "iolog"]);
  add("reports are per direction", ["unified_rw_reporting", "rwmixcycle", "steadystate", "ss", "steadystate_duration", "ss_dur", "steadystate_ramp_time", "ss_ramp"]);
  add("verification happens on every read", ["verify_only", "verify_mode"]);
  return table;
})();

// ---------------------------------------------------------------------------------------------
// Parsing state.

type Layer = Map<JobKey, Setting>;

interface PendingJob {
  name: string;
  /** Where the job starts (its section header, or its `--name`), for job-level messages. */
  origin: Origin;
  /** The file's [global] settings in force when the job's section started. */
  globals: Layer;
  own: Layer;
}

function where(origin: Origin): string {
  return origin.file === undefined ? "command line" : `${origin.file}:${origin.line}`;
}

/** `bs=4q`, or the bare flag. */
function optionText(s: Pick<Setting, "option" | "raw">): string {
  return s.raw === undefined ? s.option : `${s.option}=${s.raw}`;
}

/** `job.fio:12: bs=4q` or `--bs=4q`: the start of every message about one setting. */
function describeSetting(s: Pick<Setting, "option" | "raw" | "origin">): string {
  const text = optionText(s);
  return s.origin.file === undefined ? `--${text}` : `${s.origin.file}:${s.origin.line}: ${text}`;
}

function settingError(s: Pick<Setting, "option" | "raw" | "origin">, reason: string): FioJobError {
  return new FioJobError(`${describeSetting(s)}: ${reason}`, s.origin.file === undefined ? `--${s.option}` : where(s.origin), s.option, s.raw);
}

/** `(job.fio:3)` or `(--bs=8k)`: where another setting involved in a message came from. */
function cite(s: Setting): string {
  return s.origin.file === undefined ? `(${describeSetting(s)})` : `(${where(s.origin)})`;
}

class Notices {
  readonly lines: string[] = [];
  private readonly seen = new Set<string>();
  /** One line per key: an ignored option is named once, where it first appears. */
  add(key: string, line: string): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.lines.push(line);
  }
}

/** Levenshtein distance, for "did you mean" on unknown options. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

function suggestion(option: string, systemOptions: Readonly<Record<string, SystemOptionArity>>): string {
  const names = [...Object.keys(JOB_OPTIONS), ...Object.keys(systemOptions)];
  let best: string | undefined;
  let bestDistance = 3;
  for (const n of names) {
    const d = editDistance(option, n);
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : `; did you mean ${best}?`;
}

/**
 * Checks one option as written and stores it in `layer` (or records a notice for an ignored one). The
 * value is checked here, where its location is known, even if a later layer overrides it (fio does the
 * same); it is converted again when the job is resolved, once kb_base is known.
 */
function applyOption(
  option: string,
  raw: string | undefined,
  origin: Origin,
  layer: Layer,
  notices: Notices,
  systemOptions: Readonly<Record<string, SystemOptionArity>>,
): void {
  const setting: Setting = { option, raw, origin };
  const ignored = IGNORED_OPTIONS[option];
  if (ignored !== undefined) {
    notices.add(`ignored:${option}`, `${describeSetting(setting)}: ignored (${ignored})`);
    return;
  }
  const unsupported = UNSUPPORTED_OPTIONS[option];
  if (unsupported !== undefined) throw settingError(setting, `fio's ${option} is not supported by nvme-host (${unsupported})`);
  const spec = JOB_OPTIONS[option];
  if (spec === undefined) {
    throw settingError(setting, `unknown option (not a fio job option nvme-host knows${origin.file === undefined ? ", nor a system option" : ""})${suggestion(option, systemOptions)}`);
  }
  if (raw === undefined && !spec.flag && !spec.bareAllowed) throw settingError(setting, "needs a value");
  if (raw !== undefined && raw === "") throw settingError(setting, spec.flag ? "empty value (write the bare flag, or 0 or 1)" : "needs a value");
  // Syntax check now, with fio's default kb_base (which cannot turn a valid size invalid).
  convert(spec.key, setting, 1024, notices, false);
  layer.set(spec.key, setting);
}

/**
 * Converts a setting to its JobSpec value. `notify` is false for the early syntax check, so a notice
 * about a value is given once, for the value the job actually uses.
 */
function convert(key: JobKey, s: Setting, kbBase: KbBase, notices: Notices, notify: boolean): unknown {
  const raw = s.raw;
  try {
    switch (key) {
      case "name":
        return raw;
      case "rw":
        return parseRw(raw ?? "");
      case "bs":
        return parseBs(s, raw ?? "", kbBase, notices, notify);
      case "size":
      case "offset": {
        const v = parseSizeOption(raw ?? "", kbBase);
        noteIec(s, kbBase, notices, notify);
        return v;
      }
      case "iodepth":
      case "numjobs":
      case "number_ios":
      case "randseed":
        return parseCount(raw ?? "");
      case "rwmix": {
        const v = parseCount(raw ?? "");
        if (v > 100) throw new ValueError("more than 100 (a percentage)");
        return s.option === "rwmixwrite" ? 100 - v : v;
      }
      case "runtime":
      case "ramp_time": {
        const v = parseFioTime(raw ?? "");
        if (notify && /^\d+m$/i.test((raw ?? "").trim()) && v > 0) {
          notices.add(`minutes:${where(s.origin)}:${s.option}`, `${describeSetting(s)}: fio reads m as minutes (${v / 1e9} s of simulated time); write ${(raw ?? "").trim().slice(0, -1)}ms for milliseconds`);
        }
        return v;
      }
      case "time_based":
      case "stonewall":
      case "group_reporting":
        return parseFlag(raw);
      case "verify":
        return parseVerify(s, notices, notify);
      case "kb_base":
        if (raw === "1024") return 1024;
        if (raw === "1000") return 1000;
        throw new ValueError("not 1000 or 1024");
    }
  } catch (e) {
    if (e instanceof ValueError) throw settingError(s, e.message);
    throw e;
  }
}

function parseRw(raw: string): RwMode {
  const [mode, modifier] = raw.split(":", 2);
  const canonical = mode === "rw" ? "readwrite" : mode;
  if (!(RW_MODES as readonly string[]).includes(canonical)) {
    if (["trim", "randtrim", "trimwrite", "randtrimwrite"].includes(mode)) throw new ValueError("trims are not modelled (read, write, randread, randwrite, rw/readwrite, randrw)");
    throw new ValueError("not an I/O pattern (read, write, randread, randwrite, rw/readwrite, randrw)");
  }
  if (modifier !== undefined) throw new ValueError(`fio's offset modifier ":${modifier}" is not supported (offsets are sequential or uniform random)`);
  return canonical as RwMode;
}

/** `bs=4k`, or fio's per-direction `bs=read,write[,trim]` when reads and writes agree (one block size per job here). */
function parseBs(s: Setting, raw: string, kbBase: KbBase, notices: Notices, notify: boolean): number {
  const parts = raw.split(",");
  if (parts.length > 3) throw new ValueError("more than three comma-separated sizes (fio: read,write,trim)");
  // An empty part is fio's default; a missing write part repeats the read size (fio: "a value not terminated in a comma applies to subsequent types").
  const read = parts[0] === "" ? JOB_DEFAULTS.bs : parseSizeOption(parts[0], kbBase);
  const write = parts.length === 1 ? read : parts[1] === "" ? JOB_DEFAULTS.bs : parseSizeOption(parts[1], kbBase);
  if (parts.length === 3 && parts[2] !== "") parseSizeOption(parts[2], kbBase); // trims are never issued, but a bad size is still an error
  if (read !== write) throw new ValueError(`different read (${read}) and write (${write}) block sizes are not supported (one block size per job)`);
  if (read === 0) throw new ValueError("must be more than 0");
  if (read > MAX_BS) throw new ValueError(`more than ${MAX_BS} bytes (1 GiB)`);
  noteIec(s, kbBase, notices, notify);
  return read;
}

function parseSizeOption(raw: string, kbBase: KbBase): number {
  try {
    return parseFioSize(raw, kbBase);
  } catch (e) {
    if (e instanceof ValueError && e.message === "a percentage") {
      throw new ValueError("percentages of the namespace are not supported (a job holds bytes); give a size such as 64m");
    }
    throw e;
  }
}

/** fio's kb_base=1024 reads KiB/MiB as powers of 1000: follow fio, but say so, since 4KiB = 4000 is rarely meant. */
function noteIec(s: Setting, kbBase: KbBase, notices: Notices, notify: boolean): void {
  if (!notify || kbBase !== 1024 || s.raw === undefined) return;
  if (!s.raw.split(",").some(usesIecSuffix)) return;
  notices.add(
    `iec:${where(s.origin)}:${s.option}`,
    `${describeSetting(s)}: with fio's default kb_base=1024, KiB/MiB/GiB mean powers of 1000 (fio's compatibility rule); write k/m/g for powers of 1024, or set kb_base=1000`,
  );
}

function parseVerify(s: Setting, notices: Notices, notify: boolean): boolean {
  const raw = s.raw;
  if (raw === undefined) {
    if (notify) notices.add(`verify-bare:${where(s.origin)}`, `${describeSetting(s)}: fio wants a method (e.g. verify=crc32c); taken as "check every read"`);
    return true;
  }
  if (raw === "0" || raw === "none") return false;
  if (raw === "null") {
    if (notify) notices.add(`verify-null:${where(s.origin)}`, `${describeSetting(s)}: fio's null method only pretends to verify; reads are not checked`);
    return false;
  }
  if (VERIFY_CHECKING.includes(raw)) return true;
  throw new ValueError(`not a verify method (0 or none to disable; ${VERIFY_CHECKING.join(", ")} or null)`);
}

/** fio's `${VAR}` expansion (job files only, right of `=`); keywords and arithmetic are host-specific or unsupported. */
function expandValue(raw: string, origin: Origin, option: string, env: Readonly<Record<string, string | undefined>>, notices: Notices): string {
  const expanded = raw.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") {
      notices.add(`env:${name}`, `${where(origin)}: \${${name}} is not set: expands to an empty value (as in fio)`);
      return "";
    }
    return v;
  });
  const keyword = /\$(pagesize|mb_memory|ncpus)\b/.exec(expanded);
  if (keyword) throw settingError({ option, raw, origin }, `fio's $${keyword[1]} describes the host running fio; give a number`);
  if (expanded.startsWith("(")) throw settingError({ option, raw, origin }, "fio's arithmetic expressions are not supported; give a number");
  return expanded;
}

// ---------------------------------------------------------------------------------------------
// Job files.

function parseFile(file: JobFileInput, env: Readonly<Record<string, string | undefined>>, notices: Notices, systemOptions: Readonly<Record<string, SystemOptionArity>>): PendingJob[] {
  const jobs: PendingJob[] = [];
  // The [global] settings so far: a job snapshots them when its section starts, so a later [global]
  // changes only the jobs after it (fio: "a job is only affected by a global section residing above it").
  let globals: Layer = new Map();
  let current: { kind: "global" } | { kind: "job"; job: PendingJob } | undefined;
  const lines = file.text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  lines.forEach((text, index) => {
    const origin: Origin = { file: file.path, line: index + 1 };
    // fio's rule: everything from the first ';' or '#' on a line is a comment, wherever it is.
    const cut = text.search(/[;#]/);
    const line = (cut < 0 ? text : text.slice(0, cut)).trim();
    if (line === "") return;
    if (line.startsWith("[")) {
      const m = /^\[([^\[\]]*)\]$/.exec(line);
      if (!m) throw new FioJobError(`${where(origin)}: ${line}: not a section header (write [name] alone on the line)`, where(origin));
      const name = m[1].trim();
      if (name === "") throw new FioJobError(`${where(origin)}: []: a section needs a name`, where(origin));
      if (name === "global") {
        // A copy, so options of this [global] do not reach jobs that started before it.
        globals = new Map(globals);
        current = { kind: "global" };
        return;
      }
      if (jobs.some((j) => j.name === name)) {
        notices.add(`dup:${name}:${index}`, `${where(origin)}: [${name}]: a second job named "${name}"; both run and are reported separately (as in fio)`);
      }
      const job: PendingJob = { name, origin, globals, own: new Map() };
      jobs.push(job);
      current = { kind: "job", job };
      return;
    }
    if (current === undefined) {
      throw new FioJobError(`${where(origin)}: ${line}: option outside of a [section] (put it under [global] or a job's [name])`, where(origin));
    }
    if (/^include(\s|$)/.test(line)) {
      throw new FioJobError(`${where(origin)}: ${line}: fio's include is not supported; put the options in this file`, where(origin));
    }
    const eq = line.indexOf("=");
    const option = (eq < 0 ? line : line.slice(0, eq)).trim();
    if (option === "" || /\s/.test(option)) {
      throw new FioJobError(`${where(origin)}: ${line}: not an option (write option=value or a bare flag)`, where(origin));
    }
    const raw = eq < 0 ? undefined : expandValue(line.slice(eq + 1).trim(), origin, option, env, notices);
    const layer = current.kind === "global" ? globals : current.job.own;
    applyOption(option, raw, origin, layer, notices, systemOptions);
  });
  if (jobs.length === 0) {
    throw new FioJobError(`${file.path}: no job sections (only [global] or nothing): add a [name] section per job`, file.path);
  }
  return jobs;
}

// ---------------------------------------------------------------------------------------------
// The command line.

interface CommandLine {
  /** Without a job file: the command line's jobs (options before the first `--name` are their globals). */
  jobs: PendingJob[];
  /** With a job file: the command line's job options, which override the file's [global]. */
  overrides: Layer;
  systemArgs: string[];
}

function parseArgs(
  args: readonly string[],
  withFile: boolean,
  notices: Notices,
  systemOptions: Readonly<Record<string, SystemOptionArity>>,
): CommandLine {
  const jobs: PendingJob[] = [];
  const systemArgs: string[] = [];
  let globals: Layer = new Map();
  let current: PendingJob | undefined;
  let named = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      systemArgs.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith("--")) {
      systemArgs.push(arg); // a positional or a short option: the CLI's
      continue;
    }
    const eq = arg.indexOf("=");
    const option = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let raw = eq < 0 ? undefined : arg.slice(eq + 1);
    const system = systemOptions[option];
    if (system !== undefined) {
      systemArgs.push(arg);
      if (system === "value" && raw === undefined && i + 1 < args.length) systemArgs.push(args[++i]);
      continue;
    }
    const spec = JOB_OPTIONS[option];
    // getopt's rule for options with a required value: `--bs 4k` takes the next argument. A bare
    // `--verify` followed by another option stays bare.
    if (raw === undefined && spec !== undefined && !spec.flag && i + 1 < args.length && !args[i + 1].startsWith("--")) {
      raw = args[++i];
    }
    const origin: Origin = {};
    if (option === "name") {
      if (raw === undefined || raw === "") throw settingError({ option, raw, origin }, "needs a value (the job's name)");
      if (withFile) {
        throw settingError({ option, raw, origin }, "jobs come from the job file; options without --name override its [global]");
      }
      named = true;
      if (raw === "global") {
        globals = new Map(globals);
        current = undefined;
        continue;
      }
      current = { name: raw, origin: { file: undefined }, globals, own: new Map() };
      jobs.push(current);
      continue;
    }
    applyOption(option, raw, origin, current === undefined ? globals : current.own, notices, systemOptions);
  }
  if (!withFile && !named) {
    // No --name: the options are the one job's own.
    jobs.push({ name: "job", origin: {}, globals: new Map(), own: globals });
  } else if (!withFile && jobs.length === 0) {
    throw new FioJobError(`--name=global: sets defaults only; add --name=JOB for each job`, "--name=global", "name", "global");
  }
  return { jobs, overrides: withFile ? globals : new Map(), systemArgs };
}

// ---------------------------------------------------------------------------------------------
// Resolution.

function jobWhere(job: PendingJob): string {
  return job.origin.file === undefined ? (job.name === "job" ? "command line" : `--name=${job.name}`) : `${where(job.origin)}: [${job.name}]`;
}

function resolveJob(job: PendingJob, overrides: Layer, notices: Notices): JobSpec {
  // Later layers override earlier ones (the precedence in the header comment).
  const merged: Layer = new Map([...job.globals, ...overrides, ...job.own]);
  for (const [key, s] of overrides) {
    const own = job.own.get(key);
    if (own !== undefined) {
      notices.add(`shadow:${job.name}:${key}`, `${describeSetting(s)}: job [${job.name}] sets ${optionText(own)} ${cite(own)}, which wins`);
    }
  }
  const kbSetting = merged.get("kb_base");
  const kbBase: KbBase = kbSetting === undefined ? 1024 : (convert("kb_base", kbSetting, 1024, notices, true) as KbBase);
  const value = <T>(key: JobKey, fallback: T): T => {
    const s = merged.get(key);
    return s === undefined ? fallback : (convert(key, s, kbBase, notices, true) as T);
  };
  const zeroIsNone = (v: number): number | null => (v === 0 ? null : v); // fio: 0 = not set
  const spec: JobSpec = {
    name: value("name", job.name),
    rw: value("rw", JOB_DEFAULTS.rw),
    bs: value("bs", JOB_DEFAULTS.bs),
    iodepth: value("iodepth", JOB_DEFAULTS.iodepth),
    size: zeroIsNone(value<number>("size", 0)),
    offset: value("offset", JOB_DEFAULTS.offset),
    numberIos: zeroIsNone(value<number>("number_ios", 0)),
    runtimeNs: zeroIsNone(value<number>("runtime", 0)),
    rampTimeNs: value("ramp_time", JOB_DEFAULTS.rampTimeNs),
    timeBased: value("time_based", JOB_DEFAULTS.timeBased),
    rwmixread: value("rwmix", JOB_DEFAULTS.rwmixread),
    numjobs: value("numjobs", JOB_DEFAULTS.numjobs),
    verify: value("verify", JOB_DEFAULTS.verify),
    randseed: value("randseed", JOB_DEFAULTS.randseed),
    stonewall: value("stonewall", JOB_DEFAULTS.stonewall),
    groupReporting: value("group_reporting", JOB_DEFAULTS.groupReporting),
  };
  validateJob(spec, merged, job);
  return spec;
}

/** The checks that need no SSD: ranges, and options that contradict each other. */
function validateJob(spec: JobSpec, merged: Layer, job: PendingJob): void {
  const fail = (key: JobKey, reason: string): never => {
    const s = merged.get(key);
    if (s === undefined) throw new FioJobError(`${jobWhere(job)}: ${reason}`, jobWhere(job));
    throw settingError(s, reason);
  };
  if (spec.name === "") fail("name", "needs a value");
  if (spec.iodepth < 1) fail("iodepth", "must be at least 1");
  if (spec.iodepth > MAX_IODEPTH) fail("iodepth", `more than ${MAX_IODEPTH} (an NVMe I/O queue holds at most 65535 commands)`);
  if (spec.numjobs < 1) fail("numjobs", "must be at least 1");
  if (spec.numjobs > MAX_NUMJOBS) fail("numjobs", `more than ${MAX_NUMJOBS} clones`);
  if (!Number.isSafeInteger(spec.randseed)) fail("randseed", "too large");
  if (spec.size !== null && spec.size < spec.bs) {
    const bs = merged.get("bs");
    fail("size", `smaller than one block (bs=${spec.bs}${bs === undefined ? ", fio's default" : ` ${cite(bs)}`}) in job ${spec.name}`);
  }
  if (spec.timeBased && spec.runtimeNs === null) {
    fail("time_based", `needs runtime (it loops over the region until runtime has passed) in job ${spec.name}`);
  }
}

/** Parses a job file and/or command-line job options into JobSpecs (see the header comment for the rules). */
export function parseJobs(input: ParseJobsInput): ParsedJobs {
  const notices = new Notices();
  const env = input.env ?? {};
  const systemOptions = input.systemOptions ?? DEFAULT_SYSTEM_OPTIONS;
  const cli = parseArgs(input.args ?? [], input.file !== undefined, notices, systemOptions);
  const pending = input.file !== undefined ? parseFile(input.file, env, notices, systemOptions) : cli.jobs;
  const jobs = pending.map((job) => resolveJob(job, cli.overrides, notices));
  return { jobs, notices: notices.lines, systemArgs: cli.systemArgs };
}

// ---------------------------------------------------------------------------------------------
// The runner's checks, which need the namespace.

export interface NamespaceGeometry {
  /** Bytes per logical block of the namespace. */
  lbaBytes: number;
  /** Bytes of the namespace (nsze × lbaBytes). */
  capacityBytes: number;
}

export interface JobRegion {
  /** First byte the job addresses. */
  offsetBytes: number;
  /** Bytes of the region: `size`, or to the end of the namespace. */
  regionBytes: number;
}

/**
 * The checks that need the namespace (a runner calls this before starting a job): the block size and
 * offset are whole LBAs and the region lies inside the namespace and holds at least one block.
 * Throws FioJobError naming the job, the option and the value; returns the region the job addresses.
 */
export function checkJobAgainstNamespace(job: JobSpec, ns: NamespaceGeometry): JobRegion {
  const fail = (option: string, value: number, reason: string): never => {
    throw new FioJobError(`job ${job.name}: ${option}=${value}: ${reason}`, `job ${job.name}`, option, String(value));
  };
  const cap = ns.capacityBytes;
  if (job.bs % ns.lbaBytes !== 0) fail("bs", job.bs, `not a multiple of the namespace's LBA size (${ns.lbaBytes} bytes)`);
  if (job.offset % ns.lbaBytes !== 0) fail("offset", job.offset, `not a multiple of the namespace's LBA size (${ns.lbaBytes} bytes)`);
  if (job.offset >= cap) fail("offset", job.offset, `at or beyond the end of the namespace (${cap} bytes)`);
  const regionBytes = job.size ?? cap - job.offset;
  if (job.offset + regionBytes > cap) {
    fail("size", regionBytes, `offset ${job.offset} + size ends at ${job.offset + regionBytes}, beyond the namespace (${cap} bytes)`);
  }
  if (regionBytes < job.bs) fail("bs", job.bs, `larger than the region (${regionBytes} bytes from offset ${job.offset})`);
  return { offsetBytes: job.offset, regionBytes };
}
