// The SSD's DMA engine keeps a tag busy after a bad completion until the completer's last one for
// it: a late CplD of a failed split read must never land in the next read that reuses the tag.
import { describe, expect, it } from "vitest";
import { DmaEngine, type DmaReadResult } from "../../../sim/nvme/dma.ts";
import { ModelLog } from "../../../sim/nvme/model-log.ts";
import { Scheduler } from "../../../sim/nvme/scheduler.ts";
import type { Completion, MemRequest, Tlp } from "../../../sim/pcie/tlp.ts";

function engine() {
  const sent: MemRequest[] = [];
  const dma = new DmaEngine({
    requesterId: () => 0x0100,
    maxPayloadBytes: () => 256,
    maxReadRequestBytes: () => 512,
    extendedTags: () => false,
    busMasterEnabled: () => true,
    completionTimeoutCycles: () => 1_000_000,
    send: (tlp: Tlp) => sent.push(tlp as MemRequest),
    scheduler: new Scheduler(),
    log: new ModelLog(),
  });
  return { dma, sent };
}

function cplD(tag: number, byteCount: number, lowerAddress: number, bytes: number): Completion {
  return {
    kind: "CplD", tc: 0, attr: 0, ep: false, td: false, completerId: 0, status: 0, bcm: false,
    byteCount, requesterId: 0x0100, tag, lowerAddress, lengthDw: bytes / 4, data: new Uint8Array(bytes).fill(0xee),
  };
}

describe("DMA tags after a bad completion", () => {
  it("fail the command at once but stay busy until the completer's last completion for the tag", () => {
    const { dma, sent } = engine();
    const results: DmaReadResult[] = [];
    dma.read(0x1000n, 256, (r) => results.push(r));
    const first = sent[0].tag;
    // A split read's first CplD with a wrong Lower Address: the read fails, more CplDs are owed.
    expect(dma.receiveCompletion(cplD(first, 256, 0x40, 64))).toBeUndefined();
    expect(results).toEqual([{ ok: false, reason: expect.stringMatching(/Lower Address 0x40, expected 0x0/) }]);

    dma.read(0x2000n, 64, (r) => results.push(r));
    const second = sent[1].tag;
    expect(second).not.toBe(first);
    // The late rest of the failed read (192 bytes, Byte Count 192: the last one) is swallowed...
    expect(dma.receiveCompletion(cplD(first, 192, 0x40, 192))).toBeUndefined();
    // ...and frees the tag: another completion for it now matches nothing.
    expect(dma.receiveCompletion(cplD(first, 4, 0, 4))).toMatch(/matches no outstanding read/);
    // The second read is untouched by all of this.
    expect(dma.receiveCompletion(cplD(second, 64, 0, 64))).toBeUndefined();
    expect(results[1]).toEqual({ ok: true, data: new Uint8Array(64).fill(0xee) });
  });

  it("free the tag at once when the bad completion is the last one (an error status)", () => {
    const { dma, sent } = engine();
    dma.read(0x1000n, 128, () => undefined);
    const tag = sent[0].tag;
    const ur: Completion = { ...cplD(tag, 128, 0, 4), kind: "Cpl", status: 1, lengthDw: 0, data: undefined };
    expect(dma.receiveCompletion(ur)).toBeUndefined();
    expect(dma.receiveCompletion(cplD(tag, 128, 0, 128))).toMatch(/matches no outstanding read/);
  });
});
