// NvmeSsd: the NVMe SSD as a PCIe endpoint. It validates every TLP from the root complex, answers config
// requests (CRS for a while after reset), decodes BAR0 into NVMe registers, doorbells and the MSI-X
// table, and hands completions to the DMA engine. What it sends waits in a transmit queue for the link
// model to take: posted TLPs (data, CQ entries, interrupts) built a few at a time, in order, and
// requests and completions let in ahead of posted TLPs not built yet (transmit.ts). Bad input never
// throws: non-posted requests it cannot accept get UR, posted ones are dropped, and each refusal is
// counted and logged with its reason.

import { seededRandom } from "../random.ts";
import type { Completion, ConfigRequest, MemRequest, Message, PcieEndpoint, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";
import { requestedByteRange, tlpRuleViolation } from "../pcie/tlp-rules.ts";
import { completeMemoryRead, completionWithoutData, type CompletionSplitParams } from "../pcie/completion-split.ts";
import { ConfigSpace } from "./config-space.ts";
import { NvmeController } from "./controller.ts";
import { FaultInjector } from "./faults.ts";
import type { AtomicBoundary, PowerFailRecord, WriteAmplification } from "./media.ts";
import { namespaceAtomicsReported } from "./identify.ts";
import { ModelLog } from "./model-log.ts";
import { MsixTable } from "./msix.ts";
import type { SsdOptions } from "./options.ts";
import { resolveSsdOptions } from "./options.ts";
import { ControllerRegisters } from "./registers.ts";
import { Scheduler } from "./scheduler.ts";
import { CYCLES_PER_US, TimingModel } from "./timing.ts";
import { TransmitQueue } from "./transmit.ts";

export interface SsdCounters {
  tlpsReceived: number;
  tlpsSent: number;
  /** Malformed TLPs (rule violations, oversize payloads) refused. */
  malformedTlps: number;
  /** Non-posted requests answered with Unsupported Request. */
  unsupportedRequests: number;
  /** Posted requests (MWr, Msg) dropped. */
  postedDropped: number;
  unexpectedCompletions: number;
  crsCompletions: number;
  configRequests: number;
  mmioReads: number;
  mmioWrites: number;
  msixMessages: number;
  intxMessages: number;
}

export interface Bar0Layout {
  size: number;
  doorbellBytes: number;
  msixTableOffset: number;
  msixPbaOffset: number;
}

/**
 * The power-fail atomic unit of namespace `index` in blocks, as Identify reports it: NAWUPF + 1 when
 * the namespace reports its own atomic units (NSFEAT.NSABP), else the controller's AWUPF + 1.
 */
export function powerFailAtomicBlocks(options: Pick<SsdOptions, "awupf" | "namespaces">, index: number): number {
  const ns = options.namespaces[index];
  return (namespaceAtomicsReported(ns) ? (ns.nawupf ?? 0) : options.awupf) + 1;
}

/** The namespace's atomic boundary for power fail, when it reports one (NSABP and NABSPF > 0; the controller's AWUPF knows none). */
export function powerFailBoundary(options: Pick<SsdOptions, "namespaces">, index: number): AtomicBoundary | undefined {
  const ns = options.namespaces[index];
  if (!namespaceAtomicsReported(ns) || !ns.nabspf) return undefined;
  return { blocks: ns.nabspf + 1, offset: ns.nabo ?? 0 };
}

export interface PowerFailReport {
  namespaces: { nsid: number; writes: PowerFailRecord[] }[];
  tornWrites: number;
  lostWrites: number;
}

const DOORBELL_BASE = 0x1000;
const MSG_ASSERT_INTA = 0x20;
const MSG_DEASSERT_INTA = 0x24;
const FOUR_GIB = 1n << 32n;
/** Upper end, in µs, of each Device Control 2 completion timeout range. */
const COMPLETION_TIMEOUT_UPPER_US: ReadonlyMap<number, number> = new Map([
  [0b0001, 100],
  [0b0010, 10_000],
  [0b0101, 55_000],
  [0b0110, 210_000],
  [0b1001, 900_000],
  [0b1010, 3_500_000],
  [0b1101, 13_000_000],
  [0b1110, 64_000_000],
]);

export class NvmeSsd implements PcieEndpoint {
  readonly options: ReturnType<typeof resolveSsdOptions>;
  readonly layout: Bar0Layout;
  readonly scheduler = new Scheduler();
  readonly log = new ModelLog();
  readonly faults = new FaultInjector();
  readonly config: ConfigSpace;
  readonly msix: MsixTable;
  readonly timing: TimingModel;
  readonly controller: NvmeController;
  readonly counters: SsdCounters = {
    tlpsReceived: 0,
    tlpsSent: 0,
    malformedTlps: 0,
    unsupportedRequests: 0,
    postedDropped: 0,
    unexpectedCompletions: 0,
    crsCompletions: 0,
    configRequests: 0,
    mmioReads: 0,
    mmioWrites: 0,
    msixMessages: 0,
    intxMessages: 0,
  };
  /**
   * Every TLP the SSD originates. Posted ones keep their order (data MWr precede the CQE MWr that
   * reports them, and the interrupt follows); a request or completion passes only posted TLPs not built
   * yet, never one already queued.
   */
  private readonly upstream: TransmitQueue;
  private bdf: number;
  private crsUntil: number;
  private pinAsserted = false;

  constructor(options: Partial<SsdOptions> = {}) {
    this.options = resolveSsdOptions(options);
    const o = this.options;
    this.layout = bar0Layout(o);
    this.bdf = o.bdf;
    this.crsUntil = o.crsCycles;
    this.upstream = new TransmitQueue(o.transmitLookaheadTlps);
    this.msix = new MsixTable(o.msixVectors);
    this.config = new ConfigSpace({
      vendorId: o.vendorId,
      deviceId: o.deviceId,
      subsystemVendorId: o.subsystemVendorId,
      subsystemId: o.subsystemId,
      revisionId: 0x02,
      bar0Size: this.layout.size,
      bar0AddressBits: o.bar0AddressBits,
      classCode: o.classCode,
      maxPayloadSupported: o.maxPayloadSupported,
      linkSpeed: o.linkSpeed,
      linkWidth: o.linkWidth,
      msixVectors: o.msixVectors,
      msixTableOffset: this.layout.msixTableOffset,
      msixPbaOffset: this.layout.msixPbaOffset,
    });
    this.timing = new TimingModel(o.timingParams);
    this.controller = new NvmeController(
      o,
      this.timing,
      this.faults,
      this.scheduler,
      this.log,
      {
        requesterId: () => this.bdf,
        maxPayloadBytes: () => this.config.maxPayloadBytes,
        maxReadRequestBytes: () => this.config.maxReadRequestBytes,
        extendedTags: () => this.config.extendedTagEnabled,
        busMasterEnabled: () => this.config.busMasterEnabled,
        send: (tlp) => this.upstream.send(tlp),
        post: (job) => this.upstream.post(job),
        raiseInterrupt: (vector) => this.raiseMsix(vector),
        setPinInterrupt: (asserted) => this.setPin(asserted),
        msixEnabled: () => this.config.msixEnabled,
        msixVectors: o.msixVectors,
      },
      () => this.completionTimeoutCycles(),
    );
  }

  /**
   * The completion timeout for the SSD's own reads: the upper end of the range chosen in Device Control 2,
   * the `completionTimeoutCycles` option for the default range (0000b), Infinity when disabled.
   */
  completionTimeoutCycles(): number {
    const { value, disabled } = this.config.completionTimeoutControl;
    if (disabled) return Number.POSITIVE_INFINITY;
    const us = COMPLETION_TIMEOUT_UPPER_US.get(value);
    return us === undefined ? this.options.completionTimeoutCycles : us * CYCLES_PER_US;
  }

  /** Bus/device/function the SSD uses as Requester and Completer ID. */
  get requesterId(): number {
    return this.bdf;
  }

  /** TLPs built and waiting to go upstream. */
  get upstreamDepth(): number {
    return this.upstream.length;
  }

  /** Posted transfers (writes, interrupts) with TLPs still to build. */
  get postedJobsWaiting(): number {
    return this.upstream.jobsWaiting;
  }

  // ---- PcieEndpoint ------------------------------------------------------------------------------

  receive(tlp: Tlp, cycle: number): void {
    this.advance(cycle);
    this.counters.tlpsReceived++;
    const violation = tlpRuleViolation(tlp, { allow4dwBelow4G: true });
    if (violation) return this.refuse(tlp, `malformed: ${violation}`, true);
    switch (tlp.kind) {
      case "CfgRd0":
      case "CfgWr0":
      case "CfgRd1":
      case "CfgWr1":
        return this.receiveConfig(tlp);
      case "MRd":
      case "MWr":
        return this.receiveMemory(tlp);
      case "Cpl":
      case "CplD":
        return this.receiveCompletion(tlp);
      case "Msg":
      case "MsgD":
        return this.receiveMessage(tlp);
    }
  }

  nextUpstream(cycle: number): Tlp | undefined {
    this.advance(cycle);
    const tlp = this.upstream.shift();
    if (tlp) this.counters.tlpsSent++;
    return tlp;
  }

  /** Run the model's internal events up to `cycle` (the link model's calls do this too). */
  advance(cycle: number): void {
    this.scheduler.runUntil(cycle);
  }

  /**
   * Cycle of the next internal event, for a simulator that skips idle time (the current cycle when a TLP
   * waits to go upstream, built or not); undefined when idle.
   */
  nextEventCycle(): number | undefined {
    if (!this.upstream.empty) return this.scheduler.now;
    return this.scheduler.nextEventCycle();
  }

  // ---- resets and power --------------------------------------------------------------------------

  /** Conventional reset (PERST#): config space and controller to power-on state; media and its write-back continue. */
  reset(cycle: number): void {
    this.advance(cycle);
    this.config.reset();
    this.msix.reset();
    this.controller.powerOnReset();
    this.upstream.clear();
    this.pinAsserted = false;
    this.bdf = this.options.bdf;
    this.crsUntil = cycle + this.options.crsCycles;
  }

  /**
   * The CRS window of the following resets (PERST# releases), cycles: a device whose start-up takes
   * that long from now on (one that never came up may come up in time after the next reset). The
   * window of the current reset is not changed.
   */
  setCrsCycles(cycles: number): void {
    if (!Number.isSafeInteger(cycles) || cycles < 0) throw new RangeError(`setCrsCycles(${cycles}): cycles must be a non-negative integer`);
    this.options.crsCycles = cycles;
  }

  /**
   * Power is cut at `cycle` and restored: writes not yet durable are applied, lost or torn per the
   * atomic-write rules (seeded, so runs repeat), then the SSD comes back as after a conventional reset.
   */
  powerFail(cycle: number, seed = 1): PowerFailReport {
    this.advance(cycle);
    const random = seededRandom(seed);
    const cleanShutdown = this.controller.regs.shutdownStatus === 2;
    const namespaces = this.controller.media.map((media, i) => ({
      nsid: i + 1,
      writes: media.powerFail(powerFailAtomicBlocks(this.options, i), random, powerFailBoundary(this.options, i)),
    }));
    const all = namespaces.flatMap((n) => n.writes);
    const stats = this.controller.stats;
    stats.powerCycles++;
    if (!cleanShutdown) stats.unsafeShutdowns++;
    this.controller.dma.reset();
    this.reset(cycle);
    return {
      namespaces,
      tornWrites: all.filter((w) => w.outcome === "torn").length,
      lostWrites: all.filter((w) => w.outcome === "lost").length,
    };
  }

  /** Controller fatal status injection: CSTS.CFS = 1 and command processing stops until a controller reset. */
  injectControllerFatal(reason = "injected controller fatal status"): void {
    this.controller.declareFatal(reason);
  }

  writeAmplification(nsid: number): WriteAmplification {
    const media = this.controller.namespace(nsid);
    if (!media) throw new Error(`writeAmplification: namespace ${nsid} does not exist (1..${this.controller.media.length})`);
    return media.amplification;
  }

  // ---- configuration requests --------------------------------------------------------------------

  private receiveConfig(tlp: ConfigRequest): void {
    this.counters.configRequests++;
    if (tlp.kind === "CfgRd1" || tlp.kind === "CfgWr1") return this.unsupported(tlp, `${tlp.kind}: an endpoint does not forward type-1 configuration requests`);
    if (tlp.fn !== 0) return this.unsupported(tlp, `${tlp.kind} to function ${tlp.fn}: only function 0 exists`);
    if (this.scheduler.now < this.crsUntil) {
      this.counters.crsCompletions++;
      this.upstream.send(completionWithoutData(tlp, this.bdf, CplStatus.CRS));
      return;
    }
    if (tlp.kind === "CfgWr0") {
      this.bdf = (tlp.bus << 8) | (tlp.device << 3);
      this.config.writeDword(tlp.register, tlp.firstBe, tlp.data!);
      this.upstream.send(completionWithoutData(tlp, this.bdf, CplStatus.SC));
      this.deliverPendingMsix();
      return;
    }
    const value = this.config.readDword(tlp.register);
    this.upstream.send(this.completion(tlp, CplStatus.SC, 4, 0, le32(value)));
  }

  // ---- memory requests to BAR0 -------------------------------------------------------------------

  private receiveMemory(tlp: MemRequest): void {
    const base = this.config.bar0Base;
    const offset = tlp.address - base;
    const inBar = offset >= 0n && offset + BigInt(tlp.lengthDw * 4) <= BigInt(this.layout.size);
    if (!this.config.memorySpaceEnabled) return this.refuse(tlp, `${tlp.kind} at 0x${tlp.address.toString(16)}: Memory Space Enable is 0`, false);
    if (!inBar) return this.refuse(tlp, `${tlp.kind} at 0x${tlp.address.toString(16)}+${tlp.lengthDw * 4}: outside BAR0 0x${base.toString(16)}+0x${this.layout.size.toString(16)}`, false);
    if (tlp.kind === "MRd") return this.mmioRead(tlp, Number(offset));
    if (tlp.data!.length > this.config.maxPayloadBytes) {
      return this.refuse(tlp, `malformed: MWr payload ${tlp.data!.length} B exceeds MPS ${this.config.maxPayloadBytes} B`, true);
    }
    if (tlp.ep) return this.refuse(tlp, `poisoned MWr at BAR0+0x${offset.toString(16)} not applied`, false);
    this.mmioWrite(tlp, Number(offset));
  }

  private mmioRead(tlp: MemRequest, offset: number): void {
    this.counters.mmioReads++;
    const failure = this.faults.takeMmioReadFailure();
    if (failure) {
      this.log.add(this.scheduler.now, "fault-injected", `MRd at BAR0+0x${offset.toString(16)} ${failure === "dropped" ? "never answered" : `answered ${failure}`}`);
      if (failure === "dropped") return;
      if (failure === "UR" || failure === "CA") {
        if (failure === "UR") this.config.noteUnsupportedRequest();
        this.upstream.send(completionWithoutData(tlp, this.bdf, failure === "UR" ? CplStatus.UR : CplStatus.CA));
        return;
      }
    }
    const readBar = (address: bigint, length: number) => {
      const data = new Uint8Array(length);
      const start = offset + Number(address - tlp.address);
      for (let i = 0; i < length / 4; i++) data.set(le32(this.readBar32(start + 4 * i)), 4 * i);
      return data;
    };
    const poisoned = failure === "poisoned";
    for (const cpl of completeMemoryRead(tlp, this.bdf, readBar, this.readSplit())) this.upstream.send(poisoned ? { ...cpl, ep: true } : cpl);
  }

  /**
   * A read is cut at every MPS-aligned address (a multiple of any RCB). A reserved MPS encoding above
   * 4096 B cuts nothing inside a legal read, exactly as 4096 does.
   */
  private readSplit(): CompletionSplitParams {
    const mps = Math.min(this.config.maxPayloadBytes, 4096);
    return { rcb: 64, mps, policy: "aligned", alignBytes: mps };
  }

  private readBar32(offset: number): number {
    const l = this.layout;
    if (offset < DOORBELL_BASE) return this.controller.regs.read32(offset);
    if (offset >= l.msixTableOffset && offset < l.msixTableOffset + this.msix.tableBytes) return this.msix.readTable(offset - l.msixTableOffset);
    if (offset >= l.msixPbaOffset && offset < l.msixPbaOffset + this.msix.pbaBytes) return this.msix.readPba(offset - l.msixPbaOffset);
    return 0;
  }

  private mmioWrite(tlp: MemRequest, offset: number): void {
    this.counters.mmioWrites++;
    const data = tlp.data!;
    for (let i = 0; i < tlp.lengthDw; i++) {
      const be = i === 0 ? tlp.firstBe : i === tlp.lengthDw - 1 ? tlp.lastBe : 0xf;
      if (be === 0) continue;
      const value = (data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24)) >>> 0;
      this.writeBar32(offset + 4 * i, value, be);
    }
  }

  private writeBar32(offset: number, value: number, be: number): void {
    const l = this.layout;
    const now = this.scheduler.now;
    const where = `BAR0+0x${offset.toString(16)}`;
    if (offset < DOORBELL_BASE) {
      const regs = this.controller.regs;
      if (!ControllerRegisters.isRegister(offset)) return this.log.add(now, "register-write-ignored", `${where}: reserved register`);
      const merged = be === 0xf ? value : mergeBytes(regs.read32(offset), value, be);
      const ignored = regs.write32(offset, merged);
      if (ignored) this.log.add(now, "register-write-ignored", `${where}: ${ignored}`);
      return;
    }
    if (offset < DOORBELL_BASE + l.doorbellBytes) {
      if (be !== 0xf) return this.log.add(now, "doorbell-invalid", `${where}: partial doorbell write (byte enables ${be.toString(2).padStart(4, "0")}) ignored`);
      this.controller.writeDoorbell(offset - DOORBELL_BASE, value);
      return;
    }
    if (offset >= l.msixTableOffset && offset < l.msixTableOffset + this.msix.tableBytes) {
      const tableOffset = offset - l.msixTableOffset;
      const merged = be === 0xf ? value : mergeBytes(this.msix.readTable(tableOffset), value, be);
      for (const v of this.msix.writeTable(tableOffset, merged, this.config.msixFunctionMasked)) this.sendMsix(v);
      return;
    }
    this.log.add(now, "register-write-ignored", `${where}: no writable register here`);
  }

  // ---- completions and messages from the host ----------------------------------------------------

  private receiveCompletion(tlp: Completion): void {
    const problem = this.controller.dma.receiveCompletion(tlp);
    if (problem) {
      this.counters.unexpectedCompletions++;
      this.log.add(this.scheduler.now, "completion-unexpected", problem);
    }
  }

  private receiveMessage(tlp: Message): void {
    this.counters.postedDropped++;
    this.log.add(this.scheduler.now, "tlp-rejected", `${tlp.kind} code 0x${tlp.messageCode.toString(16)} ignored: the SSD acts on no message`);
  }

  // ---- interrupts --------------------------------------------------------------------------------

  private raiseMsix(vector: number): void {
    if (vector >= this.msix.vectors) {
      this.log.add(this.scheduler.now, "command-error", `interrupt vector ${vector} beyond the ${this.msix.vectors}-entry MSI-X table`);
      return;
    }
    if (this.msix.signal(vector, this.config.msixFunctionMasked)) this.sendMsix(vector);
  }

  private deliverPendingMsix(): void {
    if (!this.config.msixEnabled) return;
    for (const v of this.msix.deliverable(this.config.msixFunctionMasked)) this.sendMsix(v);
  }

  private sendMsix(vector: number): void {
    const { address, data } = this.msix.message(vector);
    if (!this.config.busMasterEnabled) {
      this.log.add(this.scheduler.now, "dma-error", `MSI-X vector ${vector} not sent: bus master enable is 0`);
      return;
    }
    this.counters.msixMessages++;
    this.upstream.post(single({
      kind: "MWr",
      tc: 0,
      attr: 0,
      ep: false,
      td: false,
      requesterId: this.bdf,
      tag: 0,
      address,
      addr64: address >= FOUR_GIB,
      lengthDw: 1,
      firstBe: 0xf,
      lastBe: 0,
      data: le32(data),
    }));
  }

  private setPin(asserted: boolean): void {
    const level = asserted && !this.config.intxDisabled && !this.config.msixEnabled;
    if (level === this.pinAsserted) return;
    this.pinAsserted = level;
    this.counters.intxMessages++;
    this.upstream.post(single({
      kind: "Msg",
      tc: 0,
      attr: 0,
      ep: false,
      td: false,
      routing: 0b100,
      requesterId: this.bdf,
      tag: 0,
      messageCode: level ? MSG_ASSERT_INTA : MSG_DEASSERT_INTA,
      headerTail: new Uint8Array(8),
      lengthDw: 0,
    }));
  }

  // ---- refusals and completions ------------------------------------------------------------------

  /** Refuse a TLP: UR for a non-posted request, drop for anything else; always counted and logged. */
  private refuse(tlp: Tlp, reason: string, malformed: boolean): void {
    if (malformed) this.counters.malformedTlps++;
    if (tlp.kind === "MRd" || tlp.kind === "CfgRd0" || tlp.kind === "CfgWr0" || tlp.kind === "CfgRd1" || tlp.kind === "CfgWr1") {
      return this.unsupported(tlp, reason);
    }
    if (tlp.kind === "MWr" || tlp.kind === "Msg" || tlp.kind === "MsgD") this.counters.postedDropped++;
    else this.counters.unexpectedCompletions++;
    this.log.add(this.scheduler.now, "tlp-rejected", `${tlp.kind} dropped: ${reason}`);
  }

  private unsupported(tlp: MemRequest | ConfigRequest, reason: string): void {
    this.counters.unsupportedRequests++;
    this.config.noteUnsupportedRequest();
    this.log.add(this.scheduler.now, "tlp-rejected", `${tlp.kind} answered UR: ${reason}`);
    const requesterId = Number.isInteger(tlp.requesterId) ? tlp.requesterId & 0xffff : 0;
    const tag = Number.isInteger(tlp.tag) ? tlp.tag & 0xff : 0;
    let byteCount = 4;
    let lowerAddress = 0;
    if (tlp.kind === "MRd" && Number.isInteger(tlp.lengthDw) && tlp.lengthDw >= 1 && tlp.lengthDw <= 1024 && typeof tlp.address === "bigint") {
      const r = requestedByteRange(tlp);
      byteCount = Math.min(Math.max(r.byteCount, 1), 4096);
      lowerAddress = Number(r.firstByteAddress & 0x7fn);
    }
    this.upstream.send(this.completion({ requesterId, tag, tc: 0, attr: 0 }, CplStatus.UR, byteCount, lowerAddress));
  }

  private completion(
    request: { requesterId: number; tag: number; tc: number; attr: number },
    status: CplStatus,
    byteCount: number,
    lowerAddress: number,
    data?: Uint8Array,
  ): Completion {
    const tc = Number.isInteger(request.tc) && request.tc >= 0 && request.tc <= 7 ? request.tc : 0;
    const attr = Number.isInteger(request.attr) && request.attr >= 0 && request.attr <= 3 ? request.attr : 0;
    return {
      kind: data ? "CplD" : "Cpl",
      tc,
      attr,
      ep: false,
      td: false,
      completerId: this.bdf,
      status,
      bcm: false,
      byteCount,
      requesterId: request.requesterId,
      tag: request.tag,
      lowerAddress,
      lengthDw: data ? data.length / 4 : 0,
      ...(data ? { data } : {}),
    };
  }
}

