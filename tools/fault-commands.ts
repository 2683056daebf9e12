// `nvme-host faults` (the fault matrix as a table for the README, or JSON) and `nvme-host soak`
// (random verified commands with faults at a rate; DESIGN.md's `soak --json` keys). Both run the full
// system with the emitted core (sim/system/fault-matrix.ts, soak.ts). Exit 1 when the run found a
// problem: a hang, wrong data, a fault not reported, a controller that did not recover.
import { FAULT_KINDS } from "../sim/system/fault-system.ts";
import { WORKLOAD_KINDS, cellFailed, formatFaultTable, runFaultMatrix } from "../sim/system/fault-matrix.ts";
import { runSoak, soakFailed } from "../sim/system/soak.ts";

export class FaultUsageError extends Error {
  override name = "FaultUsageError";
}

export interface FaultsCommandOptions {
  engine?: string;
  json: boolean;
  /** Comma-separated fault keys. */
  only?: string;
  /** Comma-separated workload names. */
  workloads?: string;
  commands?: string;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new FaultUsageError(`--${name} ${JSON.stringify(value)} is not a positive integer`);
  return n;
}

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

export const FAULTS_HELP = `faults: ${FAULT_KINDS.map((k) => k.key).join(", ")}
workloads: ${WORKLOAD_KINDS.map((w) => w.name).join(", ")}`;

export async function faultsCommand(options: FaultsCommandOptions): Promise<number> {
  const only = list(options.only);
  const workloads = list(options.workloads);
  for (const key of only ?? []) if (!FAULT_KINDS.some((k) => k.key === key)) throw new FaultUsageError(`--only ${key}: not a fault (${FAULT_KINDS.map((k) => k.key).join(", ")})`);
  for (const name of workloads ?? []) if (!WORKLOAD_KINDS.some((w) => w.name === name)) throw new FaultUsageError(`--workloads ${name}: not a workload (${WORKLOAD_KINDS.map((w) => w.name).join(", ")})`);
  const commands = positiveInteger("commands", options.commands, 48);
  const result = await runFaultMatrix({
    engine: options.engine,
    only,
    workloads,
    commands,
    onCell: options.json ? undefined : (c) => process.stderr.write(`${cellFailed(c) ? "FAIL" : "ok  "} ${c.fault} ${c.workload}: ${c.reported}; ${c.recovery}\n`),
  });
  if (options.json) console.log(JSON.stringify(result, null, 1));
  else {
    console.log(formatFaultTable(result));
    console.log(`\n${result.cells.length} runs on the ${result.engine} engine, ${commands} commands each, ${(result.wallMs / 1000).toFixed(1)} s; ${result.failures.length} failed`);
    for (const c of result.failures) console.log(`FAILED ${c.fault} / ${c.workload}: ${c.hang ? "hang; " : ""}${c.reportedOk ? "" : `report "${c.reported}" is not what the fault must produce; `}${c.recovery}; ${c.dataErrors.slice(0, 3).join("; ")}`);
  }
  return result.failures.length === 0 ? 0 : 1;
}

export interface SoakCommandOptions {
  commands?: string;
  faultRate?: string;
  seed?: string;
  engine?: string;
  json: boolean;
  faults?: string;
}

export async function soakCommand(options: SoakCommandOptions): Promise<number> {
  const commands = positiveInteger("commands", options.commands, 1000);
  const rate = options.faultRate === undefined ? 0.01 : Number(options.faultRate);
  if (!(rate >= 0 && rate <= 1)) throw new FaultUsageError(`--fault-rate ${JSON.stringify(options.faultRate)} is not a probability in 0..1`);
  const seed = options.seed === undefined ? 1 : Number(options.seed);
  if (!Number.isSafeInteger(seed)) throw new FaultUsageError(`--seed ${JSON.stringify(options.seed)} is not an integer`);
  const faults = list(options.faults);
  for (const key of faults ?? []) if (!FAULT_KINDS.some((k) => k.key === key)) throw new FaultUsageError(`--faults ${key}: not a fault (${FAULT_KINDS.map((k) => k.key).join(", ")})`);
  let lastShown = 0;
  const result = await runSoak({
    commands,
    faultRate: rate,
    seed,
    engine: options.engine,
    faults,
    onProgress: options.json
      ? undefined
      : (r) => {
          if (r.commands - lastShown < 1000 && r.commands < commands) return;
          lastShown = r.commands;
          process.stderr.write(`${r.commands} commands, ${r.injected_faults} faults, ${(r.wallMs / 1000).toFixed(0)} s\n`);
        },
  });
  const counts = {
    commands: result.commands,
    completed: result.completed,
    failed_reported: result.failed_reported,
    injected_faults: result.injected_faults,
    reported_faults: result.reported_faults,
    hangs: result.hangs,
    silent_corruptions: result.silent_corruptions,
  };
  if (options.json) console.log(JSON.stringify(counts));
  else {
    for (const [key, value] of Object.entries(counts)) console.log(`${key.padEnd(20)} ${value}`);
    console.log(`faults fired         ${Object.entries(result.faultsByKind).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
    console.log(`restarts             ${result.restarts}`);
    console.log(`simulated            ${(result.cycles / 250_000).toFixed(1)} ms (${result.cycles} cycles) on the ${result.engine} engine in ${(result.wallMs / 1000).toFixed(1)} s`);
    for (const p of result.problems) console.log(`problem: ${p}`);
  }
  return soakFailed(result) ? 1 : 0;
}
