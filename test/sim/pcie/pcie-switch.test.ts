// The PCIe switch model driven directly as the root link's endpoint: the bridges' configuration spaces
// and write masks, type-1 to type-0 conversion, routing of memory requests by window both ways,
// completions by ID, UR for what nobody claims, empty ports, Bus Master / Memory Space gating, ordering,
// per-link speeds, resets, and the parameters' checks.
import { describe, expect, it } from "vitest";
import { BRIDGE_MSI_CAP, BRIDGE_PCIE_CAP, BRIDGE_PM_CAP, BridgeReg, PcieCapReg } from "../../../sim/pcie/pci-bridge-config.ts";
import { PcieSwitch, type SwitchDevice } from "../../../sim/pcie/pcie-switch.ts";
import { resolveSwitchParams, type SwitchParamsInput } from "../../../sim/pcie/switch-params.ts";
import { type Completion, type ConfigRequest, CplStatus, type MemRequest, type PcieEndpoint, type Tlp } from "../../../sim/pcie/tlp.ts";

/**
 * A device that records what it receives, answers configuration requests (read data = port << 24 |
 * register) and memory reads (bytes = port, address offset), and sends what the test queues.
 */
class RecordingDevice implements PcieEndpoint {
  readonly got: { tlp: Tlp; cycle: number }[] = [];
  readonly outbox: Tlp[] = [];
  readonly resets: number[] = [];
  bdf = 0;
  constructor(readonly port: number) {}
  receive(tlp: Tlp, cycle: number): void {
    this.got.push({ tlp, cycle });
    const base = { tc: 0, attr: 0, ep: false, td: false, bcm: false, status: CplStatus.SC, lowerAddress: 0 } as const;
    if (tlp.kind === "CfgRd0" || tlp.kind === "CfgWr0" || tlp.kind === "CfgRd1" || tlp.kind === "CfgWr1") {
      if (tlp.kind === "CfgWr0") this.bdf = (tlp.bus << 8) | (tlp.device << 3);
      const value = ((this.port << 24) | tlp.register) >>> 0;
      this.outbox.push(
        tlp.kind === "CfgRd0" || tlp.kind === "CfgRd1"
          ? { ...base, kind: "CplD", completerId: this.bdf, byteCount: 4, requesterId: tlp.requesterId, tag: tlp.tag, lengthDw: 1, data: new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]) }
          : { ...base, kind: "Cpl", completerId: this.bdf, byteCount: 4, requesterId: tlp.requesterId, tag: tlp.tag, lengthDw: 0 },
      );
    } else if (tlp.kind === "MRd") {
      const data = new Uint8Array(tlp.lengthDw * 4).map((_, i) => (this.port * 0x40 + i) & 0xff);
      this.outbox.push({ ...base, kind: "CplD", completerId: this.bdf, byteCount: data.length, requesterId: tlp.requesterId, tag: tlp.tag, lengthDw: tlp.lengthDw, data });
    }
  }
  nextUpstream(): Tlp | undefined {
    return this.outbox.shift();
  }
  reset(cycle: number): void {
    this.resets.push(cycle);
  }
  nextEventCycle(): number | undefined {
    return this.outbox.length > 0 ? 0 : undefined;
  }
}

/** The root side: sends into the switch at the current cycle, collects what comes up. */
class Rig {
  cycle = 0;
  readonly up: { tlp: Tlp; cycle: number }[] = [];
  readonly devices: (RecordingDevice | undefined)[];
  readonly sw: PcieSwitch;
  private tag = 0;

  constructor(params: SwitchParamsInput = {}, present: boolean[] = [true, true, true, true], deviceLinks: Partial<SwitchDevice>[] = []) {
    this.devices = present.map((p, i) => (p ? new RecordingDevice(i) : undefined));
    this.sw = new PcieSwitch(
      params,
      this.devices.map((d, i) => (d ? { endpoint: d, maxSpeed: 2, maxWidth: 4, ...deviceLinks[i] } : undefined)),
    );
  }

  send(tlp: Tlp): void {
    this.sw.receive(tlp, this.cycle);
  }

  run(cycles: number): void {
    for (let i = 0; i < cycles; i++) {
      for (let t = this.sw.nextUpstream(this.cycle); t !== undefined; t = this.sw.nextUpstream(this.cycle)) this.up.push({ tlp: t, cycle: this.cycle });
      this.cycle++;
    }
  }

