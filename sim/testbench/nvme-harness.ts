// A tiny in-test host for the SSD model: it drives config and MMIO TLPs, answers the SSD's DMA from a
// sparse host memory (sim/nvme/host-memory-responder.ts), and moves time forward by the TLPs' size on a
// 64-bit/250 MHz bus, jumping over idle stretches. Not a test file itself.

import { randomBytes } from "../random.ts";
import type { Completion, ConfigRequest, MemRequest, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";
import { HostMemory, HostMemoryResponder } from "../nvme/host-memory-responder.ts";
import type { ResponderOptions } from "../nvme/host-memory-responder.ts";
import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import type { SubmissionEntry } from "../nvme/submission-entry.ts";
import { statusFromField } from "../nvme/status.ts";
import { decodeCompletionEntry, encodeSubmissionEntry } from "../nvme/submission-entry.ts";

export const BAR0 = 0xfe000000n;
export const ASQ = 0x10000n;
export const ACQ = 0x20000n;
export const IOSQ = 0x30000n;
export const IOCQ = 0x40000n;
export const DATA = 0x100000n;

export interface SentTlp {
  cycle: number;
  tlp: Tlp;
}

export function sqe(fields: Partial<SubmissionEntry> & { opcode: number }): SubmissionEntry {
  return {
    fuse: 0,
    psdt: 0,
    cid: 0,
    nsid: 0,
    mptr: 0n,
    prp1: 0n,
    prp2: 0n,
    cdw10: 0,
    cdw11: 0,
    cdw12: 0,
    cdw13: 0,
    cdw14: 0,
    cdw15: 0,
    ...fields,
  };
}

export interface Cqe {
  dw0: number;
  sqHead: number;
  sqid: number;
  cid: number;
  phase: number;
  statusField: number;
  /** SCT << 8 | SC. */
  code: number;
  dnr: boolean;
}

interface QueueState {
  sqBase: bigint;
  cqBase: bigint;
  depth: number;
  tail: number;
  head: number;
  phase: number;
}

export class TestHost {
  readonly ssd: NvmeSsd;
  readonly memory = new HostMemory();
  readonly responder: HostMemoryResponder;
  cycle = 0;
  /** Every TLP the SSD sent, in order. */
  readonly upstream: SentTlp[] = [];
  /** Host memory read latency, cycles from MRd to its first CplD. */
  readLatency = 100;
  private deliveries: { cycle: number; tlp: Tlp }[] = [];
  private answers = new Map<number, Completion[]>();
  private nextTag = 0;
  private queues = new Map<number, QueueState>();
  private nextCid = 1;

  constructor(options: Partial<SsdOptions> = {}, responder: Partial<ResponderOptions> = {}) {
    this.ssd = new NvmeSsd({ timing: "instant", ...options });
    this.responder = new HostMemoryResponder(this.memory, responder);
  }

  // ---- time ------------------------------------------------------------------------------------

  /** Move the simulation until `done()` holds (checked after every TLP and event), or throw after `limit` cycles. */
  runUntil(done: () => boolean, limit = 5_000_000): void {
    const stop = this.cycle + limit;
    for (;;) {
      if (done()) return;
      const next = this.step();
      if (next === undefined) {
        if (done()) return;
        throw new Error(`simulation idle at cycle ${this.cycle} before the awaited condition`);
      }
      this.cycle = next;
      if (this.cycle > stop) throw new Error(`condition not reached within ${limit} cycles`);
    }
  }

  /** Run until nothing is left to do (no TLP, no event) or `limit` cycles pass. */
  settle(limit = 5_000_000): void {
    const stop = this.cycle + limit;
    for (;;) {
      const next = this.step();
      if (next === undefined || next > stop) return;
      this.cycle = next;
    }
  }

  /** Let `cycles` of simulated time pass, running whatever falls due (a background sanitize, say). */
  wait(cycles: number): void {
    const until = this.cycle + cycles;
    for (;;) {
      const next = this.step();
      if (next === undefined || next > until) break;
      this.cycle = next;
    }
    this.cycle = Math.max(this.cycle, until);
    this.ssd.advance(this.cycle);
  }

  /**
   * Delivers what is due and moves one upstream TLP if the SSD has one (returning the current
   * cycle); otherwise returns the cycle of the next delivery or SSD event, or undefined when idle.
   */
  private step(): number | undefined {
    this.deliverDue();
    const tlp = this.ssd.nextUpstream(this.cycle);
    if (tlp) {
      this.upstream.push({ cycle: this.cycle, tlp });
      this.route(tlp);
      this.cycle += busCycles(tlp);
      return this.cycle;
    }
    const delivery = this.deliveries[0]?.cycle;
    const event = this.ssd.nextEventCycle();
    if (delivery === undefined && event === undefined) return undefined;
    const earliest = Math.min(delivery ?? Infinity, event ?? Infinity);
    return Math.max(this.cycle + 1, earliest);
  }

  /** Deliver a TLP to the SSD now. */
  send(tlp: Tlp): void {
    this.ssd.receive(tlp, this.cycle);
  }

  private deliverDue(): void {
    while (this.deliveries.length > 0 && this.deliveries[0].cycle <= this.cycle) {
      this.ssd.receive(this.deliveries.shift()!.tlp, this.cycle);
    }
  }

  private route(tlp: Tlp): void {
    if (tlp.kind === "Cpl" || tlp.kind === "CplD") {
      const list = this.answers.get(tlp.tag) ?? [];
      list.push(tlp);
      this.answers.set(tlp.tag, list);
      return;
    }
    let at = this.cycle + this.readLatency;
    for (const cpl of this.responder.handle(tlp)) {
      this.deliveries.push({ cycle: at, tlp: cpl });
      at += busCycles(cpl);
    }
    this.deliveries.sort((a, b) => a.cycle - b.cycle);
  }

  // ---- requests the host makes -----------------------------------------------------------------

  private tag(): number {
    const t = this.nextTag;
    this.nextTag = (this.nextTag + 1) & 0xff;
    this.answers.delete(t);
    return t;
  }

  /** Send a non-posted request and wait for its (first) completion. */
  request(tlp: MemRequest | ConfigRequest): Completion {
    this.answers.delete(tlp.tag);
    this.send(tlp);
    this.runUntil(() => (this.answers.get(tlp.tag)?.length ?? 0) > 0);
    return this.answers.get(tlp.tag)![0];
  }

  /** All completions received for a tag so far. */
  completionsFor(tag: number): Completion[] {
    return this.answers.get(tag) ?? [];
  }

  cfgRequest(kind: "CfgRd0" | "CfgWr0", register: number, value = 0, firstBe = 0xf, fn = 0): Completion {
    const tlp: ConfigRequest = {
      kind, tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: this.tag(), bus: 1, device: 0, fn, register, firstBe,
      ...(kind === "CfgWr0" ? { data: le32(value) } : {}),
    };
    return this.request(tlp);
  }

  cfgRead(register: number): number {
    const c = this.cfgRequest("CfgRd0", register);
    if (c.status !== CplStatus.SC) throw new Error(`config read 0x${register.toString(16)} completed with status ${c.status}`);
    return u32(c.data!);
  }

  cfgWrite(register: number, value: number, firstBe = 0xf): void {
    const c = this.cfgRequest("CfgWr0", register, value, firstBe);
    if (c.status !== CplStatus.SC) throw new Error(`config write 0x${register.toString(16)} completed with status ${c.status}`);
  }

  memRead(address: bigint, lengthDw = 1, firstBe = 0xf, lastBe = 0): Completion {
    return this.request({ kind: "MRd", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: this.tag(), address, addr64: false, lengthDw, firstBe, lastBe });
  }

  mmioRead32(offset: number): number {
    const c = this.memRead(BAR0 + BigInt(offset));
    if (c.status !== CplStatus.SC) throw new Error(`MMIO read 0x${offset.toString(16)} completed with status ${c.status}`);
    return u32(c.data!);
  }

  memWrite(address: bigint, data: Uint8Array, firstBe = 0xf, lastBe?: number): void {
    const lengthDw = data.length / 4;
    this.send({ kind: "MWr", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: 0, address, addr64: false, lengthDw, firstBe, lastBe: lastBe ?? (lengthDw > 1 ? 0xf : 0), data });
  }

  mmioWrite32(offset: number, value: number): void {
    this.memWrite(BAR0 + BigInt(offset), le32(value));
  }

  mmioWrite64(offset: number, value: bigint): void {
    this.mmioWrite32(offset, Number(value & 0xffffffffn));
    this.mmioWrite32(offset + 4, Number(value >> 32n));
  }

  // ---- bring-up ----------------------------------------------------------------------------------

  /** Assign BAR0, enable memory and bus mastering, and set MPS/MRRS. */
  enumerate(mps = 128, mrrs = 512): void {
    this.cfgWrite(0x10, Number(BAR0 & 0xffffffffn));
    this.cfgWrite(0x14, 0);
    const devCtl = this.cfgRead(0x48) & 0xffff;
    const code = (n: number) => Math.log2(n) - 7;
    const next = (devCtl & ~((7 << 5) | (7 << 12))) | (code(mps) << 5) | (code(mrrs) << 12);
    this.cfgWrite(0x48, next, 0b0011);
    this.cfgWrite(0x04, 0x0006 | (1 << 10), 0b0011);
  }

  /** Program the admin queues and CC, wait for CSTS.RDY. */
  enable(adminDepth = 16, cc = 0x00460001): void {
    this.memory.fill(ACQ, adminDepth * 16);
    this.mmioWrite32(0x24, ((adminDepth - 1) << 16) | (adminDepth - 1));
    this.mmioWrite64(0x28, ASQ);
    this.mmioWrite64(0x30, ACQ);
    this.mmioWrite32(0x14, cc);
    this.runUntil(() => (this.mmioRead32(0x1c) & 1) === 1);
    this.attachQueue(0, ASQ, ACQ, adminDepth);
  }

  bringUp(options: { mps?: number; mrrs?: number; ioDepth?: number } = {}): void {
    this.enumerate(options.mps ?? 128, options.mrrs ?? 512);
    this.enable();
    const depth = options.ioDepth ?? 64;
    this.memory.fill(IOCQ, depth * 16);
    expectOk(this.admin(sqe({ opcode: 0x05, prp1: IOCQ, cdw10: 1 | ((depth - 1) << 16), cdw11: 1 })), "create I/O CQ");
    expectOk(this.admin(sqe({ opcode: 0x01, prp1: IOSQ, cdw10: 1 | ((depth - 1) << 16), cdw11: 1 | (1 << 16) })), "create I/O SQ");
    this.attachQueue(1, IOSQ, IOCQ, depth);
  }

  /** Tell the host side about a queue pair created by hand. */
  attachQueue(qid: number, sqBase: bigint, cqBase: bigint, depth: number): void {
    this.queues.set(qid, { sqBase, cqBase, depth, tail: 0, head: 0, phase: 1 });
  }

  // ---- commands ----------------------------------------------------------------------------------

  /** Put an entry in SQ `qid` and ring its tail doorbell; returns the CID used. */
  submit(qid: number, entry: SubmissionEntry, ring = true): number {
    const q = this.queues.get(qid)!;
    const cid = entry.cid || this.nextCid++ & 0xffff;
    this.memory.write(q.sqBase + BigInt(q.tail * 64), encodeSubmissionEntry({ ...entry, cid }));
    q.tail = (q.tail + 1) % q.depth;
    if (ring) this.ringSq(qid);
    return cid;
  }

  ringSq(qid: number): void {
    this.mmioWrite32(this.doorbell(qid, false), this.queues.get(qid)!.tail);
  }

  /** BAR0 offset of a doorbell, honouring CAP.DSTRD. */
  doorbell(qid: number, completion: boolean): number {
    return 0x1000 + (2 * qid + (completion ? 1 : 0)) * (4 << this.ssd.options.dstrd);
  }

  /** The next completion on CQ `qid` if one has been posted. */
  peekCompletion(qid: number): Cqe | undefined {
    const q = this.queues.get(qid)!;
    const raw = decodeCompletionEntry(this.memory.read(q.cqBase + BigInt(q.head * 16), 16));
    if (raw.phase !== q.phase) return undefined;
    const status = statusFromField(raw.statusField);
    return { ...raw, code: (status.sct << 8) | status.sc, dnr: status.dnr };
  }

  /** Wait for, consume and acknowledge (head doorbell) the next completion on CQ `qid`. */
  reap(qid: number, limit?: number): Cqe {
    this.runUntil(() => this.peekCompletion(qid) !== undefined, limit);
    const cqe = this.peekCompletion(qid)!;
    const q = this.queues.get(qid)!;
    q.head = (q.head + 1) % q.depth;
    if (q.head === 0) q.phase ^= 1;
    this.mmioWrite32(this.doorbell(qid, true), q.head);
    return cqe;
  }

  admin(entry: SubmissionEntry): Cqe {
    this.submit(0, entry);
    return this.reap(0);
  }

  io(entry: SubmissionEntry): Cqe {
    this.submit(1, entry);
    return this.reap(1);
  }

  /** Upstream TLPs of one kind sent after index `from`. */
  sent(kind: Tlp["kind"], from = 0): Tlp[] {
    return this.upstream.slice(from).map((s) => s.tlp).filter((t) => t.kind === kind);
  }
}

export function expectOk(cqe: Cqe, what: string): Cqe {
  if (cqe.code !== 0) throw new Error(`${what} failed with status 0x${cqe.code.toString(16)}`);
  return cqe;
}

export function le32(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff]);
}

export function u32(b: Uint8Array): number {
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** Cycles a TLP occupies on the 64-bit user bus: header plus payload, 8 bytes per cycle. */
export function busCycles(tlp: Tlp): number {
  const header = tlp.kind === "MRd" || tlp.kind === "MWr" ? (tlp.addr64 ? 16 : 12) : tlp.kind.startsWith("Msg") ? 16 : 12;
  return Math.ceil((header + (tlp.data?.length ?? 0)) / 8);
}

export function pattern(length: number, seed: number): Uint8Array {
  return randomBytes(length, seed);
}

/** Byte-wise equality that stays fast for megabyte buffers (vitest's deep equality does not). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
