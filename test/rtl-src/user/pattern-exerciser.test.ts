// The built-in exerciser on the real controller: the emitted core (simulation timings) and the
// exerciser in one harness, the link and SSD models at the core's pcie_7x ports (sim/system/).
// It must write its pattern (checked in the SSD model's media, block by block, against the
// TypeScript reference `exerciserBeat`), read it back pass after pass with no mismatch; catch a
// block changed behind its back (exactly the changed beats counted, the pass judged failed and the
// exerciser stopped); count a command the SSD fails, keeping its status; refuse an SSD too small
// for its region; and stay idle while `enable` is low. Every valid/ready stream is watched by the
// protocol monitors. One harness for every scenario (one build).
import { afterEach, describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../../hdl/index.ts";
import { nvmeHostCore, simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { type PatternExerciserParams, exerciserBeat, minimumCapacityBlocks, patternExerciser } from "../../../rtl-src/user/pattern-exerciser.ts";
import { UserErrorClass } from "../../../rtl-src/user/user-port.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { type FullSystem, buildSystem } from "../../../sim/system/full-system.ts";
import type { SsdFault } from "../../../sim/system/ssd-spec.ts";

const EXERCISER: PatternExerciserParams = { tagBits: 8, commandBlocks: 4, commands: 4, startLba: 4096, timeoutCycles: 2 ** 22 };
const REGION_BLOCKS = EXERCISER.commands * EXERCISER.commandBlocks;
const LBA_BYTES = 512;
const BEATS_PER_BLOCK = LBA_BYTES / 8;
// The js engine: it builds this harness in a third of Verilator's time on a fresh machine, and the
// core itself is checked on both engines by its own tests.
const engine = "js";

/** The core and the exerciser, the core's pcie_7x side as the harness's ports (what buildSystem couples to). */
function harness() {
  const m = new Module("exerciser_harness");
  const core = m.instance(nvmeHostCore(simulationCoreParams), { name: "core" });
  const ex = m.instance(patternExerciser(EXERCISER), { name: "exerciser" });
  const c = core.ports;
  m.promote(c.s_axis_tx, { prefix: "s_axis_tx" });
  m.promote(c.m_axis_rx, { prefix: "m_axis_rx" });
  m.promote(c.cfg_mgmt, { prefix: "cfg_mgmt" });
  for (const name of ["rx_np_ok", "user_lnk_up", "pl_sel_lnk_rate", "pl_sel_lnk_width", "pl_link_gen2_cap", "pl_directed_change_done", "pl_ltssm_state", "pl_directed_link_change", "pl_directed_link_speed", "pl_directed_link_width", "pl_directed_link_auton", "perst_n"] as const) {
    m.promote(c[name]);
  }
  for (const name of ["restart", "shutdown", "smart_refresh", "error_log_refresh", "page_address"] as const) m.comb(c[name], 0);
  for (const name of ["valid", "kind", "nsid"] as const) m.comb(c.user_erase.signals[name], 0);
  const x = ex.ports;
  m.connect(x.user_command, c.user_command);
  m.connect(x.user_write_data, c.user_write_data);
  m.connect(c.user_read_data, x.user_read_data);
  m.connect(c.user_completion, x.user_completion);
  m.comb(x.ready, c.status.status_ready);
  m.comb(x.lba_bytes, c.status.status_lba_bytes);
  m.comb(x.capacity_blocks, c.status.status_capacity_blocks);
  m.promote(x.enable, { name: "enable" });
  m.promote(c.status.status_ready, { name: "status_ready" });
  for (const name of ["running", "verified", "failed", "refused", "passes", "mismatches", "command_errors", "last_error_class", "last_error_status"] as const) m.promote(x[name]);
  return m;
}

const { files } = emitDesign(harness());
const core = { sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: "exerciser_harness" };
const WATCH = ["passes", "failed", "refused", "running", "status_ready"];

const open: FullSystem[] = [];
afterEach(() => {
  for (const system of open.splice(0)) system.close();
});

async function system(ssd: Partial<SsdOptions> = {}, faults: SsdFault[] = []): Promise<FullSystem> {
  const built = await buildSystem({ core, engine, ssd, faults, watch: WATCH, monitorStreams: true });
  open.push(built);
  built.sim.poke("enable", 0);
  built.runUntil(() => built.sim.peek("status_ready") === 1, 2_000_000, "READY");
  return built;
}

/** The exerciser's reference data for the region in pass `pass`, as the SSD stores it (little-endian beats). */
function expectedRegion(pass: number): Uint8Array {
  const bytes = new Uint8Array(REGION_BLOCKS * LBA_BYTES);
  const view = new DataView(bytes.buffer);
  for (let block = 0; block < REGION_BLOCKS; block++) {
    for (let beat = 0; beat < BEATS_PER_BLOCK; beat++) view.setBigUint64((block * BEATS_PER_BLOCK + beat) * 8, exerciserBeat(pass, EXERCISER.startLba + block, beat), true);
  }
  return bytes;
}

const PASS_CYCLES = 400_000;

describe(`the pattern exerciser on the controller (${engine} engine)`, () => {
  it("stays idle while disabled, then writes its pattern and reads it back, pass after pass, with no mismatch", async () => {
    const s = await system();
    const peek = (name: string) => s.sim.peek(name);
    s.step(2000);
    expect(peek("running")).toBe(0);
    expect(peek("passes")).toBe(0);
    s.sim.poke("enable", 1);
    s.runUntil(() => peek("passes") >= 2, 3 * PASS_CYCLES, "two passes");
    // Stop between passes: the media then holds the second pass's pattern (pass 1).
    s.sim.poke("enable", 0);
    s.runUntil(() => peek("running") === 0, PASS_CYCLES, "the exerciser to stop");
    expect(peek("passes")).toBe(2);
    expect({ verified: peek("verified"), failed: peek("failed"), mismatches: peek("mismatches"), errors: peek("command_errors") }).toEqual({ verified: 1, failed: 0, mismatches: 0, errors: 0 });
    const media = s.ssd.controller.media[0].read(EXERCISER.startLba, REGION_BLOCKS);
    expect(Buffer.from(media).equals(Buffer.from(expectedRegion(1)))).toBe(true);
    // Nothing outside the region was written.
    expect(s.ssd.controller.media[0].storedBlocks).toBe(REGION_BLOCKS);
  }, 600_000);

  it("counts exactly the beats of a block changed behind its back, fails the pass, withdraws `verified` and stops", async () => {
    const s = await system();
    const peek = (name: string) => s.sim.peek(name);
    s.sim.poke("enable", 1);
    s.runUntil(() => peek("passes") >= 1, PASS_CYCLES, "the first pass");
    expect(peek("verified")).toBe(1);
    // Let the second pass (pattern 1) write everything, then change block 5 before it is read back.
    const media = s.ssd.controller.media[0];
    const lastLba = EXERCISER.startLba + REGION_BLOCKS - 1;
    const secondPassWritten = () => new DataView(media.read(lastLba, 1).buffer).getBigUint64(0, true) === exerciserBeat(1, lastLba, 0);
    s.runUntil(secondPassWritten, PASS_CYCLES, "the second pass's writes");
    const block = media.read(EXERCISER.startLba + 5, 1).map((b) => b ^ 0x5a);
    media.persist(media.stage(EXERCISER.startLba + 5, 1, block, false));
    s.runUntil(() => peek("failed") === 1 && peek("running") === 0, 2 * PASS_CYCLES, "the exerciser to stop");
    expect({ passes: peek("passes"), verified: peek("verified"), mismatches: peek("mismatches"), errors: peek("command_errors") }).toEqual({ passes: 2, verified: 0, mismatches: BEATS_PER_BLOCK, errors: 0 });
    // It stays stopped.
    s.step(20_000);
    expect(peek("passes")).toBe(2);
  }, 600_000);

  it("counts a read the SSD fails, keeps its status, and stops at the end of the pass", async () => {
    const s = await system({}, [{ inject: "injectStatus", match: { sqid: 1, opcode: 0x02 }, status: { sct: 0, sc: 0x81, dnr: true }, count: 1 }]);
    const peek = (name: string) => s.sim.peek(name);
    s.sim.poke("enable", 1);
    s.runUntil(() => peek("failed") === 1 && peek("running") === 0, 2 * PASS_CYCLES, "the exerciser to stop");
    expect({ passes: peek("passes"), verified: peek("verified"), errors: peek("command_errors"), class: peek("last_error_class") }).toEqual({ passes: 1, verified: 0, errors: 1, class: UserErrorClass.NVME_STATUS });
    expect(peek("last_error_status") & 0xff).toBe(0x81);
  }, 600_000);

  it("refuses an SSD smaller than its region's power of two", async () => {
    const s = await system({ namespaces: [{ lbaSize: LBA_BYTES, capacityBlocks: minimumCapacityBlocks(EXERCISER) - 1 }] });
    const peek = (name: string) => s.sim.peek(name);
    s.sim.poke("enable", 1);
    s.runUntil(() => peek("refused") === 1, 1000, "the refusal");
    s.step(10);
    expect({ refused: peek("refused"), failed: peek("failed"), running: peek("running"), passes: peek("passes") }).toEqual({ refused: 1, failed: 1, running: 0, passes: 0 });
    expect(s.ssd.controller.media[0].storedBlocks).toBe(0);
  }, 600_000);
});

describe("the pattern exerciser's parameters", () => {
  it("refuse regions that are not aligned powers of two, tags too narrow, and short timeouts", () => {
    expect(() => patternExerciser({ ...EXERCISER, commandBlocks: 3 })).toThrow(/commandBlocks = 3/);
    expect(() => patternExerciser({ ...EXERCISER, commands: 1 })).toThrow(/commands = 1/);
    expect(() => patternExerciser({ ...EXERCISER, startLba: 4100 })).toThrow(/startLba = 4100/);
    expect(() => patternExerciser({ ...EXERCISER, tagBits: 1 })).toThrow(/do not fit in 1-bit tags/);
    expect(() => patternExerciser({ ...EXERCISER, timeoutCycles: 8 })).toThrow(/timeoutCycles = 8/);
    expect(minimumCapacityBlocks(EXERCISER)).toBe(8192);
  });

  it("make a pattern distinct per pass, per block and per beat", () => {
    const seen = new Set<bigint>();
    for (const pass of [0, 1]) for (let lba = 4096; lba < 4112; lba++) for (let beat = 0; beat < 64; beat++) seen.add(exerciserBeat(pass, lba, beat));
    expect(seen.size).toBe(2 * 16 * 64);
  });
});
