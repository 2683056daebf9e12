// Transport (a): our SSD model (sim/nvme) behind the root-port hard IP + link model (sim/pcie), reached
// through the TLP port that plays the core's user side. Configuration goes as CfgRd0/CfgWr0 to bus 1
// device 0, MMIO as MRd/MWr to BAR0, and the SSD's DMA is answered from a sparse host memory by the
// host-memory responder. Time is simulated: every wait runs the link, 4 ns per 250 MHz cycle. The TLP
// plumbing is TlpHostPort's (tlp-host-port.ts), shared with TopologyTransport.

import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import { LinkModel } from "../pcie/link-model.ts";
import type { LinkParamsInput } from "../pcie/link-params.ts";
import { type Bdf, SECONDARY_BUS, TlpHostPort } from "./tlp-host-port.ts";
import type { AccessSize, ConfigReadResult, ConfigStatus, NvmeTransport } from "./transport.ts";

// The TLP helpers lived here before TopologyTransport shared them; kept importable from here.
export { byteEnables, checkMmioAddress, configStatus, isComplete, memoryHeader } from "./tlp-host-port.ts";

export interface ModelTransportOptions {
  ssd: Partial<SsdOptions>;
  link: LinkParamsInput;
  /** Host memory the driver may hand to the SSD; the same window as the QEMU transport by default. */
  memoryWindow: { start: bigint; end: bigint };
  /** Cycles a request may wait for its completion before the transport reports it as lost. */
  completionTimeoutCycles: number;
}

export const defaultModelTransportOptions: ModelTransportOptions = {
  ssd: {},
  link: {},
  memoryWindow: { start: 16n << 20n, end: 128n << 20n },
  completionTimeoutCycles: 250_000,
};

/** The SSD: device 0 on the root port's secondary bus (type 0 configuration requests). */
const SSD_BDF: Bdf = { bus: SECONDARY_BUS, device: 0, fn: 0 };

export class ModelTransport extends TlpHostPort implements NvmeTransport {
  readonly name = "model";
  readonly configSpaceBytes = 4096;
  readonly ssd: NvmeSsd;

  private constructor(options: ModelTransportOptions) {
    const ssd = new NvmeSsd(options.ssd);
    super(new LinkModel(ssd, options.link), options, "the SSD");
    this.ssd = ssd;
  }

  /** Build the model and run the link until it is up (user_lnk_up). */
  static async start(overrides: Partial<ModelTransportOptions> = {}): Promise<ModelTransport> {
    const t = new ModelTransport({ ...defaultModelTransportOptions, ...overrides });
    t.runUntilLinkUp();
    return t;
  }

  configRead(offset: number, size: AccessSize): Promise<ConfigReadResult> {
    return this.configReadAt(SSD_BDF, offset, size);
  }

  configWrite(offset: number, size: AccessSize, value: number): Promise<ConfigStatus> {
    return this.configWriteAt(SSD_BDF, offset, size, value);
  }

  async readMemory(address: bigint, length: number): Promise<Uint8Array> {
    return this.readHostMemory(this.memoryWindow, "the model's window", address, length);
  }

  async writeMemory(address: bigint, data: Uint8Array): Promise<void> {
    this.writeHostMemory(this.memoryWindow, "the model's window", address, data);
  }

  async close(): Promise<void> {
    this.waiting.clear();
  }
}
