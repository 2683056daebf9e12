// How long the DSL takes to build, elaborate and emit a design of `statements` statements: a
// bank of counters, muxes and comparisons with If/Switch nesting, every signal named from
// TypeScript (the source analysis is part of the cost).
import { C, Module, emitDesign, mux } from "../../hdl/index.ts";

export interface HdlBenchResult {
  statements: number;
  buildMs: number;
  emitMs: number;
  verilogBytes: number;
}

function syntheticDesign(statements: number): Module {
  const m = new Module("bench_statements");
  const enable = m.input(1);
  const data = m.input(32);
  const mode = m.input(2);
  const result = m.output(32);
  let previous = data;
  let count = 0;
  while (count < statements) {
    const accumulator = m.signal(32);
    const selected = m.signal(32);
    m.If(enable, () => m.sync(accumulator, accumulator.addWrap(previous))).Else(() => m.sync(accumulator, previous.xor(C(0x5a5a5a5a, 32))));
    m.Switch(mode, (s) => {
      s.Case(0, () => m.comb(selected, accumulator));
      s.Case(1, () => m.comb(selected, mux(accumulator.lt(previous), previous, accumulator)));
      s.Default(() => m.comb(selected, accumulator.shr(1).zext(32)));
    });
    previous = selected;
    count += 6;
  }
  m.comb(result, previous);
  return m;
}

export function benchHdlEmit(statements = 10_000): HdlBenchResult {
  const t0 = performance.now();
  const design = syntheticDesign(statements);
  const t1 = performance.now();
  const { files } = emitDesign(design);
  const t2 = performance.now();
  return { statements, buildMs: t1 - t0, emitMs: t2 - t1, verilogBytes: files.reduce((s, f) => s + f.text.length, 0) };
}
