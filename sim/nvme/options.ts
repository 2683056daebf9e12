// Everything that shapes the SSD model, with defaults close to QEMU 7.2's `nvme` device where the
// conformance suite compares them, and a check that rejects impossible combinations up front.

import type { EraseSupport, TimingParams, TimingPresetName } from "./timing.ts";
import { CYCLES_PER_US, presetEraseSupport, timingPresets } from "./timing.ts";

export interface NamespaceOptions {
  lbaSize: 512 | 4096;
  capacityBlocks: number;
  /** Namespace atomic write units, zero-based blocks (reported as NAWUN/NAWUPF with NSFEAT.NSABP). */
  nawun?: number;
  nawupf?: number;
  /**
   * Namespace atomic boundary for power fail (NABSPF, zero-based blocks; reported with NSFEAT.NSABP)
   * and its offset (NABO, an LBA): with nabspf > 0 a write that crosses LBA nabo + k x (nabspf + 1)
   * is not atomic through a power failure, whatever its size (NVMe 1.4 §6.4.3).
   */
  nabspf?: number;
  nabo?: number;
}

export interface SsdOptions extends EraseSupport {
  /** Bus/device/function used as Requester/Completer ID until the first CfgWr0 tells the real bus and device numbers. */
  bdf: number;
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  /** BAR0 size; 0 = the smallest power of two holding registers, doorbells and the MSI-X table and PBA. */
  bar0Size: number;
  /** BAR0 as a 64-bit BAR (BAR0 + BAR1, the NVMe layout) or a 32-bit one (BAR1 then unimplemented). */
  bar0AddressBits: 32 | 64;
  /** Class code (base, sub-class, programming interface); 0x010802 = NVMe. Another value offers a non-NVMe device. */
  classCode: number;
  maxPayloadSupported: number;
  linkSpeed: number;
  linkWidth: number;
  msixVectors: number;
  /** Config requests are answered with CRS for this many cycles after reset. */
  crsCycles: number;
  namespaces: NamespaceOptions[];
  /** Identify NN: the highest valid namespace ID (namespaces beyond the configured ones are inactive). */
  maxNamespaces: number;
  /** I/O submission/completion queue pairs supported. */
  ioQueuePairs: number;
  /** CAP.MQES: maximum queue entries, zero-based. */
  mqes: number;
  /** Identify MDTS: 2^mdts pages of CAP.MPSMIN; 0 = unlimited. */
  mdts: number;
  /** CAP.TO in 500 ms units. */
  capTimeout: number;
  mpsmin: number;
  mpsmax: number;
  dstrd: number;
  /** Cycles from CC.EN = 1 to CSTS.RDY = 1 (must fit in CAP.TO). */
  readyDelayCycles: number;
  /** Cycles a shutdown takes on top of draining the write cache. */
  shutdownDelayCycles: number;
  timing: TimingParams | TimingPresetName;
  /** Controller atomic write units, zero-based blocks. */
  awun: number;
  awupf: number;
  /** Indirection unit for the write-amplification counters. */
  indirectionUnitBytes: number;
  /** Most submission entries fetched from one queue in one read (also bounded by MRRS and the Arbitration Burst). */
  sqeFetchBurst: number;
  maxOutstandingCommands: number;
  /**
   * Posted TLPs (data, CQ entries, interrupts) built ahead of the link, like a DMA engine's small
   * transmit buffer: a new one is made only while fewer TLPs wait to go upstream. Reads the SSD issues
   * (SQ entries, PRP lists, write data) and its completions wait only behind those, not behind a whole
   * command's data. 0 = no bound: every write's TLPs are made at once, so the SSD's fetches queue
   * behind all the data before them.
   */
  transmitLookaheadTlps: number;
  /** Completion timeout for the SSD's own reads. */
  completionTimeoutCycles: number;
  serial: string;
  model: string;
  firmware: string;
  /**
   * The LBA formats every namespace offers (Identify Namespace LBAF0.., data size in bytes, no
   * metadata); each namespace's lbaSize must be one of them. Format NVM switches between them.
   */
  lbaFormats: (512 | 4096)[];
  /** Identify ELPE: Error Information log entries kept, zero-based. */
  elpe: number;
}

