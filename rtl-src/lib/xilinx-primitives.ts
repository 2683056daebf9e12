// The 7-series primitives a board top places as black boxes (their Verilog comes with Vivado's
// UNISIM library; `nvme-host gen` writes port-exact stubs of them into generated/blackbox/ for the
// open tools). Port names, directions and widths are the library's (UG953, 7 Series FPGA Libraries
// Guide); parameters are left at the library's defaults unless a board says otherwise, and the
// I/O standards and terminations are set in the board's XDC, where Vivado expects them.
// Builds no module.
import type { BlackBoxDef } from "../../hdl/index.ts";

/**
 * The GT reference clock input buffer (UG476: a dedicated MGTREFCLK pair goes through an
 * IBUFDS_GTE2 to the transceivers and, through O, to the PCIe block's `sys_clk`). `CEB` is the
 * active-low clock enable (tied 0: always on); `ODIV2` is O divided by two (unused).
 */
export const IBUFDS_GTE2 = {
  module: "IBUFDS_GTE2",
  description: "7-series GT reference clock input buffer (UNISIM, UG953).",
  inputs: { I: 1, IB: 1, CEB: 1 },
  outputs: { O: 1, ODIV2: 1 },
} as const satisfies BlackBoxDef;

/** A differential input buffer for an ordinary I/O pair (the board's system clock). */
export const IBUFDS = {
  module: "IBUFDS",
  description: "7-series differential input buffer (UNISIM, UG953).",
  inputs: { I: 1, IB: 1 },
  outputs: { O: 1 },
} as const satisfies BlackBoxDef;

/** A global clock buffer: a clock from an input buffer onto the global clock network. */
export const BUFG = {
  module: "BUFG",
  description: "7-series global clock buffer (UNISIM, UG953).",
  inputs: { I: 1 },
  outputs: { O: 1 },
} as const satisfies BlackBoxDef;
