// TLP records <-> wire bytes (header + payload [+ ECRC], byte 0 = header byte 0), PCIe Base 2.1 §2.2,
// laid out as in the facts digest §B. The encoder refuses illegal records; the decoder rejects malformed
// or unsupported bytes with a TlpFormatError whose reason names the offending field.

import type { Completion, ConfigRequest, MemRequest, Message, Tlp } from "./tlp.ts";
import { CplStatus } from "./tlp.ts";
import { ByteSlab } from "./byte-slab.ts";
import { computeEcrc } from "./ecrc.ts";
import { tlpRuleViolation, type TlpRuleOptions } from "./tlp-rules.ts";

/**
 * Why a TLP was refused. `malformed` breaks a format rule (a receiver drops it and logs a Malformed TLP
 * error); `unsupported` is well formed but of a kind these models do not implement (a completer answers a
 * non-posted one with UR); `ecrc` failed its digest check.
 */
export type TlpErrorClass = "malformed" | "unsupported" | "ecrc";

export class TlpFormatError extends Error {
  constructor(
    readonly reason: string,
    readonly errorClass: TlpErrorClass = "malformed",
  ) {
    super(reason);
    this.name = "TlpFormatError";
  }
}

export interface EncodeOptions extends TlpRuleOptions {
  /** Emit the record even if it breaks a rule of tlp-rules.ts (for building malformed test stimulus). */
  skipRuleChecks?: boolean;
}

export interface DecodeOptions extends TlpRuleOptions {
  /** Verify the digest of TD=1 TLPs (default true). */
  checkEcrc?: boolean;
  /**
   * Let the record's payload be a view into `bytes` instead of a copy (default false), for callers that
   * hand over a buffer they will not touch again.
   */
  sharePayload?: boolean;
}

const slab = new ByteSlab();

/** Fmt/Type byte (header byte 0) of each kind; Msg/MsgD add the routing subfield. */
const FMT_TYPE = {
  MRd32: 0x00,
  MRd64: 0x20,
  MWr32: 0x40,
  MWr64: 0x60,
  CfgRd0: 0x04,
  CfgWr0: 0x44,
  CfgRd1: 0x05,
  CfgWr1: 0x45,
  Cpl: 0x0a,
  CplD: 0x4a,
  Msg: 0x30,
  MsgD: 0x70,
} as const;

/** Well-formed kinds the models do not implement, by Fmt/Type byte, named for the error message. */
const UNSUPPORTED_FMT_TYPE: ReadonlyMap<number, string> = new Map([
  [0x01, "MRdLk32"],
  [0x21, "MRdLk64"],
  [0x02, "IORd"],
  [0x42, "IOWr"],
  [0x0b, "CplLk"],
  [0x4b, "CplDLk"],
  [0x5b, "TCfgWr"],
  [0x1b, "TCfgRd"],
  [0x4c, "FetchAdd32"],
  [0x6c, "FetchAdd64"],
  [0x4d, "Swap32"],
  [0x6d, "Swap64"],
  [0x4e, "CAS32"],
  [0x6e, "CAS64"],
]);

/** Wire size of a TLP's header in bytes. */
export function headerBytes(tlp: Tlp): 12 | 16 {
  if (tlp.kind === "MRd" || tlp.kind === "MWr") return tlp.addr64 ? 16 : 12;
  if (tlp.kind === "Msg" || tlp.kind === "MsgD") return 16;
  return 12;
}

/** Wire size of the whole TLP (header + payload + digest), without link framing. */
export function encodedSize(tlp: Tlp): number {
  return headerBytes(tlp) + (tlp.data?.length ?? 0) + (tlp.td ? 4 : 0);
}

