// nvme_shutdown as emitted Verilog on both engines, on the access port against the SSD model
// (sim/testbench/access-port-peer.ts plays pcie_requester and answers from a real NvmeSsd that the
// test host has enumerated and enabled): the CC write is the read value with SHN = 01b (values by
// hand); the SSD's SHST goes 01b, then 10b after its shutdown delay, seen by polls at least the
// poll interval apart: done and complete, the model's controller shut down. An SSD that never
// completes ends in SHUTDOWN_TIMEOUT after exactly the timeout RTD3E gives (three RTD3E values:
// below the minimum, inside, above the maximum); CSTS.CFS during the shutdown, a UR, a lost and a
// poisoned completion, CC or CSTS reading all ones, and a disabled controller end in their errors.
// io_idle held low delays the CC write by the timeout and the run ends in IO_DRAIN_TIMEOUT with
// the shutdown complete; io_idle rising during the wait lets it go at once. A start while busy is
// ignored, a start after done runs again (the controller already shut down), clear drops `active`.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import {
  NVME_SHUTDOWN_STATES,
  type NvmeShutdownError,
  type NvmeShutdownParams,
  RTD3E_UNIT_SHIFT,
  nvmeShutdown,
  nvmeShutdownErrorCode,
  shutdownTimeoutUnits,
} from "../../../rtl-src/nvme/nvme-shutdown.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { AccessPortPeer, PeerAccessKind, type PeerFault } from "../../../sim/testbench/access-port-peer.ts";
import { BAR0, TestHost } from "../../../sim/testbench/nvme-harness.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const PARAMS: NvmeShutdownParams = { timeoutUnitCycles: 1000, minTimeoutUnits: 3, maxTimeoutUnits: 6, pollIntervalCycles: 50 };
const BAR = Number(BAR0);
const CC = BAR + 0x14;
const CSTS = BAR + 0x1c;
/** The CC TestHost enables with, and the same with SHN = 01b: bits 15:14 (NVMe 1.4 §3.1.5). */
const CC_ENABLED = 0x0046_0001;
const CC_SHUTDOWN = 0x0046_4001;
const code = (e: NvmeShutdownError) => nvmeShutdownErrorCode(e);
const step = (name: (typeof NVME_SHUTDOWN_STATES)[number]) => NVME_SHUTDOWN_STATES.indexOf(name);

interface Rig {
  sim: MonitoredSimulator;
  host: TestHost;
  peer: AccessPortPeer;
}

