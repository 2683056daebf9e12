// The cfg_mgmt requester alone, as emitted Verilog on both engines, against a scripted cfg_mgmt
// peer that answers each access after a random latency with data of its own per access: every
// read returns that access's data, the request lines never change while the enable waits for
// done, the enable drops right after done, one access at a time; the request and response ports
// keep the valid/ready rules (monitorStreams). A peer that never answers gets each access
// abandoned with timed_out = 1, the enable high for exactly timeoutCycles cycles.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { cfgMgmtRequester } from "../../../rtl-src/pcie/cfg-mgmt-requester.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const TIMEOUT = 24;

interface Request {
  dwaddr: number;
  write: boolean;
  byteEnable: number;
  data: number;
}

interface Response {
  data: number;
  timedOut: boolean;
}

/** What the peer saw of one access: its request lines, and the data it answered a read with. */
interface PeerAccess extends Request {
  answer: number;
  enableCycles: number;
}

interface RunOptions {
  seed: number;
  /** Largest latency from enable to done; undefined = the peer never answers. */
  maxLatency: number | undefined;
  requests: Request[];
  /** Probabilities that the source holds back a request / the sink holds off a response in a cycle. */
  gap: number;
  stall: number;
  maxCycles: number;
}

/** Drives requests in, takes responses out, and plays the cfg_mgmt side of the core. */
function run(sim: MonitoredSimulator, o: RunOptions) {
  const random = seededRandom(o.seed);
  sim.reset(2);
  const responses: Response[] = [];
  const accesses: PeerAccess[] = [];
  const pending = [...o.requests];
  let offered = false;
  let current: PeerAccess | undefined;
  let remaining = 0;
  let justDone = false;
  for (let cycle = 0; cycle < o.maxCycles && responses.length < o.requests.length; cycle++) {
    // Request source: once offered, a request stays until taken.
    if (!offered && pending.length > 0 && random() >= o.gap) offered = true;
    const head = pending[0];
    sim.poke("request_valid", offered ? 1 : 0);
    sim.poke("request_dwaddr", head?.dwaddr ?? 0);
    sim.poke("request_write", head?.write ? 1 : 0);
    sim.poke("request_byte_en", head?.byteEnable ?? 0);
    sim.poke("request_data", head?.data ?? 0);
    const responseReady = random() >= o.stall;
    sim.poke("response_ready", responseReady ? 1 : 0);

    // The cfg_mgmt peer.
    const rdEn = sim.peek("cfg_mgmt_rd_en");
    const wrEn = sim.peek("cfg_mgmt_wr_en");
    expect(sim.peek("cfg_mgmt_wr_readonly")).toBe(0);
    expect(sim.peek("cfg_mgmt_wr_rw1c_as_rw")).toBe(0);
    expect(rdEn & wrEn, `cycle ${cycle}: rd_en and wr_en together`).toBe(0);
    sim.poke("cfg_mgmt_rd_wr_done", 0);
    sim.poke("cfg_mgmt_do", 0xdead_beef);
    const lines = () => ({ dwaddr: sim.peek("cfg_mgmt_dwaddr"), write: wrEn === 1, byteEnable: sim.peek("cfg_mgmt_byte_en"), data: sim.peek("cfg_mgmt_di") });
    if (justDone) {
      expect(rdEn | wrEn, `cycle ${cycle}: enable still high the cycle after done`).toBe(0);
      justDone = false;
    } else if (current) {
      if (rdEn | wrEn) {
        const now = lines();
        // A write's data and byte enables matter to the core; a read's only its address.
        expect({ dwaddr: now.dwaddr, write: now.write, byteEnable: now.byteEnable, data: now.data }, `cycle ${cycle}: request lines changed while waiting`).toEqual({
          dwaddr: current.dwaddr,
          write: current.write,
          byteEnable: current.byteEnable,
          data: current.data,
        });
        current.enableCycles++;
      } else {
        current = undefined; // abandoned: the requester timed out
      }
    } else if (rdEn | wrEn) {
      const now = lines();
      current = { ...now, answer: (0x5a00_0000 + accesses.length * 0x0001_0203) >>> 0, enableCycles: 1 };
      accesses.push(current);
      remaining = o.maxLatency === undefined ? Infinity : Math.floor(random() * (o.maxLatency + 1));
    }
    if (current && !justDone) {
      if (remaining === 0) {
        sim.poke("cfg_mgmt_rd_wr_done", 1);
        if (!current.write) sim.poke("cfg_mgmt_do", current.answer);
        current = undefined;
        justDone = true;
      } else {
        remaining--;
      }
    }

    if (sim.peek("response_valid") && responseReady) {
      responses.push({ data: sim.peek("response_data"), timedOut: sim.peek("response_timed_out") === 1 });
    }
    if (offered && sim.peek("request_ready")) {
      pending.shift();
      offered = false;
    }
    sim.step();
  }
  return { responses, accesses };
}

