// Depth-first PCI enumeration through bridges (the reference for the hardware enumerator of issue 14;
// PROTOCOL_FACTS A.6/A.7, C.1–C.6). From the root port's secondary bus (1) it walks every bus:
// - below the root port and below a switch downstream port only device 0 exists (a link); on a switch's
//   internal bus (below an upstream port) devices 0..31 are probed; a multi-function header adds 1..7.
// - a probe is a read of the Vendor ID: UR or 0xFFFF = nothing there; CRS = not ready yet, read again
//   after a while (bounded). Below a downstream port with a slot, Presence Detect State 0 = an empty
//   port; with Data Link Layer Link Active reporting, the probe waits (bounded) for the link to come up.
// - a bridge gets the next bus number as its secondary bus and subordinate 0xFF while the buses below
//   it are numbered, then its real subordinate; its memory window starts at the next 1 MiB boundary of
//   the allocation cursor and ends at the 1 MiB boundary after everything below it (closed when nothing
//   below has a BAR); the prefetchable window is closed.
// - an endpoint's memory BARs are sized and placed at the cursor, each aligned to its size.
// Then Max_Payload_Size = the smallest DevCap MPS of every function in the tree, the root port included
// (and of the `maxPayloadBytes` bound): every TLP crosses the root port, so one value for the whole tree
// is what keeps every link legal. Max_Read_Request_Size goes to the endpoints. Last, Command: Memory
// Space + Bus Master on the root port and every bridge, and on every endpoint with Interrupt Disable.

import { findCapability, setDeviceControlSizes } from "./pci-capability.ts";
import type { AccessSize, ConfigReadResult } from "./transport.ts";
import { bdfText, type Bdf, type BusConfigAccess } from "./topology-transport.ts";

export interface TopologyEnumerationOptions {
  /** First address of the memory the BARs are placed in (1 MiB aligned) and one past the last. */
  memoryStart: bigint;
  memoryEnd: bigint;
  /** Upper bound on Max_Payload_Size, bytes. */
  maxPayloadBytes: number;
  /** Max_Read_Request_Size for the endpoints, bytes. */
  maxReadRequestBytes: number;
  /** How long a device may answer CRS after reset, and the gap between two tries. */
  crsTimeoutNs: number;
  crsRetryIntervalNs: number;
  /** How long to wait for a downstream port's link (Data Link Layer Link Active) before taking the port as empty. */
  linkTimeoutNs: number;
  linkPollIntervalNs: number;
}

export const defaultTopologyEnumerationOptions: TopologyEnumerationOptions = {
  memoryStart: 0xe000_0000n,
  memoryEnd: 0xf000_0000n,
  maxPayloadBytes: 4096,
  maxReadRequestBytes: 512,
  crsTimeoutNs: 1e9,
  crsRetryIntervalNs: 100_000,
  linkTimeoutNs: 1e6,
  linkPollIntervalNs: 10_000,
};

export type PciNodeKind = "upstream-port" | "downstream-port" | "root-port" | "bridge" | "endpoint";

export interface PciBar {
  /** BAR index 0..5 (a 64-bit BAR takes index and index + 1). */
  index: number;
  address: bigint;
  size: bigint;
  is64Bit: boolean;
}

export interface PciNode extends Bdf {
  vendorId: number;
  deviceId: number;
  classCode: number;
  headerType: number;
  kind: PciNodeKind;
  /** Offset of the PCI Express capability, null when there is none. */
  pcieCapOffset: number | null;
  /** DevCap Max_Payload_Size Supported, bytes (Infinity without a PCIe capability). */
  mpsSupported: number;
  /** Bridges above it, outermost first (the root port is not listed). */
  path: Bdf[];
  /** Times a configuration read answered CRS before the device answered. */
  crsRetries: number;
  /** Bridges: buses below, the memory window (null: closed) and what was found below. */
  secondaryBus?: number;
  subordinateBus?: number;
  window?: { base: bigint; limit: bigint } | null;
  /** Downstream ports: a device is present (slot presence, or assumed without a slot) and its link came up. */
  linkUp?: boolean;
  children?: PciNode[];
  /** Endpoints: memory BARs as placed. */
  bars?: PciBar[];
  /** Negotiated link of the function's own link (PCIe Link Status), when it has one. */
  linkSpeed?: number;
  linkWidth?: number;
}

