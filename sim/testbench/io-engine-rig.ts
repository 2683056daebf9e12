// A stand-in for everything around io_engine (rtl-src/nvme/io-engine.ts), at its ports, for its
// tests: the user (commands in, completions and read-outs taken with random back-pressure), the
// write buffer (expects taken, data "stored" at a few bytes a cycle into `write_fill_pointer`,
// `write_landed` verdicts, releases checked), the read buffer (read-outs checked, bytes released
// back in random pieces), the queue server (slot records, SQ entries and buffer bases recorded), the
// access port (doorbells checked and answered), and an SSD that fetches the entries the SQ tail
// doorbell publishes and completes them out of order, writing CQ entries as the SSD's memory writes
// (phase tags, wrap, one or two entries per write, or an entry split over two writes).
//
// Everything the engine does is checked against a model of the rules as it happens
// (`failures` collects what broke; `check()` throws with the first few): every slot record is the
// next expected piece (opcode, NSID, SLBA, NLB, bytes, FUA), in a slot not in flight, with its SQ
// entry at the next SQ index and its buffer base at the piece's place in its ring; the SQ never
// holds more than N - 1 entries past the head the SSD last reported; each doorbell lands at
// BAR0 + 0x1000 + (2 or 3) x (4 << DSTRD) with a tail (head) past the last and no further than what
// was written (consumed); read-outs and write releases come in piece order with the right bases and
// sizes; completions come once per command, in acceptance order, with the expected class and status.
import { UserErrorClass, UserOpcode } from "../../rtl-src/user/user-port.ts";
import { NvmIoOpcode } from "../../rtl-src/nvme/io-interfaces.ts";
import type { IoEngineParams } from "../../rtl-src/nvme/io-engine.ts";
import { AtomicBoundary } from "../../rtl-src/nvme/admin-bringup.ts";
import { HostMemoryMap } from "../../rtl-src/hostmem/host-memory-map.ts";
import { doorbellOffset } from "../../rtl-src/nvme/nvme-registers.ts";
import { AccessKind } from "../../rtl-src/pcie/pcie-access.ts";
import { CompletionStatus } from "../../rtl-src/tlp/tlp-interfaces.ts";
import type { SignalHandle, Simulator } from "../engine/index.ts";

export interface IoRuntime {
  ready: boolean;
  bar0: number;
  dstrd: number;
  queueEntries: number;
  lbaShift: number;
  mdts: number;
  capacityBlocks: bigint;
  namespaceCount: number;
  /** The power-fail atomic unit in blocks (default 1). */
  atomicBlocks?: number;
  /** admin_bringup's AtomicBoundary (default NONE) and, for MASK, NABSPF. */
  atomicBoundary?: number;
  atomicBoundaryMask?: number;
}

export interface UserCommand {
  opcode: number;
  nsid: number;
  lba: bigint;
  blockCount: number;
  tag: number;
  fua?: number;
  /** The user port's atomic flag. */
  atomic?: number;
}

/** What the SSD and the buffers do with one command (defaults: success everywhere). */
export interface CommandPlan {
  /** NVMe Status Field (15 bits, no phase) per piece; missing = 0. */
  statuses?: number[];
  /** Pieces whose completion never comes. */
  drop?: number[];
  /** Pieces whose read data comes poisoned (slot_poisoned before the completion). */
  poison?: number[];
  /** The write buffer's verdict on the data's length (default true). */
  lengthOk?: boolean;
}

export interface ExpectedPiece {
  opcode: number;
  nsid: number;
  slba: bigint;
  blocks: number;
  bytes: number;
  fua: number;
  /** Its place in its buffer ring (read or write), counted from reset, in bytes (unwrapped). */
  ringOffset: number;
  command: number;
  index: number;
  last: boolean;
  /** The SSD wrote its completion entry. */
  cqeSent?: boolean;
}

export interface CommandRecord {
  index: number;
  cmd: UserCommand;
  plan: CommandPlan;
  /** The refusal the model predicts (NONE when it should reach the SSD). */
  refusal: number;
  pieces: ExpectedPiece[];
  acceptedAt: number;
  completion?: { errorClass: number; status: number; cycle: number };
}

export interface RigOptions {
  /** Random back-pressure: probability each cycle that the rig is ready (user completion, read-out, expect, landed, access). */
  readyProbability?: number;
  /** SSD completion delay after the fetch, in cycles (uniform in [min, max]). */
  completionDelay?: [number, number];
  /** Access port answer delay, in cycles. */
  accessDelay?: [number, number];
  /** Bytes the write buffer stores per cycle at most. */
  fillRate?: number;
  /** Cycles between command offers (random gaps up to this). */
  commandGap?: number;
}

const BAD = UserErrorClass.BAD_REQUEST;
const NONE = UserErrorClass.NONE;
const FILL_POINTER_MODULO = 2 ** 21;
const WRITE_ZEROES_MAX = 65536;
const CQ_BASE = HostMemoryMap.ioCq.base;

const nvmOpcodeOf: Record<number, number> = {
  [UserOpcode.READ]: NvmIoOpcode.READ,
  [UserOpcode.WRITE]: NvmIoOpcode.WRITE,
  [UserOpcode.FLUSH]: NvmIoOpcode.FLUSH,
  [UserOpcode.WRITE_ZEROES]: NvmIoOpcode.WRITE_ZEROES,
  [UserOpcode.DEALLOCATE]: NvmIoOpcode.DATASET_MANAGEMENT,
};

