// Test helper: emit a DSL module and run it in Icarus with per-cycle vectors on its ports.
import { type Module, emitDesign } from "../../hdl/index.ts";
import { type PortSpec, type TestbenchResult, runTestbench } from "../../tools/icarus.ts";

export { icarusAvailable } from "../../tools/icarus.ts";

export interface ModuleRun {
  /** Input port name -> value per cycle (the last value holds). */
  inputs?: Record<string, (number | bigint)[]>;
  /** Outputs (or internal signal names) to sample; default every output port. */
  outputs?: string[];
  cycles: number;
  resetCycles?: number;
}

/** Per-cycle samples by name, as bigints (two's complement bit patterns for signed values). */
export function runModule(top: Module, run: ModuleRun): Record<string, bigint[]> {
  const { files } = emitDesign(top);
  const ports = new Map(top.ports.map((p) => [top.displayName(p), p]));
  const inputNames = Object.keys(run.inputs ?? {});
  const inputs: PortSpec[] = inputNames.map((name) => {
    const port = ports.get(name);
    if (!port || port.kind !== "input") throw new Error(`${top.name} has no input ${name}`);
    return { name, width: port.width };
  });
  const outputNames = run.outputs ?? top.ports.filter((p) => p.kind === "output").map((p) => top.displayName(p));
  const outputs = outputNames.map((name) => {
    const signal = ports.get(name) ?? top.signals.find((s) => top.displayName(s) === name);
    if (!signal) throw new Error(`${top.name} has no signal ${name}`);
    return { name, width: signal.width, internal: !ports.has(name) };
  });
  const vectors: bigint[][] = [];
  for (let cycle = 0; cycle < run.cycles; cycle++) {
    vectors.push(inputNames.map((name) => {
      const series = run.inputs![name];
      return BigInt(series[Math.min(cycle, series.length - 1)]);
    }));
  }
  const result: TestbenchResult = runTestbench({
    files,
    top: top.name,
    cycles: run.cycles,
    inputs,
    vectors,
    outputs,
    resetCycles: run.resetCycles ?? 1,
  });
  const byName: Record<string, bigint[]> = {};
  outputNames.forEach((name, i) => (byName[name] = result.samples.map((row) => row[i])));
  return byName;
}

/** Two's complement reading of a `width`-bit pattern. */
export function asSigned(bits: bigint, width: number): bigint {
  const top = 1n << BigInt(width - 1);
  return bits >= top ? bits - (top << 1n) : bits;
}

/** The `width`-bit pattern of any integer. */
export function bitsOf(value: bigint, width: number): bigint {
  const mask = (1n << BigInt(width)) - 1n;
  return value & mask;
}
