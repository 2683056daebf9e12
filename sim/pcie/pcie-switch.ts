// A PCIe packet switch as the specification describes it (PCIe Base 2.1 §1.3.3, §2.9, §7.3; PCI-to-PCI
// Bridge 1.2): an upstream port and N downstream ports, each a virtual PCI-to-PCI bridge with its own
// type-1 configuration space (pci-bridge-config.ts). The upstream bridge sits on the root port's secondary
// bus; the downstream bridges are devices 0..N-1 on the internal bus (the upstream bridge's secondary bus).
//
// To the root port's link model the switch is the endpoint (PcieEndpoint); behind each downstream port a
// link of its own (two LinkDirections: byte budget, latency, credits, Ack/UpdateFC, SKP) leads to a device
// (an SSD model). Routing, at the ingress port:
// - Type-1 configuration requests go by bus number ranges; at the bus of a bridge's secondary side they
//   become type 0 (device 0 only below a downstream port: without ARI a type 0 to device != 0 is UR); a
//   type 0 arriving at the upstream port, or a converted one on the internal bus, is served by the
//   bridges' own configuration spaces.
// - Memory requests go by the memory and prefetchable windows: downward through the upstream bridge
//   (Memory Space Enable) and the downstream bridge whose window claims the address (its Memory Space
//   Enable); upward from a downstream port only with that bridge's Bus Master Enable, to a peer whose
//   window claims the address, else upstream (with the upstream bridge's Bus Master Enable) when no window
//   of the switch claims it.
// - Completions go by the Requester ID's bus number.
// Requests nobody claims get a UR completion (non-posted) or are dropped (posted), as is everything sent
// to a port whose link is down. A TLP whose payload exceeds the ingress port's Max_Payload_Size is
// malformed and dropped. Each TLP leaves the switch `latencyCycles` after it arrived, in arrival order per
// egress port (a non-posted TLP stuck on credits may be passed, which the ordering rules allow; nothing
// else passes anything). Downstream ports obey Secondary Bus Reset, Link Control Retrain (to Link
// Control 2's target speed) and Link Disable. Credits a downstream link's TLP took in the switch's
// receive buffer come back when the TLP leaves the switch, so a congested upstream link pushes back on
// the SSDs.
//
// Time: the root port's link model calls receive() and nextUpstream() with its cycle; the switch catches up
// to that cycle (stepping its links and devices, jumping over idle stretches exactly) before acting, and
// its nextEventCycle() lets the full system skip idle time. Simplification: the root link's credits for
// downstream TLPs return as they arrive (the link model's rule for any endpoint), so the switch's queue
// towards a slow downstream port may grow; its high-water mark is counted.

import { completionWithoutData } from "./completion-split.ts";
import { encodedSize } from "./codec.ts";
import { Fifo } from "./fifo.ts";
import { dataCreditsFor, FcClass, fcClassOf } from "./flow-control.ts";
import { LinkDirection } from "./link-direction.ts";
import { GEN12_SKP_INTERVAL_SYMBOLS, GEN3_SKP_INTERVAL_SYMBOLS, wireRate, type Generation, type LinkParams } from "./link-params.ts";
import { BridgeConfigSpace, PortType } from "./pci-bridge-config.ts";
import { resolveDownstreamLink, resolveSwitchParams, type SwitchParams, type SwitchParamsInput } from "./switch-params.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type Message, type PcieEndpoint, type Tlp } from "./tlp.ts";

const NON_POSTED = FcClass.nonPosted;
/** Assert_INTA..Assert_INTD are 0x20..0x23, Deassert_INTA..D 0x24..0x27. */
const MSG_ASSERT_INTA = 0x20;
const MSG_DEASSERT_INTD = 0x27;
const ROUTE_TO_ROOT = 0b000;
const ROUTE_BROADCAST = 0b011;
const ROUTE_LOCAL = 0b100;

/** A device on a downstream port: the endpoint and its link capabilities. */
export interface SwitchDevice {
  endpoint: PcieEndpoint;
  maxSpeed: Generation;
  maxWidth: number;
  /** The link to it never trains (a dead device in the slot). */
  noLink?: boolean;
}

/** Where a TLP is seen: "down" = handed to a downstream device, "up" = handed to the root link. */
export interface SwitchTlpEvent {
  cycle: number;
  direction: "down" | "up";
  /** Downstream port index ("down"), or the port it came from ("up"; -1 for the switch itself). */
  port: number;
  tlp: Tlp;
}

export interface SwitchEvent {
  cycle: number;
  /** Downstream port index, or -1 for the upstream port. */
  port: number;
  category: string;
  reason: string;
}

export interface SwitchPortCounters {
  /** TLPs handed to the device, and TLPs received from it. */
  tlpsDown: number;
  tlpsUp: number;
  payloadDown: number;
  payloadUp: number;
  /** UR completions the switch generated for requests that entered at this port. */
  unsupportedRequests: number;
  /** Posted requests dropped at this port (no window, link down, Bus Master Enable 0). */
  postedDropped: number;
  /** Requests from the device refused because the bridge's Bus Master Enable was 0. */
  busMasterRefused: number;
  malformed: number;
  unexpectedCompletions: number;
  /** Largest number of TLPs queued at this port's egress (towards the device). */
  maxEgressDepth: number;
}