/** The engine's validation rules, as the issue states them (NOT_READY aside); `p` for atomic writes (the piece limit). */
export function predictedRefusal(cmd: UserCommand, rt: IoRuntime, p?: IoEngineParams): number {
  if (cmd.opcode > UserOpcode.DEALLOCATE) return BAD;
  if (cmd.blockCount === 0 && cmd.opcode !== UserOpcode.FLUSH) return BAD;
  if (cmd.nsid === 0) return BAD;
  if (cmd.nsid > rt.namespaceCount && !(cmd.opcode === UserOpcode.FLUSH && cmd.nsid === 0xffff_ffff)) return BAD;
  if (cmd.nsid === 1 && cmd.opcode !== UserOpcode.FLUSH && cmd.lba + BigInt(cmd.blockCount) > rt.capacityBlocks) return BAD;
  if (cmd.atomic && cmd.opcode === UserOpcode.WRITE && p && !atomicWriteFits(cmd, p, rt)) return UserErrorClass.NOT_ATOMIC;
  return NONE;
}

/**
 * An atomic write the engine sends: one piece (at most the piece limit), at most the atomic unit, and
 * across no atomic boundary (boundaries at multiples of NABSPF + 1 for MASK, between any two blocks
 * for SINGLE_BLOCK).
 */
export function atomicWriteFits(cmd: UserCommand, p: IoEngineParams, rt: IoRuntime): boolean {
  const n = cmd.blockCount;
  if (n > pieceLimitBlocks(p, rt) || n > (rt.atomicBlocks ?? 1)) return false;
  const mode = rt.atomicBoundary ?? AtomicBoundary.NONE;
  if (mode === AtomicBoundary.SINGLE_BLOCK) return n === 1;
  if (mode !== AtomicBoundary.MASK) return true;
  const size = BigInt((rt.atomicBoundaryMask ?? 0) + 1);
  return cmd.lba / size === (cmd.lba + BigInt(n) - 1n) / size;
}

/** Largest read/write piece in blocks: min(maxPieceBytes, 4 KiB << MDTS) / LBA size. */
export function pieceLimitBlocks(p: IoEngineParams, rt: IoRuntime): number {
  const mdtsBytes = rt.mdts === 0 ? Infinity : 4096 * 2 ** rt.mdts;
  return Math.min(p.maxPieceBytes, mdtsBytes) / 2 ** rt.lbaShift;
}

/**
 * The pieces the engine must cut `cmd` into (ring offsets left at 0): reads and writes end at
 * multiples of the piece limit (only the first may start unaligned), an atomic write is one piece
 * from its start, write zeroes are pieces of 65536 blocks from the command's start.
 */
export function expectedPieces(cmd: UserCommand, p: IoEngineParams, rt: IoRuntime, command = 0): ExpectedPiece[] {
  const opcode = nvmOpcodeOf[cmd.opcode];
  const piece = (slba: bigint, blocks: number, bytes: number, fua: number, index: number, last: boolean): ExpectedPiece => ({
    opcode, nsid: cmd.nsid, slba, blocks, bytes, fua, ringOffset: 0, command, index, last,
  });
  const fua = cmd.fua ?? 0;
  if (cmd.opcode === UserOpcode.FLUSH) return [piece(cmd.lba, 0, 0, 0, 0, true)];
  if (cmd.opcode === UserOpcode.DEALLOCATE) return [piece(cmd.lba, cmd.blockCount, 0, 0, 0, true)];
  const limit = cmd.opcode === UserOpcode.WRITE_ZEROES ? WRITE_ZEROES_MAX : pieceLimitBlocks(p, rt);
  const pieces: ExpectedPiece[] = [];
  let left = cmd.blockCount;
  let lba = cmd.lba;
  const aligned = cmd.opcode !== UserOpcode.WRITE_ZEROES && !(cmd.atomic && cmd.opcode === UserOpcode.WRITE);
  while (left > 0) {
    const blocks = Math.min(left, aligned ? limit - Number(lba % BigInt(limit)) : limit);
    left -= blocks;
    const bytes = cmd.opcode === UserOpcode.WRITE_ZEROES ? 0 : blocks * 2 ** rt.lbaShift;
    pieces.push(piece(lba, blocks, bytes, fua, pieces.length, left === 0));
    lba += BigInt(blocks);
  }
  return pieces;
}

interface Submitted {
  piece: ExpectedPiece;
  slot: number;
  sqCount: number;
}

interface PendingCompletion {
  slot: number;
  due: number;
  status: number;
  poison: boolean;
  poisoned: boolean;
}

interface CqWrite {
  dw: number;
  dws: number[];
  poisoned: boolean;
  /** Slots whose completion this write finishes (the entry's DW3 is in it). */
  finishes: number[];
  /** The SQ head (a count) the entries report. */
  sqHead: number;
}

const randomIn = (random: () => number, [lo, hi]: [number, number]) => lo + Math.floor(random() * (hi - lo + 1));

