import { describe, expect, it } from "vitest";
import { tlpToBeats, TxUser } from "../../../sim/pcie/axis-framing.ts";
import { decodeTlp, encodeTlp } from "../../../sim/pcie/codec.ts";
import { FcClass } from "../../../sim/pcie/flow-control.ts";
import { LinkModel, type LinkEvent } from "../../../sim/pcie/link-model.ts";
import { analyticPayloadCeiling, resolveLinkParams, type LinkParamsInput } from "../../../sim/pcie/link-params.ts";
import { runPostedWriteStream, runReadCompletionStream } from "../../../sim/testbench/link-workloads.ts";
import { DEVICE_CONTROL, LINK_CONTROL, LINK_CONTROL_2, PCIE_CAP_OFFSET } from "../../../sim/pcie/rp-config-space.ts";
import { ScriptedEndpoint } from "../../../sim/testbench/scripted-endpoint.ts";
import { TlpPort } from "../../../sim/pcie/tlp-port.ts";
import { TraceWriter } from "../../../sim/pcie/trace.ts";
import { CplStatus, type Completion, type MemRequest, type Message, type Tlp } from "../../../sim/pcie/tlp.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

function mwr(address: number, bytes: number, fill = 0x5a, requesterId = 0): MemRequest {
  return {
    kind: "MWr", ...plain, requesterId, tag: 0, address: BigInt(address), addr64: false, lengthDw: bytes / 4,
    firstBe: 0xf, lastBe: bytes === 4 ? 0 : 0xf, data: new Uint8Array(bytes).fill(fill),
  };
}

function mrd(address: number, bytes: number, tag: number): MemRequest {
  return { kind: "MRd", ...plain, requesterId: 0, tag, address: BigInt(address), addr64: false, lengthDw: bytes / 4, firstBe: 0xf, lastBe: bytes === 4 ? 0 : 0xf };
}

function setup(params: LinkParamsInput = {}, endpoint = new ScriptedEndpoint()) {
  const events: LinkEvent[] = [];
  const link = new LinkModel(endpoint, { trainingCycles: 50, ...params }, { onEvent: (e) => events.push(e) });
  const port = new TlpPort(link);
  return { link, port, endpoint, events };
}

function trained(params: LinkParamsInput = {}, endpoint = new ScriptedEndpoint()) {
  const s = setup(params, endpoint);
  s.port.runUntil(() => s.link.ports.user_lnk_up === 1, 1000);
  return s;
}

describe("link training", () => {
  it("holds user_lnk_up and tready low for trainingCycles, then reports DL active at Gen2 x4", () => {
    const { link, port } = setup({ trainingCycles: 300 });
    port.send(mwr(0x1000, 4));
    for (let c = 0; c < 299; c++) {
      port.step();
      expect(link.ports.user_lnk_up).toBe(0);
      expect(link.ports.s_axis_tx_tready).toBe(0);
    }
    port.step();
    expect(link.ports.user_lnk_up).toBe(1);
    expect(link.ports.s_axis_tx_tready).toBe(1);
    expect(link.ports.tx_buf_av).toBe(32);
    const linkStatus = link.config.read(LINK_CONTROL >> 2) >>> 16;
    expect(linkStatus & 0xf).toBe(2);
    expect((linkStatus >> 4) & 0x3f).toBe(4);
    expect((linkStatus >> 13) & 1).toBe(1);
  });

  it("rejects impossible parameters with the parameter's name", () => {
    expect(() => resolveLinkParams({ lanes: 3 })).toThrow(/lanes = 3/);
    expect(() => resolveLinkParams({ generation: 4 as 1 })).toThrow(/generation = 4/);
    expect(() => resolveLinkParams({ mps: 1024, mpsSupported: 512 })).toThrow(/mps = 1024: exceeds mpsSupported/);
    expect(() => resolveLinkParams({ txBuffers: 64 })).toThrow(/txBuffers/);
    expect(() => resolveLinkParams({ rootPortRxCredits: { postedData: 8 } })).toThrow(/rootPortRxCredits.postedData = 8/);
  });
});

