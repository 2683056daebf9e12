import { describe, expect, it } from "vitest";
import { DATA, expectOk, IOCQ, IOSQ, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

const SC = (sct: number, sc: number) => (sct << 8) | sc;

describe("NVMe admin commands", () => {
  it("Identify Controller reports MDTS, NN, VWC, atomic units and queue entry sizes", () => {
    const h = new TestHost({ mdts: 5, awun: 7, awupf: 3, namespaces: [{ lbaSize: 512, capacityBlocks: 1000 }, { lbaSize: 4096, capacityBlocks: 500 }] });
    h.bringUp();
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    const id = h.memory.read(DATA, 4096);
    const v = new DataView(id.buffer);
    expect(v.getUint16(0, true)).toBe(0x1b36);
    expect(String.fromCharCode(...id.subarray(4, 16))).toBe("NVMEHOST0001");
    expect(id[77]).toBe(5);
    expect(v.getUint32(80, true)).toBe(0x00010400);
    expect(id[512]).toBe(0x66);
    expect(id[513]).toBe(0x44);
    expect(v.getUint32(516, true)).toBe(2);
    expect(v.getUint16(520, true) & 0x0c).toBe(0x0c);
    expect(id[525] & 1).toBe(1);
    expect(v.getUint16(526, true)).toBe(7);
    expect(v.getUint16(528, true)).toBe(3);
  });

  it("Identify Namespace gives size and LBA format; the active list names both namespaces", () => {
    const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: 1000 }, { lbaSize: 4096, capacityBlocks: 4_000_000_000, nawun: 15, nawupf: 7 }], maxNamespaces: 4 });
    h.bringUp();
    expectOk(h.admin(sqe({ opcode: 0x06, nsid: 2, prp1: DATA, cdw10: 0 })), "identify ns");
    const v = new DataView(h.memory.read(DATA, 4096).buffer);
    expect(v.getBigUint64(0, true)).toBe(4_000_000_000n);
    expect((v.getUint8(24) >> 1) & 1).toBe(1);
    expect(v.getUint16(34, true)).toBe(15);
    expect(v.getUint16(36, true)).toBe(7);
    // Both namespaces offer the formats 512 (LBAF0) and 4096 (LBAF1); FLBAS selects the 4096-byte one.
    expect(v.getUint8(25)).toBe(1);
    expect(v.getUint8(26) & 0xf).toBe(1);
    expect((v.getUint32(128, true) >> 16) & 0xff).toBe(9);
    expect((v.getUint32(132, true) >> 16) & 0xff).toBe(12);
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 2 })), "active list");
    const list = new DataView(h.memory.read(DATA, 16).buffer);
    expect([list.getUint32(0, true), list.getUint32(4, true), list.getUint32(8, true)]).toEqual([1, 2, 0]);
    // NSID 3 is valid (<= NN) but inactive: an all-zero structure. NSID 5 is invalid.
    h.memory.fill(DATA, 4096, 0xaa);
    expectOk(h.admin(sqe({ opcode: 0x06, nsid: 3, prp1: DATA, cdw10: 0 })), "inactive ns");
    expect(h.memory.read(DATA, 4096).every((b) => b === 0)).toBe(true);
    expect(h.admin(sqe({ opcode: 0x06, nsid: 5, prp1: DATA, cdw10: 0 })).code).toBe(SC(0, 0x0b));
    expect(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 0x55 })).code).toBe(SC(0, 0x02));
  });

  it("Identify data lands correctly with a PRP1 offset spilling into PRP2", () => {
    const h = new TestHost();
    h.bringUp();
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA + 0x800n, prp2: DATA + 0x3000n, cdw10: 1 })), "identify");
    expect(new DataView(h.memory.read(DATA + 0x800n, 2).buffer).getUint16(0, true)).toBe(0x1b36);
    expect(h.memory.read(DATA + 0x800n + 512n, 1)[0]).toBe(0x66);
    expect(new DataView(h.memory.read(DATA + 0x3000n, 2).buffer).getUint16(0, true)).toBe(2500); // PSD0 at byte 2048
  });

  it("rejects unknown admin opcodes", () => {
    const h = new TestHost();
    h.bringUp();
    const c = h.admin(sqe({ opcode: 0x7f }));
    expect(c.code).toBe(SC(0, 0x01));
    expect(c.dnr).toBe(true);
  });

  it("checks every Create I/O CQ parameter", () => {
    const h = new TestHost({ ioQueuePairs: 4, mqes: 255 });
    h.enumerate();
    h.enable();
    const create = (cdw10: number, cdw11: number, prp1 = IOCQ) => h.admin(sqe({ opcode: 0x05, prp1, cdw10, cdw11 })).code;
    expect(create(0 | (15 << 16), 1)).toBe(SC(1, 0x01)); // QID 0
    expect(create(5 | (15 << 16), 1)).toBe(SC(1, 0x01)); // beyond queue pairs
    expect(create(1 | (0 << 16), 1)).toBe(SC(1, 0x02)); // size 1 entry
    expect(create(1 | (256 << 16), 1)).toBe(SC(1, 0x02)); // beyond MQES
    expect(create(1 | (15 << 16), 1, IOCQ + 0x10n)).toBe(SC(0, 0x13)); // not page aligned
    expect(create(1 | (15 << 16), 1 | (2 << 16))).toBe(SC(1, 0x08)); // vector without MSI-X
    expect(create(1 | (15 << 16), 0)).toBe(SC(0, 0x02)); // not contiguous
    expect(create(1 | (15 << 16), 1)).toBe(0);
    expect(create(1 | (15 << 16), 1)).toBe(SC(1, 0x01)); // exists
  });

  it("checks every Create I/O SQ parameter and the deletion rules", () => {
    const h = new TestHost({ ioQueuePairs: 4, mqes: 255 });
    h.enumerate();
    h.enable();
    const createSq = (cdw10: number, cdw11: number, prp1 = IOSQ) => h.admin(sqe({ opcode: 0x01, prp1, cdw10, cdw11 })).code;
    expect(createSq(1 | (15 << 16), 1 | (1 << 16))).toBe(SC(1, 0x00)); // CQ 1 does not exist
    expectOk(h.admin(sqe({ opcode: 0x05, prp1: IOCQ, cdw10: 1 | (15 << 16), cdw11: 1 })), "create cq");
    expect(createSq(1 | (15 << 16), 1 | (0 << 16))).toBe(SC(1, 0x00)); // CQID 0
    expect(createSq(0 | (15 << 16), 1 | (1 << 16))).toBe(SC(1, 0x01));
    expect(createSq(9 | (15 << 16), 1 | (1 << 16))).toBe(SC(1, 0x01));
    expect(createSq(1 | (0 << 16), 1 | (1 << 16))).toBe(SC(1, 0x02));
    expect(createSq(1 | (15 << 16), 1 | (1 << 16), IOSQ + 8n)).toBe(SC(0, 0x13));
    expect(createSq(1 | (15 << 16), 0 | (1 << 16))).toBe(SC(0, 0x02));
    expect(createSq(1 | (15 << 16), 1 | (1 << 16))).toBe(0);
    expect(h.admin(sqe({ opcode: 0x04, cdw10: 1 })).code).toBe(SC(1, 0x0c)); // CQ still has an SQ
    expect(h.admin(sqe({ opcode: 0x00, cdw10: 2 })).code).toBe(SC(1, 0x01));
    expect(h.admin(sqe({ opcode: 0x00, cdw10: 0 })).code).toBe(SC(1, 0x01));
    expect(h.admin(sqe({ opcode: 0x00, cdw10: 1 })).code).toBe(0);
    expect(h.admin(sqe({ opcode: 0x04, cdw10: 0 })).code).toBe(SC(1, 0x01)); // Invalid Queue Identifier (NVMe 1.4 §5.5)
    expect(h.admin(sqe({ opcode: 0x04, cdw10: 1 })).code).toBe(0);
    expect(h.admin(sqe({ opcode: 0x04, cdw10: 1 })).code).toBe(SC(1, 0x01));
  });

  it("Set/Get Features: Number of Queues, Volatile Write Cache, Arbitration", () => {
    const h = new TestHost({ ioQueuePairs: 8 });
    h.enumerate();
    h.enable();
    const numq = h.admin(sqe({ opcode: 0x09, cdw10: 0x07, cdw11: 0x00030003 }));
    expect(numq.code).toBe(0);
    expect(numq.dw0).toBe(0x00070007);
    expect(h.admin(sqe({ opcode: 0x09, cdw10: 0x07, cdw11: 0xffff })).code).toBe(SC(0, 0x02));
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x06 })).dw0).toBe(1);
    expectOk(h.admin(sqe({ opcode: 0x09, cdw10: 0x06, cdw11: 0 })), "vwc off");
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x06 })).dw0).toBe(0);
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x01 })).dw0).toBe(7);
    expectOk(h.admin(sqe({ opcode: 0x09, cdw10: 0x01, cdw11: 0x2 })), "arbitration");
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x01 })).dw0).toBe(2);
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x01 | (1 << 8) })).dw0).toBe(7); // default
    expect(h.admin(sqe({ opcode: 0x09, cdw10: 0x06 | (1 << 31), cdw11: 1 })).code).toBe(SC(1, 0x0d));
    expect(h.admin(sqe({ opcode: 0x09, nsid: 1, cdw10: 0x06, cdw11: 1 })).code).toBe(SC(1, 0x0f));
    expect(h.admin(sqe({ opcode: 0x09, cdw10: 0x42 })).code).toBe(SC(0, 0x02));
    expectOk(h.admin(sqe({ opcode: 0x05, prp1: IOCQ, cdw10: 1 | (15 << 16), cdw11: 1 })), "create cq");
    expect(h.admin(sqe({ opcode: 0x09, cdw10: 0x07, cdw11: 0 })).code).toBe(SC(0, 0x0c));
  });

  it("Set/Get Features: temperature threshold and write atomicity", () => {
    const h = new TestHost();
    h.bringUp();
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x04 })).dw0).toBe(0x157);
    expectOk(h.admin(sqe({ opcode: 0x09, cdw10: 0x04, cdw11: 0x150 })), "over threshold");
    expectOk(h.admin(sqe({ opcode: 0x09, cdw10: 0x04, cdw11: 0x100 | (1 << 20) })), "under threshold");
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x04 })).dw0).toBe(0x150);
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x04, cdw11: 1 << 20 })).dw0).toBe(0x100);
    expect(h.admin(sqe({ opcode: 0x09, cdw10: 0x04, cdw11: 2 << 20 })).code).toBe(SC(0, 0x02));
    expectOk(h.admin(sqe({ opcode: 0x09, cdw10: 0x0a, cdw11: 1 })), "DN");
    expect(h.admin(sqe({ opcode: 0x0a, cdw10: 0x0a })).dw0).toBe(1);
  });

  it("Get Log Page: SMART counts host commands; error log records failures; bad offsets fail", () => {
    const h = new TestHost();
    h.bringUp();
    expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw12: 7 })), "write");
    expect(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 0xffffffff, cdw11: 0 })).code).toBe(0x80);
    expectOk(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x02 | (127 << 16) })), "smart");
    const smart = new DataView(h.memory.read(DATA, 512).buffer);
    expect(smart.getBigUint64(80, true)).toBe(1n); // host write commands
    expect(smart.getBigUint64(48, true)).toBe(1n); // data units written (rounded up)
    expectOk(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x01 | (15 << 16) })), "error log");
    const err = new DataView(h.memory.read(DATA, 64).buffer);
    expect(err.getBigUint64(0, true)).toBe(1n);
    expect(err.getUint16(8, true)).toBe(1);
    expect((err.getUint16(12, true) >> 1) & 0xff).toBe(0x80);
    expect(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x02 | (127 << 16), cdw12: 2 })).code).toBe(SC(0, 0x02));
    expect(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x02, cdw12: 512 })).code).toBe(SC(0, 0x02));
    expect(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x7e })).code).toBe(SC(0, 0x02));
  });

  it("Abort finds a waiting Asynchronous Event Request; a bad doorbell completes another", () => {
    const h = new TestHost();
    h.bringUp();
    const aerCid = h.submit(0, sqe({ opcode: 0x0c }));
    h.settle();
    expect(h.peekCompletion(0)).toBeUndefined();
    const abort = h.admin(sqe({ opcode: 0x08, cdw10: 0 | (aerCid << 16) }));
    const aborted = abort.cid === aerCid ? abort : h.reap(0);
    const abortCqe = abort.cid === aerCid ? h.reap(0) : abort;
    expect(aborted.code).toBe(0x07);
    expect(abortCqe.dw0 & 1).toBe(0);
    h.submit(0, sqe({ opcode: 0x0c }));
    h.settle();
    h.mmioWrite32(0x1000 + 8 * 9, 1); // SQ 9 does not exist
    const event = h.reap(0);
    expect(event.code).toBe(0);
    expect(event.dw0 & 7).toBe(0); // error event
    expect((event.dw0 >> 8) & 0xff).toBe(0); // invalid doorbell register
    expect((event.dw0 >> 16) & 0xff).toBe(1); // error information log
    expect(h.ssd.controller.stats.doorbellErrors).toBe(1);
  });
});
