// Benchmark of the SSD model alone: a minimal host drives it over an idealised Gen2 x4 link (each
// direction carries 8 bytes of TLP per 250 MHz cycle, plus 8 bytes of framing per TLP) and measures
// QD1 latency and queue-depth throughput for the timing presets. Run: npx tsx sim/bench/nvme-ssd.ts

import type { Completion, Tlp } from "../pcie/tlp.ts";
import { HostMemory, HostMemoryResponder } from "../nvme/host-memory-responder.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import { decodeCompletionEntry, encodeSubmissionEntry } from "../nvme/submission-entry.ts";
import type { SubmissionEntry } from "../nvme/submission-entry.ts";
import { CYCLES_PER_US } from "../nvme/timing.ts";

const BAR0 = 0xfe000000n;
const ASQ = 0x10000n;
const ACQ = 0x20000n;
const IOSQ = 0x30000n;
const IOCQ = 0x40000n;
const BUFFERS = 0x1000000n;
const HOST_LATENCY = 150; // cycles from MRd arrival to the first CplD (600 ns)

function wireBytes(tlp: Tlp): number {
  const header = tlp.kind === "MRd" || tlp.kind === "MWr" ? (tlp.addr64 ? 16 : 12) : tlp.kind.startsWith("Msg") ? 16 : 12;
  return 8 + header + (tlp.data?.length ?? 0);
}

function entry(fields: Partial<SubmissionEntry> & { opcode: number }): SubmissionEntry {
  return { fuse: 0, psdt: 0, cid: 0, nsid: 0, mptr: 0n, prp1: 0n, prp2: 0n, cdw10: 0, cdw11: 0, cdw12: 0, cdw13: 0, cdw14: 0, cdw15: 0, ...fields };
}

class BenchHost {
  readonly memory = new HostMemory();
  readonly responder: HostMemoryResponder;
  cycle = 0;
  private downstream: { cycle: number; tlp: Tlp }[] = [];
  private downFree = 0;
  private upFree = 0;
  private answers = new Map<number, Completion>();
  private tag = 0;
  readonly completions: { cid: number; status: number; cycle: number }[] = [];
  private cqHead = new Map<number, { head: number; phase: number; depth: number; base: bigint }>();
  upBytes = 0;
  downBytes = 0;

  constructor(readonly ssd: NvmeSsd) {
    this.responder = new HostMemoryResponder(this.memory, { maxPayloadBytes: 256, splitBytes: 256 });
    this.responder.onWrite = (address, data) => this.watchCompletions(address, data);
  }

  private watchCompletions(address: bigint, data: Uint8Array): void {
    for (const [qid, q] of this.cqHead) {
      if (address < q.base || address >= q.base + BigInt(q.depth * 16)) continue;
      for (let off = 0; off + 16 <= data.length; off += 16) {
        const c = decodeCompletionEntry(data.subarray(off, off + 16));
        if (c.phase !== q.phase) continue;
        this.completions.push({ cid: c.cid, status: c.statusField & 0x7ff, cycle: this.cycle });
        q.head = (q.head + 1) % q.depth;
        if (q.head === 0) q.phase ^= 1;
        this.mmioWrite(0x1000 + 8 * qid + 4, q.head);
      }
    }
  }

  private sendDown(tlp: Tlp, earliest = this.cycle): void {
    const start = Math.max(earliest, this.downFree);
    this.downFree = start + Math.ceil(wireBytes(tlp) / 8);
    this.downBytes += wireBytes(tlp);
    this.downstream.push({ cycle: this.downFree, tlp });
    this.downstream.sort((a, b) => a.cycle - b.cycle);
  }

  mmioWrite(offset: number, value: number): void {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    this.sendDown({ kind: "MWr", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: 0, address: BAR0 + BigInt(offset), addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, data });
  }

  private request(tlp: Tlp & { tag: number }): Completion {
    this.answers.delete(tlp.tag);
    this.sendDown(tlp);
    this.runUntil(() => this.answers.has(tlp.tag));
    return this.answers.get(tlp.tag)!;
  }

  mmioRead(offset: number): number {
    const c = this.request({ kind: "MRd", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: this.tag++ & 0xff, address: BAR0 + BigInt(offset), addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 });
    return new DataView(c.data!.buffer).getUint32(0, true);
  }

  cfgWrite(register: number, value: number): void {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    this.request({ kind: "CfgWr0", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: this.tag++ & 0xff, bus: 1, device: 0, fn: 0, register, firstBe: 0xf, data });
  }

  runUntil(done: () => boolean, limit = 2_000_000_000): void {
    while (!done()) {
      while (this.downstream.length > 0 && this.downstream[0].cycle <= this.cycle) this.ssd.receive(this.downstream.shift()!.tlp, this.cycle);
      if (this.upFree <= this.cycle) {
        const tlp = this.ssd.nextUpstream(this.cycle);
        if (tlp) {
          this.upBytes += wireBytes(tlp);
          this.upFree = this.cycle + Math.ceil(wireBytes(tlp) / 8);
          if (tlp.kind === "Cpl" || tlp.kind === "CplD") this.answers.set(tlp.tag, tlp);
          else for (const cpl of this.responder.handle(tlp)) this.sendDown(cpl, this.upFree + HOST_LATENCY);
          continue;
        }
      }
      const next = [this.downstream[0]?.cycle, this.ssd.nextEventCycle(), this.upFree > this.cycle ? this.upFree : undefined].filter((c): c is number => c !== undefined);
      if (next.length === 0) throw new Error(`idle at cycle ${this.cycle}`);
      this.cycle = Math.max(this.cycle + 1, Math.min(...next));
      if (this.cycle > limit) throw new Error("bench did not finish");
    }
  }

