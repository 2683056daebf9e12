// io_engine, as emitted Verilog on both engines, with every port played by the stand-in of
// sim/testbench/io-engine-rig.ts (user, buffers, queue server, access port, and an SSD that completes
// out of order). The stand-in checks every strobe, doorbell, read-out, release and completion as it
// happens against the rules (see the rig's header); the tests choose the traffic and the
// faults and check the outcome: every command completes exactly once, in order, with the expected
// class and status, and the status counters agree.
//
// At 1, 8 and 32 slots on both engines (64 once, on Verilator):
//  - a random workload of every opcode, sizes from one block to beyond MDTS and the piece limit, a
//    write zeroes beyond 65536 blocks, bad requests of each kind, NVMe error statuses, a poisoned
//    read, a write whose data had the wrong length, random back-pressure everywhere;
//  - a slow access port and a 5-entry queue: doorbells coalesce, the SQ tail never passes the
//    reported head, the CQ wraps many times (phase), at DSTRD 3;
//  - faults: a lost completion (TIMEOUT), a refused doorbell (PCIE_FAULT), `ready` falling with
//    commands in flight (PCIE_FAULT: they may have run in part); afterwards new commands are NOT_READY until reset_queues, and
//    then the engine works again; reads still stream their bytes.
// Atomic writes at 8 slots: one piece when they fit the unit, the piece limit and the boundary (none,
// a power-of-two one below and above the count's bits, FFFFh, one the engine does not handle), else
// NOT_ATOMIC with nothing sent; the flag changes nothing for reads.
// And at 8 slots: `refuse_busy` (an erase runs) refuses every new command BUSY (a write's data
// dropped, a read delivering nothing, BUSY before BAD_REQUEST, NOT_READY before BUSY), commands in
// flight go on, and `quiet` is low from a command's handshake until nothing is at the SSD.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { AtomicBoundary } from "../../../rtl-src/nvme/admin-bringup.ts";
import { type IoEngineParams, ioEngine } from "../../../rtl-src/nvme/io-engine.ts";
import { CompletionStatus } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { UserErrorClass, UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type CommandPlan, IoEngineRig, type IoRuntime, type RigOptions, type UserCommand, expectedPieces, pieceLimitBlocks } from "../../../sim/testbench/io-engine-rig.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const IO_TIMEOUT = 3000;
const paramsFor = (slots: number): IoEngineParams => ({
  slots,
  tagBits: 8,
  writeBufferBytes: 64 * 1024,
  readBufferBytes: 128 * 1024,
  maxPieceBytes: 32 * 1024,
  sqEntries: 64,
  ioTimeoutCycles: IO_TIMEOUT,
});
const runtime = (over: Partial<IoRuntime> = {}): IoRuntime => ({
  ready: true,
  bar0: 0xe000_0000,
  dstrd: 0,
  queueEntries: 16,
  lbaShift: 9,
  mdts: 2,
  capacityBlocks: 1n << 24n,
  namespaceCount: 2,
  ...over,
});

const simulators = new Map<string, Simulator>();
async function simulatorFor(engine: EngineName, slots: number): Promise<Simulator> {
  const key = `${engine}/${slots}`;
  let sim = simulators.get(key);
  if (!sim) {
    const { files, design } = emitDesign(ioEngine(paramsFor(slots)));
    sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
    simulators.set(key, sim);
  }
  return sim;
}

async function rigFor(engine: EngineName, slots: number, rt: IoRuntime, seed: number, options?: RigOptions): Promise<IoEngineRig> {
  return new IoEngineRig(await simulatorFor(engine, slots), paramsFor(slots), rt, seededRandom(seed), options);
}

const status = (sct: number, sc: number, dnr = 0) => (dnr << 14) | (sct << 8) | sc;

/** A random mix: reads and writes of 1 block to past the piece limit, flush, write zeroes, deallocate. */
function randomCommands(random: () => number, count: number, rt: IoRuntime, limit: number, firstTag = 0): { cmd: UserCommand; plan: CommandPlan }[] {
  const out: { cmd: UserCommand; plan: CommandPlan }[] = [];
  const ops = [UserOpcode.READ, UserOpcode.READ, UserOpcode.READ, UserOpcode.WRITE, UserOpcode.WRITE, UserOpcode.FLUSH, UserOpcode.WRITE_ZEROES, UserOpcode.DEALLOCATE];
  for (let i = 0; i < count; i++) {
    const opcode = ops[Math.floor(random() * ops.length)];
    const r = random();
    const blocks = r < 0.4 ? 1 + Math.floor(random() * 8) : r < 0.8 ? 1 + Math.floor(random() * limit) : limit + 1 + Math.floor(random() * 2 * limit);
    const lba = BigInt(Math.floor(random() * 2 ** 20)) * (rt.lbaShift === 9 ? 8n : 1n);
    const cmd: UserCommand = { opcode, nsid: random() < 0.9 ? 1 : 2, lba, blockCount: blocks, tag: (firstTag + i) & 0xff, fua: random() < 0.3 ? 1 : 0 };
    const plan: CommandPlan = {};
    if (random() < 0.08) plan.statuses = [0, status(0, 0x80), status(2, 0x81, 1)].slice(0, 1 + Math.floor(random() * 3)).reverse();
    out.push({ cmd, plan });
  }
  return out;
}

