// Values: the expression tree of the DSL. Every value knows its width and signedness when it is
// built, and every operator states its result shape (see hdl/README.md, "Semantics"), so the
// emitter never relies on Verilog's context-dependent sizing.
import { HdlError } from "./errors.ts";
import { CallSite } from "./location.ts";
import { type Shape, type ShapeLike, addressBits, describeShape, encodeConstant, toShape } from "./shape.ts";

/** Anything a DSL call accepts where a value is expected: numbers take the shape of the other side. */
export type ValueLike = Value | number | bigint;

export type OperatorKind =
  | "add"
  | "sub"
  | "addWrap"
  | "subWrap"
  | "mul"
  | "neg"
  | "and"
  | "or"
  | "xor"
  | "not"
  | "shl"
  | "shr"
  | "shlBy"
  | "shrBy"
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "logicAnd"
  | "logicOr"
  | "logicNot"
  | "reduceAnd"
  | "reduceOr"
  | "reduceXor"
  | "zext"
  | "sext"
  | "asSigned"
  | "asUnsigned"
  | "repeat";

export abstract class Value implements Shape {
  readonly site: CallSite;

  constructor(
    readonly width: number,
    readonly signed: boolean,
    site?: CallSite,
  ) {
    this.site = site ?? new CallSite();
  }

  get shape(): Shape {
    return { width: this.width, signed: this.signed };
  }

  // --- arithmetic -------------------------------------------------------------------------
  /** Full-precision sum: max(wa, wb) + 1 bits, never overflows. */
  add(other: ValueLike): Value {
    return this.arith("add", other, (a, b) => Math.max(a, b) + 1);
  }
  /** Full-precision difference: max(wa, wb) + 1 bits (unsigned results wrap modulo 2^width). */
  sub(other: ValueLike): Value {
    return this.arith("sub", other, (a, b) => Math.max(a, b) + 1);
  }
  /** Sum modulo 2^max(wa, wb): keeps the width, drops the carry. */
  addWrap(other: ValueLike): Value {
    return this.arith("addWrap", other, (a, b) => Math.max(a, b));
  }
  /** Difference modulo 2^max(wa, wb): keeps the width, drops the borrow. */
  subWrap(other: ValueLike): Value {
    return this.arith("subWrap", other, (a, b) => Math.max(a, b));
  }
  /** Full product: wa + wb bits. */
  mul(other: ValueLike): Value {
    return this.arith("mul", other, (a, b) => a + b);
  }
  /** Two's complement negation: width + 1 bits, always signed. */
  neg(): Value {
    return new Operator("neg", [this], { width: this.width + 1, signed: true });
  }

  // --- bitwise ----------------------------------------------------------------------------
  /** Bitwise AND; both sides must have the same shape. */
  and(other: ValueLike): Value {
    return this.bitwise("and", other);
  }
  or(other: ValueLike): Value {
    return this.bitwise("or", other);
  }
  xor(other: ValueLike): Value {
    return this.bitwise("xor", other);
  }
  not(): Value {
    return new Operator("not", [this], this.shape);
  }

  // --- shifts -----------------------------------------------------------------------------
  /** Shift left by a constant, widening by `amount` bits: no bit is lost. */
  shl(amount: number): Value {
    checkShiftAmount(amount, Infinity);
    return new Operator("shl", [this], { width: this.width + amount, signed: this.signed }, amount);
  }
  /** Shift right by a constant, narrowing by `amount` bits (arithmetic when signed). */
  shr(amount: number): Value {
    checkShiftAmount(amount, this.width - 1);
    return new Operator("shr", [this], { width: this.width - amount, signed: this.signed }, amount);
  }
  /** Shift left by an unsigned signal amount; keeps the width, bits shifted out are lost. */
  shlBy(amount: Value): Value {
    requireUnsignedAmount(amount);
    return new Operator("shlBy", [this, amount], this.shape);
  }
  /** Shift right by an unsigned signal amount; keeps the width, arithmetic when signed. */
  shrBy(amount: Value): Value {
    requireUnsignedAmount(amount);
    return new Operator("shrBy", [this, amount], this.shape);
  }

  // --- comparisons (1-bit unsigned results; operands extended by their signedness) ---------
  eq(other: ValueLike): Value {
    return this.compare("eq", other);
  }
  ne(other: ValueLike): Value {
    return this.compare("ne", other);
  }
  lt(other: ValueLike): Value {
    return this.compare("lt", other);
  }
  le(other: ValueLike): Value {
    return this.compare("le", other);
  }
  gt(other: ValueLike): Value {
    return this.compare("gt", other);
  }
  ge(other: ValueLike): Value {
    return this.compare("ge", other);
  }

