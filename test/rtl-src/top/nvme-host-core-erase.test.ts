// The erase request end to end (issue 15): the emitted core brought up against the SSD model (with
// erase times of hundreds of microseconds and a small namespace, and the core's simulation timings: a
// Sanitize Status poll every 100 µs), driven through the user ports (sim/testbench/user-port-driver.ts)
// and `user_erase`, its outcome decoded from the status port (sim/system/erase-status.ts). Every TLP
// obeys the PCIe rules (the conformance checker); the admin commands the SSD fetched are read from
// the trace (the opcodes of the admin SQ entries the core served).
//  - Each kind on an SSD that offers it: data distinct per block written and read back, the erase
//    (progress sampled while it runs: 0 then 100 for a Format NVM, rising through the polls for a
//    sanitize), I/O during it refused BUSY (a write's data taken, a read delivering nothing), then
//    every block reads back as zeroes (deallocated: DLFEAT says zeroes) and I/O works again.
//  - An SSD without the kind: REFUSED / UNSUPPORTED, and no Format NVM or Sanitize reached it.
//  - An erase while I/O is in flight: REFUSED / BUSY, nothing sent; the I/O completes.
//  - A sanitize the model fails: FAILED, NVME_STATUS Sanitize Failed; I/O then fails with that status
//    until a sanitize succeeds.
//  - The error log page after injected error statuses: the newest entries first, as the model keeps them.
// Both engines run every scenario (small namespaces and short erase times keep them to seconds).
import { afterEach, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { ERASE_PROGRESS_DONE, SANITIZE_FAILED_STATUS } from "../../../rtl-src/nvme/nvme-erase.ts";
import { nvmeHostCore, simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { EraseKind, UserErrorClass, UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { type EngineName, verilatorAvailable } from "../../../sim/engine/index.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { timingPresets } from "../../../sim/nvme/timing.ts";
import { type TraceSink, teeTrace } from "../../../sim/pcie/trace.ts";
import { runBringup } from "../../../sim/system/bringup.ts";
import { type EraseStatus, ERASE_KIND_NAMES, readEraseStatus, requestErase, waitForErase } from "../../../sim/system/erase-status.ts";
import { readErrorLog, refreshErrorLog } from "../../../sim/system/error-log.ts";
import type { FullSystem, VerilogCore } from "../../../sim/system/full-system.ts";
import { ExpectedMedia } from "../../../sim/testbench/expected-media.ts";
import { TlpConformanceChecker } from "../../../sim/testbench/tlp-conformance.ts";
import type { UserCommand } from "../../../sim/testbench/user-command.ts";
import { UserPortDriver, readIoGeometry } from "../../../sim/testbench/user-port-driver.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const params = simulationCoreParams;
const coreModule = nvmeHostCore(params);
const core: VerilogCore = { sources: emittedSources(emitDesign(coreModule).files), top: coreModule.name };

const US = 250;
/** 4 MiB of 512-byte blocks: an overwrite pass of about 700 µs. */
const CAPACITY_BLOCKS = 8192;
/**
 * The fast SSD with erases of hundreds of microseconds: the core polls the Sanitize Status log
 * every 100 µs, so a sanitize shows progress between 0 and 100.
 */
const TIMING = { ...timingPresets.fastSsd, blockEraseLatencyCycles: 400 * US, cryptoEraseCycles: 300 * US, deallocateAllCycles: 10 * US };
const ERASING_SSD: Partial<SsdOptions> = {
  timing: TIMING,
  namespaces: [{ lbaSize: 512, capacityBlocks: CAPACITY_BLOCKS }],
  formatNvm: true,
  formatCryptoErase: true,
  sanitizeBlockErase: true,
  sanitizeOverwrite: true,
  sanitizeCryptoErase: true,
  elpe: 3,
};
const OPCODE_FORMAT_NVM = 0x80;
const OPCODE_SANITIZE = 0x84;
/** The region written before each erase: data distinct per block. */
const REGION = { lba: 0, blocks: 96 };

/** The opcodes of the admin SQ entries the SSD fetched, from the CplDs the core answered its reads with. */
class AdminOpcodeWatch implements TraceSink {
  readonly opcodes: number[] = [];
  private readonly reads = new Map<number, { offset: number; delivered: number }>();

  write(_cycle: number, dir: "down" | "up", tlp: Uint8Array): void {
    const fmtType = tlp[0];
    const view = new DataView(tlp.buffer, tlp.byteOffset, tlp.byteLength);
    if (dir === "up" && (fmtType === 0x00 || fmtType === 0x20)) {
      const address = fmtType & 0x20 ? Number(view.getBigUint64(8)) : view.getUint32(8) & ~3;
      const sq = HostMemoryMap.adminSq;
      if (address >= sq.base && address < sq.base + sq.bytes) this.reads.set(tlp[6], { offset: address - sq.base, delivered: 0 });
    }
    if (dir === "down" && fmtType === 0x4a) {
      const read = this.reads.get(tlp[10]);
      if (!read) return;
      const lengthBytes = (view.getUint16(2) & 0x3ff) * 4;
      const byteCount = view.getUint16(6) & 0xfff || 4096;
      const payload = tlp.subarray(12, 12 + lengthBytes);
      const start = read.offset + read.delivered;
      for (let at = (64 - (start % 64)) % 64; at < payload.length; at += 64) this.opcodes.push(payload[at]);
      read.delivered += lengthBytes;
      if (byteCount <= lengthBytes) this.reads.delete(tlp[10]);
    }
  }

  erases(): number[] {
    return this.opcodes.filter((o) => o === OPCODE_FORMAT_NVM || o === OPCODE_SANITIZE);
  }
}

interface Rig {
  system: FullSystem;
  driver: UserPortDriver;
  media: ExpectedMedia;
  admin: AdminOpcodeWatch;
  checker: TlpConformanceChecker;
  nextPass: number;
}

const open: FullSystem[] = [];
afterEach(() => {
  for (const system of open.splice(0)) system.close();
});

async function bringUp(engine: EngineName, ssd: Partial<SsdOptions>): Promise<Rig> {
  const checker = new TlpConformanceChecker({ completionTimeoutCycles: params.tlp.completionTimeoutCycles });
  const admin = new AdminOpcodeWatch();
  const { report, system } = await runBringup({
    core,
    engine,
    ssd,
    trace: teeTrace(checker, admin),
    onLinkEvent: (event) => checker.linkEvent(event),
    onBuilt: (built) => {
      checker.rootPort = built.link.config;
    },
  });
  open.push(system);
  expect(report.state).toBe("ready");
  const { namespaces } = readIoGeometry(system.sim);
  expect(namespaces[0].capacityBlocks).toBe(ssd.namespaces?.[0].capacityBlocks ?? namespaces[0].capacityBlocks);
  const media = new ExpectedMedia(namespaces);
  const driver = new UserPortDriver(system, { namespaces, media, seed: 5 });
  return { system, driver, media, admin, checker, nextPass: 1 };
}

/** Runs `commands` through the driver to the end; every completion must be the expected one. */
function io(rig: Rig, commands: UserCommand[], maxCycles = 2_000_000): void {
  rig.driver.submit(commands);
  const result = rig.driver.run(maxCycles);
  expect(result.errors).toEqual([]);
}

/** Writes the region with a new pass (data distinct per block and per pass), then reads it back. */
function writeAndVerify(rig: Rig): void {
  const pass = rig.nextPass++;
  const writes: UserCommand[] = [];
  for (let lba = REGION.lba; lba < REGION.lba + REGION.blocks; lba += 16) writes.push({ opcode: UserOpcode.WRITE, nsid: 1, lba, blockCount: 16, pass });
  io(rig, writes);
  readBack(rig);
  expect(rig.media.state(1, REGION.lba)).toBeGreaterThanOrEqual(4);
}

/** Reads the region back, checked against the expected media. */
function readBack(rig: Rig): void {
  const reads: UserCommand[] = [];
  for (let lba = REGION.lba; lba < REGION.lba + REGION.blocks; lba += 32) reads.push({ opcode: UserOpcode.READ, nsid: 1, lba, blockCount: 32 });
  io(rig, reads);
}

/** Requests the erase with the driver ticking (so no user-port handshake happens behind its back). */
function request(rig: Rig, kind: number, nsid = 1): void {
  requestErase({ sim: rig.system.sim, step: (n = 1) => { for (let i = 0; i < n; i++) rig.driver.tick(); } }, kind, nsid);
}

/**
 * Follows a running erase: while it runs, I/O is tried and must be refused BUSY; the progress is
 * sampled every microsecond. Returns the outcome and the progress values seen, in order, each once.
 */
function followErase(rig: Rig): { outcome: EraseStatus; progress: number[]; busyTried: boolean } {
  const { system, driver } = rig;
  const progress: number[] = [];
  const note = (s: EraseStatus) => {
    if (progress.at(-1) !== s.progress) progress.push(s.progress);
  };
  let busyTried = false;
  if (readEraseStatus(system.sim).state === "RUNNING") {
    // I/O while it runs: a write (its data is taken), a read (it delivers nothing), a flush.
    driver.submit([
      { opcode: UserOpcode.WRITE, nsid: 1, lba: REGION.lba, blockCount: 8, pass: rig.nextPass++, expect: UserErrorClass.BUSY },
      { opcode: UserOpcode.READ, nsid: 1, lba: REGION.lba, blockCount: 8, expect: UserErrorClass.BUSY },
      { opcode: UserOpcode.FLUSH, nsid: 1, lba: 0, blockCount: 0, expect: UserErrorClass.BUSY },
    ]);
    while (!driver.idle && readEraseStatus(system.sim).state === "RUNNING") {
      driver.tick();
      note(readEraseStatus(system.sim));
    }
    busyTried = driver.idle;
    expect(driver.run(200_000).errors).toEqual([]);
  }
  const outcome = waitForErase(system, { maxCycles: 2_000_000, sampleCycles: US, onSample: note });
  return { outcome, progress, busyTried };
}

interface EngineScale {
  engine: EngineName;
  available: boolean;
  kinds: number[];
  /** Also the SSD without Format NVM, the in-flight refusal, the failed sanitize, the error log. */
  everything: boolean;
}

const engines: EngineScale[] = [
  {
    engine: "verilator",
    available: verilatorAvailable(),
    kinds: [EraseKind.CRYPTO_ERASE, EraseKind.USER_DATA_ERASE, EraseKind.SANITIZE_BLOCK_ERASE, EraseKind.SANITIZE_OVERWRITE, EraseKind.SANITIZE_CRYPTO_ERASE],
    everything: true,
  },
  {
    engine: "js",
    available: true,
    kinds: [EraseKind.CRYPTO_ERASE, EraseKind.USER_DATA_ERASE, EraseKind.SANITIZE_BLOCK_ERASE, EraseKind.SANITIZE_OVERWRITE, EraseKind.SANITIZE_CRYPTO_ERASE],
    everything: true,
  },
];

describe.each(engines)("the controller's erase on $engine (skipped when the engine is not installed)", ({ engine, available, kinds, everything }) => {
  it.skipIf(!available)("erases with each kind the SSD offers: the data written reads back as zeroes, progress rises to 100 %, I/O is refused BUSY while it runs and works after", async () => {
    const rig = await bringUp(engine, ERASING_SSD);
    for (const kind of kinds) {
      const name = ERASE_KIND_NAMES[kind];
      writeAndVerify(rig);
      const fetched = rig.admin.erases().length;
      request(rig, kind);
      expect(readEraseStatus(rig.system.sim), name).toMatchObject({ state: "RUNNING", kind: name, progress: 0 });
      const { outcome, progress, busyTried } = followErase(rig);
      expect(outcome, name).toMatchObject({ state: "DONE", kind: name, progress: ERASE_PROGRESS_DONE, errorClass: "NONE", status: 0 });
      expect(busyTried, `${name}: the I/O refused BUSY within the erase`).toBe(true);
      expect(rig.admin.erases().slice(fetched), name).toEqual([kind <= EraseKind.USER_DATA_ERASE ? OPCODE_FORMAT_NVM : OPCODE_SANITIZE]);
      // Progress never falls, starts at 0 and ends at 100; a sanitize shows values in between.
      expect(progress[0], name).toBe(0);
      expect(progress.at(-1), name).toBe(100);
      expect([...progress].sort((a, b) => a - b), name).toEqual(progress);
      if (kind >= EraseKind.SANITIZE_BLOCK_ERASE) expect(progress.filter((p) => p > 0 && p < 100).length, `${name}: progress ${progress.join(" ")}`).toBeGreaterThan(0);
      else expect(progress, name).toEqual([0, 100]);
      // Every block is deallocated: it reads as zeroes (Identify DLFEAT), the whole namespace.
      rig.media.deallocate(1, 0, CAPACITY_BLOCKS);
      readBack(rig);
      io(rig, [{ opcode: UserOpcode.READ, nsid: 1, lba: CAPACITY_BLOCKS - 64, blockCount: 64 }]);
    }
    // I/O works after the last erase.
    writeAndVerify(rig);
    rig.checker.finish();
    expect(rig.checker.report()).toBe("");
    expect(rig.system.sim.peek("status_unmapped_writes")).toBe(0);
    expect(rig.system.sim.peek("status_io_fault")).toBe(0);
  }, 900_000);

  it.skipIf(!available)("refuses a kind the SSD does not offer with UNSUPPORTED, sending nothing", async () => {
    // The default SSD model (like QEMU's): Format NVM without cryptographic erase, no Sanitize.
    const ssds: [Partial<SsdOptions>, number[]][] = [[{ namespaces: [{ lbaSize: 512, capacityBlocks: CAPACITY_BLOCKS }] }, [EraseKind.CRYPTO_ERASE, EraseKind.SANITIZE_BLOCK_ERASE, EraseKind.SANITIZE_OVERWRITE, EraseKind.SANITIZE_CRYPTO_ERASE]]];
    if (everything) ssds.push([{ ...ERASING_SSD, formatNvm: false, sanitizeOverwrite: false }, [EraseKind.CRYPTO_ERASE, EraseKind.USER_DATA_ERASE, EraseKind.SANITIZE_OVERWRITE]]);
    for (const [ssd, refused] of ssds) {
      const rig = await bringUp(engine, ssd);
      for (const kind of refused) {
        request(rig, kind);
        expect(readEraseStatus(rig.system.sim)).toMatchObject({ state: "REFUSED", kind: ERASE_KIND_NAMES[kind], errorClass: "UNSUPPORTED", progress: 0, status: 0 });
      }
      rig.system.step(20 * US);
      expect(rig.admin.erases()).toEqual([]);
      expect(rig.system.ssd.log.count("erase")).toBe(0);
      // I/O is not held up by a refused erase.
      writeAndVerify(rig);
    }
  }, 900_000);

  it.skipIf(!available)("refuses an erase while I/O is in flight with BUSY, sending nothing; the I/O completes", async () => {
    const rig = await bringUp(engine, ERASING_SSD);
    const pass = rig.nextPass++;
    const writes: UserCommand[] = Array.from({ length: 24 }, (_, i) => ({ opcode: UserOpcode.WRITE, nsid: 1, lba: 64 * i, blockCount: 64, pass }));
    rig.driver.submit(writes);
    for (let i = 0; i < 200_000 && rig.system.sim.peek("status_io_in_flight") < 2; i++) rig.driver.tick();
    expect(rig.system.sim.peek("status_io_in_flight")).toBeGreaterThan(0);
    request(rig, EraseKind.SANITIZE_CRYPTO_ERASE);
    expect(readEraseStatus(rig.system.sim)).toMatchObject({ state: "REFUSED", errorClass: "BUSY" });
    const result = rig.driver.run(4_000_000);
    expect(result.errors).toEqual([]);
    expect(result.errorClasses).toEqual({ NONE: writes.length });
    expect(rig.admin.erases()).toEqual([]);
    // Once the I/O is done the same request runs.
    request(rig, EraseKind.SANITIZE_CRYPTO_ERASE);
    expect(followErase(rig).outcome).toMatchObject({ state: "DONE", progress: 100 });
    expect(rig.admin.erases()).toEqual([OPCODE_SANITIZE]);
  }, 900_000);

  it.skipIf(!available || !everything)("a sanitize that fails ends FAILED with Sanitize Failed; I/O then fails with that status until a sanitize succeeds", async () => {
    const rig = await bringUp(engine, ERASING_SSD);
    writeAndVerify(rig);
    rig.system.ssd.faults.failSanitize();
    request(rig, EraseKind.SANITIZE_BLOCK_ERASE);
    const failed = followErase(rig).outcome;
    expect(failed).toMatchObject({ state: "FAILED", errorClass: "NVME_STATUS", status: SANITIZE_FAILED_STATUS });
    expect(failed.statusText).toMatch(/SCT 0 SC 0x1c/);
    // The SSD refuses I/O in its failure mode with the same status; the data is unknown from then on.
    rig.driver.submit([{ opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 8, expect: UserErrorClass.NVME_STATUS }]);
    const refused = rig.driver.run(200_000);
    expect(refused.errors).toEqual([]);
    // Sanitize Failed (SCT 0, SC 1Ch), with DNR or not.
    expect((rig.driver.records.at(-1)?.status ?? 0) & 0x7ff).toBe(SANITIZE_FAILED_STATUS);
    request(rig, EraseKind.SANITIZE_BLOCK_ERASE);
    expect(followErase(rig).outcome).toMatchObject({ state: "DONE", progress: 100, errorClass: "NONE" });
    rig.media.deallocate(1, 0, CAPACITY_BLOCKS);
    readBack(rig);
    writeAndVerify(rig);
  }, 900_000);

  it.skipIf(!available)("reads the newest error log entries after injected error statuses, newest first", async () => {
    const rig = await bringUp(engine, ERASING_SSD);
    expect(refreshErrorLog(rig.system)).toBeNull();
    expect(readErrorLog(rig.system)).toEqual([]);
    // Two writes completed with a media error, then a read with another status.
    const faults = rig.system.ssd.faults;
    faults.injectStatus({ sqid: 1, opcode: 0x01 }, { sct: 2, sc: 0x81, dnr: false }, 2);
    faults.injectStatus({ sqid: 1, opcode: 0x02 }, { sct: 0, sc: 0x80, dnr: true }, 1);
    const pass = rig.nextPass++;
    io(rig, [
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 16, blockCount: 4, pass, expect: UserErrorClass.NVME_STATUS },
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 32, blockCount: 4, pass, expect: UserErrorClass.NVME_STATUS },
    ]);
    io(rig, [{ opcode: UserOpcode.READ, nsid: 1, lba: 48, blockCount: 4, expect: UserErrorClass.NVME_STATUS }]);
    expect(refreshErrorLog(rig.system)).toBeNull();
    const entries = readErrorLog(rig.system);
    const model = rig.system.ssd.controller.errorLog.newestFirst;
    expect(model.length).toBe(3);
    expect(entries.map((e) => ({ count: e.errorCount, sqid: e.sqid, cid: e.cid, status: e.status, lba: e.lba, nsid: e.nsid }))).toEqual(
      model.map((m) => ({ count: m.errorCount, sqid: m.sqid, cid: m.cid, status: m.statusField, lba: m.lba, nsid: m.nsid })),
    );
    // Newest first, by hand: the read's status, then the two writes'.
    expect(entries.map((e) => [Number(e.errorCount), e.sqid, e.status])).toEqual([
      [3, 1, (1 << 14) | 0x80],
      [2, 1, (2 << 8) | 0x81],
      [1, 1, (2 << 8) | 0x81],
    ]);
    expect(rig.system.sim.peek("status_error_log_valid")).toBe(1);
  }, 900_000);
});
