// The Verilog-2005 back end: one module per file, names from the DSL, a `// file.ts:line` trail on
// every declaration and statement group, and explicit sizing wherever Verilog's context-dependent
// width or sign rules could change what an expression means (see hdl/README.md, "Emitted Verilog").
import { HdlError } from "./errors.ts";
import { type Design, elaborate } from "./elaborate.ts";
import { type BlackBoxDef, type Instance, instancePorts, isBlackBox } from "./instance.ts";
import type { CallSite } from "./location.ts";
import type { Memory } from "./memory.ts";
import type { Module, ParameterValue } from "./module.ts";
import type { Bundle } from "./bundle.ts";
import { NamedConst } from "./constant.ts";
import { inferName, isSnakeCase, toSnakeCase } from "./naming.ts";
import type { Assign, Formal, Statement } from "./statement.ts";
import { BitSelect, Concat, Const, Mux, Operator, Signal, Slice, type Value, forEachSignal } from "./value.ts";
import { verilogKeywords } from "./verilog-keywords.ts";

export interface EmittedFile {
  /** `<module>.v` */
  fileName: string;
  moduleName: string;
  text: string;
}

/** Elaborates `top` and emits every module of its hierarchy, children first. */
export function emitDesign(top: Module): { files: EmittedFile[]; design: Design } {
  const design = elaborate(top);
  const needsClock = clockUsers(design.modules, design.twins);
  const files = design.modules.map((module) => ({
    fileName: `${module.name}.v`,
    moduleName: module.name,
    text: new ModuleEmitter(module, needsClock, design.signalsRead.get(module)!).emit(),
  }));
  for (const [twin, first] of design.twins) {
    if (new ModuleEmitter(twin, needsClock, design.signalsRead.get(twin)!).emit() !== files[design.modules.indexOf(first)].text) {
      throw new HdlError(
        `two different modules are both named "${twin.name}" (the other was created at ${first.site}); give parameterised modules names that include their parameters`,
        twin.site,
      );
    }
  }
  return { files, design };
}

function clockUsers(modules: readonly Module[], twins: ReadonlyMap<Module, Module>): Set<Module> {
  const users = new Set<Module>();
  const uses = (module: Module): boolean => users.has(twins.get(module) ?? module);
  for (const module of modules) {
    const clocked =
      module.memories.length > 0 ||
      module.groups.some((g) => usesDomain(g.statement, "sync") || usesFormal(g.statement)) ||
      module.instances.some((i) => !isBlackBox(i.child) && i.domain === undefined && uses(i.child));
    if (clocked) users.add(module);
  }
  for (const [twin, first] of twins) if (users.has(first)) users.add(twin);
  return users;
}

function usesDomain(statement: Statement, domain: "comb" | "sync"): boolean {
  return someStatement(statement, (s) => s.kind === "assign" && s.domain === domain);
}

function usesFormal(statement: Statement): boolean {
  return someStatement(statement, (s) => s.kind === "assert" || s.kind === "assume" || s.kind === "cover");
}

function someStatement(statement: Statement, test: (s: Statement) => boolean): boolean {
  if (test(statement)) return true;
  if (statement.kind === "if") return statement.branches.some((b) => b.body.some((s) => someStatement(s, test)));
  if (statement.kind === "switch") return statement.cases.some((c) => c.body.some((s) => someStatement(s, test)));
  return false;
}

type Leaf = Assign | Formal;

/** A statement tree with only the leaves `keep` accepts; If/Switch shells that end up empty are dropped. */
function prune(statements: readonly Statement[], keep: (leaf: Leaf) => boolean): Statement[] {
  const result: Statement[] = [];
  for (const statement of statements) {
    if (statement.kind === "if") {
      const branches = statement.branches.map((b) => ({ ...b, body: prune(b.body, keep) }));
      while (branches.length > 0 && branches.at(-1)!.body.length === 0) branches.pop();
      if (branches.length > 0) result.push({ ...statement, branches });
    } else if (statement.kind === "switch") {
      const cases = statement.cases.map((c) => ({ ...c, body: prune(c.body, keep) }));
      if (cases.some((c) => c.body.length > 0)) result.push({ ...statement, cases });
    } else if (keep(statement)) {
      result.push(statement);
    }
  }
  return result;
}

function assignedSignals(statement: Statement, into: Signal[], domain: "comb" | "sync"): void {
  if (statement.kind === "assign") {
    if (statement.domain === domain && !into.includes(statement.target)) into.push(statement.target);
  } else if (statement.kind === "if") {
    for (const b of statement.branches) for (const s of b.body) assignedSignals(s, into, domain);
  } else if (statement.kind === "switch") {
    for (const c of statement.cases) for (const s of c.body) assignedSignals(s, into, domain);
  }
}

/**
 * The processes a group's comb statements become. A comb signal is one wire with one settled value
 * (hdl/README.md, "Statements and drivers"), but inside one `always @*` a read between two
 * assignments sees the value so far. So each target read inside the group gets a process of its
 * own, pruned to its assignments and the conditions around them (elaboration has ruled out a
 * target that reads itself), and the targets nobody in the group reads share one; every read then
 * crosses from one process to another and sees the settled value.
 */
