// What the structures built inside a module (FSMs, memories, instances) need of it, and what a
// parent needs of a child. They take these narrow views instead of the Module class, so that
// module.ts can import them without the files importing each other.
import type { Bundle } from "./bundle.ts";
import type { CallSite } from "./location.ts";
import type { ShapeLike } from "./shape.ts";
import type { Switch } from "./statement.ts";
import type { Const, Signal, SignalKind, Value, ValueLike } from "./value.ts";

/** The part of a module builder its FSMs, memories and instances use. */
export interface ModuleContext {
  readonly name: string;
  /** A signal named by `name()` once names are needed (ports of memories, instances, bundles). */
  declareDerived(kind: SignalKind, shape: ShapeLike, name: () => string, site: CallSite, options?: { reset?: number | bigint; resetless?: boolean }): Signal;
  nameFor(site: CallSite, fallback: string): string;
  displayName(signal: Signal): string;
  comb(target: Signal, value: ValueLike): void;
  sync(target: Signal, value: ValueLike): void;
  Switch(subject: Value, body: (cases: { readonly statement: Switch }) => void): void;
  addCase(statement: Switch, values: Const[] | undefined, body: () => void, site: CallSite): void;
}

/**
 * What a module hands its parent as typed handles: its port signals and port bundles, under any
 * keys, in arrays or records (`{ in_, out, count }`, `{ reqs: [...] }`). Recorded by `m.exposing`.
 */
export type PortHandle = Signal | Bundle<string> | readonly PortHandle[] | { readonly [key: string]: PortHandle };
export type ModuleInterface = { readonly [key: string]: PortHandle };

/** A module without a recorded interface: its instances offer no typed ports. */
export type NoInterface = {};

/** The part of a DSL module an instance of it reads. */
export interface ChildModule {
  readonly name: string;
  /** Data ports in declaration order. */
  readonly ports: readonly Signal[];
  /** The typed handles of `m.exposing`, or `{}`. */
  readonly exposed: ModuleInterface;
  displayName(signal: Signal): string;
}
