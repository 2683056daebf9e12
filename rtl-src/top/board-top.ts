// A board top: the controller's core wrapped with the pcie_7x hard block, the clocks and resets a
// board gives it, its LEDs, and a built-in exerciser on the user interface, so that a bitstream can
// be tested with an SSD and nothing else. One builder serves every board; what differs between
// boards is a table (board-kc705.ts, board-vc707.ts), and the pins are in the board's XDC
// (constraints/<board>/board.xdc), named after this module's ports.
//
//   pcie_refclk_p/n -- IBUFDS_GTE2 --> pcie_7x_0.sys_clk          (100 MHz from the M.2 adapter)
//   sys_clk_p/n ------ IBUFDS -- BUFG --> board_reset             (the board's 200 MHz oscillator)
//   reset_button ----> board_reset --> pcie_7x_0.sys_rst_n        (power-on hold, button)
//   pcie_7x_0.user_clk_out (250 MHz) clocks everything below:
//     core reset = sync(user_reset_out | ~sys_rst_n)
//     nvme_host_core  <-- pcie_7x user-side ports (rtl-src/top/pcie-7x.ts) -- the SSD's PERST#
//     the user logic  <-- the controller's user interface: by default pattern_exerciser, enabled by
//                         exerciser_enable (a DIP switch) -- THIS IS WHERE A DESIGN PLUGS IN
//     status_leds     --> leds[6:0];  leds[7] = board clock heartbeat
//
// The user interface as a module boundary: any builder that returns a module exposing
// `UserLogicPorts` (the four ports of rtl-src/user/user-port.ts seen from the user's side, plus
// the controller status it needs) can take the exerciser's place (`boardTop(board, { userLogic })`).
//
// The SSD's PERST# is the core's `perst_n` (held low 100 ms after the block's clock starts, the CEM
// timing; rtl-src/pcie/link-training.ts), at the pin in the polarity the board's adapter wants.
// From the end of configuration on, the pin holds the SSD in reset until the core releases it (the
// core's PERST# register powers up asserted); while the FPGA configures, the pin is not driven and
// the board's pull-up strap (PUDC_B) and the adapter decide its level. On the FPGA Drive FMC the pin
// is active high: the card inverts it into the M.2 PERST#.
import { type Bundle, type FieldOf, Module, type ModuleInterface, type Signal, cat } from "../../hdl/index.ts";
import { LEVEL_SYNCHRONIZER, RESET_SYNCHRONIZER, bitSynchronizer } from "../lib/bit-synchronizer.ts";
import { BUFG, IBUFDS, IBUFDS_GTE2 } from "../lib/xilinx-primitives.ts";
import { BOARD_EXERCISER, type PatternExerciserParams, patternExerciser } from "../user/pattern-exerciser.ts";
import type { userCommand, userCompletion, userReadData, userWriteData } from "../user/user-port.ts";
import { BOARD_RESET_200MHZ, type BoardResetParams, boardReset } from "./board-reset.ts";
import { type NvmeHostCoreParams, hardwareCoreParams, nvmeHostCore } from "./nvme-host-core.ts";
import { PCIE_LANES, connectPcie7x, pcie7xBlackBox } from "./pcie-7x.ts";
import { STATUS_LEDS, STATUS_LEDS_250MHZ, type StatusLedsParams, statusLeds } from "./status-leds.ts";

/** What distinguishes one board (and its M.2 adapter) from another. Pins are in the board's XDC. */
export interface BoardTable {
  /** Short name: the module is `board_top_<name>`, the constraints constraints/<name>/. */
  name: string;
  /** What the board and adapter are, for the emitted header. */
  title: string;
  /** The FPGA part Vivado builds for. */
  part: string;
  /** The integrated PCIe block used (pcie_7x PCIe_Blk_Locn and the XDC's PCIE_X..Y.. location). */
  pcieBlock: string;
  /** The board's system clock, Hz (the board_reset domain). */
  systemClockHz: number;
  /** The adapter inverts PERST#: the FPGA pin is active high (`ssd_perst`), else active low (`ssd_perst_n`). */
  perstActiveHighAtPin: boolean;
  /** Adapter control pins the board top drives with a constant, and why. */
  constantOutputs: readonly { name: string; value: 0 | 1; why: string }[];
}

