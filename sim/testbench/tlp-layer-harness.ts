// Runs the emitted tlp_layer Verilog behind the link + hard-IP model with a scripted peer, with
// traffic in both directions at once. The run plays everything around the layer in TypeScript:
// the requesters (each non-posted request takes its tag from the layer's allocator, then goes to
// its request source), the consumers of the received completions and memory writes, and the
// completer's data source, each with its own random back-pressure. It records what every port
// took, so a test can compare it with what was intended. Used by test/rtl-src/tlp/tlp-layer.test.ts.
import { emitDesign } from "../../hdl/index.ts";
import { type TlpLayerOptions, tlpLayer } from "../../rtl-src/tlp/tlp-layer.ts";
import type { TlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { type SignalHandle, type SignalVisibility, type Simulator, type EngineName, createSimulator } from "../engine/index.ts";
import { type BridgeCoupling, RootPortBridge } from "./root-port-bridge.ts";
import { decodeTlp } from "../pcie/codec.ts";
import { LinkModel } from "../pcie/link-model.ts";
import { ScriptedEndpoint } from "./scripted-endpoint.ts";
import type { ConfigRequest, MemRequest, PcieEndpoint, Tlp } from "../pcie/tlp.ts";
import { TraceWriter } from "../pcie/trace.ts";
import { CompleterDataSource } from "./completer-data-source.ts";
import { type LayerRequest, expectedLayerCompletions } from "./tlp-layer-traffic.ts";
import type { ReceivedCompletionRecord, ReceivedWriteRecord } from "./tlp-rx-records.ts";
import { REQUEST_FIELDS, requestSourceTlp, sourcePorts, TlpSourceDriver } from "./tlp-tx-driver.ts";
import { monitorStreams } from "./stream-monitor.ts";
import { emittedSources } from "../engine/designs.ts";

/**
 * The layer's simulator, with a protocol monitor on every stream unless `monitored` is false.
 * `visibility` "ports" lets Verilator optimise the internals away (runLayer uses ports only).
 */
export async function buildLayerSimulator(params: TlpLayerParams, engine: EngineName, options: TlpLayerOptions = {}, monitored = true, visibility: SignalVisibility = "all"): Promise<Simulator> {
  const module = tlpLayer(params, options);
  const { files } = emitDesign(module);
  const sim = await createSimulator({ sources: emittedSources(files), top: module.name, engine, visibility, settleOnDemand: true });
  return monitored ? monitorStreams(sim) : sim;
}

export type { LayerRequest } from "./tlp-layer-traffic.ts";

export interface LayerRunOptions {
  params: TlpLayerParams;
  random: () => number;
  /** Request source of each kind of request (the layer's `req<i>_*`). */
  sourceOf: (request: LayerRequest) => number;
  requestSources: number;
  /** Our requests, in the order each source sends them; `tag` is overwritten for non-posted ones. */
  downstream: readonly LayerRequest[];
  /** What the peer sends on its own, with the cycle each becomes ready (no completions addressed to us: those are the peer's answers). */
  upstream: readonly { tlp: Tlp; readyCycle: number }[];
  /** Memory the peer holds (our MRd read it). */
  peerMemory?: { address: bigint; data: Uint8Array }[];
  /** Probability per cycle that a consumer is ready / a producer offers. */
  readiness: number;
  /** The core's transmit buffers: few make the link push back on s_axis_tx_tready. */
  txBuffers: number;
  /** Requests the peer takes but never answers (to let a completion time out). */
  peerIgnores?: (tlp: Tlp) => boolean;
  /** Also write the link's TLP trace here (DESIGN.md contract). */
  trace?: TraceWriter;
  maxCycles?: number;
  /** How the bridge moves the core's ports (default "exchange"; the benchmark compares both). */
  coupling?: BridgeCoupling;
  /** The completer's data source takes no request before this cycle of the run (default 0): its read queue fills. */
  dataSourceStalledUntil?: number;
}

export interface LayerRunResult {
  /** Our requests as issued (with their tags), in issue order. */
  issued: LayerRequest[];
  /** Every TLP the peer received, in arrival order. */
  peerReceived: Tlp[];
  /** The link's trace: every TLP on m_axis_rx (up) and s_axis_tx (down), wire bytes as hex. */
  trace: { cycle: number; dir: "up" | "down"; tlp: string }[];
  completions: ReceivedCompletionRecord[];
  completionPayloads: Uint8Array[];
  memWrites: ReceivedWriteRecord[];
  memWritePayloads: Uint8Array[];
  /** The layer's status outputs at the end of the run. */
  status: Record<(typeof STATUS_OUTPUTS)[number], number>;
  /** Tags the layer announced on expired_* (timed out), in order. */
  expired: number[];
  /** Tags handed out while the same tag was still outstanding (must stay empty). */
  tagReuse: string[];
  cycles: number;
  /** Beats taken on s_axis_tx, and the cycles the core held tready high from the first of them to the last. */
  txBeats: number;
  txReadyCycles: number;
  /** Beats taken on m_axis_rx, and the cycles a beat was offered there but m_axis_rx_tready was low. */
  rxBeats: number;
  rxStallCycles: number;
  /** Cycles rx_np_ok was low (the layer holding the peer's non-posted requests back). */
  npHeldCycles: number;
}

const STATUS_OUTPUTS = [
  "outstanding", "timeout", "timeout_tag", "unexpected_completion", "tx_input_error",
  "count_messages", "count_unsupported", "count_malformed", "count_poisoned", "count_unexpected",
] as const;
const DRAIN_CYCLES = 300;

export function runLayer(sim: Simulator, options: LayerRunOptions): LayerRunResult {
  const { params, random, readiness } = options;
  const answer = options.upstream.find(({ tlp }) => isAnswerToUs(tlp, params));
  if (answer) throw new RangeError(`runLayer: upstream ${answer.tlp.kind} is addressed to us (requester ${params.requesterId}); only the peer's answers may be`);
  sim.reset(2);
  const endpoint = new ScriptedEndpoint({ split: { rcb: params.readCompletionBoundary as 64 | 128, mps: params.maxPayloadBytes } });
  for (const { address, data } of options.peerMemory ?? []) endpoint.memory.write(address, data);
  for (const { tlp, readyCycle } of options.upstream) endpoint.queueUpstream(tlp, readyCycle);
  const trace: LayerRunResult["trace"] = [];
  const linkTrace = new TraceWriter((line) => {
    const entry = JSON.parse(line) as LayerRunResult["trace"][number];
    trace.push(entry);
    options.trace?.write(entry.cycle, entry.dir, Buffer.from(entry.tlp, "hex"));
  });
  const ignores = options.peerIgnores;
  const peer: PcieEndpoint = ignores === undefined ? endpoint : {
    receive: (tlp, cycle) => (ignores(tlp) ? endpoint.received.push({ cycle, tlp }) : endpoint.receive(tlp, cycle)),
    nextUpstream: (cycle) => endpoint.nextUpstream(cycle),
  };
  const link = new LinkModel(
    peer,
    { mps: params.maxPayloadBytes, mrrs: params.maxReadRequestBytes, rcb: params.readCompletionBoundary as 64 | 128, trainingCycles: 4, latencyCycles: 20, txBuffers: options.txBuffers, forwardMessages: true },
    { trace: linkTrace },
  );
  const bridge = new RootPortBridge(sim, link, options.coupling);
  const chance = () => random() < readiness;

  const requesters = new Requesters(sim, options, chance);
  const completions = new HeaderSink(sim, "completion", ["has_data", "status", "byte_count", "lower_address", "length_dw", "tag", "completer_id", "poisoned"], chance);
  const completionData = new PayloadSink(sim, "completion_data", chance);
  const memWrites = new HeaderSink(sim, "mem_write", ["address", "length_dw", "first_be", "last_be", "poisoned"], chance);
  const memWriteData = new PayloadSink(sim, "mem_write_data", chance);
  const stalledUntil = options.dataSourceStalledUntil ?? 0;
  const dataSource = new CompleterDataSource(sim, chance, () => link.cycle - start >= stalledUntil && chance());
  const outstanding = sim.signal("outstanding");

  const start = link.cycle;
  // The consumers drive their readies first: the requesters watch the completion handshake.
  const beforeEdge = () => {
    completions.beforeEdge();
    completionData.beforeEdge();
    memWrites.beforeEdge();
    memWriteData.beforeEdge();
    dataSource.beforeEdge();
    requesters.beforeEdge();
  };
  // Done when every request reached the peer, every upstream TLP was delivered and answered (the
  // answers counted from the reference), and every tag came back.
  const upstreamCount = options.upstream.length;
  let traced = 0;
  let upDelivered = 0;
  let answersOwed = 0;
  let requestsAtPeer = 0;
  let answersAtPeer = 0;
  let peerSeen = 0;
  const quiet = () => {
    for (; traced < trace.length; traced++) {
      const entry = trace[traced];
      if (entry.dir !== "up") continue;
      const tlp = decodeTlp(Buffer.from(entry.tlp, "hex"));
      if (!isAnswerToUs(tlp, params)) upDelivered++;
      const owed = expectedLayerCompletions([tlp], params);
      answersOwed += owed.cplds.length + owed.urs.length;
    }
    for (; peerSeen < endpoint.received.length; peerSeen++) {
      const kind = endpoint.received[peerSeen].tlp.kind;
      if (kind === "Cpl" || kind === "CplD") answersAtPeer++;
      else requestsAtPeer++;
    }
    return requesters.done && requestsAtPeer === requesters.issued.length && answersAtPeer >= answersOwed
      && upDelivered >= upstreamCount && sim.peek(outstanding) === 0;
  };
  // Every edge is preceded by exactly one round of the players (each records the handshakes it
  // drives for that edge), so the stopping test is made between edges.
  const maxCycles = options.maxCycles ?? 100_000;
  const flow = { txBeats: 0, txReadyCycles: 0, readySinceFirstBeat: 0, rxBeats: 0, rxStallCycles: 0, npHeldCycles: 0 };
  const npOk = sim.signal("rx_np_ok");
  const txValid = sim.signal("s_axis_tx_tvalid");
  const rxReady = sim.signal("m_axis_rx_tready");
  const edge = () => {
    beforeEdge();
    const ports = link.ports;
    const txValidNow = sim.peek(txValid) === 1;
    if (ports.s_axis_tx_tready && (flow.txBeats > 0 || txValidNow)) flow.readySinceFirstBeat++;
    if (ports.s_axis_tx_tready && txValidNow) {
      flow.txBeats++;
      flow.txReadyCycles = flow.readySinceFirstBeat;
    }
    if (ports.m_axis_rx_tvalid) {
      if (sim.peek(rxReady)) flow.rxBeats++;
      else flow.rxStallCycles++;
    }
    if (!sim.peek(npOk)) flow.npHeldCycles++;
    bridge.step();
  };
  try {
    while (!quiet()) {
      if (link.cycle - start >= maxCycles) throw new Error(`requests unanswered or upstream TLPs undelivered after ${maxCycles} cycles`);
      edge();
    }
    for (let i = 0; i < DRAIN_CYCLES; i++) edge();
  } finally {
    linkTrace.close();
  }
  const status = Object.fromEntries(STATUS_OUTPUTS.map((name) => [name, sim.peek(sim.signal(name))])) as LayerRunResult["status"];
  return {
    issued: requesters.issued,
    peerReceived: endpoint.received.map((r) => r.tlp),
    trace,
    completions: completions.taken.map((r) => ({
      hasData: Number(r.has_data), status: Number(r.status), byteCount: Number(r.byte_count), lowerAddress: Number(r.lower_address),
      lengthDw: Number(r.length_dw), tag: Number(r.tag), completerId: Number(r.completer_id), poisoned: Number(r.poisoned),
    })),
    completionPayloads: completionData.packets,
    memWrites: memWrites.taken.map((r) => ({
      address: BigInt(r.address), lengthDw: Number(r.length_dw), firstBe: Number(r.first_be), lastBe: Number(r.last_be), poisoned: Number(r.poisoned),
    })),
    memWritePayloads: memWriteData.packets,
    status,
    expired: requesters.expired,
    tagReuse: requesters.tagReuse,
    cycles: link.cycle - start,
    txBeats: flow.txBeats,
    txReadyCycles: flow.txReadyCycles,
    rxBeats: flow.rxBeats,
    rxStallCycles: flow.rxStallCycles,
    npHeldCycles: flow.npHeldCycles,
  };
}

function isAnswerToUs(tlp: Tlp, params: TlpLayerParams): boolean {
  return (tlp.kind === "Cpl" || tlp.kind === "CplD") && tlp.requesterId === params.requesterId;
}

/** A valid/ready header port the run consumes: records the fields of every header it takes. */
class HeaderSink {
  readonly taken: Record<string, number | bigint>[] = [];
  private readonly valid: SignalHandle;
  private readonly ready: SignalHandle;
  private readonly fields: [string, SignalHandle][];

  constructor(private readonly sim: Simulator, prefix: string, fields: string[], private readonly willTake: () => boolean) {
    this.valid = sim.signal(`${prefix}_valid`);
    this.ready = sim.signal(`${prefix}_ready`);
    this.fields = fields.map((f) => [f, sim.signal(`${prefix}_${f}`)]);
  }

  beforeEdge(): void {
    const ready = this.willTake();
    this.sim.poke(this.ready, ready ? 1 : 0);
    if (!ready || !this.sim.peek(this.valid)) return;
    this.taken.push(Object.fromEntries(this.fields.map(([f, h]) => [f, h.width > 32 ? this.sim.peekBig(h) : this.sim.peek(h)])));
  }
}

/** A payload stream the run consumes: whole packets (split at tlast) as memory-order bytes. */
class PayloadSink {
  readonly packets: Uint8Array[] = [];
  private current: number[] = [];
  private readonly words = new Uint32Array(2);
  private readonly h: Record<"tdata" | "tkeep" | "tlast" | "tvalid" | "tready", SignalHandle>;

  constructor(private readonly sim: Simulator, prefix: string, private readonly willTake: () => boolean) {
    this.h = {
      tdata: sim.signal(`${prefix}_tdata`),
      tkeep: sim.signal(`${prefix}_tkeep`),
      tlast: sim.signal(`${prefix}_tlast`),
      tvalid: sim.signal(`${prefix}_tvalid`),
      tready: sim.signal(`${prefix}_tready`),
    };
  }

  beforeEdge(): void {
    const { sim, h } = this;
    const ready = this.willTake();
    sim.poke(h.tready, ready ? 1 : 0);
    if (!ready || !sim.peek(h.tvalid)) return;
    sim.peekWords(h.tdata, this.words);
    const keep = sim.peek(h.tkeep);
    if (keep !== 0xff && keep !== 0x0f) throw new Error(`${prefix(h)}: tkeep 0x${keep.toString(16)} is not DW-granular`);
    for (let i = 0; i < (keep === 0xff ? 2 : 1); i++) {
      const word = this.words[i];
      this.current.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
    }
    if (sim.peek(h.tlast)) {
      this.packets.push(Uint8Array.from(this.current));
      this.current = [];
    }
  }
}

function prefix(h: { tdata: SignalHandle }): string {
  return h.tdata.name.replace(/_tdata$/, "");
}

const NON_POSTED = new Set(["MRd", "CfgRd0", "CfgWr0", "CfgRd1", "CfgWr1"]);
/** The requesters above the layer: take a tag for each non-posted request, then hand it to its source. */
class Requesters {
  readonly issued: LayerRequest[] = [];
  readonly tagReuse: string[] = [];
  readonly expired: number[] = [];
  private next = 0;
  private readonly sources: TlpSourceDriver[];
  private readonly words = new Uint32Array(2);
  private readonly allocateValid: SignalHandle;
  private readonly allocateTag: SignalHandle;
  private readonly allocateReady: SignalHandle;
  private readonly outstandingTags = new Set<number>();
  private readonly completion: Record<string, SignalHandle> = {};
  private readonly expiredValid: SignalHandle;
  private readonly expiredTag: SignalHandle;

  constructor(private readonly sim: Simulator, private readonly options: LayerRunOptions, private readonly chance: () => boolean) {
    this.sources = Array.from({ length: options.requestSources }, (_, i) => new TlpSourceDriver(sourcePorts(sim, `req${i}`, REQUEST_FIELDS)));
    this.allocateValid = sim.signal("allocate_valid");
    this.allocateTag = sim.signal("allocate_tag");
    this.allocateReady = sim.signal("allocate_ready");
    for (const field of ["valid", "ready", "tag", "status", "has_data", "byte_count", "length_dw", "lower_address"]) {
      this.completion[field] = sim.signal(`completion_${field}`);
    }
    this.expiredValid = sim.signal("expired_valid");
    this.expiredTag = sim.signal("expired_tag");
  }

  get done(): boolean {
    return this.next === this.options.downstream.length && this.sources.every((s) => s.idle);
  }

  /**
   * Before each edge (after the consumers drove their readies): issue the next request if it may
   * go now (a non-posted one when a tag is on offer), drive the sources, and keep this side's own
   * account of the outstanding tags, to catch a tag handed out twice.
   */
  beforeEdge(): void {
    const { sim } = this;
    const request = this.options.downstream[this.next];
    let take = false;
    if (request !== undefined && this.chance()) {
      if (!NON_POSTED.has(request.kind)) {
        this.issue(request);
      } else if (sim.peek(this.allocateValid)) {
        take = true;
        const tag = sim.peek(this.allocateTag);
        if (this.outstandingTags.has(tag)) this.tagReuse.push(`tag ${tag} handed out again while outstanding`);
        this.outstandingTags.add(tag);
        this.issue({ ...request, tag });
      }
    }
    sim.poke(this.allocateReady, take ? 1 : 0);
    if (this.finalCompletionTaken()) this.outstandingTags.delete(sim.peek(this.completion.tag));
    if (sim.peek(this.expiredValid)) {
      const tag = sim.peek(this.expiredTag);
      this.expired.push(tag);
      this.outstandingTags.delete(tag);
    }
    for (const source of this.sources) {
      source.drive(sim, this.chance, this.chance, this.words);
      source.observe(sim);
    }
  }

  /** A completion is taken this edge and ends its request: an error, no data, or all the bytes still owed. */
  private finalCompletionTaken(): boolean {
    const { sim } = this;
    const c = this.completion;
    if (!sim.peek(c.valid) || !sim.peek(c.ready)) return false;
    if (sim.peek(c.status) !== 0 || !sim.peek(c.has_data)) return true;
    const owed = sim.peek(c.byte_count) || 4096;
    const carried = 4 * (sim.peek(c.length_dw) || 1024) - (sim.peek(c.lower_address) & 3);
    return owed <= carried;
  }

  private issue(request: LayerRequest): void {
    this.issued.push(request);
    this.sources[this.options.sourceOf(request)].enqueue(requestSourceTlp(request));
    this.next++;
  }
}
