// A protocol monitor for every valid/ready stream of a simulated design. AXI4-Stream (and our own
// valid/ready bundles) require that once `valid` is high it stays high, with the payload unchanged,
// until the cycle `ready` is high too. A design or a driver that breaks this loses or duplicates
// beats in hardware even when a lenient test bench happens to cope; the monitor turns it into a
// test failure that names the stream, the field and the cycle.
import type { SignalHandle, SignalInfo, Simulator } from "../engine/index.ts";

export class StreamProtocolError extends Error {
  override name = "StreamProtocolError";
}

/** The ports of one stream at the top of a design: `<prefix>_valid`/`_ready` or `_tvalid`/`_tready`. */
export interface StreamPorts {
  prefix: string;
  valid: SignalInfo;
  ready: SignalInfo;
  /** Every other port `<prefix>_*` driven from the same side as `valid`. */
  payload: SignalInfo[];
}

/**
 * The streams among the top-level ports: each valid/ready pair of opposite directions, with its
 * payload ports. A port belongs to the stream with the longest matching prefix, so `req0_payload_*`
 * belongs to the `req0_payload` stream, not to `req0`.
 */
export function findStreams(signals: readonly SignalInfo[]): StreamPorts[] {
  const ports = signals.filter((s) => !s.name.includes(".") && s.direction !== "internal");
  const byName = new Map(ports.map((p) => [p.name, p]));
  const streams: StreamPorts[] = [];
  for (const port of ports) {
    const match = /^(.+)_(t?)valid$/.exec(port.name);
    if (!match) continue;
    const ready = byName.get(`${match[1]}_${match[2]}ready`);
    if (!ready || ready.direction === port.direction) continue;
    streams.push({ prefix: match[1], valid: port, ready, payload: [] });
  }
  const longestFirst = [...streams].sort((a, b) => b.prefix.length - a.prefix.length);
  for (const port of ports) {
    const owner = longestFirst.find((s) => port.name.startsWith(`${s.prefix}_`));
    if (!owner || port === owner.valid || port === owner.ready || port.direction !== owner.valid.direction) continue;
    owner.payload.push(port);
  }
  return streams.sort((a, b) => a.prefix.localeCompare(b.prefix));
}

const wordsOf = (width: number) => Math.ceil(width / 32);

/** Checks one stream, sampled once per cycle just before the clock edge. */
export class StreamMonitor {
  /** Handshakes seen (valid and ready high in the same cycle). */
  beats = 0;
  /** Cycles valid was high while ready was low. */
  stallCycles = 0;
  private stalledSince = -1;
  private readonly valid: SignalHandle;
  private readonly ready: SignalHandle;
  private readonly payload: { handle: SignalHandle; offset: number; words: number }[];
  private readonly held: Uint32Array;
  private readonly now: Uint32Array;

  constructor(
    private readonly sim: Simulator,
    readonly ports: StreamPorts,
  ) {
    this.valid = sim.signal(ports.valid.name);
    this.ready = sim.signal(ports.ready.name);
    let offset = 0;
    this.payload = ports.payload.map((p) => {
      const entry = { handle: sim.signal(p.name), offset, words: wordsOf(p.width) };
      offset += entry.words;
      return entry;
    });
    this.held = new Uint32Array(Math.max(offset, 1));
    this.now = new Uint32Array(Math.max(offset, 1));
  }

  /** Reads the stream's signals as the coming edge will see them and checks the rule. */
  sample(): void {
    const valid = this.sim.peek(this.valid) !== 0;
    const ready = this.sim.peek(this.ready) !== 0;
    const cycle = this.sim.cycle;
    if (this.stalledSince >= 0) {
      if (!valid) {
        throw new StreamProtocolError(
          `${this.ports.prefix}: ${this.ports.valid.name} dropped at cycle ${cycle} before ${this.ports.ready.name} (offered since cycle ${this.stalledSince})`,
        );
      }
      this.capture(this.now);
      for (const field of this.payload) {
        for (let w = field.offset; w < field.offset + field.words; w++) {
          if (this.now[w] !== this.held[w]) throw new StreamProtocolError(this.changedMessage(field.handle, field.offset, cycle));
        }
      }
    }
    if (valid && ready) this.beats++;
    if (valid && !ready) {
      this.stallCycles++;
      if (this.stalledSince < 0) {
        this.stalledSince = cycle;
        this.capture(this.held);
      }
    } else {
      this.stalledSince = -1;
    }
  }

  /** Forgets a stall in progress: reset clears every valid. */
  clear(): void {
    this.stalledSince = -1;
  }

  private capture(into: Uint32Array): void {
    for (const field of this.payload) this.sim.peekWords(field.handle, into.subarray(field.offset, field.offset + field.words));
  }

  private changedMessage(handle: SignalHandle, offset: number, cycle: number): string {
    const hex = (words: Uint32Array) => {
      const n = wordsOf(handle.width);
      let text = "";
      for (let w = offset + n - 1; w >= offset; w--) text += words[w].toString(16).padStart(8, "0");
      return `0x${text.replace(/^0+(?=.)/, "")}`;
    };
    return (
      `${this.ports.prefix}: ${handle.name} changed from ${hex(this.held)} to ${hex(this.now)} at cycle ${cycle} ` +
      `while ${this.ports.valid.name} waited for ${this.ports.ready.name} (offered since cycle ${this.stalledSince})`
    );
  }
}

export interface MonitoredSimulator extends Simulator {
  /** One monitor per stream at the top of the design, by prefix. */
  readonly streamMonitors: ReadonlyMap<string, StreamMonitor>;
}

/**
 * Puts a monitor on every stream at the top of `sim` (or only on `prefixes`): from now on each
 * clock edge `step` applies is preceded by a check of every stream, and a violation throws a
 * StreamProtocolError out of `step` (or the port exchange's cycle). `reset` clears stalls in progress; its
 * own edges are not checked.
 */
export function monitorStreams(sim: Simulator, prefixes?: readonly string[]): MonitoredSimulator {
  const streams = findStreams(sim.signals).filter((s) => !prefixes || prefixes.includes(s.prefix));
  if (prefixes) {
    const missing = prefixes.filter((p) => !streams.some((s) => s.prefix === p));
    if (missing.length > 0) throw new Error(`${sim.top} has no valid/ready stream ${missing.join(", ")}`);
  }
  const monitors = new Map(streams.map((s) => [s.prefix, new StreamMonitor(sim, s)]));
  const list = [...monitors.values()];
  // Before every edge, whoever applies it: step(), reset() or a port exchange.
  // Reset edges are not checked: reset drops every valid, stalled or not.
  let resetting = false;
  sim.beforeEdge(() => {
    if (resetting) return;
    for (const monitor of list) monitor.sample();
  });
  const reset = sim.reset.bind(sim);
  return Object.assign(sim, {
    streamMonitors: monitors,
    reset(cycles?: number): void {
      resetting = true;
      try {
        reset(cycles);
      } finally {
        resetting = false;
      }
      for (const monitor of list) monitor.clear();
    },
  });
}
