// admin_engine, as emitted Verilog on both engines.
//
// The whole path first: the TLP layer, pcie_requester, the access arbiter, nvme_init, the admin
// engine and host_memory_router behind the link model, against the NVMe SSD model. After the test
// enumerates the SSD and nvme_init enables it, admin commands go through the command port: the SQ
// entry the SSD fetched must be exactly the command (checked byte for byte against the SQE table),
// the doorbells must land at the stride CAP.DSTRD gives, the answer must carry the SSD's status
// and DW0, and the Identify data the router hands out must be the bytes the SSD wrote. Several
// commands in a row wrap the 3-entry admin queue, so the phase tag inverts; an injected error
// status comes back as it was injected; a dropped completion comes back as timed_out, and the
// engine serves the next command.
//
// Then the engine alone with scripted ports (the access port, the SQ data requests, the CQ
// writes), for what the SSD model never does: entries split over TLPs or sharing one, entries
// with the wrong phase or in the wrong place, poisoned writes, a failing doorbell, reset_queues
// with a command in flight, reads of the SQ at every offset and length.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { AdminOpcode } from "../../../rtl-src/nvme/admin-command.ts";
import { ADMIN_CID_PREFIX, adminEngine } from "../../../rtl-src/nvme/admin-engine.ts";
import { readField } from "../../../rtl-src/nvme/nvme-field.ts";
import { CqeField } from "../../../rtl-src/nvme/nvme-cqe.ts";
import { doorbellOffset } from "../../../rtl-src/nvme/nvme-registers.ts";
import { AccessKind } from "../../../rtl-src/pcie/pcie-access.ts";
import { CompletionStatus, defaultTlpLayerParams } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { Status, statusField } from "../../../sim/nvme/status.ts";
import { encodeCompletionEntry, encodeSubmissionEntry, parseSubmissionEntry } from "../../../sim/nvme/submission-entry.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type AdminCommandFields, NvmeAdminRig } from "../../../sim/testbench/nvme-admin-rig.ts";
import { ADMIN_SYSTEM_TEST_PARAMS, buildNvmeAdminSystem } from "../../../sim/testbench/nvme-admin-system.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const SYSTEM = ADMIN_SYSTEM_TEST_PARAMS;
const ENTRIES = SYSTEM.adminQueueEntries;
const ADMIN_TIMEOUT = SYSTEM.adminTimeoutCycles;
const COMMAND_CYCLES = 20_000;
const INIT_CYCLES = 40_000;

const identifyController: AdminCommandFields = { opcode: AdminOpcode.identify, nsid: 0, prp1: HostMemoryMap.identifyController.base, cdw10: 1, cdw11: 0 };
const identifyNamespace: AdminCommandFields = { opcode: AdminOpcode.identify, nsid: 1, prp1: HostMemoryMap.identifyNamespace.base, cdw10: 0, cdw11: 0 };
/** Set Features, Number of Queues: 4 SQs and 6 CQs asked (zero-based); the model grants every pair it has. */
const numberOfQueues: AdminCommandFields = { opcode: AdminOpcode.setFeatures, nsid: 0, prp1: 0, cdw10: 0x07, cdw11: (5 << 16) | 3 };

/** The SQE the command must be, with the CID the engine gave it. */
function expectedEntry(c: AdminCommandFields, cid: number): Uint8Array {
  return encodeSubmissionEntry({
    opcode: c.opcode, fuse: 0, psdt: 0, cid, nsid: c.nsid, mptr: 0n, prp1: BigInt(c.prp1), prp2: 0n,
    cdw10: c.cdw10, cdw11: c.cdw11, cdw12: 0, cdw13: 0, cdw14: 0, cdw15: 0,
  });
}

