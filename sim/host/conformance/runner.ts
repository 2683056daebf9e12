// Runs scenarios against one transport: the PCIe side is enumerated once, and before every scenario
// the controller is reset and brought back to a known state (admin queue, NSID 1 identified, Number
// of Queues set to the maximum, I/O queue pair 1), so scenarios do not depend on each other's leftovers.

import { NvmeDriver, type DriverOptions } from "../driver.ts";
import type { NvmeTransport } from "../transport.ts";
import type { ConformanceContext, DeviceConfig, Outcome, Scenario } from "./scenario.ts";

export const IO_QUEUE_ENTRIES = 64;

export class ConformanceTarget {
  private constructor(
    readonly transport: NvmeTransport,
    readonly driver: NvmeDriver,
    readonly config: DeviceConfig,
  ) {}

  static async open(transport: NvmeTransport, config: DeviceConfig, driverOptions: Partial<DriverOptions> = {}): Promise<ConformanceTarget> {
    const driver = new NvmeDriver(transport, driverOptions);
    await driver.enumerate();
    return new ConformanceTarget(transport, driver, config);
  }

  async run(scenario: Scenario): Promise<Outcome> {
    const scratch: bigint[] = [];
    const ctx = await this.reset((bytes) => {
      const address = this.driver.memory.alloc(bytes, 4096);
      scratch.push(address);
      return address;
    });
    try {
      return await scenario.run(ctx);
    } finally {
      for (const address of scratch) this.driver.memory.release(address);
    }
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async reset(scratch: (bytes: number) => bigint): Promise<ConformanceContext> {
    const { driver, config } = this;
    await driver.enable();
    await driver.identifyController();
    const namespace = await driver.identifyNamespace(1);
    await driver.setNumberOfQueues(config.maxIoQueuePairs);
    const io = await driver.createIoQueuePair(1, IO_QUEUE_ENTRIES);
    return { transport: this.transport, driver, config, ns: { nsid: 1, lbaBytes: namespace.lbaBytes, nsze: namespace.nsze }, io, scratch };
  }
}
