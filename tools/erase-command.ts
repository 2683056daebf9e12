// `nvme-host erase`: a secure erase in the full system (issue 15). The emitted core brings the SSD
// model up, optionally writes blocks of data distinct per block, takes the erase request on its
// `user_erase` port (Format NVM or Sanitize, chosen and checked against Identify by the hardware),
// and is followed through its status port (progress from the Sanitize Status log it polls); then
// the blocks written before are read back through the controller. Text for people, `--json` for
// scripts. Exit codes: 0 the erase succeeded (and the blocks read back erased), 1 the controller
// refused or failed it (or a block still held data), 2 bad usage.
import { nvmeHostCore, simulationCoreParams } from "../rtl-src/top/nvme-host-core.ts";
import { EraseKind, UserOpcode } from "../rtl-src/user/user-port.ts";
import { ENGINES } from "../sim/engine/index.ts";
import { CYCLES_PER_US } from "../sim/nvme/timing.ts";
import { runBringup } from "../sim/system/bringup.ts";
import { type EraseStatus, ERASE_KIND_NAMES, readEraseStatus, requestErase, waitForErase } from "../sim/system/erase-status.ts";
import { NS_PER_CYCLE } from "../sim/system/full-system.ts";
import { SsdSpecError, parseSsdArgument } from "../sim/system/ssd-spec.ts";
import { ExpectedMedia } from "../sim/testbench/expected-media.ts";
import type { UserCommand } from "../sim/testbench/user-command.ts";
import { USER_PORT_DRIVER_WATCH, UserPortDriver, readIoGeometry } from "../sim/testbench/user-port-driver.ts";

export interface EraseArguments {
  kind?: string;
  /** A namespace ID, or "all" (FFFFFFFFh); Format NVM kinds only. Default 1. */
  nsid?: string;
  ssd?: string;
  engine?: string;
  /** Blocks written before the erase and read back after it (default CHECK_BLOCKS_DEFAULT; 0 for none). */
  check?: string;
  json: boolean;
  trace?: string;
  vcd?: string;
}

export class EraseUsageError extends Error {}

/** The kinds as the command line spells them: EraseKind's names in lower case with hyphens. */
export const ERASE_KIND_OPTIONS: readonly string[] = ERASE_KIND_NAMES.map((name) => name.toLowerCase().replace(/_/g, "-"));

const CHECK_BLOCKS_DEFAULT = 16;
const NSID_ALL = 0xffff_ffff;
/** Blocks per write or read command of the check. */
const CHECK_COMMAND_BLOCKS = 64;
const MS = 1000 * CYCLES_PER_US;
/** How often the status port is looked at while the erase runs. */
const SAMPLE_CYCLES = 25 * CYCLES_PER_US;
/** Longest erase followed: past the core's own bounds, so the core reports a timeout before this stops a hung simulation. */
const MAX_ERASE_CYCLES = Math.max(simulationCoreParams.nvme.formatTimeoutCycles, simulationCoreParams.erase.sanitizeTimeoutCycles) + MS;

/** Why a refusal or failure happened, by error class. */
const ERROR_CLASS_MEANING: Record<string, string> = {
  UNSUPPORTED: "the SSD does not offer this kind (Identify OACS / FNA / SANICAP); nothing was sent to it",
  BUSY: "I/O was in flight or another admin task ran; nothing was sent to it",
  NOT_READY: "the controller was not READY",
  NVME_STATUS: "the SSD completed the command with an error status",
  TIMEOUT: "the SSD did not finish within the controller's bound",
  PCIE_FAULT: "a PCIe-level fault",
};

export interface EraseReport {
  kind: string;
  nsid: number | "all";
  ssd: string;
  engine: string;
  bringup: { state: "ready" | "error"; us: number; error: string | null };
  /** IDLE (never started: bring-up failed), DONE, FAILED or REFUSED. */
  state: string;
  error_class: string;
  status: number;
  status_text: string;
  /** Percent reached, and the moments it changed (ms from the request). */
  progress: number;
  progress_samples: { ms: number; percent: number }[];
  /** Simulated ms from the request to the outcome. */
  erase_ms: number;
  check: { lba: number; blocks: number; written: boolean; erased: boolean | null; detail: string } | null;
  wall_seconds: number;
}

