// TLPs the link model cannot carry, poked as raw beats onto m_axis_rx: non-posted requests a root
// port does not serve get an Unsupported Request completion with the request's IDs; reserved types,
// oversized or rule-breaking requests and mis-framed TLPs are counted as malformed and never answered;
// the parser stays in step (the write that follows each one comes out intact).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { BeatDrivenRx, createRxSimulator, emitRxDesign } from "../../../sim/testbench/tlp-rx-harness.ts";
import { randomMemoryWrite, seededRandom } from "../../../sim/testbench/tlp-rx-traffic.ts";
import { type AxisBeat, tlpToBeats } from "../../../sim/pcie/axis-framing.ts";
import { encodeTlp } from "../../../sim/pcie/codec.ts";
import type { MemRequest } from "../../../sim/pcie/tlp.ts";
import { requestedByteRange } from "../../../sim/pcie/tlp-rules.ts";

const params = { maxPayloadBytes: 256, tags: 32, requesterId: 0x0000 };
const UR = 1;

function memRequest(fields: Partial<MemRequest>): MemRequest {
  return { kind: "MRd", tc: 3, attr: 2, ep: false, td: false, requesterId: 0x0100, tag: 0x5a, address: 0x1234_5670n, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, ...fields };
}

/** The wire bytes of `tlp` with header byte 0 (Fmt/Type) replaced. */
function withFmtType(bytes: Uint8Array, fmtType: number): Uint8Array {
  const copy = bytes.slice();
  copy[0] = fmtType;
  return copy;
}

