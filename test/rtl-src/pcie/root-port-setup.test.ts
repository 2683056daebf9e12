// The root port setup, as emitted Verilog on both engines. Behind RootPortBridge + LinkModel it
// leaves exactly the expected values in the model's root-port configuration space (every other
// DW as it was) and reports done in a bounded number of cycles, whatever the registers held
// before. Against the model's own cfg_mgmt port with faults put in (a port that goes silent at
// some access, a read-back with a checked bit flipped) it reports error with the number of the
// failing step and the cause, and a second start succeeds once the port answers again.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { ROOT_PORT_SETUP_STEPS, type RootPortSetupParams, type RootPortSetupStep, rootPortSetup } from "../../../rtl-src/pcie/root-port-setup.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { CfgMgmtPort } from "../../../sim/pcie/cfg-mgmt-port.ts";
import { LinkModel } from "../../../sim/pcie/link-model.ts";
import { RootPortConfigSpace } from "../../../sim/pcie/rp-config-space.ts";
import { createRootPortPorts } from "../../../sim/pcie/root-port-ports.ts";
import { CapturingEndpoint } from "../../../sim/testbench/tlp-tx-driver.ts";
import { RootPortBridge } from "../../../sim/testbench/root-port-bridge.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const PARAMS: RootPortSetupParams = {
  secondaryBus: 1,
  subordinateBus: 4,
  memoryWindowBase: 0xe000_0000,
  memoryWindowBytes: 16 << 20,
  targetLinkSpeed: 2,
  timeoutCycles: 32,
};
const MPS_CODE = 1; // 256 B
const MRRS_CODE = 2; // 512 B

/** The DWs the setup writes, by DW address, as the model must hold them afterwards (hand-computed). */
const EXPECTED: Record<number, number> = {
  0x01: 0x0010_0006, // Status: capabilities list (RO); Command: memory space + bus master
  0x06: 0x0004_0100, // subordinate 4, secondary 1, primary 0
  0x08: 0xe0f0_e000, // memory limit 0xE0FF_FFFF, base 0xE000_0000
  0x09: 0x0001_fff1, // prefetchable limit 0x000F_FFFF below base 0xFFF0_0000: closed; [3:0] = 64-bit (RO)
  0x0a: 0,
  0x0b: 0,
  0x1a: 0x0000_2020, // Device Control: MRRS 512 (code 2 at [14:12]), MPS 256 (code 1 at [7:5])
  0x24: 0x0000_0002, // Link Control 2: Target Link Speed 5 GT/s
};
/** Link Control/Status: hardware updates Link Status as the link trains. */
const DW_LINK_STATUS = 0x1c;
/** Cycles per access at most: request register, cfg_mgmt latency, done, response, phase change. */
const CYCLES_PER_ACCESS = (latency: number) => latency + 6;

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

/** Writes other values into every register the setup programs, so nothing passes by its reset value. */
function dirty(space: RootPortConfigSpace): void {
  const junk: [number, number][] = [[0x01, 0x0000_0541], [0x06, 0x00ff_ff07], [0x08, 0x1230_4560], [0x09, 0x0000_0000], [0x0a, 0x89ab_cdef], [0x0b, 0x7654_3210], [0x1a, 0x0000_5df7], [0x24, 0x0000_0031]];
  for (const [dw, value] of junk) space.write(dw, value, 0b1111);
}

function startPulse(sim: Simulator, step: () => void, mps = MPS_CODE, mrrs = MRRS_CODE): void {
  sim.poke("mps_code", mps);
  sim.poke("mrrs_code", mrrs);
  sim.poke("start", 1);
  step();
  sim.poke("start", 0);
}

