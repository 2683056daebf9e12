// Memories with one write port and synchronous read ports: the shape Yosys and Vivado map to
// block RAM (simple dual port). A read returns the word stored before a same-cycle write.
// Addresses past the depth (possible only when it is not a power of two) are defined, so that
// every simulator agrees: a constant one is an error, a dynamic one reads 0 and writes nothing.
import { HdlError } from "./errors.ts";
import { CallSite } from "./location.ts";
import type { ModuleContext } from "./module-context.ts";
import { addressBits, encodeConstant, unsigned } from "./shape.ts";
import { Const, type Signal, type ValueLike } from "./value.ts";

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

/** What drives a write port: the word `data` is stored at `addr` at the clock edge when `en` is high. */
export interface WritePortConnections {
  addr: ValueLike;
  data: ValueLike;
  en: ValueLike;
}

/** What drives a read port: the word at `addr` is registered into `data` when `en` is high. */
export interface ReadPortConnections {
  addr: ValueLike;
  en: ValueLike;
}

export interface WritePort {
  /** Follow the connections given to `writePort`. */
  addr: Signal;
  data: Signal;
  en: Signal;
  site: CallSite;
}

export interface ReadPort {
  /** Follow the connections given to `readPort`. */
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

  /** True when some address values of the port width lie past the last word. */
  get hasAddressesPastDepth(): boolean {
    return this.depth < 2 ** this.addressWidth;
  }

  writePort(connections: WritePortConnections): WritePort {
    const site = new CallSite();
    this.checkConstantAddress(connections.addr, site);
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
    this.module.comb(port.addr, connections.addr);
    this.module.comb(port.data, connections.data);
    this.module.comb(port.en, connections.en);
    return port;
  }

  readPort(connections: ReadPortConnections): ReadPort {
    const site = new CallSite();
    this.checkConstantAddress(connections.addr, site);
    const suffix = this.readPorts.length === 0 ? "" : `${this.readPorts.length}`;
    const port: ReadPort = {
      addr: this.module.declareDerived("internal", this.addressWidth, () => `${this.name()}_raddr${suffix}`, site),
      en: this.module.declareDerived("internal", 1, () => `${this.name()}_ren${suffix}`, site),
      data: this.module.declareDerived("internal", this.width, () => `${this.name()}_rdata${suffix}`, site, { resetless: true }),
      site,
    };
    port.data.driver = { kind: "memory", site, group: port };
    this.readPorts.push(port);
    this.module.comb(port.addr, connections.addr);
    this.module.comb(port.en, connections.en);
    return port;
  }

  private checkConstantAddress(addr: ValueLike, site: CallSite): void {
    const value = addr instanceof Const ? addr.bits_ : typeof addr === "number" || typeof addr === "bigint" ? BigInt(addr) : undefined;
    if (value !== undefined && value >= BigInt(this.depth)) {
      throw new HdlError(`memory "${this.name()}" has ${this.depth} words (0..${this.depth - 1}); the constant address ${value} is past its end`, site);
    }
  }
}
