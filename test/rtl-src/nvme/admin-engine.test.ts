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
// with a command in flight, reads of the SQ at every offset and length; and an engine whose Format
// NVM has a timeout of its own: a Format NVM waits that long, any other command the admin timeout.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { AdminOpcode } from "../../../rtl-src/nvme/admin-command.ts";
import { ADMIN_CID_PREFIX, adminEngine } from "../../../rtl-src/nvme/admin-engine.ts";
import { doorbellOffset } from "../../../rtl-src/nvme/nvme-registers.ts";
import { AccessKind } from "../../../rtl-src/pcie/pcie-access.ts";
import { CompletionStatus } from "../../../rtl-src/tlp/tlp-interfaces.ts";
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

// ---- alone, with scripted ports ----

const UNIT = { adminQueueEntries: 4, adminTimeoutCycles: 600 };
const BAR0 = 0xe000_0000;
const SQ_BASE = HostMemoryMap.adminSq.base;
const CQ_BASE = HostMemoryMap.adminCq.base;

interface CqWrite {
  /** DW index in the CQ region of the first DW. */
  dw: number;
  dws: number[];
  poisoned?: boolean;
}

/** The little-endian DWs of a completion entry. */
function cqeDws(e: { dw0: number; cid: number; phase: number; status?: number; sqHead?: number }): number[] {
  const bytes = encodeCompletionEntry({ dw0: e.dw0, sqHead: e.sqHead ?? 0, sqid: 0, cid: e.cid, phase: e.phase, status: { sct: 0, sc: 0, dnr: false } });
  const view = Buffer.from(bytes);
  const dws = [0, 1, 2, 3].map((i) => view.readUInt32LE(4 * i));
  if (e.status !== undefined) dws[3] = ((dws[3] & 0x1ffff) | (e.status << 17)) >>> 0;
  return dws;
}

/** Plays every port of admin_engine: the access port (doorbells), SQ reads, CQ writes, the command port. */
class EngineBench {
  readonly doorbells: { address: number; value: number }[] = [];
  /** Answer the next doorbells with these statuses (UR, ...) instead of SC. */
  readonly failDoorbells: number[] = [];
  private answer: { at: number; status: number } | undefined;
  private cycle = 0;
  private readonly cqQueue: CqWrite[] = [];
  private cqCurrent: { write: CqWrite; headerSent: boolean; at: number } | undefined;
  private sqReads: { address: number; length: number }[] = [];
  private sqRequestOffered = false;
  readonly sqAnswers: number[][] = [];
  private sqCollect: number[] = [];
  private readonly words = new Uint32Array(2);

  constructor(readonly sim: Simulator, private readonly random: () => number) {
    sim.reset(2);
    for (const name of ["command_valid", "completion_ready", "access_request_ready", "access_response_valid", "sq_request_valid", "sq_response_tready", "cq_write_valid", "cq_write_data_tvalid", "reset_queues"]) sim.poke(name, 0);
    sim.poke("bar0_address", BAR0);
    sim.poke("dstrd", 0);
  }

  step(cycles = 1): void {
    for (let n = 0; n < cycles; n++) {
      this.accessPort();
      this.sqPort();
      this.cqPort();
      this.sim.step();
      this.cycle++;
    }
  }

  until(done: () => boolean, max: number, what: string): number {
    for (let n = 0; n < max; n++) {
      if (done()) return n;
      this.step();
    }
    throw new Error(`${what} not reached within ${max} cycles`);
  }

  submit(c: AdminCommandFields): void {
    const { sim } = this;
    for (const [field, value] of Object.entries(c)) sim.poke(`command_${field}`, value >>> 0);
    sim.poke("command_valid", 1);
    this.until(() => sim.peek("command_ready") === 1, 100, "command taken");
    this.step();
    sim.poke("command_valid", 0);
  }

  /** Waits for the answer and takes it. */
  answered(max = 2000): { status: number; dw0: number; timedOut: number; pcieError: number } {
    const { sim } = this;
    this.until(() => sim.peek("completion_valid") === 1, max, "answer");
    const a = { status: sim.peek("completion_status"), dw0: sim.peek("completion_dw0") >>> 0, timedOut: sim.peek("completion_timed_out"), pcieError: sim.peek("completion_pcie_error") };
    sim.poke("completion_ready", 1);
    this.step();
    sim.poke("completion_ready", 0);
    return a;
  }