describe("throughput ceiling, Gen2 x4 (§F)", () => {
  for (const mps of [128, 256, 512]) {
    it(`posted writes downstream and read completions upstream at MPS ${mps} within 1.5% of the arithmetic`, () => {
      const expected = analyticPayloadCeiling(2, 4, mps, 12, 1180);
      const writes = runPostedWriteStream({ mps }, mps, 300);
      expect(Math.abs(writes.bytesPerSecond / expected - 1)).toBeLessThan(0.015);
      const reads = runReadCompletionStream({ mps }, 512, Math.round((300 * mps) / 512));
      expect(Math.abs(reads.bytesPerSecond / expected - 1)).toBeLessThan(0.015);
      // The wire, not the 8-byte AXI side, is the limit: the 3DW/MPS-128 AXI rate would be 1.778 GB/s.
      expect(writes.bytesPerSecond).toBeLessThan(8 * 250e6 * (mps / (mps + 12)));
    });
  }

  it("scales with generation and lanes", () => {
    const gen1x1 = runPostedWriteStream({ generation: 1, lanes: 1, mps: 256 }, 256, 60);
    expect(gen1x1.bytesPerSecond / analyticPayloadCeiling(1, 1, 256, 12, 1180)).toBeCloseTo(1, 1);
    const gen2x1 = runPostedWriteStream({ generation: 2, lanes: 1, mps: 256 }, 256, 60);
    expect(gen2x1.bytesPerSecond / gen1x1.bytesPerSecond).toBeCloseTo(2, 1);
    const gen3x1 = runPostedWriteStream({ generation: 3, lanes: 1, mps: 256 }, 256, 100);
    expect(gen3x1.bytesPerSecond / analyticPayloadCeiling(3, 1, 256, 12, 5920)).toBeCloseTo(1, 1);
    // Gen3 x8 is faster than the 64-bit AXI side: the AXI beats (35 per 268-byte TLP) become the limit.
    const gen3x8 = runPostedWriteStream({ generation: 3, lanes: 8, mps: 256 }, 256, 200);
    expect(gen3x8.bytesPerSecond / ((256 / (34 * 8)) * 8 * 250e6)).toBeCloseTo(1, 1);
  });
});

describe("latency and wire timing", () => {
  it("a TLP reaches the endpoint latencyCycles after its last byte leaves the wire", () => {
    for (const latencyCycles of [0, 40, 200]) {
      const { link, port, endpoint } = trained({ latencyCycles });
      port.send(mwr(0x1000, 128));
      const start = link.cycle;
      port.runUntil(() => endpoint.received.length === 1, 1000);
      // 18 beats on s_axis_tx, then 148 wire bytes at 8 B/cycle = 18.5 cycles, then the latency.
      const took = endpoint.received[0].cycle - start;
      expect(took).toBeGreaterThanOrEqual(latencyCycles + 18);
      expect(took).toBeLessThanOrEqual(latencyCycles + 18 + 20);
    }
  });

  it("a read's round trip grows by twice the one-way latency", () => {
    const roundTrip = (latencyCycles: number) => {
      const { port } = trained({ latencyCycles });
      port.send(mrd(0x1000, 64, 1));
      return port.runUntil(() => port.inbox.length === 1, 5000);
    };
    expect(roundTrip(300) - roundTrip(100)).toBe(400);
  });

  it("m_axis_rx_tvalid has gaps: completions are not delivered faster than the wire carries them", () => {
    const { link, port } = trained({ mps: 128 });
    let validCycles = 0;
    let firstValid = -1;
    let lastValid = -1;
    for (let i = 0; i < 8; i++) port.send(mrd(0x2000 + i * 512, 512, i));
    port.runUntil(() => link.ports.m_axis_rx_tvalid === 1, 2000);
    while (port.inbox.length < 32) {
      if (link.ports.m_axis_rx_tvalid) {
        validCycles++;
        if (firstValid < 0) firstValid = link.cycle;
        lastValid = link.cycle;
      }
      port.step();
    }
    // 32 CplDs of 128 B: 18 beats each on the AXI side, 148 wire bytes = 18.5 cycles each on the wire.
    expect(validCycles).toBe(32 * 18);
    expect(lastValid - firstValid + 1).toBeGreaterThanOrEqual(Math.floor(31 * 18.5) + 18);
  });
});

