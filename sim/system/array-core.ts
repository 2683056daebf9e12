// What `nvme-host sim` needs of the striped array core (issue 14, SystemSpec.array): the core itself
// and how to read its status. The runner (job-runner.ts) asks only these functions:
//  - arrayCoreFor(system, params): the emitted nvme_striped_core (rtl-src/top/nvme-striped-core.ts:
//    nvme_array_core's lanes behind the RAID 0 striper), its user ports named exactly as the one-SSD
//    core's, so the user-port driver works unchanged; its bring-up outcome on status_ready /
//    status_fault as the one-SSD core's. One lane per SSD of the topology (maxSsds = the SSD count),
//    each lane with the run's slots, buffers and piece size.
//  - arrayRunStatus(system): the bring-up report (one entry per SSD in `ssds`, read by
//    array-status.ts), the namespace the striper offers (array_capacity_blocks, array_lba_shift), the
//    doorbell window (every SSD's BAR0) and the NVMe commands all lanes sent.
import { emitDesign } from "../../hdl/index.ts";
import { BAR_WINDOW } from "../../rtl-src/hostmem/host-memory-map.ts";
import type { NvmeHostCoreParams } from "../../rtl-src/top/nvme-host-core.ts";
import { nvmeStripedCore, type NvmeStripedCoreParams, simulationStripedCoreParams } from "../../rtl-src/top/nvme-striped-core.ts";
import { resolveSsdOptions } from "../nvme/options.ts";
import type { NamespaceGeometry } from "../testbench/user-command.ts";
import type { SystemSpec } from "../workload/job.ts";
import { type ArrayStatus, arraySlots, readArrayStatus } from "./array-status.ts";
import type { BringupReport } from "./bringup.ts";
import { type FullSystem, NS_PER_CYCLE, type VerilogCore } from "./full-system.ts";
import { emittedSources } from "../engine/designs.ts";

/** What the runner reads of a core after its bring-up and after the jobs. */
export interface RunStatusReader {
  /**
   * After READY or FAULT: the report (DESIGN.md's identify layout; `ssds` one entry per SSD), the
   * namespace the user ports address, and the doorbell window the TLP counter counts (SQ/CQ doorbells).
   */
  bringup(system: FullSystem): { report: BringupReport; namespace: NamespaceGeometry; doorbells: { bar0: number; bytes: number; dstrd: number } };
  /** NVMe commands the core has sent so far (a free-running 32-bit count; the runner takes differences). */
  nvmeCommands(system: FullSystem): number;
}

/** Sub-commands the striper keeps in flight over all lanes: every lane's slots, at most the striper's 64. */
const STRIPER_MAX_OUTSTANDING = 64;

/** The SSDs present in the array's topology. */
export function arraySsdCount(system: SystemSpec): number {
  if (system.array === undefined) throw new RangeError("arraySsdCount: the system has no array (SystemSpec.array)");
  return system.array.topology.ssds.filter((entry) => entry !== null && entry !== undefined).length;
}

/**
 * The striped core's parameters for `system`: `params` (the run's one-SSD core parameters: timings,
 * MPS, MRRS, slots, buffers, piece size) for every lane, one lane per SSD present, the topology's
 * downstream ports, the array's stripe size.
 */
export function stripedCoreParamsFor(system: SystemSpec, params: NvmeHostCoreParams): NvmeStripedCoreParams {
  const array = system.array;
  if (array === undefined) throw new RangeError("stripedCoreParamsFor: the system has no array (SystemSpec.array)");
  const ssds = arraySsdCount(system);
  if (![1, 2, 4].includes(ssds)) throw new RangeError(`${array.source}: ${ssds} SSDs present; the striper takes 1, 2 or 4`);
  const base = simulationStripedCoreParams;
  return {
    ...params,
    array: { ...base.array, maxSsds: ssds, maxDownstreamPorts: Math.max(base.array.maxDownstreamPorts, array.topology.ssds.length) },
    striper: { stripeBytes: array.stripeBytes, maxOutstanding: Math.min(STRIPER_MAX_OUTSTANDING, ssds * params.io.slots) },
  };
}

const emittedCores = new Map<string, VerilogCore>();

/** The striped array core for `system.array` (its lanes with `params`' slots, buffers and piece size), emitted once per parameter set. */
export function arrayCoreFor(system: SystemSpec, params: NvmeHostCoreParams): VerilogCore {
  if (system.array === undefined) throw new RangeError("arrayCoreFor: the system has no array (SystemSpec.array)");
  const stripedParams = stripedCoreParamsFor(system, params);
  const key = JSON.stringify(stripedParams);
  let core = emittedCores.get(key);
  if (!core) {
    const module = nvmeStripedCore(stripedParams);
    const { files } = emitDesign(module);
    core = { sources: emittedSources(files), top: module.name };
    emittedCores.set(key, core);
  }
  return core;
}

