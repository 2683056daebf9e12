// What sits behind the root port: one SSD (the default, as before), or a PCIe switch (sim/pcie/pcie-switch.ts)
// with an SSD model, or nothing, on each downstream port. buildTopology() makes the models and hands back
// the endpoint the root link talks to; the full system (full-system.ts) and the host-side topology
// transport (sim/host/topology-transport.ts) both build their far side with it.

import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import type { Generation } from "../pcie/link-params.ts";
import { PcieSwitch, type PcieSwitchOptions, type SwitchDevice } from "../pcie/pcie-switch.ts";
import type { SwitchParamsInput } from "../pcie/switch-params.ts";
import type { PcieEndpoint } from "../pcie/tlp.ts";
import { applySsdFaults, hasNoLinkFault, type SsdFault } from "./ssd-spec.ts";

/** One SSD of a topology: its model options and faults (ssd-spec.ts), as for the single-SSD system. */
export interface TopologySsd {
  ssd?: Partial<SsdOptions>;
  faults?: readonly SsdFault[];
}

/** A switch below the root port and what is on each of its downstream ports (null: an empty port). */
export interface SystemTopology {
  switch?: SwitchParamsInput;
  /** Index = downstream port; at most the switch's port count; missing or null entries are empty ports. */
  ssds: readonly (TopologySsd | null)[];
}

export interface BuiltTopology {
  /** The root link's far end: the switch. */
  endpoint: PcieEndpoint;
  switch: PcieSwitch;
  /** The SSD model on each downstream port (undefined: empty port). */
  ssds: (NvmeSsd | undefined)[];
  /** The root link's endpoint side: the switch's upstream port capabilities. */
  endpointMaxSpeed: Generation;
  endpointMaxWidth: number;
}

/** Builds the switch and its SSD models, faults applied. */
export function buildTopology(topology: SystemTopology, options: PcieSwitchOptions = {}): BuiltTopology {
  if (topology === null || typeof topology !== "object" || !Array.isArray(topology.ssds)) {
    throw new TypeError("topology.ssds: must be a list of SSDs (null for an empty port)");
  }
  const ssds: (NvmeSsd | undefined)[] = [];
  const devices: (SwitchDevice | undefined)[] = [];
  topology.ssds.forEach((entry, port) => {
    if (entry === null || entry === undefined) {
      ssds.push(undefined);
      devices.push(undefined);
      return;
    }
    let ssd: NvmeSsd;
    try {
      ssd = new NvmeSsd(entry.ssd);
    } catch (error) {
      throw new RangeError(`topology.ssds[${port}].ssd: ${(error as Error).message}`);
    }
    const faults = entry.faults ?? [];
    applySsdFaults(ssd, faults);
    ssds.push(ssd);
    devices.push({ endpoint: ssd, maxSpeed: ssd.options.linkSpeed as Generation, maxWidth: ssd.options.linkWidth, noLink: hasNoLinkFault(faults) });
  });
  const sw = new PcieSwitch(topology.switch ?? {}, devices, options);
  while (ssds.length < sw.ports.length) ssds.push(undefined);
  return { endpoint: sw, switch: sw, ssds, endpointMaxSpeed: sw.params.upstreamSpeed, endpointMaxWidth: sw.params.upstreamWidth };
}
