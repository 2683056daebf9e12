// The header DWs of the TLPs we send, built from the field bundles of tlp-interfaces.ts. Each DW
// is in the 7-series bus convention (PROTOCOL_FACTS §A.4): wire byte 0 of the DW in [31:24], so
// the fields sit where PCIe Base §2.2 draws them (Fmt in [31:29] of DW0, Length in [9:0]).
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

/** A header ready for the packer: DW3 is meaningful only when `fourDw` is set. */
export interface TxHeaderDws {
  dw0: Value;
  dw1: Value;
  dw2: Value;
  dw3: Value;
  fourDw: Value;
  hasData: Value;
}

function isMemoryRequest(kind: Value): Value {
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
 * The header of a request (requestHeader fields), sent with our Requester ID; `fourDw` is
 * requestNeedsFourDw of the same fields, computed upstream.
 */
export function requestHeaderDws(req: Record<string, Signal>, fourDw: Value, requesterId: number): TxHeaderDws {
  const kind = req.kind;
  const is_write = kind.eq(REQUEST_KIND_MWR).or(kind.eq(REQUEST_KIND_CFGWR0)).or(kind.eq(REQUEST_KIND_CFGWR1));
  const is_config_1 = kind.eq(REQUEST_KIND_CFGRD1).or(kind.eq(REQUEST_KIND_CFGWR1));
  const is_memory = isMemoryRequest(kind);
  const address_high = req.address.bits(63, 32);
  const address_dw = cat(req.address.bits(31, 2), C(0, 2));
  const type = mux(is_memory, TLP_TYPE_MEMORY, mux(is_config_1, TLP_TYPE_CONFIG_1, TLP_TYPE_CONFIG_0));
  // Configuration requests always carry exactly one DW (PCIe Base §2.2.7).
  const length = mux(is_memory, req.length_dw, C(1, 10));
  // DW0 bits [23:10]: TC, attributes, TD, EP, AT all zero for our requests.
  const dw0 = cat(C(0, 1), is_write, fourDw, type, C(0, 14), length);
  const dw1 = cat(C(requesterId, 16), req.tag, req.last_be, req.first_be);
  return { dw0, dw1, dw2: mux(fourDw, address_high, address_dw), dw3: address_dw, fourDw, hasData: is_write };
}

/** The header of a completion (completionHeader fields), sent with our Completer ID. */
export function completionHeaderDws(cpl: Record<string, Signal>, completerId: number): TxHeaderDws {
  const has_data = cpl.has_data;
  // A completion without data has a reserved (zero) Length field.
  const length = mux(has_data, cpl.length_dw, C(0, 10));
  const dw0 = cat(C(0, 1), has_data, C(0, 1), TLP_TYPE_COMPLETION, C(0, 1), cpl.tc, C(0, 6), cpl.attr, C(0, 2), length);
  // DW1 bit 12 is BCM, always 0 for a PCIe completer.
  const dw1 = cat(C(completerId, 16), cpl.status, C(0, 1), cpl.byte_count);
  const dw2 = cat(cpl.requester_id, cpl.tag, C(0, 1), cpl.lower_address);
  return { dw0, dw1, dw2, dw3: C(0, 32), fourDw: C(0, 1), hasData: has_data };
}
