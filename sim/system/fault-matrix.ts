// The fault matrix (issue 13): every fault the SSD and link models inject during I/O (fault-system.ts)
// against every workload kind (sequential / random, read / write / mixed, QD 1 / 32), on the full
// system with the emitted core. One system per fault: brought up, a region written with data distinct
// per block, then per workload: the fault armed a third of the way into the run, every command
// verified by the user-port driver (reads against the expected media: blocks whose write failed are
// unknown, everything else must read back exactly), then the recovery a user does (`restart` until
// READY, if the controller stopped) and a read-back of the whole region plus a fresh write and read.
//
// Per cell it records what the controller reported (error classes of the completions, the status
// port), whether it recovered and how, and whether anything was wrong: a hang (a command with no
// completion within its bound), a silent corruption (a successful read with wrong data, or any
// driver error), or a fault that fired and was not reported.
import { UserErrorClass } from "../../rtl-src/user/user-port.ts";
import { ExpectedMedia } from "../testbench/expected-media.ts";
import { type IoMix, generateIoWorkload } from "../testbench/io-workloads.ts";
import type { UserCommand } from "../testbench/user-command.ts";
import { USER_ERROR_CLASS_NAMES_BY_VALUE, UserOpcode } from "../testbench/user-command.ts";
import { UserPortDriver, readIoGeometry } from "../testbench/user-port-driver.ts";
import { type FaultKind, IO_TIMEOUT_CYCLES, buildReadySystem, describeStatusPort, faultKindsByKeys, needsRestart, recover } from "./fault-system.ts";
import type { FullSystem } from "./full-system.ts";
import type { LinkEvent } from "../pcie/link-model.ts";

export interface WorkloadKind {
  name: string;
  addressing: "sequential" | "random";
  mix: "read" | "write" | "mixed";
  queueDepth: 1 | 32;
}

export const WORKLOAD_KINDS: readonly WorkloadKind[] = (["sequential", "random"] as const).flatMap((addressing) =>
  (["read", "write", "mixed"] as const).flatMap((mix) =>
    ([1, 32] as const).map((queueDepth) => ({ name: `${addressing === "sequential" ? "seq" : "rand"}-${mix}-qd${queueDepth}`, addressing, mix, queueDepth })),
  ),
);

const MIXES: Record<WorkloadKind["mix"], Partial<IoMix>> = {
  read: { read: 1, write: 0, flush: 0, writeZeroes: 0, deallocate: 0, badRequest: 0 },
  write: { read: 0, write: 1, flush: 0, writeZeroes: 0, deallocate: 0, badRequest: 0 },
  mixed: { read: 40, write: 40, flush: 4, writeZeroes: 6, deallocate: 6, badRequest: 0 },
};

export interface FaultMatrixOptions {
  engine?: string;
  /** Fault keys (default all). */
  only?: readonly string[];
  /** Workload names (default all). */
  workloads?: readonly string[];
  /** Commands per workload run (default 48). */
  commands?: number;
  /** Largest block count of a command (default 16). */
  maxBlocks?: number;
  /** Blocks of the region the runs use (default 512). */
  regionBlocks?: number;
  seed?: number;
  /** Called for every event the link model logs (drops, link downs): for diagnosis. */
  onLinkEvent?: (event: LinkEvent) => void;
  /** Called after each cell (progress). */
  onCell?: (cell: FaultCell) => void;
}

export interface FaultCell {
  fault: string;
  workload: string;
  /** Times the fault fired during the run (0: the workload never reached what it hits). */
  injected: number;
  commands: number;
  /** Completions of the faulted run by error class name. */
  classes: Record<string, number>;
  /** NVMe statuses seen (hex), for NVME_STATUS completions. */
  statuses: string[];
  /** The status port after the run, before any restart. */
  statusPort: string;
  /** What the controller reported, in a few words. */
  reported: string;
  /** Whether the report is what the fault must produce (true when it did not fire). */
  reportedOk: boolean;
  /** "none needed", "restart", "restart x2 (FAULT ... then READY)", or "FAILED: ...". */
  recovery: string;
  recovered: boolean;
  hang: boolean;
  /** Driver errors: wrong data on a successful read, wrong framing, a missing completion... */
  dataErrors: string[];
  /** The read-back after recovery found every block as expected and the fresh commands succeeded. */
  verified: boolean;
  cycles: number;
  wallMs: number;
}

