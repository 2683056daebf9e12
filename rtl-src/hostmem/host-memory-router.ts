// Between the TLP layer and the blocks that play host memory (DESIGN.md, "Virtual host memory"):
// the SSD's memory reads and writes are routed by address to whoever serves that region of the
// host-memory map (rtl-src/hostmem/host-memory-map.ts). The regions each target serves are a
// parameter, named after the map, so later issues add targets (I/O queues, PRP lists, data
// windows) by adding entries.
//
//  - Reads. The completer's data requests (`data_request`: address, length in DWs) go to the read
//    target whose regions hold the address. The answers (`data_response`) must come back in request
//    order with exactly the DWs asked for, so every request taken leaves its target (and length) in
//    a route queue, and the response side forwards the beats of the target at the head of that
//    queue until its tlast, then moves to the next. An address no target serves is answered here
//    with zero data (the completer's data source cannot refuse a request, so no UR) and counted on
//    `unmapped_reads`. A read never crosses a 4 KiB boundary and regions are 4 KiB aligned, so the
//    start address decides.
//  - Writes. The SSD's memory writes (`mem_write` header + `mem_write_data` payload) go to the
//    write target whose regions hold the address, header and payload alike; a header enters a
//    queue with its target (one-hot: a bit per target, one for none, so that the decode ends in
//    its compares), and the target travels with each payload beat (in the output slice's tuser), so
//    headers and payloads of successive writes flow without a gap. A write to no
//    target is dropped (its payload consumed) and counted on `unmapped_writes`.
//
// Requests, headers and beats wait in FIFOs and register slices at the boundary: every output is a
// register or a decode of registers (a target's valid is its queue's valid and a compare of the
// queued target number), and no path runs combinationally from an input to an output.
import { C, Module, type Value, bitsFor, cat, constant, mux } from "../../hdl/index.ts";
import { axisSkidBuffer } from "../lib/axis-skid-buffer.ts";
import type { PortsOf } from "../lib/ports-of.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "../lib/stream-payload.ts";
import { statusCounter } from "../lib/status-counter.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import type { adminEngine } from "../nvme/admin-engine.ts";
import { completerDataRequest, payloadStream, receivedMemoryWrite } from "../tlp/tlp-interfaces.ts";
import type { tlpLayer } from "../tlp/tlp-layer.ts";
import { HostMemoryMap, type HostMemoryRegion, type HostMemoryRegionName } from "./host-memory-map.ts";

export interface RouterTarget {
  /** snake_case: its ports are `<name>_request`/`<name>_response` (reads) or `<name>_write`/`<name>_write_data` (writes). */
  name: string;
  /** The map's regions it serves. */
  regions: readonly HostMemoryRegionName[];
}

export interface HostMemoryRouterParams {
  /** Who answers the SSD's reads of which regions. */
  readTargets: readonly RouterTarget[];
  /** Who takes the SSD's writes to which regions. */
  writeTargets: readonly RouterTarget[];
  /** Reads routed and not yet answered in full (RAM words of the route queue; it holds one more). */
  routeQueueDepth?: number;
}

/**
 * The targets of the bring-up (issue 9): the admin SQ read by the admin engine, the admin CQ
 * written to it, the two Identify pages written to the Identify parser.
 */
export const BRINGUP_ROUTER_TARGETS = {
  readTargets: [{ name: "admin_sq", regions: ["adminSq"] }],
  writeTargets: [
    { name: "admin_cq", regions: ["adminCq"] },
    { name: "identify", regions: ["identifyController", "identifyNamespace"] },
  ],
} as const satisfies HostMemoryRouterParams;

/**
 * The regions some read target serves: the completer answers reads elsewhere with UR before they
 * reach the router (tlp-completer.ts `servedRegions`), so the router's zero answer stays a fallback.
 */
export function servedReadRegions(p: Pick<HostMemoryRouterParams, "readTargets">): HostMemoryRegion[] {
  return p.readTargets.flatMap((t) => t.regions.map((name) => HostMemoryMap[name]));
}

const DEFAULT_ROUTE_QUEUE_DEPTH = 8;
/** Requests and headers buffered in front of the targets. */
const INPUT_QUEUE_DEPTH = 2;
const COUNTER_BITS = 32;
/** Every region lies below 4 GiB: a decode compares the low 32 address bits and requires the high ones zero. */
const ADDRESS_BITS = 32;