describe("flow control", () => {
  it("few endpoint posted credits and a long latency throttle writes; credit stalls are counted", () => {
    const params = { latencyCycles: 400, endpointRxCredits: { postedHeader: 2, postedData: 64 } };
    const limited = runPostedWriteStream(params, 128, 40);
    const free = runPostedWriteStream({ latencyCycles: 400, endpointRxCredits: { postedHeader: Infinity, postedData: Infinity } }, 128, 40);
    expect(limited.link.counters.down.creditStallCycles[0]).toBeGreaterThan(1000);
    expect(free.link.counters.down.creditStallCycles[0]).toBe(0);
    // Two TLPs per credit round trip (~2 x 400 cycles + UpdateFC delays).
    expect(limited.bytesPerSecond).toBeLessThan(free.bytesPerSecond / 4);
  });

  it("TX buffers fill behind the credit stall: tready drops and tx_buf_av reaches 0", () => {
    const { link, port } = trained({ txBuffers: 4, latencyCycles: 300, mpsSupported: 128, endpointRxCredits: { postedHeader: 1, postedData: 8 } });
    for (let i = 0; i < 10; i++) port.send(mwr(0x1000 + i * 128, 128));
    let sawBackpressure = false;
    let minBuffers = 99;
    port.runUntil(() => {
      minBuffers = Math.min(minBuffers, link.ports.tx_buf_av);
      if (link.ports.s_axis_tx_tready === 0) sawBackpressure = true;
      return port.pendingTx === 0;
    }, 20_000);
    expect(sawBackpressure).toBe(true);
    expect(minBuffers).toBe(0);
    expect(link.counters.txBackpressureCycles).toBeGreaterThan(0);
  });

  it("the root port's credits return only as the user drains m_axis_rx", () => {
    const endpoint = new ScriptedEndpoint();
    let ready = false;
    const link = new LinkModel(endpoint, { trainingCycles: 10, rootPortRxCredits: { postedHeader: 4, postedData: 64 } });
    const port = new TlpPort(link, { rxReady: () => ready });
    port.runUntil(() => link.ports.user_lnk_up === 1, 100);
    for (let i = 0; i < 12; i++) endpoint.queueUpstream(mwr(0x8000 + i * 128, 128, i, 0x0100));
    port.run(3000);
    expect(link.counters.up.tlps).toBe(4);
    expect(link.counters.up.creditStallCycles[0]).toBeGreaterThan(2000);
    ready = true;
    port.runUntil(() => port.inbox.length === 12, 10_000);
    const fills = Array.from({ length: 12 }, () => port.receive()!.data![0]);
    expect(fills).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe("credit accounting", () => {
  it("every credit consumed comes back once traffic stops", () => {
    const endpoint = new ScriptedEndpoint({ split: { rcb: 64, mps: 256 } });
    const { link, port } = trained({ mps: 256 }, endpoint);
    for (let i = 0; i < 40; i++) {
      port.send(mwr(0x10000 + i * 256, 256, i));
      port.send(mrd(0x10000 + i * 256, 256, i));
      endpoint.queueUpstream(mwr(0x80000 + i * 64, 64, i, 0x0100));
    }
    port.runUntil(() => port.inbox.length === 80 && endpoint.received.length === 80, 20_000);
    port.run(2 * link.params.latencyCycles + link.params.updateFcMaxDelayCycles + 50);
    const p = link.params;
    expect(link.creditsAvailable("down", FcClass.posted)).toEqual({ header: p.endpointRxCredits.postedHeader, data: p.endpointRxCredits.postedData });
    expect(link.creditsAvailable("down", FcClass.nonPosted)).toEqual({ header: p.endpointRxCredits.nonPostedHeader, data: p.endpointRxCredits.nonPostedData });
    expect(link.creditsAvailable("up", FcClass.posted)).toEqual({ header: p.rootPortRxCredits.postedHeader, data: p.rootPortRxCredits.postedData });
    expect(link.creditsAvailable("up", FcClass.completion)).toEqual({ header: Infinity, data: Infinity });
    expect(link.counters.down.updateFcs).toBeGreaterThan(0);
    expect(link.counters.up.updateFcs).toBeGreaterThan(0);
    expect(link.counters.down.acks + link.counters.up.acks).toBeGreaterThan(0);
  });
});

describe("rx_np_ok", () => {
  it("holds non-posted TLPs while low and lets posted ones pass", () => {
    const endpoint = new ScriptedEndpoint();
    let npOk = false;
    const link = new LinkModel(endpoint, { trainingCycles: 10 });
    const port = new TlpPort(link, { npOk: () => npOk });
    port.runUntil(() => link.ports.user_lnk_up === 1, 100);
    endpoint.queueUpstream({ ...mrd(0x3000, 64, 5), requesterId: 0x0100 });
    endpoint.queueUpstream(mwr(0x4000, 16, 0x11, 0x0100));
    port.runUntil(() => port.inbox.length === 1, 2000);
    expect(port.receive()!.kind).toBe("MWr");
    port.run(500);
    expect(port.inbox.length).toBe(0);
    expect(link.counters.rxNpHeldCycles).toBeGreaterThan(400);
    npOk = true;
    port.runUntil(() => port.inbox.length === 1, 100);
    expect(port.receive()!.kind).toBe("MRd");
  });
});

describe("malformed TLPs are dropped with a reason, and the model keeps working", () => {
  function expectStillWorks(port: TlpPort, endpoint: ScriptedEndpoint) {
    const before = endpoint.received.length;
    port.send(mwr(0x9000, 8, 0x77));
    port.runUntil(() => endpoint.received.length === before + 1, 2000);
    expect(endpoint.memory.read(0x9000n, 8)).toEqual(new Uint8Array(8).fill(0x77));
  }

  it("TX payload over the programmed MPS pulses tx_err_drop", () => {
    const { link, port, endpoint, events } = trained({ mps: 128 });
    port.send(mwr(0x1000, 256));
    let pulses = 0;
    port.runUntil(() => {
      pulses += link.ports.tx_err_drop;
      return port.pendingTx === 0 && link.dropCount("tx-over-mps") === 1;
    }, 500);
    port.step();
    pulses += link.ports.tx_err_drop;
    expect(pulses).toBe(1);
    expect(events.at(-1)!.reason).toMatch(/MWr payload 256 B exceeds the programmed Max_Payload_Size 128 B/);
    expect(endpoint.received).toHaveLength(0);
    expectStillWorks(port, endpoint);
  });

  it("TX TLPs that cross 4 KiB or whose beats disagree with Length or use a wrong tkeep", () => {
    const { link, port, endpoint, events } = trained({ mps: 256 });
    port.sendBytes(encodeTlp({ ...mwr(0x1f80, 256) }, { skipRuleChecks: true }));
    port.runUntil(() => link.dropCount("tx-malformed") === 1, 500);
    expect(events.at(-1)!.reason).toMatch(/crosses a 4 KiB boundary/);

    // Drive the ports directly: a 2-DW MWr header claiming Length 2 but ending after the first payload DW.
    const beats = tlpToBeats(encodeTlp(mwr(0x2000, 8)));
    const drive = (lo: number, hi: number, keep: number, last: boolean) => {
      const p = link.ports;
      Object.assign(p, { s_axis_tx_tvalid: 1, s_axis_tx_tdata_lo: lo, s_axis_tx_tdata_hi: hi, s_axis_tx_tkeep: keep, s_axis_tx_tlast: last ? 1 : 0, s_axis_tx_tuser: 0 });
      link.step();
      p.s_axis_tx_tvalid = 0;
    };
    drive(beats[0].lo, beats[0].hi, 0xff, false);
    drive(beats[1].lo, beats[1].hi, 0xff, true);
    expect(link.ports.tx_err_drop).toBe(1);
    expect(events.at(-1)!.reason).toMatch(/delivered 4 DW in 2 beats but its header announces 5 DW/);
    drive(beats[0].lo, beats[0].hi, 0xff, false);
    drive(beats[1].lo, beats[1].hi, 0x0f, false);
    drive(beats[2].lo, beats[2].hi, 0x0f, true);
    expect(events.at(-1)!.reason).toMatch(/tkeep 0x0f on beat 1 \(not tlast\)/);
    expect(link.dropCount("tx-framing")).toBe(2);
    expectStillWorks(port, endpoint);
  });

  it("an endpoint write over the root port's MPS is malformed: dropped, counted, Device Status fatal set", () => {
    const endpoint = new ScriptedEndpoint();
    const { link, port, events } = trained({ mps: 128 }, endpoint);
    endpoint.queueUpstream(mwr(0x5000, 256, 1, 0x0100));
    endpoint.queueUpstream(mwr(0x6000, 128, 2, 0x0100));
    port.runUntil(() => port.inbox.length === 1, 2000);
    expect(port.receive()!.data![0]).toBe(2);
    expect(link.dropCount("rx-over-mps")).toBe(1);
    expect(events.find((e) => e.category === "rx-over-mps")!.reason).toMatch(/payload 256 B exceeds the root port's Max_Payload_Size 128 B/);
    expect((link.config.read(DEVICE_CONTROL >> 2) >>> 16) & 0x4).toBe(0x4);
    // Raising the root port's MPS through cfg_mgmt lets the same write through.
    port.cfgWrite(DEVICE_CONTROL >> 2, 1 << 5, 0b0011);
    expect(link.config.maxPayloadSize).toBe(256);
    endpoint.queueUpstream(mwr(0x5000, 256, 3, 0x0100));
    port.runUntil(() => port.inbox.length === 1, 2000);
    expect(port.receive()!.data![0]).toBe(3);
  });

  it("an illegal record from the endpoint is refused with the codec's reason", () => {
    const endpoint = new ScriptedEndpoint();
    const { link, port, events } = trained({}, endpoint);
    endpoint.queueUpstream({ ...mwr(0xffc, 8, 1, 0x0100) });
    endpoint.queueUpstream({ ...mwr(0x1000, 8, 2, 0x0100), data: new Uint8Array(4) });
    port.run(300);
    expect(link.dropCount("endpoint-malformed")).toBe(2);
    expect(events.map((e) => e.reason).join("\n")).toMatch(/crosses a 4 KiB boundary[\s\S]*payload is 4 B but length says 2 DW/);
    expect(port.inbox.length).toBe(0);
  });
});

describe("s_axis_tx_tuser", () => {
  it("ecrc_gen appends a digest, err_fwd poisons, src_dsc discards without tx_err_drop", () => {
    const { link, port, endpoint } = trained();
    port.send(mwr(0x1000, 16, 1), TxUser.ecrcGen);
    port.send(mwr(0x2000, 16, 2), TxUser.errFwd);
    port.send(mwr(0x3000, 16, 3), TxUser.srcDiscontinue);
    port.send(mwr(0x4000, 16, 4));
    port.runUntil(() => endpoint.received.length === 3, 2000);
    const [digest, poisoned, normal] = endpoint.received.map((r) => r.tlp);
    expect([digest.td, digest.ep]).toEqual([true, false]);
    expect([poisoned.td, poisoned.ep]).toEqual([false, true]);
    expect((normal as MemRequest).address).toBe(0x4000n);
    expect(link.events.find((e) => e.category === "tx-src-discontinue")).toBeDefined();
    expect(link.counters.dropCounts.size).toBe(0);
  });

  it("a poisoned upstream TLP sets rx_err_fwd (tuser[1]) on its beats", () => {
    const endpoint = new ScriptedEndpoint();
    const { link, port } = trained({}, endpoint);
    endpoint.queueUpstream({ ...mwr(0x1000, 8, 1, 0x0100), ep: true });
    port.runUntil(() => link.ports.m_axis_rx_tvalid === 1, 1000);
    expect(link.ports.m_axis_rx_tuser & 0b10).toBe(0b10);
  });
});

describe("messages and completions through the scripted endpoint", () => {
  it("messages from the endpoint are counted by code, not forwarded (unless asked)", () => {
    const message: Message = { kind: "Msg", ...plain, routing: 4, requesterId: 0x0100, tag: 0, messageCode: 0x20, headerTail: new Uint8Array(8), lengthDw: 0 };
    const endpoint = new ScriptedEndpoint();
    const { link, port } = trained({}, endpoint);
    endpoint.queueUpstream(message);
    endpoint.queueUpstream(message);
    port.run(400);
    expect(link.counters.messages.get(0x20)).toBe(2);
    expect(port.inbox.length).toBe(0);
    const forwarding = trained({ forwardMessages: true });
    forwarding.endpoint.queueUpstream(message);
    forwarding.port.runUntil(() => forwarding.port.inbox.length === 1, 400);
    expect(forwarding.port.receive()!.kind).toBe("Msg");
  });

  it("memory write then read back; config read; UR outside the window; type-1 config gets UR", () => {
    const endpoint = new ScriptedEndpoint({ memoryWindow: { base: 0xe000_0000n, size: 0x4000n } });
    const { port } = trained({}, endpoint);
    const data = new Uint8Array(64).map((_, i) => i);
    port.send({ ...mwr(0xe000_0100, 64), data });
    port.send(mrd(0xe000_0100, 64, 7));
    port.send({ kind: "CfgRd0", ...plain, requesterId: 0, tag: 8, bus: 1, device: 0, fn: 0, register: 0, firstBe: 0xf });
    port.send(mrd(0xf000_0000, 4, 9));
    port.send({ kind: "CfgRd1", ...plain, requesterId: 0, tag: 10, bus: 2, device: 0, fn: 0, register: 0, firstBe: 0xf });
    port.runUntil(() => port.inbox.length === 4, 3000);
    const byTag = new Map<number, Completion>();
    let tlp: Tlp | undefined;
    while ((tlp = port.receive())) byTag.set((tlp as Completion).tag, tlp as Completion);
    expect(Array.from(byTag.get(7)!.data!)).toEqual(Array.from(data));
    expect(byTag.get(8)!.data).toEqual(new Uint8Array([0x36, 0x1b, 0x10, 0x00]));
    expect([byTag.get(9)!.kind, byTag.get(9)!.status]).toEqual(["Cpl", CplStatus.UR]);
    expect([byTag.get(10)!.kind, byTag.get(10)!.status]).toEqual(["Cpl", CplStatus.UR]);
  });
});

describe("cfg_mgmt onto the root port's type-1 config space", () => {
  it("reads identity, header type and the PCIe capability chain", () => {
    const { port } = trained();
    expect(port.cfgRead(0x000)).toBe(0x7024_10ee);
    expect((port.cfgRead(0x003) >>> 16) & 0x7f).toBe(1);
    expect(port.cfgRead(0x00d) & 0xff).toBe(0x40);
    let pointer = 0x40;
    const ids: number[] = [];
    while (pointer !== 0) {
      const header = port.cfgRead(pointer >> 2);
      ids.push(header & 0xff);
      pointer = (header >>> 8) & 0xfc;
    }
    expect(ids).toEqual([0x01, 0x05, 0x10]);
    expect((port.cfgRead(PCIE_CAP_OFFSET >> 2) >>> 16) & 0xf0).toBe(0x40); // Root Port
    expect(port.cfgRead((PCIE_CAP_OFFSET + 4) >> 2) & 7).toBe(2); // MPS supported 512
  });

  it("done pulses for exactly one cycle after the configured latency", () => {
    const { link, port } = trained({ cfgMgmtLatencyCycles: 3 });
    const p = link.ports;
    p.cfg_mgmt_dwaddr = 0;
    p.cfg_mgmt_rd_en = 1;
    const doneAt: number[] = [];
    for (let i = 0; i < 6; i++) {
      port.step();
      if (p.cfg_mgmt_rd_wr_done) {
        doneAt.push(i);
        p.cfg_mgmt_rd_en = 0;
      }
    }
    expect(doneAt).toEqual([3]);
  });

  it("RW bits take writes under byte enables, RO bits do not unless wr_readonly", () => {
    const { port, link } = trained();
    port.cfgWrite(0x001, 0xffff_ffff, 0b0011);
    expect(port.cfgRead(0x001) & 0xffff).toBe(0x0547);
    port.cfgWrite(0x006, 0x0001_0100, 0b0111);
    expect(port.cfgRead(0x006)).toBe(0x0001_0100);
    port.cfgWrite(0x008, 0xe000_e000);
    expect(port.cfgRead(0x008)).toBe(0xe000_e000);
    port.cfgWrite(0x000, 0x1234_5678);
    expect(port.cfgRead(0x000)).toBe(0x7024_10ee);
    expect(link.config.readCompletionBoundary).toBe(64);
    port.cfgWrite(LINK_CONTROL >> 2, 0x8, 0b0001);
    expect(link.config.readCompletionBoundary).toBe(64);
    port.cfgWrite(LINK_CONTROL >> 2, 0x8, 0b0001, { readonly: true });
    expect(link.config.readCompletionBoundary).toBe(128);
    port.cfgWrite(DEVICE_CONTROL >> 2, (0b101 << 12) | (0b010 << 5), 0b0011);
    expect([link.config.maxPayloadSize, link.config.maxReadRequestSize]).toEqual([512, 4096]);
  });

  it("RW1C bits clear on 1 and are written as plain bits with wr_rw1c_as_rw", () => {
    const { port } = trained();
    port.cfgWrite(0x001, 0x8100_0000, 0b1100, { rw1cAsRw: true });
    expect(port.cfgRead(0x001) >>> 16).toBe(0x8110);
    port.cfgWrite(0x001, 0x0100_0000, 0b1100);
    expect(port.cfgRead(0x001) >>> 16).toBe(0x8010);
    port.cfgWrite(0x001, 0x8000_0000, 0b1100);
    expect(port.cfgRead(0x001) >>> 16).toBe(0x0010);
  });

  it("rd_en with wr_en is refused and logged", () => {
    const { link, port, events } = trained();
    link.ports.cfg_mgmt_rd_en = 1;
    link.ports.cfg_mgmt_wr_en = 1;
    port.run(10);
    expect(link.ports.cfg_mgmt_rd_wr_done).toBe(0);
    expect(events.at(-1)!.reason).toMatch(/both high/);
  });

  it("Link Control 2 target speed + Retrain drops the link to Gen1, halving throughput", () => {
    const { link, port, endpoint } = trained({ retrainCycles: 200 });
    port.cfgWrite(LINK_CONTROL_2 >> 2, 1, 0b0001);
    port.cfgWrite(LINK_CONTROL >> 2, 1 << 5, 0b0001);
    expect((port.cfgRead(LINK_CONTROL >> 2) >>> 16) & (1 << 11)).not.toBe(0);
    expect(port.cfgRead(LINK_CONTROL >> 2) & (1 << 5)).toBe(0);
    port.run(250);
    expect(link.speed).toBe(1);
    expect((port.cfgRead(LINK_CONTROL >> 2) >>> 16) & 0xf).toBe(1);
    for (let i = 0; i < 20; i++) port.send(mwr(0x1000 + i * 128, 128));
    port.runUntil(() => endpoint.received.length === 20, 5000);
    const cycles = endpoint.received[19].cycle - endpoint.received[0].cycle;
    expect(cycles / 19).toBeCloseTo(148 / 4, 0);
    expect(link.counters.retrains).toBe(1);
  });
});

describe("trace", () => {
  it("records TLPs as the user side sees them, down at tlast in, up at tlast out", () => {
    const lines: string[] = [];
    const endpoint = new ScriptedEndpoint();
    const link = new LinkModel(endpoint, { trainingCycles: 10 }, { trace: new TraceWriter((line) => lines.push(line)) });
    const port = new TlpPort(link);
    port.runUntil(() => link.ports.user_lnk_up === 1, 100);
    port.send(mrd(0x1000, 8, 3));
    port.runUntil(() => port.inbox.length === 1, 2000);
    expect(lines).toHaveLength(2);
    const [down, up] = lines.map((l) => JSON.parse(l));
    expect(down.dir).toBe("down");
    expect(decodeTlp(Buffer.from(down.tlp, "hex"))).toEqual(mrd(0x1000, 8, 3));
    expect(up.dir).toBe("up");
    expect(decodeTlp(Buffer.from(up.tlp, "hex")).kind).toBe("CplD");
    expect(up.cycle).toBeGreaterThan(down.cycle + 2 * link.params.latencyCycles);
  });
});
