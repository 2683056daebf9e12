// Identify data structures (NVMe 1.4 §5.15, facts digest §E.6/§E.7): Identify Controller (CNS 01h),
// Identify Namespace (CNS 00h) and the Active Namespace ID list (CNS 02h), each 4096 bytes.

import { type NvmeField, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField, IdentifyNamespaceField, lbaFormatField } from "../../rtl-src/nvme/nvme-identify.ts";
import type { EraseSupport } from "./timing.ts";

export { IDENTIFY_BYTES };

export interface ControllerIdentity {
  pciVendorId: number;
  pciSubsystemVendorId: number;
  serial: string;
  model: string;
  firmware: string;
  /** Maximum Data Transfer Size as a power of two in units of CAP.MPSMIN pages; 0 = no limit. */
  mdts: number;
  /** Number of Namespaces: the highest namespace ID. */
  nn: number;
  volatileWriteCache: boolean;
  /** Atomic Write Unit Normal / Power Fail, zero-based blocks. */
  awun: number;
  awupf: number;
  /** Asynchronous Event Request Limit and Abort Command Limit, zero-based. */
  aerl: number;
  acl: number;
  /** Error Log Page Entries, zero-based. */
  elpe: number;
  /** Expected shutdown latency, microseconds. */
  rtd3e: number;
  maxOutstandingCommands: number;
  /** Format NVM and Sanitize support (OACS, FNA, SANICAP); none when absent. */
  erase?: EraseSupport;
}

export interface NamespaceIdentity {
  nsid: number;
  capacityBlocks: number;
  lbaSize: number;
  /** Namespace atomic units (zero-based blocks); when set, NSFEAT.NSABP is reported. */
  nawun?: number;
  nawupf?: number;
  /** Namespace atomic boundary for power fail and its offset (reported with NSABP). */
  nabspf?: number;
  nabo?: number;
  /** Preferred write granularity in blocks (the indirection unit), reported as NPWG/NPWA. */
  preferredWriteBlocks: number;
  /** The LBA formats offered (data sizes, no metadata); lbaSize is one of them. Just lbaSize when absent. */
  lbaFormats?: readonly number[];
}

/** DLFEAT: deallocated blocks read as zeroes ([2:0] = 001b), Write Zeroes may deallocate ([3]). */
export const DLFEAT_READS_ZEROES = 0x09;

const NO_ERASE_SUPPORT: EraseSupport = {
  formatNvm: false,
  formatAppliesToAllNamespaces: false,
  secureEraseAppliesToAllNamespaces: false,
  formatCryptoErase: false,
  sanitizeBlockErase: false,
  sanitizeOverwrite: false,
  sanitizeCryptoErase: false,
  sanitizeNoDeallocateInhibited: false,
};

export function identifyController(id: ControllerIdentity): Uint8Array {
  const b = new Uint8Array(IDENTIFY_BYTES);
  const erase = id.erase ?? NO_ERASE_SUPPORT;
  const C = IdentifyControllerField;
  const put = (f: NvmeField, value: number | bigint) => writeField(b, f, value);
  put(C.vid, id.pciVendorId);
  put(C.ssvid, id.pciSubsystemVendorId);
  ascii(b, C.sn, id.serial);
  ascii(b, C.mn, id.model);
  ascii(b, C.fr, id.firmware);
  put(C.rab, 6);
  put(C.ieee, 0x525400); // IEEE OUI 52:54:00, least significant byte first
  put(C.mdts, id.mdts);
  put(C.cntlid, 0);
  put(C.ver, 0x00010400); // 1.4
  put(C.rtd3r, id.rtd3e);
  put(C.rtd3e, id.rtd3e);
  put(C.oacsFormatNvm, erase.formatNvm ? 1 : 0);
  put(C.acl, id.acl);
  put(C.aerl, id.aerl);
  put(C.frmw, 0x03); // one slot, slot 1 read-only
  put(C.lpa, 0x04); // extended data for Get Log Page
  put(C.elpe, id.elpe);
  put(C.wctemp, 0x0157); // kelvin
  put(C.cctemp, 0x0175);
  put(C.sanicapCryptoErase, erase.sanitizeCryptoErase ? 1 : 0);
  put(C.sanicapBlockErase, erase.sanitizeBlockErase ? 1 : 0);
  put(C.sanicapOverwrite, erase.sanitizeOverwrite ? 1 : 0);
  put(C.sanicapNoDeallocateInhibited, erase.sanitizeNoDeallocateInhibited ? 1 : 0);
  put(C.sqesMin, 6);
  put(C.sqesMax, 6);
  put(C.cqesMin, 4);
  put(C.cqesMax, 4);
  put(C.maxcmd, id.maxOutstandingCommands);
  put(C.nn, id.nn);
  put(C.oncs, (1 << 2) | (1 << 3)); // Dataset Management, Write Zeroes
  put(C.fnaFormatAllNamespaces, erase.formatAppliesToAllNamespaces ? 1 : 0);
  put(C.fnaEraseAllNamespaces, erase.secureEraseAppliesToAllNamespaces ? 1 : 0);
  put(C.fnaCryptoErase, erase.formatCryptoErase ? 1 : 0);
  put(C.vwc, id.volatileWriteCache ? 0x07 : 0x00); // present; Flush with NSID FFFFFFFFh supported
  put(C.awun, id.awun);
  put(C.awupf, id.awupf);
  put(C.nvscc, 1);
  ascii(b, C.subnqn, "nqn.2026-01.dev.nvme-host:ssd-model", 0);
  put(C.psd0MaxPower, 2500); // 25.00 W
  put(C.psd0Enlat, 16);
  put(C.psd0Exlat, 4);
  return b;
}

