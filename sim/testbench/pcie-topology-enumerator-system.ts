// pcie_topology_enumerator on pcie_requester on the real TLP layer (the requester's fixture,
// pcie-requester-system.ts), for runs behind the link model and the switch model: the enumerator's
// access port is wired to the requester's, its start and result outputs are top-level ports, and
// the 7-series user-side ports go to RootPortBridge. A test fixture, not a part of the controller.
import { Module, emitDesign } from "../../hdl/index.ts";
import { type PcieTopologyEnumeratorParams, pcieTopologyEnumerator } from "../../rtl-src/pcie/pcie-topology-enumerator.ts";
import type { TlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator } from "../engine/index.ts";
import { pcieRequesterSystem } from "./pcie-requester-system.ts";
import { monitorStreams } from "./stream-monitor.ts";

/** The enumerator's result outputs, promoted with their names. */
export const TOPOLOGY_ENUMERATOR_OUTPUTS = [
  "busy", "done", "error", "error_code", "error_step", "error_in_ssd", "error_status", "switch_found", "ports_found", "ssd_count",
  "ports_skipped", "mps_code", "ssd_bdf", "ssd_port", "ssd_bar0", "ssd_status", "vendor_id", "device_id", "bar0_address", "bar0_size_log2", "mrrs_code",
] as const;

export function pcieTopologyEnumeratorSystem(layer: TlpLayerParams, enumerator: PcieTopologyEnumeratorParams): Module {
  const m = new Module(`pcie_topology_enumerator_system_to${layer.completionTimeoutCycles}`);
  const requester = m.instance(pcieRequesterSystem(layer, enumerator.secondaryBus), { name: "requester" });
  const en = m.instance(pcieTopologyEnumerator(enumerator), { name: "enumerator" });
  const r = requester.ports;
  m.promote(r.s_axis_tx);
  m.promote(r.m_axis_rx);
  m.promote(r.rx_np_ok);
  m.promote(r.user_lnk_up);
  m.promote(r.stray_completions);
  m.connect(en.ports.request, r.access);
  m.connect(r.response, en.ports.response);
  m.promote(en.ports.start);
  for (const name of TOPOLOGY_ENUMERATOR_OUTPUTS) m.promote(en.ports[name]);
  return m;
}

export async function buildPcieTopologyEnumeratorSystem(layer: TlpLayerParams, enumerator: PcieTopologyEnumeratorParams, engine: EngineName): Promise<Simulator> {
  const { files, design } = emitDesign(pcieTopologyEnumeratorSystem(layer, enumerator));
  const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine });
  return monitorStreams(sim);
}