  // --- logic and reductions (1-bit unsigned results) --------------------------------------
  /** True when both values are non-zero. */
  logicAnd(other: ValueLike): Value {
    return new Operator("logicAnd", [this, toValue(other, { width: 1, signed: false })], BIT);
  }
  logicOr(other: ValueLike): Value {
    return new Operator("logicOr", [this, toValue(other, { width: 1, signed: false })], BIT);
  }
  logicNot(): Value {
    return new Operator("logicNot", [this], BIT);
  }
  /** Reduction OR: true when any bit is set. */
  any(): Value {
    return new Operator("reduceOr", [this], BIT);
  }
  /** Reduction AND: true when every bit is set. */
  all(): Value {
    return new Operator("reduceAnd", [this], BIT);
  }
  /** Reduction XOR: the parity of the bits. */
  parity(): Value {
    return new Operator("reduceXor", [this], BIT);
  }

  // --- width and sign changes (always explicit) --------------------------------------------
  /** Zero-extend to `width` bits; the result is unsigned. */
  zext(width: number): Value {
    this.checkWiden(width);
    return new Operator("zext", [this], { width, signed: false });
  }
  /** Sign-extend a signed value to `width` bits; the result is signed. */
  sext(width: number): Value {
    if (!this.signed) {
      // The top bit of an unsigned value is a magnitude bit: copying it is a reinterpretation, say so.
      throw new HdlError(
        `sext(${width}) of a value that is ${describeShape(this)}: it has no sign bit (use zext(${width}) to widen with zeros, or asSigned().sext(${width}) to read its top bit as a sign)`,
        new CallSite(),
      );
    }
    this.checkWiden(width);
    return new Operator("sext", [this], { width, signed: true });
  }
  /** Extend to `width` bits by this value's own signedness (zero for unsigned, sign for signed). */
  extend(width: number): Value {
    return this.signed ? this.sext(width) : this.zext(width);
  }
  /** Keep the low `width` bits; the signedness is kept. */
  trunc(width: number): Value {
    if (!Number.isInteger(width) || width < 1 || width > this.width) {
      throw new HdlError(`trunc(${width}) of a ${describeShape(this)} value: width must be 1..${this.width}`, new CallSite());
    }
    const low = new Slice(this, width - 1, 0);
    return this.signed ? low.asSigned() : low;
  }
  /** The same bits read as signed. */
  asSigned(): Value {
    return this.signed ? this : new Operator("asSigned", [this], { width: this.width, signed: true });
  }
  /** The same bits read as unsigned. */
  asUnsigned(): Value {
    return this.signed ? new Operator("asUnsigned", [this], { width: this.width, signed: false }) : this;
  }

  // --- bit selection -----------------------------------------------------------------------
  /** Bits `hi` down to `lo` inclusive (Verilog order); the result is unsigned. */
  bits(hi: number, lo: number): Value {
    return new Slice(this, hi, lo);
  }
  /** One bit; unsigned. */
  bit(index: number): Value {
    return new Slice(this, index, index);
  }
  /**
   * The bit at a position given by an unsigned value; 0 when the position is past the top bit.
   * A constant position is `bit(i)`, with its range check.
   */
  bitAt(index: ValueLike): Value {
    if (!(index instanceof Value)) return this.bit(Number(index));
    if (index instanceof Const) return this.bit(Number(index.value));
    if (index.signed) throw new HdlError(`bitAt: the index must be unsigned, got ${describeShape(index)} (use asUnsigned)`, new CallSite());
    const bits = this.asUnsigned();
    if (this.width === 1) return mux(index.eq(0), bits, 0);
    // Verilog wants an index exactly as wide as the positions need (Verilator warns otherwise), and
    // makes a position past the top bit x: both are settled here, the latter by an explicit 0.
    const positionBits = addressBits(this.width);
    const position = index.width < positionBits ? index.zext(positionBits) : index.width > positionBits ? index.trunc(positionBits) : index;
    const select = new BitSelect(bits, position);
    return 1n << BigInt(index.width) > BigInt(this.width) ? mux(index.lt(this.width), select, 0) : select;
  }
  /**
   * `width` bits from a position given by an unsigned value, lowest first; bits past the top of
   * this value are 0.
   */
  sliceAt(index: Value, width: number): Value {
    if (!Number.isInteger(width) || width < 1 || width > this.width) {
      throw new HdlError(`sliceAt(index, ${width}) of a ${describeShape(this)} value: width must be 1..${this.width}`, new CallSite());
    }
    if (index.signed) throw new HdlError(`sliceAt: the index must be unsigned, got ${describeShape(index)} (use asUnsigned)`, new CallSite());
    return new Slice(this.asUnsigned().shrBy(index), width - 1, 0);
  }
  /** The most significant bit. */
  msb(): Value {
    return this.bit(this.width - 1);
  }
  /** `count` copies side by side; unsigned. */
  repeat(count: number): Value {
    if (!Number.isInteger(count) || count < 1) throw new HdlError(`repeat(${count}): count must be a positive integer`, new CallSite());
    if (this.signed) {
      throw new HdlError(`repeat(): the value is ${describeShape(this)}, and a repetition is unsigned (as cat); write value.asUnsigned().repeat(${count})`, new CallSite());
    }
    return new Operator("repeat", [this], { width: this.width * count, signed: false }, count);
  }

