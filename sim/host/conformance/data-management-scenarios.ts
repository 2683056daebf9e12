// Flush, Write Zeroes and Dataset Management (NVMe 1.4 §6.8, §6.16, §6.7).

import * as cmd from "../commands.ts";
import { allZero, type ConformanceContext, pattern, sameBytes, type Scenario, status, SUCCESS } from "./scenario.ts";

const LBA_OUT_OF_RANGE = "generic/lbaOutOfRange (0x80) DNR";

/** Write `blocks` of pattern at `slba` and return the pattern. */
async function fill(ctx: ConformanceContext, slba: number, blocks: number): Promise<Uint8Array> {
  const data = pattern(slba, blocks * ctx.ns.lbaBytes);
  await ctx.driver.writeBlocks(ctx.io, ctx.ns, BigInt(slba), data);
  return data;
}

/** Which of `blocks` blocks at `slba` read back as zeroes / as the original pattern. */
async function survey(ctx: ConformanceContext, slba: number, blocks: number, original: Uint8Array): Promise<string> {
  const back = await ctx.driver.readBlocks(ctx.io, ctx.ns, BigInt(slba), blocks);
  const size = ctx.ns.lbaBytes;
  let map = "";
  for (let i = 0; i < blocks; i++) {
    const got = back.subarray(i * size, (i + 1) * size);
    map += sameBytes(got, original.subarray(i * size, (i + 1) * size)) ? "d" : allZero(got) ? "0" : "?";
  }
  return map;
}

export const dataManagementScenarios: Scenario[] = [
  {
    id: "flush-namespace",
    group: "data-management",
    title: "Flush of namespace 1 succeeds",
    expected: () => ({ status: SUCCESS }),
    run: async ({ driver, io, ns }) => ({ status: status(await driver.submitIo(io, cmd.flush(ns.nsid))) }),
  },
  {
    id: "flush-broadcast",
    group: "data-management",
    title: "Flush of NSID 0xFFFFFFFF succeeds when Identify VWC bits 2:1 report broadcast support",
    expected: () => ({ broadcastSupported: true, status: SUCCESS }),
    async run({ driver, io }) {
      const vwc = (await driver.identifyController()).vwc;
      return { broadcastSupported: ((vwc >> 1) & 3) === 3, status: status(await driver.submitIo(io, cmd.flush(0xffff_ffff))) };
    },
  },
  {
    id: "flush-inactive-nsid",
    group: "data-management",
    title: "Flush of an inactive NSID (2..NN) fails with Invalid Field in Command",
    expected: () => ({ status: "generic/invalidField (0x02) DNR" }),
    run: async ({ driver, io }) => ({ status: status(await driver.submitIo(io, cmd.flush(2))) }),
  },
  {
    id: "write-zeroes-middle",
    group: "data-management",
    title: "Write Zeroes over blocks 4..11 of 16 written blocks zeroes exactly those",
    expected: () => ({ status: SUCCESS, blocks: "dddd00000000dddd" }),
    async run(ctx) {
      const original = await fill(ctx, 7000, 16);
      const c = await ctx.driver.submitIo(ctx.io, cmd.writeZeroes({ nsid: ctx.ns.nsid, slba: 7004n, blocks: 8 }));
      return { status: status(c), blocks: await survey(ctx, 7000, 16, original) };
    },
  },
  {
    id: "write-zeroes-out-of-range",
    group: "data-management",
    title: "Write Zeroes past the end of the namespace fails with LBA Out of Range",
    expected: () => ({ status: LBA_OUT_OF_RANGE }),
    run: async (ctx) => ({ status: status(await ctx.driver.submitIo(ctx.io, cmd.writeZeroes({ nsid: ctx.ns.nsid, slba: ctx.ns.nsze - 2n, blocks: 4 }))) }),
  },
  {
    id: "deallocate-then-read",
    group: "data-management",
    title: "Dataset Management deallocate of two ranges; DLFEAT says deallocated blocks read as zeroes, and they do",
    expected: () => ({ status: SUCCESS, readsZeroes: true, blocks: "d00dd000dd" }),
    async run(ctx) {
      const original = await fill(ctx, 8000, 10);
      const c = await ctx.driver.deallocate(ctx.io, ctx.ns.nsid, [{ slba: 8001n, blocks: 2 }, { slba: 8005n, blocks: 3 }]);
      const ns = await ctx.driver.identifyNamespace(ctx.ns.nsid);
      return { status: status(c), readsZeroes: (ns.dlfeat & 7) === 1, blocks: await survey(ctx, 8000, 10, original) };
    },
  },
  {
    id: "deallocate-out-of-range",
    group: "data-management",
    title: "Dataset Management deallocate of a range past the end fails with LBA Out of Range",
    expected: () => ({ status: LBA_OUT_OF_RANGE }),
    async run(ctx) {
      return { status: status(await ctx.driver.deallocate(ctx.io, ctx.ns.nsid, [{ slba: ctx.ns.nsze - 1n, blocks: 2 }])) };
    },
  },
];
