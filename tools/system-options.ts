// The system options of `nvme-host sim` and `nvme-host estimate` (DESIGN.md, CLI): what the fio parser
// leaves in `systemArgs`, resolved into a SystemSpec (sim/workload/job.ts) plus the output choice. Every
// bad value is a SystemOptionError naming the option and the value.
import { ENGINES, type EngineName, verilatorAvailable } from "../sim/engine/index.ts";
import { defaultSsdOptions } from "../sim/nvme/options.ts";
import { SWITCH_PRESETS, type SwitchPresetName, resolveSwitchParams } from "../sim/pcie/switch-params.ts";
import { SsdSpecError, parseSsdArgument, type SsdSpec } from "../sim/system/ssd-spec.ts";
import { TopologySpecError, parseTopologyArgument } from "../sim/system/topology-spec.ts";
import type { SystemTopology } from "../sim/system/topology.ts";
import { DEFAULT_SYSTEM_OPTIONS, type SystemOptionArity, parseFioSize } from "../sim/workload/fio-job.ts";
import type { ArraySpec, SystemSpec } from "../sim/workload/job.ts";

export class SystemOptionError extends Error {
  override name = "SystemOptionError";
}

export type OutputFormat = "normal" | "json";

export interface SystemArguments {
  system: SystemSpec;
  outputFormat: OutputFormat;
  /** Positional arguments left over (the CLI decides whether any are allowed). */
  positionals: string[];
}

/** The system options the fio parser passes through to parseSystemArguments: issue 11's and the array's. */
export const SYSTEM_OPTIONS: Readonly<Record<string, SystemOptionArity>> = {
  ...DEFAULT_SYSTEM_OPTIONS,
  ssds: "value",
  stripe: "value",
  topology: "value",
  switch: "value",
};

/** The controller as `generated/` builds it (rtl-src/top/nvme-host-core.ts hardwareCoreParams). */
export const DEFAULT_SYSTEM: Omit<SystemSpec, "ssd" | "engine"> = {
  gen: 2,
  lanes: 4,
  mps: 256,
  mrrs: 512,
  slots: 32,
  bufferBytes: 128 * 1024,
  maxPieceBytes: 32 * 1024,
};

const GENERATIONS = [1, 2, 3] as const;
const LANES = [1, 2, 4, 8] as const;
const PAYLOADS = [128, 256, 512] as const;
const READ_REQUESTS = [128, 256, 512, 1024, 2048, 4096] as const;
const MAX_SLOTS = 64;
const MIN_BUFFER_BYTES = 16 * 1024;
const MAX_BUFFER_BYTES = 1024 * 1024;
/** SSD counts the striper takes (rtl-src/user/user-port-striper.ts: lanes 1, 2 or 4). */
export const ARRAY_SSD_COUNTS = [1, 2, 4] as const;
/** The stripe size when --stripe is not given, and its range (the striper's). */
export const DEFAULT_STRIPE_BYTES = 128 * 1024;
const MIN_STRIPE_BYTES = 4 * 1024;
const MAX_STRIPE_BYTES = 1024 * 1024;
/** Identify's serial number field is 20 ASCII characters: the base cut to leave room for "-<port>". */
const SERIAL_CHARS = 20;

/** The serial number of the SSD on downstream port `port` of --ssds: the --ssd's, then "-<port>". */
export function portSerial(base: string, port: number): string {
  const suffix = `-${port}`;
  return base.slice(0, SERIAL_CHARS - suffix.length) + suffix;
}

/** The switch of --ssds when --switch is not given (sim/pcie/switch-params.ts). */
export const DEFAULT_SWITCH_PRESET: SwitchPresetName = "gen2x4";

/** Splits `--name value` / `--name=value` / `--flag` arguments into a map; repeated options: the last wins. */
function optionMap(args: readonly string[], flags: ReadonlySet<string>): { values: Map<string, string>; positionals: string[] } {
  const values = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (flags.has(name)) {
      values.set(name, eq < 0 ? "true" : arg.slice(eq + 1));
      continue;
    }
    if (eq >= 0) values.set(name, arg.slice(eq + 1));
    else if (i + 1 < args.length) values.set(name, args[++i]);
    else throw new SystemOptionError(`--${name} needs a value`);
  }
  return { values, positionals };
}

