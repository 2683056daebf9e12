// Memory writes into the Identify pages, for the tests of identify_capture and admin_bringup: taken
// from the SSD model's own MWr TLPs, or cut from a page at any DW or byte boundary (byte enables on
// the first and last DW, junk in the bytes they leave out); and a driver that offers them on a
// design's `identify_write` header stream and `identify_write_data` payload stream (the bundles of
// rtl-src/tlp/tlp-interfaces.ts), keeping the valid/ready rules, with random idle cycles. Not a test
// file itself.
import type { SignalHandle, Simulator } from "../engine/index.ts";
import { dwWindow } from "../nvme/byte-enables.ts";
import type { Tlp } from "../pcie/tlp.ts";
import { randomInt } from "../random.ts";

export interface MemoryWrite {
  /** Byte address of the first DW (DW aligned). */
  address: number;
  /** The payload, 4 bytes per DW, from the DW at `address`; bytes outside the byte enables are not written. */
  data: Uint8Array;
  firstBe: number;
  /** 0 for a one-DW write. */
  lastBe: number;
  poisoned: boolean;
}

/** The SSD model's memory writes among `tlps`, as the TLP layer hands them out. */
export function writesFromTlps(tlps: readonly Tlp[]): MemoryWrite[] {
  return tlps.flatMap((t) =>
    t.kind === "MWr" ? [{ address: Number(t.address), data: t.data ?? new Uint8Array(4 * t.lengthDw), firstBe: t.firstBe, lastBe: t.lastBe, poisoned: t.ep }] : [],
  );
}

export interface CutOptions {
  /** Largest write, bytes (at most 4096). */
  maxBytes: number;
  /** Cut at any byte (byte enables on the ends), not only at DW boundaries. */
  byteGranular: boolean;
}

/**
 * `page` (placed at `base`) cut into writes of random sizes up to maxBytes, in address order, each
 * byte covered by exactly one write; the bytes a write's byte enables leave out carry junk.
 */
export function cutPage(base: number, page: Uint8Array, random: () => number, options: CutOptions): MemoryWrite[] {
  const writes: MemoryWrite[] = [];
  const unit = options.byteGranular ? 1 : 4;
  for (let start = 0; start < page.length; ) {
    const length = Math.min(unit * randomInt(random, 1, Math.floor(options.maxBytes / unit)), page.length - start);
    const window = dwWindow(BigInt(base + start), length);
    const data = new Uint8Array(4 * window.lengthDw);
    for (let i = 0; i < data.length; i++) data[i] = randomInt(random, 0, 255);
    data.set(page.subarray(start, start + length), window.lead);
    writes.push({ address: Number(window.dwAddress), data, firstBe: window.firstBe, lastBe: window.lastBe, poisoned: false });
    start += length;
  }
  return writes;
}

/** A write of `dws` DWs of junk at `address`, poisoned or not. */
export function junkWrite(address: number, dws: number, random: () => number, poisoned: boolean): MemoryWrite {
  const data = new Uint8Array(4 * dws);
  for (let i = 0; i < data.length; i++) data[i] = randomInt(random, 0, 255);
  return { address, data, firstBe: 0xf, lastBe: dws > 1 ? 0xf : 0, poisoned };
}

/** Fisher-Yates, seeded. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, 0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The page a set of writes leaves behind in zeroed memory at `base` (poisoned ones and other pages ignored). */
export function pageAfter(base: number, writes: readonly MemoryWrite[], bytes = 4096): Uint8Array {
  const page = new Uint8Array(bytes);
  for (const w of writes) {
    if (w.poisoned) continue;
    const dws = w.data.length / 4;
    for (let dw = 0; dw < dws; dw++) {
      const be = dw === 0 ? w.firstBe : dw === dws - 1 ? w.lastBe : 0xf;
      for (let b = 0; b < 4; b++) {
        const offset = w.address + 4 * dw + b - base;
        if ((be >> b) & 1 && offset >= 0 && offset < bytes) page[offset] = w.data[4 * dw + b];
      }
    }
  }
  return page;
}

interface Beat {
  tdata: bigint;
  tkeep: number;
  tlast: number;
  write: number;
}

function payloadBeats(writes: readonly MemoryWrite[]): Beat[] {
  const beats: Beat[] = [];
  writes.forEach((w, index) => {
    const view = new DataView(w.data.buffer, w.data.byteOffset, w.data.byteLength);
    const dws = w.data.length / 4;
    for (let dw = 0; dw < dws; dw += 2) {
      const low = BigInt(view.getUint32(4 * dw, true));
      const both = dw + 1 < dws;
      const high = both ? BigInt(view.getUint32(4 * dw + 4, true)) : 0n;
      beats.push({ tdata: (high << 32n) | low, tkeep: both ? 0xff : 0x0f, tlast: dw + 2 >= dws ? 1 : 0, write: index });
    }
  });
  return beats;
}

