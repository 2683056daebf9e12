# Builds the VC707 bitstream (board_top_vc707: the controller, the pcie_7x Root Port, the exerciser)
# from generated/ and constraints/vc707/board.xdc. From the repository's root:
#     vivado -mode batch -source constraints/vc707/build.tcl [-tclargs <output folder>]
# The output folder (default build/vc707/) gets the project, board_top_vc707.bit and the
# utilization and timing reports. NVME_HOST_JOBS sets Vivado's parallel jobs (default 4).
# The values below are rtl-src/top/board-vc707.ts's (test/constraints/ checks that they agree).
source [file join [file dirname [file normalize [info script]]] .. common build-board.tcl]

set board vc707
set part xc7vx485tffg1761-2
set pcie_block X1Y1
# The Max_Payload_Size the root port supports: rootPortMpsCode 2 of the core's hardware parameters.
set max_payload_bytes 512
set top board_top_vc707
set out_dir [expr {[llength $argv] > 0 ? [file normalize [lindex $argv 0]] : [file normalize [file join [file dirname [info script]] .. .. build $board]]}]

if {[catch {nvme_host_build_board $board $part $pcie_block $max_payload_bytes $top $out_dir} message]} {
    puts stderr $message
    exit 1
}
exit 0
