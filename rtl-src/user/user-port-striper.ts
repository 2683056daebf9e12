// RAID 0 in front of N SSDs (issue 14): one set of user ports (user-port.ts) in, N sets out, one per
// "lane" (an NVMe controller core with its own SSD). The array's LBA a lies in stripe s = a / B
// (B = stripeBytes / LBA size blocks), on lane s mod N, at lane LBA (s / N) x B + a mod B. N and B are
// powers of two, so the lane is bits of a and the lane LBA is a with those bits taken out: muxes, no
// divider. lba_shift takes four values (9..12), so everything that depends on it is a four-way choice.
//
//  - Read, write, write zeroes and deallocate are cut at stripe boundaries into sub-commands, handed
//    to the lanes in order (a walk: the first sub-command up to its stripe's end, whole stripes, then
//    the remainder). Flush goes to every lane. A write's data is dealt to the lanes sub-command by
//    sub-command (tlast at the end of each); a user stream that ends early is padded with zeros, one
//    that runs long is cut, and the command completes BAD_REQUEST (the lanes see well-formed streams).
//  - Checked before anything is sent (the command completes at once, in order): not every lane with
//    the same LBA size in 9..12 (NOT_READY), unknown opcode, block count 0 or a range past
//    array_capacity_blocks (BAD_REQUEST), an atomic write across a stripe (NOT_ATOMIC), a lane it
//    touches not `laneN_ready` (MEMBER_FAILED, status = the lowest such lane). A refused write's data
//    is consumed up to tlast; a MEMBER_FAILED read delivers its bytes as zeros (framing kept), other
//    refused reads deliver nothing.
//  - Read data leaves in command order: an order FIFO holds each read sub-command's lane and its
//    per-lane sequence number (the lane tag); a sub-command's first beat is taken from its lane only
//    after the lane has shown it with that tuser, the rest follow to its tlast. tuser = the user's tag,
//    tlast on the command's last beat. A lane that refuses a read sub-command (it left READY between
//    our check and its acceptance) delivers no data: its completion comes without a tlast before it
//    (the striper counts tlasts per lane; a sub-command is at least 64 beats, so an accepted one's
//    tlast cannot pass before the order FIFO reaches it), and that sub-command's bytes become zeros.
//  - Completions: one per user command, in acceptance order, after its read data; error = its check
//    error, else the first error a lane reported for its sub-commands (NOT_READY, TIMEOUT and
//    PCIE_FAULT, a member failing under the command, become MEMBER_FAILED with that lane's index),
//    else BAD_REQUEST for write data of the wrong length. Lane completions are taken only for the oldest user command (each lane's
//    FIFO of in-flight sub-commands says which command its next completion belongs to); the others
//    wait in the lanes, which stay free to move data.
//
// A slow or failed member: `maxOutstanding` bounds the sub-commands in flight over all lanes and each
// lane has its own buffers. A slow lane delays only the commands that touch it, and through the
// in-order completion and read-data rules those after them: their sub-commands on fast lanes run and
// finish (writes reach the SSDs; reads' data waits in the fast lanes' own read buffers until the slow
// lane's data ahead of it has passed, since the user gets read data in order), but their completions
// wait until the slow command completes, so while one lane lags the shared budget fills with
// finished sub-commands and new commands stop. A failed lane (laneN_ready low) turns every new command touching it into
// MEMBER_FAILED at once; sub-commands already at it complete with whatever that lane reports, and a
// lane that has failed under them (it answers NOT_READY, TIMEOUT or PCIE_FAULT) makes their commands
// MEMBER_FAILED with its index too.
//
// N = 1 is the single-SSD mode: wires from the user ports to lane 0 (the lane's ports are the
// controller's, which are registered), the array's status from lane 0.
//
// Timing: 64-bit sums and compares run over several states of the check (16-bit pieces, carry-select);
// the stripe index of the walk increments in 8-bit pieces with registered carries; counts of beats
// and stripes are piece down-counters. Every output is a register.
import { C, Module, type Signal, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { pieceDownCounter } from "../lib/piece-down-counter.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { USER_ERROR_CLASS_BITS, USER_OPCODE_BITS, UserErrorClass, UserOpcode, userCommand, userCompletion, userReadData, userWriteData } from "./user-port.ts";

export interface UserPortStriperParams {
  /** SSDs (lanes): 1, 2 or 4. */
  lanes: number;
  /** Stripe size in bytes: a power of two, 4 KiB..1 MiB. */
  stripeBytes: number;
  /** Sub-commands in flight over all lanes (the shared queue depth): 1..64. */
  maxOutstanding: number;
  /** The user's tag width, 1..16. */
  tagBits: number;
}

/** The lane's tag width the striper uses (what each lane core's `tagBits` must be). */
export function striperLaneTagBits(p: UserPortStriperParams): number {
  return p.lanes === 1 ? p.tagBits : bitsFor(p.maxOutstanding) + 2;
}

function checkParams(p: UserPortStriperParams): void {
  const { lanes, stripeBytes, maxOutstanding, tagBits } = p;
  if (![1, 2, 4].includes(lanes)) throw new RangeError(`userPortStriper: lanes ${lanes} is not 1, 2 or 4`);
  if (!Number.isInteger(stripeBytes) || stripeBytes < 4096 || stripeBytes > 1 << 20 || (stripeBytes & (stripeBytes - 1)) !== 0) {
    throw new RangeError(`userPortStriper: stripeBytes ${stripeBytes} is not a power of two in 4096..1048576`);
  }
  if (!Number.isInteger(maxOutstanding) || maxOutstanding < 1 || maxOutstanding > 64) throw new RangeError(`userPortStriper: maxOutstanding ${maxOutstanding} is not an integer in 1..64`);
  if (!Number.isInteger(tagBits) || tagBits < 1 || tagBits > 16) throw new RangeError(`userPortStriper: tagBits ${tagBits} is not an integer in 1..16`);
}

/**
 * `counter` + `up` - `down`: both neighbours come from the register alone and the strobes only
 * choose, so a late strobe meets no carry chain.
 */
function upDown(counter: Signal, up: Value, down: Value): Value {
  return mux(up.xor(down), mux(up, counter.addWrap(1), counter.subWrap(1)), counter);
}

/** v cut or zero-extended to `w` bits. */
function fit(v: Value, w: number): Value {
  return v.width > w ? v.trunc(w) : v.width < w ? v.zext(w) : v;
}

/** The four-way choice by lba_shift - 9 (`sel`, 2 bits): one LUT per bit. */
function bySel(sel: Value, choose: (k: number) => Value): Value {
  const [v0, v1, v2, v3] = [0, 1, 2, 3].map(choose);
  return mux(sel.bit(1), mux(sel.bit(0), v3, v2), mux(sel.bit(0), v1, v0));
}

/**
 * RAID 0 striper: the user's ports in, `lanes` sets of the same ports out (lane tags
 * striperLaneTagBits wide), commands cut at stripe boundaries, data and completions in order.
 */
export function userPortStriper(p: UserPortStriperParams) {
  checkParams(p);
  const { lanes: N, stripeBytes, maxOutstanding, tagBits } = p;
  const m = new Module(`user_port_striper_n${N}_s${stripeBytes}_q${maxOutstanding}_t${tagBits}`);
  m.parameters({ lanes: N, stripeBytes, maxOutstanding, tagBits });
  const laneTagBits = striperLaneTagBits(p);

  const user_command = m.port(userCommand(tagBits), "slave", { prefix: "user_command" });
  const user_write_data = m.port(userWriteData, "slave", { prefix: "user_write_data" });
  const user_read_data = m.port(userReadData(tagBits), "master", { prefix: "user_read_data" });
  const user_completion = m.port(userCompletion(tagBits), "master", { prefix: "user_completion" });
  const laneReady: Signal[] = [];
  const laneCapacity: Signal[] = [];
  const laneShift: Signal[] = [];
  for (let l = 0; l < N; l++) {
    laneReady.push(m.input(1, { name: `lane${l}_ready` }));
    laneCapacity.push(m.input(64, { name: `lane${l}_capacity_blocks` }));
    laneShift.push(m.input(4, { name: `lane${l}_lba_shift` }));
  }
  const lane_command = Array.from({ length: N }, (_, l) => m.port(userCommand(laneTagBits), "master", { prefix: `lane${l}_command` }));
  const lane_write_data = Array.from({ length: N }, (_, l) => m.port(userWriteData, "master", { prefix: `lane${l}_write_data` }));
  const lane_read_data = Array.from({ length: N }, (_, l) => m.port(userReadData(laneTagBits), "slave", { prefix: `lane${l}_read_data` }));
  const lane_completion = Array.from({ length: N }, (_, l) => m.port(userCompletion(laneTagBits), "slave", { prefix: `lane${l}_completion` }));
  /** N x the smallest lane's capacity, rounded down to whole rows of stripes (N = 1: lane 0's). */
  const array_capacity_blocks = m.output(64);
  /** The members' common log2 LBA size (lane 0's). */
  const array_lba_shift = m.output(4);
  /** Every lane reports the same LBA size, 512..4096 bytes: without it every command completes NOT_READY. */
  const array_config_ok = m.output(1);
  /** Sub-commands handed to the lanes and not yet completed. */
  const array_in_flight = m.output(bitsFor(maxOutstanding));
  const ports = { user_command, user_write_data, user_read_data, user_completion, lane_ready: laneReady, lane_capacity_blocks: laneCapacity, lane_lba_shift: laneShift, lane_command, lane_write_data, lane_read_data, lane_completion, array_capacity_blocks, array_lba_shift, array_config_ok, array_in_flight };

  const shift_ok = (s: Value) => s.ge(9).and(s.le(12));
  if (N === 1) {
    m.documentCombinationalPaths("single-SSD mode: the user ports are wires to lane 0, whose ports are the controller's registered ones");
    m.connect(user_command, lane_command[0]);
    m.connect(user_write_data, lane_write_data[0]);
    m.connect(lane_read_data[0], user_read_data);
    m.connect(lane_completion[0], user_completion);
    m.waiveUnread(laneReady[0], "single-SSD mode: the controller refuses commands itself while not READY");
    m.sync(array_capacity_blocks, laneCapacity[0]);
    m.sync(array_lba_shift, laneShift[0]);
    m.sync(array_config_ok, shift_ok(laneShift[0]));
    m.comb(array_in_flight, 0);
    return m.exposing(ports);
  }

  const NB = Math.log2(N);
  const SB = Math.log2(stripeBytes);
  /** Bits of an offset inside a stripe at the smallest LBA (512 B): B = 2^(SB - 9 - sel) blocks. */
  const OFF_BITS = SB - 9;
  const BLOCK_BITS = OFF_BITS + 1;
  /** Beats of one sub-command: at most stripeBytes / 8. */
  const BEAT_BITS = SB - 2;
  const log2B = (sel: number) => SB - 9 - sel;
  const R = maxOutstanding;
  const SEQ_BITS = bitsFor(R + 2) + 1;
  const LANE_BITS = Math.max(NB, 1);
  const INFLIGHT_BITS = bitsFor(maxOutstanding);
  const MAX_OUTSTANDING = constant("MAX_OUTSTANDING", maxOutstanding, INFLIGHT_BITS);
  const LAST_LANE = constant("LAST_LANE", N - 1, LANE_BITS);

  // ---- the members' configuration: registered once, then read by everything ----
  const sel = m.signal(2);
  const config_ok = m.signal(1);
  const lanes_ready = m.signal(N);
  m.sync(sel, laneShift[0].subWrap(9).trunc(2));
  m.sync(config_ok, cat(...laneShift.map((s) => s.eq(laneShift[0]))).all().and(shift_ok(laneShift[0])));
  m.sync(lanes_ready, cat(...laneReady.slice().reverse()));
  m.sync(array_lba_shift, laneShift[0]);
  m.comb(array_config_ok, config_ok);
  const offset_mask = m.signal(OFF_BITS);
  const stripe_blocks = m.signal(BLOCK_BITS);
  m.sync(offset_mask, bySel(sel, (k) => C((1 << log2B(k)) - 1, OFF_BITS)));
  m.sync(stripe_blocks, bySel(sel, (k) => C(1 << log2B(k), BLOCK_BITS)));

  // Capacity: the smallest lane's, by 16-bit piece compares in a tree of register stages, then
  // rounded down to whole stripes and multiplied by N (capacities below 2^62 blocks).
  let level: Value[] = laneCapacity;
  let stage = 0;
  while (level.length > 1) {
    const next: Value[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = m.signal(64, { name: `cap_a_${stage}_${i / 2}`, resetless: true });
      const b = m.signal(64, { name: `cap_b_${stage}_${i / 2}`, resetless: true });
      const lt = m.signal(4, { name: `cap_lt_${stage}_${i / 2}`, resetless: true });
      const eq = m.signal(3, { name: `cap_eq_${stage}_${i / 2}`, resetless: true });
      const pieces = (v: Value) => [0, 1, 2, 3].map((k) => v.bits(16 * k + 15, 16 * k));
      m.sync(a, level[i]);
      m.sync(b, level[i + 1]);
      m.sync(lt, cat(...pieces(level[i]).map((x, k) => x.lt(pieces(level[i + 1])[k])).reverse()));
      // Equality of pieces 1..3 (piece 0's is never needed: it decides only through its own lt).
      m.sync(eq, cat(...pieces(level[i]).slice(1).map((x, k) => x.eq(pieces(level[i + 1])[k + 1])).reverse()));
      const a_less = lt.bit(3).or(eq.bit(2).and(lt.bit(2))).or(eq.bits(2, 1).all().and(lt.bit(1))).or(eq.all().and(lt.bit(0)));
      const min = m.signal(64, { name: `cap_min_${stage}_${i / 2}`, resetless: true });
      m.sync(min, mux(a_less, a, b));
      next.push(min);
    }
    level = next;
    stage++;
  }
  const lane_min = level[0];
  m.sync(array_capacity_blocks, fit(lane_min.and(bySel(sel, (k) => C((1n << 64n) - (1n << BigInt(log2B(k))), 64))).shl(NB), 64));
  const capacity = array_capacity_blocks;

  // ---- FIFOs between the walk and the data, completion and retire sides ----
  // Records: one per user command, pushed when its walk is over, popped when it completes.
  const recordWidth = tagBits + 2 + USER_ERROR_CLASS_BITS + LANE_BITS;
  const records = m.instance(syncFifo({ width: recordWidth, depth: Math.max(R, 2) }), { name: "records" });
  // Read order: {zero, lane, lane tag, beats, user last, user tag}.
  const orderWidth = 1 + LANE_BITS + laneTagBits + BEAT_BITS + 1 + tagBits;
  const order = m.instance(syncFifo({ width: orderWidth, depth: Math.max(R, 2) }), { name: "read_order" });
  // Write routing: {discard, lane, beats, last, record seq}.
  const SLOT_BITS = SEQ_BITS - 1;
  const routeWidth = 1 + LANE_BITS + BEAT_BITS + 1 + SLOT_BITS;
  const route = m.instance(syncFifo({ width: routeWidth, depth: Math.max(R, 2) }), { name: "write_route" });
  // Per lane: the record seq and read flag of each sub-command in flight there, in order.
  const inflight_fifo = Array.from({ length: N }, (_, l) => m.instance(syncFifo({ width: SEQ_BITS + 1, depth: Math.max(R, 2) }), { name: `lane${l}_in_flight` }));

  // ---- the walk: check a command, then cut it into sub-commands ----
  const ctl = m.fsm(["IDLE", "SUM", "CARRY", "COMPARE", "RANGE", "SPAN", "TOUCH", "DECIDE", "DISCARD", "PLAN", "SEND", "FINISH"]);
  const cmd = user_command.signals;
  const cmd_ready = m.signal(1);
  const c_opcode = m.signal(USER_OPCODE_BITS, { resetless: true });
  const c_nsid = m.signal(32, { resetless: true });
  const c_lba = m.signal(64, { resetless: true });
  const c_count = m.signal(32, { resetless: true });
  const c_tag = m.signal(tagBits, { resetless: true });
  const c_fua = m.signal(1, { resetless: true });
  const c_atomic = m.signal(1, { resetless: true });
  const c_read = c_opcode.eq(UserOpcode.READ);
  const c_write = c_opcode.eq(UserOpcode.WRITE);
  const c_flush = c_opcode.eq(UserOpcode.FLUSH);
  // Check registers.
  const sum_plain = m.signal(68, { resetless: true });
  const sum_plus1 = m.signal(68, { resetless: true });
  const c_end = m.signal(65, { resetless: true });
  const c_off = m.signal(OFF_BITS, { resetless: true });
  const t_low = m.signal(17, { resetless: true });
  const t_high = m.signal(17, { resetless: true });
  const end_lt = m.signal(4, { resetless: true });
  const end_eq = m.signal(4, { resetless: true });
  const out_of_range = m.signal(1, { resetless: true });
  const bad_opcode = m.signal(1, { resetless: true });
  const count_zero = m.signal(1, { resetless: true });
  const q = m.signal(33, { resetless: true });
  const r = m.signal(OFF_BITS, { resetless: true });
  const q_high = m.signal(1, { resetless: true });
  const q_low = m.signal(LANE_BITS, { resetless: true });
  const r_zero = m.signal(1, { resetless: true });
  const room_first = m.signal(BLOCK_BITS, { resetless: true });
  const touched = m.signal(N, { resetless: true });
  const crosses = m.signal(1, { resetless: true });
  const c_err = m.signal(USER_ERROR_CLASS_BITS, { resetless: true });
  const c_err_lane = m.signal(LANE_BITS, { resetless: true });
  // Walk registers.
  const w_lane = m.signal(LANE_BITS, { resetless: true });
  const w_row = m.signal(64, { resetless: true });
  const w_first = m.signal(1, { resetless: true });
  const w_zero = m.signal(1, { resetless: true });
  const p_blocks = m.signal(BLOCK_BITS, { resetless: true });
  const p_beats = m.signal(BEAT_BITS, { resetless: true });
  const p_lba = m.signal(64, { resetless: true });
  const p_last = m.signal(1, { resetless: true });
  const alloc_seq = m.signal(SEQ_BITS);
  const lane_seq = Array.from({ length: N }, (_, l) => m.signal(laneTagBits, { name: `lane${l}_seq` }));
  const in_flight = m.signal(INFLIGHT_BITS);

  // The walk's row (stripe index / N) counts up in 8-bit pieces: a piece steps when every piece
  // below is all ones, a flag registered the cycle before (the row never steps two cycles running).
  const ROW_PIECES = 8;
  const row_carry = m.signal(ROW_PIECES);
  m.sync(row_carry, cat(...Array.from({ length: ROW_PIECES }, (_, j) => (j === 0 ? C(1, 1) : w_row.bits(8 * j - 1, 0).all())).reverse()));
  const row_plus1 = cat(...Array.from({ length: ROW_PIECES }, (_, j) => w_row.bits(8 * j + 7, 8 * j).addWrap(row_carry.bit(j).zext(8))).reverse());

  // Stripes after the first one the command reaches the end of (q), counted down by the walk.
  // DECIDE registers the command's error; DISCARD reads it and starts the walk (or refuses).
  const walks = c_err.eq(UserErrorClass.NONE).or(c_err.eq(UserErrorClass.MEMBER_FAILED).and(c_read));
  const walk_start = ctl.is("DISCARD").and(walks);
  const send = m.signal(1);
  const stripe_step = m.signal(1);
  const stripes_left = pieceDownCounter(m, "stripes_left", { width: 33, load: walk_start, value: q, step: stripe_step });
  // Built here, outside the FSM body: the flag's register is made on first use.
  const stripes_zero = stripes_left.zero;
  // A sub-command that ends at a stripe boundary counts one down (the last, partial one does not).
  m.comb(stripe_step, send.and(c_flush.not()).and(stripes_zero.not()));

  const lane_cmd_valid = lane_command.map((_, l) => m.signal(1, { name: `lane${l}_cmd_valid` }));
  const lane_busy = cat(...lane_cmd_valid.slice().reverse());
  const order_in = order.ports.in.signals;
  const route_in = route.ports.in.signals;
  const records_in = records.ports.in.signals;
  const lane_fifo_ready = cat(...inflight_fifo.map((f) => f.ports.in.signals.ready).reverse());
  const pick = (bits: Value, lane: Value) => (N === 2 ? bits.bit(0).and(lane.bit(0).not()).or(bits.bit(1).and(lane.bit(0))) : bits.bitAt(lane));
  // SEND fires when the lane can take it (normal) and the FIFOs it feeds have room.
  const normal_ok = pick(lane_busy, w_lane).not().and(in_flight.lt(MAX_OUTSTANDING)).and(pick(lane_fifo_ready, w_lane));
  const send_ok = mux(w_zero, C(1, 1), normal_ok).and(c_read.not().or(order_in.ready)).and(c_write.not().or(route_in.ready));
  m.comb(send, ctl.is("SEND").and(send_ok));
  const send_normal = send.and(w_zero.not());

  const flush_last = w_lane.eq(LAST_LANE);
  ctl.body({
    IDLE: () => {
      m.sync(cmd_ready, records.ports.count.lt(R));
      m.If(cmd_ready.and(cmd.valid), () => {
        m.sync(cmd_ready, 0);
        m.sync(c_opcode, cmd.opcode);
        m.sync(c_nsid, cmd.nsid);
        m.sync(c_lba, cmd.lba);
        m.sync(c_count, cmd.block_count);
        m.sync(c_tag, cmd.tag);
        m.sync(c_fua, cmd.fua);
        m.sync(c_atomic, cmd.atomic);
        ctl.next("SUM");
      });
    },
    SUM: () => {
      // lba + count in 16-bit pieces, each with and without a carry in (the carries meet in CARRY).
      const lbaPiece = (k: number) => c_lba.bits(16 * k + 15, 16 * k);
      const countPiece = (k: number) => (k < 2 ? c_count.bits(16 * k + 15, 16 * k) : C(0, 16));
      m.sync(sum_plain, cat(...[3, 2, 1, 0].map((k) => lbaPiece(k).add(countPiece(k)))));
      // a + b + 1 as a - ~b: one carry chain with its carry in set, not an add and an increment.
      m.sync(sum_plus1, cat(...[3, 2, 1, 0].map((k) => lbaPiece(k).zext(17).subWrap(countPiece(k).zext(17).not()))));
      m.sync(c_off, c_lba.trunc(OFF_BITS).and(offset_mask));
      m.sync(bad_opcode, c_opcode.gt(UserOpcode.DEALLOCATE));
      m.sync(count_zero, c_count.eq(0));
      // The first sub-command's stripe: its lane and its row.
      const stripe = bySel(sel, (k) => fit(log2B(k) === 0 ? c_lba : c_lba.shr(log2B(k)), 64));
      m.sync(w_lane, fit(stripe.trunc(NB), LANE_BITS));
      m.sync(w_row, fit(stripe.shr(NB), 64));
      ctl.next("CARRY");
    },
    CARRY: () => {
      let carry: Value = C(0, 1);
      const pieces: Value[] = [];
      for (let k = 0; k < 4; k++) {
        const plain = sum_plain.bits(17 * k + 16, 17 * k);
        const plus = sum_plus1.bits(17 * k + 16, 17 * k);
        const chosen = mux(carry, plus, plain);
        pieces.push(chosen.bits(15, 0));
        carry = chosen.bit(16);
      }
      m.sync(c_end, cat(carry, ...pieces.reverse()));
      m.sync(t_low, c_count.bits(15, 0).add(c_off.zext(16)));
      ctl.next("COMPARE");
    },
    COMPARE: () => {
      const endPiece = (k: number) => c_end.bits(16 * k + 15, 16 * k);
      const capPiece = (k: number) => capacity.bits(16 * k + 15, 16 * k);
      m.sync(end_lt, cat(...[3, 2, 1, 0].map((k) => endPiece(k).lt(capPiece(k)))));
      m.sync(end_eq, cat(...[3, 2, 1, 0].map((k) => endPiece(k).eq(capPiece(k)))));
      m.sync(t_high, c_count.bits(31, 16).add(t_low.bit(16).zext(16)));
      ctl.next("RANGE");
    },
    RANGE: () => {
      const gt = (k: number) => end_lt.bit(k).or(end_eq.bit(k)).not();
      const over = gt(3).or(end_eq.bit(3).and(gt(2))).or(end_eq.bits(3, 2).all().and(gt(1))).or(end_eq.bits(3, 1).all().and(gt(0)));
      m.sync(out_of_range, c_end.bit(64).or(over));
      // t = offset in the first stripe + count; q = t / B (stripe ends reached), r = t mod B.
      const t = cat(t_high, t_low.bits(15, 0));
      m.sync(q, bySel(sel, (k) => fit(log2B(k) === 0 ? t : t.shr(log2B(k)), 33)));
      m.sync(r, t.trunc(OFF_BITS).and(offset_mask));
      ctl.next("SPAN");
    },
    SPAN: () => {
      m.sync(q_high, q.bits(32, NB).any());
      m.sync(q_low, fit(q.trunc(NB), LANE_BITS));
      m.sync(r_zero, r.eq(0));
      m.sync(room_first, stripe_blocks.subWrap(c_off.zext(BLOCK_BITS)));
      ctl.next("TOUCH");
    },
    TOUCH: () => {
      // Stripes touched S = q + (r != 0); lanes touched: min(S, N) of them from the first one.
      const s_small = q_low.zext(LANE_BITS + 1).addWrap(r_zero.not().zext(LANE_BITS + 1));
      const all = q_high.or(s_small.ge(N));
      m.sync(touched, cat(...Array.from({ length: N }, (_, l) => all.or(C(l, LANE_BITS).subWrap(w_lane).trunc(NB).zext(LANE_BITS + 1).lt(s_small)).or(c_flush)).reverse()));
      const q_low_two_up = N > 2 ? q_low.ge(2) : C(0, 1);
      m.sync(crosses, q_high.or(q_low_two_up).or(q_low.eq(1).and(r_zero.not())));
      ctl.next("DECIDE");
    },
    DECIDE: () => {
      const failed = touched.and(lanes_ready.not());
      let lowest: Value = C(N - 1, LANE_BITS);
      for (let l = N - 2; l >= 0; l--) lowest = mux(failed.bit(l), C(l, LANE_BITS), lowest);
      const data_op = c_flush.not();
      const err = mux(config_ok.not(), C(UserErrorClass.NOT_READY, USER_ERROR_CLASS_BITS),
        mux(bad_opcode.or(data_op.and(count_zero.or(out_of_range))), C(UserErrorClass.BAD_REQUEST, USER_ERROR_CLASS_BITS),
          mux(c_write.and(c_atomic).and(crosses), C(UserErrorClass.NOT_ATOMIC, USER_ERROR_CLASS_BITS),
            mux(failed.any(), C(UserErrorClass.MEMBER_FAILED, USER_ERROR_CLASS_BITS), C(UserErrorClass.NONE, USER_ERROR_CLASS_BITS)))));
      m.sync(c_err, err);
      m.sync(c_err_lane, lowest);
      m.sync(w_first, 1);
      m.If(c_flush, () => m.sync(w_lane, 0));
      ctl.next("DISCARD");
    },
    DISCARD: () => {
      m.sync(w_zero, c_err.ne(UserErrorClass.NONE));
      m.If(walks, () => ctl.next("PLAN"))
        .Elif(c_write, () => m.If(route_in.ready, () => ctl.next("FINISH")))
        .Else(() => ctl.next("FINISH"));
    },
    PLAN: () => {
      const boundary = stripes_zero.not();
      const blocks = mux(boundary, mux(w_first, room_first, stripe_blocks), mux(w_first, fit(c_count, BLOCK_BITS), fit(r, BLOCK_BITS)));
      m.sync(p_blocks, blocks);
      m.sync(p_beats, bySel(sel, (k) => fit(blocks.shl(6 + k), BEAT_BITS)));
      m.sync(p_last, mux(c_flush, flush_last, boundary.not().or(stripes_left.one.and(r_zero))));
      const rowLba = bySel(sel, (k) => fit(log2B(k) === 0 ? w_row : w_row.shl(log2B(k)), 64));
      m.sync(p_lba, mux(c_flush, c_lba, rowLba.or(mux(w_first, c_off, C(0, OFF_BITS)).zext(64))));
      ctl.next("SEND");
    },
    SEND: () => {
      m.If(send, () => {
        m.sync(w_first, 0);
        m.sync(w_lane, w_lane.addWrap(1).and(C(N - 1, LANE_BITS)));
        m.If(w_lane.eq(LAST_LANE).and(c_flush.not()), () => m.sync(w_row, row_plus1));
        m.If(p_last, () => ctl.next("FINISH")).Else(() => ctl.next("PLAN"));
      });
    },
    FINISH: () => {
      m.If(records_in.ready, () => {
        m.sync(alloc_seq, alloc_seq.addWrap(1));
        ctl.next("IDLE");
      });
    },
  });

  // The FIFO pushes.
  m.comb(records_in.valid, ctl.is("FINISH"));
  // A record's read flag: its read data will come (the read was sent, or becomes zeros).
  m.comb(records_in.data, cat(c_tag, c_read.and(walks), c_write, c_err, c_err_lane));
  m.comb(order_in.valid, send.and(c_read));
  m.comb(order_in.data, cat(w_zero, w_lane, lane_seq.reduce<Value>((acc, seq, l) => (l === 0 ? seq : mux(w_lane.eq(l), seq, acc)), C(0, laneTagBits)), p_beats, p_last, c_tag));
  const discard_push = ctl.is("DISCARD").and(c_write).and(c_err.ne(UserErrorClass.NONE));
  m.comb(route_in.valid, send.and(c_write).or(discard_push));
  m.comb(route_in.data, cat(discard_push, w_lane, p_beats, p_last.or(discard_push), alloc_seq.bits(SLOT_BITS - 1, 0)));
  inflight_fifo.forEach((f, l) => {
    m.comb(f.ports.in.signals.valid, send_normal.and(w_lane.eq(l)));
    m.comb(f.ports.in.signals.data, cat(alloc_seq, c_read));
  });
  m.comb(cmd.ready, cmd_ready);

  // The lanes' command registers.
  lane_command.forEach((lc, l) => {
    const s = lc.signals;
    const valid = lane_cmd_valid[l];
    const load = send_normal.and(w_lane.eq(l));
    const regs = {
      opcode: m.signal(USER_OPCODE_BITS, { name: `lane${l}_cmd_opcode`, resetless: true }),
      nsid: m.signal(32, { name: `lane${l}_cmd_nsid`, resetless: true }),
      lba: m.signal(64, { name: `lane${l}_cmd_lba`, resetless: true }),
      count: m.signal(32, { name: `lane${l}_cmd_count`, resetless: true }),
      tag: m.signal(laneTagBits, { name: `lane${l}_cmd_tag`, resetless: true }),
      fua: m.signal(1, { name: `lane${l}_cmd_fua`, resetless: true }),
      atomic: m.signal(1, { name: `lane${l}_cmd_atomic`, resetless: true }),
    };
    m.If(load, () => {
      m.sync(valid, 1);
      m.sync(regs.opcode, c_opcode);
      m.sync(regs.nsid, c_nsid);
      m.sync(regs.lba, p_lba);
      m.sync(regs.count, mux(c_flush, c_count, p_blocks.zext(32)));
      m.sync(regs.tag, lane_seq[l]);
      m.sync(regs.fua, c_fua);
      m.sync(regs.atomic, c_atomic);
    }).Elif(s.ready, () => m.sync(valid, 0));
    m.If(load, () => m.sync(lane_seq[l], lane_seq[l].addWrap(1)));
    m.comb(s.valid, valid);
    m.comb(s.opcode, regs.opcode);
    m.comb(s.nsid, regs.nsid);
    m.comb(s.lba, regs.lba);
    m.comb(s.block_count, regs.count);
    m.comb(s.tag, regs.tag);
    m.comb(s.fua, regs.fua);
    m.comb(s.atomic, regs.atomic);
  });

  // ---- completions: taken for the oldest command only, one lane per cycle in turn ----
  const head_seq = m.signal(SEQ_BITS);
  const turn = m.signal(LANE_BITS);
  m.sync(turn, turn.addWrap(1).and(C(N - 1, LANE_BITS)));
  const comp_ready = lane_completion.map((_, l) => m.signal(1, { name: `lane${l}_completion_ready_reg` }));
  const consume = lane_completion.map((lc, l) => comp_ready[l].and(lc.signals.valid));
  const head_match = inflight_fifo.map((f) => f.ports.out.signals.valid.and(f.ports.out.signals.data.bits(SEQ_BITS, 1).eq(head_seq)));
  lane_completion.forEach((lc, l) => {
    m.waiveUnread(lc.signals.tag, "a lane completes in order: its in-flight FIFO says whose completion comes next");
    m.sync(comp_ready[l], head_match[l].and(consume[l].not()).and(turn.eq(l)));
    m.comb(lc.signals.ready, comp_ready[l]);
    m.comb(inflight_fifo[l].ports.out.signals.ready, consume[l]);
  });
  const any_consume = cat(...consume).any();
  // A completion taken frees its place a cycle later (the count errs on the safe side meanwhile).
  const consumed_last = m.signal(1);
  m.sync(consumed_last, any_consume);
  m.sync(in_flight, upDown(in_flight, send_normal, consumed_last));
  m.comb(array_in_flight, in_flight);

  // ---- read data: lanes through register slices, chosen in order, out through a register ----
  const read_slice = lane_read_data.map((lr, l) => {
    const slice = m.instance(axisSkidBuffer({ dataWidth: 64, userWidth: laneTagBits }), { name: `lane${l}_read_slice` });
    m.connect(lr, slice.ports.s_axis);
    return slice;
  });
  // A lane's read tlasts taken and not yet matched by a completion; completions that find none are
  // read sub-commands the lane refused (no data): their bytes become zeros.
  const tlasts_ahead = read_slice.map((_, l) => m.signal(INFLIGHT_BITS + 2, { name: `lane${l}_tlasts_ahead` }));
  const refused = read_slice.map((_, l) => m.signal(INFLIGHT_BITS + 2, { name: `lane${l}_refused` }));
  const rd_active = m.signal(1);
  const rd_zero = m.signal(1);
  const rd_started = m.signal(1);
  const rd_lane = m.signal(LANE_BITS, { resetless: true });
  /** rd_lane one-hot: the lane choice is one AND per lane, not a compare. */
  const rd_lane_hot = m.signal(N, { resetless: true });
  const rd_seq = m.signal(laneTagBits, { resetless: true });
  const rd_last = m.signal(1, { resetless: true });
  const rd_tag = m.signal(tagBits, { resetless: true });
  const out_valid = m.signal(1);
  const out_data = m.signal(64, { resetless: true });
  const out_last = m.signal(1, { resetless: true });
  const out_user = m.signal(tagBits, { resetless: true });
  const reads_done = m.signal(SEQ_BITS);
  const rdo = order.ports.out.signals;
  const entry = {
    tag: rdo.data.bits(tagBits - 1, 0),
    last: rdo.data.bit(tagBits),
    beats: rdo.data.bits(tagBits + BEAT_BITS, tagBits + 1),
    seq: rdo.data.bits(tagBits + BEAT_BITS + laneTagBits, tagBits + BEAT_BITS + 1),
    lane: rdo.data.bits(tagBits + BEAT_BITS + laneTagBits + LANE_BITS, tagBits + BEAT_BITS + laneTagBits + 1),
    zero: rdo.data.bit(orderWidth - 1),
  };
  const load_entry = rd_active.not().and(rdo.valid);
  m.comb(rdo.ready, load_entry);
  const out_free = out_valid.not().or(user_read_data.signals.tready);
  const src = read_slice.map((s) => s.ports.m_axis.signals);
  // A sub-command's first beat is taken only after a cycle in which the lane showed it with the
  // expected lane tag (a registered match: the compare stays off the beat path); the beats after it
  // are the same sub-command's until its tlast.
  const first_ok = m.signal(1);
  const match_now = cat(...src.map((s, l) => s.tvalid.and(s.tuser.eq(rd_seq)).and(rd_lane_hot.bit(l))).reverse()).any();
  const lane_open = rd_started.or(first_ok);
  const lane_valid = cat(...src.map((s, l) => s.tvalid.and(rd_lane_hot.bit(l))).reverse()).any().and(lane_open);
  const lane_data = src.reduce<Value>((acc, s, l) => (l === 0 ? s.tdata : mux(rd_lane.eq(l), s.tdata, acc)), C(0, 64));
  const refused_here = cat(...refused.map((c, l) => c.ne(0).and(rd_lane.eq(l))).reverse()).any();
  const go_zero = rd_active.and(rd_zero.not()).and(rd_started.not()).and(first_ok.not()).and(refused_here);
  const beat = rd_active.and(out_free).and(rd_zero.or(lane_valid));
  const beats_left = pieceDownCounter(m, "read_beats_left", { width: BEAT_BITS, load: load_entry, value: entry.beats, step: beat });
  const entry_done = beat.and(beats_left.one);
  m.sync(first_ok, rd_active.and(rd_zero.not()).and(rd_started.not()).and(load_entry.not()).and(match_now));
  src.forEach((s, l) => m.comb(s.tready, rd_active.and(rd_zero.not()).and(out_free).and(rd_lane_hot.bit(l)).and(lane_open)));
  m.If(load_entry, () => {
    m.sync(rd_active, 1);
    m.sync(rd_zero, entry.zero);
    m.sync(rd_started, 0);
    m.sync(rd_lane, entry.lane);
    m.sync(rd_lane_hot, cat(...Array.from({ length: N }, (_, l) => entry.lane.eq(l)).reverse()));
    m.sync(rd_seq, entry.seq);
    m.sync(rd_last, entry.last);
    m.sync(rd_tag, entry.tag);
  }).Elif(go_zero, () => m.sync(rd_zero, 1))
    .Elif(beat, () => {
      m.sync(rd_started, 1);
      m.If(entry_done, () => m.sync(rd_active, 0));
    });
  m.If(beat, () => {
    m.sync(out_valid, 1);
    m.sync(out_data, mux(rd_zero, C(0, 64), lane_data));
    m.sync(out_last, beats_left.one.and(rd_last));
    m.sync(out_user, rd_tag);
  }).Elif(user_read_data.signals.tready, () => m.sync(out_valid, 0));
  // A read's data is over when the user takes its last beat: its completion comes after that.
  m.If(out_valid.and(user_read_data.signals.tready).and(out_last), () => m.sync(reads_done, reads_done.addWrap(1)));
  const ur = user_read_data.signals;
  m.comb(ur.tvalid, out_valid);
  m.comb(ur.tdata, out_data);
  m.comb(ur.tlast, out_last);
  m.comb(ur.tuser, out_user);
  m.comb(ur.tkeep, 0xff);
  lane_read_data.forEach((lr, l) => {
    const tlast_in = lr.signals.tvalid.and(lr.signals.tready).and(lr.signals.tlast);
    const read_completion = consume[l].and(inflight_fifo[l].ports.out.signals.data.bit(0));
    const was_refused = read_completion.and(tlasts_ahead[l].eq(0));
    m.sync(tlasts_ahead[l], upDown(tlasts_ahead[l], tlast_in, read_completion.and(was_refused.not())));
    // Counted a cycle later, from a register: the lane's completion handshake (through the lane's
    // logic) meets no counter chain. The read side waits for data or a refusal, so the cycle only
    // delays the zeros by one.
    const refusal_taken = m.signal(1, { name: `lane${l}_refusal_taken` });
    m.sync(refusal_taken, was_refused);
    m.sync(refused[l], upDown(refused[l], refusal_taken, go_zero.and(rd_lane.eq(l))));
  });

  // ---- write data: the user's stream through a register slice, dealt to the lanes ----
  const write_slice = m.instance(axisSkidBuffer({ dataWidth: 64 }), { name: "user_write_slice" });
  m.connect(user_write_data, write_slice.ports.s_axis);
  const uw = write_slice.ports.m_axis.signals;
  const rto = route.ports.out.signals;
  const wr_active = m.signal(1);
  const wr_discard = m.signal(1);
  const wr_short = m.signal(1);
  const wr_lane = m.signal(LANE_BITS, { resetless: true });
  const wr_last = m.signal(1, { resetless: true });
  const wr_slot = m.signal(SLOT_BITS, { resetless: true });
  const writes_done = m.signal(SEQ_BITS);
  const length_error = m.signal(1 << SLOT_BITS);
  const route_entry = {
    slot: rto.data.bits(SLOT_BITS - 1, 0),
    last: rto.data.bit(SLOT_BITS),
    beats: rto.data.bits(SLOT_BITS + BEAT_BITS, SLOT_BITS + 1),
    lane: rto.data.bits(SLOT_BITS + BEAT_BITS + LANE_BITS, SLOT_BITS + BEAT_BITS + 1),
    discard: rto.data.bit(routeWidth - 1),
  };
  const wr_load = wr_active.not().and(rto.valid);
  m.comb(rto.ready, wr_load);
  const lw_valid = lane_write_data.map((_, l) => m.signal(1, { name: `lane${l}_write_valid` }));
  const lw_data = lane_write_data.map((_, l) => m.signal(64, { name: `lane${l}_write_tdata`, resetless: true }));
  const lw_last = lane_write_data.map((_, l) => m.signal(1, { name: `lane${l}_write_tlast`, resetless: true }));
  const lane_out_free = cat(...lane_write_data.map((lw, l) => lw_valid[l].not().or(lw.signals.tready)).reverse());
  const forwarding = wr_active.and(wr_discard.not());
  const fwd_beat = forwarding.and(pick(lane_out_free, wr_lane)).and(wr_short.or(uw.tvalid));
  const wr_beats_left = pieceDownCounter(m, "write_beats_left", { width: BEAT_BITS, load: wr_load, value: route_entry.beats, step: fwd_beat });
  const user_take = mux(wr_discard, wr_active, fwd_beat.and(wr_short.not()));
  m.comb(uw.tready, user_take);
  const took_tlast = user_take.and(uw.tvalid).and(uw.tlast);
  const sub_end = fwd_beat.and(wr_beats_left.one);
  // Command over: its last sub-command's last beat (the user's tlast with it or before it), or the
  // user's tlast while discarding (a refused write, or the rest of a stream that ran long).
  const long_stream = sub_end.and(wr_last).and(wr_short.not()).and(took_tlast.not());
  const write_over = wr_discard.and(took_tlast).or(sub_end.and(wr_last).and(long_stream.not()));
  m.If(wr_load, () => {
    m.sync(wr_active, 1);
    m.sync(wr_discard, route_entry.discard);
    m.sync(wr_lane, route_entry.lane);
    m.sync(wr_last, route_entry.last);
    m.sync(wr_slot, route_entry.slot);
  }).Elif(long_stream, () => m.sync(wr_discard, 1))
    .Elif(write_over.or(sub_end), () => m.sync(wr_active, 0));
  m.If(write_over, () => m.sync(wr_short, 0)).Elif(fwd_beat.and(took_tlast).and(wr_beats_left.one.not().or(wr_last.not())), () => m.sync(wr_short, 1));
  m.If(write_over, () => m.sync(writes_done, writes_done.addWrap(1)));
  const short_now = fwd_beat.and(took_tlast).and(wr_beats_left.one.not().or(wr_last.not()));
  const set_length_error = short_now.or(long_stream);
  lane_write_data.forEach((lw, l) => {
    const beat_here = fwd_beat.and(wr_lane.eq(l));
    m.If(beat_here, () => {
      m.sync(lw_valid[l], 1);
      m.sync(lw_data[l], mux(wr_short, C(0, 64), uw.tdata));
      m.sync(lw_last[l], wr_beats_left.one);
    }).Elif(lw.signals.tready, () => m.sync(lw_valid[l], 0));
    m.comb(lw.signals.tvalid, lw_valid[l]);
    m.comb(lw.signals.tdata, lw_data[l]);
    m.comb(lw.signals.tlast, lw_last[l]);
    m.comb(lw.signals.tkeep, 0xff);
  });

  // ---- retire: the oldest command completes once nothing of it is left anywhere ----
  const rec = records.ports.out.signals;
  const record = {
    lane: rec.data.bits(LANE_BITS - 1, 0),
    err: rec.data.bits(LANE_BITS + USER_ERROR_CLASS_BITS - 1, LANE_BITS),
    write: rec.data.bit(LANE_BITS + USER_ERROR_CLASS_BITS),
    read: rec.data.bit(LANE_BITS + USER_ERROR_CLASS_BITS + 1),
    tag: rec.data.bits(recordWidth - 1, LANE_BITS + USER_ERROR_CLASS_BITS + 2),
  };
  const reads_retired = m.signal(SEQ_BITS);
  const writes_retired = m.signal(SEQ_BITS);
  const lanes_clear = m.signal(1);
  const data_clear = m.signal(1);
  const retired_last = m.signal(1);
  // The head record shown for a cycle before it may retire, so the registered flags describe it.
  const rec_seen = m.signal(1);

  m.sync(lanes_clear, cat(...head_match).any().not());
  m.sync(data_clear, record.read.not().or(reads_done.ne(reads_retired)).and(record.write.not().or(writes_done.ne(writes_retired))));
  const comp_valid = m.signal(1);
  const retire = rec.valid.and(rec_seen).and(lanes_clear).and(data_clear).and(retired_last.not()).and(comp_valid.not());
  m.sync(rec_seen, rec.valid.and(retire.not()));
  m.sync(retired_last, retire);
  m.comb(rec.ready, retire);
  const head_err = m.signal(USER_ERROR_CLASS_BITS);
  const head_status = m.signal(15, { resetless: true });
  // The first lane error of the oldest command (lowest lane first within a cycle; one lane a cycle anyway).
  let lane_err: Value = C(0, USER_ERROR_CLASS_BITS);
  let lane_status: Value = C(0, 15);
  let lane_index: Value = C(0, LANE_BITS);
  for (let l = N - 1; l >= 0; l--) {
    const c = lane_completion[l].signals;
    const hit = consume[l].and(c.error_class.ne(0));
    lane_err = mux(hit, c.error_class, lane_err);
    lane_status = mux(hit, c.status, lane_status);
    lane_index = mux(hit, C(l, LANE_BITS), lane_index);
  }
  // Registered first (the lanes' completion words come through each lane's logic): kept a cycle
  // after the take. The head retires at the earliest two cycles after its last completion is taken
  // (lanes_clear is registered from the in-flight FIFOs), when head_err has it; the next command's
  // completions are taken only after the retire (head_match needs head_seq moved on).
  const taken_err = m.signal(USER_ERROR_CLASS_BITS);
  const taken_status = m.signal(15, { resetless: true });
  const taken_lane = m.signal(LANE_BITS, { resetless: true });
  m.sync(taken_err, lane_err);
  m.sync(taken_status, lane_status);
  m.sync(taken_lane, lane_index);
  // A lane that answers NOT_READY, TIMEOUT or PCIE_FAULT has failed under the command: the user
  // learns which member (MEMBER_FAILED, status = its index), as for a member found failed before.
  const member_fault = taken_err.eq(UserErrorClass.NOT_READY).or(taken_err.eq(UserErrorClass.TIMEOUT)).or(taken_err.eq(UserErrorClass.PCIE_FAULT));
  m.If(retire, () => m.sync(head_err, 0)).Elif(head_err.eq(0).and(taken_err.ne(0)), () => {
    m.sync(head_err, mux(member_fault, C(UserErrorClass.MEMBER_FAILED, USER_ERROR_CLASS_BITS), taken_err));
    m.sync(head_status, mux(member_fault, taken_lane.zext(15), taken_status));
  });
  const comp_class = m.signal(USER_ERROR_CLASS_BITS, { resetless: true });
  const comp_status = m.signal(15, { resetless: true });
  const comp_tag = m.signal(tagBits, { resetless: true });
  const slotOf = (seq: Value) => seq.bits(SLOT_BITS - 1, 0);
  const bad_length = length_error.bitAt(slotOf(head_seq));
  m.If(retire, () => {
    m.sync(comp_valid, 1);
    m.sync(comp_tag, record.tag);
    m.If(record.err.ne(0), () => {
      m.sync(comp_class, record.err);
      m.sync(comp_status, mux(record.err.eq(UserErrorClass.MEMBER_FAILED), record.lane.zext(15), C(0, 15)));
    }).Elif(head_err.ne(0), () => {
      m.sync(comp_class, head_err);
      m.sync(comp_status, head_status);
    }).Elif(bad_length, () => {
      m.sync(comp_class, UserErrorClass.BAD_REQUEST);
      m.sync(comp_status, 0);
    }).Else(() => {
      m.sync(comp_class, UserErrorClass.NONE);
      m.sync(comp_status, 0);
    });
    m.sync(head_seq, head_seq.addWrap(1));
    m.If(record.read, () => m.sync(reads_retired, reads_retired.addWrap(1)));
    m.If(record.write, () => m.sync(writes_retired, writes_retired.addWrap(1)));
  }).Elif(user_completion.signals.ready, () => m.sync(comp_valid, 0));
  // Length errors by record seq: set by the write side, cleared as the record retires.
  const setAt = Array.from({ length: 1 << SLOT_BITS }, (_, i) => wr_slot.eq(i));
  const clearAt = Array.from({ length: 1 << SLOT_BITS }, (_, i) => slotOf(head_seq).eq(i));
  m.sync(length_error, cat(...setAt.map((s, i) => mux(set_length_error.and(s), C(1, 1), mux(retire.and(clearAt[i]), C(0, 1), length_error.bit(i)))).reverse()));
  const uc = user_completion.signals;
  m.comb(uc.valid, comp_valid);
  m.comb(uc.tag, comp_tag);
  m.comb(uc.error_class, comp_class);
  m.comb(uc.status, comp_status);

  return m.exposing(ports);
}