export interface PcieSwitchOptions {
  /** Called for every TLP handed to a downstream device or to the root link. */
  observe?: (event: SwitchTlpEvent) => void;
  /** Called for every logged event (refusals, drops, resets). */
  onEvent?: (event: SwitchEvent) => void;
}

interface Queued {
  tlp: Tlp;
  /** Cycle from which it may leave the switch (LinkDirection overwrites `arrival` on the wire). */
  ready: number;
  arrival: number;
  fcClass: FcClass;
  dataCredits: number;
  payload: number;
  wireBytes: number;
  /** The downstream port whose receive buffer holds the TLP's credits until it leaves the switch. */
  heldBy: DownstreamPort | undefined;
  /** Link incarnation of `heldBy` when the credits were taken (a reset of that link forgets them). */
  heldEpoch: number;
  /** The port it came from (-1: root link or the switch itself), for observers. */
  from: number;
}

class DownstreamPort {
  readonly config: BridgeConfigSpace;
  readonly counters: SwitchPortCounters = {
    tlpsDown: 0,
    tlpsUp: 0,
    payloadDown: 0,
    payloadUp: 0,
    unsupportedRequests: 0,
    postedDropped: 0,
    busMasterRefused: 0,
    malformed: 0,
    unexpectedCompletions: 0,
    maxEgressDepth: 0,
  };
  readonly link: LinkParams;
  readonly down: LinkDirection<Queued>;
  readonly up: LinkDirection<Queued>;
  /** Switch -> device, waiting for the wire and the device's credits. */
  readonly egress = new Fifo<Queued>();
  /** Device -> switch, taken from the device and waiting for the wire and the port's credits. */
  readonly deviceTx = new Fifo<Queued>();
  linkUp = false;
  /** Cycle whose step brings the link up is trainingEnd - 1; Infinity when it never trains. */
  trainingEnd: number;
  speed: Generation;
  width: number;
  /** Secondary Bus Reset (here or on the upstream bridge) holds the link down. */
  inHotReset = false;
  /** Link Control.Link Disable holds the link down. */
  disabled = false;
  /** A retrain (Link Control.Retrain) holds traffic until this cycle; -1 when none is under way. */
  retrainUntil = -1;
  /** Counts link resets: credits held for an earlier incarnation of the link are not returned. */
  epoch = 0;

  constructor(
    readonly index: number,
    params: SwitchParams,
    readonly device: SwitchDevice | undefined,
  ) {
    this.link = resolveDownstreamLink(params.downstreamLinks[index], device ? { linkSpeed: device.maxSpeed, linkWidth: device.maxWidth } : undefined);
    const l = this.link;
    this.config = new BridgeConfigSpace({
      vendorId: params.vendorId,
      deviceId: params.deviceId,
      revisionId: params.revisionId,
      portType: PortType.downstream,
      portNumber: index + 1,
      maxSpeed: l.generation,
      maxWidth: l.lanes,
      mpsSupported: params.mpsSupported,
      slotNumber: params.slots ? index + 1 : 0,
    });
    this.speed = Math.min(l.initialSpeed, l.endpointMaxSpeed) as Generation;
    this.width = Math.min(l.lanes, l.endpointMaxWidth);
    const rate = wireRate(this.speed, this.width);
    const skp = { ...l, skpIntervalSymbols: skpInterval(l, this.speed) };
    this.down = new LinkDirection(rate, skp, l.endpointRxCredits, l.rootPortRxCredits);
    this.up = new LinkDirection(rate, skp, l.rootPortRxCredits, l.endpointRxCredits);
    this.down.connectReverse(this.up);
    this.up.connectReverse(this.down);
    this.trainingEnd = this.canTrain ? l.trainingCycles : Infinity;
    this.showLinkState();
  }

  get canTrain(): boolean {
    return this.device !== undefined && !this.device.noLink && !this.link.noLink && !this.inHotReset && !this.disabled;
  }

  /** Requests can be forwarded to the device. */
  get reachable(): boolean {
    return this.linkUp;
  }

  showLinkState(): void {
    this.config.setPresence(this.device !== undefined);
    if (this.linkUp) this.config.setLinkStatus(this.speed, this.width, this.retrainUntil >= 0, true);
    else this.config.setLinkStatus(this.link.generation, 0, this.trainingEnd !== Infinity, false);
  }
}

function skpInterval(l: LinkParams, speed: Generation): number {
  return speed === l.generation ? l.skpIntervalSymbols : speed === 3 ? GEN3_SKP_INTERVAL_SYMBOLS : GEN12_SKP_INTERVAL_SYMBOLS;
}