/** BAR0: registers, doorbells, then the MSI-X table and PBA each on their own 4 KiB page, rounded to a power of two. */
export function bar0Layout(o: SsdOptions): Bar0Layout {
  const doorbellBytes = 2 * (o.ioQueuePairs + 1) * (4 << o.dstrd);
  const alignPage = (n: number) => Math.ceil(n / 4096) * 4096;
  const msixTableOffset = alignPage(DOORBELL_BASE + doorbellBytes);
  const msixPbaOffset = alignPage(msixTableOffset + o.msixVectors * 16);
  const needed = msixPbaOffset + Math.ceil(o.msixVectors / 64) * 8;
  const natural = Math.max(16384, 2 ** Math.ceil(Math.log2(needed)));
  if (o.bar0Size !== 0 && o.bar0Size < needed) {
    throw new Error(`NvmeSsd option bar0Size ${o.bar0Size} cannot hold registers, doorbells and MSI-X (${needed} B needed)`);
  }
  return { size: o.bar0Size || natural, doorbellBytes, msixTableOffset, msixPbaOffset };
}

/** A posted TLP already made (an interrupt message) as a job, so it keeps its place behind earlier writes. */
function* single(tlp: Tlp): Generator<Tlp, void, void> {
  yield tlp;
}

function le32(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
}

function mergeBytes(old: number, value: number, be: number): number {
  let out = old;
  for (let k = 0; k < 4; k++) {
    if ((be >> k) & 1) out = (out & ~(0xff << (8 * k))) | (value & (0xff << (8 * k)));
  }
  return out >>> 0;
}
