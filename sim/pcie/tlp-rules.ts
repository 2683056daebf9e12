// The PCIe Base 2.1 rules a TLP record must satisfy (facts digest §B.3–B.5), shared by the encoder (which
// refuses to build an illegal TLP), the decoder (which rejects one off the wire) and the link model.
// Each check returns a human-readable reason, or undefined when the record is legal.

import type { Completion, ConfigRequest, MemRequest, Message, Tlp } from "./tlp.ts";
import { CplStatus } from "./tlp.ts";

export interface TlpRuleOptions {
  /** Accept a 4DW memory request whose address is below 4 GiB (the spec says such requests must use 3DW). */
  allow4dwBelow4G?: boolean;
}

const FOUR_GIB = 1n << 32n;
const TWO_POW_64 = 1n << 64n;
const VALID_STATUS = new Set<number>([CplStatus.SC, CplStatus.UR, CplStatus.CRS, CplStatus.CA]);

export function tlpRuleViolation(tlp: Tlp, options: TlpRuleOptions = {}): string | undefined {
  const common = commonViolation(tlp);
  if (common) return common;
  switch (tlp.kind) {
    case "MRd":
    case "MWr":
      return memRequestViolation(tlp, options);
    case "Cpl":
    case "CplD":
      return completionViolation(tlp);
    case "CfgRd0":
    case "CfgWr0":
    case "CfgRd1":
    case "CfgWr1":
      return configViolation(tlp);
    case "Msg":
    case "MsgD":
      return messageViolation(tlp);
    default:
      return `unknown TLP kind ${JSON.stringify((tlp as { kind: unknown }).kind)}`;
  }
}

function commonViolation(tlp: Tlp): string | undefined {
  if (!isIntIn(tlp.tc, 0, 7)) return `TC ${tlp.tc} is not 0..7`;
  if (!isIntIn(tlp.attr, 0, 3)) return `Attr ${tlp.attr} is not 0..3`;
  return undefined;
}

function memRequestViolation(tlp: MemRequest, options: TlpRuleOptions): string | undefined {
  if (!isIntIn(tlp.requesterId, 0, 0xffff)) return `requester ID ${tlp.requesterId} is not 16-bit`;
  if (!isIntIn(tlp.tag, 0, 0xff)) return `tag ${tlp.tag} is not 8-bit`;
  if (!isIntIn(tlp.lengthDw, 1, 1024)) return `${tlp.kind} length ${tlp.lengthDw} DW is not 1..1024`;
  if (typeof tlp.address !== "bigint" || tlp.address < 0n || tlp.address >= TWO_POW_64) {
    return `${tlp.kind} address ${String(tlp.address)} is not a 64-bit bigint`;
  }
  const pageOffset = Number(tlp.address & 0xfffn);
  if ((pageOffset & 3) !== 0) return `${tlp.kind} address 0x${tlp.address.toString(16)} is not DW aligned`;
  if (!tlp.addr64 && tlp.address >= FOUR_GIB) {
    return `${tlp.kind} address 0x${tlp.address.toString(16)} is at or above 4 GiB but the header is 3DW`;
  }
  if (tlp.addr64 && tlp.address < FOUR_GIB && !options.allow4dwBelow4G) {
    return `${tlp.kind} address 0x${tlp.address.toString(16)} is below 4 GiB but uses a 4DW header`;
  }
  const beProblem = byteEnableViolation(tlp.lengthDw, tlp.firstBe, tlp.lastBe, pageOffset);
  if (beProblem) return `${tlp.kind} ${beProblem}`;
  if (pageOffset + tlp.lengthDw * 4 > 4096) {
    return `${tlp.kind} 0x${tlp.address.toString(16)}+${tlp.lengthDw * 4} B crosses a 4 KiB boundary`;
  }
  if (tlp.kind === "MWr") return dataViolation("MWr", tlp.data, tlp.lengthDw);
  if (tlp.data !== undefined) return "MRd carries a data payload";
  return undefined;
}

