// The full-system simulation (DESIGN.md, sim/system/): the controller's core as emitted Verilog on the js
// or the Verilator engine, the root port hard IP + link model at its pcie_7x user-side ports, and one
// NVMe SSD model behind the link, stepped together at 250 MHz. One call builds it; the caller peeks and
// pokes the core's other ports (status, user interface) through `sim`.
//
// Coupling: the link's ports cross through one PortExchange (one engine call per cycle, nothing
// allocated). Each cycle the core sees the link's registered outputs, the link the core's outputs with
// them applied, then both take the edge (the RootPortBridge order). Fast-forward: when the link model
// and the SSD have nothing to do before cycle X (LinkModel.nextEventCycle(), which asks the SSD), the
// engine runs on its own with the link's outputs held, up to X, stopping before any cycle in which an
// output the link reacts to changes (runWhileStable); the link's clock then jumps over the stretch
// (advanceIdle). Both give exactly the state that cycle-by-cycle stepping gives, so runs with and
// without fast-forward produce the same TLP trace and cycle counts.
import { emitDesign, type Module } from "../../hdl/index.ts";
import { createSimulator, resolveEngine, type EngineName, type PortExchange, type SignalVisibility, type Simulator, type VerilogSource } from "../engine/index.ts";
import { LinkModel, type LinkEvent } from "../pcie/link-model.ts";
import { USER_CLOCK_HZ, type LinkParamsInput } from "../pcie/link-params.ts";
import { type TraceSink, TraceWriter } from "../pcie/trace.ts";
import type { SsdOptions } from "../nvme/options.ts";
import { NvmeSsd, type PowerFailReport } from "../nvme/ssd.ts";
import { compilePortCopies, linkPortsOf, type PortCopy } from "../testbench/root-port-bridge.ts";
import { monitorStreams } from "../testbench/stream-monitor.ts";
import type { PcieSwitch, SwitchEvent, SwitchTlpEvent } from "../pcie/pcie-switch.ts";
import { applySsdFaults, hasNoLinkFault, type SsdFault } from "./ssd-spec.ts";
import { buildTopology, type SystemTopology } from "./topology.ts";
import { emittedSources } from "../engine/designs.ts";

/** Nanoseconds per cycle of the 250 MHz user clock. */
export const NS_PER_CYCLE = 1e9 / USER_CLOCK_HZ;

/** A core given as Verilog: files (paths or in-memory sources) and the top module's name. */
export interface VerilogCore {
  sources: readonly (string | VerilogSource)[];
  top: string;
}

export interface SystemOptions {
  /** The controller core: a DSL module (emitted with emitDesign) or Verilog files and a top. */
  core: Module | VerilogCore;
  /** "js", "verilator" or "native"; default NVME_HOST_ENGINE, else "js". */
  engine?: string;
  /** The SSD model's options (defaults: sim/nvme/options.ts). */
  ssd?: Partial<SsdOptions>;
  /** Faults to inject (ssd-spec.ts); "noLink" makes the link never train. */
  faults?: readonly SsdFault[];
  /**
   * A PCIe switch below the root port with an SSD (its own options and faults) or nothing on each downstream
   * port, instead of the one SSD of `ssd`/`faults` (which must then be absent). Default: no switch.
   */
  topology?: SystemTopology;
  /** With a topology: called for every TLP the switch hands to an SSD or to the root link, and for its events. */
  onSwitchTlp?: (event: SwitchTlpEvent) => void;
  onSwitchEvent?: (event: SwitchEvent) => void;
  /** Link + hard-IP parameters; the endpoint's speed and width default to the SSD's (or the switch's upstream port's). */
  link?: LinkParamsInput;
  /** Write the TLP trace of DESIGN.md (JSON lines) to this file, or hand each TLP to this sink (a TraceWriter, a checker, a tee). */
  trace?: string | TraceSink;
  /** Write a VCD of every core signal to this file (slower: the exchange goes port by port). */
  vcd?: string;
  /** Cycles the core's `rst` input (if it has one) is held high at the start (default 4). */
  resetCycles?: number;
  /**
   * Core signals (outputs or internal) whose change ends a fast-forward stretch, so that a runUntil()
   * predicate reading them stops on the exact cycle. Model state and the coupled ports always count.
   */
  watch?: readonly string[];
  /**
   * Watch every valid/ready stream of the core with the protocol monitors (sim/testbench/stream-monitor.ts):
   * a valid dropped before its ready or a payload changing while it waits fails the run. Slower (the
   * exchange then goes port by port); for tests.
   */
  monitorStreams?: boolean;
  /** Skip idle stretches inside the engine (default true); false steps the models every cycle. */
  fastForward?: boolean;
  /** Reuse compiled models from .cache/ (default true). */
  cache?: boolean;
  /**
   * "all" (default): every core signal can be peeked and watched. "ports": only the core's ports, which
   * lets Verilator optimise the internals (about twice the speed); no effect on the js engine.
   */
  visibility?: SignalVisibility;
  /** Called for every event the link model logs (drops, PERST#, retrains...). */
  onLinkEvent?: (event: LinkEvent) => void;
}