function splitAtInGroupReads(comb: Statement[]): Statement[][] {
  if (comb.length === 0) return [];
  const targets: Signal[] = [];
  for (const s of comb) assignedSignals(s, targets, "comb");
  const read = new Set<Signal>();
  for (const s of comb) forEachRead(s, (signal) => read.add(signal));
  if (!targets.some((t) => read.has(t))) return [comb];
  const unread = targets.filter((t) => !read.has(t));
  const processes: Statement[][] = [];
  for (const target of targets) {
    if (read.has(target)) processes.push(prune(comb, (leaf) => leaf.kind === "assign" && leaf.target === target));
    else if (target === unread[0]) processes.push(prune(comb, (leaf) => leaf.kind === "assign" && unread.includes(leaf.target)));
  }
  return processes;
}

/** Every signal a statement tree reads: assigned values, conditions, case subjects. */
function forEachRead(statement: Statement, visit: (signal: Signal) => void): void {
  if (statement.kind === "assign") forEachSignal(statement.value, visit);
  else if (statement.kind === "if") {
    for (const b of statement.branches) {
      if (b.condition) forEachSignal(b.condition, visit);
      for (const s of b.body) forEachRead(s, visit);
    }
  } else if (statement.kind === "switch") {
    forEachSignal(statement.subject, visit);
    for (const c of statement.cases) for (const s of c.body) forEachRead(s, visit);
  } else forEachSignal(statement.condition, visit);
}

interface Temp {
  name: string;
  width: number;
  signed: boolean;
  expression: string;
  site: CallSite;
  /** Only some bits are read (a part-select of an expression): tell the linter that is meant. */
  sliced: boolean;
  /** Read only by formal properties: declared inside `ifdef FORMAL`, invisible to lint and synthesis. */
  formalOnly?: boolean;
}

const INDENT = "  ";

/** The registers one statement group assigns: the group's tree pruned to those assignments. */
interface SyncPiece {
  site: CallSite;
  statements: Statement[];
}

class ModuleEmitter {
  private readonly names = new Map<Signal, string>();
  private readonly taken = new Set<string>(verilogKeywords);
  private readonly memoryNames = new Map<Memory, string>();
  private readonly instanceNames = new Map<Instance, string>();
  private readonly temps: Temp[] = [];
  private readonly tempOf = new Map<Value, string>();
  private readonly sharedNames = new Map<Value, string>();
  private readonly tempsInProgress = new Set<Value>();
  /** The signal whose assignment is being emitted: unnamed helper wires are named after it. */
  private currentTarget: Signal | undefined;
  private readonly localparams: string[] = [];
  private readonly clocked: boolean;
  /** The register parts of the statement groups, merged into one process per kind, and where it goes. */
  private readonly syncProcesses: Record<"reset" | "resetless", { at: number | undefined; pieces: SyncPiece[] }> = {
    reset: { at: undefined, pieces: [] },
    resetless: { at: undefined, pieces: [] },
  };

  constructor(
    private readonly module: Module,
    private readonly needsClock: Set<Module>,
    /** What the module reads (from elaboration): instance outputs nobody reads get a lint waiver. */
    private readonly reads: ReadonlySet<Signal>,
  ) {
    this.clocked = needsClock.has(module);
    this.nameEverything();
    this.findSharedExpressions();
  }

  emit(): string {
    const body = this.emitBody();
    const out: string[] = [];
    out.push(`// Generated by nvme-host hdl from ${this.module.site}. Do not edit: change the TypeScript and run \`npm run gen\`.`);
    out.push(...this.emitHeader());
    if (this.module.combinationalPathsReason) out.push(`// Combinational paths from inputs to outputs, by design: ${this.module.combinationalPathsReason}`);
    out.push("`default_nettype none", "");
    out.push(`module ${this.module.name} (`);
    out.push(this.emitPorts().join(",\n"));
    out.push(");");
    const declarations = [...this.localparams, ...this.emitDeclarations(), ...this.emitTemps()];
    if (declarations.length > 0) out.push(...declarations, "");
    out.push(...body);
    out.push("endmodule", "", "`default_nettype wire", "");
    return out.join("\n");
  }

  /** What the module is for (the builder's doc comment) and the parameter values it was built with. */
  private emitHeader(): string[] {
    const lines: string[] = [];
    const doc = this.module.doc;
    if (doc !== undefined) {
      lines.push("//");
      for (const line of doc.split("\n")) lines.push(line.trim() === "" ? "//" : `// ${line.trimEnd()}`);
    }
    const parameters = Object.entries(this.module.parameterValues);
    if (parameters.length > 0) {
      const keyWidth = Math.max(...parameters.map(([key]) => key.length));
      lines.push("//", "// Built with:");
      for (const [key, value] of parameters) lines.push(`//   ${key.padEnd(keyWidth)}  ${formatParameterValue(value)}`);
    }
    if (lines.length > 0) lines.push("//");
    return lines;
  }

