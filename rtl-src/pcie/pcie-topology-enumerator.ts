// Depth-first enumeration through a PCIe switch (issue 14), as the reference host does it
// (sim/host/pci-topology.ts), through the PCIe access port (pcie-access.ts): Type 0 configuration
// requests to the root port's secondary bus, Type 1 beyond it (pcie_requester decides by bus).
//
// This block walks the bridges; each SSD is enumerated by an instance of the one-SSD enumerator
// (pcie-enumerator.ts, `runtimeTarget`: its bus, BAR0 place and MPS bound from this block), which
// shares the access port (a registered select: the enumerator's port while it runs). So every check
// the one-SSD enumerator makes of an SSD (class, BAR sizing, capability walk, read-backs) holds
// behind a switch too, with one implementation.
//
//  1. The ID of device 0 on the secondary bus (CRS and all ones retried, bounded, as the one-SSD
//     enumerator does), then its header type. Type 0: no switch; the SSD is enumerated there with
//     BAR0 at the window's base, and a failure of it is the enumeration's error, as before.
//  2. Type 1: the switch's upstream port. Command 0; bus numbers primary = secondary bus, its
//     secondary = the next bus, subordinate FFh while below it is walked; the capability list to
//     the PCI Express capability; Device Capabilities MPS into the running minimum.
//  3. Devices 0..31 of its secondary (internal) bus: each that answers with a type-1 header is a
//     downstream port: Command 0, bus numbers (the next bus, FFh), capability walk, MPS, then the
//     port's link: with a slot (PCI Express Capabilities bit 8), Presence Detect State must be set,
//     else the port is empty; with Data Link Layer Link Active reporting (Link Capabilities bit 20),
//     Link Status's DLL Link Active is polled every `linkPollCycles` for `linkTimeoutCycles`, and a
//     link that does not come up is an empty port (not an error). Then the SSD below it (device 0
//     of the port's secondary bus) is enumerated with BAR0 at the next 1 MiB of the window (a
//     bridge window is 1 MiB-granular); NO_DEVICE from it is an empty port, any other failure is
//     that SSD's status (its port's window stays closed) and the walk goes on. Last, the port's
//     real subordinate bus, its memory window (closed: base FFF0h > limit 0), the prefetchable
//     window closed.
//  4. The upstream port's real subordinate bus, its memory window (over every SSD's), its
//     prefetchable window closed.
//  5. MPS = the minimum over the root port, every bridge, every SSD and `maxMpsCode`: an SSD
//     enumerated with a larger bound (one found later was smaller) is enumerated again with it.
//  6. Every bridge's Device Control MPS (read, then written with byte enables 0011), then every
//     bridge's Command = Memory Space + Bus Master (0006h). The SSDs' Command comes on in their own
//     enumeration (MSE|BME|INTx disable); nothing can move before the bridges forward.
//
// Limits: one switch level (a switch below a downstream port is not walked: its upstream port is
// not an NVMe SSD, so that port's status says NOT_NVME); `maxDownstreamPorts` downstream ports are
// remembered for step 6 (one more is TOO_MANY_PORTS); once `maxSsds` SSDs are enumerated, the
// ports after them are numbered and closed but not looked below (counted in `ports_skipped`). No
// SSD enumerated without error, with a switch: NO_SSD, after every bridge is set up.
//
// Every access has the one-SSD enumerator's watchdog; every wait is bounded (CRS window, link
// window). `start` runs everything again, in any state: an access of this block in flight is
// abandoned (its answer taken and ignored); while the SSD enumerator runs, the restart waits for it
// to finish (it is bounded) so the shared port is never switched under an access.
//
// Timing (250 MHz, <= 6 logic levels): as the one-SSD enumerator: requests from registers, the
// response captured, checked into flags, judged into pulses. Every state, access or not, leaves on
// one of four registered pulses (failed, other way, skip, onward: an access's verdict, or a
// non-access state's condition a cycle after it holds), to the state its way names, which is
// registered from the state alone; so the walk state's logic sees the state, start and those
// pulses. An access costs the requester's latency plus 6 cycles, a non-access state 2.
import { C, Module, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { runStatus } from "../lib/run-status.ts";
import { CompletionStatus } from "../tlp/tlp-interfaces.ts";
import { AccessKind, pcieAccessRequest, pcieAccessResponse } from "./pcie-access.ts";
import { ENUMERATION_ERRORS, MAX_CAPABILITY_HOPS, type PcieEnumeratorParams, pcieEnumerator } from "./pcie-enumerator.ts";

export interface PcieTopologyEnumeratorParams extends Omit<PcieEnumeratorParams, "runtimeTarget"> {
  /** SSDs whose results are kept (1..4): the first found, depth-first. */
  maxSsds: number;
  /** Downstream ports remembered for MPS and Command (1..8). */
  maxDownstreamPorts: number;
  /** How long a downstream port's link may take to come up (DLL Link Active), and the gap between two polls, cycles. */
  linkTimeoutCycles: number;
  linkPollCycles: number;
}

/** The walk's steps that make an access, in FSM order after IDLE: `error_step` is the position plus one. */
export const TOPOLOGY_STEPS = [
  "ROOT_ID",
  "ROOT_HEADER",
  "COMMAND_OFF",
  "BUS_NUMBERS",
  "CAP_POINTER",
  "CAP_HEADER",
  "DEVICE_CAPS",
  "PORT_ID",
  "PORT_HEADER",
  "PORT_CAPS",
  "SLOT_STATUS",
  "LINK_CAPS",
  "LINK_STATUS",
  "BUS_FINAL",
  "WINDOW",
  "PREFETCH_WINDOW",
  "PREFETCH_BASE_UPPER",
  "PREFETCH_LIMIT_UPPER",
  "DEVICE_CONTROL_READ",
  "DEVICE_CONTROL_WRITE",
  "COMMAND_ON",
] as const;
export type TopologyStep = (typeof TOPOLOGY_STEPS)[number];
export const topologyStepNumber = (step: TopologyStep) => TOPOLOGY_STEPS.indexOf(step) + 1;

/** `error_code` values from 1: the one-SSD enumerator's, then the walk's own. */
export const TOPOLOGY_ERRORS = [...ENUMERATION_ERRORS, "TOO_MANY_PORTS", "NO_SSD"] as const;
export type TopologyError = (typeof TOPOLOGY_ERRORS)[number];
export const topologyErrorCode = (error: TopologyError) => TOPOLOGY_ERRORS.indexOf(error) + 1;

/** A bridge's memory window granule. */
const MIB_LOG2 = 20;
const HEADER_TYPE_BRIDGE = 0x01;
const CAP_ID_PCI_EXPRESS = 0x10;
/** Bits of configuration DWs, as bits of the DW read. */
const BIT = {
  /** PCI Express Capabilities (upper half of the capability's DW 0) bit 8: Slot Implemented. */
  SLOT_IMPLEMENTED: 16 + 8,
  /** Slot Status (upper half of DW 6) bit 6: Presence Detect State. */
  PRESENCE_DETECT: 16 + 6,
  /** Link Capabilities bit 20: Data Link Layer Link Active Reporting Capable. */
  DLL_ACTIVE_REPORTING: 20,
  /** Link Status (upper half of DW 4) bit 13: Data Link Layer Link Active. */
  DLL_LINK_ACTIVE: 16 + 13,
} as const;
const DW = { ID: 0x00 >> 2, COMMAND: 0x04 >> 2, HEADER: 0x0c >> 2, BUS_NUMBERS: 0x18 >> 2, MEMORY_WINDOW: 0x20 >> 2, PREFETCH_WINDOW: 0x24 >> 2, PREFETCH_BASE_UPPER: 0x28 >> 2, PREFETCH_LIMIT_UPPER: 0x2c >> 2, CAP_POINTER: 0x34 >> 2 } as const;
const PCIE_DW = { CAPS: 0, DEVICE_CAPS: 1, DEVICE_CONTROL: 2, LINK_CAPS: 3, LINK_STATUS: 4, SLOT_STATUS: 6 } as const;
const DW_INDEX_BITS = 10;
/** Command of a bridge: Memory Space + Bus Master. */
export const BRIDGE_COMMAND = 0x0006;
/** A closed window: base FFF0h above limit 0 (memory and prefetchable). */
export const WINDOW_CLOSED = 0x0000_fff0;
const DEVCTL_MPS_SHIFT = 5;

function checkParams(p: PcieTopologyEnumeratorParams): void {
  const fail = (key: string, value: number, why: string) => {
    throw new RangeError(`pcie topology enumerator: ${key} ${value} ${why}`);
  };
  if (!Number.isInteger(p.maxSsds) || p.maxSsds < 1 || p.maxSsds > 4) fail("maxSsds", p.maxSsds, "is not 1..4");
  if (!Number.isInteger(p.maxDownstreamPorts) || p.maxDownstreamPorts < 1 || p.maxDownstreamPorts > 8) fail("maxDownstreamPorts", p.maxDownstreamPorts, "is not 1..8");
  if (!Number.isInteger(p.secondaryBus) || p.secondaryBus < 1 || p.secondaryBus + 2 + p.maxDownstreamPorts > 255) fail("secondaryBus", p.secondaryBus, "leaves no bus numbers for the switch");
  if (p.barWindowBytes < p.maxSsds << MIB_LOG2) fail("barWindowBytes", p.barWindowBytes, `is less than maxSsds (${p.maxSsds}) MiB: each SSD's port window is 1 MiB`);
  if (p.barWindowBase % (1 << MIB_LOG2) !== 0) fail("barWindowBase", p.barWindowBase, "is not 1 MiB aligned");
  for (const key of ["linkTimeoutCycles", "linkPollCycles"] as const) {
    if (!Number.isSafeInteger(p[key]) || p[key] < 1 || p[key] > 2 ** 32) fail(key, p[key], "is not an integer in 1..2^32");
  }
}

/** The one-SSD enumerator this block runs per SSD: BAR0 in one 1 MiB window slot. */
export function ssdEnumeratorParams(p: PcieTopologyEnumeratorParams): PcieEnumeratorParams {
  const { maxSsds: _s, maxDownstreamPorts: _d, linkTimeoutCycles: _l, linkPollCycles: _q, ...rest } = p;
  return { ...rest, barWindowBytes: 1 << MIB_LOG2, runtimeTarget: true };
}

/**
 * Walks the root port's secondary bus and, through a switch, its downstream ports; enumerates each
 * SSD found; `done` with the SSDs (bus/device/function, port, BAR0, status) and the MPS chosen, or
 * `error` with the step and the cause.
 */
export function pcieTopologyEnumerator(p: PcieTopologyEnumeratorParams) {
  checkParams(p);
  const inner = ssdEnumeratorParams(p);
  const hex = (n: number) => n.toString(16);
  const m = new Module(
    `pcie_topology_enumerator_s${p.maxSsds}_p${p.maxDownstreamPorts}_b${p.secondaryBus}_w${hex(p.barWindowBase)}_${hex(p.barWindowBase + p.barWindowBytes - 1)}` +
      `_mps${p.rootPortMpsCode}${p.maxMpsCode}_rr${p.mrrsCode}_c${p.crsTimeoutCycles}_${p.crsRetryDelayCycles}_t${p.accessTimeoutCycles}_l${p.linkTimeoutCycles}_${p.linkPollCycles}`,
  );
  m.parameters({ ...p, barWindowBase: `0x${hex(p.barWindowBase)}`, barWindowBytes: `0x${hex(p.barWindowBytes)}` });
  const S = p.maxSsds;
  const P = p.maxDownstreamPorts;
  const internalBus = p.secondaryBus + 1;
  const mpsLimit = Math.min(p.rootPortMpsCode, p.maxMpsCode);
  const windowBaseMib = p.barWindowBase >>> MIB_LOG2;

  const start = m.input(1);
  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  /** TOPOLOGY_ERRORS position + 1; 0 while no error. */
  const error_code = m.output(4);
  /** TOPOLOGY_STEPS position + 1 of the walk's step that failed, or (error_in_ssd) the one-SSD enumerator's step. */
  const error_step = m.output(5);
  const error_in_ssd = m.output(1);
  const error_status = m.output(3);
  /** A switch was found (an upstream port on the secondary bus). */
  const switch_found = m.output(1);
  /** Downstream ports found; SSDs found (enumerated, healthy or not); ports not looked below for want of a slot. */
  const ports_found = m.output(4);
  const ssd_count = m.output(3);
  const ports_skipped = m.output(4);
  /** MPS in every Device Control of the tree (code: 128 B << code). */
  const mps_code = m.output(3);
  /** Per SSD i (slot i < ssd_count), in bits [w*i +: w]: {bus, device, function}, downstream port's device number, BAR0, status (0: ready, else its enumerator's error code). */
  const ssd_bdf = m.output(16 * S);
  const ssd_port = m.output(5 * S);
  const ssd_bar0 = m.output(32 * S);
  const ssd_status = m.output(4 * S);
  /**
   * The primary SSD: the first enumerated without error (the one the core brings up), with the
   * one-SSD enumerator's names: its IDs, BAR0 and its size, the MRRS written.
   */
  const vendor_id = m.output(16);
  const device_id = m.output(16);
  const bar0_address = m.output(32);
  const bar0_size_log2 = m.output(5);
  const mrrs_code = m.output(3);
  const primary_found = m.signal(1);
  const request = m.port(pcieAccessRequest, "master", { prefix: "request" });
  const response = m.port(pcieAccessResponse, "slave", { prefix: "response" });
  const rq = request.signals;
  const rs = response.signals;

  const ssdEnumerator = m.instance(pcieEnumerator(inner), { name: "ssd_enumerator" });
  const en = ssdEnumerator.ports;
  const [targetBus, targetBarBase, targetMpsLimit] = [en.target_bus, en.target_bar_base, en.target_mps_limit];
  if (!targetBus || !targetBarBase || !targetMpsLimit) throw new Error("pcie topology enumerator: the SSD enumerator has no target inputs");

  const walk = m.fsm(["IDLE", ...TOPOLOGY_STEPS, "CRS_WAIT", "LINK_WAIT", "SSD_START", "SSD_RUN", "PORT_NEXT", "FIX_LOAD", "FIX_DECIDE", "BRIDGE_LOAD", "DRAIN", "DONE", "FAULT"]);
  const phase = m.fsm(["IDLE", "OFFER", "AWAIT", "CHECK", "JUDGE", "DECIDE"]);
  const accessStep = TOPOLOGY_STEPS.map((n) => walk.is(n)).reduce((a, b) => a.or(b));

  // ---- the node being configured, and what the walk has learnt ----
  /** The bridge being configured: a downstream port (else the upstream port), its bus/device, its secondary bus, its PCI Express capability. */
  const node_is_port = m.signal(1);
  const node_bus = m.signal(8);
  const node_dev = m.signal(5);
  const node_secondary = m.signal(8);
  const cap_dw = m.signal(6);
  const hops = m.signal(bitsFor(MAX_CAPABILITY_HOPS));
  /** Next free bus number; the device probed on the internal bus; its window's first MiB; whether an SSD got a window below it. */
  const bus_next = m.signal(8);
  const port_dev = m.signal(5);
  const port_base_mib = m.signal(12);
  const port_window_open = m.signal(1);
  /** The window cursor in MiB, and the last MiB used (cursor - 1). */
  const cursor_mib = m.signal(12);
  const cursor_last_mib = m.signal(12);
  const mps_min = m.signal(3);
  /** Device Control read in the final pass. */
  const device_control = m.signal(16);
  /** Bridges remembered: 0 = the upstream port, 1.. the downstream ports (device, capability DW). */
  const bridge_dev = Array.from({ length: P + 1 }, (_, i) => m.signal(5, { name: `bridge_dev_${i}` }));
  const bridge_cap = Array.from({ length: P + 1 }, (_, i) => m.signal(6, { name: `bridge_cap_${i}` }));
  const bridge_count = m.signal(4);
  const bridge_index = m.signal(4);
  /** The final pass: Device Control (0) or Command (1). */
  const bridge_command_pass = m.signal(1);
  /** SSD slots. */
  const slot_bus = Array.from({ length: S }, (_, i) => m.signal(8, { name: `slot_bus_${i}` }));
  const slot_port = Array.from({ length: S }, (_, i) => m.signal(5, { name: `slot_port_${i}` }));
  const slot_base_mib = Array.from({ length: S }, (_, i) => m.signal(12, { name: `slot_base_mib_${i}` }));
  const slot_status = Array.from({ length: S }, (_, i) => m.signal(4, { name: `slot_status_${i}` }));
  const slot_mps = Array.from({ length: S }, (_, i) => m.signal(3, { name: `slot_mps_${i}` }));
  const fix_index = m.signal(3);
  /** The SSD enumerator's run: a first enumeration (0) or the MPS fix-up (1); its target. */
  const fixing = m.signal(1);
  const target_bus = m.signal(8);
  const target_base_mib = m.signal(12);
  const target_mps = m.signal(3);
  const fix_needed = m.signal(1);
  const slots_full = m.signal(1);
  const ports_full = m.signal(1);

  // ---- the access port: this block's requests, or the SSD enumerator's while it runs ----
  const use_ssd_enumerator = m.signal(1);
  const own_valid = m.signal(1);
  const own_kind = m.signal(2);
  const own_address = m.signal(32);
  const own_data = m.signal(32);
  const own_byte_en = m.signal(4);
  const own_response_ready = m.signal(1);
  m.comb(rq.valid, mux(use_ssd_enumerator, en.request.signals.valid, own_valid));
  m.comb(rq.kind, mux(use_ssd_enumerator, en.request.signals.kind, own_kind));
  m.comb(rq.address, mux(use_ssd_enumerator, en.request.signals.address, own_address));
  m.comb(rq.data, mux(use_ssd_enumerator, en.request.signals.data, own_data));
  m.comb(rq.byte_en, mux(use_ssd_enumerator, en.request.signals.byte_en, own_byte_en));
  m.comb(en.request.signals.ready, use_ssd_enumerator.and(rq.ready));
  m.comb(rs.ready, mux(use_ssd_enumerator, en.response.signals.ready, own_response_ready));
  m.comb(en.response.signals.valid, use_ssd_enumerator.and(rs.valid));
  m.comb(en.response.signals.data, rs.data);
  m.comb(en.response.signals.status, rs.status);
  m.comb(en.response.signals.timed_out, rs.timed_out);
  m.comb(en.response.signals.poisoned, rs.poisoned);
  const ssd_start = m.signal(1);
  m.comb(en.start, ssd_start);
  m.comb(targetBus, target_bus);
  m.comb(targetBarBase, cat(target_base_mib, C(0, MIB_LOG2)));
  m.comb(targetMpsLimit, target_mps);
  /** The SSD enumerator has finished and has nothing on the port. */
  const ssd_idle = m.signal(1);
  m.sync(ssd_idle, en.busy.not().and(en.request.signals.valid.not()).and(en.response.signals.ready.not()));

  // ---- the current step's access ----
  const kind = m.signal(2);
  const bus = m.signal(8);
  const dev = m.signal(5);
  const dw_index = m.signal(DW_INDEX_BITS);
  const write_data = m.signal(32);
  const byte_en = m.signal(4);
  const cfgRead = C(AccessKind.CFG_READ, 2);
  const cfgWrite = C(AccessKind.CFG_WRITE, 2);
  const capPlus = (offset: number) => cap_dw.zext(DW_INDEX_BITS).addWrap(offset);
  // Node steps go to the node; the probes to their device.
  const access = (kindValue: Value, dw: Value | number, data: Value | number, be: number) => {
    m.comb(kind, kindValue);
    m.comb(bus, node_bus);
    m.comb(dev, node_dev);
    m.comb(dw_index, typeof dw === "number" ? C(dw, DW_INDEX_BITS) : dw.zext(DW_INDEX_BITS));
    m.comb(write_data, typeof data === "number" ? C(data >>> 0, 32) : data.zext(32));
    m.comb(byte_en, be);
  };
  const busNumbers = (subordinate: Value) => cat(C(0, 8), subordinate, node_secondary, node_bus);
  const windowOpen = mux(node_is_port, port_window_open, cursor_mib.ne(windowBaseMib));
  const windowBase = mux(node_is_port, port_base_mib, C(windowBaseMib, 12));
  const windowRegister = mux(windowOpen, cat(cursor_last_mib, C(0, 4), windowBase, C(0, 4)), C(WINDOW_CLOSED, 32));
  const mpsField = cat(C(0, 8), mps_min, C(0, DEVCTL_MPS_SHIFT));
  const devctlKept = constant("DEVCTL_MPS_KEPT", ~(0b111 << DEVCTL_MPS_SHIFT) & 0xffff, 16);
  const accesses: Record<TopologyStep, () => void> = {
    ROOT_ID: () => access(cfgRead, DW.ID, 0, 0b1111),
    ROOT_HEADER: () => access(cfgRead, DW.HEADER, 0, 0b1111),
    COMMAND_OFF: () => access(cfgWrite, DW.COMMAND, 0, 0b0011),
    BUS_NUMBERS: () => access(cfgWrite, DW.BUS_NUMBERS, busNumbers(C(0xff, 8)), 0b1111),
    CAP_POINTER: () => access(cfgRead, DW.CAP_POINTER, 0, 0b1111),
    CAP_HEADER: () => access(cfgRead, cap_dw, 0, 0b1111),
    DEVICE_CAPS: () => access(cfgRead, capPlus(PCIE_DW.DEVICE_CAPS), 0, 0b1111),
    PORT_ID: () => access(cfgRead, DW.ID, 0, 0b1111),
    PORT_HEADER: () => access(cfgRead, DW.HEADER, 0, 0b1111),
    PORT_CAPS: () => access(cfgRead, capPlus(PCIE_DW.CAPS), 0, 0b1111),
    SLOT_STATUS: () => access(cfgRead, capPlus(PCIE_DW.SLOT_STATUS), 0, 0b1111),
    LINK_CAPS: () => access(cfgRead, capPlus(PCIE_DW.LINK_CAPS), 0, 0b1111),
    LINK_STATUS: () => access(cfgRead, capPlus(PCIE_DW.LINK_STATUS), 0, 0b1111),
    BUS_FINAL: () => access(cfgWrite, DW.BUS_NUMBERS, busNumbers(mux(node_is_port, node_secondary, bus_next.subWrap(1))), 0b1111),
    WINDOW: () => access(cfgWrite, DW.MEMORY_WINDOW, windowRegister, 0b1111),
    PREFETCH_WINDOW: () => access(cfgWrite, DW.PREFETCH_WINDOW, WINDOW_CLOSED, 0b1111),
    PREFETCH_BASE_UPPER: () => access(cfgWrite, DW.PREFETCH_BASE_UPPER, 0, 0b1111),
    PREFETCH_LIMIT_UPPER: () => access(cfgWrite, DW.PREFETCH_LIMIT_UPPER, 0, 0b1111),
    DEVICE_CONTROL_READ: () => access(cfgRead, capPlus(PCIE_DW.DEVICE_CONTROL), 0, 0b1111),
    DEVICE_CONTROL_WRITE: () => access(cfgWrite, capPlus(PCIE_DW.DEVICE_CONTROL), device_control.and(devctlKept).or(mpsField), 0b0011),
    COMMAND_ON: () => access(cfgWrite, DW.COMMAND, BRIDGE_COMMAND, 0b0011),
  };
  m.Switch(walk.state, (s) => {
    for (const name of TOPOLOGY_STEPS) s.Case(walk.stateCode(name).bits_, accesses[name]);
  });

  // ---- one access: offer, await, check, judge, decide ----
  const abandoned = m.signal(1);
  const issue = phase.is("IDLE").and(accessStep).and(start.not());
  const taken = phase.is("OFFER").and(own_valid).and(rq.ready).and(use_ssd_enumerator.not());
  const answered = phase.is("AWAIT").and(rs.valid).and(own_response_ready);
  const in_flight = phase.is("OFFER").or(phase.is("AWAIT"));
  const judging = phase.is("JUDGE").and(abandoned.not()).and(start.not());
  m.If(issue, () => {
    m.sync(own_valid, 1);
    m.sync(own_kind, kind);
    m.sync(own_address, cat(bus, dev, C(0, 3), C(0, 4), dw_index, C(0, 2)));
    m.sync(own_data, write_data);
    m.sync(own_byte_en, byte_en);
  }).Elif(taken, () => m.sync(own_valid, 0));
  m.If(taken, () => m.sync(own_response_ready, 1)).Elif(answered, () => m.sync(own_response_ready, 0));
  // The response's bits the walk reads (every field it looks at is in [22:0], bit 24 or bit 29).
  const rsp_low = m.signal(23, { resetless: true });
  const rsp_bit24 = m.signal(1, { resetless: true });
  const rsp_bit29 = m.signal(1, { resetless: true });
  const rsp = {
    bits: (hi: number, lo: number) => rsp_low.bits(hi, lo),
    bit: (i: number) => (i === 24 ? rsp_bit24 : i === 29 ? rsp_bit29 : rsp_low.bit(i)),
  };
  const rsp_status = m.signal(3, { resetless: true });
  const rsp_timed_out = m.signal(1, { resetless: true });
  const rsp_poisoned = m.signal(1, { resetless: true });
  m.If(answered, () => {
    m.sync(rsp_low, rs.data.bits(22, 0));
    m.sync(rsp_bit24, rs.data.bit(24));
    m.sync(rsp_bit29, rs.data.bit(29));
    m.sync(rsp_status, rs.status);
    m.sync(rsp_timed_out, rs.timed_out);
    m.sync(rsp_poisoned, rs.poisoned);
  });

  // CHECK: flags from the captured response.
  const status_sc = m.signal(1);
  const status_crs = m.signal(1);
  const vendor_absent = m.signal(1);
  const header_bridge = m.signal(1);
  const first_cap_valid = m.signal(1);
  const cap_is_pcie = m.signal(1);
  const next_cap_valid = m.signal(1);
  const flag_slot = m.signal(1);
  const flag_presence = m.signal(1);
  const flag_dll_reporting = m.signal(1);
  const flag_dll_active = m.signal(1);
  const mps_lower = m.signal(1);
  m.If(phase.is("CHECK"), () => {
    const vendor = rsp.bits(15, 0);
    m.sync(status_sc, rsp_status.eq(CompletionStatus.SC));
    m.sync(status_crs, rsp_status.eq(CompletionStatus.CRS));
    m.sync(vendor_absent, vendor.all().or(vendor.any().not()));
    m.sync(header_bridge, rsp.bits(22, 16).eq(HEADER_TYPE_BRIDGE));
    m.sync(first_cap_valid, rsp.bits(7, 6).any());
    m.sync(cap_is_pcie, rsp.bits(7, 0).eq(CAP_ID_PCI_EXPRESS));
    m.sync(next_cap_valid, rsp.bits(15, 14).any());
    m.sync(flag_slot, rsp.bit(BIT.SLOT_IMPLEMENTED));
    m.sync(flag_presence, rsp.bit(BIT.PRESENCE_DETECT));
    m.sync(flag_dll_reporting, rsp.bit(BIT.DLL_ACTIVE_REPORTING));
    m.sync(flag_dll_active, rsp.bit(BIT.DLL_LINK_ACTIVE));
    m.sync(mps_lower, rsp.bits(2, 0).lt(mps_min));
  });

  // JUDGE: verdict pulses. Per step class, flags decoded from the walk state into registers.
  const window_over = m.signal(1);
  const stepFlag = (name: string, steps: TopologyStep[]) => {
    const flag = m.signal(1, { name });
    m.sync(flag, steps.map((n) => walk.is(n)).reduce((a, b) => a.or(b)));
    return flag;
  };
  const is_probe = stepFlag("verdict_probe", ["ROOT_ID", "PORT_ID"]);
  const is_root_probe = stepFlag("verdict_root_probe", ["ROOT_ID"]);
  const is_header = stepFlag("verdict_header", ["ROOT_HEADER", "PORT_HEADER"]);
  const is_port_header = stepFlag("verdict_port_header", ["PORT_HEADER"]);
  const is_cap_pointer = stepFlag("verdict_cap_pointer", ["CAP_POINTER"]);
  const is_cap_header = stepFlag("verdict_cap_header", ["CAP_HEADER"]);
  const is_port_caps = stepFlag("verdict_port_caps", ["PORT_CAPS"]);
  const is_slot_status = stepFlag("verdict_slot_status", ["SLOT_STATUS"]);
  const is_link_caps = stepFlag("verdict_link_caps", ["LINK_CAPS"]);
  const is_link_status = stepFlag("verdict_link_status", ["LINK_STATUS"]);
  const is_device_caps = stepFlag("verdict_device_caps", ["DEVICE_CAPS"]);
  const is_bridge_loop = stepFlag("verdict_bridge_loop", ["DEVICE_CONTROL_WRITE", "COMMAND_ON"]);
  const is_last_close = stepFlag("verdict_last_close", ["PREFETCH_LIMIT_UPPER"]);
  const is_command_on = stepFlag("verdict_command_on", ["COMMAND_ON"]);
  const last_bridge = m.signal(1);
  m.sync(last_bridge, bridge_index.addWrap(1).eq(bridge_count));

  // Below the root port all ones is "not yet" as CRS is (the one-SSD enumerator's rule); on the
  // internal bus it is no device (the reference's rule).
  const notYet = status_crs.or(status_sc.and(vendor_absent).and(is_root_probe));
  const absent = status_sc.not().and(status_crs.not()).or(status_sc.and(vendor_absent).and(window_over.or(is_root_probe.not())));
  // A probe: CRS (or all ones) retried until the window closes; UR/CA (or all ones at the end) is nothing there.
  const accessFailed = rsp_timed_out.or(rsp_poisoned).or(status_sc.not().and(is_probe.not()));
  const stepFailed = is_root_probe.and(absent.or(status_crs.and(window_over)))
    .or(is_probe.and(is_root_probe.not()).and(status_crs).and(window_over))
    .or(is_port_header.and(header_bridge).and(ports_full))
    // Every bridge is set up, and no SSD was enumerated without error: nothing to bring up.
    .or(is_command_on.and(last_bridge).and(primary_found.not()))
    .or(is_cap_pointer.and(first_cap_valid.not()))
    .or(is_cap_header.and(cap_is_pcie.not()).and(next_cap_valid.not().or(hops.eq(MAX_CAPABILITY_HOPS - 1))));
  // Other way: retry (probe), a bridge below the root (ROOT_HEADER), the next capability, no slot
  // (PORT_CAPS), no DLL reporting (LINK_CAPS), link not up yet, the upstream port's MPS (DEVICE_CAPS), another bridge.
  const otherWay = is_probe.and(notYet).and(window_over.not())
    .or(is_header.and(is_port_header.not()).and(header_bridge))
    .or(is_cap_header.and(cap_is_pcie.not()))
    .or(is_port_caps.and(flag_slot.not()).and(slots_full.not()))
    .or(is_link_caps.and(flag_dll_reporting.not()))
    .or(is_link_status.and(flag_dll_active.not()).and(window_over.not()))
    .or(is_device_caps.and(node_is_port.not()))
    .or(is_bridge_loop.and(last_bridge.not()))
    .or(is_last_close.and(node_is_port.not()));
  // Skip: nothing at this device (PORT_ID), not a bridge (PORT_HEADER), an empty port (no SSD slot
  // left, no presence, no link).
  const skipWay = is_probe.and(is_root_probe.not()).and(absent)
    .or(is_port_header.and(header_bridge.not()))
    .or(is_port_caps.and(slots_full))
    .or(is_slot_status.and(flag_presence.not()))
    .or(is_link_status.and(flag_dll_active.not()).and(window_over));
  const errorOf = (e: TopologyError) => constant(`ERROR_${e}`, topologyErrorCode(e), 4);
  const stepError = m.signal(4);
  m.Switch(walk.state, (s) => {
    const errorFor = (names: TopologyStep[], e: TopologyError | Value) =>
      s.Case(names.map((n) => walk.stateCode(n).bits_), () => m.comb(stepError, typeof e === "string" ? errorOf(e) : e));
    errorFor(["ROOT_ID", "PORT_ID"], mux(status_crs, errorOf("CRS_TIMEOUT"), errorOf("NO_DEVICE")));
    errorFor(["PORT_HEADER"], "TOO_MANY_PORTS");
    errorFor(["COMMAND_ON"], "NO_SSD");
    errorFor(["CAP_POINTER", "CAP_HEADER"], "NO_PCIE_CAPABILITY");
  });
  const failed = accessFailed.or(stepFailed);
  const verdict_other = m.signal(1);
  const verdict_skip = m.signal(1);
  const verdict_onward = m.signal(1);
  m.sync(verdict_other, judging.and(failed.not()).and(otherWay));
  m.sync(verdict_skip, judging.and(failed.not()).and(otherWay.not()).and(skipWay));
  m.sync(verdict_onward, judging.and(failed.not()).and(otherWay.not()).and(skipWay.not()));
  const verdict_error = m.signal(4);
  const accessError = mux(rsp_timed_out, errorOf("COMPLETION_TIMEOUT"), mux(rsp_poisoned, errorOf("POISONED"), errorOf("COMPLETION_STATUS")));
  m.If(judging, () => m.sync(verdict_error, mux(accessFailed, accessError, stepError)));

  // ---- timers: the watchdog or a pause; the CRS or link window ----
  const passes = verdict_other.or(verdict_skip).or(verdict_onward);
  const crsPause = verdict_other.and(walk.is("ROOT_ID").or(walk.is("PORT_ID")));
  const linkPause = verdict_other.and(walk.is("LINK_STATUS"));
  const probeBegins = start.or(walk.is("PORT_NEXT")).or(walk.is("DRAIN")).or(verdict_other.and(walk.is("DEVICE_CAPS")));
  const linkBegins = verdict_onward.and(walk.is("LINK_CAPS"));
  const accessTimer = countdownTimer(m, "access_timer", {
    maxCycles: Math.max(p.accessTimeoutCycles, p.crsRetryDelayCycles, p.linkPollCycles),
    loads: [
      { when: issue, cycles: p.accessTimeoutCycles },
      { when: crsPause, cycles: p.crsRetryDelayCycles },
      { when: linkPause, cycles: p.linkPollCycles },
    ],
  });
  const windowTimer = countdownTimer(m, "window_timer", {
    maxCycles: Math.max(p.crsTimeoutCycles, p.linkTimeoutCycles),
    loads: [
      { when: probeBegins, cycles: p.crsTimeoutCycles },
      { when: linkBegins, cycles: p.linkTimeoutCycles },
    ],
  });
  const access_timer_over = m.signal(1);
  m.If(issue.or(crsPause).or(linkPause), () => m.sync(access_timer_over, 0)).Else(() => m.sync(access_timer_over, accessTimer.expired));
  m.If(probeBegins.or(linkBegins), () => m.sync(window_over, 0)).Else(() => m.sync(window_over, windowTimer.expired));
  const watchdog_fired = m.signal(1);
  const not_restarting = start.not();
  const watchdogFires = in_flight.and(access_timer_over).and(abandoned.not()).and(not_restarting).and(watchdog_fired.not());
  m.sync(watchdog_fired, watchdogFires);

  phase.body({
    IDLE: () => m.If(issue, () => phase.next("OFFER")),
    OFFER: () => m.If(taken, () => phase.next("AWAIT")),
    AWAIT: () => m.If(answered, () => m.If(abandoned, () => phase.next("IDLE")).Else(() => phase.next("CHECK"))),
    CHECK: () => phase.next("JUDGE"),
    JUDGE: () => phase.next("DECIDE"),
    DECIDE: () => phase.next("IDLE"),
  });
  m.If(phase.is("IDLE").or(phase.is("DECIDE")), () => m.sync(abandoned, 0))
    .Elif(start.or(watchdog_fired), () => m.sync(abandoned, 1))
    .Elif(answered.and(abandoned), () => m.sync(abandoned, 0));

  // ---- the SSD enumerator's run ends: registered pulses from its outputs ----
  // The run's end, and where the walk goes then, as separate pulses (the walk state sees one each).
  const ssd_finished = m.signal(1);
  const ssdEnds = walk.is("SSD_RUN").and(ssd_start.not()).and(ssd_idle).and(en.done.or(en.error)).and(ssd_finished.not()).and(not_restarting);
  m.sync(ssd_finished, ssdEnds);
  /** In the single-SSD case (no switch) the SSD's failure is the enumeration's. */
  const ssdFaults = ssdEnds.and(en.done.not()).and(switch_found.not());
  const ssd_fault = m.signal(1);
  m.sync(ssd_fault, ssdFaults);
  const ssd_ok = m.signal(1);
  const ssd_absent = m.signal(1);
  m.sync(ssd_ok, en.done);
  m.sync(ssd_absent, en.error.and(en.error_code.eq(ENUMERATION_ERRORS.indexOf("NO_DEVICE") + 1)));

  // ---- the walk's ways: one-cycle pulses from registers, as the verdicts are, for every state ----
  // An access step's verdict; a non-access state's condition (a pause over, a loop's end, the SSD
  // enumerator's run over). The walk state then sees four pulses, never the conditions. The other,
  // skip and onward ways are each the OR of two registers, the verdict's (set at JUDGE from the
  // same terms in the same cycle) and the non-access states' own: one register holding both took
  // the verdict's whole cone besides the states' conditions, 7 logic levels.
  const way_failed = m.signal(1);
  const state_way_other = m.signal(1);
  const state_way_skip = m.signal(1);
  const state_way_onward = m.signal(1);
  const way_other = verdict_other.or(state_way_other);
  const way_skip = verdict_skip.or(state_way_skip);
  const way_onward = verdict_onward.or(state_way_onward);
  const wayAny = way_failed.or(way_other).or(way_skip).or(way_onward);
  const fix_done = m.signal(1);
  m.sync(fix_done, fix_index.eq(ssd_count));
  const drain_over = m.signal(1);
  m.sync(drain_over, ssd_idle.and(ssd_start.not()));
  const settled = wayAny.not().and(not_restarting);
  const at = (name: Parameters<typeof walk.is>[0]) => walk.is(name);
  const paused = access_timer_over.and(settled);
  const lastDevice = port_dev.all();
  m.sync(way_failed, judging.and(failed).or(watchdogFires).or(ssdFaults));
  m.sync(
    state_way_other,
    ssdEnds.and(fixing)
      .or(settled.and(at("CRS_WAIT").and(access_timer_over).and(node_is_port.not()).or(at("PORT_NEXT").and(lastDevice)).or(at("FIX_DECIDE").and(fix_done)).or(at("BRIDGE_LOAD").and(bridge_command_pass)))),
  );
  m.sync(
    state_way_skip,
    ssdEnds.and(fixing.not()).and(switch_found)
      .or(settled.and(at("FIX_DECIDE")).and(fix_done.not()).and(fix_needed)),
  );
  m.sync(
    state_way_onward,
    ssdEnds.and(fixing.not()).and(switch_found.not()).and(en.done)
      .or(paused.and(at("CRS_WAIT").and(node_is_port).or(at("LINK_WAIT"))))
      .or(settled.and(at("SSD_START").or(at("PORT_NEXT").and(lastDevice.not())).or(at("FIX_LOAD")).or(at("FIX_DECIDE").and(fix_done.not()).and(fix_needed.not())).or(at("BRIDGE_LOAD").and(bridge_command_pass.not())).or(at("DRAIN").and(drain_over)))),
  );
  const failure = way_failed;

  // ---- the walk ----
  type State = Parameters<typeof walk.next>[0];
  const restart = () => m.If(use_ssd_enumerator, () => walk.next("DRAIN")).Else(() => walk.next("ROOT_ID"));
  const following: Record<TopologyStep, State> = {
    ROOT_ID: "ROOT_HEADER",
    ROOT_HEADER: "SSD_START",
    COMMAND_OFF: "BUS_NUMBERS",
    BUS_NUMBERS: "CAP_POINTER",
    CAP_POINTER: "CAP_HEADER",
    CAP_HEADER: "DEVICE_CAPS",
    DEVICE_CAPS: "PORT_CAPS",
    PORT_ID: "PORT_HEADER",
    PORT_HEADER: "COMMAND_OFF",
    PORT_CAPS: "SLOT_STATUS",
    SLOT_STATUS: "LINK_CAPS",
    LINK_CAPS: "LINK_STATUS",
    LINK_STATUS: "SSD_START",
    BUS_FINAL: "WINDOW",
    WINDOW: "PREFETCH_WINDOW",
    PREFETCH_WINDOW: "PREFETCH_BASE_UPPER",
    PREFETCH_BASE_UPPER: "PREFETCH_LIMIT_UPPER",
    PREFETCH_LIMIT_UPPER: "PORT_NEXT",
    DEVICE_CONTROL_READ: "DEVICE_CONTROL_WRITE",
    DEVICE_CONTROL_WRITE: "BRIDGE_LOAD",
    COMMAND_ON: "DONE",
  };
  const otherWays: Partial<Record<TopologyStep, State>> = {
    ROOT_ID: "CRS_WAIT",
    ROOT_HEADER: "COMMAND_OFF",
    CAP_HEADER: "CAP_HEADER",
    DEVICE_CAPS: "PORT_ID",
    PORT_ID: "CRS_WAIT",
    PORT_CAPS: "LINK_CAPS",
    LINK_CAPS: "SSD_START",
    LINK_STATUS: "LINK_WAIT",
    DEVICE_CONTROL_WRITE: "BRIDGE_LOAD",
    COMMAND_ON: "BRIDGE_LOAD",
    PREFETCH_LIMIT_UPPER: "FIX_LOAD",
  };
  const skipWays: Partial<Record<TopologyStep, State>> = {
    PORT_ID: "PORT_NEXT",
    PORT_HEADER: "PORT_NEXT",
    PORT_CAPS: "BUS_FINAL",
    SLOT_STATUS: "BUS_FINAL",
    LINK_STATUS: "BUS_FINAL",
  };
  /** Where each non-access state goes on each way (failure: FAULT). */
  const stateWays: Partial<Record<State, { other?: State; skip?: State; onward?: State }>> = {
    CRS_WAIT: { other: "ROOT_ID", onward: "PORT_ID" },
    LINK_WAIT: { onward: "LINK_STATUS" },
    SSD_START: { onward: "SSD_RUN" },
    SSD_RUN: { other: "FIX_LOAD", skip: "BUS_FINAL", onward: "DONE" },
    PORT_NEXT: { other: "BUS_FINAL", onward: "PORT_ID" },
    FIX_LOAD: { onward: "FIX_DECIDE" },
    FIX_DECIDE: { other: "BRIDGE_LOAD", skip: "SSD_START", onward: "FIX_LOAD" },
    BRIDGE_LOAD: { other: "COMMAND_ON", onward: "DEVICE_CONTROL_READ" },
  };
  for (const name of TOPOLOGY_STEPS) stateWays[name] = { other: otherWays[name], skip: skipWays[name], onward: following[name] };
  stateWays.DRAIN = { onward: "ROOT_ID" };
  // Each way's next state, registered from the state alone (a way never fires in a state's first
  // cycle, so they are settled by then); the state register then chooses among three registers.
  const stateBits = walk.state.width;
  const next_other = m.signal(stateBits);
  const next_skip = m.signal(stateBits);
  const next_onward = m.signal(stateBits);
  m.Switch(walk.state, (sw) => {
    for (const [name, ways] of Object.entries(stateWays) as [State, { other?: State; skip?: State; onward?: State }][]) {
      sw.Case(walk.stateCode(name).bits_, () => {
        m.sync(next_other, walk.stateCode(ways.other ?? name));
        m.sync(next_skip, walk.stateCode(ways.skip ?? name));
        m.sync(next_onward, walk.stateCode(ways.onward ?? name));
      });
    }
    sw.Default(() => {
      m.sync(next_other, walk.state);
      m.sync(next_skip, walk.state);
      m.sync(next_onward, walk.state);
    });
  });
  // In any state: start restarts (after the SSD enumerator's run, if one is going: DRAIN).
  const handler = () =>
    m.If(start, restart)
      .Elif(way_failed, () => walk.next("FAULT"))
      .Elif(way_other, () => m.sync(walk.state, next_other))
      .Elif(way_skip, () => m.sync(walk.state, next_skip))
      .Elif(way_onward, () => m.sync(walk.state, next_onward));
  walk.body(Object.fromEntries(walk.states.map((name) => [name, handler])) as unknown as Record<State, () => void>);

  // ---- what the walk learns and sets up: one chain, its events exclusive (each is a walk state's) ----
  const learn = (name: TopologyStep) => passes.and(walk.is(name));
  const onward = (name: TopologyStep) => verdict_onward.and(walk.is(name));
  const other = (name: TopologyStep) => verdict_other.and(walk.is(name));
  const skipped = (name: TopologyStep) => verdict_skip.and(walk.is(name));
  m.sync(ssd_start, walk.is("SSD_START").and(state_way_onward).and(start.not()));
  // The SSD enumerator has the port from its start until its run is over and its port idle.
  m.If(walk.is("SSD_START").and(state_way_onward).and(start.not()), () => m.sync(use_ssd_enumerator, 1)).Elif(
    ssd_finished.or(walk.is("DRAIN").and(state_way_onward)),
    () => m.sync(use_ssd_enumerator, 0),
  );
  const toUpstreamPort = () => {
    m.sync(node_is_port, 0);
    m.sync(node_bus, p.secondaryBus);
    m.sync(node_dev, 0);
    m.sync(node_secondary, internalBus);
  };
  const portFound = onward("PORT_HEADER");
  // Each chain below has exclusive events (each is a walk state's); they are kept apart so that a
  // register's logic sees only its own events.
  // The node: the upstream port, then each downstream port, then each bridge again in the final pass.
  m.If(start, () => {
    toUpstreamPort();
    m.sync(bus_next, internalBus + 1);
    m.sync(port_dev, 0);
    m.sync(bridge_count, 0);
    m.sync(ports_full, 0);
  })
    .Elif(other("ROOT_HEADER"), () => {
      m.sync(bridge_dev[0], 0);
      m.sync(bridge_count, 1);
    })
    .Elif(learn("CAP_POINTER"), () => {
      m.sync(cap_dw, rsp.bits(7, 2));
      m.sync(hops, 0);
    })
    .Elif(other("CAP_HEADER"), () => {
      m.sync(cap_dw, rsp.bits(15, 10));
      m.sync(hops, hops.addWrap(1));
    })
    // The PCI Express capability found: the upstream port is bridge 0; a downstream port was counted when found.
    .Elif(onward("CAP_HEADER"), () => {
      bridge_cap.forEach((reg, i) => m.If(i === 0 ? node_is_port.not() : node_is_port.and(bridge_count.eq(i + 1)), () => m.sync(reg, cap_dw)));
    })
    // After the upstream port's capabilities: its secondary (internal) bus, device 0.
    .Elif(other("DEVICE_CAPS"), () => {
      m.sync(node_is_port, 1);
      m.sync(node_bus, internalBus);
      m.sync(node_dev, 0);
      m.sync(port_dev, 0);
    })
    // A downstream port: its secondary bus, its entry.
    .Elif(portFound, () => {
      m.sync(node_secondary, bus_next);
      bridge_dev.forEach((reg, i) => m.If(bridge_count.eq(i), () => m.sync(reg, node_dev)));
      m.sync(bridge_count, bridge_count.addWrap(1));
      m.sync(ports_full, bridge_count.eq(P));
      m.sync(bus_next, bus_next.addWrap(1));
    })
    .Elif(walk.is("PORT_NEXT").and(state_way_other.or(state_way_onward)), () => {
      m.sync(port_dev, port_dev.addWrap(1));
      m.sync(node_dev, port_dev.addWrap(1));
      // After the last device: the upstream port's close-out.
      m.If(port_dev.all(), toUpstreamPort);
    })
    .Elif(walk.is("BRIDGE_LOAD").and(state_way_other.or(state_way_onward)), () => {
      m.sync(node_bus, mux(bridge_index.eq(0), C(p.secondaryBus, 8), C(internalBus, 8)));
      for (let i = 0; i <= P; i++) {
        m.If(bridge_index.eq(i), () => {
          m.sync(node_dev, bridge_dev[i]);
          m.sync(cap_dw, bridge_cap[i]);
        });
      }
    });
  m.If(portFound, () => m.sync(port_base_mib, cursor_mib));
  m.If(portFound, () => m.sync(port_window_open, 0)).Elif(ssd_finished.and(ssd_ok).and(fixing.not()), () => m.sync(port_window_open, 1));
  m.If(start, () => m.sync(ports_skipped, 0)).Elif(skipped("PORT_CAPS"), () => m.If(ports_skipped.all().not(), () => m.sync(ports_skipped, ports_skipped.addWrap(1))));
  // MPS: the minimum so far, over the bridges' and the SSDs' Device Capabilities.
  m.If(start, () => m.sync(mps_min, mpsLimit))
    .Elif(learn("DEVICE_CAPS").and(mps_lower), () => m.sync(mps_min, rsp.bits(2, 0)))
    .Elif(ssd_finished.and(ssd_ok).and(fixing.not()).and(en.ssd_mps_supported.lt(mps_min)), () => m.sync(mps_min, en.ssd_mps_supported));
  // The SSD enumerator's target: below the root port (no switch), below this port, or a slot's again (the fix-up).
  m.If(onward("ROOT_HEADER"), () => {
    m.sync(target_bus, p.secondaryBus);
    m.sync(target_base_mib, windowBaseMib);
    m.sync(target_mps, mpsLimit);
  })
    .Elif(passes.and(walk.is("PORT_CAPS").or(walk.is("LINK_CAPS")).or(walk.is("LINK_STATUS"))), () => {
      m.sync(target_bus, node_secondary);
      m.sync(target_base_mib, cursor_mib);
      m.sync(target_mps, mps_min);
    })
    .Elif(walk.is("FIX_LOAD").and(state_way_onward), () => {
      for (let i = 0; i < S; i++) {
        m.If(fix_index.eq(i), () => {
          m.sync(target_bus, slot_bus[i]);
          m.sync(target_base_mib, slot_base_mib[i]);
        });
      }
      m.sync(target_mps, mps_min);
    });
  m.If(walk.is("FIX_LOAD").and(state_way_onward), () => {
    m.sync(fix_needed, 0);
    for (let i = 0; i < S; i++) m.If(fix_index.eq(i), () => m.sync(fix_needed, slot_status[i].eq(0).and(slot_mps[i].ne(mps_min))));
  });
  // An SSD enumerated: its slot (a first enumeration), or its status and MPS (the fix-up); the window cursor.
  const slotIndex = mux(fixing, fix_index, ssd_count);
  m.If(start, () => {
    m.sync(cursor_mib, windowBaseMib);
    m.sync(cursor_last_mib, windowBaseMib - 1);
    m.sync(slots_full, 0);
    m.sync(ssd_count, 0);
  }).Elif(ssd_finished.and(ssd_absent.not()), () => {
    for (let i = 0; i < S; i++) {
      m.If(slotIndex.eq(i), () => {
        m.If(fixing.not(), () => {
          m.sync(slot_bus[i], target_bus);
          m.sync(slot_port[i], mux(switch_found, node_dev, C(0, 5)));
          m.sync(slot_base_mib[i], target_base_mib);
        });
        m.sync(slot_status[i], mux(ssd_ok, C(0, 4), en.error_code));
        m.sync(slot_mps[i], en.mps_code);
      });
    }
    m.If(fixing.not(), () => {
      m.sync(ssd_count, ssd_count.addWrap(1));
      m.sync(slots_full, ssd_count.eq(S - 1));
      m.If(ssd_ok, () => {
        m.sync(cursor_mib, cursor_mib.addWrap(1));
        m.sync(cursor_last_mib, cursor_last_mib.addWrap(1));
      });
    });
  });
  // The fix-up's and the final pass's loops: each healthy SSD whose MPS is not the tree's is
  // enumerated again; then Device Control for each bridge, then Command for each.
  m.If(start, () => {
    m.sync(fixing, 0);
    m.sync(bridge_command_pass, 0);
  })
    .Elif(other("PREFETCH_LIMIT_UPPER"), () => {
      m.sync(fix_index, 0);
      m.sync(fixing, 1);
      m.sync(bridge_index, 0);
    })
    .Elif(ssd_finished.and(fixing), () => m.sync(fix_index, fix_index.addWrap(1)))
    .Elif(walk.is("FIX_DECIDE").and(state_way_onward), () => m.sync(fix_index, fix_index.addWrap(1)))
    .Elif(learn("DEVICE_CONTROL_WRITE").or(learn("COMMAND_ON")), () => {
      m.If(last_bridge, () => m.sync(bridge_index, 0)).Else(() => m.sync(bridge_index, bridge_index.addWrap(1)));
      m.If(walk.is("DEVICE_CONTROL_WRITE").and(last_bridge), () => m.sync(bridge_command_pass, 1));
    });
  m.If(learn("DEVICE_CONTROL_READ"), () => m.sync(device_control, rsp.bits(15, 0)));
  // The primary SSD's description, from its enumerator's outputs as its first run ends.
  m.If(start, () => {
    m.sync(primary_found, 0);
    m.sync(vendor_id, 0);
    m.sync(device_id, 0);
    m.sync(bar0_address, 0);
    m.sync(bar0_size_log2, 0);
    m.sync(mrrs_code, 0);
  }).Elif(ssd_finished.and(ssd_ok).and(fixing.not()).and(primary_found.not()), () => {
    m.sync(primary_found, 1);
    m.sync(vendor_id, en.vendor_id);
    m.sync(device_id, en.device_id);
    m.sync(bar0_address, en.bar0_address);
    m.sync(bar0_size_log2, en.bar0_size_log2);
    m.sync(mrrs_code, en.mrrs_code);
  });

  // ---- outputs ----
  const finish = way_onward.and(walk.is("COMMAND_ON").or(walk.is("SSD_RUN")));
  runStatus(m, { busy, done, error }, {
    start,
    fail: failure,
    finish,
    onStart: () => {
      m.sync(error_code, 0);
      m.sync(error_step, 0);
      m.sync(error_in_ssd, 0);
      m.sync(error_status, 0);
      m.sync(switch_found, 0);
      m.sync(ports_found, 0);
      m.sync(mps_code, 0);
    },
    onFail: () => {
      m.sync(error_code, mux(ssd_fault, en.error_code, mux(watchdog_fired, errorOf("ACCESS_TIMEOUT"), verdict_error)));
      m.sync(error_step, mux(ssd_fault, en.error_step, mux(walk.is("CRS_WAIT"), mux(node_is_port, C(topologyStepNumber("PORT_ID"), 5), C(topologyStepNumber("ROOT_ID"), 5)), walk.state.bits(4, 0))));
      m.sync(error_in_ssd, ssd_fault);
      m.sync(error_status, mux(ssd_fault, en.error_status, mux(watchdog_fired, C(0, 3), rsp_status)));
    },
    onFinish: () => m.sync(mps_code, mux(switch_found, mps_min, en.mps_code)),
  }).Elif(other("ROOT_HEADER"), () => m.sync(switch_found, 1))
    .Elif(onward("PORT_HEADER"), () => m.sync(ports_found, ports_found.addWrap(1)));

  m.comb(ssd_bdf, cat(...slot_bus.map((b) => cat(b, C(0, 8))).reverse()));
  m.comb(ssd_port, cat(...[...slot_port].reverse()));
  m.comb(ssd_bar0, cat(...slot_base_mib.map((b) => cat(b, C(0, MIB_LOG2))).reverse()));
  m.comb(ssd_status, cat(...[...slot_status].reverse()));

  return m.exposing({
    start,
    busy,
    done,
    error,
    error_code,
    error_step,
    error_in_ssd,
    error_status,
    switch_found,
    ports_found,
    ssd_count,
    ports_skipped,
    mps_code,
    ssd_bdf,
    ssd_port,
    ssd_bar0,
    ssd_status,
    vendor_id,
    device_id,
    bar0_address,
    bar0_size_log2,
    mrrs_code,
    request,
    response,
  });
}
