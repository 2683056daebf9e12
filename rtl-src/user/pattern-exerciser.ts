// A small built-in user of the controller's user interface (rtl-src/user/user-port.ts), so that a
// board can be tested with nothing else: once the controller is READY and `enable` is high, it
// writes a region of namespace 1 with a pattern distinct per block and per pass, reads it back,
// compares every beat, and counts passes, mismatching beats and failed commands. One command at a
// time (queue depth 1): it proves the data path, not the throughput.
//
// THE EXERCISER OVERWRITES THE SSD: blocks [startLba, startLba + commands x commandBlocks) of
// namespace 1. Use a scratch SSD. On the boards it runs only while a DIP switch says so.
//
// A pass: `commands` writes of `commandBlocks` blocks (LBA startLba + i x commandBlocks, tag i),
// each command, then its data, then its completion; then the same `commands` reads, each beat
// compared with what was written (and its tuser tag and tlast framing); then the next pass. Beat k
// of the block at LBA b in pass p carries {p[15:0], ~b[15:0], b[15:0], k[15:0]}: a block read back
// from the wrong place, the wrong pass or the wrong offset shows as a mismatch. Any completion with
// an error class, any mismatch, or no completion within `timeoutCycles` sets `failed`, and the
// exerciser stops at the end of that pass (or at once on a timeout) until reset.
//
// The region is aligned to its own size, so a block's LBA is the start LBA's high bits and the two
// counters' bits side by side: no adder on the LBA anywhere. It refuses (`refused`, `failed`) an
// SSD with fewer than `minimumCapacityBlocks` (the region's end rounded up to a power of two: a
// test of a few high bits) or a block size that is not 512..4096 bytes.
//
// Every output is a register; the write data leaves through a register slice.
import { C, Module, cat, constant } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { USER_ERROR_CLASS_BITS, UserErrorClass, UserOpcode, userCommand, userCompletion, userReadData, userWriteData } from "./user-port.ts";

export interface PatternExerciserParams {
  /** The controller's tag width (its `io.tagBits`). */
  tagBits: number;
  /** Blocks per command: a power of two, 2..256. */
  commandBlocks: number;
  /** Commands per pass: a power of two, 2..256 (and at most 2^tagBits). */
  commands: number;
  /** First LBA of the region: a multiple of the region's size (commands x commandBlocks). */
  startLba: number;
  /** Longest wait for a command's data and completion, cycles (longer than the controller's own I/O timeout). */
  timeoutCycles: number;
}

/** On the boards: 8 commands of 8 blocks (32 KiB of 512-byte blocks) at LBA 2^20 (512 MiB in), an 8.6 s timeout. */
export const BOARD_EXERCISER: PatternExerciserParams = { tagBits: 8, commandBlocks: 8, commands: 8, startLba: 2 ** 20, timeoutCycles: 2 ** 31 };

/** The largest block the exerciser handles (the controller's LBA sizes are 512..4096 bytes). */
const MAX_BEATS_PER_BLOCK = 4096 / 8;
const BEAT_BITS = 13;

function log2Exact(n: number, what: string, max: number): number {
  if (!Number.isInteger(n) || n < 1 || n > max || (n & (n - 1)) !== 0) throw new RangeError(`patternExerciser: ${what} = ${n}, must be a power of two in 1..${max}`);
  return Math.log2(n);
}

/** The smallest capacity (blocks) the exerciser accepts: the region's end, rounded up to a power of two. */
export function minimumCapacityBlocks(p: PatternExerciserParams): number {
  return 2 ** Math.ceil(Math.log2(p.startLba + p.commands * p.commandBlocks));
}

/** The 64-bit beat `beat` of the block at `lba` in pass `pass` (what the exerciser writes and expects). */
export function exerciserBeat(pass: number, lba: number, beat: number): bigint {
  const lo = BigInt(lba & 0xffff);
  return (BigInt(pass & 0xffff) << 48n) | ((~lo & 0xffffn) << 32n) | (lo << 16n) | BigInt(beat & 0xffff);
}

/**
 * Writes a pattern distinct per block and per pass to a region of namespace 1, reads it back and
 * compares it, pass after pass, through the controller's user interface.
 */
