// Commands the controller must refuse (NVMe 1.4 §4.6.1.2, §6): unknown opcodes, bad namespaces,
// LBA ranges past the end, transfers above MDTS, and reserved DW0 fields.

import * as cmd from "../commands.ts";
import { type ConformanceContext, type Scenario, status } from "./scenario.ts";

const INVALID_OPCODE = "generic/invalidOpcode (0x01) DNR";
const INVALID_FIELD = "generic/invalidField (0x02) DNR";
const INVALID_NAMESPACE = "generic/invalidNamespaceOrFormat (0x0b) DNR";
const LBA_OUT_OF_RANGE = "generic/lbaOutOfRange (0x80) DNR";

/** A read of `blocks` at `slba` into a scratch buffer big enough for it. */
async function readStatus(ctx: ConformanceContext, slba: bigint, blocks: number, nsid = ctx.ns.nsid): Promise<string> {
  const { driver, io, ns } = ctx;
  const buffer = driver.allocateBuffer(blocks * ns.lbaBytes);
  try {
    return status(await driver.transfer((c) => driver.submitIo(io, c), (d) => cmd.read({ nsid, slba, blocks }, d), buffer));
  } finally {
    buffer.release(driver.memory);
  }
}

export const errorScenarios: Scenario[] = [
  {
    id: "mdts-exceeded",
    group: "errors",
    title: "a read one block larger than MDTS fails with Invalid Field",
    expected: () => ({ status: INVALID_FIELD }),
    run: async (ctx) => ({ status: await readStatus(ctx, 0n, ctx.driver.maxTransferBytes / ctx.ns.lbaBytes + 1) }),
  },
  {
    id: "lba-out-of-range",
    group: "errors",
    title: "a read starting at NSZE fails with LBA Out of Range",
    expected: () => ({ status: LBA_OUT_OF_RANGE }),
    run: async (ctx) => ({ status: await readStatus(ctx, ctx.ns.nsze, 1) }),
  },
  {
    id: "lba-range-crosses-end",
    group: "errors",
    title: "a read of the last block and one more fails with LBA Out of Range",
    expected: () => ({ status: LBA_OUT_OF_RANGE }),
    run: async (ctx) => ({ status: await readStatus(ctx, ctx.ns.nsze - 1n, 2) }),
  },
  {
    id: "lba-last-block",
    group: "errors",
    title: "a read of exactly the last block succeeds",
    expected: () => ({ status: "generic/success (0x00)" }),
    run: async (ctx) => ({ status: await readStatus(ctx, ctx.ns.nsze - 1n, 1) }),
  },
  {
    id: "invalid-io-opcode",
    group: "errors",
    title: "an unassigned I/O opcode (0x7c) fails with Invalid Command Opcode",
    expected: () => ({ status: INVALID_OPCODE }),
    run: async ({ driver, io, ns }) => ({ status: status(await driver.submitIo(io, { opcode: 0x7c, nsid: ns.nsid })) }),
  },
  {
    id: "invalid-admin-opcode",
    group: "errors",
    title: "an unassigned admin opcode (0x3c) fails with Invalid Command Opcode",
    expected: () => ({ status: INVALID_OPCODE }),
    run: async ({ driver }) => ({ status: status(await driver.submitAdmin({ opcode: 0x3c })) }),
  },
  {
    id: "read-nsid-inactive",
    group: "errors",
    title: "a read of an inactive NSID (2..NN) fails with Invalid Field in Command",
    expected: () => ({ status: INVALID_FIELD }),
    run: async (ctx) => ({ status: await readStatus(ctx, 0n, 1, 2) }),
  },
  {
    id: "read-nsid-above-nn",
    group: "errors",
    title: "a read of an NSID above NN fails with Invalid Namespace or Format",
    expected: () => ({ status: INVALID_NAMESPACE }),
    run: async (ctx) => ({ status: await readStatus(ctx, 0n, 1, ctx.config.maxNamespaces + 1) }),
  },
  {
    id: "read-nsid-zero",
    group: "errors",
    title: "a read of NSID 0 fails with Invalid Namespace or Format",
    expected: () => ({ status: INVALID_NAMESPACE }),
    run: async (ctx) => ({ status: await readStatus(ctx, 0n, 1, 0) }),
  },
  {
    id: "read-nsid-broadcast",
    group: "errors",
    title: "a read of NSID 0xFFFFFFFF fails with Invalid Namespace or Format",
    expected: () => ({ status: INVALID_NAMESPACE }),
    run: async (ctx) => ({ status: await readStatus(ctx, 0n, 1, 0xffff_ffff) }),
  },
  {
    id: "fused-operation-unsupported",
    group: "errors",
    title: "a Read marked as the first of a fused pair (FUSES = 0) fails with Invalid Field",
    // DNR is advisory (NVMe 1.4 §4.6.1.2); the expectation follows QEMU, which leaves it clear here.
    expected: () => ({ status: "generic/invalidField (0x02)" }),
    async run(ctx) {
      const { driver, io, ns } = ctx;
      const page = ctx.scratch(4096);
      const c = await driver.submitIo(io, { ...cmd.read({ nsid: ns.nsid, slba: 0n, blocks: 1 }, { prp1: page, prp2: 0n }), fuse: 1 });
      return { status: status(c) };
    },
  },
];
