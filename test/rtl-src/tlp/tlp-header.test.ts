// The TLP header field table: every header format is tiled by its fields (no overlap, no gap, 32
// bits per DW), the fields sit where PCIe Base §2.2 draws them, and the codec that uses the table
// writes each field of random TLPs where the table says and reads it back.
import { describe, expect, it } from "vitest";
import { type HeaderField, TlpField, TlpFieldPart, TlpHeaderLayout, readField, writeField } from "../../../rtl-src/tlp/tlp-header.ts";
import { decodeTlp, encodeTlp } from "../../../sim/pcie/codec.ts";
import type { Tlp } from "../../../sim/pcie/tlp.ts";
import { randomTlp, seededRandom } from "../../../sim/testbench/random-tlp.ts";

type Layout = readonly (keyof typeof TlpField | HeaderField)[];
const resolve = (layout: Layout): HeaderField[] => layout.map((entry) => (typeof entry === "string" ? TlpField[entry] : entry));

/** Why a list of fields does not tile `dws` DWs exactly, or undefined. */
function tilingProblem(fields: readonly HeaderField[], dws: number): string | undefined {
  const owner: (number | undefined)[][] = Array.from({ length: dws }, () => Array(32).fill(undefined));
  for (const [index, f] of fields.entries()) {
    if (f.width !== f.msb - f.lsb + 1 || f.lsb < 0 || f.msb > 31 || f.dw < 0 || f.dw >= dws) return `entry ${index} is out of place`;
    for (let bit = f.lsb; bit <= f.msb; bit++) {
      if (owner[f.dw][bit] !== undefined) return `DW${f.dw} bit ${bit} is in entries ${owner[f.dw][bit]} and ${index}`;
      owner[f.dw][bit] = index;
    }
  }
  for (let dw = 0; dw < dws; dw++) {
    const width = fields.filter((f) => f.dw === dw).reduce((sum, f) => sum + f.width, 0);
    if (width !== 32) return `DW${dw} fields add up to ${width} bits`;
  }
  return undefined;
}

const HEADER_DWS: Record<keyof typeof TlpHeaderLayout, number> = { memory32: 3, memory64: 4, completion: 3, configuration: 3, message: 4 };

