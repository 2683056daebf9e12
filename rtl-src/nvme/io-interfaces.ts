// The contracts inside the I/O path (issue 10): the I/O engine (rtl-src/nvme/io-engine.ts) decides,
// the blocks that play host memory (rtl-src/hostmem/: io_queue_server, write_buffer, read_buffer)
// answer the SSD. They share these parameters, address helpers and bundles.
//
// A *slot* is one NVMe I/O command in flight; its number is the command identifier (CID) and names
// its virtual host memory:
//  - data window: dataWindows.base + slot x DATA_WINDOW_BYTES. PRP1 is the window's start; an SSD
//    access at window offset o is buffer byte (base[slot] + o) mod buffer size, where base[slot] is
//    where the engine placed the command's data in the write or read buffer (a ring).
//  - PRP list page: prpLists.base + slot x 4 KiB. For a transfer of more than two pages PRP2 points
//    there and entry i (8 bytes at offset 8i) is window + (i + 1) x 4 KiB, computed when read. A
//    Dataset Management (deallocate) command has no data: PRP1 points at the same page, where the
//    one range entry (context attributes 0, length in LBAs, starting LBA) is served.
// Nothing here is stored as host memory: the engine writes a compact record per slot and per SQ
// entry, and the servers build every byte the SSD reads from them.
import { defineBundle } from "../../hdl/index.ts";
import { HostMemoryMap } from "../hostmem/host-memory-map.ts";
import { NvmOpcode } from "./nvme-opcodes.ts";

/** The NVM command set opcodes the I/O engine sends, named as its localparams are (values from nvme-opcodes.ts). */
export const NvmIoOpcode = {
  FLUSH: NvmOpcode.flush,
  WRITE: NvmOpcode.write,
  READ: NvmOpcode.read,
  WRITE_ZEROES: NvmOpcode.writeZeroes,
  DATASET_MANAGEMENT: NvmOpcode.datasetManagement,
} as const;

/** Memory page size the controller programs (CC.MPS = 0): PRP entries point at 4 KiB pages. */
export const HOST_PAGE_BYTES = 4096;
/** Most slots (commands in flight) the map has windows for. */
export const MAX_SLOTS = 64;
/** Each slot's data window: the most one NVMe command can move is far less (maxPieceBytes). */
export const DATA_WINDOW_BYTES = HostMemoryMap.dataWindows.bytes / MAX_SLOTS;
/** PRP entries in one list page: the largest piece is (entries + 1) pages. */
export const PRP_LIST_ENTRIES = HOST_PAGE_BYTES / 8;
/** Largest piece a one-page PRP list can describe, as a power of two. */
export const MAX_PIECE_BYTES_LIMIT = PRP_LIST_ENTRIES * HOST_PAGE_BYTES;
/** Bits of a slot number. */
export const SLOT_BITS = 6;
/** Bits of a byte offset into either buffer (up to 1 MiB). */
export const BUFFER_OFFSET_BITS = 20;
/**
 * Bits of `write_fill_pointer` (write buffer -> engine, a registered output of the buffer): the
 * number of bytes the write buffer has stored since reset (padding of a short command included,
 * dropped data not), modulo 2^WRITE_FILL_POINTER_BITS. One bit wider than a buffer offset, so the
 * distance to the engine's own count is never ambiguous; it only ever grows, so the engine may
 * read it a cycle or two late. A write piece is submitted once this count has passed its last byte.
 */
export const WRITE_FILL_POINTER_BITS = BUFFER_OFFSET_BITS + 1;
/** Bits of a piece's byte count (up to MAX_PIECE_BYTES_LIMIT inclusive). */
export const PIECE_BYTES_BITS = 22;
/** Bits of a user command's byte count (2^32 - 1 blocks of up to 4 KiB). */
export const COMMAND_BYTES_BITS = 48;
/** Bits of an SQ entry index (queues of up to 1024 entries). */
export const SQ_INDEX_BITS = 10;

/** Where slot `slot`'s data window starts. */
export function dataWindowAddress(slot: number): number {
  checkSlot(slot);
  return HostMemoryMap.dataWindows.base + slot * DATA_WINDOW_BYTES;
}

/** Where slot `slot`'s PRP list page (or deallocate range list) lies. */
export function prpListAddress(slot: number): number {
  checkSlot(slot);
  return HostMemoryMap.prpLists.base + slot * HOST_PAGE_BYTES;
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new RangeError(`slot ${slot} is not an integer in 0..${MAX_SLOTS - 1}`);
}

/**
 * A slot's compact record, written by the engine before the SQ tail doorbell that publishes it
 * (a strobe into the queue server's record RAM: no ready, the write takes one cycle).
 */
export const slotRecordWrite = defineBundle("io_slot_record_write", {
  slot: ["forward", SLOT_BITS],
  /** NvmIoOpcode. */
  opcode: ["forward", 8],
  nsid: ["forward", 32],
  slba: ["forward", 64],
  /** Logical blocks, 1-based: NLB = blocks - 1 for read/write/write zeroes; the range length for deallocate. */
  blocks: ["forward", 32],
  /** Bytes moved (read/write), 0 for the others: decides PRP2 (none, second page, or the list). */
  bytes: ["forward", PIECE_BYTES_BITS],
  fua: ["forward", 1],
  valid: ["forward", 1],
});

/** SQ entry `index` holds slot `slot` (a strobe, written before the doorbell that covers the entry). */
export const sqEntryWrite = defineBundle("io_sq_entry_write", {
  index: ["forward", SQ_INDEX_BITS],
  slot: ["forward", SLOT_BITS],
  valid: ["forward", 1],
});

/** Slot `slot`'s data starts at buffer byte `base` (a strobe to the write or the read buffer, before the doorbell). */
export const bufferSlotBase = defineBundle("io_buffer_slot_base", {
  slot: ["forward", SLOT_BITS],
  base: ["forward", BUFFER_OFFSET_BITS],
  valid: ["forward", 1],
});

/**
 * The engine tells the write buffer how long the next write command's data is, in command order.
 * `drop`: the command was refused; its data is consumed up to tlast and not stored.
 */
export const writeExpect = defineBundle("io_write_expect", {
  bytes: ["forward", COMMAND_BYTES_BITS],
  drop: ["forward", 1],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/** One per `writeExpect`, once its data has been taken (tlast seen): did tlast come exactly at its length? */
export const writeLanded = defineBundle("io_write_landed", {
  length_ok: ["forward", 1],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/** `bytes` at the ring's oldest end are free again (write pieces retired, in order): a strobe. */
export const bufferRelease = defineBundle("io_buffer_release", {
  bytes: ["forward", PIECE_BYTES_BITS],
  valid: ["forward", 1],
});

/**
 * Stream `bytes` from read-buffer byte `base` to the user, tuser = `tag`, tlast after the last
 * byte when `last` (the command's last piece). The buffer then releases the bytes itself.
 */
export function readOut(tagBits: number) {
  return defineBundle(`io_read_out_t${tagBits}`, {
    base: ["forward", BUFFER_OFFSET_BITS],
    bytes: ["forward", PIECE_BYTES_BITS],
    tag: ["forward", tagBits],
    last: ["forward", 1],
    valid: ["forward", 1],
    ready: ["backward", 1],
  });
}

/** A poisoned memory write landed in slot `slot`'s read window (dropped): its piece fails with PCIE_FAULT. A strobe. */
export const slotPoisoned = defineBundle("io_slot_poisoned", {
  slot: ["forward", SLOT_BITS],
  valid: ["forward", 1],
});
