// Which fields of a stream bundle travel with each beat (everything forward except the valid).
import type { BundleDef } from "../../hdl/index.ts";

export function streamPayloadFields(def: BundleDef): string[] {
  return Object.entries(def.fields)
    .filter(([name, spec]) => spec.direction === "forward" && name !== "tvalid" && name !== "valid")
    .map(([name]) => name);
}
