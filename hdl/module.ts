// The module builder: ports, signals, statements and the structures built from them (FSMs,
// memories, instances, bundles). Mistakes that can be seen at the call are reported at the call,
// with its TypeScript file and line; the rest are found by `elaborate`.
import { Bundle, type BundleDef, type ConnectOptions, checkConnectable, selectFields } from "./bundle.ts";
import { HdlError } from "./errors.ts";
import { Fsm } from "./fsm.ts";
import { type BlackBoxDef, type BlackBoxPorts, type ClockDomain, Instance } from "./instance.ts";
import { CallSite } from "./location.ts";
import { Memory, type MemoryOptions } from "./memory.ts";
import type { ChildModule, ModuleContext, ModuleInterface, NoInterface, PortHandle } from "./module-context.ts";
import { enclosingFunctionDoc, inferName } from "./naming.ts";
import { type ShapeLike, describeShape, encodeConstant, toShape } from "./shape.ts";
import type { Domain, FormalKind, If, IfBranch, Statement, StatementGroup, Switch, SwitchCase } from "./statement.ts";
import { Const, Signal, type SignalKind, Value, type ValueLike, forEachSignal, requireBit, toValue } from "./value.ts";

export interface SignalOptions {
  /** Verilog name; by default the TypeScript variable (or object key) the signal is assigned to. */
  name?: string;
  /** Reset value of a register, default value of a combinational signal. Default 0. */
  reset?: number | bigint;
  /** A register that ignores reset. */
  resetless?: boolean;
  /**
   * Verilog attributes for the vendor's tools, written before the declaration of an internal
   * signal: `{ ASYNC_REG: "TRUE" }` on the stages of a synchroniser. Names are Verilog
   * identifiers, values strings without quotes or comment delimiters.
   */
  attributes?: Readonly<Record<string, string>>;
}

/** A value listed in a module's header: what the builder was called with. */
export type ParameterValue = number | bigint | string | boolean;

/**
 * A module being built. `IO` is the interface it records with `exposing`: the typed handles its
 * instances offer as `ports`.
 */
export class Module<IO extends ModuleInterface = NoInterface> implements ModuleContext, ChildModule {
  readonly site = new CallSite();
  /** Every signal the module owns, ports included, in creation order (names are given in this order). */
  readonly signals: Signal[] = [];
  readonly ports: Signal[] = [];
  readonly groups: StatementGroup[] = [];
  readonly memories: Memory[] = [];
  readonly instances: Instance<ModuleInterface, Module<ModuleInterface>>[] = [];
  /** The port bundles (of `port` and `promote`), in creation order: which ports travel together. */
  readonly portBundles: Bundle[] = [];
  /** The handles recorded by `exposing`. */
  readonly exposed: IO = {} as IO;
  readonly fsms: Fsm<string>[] = [];
  /** Why this module has combinational paths from inputs to outputs, when it has them by design. */
  combinationalPathsReason: string | undefined;
  /** Input ports deliberately left (partly) unread, with the reason; emitted with a lint waiver. */
  readonly unreadInputs = new Map<Signal, string>();
  /** Verilog attributes of internal signals (`SignalOptions.attributes`). */
  readonly attributes = new Map<Signal, Readonly<Record<string, string>>>();
  /** Statement lists being filled by If/Switch bodies; empty at the top level. */
  private readonly blocks: Statement[][] = [];
  private currentGroup: StatementGroup | undefined;
  private explicitDoc: string | undefined;
  private parameterRecord: Readonly<Record<string, ParameterValue>> = {};

