// Inline logic for tlp_rx; builds no module: the payload of a received memory write or completion
// in memory order, the per-DW byte swap of PROTOCOL_FACTS §A.4 undone and a 3DW TLP's payload
// (which starts in the high DW of beat 1) shifted down one DW, as one beat stream for the caller to
// steer to the completion or the memory-write payload output.
import { C, type Module, type Value, cat, mux } from "../../hdl/index.ts";
import type { RxHeaderParser } from "./rx-header-parser.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "./tlp-constants.ts";


function byteSwap(dw: Value): Value {
  return cat(dw.bits(7, 0), dw.bits(15, 8), dw.bits(23, 16), dw.bits(31, 24));
}

/**
 * `carries_payload`: the TLP in beat 1 may have a payload to forward (a memory write, or a
 * completion with data: known from registers); `wanted`: it does (a memory write, or a completion
 * of ours: beat 1's requester ID and tag, registered here, so that the wide compare on the input
 * beat feeds one register and nothing else); `payload_ready`: the payload output's registered ready
 * (one payload queue serves both destinations, `payload_to_completion` says which a beat is for).
 * An unwanted payload (a completion for another requester) goes through the same steps, emitting
 * nothing.
 */
export function rxPayloadPath(m: Module, header: RxHeaderParser, fire: Value, carries_payload: Value, wanted: Value, payload_ready: Value) {
  const { parser, beat_low, beat_high, four_dw, length_dw, kind, header_sound, crosses_4k, ends_early, link_up } = header;
  const payload_shift = m.signal(1);
  const payload_to_completion = m.signal(1);
  /** Payload DWs of the current TLP not yet emitted. */
  const dw_left = m.signal(11);
  /** The high DW of the previous beat (3DW TLPs: the low DW of the next output word). */
  const held = m.signal(32, { resetless: true });
  /** A 3DW TLP's last DW is in `held` and goes out alone. */
  const flush_pending = m.signal(1);
  /** The next beat carries payload DWs to forward (unless the TLP crosses 4 KiB): m_axis_rx_tready without a compare on dw_left. */
  const payload_due = m.signal(1);
  /** The payload being parsed goes out (else its beats are consumed and dropped). */
  const payload_wanted = m.signal(1);

  const beat_emits = parser.is("PAYLOAD").and(payload_due).and(payload_wanted).and(crosses_4k.not());
  const emit_fire = fire.and(beat_emits);
  const flush_fire = flush_pending.and(payload_ready.or(payload_wanted.not()));
  // A link drop cuts the TLP whose payload is going out: its header is out already, so the payload
  // ends now, with one last DW (the flush's, whatever `held` has), as a TLP shorter than its Length
  // would (the consumer sees tlast before the announced length).
  const cut_by_link_down = parser.is("PAYLOAD").and(link_up.not()).and(payload_wanted).and(crosses_4k.not()).and(dw_left.ne(0));
  const emit_low = mux(payload_shift, held, beat_low);
  const emit_high = mux(payload_shift, beat_low, beat_high);

  const out_valid = m.signal(1);
  const out_data = m.signal(64);
  const out_keep = m.signal(8);
  const out_last = m.signal(1);
  m.If(flush_pending, () => {
    m.comb(out_valid, payload_wanted);
    m.comb(out_data, cat(C(0, 32), byteSwap(held)));
    m.comb(out_keep, KEEP_LOW_DW);
    m.comb(out_last, 1);
  }).Else(() => {
    m.comb(out_valid, emit_fire);
    m.comb(out_data, cat(byteSwap(emit_high), byteSwap(emit_low)));
    m.comb(out_keep, mux(dw_left.ge(2), KEEP_BOTH_DW, KEEP_LOW_DW));
    m.comb(out_last, dw_left.le(2).or(ends_early));
  });

  // The payload path is loaded before the 4 KiB check is known (crosses_4k keeps such a payload
  // in), but never while a flush is pending: header_room holds such a beat 1 back. A lone flushed
  // DW is the payload of a 1-DW request, which never crosses 4 KiB.
  m.If(parser.is("HEADER1").and(fire).and(carries_payload), () => {
    m.sync(payload_wanted, wanted);
    m.sync(payload_shift, four_dw.not());
    m.sync(payload_to_completion, kind.completion);
    m.sync(dw_left, length_dw);
    m.sync(held, beat_high);
    // header_sound, not header_ok: this branch already has HEADER1 and fire, and the input's ready
    // (the header queues' room by kind) would otherwise reach the register twice (7-8 levels in the
    // striped core: header_room -> in_ready -> fire -> header_ok -> flush_pending).
    m.sync(flush_pending, header_sound.and(four_dw.not()).and(length_dw.eq(1)));
  })
    .Elif(emit_fire, () => {
      m.sync(held, beat_high);
      m.If(ends_early.or(dw_left.le(2)), () => m.sync(dw_left, 0)).Else(() => m.sync(dw_left, dw_left.subWrap(2)));
      m.sync(flush_pending, payload_shift.and(dw_left.eq(3)).and(ends_early.not()));
    })
    .Elif(flush_fire, () => {
      m.sync(flush_pending, 0);
      m.sync(dw_left, 0);
    })
    .Elif(cut_by_link_down, () => m.sync(flush_pending, 1));
  // A shifted (3DW) payload emits a word while two DWs are left (the last one alone is flushed), an
  // unshifted one while any is.
  m.If(parser.is("HEADER1").and(fire), () => m.sync(payload_due, carries_payload.and(four_dw.or(length_dw.ge(2))))).Elif(emit_fire, () =>
    m.sync(payload_due, ends_early.not().and(mux(payload_shift, dw_left.ge(4), dw_left.ge(3)))),
  );

  return { out_valid, out_data, out_keep, out_last, payload_ready, payload_to_completion, beat_emits, flush_pending };
}
