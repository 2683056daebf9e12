// The limits of the resources one user command uses: the link's wires (framing, DLLPs and SKP
// included), the AXI side, flow-control credits over their return loop, the SSD's firmware and media,
// and the controller's user ports and engine. Each is a number of user commands per cycle.
import type { CreditLimits } from "../pcie/link-params.ts";
import type { JobSpec } from "../workload/job.ts";
import { addTallies, commandTraffic, emptyTally, HOST_PAGE_BYTES, CQE_BYTES, DOORBELL_PAYLOAD_BYTES, type CommandTraffic, type TlpTally, type TrafficParams } from "./command-traffic.ts";
import { AXI_BEAT_BYTES, DLLP_BYTES, FC_DATA_CREDIT_BYTES, tlpBeats, tlpsPerDllp, tlpWireBytes, USER_CLOCK_HZ, type LinkBudgetParams, type WireWait } from "./link-budget.ts";
import { CONTROLLER_ENGINE_CYCLES_PER_PIECE, USER_PORT_BYTES_PER_CYCLE, busCycles, mediaOps, piecesOf, type Resolved } from "./system-view.ts";

export interface Limit {
  name: string;
  key: string;
  /** User commands per cycle. */
  x: number;
  detail: string;
  /** A closed loop (its limit depends on queueing, not on a resource's capacity). */
  loop?: boolean;
}

/** Per user command, averaged over the read/write mix. */
export interface CommandLoad {
  traffic: CommandTraffic;
  pieces: number;
  /** Media unit-cycles and bus cycles (reads; writes' programs separately: a write cache defers them). */
  readUnitCycles: number;
  readBusCycles: number;
  programUnitCycles: number;
  programBusCycles: number;
}

export function commandLoad(job: JobSpec, r: Resolved, p: TrafficParams, readShare: number): CommandLoad {
  const pieces = piecesOf(job.bs, r.pieceBytes);
  let traffic: CommandTraffic = { down: emptyTally(), up: emptyTally() };
  const load = { readUnitCycles: 0, readBusCycles: 0, programUnitCycles: 0, programBusCycles: 0 };
  for (const bytes of pieces) {
    const ops = mediaOps(bytes, r.timing.mediaPageBytes);
    const bus = ops.reduce((sum, op) => sum + busCycles(op, r.timing), 0);
    if (readShare > 0) {
      const t = commandTraffic(true, bytes, p);
      traffic = { down: addTallies(traffic.down, t.down, readShare), up: addTallies(traffic.up, t.up, readShare) };
      load.readUnitCycles += readShare * ops.length * r.timing.readLatencyCycles;
      load.readBusCycles += readShare * bus;
    }
    if (readShare < 1) {
      const t = commandTraffic(false, bytes, p);
      traffic = { down: addTallies(traffic.down, t.down, 1 - readShare), up: addTallies(traffic.up, t.up, 1 - readShare) };
      load.programUnitCycles += (1 - readShare) * ops.length * r.timing.programLatencyCycles;
      load.programBusCycles += (1 - readShare) * bus;
    }
  }
  return { traffic, pieces: pieces.length, ...load };
}

/** DLLPs one user command makes the far receivers send on a wire, given the TLP rates (commands per cycle X). */
function dllpBytes(
  received: TlpTally,
  credits: CreditLimits,
  x: number,
  wait: WireWait,
  link: LinkBudgetParams,
): number {
  if (x <= 0 || received.tlps === 0) return 0;
  const cyclesPerCommand = 1 / x;
  const per = (count: number, every: number, delay: number) => (count > 0 ? count / tlpsPerDllp(cyclesPerCommand / count, every, delay, wait) : 0);
  let dllps = per(received.tlps, link.ackEveryTlps, link.ackMaxDelayCycles);
  // Receivers with infinite credits of a class never send its UpdateFC (LinkDirection.returnCredits).
  const finite = (h: number, d: number) => Number.isFinite(h) || Number.isFinite(d);
  if (finite(credits.postedHeader, credits.postedData)) dllps += per(received.posted, link.updateFcEveryTlps, link.updateFcMaxDelayCycles);
  if (finite(credits.nonPostedHeader, credits.nonPostedData)) dllps += per(received.nonPosted, link.updateFcEveryTlps, link.updateFcMaxDelayCycles);
  if (finite(credits.completionHeader, credits.completionData)) dllps += per(received.completions, link.updateFcEveryTlps, link.updateFcMaxDelayCycles);
  return dllps * DLLP_BYTES;
}