export class IoEngineRig {
  readonly failures: string[] = [];
  readonly commands: CommandRecord[] = [];
  /** Commands still to offer. */
  private readonly toSend: { cmd: UserCommand; plan: CommandPlan; refusal?: number }[] = [];
  private offerGap = 0;
  private payloadPoked = false;
  private cycleCount = 0;
  // Pieces, in order.
  private readonly expectedSubmissions: ExpectedPiece[] = [];
  private submittedCount = 0;
  private readonly expectedReadOuts: ExpectedPiece[] = [];
  private readOutCount = 0;
  private readonly expectedReleases: ExpectedPiece[] = [];
  private releaseCount = 0;
  private readonly expectedExpects: CommandRecord[] = [];
  private expectCount = 0;
  private completionCount = 0;
  private readRingBytes = 0;
  private writeRingBytes = 0;
  // The write buffer.
  private fillBytes = 0;
  private expectedDataBytes = 0;
  private writeReleasedBytes = 0;
  private readonly landedQueue: { dataEnd: number; drop: boolean; lengthOk: boolean; readyAt: number }[] = [];
  private landedOffered = false;
  // The read buffer.
  private readonly readReleases: { at: number; bytes: number }[] = [];
  // Slots and queues.
  private readonly inFlight = new Map<number, Submitted>();
  private readonly sqTable: (number | undefined)[] = [];
  private sqWritten = 0;
  private ssdSqTail = 0;
  private reportedSqHead = 0;
  private cqPosted = 0;
  private cqAcked = 0;
  private readonly pending: PendingCompletion[] = [];
  private cqCurrent: { write: CqWrite; headerSent: boolean; at: number } | undefined;
  private readonly cqQueue: CqWrite[] = [];
  private poisonStrobe: number | undefined;
  // Access port.
  private accessAnswer: { at: number; status: number } | undefined;
  readonly doorbells: { kind: "sq" | "cq"; value: number; cycle: number }[] = [];
  readonly failDoorbells: number[] = [];
  /** Set by a test to stop the SSD from completing anything for a while. */
  ssdPaused = false;
  /** Set by a test to stop the user from taking completions and read-outs for a while. */
  userPaused = false;
  private readonly words = new Uint32Array(4);
  private readonly h: Record<string, SignalHandle>;
  private readonly sqEntries: number;

  constructor(
    readonly sim: Simulator,
    readonly params: IoEngineParams,
    readonly rt: IoRuntime,
    private readonly random: () => number,
    readonly options: RigOptions = {},
  ) {
    const names = [
      "user_command_valid", "user_command_ready", "user_completion_valid", "user_completion_ready", "user_completion_tag", "user_completion_error_class", "user_completion_status",
      "slot_record_valid", "slot_record_slot", "slot_record_opcode", "slot_record_nsid", "slot_record_blocks", "slot_record_bytes", "slot_record_fua",
      "sq_entry_valid", "sq_entry_index", "sq_entry_slot", "write_slot_base_valid", "write_slot_base_slot", "write_slot_base_base",
      "read_slot_base_valid", "read_slot_base_slot", "read_slot_base_base", "write_expect_valid", "write_expect_ready", "write_expect_drop",
      "write_landed_valid", "write_landed_ready", "write_landed_length_ok", "write_fill_pointer", "write_release_valid", "write_release_bytes",
      "read_out_valid", "read_out_ready", "read_out_base", "read_out_bytes", "read_out_tag", "read_out_last", "read_release_valid", "read_release_bytes",
      "slot_poisoned_valid", "slot_poisoned_slot", "access_request_valid", "access_request_ready", "access_request_kind", "access_request_address",
      "access_request_data", "access_request_byte_en", "access_response_valid", "access_response_ready", "access_response_status",
      "cq_write_valid", "cq_write_ready", "cq_write_data_tvalid", "cq_write_data_tready", "cq_write_data_tkeep", "cq_write_data_tlast", "ready",
    ];
    this.h = Object.fromEntries(names.map((n) => [n, sim.signal(n)]));
    this.sqEntries = rt.queueEntries;
    sim.reset(2);
    for (const name of ["user_command_valid", "user_completion_ready", "write_expect_ready", "write_landed_valid", "read_out_ready", "read_release_valid", "slot_poisoned_valid",
      "access_request_ready", "access_response_valid", "cq_write_valid", "cq_write_data_tvalid", "reset_queues", "write_fill_pointer"]) sim.poke(name, 0);
    sim.poke("access_response_data", 0);
    sim.poke("access_response_timed_out", 0);
    sim.poke("access_response_poisoned", 0);
    this.applyRuntime();
  }

  get cycle(): number {
    return this.cycleCount;
  }

  /** Writes the runtime inputs (call after changing `rt`). */
  applyRuntime(): void {
    const { sim, rt } = this;
    sim.poke("ready", rt.ready ? 1 : 0);
    sim.poke("bar0_address", rt.bar0);
    sim.poke("dstrd", rt.dstrd);
    sim.poke("queue_entries", rt.queueEntries);
    sim.poke("lba_shift", rt.lbaShift);
    sim.poke("mdts", rt.mdts);
    sim.poke("capacity_blocks", rt.capacityBlocks);
    sim.poke("namespace_count", rt.namespaceCount);
    sim.poke("atomic_blocks", rt.atomicBlocks ?? 1);
    sim.poke("atomic_boundary", rt.atomicBoundary ?? AtomicBoundary.NONE);
    sim.poke("atomic_boundary_mask", rt.atomicBoundaryMask ?? 0);
  }

  fail(message: string): void {
    if (this.failures.length < 50) this.failures.push(`cycle ${this.cycleCount}: ${message}`);
  }