/** The user logic's ports: the controller's user interface from the user's side, and the status it needs. */
export interface UserLogicPorts extends ModuleInterface {
  user_command: Bundle<FieldOf<ReturnType<typeof userCommand>>>;
  user_write_data: Bundle<FieldOf<typeof userWriteData>>;
  user_read_data: Bundle<FieldOf<ReturnType<typeof userReadData>>>;
  user_completion: Bundle<FieldOf<ReturnType<typeof userCompletion>>>;
  /** A switch on the board, synchronised: the user logic may start. */
  enable: Signal;
  /** status_ready, status_lba_bytes and status_capacity_blocks of the controller. */
  ready: Signal;
  lba_bytes: Signal;
  capacity_blocks: Signal;
  /** For the LEDs: the user logic's own judgement of its work. */
  verified: Signal;
  failed: Signal;
}

export interface BoardTopOptions {
  core?: NvmeHostCoreParams;
  boardReset?: BoardResetParams;
  leds?: StatusLedsParams;
  exerciser?: PatternExerciserParams;
  /** The user logic in the exerciser's place; default: patternExerciser(exerciser). */
  userLogic?: () => Module<UserLogicPorts>;
}

const NAME = /^[a-z][a-z0-9_]*$/;

function checkBoard(board: BoardTable): void {
  const fail = (why: string) => {
    throw new RangeError(`boardTop ${board.name}: ${why}`);
  };
  if (!NAME.test(board.name)) fail(`name "${board.name}" is not a lower-case identifier`);
  if (!/^xc7[akvz][0-9a-z]+-[0-9]L?$/.test(board.part)) fail(`part "${board.part}" is not a 7-series part number (e.g. xc7k325tffg900-2)`);
  if (!/^X[0-9]Y[0-9]$/.test(board.pcieBlock)) fail(`pcieBlock "${board.pcieBlock}" is not a block location like X0Y0`);
  if (!Number.isFinite(board.systemClockHz) || board.systemClockHz < 10e6 || board.systemClockHz > 500e6) fail(`systemClockHz ${board.systemClockHz} is not in 10..500 MHz`);
  for (const out of board.constantOutputs) {
    if (!NAME.test(out.name)) fail(`constant output "${out.name}" is not a lower-case identifier`);
    if (out.value !== 0 && out.value !== 1) fail(`constant output ${out.name} = ${String(out.value)}, must be 0 or 1`);
  }
}

