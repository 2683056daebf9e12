// The 7-series 64-bit AXI4-Stream TLP layout (facts digest §A.3–A.5). A TLP's DWs (header, payload, digest)
// go two per beat, the lower-numbered DW in tdata[31:0]; inside each DW wire byte 0 sits in bits [31:24].
// That one rule yields every row of the §A.4 table: with a 3DW header D0 shares beat 1 with H2, with a
// 4DW header D0 starts beat 2. tkeep is 0xFF, or 0x0F on the last beat when the DW count is odd.
// Beats carry tdata as two unsigned 32-bit halves, `lo` = tdata[31:0] and `hi` = tdata[63:32].

/** s_axis_tx_tuser bits (§A.3). */
export const TxUser = {
  ecrcGen: 1 << 0,
  errFwd: 1 << 1,
  streamed: 1 << 2,
  srcDiscontinue: 1 << 3,
} as const;

/** m_axis_rx_tuser bits used at 64 bit (§A.3); bar_hit [9:2] stays 0 with the root port's BARs disabled. */
export const RxUser = {
  ecrcErr: 1 << 0,
  errFwd: 1 << 1,
} as const;

import { ByteSlab } from "./byte-slab.ts";

export const KEEP_BOTH = 0xff;
export const KEEP_LOW = 0x0f;
/** Largest TLP in DWs: 4DW header + 1024 DW payload + ECRC. */
export const MAX_TLP_DW = 4 + 1024 + 1;

export interface AxisBeat {
  lo: number;
  hi: number;
  keep: number;
  last: boolean;
  user: number;
}

/** Number of 64-bit beats a TLP of `byteLength` wire bytes occupies. */
export function beatsFor(byteLength: number): number {
  return Math.ceil(byteLength / 8);
}

/** The beats of one TLP (tests and tools; the hot paths use TlpFramer). */
export function tlpToBeats(bytes: Uint8Array, user = 0): AxisBeat[] {
  const framer = new TlpFramer();
  framer.load(bytes, user);
  const beats: AxisBeat[] = [];
  while (framer.active) {
    beats.push({ lo: framer.lo, hi: framer.hi, keep: framer.keep, last: framer.last, user: framer.user });
    framer.advance();
  }
  return beats;
}

