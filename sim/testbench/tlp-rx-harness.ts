// Runs the emitted tlp_rx Verilog and watches its outputs: the consumers of the completion,
// memory-read, memory-write and UR-completion ports, each with its own `ready` pattern, recording
// every header and payload they take. The input side is either the link + hard-IP model (through
// RootPortBridge) or raw beats poked straight onto m_axis_rx (for TLPs the link model cannot carry:
// unsupported and malformed ones, or a saturated interface). Shared by test/tlp-rx-*.test.ts and
// sim/bench/tlp-rx.ts.
import { emitDesign } from "../../hdl/index.ts";
import { tlpRx, type TlpRxOptions, type TlpRxParams } from "../../rtl-src/tlp/tlp-rx.ts";
import { type SignalHandle, type Simulator, type VerilogSource, type EngineName, createSimulator } from "../engine/index.ts";
import { RootPortBridge } from "./root-port-bridge.ts";
import type { AxisBeat } from "../pcie/axis-framing.ts";
import type { LinkModel } from "../pcie/link-model.ts";
import type { ReceivedCompletionRecord, ReceivedReadRecord, ReceivedWriteRecord } from "./tlp-rx-records.ts";
import { monitorStreams } from "./stream-monitor.ts";
import { emittedSources } from "../engine/designs.ts";

export interface RxDesign {
  top: string;
  sources: VerilogSource[];
}

export function emitRxDesign(params: TlpRxParams, options: TlpRxOptions = {}): RxDesign {
  const { files, design } = emitDesign(tlpRx(params, options));
  return { top: design.top.name, sources: emittedSources(files) };
}

export async function createRxSimulator(design: RxDesign, engine: EngineName): Promise<Simulator> {
  const sim = monitorStreams(await createSimulator({ sources: design.sources, top: design.top, engine }));
  sim.reset(2);
  return sim;
}

/** What a port's consumer decides each cycle: ready or not. */
export type ReadyPattern = (cycle: number) => boolean;
export const alwaysReady: ReadyPattern = () => true;

export interface UrCompletionRecord {
  hasData: number;
  status: number;
  byteCount: number;
  lowerAddress: number;
  lengthDw: number;
  requesterId: number;
  tag: number;
  tc: number;
  attr: number;
}

/** One valid/ready header port: the fields to read when a transfer happens. */
class HeaderSink<T> {
  readonly taken: T[] = [];
  private readonly valid: SignalHandle;
  private readonly ready: SignalHandle;
  private readonly fields: [keyof T, SignalHandle][];

  constructor(
    private readonly sim: Simulator,
    prefix: string,
    fields: Record<keyof T, string>,
    private readonly pattern: ReadyPattern,
  ) {
    this.valid = sim.signal(`${prefix}_valid`);
    this.ready = sim.signal(`${prefix}_ready`);
    this.fields = (Object.entries(fields) as [keyof T, string][]).map(([key, port]) => [key, sim.signal(`${prefix}_${port}`)]);
  }

  /** Before the clock edge: drive ready and record the transfer that the edge completes. */
  sample(cycle: number): void {
    const ready = this.pattern(cycle);
    this.sim.poke(this.ready, ready ? 1 : 0);
    if (!ready || this.sim.peek(this.valid) === 0) return;
    const record = {} as T;
    for (const [key, handle] of this.fields) {
      (record as Record<keyof T, unknown>)[key] = handle.width > 32 ? this.sim.peekBig(handle) : this.sim.peek(handle);
    }
    this.taken.push(record);
  }
}

/** One payload stream: whole packets (split at tlast) as memory-order bytes. */
class PayloadSink {
  readonly packets: Uint8Array[] = [];
  /** Beats whose tkeep was neither 0xFF nor (on tlast) 0x0F. */
  readonly keepErrors: string[] = [];
  beats = 0;
  private current: number[] = [];
  private readonly words = new Uint32Array(2);
  private readonly tdata: SignalHandle;
  private readonly tkeep: SignalHandle;
  private readonly tlast: SignalHandle;
  private readonly tvalid: SignalHandle;
  private readonly tready: SignalHandle;

  constructor(
    private readonly sim: Simulator,
    prefix: string,
    private readonly pattern: ReadyPattern,
  ) {
    this.tdata = sim.signal(`${prefix}_tdata`);
    this.tkeep = sim.signal(`${prefix}_tkeep`);
    this.tlast = sim.signal(`${prefix}_tlast`);
    this.tvalid = sim.signal(`${prefix}_tvalid`);
    this.tready = sim.signal(`${prefix}_tready`);
  }

