// The `--ssd PRESET|FILE.json` argument of the command line (DESIGN.md, CLI): a preset name, or a JSON
// object of SsdOptions fields merged over a preset (`{"preset": "consumerSsd", "mdts": 5}`) that may
// carry `"faults": [...]`, each entry one of the SSD model's fault-injection calls with its arguments.
// Everything is checked before a system is built: an unknown field, a bad value or a bad fault is an
// SsdSpecError naming the field, the value and the file.
import { readFileSync } from "node:fs";
import type { CommandMatch, MmioReadFailure } from "../nvme/faults.ts";
import { defaultSsdOptions, resolveSsdOptions, type NamespaceOptions, type SsdOptions } from "../nvme/options.ts";
import type { NvmeSsd } from "../nvme/ssd.ts";
import type { NvmeStatus } from "../nvme/status.ts";
import { timingPresets, type TimingParams, type TimingPresetName } from "../nvme/timing.ts";

/** One fault to inject, as written in a spec file (`inject` names the model's call). */
export type SsdFault =
  | { inject: "injectStatus"; match: CommandMatch; status: NvmeStatus; count: number }
  | { inject: "dropCompletion"; match: CommandMatch; count: number }
  | { inject: "poisonReadData"; match: CommandMatch; count: number }
  | { inject: "latencySpike"; match: CommandMatch; extraCycles: number; count: number }
  | { inject: "failMmioReads"; status: MmioReadFailure; count: number }
  /** Matching commands set CSTS.CFS instead of executing (the SSD goes fatal mid-run). */
  | { inject: "fatalOnCommand"; match: CommandMatch; count: number }
  /** Matching commands' PRP1 moved by `offset` bytes (a corrupted PRP: DMA outside the host's map). */
  | { inject: "misdirectData"; match: CommandMatch; offset: number; count: number }
  /** The next `count` I/O SQ tail doorbells ignored (default: all until a controller reset). */
  | { inject: "stopFetching"; count: number }
  | { inject: "fatalOnEnable"; count: number }
  | { inject: "neverReady"; count: number }
  /** The next `count` sanitize operations (block erase, overwrite, crypto erase) end failed (SSTAT failed, Sanitize Failed mode). */
  | { inject: "failSanitize"; count: number }
  /** The link to this SSD never trains (a dead or absent device); a link parameter, not an SSD call. */
  | { inject: "noLink" };

export type SsdFaultKind = SsdFault["inject"];

/** What `--ssd` describes: the SSD's options (a preset's plus the file's) and the faults to inject. */
export interface SsdSpec {
  /** Where it came from (the preset name or the file), for messages. */
  source: string;
  preset: TimingPresetName;
  options: Partial<SsdOptions>;
  faults: SsdFault[];
}

export class SsdSpecError extends Error {
  override name = "SsdSpecError";
}

export const SSD_PRESETS = Object.keys(timingPresets) as TimingPresetName[];
const DEFAULT_PRESET: TimingPresetName = "fastSsd";

/** The options a preset stands for: today a preset is a timing model (sim/nvme/timing.ts). */
export function presetOptions(preset: TimingPresetName): Partial<SsdOptions> {
  return { timing: preset };
}

/**
 * `--ssd` as given on the command line: a preset name, or a JSON file. `readFile` is for tests.
 * Throws SsdSpecError naming the problem.
 */