export interface FaultMatrixResult {
  engine: string;
  cells: FaultCell[];
  /** Cells with a hang, a data error, a fault not reported as it must be, or no recovery. */
  failures: FaultCell[];
  wallMs: number;
}

/** Runs the matrix; one system per fault. */
export async function runFaultMatrix(options: FaultMatrixOptions = {}): Promise<FaultMatrixResult> {
  const started = Date.now();
  const kinds = faultKindsByKeys(options.only);
  const workloads = options.workloads ? options.workloads.map(workloadByName) : [...WORKLOAD_KINDS];
  const cells: FaultCell[] = [];
  let engine = "";
  for (const [f, kind] of kinds.entries()) {
    const system = await buildReadySystem(options.engine, options.onLinkEvent);
    engine = system.engine;
    try {
      const run = new FaultRun(system, options.regionBlocks ?? 512, (options.seed ?? 1) * 1000 + f * 100);
      run.prefill();
      for (const workload of workloads) {
        const cell = run.cell(kind, workload, options.commands ?? 48, options.maxBlocks ?? 16);
        cells.push(cell);
        options.onCell?.(cell);
        if (cell.hang || !cell.recovered) break; // the system is in no state for the next run
      }
    } finally {
      system.close();
    }
  }
  return { engine, cells, failures: cells.filter(cellFailed), wallMs: Date.now() - started };
}

export function cellFailed(cell: FaultCell): boolean {
  return cell.hang || cell.dataErrors.length > 0 || !cell.reportedOk || !cell.recovered || !cell.verified;
}

function workloadByName(name: string): WorkloadKind {
  const kind = WORKLOAD_KINDS.find((w) => w.name === name);
  if (!kind) throw new RangeError(`workload ${JSON.stringify(name)} is not known (${WORKLOAD_KINDS.map((w) => w.name).join(", ")})`);
  return kind;
}

/** Cycles a run of `commands` may take: the I/O timeout (a fault's), a restart, and generous time per command. */
function runBound(commands: number): number {
  return 3 * IO_TIMEOUT_CYCLES + 200_000 * commands + 5_000_000;
}

/** One system, its expected media, and the runs on it. */
class FaultRun {
  readonly media: ExpectedMedia;
  readonly lbaBytes: number;
  readonly mdtsBytes: number;
  readonly region: { lba: number; blocks: number };
  private pass = 1;
  private seed: number;

  constructor(
    readonly system: FullSystem,
    regionBlocks: number,
    seed: number,
  ) {
    const geometry = readIoGeometry(system.sim);
    this.media = new ExpectedMedia(geometry.namespaces);
    this.lbaBytes = geometry.namespaces[0].lbaBytes;
    this.mdtsBytes = geometry.mdtsBytes;
    this.region = { lba: 0, blocks: Math.min(regionBlocks, geometry.namespaces[0].capacityBlocks) };
    this.seed = seed;
  }

  private driver(queueDepth: number, expectAny: boolean): UserPortDriver {
    const geometry = readIoGeometry(this.system.sim);
    return new UserPortDriver(this.system, {
      namespaces: geometry.namespaces,
      media: this.media,
      seed: this.seed++,
      maxInFlight: queueDepth,
      stopOnError: !expectAny,
      skipIdle: true,
    });
  }

  /** Writes the whole region once (QD 32, no fault), so reads find data distinct per block. */
  prefill(): void {
    const commands: UserCommand[] = [];
    for (let lba = this.region.lba; lba < this.region.lba + this.region.blocks; lba += 64) {
      commands.push({ opcode: UserOpcode.WRITE, nsid: 1, lba, blockCount: Math.min(64, this.region.lba + this.region.blocks - lba), pass: this.pass++ });
    }
    const driver = this.driver(32, false);
    driver.submit(commands);
    const report = driver.run(runBound(commands.length));
    if (!report.ok) throw new Error(`prefill failed: ${report.errors.join("; ")}`);
  }

