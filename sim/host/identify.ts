// The Identify data structures the host depends on (NVMe 1.4 §5.15.2): controller (CNS 01h),
// namespace (CNS 00h) and the active namespace ID list (CNS 02h), parsed from their 4 KiB pages.

export const IDENTIFY_BYTES = 4096;

export interface IdentifyController {
  vid: number;
  ssvid: number;
  serial: string;
  model: string;
  firmware: string;
  /** Max data transfer as a power of two of the minimum page size; 0 = no limit. */
  mdts: number;
  cntlid: number;
  version: number;
  rtd3e: number;
  oacs: number;
  acl: number;
  aerl: number;
  sqes: { min: number; max: number };
  cqes: { min: number; max: number };
  maxcmd: number;
  nn: number;
  oncs: number;
  vwc: number;
  awun: number;
  awupf: number;
  sgls: number;
}

export interface LbaFormat {
  metadataBytes: number;
  lbaBytes: number;
  relativePerformance: number;
}

export interface IdentifyNamespace {
  nsze: bigint;
  ncap: bigint;
  nuse: bigint;
  nsfeat: number;
  nlbaf: number;
  flbas: number;
  lbaFormats: LbaFormat[];
  /** The active format's data size in bytes. */
  lbaBytes: number;
  /** Deallocate Logical Block Features: [2:0] = 001b means deallocated blocks read as zeroes. */
  dlfeat: number;
  nawun: number;
  nawupf: number;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return Buffer.from(bytes.subarray(start, start + length)).toString("latin1").trimEnd();
}

function checkLength(data: Uint8Array, what: string): DataView {
  if (data.length !== IDENTIFY_BYTES) throw new Error(`${what} must be ${IDENTIFY_BYTES} bytes, got ${data.length}`);
  return new DataView(data.buffer, data.byteOffset, data.length);
}

export function parseIdentifyController(data: Uint8Array): IdentifyController {
  const v = checkLength(data, "Identify Controller data");
  return {
    vid: v.getUint16(0, true),
    ssvid: v.getUint16(2, true),
    serial: ascii(data, 4, 20),
    model: ascii(data, 24, 40),
    firmware: ascii(data, 64, 8),
    mdts: data[77],
    cntlid: v.getUint16(78, true),
    version: v.getUint32(80, true),
    rtd3e: v.getUint32(88, true),
    oacs: v.getUint16(256, true),
    acl: data[258],
    aerl: data[259],
    sqes: { min: data[512] & 0xf, max: data[512] >> 4 },
    cqes: { min: data[513] & 0xf, max: data[513] >> 4 },
    maxcmd: v.getUint16(514, true),
    nn: v.getUint32(516, true),
    oncs: v.getUint16(520, true),
    vwc: data[525],
    awun: v.getUint16(526, true),
    awupf: v.getUint16(528, true),
    sgls: v.getUint32(536, true),
  };
}

export function parseIdentifyNamespace(data: Uint8Array): IdentifyNamespace {
  const v = checkLength(data, "Identify Namespace data");
  const nlbaf = data[25];
  const lbaFormats: LbaFormat[] = [];
  for (let i = 0; i <= nlbaf && i < 16; i++) {
    const f = v.getUint32(128 + 4 * i, true);
    lbaFormats.push({ metadataBytes: f & 0xffff, lbaBytes: 2 ** ((f >>> 16) & 0xff), relativePerformance: (f >>> 24) & 3 });
  }
  const flbas = data[26];
  const active = lbaFormats[flbas & 0xf];
  if (!active) throw new Error(`Identify Namespace: FLBAS selects format ${flbas & 0xf} but NLBAF is ${nlbaf}`);
  return {
    nsze: v.getBigUint64(0, true),
    ncap: v.getBigUint64(8, true),
    nuse: v.getBigUint64(16, true),
    nsfeat: data[24],
    nlbaf,
    flbas,
    lbaFormats,
    lbaBytes: active.lbaBytes,
    dlfeat: data[33],
    nawun: v.getUint16(34, true),
    nawupf: v.getUint16(36, true),
  };
}

/** CNS 02h: ascending NSIDs, terminated by the first zero entry. */
export function parseActiveNamespaceList(data: Uint8Array): number[] {
  const v = checkLength(data, "active namespace ID list");
  const ids: number[] = [];
  for (let off = 0; off < IDENTIFY_BYTES; off += 4) {
    const id = v.getUint32(off, true);
    if (id === 0) break;
    ids.push(id);
  }
  return ids;
}