  // --- names -----------------------------------------------------------------------------
  private nameEverything(): void {
    if (!isSnakeCase(this.module.name)) throw notSnakeCase("module", this.module.name, this.module.site);
    if (this.clocked) this.taken.add("clk").add("rst");
    for (const port of this.module.ports) {
      const name = this.module.displayName(port);
      if (!isSnakeCase(name)) throw notSnakeCase("port", name, port.site);
      if (this.taken.has(name)) {
        throw new HdlError(`port name "${name}" of module "${this.module.name}" is taken (a Verilog keyword, clk/rst, or another port)`, port.site);
      }
      this.taken.add(name);
      this.names.set(port, name);
    }
    for (const fsm of this.module.fsms) {
      for (const state of fsm.states) {
        const label = fsm.stateCode(state).label!();
        if (this.taken.has(label)) throw new HdlError(`FSM state constant "${label}" collides with another name in module "${this.module.name}"`, fsm.site);
        this.taken.add(label);
      }
    }
    for (const constant of this.namedConstants()) {
      if (this.taken.has(constant.constantName)) throw new HdlError(`constant "${constant.constantName}" collides with another name in module "${this.module.name}"`, constant.site);
      this.taken.add(constant.constantName);
    }
    for (const memory of this.module.memories) this.memoryNames.set(memory, this.claimName(checkedName("memory", memory.name(), memory.site)));
    // A black box's port names are the vendor's: only the names the design chose must be snake_case.
    const vendorNamed = new Set<Signal>();
    for (const instance of this.module.instances) {
      this.instanceNames.set(instance, this.claimName(checkedName("instance", instance.name(), instance.site)));
      if (isBlackBox(instance.child)) for (const signal of Object.values(instance.io)) vendorNamed.add(signal);
    }
    for (const signal of this.module.signals) {
      if (this.names.has(signal)) continue;
      const name = this.module.displayName(signal);
      this.names.set(signal, this.claimName(vendorNamed.has(signal) ? name : checkedName("signal", name, signal.site)));
    }
  }

  /** Every named constant the module's statements read, each name once, by name. */
  private namedConstants(): NamedConst[] {
    const found = new Map<string, NamedConst>();
    const visit = (value: Value): void => {
      if (value instanceof NamedConst) {
        const earlier = found.get(value.constantName);
        if (earlier && (earlier.bits_ !== value.bits_ || earlier.width !== value.width || earlier.signed !== value.signed)) {
          throw new HdlError(`two different constants named "${value.constantName}" are used in module "${this.module.name}" (the other is defined at ${earlier.site})`, value.site);
        }
        found.set(value.constantName, earlier ?? value);
      } else if (value instanceof Slice) visit(value.source);
      else if (value instanceof Concat) value.parts.forEach(visit);
      else if (value instanceof Operator) value.operands.forEach(visit);
      else if (value instanceof Mux) [value.select, value.whenTrue, value.whenFalse].forEach(visit);
    };
    const walk = (statements: readonly Statement[]): void => {
      for (const s of statements) {
        if (s.kind === "assign") visit(s.value);
        else if (s.kind === "if") for (const b of s.branches) (b.condition && visit(b.condition), walk(b.body));
        else if (s.kind === "switch") (visit(s.subject), s.cases.forEach((c) => (c.values?.forEach(visit), walk(c.body))));
        else visit(s.condition);
      }
    };
    walk(this.module.groups.map((g) => g.statement));
    return [...found.values()].sort((a, b) => (a.constantName < b.constantName ? -1 : a.constantName > b.constantName ? 1 : 0));
  }

  /** `base`, or `base_1`, `base_2`... if taken; keywords get a trailing underscore first. */
  private claimName(base: string): string {
    let name = verilogKeywords.has(base) ? `${base}_` : base;
    if (this.taken.has(name)) {
      let n = 1;
      while (this.taken.has(`${name}_${n}`)) n++;
      name = `${name}_${n}`;
    }
    this.taken.add(name);
    return name;
  }

  private nameOf(signal: Signal): string {
    return this.names.get(signal)!;
  }

  // --- declarations ----------------------------------------------------------------------
  /** Clock and reset, then ports of no bundle, then each bundle's ports under a comment naming it. */
  private emitPorts(): string[] {
    const lines: string[] = [];
    if (this.clocked) {
      lines.push(`${INDENT}input  wire clk`);
      // Every clocked module takes rst, so that all instantiate alike; say so where none is needed.
      if (this.usesReset()) lines.push(`${INDENT}input  wire rst`);
      else lines.push(`${INDENT}/* no register here has a reset value */ /* verilator lint_off UNUSEDSIGNAL */ input  wire rst /* verilator lint_on UNUSEDSIGNAL */`);
    }
    const bundleOf = new Map<Signal, Bundle<string>>();
    for (const bundle of this.module.portBundles) for (const signal of Object.values<Signal>(bundle.signals)) bundleOf.set(signal, bundle);
    const ungrouped: Signal[] = [];
    const bundles = new Map<Bundle<string>, Signal[]>();
    for (const port of this.module.ports) {
      const bundle = bundleOf.get(port);
      if (bundle === undefined) ungrouped.push(port);
      else if (bundles.has(bundle)) bundles.get(bundle)!.push(port);
      else bundles.set(bundle, [port]);
    }
    const declare = (port: Signal): string => {
      const direction = port.kind === "input" ? "input  wire" : `output ${this.isReg(port) ? "reg " : "wire"}`;
      const declaration = `${direction} ${range(port)}${this.nameOf(port)}${this.powerUpValue(port)}`;
      const waiver = this.module.unreadInputs.get(port);
      if (waiver === undefined) return `${INDENT}${declaration}`;
      return `${INDENT}/* ${waiver} */ /* verilator lint_off UNUSEDSIGNAL */ ${declaration} /* verilator lint_on UNUSEDSIGNAL */`;
    };
    lines.push(...ungrouped.map(declare));
    // The comment rides on the group's first declaration, so that joining with ",\n" keeps the commas right.
    for (const [bundle, ports] of bundles) {
      const [first, ...rest] = ports.map(declare);
      lines.push(`${INDENT}// ${this.bundlePrefix(bundle)}_*: ${bundle.def.name}, ${bundle.flow === "source" ? "slave" : "master"}\n${first}`, ...rest);
    }
    return lines;
  }

