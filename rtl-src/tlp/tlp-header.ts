// The TLP header fields, declared once for every part that builds or reads a header: the transmit
// packer (tx-header-fields.ts), the receive parser (tlp-rx.ts) and the TypeScript codec
// (sim/pcie/codec.ts). Positions are in the DW-big-endian convention of PROTOCOL_FACTS §A.4/§B
// (wire byte 0 of a DW in bits [31:24]), which is also how the 7-series core puts a header DW on
// the bus, so a field's bits are the same in a Verilog DW and in a codec DW.
//
// Plain data and a few byte-array helpers: no dependency on the DSL, so sim/ can import it.

/** Where a field sits: header DW `dw` (0..3), bits [msb:lsb]. */
export interface HeaderField {
  readonly dw: number;
  readonly msb: number;
  readonly lsb: number;
  readonly width: number;
}

function field(dw: number, msb: number, lsb: number): HeaderField {
  return { dw, msb, lsb, width: msb - lsb + 1 };
}

/**
 * Every field of PCIe Base 2.1/3.0 §2.2 that a header of ours carries. Fields with the same bits in
 * different header formats have one entry per format (requesterId in DW1 of a request,
 * completionRequesterId in DW2 of a completion), so an entry also says which DW it belongs to.
 */
export const TlpField = {
  // DW0, every TLP (§B.1).
  fmt: field(0, 31, 29),
  type: field(0, 28, 24),
  tc: field(0, 22, 20),
  /** Attr[2], ID-based ordering (3.0); reserved in 2.1. */
  attrIdo: field(0, 18, 18),
  /** Lightweight notification (3.1). */
  ln: field(0, 17, 17),
  /** TLP processing hints present (3.0). */
  th: field(0, 16, 16),
  td: field(0, 15, 15),
  ep: field(0, 14, 14),
  /** Attr[1:0]: relaxed ordering, no snoop. */
  attr: field(0, 13, 12),
  at: field(0, 11, 10),
  length: field(0, 9, 0),

  // DW1 of memory, IO and configuration requests (§B.3).
  requesterId: field(1, 31, 16),
  tag: field(1, 15, 8),
  lastBe: field(1, 7, 4),
  firstBe: field(1, 3, 0),
  // DW1 of messages: requesterId and tag as in a request, then the code.
  messageCode: field(1, 7, 0),

  // DW1 and DW2 of completions (§B.4).
  completerId: field(1, 31, 16),
  status: field(1, 15, 13),
  bcm: field(1, 12, 12),
  byteCount: field(1, 11, 0),
  completionRequesterId: field(2, 31, 16),
  completionTag: field(2, 15, 8),
  lowerAddress: field(2, 6, 0),

  // Memory request addresses: DW2 of a 3DW header; DW2 and DW3 of a 4DW one.
  /** Address[31:2] of a 3DW header. */
  address32: field(2, 31, 2),
  /** Address[63:32] of a 4DW header. */
  addressHigh: field(2, 31, 0),
  /** Address[31:2] of a 4DW header. */
  addressLow: field(3, 31, 2),

  // DW2 of configuration requests.
  bus: field(2, 31, 24),
  device: field(2, 23, 19),
  function: field(2, 18, 16),
  /** Byte offset [11:8] of the register. */
  extendedRegister: field(2, 11, 8),
  /** Byte offset [7:2] of the register. */
  register: field(2, 7, 2),

  // DW2 and DW3 of messages: defined by each message code.
  messageDw2: field(2, 31, 0),
  messageDw3: field(3, 31, 0),
} as const satisfies Record<string, HeaderField>;

export type TlpFieldName = keyof typeof TlpField;

/** The two bits of Fmt every receiver looks at, and the Fmt/Type byte; parts of fmt/type above. */
export const TlpFieldPart = {
  /** Fmt[1]: the TLP carries a payload. */
  hasData: field(0, 30, 30),
  /** Fmt[0]: 4DW header. */
  fourDw: field(0, 29, 29),
  /** Header byte 0, {Fmt, Type}: what the TLP is (§B.2). */
  fmtType: field(0, 31, 24),
  /** Type[2:0] of a message: its routing. */
  messageRouting: field(0, 26, 24),
} as const satisfies Record<string, HeaderField>;

/**
 * Each header format as a complete list of its fields, reserved bits named `reserved`: every bit
 * of every DW of the header belongs to exactly one entry (checked by the tests).
 */
export const TlpHeaderLayout = {
  memory32: [...dw0(), "requesterId", "tag", "lastBe", "firstBe", "address32", reserved(2, 1, 0)],
  memory64: [...dw0(), "requesterId", "tag", "lastBe", "firstBe", "addressHigh", "addressLow", reserved(3, 1, 0)],
  completion: [...dw0(), "completerId", "status", "bcm", "byteCount", "completionRequesterId", "completionTag", reserved(2, 7, 7), "lowerAddress"],
  configuration: [
    ...dw0(),
    "requesterId",
    "tag",
    "lastBe",
    "firstBe",
    "bus",
    "device",
    "function",
    reserved(2, 15, 12),
    "extendedRegister",
    "register",
    reserved(2, 1, 0),
  ],
  message: [...dw0(), "requesterId", "tag", "messageCode", "messageDw2", "messageDw3"],
} as const satisfies Record<string, readonly (TlpFieldName | HeaderField)[]>;

function dw0() {
  return ["fmt", "type", reserved(0, 23, 23), "tc", reserved(0, 19, 19), "attrIdo", "ln", "th", "td", "ep", "attr", "at", "length"] as const;
}

function reserved(dw: number, msb: number, lsb: number): HeaderField {
  return field(dw, msb, lsb);
}

/** The field's value bits, in place: `value << lsb`, as an unsigned 32-bit number. */
export function fieldMask(f: HeaderField): number {
  return (f.width === 32 ? 0xffffffff : ((1 << f.width) - 1) << f.lsb) >>> 0;
}

function readDw(bytes: Uint8Array, dw: number): number {
  const at = 4 * dw;
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function writeDw(bytes: Uint8Array, dw: number, value: number): void {
  const at = 4 * dw;
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

/** A field of a header in wire bytes (byte 0 = header byte 0). */
export function readField(header: Uint8Array, f: HeaderField): number {
  return ((readDw(header, f.dw) & fieldMask(f)) >>> f.lsb) >>> 0;
}

/** Writes a field into a header in wire bytes; the value is cut to the field's width, the other bits kept. */
export function writeField(header: Uint8Array, f: HeaderField, value: number): void {
  const mask = fieldMask(f);
  const placed = f.width === 32 ? value >>> 0 : ((value << f.lsb) & mask) >>> 0;
  writeDw(header, f.dw, ((readDw(header, f.dw) & ~mask) | placed) >>> 0);
}