/** Big-endian DW at a byte offset; bytes past the end read as 0. */
export function wireDw(bytes: Uint8Array, offset: number): number {
  if (offset + 4 > bytes.length) return 0;
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

/**
 * Presents one TLP beat by beat without allocating: read lo/hi/keep/last/user, call advance() when the beat
 * has been taken; `active` turns false after the last beat.
 */
export class TlpFramer {
  active = false;
  lo = 0;
  hi = 0;
  keep = 0;
  last = false;
  user = 0;
  private bytes: Uint8Array = new Uint8Array(0);
  private offset = 0;

  load(bytes: Uint8Array, user = 0): void {
    if (bytes.length === 0 || bytes.length % 4 !== 0) {
      throw new RangeError(`a TLP is a whole number of DWs; got ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.user = user;
    this.offset = 0;
    this.active = true;
    this.present();
  }

  /** Abandon the TLP being presented (the link went down). */
  abort(): void {
    this.active = false;
  }

  advance(): void {
    if (!this.active) return;
    this.offset += 8;
    if (this.offset >= this.bytes.length) {
      this.active = false;
      return;
    }
    this.present();
  }

  private present(): void {
    const bytes = this.bytes;
    const offset = this.offset;
    const remaining = bytes.length - offset;
    this.lo = wireDw(bytes, offset);
    this.hi = remaining >= 8 ? wireDw(bytes, offset + 4) : 0;
    this.last = remaining <= 8;
    this.keep = remaining >= 8 ? KEEP_BOTH : KEEP_LOW;
  }
}

export const DeframeStatus = {
  /** Beat taken; the TLP is not complete yet. */
  pending: 0,
  /** tlast seen and the beats agree with the header: read tlpBytes(). */
  complete: 1,
  /** tlast seen but the TLP is malformed: read `reason`. */
  rejected: 2,
} as const;
export type DeframeStatus = (typeof DeframeStatus)[keyof typeof DeframeStatus];

/**
 * Rebuilds TLPs from beats, one beat per push(). Checks what the framing alone can check: tkeep legal for
 * the beat's position, and the DW count between the first beat and tlast equal to what DW0 announces
 * (header size from Fmt, payload from Length, ECRC from TD). Field-level rules are the codec's job.
 */
export class TlpDeframer {
  /** Why the last TLP was rejected. */
  reason = "";
  /** tuser sampled on the first beat, OR-ed over all beats, and on the tlast beat. */
  firstUser = 0;
  anyUser = 0;
  lastUser = 0;
  /** Beats of the TLP in progress (or of the one just finished). */
  beats = 0;
  private readonly buffer = new Uint8Array(MAX_TLP_DW * 4);
  private readonly slab = new ByteSlab();
  private readonly view = new DataView(this.buffer.buffer);
  private dwCount = 0;
  private expectedDw = 0;
  private error = "";

  /** A TLP has started (first beat pushed) and its tlast has not arrived yet. Read-only outside. */
  inPacket = false;

  push(lo: number, hi: number, keep: number, last: boolean, user = 0): DeframeStatus {
    if (!this.inPacket) this.begin(lo, user);
    this.beats++;
    this.anyUser |= user;
    if (this.error === "") this.checkKeep(keep, last);
    const dws = keep === KEEP_BOTH ? 2 : 1;
    if (this.error === "" && this.dwCount + dws <= MAX_TLP_DW) {
      this.view.setUint32(this.dwCount * 4, lo >>> 0);
      if (dws === 2) this.view.setUint32(this.dwCount * 4 + 4, hi >>> 0);
    }
    this.dwCount += dws;
    if (!last) return DeframeStatus.pending;
    this.lastUser = user;
    this.inPacket = false;
    if (this.error === "" && this.dwCount !== this.expectedDw) {
      this.error = `TLP (Fmt/Type 0x${(this.buffer[0] >>> 0).toString(16).padStart(2, "0")}) delivered ${this.dwCount} DW in ${this.beats} beats but its header announces ${this.expectedDw} DW`;
    }
    if (this.error !== "") {
      this.reason = this.error;
      return DeframeStatus.rejected;
    }
    return DeframeStatus.complete;
  }

  /** Forget the TLP in progress (the link went down before its tlast). */
  abort(): void {
    this.inPacket = false;
  }

  /** A copy of the wire bytes of the TLP just completed. */
  tlpBytes(): Uint8Array {
    return this.slab.copy(this.buffer, this.dwCount * 4);
  }

  private begin(dw0: number, user: number): void {
    this.inPacket = true;
    this.dwCount = 0;
    this.beats = 0;
    this.error = "";
    this.firstUser = user;
    this.anyUser = 0;
    this.expectedDw = announcedDw(dw0);
  }

  private checkKeep(keep: number, last: boolean): void {
    if (last ? keep !== KEEP_BOTH && keep !== KEEP_LOW : keep !== KEEP_BOTH) {
      const where = last ? "the tlast beat" : `beat ${this.beats - 1} (not tlast)`;
      this.error = `tkeep 0x${keep.toString(16).padStart(2, "0")} on ${where}; only 0xFF${last ? " or 0x0F" : ""} is legal`;
    }
  }
}

/** DWs a TLP occupies according to its DW0 (as it appears in tdata[31:0] of the first beat). */
export function announcedDw(dw0: number): number {
  const fmt = (dw0 >>> 29) & 3;
  const headerDw = fmt & 1 ? 4 : 3;
  const lengthField = dw0 & 0x3ff;
  const payloadDw = fmt & 2 ? (lengthField === 0 ? 1024 : lengthField) : 0;
  const digestDw = dw0 & 0x8000 ? 1 : 0;
  return headerDw + payloadDw + digestDw;
}
