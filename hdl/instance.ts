// Instances of other modules. The child's ports appear in the parent as signals named
// `<instance>_<port>`: the parent drives the child's inputs and reads its outputs.
import { HdlError } from "./errors.ts";
import { CallSite } from "./location.ts";
import type { Module } from "./module.ts";
import type { Bundle, BundleDef } from "./bundle.ts";
import { bundleFromSignals } from "./bundle.ts";
import { type Shape, type ShapeLike, toShape } from "./shape.ts";
import type { Signal } from "./value.ts";

/** A Verilog module the DSL does not define: only its interface is known. */
export interface BlackBoxDef {
  /** The Verilog module name, e.g. `pcie_7x_0`. */
  module: string;
  /** Verilog parameters: numbers print in decimal, strings quoted, `{ value, width }` as a sized constant. */
  parameters?: Record<string, number | string | { value: number | bigint; width: number }>;
  inputs: Record<string, ShapeLike>;
  outputs: Record<string, ShapeLike>;
}

export interface InstancePort {
  name: string;
  direction: "input" | "output";
  shape: Shape;
}

export class Instance {
  /** The parent's signals for the child's ports, by port name. */
  readonly io: Record<string, Signal> = {};
  readonly name: () => string;

  constructor(
    parent: Module,
    /** A DSL module, or a black box. */
    readonly child: Module | BlackBoxDef,
    explicitName: string | undefined,
    readonly site: CallSite,
  ) {
    this.name = () => explicitName ?? parent.nameFor(site, isBlackBox(child) ? `u_${child.module}` : `u_${child.name}`);
    for (const port of instancePorts(child, site)) {
      const signal = parent.declareDerived("internal", port.shape, () => `${this.name()}_${port.name}`, site);
      if (port.direction === "output") signal.driver = { kind: "instance", site, group: this };
      this.io[port.name] = signal;
    }
  }

  /** The child's ports named `<prefix>_<field>` seen as one bundle, to `connect` in the parent. */
  bundle(def: BundleDef, prefix: string): Bundle {
    const site = new CallSite();
    const signals: Record<string, Signal> = {};
    let flow: "source" | "sink" | undefined;
    for (const [field, spec] of Object.entries(def.fields)) {
      const signal = this.io[`${prefix}_${field}`];
      if (!signal) throw new HdlError(`instance "${this.name()}" has no port "${prefix}_${field}" for bundle ${def.name}`, site);
      const childDrives = signal.driver?.kind === "instance";
      const fieldFlow = (spec.direction === "forward") === childDrives ? "source" : "sink";
      if (flow && flow !== fieldFlow) throw new HdlError(`ports "${prefix}_*" of instance "${this.name()}" mix directions for bundle ${def.name}`, site);
      flow = fieldFlow;
      signals[field] = signal;
    }
    return bundleFromSignals(def, flow ?? "source", signals);
  }
}

export function isBlackBox(child: Module | BlackBoxDef): child is BlackBoxDef {
  return "inputs" in child && "outputs" in child && "module" in child;
}

/** The child's data ports in declaration order (clock and reset are connected implicitly for DSL modules). */
export function instancePorts(child: Module | BlackBoxDef, site: CallSite): InstancePort[] {
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
