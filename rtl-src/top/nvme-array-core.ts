// The controller's core for several SSDs behind a PCIe switch (issue 14, "each drive on its own"):
// the PCIe front of nvme_host_core (TLP layer, requester, link training, root port, bring-up
// sequencer) with the topology enumerator (rtl-src/pcie/pcie-topology-enumerator.ts), and one
// nvme_lane (rtl-src/nvme/nvme-lane.ts) per SSD slot of the enumerator. Its pcie_7x-side ports are
// nvme_host_core's; the user ports, the status and the page port are per SSD.
//
// Bring-up. The sequencer runs link, root port, enumeration (every SSD behind the switch gets its
// bus, BAR0 and Command) and the root port's MPS as for one SSD. Its NVMe-enable phase starts every
// lane whose SSD was enumerated without error, all at once (they share the access port: each lane's
// four clients meet in a small arbiter of their own, whose request reaches the top one, beside the
// enumerator, through a register); the phase ends when every started lane is done or failed, and
// fails only when all failed. The admin phase likewise for the lanes enabled. READY when at least one lane is; a lane
// whose SSD failed enumeration or bring-up is FAILED with its own error (state, step, code, detail,
// as the one-SSD core reports them) and the others go on. Per lane, `status_ssd<i>_state` is
// LANE_STATES.
//
// Host memory. Every lane has the whole virtual host-memory map (rtl-src/hostmem/host-memory-map.ts)
// of its own: the SSD's reads and writes go to the lane whose SSD's BDF (assigned by the enumerator)
// is the TLP's Requester ID. The choice is registered with the request or write header (a one-entry
// stage, so the compare is not in series with a lane's queues); a write's payload beats follow the
// lane chosen for its header through a small route queue, and read answers come back from the lanes
// in request order through another, into the layer's one completer. A Requester ID no lane has is an
// unmapped access: counted (status_unknown_requester_reads/_writes); its write is dropped, its read
// answered with zeros (lane 0's router answers it as an unmapped address).
//
// Status. The front's fields keep nvme_host_core's names (status_state, status_error_*, link, MPS,
// ...); per SSD slot i: status_ssd<i>_bdf, _port (the switch's downstream port device), _bar0,
// _state, _error_state/_step/_code/_detail, and every field of the lane's status (capacity, LBA
// size, MDTS, I/O counters, shutdown, logs, erase) as status_ssd<i>_<field>. Decoded in TypeScript by
// sim/system/array-status.ts. The Identify and log pages of lane `page_lane` are read through
// page_address / page_data (hold page_lane with page_address).
import { C, Module, type Signal, type Value, bitsFor, cat, mux } from "../../hdl/index.ts";
import { barWindowFor } from "../hostmem/host-memory-map.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { nvmeLane } from "../nvme/nvme-lane.ts";
import { PAGE_ADDRESS_BITS } from "../nvme/page-field-capture.ts";
import { pcieAccessArbiter } from "../pcie/pcie-access-arbiter.ts";
import { type PcieTopologyEnumeratorParams, pcieTopologyEnumerator } from "../pcie/pcie-topology-enumerator.ts";
import { BRINGUP_STATES, ERROR_CODE_BITS, ERROR_DETAIL_BITS, ERROR_STEP_BITS, STATE_BITS } from "./bringup-sequencer.ts";
import { type NvmeHostCoreParams, hardwareCoreParams, simulationCoreParams } from "./nvme-host-core.ts";
import { SECONDARY_BUS, connectPhase, frontEnumeratorParams, pcieFront, pcieFrontParameters } from "./pcie-front.ts";

export interface NvmeArrayCoreParams extends NvmeHostCoreParams {
  /** The switch walk: SSD slots (= lanes, 1..4), downstream ports remembered, the downstream links' waits. */
  array: Pick<PcieTopologyEnumeratorParams, "maxSsds" | "maxDownstreamPorts" | "linkTimeoutCycles" | "linkPollCycles">;
}

