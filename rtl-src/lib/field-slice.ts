// Inline logic: a register slice for a valid/ready bundle that is not an AXI4-Stream (a request, a
// header, a queue entry), of any width; builds no module. It is axis_skid_buffer's logic on a
// packed word of the fields (an instance of that module would need a width in whole bytes and
// leave the padding unread): full throughput, the ready towards the source and everything towards
// the consumer are flip-flops, one skid register holds the word in flight when the consumer stops.
// A module that takes an input port through one has a registered ready and no path from its inner
// logic back to the port; one that drives an output port from one has registered outputs.
//
// With `{ skid: false }` the slice is one register and its ready is that register's emptiness:
// half the flip-flops, a word every other cycle at most. For ports whose words come far apart (a
// command's length, a read-out entry), where a word waits while the one before is being worked on.
import { type Module, type Signal, type Value, cat } from "../../hdl/index.ts";

export interface FieldSlice<K extends string> {
  /** To the source: the slice takes a word this cycle when `valid` is high (a flip-flop). */
  ready: Value;
  /** The word at the slice's output (flip-flops). */
  valid: Value;
  fields: Record<K, Value>;
  /** Driven by the caller (m.comb): the consumer takes the word at the output when `valid` is high. */
  take: Signal;
}

export interface FieldSliceOptions {
  /** false: no skid register; ready is the output register's emptiness (default true). */
  skid?: boolean;
}

/** Places a slice (registers `<name>_*`) in `m` for `fields` offered with `valid`. */
export function fieldSlice<K extends string>(m: Module, name: string, fields: Record<K, Value>, valid: Value, options: FieldSliceOptions = {}): FieldSlice<K> {
  const names = Object.keys(fields) as K[];
  if (names.length === 0) throw new RangeError(`fieldSlice ${name}: no fields`);
  if (valid.width !== 1) throw new RangeError(`fieldSlice ${name}: valid is ${valid.width} bits`);
  const width = names.reduce((sum, k) => sum + fields[k].width, 0);
  const input = cat(...names.map((k) => fields[k].asUnsigned()));

  const out_word = m.signal(width, { name: `${name}_word`, resetless: true });
  const out_valid = m.signal(1, { name: `${name}_valid` });
  const take = m.signal(1, { name: `${name}_take` });
  let in_ready: Value;
  if (options.skid ?? true) {
    const skid_word = m.signal(width, { name: `${name}_skid_word`, resetless: true });
    const skid_valid = m.signal(1, { name: `${name}_skid_valid` });
    const ready = m.signal(1, { name: `${name}_ready`, reset: 1 });
    const input_fire = valid.and(ready);
    const output_free = take.or(out_valid.not());
    const skid_valid_next = output_free.not().and(skid_valid.or(input_fire));
    m.If(output_free, () => {
      m.If(skid_valid, () => {
        m.sync(out_word, skid_word);
        m.sync(out_valid, 1);
      }).Else(() => {
        m.sync(out_word, input);
        m.sync(out_valid, input_fire);
      });
    }).Elif(input_fire, () => {
      m.sync(skid_word, input);
    });
    m.sync(skid_valid, skid_valid_next);
    m.sync(ready, skid_valid_next.not());
    in_ready = ready;
  } else {
    in_ready = out_valid.not();
    m.If(out_valid.not(), () => {
      m.sync(out_word, input);
      m.sync(out_valid, valid);
    }).Elif(take, () => m.sync(out_valid, 0));
  }

  const out = {} as Record<K, Value>;
  let lsb = width;
  for (const k of names) {
    const w = fields[k].width;
    lsb -= w;
    out[k] = out_word.bits(lsb + w - 1, lsb);
  }
  return { ready: in_ready, valid: out_valid, fields: out, take };
}
