// The core with switch support (issue 14, `switchSupport`): the emitted core brought up in the full
// system behind the switch model (sim/system/topology.ts), on the js engine (the cheaper build of a
// second whole core; pcie-topology-enumerator.test.ts runs the enumerator on both). The topology enumerator
// walks the switch, and the core brings up the first SSD enumerated without error (per-SSD bring-up
// of every SSD comes later): READY through the switch, with that SSD's BAR0, the tree's MPS on the
// root port and the SSD, and the other SSDs enumerated (BAR0, Command) but not initialised.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { barWindowFor } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { nvmeHostCore, simulationCoreParams, simulationSwitchSupport } from "../../../rtl-src/top/nvme-host-core.ts";
import type { EngineName } from "../../../sim/engine/index.ts";
import { runBringup } from "../../../sim/system/bringup.ts";
import type { FullSystem, VerilogCore } from "../../../sim/system/full-system.ts";
import type { SystemTopology } from "../../../sim/system/topology.ts";

const params = { ...simulationCoreParams, switchSupport: simulationSwitchSupport };
const coreModule = nvmeHostCore(params);
const core: VerilogCore = { sources: emitDesign(coreModule).files.map((f) => ({ path: `generated/${f.fileName}`, text: f.text })), top: coreModule.name };
const MIB = 1 << 20;
const WINDOW = barWindowFor(simulationSwitchSupport.maxSsds);
const engines: EngineName[] = ["js"];

describe.each(engines)("nvme_host_core with switch support (%s)", (engine) => {
  const systems: FullSystem[] = [];
  afterAll(() => systems.forEach((s) => s.close()));

  it("is a core of its own name; the default core has no switch support", () => {
    expect(coreModule.name).toMatch(/_sw4p4$/);
    expect(nvmeHostCore(simulationCoreParams).name).not.toMatch(/_sw/);
  });

  it("brings up the first SSD behind the switch to READY (the port before it empty, an SSD of smaller MPS after it)", async () => {
    const topology: SystemTopology = { ssds: [null, { ssd: { bar0Size: 64 << 10 } }, { ssd: { maxPayloadSupported: 256 } }] };
    const { report, system } = await runBringup({ core, engine, topology, maxCycles: 3_000_000 });
    systems.push(system);
    expect(report.state).toBe("ready");
    const [, first, second] = system.ssds;
    // The primary SSD: port 1, bus 4, BAR0 at the window's base; the tree's MPS everywhere.
    expect(report.pcie).toMatchObject({ vendor_id: 0x1b36, bar0: WINDOW.base, bar0_bytes: 64 << 10 });
    expect(report.link.mps).toBe(256);
    expect(first!.config.bar0Base).toBe(BigInt(WINDOW.base));
    expect(first!.requesterId).toBe(4 << 8);
    expect(first!.controller.regs.ready).toBe(true);
    expect(first!.config.maxPayloadBytes).toBe(256);
    expect(system.link.config.maxPayloadSize).toBe(256);
    // The second SSD: enumerated (BAR0 in the next MiB, MSE/BME), not initialised.
    expect(second!.config.bar0Base).toBe(BigInt(WINDOW.base + MIB));
    expect(second!.config.busMasterEnabled).toBe(true);
    expect(second!.controller.regs.ready).toBe(false);
    const sw = system.switch!;
    expect([sw.upstream.secondaryBus, sw.upstream.subordinateBus]).toEqual([2, 6]);
    expect(sw.upstream.memoryWindow).toEqual({ base: BigInt(WINDOW.base), limit: BigInt(WINDOW.base + 2 * MIB - 1) });
    expect(sw.ports[1].config.memoryWindow).toEqual({ base: BigInt(WINDOW.base), limit: BigInt(WINDOW.base + MIB - 1) });
  });
});
