// Turns one TLP at a time — a request header or a completion header, and the payload stream that
// goes with it — into 7-series s_axis_tx beats (PROTOCOL_FACTS §A.3–A.5): {DW1, DW0} first, then
// {DW3, DW2} for a 4DW header, the payload byte-swapped per DW into wire order and, after a 3DW
// header, shifted up by one DW ({D0, DW2}, {D2, D1}, ...). tkeep is 0xFF except 0x0F on a last beat
// holding one DW; tuser is 0 (no ECRC, no poisoning, store-and-forward).
//
// The next header is taken in the cycle after the previous TLP's last beat, so TLPs leave back to
// back. When both header ports are valid the completion goes first; the arbiter in front of the
// packer presents one at a time. `req_four_dw` comes with the request header: the arbiter computes
// the 4DW decision (address[63:32] != 0) from its holding registers, so the widest compare on a
// header does not sit in front of this state machine. `payload` carries the payload of the TLP
// whose header was taken last: exactly ceil(length/2) words, counted from the header's Length.
// `input_error` pulses for a word whose tlast or tkeep disagrees with that count (the count wins),
// and for a request address with bits [1:0] set (they are ignored: the byte offset is in first_be).
//
// The beats go through a skid buffer, so s_axis_tx is registered and its tready reaches nothing
// combinationally. Combinational paths, by design: cpl_valid -> req_ready (the priority), and
// nothing else.
import { C, Module, type Value, cat, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import { completionHeader, coreTxStream, payloadStream, requestHeader, type TlpLayerParams } from "./tlp-interfaces.ts";
import { hex16 } from "./tlp-interfaces.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "./tlp-constants.ts";
import { completionHeaderDws, requestHeaderDws } from "./tx-header-fields.ts";


/** Memory-order DW (address byte 0 in [7:0]) to wire order (byte 0 in [31:24]). */
function wireOrder(dw: Value): Value {
  return cat(dw.bits(7, 0), dw.bits(15, 8), dw.bits(23, 16), dw.bits(31, 24));
}

/**
 * Packs a request or completion header and its payload into 7-series s_axis_tx beats, with the
 * per-DW byte swap and the 3DW-header realignment; outputs through a register slice.
 */
export function tlpTxPacker(params: Pick<TlpLayerParams, "requesterId">) {
  const id = params.requesterId;
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`tlpTxPacker: requesterId ${id} is not a 16-bit ID`);
  const m = new Module(`tlp_tx_packer_id${id.toString(16).padStart(4, "0")}`);
  m.parameters({ requesterId: hex16(id) });
  m.documentCombinationalPaths("cpl_valid -> req_ready: a waiting completion goes first");
  const req = m.port(requestHeader, "slave");
  /** Qualifies req_*: the request takes a 4DW header (requestNeedsFourDw, registered upstream). */
  const req_four_dw = m.input(1);
  const cpl = m.port(completionHeader, "slave");
  const payload = m.port(payloadStream, "slave");
  const s_axis_tx = m.port(coreTxStream, "master");
  const input_error = m.output(1);

  const output = m.instance(axisSkidBuffer({ dataWidth: 64, userWidth: 4 }), { name: "output_slice" });
  const beat = output.ports.s_axis.signals;
  m.connect(output.ports.m_axis, s_axis_tx);
  const beat_ready = beat.tready;

  const request = requestHeaderDws(req.signals, req_four_dw, id);
  const completion = completionHeaderDws(cpl.signals, id);
  const take_completion = cpl.signals.valid;
  const header_valid = cpl.signals.valid.or(req.signals.valid);
  const header_dw0 = mux(take_completion, completion.dw0, request.dw0);
  const header_dw1 = mux(take_completion, completion.dw1, request.dw1);
  const header_dw2 = mux(take_completion, completion.dw2, request.dw2);
  const header_four_dw = mux(take_completion, completion.fourDw, request.fourDw);
  const header_has_data = mux(take_completion, completion.hasData, request.hasData);
  const header_length = mux(take_completion, cpl.signals.length_dw, req.signals.length_dw);
  // Length 0 encodes 1024 DW; a payload word carries two DWs.
  const header_dws = mux(header_length.any(), header_length.zext(11), C(1024, 11));
  const header_words = header_dws.add(1).shr(1).trunc(10);

  // After a 3DW header `held` starts as DW2 and then carries the high DW of the previous payload
  // word; after a 4DW header it holds DW2 until the {DW3, DW2} beat.
  const held = m.signal(32, { resetless: true });
  const dw3 = m.signal(32, { resetless: true });
  const four_dw = m.signal(1);
  const has_data = m.signal(1);
  const odd_dws = m.signal(1);
  const words_left = m.signal(10);

  const ctl = m.fsm(["START", "HEADER_TAIL", "PAYLOAD", "FLUSH"]);
  const final_word = words_left.eq(1);
  const expected_keep = mux(final_word.and(odd_dws), KEEP_LOW_DW, KEEP_BOTH_DW);
  const payload_word = payload.signals.tdata;
  const payload_low = wireOrder(payload_word.bits(31, 0));
  const payload_high = wireOrder(payload_word.bits(63, 32));

  const beat_valid = m.signal(1);
  const beat_data = m.signal(64);
  const beat_keep = m.signal(8);
  const beat_last = m.signal(1);
  const payload_ready = m.signal(1);
  m.If(ctl.is("START"), () => {
    m.comb(beat_valid, header_valid);
    m.comb(beat_data, cat(header_dw1, header_dw0));
    m.comb(beat_keep, KEEP_BOTH_DW);
  }).Elif(ctl.is("HEADER_TAIL"), () => {
    m.comb(beat_valid, 1);
    m.comb(beat_data, cat(dw3, held));
    m.comb(beat_keep, KEEP_BOTH_DW);
    m.comb(beat_last, has_data.not());
  }).Elif(ctl.is("PAYLOAD"), () => {
    m.comb(payload_ready, beat_ready);
    m.comb(beat_valid, payload.signals.tvalid);
    m.If(four_dw, () => {
      m.comb(beat_data, cat(payload_high, payload_low));
      m.comb(beat_keep, expected_keep);
      m.comb(beat_last, final_word);
    }).Else(() => {
      m.comb(beat_data, cat(payload_low, held));
      m.comb(beat_keep, KEEP_BOTH_DW);
      m.comb(beat_last, final_word.and(odd_dws));
    });
  }).Else(() => {
    m.comb(beat_valid, 1);
    m.comb(beat_data, cat(C(0, 32), held));
    m.comb(beat_keep, KEEP_LOW_DW);
    m.comb(beat_last, 1);
  });
  const beat_fire = beat_valid.and(beat_ready);

  ctl.body({
    START: () => {
      m.If(beat_fire, () => {
        m.sync(held, header_dw2);
        m.sync(dw3, request.dw3);
        m.sync(four_dw, header_four_dw);
        m.sync(has_data, header_has_data);
        m.sync(odd_dws, header_dws.bit(0));
        m.sync(words_left, header_words);
        m.If(header_four_dw, () => ctl.next("HEADER_TAIL"))
          .Elif(header_has_data, () => ctl.next("PAYLOAD"))
          .Else(() => ctl.next("FLUSH"));
      });
    },
    HEADER_TAIL: () => {
      m.If(beat_fire, () => m.If(has_data, () => ctl.next("PAYLOAD")).Else(() => ctl.next("START")));
    },
    PAYLOAD: () => {
      m.If(beat_fire, () => {
        m.sync(held, payload_high);
        m.sync(words_left, words_left.subWrap(1));
        // A 3DW TLP with an even number of DWs still has the last word's high DW to send.
        m.If(final_word, () => m.If(four_dw.or(odd_dws), () => ctl.next("START")).Else(() => ctl.next("FLUSH")));
      });
    },
    FLUSH: () => {
      m.If(beat_fire, () => ctl.next("START"));
    },
  });

  const header_taken = ctl.is("START").and(beat_ready);
  m.comb(cpl.signals.ready, header_taken);
  m.comb(req.signals.ready, header_taken.and(cpl.signals.valid.not()));
  m.comb(payload.signals.tready, payload_ready);
  m.comb(beat.tvalid, beat_valid);
  m.comb(beat.tdata, beat_data);
  m.comb(beat.tkeep, beat_keep);
  m.comb(beat.tlast, beat_last);
  m.comb(beat.tuser, C(0, 4));

  const payload_mismatch = payload.signals.tlast.ne(final_word).or(payload.signals.tkeep.ne(expected_keep));
  const unaligned_request = req.signals.ready.and(req.signals.valid).and(req.signals.address.bits(1, 0).any());
  m.sync(input_error, ctl.is("PAYLOAD").and(beat_fire).and(payload_mismatch).or(unaligned_request));
  return m.exposing({ req, req_four_dw, cpl, payload, s_axis_tx, input_error });
}
