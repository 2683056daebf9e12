// The TLP trace of DESIGN.md "Contracts": JSON lines `{"cycle": <int>, "dir": "down"|"up", "tlp": "<hex>"}`,
// down = root complex -> SSD, hex = the TLP's wire bytes (header, payload, ECRC only when TD=1), lowercase.
// Other tools read these files, so the writer emits exactly that shape and the reader refuses anything else.

import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

export type TraceDirection = "down" | "up";

export interface TraceEntry {
  cycle: number;
  dir: TraceDirection;
  tlp: Uint8Array;
}

export class TraceFormatError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
    this.name = "TraceFormatError";
  }
}

export function formatTraceLine(cycle: number, dir: TraceDirection, tlp: Uint8Array): string {
  if (!Number.isSafeInteger(cycle) || cycle < 0) throw new RangeError(`trace cycle ${cycle} is not a non-negative integer`);
  if (dir !== "down" && dir !== "up") throw new RangeError(`trace direction ${String(dir)} is not "down" or "up"`);
  return `{"cycle": ${cycle}, "dir": "${dir}", "tlp": "${Buffer.from(tlp.buffer, tlp.byteOffset, tlp.length).toString("hex")}"}`;
}

/**
 * Anything that takes the TLPs of a run as the trace sees them (the link model's `trace` option): the
 * TraceWriter, a conformance checker (sim/testbench/tlp-conformance.ts), or several at once (teeTrace).
 */
export interface TraceSink {
  write(cycle: number, dir: TraceDirection, tlp: Uint8Array): void;
  /** Push buffered output out (a run's owner calls it when it stops). */
  flush?(): void;
  close?(): void;
}

/** One sink that hands every TLP to each of `sinks` in order (undefined ones are left out). */
export function teeTrace(...sinks: (TraceSink | undefined)[]): TraceSink {
  const targets = sinks.filter((sink): sink is TraceSink => sink !== undefined);
  return {
    write(cycle, dir, tlp) {
      for (const sink of targets) sink.write(cycle, dir, tlp);
    },
    flush() {
      for (const sink of targets) sink.flush?.();
    },
    close() {
      for (const sink of targets) sink.close?.();
    },
  };
}

/** Writes trace lines to a callback (one line, no newline) or to a file, buffering file writes. */
export class TraceWriter implements TraceSink {
  private readonly fd: number | undefined;
  private readonly sink: ((line: string) => void) | undefined;
  private pending: string[] = [];
  private pendingChars = 0;
  private closed = false;
  lines = 0;

  constructor(target: string | ((line: string) => void)) {
    if (typeof target === "string") {
      this.fd = openSync(target, "w");
    } else {
      this.sink = target;
    }
  }

  write(cycle: number, dir: TraceDirection, tlp: Uint8Array): void {
    if (this.closed) throw new Error("TraceWriter.write after close()");
    const line = formatTraceLine(cycle, dir, tlp);
    this.lines++;
    if (this.sink) {
      this.sink(line);
      return;
    }
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    if (this.pendingChars >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join("\n") + "\n");
    this.pending = [];
    this.pendingChars = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.closed = true;
  }
}

/** Parse trace text; `source` names the origin in error messages. Blank lines are allowed. */
export function parseTrace(text: string, source = "<trace>"): TraceEntry[] {
  const entries: TraceEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    entries.push(parseTraceLine(line, source, i + 1));
  }
  return entries;
}

export function readTraceFile(path: string): TraceEntry[] {
  return parseTrace(readFileSync(path, "utf8"), path);
}

export function parseTraceLine(line: string, source = "<trace>", lineNumber = 1): TraceEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new TraceFormatError(source, lineNumber, `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TraceFormatError(source, lineNumber, "not a JSON object");
  }
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => key !== "cycle" && key !== "dir" && key !== "tlp");
  if (extra.length > 0) throw new TraceFormatError(source, lineNumber, `unexpected field(s) ${extra.join(", ")}`);
  const { cycle, dir, tlp } = record;
  if (typeof cycle !== "number" || !Number.isSafeInteger(cycle) || cycle < 0) {
    throw new TraceFormatError(source, lineNumber, `"cycle" must be a non-negative integer (got ${JSON.stringify(cycle)})`);
  }
  if (dir !== "down" && dir !== "up") {
    throw new TraceFormatError(source, lineNumber, `"dir" must be "down" or "up" (got ${JSON.stringify(dir)})`);
  }
  if (typeof tlp !== "string" || !/^([0-9a-f]{8})+$/i.test(tlp)) {
    throw new TraceFormatError(source, lineNumber, `"tlp" must be hex of whole DWs (got ${JSON.stringify(tlp)})`);
  }
  return { cycle, dir, tlp: new Uint8Array(Buffer.from(tlp, "hex")) };
}
