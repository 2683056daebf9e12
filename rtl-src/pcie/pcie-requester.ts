// Serves the PCIe access port (pcie-access.ts) on the TLP layer: one configuration or 32-bit
// memory access at a time, each a 1-DW TLP on one request source of the layer's transmit side.
//
// A non-posted access (configuration read or write, memory read) first takes a tag from the
// layer's tag allocator, then sends its header (and, for a write, its one payload DW), then waits
// for the completion with that tag, or for the allocator to announce that the tag expired (the
// completion timeout), and answers with the completion's status and data. A memory write is
// posted: it is answered as soon as the layer has taken its header and payload.
//
// Completion headers and their payloads leave the receive side on two streams that each keep TLP
// order but not step with each other (the header waits in a queue the payload passes), so the
// first DW of every completion payload goes into a small FIFO, and a header with data is taken
// only when its DW is there: header i with data always pairs with payload i. Every completion is
// taken and drained, ours or not (a late one after a timeout, or another requester's in a design
// that has one), so the receive side never stalls on this block; those that are not for the
// outstanding access are counted.
//
// The request source carries only this block's TLPs. Every output is a register or a decode of
// registers, except completion_ready, which follows completion_has_data (documented below); the
// completion data stream's tready is the FIFO's registered input ready.
import { C, Module, type ValueLike, mux } from "../../hdl/index.ts";
import type { PortsOf } from "../lib/ports-of.ts";
import { syncFifo } from "../lib/sync-fifo.ts";
import { CompletionStatus, RequestKind, payloadStream, receivedCompletion, requestHeader } from "../tlp/tlp-interfaces.ts";
import { KEEP_LOW_DW } from "../tlp/tlp-constants.ts";
import type { tlpLayer } from "../tlp/tlp-layer.ts";
import { AccessKind, pcieAccessRequest, pcieAccessResponse } from "./pcie-access.ts";

export interface PcieRequesterParams {
  /** The root port's secondary bus: configuration requests to it are Type 0, to any other bus Type 1. */
  secondaryBus: number;
}

/** Completion payloads whose first DW may wait for their header. */
const COMPLETION_DATA_FIFO_DEPTH = 2;
const TAG_BITS = requestHeader.fields.tag.shape.width;
const COUNTER_BITS = 16;

/**
 * One configuration or memory access at a time: a 1-DW TLP through the TLP layer, answered with
 * its completion's status and data, a timeout, or (a posted memory write) as soon as it is sent.
 */
