// The analytic estimator (sim/estimate/) next to the models it predicts: each configuration runs on
// the reference host over the link model and the SSD model (sim/testbench/reference-io-run.ts) and
// is estimated for the same host; the table shows both, the difference and the binding constraint.
// With --controller, the emitted core itself (Verilator, or js when Verilator is missing) against the
// estimate for the controller (sim/testbench/controller-io-run.ts).
// Run: npx tsx sim/bench/estimate-vs-model.ts [--quick] [--json] [--grid] [--controller]
//   --quick  the brief's table only at MPS 256; --grid adds queue-depth and block-size sweeps.
import { estimate } from "../estimate/estimate.ts";
import { verilatorAvailable } from "../engine/index.ts";
import { BRIEF_CASES, CONTROLLER_CASES, GRID_CASES, jobFor, systemFor, type ComparisonCase } from "../testbench/estimate-cases.ts";
import { runControllerIo } from "../testbench/controller-io-run.ts";
import { runReferenceIo } from "../testbench/reference-io-run.ts";

interface Row {
  label: string;
  measuredBytesPerSecond: number;
  estimatedBytesPerSecond: number;
  measuredIops: number;
  estimatedIops: number;
  measuredLatencyUs: number;
  estimatedLatencyUs: number;
  differencePercent: number;
  binding: string;
  wallSeconds: number;
}

async function compare(c: ComparisonCase, controller: boolean): Promise<Row> {
  const job = jobFor(c);
  const system = { ...systemFor(c), engine: verilatorAvailable() ? ("verilator" as const) : ("js" as const) };
  const options = { warmupCommands: c.warmup, commands: c.commands };
  const run = controller ? await runControllerIo(job, system, options) : await runReferenceIo(job, system, options);
  const e = estimate(job, system, undefined, { host: controller ? "controller" : "reference" });
  const isRead = c.rw.includes("read");
  const m = isRead ? run.read : run.write;
  const d = isRead ? e.read : e.write;
  const estimated = c.compare === "sustained" && e.writeCache ? e.writeCache.sustainedBytesPerSecond : d.bytesPerSecond;
  return {
    label: c.label,
    measuredBytesPerSecond: m.bytesPerSecond,
    estimatedBytesPerSecond: estimated,
    measuredIops: m.bytesPerSecond / c.bs,
    estimatedIops: estimated / c.bs,
    measuredLatencyUs: m.meanLatencyNs / 1e3,
    estimatedLatencyUs: d.meanLatencyNs / 1e3,
    differencePercent: (estimated / m.bytesPerSecond - 1) * 100,
    binding: e.binding,
    wallSeconds: run.wallSeconds,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const controller = args.includes("--controller");
  let cases: ComparisonCase[] = quick ? BRIEF_CASES.filter((c) => c.mps === 256) : BRIEF_CASES;
  if (args.includes("--grid")) cases = [...cases, ...GRID_CASES];
  if (controller) cases = CONTROLLER_CASES;
  const rows: Row[] = [];
  for (const c of cases) rows.push(await compare(c, controller));
  if (args.includes("--json")) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log(controller ? "estimate (controller) vs the emitted controller on the link and SSD models" : "estimate (reference host) vs the reference host on the link and SSD models");
  console.log("case                                      measured GB/s  estimate GB/s   diff    measured lat  estimate lat  binding");
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(42)} ${(r.measuredBytesPerSecond / 1e9).toFixed(4).padStart(12)} ${(r.estimatedBytesPerSecond / 1e9).toFixed(4).padStart(14)} ${r.differencePercent.toFixed(1).padStart(6)} % ${r.measuredLatencyUs.toFixed(1).padStart(10)} µs ${r.estimatedLatencyUs.toFixed(1).padStart(10)} µs  ${r.binding}`,
    );
  }
  console.log(`(wall time of the model runs ${rows.reduce((s, r) => s + r.wallSeconds, 0).toFixed(1)} s)`);
}

await main();
