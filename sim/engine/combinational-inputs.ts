// Which top-level inputs reach each named signal through combinational logic only (no flip-flop
// between them), from the design's Yosys netlist. The verilator engine uses it to skip the settle
// (a model evaluation) when a peek reads a signal that no input written since the last evaluation
// can change: a registered output, a register, logic fed only by registers.
import { type Net, type Netlist, isConst } from "./netlist.ts";

/**
 * Yosys passes for the analysis (synthesizeNetlist): processes become cells, instances are
 * flattened; no optimisation (every named wire stays, and the analysis needs no more). A cell type
 * not known as a flip-flop counts as logic (a latch, a clocked memory read), which only adds
 * dependencies: a peek then evaluates when it need not, never the other way round.
 */
export const DEPENDENCY_PASSES: readonly string[] = ["proc", "flatten"];

/**
 * For each name in `names`: the input ports (by name) whose value reaches it combinationally, an
 * input port itself included (a model may keep copies of an input inside instances that only an
 * evaluation updates); `null` when the netlist has no signal of that name (the caller must assume
 * every input). An asynchronous memory read depends on its address: a write lands at the edge.
 */
export function combinationalInputs(netlist: Netlist, names: readonly string[]): (string[] | null)[] {
  const driver = new Map<Net, Netlist["cells"][number]>();
  for (const cell of netlist.cells) for (const net of Object.values(cell.outputs)) driver.set(net, cell);
  const inputName = new Map<Net, string>([...netlist.inputs].map(([name, net]) => [net, name]));
  const all = [...netlist.inputs.keys()];
  const memo = new Map<Net, readonly string[]>();
  const visiting = new Set<Net>();
  const inputsOf = (net: Net): readonly string[] => {
    const known = memo.get(net);
    if (known) return known;
    if (net.kind === "input") return [inputName.get(net)!];
    if (net.kind === "reg") return [];
    // A combinational loop (Verilator may accept what the js engine rejects): every input, to stay exact.
    if (visiting.has(net)) return all;
    const cell = driver.get(net);
    if (!cell) return [];
    visiting.add(net);
    const found = new Set<string>();
    for (const sig of Object.values(cell.inputs)) {
      for (const chunk of sig.chunks) if (!isConst(chunk)) for (const name of inputsOf(chunk.net)) found.add(name);
    }
    visiting.delete(net);
    const result = [...found].sort();
    memo.set(net, result);
    return result;
  };
  const byName = new Map(netlist.signals.map((s) => [s.name, s]));
  return names.map((name) => {
    const signal = byName.get(name);
    if (!signal) return null;
    const found = new Set<string>();
    for (const chunk of signal.sig.chunks) if (!isConst(chunk)) for (const input of inputsOf(chunk.net)) found.add(input);
    return [...found].sort();
  });
}
