import { describe, expect, it } from "vitest";
import { ErrorLog, NO_PARAMETER_LOCATION, parameterErrorLocation } from "../../../sim/nvme/error-log.ts";
import { DATA, expectOk, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";
import { AdminCommandField, NvmCommandField, SqeField } from "../../../rtl-src/nvme/nvme-sqe.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";

const SC = (sct: number, sc: number) => (sct << 8) | sc;

interface Entry {
  errorCount: bigint;
  sqid: number;
  cid: number;
  /** Status field without the phase tag: SC | SCT << 8 | DNR << 14. */
  status: number;
  phase: number;
  location: number;
  lba: bigint;
  nsid: number;
}

function entries(bytes: Uint8Array): Entry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Entry[] = [];
  for (let at = 0; at + 64 <= bytes.length; at += 64) {
    const word = v.getUint16(at + 12, true);
    out.push({
      errorCount: v.getBigUint64(at, true),
      sqid: v.getUint16(at + 8, true),
      cid: v.getUint16(at + 10, true),
      status: word >> 1,
      phase: word & 1,
      location: v.getUint16(at + 14, true),
      lba: v.getBigUint64(at + 16, true),
      nsid: v.getUint32(at + 24, true),
    });
  }
  return out;
}

function host(options: Partial<SsdOptions> = {}): TestHost {
  const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: 1000 }], maxNamespaces: 2, ...options });
  h.bringUp();
  return h;
}

/** Get Log Page of `dwords` dwords of `lid` from byte `offset`: the completion code and the bytes (host memory pre-filled with 0xEE). */
function getLog(h: TestHost, lid: number, dwords: number, offset = 0): { code: number; bytes: Uint8Array } {
  h.memory.fill(DATA, dwords * 4, 0xee);
  const numd = dwords - 1;
  const c = h.admin(sqe({ opcode: 0x02, nsid: 0xffffffff, prp1: DATA, prp2: DATA + 0x1000n, cdw10: lid | ((numd & 0xffff) << 16), cdw11: numd >>> 16, cdw12: offset }));
  return { code: c.code, bytes: h.memory.read(DATA, dwords * 4) };
}

describe("Error Information log", () => {
  it("places the parameter error location as byte and bit of the submission entry", () => {
    expect(parameterErrorLocation(SqeField.nsid)).toBe(4);
    expect(parameterErrorLocation(AdminCommandField.formatSecureErase)).toBe(41 | (1 << 8)); // CDW10 bits 11:9
    expect(parameterErrorLocation(NvmCommandField.slba)).toBe(40);
    expect(() => new ErrorLog(256)).toThrow(/elpe 256/);
  });

  it("keeps ELPE + 1 entries (ELPE 0 by default, as QEMU 7.2): one 64-byte entry, the newest", () => {
    const h = host();
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    expect(h.memory.read(DATA + 262n, 1)[0]).toBe(0);
    expect(getLog(h, 0x01, 16).bytes.subarray(0, 8).every((b) => b === 0)).toBe(true); // unused: all zero
    h.admin(sqe({ opcode: 0x7f }));
    h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 0x55 }));
    const [entry] = entries(getLog(h, 0x01, 16).bytes);
    expect(entry.errorCount).toBe(2n);
    expect(entry.status & 0xff).toBe(0x02);
    expect(getLog(h, 0x01, 16, 64).code).toBe(SC(0, 0x02)); // the log is one entry long
  });

  it("records every failed command newest first, with count, queue, command, status, phase, parameter location, LBA and namespace", () => {
    const h = host({ elpe: 3 });
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    expect(h.memory.read(DATA + 262n, 1)[0]).toBe(3);
    const read = h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 998, cdw12: 3 })); // LBAs 998..1001: 1000 is the first out of range
    const badNs = h.io(sqe({ opcode: 0x02, nsid: 7, prp1: DATA, cdw10: 0, cdw12: 0 }));
    const badFormat = h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: 3 << 9 }));
    const bytes = getLog(h, 0x01, 64).bytes;
    const [newest, second, third, unused] = entries(bytes);
    expect(newest).toEqual({ errorCount: 3n, sqid: 0, cid: badFormat.cid, status: 0x02 | (1 << 14), phase: badFormat.phase, location: 41 | (1 << 8), lba: 0n, nsid: 1 });
    expect(second).toEqual({ errorCount: 2n, sqid: 1, cid: badNs.cid, status: 0x0b | (1 << 14), phase: badNs.phase, location: 4, lba: 0n, nsid: 7 });
    expect(third).toEqual({ errorCount: 1n, sqid: 1, cid: read.cid, status: 0x80 | (1 << 14), phase: read.phase, location: 40, lba: 1000n, nsid: 1 });
    expect(bytes.subarray(192, 256).every((b) => b === 0)).toBe(true);
    expect(unused.errorCount).toBe(0n);
  });

  it("drops the oldest entries beyond ELPE + 1 while the count and the SMART total keep rising; injected statuses count too", () => {
    const h = host({ elpe: 1 });
    for (let i = 0; i < 4; i++) h.admin(sqe({ opcode: 0x7f, cdw10: i }));
    h.ssd.faults.injectStatus({ sqid: 1, opcode: 0x02 }, { sct: 2, sc: 0x81, dnr: false });
    const faulted = h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 17, cdw12: 0 }));
    expect(faulted.code).toBe(SC(2, 0x81));
    const log = entries(getLog(h, 0x01, 32).bytes);
    expect(log.map((e) => e.errorCount)).toEqual([5n, 4n]);
    expect(log[0]).toMatchObject({ sqid: 1, cid: faulted.cid, status: 0x281, location: NO_PARAMETER_LOCATION, nsid: 1 });
    const smart = new DataView(getLog(h, 0x02, 128).bytes.buffer);
    expect(smart.getBigUint64(176, true)).toBe(5n);
  });

  it("Get Log Page honours NUMD and the offset: one entry from the middle, a read past the end, a bad offset", () => {
    const h = host({ elpe: 3 });
    for (let i = 0; i < 3; i++) h.admin(sqe({ opcode: 0x7f }));
    const whole = getLog(h, 0x01, 64).bytes;
    const middle = getLog(h, 0x01, 16, 64);
    expect(middle.code).toBe(0);
    expect(entries(middle.bytes)[0].errorCount).toBe(2n);
    expect(Buffer.compare(middle.bytes, whole.subarray(64, 128))).toBe(0);
    const part = getLog(h, 0x01, 3, 8); // SQID, CID, status word
    expect(Buffer.compare(part.bytes, whole.subarray(8, 20))).toBe(0);
    const pastEnd = getLog(h, 0x01, 32, 192); // asks 128 bytes, 64 remain
    expect(pastEnd.code).toBe(0);
    expect(pastEnd.bytes.subarray(0, 64).every((b) => b === 0)).toBe(true);
    expect(pastEnd.bytes.subarray(64).every((b) => b === 0xee)).toBe(true);
    expect(getLog(h, 0x01, 16, 256).code).toBe(SC(0, 0x02));
    expect(getLog(h, 0x01, 16, 2).code).toBe(SC(0, 0x02));
    const sanitizing = host({ sanitizeBlockErase: true });
    const status = getLog(sanitizing, 0x81, 2, 4);
    expect(status.code).toBe(0);
    expect(new DataView(status.bytes.buffer).getUint32(0, true)).toBe(0); // SCDW10: never sanitized
    expect(getLog(sanitizing, 0x81, 1, 512).code).toBe(SC(0, 0x02));
  });
});
