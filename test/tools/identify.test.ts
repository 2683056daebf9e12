// `nvme-host identify` as a user runs it: the default SSD and a --ssd file with options and a fault,
// in text and JSON, with the exit codes of the CLI contract (0 ready, 1 the controller reported an
// error, 2 bad usage). The bring-up itself is tested in test/rtl-src/top/nvme-host-core.test.ts;
// this checks what the command makes of it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verilatorAvailable } from "../../sim/engine/index.ts";
import { projectRoot } from "../../hdl/location.ts";
import { IdentifyUsageError, identifyCommand } from "../../tools/identify.ts";

const dir = mkdtempSync(join(tmpdir(), "identify-"));
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");

function cli(...args: string[]) {
  return spawnSync(process.execPath, [tsxCli, join(projectRoot, "tools/cli.ts"), "identify", ...args], { encoding: "utf8", timeout: 120_000 });
}

describe("nvme-host identify", () => {
  it("prints the default SSD's identity like nvme id-ctrl / id-ns and exits 0", async () => {
    const printed: string[] = [];
    const code = await identifyCommand({ json: false }, (text) => printed.push(text));
    expect(code).toBe(0);
    const text = printed.join("\n");
    expect(text).toMatch(/^nvme-host identify: READY after \d+\.\d+ µs of simulated time/);
    expect(text).toContain("link      : Gen2 x4 (5.0 GT/s)");
    expect(text).toContain("sn        : NVMEHOST0001");
    expect(text).toContain("mn        : nvme-host SSD model");
    expect(text).toContain("mdts      : 7 (512 KiB per command)");
    expect(text).toContain("capacity  : 1073741824 B (1.00 GiB)");
  });

  it("takes a --ssd file of options over a preset, with faults, and prints DESIGN.md's JSON; a reported error exits 1", async () => {
    const file = join(dir, "ssd.json");
    writeFileSync(
      file,
      JSON.stringify({
        preset: "consumerSsd",
        mdts: 5,
        serial: "S5GXNX0R123456",
        namespaces: [{ lbaSize: 4096, capacityBlocks: 3_000_000 }],
      }),
    );
    const printed: string[] = [];
    expect(await identifyCommand({ ssd: file, json: true }, (text) => printed.push(text))).toBe(0);
    const report = JSON.parse(printed.join(""));
    expect(report).toMatchObject({
      state: "ready",
      error: null,
      link: { gen: 2, lanes: 4, mps: 256, mrrs: 512 },
      ctrl: { vid: 0x1b36, sn: "S5GXNX0R123456", mdts: 5, mdts_bytes: 128 * 1024, nn: 1 },
      ns: { nsze: 3_000_000, ncap: 3_000_000, lba_bytes: 4096, capacity_bytes: 3_000_000 * 4096 },
    });
    expect(report.bringup_us).toBeGreaterThan(0);
    expect(report.ssds).toHaveLength(1);

    const faulty = join(dir, "faulty.json");
    writeFileSync(faulty, JSON.stringify({ faults: [{ inject: "injectStatus", match: { sqid: 0, opcode: 6 }, status: { sct: 0, sc: 6 }, count: 1 }] }));
    printed.length = 0;
    expect(await identifyCommand({ ssd: faulty, json: true }, (text) => printed.push(text))).toBe(1);
    expect(JSON.parse(printed.join(""))).toMatchObject({
      state: "error",
      error: { step: "ADMIN/IDENTIFY_CONTROLLER", code: "COMMAND_STATUS", detail: "NVMe status SCT 0 SC 0x06" },
    });
  });

  it("names a bad --ssd field, a bad preset and a bad engine, with exit code 2", () => {
    const typo = join(dir, "typo.json");
    writeFileSync(typo, JSON.stringify({ preset: "consumerSsd", mdtz: 5 }));
    const badField = cli("--ssd", typo);
    expect(badField.status).toBe(2);
    expect(badField.stderr).toContain(`--ssd ${typo}`);
    expect(badField.stderr).toContain('"mdtz"');
    const badPreset = cli("--ssd", "warpSsd");
    expect(badPreset.status).toBe(2);
    expect(badPreset.stderr).toContain("warpSsd");
    const badEngine = cli("--engine", "spice");
    expect(badEngine.status).toBe(2);
    expect(badEngine.stderr).toContain("--engine spice");
  });
});

