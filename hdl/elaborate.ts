// Elaboration: the checks that need the whole design (undriven signals, combinational loops),
// and the list of modules to emit, children before parents.
import { HdlError } from "./errors.ts";
import type { CallSite } from "./location.ts";
import { type BlackBoxDef, isBlackBox, sameBlackBoxPorts } from "./instance.ts";
import type { Module } from "./module.ts";
import type { Statement } from "./statement.ts";
import { type Signal, type Value, forEachSignal } from "./value.ts";

export interface Design {
  top: Module;
  /** Every DSL module of the hierarchy once, children before their parents. */
  modules: Module[];
  /** Things that are legal but probably not meant (unused signals); the CLI prints them. */
  warnings: string[];
  /** Per module: each output port with the input ports that reach it without passing a register. */
  combinationalPaths: Map<Module, Map<string, string[]>>;
  /**
   * Modules built twice (two calls of one builder with the same parameters) -> the one of the same
   * name in `modules`. Both are checked; the Verilog is emitted once, and must be the same for both.
   */
  twins: Map<Module, Module>;
  /** Per module (twins included): every signal something in the module reads. */
  signalsRead: Map<Module, ReadonlySet<Signal>>;
  /**
   * The black boxes the hierarchy places, one per Verilog module name, in name order; their
   * parameter names are the union over every instance (`emitBlackBoxStub` writes a stub from each).
   */
  blackBoxes: BlackBoxDef[];
}

export function elaborate(top: Module): Design {
  const everyModule = collectModules(top);
  const byName = new Map<string, Module>();
  const twins = new Map<Module, Module>();
  for (const module of everyModule) {
    const first = byName.get(module.name);
    if (first) twins.set(module, first);
    else byName.set(module.name, module);
  }
  const modules = everyModule.filter((module) => !twins.has(module));
  const warnings: string[] = [];
  const combPaths = new Map<Module, Map<Signal, Set<Signal>>>();
  const readSets = new Map<Module, ReadonlySet<Signal>>();
  for (const module of everyModule) {
    const reads = signalsRead(module);
    readSets.set(module, new Set(reads.keys()));
    checkDriven(module, reads);
    combPaths.set(module, checkCombLoops(module, combPaths));
    warnings.push(...unusedWarnings(module, reads));
  }
  const combinationalPaths = new Map<Module, Map<string, string[]>>();
  for (const [module, paths] of combPaths) {
    const named = new Map<string, string[]>();
    for (const [output, inputs] of paths) named.set(module.displayName(output), [...inputs].map((i) => module.displayName(i)));
    combinationalPaths.set(module, named);
  }
  return { top, modules, warnings, combinationalPaths, twins, signalsRead: readSets, blackBoxes: collectBlackBoxes(modules) };
}

