// Cuts one memory read from the SSD into the CplDs that answer it (PCIe Base §2.3.1.1; the
// reference is sim/pcie/completion-split.ts): every CplD but the last ends on a naturally aligned
// read completion boundary, none carries more than MPS bytes, each is as large as those two rules
// allow. For each CplD it hands out, in the same cycle, the completion header and the request for
// its payload DWs to the data source. One CplD per cycle once a read is loaded (loading takes one).
//
// The arithmetic runs on DW offsets inside the read's 4 KiB page: a read that crosses a page is
// malformed, and the receive parser drops it before it gets here (the formal assumption below
// says so; such a read would have its offsets wrap inside the page).
import { C, Module, type Value, cat, mux } from "../../hdl/index.ts";
import { type TlpLayerParams, completerDataRequest, completionHeader, receivedMemoryRead } from "./tlp-interfaces.ts";

export type CompleterSplitParams = Pick<TlpLayerParams, "maxPayloadBytes" | "readCompletionBoundary">;

const MPS_CHOICES = [128, 256, 512, 1024, 2048, 4096];
const RCB_CHOICES = [64, 128];
/** DW offsets in a 4 KiB page. */
const OFFSET_DW_BITS = 10;
/** DW counts up to a whole page, 1..1024. */
const COUNT_DW_BITS = 11;
const PAGE_BITS = 52;
/** Byte counts up to a whole page, 1..4096. */
const COUNT_BYTE_BITS = COUNT_DW_BITS + 2;

export function checkCompleterSplitParams({ maxPayloadBytes, readCompletionBoundary }: CompleterSplitParams): void {
  if (!MPS_CHOICES.includes(maxPayloadBytes)) {
    throw new RangeError(`completer: maxPayloadBytes ${maxPayloadBytes} is not one of ${MPS_CHOICES.join(", ")}`);
  }
  if (!RCB_CHOICES.includes(readCompletionBoundary)) {
    throw new RangeError(`completer: readCompletionBoundary ${readCompletionBoundary} is not 64 or 128`);
  }
}

/**
 * Cuts one memory read from the SSD into the CplDs that answer it (ends on the read completion
 * boundary, at most MPS bytes each), handing out one CplD header and its data request per cycle.
 */
