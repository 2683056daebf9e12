// Identify (NVMe 1.4 §5.15) and the Number of Queues feature (§5.21.1.7).

import * as cmd from "../commands.ts";
import { IDENTIFY_BYTES, parseIdentifyController } from "../identify.ts";
import { allZero, type ConformanceContext, hex, sameBytes, type Scenario, status, SUCCESS } from "./scenario.ts";

const INVALID_FIELD = "generic/invalidField (0x02) DNR";
const INVALID_NAMESPACE = "generic/invalidNamespaceOrFormat (0x0b) DNR";

/** Identify into a 4 KiB buffer at `offset` inside its first page; returns the status and the data. */
async function identifyRaw(ctx: ConformanceContext, cns: number, nsid: number, offset = 0): Promise<{ status: string; data: Uint8Array }> {
  const { driver } = ctx;
  const buffer = driver.allocateBuffer(IDENTIFY_BYTES, { offset });
  try {
    await buffer.write(ctx.transport, new Uint8Array(IDENTIFY_BYTES).fill(0xa5));
    const c = await driver.transfer((x) => driver.submitAdmin(x), (d) => cmd.identify(cns, nsid, d), buffer);
    return { status: status(c), data: await buffer.read(ctx.transport) };
  } finally {
    buffer.release(driver.memory);
  }
}

