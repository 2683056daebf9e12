// The root port hard IP + PCIe link, clocked at the 250 MHz user clock. On the user side it is the core's
// s_axis_tx / m_axis_rx / cfg_mgmt ports (RootPortPorts); on the far side it exchanges TLP records with a
// PcieEndpoint. Downstream, beats are deframed, checked (tkeep, Length vs beats, codec rules, programmed
// MPS) and queued in the core's TX buffers, then sent in order as the SSD's credits and the wire's byte
// budget allow. Upstream, the endpoint's TLPs wait for the root port's credits, cross the wire, are checked
// against the root port's MPS, and are presented beat by beat no faster than they arrived. step() allocates
// nothing unless a TLP starts, ends or is dropped.
//
// The link's life: it trains `trainingCycles` after reset at min(initialSpeed, both ends' speeds) and the
// narrower end's width; PERST# (ports.perst_n low) takes it down at once (everything in flight is lost,
// flow control starts again) and holds it there, and its release resets the endpoint and trains again. A
// Retrain (Link Control) or a directed change (pl_directed_link_*) holds traffic for `retrainCycles` in
// Recovery and ends at the speed and width both ends allow. For a simulator that skips idle time,
// nextEventCycle() says how long nothing will happen with the inputs held, and advanceIdle() jumps there.

import { DeframeStatus, RxUser, TlpDeframer, TlpFramer, TxUser } from "./axis-framing.ts";
import { CfgMgmtPort } from "./cfg-mgmt-port.ts";
import { decodeTlp, encodeTlp, TlpFormatError, type DecodeOptions } from "./codec.ts";
import { dataCreditsFor, FcClass, fcClassOf } from "./flow-control.ts";
import { Fifo } from "./fifo.ts";
import { LinkDirection, type DirectionCounters } from "./link-direction.ts";
import {
  GEN12_SKP_INTERVAL_SYMBOLS,
  GEN3_SKP_INTERVAL_SYMBOLS,
  resolveLinkParams,
  wireRate,
  type Generation,
  type LinkParams,
  type LinkParamsInput,
} from "./link-params.ts";
import { createRootPortPorts, type RootPortPorts } from "./root-port-ports.ts";
import { RootPortConfigSpace } from "./rp-config-space.ts";
import type { PcieEndpoint, Tlp } from "./tlp.ts";
import type { TraceSink } from "./trace.ts";

/** The deframer hands over a fresh copy of each TLP, so decoded payloads may alias it. */
const SHARE_PAYLOAD: DecodeOptions = { sharePayload: true };

// Hot-path constants copied into module scope: some TypeScript loaders turn every access to an imported
// binding into a getter call.
const PENDING = DeframeStatus.pending;
const REJECTED = DeframeStatus.rejected;
const TX_STREAMED = TxUser.streamed;
const NON_POSTED = FcClass.nonPosted;

/** A TLP inside the model: its record, wire bytes and flow-control cost. */
interface TlpInTransit {
  arrival: number;
  tlp: Tlp;
  bytes: Uint8Array;
  fcClass: FcClass;
  dataCredits: number;
  payload: number;
}

export type LinkEventSource = "tx" | "rx" | "endpoint" | "cfg_mgmt" | "link";

/** pl_ltssm_state values the model shows (facts digest §A.2; only L0 = 0x16 is documented by Xilinx). */
export const LtssmState = {
  detectQuiet: 0x00,
  detectActive: 0x01,
  pollingActive: 0x04,
  l0: 0x16,
  recoveryRcvrLock: 0x1c,
} as const;

/** pl_directed_link_change encoding. */
export const DirectedChange = { none: 0b00, width: 0b01, speed: 0b10, both: 0b11 } as const;

/** pl_sel_lnk_width / pl_directed_link_width code of a width: 00 x1, 01 x2, 10 x4, 11 x8 (and wider). */
export function linkWidthCode(width: number): number {
  return width >= 8 ? 3 : width >= 4 ? 2 : width >= 2 ? 1 : 0;
}

export interface LinkEvent {
  cycle: number;
  source: LinkEventSource;
  /** Short stable key, also the key of `dropCounts` for drops. */
  category: string;
  reason: string;
}

