// The reference topology enumerator and multi-SSD bring-up on the link model, with no switch and behind the
// switch model with 1, 2 and 4 SSDs and empty ports: bus numbers, windows, Max_Payload_Size and Command
// checked against the bridges' and SSDs' own configuration spaces, then I/O on every SSD with data
// distinct per block and per SSD.
import { describe, expect, it } from "vitest";
import { type TopologyEnumeration, enumerateTopology } from "../../../sim/host/pci-topology.ts";
import { bringUpTopology } from "../../../sim/host/topology-bringup.ts";
import { TopologyTransport } from "../../../sim/host/topology-transport.ts";
import type { SwitchParamsInput } from "../../../sim/pcie/switch-params.ts";
import type { TopologySsd } from "../../../sim/system/topology.ts";

const DRIVER = { commandTimeoutNs: 20e6 };
const MIB = 1n << 20n;

async function rootPortRegister(t: TopologyTransport, offset: number): Promise<number> {
  return (await t.rootPort.read32(offset)) >>> 0;
}

/** Checks every bridge and SSD of a switch topology against the enumeration: buses, windows, MPS, Command. */
async function checkAgainstModel(t: TopologyTransport, ssds: (TopologySsd | null)[], mps: number): Promise<TopologyEnumeration> {
  const sw = t.switch!;
  const ports = sw.ports.length;
  const e = await enumerateTopology(t, { linkTimeoutNs: 100_000 });
  /** SSDs whose link trains (not absent, not a noLink fault). */
  const alive = ssds.map((s) => s !== null && !(s.faults ?? []).some((f) => f.inject === "noLink"));
  expect(e.maxPayload).toBe(mps);
  // Root port: bus 1 .. last bus; its window = the upstream bridge's.
  expect((await rootPortRegister(t, 0x18)) & 0xffffff).toBe(((2 + ports) << 16) | (1 << 8));
  expect(sw.upstream.primaryBus).toBe(1);
  expect([sw.upstream.secondaryBus, sw.upstream.subordinateBus]).toEqual([2, 2 + ports]);
  expect(e.rootPort!.window).toEqual(sw.upstream.memoryWindow ?? null);
  expect(sw.upstream.memorySpaceEnabled && sw.upstream.busMasterEnabled).toBe(true);
  expect(sw.upstream.maxPayloadBytes).toBe(mps);
  expect(e.tree.map((n) => n.kind)).toEqual(["upstream-port"]);
  // The upstream bridge's Link Status shows the root link as trained (x1 for the ASM1184e-like switch).
  const upstreamLink = (await t.configReadAt({ bus: 1, device: 0, fn: 0 }, e.tree[0].pcieCapOffset! + 0x10, 4)).value >>> 16;
  expect(upstreamLink & 0x3ff).toBe(t.link.speed | (Math.min(4, sw.params.upstreamWidth) << 4));
  const present = alive.filter((a) => a).length;
  let base = 0xe000_0000n;
  for (const port of sw.ports) {
    const i = port.index;
    const c = port.config;
    expect([c.primaryBus, c.secondaryBus, c.subordinateBus]).toEqual([2, 3 + i, 3 + i]);
    expect(c.memorySpaceEnabled && c.busMasterEnabled).toBe(true);
    expect(c.maxPayloadBytes).toBe(mps);
    expect(c.prefetchableWindow).toBeUndefined();
    const ssd = t.ssds[i];
    if (!alive[i] || ssd === undefined) {
      expect(c.memoryWindow).toBeUndefined();
      if (ssd !== undefined) expect(ssd.counters.tlpsReceived).toBe(0);
      continue;
    }
    // Each SSD's window starts on the next 1 MiB boundary and holds its BAR0.
    expect(c.memoryWindow).toEqual({ base, limit: base + MIB - 1n });
    expect(ssd.config.bar0Base).toBe(base);
    expect(ssd.requesterId).toBe((3 + i) << 8);
    expect(ssd.config.maxPayloadBytes).toBe(mps);
    expect(ssd.config.maxReadRequestBytes).toBe(512);
    expect(ssd.config.memorySpaceEnabled && ssd.config.busMasterEnabled && ssd.config.intxDisabled).toBe(true);
    base += MIB;
  }
  expect(sw.upstream.memoryWindow).toEqual(present === 0 ? undefined : { base: 0xe000_0000n, limit: base - 1n });
  expect(e.endpoints.map((n) => n.bus)).toEqual(alive.flatMap((a, i) => (a ? [3 + i] : [])));
  expect(e.endpoints.every((n) => n.path.length === 2 && n.path[0].bus === 1 && n.path[1].bus === 2)).toBe(true);
  expect(e.bridges.filter((b) => b.kind === "downstream-port").map((b) => b.linkUp)).toEqual(alive);
  return e;
}

