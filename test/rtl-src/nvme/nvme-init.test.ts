// nvme_init, as emitted Verilog on both engines.
//
// On the whole path (TLP layer, pcie_requester, access arbiter, admin engine, router, behind the
// link model, against the NVMe SSD model): a controller found disabled is programmed and enabled
// with exactly the register writes of PROTOCOL_FACTS §E.9 (values written out by hand here); one
// found enabled (and even shutting down) is reset first with EN and SHN cleared, and the admin
// queue works after the second enable (the engine's queues were reset with the controller's); one
// found still coming up (EN = 1, RDY = 0) is given the time to become ready before it is reset; a
// slow RDY is waited for; a RDY that never comes ends in READY_TIMEOUT within CAP.TO; CSTS.CFS
// during the enable ends in CONTROLLER_FATAL and the next start recovers; an MMIO read answered
// UR ends in ACCESS_FAILED.
//
// Alone, against a scripted register file on its access port (random latency), for the faults
// the model cannot produce: CAP all ones, no NVM command set, 4 KiB pages unsupported, CSTS all
// ones, a poisoned or lost completion, RDY stuck at 1 after EN = 0, CFS while waiting for a
// controller to come up, and the exact length of the ready timeout.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { AdminOpcode } from "../../../rtl-src/nvme/admin-command.ts";
import { type NvmeInitError, type NvmeInitParams, nvmeInit, nvmeInitErrorCode } from "../../../rtl-src/nvme/nvme-init.ts";
import { AccessKind } from "../../../rtl-src/pcie/pcie-access.ts";
import { CompletionStatus } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type AdminCommandFields, NvmeAdminRig, RIG_BAR0 } from "../../../sim/testbench/nvme-admin-rig.ts";
import { ADMIN_SYSTEM_TEST_PARAMS as SYSTEM, buildNvmeAdminSystem } from "../../../sim/testbench/nvme-admin-system.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const code = (e: NvmeInitError) => nvmeInitErrorCode(e);
const INIT_CYCLES = 60_000;

/** What the sequence writes, by hand from PROTOCOL_FACTS §D/§E.9: AQA for 3 + 3 entries, the map's queue bases, CC 0x0046_0001. */
const PROGRAMMING = [
  { offset: 0x24, value: 0x0002_0002 },
  { offset: 0x28, value: 0x1000_0000 },
  { offset: 0x2c, value: 0 },
  { offset: 0x30, value: 0x1000_1000 },
  { offset: 0x34, value: 0 },
  { offset: 0x14, value: 0x0046_0001 },
];
const DISABLE = { offset: 0x14, value: 0x0046_0000 };
const identifyController: AdminCommandFields = { opcode: AdminOpcode.identify, nsid: 0, prp1: HostMemoryMap.identifyController.base, cdw10: 1, cdw11: 0 };