export interface TopologyEnumeration {
  /** The root port's buses and memory window. */
  rootPort: { secondaryBus: number; subordinateBus: number; window: { base: bigint; limit: bigint } | null; mpsSupported: number } | null;
  /** What is on the root port's secondary bus (a switch's upstream port, or an SSD). */
  tree: PciNode[];
  /** Every endpoint, depth-first order. */
  endpoints: PciNode[];
  /** Every bridge of the tree (the root port excluded), depth-first order. */
  bridges: PciNode[];
  maxPayload: number;
  maxReadRequest: number;
}

const Cfg = { ID: 0x00, COMMAND: 0x04, CLASS: 0x08, HEADER: 0x0c, BAR0: 0x10, BUS_NUMBERS: 0x18, MEMORY_WINDOW: 0x20, PREFETCH_WINDOW: 0x24, PREFETCH_BASE_UPPER: 0x28, PREFETCH_LIMIT_UPPER: 0x2c } as const;
const Command = { MSE: 1 << 1, BME: 1 << 2, INTX_DISABLE: 1 << 10 } as const;
const Pcie = { CAPS: 0x02, DEVCAP: 0x04, LINKCAP: 0x0c, LINKSTA: 0x12, SLOTSTA: 0x1a } as const;
const CAP_ID_PCIE = 0x10;
const ONE_MIB = 1n << 20n;
/** PCI Express Capabilities Device/Port Type. */
const PortTypeCode = { rootPort: 0b0100, upstream: 0b0101, downstream: 0b0110 } as const;

export class TopologyEnumerationError extends Error {
  override name = "TopologyEnumerationError";
}

const enumerationError = (message: string) => new TopologyEnumerationError(message);

/** Enumerate everything below the root port and configure it (see the file's header). */
export async function enumerateTopology(t: BusConfigAccess, overrides: Partial<TopologyEnumerationOptions> = {}): Promise<TopologyEnumeration> {
  const o = { ...defaultTopologyEnumerationOptions, ...overrides };
  if (o.memoryStart % ONE_MIB !== 0n) throw new TopologyEnumerationError(`memoryStart 0x${o.memoryStart.toString(16)} is not 1 MiB aligned`);
  return new Enumerator(t, o).run();
}

class Enumerator {
  private nextBus: number;
  private cursor: bigint;
  private readonly endpoints: PciNode[] = [];
  private readonly bridges: PciNode[] = [];

  constructor(
    private readonly t: BusConfigAccess,
    private readonly o: TopologyEnumerationOptions,
  ) {
    this.cursor = o.memoryStart;
    this.nextBus = (t.rootPort?.secondaryBus ?? 1) + 1;
  }