describe("the field table", () => {
  for (const [name, layout] of Object.entries(TlpHeaderLayout) as [keyof typeof TlpHeaderLayout, Layout][]) {
    it(`tiles the ${name} header exactly`, () => {
      expect(tilingProblem(resolve(layout), HEADER_DWS[name])).toBeUndefined();
    });
  }

  it("would notice any one entry moved or widened by one bit", () => {
    for (const [name, layout] of Object.entries(TlpHeaderLayout) as [keyof typeof TlpHeaderLayout, Layout][]) {
      const fields = resolve(layout);
      fields.forEach((f, i) => {
        const variants: HeaderField[] = [
          { ...f, msb: f.msb + 1, lsb: f.lsb + 1 },
          { ...f, msb: f.msb - 1, lsb: f.lsb - 1 },
          { ...f, msb: f.msb + 1, width: f.width + 1 },
          { ...f, lsb: f.lsb - 1, width: f.width + 1 },
        ];
        for (const variant of variants) {
          const mutated = fields.map((g, j) => (j === i ? variant : g));
          expect(tilingProblem(mutated, HEADER_DWS[name]), `${name} entry ${i}`).toBeDefined();
        }
      });
    }
  });

  it("puts the fields where PCIe Base §2.2 draws them (PROTOCOL_FACTS §B)", () => {
    const at = (f: HeaderField) => `DW${f.dw}[${f.msb}:${f.lsb}]`;
    expect(at(TlpField.fmt)).toBe("DW0[31:29]");
    expect(at(TlpField.type)).toBe("DW0[28:24]");
    expect(at(TlpField.tc)).toBe("DW0[22:20]");
    expect(at(TlpField.td)).toBe("DW0[15:15]");
    expect(at(TlpField.ep)).toBe("DW0[14:14]");
    expect(at(TlpField.attr)).toBe("DW0[13:12]");
    expect(at(TlpField.length)).toBe("DW0[9:0]");
    expect(at(TlpField.requesterId)).toBe("DW1[31:16]");
    expect(at(TlpField.tag)).toBe("DW1[15:8]");
    expect(at(TlpField.lastBe)).toBe("DW1[7:4]");
    expect(at(TlpField.firstBe)).toBe("DW1[3:0]");
    expect(at(TlpField.status)).toBe("DW1[15:13]");
    expect(at(TlpField.bcm)).toBe("DW1[12:12]");
    expect(at(TlpField.byteCount)).toBe("DW1[11:0]");
    expect(at(TlpField.completionRequesterId)).toBe("DW2[31:16]");
    expect(at(TlpField.completionTag)).toBe("DW2[15:8]");
    expect(at(TlpField.lowerAddress)).toBe("DW2[6:0]");
    expect(at(TlpField.bus)).toBe("DW2[31:24]");
    expect(at(TlpField.device)).toBe("DW2[23:19]");
    expect(at(TlpField.function)).toBe("DW2[18:16]");
    expect(at(TlpField.extendedRegister)).toBe("DW2[11:8]");
    expect(at(TlpField.register)).toBe("DW2[7:2]");
    expect(at(TlpField.addressLow)).toBe("DW3[31:2]");
  });

  it("has its parts inside the fields they are parts of", () => {
    const inside = (part: HeaderField, whole: HeaderField) => part.dw === whole.dw && part.lsb >= whole.lsb && part.msb <= whole.msb;
    expect(inside(TlpFieldPart.hasData, TlpField.fmt) && TlpFieldPart.hasData.lsb === TlpField.fmt.lsb + 1).toBe(true);
    expect(inside(TlpFieldPart.fourDw, TlpField.fmt) && TlpFieldPart.fourDw.lsb === TlpField.fmt.lsb).toBe(true);
    expect(inside(TlpFieldPart.messageRouting, TlpField.type) && TlpFieldPart.messageRouting.lsb === TlpField.type.lsb).toBe(true);
    expect(TlpFieldPart.fmtType).toMatchObject({ dw: 0, msb: TlpField.fmt.msb, lsb: TlpField.type.lsb });
  });

  it("reads and writes a field without touching its neighbours", () => {
    const header = new Uint8Array(16).fill(0xff);
    writeField(header, TlpField.tag, 0x5a);
    expect(Array.from(header.subarray(4, 8))).toEqual([0xff, 0xff, 0x5a, 0xff]);
    writeField(header, TlpField.addressLow, 0);
    expect(Array.from(header.subarray(12, 16))).toEqual([0, 0, 0, 0x03]);
    writeField(header, TlpField.length, 1024);
    expect(readField(header, TlpField.length)).toBe(0);
    expect(readField(header, TlpField.at)).toBe(3);
  });
});