export interface SystemStats {
  /** Cycles run one at a time with the link model stepping. */
  steppedCycles: number;
  /** Cycles run inside the engine while the models were idle, and the stretches they came in. */
  fastForwardedCycles: number;
  fastForwards: number;
}

export interface FullSystem {
  /** The core: peek and poke its other ports (status, user interface). Do not step it directly. */
  readonly sim: Simulator;
  readonly link: LinkModel;
  /** The SSD (with a topology: the first one present; throws when there is none). */
  readonly ssd: NvmeSsd;
  /** Every SSD model by downstream port (undefined: an empty port); [ssd] without a topology. */
  readonly ssds: readonly (NvmeSsd | undefined)[];
  /** The switch model, with a topology. */
  readonly switch: PcieSwitch | undefined;
  readonly engine: EngineName;
  /** Rising edges of the 250 MHz user clock so far. */
  readonly cycle: number;
  /** Simulated time in ns (4 ns per cycle). */
  readonly timeNs: number;
  readonly stats: SystemStats;
  /** Advances exactly `cycles` cycles (default 1), fast-forwarding where nothing happens. */
  step(cycles?: number): void;
  /**
   * Advances until `done()` holds, checked before the first cycle and whenever model state or a
   * coupled or watched core signal may have changed; returns the cycles run. Throws naming `what`
   * and the limit if `maxCycles` pass first.
   */
  runUntil(done: () => boolean, maxCycles: number, what?: string): number;
  /**
   * Whether a change of this core output ends a fast-forward stretch (a link port or a `watch`
   * signal, or fast-forward is off): a runUntil() predicate may read only such signals, or it sees
   * their change late, when something else happens.
   */
  watches(name: string): boolean;
  /**
   * Power is cut now and comes back at once: the SSD model decides the fate of every write not yet
   * durable (NvmeSsd.powerFail: applied, lost or torn per its atomic-write rules, seeded) and comes
   * back as after a conventional reset; the core's `rst` is held high for the system's reset cycles
   * (so the core starts over and brings the SSD up again), and the core's PERST# output, reset low,
   * takes the link down with everything on it. The caller's drivers must start afresh too.
   */
  powerCut(seed?: number): PowerFailReport;
  /** Flushes and closes the trace and the VCD, and frees the engine's model. */
  close(): void;
}

/** The link outputs (core inputs) a stretch may hold: outputs of the core the link model reacts to while idle. */
const FAST_FORWARD_WATCH = ["s_axis_tx_tvalid", "cfg_mgmt_rd_en", "cfg_mgmt_wr_en", "perst_n", "pl_directed_link_change"] as const;

/** Shorter idle stretches run cycle by cycle: the engine call and the model's jump cost more than they save. */
const MIN_FAST_FORWARD = 4;