export interface LinkCounters {
  down: DirectionCounters;
  up: DirectionCounters;
  /** TLPs handed to the endpoint, and their payload bytes. */
  deliveredDownTlps: number;
  deliveredDownPayload: number;
  /** TLPs fully taken by the user on m_axis_rx, and their payload bytes. */
  deliveredUpTlps: number;
  deliveredUpPayload: number;
  /** Cycles the user offered a beat on s_axis_tx while tready was low. */
  txBackpressureCycles: number;
  /** Cycles a non-posted TLP waited in the RX buffer because rx_np_ok was low. */
  rxNpHeldCycles: number;
  /** Received messages by message code. */
  messages: Map<number, number>;
  /** Dropped or refused TLPs by category. */
  dropCounts: Map<string, number>;
  /** Downstream MRd longer than the programmed MRRS (sent anyway: the core does not police MRRS). */
  mrrsExceeded: number;
  /** Retrains: Link Control.Retrain and directed changes. */
  retrains: number;
  directedChanges: number;
  /** Times the link went down (PERST# asserted while it was up or training). */
  linkDowns: number;
  /** TLPs lost because the link went down with them queued, on the wire or being presented. */
  linkDownLostTlps: number;
}

export interface LinkModelOptions {
  /** Record TLPs as the user sees them: down when tlast is accepted on s_axis_tx, up when taken on m_axis_rx. */
  trace?: TraceSink;
  /** Called for every logged event (drops, refusals, conflicts), in addition to `events`. */
  onEvent?: (event: LinkEvent) => void;
}

export class LinkModel {
  readonly ports: RootPortPorts = createRootPortPorts();
  readonly params: LinkParams;
  readonly config: RootPortConfigSpace;
  /** The most recent logged events (at most params.eventLogLimit). */
  readonly events: LinkEvent[] = [];
  readonly counters: LinkCounters;
  /** Rising edges so far; events during step() carry the value before the increment. */
  cycle = 0;
  /** Current link speed (1..3) once trained. */
  speed: Generation;
  /** Current (negotiated) link width in lanes. */
  width: number;

  private readonly down: LinkDirection<TlpInTransit>;
  private readonly up: LinkDirection<TlpInTransit>;
  private readonly cfgMgmt: CfgMgmtPort;
  private readonly txDeframer = new TlpDeframer();
  private readonly txQueue = new Fifo<TlpInTransit>();
  private txBuffersFree: number;
  private txStreamedGap = false;
  private readonly endpointQueue = new Fifo<TlpInTransit>();
  private readonly rxBuffer = new Fifo<TlpInTransit>();
  private readonly rxFramer = new TlpFramer();
  private rxCurrent: TlpInTransit | undefined;
  private linkUp = false;
  private retrainUntil = -1;
  /** Cycle whose step brings the link up is trainingEnd - 1; Infinity while PERST# holds it or it cannot train. */
  private trainingEnd: number;
  private perstAsserted = false;
  /** A scheduled surprise link down (surpriseDown()): its cycle (Infinity: none) and how long the link stays down. */
  private surpriseAt = Infinity;
  private surpriseDownCycles = 0;
  private ltssm: number = LtssmState.pollingActive;
  /** Speed and width the wire model runs at (they change only when a retrain or training ends). */
  private wireSpeed: Generation;
  private wireWidth: number;
  /** A directed change is in Recovery, with its targets. */
  private directedInProgress = false;
  private directedSpeed: Generation = 1;
  private directedWidth = 1;
  /** pl_directed_link_change has been 00 since the last directed change was taken: a new one may start. */
  private directedArmed = true;
  private readonly trainingSpeed: Generation;
  private readonly maxWidth: number;
  private readonly gen2Capable: boolean;