  /** The SQ doorbell of the command just submitted; returns its slot (the doorbell value - 1). */
  sqDoorbell(): number {
    const before = this.doorbells.length;
    this.until(() => this.doorbells.length > before, 200, "SQ doorbell");
    const db = this.doorbells[before];
    expect(db.address).toBe(BAR0 + 0x1000);
    return (db.value + UNIT.adminQueueEntries - 1) % UNIT.adminQueueEntries;
  }

  readSq(address: number, length: number): number[] {
    this.sqReads.push({ address, length });
    const before = this.sqAnswers.length;
    this.until(() => this.sqAnswers.length > before, 400, "SQ read answered");
    return this.sqAnswers[before];
  }

  writeCq(...writes: CqWrite[]): void {
    this.cqQueue.push(...writes);
    this.until(() => this.cqQueue.length === 0 && this.cqCurrent === undefined, 400, "CQ writes sent");
  }

  private accessPort(): void {
    const { sim } = this;
    const ready = this.answer === undefined && this.random() < 0.6;
    sim.poke("access_request_ready", ready ? 1 : 0);
    if (ready && sim.peek("access_request_valid")) {
      expect(sim.peek("access_request_kind")).toBe(AccessKind.MEM_WRITE);
      expect(sim.peek("access_request_byte_en")).toBe(0xf);
      this.doorbells.push({ address: sim.peek("access_request_address") >>> 0, value: sim.peek("access_request_data") >>> 0 });
      this.answer = { at: this.cycle + 1 + Math.floor(this.random() * 4), status: this.failDoorbells.shift() ?? CompletionStatus.SC };
    }
    const offered = this.answer !== undefined && this.cycle >= this.answer.at;
    sim.poke("access_response_valid", offered ? 1 : 0);
    if (offered) {
      sim.poke("access_response_status", this.answer!.status);
      sim.poke("access_response_data", 0);
      sim.poke("access_response_timed_out", 0);
      sim.poke("access_response_poisoned", 0);
      if (sim.peek("access_response_ready")) this.answer = undefined;
    }
  }

  private sqPort(): void {
    const { sim } = this;
    const next = this.sqReads[0];
    this.sqRequestOffered = next !== undefined && (this.sqRequestOffered || this.random() < 0.5);
    sim.poke("sq_request_valid", this.sqRequestOffered ? 1 : 0);
    if (this.sqRequestOffered) {
      sim.poke("sq_request_address", BigInt(next.address));
      sim.poke("sq_request_length_dw", next.length);
      if (sim.peek("sq_request_ready")) {
        this.sqReads.shift();
        this.sqRequestOffered = false;
      }
    }
    const ready = this.random() < 0.6;
    sim.poke("sq_response_tready", ready ? 1 : 0);
    if (ready && sim.peek("sq_response_tvalid")) {
      sim.peekWords("sq_response_tdata", this.words);
      const keep = sim.peek("sq_response_tkeep");
      this.sqCollect.push(this.words[0] >>> 0);
      if (keep === 0xff) this.sqCollect.push(this.words[1] >>> 0);
      else expect(keep).toBe(0x0f);
      if (sim.peek("sq_response_tlast")) {
        this.sqAnswers.push(this.sqCollect);
        this.sqCollect = [];
      }
    }
  }

  private cqPort(): void {
    const { sim } = this;
    if (!this.cqCurrent && this.cqQueue.length > 0) this.cqCurrent = { write: this.cqQueue.shift()!, headerSent: false, at: 0 };
    const c = this.cqCurrent;
    sim.poke("cq_write_valid", c && !c.headerSent ? 1 : 0);
    sim.poke("cq_write_data_tvalid", 0);
    if (!c) return;
    if (!c.headerSent) {
      sim.poke("cq_write_address", BigInt(CQ_BASE + 4 * c.write.dw));
      sim.poke("cq_write_length_dw", c.write.dws.length);
      sim.poke("cq_write_first_be", 0xf);
      sim.poke("cq_write_last_be", c.write.dws.length > 1 ? 0xf : 0);
      sim.poke("cq_write_poisoned", c.write.poisoned ? 1 : 0);
      if (sim.peek("cq_write_ready")) c.headerSent = true;
      return;
    }
    const left = c.write.dws.length - c.at;
    this.words[0] = c.write.dws[c.at];
    this.words[1] = left > 1 ? c.write.dws[c.at + 1] : 0;
    sim.pokeWords("cq_write_data_tdata", this.words);
    sim.poke("cq_write_data_tkeep", left > 1 ? 0xff : 0x0f);
    sim.poke("cq_write_data_tlast", left <= 2 ? 1 : 0);
    sim.poke("cq_write_data_tvalid", 1);
    if (sim.peek("cq_write_data_tready")) {
      c.at += 2;
      if (c.at >= c.write.dws.length) this.cqCurrent = undefined;
    }
  }
}

