// The link model's physical side: PERST# (link down, endpoint reset on release, training again), the
// pl_* ports (rate, width, Gen2 capability, LTSSM), directed speed and width changes, a link that never
// trains, and the endpoint's own speed and width limits.
import { describe, expect, it } from "vitest";
import { LinkModel, LtssmState, type LinkEvent } from "../../../sim/pcie/link-model.ts";
import type { LinkParamsInput } from "../../../sim/pcie/link-params.ts";
import { LINK_CONTROL } from "../../../sim/pcie/rp-config-space.ts";
import { TlpPort } from "../../../sim/pcie/tlp-port.ts";
import { CplStatus, type ConfigRequest, type MemRequest, type PcieEndpoint, type Tlp } from "../../../sim/pcie/tlp.ts";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { ScriptedEndpoint } from "../../../sim/testbench/scripted-endpoint.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

function mwr(address: number, bytes: number, fill = 0x5a): MemRequest {
  return {
    kind: "MWr", ...plain, requesterId: 0, tag: 0, address: BigInt(address), addr64: false, lengthDw: bytes / 4,
    firstBe: 0xf, lastBe: bytes === 4 ? 0 : 0xf, data: new Uint8Array(bytes).fill(fill),
  };
}

function cfgRd0(register: number, tag: number): ConfigRequest {
  return { kind: "CfgRd0", ...plain, requesterId: 0, tag, bus: 1, device: 0, fn: 0, register, firstBe: 0xf };
}

/** An endpoint that records its resets and answers nothing. */
class ResetRecorder extends ScriptedEndpoint implements PcieEndpoint {
  readonly resets: number[] = [];
  reset(cycle: number): void {
    this.resets.push(cycle);
  }
}

function setup(params: LinkParamsInput = {}, endpoint: PcieEndpoint = new ResetRecorder()) {
  const events: LinkEvent[] = [];
  const link = new LinkModel(endpoint, { trainingCycles: 50, retrainCycles: 100, ...params }, { onEvent: (e) => events.push(e) });
  return { link, port: new TlpPort(link), endpoint, events };
}

/** Link Status as the root port's config space shows it: speed, width, training, DL active. */
function linkStatus(link: LinkModel) {
  const status = link.config.read(LINK_CONTROL >> 2) >>> 16;
  return { speed: status & 0xf, width: (status >> 4) & 0x3f, training: (status >> 11) & 1, dllActive: (status >> 13) & 1 };
}