describe.skipIf(!verilatorAvailable())("tlp_rx with unsupported and malformed TLPs (Verilator)", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await createRxSimulator(emitRxDesign(params), "verilator");
  });
  afterAll(() => sim?.close());

  it("answers unsupported non-posted requests with UR, drops malformed ones, and stays in step", () => {
    sim.reset(2);
    const rx = new BeatDrivenRx(sim);
    const random = seededRandom(9);
    /** Every write that must come out whole, in order: each follow-up write and the bad-keep write. */
    const writes: MemRequest[] = [];
    const followWithWrite = () => {
      const write = randomMemoryWrite(random, { ...params, digestShare: 0 });
      writes.push(write);
      rx.queueBeats(tlpToBeats(encodeTlp(write)));
    };
    const send = (beats: AxisBeat[]) => {
      rx.queueBeats(beats);
      followWithWrite();
    };

    // Unsupported: MRdLk (3DW and 4DW), IORd, IOWr, TCfgRd, FetchAdd32.
    const lockedRead = memRequest({ address: 0x1000_0a34n, lengthDw: 3, firstBe: 0b1100, lastBe: 0b0011 });
    const lockedRead64 = memRequest({ address: 0x2_0000_0040n, addr64: true, lengthDw: 1, firstBe: 0b0110, tag: 7 });
    const single = memRequest({ tag: 0x21 });
    const singleWrite = { ...memRequest({ tag: 0x22 }), kind: "MWr" as const, data: new Uint8Array([1, 2, 3, 4]) };
    send(tlpToBeats(withFmtType(encodeTlp(lockedRead), 0x01)));
    send(tlpToBeats(withFmtType(encodeTlp(lockedRead64), 0x21)));
    send(tlpToBeats(withFmtType(encodeTlp(single), 0x02)));
    send(tlpToBeats(withFmtType(encodeTlp(singleWrite), 0x42)));
    send(tlpToBeats(withFmtType(encodeTlp(single), 0x1b)));
    send(tlpToBeats(withFmtType(encodeTlp(singleWrite), 0x4c)));
    // Byte Count corners: 1024 DW with 3 bytes off each end, both ends whole, a zero-length read,
    // and 1 + 2 bytes off across 5 DW.
    const lockedCorners = [
      memRequest({ address: 0x4000_0000n, lengthDw: 1024, firstBe: 0b1000, lastBe: 0b0001, tag: 0x31 }),
      memRequest({ address: 0x4000_0100n, lengthDw: 2, firstBe: 0b1111, lastBe: 0b1111, tag: 0x32 }),
      memRequest({ address: 0x4000_0204n, lengthDw: 1, firstBe: 0, lastBe: 0, tag: 0x33 }),
      memRequest({ address: 0x4000_0308n, lengthDw: 5, firstBe: 0b1110, lastBe: 0b0011, tag: 0x34 }),
    ];
    for (const request of lockedCorners) send(tlpToBeats(withFmtType(encodeTlp(request), 0x01)));
    const expectedUr = [
      { request: lockedRead, memory: true },
      { request: lockedRead64, memory: true },
      { request: single, memory: false },
      { request: singleWrite, memory: false },
      { request: single, memory: false },
      { request: singleWrite, memory: false },
      ...lockedCorners.map((request) => ({ request, memory: true })),
    ].map(({ request, memory }) => {
      const range = requestedByteRange(request);
      return {
        hasData: 0,
        status: UR,
        byteCount: memory ? range.byteCount & 0xfff : 4,
        lowerAddress: memory ? Number(range.firstByteAddress & 0x7fn) : 0,
        lengthDw: 0,
        requesterId: request.requesterId,
        tag: request.tag,
        tc: request.tc,
        attr: request.attr,
      };
    });

    // Malformed: reserved Fmt/Type, over MPS, crossing 4 KiB, bad byte enables, a configuration
    // read of 2 DW, a TLP that ends in its first beat, and a bad tkeep on a middle beat.
    send(tlpToBeats(withFmtType(encodeTlp(single), 0x03)));
    send(tlpToBeats(withFmtType(encodeTlp({ ...singleWrite, addr64: true, address: 0x1_0000_0000n }), 0x7f)));
    send(tlpToBeats(encodeTlp(randomMemoryWrite(random, { ...params, maxPayloadBytes: 512, digestShare: 0 }, 65, 0))));
    send(tlpToBeats(encodeTlp(memRequest({ address: 0x1ff8n, lengthDw: 4, firstBe: 0xf, lastBe: 0xf }), { skipRuleChecks: true })));
    send(tlpToBeats(encodeTlp(memRequest({ lengthDw: 3, firstBe: 0, lastBe: 0xf }), { skipRuleChecks: true })));
    const configRead = withFmtType(encodeTlp(single), 0x04);
    configRead[3] = 2;
    send(tlpToBeats(configRead));
    send([{ ...tlpToBeats(encodeTlp(single))[0], last: true }]);
    // The bad-keep write is counted malformed, but its header and payload had already gone out.
    const fourDwWrite: MemRequest = { ...singleWrite, addr64: true, address: 0x3_0000_0000n, lengthDw: 4, lastBe: 0xf, data: new Uint8Array(16).fill(7) };
    const badKeep = tlpToBeats(encodeTlp(fourDwWrite));
    badKeep[2] = { ...badKeep[2], keep: 0x0f };
    writes.push(fourDwWrite);
    send(badKeep);
    // Crossing 4 KiB, found a cycle after beat 1 while the payload is already arriving: a 3DW and a
    // 4DW write with payload beats, and a locked read (no UR completion for a malformed request).
    const crossingWrite = (address: bigint, addr64: boolean, lengthDw: number) =>
      ({ ...memRequest({ address, addr64, lengthDw, lastBe: 0xf }), kind: "MWr" as const, data: new Uint8Array(lengthDw * 4).fill(0xc5) });
    send(tlpToBeats(encodeTlp(crossingWrite(0x1000_0fe0n, false, 16), { skipRuleChecks: true })));
    send(tlpToBeats(encodeTlp(crossingWrite(0x2_0000_0ff8n, true, 5), { skipRuleChecks: true })));
    send(tlpToBeats(withFmtType(encodeTlp(memRequest({ address: 0x1000_1ffcn, lengthDw: 2, lastBe: 0xf }), { skipRuleChecks: true }), 0x01)));
    const malformedCount = 11;

    rx.runUntilIdle(5000);
    const consumers = rx.consumers;
    expect(consumers.urCompletions.taken).toEqual(expectedUr);
    expect(consumers.memWrites.taken.map((w) => w.address)).toEqual(writes.map((w) => w.address));
    expect(consumers.memWriteData.packets).toEqual(writes.map((w) => w.data));
    expect(consumers.memReads.taken).toEqual([]);
    expect(consumers.completions.taken).toEqual([]);
    expect(consumers.counters()).toEqual({ messages: 0, unsupported: 6 + lockedCorners.length, malformed: malformedCount, poisoned: writes.filter((w) => w.ep).length, unexpected: 0 });
  });

  it("cuts a payload at an early tlast and discards beats past the announced end, counting both", () => {
    sim.reset(2);
    const rx = new BeatDrivenRx(sim);
    const random = seededRandom(4);
    const short = randomMemoryWrite(random, { ...params, digestShare: 0 }, 6, 0);
    short.addr64 = false;
    short.address &= 0xffff_ffffn;
    short.ep = false;
    const shortBeats = tlpToBeats(encodeTlp(short)).slice(0, 3);
    shortBeats[2] = { ...shortBeats[2], last: true };
    const long = { ...short, lengthDw: 2, lastBe: 0xf, data: short.data!.slice(0, 8) };
    const longBeats = tlpToBeats(encodeTlp(long));
    longBeats[2] = { ...longBeats[2], keep: 0xff, last: false };
    longBeats.push({ lo: 0xdead, hi: 0xbeef, keep: 0xff, last: true, user: 0 });
    const after = randomMemoryWrite(random, { ...params, digestShare: 0 });
    rx.queueBeats([...shortBeats, ...longBeats, ...tlpToBeats(encodeTlp(after))]);
    rx.runUntilIdle(2000);
    const consumers = rx.consumers;
    expect(consumers.memWrites.taken.map((w) => w.lengthDw)).toEqual([6, 2, after.lengthDw & 0x3ff]);
    expect(consumers.memWriteData.packets).toEqual([short.data!.slice(0, 8), long.data, after.data]);
    expect(consumers.counters().malformed).toBe(2);
  });
});
