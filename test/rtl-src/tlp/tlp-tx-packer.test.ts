// The TLP packer alone, as emitted Verilog: the worked beat-level examples of PROTOCOL_FACTS §A.4
// come out exactly, and malformed source input is flagged on input_error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { RequestKind } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { tlpTxPacker } from "../../../rtl-src/tlp/tlp-tx-packer.ts";
import { createSimulator, type Simulator, verilatorAvailable, VERILATOR_INSTALL_HINT } from "../../../sim/engine/index.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

interface Beat {
  hi: number;
  lo: number;
  keep: number;
  last: number;
}

type Fields = Record<string, number | bigint>;

async function packerSimulator(engine: string): Promise<Simulator> {
  const module = tlpTxPacker({ requesterId: 0x0000 });
  const { files } = emitDesign(module);
  return monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
}

let sim: Simulator;
beforeAll(async () => {
  sim = await packerSimulator("js");
}, 120_000);
afterAll(() => sim?.close());

/** What the arbiter computes upstream of the packer: a memory request at or above 4 GiB. */
function needsFourDw(request: Fields): boolean {
  const memory = request.kind === RequestKind.MRd || request.kind === RequestKind.MWr;
  return memory && BigInt(request.address) >> 32n !== 0n;
}

/** Sends one request (header + payload words as [lo, hi, keep, last]) and returns the beats and input_error pulses. */
function send(request: Fields, payload: [number, number, number, number][] = [], engineSim = sim): { beats: Beat[]; errors: number } {
  const sim = engineSim;
  sim.reset(2);
  sim.poke("s_axis_tx_tready", 1);
  sim.poke("cpl_valid", 0);
  for (const [name, value] of Object.entries(request)) sim.poke(`req_${name}`, value);
  sim.poke("req_four_dw", needsFourDw(request) ? 1 : 0);
  sim.poke("req_valid", 1);
  const beats: Beat[] = [];
  const words = new Uint32Array(2);
  let errors = 0;
  let next = 0;
  for (let cycle = 0; cycle < 30; cycle++) {
    const word = payload[next];
    sim.poke("payload_tvalid", word ? 1 : 0);
    if (word) {
      sim.pokeWords("payload_tdata", [word[0], word[1]]);
      sim.poke("payload_tkeep", word[2]);
      sim.poke("payload_tlast", word[3]);
    }
    const headerTaken = sim.peek("req_ready") === 1;
    const wordTaken = word !== undefined && sim.peek("payload_tready") === 1;
    if (sim.peek("s_axis_tx_tvalid")) {
      sim.peekWords("s_axis_tx_tdata", words);
      beats.push({ hi: words[1], lo: words[0], keep: sim.peek("s_axis_tx_tkeep"), last: sim.peek("s_axis_tx_tlast") });
    }
    errors += sim.peek("input_error");
    sim.step();
    if (headerTaken) sim.poke("req_valid", 0);
    if (wordTaken) next++;
  }
  return { beats, errors };
}

const hex = (beats: Beat[]) => beats.map((b) => `${b.keep === 0x0f ? "--------" : b.hi.toString(16).padStart(8, "0")}_${b.lo.toString(16).padStart(8, "0")} ${b.keep.toString(16)}${b.last ? " last" : ""}`);

function expectWorkedExamples(engineSim: Simulator): void {
  const mwr = send({ kind: RequestKind.MWr, address: 0xe000_0014n, length_dw: 1, first_be: 0xf, last_be: 0, tag: 0 }, [[0x0046_0001, 0, 0x0f, 1]], engineSim);
  expect(hex(mwr.beats)).toEqual(["0000000f_40000001 ff", "01004600_e0000014 ff last"]);
  const mrd = send({ kind: RequestKind.MRd, address: 0xe000_001cn, length_dw: 1, first_be: 0xf, last_be: 0, tag: 1 }, [], engineSim);
  expect(hex(mrd.beats)).toEqual(["0000010f_00000001 ff", "--------_e000001c f last"]);
  const cfgRd = send({ kind: RequestKind.CfgRd0, address: 0x0100_0000n, length_dw: 1, first_be: 0xf, last_be: 0, tag: 2 }, [], engineSim);
  expect(hex(cfgRd.beats)).toEqual(["0000020f_04000001 ff", "--------_01000000 f last"]);
  const cfgWr = send({ kind: RequestKind.CfgWr0, address: 0x0100_0004n, length_dw: 1, first_be: 0x3, last_be: 0, tag: 3 }, [[0x0000_0006, 0, 0x0f, 1]], engineSim);
  expect(hex(cfgWr.beats)).toEqual(["00000303_44000001 ff", "06000000_01000004 ff last"]);
  expect(mwr.errors + mrd.errors + cfgRd.errors + cfgWr.errors).toBe(0);
}

describe("tlp_tx_packer", () => {
  it("packs the worked examples of the facts digest exactly (BAR0 0xE000_0000, requester 0x0000)", () => {
    expectWorkedExamples(sim);
  });

  it.skipIf(!verilatorAvailable())(`packs them the same on Verilator${verilatorAvailable() ? "" : ` (skipped: ${VERILATOR_INSTALL_HINT})`}`, async () => {
    const verilated = await packerSimulator("verilator");
    try {
      expectWorkedExamples(verilated);
    } finally {
      verilated.close();
    }
  }, 300_000);

  it("puts a 4DW header's address in {DW3, DW2} and the payload QW-aligned after it", () => {
    const payload: [number, number, number, number][] = [[0x0403_0201, 0x0807_0605, 0xff, 0], [0x0c0b_0a09, 0, 0x0f, 1]];
    const { beats, errors } = send({ kind: RequestKind.MWr, address: 0x1_2345_6780n, length_dw: 3, first_be: 0xf, last_be: 0xf, tag: 4 }, payload);
    expect(hex(beats)).toEqual(["000004ff_60000003 ff", "23456780_00000001 ff", "05060708_01020304 ff", "--------_090a0b0c f last"]);
    expect(errors).toBe(0);
  });

  it("flags a payload whose tlast disagrees with Length, and an unaligned address, on input_error", () => {
    const early = send({ kind: RequestKind.MWr, address: 0x1000n, length_dw: 4, first_be: 0xf, last_be: 0xf, tag: 0 }, [[1, 2, 0xff, 1], [3, 4, 0xff, 1]]);
    expect(early.errors).toBe(1);
    expect(early.beats.length).toBe(4);
    const unaligned = send({ kind: RequestKind.MRd, address: 0x1002n, length_dw: 1, first_be: 0xf, last_be: 0, tag: 0 });
    expect(unaligned.errors).toBe(1);
  });

  it("only lets a waiting completion hold back a request header combinationally", () => {
    const { design } = emitDesign(tlpTxPacker({ requesterId: 0 }));
    expect([...design.combinationalPaths.get(design.top)!.entries()]).toEqual([["req_ready", ["cpl_valid"]]]);
  });
});