/** The options saying which erase commands the SSD supports; a timing preset may set them (timing.ts presetEraseSupport). */
export type EraseSupportOptions = EraseSupport;

export const defaultSsdOptions: SsdOptions = {
  bdf: 0x0100,
  vendorId: 0x1b36,
  deviceId: 0x0010,
  subsystemVendorId: 0x1af4,
  subsystemId: 0x1100,
  bar0Size: 0,
  bar0AddressBits: 64,
  classCode: 0x010802,
  maxPayloadSupported: 512,
  linkSpeed: 2,
  linkWidth: 4,
  msixVectors: 65,
  crsCycles: 0,
  namespaces: [{ lbaSize: 512, capacityBlocks: 2 * 1024 * 1024 }],
  maxNamespaces: 1,
  ioQueuePairs: 64,
  mqes: 0x7ff,
  mdts: 7,
  capTimeout: 0x0f,
  mpsmin: 0,
  mpsmax: 4,
  dstrd: 0,
  readyDelayCycles: 10 * CYCLES_PER_US,
  shutdownDelayCycles: 10 * CYCLES_PER_US,
  timing: "fastSsd",
  awun: 0,
  awupf: 0,
  indirectionUnitBytes: 4096,
  sqeFetchBurst: 8,
  maxOutstandingCommands: 1024,
  transmitLookaheadTlps: 4,
  completionTimeoutCycles: 50 * 1000 * CYCLES_PER_US,
  serial: "NVMEHOST0001",
  model: "nvme-host SSD model",
  firmware: "1.0",
  lbaFormats: [512, 4096],
  // QEMU 7.2 reports ELPE 0, OACS with Format NVM, FNA 0 and SANICAP 0 (probed over qtest).
  elpe: 0,
  formatNvm: true,
  formatAppliesToAllNamespaces: false,
  secureEraseAppliesToAllNamespaces: false,
  formatCryptoErase: false,
  sanitizeBlockErase: false,
  sanitizeOverwrite: false,
  sanitizeCryptoErase: false,
  sanitizeNoDeallocateInhibited: false,
};

const ERASE_SUPPORT_KEYS: (keyof EraseSupportOptions)[] = [
  "formatNvm",
  "formatAppliesToAllNamespaces",
  "secureEraseAppliesToAllNamespaces",
  "formatCryptoErase",
  "sanitizeBlockErase",
  "sanitizeOverwrite",
  "sanitizeCryptoErase",
  "sanitizeNoDeallocateInhibited",
];