  async run(): Promise<TopologyEnumeration> {
    const rp = this.t.rootPort;
    const first = rp?.secondaryBus ?? 1;
    if (rp) {
      await rp.write32(Cfg.COMMAND, 0, 0b0011);
      await rp.write32(Cfg.BUS_NUMBERS, (0xff << 16) | (first << 8), 0b0111);
    }
    const windowStart = this.cursor;
    const tree = await this.scanBus(first, true, []);
    const subordinate = this.nextBus - 1;
    this.cursor = alignUp(this.cursor, ONE_MIB);
    const window = this.cursor > windowStart ? { base: windowStart, limit: this.cursor - 1n } : null;

    let rootPort: TopologyEnumeration["rootPort"] = null;
    let rpPcie: number | null = null;
    let mps = this.o.maxPayloadBytes;
    if (rp) {
      await rp.write32(Cfg.BUS_NUMBERS, (subordinate << 16) | (first << 8), 0b0111);
      await rp.write32(Cfg.MEMORY_WINDOW, windowRegister(window));
      await rp.write32(Cfg.PREFETCH_WINDOW, 0x0000_fff0);
      await rp.write32(Cfg.PREFETCH_BASE_UPPER, 0);
      await rp.write32(Cfg.PREFETCH_LIMIT_UPPER, 0);
      rpPcie = await findCapability((off) => rp.read32(off), CAP_ID_PCIE, enumerationError);
      const rpMps = rpPcie === null ? Infinity : 128 << ((await rp.read32(rpPcie + Pcie.DEVCAP)) & 7);
      mps = Math.min(mps, rpMps);
      rootPort = { secondaryBus: first, subordinateBus: subordinate, window, mpsSupported: rpMps };
    }
    for (const node of [...this.bridges, ...this.endpoints]) mps = Math.min(mps, node.mpsSupported);
    const mrrs = this.o.maxReadRequestBytes;

    // Sizes first, then Command, so that nothing moves data before both ends of every link agree.
    if (rp && rpPcie !== null) await setDeviceControlSizes((off) => rp.read32(off), (off, v) => rp.write32(off, v, 0b0011), rpPcie, mps, undefined, enumerationError);
    for (const node of this.bridges) {
      if (node.pcieCapOffset !== null) await setDeviceControlSizes((off) => this.read(node, off, 4), (off, v) => this.write(node, off, 2, v), node.pcieCapOffset, mps, undefined, enumerationError);
    }
    for (const node of this.endpoints) {
      if (node.pcieCapOffset !== null) await setDeviceControlSizes((off) => this.read(node, off, 4), (off, v) => this.write(node, off, 2, v), node.pcieCapOffset, mps, mrrs, enumerationError);
    }
    if (rp) await rp.write32(Cfg.COMMAND, Command.MSE | Command.BME, 0b0011);
    for (const node of this.bridges) await this.write(node, Cfg.COMMAND, 2, Command.MSE | Command.BME);
    for (const node of this.endpoints) await this.write(node, Cfg.COMMAND, 2, Command.MSE | Command.BME | Command.INTX_DISABLE);
    for (const node of [...this.bridges, ...this.endpoints]) await this.readLink(node);
    return { rootPort, tree, endpoints: this.endpoints, bridges: this.bridges, maxPayload: mps, maxReadRequest: mrrs };
  }

  /** Probe the devices of `bus`: device 0 only when the bus is a link, else 0..31. */
  private async scanBus(bus: number, link: boolean, path: Bdf[]): Promise<PciNode[]> {
    const found: PciNode[] = [];
    const devices = link ? 1 : 32;
    for (let device = 0; device < devices; device++) {
      let functions = 1;
      for (let fn = 0; fn < functions; fn++) {
        const bdf = { bus, device, fn };
        const probe = await this.probe(bdf);
        if (probe === undefined) {
          if (fn === 0) break;
          continue;
        }
        const headerType = ((await this.readAt(bdf, Cfg.HEADER, 4)) >>> 16) & 0xff;
        if (fn === 0 && headerType & 0x80) functions = 8;
        const node = await this.describe(bdf, probe.id, headerType, path, probe.retries);
        found.push(node);
        if ((headerType & 0x7f) === 1) await this.configureBridge(node);
        else if ((headerType & 0x7f) === 0) await this.configureEndpoint(node);
      }
    }
    return found;
  }

  /** Vendor/Device ID, or undefined when nothing answers; reads again while the device answers CRS. */
  private async probe(bdf: Bdf): Promise<{ id: number; retries: number } | undefined> {
    const start = this.t.nowNs();
    for (let retries = 0; ; retries++) {
      const r = await this.t.configReadAt(bdf, Cfg.ID, 4);
      if (r.status === "SC") return (r.value & 0xffff) === 0xffff ? undefined : { id: r.value >>> 0, retries };
      if (r.status !== "CRS") return undefined;
      if (this.t.nowNs() - start > this.o.crsTimeoutNs) throw new TopologyEnumerationError(`${bdfText(bdf)} still answers CRS after ${this.o.crsTimeoutNs / 1e6} ms (${retries} retries)`);
      await this.t.wait(this.o.crsRetryIntervalNs);
    }
  }

