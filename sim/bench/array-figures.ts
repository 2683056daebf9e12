// The striped array's figures (issue 14, `npm run bench:array`): fio jobs through `nvme-host sim`'s runner
// on nvme_striped_core (rtl-src/top/nvme-striped-core.ts) with 1, 2 and 4 SSDs behind the switch, each
// next to the analytic estimate (sim/estimate/array-estimate.ts) and the root link's ceiling.
//
//   npx tsx sim/bench/array-figures.ts [--engine verilator|js] [--ssd PRESET] [--switch PRESET]
//        [--stripe SIZE] [--buffer SIZE] [--only seq,rand] [--rand-rw randread,randwrite] [--save FILE]
//
//  - seq: aggregate 128 KiB QD32 write and read of 1, 2 and 4 SSDs, next to min(link ceiling, N x the
//    measured one-SSD figure) and the estimate;
//  - rand: 4 KiB random at QD1, QD32 and QD8 x 2 jobs (group reporting) of 4 SSDs next to 1 SSD.
// Sizes: sequential jobs are time-based, 20 ms of simulated time measured over a 64 MiB region
// (about 36 MiB at the link's rate): a size-bound run ends once the lanes have drained, so the data
// their buffers hold as the window opens (fio counts a command's bytes when it completes) would count
// without its counterpart at the end, a bias of up to the buffers' size (1 MiB of lane buffers in a
// 32 MiB window: 3 %); a time-based window has the pipeline full at both ends. Random: 300 commands at
// QD1, 2000 at QD32, 2 x 1000 at QD8, over a 64 MiB region. Every job first runs a ramp (fio's
// ramp_time) of twice its estimated mean latency, as the main job's figures do
// (sim/bench/figures-matrix.ts), with the commands that take for the random jobs: every lane's buffer
// and the SSDs' queues have turned over before the window opens, so the figures are the steady
// state's, not the first command's latency spread over a short run. Reads of blocks never written read the SSD
// model's media as any other (its timing does not depend on the data). Writes stay in the SSD model's
// write cache (64 MiB consumerSsd): the figures are the cache's, as a short fio run on a real drive.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { estimateSystem, systemLinkCeiling } from "../estimate/system-estimate.ts";
import { runJobs } from "../system/job-runner.ts";
import { parseJobCommand } from "../../tools/sim-command.ts";

interface Row {
  table: "seq" | "rand";
  ssds: number;
  job: string;
  /** Measured: bytes/s and IOPS over the jobs' windows. */
  bytesPerSecond: number;
  iops: number;
  meanLatencyUs: number;
  estimateBytesPerSecond: number;
  ceilingBytesPerSecond: number;
  wallSeconds: number;
  errors: number;
  command: string;
}

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "verilator" },
    ssd: { type: "string", default: "consumerSsd" },
    switch: { type: "string", default: "gen2x4" },
    stripe: { type: "string" },
    buffer: { type: "string" },
    only: { type: "string", default: "seq,rand" },
    "rand-rw": { type: "string", default: "randread" },
    save: { type: "string" },
  },
});
const tables = new Set(values.only!.split(","));
const systemArgs = (ssds: number) => [
  "--ssds", String(ssds), "--ssd", values.ssd!, "--switch", values.switch!, "--engine", values.engine!,
  ...(values.stripe ? ["--stripe", values.stripe] : []),
  ...(values.buffer ? ["--buffer", values.buffer] : []),
];

const rows: Row[] = [];
/** The ramp, in estimated mean latencies of the job (as sim/bench/figures-matrix.ts). */
const RAMP_LATENCIES = 2;

/**
 * `fio` with a ramp: ramp_time = RAMP_LATENCIES x the estimate's mean latency (whole µs), and for a
 * job bound by --number_ios the commands that ramp takes added to it (a time-based job just runs on).
 */
function withRamp(fio: string[], ssds: number): string[] {
  const { jobs, system } = parseJobCommand([...fio, ...systemArgs(ssds)]);
  const e = estimateSystem(jobs[0], system);
  const direction = fio.some((a) => /^--rw=(rand)?read$/.test(a)) ? e.read : e.write;
  const rampUs = Math.max(1, Math.ceil((RAMP_LATENCIES * direction.meanLatencyNs) / 1000));
  const rampCommands = Math.ceil(((rampUs * 1000) / 1e9) * direction.iops / jobs.length);
  const job = jobs[0];
  return fio.map((a) => {
    if (a.startsWith("--number_ios=")) return `--number_ios=${(job.numberIos ?? 0) + rampCommands}`;
    return a;
  }).concat(`--ramp_time=${rampUs}us`);
}

