// What io_queue_server (rtl-src/hostmem/io-queue-server.ts) must serve, as a pure function of the
// I/O engine's tables: the I/O SQ entries and the PRP list pages, byte for byte, placed by the same
// field tables the hardware uses (rtl-src/nvme/nvme-sqe.ts) but written from the contract's rules
// (rtl-src/nvme/io-interfaces.ts), not from the hardware's encoding. Unit and system tests both
// check the DWs the SSD reads against it.
import { HostMemoryMap } from "../../rtl-src/hostmem/host-memory-map.ts";
import { HOST_PAGE_BYTES, NvmIoOpcode, dataWindowAddress, prpListAddress } from "../../rtl-src/nvme/io-interfaces.ts";
import { writeField } from "../../rtl-src/nvme/nvme-field.ts";
import {
  DSM_RANGE_BYTES,
  DsmRangeField,
  NvmCommandField,
  PRP_ENTRY_BYTES,
  PrpEntryField,
  SQE_BYTES,
  SqeField,
} from "../../rtl-src/nvme/nvme-sqe.ts";

/** A slot's record as the engine writes it (`slotRecordWrite`). */
export interface IoSlotRecord {
  opcode: number;
  nsid: number;
  slba: bigint;
  /** Logical blocks, 1-based. */
  blocks: number;
  /** Bytes the command moves (0 for none). */
  bytes: number;
  fua: boolean;
}

/** A record never written: the RAM's zero word (a Flush of NSID 0). */
export const EMPTY_SLOT_RECORD: IoSlotRecord = { opcode: 0, nsid: 0, slba: 0n, blocks: 0, bytes: 0, fua: false };

/** The engine's tables as the server holds them. */
export interface IoQueueTables {
  /** The server's `slots` parameter: PRP list pages of higher slots read as zeros. */
  slots: number;
  /** Record of each slot (missing: never written). */
  records: readonly (IoSlotRecord | undefined)[];
  /** Slot held by each SQ entry; its length is the `sqEntries` parameter (missing: never written, slot 0). */
  sqSlots: readonly (number | undefined)[];
}

const isData = (opcode: number) => opcode === NvmIoOpcode.READ || opcode === NvmIoOpcode.WRITE;
const hasLba = (opcode: number) => isData(opcode) || opcode === NvmIoOpcode.WRITE_ZEROES;

/** The 64-byte SQ entry of slot `slot` holding record `r`. */
export function ioSqEntryBytes(slot: number, r: IoSlotRecord): Uint8Array {
  const bytes = new Uint8Array(SQE_BYTES);
  const window = BigInt(dataWindowAddress(slot));
  const list = BigInt(prpListAddress(slot));
  const dsm = r.opcode === NvmIoOpcode.DATASET_MANAGEMENT;
  writeField(bytes, SqeField.opcode, r.opcode);
  writeField(bytes, SqeField.cid, slot);
  writeField(bytes, SqeField.nsid, r.nsid >>> 0);
  writeField(bytes, SqeField.prp1, isData(r.opcode) ? window : dsm ? list : 0n);
  writeField(bytes, SqeField.prp2, r.bytes <= HOST_PAGE_BYTES ? 0n : r.bytes <= 2 * HOST_PAGE_BYTES ? window + BigInt(HOST_PAGE_BYTES) : list);
  if (hasLba(r.opcode)) {
    writeField(bytes, NvmCommandField.slba, r.slba);
    writeField(bytes, NvmCommandField.nlb, (r.blocks - 1) & 0xffff);
    writeField(bytes, NvmCommandField.fua, r.fua ? 1 : 0);
  }
  if (dsm) {
    writeField(bytes, NvmCommandField.dsmRanges, 0);
    writeField(bytes, NvmCommandField.dsmDeallocate, 1);
  }
  return bytes;
}

/** The 4 KiB PRP list page of slot `slot` holding record `r`. */
export function prpListPageBytes(slot: number, r: IoSlotRecord): Uint8Array {
  const page = new Uint8Array(HOST_PAGE_BYTES);
  if (r.opcode === NvmIoOpcode.DATASET_MANAGEMENT) {
    const range = page.subarray(0, DSM_RANGE_BYTES);
    writeField(range, DsmRangeField.contextAttributes, 0);
    writeField(range, DsmRangeField.length, r.blocks >>> 0);
    writeField(range, DsmRangeField.slba, r.slba);
    return page;
  }
  const window = BigInt(dataWindowAddress(slot));
  for (let i = 0; i < HOST_PAGE_BYTES / PRP_ENTRY_BYTES; i++) {
    writeField(page.subarray(i * PRP_ENTRY_BYTES, (i + 1) * PRP_ENTRY_BYTES), PrpEntryField.address, window + BigInt((i + 1) * HOST_PAGE_BYTES));
  }
  return page;
}

/** The bytes at `address` (4 KiB-page-bounded, in the I/O SQ or PRP list region) the server answers with. */
export function ioQueueBytes(t: IoQueueTables, address: number, length: number): Uint8Array {
  const { ioSq, prpLists } = HostMemoryMap;
  const pageStart = address - (address % HOST_PAGE_BYTES);
  if (address % HOST_PAGE_BYTES + length > HOST_PAGE_BYTES) throw new RangeError(`ioQueueBytes: 0x${address.toString(16)} + ${length} crosses a 4 KiB boundary`);
  const record = (slot: number) => t.records[slot] ?? EMPTY_SLOT_RECORD;
  let page: Uint8Array;
  if (address >= ioSq.base && address < ioSq.base + ioSq.bytes) {
    page = new Uint8Array(HOST_PAGE_BYTES);
    for (let at = 0; at < HOST_PAGE_BYTES; at += SQE_BYTES) {
      const entry = (pageStart - ioSq.base + at) / SQE_BYTES;
      const slot = t.sqSlots[entry % t.sqSlots.length] ?? 0;
      page.set(ioSqEntryBytes(slot, record(slot)), at);
    }
  } else if (address >= prpLists.base && address < prpLists.base + prpLists.bytes) {
    const slot = (pageStart - prpLists.base) / HOST_PAGE_BYTES;
    page = slot < t.slots ? prpListPageBytes(slot, record(slot)) : new Uint8Array(HOST_PAGE_BYTES);
  } else {
    throw new RangeError(`ioQueueBytes: 0x${address.toString(16)} is in neither the I/O SQ nor the PRP list region`);
  }
  return page.slice(address - pageStart, address - pageStart + length);
}

/** The DWs of a data request (DW-aligned address, length in DWs), as the response carries them. */
export function ioQueueDws(t: IoQueueTables, address: number, lengthDw: number): number[] {
  const bytes = Buffer.from(ioQueueBytes(t, address, 4 * lengthDw));
  return Array.from({ length: lengthDw }, (_, i) => bytes.readUInt32LE(4 * i));
}
