// The Vivado build scripts (constraints/<board>/build.tcl and constraints/common/): every Tcl file
// parses under tclsh, and each build script runs from start to end under tclsh with Vivado's commands
// replaced by stand-ins that record their arguments. The run shows that the script creates the
// project for the board table's part, configures pcie_7x as the Gen2 x4 64-bit/250 MHz Root Port
// on the table's block with the core's Max_Payload_Size, adds every file of generated/ (and not the
// stubs) and the board's XDC, all of which exist, checks the generated IP's ports against the
// stub (passing on a template with exactly the stub's ports, stopping with the differences named
// otherwise), and runs synthesis, implementation and the bitstream. Skipped with a notice without
// tclsh (`npm run setup` installs Debian's tcl); CI=true makes a missing tclsh a failure.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../hdl/location.ts";
import { KC705 } from "../../rtl-src/top/board-kc705.ts";
import type { BoardTable } from "../../rtl-src/top/board-top.ts";
import { VC707 } from "../../rtl-src/top/board-vc707.ts";
import { hardwareCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { PCIE_7X_PORTS } from "../../rtl-src/top/pcie-7x.ts";
import { hasTool, runTool } from "../../tools/external.ts";

const hasTclsh = hasTool("tclsh");
const BOARDS: BoardTable[] = [KC705, VC707];
const TCL_FILES = ["constraints/common/ip-ports.tcl", "constraints/common/build-board.tcl", ...BOARDS.map((b) => `constraints/${b.name}/build.tcl`)];

/** Vivado's instantiation template for the IP, in its format, with these ports. */
function fakeVeo(ports: readonly { name: string; direction: string; width: number }[]): string {
  const lines = ports.map((p, i) => `  .${p.name}(${p.name})${i === ports.length - 1 ? "" : ","}   // ${p.direction} wire ${p.width > 1 ? `[${p.width - 1} : 0] ` : ""}${p.name}`);
  return `//----------- Begin Cut here for INSTANTIATION Template ---// INST_TAG\npcie_7x_0 your_instance_name (\n${lines.join("\n")}\n);\n// INST_TAG_END ------ End INSTANTIATION Template ---------\n`;
}

/** Runs `script` under tclsh with Vivado's commands recorded instead of run; returns what was recorded. */
function runWithStandIns(script: string, work: string, veo: string, top: string) {
  const ipDir = join(work, "ip");
  const runDir = join(work, "run");
  for (const dir of [ipDir, runDir]) runTool("mkdir", ["-p", dir]);
  writeFileSync(join(ipDir, "pcie_7x_0.veo"), veo);
  writeFileSync(join(runDir, `${top}.bit`), "bitstream");
  const harness = `
set ::calls {}
proc unknown {args} { lappend ::calls $args; return "" }
proc get_property {name args} {
  lappend ::calls [list get_property $name {*}$args]
  switch -- $name {
    PROGRESS { return "100%" }
    IP_DIR { return {${ipDir}} }
    DIRECTORY { return {${runDir}} }
    SLACK { return 0.125 }
    default { return "" }
  }
}
rename exit tcl_exit
# The real exit ends the script: only the first call counts.
proc exit {{code 0}} { if {![info exists ::exit_code]} { set ::exit_code $code } }
set argv [list {${join(work, "out")}}]
set argc 1
source {${script}}
foreach call $::calls { puts "CALL [join $call " | "]" }
puts "EXIT $::exit_code"
`;
  const file = join(work, "harness.tcl");
  writeFileSync(file, harness);
  const run = runTool("tclsh", [file]);
  const calls = [...run.output.matchAll(/^CALL (.*)$/gm)].map((m) => m[1].split(" | "));
  const exit = /^EXIT (\d+)$/m.exec(run.output);
  return { output: run.output, calls, exitCode: exit ? Number(exit[1]) : undefined };
}

describe.skipIf(!hasTclsh)("the Vivado build scripts under tclsh", () => {
  it.each(TCL_FILES)("%s is complete Tcl (tclsh's info complete)", (file) => {
    const text = readFileSync(join(projectRoot, file), "utf8");
    const work = mkdtempSync(join(tmpdir(), "nvme-host-tcl-"));
    try {
      const probe = join(work, "probe.tcl");
      writeFileSync(probe, `set f [open {${join(projectRoot, file)}}]; set t [read $f]; close $f; puts [info complete $t]`);
      expect(runTool("tclsh", [probe]).output.trim()).toBe("1");
      expect(text.length).toBeGreaterThan(100);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  describe.each(BOARDS.map((b) => ({ ...b, script: `constraints/${b.name}/build.tcl` })))("$script", (board) => {
    const script = join(projectRoot, "constraints", board.name, "build.tcl");
    const top = `board_top_${board.name}`;
    const stubPorts = PCIE_7X_PORTS.map((p) => ({ name: p.name, direction: p.direction, width: p.width }));

    it("builds the board's part and block with the Root Port settings, from every file of generated/ and the board's XDC", () => {
      const work = mkdtempSync(join(tmpdir(), "nvme-host-tcl-"));
      try {
        const { calls, exitCode, output } = runWithStandIns(script, work, fakeVeo(stubPorts), top);
        expect(exitCode, output).toBe(0);
        const named = (command: string) => calls.filter((c) => c[0] === command);
        // The project, for the table's part.
        const project = named("create_project")[0];
        expect(project[project.indexOf("-part") + 1]).toBe(board.part);
        // The IP and its settings.
        expect(named("create_ip")[0]).toEqual(["create_ip", "-name", "pcie_7x", "-vendor", "xilinx.com", "-library", "ip", "-module_name", "pcie_7x_0"]);
        const dict = named("set_property").find((c) => c[1] === "-dict")!;
        const settings = Object.fromEntries(dict[2].split(" ").reduce<string[][]>((pairs, word, i, all) => (i % 2 === 0 ? [...pairs, [word, all[i + 1]]] : pairs), []));
        expect(settings).toMatchObject({
          "CONFIG.Device_Port_Type": "Root_Port_of_PCI_Express_Root_Complex",
          "CONFIG.PCIe_Blk_Locn": board.pcieBlock,
          "CONFIG.Maximum_Link_Width": "X4",
          "CONFIG.Link_Speed": "5.0_GT/s",
          "CONFIG.Interface_Width": "64_bit",
          "CONFIG.User_Clk_Freq": "250",
          "CONFIG.Ref_Clk_Freq": "100_MHz",
          "CONFIG.Max_Payload_Size": `${128 << hardwareCoreParams.enumeration.rootPortMpsCode}_bytes`,
          "CONFIG.shared_logic_in_core": "true",
        });
        // Every Verilog file of generated/ (not the stubs of generated/blackbox/), and the board's XDC; all exist.
        const added = named("add_files").flatMap((c) => c.slice(1).join(" ").split(" ").filter((w) => w.startsWith("/")));
        const generated = readdirSync(join(projectRoot, "generated")).filter((f) => f.endsWith(".v")).map((f) => join(projectRoot, "generated", f));
        expect(added.filter((f) => f.endsWith(".v")).sort()).toEqual(generated.sort());
        expect(added.filter((f) => f.endsWith(".xdc"))).toEqual([join(projectRoot, "constraints", board.name, "board.xdc")]);
        for (const file of added) expect(existsSync(file), file).toBe(true);
        expect(named("set_property").some((c) => c[1] === "top" && c[2] === top)).toBe(true);
        // Synthesis, implementation to the bitstream, the reports, the bitstream copied out.
        expect(named("launch_runs").map((c) => c.slice(1, 2).concat(c.includes("-to_step") ? [c[c.indexOf("-to_step") + 1]] : []))).toEqual([["synth_1"], ["impl_1", "write_bitstream"]]);
        expect(named("report_timing_summary")).toHaveLength(1);
        expect(existsSync(join(work, "out", `${top}.bit`))).toBe(true);
        expect(output).toContain(`pcie_7x_0 has the ${stubPorts.length} ports the board top connects`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });

    it("stops before synthesis, naming the differences, when the generated IP's ports differ from the stub's", () => {
      const work = mkdtempSync(join(tmpdir(), "nvme-host-tcl-"));
      try {
        const changed = stubPorts.filter((p) => p.name !== "cfg_mgmt_wr_rw1c_as_rw").map((p) => (p.name === "tx_buf_av" ? { ...p, width: 5 } : p));
        const { calls, exitCode, output } = runWithStandIns(script, work, fakeVeo([...changed, { name: "pipe_mmcm_rst_n", direction: "input", width: 1 }]), top);
        expect(exitCode).toBe(1);
        expect(output).toContain("the IP has no port cfg_mgmt_wr_rw1c_as_rw (input, 1 bits) that the design connects");
        expect(output).toContain("port tx_buf_av is output 5 bits in the IP, output 6 bits in the design");
        expect(output).toContain("the IP has a port pipe_mmcm_rst_n (input, 1 bits) the design does not connect");
        expect(calls.some((c) => c[0] === "launch_runs")).toBe(false);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
});
