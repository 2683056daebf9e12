// The Simulator interface on both engines: poke/peek/step, hierarchy names, wide values,
// reset, VCD, and the errors bad input gets.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type EngineName, type Simulator, createSimulator, resolveEngine, engineFlag,
  verilatorAvailable, VERILATOR_INSTALL_HINT, nativeAvailable,
} from "../../../sim/engine/index.ts";
import { buildVerilatorModel } from "../../../sim/engine/verilator-build.ts";

const FIXTURES = new URL("../../fixtures/engine/", import.meta.url).pathname;
const counterTop = { sources: [`${FIXTURES}counter_top.v`, `${FIXTURES}counter.v`], top: "counter_top" };
const tmp = mkdtempSync(join(tmpdir(), "engine-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hasVerilator = verilatorAvailable();
const engines: EngineName[] = [...(hasVerilator ? (["js", "verilator"] as const) : (["js"] as const)), ...(nativeAvailable() ? (["native"] as const) : [])];

/** The counter_top fixture, modelled in TypeScript. */
class CounterModel {
  count = 0;
  total = 0n;
  wraps = 0;
  edge(rst: boolean, en: boolean, limit: number, addend: bigint) {
    if (rst) {
      this.count = 0;
      this.total = 0n;
      this.wraps = 0;
      return;
    }
    const atLimit = this.count === limit;
    this.total = (this.total + addend) & ((1n << 64n) - 1n);
    if (en && atLimit) this.wraps = (this.wraps + 1) & 0xffff;
    if (en) this.count = atLimit ? 0 : (this.count + 1) & 0xff;
  }
}

describe.each(engines)("%s engine", (engine) => {
  let sim: Simulator;

  it("builds the model and lists ports and internal signals by DSL name", async () => {
    sim = await createSimulator({ ...counterTop, engine });
    expect(sim.engine).toBe(engine);
    const byName = new Map(sim.signals.map((s) => [s.name, s]));
    expect(byName.get("addend")).toEqual({ name: "addend", width: 64, direction: "input" });
    expect(byName.get("total")?.direction).toBe("output");
    expect(byName.get("u_count.count")).toEqual({ name: "u_count.count", width: 8, direction: "internal" });
    expect(byName.get("u_count.at_limit")?.width).toBe(1);
  });

  it("matches a TypeScript model cycle by cycle, internal signals included", () => {
    const model = new CounterModel();
    const h = { en: sim.signal("en"), limit: sim.signal("limit"), count: sim.signal("u_count.count"), wraps: sim.signal("wraps") };
    sim.reset(2);
    model.edge(true, false, 0, 0n);
    expect(sim.cycle).toBe(2);
    let seed = 12345;
    for (let c = 0; c < 500; c++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const en = (seed & 3) !== 0, limit = 3 + ((seed >>> 8) & 7);
      const addend = (BigInt(seed) << 32n) | BigInt((seed ^ 0x5a5a5a5a) >>> 0);
      sim.poke(h.en, en ? 1 : 0);
      sim.poke(h.limit, limit);
      sim.poke("addend", addend);
      // The combinational wrap depends on this cycle's inputs before the edge.
      expect(sim.peek("u_count.wrap")).toBe(en && model.count === limit ? 1 : 0);
      sim.step();
      model.edge(false, en, limit, addend);
      expect(sim.peek(h.count)).toBe(model.count);
      expect(sim.peek("value")).toBe(model.count);
      expect(sim.peek(h.wraps)).toBe(model.wraps);
      expect(sim.peekBig("total")).toBe(model.total);
    }
    expect(sim.cycle).toBe(502);
    const words = sim.peekWords("total", new Uint32Array(2));
    expect((BigInt(words[1]) << 32n) | BigInt(words[0])).toBe(model.total);
  });

  it("pokes wide inputs from words and from numbers", () => {
    sim.reset();
    sim.pokeWords("addend", [0xdeadbeef, 0x12345678]);
    sim.poke("en", 0);
    sim.step(3);
    expect(sim.peekBig("total")).toBe(3n * 0x12345678deadbeefn);
    sim.poke("addend", 2 ** 40);
    sim.step();
    expect(sim.peekBig("total")).toBe(3n * 0x12345678deadbeefn + 2n ** 40n);
  });

  it("rejects unknown names with the closest ones", () => {
    expect(() => sim.peek("u_count.cout")).toThrow(/no signal named "u_count.cout" in counter_top; closest: "u_count.count"/);
    expect(() => sim.poke("limt", 1)).toThrow(/closest: "limit"/);
  });

  it("rejects values too wide, negative or fractional, and pokes of outputs or the clock", () => {
    expect(() => sim.poke("limit", 256)).toThrow(/value 256 does not fit the 8-bit input "limit" of counter_top \(0 \.\. 255\)/);
    expect(() => sim.poke("limit", -1)).toThrow(/value -1 does not fit/);
    expect(() => sim.poke("limit", 1.5)).toThrow(/value 1.5 does not fit/);
    expect(() => sim.poke("addend", 1n << 64n)).toThrow(/does not fit the 64-bit input "addend"/);
    expect(() => sim.pokeWords("addend", [1])).toThrow(/give 2 words, not 1/);
    expect(() => sim.poke("value", 1)).toThrow(/"value" is an output of counter_top; only inputs can be poked/);
    expect(() => sim.poke("u_count.count", 1)).toThrow(/internal signal/);
    expect(() => sim.poke("clk", 1)).toThrow(/driven by step\(\)/);
    expect(() => sim.peek("total")).toThrow(/64 bits wide: use peekBig\(\) or peekWords\(\)/);
  });

  it("writes a VCD with the module hierarchy as scopes", () => {
    const path = join(tmp, `${engine}.vcd`);
    sim.dumpVcd(path);
    sim.reset();
    sim.poke("en", 1);
    sim.poke("limit", 2);
    sim.step(6);
    sim.close();
    const vcd = readFileSync(path, "utf8");
    expect(vcd).toMatch(/\$scope module counter_top \$end\n(.*\n)*\$scope module u_count \$end\n(.*\n)*\$var wire 8 \S+ count \[7:0\] \$end/);
    expect(vcd).toContain("$enddefinitions $end");
    const count = /\$var wire 8 (\S+) count /.exec(vcd.slice(vcd.indexOf("$scope module u_count")))![1];
    const values = [...vcd.matchAll(new RegExp(`^b([01]+) ${count.replace(/[$^\\.*+?()[\]{}|]/g, "\\$&")}$`, "gm"))].map((m) => parseInt(m[1], 2));
    expect(values.slice(-6)).toEqual([1, 2, 0, 1, 2, 0]);
  });
});

describe.skipIf(!hasVerilator)("both engines", () => {
  it("dump VCDs with identical headers and values", async () => {
    const dumps: string[] = [];
    for (const engine of engines) {
      const path = join(tmp, `same-${engine}.vcd`);
      const sim = await createSimulator({ ...counterTop, engine, vcd: path });
      sim.reset();
      sim.poke("en", 1);
      sim.poke("limit", 5);
      sim.poke("addend", 0xfedcba9876543210n);
      sim.step(20);
      sim.close();
      dumps.push(readFileSync(path, "utf8"));
    }
    expect(dumps[1]).toBe(dumps[0]);
  });
});

describe.skipIf(!hasVerilator)("visibility: ports", () => {
  it("a verilator model of ports only lists only the ports and runs like the full one", async () => {
    const full = await createSimulator({ ...counterTop, engine: "verilator" });
    const lean = await createSimulator({ ...counterTop, engine: "verilator", visibility: "ports" });
    expect(lean.signals.every((s) => s.direction !== "internal")).toBe(true);
    expect(lean.signals.map((s) => s.name)).toEqual(full.signals.filter((s) => s.direction !== "internal").map((s) => s.name));
    expect(full.peek("u_count.count")).toBe(0);
    expect(() => lean.peek("u_count.count")).toThrow(/u_count\.count/);
    const outputs = lean.signals.filter((s) => s.direction === "output").map((s) => s.name);
    for (const sim of [full, lean]) sim.reset(2);
    for (let c = 0; c < 300; c++) {
      for (const sim of [full, lean]) {
        sim.poke("en", c % 7 === 3 ? 0 : 1);
        sim.poke("limit", 5 + (c % 11));
        sim.poke("addend", BigInt(c) * 0x1_0000_0001n);
      }
      for (const name of outputs) expect(lean.peekBig(name), `${name} at cycle ${c}`).toBe(full.peekBig(name));
      full.step();
      lean.step();
    }
    full.close();
    lean.close();
  });
});

describe("bad input", () => {
  it("reports a Verilog file Yosys rejects with its path and line", async () => {
    await expect(createSimulator({ sources: [`${FIXTURES}broken.v`], top: "broken", cache: false }))
      .rejects.toThrow(new RegExp(`Yosys rejected the design \\(top broken\\):\\n${FIXTURES}broken.v:7: ERROR: syntax error`));
  });

  it("names a cell type the JS engine does not support", async () => {
    await expect(createSimulator({ sources: [`${FIXTURES}unsupported_pow.v`], top: "unsupported_pow", cache: false }))
      .rejects.toThrow(/does not support cell type \$pow \(cell .* from .*unsupported_pow\.v:11/);
  });

  it("reports a missing top module", async () => {
    await expect(createSimulator({ sources: [`${FIXTURES}counter.v`], top: "nope", cache: false })).rejects.toThrow(/Yosys rejected the design \(top nope\)/);
  });

  it("reports a missing file", async () => {
    await expect(createSimulator({ sources: [`${FIXTURES}missing.v`], top: "x" })).rejects.toThrow(/cannot read Verilog file .*missing\.v/);
  });

  it("says in one line how to install Verilator when it is missing", async () => {
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await expect(buildVerilatorModel([{ path: "x.v", text: "module x; endmodule" }], "x"))
        .rejects.toThrow(`Verilator is not installed; install it with: ${VERILATOR_INSTALL_HINT}`);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe("engine choice", () => {
  it("takes the option, then NVME_HOST_ENGINE, then js", () => {
    expect(resolveEngine(undefined, {})).toBe("js");
    expect(resolveEngine(undefined, { NVME_HOST_ENGINE: "verilator" })).toBe("verilator");
    expect(resolveEngine("js", { NVME_HOST_ENGINE: "verilator" })).toBe("js");
    expect(resolveEngine("native", {})).toBe("native");
    expect(() => resolveEngine("iverilog", {})).toThrow(/unknown simulation engine "iverilog" \(from --engine\); choose one of: js, verilator, native$/);
    expect(() => resolveEngine(undefined, { NVME_HOST_ENGINE: "x" })).toThrow(/from NVME_HOST_ENGINE/);
  });

  it("reads --engine from a command line", () => {
    expect(engineFlag(["sim", "--engine", "verilator"])).toBe("verilator");
    expect(engineFlag(["--engine=js"])).toBe("js");
    expect(engineFlag(["sim"])).toBeUndefined();
    expect(() => engineFlag(["--engine"])).toThrow(/needs a value: js, verilator, native/);
  });
});