  cell(kind: FaultKind, workload: WorkloadKind, commandCount: number, maxBlocks: number): FaultCell {
    const started = Date.now();
    const { system } = this;
    const startCycle = system.cycle;
    const firedBefore = kind.fired(system);
    const workloadCommands = generateIoWorkload({
      lbaBytes: this.lbaBytes,
      capacityBlocks: this.region.lba + this.region.blocks,
      mdtsBytes: this.mdtsBytes,
      maxBlocks,
      commands: commandCount,
      seed: this.seed++,
      mix: MIXES[workload.mix],
      addressing: workload.addressing,
      region: this.region,
      firstPass: this.pass,
      conflictWindow: Math.max(workload.queueDepth, 2),
      verifyAll: workload.mix !== "read",
    });
    this.pass = workloadCommands.nextPass;
    const commands = workloadCommands.commands.map((c) => ({ ...c, expect: "any" as const }));
    // The first third runs to its end before the fault is armed, so the fault meets a command the
    // SSD has not seen yet (at QD 32 a short run is otherwise all at the SSD at once).
    const armAt = Math.max(1, Math.floor(commands.length / 3));
    const driver = this.driver(workload.queueDepth, true);
    driver.submit(commands.slice(0, armAt));
    let report = driver.run(runBound(armAt));
    if (report.finished) {
      kind.arm(system);
      driver.submit(commands.slice(armAt));
      report = driver.run(runBound(commands.length));
    }
    const hang = !report.finished;
    const records = driver.records;
    const classes: Record<string, number> = {};
    const statuses = new Set<string>();
    for (const r of records) {
      if (r.completeCycle < 0) continue;
      const name = USER_ERROR_CLASS_NAMES_BY_VALUE[r.errorClass] ?? `class ${r.errorClass}`;
      classes[name] = (classes[name] ?? 0) + 1;
      if (r.errorClass === UserErrorClass.NVME_STATUS) statuses.add(`0x${r.status.toString(16)}`);
    }
    const statusPort = describeStatusPort(system);
    const dataErrors = report.errors.filter((e) => !e.includes("not finished within"));
    let recovery = "none needed";
    let recovered = !hang;
    let injected = kind.fired(system) - firedBefore;
    if (!hang && needsRestart(system)) {
      const r = recover(system);
      recovered = r.ready;
      recovery = r.ready ? (r.restarts === 1 ? "restart" : `restart x${r.restarts} (${r.outcomes.slice(0, -1).join(", ")}, then READY)`) : `FAILED: ${r.outcomes.join(", ")}`;
    } else if (!hang && kind.reportedAs?.includes("BRINGUP")) {
      // A BAR read fault fires only where the core reads the BAR: at a bring-up. A user restarts.
      const r = recover(forceRestart(system));
      recovered = r.ready;
      recovery = r.ready ? `restart x${r.restarts} (${r.outcomes.slice(0, -1).join(", ") || "READY at once"}, then READY)` : `FAILED: ${r.outcomes.join(", ")}`;
      injected = kind.fired(system) - firedBefore;
      if (r.outcomes.length > 1) classes.BRINGUP = r.outcomes.length - 1;
    }
    const reported = describeReport(classes, statuses, statusPort, recovery);
    const reportedOk = judgeReport(kind, injected, classes, statuses, statusPort, recovery);
    // A fault that did not fire must not fire in the read-back.
    system.ssd.faults.clear();
    const verified = recovered && this.verifyRegion(dataErrors);
    return {
      fault: kind.key,
      workload: workload.name,
      injected,
      commands: commands.length,
      classes,
      statuses: [...statuses],
      statusPort,
      reported,
      reportedOk,
      recovery,
      recovered,
      hang,
      dataErrors,
      verified,
      cycles: system.cycle - startCycle,
      wallMs: Date.now() - started,
    };
  }

  /** Reads the whole region back (each block as the expected media says) and writes and reads one fresh range. */
  private verifyRegion(errors: string[]): boolean {
    const commands: UserCommand[] = [];
    for (let lba = this.region.lba; lba < this.region.lba + this.region.blocks; lba += 32) {
      commands.push({ opcode: UserOpcode.READ, nsid: 1, lba, blockCount: Math.min(32, this.region.lba + this.region.blocks - lba) });
    }
    commands.push({ opcode: UserOpcode.WRITE, nsid: 1, lba: this.region.lba, blockCount: 8, pass: this.pass++ });
    commands.push({ opcode: UserOpcode.READ, nsid: 1, lba: this.region.lba, blockCount: 8 });
    const driver = this.driver(32, false);
    driver.submit(commands);
    const report = driver.run(runBound(commands.length));
    for (const e of report.errors) errors.push(`after recovery: ${e}`);
    return report.ok;
  }
}

