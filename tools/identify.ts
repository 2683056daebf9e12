// `nvme-host identify`: the bring-up in the full system (the emitted core, the link model and one
// SSD model), and what the hardware found, laid out like `nvme id-ctrl` / `nvme id-ns`, or as one
// JSON object (DESIGN.md's layout, nvme-cli's key names). With --ssds N or --topology FILE (issue 14):
// nvme_array_core (four lane slots) behind the switch model, and every SSD listed: its BDF, its path
// through the switch, its lane state or error, and its Identify fields as the one-SSD output has them
// (JSON: the array status of sim/system/array-status.ts, with an `ssds` array).
import { emitDesign } from "../hdl/index.ts";
import { nvmeArrayCore, simulationArrayCoreParams } from "../rtl-src/top/nvme-array-core.ts";
import { ENGINES, type EngineName } from "../sim/engine/index.ts";
import { type ArraySsdStatus, type ArrayStatus, readArrayStatus, waitForArrayOutcome } from "../sim/system/array-status.ts";
import { type BringupReport, STATUS_WATCH, runBringup } from "../sim/system/bringup.ts";
import { NS_PER_CYCLE, type VerilogCore, buildSystem } from "../sim/system/full-system.ts";
import { SsdSpecError, parseSsdArgument } from "../sim/system/ssd-spec.ts";
import { SystemOptionError, parseSystemArguments } from "./system-options.ts";
import { emittedSources } from "../sim/engine/designs.ts";

export interface IdentifyArguments {
  ssd?: string;
  engine?: string;
  json: boolean;
  trace?: string;
  vcd?: string;
  /** Several SSDs behind the switch: --ssds N (of --ssd, behind --switch) or --topology FILE. */
  ssds?: string;
  topology?: string;
  switch?: string;
}

/** The longest array bring-up simulated: the switch's links and every SSD's enable and admin phase. */
const ARRAY_BRINGUP_MAX_CYCLES = 3_000_000;

let arrayCore: VerilogCore | undefined;
/** nvme_array_core with four lane slots and the simulation timings (one build for any SSD count). */
function emittedArrayCore(): VerilogCore {
  if (!arrayCore) {
    const module = nvmeArrayCore(simulationArrayCoreParams);
    arrayCore = { sources: emittedSources(emitDesign(module).files), top: module.name };
  }
  return arrayCore;
}

/** `identify --ssds N` / `--topology FILE`: brings the array up and lists every SSD; 0 when the array is READY. */
async function identifyArray(args: IdentifyArguments, print: (text: string) => void): Promise<number> {
  const options: string[] = [];
  for (const name of ["ssd", "ssds", "topology", "switch", "engine"] as const) if (args[name] !== undefined) options.push(`--${name}`, args[name]!);
  let array;
  let engine: EngineName;
  try {
    const { system } = parseSystemArguments(options);
    array = system.array!;
    engine = system.engine;
  } catch (error) {
    if (error instanceof SystemOptionError) throw new IdentifyUsageError(error.message);
    throw error;
  }
  const started = performance.now();
  const system = await buildSystem({ core: emittedArrayCore(), engine, topology: array.topology, trace: args.trace, vcd: args.vcd, watch: [...STATUS_WATCH], visibility: args.vcd ? "all" : "ports" });
  let status: ArrayStatus;
  let bringupUs: number;
  try {
    try {
      waitForArrayOutcome(system, ARRAY_BRINGUP_MAX_CYCLES);
    } catch {
      // Neither READY nor FAULT in time: the status says where it stands ("running").
    }
    bringupUs = Math.round(system.cycle * NS_PER_CYCLE) / 1000;
    status = readArrayStatus(system);
  } finally {
    system.close();
  }
  const wallSeconds = (performance.now() - started) / 1000;
  if (args.json) print(JSON.stringify({ bringup_us: bringupUs, ...status }, null, 2));
  else print(formatArrayIdentify(status, { engine: system.engine, ssd: array.source, wallSeconds, bringupUs }));
  return status.state === "ready" ? 0 : 1;
}

export class IdentifyUsageError extends Error {}

