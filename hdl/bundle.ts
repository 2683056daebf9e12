// Bundles: named groups of signals that travel together (AXI4-Stream and the controller's own
// interfaces). A field is "forward" when it flows from the producer to the consumer (tdata) and
// "backward" when it flows the other way (tready). A definition is typed by its field names, so
// `bundle.signals.redy` does not compile.
import { HdlError } from "./errors.ts";
import type { CallSite } from "./location.ts";
import { type Shape, type ShapeLike, describeShape, toShape } from "./shape.ts";
import type { Signal } from "./value.ts";

export type FieldDirection = "forward" | "backward";

export interface FieldSpec {
  readonly direction: FieldDirection;
  readonly shape: Shape;
}

export interface BundleDef<F extends string = string> {
  readonly name: string;
  readonly fields: { readonly [K in F]: FieldSpec };
}

/** The field names of a bundle definition or bundle: `FieldOf<typeof payloadStream>` is `"tdata" | ...`. */
export type FieldOf<B> = B extends BundleDef<infer F> ? F : B extends Bundle<infer F> ? F : never;

/**
 * Where data flows for a bundle as seen from the module that holds it: a "source" produces data
 * (a slave port, an instance's master port), a "sink" consumes it (a master port, an instance's
 * slave port), an "internal" bundle of wires can be either.
 */
export type BundleFlow = "source" | "sink" | "internal";

export class Bundle<F extends string = string> {
  constructor(
    readonly def: BundleDef<F>,
    readonly flow: BundleFlow,
    readonly signals: { readonly [K in F]: Signal },
  ) {}

  /** The field names in definition order. */
  get fieldNames(): readonly F[] {
    return Object.keys(this.def.fields) as F[];
  }
}

export function defineBundle<const T extends { readonly [field: string]: readonly [FieldDirection, ShapeLike] }>(
  name: string,
  fields: T,
): BundleDef<keyof T & string> {
  const resolved: Record<string, FieldSpec> = {};
  for (const [field, [direction, shape]] of Object.entries(fields)) {
    resolved[field] = { direction, shape: toShape(shape, undefined) };
  }
  return { name, fields: resolved as BundleDef<keyof T & string>["fields"] };
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

type OptionOf<O, K extends string> = K extends keyof O ? O[K] : undefined;

/**
 * The fields of `axiStream(options)`: exact when the options are literals (`{ keep: false }` has no
 * tkeep, no `userWidth` or `userWidth: 0` no tuser); with options only known at run time every
 * field that may be there is listed.
 */
export type AxiStreamField<O extends AxiStreamOptions = AxiStreamOptions> =
  | "tdata"
  | ([OptionOf<O, "keep">] extends [false] ? never : "tkeep")
  | ([OptionOf<O, "last">] extends [false] ? never : "tlast")
  | ([OptionOf<O, "userWidth">] extends [undefined | 0] ? never : "tuser")
  | "tvalid"
  | "tready";

/** An AXI4-Stream interface: tdata, tkeep, tlast, tuser, tvalid forward and tready backward. */
export function axiStream<const O extends AxiStreamOptions>(options: O): BundleDef<AxiStreamField<O>> {
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
  return defineBundle(`axis${suffix}`, fields) as BundleDef<AxiStreamField<O>>;
}

/** Which fields a `connect` ties: all, all but `omit`, or `only` those. */
export interface ConnectOptions<F extends string> {
  omit?: readonly F[];
  only?: readonly F[];
}

/** The fields `connect` ties, after checking the names (they are type-checked too, but may come from untyped code). */
export function selectFields<F extends string>(def: BundleDef<F>, options: ConnectOptions<F>, site: CallSite): F[] {
  const all = Object.keys(def.fields) as F[];
  if (options.omit && options.only) throw new HdlError("connect: give omit or only, not both", site);
  const named = options.omit ?? options.only;
  if (!named) return all;
  for (const field of named) {
    if (!all.includes(field)) throw new HdlError(`connect: bundle ${def.name} has no field "${field}" (fields: ${all.join(", ")})`, site);
  }
  return options.omit ? all.filter((field) => !named.includes(field)) : all.filter((field) => named.includes(field));
}

/** Both bundles have `fields` with the same shapes (and no others unless some are left out), and data can flow from `source` to `sink`. */
export function checkConnectable(source: Bundle, sink: Bundle, fields: readonly string[], site: CallSite): void {
  if (source.flow === "sink") throw new HdlError(`connect: the first bundle (${source.def.name}) consumes data; it must be a source (a slave port, an instance's master port or internal wires)`, site);
  if (sink.flow === "source") throw new HdlError(`connect: the second bundle (${sink.def.name}) produces data; it must be a sink (a master port, an instance's slave port or internal wires)`, site);
  const a: Readonly<Record<string, FieldSpec>> = source.def.fields;
  const b: Readonly<Record<string, FieldSpec>> = sink.def.fields;
  const everyField = fields.length === Object.keys(a).length;
  if (everyField && Object.keys(a).length !== Object.keys(b).length) {
    throw new HdlError(`connect: bundles ${source.def.name} and ${sink.def.name} have different fields`, site);
  }
  for (const field of fields) {
    const spec = a[field];
    const other = b[field];
    if (!other || other.direction !== spec.direction || other.shape.width !== spec.shape.width || other.shape.signed !== spec.shape.signed) {
      throw new HdlError(
        `connect: field "${field}" is ${spec.direction} ${describeShape(spec.shape)} in ${source.def.name} but ${other ? `${other.direction} ${describeShape(other.shape)}` : "missing"} in ${sink.def.name}`,
        site,
      );
    }
  }
}
