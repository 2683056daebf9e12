// Memories: synchronous write, registered read (old data on a same-cycle write), initial contents
// (zero where none are given), and addresses past a depth that is not a power of two.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
import { installedSimulators, runOnEverySimulator } from "../../sim/testbench/run-everywhere.ts";
import { icarusAvailable, runModule } from "../../sim/testbench/run-module.ts";

function memoryUnderTest(init?: number[]): Module {
  const m = new Module(init ? "mem_init" : "mem_plain");
  const waddr = m.input(3);
  const wdata = m.input(16);
  const wen = m.input(1);
  const raddr = m.input(3);
  const ren = m.input(1);
  const rdata = m.output(16);
  const store = m.memory({ width: 16, depth: 8, init });
  store.writePort({ addr: waddr, data: wdata, en: wen });
  const read = store.readPort({ addr: raddr, en: ren });
  m.comb(rdata, read.data);
  return m;
}

describe("memory", () => {
  it("is emitted as a Verilog array with one write process and one registered read process", () => {
    const text = emitDesign(memoryUnderTest()).files[0].text;
    expect(text).toContain("reg [15:0] store [0:7];");
    expect(text).toContain("store[store_waddr] <= store_wdata;");
    expect(text).toContain("store_rdata <= store[store_raddr];");
  });

  it.skipIf(!icarusAvailable())("writes at the clock edge and reads one cycle later; a same-cycle read returns the old word", () => {
    const out = runModule(memoryUnderTest(), {
      inputs: {
        waddr: [1, 2, 1, 0, 0, 0],
        wdata: [0x1111, 0x2222, 0x3333, 0, 0, 0],
        wen: [1, 1, 1, 0, 0, 0],
        raddr: [0, 0, 1, 1, 2, 2],
        ren: [0, 0, 1, 1, 1, 0],
      },
      cycles: 7,
      outputs: ["rdata"],
    });
    // Cycle 2 reads address 1 while it is rewritten: the read returns 0x1111, the next read 0x3333.
    expect(out.rdata.slice(3, 7)).toEqual([0x1111n, 0x3333n, 0x2222n, 0x2222n]);
  });

  it.skipIf(!icarusAvailable())("starts with its initial contents", () => {
    const out = runModule(memoryUnderTest([5, 6, 7]), {
      inputs: { waddr: [0], wdata: [0], wen: [0], raddr: [0, 1, 2, 3], ren: [1] },
      cycles: 5,
      outputs: ["rdata"],
    });
    expect(out.rdata.slice(1, 5)).toEqual([5n, 6n, 7n, 0n]);
  });

  it(`reads zero from words nobody wrote or initialised (${installedSimulators().join(", ")})`, async () => {
    const runs = await runOnEverySimulator(memoryUnderTest(), {
      inputs: { waddr: [0], wdata: [0], wen: [0], raddr: [0, 3, 7, 5], ren: [1] },
      cycles: 5,
      outputs: ["rdata"],
    });
    for (const [simulator, out] of Object.entries(runs)) expect({ simulator, rdata: out.rdata }).toEqual({ simulator, rdata: [0n, 0n, 0n, 0n, 0n] });
  }, 240_000);

  it(`of a depth that is not a power of two drops writes past its end and reads 0 there (${installedSimulators().join(", ")})`, async () => {
    const m = new Module("mem_depth5");
    const waddr = m.input(3);
    const wdata = m.input(8);
    const wen = m.input(1);
    const raddr = m.input(3);
    const rdata = m.output(8);
    const five = m.memory({ width: 8, depth: 5, init: [1, 2, 3, 4, 5] });
    five.writePort({ addr: waddr, data: wdata, en: wen });
    m.comb(rdata, five.readPort({ addr: raddr, en: 1 }).data);
    // Cycles 0-2 write 0xe5..0xe7 past the end; then every address 0..7 is read.
    const runs = await runOnEverySimulator(m, {
      inputs: { waddr: [5, 6, 7, 0], wdata: [0xe5, 0xe6, 0xe7, 0], wen: [1, 1, 1, 0], raddr: [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7] },
      cycles: 12,
      outputs: ["rdata"],
    });
    for (const [simulator, out] of Object.entries(runs)) {
      expect({ simulator, rdata: out.rdata.slice(4) }).toEqual({ simulator, rdata: [1n, 2n, 3n, 4n, 5n, 0n, 0n, 0n] });
    }
    const text = emitDesign(m).files[0].text;
    expect(text).toContain("if (five_wen && (five_waddr < 3'd5)) begin");
    expect(text).toContain("five_rdata <= (five_raddr < 3'd5) ? five[five_raddr] : 8'd0;");
    // A power-of-two depth has no address past its end, and no guard.
    expect(emitDesign(memoryUnderTest()).files[0].text).not.toMatch(/store_[rw]addr </);
  }, 240_000);

  it("rejects a constant address past the end, naming the line", () => {
    const m = new Module("mem_constant_address");
    const ram = m.memory({ width: 8, depth: 6 });
    expect(() => ram.readPort({ addr: 6, en: 1 })).toThrow(/^test\/hdl\/memory\.test\.ts:\d+: memory "ram" has 6 words \(0\.\.5\); the constant address 6 is past its end/);
    expect(() => ram.writePort({ addr: 7, data: 0, en: 1 })).toThrow(/^test\/hdl\/memory\.test\.ts:\d+: .*constant address 7 is past its end/);
    expect(() => ram.readPort({ addr: 5, en: 1 })).not.toThrow();
  });

  it("rejects a second write port and initial contents that do not fit", () => {
    const m = new Module("mem_bad");
    const ram = m.memory({ width: 8, depth: 4 });
    ram.writePort({ addr: 0, data: 0, en: 0 });
    expect(() => ram.writePort({ addr: 1, data: 0, en: 0 })).toThrow(/already has a write port .*block RAM inference needs exactly one/);
    expect(() => m.memory({ width: 4, depth: 4, init: [16] })).toThrow(/constant 16 does not fit 4-bit unsigned/);
    expect(() => m.memory({ width: 8, depth: 2, init: [1, 2, 3] })).toThrow(/init has 3 words but the depth is 2/);
  });
});
