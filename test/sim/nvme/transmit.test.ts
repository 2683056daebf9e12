// The SSD's transmit queue: posted TLPs are built a few at a time, so the SSD's own fetches do not wait
// behind a whole command's data (the "convoy"), while posted writes keep their order.
import { describe, expect, it } from "vitest";
import { TransmitQueue } from "../../../sim/nvme/transmit.ts";
import { DATA, expectOk, IOSQ, pattern, sameBytes, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";
import type { MemRequest, Tlp } from "../../../sim/pcie/tlp.ts";

const W = 0x01;
const R = 0x02;
const BLOCK = 512;
const BLOCKS = 256; // 128 KiB
const PRP_LIST = 0x7000000n;
const WRITE_PRP_LIST = 0x7100000n;
const READ_BUF = 0x10000000n;

function rw(opcode: number, slba: number, blocks: number, prp1: bigint, prp2 = 0n) {
  return sqe({ opcode, nsid: 1, prp1, prp2, cdw10: slba, cdw11: 0, cdw12: blocks - 1 });
}

/** Every block different, so a TLP's payload tells which block it carries. */
function distinctBlocks(): Uint8Array {
  const data = new Uint8Array(BLOCKS * BLOCK);
  for (let b = 0; b < BLOCKS; b++) data.set(pattern(BLOCK, 1000 + b), b * BLOCK);
  return data;
}

function marker(id: number): Tlp {
  return { kind: "Msg", tc: 0, attr: 0, ep: false, td: false, routing: 0b100, requesterId: 0, tag: id, messageCode: 0x20, headerTail: new Uint8Array(8), lengthDw: 0 };
}

function* posted(ids: number[]): Generator<Tlp, void, void> {
  for (const id of ids) yield marker(id);
}

describe("SSD transmit queue", () => {
  it("builds posted TLPs only up to the bound, in job order, and lets requests pass the unbuilt ones", () => {
    const q = new TransmitQueue(2);
    q.post(posted([1, 2, 3]));
    q.post(posted([4, 5]));
    expect(q.length).toBe(2);
    q.send(marker(100));
    const out: number[] = [];
    for (let t = q.shift(); t; t = q.shift()) out.push(t.tag);
    // 100 passes 3..5 (not built when it came) but not 1 and 2.
    expect(out).toEqual([1, 2, 100, 3, 4, 5]);
    expect(q.empty).toBe(true);
  });

  it("with no bound builds every posted TLP at once (the old single FIFO)", () => {
    const q = new TransmitQueue(0);
    q.post(posted([1, 2, 3]));
    q.send(marker(100));
    expect(q.length).toBe(4);
    const out: number[] = [];
    for (let t = q.shift(); t; t = q.shift()) out.push(t.tag);
    expect(out).toEqual([1, 2, 3, 100]);
  });

  it("drops unbuilt jobs on clear", () => {
    const q = new TransmitQueue(1);
    q.post(posted([1, 2, 3]));
    q.clear();
    expect(q.empty).toBe(true);
    expect(q.shift()).toBeUndefined();
  });
});

/** A host with I/O queues and PRP lists for 128 KiB at DATA and READ_BUF (one buffer each: the data's place is easy to check). */
function host(transmitLookaheadTlps: number): TestHost {
  const h = new TestHost({ transmitLookaheadTlps });
  h.bringUp();
  for (let p = 1; p < 32; p++) {
    h.memory.writeU64(PRP_LIST + BigInt((p - 1) * 8), READ_BUF + BigInt(p) * 4096n);
    h.memory.writeU64(WRITE_PRP_LIST + BigInt((p - 1) * 8), DATA + BigInt(p) * 4096n);
  }
  return h;
}

describe("SSD transmit look-ahead", () => {
  /**
   * A 128 KiB read (1024 MWr of 128 B) is under way when the host rings the SQ doorbell for another
   * command. Returns where that command's SQ entry fetch left among the first read's data.
   */
  function fetchDuringLargeRead(transmitLookaheadTlps: number) {
    const h = host(transmitLookaheadTlps);
    const data = distinctBlocks();
    h.memory.write(DATA, data);
    expectOk(h.io(rw(W, 0, BLOCKS, DATA, WRITE_PRP_LIST)), "write 128 KiB");

    const mark = h.upstream.length;
    h.submit(1, rw(R, 0, BLOCKS, READ_BUF, PRP_LIST));
    const isReadData = (t: Tlp) => t.kind === "MWr" && t.address >= READ_BUF && t.address < READ_BUF + BigInt(data.length);
    h.runUntil(() => h.upstream.slice(mark).some((s) => isReadData(s.tlp)));
    // The second command's SQ entry: the slot after the read's.
    const secondSlot = IOSQ + 64n * 2n;
    h.submit(1, rw(R, 0, 8, READ_BUF + 0x100000n));
    const first = h.reap(1);
    const second = h.reap(1);
    expectOk(first, "128 KiB read");
    expectOk(second, "4 KiB read");
    expect(sameBytes(h.memory.read(READ_BUF, data.length), data)).toBe(true);
    expect(sameBytes(h.memory.read(READ_BUF + 0x100000n, 4096), data.subarray(0, 4096))).toBe(true);

    const sent = h.upstream.slice(mark).map((s) => s.tlp);
    const fetch = sent.findIndex((t) => t.kind === "MRd" && t.address === secondSlot);
    expect(fetch).toBeGreaterThanOrEqual(0);
    const dataIndexes = sent.flatMap((t, i) => (isReadData(t) ? [i] : []));
    expect(dataIndexes.length).toBe(data.length / 128);
    // Each MWr carries the bytes of the block it is addressed to, whenever it was built.
    for (const i of dataIndexes) {
      const t = sent[i] as MemRequest;
      const offset = Number(t.address - READ_BUF);
      expect(sameBytes(t.data!, data.subarray(offset, offset + t.data!.length))).toBe(true);
    }
    // Posted order: the read's CQE (the first CQ entry written after mark) follows all its data.
    const cqe = sent.findIndex((t) => t.kind === "MWr" && t.address >= 0x40000n && t.address < 0x50000n);
    expect(cqe).toBeGreaterThan(dataIndexes[dataIndexes.length - 1]);
    return { dataBefore: dataIndexes.filter((i) => i < fetch).length, dataTotal: dataIndexes.length };
  }

  it("sends another command's SQ fetch before most of a queued 128 KiB read's data", () => {
    const { dataBefore, dataTotal } = fetchDuringLargeRead(4);
    expect(dataTotal).toBe(1024);
    // The doorbell came after the first data TLP: the fetch waits for the few TLPs already built.
    expect(dataBefore).toBeLessThanOrEqual(8);
  });

  it("without a bound, the SQ fetch waits behind all of the read's data (the convoy)", () => {
    const { dataBefore, dataTotal } = fetchDuringLargeRead(0);
    expect(dataBefore).toBe(dataTotal);
  });

  it("drops posted TLPs not yet built on a conventional reset", () => {
    const h = host(2);
    h.submit(1, rw(R, 0, BLOCKS, READ_BUF, PRP_LIST));
    h.runUntil(() => h.ssd.postedJobsWaiting > 0);
    expect(h.ssd.upstreamDepth).toBeGreaterThanOrEqual(2);
    h.ssd.reset(h.cycle);
    expect(h.ssd.postedJobsWaiting).toBe(0);
    expect(h.ssd.upstreamDepth).toBe(0);
    expect(h.ssd.nextUpstream(h.cycle)).toBeUndefined();
  });

  it("stops building a write's TLPs once bus mastering is cleared", () => {
    const h = host(2);
    h.submit(1, rw(R, 0, BLOCKS, READ_BUF, PRP_LIST));
    h.runUntil(() => h.ssd.postedJobsWaiting > 0);
    const written = h.ssd.controller.dma.counters.writeRequests;
    h.cfgWrite(0x04, 0x0002, 0b0011); // memory space on, bus master off
    h.settle();
    // At most the two TLPs already built (and the config completion's wait) went out.
    expect(h.ssd.controller.dma.counters.writeRequests - written).toBeLessThanOrEqual(2);
    expect(h.ssd.log.inCategory("dma-error").some((e) => /bus master enable cleared/.test(e.reason))).toBe(true);
  });
});