export function pcieRequester(p: PcieRequesterParams) {
  if (!Number.isInteger(p.secondaryBus) || p.secondaryBus < 1 || p.secondaryBus > 255) {
    throw new RangeError(`pcieRequester: secondaryBus ${p.secondaryBus} is not 1..255`);
  }
  const m = new Module(`pcie_requester_b${p.secondaryBus}`);
  m.parameters({ ...p });
  m.documentCombinationalPaths(
    "completion_ready follows completion_has_data: a header with data waits until its first payload DW is in the FIFO (the receive side's header queue registers it)",
  );

  // The access port.
  const access = m.port(pcieAccessRequest, "slave", { prefix: "access" });
  const response = m.port(pcieAccessResponse, "master", { prefix: "response" });
  // The TLP layer: one request source, the tag allocator, the completions and their timeouts.
  const request = m.port(requestHeader, "master", { prefix: "request" });
  const request_payload = m.port(payloadStream, "master", { prefix: "request_payload" });
  const allocate_valid = m.input(1);
  const allocate_tag = m.input(TAG_BITS);
  const allocate_ready = m.output(1);
  const completion = m.port(receivedCompletion, "slave", { prefix: "completion" });
  const completion_data = m.port(payloadStream, "slave", { prefix: "completion_data" });
  /** The allocator's announcement that a tag's completion timeout expired (one cycle). */
  const expired_valid = m.input(1);
  const expired_tag = m.input(TAG_BITS);
  /** Completions taken that were not for the outstanding access (late after a timeout, or not ours). */
  const stray_completions = m.output(COUNTER_BITS);

  const a = access.signals;
  const r = response.signals;
  const rq = request.signals;
  const pl = request_payload.signals;
  const cpl = completion.signals;
  const cd = completion_data.signals;
  for (const unread of ["byte_count", "lower_address", "length_dw", "completer_id"] as const) {
    m.waiveUnread(cpl[unread], "a 1-DW access has one completion; its data is the first payload DW");
  }
  m.waiveUnread(cd.tkeep, "the first DW of a completion payload is always present");
  m.waiveUnread(cd.tdata, "a 1-DW access reads only the first DW, tdata[31:0] of the first beat");

  // The access being served, copied from the port when taken.
  const kind = m.signal(2, { resetless: true });
  const address = m.signal(32, { resetless: true });
  const write_data = m.signal(32, { resetless: true });
  const byte_en = m.signal(4, { resetless: true });
  const tag = m.signal(TAG_BITS, { resetless: true });

  const ctl = m.fsm(["IDLE", "TAG", "SEND", "AWAIT", "RESPOND"]);
  const header_sent = m.signal(1);
  const payload_sent = m.signal(1);

  const is_write = kind.eq(AccessKind.CFG_WRITE).or(kind.eq(AccessKind.MEM_WRITE));
  const posted = kind.eq(AccessKind.MEM_WRITE);
  const type1 = address.bits(31, 24).ne(p.secondaryBus);
  // The layer's request kind, decoded from registers only.
  const request_kind = m.signal(3);
  m.Switch(kind, (s) => {
    s.Case(AccessKind.CFG_READ, () => m.comb(request_kind, mux(type1, C(RequestKind.CfgRd1, 3), C(RequestKind.CfgRd0, 3))));
    s.Case(AccessKind.CFG_WRITE, () => m.comb(request_kind, mux(type1, C(RequestKind.CfgWr1, 3), C(RequestKind.CfgWr0, 3))));
    s.Case(AccessKind.MEM_READ, () => m.comb(request_kind, RequestKind.MRd));
    s.Default(() => m.comb(request_kind, RequestKind.MWr));
  });

  // First DWs of completion payloads, waiting for their headers.
  const fifo = m.instance(syncFifo({ width: 32, depth: COMPLETION_DATA_FIFO_DEPTH }), { name: "completion_data_fifo" });
  const first_beat = m.signal(1, { reset: 1 });
  m.comb(cd.tready, fifo.ports.in.signals.ready);
  m.comb(fifo.ports.in.signals.valid, cd.tvalid.and(first_beat));
  m.comb(fifo.ports.in.signals.data, cd.tdata.bits(31, 0));
  m.If(cd.tvalid.and(cd.tready), () => m.sync(first_beat, cd.tlast));

  // A completion header is taken when its first DW (if it has data) is at the FIFO's head, and once
  // it has been shown for a cycle: whether it is ours (the tag compare) is then a register, so the
  // compare does not meet the FSM's next state in the same cycle (7 levels in the board tops).
  const header_seen = m.signal(1);
  /** The head's tag is the outstanding access's (tag only changes in TAG, cycles before AWAIT). */
  const tag_matches = m.signal(1);
  const header_ready = header_seen.and(cpl.has_data.not().or(fifo.ports.out.signals.valid));
  m.comb(cpl.ready, header_ready);
  const header_taken = cpl.valid.and(header_ready);
  m.sync(header_seen, cpl.valid.and(header_taken.not()));
  m.sync(tag_matches, cpl.tag.eq(tag));
  const ours = ctl.is("AWAIT").and(tag_matches);
  m.comb(fifo.ports.out.signals.ready, header_taken.and(cpl.has_data));
  const answered = header_taken.and(ours);
  const expired = ctl.is("AWAIT").and(expired_valid).and(expired_tag.eq(tag));
  m.If(header_taken.and(ours.not()), () => m.sync(stray_completions, stray_completions.addWrap(1)));

  // The TLP: header and payload registers, each held until taken.
  m.comb(rq.kind, request_kind);
  m.comb(rq.address, address.zext(64));
  m.comb(rq.length_dw, 1);
  m.comb(rq.first_be, byte_en);
  m.comb(rq.last_be, 0);
  m.comb(rq.tag, tag);
  m.comb(rq.valid, ctl.is("SEND").and(header_sent.not()));
  m.comb(pl.tdata, write_data.zext(64));
  m.comb(pl.tkeep, KEEP_LOW_DW);
  m.comb(pl.tlast, 1);
  m.comb(pl.tvalid, ctl.is("SEND").and(is_write).and(payload_sent.not()));
  const header_done = header_sent.or(rq.ready);
  const payload_done = is_write.not().or(payload_sent).or(pl.tready);
  const sent = ctl.is("SEND").and(header_done).and(payload_done);

  m.comb(a.ready, ctl.is("IDLE"));
  // The allocator's offer is a register: the tag is taken in the cycle both are high.
  m.comb(allocate_ready, ctl.is("TAG"));

  const answer = (status: ValueLike, data: ValueLike, timedOut: ValueLike, poisoned: ValueLike) => {
    m.sync(r.valid, 1);
    m.sync(r.status, status);
    m.sync(r.data, data);
    m.sync(r.timed_out, timedOut);
    m.sync(r.poisoned, poisoned);
  };
  ctl.body({
    IDLE: () =>
      m.If(a.valid, () => {
        m.sync(kind, a.kind);
        m.sync(address, a.address);
        m.sync(write_data, a.data);
        m.sync(byte_en, a.byte_en);
        m.sync(header_sent, 0);
        m.sync(payload_sent, 0);
        m.If(a.kind.eq(AccessKind.MEM_WRITE), () => ctl.next("SEND")).Else(() => ctl.next("TAG"));
      }),
    TAG: () =>
      m.If(allocate_valid, () => {
        m.sync(tag, allocate_tag);
        ctl.next("SEND");
      }),
    SEND: () => {
      m.If(rq.ready.and(rq.valid), () => m.sync(header_sent, 1));
      m.If(pl.tready.and(pl.tvalid), () => m.sync(payload_sent, 1));
      m.If(sent, () =>
        m.If(posted, () => {
          answer(CompletionStatus.SC, 0, 0, 0);
          ctl.next("RESPOND");
        }).Else(() => ctl.next("AWAIT")),
      );
    },
    AWAIT: () =>
      m.If(answered, () => {
        // A failed read reads all ones, as a host bridge returns for a read that got no data.
        const good = cpl.status.eq(CompletionStatus.SC).and(cpl.poisoned.not()).and(cpl.has_data);
        const no_data = mux(is_write, C(0, 32), C(0xffff_ffff, 32));
        answer(cpl.status, mux(good, fifo.ports.out.signals.data, no_data), 0, cpl.poisoned);
        ctl.next("RESPOND");
      }).Elif(expired, () => {
        answer(CompletionStatus.SC, mux(is_write, C(0, 32), C(0xffff_ffff, 32)), 1, 0);
        ctl.next("RESPOND");
      }),
    RESPOND: () =>
      m.If(r.ready, () => {
        m.sync(r.valid, 0);
        ctl.next("IDLE");
      }),
  });

  return m.exposing({
    access,
    response,
    request,
    request_payload,
    allocate_valid,
    allocate_tag,
    allocate_ready,
    completion,
    completion_data,
    expired_valid,
    expired_tag,
    stray_completions,
  });
}

