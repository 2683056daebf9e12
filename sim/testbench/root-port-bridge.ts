// Joins a simulated design (emitted Verilog, any engine) to the link + hard-IP model, port by
// port, one user-clock edge at a time. The design's ports carry the core's own names
// (s_axis_tx_*, m_axis_rx_*, rx_np_ok, user_lnk_up, tx_buf_av, tx_err_drop, cfg_mgmt_*, pl_*, and the
// SSD's perst_n): every
// one of them the design has is connected, the rest are left alone. The ports cross through one
// PortExchange, so a cycle is one engine call; nothing is allocated per cycle.
import type { PortExchange, SignalHandle, Simulator } from "../engine/index.ts";
import type { LinkModel } from "../pcie/link-model.ts";
import type { RootPortPorts } from "../pcie/root-port-ports.ts";

type ScalarPort = Exclude<keyof RootPortPorts, "s_axis_tx_tdata_lo" | "s_axis_tx_tdata_hi" | "m_axis_rx_tdata_lo" | "m_axis_rx_tdata_hi">;

/** Ports the design drives into the core (and PERST#, which it drives to the SSD). */
export const CORE_DRIVEN_PORTS: readonly ScalarPort[] = [
  "s_axis_tx_tkeep",
  "s_axis_tx_tlast",
  "s_axis_tx_tvalid",
  "s_axis_tx_tuser",
  "m_axis_rx_tready",
  "rx_np_ok",
  "cfg_mgmt_dwaddr",
  "cfg_mgmt_di",
  "cfg_mgmt_byte_en",
  "cfg_mgmt_wr_en",
  "cfg_mgmt_rd_en",
  "cfg_mgmt_wr_readonly",
  "cfg_mgmt_wr_rw1c_as_rw",
  "perst_n",
  "pl_directed_link_change",
  "pl_directed_link_speed",
  "pl_directed_link_width",
  "pl_directed_link_auton",
];

/** Ports the core drives into the design. */
export const LINK_DRIVEN_PORTS: readonly ScalarPort[] = [
  "s_axis_tx_tready",
  "m_axis_rx_tkeep",
  "m_axis_rx_tlast",
  "m_axis_rx_tvalid",
  "m_axis_rx_tuser",
  "user_lnk_up",
  "tx_buf_av",
  "tx_err_drop",
  "cfg_mgmt_do",
  "cfg_mgmt_rd_wr_done",
  "pl_sel_lnk_rate",
  "pl_sel_lnk_width",
  "pl_link_gen2_cap",
  "pl_ltssm_state",
  "pl_directed_change_done",
];

/** Copies between the link model's port object and the exchange's arrays, compiled per design. */
interface PortSlot {
  handle: SignalHandle;
  at: number;
  /** The port's words in the exchange's array. */
  view: Uint32Array;
}

export type PortCopy = (ports: RootPortPorts, words: Uint32Array) => void;

/** The link ports a design has: what it takes from the link (inputs) and drives into it (outputs), in exchange order. */
export function linkPortsOf(design: Simulator): { inputs: string[]; outputs: string[] } {
  const has = new Set(design.signals.filter((s) => s.direction !== "internal").map((s) => s.name));
  const inputs: string[] = LINK_DRIVEN_PORTS.filter((p) => has.has(p));
  const outputs: string[] = CORE_DRIVEN_PORTS.filter((p) => has.has(p));
  if (has.has("m_axis_rx_tdata")) inputs.push("m_axis_rx_tdata");
  if (has.has("s_axis_tx_tdata")) outputs.push("s_axis_tx_tdata");
  return { inputs, outputs };
}

/**
 * Straight-line property copies between the link's port object and an exchange's arrays (names from the
 * fixed lists above): no lookups or loops per cycle. `toDesign` fills the exchange's inputs with the
 * link's outputs, `fromDesign` the link's inputs from the exchange's outputs.
 */
