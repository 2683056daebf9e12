// The enumerator, as emitted Verilog on both engines, against the access-port peer
// (sim/testbench/access-port-peer.ts) answering from a real NvmeSsd model. A healthy SSD of every
// BAR0 size and type and MPS supported ends in `done` with exactly the expected values in its
// configuration space and nothing else changed, its accesses in the expected order; CRS and
// not-yet-present answers are retried within the window; every fault ends in its named error, at
// the step it happened in, within a bound; a restart (after an error or in the middle of an access)
// then succeeds. The access port's handshake is watched by monitorStreams on every run.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { BAR_WINDOW } from "../../../rtl-src/hostmem/host-memory-map.ts";
import {
  DEVCTL_WRITTEN,
  ENUMERATION_STEPS,
  type EnumerationError,
  type EnumerationStep,
  MAX_CAPABILITY_HOPS,
  type PcieEnumeratorParams,
  enumerationErrorCode,
  enumerationStepNumber,
  pcieEnumerator,
} from "../../../rtl-src/pcie/pcie-enumerator.ts";
import { CompletionStatus, type TlpLayerParams, defaultTlpLayerParams } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { PCIE_CAP } from "../../../sim/nvme/config-space.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { LinkModel } from "../../../sim/pcie/link-model.ts";
import type { ConfigRequest, PcieEndpoint } from "../../../sim/pcie/tlp.ts";
import { type AccessPortPeerOptions, AccessPortPeer, type PeerAccess, type PeerEmulation, PeerAccessKind, emulate } from "../../../sim/testbench/access-port-peer.ts";
import { EndpointTap } from "../../../sim/testbench/endpoint-tap.ts";
import { buildPcieEnumeratorSystem } from "../../../sim/testbench/pcie-enumerator-system.ts";
import { RootPortBridge } from "../../../sim/testbench/root-port-bridge.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const PARAMS: PcieEnumeratorParams = {
  secondaryBus: 1,
  barWindowBase: BAR_WINDOW.base,
  barWindowBytes: BAR_WINDOW.bytes,
  rootPortMpsCode: 2,
  maxMpsCode: 3,
  mrrsCode: 2,
  crsTimeoutCycles: 3000,
  crsRetryDelayCycles: 100,
  accessTimeoutCycles: 400,
};
const LATENCY = 12;
/** Cycles per access at most with an always-ready peer: issue, offer, latency, capture, check, decide. */
const CYCLES_PER_ACCESS = (latency: number) => latency + 6;
/** Accesses of a healthy run with a 64-bit BAR0 and the PCIe capability first. */
const ACCESSES_64 = ENUMERATION_STEPS.length;

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

type Outcome = ReturnType<typeof outputs>;
function outputs(sim: Simulator) {
  const names = [
    "busy", "done", "error", "error_code", "error_step", "error_status", "vendor_id", "device_id", "bar0_address", "bar0_size_log2",
    "bar0_is_64bit", "ssd_mps_supported", "mps_code", "mrrs_code", "ssd_max_link_speed", "ssd_max_link_width", "crs_retries",
  ] as const;
  return Object.fromEntries(names.map((n) => [n, sim.peek(n)])) as Record<(typeof names)[number], number>;
}

const failed = (step: EnumerationStep, error: EnumerationError, status = 0) => ({
  done: 0,
  error: 1,
  busy: 0,
  error_code: enumerationErrorCode(error),
  error_step: enumerationStepNumber(step),
  error_status: status,
});

/** Every DW of the SSD's configuration space. */
const snapshot = (ssd: NvmeSsd) => Array.from({ length: 1024 }, (_, dw) => ssd.config.readDword(dw * 4));
/** The DWs that differ, by byte offset. */
function changes(before: number[], after: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  after.forEach((v, dw) => {
    if (v !== before[dw]) out[`0x${(dw * 4).toString(16)}`] = v;
  });
  return out;
}

const devctlExpected = (mpsCode: number) => (0x2810 & ~DEVCTL_WRITTEN) | (mpsCode << 5) | (1 << 8) | (PARAMS.mrrsCode << 12);

