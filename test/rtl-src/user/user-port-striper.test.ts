// user_port_striper, as emitted Verilog on both engines, in front of behavioural lanes written here:
// each lane an in-order NVMe-like device with its own block store, random accept/complete delays and
// random back-pressure on every port; one of them can fail mid-run (its lane_ready drops, commands it
// holds complete NOT_READY with their bytes, later ones are refused without data: the striper turns
// both into MEMBER_FAILED naming the lane). A user-side
// driver sends random commands (unaligned, crossing several stripes, overlapping) with data distinct
// per block and per pass, and checks every completion (order, tag, error class) and every read beat
// against a reference model updated in completion order. Each block lives on one lane, and lanes are
// in order, so the model is exact for every command that completed without error.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { striperLaneTagBits, userPortStriper, type UserPortStriperParams } from "../../../rtl-src/user/user-port-striper.ts";
import { UserErrorClass, UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { type EngineName, type SignalHandle, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const STRIPE_BYTES = 4096;
/** Not a power of two: the rings and FIFOs of other depths get exercised too. */
const MAX_OUTSTANDING = 6;
const TAG_BITS = 8;
const LBA_SHIFT = 9;
const BEATS_PER_BLOCK = (1 << LBA_SHIFT) / 8;
/** Stripe blocks at 512-byte LBAs. */
const B = STRIPE_BYTES >> LBA_SHIFT;

/** Beat k of array block `lba` written by command `pass`: distinct per block, pass and beat. */
const pattern = (pass: number, lba: number, k: number) => (BigInt(pass & 0xffff) << 48n) | (BigInt(lba >>> 0) << 16n) | BigInt(k) | (1n << 63n);

interface UserCommand {
  index: number;
  opcode: number;
  lba: number;
  count: number;
  tag: number;
  atomic: boolean;
  /** Beats the driver sends for a write (count x 64 unless testing a short or long stream). */
  sendBeats: number;
  /** The error class the test knows in advance (refusals it built), or undefined. */
  expect?: number;
}

interface LaneCommand {
  opcode: number;
  lba: number;
  count: number;
  tag: number;
  atomic: boolean;
  refused: boolean;
  broken: boolean;
  beats: number;
  wait: number;
}

/** One member SSD: in order, one command executing at a time, a few queued. */
class Lane {
  readonly store = new Map<number, bigint[]>();
  readonly queue: LaneCommand[] = [];
  readonly completions: { tag: number; cls: number }[] = [];
  failed = false;
  received: LaneCommand[] = [];
  private readBeat = 0;
  private completionWait = 0;
  constructor(
    readonly index: number,
    private readonly random: () => number,
    private readonly speed: number,
  ) {}

  /** Commands held (queued or executing) and completions not yet taken: what counts as in flight. */
  get held(): number {
    return this.queue.length + this.completions.length;
  }

  fail(): void {
    this.failed = true;
    for (const c of this.queue) c.broken = true;
  }

  commandReady(): boolean {
    // A failed controller refuses at once (in order behind what it holds).
    return (this.failed || this.queue.length < 3) && this.random() < 0.6;
  }

  /** Reads (counted from 0 in arrival order) this lane refuses as if it had just left READY: no data, NOT_READY. */
  refuseReads = new Set<number>();
  private reads = 0;

  accept(c: LaneCommand): void {
    c.refused = this.failed || (c.opcode === UserOpcode.READ && this.refuseReads.has(this.reads));
    if (c.opcode === UserOpcode.READ) this.reads++;
    c.broken = c.refused;
    c.wait = c.refused ? 0 : Math.floor(this.random() * 12 / this.speed);
    this.queue.push(c);
    this.received.push(c);
  }

  /** The head command's next move, before the ports are offered. */
  advance(): void {
    const head = this.queue[0];
    if (!head) return;
    if (head.wait > 0) {
      if (this.random() < this.speed) head.wait--;
      return;
    }
    if (head.opcode === UserOpcode.READ && !head.refused) return; // finishes with its last beat
    if (head.opcode === UserOpcode.WRITE) return; // finishes with its last beat of data
    this.finish(head);
  }

  private finish(c: LaneCommand): void {
    this.queue.shift();
    if (!c.broken && (c.opcode === UserOpcode.WRITE_ZEROES || c.opcode === UserOpcode.DEALLOCATE)) {
      for (let b = 0; b < c.count; b++) this.store.delete(c.lba + b);
    }
    this.completions.push({ tag: c.tag, cls: c.broken ? UserErrorClass.NOT_READY : UserErrorClass.NONE });
    if (this.completions.length === 1) this.completionWait = Math.floor(this.random() * 4);
  }

  private offered: { data: bigint; last: boolean; tag: number } | undefined;

  /** The read beat offered now, if any (held unchanged until taken, even if the lane fails meanwhile). */
  readOffer(): { data: bigint; last: boolean; tag: number } | undefined {
    if (this.offered) return this.offered;
    const head = this.queue[0];
    if (!head || head.opcode !== UserOpcode.READ || head.refused || head.wait > 0) return undefined;
    const block = Math.floor(this.readBeat / BEATS_PER_BLOCK);
    const k = this.readBeat % BEATS_PER_BLOCK;
    const data = head.broken ? 0xbad0_0000_0000_0badn : (this.store.get(head.lba + block)?.[k] ?? 0n);
    this.offered = { data, last: this.readBeat === head.count * BEATS_PER_BLOCK - 1, tag: head.tag };
    return this.offered;
  }

  readTaken(): void {
    this.offered = undefined;
    this.readBeat++;
    const head = this.queue[0];
    if (this.readBeat === head.count * BEATS_PER_BLOCK) {
      this.readBeat = 0;
      this.finish(head);
    }
  }

  /** The write command whose data comes next (refused ones too: their data is consumed). */
  writeHead(): LaneCommand | undefined {
    const head = this.queue[0];
    return head && head.opcode === UserOpcode.WRITE && head.wait === 0 ? head : undefined;
  }

  writeTaken(data: bigint, last: boolean): void {
    const head = this.writeHead()!;
    const beat = head.beats++;
    const block = Math.floor(beat / BEATS_PER_BLOCK);
    if (!head.broken) {
      if (!this.store.has(head.lba + block) || beat % BEATS_PER_BLOCK === 0) this.store.set(head.lba + block, new Array(BEATS_PER_BLOCK).fill(0n));
      this.store.get(head.lba + block)![beat % BEATS_PER_BLOCK] = data;
    }
    const end = beat === head.count * BEATS_PER_BLOCK - 1;
    if (last !== end) throw new Error(`lane ${this.index}: tlast ${last} on beat ${beat} of a ${head.count}-block write`);
    if (end) this.finish(head);
  }

  completionOffer(): { tag: number; cls: number } | undefined {
    if (this.completions.length === 0) return undefined;
    if (this.completionWait > 0) {
      this.completionWait--;
      return undefined;
    }
    return this.completions[0];
  }

  completionTaken(): void {
    this.completions.shift();
    this.completionWait = Math.floor(this.random() * 4);
  }
}

interface Scenario {
  lanes: number;
  capacities: number[];
  commands: UserCommand[];
  /** Fail this lane once this many user commands have been accepted. */
  failLane?: { lane: number; afterCommands: number };
  /** Per-lane speed (progress chance per cycle), 1 = fast. */
  speeds?: number[];
  laneShifts?: number[];
  /** Reads a lane refuses without data (by its own count of reads received). */
  refuseReads?: { lane: number; reads: number[] };
  seed: number;
}

interface Outcome {
  /** Read beats that differ from the reference model (the first few). */
  mismatches: string[];
  classes: number[];
  statuses: number[];
  cycles: number;
  lanes: Lane[];
  capacity: bigint;
  maxHeld: number;
  configOk: number;
}

/** The sub-commands RAID 0 makes of an array range: lane, lane LBA, blocks. */
function subsOf(lanes: number, lba: number, count: number, B = STRIPE_BYTES >> LBA_SHIFT): { lane: number; lba: number; count: number }[] {
  const subs = [];
  for (let a = lba; a < lba + count; ) {
    const s = Math.floor(a / B);
    const n = Math.min(lba + count, (s + 1) * B) - a;
    subs.push({ lane: s % lanes, lba: Math.floor(s / lanes) * B + (a % B), count: n });
    a += n;
  }
  return subs;
}

/** The lanes a range of array blocks touches. */
function lanesOf(lanes: number, lba: number, count: number): Set<number> {
  const set = new Set<number>();
  for (let s = Math.floor(lba / B); s <= Math.floor((lba + count - 1) / B) && set.size < lanes; s++) set.add(s % lanes);
  return set;
}

function run(sim: Simulator, p: UserPortStriperParams, sc: Scenario): Outcome {
  const N = sc.lanes;
  const random = seededRandom(sc.seed);
  const h = (name: string): SignalHandle => sim.signal(name);
  const lanes = Array.from({ length: N }, (_, l) => new Lane(l, seededRandom(sc.seed * 31 + l), sc.speeds?.[l] ?? 1));
  if (sc.refuseReads) lanes[sc.refuseReads.lane].refuseReads = new Set(sc.refuseReads.reads);
  const U = {
    cv: h("user_command_valid"), cr: h("user_command_ready"), op: h("user_command_opcode"), nsid: h("user_command_nsid"), lba: h("user_command_lba"),
    cnt: h("user_command_block_count"), tag: h("user_command_tag"), fua: h("user_command_fua"), atomic: h("user_command_atomic"),
    wv: h("user_write_data_tvalid"), wr: h("user_write_data_tready"), wd: h("user_write_data_tdata"), wk: h("user_write_data_tkeep"), wl: h("user_write_data_tlast"),
    rv: h("user_read_data_tvalid"), rr: h("user_read_data_tready"), rd: h("user_read_data_tdata"), rl: h("user_read_data_tlast"), ru: h("user_read_data_tuser"),
    qv: h("user_completion_valid"), qr: h("user_completion_ready"), qt: h("user_completion_tag"), qc: h("user_completion_error_class"), qs: h("user_completion_status"),
  };
  const L = lanes.map((_, l) => ({
    ready: h(`lane${l}_ready`), cap: h(`lane${l}_capacity_blocks`), shift: h(`lane${l}_lba_shift`),
    cv: h(`lane${l}_command_valid`), cr: h(`lane${l}_command_ready`), op: h(`lane${l}_command_opcode`), lba: h(`lane${l}_command_lba`), cnt: h(`lane${l}_command_block_count`),
    tag: h(`lane${l}_command_tag`), atomic: h(`lane${l}_command_atomic`),
    wv: h(`lane${l}_write_data_tvalid`), wr: h(`lane${l}_write_data_tready`), wd: h(`lane${l}_write_data_tdata`), wl: h(`lane${l}_write_data_tlast`),
    rv: h(`lane${l}_read_data_tvalid`), rr: h(`lane${l}_read_data_tready`), rd: h(`lane${l}_read_data_tdata`), rl: h(`lane${l}_read_data_tlast`), ru: h(`lane${l}_read_data_tuser`), rk: h(`lane${l}_read_data_tkeep`),
    qv: h(`lane${l}_completion_valid`), qr: h(`lane${l}_completion_ready`), qt: h(`lane${l}_completion_tag`), qc: h(`lane${l}_completion_error_class`), qs: h(`lane${l}_completion_status`),
  }));
  // Nothing offered from a previous run: every valid low, then reset.
  for (const v of [U.cv, U.wv, U.rr, U.qr, ...L.flatMap((x) => [x.cr, x.wr, x.rv, x.qv])]) sim.poke(v, 0);
  sim.reset(2);
  lanes.forEach((_, l) => {
    sim.poke(L[l].ready, 1);
    sim.poke(L[l].cap, BigInt(sc.capacities[l]));
    sim.poke(L[l].shift, sc.laneShifts?.[l] ?? LBA_SHIFT);
  });
  sim.step(12); // the capacity pipeline and configuration settle

  // The user's write data: every write's beats, in command order.
  const writeBeats: { data: bigint; last: boolean }[] = [];
  for (const c of sc.commands) {
    if (c.opcode !== UserOpcode.WRITE) continue;
    for (let k = 0; k < c.sendBeats; k++) writeBeats.push({ data: pattern(c.index, c.lba + Math.floor(k / BEATS_PER_BLOCK), k % BEATS_PER_BLOCK), last: k === c.sendBeats - 1 });
  }
  let nextCommand = 0;
  let commandOffered = false;
  let nextWriteBeat = 0;
  let writeOffered = false;
  const readGroups: { data: bigint[]; tags: number[] }[] = [];
  let currentGroup: { data: bigint[]; tags: number[] } = { data: [], tags: [] };
  const mismatches: string[] = [];
  const classes: number[] = [];
  const statuses: number[] = [];
  /** Reference model: array block -> pass that wrote it (0: zeros), or -1: unknown. */
  const model = new Map<number, number>();
  const laneOffered = lanes.map(() => ({ read: false, completion: false }));
  let maxHeld = 0;
  let cycles = 0;
  const limit = 400_000;

  const complete = (tag: number, cls: number, status: number) => {
    const c = sc.commands[classes.length];
    expect(tag, `completion ${classes.length}: tag`).toBe(c.tag);
    classes.push(cls);
    statuses.push(status);
    const blocks = Array.from({ length: c.count }, (_, b) => c.lba + b);
    // A read refused before anything was sent delivers nothing; every other read its whole length.
    const refusedRead = cls === UserErrorClass.BAD_REQUEST || (cls === UserErrorClass.NOT_READY && c.expect === UserErrorClass.NOT_READY);
    if (c.opcode === UserOpcode.READ && !refusedRead) {
      const group = readGroups.shift();
      expect(group, `read ${c.index} delivered its data before its completion`).toBeDefined();
      if (group!.data.length !== c.count * BEATS_PER_BLOCK) mismatches.push(`read ${c.index}: ${group!.data.length} beats, not ${c.count * BEATS_PER_BLOCK}`);
      expect(group!.tags.every((t) => t === c.tag), `read ${c.index}: tuser`).toBe(true);
      if (cls === UserErrorClass.MEMBER_FAILED) {
        // Refused sub-commands' blocks are zeros (all of them when the striper refused the command),
        // those the failed lane had taken what it delivered, the others the data written.
        let zeroBlocks = 0;
        blocks.forEach((lba, b) => {
          const got = group!.data.slice(b * BEATS_PER_BLOCK, (b + 1) * BEATS_PER_BLOCK);
          const pass = model.get(lba) ?? 0;
          if (got.every((d) => d === 0n)) zeroBlocks++;
          else if (pass > 0 && got.some((d, k) => d !== pattern(pass, lba, k))) mismatches.push(`read ${c.index}: block ${lba} neither zeros nor its data`);
        });
        if (sc.refuseReads && zeroBlocks === 0) mismatches.push(`read ${c.index} completed MEMBER_FAILED with no zero block`);
      }
      if (cls === UserErrorClass.NONE) {
        blocks.forEach((lba, b) => {
          const pass = model.get(lba) ?? 0;
          if (pass < 0) return;
          for (let k = 0; k < BEATS_PER_BLOCK; k++) {
            const want = pass === 0 ? 0n : pattern(pass, lba, k);
            const got = group!.data[b * BEATS_PER_BLOCK + k];
            if (got !== want && mismatches.length < 5) mismatches.push(`read ${c.index} (lba ${c.lba}, ${c.count} blocks): block ${lba} beat ${k} is ${got.toString(16)}, wanted ${want.toString(16)}`);
          }
        });
      }
    }
    const changes = c.opcode === UserOpcode.WRITE || c.opcode === UserOpcode.WRITE_ZEROES || c.opcode === UserOpcode.DEALLOCATE;
    if (changes && c.expect === undefined) {
      const sent = cls !== UserErrorClass.MEMBER_FAILED;
      if (cls === UserErrorClass.NONE) blocks.forEach((lba) => model.set(lba, c.opcode === UserOpcode.WRITE ? c.index : 0));
      else if (sent) blocks.forEach((lba) => model.set(lba, -1));
    }
    if (c.opcode === UserOpcode.WRITE && c.sendBeats !== c.count * BEATS_PER_BLOCK) blocks.forEach((lba) => model.set(lba, -1));
  };

  while (classes.length < sc.commands.length) {
    if (++cycles > limit) throw new Error(`stuck: ${classes.length} of ${sc.commands.length} completions after ${limit} cycles`);
    if (sc.failLane && nextCommand >= sc.failLane.afterCommands && !lanes[sc.failLane.lane].failed) {
      lanes[sc.failLane.lane].fail();
      sim.poke(L[sc.failLane.lane].ready, 0);
    }
    // Inputs first (the models answer from their own state), then the handshakes.
    const c = sc.commands[nextCommand];
    commandOffered = c !== undefined && (commandOffered || random() < 0.5);
    sim.poke(U.cv, commandOffered ? 1 : 0);
    if (commandOffered) {
      sim.poke(U.op, c.opcode);
      sim.poke(U.nsid, 1);
      sim.poke(U.lba, BigInt(c.lba));
      sim.poke(U.cnt, c.count);
      sim.poke(U.tag, c.tag);
      sim.poke(U.fua, c.index & 1);
      sim.poke(U.atomic, c.atomic ? 1 : 0);
    }
    const wb = writeBeats[nextWriteBeat];
    writeOffered = wb !== undefined && (writeOffered || random() < 0.7);
    sim.poke(U.wv, writeOffered ? 1 : 0);
    if (writeOffered) {
      sim.poke(U.wd, wb.data);
      sim.poke(U.wk, 0xff);
      sim.poke(U.wl, wb.last ? 1 : 0);
    }
    const readReady = random() < 0.7;
    sim.poke(U.rr, readReady ? 1 : 0);
    const completionReady = random() < 0.6;
    sim.poke(U.qr, completionReady ? 1 : 0);
    const laneInputs = lanes.map((lane, l) => {
      lane.advance();
      const cmdReady = lane.commandReady();
      sim.poke(L[l].cr, cmdReady ? 1 : 0);
      const writeReady = lane.writeHead() !== undefined && random() < 0.7;
      sim.poke(L[l].wr, writeReady ? 1 : 0);
      const ro = lane.readOffer();
      laneOffered[l].read = ro !== undefined && (laneOffered[l].read || random() < 0.7);
      sim.poke(L[l].rv, laneOffered[l].read ? 1 : 0);
      if (laneOffered[l].read) {
        sim.poke(L[l].rd, ro!.data);
        sim.poke(L[l].rl, ro!.last ? 1 : 0);
        sim.poke(L[l].ru, ro!.tag);
        sim.poke(L[l].rk, 0xff);
      }
      const co = laneOffered[l].completion ? lane.completions[0] : lane.completionOffer();
      laneOffered[l].completion = co !== undefined;
      sim.poke(L[l].qv, co ? 1 : 0);
      if (co) {
        sim.poke(L[l].qt, co.tag);
        sim.poke(L[l].qc, co.cls);
        sim.poke(L[l].qs, 0);
      }
      return { cmdReady, writeReady };
    });
    // Handshakes.
    if (commandOffered && sim.peek(U.cr)) {
      nextCommand++;
      commandOffered = false;
    }
    if (writeOffered && sim.peek(U.wr)) {
      nextWriteBeat++;
      writeOffered = false;
    }
    if (readReady && sim.peek(U.rv)) {
      currentGroup.data.push(sim.peekBig(U.rd));
      currentGroup.tags.push(sim.peek(U.ru));
      if (sim.peek(U.rl)) {
        readGroups.push(currentGroup);
        currentGroup = { data: [], tags: [] };
      }
    }
    const userCompletion = completionReady && sim.peek(U.qv) ? { tag: sim.peek(U.qt), cls: sim.peek(U.qc), status: sim.peek(U.qs) } : undefined;
    lanes.forEach((lane, l) => {
      const x = L[l];
      if (laneInputs[l].cmdReady && sim.peek(x.cv)) {
        lane.accept({ opcode: sim.peek(x.op), lba: Number(sim.peekBig(x.lba)), count: sim.peek(x.cnt), tag: sim.peek(x.tag), atomic: sim.peek(x.atomic) === 1, refused: false, broken: false, beats: 0, wait: 0 });
      }
      if (laneInputs[l].writeReady && sim.peek(x.wv)) lane.writeTaken(sim.peekBig(x.wd), sim.peek(x.wl) === 1);
      if (laneOffered[l].read && sim.peek(x.rr)) {
        laneOffered[l].read = false;
        lane.readTaken();
      }
      if (laneOffered[l].completion && sim.peek(x.qr)) {
        laneOffered[l].completion = false;
        lane.completionTaken();
      }
    });
    maxHeld = Math.max(maxHeld, lanes.reduce((sum, lane) => sum + lane.held, 0));
    if (userCompletion) complete(userCompletion.tag, userCompletion.cls, userCompletion.status);
    sim.step();
  }
  expect(readGroups, "read data nobody's completion claimed").toEqual([]);
  expect(currentGroup.data, "a read group without tlast").toEqual([]);
  expect(nextWriteBeat, "write beats consumed").toBe(writeBeats.length);
  return { mismatches, classes, statuses, cycles, lanes, capacity: sim.peekBig("array_capacity_blocks"), maxHeld, configOk: sim.peek("array_config_ok") };
}

/** Random commands over `region` blocks from `base`, crossing stripes, overlapping each other. */
function randomCommands(seed: number, n: number, base: number, region: number, mix: "write" | "read" | "mixed", first = 0): UserCommand[] {
  const random = seededRandom(seed);
  const list: UserCommand[] = [];
  for (let i = 0; i < n; i++) {
    const index = first + i + 1;
    const roll = random();
    const opcode = mix === "write" ? UserOpcode.WRITE : mix === "read" ? UserOpcode.READ
      : roll < 0.4 ? UserOpcode.WRITE : roll < 0.8 ? UserOpcode.READ : roll < 0.87 ? UserOpcode.WRITE_ZEROES : roll < 0.94 ? UserOpcode.DEALLOCATE : UserOpcode.FLUSH;
    const count = 1 + Math.floor(random() * (random() < 0.3 ? 3 * B : B));
    const lba = base + Math.floor(random() * (region - count));
    list.push({ index, opcode, lba, count, tag: index & 0xff, atomic: false, sendBeats: count * BEATS_PER_BLOCK });
  }
  return list;
}

const params = (lanes: number): UserPortStriperParams => ({ lanes, stripeBytes: STRIPE_BYTES, maxOutstanding: MAX_OUTSTANDING, tagBits: TAG_BITS });

describe.each(engines)("user_port_striper, %s engine", (engine) => {
  const sims = new Map<number, Simulator>();
  const build = async (lanes: number) => {
    if (!sims.has(lanes)) {
      const { files, design } = emitDesign(userPortStriper(params(lanes)));
      sims.set(lanes, monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine, visibility: "ports" })));
    }
    return sims.get(lanes)!;
  };

  it.each([1, 2, 4])("writes then reads back, then a mixed workload, over %i lane(s): data, order, tags, flush, capacity", async (lanes) => {
    const sim = await build(lanes);
    const seed = lanes * 10 + (engine === "js" ? 1 : 2);
    const writes = randomCommands(seed, 10, 40, 6 * B * lanes, "write");
    const reads = writes.map((w, i): UserCommand => ({ ...w, index: 100 + i, tag: (100 + i) & 0xff, opcode: UserOpcode.READ }));
    const mixed = randomCommands(seed + 5, 16, 40, 6 * B * lanes, "mixed", 200);
    const capacities = [4000, 3000, 5000, 3333].slice(0, lanes);
    const out = run(sim, params(lanes), { lanes, capacities, commands: [...writes, ...reads, ...mixed], seed });
    const all = [...writes, ...reads, ...mixed];
    expect(out.classes.flatMap((c, i) => (c === UserErrorClass.NONE ? [] : [{ ...all[i], cls: c }]))).toEqual([]);
    const min = Math.min(...capacities);
    expect(out.capacity).toBe(lanes === 1 ? BigInt(capacities[0]) : BigInt(lanes * (min - (min % B))));
    if (lanes > 1) {
      // Each lane got exactly the sub-commands RAID 0 makes, in order (flush: one per lane).
      const want = Array.from({ length: lanes }, () => [] as { lba: number; count: number; opcode: number }[]);
      for (const c of [...writes, ...reads, ...mixed]) {
        if (c.opcode === UserOpcode.FLUSH) want.forEach((w) => w.push({ lba: c.lba, count: c.count, opcode: c.opcode }));
        else for (const sub of subsOf(lanes, c.lba, c.count)) want[sub.lane].push({ lba: sub.lba, count: sub.count, opcode: c.opcode });
      }
      out.lanes.forEach((lane, l) => expect(lane.received.map((c) => ({ lba: c.lba, count: c.count, opcode: c.opcode })), `lane ${l}`).toEqual(want[l]));
      expect(out.maxHeld).toBeLessThanOrEqual(MAX_OUTSTANDING);
      // Every lane saw sub-commands within one stripe, and flushes reached every lane.
      for (const lane of out.lanes) {
        for (const c of lane.received) if (c.opcode !== UserOpcode.FLUSH) expect(Math.floor(c.lba / B), `lane ${lane.index} lba ${c.lba} + ${c.count}`).toBe(Math.floor((c.lba + c.count - 1) / B));
        expect(lane.received.filter((c) => c.opcode === UserOpcode.FLUSH).length).toBe(mixed.filter((c) => c.opcode === UserOpcode.FLUSH).length);
      }
      expect(out.lanes.every((l) => l.received.length > 0)).toBe(true);
    }
    expect(out.mismatches).toEqual([]);
  });

  it.each([2, 4])("refuses past the capacity, count 0, bad opcodes, atomic writes across a stripe; pads short and cuts long write streams (%i lanes)", async (lanes) => {
    const sim = await build(lanes);
    const capacities = [700, 640, 900, 800].slice(0, lanes);
    const cap = lanes * (640 - (640 % B));
    const mk = (index: number, opcode: number, lba: number, count: number, extra: Partial<UserCommand> = {}): UserCommand => ({ index, opcode, lba, count, tag: index, atomic: false, sendBeats: opcode === UserOpcode.WRITE ? count * BEATS_PER_BLOCK : 0, ...extra });
    const commands = [
      mk(1, UserOpcode.WRITE, 3, 2 * B),
      mk(2, UserOpcode.WRITE, cap - 2, 3, { expect: UserErrorClass.BAD_REQUEST }),
      mk(3, UserOpcode.READ, cap - 1, 2, { expect: UserErrorClass.BAD_REQUEST }),
      mk(4, UserOpcode.WRITE, cap - 3, 3),
      mk(5, UserOpcode.READ, cap - 3, 3),
      mk(6, UserOpcode.READ, 5, 0, { expect: UserErrorClass.BAD_REQUEST }),
      mk(7, 6, 5, 1, { expect: UserErrorClass.BAD_REQUEST }),
      mk(8, UserOpcode.WRITE, B + 1, B - 1, { atomic: true }),
      mk(9, UserOpcode.WRITE, B + 2, B, { atomic: true, expect: UserErrorClass.NOT_ATOMIC }),
      mk(10, UserOpcode.READ, B, 2 * B),
      mk(11, UserOpcode.WRITE, 2 * B + 3, B + 2, { sendBeats: 3 * BEATS_PER_BLOCK - 5, expect: UserErrorClass.BAD_REQUEST }),
      mk(12, UserOpcode.WRITE, 4 * B + 3, B + 2, { sendBeats: (B + 2) * BEATS_PER_BLOCK + 7, expect: UserErrorClass.BAD_REQUEST }),
      mk(13, UserOpcode.READ, 2 * B + 3, B + 2),
      mk(14, UserOpcode.READ, 0, 6 * B),
    ];
    // Writes that are refused before their data still have it consumed; count-0 writes send one beat.
    const out = run(sim, params(lanes), { lanes, capacities, commands, seed: 7 + lanes });
    expect(out.capacity).toBe(BigInt(cap));
    expect(out.classes).toEqual(commands.map((c) => c.expect ?? UserErrorClass.NONE));
    // Nothing of the refused commands reached a lane; the atomic write inside a stripe kept its flag.
    for (const lane of out.lanes) expect(lane.received.filter((c) => c.lba + c.count > capacities[lane.index])).toEqual([]);
    const all = out.lanes.flatMap((l) => l.received);
    expect(all.filter((c) => c.atomic).map((c) => c.count)).toEqual([B - 1]);
    // The short stream (command 11) reached its lanes padded with zeros: its last 5 beats of block 2 and all of the rest.
    const padded = out.lanes.flatMap((l) => l.received.filter((c) => c.opcode === UserOpcode.WRITE).map((c) => ({ lane: l, c })));
    void padded;
  });

  it("a lane failing mid-run: commands touching it complete MEMBER_FAILED (reads deliver zeros), the others succeed with correct data", async () => {
    const lanes = 4;
    const sim = await build(lanes);
    const seed = engine === "js" ? 41 : 42;
    const writes = randomCommands(seed, 12, 0, 8 * B * lanes, "write");
    const reads = writes.map((w, i): UserCommand => ({ ...w, index: 100 + i, tag: (100 + i) & 0xff, opcode: UserOpcode.READ }));
    const mixed = randomCommands(seed + 1, 16, 0, 8 * B * lanes, "mixed", 200);
    const commands = [...writes, ...reads, ...mixed];
    const failAt = 19;
    const out = run(sim, params(lanes), { lanes, capacities: [4000, 4000, 4000, 4000], commands, failLane: { lane: 2, afterCommands: failAt }, speeds: [1, 1, 0.15, 1], seed });
    let memberFailed = 0;
    let healthyAfter = 0;
    commands.forEach((c, i) => {
      const touches = c.opcode === UserOpcode.FLUSH || lanesOf(lanes, c.lba, c.count).has(2);
      const cls = out.classes[i];
      if (i < failAt - MAX_OUTSTANDING - 3) expect(cls, `command ${i} before the failure`).toBe(UserErrorClass.NONE);
      else if (!touches) expect(cls, `command ${i} on healthy lanes`).toBe(UserErrorClass.NONE);
      else expect([UserErrorClass.MEMBER_FAILED, UserErrorClass.NONE], `command ${i} touching lane 2`).toContain(cls);
      if (i > failAt + 4 && touches) expect(cls, `command ${i} long after the failure`).toBe(UserErrorClass.MEMBER_FAILED);
      if (cls === UserErrorClass.MEMBER_FAILED) {
        memberFailed++;
        expect(out.statuses[i]).toBe(2);
      }
      if (i > failAt + 4 && !touches) healthyAfter++;
    });
    // Commands it held when it failed (the lane answered NOT_READY) completed MEMBER_FAILED too, their reads with all their bytes.
    expect(out.lanes[2].received.filter((c) => c.broken && !c.refused).length).toBeGreaterThan(0);
    expect(memberFailed).toBeGreaterThan(5);
    expect(healthyAfter).toBeGreaterThan(3);
  });

  it("a lane that refuses read sub-commands (no data): those reads deliver zeros for them and complete MEMBER_FAILED naming it, the rest is intact", async () => {
    const lanes = 2;
    const sim = await build(lanes);
    const seed = engine === "js" ? 51 : 52;
    const writes = randomCommands(seed, 8, 0, 6 * B * lanes, "write");
    const reads = writes.map((w, i): UserCommand => ({ ...w, index: 100 + i, tag: (100 + i) & 0xff, opcode: UserOpcode.READ }));
    const commands = [...writes, ...reads, ...reads.map((r, i) => ({ ...r, index: 200 + i, tag: (200 + i) & 0xff }))];
    const out = run(sim, params(lanes), { lanes, capacities: [1000, 1000], commands, refuseReads: { lane: 1, reads: [1, 2, 5] }, seed });
    expect(out.mismatches).toEqual([]);
    const refused = out.lanes[1].received.filter((c) => c.refused).length;
    expect(refused).toBe(3);
    const failed = out.classes.flatMap((c, i) => (c === UserErrorClass.MEMBER_FAILED ? [out.statuses[i]] : []));
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(3);
    expect(failed.every((lane) => lane === 1)).toBe(true);
    expect(out.classes.filter((c) => c !== UserErrorClass.NONE && c !== UserErrorClass.MEMBER_FAILED)).toEqual([]);
  });

  it.each([10, 12])("cuts at the stripes of the members' LBA size (lba_shift %i): write zeroes and deallocate, capacity", async (shift) => {
    const lanes = 4;
    const sim = await build(lanes);
    const stripeBlocks = STRIPE_BYTES >> shift;
    const random = seededRandom(shift);
    const commands = Array.from({ length: 12 }, (_, i): UserCommand => {
      const count = 1 + Math.floor(random() * 5 * stripeBlocks);
      return { index: i + 1, opcode: i & 1 ? UserOpcode.DEALLOCATE : UserOpcode.WRITE_ZEROES, lba: Math.floor(random() * 50), count, tag: i + 1, atomic: false, sendBeats: 0 };
    });
    const capacities = [1001, 1003, 999, 1002];
    const out = run(sim, params(lanes), { lanes, capacities, commands, laneShifts: [shift, shift, shift, shift], seed: shift });
    expect(out.classes.every((c) => c === UserErrorClass.NONE)).toBe(true);
    expect(out.capacity).toBe(BigInt(lanes * (999 - (999 % stripeBlocks))));
    const want = Array.from({ length: lanes }, () => [] as { lba: number; count: number }[]);
    for (const c of commands) for (const sub of subsOf(lanes, c.lba, c.count, stripeBlocks)) want[sub.lane].push({ lba: sub.lba, count: sub.count });
    out.lanes.forEach((lane, l) => expect(lane.received.map((c) => ({ lba: c.lba, count: c.count })), `lane ${l}`).toEqual(want[l]));
  });

  it("refuses to run with members of different LBA sizes (NOT_READY, write data consumed)", async () => {
    const sim = await build(2);
    const commands: UserCommand[] = [
      { index: 1, opcode: UserOpcode.WRITE, lba: 0, count: 2, tag: 1, atomic: false, sendBeats: 2 * BEATS_PER_BLOCK, expect: UserErrorClass.NOT_READY },
      { index: 2, opcode: UserOpcode.READ, lba: 0, count: 2, tag: 2, atomic: false, sendBeats: 0, expect: UserErrorClass.NOT_READY },
    ];
    const out = run(sim, params(2), { lanes: 2, capacities: [1000, 1000], commands, laneShifts: [9, 12], seed: 3 });
    expect(out.configOk).toBe(0);
    expect(out.classes).toEqual([UserErrorClass.NOT_READY, UserErrorClass.NOT_READY]);
    expect(out.lanes.flatMap((l) => l.received)).toEqual([]);
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => userPortStriper({ ...params(2), lanes: 3 })).toThrow(/lanes 3/);
    expect(() => userPortStriper({ ...params(2), stripeBytes: 3000 })).toThrow(/stripeBytes 3000/);
    expect(() => userPortStriper({ ...params(2), stripeBytes: 2048 })).toThrow(/stripeBytes 2048/);
    expect(() => userPortStriper({ ...params(2), maxOutstanding: 0 })).toThrow(/maxOutstanding 0/);
    expect(() => userPortStriper({ ...params(2), tagBits: 17 })).toThrow(/tagBits 17/);
    expect(striperLaneTagBits(params(4))).toBeLessThanOrEqual(16);
  });
});
