// The I/O engine (issue 10 "Inside"): user commands in, NVMe commands out, completions back to the
// user in the order the commands were accepted. It decides; the host-memory servers answer the SSD
// from what it writes (io-interfaces.ts): a compact record per slot, the slot of each SQ entry, and
// where each slot's data lies in the write or read buffer.
//
// Four processes run side by side, each a small FSM or pipeline, linked by registers:
//
//  - Front (one user command at a time). Takes the command, checks it over a few cycles (the
//    64-bit range check is done in 11-bit steps: lba + block_count <= NSZE of namespace 1, and
//    nsid <= NN; a write flagged atomic takes one step more, see "Atomic writes"), tells the write
//    buffer how long a write's data is (`write_expect`, drop = 1 for a refused write so its data
//    is still consumed), then cuts it into pieces: reads and writes
//    into pieces of at most min(maxPieceBytes, 4 KiB << MDTS) bytes, write zeroes into pieces of at
//    most 65536 blocks, deallocate and flush one piece each. For each piece it waits (all flags
//    registered) until there is room in the piece ring, a free slot, a free SQ entry (the tail
//    never reaches the SQ head the completions report: one entry stays free) and the data: a write
//    piece's bytes stored in the write buffer (`write_fill_pointer` past them), or room reserved
//    for a read piece in the read buffer (freed by `read_release`). Then, in one cycle, it writes
//    the slot record, the slot's buffer base and the SQ entry (strobes), and the piece enters the
//    ring. A refused command (NOT_READY, BUSY while `refuse_busy` says an erase runs, BAD_REQUEST)
//    enters the ring as one piece that is already finished and never reaches the SSD. `quiet` says
//    no command is being taken, checked or cut and none is at the SSD: what an erase waits for
//    (nvme_erase raises `refuse_busy` before it looks, so a command taken meanwhile is refused).
//  - Doorbells (the access port, one access at a time). Whenever the access port is free it rings
//    the SQ 1 tail doorbell with the latest tail if entries were written since the last one, and
//    the CQ 1 head doorbell with the latest head if entries were consumed; when both are due they
//    take turns. Nothing waits for a doorbell: one doorbell covers every entry since the last.
//  - Completions. io_completion_queue (inside the engine, without a record FIFO: a record is taken
//    every cycle) parses the CQ as the SSD writes it and hands over one record per entry. As it
//    comes, the slot's piece (slot -> piece table) and a group of 8 busy/poisoned flags are looked
//    up and the SQ head taken from SQHD; the next cycle (S1) the CID (= slot) is judged in flight
//    and the slot freed; the next (S2) the piece's result (status, poisoned) is written. A CID not in
//    flight is counted (`stray_entries`) and ignored. A slot is reused only once its completion
//    came. A poisoned write's `slot_poisoned` must come before the CQ entry of its command is
//    parsed (PCIe posted writes keep their order; the read buffer's path must not lag the CQ's).
//  - Retire (in ring order = acceptance order). A piece leaves the ring once finished: a write
//    piece frees its bytes (`write_release`), a read piece streams its bytes to the user
//    (`read_out`, its base follows from the previous reads: the read ring is used in order). After
//    a command's last piece (and, for a write, the buffer's `write_landed` verdict on the data's
//    length: a wrong length is BAD_REQUEST), one `user_completion` with the first error in piece
//    order. So read data leaves in command order and a read's completion follows its read-out.
//
// Atomic writes. A write flagged `atomic` is refused NOT_ATOMIC (nothing sent, its data consumed)
// unless it is one piece (block_count <= the piece limit min(maxPieceBytes, MDTS): the count
// flags SIZE uses, which follow c_count every cycle), fits the power-fail atomic unit (`atomic_blocks`) and does not cross the
// atomic boundary (`atomic_boundary`, `atomic_boundary_mask`: admin_bringup's AtomicBoundary). An
// accepted one is therefore cut as one piece, never split. Every comparison needs only the count's
// low W bits (W = bits of the largest piece in blocks): a longer write is refused as too long
// anyway. The boundary B = mask + 1 (a power of two, boundaries at multiples of B) is crossed iff
// (lba mod B) + count > B. With the mask split at bit W - 1 into a low part lowM and a high part:
// when the high part is non-zero, a crossing needs every high-part bit of the LBA set (else the
// next boundary is more than 2^(W-1) >= count blocks away), and then, as when it is zero, it is
// crossed iff count > room = (~lba & lowM) + 1, the blocks from lba to the next multiple of
// lowM + 1. CHECK's last step (the LBA back in place, nn_chunk no longer used) stores room (all
// ones when no crossing is possible) in nn_chunk; one step more compares the count with room and
// with the unit (two short carry chains) into one flag that DECIDE turns into the refusal.
// Unflagged reads and writes are cut at multiples of the piece limit L (a power of two): a piece
// ends at the next multiple of L after its first LBA or at the command's end, so only the first
// may start unaligned. With an SSD whose atomic unit and boundary are powers of two no larger than
// L, every piece is then whole atomic units, and a piece no larger than the unit never crosses its
// boundary. Write Zeroes (pieces of 65536 blocks, the NLB limit) are cut from the command's start.
//
// Faults. The oldest piece in the ring is timed: if it is still waiting for its completion
// `ioTimeoutCycles` after it became the oldest, the engine faults with TIMEOUT (a lost completion
// is found within the timeout once every older piece has retired). A doorbell the access port
// reports failed faults it with PCIE_FAULT; so does `ready` falling, or `reset_queues`, while pieces
// are in flight or a command is being cut (the link lost, `restart`: a piece at the SSD may have run
// in part, so the command is not a refusal). While faulted nothing new reaches the SSD and no doorbell is
// rung: every piece not finished retires with the fault's class (reads still stream their bytes, so
// the user's framing holds), pieces of a command already being cut go through the ring without
// reaching the SSD, and new commands are refused NOT_READY. `reset_queues` (a pulse after every
// controller enable) restarts the queues (SQ tail, SQ head, slots; the CQ head and phase in
// io_completion_queue) as soon as the front is between commands, and ends the fault; pieces still
// in the ring from before (an epoch bit tells) retire with the fault's class. A poisoned write to
// a read window (`slot_poisoned`) fails that piece with PCIE_FAULT. A write of the SSD to an unmapped
// address (`stray_write`, a corrupted PRP: its data never reaches any read window) faults the engine
// with PCIE_FAULT, and until the restart every piece retires with the fault's class even if its CQ entry
// came (the entry of the read whose data went astray comes after that data: posted writes keep their
// order, and the router flags the stray write as its header leaves, before the entry is parsed).
//
// Buffer rings. Each ring is counted in 512-byte units (every LBA size is a multiple) modulo
// 2^(BUFFER_OFFSET_BITS + 1 - 9), so every ring comparison is a 12-bit subtraction, and the buffer
// offsets are the low bits of the counts (the buffers are powers of two).
//
// Waits. Every wait on the SSD or the link is bounded (the head timer; the access port answers or
// times out). Waits on the user are the user's: a write piece waits for its data, a read piece for
// read-buffer room the user's reading frees, the retire for the user to take read-outs and
// completions and for a write's tlast (`write_landed`).
//
// Speed. A 4 KiB read takes about 15 cycles of the front (check 7, cut 6, wait 2), the retire about
// 6; doorbells run beside them. So the engine sustains a command every ~16 cycles with an instant
// SSD (the 400 k IOPS goal is one per 625 at 250 MHz) and a 128 KiB piece costs the same.
//
// Every output is a register or a decode of registers: the strobes' payloads are the front's
// registers, stable in the strobe cycle (each register the strobe reads changes only at its end);
// `user_command.ready` and `write_landed.ready` are decodes of FSM states; the completion record's
// ready inside is a constant 1 (a record is taken every cycle).
import { C, Module, type Signal, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { ACCESS_KIND_BITS, AccessKind, pcieAccessRequest, pcieAccessResponse } from "../pcie/pcie-access.ts";
import { CPL_STATUS_SC } from "../tlp/tlp-constants.ts";
import { USER_ERROR_CLASS_BITS, USER_OPCODE_BITS, UserErrorClass, UserOpcode, userCommand, userCompletion } from "../user/user-port.ts";
import { ATOMIC_BOUNDARY_BITS, AtomicBoundary } from "./admin-bringup.ts";
import { CQ_INDEX_BITS, IO_CQ_MAX_ENTRIES, ioCompletionQueue } from "./io-completion-queue.ts";
import { judgeCompletion, slotFlagRegisters, takeOfferedSlot, updateSlotFlags } from "./io-slot-flags.ts";
import { ioSqTail } from "./io-sq-tail.ts";
import {
  BUFFER_OFFSET_BITS,
  COMMAND_BYTES_BITS,
  MAX_PIECE_BYTES_LIMIT,
  MAX_SLOTS,
  NvmIoOpcode,
  PIECE_BYTES_BITS,
  SQ_INDEX_BITS,
  WRITE_FILL_POINTER_BITS,
  bufferRelease,
  bufferSlotBase,
  readOut,
  slotPoisoned,
  slotRecordWrite,
  sqEntryWrite,
  writeExpect,
  writeLanded,
} from "./io-interfaces.ts";
import { IdentifyControllerField, IdentifyNamespaceField } from "./nvme-identify.ts";
import { CapField, doorbellOffset } from "./nvme-registers.ts";

export interface IoEngineParams {
  /** NVMe commands in flight at most (1..64): the command identifiers 0..slots-1. */
  slots: number;
  /** Width of the user's command tag. */
  tagBits: number;
  /** Write buffer size in bytes (a power of two, 64 KiB..1 MiB). */
  writeBufferBytes: number;
  /** Read buffer size in bytes (a power of two, 64 KiB..1 MiB). */
  readBufferBytes: number;
  /** Largest piece (NVMe read/write) in bytes: a power of two, 4 KiB..MAX_PIECE_BYTES_LIMIT, at most each buffer. */
  maxPieceBytes: number;
  /** Largest I/O queue the bring-up may create (queue_entries never exceeds it), 2..1024. */
  sqEntries: number;
  /** Cycles the oldest piece may wait for its completion before the engine faults with TIMEOUT. */
  ioTimeoutCycles: number;
}

/** Finished commands waiting for the user to take their completion (and for a read's data to leave). */
const COMPLETION_QUEUE_DEPTH = 4;
/** The ring counts are in units of the smallest LBA size. */
const UNIT_SHIFT = 9;
/** Bits of a ring count in units (modulo twice the largest buffer). */
const UNIT_BITS = BUFFER_OFFSET_BITS + 1 - UNIT_SHIFT;
/** LBA sizes 2^9..2^12 bytes: lba_shift - 9 in 2 bits. */
const LBA_SHIFT_MIN = 9;
const LBA_SHIFT_MAX = 12;
const LBA_SHIFT_BITS = 4;
/** Identify Controller MDTS: a byte, in units of the 4 KiB minimum page (CAP.MPSMIN = 0 assumed). */
const MDTS_BITS = 8;
const MDTS_PAGE_SHIFT = 12;
/** Write Zeroes: NLB is 16 bits, so a piece is at most 65536 blocks. */
const WRITE_ZEROES_MAX_BLOCKS = 1 << 16;
/** Status counters: 32 bits for commands and pieces, 16 for the rest (they wrap). */
const WIDE_COUNTER_BITS = 32;
const COUNTER_BITS = 16;
/**
 * The front's wide arithmetic (LBA + count vs NSZE, nsid vs NN, LBA and count after each piece)
 * runs in 11-bit steps on registers that rotate by a chunk per step: an 11-bit add with its carry
 * out is three CARRY4, so each step fits the 6 logic levels with the operand gating before it and
 * the register's input choice after it. The registers are padded to whole chunks (with zeros).
 */
const CHUNK_BITS = 11;
const chunksOf = (bits: number) => Math.ceil(bits / CHUNK_BITS);
/** 64-bit LBA (+ the carry of LBA + count): six chunks. */
const LBA_CHUNKS = chunksOf(65);
/** 32-bit counts and namespace IDs: three chunks. */
const WORD_CHUNKS = chunksOf(32);

const KIND_OTHER = 0;
const KIND_WRITE = 1;
const KIND_READ = 2;

/** The engine as the controller uses it on hardware: QD 32, 256 KiB buffers, 5 s at 250 MHz without progress. */
export const hardwareIoEngineParams: IoEngineParams = {
  slots: 32,
  tagBits: 8,
  writeBufferBytes: 256 * 1024,
  readBufferBytes: 256 * 1024,
  maxPieceBytes: 128 * 1024,
  sqEntries: 64,
  ioTimeoutCycles: 1_250_000_000,
};

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

export function checkIoEngineParams(p: IoEngineParams): void {
  const fail = (what: string) => {
    throw new RangeError(`io_engine: ${what}`);
  };
  if (!Number.isInteger(p.slots) || p.slots < 1 || p.slots > MAX_SLOTS) fail(`slots ${p.slots} is not an integer in 1..${MAX_SLOTS}`);
  if (!Number.isInteger(p.tagBits) || p.tagBits < 1 || p.tagBits > 16) fail(`tagBits ${p.tagBits} is not an integer in 1..16`);
  for (const key of ["writeBufferBytes", "readBufferBytes"] as const) {
    const bytes = p[key];
    if (!isPowerOfTwo(bytes) || bytes < 1 << 16 || bytes > 1 << BUFFER_OFFSET_BITS) fail(`${key} ${bytes} is not a power of two in 64 KiB..1 MiB`);
  }
  if (!isPowerOfTwo(p.maxPieceBytes) || p.maxPieceBytes < 4096 || p.maxPieceBytes > MAX_PIECE_BYTES_LIMIT) {
    fail(`maxPieceBytes ${p.maxPieceBytes} is not a power of two in 4096..${MAX_PIECE_BYTES_LIMIT}`);
  }
  if (p.maxPieceBytes > p.writeBufferBytes || p.maxPieceBytes > p.readBufferBytes) {
    fail(`maxPieceBytes ${p.maxPieceBytes} is larger than a buffer (write ${p.writeBufferBytes}, read ${p.readBufferBytes})`);
  }
  const maxEntries = Math.min(2 ** SQ_INDEX_BITS, IO_CQ_MAX_ENTRIES);
  if (!Number.isInteger(p.sqEntries) || p.sqEntries < 2 || p.sqEntries > maxEntries) fail(`sqEntries ${p.sqEntries} is not an integer in 2..${maxEntries}`);
  if (!Number.isInteger(p.ioTimeoutCycles) || p.ioTimeoutCycles < 1 || p.ioTimeoutCycles > 2 ** 40) fail(`ioTimeoutCycles ${p.ioTimeoutCycles} is not an integer in 1..2^40`);
}

/** `value` shifted left by `shift` (0..3, a 2-bit signal) and then by `extra`, as `width` bits. */
function shiftedBy(value: Value, shift: Value, extra: number, width: number): Value {
  const at = (k: number) => {
    const shifted = k + extra === 0 ? value : cat(value, C(0, k + extra));
    return shifted.width >= width ? shifted.trunc(width) : shifted.zext(width);
  };
  return mux(shift.bit(1), mux(shift.bit(0), at(3), at(2)), mux(shift.bit(0), at(1), at(0)));
}

/**
 * The I/O engine: validates, splits and submits user commands, rings the I/O doorbells, consumes
 * the I/O completion queue and completes the user's commands in order.
 */
export function ioEngine(p: IoEngineParams) {
  checkIoEngineParams(p);
  const kib = (bytes: number) => bytes / 1024;
  const m = new Module(
    `io_engine_s${p.slots}_t${p.tagBits}_w${kib(p.writeBufferBytes)}k_r${kib(p.readBufferBytes)}k_p${kib(p.maxPieceBytes)}k_q${p.sqEntries}_to${p.ioTimeoutCycles}`,
  );
  const slotBits = Math.max(1, bitsFor(p.slots - 1));
  const slotFlags = 2 ** slotBits;
  /** The piece ring: twice the slots (rounded up), so finished pieces waiting to retire do not hold slots back. */
  const ringBits = slotBits + 1;
  const ringEntries = 2 ** ringBits;
  const pointerBits = ringBits + 1;
  const maxPieceLog2 = Math.log2(p.maxPieceBytes);
  const pieceUnitsMaxLog2 = maxPieceLog2 - UNIT_SHIFT;
  const writeUnitsLog2 = Math.log2(p.writeBufferBytes) - UNIT_SHIFT;
  const readUnitsLog2 = Math.log2(p.readBufferBytes) - UNIT_SHIFT;
  m.parameters({ ...p, pieceRingEntries: ringEntries });

  // ---- ports ----
  /** The core is READY: the I/O queues exist. */
  const ready = m.input(1);
  /** New commands are refused NOT_READY while this is high (a shutdown runs); those in flight go on. */
  const refuse_new = m.input(1);
  /** New commands are refused BUSY while this is high (an erase runs). */
  const refuse_busy = m.input(1);
  /** The SSD's BAR0 (aligned to its size, below 4 GiB). */
  const bar0_address = m.input(32);
  /** CAP.DSTRD: the doorbell stride is 4 << dstrd bytes. */
  const dstrd = m.input(CapField.dstrd.width);
  /** Entries of I/O SQ 1 and CQ 1 as created (2..sqEntries). */
  const queue_entries = m.input(bitsFor(p.sqEntries));
  /** log2 of the LBA size of namespace 1 (9..12). */
  const lba_shift = m.input(LBA_SHIFT_BITS);
  /** Identify Controller MDTS, raw (0 = no limit): a piece is at most 4 KiB << mdts. */
  const mdts = m.input(MDTS_BITS);
  /** NSZE of namespace 1. */
  const capacity_blocks = m.input(64);
  /** Identify Controller NN: the highest namespace ID. */
  const namespace_count = m.input(32);
  /** The power-fail atomic unit in blocks, (NAWUPF or AWUPF) + 1 (admin_bringup). */
  const atomic_blocks = m.input(IdentifyControllerField.awupf.width + 1);
  /** How atomic writes meet the atomic boundary (AtomicBoundary) and, for MASK, NABSPF (boundaries every NABSPF + 1 blocks). */
  const atomic_boundary = m.input(ATOMIC_BOUNDARY_BITS);
  const atomic_boundary_mask = m.input(IdentifyNamespaceField.nabspf.width);
  /** A pulse after every controller enable: the queues start afresh (and a fault ends). */
  const reset_queues = m.input(1);
  /**
   * A pulse per memory write of the SSD to an unmapped address (the router dropped it): a corrupted
   * PRP, so some read's data may be missing. Faults the engine with PCIE_FAULT; see "Faults".
   */
  const stray_write = m.input(1);
  const user_command = m.port(userCommand(p.tagBits), "slave");
  const user_completion = m.port(userCompletion(p.tagBits), "master");
  const slot_record = m.port(slotRecordWrite, "master");
  const sq_entry = m.port(sqEntryWrite, "master");
  const write_slot_base = m.port(bufferSlotBase, "master");
  const read_slot_base = m.port(bufferSlotBase, "master");
  const write_expect = m.port(writeExpect, "master");
  const write_landed = m.port(writeLanded, "slave");
  /** Bytes the write buffer has stored, modulo 2^WRITE_FILL_POINTER_BITS (io-interfaces.ts). */
  const write_fill_pointer = m.input(WRITE_FILL_POINTER_BITS);
  const write_release = m.port(bufferRelease, "master");
  const read_out = m.port(readOut(p.tagBits), "master");
  /** The read buffer freed bytes at its ring's oldest end (after streaming them out). */
  const read_release = m.port(bufferRelease, "slave");
  const slot_poisoned = m.port(slotPoisoned, "slave");
  const access_request = m.port(pcieAccessRequest, "master");
  const access_response = m.port(pcieAccessResponse, "slave");
  // Records are taken every cycle (the completion pipeline never stalls): no record FIFO.
  const cq = m.instance(ioCompletionQueue({ entries: p.sqEntries, recordFifoDepth: 0 }), { name: "completion_queue" });
  const cq_write = m.promote(cq.ports.cq_write);
  const cq_write_data = m.promote(cq.ports.cq_write_data);
  // Status.
  const fault = m.output(1);
  const idle = m.output(1);
  /** No user command is being taken, checked or cut, and no NVMe command is at the SSD. */
  const quiet = m.output(1);
  const fault_class = m.output(USER_ERROR_CLASS_BITS);
  const in_flight = m.output(bitsFor(p.slots));
  const sq_tail = m.output(SQ_INDEX_BITS);
  const sq_head = m.output(SQ_INDEX_BITS);
  const commands_accepted = m.output(WIDE_COUNTER_BITS);
  const pieces_submitted = m.output(WIDE_COUNTER_BITS);
  const sq_doorbells = m.output(COUNTER_BITS);
  const cq_doorbells = m.output(COUNTER_BITS);
  const stray_entries = m.output(COUNTER_BITS);
  const errors_nvme_status = m.output(COUNTER_BITS);
  const errors_pcie_fault = m.output(COUNTER_BITS);
  const errors_timeout = m.output(COUNTER_BITS);
  const errors_not_ready = m.output(COUNTER_BITS);
  const errors_bad_request = m.output(COUNTER_BITS);
  const cq_head = m.promote(cq.ports.cq_head, { name: "cq_head" });
  const misplaced_entries = m.promote(cq.ports.misplaced_entries, { name: "misplaced_entries" });
  const poisoned_writes = m.promote(cq.ports.poisoned_writes, { name: "poisoned_writes" });
  m.comb(cq.ports.queue_entries, queue_entries);
  m.comb(cq.ports.reset_queues, reset_queues);

  const ERR_NONE = constant("ERR_NONE", UserErrorClass.NONE, USER_ERROR_CLASS_BITS);
  const ERR_NVME_STATUS = constant("ERR_NVME_STATUS", UserErrorClass.NVME_STATUS, USER_ERROR_CLASS_BITS);
  const ERR_PCIE_FAULT = constant("ERR_PCIE_FAULT", UserErrorClass.PCIE_FAULT, USER_ERROR_CLASS_BITS);
  const ERR_TIMEOUT = constant("ERR_TIMEOUT", UserErrorClass.TIMEOUT, USER_ERROR_CLASS_BITS);
  const ERR_NOT_READY = constant("ERR_NOT_READY", UserErrorClass.NOT_READY, USER_ERROR_CLASS_BITS);
  const ERR_BAD_REQUEST = constant("ERR_BAD_REQUEST", UserErrorClass.BAD_REQUEST, USER_ERROR_CLASS_BITS);
  const ERR_BUSY = constant("ERR_BUSY", UserErrorClass.BUSY, USER_ERROR_CLASS_BITS);
  const ERR_NOT_ATOMIC = constant("ERR_NOT_ATOMIC", UserErrorClass.NOT_ATOMIC, USER_ERROR_CLASS_BITS);

  // ---- engine-wide state ----
  const faulted = m.signal(1);
  const restart_pending = m.signal(1);
  /** Flips at every restart: a piece from an earlier epoch can no longer complete. */
  const epoch = m.signal(1);
  const restart_now = m.signal(1);
  /** The piece-result RAM is being cleared (after reset): no command is taken. */
  const clearing = m.signal(1);
  /** The oldest piece waited its whole timeout (registered: the fault follows a cycle later). */
  const head_timed_out = m.signal(1);
  const fault_timeout = m.signal(1);
  m.sync(fault_timeout, head_timed_out);
  const fault_doorbell = m.signal(1);
  /** A stray write was seen since the last restart: no piece retires as its own CQ entry says. */
  const stray = m.signal(1);

  // ---- limits, from the bring-up's findings (static while READY; registered in stages) ----
  const shift_units = m.signal(2, { resetless: true });
  m.sync(shift_units, mux(lba_shift.lt(LBA_SHIFT_MIN), C(0, 2), mux(lba_shift.gt(LBA_SHIFT_MAX), C(3, 2), lba_shift.subWrap(LBA_SHIFT_MIN).trunc(2))));
  /** log2 of the largest read/write piece in bytes: min(maxPieceBytes, 4 KiB << MDTS). */
  const limit_log2 = m.signal(5, { resetless: true });
  const mdtsCap = maxPieceLog2 - MDTS_PAGE_SHIFT;
  m.sync(limit_log2, mux(mdts.eq(0).or(mdts.ge(mdtsCap)), C(maxPieceLog2, 5), mdts.trunc(5).addWrap(MDTS_PAGE_SHIFT)));
  /** ... in blocks. */
  const limit_blocks_log2 = m.signal(4, { resetless: true });
  m.sync(limit_blocks_log2, limit_log2.subWrap(UNIT_SHIFT).subWrap(shift_units.zext(5)).trunc(4));
  const limitBlocksBits = pieceUnitsMaxLog2 + 1;
  // The piece limit L in blocks (a power of two, L <= 2^(limitBlocksBits - 1)) and the mask of the
  // count bits at or above it: each bit a comparison of limit_blocks_log2 with a constant (one LUT),
  // not a 16-way choice.
  const rw_high_mask = cat(...Array.from({ length: 32 }, (_, k) => (k >= 15 ? C(1, 1) : limit_blocks_log2.le(k))).reverse());
  /**
   * L - 1 as a mask, bit k = limit_blocks_log2 > k: registered, so SIZE's room (one LUT a bit from
   * it and the LBA, then the +1 chain into nn_chunk) has no compare before it.
   */
  const rw_limit_mask = m.signal(limitBlocksBits - 1, { resetless: true });
  m.sync(rw_limit_mask, cat(...Array.from({ length: limitBlocksBits - 1 }, (_, k) => limit_blocks_log2.gt(k)).reverse()));
  /** L itself, one-hot: bit k is set where the mask of L - 1 ends (one LUT a bit). */
  const rw_limit_blocks = cat(
    ...Array.from({ length: limitBlocksBits }, (_, k) => {
      const below: Value = k === 0 ? C(1, 1) : rw_limit_mask.bit(k - 1);
      return k === limitBlocksBits - 1 ? below : below.and(rw_limit_mask.bit(k).not());
    }).reverse(),
  );

  // The ports that refuse new commands, registered: in the array cores `ready` and the lane's
  // shutdown / erase flags arrive through logic of their own, and DECIDE's refusal (a mux chain into
  // c_refusal and the next state) must not add to it. DECIDE comes at least LBA_CHUNKS cycles after
  // a command is taken, so a refusal raised as the command is taken (nvme_erase's `running` once it
  // found the engine quiet) still reaches it.
  /** ready low or refuse_new high, a cycle ago: NOT_READY. */
  const ready_refused = m.signal(1, { reset: 1 });
  m.sync(ready_refused, ready.not().or(refuse_new));
  /** refuse_busy a cycle ago: BUSY. */
  const busy_refused = m.signal(1);
  m.sync(busy_refused, refuse_busy);

  // ---- the front: one user command at a time ----
  const front = m.fsm(["IDLE", "CHECK", "DECIDE", "EXPECT", "REFUSE", "SIZE", "BLOCKS", "UNITS", "TARGET", "WAIT", "ADVANCE"], { name: "front" });
  const uc = user_command.signals;
  const c_opcode = m.signal(USER_OPCODE_BITS, { resetless: true });
  const c_nsid = m.signal(WORD_CHUNKS * CHUNK_BITS, { resetless: true });
  const c_lba = m.signal(LBA_CHUNKS * CHUNK_BITS, { resetless: true });
  /** Blocks not yet cut into pieces. */
  const c_count = m.signal(WORD_CHUNKS * CHUNK_BITS, { resetless: true });
  const c_tag = m.signal(p.tagBits, { resetless: true });
  const c_fua = m.signal(1, { resetless: true });
  /** A write flagged atomic (the flag means nothing for other opcodes). */
  const c_atomic = m.signal(1, { resetless: true });
  /** The write is flagged atomic and would not be (set in CHECK's extra step, cleared as a command is taken). */
  const atomic_refused = m.signal(1, { resetless: true });
  const c_refusal = m.signal(USER_ERROR_CLASS_BITS, { resetless: true });
  const step = m.signal(bitsFor(LBA_CHUNKS), { resetless: true });
  const is_read = c_opcode.eq(UserOpcode.READ);
  const is_write = c_opcode.eq(UserOpcode.WRITE);
  const is_flush = c_opcode.eq(UserOpcode.FLUSH);
  const is_write_zeroes = c_opcode.eq(UserOpcode.WRITE_ZEROES);
  const is_deallocate = c_opcode.eq(UserOpcode.DEALLOCATE);
  const is_data = is_read.or(is_write);
  const refused = c_refusal.ne(ERR_NONE);

  // The checks: end = lba + count (six steps), NSZE - end and NN - nsid (only their borrows).
  const chunk_sum = m.signal(CHUNK_BITS, { resetless: true });
  const chain_carry = m.signal(1, { resetless: true });
  const chain_borrow = m.signal(1, { resetless: true });
  const nsid_borrow = m.signal(1, { resetless: true });
  const capacity_chunk = m.signal(CHUNK_BITS, { resetless: true });
  const nn_chunk = m.signal(CHUNK_BITS, { resetless: true });
  const nsid_zero = m.signal(1, { resetless: true });
  const nsid_one = m.signal(1, { resetless: true });
  const nsid_all = m.signal(1, { resetless: true });
  const count_zero = m.signal(1, { resetless: true });
  const opcode_unknown = m.signal(1, { resetless: true });
  const low = (v: Value) => v.bits(CHUNK_BITS - 1, 0);
  const rotate = (v: Signal) => cat(low(v), v.bits(v.width - 1, CHUNK_BITS));
  /** Rotated, with the low chunk replaced by `chunk` on its way to the top. */
  const rotateIn = (v: Signal, chunk: Value) => cat(chunk, v.bits(v.width - 1, CHUNK_BITS));
  /** Chunk `index` of `v` (zero-padded to whole chunks). */
  const chunkOf = (v: Value, index: Value) => {
    const chunks = chunksOf(v.width);
    const padded = v.zext(chunks * CHUNK_BITS);
    let out: Value = padded.bits(CHUNK_BITS - 1, 0);
    for (let k = 1; k < chunks; k++) out = mux(index.eq(k), padded.bits(CHUNK_BITS * (k + 1) - 1, CHUNK_BITS * k), out);
    return out;
  };
  // Operands come straight from registers (the carry chain's first LUT is its own), and the carry
  // or borrow in goes to the chain's carry input.
  /** a + b + carry_in, CHUNK_BITS + 1 bits (the top one is the carry out). */
  const addWithCarry = (a: Value, b: Value, carryIn: Value) =>
    a.zext(CHUNK_BITS + 1).addWrap(b.zext(CHUNK_BITS + 1)).addWrap(carryIn.zext(CHUNK_BITS + 1));
  /** a - b - borrow_in, CHUNK_BITS + 1 bits (the top one is the borrow out). */
  const subWithBorrow = (a: Value, b: Value, borrowIn: Value) =>
    a.zext(CHUNK_BITS + 1).subWrap(b.zext(CHUNK_BITS + 1)).subWrap(borrowIn.zext(CHUNK_BITS + 1));
  /**
   * What is added to the LBA, a chunk per step, zeros shifting in: the count (CHECK), the piece's
   * blocks (ADVANCE). From BLOCKS to the strobe it holds the piece's blocks whole.
   */
  const addend = m.signal(WORD_CHUNKS * CHUNK_BITS, { resetless: true });
  const shiftOut = (v: Signal) => cat(C(0, CHUNK_BITS), v.bits(v.width - 1, CHUNK_BITS));
  const lba_step_sum = addWithCarry(low(c_lba), low(addend), chain_carry);
  const range_step = subWithBorrow(capacity_chunk, chunk_sum, chain_borrow);
  const nsid_step = subWithBorrow(nn_chunk, low(c_nsid), nsid_borrow);

  // The piece being cut.
  const piece_units = m.signal(UNIT_BITS, { resetless: true });
  /** More is left than this piece: it is not the command's last. */
  const piece_big = m.signal(1, { resetless: true });
  const count_at_least_limit = m.signal(1, { resetless: true });
  const count_is_limit = m.signal(1, { resetless: true });
  const piece_big_now = is_data.or(is_write_zeroes).and(count_at_least_limit).and(count_is_limit.not());
  const piece_last = piece_big.not();
  const new_alloc = m.signal(UNIT_BITS, { resetless: true });
  /** The piece takes from the write ring (else the read ring): chosen in UNITS so that no opcode decode comes before TARGET's add. */
  const from_write_ring = m.signal(1, { resetless: true });
  const wait_settled = m.signal(1, { resetless: true });
  const piece_step = addWithCarry(low(c_lba), low(addend), chain_carry);
  // Is more left than one piece takes (count > limit)? In two registered halves: count >= limit,
  // and count == limit. Registered every cycle from c_count and the opcode: they are read in BLOCKS
  // (c_count has held since SIZE) and in CHECK's last step for an atomic write (CHECK leaves c_count
  // alone), never while ADVANCE rotates c_count.
  const count_word = c_count.bits(31, 0);
  m.sync(count_at_least_limit, mux(is_data, count_word.and(rw_high_mask).any(), count_word.bits(31, 16).any()));
  m.sync(count_is_limit, mux(is_data, count_word.eq(rw_limit_blocks.zext(32)), count_word.eq(WRITE_ZEROES_MAX_BLOCKS)));

  // Atomic writes (see the header): W = atomicBits, the count's bits that matter.
  const atomicBits = limitBlocksBits;
  /** Where the room waits a step: nn_chunk (free by then) when it fits, else a register of its own (pieces over 512 KiB). */
  const atomic_room = atomicBits <= CHUNK_BITS ? nn_chunk : m.signal(atomicBits, { resetless: true, name: "atomic_room" });
  const maskBits = atomic_boundary_mask.width;
  const lowBits = Math.min(atomicBits - 1, maskBits);
  const mask_applies = atomic_boundary.eq(AtomicBoundary.MASK);
  /** The boundary mask as it applies: NABSPF for MASK, 0 (every block a boundary) for SINGLE_BLOCK. */
  const maskBit = (j: number) => atomic_boundary_mask.bit(j).and(mask_applies);
  const lba_low = c_lba.bits(lowBits - 1, 0);
  const low_mask = cat(...Array.from({ length: lowBits }, (_, j) => maskBit(lowBits - 1 - j)));
  const boundary_room = lba_low.not().and(low_mask).zext(atomicBits).addWrap(1);
  const high_ones = Array.from({ length: maskBits - lowBits }, (_, i) => c_lba.bit(lowBits + i).or(maskBit(lowBits + i).not())).reduce((a, b) => a.and(b), C(1, 1) as Value);
  const crossing_possible = atomic_boundary.ne(AtomicBoundary.NONE).and(high_ones);
  const count_low = c_count.bits(atomicBits - 1, 0);
  const atomic_too_long = count_at_least_limit.and(count_is_limit.not());
  const atomic_beyond_unit = atomic_blocks.bits(atomic_blocks.width - 1, atomicBits).any().not().and(count_low.gt(atomic_blocks.bits(atomicBits - 1, 0)));
  const atomic_crosses = count_low.gt(atomic_room.bits(atomicBits - 1, 0));
  const count_step = subWithBorrow(low(c_count), low(addend), chain_borrow);

  // Aligned read/write pieces (see the header): a piece ends at the next multiple of the piece
  // limit L (a power of two), so the first may be short and the others start at multiples of L. An
  // atomic write is cut from its start (it is one piece: never split). The room to that multiple,
  // less one, is L - 1 with the LBA's bits below L cleared (one LUT a bit); SIZE (c_lba and c_count
  // in place) registers room = that + 1 and count >= room (a short carry chain), BLOCKS the piece.
  const roomBits = limitBlocksBits;
  /** The room to the next multiple of L (held in atomic_room's register, free after CHECK). */
  const piece_room = atomic_room;
  /** The count is at least the room: this piece takes the whole room. */
  const count_ge_room = m.signal(1, { resetless: true });
  const room_minus_one = cat(...Array.from({ length: roomBits - 1 }, (_, k) => rw_limit_mask.bit(k).and(c_lba.bit(k).and(c_atomic.not()).not())).reverse());
  const count_high_any = c_count.bits(c_count.width - 1, roomBits).any();
  const count_low_room = c_count.bits(roomBits - 1, 0);
  const room_held = piece_room.bits(roomBits - 1, 0);

  // Resources (registered flags, computed from registers every cycle).
  const ring_room = m.signal(1);
  // The slots: busy from the strobe until the completion, the lowest free one on offer (io-slot-flags.ts).
  const slot_flags = slotFlagRegisters(m, p.slots);
  const slot_available = slot_flags.offer.available;
  const sq_room = m.signal(1);
  const data_ok = m.signal(1);
  const wr_alloc = m.signal(UNIT_BITS);
  const rd_alloc = m.signal(UNIT_BITS);
  /** The read ring may be reserved up to here: released units + the ring's size. */
  const rd_space_end = m.signal(UNIT_BITS, { reset: 1 << readUnitsLog2 });

  /** A user command may be taken (in IDLE): the result RAM is not being cleared, no write_expect waits on c_count. */
  const command_ready = clearing.not().and(write_expect.signals.valid.not());
  /** The front takes a piece into the ring this cycle (the strobes go out in the next). */
  const issue_go = m.signal(1);
  const expect_load = m.signal(1);
  const piece_go = wait_settled.and(ring_room).and(data_ok).and(faulted.or(slot_available.and(sq_room)));

  front.body({
    IDLE: () =>
      m.If(uc.valid.and(command_ready), () => {
        m.sync(c_opcode, uc.opcode);
        m.sync(c_nsid, uc.nsid.zext(c_nsid.width));
        m.sync(c_lba, uc.lba.zext(c_lba.width));
        m.sync(c_count, uc.block_count.zext(c_count.width));
        m.sync(addend, uc.block_count.zext(addend.width));
        m.sync(c_tag, uc.tag);
        m.sync(c_fua, uc.fua);
        m.sync(c_atomic, uc.atomic.and(uc.opcode.eq(UserOpcode.WRITE)));
        m.sync(atomic_refused, 0);
        m.sync(step, 0);
        m.sync(chain_carry, 0);
        m.sync(chain_borrow, 0);
        m.sync(nsid_borrow, 0);
        front.next("CHECK");
      }),
    CHECK: () => {
      // Step k < 6 adds chunk k of lba + count (the count shifting out of `addend`); step k >= 1
      // subtracts chunk k - 1 of that sum from NSZE's, and steps 1..3 chunk k - 1 of nsid from NN's:
      // the borrows out of the top chunks say lba + count > NSZE and nsid > NN. Every rotated
      // register is back in place at the end.
      m.If(step.eq(0), () => {
        m.sync(nsid_zero, c_nsid.eq(0));
        m.sync(nsid_one, c_nsid.eq(1));
        m.sync(nsid_all, c_nsid.bits(31, 0).all());
        m.sync(count_zero, c_count.eq(0));
        m.sync(opcode_unknown, c_opcode.gt(UserOpcode.DEALLOCATE));
      });
      m.If(step.lt(LBA_CHUNKS), () => {
        m.sync(c_lba, rotate(c_lba));
        m.sync(addend, shiftOut(addend));
        m.sync(chunk_sum, lba_step_sum.trunc(CHUNK_BITS));
        m.sync(chain_carry, lba_step_sum.msb());
        m.sync(capacity_chunk, chunkOf(capacity_blocks, step));
      });
      m.If(step.lt(WORD_CHUNKS), () => m.sync(nn_chunk, chunkOf(namespace_count, step)));
      m.If(step.ne(0).and(step.le(LBA_CHUNKS)), () => m.sync(chain_borrow, range_step.msb()));
      m.If(step.ne(0).and(step.le(WORD_CHUNKS)), () => {
        m.sync(c_nsid, rotate(c_nsid));
        m.sync(nsid_borrow, nsid_step.msb());
      });
      // Atomic writes (see the header): the room to the next boundary, then the verdict one step
      // later (with the SIZE flags, which follow c_count every cycle and CHECK leaves c_count alone).
      m.If(step.eq(LBA_CHUNKS), () => m.sync(atomic_room, mux(crossing_possible, boundary_room, C(2 ** atomicBits - 1, atomicBits)).zext(atomic_room.width)));
      m.If(step.eq(LBA_CHUNKS + 1), () => m.sync(atomic_refused, c_atomic.and(atomic_too_long.or(atomic_beyond_unit).or(atomic_crosses))));
      m.sync(step, step.addWrap(1));
      m.If(step.eq(LBA_CHUNKS).and(c_atomic.not()).or(step.eq(LBA_CHUNKS + 1)), () => front.next("DECIDE"));
    },
    DECIDE: () => {
      const range_checked = is_read.or(is_write).or(is_write_zeroes).or(is_deallocate);
      const beyond_capacity = nsid_one.and(range_checked).and(chain_borrow);
      const bad_nsid = nsid_zero.or(nsid_borrow.and(is_flush.and(nsid_all).not()));
      const bad = opcode_unknown.or(count_zero.and(is_flush.not())).or(bad_nsid).or(beyond_capacity);
      const not_ready = ready_refused.or(faulted).or(restart_pending);
      const refusal = mux(not_ready, ERR_NOT_READY, mux(busy_refused, ERR_BUSY, mux(bad, ERR_BAD_REQUEST, mux(atomic_refused, ERR_NOT_ATOMIC, ERR_NONE))));
      m.sync(c_refusal, refusal);
      m.If(is_write, () => front.next("EXPECT"))
        .Elif(refusal.ne(ERR_NONE), () => front.next("REFUSE"))
        .Else(() => front.next("SIZE"));
    },
    EXPECT: () =>
      m.If(write_expect.signals.valid.not(), () => {
        m.comb(expect_load, 1);
        m.If(refused, () => front.next("REFUSE")).Else(() => front.next("SIZE"));
      }),
    REFUSE: () =>
      m.If(ring_room, () => {
        m.comb(issue_go, 1);
        front.next("IDLE");
      }),
    // SIZE: the count flags (registered every cycle) settle on this piece's count; its size is chosen next.
    SIZE: () => {
      m.sync(piece_room, room_minus_one.zext(roomBits).addWrap(1).zext(piece_room.width));
      m.sync(count_ge_room, count_high_any.or(count_low_room.gt(room_minus_one.zext(roomBits))));
      front.next("BLOCKS");
    },
    BLOCKS: () => {
      // A read or write: more is left than this piece iff count > room (count >= room, not equal).
      const count_is_room = count_high_any.not().and(count_low_room.eq(room_held));
      m.sync(piece_big, mux(is_data, count_ge_room.and(count_is_room.not()), piece_big_now));
      // The piece's blocks go to `addend`: the slot record shows them, and they are added to the LBA after.
      m.If(is_data, () => m.sync(addend, mux(count_ge_room, room_held, count_low_room).zext(addend.width)))
        .Elif(is_write_zeroes, () => m.sync(addend, mux(piece_big_now, C(WRITE_ZEROES_MAX_BLOCKS, addend.width), c_count.bits(16, 0).zext(addend.width))))
        .Else(() => m.sync(addend, mux(is_deallocate, c_count, C(0, addend.width))));
      front.next("UNITS");
    },
    UNITS: () => {
      m.sync(piece_units, mux(is_data, shiftedBy(addend.trunc(UNIT_BITS), shift_units, 0, UNIT_BITS), C(0, UNIT_BITS)));
      m.sync(from_write_ring, is_write);
      front.next("TARGET");
    },
    TARGET: () => {
      // The allocation pointers only move the cycle after a piece issues, long before this state.
      m.sync(new_alloc, mux(from_write_ring, wr_alloc, rd_alloc).addWrap(piece_units));
      m.sync(wait_settled, 0);
      front.next("WAIT");
    },
    WAIT: () => {
      m.sync(wait_settled, 1);
      m.If(piece_go, () => {
        m.comb(issue_go, 1);
        m.sync(step, 0);
        m.sync(chain_carry, 0);
        m.sync(chain_borrow, 0);
        m.If(piece_last, () => front.next("IDLE")).Else(() => front.next("ADVANCE"));
      });
    },
    ADVANCE: () => {
      // lba += blocks, count -= blocks, a chunk per step (the strobe cycle is the first: the slot
      // record shows addend before it shifts).
      m.sync(c_lba, rotateIn(c_lba, piece_step.trunc(CHUNK_BITS)));
      m.sync(chain_carry, piece_step.msb());
      m.sync(addend, shiftOut(addend));
      m.If(step.lt(WORD_CHUNKS), () => {
        m.sync(c_count, rotateIn(c_count, count_step.trunc(CHUNK_BITS)));
        m.sync(chain_borrow, count_step.msb());
      });
      m.sync(step, step.addWrap(1));
      m.If(step.eq(LBA_CHUNKS - 1), () => front.next("SIZE"));
    },
  });
  m.comb(uc.ready, front.is("IDLE").and(command_ready));

  // write_expect: how long the write's data is, in command order (drop = 1 when refused). Bytes =
  // blocks << lba_shift, a decode of c_count and c_refusal (shift_units only changes between
  // bring-ups), which hold while the expect waits: a write's count moves only after its first piece
  // issued, which needs its data stored, which needs the expect taken; and a refused write's
  // successor is not taken until its expect is (command_ready).
  const we = write_expect.signals;
  m.If(expect_load, () => m.sync(we.valid, 1)).Elif(we.ready, () => m.sync(we.valid, 0));
  m.comb(we.drop, refused);
  m.comb(we.bytes, shiftedBy(c_count.bits(31, 0), shift_units, UNIT_SHIFT, COMMAND_BYTES_BITS));

  // ---- a piece enters the ring: the strobe cycle ----
  const issue_strobe = m.signal(1);
  /** ... and reaches the SSD (not refused, not faulted). */
  const submit_strobe = m.signal(1);
  const issue_slot = takeOfferedSlot(m, slot_flags, issue_go);
  const issue_data = m.signal(1);
  m.sync(issue_strobe, issue_go);
  m.sync(submit_strobe, issue_go.and(refused.not()).and(faulted.not()));
  m.sync(issue_data, issue_go.and(refused.not()).and(is_data));
  const issue_pointer = m.signal(pointerBits);
  const retire_pointer = m.signal(pointerBits);
  m.If(issue_strobe, () => m.sync(issue_pointer, issue_pointer.addWrap(1)));
  m.sync(ring_room, issue_pointer.subWrap(retire_pointer).ne(ringEntries));

  // The SQ: the tail advances with each entry written; one entry always stays free (io-sq-tail.ts,
  // placed with the doorbells below).

  // The buffer rings.
  m.If(issue_data.and(is_write), () => m.sync(wr_alloc, new_alloc));
  m.If(issue_data.and(is_read), () => m.sync(rd_alloc, new_alloc));
  const rr = read_release.signals;
  const released_low = m.signal(UNIT_SHIFT, { resetless: true });
  const released_carry = m.signal(1);
  const released_high = m.signal(UNIT_BITS);
  const released_low_sum = released_low.zext(UNIT_SHIFT + 1).addWrap(mux(rr.valid, rr.bytes.bits(UNIT_SHIFT - 1, 0), C(0, UNIT_SHIFT)).zext(UNIT_SHIFT + 1));
  m.sync(released_low, released_low_sum.trunc(UNIT_SHIFT));
  m.sync(released_carry, released_low_sum.bit(UNIT_SHIFT));
  m.sync(released_high, mux(rr.valid, rr.bytes.bits(UNIT_SHIFT + UNIT_BITS - 1, UNIT_SHIFT), C(0, UNIT_BITS)));
  m.sync(rd_space_end, rd_space_end.addWrap(released_high).addWrap(released_carry.zext(UNIT_BITS)));
  m.waiveUnread(rr.bytes, "a release is at most a buffer (2^20 bytes): the top bit is never set");
  const fill_units = write_fill_pointer.bits(WRITE_FILL_POINTER_BITS - 1, UNIT_SHIFT);
  m.waiveUnread(write_fill_pointer, "the pieces are whole 512-byte units: the bytes below do not decide anything");
  const reached = (end: Value) => end.subWrap(new_alloc).msb().not();
  m.sync(data_ok, mux(is_write, reached(fill_units), mux(is_read, reached(rd_space_end), C(1, 1))));

  // ---- strobes out ----
  const nvmOpcode = m.signal(8);
  m.Switch(c_opcode, (s) => {
    s.Case(UserOpcode.READ, () => m.comb(nvmOpcode, NvmIoOpcode.READ));
    s.Case(UserOpcode.WRITE, () => m.comb(nvmOpcode, NvmIoOpcode.WRITE));
    s.Case(UserOpcode.FLUSH, () => m.comb(nvmOpcode, NvmIoOpcode.FLUSH));
    s.Case(UserOpcode.WRITE_ZEROES, () => m.comb(nvmOpcode, NvmIoOpcode.WRITE_ZEROES));
    s.Case(UserOpcode.DEALLOCATE, () => m.comb(nvmOpcode, NvmIoOpcode.DATASET_MANAGEMENT));
  });
  const sr = slot_record.signals;
  m.comb(sr.valid, submit_strobe);
  m.comb(sr.slot, issue_slot.zext(sr.slot.width));
  m.comb(sr.opcode, nvmOpcode);
  m.comb(sr.nsid, c_nsid.bits(31, 0));
  m.comb(sr.slba, c_lba.bits(63, 0));
  m.comb(sr.blocks, addend.bits(31, 0));
  m.comb(sr.bytes, cat(piece_units, C(0, UNIT_SHIFT)).zext(PIECE_BYTES_BITS));
  m.comb(sr.fua, c_fua.and(is_data.or(is_write_zeroes)));
  m.comb(sq_entry.signals.valid, submit_strobe);
  m.comb(sq_entry.signals.index, sq_tail);
  m.comb(sq_entry.signals.slot, issue_slot.zext(sq_entry.signals.slot.width));
  const ringOffset = (units: Value, log2: number) => cat(units.trunc(log2), C(0, UNIT_SHIFT)).zext(BUFFER_OFFSET_BITS);
  m.comb(write_slot_base.signals.valid, submit_strobe.and(is_write));
  m.comb(write_slot_base.signals.slot, issue_slot.zext(write_slot_base.signals.slot.width));
  m.comb(write_slot_base.signals.base, ringOffset(wr_alloc, writeUnitsLog2));
  m.comb(read_slot_base.signals.valid, submit_strobe.and(is_read));
  m.comb(read_slot_base.signals.slot, issue_slot.zext(read_slot_base.signals.slot.width));
  m.comb(read_slot_base.signals.base, ringOffset(rd_alloc, readUnitsLog2));

  // ---- the piece ring: what each piece is (written by the front), how it ended (by completions) ----
  const kind = mux(is_write, C(KIND_WRITE, 2), mux(is_read, C(KIND_READ, 2), C(KIND_OTHER, 2)));
  const infoFields = { epoch: 1, refusal: USER_ERROR_CLASS_BITS, kind: 2, last: 1, tag: p.tagBits, units: UNIT_BITS };
  const info_ram = m.memory({ width: Object.values(infoFields).reduce((a, b) => a + b, 0), depth: ringEntries, name: "piece_info" });
  info_ram.writePort({
    addr: issue_pointer.trunc(ringBits),
    data: cat(epoch, c_refusal, kind, piece_last.or(refused), c_tag, mux(refused, C(0, UNIT_BITS), piece_units)),
    en: issue_strobe,
  });
  // The retiring piece's word. It holds while its read-out is offered (read_out's payload is this
  // word), and shows the piece a retirement just passed for one more cycle (the registered read
  // took the pointer before its step), which is when write_release shows its bytes.
  const info_read = m.signal(1);
  const info = info_ram.readPort({ addr: retire_pointer.trunc(ringBits), en: info_read }).data;
  const infoField = (() => {
    const at: Record<string, [number, number]> = {};
    let lsb = 0;
    for (const [key, width] of Object.entries(infoFields).reverse()) {
      at[key] = [lsb + width - 1, lsb];
      lsb += width;
    }
    return (key: keyof typeof infoFields) => info.bits(...at[key]);
  })();
  /**
   * Result: {finished marker, poisoned, status}. A piece is finished when its word's marker is its
   * ring pointer's lap bit inverted. Pieces that never get a completion (refused, cut while
   * faulted) leave their word alone, so every piece's word is invalidated as it retires (marker
   * set to what means "not finished" on the ring's next lap), and the whole RAM after reset.
   */
  const result_ram = m.memory({ width: 2 + 15, depth: ringEntries, name: "piece_result" });
  const result = result_ram.readPort({ addr: retire_pointer.trunc(ringBits), en: 1 }).data;
  const slot_piece = m.memory({ width: pointerBits, depth: slotFlags, name: "slot_piece" });
  slot_piece.writePort({ addr: issue_slot, data: issue_pointer, en: submit_strobe });

  // ---- completions: record (its slot's piece and flags looked up) -> result written, slot freed ----
  const rec = cq.ports.record.signals;
  m.comb(rec.ready, 1);
  const piece_of_record = slot_piece.readPort({ addr: rec.cid.trunc(slotBits), en: rec.valid }).data;
  // The record is judged in the cycle after it comes (S1, io-slot-flags.ts): its slot was in
  // flight, so it completes: the slot is freed now and the piece's result is written a cycle later
  // (S2); else it is a stray.
  const judged = judgeCompletion(m, slot_flags, rec, faulted);
  const { s1_valid, s1_ok } = judged;
  /** The record's status holds the cycle after it (io_completion_queue without a FIFO). */
  const s1_status = rec.status;
  /** S2: the result write (registered), the in-flight count and the stray count. */
  const completes = m.signal(1);
  const s2_stray = m.signal(1);
  const s2_piece = m.signal(ringBits, { resetless: true });
  const s2_result = m.signal(2 + 15, { resetless: true });
  m.sync(completes, s1_ok.and(faulted.not()));
  m.sync(s2_stray, s1_valid.and(s1_ok.not()).and(faulted.not()));
  m.sync(s2_piece, piece_of_record.trunc(ringBits));
  m.sync(s2_result, cat(piece_of_record.msb().not(), judged.s1_poisoned, s1_status));
  // One write port: a completion first; the retire's invalidation (and the clearing after reset)
  // waits a cycle when one comes.
  const invalidate = m.signal(1);
  const clear_index = m.signal(ringBits);
  result_ram.writePort({
    addr: mux(completes, s2_piece, mux(clearing, clear_index, retire_pointer.trunc(ringBits))),
    data: mux(completes, s2_result, cat(retire_pointer.msb().not().and(clearing.not()), C(0, 16))),
    en: completes.or(invalidate),
  });
  statusCounter(m, stray_entries, s2_stray, "stray_count");
  // The SQ head is taken from every record as it comes.
  m.If(restart_now, () => m.sync(sq_head, 0)).Elif(rec.valid.and(faulted.not()), () => m.sync(sq_head, rec.sq_head));
  const ps = slot_poisoned.signals;
  updateSlotFlags(m, slot_flags, judged, { issue_slot, submit: submit_strobe, restart: restart_now, poisoned_valid: ps.valid, poisoned_slot: ps.slot });
  m.If(restart_now, () => m.sync(in_flight, 0)).Else(() =>
    m.sync(in_flight, in_flight.addWrap(submit_strobe.zext(in_flight.width)).subWrap(completes.zext(in_flight.width))),
  );

  // ---- retire, in ring order ----
  const retire = m.fsm(["R_CLEAR", "R_FETCH", "R_LOOK", "R_READ_OUT", "R_LANDED", "R_COMPLETE"], { name: "retire" });
  m.comb(clearing, retire.is("R_CLEAR"));
  const timer = countdownTimer(m, "head_timer", { maxCycles: p.ioTimeoutCycles, loads: [{ when: retire.is("R_FETCH"), cycles: p.ioTimeoutCycles }] });
  const ring_filled = issue_pointer.ne(retire_pointer);
  const i_refusal = infoField("refusal");
  const i_refused = i_refusal.ne(ERR_NONE);
  const i_kind = infoField("kind");
  const i_last = infoField("last");
  const i_units = infoField("units");
  const r_status = result.bits(14, 0);
  const r_poisoned = result.bit(15);
  const r_finished = result.bit(16).eq(retire_pointer.msb().not());
  const stale = infoField("epoch").ne(epoch);
  const piece_class = mux(
    i_refused,
    i_refusal,
    mux(r_finished.and(stray.not()), mux(r_poisoned, ERR_PCIE_FAULT, mux(r_status.any(), ERR_NVME_STATUS, ERR_NONE)), fault_class),
  );
  const piece_status = mux(i_refused.not().and(r_finished).and(r_poisoned.not()).and(stray.not()), r_status, C(0, 15));
  const decided = i_refused.or(r_finished).or(faulted).or(stale);
  const first_piece = m.signal(1, { reset: 1 });
  const ro = read_out.signals;
  const ucpl = user_completion.signals;
  const wl = write_landed.signals;
  // The completion's class and status registers gather the command's first error as its pieces
  // retire (they are free then: the last completion was taken before the next piece is looked at).
  // The command's class and status gather its first error as its pieces retire; its tag too.
  const cmd_class = m.signal(USER_ERROR_CLASS_BITS, { resetless: true });
  const cmd_status = m.signal(15, { resetless: true });
  const cmd_tag = m.signal(p.tagBits, { resetless: true });
  const cmd_read = m.signal(1, { resetless: true });
  const take_piece = first_piece.or(cmd_class.eq(ERR_NONE));
  const merged_class = mux(take_piece, piece_class, cmd_class);
  const merged_status = mux(take_piece, piece_status, cmd_status);
  const rd_retire = m.signal(UNIT_BITS);
  const release_now = m.signal(1);
  const complete = () => retire.next("R_COMPLETE");
  // Finished commands wait in a small queue for the user to take their completion; a read's waits
  // until the read buffer has released the last byte of its data (its end in the read ring, where
  // rd_retire stands after its last read-out), so it follows the last beat on user_read_data, while
  // the retire process goes on with the next pieces.
  const doneWidth = p.tagBits + USER_ERROR_CLASS_BITS + 15 + 1 + UNIT_BITS;
  const done_queue = m.instance(syncFifo({ width: doneWidth, depth: COMPLETION_QUEUE_DEPTH }), { name: "done_queue" });
  m.comb(done_queue.ports.in.signals.data, cat(cmd_tag, cmd_class, cmd_status, cmd_read, rd_retire));
  const done_entry = done_queue.ports.out.signals.data;
  const done_end = done_entry.bits(UNIT_BITS - 1, 0);
  const done_read = done_entry.bit(UNIT_BITS);
  const rd_released = rd_space_end.subWrap(C(1 << readUnitsLog2, UNIT_BITS));
  const data_gone = m.signal(1);
  // Registered: the head's data has left (the released pointer reached its end), or it has none;
  // judged only on a valid head and cleared as it is taken, so a new head is judged afresh.
  const head = done_queue.ports.out.signals;
  m.sync(data_gone, head.valid.and(head.ready.not()).and(done_read.not().or(rd_released.subWrap(done_end).msb().not())));
  m.comb(ucpl.valid, done_queue.ports.out.signals.valid.and(data_gone));
  m.comb(done_queue.ports.out.signals.ready, ucpl.ready.and(data_gone));
  m.comb(ucpl.tag, done_entry.bits(doneWidth - 1, doneWidth - p.tagBits));
  m.comb(ucpl.error_class, done_entry.bits(doneWidth - p.tagBits - 1, doneWidth - p.tagBits - USER_ERROR_CLASS_BITS));
  m.comb(ucpl.status, done_entry.bits(UNIT_BITS + 15, UNIT_BITS + 1));
  retire.body({
    R_CLEAR: () =>
      m.If(completes.not(), () => {
        m.comb(invalidate, 1);
        m.sync(clear_index, clear_index.addWrap(1));
        m.If(clear_index.all(), () => retire.next("R_FETCH"));
      }),
    R_FETCH: () => m.If(ring_filled, () => retire.next("R_LOOK")),
    R_LOOK: () => {
      m.If(decided.and(completes.not()), () => {
        m.comb(invalidate, 1);
        m.sync(retire_pointer, retire_pointer.addWrap(1));
        m.sync(cmd_class, merged_class);
        m.sync(cmd_status, merged_status);
        m.sync(first_piece, i_last);
        m.sync(cmd_tag, infoField("tag"));
        m.sync(cmd_read, i_kind.eq(KIND_READ).and(i_refused.not()));
        m.If(i_kind.eq(KIND_WRITE).and(i_units.any()), () => m.comb(release_now, 1));
        m.If(i_kind.eq(KIND_READ).and(i_refused.not()), () => {
          m.sync(ro.valid, 1);
          retire.next("R_READ_OUT");
        })
          .Elif(i_last.and(i_kind.eq(KIND_WRITE)), () => retire.next("R_LANDED"))
          .Elif(i_last, complete)
          .Else(() => retire.next("R_FETCH"));
      }).Elif(decided.not().and(timer.expired), () => m.comb(head_timed_out, 1));
    },
    R_READ_OUT: () =>
      m.If(ro.ready, () => {
        m.sync(ro.valid, 0);
        m.sync(rd_retire, rd_retire.addWrap(i_units));
        m.If(ro.last, complete).Else(() => retire.next("R_FETCH"));
      }),
    R_LANDED: () =>
      m.If(wl.valid, () => {
        // Data of the wrong length: BAD_REQUEST (a write refused NOT_READY or BUSY stays so).
        m.If(wl.length_ok.not().and(cmd_class.ne(ERR_NOT_READY)).and(cmd_class.ne(ERR_BUSY)), () => {
          m.sync(cmd_class, ERR_BAD_REQUEST);
          m.sync(cmd_status, 0);
        });
        complete();
      }),
    R_COMPLETE: () =>
      m.If(done_queue.ports.in.signals.ready, () => {
        m.comb(done_queue.ports.in.signals.valid, 1);
        retire.next("R_FETCH");
      }),
  });
  m.comb(wl.ready, retire.is("R_LANDED"));
  m.comb(info_read, retire.is("R_READ_OUT").not());
  // The read-out: its base is where the read ring's retired part ends (rd_retire moves as it is
  // taken), the rest is the held piece word.
  m.comb(ro.base, ringOffset(rd_retire, readUnitsLog2));
  m.comb(ro.bytes, cat(i_units, C(0, UNIT_SHIFT)).zext(PIECE_BYTES_BITS));
  m.comb(ro.tag, infoField("tag"));
  m.comb(ro.last, i_last);
  const wr = write_release.signals;
  m.sync(wr.valid, release_now);
  m.comb(wr.bytes, cat(i_units, C(0, UNIT_SHIFT)).zext(PIECE_BYTES_BITS));
  // Completions are counted by class as they enter done_queue (cmd_class is a register), not as the
  // user takes them: the user's ready (a striper's logic in the striped core) then meets no 16-bit
  // counter chain.
  const completion_queued = retire.is("R_COMPLETE").and(done_queue.ports.in.signals.ready);
  const classCounter = (counter: Signal, cls: Value, name: string) => statusCounter(m, counter, completion_queued.and(cmd_class.eq(cls)), name);
  classCounter(errors_nvme_status, ERR_NVME_STATUS, "nvme_status_count");
  classCounter(errors_pcie_fault, ERR_PCIE_FAULT, "pcie_fault_count");
  classCounter(errors_timeout, ERR_TIMEOUT, "timeout_count");
  classCounter(errors_not_ready, ERR_NOT_READY, "not_ready_count");
  classCounter(errors_bad_request, ERR_BAD_REQUEST, "bad_request_count");

  // ---- doorbells ----
  const doorbell = m.fsm(["DB_IDLE", "DB_REQUEST", "DB_RESPONSE", "DB_SETTLE"], { name: "doorbell" });
  const MEM_WRITE = constant("ACCESS_KIND_MEM_WRITE", AccessKind.MEM_WRITE, ACCESS_KIND_BITS);
  const rq = access_request.signals;
  const rs = access_response.signals;
  const sq_tail_rung = m.signal(SQ_INDEX_BITS);
  const db_is_sq = m.signal(1, { resetless: true });
  const db_value = m.signal(SQ_INDEX_BITS, { resetless: true });
  const last_was_sq = m.signal(1);
  const sq_rung = m.signal(1);
  const cq_rung = m.signal(1);
  // Registered: a doorbell's value is chosen from flip-flops. DB_SETTLE lets them see the last
  // doorbell's effect before DB_IDLE looks again.
  const sq_due = m.signal(1);
  const cq_due = m.signal(1);
  m.sync(cq_due, cq.ports.doorbell_due);
  const may_ring = ready.and(faulted.not()).and(restart_pending.not()).and(reset_queues.not());
  const ring_sq = sq_due.and(cq_due.not().or(last_was_sq.not()));
  const sq_doorbell = m.signal(32);
  const cq_doorbell = m.signal(32);
  m.Switch(dstrd, (s) => {
    for (let stride = 0; stride < 2 ** dstrd.width; stride++) {
      s.Case(stride, () => {
        m.comb(sq_doorbell, C(doorbellOffset(1, "sqTail", stride), 32));
        m.comb(cq_doorbell, C(doorbellOffset(1, "cqHead", stride), 32));
      });
    }
  });
  const access_failed = rs.timed_out.or(rs.poisoned).or(rs.status.ne(CPL_STATUS_SC));
  doorbell.body({
    DB_IDLE: () =>
      m.If(may_ring.and(sq_due.or(cq_due)), () => {
        const value = mux(ring_sq, sq_tail, cq.ports.cq_head.zext(SQ_INDEX_BITS));
        m.sync(rq.address, bar0_address.or(mux(ring_sq, sq_doorbell, cq_doorbell)));
        m.sync(rq.valid, 1);
        m.sync(db_is_sq, ring_sq);
        m.sync(db_value, value);
        m.sync(last_was_sq, ring_sq);
        doorbell.next("DB_REQUEST");
      }),
    DB_REQUEST: () =>
      m.If(rq.ready, () => {
        m.sync(rq.valid, 0);
        m.sync(rs.ready, 1);
        doorbell.next("DB_RESPONSE");
      }),
    DB_RESPONSE: () =>
      m.If(rs.valid, () => {
        m.sync(rs.ready, 0);
        m.If(access_failed, () => m.comb(fault_doorbell, 1))
          .Elif(db_is_sq, () => m.comb(sq_rung, 1))
          .Else(() => m.comb(cq_rung, 1));
        doorbell.next("DB_SETTLE");
      }),
    DB_SETTLE: () => doorbell.next("DB_IDLE"),
  });
  // A doorbell is a whole-DW memory write of the value in db_value.
  m.comb(rq.kind, MEM_WRITE);
  m.comb(rq.byte_en, 0b1111);
  m.comb(rq.data, db_value.zext(32));
  ioSqTail(m, { sq_tail, sq_room, sq_tail_rung, sq_due }, { queue_entries, submit: submit_strobe, restart: restart_now, sq_head, rung: sq_rung, rung_value: db_value });
  m.comb(cq.ports.doorbell_rung, cq_rung);
  m.comb(cq.ports.doorbell_rung_head, db_value.trunc(CQ_INDEX_BITS));
  m.waiveUnread(rs.data, "doorbells are writes: no read data");
  statusCounter(m, sq_doorbells, sq_rung, "sq_doorbell_count");
  statusCounter(m, cq_doorbells, cq_rung, "cq_doorbell_count");

  // ---- faults and restarts ----
  const cutting = front.is("SIZE").or(front.is("BLOCKS")).or(front.is("UNITS")).or(front.is("TARGET")).or(front.is("WAIT")).or(front.is("ADVANCE")).and(refused.not());
  // Not the registered `idle`: it is low out of reset and lags a retirement by a cycle, so `ready`
  // low at power-up or falling as the last piece retires would fault the engine with nothing lost.
  const lost_ready = ready.not().and(in_flight.ne(0).or(cutting));
  const fault_event = faulted.not().and(fault_timeout.or(fault_doorbell).or(stray_write).or(lost_ready).or(reset_queues.and(in_flight.ne(0))));
  m.comb(restart_now, restart_pending.and(front.is("IDLE")).and(doorbell.is("DB_IDLE")).and(issue_strobe.not()));
  m.If(restart_now, () => {
    m.sync(faulted, 0);
    m.sync(epoch, epoch.not());
  }).Elif(fault_event, () => {
    m.sync(faulted, 1);
    // Everything but a lone timeout is PCIE_FAULT: a piece at the SSD when READY was lost (or the
    // queues restarted) may have run in part, so it is not a refusal.
    m.sync(fault_class, mux(fault_timeout.and(fault_doorbell.or(stray_write).not()), ERR_TIMEOUT, ERR_PCIE_FAULT));
  });
  m.If(restart_now, () => m.sync(stray, 0)).Elif(stray_write, () => m.sync(stray, 1));
  m.If(reset_queues, () => m.sync(restart_pending, 1)).Elif(restart_now, () => m.sync(restart_pending, 0));
  m.comb(fault, faulted);
  // No NVMe command at the SSD and none being cut (what a shutdown waits for).
  m.sync(idle, in_flight.eq(0).and(cutting.not()));
  // The front between commands (none taken this cycle), nothing at the SSD, no piece being submitted.
  m.sync(quiet, front.is("IDLE").and(uc.valid.and(uc.ready).not()).and(in_flight.eq(0)).and(submit_strobe.not()));

  statusCounter(m, commands_accepted, uc.valid.and(uc.ready), "command_count");
  statusCounter(m, pieces_submitted, submit_strobe, "piece_count");

  return m.exposing({
    ready,
    refuse_new,
    refuse_busy,
    idle,
    quiet,
    bar0_address,
    dstrd,
    queue_entries,
    lba_shift,
    mdts,
    capacity_blocks,
    namespace_count,
    atomic_blocks,
    atomic_boundary,
    atomic_boundary_mask,
    reset_queues,
    stray_write,
    user_command,
    user_completion,
    slot_record,
    sq_entry,
    write_slot_base,
    read_slot_base,
    write_expect,
    write_landed,
    write_fill_pointer,
    write_release,
    read_out,
    read_release,
    slot_poisoned,
    access_request,
    access_response,
    cq_write,
    cq_write_data,
    fault,
    fault_class,
    in_flight,
    sq_tail,
    sq_head,
    cq_head,
    commands_accepted,
    pieces_submitted,
    sq_doorbells,
    cq_doorbells,
    stray_entries,
    misplaced_entries,
    poisoned_writes,
    errors_nvme_status,
    errors_pcie_fault,
    errors_timeout,
    errors_not_ready,
    errors_bad_request,
  });
}
