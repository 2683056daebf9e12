// Random DSL designs for differential testing. Each design is built twice from the same
// random choices: as DSL values (emitted to Verilog and run by the simulators) and as a
// BigInt reference model of the DSL's documented semantics (hdl/README.md). The
// simulators must agree with each other, and with the reference: a disagreement that
// all three simulators share points at the emitter or at the DSL documentation.
import { C, Module, type Shape, type Value, cat, mux } from "../../hdl/index.ts";
import { emitDesign } from "../../hdl/index.ts";
import { prng } from "./stimulus.ts";
import type { VerilogSource } from "./yosys.ts";

export interface FuzzOptions {
  inputs: number;
  registers: number;
  outputs: number;
  /** Maximum depth of an expression tree. */
  depth: number;
  memory: boolean;
}

export const DEFAULT_FUZZ: FuzzOptions = { inputs: 5, registers: 5, outputs: 10, depth: 4, memory: true };

/** A node built both ways: a DSL value and an evaluator over the reference state. */
interface Node {
  shape: Shape;
  dsl: Value;
  ev: () => bigint;
  /** Human-readable form, for reports. */
  text: string;
}

export interface FuzzDesign {
  top: string;
  sources: VerilogSource[];
  reference: ReferenceModel;
  /** The output expressions, for reports. */
  describe(): string;
}

const MAX_WIDTH = 140;

const mask = (w: number) => (1n << BigInt(w)) - 1n;
const wrap = (v: bigint, w: number) => v & mask(w);
/** The number a bit pattern stands for in a shape. */
const num = (v: bigint, s: Shape) => (s.signed && v >> BigInt(s.width - 1) !== 0n ? v - (1n << BigInt(s.width)) : v);

/** The cycle-by-cycle meaning of a fuzz design, straight from the DSL's documented rules. */
export class ReferenceModel {
  readonly values = new Map<string, bigint>();
  readonly inputs: { name: string; shape: Shape }[] = [];
  readonly outputs: { name: string; node: Node }[] = [];
  readonly registers: { name: string; shape: Shape; next: () => bigint; reset: bigint }[] = [];
  memory: {
    words: bigint[];
    write: { addr: Node; data: Node; en: Node };
    read: { addr: Node; en: Node; data: string };
  } | null = null;

  poke(name: string, value: bigint): void {
    this.values.set(name, value);
  }

  peek(name: string): bigint {
    const out = this.outputs.find((o) => o.name === name);
    return out ? out.node.ev() : this.values.get(name)!;
  }

  /** One rising edge: every register and the memory from the values before the edge. */
  step(): void {
    const rst = this.values.get("rst") === 1n;
    const next = this.registers.map((r) => (rst ? r.reset : r.next()));
    const mem = this.memory;
    let readWord: bigint | null = null;
    let write: [number, bigint] | null = null;
    if (mem) {
      // Past the depth (not a power of two): a read returns 0, a write is dropped.
      if (mem.read.en.ev() === 1n) readWord = mem.words[Number(mem.read.addr.ev())] ?? 0n;
      const writeAddress = Number(mem.write.addr.ev());
      if (mem.write.en.ev() === 1n && writeAddress < mem.words.length) write = [writeAddress, mem.write.data.ev()];
    }
    this.registers.forEach((r, i) => this.values.set(r.name, next[i]));
    if (mem && readWord !== null) this.values.set(mem.read.data, readWord);
    if (mem && write) mem.words[write[0]] = write[1];
  }
}

