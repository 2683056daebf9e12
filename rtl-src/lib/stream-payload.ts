// Which fields of a stream bundle travel with each beat (everything forward except the valid), and
// the tkeep patterns of DW-granular 64-bit streams.
import { type BundleDef, constant } from "../../hdl/index.ts";

export function streamPayloadFields<F extends string>(def: BundleDef<F>): F[] {
  return (Object.keys(def.fields) as F[]).filter((name) => def.fields[name].direction === "forward" && name !== "tvalid" && name !== "valid");
}

/** tkeep of a 64-bit DW-granular stream beat carrying both DWs. */
export const KEEP_BOTH_DW = constant("KEEP_BOTH_DW", 0xff, 8);
/** tkeep of a beat carrying only the low DW (the last beat of an odd DW count). */
export const KEEP_LOW_DW = constant("KEEP_LOW_DW", 0x0f, 8);