export function parseSsdArgument(argument: string | undefined, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): SsdSpec {
  if (argument === undefined) return { source: DEFAULT_PRESET, preset: DEFAULT_PRESET, options: presetOptions(DEFAULT_PRESET), faults: [] };
  if (isPreset(argument)) return { source: argument, preset: argument, options: presetOptions(argument), faults: [] };
  let text: string;
  try {
    text = readFile(argument);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new SsdSpecError(`--ssd ${argument}: not a preset (${SSD_PRESETS.join(", ")}) and not a readable JSON file (${why})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SsdSpecError(`${argument}: not valid JSON (${(error as Error).message})`);
  }
  return parseSsdSpec(value, argument);
}

/** A spec object (parsed JSON); `source` names it in errors. */
export function parseSsdSpec(value: unknown, source = "<ssd spec>"): SsdSpec {
  const fail = (field: string, got: unknown, why: string): never => {
    throw new SsdSpecError(`${source}: field "${field}" = ${show(got)}: ${why}`);
  };
  if (!isRecord(value)) throw new SsdSpecError(`${source}: an SSD spec is a JSON object of SsdOptions fields, not ${show(value)}`);
  let preset = DEFAULT_PRESET;
  if ("preset" in value) {
    if (!isPreset(value.preset)) fail("preset", value.preset, `not a preset (${SSD_PRESETS.join(", ")})`);
    preset = value.preset as TimingPresetName;
  }
  const options: Partial<SsdOptions> = presetOptions(preset);
  const fields = options as Record<string, unknown>;
  for (const [key, field] of Object.entries(value)) {
    if (key === "preset" || key === "faults") continue;
    const check = FIELD_CHECKS[key as keyof SsdOptions];
    if (check === undefined) fail(key, field, `unknown field (SsdOptions fields: ${Object.keys(FIELD_CHECKS).join(", ")}; also "preset", "faults")`);
    const why = check(field);
    if (why !== undefined) fail(key, field, why);
    fields[key] = field;
  }
  try {
    resolveSsdOptions(options);
  } catch (error) {
    // The model's own check of combinations (e.g. readyDelayCycles against capTimeout).
    throw new SsdSpecError(`${source}: ${(error as Error).message.replace(/^NvmeSsd option /, "field ")}`);
  }
  const faults = value.faults === undefined ? [] : parseFaults(value.faults, source);
  return { source, preset, options, faults };
}

/** The SSD-side faults of a spec, applied to a model (noLink is a link parameter: see linkFaults). */
export function applySsdFaults(ssd: NvmeSsd, faults: readonly SsdFault[]): void {
  const injector = ssd.faults;
  for (const fault of faults) {
    switch (fault.inject) {
      case "injectStatus":
        injector.injectStatus(fault.match, fault.status, fault.count);
        break;
      case "dropCompletion":
        injector.dropCompletion(fault.match, fault.count);
        break;
      case "poisonReadData":
        injector.poisonReadData(fault.match, fault.count);
        break;
      case "latencySpike":
        injector.latencySpike(fault.match, fault.extraCycles, fault.count);
        break;
      case "failMmioReads":
        injector.failMmioReads(fault.status, fault.count);
        break;
      case "fatalOnCommand":
        injector.fatalOnCommand(fault.match, fault.count);
        break;
      case "misdirectData":
        injector.misdirectData(fault.match, BigInt(fault.offset), fault.count);
        break;
      case "stopFetching":
        injector.stopFetching(fault.count);
        break;
      case "fatalOnEnable":
        injector.fatalOnEnable(fault.count);
        break;
      case "neverReady":
        injector.neverReady(fault.count);
        break;
      case "failSanitize":
        injector.failSanitize(fault.count);
        break;
      case "noLink":
        break;
    }
  }
}

/** Whether the faults take the link away. */
export function hasNoLinkFault(faults: readonly SsdFault[]): boolean {
  return faults.some((f) => f.inject === "noLink");
}

// ---- checks ------------------------------------------------------------------------------------

type Check = (value: unknown) => string | undefined;

const uint = (max: number): Check => (v) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= max ? undefined : `must be an integer 0..${max}`;
const oneOf = (allowed: readonly unknown[]): Check => (v) => (allowed.includes(v) ? undefined : `must be one of ${allowed.map(show).join(", ")}`);
const text: Check = (v) => (typeof v === "string" ? undefined : "must be a string");
const flag: Check = (v) => (typeof v === "boolean" ? undefined : "must be true or false");
const PAYLOAD_SIZES = [128, 256, 512, 1024, 2048, 4096];

const FIELD_CHECKS: { [K in keyof SsdOptions]: Check } = {
  bdf: uint(0xffff),
  vendorId: uint(0xffff),
  deviceId: uint(0xffff),
  subsystemVendorId: uint(0xffff),
  subsystemId: uint(0xffff),
  bar0Size: (v) => (v === 0 || (typeof v === "number" && Number.isSafeInteger(v) && v >= 16384 && (v & (v - 1)) === 0 && v <= 2 ** 30) ? undefined : "must be 0 (natural size) or a power of two from 16384 to 2^30"),
  bar0AddressBits: oneOf([32, 64]),
  classCode: uint(0xffffff),
  maxPayloadSupported: oneOf(PAYLOAD_SIZES),
  linkSpeed: oneOf([1, 2, 3]),
  linkWidth: oneOf([1, 2, 4, 8, 12, 16, 32]),
  msixVectors: uint(2048),
  crsCycles: uint(Number.MAX_SAFE_INTEGER),
  namespaces: checkNamespaces,
  maxNamespaces: uint(0xffffffff),
  ioQueuePairs: uint(0xfffe),
  mqes: uint(0xffff),
  mdts: uint(20),
  capTimeout: uint(255),
  mpsmin: uint(15),
  mpsmax: uint(15),
  dstrd: uint(15),
  readyDelayCycles: uint(Number.MAX_SAFE_INTEGER),
  shutdownDelayCycles: uint(Number.MAX_SAFE_INTEGER),
  timing: checkTiming,
  awun: uint(0xffff),
  awupf: uint(0xffff),
  indirectionUnitBytes: uint(2 ** 30),
  sqeFetchBurst: uint(0xffff),
  maxOutstandingCommands: uint(0xffffff),
  transmitLookaheadTlps: uint(0xffff),
  completionTimeoutCycles: uint(Number.MAX_SAFE_INTEGER),
  serial: text,
  model: text,
  firmware: text,
  lbaFormats: (v) =>
    Array.isArray(v) && v.length >= 1 && v.length <= 16 && v.every((size) => size === 512 || size === 4096) ? undefined : "must be a list of 1..16 LBA data sizes, each 512 or 4096",
  elpe: uint(255),
  formatNvm: flag,
  formatAppliesToAllNamespaces: flag,
  secureEraseAppliesToAllNamespaces: flag,
  formatCryptoErase: flag,
  sanitizeBlockErase: flag,
  sanitizeOverwrite: flag,
  sanitizeCryptoErase: flag,
  sanitizeNoDeallocateInhibited: flag,
};

function checkNamespaces(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return "must be a non-empty list of {lbaSize, capacityBlocks, nawun?, nawupf?, nabspf?, nabo?}";
  for (const [i, ns] of value.entries()) {
    if (!isRecord(ns)) return `entry ${i} is not an object`;
    const known: (keyof NamespaceOptions)[] = ["lbaSize", "capacityBlocks", "nawun", "nawupf", "nabspf", "nabo"];
    const extra = Object.keys(ns).filter((k) => !known.includes(k as keyof NamespaceOptions));
    if (extra.length > 0) return `entry ${i} has unknown field(s) ${extra.join(", ")} (known: ${known.join(", ")})`;
    if (ns.lbaSize !== 512 && ns.lbaSize !== 4096) return `entry ${i}: lbaSize must be 512 or 4096`;
    if (typeof ns.capacityBlocks !== "number" || !Number.isSafeInteger(ns.capacityBlocks) || ns.capacityBlocks < 1) return `entry ${i}: capacityBlocks must be a positive integer`;
    for (const k of ["nawun", "nawupf", "nabspf", "nabo"] as const) {
      if (ns[k] !== undefined && uint(0xffff)(ns[k]) !== undefined) return `entry ${i}: ${k} must be an integer 0..65535`;
    }
  }
  return undefined;
}

function checkTiming(value: unknown): string | undefined {
  if (isPreset(value)) return undefined;
  if (!isRecord(value)) return `must be a preset name (${SSD_PRESETS.join(", ")}) or an object of timing parameters`;
  const known = Object.keys(timingPresets.fastSsd) as (keyof TimingParams)[];
  const missing = known.filter((k) => !(k in value));
  const extra = Object.keys(value).filter((k) => !known.includes(k as keyof TimingParams));
  if (extra.length > 0) return `unknown timing parameter(s) ${extra.join(", ")} (known: ${known.join(", ")})`;
  if (missing.length > 0) return `missing timing parameter(s) ${missing.join(", ")}`;
  for (const k of known) {
    const v = value[k];
    if (typeof v !== "number" || !(v >= 0) || (k !== "mediaBytesPerCycle" && !Number.isSafeInteger(v))) return `timing.${k} must be a non-negative number`;
  }
  return undefined;
}

const FAULT_FIELDS: Record<SsdFaultKind, readonly string[]> = {
  injectStatus: ["match", "status", "count"],
  dropCompletion: ["match", "count"],
  poisonReadData: ["match", "count"],
  latencySpike: ["match", "extraCycles", "count"],
  failMmioReads: ["status", "count"],
  fatalOnCommand: ["match", "count"],
  misdirectData: ["match", "offset", "count"],
  stopFetching: ["count"],
  fatalOnEnable: ["count"],
  neverReady: ["count"],
  failSanitize: ["count"],
  noLink: [],
};

function parseFaults(value: unknown, source: string): SsdFault[] {
  if (!Array.isArray(value)) throw new SsdSpecError(`${source}: field "faults" = ${show(value)}: must be a list of fault objects`);
  return value.map((entry, i) => parseFault(entry, `${source}: faults[${i}]`));
}

function parseFault(entry: unknown, where: string): SsdFault {
  const fail = (field: string, got: unknown, why: string): never => {
    throw new SsdSpecError(`${where}: field "${field}" = ${show(got)}: ${why}`);
  };
  if (!isRecord(entry)) throw new SsdSpecError(`${where}: ${show(entry)} is not an object like {"inject": "dropCompletion", "match": {...}, "count": 1}`);
  const kinds = Object.keys(FAULT_FIELDS) as SsdFaultKind[];
  const kind = entry.inject;
  if (!kinds.includes(kind as SsdFaultKind)) fail("inject", kind, `not a fault (${kinds.join(", ")})`);
  const allowed = FAULT_FIELDS[kind as SsdFaultKind];
  for (const key of Object.keys(entry)) {
    if (key !== "inject" && !allowed.includes(key)) fail(key, entry[key], `not an argument of ${kind as string} (its arguments: ${allowed.join(", ") || "none"})`);
  }
  // stopFetching without a count stops for good (until a controller reset); every other fault fires once.
  const count = entry.count === undefined ? (kind === "stopFetching" ? Number.POSITIVE_INFINITY : 1) : entry.count;
  if (count === Number.POSITIVE_INFINITY && kind === "stopFetching") return { inject: "stopFetching", count };
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1) return fail("count", count, "must be a positive integer");
  const match = (): CommandMatch => {
    const m = entry.match ?? {};
    if (!isRecord(m)) return fail("match", m, "must be an object of sqid, opcode, nsid, cid");
    const limits: Record<keyof CommandMatch, number> = { sqid: 0xffff, opcode: 0xff, nsid: 0xffffffff, cid: 0xffff };
    for (const [k, v] of Object.entries(m)) {
      if (!(k in limits)) fail(`match.${k}`, v, "unknown (match by sqid, opcode, nsid, cid)");
      const why = uint(limits[k as keyof CommandMatch])(v);
      if (why !== undefined) fail(`match.${k}`, v, why);
    }
    return m as CommandMatch;
  };
  switch (kind as SsdFaultKind) {
    case "injectStatus": {
      const status = entry.status;
      if (!isRecord(status)) return fail("status", status, `must be {"sct": N, "sc": N, "dnr": bool?}`);
      for (const k of Object.keys(status)) if (!["sct", "sc", "dnr"].includes(k)) fail(`status.${k}`, status[k], "unknown (status has sct, sc, dnr)");
      if (uint(7)(status.sct) !== undefined) fail("status.sct", status.sct, "must be an integer 0..7");
      if (uint(0xff)(status.sc) !== undefined) fail("status.sc", status.sc, "must be an integer 0..255");
      if (status.dnr !== undefined && typeof status.dnr !== "boolean") fail("status.dnr", status.dnr, "must be true or false");
      if (status.sct === 0 && status.sc === 0) fail("status", status, "is Successful Completion: not a fault");
      return { inject: "injectStatus", match: match(), status: { sct: status.sct as number, sc: status.sc as number, dnr: status.dnr === true }, count };
    }
    case "dropCompletion":
    case "poisonReadData":
      return { inject: kind as "dropCompletion" | "poisonReadData", match: match(), count };
    case "latencySpike": {
      if (uint(Number.MAX_SAFE_INTEGER)(entry.extraCycles) !== undefined || entry.extraCycles === 0) fail("extraCycles", entry.extraCycles, "must be a positive integer");
      return { inject: "latencySpike", match: match(), extraCycles: entry.extraCycles as number, count };
    }
    case "failMmioReads":
      if (!["UR", "CA", "poisoned", "dropped"].includes(entry.status as string)) fail("status", entry.status, `must be "UR", "CA", "poisoned" or "dropped"`);
      return { inject: "failMmioReads", status: entry.status as MmioReadFailure, count };
    case "fatalOnCommand":
      return { inject: "fatalOnCommand", match: match(), count };
    case "misdirectData":
      if (typeof entry.offset !== "number" || !Number.isSafeInteger(entry.offset) || entry.offset === 0) fail("offset", entry.offset, "must be a non-zero integer (bytes)");
      return { inject: "misdirectData", match: match(), offset: entry.offset as number, count };
    case "stopFetching":
      return { inject: "stopFetching", count };
    case "fatalOnEnable":
    case "neverReady":
    case "failSanitize":
      return { inject: kind as "fatalOnEnable" | "neverReady" | "failSanitize", count };
    case "noLink":
      return { inject: "noLink" };
  }
}

function isPreset(value: unknown): value is TimingPresetName {
  return typeof value === "string" && (SSD_PRESETS as string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** The defaults a spec's fields are merged over, for documentation and --help. */
export const SSD_SPEC_FIELDS = Object.keys(defaultSsdOptions) as (keyof SsdOptions)[];