export class PcieSwitch implements PcieEndpoint {
  readonly params: SwitchParams;
  /** The upstream port's bridge. */
  readonly upstream: BridgeConfigSpace;
  readonly ports: readonly DownstreamPort[];
  readonly upstreamCounters = { tlpsDown: 0, tlpsUp: 0, unsupportedRequests: 0, postedDropped: 0, malformed: 0, unexpectedCompletions: 0, messagesConsumed: 0 };
  readonly events: SwitchEvent[] = [];
  /** The root link's state for the upstream bridge's Link Status (set by whoever builds the root link). */
  upstreamLinkState: (() => { speed: number; width: number; up: boolean }) | undefined;
  private readonly toRoot = new Fifo<Queued>();
  /** Bus and device captured from type-0 configuration writes to the upstream bridge (its ID). */
  private upstreamId = 0;
  /** Last cycle whose internal step has run. */
  private processedThrough = -1;
  /** Configuration requests to the bridges get CRS before this cycle (the switch is still initialising). */
  private crsUntil: number;
  /** INTx virtual wires towards the root: assertions per pin A..D. */
  private readonly intxAsserted = [0, 0, 0, 0];
  /** Per port and pin: the port's device has that (swizzled) pin asserted. */
  private readonly intxFrom: boolean[][];

  constructor(
    params: SwitchParamsInput | SwitchParams = {},
    devices: readonly (SwitchDevice | undefined)[] = [],
    private readonly options: PcieSwitchOptions = {},
  ) {
    this.params = "latencyCycles" in params ? params : resolveSwitchParams(params);
    const p = this.params;
    if (devices.length > p.downstreamPorts) throw new RangeError(`PcieSwitch: ${devices.length} devices for ${p.downstreamPorts} downstream ports`);
    this.upstream = new BridgeConfigSpace({
      vendorId: p.vendorId,
      deviceId: p.deviceId,
      revisionId: p.revisionId,
      portType: PortType.upstream,
      portNumber: 0,
      maxSpeed: p.upstreamSpeed,
      maxWidth: p.upstreamWidth,
      mpsSupported: p.mpsSupported,
      slotNumber: 0,
    });
    this.upstream.setLinkStatus(p.upstreamSpeed, p.upstreamWidth, false, true);
    this.ports = Array.from({ length: p.downstreamPorts }, (_, i) => new DownstreamPort(i, p, devices[i]));
    this.intxFrom = this.ports.map(() => [false, false, false, false]);
    this.crsUntil = p.crsCycles;
  }

  /** Routing ID of the upstream bridge (captured bus/device). */
  get upstreamRequesterId(): number {
    return this.upstreamId;
  }

  /** Routing ID of downstream bridge `port`: device `port` on the internal bus. */
  downstreamId(port: number): number {
    return (this.upstream.secondaryBus << 8) | (port << 3);
  }

  // ---- PcieEndpoint (the root link's far end) ----------------------------------------------------

  receive(tlp: Tlp, cycle: number): void {
    this.advance(cycle);
    this.upstreamCounters.tlpsDown++;
    const payload = tlp.data?.length ?? 0;
    if (payload > this.upstream.maxPayloadBytes) {
      this.upstreamCounters.malformed++;
      this.upstream.reportDeviceError(2);
      this.log(cycle, -1, "malformed", `${tlp.kind} payload ${payload} B exceeds the upstream port's Max_Payload_Size ${this.upstream.maxPayloadBytes} B: dropped`);
      return;
    }
    this.routeFromRoot(tlp, cycle);
  }

  nextUpstream(cycle: number): Tlp | undefined {
    this.advance(cycle);
    const head = this.toRoot.peek();
    if (head === undefined || head.ready > cycle) return undefined;
    this.toRoot.shift();
    this.leave(head, cycle);
    this.upstreamCounters.tlpsUp++;
    this.options.observe?.({ cycle, direction: "up", port: head.from, tlp: head.tlp });
    return head.tlp;
  }

  /** Conventional reset (PERST# released at `cycle`): every bridge, link and device starts again. */
  reset(cycle: number): void {
    if (cycle - 1 > this.processedThrough) this.processedThrough = cycle - 1;
    this.upstream.reset();
    this.upstream.setLinkStatus(this.params.upstreamSpeed, this.params.upstreamWidth, false, true);
    this.upstreamId = 0;
    this.crsUntil = cycle + this.params.crsCycles;
    this.toRoot.clear();
    this.intxAsserted.fill(0);
    for (const port of this.ports) {
      port.config.reset();
      port.inHotReset = false;
      port.disabled = false;
      this.resetPortLink(port, cycle);
      port.device?.endpoint.reset?.(cycle);
      this.intxFrom[port.index].fill(false);
    }
    this.log(cycle, -1, "reset", `cycle ${cycle}: conventional reset: bridges, links and devices reset`);
  }

  /** The first cycle at which the switch, its links or its devices may do anything on their own. */
  nextEventCycle(): number {
    const now = this.processedThrough + 1;
    const next = this.internalNextEvent(now);
    const head = this.toRoot.peek();
    if (head === undefined || head.ready >= next) return next;
    return head.ready < now ? now : head.ready;
  }

  /** Run the switch, its links and devices through `cycle` (receive/nextUpstream do this themselves). */
  advance(cycle: number): void {
    let cy = this.processedThrough + 1;
    while (cy <= cycle) {
      const next = this.internalNextEvent(cy);
      if (next > cy) {
        const skip = Math.min(next, cycle + 1) - cy;
        for (const port of this.ports) {
          if (!port.linkUp) continue;
          port.down.idleTicks(skip);
          port.up.idleTicks(skip);
        }
        cy += skip;
        continue;
      }
      this.stepInternal(cy);
      cy++;
    }
    if (cycle > this.processedThrough) this.processedThrough = cycle;
  }

