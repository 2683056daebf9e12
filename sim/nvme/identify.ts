// Identify data structures (NVMe 1.4 §5.15, facts digest §E.6/§E.7): Identify Controller (CNS 01h),
// Identify Namespace (CNS 00h) and the Active Namespace ID list (CNS 02h), each 4096 bytes.

export const IDENTIFY_BYTES = 4096;

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
  const v = new DataView(b.buffer);
  v.setUint16(0, id.pciVendorId, true);
  v.setUint16(2, id.pciSubsystemVendorId, true);
  ascii(b, 4, 20, id.serial);
  ascii(b, 24, 40, id.model);
  ascii(b, 64, 8, id.firmware);
  b[72] = 6; // RAB
  b[73] = 0x00; // IEEE OUI 52:54:00, least significant byte first
  b[74] = 0x54;
  b[75] = 0x52;
  b[77] = id.mdts;
  v.setUint16(78, 0, true); // CNTLID
  v.setUint32(80, 0x00010400, true); // VER 1.4
  v.setUint32(84, id.rtd3e, true); // RTD3R
  v.setUint32(88, id.rtd3e, true); // RTD3E
  b[258] = id.acl;
  b[259] = id.aerl;
  b[260] = 0x03; // FRMW: one slot, slot 1 read-only
  b[261] = 0x04; // LPA: extended data for Get Log Page
  b[262] = id.elpe;
  v.setUint16(266, 0x0157, true); // WCTEMP (K)
  v.setUint16(268, 0x0175, true); // CCTEMP (K)
  b[512] = 0x66; // SQES
  b[513] = 0x44; // CQES
  v.setUint16(514, id.maxOutstandingCommands, true); // MAXCMD
  v.setUint32(516, id.nn, true);
  v.setUint16(520, (1 << 2) | (1 << 3), true); // ONCS: Dataset Management, Write Zeroes
  b[525] = id.volatileWriteCache ? 0x07 : 0x00; // VWC present; Flush with NSID FFFFFFFFh supported
  v.setUint16(526, id.awun, true);
  v.setUint16(528, id.awupf, true);
  b[530] = 1; // NVSCC
  ascii(b, 768, 256, "nqn.2026-01.dev.nvme-host:ssd-model", 0);
  v.setUint16(2048, 2500, true); // PSD0 max power 25.00 W
  v.setUint32(2052, 16, true); // ENLAT
  v.setUint32(2056, 4, true); // EXLAT
  return b;
}

export function identifyNamespace(ns: NamespaceIdentity): Uint8Array {
  const b = new Uint8Array(IDENTIFY_BYTES);
  const v = new DataView(b.buffer);
  const cap = BigInt(ns.capacityBlocks);
  v.setBigUint64(0, cap, true); // NSZE
  v.setBigUint64(8, cap, true); // NCAP
  v.setBigUint64(16, cap, true); // NUSE
  const atomics = ns.nawun !== undefined || ns.nawupf !== undefined;
  b[24] = (atomics ? 1 << 1 : 0) | (1 << 4); // NSFEAT: NSABP, OPTPERF
  b[25] = 0; // NLBAF: one format
  b[26] = 0; // FLBAS: format 0, no metadata
  b[33] = 0x09; // DLFEAT: deallocated blocks read as zeroes; Write Zeroes may deallocate
  if (atomics) {
    v.setUint16(34, ns.nawun ?? 0, true);
    v.setUint16(36, ns.nawupf ?? 0, true);
  }
  const bytes = cap * BigInt(ns.lbaSize);
  v.setBigUint64(48, bytes & 0xffffffffffffffffn, true); // NVMCAP (low 64 bits of 128)
  const pwg = Math.max(ns.preferredWriteBlocks - 1, 0);
  v.setUint16(64, pwg, true); // NPWG
  v.setUint16(66, pwg, true); // NPWA
  v.setUint16(68, pwg, true); // NPDG
  v.setUint16(70, pwg, true); // NPDA
  v.setUint16(72, pwg, true); // NOWS
  v.setBigUint64(120, 0x5254000000000000n | BigInt(ns.nsid), false); // EUI64
  v.setUint32(128, Math.log2(ns.lbaSize) << 16, true); // LBAF0: LBADS, no metadata, best performance
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

function ascii(b: Uint8Array, at: number, width: number, text: string, pad = 0x20): void {
  b.fill(pad, at, at + width);
  for (let i = 0; i < Math.min(text.length, width); i++) b[at + i] = text.charCodeAt(i) & 0x7f;
}