/** DW0 of Set Features Number of Queues: NSQA and NCQA, zero-based (the model grants all its pairs). */
const grantedQueues = (rig: NvmeAdminRig) => (((rig.ssd.options.ioQueuePairs - 1) << 16) | (rig.ssd.options.ioQueuePairs - 1)) >>> 0;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe.each(engines)("admin_engine on the whole path, %s engine", (engine) => {
  let system: Simulator | undefined;
  const rigFor = async (ssd: ConstructorParameters<typeof NvmeAdminRig>[1], seed: number) => {
    system ??= await buildNvmeAdminSystem(SYSTEM, engine);
    const rig = new NvmeAdminRig(system, ssd, seededRandom(seed));
    rig.enumerate();
    expect(rig.init(INIT_CYCLES)).toMatchObject({ done: 1, error: 0 });
    return rig;
  };

  for (const dstrd of [0, 2]) {
    it(`runs admin commands in a row, wrapping the queue, doorbells at stride ${4 << dstrd} (DSTRD ${dstrd})`, async () => {
      const rig = await rigFor({ dstrd, serial: "ADMINPATH-SERIAL-042", model: `engine test model d${dstrd}`, ioQueuePairs: 9 + dstrd }, 10 + dstrd);
      const commands = [identifyController, identifyNamespace, numberOfQueues, identifyController, identifyNamespace, numberOfQueues, identifyController];
      const answers = commands.map((c) => rig.command(c, COMMAND_CYCLES));
      for (const [i, a] of answers.entries()) expect(a, `command ${i}`).toMatchObject({ status: 0, timedOut: 0, pcieError: 0 });
      // Set Features Number of Queues answers NSQA/NCQA (zero-based) in DW0.
      expect(answers[2].dw0).toBe(grantedQueues(rig));
      expect(answers[5].dw0).toBe(grantedQueues(rig));

      // The SSD fetched each command exactly as given, one entry per command, at the tail slot.
      const fetched = rig.fetchedEntries();
      expect(fetched).toHaveLength(commands.length);
      const cids = fetched.map((f) => parseSubmissionEntry(f.bytes).cid);
      fetched.forEach((f, i) => {
        expect(f.address, `command ${i} slot`).toBe(HostMemoryMap.adminSq.base + 64 * (i % ENTRIES));
        expect(cids[i] >> 8, `command ${i} CID prefix`).toBe(ADMIN_CID_PREFIX);
        expect(hex(f.bytes), `command ${i} entry`).toBe(hex(expectedEntry(commands[i], cids[i])));
      });
      expect(cids.slice(1).map((cid, i) => (cid - cids[i]) & 0xff)).toEqual(commands.slice(1).map(() => 1));

      // Doorbells: the last one is posted when the answer comes; let it cross the link.
      rig.step(500);
      // SQ 0 tail at 0x1000, CQ 0 head at 0x1000 + (4 << DSTRD), alternating, values wrapping at 3.
      const doorbells = rig.registerWrites().filter((w) => w.offset >= 0x1000);
      const sq = doorbellOffset(0, "sqTail", dstrd);
      const cq = doorbellOffset(0, "cqHead", dstrd);
      expect(doorbells).toEqual(commands.flatMap((_, i) => [{ offset: sq, value: (i + 1) % ENTRIES }, { offset: cq, value: (i + 1) % ENTRIES }]));
      expect(rig.ssd.controller.stats.doorbellErrors).toBe(0);
      expect(rig.ssd.log.count("doorbell-invalid")).toBe(0);
      expect({ tail: rig.sim.peek("engine_sq_tail"), head: rig.sim.peek("engine_cq_head"), phase: rig.sim.peek("engine_cq_phase") })
        .toEqual({ tail: commands.length % ENTRIES, head: commands.length % ENTRIES, phase: Math.floor(commands.length / ENTRIES) % 2 === 0 ? 1 : 0 });

      // The Identify data out of the router is what the SSD wrote, all 4 KiB of each page.
      for (const region of [HostMemoryMap.identifyController, HostMemoryMap.identifyNamespace]) {
        const written = rig.ssdWrites(region.base, region.bytes);
        expect(written.size).toBe(4096);
        const handedOut = [...written.keys()].map((a) => rig.identifyBytes.get(a));
        expect(handedOut).toEqual([...written.values()]);
      }
      const id = Uint8Array.from({ length: 4096 }, (_, i) => rig.identifyBytes.get(HostMemoryMap.identifyController.base + i)!);
      expect(Buffer.from(id.subarray(4, 24)).toString("latin1").trimEnd()).toBe("ADMINPATH-SERIAL-042");
      expect(Buffer.from(id.subarray(24, 64)).toString("latin1").trimEnd()).toBe(`engine test model d${dstrd}`);
      expect({
        stray: rig.sim.peek("engine_stray_entries"),
        misplaced: rig.sim.peek("engine_misplaced_entries"),
        poisoned: rig.sim.peek("engine_poisoned_writes"),
        unmappedReads: rig.sim.peek("unmapped_reads"),
        unmappedWrites: rig.sim.peek("unmapped_writes"),
      }).toEqual({ stray: 0, misplaced: 0, poisoned: 0, unmappedReads: 0, unmappedWrites: 0 });
    });
  }

  it("answers an injected error status as the SSD reported it, then succeeds again", async () => {
    const rig = await rigFor({}, 21);
    rig.ssd.faults.injectStatus({ sqid: 0, opcode: AdminOpcode.identify }, Status.invalidField);
    const failed = rig.command(identifyController, COMMAND_CYCLES);
    expect(failed).toMatchObject({ status: statusField(Status.invalidField), timedOut: 0, pcieError: 0 });
    expect(failed.status).not.toBe(0);
    rig.ssd.faults.injectStatus({ sqid: 0, opcode: AdminOpcode.setFeatures }, { sct: 1, sc: 0x0e, dnr: false });
    expect(rig.command(numberOfQueues, COMMAND_CYCLES)).toMatchObject({ status: statusField({ sct: 1, sc: 0x0e, dnr: false }), dw0: 0 });
    expect(rig.command(identifyNamespace, COMMAND_CYCLES)).toMatchObject({ status: 0, timedOut: 0 });
    expect(rig.ssd.faults.fired.status).toBe(2);
  });

  it("answers timed_out when the completion never comes, and serves the next command", async () => {
    const rig = await rigFor({ ioQueuePairs: 5 }, 22);
    rig.ssd.faults.dropCompletion({ sqid: 0, opcode: AdminOpcode.identify });
    const lost = rig.command(identifyController, ADMIN_TIMEOUT + COMMAND_CYCLES);
    expect(lost).toMatchObject({ timedOut: 1, pcieError: 0, status: 0 });
    expect(lost.cycles).toBeGreaterThanOrEqual(ADMIN_TIMEOUT);
    expect(lost.cycles).toBeLessThan(ADMIN_TIMEOUT + 2000);
    expect(rig.ssd.faults.fired.droppedCompletion).toBe(1);
    const next = rig.command(numberOfQueues, COMMAND_CYCLES);
    expect(next).toMatchObject({ status: 0, timedOut: 0, dw0: grantedQueues(rig) });
    expect(rig.sim.peek("engine_stray_entries")).toBe(0);
  });
});