export function encodeTlp(tlp: Tlp, options: EncodeOptions = {}): Uint8Array {
  if (!options.skipRuleChecks) {
    const violation = tlpRuleViolation(tlp, options);
    if (violation) throw new TlpFormatError(`cannot encode ${tlp.kind}: ${violation}`);
  }
  const bytes = slab.alloc(encodedSize(tlp));
  writeDw0(bytes, fmtTypeOf(tlp), tlp, lengthFieldOf(tlp));
  switch (tlp.kind) {
    case "MRd":
    case "MWr":
      writeMemHeader(bytes, tlp);
      break;
    case "Cpl":
    case "CplD":
      writeCompletionHeader(bytes, tlp);
      break;
    case "CfgRd0":
    case "CfgWr0":
    case "CfgRd1":
    case "CfgWr1":
      writeConfigHeader(bytes, tlp);
      break;
    case "Msg":
    case "MsgD":
      writeMessageHeader(bytes, tlp);
      break;
  }
  const headerEnd = headerBytes(tlp);
  if (tlp.data) bytes.set(tlp.data, headerEnd);
  if (tlp.td) {
    const end = bytes.length - 4;
    bytes.set(computeEcrc(bytes, end), end);
  }
  return bytes;
}

/** Length field in DW (0 where the field is reserved: Cpl and Msg carry no payload). */
function lengthFieldOf(tlp: Tlp): number {
  switch (tlp.kind) {
    case "Cpl":
    case "Msg":
      return 0;
    case "CfgRd0":
    case "CfgWr0":
    case "CfgRd1":
    case "CfgWr1":
      return 1;
    default:
      return tlp.lengthDw;
  }
}

function fmtTypeOf(tlp: Tlp): number {
  switch (tlp.kind) {
    case "MRd":
      return tlp.addr64 ? FMT_TYPE.MRd64 : FMT_TYPE.MRd32;
    case "MWr":
      return tlp.addr64 ? FMT_TYPE.MWr64 : FMT_TYPE.MWr32;
    case "Msg":
    case "MsgD":
      return FMT_TYPE[tlp.kind] | (tlp.routing & 7);
    default:
      return FMT_TYPE[tlp.kind];
  }
}

function writeDw0(bytes: Uint8Array, fmtType: number, tlp: Tlp, lengthDw: number): void {
  const lengthField = lengthDw & 0x3ff;
  bytes[0] = fmtType;
  bytes[1] = (tlp.tc & 7) << 4;
  bytes[2] = (tlp.td ? 0x80 : 0) | (tlp.ep ? 0x40 : 0) | ((tlp.attr & 3) << 4) | (lengthField >> 8);
  bytes[3] = lengthField & 0xff;
}

function writeRequesterDw1(bytes: Uint8Array, requesterId: number, tag: number, lastBe: number, firstBe: number): void {
  bytes[4] = requesterId >> 8;
  bytes[5] = requesterId & 0xff;
  bytes[6] = tag & 0xff;
  bytes[7] = ((lastBe & 0xf) << 4) | (firstBe & 0xf);
}

function writeMemHeader(bytes: Uint8Array, tlp: MemRequest): void {
  writeRequesterDw1(bytes, tlp.requesterId, tlp.tag, tlp.lastBe, tlp.firstBe);
  const low = Number(tlp.address & 0xfffffffcn);
  if (tlp.addr64) {
    writeU32(bytes, 8, Number((tlp.address >> 32n) & 0xffffffffn));
    writeU32(bytes, 12, low);
  } else {
    writeU32(bytes, 8, low);
  }
}

function writeCompletionHeader(bytes: Uint8Array, tlp: Completion): void {
  const status = tlp.reservedStatus ?? tlp.status;
  const byteCountField = tlp.byteCount & 0xfff;
  bytes[4] = tlp.completerId >> 8;
  bytes[5] = tlp.completerId & 0xff;
  bytes[6] = ((status & 7) << 5) | (tlp.bcm ? 0x10 : 0) | (byteCountField >> 8);
  bytes[7] = byteCountField & 0xff;
  bytes[8] = tlp.requesterId >> 8;
  bytes[9] = tlp.requesterId & 0xff;
  bytes[10] = tlp.tag & 0xff;
  bytes[11] = tlp.lowerAddress & 0x7f;
}

function writeConfigHeader(bytes: Uint8Array, tlp: ConfigRequest): void {
  writeRequesterDw1(bytes, tlp.requesterId, tlp.tag, 0, tlp.firstBe);
  bytes[8] = tlp.bus & 0xff;
  bytes[9] = ((tlp.device & 0x1f) << 3) | (tlp.fn & 7);
  bytes[10] = (tlp.register >> 8) & 0xf;
  bytes[11] = tlp.register & 0xfc;
}