  /** TLPs queued in the switch (towards the root and towards every device). */
  get queuedTlps(): number {
    let n = this.toRoot.length;
    for (const port of this.ports) n += port.egress.length + port.deviceTx.length + port.down.inFlight.length + port.up.inFlight.length;
    return n;
  }

  // ---- the downstream links ----------------------------------------------------------------------

  private internalNextEvent(now: number): number {
    let next = Infinity;
    for (const port of this.ports) {
      if (!port.linkUp) {
        if (port.trainingEnd - 1 < next) next = port.trainingEnd - 1;
        continue;
      }
      if (port.deviceTx.length > 0 || port.config.retrainPending) return now;
      if (port.retrainUntil >= 0 && port.retrainUntil < next) next = port.retrainUntil;
      const egressHead = port.egress.peek();
      if (egressHead !== undefined && egressHead.ready < next) next = egressHead.ready;
      const d = port.down.nextEventCycle();
      if (d < next) next = d;
      const u = port.up.nextEventCycle();
      if (u < next) next = u;
      const endpoint = port.device!.endpoint;
      if (endpoint.nextEventCycle === undefined) return now;
      const e = endpoint.nextEventCycle();
      if (e !== undefined && e < next) next = e;
    }
    return next < now ? now : next;
  }

  private stepInternal(cycle: number): void {
    for (const port of this.ports) {
      if (!port.linkUp) {
        if (cycle + 1 >= port.trainingEnd) this.finishTraining(port, cycle);
        continue;
      }
      port.down.tick(cycle);
      port.up.tick(cycle);
      if (port.retrainUntil < 0 && port.config.takeRetrainRequest()) this.startRetrain(port, cycle);
      if (port.retrainUntil >= 0) {
        if (cycle < port.retrainUntil) continue;
        this.finishRetrain(port, cycle);
      }
      if (port.down.nextArrival <= cycle) this.deliverToDevice(port, cycle);
      if (port.deviceTx.length < port.link.endpointTxQueueDepth) this.pullFromDevice(port, cycle);
      if (port.egress.length > 0) this.transmit(port.egress, port.down, cycle, false);
      if (port.deviceTx.length > 0) this.transmit(port.deviceTx, port.up, cycle, true);
      if (port.up.nextArrival <= cycle) this.receiveFromDevice(port, cycle);
    }
  }

  private finishTraining(port: DownstreamPort, cycle: number): void {
    port.linkUp = true;
    port.showLinkState();
    this.log(cycle, port.index, "link-up", `cycle ${cycle}: port ${port.index} link up at Gen${port.speed} x${port.width}`);
  }

  /** Link Control.Retrain: traffic on the link waits `retrainCycles` in Recovery. */
  private startRetrain(port: DownstreamPort, cycle: number): void {
    port.retrainUntil = cycle + port.link.retrainCycles;
    port.showLinkState();
    this.log(cycle, port.index, "retrain", `cycle ${cycle}: port ${port.index} retrains; traffic held for ${port.link.retrainCycles} cycles`);
  }

  /** The retrained link runs at Link Control 2's Target Link Speed as far as both ends allow. */
  private finishRetrain(port: DownstreamPort, cycle: number): void {
    port.retrainUntil = -1;
    const l = port.link;
    const speed = Math.max(1, Math.min(port.config.targetLinkSpeed || l.generation, l.generation, l.endpointMaxSpeed)) as Generation;
    if (speed !== port.speed) {
      port.speed = speed;
      const rate = wireRate(speed, port.width);
      port.down.setRate(rate, skpInterval(l, speed));
      port.up.setRate(rate, skpInterval(l, speed));
    }
    port.showLinkState();
    this.log(cycle, port.index, "retrained", `cycle ${cycle}: port ${port.index} link at Gen${port.speed} x${port.width}`);
  }

  /** Link Control.Link Disable changed: the link goes down, or trains again (the device sees a reset). */
  private linkDisableChanged(port: DownstreamPort, cycle: number): void {
    port.disabled = port.config.linkDisabled;
    this.resetPortLink(port, cycle);
    if (!port.disabled) port.device?.endpoint.reset?.(cycle);
    this.intxFrom[port.index].fill(false);
    this.log(cycle, port.index, "link-disable", `cycle ${cycle}: port ${port.index} Link Disable ${port.disabled ? "set" : "cleared"}`);
  }

  /** The port's link goes down (reset) and trains again from `cycle` unless it cannot. */
  private resetPortLink(port: DownstreamPort, cycle: number): void {
    for (const q of [port.egress, port.deviceTx]) {
      while (q.length > 0) this.leave(q.shift()!, cycle);
    }
    port.egress.clear();
    port.deviceTx.clear();
    port.epoch++;
    port.down.reset();
    port.up.reset();
    port.linkUp = false;
    port.retrainUntil = -1;
    port.speed = Math.min(port.link.initialSpeed, port.link.endpointMaxSpeed) as Generation;
    const rate = wireRate(port.speed, port.width);
    port.down.setRate(rate, skpInterval(port.link, port.speed));
    port.up.setRate(rate, skpInterval(port.link, port.speed));
    port.trainingEnd = port.canTrain ? cycle + port.link.trainingCycles : Infinity;
    port.showLinkState();
  }