/** The namespace the striper offers (its array_* outputs, settled a few cycles after READY). */
export function readArrayNamespace(system: FullSystem): NamespaceGeometry {
  const { sim } = system;
  const shift = sim.peek("array_lba_shift") >>> 0;
  return { nsid: 1, lbaBytes: sim.peek("array_config_ok") === 1 ? 2 ** shift : 0, capacityBlocks: Number(sim.peekBig("array_capacity_blocks")) };
}

/**
 * The array's status as the one-SSD bring-up report: the front's outcome and link, the first READY
 * SSD's PCIe and NVMe fields, the array's namespace (nsze = its capacity), and `ssds` one entry per SSD.
 */
export function arrayBringupReport(status: ArrayStatus, namespace: NamespaceGeometry, bringupUs: number): BringupReport {
  const first = status.ssds.find((s) => s.state === "READY") ?? status.ssds[0];
  return {
    state: status.state === "ready" ? "ready" : "error",
    error: status.error,
    bringup_us: Math.round(bringupUs * 1000) / 1000,
    link: status.link,
    pcie: { vendor_id: first ? Number(first.ctrl.vid) : 0, device_id: 0, bar0: first?.bar0 ?? 0, bar0_bytes: BAR_WINDOW.bytes },
    nvme: first ? first.nvme : { version: "0.0.0", mqes: 0, dstrd: 0, io_queue_entries: 0 },
    ctrl: first ? { ...first.ctrl, mdts_bytes: first.mdts_bytes } : {},
    ns: { nsze: namespace.capacityBlocks, lba_bytes: namespace.lbaBytes, capacity_bytes: namespace.capacityBlocks * namespace.lbaBytes },
    ssds: status.ssds.map((s) => ({ bdf: s.bdf, path: s.path, state: s.state === "READY" ? "ready" : "error", error: s.error, ctrl: s.ctrl, ns: s.ns })),
  };
}

/** How the runner reads the striped core's per-SSD status (see RunStatusReader). */
export function arrayRunStatus(system: SystemSpec): RunStatusReader {
  if (system.array === undefined) throw new RangeError("arrayRunStatus: the system has no array (SystemSpec.array)");
  return {
    bringup(full) {
      const bringupUs = (full.cycle * NS_PER_CYCLE) / 1000;
      const status = readArrayStatus(full);
      const namespace = readArrayNamespace(full);
      const report = arrayBringupReport(status, namespace, bringupUs);
      // One window over every SSD's BAR0 (1 MiB apart): while the jobs run the lanes write nothing there but doorbells.
      const bars = status.ssds.filter((s) => s.state === "READY").map((s) => s.bar0);
      const low = bars.length === 0 ? 0 : Math.min(...bars);
      const high = bars.length === 0 ? 0 : Math.max(...bars);
      return { report, namespace, doorbells: { bar0: low, bytes: high - low + BAR_WINDOW.bytes, dstrd: report.nvme.dstrd } };
    },
    nvmeCommands(full) {
      let sum = 0;
      for (let i = 0; i < arraySlots(full); i++) sum += full.sim.peek(`status_ssd${i}_io_pieces`) >>> 0;
      return sum >>> 0;
    },
  };
}

/**
 * The namespace the array offers, from the SSD models' options: every SSD's first namespace with one
 * LBA size (the striper refuses mixed sizes), capacity N x the smallest, rounded down to whole rows of
 * stripes (user-port-striper.ts array_capacity_blocks). Throws RangeError naming the SSD otherwise.
 */
export function arrayNamespace(system: SystemSpec): NamespaceGeometry {
  const array = system.array;
  if (array === undefined) throw new RangeError("arrayNamespace: the system has no array (SystemSpec.array)");
  const members = array.topology.ssds.flatMap((entry, port) => (entry === null || entry === undefined ? [] : [{ port, ns: resolveSsdOptions(entry.ssd).namespaces[0] }]));
  if (members.length === 0) throw new RangeError(`${array.source}: no SSD present`);
  const lbaBytes = members[0].ns.lbaSize;
  const other = members.find((m) => m.ns.lbaSize !== lbaBytes);
  if (other) throw new RangeError(`${array.source}: the SSD on port ${other.port} has ${other.ns.lbaSize}-byte blocks, the one on port ${members[0].port} ${lbaBytes}-byte: the striper takes one LBA size`);
  const n = members.length;
  const stripeBlocks = array.stripeBytes / lbaBytes;
  const smallest = Math.min(...members.map((m) => m.ns.capacityBlocks));
  const rows = Math.floor(smallest / stripeBlocks);
  return { nsid: 1, lbaBytes, capacityBlocks: rows * stripeBlocks * n };
}