/**
 * Wires a pcie_requester instance to request source `source` of a tlp_layer instance, both in
 * `m`: its request header and payload, the layer's tag allocator, the completions and their
 * payloads, and the allocator's expired-tag announcements. The access, response and
 * stray_completions ports are left to the caller.
 */
export function connectRequesterToLayer(
  m: Module,
  requester: { ports: PortsOf<typeof pcieRequester> },
  layer: { ports: PortsOf<typeof tlpLayer> },
  source = 0,
): void {
  const r = requester.ports;
  const l = layer.ports;
  if (!Number.isInteger(source) || source < 0 || source >= l.reqs.length) {
    throw new RangeError(`connectRequesterToLayer: source ${source} is not a request source of the layer (0..${l.reqs.length - 1})`);
  }
  m.connect(r.request, l.reqs[source]);
  m.connect(r.request_payload, l.req_payloads[source]);
  m.comb(r.allocate_valid, l.allocate_valid);
  m.comb(r.allocate_tag, l.allocate_tag);
  m.comb(l.allocate_ready, r.allocate_ready);
  m.connect(l.completion, r.completion);
  m.connect(l.completion_data, r.completion_data);
  const [, expiredValid, expiredTag] = l.tag_status;
  m.comb(r.expired_valid, expiredValid);
  m.comb(r.expired_tag, expiredTag);
}
