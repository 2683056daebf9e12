# Constraints of board_top_vc707 (generated/board_top_vc707.v, built by rtl-src/top/board-top.ts with
# the table rtl-src/top/board-vc707.ts): the Xilinx VC707 board (XC7VX485T-2FFG1761C) with Opsero's
# FPGA Drive FMC Gen4 on the FMC1 HPC connector (J35), M.2 SSD in slot 1, four lanes.
#
# Where the facts come from (pin names only; nothing here is copied from them):
#   [UG885]   Xilinx VC707 Evaluation Board User Guide, and the VC707 master XDC: system clock, reset
#             button, LEDs, DIP switch. The same pins in alexforencich/verilog-ethernet
#             example/VC707/fpga.xdc and analogdevicesinc/hdl projects/common/vc707/vc707_system_constr.xdc.
#   [OPSERO]  fpgadeveloper/fpga-drive-aximm-pcie, Vivado/src/constraints/vc707_hpc1.xdc (FPGA Drive
#             FMC Gen4, VC707 HPC1, one SSD): PERST (LA00_CC_P), SSD2 power disable (LA07_P), the
#             reference clock (GBTCLK0_M2C), the GT channels (quad 119, Vivado/src/bd/gt_locs.tcl) and
#             the PCIe block PCIE_X1Y1.
#   [PG054]   the pcie_7x product guide: sys_clk from an IBUFDS_GTE2, sys_rst_n asynchronous.
# The hard block's own constraints (its TXOUTCLK clock, the PIPE clock's generated 125/250 MHz clocks
# and their multiplexer, its block RAM sites) come with the IP: Vivado applies the IP's XDC first,
# and the locations below override its default GT and block placement.
# For FMC2 HPC instead [OPSERO vc707_hpc2.xdc]: PERST AD40, SSD2 power disable AC40, reference
# clock K8/K7, GTXE2_CHANNEL_X1Y16..19 (quad 117, common X1Y4), the same block PCIE_X1Y1.

# ---- PCIe reference clock: 100 MHz from the FPGA Drive FMC's oscillator, FMC GBTCLK0_M2C ----
# MGTREFCLK0 of GTX quad 119 [OPSERO]; an IBUFDS_GTE2 (refclk_ibuf) needs no I/O standard, and its
# site follows from the pins.
set_property PACKAGE_PIN A10 [get_ports pcie_refclk_p]
set_property PACKAGE_PIN A9 [get_ports pcie_refclk_n]
create_clock -period 10.000 -name pcie_refclk [get_ports pcie_refclk_p]

# ---- PCIe lanes: FMC DP0..DP3 = GTX quad 119, lane i on GTXE2_CHANNEL_X1Y(24+i) [OPSERO] ----
# The lanes' pins follow their channels (dedicated GT pins); only the channels are placed.
set_property LOC GTXE2_CHANNEL_X1Y24 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[0].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
set_property LOC GTXE2_CHANNEL_X1Y25 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[1].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
set_property LOC GTXE2_CHANNEL_X1Y26 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[2].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
set_property LOC GTXE2_CHANNEL_X1Y27 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[3].gt_wrapper_i/gtx_channel.gtxe2_channel_i}]
# The quad's common block (QPLL) sits with its channels: four channels per quad, X1Y24..27 -> X1Y6.
set_property LOC GTXE2_COMMON_X1Y6 [get_cells -hierarchical -filter {NAME =~ pcie/*pipe_lane[0].pipe_quad.gt_common_enabled.gt_common_int.gt_common_i/qpll_wrapper_i/gtx_common.gtxe2_common_i}]

# ---- The integrated block for PCIe next to the FMC's quads [OPSERO] ----
set_property LOC PCIE_X1Y1 [get_cells -hierarchical -filter {NAME =~ pcie/*pcie_7x_i/pcie_block_i}]

# ---- SSD control on the FMC LA pins (VADJ = 1.8 V on the VC707) ----
# PERST: active high at the FMC (the card drives M.2 PERST# low from it), LA00_CC_P [OPSERO].
set_property -dict {PACKAGE_PIN K39 IOSTANDARD LVCMOS18} [get_ports ssd_perst]
# Slot 2's 3.3 V supply and clock off (this design uses slot 1), LA07_P [OPSERO].
set_property -dict {PACKAGE_PIN G41 IOSTANDARD LVCMOS18} [get_ports ssd2_power_disable]

# ---- The board: 200 MHz system clock, reset button, DIP switch, LEDs [UG885] ----
set_property -dict {PACKAGE_PIN E19 IOSTANDARD LVDS} [get_ports sys_clk_p]
set_property -dict {PACKAGE_PIN E18 IOSTANDARD LVDS} [get_ports sys_clk_n]
create_clock -period 5.000 -name sys_clk [get_ports sys_clk_p]
# CPU_RESET push button (SW8), active high.
set_property -dict {PACKAGE_PIN AV40 IOSTANDARD LVCMOS18} [get_ports reset_button]
# GPIO_DIP_SW0 (SW2 position 1): 1 lets the exerciser write the SSD.
set_property -dict {PACKAGE_PIN AV30 IOSTANDARD LVCMOS18} [get_ports exerciser_enable]
# GPIO_LED_0..7 (rtl-src/top/status-leds.ts says what each shows; 7 is the board clock's heartbeat).
set_property -dict {PACKAGE_PIN AM39 IOSTANDARD LVCMOS18} [get_ports {leds[0]}]
set_property -dict {PACKAGE_PIN AN39 IOSTANDARD LVCMOS18} [get_ports {leds[1]}]
set_property -dict {PACKAGE_PIN AR37 IOSTANDARD LVCMOS18} [get_ports {leds[2]}]
set_property -dict {PACKAGE_PIN AT37 IOSTANDARD LVCMOS18} [get_ports {leds[3]}]
set_property -dict {PACKAGE_PIN AR35 IOSTANDARD LVCMOS18} [get_ports {leds[4]}]
set_property -dict {PACKAGE_PIN AP41 IOSTANDARD LVCMOS18} [get_ports {leds[5]}]
set_property -dict {PACKAGE_PIN AP42 IOSTANDARD LVCMOS18} [get_ports {leds[6]}]
set_property -dict {PACKAGE_PIN AU39 IOSTANDARD LVCMOS18} [get_ports {leds[7]}]

# ---- Timing: the board clock and the hard block's clocks are unrelated ----
# The crossings are the hard block's reset (asynchronous, PG054) and the user clock's reset and
# switch synchronisers (ASYNC_REG in the RTL); the buttons, switches and LEDs are static.
set_clock_groups -name board_vs_pcie -asynchronous -group [get_clocks -include_generated_clocks sys_clk] -group [get_clocks -of_objects [get_pins pcie/user_clk_out]]
set_false_path -from [get_ports {reset_button exerciser_enable}]
set_false_path -to [get_ports {leds[*] ssd_perst ssd2_power_disable}]

# ---- Configuration: the VC707's bank 0 at 1.8 V [UG885] ----
set_property CFGBVS GND [current_design]
set_property CONFIG_VOLTAGE 1.8 [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]
