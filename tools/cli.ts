// The `nvme-host` command line. Exit codes: 0 success, 1 the job found a problem (lint
// findings, generated/ out of date), 2 bad usage.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { projectRoot } from "../hdl/location.ts";
import { benchHdlEmit } from "../sim/bench/hdl-emit.ts";
import { BLACK_BOX_DIR, emitAllDesigns, writeGenerated } from "./generate.ts";
import { ERASE_KIND_OPTIONS, EraseUsageError, eraseCommand } from "./erase-command.ts";
import { FAULTS_HELP, FaultUsageError, faultsCommand, soakCommand } from "./fault-commands.ts";
import { IdentifyUsageError, identifyCommand } from "./identify.ts";
import { JobUsageError, estimateCommand, simCommand } from "./sim-command.ts";
import { lintFiles } from "./lint.ts";
import { formalCommand, formalProofNames } from "./formal-command.ts";
import { formatSynthTree, hierarchyHash, synthesize } from "./synth.ts";
import { type ReportEntry, figuresOf, overBudget, readBudgets, writeReport } from "./synth-budget.ts";

interface Command {
  summary: string;
  usage: string;
  options: ParseArgsConfig["options"];
  run(values: Record<string, unknown>, positionals: string[]): Promise<number>;
  /** Commands whose options are fio's (sim, estimate) take the raw arguments instead of parseArgs' values. */
  runRaw?(args: string[]): Promise<number>;
}

const defaultOut = join(projectRoot, "generated");

const JOB_OPTIONS_HELP = `fio options: --rw=read|write|randread|randwrite|rw|randrw --bs=SIZE --iodepth=N --size=SIZE --offset=SIZE --number_ios=N
  --runtime=TIME --ramp_time=TIME --time_based --rwmixread=PCT --numjobs=N --verify=METHOD --randseed=N --name=JOB
  (fio's units: 4k, 1m, 2ms, 500us; options before the first --name are global; a job file's [global] is overridden by them)
system: --ssd PRESET|FILE.json --gen 1|2|3 --lanes 1|2|4|8 --mps 128|256|512 --mrrs 128..4096 --slots N --buffer SIZE
  --max-piece SIZE --engine js|verilator|native
array (issue 14): --ssds 1|2|4 (that many --ssd SSDs behind a PCIe switch, striped RAID 0 into one device)
  --switch gen2x4|gen2x4x2|asm1184e (the switch model's preset, default gen2x4; only with --ssds)
  --topology FILE.json (the switch and each downstream port's SSD or null, instead of --ssds and --ssd)
  --stripe SIZE (RAID 0 stripe, a power of two 4k..1m, default 128k; only with --ssds or --topology)
  with an array, --slots, --buffer and --max-piece are each SSD's controller lane's`;

