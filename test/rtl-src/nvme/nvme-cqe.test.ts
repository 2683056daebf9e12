// The Completion Queue Entry table against NVMe 1.4 §4.6, and the SSD model's encoder against the
// driver's decoder, both placed by it.
import { describe, expect, it } from "vitest";
import { CQE_BYTES, CqeField } from "../../../rtl-src/nvme/nvme-cqe.ts";
import { decodeCqe } from "../../../sim/host/completion.ts";
import { decodeCompletionEntry, encodeCompletionEntry } from "../../../sim/nvme/submission-entry.ts";
import { seededUint32 } from "../../../sim/random.ts";
import { overlaps, where } from "../../../sim/testbench/nvme-field-checks.ts";

describe("CQE table", () => {
  it("puts the fields where NVMe 1.4 §4.6 does (PROTOCOL_FACTS §E.2)", () => {
    expect(CQE_BYTES).toBe(16);
    expect(where(CqeField.dw0)).toBe("byte 0 size 4");
    expect(where(CqeField.sqhd)).toBe("byte 8 bits 15:0");
    expect(where(CqeField.sqid)).toBe("byte 8 bits 31:16");
    expect(where(CqeField.cid)).toBe("byte 12 bits 15:0");
    expect(where(CqeField.phase)).toBe("byte 12 bits 16:16");
    expect(where(CqeField.status)).toBe("byte 12 bits 31:17");
    expect(where(CqeField.sc)).toBe("byte 12 bits 24:17");
    expect(where(CqeField.sct)).toBe("byte 12 bits 27:25");
    expect(where(CqeField.crd)).toBe("byte 12 bits 29:28");
    expect(where(CqeField.more)).toBe("byte 12 bits 30:30");
    expect(where(CqeField.dnr)).toBe("byte 12 bits 31:31");
    expect(overlaps(CqeField)).toEqual([]);
  });

  it("the SSD model's entries decode in the driver to what the model posted", () => {
    const next = seededUint32(21);
    for (let i = 0; i < 500; i++) {
      const entry = {
        dw0: next(),
        sqHead: next() & 0xffff,
        sqid: next() & 0xffff,
        cid: next() & 0xffff,
        phase: next() & 1,
        status: { sc: next() & 0xff, sct: next() & 7, dnr: (next() & 1) === 1 },
      };
      const bytes = encodeCompletionEntry(entry);
      const seen = decodeCqe(bytes);
      expect(seen).toEqual({
        dw0: entry.dw0,
        dw1: 0,
        sqHead: entry.sqHead,
        sqId: entry.sqid,
        cid: entry.cid,
        phase: entry.phase,
        status: { sc: entry.status.sc, sct: entry.status.sct, crd: 0, more: false, doNotRetry: entry.status.dnr },
      });
      expect(decodeCompletionEntry(bytes).phase).toBe(entry.phase);
      // The phase tag is bit 16 of DW3, the status field right above it (byte 14 bit 1 onwards).
      expect((bytes[14] & 1) === 1).toBe(entry.phase === 1);
      expect(bytes[14] >> 1 | ((bytes[15] & 1) << 7)).toBe(entry.status.sc);
    }
  });
});
