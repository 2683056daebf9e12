// The fault matrix and the soak (issue 13) on the full system with the emitted core, on the js engine
// (the cheaper to start; `nvme-host faults --engine verilator` runs the whole matrix): every fault the
// models inject during I/O, each against a mixed random workload at QD 32 (reads and writes in
// flight together, split commands) and a sequential read at QD 1, short. For each run: the report the
// fault must produce (its error class, its NVMe status, the status port), no hang, no wrong data on
// any successful read (data distinct per block, the expected media marking blocks whose write failed
// as unknown), the controller back to READY (by itself or after `restart`) and the whole region read
// back intact after it. Then a short soak: random commands of every opcode with faults at 5 %.
import { afterAll, describe, expect, it } from "vitest";
import { type FaultCell, type FaultMatrixResult, cellFailed, runFaultMatrix } from "../../../sim/system/fault-matrix.ts";
import { FAULT_KINDS } from "../../../sim/system/fault-system.ts";
import { runSoak, soakFailed } from "../../../sim/system/soak.ts";

const ENGINE = "js";
const WORKLOADS = ["rand-mixed-qd32", "seq-read-qd1"];

/** What each fault must show: the error classes (at least one completion each) or the status port, and how the controller recovers. */
const EXPECTED: Record<string, { classes?: string[]; statusPort?: RegExp; recovery: RegExp }> = {
  "media-error": { classes: ["NVME_STATUS"], statusPort: /^READY$/, recovery: /^none needed$/ },
  "lba-range": { classes: ["NVME_STATUS"], statusPort: /^READY$/, recovery: /^none needed$/ },
  "internal-error": { classes: ["NVME_STATUS"], statusPort: /^READY$/, recovery: /^none needed$/ },
  aborted: { classes: ["NVME_STATUS"], statusPort: /^READY$/, recovery: /^none needed$/ },
  "drop-completion": { classes: ["TIMEOUT"], statusPort: /I\/O fault TIMEOUT/, recovery: /^restart$/ },
  "poisoned-read-data": { classes: ["PCIE_FAULT"], statusPort: /^READY$/, recovery: /^none needed$/ },
  "slow-below-timeout": { classes: [], statusPort: /^READY$/, recovery: /^none needed$/ },
  "slow-past-timeout": { classes: ["TIMEOUT"], statusPort: /I\/O fault TIMEOUT/, recovery: /^restart$/ },
  "csts-cfs": { classes: ["TIMEOUT"], statusPort: /I\/O fault TIMEOUT/, recovery: /^restart$/ },
  "stops-fetching": { classes: ["TIMEOUT"], statusPort: /I\/O fault TIMEOUT/, recovery: /^restart$/ },
  // A misdirected read's data never lands: the engine faults (PCIE_FAULT); a misdirected write's data
  // read is answered UR and the SSD fails the command (NVME_STATUS data transfer error).
  "unmapped-32": { recovery: /^(restart|none needed)$/ },
  "unmapped-64": { recovery: /^(restart|none needed)$/ },
  // The commands the link loss cut short fail PCIE_FAULT (they may have run in part); those offered
  // after it are refused NOT_READY. One restart comes up: the RX parser restarted at the next TLP
  // while the link was down (it used to stay inside the TLP the link cut and swallow a completion of
  // the first restart, which then needed a second).
  "link-down": { classes: ["PCIE_FAULT"], statusPort: /^FAULT READY\/LINK_LOST$/, recovery: /^restart$/ },
  "mmio-read-ur": { recovery: /^restart x2 \(FAULT NVME_ENABLE\/READ_CAP_LO\/ACCESS_FAILED \(completion status UR\), then READY\)$/ },
  "mmio-read-ca": { recovery: /^restart x2 \(FAULT NVME_ENABLE\/READ_CAP_LO\/ACCESS_FAILED \(completion status CA\), then READY\)$/ },
  "mmio-read-poisoned": { recovery: /^restart x2 \(FAULT NVME_ENABLE\/READ_CAP_LO\/ACCESS_POISONED, then READY\)$/ },
  "mmio-read-dropped": { recovery: /^restart x2 \(FAULT NVME_ENABLE\/READ_CAP_LO\/ACCESS_TIMED_OUT, then READY\)$/ },
};

