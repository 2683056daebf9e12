// The VC707 board top (the table in rtl-src/top/board-vc707.ts, the builder in board-top.ts): with the
// port-exact stubs of the pcie_7x hard block and the primitives it passes Verilator -Wall, Yosys
// hierarchy -check and Icarus, the whole controller below it included; the table says what the
// board's constraints and build script say (test/constraints/ checks those against the table).
import { describe, expect, it } from "vitest";
import { emitBlackBoxStub, emitDesign } from "../../../hdl/index.ts";
import { VC707, boardVc707 } from "../../../rtl-src/top/board-vc707.ts";
import { lintFiles, unavailableLintTools } from "../../../tools/lint.ts";

describe("board_top_vc707", () => {
  const { files, design } = emitDesign(boardVc707());
  const top = files.find((f) => f.moduleName === "board_top_vc707")!;
  const stubs = design.blackBoxes.map((def) => ({ fileName: `${def.module}.v`, moduleName: def.module, text: emitBlackBoxStub(def) }));

  it("passes Verilator -Wall, Yosys hierarchy -check and Icarus -g2005 with the black-box stubs", { timeout: 300_000 }, async () => {
    const report = await lintFiles([top], { library: [...files.filter((f) => f !== top), ...stubs] });
    expect(report.skipped).toEqual(unavailableLintTools());
    expect(report.findings).toEqual([]);
  });

  it("places the hard block, the reference-clock buffer and the system clock's buffers as black boxes, and nothing else", () => {
    expect(stubs.map((s) => s.moduleName)).toEqual(["BUFG", "IBUFDS", "IBUFDS_GTE2", "pcie_7x_0"]);
    expect(top.text).toMatch(/\n {2}pcie_7x_0 pcie \(/);
    expect(top.text).toMatch(/\n {2}IBUFDS_GTE2 refclk_ibuf \(/);
  });

  it("lists the board's part and PCIe block in its header, for the reader of the Verilog", () => {
    expect(top.text).toMatch(new RegExp(`//   part +${VC707.part}\n`));
    expect(top.text).toMatch(new RegExp(`//   pcieBlock +${VC707.pcieBlock}\n`));
  });
});
