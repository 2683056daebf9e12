// The reference NVMe host: what the hardware controller does, step for step, in TypeScript. It runs
// over any NvmeTransport. High-level calls (bringUp, readBlocks, ...) throw on any failure; the raw
// calls (submitAdmin, submitIo, transfer) return the completion as it came, so tests can send invalid
// commands and look at the status.

import * as cmd from "./commands.ts";
import type { Command, DataPointer } from "./commands.ts";
import { CommandFailedError, type CompletionEntry, isSuccess } from "./completion.ts";
import { type BufferShape, DataBuffer } from "./data-buffer.ts";
import { HostMemoryAllocator } from "./host-memory-allocator.ts";
import { IDENTIFY_BYTES, type IdentifyController, type IdentifyNamespace, parseActiveNamespaceList, parseIdentifyController, parseIdentifyNamespace } from "./identify.ts";
import { enumerateEndpoint, type PciEnumerationOptions, type PciFunctionInfo } from "./pci-enumeration.ts";
import { encodePrpList, type PrpListOptions, planPrps } from "./prp.ts";
import { CompletionQueue, SubmissionQueue } from "./queues.ts";
import { type ControllerCapabilities, decodeCap, decodeCsts, encodeAqa, encodeCc, Reg, ShutdownNotification } from "./registers.ts";
import type { NvmeTransport } from "./transport.ts";

export interface DriverOptions {
  pci: Partial<PciEnumerationOptions>;
  adminQueueEntries: number;
  ioQueueEntries: number;
  /** Host memory page size (CC.MPS); must lie within CAP.MPSMIN..MPSMAX. */
  pageSize: number;
  /** Deadline for a command's completion, in device time. */
  commandTimeoutNs: number;
  /** Device time between two looks at a completion queue or a status register. */
  pollIntervalNs: number;
  /** Shutdown deadline unless Identify RTD3E is longer (Linux's default). */
  defaultShutdownTimeoutNs: number;
}

export const defaultDriverOptions: DriverOptions = {
  pci: {},
  adminQueueEntries: 32,
  ioQueueEntries: 64,
  pageSize: 4096,
  commandTimeoutNs: 5e9,
  pollIntervalNs: 1000,
  defaultShutdownTimeoutNs: 5e9,
};

export interface IoQueuePair {
  qid: number;
  sq: SubmissionQueue;
  cq: CompletionQueue;
}

export interface ShutdownResult {
  shutdownStatus: number;
  elapsedNs: number;
}

export class NvmeDriver {
  readonly options: DriverOptions;
  readonly memory: HostMemoryAllocator;
  pci: PciFunctionInfo | null = null;
  cap: ControllerCapabilities | null = null;
  controller: IdentifyController | null = null;
  private adminSq: SubmissionQueue | null = null;
  private adminCq: CompletionQueue | null = null;
  private adminRings: { sq: bigint; cq: bigint } | null = null;
  /** Completions that arrived while waiting for another command on the same CQ. */
  private readonly unclaimed = new Map<CompletionQueue, CompletionEntry[]>();
  /** I/O queue memory in use; a controller reset deletes the queues, so enable() frees it. */
  private readonly ioQueueMemory = new Set<bigint>();

  constructor(
    readonly transport: NvmeTransport,
    options: Partial<DriverOptions> = {},
  ) {
    this.options = { ...defaultDriverOptions, ...options };
    this.memory = new HostMemoryAllocator(transport.memoryWindow);
  }

  get bar0(): bigint {
    if (!this.pci) throw new Error("BAR0 is not assigned yet: call enumerate() first");
    return this.pci.bar0.address;
  }

  private get capabilities(): ControllerCapabilities {
    if (!this.cap) throw new Error("controller capabilities not read yet: call enable() first");
    return this.cap;
  }

  /**
   * Everything from PCIe enumeration to one I/O queue pair ready for commands. `enumerated`: the function
   * was already found and configured by someone else (the topology enumerator, sim/host/pci-topology.ts),
   * so the driver starts at the controller.
   */
  async bringUp(enumerated?: PciFunctionInfo): Promise<{ namespace: IdentifyNamespace; io: IoQueuePair }> {
    if (enumerated) this.pci = enumerated;
    else await this.enumerate();
    await this.enable();
    const controller = await this.identifyController();
    if (controller.sqes.min > 6 || controller.sqes.max < 6 || controller.cqes.min > 4 || controller.cqes.max < 4) {
      throw new Error(`controller does not accept 64-byte SQEs and 16-byte CQEs (SQES 0x${controller.sqes.max.toString(16)}${controller.sqes.min.toString(16)}, CQES 0x${controller.cqes.max.toString(16)}${controller.cqes.min.toString(16)})`);
    }
    const active = await this.activeNamespaces();
    if (active.length === 0) throw new Error("controller reports no active namespace");
    const namespace = await this.identifyNamespace(active[0]);
    await this.setNumberOfQueues(1);
    const io = await this.createIoQueuePair(1, this.options.ioQueueEntries);
    return { namespace, io };
  }

