// The soak (issue 13): random verified commands through the user port of the full system (read, write,
// flush, write zeroes, deallocate; random sizes and LBAs; the queue depth changing from batch to
// batch) with faults injected at a rate per command, counted as DESIGN.md's `soak --json` says:
//  - commands: issued; completed: completed successfully; failed_reported: completed with an error class;
//  - injected_faults: faults that fired in the models; reported_faults: those the controller reported
//    as the fault must be reported (fault-system.ts FaultKind.reportedAs);
//  - hangs: commands with no completion within their bound (the soak stops there: the system is stuck);
//  - silent_corruptions: successful reads with wrong data, and any other breach of the user-port
//    contract the driver finds (a read's framing, a completion out of order).
// The expected contents of every block are tracked (expected-media.ts): a write, write zeroes or
// deallocate that failed after it may have reached the SSD leaves its blocks unknown until rewritten.
//
// One fault is armed at a time: at a command's completion, with probability `faultRate`, a fault drawn
// from the catalogue (those the SSD can meet during I/O) is armed; it fires at the next command it
// matches. A batch ends when its commands completed; then the armed fault's outcome is judged (fired?
// reported?), and the controller is restarted if it stopped, as a user would.
import { UserErrorClass } from "../../rtl-src/user/user-port.ts";
import { randomInt, seededRandom } from "../random.ts";
import { ExpectedMedia } from "../testbench/expected-media.ts";
import { generateIoWorkload } from "../testbench/io-workloads.ts";
import { USER_ERROR_CLASS_NAMES_BY_VALUE, type UserCommand } from "../testbench/user-command.ts";
import { type CommandRecord, UserPortDriver, readIoGeometry } from "../testbench/user-port-driver.ts";
import { FAULT_KINDS, type FaultKind, IO_TIMEOUT_CYCLES, buildReadySystem, describeStatusPort, needsRestart, recover } from "./fault-system.ts";

export interface SoakOptions {
  commands: number;
  /** Probability per command of arming a fault, 0..1. */
  faultRate: number;
  seed: number;
  engine?: string;
  /** Fault keys to draw from (default: every fault the SSD meets during I/O). */
  faults?: readonly string[];
  /** Blocks of the region the commands address (default 4096). */
  regionBlocks?: number;
  /** Largest block count of a command (default 64). */
  maxBlocks?: number;
  /** Called after each batch. */
  onProgress?: (result: SoakResult) => void;
}

/** DESIGN.md's `soak --json` keys. */
export interface SoakCounts {
  commands: number;
  completed: number;
  failed_reported: number;
  injected_faults: number;
  reported_faults: number;
  hangs: number;
  silent_corruptions: number;
}

export interface SoakResult extends SoakCounts {
  engine: string;
  /** Faults that fired and were not reported as they must be, and the driver's errors (first few). */
  problems: string[];
  /** Fired faults by key. */
  faultsByKind: Record<string, number>;
  restarts: number;
  cycles: number;
  wallMs: number;
}

/** The faults the soak draws from: every I/O-time fault that must be reported (not the BAR read faults, which fire only at a bring-up, nor a delay below the timeout). */
export const SOAK_FAULT_KEYS = FAULT_KINDS.filter((k) => k.reportedAs !== null && !k.reportedAs.includes("BRINGUP")).map((k) => k.key);

const BATCH = 40;
const QUEUE_DEPTHS = [1, 2, 4, 8, 16, 32];

