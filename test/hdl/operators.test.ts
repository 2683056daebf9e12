// Every operator's documented result (width, signedness, value) checked on the emitted Verilog
// running in Icarus, against a reference written from the semantics in hdl/README.md.
import { describe, expect, it } from "vitest";
import { C, HdlError, Module, type Value, cat, emitDesign, mux, signed, toSnakeCase, unsigned } from "../../hdl/index.ts";
import { seededRandom } from "../../sim/random.ts";
import { settleEverywhere, type Vector } from "../../sim/testbench/run-everywhere.ts";
import { asSigned, bitsOf, icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";
import { lintFiles } from "../../tools/lint.ts";

interface Case {
  name: string;
  build: (a: Value, b: Value, s: Value) => Value;
  /** Reference on the operands' numeric values (signed or unsigned per shape); returns the result value. */
  reference: (a: bigint, b: bigint, s: bigint) => bigint;
  width: number;
  resultSigned: boolean;
}

function randomBits(width: number, random: () => number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i += 16) v = (v << 16n) | BigInt(Math.floor(random() * 65536));
  return bitsOf(v, width);
}

/** Builds one module computing every case from inputs a, b (shape given) and a 3-bit shift s. */
function checkCases(label: string, wa: number, wb: number, isSigned: boolean, cases: Case[], vectors = 48): void {
  it.skipIf(!icarusAvailable())(`${label}: ${cases.map((c) => c.name).join(", ")}`, () => {
    const m = new Module(`ops_${label}`);
    const a = m.input(isSigned ? signed(wa) : unsigned(wa), { name: "a" });
    const b = m.input(isSigned ? signed(wb) : unsigned(wb), { name: "b" });
    const s = m.input(3, { name: "s" });
    for (const c of cases) {
      const value = c.build(a, b, s);
      expect({ op: c.name, width: value.width, signed: value.signed }).toEqual({ op: c.name, width: c.width, signed: c.resultSigned });
      const out = m.output(value.shape, { name: `out_${toSnakeCase(c.name)}` });
      m.comb(out, value);
    }
    const random = seededRandom(wa * 131 + wb * 7 + (isSigned ? 1 : 0));
    const av: bigint[] = [];
    const bv: bigint[] = [];
    const sv: bigint[] = [];
    const corner = (w: number) => [0n, 1n, bitsOf(-1n, w), 1n << BigInt(w - 1), (1n << BigInt(w - 1)) - 1n];
    for (const x of corner(wa)) for (const y of corner(wb)) (av.push(x), bv.push(y), sv.push(BigInt(av.length % 8)));
    for (let i = 0; i < vectors; i++) (av.push(randomBits(wa, random)), bv.push(randomBits(wb, random)), sv.push(randomBits(3, random)));
    const result = runModule(m, { inputs: { a: av, b: bv, s: sv }, cycles: av.length });
    for (const c of cases) {
      const got = result[`out_${toSnakeCase(c.name)}`];
      for (let i = 0; i < av.length; i++) {
        const x = isSigned ? asSigned(av[i], wa) : av[i];
        const y = isSigned ? asSigned(bv[i], wb) : bv[i];
        const expected = bitsOf(c.reference(x, y, sv[i]), c.width);
        if (got[i] !== expected) {
          throw new Error(`${c.name}(a=${x}, b=${y}, s=${sv[i]}) = ${got[i]} in Verilog, expected ${expected} (${c.width}-bit)`);
        }
      }
    }
  });
}

const mask = (w: number) => (1n << BigInt(w)) - 1n;
const wrapU = (v: bigint, w: number) => v & mask(w);
const wrapS = (v: bigint, w: number) => asSigned(v & mask(w), w);

