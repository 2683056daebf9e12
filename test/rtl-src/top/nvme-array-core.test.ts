// nvme_array_core (four lanes) in the full system behind the switch model (sim/system/topology.ts),
// on Verilator (the js engine takes minutes to build and run four lanes; Verilator builds the array
// once into .cache/ and brings it up in about a second): three SSDs of different capacities, LBA sizes and speeds and an empty port; the
// third SSD goes fatal (CSTS.CFS) when enabled. Checked against the models: the array is READY with
// the two healthy SSDs READY on their own lanes (BDF = the model's requester ID, BAR0 = the model's,
// its own admin and I/O queues, Identify fields and capacity as the model was configured), the
// failing one FAILED with nvme_init's CONTROLLER_FATAL and the others untouched by it; the switch's
// windows and buses and the tree's MPS everywhere (what the one-SSD core's switch variant was
// checked for, before the array core replaced it); then a verified write/read on two lanes at once, the data distinct per block and
// per lane (a pattern pass per lane), every read checked and each SSD's media holding its own lane's
// data, and no access of an unknown requester.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { barWindowFor } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { nvmeArrayCore, simulationArrayCoreParams } from "../../../rtl-src/top/nvme-array-core.ts";
import { UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { verilatorAvailable } from "../../../sim/engine/index.ts";
import { readArrayStatus, waitForArrayOutcome } from "../../../sim/system/array-status.ts";
import { STATUS_WATCH } from "../../../sim/system/bringup.ts";
import { type FullSystem, type VerilogCore, buildSystem } from "../../../sim/system/full-system.ts";
import type { SystemTopology } from "../../../sim/system/topology.ts";
import type { UserCommand } from "../../../sim/testbench/user-command.ts";
import { type UserPortSystem, UserPortDriver } from "../../../sim/testbench/user-port-driver.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const params = simulationArrayCoreParams;
const coreModule = nvmeArrayCore(params);
const emitted = emitDesign(coreModule);
const core: VerilogCore = { sources: emittedSources(emitted.files), top: coreModule.name };
const MIB = 1 << 20;
const WINDOW = barWindowFor(params.array.maxSsds);

/** Port 0: a fast SSD, 512 B blocks; port 1 empty; port 2: a consumer SSD, 4 KiB blocks, MPS 256; port 3: fatal on enable. */
const topology: SystemTopology = {
  ssds: [
    { ssd: { serial: "ARRAY-A", timing: "fastSsd", namespaces: [{ lbaSize: 512, capacityBlocks: 1 << 20 }] } },
    null,
    { ssd: { serial: "ARRAY-B", timing: "consumerSsd", maxPayloadSupported: 256, namespaces: [{ lbaSize: 4096, capacityBlocks: 3 << 16 }] } },
    { ssd: { serial: "ARRAY-C" }, faults: [{ inject: "fatalOnEnable", count: 1 }] },
  ],
};

describe("nvme_array_core structure", () => {
  it("is named by its lanes; no output follows an input in the same cycle; maxSsds outside 1..4 is refused", () => {
    expect(coreModule.name).toMatch(/^nvme_array_core_n4p4_/);
    const { design } = emitted;
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    expect(() => nvmeArrayCore({ ...params, array: { ...params.array, maxSsds: 5 } })).toThrow(/array.maxSsds 5/);
  });
});

describe.skipIf(!verilatorAvailable())("nvme_array_core, four lanes behind the switch (verilator)", () => {
  let system: FullSystem | undefined;
  afterAll(() => system?.close());

  it("brings every healthy SSD up on its own lane; the one that goes fatal fails alone", async () => {
    system = await buildSystem({ core, engine: "verilator", topology, watch: [...STATUS_WATCH], visibility: "ports" });
    waitForArrayOutcome(system, 3_000_000);
    const status = readArrayStatus(system);
    expect({ state: status.state, error: status.error, switch: status.switch_found, ssds: status.ssd_count, mps: status.link.mps }).toEqual({ state: "ready", error: null, switch: true, ssds: 3, mps: 256 });
    const [a, , b, c] = system.ssds;
    const models = [a!, b!, c!];
    expect(status.ssds.map((s) => s.state)).toEqual(["READY", "READY", "FAILED"]);
    // Each lane's SSD: its BDF is the model's requester ID, its BAR0 the model's, its port the switch's.
    status.ssds.forEach((s, i) => {
      const id = models[i].requesterId;
      expect({ slot: i, bdf: s.bdf, bar0: s.bar0 }).toEqual({
        slot: i,
        bdf: `${(id >> 8).toString(16).padStart(2, "0")}:${((id >> 3) & 31).toString(16).padStart(2, "0")}.${id & 7}`,
        bar0: Number(models[i].config.bar0Base),
      });
    });
    expect(status.ssds.map((s) => s.bar0)).toEqual([WINDOW.base, WINDOW.base + MIB, WINDOW.base + 2 * MIB]);
    expect(new Set(status.ssds.map((s) => s.port)).size).toBe(3);
    expect(status.ssds[0].path).toMatch(/^root port 00:00\.0 -> 01:00\.0 -> 02:..\.0 -> /);
    // What each READY lane found is what its model was configured with.
    const found = (i: number) => ({ sn: status.ssds[i].ctrl.sn, lba: status.ssds[i].lba_bytes, blocks: status.ssds[i].capacity_blocks, nsze: status.ssds[i].ns.nsze });
    expect(found(0)).toEqual({ sn: "ARRAY-A", lba: 512, blocks: 1 << 20, nsze: 1 << 20 });
    expect(found(1)).toEqual({ sn: "ARRAY-B", lba: 4096, blocks: 3 << 16, nsze: 3 << 16 });
    for (const i of [0, 1]) {
      expect(models[i].controller.regs.ready).toBe(true);
      expect(models[i].controller.ioQueuesCreated).toBe(true);
      expect(status.ssds[i].nvme.io_queue_entries).toBeGreaterThan(1);
    }
    // The fatal SSD: FAILED in NVME_ENABLE with nvme_init's cause, never READY, no I/O queues.
    expect(status.ssds[2].error).toMatchObject({ step: expect.stringMatching(/^NVME_ENABLE\//), code: "CONTROLLER_FATAL" });
    expect(models[2].controller.regs.ready).toBe(false);
    expect(models[2].controller.ioQueuesCreated).toBe(false);
    // The switch: buses below the upstream port, one window over the three SSDs' BARs, a MiB per
    // port with an SSD; the tree's MPS (SSD B's 256) on the root port and every SSD.
    const sw = system.switch!;
    expect([sw.upstream.secondaryBus, sw.upstream.subordinateBus]).toEqual([2, 2 + params.array.maxDownstreamPorts]);
    expect(sw.upstream.memoryWindow).toEqual({ base: BigInt(WINDOW.base), limit: BigInt(WINDOW.base + 3 * MIB - 1) });
    status.ssds.forEach((s, i) => expect(sw.ports[s.port].config.memoryWindow).toEqual({ base: BigInt(WINDOW.base + i * MIB), limit: BigInt(WINDOW.base + (i + 1) * MIB - 1) }));
    expect(system.link.config.maxPayloadSize).toBe(256);
    expect(models.map((ssd) => [ssd.config.maxPayloadBytes, ssd.config.busMasterEnabled])).toEqual([[256, true], [256, true], [256, true]]);
    expect(status.unknown_requester).toEqual({ reads: 0, writes: 0 });
  }, 600_000); // a cold Verilator build of four lanes takes minutes (then .cache/ has it)

  it("writes and reads back on two lanes at once, each SSD holding its own lane's data", () => {
    const sys = system!;
    const lanes = [0, 1].map((i) => {
      const lbaBytes = sys.sim.peek(`status_ssd${i}_lba_bytes`);
      const capacityBlocks = Number(sys.sim.peekBig(`status_ssd${i}_capacity_blocks`));
      return { i, lbaBytes, capacityBlocks };
    });
    // Driver 0 drives and samples without stepping; driver 1 steps the system once for both.
    const still: UserPortSystem = { sim: sys.sim, get cycle() { return sys.cycle; }, step: () => {} };
    const drivers = lanes.map((lane) => new UserPortDriver(lane.i === 0 ? still : sys, { namespaces: [{ nsid: 1, lbaBytes: lane.lbaBytes, capacityBlocks: lane.capacityBlocks }], prefix: `user${lane.i}`, seed: 7 + lane.i }));
    // The same LBAs on both lanes, a pattern pass per lane: data distinct per block and per lane.
    const commandsFor = (lane: number): UserCommand[] => {
      const pass = 1 + lane;
      const blocks = lane === 0 ? 16 : 2;
      return [
        { opcode: UserOpcode.WRITE, nsid: 1, lba: 8, blockCount: blocks, pass },
        { opcode: UserOpcode.WRITE, nsid: 1, lba: 40, blockCount: blocks, pass },
        { opcode: UserOpcode.READ, nsid: 1, lba: 8, blockCount: blocks },
        { opcode: UserOpcode.READ, nsid: 1, lba: 40, blockCount: blocks },
      ];
    };
    drivers.forEach((d, lane) => d.submit(commandsFor(lane)));
    const limit = sys.cycle + 400_000;
    while (drivers.some((d) => !d.idle) && sys.cycle < limit) {
      drivers[0].tick();
      drivers[1].tick();
    }
    const reports = drivers.map((d) => d.report());
    reports.forEach((r) => expect({ errors: r.errors, completed: r.completed }).toEqual({ errors: [], completed: 4 }));
    // Each lane counted its own four commands.
    expect(sys.sim.peek("status_ssd0_io_commands")).toBe(4);
    expect(sys.sim.peek("status_ssd1_io_commands")).toBe(4);
    // Each model's media holds its own lane's pass: block 8 of SSD A differs from block 8 of SSD B.
    const [a, , b] = sys.ssds;
    const blockOf = (ssd: NonNullable<typeof a>, lba: number, bytes: number) => Buffer.from(ssd.controller.namespace(1)!.read(lba, 1)).subarray(0, Math.min(bytes, 64));
    expect(blockOf(a!, 8, 512).equals(blockOf(b!, 8, 4096))).toBe(false);
    expect(sys.sim.peek("status_unknown_requester_reads") + sys.sim.peek("status_unknown_requester_writes")).toBe(0);
  });
});
