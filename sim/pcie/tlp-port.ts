// The user side of the root port played in TypeScript: frames queued TLPs onto s_axis_tx, deframes m_axis_rx
// into TLPs, and clocks the LinkModel, so a TypeScript host (sim/host/) can talk to an endpoint over the
// modelled link before the hardware exists. One step() = one user_clk edge of the link model.

import { DeframeStatus, TlpDeframer, TlpFramer } from "./axis-framing.ts";
import { decodeTlp, encodeTlp, TlpFormatError, type DecodeOptions } from "./codec.ts";
import { Fifo } from "./fifo.ts";
import type { LinkModel } from "./link-model.ts";
import type { Tlp } from "./tlp.ts";

// Copied into module scope: some TypeScript loaders turn each access to an imported binding into a call.
const PENDING = DeframeStatus.pending;
const REJECTED = DeframeStatus.rejected;

/** The deframer hands over a fresh copy of each TLP, so decoded payloads may alias it. */
const SHARE_PAYLOAD: DecodeOptions = { sharePayload: true };

interface Outgoing {
  bytes: Uint8Array;
  user: number;
}

export interface TlpPortOptions {
  /** m_axis_rx_tready for a cycle (default: always ready). */
  rxReady?: (cycle: number) => boolean;
  /** rx_np_ok for a cycle (default: always 1). */
  npOk?: (cycle: number) => boolean;
}

export class TlpPort {
  /** Received TLPs not yet taken with receive(); not filled while an onReceive handler is set. */
  readonly inbox = new Fifo<Tlp>();
  /** Received beats that did not form a legal TLP, with the reason (a correct link model never produces any). */
  readonly rxErrors: string[] = [];
  sentTlps = 0;
  receivedTlps = 0;
  private readonly outbox = new Fifo<Outgoing>();
  private readonly framer = new TlpFramer();
  private readonly deframer = new TlpDeframer();
  private handler: ((tlp: Tlp, cycle: number) => void) | undefined;

  constructor(
    readonly link: LinkModel,
    private readonly options: TlpPortOptions = {},
  ) {}

  /** Queue a TLP for s_axis_tx; `user` is s_axis_tx_tuser for its beats. Throws on an illegal record. */
  send(tlp: Tlp, user = 0): void {
    this.sendBytes(encodeTlp(tlp), user);
  }

  /** Queue raw wire bytes (for injecting malformed TLPs); only the DW granularity is checked. */
  sendBytes(bytes: Uint8Array, user = 0): void {
    if (bytes.length === 0 || bytes.length % 4 !== 0) throw new RangeError(`TLP bytes must be whole DWs, got ${bytes.length}`);
    this.outbox.push({ bytes, user });
  }

  /** Deliver received TLPs to `handler` as they complete instead of queueing them in `inbox`. */
  onReceive(handler: ((tlp: Tlp, cycle: number) => void) | undefined): void {
    this.handler = handler;
  }

  receive(): Tlp | undefined {
    return this.inbox.shift();
  }

  /** TLPs queued or partly sent on s_axis_tx. */
  get pendingTx(): number {
    return this.outbox.length + (this.framer.active ? 1 : 0);
  }

  get cycle(): number {
    return this.link.cycle;
  }

