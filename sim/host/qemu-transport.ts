// Transport (b): QEMU's own `nvme` device on an i440FX PC, driven over qtest. Configuration space goes
// through the PC's 0xCF8/0xCFC mechanism, BAR0 through readl/writel/readq/writeq, and guest RAM stands
// in for host memory. The backing store is a sparse raw image in a private temporary directory.

import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { QtestSession } from "./qemu-qtest.ts";
import type { AccessSize, ConfigReadResult, ConfigStatus, NvmeTransport } from "./transport.ts";

export interface QemuNvmeOptions {
  binary?: string;
  /** Namespace size in bytes (the raw image file, created sparse). */
  capacityBytes: number;
  logicalBlockSize: 512 | 4096;
  /** Identify MDTS as QEMU's `mdts=` property: 2^mdts minimum-size pages, 0 = unlimited. */
  mdts: number;
  /** QEMU's `max_ioqpairs=`. */
  maxIoQueuePairs: number;
  serial: string;
  /** Guest RAM; host-memory allocations live in [16 MiB, ramBytes). */
  ramMiB: number;
  /** PCI slot on bus 0 the controller is plugged into. */
  slot: number;
  exchangeTimeoutMs: number;
}

/** Mirrors the SSD model's defaults (sim/nvme/options.ts) so the two sides are comparable. */
export const defaultQemuNvmeOptions: QemuNvmeOptions = {
  capacityBytes: 2 * 1024 * 1024 * 512,
  logicalBlockSize: 512,
  mdts: 7,
  maxIoQueuePairs: 64,
  serial: "NVMEHOST0001",
  ramMiB: 128,
  slot: 4,
  exchangeTimeoutMs: 10_000,
};

// Below 16 MiB lie the legacy VGA hole and BIOS shadow ranges, which do not behave as plain RAM.
const RAM_WINDOW_START = 16n * 1024n * 1024n;
// Keep single qtest lines to a sane length; larger transfers are split.
const MEMORY_CHUNK_BYTES = 64 * 1024;

export class QemuTransport implements NvmeTransport {
  readonly name = "qemu";
  readonly rootPort = null;
  readonly configSpaceBytes = 256;
  readonly memoryWindow: { start: bigint; end: bigint };

  private constructor(
    private readonly session: QtestSession,
    private readonly workDir: string,
    private readonly slot: number,
    ramMiB: number,
  ) {
    this.memoryWindow = { start: RAM_WINDOW_START, end: BigInt(ramMiB) * 1024n * 1024n };
  }

  static async start(overrides: Partial<QemuNvmeOptions> = {}): Promise<QemuTransport> {
    const o = { ...defaultQemuNvmeOptions, ...overrides };
    checkOptions(o);
    const workDir = mkdtempSync(join(tmpdir(), "nvme-host-qemu-"));
    try {
      const image = join(workDir, "namespace.raw");
      writeFileSync(image, "");
      truncateSync(image, o.capacityBytes);
      const session = await QtestSession.start({
        binary: o.binary,
        exchangeTimeoutMs: o.exchangeTimeoutMs,
        args: [
          "-machine", "pc", "-accel", "tcg", "-S", "-nodefaults", "-display", "none", "-m", `${o.ramMiB}M`,
          // discard=unmap lets Dataset Management deallocate reach the image (QEMU ignores discards by default).
          "-drive", `file=${image},if=none,id=nvm,format=raw,discard=unmap`,
          "-device",
          [
            "nvme", `serial=${o.serial}`, "drive=nvm", `addr=${o.slot.toString(16)}.0`, `mdts=${o.mdts}`,
            `max_ioqpairs=${o.maxIoQueuePairs}`, `logical_block_size=${o.logicalBlockSize}`,
            `physical_block_size=${o.logicalBlockSize}`,
          ].join(","),
        ],
      });
      return new QemuTransport(session, workDir, o.slot, o.ramMiB);
    } catch (error) {
      rmSync(workDir, { recursive: true, force: true });
      throw error;
    }
  }

  async configRead(offset: number, size: AccessSize): Promise<ConfigReadResult> {
    const port = await this.selectConfig(offset, size);
    const [value] = await this.session.request(`${portOp("in", size)} 0x${port.toString(16)}`);
    return { status: "SC", value: Number(value) };
  }

  async configWrite(offset: number, size: AccessSize, value: number): Promise<ConfigStatus> {
    const port = await this.selectConfig(offset, size);
    await this.session.request(`${portOp("out", size)} 0x${port.toString(16)} 0x${value.toString(16)}`);
    return "SC";
  }

