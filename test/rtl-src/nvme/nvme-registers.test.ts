// The controller register table against NVMe 1.4 §3.1, and the SSD model's registers against the
// driver's decode and encode, both placed by it.
import { describe, expect, it } from "vitest";
import { AqaField, CapField, CcField, CstsField, NvmeRegister, VsField, doorbellOffset } from "../../../rtl-src/nvme/nvme-registers.ts";
import { decodeCap, decodeCsts, encodeAqa, encodeCc } from "../../../sim/host/registers.ts";
import { ControllerRegisters, cc } from "../../../sim/nvme/registers.ts";
import { overlaps, where } from "../../../sim/testbench/nvme-field-checks.ts";

describe("controller register table", () => {
  it("puts registers and fields where NVMe 1.4 §3.1 does (PROTOCOL_FACTS §D)", () => {
    expect(Object.fromEntries(Object.entries(NvmeRegister).map(([name, f]) => [name, where(f)]))).toEqual({
      CAP: "byte 0 size 8",
      VS: "byte 8 size 4",
      INTMS: "byte 12 size 4",
      INTMC: "byte 16 size 4",
      CC: "byte 20 size 4",
      CSTS: "byte 28 size 4",
      NSSR: "byte 32 size 4",
      AQA: "byte 36 size 4",
      ASQ: "byte 40 size 8",
      ACQ: "byte 48 size 8",
    });
    expect(where(CapField.mqes)).toBe("byte 0 bits 15:0");
    expect(where(CapField.cqr)).toBe("byte 0 bits 16:16");
    expect(where(CapField.ams)).toBe("byte 0 bits 18:17");
    expect(where(CapField.to)).toBe("byte 0 bits 31:24");
    expect(where(CapField.dstrd)).toBe("byte 0 bits 35:32");
    expect(where(CapField.nssrs)).toBe("byte 0 bits 36:36");
    expect(where(CapField.css)).toBe("byte 0 bits 44:37");
    expect(where(CapField.bps)).toBe("byte 0 bits 45:45");
    expect(where(CapField.mpsmin)).toBe("byte 0 bits 51:48");
    expect(where(CapField.mpsmax)).toBe("byte 0 bits 55:52");
    expect(where(VsField.major)).toBe("byte 8 bits 31:16");
    expect(where(CcField.en)).toBe("byte 20 bits 0:0");
    expect(where(CcField.css)).toBe("byte 20 bits 6:4");
    expect(where(CcField.mps)).toBe("byte 20 bits 10:7");
    expect(where(CcField.ams)).toBe("byte 20 bits 13:11");
    expect(where(CcField.shn)).toBe("byte 20 bits 15:14");
    expect(where(CcField.iosqes)).toBe("byte 20 bits 19:16");
    expect(where(CcField.iocqes)).toBe("byte 20 bits 23:20");
    expect(where(CstsField.rdy)).toBe("byte 28 bits 0:0");
    expect(where(CstsField.cfs)).toBe("byte 28 bits 1:1");
    expect(where(CstsField.shst)).toBe("byte 28 bits 3:2");
    expect(where(CstsField.nssro)).toBe("byte 28 bits 4:4");
    expect(where(CstsField.pp)).toBe("byte 28 bits 5:5");
    expect(where(AqaField.asqs)).toBe("byte 36 bits 11:0");
    expect(where(AqaField.acqs)).toBe("byte 36 bits 27:16");
    for (const table of [CapField, VsField, CcField, CstsField, AqaField]) expect(overlaps(table)).toEqual([]);
    // Doorbells: admin SQ tail 0x1000, admin CQ head 0x1004, SQ1 tail 0x1008 with DSTRD 0; stride 4 << DSTRD.
    expect([doorbellOffset(0, "sqTail", 0), doorbellOffset(0, "cqHead", 0), doorbellOffset(1, "sqTail", 0), doorbellOffset(1, "cqHead", 2)]).toEqual([0x1000, 0x1004, 0x1008, 0x1030]);
  });

  it("the driver reads the SSD model's CAP and CSTS as the model set them", () => {
    const registers = new ControllerRegisters({ mqes: 1023, timeout: 20, dstrd: 1, mpsmin: 0, mpsmax: 4 }, { onControllerConfiguration: () => {} });
    const cap = (BigInt(registers.read32(NvmeRegister.CAP.offset + 4)) << 32n) | BigInt(registers.read32(NvmeRegister.CAP.offset));
    expect(decodeCap(cap)).toMatchObject({
      maxQueueEntries: 1024,
      contiguousQueuesRequired: true,
      readyTimeoutMs: 10_000,
      doorbellStride: 8,
      nvmCommandSet: true,
      minPageSize: 4096,
      maxPageSize: 65536,
    });
    registers.setReady(true);
    registers.setShutdownStatus(2);
    expect(decodeCsts(registers.read32(NvmeRegister.CSTS.offset))).toEqual({ ready: true, fatal: false, shutdownStatus: 2 });
    registers.setFatal();
    expect(decodeCsts(registers.read32(NvmeRegister.CSTS.offset)).fatal).toBe(true);
  });

  it("the SSD model reads the driver's CC and AQA as the driver meant them", () => {
    const registers = new ControllerRegisters({ mqes: 255, timeout: 1, dstrd: 0, mpsmin: 0, mpsmax: 4 }, { onControllerConfiguration: () => {} });
    const written = encodeCc({ enable: true, pageSize: 16384, shutdown: 1, ioSqEntryBytes: 64, ioCqEntryBytes: 16 });
    registers.write32(NvmeRegister.CC.offset, written);
    const seen = registers.read32(NvmeRegister.CC.offset);
    expect([cc.enabled(seen), cc.mps(seen), cc.shn(seen), cc.iosqes(seen), cc.iocqes(seen), cc.css(seen), cc.ams(seen)]).toEqual([true, 2, 1, 6, 4, 0, 0]);
    registers.write32(NvmeRegister.AQA.offset, encodeAqa(32, 4096));
    expect(registers.read32(NvmeRegister.AQA.offset)).toBe(0x0fff_001f);
  });
});