  private sqTail = new Map<number, number>();
  submit(qid: number, base: bigint, depth: number, e: SubmissionEntry): void {
    const tail = this.sqTail.get(qid) ?? 0;
    this.memory.write(base + BigInt(tail * 64), encodeSubmissionEntry(e));
    this.sqTail.set(qid, (tail + 1) % depth);
    this.mmioWrite(0x1000 + 8 * qid, (tail + 1) % depth);
  }

  bringUp(depth: number): void {
    this.cfgWrite(0x10, Number(BAR0));
    this.cfgWrite(0x14, 0);
    this.cfgWrite(0x48, 0x2810 | (1 << 5) | (2 << 12)); // MPS 256, MRRS 512
    this.cfgWrite(0x04, 0x0406);
    this.mmioWrite(0x24, (15 << 16) | 15);
    this.mmioWrite(0x28, Number(ASQ));
    this.mmioWrite(0x30, Number(ACQ));
    this.mmioWrite(0x14, 0x00460001);
    this.runUntil(() => (this.mmioRead(0x1c) & 1) === 1);
    this.cqHead.set(0, { head: 0, phase: 1, depth: 16, base: ACQ });
    const admin = (e: SubmissionEntry) => {
      const n = this.completions.length;
      this.submit(0, ASQ, 16, e);
      this.runUntil(() => this.completions.length > n);
    };
    admin(entry({ opcode: 0x05, cid: 1, prp1: IOCQ, cdw10: 1 | ((depth - 1) << 16), cdw11: 1 }));
    admin(entry({ opcode: 0x01, cid: 2, prp1: IOSQ, cdw10: 1 | ((depth - 1) << 16), cdw11: 1 | (1 << 16) }));
    this.cqHead.set(1, { head: 0, phase: 1, depth, base: IOCQ });
    this.completions.length = 0;
  }
}

interface Result {
  iops: number;
  mbps: number;
  meanLatencyUs: number;
}

function run(preset: "fastSsd" | "consumerSsd", opcode: 1 | 2, blockBytes: number, queueDepth: number, commands: number): Result {
  const capacityBlocks = 1 << 24;
  const ssd = new NvmeSsd({ timing: preset, namespaces: [{ lbaSize: 512, capacityBlocks }], mdts: 0 });
  const host = new BenchHost(ssd);
  const sqDepth = Math.max(queueDepth + 1, 8);
  host.bringUp(sqDepth);
  const pages = blockBytes / 4096;
  const submittedAt = new Map<number, number>();
  let issued = 0;
  let seed = 12345;
  const issue = () => {
    const cid = issued % 60000;
    const slot = issued % queueDepth;
    const buffer = BUFFERS + BigInt(slot) * BigInt(blockBytes + 4096);
    const list = 0x8000000n + BigInt(slot) * 4096n;
    for (let p = 1; p < pages; p++) host.memory.writeU64(list + BigInt((p - 1) * 8), buffer + BigInt(p) * 4096n);
    seed = (seed * 1103515245 + 12345) >>> 0;
    const lba = (seed % (capacityBlocks / (blockBytes / 512))) * (blockBytes / 512);
    const prp2 = pages === 2 ? buffer + 4096n : pages > 2 ? list : 0n;
    submittedAt.set(cid, host.cycle);
    host.submit(1, IOSQ, sqDepth, entry({ opcode, cid, nsid: 1, prp1: buffer, prp2, cdw10: lba, cdw12: blockBytes / 512 - 1 }));
    issued++;
  };
  for (let i = 0; i < queueDepth; i++) issue();
  const start = host.cycle;
  let latencySum = 0;
  let seen = 0;
  host.runUntil(() => {
    while (seen < host.completions.length) {
      const c = host.completions[seen++];
      if (c.status !== 0) throw new Error(`command ${c.cid} failed with status 0x${c.status.toString(16)}`);
      latencySum += c.cycle - submittedAt.get(c.cid)!;
      if (issued < commands) issue();
    }
    return seen >= commands;
  });
  const seconds = (host.cycle - start) / (CYCLES_PER_US * 1e6);
  return { iops: commands / seconds, mbps: (commands * blockBytes) / seconds / 1e6, meanLatencyUs: latencySum / seen / CYCLES_PER_US };
}

const cases: [string, 1 | 2, number, number, number][] = [
  ["4 KiB read  QD1 ", 2, 4096, 1, 300],
  ["4 KiB read  QD32", 2, 4096, 32, 4000],
  ["4 KiB write QD32", 1, 4096, 32, 4000],
  ["128 KiB read  QD8", 2, 131072, 8, 300],
  ["128 KiB write QD8", 1, 131072, 8, 300],
];

const started = Date.now();
for (const preset of ["fastSsd", "consumerSsd"] as const) {
  console.log(`${preset}:`);
  for (const [name, opcode, bytes, qd, n] of cases) {
    const r = run(preset, opcode, bytes, qd, n);
    console.log(`  ${name}  ${(r.iops / 1000).toFixed(1).padStart(7)} kIOPS  ${r.mbps.toFixed(0).padStart(5)} MB/s  mean latency ${r.meanLatencyUs.toFixed(1).padStart(7)} us`);
  }
}
console.log(`(wall time ${((Date.now() - started) / 1000).toFixed(1)} s)`);
