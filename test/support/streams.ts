// Test helpers for valid/ready streams: random patterns and packet generators.
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** A cyclic on/off pattern that is on with probability `p`. */
export function pattern(random: () => number, length: number, p: number): boolean[] {
  return Array.from({ length }, () => random() < p);
}

export function randomWord(random: () => number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(random() * 65536));
  return v & ((1n << BigInt(bits)) - 1n);
}
