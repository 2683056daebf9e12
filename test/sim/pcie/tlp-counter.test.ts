// The TLP counter of `nvme-host sim` (sim/pcie/tlp-counter.ts): TLPs encoded by the codec are counted by
// kind and direction, 3DW and 4DW memory requests alike, their bytes summed, and doorbell writes told
// apart (SQ tail, CQ head) from other writes to BAR0 and to memory.
import { describe, expect, it } from "vitest";
import { encodeTlp } from "../../../sim/pcie/codec.ts";
import type { Tlp } from "../../../sim/pcie/tlp.ts";
import { TLP_KINDS, TlpCounter } from "../../../sim/pcie/tlp-counter.ts";

const common = { tc: 0, attr: 0, ep: false, td: false };
const mwr = (address: bigint, lengthDw = 1): Tlp => ({ ...common, kind: "MWr", requesterId: 0, tag: 0, address, addr64: address >= 1n << 32n, lengthDw, firstBe: 0xf, lastBe: lengthDw > 1 ? 0xf : 0, data: new Uint8Array(lengthDw * 4) });
const mrd = (address: bigint): Tlp => ({ ...common, kind: "MRd", requesterId: 0x100, tag: 1, address, addr64: address >= 1n << 32n, lengthDw: 16, firstBe: 0xf, lastBe: 0xf });
const cpld: Tlp = { ...common, kind: "CplD", completerId: 0, status: 0, bcm: false, byteCount: 8, requesterId: 0x100, tag: 1, lowerAddress: 0, lengthDw: 2, data: new Uint8Array(8) };
const cpl: Tlp = { ...common, kind: "Cpl", completerId: 0, status: 0, bcm: false, byteCount: 4, requesterId: 0x100, tag: 1, lowerAddress: 0, lengthDw: 0 };
const cfgWr: Tlp = { ...common, kind: "CfgWr0", requesterId: 0, tag: 2, bus: 1, device: 0, fn: 0, register: 0x10, firstBe: 0xf, data: new Uint8Array(4) };
const msg: Tlp = { ...common, kind: "Msg", routing: 4, requesterId: 0x100, tag: 0, messageCode: 0x20, headerTail: new Uint8Array(8), lengthDw: 0 };

describe("TlpCounter", () => {
  it("counts TLPs by kind and direction and sums their bytes", () => {
    const counter = new TlpCounter();
    const down = [mwr(0x2000_0000n, 64), mrd(0x1000n), cpld, cpl, cfgWr];
    const up = [mrd(0x2_0000_0000n), mrd(0x2000_0000n), mwr(0x1_0000_0000n, 4), msg];
    for (const t of down) counter.write(0, "down", encodeTlp(t));
    for (const t of up) counter.write(0, "up", encodeTlp(t));
    const { down: d, up: u } = counter.counts();
    expect(d).toMatchObject({ MWr: 1, MRd: 1, CplD: 1, Cpl: 1, CfgWr0: 1, other: 0 });
    expect(u).toMatchObject({ MRd: 2, MWr: 1, Msg: 1, other: 0 });
    expect(Object.keys(d)).toEqual([...TLP_KINDS]);
    expect(counter.bytesDown).toBe(down.reduce((n, t) => n + encodeTlp(t).length, 0));
    expect(counter.bytesUp).toBe(up.reduce((n, t) => n + encodeTlp(t).length, 0));
  });

  it("tells SQ tail and CQ head doorbells apart from other writes, with the doorbell stride", () => {
    const counter = new TlpCounter();
    counter.setDoorbells(0xe000_0000, 0x4000, 0);
    for (const address of [0xe000_1008n, 0xe000_1008n, 0xe000_100cn, 0xe000_1000n, 0xe000_0014n, 0x2000_1008n]) counter.write(0, "down", encodeTlp(mwr(address)));
    expect({ sq: counter.sqDoorbells, cq: counter.cqDoorbells }).toEqual({ sq: 3, cq: 1 });
    const wide = new TlpCounter();
    wide.setDoorbells(0xe000_0000, 0x4000, 2); // 16-byte stride: SQ1 tail at 0x1020, CQ1 head at 0x1030
    for (const address of [0xe000_1020n, 0xe000_1030n]) wide.write(0, "down", encodeTlp(mwr(address)));
    expect({ sq: wide.sqDoorbells, cq: wide.cqDoorbells }).toEqual({ sq: 1, cq: 1 });
  });

  it("counts nothing while disabled", () => {
    const counter = new TlpCounter();
    counter.enabled = false;
    counter.write(0, "down", encodeTlp(cpld));
    expect(counter.counts().down.CplD).toBe(0);
    expect(counter.bytesDown).toBe(0);
  });
});
