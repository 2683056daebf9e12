// The full-system simulation with a topology (a switch and SSD models behind the root port), on the js
// engine with the stand-in core: the core's type-0 requests on bus 1 reach the switch's upstream bridge,
// a memory read nobody's window claims is answered UR by the switch, fast-forward stays exact with the
// switch's links and SSDs in the loop, and each SSD gets its own options and faults.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeTlp } from "../../../sim/pcie/codec.ts";
import { readTraceFile } from "../../../sim/pcie/trace.ts";
import { CplStatus } from "../../../sim/pcie/tlp.ts";
import { buildSystem, type SystemOptions } from "../../../sim/system/full-system.ts";
import { systemStandIn } from "../../../sim/testbench/system-stand-in.ts";

const dir = mkdtempSync(join(tmpdir(), "full-system-topology-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function options(extra: Partial<SystemOptions> = {}): SystemOptions {
  return {
    core: systemStandIn({ perstCycles: 1500, retryGapCycles: 700, reads: 2, speedUp: false }),
    engine: "js",
    topology: { switch: { downstreamPorts: 4 }, ssds: [{ ssd: { mdts: 4 } }, null, { ssd: { mdts: 6 }, faults: [{ inject: "noLink" }] }, { ssd: { crsCycles: 1234 } }] },
    link: { trainingCycles: 600, latencyCycles: 60 },
    watch: ["done"],
    ...extra,
  };
}

describe("full system with a switch", () => {
  it("the core reaches the upstream bridge, the switch answers UR for unclaimed memory, fast-forward is exact", async () => {
    const runs = [];
    for (const fastForward of [true, false]) {
      const trace = join(dir, `switch-${fastForward}.jsonl`);
      const system = await buildSystem(options({ trace, fastForward }));
      const cycles = system.runUntil(() => system.sim.peek("done") === 1, 200_000, "stand-in done");
      system.step(5000); // the switch's links and SSDs idle behind it
      runs.push({ cycles, end: system.cycle, vendorDevice: system.sim.peek("vendor_device"), trace: readFileSync(trace, "utf8"), stats: { ...system.stats }, sw: system.switch! });
      system.close();
    }
    const [fast, slow] = runs;
    expect(fast.vendorDevice).toBe(0x8624_10b5); // the upstream bridge's ID on bus 1
    expect(fast.trace).toBe(slow.trace);
    expect([fast.cycles, fast.end]).toEqual([slow.cycles, slow.end]);
    expect(fast.stats.fastForwardedCycles).toBeGreaterThan(0.5 * fast.end);
    const tlps = readTraceFile(join(dir, "switch-true.jsonl")).map((e) => ({ dir: e.dir, tlp: decodeTlp(e.tlp) }));
    expect(tlps.filter((t) => t.dir === "down").map((t) => t.tlp.kind)).toEqual(["CfgRd0", "CfgWr0", "CfgWr0", "MRd", "MRd"]);
    const answers = tlps.filter((t) => t.dir === "up").map((t) => t.tlp);
    expect(answers.map((t) => (t.kind === "Cpl" || t.kind === "CplD" ? [t.kind, t.status, t.completerId] : t.kind))).toEqual([
      ["CplD", CplStatus.SC, 0x0000],
      ["Cpl", CplStatus.SC, 0x0100],
      ["Cpl", CplStatus.SC, 0x0100],
      ["Cpl", CplStatus.UR, 0x0100],
      ["Cpl", CplStatus.UR, 0x0100],
    ]);
    // The bridge kept what it could: Memory Space Enable on; its BAR0 is not implemented.
    expect(fast.sw.upstream.memorySpaceEnabled).toBe(true);
    expect(fast.sw.upstream.readDword(0x10)).toBe(0);
  });

  it("gives each SSD its own options and faults; the single-SSD options are refused with a topology", async () => {
    const switchEvents: string[] = [];
    const system = await buildSystem(options({ onSwitchEvent: (e) => switchEvents.push(e.category) }));
    expect(system.ssds.map((s) => s?.options.mdts)).toEqual([4, undefined, 6, 7]);
    expect(system.ssd).toBe(system.ssds[0]);
    system.runUntil(() => system.sim.peek("done") === 1, 200_000, "stand-in done");
    system.step(2500); // the downstream links train 2000 cycles after PERST# release (their own trainingCycles)
    expect(system.switch!.ports.map((p) => p.linkUp)).toEqual([true, false, false, true]);
    expect(switchEvents.filter((c) => c === "link-up").length).toBe(2); // ports 0 and 3, once trained after PERST# release
    system.close();
    await expect(buildSystem(options({ ssd: { mdts: 3 } }))).rejects.toThrow(/topology\.ssds, not in ssd\/faults/);
    const empty = await buildSystem(options({ topology: { ssds: [null] } }));
    expect(() => empty.ssd).toThrow(/no SSD/);
    empty.close();
  });
});
