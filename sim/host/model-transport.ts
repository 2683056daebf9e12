// Transport (a): our SSD model (sim/nvme) behind the root-port hard IP + link model (sim/pcie), reached
// through the TLP port that plays the core's user side. Configuration goes as CfgRd0/CfgWr0 to bus 1
// device 0, MMIO as MRd/MWr to BAR0, and the SSD's DMA is answered from a sparse host memory by the
// host-memory responder. Time is simulated: every wait runs the link, 4 ns per 250 MHz cycle.

import { HostMemory, HostMemoryResponder } from "../nvme/host-memory-responder.ts";
import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import { LinkModel } from "../pcie/link-model.ts";
import type { LinkParamsInput } from "../pcie/link-params.ts";
import { TlpPort } from "../pcie/tlp-port.ts";
import { type Completion, CplStatus, type Tlp } from "../pcie/tlp.ts";
import type { AccessSize, ConfigReadResult, ConfigStatus, NvmeTransport, RootPortConfigAccess } from "./transport.ts";

export interface ModelTransportOptions {
  ssd: Partial<SsdOptions>;
  link: LinkParamsInput;
  /** Host memory the driver may hand to the SSD; the same window as the QEMU transport by default. */
  memoryWindow: { start: bigint; end: bigint };
  /** Cycles a request may wait for its completion before the transport reports it as lost. */
  completionTimeoutCycles: number;
}

export const defaultModelTransportOptions: ModelTransportOptions = {
  ssd: {},
  link: {},
  memoryWindow: { start: 16n << 20n, end: 128n << 20n },
  completionTimeoutCycles: 250_000,
};

const NS_PER_CYCLE = 4;
const HOST_ID = 0x0000;
const SECONDARY_BUS = 1;
const TAGS = 32;

export class ModelTransport implements NvmeTransport {
  readonly name = "model";
  readonly configSpaceBytes = 4096;
  readonly ssd: NvmeSsd;
  readonly link: LinkModel;
  readonly port: TlpPort;
  readonly hostMemory = new HostMemory();
  readonly responder: HostMemoryResponder;
  readonly rootPort: RootPortConfigAccess;
  readonly memoryWindow: { start: bigint; end: bigint };
  /** Upstream TLPs the host could not place (neither a completion it waits for nor a DMA request). */
  readonly unexpectedTlps: string[] = [];
  private readonly options: ModelTransportOptions;
  private readonly waiting = new Map<number, Completion[]>();
  private nextTag = 0;

  private constructor(options: ModelTransportOptions) {
    this.options = options;
    this.memoryWindow = options.memoryWindow;
    this.ssd = new NvmeSsd(options.ssd);
    this.link = new LinkModel(this.ssd, options.link);
    this.port = new TlpPort(this.link);
    // CplDs of at most 128 bytes split at the 64-byte RCB are legal whatever MPS is programmed later.
    this.responder = new HostMemoryResponder(this.hostMemory, { completerId: HOST_ID, maxPayloadBytes: 128, splitBytes: 64 });
    this.port.onReceive((tlp) => this.onUpstream(tlp));
    const port = this.port;
    this.rootPort = {
      secondaryBus: SECONDARY_BUS,
      read32: async (offset) => port.cfgRead(checkDwOffset(offset)),
      write32: async (offset, value, byteEnables = 0xf) => port.cfgWrite(checkDwOffset(offset), value, byteEnables),
    };
  }

  /** Build the model and run the link until it is up (user_lnk_up). */
  static async start(overrides: Partial<ModelTransportOptions> = {}): Promise<ModelTransport> {
    const t = new ModelTransport({ ...defaultModelTransportOptions, ...overrides });
    t.port.runUntil(() => t.link.ports.user_lnk_up === 1, t.link.params.trainingCycles + 1000);
    return t;
  }

