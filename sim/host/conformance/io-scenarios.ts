// Reads and writes across every PRP shape (NVMe 1.4 §4.3): one page, an offset into the first page,
// PRP2 as a page, PRP lists over contiguous and scattered pages, a list entered at an offset that has
// to chain, the MDTS-sized transfer, and PRP entries with offsets the spec forbids.

import * as cmd from "../commands.ts";
import type { BufferShape } from "../data-buffer.ts";
import { encodePrpList, type PrpListOptions } from "../prp.ts";
import { allZero, type ConformanceContext, pattern, sameBytes, type Scenario, status, SUCCESS } from "./scenario.ts";

const INVALID_PRP_OFFSET = "generic/invalidPrpOffset (0x13) DNR";

interface RoundTrip {
  write: string;
  read: string;
  dataMatches: boolean;
}

/** Write a pattern with one buffer shape, read it back with another, compare. */
async function roundTrip(ctx: ConformanceContext, slba: number, blocks: number, shapes: { write?: BufferShape; read?: BufferShape; lists?: PrpListOptions } = {}): Promise<RoundTrip> {
  const { driver, transport, io, ns } = ctx;
  const bytes = blocks * ns.lbaBytes;
  const data = pattern(slba, bytes);
  const range = { nsid: ns.nsid, slba: BigInt(slba), blocks };
  const wbuf = driver.allocateBuffer(bytes, shapes.write);
  const rbuf = driver.allocateBuffer(bytes, shapes.read);
  try {
    await wbuf.write(transport, data);
    await rbuf.write(transport, new Uint8Array(bytes).fill(0xee));
    const w = await driver.transfer((c) => driver.submitIo(io, c), (d) => cmd.write(range, d), wbuf, shapes.lists);
    const r = await driver.transfer((c) => driver.submitIo(io, c), (d) => cmd.read(range, d), rbuf, shapes.lists);
    return { write: status(w), read: status(r), dataMatches: sameBytes(await rbuf.read(transport), data) };
  } finally {
    wbuf.release(driver.memory);
    rbuf.release(driver.memory);
  }
}

const roundTripOk = (): RoundTrip => ({ write: SUCCESS, read: SUCCESS, dataMatches: true });

/** Blocks that fill `pages` whole 4 KiB pages at the configured LBA size. */
const pagesOfBlocks = (ctx: ConformanceContext, pages: number) => (pages * 4096) / ctx.ns.lbaBytes;