/** One definition per black-box module name; two instances of one name must agree on every port. */
function collectBlackBoxes(modules: readonly Module[]): BlackBoxDef[] {
  const byName = new Map<string, { def: BlackBoxDef; site: CallSite }>();
  for (const module of modules) {
    for (const instance of module.instances) {
      const child = instance.child;
      if (!isBlackBox(child)) continue;
      const earlier = byName.get(child.module);
      if (!earlier) {
        byName.set(child.module, { def: { ...child, parameters: { ...child.parameters } }, site: instance.site });
        continue;
      }
      if (!sameBlackBoxPorts(earlier.def, child, instance.site)) {
        throw new HdlError(`two black boxes named ${child.module} have different ports (the other is placed at ${earlier.site})`, instance.site);
      }
      for (const [name, value] of Object.entries(child.parameters ?? {})) if (!(name in earlier.def.parameters!)) earlier.def.parameters![name] = value;
    }
  }
  return [...byName.values()].map((b) => b.def).sort((a, b) => (a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
}

function collectModules(top: Module): Module[] {
  const order: Module[] = [];
  const state = new Map<Module, "visiting" | "done">();
  const visit = (module: Module, site: CallSite | undefined): void => {
    const seen = state.get(module);
    if (seen === "done") return;
    if (seen === "visiting") throw new HdlError(`module "${module.name}" instantiates itself through its children`, site);
    state.set(module, "visiting");
    for (const instance of module.instances) {
      if (!isBlackBox(instance.child)) visit(instance.child, instance.site);
    }
    state.set(module, "done");
    order.push(module);
  };
  visit(top, undefined);
  return order;
}

/** Every signal something in the module depends on, with one place that reads it. */
function signalsRead(module: Module): Map<Signal, CallSite> {
  const reads = new Map<Signal, CallSite>();
  const note = (value: Value, site: CallSite) => forEachSignal(value, (s) => reads.has(s) || reads.set(s, site));
  const walk = (statements: readonly Statement[]): void => {
    for (const statement of statements) {
      switch (statement.kind) {
        case "assign":
          note(statement.value, statement.site);
          break;
        case "if":
          for (const branch of statement.branches) {
            if (branch.condition) note(branch.condition, branch.site);
            walk(branch.body);
          }
          break;
        case "switch":
          note(statement.subject, statement.site);
          for (const kase of statement.cases) walk(kase.body);
          break;
        default:
          note(statement.condition, statement.site);
      }
    }
  };
  walk(module.groups.map((g) => g.statement));
  for (const memory of module.memories) {
    for (const port of memory.writePorts) for (const s of [port.addr, port.data, port.en]) reads.set(s, port.site);
    for (const port of memory.readPorts) for (const s of [port.addr, port.en]) reads.set(s, port.site);
  }
  for (const instance of module.instances) {
    for (const signal of Object.values(instance.io)) {
      if (signal.driver?.kind !== "instance") reads.set(signal, instance.site);
    }
    if (instance.domain) for (const value of [instance.domain.clock, instance.domain.reset]) note(value, instance.site);
  }
  return reads;
}

function checkDriven(module: Module, reads: Map<Signal, CallSite>): void {
  for (const signal of module.signals) {
    if (signal.driver || signal.kind === "input") continue;
    const name = module.displayName(signal);
    if (signal.kind === "output") {
      throw new HdlError(`output "${name}" of module "${module.name}" is never driven`, signal.site);
    }
    const reader = reads.get(signal);
    if (reader) {
      throw new HdlError(`signal "${name}" is used (at ${reader}) but nothing drives it`, signal.site);
    }
  }
}

function unusedWarnings(module: Module, reads: Map<Signal, CallSite>): string[] {
  const warnings: string[] = [];
  for (const signal of module.signals) {
    if (signal.kind === "output" || reads.has(signal) || module.unreadInputs.has(signal)) continue;
    if (signal.driver?.kind === "instance") continue;
    const what = signal.kind === "input" ? "input" : "signal";
    warnings.push(`${signal.site}: ${what} "${module.displayName(signal)}" of module "${module.name}" is never used`);
  }
  return warnings;
}

/**
 * Builds the module's combinational dependency graph (a comb signal depends on what its value
 * and the conditions around its assignment read; an instance output on the child's inputs it
 * reaches combinationally), throws on a cycle, and returns output -> inputs reached for parents.
 */
function checkCombLoops(module: Module, childPaths: Map<Module, Map<Signal, Set<Signal>>>): Map<Signal, Set<Signal>> {
  const edges = new Map<Signal, Map<Signal, CallSite>>();
  const addEdge = (from: Signal, to: Signal, site: CallSite) => {
    let targets = edges.get(from);
    if (!targets) edges.set(from, (targets = new Map()));
    if (!targets.has(to)) targets.set(to, site);
  };
  const walk = (statements: readonly Statement[], conditions: readonly Value[]): void => {
    for (const statement of statements) {
      switch (statement.kind) {
        case "assign":
          if (statement.domain === "comb") {
            for (const source of [statement.value, ...conditions]) {
              forEachSignal(source, (s) => addEdge(statement.target, s, statement.site));
            }
          }
          break;
        case "if": {
          const seen: Value[] = [];
          for (const branch of statement.branches) {
            if (branch.condition) seen.push(branch.condition);
            walk(branch.body, [...conditions, ...seen]);
          }
          break;
        }
        case "switch":
          for (const kase of statement.cases) walk(kase.body, [...conditions, statement.subject]);
          break;
        default:
          break;
      }
    }
  };
  walk(module.groups.map((g) => g.statement), []);
  for (const instance of module.instances) {
    if (isBlackBox(instance.child)) continue;
    const paths = childPaths.get(instance.child)!;
    const child = instance.child;
    const ioOf = (port: Signal) => instance.io[child.displayName(port)];
    for (const [output, inputs] of paths) {
      for (const input of inputs) addEdge(ioOf(output), ioOf(input), instance.site);
    }
  }

  const state = new Map<Signal, "active" | "done">();
  const stack: Signal[] = [];
  const visit = (signal: Signal): void => {
    state.set(signal, "active");
    stack.push(signal);
    for (const [next, site] of edges.get(signal) ?? []) {
      const s = state.get(next);
      if (s === "active") {
        const loop = stack.slice(stack.indexOf(next));
        const names = [...loop, next].map((x) => module.displayName(x)).join(" -> ");
        throw new HdlError(`combinational loop in module "${module.name}": ${names}`, site);
      }
      if (!s) visit(next);
    }
    stack.pop();
    state.set(signal, "done");
  };
  for (const signal of module.signals) if (!state.has(signal)) visit(signal);

  const throughPaths = new Map<Signal, Set<Signal>>();
  for (const output of module.ports.filter((p) => p.kind === "output")) {
    const inputs = new Set<Signal>();
    const seen = new Set<Signal>();
    const reach = (signal: Signal): void => {
      if (seen.has(signal)) return;
      seen.add(signal);
      if (signal.kind === "input") inputs.add(signal);
      for (const next of edges.get(signal)?.keys() ?? []) reach(next);
    };
    reach(output);
    if (inputs.size > 0) throughPaths.set(output, inputs);
  }
  return throughPaths;
}
