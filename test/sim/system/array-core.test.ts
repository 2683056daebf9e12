// The runner's hook for the striped array core (sim/system/array-core.ts): the striped core's
// parameters for a system (a lane per SSD, the run's lane buffers, the stripe); a short verified run
// over two SSDs behind the switch (random 4 KiB writes over eight stripes, sequential 96 KiB writes
// that cross stripe boundaries, random reads back; the data distinct per block), each SSD's media
// holding exactly the blocks RAID 0 puts on it; `nvme-host sim --ssds 2` reporting it; the array's
// namespace; the one-SSD status reader the runner keeps.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { verilatorAvailable } from "../../../sim/engine/index.ts";
import { arrayCoreFor, arrayNamespace, stripedCoreParamsFor } from "../../../sim/system/array-core.ts";
import { type CommandEvent, type SimRunReport, SimOptionError, coreParamsFor, runJobs, runStatusFor } from "../../../sim/system/job-runner.ts";
import { UserErrorClass } from "../../../sim/testbench/user-command.ts";
import type { JobSpec } from "../../../sim/workload/job.ts";
import { recognisePatternWord } from "../../../sim/workload/pattern.ts";
import { arraySystemJson, estimateCommand, parseJobCommand, simCommand } from "../../../tools/sim-command.ts";