describe.each(engines)("pcie_enumerator (%s)", (engine) => {
  const sims = new Map<string, Simulator>();
  afterAll(() => {
    for (const s of sims.values()) s.close();
  });
  async function design(params = PARAMS): Promise<Simulator> {
    const module = pcieEnumerator(params);
    let sim = sims.get(module.name);
    if (!sim) {
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
      sims.set(module.name, sim);
    }
    sim.poke("start", 0);
    sim.poke("request_ready", 0);
    sim.poke("response_valid", 0);
    sim.reset(2);
    return sim;
  }

  /** A fresh SSD and peer; `start` pulsed; runs to done/error. */
  async function enumerate(ssdOptions: Partial<SsdOptions> = {}, peerOptions: Partial<AccessPortPeerOptions> = {}, maxCycles = 2000, params = PARAMS) {
    const sim = await design(params);
    const ssd = new NvmeSsd(ssdOptions);
    const peer = new AccessPortPeer(sim, ssd, { latencyCycles: LATENCY, ...peerOptions });
    const before = snapshot(ssd);
    const cycles = startAndRun(sim, peer, maxCycles);
    return { sim, ssd, peer, before, cycles, out: outputs(sim) };
  }

  function startAndRun(sim: Simulator, peer: AccessPortPeer, maxCycles: number): number {
    sim.poke("start", 1);
    peer.edge();
    sim.poke("start", 0);
    return 1 + peer.runUntil(() => sim.peek("done") === 1 || sim.peek("error") === 1, maxCycles, "done or error");
  }

  const configOf = (a: PeerAccess) => a.config!;

  it("enumerates a healthy SSD: done, what it found, and exactly these registers changed", async () => {
    const { ssd, peer, before, cycles, out } = await enumerate();
    expect(out).toEqual({
      busy: 0, done: 1, error: 0, error_code: 0, error_step: 0, error_status: 0,
      vendor_id: 0x1b36, device_id: 0x0010, bar0_address: 0xe000_0000, bar0_size_log2: 14, bar0_is_64bit: 1,
      ssd_mps_supported: 2, mps_code: 2, mrrs_code: 2, ssd_max_link_speed: 2, ssd_max_link_width: 4, crs_retries: 0,
    });
    expect(cycles).toBeLessThanOrEqual(ACCESSES_64 * CYCLES_PER_ACCESS(LATENCY) + 2);
    expect(changes(before, snapshot(ssd))).toEqual({
      "0x4": 0x0010_0406, // Status: capabilities list; Command: memory, bus master, INTx disabled
      "0x10": 0xe000_0004, // BAR0 at the window, 64-bit type
      [`0x${(PCIE_CAP + 8).toString(16)}`]: devctlExpected(2), // Device Control: MPS 512, MRRS 512, Extended Tag; RO, No Snoop off
    });
    expect(ssd.config.bar0Base).toBe(0xe000_0000n);
    expect(ssd.config.maxPayloadBytes).toBe(512);
    expect(ssd.config.maxReadRequestBytes).toBe(512);
    // Every access: Type 0 to bus 1, device 0, function 0; in the order of the steps.
    const accesses = peer.log.map((e) => e.access);
    expect(accesses.every((a) => a.config && a.config.bus === 1 && a.config.device === 0 && a.config.fn === 0)).toBe(true);
    const trace = accesses.map((a) => `${a.kind === PeerAccessKind.CFG_WRITE ? "W" : "R"}${configOf(a).register.toString(16)}/${a.byteEnable.toString(2)}${a.kind === PeerAccessKind.CFG_WRITE ? `=${a.data.toString(16)}` : ""}`);
    expect(trace).toEqual([
      "R0/1111", "R8/1111", "W4/11=0", "W10/1111=ffffffff", "R10/1111", "W14/1111=ffffffff", "R14/1111", "W10/1111=e0000000", "W14/1111=0",
      "R10/1111", "R14/1111", "R4/1111", "R34/1111", "R40/1111", "R44/1111", "R4c/1111", "R48/1111", `W48/11=${devctlExpected(2).toString(16)}`, "R48/1111",
      "W4/11=406", "R4/1111",
    ]);
    expect(peer.unexpected).toEqual([]);
  });

  it("sizes and places BAR0 of 16 KiB and 64 KiB, 64- and 32-bit, and sets MPS = min(SSD, root port, maximum) for 128/256/512", async () => {
    for (const bar0Size of [16 << 10, 64 << 10]) {
      for (const is32 of [false, true]) {
        for (const [mps, code] of [[128, 0], [256, 1], [512, 2], [4096, 2]]) {
          const what = `BAR0 ${bar0Size} ${is32 ? "32" : "64"}-bit, MPS ${mps}`;
          const { ssd, peer, before, out, cycles } = await enumerate({ bar0Size, maxPayloadSupported: mps }, { emulations: is32 ? [emulate.bar0Is32Bit()] : [] });
          expect(out, what).toMatchObject({ done: 1, error: 0, bar0_address: 0xe000_0000, bar0_size_log2: Math.log2(bar0Size), bar0_is_64bit: is32 ? 0 : 1, ssd_mps_supported: Math.log2(mps / 128), mps_code: code });
          expect(changes(before, snapshot(ssd)), what).toEqual({ "0x4": 0x0010_0406, "0x10": 0xe000_0004, "0x48": devctlExpected(code) });
          // A 32-bit BAR0 has no upper half: BAR1 is neither sized nor written.
          const bar1Accesses = peer.log.filter((e) => configOf(e.access).register === 0x14).length;
          expect(bar1Accesses, what).toBe(is32 ? 0 : 4);
          expect(cycles, what).toBeLessThanOrEqual((is32 ? ACCESSES_64 - 4 : ACCESSES_64) * CYCLES_PER_ACCESS(LATENCY) + 2);
        }
      }
    }
  });

  it("takes the configured maximum MPS when it is the smallest", async () => {
    const { out, ssd } = await enumerate({ maxPayloadSupported: 512 }, {}, 2000, { ...PARAMS, rootPortMpsCode: 3, maxMpsCode: 1 });
    expect(out).toMatchObject({ done: 1, mps_code: 1, ssd_mps_supported: 2 });
    expect(ssd.config.maxPayloadBytes).toBe(256);
  });

  it("keeps the handshake under back-pressure and slow answers", async () => {
    const { out, ssd, before } = await enumerate({}, { readyChance: 0.25, latencyCycles: 57, seed: 7 }, 6000);
    expect(out).toMatchObject({ done: 1, error: 0 });
    expect(changes(before, snapshot(ssd))).toEqual({ "0x4": 0x0010_0406, "0x10": 0xe000_0004, "0x48": devctlExpected(2) });
  });

  it("retries the ID read while the SSD answers CRS, and reports CRS_TIMEOUT at the window's end; a restart then succeeds", async () => {
    const crsCycles = 1500;
    const ok = await enumerate({ crsCycles }, {}, 4000);
    expect(ok.out).toMatchObject({ done: 1, error: 0 });
    const idReads = ok.peer.log.filter((e) => configOf(e.access).register === 0 && e.access.kind === PeerAccessKind.CFG_READ);
    expect(ok.out.crs_retries).toBe(idReads.length - 1);
    expect(idReads.slice(0, -1).every((e) => e.response?.status === CompletionStatus.CRS)).toBe(true);
    // Retries are spaced by the delay, and the first answer after the CRS time is taken.
    const gaps = idReads.slice(1).map((e, i) => e.access.cycle - idReads[i].access.cycle);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(PARAMS.crsRetryDelayCycles);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(PARAMS.crsRetryDelayCycles + CYCLES_PER_ACCESS(LATENCY) + 2);
    expect(idReads.at(-1)!.access.cycle).toBeGreaterThanOrEqual(crsCycles);
    expect(idReads.at(-1)!.access.cycle - crsCycles).toBeLessThanOrEqual(PARAMS.crsRetryDelayCycles + CYCLES_PER_ACCESS(LATENCY));

    // CRS for longer than the window: CRS_TIMEOUT, then a second start (the SSD now ready) succeeds.
    const { sim, peer, out, cycles } = await enumerate({ crsCycles: 4000 }, {}, 5000);
    expect(out).toMatchObject(failed("READ_ID", "CRS_TIMEOUT", CompletionStatus.CRS));
    expect(cycles).toBeGreaterThanOrEqual(PARAMS.crsTimeoutCycles);
    expect(cycles).toBeLessThanOrEqual(PARAMS.crsTimeoutCycles + PARAMS.crsRetryDelayCycles + 2 * CYCLES_PER_ACCESS(LATENCY));
    peer.runUntil(() => peer.cycle >= 4000, 5000, "SSD ready");
    startAndRun(sim, peer, 2000);
    expect(outputs(sim)).toMatchObject({ done: 1, error: 0, crs_retries: 0 });
  });

  it("retries an all-ones Vendor ID like CRS, and reports NO_DEVICE if it stays; UR on the ID read is NO_DEVICE at once", async () => {
    let absentReads = 5;
    const absent: PeerEmulation = { rewriteConfigRead: (register, value) => (register === 0 && absentReads-- > 0 ? 0xffff_ffff : value) };
    const ok = await enumerate({}, { emulations: [absent] }, 4000);
    expect(ok.out).toMatchObject({ done: 1, crs_retries: 5, vendor_id: 0x1b36 });

    const forever: PeerEmulation = { rewriteConfigRead: (register, value) => (register === 0 ? 0xffff_ffff : value) };
    const gone = await enumerate({}, { emulations: [forever] }, 5000);
    expect(gone.out).toMatchObject(failed("READ_ID", "NO_DEVICE", CompletionStatus.SC));
    expect(gone.cycles).toBeLessThanOrEqual(PARAMS.crsTimeoutCycles + PARAMS.crsRetryDelayCycles + 2 * CYCLES_PER_ACCESS(LATENCY));

    const sim = await design();
    const peer = new AccessPortPeer(sim, new NvmeSsd(), { latencyCycles: LATENCY });
    peer.inject((a) => a.config?.register === 0, "UR");
    const cycles = startAndRun(sim, peer, 200);
    expect(outputs(sim)).toMatchObject(failed("READ_ID", "NO_DEVICE", CompletionStatus.UR));
    expect(cycles).toBeLessThanOrEqual(CYCLES_PER_ACCESS(LATENCY) + 2);
  });

  it("reports a completion timeout, a UR/CA status or a poisoned completion with the step it happened in", async () => {
    const cases: [EnumerationStep, number, "timeout" | "UR" | "CA" | "poison", EnumerationError, number][] = [
      ["READ_ID", 0x00, "timeout", "COMPLETION_TIMEOUT", 0],
      ["BAR0_ONES", 0x10, "UR", "COMPLETION_STATUS", CompletionStatus.UR],
      ["READ_CAP_POINTER", 0x34, "CA", "COMPLETION_STATUS", CompletionStatus.CA],
      ["READ_DEVICE_CAPS", 0x44, "poison", "POISONED", 0],
      ["WRITE_DEVICE_CONTROL", 0x48, "timeout", "COMPLETION_TIMEOUT", 0],
      ["CHECK_COMMAND", 0x04, "UR", "COMPLETION_STATUS", CompletionStatus.UR],
    ];
    for (const [step, register, fault, error, status] of cases) {
      const sim = await design();
      const peer = new AccessPortPeer(sim, new NvmeSsd(), { latencyCycles: LATENCY });
      // The n-th access to the register: the one this step makes.
      const nth = accessIndexOf(step);
      let seen = 0;
      peer.inject((a) => a.config?.register === register && seen++ === nth, fault);
      const cycles = startAndRun(sim, peer, 2000);
      expect(outputs(sim), step).toMatchObject(failed(step, error, status));
      expect(cycles, step).toBeLessThanOrEqual((enumerationStepNumber(step) + 0) * CYCLES_PER_ACCESS(LATENCY) + 2);
      // Nothing more is asked once it failed.
      const count = peer.log.length;
      for (let i = 0; i < 50; i++) peer.edge();
      expect(peer.log.length, step).toBe(count);
      expect(sim.peek("request_valid")).toBe(0);
    }
  });

  /** Which access to its register a step's is (0 = the first), in a healthy 64-bit run. */
  function accessIndexOf(step: EnumerationStep): number {
    const registers: Record<EnumerationStep, number> = {
      READ_ID: 0x00, READ_CLASS: 0x08, COMMAND_OFF: 0x04, BAR0_ONES: 0x10, BAR0_MASK: 0x10, BAR1_ONES: 0x14, BAR1_MASK: 0x14, BAR0_ASSIGN: 0x10,
      BAR1_ASSIGN: 0x14, BAR0_CHECK: 0x10, BAR1_CHECK: 0x14, READ_STATUS: 0x04, READ_CAP_POINTER: 0x34, READ_CAP_HEADER: 0x40, READ_DEVICE_CAPS: 0x44,
      READ_LINK_CAPS: 0x4c, READ_DEVICE_CONTROL: 0x48, WRITE_DEVICE_CONTROL: 0x48, CHECK_DEVICE_CONTROL: 0x48, COMMAND_ON: 0x04, CHECK_COMMAND: 0x04,
    };
    const index = ENUMERATION_STEPS.indexOf(step);
    return ENUMERATION_STEPS.slice(0, index).filter((s) => registers[s] === registers[step]).length;
  }

  it("refuses a device whose class code is not NVMe, and succeeds on restart once it is", async () => {
    let classCode = 0x01_06_01; // SATA AHCI
    const { sim, peer, out, cycles } = await enumerate({}, { emulations: [{ rewriteConfigRead: (r, v) => (r === 0x08 ? ((classCode << 8) | (v & 0xff)) >>> 0 : v) }] });
    expect(out).toMatchObject(failed("READ_CLASS", "NOT_NVME", CompletionStatus.SC));
    expect(cycles).toBeLessThanOrEqual(2 * CYCLES_PER_ACCESS(LATENCY) + 2);
    expect(peer.log.length).toBe(2);
    classCode = 0x01_08_02;
    startAndRun(sim, peer, 2000);
    expect(outputs(sim)).toMatchObject({ done: 1, error: 0, error_code: 0, error_step: 0 });
    // The emulate helper says the same.
    const other = await enumerate({}, { emulations: [emulate.classCode(0x02_00_00)] });
    expect(other.out).toMatchObject(failed("READ_CLASS", "NOT_NVME", CompletionStatus.SC));
  });

  it("reports BAR_SIZING_FAILED for an I/O BAR, a reserved type, a mask of 0, a size beyond the window, or a mask that is not a run of ones", async () => {
    const bar0 = (f: (v: number) => number): PeerEmulation => ({ rewriteConfigRead: (r, v) => (r === 0x10 ? f(v) >>> 0 : v) });
    const bar1 = (f: (v: number) => number): PeerEmulation => ({ rewriteConfigRead: (r, v) => (r === 0x14 ? f(v) >>> 0 : v) });
    const cases: [string, Partial<SsdOptions>, PeerEmulation[], EnumerationStep][] = [
      ["I/O BAR", {}, [bar0((v) => v | 1)], "BAR0_MASK"],
      ["reserved type 11", {}, [bar0((v) => v | 0b110)], "BAR0_MASK"],
      ["reserved type 01", {}, [bar0((v) => (v & ~0b110) | 0b010)], "BAR0_MASK"],
      ["mask 0", {}, [bar0((v) => v & 0xf)], "BAR0_MASK"],
      ["2 MiB, beyond the 1 MiB window", { bar0Size: 2 << 20 }, [], "BAR0_MASK"],
      ["mask with a hole", {}, [bar0((v) => ((v & 0xffff_fff0) >>> 0 === 0xffff_c000 ? v & ~(1 << 16) : v))], "BAR0_MASK"],
      ["64-bit, upper half not all ones (>= 4 GiB)", {}, [bar1((v) => (v === 0xffff_ffff ? 0xffff_fff0 : v))], "BAR1_MASK"],
    ];
    for (const [what, ssdOptions, emulations, step] of cases) {
      const { out, peer } = await enumerate(ssdOptions, { emulations });
      expect(out, what).toMatchObject(failed(step, "BAR_SIZING_FAILED", CompletionStatus.SC));
      // BAR0 never assigned.
      expect(peer.log.some((e) => e.access.kind === PeerAccessKind.CFG_WRITE && e.access.data === 0xe000_0000), what).toBe(false);
    }
    // The largest that fits: 1 MiB.
    const { out } = await enumerate({ bar0Size: 1 << 20 });
    expect(out).toMatchObject({ done: 1, bar0_size_log2: 20 });
  });

  it("reports READ_BACK_MISMATCH when BAR0, BAR1, Device Control or Command do not read back", async () => {
    const cases: [EnumerationStep, PeerEmulation][] = [
      ["BAR0_CHECK", { filterConfigWrite: (r, _be, v) => !(r === 0x10 && v === 0xe000_0000) }],
      ["BAR1_CHECK", { rewriteConfigRead: (r, v) => (r === 0x14 && v === 0 ? 1 : v) }],
      ["CHECK_DEVICE_CONTROL", { filterConfigWrite: (r) => r !== 0x48 }],
      ["CHECK_DEVICE_CONTROL", { rewriteConfigRead: (r, v) => (r === 0x48 ? v ^ (1 << 4) : v) }], // Relaxed Ordering reads 1
      ["CHECK_COMMAND", { filterConfigWrite: (r, _be, v) => !(r === 0x04 && v !== 0) }],
    ];
    for (const [step, emulation] of cases) {
      const { out } = await enumerate({}, { emulations: [emulation] });
      expect(out, step).toMatchObject(failed(step, "READ_BACK_MISMATCH", CompletionStatus.SC));
    }
    // A bit it does not check: Interrupt Disable hardwired to 0.
    const { out } = await enumerate({}, { emulations: [{ rewriteConfigRead: (r, v) => (r === 0x04 ? v & ~(1 << 10) : v) }] });
    expect(out).toMatchObject({ done: 1 });
  });

  it("walks the capability list to the PCI Express capability, and reports NO_PCIE_CAPABILITY when there is none", async () => {
    const rewrite = (table: Record<number, (v: number) => number>): PeerEmulation => ({ rewriteConfigRead: (r, v) => (table[r] ? table[r](v) >>> 0 : v) });
    // PCIe capability last: 34h -> 80h (MSI-X) -> 90h (PM) -> 40h (PCIe).
    const last = await enumerate({}, { emulations: [rewrite({ 0x34: () => 0x80, 0x90: (v) => (v & ~0xff00) | (0x40 << 8), 0x40: (v) => v & ~0xff00 })] });
    expect(last.out).toMatchObject({ done: 1, mps_code: 2 });
    expect(last.peer.log.map((e) => configOf(e.access).register).filter((r) => [0x80, 0x90, 0x40].includes(r))).toEqual([0x80, 0x90, 0x40]);
    expect(changes(last.before, snapshot(last.ssd))).toEqual({ "0x4": 0x0010_0406, "0x10": 0xe000_0004, "0x48": devctlExpected(2) });

    const cases: [string, PeerEmulation, EnumerationStep][] = [
      ["Status says no list", rewrite({ 0x04: (v) => v & ~(1 << 20) }), "READ_STATUS"],
      ["pointer 0", rewrite({ 0x34: () => 0 }), "READ_CAP_POINTER"],
      ["pointer into the header", rewrite({ 0x34: () => 0x3c }), "READ_CAP_POINTER"],
      ["no PCIe capability in the list", rewrite({ 0x40: (v) => (v & ~0xff) | 0x09 }), "READ_CAP_HEADER"],
      ["a list that loops", rewrite({ 0x40: (v) => (v & ~0xff) | 0x09, 0x90: (v) => (v & ~0xff00) | (0x40 << 8) }), "READ_CAP_HEADER"],
    ];
    for (const [what, emulation, step] of cases) {
      const { out, peer } = await enumerate({}, { emulations: [emulation] }, 5000);
      expect(out, what).toMatchObject(failed(step, "NO_PCIE_CAPABILITY", CompletionStatus.SC));
      const headers = peer.log.filter((e) => [0x40, 0x80, 0x90].includes(configOf(e.access).register)).length;
      expect(headers, what).toBeLessThanOrEqual(MAX_CAPABILITY_HOPS);
      if (what === "a list that loops") expect(headers).toBe(MAX_CAPABILITY_HOPS);
    }
  });

  it("gives up on an access that is never answered (ACCESS_TIMEOUT), keeps the handshake, ignores the late answer and succeeds on restart", async () => {
    for (const [step, register] of [["READ_CLASS", 0x08], ["BAR0_MASK", 0x10]] as const) {
      const sim = await design();
      const ssd = new NvmeSsd();
      const peer = new AccessPortPeer(sim, ssd, { latencyCycles: LATENCY });
      const nth = accessIndexOf(step);
      let seen = 0;
      peer.inject((a) => a.config?.register === register && seen++ === nth, "silent");
      const cycles = startAndRun(sim, peer, 2000);
      expect(outputs(sim), step).toMatchObject(failed(step, "ACCESS_TIMEOUT", 0));
      expect(cycles).toBeLessThanOrEqual(enumerationStepNumber(step) * CYCLES_PER_ACCESS(LATENCY) + PARAMS.accessTimeoutCycles + 2);
      expect(sim.peek("response_ready"), "still waiting for the abandoned answer").toBe(1);
      // Restart while the answer is still out, then the very late answer: ignored, not taken for READ_ID's.
      sim.poke("start", 1);
      peer.edge();
      sim.poke("start", 0);
      for (let i = 0; i < 30; i++) peer.edge();
      expect(peer.log.length, "nothing new taken while the abandoned access is out").toBe(enumerationStepNumber(step));
      peer.release();
      const before = snapshot(ssd);
      peer.runUntil(() => sim.peek("done") === 1 || sim.peek("error") === 1, 2000, "done");
      expect(outputs(sim), step).toMatchObject({ done: 1, error: 0, vendor_id: 0x1b36 });
      // The second run repeated every step from the ID read.
      const registers = peer.log.map((e) => configOf(e.access).register);
      expect(registers.slice(enumerationStepNumber(step), enumerationStepNumber(step) + 2)).toEqual([0x00, 0x08]);
      expect(changes(before, snapshot(ssd))).toMatchObject({ "0x4": 0x0010_0406, "0x48": devctlExpected(2) });
    }
  });

  it("restarts from the ID read on start in the middle of an access, and ignores that access's answer", async () => {
    const sim = await design();
    const ssd = new NvmeSsd({ bar0Size: 64 << 10 });
    const peer = new AccessPortPeer(sim, ssd, { latencyCycles: 30 });
    const before = snapshot(ssd);
    sim.poke("start", 1);
    peer.edge();
    sim.poke("start", 0);
    // Wait until the BAR0 mask read is out, then restart while it is in flight.
    peer.runUntil(() => peer.log.length === 5 && peer.busy, 1000, "BAR0 mask read");
    peer.edge();
    sim.poke("start", 1);
    peer.edge();
    sim.poke("start", 0);
    expect(outputs(sim)).toMatchObject({ busy: 1, done: 0, error: 0, vendor_id: 0 });
    peer.runUntil(() => sim.peek("done") === 1 || sim.peek("error") === 1, 3000, "done");
    expect(outputs(sim)).toMatchObject({ done: 1, error: 0, bar0_size_log2: 16, crs_retries: 0 });
    expect(peer.log.map((e) => configOf(e.access).register).slice(5, 7)).toEqual([0x00, 0x08]);
    expect(changes(before, snapshot(ssd))).toEqual({ "0x4": 0x0010_0406, "0x10": 0xe000_0004, "0x48": devctlExpected(2) });
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => pcieEnumerator({ ...PARAMS, barWindowBase: 0xe008_0000 })).toThrow(/barWindowBase 0xe0080000/);
    expect(() => pcieEnumerator({ ...PARAMS, barWindowBytes: 3 << 20 })).toThrow(/barWindowBytes/);
    expect(() => pcieEnumerator({ ...PARAMS, maxMpsCode: 6 })).toThrow(/maxMpsCode 6/);
    expect(() => pcieEnumerator({ ...PARAMS, crsTimeoutCycles: 0 })).toThrow(/crsTimeoutCycles 0/);
    expect(() => pcieEnumerator({ ...PARAMS, secondaryBus: 0 })).toThrow(/secondaryBus 0/);
  });
});