  constructor(
    private readonly endpoint: PcieEndpoint,
    params: LinkParamsInput = {},
    private readonly options: LinkModelOptions = {},
  ) {
    this.params = resolveLinkParams(params);
    const p = this.params;
    this.trainingSpeed = Math.min(p.initialSpeed, p.endpointMaxSpeed) as Generation;
    this.maxWidth = Math.min(p.lanes, p.endpointMaxWidth);
    this.gen2Capable = p.generation >= 2 && p.endpointMaxSpeed >= 2;
    this.speed = this.trainingSpeed;
    this.width = this.maxWidth;
    this.wireSpeed = this.speed;
    this.wireWidth = this.width;
    this.config = new RootPortConfigSpace({
      vendorId: p.vendorId,
      deviceId: p.deviceId,
      generation: p.generation,
      lanes: p.lanes,
      mpsSupported: p.mpsSupported,
      mps: p.mps,
      mrrs: p.mrrs,
      rcb: p.rcb,
    });
    const rate = wireRate(this.speed, this.width);
    const skpParams = { ...p, skpIntervalSymbols: this.skpIntervalFor(this.speed) };
    this.down = new LinkDirection(rate, skpParams, p.endpointRxCredits, p.rootPortRxCredits);
    this.up = new LinkDirection(rate, skpParams, p.rootPortRxCredits, p.endpointRxCredits);
    this.down.connectReverse(this.up);
    this.up.connectReverse(this.down);
    this.txBuffersFree = p.txBuffers;
    this.cfgMgmt = new CfgMgmtPort(this.config, p.cfgMgmtLatencyCycles, (reason) => this.log("cfg_mgmt", "cfg-conflict", reason));
    this.counters = {
      down: this.down.counters,
      up: this.up.counters,
      deliveredDownTlps: 0,
      deliveredDownPayload: 0,
      deliveredUpTlps: 0,
      deliveredUpPayload: 0,
      txBackpressureCycles: 0,
      rxNpHeldCycles: 0,
      messages: new Map(),
      dropCounts: new Map(),
      mrrsExceeded: 0,
      retrains: 0,
      directedChanges: 0,
      linkDowns: 0,
      linkDownLostTlps: 0,
    };
    this.trainingEnd = p.noLink ? Infinity : p.trainingCycles;
    this.ltssm = p.noLink ? LtssmState.detectActive : LtssmState.pollingActive;
    this.updatePhysicalPorts();
  }

  /** One rising edge of user_clk. */
  step(): void {
    const ports = this.ports;
    const cycle = this.cycle;
    ports.tx_err_drop = 0;
    ports.pl_directed_change_done = 0;

    if (ports.s_axis_tx_tvalid) {
      if (ports.s_axis_tx_tready) this.acceptTxBeat(cycle);
      else this.counters.txBackpressureCycles++;
    } else if (this.txDeframer.inPacket && this.txDeframer.firstUser & TX_STREAMED) {
      this.txStreamedGap = true;
    }
    if (ports.m_axis_rx_tvalid && ports.m_axis_rx_tready) this.takeRxBeat(cycle);
    if (ports.cfg_mgmt_rd_en | ports.cfg_mgmt_wr_en | ports.cfg_mgmt_rd_wr_done || this.cfgMgmt.busy) this.cfgMgmt.step(ports);
    // After this edge's handshakes: a beat taken at the edge PERST# drops the link on is lost with the rest.
    if ((ports.perst_n === 0) !== this.perstAsserted) this.perstChanged(cycle);
    if (cycle >= this.surpriseAt) this.takeSurpriseDown(cycle);
    if (ports.pl_directed_link_change === 0) this.directedArmed = true;

    if (this.linkUp) {
      this.runLink(cycle);
    } else if (cycle + 1 >= this.trainingEnd) {
      this.finishTraining();
    }

    this.presentRx();
    ports.user_lnk_up = this.linkUp ? 1 : 0;
    ports.s_axis_tx_tready = this.linkUp && (this.txDeframer.inPacket || this.txBuffersFree > 0) ? 1 : 0;
    ports.tx_buf_av = this.txBuffersFree;
    this.cycle = cycle + 1;
  }

