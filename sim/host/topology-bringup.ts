// The reference host for several SSDs: enumerate the topology (pci-topology.ts), then bring up every NVMe
// endpoint found with a driver of its own (driver.ts), each in its own slice of the host memory. One SSD
// that fails does not stop the others: each gets a status.

import { NvmeDriver, type DriverOptions, type IoQueuePair } from "./driver.ts";
import type { IdentifyNamespace } from "./identify.ts";
import { enumerateTopology, type PciNode, type TopologyEnumeration, type TopologyEnumerationOptions } from "./pci-topology.ts";
import type { PciFunctionInfo } from "./pci-enumeration.ts";
import { bdfText, type TopologyTransport } from "./topology-transport.ts";

const NVME_CLASS_CODE = 0x010802;

export interface BroughtUpSsd {
  node: PciNode;
  /** "bus:device.function" and the bridges above it, outermost first. */
  bdf: string;
  path: string[];
  status: "ready" | "failed";
  /** Why it failed. */
  error?: string;
  driver?: NvmeDriver;
  namespace?: IdentifyNamespace;
  io?: IoQueuePair;
}

export interface TopologyBringup {
  enumeration: TopologyEnumeration;
  ssds: BroughtUpSsd[];
}

/** The function info the single-SSD driver expects, from an enumerated endpoint. */
export function functionInfoOf(node: PciNode, enumeration: TopologyEnumeration): PciFunctionInfo {
  const bar0 = node.bars?.find((b) => b.index === 0);
  if (bar0 === undefined) throw new Error(`${bdfText(node)} has no memory BAR0`);
  return {
    vendorId: node.vendorId,
    deviceId: node.deviceId,
    classCode: node.classCode,
    bar0: { address: bar0.address, size: bar0.size, is64Bit: bar0.is64Bit },
    pcie:
      node.pcieCapOffset === null
        ? null
        : { offset: node.pcieCapOffset, maxPayloadSupported: node.mpsSupported, maxPayload: enumeration.maxPayload, maxReadRequest: enumeration.maxReadRequest, linkSpeed: node.linkSpeed ?? 0, linkWidth: node.linkWidth ?? 0 },
    rootPort: null,
    crsRetries: node.crsRetries,
  };
}

export async function bringUpTopology(
  t: TopologyTransport,
  options: { enumeration?: Partial<TopologyEnumerationOptions>; driver?: Partial<DriverOptions> } = {},
): Promise<TopologyBringup> {
  const enumeration = await enumerateTopology(t, options.enumeration);
  const nvme = enumeration.endpoints.filter((n) => n.classCode === NVME_CLASS_CODE);
  const ssds: BroughtUpSsd[] = [];
  for (const [i, node] of nvme.entries()) {
    const entry: BroughtUpSsd = { node, bdf: bdfText(node), path: node.path.map(bdfText), status: "failed" };
    ssds.push(entry);
    try {
      const driver = new NvmeDriver(t.endpointTransport(node, i, nvme.length), options.driver);
      entry.driver = driver;
      const { namespace, io } = await driver.bringUp(functionInfoOf(node, enumeration));
      Object.assign(entry, { status: "ready", namespace, io });
    } catch (error) {
      entry.error = (error as Error).message;
    }
  }
  return { enumeration, ssds };
}
