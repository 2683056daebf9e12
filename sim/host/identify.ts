// The Identify data structures the host depends on (NVMe 1.4 §5.15.2): controller (CNS 01h),
// namespace (CNS 00h) and the active namespace ID list (CNS 02h), parsed from their 4 KiB pages.

import { type NvmeField, readField, readFieldBig } from "../../rtl-src/nvme/nvme-field.ts";
import { IDENTIFY_BYTES, IdentifyControllerField, IdentifyNamespaceField, lbaFormatField } from "../../rtl-src/nvme/nvme-identify.ts";

export { IDENTIFY_BYTES };

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
  /** Error Log Page Entries, zero-based. */
  elpe: number;
  /** Sanitize Capabilities: [0] crypto erase, [1] block erase, [2] overwrite, [29] No-Deallocate Inhibited. */
  sanicap: number;
  /** Format NVM Attributes: [0] format all namespaces, [1] secure erase all namespaces, [2] cryptographic erase. */
  fna: number;
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

function ascii(bytes: Uint8Array, f: NvmeField): string {
  return Buffer.from(bytes.subarray(f.offset, f.offset + f.size)).toString("latin1").trimEnd();
}

function checkLength(data: Uint8Array, what: string): DataView {
  if (data.length !== IDENTIFY_BYTES) throw new Error(`${what} must be ${IDENTIFY_BYTES} bytes, got ${data.length}`);
  return new DataView(data.buffer, data.byteOffset, data.length);
}

export function parseIdentifyController(data: Uint8Array): IdentifyController {
  checkLength(data, "Identify Controller data");
  const C = IdentifyControllerField;
  const f = (field: NvmeField) => readField(data, field);
  return {
    vid: f(C.vid),
    ssvid: f(C.ssvid),
    serial: ascii(data, C.sn),
    model: ascii(data, C.mn),
    firmware: ascii(data, C.fr),
    mdts: f(C.mdts),
    cntlid: f(C.cntlid),
    version: f(C.ver),
    rtd3e: f(C.rtd3e),
    oacs: f(C.oacs),
    elpe: f(C.elpe),
    sanicap: f(C.sanicap),
    fna: f(C.fna),
    acl: f(C.acl),
    aerl: f(C.aerl),
    sqes: { min: f(C.sqesMin), max: f(C.sqesMax) },
    cqes: { min: f(C.cqesMin), max: f(C.cqesMax) },
    maxcmd: f(C.maxcmd),
    nn: f(C.nn),
    oncs: f(C.oncs),
    vwc: f(C.vwc),
    awun: f(C.awun),
    awupf: f(C.awupf),
    sgls: f(C.sgls),
  };
}

export function parseIdentifyNamespace(data: Uint8Array): IdentifyNamespace {
  checkLength(data, "Identify Namespace data");
  const N = IdentifyNamespaceField;
  const f = (field: NvmeField) => readField(data, field);
  const nlbaf = f(N.nlbaf);
  const lbaFormats: LbaFormat[] = [];
  for (let i = 0; i <= nlbaf && i < 16; i++) {
    const format = lbaFormatField(i);
    lbaFormats.push({ metadataBytes: f(format.ms), lbaBytes: 2 ** f(format.lbads), relativePerformance: f(format.rp) });
  }
  const flbas = f(N.flbas);
  const active = lbaFormats[f(N.flbasFormat)];
  if (!active) throw new Error(`Identify Namespace: FLBAS selects format ${f(N.flbasFormat)} but NLBAF is ${nlbaf}`);
  return {
    nsze: readFieldBig(data, N.nsze),
    ncap: readFieldBig(data, N.ncap),
    nuse: readFieldBig(data, N.nuse),
    nsfeat: f(N.nsfeat),
    nlbaf,
    flbas,
    lbaFormats,
    lbaBytes: active.lbaBytes,
    dlfeat: f(N.dlfeat),
    nawun: f(N.nawun),
    nawupf: f(N.nawupf),
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
