// The controller's core in the full system (issue 9, "Done means"): the emitted Verilog of
// nvme_host_core with the simulation timings, on both engines, behind the link model and the SSD
// model, from reset to READY or FAULT. Every run is watched by the PCIe conformance checker.
//
// - SSD variants: each reaches READY reporting exactly what the model was configured with (IDs,
//   strings, capacity, LBA size, MDTS, MPS, BAR0, link, queue size), and leaves the SSD in the state
//   the bring-up means: CC, the admin commands it ran (Identify x2, Number of Queues, Create I/O CQ
//   and SQ, all successful, every completion released), I/O queue pair 1 at the host-memory map's
//   addresses with min(configured, MQES + 1) entries, MPS/MRRS on both ends.
// - Faults (the list, plus UR on a register read and poisoned Identify data): each ends in
//   its named error within a bound set by the core's own timeouts, and a `restart` then reaches
//   READY once the fault is gone. A class code is not a fault that goes away (the model cannot turn
//   into another device): there the restart ends in the same error, as fast.
import { afterEach, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { BAR_WINDOW, HostMemoryMap, type HostMemoryRegion } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { readField } from "../../../rtl-src/nvme/nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField, IdentifyNamespaceField } from "../../../rtl-src/nvme/nvme-identify.ts";
import { SQE_BYTES } from "../../../rtl-src/nvme/nvme-sqe.ts";
import { nvmeHostCore, simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { type EngineName, nativeAvailable, verilatorAvailable } from "../../../sim/engine/index.ts";
import { decodeCompletionEntry, parseSubmissionEntry, type SubmissionEntry } from "../../../sim/nvme/submission-entry.ts";
import { type SsdOptions, resolveSsdOptions } from "../../../sim/nvme/options.ts";
import { decodeTlp } from "../../../sim/pcie/codec.ts";
import type { LinkParamsInput } from "../../../sim/pcie/link-params.ts";
import { type TraceDirection, type TraceSink, teeTrace } from "../../../sim/pcie/trace.ts";
import { type BringupReport, readBringupReport, runBringup, waitForOutcome } from "../../../sim/system/bringup.ts";
import { type FullSystem, NS_PER_CYCLE, type VerilogCore } from "../../../sim/system/full-system.ts";
import type { SsdFault } from "../../../sim/system/ssd-spec.ts";
import { TlpConformanceChecker } from "../../../sim/testbench/tlp-conformance.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const engines: EngineName[] = [...(verilatorAvailable() ? (["js", "verilator"] as const) : (["js"] as const)), ...(nativeAvailable() ? (["native"] as const) : [])];

const params = simulationCoreParams;
// Emitted once: every run builds the same Verilog, which each engine compiles once into .cache/.
const coreModule = nvmeHostCore(params);
const core: VerilogCore = {
  sources: emittedSources(emitDesign(coreModule).files),
  top: coreModule.name,
};

/** The root port's Max_Payload_Size Supported in the link model (its default). */
const ROOT_PORT_MPS = 512;
const CORE_MAX_PAYLOAD = params.tlp.maxPayloadBytes;
const CORE_MRRS = 128 << params.enumeration.mrrsCode;
/** CC: EN, NVM command set, 4 KiB pages, round robin, IOSQES 6 (64 B), IOCQES 4 (16 B). */
const CC_ENABLED = 0x0046_0001;
const Opcode = { createIoSq: 0x01, createIoCq: 0x05, identify: 0x06, setFeatures: 0x09 } as const;
const FEATURE_NUMBER_OF_QUEUES = 0x07;
/** A healthy bring-up takes about 17 000 cycles (68 µs); each bound below adds this to the wait that runs out. */
const BRINGUP_BOUND = 25_000;

// ---- what the SSD saw of the admin queue, from the trace ----

/**
 * Follows the TLPs of a run for what the bring-up did at the NVMe level: the admin commands the SSD
 * fetched (our CplDs to its reads of the admin SQ), the completions it posted (its MWr to the admin
 * CQ) and the Identify pages it wrote (its MWr to the Identify buffers).
 */
class AdminTraffic implements TraceSink {
  readonly commands: SubmissionEntry[] = [];
  readonly completions: ReturnType<typeof decodeCompletionEntry>[] = [];
  readonly identifyController = new Uint8Array(IDENTIFY_BYTES);
  readonly identifyNamespace = new Uint8Array(IDENTIFY_BYTES);
  private readonly sqReads = new Map<number, { entries: Uint8Array; filled: number }>();

  write(_cycle: number, dir: TraceDirection, bytes: Uint8Array): void {
    const tlp = decodeTlp(bytes, { allow4dwBelow4G: true });
    if (dir === "up" && tlp.kind === "MRd" && within(HostMemoryMap.adminSq, tlp.address)) {
      this.sqReads.set((tlp.requesterId << 8) | tlp.tag, { entries: new Uint8Array(tlp.lengthDw * 4), filled: 0 });
    } else if (dir === "up" && tlp.kind === "MWr") {
      const data = tlp.data!;
      if (within(HostMemoryMap.adminCq, tlp.address)) this.completions.push(decodeCompletionEntry(data));
      else if (within(HostMemoryMap.identifyController, tlp.address)) this.identifyController.set(data, Number(tlp.address) - HostMemoryMap.identifyController.base);
      else if (within(HostMemoryMap.identifyNamespace, tlp.address)) this.identifyNamespace.set(data, Number(tlp.address) - HostMemoryMap.identifyNamespace.base);
    } else if (dir === "down" && tlp.kind === "CplD") {
      const read = this.sqReads.get((tlp.requesterId << 8) | tlp.tag);
      if (!read) return;
      read.entries.set(tlp.data!, read.filled);
      read.filled += tlp.data!.length;
      if (read.filled < read.entries.length) return;
      this.sqReads.delete((tlp.requesterId << 8) | tlp.tag);
      for (let at = 0; at + SQE_BYTES <= read.entries.length; at += SQE_BYTES) this.commands.push(parseSubmissionEntry(read.entries.subarray(at, at + SQE_BYTES)));
    }
  }

  /** Forget what was seen (before a restart). */
  clear(): void {
    this.commands.length = 0;
    this.completions.length = 0;
    this.identifyController.fill(0);
    this.identifyNamespace.fill(0);
    this.sqReads.clear();
  }
}

function within(region: HostMemoryRegion, address: bigint): boolean {
  return address >= BigInt(region.base) && address < BigInt(region.base + region.bytes);
}

// ---- one run ----

interface RunSetup {
  ssd?: Partial<SsdOptions>;
  faults?: SsdFault[];
  link?: LinkParamsInput;
}

interface Run {
  report: BringupReport;
  system: FullSystem;
  checker: TlpConformanceChecker;
  admin: AdminTraffic;
  /** Cycles from the start to READY or FAULT. */
  cycles: number;
}

const open: FullSystem[] = [];
afterEach(() => {
  for (const system of open.splice(0)) system.close();
});

async function bringUp(engine: EngineName, setup: RunSetup): Promise<Run> {
  const checker = new TlpConformanceChecker({ completionTimeoutCycles: params.tlp.completionTimeoutCycles });
  const admin = new AdminTraffic();
  const { report, system } = await runBringup({
    core,
    engine,
    ssd: setup.ssd,
    faults: setup.faults,
    link: setup.link,
    trace: teeTrace(checker, admin),
    onLinkEvent: (event) => checker.linkEvent(event),
    onBuilt: (built) => {
      checker.rootPort = built.link.config;
    },
    maxCycles: 2_000_000,
  });
  open.push(system);
  return { report, system, checker, admin, cycles: outcomeCycles(report) };
}

/** Cycles from the start to READY or FAULT (the report's reading of the strings comes after). */
function outcomeCycles(report: BringupReport): number {
  return Math.round((report.bringup_us * 1000) / NS_PER_CYCLE);
}

/** Pulses `restart` for one cycle and runs to READY or FAULT again; returns the report and the cycles it took. */
function restart(run: Run): { report: BringupReport; cycles: number; start: number } {
  const { system } = run;
  run.admin.clear();
  const start = system.cycle;
  system.sim.poke("restart", 1);
  system.step(1);
  system.sim.poke("restart", 0);
  waitForOutcome(system, 2_000_000);
  const report = readBringupReport(system, start);
  return { report, cycles: outcomeCycles(report), start };
}

/** Every TLP the controller sent obeyed the PCIe rules, and the checker did see the run. */
function expectConformant(run: Run): void {
  run.checker.finish();
  expect(run.checker.report()).toBe("");
  expect(run.checker.seen.down).toBeGreaterThan(0);
  expect(run.checker.seen.up).toBeGreaterThan(0);
}

/** What the report must say for an SSD with these options, on this link, and what the SSD must hold afterwards. */
function expectReadyAsConfigured(run: Run, setup: RunSetup, report: BringupReport = run.report, since = 0): void {
  const { system, admin } = run;
  const { ssd, link } = system;
  const o = resolveSsdOptions(setup.ssd);
  const ns1 = o.namespaces[0];
  const mps = Math.min(ROOT_PORT_MPS, o.maxPayloadSupported, CORE_MAX_PAYLOAD);
  const ioEntries = Math.min(params.ioQueueEntries, o.mqes + 1);
  const atomicBlocks = (ns1.nawupf !== undefined || ns1.nawun !== undefined ? (ns1.nawupf ?? 0) : o.awupf) + 1;

  expect(report.state).toBe("ready");
  expect(report.error).toBeNull();
  expect(report.link).toEqual({ gen: Math.min(2, o.linkSpeed), lanes: Math.min(4, o.linkWidth), mps, mrrs: CORE_MRRS });
  expect(report.pcie).toEqual({ vendor_id: o.vendorId, device_id: o.deviceId, bar0: BAR_WINDOW.base, bar0_bytes: ssd.layout.size });
  if (o.bar0Size !== 0) expect(ssd.layout.size).toBe(o.bar0Size);
  expect(report.nvme).toEqual({ version: "1.4.0", mqes: o.mqes, dstrd: o.dstrd, io_queue_entries: ioEntries });
  expect(report.ctrl).toMatchObject({
    vid: o.vendorId,
    ssvid: o.subsystemVendorId,
    sn: o.serial.trimEnd(),
    mn: o.model.trimEnd(),
    fr: o.firmware.trimEnd(),
    mdts: o.mdts,
    mdts_bytes: o.mdts === 0 ? 0 : 2 ** o.mdts * 2 ** (12 + o.mpsmin),
    nn: o.maxNamespaces,
    awun: o.awun,
    awupf: o.awupf,
  });
  expect(report.ns).toMatchObject({
    nsze: ns1.capacityBlocks,
    ncap: ns1.capacityBlocks,
    lba_bytes: ns1.lbaSize,
    capacity_bytes: ns1.capacityBlocks * ns1.lbaSize,
    nawupf: ns1.nawupf ?? 0,
    awupf_bytes: atomicBlocks * ns1.lbaSize,
  });
  // Every other reported Identify field as the SSD wrote it.
  const C = IdentifyControllerField;
  const N = IdentifyNamespaceField;
  const page = admin.identifyController;
  const nsPage = admin.identifyNamespace;
  expect(readField(page, C.vid)).toBe(o.vendorId); // the page was captured
  for (const name of ["oacs", "rtd3e", "sqes", "cqes", "oncs", "vwc"] as const) expect(report.ctrl[name], name).toBe(readField(page, C[name]));
  for (const name of ["nsfeat", "nlbaf", "flbas", "nawun"] as const) expect(report.ns[name], name).toBe(readField(nsPage, N[name]));

  // The link and both ends' Device Control.
  expect(link.speed).toBe(report.link.gen);
  expect(link.width).toBe(report.link.lanes);
  expect(link.config.maxPayloadSize).toBe(mps);
  expect(ssd.config.maxPayloadBytes).toBe(mps);
  expect(ssd.config.maxReadRequestBytes).toBe(CORE_MRRS);
  expect(ssd.config.bar0Base).toBe(BigInt(BAR_WINDOW.base));
  expect(ssd.config.readDword(0x04) & 0x0406).toBe(0x0406); // Memory Space, Bus Master, INTx off

  // The NVMe controller: enabled as the core means, the admin commands run, the I/O pair in place.
  const c = ssd.controller;
  expect(c.regs.cc >>> 0).toBe(CC_ENABLED);
  expect(c.regs.ready).toBe(true);
  expect(admin.commands.map((e) => e.opcode)).toEqual([Opcode.identify, Opcode.identify, Opcode.setFeatures, Opcode.createIoCq, Opcode.createIoSq]);
  const [idController, idNamespace, numberOfQueues] = admin.commands;
  expect(idController.cdw10 & 0xff).toBe(1); // CNS 01h
  expect(idNamespace.cdw10 & 0xff).toBe(0); // CNS 00h
  expect(idNamespace.nsid).toBe(1);
  expect(numberOfQueues.cdw10 & 0xff).toBe(FEATURE_NUMBER_OF_QUEUES);
  expect(numberOfQueues.cdw11 >>> 0).toBe(0); // one SQ and one CQ, zero-based
  expect(admin.completions.map((e) => [e.cid, e.statusField])).toEqual(admin.commands.map((e) => [e.cid, 0]));
  const adminSq = c.sqs.get(0)!;
  const adminCq = c.cqs.get(0)!;
  expect([adminSq.base, adminSq.size, adminCq.base, adminCq.size]).toEqual([BigInt(HostMemoryMap.adminSq.base), params.adminQueueEntries, BigInt(HostMemoryMap.adminCq.base), params.adminQueueEntries]);
  expect(adminSq.available).toBe(0);
  expect(adminCq.outstanding).toBe(0); // every completion released through the CQ head doorbell (at the DSTRD stride)
  const sq = c.sqs.get(1)!;
  const cq = c.cqs.get(1)!;
  expect({ base: sq.base, size: sq.size, cqid: sq.cqid }).toEqual({ base: BigInt(HostMemoryMap.ioSq.base), size: ioEntries, cqid: 1 });
  expect({ base: cq.base, size: cq.size, interrupts: cq.interruptsEnabled }).toEqual({ base: BigInt(HostMemoryMap.ioCq.base), size: ioEntries, interrupts: false });
  expect([...c.sqs.keys()].sort()).toEqual([0, 1]);
  expect([...c.cqs.keys()].sort()).toEqual([0, 1]);
  // Nothing the SSD refused or found wrong (since `since`: a fault run before a restart has its own).
  expect(ssd.log.entries.filter((e) => e.cycle >= since && e.category !== "fault-injected")).toEqual([]);
  expect(ssd.counters.unexpectedCompletions).toBe(0);
}

// ---- the variants ----

const GiB = 2 ** 30;
const ns512 = (bytes: number) => ({ lbaSize: 512 as const, capacityBlocks: bytes / 512 });
const ns4096 = (bytes: number) => ({ lbaSize: 4096 as const, capacityBlocks: bytes / 4096 });

interface Variant extends RunSetup {
  /** More to check in the run than what expectReadyAsConfigured checks for every variant. */
  also?: (run: Run) => void;
}

const variants: [string, Variant][] = [
  [
    "defaults: MPS 512 supported (256 used), MDTS 7, LBA 512, BAR0 16 KiB 64-bit",
    {
      also: (r) => {
        expect(r.system.ssd.layout.size).toBe(16384);
        expect(r.system.ssd.config.bar0Is64Bit).toBe(true);
        expect(r.system.link.counters.directedChanges).toBe(0);
      },
    },
  ],
  [
    "MPS 128, MDTS 0 (unlimited), identity and strings filling their fields",
    {
      ssd: {
        maxPayloadSupported: 128,
        mdts: 0,
        vendorId: 0x144d,
        deviceId: 0xa80a,
        subsystemVendorId: 0x144e,
        serial: "S4EWNX0R123456789ABC",
        model: "nvme-host model with a forty-char name!!",
        firmware: "FW2.17-b",
      },
    },
  ],
  ["MPS 256, MDTS 5, LBA 4096, DSTRD 2", { ssd: { maxPayloadSupported: 256, mdts: 5, namespaces: [ns4096(4 * GiB)], dstrd: 2 } }],
  // 2^34 blocks: NSZE's upper word counts.
  ["MDTS 10, LBA 512, 8 TiB, controller atomic units (AWUN 3, AWUPF 7)", { ssd: { mdts: 10, namespaces: [ns512(8192 * GiB)], awun: 3, awupf: 7 } }],
  ["BAR0 64 KiB 64-bit", { ssd: { bar0Size: 65536, bar0AddressBits: 64 } }],
  ["BAR0 64 KiB 32-bit", { ssd: { bar0Size: 65536, bar0AddressBits: 32 } }],
  ["BAR0 16 KiB 32-bit", { ssd: { bar0Size: 16384, bar0AddressBits: 32 } }],
  ["MQES 15: a 16-entry I/O queue pair, below the 64 configured", { ssd: { mqes: 15 } }],
  [
    "three namespaces: NSID 1 (4096-byte blocks, NAWUPF 3) is the one identified",
    { ssd: { namespaces: [{ ...ns4096(GiB), nawun: 1, nawupf: 3 }, ns512(GiB), ns4096(2 * GiB)], maxNamespaces: 4 } },
  ],
  [
    "CRS for 1.2 ms after reset (the core's CRS timeout is 2 ms)",
    {
      ssd: { crsCycles: 300_000 },
      also: (r) => {
        expect(r.system.ssd.counters.crsCompletions).toBeGreaterThan(10);
        expect(r.cycles).toBeGreaterThan(300_000);
      },
    },
  ],
  [
    "slow RDY: 240 µs after CC.EN, CAP.TO 15 (300 µs at the simulation core's 20 µs units)",
    { ssd: { readyDelayCycles: 60_000, capTimeout: 15 }, also: (r) => expect(r.cycles).toBeGreaterThan(60_000) },
  ],
  ["a link trained at 2.5 GT/s, retrained to 5 GT/s", { link: { initialSpeed: 1 }, also: (r) => expect(r.system.link.counters.directedChanges).toBe(1) }],
  ["a Gen1-only SSD: the link stays at 2.5 GT/s", { ssd: { linkSpeed: 1 }, also: (r) => expect(r.system.link.counters.directedChanges).toBe(0) }],
  ["an x2 SSD", { ssd: { linkWidth: 2 } }],
  ["an x1 SSD at 2.5 GT/s first", { ssd: { linkWidth: 1 }, link: { initialSpeed: 1 } }],
];

// ---- the faults ----

interface FaultCase extends RunSetup {
  error: { step: string; code: string; detail?: string };
  /** Cycles from the start to FAULT: at least the wait that runs out, at most that plus a bring-up. */
  cycles: [number, number];
  /** Takes the fault away before the restart (faults with count 1 are gone once fired). */
  clear?: (system: FullSystem) => void;
  /** The restart ends in the same error (the fault cannot go away). */
  persists?: boolean;
}

const linkUpTimeout = params.link.perstCycles + params.link.linkUpTimeoutCycles;
const crsTimeout = params.enumeration.crsTimeoutCycles;
/** CAP.TO 4 (2 s on hardware): 80 µs with the simulation core's 20 µs units. */
const NEVER_READY_CAP_TO = 4;
const readyTimeout = NEVER_READY_CAP_TO * params.nvme.readyTimeoutUnitCycles;
const adminTimeout = params.nvme.adminTimeoutCycles;

const faults: [string, FaultCase][] = [
  [
    "no link",
    {
      faults: [{ inject: "noLink" }],
      error: { step: "LINK", code: "NO_LINK", detail: "LTSSM state 0x01" },
      cycles: [linkUpTimeout, linkUpTimeout + 1000],
      clear: (system) => system.link.setNoLink(false),
    },
  ],
  [
    "CRS forever",
    {
      ssd: { crsCycles: 1e12 },
      error: { step: "ENUMERATE/READ_ID", code: "CRS_TIMEOUT", detail: "completion status CRS" },
      cycles: [crsTimeout, crsTimeout + BRINGUP_BOUND],
      clear: (system) => system.ssd.setCrsCycles(0),
    },
  ],
  ["CSTS.CFS during enable", { faults: [{ inject: "fatalOnEnable", count: 1 }], error: { step: "NVME_ENABLE/POLL_CHECK", code: "CONTROLLER_FATAL" }, cycles: [0, BRINGUP_BOUND] }],
  [
    "RDY never set (CAP.TO 4)",
    {
      ssd: { capTimeout: NEVER_READY_CAP_TO },
      faults: [{ inject: "neverReady", count: 1 }],
      error: { step: "NVME_ENABLE/POLL_CHECK", code: "READY_TIMEOUT" },
      cycles: [readyTimeout, readyTimeout + BRINGUP_BOUND],
    },
  ],
  [
    "Identify Controller returns Invalid Field, DNR",
    {
      faults: [{ inject: "injectStatus", match: { sqid: 0, opcode: Opcode.identify }, status: { sct: 0, sc: 0x02, dnr: true }, count: 1 }],
      error: { step: "ADMIN/IDENTIFY_CONTROLLER", code: "COMMAND_STATUS", detail: "NVMe status SCT 0 SC 0x02 DNR" },
      cycles: [0, BRINGUP_BOUND],
    },
  ],
  [
    "Identify Namespace data arrives poisoned",
    {
      faults: [{ inject: "poisonReadData", match: { sqid: 0, opcode: Opcode.identify, nsid: 1 }, count: 1 }],
      error: { step: "ADMIN/IDENTIFY_NAMESPACE", code: "IDENTIFY_DATA_POISONED" },
      cycles: [0, BRINGUP_BOUND],
    },
  ],
  [
    "Create I/O SQ fails with Invalid Queue Size",
    {
      faults: [{ inject: "injectStatus", match: { sqid: 0, opcode: Opcode.createIoSq }, status: { sct: 1, sc: 0x02, dnr: false }, count: 1 }],
      error: { step: "ADMIN/CREATE_IO_SQ", code: "COMMAND_STATUS", detail: "NVMe status SCT 1 SC 0x02" },
      cycles: [0, BRINGUP_BOUND],
    },
  ],
  [
    "the Set Features completion never comes",
    {
      faults: [{ inject: "dropCompletion", match: { sqid: 0, opcode: Opcode.setFeatures }, count: 1 }],
      error: { step: "ADMIN/SET_NUMBER_OF_QUEUES", code: "COMPLETION_TIMEOUT" },
      cycles: [adminTimeout, adminTimeout + BRINGUP_BOUND],
    },
  ],
  [
    "UR on the first BAR0 read",
    { faults: [{ inject: "failMmioReads", status: "UR", count: 1 }], error: { step: "NVME_ENABLE/READ_CAP_LO", code: "ACCESS_FAILED", detail: "completion status UR" }, cycles: [0, BRINGUP_BOUND] },
  ],
  [
    "a class code that is not NVMe (AHCI, 01 06 01)",
    { ssd: { classCode: 0x010601 }, error: { step: "ENUMERATE/READ_CLASS", code: "NOT_NVME" }, cycles: [0, BRINGUP_BOUND], persists: true },
  ],
];

describe.each(engines)("nvme_host_core in the full system, %s engine", (engine) => {
  it.each(variants)("READY with what the SSD was configured with: %s", async (_name, variant) => {
    const run = await bringUp(engine, variant);
    expectReadyAsConfigured(run, variant);
    expect(run.cycles).toBeLessThan((variant.ssd?.crsCycles ?? 0) + (variant.ssd?.readyDelayCycles ?? 0) + BRINGUP_BOUND);
    variant.also?.(run);
    expectConformant(run);
  });

  it.each(faults)("%s: its named error in bounded time, then restart", async (_name, fault) => {
    const run = await bringUp(engine, fault);
    expect(run.report.state).toBe("error");
    expect(run.report.error).toEqual({ detail: "", ...fault.error });
    expect(run.cycles).toBeGreaterThanOrEqual(fault.cycles[0]);
    expect(run.cycles).toBeLessThanOrEqual(fault.cycles[1]);

    fault.clear?.(run.system);
    const again = restart(run);
    if (fault.persists) {
      expect(again.report.error).toEqual(run.report.error);
      expect(again.cycles).toBeLessThanOrEqual(fault.cycles[1]);
    } else {
      expectReadyAsConfigured(run, fault, again.report, again.start);
      expect(again.cycles).toBeLessThan(BRINGUP_BOUND);
    }
    expectConformant(run);
  });
});