/** One refused command of each kind (the list), and two that look odd but are fine. */
function badRequests(rt: IoRuntime, firstTag: number): { cmd: UserCommand; refused: boolean }[] {
  const tag = (i: number) => (firstTag + i) & 0xff;
  const end = rt.capacityBlocks;
  return [
    { cmd: { opcode: 5, nsid: 1, lba: 0n, blockCount: 1, tag: tag(0) }, refused: true },
    { cmd: { opcode: 7, nsid: 1, lba: 0n, blockCount: 1, tag: tag(1) }, refused: true },
    { cmd: { opcode: UserOpcode.READ, nsid: 1, lba: 0n, blockCount: 0, tag: tag(2) }, refused: true },
    { cmd: { opcode: UserOpcode.WRITE, nsid: 1, lba: 0n, blockCount: 0, tag: tag(3) }, refused: true },
    { cmd: { opcode: UserOpcode.READ, nsid: 0, lba: 0n, blockCount: 1, tag: tag(4) }, refused: true },
    { cmd: { opcode: UserOpcode.WRITE, nsid: 3, lba: 0n, blockCount: 1, tag: tag(5) }, refused: true },
    { cmd: { opcode: UserOpcode.READ, nsid: 0xffff_ffff, lba: 0n, blockCount: 1, tag: tag(6) }, refused: true },
    { cmd: { opcode: UserOpcode.FLUSH, nsid: 0, lba: 0n, blockCount: 0, tag: tag(7) }, refused: true },
    { cmd: { opcode: UserOpcode.READ, nsid: 1, lba: end - 3n, blockCount: 4, tag: tag(8) }, refused: true },
    { cmd: { opcode: UserOpcode.WRITE, nsid: 1, lba: end, blockCount: 1, tag: tag(9) }, refused: true },
    { cmd: { opcode: UserOpcode.WRITE_ZEROES, nsid: 1, lba: 0xffff_ffff_ffff_fff0n, blockCount: 0x20, tag: tag(10) }, refused: true },
    { cmd: { opcode: UserOpcode.DEALLOCATE, nsid: 1, lba: 1n, blockCount: 0xffff_ffff, tag: tag(11) }, refused: true },
    // Fine: the last blocks exactly, flush of every namespace, a range on namespace 2 (not checked).
    { cmd: { opcode: UserOpcode.READ, nsid: 1, lba: end - 4n, blockCount: 4, tag: tag(12) }, refused: false },
    { cmd: { opcode: UserOpcode.FLUSH, nsid: 0xffff_ffff, lba: 0n, blockCount: 0, tag: tag(13) }, refused: false },
    { cmd: { opcode: UserOpcode.WRITE, nsid: 2, lba: end, blockCount: 2, tag: tag(14) }, refused: false },
  ];
}

const counters = (sim: Simulator) => ({
  fault: sim.peek("fault"),
  inFlight: sim.peek("in_flight"),
  stray: sim.peek("stray_entries"),
  misplaced: sim.peek("misplaced_entries"),
  poisonedWrites: sim.peek("poisoned_writes"),
});

function classCounts(rig: IoEngineRig) {
  const count = (cls: number) => rig.commands.filter((c) => c.completion?.errorClass === cls).length;
  return {
    nvme: count(UserErrorClass.NVME_STATUS),
    pcie: count(UserErrorClass.PCIE_FAULT),
    timeout: count(UserErrorClass.TIMEOUT),
    notReady: count(UserErrorClass.NOT_READY),
    bad: count(UserErrorClass.BAD_REQUEST),
  };
}

function engineClassCounters(sim: Simulator) {
  return {
    nvme: sim.peek("errors_nvme_status"),
    pcie: sim.peek("errors_pcie_fault"),
    timeout: sim.peek("errors_timeout"),
    notReady: sim.peek("errors_not_ready"),
    bad: sim.peek("errors_bad_request"),
  };
}

const slotCounts = (engine: EngineName) => (engine === "verilator" ? [1, 8, 32, 64] : [1, 8, 32]);

