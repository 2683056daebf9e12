// PCIe enumeration results and controller registers around enable/disable (NVMe 1.4 §3.1, §7.6.1).

import * as cmd from "../commands.ts";
import { Reg } from "../registers.ts";
import type { NvmeTransport } from "../transport.ts";
import { hex, type Scenario, status, SUCCESS } from "./scenario.ts";

async function config(t: NvmeTransport, offset: number, size: 1 | 2 | 4): Promise<number> {
  const r = await t.configRead(offset, size);
  if (r.status !== "SC") throw new Error(`config read at ${hex(offset)} answered ${r.status}`);
  return r.value >>> 0;
}

export const bringUpScenarios: Scenario[] = [
  {
    id: "pci-identity",
    group: "bring-up",
    title: "vendor/device ID, NVMe class code and a 64-bit BAR0 of at least 16 KiB",
    expected: (c) => ({ vendorId: hex(c.vendorId, 4), deviceId: hex(c.deviceId, 4), classCode: "0x010802", bar0Is64Bit: true, bar0AtLeast16KiB: true }),
    async run({ driver }) {
      const pci = driver.pci!;
      return { vendorId: hex(pci.vendorId, 4), deviceId: hex(pci.deviceId, 4), classCode: hex(pci.classCode, 6), bar0Is64Bit: pci.bar0.is64Bit, bar0AtLeast16KiB: pci.bar0.size >= 16384n };
    },
  },
  {
    id: "pci-command-and-device-control",
    group: "bring-up",
    title: "Command = MSE|BME|INTx disable and DevCtl MPS/MRRS read back as programmed",
    expected: () => ({ command: "0x0406", maxPayloadReadBack: true, maxReadRequestBytes: 512 }),
    async run({ transport, driver }) {
      const pcie = driver.pci!.pcie;
      if (!pcie) return { command: hex(await config(transport, 0x04, 2), 4), maxPayloadReadBack: false, maxReadRequestBytes: 0 };
      const devCtl = await config(transport, pcie.offset + 8, 2);
      return {
        command: hex((await config(transport, 0x04, 2)) & 0x0407, 4),
        maxPayloadReadBack: 128 << ((devCtl >>> 5) & 7) === pcie.maxPayload,
        maxReadRequestBytes: 128 << ((devCtl >>> 12) & 7),
      };
    },
  },
  {
    id: "cap-fields",
    group: "bring-up",
    title: "CAP and VS describe an NVMe 1.4 controller with contiguous queues and 4 KiB pages",
    expected: (c) => ({ maxQueueEntries: c.maxQueueEntries, contiguousQueuesRequired: true, doorbellStride: 4, nvmCommandSet: true, minPageSize: 4096, readyTimeoutAtLeast500ms: true, version: "0x00010400" }),
    async run({ driver }) {
      const cap = await driver.readCap();
      return {
        maxQueueEntries: cap.maxQueueEntries,
        contiguousQueuesRequired: cap.contiguousQueuesRequired,
        doorbellStride: cap.doorbellStride,
        nvmCommandSet: cap.nvmCommandSet,
        minPageSize: cap.minPageSize,
        readyTimeoutAtLeast500ms: cap.readyTimeoutMs >= 500,
        version: hex(await driver.readRegister32(Reg.VS), 8),
      };
    },
  },
  {
    id: "cap-64bit-read",
    group: "bring-up",
    title: "a 64-bit read of CAP equals the two 32-bit halves",
    expected: () => ({ equal: true }),
    async run({ transport, driver }) {
      const whole = await transport.mmioRead64(driver.bar0);
      return { equal: whole === driver.cap!.raw };
    },
  },
  {
    id: "enabled-registers",
    group: "bring-up",
    title: "after enable: CC, CSTS, AQA, ASQ and ACQ read back what the host wrote",
    expected: () => ({ cc: "0x00460001", csts: "0x00000001", aqa: "0x001f001f", asqPageAligned: true, acqPageAligned: true }),
    async run({ driver }) {
      const asq = await driver.readRegister32(Reg.ASQ);
      const acq = await driver.readRegister32(Reg.ACQ);
      return {
        cc: hex(await driver.readRegister32(Reg.CC), 8),
        csts: hex(await driver.readRegister32(Reg.CSTS), 8),
        aqa: hex(await driver.readRegister32(Reg.AQA), 8),
        asqPageAligned: asq !== 0 && (asq & 0xfff) === 0,
        acqPageAligned: acq !== 0 && (acq & 0xfff) === 0,
      };
    },
  },
  {
    id: "disable-enable-cycle",
    group: "bring-up",
    title: "CC.EN = 0 clears RDY; enabling again sets it and the admin queue works from slot 0",
    expected: () => ({ readyAfterDisable: false, readyAfterEnable: true, identifyAfterReenable: true }),
    async run({ driver }) {
      await driver.disable();
      const readyAfterDisable = (await driver.readCsts()).ready;
      await driver.enable();
      const readyAfterEnable = (await driver.readCsts()).ready;
      const ctrl = await driver.identifyController();
      return { readyAfterDisable, readyAfterEnable, identifyAfterReenable: ctrl.nn >= 1 };
    },
  },
  {
    id: "reset-deletes-io-queues",
    group: "bring-up",
    title: "a controller reset deletes I/O queues: QID 1 can be created again afterwards",
    expected: () => ({ createCq: SUCCESS, createSq: SUCCESS }),
    async run({ driver, config, scratch }) {
      await driver.enable();
      await driver.setNumberOfQueues(config.maxIoQueuePairs);
      const cqBase = scratch(4096);
      const sqBase = scratch(4096);
      const createCq = await driver.submitAdmin(cmd.createIoCq({ qid: 1, entries: 16, base: cqBase }));
      const createSq = await driver.submitAdmin(cmd.createIoSq({ qid: 1, entries: 16, base: sqBase, cqid: 1 }));
      return { createCq: status(createCq), createSq: status(createSq) };
    },
  },
];