/** Builds the core on its engine, the link model and the SSD model, coupled and reset. */
export async function buildSystem(options: SystemOptions): Promise<FullSystem> {
  const engine = resolveEngine(options.engine);
  const { sources, top } = coreSources(options.core);
  const created = await createSimulator({ sources, top, engine, cache: options.cache, vcd: options.vcd, visibility: options.visibility });
  const sim = options.monitorStreams ? monitorStreams(created) : created;
  try {
    return new CoupledSystem(sim, engine, options);
  } catch (error) {
    sim.close();
    throw error;
  }
}

function coreSources(core: Module | VerilogCore): VerilogCore {
  if ("sources" in core && "top" in core) return core as VerilogCore;
  const module = core as Module;
  const { files } = emitDesign(module);
  return { sources: emittedSources(files), top: module.name };
}

class CoupledSystem implements FullSystem {
  readonly link: LinkModel;
  readonly ssds: readonly (NvmeSsd | undefined)[];
  readonly switch: PcieSwitch | undefined;
  private readonly firstSsd: NvmeSsd | undefined;
  readonly stats: SystemStats = { steppedCycles: 0, fastForwardedCycles: 0, fastForwards: 0 };
  private readonly exchange: PortExchange;
  private readonly toDesign: PortCopy;
  private readonly fromDesign: PortCopy;
  private readonly trace: TraceSink | undefined;
  private readonly ownsTrace: boolean;
  private readonly fastForward: boolean;
  /** The core outputs whose change ends a fast-forward stretch. */
  private readonly watched: ReadonlySet<string>;
  /** Word of `rst` in the exchange's inputs, or -1 when the core has no rst. */
  private readonly resetAt: number;
  private readonly resetCycles: number;
  /** rst is held high in cycles resetFrom..resetUntil-1 (the start, and after a power cut). */
  private resetFrom = 0;
  private resetUntil: number;
  /**
   * The next cycle must run with the models: the link's port inputs may differ from the core's outputs
   * in the exchange (at the start, and after a stretch stopped on a changing output).
   */
  private mustStep = true;
  private closed = false;

  constructor(
    readonly sim: Simulator,
    readonly engine: EngineName,
    options: SystemOptions,
  ) {
    const faults = options.faults ?? [];
    this.ownsTrace = typeof options.trace === "string";
    this.trace = typeof options.trace === "string" ? new TraceWriter(options.trace) : options.trace;
    if (options.topology !== undefined) {
      if (options.ssd !== undefined || options.faults !== undefined) throw new RangeError("SystemOptions: with a topology, give each SSD's options and faults in topology.ssds, not in ssd/faults");
      const built = buildTopology(options.topology, { observe: options.onSwitchTlp, onEvent: options.onSwitchEvent });
      this.ssds = built.ssds;
      this.switch = built.switch;
      const linkParams: LinkParamsInput = { endpointMaxSpeed: built.endpointMaxSpeed, endpointMaxWidth: built.endpointMaxWidth, ...options.link };
      this.link = new LinkModel(built.endpoint, linkParams, { trace: this.trace, onEvent: options.onLinkEvent });
      const link = this.link;
      built.switch.upstreamLinkState = () => ({ speed: link.speed, width: link.width, up: link.isUp });
    } else {
      const ssd = new NvmeSsd(options.ssd);
      applySsdFaults(ssd, faults);
      this.ssds = [ssd];
      this.switch = undefined;
      const linkParams: LinkParamsInput = {
        endpointMaxSpeed: ssd.options.linkSpeed as 1 | 2 | 3,
        endpointMaxWidth: ssd.options.linkWidth,
        ...(hasNoLinkFault(faults) ? { noLink: true } : {}),
        ...options.link,
      };
      this.link = new LinkModel(ssd, linkParams, { trace: this.trace, onEvent: options.onLinkEvent });
    }
    this.firstSsd = this.ssds.find((s) => s !== undefined);

    const ports = linkPortsOf(sim);
    const hasReset = sim.signals.some((s) => s.name === "rst" && s.direction === "input");
    const inputs = hasReset ? [...ports.inputs, "rst"] : ports.inputs;
    const watch = options.watch ?? [];
    for (const name of watch) sim.signal(name); // throws with the closest names for a typo
    const outputs = [...ports.outputs, ...watch.filter((name) => !ports.outputs.includes(name))];
    this.watched = new Set(outputs);
    this.exchange = sim.portExchange({ inputs, outputs });
    ({ toDesign: this.toDesign, fromDesign: this.fromDesign } = compilePortCopies(this.exchange, ports.inputs, ports.outputs));

    const x = this.exchange;
    x.watch.fill(0);
    for (const name of [...FAST_FORWARD_WATCH.filter((n) => ports.outputs.includes(n)), ...watch]) {
      const words = Math.ceil(sim.signal(name).width / 32);
      x.watch.fill(0xffffffff, x.offsetOf(name), x.offsetOf(name) + words);
    }
    const resetCycles = options.resetCycles ?? 4;
    if (!Number.isInteger(resetCycles) || resetCycles < 0) throw new RangeError(`resetCycles = ${resetCycles}: must be a non-negative integer`);
    this.resetAt = hasReset ? x.offsetOf("rst") : -1;
    this.resetCycles = hasReset ? resetCycles : 0;
    this.resetUntil = this.resetCycles;
    this.fastForward = options.fastForward ?? true;
    this.toDesign(this.link.ports, x.inputs);
  }

