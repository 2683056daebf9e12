// Inline logic for tlp_rx (rx-header-parser.ts); builds no module.
//
// What the receive parser does with a TLP, decided by its Fmt/Type byte (header byte 0, DW0[31:24]
// in the bus convention; PROTOCOL_FACTS §B.2). Every defined encoding falls in exactly one class;
// the rest (reserved encodings, TLP prefixes) are Malformed, as PCIe Base §2.3 requires of a
// receiver that meets an undefined Fmt/Type.
import type { Value } from "../../hdl/index.ts";

const MRD32 = 0x00;
const MRD64 = 0x20;
const MWR32 = 0x40;
const MWR64 = 0x60;
const CPL = 0x0a;
const CPLD = 0x4a;
const CPL_LOCKED = [0x0b, 0x4b];
const MRD_LOCKED = [0x01, 0x21];
/** IORd, IOWr, CfgRd0/1, CfgWr0/1: one DW, Length must be 1. */
const IO_AND_CONFIG = [0x02, 0x42, 0x04, 0x05, 0x44, 0x45];
/** Deprecated TCfgRd/TCfgWr and the AtomicOps (FetchAdd, Swap, CAS, 32- and 64-bit addressed). */
const OTHER_NON_POSTED = [0x1b, 0x5b, 0x4c, 0x4d, 0x4e, 0x6c, 0x6d, 0x6e];
/** Msg (Fmt 001) and MsgD (Fmt 011) with Type 10rrr: byte 0 is 0b0x110rrr. */
const MESSAGE_MASK = 0xb8;
const MESSAGE_BITS = 0x30;

export interface RxTlpKind {
  memoryRead: Value;
  memoryWrite: Value;
  /** Cpl or CplD (the answers to our own requests). */
  completion: Value;
  /** CplLk/CplDLk: we never send a locked read, so these are unexpected completions. */
  lockedCompletion: Value;
  message: Value;
  /** Non-posted requests the root port does not serve: answered with an Unsupported Request completion. */
  unsupportedRequest: Value;
  /** MRdLk: a memory read, so its UR completion carries the byte count and lower address of a read. */
  lockedRead: Value;
  /** IO and configuration requests, whose Length must be 1 DW. */
  singleDwRequest: Value;
  /** Not a defined encoding: Malformed. */
  reserved: Value;
}

function anyOf(fmtType: Value, codes: readonly number[]): Value {
  return codes.map((code) => fmtType.eq(code)).reduce((a, b) => a.or(b));
}

export function decodeRxTlpKind(fmtType: Value): RxTlpKind {
  if (fmtType.width !== 8) throw new RangeError(`decodeRxTlpKind: Fmt/Type is a byte, got ${fmtType.width} bits`);
  const memoryRead = anyOf(fmtType, [MRD32, MRD64]);
  const memoryWrite = anyOf(fmtType, [MWR32, MWR64]);
  const completion = anyOf(fmtType, [CPL, CPLD]);
  const lockedCompletion = anyOf(fmtType, CPL_LOCKED);
  const message = fmtType.and(MESSAGE_MASK).eq(MESSAGE_BITS);
  const lockedRead = anyOf(fmtType, MRD_LOCKED);
  const singleDwRequest = anyOf(fmtType, IO_AND_CONFIG);
  const unsupportedRequest = lockedRead.or(singleDwRequest).or(anyOf(fmtType, OTHER_NON_POSTED));
  const reserved = memoryRead.or(memoryWrite).or(completion).or(lockedCompletion).or(message).or(unsupportedRequest).not();
  return { memoryRead, memoryWrite, completion, lockedCompletion, message, unsupportedRequest, lockedRead, singleDwRequest, reserved };
}
