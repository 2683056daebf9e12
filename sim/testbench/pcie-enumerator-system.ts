// pcie_enumerator on pcie_requester on the real TLP layer (the requester's fixture,
// pcie-requester-system.ts), for runs behind the link model: the enumerator's access port is wired
// to the requester's, its start and status outputs are top-level ports, and the 7-series user-side
// ports (s_axis_tx, m_axis_rx, rx_np_ok) go to RootPortBridge. A test fixture, not a part of the
// controller.
import { Module, emitDesign } from "../../hdl/index.ts";
import { type PcieEnumeratorParams, pcieEnumerator } from "../../rtl-src/pcie/pcie-enumerator.ts";
import type { TlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator } from "../engine/index.ts";
import { pcieRequesterSystem } from "./pcie-requester-system.ts";
import { monitorStreams } from "./stream-monitor.ts";

export function pcieEnumeratorSystem(layer: TlpLayerParams, enumerator: PcieEnumeratorParams): Module {
  const m = new Module(`pcie_enumerator_system_to${layer.completionTimeoutCycles}`);
  const requester = m.instance(pcieRequesterSystem(layer, enumerator.secondaryBus), { name: "requester" });
  const en = m.instance(pcieEnumerator(enumerator), { name: "enumerator" });
  const r = requester.ports;
  m.promote(r.s_axis_tx);
  m.promote(r.m_axis_rx);
  m.promote(r.rx_np_ok);
  m.promote(r.user_lnk_up);
  m.promote(r.stray_completions);
  // The enumerator's access port is the requester's: its request in, its response out.
  m.connect(en.ports.request, r.access);
  m.connect(r.response, en.ports.response);
  m.promote(en.ports.start);
  for (const output of [
    en.ports.busy, en.ports.done, en.ports.error, en.ports.error_code, en.ports.error_step, en.ports.error_status, en.ports.vendor_id,
    en.ports.device_id, en.ports.bar0_address, en.ports.bar0_size_log2, en.ports.bar0_is_64bit, en.ports.ssd_mps_supported, en.ports.mps_code,
    en.ports.mrrs_code, en.ports.ssd_max_link_speed, en.ports.ssd_max_link_width, en.ports.crs_retries,
  ]) {
    m.promote(output);
  }
  return m;
}

export async function buildPcieEnumeratorSystem(layer: TlpLayerParams, enumerator: PcieEnumeratorParams, engine: EngineName): Promise<Simulator> {
  const { files, design } = emitDesign(pcieEnumeratorSystem(layer, enumerator));
  const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine });
  return monitorStreams(sim);
}