/** Merge with the defaults; NN defaults to the number of namespaces. Throws naming the first bad option. */
export function resolveSsdOptions(partial: Partial<SsdOptions> = {}): SsdOptions & { timingParams: TimingParams } {
  const o: SsdOptions = { ...defaultSsdOptions, ...partial };
  if (partial.maxNamespaces === undefined) o.maxNamespaces = o.namespaces.length;
  const timingParams = typeof o.timing === "string" ? timingPresets[o.timing] : o.timing;
  // What a named preset supports, unless the options say otherwise.
  const presetSupport: Partial<EraseSupportOptions> = typeof o.timing === "string" ? (presetEraseSupport[o.timing] ?? {}) : {};
  for (const key of ERASE_SUPPORT_KEYS) o[key] = partial[key] ?? presetSupport[key] ?? defaultSsdOptions[key];
  const fail = (what: string) => {
    throw new Error(`NvmeSsd option ${what}`);
  };
  if (!timingParams) fail(`timing: unknown preset ${JSON.stringify(o.timing)}`);
  if (o.namespaces.length === 0) fail("namespaces: at least one namespace is required");
  if (o.maxNamespaces < o.namespaces.length) fail(`maxNamespaces ${o.maxNamespaces} is below the ${o.namespaces.length} configured namespaces`);
  if (!Array.isArray(o.lbaFormats) || o.lbaFormats.length < 1 || o.lbaFormats.length > 16) fail(`lbaFormats ${JSON.stringify(o.lbaFormats)} is not a list of 1..16 formats`);
  o.lbaFormats.forEach((size, i) => {
    if (size !== 512 && size !== 4096) fail(`lbaFormats[${i}] ${size} is not 512 or 4096`);
  });
  if (!Number.isInteger(o.elpe) || o.elpe < 0 || o.elpe > 255) fail(`elpe ${o.elpe} is not 0..255`);
  for (const key of ERASE_SUPPORT_KEYS) if (typeof o[key] !== "boolean") fail(`${key} ${JSON.stringify(o[key])} is not true or false`);
  o.namespaces.forEach((ns, i) => {
    if (ns.lbaSize !== 512 && ns.lbaSize !== 4096) fail(`namespaces[${i}].lbaSize ${ns.lbaSize} is not 512 or 4096`);
    if (!o.lbaFormats.includes(ns.lbaSize)) fail(`namespaces[${i}].lbaSize ${ns.lbaSize} is not one of lbaFormats ${JSON.stringify(o.lbaFormats)}`);
    if (!Number.isSafeInteger(ns.capacityBlocks) || ns.capacityBlocks < 1) fail(`namespaces[${i}].capacityBlocks ${ns.capacityBlocks} is not a positive integer`);
    for (const key of ["nawun", "nawupf", "nabspf", "nabo"] as const) {
      const v = ns[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffff)) fail(`namespaces[${i}].${key} ${v} is not 0..65535`);
    }
    // NVMe 1.4 §6.4.3: NABO is at most NABSPF (and 0 when there is no boundary).
    if ((ns.nabo ?? 0) > (ns.nabspf ?? 0)) fail(`namespaces[${i}].nabo ${ns.nabo} is above nabspf ${ns.nabspf ?? 0}`);
  });
  if (o.ioQueuePairs < 1 || o.ioQueuePairs > 0xfffe) fail(`ioQueuePairs ${o.ioQueuePairs} is not 1..65534`);
  if (o.mqes < 1 || o.mqes > 0xffff) fail(`mqes ${o.mqes} is not 1..65535`);
  if (o.mpsmin > o.mpsmax || o.mpsmax > 15) fail(`mpsmin/mpsmax ${o.mpsmin}/${o.mpsmax} are not an ordered pair in 0..15`);
  if (o.dstrd < 0 || o.dstrd > 15) fail(`dstrd ${o.dstrd} is not 0..15`);
  if (o.capTimeout < 1 || o.capTimeout > 255) fail(`capTimeout ${o.capTimeout} is not 1..255`);
  const timeoutCycles = o.capTimeout * 500 * 1000 * CYCLES_PER_US;
  if (o.readyDelayCycles < 0 || o.readyDelayCycles > timeoutCycles) fail(`readyDelayCycles ${o.readyDelayCycles} exceeds CAP.TO (${timeoutCycles} cycles)`);
  if (o.msixVectors < 1 || o.msixVectors > 2048) fail(`msixVectors ${o.msixVectors} is not 1..2048`);
  if (o.indirectionUnitBytes < 512 || (o.indirectionUnitBytes & (o.indirectionUnitBytes - 1)) !== 0) fail(`indirectionUnitBytes ${o.indirectionUnitBytes} is not a power of two >= 512`);
  if (o.sqeFetchBurst < 1) fail(`sqeFetchBurst ${o.sqeFetchBurst} is below 1`);
  if (o.maxOutstandingCommands < 1) fail(`maxOutstandingCommands ${o.maxOutstandingCommands} is below 1`);
  if (!Number.isSafeInteger(o.transmitLookaheadTlps) || o.transmitLookaheadTlps < 0) fail(`transmitLookaheadTlps ${o.transmitLookaheadTlps} is not a non-negative integer (0 = no bound)`);
  if (![128, 256, 512, 1024, 2048, 4096].includes(o.maxPayloadSupported)) fail(`maxPayloadSupported ${o.maxPayloadSupported} is not 128..4096`);
  if (o.bar0Size !== 0 && (o.bar0Size < 16384 || (o.bar0Size & (o.bar0Size - 1)) !== 0)) fail(`bar0Size ${o.bar0Size} is not a power of two >= 16 KiB`);
  if (o.bar0AddressBits !== 32 && o.bar0AddressBits !== 64) fail(`bar0AddressBits ${o.bar0AddressBits} is not 32 or 64`);
  if (!Number.isInteger(o.classCode) || o.classCode < 0 || o.classCode > 0xffffff) fail(`classCode ${o.classCode} is not a 24-bit value`);
  return { ...o, timingParams: timingParams as TimingParams };
}