/** Posted and non-posted TLPs of a direction and their data credits (completions: the only infinite class here). */
function creditLimit(label: string, key: string, sent: TlpTally, postedDataCredits: number, credits: CreditLimits, r: Resolved, reverseWait: WireWait): Limit[] {
  const out: Limit[] = [];
  // During I/O every non-posted TLP is a data-less MRd; the posted ones are the rest but completions.
  const requests = sent.nonPosted;
  const postedWire = sent.wireBytes - requests * tlpWireBytes(0);
  const postedBeats = sent.beats - requests * tlpBeats(0);
  if (sent.posted > 0 && Number.isFinite(credits.postedHeader) && sent.completions === 0) {
    const loop = creditLoopCycles(postedWire / sent.posted, postedBeats / sent.posted, r, reverseWait);
    const byHeader = credits.postedHeader / sent.posted;
    const byData = Number.isFinite(credits.postedData) && postedDataCredits > 0 ? credits.postedData / postedDataCredits : Infinity;
    out.push({
      name: `flow control ${label} posted`,
      key: `flow_control_${key}_posted`,
      x: Math.min(byHeader, byData) / loop,
      detail: `${credits.postedHeader} header / ${credits.postedData} data credits, back every ${loop.toFixed(0)} cycles`,
    });
  }
  if (requests > 0 && Number.isFinite(credits.nonPostedHeader)) {
    const loop = creditLoopCycles(tlpWireBytes(0), tlpBeats(0), r, reverseWait);
    out.push({
      name: `flow control ${label} non-posted`,
      key: `flow_control_${key}_non_posted`,
      x: credits.nonPostedHeader / requests / loop,
      detail: `${credits.nonPostedHeader} header credits, back every ${loop.toFixed(0)} cycles`,
    });
  }
  return out;
}

function postedDataCredits(job: JobSpec, r: Resolved, readShare: number): number {
  // Only the upstream posted TLPs (read data MWrs, CQ entries) carry data the root port's credits count.
  let credits = 0;
  for (const bytes of piecesOf(job.bs, r.pieceBytes)) {
    if (readShare > 0) {
      for (let page = 0; page * HOST_PAGE_BYTES < bytes; page++) {
        const length = Math.min(HOST_PAGE_BYTES, bytes - page * HOST_PAGE_BYTES);
        const full = Math.floor(length / r.mps);
        const rest = length - full * r.mps;
        credits += readShare * (full * Math.ceil(r.mps / FC_DATA_CREDIT_BYTES) + (rest > 0 ? Math.ceil(rest / FC_DATA_CREDIT_BYTES) : 0));
      }
    }
    credits += Math.ceil(CQE_BYTES / FC_DATA_CREDIT_BYTES);
  }
  return credits;
}

/**
 * Cycles a credit takes to come back while the credits are what holds the sender back: the sender
 * then sends a returned batch back to back, so the receiver's UpdateFC falls due after `every` TLPs
 * a TLP's length apart (or its delay), waits for the busy reverse wire, and crosses the link.
 */
function creditLoopCycles(tlpWire: number, tlpBeatCount: number, r: Resolved, reverseWait: WireWait): number {
  const L = r.link.latencyCycles;
  const tlpCycles = tlpWire / r.wireRate;
  const due = Math.min(r.link.updateFcMaxDelayCycles, (r.link.updateFcEveryTlps - 1) * Math.max(tlpCycles, tlpBeatCount));
  return tlpCycles + L + tlpBeatCount + due + (reverseWait.busy * reverseWait.tlpCycles) / 2 + DLLP_BYTES / r.wireRate + L;
}