const commands: Record<string, Command> = {
  gen: {
    summary: "emit every design of rtl-src/ as Verilog into generated/",
    usage: "nvme-host gen [--out DIR] [--check] [--json]",
    options: {
      out: { type: "string" },
      check: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
    async run(values) {
      const out = resolve(String(values.out ?? defaultOut));
      if (values.check) {
        const stale = staleFiles(out);
        if (values.json) console.log(JSON.stringify({ upToDate: stale.length === 0, stale }));
        else if (stale.length === 0) console.log(`${out} matches rtl-src/`);
        else console.error(`${out} differs from what rtl-src/ emits (run \`npm run gen\`):\n  ${stale.join("\n  ")}`);
        return stale.length === 0 ? 0 : 1;
      }
      const { files, stubs, warnings } = writeGenerated(out);
      if (values.json) {
        const list = (dir: string, fs: typeof files) => fs.map((f) => ({ file: join(dir, f.fileName), module: f.moduleName, bytes: f.text.length }));
        console.log(JSON.stringify({ out, files: list("", files), stubs: list(BLACK_BOX_DIR, stubs), warnings }));
      } else {
        for (const f of files) console.log(`wrote ${join(out, f.fileName)} (${f.text.split("\n").length} lines)`);
        for (const f of stubs) console.log(`wrote ${join(out, BLACK_BOX_DIR, f.fileName)} (black-box stub)`);
        for (const w of warnings) console.warn(`warning: ${w}`);
      }
      return 0;
    },
  },
  lint: {
    summary: "lint the emitted Verilog with Verilator -Wall, Yosys and Icarus -g2005",
    usage: "nvme-host lint [--dir DIR] [--json]",
    options: { dir: { type: "string" }, json: { type: "boolean", default: false } },
    async run(values) {
      const { files, stubs } = values.dir ? readGeneratedDir(resolve(String(values.dir))) : emitAllDesigns();
      const report = await lintFiles(files, { library: stubs });
      if (values.json) console.log(JSON.stringify({ files: files.length, ...report }));
      else {
        for (const s of report.skipped) console.warn(`skipped: ${s}`);
        for (const f of report.findings) console.log(`${f.tool} ${f.module}:\n${f.message}\n`);
        console.log(`${files.length} files, ${report.findings.length} findings`);
      }
      return report.findings.length === 0 && report.skipped.length === 0 ? 0 : 1;
    },
  },
  formal: {
    summary:
      "prove the formal properties (DSL assert/assume) of the blocks with Yosys's SAT solver, on the emitted Verilog: each proof's method and depth, pass or fail with the failing cycle; --broken runs the deliberately broken variants, which must fail",
    usage: "nvme-host formal [PROOF...] [--broken] [--trace] [--json]",
    options: {
      broken: { type: "boolean", default: false },
      trace: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
    async run(values, positionals) {
      const status = await formalCommand(positionals, { broken: values.broken === true, trace: values.trace === true, json: values.json === true });
      if (status === "usage") throw new UsageError(`unknown proof; proofs: ${formalProofNames().join(", ")}`);
      return status;
    },
  },
  synth: {
    summary:
      "resource estimate from Yosys synth_xilinx -family xc7 (LUTs, FFs, BRAM, DSP, LUT RAM, logic levels); --path shows the longest path, --tree the figures per submodule instance (a second, hierarchical synthesis); --budget checks tools/synth-budget.json",
    usage: "nvme-host synth [MODULE...] [--path] [--tree] [--json] | synth --budget [--write-report] [--json]",
    options: {
      json: { type: "boolean", default: false },
      path: { type: "boolean", default: false },
      tree: { type: "boolean", default: false },
      budget: { type: "boolean", default: false },
      "write-report": { type: "boolean", default: false },
    },
    async run(values, positionals) {
      const { files, stubs } = emitAllDesigns();
      const everyFile = [...files, ...stubs];
      if (values["write-report"] && !values.budget) throw new UsageError("--write-report goes with --budget");
      if (values.budget) {
        if (positionals.length > 0) throw new UsageError("--budget synthesises the tops of tools/synth-budget.json; name no module");
        if (values.tree) throw new UsageError("--tree goes with modules named (or all), not with --budget");
        const budgets = readBudgets();
        const unknownTops = Object.keys(budgets).filter((t) => !files.some((f) => f.moduleName === t));
        if (unknownTops.length > 0) {
          console.error(`tools/synth-budget.json names modules rtl-src/ does not emit: ${unknownTops.join(", ")}`);
          return 1;
        }
        const entries: Record<string, ReportEntry> = {};
        const over: string[] = [];
        for (const [top, budget] of Object.entries(budgets)) {
          const report = await synthesize(everyFile, top);
          entries[top] = { ...figuresOf(report), blackBoxes: report.blackBoxes, sourceHash: hierarchyHash(everyFile, top) };
          over.push(...overBudget(top, figuresOf(report), budget));
        }
        if (values["write-report"]) writeReport(entries);
        if (values.json) console.log(JSON.stringify({ tops: entries, budgets, over }));
        else {
          const width = Math.max(6, ...Object.keys(entries).map((t) => t.length));
          console.log(`${"module".padEnd(width)}   LUTs (budget)    FFs (budget)  BRAM36  DSP  levels (budget)`);
          for (const [top, e] of Object.entries(entries)) {
            const b = budgets[top];
            console.log(`${top.padEnd(width)} ${`${e.luts} (${b.luts})`.padStart(14)} ${`${e.flipFlops} (${b.flipFlops})`.padStart(15)} ${String(e.blockRam36).padStart(7)} ${String(e.dsp).padStart(4)} ${`${e.logicLevels} (${b.logicLevels})`.padStart(15)}`);
          }
          for (const line of over) console.error(`over budget: ${line}`);
          if (values["write-report"]) console.log("wrote docs/synth-report.json");
        }
        return over.length === 0 ? 0 : 1;
      }
      const tops = positionals.length > 0 ? positionals : files.map((f) => f.moduleName);
      const unknown = tops.filter((t) => !files.some((f) => f.moduleName === t));
      if (unknown.length > 0) {
        console.error(`unknown module ${unknown.join(", ")}; emitted modules: ${files.map((f) => f.moduleName).join(", ")}`);
        return 2;
      }
      const reports = [];
      for (const top of tops) reports.push(await synthesize(everyFile, top, { tree: values.tree === true }));
      if (values.json) console.log(JSON.stringify(reports));
      else {
        const width = Math.max(6, ...reports.map((r) => r.top.length));
        console.log(`${"module".padEnd(width)}   LUTs    FFs  BRAM36  DSP  LUTRAM  logic levels  black boxes`);
        for (const r of reports) {
          const boxes = Object.entries(r.blackBoxes).map(([name, n]) => `${name} x${n}`).join(", ");
          console.log(`${r.top.padEnd(width)} ${String(r.luts).padStart(6)} ${String(r.flipFlops).padStart(6)} ${String(r.blockRam36).padStart(7)} ${String(r.dsp).padStart(4)} ${String(r.lutRam).padStart(7)} ${String(r.logicLevels).padStart(13)}  ${boxes}`);
        }
        if (values.tree) for (const r of reports) console.log(`\n${formatSynthTree(r).join("\n")}`);
        if (values.path) {
          for (const r of reports) {
            console.log(`\n${r.top}: longest path, ${r.logicLevels} levels\n  from ${r.longestPathFrom.join(", ")}\n${r.longestPath.map((p) => `  ${p.cell.padEnd(7)} -> ${p.drives}`).join("\n")}\n  to ${r.longestPathTo.join(", ")}`);
          }
        }
      }
      return 0;
    },
  },
  identify: {
    summary: "bring the SSD up in the full-system simulation and print what the hardware found (like nvme id-ctrl / id-ns)",
    usage: "nvme-host identify [--ssd PRESET|FILE.json] [--ssds 1|2|4 [--switch PRESET] | --topology FILE.json] [--engine js|verilator|native] [--json] [--trace FILE] [--vcd FILE]",
    options: {
      ssd: { type: "string" },
      ssds: { type: "string" },
      topology: { type: "string" },
      switch: { type: "string" },
      engine: { type: "string" },
      json: { type: "boolean", default: false },
      trace: { type: "string" },
      vcd: { type: "string" },
    },
    async run(values) {
      try {
        return await identifyCommand({
          ssd: values.ssd as string | undefined,
          engine: values.engine as string | undefined,
          json: values.json === true,
          trace: values.trace as string | undefined,
          vcd: values.vcd as string | undefined,
          ssds: values.ssds as string | undefined,
          topology: values.topology as string | undefined,
          switch: values.switch as string | undefined,
        });
      } catch (error) {
        if (error instanceof IdentifyUsageError) throw new UsageError(error.message);
        throw error;
      }
    },
  },
  erase: {
    summary: "erase the SSD in the full-system simulation (Format NVM or Sanitize, from the hardware's erase port) and print progress and result",
    usage: `nvme-host erase --kind ${ERASE_KIND_OPTIONS.join("|")} [--nsid N|all] [--check BLOCKS] [--ssd PRESET|FILE.json] [--engine js|verilator|native] [--json] [--trace FILE] [--vcd FILE]`,
    options: {
      kind: { type: "string" },
      nsid: { type: "string" },
      check: { type: "string" },
      ssd: { type: "string" },
      engine: { type: "string" },
      json: { type: "boolean", default: false },
      trace: { type: "string" },
      vcd: { type: "string" },
    },
    async run(values) {
      try {
        return await eraseCommand({
          kind: values.kind as string | undefined,
          nsid: values.nsid as string | undefined,
          check: values.check as string | undefined,
          ssd: values.ssd as string | undefined,
          engine: values.engine as string | undefined,
          json: values.json === true,
          trace: values.trace as string | undefined,
          vcd: values.vcd as string | undefined,
        });
      } catch (error) {
        if (error instanceof EraseUsageError) throw new UsageError(error.message);
        throw error;
      }
    },
  },
  faults: {
    summary: "run the fault matrix (every fault the models inject x every workload kind) on the full system and print what the controller reported",
    usage: `nvme-host faults [--engine js|verilator|native] [--json] [--only FAULT[,FAULT...]] [--workloads NAME[,NAME...]] [--commands N]
  ${FAULTS_HELP.replace(/\n/g, "\n  ")}`,
    options: {
      engine: { type: "string" },
      json: { type: "boolean", default: false },
      only: { type: "string" },
      workloads: { type: "string" },
      commands: { type: "string" },
    },
    async run(values) {
      try {
        return await faultsCommand({
          engine: values.engine as string | undefined,
          json: values.json === true,
          only: values.only as string | undefined,
          workloads: values.workloads as string | undefined,
          commands: values.commands as string | undefined,
        });
      } catch (error) {
        if (error instanceof FaultUsageError || error instanceof RangeError) throw new UsageError(error.message);
        throw error;
      }
    },
  },
  soak: {
    summary: "random verified commands with faults injected at a rate; counts hangs, silent corruptions and unreported faults",
    usage: "nvme-host soak --commands N --fault-rate R --seed S [--engine js|verilator|native] [--json] [--faults FAULT[,FAULT...]]",
    options: {
      commands: { type: "string" },
      "fault-rate": { type: "string" },
      seed: { type: "string" },
      engine: { type: "string" },
      json: { type: "boolean", default: false },
      faults: { type: "string" },
    },
    async run(values) {
      try {
        return await soakCommand({
          commands: values.commands as string | undefined,
          faultRate: values["fault-rate"] as string | undefined,
          seed: values.seed as string | undefined,
          engine: values.engine as string | undefined,
          json: values.json === true,
          faults: values.faults as string | undefined,
        });
      } catch (error) {
        if (error instanceof FaultUsageError) throw new UsageError(error.message);
        throw error;
      }
    },
  },
  sim: {
    summary: "run fio jobs on the full system (emitted controller, link model, SSD model) and report like fio",
    usage: `nvme-host sim [JOB.fio] [fio options] [system options] [--output-format=normal|json] [--trace FILE] [--vcd FILE]

${JOB_OPTIONS_HELP}`,
    options: {},
    run: async () => 2,
    runRaw: (args) => simCommand(args),
  },
  estimate: {
    summary: "predict bandwidth, IOPS and latency of fio jobs analytically, and name the binding constraint",
    usage: `nvme-host estimate [JOB.fio] [fio options] [system options] [--json]

${JOB_OPTIONS_HELP}`,
    options: {},
    run: async () => 2,
    runRaw: async (args) => estimateCommand(args),
  },
  bench: {
    summary: "benchmarks that print figures: --hdl (DSL speed), --link (link model), --nvme (SSD model), --sim (engines), --tlp (TLP layer line rate), --coupling (design-to-link-model coupling), --system (the main job's figures: fio jobs on the full system vs the estimate and the link ceiling, goals, plots in docs/)",
    usage: "nvme-host bench --hdl [--statements N] | --link | --nvme | --sim | --tlp | --coupling | --system  [--json]",
    options: {
      hdl: { type: "boolean", default: false },
      link: { type: "boolean", default: false },
      nvme: { type: "boolean", default: false },
      sim: { type: "boolean", default: false },
      tlp: { type: "boolean", default: false },
      coupling: { type: "boolean", default: false },
      system: { type: "boolean", default: false },
      statements: { type: "string" },
      json: { type: "boolean", default: false },
    },
    async run(values) {
      const scripts = benchScripts.filter((b) => values[b.flag]);
      if (!values.hdl && scripts.length === 0) {
        console.error("say what to benchmark: --hdl, --link, --nvme, --sim, --tlp, --coupling or --system");
        return 2;
      }
      let status = 0;
      if (values.hdl) status = runHdlBench(values);
      for (const bench of scripts) {
        const args = [tsxCli, join(projectRoot, bench.script), ...(values.json ? ["--json"] : [])];
        const result = spawnSync(process.execPath, args, { stdio: "inherit" });
        status ||= result.status ?? 1;
      }
      return status;
    },
  },
};

/** Benchmarks that live in their own scripts (each also runs alone with tsx). */
const benchScripts = [
  { flag: "link", script: "sim/bench/link-throughput.ts" },
  { flag: "nvme", script: "sim/bench/nvme-ssd.ts" },
  { flag: "sim", script: "sim/bench/sim-engines.ts" },
  { flag: "tlp", script: "sim/bench/tlp-layer.ts" },
  { flag: "coupling", script: "sim/bench/system-coupling.ts" },
  { flag: "system", script: "sim/bench/system-figures.ts" },
] as const;

const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");

function runHdlBench(values: Record<string, unknown>): number {
  const statements = values.statements ? Number(values.statements) : 10_000;
  if (!Number.isInteger(statements) || statements < 1) {
    console.error(`--statements must be a positive integer, got ${String(values.statements)}`);
    return 2;
  }
  benchHdlEmit(600); // warm up the parser and the JIT
  const result = benchHdlEmit(statements);
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`hdl: ${result.statements} statements built in ${result.buildMs.toFixed(0)} ms, elaborated and emitted in ${result.emitMs.toFixed(0)} ms`);
    console.log(`     total ${(result.buildMs + result.emitMs).toFixed(0)} ms (target < 2000 ms), ${(result.verilogBytes / 1024).toFixed(0)} KiB of Verilog`);
  }
  return 0;
}

