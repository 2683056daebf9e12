import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeTlp, encodeTlp } from "../../../sim/pcie/codec.ts";
import { formatTraceLine, parseTrace, readTraceFile, teeTrace, TraceFormatError, TraceWriter, type TraceSink } from "../../../sim/pcie/trace.ts";
import type { MemRequest } from "../../../sim/pcie/tlp.ts";

const dir = mkdtempSync(join(tmpdir(), "pcie-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mrd: MemRequest = { kind: "MRd", tc: 0, attr: 0, ep: false, td: false, requesterId: 0, tag: 1, address: 0xe000_001cn, addr64: false, lengthDw: 1, firstBe: 0xf, lastBe: 0 };

describe("TLP trace (DESIGN.md contract)", () => {
  it("formats one JSON object per line with the wire bytes in hex", () => {
    expect(formatTraceLine(42, "down", encodeTlp(mrd))).toBe('{"cycle": 42, "dir": "down", "tlp": "000000010000010fe000001c"}');
    expect(JSON.parse(formatTraceLine(0, "up", new Uint8Array([0xab, 0, 0, 1])))).toEqual({ cycle: 0, dir: "up", tlp: "ab000001" });
  });

  it("writes a file that the reader turns back into the same TLPs", () => {
    const path = join(dir, "a.jsonl");
    const writer = new TraceWriter(path);
    const mwr = encodeTlp({ ...mrd, kind: "MWr", lengthDw: 2, lastBe: 0xf, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) });
    writer.write(10, "down", encodeTlp(mrd));
    writer.write(11, "up", mwr);
    writer.close();
    expect(writer.lines).toBe(2);
    expect(readFileSync(path, "utf8").split("\n")).toHaveLength(3);
    const entries = readTraceFile(path);
    expect(entries.map((e) => [e.cycle, e.dir])).toEqual([[10, "down"], [11, "up"]]);
    expect(decodeTlp(entries[0].tlp)).toEqual(mrd);
    expect(Array.from(entries[1].tlp)).toEqual(Array.from(mwr));
    expect(() => writer.write(12, "down", mwr)).toThrow(/after close/);
  });

  it("buffers large traces and flushes everything on close", () => {
    const path = join(dir, "big.jsonl");
    const writer = new TraceWriter(path);
    const bytes = encodeTlp(mrd);
    for (let i = 0; i < 5000; i++) writer.write(i, i % 2 ? "up" : "down", bytes);
    writer.close();
    const entries = readTraceFile(path);
    expect(entries).toHaveLength(5000);
    expect(entries[4999].cycle).toBe(4999);
  });

  it("sends lines to a callback", () => {
    const lines: string[] = [];
    const writer = new TraceWriter((line) => lines.push(line));
    writer.write(3, "up", encodeTlp(mrd));
    expect(lines).toEqual(['{"cycle": 3, "dir": "up", "tlp": "000000010000010fe000001c"}']);
  });

  it("tees one trace to several sinks: writes, flush and close reach each, in order", () => {
    const calls: string[] = [];
    const sink = (name: string): TraceSink => ({
      write: (cycle, dir) => calls.push(`${name} ${cycle} ${dir}`),
      flush: () => calls.push(`${name} flush`),
      close: () => calls.push(`${name} close`),
    });
    const lines: string[] = [];
    const tee = teeTrace(sink("a"), undefined, new TraceWriter((line) => lines.push(line)), sink("b"));
    tee.write(7, "down", encodeTlp(mrd));
    tee.flush?.();
    tee.close?.();
    expect(calls).toEqual(["a 7 down", "b 7 down", "a flush", "b flush", "a close", "b close"]);
    expect(lines).toEqual(['{"cycle": 7, "dir": "down", "tlp": "000000010000010fe000001c"}']);
  });

  it("refuses bad input with the source and line number", () => {
    const path = join(dir, "bad.jsonl");
    writeFileSync(path, '{"cycle": 1, "dir": "down", "tlp": "00000001"}\n\n{"cycle": 2, "dir": "sideways", "tlp": "00000001"}\n');
    expect(() => readTraceFile(path)).toThrow(`${path}:3: "dir" must be "down" or "up" (got "sideways")`);
    const cases: [string, RegExp][] = [
      ["not json", /:1: not JSON/],
      ["[1,2]", /not a JSON object/],
      ['{"cycle": -1, "dir": "up", "tlp": "00000000"}', /"cycle" must be a non-negative integer/],
      ['{"cycle": 1.5, "dir": "up", "tlp": "00000000"}', /"cycle" must be a non-negative integer/],
      ['{"cycle": 1, "dir": "up", "tlp": "000000"}', /"tlp" must be hex of whole DWs/],
      ['{"cycle": 1, "dir": "up", "tlp": "0000000g"}', /"tlp" must be hex/],
      ['{"cycle": 1, "dir": "up", "tlp": "00000000", "x": 1}', /unexpected field\(s\) x/],
    ];
    for (const [text, pattern] of cases) {
      expect(() => parseTrace(text, "t")).toThrow(TraceFormatError);
      expect(() => parseTrace(text, "t")).toThrow(pattern);
    }
    expect(() => formatTraceLine(-1, "up", new Uint8Array(4))).toThrow(/cycle -1/);
  });
});
