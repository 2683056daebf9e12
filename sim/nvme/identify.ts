// Identify data structures (NVMe 1.4 §5.15, facts digest §E.6/§E.7): Identify Controller (CNS 01h),
// Identify Namespace (CNS 00h) and the Active Namespace ID list (CNS 02h), each 4096 bytes.

import { type NvmeField, writeField } from "../../rtl-src/nvme/nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField, IdentifyNamespaceField, lbaFormatField } from "../../rtl-src/nvme/nvme-identify.ts";

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
}

export interface NamespaceIdentity {
  nsid: number;
  capacityBlocks: number;
  lbaSize: number;
  /** Namespace atomic units (zero-based blocks); when set, NSFEAT.NSABP is reported. */
  nawun?: number;
  nawupf?: number;
  /** Preferred write granularity in blocks (the indirection unit), reported as NPWG/NPWA. */
  preferredWriteBlocks: number;
}

export function identifyController(id: ControllerIdentity): Uint8Array {
  const b = new Uint8Array(IDENTIFY_BYTES);
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
  put(C.acl, id.acl);
  put(C.aerl, id.aerl);
  put(C.frmw, 0x03); // one slot, slot 1 read-only
  put(C.lpa, 0x04); // extended data for Get Log Page
  put(C.elpe, id.elpe);
  put(C.wctemp, 0x0157); // kelvin
  put(C.cctemp, 0x0175);
  put(C.sqesMin, 6);
  put(C.sqesMax, 6);
  put(C.cqesMin, 4);
  put(C.cqesMax, 4);
  put(C.maxcmd, id.maxOutstandingCommands);
  put(C.nn, id.nn);
  put(C.oncs, (1 << 2) | (1 << 3)); // Dataset Management, Write Zeroes
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

export function identifyNamespace(ns: NamespaceIdentity): Uint8Array {
  const b = new Uint8Array(IDENTIFY_BYTES);
  const N = IdentifyNamespaceField;
  const put = (f: NvmeField, value: number | bigint) => writeField(b, f, value);
  const cap = BigInt(ns.capacityBlocks);
  put(N.nsze, cap);
  put(N.ncap, cap);
  put(N.nuse, cap);
  const atomics = ns.nawun !== undefined || ns.nawupf !== undefined;
  put(N.nsfeat, (atomics ? 1 << 1 : 0) | (1 << 4)); // NSABP, OPTPERF
  put(N.nlbaf, 0); // one format
  put(N.flbas, 0); // format 0, no metadata
  put(N.dlfeat, 0x09); // deallocated blocks read as zeroes; Write Zeroes may deallocate
  if (atomics) {
    put(N.nawun, ns.nawun ?? 0);
    put(N.nawupf, ns.nawupf ?? 0);
  }
  const bytes = cap * BigInt(ns.lbaSize);
  put(N.nvmcap, bytes & 0xffffffffffffffffn); // low 64 bits of 128
  const pwg = Math.max(ns.preferredWriteBlocks - 1, 0);
  for (const f of [N.npwg, N.npwa, N.npdg, N.npda, N.nows]) put(f, pwg);
  // EUI64 is a byte string, most significant byte first.
  new DataView(b.buffer).setBigUint64(N.eui64.offset, 0x5254000000000000n | BigInt(ns.nsid), false);
  put(lbaFormatField(0).lbads, Math.log2(ns.lbaSize)); // no metadata, best performance
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
