// Memories with one write port and synchronous read ports: the shape Yosys and Vivado map to
// block RAM (simple dual port). A read returns the word stored before a same-cycle write.
import { HdlError } from "./errors.ts";
import { CallSite } from "./location.ts";
import type { ModuleContext } from "./module-context.ts";
import { addressBits, encodeConstant, unsigned } from "./shape.ts";
import type { Signal } from "./value.ts";

export interface MemoryOptions {
  /** Bits per word. */
  width: number;
  /** Number of words. */
  depth: number;
  /** Initial contents from address 0; missing words start as zero. */
  init?: readonly (number | bigint)[];
  /** Verilog name; by default the TypeScript variable. */
  name?: string;
}

export interface WritePort {
  /** Driven by the design. */
  addr: Signal;
  data: Signal;
  en: Signal;
  site: CallSite;
}

export interface ReadPort {
  /** Driven by the design. */
  addr: Signal;
  en: Signal;
  /** The word at `addr`, one clock after `en` (holds while `en` is low). */
  data: Signal;
  site: CallSite;
}

export class Memory {
  readonly width: number;
  readonly depth: number;
  readonly addressWidth: number;
  readonly init: readonly bigint[];
  readonly writePorts: WritePort[] = [];
  readonly readPorts: ReadPort[] = [];
  readonly name: () => string;

  constructor(
    private readonly module: ModuleContext,
    options: MemoryOptions,
    readonly site: CallSite,
  ) {
    const { width, depth } = options;
    if (!Number.isInteger(width) || width < 1) throw new HdlError(`memory width must be a positive integer, got ${width}`, site);
    if (!Number.isInteger(depth) || depth < 2) throw new HdlError(`memory depth must be an integer >= 2, got ${depth}`, site);
    if (options.init && options.init.length > depth) {
      throw new HdlError(`memory init has ${options.init.length} words but the depth is ${depth}`, site);
    }
    this.width = width;
    this.depth = depth;
    this.addressWidth = addressBits(depth);
    this.init = (options.init ?? []).map((word) => encodeConstant(word, unsigned(width), site));
    this.name = () => options.name ?? module.nameFor(site, "mem");
  }

  writePort(): WritePort {
    const site = new CallSite();
    if (this.writePorts.length > 0) {
      throw new HdlError(`memory "${this.name()}" already has a write port (${this.writePorts[0].site}); block RAM inference needs exactly one`, site);
    }
    const port: WritePort = {
      addr: this.module.declareDerived("internal", this.addressWidth, () => `${this.name()}_waddr`, site),
      data: this.module.declareDerived("internal", this.width, () => `${this.name()}_wdata`, site),
      en: this.module.declareDerived("internal", 1, () => `${this.name()}_wen`, site),
      site,
    };
    this.writePorts.push(port);
    return port;
  }

  readPort(): ReadPort {
    const site = new CallSite();
    const suffix = this.readPorts.length === 0 ? "" : `${this.readPorts.length}`;
    const port: ReadPort = {
      addr: this.module.declareDerived("internal", this.addressWidth, () => `${this.name()}_raddr${suffix}`, site),
      en: this.module.declareDerived("internal", 1, () => `${this.name()}_ren${suffix}`, site),
      data: this.module.declareDerived("internal", this.width, () => `${this.name()}_rdata${suffix}`, site, { resetless: true }),
      site,
    };
    port.data.driver = { kind: "memory", site, group: port };
    this.readPorts.push(port);
    return port;
  }
}