/** Limits of the resources one user command uses: wires, AXI, flow control, SSD firmware and media reads, controller ports and engine. */
export function resourceLimits(job: JobSpec, r: Resolved, load: CommandLoad, readShare: number, x: number): Limit[] {
  const { down, up } = load.traffic;
  const limits: Limit[] = [];
  const waitOf = (t: TlpTally): WireWait => ({
    busy: x > 0 ? Math.min(1, (x * t.wireBytes) / r.wireRate) : 0,
    tlpCycles: t.tlps > 0 ? t.wireBytes / t.tlps / r.wireRate : 0,
  });
  const downWait = waitOf(down);
  const upWait = waitOf(up);
  // The root port's receiver answers upstream TLPs on the down wire, the SSD's answers downstream ones on the up wire.
  const dllpDown = dllpBytes(up, r.link.rootPortRxCredits, x, downWait, r.link);
  const dllpUp = dllpBytes(down, r.link.endpointRxCredits, x, upWait, r.link);
  const gbps = (bytesPerCycle: number) => ((bytesPerCycle * USER_CLOCK_HZ) / 1e9).toFixed(3);
  const wire = (dir: string, key: string, t: TlpTally, dllp: number) =>
    limits.push({
      name: `link ${dir}`,
      key: `link_${key}`,
      x: r.wireRate / (t.wireBytes + dllp),
      detail: `${gbps(r.wireRate)} GB/s of wire after SKP (Gen${r.link.generation} x${r.link.lanes}); per command ${t.tlps.toFixed(1)} TLPs, ${t.wireBytes.toFixed(0)} B with framing + ${dllp.toFixed(0)} B of DLLPs for ${t.payloadBytes.toFixed(0)} B of payload`,
    });
  wire("down", "down", down, dllpDown);
  wire("up", "up", up, dllpUp);
  limits.push({
    name: "AXI tx",
    key: "axi_tx",
    x: 1 / down.beats,
    detail: `64 bits x 250 MHz (${gbps(AXI_BEAT_BYTES)} GB/s); ${down.beats.toFixed(1)} beats per command, each TLP from a fresh beat`,
  });
  limits.push({
    name: "AXI rx",
    key: "axi_rx",
    // The controller takes a beat every cycle (tlp_rx's payload queue covers its consumers' header-to-payload latency).
    x: 1 / up.beats,
    detail: `64 bits x 250 MHz (${gbps(AXI_BEAT_BYTES)} GB/s); ${up.beats.toFixed(1)} beats per command, each TLP from a fresh beat`,
  });
  // Flow control: the root port's receive credits bound what the SSD sends up; the SSD's bound the down side.
  const upCredits = postedDataCredits(job, r, readShare);
  limits.push(...creditLimit("up", "up", up, upCredits, r.link.rootPortRxCredits, r, downWait));
  // Down, the posted TLPs are doorbells; the completions (the SSD's credits for them are infinite) are left out.
  const doorbellsOnly: TlpTally = { ...emptyTally(), tlps: down.posted, posted: down.posted, wireBytes: down.posted * tlpWireBytes(DOORBELL_PAYLOAD_BYTES), beats: down.posted * tlpBeats(DOORBELL_PAYLOAD_BYTES) };
  const downDataCredits = down.posted * Math.ceil(DOORBELL_PAYLOAD_BYTES / FC_DATA_CREDIT_BYTES);
  limits.push(...creditLimit("down", "down", doorbellsOnly, downDataCredits, r.link.endpointRxCredits, r, upWait));
  const t = r.timing;
  limits.push({
    name: "SSD firmware",
    key: "ssd_firmware",
    x: t.controllerCores / (t.commandOverheadCycles * load.pieces),
    detail: `${t.controllerCores} cores x ${(t.commandOverheadCycles / 250).toFixed(2)} µs per NVMe command, ${load.pieces} per user command`,
  });
  if (load.readUnitCycles > 0) {
    limits.push({
      name: "SSD media read units",
      key: "ssd_media_read_units",
      x: t.parallelUnits / load.readUnitCycles,
      detail: `${t.parallelUnits} units, tR ${(t.readLatencyCycles / 250).toFixed(1)} µs per media operation of up to ${t.mediaPageBytes} B`,
    });
  }
  if (load.readBusCycles > 0) {
    limits.push({
      name: "SSD media bus (reads)",
      key: "ssd_media_bus_read",
      x: 1 / load.readBusCycles,
      detail: `${t.mediaBytesPerCycle} B per cycle between media and controller`,
    });
  }
  if (r.host === "controller") {
    const portReads = readShare * job.bs;
    const portWrites = (1 - readShare) * job.bs;
    if (portReads > 0) {
      limits.push({ name: "user read port", key: "user_read_port", x: USER_PORT_BYTES_PER_CYCLE / portReads, detail: "64-bit AXI4-Stream at 250 MHz" });
    }
    if (portWrites > 0) {
      limits.push({ name: "user write port", key: "user_write_port", x: USER_PORT_BYTES_PER_CYCLE / portWrites, detail: "64-bit AXI4-Stream at 250 MHz" });
    }
    limits.push({
      name: "controller command engine",
      key: "controller_engine",
      x: 1 / (CONTROLLER_ENGINE_CYCLES_PER_PIECE * load.pieces),
      detail: `about ${CONTROLLER_ENGINE_CYCLES_PER_PIECE} cycles per piece (io_engine)`,
    });
  }
  return limits;
}

/** The media's program work (writes), which a write cache defers while it has room. */
export function mediaProgramLimits(load: CommandLoad, r: Resolved): Limit[] {
  const t = r.timing;
  const limits: Limit[] = [];
  const units = load.programUnitCycles + load.readUnitCycles;
  if (load.programUnitCycles > 0) {
    limits.push({
      name: "SSD media program units",
      key: "ssd_media_program_units",
      x: t.parallelUnits / units,
      detail: `${t.parallelUnits} units, tPROG ${(t.programLatencyCycles / 250).toFixed(0)} µs per media operation of up to ${t.mediaPageBytes} B (reads share them)`,
    });
  }
  if (load.programBusCycles > 0) {
    limits.push({
      name: "SSD media bus (programs)",
      key: "ssd_media_bus_program",
      x: 1 / (load.programBusCycles + load.readBusCycles),
      detail: `${t.mediaBytesPerCycle} B per cycle between media and controller (reads share it)`,
    });
  }
  return limits;
}

