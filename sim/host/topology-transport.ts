// The model transport for a topology: the root-port hard IP + link model with, on its far side, one SSD
// model (no switch, as ModelTransport) or a PCIe switch with SSD models on its downstream ports
// (sim/system/topology.ts). Configuration requests go to any bus/device/function: type 0 on the root
// port's secondary bus, type 1 beyond it (PROTOCOL_FACTS A.6). MMIO and the SSDs' DMA share one host
// memory; endpointTransport() gives each SSD an NvmeTransport of its own (its BDF, a slice of the host
// memory window) so one NvmeDriver per SSD can bring it up. Time is simulated, 4 ns per cycle.

import { HostMemory, HostMemoryResponder } from "../nvme/host-memory-responder.ts";
import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import { LinkModel } from "../pcie/link-model.ts";
import type { LinkParamsInput } from "../pcie/link-params.ts";
import type { PcieSwitch } from "../pcie/pcie-switch.ts";
import { TlpPort } from "../pcie/tlp-port.ts";
import { type Completion, CplStatus, type Tlp } from "../pcie/tlp.ts";
import { buildTopology, type SystemTopology } from "../system/topology.ts";
import { byteEnables, checkMmioAddress, configStatus, isComplete, memoryHeader } from "./model-transport.ts";
import type { AccessSize, ConfigReadResult, ConfigStatus, NvmeTransport, RootPortConfigAccess } from "./transport.ts";

export interface TopologyTransportOptions {
  /** A switch and its SSDs; undefined: one SSD below the root port with `ssd` options. */
  topology?: SystemTopology;
  ssd: Partial<SsdOptions>;
  link: LinkParamsInput;
  /** Host memory the drivers may hand to the SSDs, shared out in equal slices by endpointTransport(). */
  memoryWindow: { start: bigint; end: bigint };
  completionTimeoutCycles: number;
}

export const defaultTopologyTransportOptions: TopologyTransportOptions = {
  ssd: {},
  link: {},
  memoryWindow: { start: 16n << 20n, end: 128n << 20n },
  completionTimeoutCycles: 250_000,
};

/** A function's address: bus, device, function. */
export interface Bdf {
  bus: number;
  device: number;
  fn: number;
}

/** Configuration access to any function, and time: what the topology enumerator needs. */
export interface BusConfigAccess {
  readonly rootPort: RootPortConfigAccess | null;
  configReadAt(bdf: Bdf, offset: number, size: AccessSize): Promise<ConfigReadResult>;
  configWriteAt(bdf: Bdf, offset: number, size: AccessSize, value: number): Promise<ConfigStatus>;
  nowNs(): number;
  wait(ns: number): Promise<void>;
}

const NS_PER_CYCLE = 4;
const HOST_ID = 0x0000;
const SECONDARY_BUS = 1;
const TAGS = 32;

export class TopologyTransport implements BusConfigAccess {
  readonly name = "model";
  readonly link: LinkModel;
  readonly port: TlpPort;
  readonly switch: PcieSwitch | undefined;
  /** SSD models: by downstream port with a switch, [the SSD] without. */
  readonly ssds: readonly (NvmeSsd | undefined)[];
  readonly hostMemory = new HostMemory();
  readonly responder: HostMemoryResponder;
  readonly rootPort: RootPortConfigAccess;
  readonly memoryWindow: { start: bigint; end: bigint };
  readonly unexpectedTlps: string[] = [];
  private readonly options: TopologyTransportOptions;
  private readonly waiting = new Map<number, Completion[]>();
  private nextTag = 0;