/** Runs the bring-up and prints the report; 0 when the controller is ready, 1 when it reported an error. */
export async function identifyCommand(args: IdentifyArguments, print: (text: string) => void = console.log): Promise<number> {
  if (args.ssds !== undefined || args.topology !== undefined) return identifyArray(args, print);
  if (args.switch !== undefined) throw new IdentifyUsageError(`--switch=${args.switch}: only with --ssds`);
  let spec;
  try {
    spec = parseSsdArgument(args.ssd);
  } catch (error) {
    if (error instanceof SsdSpecError) throw new IdentifyUsageError(error.message.startsWith("--ssd") ? error.message : `--ssd ${error.message}`);
    throw error;
  }
  if (args.engine !== undefined && !(ENGINES as readonly string[]).includes(args.engine)) {
    throw new IdentifyUsageError(`--engine ${args.engine}: not one of ${ENGINES.join(", ")}`);
  }
  const started = performance.now();
  const { report, system } = await runBringup({ engine: args.engine, ssd: spec.options, faults: spec.faults, trace: args.trace, vcd: args.vcd });
  const wallSeconds = (performance.now() - started) / 1000;
  system.close();
  if (args.json) print(JSON.stringify(report, null, 2));
  else print(formatIdentify(report, { engine: system.engine, ssd: spec.source, wallSeconds }));
  return report.state === "ready" ? 0 : 1;
}

const hex = (value: number | string) => `0x${Number(value).toString(16)}`;
const line = (key: string, value: string | number) => `${key.padEnd(10)}: ${value}`;

function bytes(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 20 === 0) return `${n} B (${(n / 2 ** 30).toFixed(2)} GiB)`;
  if (n >= 2 ** 20 && n % 2 ** 10 === 0) return `${n / 2 ** 20} MiB`;
  if (n >= 2 ** 10 && n % 2 ** 10 === 0) return `${n / 2 ** 10} KiB`;
  return `${n} B`;
}

/** The text report: the outcome, then PCIe, Identify Controller, Identify Namespace and the queues. */
export function formatIdentify(report: BringupReport, run: { engine: string; ssd: string; wallSeconds: number }): string {
  const out: string[] = [];
  const time = `${report.bringup_us.toFixed(3)} µs of simulated time`;
  const how = `${run.engine} engine, SSD ${run.ssd}, ${run.wallSeconds.toFixed(1)} s of wall time; the core's waits (PERST#, CRS, RDY units) are shortened for simulation`;
  if (report.error) {
    const detail = report.error.detail ? ` (${report.error.detail})` : "";
    out.push(`nvme-host identify: ERROR after ${time}: ${report.error.step} ${report.error.code}${detail}`);
  } else {
    out.push(`nvme-host identify: READY after ${time}`);
  }
  out.push(`(${how})`, "");
  const { link, pcie, nvme, ctrl, ns } = report;
  if (link.gen > 0) {
    out.push("PCIe:");
    out.push(line("link", `Gen${link.gen} x${link.lanes} (${link.gen === 1 ? "2.5" : "5.0"} GT/s)`));
    if (pcie.vendor_id !== 0) {
      out.push(line("id", `${hex(pcie.vendor_id)}:${hex(pcie.device_id)}`));
      out.push(line("bar0", `${hex(pcie.bar0)} (${bytes(pcie.bar0_bytes)})`));
      out.push(line("mps", `${link.mps} B`));
      out.push(line("mrrs", `${link.mrrs} B`));
    }
    out.push("");
  }
  out.push(...controllerLines(ctrl), ...namespaceLines(ns));
  if (report.state === "ready") out.push(...nvmeLines(nvme));
  return out.join("\n").trimEnd();
}

/** Identify Controller, as `nvme id-ctrl` names the fields (nothing when it was never read). */
function controllerLines(ctrl: Record<string, number | string>, indent = ""): string[] {
  if (Number(ctrl.vid) === 0) return [];
  const out = ["NVME Identify Controller:"];
  for (const key of ["vid", "ssvid"]) out.push(line(key, hex(ctrl[key])));
  for (const key of ["sn", "mn", "fr"]) out.push(line(key, String(ctrl[key])));
  out.push(line("mdts", `${ctrl.mdts}${Number(ctrl.mdts) === 0 ? " (no limit)" : ` (${bytes(Number(ctrl.mdts_bytes))} per command)`}`));
  for (const key of ["oacs", "rtd3e"]) out.push(line(key, hex(ctrl[key])));
  for (const key of ["sqes", "cqes"]) out.push(line(key, hex(ctrl[key])));
  out.push(line("nn", ctrl.nn));
  for (const key of ["oncs", "vwc"]) out.push(line(key, hex(ctrl[key])));
  for (const key of ["awun", "awupf"]) out.push(line(key, ctrl[key]));
  return [...out.map((l) => indent + l), ""];
}

