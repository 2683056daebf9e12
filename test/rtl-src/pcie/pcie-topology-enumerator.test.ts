// The topology enumerator, as emitted Verilog on both engines, on pcie_requester and the real TLP
// layer behind the link model, against the switch model (sim/pcie/pcie-switch.ts) with SSD models
// on its downstream ports, and against one SSD with no switch. After each run the bridges' and the
// SSDs' own configuration spaces are checked (bus numbers, windows, Command, MPS = the minimum over
// the tree, MRRS, BAR0), and compared field for field with what the reference enumerator
// (sim/host/pci-topology.ts) leaves in the same topology.
import { afterAll, describe, expect, it } from "vitest";
import { BAR_WINDOW } from "../../../rtl-src/hostmem/host-memory-map.ts";
import {
  type PcieTopologyEnumeratorParams,
  type TopologyError,
  pcieTopologyEnumerator,
  topologyErrorCode,
  topologyStepNumber,
} from "../../../rtl-src/pcie/pcie-topology-enumerator.ts";
import { enumerationStepNumber } from "../../../rtl-src/pcie/pcie-enumerator.ts";
import { type TlpLayerParams, defaultTlpLayerParams } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { enumerateTopology } from "../../../sim/host/pci-topology.ts";
import { TopologyTransport } from "../../../sim/host/topology-transport.ts";
import type { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { LinkModel } from "../../../sim/pcie/link-model.ts";
import type { PcieSwitch } from "../../../sim/pcie/pcie-switch.ts";
import type { SwitchParamsInput } from "../../../sim/pcie/switch-params.ts";
import { type SystemTopology, type TopologySsd, buildTopology } from "../../../sim/system/topology.ts";
import { EndpointTap } from "../../../sim/testbench/endpoint-tap.ts";
import { TOPOLOGY_ENUMERATOR_OUTPUTS, buildPcieTopologyEnumeratorSystem } from "../../../sim/testbench/pcie-topology-enumerator-system.ts";
import { RootPortBridge } from "../../../sim/testbench/root-port-bridge.ts";
import { NvmeSsd as Ssd } from "../../../sim/nvme/ssd.ts";

const COMPLETION_TIMEOUT = 4096;
const LAYER: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: COMPLETION_TIMEOUT };
const PARAMS: PcieTopologyEnumeratorParams = {
  secondaryBus: 1,
  barWindowBase: BAR_WINDOW.base,
  barWindowBytes: 4 << 20,
  rootPortMpsCode: 2,
  maxMpsCode: 3,
  mrrsCode: 2,
  crsTimeoutCycles: 20_000,
  crsRetryDelayCycles: 500,
  accessTimeoutCycles: 4 * COMPLETION_TIMEOUT,
  maxSsds: 4,
  maxDownstreamPorts: 4,
  linkTimeoutCycles: 8_000,
  linkPollCycles: 300,
};
const MIB = 1 << 20;
/** Reference options in ns for the same bounds (4 ns per cycle). */
const REFERENCE = { maxPayloadBytes: 128 << PARAMS.maxMpsCode, maxReadRequestBytes: 128 << PARAMS.mrrsCode, linkTimeoutNs: PARAMS.linkTimeoutCycles * 4 };

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

type Outputs = Record<(typeof TOPOLOGY_ENUMERATOR_OUTPUTS)[number], number | bigint>;
const field = (vector: number | bigint, i: number, width: number) => Number((BigInt(vector) >> BigInt(i * width)) & ((1n << BigInt(width)) - 1n));

/** What an enumeration leaves in the models: every bridge's and SSD's configured fields. */
function modelState(sw: PcieSwitch | undefined, ssds: readonly (NvmeSsd | undefined)[]) {
  const bridge = (c: PcieSwitch["upstream"]) => ({
    buses: [c.primaryBus, c.secondaryBus, c.subordinateBus],
    window: c.memoryWindow ? [Number(c.memoryWindow.base), Number(c.memoryWindow.limit)] : null,
    prefetchable: c.prefetchableWindow ?? null,
    mse: c.memorySpaceEnabled,
    bme: c.busMasterEnabled,
    mps: c.maxPayloadBytes,
  });
  return {
    upstream: sw ? bridge(sw.upstream) : null,
    ports: sw ? sw.ports.map((port) => bridge(port.config)) : [],
    ssds: ssds.map((ssd) =>
      ssd === undefined
        ? null
        : {
            bar0: Number(ssd.config.bar0Base),
            requesterId: ssd.requesterId,
            mps: ssd.config.maxPayloadBytes,
            mrrs: ssd.config.maxReadRequestBytes,
            command: [ssd.config.memorySpaceEnabled, ssd.config.busMasterEnabled, ssd.config.intxDisabled],
          },
    ),
  };
}

