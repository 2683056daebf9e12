// The NVMe register and admin-queue path in its place on the TLP layer, for runs behind the link
// model against the SSD model: tlp_layer + pcie_requester, a pcie_access_arbiter in front of the
// requester (client 0 is the test's own access port, for the enumeration the test does itself;
// client 1 nvme_init; client 2 the admin engine's doorbells), and host_memory_router between the
// layer's completer / memory writes and the admin engine (admin SQ and CQ), with the Identify
// regions' writes out on `identify_write_*` for the test to read. nvme_init's `queues_reset`
// drives the engine's `reset_queues`, and its CAP.DSTRD the engine's doorbell stride. A test
// fixture, not a part of the controller.
import { Module, emitDesign } from "../../hdl/index.ts";
import { BRINGUP_ROUTER_TARGETS, connectHostMemoryRouter, hostMemoryRouter } from "../../rtl-src/hostmem/host-memory-router.ts";
import { adminEngine } from "../../rtl-src/nvme/admin-engine.ts";
import { nvmeInit } from "../../rtl-src/nvme/nvme-init.ts";
import { pcieAccessArbiter } from "../../rtl-src/pcie/pcie-access-arbiter.ts";
import { connectRequesterToLayer, pcieRequester } from "../../rtl-src/pcie/pcie-requester.ts";
import { tlpLayer } from "../../rtl-src/tlp/tlp-layer.ts";
import { type TlpLayerParams, defaultTlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator } from "../engine/index.ts";
import { monitorStreams } from "./stream-monitor.ts";

export interface NvmeAdminSystemParams {
  layer: TlpLayerParams;
  adminQueueEntries: number;
  readyTimeoutUnitCycles: number;
  pollIntervalCycles: number;
  adminTimeoutCycles: number;
}

/**
 * Short timing for tests: CAP.TO units of 1000 cycles, CSTS polled every 50, admin commands
 * abandoned after 30 000 cycles; a 3-entry admin queue, so a few commands wrap it.
 */
export const ADMIN_SYSTEM_TEST_PARAMS: NvmeAdminSystemParams = {
  layer: { ...defaultTlpLayerParams, completionTimeoutCycles: 20_000 },
  adminQueueEntries: 3,
  readyTimeoutUnitCycles: 1000,
  pollIntervalCycles: 50,
  adminTimeoutCycles: 30_000,
};

export function nvmeAdminSystem(p: NvmeAdminSystemParams): Module {
  const m = new Module(`nvme_admin_system_q${p.adminQueueEntries}_u${p.readyTimeoutUnitCycles}_p${p.pollIntervalCycles}_t${p.adminTimeoutCycles}_to${p.layer.completionTimeoutCycles}`);
  const layer = m.instance(tlpLayer(p.layer, { requestSources: 1 }), { name: "layer" });
  const requester = m.instance(pcieRequester({ secondaryBus: 1 }), { name: "requester" });
  const arbiter = m.instance(pcieAccessArbiter({ clients: 3 }), { name: "arbiter" });
  const init = m.instance(nvmeInit({ adminQueueEntries: p.adminQueueEntries, readyTimeoutUnitCycles: p.readyTimeoutUnitCycles, pollIntervalCycles: p.pollIntervalCycles }), { name: "init" });
  const engine = m.instance(adminEngine({ adminQueueEntries: p.adminQueueEntries, adminTimeoutCycles: p.adminTimeoutCycles }), { name: "engine" });
  const router = m.instance(hostMemoryRouter(BRINGUP_ROUTER_TARGETS), { name: "router" });
  const l = layer.ports;
  const r = requester.ports;

  // The core.
  m.promote(l.s_axis_tx);
  m.promote(l.m_axis_rx);
  m.promote(l.rx_np_ok);
  m.promote(l.user_lnk_up);

  // The requester on the layer.
  connectRequesterToLayer(m, requester, layer);
  m.promote(r.stray_completions, { name: "requester_stray_completions" });

  // The arbiter in front of it.
  const [testClient, initClient, engineClient] = arbiter.ports.clients;
  m.connect(arbiter.ports.access_request, r.access);
  m.connect(r.response, arbiter.ports.access_response);
  m.promote(testClient.request, { prefix: "test_access" });
  m.promote(testClient.response, { prefix: "test_response" });
  m.connect(init.ports.access_request, initClient.request);
  m.connect(initClient.response, init.ports.access_response);
  m.connect(engine.ports.access_request, engineClient.request);
  m.connect(engineClient.response, engine.ports.access_response);

  // NVMe initialisation.
  const bar0_address = m.input(32);
  m.comb(init.ports.bar0_address, bar0_address);
  m.promote(init.ports.start, { name: "init_start" });
  for (const name of ["busy", "done", "error", "error_code", "mqes", "dstrd", "cap_to", "mpsmin", "mpsmax", "version"] as const) {
    m.promote(init.ports[name], { name: `init_${name}` });
  }

  // The admin engine.
  m.comb(engine.ports.bar0_address, bar0_address);
  m.comb(engine.ports.dstrd, init.ports.dstrd);
  m.comb(engine.ports.reset_queues, init.ports.queues_reset);
  m.promote(engine.ports.command, { prefix: "command" });
  m.promote(engine.ports.completion, { prefix: "completion" });
  for (const name of ["sq_tail", "cq_head", "cq_phase", "stray_entries", "misplaced_entries", "poisoned_writes"] as const) {
    m.promote(engine.ports[name], { name: `engine_${name}` });
  }

  // Host memory.
  connectHostMemoryRouter(m, router, layer, engine);
  m.promote(router.ports.writes.identify.write, { prefix: "identify_write" });
  m.promote(router.ports.writes.identify.write_data, { prefix: "identify_write_data" });
  m.promote(router.ports.unmapped_reads);
  m.promote(router.ports.unmapped_writes);
  return m;
}

/** The system's emitted Verilog on an engine, with a protocol monitor on every stream at its top. */
export async function buildNvmeAdminSystem(p: NvmeAdminSystemParams, engine: EngineName): Promise<Simulator> {
  const { files, design } = emitDesign(nvmeAdminSystem(p));
  const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine });
  return monitorStreams(sim);
}