  /** Sends in order of readiness; only a non-posted TLP stuck on credits may be passed. */
  private transmit(queue: Fifo<Queued>, wire: LinkDirection<Queued>, cycle: number, fromDevice: boolean): void {
    let stalled = 0;
    while (wire.free && queue.length > 0) {
      let chosen = -1;
      for (let i = 0; i < queue.length; i++) {
        const item = queue.at(i)!;
        if (item.ready > cycle) break;
        if (wire.gate.allows(item.fcClass, item.dataCredits)) {
          chosen = i;
          break;
        }
        if (!(stalled & (1 << item.fcClass))) {
          stalled |= 1 << item.fcClass;
          wire.counters.creditStallCycles[item.fcClass]++;
        }
        if (item.fcClass !== NON_POSTED) break;
      }
      if (chosen < 0) return;
      const item = queue.removeAt(chosen)!;
      wire.gate.consume(item.fcClass, item.dataCredits);
      wire.startTlp(cycle, item.wireBytes, item.payload, item);
      if (!fromDevice) this.leave(item, cycle);
    }
  }

  private deliverToDevice(port: DownstreamPort, cycle: number): void {
    const inFlight = port.down.inFlight;
    const endpoint = port.device!.endpoint;
    while (inFlight.length > 0 && inFlight.peek()!.arrival <= cycle) {
      const item = inFlight.shift()!;
      port.up.owesAck(cycle);
      // The device consumes each TLP on arrival (as on the root link), so its buffer is free at once.
      port.up.returnCredits(cycle, item.fcClass, item.dataCredits);
      port.counters.tlpsDown++;
      port.counters.payloadDown += item.payload;
      this.options.observe?.({ cycle, direction: "down", port: port.index, tlp: item.tlp });
      endpoint.receive(item.tlp, cycle);
    }
  }

  private pullFromDevice(port: DownstreamPort, cycle: number): void {
    const endpoint = port.device!.endpoint;
    while (port.deviceTx.length < port.link.endpointTxQueueDepth) {
      const tlp = endpoint.nextUpstream(cycle);
      if (tlp === undefined) return;
      port.deviceTx.push(this.queued(tlp, cycle, undefined, port.index));
    }
  }

  private receiveFromDevice(port: DownstreamPort, cycle: number): void {
    const inFlight = port.up.inFlight;
    while (inFlight.length > 0 && inFlight.peek()!.arrival <= cycle) {
      const item = inFlight.shift()!;
      port.down.owesAck(cycle);
      port.counters.tlpsUp++;
      port.counters.payloadUp += item.payload;
      // The TLP now sits in the port's receive buffer: its credits come back when it leaves the switch.
      item.heldBy = port;
      item.heldEpoch = port.epoch;
      if (item.payload > port.config.maxPayloadBytes) {
        port.counters.malformed++;
        port.config.reportDeviceError(2);
        this.log(cycle, port.index, "malformed", `${item.tlp.kind} payload ${item.payload} B from port ${port.index} exceeds its Max_Payload_Size ${port.config.maxPayloadBytes} B: dropped`);
        this.leave(item, cycle);
        continue;
      }
      this.routeFromPort(port, item, cycle);
    }
  }

  /** A TLP leaves the switch: the receive-buffer credits it held go back to its downstream link. */
  private leave(item: Queued, cycle: number): void {
    const port = item.heldBy;
    if (port === undefined) return;
    item.heldBy = undefined;
    if (port.linkUp && item.heldEpoch === port.epoch) port.down.returnCredits(cycle, item.fcClass, item.dataCredits);
  }

  private queued(tlp: Tlp, cycle: number, heldBy: DownstreamPort | undefined, from: number): Queued {
    const payload = tlp.data?.length ?? 0;
    return { tlp, ready: cycle, arrival: 0, fcClass: fcClassOf(tlp), dataCredits: dataCreditsFor(payload), payload, wireBytes: encodedSize(tlp), heldBy, heldEpoch: heldBy?.epoch ?? 0, from };
  }

  // ---- routing -----------------------------------------------------------------------------------

  private routeFromRoot(tlp: Tlp, cycle: number): void {
    switch (tlp.kind) {
      case "CfgRd0":
      case "CfgWr0":
        if (cycle < this.crsUntil) return this.retryLater(tlp, cycle);
        if (tlp.kind === "CfgWr0") this.upstreamId = (tlp.bus << 8) | (tlp.device << 3);
        if (tlp.fn !== 0) return this.refuseFromRoot(tlp, cycle, `${tlp.kind} to function ${tlp.fn} of the upstream port: only function 0 exists`);
        return this.toRootQueue(this.configAccess(this.upstream, tlp, this.upstreamId, cycle, -1), cycle);
      case "CfgRd1":
      case "CfgWr1":
        return this.routeConfigFromRoot(tlp, cycle);
      case "MRd":
      case "MWr":
        return this.routeMemoryFromRoot(tlp, cycle);
      case "Cpl":
      case "CplD":
        return this.routeCompletionFromRoot(tlp, cycle);
      case "Msg":
      case "MsgD":
        return this.routeMessageFromRoot(tlp, cycle);
    }
  }

