// The figures of the main job (issue 11, `npm run bench:system`): fio jobs on the full system (the
// emitted controller on Verilator, or js when Verilator is missing; the link model; the SSD model), each
// next to the analytic estimate and the link model's ceiling of the same system, printed as a table with
// the goals as PASS/MISS lines, and plotted as SVG under docs/.
//
//   npx tsx sim/bench/system-figures.ts [--engine js|verilator] [--quick] [--only ID[,ID...]] [--workers N]
//                                       [--json] [--save FILE] [--plots DIR | --no-plots]
//   npx tsx sim/bench/system-figures.ts --list-jobs [--engine E] [--quick] [--only ...]
//   npx tsx sim/bench/system-figures.ts --merge FILE... [--json] [--save FILE] [--plots DIR | --no-plots]
// --json prints the results as JSON instead of the table; --save FILE writes that JSON as well.
//
// The matrix is in figures-matrix.ts (ids: --list-jobs). The configurations run in parallel on worker
// threads, one per core (figures-pool.ts); a single configuration, or --workers 1, runs in this thread.
// --list-jobs prints each configuration as an independent command line whose JSON a later --merge turns
// into the same table and plots: a CI matrix or a cluster array job can spread the sweep over machines.
// --only takes ids or group names (table, queue-depth, block-size, what-if, speed); --quick runs the
// goal cases at MPS 256 and the profiled speed case. Plots are written only when every point of a plot
// is in the results (a partial run leaves docs/ alone).
//
// Sizes, chosen for a steady state at a few seconds to a minute of simulation each:
//  - sequential jobs: about 6 MiB in the measured window (24 to 1536 commands: 48 of 128 KiB, 1536 of
//    4 KiB, 24 of 1 MiB);
//  - random 4 KiB: 300 commands at QD1, 300 + 100 per unit of depth above (2000 at most), over a 64 MiB
//    region (random offsets rarely meet, so writes are seldom held back as overlapping);
//  - ramp_time = twice the estimated mean latency of the job (whole µs): every slot, buffer and queue
//    has turned over before the window opens; the job runs enough extra commands to cover the ramp;
//  - the reference host (QD1 cases): 20 commands of warm-up, 300 measured;
//  - the speed cases: 16 commands of 128 KiB (busy link, profiled) and 500 random 4 KiB reads, per engine.
// Writes stay inside the SSD model's write cache (256 MiB fastSsd, 64 MiB consumerSsd): the write
// figures are the cache's, as a short fio run on a real drive would show.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../../hdl/location.ts";
import { type EngineName, resolveEngine, verilatorAvailable } from "../engine/index.ts";
import { type FigureConfig, FigureSelectionError, figureCommandLine, figureMatrix, quickIds, selectFigures } from "./figures-matrix.ts";
import { runFiguresInWorkers } from "./figures-pool.ts";
import { FiguresMergeError, figurePlots, figuresDocument, formatFigures, mergeOutcomes, parseFiguresDocument } from "./figures-report.ts";
import { type FigureOutcome, FIGURES_JSON_VERSION, isFailure, runFigure } from "./figures-run.ts";
import { formatBytesPerSecond } from "../estimate/report.ts";

const USAGE = `usage: npx tsx sim/bench/system-figures.ts [--engine js|verilator] [--quick] [--only ID[,ID...]] [--workers N] [--json] [--save FILE] [--plots DIR | --no-plots]
       npx tsx sim/bench/system-figures.ts --list-jobs [--engine E] [--quick] [--only ...]
       npx tsx sim/bench/system-figures.ts --merge FILE... [--json] [--save FILE] [--plots DIR | --no-plots]`;

class UsageError extends Error {}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function progressLine(o: FigureOutcome, done: number, total: number): string {
  const head = `[${String(done).padStart(String(total).length)}/${total}] ${o.id}`;
  if (isFailure(o)) return `${head}: FAILED ${o.failed.split("\n")[0]}`;
  return `${head}: ${formatBytesPerSecond(o.simulated.bytesPerSecond)} (estimate ${formatBytesPerSecond(o.estimate.bytesPerSecond)}), ${o.sim.cycles} cycles in ${o.sim.wallSeconds.toFixed(1)} s (${o.engine})`;
}

async function runInThisThread(configs: readonly FigureConfig[], engine: EngineName): Promise<FigureOutcome[]> {
  const outcomes: FigureOutcome[] = [];
  for (const c of configs) {
    let outcome: FigureOutcome;
    try {
      outcome = await runFigure(c, engine);
    } catch (error) {
      outcome = { version: FIGURES_JSON_VERSION, id: c.id, config: c, engine: c.engine ?? engine, failed: (error as Error).stack ?? String(error) };
    }
    outcomes.push(outcome);
    log(progressLine(outcome, outcomes.length, configs.length));
  }
  return outcomes;
}

