// The TLP record shared by every model in sim/: the codec (sim/pcie/codec.ts) turns it into wire
// bytes and back, the link model carries it, the SSD model and the reference host produce and consume it.
// Payload bytes are kept in wire order, which for memory TLPs is also ascending address order.

/** Completion status, PCIe Base 2.1 §2.2.9 (Cpl DW1[15:13]). */
export const CplStatus = {
  SC: 0b000,
  UR: 0b001,
  CRS: 0b010,
  CA: 0b100,
} as const;
export type CplStatus = (typeof CplStatus)[keyof typeof CplStatus];

/** Fields every TLP header carries in DW0. */
export interface TlpCommon {
  /** Traffic class, 0..7. */
  tc: number;
  /** Attr[1:0]: bit 1 relaxed ordering, bit 0 no snoop. */
  attr: number;
  /** Poisoned (EP). */
  ep: boolean;
  /** ECRC digest present (TD). The models never generate one; the codec accepts and checks it. */
  td: boolean;
}

export interface MemRequest extends TlpCommon {
  kind: "MRd" | "MWr";
  requesterId: number;
  tag: number;
  /** Byte address of the first DW (bits [1:0] are zero; byte offset is expressed by firstBe). */
  address: bigint;
  /** Use a 4DW header. Required at or above 4 GiB; the codec rejects 4DW below 4 GiB unless `allow4dwBelow4G` is set when decoding. */
  addr64: boolean;
  /** Length in DW, 1..1024. */
  lengthDw: number;
  firstBe: number;
  lastBe: number;
  /** MWr only: lengthDw*4 bytes in wire (= address) order. */
  data?: Uint8Array;
}

export interface Completion extends TlpCommon {
  kind: "Cpl" | "CplD";
  completerId: number;
  status: CplStatus;
  /** Byte Count Modified (PCI-X only; always false here). */
  bcm: boolean;
  /** Remaining bytes including this completion's, 1..4096 (0 encodes 4096 on the wire). */
  byteCount: number;
  requesterId: number;
  tag: number;
  /** Lower Address [6:0]. */
  lowerAddress: number;
  /**
   * Set only when decoded from a wire status code the spec reserves (011, 101, 110, 111): `status` is then UR,
   * as the spec tells the requester to treat it, and this keeps the raw code so re-encoding is byte-exact.
   */
  reservedStatus?: number;
  /** CplD only: length in DW. */
  lengthDw: number;
  /** CplD only: lengthDw*4 bytes in wire order. */
  data?: Uint8Array;
}

export interface ConfigRequest extends TlpCommon {
  kind: "CfgRd0" | "CfgWr0" | "CfgRd1" | "CfgWr1";
  requesterId: number;
  tag: number;
  bus: number;
  device: number;
  fn: number;
  /** Byte offset of the DW in configuration space, 0..4092, multiple of 4. */
  register: number;
  firstBe: number;
  /** Writes only: 4 bytes in wire order (byte k = config byte register+k). */
  data?: Uint8Array;
}

export interface Message extends TlpCommon {
  kind: "Msg" | "MsgD";
  /** Routing subfield r[2:0] of the type (10rrr). */
  routing: number;
  requesterId: number;
  tag: number;
  messageCode: number;
  /** Header bytes 8..15 as on the wire. */
  headerTail: Uint8Array;
  lengthDw: number;
  data?: Uint8Array;
}

export type Tlp = MemRequest | Completion | ConfigRequest | Message;

/**
 * What the link model talks to on the far side of the link (the SSD model, or a scripted peer).
 * Time is counted in cycles of the root port's 250 MHz user clock.
 */
export interface PcieEndpoint {
  /** A TLP from the root complex has fully arrived at the endpoint. */
  receive(tlp: Tlp, cycle: number): void;
  /**
   * The link can carry another upstream TLP now: return (and give up) the next one that is ready at
   * `cycle`, or undefined. The link model applies credits and byte budget after taking it.
   */
  nextUpstream(cycle: number): Tlp | undefined;
  /** Conventional reset: PERST# was released at `cycle` (optional; the link model calls it when present). */
  reset?(cycle: number): void;
  /**
   * The earliest cycle at which the endpoint may have a TLP for nextUpstream() or change state on its
   * own, without receiving anything first; undefined when that never happens. A simulator that skips
   * idle cycles needs it: without it the link model assumes something may happen every cycle.
   */
  nextEventCycle?(): number | undefined;
}
