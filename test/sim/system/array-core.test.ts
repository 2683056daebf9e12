// The runner's hook for the striped array core (sim/system/array-core.ts): until the core exists, a run
// with SystemSpec.array stops with the clear message before anything is built or written, `nvme-host
// sim --ssds 2` says so and exits 1 while `estimate --ssds 2` works; the array's namespace; the one-SSD
// status reader the runner keeps.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ARRAY_CORE_NOT_BUILT, ArrayCoreNotBuiltError, arrayCoreFor, arrayNamespace, arrayRunStatus } from "../../../sim/system/array-core.ts";
import { SimOptionError, runJobs, runStatusFor } from "../../../sim/system/job-runner.ts";
import { arraySystemJson, parseJobCommand, estimateCommand, simCommand } from "../../../tools/sim-command.ts";

const KIB = 1024;
const dir = mkdtempSync(join(tmpdir(), "nvme-host-array-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the array core hook", () => {
  it("throws the issue's message until the striped core is built", () => {
    const { system } = parseJobCommand(["--rw=read", "--bs=128k", "--size=1m", "--ssds", "2"]);
    expect(ARRAY_CORE_NOT_BUILT).toBe("the striped array core is not built yet (issue 14)");
    expect(() => arrayCoreFor(system)).toThrow(ArrayCoreNotBuiltError);
    expect(() => arrayCoreFor(system)).toThrow(ARRAY_CORE_NOT_BUILT);
    expect(() => arrayCoreFor({ ...system, array: undefined })).toThrow("arrayCoreFor: the system has no array");
    expect(() => arrayRunStatus(system).nvmeCommands(undefined as never)).toThrow(ArrayCoreNotBuiltError);
  });

  it("stops a run with an array before building anything or writing its trace", async () => {
    const trace = join(dir, "trace.jsonl");
    const { jobs, system } = parseJobCommand(["--rw=read", "--bs=128k", "--size=1m", "--ssds", "4", "--trace", trace]);
    await expect(runJobs(jobs, system)).rejects.toThrow(ArrayCoreNotBuiltError);
    expect(existsSync(trace)).toBe(false);
  });

  it("nvme-host sim --ssds 2 prints the message and exits 1; estimate --ssds 2 predicts the same job", async () => {
    let out = "";
    const args = ["--rw=write", "--bs=128k", "--iodepth=32", "--size=4m", "--ssds", "2", "--ssd", "consumerSsd"];
    expect(await simCommand(args, (t) => (out += t))).toBe(1);
    expect(out).toContain(`nvme-host sim: ${ARRAY_CORE_NOT_BUILT}`);
    out = "";
    expect(estimateCommand([...args, "--json"], (t) => (out += t))).toBe(0);
    const [e] = JSON.parse(out).jobs;
    expect(e.array).toMatchObject({ ssd_count: 2, stripe_bytes: 128 * KIB, root_link: { gen: 2, lanes: 4 } });
    expect(e.write.bw_bytes).toBeGreaterThan(0);
  });

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