describe("arithmetic, unsigned 8 x 5 bits", () => {
  checkCases("arith_u", 8, 5, false, [
    { name: "add", build: (a, b) => a.add(b), reference: (a, b) => a + b, width: 9, resultSigned: false },
    { name: "sub", build: (a, b) => a.sub(b), reference: (a, b) => wrapU(a - b, 9), width: 9, resultSigned: false },
    { name: "addWrap", build: (a, b) => a.addWrap(b), reference: (a, b) => wrapU(a + b, 8), width: 8, resultSigned: false },
    { name: "subWrap", build: (a, b) => a.subWrap(b), reference: (a, b) => wrapU(a - b, 8), width: 8, resultSigned: false },
    { name: "mul", build: (a, b) => a.mul(b), reference: (a, b) => a * b, width: 13, resultSigned: false },
    { name: "neg", build: (a) => a.neg(), reference: (a) => -a, width: 9, resultSigned: true },
    // A wrapping sum compared with a wider value: the carry must stay dropped.
    { name: "wrapInWide", build: (a, b) => a.addWrap(b).zext(10).eq(a.add(b).zext(10)), reference: (a, b) => (a + b < 256n ? 1n : 0n), width: 1, resultSigned: false },
    { name: "notInWide", build: (a) => a.not().zext(12), reference: (a) => wrapU(~a, 8), width: 12, resultSigned: false },
    { name: "subInWide", build: (a, b) => a.sub(b).zext(12), reference: (a, b) => wrapU(a - b, 9), width: 12, resultSigned: false },
  ]);
});

describe("arithmetic, signed 7 x 4 bits", () => {
  checkCases("arith_s", 7, 4, true, [
    { name: "add", build: (a, b) => a.add(b), reference: (a, b) => a + b, width: 8, resultSigned: true },
    { name: "sub", build: (a, b) => a.sub(b), reference: (a, b) => a - b, width: 8, resultSigned: true },
    { name: "addWrap", build: (a, b) => a.addWrap(b), reference: (a, b) => wrapS(a + b, 7), width: 7, resultSigned: true },
    { name: "subWrap", build: (a, b) => a.subWrap(b), reference: (a, b) => wrapS(a - b, 7), width: 7, resultSigned: true },
    { name: "mul", build: (a, b) => a.mul(b), reference: (a, b) => a * b, width: 11, resultSigned: true },
    { name: "neg", build: (a) => a.neg(), reference: (a) => -a, width: 8, resultSigned: true },
    { name: "sumInWide", build: (a, b) => a.addWrap(b).sext(12), reference: (a, b) => wrapS(a + b, 7), width: 12, resultSigned: true },
  ]);
});

describe("comparisons of different widths", () => {
  const compares = (tag: string): Case[] => [
    { name: `eq${tag}`, build: (a, b) => a.eq(b), reference: (a, b) => (a === b ? 1n : 0n), width: 1, resultSigned: false },
    { name: `ne${tag}`, build: (a, b) => a.ne(b), reference: (a, b) => (a !== b ? 1n : 0n), width: 1, resultSigned: false },
    { name: `lt${tag}`, build: (a, b) => a.lt(b), reference: (a, b) => (a < b ? 1n : 0n), width: 1, resultSigned: false },
    { name: `le${tag}`, build: (a, b) => a.le(b), reference: (a, b) => (a <= b ? 1n : 0n), width: 1, resultSigned: false },
    { name: `gt${tag}`, build: (a, b) => a.gt(b), reference: (a, b) => (a > b ? 1n : 0n), width: 1, resultSigned: false },
    { name: `ge${tag}`, build: (a, b) => a.ge(b), reference: (a, b) => (a >= b ? 1n : 0n), width: 1, resultSigned: false },
  ];
  checkCases("cmp_u", 6, 3, false, compares(""));
  checkCases("cmp_s", 6, 3, true, compares(""));
});