  /** The `<prefix>` of a port bundle's `<prefix>_<field>` names. */
  private bundlePrefix(bundle: Bundle<string>): string {
    const [field, signal] = Object.entries<Signal>(bundle.signals)[0];
    const name = this.nameOf(signal);
    return name.endsWith(`_${field}`) ? name.slice(0, -field.length - 1) : name;
  }

  private usesReset(): boolean {
    const resetRegister = (s: Statement) => s.kind !== "assign" ? s.kind !== "if" && s.kind !== "switch" : s.domain === "sync" && !s.target.resetless;
    return (
      this.module.groups.some((g) => someStatement(g.statement, resetRegister)) ||
      this.module.instances.some((i) => !isBlackBox(i.child) && i.domain === undefined && this.needsClock.has(i.child))
    );
  }

  private emitDeclarations(): string[] {
    const lines: string[] = [];
    for (const signal of this.module.signals) {
      if (signal.kind !== "internal" || !this.isEmitted(signal)) continue;
      const attributes = Object.entries(this.module.attributes.get(signal) ?? {})
        .map(([key, value]) => `(* ${key} = "${value}" *) `)
        .join("");
      const decl = `${INDENT}${attributes}${this.isReg(signal) ? "reg " : "wire"} ${range(signal)}${this.nameOf(signal)}${this.powerUpValue(signal)};`;
      if (this.isUnreadInstanceOutput(signal)) {
        lines.push(`${INDENT}/* verilator lint_off UNUSEDSIGNAL */`, `${decl} // unused output, ${signal.site}`, `${INDENT}/* verilator lint_on UNUSEDSIGNAL */`);
      } else {
        lines.push(`${decl} // ${signal.site}`);
      }
    }
    for (const memory of this.module.memories) {
      const name = this.memoryNames.get(memory)!;
      lines.push(`${INDENT}reg [${memory.width - 1}:0] ${name} [0:${memory.depth - 1}]; // ${memory.site}`);
    }
    return lines;
  }

  /**
   * ` = <value>` for a flip-flop: it powers up at its reset value (a resetless one and a memory's
   * read data at their `reset` option, 0 unless given), as Vivado takes the declaration's value
   * for the flip-flop's INIT. Combinational `reg`s get none.
   */
  private powerUpValue(signal: Signal): string {
    const kind = signal.driver?.kind;
    if (kind !== "sync" && kind !== "memory") return "";
    return ` = ${this.constant(signal.reset, signal.width, signal.signed)}`;
  }

  private emitTemps(which: "design" | "formal" = "design"): string[] {
    const lines: string[] = [];
    for (const temp of this.temps) {
      if ((temp.formalOnly === true) !== (which === "formal")) continue;
      const decl = `${INDENT}wire ${range(temp)}${temp.name} = ${temp.expression}; // ${temp.site}`;
      if (temp.sliced) lines.push(`${INDENT}/* verilator lint_off UNUSEDSIGNAL */`, decl, `${INDENT}/* verilator lint_on UNUSEDSIGNAL */`);
      else lines.push(decl);
    }
    return lines;
  }

  private isReg(signal: Signal): boolean {
    const driver = signal.driver;
    if (!driver) return false;
    if (driver.kind === "sync" || driver.kind === "memory") return true;
    if (driver.kind === "comb") return !this.isContinuousAssign(driver.group);
    return false;
  }

  private isContinuousAssign(group: object): boolean {
    const statement = (group as { statement?: Statement }).statement;
    return statement?.kind === "assign";
  }

  /** Signals neither driven nor read are left out (elaboration warned about them). */
  private isEmitted(signal: Signal): boolean {
    return signal.driver !== undefined;
  }

  private isUnreadInstanceOutput(signal: Signal): boolean {
    return signal.driver?.kind === "instance" && !this.reads.has(signal);
  }


  // --- body ------------------------------------------------------------------------------
  private emitBody(): string[] {
    const lines: string[] = [];
    this.emitLocalparams();
    for (const group of this.module.groups) {
      const statement = group.statement;
      const trail = `${INDENT}// ${group.site}`;
      if (statement.kind === "assign" && statement.domain === "comb") {
        // Continuous assignments sit together, each with its trail at the end of the line, as declarations do.
        if (lines.at(-1) === "" && lines.at(-2)?.startsWith(`${INDENT}assign `)) lines.pop();
        lines.push(`${INDENT}assign ${this.nameOf(statement.target)} = ${this.rhs(statement)}; // ${group.site}`, "");
        continue;
      }
      const tree = [statement];
      const comb = prune(tree, (leaf) => leaf.kind === "assign" && leaf.domain === "comb");
      for (const process of splitAtInGroupReads(comb)) lines.push(trail, ...this.emitCombProcess(process), "");
      const resetTargets = (leaf: Leaf) => leaf.kind === "assign" && leaf.domain === "sync" && !leaf.target.resetless;
      const resetless = (leaf: Leaf) => leaf.kind === "assign" && leaf.domain === "sync" && leaf.target.resetless;
      const withReset = prune(tree, resetTargets);
      if (withReset.length > 0) this.addSyncPiece(lines, "reset", { site: group.site, statements: withReset });
      const withoutReset = prune(tree, resetless);
      if (withoutReset.length > 0) this.addSyncPiece(lines, "resetless", { site: group.site, statements: withoutReset });
    }
    this.placeSyncProcesses(lines);
    for (const memory of this.module.memories) lines.push(...this.emitMemory(memory));
    for (const instance of this.module.instances) lines.push(...this.emitInstance(instance));
    lines.push(...this.emitFormal());
    while (lines.at(-1) === "") lines.pop();
    return lines;
  }