/** A lane's state (`status_ssd<i>_state`), in code order. */
export const LANE_STATES = ["IDLE", "ABSENT", "ENABLING", "ENABLED", "ADMIN", "READY", "FAILED"] as const;
export type LaneState = (typeof LANE_STATES)[number];
const LANE_STATE_BITS = 3;
const laneStateCode = (state: LaneState) => LANE_STATES.indexOf(state);

/** The switch walk with the hardware's waits: four SSDs and ports, a downstream link within 100 ms, polled every 1 ms. */
export const hardwareArrayParams: NvmeArrayCoreParams["array"] = {
  maxSsds: 4,
  maxDownstreamPorts: 4,
  linkTimeoutCycles: 100 * 250_000,
  linkPollCycles: 250_000,
};
/** The same for simulation: the switch model's links train in about 2000 cycles. */
export const simulationArrayParams: NvmeArrayCoreParams["array"] = {
  ...hardwareArrayParams,
  linkTimeoutCycles: 20_000,
  linkPollCycles: 500,
};

/** Buffers per lane: 64 KiB each way, so four lanes fit a Kintex-7 325T's block RAM with room. */
const LANE_BUFFER_BYTES = 64 * 1024;

/** Four lanes with the hardware's waits. */
export const hardwareArrayCoreParams: NvmeArrayCoreParams = {
  ...hardwareCoreParams,
  io: { ...hardwareCoreParams.io, writeBufferBytes: LANE_BUFFER_BYTES, readBufferBytes: LANE_BUFFER_BYTES },
  array: hardwareArrayParams,
};
/** The same with the simulation timings (nvme-host-core.ts's simulationCoreParams). */
export const simulationArrayCoreParams: NvmeArrayCoreParams = {
  ...simulationCoreParams,
  io: { ...simulationCoreParams.io, writeBufferBytes: LANE_BUFFER_BYTES, readBufferBytes: LANE_BUFFER_BYTES },
  array: simulationArrayParams,
};

const COUNTER_BITS = 32;
const ACCESS_REQUEST_FIELDS = ["kind", "address", "data", "byte_en"] as const;
/** Route queue entries (write payloads and read answers owed): the layer holds two write headers, the stage one. */
const ROUTE_QUEUE_DEPTH = 4;
/** A collapsed host address with bit 32 set lies at or above 4 GiB: no region, so a router answers zeros. */
const UNMAPPED_ADDRESS = 2n ** 32n;

function arrayName(p: NvmeArrayCoreParams): string {
  const kib = (bytes: number) => bytes / 1024;
  const io = `s${p.io.slots}_w${kib(p.io.writeBufferBytes)}k_r${kib(p.io.readBufferBytes)}k_p${kib(p.io.maxPieceBytes)}k`;
  return `nvme_array_core_n${p.array.maxSsds}p${p.array.maxDownstreamPorts}_mps${p.tlp.maxPayloadBytes}_q${p.ioQueueEntries}_${io}_perst${p.link.perstCycles}_to${p.tlp.completionTimeoutCycles}`;
}

/**
 * The NVMe host controller's core for up to `array.maxSsds` SSDs behind a PCIe switch: one PCIe
 * front, a lane per SSD, each SSD brought up and used on its own.
 */