describe.each(engines)("io_engine, %s engine", (engine) => {
  describe.each(slotCounts(engine))("%i slots", (slots) => {
    it("runs a random workload: splits, write zeroes, deallocate, flush, bad requests, NVMe errors, poison, wrong write length", async () => {
      const rt = runtime({ lbaShift: slots === 8 ? 12 : 9, mdts: slots === 32 ? 0 : 2, queueEntries: slots === 32 ? 20 : 64 });
      const rig = await rigFor(engine, slots, rt, 100 + slots, { readyProbability: 0.6, completionDelay: [5, 150], commandGap: 3 });
      const random = seededRandom(200 + slots);
      const limit = pieceLimitBlocks(paramsFor(slots), rt);
      const work = randomCommands(random, slots === 64 ? 70 : 45, rt, limit);
      // Specials: a write zeroes past 65536 blocks, a deallocate of 2^20 blocks, a poisoned read, a
      // write whose data had the wrong length, a read whose second piece fails.
      work.splice(5, 0,
        { cmd: { opcode: UserOpcode.WRITE_ZEROES, nsid: 1, lba: 1000n, blockCount: 3 * 65536 + 17, tag: 0xa0 }, plan: { statuses: [0, 0, status(0, 0x06)] } },
        { cmd: { opcode: UserOpcode.DEALLOCATE, nsid: 1, lba: 1n << 21n, blockCount: 1 << 20, tag: 0xa1 }, plan: {} },
        { cmd: { opcode: UserOpcode.READ, nsid: 1, lba: 64n, blockCount: 2 * limit, tag: 0xa2 }, plan: { poison: [1] } },
        { cmd: { opcode: UserOpcode.WRITE, nsid: 1, lba: 4096n, blockCount: 3, tag: 0xa3 }, plan: { lengthOk: false } },
        { cmd: { opcode: UserOpcode.READ, nsid: 1, lba: 512n, blockCount: 2 * limit + 1, tag: 0xa4 }, plan: { statuses: [0, status(2, 0x81), status(0, 0x04)] } },
        // Larger than the write ring and than the read ring: pieces go out as the ring frees.
        { cmd: { opcode: UserOpcode.WRITE, nsid: 1, lba: 1n << 20n, blockCount: (5 * paramsFor(slots).writeBufferBytes) / 2 / 2 ** rt.lbaShift, tag: 0xa5 }, plan: {} },
        { cmd: { opcode: UserOpcode.READ, nsid: 1, lba: 1n << 20n, blockCount: (3 * paramsFor(slots).readBufferBytes) / 2 ** rt.lbaShift, tag: 0xa6 }, plan: {} },
      );
      const bad = badRequests(rt, 0xb0);
      work.splice(20, 0, ...bad.map(({ cmd }) => ({ cmd, plan: {} })));
      for (const { cmd, plan } of work) rig.send(cmd, plan);
      rig.runUntilDone(400_000);
      rig.settle(400);
      rig.checkCompletions();
      rig.checkAllPieces();
      rig.check();

      // The model agrees with the list of refusals.
      const refusedTags = rig.commands.filter((c) => c.completion?.errorClass === UserErrorClass.BAD_REQUEST).map((c) => c.cmd.tag);
      for (const b of bad) expect(refusedTags.includes(b.cmd.tag), `tag ${b.cmd.tag}`).toBe(b.refused);
      expect(rig.commands.find((c) => c.cmd.tag === 0xa2)?.completion?.errorClass).toBe(UserErrorClass.PCIE_FAULT);
      expect(rig.commands.find((c) => c.cmd.tag === 0xa4)?.completion).toMatchObject({ errorClass: UserErrorClass.NVME_STATUS, status: status(2, 0x81) });
      // Splits happened: a write zeroes in 4, MDTS / piece limit pieces.
      expect(rig.commands.find((c) => c.cmd.tag === 0xa0)?.pieces.map((p) => p.blocks)).toEqual([65536, 65536, 65536, 17]);
      expect(rig.commands.some((c) => c.pieces.length > 2 && c.cmd.opcode === UserOpcode.READ)).toBe(true);

      const { sim } = rig;
      expect(counters(sim)).toEqual({ fault: 0, inFlight: 0, stray: 0, misplaced: 0, poisonedWrites: 0 });
      expect(engineClassCounters(sim)).toEqual(classCounts(rig));
      expect(sim.peek("commands_accepted")).toBe(rig.commands.length);
      expect(sim.peek("pieces_submitted")).toBe(rig.counts.submitted);
      expect(sim.peek("sq_doorbells") + sim.peek("cq_doorbells")).toBe(rig.doorbells.length);
    });

    it("coalesces doorbells behind a slow access port; the SQ tail never passes the head; the CQ wraps", async () => {
      const rt = runtime({ queueEntries: 5, dstrd: 3, lbaShift: 12, mdts: 0 });
      const rig = await rigFor(engine, slots, rt, 300 + slots, { accessDelay: [40, 90], completionDelay: [60, 150], readyProbability: 0.9 });
      for (let i = 0; i < 40; i++) {
        rig.send({ opcode: i % 8 === 0 ? UserOpcode.WRITE : UserOpcode.READ, nsid: 1, lba: BigInt(8 * i), blockCount: 1 + (i % 3), tag: i });
      }
      rig.runUntilDone(200_000);
      rig.settle(400);
      rig.checkCompletions();
      rig.checkAllPieces();
      rig.check();
      const sq = rig.doorbells.filter((d) => d.kind === "sq").length;
      const cq = rig.doorbells.filter((d) => d.kind === "cq").length;
      // The CQ wrapped 8 times (its phase inverted each time); every entry was consumed.
      expect(rig.counts.cqPosted).toBe(40);
      expect(rig.sim.peek("cq_head")).toBe(40 % 5);
      if (slots > 1) {
        // With several commands waiting, one doorbell covers several entries, and the SQ filled up
        // to its limit: N - 1 entries past the head the SSD last reported (the rig fails any more).
        expect(sq).toBeLessThan(40);
        expect(cq).toBeLessThan(40);
        expect(rig.sqMostAhead).toBe(rt.queueEntries - 1);
      }
      expect(counters(rig.sim)).toEqual({ fault: 0, inFlight: 0, stray: 0, misplaced: 0, poisonedWrites: 0 });
    });

    it("times out a lost completion: everything outstanding fails, then NOT_READY until reset_queues", async () => {
      const rt = runtime();
      const rig = await rigFor(engine, slots, rt, 400 + slots, { completionDelay: [5, 60] });
      const { sim } = rig;
      const limit = pieceLimitBlocks(paramsFor(slots), rt);
      const before = 6;
      for (let i = 0; i < before; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(100 * i), blockCount: 4, tag: i });
      rig.runUntilDone(50_000);
      // The lost one: the second piece of a split read; others after it (as many as the front takes
      // before the fault: with one slot, the next waits for it, and any after that comes too late).
      // (At a multiple of the limit: two whole pieces, as the engine cuts at multiples of it.)
      rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(Math.ceil(5000 / limit) * limit), blockCount: 2 * limit, tag: 50 }, { drop: [1] });
      for (let i = 0; i < Math.min(4, slots); i++) rig.send({ opcode: i % 2 ? UserOpcode.WRITE : UserOpcode.READ, nsid: 1, lba: BigInt(9000 + 64 * i), blockCount: 3, tag: 60 + i });
      const start = rig.cycle;
      while (sim.peek("fault") === 0) {
        rig.step();
        if (rig.cycle - start > 4 * IO_TIMEOUT + 20_000) throw new Error("no fault");
      }
      expect(sim.peek("fault_class")).toBe(UserErrorClass.TIMEOUT);
      expect(rig.cycle - start).toBeGreaterThan(IO_TIMEOUT);
      rig.runUntilDone(50_000);
      const lost = rig.commands.find((c) => c.cmd.tag === 50)!;
      expect(lost.completion?.errorClass).toBe(UserErrorClass.TIMEOUT);
      // Later ones: their own result if they had finished, else TIMEOUT; none is refused.
      for (const c of rig.commands.filter((c) => c.cmd.tag > 50)) expect([UserErrorClass.NONE, UserErrorClass.TIMEOUT]).toContain(c.completion?.errorClass);
      for (const c of rig.commands.filter((c) => c.cmd.tag < before)) expect(c.completion?.errorClass).toBe(UserErrorClass.NONE);
      // New commands are refused while faulted (a write's data still consumed).
      rig.send({ opcode: UserOpcode.WRITE, nsid: 1, lba: 0n, blockCount: 2, tag: 70 }, {}, UserErrorClass.NOT_READY);
      rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: 0n, blockCount: 2, tag: 71 }, {}, UserErrorClass.NOT_READY);
      rig.runUntilDone(20_000);
      rig.settle(100);
      expect(rig.commands.filter((c) => c.cmd.tag >= 70).map((c) => c.completion?.errorClass)).toEqual([UserErrorClass.NOT_READY, UserErrorClass.NOT_READY]);
      // reset_queues: the engine works again.
      rig.resetQueues();
      rig.settle(20);
      expect(sim.peek("fault")).toBe(0);
      expect(sim.peek("in_flight")).toBe(0);
      for (let i = 0; i < 6; i++) rig.send({ opcode: i % 2 ? UserOpcode.WRITE : UserOpcode.READ, nsid: 1, lba: BigInt(64 * i), blockCount: 1 + i, tag: 80 + i });
      rig.runUntilDone(50_000);
      rig.settle(300);
      for (const c of rig.commands.filter((c) => c.cmd.tag >= 80)) expect(c.completion?.errorClass).toBe(UserErrorClass.NONE);
      rig.checkAllPieces();
      rig.check();
      expect(engineClassCounters(sim)).toEqual(classCounts(rig));
    });

    it("faults with PCIE_FAULT on a refused doorbell, and when ready falls with commands in flight", async () => {
      const rt = runtime();
      const rig = await rigFor(engine, slots, rt, 500 + slots, { completionDelay: [200, 400] });
      const { sim } = rig;
      for (let i = 0; i < 3; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(16 * i), blockCount: 2, tag: i });
      rig.runUntilDone(50_000);
      rig.settle(300);
      // The next doorbell is refused, and answered late: by then all four are at the SQ.
      rig.failDoorbells.push(CompletionStatus.UR);
      rig.options.accessDelay = [400, 400];
      const queued = Math.min(4, slots + 1);
      for (let i = 0; i < queued; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(16 * i), blockCount: 2, tag: 10 + i });
      // Restart while the user takes nothing: the failed commands stay in the ring across the
      // restart, and still complete with the fault's class afterwards; new ones succeed.
      rig.userPaused = true;
      while (sim.peek("fault") === 0) rig.step();
      expect(sim.peek("fault_class")).toBe(UserErrorClass.PCIE_FAULT);
      rig.step(100);
      rig.options.accessDelay = undefined;
      rig.resetQueues();
      rig.step(20);
      expect(sim.peek("fault")).toBe(0);
      for (let i = 0; i < 3; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(16 * i), blockCount: 2, tag: 15 + i });
      rig.step(200);
      expect(rig.completed).toBeLessThan(rig.commands.length - 3);
      rig.userPaused = false;
      rig.runUntilDone(50_000);
      // None of the first reached the SSD: all fail; the later ones succeed.
      expect(rig.commands.filter((c) => c.cmd.tag >= 10 && c.cmd.tag < 15).map((c) => c.completion?.errorClass)).toEqual(new Array(queued).fill(UserErrorClass.PCIE_FAULT));
      expect(rig.commands.filter((c) => c.cmd.tag >= 15).map((c) => c.completion?.errorClass)).toEqual([0, 0, 0]);
      rig.settle(200);

      // Not ready: commands refused (a write gets its data dropped), then ready again.
      rig.rt.ready = false;
      rig.applyRuntime();
      rig.send({ opcode: UserOpcode.WRITE, nsid: 1, lba: 0n, blockCount: 3, tag: 20 }, {}, UserErrorClass.NOT_READY);
      rig.send({ opcode: UserOpcode.FLUSH, nsid: 1, lba: 0n, blockCount: 0, tag: 21 }, {}, UserErrorClass.NOT_READY);
      rig.runUntilDone(20_000);
      expect(sim.peek("fault")).toBe(0);
      rig.rt.ready = true;
      rig.applyRuntime();
      const submittedBefore = rig.counts.submitted;
      for (let i = 0; i < 4; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(16 * i), blockCount: 2, tag: 30 + i });
      while (rig.counts.submitted < submittedBefore + 4) rig.step();
      rig.step(20);
      // ready falls with commands at the SSD: they fail PCIE_FAULT, not as refusals (they may have
      // run in part; reads still stream their bytes).
      rig.rt.ready = false;
      rig.applyRuntime();
      rig.runUntilDone(50_000);
      expect(sim.peek("fault")).toBe(1);
      expect(sim.peek("fault_class")).toBe(UserErrorClass.PCIE_FAULT);
      const cut = rig.commands.filter((c) => c.cmd.tag >= 30).map((c) => c.completion?.errorClass);
      expect(cut).toContain(UserErrorClass.PCIE_FAULT);
      expect(cut).not.toContain(UserErrorClass.NOT_READY);
      rig.rt.ready = true;
      rig.applyRuntime();
      rig.resetQueues();
      rig.settle(20);
      for (let i = 0; i < 3; i++) rig.send({ opcode: UserOpcode.WRITE, nsid: 1, lba: BigInt(16 * i), blockCount: 2, tag: 40 + i });
      rig.runUntilDone(50_000);
      rig.settle(300);
      for (const c of rig.commands.filter((c) => c.cmd.tag >= 40)) expect(c.completion?.errorClass).toBe(UserErrorClass.NONE);

      // A write of the SSD to an unmapped address (stray_write, from the router): some read's data went
      // astray, so every piece not yet retired fails PCIE_FAULT, even one whose CQ entry comes after.
      rig.settle(300);
      // As many reads as there are slots (up to 3): all at the SSD when the stray write comes.
      const atSsd = Math.min(3, slots);
      for (let i = 0; i < atSsd; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(16 * i), blockCount: 2, tag: 45 + i });
      const strayBefore = rig.counts.submitted;
      while (rig.counts.submitted < strayBefore + atSsd) rig.step();
      sim.poke("stray_write", 1);
      rig.step();
      sim.poke("stray_write", 0);
      rig.runUntilDone(50_000);
      expect(sim.peek("fault")).toBe(1);
      expect(sim.peek("fault_class")).toBe(UserErrorClass.PCIE_FAULT);
      expect(rig.commands.filter((c) => c.cmd.tag >= 45 && c.cmd.tag < 48).map((c) => c.completion?.errorClass)).toEqual(new Array(atSsd).fill(UserErrorClass.PCIE_FAULT));
      rig.resetQueues();
      rig.settle(400);
      expect(sim.peek("fault")).toBe(0);
      rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: 0n, blockCount: 2, tag: 49 });
      rig.runUntilDone(50_000);
      expect(rig.commands.find((c) => c.cmd.tag === 49)?.completion?.errorClass).toBe(UserErrorClass.NONE);
      rig.checkAllPieces();
      rig.check();
      expect(engineClassCounters(sim)).toEqual(classCounts(rig));
    });
  });
});

