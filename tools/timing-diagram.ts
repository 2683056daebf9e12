// Timing diagrams drawn from simulations of the emitted Verilog (issue 10: the README shows the user
// interface with a write and a read). A recorder samples chosen signals of a Simulator before every
// clock edge; the recording becomes a WaveDrom description (a clock row, 1-bit signals as waves,
// buses as value boxes, groups, markers such as "command accepted") and that is rendered to SVG by
// the `wavedrom` package, in Node, without a browser. Stretches in which no recorded signal changes
// are drawn as a gap column (|), so a write and a read thousands of cycles apart fit on a page.
// Being recorded, a diagram cannot show a handshake the hardware does not do.
//
//   // the user interface of a full system: `drive(cycle)` pokes the user's side before each edge
//   const svg = timingDiagramSvg(system, userInterfaceSignals(system.sim), { cycles: 3000, drive }, { markers: userInterfaceMarkers, hscale: 2 });
//   // any streams, any scenario: record, then choose markers from what happened
//   const recording = recordWaves(sim, [streamGroup(sim, "s_axis"), "count"], () => scenario());
//   const json = toWaveJson(recording, { markers: transferCycles(recording, "s_axis").map((cycle) => ({ cycle, label: "in", signal: "s_axis_tvalid" })) });
//   writeFileSync("diagram.svg", renderSvg(json));
import wavedrom from "wavedrom";
import type { SignalHandle, SignalInfo, Simulator } from "../sim/engine/index.ts";
import { findStreams } from "../sim/testbench/stream-monitor.ts";
import { USER_ERROR_CLASS_NAMES, UserOpcode } from "../rtl-src/user/user-port.ts";

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
  /** Cut a bus label that is wider than its box to fit, ending it with "…" (default true); false lets it overflow. */
  fitLabels?: boolean;
  /**
   * Signals whose changes alone do not end an idle run (a burst's tdata): a burst of beats that differ
   * only there is drawn as its first beat, a gap and its last beat, each with its real values.
   */
  elide?: readonly string[];
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
/** Width of a character of the bus labels (11 pt Helvetica digits), about. */
const DATA_CHAR_PX = 8.2;
/** Node names WaveDrom does not print (it prints lower-case ones): Latin, Greek and Cyrillic capitals. */
const NODE_NAMES = "ABCDEFGHIJKLMNOPQRSTUVWXYZΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ";

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
  const sim = "sim" in target ? target.sim : target;
  const step = (cycles: number) => target.step(cycles);
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

/**
 * The rows of one valid/ready stream at the top of `sim` (`<prefix>_valid`/`_ready` or `_tvalid`/`_tready`),
 * labelled by field: valid, ready, then the payload `fields` in that order (default: all, in the simulator's order).
 */
