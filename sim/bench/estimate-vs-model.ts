// The analytic estimator (sim/estimate/) next to the models it predicts: each configuration runs on
// the reference host over the link model and the SSD model (sim/testbench/reference-io-run.ts) and
// is estimated for the same host; the table shows both, the difference and the binding constraint.
// Run: npx tsx sim/bench/estimate-vs-model.ts [--quick] [--json] [--grid]
//   --quick  the brief's table only at MPS 256; --grid adds queue-depth and block-size sweeps.
import { estimate } from "../estimate/estimate.ts";
import { BRIEF_CASES, GRID_CASES, jobFor, systemFor, type ComparisonCase } from "../testbench/estimate-cases.ts";
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

async function compare(c: ComparisonCase): Promise<Row> {
  const job = jobFor(c);
  const system = systemFor(c);
  const run = await runReferenceIo(job, system, { warmupCommands: c.warmup, commands: c.commands });
  const e = estimate(job, system, undefined, { host: "reference" });
  const isRead = c.rw.includes("read");
  const m = isRead ? run.read : run.write;
  const d = isRead ? e.read : e.write;
  const estimated = c.compare === "sustained" && e.writeCache ? e.writeCache.sustainedBytesPerSecond : d.bytesPerSecond;
  return {
    label: c.label,
    measuredBytesPerSecond: m.bytesPerSecond,
    estimatedBytesPerSecond: estimated,
    measuredIops: m.iops,
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
  let cases = quick ? BRIEF_CASES.filter((c) => c.mps === 256) : BRIEF_CASES;
  if (args.includes("--grid")) cases = [...cases, ...GRID_CASES];
  const rows: Row[] = [];
  for (const c of cases) rows.push(await compare(c));
  if (args.includes("--json")) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log("estimate (reference host) vs the reference host on the link and SSD models");
  console.log("case                                      measured GB/s  estimate GB/s   diff    measured lat  estimate lat  binding");
  for (const r of rows) {
    console.log(
      `${r.label.padEnd(42)} ${(r.measuredBytesPerSecond / 1e9).toFixed(4).padStart(12)} ${(r.estimatedBytesPerSecond / 1e9).toFixed(4).padStart(14)} ${r.differencePercent.toFixed(1).padStart(6)} % ${r.measuredLatencyUs.toFixed(1).padStart(10)} µs ${r.estimatedLatencyUs.toFixed(1).padStart(10)} µs  ${r.binding}`,
    );
  }
  console.log(`(wall time of the model runs ${rows.reduce((s, r) => s + r.wallSeconds, 0).toFixed(1)} s)`);
}

await main();
