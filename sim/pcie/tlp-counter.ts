// Counts the TLPs of a run by kind and direction, as the trace sees them (a TraceSink, sim/pcie/trace.ts):
// the controller counters of `nvme-host sim` (TLPs by kind, wire bytes per direction, doorbells). Only
// the first header byte (Fmt and Type, PCIe Base §2.2.1) and, for memory writes, the address are read,
// so counting costs a few operations per TLP and never allocates.
import type { TraceDirection, TraceSink } from "./trace.ts";

/** TLP kinds by their Fmt/Type byte; 3DW and 4DW forms count as one kind. */
export const TLP_KINDS = ["MRd", "MRdLk", "MWr", "IORd", "IOWr", "CfgRd0", "CfgWr0", "CfgRd1", "CfgWr1", "Cpl", "CplD", "CplLk", "CplDLk", "Msg", "MsgD", "other"] as const;
export type TlpKind = (typeof TLP_KINDS)[number];

/** Header byte 0 (Fmt[2:0] Type[4:0], 3DW forms) -> kind; memory requests also come with a 4DW header (Fmt bit 0). */
const KIND_OF_BYTE0 = new Map<number, TlpKind>([
  [0x00, "MRd"],
  [0x01, "MRdLk"],
  [0x40, "MWr"],
  [0x02, "IORd"],
  [0x42, "IOWr"],
  [0x04, "CfgRd0"],
  [0x44, "CfgWr0"],
  [0x05, "CfgRd1"],
  [0x45, "CfgWr1"],
  [0x0a, "Cpl"],
  [0x4a, "CplD"],
  [0x0b, "CplLk"],
  [0x4b, "CplDLk"],
]);
const KIND_INDEX: Uint8Array = (() => {
  const table = new Uint8Array(256).fill(TLP_KINDS.indexOf("other"));
  for (let byte = 0; byte < 256; byte++) {
    const fmt = byte >>> 5;
    const type = byte & 0x1f;
    const threeDw = KIND_OF_BYTE0.get(byte & ~0x20);
    const memory = threeDw === "MRd" || threeDw === "MRdLk" || threeDw === "MWr";
    const kind = (byte & 0x20) === 0 || memory ? threeDw : (type & 0x18) === 0x10 ? (fmt & 0b010 ? "MsgD" : "Msg") : undefined;
    if (kind) table[byte] = TLP_KINDS.indexOf(kind);
  }
  return table;
})();

/** The NVMe doorbells start at BAR0 + 0x1000 (NVMe Base §3.1.2: SQyTDBL at 0x1000 + (2y) x stride, CQyHDBL at + (2y+1) x stride). */
const DOORBELL_BASE = 0x1000;

export interface TlpCounts {
  down: Record<TlpKind, number>;
  up: Record<TlpKind, number>;
}

export class TlpCounter implements TraceSink {
  /** Count only while true (e.g. from the end of a bring-up). */
  enabled = true;
  private readonly down = new Float64Array(TLP_KINDS.length);
  private readonly up = new Float64Array(TLP_KINDS.length);
  /** Bytes of TLPs (header and payload, no framing) per direction. */
  bytesDown = 0;
  bytesUp = 0;
  /** Downstream memory writes to the SSD's submission-queue tail and completion-queue head doorbells. */
  sqDoorbells = 0;
  cqDoorbells = 0;
  private bar0 = -1;
  private bar0End = -1;
  private strideShift = 2;

  /** Recognise doorbell writes: BAR0's address and size, and CAP.DSTRD (stride 4 << dstrd bytes). */
  setDoorbells(bar0: number, bar0Bytes: number, dstrd: number): void {
    this.bar0 = bar0;
    this.bar0End = bar0 + bar0Bytes;
    this.strideShift = 2 + dstrd;
  }

  write(_cycle: number, dir: TraceDirection, tlp: Uint8Array): void {
    if (!this.enabled) return;
    const byte0 = tlp[0];
    const kind = KIND_INDEX[byte0];
    if (dir === "down") {
      this.down[kind]++;
      this.bytesDown += tlp.length;
      // A 3DW memory write (everything the controller maps lies below 4 GiB): the address is DW2.
      if (byte0 === 0x40 && this.bar0 >= 0) {
        const address = ((tlp[8] << 24) | (tlp[9] << 16) | (tlp[10] << 8) | (tlp[11] & 0xfc)) >>> 0;
        if (address >= this.bar0 + DOORBELL_BASE && address < this.bar0End) {
          if (((address - this.bar0 - DOORBELL_BASE) >>> this.strideShift) & 1) this.cqDoorbells++;
          else this.sqDoorbells++;
        }
      }
    } else {
      this.up[kind]++;
      this.bytesUp += tlp.length;
    }
  }

  counts(): TlpCounts {
    const record = (values: Float64Array) => Object.fromEntries(TLP_KINDS.map((kind, i) => [kind, values[i]])) as Record<TlpKind, number>;
    return { down: record(this.down), up: record(this.up) };
  }
}