export function compilePortCopies(x: PortExchange, inputs: readonly string[], outputs: readonly string[]): { toDesign: PortCopy; fromDesign: PortCopy } {
  const assignments = (names: readonly string[], toWords: boolean) =>
    names.flatMap((name) => {
      const at = x.offsetOf(name);
      const fields = name.endsWith("_tdata") ? [`${name}_lo`, `${name}_hi`] : [name];
      return fields.map((field, w) => (toWords ? `w[${at + w}] = p.${field};` : `p.${field} = w[${at + w}];`));
    });
  return {
    toDesign: new Function("p", "w", assignments(inputs, true).join("\n")) as PortCopy,
    fromDesign: new Function("p", "w", assignments(outputs, false).join("\n")) as PortCopy,
  };
}

/**
 * How the ports cross: "exchange" (one engine call per cycle) or "per-port" (a poke or peek per
 * port per cycle, the path before PortExchange, kept as the benchmark's baseline).
 */
export type BridgeCoupling = "exchange" | "per-port";

export class RootPortBridge {
  /** The design's side of the ports: the link's outputs in `inputs`, the design's in `outputs`. */
  readonly exchange: PortExchange;
  private readonly toDesign: PortCopy;
  private readonly fromDesign: PortCopy;
  private readonly inputNames: readonly string[];
  private readonly outputNames: readonly string[];

  constructor(
    readonly design: Simulator,
    readonly link: LinkModel,
    readonly coupling: BridgeCoupling = "exchange",
  ) {
    const { inputs, outputs } = linkPortsOf(design);
    this.inputNames = inputs;
    this.outputNames = outputs;
    this.exchange = design.portExchange({ inputs, outputs });
    ({ toDesign: this.toDesign, fromDesign: this.fromDesign } = compilePortCopies(this.exchange, inputs, outputs));
  }

  /**
   * Advances both sides by `cycles` clock edges; both see the same handshakes before each edge:
   * the design sees the link's registered outputs, the link the design's outputs with them applied.
   */
  step(cycles = 1): void {
    if (this.coupling === "per-port") return this.stepPortByPort(cycles);
    const { link, exchange, toDesign, fromDesign } = this;
    const ports = link.ports;
    for (let n = 0; n < cycles; n++) {
      toDesign(ports, exchange.inputs);
      exchange.cycle();
      fromDesign(ports, exchange.outputs);
      link.step();
    }
  }

  private stepPortByPort(cycles: number): void {
    const { link, design, exchange, toDesign, fromDesign } = this;
    const ports = link.ports;
    const layout = this.perPortLayout ??= this.layoutOf();
    for (let n = 0; n < cycles; n++) {
      toDesign(ports, exchange.inputs);
      const I = exchange.inputs;
      const O = exchange.outputs;
      for (const { handle, at, view } of layout.inputs) view.length === 1 ? design.poke(handle, I[at]) : design.pokeWords(handle, view);
      for (const { handle, at, view } of layout.outputs) view.length === 1 ? (O[at] = design.peek(handle)) : design.peekWords(handle, view);
      fromDesign(ports, exchange.outputs);
      link.step();
      design.step();
    }
  }

  private perPortLayout: { inputs: PortSlot[]; outputs: PortSlot[] } | undefined;

  private layoutOf(): { inputs: PortSlot[]; outputs: PortSlot[] } {
    const slot = (name: string, words: Uint32Array): PortSlot => {
      const handle = this.design.signal(name);
      const at = this.exchange.offsetOf(name);
      return { handle, at, view: words.subarray(at, at + Math.ceil(handle.width / 32)) };
    };
    return { inputs: this.inputNames.map((n) => slot(n, this.exchange.inputs)), outputs: this.outputNames.map((n) => slot(n, this.exchange.outputs)) };
  }

  /** Steps until `done()` holds, at most `maxCycles`; returns the cycles taken or throws naming the limit. */
  runUntil(done: () => boolean, maxCycles: number, what = "condition"): number {
    for (let n = 0; n < maxCycles; n++) {
      if (done()) return n;
      this.step();
    }
    if (done()) return maxCycles;
    throw new Error(`${what} not reached within ${maxCycles} cycles`);
  }
}
