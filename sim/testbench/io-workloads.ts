// Seeded random I/O workloads for the user port: writes of pattern data (a new pass for every write, so
// rewriting the same LBAs changes the data) and reads that verify them, with flush, write zeroes and
// deallocate interleaved, and optionally requests the controller must refuse. Block counts run from 1
// to `maxBlocks`, around and beyond MDTS (so the controller must split). Every block a write, write
// zeroes or deallocate changed is read back later (the verify reads), so a read after write zeroes or
// deallocate checks the zeroes the SSD model returns.
//
// Guarantee: no two commands at most `conflictWindow` apart in the list conflict (overlapping LBAs with
// one of them changing the media; user-command.ts findConflicts). A driver that keeps at most
// `conflictWindow` commands in flight therefore never has two conflicting commands in flight, and never
// has to hold one back. Where the generator cannot find a command that fits, it puts a flush (it
// conflicts with nothing) and counts it as a filler.
import { UserErrorClass, UserOpcode, type UserCommand, type UserOpcodeValue, USER_OPCODE_NAMES, commandsConflict } from "./user-command.ts";
import { randomInt, seededRandom } from "../random.ts";

/** Relative weights of the command kinds. */
export interface IoMix {
  read: number;
  write: number;
  flush: number;
  writeZeroes: number;
  deallocate: number;
  /** Requests the controller must refuse (BAD_REQUEST): ranges past the capacity, 0 blocks, namespace 0, LBA 2^64-1. */
  badRequest: number;
}

export const DEFAULT_IO_MIX: IoMix = { read: 40, write: 40, flush: 4, writeZeroes: 6, deallocate: 6, badRequest: 0 };
/** Writes only: the verify reads at the end read everything back ("write, then read and check"). */
export const WRITE_THEN_READ_MIX: IoMix = { read: 0, write: 1, flush: 0, writeZeroes: 0, deallocate: 0, badRequest: 0 };

export interface IoWorkloadOptions {
  lbaBytes: number;
  capacityBlocks: number;
  /** The SSD's largest transfer in bytes (status_mdts_bytes), 0 = no limit. */
  mdtsBytes: number;
  /** Largest block count of a command (choose it beyond MDTS to make the controller split). */
  maxBlocks: number;
  /** Commands before the verify reads at the end. */
  commands: number;
  seed: number;
  mix?: Partial<IoMix>;
  /** "random" (default): ranges anywhere in the region; "sequential": consecutive ranges, wrapping at its end. */
  addressing?: "random" | "sequential";
  /** The LBAs used (default the whole namespace); a small region makes rewrites and read-backs frequent. */
  region?: { lba: number; blocks: number };
  nsid?: number;
  /** No two commands at most this far apart conflict (default 64). */
  conflictWindow?: number;
  /** Pass of the first write (default 1); the result's nextPass continues a later workload. */
  firstPass?: number;
  /** Probability of FUA on a read or write (default 0.1). */
  fuaProbability?: number;
  /** Append reads of every range changed and not yet read back (default true). */
  verifyAll?: boolean;
}

export interface IoWorkload {
  commands: UserCommand[];
  /** The next unused pass. */
  nextPass: number;
  /** Commands by opcode name, plus "bad" (refused on purpose), "verify" (reads appended at the end) and "filler" (flushes put where nothing fitted). */
  counts: Record<string, number>;
  /** Reads and writes larger than MDTS (the controller must split them). */
  splitCommands: number;
}

interface Range {
  lba: number;
  count: number;
}

const CANDIDATE_TRIES = 16;

function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`io workload: ${name} ${value} is not an integer in ${min}..${max}`);
}

