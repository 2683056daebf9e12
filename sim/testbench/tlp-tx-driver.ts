// Drives the request and completion sources of a simulated `tlp_tx` design from TLP records: each
// record becomes header fields on `req<i>_*` / `cpl_*` and memory-order payload words on the
// matching `*_payload_*` stream, with optional random gaps in `valid` (once raised, a valid stays
// up until its handshake, as AXI4-Stream requires). Used by test/tlp-tx-*.test.ts and the
// sim/bench/tlp-tx.ts benchmark.
import { emitDesign } from "../../hdl/index.ts";
import { type TlpTxParams, tlpTx } from "../../rtl-src/tlp/tlp-tx.ts";
import { type SignalHandle, type Simulator, createSimulator } from "../engine/index.ts";
import { DeframeStatus, TlpDeframer } from "../pcie/axis-framing.ts";
import type { Completion, ConfigRequest, MemRequest, PcieEndpoint, Tlp } from "../pcie/tlp.ts";
import { RequestKind } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { monitorStreams } from "./stream-monitor.ts";
import { emittedSources } from "../engine/designs.ts";

export type TxRequest = MemRequest | ConfigRequest;

/** Emits `tlp_tx` with `params` and loads the Verilog into an engine, reset and ready to run. */
export async function createTlpTxSimulator(params: TlpTxParams, engine = "js"): Promise<Simulator> {
  const module = tlpTx(params);
  const { files } = emitDesign(module);
  const sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
  sim.reset(2);
  return sim;
}

/** Header field values of one TLP, keyed by the bundle's field names. */
type HeaderFields = Record<string, number | bigint>;

interface QueuedTlp {
  fields: HeaderFields;
  /** Payload DWs in memory order (little-endian value of each 4 address-ordered bytes). */
  dws: Uint32Array;
}

export interface PortHandles {
  fields: [string, SignalHandle][];
  valid: SignalHandle;
  ready: SignalHandle;
  payload: { tdata: SignalHandle; tkeep: SignalHandle; tlast: SignalHandle; tvalid: SignalHandle; tready: SignalHandle };
}

/**
 * One source: a queue of headers and the queue of payload words that go with them. A write's payload
 * is offered with its header or after it, and neither valid drops before its handshake.
 */
export class TlpSourceDriver {
  // Queues read from an index (`Array#shift` copies a long queue on every call: quadratic in a
  // long run); the taken part is dropped once it is most of the array.
  private readonly headers: HeaderFields[] = [];
  private readonly words: { lo: number; hi: number; keep: number; last: number }[] = [];
  private headerAt = 0;
  private wordAt = 0;
  headerOffered = false;
  payloadOffered = false;
  private headerShown: HeaderFields | undefined;

  constructor(readonly ports: PortHandles) {}

  enqueue(tlp: QueuedTlp): void {
    this.headers.push(tlp.fields);
    const dws = tlp.dws;
    for (let i = 0; i < dws.length; i += 2) {
      const last = i + 2 >= dws.length;
      this.words.push({ lo: dws[i], hi: i + 1 < dws.length ? dws[i + 1] : 0, keep: i + 1 < dws.length ? 0xff : 0x0f, last: last ? 1 : 0 });
    }
  }

  /** `offerHeader` / `offerPayload` are asked only while something waits that is not yet offered. */
  drive(sim: Simulator, offerHeader: () => boolean, offerPayload: () => boolean, words: Uint32Array): void {
    const head = this.headers[this.headerAt];
    this.headerOffered = head !== undefined && (this.headerOffered || offerHeader());
    if (this.headerOffered && this.headerShown !== head) {
      for (const [name, handle] of this.ports.fields) sim.poke(handle, head[name]);
      this.headerShown = head;
    }
    sim.poke(this.ports.valid, this.headerOffered ? 1 : 0);
    const word = this.words[this.wordAt];
    this.payloadOffered = word !== undefined && (this.payloadOffered || offerPayload());
    const p = this.ports.payload;
    if (this.payloadOffered) {
      words[0] = word.lo;
      words[1] = word.hi;
      sim.pokeWords(p.tdata, words);
      sim.poke(p.tkeep, word.keep);
      sim.poke(p.tlast, word.last);
    }
    sim.poke(p.tvalid, this.payloadOffered ? 1 : 0);
  }

