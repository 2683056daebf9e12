// What every LBA of every namespace must read as after the commands completed so far, following the
// SSD model exactly (sim/nvme/io.ts, media.ts):
//  - never written: zeroes (NamespaceMedia.read leaves blocks it holds no data for at zero);
//  - written: the pattern of the write's pass (sim/workload/pattern.ts);
//  - write zeroes: zeroes (a zeroing write shadows older data);
//  - deallocated: zeroes (the same zeroing write; Identify Namespace DLFEAT = 0x09 says deallocated
//    blocks read as zeroes); `deallocatedReads: "unknown"` accepts anything, for a drive that does not
//    promise it;
//  - unknown: a write, write zeroes or deallocate whose completion reported an error after it may have
//    reached the SSD (NVMe status, PCIe fault, timeout). Its blocks may hold the old data, the new data
//    or a torn mix (a split command's first pieces may have landed), so any data is accepted from then
//    on, until a later successful command defines them again. A request refused before it reached the
//    SSD (BAD_REQUEST, NOT_READY, BUSY, NOT_ATOMIC) changes nothing.
//
// Storage is sparse: chunks of 4096 LBAs, each absent (never written), one code for the whole chunk,
// or an Int32Array of codes, so a whole-namespace deallocate of a 250 M-block drive stays small.
import { type CheckContext, type ExpectedBlock, type PatternMismatch, checkBlockBytes, checkPatternLbaBytes } from "../workload/pattern.ts";
import { type NamespaceGeometry, type UserCommand, UserErrorClass, UserOpcode, isRefusal } from "./user-command.ts";

/** A block's state code; WRITTEN_BASE + pass for a written block. */
export const BlockState = {
  NEVER_WRITTEN: 0,
  ZEROES: 1,
  DEALLOCATED: 2,
  UNKNOWN: 3,
} as const;
export const WRITTEN_BASE = 4;
/** Largest pass a state code holds. */
export const MAX_PASS = 0x7fffffff - WRITTEN_BASE;

/** What a read of a block must return: a pattern pass (>= 0), zeroes, or anything. */
export const EXPECT_ZEROES = -1;
export const EXPECT_ANY = -2;

const CHUNK_BITS = 12;
const CHUNK = 1 << CHUNK_BITS;

export interface ExpectedMediaOptions {
  /** What a deallocated block reads as: "zeroes" (the SSD model, DLFEAT = 0x09; default) or "unknown". */
  deallocatedReads?: "zeroes" | "unknown";
}

/** A run of consecutive blocks in one state. */
export interface StateRun {
  lba: number;
  count: number;
  state: number;
}

class NamespaceState {
  readonly chunks = new Map<number, number | Int32Array>();
  constructor(readonly geometry: NamespaceGeometry) {}

  get(lba: number): number {
    const chunk = this.chunks.get(Math.floor(lba / CHUNK));
    if (chunk === undefined) return BlockState.NEVER_WRITTEN;
    return typeof chunk === "number" ? chunk : chunk[lba % CHUNK];
  }

  set(lba: number, count: number, code: number): void {
    let at = lba;
    const end = lba + count;
    while (at < end) {
      const index = Math.floor(at / CHUNK);
      const chunkStart = index * CHUNK;
      const from = at - chunkStart;
      const to = Math.min(end - chunkStart, CHUNK);
      if (from === 0 && to === CHUNK) {
        if (code === BlockState.NEVER_WRITTEN) this.chunks.delete(index);
        else this.chunks.set(index, code);
      } else {
        let chunk = this.chunks.get(index);
        if (typeof chunk !== "object") {
          const fill = chunk ?? BlockState.NEVER_WRITTEN;
          chunk = new Int32Array(CHUNK).fill(fill);
          this.chunks.set(index, chunk);
        }
        chunk.fill(code, from, to);
      }
      at = chunkStart + to;
    }
  }
}

