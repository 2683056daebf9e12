// Value Change Dump writer shared by both engines, so their dumps carry the same
// names and scopes: one scope per instance (dot-separated DSL path), the top
// module as the root scope, and the clock drawn as a square wave.
import { closeSync, openSync, writeSync } from "node:fs";
import type { SignalInfo } from "./simulator.ts";

/** 250 MHz: the 7-series PCIe user clock. */
export const VCD_PERIOD_NS = 4;

export class VcdWriter {
  private readonly fd: number;
  private readonly ids: string[];
  private readonly last: Uint32Array[];
  private readonly now: Uint32Array;
  private buffer: string[] = [];
  private size = 0;
  private first = true;

  constructor(
    readonly path: string,
    top: string,
    private readonly signals: readonly SignalInfo[],
    private readonly clockIndexes: ReadonlySet<number>,
  ) {
    this.fd = openSync(path, "w");
    this.ids = signals.map((_, i) => vcdId(i));
    this.last = signals.map((s) => new Uint32Array(Math.max(1, Math.ceil(s.width / 32))));
    this.now = new Uint32Array(signals.reduce((n, s) => Math.max(n, Math.ceil(s.width / 32)), 1));
    this.write(header(top, signals, this.ids));
  }

  /** Records every signal at `timeNs`; `clock` overrides the value of the clock and its aliases. */
  sample(timeNs: number, clock: 0 | 1, read: (index: number, out: Uint32Array) => void): void {
    this.write(`#${timeNs}\n`);
    if (this.first) this.write("$dumpvars\n");
    for (let i = 0; i < this.signals.length; i++) {
      const width = this.signals[i].width;
      const words = this.last[i].length;
      if (this.clockIndexes.has(i)) {
        this.now[0] = clock;
      } else {
        this.now.fill(0, 0, words);
        read(i, this.now);
      }
      let changed = this.first;
      for (let w = 0; w < words && !changed; w++) changed = this.now[w] !== this.last[i][w];
      if (!changed) continue;
      for (let w = 0; w < words; w++) this.last[i][w] = this.now[w];
      this.write(width === 1 ? `${this.now[0] & 1}${this.ids[i]}\n` : `b${binary(this.now, width)} ${this.ids[i]}\n`);
    }
    if (this.first) this.write("$end\n");
    this.first = false;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private write(text: string): void {
    this.buffer.push(text);
    this.size += text.length;
    if (this.size > 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.buffer.length) writeSync(this.fd, this.buffer.join(""));
    this.buffer = [];
    this.size = 0;
  }
}

function vcdId(i: number): string {
  let id = "";
  do {
    id += String.fromCharCode(33 + (i % 94));
    i = Math.floor(i / 94);
  } while (i > 0);
  return id;
}

function binary(words: Uint32Array, width: number): string {
  let s = "";
  for (let b = width - 1; b >= 0; b--) s += (words[b >>> 5] >>> (b & 31)) & 1;
  return s.replace(/^0+(?=.)/, "");
}

function header(top: string, signals: readonly SignalInfo[], ids: string[]): string {
  const lines = [
    "$version nvme-host sim/engine $end",
    "$timescale 1ns $end",
    `$scope module ${top} $end`,
  ];
  const order = signals.map((s, i) => ({ path: s.name.split("."), i })).sort((a, b) => compareScopes(a.path, b.path));
  let open: string[] = [];
  for (const { path, i } of order) {
    const scope = path.slice(0, -1);
    let common = 0;
    while (common < open.length && common < scope.length && open[common] === scope[common]) common++;
    for (let k = open.length; k > common; k--) lines.push("$upscope $end");
    for (let k = common; k < scope.length; k++) lines.push(`$scope module ${scope[k]} $end`);
    open = scope;
    const s = signals[i];
    lines.push(`$var wire ${s.width} ${ids[i]} ${path[path.length - 1]}${s.width > 1 ? ` [${s.width - 1}:0]` : ""} $end`);
  }
  for (let k = open.length; k > 0; k--) lines.push("$upscope $end");
  lines.push("$upscope $end", "$enddefinitions $end", "");
  return lines.join("\n");
}

/** Signals of a scope first, then its sub-scopes, each group by name. */
function compareScopes(a: string[], b: string[]): number {
  for (let k = 0; k < Math.min(a.length, b.length); k++) {
    const aLeaf = k === a.length - 1, bLeaf = k === b.length - 1;
    if (aLeaf !== bLeaf) return aLeaf ? -1 : 1;
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  return a.length - b.length;
}
