// Timing diagrams drawn from simulations of the emitted Verilog (issue 10: the README shows the user
// interface with a write and a read). A recorder samples chosen signals of a Simulator before every
// clock edge; the recording becomes a WaveDrom description (a clock row, 1-bit signals as waves,
// buses as value boxes, groups, markers such as "command accepted") and that is rendered to SVG by
// the `wavedrom` package, in Node, without a browser. Stretches in which no recorded signal changes
// are drawn as a gap column (|), so a write and a read thousands of cycles apart fit on a page.
// Being recorded, a diagram cannot show a handshake the hardware does not do.
//
//   const signals = ["user_command", "user_write_data"].map((p) => streamGroup(system.sim, p));
//   const svg = timingDiagramSvg(system, signals, { cycles: 3000, drive }, {
//     markers: (r) => transferCycles(r, "user_command").map((cycle) => ({ cycle, label: "command accepted", signal: "user_command_valid" })),
//   });
import wavedrom from "wavedrom";
import type { SignalHandle, SignalInfo, Simulator } from "../sim/engine/index.ts";
import { findStreams } from "../sim/testbench/stream-monitor.ts";

/** One row of a diagram. */
export interface SignalRow {
  /** The simulator's signal name (dot-separated path below the top). */
  signal: string;
  /** Row label; default the signal name. */
  label?: string;
  /** Text of a bus value (signals wider than 1 bit); default hexadecimal, "0x1f". */
  format?: (value: bigint) => string;
  /** A 1-bit signal (a stream's valid): the row shows its value only while that is 1, else x. */
  valid?: string;
  /** With `valid`, the stream's ready: a bus starts a new box after each transfer, so equal beats stay apart. */
  ready?: string;
}

/** Rows drawn together under a name (a WaveDrom group). */
export interface SignalGroup {
  group: string;
  rows: readonly (string | SignalRow)[];
}

export type SignalList = readonly (string | SignalRow | SignalGroup)[];

/** Consecutive cycles in which no recorded signal changed. */
export interface SampleRun {
  /** sim.cycle before the first edge of the run: the run shows what edges cycle+1 .. cycle+cycles sample. */
  readonly cycle: number;
  cycles: number;
  /** One value per channel of the recording. */
  readonly values: readonly bigint[];
}

/** A row as recorded: its signal's channel, and the channels of its valid and ready. */
export interface RecordedRow {
  readonly signal: string;
  readonly label: string;
  readonly width: number;
  readonly channel: number;
  readonly validChannel?: number;
  readonly readyChannel?: number;
  readonly format: (value: bigint) => string;
}

export interface Recording {
  /** The rows and groups, in drawing order. */
  readonly layout: readonly (RecordedRow | { readonly group: string; readonly rows: readonly RecordedRow[] })[];
  /** Every sampled signal: the rows' and their valid/ready signals, each once. */
  readonly channels: readonly SignalInfo[];
  /** The samples, run-length coded; contiguous from the first recorded cycle. */
  readonly runs: readonly SampleRun[];
}

/** A labelled point of a diagram, e.g. "command accepted" at the cycle of the transfer. */
export interface Marker {
  /** The cycle (sim.cycle before its edge, as in a SampleRun); the marker points at the edge that ends it. */
  cycle: number;
  label: string;
  /** A recorded row the marker's arrow points at; without it the label stands alone above the rows. */
  signal?: string;
}

export interface DiagramOptions {
  /** Runs of more unchanged cycles than this are drawn as their first cycle, a gap (|), their last cycle. Default 6; Infinity draws every cycle. */
  idleLimit?: number;
  /** Markers, or a function choosing them from the recording (e.g. with transferCycles). */
  markers?: readonly Marker[] | ((recording: Recording) => readonly Marker[]);
  /** Title above the diagram. */
  title?: string;
  /** Cycle numbers above the columns: counted from the first recorded cycle (default), sim.cycle, or none. */
  cycleNumbers?: "relative" | "absolute" | "none";
  /** Label of the clock row (default "clk"); null draws no clock. */
  clock?: string | null;
  /** Horizontal scale (WaveDrom's hscale), default 1: one cycle is 40 px wide. */
  hscale?: number;
}

