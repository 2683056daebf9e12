// Every operator's documented result (width, signedness, value) checked on the emitted Verilog
// running in Icarus, against a reference written from the semantics in hdl/README.md.
import { describe, expect, it } from "vitest";
import { C, Module, type Value, cat, mux, signed, toSnakeCase, unsigned } from "../../hdl/index.ts";
import { seededRandom } from "../../sim/random.ts";
import { asSigned, bitsOf, icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";

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
    { name: "cat", build: (a, b) => cat(a, C(2, 2), b), reference: (a, b) => (wrapU(a, 6) << 8n) | (2n << 6n) | wrapU(b, 6), width: 14, resultSigned: false },
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