// The enumerator on pcie_requester on the TLP layer, behind the link model, against the SSD model:
// the real path of every access (TLPs, tags, completions, the completion timeout). The SSD's
// configuration space afterwards is checked exactly, and every TLP that reached it.
describe.each(engines)("pcie_enumerator on pcie_requester and the TLP layer (%s)", (engine) => {
  const COMPLETION_TIMEOUT = 4096;
  const layer: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: COMPLETION_TIMEOUT };
  // The requester's timeout comes first (it fires within 2x its parameter); CRS in link cycles.
  const params: PcieEnumeratorParams = { ...PARAMS, crsTimeoutCycles: 20_000, crsRetryDelayCycles: 500, accessTimeoutCycles: 4 * COMPLETION_TIMEOUT };
  let system: Simulator | undefined;
  afterAll(() => system?.close());

  /** Brings the link up, pulses start, runs to done/error; what reached the SSD is recorded. */
  async function enumerateOverLink(endpoint: PcieEndpoint, maxCycles: number) {
    system ??= await buildPcieEnumeratorSystem(layer, params, engine);
    const sim = system;
    sim.poke("start", 0);
    sim.reset(2);
    const tap = new EndpointTap(endpoint);
    const link = new LinkModel(tap);
    const bridge = new RootPortBridge(sim, link);
    bridge.runUntil(() => link.ports.user_lnk_up === 1, link.params.trainingCycles + 100, "link up");
    sim.poke("start", 1);
    bridge.step();
    sim.poke("start", 0);
    const cycles = bridge.runUntil(() => sim.peek("done") === 1 || sim.peek("error") === 1, maxCycles, "done or error");
    return { sim, tap, cycles, out: outputs(sim) };
  }

  it("enumerates the SSD through the real layer: done, and exactly Command, BAR0 and Device Control changed", async () => {
    for (const ssdOptions of [{}, { bar0Size: 64 << 10, maxPayloadSupported: 128 }] as Partial<SsdOptions>[]) {
      const ssd = new NvmeSsd(ssdOptions);
      const before = snapshot(ssd);
      const { sim, tap, out } = await enumerateOverLink(ssd, 20_000);
      const mps = ssdOptions.maxPayloadSupported === 128 ? 0 : 2;
      expect(out).toMatchObject({ done: 1, error: 0, vendor_id: 0x1b36, device_id: 0x0010, bar0_address: 0xe000_0000, bar0_size_log2: Math.log2(ssd.config.bar0Size), mps_code: mps, mrrs_code: 2 });
      expect(changes(before, snapshot(ssd))).toEqual({ "0x4": 0x0010_0406, "0x10": 0xe000_0004, "0x48": devctlExpected(mps) });
      // Every TLP: a Type 0 configuration request to 01:00.0 from the root port (00:00.0), no attributes.
      expect(tap.received.length).toBe(ACCESSES_64);
      for (const tlp of tap.received) {
        expect(tlp).toMatchObject({ bus: 1, device: 0, fn: 0, requesterId: 0, tc: 0, attr: 0, ep: false, td: false });
        expect(["CfgRd0", "CfgWr0"]).toContain(tlp.kind);
      }
      expect(tap.received.filter((t) => t.kind === "CfgWr0").map((t) => (t as ConfigRequest).register)).toEqual([0x04, 0x10, 0x14, 0x10, 0x14, 0x48, 0x04]);
      expect(sim.peek("stray_completions")).toBe(0);
    }
  });

  it("retries CRS over the link, and reports a completion timeout when the SSD never answers", async () => {
    const slow = new NvmeSsd({ crsCycles: 6000 });
    const { out } = await enumerateOverLink(slow, 30_000);
    expect(out).toMatchObject({ done: 1, error: 0 });
    expect(out.crs_retries).toBeGreaterThan(0);
    expect(slow.counters.crsCompletions).toBe(out.crs_retries);

    const silent: PcieEndpoint = { receive: () => {}, nextUpstream: () => undefined };
    const lost = await enumerateOverLink(silent, 4 * COMPLETION_TIMEOUT);
    expect(lost.out).toMatchObject(failed("READ_ID", "COMPLETION_TIMEOUT", 0));
    expect(lost.cycles).toBeLessThan(2 * COMPLETION_TIMEOUT + 100);
  });
});