  private routeConfigFromRoot(tlp: ConfigRequest, cycle: number): void {
    const up = this.upstream;
    const bus = tlp.bus;
    if (up.secondaryBus !== 0 && bus === up.secondaryBus) {
      if (cycle < this.crsUntil) return this.retryLater(tlp, cycle);
      // The internal bus: the downstream bridges are its devices 0..N-1, single-function.
      if (tlp.device >= this.ports.length) return this.refuseFromRoot(tlp, cycle, `${tlp.kind} to device ${tlp.device} on the internal bus ${bus}: no such port`);
      if (tlp.fn !== 0) return this.refuseFromRoot(tlp, cycle, `${tlp.kind} to ${bdfText(bus, tlp.device, tlp.fn)}: only function 0 exists`);
      const port = this.ports[tlp.device];
      return this.toRootQueue(this.configAccess(port.config, tlp, this.downstreamId(port.index), cycle, port.index), cycle);
    }
    if (!up.claimsBus(bus)) return this.refuseFromRoot(tlp, cycle, `${tlp.kind} to bus ${bus}: outside the upstream bridge's buses ${up.secondaryBus}..${up.subordinateBus}`);
    const port = this.ports.find((p) => p.config.claimsBus(bus));
    if (port === undefined) return this.refuseFromRoot(tlp, cycle, `${tlp.kind} to bus ${bus}: no downstream bridge claims it`);
    const id = this.downstreamId(port.index);
    if (!port.reachable) return this.refuse(tlp, cycle, port, id, `${tlp.kind} to ${bdfText(bus, tlp.device, tlp.fn)}: port ${port.index}'s link is down`);
    if (bus === port.config.secondaryBus) {
      if (tlp.device !== 0) return this.refuse(tlp, cycle, port, id, `${tlp.kind} to ${bdfText(bus, tlp.device, tlp.fn)}: below a downstream port only device 0 exists (no ARI)`);
      return this.forward({ ...tlp, kind: tlp.kind === "CfgRd1" ? "CfgRd0" : "CfgWr0" }, port, cycle);
    }
    this.forward(tlp, port, cycle);
  }

  private routeMemoryFromRoot(tlp: MemRequest, cycle: number): void {
    const bytes = tlp.lengthDw * 4;
    const where = `${tlp.kind} at 0x${tlp.address.toString(16)}`;
    if (!this.upstream.memorySpaceEnabled) return this.refuseFromRoot(tlp, cycle, `${where}: the upstream bridge's Memory Space Enable is 0`);
    if (!this.upstream.windowClaims(tlp.address, bytes)) return this.refuseFromRoot(tlp, cycle, `${where}: outside the upstream bridge's windows`);
    const port = this.ports.find((p) => p.config.windowClaims(tlp.address, bytes));
    if (port === undefined) return this.refuseFromRoot(tlp, cycle, `${where}: no downstream bridge's window claims it`);
    const id = this.downstreamId(port.index);
    if (!port.config.memorySpaceEnabled) return this.refuse(tlp, cycle, port, id, `${where}: port ${port.index}'s Memory Space Enable is 0`);
    if (!port.reachable) return this.refuse(tlp, cycle, port, id, `${where}: port ${port.index}'s link is down`);
    this.forward(tlp, port, cycle);
  }

  private routeCompletionFromRoot(tlp: Completion, cycle: number): void {
    const bus = tlp.requesterId >> 8;
    const port = this.upstream.claimsBus(bus) ? this.ports.find((p) => p.config.claimsBus(bus)) : undefined;
    if (port === undefined || !port.reachable) {
      this.upstreamCounters.unexpectedCompletions++;
      this.log(cycle, -1, "completion-unroutable", `${tlp.kind} for requester 0x${tlp.requesterId.toString(16)}: no reachable port claims bus ${bus}: dropped`);
      return;
    }
    this.forward(tlp, port, cycle);
  }

  private routeMessageFromRoot(tlp: Message, cycle: number): void {
    if (tlp.routing === ROUTE_BROADCAST) {
      for (const port of this.ports) if (port.reachable) this.forward(tlp, port, cycle);
      return;
    }
    this.upstreamCounters.messagesConsumed++;
    this.log(cycle, -1, "message-consumed", `${tlp.kind} code 0x${tlp.messageCode.toString(16)} routing ${tlp.routing.toString(2)} from the root: terminated at the upstream port`);
  }

