// The host side of the root port's TLP port, shared by the model transports: ModelTransport (one SSD at
// 01:00.0) and TopologyTransport (any function below the root port, a switch included). It holds the
// link, the TlpPort that plays the core's user side, the host memory with its DMA responder, and the TLP
// plumbing: tags, non-posted requests run until their completions are in, configuration requests to a
// bus/device/function (type 0 on the root port's secondary bus, type 1 beyond it; PROTOCOL_FACTS A.6),
// MMIO as MRd/MWr, the root port's own configuration space through cfg_mgmt. What differs between the
// two transports (what sits below the link, which BDFs they address, how host memory is handed out)
// stays in them. Time is simulated: every wait runs the link, 4 ns per 250 MHz cycle.

import { HostMemory, HostMemoryResponder } from "../nvme/host-memory-responder.ts";
import type { LinkModel } from "../pcie/link-model.ts";
import { TlpPort } from "../pcie/tlp-port.ts";
import { type Completion, CplStatus, type Tlp } from "../pcie/tlp.ts";
import type { AccessSize, ConfigReadResult, ConfigStatus, RootPortConfigAccess } from "./transport.ts";

/** A function's address: bus, device, function. */
export interface Bdf {
  bus: number;
  device: number;
  fn: number;
}

export interface TlpHostPortOptions {
  /** Host memory the drivers may hand to the SSDs. */
  memoryWindow: { start: bigint; end: bigint };
  /** Cycles a request may wait for its completion before the transport reports it as lost. */
  completionTimeoutCycles: number;
}

const NS_PER_CYCLE = 4;
const HOST_ID = 0x0000;
/** The root port's secondary bus: the link below it. */
export const SECONDARY_BUS = 1;
const TAGS = 32;

export abstract class TlpHostPort {
  readonly link: LinkModel;
  readonly port: TlpPort;
  readonly hostMemory = new HostMemory();
  readonly responder: HostMemoryResponder;
  readonly rootPort: RootPortConfigAccess;
  readonly memoryWindow: { start: bigint; end: bigint };
  /** Upstream TLPs the host could not place (neither a completion it waits for nor a DMA request). */
  readonly unexpectedTlps: string[] = [];
  protected readonly waiting = new Map<number, Completion[]>();
  private readonly completionTimeoutCycles: number;
  private nextTag = 0;

  /** `below` names what sits below the link in messages about TLPs the host does not handle. */
  protected constructor(
    link: LinkModel,
    options: TlpHostPortOptions,
    private readonly below: string,
  ) {
    this.link = link;
    this.memoryWindow = options.memoryWindow;
    this.completionTimeoutCycles = options.completionTimeoutCycles;
    this.port = new TlpPort(link);
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

  /** Run the link until it is up (user_lnk_up). */
  protected runUntilLinkUp(): void {
    this.port.runUntil(() => this.link.ports.user_lnk_up === 1, this.link.params.trainingCycles + 1000);
  }

  async configReadAt(bdf: Bdf, offset: number, size: AccessSize): Promise<ConfigReadResult> {
    const firstBe = byteEnables(offset, size);
    const kind = bdf.bus === SECONDARY_BUS ? "CfgRd0" : "CfgRd1";
    const cpl = this.request({ kind, ...configHeader(bdf, offset, firstBe), tag: this.allocateTag() });
    const status = configStatus(cpl[0]);
    if (status !== "SC") return { status, value: 0xffff_ffff };
    const data = cpl[0].data;
    if (!data || data.length !== 4) throw new Error(`model ${kind} of ${bdfText(bdf)} at 0x${offset.toString(16)}: completion carried ${data?.length ?? 0} data bytes, not 4`);
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

  /** The driver's own access to host memory, bounded to `window` (the memory it may hand to its SSD). */
  protected readHostMemory(window: { start: bigint; end: bigint }, windowName: string, address: bigint, length: number): Uint8Array {
    checkWindow(window, windowName, address, length, "read");
    return this.hostMemory.read(address, length);
  }

  protected writeHostMemory(window: { start: bigint; end: bigint }, windowName: string, address: bigint, data: Uint8Array): void {
    checkWindow(window, windowName, address, data.length, "write");
    this.hostMemory.write(address, data);
  }

  // ---- TLP plumbing ----

  /** Queue a non-posted request and run the link until all its completions are in. */
  private request(tlp: Tlp & { tag: number }): Completion[] {
    const received: Completion[] = [];
    this.waiting.set(tlp.tag, received);
    this.port.send(tlp);
    try {
      this.port.runUntil(() => isComplete(received), this.completionTimeoutCycles);
    } catch {
      throw new Error(`model: ${tlp.kind} tag ${tlp.tag} got no completion within ${this.completionTimeoutCycles} cycles (link events: ${this.link.events.slice(-3).map((e) => e.reason).join("; ") || "none"})`);
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
    this.port.send({ kind: "MWr", ...memoryHeader(address, data.length / 4), tag: 0, data });
    this.port.runUntil(() => this.port.pendingTx === 0, this.completionTimeoutCycles);
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
    this.unexpectedTlps.push(`cycle ${this.link.cycle}: ${tlp.kind} from ${this.below} is not handled by the host`);
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

function configHeader(bdf: Bdf, offset: number, firstBe: number) {
  return { tc: 0, attr: 0, ep: false, td: false, requesterId: HOST_ID, bus: bdf.bus, device: bdf.device, fn: bdf.fn, register: offset & 0xffc, firstBe };
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

function checkWindow(window: { start: bigint; end: bigint }, windowName: string, address: bigint, length: number, what: string): void {
  if (address < window.start || address + BigInt(length) > window.end) {
    throw new Error(`host memory ${what} of ${length} bytes at 0x${address.toString(16)} falls outside ${windowName} 0x${window.start.toString(16)}..0x${window.end.toString(16)}`);
  }
}