  get ssd(): NvmeSsd {
    const ssd = this.firstSsd;
    if (ssd === undefined) throw new Error("this system's topology has no SSD (every downstream port is empty)");
    return ssd;
  }

  get cycle(): number {
    return this.link.cycle;
  }

  get timeNs(): number {
    return this.link.cycle * NS_PER_CYCLE;
  }

  step(cycles = 1): void {
    if (!Number.isSafeInteger(cycles) || cycles < 0) throw new RangeError(`step(${cycles}): cycles must be a non-negative integer`);
    const end = this.link.cycle + cycles;
    while (this.link.cycle < end) this.advance(end);
  }

  watches(name: string): boolean {
    return !this.fastForward || this.watched.has(name);
  }

  runUntil(done: () => boolean, maxCycles: number, what = "condition"): number {
    const start = this.link.cycle;
    const end = start + maxCycles;
    while (!done()) {
      if (this.link.cycle >= end) throw new Error(`${what} not reached within ${maxCycles} cycles (at cycle ${this.link.cycle}, ${this.timeNs / 1000} µs)`);
      this.advance(end);
    }
    return this.link.cycle - start;
  }

  powerCut(seed = 1): PowerFailReport {
    const report = this.ssd.powerFail(this.link.cycle, seed);
    this.resetFrom = this.link.cycle;
    this.resetUntil = this.link.cycle + this.resetCycles;
    this.mustStep = true;
    return report;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsTrace) this.trace?.close?.();
    else this.trace?.flush?.();
    this.sim.close();
  }

  /** One stretch: up to `end`, idle cycles inside the engine, or else one cycle with the models. */
  private advance(end: number): void {
    const link = this.link;
    const x = this.exchange;
    const cycle = link.cycle;
    const inReset = cycle >= this.resetFrom && cycle < this.resetUntil;
    if (this.resetAt >= 0) x.inputs[this.resetAt] = inReset ? 1 : 0;
    if (this.fastForward && !this.mustStep) {
      let until = link.nextEventCycle();
      if (inReset && this.resetUntil < until) until = this.resetUntil;
      if (until > end) until = end;
      const idle = until - cycle;
      if (idle >= MIN_FAST_FORWARD) {
        const ran = x.runWhileStable(idle);
        // Stopped before a cycle whose watched outputs differ: that cycle runs with the models.
        this.mustStep = ran < idle;
        if (ran > 0) {
          link.advanceIdle(ran);
          this.stats.fastForwardedCycles += ran;
          this.stats.fastForwards++;
          return;
        }
      }
    }
    x.cycle();
    this.fromDesign(link.ports, x.outputs);
    link.step();
    this.toDesign(link.ports, x.inputs);
    this.mustStep = false;
    this.stats.steppedCycles++;
  }
}