export function patternExerciser(p: PatternExerciserParams = BOARD_EXERCISER) {
  if (!Number.isInteger(p.tagBits) || p.tagBits < 1 || p.tagBits > 16) throw new RangeError(`patternExerciser: tagBits = ${p.tagBits}, must be an integer in 1..16`);
  const blockBits = log2Exact(p.commandBlocks, "commandBlocks", 256);
  const commandBits = log2Exact(p.commands, "commands", 256);
  if (blockBits === 0) throw new RangeError(`patternExerciser: commandBlocks = ${p.commandBlocks}, must be at least 2`);
  if (commandBits === 0) throw new RangeError(`patternExerciser: commands = ${p.commands}, must be at least 2`);
  if (p.commands > 2 ** p.tagBits) throw new RangeError(`patternExerciser: commands = ${p.commands} do not fit in ${p.tagBits}-bit tags`);
  const regionBits = blockBits + commandBits;
  if (!Number.isSafeInteger(p.startLba) || p.startLba < 0 || p.startLba % 2 ** regionBits !== 0 || p.startLba >= 2 ** 48) {
    throw new RangeError(`patternExerciser: startLba = ${p.startLba}, must be a multiple of the region (${2 ** regionBits} blocks) below 2^48`);
  }
  if (!Number.isSafeInteger(p.timeoutCycles) || p.timeoutCycles < 16 || p.timeoutCycles > 2 ** 40) throw new RangeError(`patternExerciser: timeoutCycles = ${p.timeoutCycles}, must be an integer in 16..2^40`);
  const minCapacity = minimumCapacityBlocks(p);
  const capacityBits = Math.log2(minCapacity);

  const m = new Module(`pattern_exerciser_t${p.tagBits}_b${p.commandBlocks}_c${p.commands}_l${p.startLba.toString(16)}_to${p.timeoutCycles}`);
  m.parameters({ ...p, startLba: `0x${p.startLba.toString(16)}`, minimumCapacityBlocks: `0x${minCapacity.toString(16)}` });

  // ---- the user interface, seen from the user's side ----
  const user_command = m.port(userCommand(p.tagBits), "master", { prefix: "user_command" });
  const user_write_data = m.port(userWriteData, "master", { prefix: "user_write_data" });
  const user_read_data = m.port(userReadData(p.tagBits), "slave", { prefix: "user_read_data" });
  const user_completion = m.port(userCompletion(p.tagBits), "slave", { prefix: "user_completion" });
  /** Run (a switch): checked before each pass. */
  const enable = m.input(1);
  /** The controller's status_ready. */
  const ready = m.input(1);
  /** The controller's status_lba_bytes and status_capacity_blocks (namespace 1). */
  const lba_bytes = m.input(32);
  const capacity_blocks = m.input(64);
  m.waiveUnread(capacity_blocks, "only the high bits are tested: the region ends below a power of two");
  /** Between passes the exerciser waits in IDLE; it runs from the first command to the end of a pass. */
  const running = m.output(1);
  /** At least one whole pass written and read back, and no mismatch, failed command or timeout since (cleared when one comes). */
  const verified = m.output(1);
  /** A mismatch, a failed command, a timeout or a refusal: held until reset. */
  const failed = m.output(1);
  /** The SSD was refused: too small for the region, or a block size outside 512..4096 bytes. */
  const refused = m.output(1);
  /** Passes completed. */
  const passes = m.output(32);
  /** Read beats that differed from what was written (data, tag or framing). */
  const mismatches = m.output(32);
  /** Completions with an error class or for another tag, and timeouts. */
  const command_errors = m.output(16);
  /** The error class and NVMe status of the last failed completion (user-port.ts), for a logic analyser. */
  const last_error_class = m.output(USER_ERROR_CLASS_BITS);
  const last_error_status = m.output(15);

  const ctl = m.fsm([
    "IDLE",
    "CHECK",
    "WRITE_COMMAND",
    "WRITE_DATA",
    "WRITE_COMPLETION",
    "READ_COMMAND",
    "READ_DATA",
    "READ_COMPLETION",
    "PASS_DONE",
    "STOPPED",
  ]);

  // ---- counters and the pattern ----
  const pass = m.signal(16);
  const command_index = m.signal(commandBits, { name: "command_index" });
  const block_index = m.signal(blockBits, { name: "block_index" });
  const beat_index = m.signal(BEAT_BITS);
  /** Beats of the block still to come after this one, counted down, and a flag set as it reaches 0 (no comparison on the path). */
  const beats_left = m.signal(BEAT_BITS);
  const beat_last = m.signal(1);
  const last_block = block_index.eq(p.commandBlocks - 1);
  const last_command = command_index.eq(p.commands - 1);
  const block_done = beat_last;
  const command_data_done = block_done.and(last_block);
  const START_LBA_HIGH = constant("START_LBA_HIGH", Math.floor(p.startLba / 2 ** regionBits), 48 - regionBits);
  const regionLow = cat(command_index, block_index);
  /** The command's first LBA and the current block's LBA: the start's high bits and the counters. */
  const command_lba = cat(START_LBA_HIGH, command_index, C(0, blockBits)).zext(64);
  const block_lba = cat(START_LBA_HIGH, regionLow);
  const block_lba_low = block_lba.bits(15, 0);
  const pattern = cat(pass, block_lba_low.not(), block_lba_low, beat_index.zext(16));

  // ---- the command port: registers, held until taken ----
  const cmd = user_command.signals;
  const cmd_valid = m.signal(1);
  const cmd_opcode = m.signal(3);
  const cmd_lba = m.signal(64, { resetless: true });
  const cmd_tag = m.signal(p.tagBits, { resetless: true });
  m.comb(cmd.valid, cmd_valid);
  m.comb(cmd.opcode, cmd_opcode);
  m.comb(cmd.nsid, 1);
  m.comb(cmd.lba, cmd_lba);
  m.comb(cmd.block_count, p.commandBlocks);
  m.comb(cmd.tag, cmd_tag);
  m.comb(cmd.fua, 0);
  m.comb(cmd.atomic, 0);
  const command_taken = cmd_valid.and(cmd.ready);

  // ---- write data: the pattern, through a register slice ----
  const slice = m.instance(axisSkidBuffer({ dataWidth: 64 }), { name: "write_slice" });
  const wr = slice.ports.s_axis.signals;
  m.connect(slice.ports.m_axis, user_write_data);
  const writing = ctl.is("WRITE_DATA");
  m.comb(wr.tvalid, writing);
  m.comb(wr.tdata, pattern);
  m.comb(wr.tkeep, 0xff);
  m.comb(wr.tlast, command_data_done);
  const beat_written = writing.and(wr.tready);

  // ---- read data: taken as it comes, registered, compared over the next cycles ----
  const rd = user_read_data.signals;
  const rd_ready = m.signal(1);
  m.comb(rd.tready, rd_ready);
  const beat_read = rd_ready.and(rd.tvalid);
  const got_data = m.signal(64, { resetless: true });
  const want_data = m.signal(64, { resetless: true });
  const framing_wrong = m.signal(1, { resetless: true });
  const check = m.signal(1);
  m.sync(check, beat_read);
  m.If(beat_read, () => {
    m.sync(got_data, rd.tdata);
    m.sync(want_data, pattern);
    m.sync(framing_wrong, rd.tlast.xor(command_data_done).or(rd.tuser.ne(cmd_tag)).or(rd.tkeep.ne(0xff)));
  });
  // The comparison in two more register stages, 16 bits a piece, so that no path is longer than a
  // piece: the pieces' differences, then their OR. A pass is judged once the stages are empty.
  const piece_differs = m.signal(4);
  const framing_later = m.signal(1);
  const check_later = m.signal(1);
  m.sync(piece_differs, cat(...[3, 2, 1, 0].map((k) => got_data.bits(16 * k + 15, 16 * k).xor(want_data.bits(16 * k + 15, 16 * k)).any())));
  m.sync(framing_later, framing_wrong);
  m.sync(check_later, check);
  const beat_mismatch = m.signal(1);
  m.sync(beat_mismatch, check_later.and(piece_differs.any().or(framing_later)));
  /** No beat is on its way through the comparison. */
  const comparison_idle = check.or(check_later).not();

  // ---- completions ----
  const cpl = user_completion.signals;
  const cpl_ready = m.signal(1);
  m.comb(cpl.ready, cpl_ready);
  const completed = cpl_ready.and(cpl.valid);
  const command_failed = m.signal(1);
  const completion_wrong = cpl.error_class.ne(UserErrorClass.NONE).or(cpl.tag.ne(cmd_tag));
  m.sync(command_failed, completed.and(completion_wrong));
  m.If(completed.and(completion_wrong), () => {
    m.sync(last_error_class, cpl.error_class);
    m.sync(last_error_status, cpl.status);
  });

  // ---- a bound on every wait for the controller ----
  const timer = countdownTimer(m, "wait", { maxCycles: p.timeoutCycles, loads: [{ when: command_taken, cycles: p.timeoutCycles }] });
  const waiting = ctl.is("WRITE_DATA").or(ctl.is("WRITE_COMPLETION")).or(ctl.is("READ_DATA")).or(ctl.is("READ_COMPLETION"));
  const timed_out = m.signal(1);
  m.sync(timed_out, waiting.and(timer.expired));

  // ---- the block size and the capacity, checked once per pass ----
  const lba_ok = m.signal(1);
  const capacity_ok = m.signal(1);
  const beats_minus_one = m.signal(BEAT_BITS);
  const bytes = lba_bytes.bits(15, 0);
  m.sync(lba_ok, bytes.eq(512).or(bytes.eq(1024)).or(bytes.eq(2048)).or(bytes.eq(4096)).and(lba_bytes.bits(31, 16).eq(0)));
  m.sync(capacity_ok, capacity_blocks.bits(63, capacityBits).any());
  // Beats per block minus one, for the block sizes lba_ok accepts (the only ones a pass runs with):
  // a power of two's (size / 8) - 1 is the ones below its bit, so bit i is the OR of the size's bits
  // above i + 3: no carry chain after the controller's decode of LBADS.
  const beatsMinusOne = Array.from({ length: BEAT_BITS }, (_, i) => (i + 4 <= BEAT_BITS + 2 ? lba_bytes.bits(BEAT_BITS + 2, i + 4).any() : C(0, 1)));
  m.sync(beats_minus_one, cat(...beatsMinusOne.reverse()));

  // ---- the sequence ----
  const failed_reg = m.signal(1);
  const refusing = ctl.is("CHECK").and(lba_ok.and(capacity_ok).not());
  const trouble = beat_mismatch.or(command_failed).or(timed_out).or(refusing);
  /** In a state that waits for the controller: a timeout stops the exerciser at once. */
  const stopOnTimeout = () =>
    m.If(timed_out, () => {
      m.sync(cpl_ready, 0);
      m.sync(rd_ready, 0);
      m.sync(verified, 0);
      ctl.next("STOPPED");
    });
  /** The first beat of a block comes next (blocks are at least 512 bytes: never the last beat too). */
  const startBlock = () => {
    m.sync(beat_index, 0);
    m.sync(beats_left, beats_minus_one);
    m.sync(beat_last, 0);
  };
  const advanceBeat = (done: () => void) => {
    m.If(block_done, () => {
      startBlock();
      m.sync(block_index, block_index.addWrap(1));
      m.If(last_block, done);
    }).Else(() => {
      m.sync(beat_index, beat_index.addWrap(1));
      m.sync(beats_left, beats_left.subWrap(1));
      m.sync(beat_last, beats_left.eq(1));
    });
  };
  const issue = (opcode: number) => {
    m.sync(cmd_valid, 1);
    m.sync(cmd_opcode, opcode);
    m.sync(cmd_lba, command_lba);
    m.sync(cmd_tag, command_index.zext(p.tagBits));
    startBlock();
    m.sync(block_index, 0);
  };
  ctl.body({
    IDLE: () => {
      m.If(enable.and(ready), () => ctl.next("CHECK"));
    },
    CHECK: () => {
      // lba_ok / capacity_ok / beats_minus_one were registered from the controller's status last cycle.
      m.sync(command_index, 0);
      m.If(lba_ok.and(capacity_ok), () => {
        issue(UserOpcode.WRITE);
        ctl.next("WRITE_COMMAND");
      }).Else(() => {
        m.sync(refused, 1);
        m.sync(verified, 0);
        ctl.next("STOPPED");
      });
    },
    WRITE_COMMAND: () => {
      m.If(command_taken, () => {
        m.sync(cmd_valid, 0);
        ctl.next("WRITE_DATA");
      });
    },
    WRITE_DATA: () => {
      m.If(beat_written, () =>
        advanceBeat(() => {
          m.sync(cpl_ready, 1);
          ctl.next("WRITE_COMPLETION");
        }),
      );
      stopOnTimeout();
    },
    WRITE_COMPLETION: () => {
      m.If(completed, () => {
        m.sync(cpl_ready, 0);
        m.sync(command_index, command_index.addWrap(1));
        m.If(last_command, () => {
          m.sync(command_index, 0);
          ctl.next("READ_COMMAND");
          m.sync(cmd_valid, 1);
          m.sync(cmd_opcode, UserOpcode.READ);
          m.sync(cmd_lba, cat(START_LBA_HIGH, C(0, regionBits)).zext(64));
          m.sync(cmd_tag, 0);
          startBlock();
          m.sync(block_index, 0);
        }).Else(() => {
          ctl.next("WRITE_COMMAND");
          m.sync(cmd_valid, 1);
          m.sync(cmd_opcode, UserOpcode.WRITE);
          m.sync(cmd_lba, cat(START_LBA_HIGH, command_index.addWrap(1), C(0, blockBits)).zext(64));
          m.sync(cmd_tag, command_index.addWrap(1).zext(p.tagBits));
          startBlock();
          m.sync(block_index, 0);
        });
      });
      stopOnTimeout();
    },
    READ_COMMAND: () => {
      m.If(command_taken, () => {
        m.sync(cmd_valid, 0);
        m.sync(rd_ready, 1);
        ctl.next("READ_DATA");
      });
    },
    READ_DATA: () => {
      // The read ends on the beat the controller marks last, so a framing error cannot hang it.
      m.If(beat_read, () => {
        m.If(rd.tlast, () => {
          m.sync(rd_ready, 0);
          m.sync(cpl_ready, 1);
          ctl.next("READ_COMPLETION");
        });
        advanceBeat(() => undefined);
      });
      stopOnTimeout();
    },
    READ_COMPLETION: () => {
      m.If(completed, () => {
        m.sync(cpl_ready, 0);
        m.sync(command_index, command_index.addWrap(1));
        m.If(last_command, () => ctl.next("PASS_DONE")).Else(() => {
          ctl.next("READ_COMMAND");
          m.sync(cmd_valid, 1);
          m.sync(cmd_opcode, UserOpcode.READ);
          m.sync(cmd_lba, cat(START_LBA_HIGH, command_index.addWrap(1), C(0, blockBits)).zext(64));
          m.sync(cmd_tag, command_index.addWrap(1).zext(p.tagBits));
          startBlock();
          m.sync(block_index, 0);
        });
      });
      stopOnTimeout();
    },
    PASS_DONE: () => {
      // Once the last beat's comparison has come out of its stages, judge the pass (the last
      // mismatch, if any, is in `trouble` now and in `failed_reg` from the next cycle on).
      m.If(comparison_idle, () => {
        m.sync(pass, pass.addWrap(1));
        m.If(failed_reg.or(trouble).not(), () => {
          m.sync(verified, 1);
          ctl.next("IDLE");
        }).Else(() => {
          m.sync(verified, 0);
          ctl.next("STOPPED");
        });
      });
    },
    STOPPED: () => undefined,
  });
  m.If(trouble, () => m.sync(failed_reg, 1));
  m.comb(failed, failed_reg);
  m.sync(running, ctl.is("IDLE").or(ctl.is("STOPPED")).not());
  statusCounter(m, passes, ctl.is("PASS_DONE").and(comparison_idle), "passes");
  statusCounter(m, mismatches, beat_mismatch, "mismatch");
  statusCounter(m, command_errors, command_failed.or(timed_out), "errors");
  return m.exposing({
    user_command,
    user_write_data,
    user_read_data,
    user_completion,
    enable,
    ready,
    lba_bytes,
    capacity_blocks,
    running,
    verified,
    failed,
    refused,
    passes,
    mismatches,
    command_errors,
    last_error_class,
    last_error_status,
  });
}