describe("bitwise, shifts, reductions, logic", () => {
  checkCases("bits_u", 8, 8, false, [
    { name: "and", build: (a, b) => a.and(b), reference: (a, b) => a & b, width: 8, resultSigned: false },
    { name: "or", build: (a, b) => a.or(b), reference: (a, b) => a | b, width: 8, resultSigned: false },
    { name: "xor", build: (a, b) => a.xor(b), reference: (a, b) => a ^ b, width: 8, resultSigned: false },
    { name: "not", build: (a) => a.not(), reference: (a) => wrapU(~a, 8), width: 8, resultSigned: false },
    { name: "shl3", build: (a) => a.shl(3), reference: (a) => a << 3n, width: 11, resultSigned: false },
    { name: "shr3", build: (a) => a.shr(3), reference: (a) => a >> 3n, width: 5, resultSigned: false },
    { name: "shlBy", build: (a, _b, s) => a.shlBy(s), reference: (a, _b, s) => wrapU(a << s, 8), width: 8, resultSigned: false },
    { name: "shrBy", build: (a, _b, s) => a.shrBy(s), reference: (a, _b, s) => a >> s, width: 8, resultSigned: false },
    { name: "shlByInWide", build: (a, _b, s) => a.shlBy(s).zext(16), reference: (a, _b, s) => wrapU(a << s, 8), width: 16, resultSigned: false },
    { name: "any", build: (a) => a.any(), reference: (a) => (a !== 0n ? 1n : 0n), width: 1, resultSigned: false },
    { name: "all", build: (a) => a.all(), reference: (a) => (a === 255n ? 1n : 0n), width: 1, resultSigned: false },
    { name: "parity", build: (a) => a.parity(), reference: (a) => BigInt([...a.toString(2)].filter((c) => c === "1").length % 2), width: 1, resultSigned: false },
    { name: "logicAnd", build: (a, b) => a.logicAnd(b), reference: (a, b) => (a !== 0n && b !== 0n ? 1n : 0n), width: 1, resultSigned: false },
    { name: "logicOr", build: (a, b) => a.logicOr(b), reference: (a, b) => (a !== 0n || b !== 0n ? 1n : 0n), width: 1, resultSigned: false },
    { name: "logicNot", build: (a) => a.logicNot(), reference: (a) => (a === 0n ? 1n : 0n), width: 1, resultSigned: false },
  ]);
  checkCases("bits_s", 8, 8, true, [
    { name: "shr2", build: (a) => a.shr(2), reference: (a) => a >> 2n, width: 6, resultSigned: true },
    { name: "shrBy", build: (a, _b, s) => a.shrBy(s), reference: (a, _b, s) => a >> s, width: 8, resultSigned: true },
    { name: "shl2", build: (a) => a.shl(2), reference: (a) => a << 2n, width: 10, resultSigned: true },
    { name: "not", build: (a) => a.not(), reference: (a) => ~a, width: 8, resultSigned: true },
  ]);
});

describe("width changes, selection, mux, concatenation", () => {
  checkCases("shape_s", 6, 6, true, [
    { name: "sext", build: (a) => a.sext(10), reference: (a) => a, width: 10, resultSigned: true },
    { name: "zext", build: (a) => a.zext(10), reference: (a) => wrapU(a, 6), width: 10, resultSigned: false },
    { name: "trunc", build: (a) => a.trunc(4), reference: (a) => wrapS(a, 4), width: 4, resultSigned: true },
    { name: "truncOfSum", build: (a, b) => a.add(b).trunc(5), reference: (a, b) => wrapS(a + b, 5), width: 5, resultSigned: true },
    { name: "bits", build: (a) => a.bits(4, 1), reference: (a) => (wrapU(a, 6) >> 1n) & 15n, width: 4, resultSigned: false },
    { name: "bitOfSum", build: (a, b) => a.add(b).msb(), reference: (a, b) => (a + b < 0n ? 1n : 0n), width: 1, resultSigned: false },
    { name: "asUnsigned", build: (a) => a.asUnsigned(), reference: (a) => wrapU(a, 6), width: 6, resultSigned: false },
    { name: "mux", build: (a, b, s) => mux(s.bit(0), a, b), reference: (a, b, s) => ((s & 1n) === 1n ? a : b), width: 6, resultSigned: true },
    { name: "muxConst", build: (a, _b, s) => mux(s.bit(1), a, -3), reference: (a, _b, s) => ((s & 2n) !== 0n ? a : -3n), width: 6, resultSigned: true },
    { name: "cat", build: (a, b) => cat(a.asUnsigned(), C(2, 2), b.asUnsigned()), reference: (a, b) => (wrapU(a, 6) << 8n) | (2n << 6n) | wrapU(b, 6), width: 14, resultSigned: false },
    { name: "repeat", build: (a) => a.bits(1, 0).repeat(3), reference: (a) => { const two = wrapU(a, 2); return (two << 4n) | (two << 2n) | two; }, width: 6, resultSigned: false },
    { name: "signedConst", build: (a) => a.addWrap(C(-32, signed(6))), reference: (a) => wrapS(a - 32n, 6), width: 6, resultSigned: true },
  ]);
});

