// Measures what the emitted controller does with a job's I/O: the core brought up against the SSD
// model (sim/system/bringup.ts), then the job's commands through the user ports with the user-port
// driver (sim/testbench/user-port-driver.ts) always ready, `iodepth x numjobs` in flight, timed from
// acceptance to completion. A yardstick for the estimator's controller constants (sim/estimate/),
// until the job runner (sim/system/job-runner.ts) does this for `nvme-host sim`.
import { nvmeHostCore, simulationCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { UserOpcode } from "../../rtl-src/user/user-port.ts";
import type { EngineName } from "../engine/index.ts";
import { runBringup } from "../system/bringup.ts";
import { seededRandom } from "../random.ts";
import { isRandom, readPercent, type JobSpec, type SystemSpec } from "../workload/job.ts";
import { UserPortDriver, readIoGeometry, type CommandRecord, type UserPortSystem } from "./user-port-driver.ts";
import type { UserCommand } from "./user-command.ts";

export interface ControllerIoOptions {
  /** Commands completed before the measured window opens, and inside it. */
  warmupCommands: number;
  commands: number;
  engine?: EngineName;
  maxCycles?: number;
}

export interface ControllerDirection {
  commands: number;
  bytesPerSecond: number;
  /** Mean acceptance -> completion, ns. */
  meanLatencyNs: number;
}

export interface ControllerIoResult {
  read: ControllerDirection;
  write: ControllerDirection;
  windowNs: number;
  /** Cycles m_axis_rx_tready was low while m_axis_rx_tvalid was high, and TLPs taken, in the window. */
  rxStallCycles: number;
  rxTlps: number;
  wallSeconds: number;
}

const NS_PER_CYCLE = 4;
const DEFAULT_MAX_CYCLES = 50_000_000;

/** Run `job` (rw, bs, iodepth x numjobs, rwmixread, randseed) through the emitted core on `system`. */
export async function runControllerIo(job: JobSpec, system: SystemSpec, options: ControllerIoOptions): Promise<ControllerIoResult> {
  const wallStart = performance.now();
  const params = {
    ...simulationCoreParams,
    io: { ...simulationCoreParams.io, slots: system.slots, writeBufferBytes: system.bufferBytes, readBufferBytes: system.bufferBytes, maxPieceBytes: system.maxPieceBytes },
  };
  const { report, system: full } = await runBringup({ engine: options.engine ?? system.engine, core: nvmeHostCore(params), ssd: system.ssd.options });
  try {
    if (report.state !== "ready") throw new Error(`controller run: bring-up ended in ${report.state}: ${JSON.stringify(report.error)}`);
    const geometry = readIoGeometry(full.sim);
    const ns = geometry.namespaces[0];
    if (job.bs % ns.lbaBytes !== 0) throw new RangeError(`bs ${job.bs} is not a multiple of the ${ns.lbaBytes}-byte LBA`);
    const blocks = job.bs / ns.lbaBytes;
    const slotsOfRegion = Math.floor(ns.capacityBlocks / blocks);
    const random = seededRandom(job.randseed);
    const readShare = readPercent(job) / 100;
    const total = options.warmupCommands + options.commands;
    const commands: UserCommand[] = Array.from({ length: total }, (_, i) => ({
      opcode: random() < readShare ? UserOpcode.READ : UserOpcode.WRITE,
      nsid: 1,
      lba: (isRandom(job.rw) ? Math.floor(random() * slotsOfRegion) : i % slotsOfRegion) * blocks,
      blockCount: blocks,
      pass: 1,
    }));
    // Every edge the driver runs goes through here, to watch m_axis_rx once the window is open.
    const ports = full.link.ports;
    let records: CommandRecord[] = [];
    let counting = options.warmupCommands === 0;
    let rxStallCycles = 0;
    let rxTlps = 0;
    const watched: UserPortSystem = {
      sim: full.sim,
      get cycle() {
        return full.cycle;
      },
      step: (cycles = 1) => {
        for (let i = 0; i < cycles; i++) {
          full.step(1);
          if (!counting) counting = records[options.warmupCommands - 1].completeCycle >= 0;
          else if (ports.m_axis_rx_tvalid) {
            if (!ports.m_axis_rx_tready) rxStallCycles++;
            else if (ports.m_axis_rx_tlast) rxTlps++;
          }
        }
      },
    };
    const driver = new UserPortDriver(watched, {
      namespaces: geometry.namespaces,
      seed: job.randseed,
      writeGapProbability: 0,
      readReadyProbability: 1,
      completionReadyProbability: 1,
      maxInFlight: job.iodepth * job.numjobs,
    });
    records = driver.submit(commands);
    const result = driver.run(options.maxCycles ?? DEFAULT_MAX_CYCLES);
    if (!result.ok) throw new Error(`controller run: ${result.errors.slice(0, 3).join("; ")}`);
    const start = options.warmupCommands > 0 ? records[options.warmupCommands - 1].completeCycle : records[0].acceptCycle;
    const window = records.slice(options.warmupCommands);
    const end = Math.max(...window.map((r) => r.completeCycle));
    const windowNs = (end - start) * NS_PER_CYCLE;
    const direction = (opcode: number): ControllerDirection => {
      const done = window.filter((r) => r.command.opcode === opcode);
      const latency = done.reduce((sum, r) => sum + (r.completeCycle - r.acceptCycle), 0);
      return {
        commands: done.length,
        bytesPerSecond: (done.length * job.bs) / (windowNs / 1e9),
        meanLatencyNs: done.length > 0 ? (latency / done.length) * NS_PER_CYCLE : 0,
      };
    };
    return { read: direction(UserOpcode.READ), write: direction(UserOpcode.WRITE), windowNs, rxStallCycles, rxTlps, wallSeconds: (performance.now() - wallStart) / 1e3 };
  } finally {
    full.close();
  }
}