/** The First/Last DW Byte Enable rules of §B.5 (zero-length, contiguity, QW-aligned 2-DW exception). */
export function byteEnableViolation(lengthDw: number, firstBe: number, lastBe: number, address: bigint | number): string | undefined {
  if (!isIntIn(firstBe, 0, 15)) return `First BE ${firstBe} is not 4-bit`;
  if (!isIntIn(lastBe, 0, 15)) return `Last BE ${lastBe} is not 4-bit`;
  if (lengthDw === 1) return lastBe === 0 ? undefined : `Last BE must be 0000 for a 1-DW request (is ${bin4(lastBe)})`;
  if (firstBe === 0) return `First BE must not be 0000 for a ${lengthDw}-DW request`;
  if (lastBe === 0) return `Last BE must not be 0000 for a ${lengthDw}-DW request`;
  const qwAlignedPair = lengthDw === 2 && (typeof address === "bigint" ? Number(address & 7n) : address & 7) === 0;
  if (qwAlignedPair) return undefined;
  if (!isContiguousToTop(firstBe)) return `First BE ${bin4(firstBe)} is not contiguous up to byte 3`;
  if (!isContiguousFromBottom(lastBe)) return `Last BE ${bin4(lastBe)} is not contiguous from byte 0`;
  return undefined;
}

function completionViolation(tlp: Completion): string | undefined {
  if (!isIntIn(tlp.completerId, 0, 0xffff)) return `completer ID ${tlp.completerId} is not 16-bit`;
  if (!isIntIn(tlp.requesterId, 0, 0xffff)) return `requester ID ${tlp.requesterId} is not 16-bit`;
  if (!isIntIn(tlp.tag, 0, 0xff)) return `tag ${tlp.tag} is not 8-bit`;
  if (!VALID_STATUS.has(tlp.status)) return `completion status ${tlp.status} is reserved`;
  if (tlp.reservedStatus !== undefined && (VALID_STATUS.has(tlp.reservedStatus) || !isIntIn(tlp.reservedStatus, 0, 7))) {
    return `reservedStatus ${tlp.reservedStatus} is not a reserved 3-bit completion status`;
  }
  if (tlp.bcm !== false && tlp.bcm !== true) return "BCM is not a boolean";
  if (!isIntIn(tlp.byteCount, 1, 4096)) return `Byte Count ${tlp.byteCount} is not 1..4096`;
  if (!isIntIn(tlp.lowerAddress, 0, 127)) return `Lower Address ${tlp.lowerAddress} is not 7-bit`;
  if (tlp.kind === "Cpl") {
    if (tlp.lengthDw !== 0) return `Cpl (no data) has length ${tlp.lengthDw} DW, must be 0`;
    if (tlp.data !== undefined) return "Cpl (no data) carries a data payload";
    return undefined;
  }
  if (!isIntIn(tlp.lengthDw, 1, 1024)) return `CplD length ${tlp.lengthDw} DW is not 1..1024`;
  return dataViolation("CplD", tlp.data, tlp.lengthDw);
}

function configViolation(tlp: ConfigRequest): string | undefined {
  if (!isIntIn(tlp.requesterId, 0, 0xffff)) return `requester ID ${tlp.requesterId} is not 16-bit`;
  if (!isIntIn(tlp.tag, 0, 0xff)) return `tag ${tlp.tag} is not 8-bit`;
  if (!isIntIn(tlp.bus, 0, 255)) return `bus ${tlp.bus} is not 0..255`;
  if (!isIntIn(tlp.device, 0, 31)) return `device ${tlp.device} is not 0..31`;
  if (!isIntIn(tlp.fn, 0, 7)) return `function ${tlp.fn} is not 0..7`;
  if (!isIntIn(tlp.register, 0, 4092) || tlp.register % 4 !== 0) {
    return `config register offset ${tlp.register} is not a DW offset in 0..4092`;
  }
  if (!isIntIn(tlp.firstBe, 0, 15)) return `First BE ${tlp.firstBe} is not 4-bit`;
  if (tlp.tc !== 0) return `${tlp.kind} must have TC 0 (has ${tlp.tc})`;
  if (tlp.attr !== 0) return `${tlp.kind} must have Attr 0 (has ${tlp.attr})`;
  const isWrite = tlp.kind === "CfgWr0" || tlp.kind === "CfgWr1";
  if (isWrite) return dataViolation(tlp.kind, tlp.data, 1);
  if (tlp.data !== undefined) return `${tlp.kind} carries a data payload`;
  return undefined;
}

