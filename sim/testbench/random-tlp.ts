// Random legal TLP records from a seeded generator, for round-trip property tests and for fuzzing a
// hardware TLP parser with reproducible stimulus.

import { randomInt } from "../random.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type Message, type Tlp } from "../pcie/tlp.ts";

export { randomInt, seededRandom } from "../random.ts";

/** Shares of the header flags; the defaults suit codec round trips. */
export interface RandomTlpOptions {
  /** Share of TLPs with an ECRC digest (TD=1); default 0.2. */
  digestShare?: number;
  /** Share of poisoned TLPs (EP=1); default 0.1. */
  poisonShare?: number;
}

export function randomBytes(random: () => number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = randomInt(random, 0, 255);
  return bytes;
}

export function randomChoice<T>(random: () => number, items: readonly T[]): T {
  return items[randomInt(random, 0, items.length - 1)];
}

/** TC, Attr, EP and TD of a TLP that may use any of them. */
export function randomHeaderFlags(random: () => number, options: RandomTlpOptions = {}) {
  return {
    tc: randomInt(random, 0, 7),
    attr: randomInt(random, 0, 3),
    ep: random() < (options.poisonShare ?? 0.1),
    td: random() < (options.digestShare ?? 0.2),
  };
}

export function randomMemRequest(random: () => number, kind: "MRd" | "MWr" = random() < 0.5 ? "MRd" : "MWr"): MemRequest {
  const addr64 = random() < 0.3;
  const lengthDw = random() < 0.2 ? 1024 : random() < 0.5 ? randomInt(random, 1, 4) : randomInt(random, 1, 1024);
  const page = addr64 ? BigInt(randomInt(random, 1 << 20, 0x7fffffff)) : BigInt(randomInt(random, 0, (1 << 20) - 1));
  const offsetDw = randomInt(random, 0, 1024 - lengthDw);
  const address = (page << 12n) | BigInt(offsetDw * 4);
  let firstBe: number;
  let lastBe: number;
  if (lengthDw === 1) {
    firstBe = randomInt(random, 0, 15);
    lastBe = 0;
  } else {
    firstBe = randomChoice(random, [0b1111, 0b1110, 0b1100, 0b1000]);
    lastBe = randomChoice(random, [0b1111, 0b0111, 0b0011, 0b0001]);
  }
  const tlp: MemRequest = { kind, ...randomHeaderFlags(random), requesterId: randomInt(random, 0, 0xffff), tag: randomInt(random, 0, 255), address, addr64, lengthDw, firstBe, lastBe };
  if (kind === "MWr") tlp.data = randomBytes(random, lengthDw * 4);
  return tlp;
}

export function randomCompletion(random: () => number): Completion {
  const withData = random() < 0.6;
  const lengthDw = withData ? randomInt(random, 1, 1024) : 0;
  const tlp: Completion = {
    kind: withData ? "CplD" : "Cpl",
    ...randomHeaderFlags(random),
    completerId: randomInt(random, 0, 0xffff),
    status: withData ? CplStatus.SC : randomChoice(random, [CplStatus.SC, CplStatus.UR, CplStatus.CRS, CplStatus.CA]),
    bcm: random() < 0.05,
    byteCount: randomInt(random, 1, 4096),
    requesterId: randomInt(random, 0, 0xffff),
    tag: randomInt(random, 0, 255),
    lowerAddress: randomInt(random, 0, 127),
    lengthDw,
  };
  if (withData) tlp.data = randomBytes(random, lengthDw * 4);
  return tlp;
}

export function randomConfigRequest(random: () => number, options: RandomTlpOptions = {}): ConfigRequest {
  const kind = randomChoice(random, ["CfgRd0", "CfgWr0", "CfgRd1", "CfgWr1"] as const);
  const tlp: ConfigRequest = {
    kind,
    tc: 0,
    attr: 0,
    ep: random() < (options.poisonShare ?? 0.1),
    td: random() < (options.digestShare ?? 0.2),
    requesterId: randomInt(random, 0, 0xffff),
    tag: randomInt(random, 0, 255),
    bus: randomInt(random, 0, 255),
    device: randomInt(random, 0, 31),
    fn: randomInt(random, 0, 7),
    register: randomInt(random, 0, 1023) * 4,
    firstBe: randomInt(random, 0, 15),
  };
  if (kind === "CfgWr0" || kind === "CfgWr1") tlp.data = randomBytes(random, 4);
  return tlp;
}

export function randomMessage(random: () => number, options: RandomTlpOptions = {}): Message {
  const withData = random() < 0.3;
  const lengthDw = withData ? randomInt(random, 1, 16) : 0;
  const tlp: Message = {
    kind: withData ? "MsgD" : "Msg",
    ...randomHeaderFlags(random, options),
    routing: randomInt(random, 0, 7),
    requesterId: randomInt(random, 0, 0xffff),
    tag: randomInt(random, 0, 255),
    messageCode: randomInt(random, 0, 255),
    headerTail: randomBytes(random, 8),
    lengthDw,
  };
  if (withData) tlp.data = randomBytes(random, lengthDw * 4);
  return tlp;
}

export function randomTlp(random: () => number): Tlp {
  const which = random();
  if (which < 0.45) return randomMemRequest(random);
  if (which < 0.75) return randomCompletion(random);
  if (which < 0.9) return randomConfigRequest(random);
  return randomMessage(random);
}
