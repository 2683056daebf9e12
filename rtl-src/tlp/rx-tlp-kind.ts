// Inline logic for tlp_rx (rx-header-parser.ts); builds no module.
//
// What the receive parser does with a TLP, decided by its Fmt/Type byte (header byte 0, DW0[31:24]
// in the bus convention; PROTOCOL_FACTS §B.2). Every defined encoding falls in exactly one class;
// the rest (reserved encodings, TLP prefixes) are Malformed, as PCIe Base §2.3 requires of a
// receiver that meets an undefined Fmt/Type.
import type { Value } from "../../hdl/index.ts";
import * as T from "./tlp-constants.ts";

const MRD32 = T.TLP_FMT_TYPE_MRD32;
const MRD64 = T.TLP_FMT_TYPE_MRD64;
const MWR32 = T.TLP_FMT_TYPE_MWR32;
const MWR64 = T.TLP_FMT_TYPE_MWR64;
const CPL = T.TLP_FMT_TYPE_CPL;
const CPLD = T.TLP_FMT_TYPE_CPLD;
const CPL_LOCKED = [T.TLP_FMT_TYPE_CPLLK, T.TLP_FMT_TYPE_CPLDLK];
const MRD_LOCKED = [T.TLP_FMT_TYPE_MRDLK32, T.TLP_FMT_TYPE_MRDLK64];
/** IORd, IOWr, CfgRd0/1, CfgWr0/1: one DW, Length must be 1. */
const IO_AND_CONFIG = [T.TLP_FMT_TYPE_IORD, T.TLP_FMT_TYPE_IOWR, T.TLP_FMT_TYPE_CFGRD0, T.TLP_FMT_TYPE_CFGRD1, T.TLP_FMT_TYPE_CFGWR0, T.TLP_FMT_TYPE_CFGWR1];
/** Deprecated TCfgRd/TCfgWr and the AtomicOps (FetchAdd, Swap, CAS, 32- and 64-bit addressed). */
const OTHER_NON_POSTED = [
  T.TLP_FMT_TYPE_TCFGRD, T.TLP_FMT_TYPE_TCFGWR, T.TLP_FMT_TYPE_FETCHADD32, T.TLP_FMT_TYPE_SWAP32,
  T.TLP_FMT_TYPE_CAS32, T.TLP_FMT_TYPE_FETCHADD64, T.TLP_FMT_TYPE_SWAP64, T.TLP_FMT_TYPE_CAS64,
];
/** Msg (Fmt 001) and MsgD (Fmt 011) with Type 10rrr: byte 0 is 0b0x110rrr. */
const MESSAGE_MASK = T.TLP_FMT_TYPE_MESSAGE_MASK;
const MESSAGE_BITS = T.TLP_FMT_TYPE_MESSAGE;

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

function anyOf(fmtType: Value, codes: readonly Value[]): Value {
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
