// TLP records <-> wire bytes (header + payload [+ ECRC], byte 0 = header byte 0), PCIe Base 2.1 §2.2,
// laid out as in the facts digest §B. The encoder refuses illegal records; the decoder rejects malformed
// or unsupported bytes with a TlpFormatError whose reason names the offending field.

import type { Completion, ConfigRequest, MemRequest, Message, Tlp } from "./tlp.ts";
import { CplStatus } from "./tlp.ts";
import { ByteSlab } from "./byte-slab.ts";
import { computeEcrc } from "./ecrc.ts";
import { tlpRuleViolation, type TlpRuleOptions } from "./tlp-rules.ts";
import { TlpField, TlpFieldPart as TlpFieldParts, readField as readHeaderField, writeField as writeHeaderField } from "../../rtl-src/tlp/tlp-header.ts";

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

// Module-level copies: under tsx every use of an imported binding goes through a getter, which on
// this path (a dozen fields per TLP, both ways) cost the codec more than half its speed.
const F = TlpField;
const TlpFieldPart = TlpFieldParts;
const readField = readHeaderField;
const writeField = writeHeaderField;

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
  writeField(bytes, TlpFieldPart.fmtType, fmtType);
  writeField(bytes, F.tc, tlp.tc);
  writeField(bytes, F.td, tlp.td ? 1 : 0);
  writeField(bytes, F.ep, tlp.ep ? 1 : 0);
  writeField(bytes, F.attr, tlp.attr);
  writeField(bytes, F.length, lengthDw);
}

function writeRequesterDw1(bytes: Uint8Array, requesterId: number, tag: number, lastBe: number, firstBe: number): void {
  writeField(bytes, F.requesterId, requesterId);
  writeField(bytes, F.tag, tag);
  writeField(bytes, F.lastBe, lastBe);
  writeField(bytes, F.firstBe, firstBe);
}

function writeMemHeader(bytes: Uint8Array, tlp: MemRequest): void {
  writeRequesterDw1(bytes, tlp.requesterId, tlp.tag, tlp.lastBe, tlp.firstBe);
  const addressDw = Number((tlp.address >> 2n) & 0x3fffffffn);
  if (tlp.addr64) {
    writeField(bytes, F.addressHigh, Number((tlp.address >> 32n) & 0xffffffffn));
    writeField(bytes, F.addressLow, addressDw);
  } else {
    writeField(bytes, F.address32, addressDw);
  }
}

function writeCompletionHeader(bytes: Uint8Array, tlp: Completion): void {
  writeField(bytes, F.completerId, tlp.completerId);
  writeField(bytes, F.status, tlp.reservedStatus ?? tlp.status);
  writeField(bytes, F.bcm, tlp.bcm ? 1 : 0);
  writeField(bytes, F.byteCount, tlp.byteCount);
  writeField(bytes, F.completionRequesterId, tlp.requesterId);
  writeField(bytes, F.completionTag, tlp.tag);
  writeField(bytes, F.lowerAddress, tlp.lowerAddress);
}

function writeConfigHeader(bytes: Uint8Array, tlp: ConfigRequest): void {
  writeRequesterDw1(bytes, tlp.requesterId, tlp.tag, 0, tlp.firstBe);
  writeField(bytes, F.bus, tlp.bus);
  writeField(bytes, F.device, tlp.device);
  writeField(bytes, F.function, tlp.fn);
  writeField(bytes, F.extendedRegister, tlp.register >> 8);
  writeField(bytes, F.register, tlp.register >> 2);
}

function writeMessageHeader(bytes: Uint8Array, tlp: Message): void {
  writeField(bytes, F.requesterId, tlp.requesterId);
  writeField(bytes, F.tag, tlp.tag);
  writeField(bytes, F.messageCode, tlp.messageCode);
  bytes.set(tlp.headerTail, 4 * F.messageDw2.dw);
}