  private arith(kind: OperatorKind, other: ValueLike, width: (a: number, b: number) => number): Value {
    const rhs = toValue(other, this.shape);
    requireSameSignedness(this, rhs, kind);
    return new Operator(kind, [this, rhs], { width: width(this.width, rhs.width), signed: this.signed });
  }

  private bitwise(kind: OperatorKind, other: ValueLike): Value {
    const rhs = toValue(other, this.shape);
    if (rhs.width !== this.width || rhs.signed !== this.signed) {
      throw new HdlError(
        `${kind}: operands must have the same shape, got ${describeShape(this)} and ${describeShape(rhs)} (use zext/sext/trunc)`,
        new CallSite(),
      );
    }
    return new Operator(kind, [this, rhs], this.shape);
  }

  private compare(kind: OperatorKind, other: ValueLike): Value {
    const rhs = toValue(other, this.shape);
    requireSameSignedness(this, rhs, kind);
    return new Operator(kind, [this, rhs], BIT);
  }

  private checkWiden(width: number): void {
    if (!Number.isInteger(width) || width < this.width) {
      throw new HdlError(`cannot extend a ${describeShape(this)} value to ${width} bits (use trunc to narrow)`, new CallSite());
    }
  }
}

const BIT: Shape = { width: 1, signed: false };

export class Const extends Value {
  /** The bit pattern, 0 <= bits < 2^width. */
  readonly bits_: bigint;
  /** A symbolic name the emitter prints instead of the number (FSM state names), resolved late. */
  readonly label: (() => string) | undefined;

  constructor(value: number | bigint, shape: ShapeLike, label?: () => string, site?: CallSite) {
    const s = site ?? new CallSite();
    const resolved = toShape(shape, s);
    super(resolved.width, resolved.signed, s);
    this.bits_ = encodeConstant(value, resolved, s);
    this.label = label;
  }

  /** The constant's numeric value, read by its signedness. */
  get value(): bigint {
    const top = 1n << BigInt(this.width - 1);
    return this.signed && this.bits_ >= top ? this.bits_ - (top << 1n) : this.bits_;
  }
}

export type SignalKind = "input" | "output" | "internal";

/** Where a signal's value comes from; set once, by the first (and only) driver. */
export interface Driver {
  kind: "comb" | "sync" | "instance" | "memory";
  site: CallSite;
  /** The statement group (or instance, memory port) that drives it: one driver per signal. */
  group: object;
}

export class Signal extends Value {
  driver: Driver | undefined;

  constructor(
    shape: Shape,
    readonly kind: SignalKind,
    /** The module that owns the signal (opaque here to avoid an import cycle). */
    readonly owner: { readonly name: string },
    /** Reset value of a register, default value of a combinational signal (bit pattern). */
    readonly reset: bigint,
    /** A register that ignores reset (datapath registers: cheaper and faster in an FPGA). */
    readonly resetless: boolean,
    /**
     * An explicit name, a function that derives it (ports of memories, instances, bundles), or
     * undefined to take the TypeScript variable the signal was assigned to.
     */
    readonly nameSource: string | (() => string) | undefined,
    site: CallSite,
  ) {
    super(shape.width, shape.signed, site);
  }
}

export class Slice extends Value {
  constructor(
    readonly source: Value,
    readonly hi: number,
    readonly lo: number,
  ) {
    const site = new CallSite();
    if (!Number.isInteger(hi) || !Number.isInteger(lo) || lo < 0 || hi < lo || hi >= source.width) {
      throw new HdlError(`bits(${hi}, ${lo}) out of range for a ${describeShape(source)} value`, site);
    }
    super(hi - lo + 1, false, site);
  }
}

/** `source[index]` with a dynamic index as wide as the positions need and never past the top. */
export class BitSelect extends Value {
  constructor(
    readonly source: Value,
    readonly index: Value,
  ) {
    super(1, false);
  }
}