describe.each(engines)("nvme_shutdown on the access port against the SSD model (%s)", (engine) => {
  let sim: MonitoredSimulator | undefined;
  afterAll(() => sim?.close());

  /** An SSD enumerated (and enabled unless `enabled` is false), the design reset, the peer attached. */
  const rig = async (options: Partial<SsdOptions>, seed: number, o: { enabled?: boolean; rtd3e?: number; emulations?: AccessPortPeer["options"]["emulations"] } = {}): Promise<Rig> => {
    if (!sim) {
      const module = nvmeShutdown(PARAMS);
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
    }
    const host = new TestHost({ shutdownDelayCycles: 600, ...options });
    host.enumerate();
    if (o.enabled ?? true) host.enable();
    sim.reset(2);
    sim.poke("start", 0);
    sim.poke("clear", 0);
    sim.poke("bar0_address", BAR);
    sim.poke("rtd3e", o.rtd3e ?? 0);
    sim.poke("io_idle", 1);
    const peer = new AccessPortPeer(sim, host.ssd, { requestPrefix: "access_request", responsePrefix: "access_response", readyChance: 0.7, seed, emulations: o.emulations ?? [] });
    // The SSD's time goes on from where the host left it.
    peer.cycle = host.cycle;
    return { sim, host, peer };
  };

  const start = (r: Rig) => {
    r.sim.poke("start", 1);
    r.peer.edge();
    r.sim.poke("start", 0);
  };
  const finish = (r: Rig, max = 20_000) => r.peer.runUntil(() => r.sim.peek("done") === 1 || r.sim.peek("error") === 1, max, "shutdown");
  const outcome = (r: Rig) => ({
    done: r.sim.peek("done"),
    error: r.sim.peek("error"),
    code: r.sim.peek("error_code"),
    complete: r.sim.peek("complete"),
    busy: r.sim.peek("busy"),
    active: r.sim.peek("active"),
  });
  const writes = (r: Rig) => r.peer.log.filter((e) => e.access.kind === PeerAccessKind.MEM_WRITE).map((e) => ({ address: e.access.address >>> 0, data: e.access.data >>> 0, cycle: e.access.cycle }));
  const cstsReads = (r: Rig) => r.peer.log.filter((e) => e.access.kind === PeerAccessKind.MEM_READ && e.access.address >>> 0 === CSTS);

  it("writes CC with SHN = 01b, polls CSTS through SHST 01b until 10b: done and complete, the SSD shut down", async () => {
    const r = await rig({ shutdownDelayCycles: 700 }, 1);
    start(r);
    expect(outcome(r)).toMatchObject({ busy: 1, active: 1, done: 0 });
    // A start while it runs is ignored.
    r.peer.edge();
    start(r);
    finish(r);
    expect(outcome(r)).toEqual({ done: 1, error: 0, code: 0, complete: 1, busy: 0, active: 1 });
    const reads = r.peer.log.filter((e) => e.access.kind === PeerAccessKind.MEM_READ).map((e) => e.access.address >>> 0);
    expect(reads[0]).toBe(CC);
    expect(r.peer.log[0].response?.data).toBe(CC_ENABLED);
    expect(reads.slice(1).every((a) => a === CSTS)).toBe(true);
    expect(writes(r).map(({ address, data }) => ({ address, data }))).toEqual([{ address: CC, data: CC_SHUTDOWN }]);
    // SHST as each poll saw it: in progress, then complete on the last.
    const shst = cstsReads(r).map((e) => (e.response!.data >>> 2) & 3);
    expect(shst.length).toBeGreaterThan(5);
    expect(shst.slice(0, -1).every((v) => v === 0b01)).toBe(true);
    expect(shst.at(-1)).toBe(0b10);
    const polls = cstsReads(r).map((e) => e.access.cycle);
    expect(Math.min(...polls.slice(1).map((c, i) => c - polls[i]))).toBeGreaterThan(PARAMS.pollIntervalCycles);
    expect(r.host.ssd.controller.regs.shutdownStatus).toBe(2);
    expect(r.host.ssd.controller.regs.cc).toBe(CC_SHUTDOWN);
    // Nothing more is sent; done and complete hold.
    const sent = r.peer.log.length;
    for (let i = 0; i < 300; i++) r.peer.edge();
    expect(r.peer.log.length).toBe(sent);
    expect(outcome(r)).toMatchObject({ done: 1, complete: 1, active: 1 });
    // A start again: the controller already shut down answers complete at the first poll.
    start(r);
    finish(r);
    expect(outcome(r)).toMatchObject({ done: 1, error: 0, complete: 1 });
    expect(r.peer.log.length - sent).toBe(3);
    // clear: the core is READY again after a new bring-up.
    r.sim.poke("clear", 1);
    r.peer.edge();
    r.sim.poke("clear", 0);
    expect(outcome(r)).toEqual({ done: 0, error: 0, code: 0, complete: 0, busy: 0, active: 0 });
  });

  it("times out after exactly the timeout RTD3E gives, clamped to the minimum and maximum units", async () => {
    for (const rtd3e of [0, (4 << RTD3E_UNIT_SHIFT) + 12345, 0xffff_ffff]) {
      const r = await rig({ shutdownDelayCycles: 1e9 }, 2, { rtd3e });
      start(r);
      finish(r);
      const units = shutdownTimeoutUnits(PARAMS, rtd3e);
      expect(units).toBe(rtd3e === 0 ? PARAMS.minTimeoutUnits : rtd3e === 0xffff_ffff ? PARAMS.maxTimeoutUnits : 5);
      expect(outcome(r)).toMatchObject({ done: 0, error: 1, code: code("SHUTDOWN_TIMEOUT"), complete: 0 });
      expect(r.sim.peek("error_step")).toBe(step("POLL_CHECK"));
      const written = writes(r)[0].cycle;
      const elapsed = r.peer.cycle - written;
      const bound = units * PARAMS.timeoutUnitCycles;
      expect(elapsed, `RTD3E ${rtd3e}`).toBeGreaterThanOrEqual(bound);
      expect(elapsed, `RTD3E ${rtd3e}`).toBeLessThan(bound + PARAMS.pollIntervalCycles + 60);
      expect(r.host.ssd.controller.regs.shutdownStatus).toBe(1);
    }
  });

  it("stops with CONTROLLER_FATAL when CSTS.CFS comes during the shutdown", async () => {
    const r = await rig({ shutdownDelayCycles: 1e9 }, 3);
    start(r);
    r.peer.runUntil(() => cstsReads(r).length === 3, 5000, "three polls");
    r.host.ssd.injectControllerFatal("test: fatal during shutdown");
    finish(r);
    expect(outcome(r)).toMatchObject({ error: 1, code: code("CONTROLLER_FATAL"), complete: 0 });
  });

  const accessFaults: [string, PeerFault, (address: number, kind: number) => boolean, NvmeShutdownError, number][] = [
    ["a UR on a CSTS read", "UR", (a, k) => k === PeerAccessKind.MEM_READ && a === CSTS, "ACCESS_FAILED", 1],
    ["a lost completion of the CC read", "timeout", (a, k) => k === PeerAccessKind.MEM_READ && a === CC, "ACCESS_TIMED_OUT", 0],
    ["a poisoned completion of the CC read", "poison", (a, k) => k === PeerAccessKind.MEM_READ && a === CC, "ACCESS_POISONED", 0],
    ["a CA on the CC write", "CA", (a, k) => k === PeerAccessKind.MEM_WRITE && a === CC, "ACCESS_FAILED", 1],
  ];
  for (const [what, fault, match, error, ccWrites] of accessFaults) {
    it(`stops with ${error}: ${what}`, async () => {
      const r = await rig({}, 4);
      r.peer.inject((a) => match(a.address >>> 0, a.kind), fault);
      start(r);
      finish(r);
      expect(outcome(r)).toMatchObject({ done: 0, error: 1, code: code(error), busy: 0 });
      expect(r.sim.peek("error_status")).toBe(fault === "UR" ? 1 : fault === "CA" ? 4 : 0);
      expect(writes(r).length).toBe(ccWrites);
    });
  }

  it("stops with DEVICE_GONE when CC or CSTS reads all ones, and with NOT_ENABLED (nothing written) for a disabled controller", async () => {
    const gone = (register: number) => [{ rewriteMemoryRead: (address: number, value: number) => (address >>> 0 === register ? 0xffff_ffff : value) }];
    const cc = await rig({}, 5, { emulations: gone(CC) });
    start(cc);
    finish(cc);
    expect(outcome(cc)).toMatchObject({ error: 1, code: code("DEVICE_GONE") });
    expect(cc.sim.peek("error_step")).toBe(step("CHECK_CC"));
    expect(writes(cc)).toEqual([]);
    const csts = await rig({}, 6, { emulations: gone(CSTS) });
    start(csts);
    finish(csts);
    expect(outcome(csts)).toMatchObject({ error: 1, code: code("DEVICE_GONE") });
    expect(csts.sim.peek("error_step")).toBe(step("POLL_CHECK"));
    const disabled = await rig({}, 7, { enabled: false });
    start(disabled);
    finish(disabled);
    expect(outcome(disabled)).toMatchObject({ error: 1, code: code("NOT_ENABLED"), complete: 0 });
    expect(writes(disabled)).toEqual([]);
    expect(disabled.host.ssd.controller.regs.cc).toBe(0);
  });

  it("waits for io_idle: held low, the CC write goes out after the timeout and the run ends in IO_DRAIN_TIMEOUT with the shutdown complete; rising, it goes at once", async () => {
    const held = await rig({}, 8);
    held.sim.poke("io_idle", 0);
    const startedAt = held.peer.cycle;
    start(held);
    finish(held, 40_000);
    expect(outcome(held)).toMatchObject({ done: 0, error: 1, code: code("IO_DRAIN_TIMEOUT"), complete: 1 });
    const waited = writes(held)[0].cycle - startedAt;
    const bound = PARAMS.minTimeoutUnits * PARAMS.timeoutUnitCycles;
    expect(waited).toBeGreaterThanOrEqual(bound);
    expect(waited).toBeLessThan(bound + 40);
    // Nothing was read before the drain wait ended.
    expect(held.peer.log[0].access.cycle - startedAt).toBeGreaterThanOrEqual(bound);
    expect(held.host.ssd.controller.regs.shutdownStatus).toBe(2);

    const rising = await rig({}, 9);
    rising.sim.poke("io_idle", 0);
    start(rising);
    for (let i = 0; i < 700; i++) rising.peer.edge();
    expect(rising.peer.log).toEqual([]);
    rising.sim.poke("io_idle", 1);
    const idleAt = rising.peer.cycle;
    finish(rising);
    expect(outcome(rising)).toMatchObject({ done: 1, error: 0, complete: 1 });
    expect(rising.peer.log[0].access.cycle - idleAt).toBeLessThan(20);
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => nvmeShutdown({ ...PARAMS, timeoutUnitCycles: 0 })).toThrow(/timeoutUnitCycles 0/);
    expect(() => nvmeShutdown({ ...PARAMS, minTimeoutUnits: 0 })).toThrow(/minTimeoutUnits 0/);
    expect(() => nvmeShutdown({ ...PARAMS, maxTimeoutUnits: 2 })).toThrow(/maxTimeoutUnits 2/);
    expect(() => nvmeShutdown({ ...PARAMS, pollIntervalCycles: 2.5 })).toThrow(/pollIntervalCycles 2.5/);
  });
});
