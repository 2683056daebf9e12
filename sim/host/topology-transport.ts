// The model transport for a topology: the root-port hard IP + link model with, on its far side, one SSD
// model (no switch, as ModelTransport) or a PCIe switch with SSD models on its downstream ports
// (sim/system/topology.ts). Configuration requests go to any bus/device/function: type 0 on the root
// port's secondary bus, type 1 beyond it (PROTOCOL_FACTS A.6). MMIO and the SSDs' DMA share one host
// memory; endpointTransport() gives each SSD an NvmeTransport of its own (its BDF, a slice of the host
// memory window) so one NvmeDriver per SSD can bring it up. Time is simulated, 4 ns per cycle.

import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import { LinkModel } from "../pcie/link-model.ts";
import type { LinkParamsInput } from "../pcie/link-params.ts";
import type { PcieSwitch } from "../pcie/pcie-switch.ts";
import { buildTopology, type SystemTopology } from "../system/topology.ts";
import { type Bdf, bdfText, TlpHostPort } from "./tlp-host-port.ts";
import type { AccessSize, ConfigReadResult, ConfigStatus, NvmeTransport, RootPortConfigAccess } from "./transport.ts";

export { type Bdf, bdfText } from "./tlp-host-port.ts";

export interface TopologyTransportOptions {
  /** A switch and its SSDs; undefined: one SSD below the root port with `ssd` options. */
  topology?: SystemTopology;
  ssd: Partial<SsdOptions>;
  link: LinkParamsInput;
  /** Host memory the drivers may hand to the SSDs, shared out in equal slices by endpointTransport(). */
  memoryWindow: { start: bigint; end: bigint };
  completionTimeoutCycles: number;
}

export const defaultTopologyTransportOptions: TopologyTransportOptions = {
  ssd: {},
  link: {},
  memoryWindow: { start: 16n << 20n, end: 128n << 20n },
  completionTimeoutCycles: 250_000,
};

/** Configuration access to any function, and time: what the topology enumerator needs. */
export interface BusConfigAccess {
  readonly rootPort: RootPortConfigAccess | null;
  configReadAt(bdf: Bdf, offset: number, size: AccessSize): Promise<ConfigReadResult>;
  configWriteAt(bdf: Bdf, offset: number, size: AccessSize, value: number): Promise<ConfigStatus>;
  nowNs(): number;
  wait(ns: number): Promise<void>;
}

export class TopologyTransport extends TlpHostPort implements BusConfigAccess {
  readonly name = "model";
  readonly switch: PcieSwitch | undefined;
  /** SSD models: by downstream port with a switch, [the SSD] without. */
  readonly ssds: readonly (NvmeSsd | undefined)[];

  private constructor(options: TopologyTransportOptions) {
    const below = TopologyTransport.buildBelow(options);
    super(below.link, options, "below");
    this.switch = below.switch;
    this.ssds = below.ssds;
  }

  /** The devices below the root port, and the link to them. */
  private static buildBelow(options: TopologyTransportOptions): { link: LinkModel; switch: PcieSwitch | undefined; ssds: (NvmeSsd | undefined)[] } {
    if (options.topology !== undefined) {
      const built = buildTopology(options.topology);
      const link = new LinkModel(built.endpoint, { endpointMaxSpeed: built.endpointMaxSpeed, endpointMaxWidth: built.endpointMaxWidth, ...options.link });
      built.switch.upstreamLinkState = () => ({ speed: link.speed, width: link.width, up: link.isUp });
      return { link, switch: built.switch, ssds: built.ssds };
    }
    const ssd = new NvmeSsd(options.ssd);
    const link = new LinkModel(ssd, { endpointMaxSpeed: ssd.options.linkSpeed as 1 | 2 | 3, endpointMaxWidth: ssd.options.linkWidth, ...options.link });
    return { link, switch: undefined, ssds: [ssd] };
  }

  /** Build the models and run the root link until it is up. */
  static async start(overrides: Partial<TopologyTransportOptions> = {}): Promise<TopologyTransport> {
    const t = new TopologyTransport({ ...defaultTopologyTransportOptions, ...overrides });
    t.runUntilLinkUp();
    return t;
  }

  /**
   * An NvmeTransport for the endpoint at `bdf`: its configuration space, MMIO, and slice `slice` of
   * `slices` of the host memory window (each driver allocates its queues and buffers in its own slice).
   */
  endpointTransport(bdf: Bdf, slice = 0, slices = 1): NvmeTransport {
    const { start, end } = this.memoryWindow;
    const step = ((end - start) / BigInt(slices)) & ~0xfffn;
    const window = { start: start + step * BigInt(slice), end: start + step * BigInt(slice + 1) };
    const windowName = `${bdfText(bdf)}'s slice`;
    return {
      name: `model ${bdfText(bdf)}`,
      configSpaceBytes: 4096,
      rootPort: null,
      memoryWindow: window,
      configRead: (offset, size) => this.configReadAt(bdf, offset, size),
      configWrite: (offset, size, value) => this.configWriteAt(bdf, offset, size, value),
      mmioRead32: (a) => this.mmioRead32(a),
      mmioRead64: (a) => this.mmioRead64(a),
      mmioWrite32: (a, v) => this.mmioWrite32(a, v),
      mmioWrite64: (a, v) => this.mmioWrite64(a, v),
      readMemory: async (address, length) => this.readHostMemory(window, windowName, address, length),
      writeMemory: async (address, data) => this.writeHostMemory(window, windowName, address, data),
      nowNs: () => this.nowNs(),
      wait: (ns) => this.wait(ns),
      close: async () => {},
    };
  }
}
