# Constraints of board_top_kc705 (generated/board_top_kc705.v, built by rtl-src/top/board-top.ts with
# the table rtl-src/top/board-kc705.ts): the Xilinx KC705 board (XC7K325T-2FFG900C) with Opsero's
# FPGA Drive FMC Gen4 on the HPC FMC connector (J22), M.2 SSD in slot 1, four lanes.
#
# Where the facts come from (pin names only; nothing here is copied from them):
#   [UG810]   Xilinx KC705 Evaluation Board User Guide, and the KC705 master XDC: system clock, reset
#             button, LEDs, DIP switch. The same pins in alexforencich/verilog-ethernet
#             example/KC705/fpga_rgmii/fpga.xdc and analogdevicesinc/hdl
#             projects/common/kc705/kc705_system_constr.xdc.
#   [OPSERO]  fpgadeveloper/fpga-drive-aximm-pcie, Vivado/src/constraints/kc705_hpc.xdc (FPGA Drive FMC
#             Gen4, KC705 HPC, one SSD): PERST (LA00_CC_P), SSD2 power disable (LA07_P), the reference
#             clock (GBTCLK0_M2C), the GT channels and the PCIe block; the GT common's site from that
#             file's earlier version (kc705-hpc.xdc, for the first FPGA Drive FMC: the same pins).
#   [PG054]   the pcie_7x product guide: sys_clk from an IBUFDS_GTE2, sys_rst_n asynchronous.
# The hard block's own constraints (its TXOUTCLK clock, the PIPE clock's generated 125/250 MHz clocks
# and their multiplexer, its block RAM sites) come with the IP: Vivado applies the IP's XDC first,
# and the locations below override its default GT and block placement.

# ---- PCIe reference clock: 100 MHz from the FPGA Drive FMC's oscillator, FMC GBTCLK0_M2C ----
# MGTREFCLK0 of GTX quad 118 [OPSERO]; an IBUFDS_GTE2 (refclk_ibuf) needs no I/O standard, and its
# site follows from the pins.
set_property PACKAGE_PIN C8 [get_ports pcie_refclk_p]
set_property PACKAGE_PIN C7 [get_ports pcie_refclk_n]
create_clock -period 10.000 -name pcie_refclk [get_ports pcie_refclk_p]

# ---- PCIe lanes: FMC DP0..DP3 = GTX quad 118, lane i on GTXE2_CHANNEL_X0Y(12+i) [OPSERO] ----
# The lanes' pins follow their channels (dedicated GT pins); only the channels are placed.
set_property LOC GTXE2_CHANNEL_X0Y12 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[0].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
set_property LOC GTXE2_CHANNEL_X0Y13 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[1].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
set_property LOC GTXE2_CHANNEL_X0Y14 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[2].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
set_property LOC GTXE2_CHANNEL_X0Y15 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[3].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
# The quad's common block (QPLL) sits with its channels [OPSERO, earlier version].
set_property LOC GTXE2_COMMON_X0Y3 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[0].pipe_quad.gt_common_enabled.gt_common_int.gt_common_i/qpll_wrapper_i/gtx_common.gtxe2_common_i}]

# ---- The integrated block for PCIe: the device's only one [OPSERO] ----
set_property LOC PCIE_X0Y0 [get_cells -hierarchical -filter {NAME =~ pcie/*pcie_7x_i/pcie_block_i}]

# ---- SSD control on the FMC LA pins (VADJ = 2.5 V on the KC705) ----
# PERST: active high at the FMC (the card drives M.2 PERST# low from it), LA00_CC_P [OPSERO].
set_property -dict {PACKAGE_PIN C25 IOSTANDARD LVCMOS25} [get_ports ssd_perst]
# Slot 2's 3.3 V supply and clock off (this design uses slot 1), LA07_P [OPSERO].
set_property -dict {PACKAGE_PIN E28 IOSTANDARD LVCMOS25} [get_ports ssd2_power_disable]

# ---- The board: 200 MHz system clock, reset button, DIP switch, LEDs [UG810] ----
set_property -dict {PACKAGE_PIN AD12 IOSTANDARD LVDS} [get_ports sys_clk_p]
set_property -dict {PACKAGE_PIN AD11 IOSTANDARD LVDS} [get_ports sys_clk_n]
create_clock -period 5.000 -name sys_clk [get_ports sys_clk_p]
# CPU_RESET push button (SW7), active high.
set_property -dict {PACKAGE_PIN AB7 IOSTANDARD LVCMOS15} [get_ports reset_button]
# GPIO_DIP_SW0 (SW11 position 1): 1 lets the exerciser write the SSD.
set_property -dict {PACKAGE_PIN Y29 IOSTANDARD LVCMOS25} [get_ports exerciser_enable]
# GPIO_LED_0..7 (rtl-src/top/status-leds.ts says what each shows; 7 is the board clock's heartbeat).
set_property -dict {PACKAGE_PIN AB8 IOSTANDARD LVCMOS15} [get_ports {leds[0]}]
set_property -dict {PACKAGE_PIN AA8 IOSTANDARD LVCMOS15} [get_ports {leds[1]}]
set_property -dict {PACKAGE_PIN AC9 IOSTANDARD LVCMOS15} [get_ports {leds[2]}]
set_property -dict {PACKAGE_PIN AB9 IOSTANDARD LVCMOS15} [get_ports {leds[3]}]
set_property -dict {PACKAGE_PIN AE26 IOSTANDARD LVCMOS25} [get_ports {leds[4]}]
set_property -dict {PACKAGE_PIN G19 IOSTANDARD LVCMOS25} [get_ports {leds[5]}]
set_property -dict {PACKAGE_PIN E18 IOSTANDARD LVCMOS25} [get_ports {leds[6]}]
set_property -dict {PACKAGE_PIN F16 IOSTANDARD LVCMOS25} [get_ports {leds[7]}]

# ---- Timing: the board clock and the hard block's clocks are unrelated ----
# The crossings are the hard block's reset (asynchronous, PG054) and the user clock's reset and
# switch synchronisers (ASYNC_REG in the RTL); the buttons, switches and LEDs are static.
set_clock_groups -name board_vs_pcie -asynchronous -group [get_clocks -include_generated_clocks sys_clk] -group [get_clocks -of_objects [get_pins pcie/user_clk_out]]
set_false_path -from [get_ports {reset_button exerciser_enable}]
set_false_path -to [get_ports {leds[*] ssd_perst ssd2_power_disable}]

# ---- Configuration: the KC705's bank 0 at 2.5 V [UG810] ----
set_property CFGBVS VCCO [current_design]
set_property CONFIG_VOLTAGE 2.5 [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]