  private constructor(options: TopologyTransportOptions) {
    this.options = options;
    this.memoryWindow = options.memoryWindow;
    if (options.topology !== undefined) {
      const built = buildTopology(options.topology);
      this.switch = built.switch;
      this.ssds = built.ssds;
      this.link = new LinkModel(built.endpoint, { endpointMaxSpeed: built.endpointMaxSpeed, endpointMaxWidth: built.endpointMaxWidth, ...options.link });
      const link = this.link;
      built.switch.upstreamLinkState = () => ({ speed: link.speed, width: link.width, up: link.isUp });
    } else {
      const ssd = new NvmeSsd(options.ssd);
      this.switch = undefined;
      this.ssds = [ssd];
      this.link = new LinkModel(ssd, { endpointMaxSpeed: ssd.options.linkSpeed as 1 | 2 | 3, endpointMaxWidth: ssd.options.linkWidth, ...options.link });
    }
    this.port = new TlpPort(this.link);
    this.responder = new HostMemoryResponder(this.hostMemory, { completerId: HOST_ID, maxPayloadBytes: 128, splitBytes: 64 });
    this.port.onReceive((tlp) => this.onUpstream(tlp));
    const port = this.port;
    this.rootPort = {
      secondaryBus: SECONDARY_BUS,
      read32: async (offset) => port.cfgRead(dwOffset(offset)),
      write32: async (offset, value, byteEnables = 0xf) => port.cfgWrite(dwOffset(offset), value, byteEnables),
    };
  }

  /** Build the models and run the root link until it is up. */
  static async start(overrides: Partial<TopologyTransportOptions> = {}): Promise<TopologyTransport> {
    const t = new TopologyTransport({ ...defaultTopologyTransportOptions, ...overrides });
    t.port.runUntil(() => t.link.ports.user_lnk_up === 1, t.link.params.trainingCycles + 1000);
    return t;
  }

  async configReadAt(bdf: Bdf, offset: number, size: AccessSize): Promise<ConfigReadResult> {
    const firstBe = byteEnables(offset, size);
    const cpl = this.request({ kind: bdf.bus === SECONDARY_BUS ? "CfgRd0" : "CfgRd1", ...configHeader(bdf, offset, firstBe), tag: this.allocateTag() });
    const status = configStatus(cpl[0]);
    if (status !== "SC") return { status, value: 0xffff_ffff };
    const data = cpl[0].data;
    if (!data || data.length !== 4) throw new Error(`model config read at ${bdfText(bdf)} 0x${offset.toString(16)}: completion carried ${data?.length ?? 0} data bytes, not 4`);
    const dw = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    const value = size === 4 ? dw : (dw >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
    return { status, value: value >>> 0 };
  }

  async configWriteAt(bdf: Bdf, offset: number, size: AccessSize, value: number): Promise<ConfigStatus> {
    const firstBe = byteEnables(offset, size);
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, (value << ((offset & 3) * 8)) >>> 0, true);
    const cpl = this.request({ kind: bdf.bus === SECONDARY_BUS ? "CfgWr0" : "CfgWr1", ...configHeader(bdf, offset, firstBe), tag: this.allocateTag(), data });
    return configStatus(cpl[0]);
  }