  /** Runs past link training (2000 cycles by default). */
  trained(): this {
    this.run(2100);
    return this;
  }

  /** A configuration request and its completion (run until it comes back). */
  config(kind: ConfigRequest["kind"], bus: number, device: number, register: number, value?: number, fn = 0, firstBe = 0xf): Completion {
    const tag = this.tag++ & 31;
    const data = value === undefined ? undefined : new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]);
    this.send({ kind, tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag, bus, device, fn, register, firstBe, ...(data ? { data } : {}) });
    return this.awaitCompletion(tag);
  }

  awaitCompletion(tag: number): Completion {
    for (let i = 0; i < 2000; i++) {
      const at = this.up.findIndex((u) => (u.tlp.kind === "Cpl" || u.tlp.kind === "CplD") && u.tlp.tag === tag);
      if (at >= 0) return this.up.splice(at, 1)[0].tlp as Completion;
      this.run(1);
    }
    throw new Error(`no completion for tag ${tag}`);
  }

  /** Read of a bridge register: the upstream bridge (bus 1, type 0) or downstream bridge `port` (internal bus 2). */
  bridgeRead(port: number, register: number): number {
    const c = port < 0 ? this.config("CfgRd0", 1, 0, register) : this.config("CfgRd1", 2, port, register);
    expect(c.status).toBe(CplStatus.SC);
    return le32(c.data!);
  }

  bridgeWrite(port: number, register: number, value: number): void {
    const c = port < 0 ? this.config("CfgWr0", 1, 0, register, value) : this.config("CfgWr1", 2, port, register, value);
    expect(c.status).toBe(CplStatus.SC);
  }

  /**
   * What an enumerator leaves: upstream bridge bus 1 -> 2..6, port i -> bus 3 + i, port i's window
   * 0xE0i0_0000 + 1 MiB, the upstream window over all four, Memory Space + Bus Master everywhere.
   */
  configure(): this {
    this.bridgeWrite(-1, BridgeReg.busNumbers, 0x06_02_01);
    this.bridgeWrite(-1, BridgeReg.memoryBase, 0xe030_e000);
    for (let i = 0; i < this.sw.ports.length; i++) {
      this.bridgeWrite(i, BridgeReg.busNumbers, ((3 + i) << 16) | ((3 + i) << 8) | 2);
      this.bridgeWrite(i, BridgeReg.memoryBase, ((0xe00 + i) << 20) | ((0xe00 + i) << 4));
      this.bridgeWrite(i, BridgeReg.prefetchBase, 0x0000_fff0);
      this.bridgeWrite(i, BridgeReg.command, 0x0006);
    }
    this.bridgeWrite(-1, BridgeReg.prefetchBase, 0x0000_fff0);
    this.bridgeWrite(-1, BridgeReg.command, 0x0006);
    return this;
  }

  memory(kind: "MRd" | "MWr", address: bigint, lengthDw = 1, requesterId = 0, tag?: number): MemRequest {
    const t = tag ?? this.tag++ & 31;
    const data = kind === "MWr" ? new Uint8Array(lengthDw * 4).map((_, i) => (i + Number(address & 0xffn)) & 0xff) : undefined;
    return { kind, tc: 0, attr: 0, ep: false, td: false, requesterId, tag: t, address, addr64: address >= 1n << 32n, lengthDw, firstBe: 0xf, lastBe: lengthDw > 1 ? 0xf : 0, ...(data ? { data } : {}) };
  }
}

function le32(data: Uint8Array): number {
  return (data[0] | (data[1] << 8) | (data[2] << 16) | (data[3] << 24)) >>> 0;
}

function completion(requesterId: number, tag: number, bytes = 4, completerId = 0): Completion {
  return { kind: "CplD", tc: 0, attr: 0, ep: false, td: false, completerId, status: CplStatus.SC, bcm: false, byteCount: bytes, requesterId, tag, lowerAddress: 0, lengthDw: bytes / 4, data: new Uint8Array(bytes).fill(tag) };
}