  /**
   * The first cycle whose step() may do anything but let time pass, with the ports' inputs held as they
   * are now: this.cycle when something is under way, Infinity when nothing will ever happen. Steps before
   * it change no output and no state but the clock, the wire's budget and SKP count (advanceIdle()).
   * The endpoint counts in: its nextEventCycle() (without one, the model cannot know and says "now").
   */
  nextEventCycle(): number {
    const now = this.cycle;
    const ports = this.ports;
    if (ports.s_axis_tx_tvalid | ports.tx_err_drop | ports.pl_directed_change_done) return now;
    if (ports.cfg_mgmt_rd_en | ports.cfg_mgmt_wr_en | ports.cfg_mgmt_rd_wr_done || this.cfgMgmt.busy) return now;
    if ((ports.perst_n === 0) !== this.perstAsserted) return now;
    if (this.surpriseAt <= now) return now;
    const directed = ports.pl_directed_link_change;
    if (directed === 0 ? !this.directedArmed : this.directedArmed && this.linkUp && this.retrainUntil < 0) return now;
    if (this.txDeframer.inPacket && this.txDeframer.firstUser & TX_STREAMED && !this.txStreamedGap) return now;
    if (!this.linkUp) return Math.max(now, Math.min(this.trainingEnd - 1, this.surpriseAt));
    if (this.rxCurrent !== undefined || this.rxBuffer.length > 0 || this.txQueue.length > 0 || this.endpointQueue.length > 0) return now;
    if (this.config.retrainPending) return now;
    let next = Math.min(this.down.nextEventCycle(), this.up.nextEventCycle());
    if (this.retrainUntil >= 0 && this.retrainUntil < next) next = this.retrainUntil;
    if (this.surpriseAt < next) next = this.surpriseAt;
    if (this.endpoint.nextEventCycle === undefined) return now;
    const endpointEvent = this.endpoint.nextEventCycle();
    if (endpointEvent !== undefined && endpointEvent < next) next = endpointEvent;
    return next < now ? now : next;
  }

  /**
   * Lets `cycles` cycles pass in which nothing happens (no more than nextEventCycle() - cycle): the same
   * state as that many step() calls with the inputs held, at the cost of one.
   */
  advanceIdle(cycles: number): void {
    if (cycles <= 0) return;
    const idleUntil = this.nextEventCycle();
    if (this.cycle + cycles > idleUntil) {
      throw new Error(`LinkModel.advanceIdle(${cycles}) at cycle ${this.cycle}: something happens at cycle ${idleUntil}`);
    }
    if (this.linkUp) {
      this.down.idleTicks(cycles);
      this.up.idleTicks(cycles);
    }
    this.cycle += cycles;
  }

  /**
   * The device goes away (true) or is there again (false), as the `noLink` parameter says, from the
   * next PERST# release on: a link up now stays up, one in Detect stays there until PERST# is pulsed.
   * A run can so end in "no link" and then show the controller's restart bringing the link up.
   */
  setNoLink(noLink: boolean): void {
    if (typeof noLink !== "boolean") throw new TypeError(`setNoLink(${String(noLink)}): noLink must be true or false`);
    this.params.noLink = noLink;
  }

  /**
   * A surprise link down at cycle `atCycle` (a loose connector, the SSD's PHY resetting): the link leaves
   * L0 and user_lnk_up falls, every TLP queued, on the wire or being presented is lost, the SSD's function
   * sees DL_Down (a hot reset: its controller and queues are gone, its media stays), and the link trains
   * again by itself `downCycles` + trainingCycles later. PERST# asserted meanwhile takes over as usual.
   * Nothing happens if the link is not up at that cycle.
   */
  surpriseDown(atCycle: number, downCycles: number): void {
    if (!Number.isSafeInteger(atCycle) || atCycle < this.cycle) throw new RangeError(`surpriseDown: atCycle ${atCycle} is not a cycle from now (${this.cycle}) on`);
    if (!Number.isSafeInteger(downCycles) || downCycles < 0) throw new RangeError(`surpriseDown: downCycles ${downCycles} is not a non-negative integer`);
    this.surpriseAt = atCycle;
    this.surpriseDownCycles = downCycles;
  }

  /** The link is trained (DL_Active; also during a retrain, as user_lnk_up stays high). */
  get isUp(): boolean {
    return this.linkUp;
  }

  /**
   * Flow-control credits the transmitter of a direction may still use (down: the SSD's receiver, up: the
   * root port's receiver), as the fc_* ports would show them; Infinity for infinite classes.
   */
  creditsAvailable(direction: "down" | "up", fcClass: FcClass): { header: number; data: number } {
    const gate = (direction === "down" ? this.down : this.up).gate;
    return { header: gate.headerCredits(fcClass), data: gate.dataCredits(fcClass) };
  }

