import { describe, expect, it } from "vitest";
import { DATA, expectOk, pattern, sameBytes, sqe, TestHost } from "../../../sim/testbench/nvme-harness.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { timingPresets } from "../../../sim/nvme/timing.ts";

const SC = (sct: number, sc: number) => (sct << 8) | sc;
const INVALID_OPCODE = SC(0, 0x01);
const INVALID_FIELD = SC(0, 0x02);
const SANITIZE_FAILED = SC(0, 0x1c);
const SANITIZE_IN_PROGRESS = SC(0, 0x1d);

const Action = { exitFailureMode: 1, blockErase: 2, overwrite: 3, cryptoErase: 4 } as const;
const ALL = { sanitizeBlockErase: true, sanitizeOverwrite: true, sanitizeCryptoErase: true };
const BLOCKS = 4096;

interface SanitizeFields {
  action: number;
  ause?: boolean;
  passes?: number;
  invert?: boolean;
  ndas?: boolean;
  pattern?: number;
}

const sanitize = (f: SanitizeFields) =>
  sqe({
    opcode: 0x84,
    cdw10: f.action | ((f.ause ? 1 : 0) << 3) | (((f.passes ?? 0) & 0xf) << 4) | ((f.invert ? 1 : 0) << 8) | ((f.ndas ? 1 : 0) << 9),
    cdw11: f.pattern ?? 0,
  });

function host(options: Partial<SsdOptions> = {}): TestHost {
  const h = new TestHost({ namespaces: [{ lbaSize: 512, capacityBlocks: BLOCKS }], ...options });
  h.bringUp();
  return h;
}

/** A host on a drive large enough that a sanitize takes a long time (consumerSsd: 32 GiB block erase ~ 0.45 s). */
function slowHost(options: Partial<SsdOptions> = {}): TestHost {
  const h = new TestHost({ timing: "consumerSsd", namespaces: [{ lbaSize: 512, capacityBlocks: 64 * 1024 * 1024 }], ...options });
  h.bringUp();
  return h;
}

function fill(h: TestHost, slba: number, blocks: number): Uint8Array {
  const data = pattern(blocks * 512, 77 + slba);
  h.memory.write(DATA, data);
  expectOk(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw10: slba, cdw12: blocks - 1 })), "write");
  return data;
}

function readBack(h: TestHost, slba: number, blocks: number): Uint8Array {
  h.memory.fill(DATA, blocks * 512, 0x5a);
  expectOk(h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: slba, cdw12: blocks - 1 })), "read");
  return h.memory.read(DATA, blocks * 512);
}

interface SanitizeStatus {
  sprog: number;
  state: number;
  passes: number;
  globalDataErased: boolean;
  scdw10: number;
  estimates: number[];
}

function sanitizeLog(h: TestHost): SanitizeStatus {
  expectOk(h.admin(sqe({ opcode: 0x02, nsid: 0xffffffff, prp1: DATA, cdw10: 0x81 | (127 << 16) })), "sanitize status log");
  const v = new DataView(h.memory.read(DATA, 512).buffer);
  const sstat = v.getUint16(2, true);
  return {
    sprog: v.getUint16(0, true),
    state: sstat & 7,
    passes: (sstat >> 3) & 0x1f,
    globalDataErased: ((sstat >> 8) & 1) === 1,
    scdw10: v.getUint32(4, true),
    estimates: [8, 12, 16, 20, 24, 28].map((at) => v.getUint32(at, true)),
  };
}

/** Let the sanitize run to its end (it has no command to wait for). */
function waitForSanitize(h: TestHost): void {
  for (let i = 0; i < 1000 && sanitizeLog(h).state === 2; i++) h.wait(10_000_000);
  expect(sanitizeLog(h).state).not.toBe(2);
}

const zero = (b: Uint8Array) => b.every((x) => x === 0);