  private async describe(bdf: Bdf, id: number, headerType: number, path: Bdf[], crsRetries: number): Promise<PciNode> {
    const classCode = (await this.readAt(bdf, Cfg.CLASS, 4)) >>> 8;
    const read32 = (off: number) => this.readAt(bdf, off, 4);
    const pcieCapOffset = await findCapability(read32, CAP_ID_PCIE, enumerationError);
    let mpsSupported = Infinity;
    let kind: PciNodeKind = (headerType & 0x7f) === 1 ? "bridge" : "endpoint";
    if (pcieCapOffset !== null) {
      mpsSupported = 128 << ((await read32(pcieCapOffset + Pcie.DEVCAP)) & 7);
      const portType = ((await read32(pcieCapOffset)) >>> (16 + 4)) & 0xf;
      if (portType === PortTypeCode.upstream) kind = "upstream-port";
      else if (portType === PortTypeCode.downstream) kind = "downstream-port";
      else if (portType === PortTypeCode.rootPort) kind = "root-port";
    }
    return { ...bdf, vendorId: id & 0xffff, deviceId: id >>> 16, classCode, headerType, kind, pcieCapOffset, mpsSupported, path, crsRetries };
  }

  private async configureBridge(node: PciNode): Promise<void> {
    this.bridges.push(node);
    await this.write(node, Cfg.COMMAND, 2, 0);
    const secondary = this.nextBus++;
    if (secondary > 0xff) throw new TopologyEnumerationError(`out of bus numbers at ${bdfText(node)}`);
    await this.write(node, Cfg.BUS_NUMBERS, 4, (0xff << 16) | (secondary << 8) | node.bus);
    this.cursor = alignUp(this.cursor, ONE_MIB);
    const windowStart = this.cursor;
    const below = [...node.path, { bus: node.bus, device: node.device, fn: node.fn }];
    // Below a downstream port (or a root port) is a link: device 0 only; below an upstream port, the internal bus.
    const link = node.kind !== "upstream-port";
    let children: PciNode[] = [];
    if (!link || (await this.waitForLink(node))) children = await this.scanBus(secondary, link, below);
    if (link) node.linkUp = children.length > 0 || node.linkUp === true;
    const subordinate = this.nextBus - 1;
    await this.write(node, Cfg.BUS_NUMBERS, 4, (subordinate << 16) | (secondary << 8) | node.bus);
    this.cursor = alignUp(this.cursor, ONE_MIB);
    const window = this.cursor > windowStart ? { base: windowStart, limit: this.cursor - 1n } : null;
    await this.write(node, Cfg.MEMORY_WINDOW, 4, windowRegister(window));
    await this.write(node, Cfg.PREFETCH_WINDOW, 4, 0x0000_fff0);
    await this.write(node, Cfg.PREFETCH_BASE_UPPER, 4, 0);
    await this.write(node, Cfg.PREFETCH_LIMIT_UPPER, 4, 0);
    Object.assign(node, { secondaryBus: secondary, subordinateBus: subordinate, window, children });
  }

  /**
   * A downstream port's link: false when its slot reports no card; otherwise waits (bounded) for Data
   * Link Layer Link Active when the port reports it, and says whether the link came up.
   */
  private async waitForLink(node: PciNode): Promise<boolean> {
    if (node.kind !== "downstream-port" || node.pcieCapOffset === null) return true;
    const cap = node.pcieCapOffset;
    const caps = (await this.read(node, cap, 4)) >>> 16;
    const slotImplemented = (caps & (1 << 8)) !== 0;
    if (slotImplemented) {
      const slotStatus = (await this.read(node, cap + Pcie.SLOTSTA - 2, 4)) >>> 16;
      if ((slotStatus & (1 << 6)) === 0) {
        node.linkUp = false;
        return false;
      }
    }
    const linkCap = await this.read(node, cap + Pcie.LINKCAP, 4);
    if ((linkCap & (1 << 20)) === 0) return true; // no DLL Link Active reporting: probe and see
    const start = this.t.nowNs();
    for (;;) {
      const linkStatus = (await this.read(node, cap + Pcie.LINKSTA - 2, 4)) >>> 16;
      if (linkStatus & (1 << 13)) {
        node.linkUp = true;
        return true;
      }
      if (this.t.nowNs() - start > this.o.linkTimeoutNs) {
        node.linkUp = false;
        return false;
      }
      await this.t.wait(this.o.linkPollIntervalNs);
    }
  }

