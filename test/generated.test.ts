// generated/ is exactly what rtl-src/ emits (its black-box stubs in generated/blackbox/ too), every
// file in it is lint-clean (with the stubs standing in for the black boxes), and no design has a
// combinational path from an input to an output.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitDesign } from "../hdl/index.ts";
import { projectRoot } from "../hdl/location.ts";
import { designs } from "../rtl-src/designs.ts";
import { BLACK_BOX_DIR, emitAllDesigns } from "../tools/generate.ts";
import { lintFiles, unavailableLintTools } from "../tools/lint.ts";

const generatedDir = join(projectRoot, "generated");

describe("generated/", () => {
  const { files, stubs } = emitAllDesigns();

  it("holds exactly the files rtl-src/ emits, byte for byte, and a stub of each black box", () => {
    for (const [dir, list] of [[generatedDir, files], [join(generatedDir, BLACK_BOX_DIR), stubs]] as const) {
      const committed = readdirSync(dir).filter((n) => n.endsWith(".v")).sort();
      expect(committed).toEqual(list.map((f) => f.fileName).sort());
      for (const file of list) expect(readFileSync(join(dir, file.fileName), "utf8")).toBe(file.text);
    }
    expect(stubs.map((s) => s.moduleName)).toContain("pcie_7x_0");
  });

  it("emitting twice gives identical bytes", () => {
    expect(emitAllDesigns().files).toEqual(files);
  });

  // Three tools on every module of the whole controller: minutes on a loaded 2-core machine. The
  // board tops (the whole controller again, under each) are linted by their own tests
  // (test/rtl-src/top/board-<board>.test.ts), with the same stubs: here they are only a library.
  it("passes Verilator -Wall, Yosys check -assert and Icarus -g2005 with no warning", { timeout: 600_000 }, async () => {
    const boardTops = files.filter((f) => f.moduleName.startsWith("board_top_"));
    expect(boardTops.map((f) => f.moduleName)).toEqual(["board_top_kc705", "board_top_vc707"]);
    const report = await lintFiles(files.filter((f) => !boardTops.includes(f)), { library: [...stubs, ...boardTops] });
    expect(report.skipped).toEqual(unavailableLintTools());
    expect(report.findings).toEqual([]);
  });

  it("no design has a combinational path from an input to an output, unless a submodule documents why; none warns", () => {
    for (const entry of designs) {
      const { design } = emitDesign(entry.build());
      expect({ top: design.top.name, paths: [...design.combinationalPaths.get(design.top)!] }).toEqual({ top: design.top.name, paths: [] });
      for (const module of design.modules) {
        if (module.combinationalPathsReason) continue;
        expect({ module: module.name, paths: [...design.combinationalPaths.get(module)!] }).toEqual({ module: module.name, paths: [] });
      }
      expect(design.warnings).toEqual([]);
    }
  });
});
