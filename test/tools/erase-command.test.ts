// `nvme-host erase` as a user runs it: each outcome the command reports (done with the blocks
// written before reading back erased, refused because the SSD lacks the kind, failed by the SSD),
// in text and JSON, with the CLI's exit codes (0 done, 1 refused or failed, 2 bad usage). The erase
// hardware itself is tested in test/rtl-src/top/nvme-host-core-erase.test.ts; this checks what the
// command makes of it. Small namespaces and the fast SSD keep the simulated erases short.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../hdl/location.ts";
import { verilatorAvailable } from "../../sim/engine/index.ts";
import { type EraseReport, eraseCommand } from "../../tools/erase-command.ts";

const dir = mkdtempSync(join(tmpdir(), "erase-"));
const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
const engine = verilatorAvailable() ? "verilator" : "js";
const SMALL_NAMESPACE = [{ lbaSize: 512, capacityBlocks: 4096 }];

function ssdFile(name: string, options: object): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ preset: "fastSsd", namespaces: SMALL_NAMESPACE, ...options }));
  return file;
}

async function run(args: Parameters<typeof eraseCommand>[0]) {
  const printed: string[] = [];
  const progress: string[] = [];
  const code = await eraseCommand({ engine, ...args }, (text) => printed.push(text), (line) => progress.push(line));
  return { code, text: printed.join("\n"), progress };
}

function cli(...args: string[]) {
  return spawnSync(process.execPath, [tsxCli, join(projectRoot, "tools/cli.ts"), "erase", ...args], { encoding: "utf8", timeout: 120_000 });
}

describe("nvme-host erase", () => {
  it("runs a sanitize block erase: progress rises to 100 %, DONE, the blocks written before read back as zeroes; exit 0", async () => {
    const ssd = ssdFile("sanitizing", { sanitizeBlockErase: true });
    const { code, text, progress } = await run({ kind: "sanitize-block-erase", ssd, check: "40", json: false });
    expect(code, text).toBe(0);
    expect(text).toContain("nvme-host erase: sanitize-block-erase of the whole SSD");
    expect(text).toContain("before    : wrote 40 blocks of distinct data at LBA 0");
    expect(text).toMatch(/result {4}: DONE after \d+\.\d{3} ms of simulated time \(progress 100 %\)/);
    expect(text).toContain("after     : the 40 blocks read back as zeroes (deallocated)");
    const percents = progress.map((line) => Number(/erase: +(\d+) %/.exec(line)?.[1]));
    expect(percents[0]).toBe(0);
    expect(percents.length).toBeGreaterThan(3);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
  }, 300_000);

  it("runs a Format NVM user-data erase of namespace 1 and reports it as JSON: 0 then 100 %, the check passed", async () => {
    const { code, text } = await run({ kind: "user-data-erase", ssd: ssdFile("formatting", {}), nsid: "1", json: true });
    expect(code, text).toBe(0);
    const report = JSON.parse(text) as EraseReport;
    expect(report).toMatchObject({ kind: "user-data-erase", nsid: 1, engine, state: "DONE", error_class: "NONE", status: 0, progress: 100 });
    expect(report.bringup.state).toBe("ready");
    expect(report.progress_samples.map((s) => s.percent)).toEqual([0, 100]);
    expect(report.erase_ms).toBeGreaterThan(0);
    expect(report.check).toMatchObject({ lba: 0, blocks: 16, written: true, erased: true });
  }, 300_000);

  it("reports a kind the SSD does not offer as REFUSED / UNSUPPORTED and exits 1", async () => {
    // The default model is QEMU-like: Format NVM without cryptographic erase, no Sanitize.
    const { code, text } = await run({ kind: "sanitize-overwrite", ssd: ssdFile("plain", {}), check: "0", json: false });
    expect(code).toBe(1);
    expect(text).toContain("result    : REFUSED, UNSUPPORTED: the SSD does not offer this kind");
    expect(text).not.toContain("before    :");
  }, 300_000);

  it("reports a sanitize the SSD fails as FAILED with the NVMe status, and exits 1", async () => {
    const ssd = ssdFile("failing", { sanitizeCryptoErase: true, faults: [{ inject: "failSanitize", count: 1 }] });
    const { code, text } = await run({ kind: "sanitize-crypto-erase", ssd, check: "0", json: true });
    expect(code).toBe(1);
    const report = JSON.parse(text) as EraseReport;
    expect(report).toMatchObject({ state: "FAILED", error_class: "NVME_STATUS" });
    expect(report.status_text).toMatch(/SC 0x1c/);
  }, 300_000);

  it("refuses bad options naming the option and its value, exit 2", () => {
    const kind = cli("--kind", "shred");
    expect(kind.status).toBe(2);
    expect(kind.stderr).toContain("--kind shred: not one of crypto-erase, user-data-erase, sanitize-block-erase, sanitize-overwrite, sanitize-crypto-erase");
    const missing = cli("--ssd", "fastSsd");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--kind is required");
    const nsid = cli("--kind", "crypto-erase", "--nsid", "0");
    expect(nsid.status).toBe(2);
    expect(nsid.stderr).toContain('--nsid 0: not a namespace ID (1..4294967294) or "all"');
    const check = cli("--kind", "crypto-erase", "--check=-3");
    expect(check.status).toBe(2);
    expect(check.stderr).toContain("--check -3: not a block count");
  }, 120_000);
});