/** Identify Namespace 1, as `nvme id-ns` names the fields (nothing when it was never read). */
function namespaceLines(ns: Record<string, number>, indent = ""): string[] {
  if (ns.nsze === 0) return [];
  const out = ["NVME Identify Namespace 1:"];
  for (const key of ["nsze", "ncap", "nsfeat"]) out.push(line(key, hex(ns[key])));
  for (const key of ["nlbaf", "flbas", "nawun", "nawupf"]) out.push(line(key, ns[key]));
  out.push(line("lba size", `${ns.lba_bytes} B`));
  out.push(line("capacity", bytes(ns.capacity_bytes)));
  out.push(line("atomic", `${bytes(ns.awupf_bytes)} (power-fail atomic write unit)`));
  return [...out.map((l) => indent + l), ""];
}

function nvmeLines(nvme: BringupReport["nvme"], indent = ""): string[] {
  const out = ["NVMe:", line("version", nvme.version), line("mqes", nvme.mqes), line("dstrd", nvme.dstrd), line("io queues", `1 pair (QID 1), ${nvme.io_queue_entries} entries each`)];
  return [...out.map((l) => indent + l), ""];
}

function ssdLines(ssd: ArraySsdStatus): string[] {
  const out = [`SSD ${ssd.slot}: ${ssd.bdf} ${ssd.state}${ssd.error ? `: ${ssd.error.step} ${ssd.error.code}${ssd.error.detail ? ` (${ssd.error.detail})` : ""}` : ""}`];
  const indent = "  ";
  out.push(indent + line("path", ssd.path));
  if (ssd.state !== "ABSENT") out.push(indent + line("bar0", hex(ssd.bar0)), indent + line("port", `switch downstream port ${ssd.port}`));
  out.push("");
  out.push(...controllerLines(ssd.ctrl, indent), ...namespaceLines(ssd.ns, indent));
  if (ssd.state === "READY") out.push(...nvmeLines(ssd.nvme, indent));
  return out;
}

/** The text report of an array: the outcome, the link and switch, then every SSD. */
export function formatArrayIdentify(status: ArrayStatus, run: { engine: string; ssd: string; wallSeconds: number; bringupUs: number }): string {
  const out: string[] = [];
  const time = `${run.bringupUs.toFixed(3)} µs of simulated time`;
  const ready = status.ssds.filter((s) => s.state === "READY").length;
  if (status.error) {
    const detail = status.error.detail ? ` (${status.error.detail})` : "";
    out.push(`nvme-host identify: ERROR after ${time}: ${status.error.step} ${status.error.code}${detail}`);
  } else if (status.state === "ready") {
    out.push(`nvme-host identify: READY after ${time}: ${ready} of ${status.ssd_count} SSDs ready`);
  } else out.push(`nvme-host identify: neither READY nor ERROR after ${time}`);
  out.push(`(${run.engine} engine, ${run.ssd}, ${run.wallSeconds.toFixed(1)} s of wall time; the core's waits are shortened for simulation)`, "");
  const { link } = status;
  if (link.gen > 0) {
    out.push("PCIe:");
    out.push(line("link", `Gen${link.gen} x${link.lanes} (${link.gen === 1 ? "2.5" : "5.0"} GT/s)`));
    out.push(line("switch", status.switch_found ? `found, ${status.ports_found} downstream ports` : "none"));
    out.push(line("ssds", status.ssd_count));
    out.push(line("mps", `${link.mps} B`));
    out.push(line("mrrs", `${link.mrrs} B`));
    out.push("");
  }
  for (const ssd of status.ssds) out.push(...ssdLines(ssd));
  return out.join("\n").trimEnd();
}
