// The Submission Queue Entry table against NVMe 1.4 §4.2, and the driver's encoder against the SSD
// model's parser, both placed by it.
import { describe, expect, it } from "vitest";
import { SQE_BYTES, SqeField } from "../../../rtl-src/nvme/nvme-sqe.ts";
import { encodeSqe } from "../../../sim/host/commands.ts";
import { encodeSubmissionEntry, parseSubmissionEntry } from "../../../sim/nvme/submission-entry.ts";
import { seededRandom, seededUint32 } from "../../../sim/random.ts";
import { overlaps, where } from "../../../sim/testbench/nvme-field-checks.ts";

describe("SQE table", () => {
  it("puts the fields where NVMe 1.4 §4.2 does (PROTOCOL_FACTS §E.1)", () => {
    expect(SQE_BYTES).toBe(64);
    expect(where(SqeField.opcode)).toBe("byte 0 bits 7:0");
    expect(where(SqeField.fuse)).toBe("byte 0 bits 9:8");
    expect(where(SqeField.psdt)).toBe("byte 0 bits 15:14");
    expect(where(SqeField.cid)).toBe("byte 0 bits 31:16");
    expect(where(SqeField.nsid)).toBe("byte 4 size 4");
    expect(where(SqeField.mptr)).toBe("byte 16 size 8");
    expect(where(SqeField.prp1)).toBe("byte 24 size 8");
    expect(where(SqeField.prp2)).toBe("byte 32 size 8");
    expect(where(SqeField.cdw10)).toBe("byte 40 size 4");
    expect(where(SqeField.cdw15)).toBe("byte 60 size 4");
    expect(overlaps(SqeField)).toEqual([]);
  });

  it("the driver's entries parse in the SSD model to what the driver meant, and the model's own encoding agrees", () => {
    const random = seededRandom(11);
    const next = seededUint32(12);
    const big = () => (BigInt(next()) << 32n) | BigInt(next());
    for (let i = 0; i < 300; i++) {
      const command = {
        opcode: next() & 0xff,
        fuse: next() & 3,
        psdt: next() & 3,
        nsid: next(),
        mptr: big(),
        prp1: big(),
        prp2: big(),
        cdw10: next(),
        cdw11: next(),
        cdw12: next(),
        cdw13: next(),
        cdw14: next(),
        cdw15: next(),
      };
      const cid = Math.floor(random() * 0x10000);
      const bytes = encodeSqe(command, cid);
      const parsed = parseSubmissionEntry(bytes);
      expect(parsed).toEqual({ ...command, cid });
      expect(Array.from(encodeSubmissionEntry(parsed))).toEqual(Array.from(bytes));
    }
  });
});