describe.each(engines)("io_engine BUSY refusals and quiet, %s engine", (engine) => {
  it("refuses new commands BUSY while refuse_busy is high, lets those in flight finish, and says quiet only when nothing is taken, checked, cut or at the SSD", async () => {
    const rt = runtime();
    const rig = await rigFor(engine, 8, rt, 900, { completionDelay: [100, 300] });
    const { sim } = rig;
    sim.poke("refuse_busy", 0);
    rig.settle(50);
    expect(sim.peek("quiet")).toBe(1);
    // quiet, sampled after every edge: never high while a command is at the SSD or was just taken.
    let quietWhileBusy = 0;
    let samples = 0;
    let lastAccepted = sim.peek("commands_accepted");
    const watch = (cycles: number) => {
      for (let i = 0; i < cycles; i++) {
        rig.step();
        const accepted = sim.peek("commands_accepted");
        if (sim.peek("quiet") === 1 && (sim.peek("in_flight") > 0 || accepted !== lastAccepted)) quietWhileBusy++;
        lastAccepted = accepted;
        samples++;
      }
    };
    for (let i = 0; i < 4; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(64 * i), blockCount: 8, tag: i });
    watch(100);
    expect(sim.peek("in_flight")).toBeGreaterThan(0);
    // An erase starts: the commands at the SSD go on, new ones are refused.
    sim.poke("refuse_busy", 1);
    const BUSY = UserErrorClass.BUSY;
    rig.send({ opcode: UserOpcode.WRITE, nsid: 1, lba: 0n, blockCount: 3, tag: 10 }, {}, BUSY);
    rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: 0n, blockCount: 5, tag: 11 }, {}, BUSY);
    rig.send({ opcode: UserOpcode.FLUSH, nsid: 1, lba: 0n, blockCount: 0, tag: 12 }, {}, BUSY);
    rig.send({ opcode: UserOpcode.WRITE, nsid: 1, lba: 8n, blockCount: 2, tag: 13 }, { lengthOk: false }, BUSY);
    rig.send({ opcode: 5, nsid: 1, lba: 0n, blockCount: 1, tag: 14 }, {}, BUSY);
    rig.send({ opcode: UserOpcode.DEALLOCATE, nsid: 1, lba: 0n, blockCount: 9, tag: 15 }, {}, BUSY);
    for (let i = 0; i < 40_000 && rig.completed < 10; i++) watch(1);
    expect(rig.completed).toBe(10);
    // Not ready outranks BUSY.
    rig.rt.ready = false;
    rig.applyRuntime();
    rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: 0n, blockCount: 1, tag: 16 }, {}, UserErrorClass.NOT_READY);
    for (let i = 0; i < 20_000 && rig.completed < 11; i++) watch(1);
    rig.rt.ready = true;
    rig.applyRuntime();
    rig.settle(50);
    expect(sim.peek("quiet")).toBe(1);
    // The erase is over: commands reach the SSD again.
    sim.poke("refuse_busy", 0);
    for (let i = 0; i < 3; i++) rig.send({ opcode: UserOpcode.WRITE, nsid: 1, lba: BigInt(32 * i), blockCount: 4, tag: 20 + i });
    rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: 0n, blockCount: 4, tag: 23 });
    for (let i = 0; i < 50_000 && rig.completed < 15; i++) watch(1);
    rig.settle(100);
    expect(sim.peek("quiet")).toBe(1);
    expect(rig.commands.map((c) => c.completion?.errorClass)).toEqual([0, 0, 0, 0, BUSY, BUSY, BUSY, BUSY, BUSY, BUSY, UserErrorClass.NOT_READY, 0, 0, 0, 0]);
    expect({ quietWhileBusy, sampled: samples > 1000 }).toEqual({ quietWhileBusy: 0, sampled: true });
    rig.checkAllPieces();
    rig.check();
    expect(sim.peek("fault")).toBe(0);
  });
});

