import { describe, expect, it } from "vitest";
import * as cmd from "../../../sim/host/commands.ts";
import { decodeCqe, describeStatus } from "../../../sim/host/completion.ts";
import { decodeCap, encodeCc, doorbellOffset } from "../../../sim/host/registers.ts";

describe("submission entries", () => {
  it("places opcode, CID, NSID, PRPs and CDWs little-endian", () => {
    const sqe = cmd.encodeSqe(cmd.read({ nsid: 1, slba: 0x1_0000_0002n, blocks: 8 }, { prp1: 0x1000n, prp2: 0x2000n }), 0xabcd);
    const v = new DataView(sqe.buffer);
    expect(v.getUint32(0, true)).toBe(0xabcd_0002);
    expect(v.getUint32(4, true)).toBe(1);
    expect(v.getBigUint64(24, true)).toBe(0x1000n);
    expect(v.getBigUint64(32, true)).toBe(0x2000n);
    expect([v.getUint32(40, true), v.getUint32(44, true), v.getUint32(48, true)]).toEqual([2, 1, 7]);
  });

  it("encodes queue creation with zero-based sizes, PC and the target CQ", () => {
    const cq = cmd.createIoCq({ qid: 3, entries: 64, base: 0x5000n });
    expect([cq.cdw10, cq.cdw11]).toEqual([(63 << 16) | 3, 1]);
    const sq = cmd.createIoSq({ qid: 3, entries: 64, base: 0x6000n, cqid: 2 });
    expect([sq.cdw10, sq.cdw11]).toEqual([(63 << 16) | 3, (2 << 16) | 1]);
  });

  it("encodes Get Log Page with a zero-based dword count split over NUMDL/NUMDU and the byte offset in CDW12/13", () => {
    const c = cmd.getLogPage(0x81, 4 * 0x12345, { prp1: 0x1000n, prp2: 0n }, 0x1_0000_0040n, true);
    expect([c.opcode, c.cdw10, c.cdw11, c.cdw12, c.cdw13]).toEqual([0x02, (0x2344 << 16) | (1 << 15) | 0x81, 0x1, 0x40, 0x1]);
    expect(() => cmd.getLogPage(1, 6, { prp1: 0n, prp2: 0n })).toThrow(/multiple of 4/);
  });

  it("encodes Format NVM and Sanitize CDW10/CDW11 (OWPASS 16 sent as 0)", () => {
    const f = cmd.formatNvm({ nsid: 1, lbaFormat: 4, metadataSettings: 1, protectionInfo: 2, protectionLocation: 1, secureErase: 2 });
    expect([f.opcode, f.nsid, f.cdw10]).toEqual([0x80, 1, 4 | (1 << 4) | (2 << 5) | (1 << 8) | (2 << 9)]);
    const s = cmd.sanitize({ action: 3, allowUnrestrictedExit: true, overwritePasses: 16, invertBetweenPasses: true, noDeallocate: true, overwritePattern: 0xdeadbeef });
    expect([s.opcode, s.cdw10, s.cdw11]).toEqual([0x84, 3 | (1 << 3) | (0 << 4) | (1 << 8) | (1 << 9), 0xdeadbeef]);
    expect(cmd.sanitize({ action: 3, overwritePasses: 5 }).cdw10).toBe(3 | (5 << 4));
    expect(() => cmd.sanitize({ action: 3, overwritePasses: 17 })).toThrow(/overwrite passes 17/);
  });

  it("encodes Dataset Management ranges with 1-based lengths", () => {
    const bytes = cmd.encodeDsmRanges([{ slba: 9n, blocks: 3 }]);
    const v = new DataView(bytes.buffer);
    expect([v.getUint32(4, true), v.getBigUint64(8, true)]).toEqual([3, 9n]);
    expect(() => cmd.encodeDsmRanges([])).toThrow(/1..256/);
  });
});

describe("completion entries", () => {
  it("decodes CID, phase, SQ head/ID and the status field", () => {
    const raw = new Uint8Array(16);
    const v = new DataView(raw.buffer);
    v.setUint32(0, 0x1234, true);
    v.setUint32(8, (5 << 16) | 7, true);
    v.setUint32(12, ((1 << 31) | (1 << 25) | (0x0c << 17) | (1 << 16) | 42) >>> 0, true);
    const e = decodeCqe(raw);
    expect(e).toMatchObject({ dw0: 0x1234, sqHead: 7, sqId: 5, cid: 42, phase: 1 });
    expect(describeStatus(e.status)).toBe("commandSpecific/invalidQueueDeletion (0x0c) DNR");
  });
});

describe("registers", () => {
  it("decodes CAP and encodes CC as the driver programs it", () => {
    const cap = decodeCap(0x0040_1020_0f01_07ffn);
    expect(cap).toMatchObject({ maxQueueEntries: 0x800, contiguousQueuesRequired: true, readyTimeoutMs: 7500, doorbellStride: 4, nvmCommandSet: true, minPageSize: 4096, maxPageSize: 65536 });
    expect(encodeCc({ enable: true, pageSize: 4096, shutdown: 0, ioSqEntryBytes: 64, ioCqEntryBytes: 16 })).toBe(0x0046_0001);
    expect(doorbellOffset(1, "cqHead", 4)).toBe(0x100c);
    expect(doorbellOffset(2, "sqTail", 16)).toBe(0x1040);
  });
});
