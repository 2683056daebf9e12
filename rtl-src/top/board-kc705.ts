// The Xilinx KC705 evaluation board (Kintex-7 XC7K325T-2FFG900C) with an FMC-to-M.2 adapter on its
// HPC FMC connector: Opsero's FPGA Drive FMC Gen4, SSD slot 1, four lanes (FMC DP0..DP3). Pins,
// GT channel locations and their sources are in constraints/kc705/board.xdc; this table holds what
// the board top's logic needs. Builds no module (board-top.ts does).
import { type BoardTable, boardTop } from "./board-top.ts";

export const KC705: BoardTable = {
  name: "kc705",
  title: "Xilinx KC705 (Kintex-7 325T) with Opsero FPGA Drive FMC Gen4 on the HPC FMC (SSD 1, x4)",
  part: "xc7k325tffg900-2",
  // The device has one integrated block for PCIe (UG477); the FMC's GT quad 118 reaches it through
  // the fabric, as Opsero's KC705 design places it.
  pcieBlock: "X0Y0",
  systemClockHz: 200e6,
  // FPGA Drive FMC: the FMC pin (LA00_CC_P) is active high, the card drives the M.2 PERST# low from
  // it (Opsero's designs drive it from an active-high reset).
  perstActiveHighAtPin: true,
  constantOutputs: [
    {
      name: "ssd2_power_disable",
      value: 1,
      why: "FPGA Drive FMC Gen4 LA07_P: 1 switches off slot 2's 3.3 V supply and clock (Opsero's one-SSD designs drive it 1)",
    },
  ],
};

/** The KC705 board top. */
export const boardKc705 = () => boardTop(KC705);