export const ioScenarios: Scenario[] = [
  {
    id: "rw-one-block",
    group: "io",
    title: "write and read back one block through a page-aligned PRP1",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 100, 1)) }),
  },
  {
    id: "rw-prp1-offset",
    group: "io",
    title: "one block through PRP1 with an in-page offset (write at 0x200, read at 0xe00)",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 200, 1, { write: { offset: 0x200 }, read: { offset: 0xe00 } })) }),
  },
  {
    id: "rw-prp1-odd-dword-offset",
    group: "io",
    title: "a transfer whose PRP1 offset is DW- but not block-aligned (0x0c4)",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 300, 2, { write: { offset: 0x0c4 }, read: { offset: 0x3fc } })) }),
  },
  {
    id: "rw-two-pages-prp2",
    group: "io",
    title: "two whole pages: PRP2 points at the second page",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 400, pagesOfBlocks(ctx, 2))) }),
  },
  {
    id: "rw-one-page-straddling",
    group: "io",
    title: "one page of data starting mid-page: two pages through PRP1 + PRP2",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 500, pagesOfBlocks(ctx, 1), { write: { offset: 0x800 }, read: { offset: 0x600, scattered: true } })) }),
  },
  {
    id: "rw-prp-list-contiguous",
    group: "io",
    title: "64 KiB through a PRP list over contiguous pages",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 1000, pagesOfBlocks(ctx, 16))) }),
  },
  {
    id: "rw-prp-list-scattered-offset",
    group: "io",
    title: "a PRP list over scattered pages with a PRP1 offset",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 2000, pagesOfBlocks(ctx, 9), { write: { scattered: true, offset: 0x100 }, read: { scattered: true, offset: 0xf00 } })) }),
  },
  {
    id: "rw-prp-list-at-list-page-offset",
    group: "io",
    title: "a PRP list that starts at an offset inside its page (no chaining needed)",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 3000, pagesOfBlocks(ctx, 6), { lists: { firstListOffset: 0x800 } })) }),
  },
  {
    id: "rw-prp-list-chained",
    group: "io",
    title: "a PRP list entered 16 bytes before its page end, chaining to a second list page",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 4000, pagesOfBlocks(ctx, 10), { lists: { firstListOffset: 4096 - 16 } })) }),
  },
  {
    id: "rw-max-data-transfer",
    group: "io",
    title: "a transfer of exactly MDTS bytes over scattered pages",
    expected: () => ({ ...roundTripOk() }),
    run: async (ctx) => ({ ...(await roundTrip(ctx, 10_000, ctx.driver.maxTransferBytes / ctx.ns.lbaBytes, { write: { scattered: true }, read: { scattered: true } })) }),
  },
  {
    id: "rw-prp2-page-with-offset",
    group: "io",
    title: "PRP2 used as the second page but carrying an offset fails with PRP Offset Invalid",
    expected: () => ({ status: INVALID_PRP_OFFSET }),
    async run(ctx) {
      const { driver, io, ns } = ctx;
      const first = ctx.scratch(4096);
      const second = ctx.scratch(4096);
      const c = await driver.submitIo(io, cmd.read({ nsid: ns.nsid, slba: 0n, blocks: pagesOfBlocks(ctx, 1) }, { prp1: first + 0x800n, prp2: second + 0x40n }));
      return { status: status(c) };
    },
  },
  {
    id: "rw-prp-list-entry-with-offset",
    group: "io",
    title: "a PRP list entry with a non-zero offset fails with PRP Offset Invalid",
    expected: () => ({ status: INVALID_PRP_OFFSET }),
    async run(ctx) {
      const { driver, io, ns, transport } = ctx;
      const data = ctx.scratch(4 * 4096);
      const list = ctx.scratch(4096);
      const entries = [data + 0x1000n, data + 0x2000n + 0x200n, data + 0x3000n];
      await transport.writeMemory(list, encodePrpList(entries));
      const c = await driver.submitIo(io, cmd.read({ nsid: ns.nsid, slba: 0n, blocks: pagesOfBlocks(ctx, 4) }, { prp1: data, prp2: list }));
      return { status: status(c) };
    },
  },
  {
    id: "read-unwritten-blocks",
    group: "io",
    title: "blocks never written read back as zeroes",
    expected: () => ({ status: SUCCESS, allZero: true }),
    async run(ctx) {
      const { driver, io, ns, transport } = ctx;
      const buffer = driver.allocateBuffer(8 * ns.lbaBytes);
      try {
        await buffer.write(transport, new Uint8Array(buffer.length).fill(0xee));
        const c = await driver.transfer((x) => driver.submitIo(io, x), (d) => cmd.read({ nsid: ns.nsid, slba: ns.nsze - 8n, blocks: 8 }, d), buffer);
        return { status: status(c), allZero: allZero(await buffer.read(transport)) };
      } finally {
        buffer.release(driver.memory);
      }
    },
  },
  {
    id: "write-fua",
    group: "io",
    title: "a Force Unit Access write succeeds and reads back",
    expected: () => ({ write: SUCCESS, dataMatches: true }),
    async run(ctx) {
      const { driver, io, ns, transport } = ctx;
      const data = pattern(77, 4 * ns.lbaBytes);
      const buffer = driver.allocateBuffer(data.length);
      try {
        await buffer.write(transport, data);
        const c = await driver.transfer((x) => driver.submitIo(io, x), (d) => cmd.write({ nsid: ns.nsid, slba: 5000n, blocks: 4 }, d, true), buffer);
        const back = await driver.readBlocks(io, ns, 5000n, 4);
        return { write: status(c), dataMatches: sameBytes(back, data) };
      } finally {
        buffer.release(driver.memory);
      }
    },
  },
  {
    id: "data-survives-controller-reset",
    group: "io",
    title: "data written before a controller reset (CC.EN 1 -> 0 -> 1) reads back after it",
    expected: () => ({ dataMatches: true }),
    async run(ctx) {
      const { driver, ns, config } = ctx;
      const data = pattern(6000, 8 * ns.lbaBytes);
      await driver.writeBlocks(ctx.io, ns, 6000n, data);
      await driver.flush(ctx.io, ns.nsid);
      await driver.enable();
      await driver.setNumberOfQueues(config.maxIoQueuePairs);
      const io = await driver.createIoQueuePair(1, 16);
      return { dataMatches: sameBytes(await driver.readBlocks(io, ns, 6000n, 8), data) };
    },
  },
];