function messageViolation(tlp: Message): string | undefined {
  if (!isIntIn(tlp.routing, 0, 7)) return `message routing ${tlp.routing} is not 0..7`;
  if (!isIntIn(tlp.requesterId, 0, 0xffff)) return `requester ID ${tlp.requesterId} is not 16-bit`;
  if (!isIntIn(tlp.tag, 0, 0xff)) return `tag ${tlp.tag} is not 8-bit`;
  if (!isIntIn(tlp.messageCode, 0, 0xff)) return `message code ${tlp.messageCode} is not 8-bit`;
  if (!(tlp.headerTail instanceof Uint8Array) || tlp.headerTail.length !== 8) return "message header tail is not 8 bytes";
  if (tlp.kind === "Msg") {
    if (tlp.lengthDw !== 0) return `Msg (no data) has length ${tlp.lengthDw} DW, must be 0`;
    if (tlp.data !== undefined) return "Msg (no data) carries a data payload";
    return undefined;
  }
  if (!isIntIn(tlp.lengthDw, 1, 1024)) return `MsgD length ${tlp.lengthDw} DW is not 1..1024`;
  return dataViolation("MsgD", tlp.data, tlp.lengthDw);
}

function dataViolation(kind: string, data: Uint8Array | undefined, lengthDw: number): string | undefined {
  if (!(data instanceof Uint8Array)) return `${kind} has no data payload`;
  if (data.length !== lengthDw * 4) return `${kind} payload is ${data.length} B but length says ${lengthDw} DW (${lengthDw * 4} B)`;
  return undefined;
}

/**
 * The bytes a memory read asks for (§B.5 "Requested bytes"): the address of the first enabled byte and
 * the byte count a completer reports in its first completion. A zero-length read (1 DW, First BE 0000)
 * asks for 1 byte at the DW's address.
 */
export function requestedByteRange(request: Pick<MemRequest, "address" | "lengthDw" | "firstBe" | "lastBe">): {
  firstByteAddress: bigint;
  byteCount: number;
} {
  const lead = leadingDisabledBytes(request.firstBe);
  if (request.lengthDw === 1) {
    if (request.firstBe === 0) return { firstByteAddress: request.address, byteCount: 1 };
    const highest = 31 - Math.clz32(request.firstBe);
    return { firstByteAddress: request.address + BigInt(lead), byteCount: highest - lead + 1 };
  }
  const trail = request.lastBe === 0 ? 0 : 31 - Math.clz32(request.lastBe);
  return {
    firstByteAddress: request.address + BigInt(lead),
    byteCount: request.lengthDw * 4 - lead - (3 - trail),
  };
}

function leadingDisabledBytes(firstBe: number): number {
  if (firstBe === 0) return 0;
  return 31 - Math.clz32(firstBe & -firstBe);
}

function isContiguousToTop(be: number): boolean {
  return be === 0b1111 || be === 0b1110 || be === 0b1100 || be === 0b1000;
}

function isContiguousFromBottom(be: number): boolean {
  return be === 0b1111 || be === 0b0111 || be === 0b0011 || be === 0b0001;
}

function isIntIn(value: unknown, lo: number, hi: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= lo && value <= hi;
}

function bin4(value: number): string {
  return value.toString(2).padStart(4, "0");
}