  step(): void {
    const link = this.link;
    const ports = link.ports;
    const cycle = link.cycle;
    if (!this.framer.active && this.outbox.length > 0) {
      const next = this.outbox.shift()!;
      this.framer.load(next.bytes, next.user);
    }
    const framer = this.framer;
    if (framer.active) {
      ports.s_axis_tx_tvalid = 1;
      ports.s_axis_tx_tdata_lo = framer.lo;
      ports.s_axis_tx_tdata_hi = framer.hi;
      ports.s_axis_tx_tkeep = framer.keep;
      ports.s_axis_tx_tlast = framer.last ? 1 : 0;
      ports.s_axis_tx_tuser = framer.user;
    } else {
      ports.s_axis_tx_tvalid = 0;
    }
    ports.m_axis_rx_tready = this.options.rxReady === undefined || this.options.rxReady(cycle) ? 1 : 0;
    ports.rx_np_ok = this.options.npOk === undefined || this.options.npOk(cycle) ? 1 : 0;

    const txTaken = ports.s_axis_tx_tvalid === 1 && ports.s_axis_tx_tready === 1;
    const rxTaken = ports.m_axis_rx_tvalid === 1 && ports.m_axis_rx_tready === 1;
    const rxLo = ports.m_axis_rx_tdata_lo;
    const rxHi = ports.m_axis_rx_tdata_hi;
    const rxKeep = ports.m_axis_rx_tkeep;
    const rxLast = ports.m_axis_rx_tlast === 1;
    const rxUser = ports.m_axis_rx_tuser;
    link.step();

    if (txTaken) {
      const wasLast = framer.last;
      framer.advance();
      if (wasLast) this.sentTlps++;
    }
    if (rxTaken) this.takeRxBeat(rxLo, rxHi, rxKeep, rxLast, rxUser, cycle);
  }

  run(cycles: number): void {
    for (let i = 0; i < cycles; i++) this.step();
  }

  /** Step until `done()` is true (checked before each step); returns the cycles run, throws after maxCycles. */
  runUntil(done: () => boolean, maxCycles: number): number {
    for (let i = 0; i < maxCycles; i++) {
      if (done()) return i;
      this.step();
    }
    if (done()) return maxCycles;
    throw new Error(`TlpPort.runUntil: condition not met within ${maxCycles} cycles (at cycle ${this.link.cycle})`);
  }

  /** Read a DW of the root port's own config space through cfg_mgmt. */
  cfgRead(dwAddress: number, maxCycles = 1000): number {
    const ports = this.link.ports;
    ports.cfg_mgmt_dwaddr = dwAddress;
    ports.cfg_mgmt_rd_en = 1;
    this.runUntilCfgDone(maxCycles);
    ports.cfg_mgmt_rd_en = 0;
    return ports.cfg_mgmt_do >>> 0;
  }

  /** Write a DW of the root port's own config space through cfg_mgmt. */
  cfgWrite(dwAddress: number, data: number, byteEnable = 0xf, flags: { readonly?: boolean; rw1cAsRw?: boolean } = {}, maxCycles = 1000): void {
    const ports = this.link.ports;
    ports.cfg_mgmt_dwaddr = dwAddress;
    ports.cfg_mgmt_di = data >>> 0;
    ports.cfg_mgmt_byte_en = byteEnable;
    ports.cfg_mgmt_wr_readonly = flags.readonly ? 1 : 0;
    ports.cfg_mgmt_wr_rw1c_as_rw = flags.rw1cAsRw ? 1 : 0;
    ports.cfg_mgmt_wr_en = 1;
    this.runUntilCfgDone(maxCycles);
    ports.cfg_mgmt_wr_en = 0;
    ports.cfg_mgmt_wr_readonly = 0;
    ports.cfg_mgmt_wr_rw1c_as_rw = 0;
  }

  private runUntilCfgDone(maxCycles: number): void {
    const ports = this.link.ports;
    for (let i = 0; i < maxCycles; i++) {
      this.step();
      if (ports.cfg_mgmt_rd_wr_done) return;
    }
    throw new Error(`cfg_mgmt access to dwaddr 0x${ports.cfg_mgmt_dwaddr.toString(16)} not done within ${maxCycles} cycles`);
  }

  private takeRxBeat(lo: number, hi: number, keep: number, last: boolean, user: number, cycle: number): void {
    const status = this.deframer.push(lo, hi, keep, last, user);
    if (status === PENDING) return;
    if (status === REJECTED) {
      this.rxErrors.push(`cycle ${cycle}: ${this.deframer.reason}`);
      return;
    }
    let tlp: Tlp;
    try {
      tlp = decodeTlp(this.deframer.tlpBytes(), SHARE_PAYLOAD);
    } catch (error) {
      if (!(error instanceof TlpFormatError)) throw error;
      this.rxErrors.push(`cycle ${cycle}: ${error.reason}`);
      return;
    }
    this.receivedTlps++;
    if (this.handler) this.handler(tlp, cycle);
    else this.inbox.push(tlp);
  }
}
