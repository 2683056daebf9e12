// Atomic writes on the full system (issue 13): the emitted core brought up against the SSD model,
// driven through its user ports.
//  - An atomic write that fits the SSD's power-fail atomic unit, the controller's piece and the
//    namespace's atomic boundary reaches the SSD as exactly one NVMe Write of its whole range; one
//    that does not is refused NOT_ATOMIC and nothing reaches the SSD (its data is still consumed);
//    unflagged writes and reads are cut at multiples of the piece (only the first piece may start
//    unaligned).
//  - Power fails in the middle of random writes (data distinct per block and per pass), some atomic;
//    the core is reset with it (FullSystem.powerCut), brings the SSD up again, and every written range
//    is read back through the controller: each block holds the range's old data or its new data,
//    an atomic write is entirely old or entirely new, and non-atomic writes are seen torn.
//  - With an SSD whose power-fail atomic unit is the controller's piece (AWUPF 63: 64 blocks, pieces
//    of 32 KiB), unflagged writes of several pieces at unaligned LBAs are cut at multiples of the
//    piece, so every NVMe Write is within the unit: a power failure tears such a write only between
//    its pieces (each aligned 64-block part of it entirely old or entirely new).
import { afterEach, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { nvmeHostCore, simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { UserErrorClass, UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { type EngineName, verilatorAvailable } from "../../../sim/engine/index.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import type { PowerFailReport } from "../../../sim/nvme/ssd.ts";
import { randomInt, seededRandom } from "../../../sim/random.ts";
import { runBringup, waitForOutcome } from "../../../sim/system/bringup.ts";
import type { FullSystem, VerilogCore } from "../../../sim/system/full-system.ts";
import { ExpectedMedia } from "../../../sim/testbench/expected-media.ts";
import type { UserCommand } from "../../../sim/testbench/user-command.ts";
import { type CommandRecord, UserPortDriver, readIoGeometry } from "../../../sim/testbench/user-port-driver.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const open: FullSystem[] = [];
afterEach(() => {
  for (const system of open.splice(0)) system.close();
});

let emitted: VerilogCore | undefined;
/** The simulation core, emitted once for every run of this file. */
function core(): VerilogCore {
  if (!emitted) {
    const module = nvmeHostCore(simulationCoreParams);
    const { files } = emitDesign(module);
    emitted = { sources: emittedSources(files), top: module.name };
  }
  return emitted;
}

async function bringUp(engine: EngineName, ssd: Partial<SsdOptions>) {
  const { report, system } = await runBringup({ core: core(), engine, ssd });
  open.push(system);
  expect(report.state).toBe("ready");
  return { system, geometry: readIoGeometry(system.sim) };
}

/** Every NVMe Write (and Write Zeroes / deallocation) the SSD stages on namespace 1, in order. */
function recordMediaWrites(system: FullSystem): { slba: number; nlb: number }[] {
  const log: { slba: number; nlb: number }[] = [];
  const media = system.ssd.controller.media[0];
  const stage = media.stage.bind(media);
  media.stage = (slba, nlb, data, countsAsHostWrite) => {
    if (data) log.push({ slba, nlb });
    return stage(slba, nlb, data, countsAsHostWrite);
  };
  return log;
}

const engines: EngineName[] = verilatorAvailable() ? ["verilator", "js"] : ["js"];
/** The simulation core's piece: 32 KiB, 64 blocks of 512 bytes. */
const PIECE_BLOCKS = simulationCoreParams.io.maxPieceBytes / 512;

describe.each(engines)("atomic writes through the controller on %s", (engine) => {
  it("sends an atomic write as one NVMe command when it fits the atomic unit, the piece and the boundary, else refuses it NOT_ATOMIC and sends nothing", async () => {
    // NAWUPF 23 (24 blocks) with NSABP, boundaries every 32 blocks (NABSPF 31); pieces of 32 KiB (64 blocks).
    const { system, geometry } = await bringUp(engine, { namespaces: [{ lbaSize: 512, capacityBlocks: 1 << 16, nawupf: 23, nabspf: 31 }] });
    const writes = recordMediaWrites(system);
    const W = UserOpcode.WRITE;
    const NA = UserErrorClass.NOT_ATOMIC;
    const cases: { command: UserCommand; sent: [number, number][] }[] = [
      { command: { opcode: W, nsid: 1, lba: 64, blockCount: 24, pass: 1, atomic: true }, sent: [[64, 24]] },
      { command: { opcode: W, nsid: 1, lba: 100, blockCount: 1, pass: 1, atomic: true }, sent: [[100, 1]] },
      { command: { opcode: W, nsid: 1, lba: 200, blockCount: 25, pass: 1, atomic: true, expect: NA }, sent: [] }, // beyond the unit
      { command: { opcode: W, nsid: 1, lba: 318, blockCount: 4, pass: 1, atomic: true, expect: NA }, sent: [] }, // across LBA 320
      { command: { opcode: W, nsid: 1, lba: 316, blockCount: 4, pass: 1, atomic: true }, sent: [[316, 4]] }, // ends at the boundary
      { command: { opcode: W, nsid: 1, lba: 1000, blockCount: 130, pass: 1, atomic: true, expect: NA }, sent: [] }, // three pieces
      // Unflagged: split at multiples of the piece (64 blocks), the first piece up to the next one.
      { command: { opcode: W, nsid: 1, lba: 2000, blockCount: 130, pass: 1 }, sent: [[2000, 48], [2048, 64], [2112, 18]] },
      { command: { opcode: W, nsid: 1, lba: 4096, blockCount: 129, pass: 1 }, sent: [[4096, 64], [4160, 64], [4224, 1]] },
      { command: { opcode: W, nsid: 1, lba: 4350, blockCount: 4, pass: 1 }, sent: [[4350, 2], [4352, 2]] },
      { command: { opcode: UserOpcode.READ, nsid: 1, lba: 2000, blockCount: 130, atomic: true }, sent: [] }, // the flag means nothing to a read
    ];
    const driver = new UserPortDriver(system, { namespaces: geometry.namespaces, seed: 5, maxInFlight: 1 });
    const records = driver.submit(cases.map((c) => c.command));
    const result = driver.run(1_000_000);
    expect(result.errors).toEqual([]);
    expect(result.finished).toBe(true);
    expect(records.map((r) => r.errorClass)).toEqual(cases.map((c) => c.command.expect ?? UserErrorClass.NONE));
    // What reached the SSD, in command order (maxInFlight 1): one NVMe Write per accepted atomic write.
    expect(writes.map((w) => [w.slba, w.nlb])).toEqual(cases.flatMap((c) => c.sent));
    // Pieces: the three accepted atomic writes, the split writes (3 + 3 + 2) and the read (3).
    expect(system.sim.peek("status_io_pieces")).toBe(3 + 8 + 3);
    // The refused writes' blocks still read as never written (the read above checked 2000.., this the rest).
    const check = new UserPortDriver(system, { namespaces: geometry.namespaces, seed: 6, media: driver.media });
    check.submit([200, 318, 1000].map((lba) => ({ opcode: UserOpcode.READ, nsid: 1, lba, blockCount: 8 })));
    expect(check.run(400_000).errors).toEqual([]);
    expect(system.sim.peek("status_io_fault")).toBe(0);
  }, 300_000);
});

/** The writes of a power-fail run: "mixed" (AWUPF 7; atomic, plain and refused writes) or "pieces" (AWUPF = the piece; plain writes of several pieces). */
type PowerFailMix = "mixed" | "pieces";

/** One power-fail run: returns what each write of the second pass left on the media, read back through the controller. */
async function powerFailRun(engine: EngineName, seed: number, mix: PowerFailMix = "mixed") {
  const random = seededRandom(seed);
  // AWUPF 7: atomic writes of at most 8 blocks ("pieces": 63, the 64-block piece). The consumer
  // preset's write cache completes writes long before they are programmed, so many are not durable
  // when the power goes.
  const awupf = mix === "pieces" ? PIECE_BLOCKS - 1 : 7;
  const { system, geometry } = await bringUp(engine, { timing: "consumerSsd", awupf, namespaces: [{ lbaSize: 512, capacityBlocks: 1 << 16 }] });
  const namespaces = geometry.namespaces;
  // Ranges apart from each other: atomic ones of 1..8 blocks, plain ones of 12..70 (some split at
  // the piece), two too big to be atomic; or ("pieces") plain ones of 2..4 pieces at random LBAs.
  const kinds: ("atomic" | "plain" | "refused")[] = mix === "pieces" ? Array(8).fill("plain") : [...Array(8).fill("atomic"), ...Array(7).fill("plain"), "refused", "refused"];
  const ranges: { lba: number; blocks: number; kind: (typeof kinds)[number] }[] = [];
  let next = randomInt(random, 0, 64);
  for (const kind of kinds.sort(() => random() - 0.5)) {
    const blocks =
      mix === "pieces" ? randomInt(random, PIECE_BLOCKS + 1, 3 * PIECE_BLOCKS) : kind === "atomic" ? randomInt(random, 1, 8) : kind === "refused" ? randomInt(random, 9, 20) : randomInt(random, 12, 70);
    ranges.push({ lba: next, blocks, kind });
    next += blocks + randomInt(random, 0, 40);
  }
  // Pass 1 everywhere, made durable by a flush: the old data.
  const first = new UserPortDriver(system, { namespaces, seed: seed + 1 });
  first.submit([...ranges.map((r) => ({ opcode: UserOpcode.WRITE, nsid: 1, lba: r.lba, blockCount: r.blocks, pass: 1 }) as UserCommand), { opcode: UserOpcode.FLUSH, nsid: 1, lba: 0, blockCount: 0 }]);
  const firstResult = first.run(2_000_000);
  expect(firstResult.errors).toEqual([]);
  expect(firstResult.finished).toBe(true);
  expect(system.ssd.controller.media[0].unpersisted.length).toBe(0);
  // Pass 2 + i for write i, cut short by the power failure after a random number of completions and cycles.
  const second = new UserPortDriver(system, { namespaces, seed: seed + 2, stopOnError: false });
  const records = second.submit(
    ranges.map((r, i) => ({ opcode: UserOpcode.WRITE, nsid: 1, lba: r.lba, blockCount: r.blocks, pass: 2 + i, atomic: r.kind !== "plain", expect: r.kind === "refused" ? UserErrorClass.NOT_ATOMIC : "any" }) as UserCommand),
  );
  const completions = randomInt(random, 4, ranges.length - 4);
  const limit = system.cycle + 2_000_000;
  while (records.filter((r) => r.completeCycle >= 0).length < completions && system.cycle < limit) second.advance(limit);
  const extra = randomInt(random, 0, 3000);
  for (let i = 0; i < extra && !second.idle; i++) second.tick();
  const cutAt = system.cycle;
  const report: PowerFailReport = system.powerCut(seed);
  // The user side lets go too (the driver dies with the power): nothing is offered while the core comes back.
  for (const port of ["user_command_valid", "user_write_data_tvalid", "user_read_data_tready", "user_completion_ready"]) system.sim.poke(port, 0);
  const completedBeforeCut = records.filter((r) => r.completeCycle >= 0).length;
  // Power is back: the core, held in reset, starts over and brings the SSD up again.
  system.step(8);
  expect(system.sim.peek("status_ready")).toBe(0);
  expect(system.link.isUp).toBe(false);
  waitForOutcome(system, 2_000_000);
  expect(system.sim.peek("status_ready")).toBe(1);

  // Read every range back one block at a time, expecting the new data; then the blocks that were not
  // new, expecting the old.
  const readBlocks = (blocks: { lba: number; pass: number }[], readSeed: number) => {
    const media = new ExpectedMedia(namespaces);
    for (const b of blocks) media.write(1, b.lba, 1, b.pass);
    const reader = new UserPortDriver(system, { namespaces, seed: readSeed, media, stopOnError: false, maxErrors: 0 });
    const reads = reader.submit(blocks.map((b) => ({ opcode: UserOpcode.READ, nsid: 1, lba: b.lba, blockCount: 1 })));
    const result = reader.run(4_000_000);
    expect(result.finished).toBe(true);
    expect(result.errorClasses, JSON.stringify(result.errors.slice(0, 3))).toEqual({ NONE: blocks.length });
    expect(reads.every((r: CommandRecord) => r.errorClass === UserErrorClass.NONE)).toBe(true);
    return reads.map((r) => r.wrongWords === 0);
  };
  const all = ranges.flatMap((r, i) => Array.from({ length: r.blocks }, (_, k) => ({ range: i, lba: r.lba + k, pass: 2 + i })));
  const isNew = readBlocks(all, seed + 3);
  const notNew = all.filter((_, k) => !isNew[k]);
  const isOld = readBlocks(notNew.map((b) => ({ ...b, pass: 1 })), seed + 4);
  const outcomes = ranges.map((r, i) => {
    const blocks = all.map((b, k) => ({ b, k })).filter(({ b }) => b.range === i);
    const fresh = blocks.filter(({ k }) => isNew[k]).length;
    const old = notNew.filter((b) => b.range === i).filter((b) => isOld[notNew.indexOf(b)]).length;
    // Per aligned piece of the range (the parts between multiples of PIECE_BLOCKS): all new, all old, or torn.
    const pieceOutcomes = new Map<number, { fresh: number; blocks: number }>();
    for (const { b, k } of blocks) {
      const piece = Math.floor(b.lba / PIECE_BLOCKS);
      const entry = pieceOutcomes.get(piece) ?? { fresh: 0, blocks: 0 };
      entry.blocks++;
      if (isNew[k]) entry.fresh++;
      pieceOutcomes.set(piece, entry);
    }
    const pieces = [...pieceOutcomes.values()].map((e) => (e.fresh === e.blocks ? "new" : e.fresh === 0 ? "old" : "torn"));
    return { ...r, fresh, old, outcome: fresh === r.blocks ? "new" : fresh === 0 ? "old" : "torn", pieces };
  });
  return { outcomes, report, cutAt, completedBeforeCut, records };
}

describe("a power failure in the middle of random writes, some atomic (verilator when installed, else js)", () => {
  const engine: EngineName = verilatorAvailable() ? "verilator" : "js";
  it("leaves every atomic write entirely old or entirely new, and tears non-atomic ones", async () => {
    const seeds = [3, 4];
    let torn = 0;
    let atomicWrites = 0;
    let plainWrites = 0;
    const summary: string[] = [];
    for (const seed of seeds) {
      const { outcomes, report, cutAt, completedBeforeCut } = await powerFailRun(engine, seed);
      for (const o of outcomes) {
        // Every block holds the old data or the new: nothing else, ever.
        expect(o.fresh + o.old, `seed ${seed}: ${o.kind} write at ${o.lba} +${o.blocks}`).toBe(o.blocks);
        if (o.kind === "atomic") expect(o.outcome, `seed ${seed}: atomic write at ${o.lba} +${o.blocks}`).not.toBe("torn");
        if (o.kind === "refused") expect(o.outcome).toBe("old");
      }
      atomicWrites += outcomes.filter((o) => o.kind === "atomic").length;
      plainWrites += outcomes.filter((o) => o.kind === "plain").length;
      torn += outcomes.filter((o) => o.kind === "plain" && o.outcome === "torn").length;
      // The model agrees: what it tore were the plain writes, and the core never sent a refused one.
      const modelTorn = report.namespaces[0].writes.filter((w) => w.outcome === "torn");
      expect(modelTorn.every((w) => !w.atomic)).toBe(true);
      const count = (kind: string, outcome: string) => outcomes.filter((o) => o.kind === kind && o.outcome === outcome).length;
      summary.push(
        `seed ${seed}: cut at cycle ${cutAt} after ${completedBeforeCut} completions; atomic new/old ${count("atomic", "new")}/${count("atomic", "old")}, ` +
          `plain new/old/torn ${count("plain", "new")}/${count("plain", "old")}/${count("plain", "torn")}, refused old ${count("refused", "old")}; model: ${report.tornWrites} torn, ${report.lostWrites} lost`,
      );
      for (const system of open.splice(0)) system.close();
    }
    console.log(summary.join("\n"));
    expect(atomicWrites).toBe(8 * seeds.length);
    expect(plainWrites).toBe(7 * seeds.length);
    // The model does tear writes larger than the atomic unit, and the test sees it through the controller.
    expect(torn).toBeGreaterThan(0);
  }, 600_000);
});

describe("a power failure in the middle of writes of several pieces, with the piece as the SSD's atomic unit (verilator when installed, else js)", () => {
  const engine: EngineName = verilatorAvailable() ? "verilator" : "js";
  it("tears a write only between its pieces: every aligned piece of it is entirely old or entirely new", async () => {
    const seed = 7;
    const { outcomes, report } = await powerFailRun(engine, seed, "pieces");
    for (const o of outcomes) {
      expect(o.fresh + o.old, `write at ${o.lba} +${o.blocks}`).toBe(o.blocks);
      expect(o.pieces.length, `write at ${o.lba} +${o.blocks}`).toBe(Math.ceil((o.lba + o.blocks) / PIECE_BLOCKS) - Math.floor(o.lba / PIECE_BLOCKS));
      expect(o.pieces, `write at ${o.lba} +${o.blocks}: its aligned pieces`).not.toContain("torn");
    }
    // Every NVMe Write the SSD took was within its atomic unit (the splitter cut at the unit's
    // multiples), and the model tore none of them.
    const writes = report.namespaces[0].writes;
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.every((w) => w.atomic && w.nlb <= PIECE_BLOCKS)).toBe(true);
    expect(writes.filter((w) => w.outcome === "torn")).toEqual([]);
    console.log(`pieces: ${outcomes.map((o) => `${o.lba}+${o.blocks} ${o.outcome} [${o.pieces.join(" ")}]`).join("; ")}; model: ${report.tornWrites} torn, ${report.lostWrites} lost`);
  }, 600_000);
});
