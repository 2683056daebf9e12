// pcie_requester on the real TLP layer, behind the link model, against the NVMe SSD model: each
// kind of access reaches the SSD as the right TLP and comes back with the SSD's answer (data,
// UR, CRS), a request the SSD never answers comes back as a timeout once the layer's completion
// timeout expires, and the port is usable again afterwards. The answers are checked against the
// SSD model's own state, and the TLPs the SSD received against the requests.
import { describe, expect, it } from "vitest";
import { Module } from "../../../hdl/index.ts";
import { AccessKind, configAddress } from "../../../rtl-src/pcie/pcie-access.ts";
import { connectRequesterToLayer, pcieRequester } from "../../../rtl-src/pcie/pcie-requester.ts";
import { CompletionStatus, type TlpLayerParams, defaultTlpLayerParams } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { tlpLayer } from "../../../rtl-src/tlp/tlp-layer.ts";
import { type EngineName, type Simulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { LinkModel } from "../../../sim/pcie/link-model.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type AccessPortAnswer, accessThroughPort } from "../../../sim/testbench/access-port-client.ts";
import { EndpointTap } from "../../../sim/testbench/endpoint-tap.ts";
import { buildPcieRequesterSystem } from "../../../sim/testbench/pcie-requester-system.ts";
import { RootPortBridge } from "../../../sim/testbench/root-port-bridge.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const TIMEOUT_CYCLES = 4096;
const params: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: TIMEOUT_CYCLES };
const BAR0 = 0xe000_0000;
const ALL_ONES = 0xffff_ffff;

class Rig {
  readonly bridge: RootPortBridge;
  private readonly random = seededRandom(5);
  constructor(
    readonly sim: Simulator,
    readonly link: LinkModel,
    /** Hold response_ready low for a random number of cycles after a response appears. */
    private readonly slowReader = false,
  ) {
    this.bridge = new RootPortBridge(sim, link);
    sim.reset(2);
  }

  /** One access through the port, within `maxCycles`: the request held until taken, the response read when offered. */
  access(kind: number, address: number, data = 0, byteEn = 0xf, maxCycles = 2 * TIMEOUT_CYCLES): AccessPortAnswer {
    const readDelay = this.slowReader ? () => Math.floor(this.random() * 6) : undefined;
    return accessThroughPort(this.sim, () => this.bridge.step(), { kind, address, data, byteEn }, { maxCycles, readDelay });
  }
}

const cfg = (offset: number, bus = 1) => configAddress(bus, 0, 0, offset);