describe("Sanitize", () => {
  it("with SANICAP 0 (the QEMU 7.2 default) the opcode and its log do not exist, and the data stays", () => {
    const h = host();
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
    expect(new DataView(h.memory.read(DATA, 4096).buffer).getUint32(328, true)).toBe(0);
    const data = fill(h, 10, 4);
    for (const action of [1, 2, 3, 4]) expect(h.admin(sanitize({ action })).code).toBe(INVALID_OPCODE);
    expect(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x81 | (127 << 16) })).code).toBe(INVALID_FIELD);
    expect(sameBytes(readBack(h, 10, 4), data)).toBe(true);
  });

  it("reports SANICAP from the options; consumerSsd supports every action", () => {
    const sanicap = (h: TestHost) => {
      expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "identify");
      return new DataView(h.memory.read(DATA, 4096).buffer).getUint32(328, true);
    };
    expect(sanicap(host({ ...ALL, sanitizeNoDeallocateInhibited: true }))).toBe(0x2000_0007);
    expect(sanicap(host({ sanitizeOverwrite: true }))).toBe(0x4);
    expect(sanicap(host({ timing: "consumerSsd" }))).toBe(0x7);
    expect(sanicap(host({ timing: "consumerSsd", sanitizeOverwrite: false }))).toBe(0x3);
  });

  const only: [string, number, Partial<SsdOptions>][] = [
    ["block erase", Action.blockErase, { sanitizeBlockErase: true }],
    ["overwrite", Action.overwrite, { sanitizeOverwrite: true }],
    ["crypto erase", Action.cryptoErase, { sanitizeCryptoErase: true }],
  ];
  for (const [name, action, options] of only) {
    it(`an SSD supporting only ${name} runs it and refuses the other actions with Invalid Field, data untouched`, () => {
      const h = host(options);
      const data = fill(h, 20, 8);
      for (const other of [0, 2, 3, 4, 5, 6, 7].filter((a) => a !== action)) {
        const c = h.admin(sanitize({ action: other }));
        expect(c.code, `SANACT ${other}`).toBe(INVALID_FIELD);
      }
      expect(sameBytes(readBack(h, 20, 8), data)).toBe(true);
      expect(sanitizeLog(h).state).toBe(0);
      expectOk(h.admin(sanitize({ action, pattern: 0 })), name);
      waitForSanitize(h);
      expect(sanitizeLog(h).state).toBe(1);
      expect(zero(readBack(h, 20, 8))).toBe(true);
    });
  }

  it("runs in the background: the command completes at once, progress rises to the end, I/O and disallowed admin commands are refused meanwhile", () => {
    const h = slowHost({ sanitizeBlockErase: true });
    const data = fill(h, 100, 8);
    expect(sanitizeLog(h)).toMatchObject({ sprog: 0xffff, state: 0, globalDataErased: false });
    const start = h.cycle;
    expectOk(h.admin(sanitize({ action: Action.blockErase })), "block erase");
    expect(h.cycle - start).toBeLessThan(100_000);
    const t = timingPresets.consumerSsd;
    const expected = Math.ceil((64 * 1024 * 1024 * 512) / (t.parallelUnits * t.eraseBlockBytes)) * t.blockEraseLatencyCycles + t.deallocateAllCycles;
    const progress: number[] = [];
    for (let i = 0; i < 5; i++) {
      const log = sanitizeLog(h);
      expect(log.state).toBe(2);
      progress.push(log.sprog);
      const read = h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 100, cdw12: 0 }));
      expect(read.code).toBe(SANITIZE_IN_PROGRESS);
      expect(read.dnr).toBe(false);
      h.wait(expected / 6);
    }
    expect(progress.every((p, i) => i === 0 || p > progress[i - 1])).toBe(true);
    expect(progress[4]).toBeGreaterThan(0xffff * 0.6);
    // While it runs: every I/O command and the admin commands not on the spec's list are refused.
    expect(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 0 })).code).toBe(SANITIZE_IN_PROGRESS);
    expect(h.io(sqe({ opcode: 0x00, nsid: 1 })).code).toBe(SANITIZE_IN_PROGRESS);
    expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: 0 })).code).toBe(SANITIZE_IN_PROGRESS);
    expect(h.admin(sanitize({ action: Action.blockErase })).code).toBe(SANITIZE_IN_PROGRESS);
    expect(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x03 | (127 << 16) })).code).toBe(SANITIZE_IN_PROGRESS);
    expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "Identify is allowed");
    expectOk(h.admin(sqe({ opcode: 0x0a, cdw10: 0x07 })), "Get Features is allowed");
    expectOk(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x02 | (127 << 16) })), "SMART log is allowed");
    expectOk(h.admin(sqe({ opcode: 0x02, prp1: DATA, cdw10: 0x01 | (15 << 16) })), "error log is allowed");
    waitForSanitize(h);
    const log = sanitizeLog(h);
    expect(log).toMatchObject({ sprog: 0xffff, state: 1, passes: 0, globalDataErased: true, scdw10: Action.blockErase });
    expect(zero(readBack(h, 100, 8))).toBe(true);
    expect(data.some((b) => b !== 0)).toBe(true);
    expectOk(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: 0 })), "Format NVM is accepted again");
    // Writing user data clears Global Data Erased.
    fill(h, 100, 1);
    expect(sanitizeLog(h).globalDataErased).toBe(false);
  });

  it("aborts the I/O commands in flight when it starts", () => {
    const h = slowHost({ sanitizeCryptoErase: true });
    // A read that waits for the media (tR) is still in flight when the sanitize starts right behind it.
    const cid = h.submit(1, sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 63 }));
    h.submit(0, sanitize({ action: Action.cryptoErase }));
    expect(h.reap(0).code).toBe(0);
    const read = h.reap(1);
    expect(read.cid).toBe(cid);
    expect(read.code).toBe(SANITIZE_IN_PROGRESS);
  });

  it("aborts a Format NVM in progress, whose new LBA format then never takes effect", () => {
    const h = slowHost();
    fill(h, 0, 2);
    const formatCid = h.submit(0, sqe({ opcode: 0x80, nsid: 1, cdw10: 1 | (1 << 9) })); // 4096-byte blocks, user-data erase
    h.wait(1_000_000);
    h.submit(0, sanitize({ action: Action.cryptoErase }));
    const first = h.reap(0);
    const second = h.reap(0);
    const format = first.cid === formatCid ? first : second;
    expect(format.code).toBe(SANITIZE_IN_PROGRESS);
    expect((first.cid === formatCid ? second : first).code).toBe(0);
    h.wait(500_000_000);
    waitForSanitize(h);
    expectOk(h.admin(sqe({ opcode: 0x06, nsid: 1, prp1: DATA, cdw10: 0 })), "identify namespace");
    expect(h.memory.read(DATA + 26n, 1)[0] & 0xf).toBe(0);
    expect(zero(readBack(h, 0, 2))).toBe(true);
  });

  it("reports the estimates of the supported actions in seconds, FFFFFFFFh for the others", () => {
    const h = slowHost({ sanitizeOverwrite: false });
    const t = timingPresets.consumerSsd;
    const bytes = 64 * 1024 * 1024 * 512;
    const blockErase = Math.ceil(bytes / (t.parallelUnits * t.eraseBlockBytes)) * t.blockEraseLatencyCycles + t.deallocateAllCycles;
    expect(sanitizeLog(h).estimates).toEqual([0xffffffff, Math.ceil(blockErase / 250e6), Math.ceil((t.cryptoEraseCycles + t.deallocateAllCycles) / 250e6), 0xffffffff, 0xffffffff, 0xffffffff]);
    const overwrite = slowHost();
    const pass = Math.ceil(bytes / (t.parallelUnits * t.eraseBlockBytes)) * t.blockEraseLatencyCycles + Math.ceil(bytes / t.mediaPageBytes / t.parallelUnits) * t.programLatencyCycles;
    expect(sanitizeLog(overwrite).estimates[0]).toBe(Math.ceil((16 * pass + t.deallocateAllCycles) / 250e6));
  });

  it("crypto erase takes the constant key-change time plus the deallocation", () => {
    const h = slowHost({ sanitizeCryptoErase: true });
    const t = timingPresets.consumerSsd;
    expectOk(h.admin(sanitize({ action: Action.cryptoErase })), "crypto erase");
    h.wait(t.cryptoEraseCycles + t.deallocateAllCycles - 50_000);
    expect(sanitizeLog(h).state).toBe(2);
    h.wait(100_000);
    expect(sanitizeLog(h).state).toBe(1);
  });

  describe("overwrite", () => {
    it("writes the pattern OWPASS times (inverted between passes with OIPBP), counts the passes, then deallocates", () => {
      const h = host({ timing: "consumerSsd", sanitizeOverwrite: true });
      fill(h, 0, 8);
      expectOk(h.admin(sanitize({ action: Action.overwrite, passes: 3, invert: true, pattern: 0x12345678 })), "overwrite");
      const seen: number[] = [];
      while (sanitizeLog(h).state === 2) {
        seen.push(sanitizeLog(h).passes);
        h.wait(20_000);
      }
      expect(seen).toContain(1);
      expect(seen).toContain(2);
      expect(sanitizeLog(h)).toMatchObject({ state: 1, passes: 3 });
      expect(zero(readBack(h, 0, 8))).toBe(true);
    });

    const patternCases: [string, SanitizeFields, number][] = [
      ["3 passes, inverted between passes: the last pass writes the pattern", { action: Action.overwrite, passes: 3, invert: true, pattern: 0x12345678 }, 0x12345678],
      ["2 passes, inverted between passes: the last pass writes the inverse", { action: Action.overwrite, passes: 2, invert: true, pattern: 0x12345678 }, 0xedcba987],
      ["16 passes (OWPASS 0) without inversion", { action: Action.overwrite, passes: 16, pattern: 0xa5a50ff0 }, 0xa5a50ff0],
    ];
    for (const [name, fields, last] of patternCases) {
      it(`with No-Deallocate After Sanitize every byte reads as the pattern: ${name}`, () => {
        const h = host({ sanitizeOverwrite: true });
        fill(h, 30, 4);
        expectOk(h.admin(sanitize({ ...fields, ndas: true })), "overwrite");
        waitForSanitize(h);
        expect(sanitizeLog(h)).toMatchObject({ state: 1, passes: fields.passes });
        const expected = new Uint8Array(512);
        for (let at = 0; at < 512; at += 4) new DataView(expected.buffer).setUint32(at, last, true);
        for (const lba of [0, 30, 33, BLOCKS - 1]) expect(sameBytes(readBack(h, lba, 1), expected), `LBA ${lba}`).toBe(true);
        // The host may still deallocate or write blocks afterwards.
        expectOk(h.io(sqe({ opcode: 0x08, nsid: 1, cdw10: 40, cdw12: 1 })), "write zeroes");
        expect(zero(readBack(h, 40, 2))).toBe(true);
        expect(sameBytes(readBack(h, 42, 1), expected)).toBe(true);
      });
    }

    it("with No-Deallocate Inhibited the controller deallocates anyway and reports SSTAT 100b", () => {
      const h = host({ sanitizeOverwrite: true, sanitizeNoDeallocateInhibited: true });
      fill(h, 0, 4);
      expectOk(h.admin(sanitize({ action: Action.overwrite, passes: 1, ndas: true, pattern: 0xffffffff })), "overwrite");
      waitForSanitize(h);
      expect(sanitizeLog(h).state).toBe(4);
      expect(zero(readBack(h, 0, 4))).toBe(true);
    });
  });

  it("block erase and crypto erase with No-Deallocate leave erased media (FFh) and undecryptable data, never the old data", () => {
    const h = host(ALL);
    const data = fill(h, 0, 4);
    expectOk(h.admin(sanitize({ action: Action.blockErase, ndas: true })), "block erase");
    waitForSanitize(h);
    expect(readBack(h, 0, 4).every((b) => b === 0xff)).toBe(true);
    fill(h, 0, 4);
    expectOk(h.admin(sanitize({ action: Action.cryptoErase, ndas: true })), "crypto erase");
    waitForSanitize(h);
    const first = readBack(h, 0, 4);
    expect(sameBytes(first, data)).toBe(false);
    expect(zero(first)).toBe(false);
    expect(sameBytes(readBack(h, 0, 4), first)).toBe(true); // deterministic
    expect(sanitizeLog(h).state).toBe(1);
  });

  it("Exit Failure Mode without a failure completes successfully and does nothing", () => {
    const h = host(ALL);
    const data = fill(h, 5, 2);
    expectOk(h.admin(sanitize({ action: Action.exitFailureMode })), "exit failure mode");
    expect(sanitizeLog(h).state).toBe(0);
    expect(sameBytes(readBack(h, 5, 2), data)).toBe(true);
  });

  describe("failure (injected)", () => {
    it("restricted (AUSE 0): commands get Sanitize Failed until a new restricted sanitize succeeds; Exit Failure Mode and AUSE 1 are refused", () => {
      const h = host(ALL);
      h.ssd.faults.failSanitize(1);
      const data = fill(h, 50, 2);
      expectOk(h.admin(sanitize({ action: Action.blockErase })), "block erase");
      waitForSanitize(h);
      expect(sanitizeLog(h)).toMatchObject({ state: 3, sprog: 0xffff });
      const read = h.io(sqe({ opcode: 0x02, nsid: 1, prp1: DATA, cdw10: 50, cdw12: 1 }));
      expect(read.code).toBe(SANITIZE_FAILED);
      expect(h.admin(sqe({ opcode: 0x80, nsid: 1, cdw10: 0 })).code).toBe(SANITIZE_FAILED);
      expectOk(h.admin(sqe({ opcode: 0x06, prp1: DATA, cdw10: 1 })), "Identify is allowed");
      expect(h.admin(sanitize({ action: Action.exitFailureMode })).code).toBe(SANITIZE_FAILED);
      expect(h.admin(sanitize({ action: Action.cryptoErase, ause: true })).code).toBe(SANITIZE_FAILED);
      expectOk(h.admin(sanitize({ action: Action.cryptoErase })), "restricted crypto erase");
      waitForSanitize(h);
      expect(sanitizeLog(h).state).toBe(1);
      expect(zero(readBack(h, 50, 2))).toBe(true);
      expect(data.some((b) => b !== 0)).toBe(true);
    });

    it("unrestricted (AUSE 1): Exit Failure Mode ends the failure mode; SSTAT still says failed; data as before", () => {
      const h = host(ALL);
      h.ssd.faults.failSanitize(1);
      const data = fill(h, 60, 2);
      expectOk(h.admin(sanitize({ action: Action.overwrite, ause: true, pattern: 0x01020304 })), "overwrite");
      waitForSanitize(h);
      expect(sanitizeLog(h).state).toBe(3);
      expect(h.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 0 })).code).toBe(SANITIZE_FAILED);
      expectOk(h.admin(sanitize({ action: Action.exitFailureMode })), "exit failure mode");
      expect(sanitizeLog(h).state).toBe(3);
      expect(sameBytes(readBack(h, 60, 2), data)).toBe(true);
      expect(h.ssd.faults.fired.sanitizeFailure).toBe(1);
    });
  });

  it("continues across a controller reset", () => {
    const h = slowHost({ sanitizeBlockErase: true });
    fill(h, 0, 2);
    expectOk(h.admin(sanitize({ action: Action.blockErase })), "block erase");
    h.wait(1_000_000);
    h.mmioWrite32(0x14, 0);
    h.runUntil(() => (h.mmioRead32(0x1c) & 1) === 0);
    h.bringUp();
    expect(sanitizeLog(h).state).toBe(2);
    waitForSanitize(h);
    expect(sanitizeLog(h).state).toBe(1);
    expect(zero(readBack(h, 0, 2))).toBe(true);
  });
});
