// Every design `npm run gen` emits into generated/, with the parameters the controller uses. The
// controller's core brings every block of the controller with it (its hierarchy is emitted whole:
// bring-up, I/O engine, queue server, data buffers); the blocks listed on their own are the generic
// ones and the TLP layer in its general form. The striped core (several SSDs behind a switch, issue
// 14) brings the array core and its lanes with it. The board tops bring the core with them too, and
// the pcie_7x hard block and the FPGA primitives as black boxes (stubs in generated/blackbox/).
import type { Module } from "../hdl/index.ts";
import { axisRealignDw } from "./lib/axis-realign-dw.ts";
import { axisSkidBuffer } from "./lib/axis-skid-buffer.ts";
import { syncFifo } from "./lib/sync-fifo.ts";
import { tlpLayer } from "./tlp/tlp-layer.ts";
import { defaultTlpLayerParams as tlp } from "./tlp/tlp-interfaces.ts";
import { boardKc705 } from "./top/board-kc705.ts";
import { boardVc707 } from "./top/board-vc707.ts";
import { hardwareCoreParams, nvmeHostCore } from "./top/nvme-host-core.ts";
import { hardwareStripedCoreParams, nvmeStripedCore } from "./top/nvme-striped-core.ts";

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
    description: "TLP layer with three request sources (tx + rx + completer + tag allocator, CplD/UR completion merger)",
    build: () => tlpLayer(tlp),
  },
  {
    description: "the controller's core inside the pcie_7x boundary: PERST#/link, root port, enumeration, NVMe init, Identify, I/O queues; I/O engine, queue server, data buffers, log pages (SMART, error log, Sanitize Status), erase, shutdown; user and status ports",
    build: () => nvmeHostCore(hardwareCoreParams),
  },
  {
    // The several-SSD core a 7-series user instantiates: it has the one-SSD core's user ports, so a
    // recorder built for nvme_host_core drives it unchanged. nvme_array_core (per-SSD user ports)
    // comes with it, as its submodule.
    description: "the striped core for four SSDs behind a PCIe switch (issue 14): the PCIe front with the topology enumerator, four lanes of 64 KiB buffer each way, the RAID 0 striper (128 KiB stripes) in front of them; the one-SSD core's user ports, status per SSD",
    build: () => nvmeStripedCore(hardwareStripedCoreParams),
  },
  {
    description: "KC705 board top: the core, the pcie_7x Root Port (black box), clocks, resets, LEDs and the pattern exerciser (FPGA Drive FMC on HPC)",
    build: boardKc705,
  },
  {
    description: "VC707 board top: the core, the pcie_7x Root Port (black box), clocks, resets, LEDs and the pattern exerciser (FPGA Drive FMC on FMC1 HPC)",
    build: boardVc707,
  },
];