const KIB = 1024;
const dir = mkdtempSync(join(tmpdir(), "nvme-host-array-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** Verilator builds the two-lane core once into .cache/ and runs it ten times faster than the js engine. */
const ENGINE = verilatorAvailable() ? "verilator" : "js";

const base: JobSpec = {
  name: "job",
  rw: "read",
  bs: 4 * KIB,
  iodepth: 8,
  size: 64 * KIB,
  offset: 0,
  numberIos: null,
  runtimeNs: null,
  rampTimeNs: 0,
  timeBased: false,
  rwmixread: 50,
  numjobs: 1,
  verify: false,
  randseed: 5,
  stonewall: false,
  groupReporting: false,
};

describe("the array core hook", () => {
  it("builds one lane per SSD present with the run's slots, buffers and piece size, and the array's stripe", () => {
    const { system } = parseJobCommand(["--rw=read", "--bs=128k", "--size=1m", "--ssds", "2", "--stripe", "64k", "--buffer", "256k"]);
    const p = stripedCoreParamsFor(system, coreParamsFor(system));
    expect({ ssds: p.array.maxSsds, stripe: p.striper, buffers: [p.io.writeBufferBytes, p.io.readBufferBytes], slots: p.io.slots }).toEqual({
      ssds: 2,
      stripe: { stripeBytes: 64 * KIB, maxOutstanding: 64 },
      buffers: [256 * KIB, 256 * KIB],
      slots: 32,
    });
    expect(() => arrayCoreFor({ ...system, array: undefined }, simulationCoreParams)).toThrow("arrayCoreFor: the system has no array");
    // A topology file with three SSDs (the CLI refuses --ssds 3 itself).
    const [ssd] = system.array!.topology.ssds;
    const three = { ...system, array: { ...system.array!, topology: { ssds: [ssd, null, ssd, ssd] } } };
    expect(() => stripedCoreParamsFor(three, simulationCoreParams)).toThrow("3 SSDs present; the striper takes 1, 2 or 4");
  });
});

describe(`a verified run over two SSDs behind the switch (${ENGINE})`, () => {
  const { system } = parseJobCommand(["--ssds", "2", "--engine", ENGINE]);
  const stripe = system.array!.stripeBytes;
  let report: SimRunReport;
  const events: CommandEvent[] = [];
  /** Per SSD (lane order = port order), per lane LBA: the array LBA whose pattern it holds (decoded from its first word). */
  const media: Map<number, number | "zeroes">[] = [];
  const jobs: JobSpec[] = [
    // Eight 128 KiB stripes, four on each SSD.
    { ...base, name: "randwrite", rw: "randwrite", bs: 4 * KIB, size: 1024 * KIB, iodepth: 16, numberIos: 64 },
    // 96 KiB commands from 1 MiB: every other one crosses a stripe boundary.
    { ...base, name: "seqwrite", rw: "write", bs: 96 * KIB, size: 768 * KIB, offset: 1024 * KIB, iodepth: 8, verify: true, stonewall: true },
    { ...base, name: "readback", rw: "randread", bs: 4 * KIB, size: 1024 * KIB, iodepth: 32, verify: true, stonewall: true },
    // A marker: the media is read when this group starts.
    { ...base, name: "marker", rw: "read", bs: 4 * KIB, size: 4 * KIB, offset: 0, stonewall: true },
  ];
  beforeAll(async () => {
    report = await runJobs(jobs, system, {
      onCommand: (e) => events.push(e),
      onGroupStart: (group, full) => {
        if (group !== 3) return;
        for (const ssd of [full.ssds[0]!, full.ssds[1]!]) {
          const ns = ssd.controller.namespace(1)!;
          const held = new Map<number, number | "zeroes">();
          // The lane LBAs the written array range maps to: the first 1.75 MiB of the array is 7 stripes, at most 4 per SSD.
          for (let lba = 0; lba < (4 * stripe) / 512; lba++) {
            const word = ns.read(lba, 1);
            const v = new DataView(word.buffer, word.byteOffset, 8);
            const origin = recognisePatternWord(v.getUint32(0, true), v.getUint32(4, true), { lbaBytes: 512 });
            held.set(lba, origin === null ? -1 : origin.kind === "zeroes" ? "zeroes" : origin.lba);
          }
          media.push(held);
        }
      },
    });
  }, 240_000);

  it("runs every job without an error or a mismatch, each read checked against what was written", () => {
    expect(report.errors).toEqual([]);
    expect({ verify: report.verifyErrors, command: report.commandErrors }).toEqual({ verify: 0, command: 0 });
    const [randwrite, seqwrite, readback] = report.jobs;
    expect(randwrite.write.totalIos).toBe(64);
    expect(seqwrite.write).toMatchObject({ ioBytes: 768 * KIB, totalIos: 8 });
    expect(readback.read).toMatchObject({ ioBytes: 1024 * KIB, totalIos: 256 });
    expect(events.every((e) => e.errorClass === UserErrorClass.NONE)).toBe(true);
    // The verify read-back of the sequential writes and the random reads: every block written was read back.
    expect(events.filter((e) => e.read && e.phase === "verify").length).toBe(8);
    expect(report.bringup.ssds.map((s) => s.state)).toEqual(["ready", "ready"]);
    expect(report.bringup.ns).toMatchObject({ lba_bytes: 512, nsze: arrayNamespace(system).capacityBlocks });
  });

  it("puts array block a on SSD (a / stripe) mod 2 at its RAID 0 place, and nothing else there", () => {
    const B = stripe / 512;
    const written = new Set<number>();
    for (const e of events) if (!e.read) for (let b = e.offset / 512; b < (e.offset + e.bytes) / 512; b++) written.add(b);
    expect(written.size).toBeGreaterThan(1536); // 768 KiB sequential + the random blocks
    expect(media.length).toBe(2);
    for (const [lane, held] of media.entries()) {
      for (const [laneLba, found] of held) {
        const s = Math.floor(laneLba / B) * 2 + lane;
        const arrayLba = s * B + (laneLba % B);
        expect({ lane, laneLba, found }).toEqual({ lane, laneLba, found: written.has(arrayLba) ? arrayLba : "zeroes" });
      }
    }
  });

  it("counts the NVMe commands and doorbells of both lanes", () => {
    // Every 4 KiB command is one NVMe command; a 96 KiB one is at least three 32 KiB pieces (four when it crosses a stripe).
    const { nvmeCommands, doorbells } = report.counters;
    expect(nvmeCommands).toBeGreaterThanOrEqual(64 + 8 * 3 + 8 * 3 + 256 + 1);
    expect(nvmeCommands).toBeLessThanOrEqual(64 + 8 * 4 + 8 * 4 + 256 + 1);
    expect(doorbells.cq).toBe(nvmeCommands);
  });
});

describe("nvme-host sim and estimate with --ssds", () => {
  it("nvme-host sim --ssds 2 runs a verified job and reports the array; estimate --ssds 2 predicts the same job", async () => {
    let out = "";
    const args = ["--rw=write", "--bs=128k", "--iodepth=32", "--size=2m", "--verify=crc32c", "--ssds", "2", "--engine", ENGINE];
    expect(await simCommand(args, (t) => (out += t))).toBe(0);
    expect(out).toMatch(/err= 0/);
    expect(out).toContain("2 x fastSsd behind switch gen2x4, 128 KiB stripes");
    expect(out).toMatch(/errors: 0 commands, 0 verify/);
    out = "";
    expect(estimateCommand([...args, "--json"], (t) => (out += t))).toBe(0);
    const [e] = JSON.parse(out).jobs;
    expect(e.array).toMatchObject({ ssd_count: 2, stripe_bytes: 128 * KIB, root_link: { gen: 2, lanes: 4 } });
    expect(e.write.bw_bytes).toBeGreaterThan(0);
  }, 120_000);

  it("checks the jobs against the array's namespace: N x the smallest SSD, whole rows of stripes", async () => {
    const file = join(dir, "mixed.json");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, JSON.stringify({ ssds: [{ preset: "fastSsd", namespaces: [{ lbaSize: 512, capacityBlocks: 1000 }] }, { preset: "fastSsd", namespaces: [{ lbaSize: 512, capacityBlocks: 5000 }] }] }));
    const { system } = parseJobCommand(["--rw=read", "--bs=4k", "--size=4k", "--topology", file, "--stripe=64k"]);
    // 64 KiB = 128 blocks; the smaller SSD holds 7 whole stripes: 2 x 7 x 128 blocks.
    expect(arrayNamespace(system)).toEqual({ nsid: 1, lbaBytes: 512, capacityBlocks: 2 * 7 * 128 });
    const past = parseJobCommand(["--rw=read", "--bs=4k", "--offset=1m", "--topology", file, "--stripe=64k"]);
    await expect(runJobs(past.jobs, past.system)).rejects.toThrow(SimOptionError);
    await expect(runJobs(past.jobs, past.system)).rejects.toThrow("offset=1048576: at or past the namespace's capacity (917504 B)");
    writeFileSync(file, JSON.stringify({ ssds: [{ preset: "fastSsd", namespaces: [{ lbaSize: 512, capacityBlocks: 8000 }] }, { preset: "fastSsd", namespaces: [{ lbaSize: 4096, capacityBlocks: 1000 }] }] }));
    const mixed = parseJobCommand(["--rw=read", "--bs=4k", "--size=4k", "--topology", file]);
    await expect(runJobs(mixed.jobs, mixed.system)).rejects.toThrow(`topology=${file}: ${file}: the SSD on port 1 has 4096-byte blocks`);
  });

  it("says the array in the sim report's nvme_host object: SSD count, stripe, switch, each SSD's port", () => {
    const { system } = parseJobCommand(["--rw=read", "--bs=4k", "--size=4k", "--ssds", "4", "--stripe", "512k", "--switch", "gen2x4x2", "--ssd", "consumerSsd"]);
    expect(arraySystemJson(system)).toEqual({
      source: "4 x consumerSsd behind switch gen2x4x2",
      ssd_count: 4,
      stripe_bytes: 512 * KIB,
      switch: { preset: "gen2x4x2" },
      ssds: [0, 1, 2, 3].map((port) => ({ port, timing: "consumerSsd" })),
    });
  });

  it("keeps the one-SSD core's status reader for a system without an array", () => {
    const { system } = parseJobCommand(["--rw=read", "--bs=4k", "--size=4k"]);
    const reader = runStatusFor(system);
    const peeks: string[] = [];
    const fake = { sim: { peek: (name: string) => (peeks.push(name), 7) } };
    expect(reader.nvmeCommands(fake as never)).toBe(7);
    expect(peeks).toEqual(["status_io_pieces"]);
  });
});
