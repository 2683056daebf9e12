// Programs the 7-series root port's own type-1 configuration space through cfg_mgmt before
// enumeration (facts digest §A.7): bus numbers, the memory window the enumerator will place the
// SSD's BAR in, the prefetchable window closed, Command = Memory Space + Bus Master, Device
// Control MPS/MRRS, and Link Control 2 Target Link Speed. Each step writes one DW and reads it
// back; the read-back must equal what was written in the bits the step checks (its byte enables,
// less the bits PCIe makes read-only there, which keep their own values: the prefetchable
// window's "64-bit" type bits, Command's reserved bits, Device Control's Phantom Functions
// Enable on a core without phantom functions). A step that fails, by a cfg_mgmt timeout or by a
// read-back that differs, stops the sequence with `error`, `error_step` naming it and
// `error_timed_out` saying which of the two it was; the whole sequence ends with `done`. `start`
// runs it again from the first step, from idle, done or error alike (a timeout may leave a late
// done behind, so nothing is resumed half way).
//
// Every wait is bounded: each access by the requester's timeout, and a sequence has a fixed
// number of accesses. Device Control's other enables (error reporting, Relaxed Ordering,
// Extended Tag, No Snoop, ...) are written 0: the controller's own requests never use those
// attributes, and 32 tags need no Extended Tag. MPS/MRRS are inputs, sampled at `start`, so the
// enumerator can run the sequence again with the SSD's values.
import { C, Module, type Value, cat, constant } from "../../hdl/index.ts";
import { runStatus } from "../lib/run-status.ts";
import { CFG_MGMT_DWADDR_BITS, cfgMgmtRequester } from "./cfg-mgmt-requester.ts";

export interface RootPortSetupParams {
  /** Secondary and subordinate bus numbers (primary is 0: the root port is on bus 0). */
  secondaryBus: number;
  subordinateBus: number;
  /** The memory window the bridge forwards downstream: 1 MiB aligned base, size a multiple of 1 MiB. */
  memoryWindowBase: number;
  memoryWindowBytes: number;
  /** Link Control 2 Target Link Speed: 1 = 2.5, 2 = 5, 3 = 8 GT/s. */
  targetLinkSpeed: 1 | 2 | 3;
  /** cfg_mgmt timeout of each access, cycles. */
  timeoutCycles: number;
}

const MIB = 1 << 20;

/** The steps in order; `error_step` is the position in this list plus one (0 = none). */
export const ROOT_PORT_SETUP_STEPS = [
  "BUS_NUMBERS",
  "MEMORY_WINDOW",
  "PREFETCH_WINDOW",
  "PREFETCH_BASE_UPPER",
  "PREFETCH_LIMIT_UPPER",
  "COMMAND",
  "DEVICE_CONTROL",
  "LINK_CONTROL_2",
] as const;
export type RootPortSetupStep = (typeof ROOT_PORT_SETUP_STEPS)[number];

interface StepAccess {
  /** DW address (byte offset / 4) in the type-1 header or PCI Express capability at 0x60. */
  dwaddr: number;
  byteEnable: number;
  /** The DW written (bits outside byteEnable are not written). */
  data: number;
  /** Bits compared on read-back: written and not read-only. */
  checked: number;
}

/** DW addresses of the registers the steps program (facts digest §A.7). */
const DW_COMMAND = 0x04 >> 2;
const DW_BUS_NUMBERS = 0x18 >> 2;
const DW_MEMORY_WINDOW = 0x20 >> 2;
const DW_PREFETCH_WINDOW = 0x24 >> 2;
const DW_PREFETCH_BASE_UPPER = 0x28 >> 2;
const DW_PREFETCH_LIMIT_UPPER = 0x2c >> 2;
const DW_DEVICE_CONTROL = 0x68 >> 2;
const DW_LINK_CONTROL_2 = 0x90 >> 2;