/** Decode wire bytes (exactly one TLP) into a record, or throw TlpFormatError naming the problem. */
export function decodeTlp(bytes: Uint8Array, options: DecodeOptions = {}): Tlp {
  if (bytes.length < 12) throw new TlpFormatError(`TLP is ${bytes.length} bytes, shorter than a 3DW header`);
  if (bytes.length % 4 !== 0) throw new TlpFormatError(`TLP is ${bytes.length} bytes, not a whole number of DWs`);
  const fmtType = readField(bytes, TlpFieldPart.fmtType);
  if (fmtType & 0x80) throw new TlpFormatError(`Fmt 1xx (TLP prefix, byte 0 = 0x${hex2(fmtType)}) is not supported`, "unsupported");
  const unsupported = UNSUPPORTED_FMT_TYPE.get(fmtType);
  if (unsupported) throw new TlpFormatError(`${unsupported} (Fmt/Type 0x${hex2(fmtType)}) is not modelled`, "unsupported");

  const is4dw = readField(bytes, TlpFieldPart.fourDw) === 1;
  const hasData = readField(bytes, TlpFieldPart.hasData) === 1;
  const hdrBytes = is4dw ? 16 : 12;
  const td = readField(bytes, F.td) === 1;
  const lengthField = readField(bytes, F.length);
  const lengthDw = lengthField === 0 ? 1024 : lengthField;
  const kind = kindOf(fmtType);
  if (kind === undefined) throw new TlpFormatError(`reserved Fmt/Type 0x${hex2(fmtType)}`);
  const at = readField(bytes, F.at);
  if (at !== 0) throw new TlpFormatError(`AT field ${at} is not 00 (address translation is not modelled)`, "unsupported");
  if (readField(bytes, F.th)) throw new TlpFormatError("TH (TLP processing hints) is set; not modelled", "unsupported");

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
    tc: readField(bytes, F.tc),
    attr: readField(bytes, F.attr),
    ep: readField(bytes, F.ep) === 1,
    td: readField(bytes, F.td) === 1,
  };
  const requesterId = readField(bytes, F.requesterId);
  const tag = readField(bytes, F.tag);
  switch (kind) {
    case "MRd":
    case "MWr": {
      const addr64 = readField(bytes, TlpFieldPart.fourDw) === 1;
      const address = addr64
        ? (BigInt(readField(bytes, F.addressHigh)) << 32n) | (BigInt(readField(bytes, F.addressLow)) << 2n)
        : BigInt(readField(bytes, F.address32)) << 2n;
      const record: MemRequest = {
        kind,
        ...common,
        requesterId,
        tag,
        address,
        addr64,
        lengthDw,
        firstBe: readField(bytes, F.firstBe),
        lastBe: readField(bytes, F.lastBe),
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
        routing: readField(bytes, TlpFieldPart.messageRouting),
        requesterId,
        tag,
        messageCode: readField(bytes, F.messageCode),
        headerTail: bytes.slice(4 * F.messageDw2.dw, 4 * F.messageDw3.dw + 4),
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
  const rawStatus = readField(bytes, F.status);
  const byteCountField = readField(bytes, F.byteCount);
  const isDefined = rawStatus === CplStatus.SC || rawStatus === CplStatus.UR || rawStatus === CplStatus.CRS || rawStatus === CplStatus.CA;
  const record: Completion = {
    kind,
    ...common,
    completerId: readField(bytes, F.completerId),
    status: isDefined ? (rawStatus as CplStatus) : CplStatus.UR,
    bcm: readField(bytes, F.bcm) === 1,
    byteCount: byteCountField === 0 ? 4096 : byteCountField,
    requesterId: readField(bytes, F.completionRequesterId),
    tag: readField(bytes, F.completionTag),
    lowerAddress: readField(bytes, F.lowerAddress),
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
  const lastBe = readField(bytes, F.lastBe);
  if (lastBe !== 0) throw new TlpFormatError(`${kind} Last BE is ${lastBe.toString(2).padStart(4, "0")}, must be 0000`);
  const record: ConfigRequest = {
    kind,
    ...common,
    requesterId,
    tag,
    bus: readField(bytes, F.bus),
    device: readField(bytes, F.device),
    fn: readField(bytes, F.function),
    register: (readField(bytes, F.extendedRegister) << 8) | (readField(bytes, F.register) << 2),
    firstBe: readField(bytes, F.firstBe),
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