function randomRequests(random: () => number, count: number): Request[] {
  return Array.from({ length: count }, () => ({
    dwaddr: Math.floor(random() * 1024),
    write: random() < 0.5,
    byteEnable: Math.floor(random() * 16),
    data: Math.floor(random() * 2 ** 32) >>> 0,
  }));
}

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

describe.each(engines)(`cfg_mgmt_requester_t${TIMEOUT} (%s)`, (engine) => {
  let sim: MonitoredSimulator | undefined;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = cfgMgmtRequester({ timeoutCycles: TIMEOUT });
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
      expect([...sim.streamMonitors.keys()]).toEqual(["request", "response"]);
    }
    return sim;
  };

  it("runs each access once, in order, and answers each read with the data of its own access", async () => {
    for (const [seed, gap, stall] of [[1, 0, 0], [2, 0.5, 0.5], [3, 0.2, 0.8]]) {
      const requests = randomRequests(seededRandom(100 + seed), 60);
      const { responses, accesses } = run(await simulator(), { seed, maxLatency: 6, requests, gap, stall, maxCycles: 5000 });
      expect(accesses.map(({ dwaddr, write, byteEnable, data }) => ({ dwaddr, write, byteEnable, data: write ? data : 0 }))).toEqual(
        requests.map(({ dwaddr, write, byteEnable, data }) => ({ dwaddr, write, byteEnable, data: write ? data : 0 })),
      );
      expect(responses).toEqual(accesses.map((a) => ({ data: a.write ? 0 : a.answer, timedOut: false })));
      expect(new Set(responses.filter((_, i) => !requests[i].write).map((r) => r.data)).size).toBe(requests.filter((r) => !r.write).length);
    }
  });

  it("answers with done in the last cycle of the timeout, not timed out", async () => {
    const requests = randomRequests(seededRandom(7), 10).map((r) => ({ ...r, write: false }));
    // Latency TIMEOUT - 1: done comes in the TIMEOUT-th cycle of the enable.
    const { responses, accesses } = run(await simulator(), { seed: 4, maxLatency: TIMEOUT - 1, requests, gap: 0, stall: 0.3, maxCycles: 2000 });
    expect(responses.every((r) => !r.timedOut)).toBe(true);
    expect(responses.map((r) => r.data)).toEqual(accesses.map((a) => a.answer));
    expect(Math.max(...accesses.map((a) => a.enableCycles))).toBeLessThanOrEqual(TIMEOUT);
  });

  it("abandons an access nobody answers after timeoutCycles, with timed_out, and takes the next", async () => {
    const requests = randomRequests(seededRandom(9), 4);
    const { responses, accesses } = run(await simulator(), { seed: 5, maxLatency: undefined, requests, gap: 0.3, stall: 0.3, maxCycles: 4 * (TIMEOUT + 20) });
    expect(responses).toEqual(requests.map(() => ({ data: 0, timedOut: true })));
    expect(accesses.map((a) => a.enableCycles)).toEqual(requests.map(() => TIMEOUT));
    // And it works again once the peer answers.
    const again = run(await simulator(), { seed: 6, maxLatency: 3, requests, gap: 0, stall: 0, maxCycles: 500 });
    expect(again.responses.every((r) => !r.timedOut)).toBe(true);
  });
});
