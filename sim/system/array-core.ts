// What `nvme-host sim` needs of the striped array core (issue 14, SystemSpec.array): the core itself
// and how to read its status. The runner (job-runner.ts) asks only these functions, so that the array
// core can plug in here when it exists:
//  - arrayCoreFor(system): the emitted striped core (nvme_array_core's lanes behind the RAID 0 striper,
//    rtl-src/user/user-port-striper.ts), its user ports named exactly as the one-SSD core's
//    (user_command_*, user_write_data_*, user_read_data_*, user_completion_*), so the user-port driver
//    works unchanged; its bring-up outcome on status_ready / status_fault as the one-SSD core's.
//  - arrayRunStatus(system): the bring-up report (one entry per SSD in `ssds`) and the namespace the
//    array offers (the striper's capacity and LBA size), and the NVMe commands the lanes sent, read
//    from a core whose status is per SSD.
// Until the core is built both throw ArrayCoreNotBuiltError; `nvme-host sim` then says so and exits 1.
import { resolveSsdOptions } from "../nvme/options.ts";
import type { NamespaceGeometry } from "../testbench/user-command.ts";
import type { SystemSpec } from "../workload/job.ts";
import type { BringupReport } from "./bringup.ts";
import type { FullSystem, VerilogCore } from "./full-system.ts";

/** The message `nvme-host sim` prints for an array until the striped core is built. */
export const ARRAY_CORE_NOT_BUILT = "the striped array core is not built yet (issue 14)";

/** An array was asked for and there is no striped core to simulate yet. */
export class ArrayCoreNotBuiltError extends Error {
  override name = "ArrayCoreNotBuiltError";
  constructor(what = ARRAY_CORE_NOT_BUILT) {
    super(what);
  }
}

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

/** The striped array core for `system.array` (its lanes with `system`'s slots, buffers and piece size). */
export function arrayCoreFor(system: SystemSpec): VerilogCore {
  if (system.array === undefined) throw new RangeError("arrayCoreFor: the system has no array (SystemSpec.array)");
  throw new ArrayCoreNotBuiltError();
}

/** How the runner reads the array core's per-SSD status (see RunStatusReader). */
export function arrayRunStatus(system: SystemSpec): RunStatusReader {
  if (system.array === undefined) throw new RangeError("arrayRunStatus: the system has no array (SystemSpec.array)");
  return {
    bringup() {
      throw new ArrayCoreNotBuiltError("reading the striped array core's per-SSD bring-up is not written yet (issue 14)");
    },
    nvmeCommands() {
      throw new ArrayCoreNotBuiltError("reading the striped array core's per-SSD counters is not written yet (issue 14)");
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
