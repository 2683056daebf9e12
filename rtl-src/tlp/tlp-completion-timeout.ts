// A completion timeout per outstanding tag. Each armed tag keeps a small age counter of prescaler
// ticks (one free-running prescaler serves every tag, so a 50 ms timeout needs only a few
// flip-flops per tag); a tag whose age reaches AGE_LIMIT has expired. A sweep visits one tag per
// cycle, round robin, and reaps the tag it visits if that tag has expired: disarms it and
// announces it with a one-cycle `expired_valid` pulse, so the tag's owner can give up and the
// allocator can hand it out again. (Visiting one tag at a time keeps the logic per cycle to a
// multiplexer, where picking among all expired tags at once would need a priority tree.)
//
// With the tick period P = ceil(completionTimeoutCycles / (AGE_LIMIT - 1)), the first tick after
// `start` comes 1..P cycles later and the tag expires on its AGE_LIMIT-th tick: between
// completionTimeoutCycles + 1 and (AGE_LIMIT * P) cycles after `start`, at most 17 % late (PCIe
// only asks for a timeout inside a range), then the sweep reaches it within 2 x `tags` cycles.
//
// For a short longest path (250 MHz on a 7-series part): a tag's state is one counter, 0 when
// idle and 1 + its age when armed, so that "expired" (AGE_LIMIT + 1, a power of two) is its top
// bit; the sweep's tags-wide choice reads only those bits (flip-flops), a cycle ahead, into a
// register (a tag that expires in the very cycle it is looked at waits for the next round); and
// the prescaler counts down in two halves, the upper one stepping when the lower one was zero (a
// registered flag), so that no carry chain is longer than half the prescaler's width, and its tick
// is a register too. None of this changes when a tag expires.
import { C, Module, type Value, addressBits, bitsFor, cat, mux } from "../../hdl/index.ts";
import type { TlpLayerParams } from "./tlp-interfaces.ts";

export type CompletionTimeoutParams = Pick<TlpLayerParams, "tags" | "completionTimeoutCycles">;

/** Prescaler ticks after which an armed tag has expired: 4 bits of state per tag, at most 17 % late. */
export const AGE_LIMIT = 7;
const EXPIRED = AGE_LIMIT + 1;
const STATE_BITS = bitsFor(EXPIRED);
if ((EXPIRED & (EXPIRED - 1)) !== 0) throw new RangeError(`AGE_LIMIT + 1 (${EXPIRED}) must be a power of two`);
const MAX_TIMEOUT_CYCLES = 2 ** 40;

export function checkTagCount(tags: number): void {
  if (!Number.isInteger(tags) || tags < 2 || tags > 256 || (tags & (tags - 1)) !== 0) {
    throw new RangeError(`tags ${tags} is not a power of two in 2..256`);
  }
}

/** Cycles between prescaler ticks for a timeout of `completionTimeoutCycles`. */
export function tickPeriod(completionTimeoutCycles: number): number {
  if (!Number.isInteger(completionTimeoutCycles) || completionTimeoutCycles < 1 || completionTimeoutCycles > MAX_TIMEOUT_CYCLES) {
    throw new RangeError(`completionTimeoutCycles ${completionTimeoutCycles} is not an integer in 1..2^40`);
  }
  return Math.ceil(completionTimeoutCycles / (AGE_LIMIT - 1));
}

/**
 * A completion timeout per outstanding tag: `start` arms a tag, `stop` disarms it, and a tag left
 * armed for the timeout is announced once on `expired_valid`/`expired_tag`.
 */
export function tlpCompletionTimeout({ tags, completionTimeoutCycles }: CompletionTimeoutParams) {
  checkTagCount(tags);
  const period = tickPeriod(completionTimeoutCycles);
  const tagBits = addressBits(tags);
  const m = new Module(`tlp_completion_timeout_t${tags}_c${completionTimeoutCycles}`);
  m.parameters({ tags, completionTimeoutCycles, tickPeriodCycles: period, ageLimit: AGE_LIMIT });
  /** A request with this tag went out: arm its timer. */
  const start_valid = m.input(1);
  const start_tag = m.input(tagBits);
  /** Its final completion came in: disarm. */
  const stop_valid = m.input(1);
  const stop_tag = m.input(tagBits);
  const expired_valid = m.output(1);
  const expired_tag = m.output(tagBits);

  const prescalerBits = Math.max(2, bitsFor(period - 1));
  const lowBits = Math.ceil(prescalerBits / 2);
  const lowReload = (period - 1) % 2 ** lowBits;
  const highReload = Math.floor((period - 1) / 2 ** lowBits);
  const prescale_low = m.signal(lowBits);
  const prescale_high = m.signal(prescalerBits - lowBits);
  const low_zero = m.signal(1, { reset: 1 });
  const tick = m.signal(1, { reset: 1 });
  // `tick` is high while the count is 0: next cycle's count is 0 after a reload to period - 1 = 0,
  // or after counting down from 1.
  m.sync(tick, mux(tick, C(period === 1 ? 1 : 0, 1), prescale_low.eq(1).and(prescale_high.eq(0))));
  m.If(tick, () => {
    m.sync(prescale_low, lowReload);
    m.sync(prescale_high, highReload);
    m.sync(low_zero, lowReload === 0 ? 1 : 0);
  }).Else(() => {
    m.sync(prescale_low, prescale_low.subWrap(1));
    m.sync(low_zero, prescale_low.eq(1));
    m.If(low_zero, () => m.sync(prescale_high, prescale_high.subWrap(1)));
  });

  const state = Array.from({ length: tags }, (_, i) => m.signal(STATE_BITS, { name: `state_${i}` }));
  const expired = state.map((s) => s.msb());
  const ageing = state.map((s) => s.bits(STATE_BITS - 2, 0).any());
  const starting = (tag: Value) => start_valid.and(start_tag.eq(tag));
  const stopping = (tag: Value) => stop_valid.and(stop_tag.eq(tag));

  // The sweep looks one tag ahead: in the cycle before it visits a tag it registers whether that
  // tag has expired (and is not started or stopped then), so that the visit itself only checks for
  // a stop in that cycle.
  const sweep = m.signal(tagBits);
  const ahead = m.signal(tagBits, { reset: 1 });
  const ahead_expired = m.signal(1);
  m.sync(ahead, ahead.addWrap(1));
  m.sync(sweep, ahead);
  const expired_ahead = cat(...[...expired].reverse()).bitAt(ahead);
  m.sync(ahead_expired, expired_ahead.and(starting(ahead).or(stopping(ahead)).not()));
  const reap = ahead_expired.and(stopping(sweep).not());

  for (let i = 0; i < tags; i++) {
    const tag = C(i, tagBits);
    m.If(starting(tag), () => m.sync(state[i], 1))
      .Elif(stopping(tag).or(reap.and(sweep.eq(i))), () => m.sync(state[i], 0))
      .Elif(tick.and(ageing[i]), () => m.sync(state[i], state[i].addWrap(1)));
  }

  const reaped = m.signal(1);
  const reaped_tag = m.signal(tagBits, { resetless: true });
  m.sync(reaped, reap);
  m.sync(reaped_tag, sweep);
  m.comb(expired_valid, reaped);
  m.comb(expired_tag, reaped_tag);
  return m.exposing({ start_valid, start_tag, stop_valid, stop_tag, expired_valid, expired_tag });
}
