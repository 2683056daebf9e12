// Formal properties of a valid/ready stream (AXI4-Stream rules, AMBA IHI 0051 §2.2): once valid is
// high it stays high until ready takes the beat, and the payload does not change meanwhile. On a
// block's inputs they are assumptions (the environment keeps them), on its outputs assertions (the
// block must). The "previous cycle" registers these need live in the module the helper is called
// on: call it from a formal-only harness module (see tools/formal-proofs.ts), never from a block
// that goes into generated/, whose synthesis and lint must not see them.
//
// Beat accounting (no beat lost or duplicated) is `beatCounter`: count handshakes on each side and
// relate the counts, and, where a block passes data through unchanged, `sequencedInput` makes every
// input beat carry its own sequence number so the output can be checked beat by beat.
import { Bundle, type Module, type Value, cat } from "../../hdl/index.ts";

/** A stream as its handshake and its payload (every forward field but valid, concatenated). */
export interface StreamView {
  valid: Value;
  ready: Value;
  payload: Value;
}

/** The StreamView of a bundle with `tvalid`/`tready` (AXI4-Stream) or `valid`/`ready` fields. */
export function streamView(bundle: Bundle<string>, options: { omit?: readonly string[] } = {}): StreamView {
  const axis = bundle.fieldNames.includes("tvalid");
  const validField = axis ? "tvalid" : "valid";
  const readyField = axis ? "tready" : "ready";
  if (!bundle.fieldNames.includes(validField) || !bundle.fieldNames.includes(readyField)) {
    throw new RangeError(`streamView: bundle ${bundle.def.name} has no valid/ready pair`);
  }
  const payloadFields = bundle.fieldNames.filter(
    (f) => f !== validField && f !== readyField && bundle.def.fields[f].direction === "forward" && !(options.omit ?? []).includes(f),
  );
  if (payloadFields.length === 0) throw new RangeError(`streamView: bundle ${bundle.def.name} has no payload field`);
  return {
    valid: bundle.signals[validField],
    ready: bundle.signals[readyField],
    payload: cat(...payloadFields.map((f) => bundle.signals[f])),
  };
}

/** What `axisRules` leaves for further properties: the handshake of this cycle. */
export interface StreamRules {
  /** valid and ready: a beat moves this cycle. */
  fire: Value;
}

/**
 * The AXI4-Stream rules on `stream`: assumed when the block receives it (`"input"`), asserted when
 * the block sends it (`"output"`). Holds last cycle's valid, ready and payload in registers named
 * `<name>_was_*` (the valid one is cleared by reset, so the cycle after reset is unconstrained).
 */
export function axisRules(m: Module, stream: StreamView, side: "input" | "output", name: string): StreamRules {
  const was_valid = m.signal(1, { name: `${name}_was_valid` });
  const was_ready = m.signal(1, { name: `${name}_was_ready`, resetless: true });
  const was_payload = m.signal(stream.payload.width, { name: `${name}_was_payload`, resetless: true });
  m.sync(was_valid, stream.valid);
  m.sync(was_ready, stream.ready);
  m.sync(was_payload, stream.payload);
  const stalled = was_valid.and(was_ready.not());
  const held = stalled.not().or(stream.valid.and(stream.payload.eq(was_payload)));
  if (side === "input") m.assume(held);
  else m.assert(held);
  return { fire: stream.valid.and(stream.ready) };
}

/** A wrapping counter of the cycles `fire` is high, named `name` (cleared by reset). */
export function beatCounter(m: Module, fire: Value, width: number, name: string): Value {
  const count = m.signal(width, { name });
  m.If(fire, () => m.sync(count, count.addWrap(1)));
  return count;
}

/**
 * Input-side accounting for a block that passes `data` through unchanged: assumes that every input
 * beat's `data` is its own sequence number (the count of beats before it, modulo 2^width), and
 * returns that count. The block's output beat n must then carry n: a lost beat, a duplicated beat
 * or a reordering shows as a wrong number.
 */
export function sequencedInput(m: Module, fire: Value, data: Value, name: string): Value {
  const count = beatCounter(m, fire, data.width, name);
  m.assume(data.eq(count));
  return count;
}