describe.each(engines)(`root_port_setup (%s)`, (engine) => {
  let sim: Simulator | undefined;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = rootPortSetup(PARAMS);
      const { files } = emitDesign(module);
      sim = await createSimulator({ sources: emittedSources(files), top: module.name, engine });
    }
    return sim;
  };

  for (const latency of [0, 2, 9]) {
    it(`programs the link model's root port and reports done (cfg_mgmt latency ${latency})`, async () => {
      const design = await simulator();
      design.reset(2);
      const link = new LinkModel(new CapturingEndpoint(), { cfgMgmtLatencyCycles: latency, trainingCycles: 10 });
      dirty(link.config);
      const before = Array.from({ length: 1024 }, (_, dw) => link.config.read(dw));
      const bridge = new RootPortBridge(design, link);
      bridge.step(3);
      expect(design.peek("done")).toBe(0);
      startPulse(design, () => bridge.step(), MPS_CODE, MRRS_CODE);
      // Inputs are sampled at start: later changes do not count, nor does start while busy.
      design.poke("mps_code", 5);
      design.poke("mrrs_code", 5);
      bridge.step(5);
      startPulse(design, () => bridge.step(), 4, 4);
      expect(design.peek("busy")).toBe(1);
      const bound = ROOT_PORT_SETUP_STEPS.length * 2 * CYCLES_PER_ACCESS(latency) + 2;
      const cycles = bridge.runUntil(() => design.peek("done") === 1 || design.peek("error") === 1, bound, "setup done") + 7;
      expect(cycles).toBeLessThanOrEqual(bound);
      expect({ done: design.peek("done"), error: design.peek("error"), step: design.peek("error_step"), busy: design.peek("busy") }).toEqual({ done: 1, error: 0, step: 0, busy: 0 });
      const after = Array.from({ length: 1024 }, (_, dw) => link.config.read(dw));
      const changed = after.flatMap((v, dw) => (v !== before[dw] && dw !== DW_LINK_STATUS ? [dw] : []));
      expect(Object.fromEntries(changed.map((dw) => [dw, after[dw]]))).toEqual(EXPECTED);
      expect(link.config.maxPayloadSize).toBe(256);
      expect(link.config.maxReadRequestSize).toBe(512);
      expect(link.config.targetLinkSpeed).toBe(2);
      // done holds; the enables are low; nothing more happens.
      bridge.step(50);
      expect(design.peek("done")).toBe(1);
      expect(design.peek("cfg_mgmt_rd_en") | design.peek("cfg_mgmt_wr_en")).toBe(0);
      expect(link.config.read(0x1a)).toBe(EXPECTED[0x1a]);
    });
  }

  /** The model's cfg_mgmt port alone, with faults put in: silent from an access on, or one read answered wrong. */
  function runWithFaultyPort(design: Simulator, space: RootPortConfigSpace, fault: { silentFromAccess?: number; corruptRead?: { step: RootPortSetupStep; xor: number } }, maxCycles: number) {
    const port = new CfgMgmtPort(space, 2, (reason) => {
      throw new Error(reason);
    });
    const ports = createRootPortPorts();
    const readOf = (step: RootPortSetupStep) => ROOT_PORT_SETUP_STEPS.indexOf(step) + 1;
    let silent = false;
    let cycles = 0;
    const edge = () => {
      design.poke("cfg_mgmt_rd_wr_done", ports.cfg_mgmt_rd_wr_done);
      design.poke("cfg_mgmt_do", ports.cfg_mgmt_do);
      design.step();
      cycles++;
      for (const name of ["cfg_mgmt_dwaddr", "cfg_mgmt_di", "cfg_mgmt_byte_en", "cfg_mgmt_wr_en", "cfg_mgmt_rd_en", "cfg_mgmt_wr_readonly", "cfg_mgmt_wr_rw1c_as_rw"] as const) {
        ports[name] = design.peek(name);
      }
      if (fault.silentFromAccess !== undefined && !port.busy && port.reads + port.writes >= fault.silentFromAccess) silent = true;
      if (silent) {
        ports.cfg_mgmt_rd_wr_done = 0;
        return;
      }
      port.step(ports);
      if (fault.corruptRead && ports.cfg_mgmt_rd_wr_done && ports.cfg_mgmt_rd_en && port.reads === readOf(fault.corruptRead.step)) {
        ports.cfg_mgmt_do = (ports.cfg_mgmt_do ^ fault.corruptRead.xor) >>> 0;
      }
    };
    startPulse(design, edge);
    while (cycles < maxCycles && !design.peek("done") && !design.peek("error")) edge();
    return { cycles, done: design.peek("done"), error: design.peek("error"), step: design.peek("error_step"), timedOut: design.peek("error_timed_out") };
  }

  const newSpace = () => new RootPortConfigSpace({ vendorId: 0x10ee, deviceId: 0x7024, generation: 2, lanes: 4, mpsSupported: 512, mps: 128, mrrs: 512, rcb: 64 });
  const boundFor = (failingStep: number) => failingStep * 2 * CYCLES_PER_ACCESS(2) + PARAMS.timeoutCycles + 10;

  it("reports a cfg_mgmt timeout with the step it happened in, write or read, and runs again once the port answers", async () => {
    const design = await simulator();
    for (const silentFromAccess of [0, 1, 5, 12, 15]) {
      design.reset(2);
      const failing = Math.floor(silentFromAccess / 2) + 1;
      const space = newSpace();
      const fault = runWithFaultyPort(design, space, { silentFromAccess }, boundFor(failing) + 50);
      expect(fault, `silent from access ${silentFromAccess}`).toMatchObject({ done: 0, error: 1, step: failing, timedOut: 1 });
      expect(fault.cycles).toBeLessThanOrEqual(boundFor(failing));
      // error holds until the next start, with the enables low.
      for (let i = 0; i < 20; i++) design.step();
      expect({ error: design.peek("error"), step: design.peek("error_step"), enables: design.peek("cfg_mgmt_rd_en") | design.peek("cfg_mgmt_wr_en") }).toEqual({ error: 1, step: failing, enables: 0 });
      const again = runWithFaultyPort(design, space, {}, boundFor(ROOT_PORT_SETUP_STEPS.length));
      expect(again).toMatchObject({ done: 1, error: 0, step: 0, timedOut: 0 });
      for (const [dw, value] of Object.entries(EXPECTED)) expect(space.read(Number(dw)), `DW 0x${Number(dw).toString(16)}`).toBe(value);
    }
  });

  it("reports a read-back mismatch in a checked bit, and ignores one in a read-only bit", async () => {
    const design = await simulator();
    const mismatches: [RootPortSetupStep, number][] = [
      ["BUS_NUMBERS", 1 << 17],
      ["MEMORY_WINDOW", 1 << 4],
      ["PREFETCH_WINDOW", 1 << 31],
      ["PREFETCH_BASE_UPPER", 1],
      ["PREFETCH_LIMIT_UPPER", 1 << 31],
      ["COMMAND", 1 << 2],
      ["DEVICE_CONTROL", 1 << 12],
      ["LINK_CONTROL_2", 1 << 5],
    ];
    for (const [step, xor] of mismatches) {
      design.reset(2);
      const number = ROOT_PORT_SETUP_STEPS.indexOf(step) + 1;
      const result = runWithFaultyPort(design, newSpace(), { corruptRead: { step, xor } }, boundFor(number) + 50);
      expect(result, step).toMatchObject({ done: 0, error: 1, step: number, timedOut: 0 });
    }
    // Bits no step checks: Status (Command's DW), the windows' RO type bits, Phantom Functions, Link Status 2.
    const ignored: [RootPortSetupStep, number][] = [
      ["COMMAND", 1 << 20],
      ["PREFETCH_WINDOW", 0x0001_0001],
      ["MEMORY_WINDOW", 0x0001_0001],
      ["DEVICE_CONTROL", 1 << 9],
      ["LINK_CONTROL_2", 1 << 16],
      ["BUS_NUMBERS", 1 << 24],
    ];
    for (const [step, xor] of ignored) {
      design.reset(2);
      const result = runWithFaultyPort(design, newSpace(), { corruptRead: { step, xor } }, boundFor(ROOT_PORT_SETUP_STEPS.length));
      expect(result, step).toMatchObject({ done: 1, error: 0, step: 0 });
    }
  });
});
