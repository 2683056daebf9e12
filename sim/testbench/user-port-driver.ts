// Drives the controller's four user ports (rtl-src/user/user-port.ts) the way an FPGA design would,
// and checks everything that comes back:
//  - command port: the queued commands in order, valid held until ready with the payload stable;
//    a command is held back while it conflicts with one in flight (user-command.ts) or while
//    `maxInFlight` commands are;
//  - write data: each write's data (the pattern of its pass, sim/workload/pattern.ts) in command
//    order, block_count x LBA bytes, tlast on the last beat, with seeded random gaps;
//  - read data: taken with seeded random back-pressure; each beat is attributed to the oldest read
//    that has not delivered all its data and checked: tuser = the tag, tkeep all ones, tlast exactly
//    on the last of block_count x LBA / 8 beats, data = what the expected media says (expected-media.ts);
//  - completions: taken with random back-pressure; each must be the oldest command's (acceptance
//    order), once; its error class must be the expected one; a read's completion must follow all of its
//    data. Latency = cycles from the accepting edge to the completing edge.
//
// Data mismatches of a read are held until its completion: a read whose completion reports an error
// delivers bytes that are not the SSD's data (the contract), so only a read that succeeded reports them.
// The expected media is updated at each completion (ExpectedMedia.apply). Because conflicting commands
// are never in flight together, a read's blocks cannot change between its acceptance and its data, so
// looking the expectation up when the data arrives equals looking it up when the read was issued.
//
// Timing: a tick peeks the core's outputs first (the state after the last edge, which the next edge
// samples), then pokes this cycle's inputs, then steps one edge. That is exact for registered outputs
// (the house rule for module boundaries): a user-port output must not depend combinationally on the
// user-port inputs. Every peek of a tick comes before its first poke (sample()), so the driver never
// makes an engine settle the inputs it has just poked (on Verilator, a model evaluation per settle).
// Per cycle the driver does at most four 1-bit peeks plus a few pokes on change; payload peeks happen
// only while a valid is high, pattern words on handshakes.
import type { Simulator, SignalHandle } from "../engine/index.ts";
import { BlockPattern, type PatternMismatch, checkPatternLbaBytes, describeMismatch, mismatchAt } from "../workload/pattern.ts";
import { EXPECT_ANY, EXPECT_ZEROES, ExpectedMedia } from "./expected-media.ts";
import {
  type NamespaceGeometry,
  type UserCommand,
  USER_ERROR_CLASS_NAMES_BY_VALUE,
  USER_OPCODE_NAMES,
  UserErrorClass,
  UserOpcode,
  describeCommand,
  isRefusal,
  predictedErrorClass,
  rangesOverlap,
} from "./user-command.ts";

/** What the driver needs of a system: a FullSystem (sim/system/full-system.ts) fits, and so does a test fake. */
export interface UserPortSystem {
  readonly sim: Pick<Simulator, "signal" | "peek" | "poke" | "peekWords" | "pokeWords">;
  /** Rising edges so far. */
  readonly cycle: number;
  step(cycles?: number): void;
  /** Optional: runs until `done()` holds (FullSystem.runUntil); used by run() with skipIdle. */
  runUntil?(done: () => boolean, maxCycles: number, what?: string): number;
  /** Optional: whether runUntil() stops on a change of this output (FullSystem.watches). */
  watches?(name: string): boolean;
}

/**
 * The user-port outputs a driver with `skipIdle` waits on (its system must watch them: `SystemOptions.watch`),
 * for the ports named `user_*`.
 */
export const USER_PORT_DRIVER_WATCH = ["user_read_data_tvalid", "user_completion_valid"] as const;

export interface UserPortDriverOptions {
  /** The namespaces commands address (lbaBytes and capacity; see readIoGeometry()). */
  namespaces: readonly NamespaceGeometry[];
  /** The expectation to check reads against and to update at completions (default: a fresh one, all never written). */
  media?: ExpectedMedia;
  /** Seed of the gaps and back-pressure (default 1). */
  seed?: number;
  /** Probability that the write data stream offers no beat in a cycle where it could (default 0.25). */
  writeGapProbability?: number;
  /** Probability that read data tready is high in a cycle (default 0.75). */
  readReadyProbability?: number;
  /** Probability that completion ready is high in a cycle (default 0.75). */
  completionReadyProbability?: number;
  /** Most commands accepted and not completed (default no limit: the controller's ready decides). */
  maxInFlight?: number;
  /**
   * When a write's data may be offered: "offered" (default), from the cycle its command is first offered,
   * or "accepted", from the cycle after its command was accepted.
   */
  writeDataWhen?: "offered" | "accepted";
  /** run() stops at the first error (default true). */
  stopOnError?: boolean;
  /** Errors kept (default 20); further ones are only counted. */
  maxErrors?: number;
  /** Port name prefix (default "user"). */
  prefix?: string;
  /**
   * run(): when the driver only waits for read data or completions, hold every ready low and let the
   * system run until one of them shows valid (FullSystem.runUntil, which fast-forwards the idle link).
   * Exact when the core's user_read_data_tvalid and user_completion_valid are in the system's `watch`.
   */
  skipIdle?: boolean;
  /**
   * Called at each completion, after the driver checked it and updated the expected media. It may
   * submit() more commands: a workload that keeps a queue depth refills from here (the next command
   * can be offered in the same cycle).
   */
  onCompletion?: (record: CommandRecord) => void;
}

