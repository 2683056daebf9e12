// Where a simulation's CPU time goes, for the benchmarks that run fio jobs on the full system
// (sim/bench/job-runner.ts, sim/bench/system-figures.ts): the V8 sampling profiler (node:inspector,
// which also works inside a worker thread, profiling that thread) and a split of its self time by the
// part of the system the code belongs to: the engine (the model's cycle: the native Verilator call,
// or the js engine's compiled code), the link model, the SSD model, the user-port driver (its pattern
// words and checks), the full-system coupling and the runner, GC.
// And the CPU time of the calling thread, so that a run on a shared machine (or one worker among
// several) can say what it cost itself when the wall clock also counts the waits for a core.
import { readFileSync } from "node:fs";
import { Session } from "node:inspector";

/** The part of the system a profiled function belongs to, from its script URL. */
export function partOf(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "GC";
  if (functionName === "(idle)" || functionName === "(program)") return "idle/program";
  // A native call (the Verilator model's cycle) has no script of its own; the js engine's model is compiled from a string.
  if (url === "" || url.includes("/sim/engine/") || url.startsWith("nvme-host-model:")) return "engine";
  if (url.includes("/sim/pcie/")) return "link model";
  if (url.includes("/sim/nvme/")) return "SSD model";
  if (url.includes("/sim/testbench/") || url.includes("/sim/workload/pattern")) return "user-port driver";
  if (url.includes("/sim/system/") || url.includes("/sim/workload/")) return "coupling + runner";
  return "other";
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Per cent of the profile's self time by part (partOf), largest first, one decimal. */
export function splitProfile(profile: CpuProfile): Record<string, number> {
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parts: Record<string, number> = {};
  let total = 0;
  for (const node of profile.nodes) {
    if (node.callFrame.functionName === "dispatch" && node.callFrame.url === "") continue; // the inspector's own work
    const t = byNode.get(node.id) ?? 0;
    const part = partOf(node.callFrame.url, node.callFrame.functionName);
    parts[part] = (parts[part] ?? 0) + t;
    total += t;
  }
  if (total === 0) return {};
  return Object.fromEntries(Object.entries(parts).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round((1000 * v) / total) / 10]));
}

/** The `count` functions with the most self time, ms and "name url" (for a closer look). */
export function topFunctions(profile: CpuProfile, count = 15): { ms: number; name: string }[] {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  return profile.nodes
    .map((n) => ({ ms: (self.get(n.id) ?? 0) / 1000, name: `${n.callFrame.functionName} ${n.callFrame.url}` }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, count);
}

/** A running profile of the calling thread; stop() returns it. */
export class CpuProfiler {
  private readonly session = new Session();

  constructor() {
    this.session.connect();
  }

  start(): void {
    this.session.post("Profiler.enable");
    this.session.post("Profiler.start");
  }

  stop(): Promise<CpuProfile> {
    return new Promise((resolve, reject) =>
      this.session.post("Profiler.stop", (error, result) => {
        this.session.disconnect();
        if (error) reject(error);
        else resolve(result.profile as unknown as CpuProfile);
      }),
    );
  }
}

/**
 * Seconds of CPU the calling thread has used (Linux: /proc/thread-self/schedstat, which a worker
 * thread reads for itself); elsewhere the whole process's user + system time.
 */
export function threadCpuSeconds(): number {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[0]) / 1e9;
  } catch {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  }
}