  sample(cycle: number): void {
    const ready = this.pattern(cycle);
    this.sim.poke(this.tready, ready ? 1 : 0);
    if (!ready || this.sim.peek(this.tvalid) === 0) return;
    this.beats++;
    const keep = this.sim.peek(this.tkeep);
    const last = this.sim.peek(this.tlast) === 1;
    if (keep !== 0xff && !(last && keep === 0x0f)) this.keepErrors.push(`cycle ${cycle}: tkeep 0x${keep.toString(16)}${last ? " on tlast" : ""}`);
    this.sim.peekWords(this.tdata, this.words);
    const dws = keep === 0xff ? 2 : 1;
    for (let i = 0; i < dws; i++) {
      const word = this.words[i];
      this.current.push(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
    }
    if (last) {
      this.packets.push(Uint8Array.from(this.current));
      this.current = [];
    }
  }
}

export interface RxConsumerPatterns {
  completion?: ReadyPattern;
  completionData?: ReadyPattern;
  memRead?: ReadyPattern;
  memWrite?: ReadyPattern;
  memWriteData?: ReadyPattern;
  urCompletion?: ReadyPattern;
}

export interface RxCounters {
  messages: number;
  unsupported: number;
  malformed: number;
  poisoned: number;
  unexpected: number;
}

/** The consumers of every tlp_rx output, and the design's status outputs. */
export class RxConsumers {
  readonly completions: HeaderSink<ReceivedCompletionRecord>;
  readonly completionData: PayloadSink;
  readonly memReads: HeaderSink<ReceivedReadRecord>;
  readonly memWrites: HeaderSink<ReceivedWriteRecord>;
  readonly memWriteData: PayloadSink;
  readonly urCompletions: HeaderSink<UrCompletionRecord>;
  private readonly counterHandles: Record<keyof RxCounters, SignalHandle>;

  constructor(
    readonly sim: Simulator,
    patterns: RxConsumerPatterns = {},
  ) {
    this.completions = new HeaderSink<ReceivedCompletionRecord>(sim, "completion", {
      hasData: "has_data",
      status: "status",
      byteCount: "byte_count",
      lowerAddress: "lower_address",
      lengthDw: "length_dw",
      tag: "tag",
      completerId: "completer_id",
      poisoned: "poisoned",
    }, patterns.completion ?? alwaysReady);
    this.completionData = new PayloadSink(sim, "completion_data", patterns.completionData ?? alwaysReady);
    this.memReads = new HeaderSink<ReceivedReadRecord>(sim, "mem_read", {
      address: "address",
      lengthDw: "length_dw",
      firstBe: "first_be",
      lastBe: "last_be",
      requesterId: "requester_id",
      tag: "tag",
      tc: "tc",
      attr: "attr",
    }, patterns.memRead ?? alwaysReady);
    // A parser built with memWriteRequesterId has mem_write_requester_id: recorded as requesterId.
    const writeRequesterId = sim.signals.some((s) => s.name === "mem_write_requester_id") ? { requesterId: "requester_id" } : {};
    this.memWrites = new HeaderSink<ReceivedWriteRecord>(sim, "mem_write", {
      address: "address",
      lengthDw: "length_dw",
      firstBe: "first_be",
      lastBe: "last_be",
      poisoned: "poisoned",
      ...writeRequesterId,
    } as Record<keyof ReceivedWriteRecord, string>, patterns.memWrite ?? alwaysReady);
    this.memWriteData = new PayloadSink(sim, "mem_write_data", patterns.memWriteData ?? alwaysReady);
    this.urCompletions = new HeaderSink<UrCompletionRecord>(sim, "ur_completion", {
      hasData: "has_data",
      status: "status",
      byteCount: "byte_count",
      lowerAddress: "lower_address",
      lengthDw: "length_dw",
      requesterId: "requester_id",
      tag: "tag",
      tc: "tc",
      attr: "attr",
    }, patterns.urCompletion ?? alwaysReady);
    this.counterHandles = {
      messages: sim.signal("count_messages"),
      unsupported: sim.signal("count_unsupported"),
      malformed: sim.signal("count_malformed"),
      poisoned: sim.signal("count_poisoned"),
      unexpected: sim.signal("count_unexpected"),
    };
  }

  /** Before each clock edge: every consumer drives its ready and records what it takes. */
  sample(cycle: number): void {
    this.completions.sample(cycle);
    this.completionData.sample(cycle);
    this.memReads.sample(cycle);
    this.memWrites.sample(cycle);
    this.memWriteData.sample(cycle);
    this.urCompletions.sample(cycle);
  }

