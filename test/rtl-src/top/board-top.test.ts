// The board top builder: its pins, PERST# in either polarity, the user logic as a replaceable
// module boundary, bad board tables refused; and the whole board top running in Icarus with stand-in
// models of the hard block and the primitives (one clock per domain, as on the board): the hard
// block held in reset after configuration, PERST# asserted at the pin from the first instant and
// released by the core, the bring-up ending in FAULT with no link (the fault LED), both heartbeats,
// and the reset button starting everything again.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { KC705 } from "../../../rtl-src/top/board-kc705.ts";
import { type BoardTable, type UserLogicPorts, boardTop } from "../../../rtl-src/top/board-top.ts";
import { simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { PCIE_7X_MODULE, PCIE_7X_PORTS } from "../../../rtl-src/top/pcie-7x.ts";
import { userCommand, userCompletion, userReadData, userWriteData } from "../../../rtl-src/user/user-port.ts";
import { runTool } from "../../../tools/external.ts";
import { icarusAvailable } from "../../../tools/icarus.ts";

const PINS = ["pcie_refclk_p", "pcie_refclk_n", "pci_exp_txp", "pci_exp_txn", "pci_exp_rxp", "pci_exp_rxn", "sys_clk_p", "sys_clk_n", "reset_button", "exerciser_enable", "ssd_perst", "leds", "ssd2_power_disable"];

describe("board tops", () => {
  const module = boardTop(KC705);
  const { design, files } = emitDesign(module);

  it("have the board's pins as ports, no clk/rst of their own, and no combinational path from a pin to a pin", () => {
    expect(module.ports.map((p) => module.displayName(p))).toEqual(PINS);
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    expect(design.warnings).toEqual([]);
    expect(design.blackBoxes.map((b) => b.module)).toEqual(["BUFG", "IBUFDS", "IBUFDS_GTE2", PCIE_7X_MODULE]);
  });

  it("drive PERST# at the pin in the adapter's polarity", () => {
    const high = files.find((f) => f.moduleName === "board_top_kc705")!.text;
    expect(high).toContain("assign ssd_perst = ~core_perst_n;");
    const low = boardTop({ ...KC705, name: "active_low", perstActiveHighAtPin: false, constantOutputs: [] });
    const lowText = emitDesign(low).files.find((f) => f.moduleName === "board_top_active_low")!.text;
    expect(lowText).toContain("output wire ssd_perst_n,");
    expect(lowText).toContain("assign ssd_perst_n = core_perst_n;");
  });

  it("take any user logic with the user interface's ports in the exerciser's place", () => {
    const idle = () => {
      const m = new Module("idle_user");
      const user_command = m.port(userCommand(8), "master", { prefix: "user_command" });
      const user_write_data = m.port(userWriteData, "master", { prefix: "user_write_data" });
      const user_read_data = m.port(userReadData(8), "slave", { prefix: "user_read_data" });
      const user_completion = m.port(userCompletion(8), "slave", { prefix: "user_completion" });
      const enable = m.input(1);
      const ready = m.input(1);
      const lba_bytes = m.input(32);
      const capacity_blocks = m.input(64);
      const verified = m.output(1);
      const failed = m.output(1);
      const idle_reg = m.signal(1);
      m.sync(idle_reg, enable.and(ready).and(lba_bytes.any()).and(capacity_blocks.any()));
      for (const [name, signal] of Object.entries(user_command.signals)) if (name !== "ready") m.comb(signal, 0);
      for (const [name, signal] of Object.entries(user_write_data.signals)) if (name !== "tready") m.comb(signal, 0);
      m.comb(user_read_data.signals.tready, 1);
      m.comb(user_completion.signals.ready, 1);
      m.comb(verified, idle_reg);
      m.comb(failed, 0);
      for (const s of [...Object.values(user_read_data.signals), ...Object.values(user_completion.signals), user_command.signals.ready, user_write_data.signals.tready]) {
        if (s.kind === "input") m.waiveUnread(s, "an idle user reads nothing");
      }
      return m.exposing({ user_command, user_write_data, user_read_data, user_completion, enable, ready, lba_bytes, capacity_blocks, verified, failed }) satisfies Module<UserLogicPorts>;
    };
    const { files } = emitDesign(boardTop(KC705, { userLogic: idle }));
    const top = files.find((f) => f.moduleName === "board_top_kc705")!.text;
    expect(top).toMatch(/\n {2}idle_user user_logic \(/);
    expect(files.some((f) => f.moduleName.startsWith("pattern_exerciser"))).toBe(false);
  });

  it("refuse a board table with a bad name, part, block, clock or constant output", () => {
    const bad = (change: Partial<BoardTable>) => () => boardTop({ ...KC705, ...change });
    expect(bad({ name: "KC-705" })).toThrow(/name "KC-705"/);
    expect(bad({ part: "xcku040" })).toThrow(/part "xcku040"/);
    expect(bad({ pcieBlock: "X0" })).toThrow(/pcieBlock "X0"/);
    expect(bad({ systemClockHz: 1 })).toThrow(/systemClockHz 1/);
    expect(bad({ constantOutputs: [{ name: "x", value: 2 as 1, why: "" }] })).toThrow(/constant output x = 2/);
  });
});

/** Stand-ins for Icarus: the primitives pass their input through; the hard block's user clock is its reference clock. */
function standInModels(): string {
  const ports = PCIE_7X_PORTS.map((p) => `  ${p.direction === "input" ? "input " : "output"} wire ${p.width > 1 ? `[${p.width - 1}:0] ` : ""}${p.name}`).join(",\n");
  const zeros = PCIE_7X_PORTS.filter((p) => p.direction === "output" && !["user_clk_out", "user_reset_out"].includes(p.name)).map((p) => `  assign ${p.name} = 0;`);
  return `
module ${PCIE_7X_MODULE} (
${ports}
);
  // The user clock runs from the reference clock; user_reset_out holds 16 cycles after sys_rst_n.
  assign user_clk_out = sys_clk;
  reg [4:0] hold = 5'd16;
  always @(posedge sys_clk or negedge sys_rst_n) begin
    if (!sys_rst_n) hold <= 5'd16;
    else if (hold != 0) hold <= hold - 5'd1;
  end
  assign user_reset_out = hold != 0;
${zeros.join("\n")}
endmodule
module IBUFDS_GTE2 (input wire I, input wire IB, input wire CEB, output wire O, output wire ODIV2);
  assign O = I;
  assign ODIV2 = 1'b0;
endmodule
module IBUFDS (input wire I, input wire IB, output wire O);
  assign O = I;
endmodule
module BUFG (input wire I, output wire O);
  assign O = I;
endmodule
`;
}

const TESTBENCH = `
\`timescale 1ns/1ps
module board_tb;
  reg sys_clk = 0, refclk = 0, reset_button = 0;
  wire [3:0] txp, txn;
  wire perst, power_off;
  wire [7:0] leds;
  always #2.5 sys_clk = ~sys_clk;  // 200 MHz
  always #2 refclk = ~refclk;      // 250 MHz: the stand-in's user clock
  board_top_kc705 dut (
    .pcie_refclk_p(refclk), .pcie_refclk_n(~refclk), .pci_exp_txp(txp), .pci_exp_txn(txn),
    .pci_exp_rxp(4'b0), .pci_exp_rxn(4'b1111), .sys_clk_p(sys_clk), .sys_clk_n(~sys_clk),
    .reset_button(reset_button), .exerciser_enable(1'b0), .ssd_perst(perst), .leds(leds),
    .ssd2_power_disable(power_off));
  initial begin
    $display("T %0d perst=%b leds=%b power_off=%b", $time, perst, leds, power_off);
    #15000 reset_button = 1;
    #1000 reset_button = 0;
    #12000 $finish;
  end
  always @(perst or leds) $display("T %0d perst=%b leds=%b", $time, perst, leds);
endmodule
`;

interface Sample {
  t: number;
  perst: number;
  leds: number;
}

describe.skipIf(!icarusAvailable())("the KC705 board top in Icarus, with stand-ins for the hard block and primitives", () => {
  it("holds the SSD in reset, releases it, ends in FAULT with no link, beats both hearts, and starts again on the button", { timeout: 300_000 }, () => {
    const core = { ...simulationCoreParams, link: { ...simulationCoreParams.link, linkUpTimeoutCycles: 1000 } };
    const { files } = emitDesign(boardTop(KC705, { core, boardReset: { holdCycles: 100, heartbeatBit: 4 }, leds: { heartbeatBit: 4 } }));
    const dir = mkdtempSync(join(tmpdir(), "nvme-host-board-"));
    try {
      for (const f of files) writeFileSync(join(dir, f.fileName), f.text);
      writeFileSync(join(dir, "stand_ins.v"), standInModels());
      writeFileSync(join(dir, "board_tb.v"), TESTBENCH);
      const compile = runTool("iverilog", ["-g2005", "-o", join(dir, "sim.vvp"), "-s", "board_tb", join(dir, "board_tb.v"), join(dir, "stand_ins.v"), ...files.map((f) => join(dir, f.fileName))], { timeoutMs: 240_000 });
      expect(compile.status, compile.output).toBe(0);
      const run = runTool("vvp", ["-n", join(dir, "sim.vvp")], { timeoutMs: 240_000 });
      expect(run.status, run.output).toBe(0);
      // Samples of known values (the first display at time 0 may come before the registers' initial values).
      const samples: Sample[] = [...run.output.matchAll(/^T (\d+) perst=([01]) leds=([01]{8})/gm)].map((m) => ({ t: Number(m[1]), perst: Number(m[2]), leds: Number.parseInt(m[3], 2) }));
      expect(samples[0].t).toBe(0);
      const at = (t: number) => samples.filter((s) => s.t <= t).at(-1)!;
      const perstEdges = samples.filter((s, i) => i > 0 && s.perst !== samples[i - 1].perst).map((s) => ({ t: s.t, perst: s.perst }));
      // PERST# asserted (pin high) from time 0; released once: board hold 0.5 us + 16 + 2 user cycles + PERST 2 us.
      expect(samples[0].perst).toBe(1);
      expect(perstEdges[0].perst).toBe(0);
      expect(perstEdges[0].t).toBeGreaterThan(2500);
      expect(perstEdges[0].t).toBeLessThan(2700);
      // No link: FAULT after the 1000-cycle link timeout (4 us): the fault LED, not link up or READY.
      const fault = samples.find((s) => s.leds & 0b100)!;
      expect(fault.t).toBeGreaterThan(perstEdges[0].t + 3900);
      expect(fault.t).toBeLessThan(perstEdges[0].t + 4200);
      expect(at(14_000).leds & 0b1011).toBe(0);
      // Both heartbeats toggle, every 2^4 cycles of their clocks.
      const toggles = (bit: number) => samples.filter((s, i) => i > 0 && ((s.leds ^ samples[i - 1].leds) >> bit) & 1).map((s) => s.t);
      const gaps = (ts: number[]) => new Set(ts.slice(1).map((t, i) => t - ts[i]));
      const userBeats = toggles(6).filter((t) => t > 3000 && t < 15000);
      const boardBeats = toggles(7).filter((t) => t > 1000 && t < 15000);
      expect(gaps(userBeats)).toEqual(new Set([64]));
      expect(gaps(boardBeats)).toEqual(new Set([80]));
      // The button: PERST# asserted again at once, the fault cleared, then the same sequence again.
      const pressed = samples.filter((s) => s.t > 15000);
      expect(pressed.find((s) => s.perst === 1)!.t).toBeLessThan(15100);
      expect(at(16_500).leds & 0b100).toBe(0);
      expect(perstEdges.filter((e) => e.t > 16000).map((e) => e.perst)).toEqual([0]);
      expect(at(27_000).leds & 0b100).toBe(0b100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
