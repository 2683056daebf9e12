// The unloaded latency of one NVMe command, as a sum of named stages in cycles, from the link model's
// timing (bytes on the wire, its latency, TLPs whole before they move on, beats taken one per cycle),
// the SSD model's (firmware, media, write cache) and the host's turnaround; and of one user command,
// whose pieces share the wire and which the controller cuts, fills and reads out.
import {
  dataTraffic,
  fetchTraffic,
  prpListEntries,
  SQE_BYTES,
  CQE_BYTES,
  DOORBELL_PAYLOAD_BYTES,
  PRP_ENTRY_SIZE,
  type TrafficParams,
} from "./command-traffic.ts";
import { DLLP_BYTES, tlpBeats, tlpsPerDllp, tlpWireBytes, type WireWait } from "./link-budget.ts";
import {
  CONTROLLER_COMPLETER_CYCLES,
  CONTROLLER_DOORBELL_CYCLES,
  CONTROLLER_FRONT_CYCLES,
  CONTROLLER_RETIRE_CYCLES,
  REFERENCE_TURNAROUND_CYCLES,
  USER_PORT_BYTES_PER_CYCLE,
  mediaLatency,
  type Resolved,
} from "./system-view.ts";
import type { JobSpec } from "../workload/job.ts";

/** Stages of one NVMe command's unloaded latency, in cycles, and the part of it the data spends on the busy wire. */
export interface PieceLatency {
  stages: { name: string; cycles: number }[];
  total: number;
  /** Cycles the command's data occupies its wire (the part of the latency another command cannot overlap in a convoy). */
  transfer: number;
  /**
   * Cycles of a write that pass while the round before it still drains in a convoy: its SQ entry
   * fetch and the SSD's firmware time (measured: the link idles for the rest, from the PRP list fetch
   * on, sim/bench/estimate-vs-model.ts --grid).
   */
  overlapped: number;
}

export function pieceLatency(isRead: boolean, bytes: number, r: Resolved, p: TrafficParams): PieceLatency {
  const L = r.link.latencyCycles;
  const rate = r.wireRate;
  const controller = r.host === "controller";
  const turnaround = controller ? CONTROLLER_COMPLETER_CYCLES : REFERENCE_TURNAROUND_CYCLES;
  // A TLP handed to an idle wire arrives after its bytes and the link's latency; the receiver then takes its beats.
  // Behind a switch a TLP also crosses the switch and the root link, stored whole at each hop.
  const hop = r.hopCycles;
  const oneWay = (wireBytes: number) => wireBytes / rate + L + hop(wireBytes);
  const stages: { name: string; cycles: number }[] = [];
  const stage = (name: string, cycles: number) => stages.push({ name, cycles });
  const doorbellBeats = tlpBeats(DOORBELL_PAYLOAD_BYTES);
  stage("SQ doorbell", (controller ? CONTROLLER_DOORBELL_CYCLES : 1) + doorbellBeats + oneWay(tlpWireBytes(DOORBELL_PAYLOAD_BYTES)));
  const fetch = (bytesRead: number) => {
    const t = fetchTraffic(bytesRead, p);
    return oneWay(t.up.wireBytes) + t.up.beats + turnaround + t.down.beats + t.down.wireBytes / rate + L + hop(t.down.wireBytes / Math.max(1, t.down.tlps));
  };
  stage("SQ entry fetch", fetch(SQE_BYTES));
  stage("SSD firmware", r.timing.commandOverheadCycles);
  const entries = prpListEntries(bytes);
  if (entries > 0) stage("PRP list fetch", fetch(entries * PRP_ENTRY_SIZE));
  const data = dataTraffic(isRead, bytes, p);
  const cqe = tlpWireBytes(CQE_BYTES);
  let transfer: number;
  if (isRead) {
    stage("media read", mediaLatency(bytes, r.timing.readLatencyCycles, r.timing));
    // TLPs reach m_axis_rx whole: the CQ entry waits for the last data TLP's beats to be taken.
    transfer = (data.up.wireBytes + cqe) / rate;
    const lastBeats = tlpBeats(Math.min(r.mps, bytes));
    // The receive interface takes a beat per cycle: TLPs of few beats per byte of wire fall behind.
    const rxLag = Math.max(0, data.up.beats - data.up.wireBytes / rate);
    stage("data + CQ entry up", data.up.wireBytes / rate + L + hop(tlpWireBytes(Math.min(r.mps, bytes))) + Math.max(cqe / rate, lastBeats) + rxLag + tlpBeats(CQE_BYTES));
  } else {
    // The MRds go up together; CplDs stream back at the slower of wire and AXI, the first one only
    // once all its beats are in (the link model deframes before it transmits), interleaved with the
    // Acks and UpdateFCs the MRds make the root port send.
    const requests = data.up.nonPosted;
    const cplCycles = data.down.wireBytes / data.down.tlps / rate;
    const period = (data.down.wireBytes / rate) / requests;
    const wait: WireWait = { busy: 1, tlpCycles: cplCycles };
    const dllps =
      requests / tlpsPerDllp(period, r.link.ackEveryTlps, r.link.ackMaxDelayCycles, wait) +
      requests / tlpsPerDllp(period, r.link.updateFcEveryTlps, r.link.updateFcMaxDelayCycles, wait);
    transfer = Math.max((data.down.wireBytes + dllps * DLLP_BYTES) / rate, data.down.beats);
    const firstRequest = oneWay(tlpWireBytes(0)) + tlpBeats(0) + turnaround;
    stage("data down", firstRequest + tlpBeats(data.down.payloadBytes / data.down.tlps) + transfer + L + hop(data.down.wireBytes / data.down.tlps));
    const cached = r.timing.writeCacheBytes > 0;
    stage(cached ? "write cache insert" : "media program", cached ? r.timing.cacheInsertCycles : mediaLatency(bytes, r.timing.programLatencyCycles, r.timing));
    stage("CQ entry up", oneWay(cqe) + tlpBeats(CQE_BYTES));
  }
  if (controller) stage("completion parse and retire", CONTROLLER_RETIRE_CYCLES);
  const overlapped = isRead ? 0 : stages.filter((s) => s.name === "SQ entry fetch" || s.name === "SSD firmware").reduce((sum, s) => sum + s.cycles, 0);
  return { stages, total: stages.reduce((sum, s) => sum + s.cycles, 0), transfer, overlapped };
}

/** A user command's latency from acceptance to completion: its pieces in parallel (sharing the wire), plus the controller's stages. */
export function userCommandLatency(isRead: boolean, job: JobSpec, r: Resolved, list: PieceLatency[]): { cycles: number; stages: { name: string; cycles: number }[] } {
  const first = list[0];
  const stages = first.stages.map((s) => ({ ...s }));
  // Later pieces follow the first on the wire.
  const moreTransfer = list.slice(1).reduce((sum, l) => sum + l.transfer, 0);
  if (moreTransfer > 0) stages.push({ name: `${list.length - 1} more pieces on the wire`, cycles: moreTransfer });
  if (r.host === "controller") {
    const pieceBytes = Math.min(job.bs, r.pieceBytes);
    stages.unshift({ name: "check and cut", cycles: CONTROLLER_FRONT_CYCLES });
    if (isRead) stages.push({ name: "read-out to the user port", cycles: pieceBytes / USER_PORT_BYTES_PER_CYCLE });
    else stages.unshift({ name: "write data into the buffer", cycles: pieceBytes / USER_PORT_BYTES_PER_CYCLE });
  }
  return { cycles: stages.reduce((sum, s) => sum + s.cycles, 0), stages };
}