/** Command: Memory Space Enable (bit 1) and Bus Master Enable (bit 2). */
export const COMMAND_MEMORY_BUS_MASTER = 0x0006;
/** Command's writable bits: I/O, memory, bus master, parity error response, SERR# enable, interrupt disable. */
const COMMAND_WRITABLE = 0x0547;
/** Device Control, all writable but bit 9 (Phantom Functions Enable, RO 0 without phantom functions). */
const DEVICE_CONTROL_WRITABLE = 0xfdff;
/** Link Control 2: Target Link Speed [3:0], Enter Compliance [4], Hardware Autonomous Speed Disable [5]. */
const LINK_CONTROL_2_WRITABLE = 0x003f;
/** Base/limit address fields: bits [15:4] of each 16-bit half; [3:0] are RO (the prefetchable window's 64-bit type). */
const WINDOW_ADDRESS_BITS = 0xfff0_fff0;
/** Prefetchable base 0xFFF0_0000 above limit 0x000F_FFFF: the window is closed. */
const PREFETCH_CLOSED = 0x0000_fff0;

/** What each step writes and checks; Device Control's MPS/MRRS codes are placed by the module. */
export function rootPortSetupAccesses(p: RootPortSetupParams): Record<RootPortSetupStep, StepAccess> {
  const limit = p.memoryWindowBase + p.memoryWindowBytes - 1;
  const memoryWindow = ((((limit >>> 20) << 4) << 16) | ((p.memoryWindowBase >>> 20) << 4)) >>> 0;
  return {
    BUS_NUMBERS: { dwaddr: DW_BUS_NUMBERS, byteEnable: 0b0111, data: (p.subordinateBus << 16) | (p.secondaryBus << 8), checked: 0x00ff_ffff },
    MEMORY_WINDOW: { dwaddr: DW_MEMORY_WINDOW, byteEnable: 0b1111, data: memoryWindow, checked: WINDOW_ADDRESS_BITS },
    PREFETCH_WINDOW: { dwaddr: DW_PREFETCH_WINDOW, byteEnable: 0b1111, data: PREFETCH_CLOSED, checked: WINDOW_ADDRESS_BITS },
    PREFETCH_BASE_UPPER: { dwaddr: DW_PREFETCH_BASE_UPPER, byteEnable: 0b1111, data: 0, checked: 0xffff_ffff },
    PREFETCH_LIMIT_UPPER: { dwaddr: DW_PREFETCH_LIMIT_UPPER, byteEnable: 0b1111, data: 0, checked: 0xffff_ffff },
    COMMAND: { dwaddr: DW_COMMAND, byteEnable: 0b0011, data: COMMAND_MEMORY_BUS_MASTER, checked: COMMAND_WRITABLE },
    DEVICE_CONTROL: { dwaddr: DW_DEVICE_CONTROL, byteEnable: 0b0011, data: 0, checked: DEVICE_CONTROL_WRITABLE },
    LINK_CONTROL_2: { dwaddr: DW_LINK_CONTROL_2, byteEnable: 0b0011, data: p.targetLinkSpeed, checked: LINK_CONTROL_2_WRITABLE },
  };
}

function checkParams(p: RootPortSetupParams): void {
  const fail = (why: string) => {
    throw new RangeError(`root port setup: ${why}`);
  };
  const isBus = (n: number) => Number.isInteger(n) && n >= 1 && n <= 255;
  if (!isBus(p.secondaryBus) || !isBus(p.subordinateBus) || p.subordinateBus < p.secondaryBus) {
    fail(`bus numbers ${p.secondaryBus}/${p.subordinateBus} are not 1 <= secondary <= subordinate <= 255`);
  }
  const end = p.memoryWindowBase + p.memoryWindowBytes;
  if (!Number.isInteger(p.memoryWindowBase) || p.memoryWindowBase % MIB !== 0 || p.memoryWindowBytes < MIB || p.memoryWindowBytes % MIB !== 0 || end > 2 ** 32) {
    fail(`memory window 0x${p.memoryWindowBase.toString(16)} + 0x${p.memoryWindowBytes.toString(16)} is not 1 MiB aligned below 4 GiB`);
  }
  if (![1, 2, 3].includes(p.targetLinkSpeed)) fail(`target link speed ${p.targetLinkSpeed} is not 1, 2 or 3`);
}