  async configRead(offset: number, size: AccessSize): Promise<ConfigReadResult> {
    const firstBe = byteEnables(offset, size);
    const cpl = this.request({ kind: "CfgRd0", ...configHeader(offset, firstBe), tag: this.allocateTag() });
    const status = configStatus(cpl[0]);
    if (status !== "SC") return { status, value: 0xffff_ffff };
    const data = cpl[0].data;
    if (!data || data.length !== 4) throw new Error(`model CfgRd0 at 0x${offset.toString(16)}: completion carried ${data?.length ?? 0} data bytes, not 4`);
    const dw = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    const value = size === 4 ? dw : (dw >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
    return { status, value: value >>> 0 };
  }

  async configWrite(offset: number, size: AccessSize, value: number): Promise<ConfigStatus> {
    const firstBe = byteEnables(offset, size);
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, (value << ((offset & 3) * 8)) >>> 0, true);
    const cpl = this.request({ kind: "CfgWr0", ...configHeader(offset, firstBe), tag: this.allocateTag(), data });
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

  async readMemory(address: bigint, length: number): Promise<Uint8Array> {
    this.checkWindow(address, length, "read");
    return this.hostMemory.read(address, length);
  }

  async writeMemory(address: bigint, data: Uint8Array): Promise<void> {
    this.checkWindow(address, data.length, "write");
    this.hostMemory.write(address, data);
  }

  nowNs(): number {
    return this.link.cycle * NS_PER_CYCLE;
  }

  async wait(ns: number): Promise<void> {
    this.port.run(Math.max(1, Math.ceil(ns / NS_PER_CYCLE)));
  }

  async close(): Promise<void> {
    this.waiting.clear();
  }

  // ---- TLP plumbing ----

  /** Queue a non-posted request and run the link until all its completions are in. */
  private request(tlp: Tlp & { tag: number }): Completion[] {
    const received: Completion[] = [];
    this.waiting.set(tlp.tag, received);
    this.port.send(tlp);
    try {
      this.port.runUntil(() => isComplete(received), this.options.completionTimeoutCycles);
    } catch {
      throw new Error(`model: ${tlp.kind} tag ${tlp.tag} got no completion within ${this.options.completionTimeoutCycles} cycles (link events: ${this.link.events.slice(-3).map((e) => e.reason).join("; ") || "none"})`);
    } finally {
      this.waiting.delete(tlp.tag);
    }
    return received;
  }

  /** MRd of 1 or 2 DWs; undefined when the completer answered UR/CA (a real root complex returns all ones). */
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
    if (at !== bytes.length) throw new Error(`model MRd at 0x${address.toString(16)}: completions carried ${at} bytes, expected ${bytes.length}`);
    return bytes;
  }

  /** Posted MWr; the link runs until the TLP has left the TX queue so later reads are ordered after it. */
  private memoryWrite(address: bigint, data: Uint8Array): void {
    checkMmioAddress(address, data.length);
    const lengthDw = data.length / 4;
    this.port.send({ kind: "MWr", ...memoryHeader(address, lengthDw), tag: 0, data });
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
    this.unexpectedTlps.push(`cycle ${this.link.cycle}: ${tlp.kind} from the SSD is not handled by the host`);
  }

  private allocateTag(): number {
    const tag = this.nextTag;
    this.nextTag = (this.nextTag + 1) % TAGS;
    return tag;
  }

  private checkWindow(address: bigint, length: number, what: string): void {
    if (address < this.memoryWindow.start || address + BigInt(length) > this.memoryWindow.end) {
      throw new Error(`model host memory ${what} of ${length} bytes at 0x${address.toString(16)} falls outside 0x${this.memoryWindow.start.toString(16)}..0x${this.memoryWindow.end.toString(16)}`);
    }
  }
}

/** A request is complete once a non-SC completion arrived or the byte count of the last one is used up. */
export function isComplete(received: Completion[]): boolean {
  const last = received[received.length - 1];
  if (!last) return false;
  if (last.status !== CplStatus.SC || last.kind === "Cpl") return true;
  return last.byteCount <= (last.data?.length ?? 0);
}

export function configStatus(c: Completion): ConfigStatus {
  switch (c.status) {
    case CplStatus.SC:
      return "SC";
    case CplStatus.CRS:
      return "CRS";
    case CplStatus.CA:
      return "CA";
    default:
      return "UR";
  }
}

export function byteEnables(offset: number, size: AccessSize): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > 4096 || offset % size !== 0) {
    throw new Error(`model config access of ${size} bytes at offset ${offset} is not naturally aligned inside the 4 KiB space`);
  }
  return (((1 << size) - 1) << (offset & 3)) & 0xf;
}

function configHeader(offset: number, firstBe: number) {
  return { tc: 0, attr: 0, ep: false, td: false, requesterId: HOST_ID, bus: SECONDARY_BUS, device: 0, fn: 0, register: offset & 0xffc, firstBe };
}

export function memoryHeader(address: bigint, lengthDw: number) {
  return { tc: 0, attr: 0, ep: false, td: false, requesterId: HOST_ID, address, addr64: address >= 1n << 32n, lengthDw, firstBe: 0xf, lastBe: lengthDw > 1 ? 0xf : 0 };
}

export function checkMmioAddress(address: bigint, bytes: number): void {
  if (address % BigInt(bytes) !== 0n) throw new Error(`MMIO access of ${bytes} bytes at 0x${address.toString(16)} is not naturally aligned`);
}

function checkDwOffset(offset: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset >= 4096 || offset % 4 !== 0) throw new Error(`root port config offset ${offset} is not a DW offset inside 4 KiB`);
  return offset >> 2;
}
