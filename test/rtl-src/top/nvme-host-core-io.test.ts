// The controller's I/O path, end to end: the emitted core brought up against the SSD model, then
// random verified workloads through the user ports (sim/testbench/user-port-driver.ts): writes of
// data distinct per block and per pass, reads that check every byte, flush / write zeroes /
// deallocate interleaved, commands split at MDTS and at the controller's piece size, refused
// requests, random back-pressure on both user streams and the completion port. Every command must
// complete exactly once, in acceptance order; every TLP obeys the PCIe rules (the conformance
// checker); every address the SSD touches lies in the host-memory map; the SSD must really have
// completed out of order somewhere.
import { afterEach, describe, expect, it } from "vitest";
import { HostMemoryMap, regionOf } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { type NvmeHostCoreParams, nvmeHostCore, simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { type EngineName, verilatorAvailable } from "../../../sim/engine/index.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { type TraceSink, teeTrace } from "../../../sim/pcie/trace.ts";
import { readField, readFieldBig } from "../../../rtl-src/nvme/nvme-field.ts";
import { SmartLogField } from "../../../rtl-src/nvme/nvme-log-page.ts";
import { READABLE_SMART_FIELDS } from "../../../rtl-src/nvme/log-page-capture.ts";
import { readPageBytes, runBringup } from "../../../sim/system/bringup.ts";
import type { FullSystem } from "../../../sim/system/full-system.ts";
import { type IoMix, WRITE_THEN_READ_MIX, generateIoWorkload } from "../../../sim/testbench/io-workloads.ts";
import { TlpConformanceChecker } from "../../../sim/testbench/tlp-conformance.ts";
import { UserPortDriver, readIoGeometry } from "../../../sim/testbench/user-port-driver.ts";

const SQE_BYTES = 64;
const CQE_BYTES = 16;

/**
 * Watches the trace for what the SSD does with our memory: every address it reads or writes must lie
 * in a region of the map; and the order of command identifiers as the SSD fetched them (from our
 * CplDs answering its reads of the I/O SQ) against the order of the CQ entries it wrote, to see
 * completions come back out of order.
 */
class SsdMemoryWatch implements TraceSink {
  readonly outsideMap: string[] = [];
  readonly fetchedCids: number[] = [];
  readonly completedCids: number[] = [];
  /** The most commands the SSD had fetched and not yet completed at once. */
  mostInFlight = 0;
  private readonly sqReads = new Map<number, number>(); // tag -> SQ byte offset of the read's first byte

  write(_cycle: number, dir: "down" | "up", tlp: Uint8Array): void {
    const fmtType = tlp[0];
    const view = new DataView(tlp.buffer, tlp.byteOffset, tlp.byteLength);
    if (dir === "up" && (fmtType === 0x00 || fmtType === 0x40 || fmtType === 0x20 || fmtType === 0x60)) {
      const address = fmtType & 0x20 ? Number(view.getBigUint64(8)) : view.getUint32(8) & ~3;
      if (regionOf(address) === undefined) this.outsideMap.push(`${fmtType & 0x40 ? "MWr" : "MRd"} 0x${address.toString(16)}`);
      const inIoSq = address >= HostMemoryMap.ioSq.base && address < HostMemoryMap.ioSq.base + HostMemoryMap.ioSq.bytes;
      const inIoCq = address >= HostMemoryMap.ioCq.base && address < HostMemoryMap.ioCq.base + HostMemoryMap.ioCq.bytes;
      if (fmtType === 0x00 && inIoSq) this.sqReads.set(tlp[6], address - HostMemoryMap.ioSq.base);
      if (fmtType === 0x40 && inIoCq) {
        const payload = tlp.subarray(12);
        const first = (address - HostMemoryMap.ioCq.base) % CQE_BYTES;
        for (let at = (CQE_BYTES - first) % CQE_BYTES; at + CQE_BYTES <= payload.length; at += CQE_BYTES) {
          this.completedCids.push(payload[at + 12] | (payload[at + 13] << 8));
        }
      }
    }
    if (dir === "down" && fmtType === 0x4a) {
      const tag = tlp[10];
      const start = this.sqReads.get(tag);
      if (start === undefined) return;
      const byteCount = view.getUint16(6) & 0xfff || 4096;
      const lengthBytes = (view.getUint16(2) & 0x3ff) * 4;
      // The offset of this CplD's first byte in the read: requested bytes minus the bytes still owed.
      const offset = start + ((this.sqReadBytes.get(tag) ?? byteCount) - byteCount);
      if (!this.sqReadBytes.has(tag)) this.sqReadBytes.set(tag, byteCount);
      const payload = tlp.subarray(12, 12 + lengthBytes);
      for (let at = (SQE_BYTES - (offset % SQE_BYTES)) % SQE_BYTES; at + 4 <= payload.length; at += SQE_BYTES) {
        this.fetchedCids.push(payload[at + 2] | (payload[at + 3] << 8));
        this.mostInFlight = Math.max(this.mostInFlight, this.fetchedCids.length - this.completedCids.length);
      }
      if (byteCount <= lengthBytes) {
        this.sqReads.delete(tag);
        this.sqReadBytes.delete(tag);
      }
    }
  }

  private readonly sqReadBytes = new Map<number, number>();

  /** Completions that came back in another order than the commands were fetched. */
  reordered(): number {
    let differ = 0;
    const n = Math.min(this.fetchedCids.length, this.completedCids.length);
    for (let i = 0; i < n; i++) if (this.fetchedCids[i] !== this.completedCids[i]) differ++;
    return differ;
  }
}

interface IoRunSetup {
  engine: EngineName;
  slots?: number;
  ssd?: Partial<SsdOptions>;
  commands: number;
  maxBlocks: number;
  seed: number;
  mix?: Partial<IoMix>;
  addressing?: "random" | "sequential";
  region?: { lba: number; blocks: number };
  maxCycles: number;
}

const open: FullSystem[] = [];
afterEach(() => {
  for (const system of open.splice(0)) system.close();
});

function coreParams(slots: number): NvmeHostCoreParams {
  // QD 64 needs 65 SQ entries (one always stays free).
  const ioQueueEntries = slots >= simulationCoreParams.ioQueueEntries ? 2 * simulationCoreParams.ioQueueEntries : simulationCoreParams.ioQueueEntries;
  return { ...simulationCoreParams, ioQueueEntries, io: { ...simulationCoreParams.io, slots } };
}

async function runIo(setup: IoRunSetup) {
  const params = coreParams(setup.slots ?? simulationCoreParams.io.slots);
  const checker = new TlpConformanceChecker({ completionTimeoutCycles: params.tlp.completionTimeoutCycles });
  const watch = new SsdMemoryWatch();
  const { report, system } = await runBringup({
    core: nvmeHostCore(params),
    engine: setup.engine,
    ssd: setup.ssd,
    trace: teeTrace(checker, watch),
    onLinkEvent: (event) => checker.linkEvent(event),
    onBuilt: (built) => {
      checker.rootPort = built.link.config;
    },
  });
  open.push(system);
  expect(report.state).toBe("ready");
  const geometry = readIoGeometry(system.sim);
  const [ns] = geometry.namespaces;
  const workload = generateIoWorkload({
    lbaBytes: ns.lbaBytes,
    capacityBlocks: ns.capacityBlocks,
    mdtsBytes: geometry.mdtsBytes,
    maxBlocks: setup.maxBlocks,
    commands: setup.commands,
    seed: setup.seed,
    mix: setup.mix,
    addressing: setup.addressing,
    region: setup.region,
  });
  const driver = new UserPortDriver(system, { namespaces: geometry.namespaces, seed: setup.seed + 1 });
  driver.submit(workload.commands);
  const result = driver.run(setup.maxCycles);
  checker.finish();
  const status = (name: string) => system.sim.peek(name);
  return { result, workload, checker, watch, status, geometry, system };
}

/** What every run must show, whatever the workload. */
function expectClean(run: Awaited<ReturnType<typeof runIo>>) {
  const { result, workload, checker, watch, status } = run;
  expect(result.errors).toEqual([]);
  expect(result.finished).toBe(true);
  expect(result.completed).toBe(workload.commands.length);
  expect(checker.report()).toBe("");
  expect(watch.outsideMap).toEqual([]);
  expect(status("status_unmapped_reads")).toBe(0);
  expect(status("status_unmapped_writes")).toBe(0);
  expect(status("status_io_fault")).toBe(0);
  expect(status("status_io_stray_entries")).toBe(0);
  expect(status("status_io_in_flight")).toBe(0);
  expect(status("status_io_commands")).toBe(workload.commands.length);
}

const mixedWithRefusals: Partial<IoMix> = { read: 40, write: 40, flush: 4, writeZeroes: 6, deallocate: 6, badRequest: 4 };

/**
 * The same scenarios on both engines; the js engine (several times slower) runs each with fewer
 * commands, enough for what the scenario shows (splits, refusals, reordering, a full queue). The
 * queue-depth cores are shared out between the engines (test/sim/engine/agreement.test.ts shows the
 * engines agree on the same Verilog), all on js when Verilator is not installed.
 */
interface EngineScale {
  engine: EngineName;
  available: boolean;
  mixed512: number;
  mixed4096: number;
  queueDepthCommands: Record<1 | 32 | 64, number>;
  /**
   * The queue depths this engine runs: the engines share them out. 1 and 64 slots are cores of their
   * own to build (about 20 s each on a loaded machine); 32 is the simulation core every other test
   * builds. One slot runs only where Verilator is missing: the I/O engine's own test runs one slot
   * (test/rtl-src/nvme/io-engine.test.ts), and here it would be a build for a structural limit.
   */
  queueDepths: readonly (1 | 32 | 64)[];
  shutdownWarmUp: number;
  shutdownCommands: number;
}

const engines: EngineScale[] = [
  { engine: "verilator", available: verilatorAvailable(), mixed512: 160, mixed4096: 120, queueDepthCommands: { 1: 150, 32: 200, 64: 300 }, queueDepths: [64], shutdownWarmUp: 60, shutdownCommands: 40 },
  { engine: "js", available: true, mixed512: 40, mixed4096: 24, queueDepthCommands: { 1: 24, 32: 96, 64: 160 }, queueDepths: verilatorAvailable() ? [32] : [1, 32, 64], shutdownWarmUp: 12, shutdownCommands: 40 },
];

describe.each(engines)("the controller's I/O path on $engine (skipped when the engine is not installed)", ({ engine, available, ...scale }) => {
  it.skipIf(!available)("runs a random mixed workload at QD 32 with 512-byte blocks: splits at MDTS and the piece size, refusals, out-of-order completions, every byte checked", async () => {
    // MDTS 5 (128 KiB): commands up to 300 blocks (150 KiB) split at the controller's 32 KiB pieces and at MDTS.
    const run = await runIo({ engine, ssd: { mdts: 5 }, commands: scale.mixed512, maxBlocks: 300, seed: 11, mix: mixedWithRefusals, region: { lba: 0, blocks: 16384 }, maxCycles: 6_000_000 });
    expectClean(run);
    const { workload, result, watch, status } = run;
    expect(workload.splitCommands).toBeGreaterThan(scale.mixed512 / 16);
    expect(workload.counts.bad).toBeGreaterThan(0);
    expect(result.errorClasses.BAD_REQUEST).toBe(workload.counts.bad);
    expect(status("status_io_errors_bad_request")).toBe(workload.counts.bad);
    expect(status("status_io_pieces")).toBeGreaterThan(workload.commands.length);
    expect(watch.completedCids.length).toBe(status("status_io_pieces"));
    expect(watch.reordered()).toBeGreaterThan(0);
    // Doorbells are coalesced: fewer than one per NVMe command.
    expect(status("status_io_sq_doorbells")).toBeLessThan(status("status_io_pieces"));
  }, 600_000);

  it.skipIf(!available)("runs a random mixed workload with 4096-byte blocks", async () => {
    const run = await runIo({ engine, ssd: { namespaces: [{ lbaSize: 4096, capacityBlocks: 262144 }] }, commands: scale.mixed4096, maxBlocks: 40, seed: 12, mix: mixedWithRefusals, region: { lba: 0, blocks: 4096 }, maxCycles: 6_000_000 });
    expectClean(run);
    expect(run.geometry.namespaces[0].lbaBytes).toBe(4096);
    expect(run.watch.reordered()).toBeGreaterThan(0);
  }, 600_000);

  it.skipIf(!available)(`writes sequentially then reads everything back at QD ${scale.queueDepths.join(", ")}, filling the queue and never exceeding it`, async () => {
    // One- and two-block commands: the buffers hold far more than 64 of them, so the slots bind.
    const runs = { 1: { seed: 21, atLeast: 1 }, 32: { seed: 22, atLeast: 24 }, 64: { seed: 23, atLeast: 40 } } as const;
    for (const slots of scale.queueDepths) {
      const { seed, atLeast } = runs[slots];
      const run = await runIo({ engine, slots, commands: scale.queueDepthCommands[slots], maxBlocks: 2, seed, mix: WRITE_THEN_READ_MIX, addressing: "sequential", maxCycles: 6_000_000 });
      expectClean(run);
      expect(run.watch.mostInFlight).toBeLessThanOrEqual(slots);
      expect(run.watch.mostInFlight).toBeGreaterThanOrEqual(atLeast);
      for (const system of open.splice(0)) system.close();
    }
  }, 900_000);

  it.skipIf(!available)("reads the SMART log on request with the SSD's own counters, then shuts down with commands in flight: those complete, later ones are refused NOT_READY", async () => {
    const run = await runIo({ engine, commands: scale.shutdownWarmUp, maxBlocks: 64, seed: 41, mix: WRITE_THEN_READ_MIX, addressing: "sequential", maxCycles: 6_000_000 });
    expectClean(run);
    const { system } = run;
    const sim = system.sim;
    // A one-cycle pulse; `step` is whatever steps the system (the driver's tick while it drives the
    // user ports, so that no handshake happens behind its back).
    const pulse = (port: string, step: () => void) => {
      sim.poke(port, 1);
      step();
      sim.poke(port, 0);
    };
    pulse("smart_refresh", () => system.step(1));
    system.runUntil(() => sim.peek("status_smart_valid") === 1 || sim.peek("status_smart_error") === 1, 200_000, "SMART refresh");
    expect(sim.peek("status_smart_error")).toBe(0);
    const stats = system.ssd.controller.stats;
    const smart = readPageBytes(system, "smartLog", READABLE_SMART_FIELDS);
    expect(readFieldBig(smart, SmartLogField.hostWriteCommands)).toBe(BigInt(stats.hostWriteCommands));
    expect(readFieldBig(smart, SmartLogField.hostReadCommands)).toBe(BigInt(stats.hostReadCommands));
    expect(readFieldBig(smart, SmartLogField.dataUnitsWritten)).toBe(BigInt(Math.ceil(stats.dataUnitsWritten / 1000)));
    expect(stats.hostWriteCommands).toBeGreaterThan(0);
    expect(readField(smart, SmartLogField.compositeTemperature)).toBeGreaterThan(273);

    // Shutdown while a second workload runs: what was accepted before completes, what comes after is refused.
    const [ns] = run.geometry.namespaces;
    const more = generateIoWorkload({ lbaBytes: ns.lbaBytes, capacityBlocks: ns.capacityBlocks, mdtsBytes: run.geometry.mdtsBytes, maxBlocks: 64, commands: scale.shutdownCommands, seed: 42, mix: WRITE_THEN_READ_MIX, verifyAll: false, firstPass: run.workload.nextPass });
    const driver = new UserPortDriver(system, { namespaces: run.geometry.namespaces, seed: 43 });
    driver.submit(more.commands.map((c) => ({ ...c, expect: "any" as const })));
    for (let i = 0; i < 200_000 && sim.peek("status_io_in_flight") < 4; i++) driver.tick();
    const inFlightAtShutdown = sim.peek("status_io_in_flight");
    pulse("shutdown", () => driver.tick());
    expect(sim.peek("status_shutdown_active")).toBe(1);
    const result = driver.run(4_000_000);
    expect(result.errors).toEqual([]);
    expect(result.completed).toBe(more.commands.length);
    system.runUntil(() => sim.peek("status_shutdown_busy") === 0, 2_000_000, "shutdown");
    expect({ error: sim.peek("status_shutdown_error"), code: sim.peek("status_shutdown_error_code") }).toEqual({ error: 0, code: 0 });
    expect(sim.peek("status_shutdown_done")).toBe(1);
    expect(sim.peek("status_shutdown_complete")).toBe(1);
    expect(inFlightAtShutdown).toBeGreaterThan(0);
    expect(result.errorClasses.NONE).toBeGreaterThan(0);
    expect(result.errorClasses.NOT_READY).toBeGreaterThan(0);
    expect((result.errorClasses.NONE ?? 0) + (result.errorClasses.NOT_READY ?? 0)).toBe(more.commands.length);
    expect(sim.peek("status_io_fault")).toBe(0);
  }, 600_000);
});