describe("PERST#", () => {
  it("a design that never drives PERST# trains from power-up as before", () => {
    const { link, port } = setup();
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    expect(link.cycle).toBe(50);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.l0);
    expect(link.counters.linkDowns).toBe(0);
  });

  it("held low: link down, endpoint untouched; released: endpoint reset that cycle, link up trainingCycles later", () => {
    const endpoint = new ResetRecorder();
    const { link, port } = setup({ trainingCycles: 300 }, endpoint);
    link.ports.perst_n = 0;
    port.run(1000);
    expect(link.ports.user_lnk_up).toBe(0);
    expect(link.ports.s_axis_tx_tready).toBe(0);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.detectQuiet);
    expect(link.ports.pl_link_gen2_cap).toBe(0);
    expect(endpoint.resets).toEqual([]);
    expect(link.nextEventCycle()).toBe(Infinity);
    link.ports.perst_n = 1;
    port.step(); // the edge of cycle 1000 sees the release
    expect(endpoint.resets).toEqual([1000]);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.pollingActive);
    const up = port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    expect(link.cycle).toBe(1000 + 300);
    expect(up).toBe(299);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.l0);
    expect(linkStatus(link)).toEqual({ speed: 2, width: 4, training: 0, dllActive: 1 });
  });

  it("asserted on a busy link: everything in flight is lost, counted and logged; traffic works again after release", () => {
    const endpoint = new ResetRecorder();
    const { link, port, events } = setup({ latencyCycles: 200, endpointRxCredits: { postedHeader: 4 } }, endpoint);
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    for (let i = 0; i < 12; i++) port.send(mwr(0x1000 + 128 * i, 128, i));
    port.run(100);
    expect(endpoint.received.length).toBe(0); // still on the wire (latency 200)
    const accepted = port.sentTlps; // whole TLPs taken on s_axis_tx, plus one half-taken
    link.ports.perst_n = 0;
    port.step();
    expect(link.ports.user_lnk_up).toBe(0);
    expect(link.ports.tx_buf_av).toBe(32);
    expect(link.counters.linkDowns).toBe(1);
    expect(accepted).toBeGreaterThanOrEqual(5);
    expect(link.counters.linkDownLostTlps).toBe(accepted + 1);
    expect(linkStatus(link).dllActive).toBe(0);
    expect(events.map((e) => e.category)).toEqual(expect.arrayContaining(["perst-asserted", "link-down-lost"]));
    port.run(400);
    expect(endpoint.received.length).toBe(0); // nothing that was in flight arrives
    link.ports.perst_n = 1;
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    // The TLPs the port still held go now; the tail of the one cut in half is malformed and dropped.
    for (let i = 0; i < 4; i++) port.send(mwr(0x8000 + 128 * i, 128, 0x40 + i));
    port.runUntil(() => endpoint.received.length === 12 - accepted - 1 + 4, 5000);
    expect(endpoint.received.map((r) => (r.tlp as MemRequest).data![0])).toEqual([
      ...Array.from({ length: 12 - accepted - 1 }, (_, i) => accepted + 1 + i),
      0x40, 0x41, 0x42, 0x43,
    ]);
    expect(link.counters.dropCounts.get("tx-framing")).toBe(1);
  });

  it("a surprise link down: lost traffic, the endpoint reset that cycle, the link up again on its own, nothing else between", () => {
    const endpoint = new ResetRecorder();
    const { link, port, events } = setup({ latencyCycles: 200 }, endpoint);
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    for (let i = 0; i < 4; i++) port.send(mwr(0x1000 + 128 * i, 128, i));
    port.run(60);
    const at = link.cycle + 10;
    link.surpriseDown(at, 500);
    // The scheduled event bounds an idle stretch.
    expect(link.nextEventCycle()).toBeLessThanOrEqual(at);
    port.runUntil(() => link.ports.user_lnk_up === 0, 100);
    expect(link.cycle).toBe(at + 1);
    expect(endpoint.resets).toEqual([at]);
    expect(link.counters.linkDowns).toBe(1);
    expect(link.counters.linkDownLostTlps).toBeGreaterThan(0);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.detectQuiet);
    expect(events.map((e) => e.category)).toEqual(expect.arrayContaining(["surprise-down", "link-down-lost"]));
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    expect(link.cycle).toBe(at + 500 + 50);
    expect(endpoint.received.length).toBe(0);
    port.send(mwr(0x8000, 128, 0x77));
    port.runUntil(() => endpoint.received.length === 1, 2000);
    expect((endpoint.received[0].tlp as MemRequest).data![0]).toBe(0x77);
    // A link that is down at the scheduled cycle is left alone; bad arguments are named.
    link.ports.perst_n = 0;
    port.step();
    link.surpriseDown(link.cycle, 10);
    port.run(20);
    expect(endpoint.resets).toEqual([at]);
    expect(() => link.surpriseDown(0, 10)).toThrow(/atCycle 0/);
    expect(() => link.surpriseDown(link.cycle, -1)).toThrow(/downCycles -1/);
  });

  it("the SSD answers CRS for crsCycles after each release, then its vendor ID", () => {
    const ssd = new NvmeSsd({ crsCycles: 2000 });
    const { link, port } = setup({}, ssd);
    const answers: { cycle: number; status: number }[] = [];
    port.onReceive((tlp: Tlp, cycle) => {
      if (tlp.kind === "Cpl" || tlp.kind === "CplD") answers.push({ cycle, status: tlp.status });
    });
    link.ports.perst_n = 0;
    port.run(100);
    link.ports.perst_n = 1;
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    port.send(cfgRd0(0, 1));
    port.runUntil(() => answers.length === 1, 2000);
    expect(answers[0].status).toBe(CplStatus.CRS);
    port.run(2000);
    port.send(cfgRd0(0, 2));
    port.runUntil(() => answers.length === 2, 2000);
    expect(answers[1].status).toBe(CplStatus.SC);
  });
});

