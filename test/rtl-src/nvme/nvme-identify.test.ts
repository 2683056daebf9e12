// The Identify tables against NVMe 1.4 §5.15.2, and the SSD model's pages against the driver's
// parser, both placed by them.
import { describe, expect, it } from "vitest";
import { readField } from "../../../rtl-src/nvme/nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField as C, IdentifyNamespaceField as N, lbaFormatField } from "../../../rtl-src/nvme/nvme-identify.ts";
import { parseIdentifyController, parseIdentifyNamespace } from "../../../sim/host/identify.ts";
import { identifyController, identifyNamespace } from "../../../sim/nvme/identify.ts";
import { overlaps, where } from "../../../sim/testbench/nvme-field-checks.ts";

describe("Identify tables", () => {
  it("put the controller fields where NVMe 1.4 does (PROTOCOL_FACTS §E.6)", () => {
    const at = Object.fromEntries(Object.entries(C).map(([name, f]) => [name, where(f)]));
    expect(at).toMatchObject({
      vid: "byte 0 size 2",
      ssvid: "byte 2 size 2",
      sn: "byte 4 size 20",
      mn: "byte 24 size 40",
      fr: "byte 64 size 8",
      mdts: "byte 77 size 1",
      cntlid: "byte 78 size 2",
      ver: "byte 80 size 4",
      rtd3e: "byte 88 size 4",
      oacs: "byte 256 size 2",
      sanicap: "byte 328 size 4",
      sqes: "byte 512 size 1",
      sqesMin: "byte 512 bits 3:0",
      sqesMax: "byte 512 bits 7:4",
      cqes: "byte 513 size 1",
      nn: "byte 516 size 4",
      oncs: "byte 520 size 2",
      fna: "byte 524 size 1",
      vwc: "byte 525 size 1",
      awun: "byte 526 size 2",
      awupf: "byte 528 size 2",
      sgls: "byte 536 size 4",
    });
    expect(overlaps(C)).toEqual([]);
    for (const f of Object.values(C)) expect(f.offset + f.size).toBeLessThanOrEqual(IDENTIFY_BYTES);
  });

  it("put the namespace fields where NVMe 1.4 does (PROTOCOL_FACTS §E.7)", () => {
    const at = Object.fromEntries(Object.entries(N).map(([name, f]) => [name, where(f)]));
    expect(at).toMatchObject({
      nsze: "byte 0 size 8",
      ncap: "byte 8 size 8",
      nuse: "byte 16 size 8",
      nsfeat: "byte 24 size 1",
      nlbaf: "byte 25 size 1",
      flbas: "byte 26 size 1",
      nsfeatAtomics: "byte 24 bits 1:1",
      flbasFormat: "byte 26 bits 3:0",
      flbasExtended: "byte 26 bits 4:4",
      nawun: "byte 34 size 2",
      nawupf: "byte 36 size 2",
      nvmcap: "byte 48 size 16",
      eui64: "byte 120 size 8",
    });
    expect(where(lbaFormatField(0).whole)).toBe("byte 128 size 4");
    expect(where(lbaFormatField(15).lbads)).toBe("byte 188 bits 23:16");
    expect(where(lbaFormatField(1).ms)).toBe("byte 132 bits 15:0");
    expect(where(lbaFormatField(1).rp)).toBe("byte 132 bits 25:24");
    const withFormats = { ...N, ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`lbaf${i}`, lbaFormatField(i).whole])) };
    expect(overlaps(withFormats)).toEqual([]);
  });

  it("the driver parses the SSD model's Identify Controller page to what the model reports", () => {
    const page = identifyController({
      pciVendorId: 0x1b36,
      pciSubsystemVendorId: 0x1af4,
      serial: "SN-0042",
      model: "nvme-host model",
      firmware: "1.0",
      mdts: 5,
      nn: 3,
      volatileWriteCache: true,
      awun: 7,
      awupf: 3,
      aerl: 3,
      acl: 3,
      elpe: 63,
      rtd3e: 1_000_000,
      maxOutstandingCommands: 1024,
    });
    expect(parseIdentifyController(page)).toMatchObject({
      vid: 0x1b36,
      ssvid: 0x1af4,
      serial: "SN-0042",
      model: "nvme-host model",
      firmware: "1.0",
      mdts: 5,
      version: 0x00010400,
      rtd3e: 1_000_000,
      acl: 3,
      aerl: 3,
      sqes: { min: 6, max: 6 },
      cqes: { min: 4, max: 4 },
      maxcmd: 1024,
      nn: 3,
      vwc: 7,
      awun: 7,
      awupf: 3,
    });
    // The bytes the specification names, read without the table: MDTS at 77, NN at 516, VWC at 525.
    expect([page[77], page[516], page[525], page[512], page[513], page[526], page[528]]).toEqual([5, 3, 7, 0x66, 0x44, 7, 3]);
  });

  it("the driver parses the SSD model's Identify Namespace page to what the model reports", () => {
    for (const lbaSize of [512, 4096]) {
      const page = identifyNamespace({ nsid: 1, capacityBlocks: 123_456, lbaSize, nawun: 7, nawupf: 1, preferredWriteBlocks: 8 });
      expect(parseIdentifyNamespace(page)).toMatchObject({
        nsze: 123_456n,
        ncap: 123_456n,
        nuse: 123_456n,
        nlbaf: 0,
        flbas: 0,
        lbaBytes: lbaSize,
        nawun: 7,
        nawupf: 1,
        lbaFormats: [{ metadataBytes: 0, lbaBytes: lbaSize, relativePerformance: 0 }],
      });
      expect(readField(page, N.nsfeat) & 2).toBe(2);
      expect(page[128 + 2]).toBe(Math.log2(lbaSize));
    }
  });
});