/**
 * After `start`, programs the root port's bus numbers, memory windows, Command, Device Control
 * MPS/MRRS and Link Control 2 through cfg_mgmt, checking each register by reading it back;
 * ends with `done`, or `error` and the failed step.
 */
export function rootPortSetup(p: RootPortSetupParams) {
  checkParams(p);
  const hex = (n: number) => n.toString(16);
  const windowLast = p.memoryWindowBase + p.memoryWindowBytes - 1;
  const m = new Module(
    `root_port_setup_b${p.secondaryBus}_${p.subordinateBus}_m${hex(p.memoryWindowBase)}_${hex(windowLast)}_g${p.targetLinkSpeed}_t${p.timeoutCycles}`,
  );
  m.parameters({
    ...p,
    memoryWindowBase: `0x${hex(p.memoryWindowBase)}`,
    memoryWindowBytes: `0x${hex(p.memoryWindowBytes)}`,
    memoryWindowLast: `0x${hex(windowLast)}`,
  });
  const accesses = rootPortSetupAccesses(p);

  /** A pulse: run the sequence (ignored while it runs). */
  const start = m.input(1);
  /** Device Control Max_Payload_Size / Max_Read_Request_Size codes (128 B << code), sampled at `start`. */
  const mps_code = m.input(3);
  const mrrs_code = m.input(3);
  const busy = m.output(1);
  const done = m.output(1);
  const error = m.output(1);
  /** The failed step: its position in ROOT_PORT_SETUP_STEPS plus one; 0 while no step failed. */
  const error_step = m.output(4);
  /** With `error`: 1 = cfg_mgmt timed out, 0 = the read-back differed. */
  const error_timed_out = m.output(1);

  const requester = m.instance(cfgMgmtRequester({ timeoutCycles: p.timeoutCycles }));
  const rq = requester.ports;
  // The cfg_mgmt ports of the core, straight from the requester's registers.
  const cfg_mgmt = m.promote(rq.cfg_mgmt, { prefix: "cfg_mgmt" });

  const mps = m.signal(3, { resetless: true });
  const mrrs = m.signal(3, { resetless: true });
  const step = m.fsm(["IDLE", ...ROOT_PORT_SETUP_STEPS, "DONE", "FAULT"]);
  const phase = m.fsm(["IDLE", "OFFER_WRITE", "AWAIT_WRITE", "OFFER_READ", "AWAIT_READ", "CHECK_READ"]);

  // The current step's access, chosen by the step state (registers only: stable while offered).
  const dwaddr = m.signal(CFG_MGMT_DWADDR_BITS);
  const byte_en = m.signal(4);
  const write_data = m.signal(32);
  const checked = m.signal(32);
  m.Switch(step.state, (s) => {
    for (const name of ROOT_PORT_SETUP_STEPS) {
      const access = accesses[name];
      s.Case(step.stateCode(name).bits_, () => {
        m.comb(dwaddr, access.dwaddr);
        m.comb(byte_en, access.byteEnable);
        // Device Control: Max_Read_Request_Size at [14:12], Max_Payload_Size at [7:5], the rest 0.
        const data: Value = name === "DEVICE_CONTROL" ? cat(C(0, 1), mrrs, C(0, 4), mps, C(0, 5)).zext(32) : C(access.data, 32);
        m.comb(write_data, data);
        m.comb(checked, access.checked);
      });
    }
  });

  const offering = phase.is("OFFER_WRITE").or(phase.is("OFFER_READ"));
  m.comb(rq.request_valid, offering);
  m.comb(rq.request_write, phase.is("OFFER_WRITE"));
  m.comb(rq.request_dwaddr, dwaddr);
  m.comb(rq.request_byte_en, byte_en);
  m.comb(rq.request_data, write_data);
  const awaiting = phase.is("AWAIT_WRITE").or(phase.is("AWAIT_READ"));
  m.comb(rq.response_ready, awaiting);

  const taken = offering.and(rq.request_ready);
  const answered = awaiting.and(rq.response_valid);
  // The read-back is judged a cycle after it arrives, from registers: the 32-bit comparison and
  // the step's expected value then take a path of their own, not one into the state registers.
  const read_timed_out = m.signal(1);
  const read_differs = m.signal(1);
  const differs = rq.response_data.xor(write_data).and(checked).any();
  m.If(phase.is("AWAIT_READ").and(answered), () => {
    m.sync(read_timed_out, rq.response_timed_out);
    m.sync(read_differs, differs);
  });
  const write_failed = phase.is("AWAIT_WRITE").and(answered).and(rq.response_timed_out);
  const read_failed = phase.is("CHECK_READ").and(read_timed_out.or(read_differs));
  const failed = write_failed.or(read_failed);
  const passed = phase.is("CHECK_READ").and(read_failed.not());
  const idle = step.is("IDLE").or(step.is("DONE")).or(step.is("FAULT"));
  const launch = start.and(idle);

  phase.body({
    IDLE: () => m.If(launch, () => phase.next("OFFER_WRITE")),
    OFFER_WRITE: () => m.If(taken, () => phase.next("AWAIT_WRITE")),
    AWAIT_WRITE: () => m.If(write_failed, () => phase.next("IDLE")).Elif(answered, () => phase.next("OFFER_READ")),
    OFFER_READ: () => m.If(taken, () => phase.next("AWAIT_READ")),
    AWAIT_READ: () => m.If(answered, () => phase.next("CHECK_READ")),
    CHECK_READ: () => m.If(read_failed.or(step.is("LINK_CONTROL_2")), () => phase.next("IDLE")).Else(() => phase.next("OFFER_WRITE")),
  });

  const stepBodies: Partial<Record<RootPortSetupStep, () => void>> = {};
  ROOT_PORT_SETUP_STEPS.forEach((name, index) => {
    const following = index + 1 < ROOT_PORT_SETUP_STEPS.length ? ROOT_PORT_SETUP_STEPS[index + 1] : "DONE";
    stepBodies[name] = () => m.If(failed, () => step.next("FAULT")).Elif(passed, () => step.next(following));
  });
  const restart = () => m.If(launch, () => step.next(ROOT_PORT_SETUP_STEPS[0]));
  step.body({ IDLE: restart, DONE: restart, FAULT: restart, ...stepBodies });

  // The failed step's number, one per step: a named constant per step in the Verilog.
  const stepNumbers = ROOT_PORT_SETUP_STEPS.map((name, index) => constant(`ERROR_STEP_${name}`, index + 1, 4));
  const failing_step = m.signal(4);
  m.Switch(step.state, (s) => {
    ROOT_PORT_SETUP_STEPS.forEach((name, index) => s.Case(step.stateCode(name).bits_, () => m.comb(failing_step, stepNumbers[index])));
  });

  m.If(launch, () => {
    m.sync(mps, mps_code);
    m.sync(mrrs, mrrs_code);
  });
  runStatus(m, { busy, done, error }, {
    start: launch,
    fail: failed,
    finish: passed.and(step.is("LINK_CONTROL_2")),
    onStart: () => {
      m.sync(error_step, 0);
      m.sync(error_timed_out, 0);
    },
    onFail: () => {
      m.sync(error_step, failing_step);
      m.sync(error_timed_out, write_failed.or(read_timed_out));
    },
  });

  return m.exposing({
    start,
    mps_code,
    mrrs_code,
    busy,
    done,
    error,
    error_step,
    error_timed_out,
    cfg_mgmt,
  });
}
