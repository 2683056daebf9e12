// A stand-in for the controller core's user ports, in TypeScript, for testing the user-port driver
// before the RTL exists: the peek/poke/step surface of a FullSystem with the user-port names, and
// behind it a correct controller with an in-memory media (random command and write-data back-pressure,
// random execution latency so commands finish out of order inside, read data in acceptance order with
// gaps, completions in acceptance order, a read's completion after its last beat, bad requests refused).
// Outputs are registers: they change only at step(), as the house rule wants of the real core.
//
// `bug` turns it into a broken controller, one defect at a time, to prove the driver catches each.
// It also checks the driver's side of the protocol (valid held until ready, payload stable, write data
// framing) and throws FakeProtocolError when the driver breaks it.
import { USER_ERROR_CLASS_BITS } from "../../rtl-src/user/user-port.ts";
import type { SignalHandle, SignalInfo, SignalRef } from "../engine/index.ts";
import { type NamespaceGeometry, type UserCommand, UserErrorClass, UserOpcode, predictedErrorClass } from "./user-command.ts";

export type FakeBug =
  /** One block of a multi-block read comes out as the block before it. */
  | "misplaced-read-block"
  /** One block of a multi-block write lands one LBA further on (over its neighbour). */
  | "misplaced-write-block"
  /** A read loses one beat in the middle of its data (tlast on what is then its last beat). */
  | "dropped-read-beat"
  /** A read's data carries another tag in tuser. */
  | "wrong-read-tag"
  /** A completion carries another command's tag. */
  | "wrong-completion-tag"
  /** A completion is presented twice. */
  | "duplicate-completion"
  /** A read's tlast comes one beat before its last beat (all beats still sent). */
  | "early-tlast"
  /** A completion is never presented. */
  | "dropped-completion"
  /** A write completes successfully but never reaches the media. */
  | "lost-write"
  /** One bit of one read word is flipped. */
  | "flipped-bit"
  /** A read's completion comes before its data. */
  | "completion-before-data";

export const FAKE_BUGS: readonly FakeBug[] = [
  "misplaced-read-block",
  "misplaced-write-block",
  "dropped-read-beat",
  "wrong-read-tag",
  "wrong-completion-tag",
  "duplicate-completion",
  "early-tlast",
  "dropped-completion",
  "lost-write",
  "flipped-bit",
  "completion-before-data",
];

export interface FakeUserCoreOptions {
  namespaces: readonly NamespaceGeometry[];
  tagBits?: number;
  seed?: number;
  /** Probability that command_ready is high in a cycle where a command could be taken (default 0.6). */
  commandReadyProbability?: number;
  /** Probability that write data tready is high when write data is expected (default 0.8). */
  writeReadyProbability?: number;
  /** Probability of offering the next read beat in a cycle (default 0.8). */
  readValidProbability?: number;
  /** Probability of presenting a ready completion in a cycle (default 0.9). */
  completionValidProbability?: number;
  /** Cycles from a command's start (a write: its last data beat) to its execution, uniform in [min, max] (default [8, 120]). */
  latency?: readonly [number, number];
  /** Commands accepted and not completed (default 8). */
  queueDepth?: number;
  bug?: FakeBug;
}

// Imported constants as locals: an imported binding may compile to a getter call, and these sit on per-cycle paths.
const CLASS_BAD_REQUEST = UserErrorClass.BAD_REQUEST;
const CLASS_NONE = UserErrorClass.NONE;
const OP_DEALLOCATE = UserOpcode.DEALLOCATE;
const OP_READ = UserOpcode.READ;
const OP_WRITE = UserOpcode.WRITE;
const OP_WRITE_ZEROES = UserOpcode.WRITE_ZEROES;

export class FakeProtocolError extends Error {
  override name = "FakeProtocolError";
}

interface FakeCommand {
  opcode: number;
  nsid: number;
  lba: number;
  count: number;
  tag: number;
  refused: boolean;
  lbaBytes: number;
  beats: number;
  beatsIn: number;
  data: Uint32Array | null;
  /** Cycle it executes at (-1: not yet scheduled: a write waiting for its data). */
  executeAt: number;
  executed: boolean;
  beatsOut: number;
}

