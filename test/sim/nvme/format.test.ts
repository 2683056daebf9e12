import { describe, expect, it } from "vitest";
import { DATA, expectOk, pattern, sameBytes, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";
import { timingPresets } from "../../../sim/nvme/timing.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";

const SC = (sct: number, sc: number) => (sct << 8) | sc;
const INVALID_FIELD = SC(0, 0x02);
const INVALID_NAMESPACE = SC(0, 0x0b);
const INVALID_FORMAT = SC(1, 0x0a);
const FORMAT_IN_PROGRESS = SC(0, 0x84);
const INVALID_OPCODE = SC(0, 0x01);

const format = (fields: { lbaf?: number; mset?: number; pi?: number; pil?: number; ses?: number }) =>
  (fields.lbaf ?? 0) | ((fields.mset ?? 0) << 4) | ((fields.pi ?? 0) << 5) | ((fields.pil ?? 0) << 8) | ((fields.ses ?? 0) << 9);

const SMALL = 4096; // blocks per namespace in these tests

function host(options: Partial<SsdOptions> = {}): TestHost {
  const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: SMALL }], ...options });
  h.bringUp();
  return h;
}

/** Write `blocks` distinct blocks at `slba` of namespace `nsid` and return the data. */
function fill(h: TestHost, nsid: number, slba: number, blocks: number, lbaSize = 512): Uint8Array {
  const data = pattern(blocks * lbaSize, 1000 * nsid + slba);
  h.memory.write(DATA, data);
  expectOk(h.io(sqe({ opcode: 0x01, nsid, prp1: DATA, prp2: DATA + 0x1000n, cdw10: slba, cdw12: blocks - 1 })), "write");
  return data;
}

function readBack(h: TestHost, nsid: number, slba: number, blocks: number, lbaSize = 512): Uint8Array {
  h.memory.fill(DATA, blocks * lbaSize, 0x5a);
  expectOk(h.io(sqe({ opcode: 0x02, nsid, prp1: DATA, prp2: DATA + 0x1000n, cdw10: slba, cdw12: blocks - 1 })), "read");
  return h.memory.read(DATA, blocks * lbaSize);
}

function identifyNamespace(h: TestHost, nsid: number): DataView {
  expectOk(h.admin(sqe({ opcode: 0x06, nsid, prp1: DATA, cdw10: 0 })), "identify namespace");
  return new DataView(h.memory.read(DATA, 4096).buffer);
}

function identifyController(h: TestHost): DataView {
  expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify controller");
  return new DataView(h.memory.read(DATA, 4096).buffer);
}

const zero = (b: Uint8Array) => b.every((x) => x === 0);

