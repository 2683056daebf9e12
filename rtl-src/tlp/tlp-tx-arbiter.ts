// Chooses which TLP the packer sends next, among `requestSources` request sources and one
// completion source, and routes the chosen TLP's payload stream to the packer.
//
// Policy:
// - Completions first, with a bound: while a request waits, at most `completionRun` completions
//   go in a row before one request goes. Completions thus never wait behind more than one
//   request, and requests never behind more than `completionRun` completions.
// - Requests round-robin: after source i is served, source i+1 has the highest priority.
// - Only sources holding a header compete: a source that is not valid (say, a non-posted source
//   stalled on a free tag) never blocks another (say, the posted doorbell writes).
// - Whole TLPs: the packer takes one header, then exactly that TLP's payload; the payload of a
//   write should be ready when its header is presented, since the TLP occupies the link until its
//   last word.
//
// Each source's header lands in a one-entry holding register, so every header `ready` is a
// flip-flop (!held) and the choice is made from registers only; one header per two cycles per
// source is all a TLP (at least two beats) can use. The chosen header waits in a selection
// register, so the packer sees registered headers (sel_req_*, sel_cpl_*), and with the request its
// 4DW decision (sel_req_four_dw), computed per source from the holding register so the packer's
// state machine reads a flip-flop instead of a 32-bit compare. The payload streams pass through
// combinationally: <source>_payload_tvalid/tdata/tkeep/tlast -> sel_payload_*, and
// sel_payload_tready -> <source>_payload_tready, selected by a register (the payload owner).
import { Module, type Signal, type Value, addressBits, mux } from "../../hdl/index.ts";
import { completionHeader, payloadStream, requestHeader } from "./tlp-interfaces.ts";
import { requestNeedsFourDw } from "./tx-header-fields.ts";

export interface TlpTxArbiterParams {
  /** Request sources (configuration, register reads, doorbell writes, ...), 1..16. */
  requestSources: number;
  /** Completions sent in a row, while a request waits, before the request goes (>= 1). */
  completionRun: number;
}

type Fields = Record<string, Signal>;

/** Header fields carried through the holding register (everything forward but `valid`). */
function headerFieldNames<F extends string>(fields: { readonly [K in F]: Signal }): F[] {
  return (Object.keys(fields) as F[]).filter((name) => name !== "valid" && name !== "ready");
}

/**
 * Chooses the next TLP to send: completions first, at most `completionRun` in a row while a
 * request waits, requests round robin; whole TLPs only.
 */
