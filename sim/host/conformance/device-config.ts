// The one device configuration the conformance suite starts on both transports. It follows the SSD
// model's defaults (sim/nvme/options.ts), which in turn follow QEMU 7.2's `nvme` device, so that any
// difference the suite finds is a difference in behaviour, not in configuration.

import type { ModelTransportOptions } from "../model-transport.ts";
import type { QemuNvmeOptions } from "../qemu-transport.ts";
import type { DeviceConfig } from "./scenario.ts";

export const conformanceDevice: DeviceConfig = {
  vendorId: 0x1b36,
  deviceId: 0x0010,
  serial: "NVMEHOST0001",
  capacityBlocks: 2 * 1024 * 1024,
  // QEMU 7.2 always reports NN = 256 (its namespace table size); the model is configured to match.
  maxNamespaces: 256,
  lbaBytes: 512,
  mdts: 7,
  maxIoQueuePairs: 64,
  maxQueueEntries: 2048,
};

export function qemuOptionsFor(config: DeviceConfig): Partial<QemuNvmeOptions> {
  if (config.lbaBytes !== 512 && config.lbaBytes !== 4096) throw new Error(`QEMU namespace block size ${config.lbaBytes} is not 512 or 4096`);
  return {
    capacityBytes: config.capacityBlocks * config.lbaBytes,
    logicalBlockSize: config.lbaBytes,
    mdts: config.mdts,
    maxIoQueuePairs: config.maxIoQueuePairs,
    serial: config.serial,
  };
}

export function modelOptionsFor(config: DeviceConfig): Partial<ModelTransportOptions> {
  if (config.lbaBytes !== 512 && config.lbaBytes !== 4096) throw new Error(`model namespace block size ${config.lbaBytes} is not 512 or 4096`);
  return {
    ssd: {
      vendorId: config.vendorId,
      deviceId: config.deviceId,
      serial: config.serial,
      namespaces: [{ lbaSize: config.lbaBytes, capacityBlocks: config.capacityBlocks }],
      maxNamespaces: config.maxNamespaces,
      mdts: config.mdts,
      ioQueuePairs: config.maxIoQueuePairs,
      mqes: config.maxQueueEntries - 1,
    },
  };
}