function writeMessageHeader(bytes: Uint8Array, tlp: Message): void {
  bytes[4] = tlp.requesterId >> 8;
  bytes[5] = tlp.requesterId & 0xff;
  bytes[6] = tlp.tag & 0xff;
  bytes[7] = tlp.messageCode & 0xff;
  bytes.set(tlp.headerTail, 8);
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/** Decode wire bytes (exactly one TLP) into a record, or throw TlpFormatError naming the problem. */
export function decodeTlp(bytes: Uint8Array, options: DecodeOptions = {}): Tlp {
  if (bytes.length < 12) throw new TlpFormatError(`TLP is ${bytes.length} bytes, shorter than a 3DW header`);
  if (bytes.length % 4 !== 0) throw new TlpFormatError(`TLP is ${bytes.length} bytes, not a whole number of DWs`);
  const fmtType = bytes[0];
  if (fmtType & 0x80) throw new TlpFormatError(`Fmt 1xx (TLP prefix, byte 0 = 0x${hex2(fmtType)}) is not supported`, "unsupported");
  const unsupported = UNSUPPORTED_FMT_TYPE.get(fmtType);
  if (unsupported) throw new TlpFormatError(`${unsupported} (Fmt/Type 0x${hex2(fmtType)}) is not modelled`, "unsupported");

  const is4dw = (fmtType & 0x20) !== 0;
  const hasData = (fmtType & 0x40) !== 0;
  const hdrBytes = is4dw ? 16 : 12;
  const td = (bytes[2] & 0x80) !== 0;
  const lengthField = ((bytes[2] & 3) << 8) | bytes[3];
  const lengthDw = lengthField === 0 ? 1024 : lengthField;
  const kind = kindOf(fmtType);
  if (kind === undefined) throw new TlpFormatError(`reserved Fmt/Type 0x${hex2(fmtType)}`);
  if (bytes[2] & 0x0c) throw new TlpFormatError(`AT field ${(bytes[2] >> 2) & 3} is not 00 (address translation is not modelled)`, "unsupported");
  if (bytes[1] & 0x01) throw new TlpFormatError("TH (TLP processing hints) is set; not modelled", "unsupported");

  const payload = hasData ? lengthDw * 4 : 0;
  const expected = hdrBytes + payload + (td ? 4 : 0);
  if (bytes.length !== expected) {
    const what = hasData ? `Length ${lengthDw} DW of payload` : "no payload";
    throw new TlpFormatError(
      `${kind} header says ${what}${td ? " + ECRC" : ""} (${expected} bytes) but the TLP is ${bytes.length} bytes`,
    );
  }
  if (td && options.checkEcrc !== false) {
    const end = bytes.length - 4;
    const want = computeEcrc(bytes, end);
    const got = bytes.subarray(end);
    if (want[0] !== got[0] || want[1] !== got[1] || want[2] !== got[2] || want[3] !== got[3]) {
      throw new TlpFormatError(`${kind} ECRC ${hexBytes(got)} does not match the computed ${hexBytes(want)}`, "ecrc");
    }
  }

  const data = !hasData ? undefined : options.sharePayload ? bytes.subarray(hdrBytes, hdrBytes + payload) : bytes.slice(hdrBytes, hdrBytes + payload);
  const tlp = buildRecord(kind, bytes, fmtType, lengthDw, data);
  const violation = tlpRuleViolation(tlp, options);
  if (violation) throw new TlpFormatError(violation);
  return tlp;
}

type Kind = Tlp["kind"];

function kindOf(fmtType: number): Kind | undefined {
  switch (fmtType) {
    case FMT_TYPE.MRd32:
    case FMT_TYPE.MRd64:
      return "MRd";
    case FMT_TYPE.MWr32:
    case FMT_TYPE.MWr64:
      return "MWr";
    case FMT_TYPE.CfgRd0:
      return "CfgRd0";
    case FMT_TYPE.CfgWr0:
      return "CfgWr0";
    case FMT_TYPE.CfgRd1:
      return "CfgRd1";
    case FMT_TYPE.CfgWr1:
      return "CfgWr1";
    case FMT_TYPE.Cpl:
      return "Cpl";
    case FMT_TYPE.CplD:
      return "CplD";
  }
  if ((fmtType & 0xf8) === FMT_TYPE.Msg) return "Msg";
  if ((fmtType & 0xf8) === FMT_TYPE.MsgD) return "MsgD";
  return undefined;
}

function buildRecord(kind: Kind, bytes: Uint8Array, fmtType: number, lengthDw: number, data: Uint8Array | undefined): Tlp {
  const common = {
    tc: (bytes[1] >> 4) & 7,
    attr: (bytes[2] >> 4) & 3,
    ep: (bytes[2] & 0x40) !== 0,
    td: (bytes[2] & 0x80) !== 0,
  };
  const requesterId = (bytes[4] << 8) | bytes[5];
  const tag = bytes[6];
  switch (kind) {
    case "MRd":
    case "MWr": {
      const addr64 = (fmtType & 0x20) !== 0;
      const address = addr64
        ? (BigInt(readU32(bytes, 8)) << 32n) | BigInt((readU32(bytes, 12) & 0xfffffffc) >>> 0)
        : BigInt((readU32(bytes, 8) & 0xfffffffc) >>> 0);
      const record: MemRequest = {
        kind,
        ...common,
        requesterId,
        tag,
        address,
        addr64,
        lengthDw,
        firstBe: bytes[7] & 0xf,
        lastBe: bytes[7] >> 4,
      };
      if (data) record.data = data;
      return record;
    }
    case "Cpl":
    case "CplD":
      return buildCompletion(kind, bytes, common, lengthDw, data);
    case "CfgRd0":
    case "CfgWr0":
    case "CfgRd1":
    case "CfgWr1":
      return buildConfig(kind, bytes, common, requesterId, tag, lengthDw, data);
    case "Msg":
    case "MsgD": {
      const record: Message = {
        kind,
        ...common,
        routing: fmtType & 7,
        requesterId,
        tag,
        messageCode: bytes[7],
        headerTail: bytes.slice(8, 16),
        lengthDw: kind === "MsgD" ? lengthDw : 0,
      };
      if (data) record.data = data;
      return record;
    }
  }
}

function buildCompletion(
  kind: "Cpl" | "CplD",
  bytes: Uint8Array,
  common: Pick<Completion, "tc" | "attr" | "ep" | "td">,
  lengthDw: number,
  data: Uint8Array | undefined,
): Completion {
  const rawStatus = bytes[6] >> 5;
  const byteCountField = ((bytes[6] & 0xf) << 8) | bytes[7];
  const isDefined = rawStatus === CplStatus.SC || rawStatus === CplStatus.UR || rawStatus === CplStatus.CRS || rawStatus === CplStatus.CA;
  const record: Completion = {
    kind,
    ...common,
    completerId: (bytes[4] << 8) | bytes[5],
    status: isDefined ? (rawStatus as CplStatus) : CplStatus.UR,
    bcm: (bytes[6] & 0x10) !== 0,
    byteCount: byteCountField === 0 ? 4096 : byteCountField,
    requesterId: (bytes[8] << 8) | bytes[9],
    tag: bytes[10],
    lowerAddress: bytes[11] & 0x7f,
    lengthDw: kind === "CplD" ? lengthDw : 0,
  };
  if (!isDefined) record.reservedStatus = rawStatus;
  if (data) record.data = data;
  return record;
}

function buildConfig(
  kind: ConfigRequest["kind"],
  bytes: Uint8Array,
  common: Pick<ConfigRequest, "tc" | "attr" | "ep" | "td">,
  requesterId: number,
  tag: number,
  lengthDw: number,
  data: Uint8Array | undefined,
): ConfigRequest {
  if (lengthDw !== 1) throw new TlpFormatError(`${kind} Length is ${lengthDw} DW, must be 1`);
  const lastBe = bytes[7] >> 4;
  if (lastBe !== 0) throw new TlpFormatError(`${kind} Last BE is ${lastBe.toString(2).padStart(4, "0")}, must be 0000`);
  const record: ConfigRequest = {
    kind,
    ...common,
    requesterId,
    tag,
    bus: bytes[8],
    device: bytes[9] >> 3,
    fn: bytes[9] & 7,
    register: ((bytes[10] & 0xf) << 8) | (bytes[11] & 0xfc),
    firstBe: bytes[7] & 0xf,
  };
  if (data) record.data = data;
  return record;
}

function hex2(value: number): string {
  return value.toString(16).padStart(2, "0");
}

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, hex2).join("");
}
