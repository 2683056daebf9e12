// Runs the figures benchmark's configurations on worker threads (node:worker_threads), one worker per
// core by default (os.availableParallelism()): each worker takes the next configuration, runs it
// (figures-worker.ts -> figures-run.ts) and posts the JSON result back.
//
// First every distinct model (engine x core parameters, figures-matrix.ts modelKey) is prepared
// once, on its own worker: the Verilator build writes its private folder under the process id, so two
// threads of one process must never build the same model at once; later runs load it from .cache/.
// The first model is prepared alone: on a fresh clone it also compiles Verilator's runtime, whose
// objects are likewise written under the process id.
//
// The workers run TypeScript: each starts with a line that registers tsx's loader in the thread
// (Node 20 does not hand a loader given to the main thread on to workers) and imports the worker module.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { EngineName } from "../engine/index.ts";
import { type FigureConfig, modelKey } from "./figures-matrix.ts";
import type { FigureOutcome } from "./figures-run.ts";
import { FIGURES_JSON_VERSION } from "./figures-run.ts";
import type { WorkerReply, WorkerTask } from "./figures-worker.ts";

export interface PoolOptions {
  engine: EngineName;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Called as each configuration finishes (results arrive in completion order). */
  onOutcome?: (outcome: FigureOutcome, done: number, total: number) => void;
  /** Called as each model is ready. */
  onPrepared?: (key: string, seconds: number) => void;
}

/** Workers that have exited (an idle worker may die between tasks: the next task then gets a new one). */
const exited = new WeakSet<Worker>();

function startWorker(): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./figures-worker.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  const worker = new Worker(bootstrap, { eval: true });
  // Between tasks nobody listens for errors; an idle worker's error must not end the process (its next task fails instead).
  worker.on("error", () => undefined);
  worker.on("exit", () => exited.add(worker));
  return worker;
}

/**
 * Runs `tasks` on up to `count` workers, each task on the next free worker; resolves with the replies
 * in task order. A worker that dies fails its task, and a new worker takes its place.
 */
async function runTasks(tasks: readonly WorkerTask[], count: number, onReply: (reply: WorkerReply, task: WorkerTask) => void): Promise<WorkerReply[]> {
  const replies: WorkerReply[] = new Array(tasks.length);
  if (tasks.length === 0) return replies;
  let next = 0;
  const lane = async (): Promise<void> => {
    let worker = startWorker();
    try {
      while (next < tasks.length) {
        const index = next++;
        const task = tasks[index];
        if (exited.has(worker)) worker = startWorker();
        const reply = await new Promise<WorkerReply>((resolve) => {
          const onMessage = (message: WorkerReply) => {
            cleanup();
            resolve(message);
          };
          const onError = (error: Error) => {
            cleanup();
            resolve({ kind: "failed", failure: { version: FIGURES_JSON_VERSION, id: task.config.id, config: task.config, engine: task.config.engine ?? task.engine, failed: `worker: ${error.stack ?? error.message}` } });
          };
          const onExit = (code: number) => onError(new Error(`the worker exited with code ${code}`));
          const cleanup = () => {
            worker.off("message", onMessage);
            worker.off("error", onError);
            worker.off("exit", onExit);
          };
          worker.on("message", onMessage);
          worker.on("error", onError);
          worker.on("exit", onExit);
          worker.postMessage(task);
        });
        replies[index] = reply;
        onReply(reply, task);
        if (reply.kind === "failed" && reply.failure.failed.startsWith("worker:")) {
          await worker.terminate();
          worker = startWorker();
        }
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(count, tasks.length)) }, lane));
  return replies;
}

/** Runs the configurations on worker threads; the outcomes come back in the order of `configs`. */
export async function runFiguresInWorkers(configs: readonly FigureConfig[], options: PoolOptions): Promise<FigureOutcome[]> {
  const count = options.workers ?? availableParallelism();
  const engine = options.engine;
  const models = new Map<string, FigureConfig>();
  for (const c of configs) if (!models.has(modelKey(c, engine))) models.set(modelKey(c, engine), c);
  const failedModels = new Map<string, string>();
  if (count > 1 && configs.length > 1) {
    const prepare: WorkerTask[] = [...models.values()].map((config) => ({ kind: "prepare", config, engine }));
    const onPrepared = (reply: WorkerReply, task: WorkerTask) => {
      const key = modelKey(task.config, engine);
      if (reply.kind === "prepared") options.onPrepared?.(key, reply.seconds);
      else if (reply.kind === "failed") failedModels.set(key, reply.failure.failed);
    };
    await runTasks(prepare.slice(0, 1), 1, onPrepared);
    await runTasks(prepare.slice(1), count, onPrepared);
  }
  const runnable = configs.filter((c) => !failedModels.has(modelKey(c, engine)));
  let done = 0;
  const outcomes = new Map<string, FigureOutcome>();
  for (const c of configs) {
    const why = failedModels.get(modelKey(c, engine));
    if (why !== undefined) {
      const failure: FigureOutcome = { version: FIGURES_JSON_VERSION, id: c.id, config: c, engine: c.engine ?? engine, failed: why };
      outcomes.set(c.id, failure);
      options.onOutcome?.(failure, ++done, configs.length);
    }
  }
  // Longest first (by the cycles they will likely need), so that the last worker does not start a long one alone.
  const tasks: WorkerTask[] = [...runnable].sort((a, b) => weight(b) - weight(a)).map((config) => ({ kind: "run", config, engine }));
  await runTasks(tasks, count, (reply) => {
    const outcome = reply.kind === "result" ? reply.result : reply.kind === "failed" ? reply.failure : undefined;
    if (!outcome) return;
    outcomes.set(outcome.id, outcome);
    options.onOutcome?.(outcome, ++done, configs.length);
  });
  return configs.map((c) => outcomes.get(c.id)!);
}

/** Rough cost of a configuration: the bytes it moves (busy cycles), the js engine's cases several times more. */
function weight(c: FigureConfig): number {
  const bytes = c.windowCommands * c.bs;
  return bytes * ((c.engine ?? "verilator") === "js" ? 8 : 1);
}