  async mmioRead32(address: bigint): Promise<number> {
    const data = this.memoryRead(address, 1);
    return data ? new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true) : 0xffff_ffff;
  }

  async mmioRead64(address: bigint): Promise<bigint> {
    const data = this.memoryRead(address, 2);
    return data ? new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true) : 0xffff_ffff_ffff_ffffn;
  }

  async mmioWrite32(address: bigint, value: number): Promise<void> {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    this.memoryWrite(address, data);
  }

  async mmioWrite64(address: bigint, value: bigint): Promise<void> {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, value, true);
    this.memoryWrite(address, data);
  }

  nowNs(): number {
    return this.link.cycle * NS_PER_CYCLE;
  }

  async wait(ns: number): Promise<void> {
    this.port.run(Math.max(1, Math.ceil(ns / NS_PER_CYCLE)));
  }

  /**
   * An NvmeTransport for the endpoint at `bdf`: its configuration space, MMIO, and slice `slice` of
   * `slices` of the host memory window (each driver allocates its queues and buffers in its own slice).
   */
  endpointTransport(bdf: Bdf, slice = 0, slices = 1): NvmeTransport {
    const { start, end } = this.memoryWindow;
    const step = ((end - start) / BigInt(slices)) & ~0xfffn;
    const window = { start: start + step * BigInt(slice), end: start + step * BigInt(slice + 1) };
    const check = (address: bigint, length: number, what: string) => {
      if (address < window.start || address + BigInt(length) > window.end) {
        throw new Error(`host memory ${what} of ${length} bytes at 0x${address.toString(16)} falls outside ${bdfText(bdf)}'s slice 0x${window.start.toString(16)}..0x${window.end.toString(16)}`);
      }
    };
    return {
      name: `model ${bdfText(bdf)}`,
      configSpaceBytes: 4096,
      rootPort: null,
      memoryWindow: window,
      configRead: (offset, size) => this.configReadAt(bdf, offset, size),
      configWrite: (offset, size, value) => this.configWriteAt(bdf, offset, size, value),
      mmioRead32: (a) => this.mmioRead32(a),
      mmioRead64: (a) => this.mmioRead64(a),
      mmioWrite32: (a, v) => this.mmioWrite32(a, v),
      mmioWrite64: (a, v) => this.mmioWrite64(a, v),
      readMemory: async (address, length) => {
        check(address, length, "read");
        return this.hostMemory.read(address, length);
      },
      writeMemory: async (address, data) => {
        check(address, data.length, "write");
        this.hostMemory.write(address, data);
      },
      nowNs: () => this.nowNs(),
      wait: (ns) => this.wait(ns),
      close: async () => {},
    };
  }

  // ---- TLP plumbing ----

  private request(tlp: Tlp & { tag: number }): Completion[] {
    const received: Completion[] = [];
    this.waiting.set(tlp.tag, received);
    this.port.send(tlp);
    try {
      this.port.runUntil(() => isComplete(received), this.options.completionTimeoutCycles);
    } catch {
      throw new Error(`model: ${tlp.kind} tag ${tlp.tag} got no completion within ${this.options.completionTimeoutCycles} cycles`);
    } finally {
      this.waiting.delete(tlp.tag);
    }
    return received;
  }

  private memoryRead(address: bigint, lengthDw: 1 | 2): Uint8Array | undefined {
    checkMmioAddress(address, lengthDw * 4);
    const cpl = this.request({ kind: "MRd", ...memoryHeader(address, lengthDw), tag: this.allocateTag() });
    if (cpl.some((c) => c.status !== CplStatus.SC)) return undefined;
    const bytes = new Uint8Array(lengthDw * 4);
    let at = 0;
    for (const c of cpl) {
      bytes.set(c.data ?? new Uint8Array(0), at);
      at += c.data?.length ?? 0;
    }
    return bytes;
  }

  private memoryWrite(address: bigint, data: Uint8Array): void {
    checkMmioAddress(address, data.length);
    this.port.send({ kind: "MWr", ...memoryHeader(address, data.length / 4), tag: 0, data });
    this.port.runUntil(() => this.port.pendingTx === 0, this.options.completionTimeoutCycles);
  }

  private onUpstream(tlp: Tlp): void {
    if (tlp.kind === "Cpl" || tlp.kind === "CplD") {
      const list = tlp.requesterId === HOST_ID ? this.waiting.get(tlp.tag) : undefined;
      if (list) list.push(tlp);
      else this.unexpectedTlps.push(`cycle ${this.link.cycle}: ${tlp.kind} tag ${tlp.tag} for requester 0x${tlp.requesterId.toString(16)} matches no outstanding request`);
      return;
    }
    if (tlp.kind === "MRd" || tlp.kind === "MWr") {
      for (const cpl of this.responder.handle(tlp)) this.port.send(cpl);
      return;
    }
    this.unexpectedTlps.push(`cycle ${this.link.cycle}: ${tlp.kind} from below is not handled by the host`);
  }

  private allocateTag(): number {
    const tag = this.nextTag;
    this.nextTag = (this.nextTag + 1) % TAGS;
    return tag;
  }
}

export function bdfText(bdf: Bdf): string {
  return `${bdf.bus.toString(16).padStart(2, "0")}:${bdf.device.toString(16).padStart(2, "0")}.${bdf.fn}`;
}

function configHeader(bdf: Bdf, offset: number, firstBe: number) {
  return { tc: 0, attr: 0, ep: false, td: false, requesterId: HOST_ID, bus: bdf.bus, device: bdf.device, fn: bdf.fn, register: offset & 0xffc, firstBe };
}

function dwOffset(offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset >= 4096 || offset % 4 !== 0) throw new Error(`root port config offset ${offset} is not a DW offset inside 4 KiB`);
  return offset >> 2;
}
