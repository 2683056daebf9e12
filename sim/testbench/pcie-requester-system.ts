// pcie_requester in its place on the TLP layer, for runs behind the link model: the access port
// and the response port are top-level ports the test plays in TypeScript, everything PCIe goes
// through the real layer (one request source, tags, completions, the completion timeout). The
// SSD's memory reads are answered with zeros and its writes drained. A test fixture, not a part
// of the controller.
import { C, Module, emitDesign, mux } from "../../hdl/index.ts";
import { connectRequesterToLayer, pcieRequester } from "../../rtl-src/pcie/pcie-requester.ts";
import { tlpLayer } from "../../rtl-src/tlp/tlp-layer.ts";
import type { TlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator } from "../engine/index.ts";
import { monitorStreams } from "./stream-monitor.ts";

export function pcieRequesterSystem(params: TlpLayerParams, secondaryBus = 1) {
  const m = new Module(`pcie_requester_system_to${params.completionTimeoutCycles}`);
  const layer = m.instance(tlpLayer(params, { requestSources: 1 }), { name: "layer" });
  const requester = m.instance(pcieRequester({ secondaryBus }), { name: "requester" });
  const l = layer.ports;
  const r = requester.ports;
  const s_axis_tx = m.promote(l.s_axis_tx);
  const m_axis_rx = m.promote(l.m_axis_rx);
  const rx_np_ok = m.promote(l.rx_np_ok);
  const user_lnk_up = m.promote(l.user_lnk_up);
  const access = m.promote(r.access);
  const response = m.promote(r.response);
  const stray_completions = m.promote(r.stray_completions);
  connectRequesterToLayer(m, requester, layer);
  // The SSD's reads of host memory read zeros; its writes are drained.
  const read = l.data_request.signals;
  const readData = l.data_response.signals;
  const words_left = m.signal(11);
  const odd = m.signal(1);
  const serving = words_left.ne(0);
  m.comb(read.ready, serving.not());
  m.If(read.valid.and(serving.not()), () => {
    m.sync(words_left, read.length_dw.add(1).shr(1));
    m.sync(odd, read.length_dw.bit(0));
  }).Elif(serving.and(readData.tready), () => m.sync(words_left, words_left.subWrap(1)));
  m.comb(readData.tvalid, serving);
  m.comb(readData.tdata, 0);
  m.comb(readData.tkeep, mux(words_left.eq(1).and(odd), C(0x0f, 8), C(0xff, 8)));
  m.comb(readData.tlast, words_left.eq(1));
  m.comb(l.mem_write.signals.ready, 1);
  m.comb(l.mem_write_data.signals.tready, 1);
  return m.exposing({ s_axis_tx, m_axis_rx, rx_np_ok, user_lnk_up, access, response, stray_completions });
}

export async function buildPcieRequesterSystem(params: TlpLayerParams, engine: EngineName): Promise<Simulator> {
  const { files, design } = emitDesign(pcieRequesterSystem(params));
  const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine });
  return monitorStreams(sim, ["access", "response"]);
}