describe("switch bridges' configuration spaces", () => {
  it("identify as type-1 PCI-to-PCI bridges with the PCI Express capability of their port type", () => {
    const rig = new Rig({}, [true, true, false, true]).trained();
    rig.bridgeWrite(-1, BridgeReg.busNumbers, 0x06_02_01); // the internal bus is reachable from here on
    for (const port of [-1, 0, 1, 2, 3]) {
      expect(rig.bridgeRead(port, 0x00)).toBe(0x8624_10b5);
      expect(rig.bridgeRead(port, 0x08) >>> 8).toBe(0x060400);
      expect((rig.bridgeRead(port, 0x0c) >>> 16) & 0xff).toBe(0x01);
      expect((rig.bridgeRead(port, 0x04) >>> 16) & 0x10).toBe(0x10); // capabilities list
      // The list: PM -> MSI -> PCI Express, end.
      expect(rig.bridgeRead(port, BridgeReg.capPointer) & 0xff).toBe(BRIDGE_PM_CAP);
      expect(rig.bridgeRead(port, BRIDGE_PM_CAP) & 0xffff).toBe(0x01 | (BRIDGE_MSI_CAP << 8));
      expect(rig.bridgeRead(port, BRIDGE_MSI_CAP) & 0xffff).toBe(0x05 | (BRIDGE_PCIE_CAP << 8));
      const pcie = rig.bridgeRead(port, BRIDGE_PCIE_CAP);
      expect(pcie & 0xffff).toBe(0x0010);
      expect((pcie >>> 20) & 0xf).toBe(port < 0 ? 0b0101 : 0b0110);
      expect(rig.bridgeRead(port, BRIDGE_PCIE_CAP + PcieCapReg.deviceCapabilities) & 7).toBe(4); // 2048 B
      const linkCap = rig.bridgeRead(port, BRIDGE_PCIE_CAP + PcieCapReg.linkCapabilities);
      expect(linkCap & 0x3ff).toBe(2 | (4 << 4));
      expect(linkCap >>> 24).toBe(port + 1);
    }
    // Downstream ports: slot with presence, link status of their own link; the empty one is down.
    const linkStatus = (port: number) => rig.bridgeRead(port, BRIDGE_PCIE_CAP + PcieCapReg.linkControl) >>> 16;
    const slotStatus = (port: number) => rig.bridgeRead(port, BRIDGE_PCIE_CAP + PcieCapReg.slotControl) >>> 16;
    expect(linkStatus(0) & 0x23ff).toBe(0x2000 | 2 | (4 << 4));
    expect(linkStatus(2) & 0x23f0).toBe(0);
    expect(slotStatus(0) & 0x40).toBe(0x40);
    expect(slotStatus(2) & 0x40).toBe(0);
    expect((rig.bridgeRead(1, BRIDGE_PCIE_CAP + PcieCapReg.slotCapabilities) >>> 19) & 0x1fff).toBe(2);
  });

  it("write masks: bus numbers, windows and Command are writable, IDs, BARs and the I/O window are not", () => {
    const rig = new Rig().trained();
    rig.bridgeWrite(-1, BridgeReg.busNumbers, 0x06_02_01);
    const writeAllOnes = (port: number, register: number) => {
      rig.bridgeWrite(port, register, 0xffff_ffff);
      return rig.bridgeRead(port, register);
    };
    for (const port of [2, -1]) {
      expect(writeAllOnes(port, 0x00)).toBe(0x8624_10b5);
      expect(writeAllOnes(port, BridgeReg.bar0)).toBe(0);
      expect(writeAllOnes(port, BridgeReg.bar1)).toBe(0);
      expect(writeAllOnes(port, BridgeReg.busNumbers)).toBe(0x00ff_ffff); // secondary latency timer RO 0
      expect(writeAllOnes(port, BridgeReg.ioBaseLimit) & 0xffff).toBe(0); // no I/O window
      expect(writeAllOnes(port, BridgeReg.memoryBase)).toBe(0xfff0_fff0);
      expect(writeAllOnes(port, BridgeReg.prefetchBase)).toBe(0xfff1_fff1); // 64-bit decode
      expect(writeAllOnes(port, BridgeReg.prefetchBaseUpper)).toBe(0xffff_ffff);
      expect(writeAllOnes(port, BridgeReg.prefetchLimitUpper)).toBe(0xffff_ffff);
      expect(writeAllOnes(port, BridgeReg.ioUpper)).toBe(0);
      expect(writeAllOnes(port, BridgeReg.expansionRom)).toBe(0);
      expect(writeAllOnes(port, BridgeReg.command) & 0xffff).toBe(0x0547);
      expect(writeAllOnes(port, BridgeReg.interruptLine) >>> 16).toBe(0x005f); // bridge control; clear SBR again
      rig.bridgeWrite(port, BridgeReg.interruptLine, 0);
      const devCtl = BRIDGE_PCIE_CAP + PcieCapReg.deviceControl;
      rig.bridgeWrite(port, devCtl, 0x0000_ffff);
      expect(rig.bridgeRead(port, devCtl) & 0xffff).toBe(0x7dff);
      rig.bridgeWrite(port, devCtl, 0x0000_2030); // MPS 256, MRRS 512
      expect((rig.bridgeRead(port, devCtl) >>> 5) & 7).toBe(1);
      expect((port < 0 ? rig.sw.upstream : rig.sw.ports[port].config).maxPayloadBytes).toBe(256);
    }
    // Secondary Bus Reset on the upstream bridge (Bridge Control written all ones) reset the bridges below.
    expect(rig.sw.ports[2].config.maxPayloadBytes).toBe(128);
  });

  it("the upstream bridge captures its bus number from type-0 writes and completes with it", () => {
    const rig = new Rig().trained();
    rig.bridgeWrite(-1, BridgeReg.busNumbers, 0x06_02_01);
    const c = rig.config("CfgRd0", 1, 0, 0);
    expect(c.completerId).toBe(0x0100);
    const d = rig.config("CfgRd1", 2, 3, 0);
    expect(d.completerId).toBe(0x0218);
  });
});

