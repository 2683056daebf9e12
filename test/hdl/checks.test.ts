// Every elaboration check reports the TypeScript file and line of the offending statement
// (or of the declaration, for a signal nothing drives). Lines are found by the marker comments.
import { describe, expect, it } from "vitest";
import { hdlErrorOf, markerLocator } from "../../sim/testbench/source-markers.ts";
import { HdlError, Module, elaborate, signed } from "../../hdl/index.ts";

const at = markerLocator(import.meta.url);



describe("elaboration checks name the file and line", () => {
  it("a signal driven from two places", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("two_drivers");
      const a = m.input(4);
      const y = m.output(4);
      m.comb(y, a); // @first-driver
      m.comb(y, a.not()); // @second-driver
    });
    expect(error.message).toContain(`${at("second-driver")}: "y" is driven from two places: here and at ${at("first-driver")}`);
  });

  it("an output nothing drives", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("undriven_output");
      m.output(4, { name: "status" }); // @undriven-output
      elaborate(m);
    });
    expect(error.message).toBe(`${at("undriven-output")}: output "status" of module "undriven_output" is never driven`);
  });

  it("a used signal nothing drives", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("undriven_used");
      const y = m.output(4);
      const floating = m.signal(4); // @undriven-signal
      m.comb(y, floating); // @reads-floating
      elaborate(m);
    });
    expect(error.message).toBe(`${at("undriven-signal")}: signal "floating" is used (at ${at("reads-floating")}) but nothing drives it`);
  });

  it("a combinational loop, listed", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("comb_loop");
      const a = m.input(1);
      const y = m.output(1);
      const p = m.signal(1);
      const q = m.signal(1);
      m.comb(p, q.and(a)); // @loop-p
      m.If(a, () => m.comb(q, p)); // @loop-q
      m.comb(y, q);
      elaborate(m);
    });
    expect(error.message).toMatch(/combinational loop in module "comb_loop": (p -> q -> p|q -> p -> q)/);
    expect([`${at("loop-p")}:`, `${at("loop-q")}:`].some((prefix) => error.message.startsWith(prefix))).toBe(true);
  });

  it("a loop through a register is not a combinational loop", () => {
    const m = new Module("registered_loop");
    const y = m.output(4);
    const r = m.signal(4);
    m.sync(r, r.addWrap(1));
    m.comb(y, r);
    expect(() => elaborate(m)).not.toThrow();
  });

  it("a loop through a submodule's combinational path", () => {
    const child = new Module("passthrough");
    const i = child.input(1);
    const o = child.output(1);
    child.comb(o, i.not());
    const error = hdlErrorOf(() => {
      const m = new Module("loop_through_child");
      const y = m.output(1);
      const u = m.instance(child);
      m.comb(u.io.i, u.io.o); // @child-loop
      m.comb(y, u.io.o);
      elaborate(m);
    });
    expect(error.message).toMatch(/combinational loop in module "loop_through_child": u_i -> u_o -> u_i|u_o -> u_i -> u_o/);
  });

  it("a width mismatch", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("width_mismatch");
      const a = m.input(8);
      const b = m.input(8);
      const y = m.output(8);
      m.comb(y, a.add(b)); // @width
    });
    expect(error.message).toBe(
      `${at("width")}: width mismatch: assigning a 9-bit unsigned value to 8-bit unsigned signal "y" (use zext/sext/trunc)`,
    );
  });

  it("an FSM next to an unknown state", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("fsm_unknown");
      const ctl = m.fsm(["IDLE", "RUN"]);
      ctl.body({ IDLE: () => (ctl as unknown as { next(s: string): void }).next("STOP") }); // @unknown-state
    });
    expect(error.message).toBe(`${at("unknown-state")}: unknown FSM state "STOP" (states: IDLE, RUN)`);
  });

  it("an FSM next outside the FSM's body", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("fsm_outside");
      const ctl = m.fsm(["IDLE", "RUN"]);
      ctl.next("RUN"); // @outside
    });
    expect(error.message).toBe(`${at("outside")}: next("RUN") outside the body of FSM "ctl"`);
  });

  it("a signal assigned both comb and sync", () => {
    const error = hdlErrorOf(() => {
      const m = new Module("comb_and_sync");
      const a = m.input(1);
      const y = m.output(1);
      m.If(a, () => m.comb(y, 1)).Else(() => m.sync(y, 0)); // @mixed
    });
    expect(error.message).toMatch(new RegExp(`^${at("mixed")}: "y" is assigned with sync here but with comb at ${at("mixed")}`));
  });
});

describe("value checks", () => {
  it("a constant that does not fit its width", () => {
    expect(() => {
      const m = new Module("const_fit");
      const y = m.output(4);
      m.comb(y, 16); // @const
    }).toThrow(`${at("const")}: constant 16 does not fit 4-bit unsigned (range 0..15)`);
  });

  it("mixing signed and unsigned operands", () => {
    const m = new Module("mixed_sign");
    const a = m.input(4);
    const b = m.input(signed(4));
    expect(() => a.add(b)).toThrow(/add: cannot mix 4-bit unsigned and 4-bit signed operands/);
  });

  it("bitwise operands of different widths", () => {
    const m = new Module("bitwise_width");
    const a = m.input(4);
    const b = m.input(5);
    expect(() => a.and(b)).toThrow(/and: operands must have the same shape/);
  });

  it("an If condition wider than one bit", () => {
    const m = new Module("wide_condition");
    const a = m.input(4);
    expect(() => m.If(a, () => undefined)).toThrow(/If condition must be 1 bit wide, got 4-bit unsigned/);
  });

  it("assigning an input, or a signal of another module", () => {
    const m = new Module("assign_input");
    const a = m.input(1);
    expect(() => m.comb(a, 0)).toThrow(/cannot assign input port "a"/);
    const other = new Module("other");
    const foreign = other.signal(1);
    const y = m.output(1);
    expect(() => m.comb(y, foreign)).toThrow(/belongs to module "other", not "assign_input"/);
  });
});