  /** Drops by category (shorthand for counters.dropCounts). */
  dropCount(category: string): number {
    return this.counters.dropCounts.get(category) ?? 0;
  }

  private runLink(cycle: number): void {
    this.down.tick(cycle);
    this.up.tick(cycle);
    if (this.config.takeRetrainRequest()) this.startRetrain(cycle);
    else if (this.ports.pl_directed_link_change !== 0 && this.directedArmed && this.retrainUntil < 0) this.startDirectedChange(cycle);
    if (this.retrainUntil >= 0) {
      if (cycle < this.retrainUntil) return;
      this.finishRetrain();
    }
    if (this.down.nextArrival <= cycle) this.deliverDownstream(cycle);
    if (this.endpointQueue.length < this.params.endpointTxQueueDepth) this.pullFromEndpoint(cycle);
    if (this.txQueue.length > 0) this.transmitDownstream(cycle);
    if (this.endpointQueue.length > 0) this.transmitUpstream(cycle);
    if (this.up.nextArrival <= cycle) this.receiveUpstream(cycle);
  }

  // ---- downstream: user -> TX buffers -> wire -> endpoint ----

  private acceptTxBeat(cycle: number): void {
    const ports = this.ports;
    const deframer = this.txDeframer;
    if (!deframer.inPacket) {
      this.txBuffersFree--;
      this.txStreamedGap = false;
    }
    const status = deframer.push(
      ports.s_axis_tx_tdata_lo,
      ports.s_axis_tx_tdata_hi,
      ports.s_axis_tx_tkeep,
      ports.s_axis_tx_tlast !== 0,
      ports.s_axis_tx_tuser,
    );
    if (status === PENDING) return;
    if (status === REJECTED) return this.dropTx(cycle, "tx-framing", deframer.reason);
    if (deframer.lastUser & TxUser.srcDiscontinue) {
      this.txBuffersFree++;
      this.log("tx", "tx-src-discontinue", "TLP discarded by tx_src_dsc (tuser[3]) on its last beat");
      return;
    }
    if (this.txStreamedGap) return this.dropTx(cycle, "tx-streamed-gap", "streamed TLP (tx_str, tuser[2]) had a gap in tvalid");
    let tlp: Tlp;
    let bytes = deframer.tlpBytes();
    try {
      tlp = decodeTlp(bytes, SHARE_PAYLOAD);
    } catch (error) {
      if (!(error instanceof TlpFormatError)) throw error;
      return this.dropTx(cycle, `tx-${error.errorClass}`, error.reason);
    }
    const poison = (deframer.anyUser & TxUser.errFwd) !== 0 && !tlp.ep;
    const digest = (deframer.firstUser & TxUser.ecrcGen) !== 0 && !tlp.td;
    if (poison || digest) {
      tlp = { ...tlp, ep: tlp.ep || poison, td: tlp.td || digest };
      bytes = encodeTlp(tlp);
    }
    const payload = tlp.data?.length ?? 0;
    const mps = this.config.maxPayloadSize;
    if (payload > mps) {
      return this.dropTx(cycle, "tx-over-mps", `${tlp.kind} payload ${payload} B exceeds the programmed Max_Payload_Size ${mps} B`);
    }
    if (tlp.kind === "MRd" && tlp.lengthDw * 4 > this.config.maxReadRequestSize) {
      this.counters.mrrsExceeded++;
      this.log("tx", "tx-over-mrrs", `MRd of ${tlp.lengthDw * 4} B exceeds the programmed Max_Read_Request_Size ${this.config.maxReadRequestSize} B (sent anyway)`);
    }
    this.options.trace?.write(cycle, "down", bytes);
    this.txQueue.push({ arrival: 0, tlp, bytes, fcClass: fcClassOf(tlp), dataCredits: dataCreditsFor(payload), payload });
  }

  private dropTx(cycle: number, category: string, reason: string): void {
    this.txBuffersFree++;
    this.ports.tx_err_drop = 1;
    this.countDrop(category);
    this.log("tx", category, `cycle ${cycle}: s_axis_tx TLP dropped: ${reason}`);
  }