describe("topology enumeration", () => {
  it("without a switch: the SSD on bus 1, the root port's window over BAR0, MPS = min(root port, SSD)", async () => {
    const t = await TopologyTransport.start({ ssd: { maxPayloadSupported: 256 } });
    const e = await enumerateTopology(t);
    expect(e.tree.map((n) => [n.kind, n.bus, n.device])).toEqual([["endpoint", 1, 0]]);
    expect(e.bridges).toEqual([]);
    expect(e.rootPort).toMatchObject({ secondaryBus: 1, subordinateBus: 1, window: { base: 0xe000_0000n, limit: 0xe00f_ffffn } });
    expect(await rootPortRegister(t, 0x20)).toBe(0xe000_e000);
    expect(e.maxPayload).toBe(256);
    const ssd = t.ssds[0]!;
    expect([ssd.config.bar0Base, ssd.config.maxPayloadBytes, ssd.requesterId]).toEqual([0xe000_0000n, 256, 0x0100]);
    expect(t.link.config.maxPayloadSize).toBe(256);
  });

  const topologies: { name: string; sw: SwitchParamsInput; ssds: (TopologySsd | null)[]; mps: number }[] = [
    { name: "1 SSD on port 2 of 4", sw: {}, ssds: [null, null, {}, null], mps: 512 },
    { name: "2 SSDs, x2 downstream links, one SSD with MPS 256", sw: { preset: "gen2x4x2", downstreamPorts: 2 }, ssds: [{}, { ssd: { maxPayloadSupported: 256 } }], mps: 256 },
    { name: "4 SSDs, the switch and one SSD still answering CRS", sw: { crsCycles: 20_000 }, ssds: [{}, { ssd: { crsCycles: 60_000 } }, {}, {}], mps: 512 },
    { name: "ASM1184e-like x1 switch, 2 SSDs and 2 empty ports", sw: { preset: "asm1184e" }, ssds: [{}, null, { ssd: { linkWidth: 1 } }, null], mps: 128 },
    { name: "4 SSDs, one in a slot whose link never trains", sw: {}, ssds: [{}, {}, { faults: [{ inject: "noLink" }] }, {}], mps: 512 },
    { name: "no SSD at all", sw: { downstreamPorts: 2 }, ssds: [null, null], mps: 512 },
  ];
  for (const topology of topologies) {
    it(`behind a switch: ${topology.name}`, async () => {
      const t = await TopologyTransport.start({ topology: { switch: topology.sw, ssds: topology.ssds } });
      const e = await checkAgainstModel(t, topology.ssds, topology.mps);
      if (topology.sw.crsCycles) expect(e.tree[0].crsRetries).toBeGreaterThan(0);
      for (const node of e.endpoints) {
        const ssd = t.ssds[node.bus - 3]!;
        expect([node.vendorId, node.deviceId, node.classCode]).toEqual([ssd.options.vendorId, ssd.options.deviceId, 0x010802]);
        expect(node.bars).toEqual([{ index: 0, address: ssd.config.bar0Base, size: BigInt(ssd.layout.size), is64Bit: true }]);
        // The negotiated link is read at the downstream port (the SSD model's Link Status shows its own maximum).
        const port = t.switch!.ports[node.bus - 3];
        const bridge = e.bridges.find((b) => b.secondaryBus === node.bus)!;
        expect([bridge.linkSpeed, bridge.linkWidth]).toEqual([2, Math.min(ssd.options.linkWidth, port.link.lanes)]);
        if (ssd.options.crsCycles > 0) expect(node.crsRetries).toBeGreaterThan(0);
      }
      expect(t.unexpectedTlps).toEqual([]);
    });
  }
});

describe("bring-up and I/O through the switch", () => {
  it("brings up 4 SSDs, moves data distinct per block and SSD to and from each; one failing SSD does not stop the others", async () => {
    const ssds: (TopologySsd | null)[] = [{}, { ssd: { timing: "consumerSsd" } }, { faults: [{ inject: "fatalOnEnable", count: 1 }] }, { ssd: { linkWidth: 1 } }];
    const t = await TopologyTransport.start({ topology: { ssds } });
    const up = await bringUpTopology(t, { driver: DRIVER });
    expect(up.ssds.map((s) => [s.bdf, s.status])).toEqual([
      ["03:00.0", "ready"],
      ["04:00.0", "ready"],
      ["05:00.0", "failed"],
      ["06:00.0", "ready"],
    ]);
    expect(up.ssds[2].error).toMatch(/fatal/);
    expect(up.ssds[3].path).toEqual(["01:00.0", "02:03.0"]);
    const ready = up.ssds.filter((s) => s.status === "ready");
    const pattern = (ssd: number, lba: number, i: number) => (ssd * 73 + lba * 29 + i * 7 + (i >> 8)) & 0xff;
    const blocks = 12;
    for (const [k, s] of ready.entries()) {
      const ns = { nsid: 1, lbaBytes: s.namespace!.lbaBytes };
      const data = new Uint8Array(blocks * ns.lbaBytes).map((_, i) => pattern(k, Math.floor(i / ns.lbaBytes), i % ns.lbaBytes));
      await s.driver!.writeBlocks(s.io!, ns, 100n, data, { offset: 0x200, scattered: true });
    }
    for (const [k, s] of ready.entries()) {
      const ns = { nsid: 1, lbaBytes: s.namespace!.lbaBytes };
      const back = await s.driver!.readBlocks(s.io!, ns, 100n, blocks);
      const expected = new Uint8Array(blocks * ns.lbaBytes).map((_, i) => pattern(k, Math.floor(i / ns.lbaBytes), i % ns.lbaBytes));
      expect(Buffer.from(back).equals(Buffer.from(expected)), `data of ${s.bdf}`).toBe(true);
    }
    // The switch saw every SSD's traffic on its own port and refused nothing.
    const sw = t.switch!;
    for (const port of [0, 1, 3]) expect(sw.ports[port].counters.payloadUp).toBeGreaterThan(blocks * 512);
    expect(sw.ports.map((p) => p.counters.unsupportedRequests + p.counters.malformed + p.counters.postedDropped)).toEqual([0, 0, 0, 0]);
    expect(t.unexpectedTlps).toEqual([]);
  });
});