function staleFiles(out: string): string[] {
  const { files, stubs } = emitAllDesigns();
  return [...staleIn(out, files, ""), ...staleIn(join(out, BLACK_BOX_DIR), stubs, `${BLACK_BOX_DIR}/`)];
}

function staleIn(dir: string, files: readonly { fileName: string; text: string }[], prefix: string): string[] {
  const stale: string[] = [];
  for (const f of files) {
    const path = join(dir, f.fileName);
    if (!existsSync(path)) stale.push(`${prefix}${f.fileName} (missing)`);
    else if (readFileSync(path, "utf8") !== f.text) stale.push(`${prefix}${f.fileName} (differs)`);
  }
  const expected = new Set(files.map((f) => f.fileName));
  if (existsSync(dir)) for (const name of readdirSync(dir)) if (name.endsWith(".v") && !expected.has(name)) stale.push(`${prefix}${name} (not emitted by rtl-src/)`);
  return stale;
}

/** The modules of a folder like generated/ (one per file), and the black-box stubs of its blackbox/ subfolder if it has one. */
function readGeneratedDir(dir: string) {
  if (!existsSync(dir)) throw new UsageError(`no such directory: ${dir}`);
  const stubDir = join(dir, BLACK_BOX_DIR);
  return { files: readVerilogDir(dir), stubs: existsSync(stubDir) ? readVerilogDir(stubDir) : [] };
}

function readVerilogDir(dir: string) {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".v"))
    .sort()
    .map((fileName) => ({ fileName, moduleName: fileName.replace(/\.v$/, ""), text: readFileSync(join(dir, fileName), "utf8") }));
}

class UsageError extends Error {}

function help(): string {
  const lines = ["usage: nvme-host <command> [options]   (nvme-host <command> --help for its options)", "", "commands:"];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(8)} ${c.summary}`);
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(help());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`${command.usage}\n\n${command.summary}`);
    return 0;
  }
  if (command.runRaw) {
    try {
      return await command.runRaw(rest);
    } catch (error) {
      if (error instanceof JobUsageError) {
        console.error(`${name}: ${error.message}\nusage: ${command.usage.split("\n")[0]}`);
        return 2;
      }
      throw error;
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${name}: ${(error as Error).message}\nusage: ${command.usage}`);
    return 2;
  }
  try {
    return await command.run(parsed.values as Record<string, unknown>, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