  private transmitDownstream(cycle: number): void {
    const down = this.down;
    while (this.txQueue.length > 0 && down.free) {
      const head = this.txQueue.peek()!;
      if (!down.gate.allows(head.fcClass, head.dataCredits)) {
        down.counters.creditStallCycles[head.fcClass]++;
        return;
      }
      down.gate.consume(head.fcClass, head.dataCredits);
      this.txQueue.shift();
      down.startTlp(cycle, head.bytes.length, head.payload, head);
      this.txBuffersFree++;
    }
  }

  private deliverDownstream(cycle: number): void {
    const inFlight = this.down.inFlight;
    while (inFlight.length > 0 && inFlight.peek()!.arrival <= cycle) {
      const item = inFlight.shift()!;
      this.up.owesAck(cycle);
      // The endpoint model consumes each TLP on arrival, so its buffer space is free at once.
      this.up.returnCredits(cycle, item.fcClass, item.dataCredits);
      this.counters.deliveredDownTlps++;
      this.counters.deliveredDownPayload += item.payload;
      this.endpoint.receive(item.tlp, cycle);
    }
  }

  // ---- upstream: endpoint -> wire -> RX buffer -> user ----

  private pullFromEndpoint(cycle: number): void {
    while (this.endpointQueue.length < this.params.endpointTxQueueDepth) {
      const tlp = this.endpoint.nextUpstream(cycle);
      if (tlp === undefined) return;
      let bytes: Uint8Array;
      try {
        bytes = encodeTlp(tlp);
      } catch (error) {
        if (!(error instanceof TlpFormatError)) throw error;
        this.countDrop("endpoint-malformed");
        this.log("endpoint", "endpoint-malformed", `cycle ${cycle}: endpoint produced an illegal TLP, dropped: ${error.reason}`);
        continue;
      }
      const payload = tlp.data?.length ?? 0;
      this.endpointQueue.push({ arrival: 0, tlp, bytes, fcClass: fcClassOf(tlp), dataCredits: dataCreditsFor(payload), payload });
    }
  }

  /** Sends in order, except that posted and completion TLPs may pass non-posted ones stuck on credits. */
  private transmitUpstream(cycle: number): void {
    const up = this.up;
    const queue = this.endpointQueue;
    // Each credit class stalled this cycle counts once, however many of its TLPs wait.
    let stalledClasses = 0;
    while (up.free && queue.length > 0) {
      let chosen = -1;
      for (let i = 0; i < queue.length; i++) {
        const item = queue.at(i)!;
        if (up.gate.allows(item.fcClass, item.dataCredits)) {
          chosen = i;
          break;
        }
        if (!(stalledClasses & (1 << item.fcClass))) {
          stalledClasses |= 1 << item.fcClass;
          up.counters.creditStallCycles[item.fcClass]++;
        }
        if (item.fcClass !== NON_POSTED) break;
      }
      if (chosen < 0) return;
      const item = queue.removeAt(chosen)!;
      up.gate.consume(item.fcClass, item.dataCredits);
      up.startTlp(cycle, item.bytes.length, item.payload, item);
    }
  }

  private receiveUpstream(cycle: number): void {
    const inFlight = this.up.inFlight;
    while (inFlight.length > 0 && inFlight.peek()!.arrival <= cycle) {
      const item = inFlight.shift()!;
      this.down.owesAck(cycle);
      const mps = this.config.maxPayloadSize;
      if (item.payload > mps) {
        this.refuseUpstream(cycle, item, "rx-over-mps", `malformed ${item.tlp.kind}: payload ${item.payload} B exceeds the root port's Max_Payload_Size ${mps} B`);
        this.config.reportDeviceError(2);
        continue;
      }
      if ((item.tlp.kind === "Msg" || item.tlp.kind === "MsgD") && !this.params.forwardMessages) {
        const code = item.tlp.messageCode;
        this.counters.messages.set(code, (this.counters.messages.get(code) ?? 0) + 1);
        this.down.returnCredits(cycle, item.fcClass, item.dataCredits);
        continue;
      }
      this.rxBuffer.push(item);
    }
  }

  private refuseUpstream(cycle: number, item: TlpInTransit, category: string, reason: string): void {
    this.down.returnCredits(cycle, item.fcClass, item.dataCredits);
    this.countDrop(category);
    this.log("rx", category, `cycle ${cycle}: received TLP dropped: ${reason}`);
  }