/** WaveDrom's description of a timing diagram (the subset written here). */
export interface WaveLane {
  name?: string;
  wave?: string;
  data?: string[];
  node?: string;
}
export type WaveGroup = [string, ...WaveLane[]];
export interface WaveJson {
  signal: (WaveLane | WaveGroup)[];
  edge?: string[];
  head?: { text?: string; tock?: number | string };
  config: { hscale: number };
}

/** Anything that advances a simulator: a FullSystem ({ sim, step }), or a Simulator itself. */
export interface Steppable {
  readonly sim: Simulator;
  step(cycles?: number): void;
}

/** Which cycles to record with recordWindow / timingDiagramSvg. */
export interface CycleWindow {
  /** sim.cycle at which recording starts (default: now); the cycles before it run unrecorded. */
  start?: number;
  /** Cycles to record. */
  cycles: number;
  /** Called before each recorded cycle with sim.cycle, to poke the inputs that edge will sample. */
  drive?: (cycle: number) => void;
}

const DEFAULT_IDLE_LIMIT = 6;
/** Width of one cycle in WaveDrom's default skin at hscale 1, and of a character of its 11 px labels (about). */
const COLUMN_PX = 40;
const LABEL_CHAR_PX = 6.5;
/** Node names WaveDrom does not print (it prints lower-case ones): Latin and Greek capitals. */
const NODE_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ";

/**
 * Records `signals` of `sim` before every clock edge (step, reset or port exchange: the values that
 * edge samples, inputs applied) between start() and stop(). One recorder records one stretch.
 */
export class WaveRecorder {
  private readonly layout: Recording["layout"];
  private readonly handles: SignalHandle[] = [];
  private readonly runs: SampleRun[] = [];
  private stopObserving: (() => void) | null = null;
  private used = false;

  constructor(
    private readonly sim: Simulator,
    signals: SignalList,
  ) {
    const channels = new Map<string, number>();
    const channelOf = (name: string, what: string, width?: number): number => {
      const handle = sim.signal(name); // throws with the closest names
      if (width !== undefined && handle.width !== width) throw new RangeError(`timing diagram: ${what} "${name}" is ${handle.width} bits, not ${width}`);
      let channel = channels.get(name);
      if (channel === undefined) {
        channel = this.handles.push(handle) - 1;
        channels.set(name, channel);
      }
      return channel;
    };
    const rowOf = (item: string | SignalRow): RecordedRow => {
      const row = typeof item === "string" ? { signal: item } : item;
      if (row.ready !== undefined && row.valid === undefined) throw new RangeError(`timing diagram: row "${row.signal}" has ready "${row.ready}" without a valid`);
      const channel = channelOf(row.signal, "row");
      return {
        signal: row.signal,
        label: row.label ?? row.signal,
        width: this.handles[channel].width,
        channel,
        validChannel: row.valid === undefined ? undefined : channelOf(row.valid, "valid", 1),
        readyChannel: row.ready === undefined ? undefined : channelOf(row.ready, "ready", 1),
        format: row.format ?? ((value) => `0x${value.toString(16)}`),
      };
    };
    this.layout = signals.map((item) => (typeof item === "object" && "group" in item ? { group: item.group, rows: item.rows.map(rowOf) } : rowOf(item)));
    if (this.handles.length === 0) throw new RangeError("timing diagram: the signal list is empty");
  }

  start(): this {
    if (this.used) throw new Error("timing diagram: a WaveRecorder records one stretch; make a new one");
    this.used = true;
    this.stopObserving = this.sim.beforeEdge(() => this.sample());
    return this;
  }

  stop(): Recording {
    this.stopObserving?.();
    this.stopObserving = null;
    return { layout: this.layout, channels: this.handles.map(({ name, width, direction }) => ({ name, width, direction })), runs: this.runs };
  }

  private sample(): void {
    const values = this.handles.map((handle) => this.sim.peekBig(handle));
    const last = this.runs.at(-1);
    if (last && values.every((value, i) => value === last.values[i])) last.cycles++;
    else this.runs.push({ cycle: this.sim.cycle, cycles: 1, values });
  }
}

/** Records `signals` over every edge `run` applies (a scenario that steps the simulator however it likes). */
export function recordWaves(sim: Simulator, signals: SignalList, run: () => void): Recording {
  const recorder = new WaveRecorder(sim, signals).start();
  try {
    run();
  } catch (error) {
    recorder.stop();
    throw error;
  }
  return recorder.stop();
}