describe.each(engines)("nvme_init on the whole path, %s engine", (engine) => {
  let system: Simulator | undefined;
  const rigFor = async (ssd: ConstructorParameters<typeof NvmeAdminRig>[1], seed: number) => {
    system ??= await buildNvmeAdminSystem(SYSTEM, engine);
    const rig = new NvmeAdminRig(system, ssd, seededRandom(seed));
    rig.enumerate();
    return rig;
  };
  /** BAR0 offsets of the register reads the SSD received, in order. */
  const registerReads = (rig: NvmeAdminRig) => rig.tap.down.flatMap(({ tlp }) => (tlp.kind === "MRd" ? [Number(tlp.address) - RIG_BAR0] : []));

  it("programs and enables a controller found disabled, and reports its CAP fields", async () => {
    const options = { mqes: 0x3ff, capTimeout: 0x21, dstrd: 1, mpsmin: 0, mpsmax: 3, readyDelayCycles: 1500 };
    const rig = await rigFor(options, 1);
    const outcome = rig.init(INIT_CYCLES);
    expect(outcome).toMatchObject({ done: 1, error: 0, code: 0 });
    expect(outcome.cycles).toBeGreaterThan(options.readyDelayCycles);
    expect(rig.registerWrites()).toEqual(PROGRAMMING);
    const reads = registerReads(rig);
    expect(reads.slice(0, 5)).toEqual([0x00, 0x04, 0x08, 0x14, 0x1c]);
    // Then CSTS polls until RDY: one every poll interval plus the access's round trip at least.
    const polls = reads.slice(5);
    expect(polls.every((offset) => offset === 0x1c)).toBe(true);
    expect(polls.length).toBeGreaterThan(1);
    expect(polls.length).toBeLessThanOrEqual(Math.ceil(options.readyDelayCycles / SYSTEM.pollIntervalCycles) + 1);
    const s = rig.sim;
    expect({ mqes: s.peek("init_mqes"), dstrd: s.peek("init_dstrd"), to: s.peek("init_cap_to"), mpsmin: s.peek("init_mpsmin"), mpsmax: s.peek("init_mpsmax"), version: s.peek("init_version") >>> 0 })
      .toEqual({ mqes: 0x3ff, dstrd: 1, to: 0x21, mpsmin: 0, mpsmax: 3, version: 0x0001_0400 });
    const regs = rig.ssd.controller.regs;
    expect({ cc: regs.cc, aqa: regs.aqa, asq: regs.asq, acq: regs.acq, ready: regs.ready }).toEqual({ cc: 0x0046_0001, aqa: 0x0002_0002, asq: 0x1000_0000n, acq: 0x1000_1000n, ready: true });
    // done holds, nothing more is sent.
    const sent = rig.tap.down.length;
    rig.step(500);
    expect(rig.tap.down.length).toBe(sent);
    expect(s.peek("init_done")).toBe(1);
  });

  it("resets a controller found enabled (and shutting down) with EN and SHN cleared; the admin queue works after the second enable", async () => {
    const rig = await rigFor({ readyDelayCycles: 800, shutdownDelayCycles: 400 }, 2);
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 1 });
    // Two commands move the admin queues off slot 0.
    for (let i = 0; i < 2; i++) expect(rig.command(identifyController, 20_000)).toMatchObject({ status: 0, timedOut: 0 });
    expect(rig.sim.peek("engine_sq_tail")).toBe(2);
    // A normal shutdown notification: CC.SHN = 01 with EN still set.
    expect(rig.access(AccessKind.MEM_WRITE, RIG_BAR0 + 0x14, 0x0046_4001)).toMatchObject({ status: CompletionStatus.SC, timedOut: 0 });
    rig.step(1000);
    const before = rig.registerWrites().length;
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 1, error: 0 });
    expect(rig.registerWrites().slice(before)).toEqual([DISABLE, ...PROGRAMMING]);
    // The SSD's queues and the engine's both start again at slot 0.
    expect({ tail: rig.sim.peek("engine_sq_tail"), head: rig.sim.peek("engine_cq_head"), phase: rig.sim.peek("engine_cq_phase") }).toEqual({ tail: 0, head: 0, phase: 1 });
    for (let i = 0; i < 4; i++) expect(rig.command(identifyController, 20_000), `command ${i} after the reset`).toMatchObject({ status: 0, timedOut: 0 });
    expect(rig.ssd.controller.stats.doorbellErrors).toBe(0);
    expect(rig.fetchedEntries().map((e) => e.address - HostMemoryMap.adminSq.base)).toEqual([0, 64, 0, 64, 128, 0]);
  });

  it("lets a controller still coming up (EN = 1, RDY = 0) become ready before resetting it", async () => {
    const readyDelayCycles = 3000;
    const rig = await rigFor({ readyDelayCycles }, 3);
    for (const { offset, value } of PROGRAMMING) rig.access(AccessKind.MEM_WRITE, RIG_BAR0 + offset, value);
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 1, error: 0 });
    const ccWrites = rig.tap.down.flatMap(({ cycle, tlp }) => (tlp.kind === "MWr" && Number(tlp.address) === RIG_BAR0 + 0x14 ? [{ cycle, value: Buffer.from(tlp.data!).readUInt32LE(0) }] : []));
    expect(ccWrites.map((w) => w.value)).toEqual([0x0046_0001, 0x0046_0000, 0x0046_0001]);
    expect(ccWrites[1].cycle - ccWrites[0].cycle).toBeGreaterThanOrEqual(readyDelayCycles);
    expect(rig.registerWrites().slice(PROGRAMMING.length)).toEqual([DISABLE, ...PROGRAMMING]);
  });

  it("waits for a slow RDY within CAP.TO, and reports a RDY that never comes as READY_TIMEOUT within CAP.TO", async () => {
    // CAP.TO 15: (15 + 1) units of 1000 cycles.
    const slow = await rigFor({ readyDelayCycles: 12_000, capTimeout: 15 }, 4);
    const waited = slow.init(INIT_CYCLES);
    expect(waited).toMatchObject({ done: 1, error: 0 });
    expect(waited.cycles).toBeGreaterThan(12_000);

    const never = await rigFor({ readyDelayCycles: 50_000, capTimeout: 1 }, 5);
    const start = never.cycle;
    const failed = never.init(INIT_CYCLES);
    expect(failed).toMatchObject({ done: 0, error: 1, code: code("READY_TIMEOUT") });
    const enabledAt = never.tap.down.find(({ tlp }) => tlp.kind === "MWr" && Number(tlp.address) === RIG_BAR0 + 0x14)!.cycle;
    const bound = (1 + 1) * SYSTEM.readyTimeoutUnitCycles;
    expect(start + failed.cycles - enabledAt).toBeGreaterThanOrEqual(bound);
    expect(start + failed.cycles - enabledAt).toBeLessThan(bound + SYSTEM.pollIntervalCycles + 600);
    expect(never.ssd.controller.regs.ready).toBe(false);
  });

  it("stops on CSTS.CFS while waiting for RDY, and the next start recovers the controller", async () => {
    const rig = await rigFor({ readyDelayCycles: 5000 }, 6);
    rig.sim.poke("init_start", 1);
    rig.step();
    rig.sim.poke("init_start", 0);
    rig.until(() => (rig.ssd.controller.regs.cc & 1) === 1, 20_000, "CC.EN written");
    rig.step(1000);
    rig.ssd.injectControllerFatal("test: fatal during enable");
    rig.until(() => rig.sim.peek("init_error") === 1, 5000, "init error");
    expect(rig.sim.peek("init_error_code")).toBe(code("CONTROLLER_FATAL"));
    expect(rig.sim.peek("init_done")).toBe(0);
    const before = rig.registerWrites().length;
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 1, error: 0, code: 0 });
    // EN = 1 with CFS: no wait for RDY = 1, straight to the reset.
    expect(rig.registerWrites().slice(before)).toEqual([DISABLE, ...PROGRAMMING]);
    expect(rig.command(identifyController, 20_000)).toMatchObject({ status: 0, timedOut: 0 });
  });

  it("reports an MMIO read answered UR as ACCESS_FAILED, then runs again", async () => {
    const rig = await rigFor({}, 7);
    rig.ssd.faults.failMmioReads("UR");
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 0, error: 1, code: code("ACCESS_FAILED") });
    expect(registerReads(rig)).toEqual([0x00]);
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 1, error: 0 });
  });
});