const SIGNALS = (tagBits: number): SignalInfo[] => [
  { name: "user_command_opcode", width: 3, direction: "input" },
  { name: "user_command_nsid", width: 32, direction: "input" },
  { name: "user_command_lba", width: 64, direction: "input" },
  { name: "user_command_block_count", width: 32, direction: "input" },
  { name: "user_command_tag", width: tagBits, direction: "input" },
  { name: "user_command_fua", width: 1, direction: "input" },
  { name: "user_command_atomic", width: 1, direction: "input" },
  { name: "user_command_valid", width: 1, direction: "input" },
  { name: "user_command_ready", width: 1, direction: "output" },
  { name: "user_write_data_tdata", width: 64, direction: "input" },
  { name: "user_write_data_tkeep", width: 8, direction: "input" },
  { name: "user_write_data_tlast", width: 1, direction: "input" },
  { name: "user_write_data_tvalid", width: 1, direction: "input" },
  { name: "user_write_data_tready", width: 1, direction: "output" },
  { name: "user_read_data_tdata", width: 64, direction: "output" },
  { name: "user_read_data_tkeep", width: 8, direction: "output" },
  { name: "user_read_data_tlast", width: 1, direction: "output" },
  { name: "user_read_data_tuser", width: tagBits, direction: "output" },
  { name: "user_read_data_tvalid", width: 1, direction: "output" },
  { name: "user_read_data_tready", width: 1, direction: "input" },
  { name: "user_completion_tag", width: tagBits, direction: "output" },
  { name: "user_completion_error_class", width: USER_ERROR_CLASS_BITS, direction: "output" },
  { name: "user_completion_status", width: 15, direction: "output" },
  { name: "user_completion_valid", width: 1, direction: "output" },
  { name: "user_completion_ready", width: 1, direction: "input" },
];

/** The peek/poke surface, over one word array (each signal at a fixed word offset). */
export class FakeUserSim {
  readonly signals: readonly SignalInfo[];
  readonly v: Uint32Array;
  readonly offsets: number[];
  private readonly handles: SignalHandle[];
  private readonly byName = new Map<string, SignalHandle>();

  constructor(signals: readonly SignalInfo[]) {
    this.signals = signals;
    this.handles = signals.map((s, index) => ({ ...s, index }));
    this.offsets = [];
    let at = 0;
    for (const h of this.handles) {
      this.byName.set(h.name, h);
      this.offsets.push(at);
      at += Math.ceil(h.width / 32);
    }
    this.v = new Uint32Array(at);
  }

  signal(name: string): SignalHandle {
    const h = this.byName.get(name);
    if (!h) throw new Error(`fake user core has no signal "${name}"`);
    return h;
  }

  /** Word offset of a signal by name (for the fake's own fast access). */
  at(name: string): number {
    return this.offsets[this.signal(name).index];
  }

  peek(ref: SignalRef): number {
    const h = this.resolve(ref);
    if (h.width > 32) throw new Error(`"${h.name}" is ${h.width} bits: use peekWords`);
    return this.v[this.offsets[h.index]];
  }

  peekBig(ref: SignalRef): bigint {
    const h = this.resolve(ref);
    const o = this.offsets[h.index];
    let value = 0n;
    for (let w = Math.ceil(h.width / 32) - 1; w >= 0; w--) value = (value << 32n) | BigInt(this.v[o + w]);
    return value;
  }

  peekWords(ref: SignalRef, out: Uint32Array): Uint32Array {
    const h = this.resolve(ref);
    const o = this.offsets[h.index];
    for (let w = 0; w < Math.ceil(h.width / 32); w++) out[w] = this.v[o + w];
    return out;
  }

  poke(ref: SignalRef, value: number | bigint): void {
    const h = this.resolve(ref);
    if (h.direction !== "input") throw new Error(`"${h.name}" is not an input`);
    const o = this.offsets[h.index];
    if (typeof value === "number" && h.width <= 32) {
      if (!(value >= 0 && value < 2 ** h.width && Number.isInteger(value))) throw new Error(`value ${value} does not fit the ${h.width}-bit input "${h.name}"`);
      this.v[o] = value;
      return;
    }
    let big = BigInt(value);
    if (big < 0n || big >> BigInt(h.width) !== 0n) throw new Error(`value ${value} does not fit the ${h.width}-bit input "${h.name}"`);
    for (let w = 0; w < Math.ceil(h.width / 32); w++, big >>= 32n) this.v[o + w] = Number(big & 0xffffffffn);
  }

