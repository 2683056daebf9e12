// The transmit side of the TLP layer: `requestSources` request sources and one completion source,
// arbitrated (tx-arbiter.ts: completions first with a bound, requests round-robin, whole TLPs)
// and packed into 7-series s_axis_tx beats (tx-packer.ts). Every output is a flip-flop or a
// register-only decode (header readies are holding-register flags, payload treadys the payload
// owner ANDed with the packer's state): no combinational path from any input to any output.
import { type Bundle, type FieldOf, Module } from "../../hdl/index.ts";
import { type TlpLayerParams, hex16, payloadStream, requestHeader } from "./tlp-interfaces.ts";
import { type TlpTxArbiterParams, tlpTxArbiter } from "./tlp-tx-arbiter.ts";
import { tlpTxPacker } from "./tlp-tx-packer.ts";

export type TlpTxParams = Pick<TlpLayerParams, "requesterId"> & TlpTxArbiterParams;

/**
 * The transmit side of the TLP layer: request sources and one completion source, arbitrated and
 * packed into 7-series s_axis_tx beats.
 */
export function tlpTx(params: TlpTxParams) {
  const id = params.requesterId.toString(16).padStart(4, "0");
  const m = new Module(`tlp_tx_r${params.requestSources}_c${params.completionRun}_id${id}`);
  m.parameters({ requesterId: hex16(params.requesterId), requestSources: params.requestSources, completionRun: params.completionRun });
  const arbiter = m.instance(tlpTxArbiter(params), { name: "arbiter" });
  const packer = m.instance(tlpTxPacker(params), { name: "packer" });

  const reqs: Bundle<FieldOf<typeof requestHeader>>[] = [];
  const req_payloads: Bundle<FieldOf<typeof payloadStream>>[] = [];
  for (let i = 0; i < params.requestSources; i++) {
    reqs.push(m.promote(arbiter.ports.reqs[i]));
    req_payloads.push(m.promote(arbiter.ports.req_payloads[i]));
  }
  const cpl = m.promote(arbiter.ports.cpl);
  const cpl_payload = m.promote(arbiter.ports.cpl_payload);

  m.connect(arbiter.ports.sel_req, packer.ports.req);
  m.connect(arbiter.ports.sel_cpl, packer.ports.cpl);
  m.connect(arbiter.ports.sel_payload, packer.ports.payload);
  m.comb(packer.ports.req_four_dw, arbiter.ports.sel_req_four_dw);
  const s_axis_tx = m.promote(packer.ports.s_axis_tx);

  const input_error = m.promote(packer.ports.input_error);
  return m.exposing({ reqs, req_payloads, cpl, cpl_payload, s_axis_tx, input_error });
}
