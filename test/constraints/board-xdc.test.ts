// The boards' XDC files against their board tops and tables: every pin of the board top placed
// once, with an I/O standard (the GT reference clock and the lanes excepted: dedicated GT pins), no
// package pin used twice, no constraint naming a port the board top does not have; the four lanes
// on four channels of one GT quad with that quad's common block; the PCIe block the table names;
// the reference clock at 100 MHz and the system clock at the table's frequency; the sources cited.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../hdl/location.ts";
import { KC705 } from "../../rtl-src/top/board-kc705.ts";
import { type BoardTable, boardTop } from "../../rtl-src/top/board-top.ts";
import { VC707 } from "../../rtl-src/top/board-vc707.ts";

/** `set_property` lines: the properties each port (or port bit) gets. */
function portProperties(xdc: string): Map<string, Record<string, string>> {
  const byPort = new Map<string, Record<string, string>>();
  for (const line of xdc.split("\n")) {
    const dict = /^set_property -dict \{([^}]*)\} \[get_ports (\{[^}]*\}|\S+)\]/.exec(line);
    const single = /^set_property (\w+) (\S+) \[get_ports (\{[^}]*\}|\S+)\]/.exec(line);
    if (!dict && !single) continue;
    const props: Record<string, string> = {};
    if (dict) {
      const words = dict[1].trim().split(/\s+/);
      for (let i = 0; i < words.length; i += 2) props[words[i]] = words[i + 1];
    } else {
      props[single![1]] = single![2];
    }
    const port = (dict ? dict[2] : single![3]).replace(/^\{|\}$/g, "");
    byPort.set(port, { ...byPort.get(port), ...props });
  }
  return byPort;
}

/** Every port name (with its bit, `leds[3]`) any command of the file names. */
function portsNamed(xdc: string): string[] {
  return [...xdc.matchAll(/\[get_ports (\{[^}]*\}|\S+?)\]/g)].flatMap((m) => m[1].replace(/^\{|\}$/g, "").split(/\s+/));
}

describe.each([KC705, VC707].map((board) => ({ board, file: `constraints/${board.name}/board.xdc` })))("$file", ({ board, file }) => {
  const xdc = readFileSync(join(projectRoot, file), "utf8");
  const top = boardTop(board as BoardTable);
  const ports = top.ports.map((p) => ({ name: top.displayName(p), width: p.width }));
  const gtPorts = new Set(["pci_exp_txp", "pci_exp_txn", "pci_exp_rxp", "pci_exp_rxn"]);
  const refclk = new Set(["pcie_refclk_p", "pcie_refclk_n"]);
  const props = portProperties(xdc);

  it("places every pin of the board top once, with an I/O standard where it needs one, and no pin twice", () => {
    for (const port of ports.filter((p) => !gtPorts.has(p.name))) {
      const bits = port.width === 1 ? [port.name] : Array.from({ length: port.width }, (_, i) => `${port.name}[${i}]`);
      for (const bit of bits) {
        expect(props.get(bit)?.PACKAGE_PIN, `${bit} has a package pin`).toMatch(/^[A-Z]{1,2}\d{1,2}$/);
        if (!refclk.has(port.name)) expect(props.get(bit)?.IOSTANDARD, `${bit} has an I/O standard`).toMatch(/^(LVCMOS(15|18|25)|LVDS)$/);
      }
    }
    for (const gt of gtPorts) expect([...props.keys()].some((p) => p.startsWith(gt)), `${gt} is placed by its GT channel, not a pin`).toBe(false);
    const pins = [...props.values()].map((p) => p.PACKAGE_PIN).filter(Boolean);
    expect(new Set(pins).size).toBe(pins.length);
  });

  it("names no port the board top does not have", () => {
    const known = new Set(ports.flatMap((p) => (p.width === 1 ? [p.name] : [p.name, `${p.name}[*]`, ...Array.from({ length: p.width }, (_, i) => `${p.name}[${i}]`)])));
    const unknown = portsNamed(xdc).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it("puts the four lanes on four channels of one GT quad with its common block, and the table's PCIe block", () => {
    const channels = [0, 1, 2, 3].map((lane) => {
      const match = new RegExp(`^set_property LOC GTXE2_CHANNEL_X(\\d)Y(\\d+) \\[get_cells .*pipe_lane\\[${lane}\\]\\.gt_wrapper_i/gtx_channel\\.gtxe2_channel_i\\}\\]$`, "m").exec(xdc);
      expect(match, `lane ${lane} is placed`).not.toBeNull();
      return { x: Number(match![1]), y: Number(match![2]) };
    });
    const quad = Math.floor(channels[0].y / 4);
    expect(channels.map((c) => c.y)).toEqual([0, 1, 2, 3].map((lane) => 4 * quad + lane));
    expect(new Set(channels.map((c) => c.x)).size).toBe(1);
    expect(xdc).toMatch(new RegExp(`^set_property LOC GTXE2_COMMON_X${channels[0].x}Y${quad} \\[get_cells .*gtx_common\\.gtxe2_common_i\\}\\]$`, "m"));
    expect(xdc).toMatch(new RegExp(`^set_property LOC PCIE_${board.pcieBlock} \\[get_cells .*pcie_7x_i/pcie_block_i\\}\\]$`, "m"));
  });

  it("times the reference clock at 100 MHz and the system clock at the table's frequency", () => {
    expect(xdc).toMatch(/^create_clock -period 10\.000 -name pcie_refclk \[get_ports pcie_refclk_p\]$/m);
    const period = (1e9 / board.systemClockHz).toFixed(3);
    expect(xdc).toMatch(new RegExp(`^create_clock -period ${period.replace(".", "\\.")} -name sys_clk \\[get_ports sys_clk_p\\]$`, "m"));
  });

  it("cites where its pins come from: the board's user guide and the adapter's published constraints", () => {
    const guide = board.name === "kc705" ? "UG810" : "UG885";
    expect(xdc).toContain(`[${guide}]`);
    expect(xdc).toContain("[OPSERO]");
    expect(xdc).toContain("fpgadeveloper/fpga-drive-aximm-pcie");
    // Every package pin sits in a section whose heading cites a source.
    const sections = xdc.split(/^# ---- /m).slice(1);
    for (const section of sections) {
      const [heading, ...lines] = section.split("\n");
      const comments = [heading, ...lines.filter((l) => l.startsWith("#"))].join(" ");
      if (/PACKAGE_PIN|LOC /.test(section)) expect(comments, heading).toMatch(/\[(UG810|UG885|OPSERO|PG054)\]/);
    }
  });
});