export function randomDesign(seed: number, options: FuzzOptions = DEFAULT_FUZZ): FuzzDesign {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rand() % xs.length];
  const chance = (p: number) => rand() / 4294967296 < p;
  const randomWidth = () => pick([1, 1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 31, 32, 33, 40, 63, 64, 65, 96, 128]);
  const randomShape = (): Shape => ({ width: randomWidth(), signed: chance(0.4) });
  const randomBits = (w: number) => {
    let v = 0n;
    for (let i = 0; i < w; i += 32) v = (v << 32n) | BigInt(rand());
    const style = rand() % 6;
    if (style === 0) return 0n;
    if (style === 1) return mask(w);
    if (style === 2) return 1n << BigInt(w - 1);
    return wrap(v, w);
  };

  const top = `fuzz_${seed.toString(16)}`;
  const m = new Module(top);
  const ref = new ReferenceModel();
  const leaves: Node[] = [];
  const leafOf = (name: string, dsl: Value): Node => ({ shape: { width: dsl.width, signed: dsl.signed }, dsl, ev: () => ref.values.get(name)!, text: name });

  for (let i = 0; i < options.inputs; i++) {
    const shape = randomShape();
    const name = `in_${i}`;
    leaves.push(leafOf(name, m.input(shape, { name })));
    ref.inputs.push({ name, shape });
  }
  const registers = Array.from({ length: options.registers }, (_, i) => {
    const shape = randomShape();
    const name = `r_${i}`;
    const reset = chance(0.5) ? 0n : randomBits(shape.width);
    const signal = m.signal(shape, { name, reset: num(reset, shape) });
    ref.values.set(name, reset); // a register powers up at its reset value
    leaves.push(leafOf(name, signal));
    return { name, shape, signal, reset };
  });

  // --- expression trees --------------------------------------------------------------------

  const constant = (shape: Shape): Node => {
    const bits = randomBits(shape.width);
    return { shape, dsl: C(num(bits, shape), shape), ev: () => bits, text: `${bits}` };
  };

  /** The DSL's explicit conversions, to reach a given shape. */
  const fit = (n: Node, shape: Shape): Node => {
    let out = n;
    if (out.shape.width > shape.width) out = unary(out, `trunc(${shape.width})`, (v) => v.trunc(shape.width), { width: shape.width, signed: out.shape.signed }, (a) => wrap(a, shape.width));
    else if (out.shape.width < shape.width) out = extendTo(out, shape.width);
    if (out.shape.signed !== shape.signed) {
      out = shape.signed
        ? unary(out, "asSigned()", (v) => v.asSigned(), shape, (a) => a)
        : unary(out, "asUnsigned()", (v) => v.asUnsigned(), shape, (a) => a);
    }
    return out;
  };

  const extendTo = (n: Node, width: number): Node => {
    const s = n.shape;
    return s.signed
      ? unary(n, `sext(${width})`, (v) => v.sext(width), { width, signed: true }, (a) => wrap(num(a, s), width))
      : unary(n, `zext(${width})`, (v) => v.zext(width), { width, signed: false }, (a) => a);
  };

  function unary(a: Node, text: string, build: (v: Value) => Value, shape: Shape, ev: (x: bigint) => bigint): Node {
    const dsl = build(a.dsl);
    assertShape(dsl, shape, text);
    return { shape, dsl, ev: () => ev(a.ev()), text: `${a.text}.${text}` };
  }

  function binary(a: Node, b: Node, op: string, build: (x: Value, y: Value) => Value, shape: Shape, ev: (x: bigint, y: bigint) => bigint): Node {
    const dsl = build(a.dsl, b.dsl);
    assertShape(dsl, shape, op);
    return { shape, dsl, ev: () => ev(a.ev(), b.ev()), text: `${a.text}.${op}(${b.text})` };
  }

  const gen = (depth: number): Node => {
    if (depth <= 0 || chance(0.15)) return chance(0.8) || leaves.length === 0 ? pick(leaves) : constant(randomShape());
    const a = gen(depth - 1);
    const sa = a.shape;
    const w = sa.width;
    switch (rand() % 22) {
      case 0: case 1: { // add, sub: max + 1 bits
        const b = fit(gen(depth - 1), { width: gen1Width(), signed: sa.signed });
        const rw = Math.max(w, b.shape.width) + 1;
        if (rw > MAX_WIDTH) return a;
        const sub = chance(0.5);
        return binary(a, b, sub ? "sub" : "add", (x, y) => (sub ? x.sub(y) : x.add(y)), { width: rw, signed: sa.signed },
          (x, y) => wrap(sub ? num(x, sa) - num(y, b.shape) : num(x, sa) + num(y, b.shape), rw));
      }
      case 2: { // addWrap, subWrap
        const b = fit(gen(depth - 1), { width: gen1Width(), signed: sa.signed });
        const rw = Math.max(w, b.shape.width);
        const sub = chance(0.5);
        return binary(a, b, sub ? "subWrap" : "addWrap", (x, y) => (sub ? x.subWrap(y) : x.addWrap(y)), { width: rw, signed: sa.signed },
          (x, y) => wrap(sub ? num(x, sa) - num(y, b.shape) : num(x, sa) + num(y, b.shape), rw));
      }
      case 3: { // mul: wa + wb bits
        const b = fit(gen(depth - 1), { width: 1 + (rand() % 40), signed: sa.signed });
        const rw = w + b.shape.width;
        if (rw > MAX_WIDTH) return a;
        return binary(a, b, "mul", (x, y) => x.mul(y), { width: rw, signed: sa.signed }, (x, y) => wrap(num(x, sa) * num(y, b.shape), rw));
      }
      case 4: // neg: width + 1, signed
        return unary(a, "neg()", (v) => v.neg(), { width: w + 1, signed: true }, (x) => wrap(-num(x, sa), w + 1));
      case 5: case 6: { // and, or, xor: same shape
        const b = fit(gen(depth - 1), sa);
        const op = pick(["and", "or", "xor"] as const);
        return binary(a, b, op, (x, y) => x[op](y), sa, (x, y) => (op === "and" ? x & y : op === "or" ? x | y : x ^ y));
      }
      case 7:
        return unary(a, "not()", (v) => v.not(), sa, (x) => wrap(~x, w));
      case 8: { // constant shifts
        if (chance(0.5) || w === 1) {
          const k = rand() % 9;
          if (w + k > MAX_WIDTH) return a;
          return unary(a, `shl(${k})`, (v) => v.shl(k), { width: w + k, signed: sa.signed }, (x) => x << BigInt(k));
        }
        const k = rand() % w;
        return unary(a, `shr(${k})`, (v) => v.shr(k), { width: w - k, signed: sa.signed }, (x) => wrap(num(x, sa) >> BigInt(k), w - k));
      }
      case 9: { // shifts by a signal: keep the width
        const s = fit(gen(depth - 2), { width: 1 + (rand() % 8), signed: false });
        if (chance(0.5)) return binary(a, s, "shlBy", (x, y) => x.shlBy(y), sa, (x, y) => wrap(x << y, w));
        return binary(a, s, "shrBy", (x, y) => x.shrBy(y), sa, (x, y) => wrap(num(x, sa) >> y, w));
      }
      case 10: case 11: { // comparisons, operands of any widths, one signedness
        const b = fit(gen(depth - 1), { width: gen1Width(), signed: sa.signed });
        const op = pick(["eq", "ne", "lt", "le", "gt", "ge"] as const);
        const cmp = { eq: (x: bigint, y: bigint) => x === y, ne: (x: bigint, y: bigint) => x !== y, lt: (x: bigint, y: bigint) => x < y, le: (x: bigint, y: bigint) => x <= y, gt: (x: bigint, y: bigint) => x > y, ge: (x: bigint, y: bigint) => x >= y }[op];
        return binary(a, b, op, (x, y) => x[op](y), BIT, (x, y) => (cmp(num(x, sa), num(y, b.shape)) ? 1n : 0n));
      }
      case 12: { // logic operators
        const b = gen(depth - 1);
        const op = pick(["logicAnd", "logicOr", "logicNot"] as const);
        if (op === "logicNot") return unary(a, "logicNot()", (v) => v.logicNot(), BIT, (x) => (x === 0n ? 1n : 0n));
        return binary(a, b, op, (x, y) => x[op](y), BIT, (x, y) => (op === "logicAnd" ? x !== 0n && y !== 0n : x !== 0n || y !== 0n) ? 1n : 0n);
      }
      case 13: { // reductions
        const op = pick(["any", "all", "parity"] as const);
        return unary(a, `${op}()`, (v) => v[op](), BIT, (x) => {
          if (op === "any") return x !== 0n ? 1n : 0n;
          if (op === "all") return x === mask(w) ? 1n : 0n;
          let p = 0n;
          for (let v = x; v !== 0n; v >>= 1n) p ^= v & 1n;
          return p;
        });
      }
      case 14: { // width changes
        const to = 1 + (rand() % MAX_WIDTH);
        if (to < w) return unary(a, `trunc(${to})`, (v) => v.trunc(to), { width: to, signed: sa.signed }, (x) => wrap(x, to));
        if (chance(0.5)) return extendTo(a, to);
        return chance(0.5)
          ? unary(a, `zext(${to})`, (v) => v.zext(to), { width: to, signed: false }, (x) => x)
          : sa.signed
            ? unary(a, `sext(${to})`, (v) => v.sext(to), { width: to, signed: true }, (x) => wrap(num(x, { width: w, signed: true }), to))
            : unary(a, `asSigned().sext(${to})`, (v) => v.asSigned().sext(to), { width: to, signed: true }, (x) => wrap(num(x, { width: w, signed: true }), to));
      }
      case 15: // reinterpretation
        return sa.signed
          ? unary(a, "asUnsigned()", (v) => v.asUnsigned(), { width: w, signed: false }, (x) => x)
          : unary(a, "asSigned()", (v) => v.asSigned(), { width: w, signed: true }, (x) => x);
      case 16: { // bit selection
        const lo = rand() % w;
        const hi = lo + (rand() % (w - lo));
        return unary(a, `bits(${hi}, ${lo})`, (v) => v.bits(hi, lo), { width: hi - lo + 1, signed: false }, (x) => wrap(x >> BigInt(lo), hi - lo + 1));
      }
      case 17: { // repeat
        const n = 1 + (rand() % 4);
        if (n * w > MAX_WIDTH) return a;
        return unary(a, `repeat(${n})`, (v) => v.asUnsigned().repeat(n), { width: n * w, signed: false }, (x) => {
          let r = 0n;
          for (let i = 0; i < n; i++) r = (r << BigInt(w)) | x;
          return r;
        });
      }
      case 18: case 19: { // concatenation, most significant first
        const b = gen(depth - 1);
        if (w + b.shape.width > MAX_WIDTH) return a;
        const bits = (n: Node) => (n.shape.signed ? { dsl: n.dsl.asUnsigned(), text: `${n.text}.asUnsigned()` } : n);
        const [high, low] = [bits(a), bits(b)];
        const dsl = cat(high.dsl, low.dsl);
        const shape = { width: w + b.shape.width, signed: false };
        assertShape(dsl, shape, "cat");
        return { shape, dsl, ev: () => (a.ev() << BigInt(b.shape.width)) | b.ev(), text: `cat(${high.text}, ${low.text})` };
      }
      default: { // mux
        const sel = fit(gen(depth - 2), BIT);
        const f = fit(gen(depth - 1), sa);
        const dsl = mux(sel.dsl, a.dsl, f.dsl);
        assertShape(dsl, sa, "mux");
        return { shape: sa, dsl, ev: () => (sel.ev() === 1n ? a.ev() : f.ev()), text: `mux(${sel.text}, ${a.text}, ${f.text})` };
      }
    }
  };
  const gen1Width = () => (chance(0.5) ? randomWidth() : 1 + (rand() % 70));

  // --- the memory: random words, a write port and a registered read port ----------------------

  if (options.memory) {
    const width = randomWidth();
    const depth = pick([2, 3, 4, 5, 8, 12, 16, 32]);
    // Full, partial or no initial contents: words not given start at 0.
    const given = pick([depth, depth, rand() % depth, 0]);
    const words = Array.from({ length: depth }, (_, a) => (a < given ? randomBits(width) : 0n));
    const mem = m.memory({ width, depth, init: given > 0 ? words.slice(0, given) : undefined, name: "mem" });
    const write = { addr: fit(gen(2), { width: mem.addressWidth, signed: false }), data: fit(gen(3), { width, signed: false }), en: fit(gen(2), BIT) };
    const read = { addr: fit(gen(2), { width: mem.addressWidth, signed: false }), en: fit(gen(2), BIT), data: "mem_rdata" };
    mem.writePort({ addr: write.addr.dsl, data: write.data.dsl, en: write.en.dsl });
    const rp = mem.readPort({ addr: read.addr.dsl, en: read.en.dsl });
    ref.memory = { words: [...words], write, read };
    ref.values.set("mem_rdata", 0n);
    const readData = leafOf("mem_rdata", rp.data);
    leaves.push(readData);
    const out = m.output(width, { name: "out_mem" });
    m.comb(out, rp.data);
    ref.outputs.push({ name: "out_mem", node: readData });
  }

  // --- registers: plain, with an enable (If), or chosen by a Switch --------------------------------

  for (const r of registers) {
    const next = fit(gen(options.depth), r.shape);
    const style = rand() % 3;
    if (style === 0) {
      m.sync(r.signal, next.dsl);
      ref.registers.push({ name: r.name, shape: r.shape, reset: r.reset, next: next.ev });
    } else if (style === 1) {
      const en = fit(gen(2), BIT);
      const other = fit(gen(options.depth - 1), r.shape);
      m.If(en.dsl, () => m.sync(r.signal, next.dsl)).Else(() => m.sync(r.signal, other.dsl));
      ref.registers.push({ name: r.name, shape: r.shape, reset: r.reset, next: () => (en.ev() === 1n ? next.ev() : other.ev()) });
    } else {
      const selWidth = 2;
      const sel = fit(gen(2), { width: selWidth, signed: false });
      const choices = [next, fit(gen(options.depth - 1), r.shape)];
      // Value 3 has no case: the register keeps its value.
      m.Switch(sel.dsl, (s) => {
        s.Case(0, () => m.sync(r.signal, choices[0].dsl));
        s.Case([1, 2], () => m.sync(r.signal, choices[1].dsl));
      });
      ref.registers.push({
        name: r.name, shape: r.shape, reset: r.reset,
        next: () => {
          const v = sel.ev();
          return v === 0n ? choices[0].ev() : v === 1n || v === 2n ? choices[1].ev() : ref.values.get(r.name)!;
        },
      });
    }
  }

  // --- outputs -----------------------------------------------------------------------------------

  for (let i = 0; i < options.outputs; i++) {
    const shape = randomShape();
    const name = `out_${i}`;
    const node = fit(gen(options.depth), shape);
    const out = m.output(shape, { name });
    m.comb(out, node.dsl);
    ref.outputs.push({ name, node });
  }

  const { files } = emitDesign(m);
  return {
    top,
    sources: files.map((f) => ({ path: `fuzz/${f.fileName}`, text: f.text })),
    reference: ref,
    describe: () => ref.outputs.map((o) => `${o.name} = ${o.node.text}`).join("\n"),
  };
}

const BIT: Shape = { width: 1, signed: false };

function assertShape(v: Value, s: Shape, what: string): void {
  if (v.width !== s.width || v.signed !== s.signed) {
    throw new Error(`fuzz: ${what} built a ${v.width}-bit ${v.signed ? "signed" : "unsigned"} value; the reference expected ${s.width}-bit ${s.signed ? "signed" : "unsigned"} (hdl/README.md disagrees with hdl/)`);
  }
}