  private takeRxBeat(cycle: number): void {
    this.rxFramer.advance();
    if (this.rxFramer.active) return;
    const item = this.rxCurrent!;
    this.rxCurrent = undefined;
    this.down.returnCredits(cycle, item.fcClass, item.dataCredits);
    this.counters.deliveredUpTlps++;
    this.counters.deliveredUpPayload += item.payload;
    this.options.trace?.write(cycle, "up", item.bytes);
  }

  /** Set the m_axis_rx outputs for the next cycle; start the next TLP the rx_np_ok rule allows. */
  private presentRx(): void {
    const ports = this.ports;
    if (this.rxCurrent === undefined && this.rxBuffer.length > 0) {
      const index = this.nextRxIndex();
      if (index >= 0) {
        const item = this.rxBuffer.removeAt(index)!;
        this.rxCurrent = item;
        this.rxFramer.load(item.bytes, item.tlp.ep ? RxUser.errFwd : 0);
      }
    }
    if (this.rxCurrent === undefined) {
      ports.m_axis_rx_tvalid = 0;
      ports.m_axis_rx_tlast = 0;
      return;
    }
    const framer = this.rxFramer;
    ports.m_axis_rx_tvalid = 1;
    ports.m_axis_rx_tdata_lo = framer.lo;
    ports.m_axis_rx_tdata_hi = framer.hi;
    ports.m_axis_rx_tkeep = framer.keep;
    ports.m_axis_rx_tlast = framer.last ? 1 : 0;
    ports.m_axis_rx_tuser = framer.user;
  }

  /** While rx_np_ok is low, non-posted TLPs wait and posted/completion TLPs behind them may pass. */
  private nextRxIndex(): number {
    if (this.ports.rx_np_ok) return 0;
    for (let i = 0; i < this.rxBuffer.length; i++) {
      if (this.rxBuffer.at(i)!.fcClass !== NON_POSTED) return i;
    }
    this.counters.rxNpHeldCycles++;
    return -1;
  }

  // ---- reset, training and link speed changes ----

  private perstChanged(cycle: number): void {
    const asserted = this.ports.perst_n === 0;
    this.perstAsserted = asserted;
    if (asserted) {
      this.takeLinkDown(cycle);
      this.trainingEnd = Infinity;
      this.ltssm = LtssmState.detectQuiet;
      this.log("link", "perst-asserted", `cycle ${cycle}: PERST# asserted: endpoint held in reset, link down`);
    } else {
      this.endpoint.reset?.(cycle);
      this.trainingEnd = this.params.noLink ? Infinity : cycle + this.params.trainingCycles;
      this.ltssm = this.params.noLink ? LtssmState.detectActive : LtssmState.pollingActive;
      this.log("link", "perst-released", `cycle ${cycle}: PERST# released: endpoint reset, link training`);
    }
    this.updatePhysicalPorts();
  }

  /** Nothing on the link survives: queues, the wire, the TLP being presented, flow-control state. */
  private takeLinkDown(cycle: number): void {
    const lost =
      this.txQueue.length + this.down.inFlight.length + this.up.inFlight.length + this.endpointQueue.length + this.rxBuffer.length +
      (this.rxCurrent !== undefined ? 1 : 0) + (this.txDeframer.inPacket ? 1 : 0);
    if (this.linkUp || this.trainingEnd !== Infinity) this.counters.linkDowns++;
    this.counters.linkDownLostTlps += lost;
    if (lost > 0) this.log("link", "link-down-lost", `cycle ${cycle}: link down with ${lost} TLP(s) queued, on the wire or being presented: lost`);
    this.txQueue.clear();
    this.endpointQueue.clear();
    this.rxBuffer.clear();
    this.rxCurrent = undefined;
    this.rxFramer.abort();
    this.txDeframer.abort();
    this.txStreamedGap = false;
    this.txBuffersFree = this.params.txBuffers;
    this.down.reset();
    this.up.reset();
    this.linkUp = false;
    this.retrainUntil = -1;
    this.directedInProgress = false;
    this.speed = this.trainingSpeed;
    this.width = this.maxWidth;
    this.config.setLinkStatus(this.speed, this.width, false, false);
  }