describe.each(engines)("io_engine range checks, %s engine", (engine) => {
  it("checks lba + count against a 64-bit NSZE in every chunk, and nsid against a 32-bit NN", async () => {
    // Every 11-bit chunk of NSZE and NN non-zero, so a borrow from any chunk matters.
    const capacity = 0x7abc_def0_1234_5679n;
    const nn = 0x8765_4321;
    const rt = runtime({ capacityBlocks: capacity, namespaceCount: nn });
    const rig = await rigFor(engine, 8, rt, 700, { completionDelay: [1, 20] });
    const cases: [bigint, number, number][] = [];
    for (const shift of [0n, 11n, 22n, 33n, 44n, 55n]) {
      const lba = capacity - (1n << shift);
      cases.push([lba, Number(1n << (shift > 20n ? 20n : shift)), 1]); // ends at or before NSZE
      cases.push([lba + 1n, Number(1n << (shift > 20n ? 20n : shift)), 1]); // one past, when the count reaches the end
    }
    cases.push([capacity - 1n, 1, 1], [capacity, 1, 1], [capacity - 2n, 3, 1], [0n, 0xffff_ffff, 1], [capacity - 0xffff_ffffn, 0xffff_ffff, 1]);
    cases.push([capacity, 4, nn], [0n, 4, nn + 1], [0n, 4, 0xffff_fffe], [0n, 4, nn - 1], [0n, 4, 0x8765_0000 + 0x4322]);
    // Write zeroes (cut in pieces of 65536 blocks) for the smaller ones, deallocate (one piece) for all.
    cases.forEach(([lba, blocks, nsid], i) => rig.send({ opcode: i % 2 && blocks <= 1 << 20 ? UserOpcode.WRITE_ZEROES : UserOpcode.DEALLOCATE, nsid, lba, blockCount: blocks, tag: i }));
    rig.runUntilDone(100_000);
    rig.settle(200);
    rig.checkCompletions();
    rig.checkAllPieces();
    rig.check();
    const refused = rig.commands.filter((c) => c.completion?.errorClass === UserErrorClass.BAD_REQUEST).length;
    expect(refused).toBeGreaterThan(4);
    expect(refused).toBeLessThan(cases.length - 4);
  });
});