/** Generates a workload; throws a RangeError naming the first bad option. */
export function generateIoWorkload(options: IoWorkloadOptions): IoWorkload {
  const { lbaBytes, capacityBlocks, mdtsBytes, maxBlocks, commands: commandCount, seed } = options;
  if (!Number.isInteger(lbaBytes) || lbaBytes < 8 || lbaBytes % 8 !== 0) throw new RangeError(`io workload: lbaBytes ${lbaBytes} is not a positive multiple of 8`);
  checkInteger("capacityBlocks", capacityBlocks, 1);
  checkInteger("mdtsBytes", mdtsBytes, 0);
  if (mdtsBytes !== 0 && mdtsBytes < lbaBytes) throw new RangeError(`io workload: mdtsBytes ${mdtsBytes} is smaller than one ${lbaBytes}-byte block`);
  checkInteger("maxBlocks", maxBlocks, 1, 0xffffffff);
  checkInteger("commands", commandCount, 0);
  checkInteger("seed", seed, -0x80000000, 0xffffffff);
  const region = options.region ?? { lba: 0, blocks: capacityBlocks };
  checkInteger("region.lba", region.lba, 0, capacityBlocks - 1);
  checkInteger("region.blocks", region.blocks, 1, capacityBlocks - region.lba);
  const nsid = options.nsid ?? 1;
  checkInteger("nsid", nsid, 1, 0xfffffffe);
  const window = options.conflictWindow ?? 64;
  checkInteger("conflictWindow", window, 0);
  let pass = options.firstPass ?? 1;
  checkInteger("firstPass", pass, 0);
  const fua = options.fuaProbability ?? 0.1;
  if (!(fua >= 0 && fua <= 1)) throw new RangeError(`io workload: fuaProbability ${fua} is not in 0..1`);
  const addressing = options.addressing ?? "random";
  if (addressing !== "random" && addressing !== "sequential") throw new RangeError(`io workload: addressing ${JSON.stringify(addressing)} is not "random" or "sequential"`);
  const mix: IoMix = { ...DEFAULT_IO_MIX, ...options.mix };
  const kinds = Object.keys(DEFAULT_IO_MIX) as (keyof IoMix)[];
  for (const k of Object.keys(mix)) if (!kinds.includes(k as keyof IoMix)) throw new RangeError(`io workload: mix has an unknown kind "${k}" (kinds: ${kinds.join(", ")})`);
  for (const k of kinds) if (!(mix[k] >= 0 && Number.isFinite(mix[k]))) throw new RangeError(`io workload: mix.${k} ${mix[k]} is not a non-negative weight`);
  const totalWeight = kinds.reduce((s, k) => s + mix[k], 0);
  if (commandCount > 0 && totalWeight === 0) throw new RangeError("io workload: every mix weight is 0");

  const random = seededRandom(seed);
  const out: UserCommand[] = [];
  const counts: Record<string, number> = {};
  let splitCommands = 0;
  const count = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);
  const mdtsBlocks = mdtsBytes === 0 ? 0 : Math.floor(mdtsBytes / lbaBytes);
  const regionEnd = region.lba + region.blocks;
  let writeCursor = region.lba;
  let readCursor = region.lba;
  /** Ranges changed and not yet read back, oldest first. */
  const unverified: Range[] = [];
  /** Recently written ranges: targets for write zeroes / deallocate so that they hit data. */
  const written: Range[] = [];

  const blockCount = (): number => {
    const limit = Math.min(maxBlocks, region.blocks);
    const r = random();
    let n: number;
    if (r < 0.3) n = randomInt(random, 1, 8);
    else if (r < 0.5) n = randomInt(random, 1, limit);
    else if (r < 0.8 && mdtsBlocks > 0) {
      const edges = [mdtsBlocks - 1, mdtsBlocks, mdtsBlocks + 1, 2 * mdtsBlocks, 2 * mdtsBlocks + 1];
      n = edges[randomInt(random, 0, edges.length - 1)];
    } else if (r < 0.9 && mdtsBlocks > 0 && mdtsBlocks < limit) n = randomInt(random, mdtsBlocks + 1, limit);
    else n = limit;
    return Math.max(1, Math.min(n, limit));
  };
  /** A range of `n` blocks: anywhere (random), or at the cursor (sequential). */
  const freshRange = (cursor: "write" | "read", n: number): Range => {
    if (addressing === "random") return { lba: region.lba + randomInt(random, 0, region.blocks - n), count: n };
    let at = cursor === "write" ? writeCursor : readCursor;
    if (at + n > regionEnd) at = region.lba;
    if (cursor === "write") writeCursor = at + n;
    else readCursor = at + n;
    return { lba: at, count: n };
  };
  const fits = (c: UserCommand): boolean => {
    for (let i = Math.max(0, out.length - window); i < out.length; i++) if (commandsConflict(out[i], c)) return false;
    return true;
  };
  const make = (opcode: UserOpcodeValue, r: Range): UserCommand => {
    const c: UserCommand = { opcode, nsid, lba: r.lba, blockCount: r.count };
    if ((opcode === UserOpcode.READ || opcode === UserOpcode.WRITE) && random() < fua) c.fua = true;
    return c;
  };
  const emit = (c: UserCommand, name: string): void => {
    if (c.opcode === UserOpcode.WRITE) c.pass = pass++;
    out.push(c);
    count(name);
    if ((c.opcode === UserOpcode.READ || c.opcode === UserOpcode.WRITE) && mdtsBlocks > 0 && c.blockCount > mdtsBlocks && c.expect === undefined) splitCommands++;
    if (c.expect !== undefined || typeof c.lba !== "number") return;
    const r = { lba: c.lba, count: c.blockCount };
    if (c.opcode === UserOpcode.WRITE || c.opcode === UserOpcode.WRITE_ZEROES || c.opcode === UserOpcode.DEALLOCATE) unverified.push(r);
    if (c.opcode === UserOpcode.WRITE) {
      written.push(r);
      if (written.length > 256) written.shift();
    }
  };
  const filler = (): void => {
    out.push({ opcode: UserOpcode.FLUSH, nsid, lba: 0, blockCount: 0 });
    count("filler");
  };
  /** The oldest unverified range that can be read now, removed from the list; or null. */
  const verifyRead = (): UserCommand | null => {
    for (let i = 0; i < unverified.length; i++) {
      const c = make(UserOpcode.READ, unverified[i]);
      if (fits(c)) {
        unverified.splice(i, 1);
        return c;
      }
    }
    return null;
  };
  const badRequest = (): UserCommand => {
    const variant = randomInt(random, 0, 3);
    const opcodes: UserOpcodeValue[] = [UserOpcode.READ, UserOpcode.WRITE, UserOpcode.WRITE_ZEROES, UserOpcode.DEALLOCATE];
    let opcode = opcodes[randomInt(random, 0, 3)];
    const expect = UserErrorClass.BAD_REQUEST;
    if (variant === 0) {
      // Past the end: starts inside (or at the end) and runs over it; small, as a write's data is still sent.
      const n = randomInt(random, 1, 8);
      const lba = Math.max(0, capacityBlocks - randomInt(random, 0, n - 1));
      return { opcode, nsid, lba, blockCount: n, pass: opcode === UserOpcode.WRITE ? 0 : undefined, expect };
    }
    if (opcode === UserOpcode.WRITE) opcode = UserOpcode.READ; // the other variants carry no write data framing
    if (variant === 1) return { opcode, nsid, lba: region.lba, blockCount: 0, expect };
    if (variant === 2) return { opcode, nsid: 0, lba: region.lba, blockCount: 1, expect };
    return { opcode, nsid, lba: (1n << 64n) - 1n, blockCount: 2, expect };
  };
  /** A command of `kind`; fresh ranges take `n` blocks (kept over retries, so large counts are not crowded out). */
  const candidate = (kind: keyof IoMix, n: number): { command: UserCommand; name: string } => {
    switch (kind) {
      case "write":
        return { command: make(UserOpcode.WRITE, freshRange("write", n)), name: "WRITE" };
      case "read": {
        const v = verifyRead();
        if (v) return { command: v, name: "READ" };
        return { command: make(UserOpcode.READ, freshRange("read", n)), name: "READ" };
      }
      case "writeZeroes":
      case "deallocate": {
        const opcode = kind === "writeZeroes" ? UserOpcode.WRITE_ZEROES : UserOpcode.DEALLOCATE;
        const target = written.length > 0 && random() < 0.6 ? written[randomInt(random, 0, written.length - 1)] : freshRange("write", n);
        return { command: make(opcode, target), name: USER_OPCODE_NAMES[opcode] };
      }
      case "flush":
        return { command: { opcode: UserOpcode.FLUSH, nsid, lba: 0, blockCount: 0 }, name: "FLUSH" };
      case "badRequest":
        return { command: badRequest(), name: "bad" };
    }
  };
  const pickKind = (): keyof IoMix => {
    let r = random() * totalWeight;
    for (const k of kinds) {
      if (r < mix[k]) return k;
      r -= mix[k];
    }
    return kinds.filter((k) => mix[k] > 0).pop()!;
  };

  for (let i = 0; i < commandCount; i++) {
    const kind = pickKind();
    const n = blockCount();
    let placed = false;
    for (let t = 0; t < CANDIDATE_TRIES && !placed; t++) {
      const c = candidate(kind, n);
      if (fits(c.command)) {
        emit(c.command, c.name);
        placed = true;
      }
    }
    if (!placed) filler();
  }
  if (options.verifyAll ?? true) {
    while (unverified.length > 0) {
      const v = verifyRead();
      if (v) {
        emit(v, "READ");
        count("verify");
      } else filler();
    }
  }
  return { commands: out, nextPass: pass, counts, splitCommands };
}