  private emitLocalparams(): void {
    // Protocol codes and bit patterns of a byte or more read best in hex (8'h4a), small codes in decimal.
    for (const constant of this.namedConstants()) {
      const sign = constant.signed ? "signed " : "";
      this.localparams.push(`${INDENT}localparam ${sign}[${constant.width - 1}:0] ${constant.constantName} = ${this.constant(constant.bits_, constant.width, constant.signed, constant.width >= 8)}; // ${constant.site}`);
    }
    for (const fsm of this.module.fsms) {
      for (const state of fsm.states) {
        const code = fsm.stateCode(state);
        this.localparams.push(`${INDENT}localparam [${code.width - 1}:0] ${code.label!()} = ${code.width}'d${code.bits_}; // ${fsm.site}`);
      }
    }
  }

  private emitCombProcess(statements: Statement[]): string[] {
    const targets: Signal[] = [];
    for (const s of statements) assignedSignals(s, targets, "comb");
    const lines = [`${INDENT}always @* begin`];
    for (const target of targets) {
      lines.push(`${INDENT}${INDENT}${this.nameOf(target)} = ${this.constant(target.reset, target.width, target.signed)};`);
    }
    lines.push(...this.emitStatements(statements, 2, "="));
    lines.push(`${INDENT}end`);
    return lines;
  }

  /**
   * Notes the register part of a statement group. All groups' registers with a reset share one
   * `always` block, and all resetless ones another, placed where the first such group is: a
   * register is driven by one group only and assignments are non-blocking, so merging groups
   * cannot change what any register does.
   */
  private addSyncPiece(lines: string[], kind: "reset" | "resetless", piece: SyncPiece): void {
    const process = this.syncProcesses[kind];
    process.at ??= lines.length;
    process.pieces.push(piece);
  }

  private placeSyncProcesses(lines: string[]): void {
    const placed = (["reset", "resetless"] as const)
      .map((kind) => ({ kind, ...this.syncProcesses[kind] }))
      .filter((p) => p.at !== undefined)
      // From the end backwards, so that earlier positions stay valid; at one position the reset block goes first.
      .sort((a, b) => b.at! - a.at! || (a.kind === "resetless" ? -1 : 1));
    for (const process of placed) {
      lines.splice(process.at!, 0, ...this.emitSyncProcess(process.pieces, process.kind === "reset"), "");
    }
  }

  private emitSyncProcess(pieces: readonly SyncPiece[], withReset: boolean): string[] {
    const single = pieces.length === 1;
    const lines = [
      single ? `${INDENT}// ${pieces[0].site}` : `${INDENT}// ${withReset ? "registers with a reset value" : "registers without reset"}: ${pieces.length} statement groups`,
      `${INDENT}always @(posedge clk) begin`,
    ];
    const depth = withReset ? 3 : 2;
    const body: string[] = [];
    for (const piece of pieces) {
      if (!single) body.push(`${INDENT.repeat(depth)}// ${piece.site}`);
      body.push(...this.emitStatements(piece.statements, depth, "<="));
    }
    if (withReset) {
      const targets: Signal[] = [];
      for (const piece of pieces) for (const s of piece.statements) assignedSignals(s, targets, "sync");
      lines.push(`${INDENT}${INDENT}if (rst) begin`);
      for (const target of targets) {
        lines.push(`${INDENT.repeat(3)}${this.nameOf(target)} <= ${this.constant(target.reset, target.width, target.signed)};`);
      }
      lines.push(`${INDENT}${INDENT}end else begin`);
      lines.push(...body);
      lines.push(`${INDENT}${INDENT}end`);
    } else {
      lines.push(...body);
    }
    lines.push(`${INDENT}end`);
    return lines;
  }

  private emitStatements(statements: readonly Statement[], depth: number, op: "=" | "<="): string[] {
    const pad = INDENT.repeat(depth);
    const lines: string[] = [];
    for (const statement of statements) {
      switch (statement.kind) {
        case "assign":
          lines.push(`${pad}${this.nameOf(statement.target)} ${op} ${this.rhs(statement)};`);
          break;
        case "if":
          statement.branches.forEach((branch, i) => {
            const head = branch.condition ? `if (${unparen(this.expr(branch.condition))})` : "";
            const keyword = i === 0 ? head : branch.condition ? `end else ${head}` : "end else";
            lines.push(`${pad}${keyword} begin`);
            lines.push(...this.emitStatements(branch.body, depth + 1, op));
          });
          lines.push(`${pad}end`);
          break;
        case "switch": {
          lines.push(`${pad}case (${unparen(this.expr(statement.subject))})`);
          let hasDefault = false;
          for (const kase of statement.cases) {
            const label = kase.values ? kase.values.map((v) => this.expr(v)).join(", ") : "default";
            hasDefault ||= !kase.values;
            lines.push(`${pad}${INDENT}${label}: begin`);
            lines.push(...this.emitStatements(kase.body, depth + 2, op));
            lines.push(`${pad}${INDENT}end`);
          }
          if (!hasDefault) lines.push(`${pad}${INDENT}default: begin`, `${pad}${INDENT}end`);
          lines.push(`${pad}endcase`);
          break;
        }
        default:
          lines.push(`${pad}${statement.kind} (${unparen(this.expr(statement.condition))}); // ${statement.site}`);
      }
    }
    return lines;
  }