  check(): void {
    if (this.failures.length > 0) throw new Error(`io_engine rig: ${this.failures.length} failures:\n${this.failures.slice(0, 8).join("\n")}`);
  }

  /** Queue a command to offer (in order). `refusal` overrides the model's prediction (NOT_READY cases). */
  send(cmd: UserCommand, plan: CommandPlan = {}, refusal?: number): void {
    this.toSend.push({ cmd, plan, refusal });
  }

  /**
   * Restart the queues (a reset_queues pulse), as the core does after a controller enable: the SSD
   * forgets its queues, and pieces of earlier commands that never reached it never will.
   */
  resetQueues(): void {
    this.pending.length = 0;
    this.cqQueue.length = 0;
    while (this.cqCurrent) this.step();
    this.sim.poke("reset_queues", 1);
    this.step();
    this.sim.poke("reset_queues", 0);
    this.expectedSubmissions.splice(this.submittedCount);
    this.sqTable.length = 0;
    this.sqWritten = 0;
    this.ssdSqTail = 0;
    this.reportedSqHead = 0;
    this.cqPosted = 0;
    this.cqAcked = 0;
    this.pending.length = 0;
    this.inFlight.clear();
  }

  step(cycles = 1): void {
    for (let n = 0; n < cycles; n++) {
      this.userSide();
      this.writeBuffer();
      this.readBuffer();
      this.strobes();
      this.accessPort();
      this.ssd();
      this.sim.step();
      this.cycleCount++;
    }
  }

  /** Steps until every command sent has completed, or throws after `max` cycles. */
  runUntilDone(max: number): number {
    const start = this.cycleCount;
    while (this.toSend.length > 0 || this.completionCount < this.commands.length) {
      if (this.cycleCount - start > max) {
        throw new Error(`io_engine rig: ${this.commands.length - this.completionCount} of ${this.commands.length} commands not complete after ${max} cycles (${this.toSend.length} not sent); failures: ${this.failures.slice(0, 4).join("; ")}`);
      }
      this.step();
    }
    return this.cycleCount - start;
  }

  /** Runs `cycles` more (letting doorbells and releases settle). */
  settle(cycles = 200): void {
    this.step(cycles);
  }

  get completed(): number {
    return this.completionCount;
  }

  get outstandingSsd(): number {
    return this.inFlight.size;
  }

  // ---- the user ----
  private userSide(): void {
    const { sim, h } = this;
    // Commands.
    const next = this.toSend[0];
    let offer = false;
    if (next) {
      if (this.offerGap > 0) this.offerGap--;
      else offer = true;
    }
    if (offer && !this.payloadPoked) {
      this.payloadPoked = true;
      sim.poke("user_command_opcode", next.cmd.opcode);
      sim.poke("user_command_nsid", next.cmd.nsid >>> 0);
      sim.poke("user_command_lba", next.cmd.lba);
      sim.poke("user_command_block_count", next.cmd.blockCount >>> 0);
      sim.poke("user_command_tag", next.cmd.tag);
      sim.poke("user_command_fua", next.cmd.fua ?? 0);
      sim.poke("user_command_atomic", next.cmd.atomic ?? 0);
    }
    sim.poke(h.user_command_valid, offer ? 1 : 0);
    if (offer && sim.peek(h.user_command_ready) === 1) {
      this.accepted(this.toSend.shift()!);
      this.payloadPoked = false;
    }

    // Completions.
    const take = !this.userPaused && this.random() < (this.options.readyProbability ?? 0.7);
    sim.poke(h.user_completion_ready, take ? 1 : 0);
    if (take && sim.peek(h.user_completion_valid) === 1) {
      const got = { tag: sim.peek(h.user_completion_tag), errorClass: sim.peek(h.user_completion_error_class), status: sim.peek(h.user_completion_status) };
      const record = this.commands[this.completionCount];
      if (!record) this.fail(`a completion (tag ${got.tag}) with no command outstanding`);
      else {
        if (got.tag !== record.cmd.tag) this.fail(`completion ${this.completionCount}: tag ${got.tag}, expected ${record.cmd.tag} (out of order?)`);
        record.completion = { errorClass: got.errorClass, status: got.status, cycle: this.cycleCount };
        // A command the SSD finished completes only after every piece's completion entry.
        const finishedClass = got.errorClass === NONE || got.errorClass === UserErrorClass.NVME_STATUS || got.errorClass === BAD;
        if (record.refusal === NONE && finishedClass && record.pieces.some((pc) => !pc.cqeSent)) this.fail(`command ${record.index} completed (class ${got.errorClass}) before the SSD completed all its pieces`);
        // A read's completion follows its last read-out.
        const reads = record.pieces.filter((pc) => pc.opcode === NvmIoOpcode.READ && record.refusal === NONE);
        if (reads.length > 0 && this.expectedReadOuts.indexOf(reads.at(-1)!) >= this.readOutCount) this.fail(`command ${record.index}: completion before its read-out`);
      }
      this.completionCount++;
    }
  }

