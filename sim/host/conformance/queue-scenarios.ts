// Creating and deleting I/O queues (NVMe 1.4 §5.3-5.6) and the queue mechanics (§4.1, §4.6): every
// rejection the spec names, deletion order, ring wrap-around, and CQEs shared by several SQs.

import * as cmd from "../commands.ts";
import { CompletionQueue, SubmissionQueue } from "../queues.ts";
import { type ConformanceContext, type Scenario, status, SUCCESS } from "./scenario.ts";

const INVALID_QID = "commandSpecific/invalidQueueIdentifier (0x01) DNR";
const INVALID_QSIZE = "commandSpecific/invalidQueueSize (0x02) DNR";
const INVALID_CQ = "commandSpecific/invalidCompletionQueue (0x00) DNR";
// DNR is advisory (NVMe 1.4 §4.6.1.2); where the spec leaves it open the expectation follows QEMU.
const INVALID_DELETION = "commandSpecific/invalidQueueDeletion (0x0c)";

async function createCq(ctx: ConformanceContext, qid: number, entries: number, fields: Partial<cmd.CreateCqFields> = {}): Promise<string> {
  const bytes = Math.max(4096, entries * 16);
  const base = ctx.scratch(bytes);
  await ctx.transport.writeMemory(base, new Uint8Array(bytes));
  return status(await ctx.driver.submitAdmin(cmd.createIoCq({ qid, entries, base, ...fields })));
}

async function createSq(ctx: ConformanceContext, qid: number, entries: number, cqid: number, fields: Partial<cmd.CreateSqFields> = {}): Promise<string> {
  const base = ctx.scratch(Math.max(4096, entries * 64));
  return status(await ctx.driver.submitAdmin(cmd.createIoSq({ qid, entries, base, cqid, ...fields })));
}

