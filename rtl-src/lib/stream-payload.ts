// Which fields of a stream bundle travel with each beat (everything forward except the valid).
import type { BundleDef } from "../../hdl/index.ts";

export function streamPayloadFields<F extends string>(def: BundleDef<F>): F[] {
  return (Object.keys(def.fields) as F[]).filter((name) => def.fields[name].direction === "forward" && name !== "tvalid" && name !== "valid");
}
