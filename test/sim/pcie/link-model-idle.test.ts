// The link model's idle query: stepping cycle by cycle and jumping over the stretches nextEventCycle()
// calls idle must give the same run, down to the cycle of every TLP, the counters and the wire's state
// (which later traffic reveals: SKP phase, byte budget, Acks and UpdateFCs due, credits).
import { describe, expect, it } from "vitest";
import { LinkModel, type LinkEvent } from "../../../sim/pcie/link-model.ts";
import type { LinkParamsInput } from "../../../sim/pcie/link-params.ts";
import { TlpPort } from "../../../sim/pcie/tlp-port.ts";
import { TraceWriter } from "../../../sim/pcie/trace.ts";
import type { MemRequest, PcieEndpoint, Tlp } from "../../../sim/pcie/tlp.ts";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { ScriptedEndpoint } from "../../../sim/testbench/scripted-endpoint.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

function mwr(address: number, bytes: number, fill: number): MemRequest {
  return {
    kind: "MWr", ...plain, requesterId: 0, tag: 0, address: BigInt(address), addr64: false, lengthDw: bytes / 4,
    firstBe: 0xf, lastBe: bytes === 4 ? 0 : 0xf, data: new Uint8Array(bytes).fill(fill),
  };
}

function mrd(address: number, bytes: number, tag: number): MemRequest {
  return { kind: "MRd", ...plain, requesterId: 0, tag, address: BigInt(address), addr64: false, lengthDw: bytes / 4, firstBe: 0xf, lastBe: 0xf };
}

type Action = (link: LinkModel, port: TlpPort, endpoint: ScriptedEndpoint) => void;

/** The wire's hidden state in both directions: budget, SKP phase, DLLPs owed, credits. */
function wireState(link: LinkModel): string {
  const internals = link as unknown as Record<string, Record<string, unknown>>;
  return JSON.stringify(["down", "up"].map((name) => {
    const d = internals[name];
    const gate = (d.gate as unknown as { available: Float64Array }).available;
    return [d.budget, d.skpClock, d.ackOwed, d.ackOwedSince, d.fcTlps, d.fcSince, d.fcData, d.dllpsOwed, d.nextCreditArrival, [...gate]];
  }), (_, v) => (v === Infinity ? "inf" : v));
}

interface Run {
  trace: string[];
  /** wireState() at every probe cycle. */
  probes: string[];
  received: string[];
  endpointReceived: string[];
  counters: string;
  events: LinkEvent[];
  ports: string;
  cycle: number;
  skipped: number;
}

const PROBE_EVERY = 211;

/** Plays `script` (actions at the start of given cycles) until `end`, skipping idle stretches or not. */
function play(script: ReadonlyMap<number, Action>, end: number, skip: boolean, params: LinkParamsInput): Run {
  const endpoint = new ScriptedEndpoint({ responseLatencyCycles: 300, split: { rcb: 64, mps: 128 } });
  const trace: string[] = [];
  const events: LinkEvent[] = [];
  const link = new LinkModel(endpoint, params, { trace: new TraceWriter((line) => trace.push(line)), onEvent: (e) => events.push(e) });
  const port = new TlpPort(link);
  const received: string[] = [];
  port.onReceive((tlp: Tlp, cycle) => received.push(`${cycle} ${tlp.kind}`));
  const probes: string[] = [];
  const actions = new Map(script);
  for (let c = PROBE_EVERY; c < end; c += PROBE_EVERY) {
    const action = actions.get(c);
    actions.set(c, (l, p, e) => {
      probes.push(`${l.cycle} ${wireState(l)}`);
      action?.(l, p, e);
    });
  }
  const actionCycles = [...actions.keys()].sort((a, b) => a - b);
  let skipped = 0;
  while (link.cycle < end) {
    actions.get(link.cycle)?.(link, port, endpoint);
    if (skip && port.pendingTx === 0) {
      const nextAction = actionCycles.find((c) => c > link.cycle) ?? end;
      const until = Math.min(link.nextEventCycle(), nextAction, end);
      if (until > link.cycle) {
        skipped += until - link.cycle;
        link.advanceIdle(until - link.cycle);
        continue;
      }
    }
    port.step();
  }
  const counters = JSON.stringify(link.counters, (_, v) => (v instanceof Map ? [...v] : v === Infinity ? "inf" : v));
  return {
    trace,
    probes,
    received,
    endpointReceived: endpoint.received.map((r) => `${r.cycle} ${r.tlp.kind}`),
    counters,
    events,
    ports: JSON.stringify(link.ports),
    cycle: link.cycle,
    skipped,
  };
}