export const identifyScenarios: Scenario[] = [
  {
    id: "identify-controller-fields",
    group: "identify",
    title: "Identify Controller: IDs, serial, entry sizes, NN, VER",
    expected: (c) => ({ vid: hex(c.vendorId, 4), serial: c.serial, modelPresent: true, sqes: "0x66", cqes: "0x44", nn: c.maxNamespaces, version: "0x00010400", cntlidValid: true }),
    async run({ driver }) {
      const id = await driver.identifyController();
      return {
        vid: hex(id.vid, 4),
        serial: id.serial,
        modelPresent: id.model.length > 0,
        sqes: hex((id.sqes.max << 4) | id.sqes.min, 2),
        cqes: hex((id.cqes.max << 4) | id.cqes.min, 2),
        nn: id.nn,
        version: hex(id.version, 8),
        cntlidValid: id.cntlid < 0xfff0,
      };
    },
  },
  {
    id: "identify-controller-limits",
    group: "identify",
    title: "Identify Controller: MDTS, and ONCS advertises Write Zeroes and Dataset Management",
    expected: (c) => ({ mdts: c.mdts, maxTransferBytes: 2 ** c.mdts * 4096, oncsDsm: true, oncsWriteZeroes: true, volatileWriteCache: true }),
    async run({ driver }) {
      const id = await driver.identifyController();
      return { mdts: id.mdts, maxTransferBytes: driver.maxTransferBytes, oncsDsm: (id.oncs & 4) !== 0, oncsWriteZeroes: (id.oncs & 8) !== 0, volatileWriteCache: (id.vwc & 1) === 1 };
    },
  },
  {
    id: "identify-namespace-fields",
    group: "identify",
    title: "Identify Namespace 1: size, capacity and the active LBA format",
    expected: (c) => ({ nsze: c.capacityBlocks, ncap: c.capacityBlocks, lbaBytes: c.lbaBytes, metadataBytes: 0, flbasIndexValid: true }),
    async run({ driver }) {
      const ns = await driver.identifyNamespace(1);
      const active = ns.lbaFormats[ns.flbas & 0xf];
      return { nsze: Number(ns.nsze), ncap: Number(ns.ncap), lbaBytes: ns.lbaBytes, metadataBytes: active.metadataBytes, flbasIndexValid: (ns.flbas & 0xf) <= ns.nlbaf };
    },
  },
  {
    id: "identify-active-namespace-list",
    group: "identify",
    title: "Identify CNS 02h lists NSID 1 only, and nothing above it",
    expected: () => ({ fromZero: [1], afterOne: [] }),
    async run({ driver }) {
      return { fromZero: await driver.activeNamespaces(0), afterOne: await driver.activeNamespaces(1) };
    },
  },
  {
    id: "identify-namespace-inactive-nsid",
    group: "identify",
    title: "Identify Namespace of an inactive NSID (2..NN) returns a zero-filled structure",
    expected: () => ({ status: SUCCESS, allZero: true }),
    async run(ctx) {
      const r = await identifyRaw(ctx, cmd.IdentifyCns.namespace, 2);
      return { status: r.status, allZero: allZero(r.data) };
    },
  },
  {
    id: "identify-namespace-above-nn",
    group: "identify",
    title: "Identify Namespace of an NSID above NN fails with Invalid Namespace or Format",
    expected: () => ({ status: INVALID_NAMESPACE }),
    async run(ctx) {
      return { status: (await identifyRaw(ctx, cmd.IdentifyCns.namespace, ctx.config.maxNamespaces + 1)).status };
    },
  },
  {
    id: "identify-invalid-cns",
    group: "identify",
    title: "Identify with a reserved CNS value fails with Invalid Field",
    expected: () => ({ status: INVALID_FIELD }),
    async run(ctx) {
      return { status: (await identifyRaw(ctx, 0x3f, 0)).status };
    },
  },
  {
    id: "identify-buffer-at-offset",
    group: "identify",
    title: "Identify into a buffer at a page offset (PRP1 offset + PRP2) returns the same data",
    expected: () => ({ status: SUCCESS, sameAsAligned: true }),
    async run(ctx) {
      const aligned = await identifyRaw(ctx, cmd.IdentifyCns.controller, 0);
      const shifted = await identifyRaw(ctx, cmd.IdentifyCns.controller, 0, 0x7fc);
      // Fields that may legitimately change between two Identify commands are none in our devices.
      return { status: shifted.status, sameAsAligned: sameBytes(aligned.data, shifted.data) && parseIdentifyController(shifted.data).vid !== 0 };
    },
  },
  {
    id: "set-features-number-of-queues",
    group: "features",
    title: "Set Features Number of Queues allocates at least what was asked for; Get Features reports the same",
    expected: () => ({ setStatus: SUCCESS, allocatedAtLeastRequested: true, getStatus: SUCCESS, sameAsSet: true }),
    async run({ driver }) {
      await driver.enable();
      const set = await driver.submitAdmin(cmd.setNumberOfQueues(4, 4));
      const get = await driver.submitAdmin(cmd.getFeatures(cmd.FeatureId.numberOfQueues));
      return { setStatus: status(set), allocatedAtLeastRequested: (set.dw0 & 0xffff) + 1 >= 4 && (set.dw0 >>> 16) + 1 >= 4, getStatus: status(get), sameAsSet: get.dw0 === set.dw0 };
    },
  },
  {
    id: "set-features-number-of-queues-0xffff",
    group: "features",
    title: "Set Features Number of Queues with NSQR = 0xFFFF fails with Invalid Field",
    expected: () => ({ status: INVALID_FIELD }),
    async run({ driver }) {
      await driver.enable();
      const c = await driver.submitAdmin({ opcode: cmd.AdminOpcode.setFeatures, cdw10: cmd.FeatureId.numberOfQueues, cdw11: 0x0000_ffff });
      return { status: status(c) };
    },
  },
  {
    id: "set-features-number-of-queues-after-create",
    group: "features",
    title: "Set Features Number of Queues after I/O queues exist fails with Command Sequence Error",
    expected: () => ({ status: "generic/commandSequenceError (0x0c) DNR" }),
    async run({ driver }) {
      return { status: status(await driver.submitAdmin(cmd.setNumberOfQueues(2, 2))) };
    },
  },
  {
    id: "get-features-invalid-fid",
    group: "features",
    title: "Get Features of a reserved feature identifier fails with Invalid Field",
    expected: () => ({ status: INVALID_FIELD }),
    async run({ driver }) {
      return { status: status(await driver.submitAdmin(cmd.getFeatures(0x7e))) };
    },
  },
  {
    id: "volatile-write-cache-feature",
    group: "features",
    title: "Get Features Volatile Write Cache reports the cache enabled",
    expected: () => ({ status: SUCCESS, enabled: true }),
    async run({ driver }) {
      const c = await driver.submitAdmin(cmd.getFeatures(cmd.FeatureId.volatileWriteCache));
      return { status: status(c), enabled: (c.dw0 & 1) === 1 };
    },
  },
];