export function tlpCompleterSplitter(params: CompleterSplitParams) {
  checkCompleterSplitParams(params);
  const mpsDw = params.maxPayloadBytes / 4;
  const rcbDwBits = Math.log2(params.readCompletionBoundary / 4);
  const m = new Module(`tlp_completer_splitter_mps${params.maxPayloadBytes}_rcb${params.readCompletionBoundary}`);
  m.parameters({ maxPayloadBytes: params.maxPayloadBytes, readCompletionBoundary: params.readCompletionBoundary });
  const mem_read = m.port(receivedMemoryRead, "slave");
  const data_request = m.port(completerDataRequest, "master");
  const completion = m.port(completionHeader, "master");
  /** The Requester ID of the read a data request belongs to, valid with data_request_valid (its CplD's). */
  const data_request_requester_id = m.output(16);
  const read = mem_read.signals;
  m.waiveUnread(read.address, "bits [1:0] of a DW address are zero");
  m.waiveUnread(read.last_be, "only the highest enabled byte of the last DW matters, and bit 0 is it when nothing above is");

  // The read being cut: where its next CplD starts, how many DWs are still owed, and how many
  // bytes of those DWs are not requested (before the first byte while it is still owed, after the
  // last byte). Everything a CplD needs follows from these registers with one carry chain at most.
  const busy = m.signal(1);
  const page = m.signal(PAGE_BITS, { resetless: true });
  const cursor_dw = m.signal(OFFSET_DW_BITS, { resetless: true });
  const remaining_dw = m.signal(COUNT_DW_BITS, { resetless: true });
  const lead = m.signal(2, { resetless: true });
  const pad = m.signal(2, { resetless: true });
  const unrequested = m.signal(3, { resetless: true });
  const requester_id = m.signal(16, { resetless: true });
  const tag = m.signal(8, { resetless: true });
  const tc = m.signal(3, { resetless: true });
  const attr = m.signal(2, { resetless: true });

  // The registered outputs.
  const request_valid = m.signal(1);
  const request_address = m.signal(64, { resetless: true });
  const request_length_dw = m.signal(COUNT_DW_BITS, { resetless: true });
  const header_valid = m.signal(1);
  const header_byte_count = m.signal(12, { resetless: true });
  const header_lower_address = m.signal(7, { resetless: true });
  const header_length_dw = m.signal(10, { resetless: true });
  const header_requester_id = m.signal(16, { resetless: true });
  const header_tag = m.signal(8, { resetless: true });
  const header_tc = m.signal(3, { resetless: true });
  const header_attr = m.signal(2, { resetless: true });

  // What the read asks for: 0 in length_dw means 1024; a 1-DW read takes its last byte from first_be
  // (a zero-length read, first_be 0000, asks for the DW's byte 0).
  const read_length_dw = mux(read.length_dw.eq(0), C(1024, COUNT_DW_BITS), read.length_dw.zext(COUNT_DW_BITS));
  m.If(read.valid, () => m.assume(read.address.bits(11, 2).zext(COUNT_DW_BITS).add(read_length_dw).le(1024)));
  const read_lead = lowestEnabledByte(read.first_be);
  const read_pad = mux(read.length_dw.eq(1), highestEnabledByte(read.first_be), highestEnabledByte(read.last_be)).not();

  // The next CplD: the rest of the read if it fits in MPS, else up to the last RCB boundary MPS
  // reaches (MPS is a multiple of the RCB, so that is MPS less the cursor's offset into its RCB).
  const is_final = remaining_dw.le(mpsDw);
  const to_boundary_dw = C(mpsDw, COUNT_DW_BITS).subWrap(cursor_dw.bits(rcbDwBits - 1, 0).zext(COUNT_DW_BITS));
  const chunk_dw = mux(is_final, remaining_dw, to_boundary_dw);
  const byte_count = cat(remaining_dw, C(0, 2)).subWrap(unrequested.zext(COUNT_BYTE_BITS));
  // Only taken when the read goes on past the boundary, which therefore lies inside the page.
  const boundary_offset = clearLowBits(cursor_dw, rcbDwBits).zext(COUNT_DW_BITS).addWrap(mpsDw).trunc(OFFSET_DW_BITS);

  const outputs_free = request_valid.not().or(data_request.signals.ready).and(header_valid.not().or(completion.signals.ready));
  const emit = busy.and(outputs_free);
  const load = read.valid.and(busy.not());

  m.If(load, () => {
    m.sync(busy, 1);
    m.sync(page, read.address.bits(63, 12));
    m.sync(cursor_dw, read.address.bits(11, 2));
    m.sync(remaining_dw, read_length_dw);
    m.sync(lead, read_lead);
    m.sync(pad, read_pad);
    m.sync(unrequested, read_lead.zext(3).addWrap(read_pad.zext(3)));
    m.sync(requester_id, read.requester_id);
    m.sync(tag, read.tag);
    m.sync(tc, read.tc);
    m.sync(attr, read.attr);
  }).Elif(emit, () => {
    m.sync(cursor_dw, boundary_offset);
    m.sync(remaining_dw, remaining_dw.subWrap(to_boundary_dw));
    m.sync(lead, 0);
    m.sync(unrequested, pad.zext(3));
    m.If(is_final, () => m.sync(busy, 0));
  });

  m.If(emit, () => {
    m.sync(request_valid, 1);
    m.sync(request_address, cat(page, cursor_dw, C(0, 2)));
    m.sync(request_length_dw, chunk_dw);
    m.sync(header_valid, 1);
    m.sync(header_byte_count, byte_count.trunc(12));
    m.sync(header_lower_address, cat(cursor_dw.bits(4, 0), lead));
    m.sync(header_length_dw, chunk_dw.trunc(10));
    m.sync(header_requester_id, requester_id);
    m.sync(header_tag, tag);
    m.sync(header_tc, tc);
    m.sync(header_attr, attr);
  }).Else(() => {
    m.If(data_request.signals.ready, () => m.sync(request_valid, 0));
    m.If(completion.signals.ready, () => m.sync(header_valid, 0));
  });

  m.comb(read.ready, busy.not());
  m.comb(data_request.signals.valid, request_valid);
  m.comb(data_request.signals.address, request_address);
  m.comb(data_request.signals.length_dw, request_length_dw);
  // The header's register: it changes only when a CplD is emitted, which waits for the request slot.
  m.comb(data_request_requester_id, header_requester_id);
  const header = completion.signals;
  m.comb(header.valid, header_valid);
  m.comb(header.has_data, 1);
  m.comb(header.status, 0);
  m.comb(header.byte_count, header_byte_count);
  m.comb(header.lower_address, header_lower_address);
  m.comb(header.length_dw, header_length_dw);
  m.comb(header.requester_id, header_requester_id);
  m.comb(header.tag, header_tag);
  m.comb(header.tc, header_tc);
  m.comb(header.attr, header_attr);
  return m.exposing({ mem_read, data_request, data_request_requester_id, completion });
}

/** Index of the lowest enabled byte of a byte-enable nibble (0 when none is). */
function lowestEnabledByte(be: Value): Value {
  return mux(be.bit(0), C(0, 2), mux(be.bit(1), C(1, 2), mux(be.bit(2), C(2, 2), mux(be.bit(3), C(3, 2), C(0, 2)))));
}

/** Index of the highest enabled byte of a byte-enable nibble (0 when none is). */
function highestEnabledByte(be: Value): Value {
  return mux(be.bit(3), C(3, 2), mux(be.bit(2), C(2, 2), mux(be.bit(1), C(1, 2), C(0, 2))));
}

function clearLowBits(value: Value, count: number): Value {
  return count === 0 ? value : cat(value.bits(value.width - 1, count), C(0, count));
}
