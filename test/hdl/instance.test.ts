// Instances through typed handles: a module records its interface with `exposing`, its instances
// offer it as `ports` (the parent's signals, flows seen from the parent), and `promote` makes a
// child's port or bundle a port of the parent in one call.
import { describe, expect, it } from "vitest";
import { HdlError, Module, axiStream, emitDesign } from "../../hdl/index.ts";

const stream = axiStream({ dataWidth: 8, keep: false });

function counter() {
  const m = new Module("counter8");
  const pulse = m.input(1);
  const count = m.output(8);
  const rx = m.port(stream, "slave");
  const tx = m.port(stream, "master");
  m.If(pulse, () => m.sync(count, count.addWrap(1)));
  m.connect(rx, tx);
  m.documentCombinationalPaths("a test passthrough");
  return m.exposing({ pulse, count, rx, taps: [tx] });
}

describe("typed instance ports", () => {
  it("gives the child's handles as the parent's signals, and a renamed port does not compile", () => {
    const top = new Module("counter_top");
    const u = top.instance(counter(), { name: "u" });
    expect(u.ports.count).toBe(u.io.count);
    expect(top.displayName(u.ports.pulse)).toBe("u_pulse");
    expect(top.displayName(u.ports.rx.signals.tdata)).toBe("u_rx_tdata");
    expect(u.ports.rx.flow).toBe("sink");
    expect(u.ports.taps[0].flow).toBe("source");
    // @ts-expect-error: the child has no handle "counter"
    expect(u.ports.counter).toBeUndefined();
  });

  it("connects a child's bundles only in the direction data flows", () => {
    const top = new Module("flow_top");
    const u = top.instance(counter(), { name: "u" });
    const v = top.instance(counter(), { name: "v" });
    top.connect(u.ports.taps[0], v.ports.rx);
    expect(() => top.connect(v.ports.rx, u.ports.taps[0])).toThrow(/^test\/hdl\/instance\.test\.ts:\d+: connect: the first bundle .* consumes data/);
  });

  it("promotes a child's signal and bundle to ports named as the child names them, with its directions", () => {
    const top = new Module("promote_top");
    const u = top.instance(counter(), { name: "u" });
    const pulse = top.promote(u.ports.pulse);
    const count = top.promote(u.ports.count, { name: "total" });
    const rx = top.promote(u.ports.rx);
    const out = top.promote(u.ports.taps[0], { prefix: "out" });
    top.documentCombinationalPaths("a test passthrough");
    expect([pulse.kind, count.kind, rx.signals.tdata.kind, rx.signals.tready.kind, out.signals.tdata.kind]).toEqual(["input", "output", "input", "output", "output"]);
    expect(rx.flow).toBe("source");
    expect(out.flow).toBe("sink");
    const text = emitDesign(top).files.find((f) => f.moduleName === "promote_top")!.text;
    expect(text).toMatch(/input\s+wire\s+pulse/);
    expect(text).toMatch(/output\s+wire\s+\[7:0\]\s+total/);
    expect(text).toMatch(/input\s+wire\s+\[7:0\]\s+rx_tdata/);
    expect(text).toMatch(/output\s+wire\s+rx_tready/);
    expect(text).toMatch(/output\s+wire\s+\[7:0\]\s+out_tdata/);
    expect(text).toMatch(/assign u_rx_tdata = rx_tdata;/);
    expect(text).toMatch(/assign rx_tready = u_rx_tready;/);
    expect(text).toMatch(/assign out_tdata = u_tx_tdata;/);
  });

  it("reports a promote of something that is no instance port, at the call", () => {
    const top = new Module("promote_bad");
    const own = top.signal(1);
    expect(() => top.promote(own)).toThrow(HdlError);
    expect(() => top.promote(own)).toThrow(/^test\/hdl\/instance\.test\.ts:\d+: promote: .* is not a port of an instance/);
  });

  it("exposes only ports, and says so at the call", () => {
    const m = new Module("expose_bad");
    const wire = m.signal(1);
    expect(() => m.exposing({ wire })).toThrow(/^test\/hdl\/instance\.test\.ts:\d+: exposing: "wire" is not a port of expose_bad/);
    const wires = m.bundle(stream);
    expect(() => m.exposing({ wires })).toThrow(/internal wires/);
  });

  it("types a black box's ports by its definition", () => {
    const top = new Module("bb_top");
    const buffer = top.blackbox({ module: "BUFG", inputs: { I: 1 }, outputs: { O: 1 } });
    const clock_out = top.output(1);
    top.comb(clock_out, buffer.ports.O);
    top.comb(buffer.ports.I, 0);
    // @ts-expect-error: BUFG has no port CE
    expect(buffer.ports.CE).toBeUndefined();
  });
});