describe.each(engines)("io_engine atomic writes, %s engine", (engine) => {
  it("sends an atomic write as one piece when it fits the unit, the piece limit and the boundary, else refuses it NOT_ATOMIC; never splits it", async () => {
    // 512-byte blocks, MDTS 2: pieces of 16 KiB = 32 blocks (the piece limit), so W = 7 count bits.
    const rt = runtime({ mdts: 2, lbaShift: 9, atomicBlocks: 16, capacityBlocks: 1n << 40n });
    const rig = await rigFor(engine, 8, rt, 900, { completionDelay: [1, 40], readyProbability: 0.8 });
    const p = paramsFor(8);
    expect(pieceLimitBlocks(p, rt)).toBe(32);
    let tag = 0;
    const W = UserOpcode.WRITE;
    const batch = (atomicBlocks: number, boundary: number, mask: number, cases: [number, bigint, number, number?][]) => {
      rig.runUntilDone(100_000);
      Object.assign(rt, { atomicBlocks, atomicBoundary: boundary, atomicBoundaryMask: mask });
      rig.applyRuntime();
      rig.settle(4);
      for (const [opcode, lba, blockCount, atomic = 1] of cases) rig.send({ opcode, nsid: 1, lba, blockCount, tag: tag++ & 0xff, atomic });
    };
    // The unit (16 blocks), no boundary; the flag on a read or a plain write changes nothing (they split).
    batch(16, AtomicBoundary.NONE, 0, [[W, 3n, 16], [W, 3n, 17], [W, 100n, 1], [UserOpcode.READ, 7n, 100], [W, 200n, 100, 0], [W, 0n, 0], [W, 1000n, 32]]);
    // A unit beyond the piece limit: the limit decides (32 blocks: one piece; 33: would be two).
    batch(65536, AtomicBoundary.NONE, 0, [[W, 5n, 32], [W, 5n, 33], [W, 64n, 31]]);
    // Boundaries every 8 blocks (NABSPF 7): inside one period only.
    batch(65536, AtomicBoundary.MASK, 7, [[W, 8n, 8], [W, 9n, 8], [W, 12n, 4], [W, 12n, 5], [W, 15n, 1], [W, 15n, 2]]);
    // Every 1024 blocks (above the 7 count bits): a write across LBA 64 is fine, across 1024, 4096 not.
    batch(65536, AtomicBoundary.MASK, 0x3ff, [[W, 60n, 8], [W, 1020n, 4], [W, 1020n, 5], [W, 4093n, 3], [W, 4093n, 4], [W, 1023n, 1], [W, 1000n, 24], [W, 1001n, 24]]);
    // Every 65536 blocks (NABSPF FFFFh), and past LBA 2^32.
    batch(65536, AtomicBoundary.MASK, 0xffff, [[W, 65530n, 6], [W, 65530n, 7], [W, (1n << 32n) - 3n, 3], [W, (1n << 32n) - 3n, 4], [W, (1n << 32n) + 65534n, 2]]);
    // A boundary the engine does not handle: one block only.
    batch(65536, AtomicBoundary.SINGLE_BLOCK, 5, [[W, 40n, 1], [W, 40n, 2]]);
    // The unit when the boundary allows more: the unit decides.
    batch(4, AtomicBoundary.MASK, 0x3ff, [[W, 0n, 4], [W, 0n, 5]]);
    rig.runUntilDone(100_000);
    rig.settle(200);
    rig.checkCompletions();
    rig.checkAllPieces();
    rig.check();
    const classOf = (t: number) => rig.commands[t].completion?.errorClass;
    const NA = UserErrorClass.NOT_ATOMIC;
    const OK = UserErrorClass.NONE;
    const BAD = UserErrorClass.BAD_REQUEST;
    expect(rig.commands.map((_, t) => classOf(t))).toEqual([
      OK, NA, OK, OK, OK, BAD, NA,
      OK, NA, OK,
      OK, NA, OK, NA, OK, NA,
      OK, OK, NA, OK, NA, OK, OK, NA,
      OK, NA, OK, NA, OK,
      OK, NA,
      OK, NA,
    ]);
    // Every accepted atomic write went out as one NVMe command; the flagged read and the plain write were split.
    for (const c of rig.commands) if (c.cmd.atomic && c.cmd.opcode === W && c.refusal === OK) expect(c.pieces.length, `tag ${c.cmd.tag}`).toBe(1);
    expect(rig.commands[3].pieces.length).toBe(4);
    expect(rig.commands[4].pieces.length).toBe(4);
    expect(rig.sim.peek("fault")).toBe(0);
  });
});