/** The FPGA top of a board: pins in, pins out; the controller, the hard block, clocks, resets, LEDs and an exerciser. */
export function boardTop(board: BoardTable, options: BoardTopOptions = {}) {
  checkBoard(board);
  const m = new Module(`board_top_${board.name}`);
  m.describe(
    `${board.title}: the FPGA's top. The NVMe host controller's core with the pcie_7x Root Port (Gen2 x4), the\n` +
      "board's clocks and resets, its LEDs and a built-in exerciser on the controller's user interface\n" +
      "(rtl-src/top/board-top.ts). Pins: constraints/" +
      `${board.name}/board.xdc. Build: vivado -mode batch -source constraints/${board.name}/build.tcl`,
  );
  m.parameters({ part: board.part, pcieBlock: board.pcieBlock, systemClockHz: board.systemClockHz, perstActiveHighAtPin: board.perstActiveHighAtPin });

  // ---- pins ----
  /** The PCIe reference clock from the M.2 adapter (100 MHz, a GT reference clock pair). */
  const pcie_refclk_p = m.input(1);
  const pcie_refclk_n = m.input(1);
  const pci_exp_txp = m.output(PCIE_LANES);
  const pci_exp_txn = m.output(PCIE_LANES);
  const pci_exp_rxp = m.input(PCIE_LANES);
  const pci_exp_rxn = m.input(PCIE_LANES);
  /** The board's system clock (a differential oscillator). */
  const sys_clk_p = m.input(1);
  const sys_clk_n = m.input(1);
  /** The board's reset button, active high. */
  const reset_button = m.input(1);
  /** A DIP switch: 1 lets the exerciser run (it overwrites part of the SSD). */
  const exerciser_enable = m.input(1);
  /** The SSD's PERST#, in the adapter's polarity. */
  const ssd_perst = m.output(1, { name: board.perstActiveHighAtPin ? "ssd_perst" : "ssd_perst_n" });
  /** The board's LEDs: STATUS_LEDS[0..6], then the board clock's heartbeat. */
  const leds = m.output(STATUS_LEDS.length + 1);
  const constants = board.constantOutputs.map((out) => ({ ...out, port: m.output(1, { name: out.name }) }));

  // ---- clocks ----
  const refclk_buffer = m.blackbox(IBUFDS_GTE2, { name: "refclk_ibuf" });
  m.comb(refclk_buffer.ports.I, pcie_refclk_p);
  m.comb(refclk_buffer.ports.IB, pcie_refclk_n);
  m.comb(refclk_buffer.ports.CEB, 0);
  const sysclk_buffer = m.blackbox(IBUFDS, { name: "sysclk_ibuf" });
  m.comb(sysclk_buffer.ports.I, sys_clk_p);
  m.comb(sysclk_buffer.ports.IB, sys_clk_n);
  const sysclk_global = m.blackbox(BUFG, { name: "sysclk_bufg" });
  m.comb(sysclk_global.ports.I, sysclk_buffer.ports.O);
  const board_clock = sysclk_global.ports.O;

  // ---- the board clock: the hard block's reset, a heartbeat ----
  const reset = m.instance(boardReset(options.boardReset ?? BOARD_RESET_200MHZ), { name: "board_reset", clock: board_clock, reset: 0 });
  m.comb(reset.ports.reset_button, reset_button);

  // ---- the hard block ----
  const pcie = m.blackbox(pcie7xBlackBox(), { name: "pcie" });
  const user_clock = pcie.io.user_clk_out;
  m.comb(pci_exp_txp, pcie.io.pci_exp_txp);
  m.comb(pci_exp_txn, pcie.io.pci_exp_txn);

  // ---- the user clock's reset: the block's own, or the board's held for the block ----
  const core_reset_sync = m.instance(bitSynchronizer(RESET_SYNCHRONIZER), { name: "core_reset_sync", clock: user_clock, reset: 0 });
  m.comb(core_reset_sync.ports.level_in, pcie.io.user_reset_out.or(reset.ports.pcie_reset_n.not()));
  const core_reset = core_reset_sync.ports.level_out;

  // ---- the controller's core ----
  const core = m.instance(nvmeHostCore(options.core ?? hardwareCoreParams), { name: "core", clock: user_clock, reset: core_reset });
  connectPcie7x(m, pcie, core, { sys_clk: refclk_buffer.ports.O, sys_rst_n: reset.ports.pcie_reset_n, pci_exp_rxp, pci_exp_rxn });
  const c = core.ports;
  m.comb(ssd_perst, board.perstActiveHighAtPin ? c.perst_n.not() : c.perst_n);
  // Restart, shutdown, the log pages and erase are the user's to ask for; the exerciser does not.
  m.comb(c.restart, 0);
  m.comb(c.shutdown, 0);
  m.comb(c.smart_refresh, 0);
  m.comb(c.error_log_refresh, 0);
  m.comb(c.page_address, 0);
  m.comb(c.user_erase.signals.valid, 0);
  m.comb(c.user_erase.signals.kind, 0);
  m.comb(c.user_erase.signals.nsid, 0);

  // ---- the user logic on the user interface ----
  const enable_sync = m.instance(bitSynchronizer(LEVEL_SYNCHRONIZER), { name: "enable_sync", clock: user_clock, reset: 0 });
  m.comb(enable_sync.ports.level_in, exerciser_enable);
  const build: () => Module<UserLogicPorts> = options.userLogic ?? (() => patternExerciser(options.exerciser ?? BOARD_EXERCISER));
  const user = m.instance(build(), { name: "user_logic", clock: user_clock, reset: core_reset });
  const u = user.ports;
  m.connect(u.user_command, c.user_command);
  m.connect(u.user_write_data, c.user_write_data);
  m.connect(c.user_read_data, u.user_read_data);
  m.connect(c.user_completion, u.user_completion);
  m.comb(u.enable, enable_sync.ports.level_out);
  m.comb(u.ready, c.status.status_ready);
  m.comb(u.lba_bytes, c.status.status_lba_bytes);
  m.comb(u.capacity_blocks, c.status.status_capacity_blocks);

  // ---- LEDs ----
  const status = m.instance(statusLeds(options.leds ?? STATUS_LEDS_250MHZ), { name: "status_leds", clock: user_clock, reset: core_reset });
  const s = status.ports;
  m.comb(s.link_up, pcie.io.user_lnk_up);
  m.comb(s.ready, c.status.status_ready);
  m.comb(s.fault, c.status.status_fault);
  m.comb(s.io_fault, c.status.status_io_fault);
  m.comb(s.link_speed, c.status.status_link_speed);
  m.comb(s.link_width, c.status.status_link_width);
  m.comb(s.exerciser_verified, u.verified);
  m.comb(s.exerciser_failed, u.failed);
  m.comb(leds, cat(reset.ports.heartbeat, s.leds));

  for (const out of constants) m.comb(out.port, out.value);
  return m.exposing({
    pcie_refclk_p,
    pcie_refclk_n,
    pci_exp_txp,
    pci_exp_txn,
    pci_exp_rxp,
    pci_exp_rxn,
    sys_clk_p,
    sys_clk_n,
    reset_button,
    exerciser_enable,
    ssd_perst,
    leds,
  });
}