  async enumerate(): Promise<PciFunctionInfo> {
    this.pci = await enumerateEndpoint(this.transport, this.options.pci);
    return this.pci;
  }

  async readRegister32(offset: number): Promise<number> {
    return this.transport.mmioRead32(this.bar0 + BigInt(offset));
  }

  async writeRegister32(offset: number, value: number): Promise<void> {
    await this.transport.mmioWrite32(this.bar0 + BigInt(offset), value);
  }

  /** CAP as two 32-bit reads, low half first, as the hardware does it. */
  async readCap(): Promise<ControllerCapabilities> {
    const lo = await this.readRegister32(Reg.CAP);
    const hi = await this.readRegister32(Reg.CAP + 4);
    if (lo === 0xffff_ffff && hi === 0xffff_ffff) throw new Error(`CAP reads all ones on ${this.transport.name}: the device is gone or BAR0 does not decode`);
    this.cap = decodeCap((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    return this.cap;
  }

  /** NVMe 1.4 §7.6.1 steps 2-6: reset the controller, set up the admin queue, enable, wait for RDY. */
  async enable(): Promise<void> {
    const cap = await this.readCap();
    const { pageSize, adminQueueEntries } = this.options;
    if (!cap.nvmCommandSet) throw new Error("CAP.CSS does not include the NVM command set");
    if (pageSize < cap.minPageSize || pageSize > cap.maxPageSize) throw new Error(`page size ${pageSize} is outside CAP.MPSMIN..MPSMAX (${cap.minPageSize}..${cap.maxPageSize})`);
    if (adminQueueEntries < 2 || adminQueueEntries > 4096) throw new Error(`admin queue of ${adminQueueEntries} entries is outside 2..4096`);

    await this.disable();
    for (const base of this.ioQueueMemory) this.memory.release(base);
    this.ioQueueMemory.clear();
    this.adminRings ??= {
      sq: this.memory.alloc(adminQueueEntries * cmd.SQE_BYTES, pageSize),
      cq: this.memory.alloc(adminQueueEntries * 16, pageSize),
    };
    const location = { qid: 0, entries: adminQueueEntries, bar0: this.bar0, doorbellStride: cap.doorbellStride };
    this.adminSq = new SubmissionQueue(this.transport, { ...location, base: this.adminRings.sq });
    this.adminCq = new CompletionQueue(this.transport, { ...location, base: this.adminRings.cq });
    this.unclaimed.clear();
    await this.adminCq.clear();
    await this.writeRegister32(Reg.AQA, encodeAqa(adminQueueEntries, adminQueueEntries));
    await this.writeRegister64AsHalves(Reg.ASQ, this.adminRings.sq);
    await this.writeRegister64AsHalves(Reg.ACQ, this.adminRings.cq);
    await this.writeRegister32(Reg.CC, encodeCc({ enable: true, pageSize, shutdown: ShutdownNotification.none, ioSqEntryBytes: 64, ioCqEntryBytes: 16 }));
    await this.waitForReady(true);
  }

  /** Clear CC.EN and wait for RDY = 0; first lets a controller that is still coming up finish doing so. */
  async disable(): Promise<void> {
    const cc = await this.readRegister32(Reg.CC);
    const csts = await this.readCsts();
    if ((cc & 1) === 0 && !csts.ready) return;
    if ((cc & 1) === 1 && !csts.ready) await this.waitForReady(true);
    await this.writeRegister32(Reg.CC, cc & ~(1 | (3 << 14)));
    await this.waitForReady(false);
  }

  /** CC.SHN (normal by default), then wait for CSTS.SHST = complete. */
  async shutdown(kind: "normal" | "abrupt" = "normal"): Promise<ShutdownResult> {
    const start = this.transport.nowNs();
    const cc = await this.readRegister32(Reg.CC);
    const shn = kind === "normal" ? ShutdownNotification.normal : ShutdownNotification.abrupt;
    await this.writeRegister32(Reg.CC, ((cc & ~(3 << 14)) | (shn << 14)) >>> 0);
    // RTD3E is the typical latency, not a bound: like Linux, never wait less than the default.
    const deadline = Math.max((this.controller?.rtd3e ?? 0) * 1000, this.options.defaultShutdownTimeoutNs);
    for (;;) {
      const csts = await this.readCsts();
      if (csts.shutdownStatus === 2) return { shutdownStatus: 2, elapsedNs: this.transport.nowNs() - start };
      if (this.transport.nowNs() - start > deadline) throw new Error(`shutdown did not complete within ${deadline / 1e6} ms (CSTS.SHST ${csts.shutdownStatus})`);
      await this.transport.wait(this.options.pollIntervalNs);
    }
  }

  async readCsts(): Promise<ReturnType<typeof decodeCsts>> {
    const raw = await this.readRegister32(Reg.CSTS);
    if (raw === 0xffff_ffff) throw new Error(`CSTS reads all ones on ${this.transport.name}: the device is gone`);
    return decodeCsts(raw);
  }

  // ---- admin commands ----

  /** Submit an admin command as given and return its completion, whatever the status. */
  async submitAdmin(command: Command): Promise<CompletionEntry> {
    if (!this.adminSq || !this.adminCq) throw new Error("admin queue not set up: call enable() first");
    return this.execute(this.adminSq, this.adminCq, command);
  }

  async identifyController(): Promise<IdentifyController> {
    this.controller = parseIdentifyController(await this.identify(cmd.IdentifyCns.controller, 0));
    return this.controller;
  }

  async identifyNamespace(nsid: number): Promise<IdentifyNamespace> {
    return parseIdentifyNamespace(await this.identify(cmd.IdentifyCns.namespace, nsid));
  }

  /** Active NSIDs greater than `after`. */
  async activeNamespaces(after = 0): Promise<number[]> {
    return parseActiveNamespaceList(await this.identify(cmd.IdentifyCns.activeNamespaces, after));
  }

  /** Set Features Number of Queues; returns the counts the controller allocated (1-based). */
  async setNumberOfQueues(wanted: number): Promise<{ sqs: number; cqs: number }> {
    const c = await this.checked(this.submitAdmin(cmd.setNumberOfQueues(wanted, wanted)), "Set Features (Number of Queues)");
    return { sqs: (c.dw0 & 0xffff) + 1, cqs: (c.dw0 >>> 16) + 1 };
  }

  async createIoQueuePair(qid: number, entries: number): Promise<IoQueuePair> {
    const cap = this.capabilities;
    if (entries < 2 || entries > cap.maxQueueEntries) throw new Error(`I/O queue of ${entries} entries is outside 2..${cap.maxQueueEntries} (CAP.MQES)`);
    const { pageSize } = this.options;
    const location = { qid, entries, bar0: this.bar0, doorbellStride: cap.doorbellStride };
    const cqBase = this.memory.alloc(entries * 16, pageSize);
    const sqBase = this.memory.alloc(entries * cmd.SQE_BYTES, pageSize);
    const cq = new CompletionQueue(this.transport, { ...location, base: cqBase });
    const sq = new SubmissionQueue(this.transport, { ...location, base: sqBase });
    try {
      await cq.clear();
      await this.checked(this.submitAdmin(cmd.createIoCq({ qid, entries, base: cqBase })), `Create I/O CQ ${qid}`);
      await this.checked(this.submitAdmin(cmd.createIoSq({ qid, entries, base: sqBase, cqid: qid })), `Create I/O SQ ${qid}`);
    } catch (error) {
      this.memory.release(cqBase);
      this.memory.release(sqBase);
      throw error;
    }
    this.ioQueueMemory.add(cqBase).add(sqBase);
    return { qid, sq, cq };
  }

  /** Delete the SQ before its CQ, as the spec requires, and give their memory back. */
  async deleteIoQueuePair(pair: IoQueuePair): Promise<void> {
    await this.checked(this.submitAdmin(cmd.deleteIoSq(pair.qid)), `Delete I/O SQ ${pair.qid}`);
    await this.checked(this.submitAdmin(cmd.deleteIoCq(pair.qid)), `Delete I/O CQ ${pair.qid}`);
    for (const base of [pair.sq.location.base, pair.cq.location.base]) {
      this.memory.release(base);
      this.ioQueueMemory.delete(base);
    }
    this.unclaimed.delete(pair.cq);
  }

  /**
   * Get Log Page of `bytes` from byte `offset` of log `lid`: the completion as it came, and the data
   * when it succeeded (what the controller transferred; bytes past the end of a shorter log stay zero).
   */
  async getLogPage(lid: number, bytes: number, offset = 0n): Promise<{ completion: CompletionEntry; data?: Uint8Array }> {
    const buffer = this.allocateBuffer(bytes);
    try {
      await buffer.write(this.transport, new Uint8Array(bytes));
      const completion = await this.transfer((c) => this.submitAdmin(c), (d) => cmd.getLogPage(lid, bytes, d, offset), buffer);
      return isSuccess(completion.status) ? { completion, data: await buffer.read(this.transport) } : { completion };
    } finally {
      buffer.release(this.memory);
    }
  }

  /** Format NVM; returns the completion whatever its status (it arrives when the format is done). */
  async formatNvm(fields: cmd.FormatNvmFields): Promise<CompletionEntry> {
    return this.submitAdmin(cmd.formatNvm(fields));
  }

  /** Sanitize; returns the completion (which only says whether the operation started). */
  async sanitize(fields: cmd.SanitizeFields): Promise<CompletionEntry> {
    return this.submitAdmin(cmd.sanitize(fields));
  }

  // ---- I/O ----

  async submitIo(pair: IoQueuePair, command: Command): Promise<CompletionEntry> {
    return this.execute(pair.sq, pair.cq, command);
  }

  /**
   * Run a command that moves data through `buffer`: PRPs and any PRP list pages are built for the
   * buffer's shape, the command is made from them, and the list pages are freed afterwards. No limit
   * is checked here, so tests can exceed MDTS on purpose.
   */
  async transfer(submit: (c: Command) => Promise<CompletionEntry>, makeCommand: (dptr: DataPointer) => Command, buffer: DataBuffer, listOptions: PrpListOptions = {}): Promise<CompletionEntry> {
    const listPages: bigint[] = [];
    try {
      const plan = planPrps(buffer, () => {
        const page = this.memory.alloc(buffer.pageSize, buffer.pageSize);
        listPages.push(page);
        return page;
      }, listOptions);
      for (const list of plan.lists) await this.transport.writeMemory(list.address, encodePrpList(list.entries));
      return await submit(makeCommand({ prp1: plan.prp1, prp2: plan.prp2 }));
    } finally {
      for (const page of listPages) this.memory.release(page);
    }
  }

  allocateBuffer(length: number, shape: BufferShape = {}): DataBuffer {
    return DataBuffer.allocate(this.memory, this.options.pageSize, length, shape);
  }

  /** Largest transfer the controller accepts, in bytes (Infinity when MDTS is 0). */
  get maxTransferBytes(): number {
    if (!this.controller) throw new Error("controller not identified yet: call identifyController() first");
    if (this.controller.mdts === 0) return Infinity;
    return 2 ** this.controller.mdts * this.capabilities.minPageSize;
  }

  async readBlocks(pair: IoQueuePair, ns: { nsid: number; lbaBytes: number }, slba: bigint, blocks: number, shape: BufferShape = {}): Promise<Uint8Array> {
    const buffer = this.allocateBuffer(this.checkTransfer(ns, blocks), shape);
    try {
      await this.checked(this.transfer((c) => this.submitIo(pair, c), (d) => cmd.read({ nsid: ns.nsid, slba, blocks }, d), buffer), `Read of ${blocks} blocks at LBA ${slba}`);
      return await buffer.read(this.transport);
    } finally {
      buffer.release(this.memory);
    }
  }

  async writeBlocks(pair: IoQueuePair, ns: { nsid: number; lbaBytes: number }, slba: bigint, data: Uint8Array, shape: BufferShape = {}): Promise<void> {
    if (data.length === 0 || data.length % ns.lbaBytes !== 0) throw new Error(`write of ${data.length} bytes is not a positive multiple of the ${ns.lbaBytes}-byte block`);
    const blocks = data.length / ns.lbaBytes;
    const buffer = this.allocateBuffer(this.checkTransfer(ns, blocks), shape);
    try {
      await buffer.write(this.transport, data);
      await this.checked(this.transfer((c) => this.submitIo(pair, c), (d) => cmd.write({ nsid: ns.nsid, slba, blocks }, d), buffer), `Write of ${blocks} blocks at LBA ${slba}`);
    } finally {
      buffer.release(this.memory);
    }
  }

  async flush(pair: IoQueuePair, nsid: number): Promise<void> {
    await this.checked(this.submitIo(pair, cmd.flush(nsid)), `Flush of namespace ${nsid}`);
  }

  async writeZeroes(pair: IoQueuePair, nsid: number, slba: bigint, blocks: number): Promise<void> {
    await this.checked(this.submitIo(pair, cmd.writeZeroes({ nsid, slba, blocks })), `Write Zeroes of ${blocks} blocks at LBA ${slba}`);
  }

  /** Dataset Management with the Deallocate attribute over the given ranges. */
  async deallocate(pair: IoQueuePair, nsid: number, ranges: cmd.DsmRange[]): Promise<CompletionEntry> {
    const list = cmd.encodeDsmRanges(ranges);
    const buffer = this.allocateBuffer(list.length);
    try {
      await buffer.write(this.transport, list);
      return await this.transfer((c) => this.submitIo(pair, c), (d) => cmd.datasetManagement(nsid, ranges.length, d, { deallocate: true }), buffer);
    } finally {
      buffer.release(this.memory);
    }
  }

  /** Throw CommandFailedError unless the completion reports success. */
  async checked(completion: Promise<CompletionEntry>, what: string): Promise<CompletionEntry> {
    const c = await completion;
    if (!isSuccess(c.status)) throw new CommandFailedError(what, c);
    return c;
  }

  // ---- internals ----

  private async identify(cns: number, nsid: number): Promise<Uint8Array> {
    const buffer = this.allocateBuffer(IDENTIFY_BYTES);
    try {
      await this.checked(this.transfer((c) => this.submitAdmin(c), (d) => cmd.identify(cns, nsid, d), buffer), `Identify CNS ${cns} NSID ${nsid}`);
      return await buffer.read(this.transport);
    } finally {
      buffer.release(this.memory);
    }
  }

  private checkTransfer(ns: { lbaBytes: number }, blocks: number): number {
    if (!Number.isInteger(blocks) || blocks < 1 || blocks > 0x10000) throw new Error(`block count ${blocks} is outside 1..65536`);
    const bytes = blocks * ns.lbaBytes;
    if (bytes > this.maxTransferBytes) throw new Error(`transfer of ${bytes} bytes exceeds the controller's MDTS limit of ${this.maxTransferBytes} bytes`);
    return bytes;
  }

  private async execute(sq: SubmissionQueue, cq: CompletionQueue, command: Command): Promise<CompletionEntry> {
    const cid = await sq.submit(command);
    const start = this.transport.nowNs();
    for (;;) {
      const entry = this.takeUnclaimed(cq, sq.qid, cid) ?? (await cq.poll());
      if (entry) {
        if (entry.sqId === sq.qid) sq.noteHead(entry.sqHead);
        if (entry.sqId === sq.qid && entry.cid === cid) return entry;
        this.park(cq, entry);
        continue;
      }
      if (this.transport.nowNs() - start > this.options.commandTimeoutNs) {
        throw new Error(`command opcode 0x${command.opcode.toString(16)} (CID ${cid}) on SQ ${sq.qid} got no completion within ${this.options.commandTimeoutNs / 1e6} ms on ${this.transport.name}`);
      }
      await this.transport.wait(this.options.pollIntervalNs);
    }
  }

  private takeUnclaimed(cq: CompletionQueue, sqId: number, cid: number): CompletionEntry | undefined {
    const list = this.unclaimed.get(cq);
    const i = list?.findIndex((e) => e.sqId === sqId && e.cid === cid) ?? -1;
    return i >= 0 ? list!.splice(i, 1)[0] : undefined;
  }

  private park(cq: CompletionQueue, entry: CompletionEntry): void {
    const list = this.unclaimed.get(cq) ?? [];
    list.push(entry);
    this.unclaimed.set(cq, list);
  }

  private async waitForReady(ready: boolean): Promise<void> {
    // Linux allows one CAP.TO unit more than the spec's worst case (PROTOCOL_FACTS H).
    const timeoutNs = (this.capabilities.readyTimeoutMs + 500) * 1e6;
    const start = this.transport.nowNs();
    for (;;) {
      const csts = await this.readCsts();
      if (csts.fatal) throw new Error(`controller fatal status (CSTS.CFS) while waiting for RDY = ${ready ? 1 : 0}`);
      if (csts.ready === ready) return;
      if (this.transport.nowNs() - start > timeoutNs) throw new Error(`CSTS.RDY did not become ${ready ? 1 : 0} within ${timeoutNs / 1e6} ms (CAP.TO)`);
      await this.transport.wait(this.options.pollIntervalNs);
    }
  }

  private async writeRegister64AsHalves(offset: number, value: bigint): Promise<void> {
    await this.writeRegister32(offset, Number(value & 0xffff_ffffn));
    await this.writeRegister32(offset + 4, Number(value >> 32n));
  }
}