  private routeFromPort(port: DownstreamPort, item: Queued, cycle: number): void {
    const tlp = item.tlp;
    const id = this.downstreamId(port.index);
    switch (tlp.kind) {
      case "CfgRd0":
      case "CfgWr0":
      case "CfgRd1":
      case "CfgWr1":
        return this.refuseFromDevice(item, port, cycle, id, `${tlp.kind} from below: a switch does not forward configuration requests upstream`);
      case "MRd":
      case "MWr":
        return this.routeMemoryFromPort(port, item, tlp, cycle, id);
      case "Cpl":
      case "CplD": {
        const bus = tlp.requesterId >> 8;
        if (!this.upstream.claimsBus(bus)) return this.toRootQueue(item, cycle);
        const peer = this.ports.find((p) => p.config.claimsBus(bus));
        if (peer === undefined || !peer.reachable) {
          port.counters.unexpectedCompletions++;
          this.log(cycle, port.index, "completion-unroutable", `${tlp.kind} for requester 0x${tlp.requesterId.toString(16)} from port ${port.index}: no reachable port claims bus ${bus}: dropped`);
          return this.leave(item, cycle);
        }
        return this.forwardItem(item, peer, cycle);
      }
      case "Msg":
      case "MsgD":
        return this.routeMessageFromPort(port, item, tlp, cycle);
    }
  }

  private routeMemoryFromPort(port: DownstreamPort, item: Queued, tlp: MemRequest, cycle: number, id: number): void {
    const bytes = tlp.lengthDw * 4;
    const where = `${tlp.kind} at 0x${tlp.address.toString(16)} from port ${port.index}`;
    if (!port.config.busMasterEnabled) {
      port.counters.busMasterRefused++;
      return this.refuseFromDevice(item, port, cycle, id, `${where}: port ${port.index}'s Bus Master Enable is 0`);
    }
    if (port.config.windowClaims(tlp.address, bytes)) return this.refuseFromDevice(item, port, cycle, id, `${where}: inside the port's own window`);
    const peer = this.ports.find((p) => p !== port && p.config.windowClaims(tlp.address, bytes));
    if (peer !== undefined) {
      if (!peer.config.memorySpaceEnabled || !peer.reachable) return this.refuseFromDevice(item, port, cycle, id, `${where}: peer port ${peer.index} is disabled or down`);
      return this.forwardItem(item, peer, cycle);
    }
    if (this.upstream.windowClaims(tlp.address, bytes)) return this.refuseFromDevice(item, port, cycle, id, `${where}: inside the switch's window but no port claims it`);
    if (!this.upstream.busMasterEnabled) {
      port.counters.busMasterRefused++;
      return this.refuseFromDevice(item, port, cycle, id, `${where}: the upstream bridge's Bus Master Enable is 0`);
    }
    this.toRootQueue(item, cycle);
  }

  private routeMessageFromPort(port: DownstreamPort, item: Queued, tlp: Message, cycle: number): void {
    const code = tlp.messageCode;
    if (code >= MSG_ASSERT_INTA && code <= MSG_DEASSERT_INTD) {
      this.leave(item, cycle);
      // INTx virtual wires: swizzled by the downstream bridge's device number, collapsed per pin upstream.
      const assert = code < MSG_ASSERT_INTA + 4;
      const pin = ((code - MSG_ASSERT_INTA) % 4 + port.index) % 4;
      if (this.intxFrom[port.index][pin] === assert) return;
      this.intxFrom[port.index][pin] = assert;
      const before = this.intxAsserted[pin];
      this.intxAsserted[pin] += assert ? 1 : -1;
      if ((before === 0) === assert) {
        const message: Message = { ...tlp, requesterId: this.upstreamId, messageCode: (assert ? MSG_ASSERT_INTA : MSG_ASSERT_INTA + 4) + pin, routing: ROUTE_LOCAL };
        this.toRootQueue(this.queued(message, cycle, undefined, port.index), cycle);
      }
      return;
    }
    if (tlp.routing === ROUTE_TO_ROOT) return this.toRootQueue(item, cycle);
    this.leave(item, cycle);
    this.upstreamCounters.messagesConsumed++;
    this.log(cycle, port.index, "message-consumed", `${tlp.kind} code 0x${code.toString(16)} routing ${tlp.routing.toString(2)} from port ${port.index}: terminated at the port`);
  }

  // ---- configuration space access ---------------------------------------------------------------