  /** Records the handshakes of the coming edge (readies depend on registers only). */
  observe(sim: Simulator): void {
    if (this.headerOffered && sim.peek(this.ports.ready)) {
      if (++this.headerAt > 64 && 2 * this.headerAt > this.headers.length) this.headerAt = dropTaken(this.headers, this.headerAt);
      this.headerOffered = false;
    }
    if (this.payloadOffered && sim.peek(this.ports.payload.tready)) {
      if (++this.wordAt > 64 && 2 * this.wordAt > this.words.length) this.wordAt = dropTaken(this.words, this.wordAt);
      this.payloadOffered = false;
    }
  }

  get idle(): boolean {
    return this.headerAt === this.headers.length && this.wordAt === this.words.length;
  }

  /** Headers not yet taken by the design. */
  get pendingHeaders(): number {
    return this.headers.length - this.headerAt;
  }
}

/** Removes the first `taken` entries of a queue; returns the new read index (0). */
function dropTaken<T>(queue: T[], taken: number): number {
  queue.splice(0, taken);
  return 0;
}

export const REQUEST_FIELDS = ["kind", "address", "length_dw", "first_be", "last_be", "tag"];
const COMPLETION_FIELDS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"];

/** The handles of source `prefix` (`req0`, `cpl`): header `fields`, valid/ready and the payload stream. */
export function sourcePorts(sim: Simulator, prefix: string, fields: readonly string[]): PortHandles {
  return {
    fields: fields.map((f) => [f, sim.signal(`${prefix}_${f}`)]),
    valid: sim.signal(`${prefix}_valid`),
    ready: sim.signal(`${prefix}_ready`),
    payload: {
      tdata: sim.signal(`${prefix}_payload_tdata`),
      tkeep: sim.signal(`${prefix}_payload_tkeep`),
      tlast: sim.signal(`${prefix}_payload_tlast`),
      tvalid: sim.signal(`${prefix}_payload_tvalid`),
      tready: sim.signal(`${prefix}_payload_tready`),
    },
  };
}

function memoryOrderDws(data: Uint8Array | undefined): Uint32Array {
  if (!data) return new Uint32Array(0);
  if (data.length % 4 !== 0) throw new RangeError(`payload of ${data.length} bytes is not whole DWs`);
  const dws = new Uint32Array(data.length / 4);
  for (let i = 0; i < dws.length; i++) dws[i] = (data[4 * i] | (data[4 * i + 1] << 8) | (data[4 * i + 2] << 16) | (data[4 * i + 3] << 24)) >>> 0;
  return dws;
}

/** The requestHeader fields (and payload) that ask the design for `tlp`. */
export function requestSourceTlp(tlp: TxRequest): QueuedTlp {
  switch (tlp.kind) {
    case "MRd":
    case "MWr":
      return memorySourceTlp(tlp);
    default:
      return configSourceTlp(tlp);
  }
}

function memorySourceTlp(tlp: MemRequest): QueuedTlp {
  return {
    fields: {
      kind: RequestKind[tlp.kind],
      address: tlp.address,
      length_dw: tlp.lengthDw & 0x3ff,
      first_be: tlp.firstBe,
      last_be: tlp.lastBe,
      tag: tlp.tag,
    },
    dws: memoryOrderDws(tlp.data),
  };
}

/** A configuration request's address field is DW2 as PCIe lays it out. */
function configSourceTlp(tlp: ConfigRequest): QueuedTlp {
  const dw2 = ((tlp.bus << 24) | (tlp.device << 19) | (tlp.fn << 16) | tlp.register) >>> 0;
  return {
    fields: { kind: RequestKind[tlp.kind], address: BigInt(dw2), length_dw: 1, first_be: tlp.firstBe, last_be: 0, tag: tlp.tag },
    dws: memoryOrderDws(tlp.data),
  };
}

/** The completionHeader fields (and payload) that ask the design for `tlp`. */
export function completionSourceTlp(tlp: Completion): QueuedTlp {
  return {
    fields: {
      has_data: tlp.kind === "CplD" ? 1 : 0,
      status: tlp.status,
      byte_count: tlp.byteCount & 0xfff,
      lower_address: tlp.lowerAddress,
      length_dw: tlp.lengthDw & 0x3ff,
      requester_id: tlp.requesterId,
      tag: tlp.tag,
      tc: tlp.tc,
      attr: tlp.attr,
    },
    dws: memoryOrderDws(tlp.data),
  };
}

export interface TxSourcesOptions {
  /** Probability that an idle source does not start offering in a given cycle (0 = always offers). */
  gap?: number;
  random?: () => number;
}

