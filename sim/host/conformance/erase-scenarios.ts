// Format NVM (NVMe 1.4 §5.23), Sanitize (§5.24) and the Error Information log (§5.14.1.1) on the
// conformance device, which supports Format NVM but neither its cryptographic erase (FNA 0) nor
// Sanitize (SANICAP 0), as QEMU 7.2's nvme device. Every scenario that formats leaves namespace 1 in
// its 512-byte format, so the next scenario starts where the runner expects.

import * as cmd from "../commands.ts";
import type { IdentifyNamespace } from "../identify.ts";
import { allZero, type ConformanceContext, pattern, sameBytes, type Scenario, status, SUCCESS } from "./scenario.ts";

const INVALID_FIELD = "generic/invalidField (0x02) DNR";
const INVALID_FORMAT = "commandSpecific/invalidFormat (0x0a) DNR";
const INVALID_NAMESPACE = "generic/invalidNamespaceOrFormat (0x0b) DNR";
const INVALID_OPCODE = "generic/invalidOpcode (0x01) DNR";
const FIRST_BLOCK = 9000;
const BLOCKS = 4;

/** The LBA format index with `lbaBytes`-byte blocks and no metadata, or -1. */
function formatIndex(ns: IdentifyNamespace, lbaBytes: number): number {
  return ns.lbaFormats.findIndex((f) => f.lbaBytes === lbaBytes && f.metadataBytes === 0);
}

async function fill(ctx: ConformanceContext): Promise<Uint8Array> {
  const data = pattern(FIRST_BLOCK, BLOCKS * ctx.ns.lbaBytes);
  await ctx.driver.writeBlocks(ctx.io, ctx.ns, BigInt(FIRST_BLOCK), data);
  return data;
}

/** Per block: "d" the data written before, "0" zeroes, "?" anything else. */
async function survey(ctx: ConformanceContext, original: Uint8Array): Promise<string> {
  const back = await ctx.driver.readBlocks(ctx.io, ctx.ns, BigInt(FIRST_BLOCK), BLOCKS);
  const size = ctx.ns.lbaBytes;
  let map = "";
  for (let i = 0; i < BLOCKS; i++) {
    const got = back.subarray(i * size, (i + 1) * size);
    map += sameBytes(got, original.subarray(i * size, (i + 1) * size)) ? "d" : allZero(got) ? "0" : "?";
  }
  return map;
}

/** Write, Format NVM with these fields, read back: the status and what the blocks hold. */
async function formatAndSurvey(ctx: ConformanceContext, fields: Omit<cmd.FormatNvmFields, "lbaFormat"> & { lbaFormat?: number }): Promise<{ status: string; blocks: string }> {
  const original = await fill(ctx);
  const ns = await ctx.driver.identifyNamespace(ctx.ns.nsid);
  const c = await ctx.driver.formatNvm({ lbaFormat: formatIndex(ns, ctx.ns.lbaBytes), ...fields });
  return { status: status(c), blocks: await survey(ctx, original) };
}

