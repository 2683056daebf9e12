// Memories: synchronous write, registered read (old data on a same-cycle write), initial contents.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
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

  it("rejects a second write port and initial contents that do not fit", () => {
    const m = new Module("mem_bad");
    const ram = m.memory({ width: 8, depth: 4 });
    ram.writePort({ addr: 0, data: 0, en: 0 });
    expect(() => ram.writePort({ addr: 1, data: 0, en: 0 })).toThrow(/already has a write port .*block RAM inference needs exactly one/);
    expect(() => m.memory({ width: 4, depth: 4, init: [16] })).toThrow(/constant 16 does not fit 4-bit unsigned/);
    expect(() => m.memory({ width: 8, depth: 2, init: [1, 2, 3] })).toThrow(/init has 3 words but the depth is 2/);
  });
});
