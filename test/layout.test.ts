// The house rule "one name per block": every module in generated/ is built by an rtl-src/ file named
// after it (tlp_tx_r3_c4_id0000 by rtl-src/tlp/tlp-tx.ts), and that file has a test of its own name
// in the mirrored tree (test/rtl-src/tlp/tlp-tx.test.ts).
import { existsSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { emitDesign } from "../hdl/index.ts";
import { projectRoot } from "../hdl/location.ts";
import { designs } from "../rtl-src/designs.ts";

describe("file = module = test", () => {
  const builders = new Map<string, string>();
  for (const entry of designs) {
    for (const module of emitDesign(entry.build()).design.modules) {
      builders.set(module.name, relative(projectRoot, module.site.location.file));
    }
  }

  it("every emitted module is built by an rtl-src/ file whose name starts its module name", () => {
    const misnamed = [...builders].filter(([module, file]) => {
      const stem = basename(file, ".ts").replaceAll("-", "_");
      return !file.startsWith("rtl-src/") || !module.startsWith(stem);
    });
    expect(misnamed).toEqual([]);
  });

  it("every file that builds a module has a test file of its own name", () => {
    const untested = [...new Set(builders.values())].filter((file) => !existsSync(join(projectRoot, "test", file.replace(/\.ts$/, ".test.ts"))));
    expect(untested).toEqual([]);
    expect(builders.size).toBeGreaterThanOrEqual(20);
  });
});