  private takeSurpriseDown(cycle: number): void {
    this.surpriseAt = Infinity;
    if (!this.linkUp) return;
    this.takeLinkDown(cycle);
    this.endpoint.reset?.(cycle);
    this.trainingEnd = cycle + this.surpriseDownCycles + this.params.trainingCycles;
    this.ltssm = LtssmState.detectQuiet;
    this.updatePhysicalPorts();
    this.log("link", "surprise-down", `cycle ${cycle}: surprise link down: the SSD's function reset, link training again in ${this.surpriseDownCycles + this.params.trainingCycles} cycles`);
  }

  private finishTraining(): void {
    this.linkUp = true;
    this.speed = this.trainingSpeed;
    this.width = this.maxWidth;
    this.applyWireRate();
    this.config.setLinkStatus(this.speed, this.width, false, true);
    this.ltssm = LtssmState.l0;
    this.updatePhysicalPorts();
  }

  private startRetrain(cycle: number): void {
    this.retrainUntil = cycle + this.params.retrainCycles;
    this.counters.retrains++;
    this.config.setLinkStatus(this.speed, this.width, true, true);
    this.ltssm = LtssmState.recoveryRcvrLock;
    this.updatePhysicalPorts();
    this.log("link", "retrain", `cycle ${cycle}: Link Control.Retrain set; traffic held for ${this.params.retrainCycles} cycles`);
  }

  /** pl_directed_link_change: speed (10b), width (01b) or both, to what the request lines say. */
  private startDirectedChange(cycle: number): void {
    const ports = this.ports;
    const change = ports.pl_directed_link_change & 3;
    this.directedArmed = false;
    this.directedInProgress = true;
    this.directedSpeed = change & DirectedChange.speed ? (ports.pl_directed_link_speed & 1 ? 2 : 1) : this.speed;
    this.directedWidth = change & DirectedChange.width ? 1 << (ports.pl_directed_link_width & 3) : this.width;
    this.counters.directedChanges++;
    this.startRetrain(cycle);
  }

  private finishRetrain(): void {
    this.retrainUntil = -1;
    const p = this.params;
    const target = this.directedInProgress ? this.directedSpeed : this.config.targetLinkSpeed;
    this.speed = Math.max(1, Math.min(target, p.generation, p.endpointMaxSpeed)) as Generation;
    if (this.directedInProgress) {
      this.width = Math.min(this.directedWidth, this.maxWidth);
      this.directedInProgress = false;
      this.ports.pl_directed_change_done = 1;
    }
    this.applyWireRate();
    this.config.setLinkStatus(this.speed, this.width, false, true);
    this.ltssm = LtssmState.l0;
    this.updatePhysicalPorts();
  }

  /** The wire's byte budget and SKP spacing follow the speed and width (kept when neither changed). */
  private applyWireRate(): void {
    if (this.speed === this.wireSpeed && this.width === this.wireWidth) return;
    this.wireSpeed = this.speed;
    this.wireWidth = this.width;
    const rate = wireRate(this.speed, this.width);
    const skp = this.skpIntervalFor(this.speed);
    this.down.setRate(rate, skp);
    this.up.setRate(rate, skp);
  }

  private skpIntervalFor(speed: Generation): number {
    const p = this.params;
    return speed === p.generation ? p.skpIntervalSymbols : speed === 3 ? GEN3_SKP_INTERVAL_SYMBOLS : GEN12_SKP_INTERVAL_SYMBOLS;
  }

  private updatePhysicalPorts(): void {
    const ports = this.ports;
    ports.pl_sel_lnk_rate = this.speed >= 2 ? 1 : 0;
    ports.pl_sel_lnk_width = linkWidthCode(this.width);
    ports.pl_link_gen2_cap = this.linkUp && this.gen2Capable ? 1 : 0;
    ports.pl_ltssm_state = this.ltssm;
  }

  // ---- bookkeeping ----

  private countDrop(category: string): void {
    this.counters.dropCounts.set(category, (this.counters.dropCounts.get(category) ?? 0) + 1);
  }

  private log(source: LinkEventSource, category: string, reason: string): void {
    const event: LinkEvent = { cycle: this.cycle, source, category, reason };
    if (this.events.length >= this.params.eventLogLimit) this.events.shift();
    this.events.push(event);
    this.options.onEvent?.(event);
  }
}