function oneOf<T extends number>(option: string, text: string, allowed: readonly T[]): T {
  const value = Number(text);
  if (!(allowed as readonly number[]).includes(value)) throw new SystemOptionError(`--${option}=${text}: not one of ${allowed.join(", ")}`);
  return value as T;
}

function sizeOption(option: string, text: string, min: number, max: number): number {
  let bytes: number;
  try {
    bytes = parseFioSize(text, 1024);
  } catch (error) {
    throw new SystemOptionError(`--${option}=${text}: ${(error as Error).message}`);
  }
  if (bytes < min || bytes > max || (bytes & (bytes - 1)) !== 0) {
    throw new SystemOptionError(`--${option}=${text}: must be a power of two from ${min / 1024} KiB to ${max / 1024} KiB`);
  }
  return bytes;
}

/**
 * Resolves the system options. `defaultEngine` applies when neither `--engine` nor NVME_HOST_ENGINE
 * names one (the main job prefers Verilator when it is installed), except for an array (`--ssds`,
 * `--topology`), which runs on Verilator when it is installed.
 */
export function parseSystemArguments(args: readonly string[], defaultEngine: EngineName = "js", env: NodeJS.ProcessEnv = process.env): SystemArguments {
  const { values, positionals } = optionMap(args, new Set(["json", "help"]));
  const known = new Set(["ssd", "gen", "lanes", "mps", "mrrs", "slots", "buffer", "max-piece", "engine", "trace", "vcd", "output-format", "json", "help", "ssds", "stripe", "topology", "switch"]);
  for (const name of values.keys()) if (!known.has(name)) throw new SystemOptionError(`--${name}: not an option of this command`);

  let ssd;
  try {
    ssd = parseSsdArgument(values.get("ssd"));
  } catch (error) {
    if (error instanceof SsdSpecError) throw new SystemOptionError(error.message.startsWith("--ssd") ? error.message : `--ssd ${error.message}`);
    throw error;
  }
  // An array core is four one-SSD cores' worth of logic: the js engine takes minutes to build and run
  // it, so an array runs on Verilator when it is installed unless an engine is named.
  const arrayAsked = values.has("ssds") || values.has("topology");
  const engineText = values.get("engine") ?? env.NVME_HOST_ENGINE ?? (arrayAsked && verilatorAvailable() ? "verilator" : defaultEngine);
  if (!(ENGINES as readonly string[]).includes(engineText)) {
    const from = values.has("engine") ? "--engine" : "NVME_HOST_ENGINE";
    throw new SystemOptionError(`${from}=${engineText}: not one of ${ENGINES.join(", ")}`);
  }
  const get = (name: string) => values.get(name);
  const system: SystemSpec = {
    ...DEFAULT_SYSTEM,
    ssd,
    engine: engineText as EngineName,
    trace: get("trace"),
    vcd: get("vcd"),
  };
  const gen = get("gen");
  if (gen !== undefined) system.gen = oneOf("gen", gen, GENERATIONS);
  const lanes = get("lanes");
  if (lanes !== undefined) system.lanes = oneOf("lanes", lanes, LANES);
  const mps = get("mps");
  if (mps !== undefined) system.mps = oneOf("mps", mps, PAYLOADS);
  const mrrs = get("mrrs");
  if (mrrs !== undefined) system.mrrs = oneOf("mrrs", mrrs, READ_REQUESTS);
  const slots = get("slots");
  if (slots !== undefined) {
    const n = Number(slots);
    if (!Number.isInteger(n) || n < 1 || n > MAX_SLOTS || (n & (n - 1)) !== 0) throw new SystemOptionError(`--slots=${slots}: must be a power of two from 1 to ${MAX_SLOTS}`);
    system.slots = n;
  }
  const buffer = get("buffer");
  if (buffer !== undefined) system.bufferBytes = sizeOption("buffer", buffer, MIN_BUFFER_BYTES, MAX_BUFFER_BYTES);
  const piece = get("max-piece");
  if (piece !== undefined) system.maxPieceBytes = sizeOption("max-piece", piece, 4096, MAX_BUFFER_BYTES);
  if (system.maxPieceBytes > system.bufferBytes) {
    throw new SystemOptionError(`--max-piece=${system.maxPieceBytes}: larger than the buffer (--buffer=${system.bufferBytes})`);
  }
  const array = arrayOption(values, ssd);
  if (array !== undefined) system.array = array;

  const json = values.get("json");
  const format = values.get("output-format") ?? (json !== undefined && json !== "false" ? "json" : "normal");
  if (format !== "normal" && format !== "json") throw new SystemOptionError(`--output-format=${format}: not one of normal, json`);
  return { system, outputFormat: format, positionals };
}

