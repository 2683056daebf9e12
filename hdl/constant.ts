// Named constants: protocol codes and bit patterns that the emitted Verilog declares once as a
// `localparam` and refers to by name at every use (`fmt_type == TLP_FMT_TYPE_CPLD`), so that a
// reader sees what a number means, not only its bits.
import { HdlError } from "./errors.ts";
import { CallSite } from "./location.ts";
import { isUpperSnakeCase } from "./naming.ts";
import type { ShapeLike } from "./shape.ts";
import { Const } from "./value.ts";

/** A constant that carries its name; any module that reads it declares the localparam. */
export class NamedConst extends Const {
  constructor(
    readonly constantName: string,
    value: number | bigint,
    shape: ShapeLike,
    site: CallSite,
  ) {
    super(value, shape, () => constantName, site);
  }
}

/**
 * `constant("TLP_FMT_TYPE_CPLD", 0x4a, 8)`: a constant emitted as `localparam [7:0]
 * TLP_FMT_TYPE_CPLD = 8'h4a;` in each module that uses it. Names are UPPER_SNAKE_CASE; two
 * constants of one name used in one module must agree in value and shape.
 */
export function constant(name: string, value: number | bigint, shape: ShapeLike): NamedConst {
  const site = new CallSite();
  if (!isUpperSnakeCase(name)) throw new HdlError(`constant name "${name}" is not UPPER_SNAKE_CASE (upper-case words joined by "_")`, site);
  return new NamedConst(name, value, shape, site);
}
