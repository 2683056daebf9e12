// The transmit side of the TLP layer: `requestSources` request sources and one completion source,
// arbitrated (tx-arbiter.ts: completions first with a bound, requests round-robin, whole TLPs)
// and packed into 7-series s_axis_tx beats (tx-packer.ts). Every output is a flip-flop or a
// register-only decode (header readies are holding-register flags, payload treadys the payload
// owner ANDed with the packer's state): no combinational path from any input to any output.
import { Module } from "../../hdl/index.ts";
import { completionHeader, coreTxStream, hex16, payloadStream, requestHeader, type TlpLayerParams } from "./tlp-interfaces.ts";
import { type TlpTxArbiterParams, tlpTxArbiter } from "./tlp-tx-arbiter.ts";
import { tlpTxPacker } from "./tlp-tx-packer.ts";

export type TlpTxParams = Pick<TlpLayerParams, "requesterId"> & TlpTxArbiterParams;

/**
 * The transmit side of the TLP layer: request sources and one completion source, arbitrated and
 * packed into 7-series s_axis_tx beats.
 */
export function tlpTx(params: TlpTxParams): Module {
  const id = params.requesterId.toString(16).padStart(4, "0");
  const m = new Module(`tlp_tx_r${params.requestSources}_c${params.completionRun}_id${id}`);
  m.parameters({ requesterId: hex16(params.requesterId), requestSources: params.requestSources, completionRun: params.completionRun });
  const arbiter = m.instance(tlpTxArbiter(params), { name: "arbiter" });
  const packer = m.instance(tlpTxPacker(params), { name: "packer" });

  for (let i = 0; i < params.requestSources; i++) {
    m.connect(m.port(requestHeader, "slave", { prefix: `req${i}` }), arbiter.bundle(requestHeader, `req${i}`));
    m.connect(m.port(payloadStream, "slave", { prefix: `req${i}_payload` }), arbiter.bundle(payloadStream, `req${i}_payload`));
  }
  m.connect(m.port(completionHeader, "slave", { prefix: "cpl" }), arbiter.bundle(completionHeader, "cpl"));
  m.connect(m.port(payloadStream, "slave", { prefix: "cpl_payload" }), arbiter.bundle(payloadStream, "cpl_payload"));

  m.connect(arbiter.bundle(requestHeader, "sel_req"), packer.bundle(requestHeader, "req"));
  m.connect(arbiter.bundle(completionHeader, "sel_cpl"), packer.bundle(completionHeader, "cpl"));
  m.connect(arbiter.bundle(payloadStream, "sel_payload"), packer.bundle(payloadStream, "payload"));
  m.comb(packer.io.req_four_dw, arbiter.io.sel_req_four_dw);
  m.connect(packer.bundle(coreTxStream, "s_axis_tx"), m.port(coreTxStream, "master", { prefix: "s_axis_tx" }));

  const input_error = m.output(1);
  m.comb(input_error, packer.io.input_error);
  return m;
}