function parseKind(value: string | undefined): number {
  if (value === undefined) throw new EraseUsageError(`--kind is required: one of ${ERASE_KIND_OPTIONS.join(", ")}`);
  const index = ERASE_KIND_OPTIONS.indexOf(value.toLowerCase());
  if (index < 0) throw new EraseUsageError(`--kind ${value}: not one of ${ERASE_KIND_OPTIONS.join(", ")}`);
  return EraseKind[ERASE_KIND_NAMES[index]];
}

function parseNsid(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value.toLowerCase() === "all") return NSID_ALL;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n >= NSID_ALL) throw new EraseUsageError(`--nsid ${value}: not a namespace ID (1..4294967294) or "all"`);
  return n;
}

function parseCheck(value: string | undefined): number {
  if (value === undefined) return CHECK_BLOCKS_DEFAULT;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new EraseUsageError(`--check ${value}: not a block count (0 for no check)`);
  return n;
}

/** Runs the erase and prints the report; progress lines go to `progress` (stderr) as it runs. */
export async function eraseCommand(args: EraseArguments, print: (text: string) => void = console.log, progress: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<number> {
  const kind = parseKind(args.kind);
  const nsid = parseNsid(args.nsid);
  const checkBlocks = parseCheck(args.check);
  let spec;
  try {
    spec = parseSsdArgument(args.ssd);
  } catch (error) {
    if (error instanceof SsdSpecError) throw new EraseUsageError(error.message.startsWith("--ssd") ? error.message : `--ssd ${error.message}`);
    throw error;
  }
  if (args.engine !== undefined && !(ENGINES as readonly string[]).includes(args.engine)) throw new EraseUsageError(`--engine ${args.engine}: not one of ${ENGINES.join(", ")}`);

  const started = performance.now();
  const kindName = ERASE_KIND_OPTIONS[kind];
  const { report: bringup, system } = await runBringup({ core: nvmeHostCore(simulationCoreParams), watch: USER_PORT_DRIVER_WATCH, engine: args.engine, ssd: spec.options, faults: spec.faults, trace: args.trace, vcd: args.vcd });
  const report: EraseReport = {
    kind: kindName,
    nsid: nsid === NSID_ALL ? "all" : nsid,
    ssd: spec.source,
    engine: system.engine,
    bringup: { state: bringup.state, us: bringup.bringup_us, error: bringup.error ? `${bringup.error.step} ${bringup.error.code}${bringup.error.detail ? ` (${bringup.error.detail})` : ""}` : null },
    state: "IDLE",
    error_class: "NONE",
    status: 0,
    status_text: "",
    progress: 0,
    progress_samples: [],
    erase_ms: 0,
    check: null,
    wall_seconds: 0,
  };
  try {
    if (bringup.state === "ready") runErase(system, report, kind, nsid, checkBlocks, args.json ? () => {} : progress);
  } finally {
    system.close();
  }
  report.wall_seconds = (performance.now() - started) / 1000;
  print(args.json ? JSON.stringify(report, null, 2) : formatErase(report));
  const checked = report.check === null || report.check.erased !== false;
  return report.state === "DONE" && checked ? 0 : 1;
}

function runErase(system: Awaited<ReturnType<typeof runBringup>>["system"], report: EraseReport, kind: number, nsid: number, checkBlocks: number, progress: (line: string) => void): void {
  const { namespaces } = readIoGeometry(system.sim);
  const media = new ExpectedMedia(namespaces);
  const driver = new UserPortDriver(system, { namespaces, media, skipIdle: true, stopOnError: false });
  const checkNsid = nsid === NSID_ALL ? 1 : nsid;
  const namespace = namespaces.find((n) => n.nsid === checkNsid);
  const blocks = namespace ? Math.min(checkBlocks, namespace.capacityBlocks) : 0;
  const commands = (opcode: number): UserCommand[] => {
    const list: UserCommand[] = [];
    for (let lba = 0; lba < blocks; lba += CHECK_COMMAND_BLOCKS) list.push({ opcode: opcode as UserCommand["opcode"], nsid: checkNsid, lba, blockCount: Math.min(CHECK_COMMAND_BLOCKS, blocks - lba), pass: 1 });
    return list;
  };
  const runIo = (list: UserCommand[]): string => {
    driver.submit(list);
    const result = driver.run(50_000_000);
    return result.errors.join("; ");
  };
  if (blocks > 0) {
    const problem = runIo(commands(UserOpcode.WRITE));
    report.check = { lba: 0, blocks, written: problem === "", erased: null, detail: problem === "" ? "" : `writing the blocks before the erase failed: ${problem}` };
  }

  // The request with the driver ticking, so no user-port handshake happens behind its back.
  requestErase({ sim: system.sim, step: (n = 1) => { for (let i = 0; i < n; i++) driver.tick(); } }, kind, nsid);
  const start = system.cycle;
  const ms = (cycle: number) => ((cycle - start) * NS_PER_CYCLE) / 1e6;
  let printedDecile = -1;
  const note = (status: EraseStatus, cycle: number) => {
    if (report.progress_samples.at(-1)?.percent !== status.progress) report.progress_samples.push({ ms: ms(cycle), percent: status.progress });
    const decile = Math.floor(status.progress / 10);
    if (status.state === "RUNNING" && decile > printedDecile) {
      printedDecile = decile;
      progress(`erase: ${String(status.progress).padStart(3)} % after ${ms(cycle).toFixed(3)} ms`);
    }
  };
  const outcome = waitForErase(system, { maxCycles: MAX_ERASE_CYCLES, sampleCycles: SAMPLE_CYCLES, onSample: note });
  report.state = outcome.state;
  report.error_class = outcome.errorClass;
  report.status = outcome.status;
  report.status_text = outcome.statusText;
  report.progress = outcome.progress;
  report.erase_ms = ms(system.cycle);

  if (report.check?.written && outcome.state === "DONE") {
    // Every kind the controller sends leaves the blocks deallocated (it never asks No-Deallocate):
    // they read as Identify DLFEAT says, zeroes for the SSD model.
    media.deallocate(checkNsid, 0, blocks);
    const problem = runIo(commands(UserOpcode.READ));
    report.check.erased = problem === "";
    report.check.detail = problem === "" ? `read back as zeroes (deallocated)` : `not erased: ${problem}`;
  }
}

/** The text report. */
export function formatErase(r: EraseReport): string {
  const out: string[] = [];
  const target = r.kind.startsWith("sanitize") ? "the whole SSD" : r.nsid === "all" ? "every namespace" : `namespace ${r.nsid}`;
  out.push(`nvme-host erase: ${r.kind} of ${target} (SSD ${r.ssd}, ${r.engine} engine)`);
  if (r.bringup.state !== "ready") {
    out.push(`bring-up  : ERROR after ${r.bringup.us.toFixed(3)} µs: ${r.bringup.error}`, "result    : not started", `(${r.wall_seconds.toFixed(1)} s of wall time)`);
    return out.join("\n");
  }
  out.push(`bring-up  : READY after ${r.bringup.us.toFixed(3)} µs`);
  if (r.check) out.push(`before    : ${r.check.written ? `wrote ${r.check.blocks} blocks of distinct data at LBA ${r.check.lba}` : r.check.detail}`);
  const meaning = ERROR_CLASS_MEANING[r.error_class];
  if (r.state === "DONE") out.push(`result    : DONE after ${r.erase_ms.toFixed(3)} ms of simulated time (progress ${r.progress} %)`);
  else if (r.state === "REFUSED") out.push(`result    : REFUSED, ${r.error_class}: ${meaning ?? ""}`);
  else out.push(`result    : ${r.state} after ${r.erase_ms.toFixed(3)} ms, ${r.error_class}${r.status_text ? ` ${r.status_text}` : ""}${meaning ? `: ${meaning}` : ""} (progress ${r.progress} %)`);
  if (r.check?.written && r.check.erased !== null) out.push(`after     : the ${r.check.blocks} blocks ${r.check.detail}`);
  out.push(`(${r.wall_seconds.toFixed(1)} s of wall time; the Sanitize Status log polled every 100 µs)`);
  return out.join("\n");
}
