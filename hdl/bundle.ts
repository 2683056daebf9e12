// Bundles: named groups of signals that travel together (AXI4-Stream and the controller's own
// interfaces). A field is "forward" when it flows from the producer to the consumer (tdata) and
// "backward" when it flows the other way (tready).
import { HdlError } from "./errors.ts";
import type { CallSite } from "./location.ts";
import { type Shape, type ShapeLike, describeShape, toShape } from "./shape.ts";
import type { Signal } from "./value.ts";

export type FieldDirection = "forward" | "backward";

export interface BundleDef {
  readonly name: string;
  readonly fields: Readonly<Record<string, { readonly direction: FieldDirection; readonly shape: Shape }>>;
}

/**
 * Where data flows for a bundle as seen from the module that holds it: a "source" produces data
 * (a slave port, an instance's master port), a "sink" consumes it (a master port, an instance's
 * slave port), an "internal" bundle of wires can be either.
 */
export type BundleFlow = "source" | "sink" | "internal";

export interface Bundle {
  readonly def: BundleDef;
  readonly flow: BundleFlow;
  readonly signals: Readonly<Record<string, Signal>>;
}

export function defineBundle(name: string, fields: Record<string, [FieldDirection, ShapeLike]>): BundleDef {
  const resolved: Record<string, { direction: FieldDirection; shape: Shape }> = {};
  for (const [field, [direction, shape]] of Object.entries(fields)) {
    resolved[field] = { direction, shape: toShape(shape, undefined) };
  }
  return { name, fields: resolved };
}

export interface AxiStreamOptions {
  dataWidth: number;
  /** tuser bits; 0 leaves tuser out. */
  userWidth?: number;
  /** Include tkeep (one bit per byte). Default true. */
  keep?: boolean;
  /** Include tlast. Default true. */
  last?: boolean;
}

/** An AXI4-Stream interface: tdata, tkeep, tlast, tuser, tvalid forward and tready backward. */
export function axiStream(options: AxiStreamOptions): BundleDef {
  const { dataWidth, userWidth = 0, keep = true, last = true } = options;
  if (!Number.isInteger(dataWidth) || dataWidth < 8 || dataWidth % 8 !== 0) {
    throw new HdlError(`AXI4-Stream data width must be a positive multiple of 8, got ${dataWidth}`, undefined);
  }
  const fields: Record<string, [FieldDirection, ShapeLike]> = { tdata: ["forward", dataWidth] };
  if (keep) fields.tkeep = ["forward", dataWidth / 8];
  if (last) fields.tlast = ["forward", 1];
  if (userWidth > 0) fields.tuser = ["forward", userWidth];
  fields.tvalid = ["forward", 1];
  fields.tready = ["backward", 1];
  const suffix = `${dataWidth}${keep ? "k" : ""}${last ? "l" : ""}${userWidth > 0 ? `u${userWidth}` : ""}`;
  return defineBundle(`axis${suffix}`, fields);
}

export function bundleFromSignals(def: BundleDef, flow: BundleFlow, signals: Record<string, Signal>): Bundle {
  return { def, flow, signals };
}

/** Both bundles have the same fields with the same shapes, and data can flow from `source` to `sink`. */
export function checkConnectable(source: Bundle, sink: Bundle, site: CallSite): void {
  if (source.flow === "sink") throw new HdlError(`connect: the first bundle (${source.def.name}) consumes data; it must be a source (a slave port, an instance's master port or internal wires)`, site);
  if (sink.flow === "source") throw new HdlError(`connect: the second bundle (${sink.def.name}) produces data; it must be a sink (a master port, an instance's slave port or internal wires)`, site);
  const a = Object.entries(source.def.fields);
  const b = sink.def.fields;
  if (a.length !== Object.keys(b).length) {
    throw new HdlError(`connect: bundles ${source.def.name} and ${sink.def.name} have different fields`, site);
  }
  for (const [field, spec] of a) {
    const other = b[field];
    if (!other || other.direction !== spec.direction || other.shape.width !== spec.shape.width || other.shape.signed !== spec.shape.signed) {
      throw new HdlError(
        `connect: field "${field}" is ${spec.direction} ${describeShape(spec.shape)} in ${source.def.name} but ${other ? `${other.direction} ${describeShape(other.shape)}` : "missing"} in ${sink.def.name}`,
        site,
      );
    }
  }
}