  private rhs(statement: Assign): string {
    this.currentTarget = statement.target;
    try {
      return unparen(this.expr(statement.value));
    } finally {
      this.currentTarget = undefined;
    }
  }

  private emitMemory(memory: Memory): string[] {
    const name = this.memoryNames.get(memory)!;
    const lines: string[] = [];
    // Every word has a defined power-up value (0 unless given), so that simulators agree and
    // Vivado and Yosys still infer block RAM with those contents.
    lines.push(`${INDENT}// ${memory.site}`, `${INDENT}initial begin`);
    if (memory.init.length < memory.depth) {
      // Yosys (the js engine, lint, synthesis) unrolls this loop word by word, which takes it
      // minutes for a block RAM of 16 K words; it reads a word with no initial value as 0 (the
      // js engine) or leaves the RAM's INIT at 0 (synthesis), so for Yosys the loop is left out
      // and only its index is given the value the loop leaves (every simulator shows the same).
      const index = this.claimName(`${name}_init_index`);
      this.localparams.push(`${INDENT}integer ${index}; // ${memory.site}`);
      lines.push(
        "`ifdef YOSYS",
        `${INDENT}${INDENT}${index} = ${memory.depth};`,
        "`else",
        `${INDENT}${INDENT}for (${index} = 0; ${index} < ${memory.depth}; ${index} = ${index} + 1) ${name}[${index}] = ${this.constant(0n, memory.width, false)};`,
        "`endif",
      );
    }
    memory.init.forEach((word, address) => {
      lines.push(`${INDENT}${INDENT}${name}[${address}] = ${this.constant(word, memory.width, false)};`);
    });
    lines.push(`${INDENT}end`, "");
    // Only a depth that is not a power of two leaves addresses past the end: writes there are
    // dropped and reads there return 0 (hdl/README.md, Memories).
    const inRange = (addr: Signal) =>
      memory.hasAddressesPastDepth ? ` && (${this.nameOf(addr)} < ${this.constant(BigInt(memory.depth), memory.addressWidth, false)})` : "";
    for (const port of memory.writePorts) {
      lines.push(
        `${INDENT}// ${port.site}`,
        `${INDENT}always @(posedge clk) begin`,
        `${INDENT}${INDENT}if (${this.nameOf(port.en)}${inRange(port.addr)}) begin`,
        `${INDENT.repeat(3)}${name}[${this.nameOf(port.addr)}] <= ${this.nameOf(port.data)};`,
        `${INDENT}${INDENT}end`,
        `${INDENT}end`,
        "",
      );
    }
    for (const port of memory.readPorts) {
      const word = memory.hasAddressesPastDepth
        ? `(${this.nameOf(port.addr)} < ${this.constant(BigInt(memory.depth), memory.addressWidth, false)}) ? ${name}[${this.nameOf(port.addr)}] : ${this.constant(0n, memory.width, false)}`
        : `${name}[${this.nameOf(port.addr)}]`;
      lines.push(
        `${INDENT}// ${port.site}`,
        `${INDENT}always @(posedge clk) begin`,
        `${INDENT}${INDENT}if (${this.nameOf(port.en)}) begin`,
        `${INDENT.repeat(3)}${this.nameOf(port.data)} <= ${word};`,
        `${INDENT}${INDENT}end`,
        `${INDENT}end`,
        "",
      );
    }
    return lines;
  }

  private emitInstance(instance: Module["instances"][number]): string[] {
    const child = instance.child;
    const connections: string[] = [];
    if (!isBlackBox(child) && instance.domain !== undefined) {
      // A child in a clock domain of its own (hdl/README.md, Instances).
      if (!this.needsClock.has(child)) {
        throw new HdlError(`instance "${this.instanceNames.get(instance)}" is given a clock, but ${child.name} has no register, memory or clocked child to use it`, instance.site);
      }
      connections.push(`${INDENT}${INDENT}.clk(${this.expr(instance.domain.clock)})`, `${INDENT}${INDENT}.rst(${unparen(this.expr(instance.domain.reset))})`);
    } else if (!isBlackBox(child) && this.needsClock.has(child)) {
      connections.push(`${INDENT}${INDENT}.clk(clk)`, `${INDENT}${INDENT}.rst(rst)`);
    }
    for (const port of instancePorts(child, instance.site)) {
      connections.push(`${INDENT}${INDENT}.${port.name}(${this.nameOf(instance.io[port.name])})`);
    }
    const moduleName = isBlackBox(child) ? child.module : child.name;
    const parameters = isBlackBox(child) ? formatParameters(child) : "";
    return [
      `${INDENT}// ${instance.site}`,
      `${INDENT}${moduleName}${parameters} ${this.instanceNames.get(instance)} (`,
      connections.join(",\n"),
      `${INDENT});`,
      "",
    ];
  }

  private emitFormal(): string[] {
    const formal = prune(
      this.module.groups.map((g) => g.statement),
      (leaf) => leaf.kind !== "assign",
    );
    if (formal.length === 0) return [];
    // The formal properties are emitted last, so a named wire first needed here is read by them
    // alone: it is declared inside the `ifdef FORMAL` block with them.
    const firstFormalTemp = this.temps.length;
    const body = this.emitStatements(formal, 3, "<=");
    for (const temp of this.temps.slice(firstFormalTemp)) temp.formalOnly = true;
    return [
      "`ifdef FORMAL",
      ...this.emitTemps("formal"),
      `${INDENT}always @(posedge clk) begin`,
      `${INDENT}${INDENT}if (!rst) begin`,
      ...body,
      `${INDENT}${INDENT}end`,
      `${INDENT}end`,
      "`endif",
      "",
    ];
  }

