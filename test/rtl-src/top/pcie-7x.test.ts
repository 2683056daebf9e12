// The pcie_7x black box: the port table (unique names, a use for every port, ties that fit and
// match PG054 / PROTOCOL_FACTS A.2), its port-exact stub (exactly the table, lint clean), and the
// board tops' instance of it: every port of the stub connected, with the stub's width, inputs
// driven by the board top and outputs driven by nothing else; the core's user-side ports all
// reach the block.
import { describe, expect, it } from "vitest";
import { emitBlackBoxStub, emitDesign } from "../../../hdl/index.ts";
import { KC705 } from "../../../rtl-src/top/board-kc705.ts";
import { boardTop } from "../../../rtl-src/top/board-top.ts";
import { hardwareCoreParams, nvmeHostCore } from "../../../rtl-src/top/nvme-host-core.ts";
import { PCIE_7X_MODULE, PCIE_7X_PORTS, pcie7xBlackBox } from "../../../rtl-src/top/pcie-7x.ts";
import { lintFiles, unavailableLintTools } from "../../../tools/lint.ts";

interface StubPort {
  direction: "input" | "output";
  width: number;
}

/** The ports of a Verilog module header written as `input  wire [n:0] name` lines. */
function portsOfStub(text: string): Map<string, StubPort> {
  const ports = new Map<string, StubPort>();
  for (const match of text.matchAll(/^ {2}(input|output)\s+wire\s+(?:\[(\d+):0\]\s+)?(\w+)/gm)) {
    ports.set(match[3], { direction: match[1] as "input" | "output", width: match[2] === undefined ? 1 : Number(match[2]) + 1 });
  }
  return ports;
}

describe("the pcie_7x port table", () => {
  it("names each port once, gives every port a use, and ties only inputs, with values that fit", () => {
    const names = PCIE_7X_PORTS.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const port of PCIE_7X_PORTS) {
      expect(["core", "board", "tie", "unused"], port.name).toContain(port.use.kind);
      if (port.use.kind === "tie") {
        expect(port.direction, port.name).toBe("input");
        expect(BigInt(port.use.value) < 1n << BigInt(port.width), port.name).toBe(true);
        expect(port.use.why.length, port.name).toBeGreaterThan(10);
      }
      if (port.use.kind === "unused") expect(port.direction, port.name).toBe("output");
    }
    // Every input is driven by something: the core, the board top or a constant.
    expect(PCIE_7X_PORTS.filter((p) => p.direction === "input" && p.use.kind === "unused")).toEqual([]);
  });

  it("ties the inputs PG054 and the digest say a root port ties", () => {
    const tieOf = (name: string) => {
      const use = PCIE_7X_PORTS.find((p) => p.name === name)?.use;
      return use?.kind === "tie" ? Number(use.value) : undefined;
    };
    expect(tieOf("tx_cfg_gnt")).toBe(1);
    expect(tieOf("rx_np_req")).toBe(1);
    for (const name of ["cfg_ds_bus_number", "cfg_ds_device_number", "cfg_ds_function_number", "pl_transmit_hot_rst", "pl_downstream_deemph_source", "cfg_pm_send_pme_to", "cfg_interrupt", "cfg_err_ur", "fc_sel", "int_pclk_sel_slave"]) {
      expect(tieOf(name), name).toBe(0);
    }
  });

  it("gives the core every one of its user-side ports, with the core's widths", () => {
    const core = nvmeHostCore(hardwareCoreParams);
    const corePorts = new Map(core.ports.map((p) => [core.displayName(p), p]));
    const pcieSide = [...corePorts.keys()].filter((name) => /^(s_axis_tx_|m_axis_rx_|cfg_mgmt_|pl_|rx_np_ok$|user_lnk_up$)/.test(name));
    const tableCore = PCIE_7X_PORTS.filter((p) => p.use.kind === "core");
    expect(tableCore.map((p) => p.name).sort()).toEqual(pcieSide.sort());
    for (const port of tableCore) {
      const corePort = corePorts.get(port.name)!;
      expect(corePort.width, port.name).toBe(port.width);
      expect(corePort.kind, port.name).toBe(port.direction === "input" ? "output" : "input");
    }
  });
});

describe("the pcie_7x stub", () => {
  const stub = emitBlackBoxStub(pcie7xBlackBox());

  it("declares exactly the table's ports, directions and widths", () => {
    const ports = portsOfStub(stub);
    expect(stub).toMatch(new RegExp(`\\(\\* blackbox \\*\\)\\nmodule ${PCIE_7X_MODULE} \\(`));
    expect([...ports.keys()].sort()).toEqual(PCIE_7X_PORTS.map((p) => p.name).sort());
    for (const port of PCIE_7X_PORTS) expect(ports.get(port.name), port.name).toEqual({ direction: port.direction, width: port.width });
  });

  it("passes Verilator -Wall, Yosys and Icarus on its own", { timeout: 60_000 }, async () => {
    const report = await lintFiles([{ fileName: `${PCIE_7X_MODULE}.v`, moduleName: PCIE_7X_MODULE, text: stub }]);
    expect(report.skipped).toEqual(unavailableLintTools());
    expect(report.findings).toEqual([]);
  });
});

describe("the board top's instance of pcie_7x_0", () => {
  const { files } = emitDesign(boardTop(KC705));
  const top = files.find((f) => f.moduleName === "board_top_kc705")!.text;
  const stubPorts = portsOfStub(emitBlackBoxStub(pcie7xBlackBox()));

  it("connects every port of the stub to a wire of the stub's width, inputs driven by the board top, outputs by the block alone", () => {
    const instance = new RegExp(`\\n {2}${PCIE_7X_MODULE} pcie \\(([\\s\\S]*?)\\n {2}\\);`).exec(top);
    expect(instance).not.toBeNull();
    const connections = new Map([...instance![1].matchAll(/\.(\w+)\((\w+)\)/g)].map((m) => [m[1], m[2]]));
    expect([...connections.keys()].sort()).toEqual([...stubPorts.keys()].sort());
    for (const [port, { direction, width }] of stubPorts) {
      const wire = connections.get(port)!;
      expect(wire, port).toBe(`pcie_${port}`);
      const declaration = new RegExp(`\\n {2}wire (?:\\[(\\d+):0\\] )?${wire};`).exec(top);
      expect(declaration, `${wire} is declared`).not.toBeNull();
      expect(declaration![1] === undefined ? 1 : Number(declaration![1]) + 1, port).toBe(width);
      const assigned = new RegExp(`\\n {2}assign ${wire} = `).test(top);
      expect(assigned, `${port} (${direction}) ${direction === "input" ? "is" : "is not"} assigned in the board top`).toBe(direction === "input");
    }
  });
});
