// The PRP walker (NVMe 1.4 §4.3, facts digest §E.8): turns PRP1/PRP2 and a transfer length into the
// host memory segments to move, fetching PRP list pages (and chained list pages) from host memory.
// Invalid shapes fail with the status the spec gives; QEMU's walker is the model where the spec is loose.

import type { NvmeStatus } from "./status.ts";
import { Status } from "./status.ts";

export interface PrpSegment {
  address: bigint;
  length: number;
}

export type PrpResult = { ok: true; segments: PrpSegment[] } | { ok: false; status: NvmeStatus; reason: string };

/** Reads `bytes` bytes of host memory at `address` (a PRP list page); undefined data = the read failed. */
export type ListReader = (address: bigint, bytes: number, done: (data: Uint8Array | undefined, failure?: string) => void) => void;

export function walkPrps(prp1: bigint, prp2: bigint, length: number, pageSize: number, readList: ListReader, done: (r: PrpResult) => void): void {
  const ps = BigInt(pageSize);
  const fail = (status: NvmeStatus, reason: string) => done({ ok: false, status, reason });
  if ((prp1 & 3n) !== 0n) return fail(Status.invalidPrpOffset, `PRP1 0x${prp1.toString(16)} is not DW aligned`);
  const first = Math.min(length, pageSize - Number(prp1 % ps));
  const segments: PrpSegment[] = [{ address: prp1, length: first }];
  let remaining = length - first;
  if (remaining === 0) return done({ ok: true, segments });
  if (remaining <= pageSize) {
    if (prp2 % ps !== 0n) return fail(Status.invalidPrpOffset, `PRP2 0x${prp2.toString(16)} (second page) has a non-zero offset`);
    segments.push({ address: prp2, length: remaining });
    return done({ ok: true, segments });
  }
  if ((prp2 & 7n) !== 0n) return fail(Status.invalidPrpOffset, `PRP2 list pointer 0x${prp2.toString(16)} is not QW aligned`);

  const walkList = (listAddress: bigint) => {
    const slots = Number((ps - (listAddress % ps)) / 8n);
    const pagesLeft = Math.ceil(remaining / pageSize);
    const chained = pagesLeft > slots;
    const entries = chained ? slots : pagesLeft;
    readList(listAddress, entries * 8, (data, failure) => {
      if (!data) return fail(Status.dataTransferError, `PRP list read at 0x${listAddress.toString(16)} failed: ${failure ?? "unknown"}`);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const dataEntries = chained ? entries - 1 : entries;
      for (let i = 0; i < dataEntries; i++) {
        const entry = view.getBigUint64(i * 8, true);
        if (entry % ps !== 0n) {
          return fail(Status.invalidPrpOffset, `PRP list entry ${i} at 0x${(listAddress + BigInt(i * 8)).toString(16)} = 0x${entry.toString(16)} has a non-zero offset`);
        }
        const take = Math.min(remaining, pageSize);
        segments.push({ address: entry, length: take });
        remaining -= take;
      }
      if (!chained) return done({ ok: true, segments });
      const next = view.getBigUint64((entries - 1) * 8, true);
      if (next % ps !== 0n) return fail(Status.invalidPrpOffset, `chained PRP list pointer 0x${next.toString(16)} is not page aligned`);
      walkList(next);
    });
  };
  walkList(prp2);
}