describe("idle stretches: nextEventCycle() and advanceIdle()", () => {
  const params: LinkParamsInput = {
    trainingCycles: 500,
    retrainCycles: 700,
    latencyCycles: 90,
    initialSpeed: 1,
    endpointRxCredits: { postedHeader: 3, nonPostedHeader: 2 },
    ackMaxDelayCycles: 150,
    updateFcMaxDelayCycles: 230,
  };
  const script = new Map<number, Action>([
    [0, (_l, _p, e) => e.queueUpstream(mwr(0x9000, 128, 0x11), 4_000)],
    [1_000, (_l, p) => { for (let i = 0; i < 9; i++) p.send(mwr(0x1000 + 256 * i, 128, i)); }],
    [3_001, (_l, p) => p.send(mrd(0x1000, 512, 5))],
    [7_777, (l) => { l.ports.pl_directed_link_change = 0b10; l.ports.pl_directed_link_speed = 1; }],
    [9_000, (l) => { l.ports.pl_directed_link_change = 0; }],
    [9_500, (_l, p) => { for (let i = 0; i < 5; i++) p.send(mwr(0x4000 + 128 * i, 128, 0x20 + i)); p.send(mrd(0x4000, 256, 6)); }],
    [12_345, (l) => { l.ports.perst_n = 0; }],
    [13_000, (l) => { l.ports.perst_n = 1; }],
    [13_600, (_l, p, e) => { p.send(mrd(0x1000, 128, 7)); e.queueUpstream(mwr(0xa000, 64, 0x33), 14_321); }],
    [15_000, (l) => { l.ports.cfg_mgmt_dwaddr = 0; l.ports.cfg_mgmt_rd_en = 1; }],
    [15_010, (l) => { l.ports.cfg_mgmt_rd_en = 0; }],
    [40_000, (_l, p) => { for (let i = 0; i < 4; i++) p.send(mwr(0x6000 + 128 * i, 128, 0x50 + i)); }],
  ]);

  it("gives the same trace, deliveries, counters, events and ports as stepping every cycle", () => {
    const stepped = play(script, 60_000, false, params);
    const skipping = play(script, 60_000, true, params);
    expect(stepped.skipped).toBe(0);
    expect(skipping.skipped).toBeGreaterThan(45_000);
    expect(skipping.trace).toEqual(stepped.trace);
    expect(skipping.probes).toEqual(stepped.probes);
    expect(skipping.received).toEqual(stepped.received);
    expect(skipping.endpointReceived).toEqual(stepped.endpointReceived);
    expect(skipping.counters).toEqual(stepped.counters);
    expect(skipping.events).toEqual(stepped.events);
    expect(skipping.ports).toEqual(stepped.ports);
    expect(skipping.cycle).toBe(60_000);
    // The script's TLPs happened: 9 + 5 + 4 MWr and 3 MRd down; 1 + 1 MWr and 4 + 2 + 1 CplD up.
    expect(stepped.trace.filter((l) => l.includes('"down"')).length).toBe(21);
    expect(stepped.trace.filter((l) => l.includes('"up"')).length).toBe(9);
  });

  it("advanceIdle refuses to jump over an event", () => {
    const link = new LinkModel(new ScriptedEndpoint(), { trainingCycles: 100 });
    expect(link.nextEventCycle()).toBe(99);
    expect(() => link.advanceIdle(100)).toThrow(/something happens at cycle 99/);
    link.advanceIdle(99);
    link.step();
    expect(link.ports.user_lnk_up).toBe(1);
  });

  it("an SSD's scheduled work bounds the idle stretch; an endpoint without nextEventCycle allows none", () => {
    const ssd = new NvmeSsd();
    const link = new LinkModel(ssd, { trainingCycles: 10 });
    for (let i = 0; i < 10; i++) link.step();
    expect(link.nextEventCycle()).toBe(Infinity);
    ssd.scheduler.at(5_000, () => {});
    expect(link.nextEventCycle()).toBe(5_000);
    const opaque: PcieEndpoint = { receive: () => {}, nextUpstream: () => undefined };
    const blind = new LinkModel(opaque, { trainingCycles: 10 });
    for (let i = 0; i < 10; i++) blind.step();
    expect(blind.nextEventCycle()).toBe(blind.cycle);
  });
});