describe("io_engine throughput (js engine, 32 slots)", () => {
  it("takes a 4 KiB random read every 20 cycles or less with an instant SSD (the 400 k IOPS goal is one per 625)", async () => {
    const rt = runtime({ queueEntries: 64, mdts: 5 });
    const rig = await rigFor("js", 32, rt, 600, { readyProbability: 1, completionDelay: [1, 4], accessDelay: [1, 2], commandGap: 0 });
    const random = seededRandom(601);
    const count = 200;
    for (let i = 0; i < count; i++) rig.send({ opcode: UserOpcode.READ, nsid: 1, lba: BigInt(8 * Math.floor(random() * 1e6)), blockCount: 8, tag: i & 0xff });
    const cycles = rig.runUntilDone(100_000);
    rig.settle(200);
    rig.checkCompletions();
    rig.checkAllPieces();
    rig.check();
    expect(cycles / count).toBeLessThan(20);
  });
});

describe("io_engine parameters and the split model", () => {
  it("rejects bad parameters, naming them", () => {
    const p = paramsFor(8);
    expect(() => ioEngine({ ...p, slots: 0 })).toThrow(/slots 0/);
    expect(() => ioEngine({ ...p, slots: 65 })).toThrow(/slots 65/);
    expect(() => ioEngine({ ...p, writeBufferBytes: 96 * 1024 })).toThrow(/writeBufferBytes 98304/);
    expect(() => ioEngine({ ...p, readBufferBytes: 32 * 1024 })).toThrow(/readBufferBytes 32768/);
    expect(() => ioEngine({ ...p, maxPieceBytes: 2048 })).toThrow(/maxPieceBytes 2048/);
    expect(() => ioEngine({ ...p, maxPieceBytes: 128 * 1024 })).toThrow(/maxPieceBytes 131072 is larger than a buffer/);
    expect(() => ioEngine({ ...p, sqEntries: 1 })).toThrow(/sqEntries 1/);
    expect(() => ioEngine({ ...p, tagBits: 0 })).toThrow(/tagBits 0/);
    expect(() => ioEngine({ ...p, ioTimeoutCycles: 0 })).toThrow(/ioTimeoutCycles 0/);
  });

  it("cuts reads and writes at multiples of min(piece limit, MDTS), atomic writes whole, write zeroes at 65536 blocks from their start (the model the tests hold the engine to)", () => {
    const p = paramsFor(8);
    const rt = runtime({ mdts: 1, lbaShift: 9 });
    expect(pieceLimitBlocks(p, rt)).toBe(16);
    expect(expectedPieces({ opcode: UserOpcode.READ, nsid: 1, lba: 10n, blockCount: 40, tag: 0 }, p, rt).map((x) => [x.slba, x.blocks, x.bytes])).toEqual([
      [10n, 6, 3072], [16n, 16, 8192], [32n, 16, 8192], [48n, 2, 1024],
    ]);
    expect(expectedPieces({ opcode: UserOpcode.WRITE, nsid: 1, lba: 32n, blockCount: 20, tag: 0 }, p, rt).map((x) => [x.slba, x.blocks])).toEqual([[32n, 16], [48n, 4]]);
    expect(expectedPieces({ opcode: UserOpcode.WRITE, nsid: 1, lba: 10n, blockCount: 16, tag: 0, atomic: 1 }, p, rt).map((x) => [x.slba, x.blocks])).toEqual([[10n, 16]]);
    expect(pieceLimitBlocks(p, runtime({ mdts: 0, lbaShift: 12 }))).toBe(8);
    expect(expectedPieces({ opcode: UserOpcode.WRITE_ZEROES, nsid: 1, lba: 0n, blockCount: 65537, tag: 0 }, p, rt).map((x) => x.blocks)).toEqual([65536, 1]);
  });
});