export function streamGroup(sim: Simulator, prefix: string, options: { fields?: readonly string[]; format?: Readonly<Record<string, (value: bigint) => string>> } = {}): SignalGroup {
  const stream = findStreams(sim.signals).find((s) => s.prefix === prefix);
  if (!stream) throw new RangeError(`timing diagram: ${sim.top} has no valid/ready stream "${prefix}" (it has ${findStreams(sim.signals).map((s) => s.prefix).join(", ") || "none"})`);
  const field = (name: string) => name.slice(prefix.length + 1);
  const payload = new Map(stream.payload.map((p) => [field(p.name), p]));
  for (const name of [...(options.fields ?? []), ...Object.keys(options.format ?? {})]) {
    if (!payload.has(name)) throw new RangeError(`timing diagram: stream "${prefix}" has no payload field "${name}" (it has ${[...payload.keys()].join(", ")})`);
  }
  const shown = (options.fields ?? [...payload.keys()]).map((name) => payload.get(name)!);
  return {
    group: prefix,
    rows: [
      { signal: stream.valid.name, label: field(stream.valid.name) },
      { signal: stream.ready.name, label: field(stream.ready.name) },
      // 1-bit fields (tlast) stay plain waves; buses show x while valid is low.
      ...shown.map((p) => (p.width === 1 ? { signal: p.name, label: field(p.name) } : { signal: p.name, label: field(p.name), valid: stream.valid.name, ready: stream.ready.name, format: options.format?.[field(p.name)] })),
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

/** The stream prefixes of the controller's user interface (rtl-src/user/user-port.ts). */
export const USER_INTERFACE_STREAMS = ["user_command", "user_write_data", "user_read_data", "user_completion"] as const;

const USER_OPCODE_NAMES = new Map(Object.entries(UserOpcode).map(([name, code]) => [BigInt(code), name]));

/**
 * The user interface's streams present at the top of `sim`, as groups: the command's opcode (by name),
 * lba, block count and tag (nsid and fua left out), the data streams' tdata and tlast (and the read
 * data's tuser, the tag), the completion's tag, error class (by name) and status.
 */
export function userInterfaceSignals(sim: Simulator): SignalGroup[] {
  const present = new Set(findStreams(sim.signals).map((s) => s.prefix));
  const decimal = (value: bigint) => value.toString();
  const groups: Record<(typeof USER_INTERFACE_STREAMS)[number], () => SignalGroup> = {
    user_command: () =>
      streamGroup(sim, "user_command", { fields: ["opcode", "lba", "block_count", "tag"], format: { opcode: (v) => USER_OPCODE_NAMES.get(v) ?? decimal(v), block_count: decimal, tag: decimal } }),
    user_write_data: () => streamGroup(sim, "user_write_data", { fields: ["tdata", "tlast"] }),
    user_read_data: () => streamGroup(sim, "user_read_data", { fields: ["tdata", "tlast", "tuser"], format: { tuser: decimal } }),
    user_completion: () => streamGroup(sim, "user_completion", { fields: ["tag", "error_class", "status"], format: { tag: decimal, error_class: (v) => USER_ERROR_CLASS_NAMES[Number(v)] ?? decimal(v) } }),
  };
  const streams = USER_INTERFACE_STREAMS.filter((prefix) => present.has(prefix));
  if (streams.length === 0) throw new RangeError(`timing diagram: ${sim.top} has none of the user interface's streams (${USER_INTERFACE_STREAMS.join(", ")})`);
  return streams.map((prefix) => groups[prefix]());
}

/** Markers for a recording of userInterfaceSignals: each command accepted, each data stream's last beat, each completion. */
export function userInterfaceMarkers(recording: Recording): Marker[] {
  const recorded = new Set(recording.channels.map((c) => c.name));
  const marks = (prefix: string, valid: string, label: string, last?: string): Marker[] =>
    recorded.has(`${prefix}_${valid}`) ? transferCycles(recording, prefix, last && `${prefix}_${last}`).map((cycle) => ({ cycle, label, signal: `${prefix}_${last ?? valid}` })) : [];
  return [
    ...marks("user_command", "valid", "command accepted"),
    ...marks("user_write_data", "tvalid", "last write beat", "tlast"),
    ...marks("user_read_data", "tvalid", "last read beat", "tlast"),
    ...marks("user_completion", "valid", "completion"),
  ];
}

/** One column of the diagram: a cycle, or a gap standing for several unchanged ones. */
interface Column {
  cycle: number;
  cycles: number;
  gap: boolean;
  values: readonly bigint[];
}

/** A run of cycles drawn together, with the values of its last cycle (they differ from the first only in elided channels). */
interface MergedRun extends SampleRun {
  readonly lastValues: readonly bigint[];
  /** The runs it was made of, drawn cycle by cycle when the whole is too short for a gap. */
  readonly parts: readonly SampleRun[];
}

/** Runs that differ only in `elided` channels merged into one, so a burst can be drawn with a gap. */
function mergeElided(runs: readonly SampleRun[], elided: ReadonlySet<number>): MergedRun[] {
  const merged: MergedRun[] = [];
  for (const run of runs) {
    const previous = merged.at(-1);
    const same = previous !== undefined && elided.size > 0 && run.values.every((v, i) => elided.has(i) || v === previous.values[i]);
    if (same) merged[merged.length - 1] = { ...previous, cycles: previous.cycles + run.cycles, lastValues: run.values, parts: [...previous.parts, run] };
    else merged.push({ ...run, lastValues: run.values, parts: [run] });
  }
  return merged;
}

function columnsOf(runs: readonly MergedRun[], idleLimit: number): Column[] {
  const columns: Column[] = [];
  for (const { cycle, cycles, values, lastValues, parts } of runs) {
    if (cycles > idleLimit) {
      columns.push({ cycle, cycles: 1, gap: false, values });
      columns.push({ cycle: cycle + 1, cycles: cycles - 2, gap: true, values });
      columns.push({ cycle: cycle + cycles - 1, cycles: 1, gap: false, values: lastValues });
    } else {
      for (const part of parts) for (let k = 0; k < part.cycles; k++) columns.push({ cycle: part.cycle + k, cycles: 1, gap: false, values: part.values });
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
    else if (state.startsWith("=")) {
      wave += "=";
      data.push(row.format(value));
    } else wave += state;
    previous = state;
  });
  return data.length > 0 ? { name: row.label, wave, data } : { name: row.label, wave };
}

/** The lane with each bus label cut to the width of its box (the "=" and the columns that continue it). */
function fitLabels(lane: WaveLane, columnPx: number): WaveLane {
  if (!lane.data) return lane;
  const spans = [...lane.wave!.matchAll(/=[.|]*/g)].map((m) => m[0].length);
  const data = lane.data.map((label, i) => {
    const fits = Math.max(1, Math.floor((spans[i] * columnPx - 12) / DATA_CHAR_PX));
    return label.length <= fits ? label : `${label.slice(0, Math.max(1, fits - 1))}…`;
  });
  return { ...lane, data };
}

/** A marker's label in the rows above the diagram: its span (px), and the x of its arrow down, if any. */
interface PlacedLabel {
  left: number;
  right: number;
  arrowX?: number;
}

/**
 * The row above the diagram for each label (in the order given), the first in which it overlaps no
 * other label, crosses no arrow from a row above and puts its own arrow through no label below.
 * With labels beside their arrows, taken left to right, a fresh row always does, except for labels
 * that had to go on the other side; those take a fresh row after as many tries as there are labels.
 */
function labelRows(labels: readonly PlacedLabel[]): number[] {
  const rows: number[] = [];
  const inside = (x: number | undefined, l: PlacedLabel) => x !== undefined && x > l.left + 1 && x < l.right - 1;
  labels.forEach((m, i) => {
    let row = 0;
    for (; row < i; row++) {
      const clash = labels.slice(0, i).some((p, j) => {
        if (rows[j] === row) return p.left < m.right + 4 && m.left < p.right + 4;
        return rows[j] < row ? inside(p.arrowX, m) : inside(m.arrowX, p);
      });
      if (!clash) break;
    }
    rows.push(row);
  });
  return rows;
}

/**
 * WaveDrom nodes and edges for the markers: a node on the marker's row at the edge that ends its cycle
 * and an arrow down to it from the rows above, where the label sits beside the arrow's top (to the
 * right where it fits, else to the left) on a short leader line. Nodes with capital names, which
 * WaveDrom does not print.
 */
function markerNodes(located: readonly { label: string; position: number; signal?: string }[], columns: number, columnPx: number) {
  const needed = located.reduce((n, m) => n + (m.signal === undefined ? 1 : 3), 0);
  if (needed > NODE_NAMES.length) throw new RangeError(`timing diagram: ${located.length} markers need ${needed} WaveDrom nodes; at most ${NODE_NAMES.length}`);
  const sorted = [...located].sort((a, b) => a.position - b.position);
  const placed = sorted.map((m) => {
    const width = m.label.length * LABEL_CHAR_PX + 8;
    if (m.signal === undefined) return { m, span: 0, label: { left: m.position * columnPx - width / 2, right: m.position * columnPx + width / 2 } };
    const span = Math.ceil((width + 8) / columnPx); // columns between the arrow and the label's far end
    const toLeft = m.position + span > columns && m.position - span >= 0;
    const far = toLeft ? m.position - span : m.position + span;
    const x = m.position * columnPx;
    return { m, span: far - m.position, label: { left: Math.min(far, m.position) * columnPx, right: Math.max(far, m.position) * columnPx, arrowX: x } };
  });
  const rows = labelRows(placed.map((p) => p.label));
  const lines = new Map<string, string[]>(); // "marker <row>" or "row <signal>" -> node characters by position
  const nodeAt = (key: string, position: number, name: string) => {
    const line = lines.get(key) ?? [];
    while (line.length <= position) line.push(".");
    line[position] = name;
    lines.set(key, line);
  };
  const edge: string[] = [];
  let next = 0;
  placed.forEach(({ m, span }, i) => {
    const top = NODE_NAMES[next++];
    nodeAt(`marker ${rows[i]}`, m.position, top);
    if (m.signal === undefined) {
      edge.push(`${top} ${m.label}`);
      return;
    }
    const far = NODE_NAMES[next++];
    const target = NODE_NAMES[next++];
    nodeAt(`marker ${rows[i]}`, m.position + span, far);
    nodeAt(`row ${m.signal}`, m.position, target);
    edge.push(`${top}->${target}`, `${top}-${far} ${m.label}`); // the label sits halfway along its leader
  });
  const markerRowCount = rows.length === 0 ? 0 : Math.max(...rows) + 1;
  return {
    markerRows: Array.from({ length: markerRowCount }, (_, row) => (lines.get(`marker ${row}`) ?? []).join("")),
    nodeOf: (signal: string) => lines.get(`row ${signal}`)?.join(""),
    edge,
  };
}

/** The WaveDrom description of a recording. */
export function toWaveJson(recording: Recording, options: DiagramOptions = {}): WaveJson {
  const idleLimit = options.idleLimit ?? DEFAULT_IDLE_LIMIT;
  if (idleLimit !== Infinity && (!Number.isInteger(idleLimit) || idleLimit < 3)) throw new RangeError(`timing diagram: idleLimit ${idleLimit} is not a whole number >= 3 (or Infinity)`);
  const hscale = options.hscale ?? 1;
  if (!Number.isInteger(hscale) || hscale < 1) throw new RangeError(`timing diagram: hscale ${hscale} is not a whole number >= 1`);
  if (recording.runs.length === 0) throw new RangeError("timing diagram: the recording has no cycles");
  const elided = new Set<number>();
  for (const name of options.elide ?? []) {
    const channel = recording.channels.findIndex((c) => c.name === name);
    if (channel < 0) throw new RangeError(`timing diagram: elide names "${name}", which is not recorded`);
    elided.add(channel);
  }
  const columns = columnsOf(mergeElided(recording.runs, elided), idleLimit);
  const rows = recording.layout.flatMap((item) => ("group" in item ? item.rows : [item]));

  const markers = typeof options.markers === "function" ? options.markers(recording) : (options.markers ?? []);
  const first = recording.runs[0].cycle;
  const last = columns.at(-1)!.cycle;
  const located = markers.map((marker) => {
    const column = columns.findIndex((c) => marker.cycle >= c.cycle && marker.cycle < c.cycle + c.cycles);
    if (column < 0) throw new RangeError(`timing diagram: marker "${marker.label}" at cycle ${marker.cycle} is outside the recording (cycles ${first}..${last})`);
    if (marker.signal !== undefined && !rows.some((r) => r.signal === marker.signal)) throw new RangeError(`timing diagram: marker "${marker.label}" points at "${marker.signal}", which is not a row`);
    return { label: marker.label, signal: marker.signal, position: column + 1 }; // the edge that ends its cycle
  });
  const nodes = markerNodes(located, columns.length, COLUMN_PX * hscale);
  const withNodes = (lane: WaveLane, signal: string): WaveLane => {
    const node = nodes.nodeOf(signal);
    return node === undefined ? lane : { ...lane, node };
  };

  const signal: (WaveLane | WaveGroup)[] = nodes.markerRows.map((node) => ({ node }));
  const clock = options.clock === undefined ? "clk" : options.clock;
  if (clock !== null) signal.push({ name: clock, wave: columns.map((c, i) => (i === 0 ? "p" : c.gap ? "|" : ".")).join("") });
  const fit = options.fitLabels ?? true;
  const laneFor = (row: RecordedRow) => {
    const lane = laneOf(row, columns);
    return withNodes(fit ? fitLabels(lane, COLUMN_PX * hscale) : lane, row.signal);
  };
  for (const item of recording.layout) signal.push("group" in item ? [item.group, ...item.rows.map(laneFor)] : laneFor(item));

  const json: WaveJson = { signal, config: { hscale } };
  if (nodes.edge.length > 0) json.edge = nodes.edge;
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
