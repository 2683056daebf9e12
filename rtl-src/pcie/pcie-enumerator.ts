// Enumeration of the one SSD below the root port (facts digest §0 #7, §A.6, §C), through the PCIe
// access port (pcie-access.ts), as the reference host driver does it (sim/host/pci-enumeration.ts):
// Type-0 configuration requests to device 0, function 0 of the secondary bus only (a PCIe endpoint
// answers whatever device number it is sent, so scanning would find 32 aliases).
//
//  1. Vendor/Device ID. A completion with status CRS, or with Vendor ID FFFFh or 0000h (a device
//     not ready yet, as some paths report it), is retried after `crsRetryDelayCycles`, for
//     `crsTimeoutCycles` from the first read (the specification's ~1 s); then CRS_TIMEOUT, or
//     NO_DEVICE if the last answer was all ones. UR or CA: NO_DEVICE at once.
//  2. Class code = 01_08_02h (NVM Express), else NOT_NVME.
//  3. Command = 0 (no memory decode, no bus mastering) while BAR0 is sized.
//  4. BAR0: write all ones, read the mask. A memory BAR, type 00 (32-bit) or 10 (64-bit: BAR1, the
//     upper half, all ones too), whose size fits the root port's memory window; else
//     BAR_SIZING_FAILED (an I/O BAR, a reserved type, a mask of 0, or one that is not a run of ones
//     from the top: no power-of-two size). BAR0 = the window's base, BAR1 = 0, both read back.
//  5. The capability list from 34h (Status bit 4 must say there is one) to the PCI Express
//     capability (ID 10h), at most MAX_CAPABILITY_HOPS entries; a pointer below 40h ends the list
//     (0 is its proper end; anything else below 40h points into the header). NO_PCIE_CAPABILITY.
//  6. Device Capabilities: MPS supported; Link Capabilities: the SSD's maximum speed and width.
//     Device Control: MPS = min(root port's supported, SSD's supported, configured maximum), MRRS
//     as configured, written with byte enables 0011 (Device Status above it is RW1C), read back.
//  7. Command = Memory Space + Bus Master + Interrupt Disable (0406h), read back. Last, after MPS,
//     as the reference driver does: the SSD may master only once its payload size is settled.
//
// Device Control's other fields: Relaxed Ordering off, so the SSD's writes arrive in the order it
// sent them even through a switch: the controller reads a completion-queue entry as the sign that
// the data written before it has landed, which Relaxed Ordering would let the entry overtake. No
// Snoop off: there is no cache to snoop, and no attribute is then set that nobody reads. Extended
// Tag on when the SSD supports it: our completer answers with the full 8-bit tag, and more reads
// in flight help the SSD hide latency. Initiate FLR (bit 15) written 0. The rest as read.
//
// Every access: the request is held until `request_ready`, then the response is awaited.
// `timed_out` ends in COMPLETION_TIMEOUT, a poisoned completion in POISONED, a status other than
// SC (on any access but the ID read) in COMPLETION_STATUS, each with the step and the status. On
// top of the requester's own completion timeout, a watchdog of `accessTimeoutCycles` per access
// ends in ACCESS_TIMEOUT should the requester never answer; the access is then abandoned, not
// dropped: the request stays offered until taken and its late response is taken and ignored, so the
// port's handshake rules hold. `start` runs everything again from the first step, in any state
// (an access in flight is abandoned the same way).
//
// Timing (250 MHz, <= 6 logic levels): each access is issued from registers (the request port is
// registered); its response is captured, then checked (the 32-bit comparisons, into flags), then
// judged (the step's verdict from the flags, into one-cycle pulses: failed, passed its other way,
// passed onward), then decided (the step state moves on a pulse). The watchdog and the CRS pause
// end in pulses from registers too. So the step state's logic sees a handful of registers, and an
// access costs the requester's latency plus 6 cycles.
import { C, Module, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { countdownTimer } from "../lib/countdown-timer.ts";
import { lowestSet } from "../lib/lowest-set.ts";
import { runStatus } from "../lib/run-status.ts";
import { CompletionStatus } from "../tlp/tlp-interfaces.ts";
import { AccessKind, pcieAccessRequest, pcieAccessResponse } from "./pcie-access.ts";

export interface PcieEnumeratorParams {
  /** The root port's secondary bus: where the SSD is. */
  secondaryBus: number;
  /** The root port's memory window (BAR_WINDOW of hostmem/host-memory-map.ts): BAR0 goes at its base. */
  barWindowBase: number;
  barWindowBytes: number;
  /** Max_Payload_Size codes (128 B << code): the root port's supported, and the configured maximum. */
  rootPortMpsCode: number;
  maxMpsCode: number;
  /** Max_Read_Request_Size code written to the SSD. */
  mrrsCode: number;
  /** How long the SSD may answer CRS (or all ones) from the first ID read, cycles. */
  crsTimeoutCycles: number;
  /** Pause between two ID reads while it does, cycles. */
  crsRetryDelayCycles: number;
  /** Watchdog per access, cycles: longer than the requester's completion timeout. */
  accessTimeoutCycles: number;
  /**
   * Behind a switch (pcie-topology-enumerator.ts): the SSD's bus, BAR0's place and the MPS bound
   * come from inputs (`target_bus`, `target_bar_base`, `target_mps_limit`, held while busy) instead
   * of `secondaryBus`, `barWindowBase` and min(rootPortMpsCode, maxMpsCode). Off by default: the
   * one-SSD enumerator is unchanged.
   */
  runtimeTarget?: boolean;
}

/** The steps, in FSM order: `error_step` is the position plus one (the state's code). */
export const ENUMERATION_STEPS = [
  "READ_ID",
  "READ_CLASS",
  "COMMAND_OFF",
  "BAR0_ONES",
  "BAR0_MASK",
  "BAR1_ONES",
  "BAR1_MASK",
  "BAR0_ASSIGN",
  "BAR1_ASSIGN",
  "BAR0_CHECK",
  "BAR1_CHECK",
  "READ_STATUS",
  "READ_CAP_POINTER",
  "READ_CAP_HEADER",
  "READ_DEVICE_CAPS",
  "READ_LINK_CAPS",
  "READ_DEVICE_CONTROL",
  "WRITE_DEVICE_CONTROL",
  "CHECK_DEVICE_CONTROL",
  "COMMAND_ON",
  "CHECK_COMMAND",
] as const;
export type EnumerationStep = (typeof ENUMERATION_STEPS)[number];
export const enumerationStepNumber = (step: EnumerationStep) => ENUMERATION_STEPS.indexOf(step) + 1;

/** `error_code` values, in this order from 1 (0 = none). */
export const ENUMERATION_ERRORS = [
  "COMPLETION_TIMEOUT",
  "COMPLETION_STATUS",
  "POISONED",
  "ACCESS_TIMEOUT",
  "CRS_TIMEOUT",
  "NO_DEVICE",
  "NOT_NVME",
  "BAR_SIZING_FAILED",
  "READ_BACK_MISMATCH",
  "NO_PCIE_CAPABILITY",
] as const;
export type EnumerationError = (typeof ENUMERATION_ERRORS)[number];
export const enumerationErrorCode = (error: EnumerationError) => ENUMERATION_ERRORS.indexOf(error) + 1;

/** Class code of an NVM Express controller: mass storage (01h), NVM (08h), NVMe (02h). */
export const NVME_CLASS_CODE = 0x01_08_02;
/** Command: Memory Space (bit 1), Bus Master (bit 2), Interrupt Disable (bit 10). */
export const COMMAND_MEMORY_BUS_MASTER_INTX_OFF = 0x0406;
/** The Command bits read back: Interrupt Disable may be hardwired by a function without INTx. */
const COMMAND_CHECKED = 0x0006;
/** Status bit 4 (Capabilities List), as bit 20 of the DW at 04h. */
const STATUS_CAPABILITIES_LIST = 1 << 20;
const CAP_ID_PCI_EXPRESS = 0x10;
/** A list of 4-byte entries at 40h..FCh has at most 48 of them; more means a loop. */
export const MAX_CAPABILITY_HOPS = 48;

/** Device Control fields (facts digest §C.6). */
const DEVCTL_RELAXED_ORDERING = 1 << 4;
const DEVCTL_MPS = 0b111 << 5;
const DEVCTL_EXTENDED_TAG = 1 << 8;
const DEVCTL_NO_SNOOP = 1 << 11;
const DEVCTL_MRRS = 0b111 << 12;
const DEVCTL_INITIATE_FLR = 1 << 15;
/** What the enumerator writes; everything else is written back as read. */
export const DEVCTL_WRITTEN = DEVCTL_RELAXED_ORDERING | DEVCTL_MPS | DEVCTL_EXTENDED_TAG | DEVCTL_NO_SNOOP | DEVCTL_MRRS | DEVCTL_INITIATE_FLR;
/** What it reads back (Initiate FLR always reads 0). */
const DEVCTL_CHECKED = DEVCTL_WRITTEN & ~DEVCTL_INITIATE_FLR;
/** Device Capabilities: Extended Tag Field Supported. */
const DEVCAP_EXTENDED_TAG = 5;

/** Type-0 header DWs (byte offset / 4) and PCI Express capability DWs (from the capability). */
const DW = { ID: 0x00 >> 2, COMMAND: 0x04 >> 2, CLASS: 0x08 >> 2, BAR0: 0x10 >> 2, BAR1: 0x14 >> 2, CAP_POINTER: 0x34 >> 2 } as const;
const PCIE_DW = { DEVICE_CAPS: 0x04 >> 2, DEVICE_CONTROL: 0x08 >> 2, LINK_CAPS: 0x0c >> 2 } as const;
/** Register number bits of a configuration address: [11:2], extended register included. */
const DW_INDEX_BITS = 10;
/** With `runtimeTarget`: the read-back compare's registered groups (of 32 / 4 = 8 bits each). */
const READ_COMPARE_GROUPS = 4;

function checkParams(p: PcieEnumeratorParams): void {
  const fail = (key: string, value: number, why: string) => {
    throw new RangeError(`pcie enumerator: ${key} ${Number.isInteger(value) && value > 255 ? `0x${value.toString(16)}` : value} ${why}`);
  };
  if (!Number.isInteger(p.secondaryBus) || p.secondaryBus < 1 || p.secondaryBus > 255) fail("secondaryBus", p.secondaryBus, "is not 1..255");
  const bytes = p.barWindowBytes;
  if (!Number.isInteger(bytes) || bytes < 16 || bytes > 2 ** 31 || (bytes & (bytes - 1)) !== 0) fail("barWindowBytes", bytes, "is not a power of two in 16..2^31");
  if (!Number.isInteger(p.barWindowBase) || p.barWindowBase < 0 || p.barWindowBase % bytes !== 0 || p.barWindowBase + bytes > 2 ** 32) {
    fail("barWindowBase", p.barWindowBase, `is not aligned to the window's 0x${bytes.toString(16)} bytes below 4 GiB`);
  }
  for (const key of ["rootPortMpsCode", "maxMpsCode", "mrrsCode"] as const) {
    if (!Number.isInteger(p[key]) || p[key] < 0 || p[key] > 5) fail(key, p[key], "is not a size code 0..5 (128..4096 B)");
  }
  for (const key of ["crsTimeoutCycles", "crsRetryDelayCycles", "accessTimeoutCycles"] as const) {
    if (!Number.isSafeInteger(p[key]) || p[key] < 1 || p[key] > 2 ** 32) fail(key, p[key], "is not an integer in 1..2^32");
  }
}

/**
 * Finds the SSD below the root port, checks it is an NVMe controller, sizes BAR0 and places it at
 * the root port's memory window, settles MPS/MRRS and turns on memory decode and bus mastering;
 * `done` with what it found, or `error` with the step and the cause.
 */
export function pcieEnumerator(p: PcieEnumeratorParams) {
  checkParams(p);
  const hex = (n: number) => n.toString(16);
  const windowLast = p.barWindowBase + p.barWindowBytes - 1;
  const m = new Module(
    `pcie_enumerator_b${p.secondaryBus}_w${hex(p.barWindowBase)}_${hex(windowLast)}_mps${p.rootPortMpsCode}${p.maxMpsCode}_rr${p.mrrsCode}` +
      `_c${p.crsTimeoutCycles}_${p.crsRetryDelayCycles}_t${p.accessTimeoutCycles}${p.runtimeTarget ? "_rt" : ""}`,
  );
  m.parameters({ ...p, ...(p.runtimeTarget ? { runtimeTarget: 1 } : {}), barWindowBase: `0x${hex(p.barWindowBase)}`, barWindowBytes: `0x${hex(p.barWindowBytes)}`, maxCapabilityHops: MAX_CAPABILITY_HOPS });
  const windowLog2 = Math.log2(p.barWindowBytes);
  const mpsLimit = Math.min(p.rootPortMpsCode, p.maxMpsCode);

  /** A pulse: enumerate (again), in any state. */
  const start = m.input(1);
  // The target: inputs with `runtimeTarget`, else the parameters.
  // (target_bar_base: BAR0's address, 1 << log2(barWindowBytes) aligned: its low bits are not read.)
  const targetInputs = p.runtimeTarget ? { target_bus: m.input(8), target_bar_base: m.input(32), target_mps_limit: m.input(3) } : undefined;
  const target_bus = targetInputs?.target_bus ?? C(p.secondaryBus, 8);
  const target_bar_base = targetInputs?.target_bar_base;
  const target_mps_limit = targetInputs?.target_mps_limit ?? C(mpsLimit, 3);
  if (target_bar_base) m.waiveUnread(target_bar_base, "BAR0 is placed on a window boundary: the bits below it are not read");
  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  /** ENUMERATION_ERRORS position + 1; 0 while no error. */
  const error_code = m.output(4);
  /** ENUMERATION_STEPS position + 1 of the step that failed; 0 while no error. */
  const error_step = m.output(5);
  /** The completion status of the failed access (CompletionStatus), when that was the cause. */
  const error_status = m.output(3);
  const vendor_id = m.output(16);
  const device_id = m.output(16);
  /** With `done`: where BAR0 is, its size (1 << bar0_size_log2 bytes), and its type. */
  const bar0_address = m.output(32);
  const bar0_size_log2 = m.output(5);
  const bar0_is_64bit = m.output(1);
  /** The SSD's Device Capabilities MPS supported, and the MPS/MRRS now in its Device Control (codes). */
  const ssd_mps_supported = m.output(3);
  const mps_code = m.output(3);
  const mrrs_code = m.output(3);
  /** The SSD's Link Capabilities: maximum speed (1 = 2.5, 2 = 5, 3 = 8 GT/s) and width (lanes). */
  const ssd_max_link_speed = m.output(4);
  const ssd_max_link_width = m.output(6);
  /** ID reads answered CRS (or all ones) and retried, saturating at 255. */
  const crs_retries = m.output(8);
  const request = m.port(pcieAccessRequest, "master", { prefix: "request" });
  const response = m.port(pcieAccessResponse, "slave", { prefix: "response" });
  const rq = request.signals;
  const rs = response.signals;

  const step = m.fsm(["IDLE", ...ENUMERATION_STEPS, "CRS_WAIT", "DONE", "FAULT"]);
  const phase = m.fsm(["IDLE", "OFFER", "AWAIT", "CHECK", "JUDGE", "DECIDE"]);
  const accessStep = ENUMERATION_STEPS.map((n) => step.is(n)).reduce((a, b) => a.or(b));

  // ---- what the enumerator has learnt ----
  const bar_64 = m.signal(1);
  /** DW index of the capability being looked at, and of the PCI Express capability's registers. */
  const cap_dw = m.signal(6);
  const hops = m.signal(bitsFor(MAX_CAPABILITY_HOPS));
  const device_caps_dw = m.signal(7);
  const device_control_dw = m.signal(7);
  const link_caps_dw = m.signal(7);
  const extended_tag = m.signal(1);
  /** The Device Control value to write (and to find on reading it back). */
  const device_control = m.signal(16);

  // ---- the current step's access, chosen by the step state ----
  const kind = m.signal(2);
  const dw_index = m.signal(DW_INDEX_BITS);
  const write_data = m.signal(32);
  const byte_en = m.signal(4);
  /** Read-back check: the response must equal `expect_data` in the bits of `expect_mask`. */
  const expect_data = m.signal(32);
  const expect_mask = m.signal(32);
  const cfgRead = C(AccessKind.CFG_READ, 2);
  const cfgWrite = C(AccessKind.CFG_WRITE, 2);
  const barBase = target_bar_base ? cat(target_bar_base.bits(31, windowLog2), C(0, windowLog2)) : constant("BAR_WINDOW_BASE", p.barWindowBase, 32);
  const devctlCheck = constant("DEVCTL_CHECKED", DEVCTL_CHECKED, 32);
  const access = (kindValue: Value, dw: Value | number, data: Value | number, be: number, expect?: { data: Value | number; mask: Value | number }) => {
    m.comb(kind, kindValue);
    m.comb(dw_index, typeof dw === "number" ? C(dw, DW_INDEX_BITS) : dw.zext(DW_INDEX_BITS));
    m.comb(write_data, typeof data === "number" ? C(data >>> 0, 32) : data.zext(32));
    m.comb(byte_en, be);
    if (expect) {
      m.comb(expect_data, typeof expect.data === "number" ? C(expect.data >>> 0, 32) : expect.data.zext(32));
      m.comb(expect_mask, typeof expect.mask === "number" ? C(expect.mask >>> 0, 32) : expect.mask);
    }
  };
  const ALL = 0xffff_ffff;
  const accesses: Record<EnumerationStep, () => void> = {
    READ_ID: () => access(cfgRead, DW.ID, 0, 0b1111),
    READ_CLASS: () => access(cfgRead, DW.CLASS, 0, 0b1111, { data: NVME_CLASS_CODE << 8, mask: 0xffff_ff00 }),
    COMMAND_OFF: () => access(cfgWrite, DW.COMMAND, 0, 0b0011),
    BAR0_ONES: () => access(cfgWrite, DW.BAR0, ALL, 0b1111),
    BAR0_MASK: () => access(cfgRead, DW.BAR0, 0, 0b1111),
    BAR1_ONES: () => access(cfgWrite, DW.BAR1, ALL, 0b1111),
    BAR1_MASK: () => access(cfgRead, DW.BAR1, 0, 0b1111, { data: ALL, mask: ALL }),
    BAR0_ASSIGN: () => access(cfgWrite, DW.BAR0, barBase, 0b1111),
    BAR1_ASSIGN: () => access(cfgWrite, DW.BAR1, 0, 0b1111),
    BAR0_CHECK: () => access(cfgRead, DW.BAR0, 0, 0b1111, { data: barBase, mask: 0xffff_fff0 }),
    BAR1_CHECK: () => access(cfgRead, DW.BAR1, 0, 0b1111, { data: 0, mask: ALL }),
    READ_STATUS: () => access(cfgRead, DW.COMMAND, 0, 0b1111, { data: STATUS_CAPABILITIES_LIST, mask: STATUS_CAPABILITIES_LIST }),
    READ_CAP_POINTER: () => access(cfgRead, DW.CAP_POINTER, 0, 0b1111),
    READ_CAP_HEADER: () => access(cfgRead, cap_dw, 0, 0b1111, { data: CAP_ID_PCI_EXPRESS, mask: 0xff }),
    READ_DEVICE_CAPS: () => access(cfgRead, device_caps_dw, 0, 0b1111),
    READ_LINK_CAPS: () => access(cfgRead, link_caps_dw, 0, 0b1111),
    READ_DEVICE_CONTROL: () => access(cfgRead, device_control_dw, 0, 0b1111),
    WRITE_DEVICE_CONTROL: () => access(cfgWrite, device_control_dw, device_control, 0b0011),
    CHECK_DEVICE_CONTROL: () => access(cfgRead, device_control_dw, 0, 0b1111, { data: device_control, mask: devctlCheck }),
    COMMAND_ON: () => access(cfgWrite, DW.COMMAND, COMMAND_MEMORY_BUS_MASTER_INTX_OFF, 0b0011),
    CHECK_COMMAND: () => access(cfgRead, DW.COMMAND, 0, 0b1111, { data: COMMAND_CHECKED, mask: COMMAND_CHECKED }),
  };
  m.Switch(step.state, (s) => {
    for (const name of ENUMERATION_STEPS) s.Case(step.stateCode(name).bits_, accesses[name]);
  });

  // ---- one access: offer, await, check, judge, decide ----
  /** The access in flight is not for the current sequence any more (restart, watchdog): finish it, ignore its answer. */
  const abandoned = m.signal(1);
  const issue = phase.is("IDLE").and(accessStep).and(start.not());
  const taken = phase.is("OFFER").and(rq.valid).and(rq.ready);
  const answered = phase.is("AWAIT").and(rs.valid).and(rs.ready);
  const in_flight = phase.is("OFFER").or(phase.is("AWAIT"));
  const judging = phase.is("JUDGE").and(abandoned.not()).and(start.not());

  m.If(issue, () => {
    m.sync(rq.valid, 1);
    m.sync(rq.kind, kind);
    m.sync(rq.address, cat(target_bus, C(0, 12), dw_index, C(0, 2)));
    m.sync(rq.data, write_data);
    m.sync(rq.byte_en, byte_en);
  }).Elif(taken, () => m.sync(rq.valid, 0));
  m.If(taken, () => m.sync(rs.ready, 1)).Elif(answered, () => m.sync(rs.ready, 0));

  const expected_data = m.signal(32, { resetless: true });
  const expected_mask = m.signal(32, { resetless: true });
  m.If(issue, () => {
    m.sync(expected_data, expect_data);
    m.sync(expected_mask, expect_mask);
  });
  const rsp_data = m.signal(32, { resetless: true });
  const rsp_status = m.signal(3, { resetless: true });
  const rsp_timed_out = m.signal(1, { resetless: true });
  const rsp_poisoned = m.signal(1, { resetless: true });
  m.If(answered, () => {
    m.sync(rsp_data, rs.data);
    m.sync(rsp_status, rs.status);
    m.sync(rsp_timed_out, rs.timed_out);
    m.sync(rsp_poisoned, rs.poisoned);
  });

  // CHECK: everything a verdict may need, from the captured response, into registers.
  // The read-back compare, by groups of bits: a register per group of 8 bits keeps each cone at 24
  // inputs (two levels of LUT6). The one 32-bit compare (96 inputs) maps to 6 or 7 logic levels as
  // the rest of the design moves Yosys's mapping around: 7 with `runtimeTarget` (the expected BAR0
  // address from an input), and 7 in nvme_host_core too after unrelated changes elsewhere.
  const compareGroups = READ_COMPARE_GROUPS;
  const compareGroupBits = 32 / compareGroups;
  /** Per group of bits: the response equals the expected value in the checked bits. */
  const read_matches = m.signal(compareGroups);
  const vendor_absent = m.signal(1);
  const bar_usable = m.signal(1);
  const bar_type_64 = m.signal(1);
  const bar_size = m.signal(5);
  /** A capability pointer at 40h or above: in the DW at 34h (bits [7:0]), in a capability header (bits [15:8]). */
  const first_cap_valid = m.signal(1);
  const next_cap_valid = m.signal(1);
  const status_sc = m.signal(1);
  const status_crs = m.signal(1);
  {
    const vendor = rsp_data.bits(15, 0);
    // A BAR mask that fits the window has ones in [31:windowLog2]; one with a power-of-two size is
    // a run of ones from the top: no bit set whose neighbour above is clear. Its size is then
    // 1 << (the lowest set bit at 4 and up).
    const addressMask = rsp_data.bits(31, 4);
    const fits = rsp_data.bits(31, windowLog2).all();
    const lowerRun = windowLog2 > 4 ? rsp_data.bits(windowLog2 - 1, 4).and(rsp_data.bits(windowLog2, 5).not()).any().not() : C(1, 1);
    const type = rsp_data.bits(2, 1);
    const lowest = lowestSet(Array.from({ length: 32 }, (_, i) => (i < 4 ? C(0, 1) : addressMask.bit(i - 4))));
    m.If(phase.is("CHECK"), () => {
      const groupMatches = (g: number) => {
        const [high, low] = [(g + 1) * compareGroupBits - 1, g * compareGroupBits];
        return rsp_data.bits(high, low).xor(expected_data.bits(high, low)).and(expected_mask.bits(high, low)).any().not();
      };
      m.sync(read_matches, cat(...Array.from({ length: compareGroups }, (_, g) => groupMatches(compareGroups - 1 - g))));
      m.sync(vendor_absent, vendor.all().or(vendor.any().not()));
      m.sync(bar_usable, rsp_data.bit(0).not().and(rsp_data.bit(1).not()).and(fits).and(lowerRun));
      m.sync(bar_type_64, type.eq(0b10));
      m.sync(bar_size, lowest.index);
      m.sync(first_cap_valid, rsp_data.bits(7, 6).any());
      m.sync(next_cap_valid, rsp_data.bits(15, 14).any());
      m.sync(status_sc, rsp_status.eq(CompletionStatus.SC));
      m.sync(status_crs, rsp_status.eq(CompletionStatus.CRS));
    });
  }

  // JUDGE: the step's verdict from those flags, into registers: failed (and why), and whether
  // the step takes its other way (READ_ID: retry; BAR0_MASK/ASSIGN/CHECK: the 64-bit path;
  // READ_CAP_HEADER: not this one, read the next). DECIDE then only moves the state.
  const crs_window_over = m.signal(1);
  const errorOf = (e: EnumerationError) => constant(`ERROR_${e}`, enumerationErrorCode(e), 4);
  // The ID read: CRS or all ones is "not yet" until the window is over; UR/CA is "no device".
  const idNotYet = status_crs.or(status_sc.and(vendor_absent));
  const idError = mux(status_crs, errorOf("CRS_TIMEOUT"), errorOf("NO_DEVICE"));
  // Which verdict rule the step follows, as flags decoded from the step register into registers
  // (the step holds through its access, so they are settled by JUDGE): the verdict is then an
  // AND-OR of flip-flops, not a choice by the step's code.
  const stepFlag = (name: string, steps: EnumerationStep[]) => {
    const flag = m.signal(1, { name });
    m.sync(flag, steps.map((n) => step.is(n)).reduce((a, b) => a.or(b)));
    return flag;
  };
  const is_read_id = stepFlag("verdict_read_id", ["READ_ID"]);
  const fails_on_mismatch = stepFlag("verdict_on_mismatch", ["READ_CLASS", "BAR1_MASK", "BAR0_CHECK", "BAR1_CHECK", "CHECK_DEVICE_CONTROL", "CHECK_COMMAND", "READ_STATUS"]);
  const is_bar0_mask = stepFlag("verdict_bar0_mask", ["BAR0_MASK"]);
  const bar64_way = stepFlag("verdict_bar64_way", ["BAR0_ASSIGN", "BAR0_CHECK"]);
  const is_cap_pointer = stepFlag("verdict_cap_pointer", ["READ_CAP_POINTER"]);
  const is_cap_header = stepFlag("verdict_cap_header", ["READ_CAP_HEADER"]);
  const accessFailed = rsp_timed_out.or(rsp_poisoned).or(status_sc.not().and(is_read_id.not()));
  const accessError = mux(rsp_timed_out, errorOf("COMPLETION_TIMEOUT"), mux(rsp_poisoned, errorOf("POISONED"), errorOf("COMPLETION_STATUS")));
  const readMatches = read_matches.all();
  const checkFailed = readMatches.not();
  const stepFailed = is_read_id.and(idNotYet.and(crs_window_over).or(idNotYet.not().and(status_sc.not())))
    .or(fails_on_mismatch.and(checkFailed))
    .or(is_bar0_mask.and(bar_usable.not()))
    .or(is_cap_pointer.and(first_cap_valid.not()))
    .or(is_cap_header.and(checkFailed).and(next_cap_valid.not().or(hops.eq(MAX_CAPABILITY_HOPS - 1))));
  const otherWay = is_read_id.and(idNotYet).or(is_bar0_mask.and(bar_type_64)).or(bar64_way.and(bar_64)).or(is_cap_header.and(checkFailed));
  // The error a failed step names (into a register at JUDGE, read only after a failure).
  const stepError = m.signal(4);
  m.Switch(step.state, (s) => {
    const errorFor = (names: EnumerationStep[], error: EnumerationError | Value) =>
      s.Case(names.map((n) => step.stateCode(n).bits_), () => m.comb(stepError, typeof error === "string" ? errorOf(error) : error));
    errorFor(["READ_ID"], idError);
    errorFor(["READ_CLASS"], "NOT_NVME");
    errorFor(["BAR0_MASK", "BAR1_MASK"], "BAR_SIZING_FAILED");
    errorFor(["BAR0_ASSIGN", "BAR0_CHECK", "BAR1_CHECK", "CHECK_DEVICE_CONTROL", "CHECK_COMMAND"], "READ_BACK_MISMATCH");
    errorFor(["READ_STATUS", "READ_CAP_POINTER", "READ_CAP_HEADER"], "NO_PCIE_CAPABILITY");
  });
  // One-cycle pulses for the DECIDE cycle: the step failed, passed its other way, or passed onward.
  const failed = accessFailed.or(stepFailed);
  const verdict_failed = m.signal(1);
  const verdict_other_way = m.signal(1);
  const verdict_onward = m.signal(1);
  m.sync(verdict_failed, judging.and(failed));
  m.sync(verdict_other_way, judging.and(failed.not()).and(otherWay));
  m.sync(verdict_onward, judging.and(failed.not()).and(otherWay.not()));
  /** The error a failed step reports; kept after a retry verdict, for the CRS window closing in the pause. */
  const verdict_error = m.signal(4);
  m.If(judging, () => m.sync(verdict_error, mux(accessFailed, accessError, stepError)));

  // ---- the two timers: one per access (the watchdog) or per CRS pause; the CRS window ----
  const passes = verdict_other_way.or(verdict_onward);
  const retry = verdict_other_way.and(step.is("READ_ID"));
  const accessTimer = countdownTimer(m, "access_timer", {
    maxCycles: Math.max(p.accessTimeoutCycles, p.crsRetryDelayCycles),
    loads: [
      { when: issue, cycles: p.accessTimeoutCycles },
      { when: retry, cycles: p.crsRetryDelayCycles },
    ],
  });
  const crsTimer = countdownTimer(m, "crs_timer", { maxCycles: p.crsTimeoutCycles, loads: [{ when: start, cycles: p.crsTimeoutCycles }] });
  // The timers' expiry a cycle late, from registers cleared by each load: a timeout (or a pause)
  // that ends a cycle later costs nothing, and the state logic then sees one register each, not
  // the AND of every piece of two counters.
  const access_timer_over = m.signal(1);
  m.If(issue.or(retry), () => m.sync(access_timer_over, 0)).Else(() => m.sync(access_timer_over, accessTimer.expired));
  m.If(start, () => m.sync(crs_window_over, 0)).Else(() => m.sync(crs_window_over, crsTimer.expired));
  // Pulses as the verdicts are, from registers: the watchdog ran out on an access in flight; the
  // CRS pause is over, with the window still open or closed (then the last ID read's verdict names
  // the error).
  const watchdog_fired = m.signal(1);
  const pause_over = m.signal(1);
  const crs_window_closed = m.signal(1);
  const not_restarting = start.not();
  m.sync(watchdog_fired, in_flight.and(access_timer_over).and(abandoned.not()).and(not_restarting).and(watchdog_fired.not()));
  const pausing = step.is("CRS_WAIT").and(access_timer_over).and(not_restarting).and(pause_over.or(crs_window_closed).not());
  m.sync(pause_over, pausing.and(crs_window_over.not()));
  m.sync(crs_window_closed, pausing.and(crs_window_over));
  const failure = verdict_failed.or(watchdog_fired).or(crs_window_closed);

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

  // ---- decisions ----
  type State = Parameters<typeof step.next>[0];
  const following = (name: EnumerationStep): State => {
    const i = ENUMERATION_STEPS.indexOf(name);
    return i + 1 < ENUMERATION_STEPS.length ? ENUMERATION_STEPS[i + 1] : "DONE";
  };
  const otherWays: Partial<Record<EnumerationStep, State>> = {
    READ_ID: "CRS_WAIT",
    BAR0_MASK: "BAR1_ONES",
    BAR0_ASSIGN: "BAR1_ASSIGN",
    BAR0_CHECK: "BAR1_CHECK",
    READ_CAP_HEADER: "READ_CAP_HEADER",
  };
  /** Where a passed step goes by default: past the 64-bit steps for a 32-bit BAR, to the capability's registers once found. */
  const defaultWays: Partial<Record<EnumerationStep, State>> = { BAR0_MASK: "BAR0_ASSIGN", BAR0_ASSIGN: "BAR0_CHECK", BAR0_CHECK: "READ_STATUS" };
  const restart = () => step.next("READ_ID");
  const handlers: Partial<Record<State, () => void>> = {
    IDLE: () => m.If(start, restart),
    DONE: () => m.If(start, restart),
    FAULT: () => m.If(start, restart),
    CRS_WAIT: () => m.If(start, restart).Elif(crs_window_closed, () => step.next("FAULT")).Elif(pause_over, () => step.next("READ_ID")),
  };
  for (const name of ENUMERATION_STEPS) {
    const other = otherWays[name];
    const onward = defaultWays[name] ?? following(name);
    handlers[name] = () => {
      const chain = m.If(start, restart).Elif(failure, () => step.next("FAULT"));
      if (other) chain.Elif(verdict_other_way, () => step.next(other));
      chain.Elif(verdict_onward, () => step.next(onward));
    };
  }
  step.body(handlers);

  // ---- what each passed step teaches ----
  const rspMps = rsp_data.bits(2, 0);
  const mpsInUse = mux(rspMps.lt(target_mps_limit), rspMps, target_mps_limit);
  const readDevctl = rsp_data.bits(15, 0);
  const mpsField = cat(C(0, 8), mps_code, C(0, 5));
  const mrrsField = C(p.mrrsCode << 12, 16);
  const extTagField = cat(C(0, 7), extended_tag, C(0, 8));
  const devctlKept = constant("DEVCTL_KEPT", ~DEVCTL_WRITTEN & 0xffff, 16);
  const learn = (name: EnumerationStep) => passes.and(step.is(name));
  m.If(learn("BAR0_MASK"), () => {
    m.sync(bar_64, bar_type_64);
  });
  m.If(learn("READ_CAP_POINTER"), () => {
    m.sync(cap_dw, rsp_data.bits(7, 2));
    m.sync(hops, 0);
  }).Elif(learn("READ_CAP_HEADER"), () => {
    m.sync(cap_dw, rsp_data.bits(15, 10));
    m.sync(hops, hops.addWrap(1));
    // The PCI Express capability's registers, while cap_dw still points at it.
    m.sync(device_caps_dw, cap_dw.zext(7).addWrap(PCIE_DW.DEVICE_CAPS));
    m.sync(device_control_dw, cap_dw.zext(7).addWrap(PCIE_DW.DEVICE_CONTROL));
    m.sync(link_caps_dw, cap_dw.zext(7).addWrap(PCIE_DW.LINK_CAPS));
  });
  m.If(learn("READ_DEVICE_CAPS"), () => {
    m.sync(extended_tag, rsp_data.bit(DEVCAP_EXTENDED_TAG));
  });
  m.If(learn("READ_DEVICE_CONTROL"), () => {
    m.sync(device_control, readDevctl.and(devctlKept).or(mpsField).or(mrrsField).or(extTagField));
  });

  // ---- outputs ----
  runStatus(m, { busy, done, error }, {
    start,
    fail: failure,
    finish: passes.and(step.is("CHECK_COMMAND")),
    onStart: () => {
      m.sync(error_code, 0);
      m.sync(error_step, 0);
      m.sync(error_status, 0);
      m.sync(vendor_id, 0);
      m.sync(device_id, 0);
      m.sync(bar0_address, 0);
      m.sync(bar0_size_log2, 0);
      m.sync(bar0_is_64bit, 0);
      m.sync(ssd_mps_supported, 0);
      m.sync(mps_code, 0);
      m.sync(mrrs_code, 0);
      m.sync(ssd_max_link_speed, 0);
      m.sync(ssd_max_link_width, 0);
      m.sync(crs_retries, 0);
    },
    onFail: () => {
      m.sync(error_code, mux(watchdog_fired, errorOf("ACCESS_TIMEOUT"), verdict_error));
      // A failure in the CRS pause belongs to the ID read.
      m.sync(error_step, mux(step.is("CRS_WAIT"), C(enumerationStepNumber("READ_ID"), 5), step.state.zext(5)));
      m.sync(error_status, mux(watchdog_fired, C(0, 3), rsp_status));
    },
  })
    // Results, captured as the steps that read them pass (CHECK_COMMAND, the last, finishes above).
    .Elif(passes, () => {
      m.If(step.is("READ_ID").and(retry), () => m.If(crs_retries.all().not(), () => m.sync(crs_retries, crs_retries.addWrap(1))));
      m.If(step.is("READ_ID").and(retry.not()), () => {
        m.sync(vendor_id, rsp_data.bits(15, 0));
        m.sync(device_id, rsp_data.bits(31, 16));
      });
      m.If(step.is("BAR0_MASK"), () => {
        m.sync(bar0_size_log2, bar_size);
        m.sync(bar0_is_64bit, bar_type_64);
      });
      m.If(step.is("BAR0_CHECK"), () => m.sync(bar0_address, barBase));
      m.If(step.is("READ_DEVICE_CAPS"), () => {
        m.sync(ssd_mps_supported, rspMps);
        m.sync(mps_code, mpsInUse);
      });
      m.If(step.is("READ_LINK_CAPS"), () => {
        m.sync(ssd_max_link_speed, rsp_data.bits(3, 0));
        m.sync(ssd_max_link_width, rsp_data.bits(9, 4));
      });
      m.If(step.is("CHECK_DEVICE_CONTROL"), () => m.sync(mrrs_code, p.mrrsCode));
    });

  return m.exposing({
    start,
    ...targetInputs,
    busy,
    done,
    error,
    error_code,
    error_step,
    error_status,
    vendor_id,
    device_id,
    bar0_address,
    bar0_size_log2,
    bar0_is_64bit,
    ssd_mps_supported,
    mps_code,
    mrrs_code,
    ssd_max_link_speed,
    ssd_max_link_width,
    crs_retries,
    request,
    response,
  });
}