export class Concat extends Value {
  constructor(readonly parts: readonly Value[]) {
    super(
      parts.reduce((sum, p) => sum + p.width, 0),
      false,
    );
  }
}

export class Operator extends Value {
  constructor(
    readonly kind: OperatorKind,
    readonly operands: readonly Value[],
    shape: Shape,
    /** Shift amount of `shl`/`shr`, copy count of `repeat`. */
    readonly amount = 0,
  ) {
    super(shape.width, shape.signed);
  }
}

export class Mux extends Value {
  constructor(
    readonly select: Value,
    readonly whenTrue: Value,
    readonly whenFalse: Value,
  ) {
    super(whenTrue.width, whenTrue.signed);
  }
}

/** A constant of the given shape from a number, or the value itself. */
export function toValue(value: ValueLike, shape: Shape): Value {
  if (value instanceof Value) return value;
  return new Const(value, shape);
}

/**
 * Concatenation, most significant part first (as in Verilog's `{a, b}`); unsigned bits. A signed
 * part is refused: the result would drop its sign without a word (Verilog's `{}` does), and the
 * loss would show far away, in a zero-extension, a logical shift or an unsigned comparison.
 */
export function cat(...parts: Value[]): Value {
  const site = new CallSite();
  if (parts.length === 0) throw new HdlError("cat() needs at least one value", site);
  parts.forEach((part, i) => {
    if (part.signed) {
      throw new HdlError(
        `cat(): part ${i + 1} of ${parts.length} is ${describeShape(part)}, and a concatenation is unsigned; write part.asUnsigned() to concatenate its bits (to keep a signed value, widen with sext or scale with shl instead)`,
        site,
      );
    }
  });
  return parts.length === 1 ? parts[0] : new Concat(parts);
}

/** `select ? whenTrue : whenFalse`; `select` is 1 bit and both choices have the same shape. */
export function mux(select: Value, whenTrue: ValueLike, whenFalse: ValueLike): Value {
  const site = new CallSite();
  requireBit(select, "mux select", site);
  const shape = whenTrue instanceof Value ? whenTrue.shape : whenFalse instanceof Value ? whenFalse.shape : undefined;
  if (!shape) throw new HdlError("mux: at least one choice must be a value (give numbers a shape with C(value, width))", site);
  const t = toValue(whenTrue, shape);
  const f = toValue(whenFalse, shape);
  if (t.width !== f.width || t.signed !== f.signed) {
    throw new HdlError(`mux: choices must have the same shape, got ${describeShape(t)} and ${describeShape(f)}`, site);
  }
  return new Mux(select, t, f);
}

/** A constant: `C(5, 8)` is 8'd5, `C(-1, signed(4))` is 4'sb1111. */
export function C(value: number | bigint, shape: ShapeLike): Const {
  return new Const(value, shape);
}

export function requireBit(value: Value, what: string, site: CallSite): void {
  if (value.width !== 1) {
    throw new HdlError(`${what} must be 1 bit wide, got ${describeShape(value)} (use .any() or a comparison)`, site);
  }
}

function requireSameSignedness(a: Value, b: Value, op: string): void {
  if (a.signed !== b.signed) {
    throw new HdlError(
      `${op}: cannot mix ${describeShape(a)} and ${describeShape(b)} operands (use asSigned/asUnsigned/sext/zext)`,
      new CallSite(),
    );
  }
}

function requireUnsignedAmount(amount: Value): void {
  if (amount.signed) throw new HdlError("shift amount must be unsigned", new CallSite());
}

function checkShiftAmount(amount: number, max: number): void {
  if (!Number.isInteger(amount) || amount < 0 || amount > max) {
    throw new HdlError(`shift amount ${amount} out of range 0..${max}`, new CallSite());
  }
}

/** Calls `visit` for every signal an expression reads (a signal read twice is visited twice). */
export function forEachSignal(value: Value, visit: (signal: Signal) => void): void {
  if (value instanceof Signal) visit(value);
  else if (value instanceof Slice) forEachSignal(value.source, visit);
  else if (value instanceof BitSelect) (forEachSignal(value.source, visit), forEachSignal(value.index, visit));
  else if (value instanceof Concat) for (const part of value.parts) forEachSignal(part, visit);
  else if (value instanceof Operator) for (const operand of value.operands) forEachSignal(operand, visit);
  else if (value instanceof Mux) {
    forEachSignal(value.select, visit);
    forEachSignal(value.whenTrue, visit);
    forEachSignal(value.whenFalse, visit);
  }
}
