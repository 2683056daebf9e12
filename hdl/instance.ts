// Instances of other modules. The child's ports appear in the parent as signals named
// `<instance>_<port>`: the parent drives the child's inputs and reads its outputs. `ports` gives
// them through the handles the child recorded with `m.exposing`, typed: a renamed port of the
// child is a compile error in the parent, not a silently missing name.
import { Bundle, type BundleFlow } from "./bundle.ts";
import { HdlError } from "./errors.ts";
import type { CallSite } from "./location.ts";
import type { ChildModule, ModuleContext, ModuleInterface, NoInterface, PortHandle } from "./module-context.ts";
import { type Shape, type ShapeLike, toShape } from "./shape.ts";
import { Signal, type Value } from "./value.ts";

/** A Verilog module the DSL does not define: only its interface is known. */
export interface BlackBoxDef {
  /** The Verilog module name, e.g. `pcie_7x_0`. */
  module: string;
  /** What the module is (heads its port-exact stub, emitBlackBoxStub). */
  description?: string;
  /** Verilog parameters: numbers print in decimal, strings quoted, `{ value, width }` as a sized constant. */
  parameters?: Record<string, number | string | { value: number | bigint; width: number }>;
  inputs: Record<string, ShapeLike>;
  outputs: Record<string, ShapeLike>;
}

/**
 * The clock domain of a DSL child placed with `m.instance(child, { clock, reset })`: its `clk` and
 * `rst` follow these parent values instead of the parent's own clock and reset (a board top whose
 * logic runs on a clock a black box makes). Without them a child shares its parent's `clk`/`rst`.
 */
export interface ClockDomain {
  /** 1 bit: the child's rising-edge clock. */
  clock: Signal;
  /** 1 bit: the child's synchronous, active-high reset (a constant 0 when nothing resets it). */
  reset: Value;
}

/** The typed ports of a black box instance: one signal per input and output. */
export type BlackBoxPorts<D extends BlackBoxDef> = { readonly [K in (keyof D["inputs"] | keyof D["outputs"]) & string]: Signal };

export interface InstancePort {
  name: string;
  direction: "input" | "output";
  shape: Shape;
}

export class Instance<IO extends ModuleInterface = NoInterface, C extends ChildModule = ChildModule> {
  /** The parent's signals for the child's ports, by Verilog port name (untyped; designs use `ports`). */
  readonly io: Record<string, Signal> = {};
  /** The child's interface seen from the parent: the same handles, with the parent's signals. */
  readonly ports: IO;
  readonly name: () => string;
  /** Parent signal -> the name of the child's port it stands for. */
  private readonly portNames = new Map<Signal, string>();

  constructor(
    parent: ModuleContext,
    /** A DSL module, or a black box. */
    readonly child: C | BlackBoxDef,
    explicitName: string | undefined,
    readonly site: CallSite,
    /** The clock and reset of a DSL child in a domain of its own; undefined: the parent's. */
    readonly domain?: ClockDomain,
  ) {
    if (domain !== undefined) {
      if (isBlackBox(child)) throw new HdlError(`black box ${child.module}: its clock is one of its ports; connect it by hand instead of giving a clock domain`, site);
      if (domain.clock.width !== 1) throw new HdlError(`instance clock must be 1 bit, got ${domain.clock.width} bits`, site);
      if (domain.reset.width !== 1) throw new HdlError(`instance reset must be 1 bit, got ${domain.reset.width} bits`, site);
    }
    this.name = () => explicitName ?? parent.nameFor(site, isBlackBox(child) ? `u_${child.module}` : `u_${child.name}`);
    for (const port of instancePorts(child, site)) {
      const signal = parent.declareDerived("internal", port.shape, () => `${this.name()}_${port.name}`, site);
      if (port.direction === "output") signal.driver = { kind: "instance", site, group: this };
      this.io[port.name] = signal;
      this.portNames.set(signal, port.name);
    }
    this.ports = (isBlackBox(child) ? this.io : this.parentView(child.exposed)) as unknown as IO;
  }

  /** The name of the child's port behind one of this instance's signals, or undefined if it is not one. */
  portNameOf(signal: Signal): string | undefined {
    return this.portNames.get(signal);
  }

  private parentView(handle: PortHandle): PortHandle {
    if (handle instanceof Signal) return this.parentSignal(handle);
    if (handle instanceof Bundle) {
      const signals: Record<string, Signal> = {};
      for (const field of handle.fieldNames) signals[field] = this.parentSignal(handle.signals[field]);
      return new Bundle(handle.def, flipped(handle.flow), signals);
    }
    if (Array.isArray(handle)) return handle.map((h: PortHandle) => this.parentView(h));
    const view: Record<string, PortHandle> = {};
    for (const [key, h] of Object.entries(handle as ModuleInterface)) view[key] = this.parentView(h);
    return view;
  }

  private parentSignal(childPort: Signal): Signal {
    const name = (this.child as ChildModule).displayName(childPort);
    const signal = this.io[name];
    if (!signal) throw new HdlError(`instance "${this.name()}": "${name}" is not a port of ${(this.child as ChildModule).name}`, this.site);
    return signal;
  }
}

/** What a child's port bundle is from the parent's side: the child consuming data means the parent must produce it. */
function flipped(flow: BundleFlow): BundleFlow {
  return flow === "source" ? "sink" : flow === "sink" ? "source" : "internal";
}

/** Whether two black-box definitions have the same ports, in the same order, with the same shapes. */
export function sameBlackBoxPorts(a: BlackBoxDef, b: BlackBoxDef, site: CallSite): boolean {
  const portsOf = (def: BlackBoxDef) => instancePorts(def, site).map((p) => `${p.direction} ${p.name} ${p.shape.width} ${p.shape.signed}`);
  const [pa, pb] = [portsOf(a), portsOf(b)];
  return pa.length === pb.length && pa.every((p, i) => p === pb[i]);
}

export function isBlackBox<C>(child: C | BlackBoxDef): child is BlackBoxDef {
  return typeof child === "object" && child !== null && "inputs" in child && "outputs" in child && "module" in child;
}

/** The child's data ports in declaration order (clock and reset are connected implicitly for DSL modules). */
export function instancePorts(child: ChildModule | BlackBoxDef, site: CallSite): InstancePort[] {
  if (isBlackBox(child)) {
    const ports: InstancePort[] = [];
    for (const [name, shape] of Object.entries(child.inputs)) ports.push({ name, direction: "input", shape: toShape(shape, site) });
    for (const [name, shape] of Object.entries(child.outputs)) {
      if (name in child.inputs) throw new HdlError(`black box ${child.module}: port "${name}" is both input and output`, site);
      ports.push({ name, direction: "output", shape: toShape(shape, site) });
    }
    return ports;
  }
  return child.ports.map((p) => ({
    name: child.displayName(p),
    direction: p.kind === "input" ? "input" : "output",
    shape: p.shape,
  }));
}