export class ExpectedMedia {
  readonly namespaces: readonly NamespaceGeometry[];
  private readonly states = new Map<number, NamespaceState>();
  private readonly deallocatedCode: number;
  /** Highest pass recorded (limits the recognition of misplaced data). */
  maxPass = 0;

  constructor(namespaces: readonly NamespaceGeometry[], options: ExpectedMediaOptions = {}) {
    if (namespaces.length === 0) throw new RangeError("ExpectedMedia: namespaces is empty");
    for (const ns of namespaces) {
      if (!Number.isInteger(ns.nsid) || ns.nsid < 1 || ns.nsid > 0xfffffffe) throw new RangeError(`ExpectedMedia: nsid ${ns.nsid} is not in 1..0xfffffffe`);
      if (this.states.has(ns.nsid)) throw new RangeError(`ExpectedMedia: nsid ${ns.nsid} is listed twice`);
      checkPatternLbaBytes(ns.lbaBytes);
      if (!Number.isSafeInteger(ns.capacityBlocks) || ns.capacityBlocks < 1) throw new RangeError(`ExpectedMedia: namespace ${ns.nsid} capacityBlocks ${ns.capacityBlocks} is not a positive safe integer`);
      this.states.set(ns.nsid, new NamespaceState(ns));
    }
    const reads = options.deallocatedReads ?? "zeroes";
    if (reads !== "zeroes" && reads !== "unknown") throw new RangeError(`ExpectedMedia: deallocatedReads ${JSON.stringify(reads)} is not "zeroes" or "unknown"`);
    this.deallocatedCode = reads === "zeroes" ? EXPECT_ZEROES : EXPECT_ANY;
    this.namespaces = namespaces.map((n) => ({ ...n }));
  }

  /** The namespace's geometry; throws for an unknown nsid. */
  namespace(nsid: number): NamespaceGeometry {
    return this.ns(nsid).geometry;
  }

  hasNamespace(nsid: number): boolean {
    return this.states.has(nsid);
  }

  write(nsid: number, lba: number, count: number, pass: number): void {
    if (!Number.isSafeInteger(pass) || pass < 0 || pass > MAX_PASS) throw new RangeError(`ExpectedMedia.write: pass ${pass} is not an integer in 0..${MAX_PASS}`);
    this.ns(nsid, lba, count).set(lba, count, WRITTEN_BASE + pass);
    if (pass > this.maxPass) this.maxPass = pass;
  }

  writeZeroes(nsid: number, lba: number, count: number): void {
    this.ns(nsid, lba, count).set(lba, count, BlockState.ZEROES);
  }

  deallocate(nsid: number, lba: number, count: number): void {
    this.ns(nsid, lba, count).set(lba, count, BlockState.DEALLOCATED);
  }

  /** Any data is accepted from these blocks until a later command defines them. */
  markUnknown(nsid: number, lba: number, count: number): void {
    this.ns(nsid, lba, count).set(lba, count, BlockState.UNKNOWN);
  }

  /**
   * Applies a completed command with the error class of its completion: a successful write, write
   * zeroes or deallocate sets its blocks; one that failed after it may have reached the SSD makes them
   * unknown; a refused one (BAD_REQUEST, NOT_READY, BUSY, NOT_ATOMIC), a read or a flush changes nothing.
   */
  apply(command: UserCommand, errorClass: number): void {
    const { opcode } = command;
    if (opcode !== UserOpcode.WRITE && opcode !== UserOpcode.WRITE_ZEROES && opcode !== UserOpcode.DEALLOCATE) return;
    if (isRefusal(errorClass)) return;
    if (typeof command.lba !== "number") throw new RangeError(`ExpectedMedia.apply: lba ${command.lba} completed with error class ${errorClass}, but a bigint LBA is past every capacity`);
    const { nsid, lba, blockCount } = command;
    if (errorClass !== UserErrorClass.NONE) return this.markUnknown(nsid, lba, blockCount);
    if (opcode === UserOpcode.WRITE) {
      if (command.pass === undefined) throw new RangeError(`ExpectedMedia.apply: write at ns ${nsid} lba ${lba} has no pass`);
      this.write(nsid, lba, blockCount, command.pass);
    } else if (opcode === UserOpcode.WRITE_ZEROES) this.writeZeroes(nsid, lba, blockCount);
    else this.deallocate(nsid, lba, blockCount);
  }