describe("switch routing", () => {
  it("converts type 1 to type 0 at a downstream bridge's secondary bus, device 0 only; UR for buses nobody claims", () => {
    const rig = new Rig().trained().configure();
    const c = rig.config("CfgRd1", 4, 0, 0x10);
    expect(c.status).toBe(CplStatus.SC);
    expect(le32(c.data!)).toBe(0x0100_0010); // port 1's device
    const got = rig.devices[1]!.got.at(-1)!.tlp as ConfigRequest;
    expect([got.kind, got.bus, got.device, got.fn, got.register]).toEqual(["CfgRd0", 4, 0, 0, 0x10]);
    expect(rig.config("CfgWr1", 4, 0, 0x04, 6).status).toBe(CplStatus.SC);
    expect(rig.devices[1]!.got.at(-1)!.tlp.kind).toBe("CfgWr0");
    expect(rig.devices[0]!.got.length).toBe(0);
    // Device 1 below a downstream port: UR from that port, nothing reaches the device.
    const before = rig.devices[1]!.got.length;
    const ur = rig.config("CfgRd1", 4, 1, 0);
    expect(ur.status).toBe(CplStatus.UR);
    expect(ur.completerId).toBe(0x0208); // downstream bridge 1 on the internal bus
    expect(rig.devices[1]!.got.length).toBe(before);
    // No port on the internal bus at device 4 (N = 4), no function 1, buses beyond the subordinate.
    expect(rig.config("CfgRd1", 2, 4, 0).status).toBe(CplStatus.UR);
    expect(rig.config("CfgRd1", 2, 0, 0, undefined, 1).status).toBe(CplStatus.UR);
    expect(rig.config("CfgRd1", 7, 0, 0).status).toBe(CplStatus.UR);
    expect(rig.config("CfgRd0", 1, 0, 0, undefined, 2).status).toBe(CplStatus.UR);
    // A bus deeper below port 3 (subordinate raised to 8) goes on as type 1.
    rig.bridgeWrite(-1, BridgeReg.busNumbers, 0x08_02_01);
    rig.bridgeWrite(3, BridgeReg.busNumbers, 0x08_06_02);
    expect(rig.config("CfgRd1", 8, 0, 0).status).toBe(CplStatus.SC);
    expect(rig.devices[3]!.got.at(-1)!.tlp.kind).toBe("CfgRd1");
    expect(rig.sw.upstreamCounters.unsupportedRequests).toBe(4);
    expect(rig.sw.ports[1].counters.unsupportedRequests).toBe(1);
  });

  it("routes memory requests down by window; UR or drop when no window claims them or Memory Space is off", () => {
    const rig = new Rig().trained().configure();
    for (const port of [0, 1, 2, 3]) {
      rig.send(rig.memory("MWr", 0xe000_0000n + (BigInt(port) << 20n) + 0x1000n, 2));
      rig.send(rig.memory("MRd", 0xe000_0000n + (BigInt(port) << 20n) + 0x40n, 1, 0, 20 + port));
    }
    rig.run(300);
    for (const port of [0, 1, 2, 3]) {
      const kinds = rig.devices[port]!.got.map((g) => `${g.tlp.kind}@${(g.tlp as MemRequest).address.toString(16)}`);
      expect(kinds).toEqual([`MWr@${(0xe000_1000 + port * 0x10_0000).toString(16)}`, `MRd@${(0xe000_0040 + port * 0x10_0000).toString(16)}`]);
      const cpl = rig.awaitCompletion(20 + port);
      expect(cpl.data![0]).toBe(port * 0x40);
    }
    // Outside the upstream window; inside it but claimed by nobody (bridge 3 closed); Memory Space off.
    rig.bridgeWrite(3, BridgeReg.memoryBase, 0x0000_fff0);
    for (const address of [0xd000_0000n, 0xe030_0000n]) {
      rig.send(rig.memory("MRd", address, 1, 0, 30));
      expect(rig.awaitCompletion(30).status).toBe(CplStatus.UR);
      rig.send(rig.memory("MWr", address));
    }
    rig.bridgeWrite(1, BridgeReg.command, 0x0004);
    rig.send(rig.memory("MRd", 0xe010_0000n, 1, 0, 31));
    const ur = rig.awaitCompletion(31);
    expect([ur.status, ur.completerId]).toEqual([CplStatus.UR, 0x0208]);
    rig.bridgeWrite(-1, BridgeReg.command, 0x0004);
    rig.send(rig.memory("MRd", 0xe000_0000n, 1, 0, 29));
    expect(rig.awaitCompletion(29).status).toBe(CplStatus.UR);
    rig.run(200);
    expect(rig.devices.map((d) => d!.got.length)).toEqual([2, 2, 2, 2]);
    expect(rig.sw.upstreamCounters.postedDropped).toBe(2);
    expect(rig.sw.upstreamCounters.unsupportedRequests).toBe(3);
    expect(rig.sw.ports[1].counters.unsupportedRequests).toBe(1);
  });

  it("routes through the 64-bit prefetchable window", () => {
    const rig = new Rig().trained().configure();
    for (const port of [-1, 2]) {
      rig.bridgeWrite(port, BridgeReg.prefetchBase, 0x0011_0001); // 0x2_0000_0000 .. 0x2_001F_FFFF
      rig.bridgeWrite(port, BridgeReg.prefetchBaseUpper, 2);
      rig.bridgeWrite(port, BridgeReg.prefetchLimitUpper, 2);
    }
    expect(rig.sw.ports[2].config.prefetchableWindow).toEqual({ base: 0x2_0000_0000n, limit: 0x2_001f_ffffn });
    rig.send(rig.memory("MRd", 0x2_0010_0000n, 1, 0, 9));
    expect(rig.awaitCompletion(9).data![0]).toBe(2 * 0x40);
  });

  it("routes the devices' requests up unless a window claims them; Bus Master Enable gates them", () => {
    const rig = new Rig().trained().configure();
    const dev0 = rig.devices[0]!;
    dev0.outbox.push(rig.memory("MWr", 0x0100_0000n, 4, 0x0300));
    dev0.outbox.push(rig.memory("MRd", 0x0100_0000n, 4, 0x0300, 5));
    // Peer to peer: port 0's device reads from port 2's window.
    dev0.outbox.push(rig.memory("MRd", 0xe020_0100n, 1, 0x0300, 6));
    rig.run(300);
    expect(rig.up.map((u) => u.tlp.kind)).toEqual(["MWr", "MRd"]);
    expect(rig.devices[2]!.got.map((g) => g.tlp.kind)).toEqual(["MRd"]);
    const peer = dev0.got.find((g) => g.tlp.kind === "CplD")!.tlp as Completion;
    expect([peer.tag, peer.data![0]]).toEqual([6, 2 * 0x40]);
    // Completion from the host by requester ID: bus 3 is port 0.
    rig.send(completion(0x0300, 5, 16));
    rig.send(completion(0x0900, 7)); // bus 9: nobody's
    rig.run(200);
    expect(dev0.got.filter((g) => g.tlp.kind === "CplD").map((g) => (g.tlp as Completion).tag)).toEqual([6, 5]);
    expect(rig.sw.upstreamCounters.unexpectedCompletions).toBe(1);
    // Its own window: UR. Bus Master Enable off on the port, then on the upstream bridge: UR / dropped.
    rig.up.length = 0;
    dev0.outbox.push(rig.memory("MRd", 0xe000_0000n, 1, 0x0300, 10));
    rig.run(200);
    rig.bridgeWrite(0, BridgeReg.command, 0x0002);
    dev0.outbox.push(rig.memory("MWr", 0x0100_0000n, 1, 0x0300), rig.memory("MRd", 0x0100_0000n, 1, 0x0300, 11));
    rig.run(200);
    rig.bridgeWrite(0, BridgeReg.command, 0x0006);
    rig.bridgeWrite(-1, BridgeReg.command, 0x0002);
    dev0.outbox.push(rig.memory("MWr", 0x0100_0000n, 1, 0x0300), rig.memory("MRd", 0x0100_0000n, 1, 0x0300, 12));
    rig.run(200);
    expect(rig.up.filter((u) => u.tlp.kind === "MWr" || u.tlp.kind === "MRd")).toEqual([]);
    const urs = dev0.got.filter((g) => g.tlp.kind === "Cpl").map((g) => g.tlp as Completion);
    expect(urs.map((c) => [c.tag, c.status, c.completerId])).toEqual([
      [10, CplStatus.UR, 0x0200],
      [11, CplStatus.UR, 0x0200],
      [12, CplStatus.UR, 0x0200],
    ]);
    expect(rig.sw.ports[0].counters.busMasterRefused).toBe(4);
    expect(rig.sw.ports[0].counters.postedDropped).toBe(2);
  });

  it("empty ports and ports whose device never trains answer UR; nothing is delivered", () => {
    const rig = new Rig({}, [true, false, true, true], [{}, {}, { noLink: true }]).trained().configure();
    for (const bus of [4, 5]) expect(rig.config("CfgRd1", bus, 0, 0).status).toBe(CplStatus.UR);
    rig.send(rig.memory("MRd", 0xe020_0000n, 1, 0, 3));
    expect(rig.awaitCompletion(3).status).toBe(CplStatus.UR);
    expect(rig.devices[2]!.got).toEqual([]);
    expect(rig.sw.ports.map((p) => p.linkUp)).toEqual([true, false, false, true]);
    expect(rig.config("CfgRd1", 6, 0, 0).status).toBe(CplStatus.SC);
  });

  it("drops TLPs above the ingress port's Max_Payload_Size as malformed", () => {
    const rig = new Rig().trained().configure();
    rig.send(rig.memory("MWr", 0xe000_0000n, 64)); // 256 B > 128 B
    rig.devices[1]!.outbox.push(rig.memory("MWr", 0x0100_0000n, 64, 0x0400));
    rig.run(300);
    expect(rig.devices[0]!.got).toEqual([]);
    expect(rig.up).toEqual([]);
    expect(rig.sw.upstreamCounters.malformed).toBe(1);
    expect(rig.sw.ports[1].counters.malformed).toBe(1);
  });
});

