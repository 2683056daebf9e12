import { describe, expect, it } from "vitest";
import type { MemRequest } from "../../../sim/pcie/tlp.ts";
import { ACQ, ASQ, DATA, expectOk, IOCQ, IOSQ, pattern, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

describe("NVMe queues, doorbells and arbitration", () => {
  it("places doorbells at the CAP.DSTRD stride", () => {
    const h = new TestHost({ dstrd: 2 });
    h.bringUp();
    expect(h.doorbell(1, true)).toBe(0x1000 + 3 * 16);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush through strided doorbells");
    h.mmioWrite32(0x1004, 1); // between doorbells at stride 16
    expect(h.ssd.log.inCategory("doorbell-invalid").at(-1)!.reason).toMatch(/between doorbells/);
  });

  it("uses the memory page size from CC.MPS for PRPs and queue alignment", () => {
    const h = new TestHost({ mpsmax: 1, mdts: 0 });
    h.enumerate();
    h.enable(16, 0x00460001 | (1 << 7)); // 8 KiB pages
    expect(h.ssd.controller.pageSize).toBe(8192);
    expect(h.admin(sqe({ opcode: 0x05, prp1: IOCQ + 0x1000n, cdw10: 1 | (15 << 16), cdw11: 1 })).code).toBe(0x13);
    expectOk(h.admin(sqe({ opcode: 0x05, prp1: IOCQ, cdw10: 1 | (15 << 16), cdw11: 1 })), "cq");
    expectOk(h.admin(sqe({ opcode: 0x01, prp1: IOSQ - 0x10000n, cdw10: 1 | (15 << 16), cdw11: 1 | (1 << 16) })), "sq");
    h.attachQueue(1, IOSQ - 0x10000n, IOCQ, 16);
    const data = pattern(16384, 21);
    h.memory.write(DATA + 0x1000n, data.subarray(0, 0x1000)); // PRP1 offset 4 KiB into an 8 KiB page
    h.memory.write(DATA + 0x6000n, data.subarray(0x1000, 0x3000)); // second page (8 KiB)
    h.memory.write(DATA + 0xa000n, data.subarray(0x3000)); // third page via list
    h.memory.writeU64(DATA + 0x20000n, DATA + 0x6000n);
    h.memory.writeU64(DATA + 0x20008n, DATA + 0xa000n);
    expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA + 0x1000n, prp2: DATA + 0x20000n, cdw12: 31 })), "write");
    expect(h.ssd.controller.media[0].read(0, 32)).toEqual(data);
    expect(ASQ % 8192n).toBe(0n);
    expect(ACQ % 8192n).toBe(0n);
  });

  it("serves several submission queues round robin", () => {
    const h = new TestHost({ sqeFetchBurst: 1 });
    h.bringUp();
    const SQ2 = 0x50000n;
    expectOk(h.admin(sqe({ opcode: 0x01, prp1: SQ2, cdw10: 2 | (15 << 16), cdw11: 1 | (1 << 16) })), "second SQ on CQ 1");
    h.attachQueue(2, SQ2, IOCQ, 16);
    for (let i = 0; i < 4; i++) {
      h.submit(1, sqe({ opcode: 0x00, nsid: 1, cid: 100 + i }), false);
      h.submit(2, sqe({ opcode: 0x00, nsid: 1, cid: 200 + i }), false);
    }
    const from = h.upstream.length;
    h.ringSq(1);
    h.ringSq(2);
    h.settle();
    const fetches = h.sent("MRd", from) as MemRequest[];
    const order = fetches.map((t) => (t.address >= SQ2 ? 2 : 1));
    expect(order.slice(0, 4)).toEqual([1, 2, 1, 2]);
  });

  it("batches submission entry fetches up to the burst and within MRRS", () => {
    const h = new TestHost({ sqeFetchBurst: 8 });
    h.bringUp({ mrrs: 256 });
    for (let i = 0; i < 8; i++) h.submit(1, sqe({ opcode: 0x00, nsid: 1 }), false);
    const from = h.upstream.length;
    h.ringSq(1);
    h.settle();
    const fetches = (h.sent("MRd", from) as MemRequest[]).filter((t) => t.address >= IOSQ && t.address < IOSQ + 0x1000n);
    expect(fetches.map((t) => t.lengthDw * 4)).toEqual([256, 256]);
    expect(fetches.every((t) => t.tag < 32)).toBe(true);
  });
});