  /** The block's state code (BlockState, or WRITTEN_BASE + pass). */
  state(nsid: number, lba: number): number {
    return this.ns(nsid).get(lba);
  }

  /**
   * What a read of the block must return: the pass (>= 0) whose pattern it holds, EXPECT_ZEROES or
   * EXPECT_ANY. No checks on the arguments: this is the driver's per-block lookup.
   */
  expected(nsid: number, lba: number): number {
    const code = this.states.get(nsid)!.get(lba);
    if (code >= WRITTEN_BASE) return code - WRITTEN_BASE;
    if (code === BlockState.UNKNOWN) return EXPECT_ANY;
    if (code === BlockState.DEALLOCATED) return this.deallocatedCode;
    return EXPECT_ZEROES;
  }

  /** The states of [lba, lba + count) as runs (for reports and tests). */
  runs(nsid: number, lba: number, count: number): StateRun[] {
    const ns = this.ns(nsid, lba, count);
    const runs: StateRun[] = [];
    for (let at = lba; at < lba + count; at++) {
      const state = ns.get(at);
      const last = runs[runs.length - 1];
      if (last && last.state === state) last.count++;
      else runs.push({ lba: at, count: 1, state });
    }
    return runs;
  }

  /** Limits for recognising misplaced data in a namespace (capacity, passes so far, the nsids). */
  checkContext(nsid: number): CheckContext {
    return { capacityBlocks: this.namespace(nsid).capacityBlocks, maxPass: this.maxPass, nsids: this.namespaces.map((n) => n.nsid) };
  }

  /**
   * Checks `bytes` (whole blocks from `lba`, e.g. what the SSD model's media holds or what a read
   * returned) against the expectation; returns the first mismatch with its block's count of wrong words.
   */
  checkBytes(nsid: number, lba: number, bytes: Uint8Array): PatternMismatch | null {
    const { lbaBytes } = this.namespace(nsid);
    if (bytes.length % lbaBytes !== 0) throw new RangeError(`ExpectedMedia.checkBytes: ${bytes.length} bytes is not a whole number of ${lbaBytes}-byte blocks`);
    const count = bytes.length / lbaBytes;
    this.ns(nsid, lba, count);
    const context = this.checkContext(nsid);
    for (let i = 0; i < count; i++) {
      const e = this.expected(nsid, lba + i);
      if (e === EXPECT_ANY) continue;
      const content: ExpectedBlock = e === EXPECT_ZEROES ? "zeroes" : e;
      const mismatch = checkBlockBytes(bytes, i * lbaBytes, nsid, lba + i, content, lbaBytes, context);
      if (mismatch) return mismatch;
    }
    return null;
  }

  private ns(nsid: number, lba?: number, count?: number): NamespaceState {
    const ns = this.states.get(nsid);
    if (!ns) throw new RangeError(`ExpectedMedia: no namespace ${nsid} (have ${[...this.states.keys()].join(", ")})`);
    if (lba !== undefined) {
      const c = count ?? 1;
      if (!Number.isSafeInteger(lba) || lba < 0 || !Number.isSafeInteger(c) || c < 0 || lba + c > ns.geometry.capacityBlocks) {
        throw new RangeError(`ExpectedMedia: ns ${nsid} lba ${lba} +${c} is outside 0..${ns.geometry.capacityBlocks}`);
      }
    }
    return ns;
  }
}

/** Names for a state code ("written pass 3", "deallocated"...). */
export function describeState(code: number): string {
  if (code >= WRITTEN_BASE) return `written pass ${code - WRITTEN_BASE}`;
  return ["never written", "zeroes", "deallocated", "unknown"][code] ?? `state ${code}`;
}
