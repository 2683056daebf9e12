// Benchmark of the user-port driver's own cost per cycle (sim/testbench/user-port-driver.ts), without
// the cost of whatever it drives. The driver runs a generated workload against the TypeScript fake core
// (user-port-fake.ts) once, recording the fake's outputs after every edge; then the same driver (same
// seed, same commands: the same decisions) runs against a replay of that recording, whose peek is an
// array read and whose step is an increment. The replay run's time per tick is the driver's cost
// (pattern words, checks, pokes and peeks through the Simulator-like interface). The fake's own cost is
// the difference of the two runs.
//   npx tsx sim/bench/user-port-driver.ts [--cycles N] [--json]
import { parseArgs } from "node:util";
import type { SignalHandle, SignalRef } from "../engine/index.ts";
import { generateIoWorkload } from "../testbench/io-workloads.ts";
import { FakeUserCore, type FakeUserCoreOptions } from "../testbench/user-port-fake.ts";
import { UserPortDriver, type DriverReport, type UserPortSystem } from "../testbench/user-port-driver.ts";
import type { UserCommand } from "../testbench/user-command.ts";

const { values } = parseArgs({ options: { cycles: { type: "string", default: "400000" }, json: { type: "boolean", default: false } } });
const maxCycles = Number(values.cycles);

/** Replays recorded outputs: peek reads the frame of the current cycle, pokes are dropped. */
class ReplaySystem implements UserPortSystem {
  cycle = 0;
  private frame = 0;
  readonly sim: UserPortSystem["sim"];

  constructor(fake: FakeUserCore, private readonly recording: Uint32Array, private readonly frameWords: number) {
    const offsets = fake.sim.offsets;
    const handles = new Map(fake.sim.signals.map((s, index) => [s.name, { ...s, index } as SignalHandle]));
    const words = (ref: SignalRef) => offsets[(ref as SignalHandle).index];
    this.sim = {
      signal: (name: string) => handles.get(name)!,
      peek: (ref: SignalRef) => this.recording[this.frame + words(ref)],
      peekWords: (ref: SignalRef, out: Uint32Array) => {
        const at = this.frame + words(ref);
        out[0] = this.recording[at];
        out[1] = this.recording[at + 1];
        return out;
      },
      poke: () => {},
      pokeWords: () => {},
    };
  }

  step(cycles = 1): void {
    this.cycle += cycles;
    this.frame += cycles * this.frameWords;
  }
}

/** Records the fake's signal words before the first edge and after every edge. */
class RecordingSystem implements UserPortSystem {
  readonly recording: Uint32Array;
  private frames = 0;
  constructor(readonly fake: FakeUserCore, maxFrames: number) {
    this.recording = new Uint32Array((maxFrames + 1) * fake.sim.v.length);
    this.save();
  }
  get sim() {
    return this.fake.sim;
  }
  get cycle() {
    return this.fake.cycle;
  }
  step(cycles = 1): void {
    for (let i = 0; i < cycles; i++) {
      this.fake.step(1);
      this.save();
    }
  }
  private save(): void {
    this.recording.set(this.fake.sim.v, this.frames++ * this.fake.sim.v.length);
  }
}

interface Case {
  name: string;
  lbaBytes: number;
  fake: Partial<FakeUserCoreOptions>;
  readyProbability: number;
}

const cases: Case[] = [
  { name: "512 B LBAs, QD 16, random back-pressure", lbaBytes: 512, fake: { queueDepth: 16 }, readyProbability: 0.75 },
  { name: "4 KiB LBAs, QD 32, random back-pressure", lbaBytes: 4096, fake: { queueDepth: 32 }, readyProbability: 0.75 },
  { name: "4 KiB LBAs, QD 32, streams always ready", lbaBytes: 4096, fake: { queueDepth: 32, commandReadyProbability: 1, writeReadyProbability: 1, readValidProbability: 1 }, readyProbability: 1 },
];

function workload(lbaBytes: number): UserCommand[] {
  return generateIoWorkload({ lbaBytes, capacityBlocks: 1 << 20, mdtsBytes: 128 * 1024, maxBlocks: lbaBytes === 4096 ? 64 : 512, commands: 4000, seed: 5, region: { lba: 0, blocks: 1 << 18 }, conflictWindow: 64 }).commands;
}

function run(system: UserPortSystem, c: Case, commands: UserCommand[]): { report: DriverReport; ms: number } {
  const namespaces = [{ nsid: 1, lbaBytes: c.lbaBytes, capacityBlocks: 1 << 20 }];
  const driver = new UserPortDriver(system, { namespaces, seed: 9, readReadyProbability: c.readyProbability, completionReadyProbability: c.readyProbability, writeGapProbability: 1 - c.readyProbability });
  driver.submit(commands);
  // CPU time of this process, not wall time: the project machine is shared, and a wall clock counts the waits for a core.
  const start = process.cpuUsage();
  const report = driver.run(maxCycles);
  const used = process.cpuUsage(start);
  return { report, ms: (used.user + used.system) / 1000 };
}

const results = cases.map((c) => {
  const commands = workload(c.lbaBytes);
  const namespaces = [{ nsid: 1, lbaBytes: c.lbaBytes, capacityBlocks: 1 << 20 }];
  const best = { full: Infinity, replay: Infinity, ticks: 0, beats: 0, completed: 0 };
  for (let round = 0; round < 3; round++) {
    const recorder = new RecordingSystem(new FakeUserCore({ namespaces, seed: 3, ...c.fake }), maxCycles);
    const full = run(recorder, c, commands);
    const replay = run(new ReplaySystem(recorder.fake, recorder.recording, recorder.fake.sim.v.length), c, commands);
    if (JSON.stringify(replay.report.latency) !== JSON.stringify(full.report.latency)) throw new Error(`${c.name}: the replay diverged from the recorded run`);
    // The recording run pays for the copy of every frame as well: time the fake on its own too.
    const plain = run(new FakeUserCore({ namespaces, seed: 3, ...c.fake }), c, commands);
    best.full = Math.min(best.full, plain.ms);
    best.replay = Math.min(best.replay, replay.ms);
    best.ticks = full.report.ticks;
    best.beats = (full.report.bytesRead + full.report.bytesWritten) / 8;
    // The run ends at the cycle limit with the workload unfinished; any other error is a real one.
    const real = full.report.errors.filter((e) => !/not finished within/.test(e));
    if (real.length > 0) throw new Error(`${c.name}: ${real[0]}`);
    best.completed = full.report.completed;
  }
  const ns = (ms: number) => Math.round((ms * 1e6) / best.ticks);
  return { case: c.name, ticks: best.ticks, beatsPerTick: Math.round((best.beats / best.ticks) * 100) / 100, completed: best.completed, driverNsPerTick: ns(best.replay), driverAndFakeNsPerTick: ns(best.full) };
});

if (values.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log("user-port driver cost per tick (CPU time, best of 3; the driver alone = against a replay of the fake's outputs)");
  for (const r of results) console.log(`${r.case.padEnd(44)} ${String(r.ticks).padStart(8)} ticks, ${r.beatsPerTick} data beats/tick, ${r.completed} commands: driver ${r.driverNsPerTick} ns/tick, driver + fake ${r.driverAndFakeNsPerTick} ns/tick`);
}