  async mmioRead32(address: bigint): Promise<number> {
    const [value] = await this.session.request(`readl 0x${address.toString(16)}`);
    return Number(BigInt(value) & 0xffff_ffffn);
  }

  async mmioWrite32(address: bigint, value: number): Promise<void> {
    await this.session.request(`writel 0x${address.toString(16)} 0x${(value >>> 0).toString(16)}`);
  }

  async mmioRead64(address: bigint): Promise<bigint> {
    const [value] = await this.session.request(`readq 0x${address.toString(16)}`);
    return BigInt(value);
  }

  async mmioWrite64(address: bigint, value: bigint): Promise<void> {
    await this.session.request(`writeq 0x${address.toString(16)} 0x${value.toString(16)}`);
  }

  async readMemory(address: bigint, length: number): Promise<Uint8Array> {
    this.checkRam(address, length, "read");
    const out = new Uint8Array(length);
    for (let done = 0; done < length; done += MEMORY_CHUNK_BYTES) {
      const n = Math.min(MEMORY_CHUNK_BYTES, length - done);
      const [b64] = await this.session.request(`b64read 0x${(address + BigInt(done)).toString(16)} ${n}`);
      const bytes = Buffer.from(b64, "base64");
      if (bytes.length !== n) throw new Error(`qemu b64read of ${n} bytes at 0x${address.toString(16)} returned ${bytes.length}`);
      out.set(bytes, done);
    }
    return out;
  }

  async writeMemory(address: bigint, data: Uint8Array): Promise<void> {
    this.checkRam(address, data.length, "write");
    for (let done = 0; done < data.length; done += MEMORY_CHUNK_BYTES) {
      const chunk = data.subarray(done, Math.min(data.length, done + MEMORY_CHUNK_BYTES));
      const b64 = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString("base64");
      await this.session.request(`b64write 0x${(address + BigInt(done)).toString(16)} ${chunk.length} ${b64}`);
    }
  }

  nowNs(): number {
    return performance.now() * 1e6;
  }

  // QEMU's NVMe emulation runs in its main loop between qtest requests; the virtual clock is frozen
  // (-S, and Debian's QEMU has no qtest accelerator for clock_step), so waiting is real time. Waits
  // below a millisecond only yield: timers cannot sleep that briefly, and each poll is a round trip anyway.
  async wait(ns: number): Promise<void> {
    if (ns >= 1e6) await sleep(ns / 1e6);
    else await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async close(): Promise<void> {
    try {
      await this.session.close();
    } finally {
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }

  private async selectConfig(offset: number, size: AccessSize): Promise<number> {
    if (!Number.isInteger(offset) || offset < 0 || offset + size > this.configSpaceBytes || offset % size !== 0) {
      throw new Error(`qemu config access of ${size} bytes at offset ${offset} is not naturally aligned inside the 256-byte space`);
    }
    const address = (0x8000_0000 | (this.slot << 11) | (offset & 0xfc)) >>> 0;
    await this.session.request(`outl 0xcf8 0x${address.toString(16)}`);
    return 0xcfc + (offset & 3);
  }

  private checkRam(address: bigint, length: number, what: string): void {
    if (address < this.memoryWindow.start || address + BigInt(length) > this.memoryWindow.end) {
      throw new Error(`qemu memory ${what} of ${length} bytes at 0x${address.toString(16)} falls outside guest RAM window 0x${this.memoryWindow.start.toString(16)}..0x${this.memoryWindow.end.toString(16)}`);
    }
  }
}

function portOp(direction: "in" | "out", size: AccessSize): string {
  return direction + (size === 1 ? "b" : size === 2 ? "w" : "l");
}

function checkOptions(o: QemuNvmeOptions): void {
  const fail = (what: string) => {
    throw new Error(`QemuTransport option ${what}`);
  };
  if (!Number.isSafeInteger(o.capacityBytes) || o.capacityBytes <= 0 || o.capacityBytes % o.logicalBlockSize !== 0) {
    fail(`capacityBytes ${o.capacityBytes} is not a positive multiple of the ${o.logicalBlockSize}-byte block`);
  }
  if (o.mdts < 0 || o.mdts > 255) fail(`mdts ${o.mdts} is not 0..255`);
  if (o.slot < 1 || o.slot > 31) fail(`slot ${o.slot} is not 1..31 (slot 0 is the host bridge)`);
  if (o.ramMiB < 32) fail(`ramMiB ${o.ramMiB} leaves no host-memory window above 16 MiB`);
  if (!/^[\x21-\x7e]{1,20}$/.test(o.serial) || o.serial.includes(",")) fail(`serial ${JSON.stringify(o.serial)} is not 1..20 printable characters without commas`);
}
