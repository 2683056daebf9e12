import { describe, expect, it } from "vitest";
import type { MemRequest, Message } from "../../../sim/pcie/tlp.ts";
import { BAR0, DATA, expectOk, IOCQ, IOSQ, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";

const MSI_ADDRESS = 0xfee00000n;

describe("NVMe SSD interrupts", () => {
  it("sends MSI-X messages for a CQ with interrupts enabled, holding them while masked", () => {
    const h = new TestHost();
    h.enumerate();
    h.cfgWrite(0x80, 1 << 31, 0b1000); // MSI-X enable
    h.enable();
    const table = BAR0 + BigInt(h.ssd.layout.msixTableOffset);
    h.mmioWrite64(h.ssd.layout.msixTableOffset + 16, MSI_ADDRESS + 4n);
    h.mmioWrite32(h.ssd.layout.msixTableOffset + 16 + 8, 0x4321);
    expect(h.memRead(table + 16n + 12n).data![0] & 1).toBe(1); // still masked
    expectOk(h.admin(sqe({ opcode: 0x05, prp1: IOCQ, cdw10: 1 | (15 << 16), cdw11: 0b11 | (1 << 16) })), "create CQ with vector 1");
    expectOk(h.admin(sqe({ opcode: 0x01, prp1: IOSQ, cdw10: 1 | (15 << 16), cdw11: 1 | (1 << 16) })), "create SQ");
    h.attachQueue(1, IOSQ, IOCQ, 16);
    const msi = () => h.upstream.map((s) => s.tlp).filter((t): t is MemRequest => t.kind === "MWr" && t.address === MSI_ADDRESS + 4n);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush while masked");
    expect(msi().length).toBe(0);
    const pba = h.memRead(BAR0 + BigInt(h.ssd.layout.msixPbaOffset)).data!;
    expect(pba[0] & 0b10).toBe(0b10);
    h.mmioWrite32(h.ssd.layout.msixTableOffset + 16 + 12, 0); // unmask -> pending message goes out
    h.settle();
    expect(msi().length).toBe(1);
    expect(new DataView(msi()[0].data!.buffer).getUint32(0, true)).toBe(0x4321);
    expectOk(h.io(sqe({ opcode: 0x00, nsid: 1 })), "flush unmasked");
    h.settle();
    expect(msi().length).toBe(2);
  });

  it("rejects a CQ interrupt vector beyond the MSI-X table", () => {
    const h = new TestHost({ msixVectors: 4 });
    h.enumerate();
    h.cfgWrite(0x80, 1 << 31, 0b1000);
    h.enable();
    expect(h.admin(sqe({ opcode: 0x05, prp1: IOCQ, cdw10: 1 | (15 << 16), cdw11: 0b11 | (4 << 16) })).code).toBe(0x108);
  });

  it("asserts INTA while the admin CQ holds entries and deasserts when they are consumed", () => {
    const h = new TestHost();
    h.enumerate();
    h.cfgWrite(0x04, 0x0006, 0b0011); // INTx enabled
    h.enable();
    const messages = () => h.upstream.map((s) => s.tlp).filter((t): t is Message => t.kind === "Msg").map((m) => m.messageCode);
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    h.settle();
    expect(messages()).toEqual([0x20, 0x24]);
  });
});
