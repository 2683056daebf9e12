// Signedness is never dropped or invented quietly: sext of an unsigned value and cat of a signed
// part are errors that name the TypeScript line; the explicit spellings they suggest are accepted.
import { describe, expect, it } from "vitest";
import { hdlErrorOf, markerLocator } from "../../sim/testbench/source-markers.ts";
import { HdlError, Module, cat, signed } from "../../hdl/index.ts";

const at = markerLocator(import.meta.url);



describe("sext needs a signed value", () => {
  it("refuses an unsigned one, at its line, suggesting zext and asSigned", () => {
    const m = new Module("sext_unsigned");
    const a = m.input(8);
    const error = hdlErrorOf(() => a.sext(12)); // @sext
    expect(error.message).toMatch(new RegExp(`^${at("sext")}: sext\\(12\\) of a value that is 8-bit unsigned`));
    expect(error.message).toContain("zext(12)");
    expect(error.message).toContain("asSigned().sext(12)");
  });

  it("accepts a signed one, and the spellings the error suggests", () => {
    const m = new Module("sext_signed");
    const a = m.input(8);
    const s = m.input(signed(8));
    expect(s.sext(12).shape).toEqual({ width: 12, signed: true });
    expect(a.asSigned().sext(12).shape).toEqual({ width: 12, signed: true });
    expect(a.zext(12).shape).toEqual({ width: 12, signed: false });
    expect(a.extend(12).shape).toEqual({ width: 12, signed: false });
  });
});

describe("cat takes unsigned parts", () => {
  it("refuses a signed part, at its line, naming which part", () => {
    const m = new Module("cat_signed");
    const a = m.input(4);
    const s = m.input(signed(6));
    const error = hdlErrorOf(() => cat(a, s)); // @cat
    expect(error.message).toMatch(new RegExp(`^${at("cat")}: cat\\(\\): part 2 of 2 is 6-bit signed`));
    expect(error.message).toContain("asUnsigned()");
  });

  it("refuses a single signed part too", () => {
    const m = new Module("cat_one_signed");
    const s = m.input(signed(6));
    expect(() => cat(s)).toThrow(/part 1 of 1 is 6-bit signed/);
  });

  it("accepts a signed part made explicit with asUnsigned()", () => {
    const m = new Module("cat_explicit");
    const a = m.input(4);
    const s = m.input(signed(6));
    expect(cat(a, s.asUnsigned()).shape).toEqual({ width: 10, signed: false });
  });
});

describe("repeat of a signed value", () => {
  it("is an error naming the line, as cat is; asUnsigned() makes it explicit", () => {
    const m = new Module("repeat_signed");
    const s = m.input(signed(4));
    expect(() => s.repeat(2)).toThrow(/^test\/hdl\/signedness\.test\.ts:\d+: repeat\(\): the value is 4-bit signed/);
    expect(s.asUnsigned().repeat(2).width).toBe(8);
  });
});