/** Runs `target` to `window.start` unrecorded, then records `window.cycles` cycles, calling `window.drive` before each. */
export function recordWindow(target: Simulator | Steppable, signals: SignalList, window: CycleWindow): Recording {
  const { sim, step } = "sim" in target ? { sim: target.sim, step: (n: number) => target.step(n) } : { sim: target, step: (n: number) => target.step(n) };
  if (!Number.isInteger(window.cycles) || window.cycles < 1) throw new RangeError(`timing diagram: window.cycles ${window.cycles} is not a whole number >= 1`);
  const start = window.start ?? sim.cycle;
  if (!Number.isInteger(start) || start < sim.cycle) throw new RangeError(`timing diagram: window.start ${start} is not a cycle from now (${sim.cycle}) on`);
  if (start > sim.cycle) step(start - sim.cycle);
  return recordWaves(sim, signals, () => {
    for (let i = 0; i < window.cycles; i++) {
      window.drive?.(sim.cycle);
      step(1);
    }
  });
}

/** Records `window` of `target` and draws it: the SVG text. */
export function timingDiagramSvg(target: Simulator | Steppable, signals: SignalList, window: CycleWindow, options: DiagramOptions = {}): string {
  return renderSvg(toWaveJson(recordWindow(target, signals, window), options));
}

/** The rows of one valid/ready stream at the top of `sim` (`<prefix>_valid`/`_ready` or `_tvalid`/`_tready`), labelled by field. */
export function streamGroup(sim: Simulator, prefix: string, options: { omit?: readonly string[]; format?: Readonly<Record<string, (value: bigint) => string>> } = {}): SignalGroup {
  const stream = findStreams(sim.signals).find((s) => s.prefix === prefix);
  if (!stream) throw new RangeError(`timing diagram: ${sim.top} has no valid/ready stream "${prefix}" (it has ${findStreams(sim.signals).map((s) => s.prefix).join(", ") || "none"})`);
  const field = (name: string) => name.slice(prefix.length + 1);
  const omit = new Set(options.omit ?? []);
  for (const name of [...omit, ...Object.keys(options.format ?? {})]) {
    if (!stream.payload.some((p) => field(p.name) === name)) throw new RangeError(`timing diagram: stream "${prefix}" has no payload field "${name}"`);
  }
  const payload = stream.payload.filter((p) => !omit.has(field(p.name)));
  return {
    group: prefix,
    rows: [
      { signal: stream.valid.name, label: field(stream.valid.name) },
      { signal: stream.ready.name, label: field(stream.ready.name) },
      // 1-bit fields (tlast) stay plain waves; buses show x while valid is low.
      ...payload.map((p) => (p.width === 1 ? { signal: p.name, label: field(p.name) } : { signal: p.name, label: field(p.name), valid: stream.valid.name, ready: stream.ready.name, format: options.format?.[field(p.name)] })),
    ],
  };
}

/** Every recorded cycle in which `predicate` holds; `value(name)` is a recorded signal's value in that cycle. */
export function cyclesWhere(recording: Recording, predicate: (value: (signal: string) => bigint) => boolean): number[] {
  const channel = new Map(recording.channels.map((c, i) => [c.name, i]));
  const cycles: number[] = [];
  for (const run of recording.runs) {
    const value = (signal: string): bigint => {
      const at = channel.get(signal);
      if (at === undefined) throw new RangeError(`timing diagram: "${signal}" was not recorded (recorded: ${[...channel.keys()].join(", ")})`);
      return run.values[at];
    };
    if (predicate(value)) for (let k = 0; k < run.cycles; k++) cycles.push(run.cycle + k);
  }
  return cycles;
}

/** The cycles of a recorded stream's transfers (valid and ready both 1), optionally only those where `also` is 1 too (e.g. tlast). */
export function transferCycles(recording: Recording, prefix: string, also?: string): number[] {
  const names = new Set(recording.channels.map((c) => c.name));
  const pick = (a: string, b: string) => (names.has(`${prefix}_${a}`) ? `${prefix}_${a}` : `${prefix}_${b}`);
  const valid = pick("valid", "tvalid");
  const ready = pick("ready", "tready");
  return cyclesWhere(recording, (value) => value(valid) === 1n && value(ready) === 1n && (also === undefined || value(also) === 1n));
}