describe("switch ordering, timing and resets", () => {
  it("keeps each egress port's order: posted writes and completions never pass posted writes", () => {
    const rig = new Rig().trained().configure();
    const sent: string[][] = [[], []];
    for (let i = 0; i < 24; i++) {
      const port = i % 3 === 0 ? 1 : 0;
      const tlp = i % 4 === 3 ? completion(0x0300 + (port << 8), i) : rig.memory("MWr", 0xe000_0000n + (BigInt(port) << 20n) + BigInt(i * 64), 8);
      sent[port].push(`${tlp.kind}${i}`);
      rig.send(tlp);
      if (i % 5 === 0) rig.run(1);
    }
    const dev0 = rig.devices[0]!;
    for (let i = 0; i < 12; i++) dev0.outbox.push(i % 3 === 2 ? completion(0, i, 64, 0x0300) : rig.memory("MWr", 0x0100_0000n + BigInt(i * 64), 16, 0x0300));
    rig.run(600);
    const label = (t: Tlp) => `${t.kind}${t.kind === "MWr" ? (Number(t.address & 0xfffn) / 64) : (t as Completion).tag}`;
    for (const port of [0, 1]) expect(rig.devices[port]!.got.map((g) => label(g.tlp))).toEqual(sent[port]);
    expect(rig.up.map((u) => label(u.tlp))).toEqual(Array.from({ length: 12 }, (_, i) => (i % 3 === 2 ? `CplD${i}` : `MWr${i}`)));
  });

  it("each downstream link has its own speed and width; the switch adds its latency", () => {
    const stream = (params: SwitchParamsInput) => {
      const rig = new Rig(params, [true, true]).trained().configure();
      const start = rig.cycle;
      for (let i = 0; i < 32; i++) {
        rig.send(rig.memory("MWr", 0xe000_0000n + BigInt(i * 128), 32));
        rig.send(rig.memory("MWr", 0xe010_0000n + BigInt(i * 128), 32));
      }
      rig.run(10_000);
      return rig.devices.map((d) => d!.got.at(-1)!.cycle - start);
    };
    const links = { downstreamPorts: 2, latencyNs: 4, downstreamLinks: [{ generation: 2 as const, lanes: 4 }, { generation: 1 as const, lanes: 1 }] };
    const [fast, slow] = stream(links);
    // 32 x (128 B + 12 B header + 8 B framing): Gen2 x4 moves 8 B a cycle, Gen1 x1 one.
    expect(fast).toBeGreaterThan((32 * 148) / 8);
    expect(fast).toBeLessThan((32 * 148) / 8 + 200);
    expect(slow).toBeGreaterThan(32 * 148);
    expect(slow).toBeLessThan(32 * 148 * 1.1 + 200);
    const [fastLate] = stream({ ...links, latencyNs: 404 });
    expect(fastLate - fast).toBe(100);
    const rig = new Rig(links, [true, true]).trained().configure();
    expect((rig.bridgeRead(1, BRIDGE_PCIE_CAP + PcieCapReg.linkControl) >>> 16) & 0x3ff).toBe(1 | (1 << 4));
  });

  it("holds a device's credits until its TLPs leave the switch: a stalled root link pushes back without loss", () => {
    const rig = new Rig({ downstreamLinks: [{ rootPortRxCredits: { postedHeader: 4, postedData: 32 } }] }).trained().configure();
    const dev0 = rig.devices[0]!;
    for (let i = 0; i < 20; i++) dev0.outbox.push(rig.memory("MWr", 0x0100_0000n + BigInt(i * 128), 32, 0x0300));
    // The root takes nothing for a while: four 128-byte writes fill the port's receive buffer.
    for (let i = 0; i < 400; i++) rig.sw.advance(rig.cycle++);
    const port = rig.sw.ports[0];
    expect(port.up.counters.tlps).toBe(4);
    expect(port.up.counters.creditStallCycles[0]).toBeGreaterThan(300);
    expect(dev0.outbox.length).toBe(20 - 4 - port.link.endpointTxQueueDepth);
    rig.run(3000);
    expect(rig.up.map((u) => Number((u.tlp as MemRequest).address & 0xffffn) / 128)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("a conventional reset restores the bridges and resets the devices; Secondary Bus Reset resets one port", () => {
    const rig = new Rig().trained().configure();
    rig.bridgeWrite(1, BridgeReg.interruptLine, 1 << 22); // Secondary Bus Reset on port 1
    expect(rig.config("CfgRd1", 4, 0, 0).status).toBe(CplStatus.UR);
    rig.bridgeWrite(1, BridgeReg.interruptLine, 0);
    expect(rig.devices[1]!.resets.length).toBe(1);
    expect(rig.devices[0]!.resets).toEqual([]);
    rig.run(2100);
    expect(rig.config("CfgRd1", 4, 0, 0).status).toBe(CplStatus.SC);
    rig.sw.reset(rig.cycle);
    expect(rig.sw.upstream.secondaryBus).toBe(0);
    expect(rig.sw.ports[2].config.memorySpaceEnabled).toBe(false);
    expect(rig.devices.map((d) => d!.resets.length)).toEqual([1, 2, 1, 1]);
    expect(rig.sw.ports.every((p) => !p.linkUp)).toBe(true);
  });

  it("Link Control: Retrain to Link Control 2's target speed; Link Disable takes the link down and back with a reset", () => {
    const rig = new Rig().trained().configure();
    const linkControl = BRIDGE_PCIE_CAP + PcieCapReg.linkControl;
    const linkStatus = () => (rig.bridgeRead(1, linkControl) >>> 16) & 0x0bff;
    expect(linkStatus()).toBe(2 | (4 << 4));
    rig.bridgeWrite(1, BRIDGE_PCIE_CAP + PcieCapReg.linkControl2, 1);
    rig.bridgeWrite(1, linkControl, 1 << 5);
    rig.run(2);
    expect(linkStatus()).toBe(2 | (4 << 4) | (1 << 11)); // Link Training while in Recovery, still at 5 GT/s
    expect(rig.bridgeRead(1, linkControl) & (1 << 5)).toBe(0); // Retrain Link reads 0
    rig.run(2600);
    expect(linkStatus()).toBe(1 | (4 << 4));
    expect(rig.sw.ports[1].speed).toBe(1);
    // Link Disable: the device is unreachable; clearing it resets the device and the link trains again.
    rig.bridgeWrite(1, linkControl, 1 << 4);
    expect(rig.config("CfgRd1", 4, 0, 0).status).toBe(CplStatus.UR);
    expect(linkStatus() & (1 << 13)).toBe(0);
    rig.bridgeWrite(1, linkControl, 0);
    expect(rig.devices[1]!.resets.length).toBe(1);
    rig.run(2100);
    expect(rig.config("CfgRd1", 4, 0, 0).status).toBe(CplStatus.SC);
    expect(linkStatus()).toBe(2 | (4 << 4));
  });

  it("answers CRS to configuration requests for crsCycles after reset", () => {
    const rig = new Rig({ crsCycles: 3000 }).trained();
    expect(rig.config("CfgRd0", 1, 0, 0).status).toBe(CplStatus.CRS);
    rig.run(1000);
    expect(rig.config("CfgRd0", 1, 0, 0).status).toBe(CplStatus.SC);
    rig.sw.reset(rig.cycle);
    expect(rig.config("CfgWr0", 1, 0, BridgeReg.busNumbers, 0x020201).status).toBe(CplStatus.CRS);
    expect(rig.sw.upstream.secondaryBus).toBe(0);
  });

  it("fast-forwards exactly: nextEventCycle is a lower bound and advance() gives the cycle-by-cycle result", () => {
    const run = (skip: boolean) => {
      const rig = new Rig().trained().configure();
      for (let i = 0; i < 8; i++) rig.send(rig.memory("MWr", 0xe000_0000n + (BigInt(i % 4) << 20n), 4));
      rig.devices[2]!.outbox.push(rig.memory("MWr", 0x0100_0000n, 4, 0x0500));
      const end = rig.cycle + 3000;
      let jumps = 0;
      while (rig.cycle < end) {
        const next = rig.sw.nextEventCycle();
        if (skip && next > rig.cycle + 1) {
          rig.cycle = Math.min(next, end);
          jumps++;
        } else rig.run(1);
      }
      rig.sw.advance(end);
      if (skip) expect(jumps).toBeGreaterThan(1);
      return [...rig.devices.map((d) => d!.got.map((g) => g.cycle)), rig.up.map((u) => u.cycle)];
    };
    const stepped = run(false);
    expect(stepped.flat().length).toBe(9);
    expect(run(true)).toEqual(stepped);
  });
});

describe("switch parameters", () => {
  it("presets and checks name the parameter", () => {
    expect(resolveSwitchParams({ preset: "asm1184e" })).toMatchObject({ vendorId: 0x1b21, deviceId: 0x1184, upstreamWidth: 1, mpsSupported: 128, latencyCycles: 63 });
    expect(resolveSwitchParams({ preset: "gen2x4x2", downstreamPorts: 2 }).downstreamLinks).toMatchObject([{ lanes: 2 }, { lanes: 2 }]);
    expect(() => resolveSwitchParams({ downstreamPorts: 0 })).toThrow(/downstreamPorts = 0/);
    expect(() => resolveSwitchParams({ preset: "nope" as "gen2x4" })).toThrow(/preset = "nope"/);
    expect(() => resolveSwitchParams({ upstreamWidth: 3 })).toThrow(/upstreamWidth = 3/);
    expect(() => resolveSwitchParams({ latencyNs: -1 })).toThrow(/latencyNs = -1/);
    expect(() => resolveSwitchParams({ downstreamLinks: [{ lanes: 5 }] })).toThrow(/downstreamLinks\[0\].*lanes = 5/);
    expect(() => resolveSwitchParams({ bogus: 1 } as SwitchParamsInput)).toThrow(/bogus: unknown/);
    expect(() => new PcieSwitch({ downstreamPorts: 1 }, [undefined, undefined])).toThrow(/2 devices for 1 downstream ports/);
  });
});