  pokeWords(ref: SignalRef, words: ArrayLike<number>): void {
    const h = this.resolve(ref);
    if (h.direction !== "input") throw new Error(`"${h.name}" is not an input`);
    const o = this.offsets[h.index];
    const n = Math.ceil(h.width / 32);
    if (words.length !== n) throw new Error(`"${h.name}" takes ${n} words, not ${words.length}`);
    for (let w = 0; w < n; w++) this.v[o + w] = words[w];
  }

  private resolve(ref: SignalRef): SignalHandle {
    return typeof ref === "string" ? this.signal(ref) : ref;
  }
}

/** The fake core: `sim`, `cycle`, `step()`, `runUntil()`, as the driver uses a FullSystem. */
export class FakeUserCore {
  readonly sim: FakeUserSim;
  cycle = 0;
  /** Media: nsid -> lba -> the block's words (absent: zeroes). */
  readonly media = new Map<number, Map<number, Uint32Array>>();
  /** What the bug did, once it fired (tests assert it fired). */
  bugFired: string | null = null;

  private readonly o: Record<string, number>;
  private readonly namespaces: readonly NamespaceGeometry[];
  private readonly bug: FakeBug | undefined;
  private readonly tagMask: number;
  private readonly commandReady: number;
  private readonly writeReady: number;
  private readonly readValid: number;
  private readonly completionValid: number;
  private readonly latencyMin: number;
  private readonly latencySpan: number;
  private readonly queueDepth: number;
  private rng: number;

  private accepted: FakeCommand[] = [];
  /** Next command (acceptance order) whose write data comes in; next read to stream; next to complete. */
  private writeAt = 0;
  private readAt = 0;
  private completeAt = 0;
  /** Commands scheduled to execute, and the earliest cycle one of them does. */
  private waiting: FakeCommand[] = [];
  private nextExecuteAt = Infinity;
  /** Accepted writes whose data is not all in. */
  private writesWantingData = 0;
  private duplicated = false;
  private completions = 0;
  // Previous cycle's handshake state, for the driver's protocol checks.
  private cmdWaiting = false;
  private readonly cmdPayload = new Uint32Array(6);
  private wWaiting = false;
  private readonly wPayload = new Uint32Array(3);
  private earlyTlastRead = -1;