export const queueScenarios: Scenario[] = [
  {
    id: "create-cq-qid-zero",
    group: "queues",
    title: "Create I/O CQ with QID 0 (the admin queue) fails with Invalid Queue Identifier",
    expected: () => ({ status: INVALID_QID }),
    run: async (ctx) => ({ status: await createCq(ctx, 0, 16) }),
  },
  {
    id: "create-cq-qid-above-allocated",
    group: "queues",
    title: "Create I/O CQ with a QID above the number of queues allocated fails with Invalid Queue Identifier",
    expected: () => ({ status: INVALID_QID }),
    run: async (ctx) => ({ status: await createCq(ctx, ctx.config.maxIoQueuePairs + 1, 16) }),
  },
  {
    id: "create-cq-qid-in-use",
    group: "queues",
    title: "Create I/O CQ with the QID of an existing CQ fails with Invalid Queue Identifier",
    expected: () => ({ status: INVALID_QID }),
    run: async (ctx) => ({ status: await createCq(ctx, 1, 16) }),
  },
  {
    id: "create-cq-size-zero",
    group: "queues",
    title: "Create I/O CQ with QSIZE 0 (one entry) fails with Invalid Queue Size",
    expected: () => ({ status: INVALID_QSIZE }),
    run: async (ctx) => ({ status: await createCq(ctx, 2, 1) }),
  },
  {
    id: "create-cq-size-above-mqes",
    group: "queues",
    title: "Create I/O CQ larger than CAP.MQES + 1 fails with Invalid Queue Size",
    expected: () => ({ status: INVALID_QSIZE }),
    run: async (ctx) => ({ status: await createCq(ctx, 2, ctx.config.maxQueueEntries + 1) }),
  },
  {
    id: "create-cq-size-at-mqes",
    group: "queues",
    title: "Create I/O CQ of exactly CAP.MQES + 1 entries succeeds",
    expected: () => ({ status: SUCCESS }),
    run: async (ctx) => ({ status: await createCq(ctx, 2, ctx.config.maxQueueEntries) }),
  },
  {
    id: "create-cq-not-contiguous",
    group: "queues",
    title: "Create I/O CQ with PC = 0 while CAP.CQR = 1 fails with Invalid Field",
    expected: () => ({ status: "generic/invalidField (0x02) DNR" }),
    run: async (ctx) => ({ status: await createCq(ctx, 2, 16, { physicallyContiguous: false }) }),
  },
  {
    id: "create-sq-missing-cq",
    group: "queues",
    title: "Create I/O SQ bound to a CQ that does not exist fails with Invalid Completion Queue",
    expected: () => ({ status: INVALID_CQ }),
    run: async (ctx) => ({ status: await createSq(ctx, 2, 16, 5) }),
  },
  {
    id: "create-sq-admin-cq",
    group: "queues",
    title: "Create I/O SQ bound to CQ 0 (the admin CQ) fails with Invalid Completion Queue",
    expected: () => ({ status: INVALID_CQ }),
    run: async (ctx) => ({ status: await createSq(ctx, 2, 16, 0) }),
  },
  {
    id: "create-sq-qid-in-use",
    group: "queues",
    title: "Create I/O SQ with the QID of an existing SQ fails with Invalid Queue Identifier",
    expected: () => ({ status: INVALID_QID }),
    run: async (ctx) => ({ status: await createSq(ctx, 1, 16, 1) }),
  },
  {
    id: "create-sq-size-above-mqes",
    group: "queues",
    title: "Create I/O SQ larger than CAP.MQES + 1 fails with Invalid Queue Size",
    expected: () => ({ cq: SUCCESS, sq: INVALID_QSIZE }),
    run: async (ctx) => ({ cq: await createCq(ctx, 2, 16), sq: await createSq(ctx, 2, ctx.config.maxQueueEntries + 1, 2) }),
  },
  {
    id: "delete-cq-with-sq-attached",
    group: "queues",
    title: "Delete I/O CQ while an SQ still targets it fails with Invalid Queue Deletion",
    expected: () => ({ status: INVALID_DELETION }),
    run: async ({ driver }) => ({ status: status(await driver.submitAdmin(cmd.deleteIoCq(1))) }),
  },
  {
    id: "delete-queue-order",
    group: "queues",
    title: "Deleting SQ 1 then CQ 1 succeeds; deleting them again fails with Invalid Queue Identifier",
    expected: () => ({ deleteSq: SUCCESS, deleteCq: SUCCESS, deleteSqAgain: INVALID_QID, deleteCqAgain: INVALID_QID }),
    async run({ driver }) {
      const deleteSq = status(await driver.submitAdmin(cmd.deleteIoSq(1)));
      const deleteCq = status(await driver.submitAdmin(cmd.deleteIoCq(1)));
      const deleteSqAgain = status(await driver.submitAdmin(cmd.deleteIoSq(1)));
      const deleteCqAgain = status(await driver.submitAdmin(cmd.deleteIoCq(1)));
      return { deleteSq, deleteCq, deleteSqAgain, deleteCqAgain };
    },
  },
  {
    id: "delete-admin-queue",
    group: "queues",
    title: "Delete I/O SQ/CQ with QID 0 fails with Invalid Queue Identifier",
    expected: () => ({ sq: INVALID_QID, cq: INVALID_QID }),
    async run({ driver }) {
      return { sq: status(await driver.submitAdmin(cmd.deleteIoSq(0))), cq: status(await driver.submitAdmin(cmd.deleteIoCq(0))) };
    },
  },
  {
    id: "queue-ring-wraparound",
    group: "queues",
    title: "a 4-entry I/O queue pair carries 11 commands: SQ head and CQ phase wrap correctly",
    expected: () => ({ statuses: Array(11).fill(SUCCESS), sqHeads: [1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], cidsEchoed: true }),
    async run(ctx) {
      const { driver } = ctx;
      const pair = await driver.createIoQueuePair(2, 4);
      const statuses: string[] = [];
      const sqHeads: number[] = [];
      let cidsEchoed = true;
      for (let i = 0; i < 11; i++) {
        const c = await driver.submitIo(pair, cmd.flush(ctx.ns.nsid));
        statuses.push(status(c));
        sqHeads.push(c.sqHead);
        cidsEchoed &&= c.sqId === 2;
      }
      await driver.deleteIoQueuePair(pair);
      return { statuses, sqHeads, cidsEchoed };
    },
  },
  {
    id: "two-sqs-share-one-cq",
    group: "queues",
    title: "two SQs bound to one CQ: each completion names its SQ and CID",
    expected: () => ({ create: [SUCCESS, SUCCESS, SUCCESS], completions: [[2, 0, SUCCESS], [3, 0, SUCCESS], [2, 1, SUCCESS]] }),
    async run(ctx) {
      const { driver, transport } = ctx;
      const stride = driver.cap!.doorbellStride;
      const cqLoc = { qid: 2, base: ctx.scratch(4096), entries: 16, bar0: driver.bar0, doorbellStride: stride };
      const cq = new CompletionQueue(transport, cqLoc);
      await cq.clear();
      const sqA = new SubmissionQueue(transport, { ...cqLoc, qid: 2, base: ctx.scratch(4096) });
      const sqB = new SubmissionQueue(transport, { ...cqLoc, qid: 3, base: ctx.scratch(4096) });
      const create = [
        status(await driver.submitAdmin(cmd.createIoCq({ qid: 2, entries: 16, base: cqLoc.base }))),
        status(await driver.submitAdmin(cmd.createIoSq({ qid: 2, entries: 16, base: sqA.location.base, cqid: 2 }))),
        status(await driver.submitAdmin(cmd.createIoSq({ qid: 3, entries: 16, base: sqB.location.base, cqid: 2 }))),
      ];
      const completions: [number, number, string][] = [];
      for (const sq of [sqA, sqB, sqA]) {
        const c = await driver.submitIo({ qid: sq.qid, sq, cq }, cmd.flush(ctx.ns.nsid));
        completions.push([c.sqId, c.cid, status(c)]);
      }
      return { create, completions };
    },
  },
];