// ---- alone, against a scripted register file ----

const PARAMS: NvmeInitParams = { adminQueueEntries: 4, readyTimeoutUnitCycles: 100, pollIntervalCycles: 7 };
const BAR0 = 0xd004_0000;

interface RegisterFileOptions {
  cap: bigint;
  cc?: number;
  csts?: number;
  /** Cycles from CC.EN 0 -> 1 to RDY = 1 (Infinity: never). */
  enableDelay?: number;
  /** Cycles from CC.EN 1 -> 0 to RDY = 0 (Infinity: never). */
  disableDelay?: number;
  /** How the n-th access (0-based) is answered instead of normally. */
  fault?: (n: number, offset: number) => "timed_out" | "poisoned" | "UR" | undefined;
  /** CSTS as read, given the register's value and the cycle. */
  cstsRead?: (csts: number, cycle: number) => number;
}

/** A cap value: MQES, TO, DSTRD, CSS, MPSMIN/MAX. */
function capOf(f: { mqes?: number; to?: number; dstrd?: number; css?: number; mpsmin?: number; mpsmax?: number }): bigint {
  return BigInt(f.mqes ?? 0xff) | (BigInt(f.to ?? 2) << 24n) | (BigInt(f.dstrd ?? 0) << 32n) | (BigInt(f.css ?? 1) << 37n) | (BigInt(f.mpsmin ?? 0) << 48n) | (BigInt(f.mpsmax ?? 4) << 52n);
}