  private configAccess(space: BridgeConfigSpace, tlp: ConfigRequest, completerId: number, cycle: number, port: number): Queued {
    if (tlp.kind === "CfgWr0" || tlp.kind === "CfgWr1") {
      const resetBefore = space.secondaryBusReset;
      space.writeDword(tlp.register, tlp.firstBe, tlp.data!);
      if (space.secondaryBusReset !== resetBefore) this.secondaryBusResetChanged(port, space.secondaryBusReset, cycle);
      if (port >= 0 && space.linkDisabled !== this.ports[port].disabled) this.linkDisableChanged(this.ports[port], cycle);
      return this.queued(completionWithoutData(tlp, completerId, CplStatus.SC), cycle, undefined, port);
    }
    if (port < 0 && this.upstreamLinkState !== undefined) {
      const s = this.upstreamLinkState();
      space.setLinkStatus(s.speed, s.width, false, s.up);
    }
    const value = space.readDword(tlp.register);
    const completion: Completion = {
      kind: "CplD",
      tc: tlp.tc,
      attr: tlp.attr,
      ep: false,
      td: false,
      completerId,
      status: CplStatus.SC,
      bcm: false,
      byteCount: 4,
      requesterId: tlp.requesterId,
      tag: tlp.tag,
      lowerAddress: 0,
      lengthDw: 1,
      data: new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]),
    };
    return this.queued(completion, cycle, undefined, port);
  }

  /** Bridge Control.Secondary Bus Reset: a hot reset of the link(s) below, held while the bit is 1. */
  private secondaryBusResetChanged(port: number, asserted: boolean, cycle: number): void {
    const below = port < 0 ? this.ports : [this.ports[port]];
    for (const p of below) {
      if (port < 0 && asserted) {
        p.config.reset(); // a hot reset of the upstream port resets the bridges below
        p.disabled = false;
      }
      p.inHotReset = asserted;
      this.resetPortLink(p, cycle);
      if (!asserted) p.device?.endpoint.reset?.(cycle);
      this.intxFrom[p.index].fill(false);
    }
    this.log(cycle, port, "secondary-bus-reset", `cycle ${cycle}: Secondary Bus Reset ${asserted ? "set" : "cleared"} on ${port < 0 ? "the upstream bridge" : `port ${port}`}`);
  }

  // ---- queues and refusals -----------------------------------------------------------------------

  private toRootQueue(item: Queued, cycle: number): void {
    item.ready = cycle + this.params.latencyCycles;
    this.toRoot.push(item);
  }

  private forward(tlp: Tlp, port: DownstreamPort, cycle: number): void {
    this.forwardItem(this.queued(tlp, cycle, undefined, -1), port, cycle);
  }

  private forwardItem(item: Queued, port: DownstreamPort, cycle: number): void {
    item.ready = cycle + Math.max(1, this.params.latencyCycles);
    port.egress.push(item);
    if (port.egress.length > port.counters.maxEgressDepth) port.counters.maxEgressDepth = port.egress.length;
  }

  /** Configuration Request Retry Status: the switch is not ready yet; the requester asks again later. */
  private retryLater(tlp: ConfigRequest, cycle: number): void {
    this.log(cycle, -1, "crs", `${tlp.kind} to ${bdfText(tlp.bus, tlp.device, tlp.fn)} at cycle ${cycle}: CRS (switch ready at cycle ${this.crsUntil})`);
    this.toRootQueue(this.queued(completionWithoutData(tlp, this.upstreamId, CplStatus.CRS), cycle, undefined, -1), cycle);
  }

  /** A request from the root that the upstream bridge does not take: UR (non-posted) or drop (posted). */
  private refuseFromRoot(tlp: MemRequest | ConfigRequest, cycle: number, reason: string): void {
    if (!this.countRefusal(tlp, cycle, -1, this.upstreamCounters, this.upstream, reason)) return;
    this.toRootQueue(this.queued(completionWithoutData(tlp, this.upstreamId, CplStatus.UR), cycle, undefined, -1), cycle);
  }

  /** A request from the root refused at downstream port `port`: its completion goes back up. */
  private refuse(tlp: MemRequest | ConfigRequest, cycle: number, port: DownstreamPort, completerId: number, reason: string): void {
    if (!this.countRefusal(tlp, cycle, port.index, port.counters, port.config, reason)) return;
    this.toRootQueue(this.queued(completionWithoutData(tlp, completerId, CplStatus.UR), cycle, undefined, port.index), cycle);
  }

  /** A request from a device refused at its port: UR back down to it, or dropped. */
  private refuseFromDevice(item: Queued, port: DownstreamPort, cycle: number, completerId: number, reason: string): void {
    this.leave(item, cycle);
    const tlp = item.tlp as MemRequest | ConfigRequest;
    if (!this.countRefusal(tlp, cycle, port.index, port.counters, port.config, reason)) return;
    this.forwardItem(this.queued(completionWithoutData(tlp, completerId, CplStatus.UR), cycle, undefined, -1), port, cycle);
  }

  /**
   * Count and log a refused request at port `portIndex` (-1: the upstream port): a posted one is dropped;
   * a non-posted one is an Unsupported Request (Device Status bit 3) and the caller sends the UR
   * completion. True when it is non-posted.
   */
  private countRefusal(tlp: MemRequest | ConfigRequest, cycle: number, portIndex: number, counters: Pick<SwitchPortCounters, "postedDropped" | "unsupportedRequests">, config: BridgeConfigSpace, reason: string): boolean {
    if (tlp.kind === "MWr") {
      counters.postedDropped++;
      this.log(cycle, portIndex, "posted-dropped", `${reason}: dropped`);
      return false;
    }
    counters.unsupportedRequests++;
    config.reportDeviceError(3);
    this.log(cycle, portIndex, "unsupported-request", `${reason}: UR`);
    return true;
  }

  private log(cycle: number, port: number, category: string, reason: string): void {
    const event: SwitchEvent = { cycle, port, category, reason };
    if (this.events.length >= this.params.eventLogLimit) this.events.shift();
    this.events.push(event);
    this.options.onEvent?.(event);
  }
}

function bdfText(bus: number, device: number, fn: number): string {
  return `${bus.toString(16).padStart(2, "0")}:${device.toString(16).padStart(2, "0")}.${fn}`;
}