/** The request sources `req0..req<n-1>` and the completion source of a `tlp_tx` design. */
export class TxSources {
  private readonly requests: TlpSourceDriver[];
  private readonly completion: TlpSourceDriver;
  private readonly all: TlpSourceDriver[];
  private readonly words = new Uint32Array(2);
  private readonly gap: number;
  private readonly random: () => number;
  /** Whether an idle source starts offering this cycle. */
  private readonly offer = (): boolean => this.gap === 0 || this.random() >= this.gap;

  constructor(
    readonly sim: Simulator,
    requestSources: number,
    options: TxSourcesOptions = {},
  ) {
    this.requests = Array.from({ length: requestSources }, (_, i) => new TlpSourceDriver(sourcePorts(sim, `req${i}`, REQUEST_FIELDS)));
    this.completion = new TlpSourceDriver(sourcePorts(sim, "cpl", COMPLETION_FIELDS));
    this.all = [...this.requests, this.completion];
    this.gap = options.gap ?? 0;
    this.random = options.random ?? Math.random;
  }

  request(source: number, tlp: TxRequest): void {
    const target = this.requests[source];
    if (!target) throw new RangeError(`request source ${source} does not exist (the design has ${this.requests.length})`);
    target.enqueue(requestSourceTlp(tlp));
  }

  complete(tlp: Completion): void {
    this.completion.enqueue(completionSourceTlp(tlp));
  }

  /** Headers not yet taken by the design, per request source and for completions. */
  pendingHeaders(): { requests: number[]; completions: number } {
    return { requests: this.requests.map((s) => s.pendingHeaders), completions: this.completion.pendingHeaders };
  }

  get idle(): boolean {
    return this.all.every((s) => s.idle);
  }

  /** Drive the sources for the coming clock edge and record which handshakes it completes. */
  beforeEdge(): void {
    for (const source of this.all) {
      source.drive(this.sim, this.offer, this.offer, this.words);
      source.observe(this.sim);
    }
  }
}

/** A peer that records what arrives and sends nothing back. */
export class CapturingEndpoint implements PcieEndpoint {
  readonly received: { cycle: number; tlp: Tlp }[] = [];

  receive(tlp: Tlp, cycle: number): void {
    this.received.push({ cycle, tlp });
  }

  nextUpstream(): Tlp | undefined {
    return undefined;
  }
}

/**
 * Plays the core's side of s_axis_tx without a link: drives tready as told, takes the beats,
 * deframes them into TLP bytes and counts transfers, so tests and the benchmark see the
 * interface's own capacity.
 */
export class TxPortCapture {
  readonly tlps: Uint8Array[] = [];
  /** Framing problems (tkeep, Length vs beats, tuser), by TLP. */
  readonly errors: string[] = [];
  beats = 0;
  /** Cycle of the first and of the latest transferred beat (-1 before any). */
  firstBeatCycle = -1;
  lastBeatCycle = -1;
  private cycle = 0;
  private readonly deframer = new TlpDeframer();
  private readonly words = new Uint32Array(2);
  private readonly tdata: SignalHandle;
  private readonly tkeep: SignalHandle;
  private readonly tlast: SignalHandle;
  private readonly tuser: SignalHandle;
  private readonly tvalid: SignalHandle;
  private readonly tready: SignalHandle;

  constructor(readonly sim: Simulator) {
    this.tdata = sim.signal("s_axis_tx_tdata");
    this.tkeep = sim.signal("s_axis_tx_tkeep");
    this.tlast = sim.signal("s_axis_tx_tlast");
    this.tuser = sim.signal("s_axis_tx_tuser");
    this.tvalid = sim.signal("s_axis_tx_tvalid");
    this.tready = sim.signal("s_axis_tx_tready");
  }

  /** Drive tready for the coming edge and take the beat it transfers, if any. */
  beforeEdge(ready: boolean): void {
    const sim = this.sim;
    sim.poke(this.tready, ready ? 1 : 0);
    if (ready && sim.peek(this.tvalid)) {
      sim.peekWords(this.tdata, this.words);
      const user = sim.peek(this.tuser);
      if (user !== 0) this.errors.push(`cycle ${this.cycle}: tuser 0x${user.toString(16)} on s_axis_tx, expected 0`);
      const status = this.deframer.push(this.words[0], this.words[1], sim.peek(this.tkeep), sim.peek(this.tlast) !== 0, user);
      if (status === DeframeStatus.rejected) this.errors.push(`cycle ${this.cycle}: ${this.deframer.reason}`);
      else if (status !== DeframeStatus.pending) this.tlps.push(this.deframer.tlpBytes());
      if (this.firstBeatCycle < 0) this.firstBeatCycle = this.cycle;
      this.lastBeatCycle = this.cycle;
      this.beats++;
    }
    this.cycle++;
  }
}