  private async configureEndpoint(node: PciNode): Promise<void> {
    this.endpoints.push(node);
    await this.write(node, Cfg.COMMAND, 2, 0);
    const bars: PciBar[] = [];
    for (let index = 0; index < 6; index++) {
      const offset = Cfg.BAR0 + 4 * index;
      const original = await this.read(node, offset, 4);
      if (original & 1) continue; // an I/O BAR: not assigned (no I/O space below this root port)
      const is64Bit = ((original >>> 1) & 3) === 2;
      await this.write(node, offset, 4, 0xffff_ffff);
      let mask = BigInt(((await this.read(node, offset, 4)) & 0xffff_fff0) >>> 0);
      if (is64Bit) {
        await this.write(node, offset + 4, 4, 0xffff_ffff);
        mask |= BigInt(await this.read(node, offset + 4, 4)) << 32n;
      } else {
        mask |= 0xffff_ffff_0000_0000n;
      }
      if ((mask & 0xffff_ffffn) === 0n && !is64Bit) continue; // not implemented
      const size = (~mask + 1n) & 0xffff_ffff_ffff_ffffn;
      const address = alignUp(this.cursor, size);
      if (address + size > this.o.memoryEnd) throw new TopologyEnumerationError(`BAR${index} of ${bdfText(node)} (0x${size.toString(16)} bytes) does not fit below 0x${this.o.memoryEnd.toString(16)}`);
      await this.write(node, offset, 4, Number(address & 0xffff_fff0n));
      if (is64Bit) await this.write(node, offset + 4, 4, Number(address >> 32n));
      const readBack = BigInt(((await this.read(node, offset, 4)) & 0xffff_fff0) >>> 0);
      if (readBack !== (address & 0xffff_fff0n)) throw new TopologyEnumerationError(`BAR${index} of ${bdfText(node)} reads back 0x${readBack.toString(16)} after assigning 0x${address.toString(16)}`);
      bars.push({ index, address, size, is64Bit });
      this.cursor = address + size;
      if (is64Bit) index++;
    }
    node.bars = bars;
  }

  private async readLink(node: PciNode): Promise<void> {
    if (node.pcieCapOffset === null || node.kind === "upstream-port") return;
    if (node.kind === "downstream-port" && !node.linkUp) return;
    const linkStatus = (await this.read(node, node.pcieCapOffset + Pcie.LINKSTA - 2, 4)) >>> 16;
    node.linkSpeed = linkStatus & 0xf;
    node.linkWidth = (linkStatus >>> 4) & 0x3f;
  }

  private async readAt(bdf: Bdf, offset: number, size: AccessSize): Promise<number> {
    const r: ConfigReadResult = await this.t.configReadAt(bdf, offset, size);
    if (r.status !== "SC") throw new TopologyEnumerationError(`configuration read of ${bdfText(bdf)} at 0x${offset.toString(16)} answered ${r.status}`);
    return r.value >>> 0;
  }

  private read(node: Bdf, offset: number, size: AccessSize): Promise<number> {
    return this.readAt(node, offset, size);
  }

  private async write(node: Bdf, offset: number, size: AccessSize, value: number): Promise<void> {
    const status = await this.t.configWriteAt({ bus: node.bus, device: node.device, fn: node.fn }, offset, size, value >>> 0);
    if (status !== "SC") throw new TopologyEnumerationError(`configuration write of ${bdfText(node)} at 0x${offset.toString(16)} answered ${status}`);
  }
}

/** Memory Base/Limit register: [15:4] of each half = address[31:20]; a closed window is base 0xFFF0 > limit 0. */
function windowRegister(window: { base: bigint; limit: bigint } | null): number {
  if (window === null) return 0x0000_fff0;
  const base = Number((window.base >> 20n) & 0xfffn);
  const limit = Number((window.limit >> 20n) & 0xfffn);
  return ((limit << 20) | (base << 4)) >>> 0;
}

function alignUp(value: bigint, alignment: bigint): bigint {
  return ((value + alignment - 1n) / alignment) * alignment;
}

