// Joins a simulated design (emitted Verilog, any engine) to the link + hard-IP model, port by
// port, one user-clock edge at a time. The design's ports carry the core's own names
// (s_axis_tx_*, m_axis_rx_*, rx_np_ok, user_lnk_up, tx_buf_av, tx_err_drop, cfg_mgmt_*): every
// one of them the design has is connected, the rest are left alone. Nothing is allocated per cycle.
import type { SignalHandle, Simulator } from "../engine/index.ts";
import type { LinkModel } from "../pcie/link-model.ts";
import type { RootPortPorts } from "../pcie/root-port-ports.ts";

type ScalarPort = Exclude<keyof RootPortPorts, "s_axis_tx_tdata_lo" | "s_axis_tx_tdata_hi" | "m_axis_rx_tdata_lo" | "m_axis_rx_tdata_hi">;

/** Ports the design drives into the core. */
const designOutputs: readonly ScalarPort[] = [
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
];

/** Ports the core drives into the design. */
const designInputs: readonly ScalarPort[] = [
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
];

export class RootPortBridge {
  private readonly outputs: { handle: SignalHandle; port: ScalarPort }[] = [];
  private readonly inputs: { handle: SignalHandle; port: ScalarPort }[] = [];
  private readonly txData: SignalHandle | undefined;
  private readonly rxData: SignalHandle | undefined;
  private readonly words = new Uint32Array(2);

  constructor(
    readonly design: Simulator,
    readonly link: LinkModel,
  ) {
    const has = new Set(design.signals.filter((s) => s.direction !== "internal").map((s) => s.name));
    for (const port of designOutputs) if (has.has(port)) this.outputs.push({ handle: design.signal(port), port });
    for (const port of designInputs) if (has.has(port)) this.inputs.push({ handle: design.signal(port), port });
    this.txData = has.has("s_axis_tx_tdata") ? design.signal("s_axis_tx_tdata") : undefined;
    this.rxData = has.has("m_axis_rx_tdata") ? design.signal("m_axis_rx_tdata") : undefined;
  }

  /** Advances both sides by `cycles` clock edges; both see the same handshakes before each edge. */
  step(cycles = 1): void {
    const ports = this.link.ports;
    const design = this.design;
    for (let n = 0; n < cycles; n++) {
      for (const { handle, port } of this.inputs) design.poke(handle, ports[port]);
      if (this.rxData) {
        this.words[0] = ports.m_axis_rx_tdata_lo;
        this.words[1] = ports.m_axis_rx_tdata_hi;
        design.pokeWords(this.rxData, this.words);
      }
      for (const { handle, port } of this.outputs) ports[port] = design.peek(handle);
      if (this.txData) {
        design.peekWords(this.txData, this.words);
        ports.s_axis_tx_tdata_lo = this.words[0];
        ports.s_axis_tx_tdata_hi = this.words[1];
      }
      this.link.step();
      design.step();
    }
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