class RegisterFile {
  readonly accesses: { kind: number; offset: number; data: number; cycle: number }[] = [];
  cc: number;
  csts: number;
  private pending: { at: number; rdy: number } | undefined;
  private answer: { at: number; data: number; status: number; timedOut: number; poisoned: number } | undefined;
  private offered = false;
  private cycle = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly o: RegisterFileOptions,
    private readonly random: () => number,
  ) {
    this.cc = o.cc ?? 0;
    this.csts = o.csts ?? 0;
  }

  /** Before each edge: take a request, apply time, offer the answer after a random latency. */
  beforeEdge(): void {
    const { sim } = this;
    this.cycle++;
    if (this.pending && this.cycle >= this.pending.at) {
      // The end of a controller reset (RDY -> 0) clears CFS too.
      this.csts = this.pending.rdy ? this.csts | 1 : this.csts & ~3;
      this.pending = undefined;
    }
    const ready = this.answer === undefined && this.random() < 0.6;
    sim.poke("access_request_ready", ready ? 1 : 0);
    if (ready && sim.peek("access_request_valid")) this.take();
    const a = this.answer;
    this.offered = a !== undefined && this.cycle >= a.at;
    sim.poke("access_response_valid", this.offered ? 1 : 0);
    if (a && this.offered) {
      sim.poke("access_response_data", a.data);
      sim.poke("access_response_status", a.status);
      sim.poke("access_response_timed_out", a.timedOut);
      sim.poke("access_response_poisoned", a.poisoned);
      if (sim.peek("access_response_ready")) this.answer = undefined;
    }
  }

  private take(): void {
    const { sim } = this;
    const kind = sim.peek("access_request_kind");
    const address = sim.peek("access_request_address") >>> 0;
    const data = sim.peek("access_request_data") >>> 0;
    if (sim.peek("access_request_byte_en") !== 0xf) throw new Error("nvme_init: a register access without all four byte enables");
    if ((address & ~0xfff) >>> 0 !== BAR0) throw new Error(`nvme_init: access at 0x${address.toString(16)} outside BAR0 0x${BAR0.toString(16)}`);
    const offset = address & 0xfff;
    const n = this.accesses.length;
    this.accesses.push({ kind, offset, data, cycle: this.cycle });
    const at = this.cycle + 1 + Math.floor(this.random() * 5);
    const fault = this.o.fault?.(n, offset);
    if (fault) {
      this.answer = { at, data: 0xffff_ffff, status: fault === "UR" ? CompletionStatus.UR : CompletionStatus.SC, timedOut: fault === "timed_out" ? 1 : 0, poisoned: fault === "poisoned" ? 1 : 0 };
      return;
    }
    let value = 0;
    if (kind === AccessKind.MEM_READ) {
      value = this.read(offset);
    } else if (kind === AccessKind.MEM_WRITE) {
      if (offset === 0x14) this.writeCc(data);
    } else throw new Error(`nvme_init: access kind ${kind} is not a memory access`);
    this.answer = { at, data: value, status: CompletionStatus.SC, timedOut: 0, poisoned: 0 };
  }

  private read(offset: number): number {
    const cap = this.o.cap;
    switch (offset) {
      case 0x00: return Number(cap & 0xffff_ffffn);
      case 0x04: return Number(cap >> 32n);
      case 0x08: return 0x0001_0300;
      case 0x14: return this.cc;
      case 0x1c: return (this.o.cstsRead ? this.o.cstsRead(this.csts, this.cycle) : this.csts) >>> 0;
      default: return 0;
    }
  }

  private writeCc(value: number): void {
    const was = this.cc & 1;
    this.cc = value;
    const now = value & 1;
    const delay = now ? this.o.enableDelay ?? 20 : this.o.disableDelay ?? 20;
    if (was !== now) this.pending = Number.isFinite(delay) ? { at: this.cycle + delay, rdy: now } : undefined;
  }
}

