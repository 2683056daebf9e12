// The host side of the SSD's DMA, for tests and the reference host: a sparse byte-addressed host memory
// that stores the SSD's MWr payloads and answers its MRd with CplDs, split the way a root complex may
// split them (at Read Completion Boundary or MPS-aligned addresses), with optional misbehaviour
// (UR/CA answers, poisoned data, silence) to exercise the SSD's error paths.

import type { Completion, MemRequest, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";
import { requestedByteRange } from "../pcie/tlp-rules.ts";

const PAGE = 4096n;

/** Sparse little-endian host memory; unwritten bytes read as zero. */
export class HostMemory {
  private readonly pages = new Map<bigint, Uint8Array>();

  read(address: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const at = address + BigInt(done);
      const offset = Number(at % PAGE);
      const n = Math.min(length - done, 4096 - offset);
      const page = this.pages.get(at / PAGE);
      if (page) out.set(page.subarray(offset, offset + n), done);
      done += n;
    }
    return out;
  }

  write(address: bigint, data: Uint8Array): void {
    for (let done = 0; done < data.length; ) {
      const at = address + BigInt(done);
      const offset = Number(at % PAGE);
      const n = Math.min(data.length - done, 4096 - offset);
      let page = this.pages.get(at / PAGE);
      if (!page) {
        page = new Uint8Array(4096);
        this.pages.set(at / PAGE, page);
      }
      page.set(data.subarray(done, done + n), offset);
      done += n;
    }
  }

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

  constructor(
    readonly memory: HostMemory,
    options: Partial<ResponderOptions> = {},
  ) {
    this.options = { completerId: 0x0000, maxPayloadBytes: 128, splitBytes: 64, ...options };
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
    const { firstByteAddress, byteCount } = requestedByteRange(req);
    if (answer === "silence") return [];
    if (answer === "UR" || answer === "CA") {
      return [this.cpl(req, answer === "UR" ? CplStatus.UR : CplStatus.CA, byteCount, Number(firstByteAddress & 0x7fn))];
    }
    const out: Completion[] = [];
    const split = BigInt(Math.min(this.options.splitBytes, this.options.maxPayloadBytes));
    const end = req.address + BigInt(req.lengthDw * 4);
    let remaining = byteCount;
    for (let dw = req.address; dw < end; ) {
      const next = (dw / split + 1n) * split < end ? (dw / split + 1n) * split : end;
      const first = dw === req.address ? firstByteAddress : dw;
      const data = this.memory.read(dw, Number(next - dw));
      const c = this.cpl(req, CplStatus.SC, remaining, Number(first & 0x7fn), data);
      if (answer === "poison") c.ep = true;
      out.push(c);
      remaining -= Number(next - first);
      dw = next;
    }
    this.stats.completions += out.length;
    return out;
  }

  private cpl(req: MemRequest, status: CplStatus, byteCount: number, lowerAddress: number, data?: Uint8Array): Completion {
    return {
      kind: data ? "CplD" : "Cpl",
      tc: req.tc,
      attr: req.attr,
      ep: false,
      td: false,
      completerId: this.options.completerId,
      status,
      bcm: false,
      byteCount,
      requesterId: req.requesterId,
      tag: req.tag,
      lowerAddress,
      lengthDw: data ? data.length / 4 : 0,
      ...(data ? { data } : {}),
    };
  }
}