/** The reference enumerator on the same topology (its own models): the state it leaves. */
async function referenceState(topology: SystemTopology | undefined, ssd: TopologySsd["ssd"] = {}) {
  const t = await TopologyTransport.start(topology ? { topology } : { ssd });
  const e = await enumerateTopology(t, REFERENCE);
  return { state: modelState(t.switch, t.ssds), enumeration: e };
}

describe.each(engines)("pcie_topology_enumerator on pcie_requester and the TLP layer (%s)", (engine) => {
  let system: Simulator | undefined;
  afterAll(() => system?.close());

  /** Builds the topology's models, brings the root link up, pulses start, runs to done/error. */
  async function enumerate(topology: SystemTopology | undefined, ssdOptions: TopologySsd["ssd"] = {}, maxCycles = 200_000) {
    system ??= await buildPcieTopologyEnumeratorSystem(LAYER, PARAMS, engine);
    const sim = system;
    sim.poke("start", 0);
    sim.reset(2);
    let sw: PcieSwitch | undefined;
    let ssds: (NvmeSsd | undefined)[];
    let link: LinkModel;
    let tap: EndpointTap;
    if (topology) {
      const built = buildTopology(topology);
      sw = built.switch;
      ssds = built.ssds;
      tap = new EndpointTap(built.endpoint);
      link = new LinkModel(tap, { endpointMaxSpeed: built.endpointMaxSpeed, endpointMaxWidth: built.endpointMaxWidth });
      const l = link;
      sw.upstreamLinkState = () => ({ speed: l.speed, width: l.width, up: l.isUp });
    } else {
      const ssd = new Ssd(ssdOptions);
      ssds = [ssd];
      tap = new EndpointTap(ssd);
      link = new LinkModel(tap);
    }
    const bridge = new RootPortBridge(sim, link);
    bridge.runUntil(() => link.ports.user_lnk_up === 1, link.params.trainingCycles + 100, "link up");
    sim.poke("start", 1);
    bridge.step();
    sim.poke("start", 0);
    const cycles = bridge.runUntil(() => sim.peek("done") === 1 || sim.peek("error") === 1, maxCycles, "done or error");
    const wide = new Set(["ssd_bdf", "ssd_port", "ssd_bar0", "ssd_status"]);
    const out = Object.fromEntries(TOPOLOGY_ENUMERATOR_OUTPUTS.map((n) => [n, wide.has(n) ? sim.peekBig(n) : sim.peek(n)])) as Outputs;
    const slots = Array.from({ length: Number(out.ssd_count) }, (_, i) => ({
      bus: field(out.ssd_bdf, i, 16) >> 8,
      device: (field(out.ssd_bdf, i, 16) >> 3) & 31,
      fn: field(out.ssd_bdf, i, 16) & 7,
      port: field(out.ssd_port, i, 5),
      bar0: field(out.ssd_bar0, i, 32),
      status: field(out.ssd_status, i, 4),
    }));
    return { sim, sw, ssds, tap, cycles, out, slots, state: modelState(sw, ssds) };
  }

  it("without a switch: the one SSD on bus 1, as the one-SSD enumerator does it, and as the reference leaves it", async () => {
    const { out, slots, state, tap, sim } = await enumerate(undefined, { maxPayloadSupported: 256 });
    expect(out).toMatchObject({ done: 1, error: 0, switch_found: 0, ports_found: 0, ssd_count: 1, mps_code: 1 });
    expect(slots).toEqual([{ bus: 1, device: 0, fn: 0, port: 0, bar0: BAR_WINDOW.base, status: 0 }]);
    expect(out).toMatchObject({ vendor_id: 0x1b36, device_id: 0x0010, bar0_address: BAR_WINDOW.base, bar0_size_log2: 14, mrrs_code: PARAMS.mrrsCode });
    expect(state.ssds[0]).toEqual({ bar0: BAR_WINDOW.base, requesterId: 0x0100, mps: 256, mrrs: 512, command: [true, true, true] });
    // Type 0 only; the ID and the header type read first.
    expect(tap.received.every((t) => t.kind === "CfgRd0" || t.kind === "CfgWr0")).toBe(true);
    expect(sim.peek("stray_completions")).toBe(0);
    const reference = await referenceState(undefined, { maxPayloadSupported: 256 });
    expect(state.ssds).toEqual(reference.state.ssds);
  });

  const checkSwitch = async (topology: SystemTopology, expected: { mps: number; ssdPorts: number[]; statuses?: number[] }) => {
    const run = await enumerate(topology);
    const { out, slots, state, sw } = run;
    const ports = sw!.ports.length;
    expect(out).toMatchObject({ done: 1, error: 0, switch_found: 1, ports_found: ports, ssd_count: expected.ssdPorts.length, mps_code: Math.log2(expected.mps / 128) });
    // Slots: depth-first, port i's SSD on bus 3 + i, BAR0 in the next MiB.
    expect(slots).toEqual(expected.ssdPorts.map((port, k) => ({ bus: 3 + port, device: 0, fn: 0, port, bar0: BAR_WINDOW.base + k * MIB, status: expected.statuses?.[k] ?? 0 })));
    expect(state.upstream).toMatchObject({ buses: [1, 2, 2 + ports], mse: true, bme: true, mps: expected.mps, prefetchable: null });
    expect(out).toMatchObject({ vendor_id: 0x1b36, bar0_address: BAR_WINDOW.base, mrrs_code: PARAMS.mrrsCode });
    state.ports.forEach((p, i) => {
      expect(p, `port ${i}`).toMatchObject({ buses: [2, 3 + i, 3 + i], mse: true, bme: true, mps: expected.mps, prefetchable: null });
      const k = expected.ssdPorts.indexOf(i);
      expect(p.window, `port ${i} window`).toEqual(k < 0 || (expected.statuses?.[k] ?? 0) !== 0 ? null : [BAR_WINDOW.base + k * MIB, BAR_WINDOW.base + (k + 1) * MIB - 1]);
    });
    const healthy = expected.ssdPorts.filter((_, k) => (expected.statuses?.[k] ?? 0) === 0).length;
    expect(state.upstream!.window).toEqual(healthy === 0 ? null : [BAR_WINDOW.base, BAR_WINDOW.base + healthy * MIB - 1]);
    expected.ssdPorts.forEach((port, k) => {
      if ((expected.statuses?.[k] ?? 0) !== 0) return;
      expect(state.ssds[port], `SSD on port ${port}`).toEqual({ bar0: BAR_WINDOW.base + k * MIB, requesterId: (3 + port) << 8, mps: expected.mps, mrrs: 512, command: [true, true, true] });
    });
    // Field for field as the reference leaves the same topology (the root port aside).
    const reference = await referenceState(topology);
    if (process.env.DEBUG_TOPO) console.log(JSON.stringify({ out: { ...out, ssd_bdf: String(out.ssd_bdf), ssd_port: String(out.ssd_port), ssd_bar0: String(out.ssd_bar0), ssd_status: String(out.ssd_status) }, cycles: run.cycles, tlps: run.tap.received.length, state }));
    expect(state).toEqual(reference.state);
    expect(reference.enumeration.maxPayload).toBe(expected.mps);
    return run;
  };

  it("a switch with one SSD on port 2: bus numbers, windows, Command, MPS, as the reference", async () => {
    const { tap } = await checkSwitch({ ssds: [null, null, { ssd: { maxPayloadSupported: 512 } }, null] }, { mps: 512, ssdPorts: [2] });
    // Type 1 beyond bus 1, Type 0 to the upstream port only.
    for (const t of tap.received) {
      if (t.kind === "CfgRd0" || t.kind === "CfgWr0") expect(t.bus).toBe(1);
      if (t.kind === "CfgRd1" || t.kind === "CfgWr1") expect(t.bus).toBeGreaterThan(1);
    }
  });

  it("two SSDs with different MPS: the smaller one for the whole tree (the first SSD is set again)", async () => {
    await checkSwitch({ ssds: [{ ssd: { maxPayloadSupported: 512 } }, { ssd: { maxPayloadSupported: 256 } }] }, { mps: 256, ssdPorts: [0, 1] });
  });

  it("four SSDs: four windows of 1 MiB, buses 3..6", async () => {
    await checkSwitch({ ssds: [{}, {}, {}, {}] }, { mps: 512, ssdPorts: [0, 1, 2, 3] });
  });

  it("empty ports and a port whose link never comes up are empty, not errors", async () => {
    await checkSwitch({ ssds: [null, {}, { faults: [{ inject: "noLink" }] }, {}] }, { mps: 512, ssdPorts: [1, 3] });
  });

  it("the x1 asm1184e preset (MPS 128, no slots)", async () => {
    await checkSwitch({ switch: { preset: "asm1184e" } as SwitchParamsInput, ssds: [{}, null, {}] }, { mps: 128, ssdPorts: [0, 2] });
  });

  it("an SSD and the switch answering CRS for a while", async () => {
    await checkSwitch({ switch: { crsCycles: 1500 }, ssds: [null, { ssd: { crsCycles: 6000 } }] }, { mps: 512, ssdPorts: [1] });
  });

  const failedWith = (error: TopologyError) => ({ done: 0, error: 1, busy: 0, error_code: topologyErrorCode(error), error_in_ssd: 0 });

  it("an SSD that fails (not NVMe) has its status and no window; the others are enumerated, the next one is the primary", async () => {
    const topology: SystemTopology = { ssds: [{ ssd: { classCode: 0x01_06_01 } }, { ssd: { bar0Size: 64 << 10 } }, {}] };
    const { out, slots, state } = await enumerate(topology);
    expect(out).toMatchObject({ done: 1, error: 0, switch_found: 1, ports_found: 4, ssd_count: 3, mps_code: 2 });
    expect(slots).toEqual([
      { bus: 3, device: 0, fn: 0, port: 0, bar0: BAR_WINDOW.base, status: topologyErrorCode("NOT_NVME") },
      { bus: 4, device: 0, fn: 0, port: 1, bar0: BAR_WINDOW.base, status: 0 },
      { bus: 5, device: 0, fn: 0, port: 2, bar0: BAR_WINDOW.base + MIB, status: 0 },
    ]);
    // The primary SSD: the first enumerated without error.
    expect(out).toMatchObject({ vendor_id: 0x1b36, device_id: 0x0010, bar0_address: BAR_WINDOW.base, bar0_size_log2: 16, mrrs_code: PARAMS.mrrsCode });
    expect(state.ports.map((p) => p.window)).toEqual([null, [BAR_WINDOW.base, BAR_WINDOW.base + MIB - 1], [BAR_WINDOW.base + MIB, BAR_WINDOW.base + 2 * MIB - 1], null]);
    expect(state.upstream!.window).toEqual([BAR_WINDOW.base, BAR_WINDOW.base + 2 * MIB - 1]);
    expect(state.ssds[0]!.command).toEqual([false, false, false]);
    expect(state.ssds[1]).toMatchObject({ bar0: BAR_WINDOW.base, command: [true, true, true] });
    expect(state.ssds[2]).toMatchObject({ bar0: BAR_WINDOW.base + MIB, command: [true, true, true] });
  });

  it("a switch with no SSD: every bridge set up (windows closed), then NO_SSD", async () => {
    const { out, state } = await enumerate({ ssds: [null, null, null, null] });
    expect(out).toMatchObject({ ...failedWith("NO_SSD"), error_step: topologyStepNumber("COMMAND_ON"), switch_found: 1, ports_found: 4, ssd_count: 0 });
    expect(state.upstream).toMatchObject({ buses: [1, 2, 6], window: null, mse: true, bme: true });
    expect(state.ports.every((p) => p.window === null && p.mse && p.bme)).toBe(true);
  });

  it("names the walk's failures: more downstream ports than remembered, a switch that answers CRS too long; without a switch the SSD's own failure", async () => {
    const many = await enumerate({ switch: { downstreamPorts: 5 }, ssds: [{}, {}, {}, {}, {}] });
    expect(many.out).toMatchObject({ ...failedWith("TOO_MANY_PORTS"), error_step: topologyStepNumber("PORT_HEADER"), ports_found: 4 });

    const slow = await enumerate({ switch: { crsCycles: 40_000 }, ssds: [{}] });
    expect(slow.out).toMatchObject({ ...failedWith("CRS_TIMEOUT"), error_step: topologyStepNumber("ROOT_ID") });
    expect(slow.cycles).toBeLessThan(PARAMS.crsTimeoutCycles + PARAMS.crsRetryDelayCycles + 2000);

    // No switch, the SSD's own failure is the enumeration's, as for the one-SSD enumerator.
    const notNvme = await enumerate(undefined, { classCode: 0x02_00_00 });
    expect(notNvme.out).toMatchObject({ done: 0, error: 1, error_code: topologyErrorCode("NOT_NVME"), error_in_ssd: 1, error_step: enumerationStepNumber("READ_CLASS"), ssd_count: 1 });
  });

  it("restarts on start in the middle of an SSD's enumeration, after that run ends, and then succeeds", async () => {
    system ??= await buildPcieTopologyEnumeratorSystem(LAYER, PARAMS, engine);
    const sim = system;
    const topology: SystemTopology = { ssds: [{}, {}] };
    const built = buildTopology(topology);
    const link = new LinkModel(built.endpoint, { endpointMaxSpeed: built.endpointMaxSpeed, endpointMaxWidth: built.endpointMaxWidth });
    built.switch.upstreamLinkState = () => ({ speed: link.speed, width: link.width, up: link.isUp });
    sim.poke("start", 0);
    sim.reset(2);
    const bridge = new RootPortBridge(sim, link);
    bridge.runUntil(() => link.ports.user_lnk_up === 1, link.params.trainingCycles + 100, "link up");
    const pulse = () => {
      sim.poke("start", 1);
      bridge.step();
      sim.poke("start", 0);
    };
    pulse();
    // The second SSD's enumerator is busy: its BAR0 not yet placed.
    bridge.runUntil(() => built.ssds[0]!.config.busMasterEnabled && built.ssds[1]!.counters.tlpsReceived > 3, 200_000, "second SSD under way");
    pulse();
    bridge.runUntil(() => sim.peek("done") === 1 || sim.peek("error") === 1, 200_000, "done");
    expect(sim.peek("done")).toBe(1);
    expect(sim.peek("ssd_count")).toBe(2);
    expect(modelState(built.switch, built.ssds)).toEqual((await referenceState(topology)).state);
  });

  // A build of its own (maxSsds 2): on the js engine only, to keep the suite short.
  it.runIf(engine === "js")("with maxSsds 2 and four SSDs: the first two enumerated, the ports after them numbered and closed, not looked below", async () => {
    const small = await buildPcieTopologyEnumeratorSystem(LAYER, { ...PARAMS, maxSsds: 2, barWindowBytes: 2 * MIB }, engine);
    const saved = system;
    system = small;
    try {
      const { out, slots, state } = await enumerate({ ssds: [{}, {}, {}, {}] });
      expect(out).toMatchObject({ done: 1, error: 0, switch_found: 1, ports_found: 4, ssd_count: 2, ports_skipped: 2, mps_code: 2 });
      expect(slots.map((x) => [x.bus, x.port, x.bar0, x.status])).toEqual([[3, 0, BAR_WINDOW.base, 0], [4, 1, BAR_WINDOW.base + MIB, 0]]);
      expect(state.ports.map((p) => [p.buses, p.window, p.mse])).toEqual([
        [[2, 3, 3], [BAR_WINDOW.base, BAR_WINDOW.base + MIB - 1], true],
        [[2, 4, 4], [BAR_WINDOW.base + MIB, BAR_WINDOW.base + 2 * MIB - 1], true],
        [[2, 5, 5], null, true],
        [[2, 6, 6], null, true],
      ]);
      expect(state.ssds[2]!.command).toEqual([false, false, false]);
      expect(state.ssds[3]!.bar0).toBe(0);
    } finally {
      system = saved;
      small.close();
    }
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => pcieTopologyEnumerator({ ...PARAMS, maxSsds: 5 })).toThrow(/maxSsds 5/);
    expect(() => pcieTopologyEnumerator({ ...PARAMS, maxDownstreamPorts: 0 })).toThrow(/maxDownstreamPorts 0/);
    expect(() => pcieTopologyEnumerator({ ...PARAMS, barWindowBytes: 2 * MIB })).toThrow(/barWindowBytes/);
    expect(() => pcieTopologyEnumerator({ ...PARAMS, linkPollCycles: 0 })).toThrow(/linkPollCycles 0/);
  });
});