let matrix: FaultMatrixResult | undefined;
const started = Date.now();
afterAll(() => {
  console.log(`fault matrix and soak: ${((Date.now() - started) / 1000).toFixed(1)} s on the ${ENGINE} engine`);
});

function cellsOf(fault: string): FaultCell[] {
  return matrix!.cells.filter((c) => c.fault === fault);
}

describe("the fault matrix on the full system", () => {
  it("runs every fault against a mixed QD 32 and a sequential QD 1 workload: no hang, no wrong data, every fault reported, recovered", { timeout: 300_000 }, async () => {
    matrix = await runFaultMatrix({ engine: ENGINE, workloads: WORKLOADS, commands: 16, regionBlocks: 256 });
    expect(Object.keys(EXPECTED).sort()).toEqual(FAULT_KINDS.map((k) => k.key).sort());
    expect(matrix.cells.length).toBe(FAULT_KINDS.length * WORKLOADS.length);
    const failures = matrix.failures.map((c) => `${c.fault}/${c.workload}: ${c.reported}; ${c.recovery}; ${c.dataErrors.slice(0, 2).join("; ")}`);
    expect(failures).toEqual([]);
    for (const c of matrix.cells) {
      expect(c.hang, `${c.fault}/${c.workload}`).toBe(false);
      expect(c.dataErrors, `${c.fault}/${c.workload}`).toEqual([]);
      expect(c.verified, `${c.fault}/${c.workload}`).toBe(true);
    }
  });

  it.each(Object.entries(EXPECTED))("%s: fired in the mixed run and reported as it must be", (fault, expected) => {
    expect(matrix, "the matrix ran").toBeDefined();
    const mixed = cellsOf(fault).find((c) => c.workload === "rand-mixed-qd32")!;
    expect(mixed.injected, `${fault} fired`).toBeGreaterThan(0);
    for (const c of cellsOf(fault)) {
      if (c.injected === 0) continue;
      expect(cellFailed(c)).toBe(false);
      for (const name of expected.classes ?? []) expect(c.classes[name] ?? 0, `${fault}/${c.workload} ${name}`).toBeGreaterThan(0);
      if (expected.classes?.length === 0) expect(Object.keys(c.classes)).toEqual(["NONE"]);
      if (expected.statusPort) expect(c.statusPort).toMatch(expected.statusPort);
      expect(c.recovery).toMatch(expected.recovery);
    }
  });

  it("an injected NVMe status reaches the user unchanged: {DNR, SCT, SC} of the completion", () => {
    expect(cellsOf("media-error").flatMap((c) => c.statuses)).toContain("0x281");
    expect(cellsOf("lba-range").flatMap((c) => c.statuses)).toContain("0x4080");
    expect(cellsOf("internal-error").flatMap((c) => c.statuses)).toContain("0x6");
    expect(cellsOf("aborted").flatMap((c) => c.statuses)).toContain("0x7");
  });

  it("a read whose data the SSD wrote to an unmapped address fails PCIE_FAULT (it used to complete NONE with stale data)", () => {
    for (const fault of ["unmapped-32", "unmapped-64"]) {
      const read = cellsOf(fault).find((c) => c.workload === "seq-read-qd1")!;
      expect(read.injected).toBe(1);
      expect(read.classes.PCIE_FAULT).toBe(1);
      expect(read.statusPort).toBe("READY, I/O fault PCIE_FAULT");
      expect(read.recovery).toBe("restart");
    }
  });
});

describe("the soak on the full system", () => {
  it("300 random commands of every opcode at 5 % faults: no hang, no silent corruption, every fault reported", { timeout: 300_000 }, async () => {
    const result = await runSoak({ commands: 300, faultRate: 0.05, seed: 13, engine: ENGINE, regionBlocks: 1024 });
    expect(result.problems).toEqual([]);
    expect(result.commands).toBe(300);
    expect(result.completed + result.failed_reported).toBe(300);
    expect(result.injected_faults).toBeGreaterThanOrEqual(5);
    expect(result.reported_faults).toBe(result.injected_faults);
    expect(result.hangs).toBe(0);
    expect(result.silent_corruptions).toBe(0);
    expect(result.completed).toBeGreaterThan(150);
    expect(soakFailed(result)).toBe(false);
  });
});
