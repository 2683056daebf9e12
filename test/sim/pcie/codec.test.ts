import { describe, expect, it } from "vitest";
import { decodeTlp, encodeTlp, TlpFormatError } from "../../../sim/pcie/codec.ts";
import { computeEcrc } from "../../../sim/pcie/ecrc.ts";
import { requestedByteRange } from "../../../sim/pcie/tlp-rules.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type Message, type Tlp } from "../../../sim/pcie/tlp.ts";
import { randomTlp, seededRandom } from "../../../sim/testbench/random-tlp.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/[\s_|]/g, ""), "hex"));
}

function bytesHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

function expectReject(bytes: Uint8Array, pattern: RegExp, errorClass = "malformed"): void {
  let caught: unknown;
  try {
    decodeTlp(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(TlpFormatError);
  expect((caught as TlpFormatError).reason).toMatch(pattern);
  expect((caught as TlpFormatError).errorClass).toBe(errorClass);
}

// Worked out by hand from PCIe Base 2.1 §2.2 (digest §A.4 and §B): RP requester ID 0x0000, SSD BAR0 at
// 0xE000_0000, SSD BDF 01:00.0 = 0x0100. A little-endian register value V travels as bytes V[7:0] first.
const golden: { name: string; tlp: Tlp; wire: string }[] = [
  {
    name: "MWr32 CC <- 0x0046_0001 at BAR0+0x14",
    tlp: { kind: "MWr", ...plain, requesterId: 0, tag: 0, address: 0xe000_0014n, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0, data: hex("01004600") },
    wire: "40000001 0000000f e0000014 01004600",
  },
  {
    name: "MRd32 CSTS at BAR0+0x1C, tag 1",
    tlp: { kind: "MRd", ...plain, requesterId: 0, tag: 1, address: 0xe000_001cn, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 },
    wire: "00000001 0000010f e000001c",
  },
  {
    name: "CplD answering it with CSTS = 1",
    tlp: { kind: "CplD", ...plain, completerId: 0x0100, status: CplStatus.SC, bcm: false, byteCount: 4, requesterId: 0, tag: 1, lowerAddress: 0x1c, lengthDw: 1, data: hex("01000000") },
    wire: "4a000001 01000004 0000011c 01000000",
  },
  {
    name: "CfgRd0 01:00.0 register 0x00, tag 2",
    tlp: { kind: "CfgRd0", ...plain, requesterId: 0, tag: 2, bus: 1, device: 0, fn: 0, register: 0, firstBe: 0xf },
    wire: "04000001 0000020f 01000000",
  },
  {
    name: "CfgWr0 01:00.0 Command <- 0x0006, First BE 0011, tag 3",
    tlp: { kind: "CfgWr0", ...plain, requesterId: 0, tag: 3, bus: 1, device: 0, fn: 0, register: 4, firstBe: 0x3, data: hex("06000000") },
    wire: "44000001 00000303 01000004 06000000",
  },
  {
    name: "CfgRd1 02:03.1 extended register 0x104, tag 7",
    tlp: { kind: "CfgRd1", ...plain, requesterId: 0, tag: 7, bus: 2, device: 3, fn: 1, register: 0x104, firstBe: 0xf },
    wire: "05000001 0000070f 02190104",
  },
  {
    name: "MRd64 of 128 B at 0x1_2345_6780, requester 01:00.0, tag 0x42",
    tlp: { kind: "MRd", ...plain, requesterId: 0x0100, tag: 0x42, address: 0x1_2345_6780n, addr64: true, lengthDw: 32, firstBe: 0xf, lastBe: 0xf },
    wire: "20000020 010042ff 00000001 23456780",
  },
  {
    name: "MRd32 of 4096 B (Length field 0 = 1024 DW), TC 2, RO + NS",
    tlp: { kind: "MRd", ...plain, tc: 2, attr: 3, requesterId: 0x0100, tag: 0x1f, address: 0x8000_0000n, addr64: false, lengthDw: 1024, firstBe: 0xf, lastBe: 0xf },
    wire: "00203000 01001fff 80000000",
  },
  {
    name: "Cpl UR for an MRd of 4 B at ...1C, tag 5",
    tlp: { kind: "Cpl", ...plain, completerId: 0x0100, status: CplStatus.UR, bcm: false, byteCount: 4, requesterId: 0, tag: 5, lowerAddress: 0x1c, lengthDw: 0 },
    wire: "0a000000 01002004 0000051c",
  },
  {
    name: "Cpl CRS for a config read",
    tlp: { kind: "Cpl", ...plain, completerId: 0x0100, status: CplStatus.CRS, bcm: false, byteCount: 4, requesterId: 0, tag: 2, lowerAddress: 0, lengthDw: 0 },
    wire: "0a000000 01004004 00000200",
  },
  {
    name: "Cpl CA, poisoned bit clear, Byte Count 4096 (field 0)",
    tlp: { kind: "Cpl", ...plain, completerId: 0x0100, status: CplStatus.CA, bcm: false, byteCount: 4096, requesterId: 0x0000, tag: 9, lowerAddress: 0, lengthDw: 0 },
    wire: "0a000000 01008000 00000900",
  },
  {
    name: "Assert_INTA message (code 0x20, routing 100 local), from 01:00.0",
    tlp: { kind: "Msg", ...plain, routing: 0b100, requesterId: 0x0100, tag: 0, messageCode: 0x20, headerTail: new Uint8Array(8), lengthDw: 0 },
    wire: "34000000 01000020 00000000 00000000",
  },
  {
    name: "Set_Slot_Power_Limit MsgD (code 0x50, routing 100) with 1 DW",
    tlp: { kind: "MsgD", ...plain, routing: 0b100, requesterId: 0, tag: 0, messageCode: 0x50, headerTail: new Uint8Array(8), lengthDw: 1, data: hex("19000000") },
    wire: "74000001 00000050 00000000 00000000 19000000",
  },
  {
    name: "MWr32 poisoned, 2 DW QW-aligned with non-contiguous BEs 0101/1010",
    tlp: { kind: "MWr", ...plain, ep: true, requesterId: 0x0100, tag: 0, address: 0x1000n, addr64: false, lengthDw: 2, firstBe: 0x5, lastBe: 0xa, data: hex("1122334455667788") },
    wire: "40004002 010000a5 00001000 11223344 55667788",
  },
];

describe("TLP codec golden vectors", () => {
  for (const { name, tlp, wire } of golden) {
    it(`encodes ${name}`, () => {
      expect(bytesHex(encodeTlp(tlp))).toBe(bytesHex(hex(wire)));
    });
    it(`decodes ${name}`, () => {
      expect(decodeTlp(hex(wire))).toEqual(tlp);
    });
  }

  it("the MWr64 example of §A.4 puts addr[63:32] in DW2 and addr[31:2] in DW3", () => {
    const tlp: MemRequest = {
      kind: "MWr", ...plain, requesterId: 0, tag: 0, address: 0x1_2345_6780n, addr64: true, lengthDw: 16, firstBe: 0xf, lastBe: 0xf,
      data: new Uint8Array(64).map((_, i) => i),
    };
    const bytes = encodeTlp(tlp);
    expect(bytesHex(bytes.subarray(0, 16))).toBe("60000010000000ff0000000123456780");
    expect(bytes.length).toBe(16 + 64);
    expect(bytes[16]).toBe(0);
    expect(bytes[79]).toBe(63);
  });
});

describe("ECRC (TLP digest)", () => {
  // Independent bit-serial model of the spec's description: bits enter LSB first starting at byte 0,
  // register seeded with all ones, remainder complemented, remainder bit 31 -> digest byte 0 bit 0.
  function bitSerialEcrc(bytes: Uint8Array): Uint8Array {
    const covered = Uint8Array.from(bytes);
    covered[0] |= 0x01;
    covered[2] |= 0x40;
    let crc = 0xffffffff;
    for (const byte of covered) {
      for (let bit = 0; bit < 8; bit++) {
        const feedback = ((crc >>> 31) ^ (byte >> bit)) & 1;
        crc = (crc << 1) >>> 0;
        if (feedback) crc = (crc ^ 0x04c11db7) >>> 0;
      }
    }
    const remainder = ~crc >>> 0;
    const out = new Uint8Array(4);
    for (let k = 0; k < 4; k++) {
      for (let bit = 0; bit < 8; bit++) out[k] |= ((remainder >>> (31 - 8 * k - bit)) & 1) << bit;
    }
    return out;
  }

  it("matches a bit-serial model of the specification's algorithm", () => {
    const random = seededRandom(7);
    for (let n = 0; n < 50; n++) {
      const tlp = randomTlp(random);
      const bytes = encodeTlp({ ...tlp, td: false } as Tlp);
      expect(computeEcrc(bytes)).toEqual(bitSerialEcrc(bytes));
    }
  });

  it("is appended for TD=1, ignores the variant bits, and is checked on decode", () => {
    const base: MemRequest = { kind: "MWr", ...plain, td: true, requesterId: 0x0100, tag: 3, address: 0x2000n, addr64: false, lengthDw: 2, firstBe: 0xf, lastBe: 0xf, data: hex("0102030405060708") };
    const bytes = encodeTlp(base);
    expect(bytes.length).toBe(12 + 8 + 4);
    expect(bytes[2] & 0x80).toBe(0x80);
    expect(decodeTlp(bytes)).toEqual(base);
    const poisoned = encodeTlp({ ...base, ep: true });
    expect(poisoned.subarray(20)).toEqual(bytes.subarray(20));
    const corrupted = Uint8Array.from(bytes);
    corrupted[13] ^= 0x10;
    expectReject(corrupted, /ECRC .* does not match/, "ecrc");
    expect(decodeTlp(corrupted, { checkEcrc: false }).kind).toBe("MWr");
  });
});

describe("TLP decode rejects malformed input with a reason", () => {
  it("payload shorter or longer than the Length field", () => {
    expectReject(hex("40000002 0000000f 00001000 11223344"), /Length 2 DW of payload \(20 bytes\) but the TLP is 16 bytes/);
    expectReject(hex("40000001 0000000f 00001000 11223344 55667788"), /Length 1 DW .* but the TLP is 20 bytes/);
    expectReject(hex("00000001 0000000f 00001000 00000000"), /no payload \(12 bytes\) but the TLP is 16 bytes/);
  });

  it("truncated headers and ragged byte counts", () => {
    expectReject(hex("00000001 0000000f"), /shorter than a 3DW header/);
    expectReject(hex("00000001 0000000f 0000100000"), /not a whole number of DWs/);
    expectReject(hex("20000001 0000000f 00000001"), /12 bytes/);
  });

  it("reserved Fmt/Type combinations", () => {
    expectReject(hex("24000001 0000000f 01000000 00000000"), /reserved Fmt\/Type 0x24/);
    expectReject(hex("2a000000 01000004 00000000 00000000"), /reserved Fmt\/Type 0x2a/);
    expectReject(hex("14000000 01000020 00000000"), /reserved Fmt\/Type 0x14/);
    expectReject(hex("1f000000 00000000 00000000"), /reserved Fmt\/Type 0x1f/);
  });

  it("kinds the models do not implement are unsupported, not malformed", () => {
    expectReject(hex("02000001 0000000f 00000100"), /IORd/, "unsupported");
    expectReject(hex("01000001 0000000f 00001000"), /MRdLk32/, "unsupported");
    expectReject(hex("80000001 0000000f 00001000"), /TLP prefix/, "unsupported");
  });

  it("memory requests crossing a 4 KiB boundary", () => {
    expectReject(hex("00000002 000000ff 00000ffc"), /crosses a 4 KiB boundary/);
    expectReject(hex("40000002 000000ff 00001ffc 00000000 00000000"), /crosses a 4 KiB boundary/);
    expect(decodeTlp(hex("00000001 0000000f 00000ffc")).kind).toBe("MRd");
  });

  it("4DW requests below 4 GiB unless allowed", () => {
    const bytes = hex("20000001 0000000f 00000000 e0000000");
    expectReject(bytes, /below 4 GiB but uses a 4DW header/);
    const tlp = decodeTlp(bytes, { allow4dwBelow4G: true }) as MemRequest;
    expect(tlp.address).toBe(0xe000_0000n);
    expect(tlp.addr64).toBe(true);
  });

  it("configuration requests with Length other than 1 or a Last BE", () => {
    expectReject(hex("44000002 0000000f 01000000 00000000 00000000"), /CfgWr0 Length is 2 DW, must be 1/);
    expectReject(hex("04000001 000000ff 01000000"), /Last BE is 1111, must be 0000/);
    expectReject(hex("04100001 0000000f 01000000"), /TC 0 \(has 1\)/);
  });

  it("byte-enable rule violations", () => {
    expectReject(hex("00000001 000000ff 00001000"), /Last BE must be 0000 for a 1-DW request/);
    expectReject(hex("00000002 000000f0 00001000"), /First BE must not be 0000/);
    expectReject(hex("00000003 000000f5 00001000"), /First BE 0101 is not contiguous/);
    expectReject(hex("00000002 000000af 00001004"), /Last BE 1010 is not contiguous/);
  });

  it("reserved completion status decodes as UR, keeps the raw code and re-encodes byte-exact", () => {
    const bytes = hex("0a000000 01006004 0000051c");
    const tlp = decodeTlp(bytes) as Completion;
    expect(tlp.status).toBe(CplStatus.UR);
    expect(tlp.reservedStatus).toBe(0b011);
    expect(encodeTlp(tlp)).toEqual(bytes);
  });

  it("the encoder refuses illegal records unless told to skip the checks", () => {
    const crossing: MemRequest = { kind: "MRd", ...plain, requesterId: 0, tag: 0, address: 0xff8n, addr64: false, lengthDw: 4, firstBe: 0xf, lastBe: 0xf };
    expect(() => encodeTlp(crossing)).toThrow(/crosses a 4 KiB boundary/);
    expect(bytesHex(encodeTlp(crossing, { skipRuleChecks: true }))).toBe("00000004000000ff00000ff8");
    const short: MemRequest = { ...crossing, kind: "MWr", address: 0x1000n, lengthDw: 2, data: new Uint8Array(4) };
    expect(() => encodeTlp(short)).toThrow(/payload is 4 B but length says 2 DW/);
    const cfg: ConfigRequest = { kind: "CfgRd0", ...plain, requesterId: 0, tag: 0, bus: 1, device: 0, fn: 0, register: 0x1002, firstBe: 0xf };
    expect(() => encodeTlp(cfg)).toThrow(/register offset 4098/);
    const msg: Message = { kind: "Msg", ...plain, routing: 4, requesterId: 0, tag: 0, messageCode: 0x20, headerTail: new Uint8Array(4), lengthDw: 0 };
    expect(() => encodeTlp(msg)).toThrow(/header tail is not 8 bytes/);
  });
});

describe("requested bytes of a read (§B.5)", () => {
  it("follows the Length/BE table", () => {
    const at = (lengthDw: number, firstBe: number, lastBe: number) => requestedByteRange({ address: 0x1000n, lengthDw, firstBe, lastBe });
    expect(at(1, 0b1001, 0)).toEqual({ firstByteAddress: 0x1000n, byteCount: 4 });
    expect(at(1, 0b0101, 0)).toEqual({ firstByteAddress: 0x1000n, byteCount: 3 });
    expect(at(1, 0b1010, 0)).toEqual({ firstByteAddress: 0x1001n, byteCount: 3 });
    expect(at(1, 0b0110, 0)).toEqual({ firstByteAddress: 0x1001n, byteCount: 2 });
    expect(at(1, 0b1000, 0)).toEqual({ firstByteAddress: 0x1003n, byteCount: 1 });
    expect(at(1, 0b0000, 0)).toEqual({ firstByteAddress: 0x1000n, byteCount: 1 });
    expect(at(3, 0b1100, 0b0011)).toEqual({ firstByteAddress: 0x1002n, byteCount: 12 - 2 - 2 });
    expect(at(2, 0b1000, 0b0001)).toEqual({ firstByteAddress: 0x1003n, byteCount: 2 });
  });
});

describe("round trip of random legal TLPs", () => {
  // Payloads are compared as buffers: deep equality over thousands of byte arrays is needlessly slow.
  const withoutData = (tlp: Tlp) => ({ ...tlp, data: tlp.data === undefined ? "none" : tlp.data.length });
  const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
    a === undefined ? b === undefined : b !== undefined && Buffer.from(a).equals(Buffer.from(b));

  it("decode(encode(t)) == t and encode(decode(b)) == b for 3000 TLPs", () => {
    const random = seededRandom(2024);
    for (let n = 0; n < 3000; n++) {
      const tlp = randomTlp(random);
      const bytes = encodeTlp(tlp);
      const decoded = decodeTlp(bytes);
      expect(withoutData(decoded)).toEqual(withoutData(tlp));
      expect(sameBytes(decoded.data, tlp.data)).toBe(true);
      expect(sameBytes(encodeTlp(decoded), bytes)).toBe(true);
    }
  });
});