  // --- expressions -----------------------------------------------------------------------
  /**
   * Verilog text whose self-determined width and signedness are the value's. The DSL makes every
   * operand exactly as wide as the context Verilog evaluates it in (operands of one operator have
   * equal widths, assignments match, and every extension is an explicit concatenation), so no
   * operator is ever evaluated wider than its DSL width: a dropped carry stays dropped.
   */
  private expr(value: Value): string {
    if (value instanceof Const) return value.label ? value.label() : this.constant(value.bits_, value.width, value.signed);
    if (value instanceof Signal) return this.nameOf(value);
    const named = this.tempOf.get(value);
    if (named !== undefined) return named;
    const shared = this.sharedNames.get(value);
    if (shared !== undefined && !this.tempsInProgress.has(value)) return this.temp(value, shared);
    if (value instanceof Slice) return this.sliceText(value.source, value.hi, value.lo);
    if (value instanceof BitSelect) return this.bitSelectText(value);
    if (value instanceof Concat) return `{${value.parts.map((p) => this.expr(p)).join(", ")}}`;
    if (value instanceof Mux) return `(${this.expr(value.select)} ? ${this.expr(value.whenTrue)} : ${this.expr(value.whenFalse)})`;
    if (value instanceof Operator) return this.operator(value);
    throw new Error(`unknown value node ${value.constructor.name}`);
  }