describe.each(engines)("admin_engine alone with scripted ports, %s engine", (engine) => {
  let sim: Simulator | undefined;
  const bench = async (seed: number) => {
    if (!sim) {
      const { files, design } = emitDesign(adminEngine(UNIT));
      sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
    }
    return new EngineBench(sim, seededRandom(seed));
  };
  const random = seededRandom(99);
  const randomCommand = (): AdminCommandFields => ({
    opcode: Math.floor(random() * 256), nsid: Math.floor(random() * 2 ** 32), prp1: Math.floor(random() * 2 ** 20) * 4096,
    cdw10: Math.floor(random() * 2 ** 32), cdw11: Math.floor(random() * 2 ** 32),
  });
  const cidOf = (entryDws: number[]) => entryDws[0] >>> 16;

  it("serves the held command's entry at its slot and zeros everywhere else, for reads of any offset and length", async () => {
    const b = await bench(1);
    for (let round = 0; round < 3; round++) {
      const c = randomCommand();
      b.submit(c);
      const slot = b.sqDoorbell();
      expect(slot).toBe(round);
      const entry = b.readSq(SQ_BASE + 64 * slot, 16);
      const cid = cidOf(entry);
      expect(cid >> 8).toBe(ADMIN_CID_PREFIX);
      const expected = Buffer.from(expectedEntry(c, cid));
      expect(entry).toEqual([...Array(16).keys()].map((i) => expected.readUInt32LE(4 * i)));
      // The whole region as the SSD might read it: random offsets and lengths, within 4 KiB.
      const image = new Array(1024).fill(0);
      entry.forEach((dw, i) => (image[16 * slot + i] = dw));
      for (let n = 0; n < 12; n++) {
        const first = n === 0 ? 16 * slot - 3 : Math.floor(random() * 1024);
        const length = 1 + Math.floor(random() * Math.min(40, 1024 - Math.max(first, 0)));
        const start = Math.max(first, 0);
        expect(b.readSq(SQ_BASE + 4 * start, length), `read of ${length} DWs at DW ${start}`).toEqual(image.slice(start, start + length));
      }
      b.writeCq({ dw: 4 * round, dws: cqeDws({ dw0: 0x1234_0000 + round, cid, phase: 1 }) });
      expect(b.answered()).toEqual({ status: 0, dw0: 0x1234_0000 + round, timedOut: 0, pcieError: 0 });
      // Answered: the slot reads zeros again.
      expect(b.readSq(SQ_BASE + 64 * slot, 16)).toEqual(new Array(16).fill(0));
    }
  });

  it("parses entries split over TLPs and sharing one; ignores poisoned writes, stale phases and entries away from the head", async () => {
    const b = await bench(2);
    const s = b.sim;
    b.submit(randomCommand());
    b.sqDoorbell();
    const cid = cidOf(b.readSq(SQ_BASE, 16));
    const real = cqeDws({ dw0: 0xaaaa_0001, cid, phase: 1, status: 0x1234 });
    // Poisoned, stale phase (0), and the right phase one slot ahead: none completes the command.
    b.writeCq({ dw: 0, dws: real, poisoned: true });
    b.writeCq({ dw: 0, dws: cqeDws({ dw0: 1, cid, phase: 0 }) });
    b.writeCq({ dw: 4, dws: cqeDws({ dw0: 2, cid, phase: 1 }) });
    b.step(30);
    expect(s.peek("completion_valid")).toBe(0);
    expect({ poisoned: s.peek("poisoned_writes"), misplaced: s.peek("misplaced_entries"), stray: s.peek("stray_entries"), head: s.peek("cq_head") })
      .toEqual({ poisoned: 1, misplaced: 1, stray: 0, head: 0 });
    // The entry in three TLPs: DW0; DW1..DW2; DW3 alone (lanes a and b both carry DW3 somewhere).
    b.writeCq({ dw: 0, dws: real.slice(0, 1) }, { dw: 1, dws: real.slice(1, 3) }, { dw: 3, dws: real.slice(3) });
    expect(b.answered()).toEqual({ status: 0x1234, dw0: 0xaaaa_0001, timedOut: 0, pcieError: 0 });
    expect(b.doorbells.at(-1)).toEqual({ address: BAR0 + 0x1004, value: 1 });

    // Two entries in one TLP starting at an odd DW (DW1 of slot 1): a stray at the head, then the command's.
    b.submit(randomCommand());
    b.sqDoorbell();
    const cid2 = cidOf(b.readSq(SQ_BASE + 64, 16));
    const stray = cqeDws({ dw0: 0x5555_5555, cid: cid2 ^ 0x40, phase: 1 });
    const mine = cqeDws({ dw0: 0xbbbb_0002, cid: cid2, phase: 1 });
    b.writeCq({ dw: 4, dws: stray.slice(0, 1) }, { dw: 5, dws: [...stray.slice(1), ...mine] });
    expect(b.answered()).toEqual({ status: 0, dw0: 0xbbbb_0002, timedOut: 0, pcieError: 0 });
    expect({ stray: s.peek("stray_entries"), head: s.peek("cq_head") }).toEqual({ stray: 1, head: 3 });
    expect(b.doorbells.at(-1)).toEqual({ address: BAR0 + 0x1004, value: 3 });
  });

  it("inverts the phase at each wrap of the 4-entry queue", async () => {
    const b = await bench(3);
    for (let n = 0; n < 10; n++) {
      b.submit(randomCommand());
      const slot = b.sqDoorbell();
      expect(slot).toBe(n % 4);
      const cid = cidOf(b.readSq(SQ_BASE + 64 * slot, 16));
      const phase = Math.floor(n / 4) % 2 === 0 ? 1 : 0;
      // The previous pass's entry is still there with the other phase: rewriting it changes nothing.
      if (n >= 4) b.writeCq({ dw: 4 * slot, dws: cqeDws({ dw0: 7, cid, phase: phase ^ 1 }) });
      b.writeCq({ dw: 4 * slot, dws: cqeDws({ dw0: n, cid, phase }) });
      expect(b.answered().dw0, `command ${n}`).toBe(n);
      expect(b.doorbells.at(-1)).toEqual({ address: BAR0 + 0x1004, value: (n + 1) % 4 });
      expect(b.sim.peek("cq_phase")).toBe(Math.floor((n + 1) / 4) % 2 === 0 ? 1 : 0);
    }
    expect(b.sim.peek("stray_entries") + b.sim.peek("misplaced_entries")).toBe(0);
  });

  it("answers timed_out after the timeout; the late completion is a stray; reset_queues abandons a waiting command", async () => {
    const b = await bench(4);
    const s = b.sim;
    b.submit(randomCommand());
    b.sqDoorbell();
    const start = b.doorbells.length;
    const cid = cidOf(b.readSq(SQ_BASE, 16));
    const t0 = s.cycle;
    const lost = b.answered(2 * UNIT.adminTimeoutCycles);
    expect(lost).toEqual({ status: 0, dw0: 0, timedOut: 1, pcieError: 0 });
    expect(s.cycle - t0).toBeGreaterThanOrEqual(UNIT.adminTimeoutCycles - 20);
    expect(b.doorbells.length).toBe(start);
    b.writeCq({ dw: 0, dws: cqeDws({ dw0: 9, cid, phase: 1 }) });
    b.step(10);
    expect({ stray: s.peek("stray_entries"), head: s.peek("cq_head"), valid: s.peek("completion_valid") }).toEqual({ stray: 1, head: 1, valid: 0 });
    // The next command still works (slot 1).
    b.submit(randomCommand());
    expect(b.sqDoorbell()).toBe(1);
    b.writeCq({ dw: 4, dws: cqeDws({ dw0: 10, cid: cidOf(b.readSq(SQ_BASE + 64, 16)), phase: 1 }) });
    expect(b.answered()).toMatchObject({ dw0: 10, timedOut: 0 });
    // reset_queues while a command waits: answered timed_out at once, pointers back to the start.
    b.submit(randomCommand());
    b.sqDoorbell();
    b.step(5);
    s.poke("reset_queues", 1);
    b.step();
    s.poke("reset_queues", 0);
    expect(b.answered(5)).toMatchObject({ timedOut: 1 });
    expect({ tail: s.peek("sq_tail"), head: s.peek("cq_head"), phase: s.peek("cq_phase") }).toEqual({ tail: 0, head: 0, phase: 1 });
    b.submit(randomCommand());
    expect(b.sqDoorbell()).toBe(0);
    b.writeCq({ dw: 0, dws: cqeDws({ dw0: 11, cid: cidOf(b.readSq(SQ_BASE, 16)), phase: 1 }) });
    expect(b.answered()).toMatchObject({ dw0: 11, timedOut: 0 });
  });

  it("waits formatTimeoutCycles for a Format NVM's completion and adminTimeoutCycles for any other command's", async () => {
    const params = { ...UNIT, formatTimeoutCycles: 3 * UNIT.adminTimeoutCycles };
    const module = adminEngine(params);
    expect(module.name).toBe(`admin_engine_q4_t${UNIT.adminTimeoutCycles}_f${params.formatTimeoutCycles}`);
    const { files, design } = emitDesign(module);
    const own = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
    try {
      const b = new EngineBench(own, seededRandom(12));
      const lost = (opcode: number) => {
        b.submit({ ...randomCommand(), opcode });
        b.sqDoorbell();
        const t0 = own.cycle;
        expect(b.answered(4 * params.formatTimeoutCycles)).toMatchObject({ timedOut: 1 });
        return own.cycle - t0;
      };
      for (const opcode of [AdminOpcode.formatNvm, AdminOpcode.sanitize, AdminOpcode.identify, AdminOpcode.formatNvm]) {
        const waited = lost(opcode);
        const timeout = opcode === AdminOpcode.formatNvm ? params.formatTimeoutCycles : params.adminTimeoutCycles;
        expect(waited, `opcode 0x${opcode.toString(16)}`).toBeGreaterThanOrEqual(timeout - 20);
        expect(waited, `opcode 0x${opcode.toString(16)}`).toBeLessThanOrEqual(timeout + 20);
      }
      // A Format NVM that completes in time is answered with its status.
      b.submit({ ...randomCommand(), opcode: AdminOpcode.formatNvm });
      b.sqDoorbell();
      b.step(2 * params.adminTimeoutCycles);
      const slot = own.peek("sq_tail") === 0 ? UNIT.adminQueueEntries - 1 : own.peek("sq_tail") - 1;
      b.writeCq({ dw: 4 * (own.peek("cq_head")), dws: cqeDws({ dw0: 5, cid: cidOf(b.readSq(SQ_BASE + 64 * slot, 16)), phase: own.peek("cq_phase") }) });
      expect(b.answered()).toMatchObject({ dw0: 5, timedOut: 0 });
    } finally {
      own.close();
    }
    expect(() => adminEngine({ ...UNIT, formatTimeoutCycles: 0 })).toThrow(/formatTimeoutCycles 0/);
  });

  it("answers pcie_error when a doorbell write fails; a failed SQ doorbell leaves the tail", async () => {
    const b = await bench(5);
    b.failDoorbells.push(CompletionStatus.UR);
    b.submit(randomCommand());
    expect(b.answered()).toEqual({ status: 0, dw0: 0, timedOut: 0, pcieError: 1 });
    expect(b.sim.peek("sq_tail")).toBe(0);
    b.submit(randomCommand());
    expect(b.sqDoorbell()).toBe(0);
    const cid = cidOf(b.readSq(SQ_BASE, 16));
    b.failDoorbells.push(CompletionStatus.CA);
    b.writeCq({ dw: 0, dws: cqeDws({ dw0: 3, cid, phase: 1, status: 0x0102 }) });
    expect(b.answered()).toEqual({ status: 0x0102, dw0: 3, timedOut: 0, pcieError: 1 });
  });

  it("rings the CQ head doorbell at 0x1000 + (4 << DSTRD) for every stride", async () => {
    const b = await bench(6);
    for (const [n, dstrd] of [0, 1, 2, 7, 10, 15].entries()) {
      b.sim.poke("dstrd", dstrd);
      b.submit(randomCommand());
      const slot = b.sqDoorbell();
      b.writeCq({ dw: 4 * slot, dws: cqeDws({ dw0: n, cid: cidOf(b.readSq(SQ_BASE + 64 * slot, 16)), phase: n < 4 ? 1 : 0 }) });
      expect(b.answered().dw0).toBe(n);
      expect(b.doorbells.at(-1)!.address, `DSTRD ${dstrd}`).toBe(BAR0 + doorbellOffset(0, "cqHead", dstrd));
    }
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => adminEngine({ ...UNIT, adminQueueEntries: 1 })).toThrow(/adminQueueEntries 1/);
    expect(() => adminEngine({ ...UNIT, adminQueueEntries: 65 })).toThrow(/adminQueueEntries 65/);
    expect(() => adminEngine({ ...UNIT, adminTimeoutCycles: 0 })).toThrow(/adminTimeoutCycles 0/);
  });
});