/** NSFEAT.NSABP: the namespace reports atomic units (and its atomic boundary) of its own. */
export function namespaceAtomicsReported(ns: { nawun?: number; nawupf?: number; nabspf?: number; nabo?: number }): boolean {
  return ns.nawun !== undefined || ns.nawupf !== undefined || ns.nabspf !== undefined || ns.nabo !== undefined;
}

export function identifyNamespace(ns: NamespaceIdentity): Uint8Array {
  const b = new Uint8Array(IDENTIFY_BYTES);
  const N = IdentifyNamespaceField;
  const put = (f: NvmeField, value: number | bigint) => writeField(b, f, value);
  const cap = BigInt(ns.capacityBlocks);
  put(N.nsze, cap);
  put(N.ncap, cap);
  put(N.nuse, cap);
  const atomics = namespaceAtomicsReported(ns);
  put(N.nsfeat, (atomics ? 1 << 1 : 0) | (1 << 4)); // NSABP, OPTPERF
  const formats = ns.lbaFormats ?? [ns.lbaSize];
  const active = formats.indexOf(ns.lbaSize);
  if (active < 0 || formats.length > 16) throw new Error(`identifyNamespace: ${ns.lbaSize}-byte blocks are not among the formats ${formats.join(", ")}`);
  put(N.nlbaf, formats.length - 1); // zero-based
  put(N.flbasFormat, active); // no metadata
  put(N.dlfeat, DLFEAT_READS_ZEROES);
  if (atomics) {
    put(N.nawun, ns.nawun ?? 0);
    put(N.nawupf, ns.nawupf ?? 0);
    put(N.nabspf, ns.nabspf ?? 0);
    put(N.nabo, ns.nabo ?? 0);
  }
  const bytes = cap * BigInt(ns.lbaSize);
  put(N.nvmcap, bytes & 0xffffffffffffffffn); // low 64 bits of 128
  const pwg = Math.max(ns.preferredWriteBlocks - 1, 0);
  for (const f of [N.npwg, N.npwa, N.npdg, N.npda, N.nows]) put(f, pwg);
  // EUI64 is a byte string, most significant byte first.
  new DataView(b.buffer).setBigUint64(N.eui64.offset, 0x5254000000000000n | BigInt(ns.nsid), false);
  formats.forEach((size, i) => put(lbaFormatField(i).lbads, Math.log2(size))); // no metadata, best performance
  return b;
}

/** Active namespace IDs greater than `after`, ascending, up to 1024 entries. */
export function activeNamespaceList(activeIds: number[], after: number): Uint8Array {
  const b = new Uint8Array(IDENTIFY_BYTES);
  const v = new DataView(b.buffer);
  const ids = activeIds.filter((id) => id > after).sort((x, y) => x - y).slice(0, 1024);
  ids.forEach((id, i) => v.setUint32(4 * i, id, true));
  return b;
}

function ascii(b: Uint8Array, f: NvmeField, text: string, pad = 0x20): void {
  b.fill(pad, f.offset, f.offset + f.size);
  for (let i = 0; i < Math.min(text.length, f.size); i++) b[f.offset + i] = text.charCodeAt(i) & 0x7f;
}