  private accepted(entry: { cmd: UserCommand; plan: CommandPlan; refusal?: number }): void {
    const index = this.commands.length;
    const refusal = entry.refusal ?? predictedRefusal(entry.cmd, this.rt, this.params);
    const pieces = refusal === NONE ? expectedPieces(entry.cmd, this.params, this.rt, index) : [];
    for (const piece of pieces) {
      if (piece.opcode === NvmIoOpcode.READ) {
        piece.ringOffset = this.readRingBytes;
        this.readRingBytes += piece.bytes;
        this.expectedReadOuts.push(piece);
      } else if (piece.opcode === NvmIoOpcode.WRITE) {
        piece.ringOffset = this.writeRingBytes;
        this.writeRingBytes += piece.bytes;
        this.expectedReleases.push(piece);
      }
      this.expectedSubmissions.push(piece);
    }
    const record: CommandRecord = { index, cmd: entry.cmd, plan: entry.plan, refusal, pieces, acceptedAt: this.cycleCount };
    this.commands.push(record);
    if (entry.cmd.opcode === UserOpcode.WRITE) this.expectedExpects.push(record);
    this.offerGap = Math.floor(this.random() * ((this.options.commandGap ?? 0) + 1));
  }

  // ---- the write buffer ----
  private writeBuffer(): void {
    const { sim, h, params } = this;
    const take = this.random() < (this.options.readyProbability ?? 0.7);
    sim.poke(h.write_expect_ready, take ? 1 : 0);
    if (take && sim.peek(h.write_expect_valid) === 1) {
      const bytes = Number(sim.peekBig("write_expect_bytes"));
      const drop = sim.peek(h.write_expect_drop) === 1;
      const record = this.expectedExpects[this.expectCount++];
      if (!record) this.fail(`write_expect (${bytes} bytes) for no write command`);
      else {
        const want = record.cmd.blockCount * 2 ** this.rt.lbaShift;
        const wantDrop = record.refusal !== NONE;
        if (bytes !== want || drop !== wantDrop) this.fail(`write_expect for command ${record.index}: ${bytes} bytes drop ${drop}, expected ${want} drop ${wantDrop}`);
        if (!drop) this.expectedDataBytes += bytes;
        this.landedQueue.push({ dataEnd: this.expectedDataBytes, drop, lengthOk: record.plan.lengthOk ?? true, readyAt: this.cycleCount + 2 + Math.floor(this.random() * 6) });
      }
    }
    // Data arrives (stored bytes) while there is data owed and room in the ring.
    const room = params.writeBufferBytes - (this.fillBytes - this.writeReleasedBytes);
    const owed = this.expectedDataBytes - this.fillBytes;
    if (owed > 0 && room > 0 && this.random() < 0.8) this.fillBytes += Math.min(owed, room, this.options.fillRate ?? 8);
    sim.poke(h.write_fill_pointer, this.fillBytes % FILL_POINTER_MODULO);
    // Landed verdicts, in expect order, once the data has been taken.
    const head = this.landedQueue[0];
    const canOffer = head !== undefined && this.cycleCount >= head.readyAt && (head.drop || this.fillBytes >= head.dataEnd);
    if (canOffer && !this.landedOffered) this.landedOffered = this.random() < 0.7;
    sim.poke(h.write_landed_valid, this.landedOffered ? 1 : 0);
    if (this.landedOffered) {
      sim.poke(h.write_landed_length_ok, head!.lengthOk ? 1 : 0);
      if (sim.peek(h.write_landed_ready) === 1) {
        this.landedQueue.shift();
        this.landedOffered = false;
      }
    }
    // Releases, in write-piece order.
    if (sim.peek(h.write_release_valid) === 1) {
      const bytes = sim.peek(h.write_release_bytes);
      const piece = this.expectedReleases[this.releaseCount++];
      if (!piece) this.fail(`write_release of ${bytes} bytes with no write piece left`);
      else if (bytes !== piece.bytes) this.fail(`write_release ${this.releaseCount - 1}: ${bytes} bytes, expected ${piece.bytes} (command ${piece.command} piece ${piece.index})`);
      this.writeReleasedBytes += bytes;
      if (this.writeReleasedBytes > this.fillBytes) this.fail(`write ring released past what was stored (${this.writeReleasedBytes} > ${this.fillBytes})`);
    }
  }