export interface WriteDriverOptions {
  /** Probability of offering the next header / payload beat in a cycle where none is offered. */
  headerOfferProbability: number;
  payloadOfferProbability: number;
  random: () => number;
  /**
   * As a router that decides by the address: a write's header is never offered before its first
   * payload beat is (it may come with it). Otherwise the two streams run independently, so a
   * payload may come well before its header, or headers run ahead of their payloads.
   */
  headerWithPayload?: boolean;
  /** Port prefixes; `identify_write` and `identify_write_data` by default. */
  headerPrefix?: string;
  payloadPrefix?: string;
}

/**
 * Offers `writes` on a design's header and payload streams. Per cycle: `drive()` sets valid and
 * payload, then `settle()` notes what the coming edge takes (the ready outputs are registers, so
 * they can be read before the edge), then the caller steps the simulator.
 */
export class IdentifyWriteDriver {
  private header = 0;
  private headerOffered = false;
  private beat = 0;
  private beatOffered = false;
  private readonly beats: Beat[];
  private readonly h: Record<"valid" | "ready" | "address" | "length_dw" | "first_be" | "last_be" | "poisoned", SignalHandle>;
  private readonly p: Record<"tvalid" | "tready" | "tdata" | "tkeep" | "tlast", SignalHandle>;

  constructor(
    private readonly sim: Simulator,
    private readonly writes: readonly MemoryWrite[],
    private readonly options: WriteDriverOptions,
  ) {
    this.beats = payloadBeats(writes);
    const hp = options.headerPrefix ?? "identify_write";
    const pp = options.payloadPrefix ?? "identify_write_data";
    const handle = (name: string) => sim.signal(name);
    this.h = {
      valid: handle(`${hp}_valid`),
      ready: handle(`${hp}_ready`),
      address: handle(`${hp}_address`),
      length_dw: handle(`${hp}_length_dw`),
      first_be: handle(`${hp}_first_be`),
      last_be: handle(`${hp}_last_be`),
      poisoned: handle(`${hp}_poisoned`),
    };
    this.p = { tvalid: handle(`${pp}_tvalid`), tready: handle(`${pp}_tready`), tdata: handle(`${pp}_tdata`), tkeep: handle(`${pp}_tkeep`), tlast: handle(`${pp}_tlast`) };
  }

  get done(): boolean {
    return this.header >= this.writes.length && this.beat >= this.beats.length;
  }

  drive(): void {
    const { random } = this.options;
    if (this.beat < this.beats.length && !this.beatOffered && random() < this.options.payloadOfferProbability) {
      const b = this.beats[this.beat];
      this.sim.poke(this.p.tdata, b.tdata);
      this.sim.poke(this.p.tkeep, b.tkeep);
      this.sim.poke(this.p.tlast, b.tlast);
      this.beatOffered = true;
    }
    this.sim.poke(this.p.tvalid, this.beatOffered ? 1 : 0);
    if (this.header < this.writes.length && !this.headerOffered && this.headerAllowed() && random() < this.options.headerOfferProbability) {
      const w = this.writes[this.header];
      this.sim.poke(this.h.address, BigInt(w.address));
      this.sim.poke(this.h.length_dw, (w.data.length / 4) & 0x3ff);
      this.sim.poke(this.h.first_be, w.firstBe);
      this.sim.poke(this.h.last_be, w.lastBe);
      this.sim.poke(this.h.poisoned, w.poisoned ? 1 : 0);
      this.headerOffered = true;
    }
    this.sim.poke(this.h.valid, this.headerOffered ? 1 : 0);
  }

  settle(): void {
    if (this.beatOffered && this.sim.peek(this.p.tready)) {
      this.beatOffered = false;
      this.beat++;
    }
    if (this.headerOffered && this.sim.peek(this.h.ready)) {
      this.headerOffered = false;
      this.header++;
    }
  }

  private headerAllowed(): boolean {
    if (!this.options.headerWithPayload) return true;
    const current = this.beats[this.beat]?.write ?? this.writes.length;
    return current > this.header || (current === this.header && this.beatOffered);
  }
}

/** Drives every write into `sim`, then steps until `idle()`; returns the cycles taken. Throws past maxCycles. */
export function runWrites(sim: Simulator, writes: readonly MemoryWrite[], options: WriteDriverOptions, idle: () => boolean, maxCycles: number): number {
  const driver = new IdentifyWriteDriver(sim, writes, options);
  let cycles = 0;
  while (!driver.done) {
    driver.drive();
    driver.settle();
    sim.step();
    if (++cycles > maxCycles) throw new Error(`writes not taken within ${maxCycles} cycles`);
  }
  sim.poke(sim.signal(`${options.headerPrefix ?? "identify_write"}_valid`), 0);
  sim.poke(sim.signal(`${options.payloadPrefix ?? "identify_write_data"}_tvalid`), 0);
  while (!idle()) {
    sim.step();
    if (++cycles > maxCycles) throw new Error(`design not idle within ${maxCycles} cycles`);
  }
  return cycles;
}