export function nvmeArrayCore(p: NvmeArrayCoreParams = hardwareArrayCoreParams) {
  const N = p.array.maxSsds;
  if (!Number.isInteger(N) || N < 1 || N > 4) throw new RangeError(`nvme_array_core: array.maxSsds ${N} must be an integer in 1..4`);
  const m = new Module(arrayName(p));
  m.parameters({
    maxSsds: N,
    maxDownstreamPorts: p.array.maxDownstreamPorts,
    linkTimeoutCycles: p.array.linkTimeoutCycles,
    linkPollCycles: p.array.linkPollCycles,
    ...pcieFrontParameters(p),
    cfgMgmtTimeoutCycles: p.cfgMgmtTimeoutCycles,
    writeBufferBytesPerLane: p.io.writeBufferBytes,
    readBufferBytesPerLane: p.io.readBufferBytes,
  });

  // ---- the PCIe front ----
  // Below the root port: the switch's upstream bus, its internal bus, a bus per downstream port.
  const barWindow = barWindowFor(N);
  const enumeratorModule = pcieTopologyEnumerator({ ...frontEnumeratorParams(p, barWindow), ...p.array });
  const front = pcieFront(m, p, {
    subordinateBus: SECONDARY_BUS + 1 + p.array.maxDownstreamPorts,
    barWindow,
    enumerator: enumeratorModule,
    laneClients: N,
    memWriteRequesterId: true,
  });
  const laneModule = nvmeLane(p);
  const lanes = Array.from({ length: N }, (_, i) => m.instance(laneModule, { name: `lane${i}` }));
  const laneArbiterModule = pcieAccessArbiter({ clients: laneModule.exposed.access.length });
  const laneArbiters = lanes.map((_, i) => m.instance(laneArbiterModule, { name: `lane${i}_arbiter` }));

  // ---- the pcie_7x user-side ports and the controls ----
  const { ports: pcie, laneClients } = front.promotePorts();
  const l = front.layer.ports;

  // ---- the access port: a lane arbiter per lane on the top arbiter, beside the enumerator ----
  const e = front.enumerator.ports;
  lanes.forEach((lane, i) => {
    const a = laneArbiters[i].ports;
    lane.ports.access.forEach((client, k) => {
      m.connect(client.request, a.clients[k].request);
      m.connect(a.clients[k].response, client.response);
    });
    // A one-entry register between the lane's arbiter and the top one: the top arbiter's choice
    // starts from registers, not from the lane arbiter's multiplexer (two arbiters in series were 8
    // logic levels). One cycle more per access; the answer goes straight back.
    const from = a.access_request.signals;
    const to = laneClients[i].request.signals;
    const held = m.signal(1, { name: `lane${i}_request_held` });
    for (const f of ACCESS_REQUEST_FIELDS) {
      const reg = m.signal(from[f].width, { name: `lane${i}_request_${f}`, resetless: true });
      m.If(from.valid.and(held.not()), () => m.sync(reg, from[f]));
      m.comb(to[f], reg);
    }
    m.If(held.not(), () => m.sync(held, from.valid)).Elif(to.ready, () => m.sync(held, 0));
    m.comb(from.ready, held.not());
    m.comb(to.valid, held);
    m.connect(laneClients[i].response, a.access_response);
  });

  // ---- what the enumerator found, per slot ----
  const slotBdf = (i: number) => e.ssd_bdf.bits(16 * i + 15, 16 * i);
  const slotPort = (i: number) => e.ssd_port.bits(5 * i + 4, 5 * i);
  const slotBar0 = (i: number) => e.ssd_bar0.bits(32 * i + 31, 32 * i);
  const slotStatus = (i: number) => e.ssd_status.bits(4 * i + 3, 4 * i);
  const slotFound = (i: number) => e.ssd_count.gt(i);
  const slotHealthy = (i: number) => slotFound(i).and(slotStatus(i).eq(0));

  // ---- the sequence: the front's phases, then every lane at once ----
  const { linkPhase, enablePhase, adminPhase } = front.sequencePhases();

  // Each lane's state (LANE_STATES), a register: its phases start with the sequencer's and end on
  // the lane's own done/error (looked at from the cycle after the start, as the sequencer does).
  const laneState = lanes.map((_, i) => m.signal(LANE_STATE_BITS, { name: `lane${i}_state`, reset: laneStateCode("IDLE") }));
  const is = (i: number, state: LaneState) => laneState[i].eq(laneStateCode(state));
  lanes.forEach((lane, i) => {
    const ln = lane.ports;
    const st = laneState[i];
    m.If(linkPhase.start, () => m.sync(st, laneStateCode("IDLE")))
      .Elif(enablePhase.start, () => m.sync(st, mux(slotHealthy(i), C(laneStateCode("ENABLING"), LANE_STATE_BITS), mux(slotFound(i), C(laneStateCode("FAILED"), LANE_STATE_BITS), C(laneStateCode("ABSENT"), LANE_STATE_BITS)))))
      .Elif(adminPhase.start.and(is(i, "ENABLED")), () => m.sync(st, laneStateCode("ADMIN")))
      .Elif(is(i, "ENABLING").and(ln.enable.error), () => m.sync(st, laneStateCode("FAILED")))
      .Elif(is(i, "ENABLING").and(ln.enable.done), () => m.sync(st, laneStateCode("ENABLED")))
      .Elif(is(i, "ADMIN").and(ln.admin.error), () => m.sync(st, laneStateCode("FAILED")))
      .Elif(is(i, "ADMIN").and(ln.admin.done), () => m.sync(st, laneStateCode("READY")));
    m.comb(ln.bar0_address, slotBar0(i));
    m.comb(ln.enable_start, enablePhase.start.and(slotHealthy(i)));
    m.comb(ln.admin_start, adminPhase.start.and(is(i, "ENABLED")));
  });
  // Which phase each lane failed in: its error comes from there (or from its enumeration).
  const failedIn = lanes.map((_, i) => m.signal(2, { name: `lane${i}_failed_in` }));
  const FAILED_IN_ENUMERATION = 1;
  const FAILED_IN_ENABLE = 2;
  const FAILED_IN_ADMIN = 3;
  lanes.forEach((lane, i) => {
    const ln = lane.ports;
    m.If(linkPhase.start, () => m.sync(failedIn[i], 0))
      .Elif(enablePhase.start.and(slotFound(i)).and(slotHealthy(i).not()), () => m.sync(failedIn[i], FAILED_IN_ENUMERATION))
      .Elif(is(i, "ENABLING").and(ln.enable.error), () => m.sync(failedIn[i], FAILED_IN_ENABLE))
      .Elif(is(i, "ADMIN").and(ln.admin.error), () => m.sync(failedIn[i], FAILED_IN_ADMIN));
  });
  const laneError = lanes.map((lane, i) => {
    const ln = lane.ports;
    const inAdmin = failedIn[i].eq(FAILED_IN_ADMIN);
    const inEnable = failedIn[i].eq(FAILED_IN_ENABLE);
    const stateOf = (name: (typeof BRINGUP_STATES)[number]) => C(BRINGUP_STATES.indexOf(name), STATE_BITS);
    return {
      state: mux(inAdmin, stateOf("ADMIN"), mux(inEnable, stateOf("NVME_ENABLE"), mux(failedIn[i].eq(FAILED_IN_ENUMERATION), stateOf("ENUMERATE"), C(0, STATE_BITS)))),
      step: mux(inAdmin, ln.admin.step.zext(ERROR_STEP_BITS), mux(inEnable, ln.enable.step.zext(ERROR_STEP_BITS), C(0, ERROR_STEP_BITS))),
      code: mux(inAdmin, ln.admin.code.zext(ERROR_CODE_BITS), mux(inEnable, ln.enable.code.zext(ERROR_CODE_BITS), mux(failedIn[i].eq(FAILED_IN_ENUMERATION), slotStatus(i).zext(ERROR_CODE_BITS), C(0, ERROR_CODE_BITS)))),
      detail: mux(inAdmin, ln.admin.detail.zext(ERROR_DETAIL_BITS), mux(inEnable, ln.enable.detail.zext(ERROR_DETAIL_BITS), C(0, ERROR_DETAIL_BITS))),
    };
  });
  // A phase ends when no lane is still in it; it fails only when no lane came through it. Its error
  // is then the first lane's that failed in it.
  const none = (pred: (i: number) => Value): Value => lanes.map((_, i) => pred(i).not()).reduce((a, b) => a.and(b));
  const some = (pred: (i: number) => Value): Value => lanes.map((_, i) => pred(i)).reduce((a, b) => a.or(b));
  const enableOver = none((i) => is(i, "ENABLING"));
  const anyEnabled = some((i) => is(i, "ENABLED"));
  const adminOver = none((i) => is(i, "ADMIN"));
  const anyReady = some((i) => is(i, "READY"));
  const firstFailed = (phase: number) => {
    let pick = { step: C(0, ERROR_STEP_BITS), code: C(0, ERROR_CODE_BITS), detail: C(0, ERROR_DETAIL_BITS) } as { step: Value; code: Value; detail: Value };
    for (let i = N - 1; i >= 0; i--) {
      const mine = failedIn[i].eq(phase);
      pick = { step: mux(mine, laneError[i].step, pick.step), code: mux(mine, laneError[i].code, pick.code), detail: mux(mine, laneError[i].detail, pick.detail) };
    }
    return pick;
  };
  const enableError = firstFailed(FAILED_IN_ENABLE);
  connectPhase(m, enablePhase, enableOver.and(anyEnabled), enableOver.and(anyEnabled.not()), enableError.step, enableError.code, enableError.detail);
  const adminError = firstFailed(FAILED_IN_ADMIN);
  connectPhase(m, adminPhase, adminOver.and(anyReady), adminOver.and(anyReady.not()), adminError.step, adminError.code, adminError.detail);

  // ---- each lane's working life, after READY ----
  lanes.forEach((lane, i) => {
    const ln = lane.ports;
    m.comb(ln.ready, front.sequencer.ports.ready.and(is(i, "READY")));
    m.comb(ln.shutdown, pcie.shutdown);
    m.comb(ln.smart_refresh, pcie.smart_refresh);
    m.comb(ln.error_log_refresh, pcie.error_log_refresh);
  });
  front.restartAfterShutdown(pcie.restart, some((i) => lanes[i].ports.status.status_shutdown_busy));

  // ---- host memory: the SSD's reads and writes to its lane, by Requester ID ----
  const laneBits = bitsFor(Math.max(1, N - 1));
  const laneOf = (rid: Value) => lanes.map((_, i) => rid.eq(slotBdf(i)).and(slotFound(i)));
  // Reads: a one-entry stage holds the data request and its lane (one-hot; none: lane 0, unmapped).
  const dr = l.data_request.signals;
  const read_valid = m.signal(1);
  const read_address = m.signal(dr.address.width, { resetless: true });
  const read_length = m.signal(dr.length_dw.width, { resetless: true });
  const read_lane = m.signal(N, { resetless: true });
  const read_known = m.signal(1, { resetless: true });
  const read_route = m.instance(syncFifo({ width: laneBits, depth: ROUTE_QUEUE_DEPTH }), { name: "read_route" });
  const readHits = laneOf(l.data_request_requester_id);
  const readKnown = readHits.reduce((a, b) => a.or(b));
  m.comb(dr.ready, read_valid.not());
  const read_to = lanes.map((_, i) => (i === 0 ? read_lane.bit(0).or(read_known.not()) : read_lane.bit(i)));
  let read_taken: Value = C(0, 1);
  lanes.forEach((lane, i) => {
    const r = lane.ports.data_request.signals;
    m.comb(r.valid, read_valid.and(read_to[i]).and(read_route.ports.in.signals.ready));
    m.comb(r.address, i === 0 ? mux(read_known, read_address, C(UNMAPPED_ADDRESS, read_address.width)) : read_address);
    m.comb(r.length_dw, read_length);
    read_taken = read_taken.or(read_to[i].and(r.ready));
  });
  const read_leaves = m.signal(1);
  m.comb(read_leaves, read_valid.and(read_route.ports.in.signals.ready).and(read_taken));
  m.If(dr.valid.and(read_valid.not()), () => {
    m.sync(read_valid, 1);
    m.sync(read_address, dr.address);
    m.sync(read_length, dr.length_dw);
    m.sync(read_lane, cat(...[...readHits].reverse()));
    m.sync(read_known, readKnown);
  }).Elif(read_leaves, () => m.sync(read_valid, 0));
  m.comb(read_route.ports.in.signals.valid, read_leaves);
  m.comb(read_route.ports.in.signals.data, encode(read_to, laneBits));
  // The answers, in request order.
  const answer = l.data_response.signals;
  const route = read_route.ports.out.signals;
  let a_valid: Value = C(0, 1);
  let a_data: Value = C(0, 64);
  let a_keep: Value = C(0, answer.tkeep.width);
  let a_last: Value = C(0, 1);
  lanes.forEach((lane, i) => {
    const r = lane.ports.data_response.signals;
    const mine = route.valid.and(route.data.eq(i));
    m.comb(r.tready, mine.and(answer.tready));
    a_valid = a_valid.or(mine.and(r.tvalid));
    a_data = mux(mine, r.tdata, a_data);
    a_keep = mux(mine, r.tkeep, a_keep);
    a_last = mux(mine, r.tlast, a_last);
  });
  m.comb(answer.tvalid, a_valid);
  m.comb(answer.tdata, a_data);
  m.comb(answer.tkeep, a_keep);
  m.comb(answer.tlast, a_last);
  m.comb(route.ready, a_valid.and(a_last).and(answer.tready));

  // Writes: a one-entry header stage with its lane; the payload follows the lane through a route queue.
  const mw = l.mem_write.signals;
  const WRITE_FIELDS = ["address", "length_dw", "first_be", "last_be", "poisoned"] as const;
  const write_valid = m.signal(1);
  const write_fields = Object.fromEntries(WRITE_FIELDS.map((f) => [f, m.signal(mw[f].width, { name: `write_${f}`, resetless: true })])) as Record<(typeof WRITE_FIELDS)[number], Signal>;
  const write_lane = m.signal(N, { resetless: true });
  const write_route = m.instance(syncFifo({ width: N + 1, depth: ROUTE_QUEUE_DEPTH }), { name: "write_route" });
  const writeHits = laneOf(l.mem_write_requester_id[0]);
  const writeKnown = writeHits.reduce((a, b) => a.or(b));
  const write_enters = mw.valid.and(write_valid.not()).and(write_route.ports.in.signals.ready);
  m.comb(mw.ready, write_valid.not().and(write_route.ports.in.signals.ready));
  m.comb(write_route.ports.in.signals.valid, write_enters);
  m.comb(write_route.ports.in.signals.data, cat(writeKnown.not(), ...[...writeHits].reverse()));
  let write_taken: Value = write_lane.any().not();
  lanes.forEach((lane, i) => {
    const w = lane.ports.mem_write.signals;
    m.comb(w.valid, write_valid.and(write_lane.bit(i)));
    for (const f of WRITE_FIELDS) m.comb(w[f], write_fields[f]);
    write_taken = write_taken.or(write_lane.bit(i).and(w.ready));
  });
  m.If(write_enters, () => {
    m.sync(write_valid, 1);
    for (const f of WRITE_FIELDS) m.sync(write_fields[f], mw[f]);
    m.sync(write_lane, cat(...[...writeHits].reverse()));
  }).Elif(write_valid.and(write_taken), () => m.sync(write_valid, 0));
  const payload = l.mem_write_data.signals;
  const payloadRoute = write_route.ports.out.signals;
  let payload_taken: Value = payloadRoute.data.bit(N);
  lanes.forEach((lane, i) => {
    const d = lane.ports.mem_write_data.signals;
    const mine = payloadRoute.valid.and(payloadRoute.data.bit(i));
    m.comb(d.tvalid, payload.tvalid.and(mine));
    m.comb(d.tdata, payload.tdata);
    m.comb(d.tkeep, payload.tkeep);
    m.comb(d.tlast, payload.tlast);
    payload_taken = payload_taken.or(payloadRoute.data.bit(i).and(d.tready));
  });
  m.comb(payload.tready, payloadRoute.valid.and(payload_taken));
  m.comb(payloadRoute.ready, payload.tvalid.and(payload.tready).and(payload.tlast));
  const unknown_requester_reads = m.output(COUNTER_BITS, { name: "status_unknown_requester_reads" });
  const unknown_requester_writes = m.output(COUNTER_BITS, { name: "status_unknown_requester_writes" });
  statusCounter(m, unknown_requester_reads, read_leaves.and(read_known.not()), "unknown_read_count");
  statusCounter(m, unknown_requester_writes, write_valid.and(write_lane.any().not()), "unknown_write_count");

  // ---- user ports, per lane ----
  const user_command = lanes.map((lane, i) => m.promote(lane.ports.user_command, { prefix: `user${i}_command` }));
  const user_write_data = lanes.map((lane, i) => m.promote(lane.ports.user_write_data, { prefix: `user${i}_write_data` }));
  const user_read_data = lanes.map((lane, i) => m.promote(lane.ports.user_read_data, { prefix: `user${i}_read_data` }));
  const user_completion = lanes.map((lane, i) => m.promote(lane.ports.user_completion, { prefix: `user${i}_completion` }));
  const user_erase = lanes.map((lane, i) => m.promote(lane.ports.user_erase, { prefix: `user${i}_erase` }));

  // ---- the status port ----
  const status = {
    ...front.status(),
    status_switch_found: m.promote(e.switch_found, { name: "status_switch_found" }),
    status_ports_found: m.promote(e.ports_found, { name: "status_ports_found" }),
    status_ssd_count: m.promote(e.ssd_count, { name: "status_ssd_count" }),
    status_unmapped_reads: m.promote(l.completer_counters[0], { name: "status_unmapped_reads" }),
    status_stray_completions: m.promote(front.requester.ports.stray_completions, { name: "status_stray_completions" }),
    status_unknown_requester_reads: unknown_requester_reads,
    status_unknown_requester_writes: unknown_requester_writes,
  };
  const ssdStatus = lanes.map((lane, i) => {
    const out = (name: string, value: Value) => {
      const port = m.output(value.width, { name: `status_ssd${i}_${name}` });
      m.comb(port, value);
      return port;
    };
    const fields: Record<string, Signal> = {
      bdf: out("bdf", slotBdf(i)),
      port: out("port", slotPort(i)),
      bar0: out("bar0", slotBar0(i)),
      state: out("state", laneState[i]),
      error_state: out("error_state", laneError[i].state),
      error_step: out("error_step", laneError[i].step),
      error_code: out("error_code", laneError[i].code),
      error_detail: out("error_detail", laneError[i].detail),
    };
    for (const [name, signal] of Object.entries(lane.ports.status)) fields[name.replace(/^status_/, "")] = m.promote(signal, { name: name.replace(/^status_/, `status_ssd${i}_`) });
    return fields;
  });
  // The pages of one lane, a byte at a time.
  /** The lane whose pages page_address reads (hold it with page_address). */
  const page_lane = m.input(laneBits);
  /** {page (StatusPage), byte offset}, to the chosen lane. */
  const page_address = m.input(PAGE_ADDRESS_BITS);
  /** The byte at page_address of lane page_lane, PAGE_READ_LATENCY cycles later. */
  const page_data = m.output(8);
  // The choice is registered (no path from page_lane to page_data); the lanes' bytes come
  // PAGE_READ_LATENCY cycles after page_address, so a page_lane held with it has long been taken.
  let pageByte: Value = lanes[0].ports.page_data;
  if (N > 1) {
    const page_lane_taken = m.signal(laneBits, { resetless: true });
    m.sync(page_lane_taken, page_lane);
    lanes.forEach((lane, i) => (pageByte = i === 0 ? pageByte : mux(page_lane_taken.eq(i), lane.ports.page_data, pageByte)));
  } else m.waiveUnread(page_lane, "one lane: nothing to choose");
  lanes.forEach((lane) => m.comb(lane.ports.page_address, page_address));
  m.comb(page_data, pageByte);

  return m.exposing({
    ...pcie,
    user_command,
    user_write_data,
    user_read_data,
    user_completion,
    user_erase,
    status,
    ssdStatus,
    page_lane,
    page_address,
    page_data,
  });
}

/** The index of the one-hot `hits` (0 when none), `bits` wide. */
function encode(hits: readonly Value[], bits: number): Value {
  const out = Array.from({ length: bits }, (_, b) => {
    const set = hits.filter((_, i) => (i >> b) & 1);
    return set.length === 0 ? C(0, 1) : set.reduce((a, c) => a.or(c));
  });
  return cat(...out.reverse());
}