describe("Format NVM", () => {
  it("is advertised like QEMU 7.2 by default (OACS bit 1, FNA 0) and refused as an unknown opcode when turned off", () => {
    const h = host();
    const id = identifyController(h);
    expect((id.getUint16(256, true) >> 1) & 1).toBe(1);
    expect(id.getUint8(524)).toBe(0);
    const off = host({ formatNvm: false });
    expect((identifyController(off).getUint16(256, true) >> 1) & 1).toBe(0);
    const data = fill(off, 1, 10, 4);
    const c = off.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses: 1 }) }));
    expect(c.code).toBe(INVALID_OPCODE);
    expect(sameBytes(readBack(off, 1, 10, 4), data)).toBe(true);
  });

  it("reports FNA from the options", () => {
    const h = host({ formatAppliesToAllNamespaces: true, secureEraseAppliesToAllNamespaces: true, formatCryptoErase: true });
    expect(identifyController(h).getUint8(524)).toBe(0x07);
  });

  for (const ses of [0, 1]) {
    it(`SES ${ses}: every block of the namespace is deallocated and reads as zeroes (DLFEAT 001b)`, () => {
      const h = host();
      const before = fill(h, 1, 0, 8);
      fill(h, 1, SMALL - 8, 8);
      expect(sameBytes(readBack(h, 1, 0, 8), before)).toBe(true);
      expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses }) })), "format");
      expect(zero(readBack(h, 1, 0, 8))).toBe(true);
      expect(zero(readBack(h, 1, SMALL - 8, 8))).toBe(true);
      expect(identifyNamespace(h, 1).getUint8(33) & 7).toBe(1);
    });
  }

  it("takes the timing model's time: a constant map reset, plus a block erase of the capacity for SES 1", () => {
    const capacityBlocks = 64 * 1024 * 1024; // 32 GiB of 512-byte blocks: erasing it takes a while
    const t = timingPresets.consumerSsd;
    const elapsed = (ses: number) => {
      const h = new TestHost({ timing: "consumerSsd", namespaces: [{ lbaSize: 512, capacityBlocks }], formatCryptoErase: true });
      h.bringUp();
      const start = h.cycle;
      h.submit(0, sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses }) }));
      expectOk(h.reap(0, 1_000_000_000), "format");
      return h.cycle - start;
    };
    const rounds = Math.ceil((capacityBlocks * 512) / (t.parallelUnits * t.eraseBlockBytes));
    const plain = elapsed(0);
    const userDataErase = elapsed(1);
    expect(plain).toBeGreaterThanOrEqual(t.deallocateAllCycles);
    expect(plain).toBeLessThan(t.deallocateAllCycles + 20_000);
    expect(userDataErase - plain).toBeGreaterThanOrEqual(rounds * t.blockEraseLatencyCycles - 1000);
    expect(userDataErase - plain).toBeLessThan(rounds * t.blockEraseLatencyCycles + 1000);
    const crypto = elapsed(2);
    expect(crypto - plain).toBeGreaterThanOrEqual(t.cryptoEraseCycles - 1000);
    expect(crypto - plain).toBeLessThan(t.cryptoEraseCycles + 1000);
  });

  it("SES 2 (cryptographic erase) runs only when FNA reports it; otherwise Invalid Field and the data stays", () => {
    const without = host();
    const data = fill(without, 1, 100, 4);
    const refused = without.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses: 2 }) }));
    expect(refused.code).toBe(INVALID_FIELD);
    expect(refused.dnr).toBe(true);
    expect(sameBytes(readBack(without, 1, 100, 4), data)).toBe(true);
    const withCrypto = host({ formatCryptoErase: true });
    fill(withCrypto, 1, 100, 4);
    expectOk(withCrypto.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses: 2 }) })), "crypto erase");
    expect(zero(readBack(withCrypto, 1, 100, 4))).toBe(true);
  });

  it("refuses reserved SES values, LBA formats it does not offer and protection information, leaving the data", () => {
    const h = host({ formatCryptoErase: true });
    const data = fill(h, 1, 7, 3);
    for (const ses of [3, 7]) expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses }) })).code).toBe(INVALID_FIELD);
    expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 2 }) })).code).toBe(INVALID_FORMAT);
    expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 15 }) })).code).toBe(INVALID_FORMAT);
    for (const pi of [1, 3]) expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ pi }) })).code).toBe(INVALID_FORMAT);
    expect(sameBytes(readBack(h, 1, 7, 3), data)).toBe(true);
    // MSET and PIL do not apply to formats without metadata: accepted, as QEMU 7.2 does.
    expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ mset: 1, pil: 1 }) })), "mset/pil");
    expect(zero(readBack(h, 1, 7, 3))).toBe(true);
  });

  it("LBAF 1 switches the namespace to 4096-byte blocks of the same total size, and back", () => {
    const h = host();
    fill(h, 1, 0, 8);
    expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 1, ses: 1 }) })), "to 4096");
    let ns = identifyNamespace(h, 1);
    expect(ns.getUint8(26) & 0xf).toBe(1);
    expect(ns.getBigUint64(0, true)).toBe(BigInt(SMALL / 8));
    expect(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: SMALL / 8, cdw12: 0 })).code).toBe(SC(0, 0x80));
    const big = fill(h, 1, 3, 2, 4096);
    expect(sameBytes(readBack(h, 1, 3, 2, 4096), big)).toBe(true);
    expect(zero(readBack(h, 1, 0, 2, 4096))).toBe(true);
    expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 0 }) })), "back to 512");
    ns = identifyNamespace(h, 1);
    expect(ns.getUint8(26) & 0xf).toBe(0);
    expect(ns.getBigUint64(0, true)).toBe(BigInt(SMALL));
    expect(zero(readBack(h, 1, 24, 8))).toBe(true);
  });

  describe("namespace scope", () => {
    const two = { namespaces: [{ lbaSize: 512 as const, capacityBlocks: SMALL }, { lbaSize: 512 as const, capacityBlocks: SMALL }], maxNamespaces: 4 };

    it("checks the NSID like QEMU 7.2: 0 and above NN invalid, an inactive one Invalid Field", () => {
      const h = host(two);
      expect(h.admin(sqe({ opcode: 0x80, nsid: 0, cdw10: 0 })).code).toBe(INVALID_NAMESPACE);
      expect(h.admin(sqe({ opcode: 0x80, nsid: 5, cdw10: 0 })).code).toBe(INVALID_NAMESPACE);
      expect(h.admin(sqe({ opcode: 0x80, nsid: 3, cdw10: 0 })).code).toBe(INVALID_FIELD);
    });

    it("a namespace ID formats only that namespace; FFFFFFFFh formats all", () => {
      const h = host(two);
      fill(h, 1, 5, 2);
      const second = fill(h, 2, 5, 2);
      expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses: 1 }) })), "format ns 1");
      expect(zero(readBack(h, 1, 5, 2))).toBe(true);
      expect(sameBytes(readBack(h, 2, 5, 2), second)).toBe(true);
      fill(h, 1, 5, 2);
      expectOk(h.admin(sqe({ opcode: 0x80, nsid: 0xffffffff, cdw10: format({ lbaf: 1 }) })), "format all");
      for (const nsid of [1, 2]) {
        expect(identifyNamespace(h, nsid).getUint8(26) & 0xf).toBe(1);
        expect(zero(readBack(h, nsid, 0, 2, 4096))).toBe(true);
      }
    });

    it("FNA bit 0: a format of one namespace formats them all", () => {
      const h = host({ ...two, formatAppliesToAllNamespaces: true });
      fill(h, 2, 5, 2);
      expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 1 }) })), "format");
      expect(identifyNamespace(h, 2).getUint8(26) & 0xf).toBe(1);
      expect(zero(readBack(h, 2, 0, 2, 4096))).toBe(true);
    });

    it("FNA bit 1: a secure erase erases every namespace, but only the addressed one changes format", () => {
      const h = host({ ...two, secureEraseAppliesToAllNamespaces: true });
      fill(h, 2, 5, 2);
      expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 1, ses: 1 }) })), "format");
      expect(identifyNamespace(h, 1).getUint8(26) & 0xf).toBe(1);
      expect(identifyNamespace(h, 2).getUint8(26) & 0xf).toBe(0);
      expect(zero(readBack(h, 2, 5, 2))).toBe(true);
      // Without a secure erase the format stays on its namespace.
      const kept = fill(h, 2, 9, 2);
      expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({ lbaf: 0 }) })), "plain format");
      expect(sameBytes(readBack(h, 2, 9, 2), kept)).toBe(true);
    });
  });

  it("I/O to a namespace being formatted gets Format In Progress; another namespace works; afterwards I/O succeeds", () => {
    const capacityBlocks = 64 * 1024 * 1024;
    const h = new TestHost({ timing: "consumerSsd", namespaces: [{ lbaSize: 512, capacityBlocks }, { lbaSize: 512, capacityBlocks: SMALL }] });
    h.bringUp();
    const formatCid = h.submit(0, sqe({ opcode: 0x80, nsid: 1, cdw10: format({ ses: 1 }) }));
    h.wait(100_000);
    expect(h.peekCompletion(0)).toBeUndefined();
    const refused = h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 0 }));
    expect(refused.code).toBe(FORMAT_IN_PROGRESS);
    expect(refused.dnr).toBe(false);
    expect(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 0 })).code).toBe(FORMAT_IN_PROGRESS);
    expectOk(h.io(sqe({ opcode: 0x02, nsid: 2, prp1: DATA, cdw10: 0, cdw12: 0 })), "read of the other namespace");
    expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: format({}) })).code).toBe(FORMAT_IN_PROGRESS);
    const done = h.reap(0, 500_000_000);
    expect(done.cid).toBe(formatCid);
    expect(done.code).toBe(0);
    expectOk(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 0 })), "read after the format");
  });
});