// Several SSDs behind the switch (issue 14): nvme_array_core on Verilator (built once into .cache/;
// the js engine would take minutes for four lane slots).
describe.skipIf(!verilatorAvailable())("nvme-host identify --ssds / --topology (verilator)", () => {
  it("lists every SSD of a topology file: BDF, path through the switch, state or error, its own Identify fields", async () => {
    const file = join(dir, "topology.json");
    writeFileSync(
      file,
      JSON.stringify({
        ssds: [
          { preset: "fastSsd", serial: "ARRAY-A", namespaces: [{ lbaSize: 512, capacityBlocks: 1 << 18 }] },
          null,
          { preset: "consumerSsd", serial: "ARRAY-B", faults: [{ inject: "fatalOnEnable", count: 1 }] },
        ],
      }),
    );
    const printed: string[] = [];
    expect(await identifyCommand({ json: true, topology: file, engine: "verilator" }, (t) => printed.push(t))).toBe(0);
    const status = JSON.parse(printed.join(""));
    expect({ state: status.state, switch: status.switch_found, count: status.ssd_count }).toEqual({ state: "ready", switch: true, count: 2 });
    const [a, b] = status.ssds;
    expect(a).toMatchObject({ slot: 0, bdf: "03:00.0", port: 0, path: "root port 00:00.0 -> 01:00.0 -> 02:00.0 -> 03:00.0", state: "READY", error: null, lba_bytes: 512, capacity_blocks: 1 << 18 });
    expect(a.ctrl).toMatchObject({ sn: "ARRAY-A", mn: "nvme-host SSD model", mdts_bytes: 512 * 1024 });
    expect(a.ns).toMatchObject({ nsze: 1 << 18, lba_bytes: 512, capacity_bytes: (1 << 18) * 512 });
    // The second SSD on downstream port 2: its own bus below the switch, failed alone when enabled.
    expect(b).toMatchObject({ slot: 1, port: 2, state: "FAILED", error: { code: "CONTROLLER_FATAL" } });
    expect(b.path).toBe(`root port 00:00.0 -> 01:00.0 -> 02:02.0 -> ${b.bdf}`);
    expect(b.bdf).not.toBe(a.bdf);
  }, 600_000);

  it("prints --ssds 2 as text, every SSD with its path and Identify sections; --switch needs --ssds", async () => {
    const printed: string[] = [];
    expect(await identifyCommand({ json: false, ssds: "2", engine: "verilator" }, (t) => printed.push(t))).toBe(0);
    const text = printed.join("\n");
    expect(text).toMatch(/^nvme-host identify: READY after \d+\.\d+ µs of simulated time: 2 of 2 SSDs ready/);
    expect(text).toContain("switch    : found, 4 downstream ports");
    expect(text).toMatch(/SSD 0: 03:00\.0 READY\n {2}path {6}: root port 00:00\.0 -> 01:00\.0 -> 02:00\.0 -> 03:00\.0/);
    expect(text).toMatch(/SSD 1: 04:00\.0 READY\n {2}path {6}: root port 00:00\.0 -> 01:00\.0 -> 02:01\.0 -> 04:00\.0/);
    expect(text.match(/ {2}NVME Identify Controller:/g)?.length).toBe(2);
    // Copies of one --ssd, told apart by their serial numbers (the port appended).
    expect([...text.matchAll(/^ *sn +: (\S+)$/gm)].map((m) => m[1])).toEqual(["NVMEHOST0001-0", "NVMEHOST0001-1"]);
    expect(text.match(/ {2}capacity {2}: 1073741824 B \(1\.00 GiB\)/g)?.length).toBe(2);
    await expect(identifyCommand({ json: false, switch: "gen2x4" })).rejects.toThrow(IdentifyUsageError);
    await expect(identifyCommand({ json: false, ssds: "3" })).rejects.toThrow(/--ssds=3/);
  }, 600_000);
});
