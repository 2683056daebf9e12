// A worker thread of the figures benchmark (figures-pool.ts starts it): takes one task at a time
// from the main thread, runs it (figures-run.ts) and posts the JSON result back.
//
// Each worker loads its own copy of a Verilator model's addon. The addon keeps its models and port
// exchanges in process-wide tables (static vectors in the generated C++, sim/engine/verilator-build.ts)
// that are not guarded against threads: a worker creating a model grows the table while another
// worker's every cycle reads it. A copy of the .node file is a different shared object to the
// dynamic loader (a new inode; a hard link would not do), so each thread gets tables of its own.
// The copy is removed as soon as it is loaded (the mapping stays); Node's require cache then keeps
// this thread from loading the same addon twice.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parentPort, threadId } from "node:worker_threads";
import type { EngineName } from "../engine/index.ts";
import type { FigureConfig } from "./figures-matrix.ts";
import { type FigureFailure, FIGURES_JSON_VERSION, prepareFigureModel, runFigure } from "./figures-run.ts";

export type WorkerTask = { kind: "prepare" | "run"; config: FigureConfig; engine: EngineName };
export type WorkerReply =
  | { kind: "prepared"; id: string; seconds: number }
  | { kind: "result"; result: import("./figures-run.ts").FigureResult }
  | { kind: "failed"; failure: FigureFailure };

function privateAddons(): void {
  const dlopen = process.dlopen.bind(process);
  process.dlopen = ((module: object, filename: string, flags?: number) => {
    if (!filename.endsWith(".node")) return dlopen(module, filename, flags);
    const dir = mkdtempSync(join(tmpdir(), `nvme-host-figures-${process.pid}-${threadId}-`));
    const copy = join(dir, `${basename(dirname(filename))}-${basename(filename)}`);
    copyFileSync(filename, copy);
    try {
      return flags === undefined ? dlopen(module, copy) : dlopen(module, copy, flags);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }) as typeof process.dlopen;
}

if (parentPort) {
  const port = parentPort;
  privateAddons();
  port.on("message", (task: WorkerTask) => {
    void (async () => {
      const started = performance.now();
      try {
        if (task.kind === "prepare") {
          await prepareFigureModel(task.config, task.engine);
          port.postMessage({ kind: "prepared", id: task.config.id, seconds: (performance.now() - started) / 1000 } satisfies WorkerReply);
        } else {
          const result = await runFigure(task.config, task.engine);
          port.postMessage({ kind: "result", result } satisfies WorkerReply);
        }
      } catch (error) {
        const failure: FigureFailure = {
          version: FIGURES_JSON_VERSION,
          id: task.config.id,
          config: task.config,
          engine: task.config.engine ?? task.engine,
          failed: `${task.kind}: ${(error as Error).stack ?? String(error)}`,
        };
        port.postMessage({ kind: "failed", failure } satisfies WorkerReply);
      }
    })();
  });
}
