// `npm start`, the project's main job (issue 11): emit generated/, bring the default system up (the
// controller as generated/ builds it, Gen2 x4, the link-bound SSD model) and run a short sequential
// write whose verify phase reads every block back and checks it, printed like fio next to the
// analytic estimate. Verilator when it is installed, else the zero-install js engine; it says which.
//
// `--prepare` only builds the simulation model into .cache/ (the set-up calls it, so that the first
// `npm start` on a fresh clone does not wait for the Verilator compile).
import { type EngineName, verilatorAvailable } from "../sim/engine/index.ts";
import { estimate } from "../sim/estimate/estimate.ts";
import { formatEstimate } from "../sim/estimate/report.ts";
import { runJobs } from "../sim/system/job-runner.ts";
import { formatFioText, reportEntries } from "../sim/workload/fio-report.ts";
import { JOB_DEFAULTS, parseJobs } from "../sim/workload/fio-job.ts";
import { projectRoot } from "../hdl/location.ts";
import { join } from "node:path";
import { writeGenerated } from "./generate.ts";
import { parseSystemArguments } from "./system-options.ts";
import { simExtras } from "./sim-command.ts";

/** Enough data to pass every buffer many times over, short enough for seconds of wall time. */
const MAIN_JOB_ARGS: Record<EngineName, string[]> = {
  verilator: ["--name=seq-write-verify", "--rw=write", "--bs=128k", "--iodepth=32", "--size=8m", "--verify=crc32c"],
  js: ["--name=seq-write-verify", "--rw=write", "--bs=128k", "--iodepth=32", "--size=2m", "--verify=crc32c"],
  native: ["--name=seq-write-verify", "--rw=write", "--bs=128k", "--iodepth=32", "--size=8m", "--verify=crc32c"],
};

async function main(argv: string[]): Promise<number> {
  const prepareOnly = argv.includes("--prepare");
  const engine: EngineName = verilatorAvailable() ? "verilator" : "js";
  const started = performance.now();
  if (!prepareOnly) {
    const written = writeGenerated(join(projectRoot, "generated"));
    console.log(`generated/: ${written.files.length} Verilog files emitted from rtl-src/`);
  }
  const why = engine === "verilator" ? "Verilator is installed" : "Verilator is not installed (npm run setup installs it); the js engine needs nothing";
  console.log(`engine: ${engine} (${why})`);
  const { jobs } = parseJobs({ args: prepareOnly ? ["--rw=write", "--bs=4k", "--size=4k"] : MAIN_JOB_ARGS[engine] });
  const { system } = parseSystemArguments([], engine, {});
  const report = await runJobs(jobs, system);
  if (prepareOnly) {
    console.log(`simulation model ready in .cache/ (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    return 0;
  }
  const geometry = { lbaBytes: Number(report.bringup.ns.lba_bytes), mdtsBytes: Number(report.bringup.ctrl.mdts_bytes) };
  const estimates = jobs.map((job) => estimate(job, system, geometry));
  console.log(`\n${formatFioText(reportEntries(jobs, report.clones), { extras: simExtras(report, system, estimates) })}`);
  console.log("the estimate for the same job (nvme-host estimate):");
  for (const line of formatEstimate(estimates[0]).slice(0, 6)) console.log(`  ${line}`);
  const ok = report.verifyErrors === 0 && report.commandErrors === 0;
  console.log(`\nmain job ${ok ? "passed" : "FAILED"}: ${report.verifyErrors} verify errors, ${report.commandErrors} command errors, ${((performance.now() - started) / 1000).toFixed(0)} s of wall time`);
  console.log(`next: npx nvme-host sim --help, npx nvme-host estimate --help (defaults: ${JOB_DEFAULTS.bs} B blocks, iodepth ${JOB_DEFAULTS.iodepth})`);
  return ok ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
