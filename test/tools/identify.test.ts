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
import { projectRoot } from "../../hdl/location.ts";
import { identifyCommand } from "../../tools/identify.ts";

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
