// The NVMe conformance suite on both transports: QEMU's real `nvme` device over qtest, and our SSD model
// over TLPs through the link model. Each scenario must produce the outcome the specification requires
// (or the deviation listed for that transport in known-deviations.ts), and the two transports must agree
// wherever neither has a listed deviation. Without QEMU the QEMU half is skipped with a visible notice.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceDevice, modelOptionsFor, qemuOptionsFor } from "../../../sim/host/conformance/device-config.ts";
import { allScenarios } from "../../../sim/host/conformance/index.ts";
import { knownDeviation, knownDeviations } from "../../../sim/host/conformance/known-deviations.ts";
import { ConformanceTarget } from "../../../sim/host/conformance/runner.ts";
import type { Outcome } from "../../../sim/host/conformance/scenario.ts";
import { ModelTransport } from "../../../sim/host/model-transport.ts";
import { probeQemu } from "../../../sim/host/qemu-qtest.ts";
import { QemuTransport } from "../../../sim/host/qemu-transport.ts";

const qemu = probeQemu();
const qemuSkipReason = qemu.available ? "" : qemu.reason;

const outcomes = { qemu: new Map<string, Outcome>(), model: new Map<string, Outcome>() };

// Simulated time is cheap only while something happens: keep the model's deadlines short so a hang fails fast.
const modelDriverOptions = { commandTimeoutNs: 20e6, defaultShutdownTimeoutNs: 50e6 };

function conformanceSuite(name: "qemu" | "model", open: () => Promise<ConformanceTarget>): void {
  let target: ConformanceTarget | undefined;
  beforeAll(async () => {
    target = await open();
  });
  afterAll(async () => {
    await target?.close();
  });
  for (const scenario of allScenarios) {
    it(`${scenario.group}: ${scenario.id} — ${scenario.title}`, async () => {
      const outcome = await target!.run(scenario);
      outcomes[name].set(scenario.id, outcome);
      const deviation = knownDeviation(name, scenario.id);
      expect(outcome).toEqual(deviation ? deviation.outcome : scenario.expected(conformanceDevice));
    });
  }
}

describe.skipIf(!qemu.available)(`NVMe conformance on QEMU's nvme device${qemu.available ? ` (${qemu.version})` : ` — skipped: ${qemuSkipReason}`}`, () => {
  conformanceSuite("qemu", async () => ConformanceTarget.open(await QemuTransport.start(qemuOptionsFor(conformanceDevice)), conformanceDevice));
});

describe("NVMe conformance on the SSD model over the link model", () => {
  conformanceSuite("model", async () => ConformanceTarget.open(await ModelTransport.start(modelOptionsFor(conformanceDevice)), conformanceDevice, modelDriverOptions));
});

describe.skipIf(!qemu.available)(`QEMU and the model agree${qemu.available ? "" : ` — skipped: ${qemuSkipReason}`}`, () => {
  for (const scenario of allScenarios) {
    const qemuDeviation = knownDeviation("qemu", scenario.id);
    const modelDeviation = knownDeviation("model", scenario.id);
    const listedDifference = JSON.stringify(qemuDeviation?.outcome ?? null) !== JSON.stringify(modelDeviation?.outcome ?? null);
    it(`${scenario.id}${listedDifference ? " (listed difference)" : ""}`, () => {
      const q = outcomes.qemu.get(scenario.id);
      const m = outcomes.model.get(scenario.id);
      expect(q, "QEMU outcome missing: its scenario failed to run").toBeDefined();
      expect(m, "model outcome missing: its scenario failed to run").toBeDefined();
      if (listedDifference) expect(m).not.toEqual(q);
      else expect(m).toEqual(q);
    });
  }
});

describe("known deviations", () => {
  it("name scenarios that exist and give a reason", () => {
    const ids = new Set(allScenarios.map((s) => s.id));
    for (const d of knownDeviations) {
      expect(ids.has(d.scenario), `deviation for unknown scenario ${d.scenario}`).toBe(true);
      expect(d.reason.length).toBeGreaterThan(20);
    }
  });

  it("the suite has at least 40 scenarios with unique ids", () => {
    expect(allScenarios.length).toBeGreaterThanOrEqual(40);
    expect(new Set(allScenarios.map((s) => s.id)).size).toBe(allScenarios.length);
  });
});
