// The Xilinx VC707 evaluation board (Virtex-7 XC7VX485T-2FFG1761C) with an FMC-to-M.2 adapter on its
// FMC1 HPC connector: Opsero's FPGA Drive FMC Gen4, SSD slot 1, four lanes (FMC DP0..DP3). Pins,
// GT channel locations and their sources are in constraints/vc707/board.xdc; this table holds what
// the board top's logic needs. Builds no module (board-top.ts does).
import { type BoardTable, boardTop } from "./board-top.ts";

export const VC707: BoardTable = {
  name: "vc707",
  title: "Xilinx VC707 (Virtex-7 485T) with Opsero FPGA Drive FMC Gen4 on FMC1 HPC (SSD 1, x4)",
  part: "xc7vx485tffg1761-2",
  // The block next to the FMC's GT quad 119 (Opsero's VC707 HPC1 design uses PCIE_X1Y1; the
  // edge connector's block is another).
  pcieBlock: "X1Y1",
  systemClockHz: 200e6,
  // FPGA Drive FMC: the FMC pin (LA00_CC_P) is active high, the card drives the M.2 PERST# low from it.
  perstActiveHighAtPin: true,
  constantOutputs: [
    {
      name: "ssd2_power_disable",
      value: 1,
      why: "FPGA Drive FMC Gen4 LA07_P: 1 switches off slot 2's 3.3 V supply and clock (Opsero's one-SSD designs drive it 1)",
    },
  ],
};

/** The VC707 board top. */
export const boardVc707 = () => boardTop(VC707);