/** Cycles in which one side of the user interface held the other up. */
export interface DriverStalls {
  /** A command was offered and command_ready was low. */
  commandPort: number;
  /** A write data beat was offered and write data tready was low. */
  writeData: number;
  /** A read was waiting for its data (the driver ready to take it, or waiting in a skipped stretch) and read data tvalid was low. */
  readData: number;
}

/** One command as the driver saw it through. */
export interface CommandRecord {
  /** Position in submission order. */
  readonly index: number;
  readonly command: UserCommand;
  readonly tag: number;
  /** The error class the test expects, or "any". */
  readonly expect: number | "any";
  /** Whether it delivers read data (a read not predicted to be refused). */
  readonly deliversData: boolean;
  /** A valid request for the namespaces the driver knows (not predicted BAD_REQUEST). */
  readonly valid: boolean;
  readonly lbaBytes: number;
  /** Beats of write data to send or read data to take. */
  readonly beats: number;
  /** The edge that accepted it, -1 before. */
  acceptCycle: number;
  /** The edge that took its completion, -1 before. */
  completeCycle: number;
  errorClass: number;
  status: number;
  /** Beats sent (write) or taken (read). */
  beatsDone: number;
  /** Read: no more data is attributed to it (all taken, ended by tlast, or refused). */
  closed: boolean;
  /** Read: a beat with the wrong tuser was reported. */
  tagMismatch: boolean;
  /** Read: the first data mismatch and the count of wrong words (reported at completion if it succeeded). */
  firstMismatch: PatternMismatch | null;
  wrongWords: number;
}

export interface LatencyStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

export interface DriverReport {
  /** Every submitted command completed, every write's data was taken, and nothing failed. */
  ok: boolean;
  /** Every submitted command completed. */
  finished: boolean;
  /** Cycles run() ran (0 for a report taken without run()). */
  cycles: number;
  /** tick() calls so far (fewer than cycles when skipIdle jumped over waits). */
  ticks: number;
  /** The first errors (up to maxErrors) and how many there were in all. */
  errors: string[];
  errorCount: number;
  submitted: number;
  accepted: number;
  completed: number;
  /** Completions by error class name. */
  errorClasses: Record<string, number>;
  /** Accept-to-completion cycles by opcode name, and "all". */
  latency: Record<string, LatencyStats>;
  /** Payload bytes that crossed the write and read data ports. */
  bytesWritten: number;
  bytesRead: number;
  /** Cycles in which the next command was held back because it conflicts with one in flight. */
  hazardStallCycles: number;
  /** Cycles in which the controller held the driver up, per port. */
  stalls: DriverStalls;
}

/** The I/O geometry the core reports on its status port after bring-up: namespace 1 and the largest transfer. */
export function readIoGeometry(sim: Pick<Simulator, "peek" | "peekBig">): { namespaces: NamespaceGeometry[]; mdtsBytes: number } {
  const lbaBytes = sim.peek("status_lba_bytes");
  const capacityBlocks = Number(sim.peekBig("status_capacity_blocks"));
  const mdtsLog2 = sim.peek("status_mdts_bytes_log2");
  return { namespaces: [{ nsid: 1, lbaBytes, capacityBlocks }], mdtsBytes: mdtsLog2 === 0 ? 0 : 2 ** mdtsLog2 };
}

// Imported constants as locals: an imported binding may compile to a getter call, and these sit on per-cycle paths.
const CLASS_NONE = UserErrorClass.NONE;
const OP_DEALLOCATE = UserOpcode.DEALLOCATE;
const OP_READ = UserOpcode.READ;
const OP_WRITE = UserOpcode.WRITE;
const OP_WRITE_ZEROES = UserOpcode.WRITE_ZEROES;
const ANY = EXPECT_ANY;
const ZEROES = EXPECT_ZEROES;

const TWO_32 = 4294967296;

function probability(name: string, value: number | undefined, fallback: number): number {
  const p = value ?? fallback;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`UserPortDriver: ${name} ${p} is not a probability in 0..1`);
  // As a threshold on a uint32: draw < threshold happens with probability p (1 always, 0 never).
  return p >= 1 ? TWO_32 : Math.floor(p * TWO_32);
}

interface Ports {
  cmdValid: SignalHandle;
  cmdReady: SignalHandle;
  cmdOpcode: SignalHandle;
  cmdNsid: SignalHandle;
  cmdLba: SignalHandle;
  cmdBlockCount: SignalHandle;
  cmdTag: SignalHandle;
  cmdFua: SignalHandle;
  cmdAtomic: SignalHandle;
  wData: SignalHandle;
  wKeep: SignalHandle;
  wLast: SignalHandle;
  wValid: SignalHandle;
  wReady: SignalHandle;
  rData: SignalHandle;
  rKeep: SignalHandle;
  rLast: SignalHandle;
  rUser: SignalHandle;
  rValid: SignalHandle;
  rReady: SignalHandle;
  cTag: SignalHandle;
  cClass: SignalHandle;
  cStatus: SignalHandle;
  cValid: SignalHandle;
  cReady: SignalHandle;
}

