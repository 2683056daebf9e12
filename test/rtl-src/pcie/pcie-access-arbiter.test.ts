// pcie_access_arbiter, as emitted Verilog on both engines: three clients ask for accesses at random
// moments while a scripted port answers each after a random delay. The port must never see a
// request while an answer is owed (one access at a time), each client must get exactly the answers
// to its own requests, in order, and clients that all keep asking must be served in turn.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { pcieAccessArbiter } from "../../../rtl-src/pcie/pcie-access-arbiter.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const CLIENTS = 3;

interface Access {
  kind: number;
  address: number;
  data: number;
  byteEn: number;
}

/** The scripted port's answer to an access: a function of every request field, so a mix-up shows. */
const answerOf = (a: Access) => ({
  data: (a.address ^ Math.imul(a.data, 3) ^ (a.kind << 28) ^ a.byteEn) >>> 0,
  status: a.address & 7 ? 0 : 1,
  timedOut: (a.data >>> 5) & 1,
  poisoned: (a.data >>> 9) & 1,
});

describe.each(engines)("pcie_access_arbiter, %s engine", (engine) => {
  let sim: Simulator | undefined;
  const build = async () => {
    if (!sim) {
      const { files, design } = emitDesign(pcieAccessArbiter({ clients: CLIENTS }));
      sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
    }
    return sim;
  };

  function run(s: Simulator, random: () => number, perClient: number, askChance: number) {
    s.reset(2);
    const accesses = Array.from({ length: CLIENTS }, (_, c) =>
      Array.from({ length: perClient }, (_, n): Access => ({ kind: (c + n) & 3, address: ((c << 24) | (n << 4) | Math.floor(random() * 16)) >>> 0, data: Math.floor(random() * 2 ** 32), byteEn: 1 + Math.floor(random() * 15) })),
    );
    const next = new Array(CLIENTS).fill(0);
    const offered = new Array(CLIENTS).fill(false);
    const answers: ReturnType<typeof answerOf>[][] = accesses.map(() => []);
    const served: number[] = [];
    let owed: { answer: ReturnType<typeof answerOf>; at: number } | undefined;
    for (let cycle = 0; answers.some((a) => a.length < perClient); cycle++) {
      if (cycle > 200 * perClient * CLIENTS) throw new Error("stuck");
      // Every input of the cycle first (the arbiter passes requests and answers through), then the handshakes.
      const takes: boolean[] = [];
      for (let c = 0; c < CLIENTS; c++) {
        const a = accesses[c][next[c]];
        offered[c] = a !== undefined && (offered[c] || random() < askChance);
        s.poke(`client${c}_request_valid`, offered[c] ? 1 : 0);
        if (offered[c]) {
          s.poke(`client${c}_request_kind`, a.kind);
          s.poke(`client${c}_request_address`, a.address);
          s.poke(`client${c}_request_data`, a.data);
          s.poke(`client${c}_request_byte_en`, a.byteEn);
        }
        takes.push(random() < 0.6);
        s.poke(`client${c}_response_ready`, takes[c] ? 1 : 0);
      }
      const portReady = random() < 0.7;
      s.poke("access_request_ready", portReady ? 1 : 0);
      const answering = owed !== undefined && cycle >= owed.at;
      s.poke("access_response_valid", answering ? 1 : 0);
      if (answering) {
        s.poke("access_response_data", owed!.answer.data);
        s.poke("access_response_status", owed!.answer.status);
        s.poke("access_response_timed_out", owed!.answer.timedOut);
        s.poke("access_response_poisoned", owed!.answer.poisoned);
      }
      for (let c = 0; c < CLIENTS; c++) {
        if (offered[c] && s.peek(`client${c}_request_ready`)) {
          next[c]++;
          offered[c] = false;
        }
        if (takes[c] && s.peek(`client${c}_response_valid`)) {
          answers[c].push({ data: s.peek(`client${c}_response_data`) >>> 0, status: s.peek(`client${c}_response_status`), timedOut: s.peek(`client${c}_response_timed_out`), poisoned: s.peek(`client${c}_response_poisoned`) });
        }
      }
      if (answering && s.peek("access_response_ready")) owed = undefined;
      if (portReady && s.peek("access_request_valid")) {
        if (owed) throw new Error(`cycle ${cycle}: a request reached the port while an answer was owed`);
        const a: Access = { kind: s.peek("access_request_kind"), address: s.peek("access_request_address") >>> 0, data: s.peek("access_request_data") >>> 0, byteEn: s.peek("access_request_byte_en") };
        served.push(a.address >>> 24);
        owed = { answer: answerOf(a), at: cycle + 1 + Math.floor(random() * 6) };
      }
      s.step();
    }
    accesses.forEach((list, c) => expect(answers[c], `client ${c}`).toEqual(list.map(answerOf)));
    return served;
  }

  it("gives each client the answers to its own requests, one access at a time, under random timing", async () => {
    run(await build(), seededRandom(engine === "js" ? 1 : 2), 40, 0.3);
  });

  it("serves clients that all keep asking in turn", async () => {
    const served = run(await build(), seededRandom(3), 20, 1);
    expect(served).toEqual(Array.from({ length: 60 }, (_, i) => i % CLIENTS));
  });

  it("rejects a bad client count", () => {
    expect(() => pcieAccessArbiter({ clients: 1 })).toThrow(/clients 1/);
  });
});