/** A restart requested although the controller is READY (the BAR read faults fire only at a bring-up). */
function forceRestart(system: FullSystem): FullSystem {
  system.sim.poke("restart", 1);
  system.step(1);
  system.sim.poke("restart", 0);
  system.step(4);
  return system;
}

function describeReport(classes: Record<string, number>, statuses: Set<string>, statusPort: string, recovery: string): string {
  const parts = Object.entries(classes)
    .filter(([name]) => name !== "NONE" && name !== "BRINGUP")
    .map(([name, n]) => `${n} ${name}${name === "NVME_STATUS" && statuses.size > 0 ? ` (${[...statuses].join(", ")})` : ""}`);
  if (statusPort !== "READY") parts.push(`status ${statusPort}`);
  if (classes.BRINGUP) parts.push(`bring-up ${recovery.replace(/^restart x\d+ \(/, "").replace(/, then READY\)$/, "")}`);
  return parts.length > 0 ? parts.join("; ") : "nothing (all NONE)";
}

function judgeReport(kind: FaultKind, injected: number, classes: Record<string, number>, statuses: Set<string>, statusPort: string, recovery: string): boolean {
  const errors = Object.entries(classes).filter(([name, n]) => name !== "NONE" && n > 0).map(([name]) => name);
  if (injected === 0) return errors.length === 0 && statusPort === "READY";
  if (kind.reportedAs === null) return errors.length === 0 && statusPort === "READY";
  return kind.reportedAs.some((expected) => {
    if (expected === "LINK_LOST") return statusPort.includes("LINK_LOST");
    if (expected === "BRINGUP") return recovery.includes("FAULT");
    if (!errors.includes(expected)) return false;
    if (expected === "NVME_STATUS" && kind.status) return statuses.has(`0x${((kind.status.dnr ? 1 << 14 : 0) | (kind.status.sct << 8) | kind.status.sc).toString(16)}`);
    return true;
  });
}

/** The matrix as a Markdown table, one row per fault, its runs summed up (counts as min–max over the runs it fired in). */
export function formatFaultTable(result: FaultMatrixResult): string {
  const byFault = new Map<string, FaultCell[]>();
  for (const c of result.cells) byFault.set(c.fault, [...(byFault.get(c.fault) ?? []), c]);
  const lines = [
    "| Fault | Fired in | Completions with an error (per run) | Status port after | Recovery | Hangs | Wrong data | Verdict |",
    "|---|---|---|---|---|---|---|---|",
  ];
  const range = (values: number[]) => {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    return lo === hi ? `${lo}` : `${lo}–${hi}`;
  };
  for (const [fault, cells] of byFault) {
    const kind = faultKindsByKeys([fault])[0];
    const fired = cells.filter((c) => c.injected > 0);
    const classNames = [...new Set(fired.flatMap((c) => Object.keys(c.classes)))].filter((n) => n !== "NONE" && n !== "BRINGUP");
    const classes = classNames.map((name) => {
      const counts = fired.map((c) => c.classes[name] ?? 0);
      const statuses = name === "NVME_STATUS" ? ` (status ${[...new Set(fired.flatMap((c) => c.statuses))].join(", ")})` : "";
      return `${name} ${range(counts)}${statuses}`;
    });
    const ports = [...new Set(fired.map((c) => c.statusPort))];
    const recoveries = [...new Set(cells.map((c) => c.recovery))];
    const failed = cells.filter(cellFailed);
    lines.push(
      `| ${kind.title} | ${fired.length}/${cells.length} | ${classes.join("; ") || "none"} | ${ports.join(" / ")} | ${recoveries.join(" / ")} | ${cells.filter((c) => c.hang).length} | ${cells.filter((c) => c.dataErrors.length > 0).length} | ${failed.length === 0 ? "ok" : `FAILED in ${failed.map((c) => c.workload).join(", ")}`} |`,
    );
  }
  return lines.join("\n");
}