/** The value each field of a header must hold for this record, from the record alone. */
function expectedFields(tlp: Tlp): [HeaderField, number][] {
  const F = TlpField;
  const common: [HeaderField, number][] = [
    [F.tc, tlp.tc],
    [F.attr, tlp.attr],
    [F.td, tlp.td ? 1 : 0],
    [F.ep, tlp.ep ? 1 : 0],
    [F.th, 0],
    [F.at, 0],
  ];
  switch (tlp.kind) {
    case "MRd":
    case "MWr": {
      const address: [HeaderField, number][] = tlp.addr64
        ? [
            [F.addressHigh, Number(tlp.address >> 32n)],
            [F.addressLow, Number((tlp.address >> 2n) & 0x3fffffffn)],
          ]
        : [[F.address32, Number(tlp.address >> 2n)]];
      return [
        ...common,
        [F.fmt, (tlp.kind === "MWr" ? 2 : 0) | (tlp.addr64 ? 1 : 0)],
        [F.type, 0],
        [F.length, tlp.lengthDw & 0x3ff],
        [F.requesterId, tlp.requesterId],
        [F.tag, tlp.tag],
        [F.lastBe, tlp.lastBe],
        [F.firstBe, tlp.firstBe],
        ...address,
      ];
    }
    case "Cpl":
    case "CplD":
      return [
        ...common,
        [F.fmt, tlp.kind === "CplD" ? 2 : 0],
        [F.type, 0b01010],
        [F.length, tlp.lengthDw & 0x3ff],
        [F.completerId, tlp.completerId],
        [F.status, tlp.status],
        [F.bcm, tlp.bcm ? 1 : 0],
        [F.byteCount, tlp.byteCount & 0xfff],
        [F.completionRequesterId, tlp.requesterId],
        [F.completionTag, tlp.tag],
        [F.lowerAddress, tlp.lowerAddress],
      ];
    case "CfgRd0":
    case "CfgWr0":
    case "CfgRd1":
    case "CfgWr1":
      return [
        ...common,
        [F.fmt, tlp.kind.startsWith("CfgWr") ? 2 : 0],
        [F.type, tlp.kind.endsWith("1") ? 0b00101 : 0b00100],
        [F.length, 1],
        [F.requesterId, tlp.requesterId],
        [F.tag, tlp.tag],
        [F.lastBe, 0],
        [F.firstBe, tlp.firstBe],
        [F.bus, tlp.bus],
        [F.device, tlp.device],
        [F.function, tlp.fn],
        [F.extendedRegister, tlp.register >> 8],
        [F.register, (tlp.register >> 2) & 0x3f],
      ];
    case "Msg":
    case "MsgD": {
      const tail = new DataView(tlp.headerTail.buffer, tlp.headerTail.byteOffset, 8);
      return [
        ...common,
        [F.fmt, tlp.kind === "MsgD" ? 3 : 1],
        [F.type, 0b10000 | tlp.routing],
        [F.length, tlp.lengthDw & 0x3ff],
        [F.requesterId, tlp.requesterId],
        [F.tag, tlp.tag],
        [F.messageCode, tlp.messageCode],
        [F.messageDw2, tail.getUint32(0)],
        [F.messageDw3, tail.getUint32(4)],
      ];
    }
  }
}

describe("the codec against the table, on random TLPs", () => {
  it("writes every field of 2000 random TLPs where the table says, and decodes them back", () => {
    const random = seededRandom(0x71a7);
    const wrong: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const tlp = randomTlp(random);
      const bytes = encodeTlp(tlp);
      for (const [f, value] of expectedFields(tlp)) {
        if (readField(bytes, f) !== value >>> 0) wrong.push(`${tlp.kind} #${i} DW${f.dw}[${f.msb}:${f.lsb}] is ${readField(bytes, f)}, not ${value >>> 0}`);
      }
      const { data, ...header } = decodeTlp(bytes);
      const { data: sentData, ...sentHeader } = tlp;
      expect(header).toEqual(sentHeader);
      if (sentData && !Buffer.from(sentData).equals(Buffer.from(data!))) wrong.push(`${tlp.kind} #${i} payload`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it("decodes a header written field by field from the table alone", () => {
    const F = TlpField;
    const header = new Uint8Array(12);
    writeField(header, F.fmt, 0b010);
    writeField(header, F.type, 0b01010);
    writeField(header, F.tc, 5);
    writeField(header, F.attr, 2);
    writeField(header, F.length, 1);
    writeField(header, F.completerId, 0x0100);
    writeField(header, F.byteCount, 4);
    writeField(header, F.completionRequesterId, 0x0000);
    writeField(header, F.completionTag, 0x1f);
    writeField(header, F.lowerAddress, 0x44);
    // The same header as the specification draws it, in hex: CplD, TC 5, RO, 1 DW, 4 bytes left.
    expect(Array.from(header, (b) => b.toString(16).padStart(2, "0")).join("")).toBe("4a502001" + "01000004" + "00001f44");
    const bytes = new Uint8Array(16);
    bytes.set(header);
    expect(decodeTlp(bytes)).toMatchObject({ kind: "CplD", tc: 5, attr: 2, completerId: 0x100, byteCount: 4, tag: 0x1f, lowerAddress: 0x44, lengthDw: 1 });
  });
});