  private operator(op: Operator): string {
    const [a, b] = op.operands;
    const w = op.width;
    switch (op.kind) {
      case "add":
        return `(${this.extended(a, w)} + ${this.extended(b, w)})`;
      case "sub":
        return `(${this.extended(a, w)} - ${this.extended(b, w)})`;
      case "addWrap":
        return `(${this.extended(a, w)} + ${this.extended(b, w)})`;
      case "subWrap":
        return `(${this.extended(a, w)} - ${this.extended(b, w)})`;
      case "mul":
        return `(${this.extended(a, w)} * ${this.extended(b, w)})`;
      case "neg":
        return `(-${this.extended(a.signed ? a : a.zext(a.width + 1).asSigned(), w)})`;
      case "and":
        return `(${this.bitwiseOperand(a)} & ${this.bitwiseOperand(b)})`;
      case "or":
        return `(${this.bitwiseOperand(a)} | ${this.bitwiseOperand(b)})`;
      case "xor":
        return `(${this.bitwiseOperand(a)} ^ ${this.bitwiseOperand(b)})`;
      case "not":
        return `(~${this.expr(a)})`;
      case "shl": {
        const text = `{${this.expr(a)}, ${op.amount}'d0}`;
        return op.amount === 0 ? this.expr(a) : op.signed ? `$signed(${text})` : text;
      }
      case "shr": {
        if (op.amount === 0) return this.expr(a);
        const text = this.sliceText(a, a.width - 1, op.amount);
        return op.signed ? `$signed(${text})` : text;
      }
      case "shlBy":
        return `(${this.expr(a)} << ${this.expr(b)})`;
      case "shrBy":
        return `(${this.expr(a)} ${op.signed ? ">>>" : ">>"} ${this.expr(b)})`;
      case "eq":
      case "ne":
      case "lt":
      case "le":
      case "gt":
      case "ge": {
        const width = Math.max(a.width, b.width);
        const symbol = { eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=" }[op.kind];
        return `(${this.extended(a, width)} ${symbol} ${this.extended(b, width)})`;
      }
      case "logicAnd":
        return `(${this.truth(a)} && ${this.truth(b)})`;
      case "logicOr":
        return `(${this.truth(a)} || ${this.truth(b)})`;
      case "logicNot":
        return a.width === 1 ? `(!${this.expr(a)})` : `(~|${this.expr(a)})`;
      case "reduceAnd":
        return a.width === 1 ? this.expr(a.asUnsigned()) : `(&${this.expr(a)})`;
      case "reduceOr":
        return a.width === 1 ? this.expr(a.asUnsigned()) : `(|${this.expr(a)})`;
      case "reduceXor":
        return a.width === 1 ? this.expr(a.asUnsigned()) : `(^${this.expr(a)})`;
      case "zext":
        return this.extended(a.asUnsigned(), w);
      case "sext":
        return this.extended(a.asSigned(), w);
      case "asSigned":
        return `$signed(${this.expr(a)})`;
      case "asUnsigned":
        return `$unsigned(${this.expr(a)})`;
      case "repeat":
        return `{${op.amount}{${this.expr(a)}}}`;
    }
  }

  /** `value` widened to `width` bits by its own signedness. */
  private extended(value: Value, width: number): string {
    const extra = width - value.width;
    if (extra === 0) return this.expr(value);
    if (!value.signed) return `{${extra === 1 ? "1'b0" : `{${extra}{1'b0}}`}, ${this.expr(value)}}`;
    const sign = this.sliceText(value, value.width - 1, value.width - 1);
    return `$signed({${extra === 1 ? sign : `{${extra}{${sign}}}`}, ${this.expr(value)}})`;
  }

  private truth(value: Value): string {
    return value.width === 1 ? this.expr(value) : `(|${this.expr(value)})`;
  }

  /** Bits `hi:lo` of any value; values Verilog cannot part-select directly go through a named wire. */
  private sliceText(source: Value, hi: number, lo: number): string {
    if (source instanceof Slice) return this.sliceText(source.source, source.lo + hi, source.lo + lo);
    const name = source instanceof Signal ? this.nameOf(source) : this.temp(source, this.sharedNames.get(source));
    if (source.width === 1) return name;
    return hi === lo ? `${name}[${hi}]` : `${name}[${hi}:${lo}]`;
  }

  /** `v[i]` of a signal, or of a named wire holding the expression (Verilog cannot index one). */
  private bitSelectText(select: BitSelect): string {
    const source = select.source;
    const name = source instanceof Signal ? this.nameOf(source) : this.temp(source, this.sharedNames.get(source));
    return `${name}[${unparen(this.expr(select.index))}]`;
  }

  /**
   * A named wire for an expression: one the design uses several times under a TypeScript name
   * (`const fire = valid.and(ready)` becomes `wire fire`), or one Verilog cannot part-select.
   */
  private temp(value: Value, sharedName: string | undefined): string {
    const existing = this.tempOf.get(value);
    if (existing) return existing;
    this.tempsInProgress.add(value);
    const expression = unparen(this.expr(value));
    this.tempsInProgress.delete(value);
    const fallback = this.currentTarget ? `${this.nameOf(this.currentTarget)}_wide` : "wide";
    const name = this.claimName(sharedName ?? inferName(value.site.location) ?? fallback);
    this.temps.push({ name, width: value.width, signed: value.signed, expression, site: value.site, sliced: sharedName === undefined });
    this.tempOf.set(value, name);
    return name;
  }

  /** Expressions used more than once that the TypeScript bound to a name. */
  private findSharedExpressions(): void {
    const uses = new Map<Value, number>();
    const count = (value: Value): void => {
      if (value instanceof Signal || value instanceof Const) return;
      const n = (uses.get(value) ?? 0) + 1;
      uses.set(value, n);
      if (n > 1) return;
      if (value instanceof Slice) count(value.source);
      else if (value instanceof BitSelect) [value.source, value.index].forEach(count);
      else if (value instanceof Concat) value.parts.forEach(count);
      else if (value instanceof Operator) value.operands.forEach(count);
      else if (value instanceof Mux) [value.select, value.whenTrue, value.whenFalse].forEach(count);
    };
    const walk = (statements: readonly Statement[]): void => {
      for (const s of statements) {
        if (s.kind === "assign") count(s.value);
        else if (s.kind === "if") for (const b of s.branches) (b.condition && count(b.condition), walk(b.body));
        else if (s.kind === "switch") (count(s.subject), s.cases.forEach((c) => walk(c.body)));
        else count(s.condition);
      }
    };
    walk(this.module.groups.map((g) => g.statement));
    for (const [value, n] of uses) {
      if (n < 2) continue;
      const name = inferName(value.site.location);
      if (name) this.sharedNames.set(value, name);
    }
  }

  /**
   * Counts and small values in decimal (`8'd64`); masks (`asMask`) and values of 256 or more in hex,
   * zero-padded to the width and grouped by four digits (`16'h00ff`, `64'hffff_ffff_0000_0000`).
   */
  private constant(bits: bigint, width: number, signed: boolean, asMask = false): string {
    if (width === 1 && !signed) return `1'b${bits}`;
    if (signed) return `${width}'sh${bits.toString(16)}`;
    if (!asMask && bits < 256n) return `${width}'d${bits}`;
    const digits = bits.toString(16).padStart(Math.ceil(width / 4), "0");
    const grouped = digits.length > 4 ? digits.replace(/\B(?=([0-9a-f]{4})+$)/g, "_") : digits;
    return `${width}'h${grouped}`;
  }

  /** An operand of a bitwise operator: a plain constant there is a mask, printed in hex. */
  private bitwiseOperand(value: Value): string {
    if (value instanceof Const && !value.label) return this.constant(value.bits_, value.width, value.signed, true);
    return this.expr(value);
  }
}

/** `(a + b)` without its outer parentheses, where they enclose the whole text. */
function unparen(text: string): string {
  if (!text.startsWith("(") || !text.endsWith(")")) return text;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth--;
    if (depth === 0 && i < text.length - 1) return text;
  }
  return text.slice(1, -1);
}

function range(signal: { width: number; signed: boolean }): string {
  const sign = signal.signed ? "signed " : "";
  return signal.width > 1 ? `${sign}[${signal.width - 1}:0] ` : sign;
}

function formatParameters(def: BlackBoxDef): string {
  const entries = Object.entries(def.parameters ?? {});
  if (entries.length === 0) return "";
  const text = entries.map(([name, value]) => {
    if (typeof value === "number") return `.${name}(${value})`;
    if (typeof value === "string") return `.${name}(${JSON.stringify(value)})`;
    return `.${name}(${value.width}'h${BigInt(value.value).toString(16)})`;
  });
  return ` #(\n${INDENT}${INDENT}${text.join(`,\n${INDENT}${INDENT}`)}\n${INDENT})`;
}

function formatParameterValue(value: ParameterValue): string {
  return typeof value === "string" ? value : String(value);
}

function notSnakeCase(what: string, name: string, site: CallSite): HdlError {
  return new HdlError(`${what} name "${name}" is not snake_case (lower-case words and digits joined by "_"); write "${toSnakeCase(name)}"`, site);
}

function checkedName(what: string, name: string, site: CallSite): string {
  if (!isSnakeCase(name)) throw notSnakeCase(what, name, site);
  return name;
}