  constructor(readonly name: string) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new HdlError(`module name "${name}" is not a Verilog identifier`, this.site);
    }
  }

  // --- documentation (the header of the emitted Verilog) -----------------------------------
  /** What the module is for; by default the JSDoc of the function that called `new Module`. */
  describe(doc: string): void {
    if (/\*\//.test(doc)) throw new HdlError("describe: the text cannot contain a comment delimiter", new CallSite());
    this.explicitDoc = doc;
  }

  get doc(): string | undefined {
    return this.explicitDoc ?? enclosingFunctionDoc(this.site.location);
  }

  /** The values the builder was called with, listed one per line in the emitted header. */
  parameters(values: Record<string, ParameterValue>): void {
    const site = new CallSite();
    for (const [key, value] of Object.entries(values)) {
      if (typeof value === "number" && !Number.isFinite(value)) throw new HdlError(`parameters: ${key} is ${value}`, site);
      if (typeof value === "string" && /\n/.test(value)) throw new HdlError(`parameters: ${key} must be one line`, site);
    }
    this.parameterRecord = { ...this.parameterRecord, ...values };
  }

  get parameterValues(): Readonly<Record<string, ParameterValue>> {
    return this.parameterRecord;
  }

  // --- declarations ----------------------------------------------------------------------
  input(shape: ShapeLike, options: SignalOptions = {}): Signal {
    return this.declare("input", shape, options, new CallSite());
  }

  output(shape: ShapeLike, options: SignalOptions = {}): Signal {
    return this.declare("output", shape, options, new CallSite());
  }

  /** An internal signal: a register if assigned with `sync`, a combinational net if with `comb`. */
  signal(shape: ShapeLike, options: SignalOptions = {}): Signal {
    return this.declare("internal", shape, options, new CallSite());
  }

  /** Used by memories, instances and bundles to create signals named after their owner. */
  declareDerived(kind: SignalKind, shape: ShapeLike, name: () => string, site: CallSite, options: SignalOptions = {}): Signal {
    return this.declareWith(kind, shape, options, name, site);
  }

  private declare(kind: SignalKind, shape: ShapeLike, options: SignalOptions, site: CallSite): Signal {
    if (options.name !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.name)) {
      throw new HdlError(`signal name "${options.name}" is not a Verilog identifier`, site);
    }
    if (options.attributes !== undefined) {
      if (kind !== "internal") throw new HdlError(`attributes are for internal signals (m.signal), not ${kind} ports`, site);
      for (const [key, value] of Object.entries(options.attributes)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new HdlError(`attribute name "${key}" is not a Verilog identifier`, site);
        if (/["\\\n]|\*\)|\/\*|\*\//.test(value)) throw new HdlError(`attribute ${key}: value ${JSON.stringify(value)} may not hold quotes, backslashes, newlines or comment delimiters`, site);
      }
    }
    const signal = this.declareWith(kind, shape, options, options.name, site);
    if (options.attributes !== undefined && Object.keys(options.attributes).length > 0) this.attributes.set(signal, { ...options.attributes });
    return signal;
  }

  private declareWith(
    kind: SignalKind,
    shapeLike: ShapeLike,
    options: SignalOptions,
    name: string | (() => string) | undefined,
    site: CallSite,
  ): Signal {
    const shape = toShape(shapeLike, site);
    const reset = encodeConstant(options.reset ?? 0, shape, site);
    const signal = new Signal(shape, kind, this, reset, options.resetless ?? false, name, site);
    this.signals.push(signal);
    if (kind !== "internal") this.ports.push(signal);
    return signal;
  }

  /** The name a DSL object created at `site` is given: explicit, else its TypeScript variable. */
  nameFor(site: CallSite, fallback: string): string {
    return inferName(site.location) ?? fallback;
  }

  // --- statements ------------------------------------------------------------------------
  /** Combinational assignment: `target` follows `value` in the same cycle. */
  comb(target: Signal, value: ValueLike): void {
    this.assign("comb", target, value);
  }

  /** Register assignment: `target` takes `value` at the next clock edge. */
  sync(target: Signal, value: ValueLike): void {
    this.assign("sync", target, value);
  }

  private assign(domain: Domain, target: Signal, valueLike: ValueLike): void {
    const site = new CallSite();
    if (!(target instanceof Signal)) {
      throw new HdlError(`${domain}: the target must be a signal, got an expression`, site);
    }
    this.requireOwn(target, site);
    if (target.kind === "input") {
      throw new HdlError(`${domain}: cannot assign input port "${this.displayName(target)}"`, site);
    }
    const value = toValue(valueLike, target.shape);
    if (value.width !== target.width) {
      throw new HdlError(
        `width mismatch: assigning a ${describeShape(value)} value to ${describeShape(target)} signal "${this.displayName(target)}" (use zext/sext/trunc)`,
        site,
      );
    }
    this.requireOwnValue(value, site);
    this.addStatement({ kind: "assign", domain, target, value, site }, () => this.claim(target, domain, site));
  }

  /** Records that the current group drives `target`; one group per signal, one domain per signal. */
  private claim(target: Signal, domain: Domain, site: CallSite): void {
    const group = this.currentGroup!;
    const driver = target.driver;
    if (!driver) {
      target.driver = { kind: domain, site, group };
      return;
    }
    const name = this.displayName(target);
    if (driver.kind !== "comb" && driver.kind !== "sync") {
      throw new HdlError(`"${name}" is driven by ${driver.kind === "instance" ? "an instance output" : "a memory read port"} (${driver.site}) and cannot be assigned`, site);
    }
    if (driver.kind !== domain) {
      throw new HdlError(`"${name}" is assigned with ${domain} here but with ${driver.kind} at ${driver.site}: a signal is either combinational or a register`, site);
    }
    if (driver.group !== group) {
      throw new HdlError(
        `"${name}" is driven from two places: here and at ${driver.site} (assign a signal in one m.comb/m.sync/If/Switch/FSM group)`,
        site,
      );
    }
  }

  If(condition: Value, body: () => void): IfChain {
    const site = new CallSite();
    requireBit(condition, "If condition", site);
    this.requireOwnValue(condition, site);
    const statement: If = { kind: "if", branches: [], site };
    let branch: IfBranch | undefined;
    this.addStatement(statement, () => {
      branch = { condition, body: this.collect(body), site };
      statement.branches.push(branch);
    });
    return new IfChain(this, statement, this.currentBlock());
  }

  /** Adds an Elif/Else branch to `statement` (called by IfChain). */
  addBranch(statement: If, block: Statement[] | undefined, condition: Value | undefined, body: () => void, site: CallSite): void {
    if (condition) {
      requireBit(condition, "Elif condition", site);
      this.requireOwnValue(condition, site);
    }
    const current = block ?? this.groups.at(-1)?.statement;
    const last = block ? block.at(-1) : current;
    if (last !== statement || this.currentBlock() !== block) {
      throw new HdlError("Elif/Else must directly follow its If (or Elif) in the same block", site);
    }
    const group = block ? this.currentGroup : this.groups.at(-1);
    const outerGroup = this.currentGroup;
    this.currentGroup = group;
    try {
      statement.branches.push({ condition, body: this.collect(body), site });
    } finally {
      this.currentGroup = outerGroup;
    }
  }

  Switch(subject: Value, body: (cases: CaseBuilder) => void): void {
    const site = new CallSite();
    this.requireOwnValue(subject, site);
    const statement: Switch = { kind: "switch", subject, cases: [], site };
    this.addStatement(statement, () => body(new CaseBuilder(this, statement)));
  }

  /** Adds a case to a Switch (called by CaseBuilder and Fsm). */
  addCase(statement: Switch, values: Const[] | undefined, body: () => void, site: CallSite): void {
    const kase: SwitchCase = { values, body: [], site };
    statement.cases.push(kase);
    kase.body = this.collect(body);
  }

  // --- formal properties (emitted inside `ifdef FORMAL`, checked at the clock edge out of reset) ---
  assert(condition: Value): void {
    this.formal("assert", condition);
  }
  assume(condition: Value): void {
    this.formal("assume", condition);
  }
  cover(condition: Value): void {
    this.formal("cover", condition);
  }

  private formal(kind: FormalKind, condition: Value): void {
    const site = new CallSite();
    requireBit(condition, `${kind} condition`, site);
    this.requireOwnValue(condition, site);
    this.addStatement({ kind, condition, site }, () => undefined);
  }

  // --- structures ------------------------------------------------------------------------
  /** A finite state machine with named states; the first state is the reset state unless `reset` says otherwise. */
  fsm<S extends string>(states: readonly S[], options: { name?: string; reset?: S } = {}): Fsm<S> {
    const fsm = new Fsm<S>(this, states, options, new CallSite());
    this.fsms.push(fsm as unknown as Fsm<string>);
    return fsm;
  }

  /** A memory with synchronous read ports, inferred as block RAM. */
  memory(options: MemoryOptions): Memory {
    const memory = new Memory(this, options, new CallSite());
    this.memories.push(memory);
    return memory;
  }

  /**
   * An instance of another DSL module; `ports` has the child's `exposing` handles, as the parent's
   * signals. The child runs on the parent's clock and reset unless `clock` and `reset` (both, 1 bit
   * each, values of this module) put it in a clock domain of its own.
   */
  instance<CIO extends ModuleInterface>(child: Module<CIO>, options: { name?: string; clock?: Signal; reset?: ValueLike } = {}): Instance<CIO, Module<CIO>> {
    const site = new CallSite();
    if ((child as unknown) === this) throw new HdlError(`module "${this.name}" cannot instantiate itself`, site);
    let domain: ClockDomain | undefined;
    if (options.clock !== undefined || options.reset !== undefined) {
      if (options.clock === undefined || options.reset === undefined) {
        throw new HdlError(`instance of ${child.name}: give both clock and reset for a clock domain of its own, or neither`, site);
      }
      const reset = toValue(options.reset, toShape(1, site));
      this.requireOwnValue(options.clock, site);
      this.requireOwnValue(reset, site);
      domain = { clock: options.clock, reset };
    }
    const instance = new Instance<CIO, Module<CIO>>(this, child, options.name, site, domain);
    this.instances.push(instance);
    return instance;
  }

  /** An instance of a Verilog module defined elsewhere (the pcie_7x hard IP, vendor primitives); `ports` has one signal per port. */
  blackbox<const D extends BlackBoxDef>(def: D, options: { name?: string } = {}): Instance<BlackBoxPorts<D>, Module<ModuleInterface>> {
    const instance = new Instance<BlackBoxPorts<D>, Module<ModuleInterface>>(this, def, options.name, new CallSite());
    this.instances.push(instance);
    return instance;
  }

  /**
   * Records the module's interface, `return m.exposing({ in_, out, count })`: the handles (port
   * signals and port bundles, in arrays or records) that instances of it offer, typed, as `ports`.
   */
  exposing<I extends ModuleInterface>(io: I): Module<I> {
    const site = new CallSite();
    const check = (handle: PortHandle, path: string): void => {
      if (handle instanceof Signal) {
        if (!this.ports.includes(handle)) throw new HdlError(`exposing: "${path}" is not a port of ${this.name}`, site);
      } else if (handle instanceof Bundle) {
        if (handle.flow === "internal") throw new HdlError(`exposing: "${path}" is a bundle of internal wires; expose port bundles (m.port)`, site);
        for (const field of handle.fieldNames) check(handle.signals[field], `${path}.${field}`);
      } else if (Array.isArray(handle)) {
        handle.forEach((h: PortHandle, i) => check(h, `${path}[${i}]`));
      } else if (typeof handle === "object" && handle !== null) {
        for (const [key, h] of Object.entries(handle as ModuleInterface)) check(h, path ? `${path}.${key}` : key);
      } else {
        throw new HdlError(`exposing: "${path}" is not a port signal, bundle, array or record`, site);
      }
    };
    check(io, "");
    (this as { exposed: ModuleInterface }).exposed = io;
    return this as unknown as Module<I>;
  }

  /**
   * Declares that this module reads `input` only in part, or not at all, on purpose (a field of a
   * standard bundle the design has no use for); `reason` is emitted next to the lint waiver.
   */
  waiveUnread(input: Signal, reason: string): void {
    const site = new CallSite();
    if (input.kind !== "input" || !this.ports.includes(input)) throw new HdlError(`waiveUnread: ${this.displayName(input)} is not an input port of ${this.name}`, site);
    if (reason.trim() === "" || /\*\/|\n/.test(reason)) throw new HdlError("waiveUnread: give a one-line reason without comment delimiters", site);
    this.unreadInputs.set(input, reason);
  }

  /**
   * Says that outputs of this module follow some inputs within the same cycle on purpose, and why
   * (a passthrough a parent registers). The reason heads the emitted Verilog; modules without one
   * are expected to have no such path (`Design.combinationalPaths` lists them).
   */
  documentCombinationalPaths(reason: string): void {
    if (reason.trim() === "" || /\n/.test(reason)) throw new HdlError("documentCombinationalPaths: give a one-line reason", new CallSite());
    this.combinationalPathsReason = reason;
  }

  /** Ports for a bundle: a "slave" port receives the bundle's forward fields, a "master" port sends them. */
  port<F extends string>(def: BundleDef<F>, role: "master" | "slave", options: { prefix?: string } = {}): Bundle<F> {
    const site = new CallSite();
    const prefix = () => options.prefix ?? this.nameFor(site, def.name);
    return this.portBundle(def, role, (field) => () => `${prefix()}_${field}`, site);
  }

  private portBundle<F extends string>(def: BundleDef<F>, role: "master" | "slave", nameOf: (field: F) => () => string, site: CallSite): Bundle<F> {
    const signals = {} as Record<F, Signal>;
    for (const field of Object.keys(def.fields) as F[]) {
      const spec = def.fields[field];
      const isInput = (spec.direction === "forward") === (role === "slave");
      signals[field] = this.declareDerived(isInput ? "input" : "output", spec.shape, nameOf(field), site);
    }
    const bundle = new Bundle(def, role === "slave" ? "source" : "sink", signals);
    this.portBundles.push(bundle);
    return bundle;
  }

  /** Internal signals for a bundle, to connect two instances or to build one by hand. */
  bundle<F extends string>(def: BundleDef<F>, options: { prefix?: string } = {}): Bundle<F> {
    const site = new CallSite();
    const prefix = () => options.prefix ?? this.nameFor(site, def.name);
    const signals = {} as Record<F, Signal>;
    for (const field of Object.keys(def.fields) as F[]) {
      signals[field] = this.declareDerived("internal", def.fields[field].shape, () => `${prefix()}_${field}`, site);
    }
    return new Bundle(def, "internal", signals);
  }

  /**
   * Connects a bundle that produces data to one that consumes it: forward fields one way, backward
   * the other; `{ omit: [...] }` leaves fields out (the sink's must then be driven otherwise),
   * `{ only: [...] }` ties just those.
   */
  connect<F extends string>(source: Bundle<F>, sink: Bundle<F>, options: ConnectOptions<NoInfer<F>> = {}): void {
    const site = new CallSite();
    const fields = selectFields(source.def, options, site);
    checkConnectable(source, sink, fields, site);
    for (const field of fields) {
      if (source.def.fields[field].direction === "forward") this.comb(sink.signals[field], source.signals[field]);
      else this.comb(source.signals[field], sink.signals[field]);
    }
  }

  /**
   * Makes an instance's port, or port bundle, a port of this module, connected to it: the same
   * direction, named as the child names it (`name`, or `prefix` + `_<field>`, to rename).
   */
  promote(handle: Signal, options?: { name?: string }): Signal;
  promote<F extends string>(handle: Bundle<F>, options?: { prefix?: string }): Bundle<F>;
  promote(handle: Signal | Bundle, options: { name?: string; prefix?: string } = {}): Signal | Bundle {
    const site = new CallSite();
    const childPortName = (signal: Signal): string => {
      for (const instance of this.instances) {
        const name = instance.portNameOf(signal);
        if (name !== undefined) return name;
      }
      throw new HdlError(`promote: "${this.displayName(signal)}" is not a port of an instance in ${this.name}`, site);
    };
    if (handle instanceof Signal) {
      const name = options.name ?? childPortName(handle);
      const drivenByChild = handle.driver?.kind === "instance";
      const port = this.declareDerived(drivenByChild ? "output" : "input", handle.shape, () => name, site);
      if (drivenByChild) this.comb(port, handle);
      else this.comb(handle, port);
      return port;
    }
    if (handle.flow === "internal") throw new HdlError("promote: give an instance's port bundle, not internal wires", site);
    const names = new Map(handle.fieldNames.map((field) => [field, options.prefix === undefined ? childPortName(handle.signals[field]) : `${options.prefix}_${field}`]));
    // The child consuming data (a sink seen from here) makes the promoted port a slave.
    const port = this.portBundle(handle.def, handle.flow === "sink" ? "slave" : "master", (field) => () => names.get(field)!, site);
    if (port.flow === "source") this.connect(port, handle);
    else this.connect(handle, port);
    return port;
  }

  // --- helpers for the structures and the emitter -----------------------------------------
  /** The name used in messages before emission has fixed the final (collision-free) names. */
  displayName(signal: Signal): string {
    const source = signal.nameSource;
    if (typeof source === "string") return source;
    if (typeof source === "function") return source();
    return this.nameFor(signal.site, "unnamed");
  }

  private currentBlock(): Statement[] | undefined {
    return this.blocks.at(-1);
  }

  /** Adds a statement to the current block, or as a new group at the top level; `body` runs inside its group. */
  private addStatement(statement: Statement, body: () => void): void {
    const block = this.currentBlock();
    if (block) {
      block.push(statement);
      body();
      return;
    }
    const group: StatementGroup = { statement, site: statement.site };
    this.currentGroup = group;
    try {
      body();
    } finally {
      this.currentGroup = undefined;
    }
    this.groups.push(group);
  }

  private collect(body: () => void): Statement[] {
    const block: Statement[] = [];
    this.blocks.push(block);
    try {
      body();
    } finally {
      this.blocks.pop();
    }
    return block;
  }

  private requireOwn(signal: Signal, site: CallSite): void {
    if (signal.owner !== this) {
      throw new HdlError(
        `signal "${(signal.owner as Module).displayName?.(signal) ?? "?"}" belongs to module "${signal.owner.name}", not "${this.name}" (connect it through a port)`,
        site,
      );
    }
  }

  requireOwnValue(value: Value, site: CallSite): void {
    forEachSignal(value, (signal) => this.requireOwn(signal, site));
  }
}

/** The result of `m.If`: chain `.Elif(...)` and `.Else(...)` onto it. */
export class IfChain {
  private closed = false;

  constructor(
    private readonly module: Module,
    private readonly statement: If,
    private readonly block: Statement[] | undefined,
  ) {}

  Elif(condition: Value, body: () => void): IfChain {
    // Untyped callers could pass a number: 0 would read as "no condition", an Else.
    if (!(condition instanceof Value)) throw new HdlError(`Elif condition must be a 1-bit value, got ${String(condition)}`, new CallSite());
    this.branch(condition, body);
    return this;
  }

  Else(body: () => void): void {
    this.branch(undefined, body);
    this.closed = true;
  }

  private branch(condition: Value | undefined, body: () => void): void {
    const site = new CallSite();
    if (this.closed) throw new HdlError("nothing can follow Else", site);
    this.module.addBranch(this.statement, this.block, condition, body, site);
  }
}

/** Given to the body of `m.Switch`: one `Case` per value (or list of values), then an optional `Default`. */
export class CaseBuilder {
  private readonly seen = new Map<bigint, CallSite>();
  private hasDefault = false;

  constructor(
    private readonly module: Module,
    readonly statement: Switch,
  ) {}

  Case(values: number | bigint | readonly (number | bigint)[], body: () => void): void {
    const site = new CallSite();
    if (this.hasDefault) throw new HdlError("Case after Default", site);
    const list = typeof values === "object" ? values : [values];
    if (list.length === 0) throw new HdlError("Case needs at least one value", site);
    const consts = list.map((v) => new Const(v, this.statement.subject.shape, undefined, site));
    for (const c of consts) {
      const earlier = this.seen.get(c.bits_);
      if (earlier) throw new HdlError(`Case value ${c.value} already handled at ${earlier}`, site);
      this.seen.set(c.bits_, site);
    }
    this.module.addCase(this.statement, consts, body, site);
  }

  Default(body: () => void): void {
    const site = new CallSite();
    if (this.hasDefault) throw new HdlError("a Switch has only one Default", site);
    this.hasDefault = true;
    this.module.addCase(this.statement, undefined, body, site);
  }
}
