// The Submission Queue Entry table against NVMe 1.4 §4.2, and the driver's encoder against the SSD
// model's parser, both placed by it.
import { describe, expect, it } from "vitest";
import { readField, readFieldBig } from "../../../rtl-src/nvme/nvme-field.ts";
import {
  AdminCommandField as A,
  DSM_RANGE_BYTES,
  DsmRangeField,
  NvmCommandField as N,
  PRP_ENTRY_BYTES,
  PrpEntryField,
  SQE_BYTES,
  SqeField,
} from "../../../rtl-src/nvme/nvme-sqe.ts";
import { logPageCommand } from "../../../rtl-src/nvme/log-page-refresh.ts";
import * as cmd from "../../../sim/host/commands.ts";
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

  it("puts the admin commands' CDW10/CDW11 fields where NVMe 1.4 §5 does (PROTOCOL_FACTS §E.4), as the driver's builders do", () => {
    const at = Object.fromEntries(Object.entries(A).map(([name, f]) => [name, where(f)]));
    expect(at).toEqual({
      identifyCns: "byte 40 bits 7:0",
      identifyCntid: "byte 40 bits 31:16",
      createQueueId: "byte 40 bits 15:0",
      createQueueSize: "byte 40 bits 31:16",
      createQueueContiguous: "byte 44 bits 0:0",
      createCqInterruptsEnabled: "byte 44 bits 1:1",
      createCqInterruptVector: "byte 44 bits 31:16",
      createSqPriority: "byte 44 bits 2:1",
      createSqCqId: "byte 44 bits 31:16",
      featureId: "byte 40 bits 7:0",
      featureSave: "byte 40 bits 31:31",
      numberOfSqsRequested: "byte 44 bits 15:0",
      numberOfCqsRequested: "byte 44 bits 31:16",
      logPageId: "byte 40 bits 7:0",
      logSpecificField: "byte 40 bits 11:8",
      logRetainEvent: "byte 40 bits 15:15",
      logDwordsLower: "byte 40 bits 31:16",
      logDwordsUpper: "byte 44 bits 15:0",
      logSpecificId: "byte 44 bits 31:16",
      logPageOffset: "byte 48 size 8",
      // Format NVM CDW10 (NVMe 1.4 Figure 299): SES [11:9], PIL [8], PI [7:5], MSET [4], LBAF [3:0].
      formatLbaFormat: "byte 40 bits 3:0",
      formatMetadataSettings: "byte 40 bits 4:4",
      formatProtectionInfo: "byte 40 bits 7:5",
      formatProtectionLocation: "byte 40 bits 8:8",
      formatSecureErase: "byte 40 bits 11:9",
      // Sanitize CDW10 (Figure 372): NDAS [9], OIPBP [8], OWPASS [7:4], AUSE [3], SANACT [2:0]; CDW11 the overwrite pattern.
      sanitizeAction: "byte 40 bits 2:0",
      sanitizeAllowUnrestrictedExit: "byte 40 bits 3:3",
      sanitizeOverwritePasses: "byte 40 bits 7:4",
      sanitizeOverwriteInvert: "byte 40 bits 8:8",
      sanitizeNoDeallocate: "byte 40 bits 9:9",
      sanitizeOverwritePattern: "byte 44 size 4",
    });
    const field = (command: cmd.Command, f: (typeof A)[keyof typeof A]) => readField(encodeSqe(command, 1), f);
    expect(field(cmd.identify(0x01, 0, { prp1: 0x1000n, prp2: 0n }), A.identifyCns)).toBe(0x01);
    const cq = cmd.createIoCq({ qid: 3, entries: 200, base: 0x2000n, interruptsEnabled: true, interruptVector: 9 });
    expect([A.createQueueId, A.createQueueSize, A.createQueueContiguous, A.createCqInterruptsEnabled, A.createCqInterruptVector].map((f) => field(cq, f))).toEqual([3, 199, 1, 1, 9]);
    const sq = cmd.createIoSq({ qid: 5, entries: 64, base: 0x3000n, cqid: 4, priority: 2, physicallyContiguous: false });
    expect([A.createQueueId, A.createQueueSize, A.createQueueContiguous, A.createSqPriority, A.createSqCqId].map((f) => field(sq, f))).toEqual([5, 63, 0, 2, 4]);
    const queues = cmd.setNumberOfQueues(7, 3);
    expect([A.featureId, A.numberOfSqsRequested, A.numberOfCqsRequested].map((f) => field(queues, f))).toEqual([0x07, 6, 2]);
    // Get Log Page as log_page_refresh sends the SMART log: LID 02h, 128 DWs (zero-based 127), RAE 0.
    const port = logPageCommand({ lid: 0x02, bytes: 512, base: 0x1000_4000 });
    const log = { ...port, prp1: BigInt(port.prp1) };
    expect([A.logPageId, A.logDwordsLower, A.logRetainEvent, A.logSpecificField, A.logDwordsUpper, A.logSpecificId].map((f) => field(log, f))).toEqual([0x02, 127, 0, 0, 0, 0]);
  });

  it("puts the NVM commands' fields, the DSM range and the PRP entry where NVMe 1.4 §6 and §4.3 do (PROTOCOL_FACTS §E.5, §E.8), as the driver's builders do", () => {
    expect(Object.fromEntries(Object.entries(N).map(([name, f]) => [name, where(f)]))).toEqual({
      slba: "byte 40 size 8",
      nlb: "byte 48 bits 15:0",
      fua: "byte 48 bits 30:30",
      dsmRanges: "byte 40 bits 7:0",
      dsmDeallocate: "byte 44 bits 2:2",
    });
    expect(DSM_RANGE_BYTES).toBe(cmd.DSM_RANGE_BYTES);
    expect(Object.fromEntries(Object.entries(DsmRangeField).map(([name, f]) => [name, where(f)]))).toEqual({
      contextAttributes: "byte 0 size 4",
      length: "byte 4 size 4",
      slba: "byte 8 size 8",
    });
    expect(overlaps(DsmRangeField)).toEqual([]);
    expect([PRP_ENTRY_BYTES, where(PrpEntryField.address)]).toEqual([8, "byte 0 size 8"]);

    const range = { nsid: 3, slba: 0x1234_5678_9abc_def0n, blocks: 0x1_0000 };
    const sqe = encodeSqe(cmd.write(range, { prp1: 0x1000n, prp2: 0n }, true), 7);
    expect([readFieldBig(sqe, N.slba), readField(sqe, N.nlb), readField(sqe, N.fua)]).toEqual([range.slba, 0xffff, 1]);
    const plain = encodeSqe(cmd.read({ ...range, blocks: 8 }, { prp1: 0x1000n, prp2: 0n }), 7);
    expect([readField(plain, N.nlb), readField(plain, N.fua)]).toEqual([7, 0]);
    const dsm = encodeSqe(cmd.datasetManagement(1, 1, { prp1: 0x2000n, prp2: 0n }, { deallocate: true }), 8);
    expect([readField(dsm, N.dsmRanges), readField(dsm, N.dsmDeallocate)]).toEqual([0, 1]);
    const ranges = cmd.encodeDsmRanges([{ slba: range.slba, blocks: 0x8000_0001, contextAttributes: 0x55 }]);
    expect([readField(ranges, DsmRangeField.contextAttributes), readField(ranges, DsmRangeField.length), readFieldBig(ranges, DsmRangeField.slba)]).toEqual([0x55, 0x8000_0001, range.slba]);
  });
});
