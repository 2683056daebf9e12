// PCIe bring-up of the SSD below the root port, as the hardware host does it (PROTOCOL_FACTS A.6/A.7,
// C.3-C.6): program the root port's bus numbers, probe VID/DID retrying while the device answers CRS,
// size and place BAR0 below 4 GiB, open the root port's memory window, agree on Max_Payload_Size on
// both ends of the link, set Max_Read_Request_Size, then enable memory decode and bus mastering.

import { findCapability, setDeviceControlSizes } from "./pci-capability.ts";
import type { ConfigReadResult, NvmeTransport, RootPortConfigAccess } from "./transport.ts";

export interface PciEnumerationOptions {
  /** Where BAR0 goes; must be aligned to the BAR's size and leave the BAR below 4 GiB. */
  bar0Address: bigint;
  /** Upper bound on Max_Payload_Size in bytes; the result is also bounded by both ends' DevCap. */
  maxPayloadBytes: number;
  maxReadRequestBytes: number;
  /** How long the device may keep answering CRS after reset (PCIe allows ~1 s). */
  crsTimeoutNs: number;
  crsRetryIntervalNs: number;
}

export const defaultPciEnumerationOptions: PciEnumerationOptions = {
  bar0Address: 0xe000_0000n,
  maxPayloadBytes: 4096,
  maxReadRequestBytes: 512,
  crsTimeoutNs: 1e9,
  crsRetryIntervalNs: 1e6,
};

export interface PcieCapabilityInfo {
  offset: number;
  maxPayloadSupported: number;
  maxPayload: number;
  maxReadRequest: number;
  linkSpeed: number;
  linkWidth: number;
}

export interface PciFunctionInfo {
  vendorId: number;
  deviceId: number;
  classCode: number;
  bar0: { address: bigint; size: bigint; is64Bit: boolean };
  /** Null when the function sits on a conventional PCI bus (QEMU's i440FX `pc` machine). */
  pcie: PcieCapabilityInfo | null;
  /** Root port side, when the transport has one. */
  rootPort: { pcieCapOffset: number; maxPayload: number } | null;
  crsRetries: number;
}

const NVME_CLASS_CODE = 0x010802;
const Cfg = { ID: 0x00, COMMAND: 0x04, STATUS: 0x06, CLASS: 0x08, BAR0: 0x10, BAR1: 0x14 } as const;
const Command = { MSE: 1 << 1, BME: 1 << 2, INTX_DISABLE: 1 << 10 } as const;
const CAP_ID_PCIE = 0x10;
const Pcie = { DEVCAP: 0x04, LINKSTA: 0x12 } as const;
const Bridge = { BUS_NUMBERS: 0x18, MEMORY_WINDOW: 0x20, PREFETCH_WINDOW: 0x24, COMMAND: 0x04 } as const;

export async function enumerateEndpoint(t: NvmeTransport, overrides: Partial<PciEnumerationOptions> = {}): Promise<PciFunctionInfo> {
  const o = { ...defaultPciEnumerationOptions, ...overrides };
  if (t.rootPort) await setRootPortBusNumbers(t.rootPort);

  const { id, retries } = await probe(t, o);
  const vendorId = id & 0xffff;
  const deviceId = id >>> 16;
  const classCode = (await readConfig(t, Cfg.CLASS, 4)) >>> 8;
  if (classCode !== NVME_CLASS_CODE) throw new Error(`device ${hex(vendorId, 4)}:${hex(deviceId, 4)} has class code ${hex(classCode, 6)}, not NVMe (${hex(NVME_CLASS_CODE, 6)})`);

  await writeConfig(t, Cfg.COMMAND, 2, 0);
  const bar0 = await sizeAndAssignBar0(t, o.bar0Address);
  if (t.rootPort) await openRootPortWindow(t.rootPort, bar0.address, bar0.size);

  const pcieOffset = await findCapability((off) => readConfig(t, off, 4), CAP_ID_PCIE);
  const rpPcieOffset = t.rootPort ? await findCapability((off) => t.rootPort!.read32(off), CAP_ID_PCIE) : null;
  let pcie: PcieCapabilityInfo | null = null;
  let rootPort: PciFunctionInfo["rootPort"] = null;
  if (pcieOffset !== null) {
    const devCap = await readConfig(t, pcieOffset + Pcie.DEVCAP, 4);
    const epMpsSupported = 128 << (devCap & 7);
    let mps = Math.min(epMpsSupported, o.maxPayloadBytes);
    if (t.rootPort && rpPcieOffset !== null) {
      const rpMpsSupported = 128 << ((await t.rootPort.read32(rpPcieOffset + Pcie.DEVCAP)) & 7);
      mps = Math.min(mps, rpMpsSupported);
      await setDeviceControlSizes((off) => t.rootPort!.read32(off), (off, v) => t.rootPort!.write32(off, v, 0b0011), rpPcieOffset, mps, o.maxReadRequestBytes);
      rootPort = { pcieCapOffset: rpPcieOffset, maxPayload: mps };
    }
    await setDeviceControlSizes((off) => readConfig(t, off, 4), (off, v) => writeConfig(t, off, 2, v & 0xffff), pcieOffset, mps, o.maxReadRequestBytes);
    const linkStatus = await readConfig(t, pcieOffset + Pcie.LINKSTA, 2);
    pcie = { offset: pcieOffset, maxPayloadSupported: epMpsSupported, maxPayload: mps, maxReadRequest: o.maxReadRequestBytes, linkSpeed: linkStatus & 0xf, linkWidth: (linkStatus >>> 4) & 0x3f };
  }

  if (t.rootPort) await t.rootPort.write32(Bridge.COMMAND, Command.MSE | Command.BME, 0b0011);
  await writeConfig(t, Cfg.COMMAND, 2, Command.MSE | Command.BME | Command.INTX_DISABLE);
  return { vendorId, deviceId, classCode, bar0, pcie, rootPort, crsRetries: retries };
}