describe.each(engines)("pcie_requester on the TLP layer, %s engine", (engine) => {
  it("reads and writes the SSD's configuration space and BAR0 registers, Type 0 on the secondary bus", async () => {
    const ssd = new NvmeSsd({ vendorId: 0x144d, deviceId: 0xa808 });
    const tap = new EndpointTap(ssd);
    const rig = new Rig(await buildPcieRequesterSystem(params, engine), new LinkModel(tap), true);

    const id = rig.access(AccessKind.CFG_READ, cfg(0x00));
    expect(id).toMatchObject({ data: 0xa808_144d, status: CompletionStatus.SC, timedOut: 0, poisoned: 0 });
    expect(tap.received.at(-1)).toMatchObject({ kind: "CfgRd0", bus: 1, device: 0, fn: 0, register: 0, firstBe: 0xf });

    expect(rig.access(AccessKind.CFG_WRITE, cfg(0x10), BAR0)).toMatchObject({ data: 0, status: CompletionStatus.SC, timedOut: 0 });
    expect(rig.access(AccessKind.CFG_WRITE, cfg(0x14), 0)).toMatchObject({ status: CompletionStatus.SC });
    expect(rig.access(AccessKind.CFG_WRITE, cfg(0x04), 0x0006, 0b0011)).toMatchObject({ status: CompletionStatus.SC });
    expect(tap.received.at(-1)).toMatchObject({ kind: "CfgWr0", register: 0x04, firstBe: 0b0011 });
    expect(ssd.config.bar0Base).toBe(BigInt(BAR0));
    expect(ssd.config.command & 0x7).toBe(0x6);
    // The 64-bit memory BAR's type bits read back with the base.
    expect(rig.access(AccessKind.CFG_READ, cfg(0x10)).data).toBe((BAR0 | 0b100) >>> 0);

    expect(rig.access(AccessKind.MEM_READ, BAR0 + 0x08)).toMatchObject({ data: ssd.controller.regs.version, status: CompletionStatus.SC });
    const posted = rig.access(AccessKind.MEM_WRITE, BAR0 + 0x24, 0x001f_0007);
    expect(posted).toMatchObject({ data: 0, status: CompletionStatus.SC, timedOut: 0 });
    expect(rig.access(AccessKind.MEM_READ, BAR0 + 0x24).data).toBe(0x001f_0007);
    expect(tap.received.filter((t) => t.kind === "MRd").map((t) => t.kind === "MRd" && Number(t.address))).toEqual([BAR0 + 0x08, BAR0 + 0x24]);
    expect(tap.received.filter((t) => t.kind === "MWr")).toHaveLength(1);
    expect(rig.sim.peek("stray_completions")).toBe(0);
  });

  it("answers the SSD's refusals: UR for an address outside BAR0 and for Type 1 to another bus, CRS while the SSD starts", async () => {
    const ssd = new NvmeSsd({ crsCycles: 3000 });
    const tap = new EndpointTap(ssd);
    const rig = new Rig(await buildPcieRequesterSystem(params, engine), new LinkModel(tap));
    expect(rig.access(AccessKind.CFG_READ, cfg(0x00))).toMatchObject({ data: ALL_ONES, status: CompletionStatus.CRS, timedOut: 0 });
    rig.bridge.step(3000);
    expect(rig.access(AccessKind.CFG_READ, cfg(0x00))).toMatchObject({ data: 0x0010_1b36, status: CompletionStatus.SC });

    const type1 = rig.access(AccessKind.CFG_READ, cfg(0x00, 2));
    expect(tap.received.at(-1)).toMatchObject({ kind: "CfgRd1", bus: 2 });
    expect(type1).toMatchObject({ data: ALL_ONES, status: CompletionStatus.UR });

    rig.access(AccessKind.CFG_WRITE, cfg(0x10), BAR0);
    rig.access(AccessKind.CFG_WRITE, cfg(0x04), 0x0006, 0b0011);
    expect(rig.access(AccessKind.MEM_READ, 0xd000_0000)).toMatchObject({ data: ALL_ONES, status: CompletionStatus.UR });
    ssd.faults.failMmioReads("CA");
    expect(rig.access(AccessKind.MEM_READ, BAR0)).toMatchObject({ data: ALL_ONES, status: CompletionStatus.CA });
  });

  it("times out a request nobody answers, then serves the next one", async () => {
    const silent = new EndpointTap({ receive: () => {}, nextUpstream: () => undefined });
    const rig = new Rig(await buildPcieRequesterSystem(params, engine), new LinkModel(silent));
    const lost = rig.access(AccessKind.MEM_READ, BAR0 + 0x1c);
    expect(lost).toMatchObject({ data: ALL_ONES, timedOut: 1 });
    // The completion timeout is counted in ticks of TIMEOUT_CYCLES / (a few) cycles: it fires within 2x.
    expect(lost.cycles).toBeGreaterThan(TIMEOUT_CYCLES / 2);
    expect(lost.cycles).toBeLessThan(2 * TIMEOUT_CYCLES);
    const lostWrite = rig.access(AccessKind.CFG_WRITE, cfg(0x04), 0x0006, 0b0011);
    expect(lostWrite).toMatchObject({ data: 0, timedOut: 1 });
    expect(rig.access(AccessKind.MEM_WRITE, BAR0 + 0x1000, 1)).toMatchObject({ timedOut: 0, status: CompletionStatus.SC });
    rig.bridge.step(200); // a posted write is answered when sent, before it crosses the link
    expect(silent.received.map((t) => t.kind)).toEqual(["MRd", "CfgWr0", "MWr"]);
  });
});

describe("pcie_requester parameters and wiring", () => {
  it("rejects a bad secondary bus and a request source the layer does not have, naming them", () => {
    expect(() => pcieRequester({ secondaryBus: 0 })).toThrow(/secondaryBus 0/);
    const m = new Module("requester_wiring_bad");
    const layer = m.instance(tlpLayer(params, { requestSources: 1 }), { name: "layer" });
    const requester = m.instance(pcieRequester({ secondaryBus: 1 }), { name: "requester" });
    expect(() => connectRequesterToLayer(m, requester, layer, 1)).toThrow(/source 1 is not a request source of the layer \(0\.\.0\)/);
  });
});
