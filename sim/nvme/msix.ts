// The MSI-X table and Pending Bit Array in BAR0 (facts digest §C.7). A message for a masked vector (or
// with the function masked) sets its pending bit and is sent when the vector is unmasked.

export interface MsixMessage {
  address: bigint;
  data: number;
}

const ENTRY_BYTES = 16;

export class MsixTable {
  private readonly words: Uint32Array;
  private readonly pending: Uint8Array;

  constructor(readonly vectors: number) {
    this.words = new Uint32Array(vectors * 4);
    this.pending = new Uint8Array(vectors);
    this.reset();
  }

  reset(): void {
    this.words.fill(0);
    this.pending.fill(0);
    for (let v = 0; v < this.vectors; v++) this.words[v * 4 + 3] = 1; // vector control: masked
  }

  get tableBytes(): number {
    return this.vectors * ENTRY_BYTES;
  }
  get pbaBytes(): number {
    return Math.ceil(this.vectors / 64) * 8;
  }

  readTable(offset: number): number {
    const i = offset >> 2;
    return i < this.words.length ? this.words[i] : 0;
  }

  /** Write a table DW; returns the vectors whose pending message became deliverable. */
  writeTable(offset: number, value: number, functionMasked: boolean): number[] {
    const i = offset >> 2;
    if (i >= this.words.length) return [];
    this.words[i] = (i & 3) === 0 ? value & ~3 : i % 4 === 3 ? value & 1 : value;
    return this.deliverable(functionMasked);
  }

  readPba(offset: number): number {
    let bits = 0;
    for (let b = 0; b < 32; b++) {
      const v = (offset >> 2) * 32 + b;
      if (v < this.vectors && this.pending[v]) bits |= 1 << b;
    }
    return bits >>> 0;
  }

  isMasked(vector: number): boolean {
    return (this.words[vector * 4 + 3] & 1) === 1;
  }

  /** Request a message on `vector`: returns it if it can go now, otherwise records it as pending. */
  signal(vector: number, functionMasked: boolean): MsixMessage | undefined {
    if (functionMasked || this.isMasked(vector)) {
      this.pending[vector] = 1;
      return undefined;
    }
    return this.message(vector);
  }

  /** Vectors that are pending and no longer masked; their pending bits are cleared. */
  deliverable(functionMasked: boolean): number[] {
    if (functionMasked) return [];
    const ready: number[] = [];
    for (let v = 0; v < this.vectors; v++) {
      if (this.pending[v] && !this.isMasked(v)) {
        this.pending[v] = 0;
        ready.push(v);
      }
    }
    return ready;
  }

  message(vector: number): MsixMessage {
    const w = vector * 4;
    return { address: (BigInt(this.words[w + 1]) << 32n) | BigInt(this.words[w]), data: this.words[w + 2] };
  }
}
