import { describe, expect, it } from "vitest";
import { announcedDw, beatsFor, DeframeStatus, KEEP_BOTH, KEEP_LOW, TlpDeframer, tlpToBeats, type AxisBeat } from "../../../sim/pcie/axis-framing.ts";
import { encodeTlp } from "../../../sim/pcie/codec.ts";
import { randomTlp, seededRandom } from "../../../sim/testbench/random-tlp.ts";
import { CplStatus, type MemRequest } from "../../../sim/pcie/tlp.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

function beat(hi: number, lo: number, keep: number, last: boolean): AxisBeat {
  return { lo: lo >>> 0, hi: hi >>> 0, keep, last, user: 0 };
}

function deframe(beats: AxisBeat[]): { status: number; deframer: TlpDeframer } {
  const deframer = new TlpDeframer();
  let status: number = DeframeStatus.pending;
  for (const b of beats) status = deframer.push(b.lo, b.hi, b.keep, b.last, b.user);
  return { status, deframer };
}

/** Payload DW i as the bus shows it: wire bytes 4i..4i+3 with byte 0 in [31:24]. */
function payloadDw(data: Uint8Array, i: number): number {
  return ((data[4 * i] << 24) | (data[4 * i + 1] << 16) | (data[4 * i + 2] << 8) | data[4 * i + 3]) >>> 0;
}

function memWrite(lengthDw: number, addr64: boolean): MemRequest {
  const data = new Uint8Array(lengthDw * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + lengthDw) & 0xff;
  return {
    kind: "MWr", ...plain, requesterId: 0x0100, tag: 0, address: addr64 ? 0x1_0000_0000n : 0x8000_0000n, addr64,
    lengthDw, firstBe: 0xf, lastBe: lengthDw === 1 ? 0 : 0xf, data,
  };
}

describe("7-series 64-bit beat layout: the worked examples of §A.4", () => {
  it("MWr32 CC <- 0x0046_0001 at BAR0+0x14", () => {
    const tlp: MemRequest = { kind: "MWr", ...plain, requesterId: 0, tag: 0, address: 0xe000_0014n, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, data: new Uint8Array([0x01, 0x00, 0x46, 0x00]) };
    expect(tlpToBeats(encodeTlp(tlp))).toEqual([beat(0x0000000f, 0x40000001, KEEP_BOTH, false), beat(0x01004600, 0xe0000014, KEEP_BOTH, true)]);
  });

  it("MRd32 CSTS at BAR0+0x1C, tag 1 ends with tkeep 0x0F", () => {
    const tlp: MemRequest = { kind: "MRd", ...plain, requesterId: 0, tag: 1, address: 0xe000_001cn, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 };
    expect(tlpToBeats(encodeTlp(tlp))).toEqual([beat(0x0000010f, 0x00000001, KEEP_BOTH, false), beat(0, 0xe000001c, KEEP_LOW, true)]);
  });

  it("its CplD with CSTS = 1", () => {
    const bytes = encodeTlp({ kind: "CplD", ...plain, completerId: 0x0100, status: CplStatus.SC, bcm: false, byteCount: 4, requesterId: 0, tag: 1, lowerAddress: 0x1c, lengthDw: 1, data: new Uint8Array([1, 0, 0, 0]) });
    expect(tlpToBeats(bytes)).toEqual([beat(0x01000004, 0x4a000001, KEEP_BOTH, false), beat(0x01000000, 0x0000011c, KEEP_BOTH, true)]);
  });

  it("CfgRd0 01:00.0 register 0 and CfgWr0 Command <- 0x0006", () => {
    const rd = tlpToBeats(encodeTlp({ kind: "CfgRd0", ...plain, requesterId: 0, tag: 2, bus: 1, device: 0, fn: 0, register: 0, firstBe: 0xf }));
    expect(rd).toEqual([beat(0x0000020f, 0x04000001, KEEP_BOTH, false), beat(0, 0x01000000, KEEP_LOW, true)]);
    const wr = tlpToBeats(encodeTlp({ kind: "CfgWr0", ...plain, requesterId: 0, tag: 3, bus: 1, device: 0, fn: 0, register: 4, firstBe: 0x3, data: new Uint8Array([6, 0, 0, 0]) }));
    expect(wr).toEqual([beat(0x00000303, 0x44000001, KEEP_BOTH, false), beat(0x06000000, 0x01000004, KEEP_BOTH, true)]);
  });

  it("MWr64 of 16 DW to 0x1_2345_6780: H3/H2 in beat 1, D0 in beat 2 tdata[31:0]", () => {
    const tlp: MemRequest = { ...memWrite(16, true), requesterId: 0, address: 0x1_2345_6780n };
    const beats = tlpToBeats(encodeTlp(tlp));
    expect(beats.length).toBe(10);
    expect(beats[0]).toEqual(beat(0x000000ff, 0x60000010, KEEP_BOTH, false));
    expect(beats[1]).toEqual(beat(0x23456780, 0x00000001, KEEP_BOTH, false));
    expect(beats[2].lo).toBe(payloadDw(tlp.data!, 0));
    expect(beats[2].hi).toBe(payloadDw(tlp.data!, 1));
    expect(beats[9]).toEqual(beat(payloadDw(tlp.data!, 15), payloadDw(tlp.data!, 14), KEEP_BOTH, true));
  });

  it("a little-endian register value appears as bswap32 on the bus", () => {
    const value = 0x1234_5678;
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value, true);
    const beats = tlpToBeats(encodeTlp({ kind: "MWr", ...plain, requesterId: 0, tag: 0, address: 0x1000n, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, data }));
    expect(beats[1].hi).toBe(0x7856_3412);
  });
});

