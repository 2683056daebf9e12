// nvme_striped_core: nvme_array_core's lanes behind the RAID 0 striper, emitted and run in the full
// system behind the switch model on Verilator (a cold build of four lanes takes minutes, then .cache/
// has it; the js engine would take many minutes for four lanes). Four lane slots, three SSDs (the
// switch's port 2 empty): the missing slot is a failed member. Checked: the one-SSD core's user-port
// names drive it (UserPortDriver unchanged), the array's geometry from the members present (4 x the
// smallest, whole rows of stripes), writes and reads over the three present lanes verified (data
// distinct per block), each SSD's media holding exactly its stripes, and every command touching the
// missing lane completing MEMBER_FAILED with that lane's index (a read's bytes as zeros) while the
// others go on. Two-lane runs are in test/sim/system/array-core.test.ts (through `nvme-host sim`).
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { nvmeStripedCore, simulationStripedCoreParams, type NvmeStripedCoreParams } from "../../../rtl-src/top/nvme-striped-core.ts";
import { USER_ERROR_CLASS_NAMES, UserErrorClass, UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { verilatorAvailable } from "../../../sim/engine/index.ts";
import { readArrayStatus, waitForArrayOutcome } from "../../../sim/system/array-status.ts";
import { STATUS_WATCH } from "../../../sim/system/bringup.ts";
import { type FullSystem, type VerilogCore, buildSystem } from "../../../sim/system/full-system.ts";
import type { SystemTopology } from "../../../sim/system/topology.ts";
import type { UserCommand } from "../../../sim/testbench/user-command.ts";
import { UserPortDriver } from "../../../sim/testbench/user-port-driver.ts";
import { recognisePatternWord } from "../../../sim/workload/pattern.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const STRIPE_BYTES = 4096;
const LBA_BYTES = 512;
/** Blocks per stripe. */
const B = STRIPE_BYTES / LBA_BYTES;
/** A lane gives up on a command 1 ms after it became its oldest (10 ms in the simulation timings): the fatal SSD's read times out sooner. */
const IO_TIMEOUT_CYCLES = 250_000;
const params: NvmeStripedCoreParams = {
  ...simulationStripedCoreParams,
  io: { ...simulationStripedCoreParams.io, ioTimeoutCycles: IO_TIMEOUT_CYCLES },
  striper: { stripeBytes: STRIPE_BYTES, maxOutstanding: 8 },
};
const coreModule = nvmeStripedCore(params);

/** Three SSDs of different capacities on ports 0, 1 and 3: lanes 0, 1, 2; lane 3 has none. */
const CAPACITIES = [1 << 16, 3 << 14, 1 << 17];
const topology: SystemTopology = {
  ssds: [
    { ssd: { serial: "STRIPE-A", timing: "fastSsd", namespaces: [{ lbaSize: LBA_BYTES, capacityBlocks: CAPACITIES[0] }] } },
    { ssd: { serial: "STRIPE-B", timing: "fastSsd", namespaces: [{ lbaSize: LBA_BYTES, capacityBlocks: CAPACITIES[1] }] } },
    null,
    { ssd: { serial: "STRIPE-C", timing: "fastSsd", namespaces: [{ lbaSize: LBA_BYTES, capacityBlocks: CAPACITIES[2] }] } },
  ],
};

describe("nvme_striped_core structure", () => {
  it("is named by its lanes and stripe; no output follows an input in the same cycle; 3 lanes are refused", () => {
    expect(coreModule.name).toMatch(/^nvme_striped_core_n4p4_.*_st4k_o8_t8$/);
    const { design, files } = emitDesign(coreModule);
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    // The top's port list, from its Verilog header ("input wire [..] name," / "output reg name").
    const top = files.find((f) => f.text.includes(`module ${coreModule.name}`))!.text;
    const header = top.slice(top.indexOf(`module ${coreModule.name}`), top.indexOf(");"));
    const ports = new Set([...header.matchAll(/\b(?:input|output)\b[^,\n]*?(\w+)\s*(?:,|\n|$)/g)].map((m) => m[1]));
    expect(ports.size).toBeGreaterThan(100);
    for (const name of ["user_command_valid", "user_write_data_tdata", "user_read_data_tuser", "user_completion_error_class", "status_ssd3_state", "user2_erase_valid", "array_capacity_blocks", "array_lba_shift", "page_lane"]) expect(ports.has(name), name).toBe(true);
    expect(ports.has("user0_command_valid")).toBe(false);
    expect(() => nvmeStripedCore({ ...params, array: { ...params.array, maxSsds: 3 } })).toThrow(/array.maxSsds 3 is not 1, 2 or 4/);
    expect(() => nvmeStripedCore({ ...params, striper: { stripeBytes: 3000, maxOutstanding: 8 } })).toThrow(/stripeBytes 3000/);
  });
});

describe.skipIf(!verilatorAvailable())("nvme_striped_core, three SSDs in four lane slots (verilator)", () => {
  let system: FullSystem | undefined;
  afterAll(() => system?.close());

  it("stripes verified I/O over the three SSDs present; commands touching the empty slot complete MEMBER_FAILED", async () => {
    const emitted = emitDesign(coreModule);
    const core: VerilogCore = { sources: emittedSources(emitted.files), top: coreModule.name };
    system = await buildSystem({ core, engine: "verilator", topology, watch: [...STATUS_WATCH, "user_read_data_tvalid", "user_completion_valid"], visibility: "ports" });
    const sys = system;
    waitForArrayOutcome(sys, 3_000_000);
    const status = readArrayStatus(sys);
    expect({ state: status.state, ssds: status.ssd_count, lanes: status.ssds.map((s) => s.state) }).toEqual({ state: "ready", ssds: 3, lanes: ["READY", "READY", "READY"] });
    expect(sys.sim.peek("status_ssd3_state")).toBe(1); // ABSENT
    // The geometry: 4 lanes x the smallest member present, whole stripes; 512-byte blocks.
    const capacityBlocks = 4 * Math.floor(Math.min(...CAPACITIES) / B) * B;
    expect({ capacity: Number(sys.sim.peekBig("array_capacity_blocks")), shift: sys.sim.peek("array_lba_shift"), ok: sys.sim.peek("array_config_ok") }).toEqual({ capacity: capacityBlocks, shift: 9, ok: 1 });

    const driver = new UserPortDriver(sys, { namespaces: [{ nsid: 1, lbaBytes: LBA_BYTES, capacityBlocks }], seed: 11 });
    const failed = { expect: UserErrorClass.MEMBER_FAILED };
    // Stripe s is on lane s mod 4; stripes 3, 7, ... are on the empty slot.
    const commands: UserCommand[] = [
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 3 * B, pass: 1 }, // stripes 0..2: lanes 0, 1, 2
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 4 * B + 3, blockCount: 2 * B, pass: 1 }, // stripes 4..6, cut at 5 and 6
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 3 * B - 2, blockCount: 4, pass: 2, ...failed }, // crosses into stripe 3
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 3 * B },
      { opcode: UserOpcode.READ, nsid: 1, lba: 4 * B, blockCount: 3 * B },
      { opcode: UserOpcode.READ, nsid: 1, lba: 2 * B, blockCount: 2 * B, ...failed }, // stripes 2 and 3: its bytes zeros
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 7 * B, blockCount: 1, pass: 3, ...failed },
      { opcode: UserOpcode.FLUSH, nsid: 1, lba: 0, blockCount: 0, ...failed }, // to every lane, the empty one too
      { opcode: UserOpcode.READ, nsid: 1, lba: 1, blockCount: 2 * B }, // after the refusals, still served
    ];
    driver.submit(commands);
    const limit = sys.cycle + 1_000_000;
    while (!driver.idle && sys.cycle < limit) driver.tick();
    const report = driver.report();
    expect({ errors: report.errors, completed: report.completed }).toEqual({ errors: [], completed: commands.length });
    expect(report.errorClasses).toMatchObject({ NONE: 5, MEMBER_FAILED: 4 });
    // The members: lanes 0..2 took sub-commands; nothing reached an unknown requester.
    expect([0, 1, 2].map((i) => sys.sim.peek(`status_ssd${i}_io_commands`) > 0)).toEqual([true, true, true]);
    expect(sys.sim.peek("status_unknown_requester_reads") + sys.sim.peek("status_unknown_requester_writes")).toBe(0);
    // Each SSD's media: lane LBA x of lane l holds array block (x / B x 4 + l) x B + x mod B, or nothing.
    const written = new Set<number>();
    for (let a = 0; a < 3 * B; a++) written.add(a);
    for (let a = 4 * B + 3; a < 6 * B + 3; a++) written.add(a);
    const models = [sys.ssds[0]!, sys.ssds[1]!, sys.ssds[3]!];
    models.forEach((ssd, lane) => {
      const ns = ssd.controller.namespace(1)!;
      for (let x = 0; x < 2 * B; x++) {
        const word = ns.read(x, 1);
        const v = new DataView(word.buffer, word.byteOffset, 8);
        const origin = recognisePatternWord(v.getUint32(0, true), v.getUint32(4, true), { lbaBytes: LBA_BYTES });
        const found = origin === null ? "foreign" : origin.kind === "zeroes" ? "zeroes" : origin.lba;
        const a = (Math.floor(x / B) * 4 + lane) * B + (x % B);
        expect({ lane, x, found }).toEqual({ lane, x, found: written.has(a) ? a : "zeroes" });
      }
    });
  }, 900_000);

  it("an SSD that goes fatal mid-run: the commands on it fail naming its lane, the others go on with their data", async () => {
    system?.close();
    // SSD B (lane 1) goes fatal (CSTS.CFS, nothing more executed) at its first I/O read.
    const failing: SystemTopology = { ssds: topology.ssds.map((entry, port) => (port === 1 && entry ? { ...entry, faults: [{ inject: "fatalOnCommand" as const, match: { sqid: 1, opcode: 0x02 }, count: 1 }] } : entry)) };
    const emitted = emitDesign(coreModule);
    const core: VerilogCore = { sources: emittedSources(emitted.files), top: coreModule.name };
    system = await buildSystem({ core, engine: "verilator", topology: failing, watch: [...STATUS_WATCH, "user_read_data_tvalid", "user_completion_valid"], visibility: "ports" });
    const sys = system;
    waitForArrayOutcome(sys, 3_000_000);
    expect(readArrayStatus(sys).ssds.map((s) => s.state)).toEqual(["READY", "READY", "READY"]);
    const capacityBlocks = 4 * Math.floor(Math.min(...CAPACITIES) / B) * B;
    const driver = new UserPortDriver(sys, { namespaces: [{ nsid: 1, lbaBytes: LBA_BYTES, capacityBlocks }], seed: 12, skipIdle: true });
    const run = (commands: UserCommand[], cycles: number) => {
      const records = driver.submit(commands);
      const limit = sys.cycle + cycles;
      // While a lane times out its command the driver only waits: the system runs those cycles alone.
      while (!driver.idle && sys.cycle < limit) driver.advance(limit);
      return records;
    };
    // Stripes 0..2 and 4..6 (lanes 0, 1, 2, 0, 1, 2) written and read back whole before the fault.
    run([
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 3 * B, pass: 1 },
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 4 * B, blockCount: 3 * B, pass: 2 },
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: B },
    ], 500_000);
    expect(driver.report().errors).toEqual([]);
    // The first read on lane 1 makes SSD B fatal; the reads on lanes 0 and 2 queued behind it go on.
    const any = { expect: "any" as const };
    const during = run([
      { opcode: UserOpcode.READ, nsid: 1, lba: B + 1, blockCount: 2, ...any }, // stripe 1: lane 1
      { opcode: UserOpcode.READ, nsid: 1, lba: 4 * B, blockCount: B }, // stripe 4: lane 0
      { opcode: UserOpcode.READ, nsid: 1, lba: 6 * B + 2, blockCount: B - 2 }, // stripe 6: lane 2
    ], 4_000_000);
    // Then: new commands touching lane 1 fail at once, the others are served.
    const after = run([
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 5 * B, blockCount: 1, pass: 3, ...any }, // stripe 5: lane 1
      { opcode: UserOpcode.READ, nsid: 1, lba: 2 * B, blockCount: 2 * B, ...any }, // stripes 2 (lane 2) and 3 (empty)
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 3 * B, ...any }, // stripes 0, 1, 2
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 4 * B, blockCount: B, pass: 4 }, // stripe 4: lane 0
      { opcode: UserOpcode.READ, nsid: 1, lba: 4 * B, blockCount: B }, // stripe 4, the new data
      { opcode: UserOpcode.READ, nsid: 1, lba: 6 * B, blockCount: B }, // stripe 6: lane 2
    ], 1_000_000);
    const report = driver.report();
    expect({ errors: report.errors, finished: report.finished }).toEqual({ errors: [], finished: true });
    expect(sys.ssds[1]!.faults.fired.fatalOnCommand).toBe(1);
    const outcome = (r: { errorClass: number; status: number }) => ({ error: USER_ERROR_CLASS_NAMES[r.errorClass], status: r.status });
    // The read at SSD B when it went fatal: its lane times out and the striper names lane 1.
    expect(outcome(during[0])).toEqual({ error: "MEMBER_FAILED", status: 1 });
    // Lane 1 refuses what comes after (its I/O engine stays faulted until a restart): named too.
    expect(outcome(after[0])).toEqual({ error: "MEMBER_FAILED", status: 1 });
    expect(outcome(after[2])).toEqual({ error: "MEMBER_FAILED", status: 1 });
    // The empty slot is found before anything is sent.
    expect(outcome(after[1])).toEqual({ error: "MEMBER_FAILED", status: 3 });
    expect(outcome(during[1])).toEqual({ error: "NONE", status: 0 });
    expect(outcome(during[2])).toEqual({ error: "NONE", status: 0 });
    expect(outcome(after[3])).toEqual({ error: "NONE", status: 0 });
    expect(outcome(after[4])).toEqual({ error: "NONE", status: 0 });
    expect(outcome(after[5])).toEqual({ error: "NONE", status: 0 });
  }, 900_000);
});
