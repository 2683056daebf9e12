// Runs emitted Verilog in Icarus Verilog through a generated testbench: per-cycle input vectors,
// per-cycle output samples, and AXI-style stream sources and sinks that obey valid/ready (a
// source holds a beat until it is taken; gaps and back-pressure follow given patterns).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VerilogFile } from "./lint.ts";
import { hasTool, missingToolMessage, runTool } from "./external.ts";

export interface PortSpec {
  name: string;
  width: number;
}

export interface StreamSource {
  /** Port names are `<prefix>_<field>`, `<prefix>_<valid>` and `<prefix>_<ready>`. */
  prefix: string;
  /** Payload fields in order, with widths. */
  fields: PortSpec[];
  beats: bigint[][];
  /** Whether the source offers a new beat on cycle n (cycled); default always. */
  validPattern?: boolean[];
  valid?: string;
  ready?: string;
}

export interface StreamSink {
  prefix: string;
  fields: PortSpec[];
  /** Whether the sink is ready on cycle n (cycled); default always. */
  readyPattern?: boolean[];
  valid?: string;
  ready?: string;
}

export interface TestbenchRun {
  files: readonly VerilogFile[];
  top: string;
  cycles: number;
  /** Inputs driven from `vectors` (not those driven by stream sources). */
  inputs?: PortSpec[];
  /** vectors[k][i] is inputs[i] during cycle k after reset (vector 0 also during reset); the last vector holds after they run out. */
  vectors?: bigint[][];
  /** Output ports, or internal signals (`internal`, hierarchical name below the DUT), sampled each cycle before the clock edge. */
  outputs?: (PortSpec & { internal?: boolean })[];
  sources?: StreamSource[];
  sinks?: StreamSink[];
  /** Cycles with `rst` high at the start (default 2); rst is driven only if the DUT has it. */
  resetCycles?: number;
  hasClock?: boolean;
}

export interface TestbenchResult {
  /** samples[cycle][i] is outputs[i], sampled after reset ends. */
  samples: bigint[][];
  /** Beats each sink received, by prefix. */
  received: Record<string, bigint[][]>;
  /** How many beats each source delivered. */
  sent: Record<string, number>;
}

export function icarusAvailable(): boolean {
  return hasTool("iverilog");
}