/** The SSDs present in a topology (ports that are not empty). */
export function topologySsdCount(topology: SystemTopology): number {
  return topology.ssds.filter((entry) => entry !== null && entry !== undefined).length;
}

/**
 * --ssds, --stripe, --topology and --switch: the striped array, or undefined for one SSD without a switch.
 * `ssd` is what --ssd gave (every SSD of --ssds is one of it).
 */
function arrayOption(values: ReadonlyMap<string, string>, ssd: SsdSpec): ArraySpec | undefined {
  const ssds = values.get("ssds");
  const stripe = values.get("stripe");
  const file = values.get("topology");
  const preset = values.get("switch");
  if (ssds !== undefined && file !== undefined) throw new SystemOptionError(`--ssds=${ssds} with --topology=${file}: the topology file says which SSDs there are; give one or the other`);
  if (file !== undefined && values.has("ssd")) throw new SystemOptionError(`--ssd=${values.get("ssd")} with --topology=${file}: each SSD's options are in the topology file`);
  if (preset !== undefined && ssds === undefined) {
    throw new SystemOptionError(`--switch=${preset}: only with --ssds (a topology file names its switch in "switch")`);
  }
  if (stripe !== undefined && ssds === undefined && file === undefined) throw new SystemOptionError(`--stripe=${stripe}: only with --ssds or --topology (one SSD is not striped)`);
  if (ssds === undefined && file === undefined) return undefined;
  const stripeBytes = stripe === undefined ? DEFAULT_STRIPE_BYTES : sizeOption("stripe", stripe, MIN_STRIPE_BYTES, MAX_STRIPE_BYTES);

  let topology: SystemTopology;
  let source: string;
  if (file !== undefined) {
    try {
      topology = parseTopologyArgument(file);
    } catch (error) {
      if (error instanceof TopologySpecError) throw new SystemOptionError(error.message.startsWith("--topology") ? error.message : `--topology ${error.message}`);
      throw error;
    }
    const count = topologySsdCount(topology);
    if (!(ARRAY_SSD_COUNTS as readonly number[]).includes(count)) {
      throw new SystemOptionError(`--topology=${file}: ${count} SSDs present; the striper takes ${ARRAY_SSD_COUNTS.join(", ")}`);
    }
    source = file;
  } else {
    const count = Number(ssds);
    if (!(ARRAY_SSD_COUNTS as readonly number[]).includes(count)) throw new SystemOptionError(`--ssds=${ssds}: not one of ${ARRAY_SSD_COUNTS.join(", ")} (the SSDs the striper takes)`);
    const switchPreset = preset ?? DEFAULT_SWITCH_PRESET;
    if (!(SWITCH_PRESETS as readonly string[]).includes(switchPreset)) throw new SystemOptionError(`--switch=${switchPreset}: not one of ${SWITCH_PRESETS.join(", ")}`);
    const ports = resolveSwitchParams({ preset: switchPreset as SwitchPresetName }).downstreamPorts;
    if (count > ports) throw new SystemOptionError(`--ssds=${ssds}: the switch ${switchPreset} has ${ports} downstream ports`);
    topology = {
      switch: { preset: switchPreset as SwitchPresetName },
      // Each SSD its own serial number (the --ssd's, with its port), so identify and the logs tell them apart.
      ssds: Array.from({ length: count }, (_, port) => ({ ssd: { ...ssd.options, serial: portSerial(ssd.options.serial ?? defaultSsdOptions.serial, port) }, faults: ssd.faults })),
    };
    source = `${count} x ${ssd.source} behind switch ${switchPreset}`;
  }
  return { topology, stripeBytes, source };
}
