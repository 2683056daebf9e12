// The agreement cases of generated/'s representative designs (representativeTops) for
// agreement.test.ts, on the js engine and Icarus, which is what guards our own engine (a Verilator
// build per design costs seconds each; the controller's core in agreement-core.test.ts, the
// fixtures, the fuzz test and `npm run bench:agreement` keep Verilator in the comparison).
import { describe, expect, it } from "vitest";
import { checkAgreement } from "../../../sim/engine/agreement.ts";
import { type DesignSet, designsIn, representativeTops } from "../../../sim/engine/designs.ts";
import type { EngineName } from "../../../sim/engine/index.ts";
import { hierarchySources, undefinedModules } from "../../../sim/engine/verilog-scan.ts";
import { icarusAvailable } from "../../../tools/icarus.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const CYCLES = 3000;

export const isControllerCore = (top: string): boolean => top.startsWith("nvme_host_core_");

/**
 * The modules the controller core instantiates itself (its PCIe front's TLP layer, its lane): the
 * core's agreement (agreement-core.test.ts) compares every signal of them on the js engine and
 * Icarus, and their own parts are designs of their own here, so running them again alone adds a
 * build and little else (the lane alone cost 18 s).
 */
export function coreChildren(set: DesignSet): Set<string> {
  const core = set.tops.findIndex(isControllerCore);
  if (core < 0) return new Set();
  const text = set.sources[core].text;
  return new Set(set.tops.filter((top) => new RegExp(`^\\s*${top}\\s+\\w+\\s*\\(`, "m").test(text)));
}

/**
 * The several-SSD cores (nvme_striped_core, and nvme_array_core under it): left out of the random
 * agreement. Each is four one-SSD cores' worth of lanes (about 19k LUTs): the js engine takes
 * minutes to build one (their own tests run them on Verilator for that reason), far over what a
 * design may cost here. What they are built of agrees on its own: the PCIe front's blocks (as
 * generated/ designs and inside nvme_host_core), nvme_lane, pcie_topology_enumerator and
 * user_port_striper; what they add (Requester-ID routing, lane states, the striper's view of the
 * lanes) is tested in test/rtl-src/top/nvme-array-core.test.ts and nvme-striped-core.test.ts.
 */
export const isArrayCore = (top: string): boolean => top.startsWith("nvme_array_core_") || top.startsWith("nvme_striped_core_");

/** One test per representative design of generated/ that `which` accepts: the js engine and Icarus agree. */
export function describeGeneratedAgreement(title: string, which: (top: string, set: DesignSet) => boolean): void {
  const generated = designsIn(`${ROOT}generated`);
  const tops = representativeTops(generated).filter((top) => which(top, generated));
  const engines: EngineName[] = ["js"];
  const icarus = icarusAvailable();
  describe(title, () => {
    it("are there to test", () => {
      expect(tops.length).toBeGreaterThan(0);
    });

    // One simulator alone would agree with itself: skip (Icarus is missing; CI=true makes that a failure).
    it.skipIf(engines.length + (icarus ? 1 : 0) < 2).for(tops)("%s agrees on every simulator", { timeout: 600_000 }, async (top, ctx) => {
      const blackBoxes = undefinedModules(generated.sources, top);
      if (blackBoxes.length > 0) {
        console.warn(`NOTICE: ${top} is SKIPPED: it instantiates ${blackBoxes.join(", ")}, defined nowhere in generated/ (a black box to model in TypeScript)`);
        ctx.skip();
      }
      // The design's own files: Yosys and Icarus read every file they are given.
      const report = await checkAgreement(hierarchySources(generated.sources, top), top, { cycles: CYCLES, seed: 0x5eed, engines, icarus });
      expect(report.onlyIn).toEqual({});
      expect(report.first, JSON.stringify(report.first, null, 2)).toBeNull();
      expect(report.comparedOutputs).toBeGreaterThan(0);
    });
  });
}