async function setRootPortBusNumbers(rp: RootPortConfigAccess): Promise<void> {
  const bus = rp.secondaryBus;
  await rp.write32(Bridge.BUS_NUMBERS, (bus << 16) | (bus << 8), 0b0111);
}

async function openRootPortWindow(rp: RootPortConfigAccess, base: bigint, size: bigint): Promise<void> {
  // The window has 1 MiB granularity: [15:4] of each half hold address bits [31:20].
  const first = Number(base >> 20n);
  const last = Number((base + size - 1n) >> 20n);
  await rp.write32(Bridge.MEMORY_WINDOW, ((last << 20) | (first << 4)) >>> 0);
  // Base above limit closes the prefetchable window; nothing prefetchable sits behind the port.
  await rp.write32(Bridge.PREFETCH_WINDOW, 0x0000_fff0);
}

async function probe(t: NvmeTransport, o: PciEnumerationOptions): Promise<{ id: number; retries: number }> {
  const start = t.nowNs();
  for (let retries = 0; ; retries++) {
    const r: ConfigReadResult = await t.configRead(Cfg.ID, 4);
    if (r.status === "SC") {
      if ((r.value & 0xffff) === 0xffff || r.value === 0) throw new Error(`no device behind ${t.name} root port: vendor/device ID read ${hex(r.value >>> 0, 8)}`);
      return { id: r.value >>> 0, retries };
    }
    if (r.status !== "CRS") throw new Error(`no device behind ${t.name} root port: configuration read of the ID answered ${r.status}`);
    if (t.nowNs() - start > o.crsTimeoutNs) throw new Error(`device on ${t.name} still answers CRS after ${o.crsTimeoutNs / 1e6} ms (${retries} retries)`);
    await t.wait(o.crsRetryIntervalNs);
  }
}

async function sizeAndAssignBar0(t: NvmeTransport, address: bigint): Promise<PciFunctionInfo["bar0"]> {
  const original = await readConfig(t, Cfg.BAR0, 4);
  if (original & 1) throw new Error(`BAR0 is an I/O BAR (${hex(original, 8)}); NVMe requires a memory BAR`);
  const is64Bit = ((original >>> 1) & 3) === 2;
  await writeConfig(t, Cfg.BAR0, 4, 0xffff_ffff);
  const lowMask = (await readConfig(t, Cfg.BAR0, 4)) & 0xffff_fff0;
  let mask = BigInt(lowMask >>> 0);
  if (is64Bit) {
    await writeConfig(t, Cfg.BAR1, 4, 0xffff_ffff);
    mask |= BigInt(await readConfig(t, Cfg.BAR1, 4)) << 32n;
  } else {
    mask |= 0xffff_ffff_0000_0000n;
  }
  if (lowMask === 0) throw new Error("BAR0 is not implemented (reads back 0 after writing all ones)");
  const size = (~mask + 1n) & 0xffff_ffff_ffff_ffffn;
  if (address % size !== 0n) throw new Error(`BAR0 address 0x${address.toString(16)} is not aligned to its size 0x${size.toString(16)}`);
  if (address + size > 0x1_0000_0000n) throw new Error(`BAR0 at 0x${address.toString(16)} (size 0x${size.toString(16)}) does not fit below 4 GiB`);
  await writeConfig(t, Cfg.BAR0, 4, Number(address & 0xffff_fff0n));
  if (is64Bit) await writeConfig(t, Cfg.BAR1, 4, 0);
  const readBack = (await readConfig(t, Cfg.BAR0, 4)) & 0xffff_fff0;
  if (BigInt(readBack >>> 0) !== address) throw new Error(`BAR0 reads back ${hex(readBack >>> 0, 8)} after assigning 0x${address.toString(16)}`);
  return { address, size, is64Bit };
}

async function readConfig(t: NvmeTransport, offset: number, size: 1 | 2 | 4): Promise<number> {
  const r = await t.configRead(offset, size);
  if (r.status !== "SC") throw new Error(`configuration read at ${hex(offset, 3)} on ${t.name} answered ${r.status}`);
  return r.value >>> 0;
}

async function writeConfig(t: NvmeTransport, offset: number, size: 1 | 2 | 4, value: number): Promise<void> {
  const status = await t.configWrite(offset, size, value >>> 0);
  if (status !== "SC") throw new Error(`configuration write at ${hex(offset, 3)} on ${t.name} answered ${status}`);
}

function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}