  counters(): RxCounters {
    const h = this.counterHandles;
    const peek = (handle: SignalHandle) => this.sim.peek(handle);
    return { messages: peek(h.messages), unsupported: peek(h.unsupported), malformed: peek(h.malformed), poisoned: peek(h.poisoned), unexpected: peek(h.unexpected) };
  }
}

/** tlp_rx behind the link model: one step() = one clock edge of both. */
export class LinkedRx {
  readonly bridge: RootPortBridge;
  readonly consumers: RxConsumers;
  /** Cycles rx_np_ok was low. */
  npHeldCycles = 0;
  private readonly npOk: SignalHandle;

  constructor(
    readonly sim: Simulator,
    readonly link: LinkModel,
    patterns: RxConsumerPatterns = {},
  ) {
    this.bridge = new RootPortBridge(sim, link);
    this.consumers = new RxConsumers(sim, patterns);
    this.npOk = sim.signal("rx_np_ok");
  }

  step(): void {
    this.consumers.sample(this.link.cycle);
    if (this.sim.peek(this.npOk) === 0) this.npHeldCycles++;
    this.bridge.step();
  }

  runUntil(done: () => boolean, maxCycles: number, what: string): number {
    for (let n = 0; n < maxCycles; n++) {
      if (done()) return n;
      this.step();
    }
    if (done()) return maxCycles;
    throw new Error(`${what} not reached within ${maxCycles} cycles`);
  }
}

/** tlp_rx fed raw beats on m_axis_rx, one beat offered per cycle while any are queued. */
export class BeatDrivenRx {
  readonly consumers: RxConsumers;
  /** Cycles a beat was offered, and those it was taken in. */
  offeredCycles = 0;
  takenCycles = 0;
  cycle = 0;
  /** user_lnk_up as driven from the next step: while it is false no beat is offered. */
  linkUp = true;
  private readonly queue: AxisBeat[] = [];
  private head = 0;
  private readonly words = new Uint32Array(2);
  private readonly h: Record<"tdata" | "tkeep" | "tlast" | "tvalid" | "tuser" | "tready" | "user_lnk_up", SignalHandle>;

  constructor(
    readonly sim: Simulator,
    patterns: RxConsumerPatterns = {},
  ) {
    this.consumers = new RxConsumers(sim, patterns);
    this.h = {
      tdata: sim.signal("m_axis_rx_tdata"),
      tkeep: sim.signal("m_axis_rx_tkeep"),
      tlast: sim.signal("m_axis_rx_tlast"),
      tvalid: sim.signal("m_axis_rx_tvalid"),
      tuser: sim.signal("m_axis_rx_tuser"),
      tready: sim.signal("m_axis_rx_tready"),
      user_lnk_up: sim.signal("user_lnk_up"),
    };
  }

  /** The link drops: the beats still queued are lost, as the core loses the TLPs it holds. */
  dropLink(): void {
    this.linkUp = false;
    this.head = this.queue.length;
  }

  queueBeats(beats: readonly AxisBeat[]): void {
    for (const beat of beats) this.queue.push(beat);
  }

  get pendingBeats(): number {
    return this.queue.length - this.head;
  }

  step(): void {
    const sim = this.sim;
    const beat = this.linkUp && this.head < this.queue.length ? this.queue[this.head] : undefined;
    sim.poke(this.h.user_lnk_up, this.linkUp ? 1 : 0);
    if (beat) {
      this.words[0] = beat.lo;
      this.words[1] = beat.hi;
      sim.pokeWords(this.h.tdata, this.words);
      sim.poke(this.h.tkeep, beat.keep);
      sim.poke(this.h.tlast, beat.last ? 1 : 0);
      sim.poke(this.h.tuser, beat.user);
      sim.poke(this.h.tvalid, 1);
      this.offeredCycles++;
      if (sim.peek(this.h.tready) === 1) {
        this.takenCycles++;
        this.head++;
      }
    } else {
      sim.poke(this.h.tvalid, 0);
    }
    this.consumers.sample(this.cycle);
    sim.step();
    this.cycle++;
  }

  runUntilIdle(maxCycles: number, settleCycles = 20): void {
    let n = 0;
    while (this.pendingBeats > 0) {
      if (++n > maxCycles) throw new Error(`${this.pendingBeats} beats still queued after ${maxCycles} cycles`);
      this.step();
    }
    for (let i = 0; i < settleCycles; i++) this.step();
  }
}