export function tlpTxArbiter(params: TlpTxArbiterParams) {
  const { requestSources: sources, completionRun } = params;
  if (!Number.isInteger(sources) || sources < 1 || sources > 16) {
    throw new RangeError(`tlpTxArbiter: requestSources ${sources} is not 1..16`);
  }
  if (!Number.isInteger(completionRun) || completionRun < 1 || completionRun > 255) {
    throw new RangeError(`tlpTxArbiter: completionRun ${completionRun} is not 1..255`);
  }
  const m = new Module(`tlp_tx_arbiter_r${sources}_c${completionRun}`);
  m.parameters({ requestSources: sources, completionRun });
  m.documentCombinationalPaths("the selected source's payload stream passes through to sel_payload_* (the packer registers it)");
  const reqs = Array.from({ length: sources }, (_, i) => m.port(requestHeader, "slave", { prefix: `req${i}` }));
  const req_payloads = Array.from({ length: sources }, (_, i) => m.port(payloadStream, "slave", { prefix: `req${i}_payload` }));
  const cpl = m.port(completionHeader, "slave");
  const cpl_payload = m.port(payloadStream, "slave");
  const sel_req = m.port(requestHeader, "master");
  const sel_cpl = m.port(completionHeader, "master");
  const sel_payload = m.port(payloadStream, "master");
  /** Qualifies sel_req_*: the selected request takes a 4DW header. */
  const sel_req_four_dw = m.output(1);

  const holdRegister = (port: Fields, prefix: string, taken: Value) => {
    const held = m.signal(1, { name: `${prefix}_held` });
    const fields: Fields = {};
    for (const name of headerFieldNames(port)) fields[name] = m.signal(port[name].shape, { name: `${prefix}_${name}_held`, resetless: true });
    const load = port.valid.and(held.not());
    m.If(taken, () => m.sync(held, 0)).Elif(load, () => m.sync(held, 1));
    m.If(load, () => {
      for (const [name, register] of Object.entries(fields)) m.sync(register, port[name]);
    });
    m.comb(port.ready, held.not());
    return { held, fields };
  };

  const indexBits = addressBits(sources);
  const ownerBits = addressBits(sources + 1);
  const grant = m.signal(indexBits);
  const choose_request = m.signal(1);
  const choose_completion = m.signal(1);
  const held_requests = reqs.map((req, i) => holdRegister(req.signals, `req${i}`, choose_request.and(grant.eq(i))));
  const held_completion = holdRegister(cpl.signals, "cpl", choose_completion);

  // Round-robin: `first` is the source with the highest priority this cycle.
  const first = m.signal(indexBits);
  m.Switch(first, (s) => {
    for (let start = 0; start < sources; start++) {
      s.Case(start, () => {
        for (let k = sources - 1; k >= 0; k--) {
          const i = (start + k) % sources;
          m.If(held_requests[i].held, () => m.comb(grant, i));
        }
      });
    }
  });
  const any_request = held_requests.map((r): Value => r.held).reduce((a, b) => a.or(b));
  const completions_in_row = m.signal(8);
  const completion_turn = held_completion.held.and(any_request.not().or(completions_in_row.lt(completionRun)));

  // The selection register holds the next TLP for the packer, so the choice above and the
  // packer's header formatting sit in different clock cycles. It refills in the cycle the packer
  // takes it; the packer needs a header every second cycle at most.
  const selected = m.signal(1);
  /** Which source the selected TLP came from: 0..n-1 the request sources, n the completion source. */
  const selected_owner = m.signal(ownerBits);
  const selected_is_completion = selected_owner.eq(sources);
  const sel_req_fire = sel_req.signals.valid.and(sel_req.signals.ready);
  const sel_cpl_fire = sel_cpl.signals.valid.and(sel_cpl.signals.ready);
  const selection_taken = sel_req_fire.or(sel_cpl_fire);
  const selection_free = selected.not().or(selection_taken);
  m.comb(choose_completion, selection_free.and(completion_turn));
  m.comb(choose_request, selection_free.and(any_request).and(completion_turn.not()));

  const granted: Fields = {};
  for (const name of headerFieldNames(sel_req.signals)) granted[name] = m.signal(sel_req.signals[name].shape, { name: `granted_${name}` });
  const granted_four_dw = m.signal(1);
  m.Switch(grant, (s) => {
    held_requests.forEach((request, i) => {
      s.Case(i, () => {
        for (const [name, register] of Object.entries(request.fields)) m.comb(granted[name], register);
        m.comb(granted_four_dw, requestNeedsFourDw(request.fields.kind, request.fields.address));
      });
    });
  });
  const selectionRegisters = (port: Fields, prefix: string, source: Fields, load: Value) => {
    const registers = headerFieldNames(port).map((name) => [name, m.signal(port[name].shape, { name: `${prefix}_${name}`, resetless: true })] as const);
    m.If(load, () => {
      for (const [name, register] of registers) m.sync(register, source[name]);
    });
    for (const [name, register] of registers) m.comb(port[name], register);
  };
  selectionRegisters(sel_req.signals, "selected_req", granted, choose_request);
  const selected_req_four_dw = m.signal(1, { resetless: true });
  m.If(choose_request, () => m.sync(selected_req_four_dw, granted_four_dw));
  m.comb(sel_req_four_dw, selected_req_four_dw);
  selectionRegisters(sel_cpl.signals, "selected_cpl", held_completion.fields, choose_completion);
  const granted_owner = ownerBits > indexBits ? grant.zext(ownerBits) : grant;
  m.If(selection_free, () => {
    m.sync(selected, choose_request.or(choose_completion));
    m.If(choose_completion, () => m.sync(selected_owner, sources)).Elif(choose_request, () => m.sync(selected_owner, granted_owner));
  });
  m.comb(sel_cpl.signals.valid, selected.and(selected_is_completion));
  m.comb(sel_req.signals.valid, selected.and(selected_is_completion.not()));

  m.If(choose_request, () => m.sync(first, mux(grant.eq(sources - 1), 0, grant.addWrap(1))));
  m.If(choose_request, () => m.sync(completions_in_row, 0))
    .Elif(choose_completion.and(completions_in_row.lt(completionRun)), () => m.sync(completions_in_row, completions_in_row.addWrap(1)));

  // The payload owner: the source whose TLP the packer is sending.
  const payload_owner = m.signal(ownerBits);
  m.If(selection_taken, () => m.sync(payload_owner, selected_owner));
  const payload_sources = [...req_payloads, cpl_payload];
  m.Switch(payload_owner, (s) => {
    payload_sources.forEach((source, i) => {
      s.Case(i, () => {
        for (const name of ["tvalid", "tdata", "tkeep", "tlast"] as const) m.comb(sel_payload.signals[name], source.signals[name]);
      });
    });
  });
  payload_sources.forEach((source, i) => m.comb(source.signals.tready, payload_owner.eq(i).and(sel_payload.signals.tready)));
  return m.exposing({ reqs, req_payloads, cpl, cpl_payload, sel_req, sel_cpl, sel_payload, sel_req_four_dw });
}
