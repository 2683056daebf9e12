// AXI4-Stream-legal drivers for a design's valid/ready streams: a source that offers beats with
// random gaps (once valid is up it stays up, payload unchanged, until the handshake) and a sink
// with random back-pressure that records what it took. Call `drive()` for every stream before
// `sim.step()`, then `sim.step()`, and the handshakes that edge took are accounted in drive's
// next call (it reads valid/ready as the edge saw them).
import type { SignalHandle, Simulator } from "../engine/index.ts";
import type { StreamPorts } from "./stream-monitor.ts";

export type Beat = readonly bigint[];

export class StreamSource {
  private offered = false;
  private next = 0;
  private readonly valid: SignalHandle;
  private readonly ready: SignalHandle;
  private readonly payload: SignalHandle[];

  constructor(
    private readonly sim: Simulator,
    ports: StreamPorts,
    /** Field names of each beat, in the order of the beat's values. */
    private readonly fields: readonly string[],
    private readonly beats: readonly Beat[],
    /** Probability of offering a new beat in a cycle where none is offered. */
    private readonly offerProbability: number,
    private readonly random: () => number,
  ) {
    this.valid = sim.signal(ports.valid.name);
    this.ready = sim.signal(ports.ready.name);
    this.payload = fields.map((f) => sim.signal(`${ports.prefix}_${f}`));
  }

  get sent(): number {
    return this.next;
  }

  /** Sets this cycle's valid and payload; call before reading `ready` for the edge. */
  drive(): void {
    if (this.next >= this.beats.length) {
      this.sim.poke(this.valid, 0);
      return;
    }
    if (!this.offered && this.random() < this.offerProbability) {
      this.offered = true;
      const beat = this.beats[this.next];
      this.payload.forEach((h, i) => this.sim.poke(h, beat[i]));
    }
    this.sim.poke(this.valid, this.offered ? 1 : 0);
  }

  /** After drive(), before the edge: notes a handshake the edge will take. */
  settle(): void {
    if (this.offered && this.sim.peek(this.ready)) {
      this.offered = false;
      this.next++;
    }
  }
}

export class StreamSink {
  readonly received: bigint[][] = [];
  private willing = false;
  private readonly valid: SignalHandle;
  private readonly ready: SignalHandle;
  private readonly payload: SignalHandle[];

  constructor(
    private readonly sim: Simulator,
    ports: StreamPorts,
    fields: readonly string[],
    private readonly readyProbability: number,
    private readonly random: () => number,
  ) {
    this.valid = sim.signal(ports.valid.name);
    this.ready = sim.signal(ports.ready.name);
    this.payload = fields.map((f) => sim.signal(`${ports.prefix}_${f}`));
  }

  drive(): void {
    this.willing = this.random() < this.readyProbability;
    this.sim.poke(this.ready, this.willing ? 1 : 0);
  }

  settle(): void {
    if (this.willing && this.sim.peek(this.valid)) this.received.push(this.payload.map((h) => this.sim.peekBig(h)));
  }
}

export interface PumpOptions {
  source: { prefix: string; fields: readonly string[]; beats: readonly Beat[]; offerProbability: number };
  sink: { prefix: string; fields: readonly string[]; readyProbability: number; expectedBeats: number };
  random: () => number;
  maxCycles: number;
}

/** Streams `source.beats` into a design and collects its output until `expectedBeats` arrived or `maxCycles` passed. */
export function pumpStream(sim: Simulator, streams: readonly StreamPorts[], options: PumpOptions): { sent: number; received: bigint[][]; cycles: number } {
  const find = (prefix: string) => {
    const ports = streams.find((s) => s.prefix === prefix);
    if (!ports) throw new Error(`${sim.top} has no stream ${prefix}`);
    return ports;
  };
  const { source: src, sink: snk, random } = options;
  const source = new StreamSource(sim, find(src.prefix), src.fields, src.beats, src.offerProbability, random);
  const sink = new StreamSink(sim, find(snk.prefix), snk.fields, snk.readyProbability, random);
  let cycles = 0;
  for (; cycles < options.maxCycles && sink.received.length < snk.expectedBeats; cycles++) {
    source.drive();
    sink.drive();
    source.settle();
    sink.settle();
    sim.step();
  }
  return { sent: source.sent, received: sink.received, cycles };
}