export const eraseScenarios: Scenario[] = [
  {
    id: "format-advertised",
    group: "erase",
    title: "Identify reports Format NVM (OACS bit 1), no crypto erase or all-namespace attributes (FNA 0), no Sanitize (SANICAP 0); the namespace offers a 512- and a 4096-byte format without metadata",
    expected: () => ({ formatNvm: true, fna: 0, sanicap: 0, has512: true, has4096: true }),
    async run({ driver, ns }) {
      const controller = await driver.identifyController();
      const id = await driver.identifyNamespace(ns.nsid);
      return {
        formatNvm: ((controller.oacs >> 1) & 1) === 1,
        fna: controller.fna,
        sanicap: controller.sanicap,
        has512: formatIndex(id, 512) >= 0,
        has4096: formatIndex(id, 4096) >= 0,
      };
    },
  },
  {
    id: "format-no-secure-erase",
    group: "erase",
    title: "Format NVM of namespace 1 without secure erase (SES 0): success, and the blocks written before read as zeroes",
    expected: () => ({ status: SUCCESS, blocks: "0000" }),
    run: (ctx) => formatAndSurvey(ctx, { nsid: ctx.ns.nsid, secureErase: 0 }),
  },
  {
    id: "format-user-data-erase",
    group: "erase",
    title: "Format NVM with User Data Erase (SES 1): success, the blocks read as zeroes",
    expected: () => ({ status: SUCCESS, blocks: "0000" }),
    run: (ctx) => formatAndSurvey(ctx, { nsid: ctx.ns.nsid, secureErase: 1 }),
  },
  {
    id: "format-crypto-erase-unsupported",
    group: "erase",
    title: "Format NVM with Cryptographic Erase (SES 2) when FNA bit 2 is 0: Invalid Field in Command, data untouched",
    expected: () => ({ cryptoEraseSupported: false, status: INVALID_FIELD, blocks: "dddd" }),
    async run(ctx) {
      const controller = await ctx.driver.identifyController();
      return { cryptoEraseSupported: ((controller.fna >> 2) & 1) === 1, ...(await formatAndSurvey(ctx, { nsid: ctx.ns.nsid, secureErase: 2 })) };
    },
  },
  {
    id: "format-reserved-secure-erase",
    group: "erase",
    title: "Format NVM with a reserved Secure Erase Setting (SES 3): Invalid Field in Command, data untouched",
    expected: () => ({ status: INVALID_FIELD, blocks: "dddd" }),
    run: (ctx) => formatAndSurvey(ctx, { nsid: ctx.ns.nsid, secureErase: 3 }),
  },
  {
    id: "format-lba-format-not-offered",
    group: "erase",
    title: "Format NVM to the LBA format just past NLBAF: Invalid Format, data untouched",
    expected: () => ({ status: INVALID_FORMAT, blocks: "dddd" }),
    async run(ctx) {
      const ns = await ctx.driver.identifyNamespace(ctx.ns.nsid);
      return formatAndSurvey(ctx, { nsid: ctx.ns.nsid, lbaFormat: ns.nlbaf + 1 });
    },
  },
  {
    id: "format-protection-without-metadata",
    group: "erase",
    title: "Format NVM enabling protection information (PI type 1) on a format without metadata: Invalid Format, data untouched",
    expected: () => ({ status: INVALID_FORMAT, blocks: "dddd" }),
    run: (ctx) => formatAndSurvey(ctx, { nsid: ctx.ns.nsid, protectionInfo: 1 }),
  },
  {
    id: "format-bad-nsid",
    group: "erase",
    title: "Format NVM of NSID 0 and above NN is Invalid Namespace or Format; of an inactive NSID (2..NN) Invalid Field",
    expected: () => ({ zero: INVALID_NAMESPACE, aboveNn: INVALID_NAMESPACE, inactive: INVALID_FIELD }),
    async run({ driver, config }) {
      const lbaFormat = formatIndex(await driver.identifyNamespace(1), config.lbaBytes);
      return {
        zero: status(await driver.formatNvm({ nsid: 0, lbaFormat })),
        aboveNn: status(await driver.formatNvm({ nsid: config.maxNamespaces + 1, lbaFormat })),
        inactive: status(await driver.formatNvm({ nsid: 2, lbaFormat })),
      };
    },
  },
  {
    id: "format-broadcast",
    group: "erase",
    title: "Format NVM of NSID FFFFFFFFh formats every namespace: success, namespace 1 reads as zeroes",
    expected: () => ({ status: SUCCESS, blocks: "0000" }),
    run: (ctx) => formatAndSurvey(ctx, { nsid: 0xffff_ffff }),
  },
  {
    id: "format-4096-and-back",
    group: "erase",
    title: "Format NVM to the 4096-byte format: same capacity in bytes, 4096-byte blocks work; formatting back restores 512-byte blocks",
    expected: (config) => ({
      status: SUCCESS,
      lbaBytes: 4096,
      nsze: (config.capacityBlocks * config.lbaBytes) / 4096,
      dataBack: true,
      restored: SUCCESS,
      restoredLbaBytes: config.lbaBytes,
      restoredNsze: config.capacityBlocks,
    }),
    async run(ctx) {
      const { driver, io } = ctx;
      const before = await driver.identifyNamespace(ctx.ns.nsid);
      const c = await driver.formatNvm({ nsid: ctx.ns.nsid, lbaFormat: formatIndex(before, 4096) });
      const after = await driver.identifyNamespace(ctx.ns.nsid);
      const big = { nsid: ctx.ns.nsid, lbaBytes: after.lbaBytes };
      const data = pattern(0x4096, 4096);
      await driver.writeBlocks(io, big, 5n, data);
      const dataBack = sameBytes(await driver.readBlocks(io, big, 5n, 1), data);
      const restored = await driver.formatNvm({ nsid: ctx.ns.nsid, lbaFormat: formatIndex(after, ctx.ns.lbaBytes) });
      const back = await driver.identifyNamespace(ctx.ns.nsid);
      return {
        status: status(c),
        lbaBytes: after.lbaBytes,
        nsze: Number(after.nsze),
        dataBack,
        restored: status(restored),
        restoredLbaBytes: back.lbaBytes,
        restoredNsze: Number(back.nsze),
      };
    },
  },
  {
    id: "sanitize-unsupported",
    group: "erase",
    title: "With SANICAP 0, Sanitize (any action) is an unsupported opcode and the Sanitize Status log (81h) does not exist; data untouched",
    expected: () => ({ blockErase: INVALID_OPCODE, cryptoErase: INVALID_OPCODE, exitFailureMode: INVALID_OPCODE, statusLog: INVALID_FIELD, blocks: "dddd" }),
    async run(ctx) {
      const original = await fill(ctx);
      const { driver } = ctx;
      return {
        blockErase: status(await driver.sanitize({ action: 2 })),
        cryptoErase: status(await driver.sanitize({ action: 4 })),
        exitFailureMode: status(await driver.sanitize({ action: 1 })),
        statusLog: status((await driver.getLogPage(cmd.LogPageId.sanitizeStatus, 512)).completion),
        blocks: await survey(ctx, original),
      };
    },
  },
  {
    id: "error-log-records-failure",
    group: "erase",
    title: "After a command fails (an unsupported admin opcode) the Error Information log's newest entry names it: SQ 0, its CID and status",
    expected: () => ({ elpe: 0, used: true, sqid: 0, cidMatches: true, status: 0x0001 | (1 << 14) }),
    async run({ driver }) {
      const failed = await driver.submitAdmin({ opcode: 0x7f });
      const controller = await driver.identifyController();
      const log = (await driver.getLogPage(cmd.LogPageId.errorInformation, 64)).data!;
      const v = new DataView(log.buffer, log.byteOffset, log.byteLength);
      return {
        elpe: controller.elpe,
        used: v.getBigUint64(0, true) !== 0n,
        sqid: v.getUint16(8, true),
        cidMatches: v.getUint16(10, true) === failed.cid,
        status: v.getUint16(12, true) >> 1,
      };
    },
  },
  {
    id: "log-page-offset",
    group: "erase",
    title: "Get Log Page honours NUMD and the offset: 8 bytes of SMART from byte 4 match the whole log's; an offset at the end of the error log (ELPE 0: 64 bytes) or not dword aligned is Invalid Field",
    expected: () => ({ smartTail: true, errorLogPastEnd: INVALID_FIELD, unaligned: INVALID_FIELD }),
    async run({ driver }) {
      const whole = (await driver.getLogPage(cmd.LogPageId.smartHealth, 512)).data!;
      const tail = (await driver.getLogPage(cmd.LogPageId.smartHealth, 8, 4n)).data!;
      return {
        smartTail: sameBytes(tail, whole.subarray(4, 12)),
        errorLogPastEnd: status((await driver.getLogPage(cmd.LogPageId.errorInformation, 64, 64n)).completion),
        unaligned: status((await driver.getLogPage(cmd.LogPageId.smartHealth, 8, 2n)).completion),
      };
    },
  },
];