function checkParams(p: HostMemoryRouterParams, routeQueueDepth: number): void {
  const seen = new Map<string, string>();
  for (const [kind, targets] of [["read", p.readTargets], ["write", p.writeTargets]] as const) {
    const names = new Set<string>();
    for (const t of targets) {
      if (!/^[a-z][a-z0-9_]*$/.test(t.name)) throw new RangeError(`host_memory_router: ${kind} target name ${JSON.stringify(t.name)} is not snake_case`);
      if (names.has(t.name)) throw new RangeError(`host_memory_router: ${kind} target ${t.name} is listed twice`);
      names.add(t.name);
      if (t.regions.length === 0) throw new RangeError(`host_memory_router: ${kind} target ${t.name} serves no region`);
      for (const region of t.regions) {
        if (!(region in HostMemoryMap)) throw new RangeError(`host_memory_router: ${kind} target ${t.name}: region ${JSON.stringify(region)} is not in the host-memory map`);
        const key = `${kind}:${region}`;
        if (seen.has(key)) throw new RangeError(`host_memory_router: region ${region} is served by ${kind} targets ${seen.get(key)} and ${t.name}`);
        seen.set(key, t.name);
      }
    }
  }
  if (!Number.isInteger(routeQueueDepth) || routeQueueDepth < 2) throw new RangeError(`host_memory_router: routeQueueDepth ${routeQueueDepth} must be an integer >= 2`);
}

/** 1 when the low 32 bits of an address lie in one of `regions` (the high half is checked once, by the caller). */
function inRegionsLow(address: Value, regions: readonly HostMemoryRegionName[]): Value {
  const hits = regions.map((name) => {
    const r = HostMemoryMap[name];
    const low = Math.log2(r.bytes);
    return address.bits(ADDRESS_BITS - 1, low).eq(C(r.base / r.bytes, ADDRESS_BITS - low));
  });
  return hits.length === 1 ? hits[0] : cat(...hits).any();
}

/**
 * The number of the target whose regions hold the 64-bit `address`, or `none` (regions never
 * overlap, so the hits are one-hot). The high half's zero test runs beside the low half's compares
 * and only chooses at the end, so the two are not in series.
 */
function targetOf(address: Value, targets: readonly RouterTarget[], none: Value): Value {
  if (targets.length === 0) return none;
  const high_zero = address.bits(63, ADDRESS_BITS).eq(0);
  const hits = targets.map((t) => inRegionsLow(address, t.regions));
  const bits = Array.from({ length: none.width }, (_, b) => {
    const set = hits.filter((_, i) => (i >> b) & 1);
    return set.length === 0 ? C(0, 1) : set.length === 1 ? set[0] : cat(...set).any();
  });
  const hit = hits.length === 1 ? hits[0] : cat(...hits).any();
  return mux(high_zero.and(hit), cat(...bits.reverse()), none);
}

/**
 * The target whose regions hold the 64-bit `address` as a one-hot word, a bit per target and the
 * top bit for none of them: each bit is one region compare and the high half's zero test, with no
 * encoding after them (the write side's headers are routed by it).
 */
function oneHotTargetOf(address: Value, targets: readonly RouterTarget[]): Value {
  const high_zero = address.bits(63, ADDRESS_BITS).eq(0);
  const hits = targets.map((t) => high_zero.and(inRegionsLow(address, t.regions)));
  const none = hits.length === 0 ? C(1, 1) : hits.length === 1 ? hits[0].not() : cat(...hits).any().not();
  return cat(none, ...[...hits].reverse());
}

/**
 * Routes the completer's data requests and the SSD's memory writes to the blocks that serve each
 * region of the host-memory map; answers unmapped reads with zeros and drops unmapped writes,
 * counting both.
 */
