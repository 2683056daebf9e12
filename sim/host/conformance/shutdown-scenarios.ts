// Shutdown notification and what follows it (NVMe 1.4 §7.6.2, §3.1.6).

import { Reg } from "../registers.ts";
import { sameBytes, type Scenario } from "./scenario.ts";

export const shutdownScenarios: Scenario[] = [
  {
    id: "shutdown-normal",
    group: "shutdown",
    title: "CC.SHN = 01b: CSTS.SHST reaches 10b; a reset clears SHST and the controller works again",
    expected: () => ({ shst: 2, shstAfterReset: 0, identifyAfterReset: true }),
    async run({ driver }) {
      const { shutdownStatus } = await driver.shutdown("normal");
      await driver.disable();
      const shstAfterReset = (await driver.readCsts()).shutdownStatus;
      await driver.enable();
      const id = await driver.identifyController();
      return { shst: shutdownStatus, shstAfterReset, identifyAfterReset: id.nn >= 1 };
    },
  },
  {
    id: "shutdown-abrupt",
    group: "shutdown",
    title: "CC.SHN = 10b (abrupt): CSTS.SHST reaches 10b",
    expected: () => ({ shst: 2, ccShn: 2 }),
    async run({ driver }) {
      const { shutdownStatus } = await driver.shutdown("abrupt");
      return { shst: shutdownStatus, ccShn: ((await driver.readRegister32(Reg.CC)) >>> 14) & 3 };
    },
  },
  {
    id: "shutdown-keeps-written-data",
    group: "shutdown",
    title: "data written and then shut down normally reads back after the controller is re-enabled",
    expected: () => ({ dataMatches: true }),
    async run(ctx) {
      const { driver, ns, config } = ctx;
      const data = new Uint8Array(4 * ns.lbaBytes).map((_, i) => (i * 31 + 7) & 0xff);
      await driver.writeBlocks(ctx.io, ns, 9000n, data);
      await driver.shutdown("normal");
      await driver.enable();
      await driver.setNumberOfQueues(config.maxIoQueuePairs);
      const io = await driver.createIoQueuePair(1, 16);
      const back = await driver.readBlocks(io, ns, 9000n, 4);
      return { dataMatches: sameBytes(back, data) };
    },
  },
];
