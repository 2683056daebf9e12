// Seeded random upstream traffic for the receive parser: what an SSD (or a misbehaving peer) sends
// the root port. Every record is legal for the codec, so it can cross the link model; the mix covers
// CplD/Cpl of every length and status (ours and not ours, poisoned), MRd 3DW/4DW, MWr of every length
// up to MPS at every DW alignment, messages, and configuration requests (unsupported at a root port).
import {
  randomBytes,
  randomChoice,
  randomConfigRequest as randomAnyConfigRequest,
  randomHeaderFlags,
  randomInt,
  randomMessage as randomAnyMessage,
  type RandomTlpOptions,
  seededRandom,
} from "./random-tlp.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type Message, type Tlp } from "../pcie/tlp.ts";

export { seededRandom };

export interface RxTrafficParams {
  maxPayloadBytes: number;
  /** Our requester ID and tag count: most completions are addressed to them. */
  requesterId: number;
  tags: number;
  /** Share of TLPs with an ECRC digest (TD=1). */
  digestShare?: number;
}

type Random = () => number;

/** The header-flag shares of rx traffic: digests per `digestShare` (default 0.1). */
function flagOptions(params: RxTrafficParams, poisonShare = 0.1): RandomTlpOptions {
  return { digestShare: params.digestShare ?? 0.1, poisonShare };
}

/** Byte enables legal for `lengthDw` DWs (§B.5: contiguous for 3 DW and more). */
function byteEnables(random: Random, lengthDw: number): { firstBe: number; lastBe: number } {
  if (lengthDw === 1) return { firstBe: randomInt(random, 0, 15), lastBe: 0 };
  return { firstBe: randomChoice(random, [0b1111, 0b1110, 0b1100, 0b1000]), lastBe: randomChoice(random, [0b1111, 0b0111, 0b0011, 0b0001]) };
}

/** An address for `lengthDw` DWs that stays inside one 4 KiB page; 4DW only at or above 4 GiB. */
function address(random: Random, lengthDw: number, addr64: boolean, offsetDw?: number): bigint {
  const page = addr64 ? BigInt(randomInt(random, 1 << 20, 0x7fffffff)) : BigInt(randomInt(random, 0, (1 << 20) - 1));
  const offset = offsetDw ?? randomInt(random, 0, 1024 - lengthDw);
  return (page << 12n) | BigInt(offset * 4);
}

export function randomMemoryWrite(random: Random, params: RxTrafficParams, lengthDw = randomInt(random, 1, params.maxPayloadBytes / 4), offsetDw?: number): MemRequest {
  const addr64 = random() < 0.3;
  return {
    kind: "MWr",
    ...randomHeaderFlags(random, flagOptions(params)),
    requesterId: randomInt(random, 0, 0xffff),
    tag: randomInt(random, 0, 255),
    address: address(random, lengthDw, addr64, offsetDw),
    addr64,
    lengthDw,
    ...byteEnables(random, lengthDw),
    data: randomBytes(random, lengthDw * 4),
  };
}

export function randomMemoryRead(random: Random, params: RxTrafficParams): MemRequest {
  const addr64 = random() < 0.4;
  const lengthDw = random() < 0.1 ? 1024 : randomInt(random, 1, 128);
  return {
    kind: "MRd",
    ...randomHeaderFlags(random, flagOptions(params)),
    ep: false,
    requesterId: randomInt(random, 0, 0xffff),
    tag: randomInt(random, 0, 255),
    address: address(random, lengthDw, addr64),
    addr64,
    lengthDw,
    ...byteEnables(random, lengthDw),
  };
}

export function randomCompletion(random: Random, params: RxTrafficParams, lengthDw = randomInt(random, 1, params.maxPayloadBytes / 4)): Completion {
  const withData = random() < 0.7;
  const ours = random() < 0.9;
  const tlp: Completion = {
    kind: withData ? "CplD" : "Cpl",
    ...randomHeaderFlags(random, flagOptions(params)),
    completerId: randomInt(random, 0, 0xffff),
    status: withData ? CplStatus.SC : randomChoice(random, [CplStatus.SC, CplStatus.UR, CplStatus.CRS, CplStatus.CA]),
    bcm: false,
    byteCount: randomInt(random, 1, 4096),
    requesterId: ours ? params.requesterId : randomInt(random, 0, 0xffff),
    tag: ours || random() < 0.5 ? randomInt(random, 0, params.tags - 1) : randomInt(random, params.tags, 255),
    lowerAddress: randomInt(random, 0, 127),
    lengthDw: withData ? lengthDw : 0,
  };
  if (withData) tlp.data = randomBytes(random, lengthDw * 4);
  return tlp;
}

export function randomMessage(random: Random, params: RxTrafficParams): Message {
  return randomAnyMessage(random, flagOptions(params));
}

/** Configuration requests are never poisoned here: a root port answers them UR whatever they carry. */
export function randomConfigRequest(random: Random, params: RxTrafficParams): ConfigRequest {
  return randomAnyConfigRequest(random, flagOptions(params, 0));
}

/** A mix weighted like an SSD's upstream traffic, plus the odd message and configuration request. */
export function randomUpstreamTlp(random: Random, params: RxTrafficParams): Tlp {
  const which = random();
  if (which < 0.35) return randomMemoryWrite(random, params);
  if (which < 0.6) return randomCompletion(random, params);
  if (which < 0.85) return randomMemoryRead(random, params);
  if (which < 0.93) return randomMessage(random, params);
  return randomConfigRequest(random, params);
}
