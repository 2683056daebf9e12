// Test helpers for valid/ready streams: random patterns and packet generators.
export { seededRandom } from "../random.ts";

/** A cyclic on/off pattern that is on with probability `p`. */
export function pattern(random: () => number, length: number, p: number): boolean[] {
  return Array.from({ length }, () => random() < p);
}

export function randomWord(random: () => number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(random() * 65536));
  return v & ((1n << BigInt(bits)) - 1n);
}
