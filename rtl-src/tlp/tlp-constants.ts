// The protocol constants of the TLP layer, each emitted as a named localparam in every module that
// reads it (hdl/constant.ts), so the Verilog says `fmt_type == TLP_FMT_TYPE_CPLD`, not `== 8'd74`.
// Fmt/Type bytes are header byte 0, {Fmt[2:0], Type[4:0]} (PCIe Base §2.2.1, PROTOCOL_FACTS §B.2).
import { constant } from "../../hdl/index.ts";
import { CompletionStatus, REQUEST_KIND_BITS, RequestKind } from "./tlp-interfaces.ts";

export { KEEP_BOTH_DW, KEEP_LOW_DW } from "../lib/stream-payload.ts";

// --- Fmt/Type bytes ---------------------------------------------------------------------------
export const TLP_FMT_TYPE_MRD32 = constant("TLP_FMT_TYPE_MRD32", 0x00, 8);
export const TLP_FMT_TYPE_MRD64 = constant("TLP_FMT_TYPE_MRD64", 0x20, 8);
export const TLP_FMT_TYPE_MRDLK32 = constant("TLP_FMT_TYPE_MRDLK32", 0x01, 8);
export const TLP_FMT_TYPE_MRDLK64 = constant("TLP_FMT_TYPE_MRDLK64", 0x21, 8);
export const TLP_FMT_TYPE_MWR32 = constant("TLP_FMT_TYPE_MWR32", 0x40, 8);
export const TLP_FMT_TYPE_MWR64 = constant("TLP_FMT_TYPE_MWR64", 0x60, 8);
export const TLP_FMT_TYPE_IORD = constant("TLP_FMT_TYPE_IORD", 0x02, 8);
export const TLP_FMT_TYPE_IOWR = constant("TLP_FMT_TYPE_IOWR", 0x42, 8);
export const TLP_FMT_TYPE_CFGRD0 = constant("TLP_FMT_TYPE_CFGRD0", 0x04, 8);
export const TLP_FMT_TYPE_CFGRD1 = constant("TLP_FMT_TYPE_CFGRD1", 0x05, 8);
export const TLP_FMT_TYPE_CFGWR0 = constant("TLP_FMT_TYPE_CFGWR0", 0x44, 8);
export const TLP_FMT_TYPE_CFGWR1 = constant("TLP_FMT_TYPE_CFGWR1", 0x45, 8);
export const TLP_FMT_TYPE_CPL = constant("TLP_FMT_TYPE_CPL", 0x0a, 8);
export const TLP_FMT_TYPE_CPLD = constant("TLP_FMT_TYPE_CPLD", 0x4a, 8);
export const TLP_FMT_TYPE_CPLLK = constant("TLP_FMT_TYPE_CPLLK", 0x0b, 8);
export const TLP_FMT_TYPE_CPLDLK = constant("TLP_FMT_TYPE_CPLDLK", 0x4b, 8);
/** Deprecated (PCIe 1.x) trusted configuration requests. */
export const TLP_FMT_TYPE_TCFGRD = constant("TLP_FMT_TYPE_TCFGRD", 0x1b, 8);
export const TLP_FMT_TYPE_TCFGWR = constant("TLP_FMT_TYPE_TCFGWR", 0x5b, 8);
export const TLP_FMT_TYPE_FETCHADD32 = constant("TLP_FMT_TYPE_FETCHADD32", 0x4c, 8);
export const TLP_FMT_TYPE_SWAP32 = constant("TLP_FMT_TYPE_SWAP32", 0x4d, 8);
export const TLP_FMT_TYPE_CAS32 = constant("TLP_FMT_TYPE_CAS32", 0x4e, 8);
export const TLP_FMT_TYPE_FETCHADD64 = constant("TLP_FMT_TYPE_FETCHADD64", 0x6c, 8);
export const TLP_FMT_TYPE_SWAP64 = constant("TLP_FMT_TYPE_SWAP64", 0x6d, 8);
export const TLP_FMT_TYPE_CAS64 = constant("TLP_FMT_TYPE_CAS64", 0x6e, 8);
/** Msg (Fmt 001) and MsgD (Fmt 011) have Type 10rrr: byte 0 is 0b0x110rrr, i.e. masked with this... */
export const TLP_FMT_TYPE_MESSAGE_MASK = constant("TLP_FMT_TYPE_MESSAGE_MASK", 0xb8, 8);
/** ... it equals this. */
export const TLP_FMT_TYPE_MESSAGE = constant("TLP_FMT_TYPE_MESSAGE", 0x30, 8);

// --- Type fields (DW0[28:24]) of the TLPs we send ----------------------------------------------
export const TLP_TYPE_MEMORY = constant("TLP_TYPE_MEMORY", 0b00000, 5);
export const TLP_TYPE_CONFIG_0 = constant("TLP_TYPE_CONFIG_0", 0b00100, 5);
export const TLP_TYPE_CONFIG_1 = constant("TLP_TYPE_CONFIG_1", 0b00101, 5);
export const TLP_TYPE_COMPLETION = constant("TLP_TYPE_COMPLETION", 0b01010, 5);

// --- Completion status (PCIe Base §2.2.9) -----------------------------------------------------
export const CPL_STATUS_SC = constant("CPL_STATUS_SC", CompletionStatus.SC, 3);
export const CPL_STATUS_UR = constant("CPL_STATUS_UR", CompletionStatus.UR, 3);
export const CPL_STATUS_CRS = constant("CPL_STATUS_CRS", CompletionStatus.CRS, 3);
export const CPL_STATUS_CA = constant("CPL_STATUS_CA", CompletionStatus.CA, 3);

// --- `kind` of the requests we send (tlp-interfaces.ts, requestHeader) ---------------------------
export const REQUEST_KIND_MRD = constant("REQUEST_KIND_MRD", RequestKind.MRd, REQUEST_KIND_BITS);
export const REQUEST_KIND_MWR = constant("REQUEST_KIND_MWR", RequestKind.MWr, REQUEST_KIND_BITS);
export const REQUEST_KIND_CFGRD0 = constant("REQUEST_KIND_CFGRD0", RequestKind.CfgRd0, REQUEST_KIND_BITS);
export const REQUEST_KIND_CFGWR0 = constant("REQUEST_KIND_CFGWR0", RequestKind.CfgWr0, REQUEST_KIND_BITS);
export const REQUEST_KIND_CFGRD1 = constant("REQUEST_KIND_CFGRD1", RequestKind.CfgRd1, REQUEST_KIND_BITS);
export const REQUEST_KIND_CFGWR1 = constant("REQUEST_KIND_CFGWR1", RequestKind.CfgWr1, REQUEST_KIND_BITS);