export function soakFailed(result: SoakCounts): boolean {
  return result.hangs > 0 || result.silent_corruptions > 0 || result.reported_faults < result.injected_faults;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  if (!Number.isSafeInteger(options.commands) || options.commands < 1) throw new RangeError(`soak: commands ${options.commands} is not a positive integer`);
  if (!(options.faultRate >= 0 && options.faultRate <= 1)) throw new RangeError(`soak: fault rate ${options.faultRate} is not in 0..1`);
  if (!Number.isSafeInteger(options.seed)) throw new RangeError(`soak: seed ${options.seed} is not an integer`);
  const keys = options.faults ?? SOAK_FAULT_KEYS;
  const kinds = keys.map((key) => {
    const kind = FAULT_KINDS.find((k) => k.key === key);
    if (!kind) throw new RangeError(`soak: fault ${JSON.stringify(key)} is not known (${FAULT_KINDS.map((k) => k.key).join(", ")})`);
    return kind;
  });
  const random = seededRandom(options.seed);
  const system = await buildReadySystem(options.engine);
  const result: SoakResult = {
    commands: 0,
    completed: 0,
    failed_reported: 0,
    injected_faults: 0,
    reported_faults: 0,
    hangs: 0,
    silent_corruptions: 0,
    engine: system.engine,
    problems: [],
    faultsByKind: {},
    restarts: 0,
    cycles: 0,
    wallMs: 0,
  };
  try {
    const geometry = readIoGeometry(system.sim);
    const ns = geometry.namespaces[0];
    const region = { lba: 0, blocks: Math.min(options.regionBlocks ?? 4096, ns.capacityBlocks) };
    const media = new ExpectedMedia(geometry.namespaces);
    let pass = 1;
    let driverSeed = options.seed * 7919;
    let armed: { kind: FaultKind; firedBefore: number } | null = null;
    const problem = (text: string) => {
      if (result.problems.length < 20) result.problems.push(text);
    };
    while (result.commands < options.commands && result.hangs === 0) {
      const queueDepth = QUEUE_DEPTHS[randomInt(random, 0, QUEUE_DEPTHS.length - 1)];
      const workload = generateIoWorkload({
        lbaBytes: ns.lbaBytes,
        capacityBlocks: region.lba + region.blocks,
        mdtsBytes: geometry.mdtsBytes,
        maxBlocks: options.maxBlocks ?? 64,
        commands: Math.min(BATCH, options.commands - result.commands),
        seed: randomInt(random, 1, 0x7fffffff),
        addressing: random() < 0.5 ? "random" : "sequential",
        region,
        firstPass: pass,
        conflictWindow: Math.max(queueDepth, 2),
        verifyAll: false,
        // Every opcode of the user port, and a few requests it must refuse.
        mix: { read: 40, write: 40, flush: 4, writeZeroes: 6, deallocate: 6, badRequest: 2 },
      });
      pass = workload.nextPass;
      const commands: UserCommand[] = workload.commands.map((c) => ({ ...c, expect: "any" as const }));
      const driver = new UserPortDriver(system, {
        namespaces: geometry.namespaces,
        media,
        seed: driverSeed++,
        maxInFlight: queueDepth,
        stopOnError: false,
        maxErrors: 20,
        skipIdle: true,
        onCompletion: () => {
          if (armed === null && kinds.length > 0 && random() < options.faultRate) {
            const kind = kinds[randomInt(random, 0, kinds.length - 1)];
            armed = { kind, firedBefore: kind.fired(system) };
            kind.arm(system);
          }
        },
      });
      driver.submit(commands);
      const startCycle = system.cycle;
      const report = driver.run(3 * IO_TIMEOUT_CYCLES + 200_000 * commands.length);
      result.cycles += system.cycle - startCycle;
      result.commands += commands.length;
      for (const r of driver.records) {
        if (r.completeCycle < 0) result.hangs++;
        else if (r.errorClass === UserErrorClass.NONE) result.completed++;
        else result.failed_reported++;
      }
      if (result.hangs > 0) problem(`hang at cycle ${system.cycle}: ${report.errors.find((e) => e.includes("not finished")) ?? "commands without completion"} (status ${describeStatusPort(system)})`);
      const dataErrors = report.errors.filter((e) => !e.includes("not finished within"));
      // report.errorCount counts errors past the kept ones too.
      const lost = report.errorCount - report.errors.length;
      result.silent_corruptions += dataErrors.length + Math.max(0, lost);
      for (const e of dataErrors) problem(e);
      const statusPort = describeStatusPort(system);
      if (armed !== null) {
        const { kind, firedBefore } = armed as { kind: FaultKind; firedBefore: number };
        const fired = kind.fired(system) - firedBefore;
        if (fired > 0) {
          result.injected_faults++;
          result.faultsByKind[kind.key] = (result.faultsByKind[kind.key] ?? 0) + 1;
          if (reportedInBatch(kind, driver.records, statusPort)) result.reported_faults++;
          else problem(`${kind.key} fired at about cycle ${system.cycle} and was not reported (status ${statusPort})`);
          armed = null;
          system.ssd.faults.clear();
        } else if (result.hangs === 0 && !needsRestart(system)) {
          // Not fired yet (no command matched): it stays armed into the next batch.
        } else {
          armed = null;
          system.ssd.faults.clear();
        }
      }
      if (result.hangs === 0 && needsRestart(system)) {
        const r = recover(system);
        result.restarts += r.restarts;
        if (!r.ready) {
          problem(`no recovery: ${r.outcomes.join(", ")}`);
          result.hangs++;
        }
      }
      options.onProgress?.({ ...result, wallMs: Date.now() - started });
    }
    // A fault armed at the very end that never fired is not counted.
  } finally {
    system.close();
  }
  result.wallMs = Date.now() - started;
  return result;
}

/** The armed fault's report among the batch's completions or on the status port. */
function reportedInBatch(kind: FaultKind, records: readonly CommandRecord[], statusPort: string): boolean {
  if (kind.reportedAs === null) return true;
  const classes = new Set(records.filter((r) => r.completeCycle >= 0).map((r) => USER_ERROR_CLASS_NAMES_BY_VALUE[r.errorClass]));
  return kind.reportedAs.some((expected) => {
    if (expected === "LINK_LOST") return statusPort.includes("LINK_LOST");
    if (!classes.has(expected)) return false;
    if (expected === "NVME_STATUS" && kind.status) {
      const want = (kind.status.dnr ? 1 << 14 : 0) | (kind.status.sct << 8) | kind.status.sc;
      return records.some((r) => r.errorClass === UserErrorClass.NVME_STATUS && r.status === want);
    }
    return true;
  });
}