export class UserPortDriver {
  readonly media: ExpectedMedia;
  /** Every submitted command, in submission order. */
  readonly records: CommandRecord[] = [];
  readonly errors: string[] = [];
  errorCount = 0;
  readonly tagBits: number;

  private readonly sim: UserPortSystem["sim"];
  private readonly p: Ports;
  private readonly namespaces: readonly NamespaceGeometry[];
  private readonly gapThreshold: number;
  private readonly readReadyThreshold: number;
  private readonly completionReadyThreshold: number;
  private readonly maxInFlight: number;
  private readonly dataWhenOffered: boolean;
  private readonly stopOnError: boolean;
  private readonly maxErrors: number;
  private readonly skipIdle: boolean;
  private readonly onCompletion: ((record: CommandRecord) => void) | undefined;
  private rng: number;
  private nextTag = 0;

  // Queues: arrays with a head index (never shifted).
  private pending: CommandRecord[] = [];
  private pendingHead = 0;
  private outstanding: CommandRecord[] = [];
  private outstandingHead = 0;
  private writes: CommandRecord[] = [];
  private writesHead = 0;
  private reads: CommandRecord[] = [];
  private readsHead = 0;

  // Command port.
  private cmdOffered = false;
  private cmdValidOut = 0;
  private hazardBlocked = false;
  private hazardStallCycles = 0;

  // Write data port.
  private wOffered = false;
  private wValidOut = 0;
  private wLastOut = 0;
  private wWord = 0;
  private wLba = 0;
  private readonly wPattern = new BlockPattern();
  private readonly wBeat = new Uint32Array(2);
  private bytesWritten = 0;

  // Read data port.
  private rReadyOut = 0;
  private rWord = 0;
  private rLba = 0;
  private rExpect = ANY;
  private readonly rPattern = new BlockPattern();
  private readonly rBeat = new Uint32Array(2);
  private readonly rWant = new Uint32Array(2);
  private bytesRead = 0;

  // Completion port.
  private cReadyOut = 0;
  private lastCompleted: CommandRecord | null = null;

  private readonly lbaWords = new Uint32Array(2);
  private runCycles = 0;
  private ticks = 0;

  // The outputs of this cycle, sampled before any poke (sample()).
  private sWReady = 0;
  private sRValid = 0;
  private sRLast = 0;
  private sRUser = 0;
  private sRKeep = 0;
  private sCValid = 0;
  private sCTag = 0;
  private sCClass = 0;
  private sCStatus = 0;
  private sCmdReady = 0;
  private readonly stalls: DriverStalls = { commandPort: 0, writeData: 0, readData: 0 };

