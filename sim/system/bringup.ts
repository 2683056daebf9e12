// The bring-up in the full system: the controller's core (emitted Verilog) comes out of reset,
// brings the SSD up to READY or stops in FAULT, and its status port is read back into a report
// with DESIGN.md's `identify --json` layout (nvme-cli's key names for the Identify fields). Errors
// are decoded with the tables the RTL itself is built from, so a code and its name cannot drift.
import type { Module } from "../../hdl/index.ts";
import { ADMIN_BRINGUP_ERRORS, ADMIN_BRINGUP_STEPS } from "../../rtl-src/nvme/admin-bringup.ts";
import { READABLE_CONTROLLER_FIELDS as CtrlFields, READABLE_NAMESPACE_FIELDS as NsFields } from "../../rtl-src/nvme/identify-capture.ts";
import { type NvmeField, readField, readFieldBig } from "../../rtl-src/nvme/nvme-field.ts";
import type { StatusPageName } from "../../rtl-src/nvme/page-field-capture.ts";
import { NVME_INIT_ERRORS, NVME_INIT_STATES } from "../../rtl-src/nvme/nvme-init.ts";
import { LINK_TRAINING_ERRORS } from "../../rtl-src/pcie/link-training.ts";
import { ENUMERATION_ERRORS, ENUMERATION_STEPS } from "../../rtl-src/pcie/pcie-enumerator.ts";
import { ROOT_PORT_SETUP_STEPS } from "../../rtl-src/pcie/root-port-setup.ts";
import { CompletionStatus } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { BRINGUP_STATES, type BringupState, LINK_LOST_CODE } from "../../rtl-src/top/bringup-sequencer.ts";
import { type NvmeHostCoreParams, nvmeHostCore, simulationCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { fieldOffsets, readPagePort } from "../testbench/page-port.ts";
import { type FullSystem, NS_PER_CYCLE, type SystemOptions, type VerilogCore, buildSystem } from "./full-system.ts";

export interface BringupError {
  /** Where it stopped: the sequencer's state and, where the phase has steps, the step (`ENUMERATE/READ_ID`). */
  step: string;
  /** The cause, as the phase's RTL names it. */
  code: string;
  /** What else the status port says (an NVMe status, a completion status, the LTSSM state), or "". */
  detail: string;
}

/** Fields are nvme-cli's `-o json` names with raw values, plus the derived ones DESIGN.md lists. */
export interface BringupReport {
  state: "ready" | "error";
  error: BringupError | null;
  /** Simulated µs from the end of reset to READY or FAULT (with the core's simulation timings). */
  bringup_us: number;
  link: { gen: number; lanes: number; mps: number; mrrs: number };
  pcie: { vendor_id: number; device_id: number; bar0: number; bar0_bytes: number };
  nvme: { version: string; mqes: number; dstrd: number; io_queue_entries: number };
  ctrl: Record<string, number | string>;
  ns: Record<string, number>;
  ssds: { bdf: string; path: string; state: "ready" | "error"; error: BringupError | null; ctrl: Record<string, number | string>; ns: Record<string, number> }[];
}

/** The system's options a bring-up passes on, and what only the bring-up has. */
export interface BringupOptions extends Pick<SystemOptions, "engine" | "ssd" | "faults" | "topology" | "link" | "trace" | "vcd" | "onLinkEvent"> {
  /** The core: a DSL module (emitted on each call) or its emitted Verilog (emit once, run many). */
  core?: Module | VerilogCore;
  /** Core parameters when `core` is not given (default: the simulation timings). */
  coreParams?: NvmeHostCoreParams;
  /** Core outputs whose change ends a fast-forward stretch, besides the status (STATUS_WATCH): e.g. USER_PORT_DRIVER_WATCH for a driver that runs I/O after the bring-up. */
  watch?: readonly string[];
  /** Longest bring-up simulated, cycles (default: 50 ms of simulated time). */
  maxCycles?: number;
  /**
   * Called once the system is built, before its first cycle: the place to read `system.link.config`
   * into a conformance checker, or to set up anything else that must see the run from the start.
   */
  onBuilt?: (system: FullSystem) => void;
}

/** The core's status outputs a run waits on. */
export const STATUS_WATCH = ["status_state", "status_ready", "status_fault"] as const;
const DEFAULT_MAX_CYCLES = 12_500_000;

/** Builds the system around the core, runs it from reset to READY or FAULT, and reads the status port. */
export async function runBringup(options: BringupOptions = {}): Promise<{ report: BringupReport; system: FullSystem }> {
  const { core, coreParams, maxCycles, onBuilt, watch, ...systemOptions } = options;
  const system = await buildSystem({
    ...systemOptions,
    core: core ?? nvmeHostCore(coreParams ?? simulationCoreParams),
    watch: [...STATUS_WATCH, ...(watch ?? [])],
    // Only the core's ports are read (status, strings): Verilator may optimise the internals, unless a VCD wants them.
    visibility: options.vcd ? "all" : "ports",
  });
  try {
    onBuilt?.(system);
    const start = system.cycle;
    waitForOutcome(system, maxCycles ?? DEFAULT_MAX_CYCLES);
    return { report: readBringupReport(system, start), system };
  } catch (error) {
    system.close();
    throw error;
  }
}

/** Runs until the core is READY or in FAULT; throws if neither comes within `maxCycles` (the controller hung). */
export function waitForOutcome(system: FullSystem, maxCycles: number): number {
  const { sim } = system;
  const ready = sim.signal("status_ready");
  const fault = sim.signal("status_fault");
  return system.runUntil(() => sim.peek(ready) === 1 || sim.peek(fault) === 1, maxCycles, "READY or FAULT");
}

/** The status port as a report; steps the system a few hundred cycles to read the Identify pages through the page port. */
export function readBringupReport(system: FullSystem, startCycle = 0): BringupReport {
  const { sim } = system;
  const at = (name: string) => sim.peek(name) >>> 0;
  const big = (name: string) => Number(sim.peekBig(name));
  const bringupUs = ((system.cycle - startCycle) * NS_PER_CYCLE) / 1000;
  const ready = at("status_ready") === 1;
  const error = ready ? null : decodeError(at("status_error_state"), at("status_error_step"), at("status_error_code"), at("status_error_detail"));
  const lbaBytes = at("status_lba_bytes");
  const mdtsLog2 = at("status_mdts_bytes_log2");
  const controllerPage = readPageBytes(system, "identifyController", CtrlFields);
  const namespacePage = readPageBytes(system, "identifyNamespace", NsFields);
  const { ctrl, ns } = identifyRecords(controllerPage, namespacePage, { lbaBytes, mdtsLog2, capacityBlocks: big("status_capacity_blocks"), awupfBytes: at("status_awupf_bytes") });
  const version = at("status_nvme_version");
  const report: BringupReport = {
    state: ready ? "ready" : "error",
    error,
    bringup_us: Math.round(bringupUs * 1000) / 1000,
    link: { gen: at("status_link_speed"), lanes: at("status_link_width"), mps: 128 << at("status_mps_code"), mrrs: 128 << at("status_mrrs_code") },
    pcie: { vendor_id: at("status_vendor_id"), device_id: at("status_device_id"), bar0: at("status_bar0_address"), bar0_bytes: 2 ** at("status_bar0_size_log2") },
    nvme: { version: `${version >>> 16}.${(version >>> 8) & 0xff}.${version & 0xff}`, mqes: at("status_mqes"), dstrd: at("status_dstrd"), io_queue_entries: at("status_io_queue_entries") },
    ctrl,
    ns,
    ssds: [],
  };
  report.ssds.push({ bdf: "01:00.0", path: "root port 00:00.0 -> 01:00.0", state: report.state, error, ctrl, ns });
  return report;
}

/**
 * The Identify Controller and Namespace fields the reports show (nvme-cli's names), from the two pages
 * read through the page port and what the bring-up derived (LBA size, MDTS and atomic unit in bytes,
 * capacity in blocks): one layout for the one-SSD report and every SSD of an array (array-status.ts).
 */
export function identifyRecords(
  controllerPage: Uint8Array,
  namespacePage: Uint8Array,
  found: { lbaBytes: number; mdtsLog2: number; capacityBlocks: number; awupfBytes: number },
): { ctrl: Record<string, number | string>; ns: Record<string, number> } {
  const ctrlField = (f: NvmeField) => readField(controllerPage, f);
  const ctrl: Record<string, number | string> = {
    vid: ctrlField(CtrlFields.vid),
    ssvid: ctrlField(CtrlFields.ssvid),
    sn: asciiField(controllerPage, CtrlFields.sn),
    mn: asciiField(controllerPage, CtrlFields.mn),
    fr: asciiField(controllerPage, CtrlFields.fr),
    mdts: ctrlField(CtrlFields.mdts),
    oacs: ctrlField(CtrlFields.oacs),
    rtd3e: ctrlField(CtrlFields.rtd3e),
    sqes: ctrlField(CtrlFields.sqes),
    cqes: ctrlField(CtrlFields.cqes),
    nn: ctrlField(CtrlFields.nn),
    oncs: ctrlField(CtrlFields.oncs),
    vwc: ctrlField(CtrlFields.vwc),
    awun: ctrlField(CtrlFields.awun),
    awupf: ctrlField(CtrlFields.awupf),
    mdts_bytes: found.mdtsLog2 === 0 ? 0 : 2 ** found.mdtsLog2,
  };
  const nsField = (f: NvmeField) => readField(namespacePage, f);
  const ns: Record<string, number> = {
    nsze: Number(readFieldBig(namespacePage, NsFields.nsze)),
    ncap: Number(readFieldBig(namespacePage, NsFields.ncap)),
    nsfeat: nsField(NsFields.nsfeat),
    nlbaf: nsField(NsFields.nlbaf),
    flbas: nsField(NsFields.flbas),
    nawun: nsField(NsFields.nawun),
    nawupf: nsField(NsFields.nawupf),
    lba_bytes: found.lbaBytes,
    capacity_bytes: found.capacityBlocks * found.lbaBytes,
    awupf_bytes: found.awupfBytes,
  };
  return { ctrl, ns };
}

/** The bytes of `fields` of status page `page`, read through the core's page port with the whole system in step. */
export function readPageBytes(system: FullSystem, page: StatusPageName, fields: Readonly<Record<string, NvmeField>>): Uint8Array {
  return readPagePort(system.sim, page, fieldOffsets(fields), () => system.step(1));
}

/** An ASCII field of a page, NULs and trailing spaces dropped. */
function asciiField(page: Uint8Array, field: { offset: number; size: number }): string {
  const bytes = [...page.subarray(field.offset, field.offset + field.size)];
  return String.fromCharCode(...bytes.filter((b) => b !== 0)).replace(/ +$/, "");
}

/** What each sequencer state's phase reports: its step names and cause names (both 1-based), and how to read its detail. */
const PHASE_CODES: Partial<Record<BringupState, { steps?: readonly string[]; causes: readonly string[]; detail: (value: number) => string }>> = {
  LINK: { causes: LINK_TRAINING_ERRORS, detail: (v) => `LTSSM state 0x${v.toString(16).padStart(2, "0")}` },
  ROOT_PORT: { steps: ROOT_PORT_SETUP_STEPS, causes: ["CFG_MGMT_TIMEOUT", "READ_BACK_MISMATCH"], detail: () => "" },
  ROOT_PORT_MPS: { steps: ROOT_PORT_SETUP_STEPS, causes: ["CFG_MGMT_TIMEOUT", "READ_BACK_MISMATCH"], detail: () => "" },
  ENUMERATE: { steps: ENUMERATION_STEPS, causes: ENUMERATION_ERRORS, detail: (v) => `completion status ${completionStatusName(v)}` },
  // nvme_init's step is its state (IDLE = 0), so the names start after IDLE; detail: the access's completion status.
  NVME_ENABLE: { steps: NVME_INIT_STATES.slice(1), causes: NVME_INIT_ERRORS, detail: (v) => `completion status ${completionStatusName(v)}` },
  ADMIN: { steps: ADMIN_BRINGUP_STEPS, causes: ADMIN_BRINGUP_ERRORS, detail: (v) => nvmeStatusText(v) },
  READY: { causes: LINK_LOST_CODE === 1 ? ["LINK_LOST"] : [], detail: () => "" },
};

export function decodeError(state: number, step: number, code: number, detail: number): BringupError {
  const stateName = BRINGUP_STATES[state] ?? `STATE_${state}`;
  const table = PHASE_CODES[stateName as BringupState];
  const stepName = table?.steps && step > 0 ? (table.steps[step - 1] ?? `STEP_${step}`) : undefined;
  return {
    step: stepName ? `${stateName}/${stepName}` : stateName,
    code: table?.causes[code - 1] ?? `CODE_${code}`,
    detail: table && (detail !== 0 || stateName === "LINK") ? table.detail(detail) : "",
  };
}

function completionStatusName(status: number): string {
  const names: Record<number, string> = { [CompletionStatus.SC]: "SC", [CompletionStatus.UR]: "UR", [CompletionStatus.CRS]: "CRS", [CompletionStatus.CA]: "CA" };
  return names[status] ?? `0x${status.toString(16)}`;
}

/** The CQE Status Field without the phase: {DNR, M, CRD, SCT, SC}. */
function nvmeStatusText(status: number): string {
  const sc = status & 0xff;
  const sct = (status >> 8) & 0x7;
  const dnr = (status >> 14) & 1;
  return `NVMe status SCT ${sct} SC 0x${sc.toString(16).padStart(2, "0")}${dnr ? " DNR" : ""}`;
}