  // ---- the read buffer ----
  private readBuffer(): void {
    const { sim, h, params } = this;
    const take = !this.userPaused && this.random() < (this.options.readyProbability ?? 0.7);
    sim.poke(h.read_out_ready, take ? 1 : 0);
    if (take && sim.peek(h.read_out_valid) === 1) {
      const got = { base: sim.peek(h.read_out_base), bytes: sim.peek(h.read_out_bytes), tag: sim.peek(h.read_out_tag), last: sim.peek(h.read_out_last) === 1 };
      const piece = this.expectedReadOuts[this.readOutCount++];
      if (!piece) this.fail(`read_out with no read piece left`);
      else {
        const want = { base: piece.ringOffset % params.readBufferBytes, bytes: piece.bytes, tag: this.commands[piece.command].cmd.tag, last: piece.last };
        if (JSON.stringify(got) !== JSON.stringify(want)) this.fail(`read_out ${this.readOutCount - 1}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        // The buffer streams the bytes, then frees them, maybe in several strobes.
        let left = got.bytes;
        let at = this.cycleCount + 1 + Math.floor(got.bytes / 64);
        while (left > 0) {
          const part = this.random() < 0.5 ? left : Math.min(left, 8 * (1 + Math.floor(this.random() * (left / 8))));
          this.readReleases.push({ at, bytes: part });
          left -= part;
          at += 1 + Math.floor(this.random() * 3);
        }
      }
    }
    const release = this.readReleases[0];
    const now = release !== undefined && this.cycleCount >= release.at;
    sim.poke(h.read_release_valid, now ? 1 : 0);
    if (now) {
      sim.poke(h.read_release_bytes, release.bytes);
      this.readReleasedTotal += release.bytes;
      this.readReleases.shift();
    }
  }

  // ---- the queue server's strobes ----
  private strobes(): void {
    const { sim, h } = this;
    const record = sim.peek(h.slot_record_valid) === 1;
    const entry = sim.peek(h.sq_entry_valid) === 1;
    const writeBase = sim.peek(h.write_slot_base_valid) === 1;
    const readBase = sim.peek(h.read_slot_base_valid) === 1;
    if (!record && !entry && !writeBase && !readBase) return;
    if (!record || !entry) {
      this.fail(`slot record (${record}) and SQ entry (${entry}) strobes apart`);
      return;
    }
    const slot = sim.peek(h.slot_record_slot);
    const got = {
      opcode: sim.peek(h.slot_record_opcode),
      nsid: sim.peek(h.slot_record_nsid) >>> 0,
      slba: sim.peekBig("slot_record_slba"),
      blocks: sim.peek(h.slot_record_blocks) >>> 0,
      bytes: sim.peek(h.slot_record_bytes),
      fua: sim.peek(h.slot_record_fua),
    };
    const piece = this.expectedSubmissions[this.submittedCount++];
    if (!piece) {
      this.fail(`slot record for slot ${slot} with no piece expected`);
      return;
    }
    const want = { opcode: piece.opcode, nsid: piece.nsid >>> 0, slba: piece.slba, blocks: piece.blocks, bytes: piece.bytes, fua: piece.fua };
    const show = (o: object) => JSON.stringify(o, (_, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v));
    if (show(got) !== show(want)) this.fail(`submission ${this.submittedCount - 1} (command ${piece.command} piece ${piece.index}): ${show(got)}, expected ${show(want)}`);
    if (slot >= this.params.slots) this.fail(`slot ${slot} out of range`);
    if (this.inFlight.has(slot)) this.fail(`slot ${slot} reused while in flight (command ${this.inFlight.get(slot)!.piece.command})`);
    const index = sim.peek(h.sq_entry_index);
    const entrySlot = sim.peek(h.sq_entry_slot);
    if (index !== this.sqWritten % this.sqEntries || entrySlot !== slot) this.fail(`SQ entry ${index} slot ${entrySlot}, expected index ${this.sqWritten % this.sqEntries} slot ${slot}`);
    this.sqMostAhead = Math.max(this.sqMostAhead, this.sqWritten + 1 - this.reportedSqHead);
    if (this.sqWritten + 1 - this.reportedSqHead > this.sqEntries - 1) this.fail(`SQ entry ${this.sqWritten} written past the reported head ${this.reportedSqHead} (${this.sqEntries} entries)`);
    this.sqTable[index] = slot;
    const isWrite = piece.opcode === NvmIoOpcode.WRITE;
    const isRead = piece.opcode === NvmIoOpcode.READ;
    if (writeBase !== isWrite || readBase !== isRead) this.fail(`submission ${this.submittedCount - 1}: base strobes write ${writeBase} read ${readBase} for opcode ${piece.opcode}`);
    if (isWrite) {
      const base = sim.peek(h.write_slot_base_base);
      if (sim.peek(h.write_slot_base_slot) !== slot || base !== piece.ringOffset % this.params.writeBufferBytes) this.fail(`write base ${base} slot ${sim.peek(h.write_slot_base_slot)}, expected ${piece.ringOffset % this.params.writeBufferBytes} slot ${slot}`);
      if (this.fillBytes < piece.ringOffset + piece.bytes) this.fail(`write piece submitted before its data was stored (${this.fillBytes} < ${piece.ringOffset + piece.bytes})`);
    }
    if (isRead) {
      const base = sim.peek(h.read_slot_base_base);
      if (sim.peek(h.read_slot_base_slot) !== slot || base !== piece.ringOffset % this.params.readBufferBytes) this.fail(`read base ${base} slot ${sim.peek(h.read_slot_base_slot)}, expected ${piece.ringOffset % this.params.readBufferBytes} slot ${slot}`);
      const released = this.readReleasedTotal;
      if (piece.ringOffset + piece.bytes - released > this.params.readBufferBytes) this.fail(`read piece reserved past the free read ring (${piece.ringOffset + piece.bytes} - ${released} > ${this.params.readBufferBytes})`);
    }
    this.inFlight.set(slot, { piece, slot, sqCount: this.sqWritten });
    this.sqWritten++;
  }

  private readReleasedTotal = 0;
  /** The most SQ entries the engine had written past the SQ head the SSD last reported. */
  sqMostAhead = 0;

  // ---- the access port (doorbells) ----
  private accessPort(): void {
    const { sim, h, rt } = this;
    const ready = this.accessAnswer === undefined && this.random() < (this.options.readyProbability ?? 0.7);
    sim.poke(h.access_request_ready, ready ? 1 : 0);
    if (ready && sim.peek(h.access_request_valid) === 1) {
      const address = sim.peek(h.access_request_address) >>> 0;
      const value = sim.peek(h.access_request_data) >>> 0;
      if (sim.peek(h.access_request_kind) !== AccessKind.MEM_WRITE || sim.peek(h.access_request_byte_en) !== 0xf) this.fail("a doorbell that is not a 4-byte memory write");
      const sqAddress = rt.bar0 + doorbellOffset(1, "sqTail", rt.dstrd);
      const cqAddress = rt.bar0 + doorbellOffset(1, "cqHead", rt.dstrd);
      const status = this.failDoorbells.shift() ?? CompletionStatus.SC;
      if (address === sqAddress) this.sqDoorbell(value, status === CompletionStatus.SC);
      else if (address === cqAddress) this.cqDoorbell(value, status === CompletionStatus.SC);
      else this.fail(`access to 0x${address.toString(16)}: not the SQ 1 tail (0x${sqAddress.toString(16)}) or CQ 1 head doorbell`);
      this.accessAnswer = { at: this.cycleCount + randomIn(this.random, this.options.accessDelay ?? [1, 5]), status };
    }
    const offered = this.accessAnswer !== undefined && this.cycleCount >= this.accessAnswer.at;
    sim.poke(h.access_response_valid, offered ? 1 : 0);
    if (offered) {
      sim.poke(h.access_response_status, this.accessAnswer!.status);
      if (sim.peek(h.access_response_ready) === 1) this.accessAnswer = undefined;
    }
  }

  private sqDoorbell(value: number, delivered: boolean): void {
    const n = this.sqEntries;
    if (value >= n) {
      this.fail(`SQ tail doorbell ${value} >= ${n} entries`);
      return;
    }
    const count = this.ssdSqTail + ((value - (this.ssdSqTail % n) + n) % n);
    this.doorbells.push({ kind: "sq", value, cycle: this.cycleCount });
    if (count <= this.ssdSqTail) this.fail(`SQ tail doorbell ${value} does not move the tail (${this.ssdSqTail % n})`);
    if (count > this.sqWritten) this.fail(`SQ tail doorbell ${value} publishes entries not written (${count} > ${this.sqWritten})`);
    if (!delivered) return;
    // The SSD fetches the new entries and will complete them.
    for (let c = this.ssdSqTail; c < Math.min(count, this.sqWritten); c++) {
      const slot = this.sqTable[c % n];
      const sub = slot === undefined ? undefined : this.inFlight.get(slot);
      if (!sub || sub.sqCount !== c) {
        this.fail(`SQ entry ${c % n} (count ${c}) holds slot ${slot}, not a command written there`);
        continue;
      }
      const plan = this.commands[sub.piece.command].plan;
      if (plan.drop?.includes(sub.piece.index)) continue;
      const delay = randomIn(this.random, this.options.completionDelay ?? [5, 120]);
      this.pending.push({ slot: slot!, due: this.cycleCount + delay, status: plan.statuses?.[sub.piece.index] ?? 0, poison: plan.poison?.includes(sub.piece.index) ?? false, poisoned: false });
    }
    this.ssdSqTail = count;
  }

  private cqDoorbell(value: number, delivered: boolean): void {
    const n = this.sqEntries;
    if (value >= n) {
      this.fail(`CQ head doorbell ${value} >= ${n} entries`);
      return;
    }
    const count = this.cqAcked + ((value - (this.cqAcked % n) + n) % n);
    this.doorbells.push({ kind: "cq", value, cycle: this.cycleCount });
    if (count <= this.cqAcked) this.fail(`CQ head doorbell ${value} does not move the head (${this.cqAcked % n})`);
    if (count > this.cqPosted) this.fail(`CQ head doorbell ${value} releases entries not written (${count} > ${this.cqPosted})`);
    if (delivered) this.cqAcked = count;
  }

  // ---- the SSD's completions, as memory writes to the CQ ----
  private ssd(): void {
    const { sim, h } = this;
    sim.poke(h.slot_poisoned_valid, 0);
    if (this.poisonStrobe !== undefined) {
      sim.poke(h.slot_poisoned_valid, 1);
      sim.poke(h.slot_poisoned_slot, this.poisonStrobe);
      this.poisonStrobe = undefined;
    }
    if (!this.ssdPaused && this.cqQueue.length === 0 && this.cqCurrent === undefined) {
      const due = this.pending.filter((p) => p.due <= this.cycleCount);
      const room = this.sqEntries - 1 - (this.cqPosted - this.cqAcked);
      if (due.length > 0 && room > 0) {
        const first = due[Math.floor(this.random() * due.length)];
        if (first.poison && !first.poisoned) {
          // The poisoned data write lands first; the completion a few cycles later.
          first.poisoned = true;
          first.due = this.cycleCount + 3;
          this.poisonStrobe = first.slot;
        } else {
          const batch = [first];
          const second = due.find((p) => p !== first && !p.poison);
          if (second && room > 1 && this.cqPosted % this.sqEntries !== this.sqEntries - 1 && this.random() < 0.3) batch.push(second);
          for (const p of batch) this.pending.splice(this.pending.indexOf(p), 1);
          this.writeEntries(batch);
        }
      }
    }
    this.cqPort();
  }

  private writeEntries(batch: PendingCompletion[]): void {
    const n = this.sqEntries;
    const dws: number[] = [];
    const startPosition = this.cqPosted % n;
    // Every completion reports the SSD's SQ head: all it fetched.
    const sqHead = this.ssdSqTail;
    for (const p of batch) {
      const phase = Math.floor(this.cqPosted / n) % 2 === 0 ? 1 : 0;
      dws.push(0x0dd0_0000 + p.slot, 0, ((1 << 16) | (sqHead % n)) >>> 0, ((p.status << 17) | (phase << 16) | p.slot) >>> 0);
      this.cqPosted++;
    }
    const split = batch.length === 1 && this.random() < 0.25;
    const slots = batch.map((p) => p.slot);
    if (split) {
      const cut = 1 + Math.floor(this.random() * 3);
      this.cqQueue.push({ dw: 4 * startPosition, dws: dws.slice(0, cut), poisoned: false, finishes: [], sqHead });
      this.cqQueue.push({ dw: 4 * startPosition + cut, dws: dws.slice(cut), poisoned: false, finishes: slots, sqHead });
    } else {
      this.cqQueue.push({ dw: 4 * startPosition, dws, poisoned: false, finishes: slots, sqHead });
    }
  }

  private cqPort(): void {
    const { sim, h } = this;
    if (!this.cqCurrent && this.cqQueue.length > 0) this.cqCurrent = { write: this.cqQueue.shift()!, headerSent: false, at: 0 };
    const c = this.cqCurrent;
    sim.poke(h.cq_write_valid, c && !c.headerSent ? 1 : 0);
    sim.poke(h.cq_write_data_tvalid, 0);
    if (!c) return;
    if (!c.headerSent) {
      sim.poke("cq_write_address", BigInt(CQ_BASE + 4 * c.write.dw));
      sim.poke("cq_write_length_dw", c.write.dws.length);
      sim.poke("cq_write_first_be", 0xf);
      sim.poke("cq_write_last_be", c.write.dws.length > 1 ? 0xf : 0);
      sim.poke("cq_write_poisoned", c.write.poisoned ? 1 : 0);
      if (sim.peek(h.cq_write_ready) === 1) c.headerSent = true;
      return;
    }
    const left = c.write.dws.length - c.at;
    this.words[0] = c.write.dws[c.at];
    this.words[1] = left > 1 ? c.write.dws[c.at + 1] : 0;
    sim.pokeWords("cq_write_data_tdata", this.words.subarray(0, 2));
    sim.poke(h.cq_write_data_tkeep, left > 1 ? 0xff : 0x0f);
    sim.poke(h.cq_write_data_tlast, left <= 2 ? 1 : 0);
    sim.poke(h.cq_write_data_tvalid, 1);
    if (sim.peek(h.cq_write_data_tready) === 1) {
      c.at += 2;
      if (c.at >= c.write.dws.length) {
        for (const slot of c.write.finishes) {
          const sub = this.inFlight.get(slot);
          if (sub) sub.piece.cqeSent = true;
          this.inFlight.delete(slot);
        }
        if (c.write.finishes.length > 0) this.reportedSqHead = Math.max(this.reportedSqHead, c.write.sqHead);
        this.cqCurrent = undefined;
      }
    }
  }

  /** The expected user completion of command `record` when nothing faulted. */
  static expectedCompletion(record: CommandRecord): { errorClass: number; status: number } {
    if (record.refusal !== NONE) return { errorClass: record.refusal, status: 0 };
    if (record.cmd.opcode === UserOpcode.WRITE && record.plan.lengthOk === false) return { errorClass: BAD, status: 0 };
    for (const piece of record.pieces) {
      if (record.plan.poison?.includes(piece.index)) return { errorClass: UserErrorClass.PCIE_FAULT, status: 0 };
      const status = record.plan.statuses?.[piece.index] ?? 0;
      if (status !== 0) return { errorClass: UserErrorClass.NVME_STATUS, status };
    }
    return { errorClass: NONE, status: 0 };
  }

  /** Every command completed exactly as the model says (no fault scenarios). */
  checkCompletions(): void {
    for (const record of this.commands) {
      if (!record.completion) this.fail(`command ${record.index} never completed`);
      else {
        const want = IoEngineRig.expectedCompletion(record);
        if (record.completion.errorClass !== want.errorClass || record.completion.status !== want.status) {
          this.fail(`command ${record.index} (opcode ${record.cmd.opcode}, ${record.cmd.blockCount} blocks at ${record.cmd.lba}, nsid ${record.cmd.nsid}): completed ${JSON.stringify({ errorClass: record.completion.errorClass, status: record.completion.status })}, expected ${JSON.stringify(want)}`);
        }
      }
    }
    if (this.completionCount !== this.commands.length) this.fail(`${this.completionCount} completions for ${this.commands.length} commands`);
  }

  /** Every piece went out, every read streamed, every write released. */
  checkAllPieces(): void {
    if (this.submittedCount !== this.expectedSubmissions.length) this.fail(`${this.submittedCount} pieces submitted, expected ${this.expectedSubmissions.length}`);
    if (this.readOutCount !== this.expectedReadOuts.length) this.fail(`${this.readOutCount} read-outs, expected ${this.expectedReadOuts.length}`);
    if (this.releaseCount !== this.expectedReleases.length) this.fail(`${this.releaseCount} write releases, expected ${this.expectedReleases.length}`);
    if (this.expectCount !== this.expectedExpects.length) this.fail(`${this.expectCount} write expects, expected ${this.expectedExpects.length}`);
    if (this.inFlight.size !== 0) this.fail(`${this.inFlight.size} slots still in flight at the SSD`);
  }

  get counts() {
    return { submitted: this.submittedCount, readOuts: this.readOutCount, releases: this.releaseCount, expects: this.expectCount, sqWritten: this.sqWritten, cqPosted: this.cqPosted };
  }
}