describe("every payload length 1..1024 DW, 3DW and 4DW headers", () => {
  for (const addr64 of [false, true]) {
    it(`${addr64 ? "MWr64" : "MWr32"}: beat count, DW positions, tkeep and round trip`, () => {
      const deframer = new TlpDeframer();
      for (let n = 1; n <= 1024; n++) {
        const tlp = memWrite(n, addr64);
        const bytes = encodeTlp(tlp);
        const beats = tlpToBeats(bytes);
        const expectedBeats = addr64 ? 2 + Math.ceil(n / 2) : Math.ceil((3 + n) / 2);
        expect(beats.length).toBe(expectedBeats);
        expect(beatsFor(bytes.length)).toBe(expectedBeats);
        for (let i = 0; i < n; i++) {
          const position = addr64 ? { beat: 2 + (i >> 1), lane: i & 1 } : { beat: (i + 3) >> 1, lane: (i + 3) & 1 };
          const b = beats[position.beat];
          const value = position.lane === 0 ? b.lo : b.hi;
          if (value !== payloadDw(tlp.data!, i)) throw new Error(`length ${n}: D${i} not at beat ${position.beat} lane ${position.lane}`);
        }
        const lastKeep = addr64 ? (n % 2 === 0 ? KEEP_BOTH : KEEP_LOW) : n % 2 === 1 ? KEEP_BOTH : KEEP_LOW;
        expect(beats.map((b) => b.keep)).toEqual([...Array(expectedBeats - 1).fill(KEEP_BOTH), lastKeep]);
        expect(beats.map((b) => b.last)).toEqual([...Array(expectedBeats - 1).fill(false), true]);
        let status: number = DeframeStatus.pending;
        for (const b of beats) status = deframer.push(b.lo, b.hi, b.keep, b.last);
        expect(status).toBe(DeframeStatus.complete);
        expect(Buffer.from(deframer.tlpBytes()).equals(Buffer.from(bytes))).toBe(true);
      }
    });
  }

  it("random TLPs of every kind survive framing and deframing", () => {
    const random = seededRandom(99);
    const deframer = new TlpDeframer();
    for (let n = 0; n < 500; n++) {
      const bytes = encodeTlp(randomTlp(random));
      const beats = tlpToBeats(bytes);
      let status: number = DeframeStatus.pending;
      for (const b of beats) status = deframer.push(b.lo, b.hi, b.keep, b.last);
      expect(status).toBe(DeframeStatus.complete);
      expect(announcedDw(beats[0].lo)).toBe(bytes.length / 4);
      expect(Buffer.from(deframer.tlpBytes()).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});

describe("the deframer rejects beats that disagree with the header", () => {
  const beats = tlpToBeats(encodeTlp(memWrite(4, false))); // 3 + 4 = 7 DW: 4 beats, last keep 0x0F

  it("tlast one beat early", () => {
    const short = beats.slice(0, 3).map((b, i) => ({ ...b, last: i === 2 }));
    const { status, deframer } = deframe(short);
    expect(status).toBe(DeframeStatus.rejected);
    expect(deframer.reason).toMatch(/delivered 6 DW in 3 beats but its header announces 7 DW/);
  });

  it("tlast one beat late", () => {
    const long = [...beats.slice(0, 3), { ...beats[3], keep: KEEP_BOTH, last: false }, beat(0, 0, KEEP_LOW, true)];
    const { status, deframer } = deframe(long);
    expect(status).toBe(DeframeStatus.rejected);
    expect(deframer.reason).toMatch(/delivered 9 DW in 5 beats/);
  });

  it("tkeep 0xFF on the last beat of an odd-DW TLP", () => {
    const { status, deframer } = deframe([...beats.slice(0, 3), { ...beats[3], keep: KEEP_BOTH }]);
    expect(status).toBe(DeframeStatus.rejected);
    expect(deframer.reason).toMatch(/delivered 8 DW/);
  });

  it("tkeep other than 0xFF before the last beat, or not 0xFF/0x0F on it", () => {
    const mid = deframe([beats[0], { ...beats[1], keep: KEEP_LOW }, beats[2], beats[3]]);
    expect(mid.status).toBe(DeframeStatus.rejected);
    expect(mid.deframer.reason).toMatch(/tkeep 0x0f on beat 1 \(not tlast\)/);
    const odd = deframe([...beats.slice(0, 3), { ...beats[3], keep: 0x03 }]);
    expect(odd.deframer.reason).toMatch(/tkeep 0x03 on the tlast beat; only 0xFF or 0x0F is legal/);
  });

  it("a runaway TLP without tlast is cut off without overrunning the buffer, and the next TLP is fine", () => {
    const deframer = new TlpDeframer();
    for (let i = 0; i < 2000; i++) deframer.push(0x40000001, 0, KEEP_BOTH, false);
    expect(deframer.push(0, 0, KEEP_BOTH, true)).toBe(DeframeStatus.rejected);
    let status: number = DeframeStatus.pending;
    for (const b of beats) status = deframer.push(b.lo, b.hi, b.keep, b.last);
    expect(status).toBe(DeframeStatus.complete);
  });

  it("tuser is sampled on the first beat, OR-ed over the TLP and on tlast", () => {
    const deframer = new TlpDeframer();
    deframer.push(beats[0].lo, beats[0].hi, KEEP_BOTH, false, 0b0101);
    deframer.push(beats[1].lo, beats[1].hi, KEEP_BOTH, false, 0b0010);
    deframer.push(beats[2].lo, beats[2].hi, KEEP_BOTH, false, 0);
    deframer.push(beats[3].lo, beats[3].hi, beats[3].keep, true, 0b1000);
    expect([deframer.firstUser, deframer.anyUser, deframer.lastUser]).toEqual([0b0101, 0b1111, 0b1000]);
  });
});
