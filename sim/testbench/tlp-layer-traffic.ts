// Seeded random traffic for a whole-layer run, in both directions at once, and the reference of what
// each side must see. Downstream (ours): configuration requests (some the peer refuses with UR),
// memory reads of every length up to MRRS, memory writes of every length up to MPS, every DW
// alignment, addresses below and above 4 GiB. Upstream (the peer's own): memory reads the completer
// answers, memory writes (some poisoned), completions nobody asked for, messages, and configuration
// requests a root port answers with UR.
import type { TlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { completeMemoryRead, completionWithoutData } from "../pcie/completion-split.ts";
import { randomBytes, randomInt } from "../random.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type Tlp } from "../pcie/tlp.ts";
import { readOfBytes, memoryDw } from "./tlp-completer-harness.ts";
import { randomCompletion, randomConfigRequest, randomMemoryWrite, randomMessage } from "./tlp-rx-traffic.ts";

type Random = () => number;

/** The peer's Requester/Completer ID (01:00.0), and one that is neither ours nor the peer's. */
export const PEER_ID = 0x0100;
const STRANGER_ID = 0x0200;
const CONFIG_SOURCE = 0;
const READ_SOURCE = 1;
const WRITE_SOURCE = 2;
export const LAYER_REQUEST_SOURCES = 3;

/** A request the test wants sent; non-posted ones get their tag from the allocator when issued. */
export type LayerRequest = MemRequest | ConfigRequest;

/** Which of the layer's request sources sends a request: configuration, reads, writes. */
export function sourceOf(request: LayerRequest): number {
  if (request.kind === "MRd") return READ_SOURCE;
  if (request.kind === "MWr") return WRITE_SOURCE;
  return CONFIG_SOURCE;
}

export interface LayerTraffic {
  downstream: LayerRequest[];
  upstream: { tlp: Tlp; readyCycle: number }[];
  peerMemory: { address: bigint; data: Uint8Array }[];
}

/**
 * Back-to-back traffic for line-rate runs: `blocks` MWr of `blockBytes` down (block i filled with
 * i), and up, per block, one MRd of `blockBytes` and one MWr filled with ~i.
 */
export function lineRateLayerTraffic(params: TlpLayerParams, blocks: number, blockBytes: number): { downstream: MemRequest[]; upstream: { tlp: Tlp; readyCycle: number }[] } {
  const ours = { requesterId: params.requesterId, tag: 0, tc: 0, attr: 0 };
  const downstream: MemRequest[] = Array.from({ length: blocks }, (_, i) => ({
    kind: "MWr", ep: false, td: false, addr64: false, ...ours, address: 0x8000_0000n + BigInt(i) * 0x1000n,
    lengthDw: blockBytes / 4, firstBe: 0xf, lastBe: 0xf, data: new Uint8Array(blockBytes).fill(i & 0xff),
  }));
  const upstream: { tlp: Tlp; readyCycle: number }[] = [];
  for (let i = 0; i < blocks; i++) {
    const read = readOfBytes(0x1000_0000n + BigInt(i) * 0x1000n, 0, blockBytes, { requesterId: PEER_ID, tag: i & 0xff, tc: 0, attr: 0 });
    upstream.push({ tlp: { kind: "MRd", ep: false, td: false, addr64: false, ...read }, readyCycle: 0 });
    upstream.push({
      tlp: {
        kind: "MWr", ep: false, td: false, addr64: false, requesterId: PEER_ID, tag: 0, tc: 0, attr: 0, address: 0x2000_0000n + BigInt(i) * 0x1000n,
        lengthDw: blockBytes / 4, firstBe: 0xf, lastBe: 0xf, data: new Uint8Array(blockBytes).fill(~i & 0xff),
      },
      readyCycle: 0,
    });
  }
  return { downstream, upstream };
}

export interface LayerTrafficCounts {
  configs: number;
  reads: number;
  writes: number;
  /** Upstream TLPs the peer sends on its own, one every `upstreamSpacing` cycles. */
  upstream: number;
  upstreamSpacing: number;
}

/** A page base below 4 GiB or, now and then, above it (4DW headers). */
function pageBase(random: Random, window: bigint, index: number): bigint {
  const high = random() < 0.3;
  return (high ? 0x3_0000_0000n : 0n) + window + (BigInt(index) << 12n);
}

export function randomLayerTraffic(random: Random, params: TlpLayerParams, counts: LayerTrafficCounts): LayerTraffic {
  const ours = { requesterId: params.requesterId, tag: 0, tc: 0, attr: 0 };
  const peerMemory: LayerTraffic["peerMemory"] = [];
  const reads: LayerRequest[] = Array.from({ length: counts.reads }, (_, i) => {
    const base = pageBase(random, 0x4000_0000n, i);
    const offset = randomInt(random, 0, 4095);
    const bytes = randomInt(random, 1, Math.min(params.maxReadRequestBytes - (offset & 3), 4096 - offset));
    const read = readOfBytes(base, offset, bytes, ours);
    peerMemory.push({ address: read.address, data: randomBytes(read.lengthDw * 4, randomInt(random, 0, 1 << 30)) });
    return { kind: "MRd", ep: false, td: false, addr64: base >= 1n << 32n, ...read };
  });
  const writes: LayerRequest[] = Array.from({ length: counts.writes }, (_, i) => {
    const base = pageBase(random, 0x8000_0000n, i);
    const lengthDw = randomInt(random, 1, params.maxPayloadBytes / 4);
    const offsetDw = randomInt(random, 0, 1024 - lengthDw);
    const byteEnables = lengthDw === 1
      ? { firstBe: randomInt(random, 0, 15), lastBe: 0 }
      : { firstBe: [0xf, 0xe, 0xc, 0x8][randomInt(random, 0, 3)], lastBe: [0xf, 0x7, 0x3, 0x1][randomInt(random, 0, 3)] };
    return {
      kind: "MWr", ep: false, td: false, addr64: base >= 1n << 32n, ...ours, address: base + BigInt(offsetDw * 4),
      lengthDw, ...byteEnables, data: randomBytes(lengthDw * 4, randomInt(random, 0, 1 << 30)),
    };
  });
  const configs: LayerRequest[] = Array.from({ length: counts.configs }, () => {
    // Function 0 of the peer answers; another function, or a type 1 request, gets UR.
    const kind = (["CfgRd0", "CfgWr0", "CfgRd0", "CfgWr0", "CfgRd1"] as const)[randomInt(random, 0, 4)];
    const request: ConfigRequest = {
      kind, tc: 0, attr: 0, ep: false, td: false, requesterId: params.requesterId, tag: 0,
      bus: 1, device: 0, fn: random() < 0.8 ? 0 : randomInt(random, 1, 7), register: randomInt(random, 0, 63) * 4, firstBe: randomInt(random, 1, 15),
    };
    if (kind === "CfgWr0") request.data = randomBytes(4, randomInt(random, 0, 1 << 30));
    return request;
  });
  const downstream = shuffle(random, [...reads, ...writes, ...configs]);

  const rxParams = { maxPayloadBytes: params.maxPayloadBytes, requesterId: params.requesterId, tags: params.tags };
  const upstream = Array.from({ length: counts.upstream }, (_, i) => {
    const which = random();
    let tlp: Tlp;
    if (which < 0.35) tlp = peerRead(random, i);
    else if (which < 0.7) tlp = randomMemoryWrite(random, rxParams);
    else if (which < 0.8) tlp = { ...randomCompletion(random, rxParams), requesterId: STRANGER_ID };
    else if (which < 0.88) tlp = randomMessage(random, rxParams);
    else tlp = randomConfigRequest(random, rxParams);
    return { tlp, readyCycle: i * counts.upstreamSpacing };
  });
  return { downstream, upstream, peerMemory };
}

/** A read from the peer: mostly short (queue entries, PRP lists), now and then up to a page. */
function peerRead(random: Random, index: number): MemRequest {
  const base = pageBase(random, 0x1000_0000n, index);
  const offset = randomInt(random, 0, 4095);
  const bytes = randomInt(random, 1, Math.min(random() < 0.8 ? 300 : 4096, 4096 - offset));
  const read = readOfBytes(base, offset, bytes, { requesterId: PEER_ID, tag: index & 0xff, tc: randomInt(random, 0, 7), attr: randomInt(random, 0, 3) });
  return { kind: "MRd", ep: false, td: false, addr64: base >= 1n << 32n, ...read };
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, 0, i);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * The completions the layer must send for the requests the peer delivered upstream, in order:
 * CplDs cut by the reference completer for its memory reads (data from the data source's
 * `memoryDw`), and UR completions for its configuration requests.
 */
export function expectedLayerCompletions(delivered: readonly Tlp[], params: TlpLayerParams): { cplds: Completion[]; urs: Completion[] } {
  const split = { rcb: params.readCompletionBoundary as 64 | 128, mps: params.maxPayloadBytes };
  const cplds: Completion[] = [];
  const urs: Completion[] = [];
  for (const tlp of delivered) {
    if (tlp.kind === "MRd") cplds.push(...completeMemoryRead(tlp, params.requesterId, dataSourceBytes, split));
    else if (tlp.kind.startsWith("Cfg")) urs.push(completionWithoutData(tlp as ConfigRequest, params.requesterId, CplStatus.UR));
  }
  return { cplds, urs };
}

function dataSourceBytes(address: bigint, byteLength: number): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < byteLength; i += 4) view.setUint32(i, memoryDw(address + BigInt(i)), true);
  return bytes;
}
