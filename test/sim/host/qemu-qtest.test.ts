import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { probeQemu, QtestSession } from "../../../sim/host/qemu-qtest.ts";
import { QemuTransport } from "../../../sim/host/qemu-transport.ts";

const qemu = probeQemu();
const skipReason = qemu.available ? "" : ` — skipped: ${qemu.reason}`;
const BARE_PC = ["-machine", "pc", "-accel", "tcg", "-S", "-nodefaults", "-display", "none"];

describe("qtest session errors", () => {
  it("names the missing binary and how to install QEMU", async () => {
    await expect(QtestSession.start({ binary: "/nonexistent/qemu-system-x86_64", args: BARE_PC })).rejects.toThrow(/not installed; install it with: apt-get install -y qemu-system-x86/);
    expect(probeQemu("/nonexistent/qemu-system-x86_64")).toMatchObject({ available: false });
  });

  it.skipIf(!qemu.available)(`reports QEMU's stderr when it refuses its command line${skipReason}`, async () => {
    await expect(QtestSession.start({ args: [...BARE_PC, "-device", "no-such-device"] })).rejects.toThrow(/exited \(code 1\); stderr: .*no-such-device/);
  });

  it.skipIf(!qemu.available)(`turns a FAIL reply into an error and keeps the session usable${skipReason}`, async () => {
    const session = await QtestSession.start({ args: BARE_PC });
    try {
      await expect(session.request("no_such_command 1")).rejects.toThrow(/failed: FAIL/);
      const [value] = await session.request("inl 0xcf8");
      expect(Number(value)).toBe(0);
    } finally {
      await session.close();
    }
    await expect(session.request("inl 0xcf8")).rejects.toThrow(/not sent: .*exited/);
  });
});

describe.skipIf(!qemu.available)(`QEMU transport${skipReason}`, () => {
  it("rejects host-memory access outside guest RAM and misaligned config access, and cleans up its image", async () => {
    const t = await QemuTransport.start({ capacityBytes: 1 << 20 });
    const dir = (t as unknown as { workDir: string }).workDir;
    try {
      expect(existsSync(dir)).toBe(true);
      await expect(t.readMemory(0x1000n, 16)).rejects.toThrow(/outside guest RAM/);
      await expect(t.configRead(2, 4)).rejects.toThrow(/not naturally aligned/);
      await t.writeMemory(t.memoryWindow.start, new Uint8Array([1, 2, 3, 4, 5]));
      expect(Array.from(await t.readMemory(t.memoryWindow.start, 5))).toEqual([1, 2, 3, 4, 5]);
      expect((await t.configRead(0, 2)).value).toBe(0x1b36);
    } finally {
      await t.close();
    }
    expect(existsSync(dir)).toBe(false);
  });
});
