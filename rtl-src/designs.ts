// Every design `npm run gen` emits into generated/, with the parameters the controller uses.
import type { Module } from "../hdl/index.ts";
import { axisRealignDw } from "./lib/axis-realign-dw.ts";
import { axisSkidBuffer } from "./lib/axis-skid-buffer.ts";
import { syncFifo } from "./lib/sync-fifo.ts";
import { BRINGUP_ROUTER_TARGETS, hostMemoryRouter } from "./hostmem/host-memory-router.ts";
import { adminEngine } from "./nvme/admin-engine.ts";
import { nvmeInit } from "./nvme/nvme-init.ts";
import { adminBringup } from "./nvme/admin-bringup.ts";
import { identifyCapture } from "./nvme/identify-capture.ts";
import { cfgMgmtRequester } from "./pcie/cfg-mgmt-requester.ts";
import { pcieAccessArbiter } from "./pcie/pcie-access-arbiter.ts";
import { pcieRequester } from "./pcie/pcie-requester.ts";
import { rootPortSetup } from "./pcie/root-port-setup.ts";
import { tlpCompleter } from "./tlp/tlp-completer.ts";
import { tlpLayer } from "./tlp/tlp-layer.ts";
import { tlpRx } from "./tlp/tlp-rx.ts";
import { tlpTagAllocator } from "./tlp/tlp-tag-allocator.ts";
import { defaultTlpLayerParams as tlp } from "./tlp/tlp-interfaces.ts";
import { tlpTx } from "./tlp/tlp-tx.ts";

export interface DesignEntry {
  /** What the design is, for `nvme-host gen` output. */
  description: string;
  build: () => Module;
}

export const designs: DesignEntry[] = [
  { description: "AXI4-Stream register slice, 64-bit with tkeep/tlast", build: () => axisSkidBuffer({ dataWidth: 64 }) },
  { description: "block-RAM FIFO, 64 bits x 512, first-word fall-through", build: () => syncFifo({ width: 64, depth: 512 }) },
  { description: "64-bit stream re-aligner, shifts down by one DW (3DW-header TLP payload)", build: () => axisRealignDw() },
  {
    description: "TLP transmit: 3 request sources + completions, arbiter and 7-series s_axis_tx packer",
    build: () => tlpTx({ requesterId: tlp.requesterId, requestSources: 3, completionRun: 4 }),
  },
  { description: "TLP receive: parser/router for m_axis_rx, MRd queue with rx_np_ok, UR answers, counters", build: () => tlpRx(tlp) },
  { description: "TLP completer: answers the SSD's memory reads with CplDs cut at RCB and MPS", build: () => tlpCompleter(tlp) },
  { description: "tag allocator for our non-posted requests, with completion timeout", build: () => tlpTagAllocator(tlp) },
  { description: "TLP layer: tx + rx + completer + tag allocator, CplD/UR completion merger", build: () => tlpLayer(tlp) },
  { description: "one root-port configuration access at a time on the 7-series cfg_mgmt port, with a timeout", build: () => cfgMgmtRequester({ timeoutCycles: 256 }) },
  {
    description: "root port setup through cfg_mgmt: bus numbers, memory windows, Command, MPS/MRRS, target link speed, read back",
    build: () => rootPortSetup({ secondaryBus: 1, subordinateBus: 1, memoryWindowBase: 0xe000_0000, memoryWindowBytes: 1 << 20, targetLinkSpeed: 2, timeoutCycles: 256 }),
  },
  { description: "one PCIe configuration or memory access at a time on the TLP layer: tags, completion, timeout", build: () => pcieRequester({ secondaryBus: 1 }) },
  { description: "the PCIe access port shared by the enumerator, NVMe initialisation and the admin doorbells, round robin", build: () => pcieAccessArbiter({ clients: 3 }) },
  {
    description: "NVMe initialisation: CAP/VS checks, controller reset, admin queue registers, enable, RDY within CAP.TO (500 ms units)",
    build: () => nvmeInit({ adminQueueEntries: 32, readyTimeoutUnitCycles: 125_000_000, pollIntervalCycles: 2500 }),
  },
  {
    description: "admin queue: SQ entry built on the SSD's fetch, doorbells, CQ entries parsed from the SSD's writes, 5 s command timeout",
    build: () => adminEngine({ adminQueueEntries: 32, adminTimeoutCycles: 1_250_000_000 }),
  },
  { description: "virtual host memory: the SSD's reads and writes routed by region (admin SQ/CQ, Identify), unmapped ones counted", build: () => hostMemoryRouter(BRINGUP_ROUTER_TARGETS) },
  {
    description: "Identify Controller/Namespace parsed on the fly from the SSD's writes: fields in registers, strings in a small read port",
    build: () => identifyCapture(),
  },
  {
    description: "admin bring-up: Identify Controller/Namespace (parsed on the fly), Number of Queues, Create I/O CQ and SQ, with checks and results",
    build: () => adminBringup({ ioQueueEntries: 64 }),
  },
];