export function runTestbench(run: TestbenchRun): TestbenchResult {
  if (!icarusAvailable()) throw new Error(missingToolMessage("iverilog", "iverilog"));
  const dir = mkdtempSync(join(tmpdir(), "nvme-host-tb-"));
  try {
    for (const file of run.files) writeFileSync(join(dir, file.fileName), file.text);
    writeFileSync(join(dir, "tb.v"), testbench(run));
    const compile = runTool("iverilog", ["-g2005", "-o", join(dir, "sim.vvp"), "-s", "tb", join(dir, "tb.v"), ...run.files.map((f) => join(dir, f.fileName))]);
    if (compile.status !== 0) throw new Error(`iverilog failed:\n${compile.output}`);
    const sim = runTool("vvp", ["-n", join(dir, "sim.vvp")], { timeoutMs: 300_000 });
    if (sim.status !== 0) throw new Error(`vvp failed:\n${sim.output}`);
    return parseOutput(sim.output, run);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function testbench(run: TestbenchRun): string {
  const inputs = run.inputs ?? [];
  const vectors = run.vectors ?? [];
  const outputs = run.outputs ?? [];
  const sources = run.sources ?? [];
  const sinks = run.sinks ?? [];
  const resetCycles = run.resetCycles ?? 2;
  const clocked = run.hasClock ?? true;
  const lines: string[] = ["`timescale 1ns/1ps", "module tb;", "  reg clk = 0;", "  reg rst = 1;", "  integer cycle = 0;"];
  const decl = (kind: string, p: PortSpec) => `  ${kind} [${p.width - 1}:0] ${p.name};`;
  for (const p of inputs) lines.push(decl("reg", p));
  for (const p of outputs) if (!p.internal) lines.push(decl("wire", p));
  const connections: string[] = clocked ? [".clk(clk)", ".rst(rst)"] : [];
  for (const p of inputs) connections.push(`.${p.name}(${p.name})`);
  for (const p of outputs) if (!p.internal) connections.push(`.${p.name}(${p.name})`);

  if (vectors.length > 0) {
    lines.push(`  reg [${Math.max(1, inputs.reduce((s, p) => s + p.width, 0)) - 1}:0] vectors [0:${vectors.length - 1}];`);
  }
  sources.forEach((src, k) => {
    const valid = `${src.prefix}_${src.valid ?? "valid"}`;
    const ready = `${src.prefix}_${src.ready ?? "ready"}`;
    const count = Math.max(1, src.beats.length);
    lines.push(`  reg ${valid} = 0;`, `  wire ${ready};`, `  integer src${k}_index = 0;`, `  reg src${k}_fire = 0;`);
    for (const f of src.fields) {
      lines.push(`  reg [${f.width - 1}:0] src${k}_${f.name} [0:${count - 1}];`);
      lines.push(`  wire [${f.width - 1}:0] ${src.prefix}_${f.name} = src${k}_${f.name}[src${k}_index < ${count} ? src${k}_index : 0];`);
      connections.push(`.${src.prefix}_${f.name}(${src.prefix}_${f.name})`);
    }
    const pattern = src.validPattern ?? [true];
    lines.push(`  reg src${k}_pattern [0:${pattern.length - 1}];`);
    connections.push(`.${valid}(${valid})`, `.${ready}(${ready})`);
  });
  sinks.forEach((sink, k) => {
    const valid = `${sink.prefix}_${sink.valid ?? "valid"}`;
    const ready = `${sink.prefix}_${sink.ready ?? "ready"}`;
    const pattern = sink.readyPattern ?? [true];
    lines.push(`  wire ${valid};`, `  reg ${ready} = 0;`, `  reg sink${k}_pattern [0:${pattern.length - 1}];`);
    for (const f of sink.fields) {
      lines.push(`  wire [${f.width - 1}:0] ${sink.prefix}_${f.name};`);
      connections.push(`.${sink.prefix}_${f.name}(${sink.prefix}_${f.name})`);
    }
    connections.push(`.${valid}(${valid})`, `.${ready}(${ready})`);
  });

  lines.push(`  ${run.top} dut (`, `    ${connections.join(",\n    ")}`, "  );");

  lines.push("  initial begin");
  vectors.forEach((vector, i) => {
    const packed = inputs.reduce((acc, p, j) => (acc << BigInt(p.width)) | (vector[j] & ((1n << BigInt(p.width)) - 1n)), 0n);
    lines.push(`    vectors[${i}] = 'h${packed.toString(16)};`);
  });
  sources.forEach((src, k) => {
    src.beats.forEach((beat, i) => src.fields.forEach((f, j) => lines.push(`    src${k}_${f.name}[${i}] = 'h${beat[j].toString(16)};`)));
    if (src.beats.length === 0) src.fields.forEach((f) => lines.push(`    src${k}_${f.name}[0] = 0;`));
    (src.validPattern ?? [true]).forEach((v, i) => lines.push(`    src${k}_pattern[${i}] = ${v ? 1 : 0};`));
  });
  sinks.forEach((sink, k) => (sink.readyPattern ?? [true]).forEach((v, i) => lines.push(`    sink${k}_pattern[${i}] = ${v ? 1 : 0};`)));
  lines.push("  end");

  // Inputs change half a cycle after the edge; outputs are sampled just before the next edge.
  const applyInputs =
    vectors.length > 0
      ? `{${inputs.map((p) => p.name).join(", ")}} = vectors[cycle < ${resetCycles} ? 0 : cycle - ${resetCycles} < ${vectors.length} ? cycle - ${resetCycles} : ${vectors.length - 1}];`
      : "";
  lines.push("  initial begin");
  lines.push(`    for (cycle = 0; cycle < ${run.cycles + resetCycles}; cycle = cycle + 1) begin`);
  lines.push(`      rst = cycle < ${resetCycles};`);
  if (applyInputs) lines.push(`      ${applyInputs}`);
  sources.forEach((src, k) => {
    const valid = `${src.prefix}_${src.valid ?? "valid"}`;
    const pattern = (src.validPattern ?? [true]).length;
    lines.push(`      if (!${valid}) ${valid} = !rst && src${k}_index < ${src.beats.length} && src${k}_pattern[cycle % ${pattern}];`);
  });
  sinks.forEach((sink, k) => {
    const ready = `${sink.prefix}_${sink.ready ?? "ready"}`;
    lines.push(`      ${ready} = !rst && sink${k}_pattern[cycle % ${(sink.readyPattern ?? [true]).length}];`);
  });
  lines.push("      #4;");
  if (outputs.length > 0) {
    const names = outputs.map((p) => (p.internal ? `dut.${p.name}` : p.name));
    lines.push(`      if (!rst) $display("C %0d${" %h".repeat(outputs.length)}", cycle - ${resetCycles}, ${names.join(", ")});`);
  }
  sinks.forEach((sink, k) => {
    const valid = `${sink.prefix}_${sink.valid ?? "valid"}`;
    const ready = `${sink.prefix}_${sink.ready ?? "ready"}`;
    const names = sink.fields.map((f) => `${sink.prefix}_${f.name}`);
    lines.push(`      if (${valid} && ${ready}) $display("S ${k}${" %h".repeat(names.length)}", ${names.join(", ")});`);
  });
  sources.forEach((src, k) => {
    lines.push(`      src${k}_fire = ${src.prefix}_${src.valid ?? "valid"} && ${src.prefix}_${src.ready ?? "ready"};`);
  });
  lines.push("      #1 clk = 1;", "      #1;");
  sources.forEach((src, k) => {
    const valid = `${src.prefix}_${src.valid ?? "valid"}`;
    lines.push(`      if (src${k}_fire) begin src${k}_index = src${k}_index + 1; ${valid} = 0; end`);
  });
  lines.push("      #4 clk = 0;");
  lines.push("    end");
  sources.forEach((_, k) => lines.push(`    $display("D ${k} %0d", src${k}_index);`));
  lines.push("    $finish;", "  end", "endmodule", "");
  return lines.join("\n");
}

function parseOutput(output: string, run: TestbenchRun): TestbenchResult {
  const samples: bigint[][] = [];
  const received: Record<string, bigint[][]> = {};
  const sent: Record<string, number> = {};
  for (const sink of run.sinks ?? []) received[sink.prefix] = [];
  for (const line of output.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === "C") samples.push(parts.slice(2).map(parseHex));
    else if (parts[0] === "S") received[run.sinks![Number(parts[1])].prefix].push(parts.slice(2).map(parseHex));
    else if (parts[0] === "D") sent[run.sources![Number(parts[1])].prefix] = Number(parts[2]);
  }
  return { samples, received, sent };
}

/** What a sample holds when any of its bits is x or z (an unwritten memory word, say). */
export const UNKNOWN = -1n;

function parseHex(text: string): bigint {
  return /[xz]/i.test(text) ? UNKNOWN : BigInt(`0x${text}`);
}