describe("wide values (64 and 96 bits)", () => {
  checkCases("wide_u", 64, 96, false, [
    { name: "add", build: (a, b) => a.add(b), reference: (a, b) => a + b, width: 97, resultSigned: false },
    { name: "subWrap", build: (a, b) => a.zext(96).subWrap(b), reference: (a, b) => wrapU(a - b, 96), width: 96, resultSigned: false },
    { name: "lt", build: (a, b) => a.lt(b), reference: (a, b) => (a < b ? 1n : 0n), width: 1, resultSigned: false },
    { name: "mul", build: (a) => a.bits(31, 0).mul(a.bits(63, 32)), reference: (a) => (a & mask(32)) * (a >> 32n), width: 64, resultSigned: false },
  ]);
});

describe("dynamic bit selection: bitAt, sliceAt", () => {
  // Every (value, index) pair of small widths, so each index past the top is exercised; a position
  // past the top bit reads 0 on every simulator (Verilog alone would give x).
  interface DynamicCase {
    name: string;
    build: (v: Value, i: Value) => Value;
    width: number;
    reference: (v: bigint, i: bigint) => bigint;
  }
  const bitOf = (v: bigint, i: bigint, w: number) => (i < BigInt(w) ? (v >> i) & 1n : 0n);
  const sliceOf = (v: bigint, i: bigint, w: number, n: number) => {
    let r = 0n;
    for (let j = 0; j < n; j++) r |= bitOf(v, i + BigInt(j), w) << BigInt(j);
    return r;
  };

  function dynamicModule(name: string, vShape: Parameters<Module["input"]>[0], iWidth: number, cases: DynamicCase[]): Module {
    const m = new Module(name);
    const v = m.input(vShape, { name: "v" });
    const i = m.input(iWidth, { name: "i" });
    for (const c of cases) {
      const value = c.build(v, i);
      expect({ op: c.name, width: value.width, signed: value.signed }).toEqual({ op: c.name, width: c.width, signed: false });
      m.comb(m.output(value.width, { name: `out_${toSnakeCase(c.name)}` }), value);
    }
    return m;
  }

  async function check(name: string, vShape: Parameters<Module["input"]>[0], iWidth: number, cases: DynamicCase[]): Promise<void> {
    const m = dynamicModule(name, vShape, iWidth, cases);
    expect((await lintFiles(emitDesign(m).files)).findings).toEqual([]);
    const vWidth = typeof vShape === "number" ? vShape : vShape.width;
    const vectors: Vector[] = [];
    const random = seededRandom(vWidth * 17 + iWidth);
    for (let index = 0; index < 2 ** iWidth; index++) {
      for (const v of [0n, bitsOf(-1n, vWidth), randomBits(vWidth, random), randomBits(vWidth, random)]) vectors.push({ v, i: index });
    }
    const results = await settleEverywhere(m, vectors);
    expect([...results.keys()]).toContain("js");
    for (const [simulator, got] of results) {
      for (const c of cases) {
        vectors.forEach((vector, k) => {
          const want = c.reference(BigInt(vector.v), BigInt(vector.i));
          expect(got[`out_${toSnakeCase(c.name)}`][k], `${simulator}: ${c.name}(v=${vector.v}, i=${vector.i})`).toBe(want);
        });
      }
    }
  }

  it("an 8-bit value: index of 3 bits (exact), 2 bits (narrow), 4 bits (past the top)", async () => {
    await check("bit_at_u8", 8, 4, [
      { name: "exact", build: (v, i) => v.bitAt(i.bits(2, 0)), width: 1, reference: (v, i) => bitOf(v, i & 7n, 8) },
      { name: "narrow", build: (v, i) => v.bitAt(i.bits(1, 0)), width: 1, reference: (v, i) => bitOf(v, i & 3n, 8) },
      { name: "wide", build: (v, i) => v.bitAt(i), width: 1, reference: (v, i) => bitOf(v, i, 8) },
      { name: "ofExpression", build: (v, i) => v.not().bitAt(i.addWrap(1)), width: 1, reference: (v, i) => bitOf(~v & 0xffn, (i + 1n) & 15n, 8) },
      { name: "slice3", build: (v, i) => v.sliceAt(i, 3), width: 3, reference: (v, i) => sliceOf(v, i, 8, 3) },
    ]);
  });

  it("a 6-bit signed value with a 3-bit index (positions 6 and 7 past the top), and a 1-bit value", async () => {
    await check("bit_at_s6", signed(6), 3, [
      { name: "bit", build: (v, i) => v.bitAt(i), width: 1, reference: (v, i) => bitOf(v, i, 6) },
      { name: "oneBit", build: (v, i) => v.msb().bitAt(i), width: 1, reference: (v, i) => (i === 0n ? bitOf(v, 5n, 6) : 0n) },
      { name: "slice", build: (v, i) => v.sliceAt(i, 6), width: 6, reference: (v, i) => sliceOf(v, i, 6, 6) },
    ]);
  });

  it("a constant index is bit(i), with its range check naming the line", () => {
    const m = new Module("bit_at_const");
    const v = m.input(8);
    expect(v.bitAt(3)).toMatchObject({ width: 1, signed: false, hi: 3, lo: 3 });
    expect(v.bitAt(C(5, 3))).toMatchObject({ hi: 5, lo: 5 });
    expect(() => v.bitAt(8)).toThrow(HdlError);
    expect(() => v.bitAt(8)).toThrow(/^test\/hdl\/operators\.test\.ts:\d+: bits\(8, 8\) out of range/);
    expect(() => v.bitAt(m.input(signed(3)))).toThrow(/^test\/hdl\/operators\.test\.ts:\d+: bitAt: the index must be unsigned/);
  });

  it("emits v[i] for a signal, through a named wire for an expression, and guards positions past the top", () => {
    const m = new Module("bit_at_text");
    const v = m.input(8, { name: "v" });
    const w = m.input(6, { name: "w" });
    const i = m.input(3, { name: "i" });
    m.comb(m.output(1, { name: "direct" }), v.bitAt(i));
    m.comb(m.output(1, { name: "guarded" }), w.bitAt(i));
    m.comb(m.output(1, { name: "through_wire" }), v.not().bitAt(i));
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("assign direct = v[i];");
    expect(text).toContain("assign guarded = (i < 3'd6) ? w[i] : 1'b0;");
    expect(text).toMatch(/wire \[7:0\] (\w+) = ~v;[\s\S]*assign through_wire = \1\[i\];/);
    m.comb(m.output(1, { name: "narrow" }), v.bitAt(i.bits(1, 0)));
    m.comb(m.output(1, { name: "wide" }), w.bitAt(m.input(4, { name: "j" })));
    const more = emitDesign(m).files[0].text;
    expect(more).toContain("assign narrow = v[{1'b0, i[1:0]}];");
    expect(more).toContain("assign wide = (j < 4'd6) ? w[j[2:0]] : 1'b0;");
  });
});