/** One column of the diagram: a cycle, or a gap standing for several unchanged ones. */
interface Column {
  cycle: number;
  cycles: number;
  gap: boolean;
  values: readonly bigint[];
}

function columnsOf(runs: readonly SampleRun[], idleLimit: number): Column[] {
  const columns: Column[] = [];
  for (const { cycle, cycles, values } of runs) {
    if (cycles > idleLimit) {
      columns.push({ cycle, cycles: 1, gap: false, values });
      columns.push({ cycle: cycle + 1, cycles: cycles - 2, gap: true, values });
      columns.push({ cycle: cycle + cycles - 1, cycles: 1, gap: false, values });
    } else {
      for (let k = 0; k < cycles; k++) columns.push({ cycle: cycle + k, cycles: 1, gap: false, values });
    }
  }
  return columns;
}

/** A row's wave: 0/1 for 1-bit signals, = boxes with labels for buses, x while its valid is low, | in gaps. */
function laneOf(row: RecordedRow, columns: readonly Column[]): WaveLane {
  let wave = "";
  const data: string[] = [];
  let previous = "";
  columns.forEach((column, i) => {
    if (column.gap) {
      wave += "|"; // a gap holds the values of the column before it
      return;
    }
    const value = column.values[row.channel];
    const shown = row.validChannel === undefined || column.values[row.validChannel] === 1n;
    const state = !shown ? "x" : row.width === 1 ? String(value) : `=${value}`;
    const before = columns[i - 1];
    const afterTransfer = row.width > 1 && row.readyChannel !== undefined && before !== undefined && before.values[row.validChannel!] === 1n && before.values[row.readyChannel] === 1n;
    if (state === previous && !afterTransfer) wave += ".";
    else if (state === "=" + value) {
      wave += "=";
      data.push(row.format(value));
    } else wave += state;
    previous = state;
  });
  return data.length > 0 ? { name: row.label, wave, data } : { name: row.label, wave };
}

/** Places marker labels in rows above the diagram so that no label overlaps another label or another marker's arrow. */
function markerRows(placed: readonly { x: number; width: number; arrow: boolean }[]): number[] {
  const rows: number[] = [];
  placed.forEach((m, i) => {
    const left = m.x - m.width / 2;
    const right = m.x + m.width / 2;
    for (let row = 0; ; row++) {
      const clash = placed.slice(0, i).some((p, j) => {
        const pLeft = p.x - p.width / 2;
        const pRight = p.x + p.width / 2;
        if (rows[j] === row) return pLeft < right + 4 && left < pRight + 4;
        if (rows[j] < row) return p.arrow && p.x > left - 2 && p.x < right + 2; // its arrow crosses this row
        return m.arrow && m.x > pLeft - 2 && m.x < pRight + 2; // this arrow crosses its label
      });
      if (!clash) {
        rows.push(row);
        return;
      }
    }
  });
  return rows;
}