function writePlots(outcomes: readonly FigureOutcome[], dir: string): void {
  const plots = figurePlots(outcomes);
  if (plots.length === 0) {
    log("plots: not written (a plot is written only when all of its configurations are in the results)");
    return;
  }
  mkdirSync(dir, { recursive: true });
  for (const p of plots) {
    const file = join(dir, p.file);
    writeFileSync(file, p.svg);
    log(`plot: ${file}`);
  }
}

function emit(outcomes: readonly FigureOutcome[], json: boolean, source: string, save: string | undefined): void {
  const document = `${JSON.stringify(figuresDocument(outcomes), null, 2)}\n`;
  if (save !== undefined) {
    writeFileSync(save, document);
    log(`results: ${save}`);
  }
  if (json) process.stdout.write(document);
  else process.stdout.write(`${formatFigures(outcomes, source).join("\n")}\n`);
}

/** The command as given, for the report's heading (a README quotes it). */
function commandLine(argv: readonly string[]): string {
  const event = process.env.npm_lifecycle_event;
  if (event === "bench:system") return ["npm run bench:system", ...(argv.length ? ["--", ...argv] : [])].join(" ");
  return ["npx tsx sim/bench/system-figures.ts", ...argv].join(" ");
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      engine: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string", multiple: true },
      workers: { type: "string" },
      json: { type: "boolean", default: false },
      save: { type: "string" },
      plots: { type: "string" },
      "no-plots": { type: "boolean", default: false },
      "list-jobs": { type: "boolean", default: false },
      merge: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const plotsDir = values["no-plots"] ? undefined : resolve(values.plots ?? join(projectRoot, "docs"));

  if (values.merge) {
    if (positionals.length === 0) throw new UsageError("--merge: name the JSON files of the runs (FILE...)");
    const inputs = positionals.map((file) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new FiguresMergeError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      return parseFiguresDocument(text, file);
    });
    const order = figureMatrix(["js", "verilator"]).map((c) => c.id);
    const { outcomes, notes } = mergeOutcomes(inputs, order);
    for (const note of notes) log(`merge: ${note}`);
    emit(outcomes, values.json, commandLine(argv), values.save);
    if (plotsDir) writePlots(outcomes, plotsDir);
    return outcomes.some(isFailure) ? 1 : 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (files go after --merge)`);

  const haveVerilator = verilatorAvailable();
  const engine: EngineName = values.engine !== undefined ? resolveEngine(values.engine) : haveVerilator ? "verilator" : "js";
  if (engine === "verilator" && !haveVerilator) throw new UsageError("--engine verilator: Verilator is not installed (npm run setup installs it; --engine js needs nothing)");
  const speedEngines: EngineName[] = haveVerilator ? ["js", "verilator"] : ["js"];
  const matrix = figureMatrix(speedEngines);
  const only = (values.only ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
  let configs = matrix;
  if (values.quick) configs = selectFigures(configs, quickIds(engine));
  if (only.length > 0) configs = selectFigures(values.quick ? configs : matrix, only);
  if (configs.length === 0) throw new UsageError("no configuration selected");

  if (values["list-jobs"]) {
    for (const c of configs) console.log(figureCommandLine(c, values.engine !== undefined ? engine : undefined));
    return 0;
  }

  const workers = values.workers !== undefined ? Number(values.workers) : availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers=${values.workers}: not a whole number of workers >= 1`);
  const started = performance.now();
  log(`system figures: ${configs.length} configuration(s) on the ${engine} engine${configs.some((c) => c.engine) ? " (the speed cases on their own engines)" : ""}, ${Math.min(workers, configs.length)} worker thread(s)`);
  const outcomes =
    workers === 1 || configs.length === 1
      ? await runInThisThread(configs, engine)
      : await runFiguresInWorkers(configs, {
          engine,
          workers,
          onPrepared: (key, seconds) => log(`model ready: ${key} (${seconds.toFixed(1)} s)`),
          onOutcome: (o, done, total) => log(progressLine(o, done, total)),
        });
  const seconds = (performance.now() - started) / 1000;
  log(`done in ${seconds.toFixed(0)} s`);
  emit(outcomes, values.json, `${commandLine(argv)} (${seconds.toFixed(0)} s of wall time, ${Math.min(workers, configs.length)} worker thread(s), ${availableParallelism()} cores)`, values.save);
  if (plotsDir) writePlots(outcomes, plotsDir);
  return outcomes.some(isFailure) ? 1 : 0;
}

// `--list-jobs | head`: a reader that stops early is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || error instanceof FigureSelectionError || error instanceof FiguresMergeError) {
    console.error(`system-figures: ${error.message}\n${USAGE}`);
    process.exitCode = 2;
  } else throw error;
}
