// Bundles: field names are types (a typo does not compile), axiStream's fields follow its options,
// and connect ties all fields, all but `omit`, or `only` some, with the names checked.
import { describe, expect, it } from "vitest";
import { type FieldOf, HdlError, Module, axiStream, defineBundle, emitDesign } from "../../hdl/index.ts";

const handshake = defineBundle("handshake", { data: ["forward", 8], valid: ["forward", 1], ready: ["backward", 1] });

describe("typed bundles", () => {
  it("knows a definition's fields at compile time", () => {
    const m = new Module("typed_fields");
    const rx = m.port(handshake, "slave");
    const names: FieldOf<typeof handshake>[] = ["data", "valid", "ready"];
    // @ts-expect-error: "redy" is not a field of handshake
    const typo: FieldOf<typeof handshake> = "redy";
    // @ts-expect-error: a misspelt field of a bundle's signals does not compile
    expect(rx.signals.redy).toBeUndefined();
    expect(rx.fieldNames).toEqual(names);
    expect(typo).toBe("redy");
  });

  it("types axiStream's optional fields by its options", () => {
    const m = new Module("axis_types");
    const plain = m.port(axiStream({ dataWidth: 64, keep: false, last: false }), "slave");
    const withUser = m.port(axiStream({ dataWidth: 64, userWidth: 4 }), "slave");
    expect(plain.fieldNames).toEqual(["tdata", "tvalid", "tready"]);
    // @ts-expect-error: keep: false leaves tkeep out
    expect(plain.signals.tkeep).toBeUndefined();
    // @ts-expect-error: no userWidth, no tuser
    expect(plain.signals.tuser).toBeUndefined();
    expect(withUser.signals.tuser.width).toBe(4);
    expect(withUser.signals.tkeep.width).toBe(8);
  });
});

/** A slave stream with tuser in, a master stream out: everything but tuser passes, tuser is handled by `driveUser`. */
function passthrough(name: string, tie: (m: Module, input: ReturnType<typeof streams>["input"], output: ReturnType<typeof streams>["output"]) => void): Module {
  const m = new Module(name);
  const { input, output } = streams(m);
  tie(m, input, output);
  m.documentCombinationalPaths("a test passthrough");
  return m;
}

function streams(m: Module) {
  const def = axiStream({ dataWidth: 8, userWidth: 2 });
  return { input: m.port(def, "slave", { prefix: "s_axis" }), output: m.port(def, "master", { prefix: "m_axis" }) };
}

describe("connect with omit and only", () => {
  it("omit leaves a field for the design to drive", () => {
    const top = passthrough("omit_user", (m, input, output) => {
      m.connect(input, output, { omit: ["tuser"] });
      m.comb(output.signals.tuser, input.signals.tuser.not());
    });
    const text = emitDesign(top).files[0].text;
    expect(text).toMatch(/assign m_axis_tdata = s_axis_tdata;/);
    expect(text).toMatch(/assign s_axis_tready = m_axis_tready;/);
    expect(text).toMatch(/assign m_axis_tuser = ~s_axis_tuser;/);
  });

  it("an omitted output nothing else drives is an elaboration error", () => {
    const top = passthrough("omit_undriven", (m, input, output) => m.connect(input, output, { omit: ["tuser"] }));
    expect(() => emitDesign(top)).toThrow(/m_axis_tuser/);
  });

  it("only ties the fields named", () => {
    const top = passthrough("only_some", (m, input, output) => {
      m.connect(input, output, { only: ["tdata", "tvalid", "tready"] });
      m.comb(output.signals.tkeep, 1);
      m.comb(output.signals.tlast, 1);
      m.comb(output.signals.tuser, 0);
    });
    const text = emitDesign(top).files[0].text;
    expect(text).toMatch(/assign m_axis_tvalid = s_axis_tvalid;/);
    expect(text).not.toMatch(/assign m_axis_tlast = s_axis_tlast;/);
  });

  it("checks the field names, at compile time and, for untyped callers, when building", () => {
    const m = new Module("bad_names");
    const { input, output } = streams(m);
    // @ts-expect-error: "tusr" is not a field of the stream
    const call = () => m.connect(input, output, { omit: ["tusr"] });
    expect(call).toThrow(HdlError);
    expect(call).toThrow(/^test\/hdl\/bundle\.test\.ts:\d+: connect: bundle axis8klu2 has no field "tusr"/);
    expect(() => m.connect(input, output, { omit: ["tuser"], only: ["tdata"] })).toThrow(/omit or only, not both/);
  });

  it("bundles of different definitions do not compile together", () => {
    const m = new Module("mismatch");
    const stream = m.port(axiStream({ dataWidth: 8 }), "slave");
    const out = m.port(handshake, "master");
    // @ts-expect-error: an AXI4-Stream does not connect to a handshake bundle
    expect(() => m.connect(stream, out)).toThrow(/different fields/);
  });
});