  constructor(options: FakeUserCoreOptions) {
    const tagBits = options.tagBits ?? 8;
    this.sim = new FakeUserSim(SIGNALS(tagBits));
    this.o = Object.fromEntries(this.sim.signals.map((s) => [s.name.replace(/^user_/, ""), this.sim.at(s.name)]));
    this.namespaces = options.namespaces;
    this.bug = options.bug;
    this.tagMask = 2 ** tagBits - 1;
    const threshold = (p: number) => (p >= 1 ? 4294967296 : Math.floor(p * 4294967296));
    this.commandReady = threshold(options.commandReadyProbability ?? 0.6);
    this.writeReady = threshold(options.writeReadyProbability ?? 0.8);
    this.readValid = threshold(options.readValidProbability ?? 0.8);
    this.completionValid = threshold(options.completionValidProbability ?? 0.9);
    const [min, max] = options.latency ?? [8, 120];
    if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 1 && max >= min)) throw new RangeError(`FakeUserCore: latency [${min}, ${max}] is not 1 <= min <= max`);
    this.latencyMin = min;
    this.latencySpan = max - min + 1;
    this.queueDepth = options.queueDepth ?? 8;
    this.rng = (Math.imul((options.seed ?? 7) ^ 0x2545f491, 0x9e3779b1) >>> 0) || 1;
    for (const ns of this.namespaces) this.media.set(ns.nsid, new Map());
    this.v[this.o.read_data_tkeep] = 0xff;
  }

  private get v(): Uint32Array {
    return this.sim.v;
  }

  step(cycles = 1): void {
    for (let i = 0; i < cycles; i++) this.edge();
  }

  runUntil(done: () => boolean, maxCycles: number, what = "condition"): number {
    const start = this.cycle;
    while (!done()) {
      if (this.cycle - start >= maxCycles) throw new Error(`${what} not reached within ${maxCycles} cycles`);
      this.edge();
    }
    return this.cycle - start;
  }

  /** The words of a block as the media holds them (zeroes if never written). */
  block(nsid: number, lba: number): Uint32Array {
    const ns = this.namespaces.find((n) => n.nsid === nsid)!;
    return this.media.get(nsid)!.get(lba) ?? new Uint32Array(ns.lbaBytes / 4);
  }

  private rand(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.rng = x >>> 0);
  }

  private edge(): void {
    const v = this.v;
    const o = this.o;
    this.checkDriverProtocol();
    const cmdFire = v[o.command_valid] === 1 && v[o.command_ready] === 1;
    const wFire = v[o.write_data_tvalid] === 1 && v[o.write_data_tready] === 1;
    const rFire = v[o.read_data_tvalid] === 1 && v[o.read_data_tready] === 1;
    const cFire = v[o.completion_valid] === 1 && v[o.completion_ready] === 1;
    if (wFire) this.takeWriteBeat();
    if (cmdFire) this.acceptCommand();
    if (rFire) this.readBeatTaken();
    if (cFire) this.completionTaken();
    this.cycle++;
    this.execute();
    this.nextOutputs(rFire, cFire);
  }

  private checkDriverProtocol(): void {
    const v = this.v;
    const o = this.o;
    const cmd = this.cmdPayload;
    if (this.cmdWaiting) {
      if (v[o.command_valid] !== 1) throw new FakeProtocolError(`cycle ${this.cycle}: command_valid dropped before command_ready`);
      const same = cmd[0] === v[o.command_opcode] && cmd[1] === v[o.command_nsid] && cmd[2] === v[o.command_lba] && cmd[3] === v[o.command_lba + 1] && cmd[4] === v[o.command_block_count] && cmd[5] === v[o.command_tag];
      if (!same) throw new FakeProtocolError(`cycle ${this.cycle}: command payload changed while waiting for command_ready`);
    }
    this.cmdWaiting = v[o.command_valid] === 1 && v[o.command_ready] === 0;
    if (this.cmdWaiting) {
      cmd[0] = v[o.command_opcode];
      cmd[1] = v[o.command_nsid];
      cmd[2] = v[o.command_lba];
      cmd[3] = v[o.command_lba + 1];
      cmd[4] = v[o.command_block_count];
      cmd[5] = v[o.command_tag];
    }
    const w = this.wPayload;
    if (this.wWaiting) {
      if (v[o.write_data_tvalid] !== 1) throw new FakeProtocolError(`cycle ${this.cycle}: write data tvalid dropped before tready`);
      if (w[0] !== v[o.write_data_tdata] || w[1] !== v[o.write_data_tdata + 1] || w[2] !== v[o.write_data_tlast]) throw new FakeProtocolError(`cycle ${this.cycle}: write data changed while waiting for tready`);
    }
    this.wWaiting = v[o.write_data_tvalid] === 1 && v[o.write_data_tready] === 0;
    if (this.wWaiting) {
      w[0] = v[o.write_data_tdata];
      w[1] = v[o.write_data_tdata + 1];
      w[2] = v[o.write_data_tlast];
    }
  }

  private acceptCommand(): void {
    const v = this.v;
    const o = this.o;
    const opcode = v[o.command_opcode];
    const nsid = v[o.command_nsid];
    const lbaBig = (BigInt(v[o.command_lba + 1]) << 32n) | BigInt(v[o.command_lba]);
    const count = v[o.command_block_count];
    const refused = predictedErrorClass({ opcode: opcode as UserCommand["opcode"], nsid, lba: lbaBig, blockCount: count }, this.namespaces) !== CLASS_NONE;
    const ns = this.namespaces.find((n) => n.nsid === nsid) ?? this.namespaces[0];
    const isWrite = opcode === OP_WRITE;
    const isRead = opcode === OP_READ;
    const words = (count * ns.lbaBytes) / 4;
    const command: FakeCommand = {
      opcode,
      nsid,
      lba: refused ? 0 : Number(lbaBig),
      count,
      tag: v[o.command_tag],
      refused,
      lbaBytes: ns.lbaBytes,
      beats: isWrite || (isRead && !refused) ? words / 2 : 0,
      beatsIn: 0,
      data: isWrite && !refused ? new Uint32Array(words) : null,
      executeAt: -1,
      executed: false,
      beatsOut: 0,
    };
    this.accepted.push(command);
    if (isWrite) this.writesWantingData++;
    else this.schedule(command, refused ? this.cycle + 1 : this.cycle + 1 + this.latencyMin + (this.rand() % this.latencySpan));
  }

  /** The oldest accepted write whose data is not all in. */
  private takeWriteBeat(): void {
    const v = this.v;
    const o = this.o;
    while (this.writeAt < this.accepted.length && (this.accepted[this.writeAt].opcode !== OP_WRITE || this.accepted[this.writeAt].beatsIn === this.accepted[this.writeAt].beats)) this.writeAt++;
    const command = this.accepted[this.writeAt];
    if (!command) throw new FakeProtocolError(`cycle ${this.cycle}: write data beat with no accepted write waiting for data`);
    if (v[o.write_data_tkeep] !== 0xff) throw new FakeProtocolError(`cycle ${this.cycle}: write data tkeep 0x${v[o.write_data_tkeep].toString(16)}`);
    const beat = command.beatsIn++;
    if (command.data) {
      command.data[2 * beat] = v[o.write_data_tdata];
      command.data[2 * beat + 1] = v[o.write_data_tdata + 1];
    }
    const last = command.beatsIn === command.beats;
    if ((v[o.write_data_tlast] === 1) !== last) throw new FakeProtocolError(`cycle ${this.cycle}: write data tlast ${v[o.write_data_tlast]} on beat ${beat} of ${command.beats}`);
    if (last) {
      this.writesWantingData--;
      this.schedule(command, command.refused ? this.cycle + 1 : this.cycle + 1 + this.latencyMin + (this.rand() % this.latencySpan));
    }
  }

  private execute(): void {
    const now = this.cycle;
    if (now < this.nextExecuteAt) return;
    let kept = 0;
    let next = Infinity;
    for (let i = 0; i < this.waiting.length; i++) {
      const c = this.waiting[i];
      if (c.executeAt > now) {
        this.waiting[kept++] = c;
        if (c.executeAt < next) next = c.executeAt;
        continue;
      }
      c.executed = true;
      if (c.refused) continue;
      const media = this.media.get(c.nsid)!;
      const blockWords = c.lbaBytes / 4;
      if (c.opcode === OP_WRITE) {
        if (this.bug === "lost-write" && !this.bugFired && this.completions > 0) {
          this.bugFired = `write at lba ${c.lba} lost`;
          continue;
        }
        for (let b = 0; b < c.count; b++) {
          let from = b;
          if (this.bug === "misplaced-write-block" && !this.bugFired && c.count >= 2 && b === 1) {
            from = 0;
            this.bugFired = `write at lba ${c.lba}: block 0 also stored at lba ${c.lba + 1}`;
          }
          media.set(c.lba + b, c.data!.slice(from * blockWords, (from + 1) * blockWords));
        }
      } else if (c.opcode === OP_READ) {
        const data = new Uint32Array(c.count * blockWords);
        for (let b = 0; b < c.count; b++) {
          let from = c.lba + b;
          if (this.bug === "misplaced-read-block" && !this.bugFired && c.count >= 2 && b === 1 && media.has(c.lba)) {
            from = c.lba;
            this.bugFired = `read at lba ${c.lba}: block 1 delivered as block 0`;
          }
          const block = media.get(from);
          if (block) data.set(block, b * blockWords);
        }
        if (this.bug === "flipped-bit" && !this.bugFired && media.has(c.lba)) {
          data[3] ^= 0x100;
          this.bugFired = `read at lba ${c.lba}: bit 8 of word 1 flipped`;
        }
        c.data = data;
      } else if (c.opcode === OP_WRITE_ZEROES || c.opcode === OP_DEALLOCATE) {
        for (let b = 0; b < c.count; b++) media.delete(c.lba + b);
      }
    }
    this.waiting.length = kept;
    this.nextExecuteAt = next;
  }

  private schedule(command: FakeCommand, at: number): void {
    command.executeAt = at;
    this.waiting.push(command);
    if (at < this.nextExecuteAt) this.nextExecuteAt = at;
  }

  private readBeatTaken(): void {
    const c = this.accepted[this.readAt];
    c.beatsOut++;
    if (this.bug === "dropped-read-beat" && this.bugFired === null && c.beats >= 3 && c.beatsOut === 1) {
      c.beatsOut++;
      this.bugFired = `read at lba ${c.lba}: beat 1 of ${c.beats} dropped`;
    }
    if (c.beatsOut >= c.beats) this.readAt++;
  }

  private completionTaken(): void {
    this.completions++;
    if (this.bug === "duplicate-completion" && !this.duplicated && this.completions === 2) {
      this.duplicated = true;
      this.bugFired = `completion ${this.completeAt} presented twice`;
      return; // presented again next cycle
    }
    const done = this.accepted[this.completeAt];
    if (done.opcode !== OP_READ || done.beatsOut >= done.beats) done.data = null; // executed and streamed: free it
    this.completeAt++;
  }

  private nextOutputs(rFire: boolean, cFire: boolean): void {
    const v = this.v;
    const o = this.o;
    const inFlight = this.accepted.length - this.completeAt;
    v[o.command_ready] = inFlight < this.queueDepth && this.rand() < this.commandReady ? 1 : 0;
    // The fake takes write data only for accepted writes (a core may take it earlier; the driver allows both).
    v[o.write_data_tready] = this.writesWantingData > 0 && this.rand() < this.writeReady ? 1 : 0;
    this.nextReadBeat(rFire);
    this.nextCompletion(cFire);
  }

  private nextReadBeat(fired: boolean): void {
    const v = this.v;
    const o = this.o;
    if (v[o.read_data_tvalid] === 1 && !fired) return; // held until taken
    while (this.readAt < this.accepted.length && (this.accepted[this.readAt].opcode !== OP_READ || this.accepted[this.readAt].refused)) this.readAt++;
    const c = this.accepted[this.readAt];
    if (!c || !c.executed || this.rand() >= this.readValid) {
      v[o.read_data_tvalid] = 0;
      return;
    }
    const beat = c.beatsOut;
    const data = c.data!;
    v[o.read_data_tdata] = data[2 * beat];
    v[o.read_data_tdata + 1] = data[2 * beat + 1];
    let tlast = beat === c.beats - 1 ? 1 : 0;
    // early-tlast: tlast also on the beat before the last of one read; the last beat is still sent.
    if (this.bug === "early-tlast" && c.beats >= 2 && beat === c.beats - 2 && (this.earlyTlastRead === -1 || this.earlyTlastRead === this.readAt)) {
      tlast = 1;
      this.earlyTlastRead = this.readAt;
      this.bugFired = `read at lba ${c.lba}: tlast on beat ${beat} of ${c.beats}`;
    }
    v[o.read_data_tlast] = tlast;
    let tag = c.tag;
    if (this.bug === "wrong-read-tag" && (this.bugFired === null || this.bugFired.startsWith(`read #${this.readAt}`))) {
      tag ^= 1;
      this.bugFired = `read #${this.readAt}: tuser ${tag} instead of ${c.tag}`;
    }
    v[o.read_data_tuser] = tag & this.tagMask;
    v[o.read_data_tvalid] = 1;
  }

  private nextCompletion(fired: boolean): void {
    const v = this.v;
    const o = this.o;
    if (v[o.completion_valid] === 1 && !fired) return; // held until taken
    const c = this.accepted[this.completeAt];
    const dataDone = !c || c.opcode !== OP_READ || c.refused || c.beatsOut >= c.beats || (this.bug === "completion-before-data" && this.bugFired === null);
    if (!c || !c.executed || !dataDone || this.rand() >= this.completionValid) {
      v[o.completion_valid] = 0;
      return;
    }
    if (this.bug === "completion-before-data" && this.bugFired === null && c.opcode === OP_READ && !c.refused && c.beatsOut < c.beats) {
      this.bugFired = `read at lba ${c.lba} completed after ${c.beatsOut} of ${c.beats} beats`;
    }
    if (this.bug === "dropped-completion" && this.completeAt === 2) {
      this.bugFired = "completion 2 dropped";
      v[o.completion_valid] = 0;
      return;
    }
    let tag = c.tag;
    if (this.bug === "wrong-completion-tag" && this.completeAt === 2) {
      tag ^= 1;
      this.bugFired = `completion 2: tag ${tag} instead of ${c.tag}`;
    }
    v[o.completion_tag] = tag & this.tagMask;
    v[o.completion_error_class] = c.refused ? CLASS_BAD_REQUEST : CLASS_NONE;
    v[o.completion_status] = 0;
    v[o.completion_valid] = 1;
  }
}