async function measure(table: Row["table"], ssds: number, job: string, fio: string[]): Promise<Row> {
  const args = [...withRamp(fio, ssds), ...systemArgs(ssds)];
  const { jobs, system } = parseJobCommand(args);
  const started = performance.now();
  const report = await runJobs(jobs, system);
  const wallSeconds = (performance.now() - started) / 1000;
  let bytes = 0;
  let ios = 0;
  let runtimeNs = 0;
  let latencyNs = 0;
  for (const r of report.jobs) {
    for (const d of [r.read, r.write]) {
      bytes += d.ioBytes;
      ios += d.totalIos;
      runtimeNs = Math.max(runtimeNs, d.runtimeNs);
      latencyNs += d.clatNs.reduce((a, b) => a + b, 0);
    }
  }
  const estimates = jobs.map((j) => estimateSystem(j, system));
  const ceiling = systemLinkCeiling(system);
  const reading = fio.some((a) => /^--rw=(rand)?read$/.test(a));
  const row: Row = {
    table,
    ssds,
    job,
    bytesPerSecond: runtimeNs > 0 ? (bytes * 1e9) / runtimeNs : 0,
    iops: runtimeNs > 0 ? (ios * 1e9) / runtimeNs : 0,
    meanLatencyUs: ios > 0 ? latencyNs / ios / 1000 : 0,
    estimateBytesPerSecond: estimates.reduce((a, e) => a + e.total.bytesPerSecond, 0),
    ceilingBytesPerSecond: reading ? ceiling.read : ceiling.write,
    wallSeconds,
    errors: report.commandErrors + report.verifyErrors,
    command: `npx tsx tools/cli.ts sim ${args.join(" ")}`,
  };
  rows.push(row);
  const gb = (b: number) => (b / 1e9).toFixed(3);
  process.stderr.write(`${table} ${ssds} SSD ${job}: ${gb(row.bytesPerSecond)} GB/s, ${(row.iops / 1000).toFixed(1)}k IOPS, clat ${row.meanLatencyUs.toFixed(1)} µs (estimate ${gb(row.estimateBytesPerSecond)}, ceiling ${gb(row.ceilingBytesPerSecond)}), ${row.errors} errors, ${wallSeconds.toFixed(1)} s\n`);
  return row;
}

if (tables.has("seq")) {
  for (const ssds of [1, 2, 4]) {
    for (const rw of ["write", "read"]) await measure("seq", ssds, `seq ${rw} 128k QD32`, [`--rw=${rw}`, "--bs=128k", "--iodepth=32", "--size=64m", "--time_based", "--runtime=20ms", "--name=seq"]);
  }
}
if (tables.has("rand")) {
  for (const rw of values["rand-rw"]!.split(",")) {
    for (const ssds of [1, 4]) {
      await measure("rand", ssds, `${rw} 4k QD1`, [`--rw=${rw}`, "--bs=4k", "--iodepth=1", "--size=64m", "--number_ios=300", "--name=qd1"]);
      await measure("rand", ssds, `${rw} 4k QD32`, [`--rw=${rw}`, "--bs=4k", "--iodepth=32", "--size=64m", "--number_ios=2000", "--name=qd32"]);
      await measure("rand", ssds, `${rw} 4k QD8 x 2 jobs`, [`--rw=${rw}`, "--bs=4k", "--iodepth=8", "--numjobs=2", "--group_reporting", "--size=64m", "--number_ios=1000", "--name=qd8x2"]);
    }
  }
}

// The tables: sequential next to min(ceiling, N x one SSD) and the estimate; random, 4 SSDs next to 1.
const gb = (b: number) => (b / 1e9).toFixed(3).padStart(7);
const out: string[] = [];
const seq = rows.filter((r) => r.table === "seq");
if (seq.length > 0) {
  out.push(`Sequential, ${values.ssd} behind ${values.switch}, stripe ${values.stripe ?? "128k"}, lane buffers ${values.buffer ?? "128k"} (${values.engine}):`);
  out.push("  job                  SSDs  measured GB/s  min(ceiling, N x 1)  estimate  of ideal");
  for (const r of seq) {
    const one = seq.find((o) => o.ssds === 1 && o.job === r.job);
    const ideal = Math.min(r.ceilingBytesPerSecond, r.ssds * (one?.bytesPerSecond ?? Number.NaN));
    out.push(`  ${r.job.padEnd(20)} ${String(r.ssds).padStart(4)}  ${gb(r.bytesPerSecond)}        ${gb(ideal)}              ${gb(r.estimateBytesPerSecond)}  ${((100 * r.bytesPerSecond) / ideal).toFixed(0).padStart(4)} %`);
  }
}
const rand = rows.filter((r) => r.table === "rand");
if (rand.length > 0) {
  out.push("", `Random 4 KiB, ${values.ssd}, 4 SSDs next to 1 (${values.engine}):`);
  out.push("  job                         1 SSD kIOPS  4 SSDs kIOPS  estimate(4)  clat 4 SSDs µs");
  for (const r4 of rand.filter((r) => r.ssds === 4)) {
    const r1 = rand.find((r) => r.ssds === 1 && r.job === r4.job);
    out.push(`  ${r4.job.padEnd(26)}  ${((r1?.iops ?? 0) / 1000).toFixed(1).padStart(11)}  ${(r4.iops / 1000).toFixed(1).padStart(12)}  ${(r4.estimateBytesPerSecond / 4096 / 1000).toFixed(1).padStart(11)}  ${r4.meanLatencyUs.toFixed(1).padStart(14)}`);
  }
}
console.log(out.join("\n"));
if (values.save) writeFileSync(values.save, JSON.stringify(rows, null, 2));
