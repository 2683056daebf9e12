// Reproducible random stimulus for the input ports of a design: a reset at the start
// and now and then, random values that sometimes hold still (so handshakes complete).
import { seededUint32 as prng } from "../random.ts";

export interface PortSpec {
  name: string;
  width: number;
}

export interface Stimulus {
  cycles: number;
  inputs: PortSpec[];
  /** Per input: `cycles * words(width)` little-endian words. */
  values: Uint32Array[];
}

export const wordsOf = (width: number) => Math.max(1, Math.ceil(width / 32));

export { seededUint32 as prng } from "../random.ts";

export function randomStimulus(inputs: readonly PortSpec[], cycles: number, seed: number): Stimulus {
  const rand = prng(seed);
  const ports = inputs.filter((p) => p.name !== "clk");
  const values = ports.map((p) => new Uint32Array(cycles * wordsOf(p.width)));
  ports.forEach((p, i) => {
    const nw = wordsOf(p.width);
    const top = p.width % 32;
    const v = values[i];
    for (let c = 0; c < cycles; c++) {
      if (p.name === "rst") {
        v[c] = c < 2 || rand() % 97 === 0 ? 1 : 0;
        continue;
      }
      const hold = c > 0 && rand() % 4 === 0;
      const style = rand() % 8; // mostly random, sometimes all zeros, all ones or small numbers
      for (let w = 0; w < nw; w++) {
        let x: number;
        if (hold) x = v[(c - 1) * nw + w];
        else if (style === 0) x = 0;
        else if (style === 1) x = 0xffffffff;
        else if (style === 2) x = w === 0 ? rand() % 5 : 0;
        else x = rand();
        if (w === nw - 1 && top !== 0) x &= 2 ** top - 1;
        v[c * nw + w] = x;
      }
    }
  });
  return { cycles, inputs: ports, values };
}
