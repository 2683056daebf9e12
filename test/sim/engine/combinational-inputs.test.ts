// Which inputs reach a signal combinationally (sim/engine/combinational-inputs.ts), and the verilator
// engine's use of it: a peek after a poke evaluates the model only when the peeked signal depends
// combinationally on an input written since the last evaluation, and every peek stays exact.
import { describe, expect, it, vi } from "vitest";
import { combinationalInputs, DEPENDENCY_PASSES } from "../../../sim/engine/combinational-inputs.ts";
import { type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { buildNetlist } from "../../../sim/engine/netlist.ts";
import { buildVerilatorModel } from "../../../sim/engine/verilator-build.ts";
import { synthesizeNetlist } from "../../../sim/engine/yosys.ts";

// y: a through logic; z: a register; w: b with a register; u_pass.out: a through an instance (whose
// copy u_pass.in of the input only an evaluation updates); m: a memory read at address b.
const DESIGN = {
  path: "comb_inputs.v",
  text: `
module pass (input wire [7:0] in, output wire [7:0] out);
  assign out = in + 8'd1;
endmodule
module comb_inputs (input wire clk, input wire rst, input wire [7:0] a, input wire [1:0] b, input wire en,
                    output wire [7:0] y, output reg [7:0] z, output wire [7:0] w, output wire [7:0] p, output wire [7:0] m);
  reg [7:0] mem [0:3];
  integer i;
  initial for (i = 0; i < 4; i = i + 1) mem[i] = 8'd0;
  wire [7:0] z_plus = z + 8'd3;
  assign y = a & z;
  assign w = {6'd0, b} ^ z_plus;
  assign m = mem[b];
  pass u_pass (.in(a), .out(p));
  always @(posedge clk) begin
    if (rst) z <= 8'd0;
    else if (en) z <= z + a;
    if (en) mem[z[1:0]] <= a;
  end
endmodule
`,
};
const TOP = "comb_inputs";

describe("combinationalInputs", () => {
  it("lists the inputs each signal depends on without a flip-flop between, and none for registers", async () => {
    const netlist = buildNetlist(await synthesizeNetlist([DESIGN], TOP, DEPENDENCY_PASSES), TOP);
    const names = ["y", "z", "z_plus", "w", "p", "u_pass.in", "u_pass.out", "m", "a", "no_such_signal"];
    const found = Object.fromEntries(names.map((n, i) => [n, combinationalInputs(netlist, names)[i]]));
    expect(found).toEqual({
      y: ["a"], z: [], z_plus: [], w: ["b"], p: ["a"], "u_pass.in": ["a"], "u_pass.out": ["a"],
      // An asynchronous read depends on its address; the write port's inputs act at the edge.
      m: ["b"],
      a: ["a"], no_such_signal: null,
    });
  });
});

describe.skipIf(!verilatorAvailable())("verilator engine: peeks after pokes", () => {
  it("records the dependencies in the model", async () => {
    const model = await buildVerilatorModel([DESIGN], TOP, true, "all", true);
    const index = (name: string) => model.signals.findIndex((s) => s.name === name);
    const inputsOf = (name: string) => model.combinationalInputs![index(name)]!.map((i) => model.signals[i].name);
    expect(inputsOf("y")).toEqual(["a"]);
    expect(inputsOf("z")).toEqual([]);
    expect(inputsOf("u_pass.in")).toEqual(["a"]);
  });

  it("agrees with the js engine peek by peek, evaluating only for signals a written input reaches", async () => {
    const sims: Simulator[] = [];
    for (const engine of ["js", "verilator"]) sims.push(await createSimulator({ sources: [DESIGN], top: TOP, engine, settleOnDemand: true }));
    const [js, verilator] = sims;
    const settle = vi.spyOn(verilator as unknown as { settle: () => void }, "settle");
    const signals = ["y", "z", "z_plus", "w", "p", "u_pass.in", "u_pass.out", "m"];
    let seed = 99;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (const sim of sims) sim.reset(2);
    let registeredPeeksAfterPokes = 0;
    for (let c = 0; c < 300; c++) {
      // Pokes and peeks interleaved at random, as a testbench's players do before an edge.
      for (let k = 0; k < 6; k++) {
        if (random(2) === 0) {
          const [port, value] = [["a", random(256)], ["b", random(4)], ["en", random(2)]][random(3)] as [string, number];
          for (const sim of sims) sim.poke(port, value);
        } else {
          const name = signals[random(signals.length)];
          const before = settle.mock.calls.length;
          expect(verilator.peek(name), `${name} in cycle ${c}`).toBe(js.peek(name));
          if (name === "z" || name === "z_plus") {
            expect(settle.mock.calls.length, `peek of ${name}`).toBe(before);
            registeredPeeksAfterPokes++;
          }
        }
      }
      for (const sim of sims) sim.step();
    }
    expect(registeredPeeksAfterPokes).toBeGreaterThan(50);
    // Peeks of y, p, u_pass.* and m after a write of a did evaluate the model.
    expect(settle.mock.calls.length).toBeGreaterThan(50);
    for (const sim of sims) sim.close();
  });
});
