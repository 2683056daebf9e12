// The controller's core on the js engine, the verilator engine and Icarus under the same random
// stimulus. It is the core the full-system tests run: nvme_host_core with the simulation timings
// (generated/ holds the same builder with the hardware's waits; random stimulus resets the core
// every hundred cycles or so, long before either's first wait ends). js and Icarus agree on every
// signal every cycle; js and Verilator on every port, with the Verilator model the full-system tests
// build (ports only), so the comparison costs no build of its own; js and native on every signal.
// Apart from agreement.test.ts
// because it takes as long as the other designs together.
import { describe, expect, it } from "vitest";
import { type AgreementReport, checkAgreement } from "../../../sim/engine/agreement.ts";
import { nativeAvailable, verilatorAvailable } from "../../../sim/engine/index.ts";
import type { VerilogSource } from "../../../sim/engine/yosys.ts";
import { simulationCore } from "../../../sim/system/fault-system.ts";
import { icarusAvailable } from "../../../tools/icarus.ts";

const CYCLES = 3000;
/** Native and js run one model, compiled two ways: a third of the cycles, about ten resets. */
const NATIVE_CYCLES = 1000;
const SEED = 0x5eed;

function expectAgreement(report: AgreementReport): void {
  expect(report.onlyIn).toEqual({});
  expect(report.first, JSON.stringify(report.first, null, 2)).toBeNull();
  expect(report.comparedOutputs).toBeGreaterThan(0);
}

describe("the controller's core, as the full-system tests run it", () => {
  const core = simulationCore();
  // Emitted in memory, so every source is text.
  const sources = core.sources as readonly VerilogSource[];

  it.skipIf(!icarusAvailable())("agrees on every signal every cycle on the js engine and Icarus", { timeout: 600_000 }, async () => {
    const report = await checkAgreement(sources, core.top, { cycles: CYCLES, seed: SEED, engines: ["js"], icarus: true });
    expectAgreement(report);
    expect(report.comparedSignals).toBeGreaterThan(report.comparedOutputs * 10);
  });

  it.skipIf(!verilatorAvailable())("agrees on every port every cycle on the js and the verilator engines", { timeout: 600_000 }, async () => {
    const report = await checkAgreement(sources, core.top, { cycles: CYCLES, seed: SEED, engines: ["js", "verilator"], icarus: false, visibility: "ports" });
    expectAgreement(report);
    expect(report.comparedSignals).toBeGreaterThan(report.comparedOutputs);
  });

  // The native engine runs the js engine's model as machine code (native-build.ts): the same
  // signals, so every one of them is compared, each translated block of logic checked on its own.
  it.skipIf(!nativeAvailable())("agrees on every signal every cycle on the js and the native engines", { timeout: 600_000 }, async () => {
    const report = await checkAgreement(sources, core.top, { cycles: NATIVE_CYCLES, seed: SEED, engines: ["js", "native"], icarus: false });
    expectAgreement(report);
    expect(report.comparedSignals).toBeGreaterThan(report.comparedOutputs * 10);
  });
});
