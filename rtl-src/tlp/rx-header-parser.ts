// Inline logic for tlp_rx; builds no module: the parser's sequence over the beats of a TLP, the
// header registers it loads from beats 0 and 1 and the fields read from them (by the table of
// tlp-header.ts), and the checks that make a TLP malformed. tlp-rx.ts describes the timing: what
// beat 0 alone decides as it arrives, the framing as beat 1 arrives, the 4 KiB crossing a cycle
// later.
import { C, type Module, type Signal, type Value, cat, mux, toSnakeCase } from "../../hdl/index.ts";
import { decodeRxTlpKind } from "./rx-tlp-kind.ts";
import { type HeaderField, TlpField as F, TlpFieldPart as P } from "./tlp-header.ts";
import type { TlpLayerParams } from "./tlp-interfaces.ts";
import { CPL_STATUS_CA, CPL_STATUS_CRS, CPL_STATUS_SC, CPL_STATUS_UR, KEEP_BOTH_DW, KEEP_LOW_DW } from "./tlp-constants.ts";

const FOUR_KIB_DW = 1024;

/** The DW0 fields kept after beat 0, in the `h0` register, most significant first. */
const H0_FIELDS = [P.hasData, P.fourDw, F.tc, F.ep, F.attr, F.length] as const;
const H0_WIDTH = H0_FIELDS.reduce((sum, f) => sum + f.width, 0);

/**
 * [msb, lsb] of `field` for `.bits(...)` on header DW `dw` (the call stays on the line of the const
 * it is bound to, so the Verilog wire keeps that name).
 */
export function span(field: HeaderField, dw: number): [number, number] {
  if (field.dw !== dw) throw new RangeError(`span: a field of DW${field.dw} read from DW${dw}`);
  return [field.msb, field.lsb];
}

/** [msb, lsb] of `field` in a register packed as `cat(...fields)`. */
function spanIn(fields: readonly HeaderField[], field: HeaderField): [number, number] {
  const index = fields.indexOf(field);
  if (index < 0) throw new RangeError("spanIn: the field is not in the register");
  const lsb = fields.slice(index + 1).reduce((sum, f) => sum + f.width, 0);
  return [lsb + field.width - 1, lsb];
}

/** The classes that steer a TLP after its first beat (reserved and IO/configuration Length are settled by then). */
const ROUTING_KINDS = ["memoryRead", "memoryWrite", "completion", "lockedCompletion", "message", "unsupportedRequest", "lockedRead"] as const;
type RoutingKind = Record<(typeof ROUTING_KINDS)[number], Signal>;

/** One register per routing class, named `kind_<class>`; the parser loads them from beat 0. */
function routingKindRegisters(m: Module): RoutingKind {
  return Object.fromEntries(ROUTING_KINDS.map((key) => [key, m.signal(1, { name: `kind_${toSnakeCase(key)}` })])) as RoutingKind;
}

/** The header fields in beat 1, {H3, H2} of a 4DW header or {D0, H2} of a 3DW one, from its low DW and H3's address bits. */
function beatOneFields(low: Value, highAddressDw: Value, fourDw: Value) {
  const addressDw = mux(fourDw, highAddressDw, low.bits(...span(F.address32, 2)));
  return {
    addressDw,
    address: cat(mux(fourDw, low.bits(...span(F.addressHigh, 2)), C(0, 32)), addressDw, C(0, 2)),
    completionRequester: low.bits(...span(F.completionRequesterId, 2)),
    completionTag: low.bits(...span(F.completionTag, 2)),
    lowerAddress: low.bits(...span(F.lowerAddress, 2)),
  };
}

export type RxHeaderParser = ReturnType<typeof rxHeaderParser>;

/**
 * `fire` is the input handshake (tvalid and the parser's tready, which the caller drives from
 * what the returned state says the current beat needs). `link_up` is the core's user_lnk_up: while
 * it is low the parser is held in START, so a TLP cut off by a link drop (the core presents no more
 * of its beats) does not leave the parser mid-packet, taking the first TLP after the link comes
 * back up for the rest of the lost one.
 */
