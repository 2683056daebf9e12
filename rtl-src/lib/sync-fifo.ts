// A synchronous first-word-fall-through FIFO whose storage is block RAM. The RAM's registered
// read port is the output register: a word is read ahead as soon as the output is free, so the
// head word is on `out_data` with `out_valid` high, and a read every cycle sustains full rate.
// Capacity is depth + 1 words (the RAM plus the output register).
import { Module, type Signal, type Value, addressBits, bitsFor, cat, defineBundle, mux } from "../../hdl/index.ts";

export interface SyncFifoOptions {
  /** Bits per word. */
  width: number;
  /** RAM words (a power of two maps best to block RAM). */
  depth: number;
}

/**
 * First-word-fall-through FIFO in block RAM, `depth` + 1 words (the RAM and its output register);
 * `count` is the number of words held.
 */
export function syncFifo({ width, depth }: SyncFifoOptions) {
  const stream = defineBundle(`stream${width}`, { data: ["forward", width], valid: ["forward", 1], ready: ["backward", 1] });
  const m = new Module(`sync_fifo_w${width}_d${depth}`);
  m.parameters({ width, depth });
  const in_ = m.port(stream, "slave", { prefix: "in" });
  const out = m.port(stream, "master", { prefix: "out" });
  const count = m.output(bitsFor(depth + 1));

  const ram = m.memory({ width, depth });

  const pointerWidth = addressBits(depth);
  // A power-of-two RAM keeps one more pointer bit (the lap), so the words it holds are the pointers'
  // difference and a write needs nothing after `push` but the pointer's clock enable. Another depth
  // keeps a word counter instead: it steps with `push` and `pull` (see step()).
  const lapped = depth >= 2 && isPowerOfTwo(depth);
  const write_pointer = m.signal(lapped ? pointerWidth + 1 : pointerWidth);
  const read_pointer = m.signal(lapped ? pointerWidth + 1 : pointerWidth);
  const ram_words = m.signal(bitsFor(depth));
  const ram_full = m.signal(1);
  const head_valid = m.signal(1);
  const words = m.signal(count.width);
  const address = (pointer: Signal): Value => (lapped ? pointer.bits(pointerWidth - 1, 0) : pointer);

  const push = in_.signals.valid.and(ram_full.not());
  const ram_holds = lapped ? write_pointer.ne(read_pointer) : ram_words.ne(0);
  const pull = ram_holds.and(head_valid.not().or(out.signals.ready));
  const out_fire = head_valid.and(out.signals.ready);

  ram.writePort({ addr: address(write_pointer), data: in_.signals.data, en: push });
  const read = ram.readPort({ addr: address(read_pointer), en: pull });

  m.If(push, () => m.sync(write_pointer, nextPointer(write_pointer, depth)));
  m.If(pull, () => m.sync(read_pointer, nextPointer(read_pointer, depth)));
  if (lapped) m.comb(ram_words, write_pointer.subWrap(read_pointer));
  else m.sync(ram_words, step(ram_words, push, pull));
  // Full next cycle: one word in (none out) to a RAM one short of full, or full and no change. Not a
  // compare after the +/- step: `pull` depends on the reader's ready, which may come late.
  const ram_one_short = ram_words.eq(depth - 1);
  m.sync(ram_full, mux(push.xor(pull), push.and(ram_one_short), ram_full));
  m.If(pull, () => m.sync(head_valid, 1)).Elif(out.signals.ready, () => m.sync(head_valid, 0));
  m.sync(words, step(words, push, out_fire));

  // The counters agree with each other and with the pointers (the words between them, modulo depth).
  m.assert(ram_words.le(depth));
  m.assert(ram_full.eq(ram_words.eq(depth)));
  const words_held = ram_words.zext(count.width).add(head_valid.zext(count.width));
  m.assert(words.eq(words_held.trunc(count.width)));
  if (!lapped && isPowerOfTwo(depth)) m.assert(write_pointer.subWrap(read_pointer).eq(ram_words.trunc(pointerWidth)));

  m.comb(in_.signals.ready, ram_full.not());
  m.comb(out.signals.valid, head_valid);
  m.comb(out.signals.data, read.data);
  m.comb(count, words);
  return m.exposing({ in: in_, out, count });
}

/**
 * `counter` + `up` - `down` (the counter never leaves 0..max), as the bits that flip: bit i flips
 * going up when every bit below it is 1, going down when every bit below it is 0. The terms come
 * from the register alone and the strobes only gate them, so late strobes meet no carry chain. Not
 * written as a mux of counter+1 and counter-1: Yosys shares two operators of one kind under a mux
 * as one operator of a muxed operand (opt_share), which puts the strobes in front of the carry chain
 * (or of a wide XOR): tlp_rx's payload queue and the striper's in-flight queues mapped to 7-8 levels.
 */
function step(counter: Signal, up: Value, down: Value): Value {
  const rising = up.and(down.not());
  const falling = down.and(up.not());
  const flips: Value[] = [];
  for (let i = counter.width - 1; i >= 0; i--) {
    if (i === 0) flips.push(up.xor(down));
    else {
      const below = counter.bits(i - 1, 0);
      flips.push(rising.and(below.all()).or(falling.and(below.any().not())));
    }
  }
  return counter.xor(cat(...flips));
}

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

/** The pointer after `pointer`, wrapping at `depth` (which need not be a power of two). */
function nextPointer(pointer: Signal, depth: number): Value {
  return isPowerOfTwo(depth) ? pointer.addWrap(1) : mux(pointer.eq(depth - 1), 0, pointer.addWrap(1));
}