export function hostMemoryRouter(p: HostMemoryRouterParams) {
  const routeQueueDepth = p.routeQueueDepth ?? DEFAULT_ROUTE_QUEUE_DEPTH;
  checkParams(p, routeQueueDepth);
  const names = (targets: readonly RouterTarget[]) => targets.map((t) => t.name).join("_");
  const m = new Module(`host_memory_router_rd_${names(p.readTargets) || "none"}_wr_${names(p.writeTargets) || "none"}_q${routeQueueDepth}`);
  const describeTargets = (targets: readonly RouterTarget[]) =>
    targets.map((t) => `${t.name} = ${t.regions.map((r) => `${r} 0x${HostMemoryMap[r].base.toString(16)}+0x${HostMemoryMap[r].bytes.toString(16)}`).join(", ")}`).join("; ") || "none";
  m.parameters({ readTargets: describeTargets(p.readTargets), writeTargets: describeTargets(p.writeTargets), routeQueueDepth });

  const data_request = m.port(completerDataRequest, "slave");
  const data_response = m.port(payloadStream, "master");
  const mem_write = m.port(receivedMemoryWrite, "slave");
  const mem_write_data = m.port(payloadStream, "slave");
  const reads = p.readTargets.map((t) => ({
    name: t.name,
    request: m.port(completerDataRequest, "master", { prefix: `${t.name}_request` }),
    response: m.port(payloadStream, "slave", { prefix: `${t.name}_response` }),
  }));
  const writes = p.writeTargets.map((t) => ({
    name: t.name,
    write: m.port(receivedMemoryWrite, "master", { prefix: `${t.name}_write` }),
    write_data: m.port(payloadStream, "master", { prefix: `${t.name}_write_data` }),
  }));
  /** Data requests to no target (answered with zeros). */
  const unmapped_reads = m.output(COUNTER_BITS);
  /** Memory writes to no target (dropped). */
  const unmapped_writes = m.output(COUNTER_BITS);
  /** A pulse per memory write to no target (registered): the data of some read may be missing. */
  const unmapped_write = m.output(1);

  // ---- reads ----
  const readTargetBits = bitsFor(reads.length);
  const UNMAPPED_READ = constant("READ_TARGET_UNMAPPED", reads.length, readTargetBits);
  const lengthBits = completerDataRequest.fields.length_dw.shape.width;
  const request_queue = m.instance(syncFifo({ width: readTargetBits + ADDRESS_BITS + lengthBits, depth: INPUT_QUEUE_DEPTH }), { name: "request_queue" });
  // A route: the target, and for the zero answer the length and whether it fits one beat.
  const route_queue = m.instance(syncFifo({ width: readTargetBits + 1 + lengthBits, depth: routeQueueDepth }), { name: "route_queue" });
  const rq_in = request_queue.ports.in.signals;
  const rq_out = request_queue.ports.out.signals;
  m.comb(rq_in.data, cat(targetOf(data_request.signals.address, p.readTargets, UNMAPPED_READ), data_request.signals.address.bits(ADDRESS_BITS - 1, 0), data_request.signals.length_dw));
  m.comb(rq_in.valid, data_request.signals.valid);
  m.comb(data_request.signals.ready, rq_in.ready);
  const queued_target = rq_out.data.bits(rq_out.data.width - 1, ADDRESS_BITS + lengthBits);
  const queued_address = rq_out.data.bits(ADDRESS_BITS + lengthBits - 1, lengthBits);
  const queued_length = rq_out.data.bits(lengthBits - 1, 0);
  // A request leaves the queue for its target (or for the zero answer) when the route queue has room.
  const route_room = route_queue.ports.in.signals.ready;
  const offered = rq_out.valid.and(route_room);
  let request_taken: Value = offered.and(queued_target.eq(UNMAPPED_READ));
  reads.forEach((t, i) => {
    const mine = queued_target.eq(i);
    m.comb(t.request.signals.valid, offered.and(mine));
    m.comb(t.request.signals.address, queued_address.zext(64));
    m.comb(t.request.signals.length_dw, queued_length);
    request_taken = request_taken.or(offered.and(mine).and(t.request.signals.ready));
  });
  const request_leaves = m.signal(1);
  m.comb(request_leaves, request_taken);
  m.comb(rq_out.ready, request_leaves);
  m.comb(route_queue.ports.in.signals.data, cat(queued_target, queued_length.le(2), queued_length));
  m.comb(route_queue.ports.in.signals.valid, request_leaves);
  statusCounter(m, unmapped_reads, request_leaves.and(queued_target.eq(UNMAPPED_READ)), "unmapped_read_count");

  // The answers, in route order, through a register slice.
  const response_slice = m.instance(axisSkidBuffer({ dataWidth: 64 }), { name: "response_slice" });
  const slice_in = response_slice.ports.s_axis.signals;
  const route = route_queue.ports.out.signals;
  const route_target = route.data.bits(route.data.width - 1, lengthBits + 1);
  const route_one_beat = route.data.bit(lengthBits);
  const route_length = route.data.bits(lengthBits - 1, 0);
  // Zero data for an unmapped read: the DWs still owed (the route's length until the first beat
  // goes), and whether they fit the next beat, kept in registers so that the route queue's ready
  // (it pops on the last beat) is a few gates from registers.
  const zeros_started = m.signal(1);
  const zeros_left = m.signal(lengthBits, { resetless: true });
  const zeros_left_one_beat = m.signal(1, { resetless: true });
  const zeros_owed = mux(zeros_started, zeros_left, route_length);
  const zeros_last = mux(zeros_started, zeros_left_one_beat, route_one_beat);
  const answering_zeros = route.valid.and(route_target.eq(UNMAPPED_READ));
  const slice_ready = slice_in.tready;
  let beat_valid: Value = answering_zeros;
  let beat_data: Value = C(0, 64);
  let beat_keep: Value = mux(zeros_owed.gt(1), KEEP_BOTH_DW, KEEP_LOW_DW);
  let beat_last: Value = zeros_last;
  let route_done: Value = answering_zeros.and(zeros_last).and(slice_ready);
  reads.forEach((t, i) => {
    const mine = route.valid.and(route_target.eq(i));
    const r = t.response.signals;
    m.comb(r.tready, mine.and(slice_ready));
    beat_valid = beat_valid.or(mine.and(r.tvalid));
    beat_data = mux(mine, r.tdata, beat_data);
    beat_keep = mux(mine, r.tkeep, beat_keep);
    beat_last = mux(mine, r.tlast, beat_last);
    route_done = route_done.or(mine.and(r.tvalid).and(r.tlast).and(slice_ready));
  });
  m.comb(slice_in.tvalid, beat_valid);
  m.comb(slice_in.tdata, beat_data);
  m.comb(slice_in.tkeep, beat_keep);
  m.comb(slice_in.tlast, beat_last);
  m.comb(route.ready, route_done);
  m.If(answering_zeros.and(slice_ready), () => {
    m.sync(zeros_started, zeros_last.not());
    m.sync(zeros_left, zeros_owed.subWrap(2));
    m.sync(zeros_left_one_beat, zeros_owed.le(4));
  });
  m.connect(response_slice.ports.m_axis, data_response);
  m.waiveUnread(data_request.signals.address, "regions lie below 4 GiB: the high half only has to be zero");

  // ---- writes ----
  // A header's target travels one-hot (a bit per target, the top one for none).
  const writeTargetBits = writes.length + 1;
  const unmappedWrite = (target: Value) => target.bit(writes.length);
  const HEADER_FIELDS = ["length_dw", "first_be", "last_be", "poisoned"] as const;
  const headerBits = HEADER_FIELDS.reduce((sum, f) => sum + receivedMemoryWrite.fields[f].shape.width, 0);
  const header_queue = m.instance(syncFifo({ width: writeTargetBits + ADDRESS_BITS + headerBits, depth: INPUT_QUEUE_DEPTH }), { name: "header_queue" });
  const payload_route = m.instance(syncFifo({ width: writeTargetBits, depth: INPUT_QUEUE_DEPTH }), { name: "payload_route" });
  const hq_in = header_queue.ports.in.signals;
  const hq_out = header_queue.ports.out.signals;
  const write_target = oneHotTargetOf(mem_write.signals.address, p.writeTargets);
  // A header enters both queues at once: its own, and its payload's route.
  const header_room = hq_in.ready.and(payload_route.ports.in.signals.ready);
  const header_taken = mem_write.signals.valid.and(header_room);
  m.comb(mem_write.signals.ready, header_room);
  m.comb(hq_in.valid, header_taken);
  m.comb(hq_in.data, cat(write_target, mem_write.signals.address.bits(ADDRESS_BITS - 1, 0), ...HEADER_FIELDS.map((f) => mem_write.signals[f])));
  m.comb(payload_route.ports.in.signals.valid, header_taken);
  m.comb(payload_route.ports.in.signals.data, write_target);

  const header_target = hq_out.data.bits(hq_out.data.width - 1, ADDRESS_BITS + headerBits);
  const header_address = hq_out.data.bits(ADDRESS_BITS + headerBits - 1, headerBits);
  let header_leaves: Value = hq_out.valid.and(unmappedWrite(header_target));
  writes.forEach((t, i) => {
    const mine = hq_out.valid.and(header_target.bit(i));
    const w = t.write.signals;
    m.comb(w.valid, mine);
    m.comb(w.address, header_address.zext(64));
    let lsb = headerBits;
    for (const f of HEADER_FIELDS) {
      const width = receivedMemoryWrite.fields[f].shape.width;
      lsb -= width;
      m.comb(w[f], hq_out.data.bits(lsb + width - 1, lsb));
    }
    header_leaves = header_leaves.or(mine.and(w.ready));
  });
  m.comb(hq_out.ready, header_leaves);
  statusCounter(m, unmapped_writes, hq_out.valid.and(unmappedWrite(header_target)), "unmapped_write_count");
  m.sync(unmapped_write, hq_out.valid.and(unmappedWrite(header_target)));

  // Payload beats carry their target through the slice (tuser).
  const payload_slice = m.instance(axisSkidBuffer({ dataWidth: 64, userWidth: writeTargetBits }), { name: "payload_slice" });
  const ps_in = payload_slice.ports.s_axis.signals;
  const ps_out = payload_slice.ports.m_axis.signals;
  const pr_out = payload_route.ports.out.signals;
  const d = mem_write_data.signals;
  m.comb(ps_in.tvalid, d.tvalid.and(pr_out.valid));
  m.comb(d.tready, ps_in.tready.and(pr_out.valid));
  m.comb(ps_in.tdata, d.tdata);
  m.comb(ps_in.tkeep, d.tkeep);
  m.comb(ps_in.tlast, d.tlast);
  m.comb(ps_in.tuser, pr_out.data);
  m.comb(pr_out.ready, d.tvalid.and(d.tready).and(d.tlast));
  let beat_leaves: Value = unmappedWrite(ps_out.tuser);
  writes.forEach((t, i) => {
    const mine = ps_out.tuser.bit(i);
    const o = t.write_data.signals;
    m.comb(o.tvalid, ps_out.tvalid.and(mine));
    m.comb(o.tdata, ps_out.tdata);
    m.comb(o.tkeep, ps_out.tkeep);
    m.comb(o.tlast, ps_out.tlast);
    beat_leaves = beat_leaves.or(mine.and(o.tready));
  });
  m.comb(ps_out.tready, beat_leaves);
  m.waiveUnread(mem_write.signals.address, "regions lie below 4 GiB: the high half only has to be zero");

  return m.exposing({
    data_request,
    data_response,
    mem_write,
    mem_write_data,
    reads: Object.fromEntries(reads.map((t) => [t.name, { request: t.request, response: t.response }])),
    writes: Object.fromEntries(writes.map((t) => [t.name, { write: t.write, write_data: t.write_data }])),
    unmapped_reads,
    unmapped_writes,
    unmapped_write,
  });
}

/**
 * Wires a host_memory_router instance built with BRINGUP_ROUTER_TARGETS between a tlp_layer
 * instance's completer side (the SSD's reads and their data, its memory writes) and an
 * admin_engine instance's admin SQ and CQ, all in `m`. The Identify region and the unmapped
 * counters are left to the caller.
 */
export function connectHostMemoryRouter(
  m: Module,
  router: { ports: PortsOf<typeof hostMemoryRouter> },
  layer: { ports: PortsOf<typeof tlpLayer> },
  admin: { ports: PortsOf<typeof adminEngine> },
): void {
  const r = router.ports;
  const l = layer.ports;
  m.connect(l.data_request, r.data_request);
  m.connect(r.data_response, l.data_response);
  m.connect(l.mem_write, r.mem_write);
  m.connect(l.mem_write_data, r.mem_write_data);
  m.connect(r.reads.admin_sq.request, admin.ports.sq_request);
  m.connect(admin.ports.sq_response, r.reads.admin_sq.response);
  m.connect(r.writes.admin_cq.write, admin.ports.cq_write);
  m.connect(r.writes.admin_cq.write_data, admin.ports.cq_write_data);
}