describe("pl_* ports and directed changes", () => {
  it("trains at initialSpeed, reports Gen2 capability, and a directed speed change reaches 5 GT/s with one done pulse", () => {
    const { link, port } = setup({ initialSpeed: 1 });
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    expect(link.ports.pl_sel_lnk_rate).toBe(0);
    expect(link.ports.pl_sel_lnk_width).toBe(0b10);
    expect(link.ports.pl_link_gen2_cap).toBe(1);
    expect(linkStatus(link).speed).toBe(1);
    link.ports.pl_directed_link_speed = 1;
    link.ports.pl_directed_link_change = 0b10;
    port.step();
    const start = link.cycle;
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.recoveryRcvrLock);
    expect(link.ports.user_lnk_up).toBe(1);
    expect(linkStatus(link).training).toBe(1);
    const doneAt: number[] = [];
    for (let i = 0; i < 300; i++) {
      port.step();
      if (link.ports.pl_directed_change_done) doneAt.push(link.cycle);
    }
    // The request is still held: one change, one pulse, retrainCycles after it was taken.
    expect(doneAt).toEqual([start + 100]);
    expect(link.ports.pl_sel_lnk_rate).toBe(1);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.l0);
    expect(linkStatus(link)).toEqual({ speed: 2, width: 4, training: 0, dllActive: 1 });
    expect(link.counters.directedChanges).toBe(1);
    // Back to 00, then a new request is taken.
    link.ports.pl_directed_link_change = 0;
    port.step();
    link.ports.pl_directed_link_change = 0b10;
    link.ports.pl_directed_link_speed = 0;
    port.run(150);
    expect(link.counters.directedChanges).toBe(2);
    expect(link.ports.pl_sel_lnk_rate).toBe(0);
  });

  it("the slower end limits speed, the narrower end limits width, also for directed changes", () => {
    const { link, port } = setup({ initialSpeed: 1, endpointMaxSpeed: 1, endpointMaxWidth: 2 });
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    expect(link.ports.pl_link_gen2_cap).toBe(0);
    expect(link.ports.pl_sel_lnk_width).toBe(0b01);
    expect(linkStatus(link)).toMatchObject({ speed: 1, width: 2 });
    link.ports.pl_directed_link_change = 0b11;
    link.ports.pl_directed_link_speed = 1;
    link.ports.pl_directed_link_width = 0b11; // x8 asked, x2 possible
    port.run(110);
    expect(link.ports.pl_sel_lnk_rate).toBe(0);
    expect(link.ports.pl_sel_lnk_width).toBe(0b01);
    link.ports.pl_directed_link_change = 0;
    port.step();
    link.ports.pl_directed_link_change = 0b01;
    link.ports.pl_directed_link_width = 0b00;
    port.run(110);
    expect(link.width).toBe(1);
    expect(link.ports.pl_sel_lnk_width).toBe(0);
    expect(linkStatus(link)).toMatchObject({ speed: 1, width: 1 });
  });

  it("a narrower or slower link carries proportionally less: x1 Gen1 takes 8x the cycles of x4 Gen2", () => {
    const cyclesFor = (params: LinkParamsInput) => {
      const endpoint = new ScriptedEndpoint();
      const { link, port } = setup(params, endpoint);
      port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
      for (let i = 0; i < 20; i++) port.send(mwr(0x1000 + 128 * i, 128));
      port.runUntil(() => endpoint.received.length === 20, 50_000);
      return endpoint.received[19].cycle - endpoint.received[0].cycle;
    };
    const fast = cyclesFor({});
    const slow = cyclesFor({ initialSpeed: 1, endpointMaxWidth: 1 });
    expect(slow / fast).toBeCloseTo(8, 0);
  });

  it("a link that never trains stays in Detect, and the model says nothing will ever happen", () => {
    const { link, port } = setup({ noLink: true });
    port.run(5000);
    expect(link.ports.user_lnk_up).toBe(0);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.detectActive);
    expect(link.nextEventCycle()).toBe(Infinity);
    link.advanceIdle(1_000_000);
    expect(link.cycle).toBe(1_005_000);
  });

  it("setNoLink: a device that was not there trains at the next PERST# release, and one taken away stays in Detect", () => {
    const { link, port } = setup({ noLink: true });
    port.run(500);
    link.setNoLink(false);
    port.run(500);
    expect(link.ports.user_lnk_up).toBe(0); // no PERST# pulse yet: still in Detect
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.detectActive);
    link.ports.perst_n = 0;
    port.run(10);
    link.ports.perst_n = 1;
    port.step();
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.pollingActive);
    port.runUntil(() => link.ports.user_lnk_up === 1, 1000);
    expect(link.cycle).toBe(1010 + 50); // released at the edge of cycle 1010
    link.setNoLink(true);
    port.run(100);
    expect(link.ports.user_lnk_up).toBe(1); // a link that is up stays up
    link.ports.perst_n = 0;
    port.step();
    link.ports.perst_n = 1;
    port.run(1000);
    expect(link.ports.user_lnk_up).toBe(0);
    expect(link.ports.pl_ltssm_state).toBe(LtssmState.detectActive);
    expect(() => link.setNoLink(1 as unknown as boolean)).toThrow(/setNoLink\(1\)/);
  });

  it("rejects impossible physical parameters with their names", () => {
    expect(() => setup({ generation: 1, initialSpeed: 2 })).toThrow(/initialSpeed = 2/);
    expect(() => setup({ endpointMaxWidth: 3 })).toThrow(/endpointMaxWidth = 3/);
    expect(() => setup({ endpointMaxSpeed: 0 as 1 })).toThrow(/endpointMaxSpeed = 0/);
  });
});
