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
// only asks for a timeout inside a range), then the sweep reaches it within `tags` cycles.
import { C, Module, addressBits, bitsFor, cat, mux } from "../../hdl/index.ts";
import type { TlpLayerParams } from "./tlp-interfaces.ts";

export type CompletionTimeoutParams = Pick<TlpLayerParams, "tags" | "completionTimeoutCycles">;

/** Prescaler ticks after which an armed tag has expired: 3 bits of age per tag, at most 17 % late. */
export const AGE_LIMIT = 7;
const AGE_BITS = bitsFor(AGE_LIMIT);
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

export function tlpCompletionTimeout({ tags, completionTimeoutCycles }: CompletionTimeoutParams): Module {
  checkTagCount(tags);
  const period = tickPeriod(completionTimeoutCycles);
  const tagBits = addressBits(tags);
  const m = new Module(`tlp_completion_timeout_t${tags}_c${completionTimeoutCycles}`);
  /** A request with this tag went out: arm its timer. */
  const start_valid = m.input(1);
  const start_tag = m.input(tagBits);
  /** Its final completion came in: disarm. */
  const stop_valid = m.input(1);
  const stop_tag = m.input(tagBits);
  const expired_valid = m.output(1);
  const expired_tag = m.output(tagBits);

  const prescaler = m.signal(bitsFor(period - 1));
  const tick = prescaler.eq(0);
  m.sync(prescaler, mux(tick, C(period - 1, prescaler.width), prescaler.subWrap(1)));

  const armed = Array.from({ length: tags }, (_, i) => m.signal(1, { name: `armed_${i}` }));
  const age = Array.from({ length: tags }, (_, i) => m.signal(AGE_BITS, { name: `age_${i}` }));
  const sweep = m.signal(tagBits);
  const visited_expired = cat(...armed.map((a, i) => a.and(age[i].eq(AGE_LIMIT)).and(sweep.eq(i)))).any();
  const reap = visited_expired.and(stop_valid.and(stop_tag.eq(sweep)).not());
  m.sync(sweep, sweep.addWrap(1));

  for (let i = 0; i < tags; i++) {
    const starting = start_valid.and(start_tag.eq(i));
    const ending = stop_valid.and(stop_tag.eq(i)).or(reap.and(sweep.eq(i)));
    m.If(starting, () => {
      m.sync(armed[i], 1);
      m.sync(age[i], 0);
    }).Elif(ending, () => {
      m.sync(armed[i], 0);
    }).Elif(tick.and(armed[i]).and(age[i].ne(AGE_LIMIT)), () => {
      m.sync(age[i], age[i].addWrap(1));
    });
  }

  const reaped = m.signal(1);
  const reaped_tag = m.signal(tagBits, { resetless: true });
  m.sync(reaped, reap);
  m.sync(reaped_tag, sweep);
  m.comb(expired_valid, reaped);
  m.comb(expired_tag, reaped_tag);
  return m;
}