describe.each(engines)("nvme_init alone against a scripted register file, %s engine", (engine) => {
  let sim: Simulator | undefined;
  const build = async () => {
    if (!sim) {
      const { files, design } = emitDesign(nvmeInit(PARAMS));
      sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
    }
    return sim;
  };

  /** One run from start to done or error. */
  async function run(o: RegisterFileOptions, seed: number, maxCycles = 20_000) {
    const s = await build();
    s.reset(2);
    s.poke("bar0_address", BAR0);
    const file = new RegisterFile(s, o, seededRandom(seed));
    let cycles = 0;
    const edge = () => {
      file.beforeEdge();
      s.step();
      cycles++;
    };
    s.poke("start", 1);
    edge();
    s.poke("start", 0);
    // start while busy is ignored.
    edge();
    s.poke("start", 1);
    edge();
    s.poke("start", 0);
    while (!s.peek("done") && !s.peek("error")) {
      if (cycles > maxCycles) throw new Error(`nvme_init neither done nor failed after ${maxCycles} cycles`);
      edge();
    }
    const result = { done: s.peek("done"), error: s.peek("error"), code: s.peek("error_code"), cycles };
    for (let i = 0; i < 30; i++) edge();
    expect(file.accesses.filter((a) => a.cycle > cycles).length, "accesses after the end").toBe(0);
    return { ...result, file, writes: file.accesses.filter((a) => a.kind === AccessKind.MEM_WRITE).map((a) => ({ offset: a.offset, value: a.data })) };
  }

  const PROGRAMMING_4 = [
    { offset: 0x24, value: 0x0003_0003 },
    { offset: 0x28, value: HostMemoryMap.adminSq.base },
    { offset: 0x2c, value: 0 },
    { offset: 0x30, value: HostMemoryMap.adminCq.base },
    { offset: 0x34, value: 0 },
    { offset: 0x14, value: 0x0046_0001 },
  ];

  it("enables a healthy controller with the programming writes and nothing else", async () => {
    const r = await run({ cap: capOf({}), cc: 0, csts: 0 }, 1);
    expect(r).toMatchObject({ done: 1, error: 0, code: 0 });
    expect(r.writes).toEqual(PROGRAMMING_4);
  });

  const failures: [string, RegisterFileOptions, NvmeInitError, number][] = [
    ["CAP all ones", { cap: 0xffff_ffff_ffff_ffffn }, "DEVICE_GONE", 0],
    ["no NVM command set (CSS = admin only)", { cap: capOf({ css: 0x80 }) }, "NO_NVM_COMMAND_SET", 0],
    ["pages of 8 KiB and up only", { cap: capOf({ mpsmin: 1, mpsmax: 4 }) }, "PAGE_SIZE_UNSUPPORTED", 0],
    ["CSTS all ones at the first read", { cap: capOf({}), cstsRead: () => 0xffff_ffff }, "CSTS_ALL_ONES", 0],
    ["CSTS all ones while polling", { cap: capOf({}), enableDelay: Infinity, cstsRead: (v, cycle) => (cycle > 300 ? 0xffff_ffff : v) }, "CSTS_ALL_ONES", PROGRAMMING_4.length],
    ["RDY stuck at 1 after EN = 0", { cap: capOf({ to: 0 }), cc: 0x0046_0001, csts: 1, disableDelay: Infinity }, "RESET_TIMEOUT", 1],
    ["CFS while a controller comes up", { cap: capOf({}), cc: 0x0046_0001, csts: 0, enableDelay: Infinity, cstsRead: (v, cycle) => (cycle > 200 ? v | 2 : v) }, "CONTROLLER_FATAL", 0],
    ["a lost completion on CAP", { cap: capOf({}), fault: (n) => (n === 0 ? "timed_out" : undefined) }, "ACCESS_TIMED_OUT", 0],
    ["a poisoned completion on CC", { cap: capOf({}), fault: (_, offset) => (offset === 0x14 ? "poisoned" : undefined) }, "ACCESS_POISONED", 0],
    ["UR on the AQA write", { cap: capOf({}), fault: (_, offset) => (offset === 0x24 ? "UR" : undefined) }, "ACCESS_FAILED", 1],
  ];
  for (const [what, options, error, writes] of failures) {
    it(`stops with ${error}: ${what}`, async () => {
      const r = await run(options, error.length);
      expect(r).toMatchObject({ done: 0, error: 1, code: code(error) });
      expect(r.writes.length).toBe(writes);
    });
  }

  it("clears CC.EN at once when a controller with CFS is found enabled but not ready", async () => {
    const r = await run({ cap: capOf({}), cc: 0x0046_0001, csts: 2, disableDelay: 30 }, 5);
    expect(r).toMatchObject({ done: 1, error: 0 });
    expect(r.writes).toEqual([{ offset: 0x14, value: 0x0046_0000 }, ...PROGRAMMING_4]);
  });

  it("times out after (CAP.TO + 1) units, polling at the poll interval", async () => {
    for (const to of [0, 3]) {
      const r = await run({ cap: capOf({ to }), enableDelay: Infinity }, 10 + to);
      expect(r).toMatchObject({ error: 1, code: code("READY_TIMEOUT") });
      const enabled = r.file.accesses.find((a) => a.kind === AccessKind.MEM_WRITE && a.offset === 0x14)!.cycle;
      const polls = r.file.accesses.filter((a) => a.cycle > enabled);
      const elapsed = r.cycles - enabled;
      const bound = (to + 1) * PARAMS.readyTimeoutUnitCycles;
      expect(elapsed, `TO ${to}`).toBeGreaterThanOrEqual(bound);
      expect(elapsed, `TO ${to}`).toBeLessThan(bound + PARAMS.pollIntervalCycles + 20);
      const gaps = polls.slice(1).map((a, i) => a.cycle - polls[i].cycle);
      expect(Math.min(...gaps)).toBeGreaterThan(PARAMS.pollIntervalCycles);
    }
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => nvmeInit({ ...PARAMS, adminQueueEntries: 1 })).toThrow(/adminQueueEntries 1/);
    expect(() => nvmeInit({ ...PARAMS, adminQueueEntries: 65 })).toThrow(/adminQueueEntries 65/);
    expect(() => nvmeInit({ ...PARAMS, readyTimeoutUnitCycles: 0 })).toThrow(/readyTimeoutUnitCycles 0/);
    expect(() => nvmeInit({ ...PARAMS, pollIntervalCycles: 1.5 })).toThrow(/pollIntervalCycles 1.5/);
  });
});