export function rxHeaderParser(
  m: Module,
  params: Pick<TlpLayerParams, "maxPayloadBytes" | "tags" | "requesterId">,
  input: Record<string, Signal>,
  fire: Value,
  link_up: Value,
) {
  const beat_low = input.tdata.bits(31, 0);
  const beat_high = input.tdata.bits(63, 32);

  // Beat 0 carries {H1, H0}: how many beats the whole TLP takes (header + payload + digest). With
  // P payload DWs and a 3 or 4 DW header (+1 digest DW), the beats after this one are
  // ceil((P + header + digest) / 2) - 1 = (P + header + digest - 1) >> 1.
  const first_has_data = beat_low.bits(...span(P.hasData, 0));
  const first_four_dw = beat_low.bits(...span(P.fourDw, 0));
  const first_digest = beat_low.bits(...span(F.td, 0));
  const first_length = beat_low.bits(...span(F.length, 0));
  const first_payload_dw = mux(first_has_data, mux(first_length.eq(0), C(FOUR_KIB_DW, 11), first_length.zext(11)), C(0, 11));
  // Constants, not an adder, and the 1024-DW case (Length 0) beside the carry chain rather than
  // before it: one carry chain from the input beat to beats_left.
  const header_digest_dw_minus_one = mux(first_four_dw, mux(first_digest, C(4, 3), C(3, 3)), mux(first_digest, C(3, 3), C(2, 3)));
  const first_payload_low = mux(first_has_data, first_length, C(0, 10));
  const first_payload_sum = first_payload_low.zext(11).addWrap(header_digest_dw_minus_one.zext(11));
  const first_payload_four_kib = first_has_data.and(first_length.eq(0));
  // P + header + digest - 1 <= 1024 + 4: bit 10 is the low sum's carry or the 1024 DWs of Length 0.
  const beats_after_first = cat(first_payload_sum.bit(10).or(first_payload_four_kib), first_payload_sum.bits(9, 0)).shr(1).zext(11);
  const first_total_dw_odd = first_payload_dw.bit(0).xor(first_four_dw.not()).xor(first_digest);
  // Two beats: no payload and anything but a 4DW header with a digest, or 1 DW after a bare 3DW header.
  const first_two_beats = mux(first_has_data, first_length.eq(1).and(first_four_dw.not()).and(first_digest.not()), first_four_dw.and(first_digest).not());
  const first_kind = decodeRxTlpKind(beat_low.bits(...span(P.fmtType, 0)));
  const first_length_dw = mux(first_length.eq(0), C(FOUR_KIB_DW, 11), first_length.zext(11));
  const first_first_be = beat_high.bits(...span(F.firstBe, 1));
  const first_last_be = beat_high.bits(...span(F.lastBe, 1));
  const first_bad_byte_enables = mux(first_length_dw.eq(1), first_last_be.ne(0), first_first_be.eq(0).or(first_last_be.eq(0)));
  const first_over_mps = first_has_data.and(first_length_dw.gt(params.maxPayloadBytes / 4));
  const first_memory_request = first_kind.memoryRead.or(first_kind.memoryWrite).or(first_kind.lockedRead);
  /** Everything that makes a TLP malformed and is known from its first beat. */
  const first_malformed = first_kind.reserved
    .or(first_over_mps)
    .or(first_memory_request.and(first_bad_byte_enables))
    .or(first_kind.singleDwRequest.and(first_length_dw.ne(1)));

  // ---- parser state ----
  const parser = m.fsm(["START", "HEADER1", "PAYLOAD", "DISCARD"]);
  /** The DW0 fields used after beat 0 (H0_FIELDS): with data, 4DW header, TC, EP, Attr, Length. */
  const h0 = m.signal(H0_WIDTH, { resetless: true });
  const h1 = m.signal(32, { resetless: true });
  /** Beat 1, {H3, H2} or {D0, H2}, but for H3's reserved bits [1:0]: the routed header's fields. */
  const h23 = m.signal(F.addressLow.width + 32, { resetless: true });
  /** The TLP's class, decoded from its Fmt/Type as beat 0 arrives. */
  const kind = routingKindRegisters(m);
  /** Beat 0 alone makes the TLP malformed (reserved type, over MPS, byte enables, IO/configuration Length). */
  const malformed_first_beat = m.signal(1);
  /** MRd, MWr or MRdLk: the 4 KiB rule applies. */
  const memory_request = m.signal(1);
  /** Length - 1 (mod 1024): the request crosses 4 KiB when its DW address [9:0] plus this carries out. */
  const last_dw_index = m.signal(10, { resetless: true });
  /** A memory request whose beat 1 address carried out (see last_dw_index): it crosses 4 KiB. */
  const crosses_4k = m.signal(1);
  /** The TLP's DW count is odd: its tlast beat carries only the low DW (tkeep 0x0F). */
  const ends_in_low_dw = m.signal(1);
  /** Beats of the current TLP still to come, this one included. */
  const beats_left = m.signal(11);
  /** beats_left is 1: the beat on the input must be the TLP's last (a register, so no compare precedes the framing checks). */
  const last_beat_due = m.signal(1);

  const has_data = h0.bits(...spanIn(H0_FIELDS, P.hasData));
  const four_dw = h0.bits(...spanIn(H0_FIELDS, P.fourDw));
  const tc = h0.bits(...spanIn(H0_FIELDS, F.tc));
  const poisoned = h0.bits(...spanIn(H0_FIELDS, F.ep));
  const attr = h0.bits(...spanIn(H0_FIELDS, F.attr));
  const length_field = h0.bits(...spanIn(H0_FIELDS, F.length));
  const length_dw = mux(length_field.eq(0), C(FOUR_KIB_DW, 11), length_field.zext(11));
  const requester_id = h1.bits(...span(F.requesterId, 1));
  const request_tag = h1.bits(...span(F.tag, 1));
  const last_be = h1.bits(...span(F.lastBe, 1));
  const first_be = h1.bits(...span(F.firstBe, 1));

  let high_address_nonzero: Signal | undefined;
  // Beat 1 carries {H3, H2} (4DW) or {D0, H2} (3DW): checked as it arrives, routed from h23 next cycle.
  const beat1 = beatOneFields(beat_low, beat_high.bits(...span(F.addressLow, 3)), four_dw);
  const routed = beatOneFields(h23.bits(31, 0), h23.bits(h23.width - 1, 32), four_dw);
  const raw_status = h1.bits(...span(F.status, 1));
  const byte_count = h1.bits(...span(F.byteCount, 1));
  const completer_id = h1.bits(...span(F.completerId, 1));
  const defined_status = [CPL_STATUS_SC, CPL_STATUS_UR, CPL_STATUS_CRS, CPL_STATUS_CA]
    .map((code) => raw_status.eq(code))
    .reduce((a, b) => a.or(b));
  // A requester treats a reserved completion status as Unsupported Request (PCIe Base §2.3.2).
  const status = mux(defined_status, raw_status, CPL_STATUS_UR);
  const tag_in_range = params.tags >= 256 ? C(1, 1) : beat1.completionTag.lt(params.tags);
  const expected_completion = kind.completion.and(beat1.completionRequester.eq(params.requesterId)).and(tag_in_range);

  // tkeep is 0xFF on every beat but the last, which has 0x0F when the TLP's DW count is odd (§A.4).
  const keep_bad = input.tkeep.ne(mux(input.tlast.and(ends_in_low_dw), KEEP_LOW_DW, KEEP_BOTH_DW));
  const framing_bad = input.tlast.xor(last_beat_due).or(keep_bad);
  /** Beat 1 on the input passes the header checks, taken or not: for logic already gated by HEADER1 and fire. */
  const header_sound = framing_bad.not().and(malformed_first_beat.not());
  const header_ok = parser.is("HEADER1").and(fire).and(header_sound);
  const carries_past_4k = (addressDw: Value) => addressDw.bits(9, 0).add(last_dw_index).bit(10);
  // The 4 KiB check ends in a register (a carry chain per header size, so no address mux precedes
  // a chain; the header size picks after them) and acts from the next cycle: it withholds the routed
  // header, the payload and the rest of the TLP of a request that crosses. Valid until the next
  // beat 1. One register, not logic on registers: input ready depends on it.
  const beat1_crosses_4k = memory_request.and(
    mux(four_dw, carries_past_4k(beat_high.bits(...span(F.addressLow, 3))), carries_past_4k(beat_low.bits(...span(F.address32, 2)))),
  );
  const ends_early = input.tlast.and(last_beat_due.not());

  /** The link is down: the rest of the TLP being parsed never comes (the last assignment wins). */
  const restartOnLinkDown = () => m.If(link_up.not(), () => parser.next("START"));
  parser.body({
    START: () => {
      // Beat 0's registers load every cycle in START, taken or not (only the beat that is taken
      // leaves START, and nothing reads them before it): the input's decode meets no fire term.
      m.sync(h0, cat(...H0_FIELDS.map((f) => beat_low.bits(...span(f, 0)))));
      m.sync(ends_in_low_dw, first_total_dw_odd);
      m.sync(h1, beat_high);
      m.sync(beats_left, beats_after_first);
      m.sync(last_beat_due, first_two_beats);
      for (const key of ROUTING_KINDS) m.sync(kind[key], first_kind[key]);
      m.sync(malformed_first_beat, first_malformed);
      m.sync(memory_request, first_memory_request);
      m.sync(last_dw_index, first_length.subWrap(1));
      // A TLP that ends in its first beat is shorter than any header: dropped as malformed.
      m.If(fire.and(input.tlast.not()).and(link_up), () => parser.next("HEADER1"));
    },
    HEADER1: () => {
      m.If(fire, () => {
        m.sync(h23, cat(beat_high.bits(...span(F.addressLow, 3)), beat_low));
        m.sync(crosses_4k, beat1_crosses_4k);
        m.sync(beats_left, beats_left.subWrap(1));
        m.sync(last_beat_due, beats_left.eq(2));
        m.If(input.tlast, () => parser.next("START"))
          .Elif(framing_bad.or(malformed_first_beat), () => parser.next("DISCARD"))
          .Else(() => parser.next("PAYLOAD"));
      });
      restartOnLinkDown();
    },
    PAYLOAD: () => {
      m.If(fire, () => {
        m.sync(beats_left, beats_left.subWrap(1));
        m.sync(last_beat_due, beats_left.eq(2));
        m.If(input.tlast, () => parser.next("START")).Elif(last_beat_due, () => parser.next("DISCARD"));
      });
      restartOnLinkDown();
    },
    DISCARD: () => {
      m.If(fire.and(input.tlast), () => parser.next("START"));
      restartOnLinkDown();
    },
  });

  /** The beat taken in the previous cycle showed its TLP malformed (the 4 KiB crossing aside). */
  const malformed = m.signal(1);
  m.sync(
    malformed,
    fire.and(
      mux(
        parser.is("START"),
        input.tlast,
        mux(
          parser.is("HEADER1"),
          framing_bad.or(malformed_first_beat),
          parser.is("PAYLOAD").and(crosses_4k.not()).and(ends_early.or(keep_bad).or(input.tlast.not().and(last_beat_due))),
        ),
      ),
    ),
  );

  return {
    parser,
    beat_low,
    beat_high,
    kind,
    has_data,
    four_dw,
    tc,
    poisoned,
    attr,
    length_field,
    length_dw,
    requester_id,
    request_tag,
    last_be,
    first_be,
    status,
    byte_count,
    completer_id,
    routed: {
      ...routed,
      /**
       * A 4DW header's address [63:32] is not zero: a register loaded with h23 (built when first
       * asked for), so a user of the routed address's high half reads one flip-flop.
       */
      get highAddressNonzero(): Value {
        if (!high_address_nonzero) {
          high_address_nonzero = m.signal(1, { name: "high_address_nonzero", resetless: true });
          m.If(parser.is("HEADER1").and(fire), () => m.sync(high_address_nonzero!, four_dw.and(beat_low.bits(...span(F.addressHigh, 2)).any())));
        }
        return high_address_nonzero;
      },
    },
    link_up,
    expected_completion,
    header_ok,
    header_sound,
    crosses_4k,
    ends_early,
    malformed,
    /**
     * Beat 0 on the input, as h0/h1 load it: for registers that precompute from the header's first
     * beat. They load every cycle in START, taken or not, as h0/h1 do (only a taken beat leaves
     * START): no handshake term between the input beat and their enables.
     */
    first: {
      loads: parser.is("START"),
      lengthIsOne: first_length.eq(1),
      firstBe: first_first_be,
      lastBe: first_last_be,
    },
  };
}
