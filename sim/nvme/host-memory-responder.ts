// The host side of the SSD's DMA, for tests and the reference host: a sparse byte-addressed host memory
// that stores the SSD's MWr payloads and answers its MRd with CplDs, split the way a root complex may
// split them (at Read Completion Boundary or MPS-aligned addresses), with optional misbehaviour
// (UR/CA answers, poisoned data, silence) to exercise the SSD's error paths.

import { checkSplitParams, completeMemoryRead, completionWithoutData, type CompletionSplitParams } from "../pcie/completion-split.ts";
import type { Completion, MemRequest, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";
import { requestedByteRange } from "../pcie/tlp-rules.ts";
import { SparseMemory } from "../pcie/sparse-memory.ts";

/** Sparse little-endian host memory; unwritten bytes read as zero. Adds word access for queue and PRP set-up. */
export class HostMemory extends SparseMemory {
  readU32(address: bigint): number {
    return new DataView(this.read(address, 4).buffer).getUint32(0, true);
  }
  writeU32(address: bigint, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.write(address, b);
  }
  writeU64(address: bigint, value: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, value, true);
    this.write(address, b);
  }
  fill(address: bigint, length: number, value = 0): void {
    this.write(address, new Uint8Array(length).fill(value));
  }
}

export interface ResponderOptions {
  /** Completer ID the host puts in its completions (the root port's BDF). */
  completerId: number;
  /** Largest CplD payload (the root port's MPS). */
  maxPayloadBytes: number;
  /** Where completions of one read are cut: at every `splitBytes`-aligned address (64 = RCB, or MPS). */
  splitBytes: number;
}

export type ReadAnswer = "normal" | "UR" | "CA" | "poison" | "silence";

export interface MemoryWriteObserver {
  (address: bigint, data: Uint8Array, tlp: MemRequest): void;
}

export class HostMemoryResponder {
  readonly options: ResponderOptions;
  /** Decide how to answer a read; default: normally. */
  answerRead: (request: MemRequest) => ReadAnswer = () => "normal";
  /** Called for each MWr after it is stored (MSI-X detection, CQE watching). */
  onWrite?: MemoryWriteObserver;
  readonly stats = { reads: 0, writes: 0, completions: 0, poisonedWritesIgnored: 0 };
  private readonly split: CompletionSplitParams;

  constructor(
    readonly memory: HostMemory,
    options: Partial<ResponderOptions> = {},
  ) {
    this.options = { completerId: 0x0000, maxPayloadBytes: 128, splitBytes: 64, ...options };
    const { maxPayloadBytes, splitBytes } = this.options;
    // RCB 64 is only the lower bound of the cut spacing; `splitBytes` (at most MPS) places the cuts.
    this.split = { rcb: 64, mps: maxPayloadBytes, policy: "aligned", alignBytes: Math.min(splitBytes, maxPayloadBytes) };
    try {
      checkSplitParams(this.split);
    } catch (error) {
      throw new RangeError(`HostMemoryResponder options: ${(error as Error).message}`);
    }
  }

  /** Take one TLP from the SSD; returns the completions the host sends back (empty for writes). */
  handle(tlp: Tlp): Completion[] {
    if (tlp.kind === "MWr") {
      this.stats.writes++;
      if (tlp.ep) {
        this.stats.poisonedWritesIgnored++;
        return [];
      }
      const { firstByteAddress, byteCount } = requestedByteRange(tlp);
      const lead = Number(firstByteAddress - tlp.address);
      const bytes = tlp.data!.subarray(lead, lead + byteCount);
      this.memory.write(firstByteAddress, bytes);
      this.onWrite?.(firstByteAddress, bytes, tlp);
      return [];
    }
    if (tlp.kind === "MRd") {
      this.stats.reads++;
      return this.complete(tlp);
    }
    return [];
  }

  private complete(req: MemRequest): Completion[] {
    const answer = this.answerRead(req);
    if (answer === "silence") return [];
    if (answer === "UR" || answer === "CA") {
      return [completionWithoutData(req, this.options.completerId, answer === "UR" ? CplStatus.UR : CplStatus.CA)];
    }
    const read = (address: bigint, length: number) => this.memory.read(address, length);
    const completions = completeMemoryRead(req, this.options.completerId, read, this.split);
    if (answer === "poison") for (const c of completions) c.ep = true;
    this.stats.completions += completions.length;
    return completions;
  }
}
