// `nvme-host faults` and `nvme-host soak`: bad arguments are usage errors naming the argument, and
// `soak --json` prints exactly DESIGN.md's keys (a short run on the js engine).
import { afterEach, describe, expect, it, vi } from "vitest";
import { FaultUsageError, faultsCommand, soakCommand } from "../../tools/fault-commands.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("nvme-host faults / soak", () => {
  it("refuses bad arguments, naming them", async () => {
    await expect(faultsCommand({ json: true, only: "media-error,nope" })).rejects.toThrow(FaultUsageError);
    await expect(faultsCommand({ json: true, only: "nope" })).rejects.toThrow(/--only nope: not a fault \(media-error, /);
    await expect(faultsCommand({ json: true, workloads: "seq-read-qd7" })).rejects.toThrow(/--workloads seq-read-qd7: not a workload/);
    await expect(faultsCommand({ json: true, commands: "0" })).rejects.toThrow(/--commands "0" is not a positive integer/);
    await expect(soakCommand({ json: true, commands: "x" })).rejects.toThrow(/--commands "x"/);
    await expect(soakCommand({ json: true, faultRate: "1.5" })).rejects.toThrow(/--fault-rate "1.5" is not a probability/);
    await expect(soakCommand({ json: true, seed: "1.5" })).rejects.toThrow(/--seed "1.5" is not an integer/);
    await expect(soakCommand({ json: true, faults: "link-down,bogus" })).rejects.toThrow(/--faults bogus: not a fault/);
  });

  it("soak --json prints DESIGN.md's keys and exits 0 on a clean run", { timeout: 120_000 }, async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    const code = await soakCommand({ json: true, commands: "40", faultRate: "0.1", seed: "5", engine: "js", faults: "media-error,poisoned-read-data" });
    expect(code).toBe(0);
    expect(lines.length).toBe(1);
    const counts = JSON.parse(lines[0]);
    expect(Object.keys(counts)).toEqual(["commands", "completed", "failed_reported", "injected_faults", "reported_faults", "hangs", "silent_corruptions"]);
    expect(counts.commands).toBe(40);
    expect(counts.completed + counts.failed_reported).toBe(40);
    expect(counts.injected_faults).toBeGreaterThan(0);
    expect(counts.reported_faults).toBe(counts.injected_faults);
  });
});
