// Inline logic for tlp_tx_packer (and tlp_tx_arbiter's 4DW decision); builds no module.
//
// The header DWs of the TLPs we send, built from the field bundles of tlp-interfaces.ts and placed
// by the field table of tlp-header.ts. Each DW is in the 7-series bus convention (PROTOCOL_FACTS
// §A.4): wire byte 0 of the DW in [31:24], so the fields sit where PCIe Base §2.2 draws them.
import { C, type Signal, type Value, cat, mux } from "../../hdl/index.ts";
import {
  REQUEST_KIND_CFGRD1,
  REQUEST_KIND_CFGWR0,
  REQUEST_KIND_CFGWR1,
  REQUEST_KIND_MRD,
  REQUEST_KIND_MWR,
  TLP_TYPE_COMPLETION,
  TLP_TYPE_CONFIG_0,
  TLP_TYPE_CONFIG_1,
  TLP_TYPE_MEMORY,
} from "./tlp-constants.ts";
import { type HeaderField, TlpField as F, TlpFieldPart } from "./tlp-header.ts";

/** A header ready for the packer: DW3 is meaningful only when `fourDw` is set. */
export interface TxHeaderDws {
  dw0: Value;
  dw1: Value;
  dw2: Value;
  dw3: Value;
  fourDw: Value;
  hasData: Value;
}

export function isMemoryRequest(kind: Value): Value {
  return kind.eq(REQUEST_KIND_MRD).or(kind.eq(REQUEST_KIND_MWR));
}

/**
 * Whether a request (requestHeader `kind` and `address`) takes a 4DW header. PCIe forbids 4DW
 * headers below 4 GiB, so the address alone picks the format. The 32-bit compare is the widest
 * logic on a header, so the arbiter computes it one cycle ahead of the packer (sel_req_four_dw).
 */
export function requestNeedsFourDw(kind: Value, address: Value): Value {
  return isMemoryRequest(kind).and(address.bits(63, 32).any());
}

/**
 * Header DW `dw` from the fields it carries; every other bit (reserved, or a field we always send
 * as 0: TD, EP, AT, TH, BCM...) is 0.
 */
export function headerDw(dw: number, fields: readonly (readonly [HeaderField, Value])[]): Value {
  const placed = [...fields].sort((a, b) => b[0].lsb - a[0].lsb);
  const parts: Value[] = [];
  let next = 31;
  for (const [f, value] of placed) {
    if (f.dw !== dw) throw new RangeError(`headerDw: a field of DW${f.dw} given for DW${dw}`);
    if (value.width !== f.width) throw new RangeError(`headerDw: DW${dw}[${f.msb}:${f.lsb}] is ${f.width} bits, got ${value.width}`);
    if (f.msb > next) throw new RangeError(`headerDw: DW${dw}[${f.msb}:${f.lsb}] overlaps another field`);
    if (f.msb < next) parts.push(C(0, next - f.msb));
    parts.push(value);
    next = f.lsb - 1;
  }
  if (next >= 0) parts.push(C(0, next + 1));
  return cat(...parts);
}

/**
 * The header of a request (requestHeader fields), sent with our Requester ID; `fourDw` is
 * requestNeedsFourDw of the same fields, computed upstream.
 */
export function requestHeaderDws(req: Record<string, Signal>, fourDw: Value, requesterId: number): TxHeaderDws {
  const kind = req.kind;
  const is_write = kind.eq(REQUEST_KIND_MWR).or(kind.eq(REQUEST_KIND_CFGWR0)).or(kind.eq(REQUEST_KIND_CFGWR1));
  const is_config_1 = kind.eq(REQUEST_KIND_CFGRD1).or(kind.eq(REQUEST_KIND_CFGWR1));
  const is_memory = isMemoryRequest(kind);
  const type = mux(is_memory, TLP_TYPE_MEMORY, mux(is_config_1, TLP_TYPE_CONFIG_1, TLP_TYPE_CONFIG_0));
  // Configuration requests always carry exactly one DW (PCIe Base §2.2.7).
  const length = mux(is_memory, req.length_dw, C(1, 10));
  // Fmt[2] (no prefix), TC, attributes, TD, EP, AT all zero for our requests.
  const dw0 = headerDw(0, [
    [TlpFieldPart.hasData, is_write],
    [TlpFieldPart.fourDw, fourDw],
    [F.type, type],
    [F.length, length],
  ]);
  const dw1 = headerDw(1, [
    [F.requesterId, C(requesterId, 16)],
    [F.tag, req.tag],
    [F.lastBe, req.last_be],
    [F.firstBe, req.first_be],
  ]);
  // A configuration request's address[31:0] is its DW2 already (tlp-interfaces.ts), laid out like
  // a 3DW memory address.
  const address_dw = headerDw(2, [[F.address32, req.address.bits(31, 2)]]);
  const address_high = headerDw(2, [[F.addressHigh, req.address.bits(63, 32)]]);
  const dw3 = headerDw(3, [[F.addressLow, req.address.bits(31, 2)]]);
  return { dw0, dw1, dw2: mux(fourDw, address_high, address_dw), dw3, fourDw, hasData: is_write };
}

/** The header of a completion (completionHeader fields), sent with our Completer ID. */
export function completionHeaderDws(cpl: Record<string, Signal>, completerId: number): TxHeaderDws {
  const has_data = cpl.has_data;
  // A completion without data has a reserved (zero) Length field.
  const length = mux(has_data, cpl.length_dw, C(0, 10));
  const dw0 = headerDw(0, [
    [TlpFieldPart.hasData, has_data],
    [F.type, TLP_TYPE_COMPLETION],
    [F.tc, cpl.tc],
    [F.attr, cpl.attr],
    [F.length, length],
  ]);
  // BCM stays 0: it is never set by a PCIe completer.
  const dw1 = headerDw(1, [
    [F.completerId, C(completerId, 16)],
    [F.status, cpl.status],
    [F.byteCount, cpl.byte_count],
  ]);
  const dw2 = headerDw(2, [
    [F.completionRequesterId, cpl.requester_id],
    [F.completionTag, cpl.tag],
    [F.lowerAddress, cpl.lower_address],
  ]);
  return { dw0, dw1, dw2, dw3: C(0, 32), fourDw: C(0, 1), hasData: has_data };
}
