// NVMe controller registers in BAR0 as the host sees them (NVMe 1.4 §3.1): offsets, and the decode of
// CAP/CSTS and encode of CC/AQA the driver needs.

export const Reg = {
  CAP: 0x00,
  VS: 0x08,
  INTMS: 0x0c,
  INTMC: 0x10,
  CC: 0x14,
  CSTS: 0x1c,
  AQA: 0x24,
  ASQ: 0x28,
  ACQ: 0x30,
  DOORBELLS: 0x1000,
} as const;

export interface ControllerCapabilities {
  /** Maximum entries per I/O queue (CAP.MQES + 1). */
  maxQueueEntries: number;
  contiguousQueuesRequired: boolean;
  /** CAP.TO: worst-case time to RDY, in ms. */
  readyTimeoutMs: number;
  /** Bytes between doorbells: 4 << DSTRD. */
  doorbellStride: number;
  nvmCommandSet: boolean;
  minPageSize: number;
  maxPageSize: number;
  raw: bigint;
}

export function decodeCap(cap: bigint): ControllerCapabilities {
  const bits = (lsb: number, width: number) => Number((cap >> BigInt(lsb)) & ((1n << BigInt(width)) - 1n));
  return {
    maxQueueEntries: bits(0, 16) + 1,
    contiguousQueuesRequired: bits(16, 1) === 1,
    readyTimeoutMs: bits(24, 8) * 500,
    doorbellStride: 4 << bits(32, 4),
    nvmCommandSet: bits(37, 1) === 1,
    minPageSize: 1 << (12 + bits(48, 4)),
    maxPageSize: 2 ** (12 + bits(52, 4)),
    raw: cap,
  };
}

export interface ControllerStatus {
  ready: boolean;
  fatal: boolean;
  /** CSTS.SHST: 0 normal, 1 shutdown in progress, 2 shutdown complete. */
  shutdownStatus: number;
}

export function decodeCsts(csts: number): ControllerStatus {
  return { ready: (csts & 1) === 1, fatal: (csts & 2) === 2, shutdownStatus: (csts >>> 2) & 3 };
}

export const ShutdownNotification = { none: 0, normal: 1, abrupt: 2 } as const;

export interface ControllerConfiguration {
  enable: boolean;
  pageSize: number;
  shutdown: number;
  ioSqEntryBytes: number;
  ioCqEntryBytes: number;
}

export function encodeCc(c: ControllerConfiguration): number {
  const mps = Math.log2(c.pageSize) - 12;
  return (
    ((c.enable ? 1 : 0) |
      (mps << 7) |
      (c.shutdown << 14) |
      (Math.log2(c.ioSqEntryBytes) << 16) |
      (Math.log2(c.ioCqEntryBytes) << 20)) >>>
    0
  );
}

/** AQA from queue sizes in entries (the register holds them zero-based). */
export function encodeAqa(sqEntries: number, cqEntries: number): number {
  return (((cqEntries - 1) << 16) | (sqEntries - 1)) >>> 0;
}

/** Offset of a queue's doorbell in BAR0 (NVMe 1.4 §3.1.24/25). */
export function doorbellOffset(qid: number, kind: "sqTail" | "cqHead", stride: number): number {
  return Reg.DOORBELLS + (2 * qid + (kind === "cqHead" ? 1 : 0)) * stride;
}