  constructor(
    private readonly system: UserPortSystem,
    options: UserPortDriverOptions,
  ) {
    this.sim = system.sim;
    this.namespaces = options.namespaces.map((n) => ({ ...n }));
    this.media = options.media ?? new ExpectedMedia(this.namespaces);
    for (const ns of this.namespaces) {
      if (!this.media.hasNamespace(ns.nsid)) throw new RangeError(`UserPortDriver: namespace ${ns.nsid} is not in the expected media`);
    }
    const prefix = options.prefix ?? "user";
    const s = (name: string) => this.sim.signal(`${prefix}_${name}`);
    this.p = {
      cmdValid: s("command_valid"),
      cmdReady: s("command_ready"),
      cmdOpcode: s("command_opcode"),
      cmdNsid: s("command_nsid"),
      cmdLba: s("command_lba"),
      cmdBlockCount: s("command_block_count"),
      cmdTag: s("command_tag"),
      cmdFua: s("command_fua"),
      cmdAtomic: s("command_atomic"),
      wData: s("write_data_tdata"),
      wKeep: s("write_data_tkeep"),
      wLast: s("write_data_tlast"),
      wValid: s("write_data_tvalid"),
      wReady: s("write_data_tready"),
      rData: s("read_data_tdata"),
      rKeep: s("read_data_tkeep"),
      rLast: s("read_data_tlast"),
      rUser: s("read_data_tuser"),
      rValid: s("read_data_tvalid"),
      rReady: s("read_data_tready"),
      cTag: s("completion_tag"),
      cClass: s("completion_error_class"),
      cStatus: s("completion_status"),
      cValid: s("completion_valid"),
      cReady: s("completion_ready"),
    };
    this.tagBits = this.p.cmdTag.width;
    if (this.p.rUser.width !== this.tagBits || this.p.cTag.width !== this.tagBits) {
      throw new RangeError(`UserPortDriver: tag widths differ (command ${this.tagBits}, read tuser ${this.p.rUser.width}, completion ${this.p.cTag.width})`);
    }
    this.gapThreshold = probability("writeGapProbability", options.writeGapProbability, 0.25);
    this.readReadyThreshold = probability("readReadyProbability", options.readReadyProbability, 0.75);
    this.completionReadyThreshold = probability("completionReadyProbability", options.completionReadyProbability, 0.75);
    const maxInFlight = options.maxInFlight ?? Infinity;
    if (!(maxInFlight >= 1) || (maxInFlight !== Infinity && !Number.isInteger(maxInFlight))) throw new RangeError(`UserPortDriver: maxInFlight ${maxInFlight} is not a positive integer`);
    this.maxInFlight = maxInFlight;
    const when = options.writeDataWhen ?? "offered";
    if (when !== "offered" && when !== "accepted") throw new RangeError(`UserPortDriver: writeDataWhen ${JSON.stringify(when)} is not "offered" or "accepted"`);
    this.dataWhenOffered = when === "offered";
    this.stopOnError = options.stopOnError ?? true;
    this.maxErrors = options.maxErrors ?? 20;
    this.skipIdle = options.skipIdle ?? false;
    if (this.skipIdle && system.runUntil && system.watches) {
      // An unwatched completion would be seen only when something else happens, many cycles late.
      const unwatched = [this.p.rValid, this.p.cValid].filter((h) => !system.watches?.(h.name)).map((h) => h.name);
      if (unwatched.length > 0) throw new RangeError(`UserPortDriver: skipIdle needs the system to watch ${unwatched.join(" and ")} (SystemOptions.watch), or its waits run past them`);
    }
    this.onCompletion = options.onCompletion;
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw new RangeError(`UserPortDriver: seed ${seed} is not an integer`);
    // xorshift32 must not start at 0.
    this.rng = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0) || 0x1234567;
    const { sim, p } = this;
    sim.poke(p.cmdValid, 0);
    sim.poke(p.wValid, 0);
    sim.poke(p.wLast, 0);
    sim.poke(p.wKeep, 2 ** p.wKeep.width - 1);
    sim.poke(p.rReady, 0);
    sim.poke(p.cReady, 0);
  }

  /** Queues commands behind those already queued; returns their records. */
  submit(commands: Iterable<UserCommand>): CommandRecord[] {
    const added: CommandRecord[] = [];
    for (const command of commands) {
      const record = this.recordFor(command);
      this.records.push(record);
      this.pending.push(record);
      added.push(record);
    }
    return added;
  }

  /** Every submitted command completed and every write's data was taken. */
  get idle(): boolean {
    return this.pendingHead === this.pending.length && this.outstandingHead === this.outstanding.length && this.writesHead === this.writes.length && !this.cmdOffered;
  }

  /** Commands accepted and not yet completed. */
  get inFlight(): number {
    return this.outstanding.length - this.outstandingHead;
  }

  /** One cycle: samples the core's outputs, drives this cycle's inputs, steps one edge. */
  tick(): void {
    const cycle = this.system.cycle;
    this.sample();
    this.driveWriteData();
    this.takeReadData(cycle);
    this.takeCompletion(cycle);
    this.driveCommand(cycle);
    this.ticks++;
    this.system.step(1);
  }

  /**
   * Ticks until every submitted command completed (and all write data was taken), an error occurred
   * (with stopOnError), or `maxCycles` passed (an error naming what is still outstanding).
   */
  run(maxCycles: number): DriverReport {
    if (!Number.isSafeInteger(maxCycles) || maxCycles < 0) throw new RangeError(`UserPortDriver.run: maxCycles ${maxCycles} is not a non-negative integer`);
    const start = this.system.cycle;
    const end = start + maxCycles;
    while (!this.idle) {
      if (this.stopOnError && this.errorCount > 0) break;
      if (this.system.cycle >= end) {
        this.fail(this.system.cycle, `not finished within ${maxCycles} cycles: ${this.backlog()}`);
        break;
      }
      this.advance(end);
    }
    this.runCycles += this.system.cycle - start;
    return this.report();
  }

  /**
   * One step of run(), for callers with a loop of their own (progress, limits of their own): with
   * skipIdle, first lets the system run while the driver only waits (at most up to cycle `end`),
   * then ticks once, unless `end` was reached. Returns the cycles it advanced.
   */
  advance(end: number): number {
    const start = this.system.cycle;
    if (this.skipIdle && this.system.runUntil && this.onlyWaiting()) {
      this.lowerAll();
      const { sim, p } = this;
      try {
        this.system.runUntil(() => sim.peek(p.rValid) === 1 || sim.peek(p.cValid) === 1, end - start, "user read data or completion");
      } catch (error) {
        if (this.system.cycle < end) throw error;
      }
      // Skipped cycles in which a read waited for its data: the read data port's waits.
      if (this.readsHead < this.reads.length) this.stalls.readData += this.system.cycle - start;
    }
    if (this.system.cycle < end) this.tick();
    return this.system.cycle - start;
  }

  /** The state of the run: counts, errors, latencies. */
  report(): DriverReport {
    const completed = this.records.filter((r) => r.completeCycle >= 0);
    const errorClasses: Record<string, number> = {};
    for (const r of completed) {
      const name = USER_ERROR_CLASS_NAMES_BY_VALUE[r.errorClass] ?? `class ${r.errorClass}`;
      errorClasses[name] = (errorClasses[name] ?? 0) + 1;
    }
    const byOpcode = new Map<string, number[]>([["all", []]]);
    for (const r of completed) {
      const latency = r.completeCycle - r.acceptCycle;
      const name = USER_OPCODE_NAMES[r.command.opcode] ?? `opcode ${r.command.opcode}`;
      if (!byOpcode.has(name)) byOpcode.set(name, []);
      byOpcode.get(name)!.push(latency);
      byOpcode.get("all")!.push(latency);
    }
    const latency: Record<string, LatencyStats> = {};
    for (const [name, values] of byOpcode) latency[name] = latencyStats(values);
    const finished = completed.length === this.records.length;
    return {
      ok: finished && this.idle && this.errorCount === 0,
      finished,
      cycles: this.runCycles,
      ticks: this.ticks,
      errors: [...this.errors],
      errorCount: this.errorCount,
      submitted: this.records.length,
      accepted: this.records.filter((r) => r.acceptCycle >= 0).length,
      completed: completed.length,
      errorClasses,
      latency,
      bytesWritten: this.bytesWritten,
      bytesRead: this.bytesRead,
      hazardStallCycles: this.hazardStallCycles,
      stalls: { ...this.stalls },
    };
  }

  // ---- per cycle ----

  private rand(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  /**
   * Peeks every output this cycle's handshakes need, before anything is poked. The outputs are
   * registers, so they read the same after the pokes; peeking first spares the engine a settle.
   */
  private sample(): void {
    const { sim, p } = this;
    this.sWReady = this.wOffered || this.writesHead < this.writes.length ? sim.peek(p.wReady) : 0;
    // Always: a completion in this tick may submit() a command that is offered in this tick.
    this.sCmdReady = sim.peek(p.cmdReady);
    const rValid = (this.sRValid = sim.peek(p.rValid));
    if (rValid === 1) {
      sim.peekWords(p.rData, this.rBeat);
      this.sRLast = sim.peek(p.rLast);
      this.sRUser = sim.peek(p.rUser);
      this.sRKeep = sim.peek(p.rKeep);
    }
    const cValid = (this.sCValid = sim.peek(p.cValid));
    if (cValid === 1) {
      this.sCTag = sim.peek(p.cTag);
      this.sCClass = sim.peek(p.cClass);
      this.sCStatus = sim.peek(p.cStatus);
    }
  }

  private driveWriteData(): void {
    const { sim, p } = this;
    if (!this.wOffered) {
      if (this.writesHead < this.writes.length && this.rand() >= this.gapThreshold) this.offerWriteBeat();
      else if (this.wValidOut !== 0) {
        sim.poke(p.wValid, 0);
        this.wValidOut = 0;
      }
    }
    if (this.wOffered && this.sWReady !== 1) this.stalls.writeData++;
    if (this.wOffered && this.sWReady === 1) {
      this.wOffered = false;
      const record = this.writes[this.writesHead];
      record.beatsDone++;
      this.bytesWritten += 8;
      if (++this.wWord === record.lbaBytes >>> 3) {
        this.wWord = 0;
        this.wLba++;
      }
      if (record.beatsDone === record.beats) this.nextWrite();
    }
  }

  private offerWriteBeat(): void {
    const { sim, p } = this;
    const record = this.writes[this.writesHead];
    if (this.wWord === 0) this.wPattern.set(record.command.nsid, this.wLba, record.command.pass ?? 0);
    this.wPattern.word(this.wWord, this.wBeat, 0);
    sim.pokeWords(p.wData, this.wBeat);
    const last = record.beatsDone === record.beats - 1 ? 1 : 0;
    if (last !== this.wLastOut) {
      sim.poke(p.wLast, last);
      this.wLastOut = last;
    }
    if (this.wValidOut !== 1) {
      sim.poke(p.wValid, 1);
      this.wValidOut = 1;
    }
    this.wOffered = true;
  }

  /** Moves to the next queued write's data (its first block). */
  private nextWrite(): void {
    this.writesHead++;
    this.wWord = 0;
    if (this.writesHead < this.writes.length) this.wLba = dataLba(this.writes[this.writesHead].command);
    if (this.writesHead > 1024 && this.writesHead * 2 > this.writes.length) {
      this.writes = this.writes.slice(this.writesHead);
      this.writesHead = 0;
    }
  }

  private queueWrite(record: CommandRecord): void {
    if (this.writesHead === this.writes.length) {
      this.wLba = dataLba(record.command);
      this.wWord = 0;
    }
    this.writes.push(record);
  }

  private takeReadData(cycle: number): void {
    const { sim, p } = this;
    const ready = this.rand() < this.readReadyThreshold ? 1 : 0;
    if (ready !== this.rReadyOut) {
      sim.poke(p.rReady, ready);
      this.rReadyOut = ready;
    }
    if (this.sRValid === 1) {
      if (ready === 1) this.readBeat(cycle);
    } else if (ready === 1 && this.readsHead < this.reads.length) this.stalls.readData++;
  }

  private readBeat(cycle: number): void {
    const tlast = this.sRLast;
    const tuser = this.sRUser;
    this.bytesRead += 8;
    let record = this.reads[this.readsHead];
    // Skip reads closed by a refusal, and a read that may be refused (expect "any") when the first beat
    // carries another read's tag: it delivers nothing (its completion must then be a refusal).
    while (record && (record.closed || (record.beatsDone === 0 && record.expect === "any" && tuser !== record.tag && this.readsHead + 1 < this.reads.length))) {
      record.closed = true;
      this.nextRead();
      record = this.reads[this.readsHead];
    }
    if (!record) {
      this.fail(cycle, `read data beat (tuser ${tuser}, tlast ${tlast}) with no read waiting for data`);
      return;
    }
    const beat = record.beatsDone;
    if (beat === 0) this.startRead(record);
    if (tuser !== record.tag && !record.tagMismatch) {
      record.tagMismatch = true; // once per read: the other beats would say the same
      this.fail(cycle, `read data of #${record.index} ${describeCommand(record.command)}: beat ${beat} has tuser ${tuser}, the read's tag is ${record.tag}`);
    }
    const keep = this.sRKeep;
    if (keep !== 0xff) this.fail(cycle, `read data of #${record.index}: beat ${beat} has tkeep 0x${keep.toString(16)}, not 0xff`);
    this.checkReadWord(record);
    record.beatsDone++;
    const last = record.beatsDone === record.beats;
    if (tlast === 1 && !last) {
      this.fail(cycle, `read data of #${record.index} ${describeCommand(record.command)}: tlast on beat ${beat} of ${record.beats} (expected on beat ${record.beats - 1})`);
      this.nextRead(); // the controller ended it: take the next beats as the next read's
      return;
    }
    if (last) {
      if (tlast !== 1) this.fail(cycle, `read data of #${record.index} ${describeCommand(record.command)}: no tlast on its last beat (${beat})`);
      this.nextRead();
    }
  }

  private startRead(record: CommandRecord): void {
    this.rLba = record.command.lba as number;
    this.rWord = 0;
  }

  private checkReadWord(record: CommandRecord): void {
    const nsid = record.command.nsid;
    if (this.rWord === 0) {
      this.rExpect = this.media.expected(nsid, this.rLba);
      if (this.rExpect >= 0) this.rPattern.set(nsid, this.rLba, this.rExpect);
    }
    const expect = this.rExpect;
    if (expect !== ANY) {
      const got = this.rBeat;
      const want = this.rWant;
      if (expect === ZEROES) {
        want[0] = 0;
        want[1] = 0;
      } else this.rPattern.word(this.rWord, want, 0);
      if (got[0] !== want[0] || got[1] !== want[1]) {
        record.wrongWords++;
        if (record.firstMismatch === null) {
          record.firstMismatch = mismatchAt(nsid, this.rLba, this.rWord * 8, expect === ZEROES ? "zeroes" : expect, want[0], want[1], got[0], got[1], record.lbaBytes, this.contextFor(nsid));
        }
      }
    }
    if (++this.rWord === record.lbaBytes >>> 3) {
      this.rWord = 0;
      this.rLba++;
    }
  }

  private nextRead(): void {
    const record = this.reads[this.readsHead];
    if (record) record.closed = true;
    this.readsHead++;
    this.rWord = 0;
    if (this.readsHead > 1024 && this.readsHead * 2 > this.reads.length) {
      this.reads = this.reads.slice(this.readsHead);
      this.readsHead = 0;
    }
  }

  private takeCompletion(cycle: number): void {
    const { sim, p } = this;
    const ready = this.rand() < this.completionReadyThreshold ? 1 : 0;
    if (ready !== this.cReadyOut) {
      sim.poke(p.cReady, ready);
      this.cReadyOut = ready;
    }
    if (ready === 1 && this.sCValid === 1) this.completion(cycle);
  }

  private completion(cycle: number): void {
    const tag = this.sCTag;
    const errorClass = this.sCClass;
    const status = this.sCStatus;
    const className = USER_ERROR_CLASS_NAMES_BY_VALUE[errorClass] ?? `class ${errorClass}`;
    const record = this.outstanding[this.outstandingHead];
    const last = this.lastCompleted;
    if (!record) {
      const duplicate = last && last.tag === tag ? ` (a second completion of #${last.index}?)` : "";
      this.fail(cycle, `completion (tag ${tag}, ${className}) with no command outstanding${duplicate}`);
      return;
    }
    if (tag !== record.tag) {
      let why = "";
      if (last && last.tag === tag) why = `: a second completion of #${last.index} ${describeCommand(last.command)}?`;
      else {
        for (let i = this.outstandingHead + 1; i < this.outstanding.length; i++) {
          if (this.outstanding[i].tag === tag) {
            why = `: the completion of #${this.outstanding[i].index}, out of order`;
            break;
          }
        }
      }
      this.fail(cycle, `completion with tag ${tag} (${className}), expected #${record.index} ${describeCommand(record.command)} tag ${record.tag}${why}`);
    }
    record.completeCycle = cycle;
    record.errorClass = errorClass;
    record.status = status;
    this.outstandingHead++;
    this.lastCompleted = record;
    this.hazardBlocked = false;
    if (this.outstandingHead > 1024 && this.outstandingHead * 2 > this.outstanding.length) {
      this.outstanding = this.outstanding.slice(this.outstandingHead);
      this.outstandingHead = 0;
    }
    const what = `#${record.index} ${describeCommand(record.command)} (tag ${record.tag})`;
    const refused = isRefusal(errorClass);
    if (record.expect !== "any" && errorClass !== record.expect) {
      const want = USER_ERROR_CLASS_NAMES_BY_VALUE[record.expect] ?? `class ${record.expect}`;
      this.fail(cycle, `${what} completed with ${className} (status 0x${status.toString(16)}), expected ${want}`);
    }
    if (record.command.opcode === OP_READ && record.deliversData) {
      if (refused && record.beatsDone === 0) {
        if (this.reads[this.readsHead] === record) this.nextRead();
        record.closed = true;
      } else if (refused) this.fail(cycle, `${what} was refused with ${className} but delivered ${record.beatsDone} beats of data`);
      else if (record.beatsDone < record.beats) this.fail(cycle, `${what} completed after ${record.beatsDone} of its ${record.beats} data beats (a read completes after its last beat)`);
      else if (record.firstMismatch && errorClass === CLASS_NONE) {
        this.fail(cycle, `${what} read wrong data: ${describeMismatch({ ...record.firstMismatch, wrongWords: 1 })}; ${record.wrongWords} of its ${record.beats} words wrong`);
      }
    }
    if (record.command.opcode === OP_WRITE && errorClass === CLASS_NONE && record.beatsDone < record.beats) {
      this.fail(cycle, `${what} completed successfully after only ${record.beatsDone} of its ${record.beats} data beats were taken`);
    }
    // An invalid request that was not refused is already an error above; its range cannot enter the media.
    if (record.valid) this.media.apply(record.command, errorClass);
    this.onCompletion?.(record);
  }

  private driveCommand(cycle: number): void {
    const { sim, p } = this;
    if (!this.cmdOffered && this.pendingHead < this.pending.length) this.tryOffer();
    if (!this.cmdOffered) {
      if (this.cmdValidOut !== 0) {
        sim.poke(p.cmdValid, 0);
        this.cmdValidOut = 0;
      }
      return;
    }
    if (this.sCmdReady !== 1) {
      this.stalls.commandPort++;
      return;
    }
    const record = this.pending[this.pendingHead++];
    this.cmdOffered = false;
    record.acceptCycle = cycle;
    this.outstanding.push(record);
    if (record.deliversData) this.reads.push(record);
    if (!this.dataWhenOffered && record.command.opcode === OP_WRITE) this.queueWrite(record);
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
  }

  private tryOffer(): void {
    if (this.inFlight >= this.maxInFlight) return;
    if (this.hazardBlocked) {
      this.hazardStallCycles++;
      return;
    }
    const record = this.pending[this.pendingHead];
    const c = record.command;
    if (typeof c.lba === "number" && c.blockCount > 0) {
      for (let i = this.outstandingHead; i < this.outstanding.length; i++) {
        const o = this.outstanding[i].command;
        if (o.nsid !== c.nsid || typeof o.lba !== "number") continue;
        if (!changes(o.opcode) && !changes(c.opcode)) continue;
        if (!blocks(o.opcode) || !blocks(c.opcode)) continue;
        if (rangesOverlap(o.lba, o.blockCount, c.lba, c.blockCount)) {
          this.hazardBlocked = true; // until the next completion
          this.hazardStallCycles++;
          return;
        }
      }
    }
    const { sim, p } = this;
    sim.poke(p.cmdOpcode, c.opcode);
    sim.poke(p.cmdNsid, c.nsid);
    if (typeof c.lba === "number") {
      this.lbaWords[0] = c.lba % TWO_32;
      this.lbaWords[1] = Math.floor(c.lba / TWO_32);
    } else {
      this.lbaWords[0] = Number(c.lba & 0xffffffffn);
      this.lbaWords[1] = Number((c.lba >> 32n) & 0xffffffffn);
    }
    sim.pokeWords(p.cmdLba, this.lbaWords);
    sim.poke(p.cmdBlockCount, c.blockCount);
    sim.poke(p.cmdTag, record.tag);
    sim.poke(p.cmdFua, c.fua ? 1 : 0);
    sim.poke(p.cmdAtomic, c.atomic ? 1 : 0);
    if (this.cmdValidOut !== 1) {
      sim.poke(p.cmdValid, 1);
      this.cmdValidOut = 1;
    }
    this.cmdOffered = true;
    if (this.dataWhenOffered && c.opcode === OP_WRITE) this.queueWrite(record);
  }

  // ---- helpers ----

  private recordFor(command: UserCommand): CommandRecord {
    const index = this.records.length;
    const what = `command #${index} (${describeCommand(command)})`;
    if (!Number.isInteger(command.opcode) || command.opcode < 0 || command.opcode > 7) throw new RangeError(`UserPortDriver: ${what}: opcode ${command.opcode} does not fit 3 bits`);
    if (!Number.isInteger(command.nsid) || command.nsid < 0 || command.nsid > 0xffffffff) throw new RangeError(`UserPortDriver: ${what}: nsid ${command.nsid} does not fit 32 bits`);
    if (!Number.isInteger(command.blockCount) || command.blockCount < 0 || command.blockCount > 0xffffffff) throw new RangeError(`UserPortDriver: ${what}: blockCount ${command.blockCount} does not fit 32 bits`);
    const lba = command.lba;
    if (typeof lba === "number" ? !Number.isSafeInteger(lba) || lba < 0 : lba < 0n || lba >= 1n << 64n) throw new RangeError(`UserPortDriver: ${what}: lba ${lba} is not a 64-bit LBA (a number must be a safe integer)`);
    const tagMask = 2 ** this.tagBits - 1;
    const tag = command.tag ?? this.nextTag;
    this.nextTag = (this.nextTag + 1) & tagMask;
    if (!Number.isInteger(tag) || tag < 0 || tag > tagMask) throw new RangeError(`UserPortDriver: ${what}: tag ${tag} does not fit ${this.tagBits} bits`);
    const predicted = predictedErrorClass(command, this.namespaces);
    const expect = command.expect ?? predicted;
    if (expect !== "any" && !(expect in USER_ERROR_CLASS_NAMES_BY_VALUE)) throw new RangeError(`UserPortDriver: ${what}: expect ${expect} is not an error class`);
    const ns = this.namespaces.find((n) => n.nsid === command.nsid) ?? this.namespaces[0];
    const lbaBytes = ns.lbaBytes;
    checkPatternLbaBytes(lbaBytes);
    let beats = 0;
    let deliversData = false;
    if (command.opcode === OP_WRITE) {
      if (command.blockCount === 0) throw new RangeError(`UserPortDriver: ${what}: a write of 0 blocks has no data framing (nothing to put tlast on)`);
      if (command.pass === undefined || !Number.isSafeInteger(command.pass) || command.pass < 0) throw new RangeError(`UserPortDriver: ${what}: a write needs a pass (a non-negative integer), not ${command.pass}`);
      beats = (command.blockCount * lbaBytes) / 8;
    } else if (command.opcode === OP_READ) {
      // Refused reads deliver no data (the contract); a read predicted valid must deliver it all.
      deliversData = predicted === CLASS_NONE && (expect === "any" || !isRefusal(expect));
      beats = deliversData ? (command.blockCount * lbaBytes) / 8 : 0;
    }
    return {
      index,
      command,
      tag,
      expect,
      deliversData,
      valid: predicted === CLASS_NONE,
      lbaBytes,
      beats,
      acceptCycle: -1,
      completeCycle: -1,
      errorClass: -1,
      status: 0,
      beatsDone: 0,
      closed: false,
      tagMismatch: false,
      firstMismatch: null,
      wrongWords: 0,
    };
  }

  /** Limits for recognising misplaced data; taken per mismatch, as maxPass grows with the writes. */
  private contextFor(nsid: number) {
    return this.media.checkContext(nsid);
  }

  private onlyWaiting(): boolean {
    if (this.cmdOffered || this.wOffered || this.writesHead < this.writes.length) return false;
    if (this.pendingHead < this.pending.length && !this.hazardBlocked && this.inFlight < this.maxInFlight) return false;
    return this.inFlight > 0;
  }

  private lowerAll(): void {
    const { sim, p } = this;
    if (this.cmdValidOut !== 0) sim.poke(p.cmdValid, (this.cmdValidOut = 0));
    if (this.wValidOut !== 0) sim.poke(p.wValid, (this.wValidOut = 0));
    if (this.rReadyOut !== 0) sim.poke(p.rReady, (this.rReadyOut = 0));
    if (this.cReadyOut !== 0) sim.poke(p.cReady, (this.cReadyOut = 0));
  }

  private fail(cycle: number, message: string): void {
    this.errorCount++;
    if (this.errors.length < this.maxErrors) this.errors.push(`cycle ${cycle}: ${message}`);
  }

  /** What is still outstanding, in words (for a message about a run that did not finish). */
  backlog(): string {
    const parts: string[] = [];
    const oldest = this.outstanding[this.outstandingHead];
    parts.push(`${this.inFlight} in flight`);
    if (oldest) parts.push(`oldest #${oldest.index} ${describeCommand(oldest.command)} tag ${oldest.tag} accepted at cycle ${oldest.acceptCycle}` + (oldest.beats > 0 ? `, ${oldest.beatsDone}/${oldest.beats} data beats` : ""));
    parts.push(`${this.pending.length - this.pendingHead} not yet accepted` + (this.hazardBlocked ? " (next held back by a conflict)" : "") + (this.cmdOffered ? " (next offered, command_ready low)" : ""));
    const w = this.writes[this.writesHead];
    if (w) parts.push(`write data: #${w.index} at beat ${w.beatsDone}/${w.beats}` + (this.wOffered ? " offered, tready low" : ""));
    const r = this.reads[this.readsHead];
    if (r) parts.push(`read data: #${r.index} at beat ${r.beatsDone}/${r.beats}`);
    return parts.join("; ");
  }
}

function changes(opcode: number): boolean {
  return opcode === OP_WRITE || opcode === OP_WRITE_ZEROES || opcode === OP_DEALLOCATE;
}

function blocks(opcode: number): boolean {
  return opcode === OP_READ || changes(opcode);
}

/** The LBA a write's pattern starts at (a bigint LBA, only for refused requests, carries pattern of LBA 0). */
function dataLba(command: UserCommand): number {
  return typeof command.lba === "number" ? command.lba : 0;
}

function latencyStats(values: number[]): LatencyStats {
  if (values.length === 0) return { count: 0, min: 0, mean: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { count: sorted.length, min: sorted[0], mean: Math.round(mean * 10) / 10, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}
