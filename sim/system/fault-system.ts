// What the fault matrix and the soak share (issue 13): the full system built for user-port runs, the
// catalogue of faults the SSD and link models can inject during I/O, how each is armed, how many
// fired, the status port read back after a fault, and the recovery a user would do (`restart`, then
// wait for READY, again if the bring-up itself meets the fault).
import { emitDesign } from "../../hdl/index.ts";
import { BRINGUP_STATES } from "../../rtl-src/top/bringup-sequencer.ts";
import { type NvmeHostCoreParams, nvmeHostCore, simulationCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { USER_ERROR_CLASS_NAMES } from "../../rtl-src/user/user-port.ts";
import type { NvmeSsd } from "../nvme/ssd.ts";
import type { LinkEvent } from "../pcie/link-model.ts";
import type { NvmeStatus } from "../nvme/status.ts";
import { STATUS_WATCH, decodeError, waitForOutcome } from "./bringup.ts";
import { type FullSystem, type VerilogCore, buildSystem } from "./full-system.ts";
import { USER_PORT_DRIVER_WATCH } from "../testbench/user-port-driver.ts";
import { emittedSources } from "../engine/designs.ts";

/** The I/O submission queue's ID: fault rules match every I/O command, whatever its opcode. */
const IO_SQ = 1;
/** Bring-up bound after a restart (the simulation core's own timeouts end every phase well within it). */
const BRINGUP_BOUND_CYCLES = 12_500_000;
/** Restarts tried before recovery is declared failed (an MMIO fault armed for one read costs one). */
const MAX_RESTARTS = 3;

/** A fault the matrix and the soak inject during I/O. */
export interface FaultKind {
  /** Short key (`--only`). */
  key: string;
  /** What it is, for the table. */
  title: string;
  /** Arms the fault in the models (once, at the chosen point of the run). */
  arm(system: FullSystem): void;
  /** How many times the armed fault has fired so far (a counter of the models). */
  fired(system: FullSystem): number;
  /**
   * What the controller must say when the fault fired: one of these error classes on some completion,
   * or (LINK_LOST, BRINGUP) a fault on the status port. A null says the fault is no fault for the host
   * (a delay below the timeout): every command must succeed.
   */
  reportedAs: readonly string[] | null;
  /** For injected statuses: the status a completion must carry. */
  status?: NvmeStatus;
}

/** The cycles the simulation core's I/O timeout lasts (a latency spike past it must end in TIMEOUT). */
export const IO_TIMEOUT_CYCLES = simulationCoreParams.io.ioTimeoutCycles;

const ssdFired = (name: keyof NvmeSsd["faults"]["fired"]) => (system: FullSystem) => system.ssd.faults.fired[name];

function nvmeStatusFault(key: string, title: string, status: NvmeStatus): FaultKind {
  return {
    key,
    title,
    status,
    reportedAs: ["NVME_STATUS"],
    arm: (s) => s.ssd.faults.injectStatus({ sqid: IO_SQ }, status),
    fired: ssdFired("status"),
  };
}

/** Every fault of issue 13's list the models inject during I/O (poisoned TLPs from the core and ECRC: see notes). */
export const FAULT_KINDS: readonly FaultKind[] = [
  nvmeStatusFault("media-error", "NVMe status: media error (SCT 2h, SC 81h unrecovered read error)", { sct: 2, sc: 0x81, dnr: false }),
  nvmeStatusFault("lba-range", "NVMe status: LBA out of range (SCT 0h, SC 80h)", { sct: 0, sc: 0x80, dnr: true }),
  nvmeStatusFault("internal-error", "NVMe status: internal error (SCT 0h, SC 06h)", { sct: 0, sc: 0x06, dnr: false }),
  nvmeStatusFault("aborted", "NVMe status: command abort requested (SCT 0h, SC 07h)", { sct: 0, sc: 0x07, dnr: false }),
  {
    key: "drop-completion",
    title: "completion entry never posted (dropCompletion)",
    reportedAs: ["TIMEOUT"],
    arm: (s) => s.ssd.faults.dropCompletion({ sqid: IO_SQ }),
    fired: ssdFired("droppedCompletion"),
  },
  {
    key: "poisoned-read-data",
    title: "poisoned read data: the SSD's MWr with EP = 1",
    reportedAs: ["PCIE_FAULT"],
    arm: (s) => s.ssd.faults.poisonReadData({ sqid: IO_SQ }),
    fired: ssdFired("poisonedData"),
  },
  {
    key: "slow-below-timeout",
    title: "slow SSD: a completion 1 ms late (below the I/O timeout)",
    reportedAs: null,
    arm: (s) => s.ssd.faults.latencySpike({ sqid: IO_SQ }, 250_000),
    fired: ssdFired("latencySpike"),
  },
  {
    key: "slow-past-timeout",
    title: "slow SSD: a completion later than the I/O timeout",
    reportedAs: ["TIMEOUT"],
    arm: (s) => s.ssd.faults.latencySpike({ sqid: IO_SQ }, IO_TIMEOUT_CYCLES + 250_000),
    fired: ssdFired("latencySpike"),
  },
  {
    key: "csts-cfs",
    title: "CSTS.CFS mid-run: the SSD goes fatal at a command",
    reportedAs: ["TIMEOUT"],
    arm: (s) => s.ssd.faults.fatalOnCommand({ sqid: IO_SQ }),
    fired: ssdFired("fatalOnCommand"),
  },
  {
    key: "stops-fetching",
    title: "the SSD stops fetching commands (SQ doorbells ignored)",
    reportedAs: ["TIMEOUT"],
    arm: (s) => s.ssd.faults.stopFetching(),
    fired: ssdFired("ignoredDoorbell"),
  },
  {
    key: "unmapped-32",
    title: "corrupted PRP: the SSD's data DMA to an unmapped address below 4 GiB",
    reportedAs: ["NVME_STATUS", "PCIE_FAULT"],
    // Data windows are 0x2000_0000..0x3FFF_FFFF; 1 GiB up lands in the hole below the BAR window.
    arm: (s) => s.ssd.faults.misdirectData({ sqid: IO_SQ }, 0x4000_0000n),
    fired: ssdFired("misdirectedData"),
  },
  {
    key: "unmapped-64",
    title: "corrupted PRP: the SSD's data DMA to an address above 4 GiB",
    reportedAs: ["NVME_STATUS", "PCIE_FAULT"],
    arm: (s) => s.ssd.faults.misdirectData({ sqid: IO_SQ }, 1n << 32n),
    fired: ssdFired("misdirectedData"),
  },
  {
    key: "link-down",
    title: "link down and back up (user_lnk_up falls, TLPs in flight lost, the SSD reset)",
    reportedAs: ["LINK_LOST"],
    // 8 µs after arming: the commands submitted after the arm are in flight by then.
    arm: (s) => s.link.surpriseDown(s.cycle + 2_000, 2_500),
    fired: (s) => s.link.counters.linkDowns,
  },
  ...(["UR", "CA", "poisoned", "dropped"] as const).map(
    (how): FaultKind => ({
      key: `mmio-read-${how.toLowerCase()}`,
      title: `BAR read ${how === "dropped" ? "never completed" : how === "poisoned" ? "answered by a poisoned CplD" : `answered ${how}`}`,
      // The core reads the SSD's BAR only while bringing it up (CAP, CSTS) and shutting it down: the
      // fault stays armed through the I/O and fires at the restart's bring-up.
      reportedAs: ["BRINGUP"],
      arm: (s) => s.ssd.faults.failMmioReads(how, 1),
      fired: ssdFired("mmioReadFailure"),
    }),
  ),
];

/** Faults by key; throws naming the unknown key and the known ones. */
export function faultKindsByKeys(keys: readonly string[] | undefined): FaultKind[] {
  if (!keys || keys.length === 0) return [...FAULT_KINDS];
  return keys.map((key) => {
    const kind = FAULT_KINDS.find((k) => k.key === key);
    if (!kind) throw new RangeError(`fault ${JSON.stringify(key)} is not known (${FAULT_KINDS.map((k) => k.key).join(", ")})`);
    return kind;
  });
}

/** The emitted simulation core, once per process. */
let emittedCore: VerilogCore | undefined;
export function simulationCore(params: NvmeHostCoreParams = simulationCoreParams): VerilogCore {
  if (params === simulationCoreParams && emittedCore) return emittedCore;
  const module = nvmeHostCore(params);
  const { files } = emitDesign(module);
  const core = { sources: emittedSources(files), top: module.name };
  if (params === simulationCoreParams) emittedCore = core;
  return core;
}

/** The user-port outputs a driver with skipIdle waits on, and the status outputs. */
export const USER_PORT_WATCH = [...STATUS_WATCH, ...USER_PORT_DRIVER_WATCH, "status_io_fault"] as const;

/** Builds the full system around the simulation core and runs it to READY; throws if it does not get there. */
export async function buildReadySystem(engine: string | undefined, onLinkEvent?: (event: LinkEvent) => void): Promise<FullSystem> {
  const system = await buildSystem({ core: simulationCore(), engine, watch: [...USER_PORT_WATCH], visibility: "ports", onLinkEvent });
  try {
    waitForOutcome(system, BRINGUP_BOUND_CYCLES);
    if (system.sim.peek("status_ready") !== 1) throw new Error(`bring-up ended in ${describeStatusPort(system)}`);
    return system;
  } catch (error) {
    system.close();
    throw error;
  }
}

/** The status port in a few words: "READY", "READY, I/O fault TIMEOUT", "FAULT READY/LINK_LOST". */
export function describeStatusPort(system: FullSystem): string {
  const { sim } = system;
  const at = (name: string) => sim.peek(name) >>> 0;
  if (at("status_fault") === 1) {
    const error = decodeError(at("status_error_state"), at("status_error_step"), at("status_error_code"), at("status_error_detail"));
    return `FAULT ${error.step}/${error.code}${error.detail ? ` (${error.detail})` : ""}`;
  }
  const state = BRINGUP_STATES[at("status_state")] ?? `state ${at("status_state")}`;
  if (at("status_io_fault") === 1) return `${state}, I/O fault ${USER_ERROR_CLASS_NAMES[at("status_io_fault_class")]}`;
  return state;
}

/** The controller must be restarted before it takes commands again: not READY, or its I/O path faulted. */
export function needsRestart(system: FullSystem): boolean {
  return system.sim.peek("status_ready") !== 1 || system.sim.peek("status_io_fault") === 1;
}

export interface Recovery {
  restarts: number;
  /** The status port after each restart's bring-up. */
  outcomes: string[];
  ready: boolean;
}

/** Pulses `restart` and waits for READY or FAULT, until READY (at most MAX_RESTARTS times). */
export function recover(system: FullSystem): Recovery {
  const outcomes: string[] = [];
  let restarts = 0;
  while (needsRestart(system) && restarts < MAX_RESTARTS) {
    restarts++;
    system.sim.poke("restart", 1);
    system.step(1);
    system.sim.poke("restart", 0);
    // The sequencer leaves READY within a few cycles of the pulse; then the bring-up runs.
    system.step(4);
    waitForOutcome(system, BRINGUP_BOUND_CYCLES);
    outcomes.push(describeStatusPort(system));
  }
  return { restarts, outcomes, ready: !needsRestart(system) };
}

/** Counters of the status port a fault run compares before and after. */
export function statusCounters(system: FullSystem): Record<string, number> {
  const names = ["status_unmapped_reads", "status_unmapped_writes", "status_poisoned_data_writes", "status_stray_completions", "status_io_stray_entries"];
  return Object.fromEntries(names.map((n) => [n.replace(/^status_/, ""), system.sim.peek(n) >>> 0]));
}
