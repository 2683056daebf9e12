# The check that the pcie_7x IP Vivado generates has exactly the ports the board top connects
# (rtl-src/top/pcie-7x.ts; its port-exact stub is generated/blackbox/pcie_7x_0.v). The IP's ports
# come from the instantiation template Vivado writes next to it (pcie_7x_0.veo), whose lines read
#     .pci_exp_txp(pci_exp_txp),      // output wire [3 : 0] pci_exp_txp
# Plain Tcl (no Vivado command): test/constraints/ runs it under tclsh.

# name -> {direction width} from the text of a .veo instantiation template.
proc nvme_host_veo_ports {text} {
    set ports [dict create]
    foreach line [split $text "\n"] {
        if {[regexp {^\s*\.(\w+)\s*\(.*//\s*(input|output|inout)\s+wire\s*(?:\[\s*(\d+)\s*:\s*0\s*\])?} $line -> name direction msb]} {
            dict set ports $name [list $direction [expr {$msb eq "" ? 1 : $msb + 1}]]
        }
    }
    return $ports
}

# name -> {direction width} from the text of a stub written by nvme-host (`input  wire [3:0] name`).
proc nvme_host_stub_ports {text} {
    set ports [dict create]
    foreach line [split $text "\n"] {
        if {[regexp {^\s*(input|output|inout)\s+wire\s+(?:\[(\d+):0\]\s+)?(\w+)} $line -> direction msb name]} {
            dict set ports $name [list $direction [expr {$msb eq "" ? 1 : $msb + 1}]]
        }
    }
    return $ports
}

# The differences between the ports the design expects and those the IP has, one sentence each.
proc nvme_host_port_differences {expected actual} {
    set differences {}
    foreach name [lsort [dict keys $expected]] {
        lassign [dict get $expected $name] direction width
        if {![dict exists $actual $name]} {
            lappend differences "the IP has no port $name ($direction, $width bits) that the design connects"
            continue
        }
        lassign [dict get $actual $name] ip_direction ip_width
        if {$ip_direction ne $direction || $ip_width != $width} {
            lappend differences "port $name is $ip_direction $ip_width bits in the IP, $direction $width bits in the design"
        }
    }
    foreach name [lsort [dict keys $actual]] {
        if {![dict exists $expected $name]} {
            lassign [dict get $actual $name] ip_direction ip_width
            lappend differences "the IP has a port $name ($ip_direction, $ip_width bits) the design does not connect"
        }
    }
    return $differences
}

# Reads both files and stops the build with the list of differences, if there are any.
proc nvme_host_check_ip_ports {veo_file stub_file} {
    foreach file [list $veo_file $stub_file] {
        if {![file exists $file]} { error "nvme-host: cannot check the IP's ports: no file $file" }
    }
    set read_file {{path} { set f [open $path r]; set text [read $f]; close $f; return $text }}
    set actual [nvme_host_veo_ports [apply $read_file $veo_file]]
    set expected [nvme_host_stub_ports [apply $read_file $stub_file]]
    if {[dict size $actual] == 0} { error "nvme-host: no ports found in $veo_file" }
    set differences [nvme_host_port_differences $expected $actual]
    if {[llength $differences] > 0} {
        error "nvme-host: the generated pcie_7x_0 does not have the ports rtl-src/top/pcie-7x.ts describes (this Vivado's pcie_7x differs; fix the port table, run `npx nvme-host gen`, and build again):\n  [join $differences "\n  "]"
    }
    return [dict size $actual]
}