/** The WaveDrom description of a recording. */
export function toWaveJson(recording: Recording, options: DiagramOptions = {}): WaveJson {
  const idleLimit = options.idleLimit ?? DEFAULT_IDLE_LIMIT;
  if (idleLimit !== Infinity && (!Number.isInteger(idleLimit) || idleLimit < 3)) throw new RangeError(`timing diagram: idleLimit ${idleLimit} is not a whole number >= 3 (or Infinity)`);
  const hscale = options.hscale ?? 1;
  if (!Number.isInteger(hscale) || hscale < 1) throw new RangeError(`timing diagram: hscale ${hscale} is not a whole number >= 1`);
  if (recording.runs.length === 0) throw new RangeError("timing diagram: the recording has no cycles");
  const columns = columnsOf(recording.runs, idleLimit);
  const rows = recording.layout.flatMap((item) => ("group" in item ? item.rows : [item]));

  // Markers: a node on their row at the edge that ends their cycle, and a label (with an arrow down to that node) above the rows.
  const markers = typeof options.markers === "function" ? options.markers(recording) : (options.markers ?? []);
  const first = recording.runs[0].cycle;
  const last = columns.at(-1)!.cycle;
  const located = markers
    .map((marker) => {
      const column = columns.findIndex((c) => marker.cycle >= c.cycle && marker.cycle < c.cycle + c.cycles);
      if (column < 0) throw new RangeError(`timing diagram: marker "${marker.label}" at cycle ${marker.cycle} is outside the recording (cycles ${first}..${last})`);
      if (marker.signal !== undefined && !rows.some((r) => r.signal === marker.signal)) throw new RangeError(`timing diagram: marker "${marker.label}" points at "${marker.signal}", which is not a row`);
      const position = column + 1;
      return { marker, position, x: position * COLUMN_PX * hscale, width: marker.label.length * LABEL_CHAR_PX + 8, arrow: marker.signal !== undefined };
    })
    .sort((a, b) => a.x - b.x);
  const nodesNeeded = located.reduce((n, m) => n + (m.arrow ? 2 : 1), 0);
  if (nodesNeeded > NODE_NAMES.length) throw new RangeError(`timing diagram: ${markers.length} markers need ${nodesNeeded} WaveDrom nodes; at most ${NODE_NAMES.length}`);
  const rowOfMarker = markerRows(located);
  const nodeLines = new Map<string, string[]>(); // lane key -> node characters by position
  const nodeAt = (key: string, position: number, name: string) => {
    const line = nodeLines.get(key) ?? Array.from({ length: columns.length + 1 }, () => ".");
    line[position] = name;
    nodeLines.set(key, line);
  };
  const edge: string[] = [];
  let names = 0;
  located.forEach((m, i) => {
    const top = NODE_NAMES[names++];
    nodeAt(`marker ${rowOfMarker[i]}`, m.position, top);
    if (m.arrow) {
      const target = NODE_NAMES[names++];
      nodeAt(`row ${m.marker.signal}`, m.position, target);
      edge.push(`${top}->${target}`);
    }
    edge.push(`${top} ${m.marker.label}`); // after the arrow, so the label's box covers the arrow's start
  });
  const withNodes = (lane: WaveLane, key: string): WaveLane => (nodeLines.has(key) ? { ...lane, node: nodeLines.get(key)!.join("") } : lane);

  const signal: (WaveLane | WaveGroup)[] = [];
  const markerRowCount = rowOfMarker.length === 0 ? 0 : Math.max(...rowOfMarker) + 1;
  for (let row = 0; row < markerRowCount; row++) signal.push({ node: nodeLines.get(`marker ${row}`)?.join("") ?? "" });
  const clock = options.clock === undefined ? "clk" : options.clock;
  if (clock !== null) signal.push({ name: clock, wave: columns.map((c, i) => (i === 0 ? "p" : c.gap ? "|" : ".")).join("") });
  const laneFor = (row: RecordedRow) => withNodes(laneOf(row, columns), `row ${row.signal}`);
  for (const item of recording.layout) signal.push("group" in item ? [item.group, ...item.rows.map(laneFor)] : laneFor(item));

  const json: WaveJson = { signal, config: { hscale } };
  if (edge.length > 0) json.edge = edge;
  const numbering = options.cycleNumbers ?? "relative";
  const offset = numbering === "absolute" ? 0 : first;
  const head: WaveJson["head"] = {};
  if (options.title !== undefined) head.text = options.title;
  if (numbering !== "none") {
    // One label per column. WaveDrom reads a list of fewer than three as "offset step", so gapless
    // diagrams give the first number; and it appends its horizontal offset ("0") to a list, so the
    // list ends with a space that makes that a label past the last column, never drawn.
    const gapless = columns.every((c) => !c.gap);
    head.tock = gapless ? columns[0].cycle - offset : `${columns.map((c) => (c.gap ? "…" : String(c.cycle - offset))).join(" ")} `;
  }
  if (Object.keys(head).length > 0) json.head = head;
  return json;
}

/** Renders a WaveDrom description to SVG text (the wavedrom package's renderer, default skin). */
export function renderSvg(json: WaveJson): string {
  // renderAny annotates the source it is given: hand it a copy.
  return wavedrom.onml.stringify(wavedrom.renderAny(0, structuredClone(json), wavedrom.waveSkin));
}
