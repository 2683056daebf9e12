// Runs Verilog in Icarus Verilog under a generated testbench: per-cycle input vectors, samples of
// ports and internal signals (by hierarchical name below the DUT) every cycle, and AXI-style stream
// sources and sinks that obey valid/ready (a source holds a beat until it is taken; gaps and
// back-pressure follow given patterns). The one Icarus runner: the agreement checks of
// sim/engine/ and the tests of hdl/ and rtl-src/ use it alike.
//
// The testbench reads the top's port list from its Verilog header: `clk` is toggled and `rst`
// driven only if the top has them (a purely combinational top runs too), and every input no vector
// or stream drives is held at 0, as the engines hold an input nobody pokes. Input vectors start at
// time 0, so no input is ever x.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hasTool, missingToolMessage, runTool } from "./external.ts";

export interface VerilogText {
  fileName: string;
  text: string;
}

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
  files: readonly VerilogText[];
  top: string;
  cycles: number;
  /** Inputs driven from `vectors` (not those driven by stream sources); `rst` may be one of them. */
  inputs?: PortSpec[];
  /** vectors[k][i] is inputs[i] during cycle k after reset (vector 0 also during reset); the last vector holds after they run out. */
  vectors?: bigint[][];
  /** Output ports, or internal signals (`internal`, hierarchical name below the DUT), sampled each cycle. */
  outputs?: (PortSpec & { internal?: boolean })[];
  sources?: StreamSource[];
  sinks?: StreamSink[];
  /** Cycles with `rst` high at the start (default 2), when the top has `rst` and it is not among `inputs`. */
  resetCycles?: number;
  /** When outputs are sampled: just before the cycle's rising edge (default), or just after it (inputs of the cycle still applied). */
  sample?: "before-edge" | "after-edge";
  /** Hierarchical names of `reg`s written without an initial value (hand-written Verilog), set to 0 at time 0 as the engines do. */
  zeroAtPowerUp?: readonly PortSpec[];
  /**
   * What an x or z bit in a sample or a received beat does: "error" (default) throws, naming the
   * signal and cycle, since the DSL defines every value; "report" leaves it in `unknown`.
   */
  unknownBits?: "error" | "report";
}

export interface TestbenchResult {
  /** samples[cycle][i] is outputs[i], from the first cycle after reset; x and z bits read as 0 (see `unknownBits`). */
  samples: bigint[][];
  /** unknown[cycle][i]: the bits of samples[cycle][i] Icarus had as x or z. */
  unknown: bigint[][];
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
  const dir = mkdtempSync(join(tmpdir(), "nvme-host-icarus-"));
  try {
    const paths = run.files.map((file, i) => {
      const path = join(dir, `${i}_${file.fileName.split("/").pop()}`);
      writeFileSync(path, file.text);
      return path;
    });
    const vectorFile = join(dir, "vectors.hex");
    writeFileSync(vectorFile, vectorHex(run.inputs ?? [], run.vectors ?? []));
    writeFileSync(join(dir, "tb.v"), testbench(run, topPorts(run.files, run.top), vectorFile));
    const compile = runTool("iverilog", ["-g2005", "-o", join(dir, "sim.vvp"), "-s", "nvme_host_tb", join(dir, "tb.v"), ...paths]);
    if (compile.status !== 0) throw new Error(`iverilog failed on ${run.top}:\n${compile.output}`);
    const sim = runTool("vvp", ["-n", join(dir, "sim.vvp")], { timeoutMs: 300_000 });
    if (sim.status !== 0) throw new Error(`vvp failed on ${run.top}:\n${sim.output}`);
    return parseOutput(sim.output, run);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface TopPort extends PortSpec {
  direction: "input" | "output";
}

/** The ports of `top`, read from its ANSI-style header. */
export function topPorts(files: readonly VerilogText[], top: string): TopPort[] {
  for (const file of files) {
    const text = file.text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
    const header = new RegExp(`\\bmodule\\s+${top}\\s*(?:#\\s*\\([\\s\\S]*?\\)\\s*)?\\(([\\s\\S]*?)\\)\\s*;`).exec(text);
    if (!header) continue;
    const ports: TopPort[] = [];
    let direction: "input" | "output" = "input";
    let width = 1;
    for (const item of header[1].split(",")) {
      const m = /^\s*(?:(input|output)\s+(?:wire\s+|reg\s+)?(?:signed\s+)?(?:\[\s*(\d+)\s*:\s*(\d+)\s*\]\s*)?)?(\w+)\s*(?:=[^,]*)?$/.exec(item);
      if (!m) throw new Error(`cannot read the port list of ${top} (at "${item.trim()}")`);
      if (m[1]) {
        direction = m[1] as "input" | "output";
        width = m[2] === undefined ? 1 : Math.abs(Number(m[2]) - Number(m[3])) + 1;
      }
      ports.push({ name: m[4], width, direction });
    }
    return ports;
  }
  throw new Error(`no Verilog source defines module ${top}`);
}

/** One line per vector: the inputs concatenated, the first input most significant. */
function vectorHex(inputs: readonly PortSpec[], vectors: readonly bigint[][]): string {
  const digits = Math.ceil(Math.max(1, inputs.reduce((n, p) => n + p.width, 0)) / 4);
  const lines = vectors.map((vector) => {
    const packed = inputs.reduce((acc, p, j) => (acc << BigInt(p.width)) | (BigInt(vector[j]) & ((1n << BigInt(p.width)) - 1n)), 0n);
    return packed.toString(16).padStart(digits, "0");
  });
  return `${lines.join("\n")}\n`;
}

function testbench(run: TestbenchRun, ports: readonly TopPort[], vectorFile: string): string {
  const inputs = run.inputs ?? [];
  const vectors = run.vectors ?? [];
  const outputs = run.outputs ?? [];
  const sources = run.sources ?? [];
  const sinks = run.sinks ?? [];
  const portNames = new Set(ports.map((p) => p.name));
  const hasClock = portNames.has("clk");
  const drivesReset = portNames.has("rst") && !inputs.some((p) => p.name === "rst");
  const resetCycles = drivesReset ? (run.resetCycles ?? 2) : 0;
  const range = (width: number) => (width > 1 ? `[${width - 1}:0] ` : "");
  // The testbench's own names start with tb_, clear of the DUT's port names.
  const lines: string[] = ["`timescale 1ns/1ps", "module nvme_host_tb;", "  reg tb_clk = 1'b0;", `  reg tb_reset = 1'b${resetCycles > 0 ? 1 : 0};`, "  integer tb_cycle = 0;"];
  const connections: string[] = [];
  if (hasClock) connections.push(".clk(tb_clk)");
  if (drivesReset) connections.push(".rst(tb_reset)");
  for (const p of inputs) {
    lines.push(`  reg ${range(p.width)}${p.name} = ${p.width}'d0;`);
    connections.push(`.${p.name}(${p.name})`);
  }
  for (const p of outputs) {
    if (p.internal) continue;
    lines.push(`  wire ${range(p.width)}${p.name};`);
    connections.push(`.${p.name}(${p.name})`);
  }
  if (vectors.length > 0) {
    lines.push(`  reg ${range(inputs.reduce((s, p) => s + p.width, 0))}tb_vectors [0:${vectors.length - 1}];`);
  }
  sources.forEach((src, k) => {
    const valid = `${src.prefix}_${src.valid ?? "valid"}`;
    const ready = `${src.prefix}_${src.ready ?? "ready"}`;
    const count = Math.max(1, src.beats.length);
    lines.push(`  reg ${valid} = 0;`, `  wire ${ready};`, `  integer tb_src${k}_index = 0;`, `  reg tb_src${k}_fire = 0;`);
    for (const f of src.fields) {
      lines.push(`  reg ${range(f.width)}tb_src${k}_${f.name} [0:${count - 1}];`);
      lines.push(`  wire ${range(f.width)}${src.prefix}_${f.name} = tb_src${k}_${f.name}[tb_src${k}_index < ${count} ? tb_src${k}_index : 0];`);
      connections.push(`.${src.prefix}_${f.name}(${src.prefix}_${f.name})`);
    }
    const pattern = src.validPattern ?? [true];
    lines.push(`  reg tb_src${k}_pattern [0:${pattern.length - 1}];`);
    connections.push(`.${valid}(${valid})`, `.${ready}(${ready})`);
  });
  sinks.forEach((sink, k) => {
    const valid = `${sink.prefix}_${sink.valid ?? "valid"}`;
    const ready = `${sink.prefix}_${sink.ready ?? "ready"}`;
    const pattern = sink.readyPattern ?? [true];
    lines.push(`  wire ${valid};`, `  reg ${ready} = 0;`, `  reg tb_sink${k}_pattern [0:${pattern.length - 1}];`);
    for (const f of sink.fields) {
      lines.push(`  wire ${range(f.width)}${sink.prefix}_${f.name};`);
      connections.push(`.${sink.prefix}_${f.name}(${sink.prefix}_${f.name})`);
    }
    connections.push(`.${valid}(${valid})`, `.${ready}(${ready})`);
  });
  // Inputs nobody drives are held at 0, as on the engines.
  const connected = new Set(connections.map((c) => /^\.(\w+)\(/.exec(c)![1]));
  for (const p of ports) {
    if (p.direction !== "input" || connected.has(p.name)) continue;
    lines.push(`  wire ${range(p.width)}tb_tie_${p.name} = ${p.width}'d0;`);
    connections.push(`.${p.name}(tb_tie_${p.name})`);
  }

  lines.push(`  ${run.top} dut (`, `    ${connections.join(",\n    ")}`, "  );");

  lines.push("  initial begin");
  for (const p of run.zeroAtPowerUp ?? []) lines.push(`    dut.${p.name} = ${p.width}'d0;`);
  if (vectors.length > 0) lines.push(`    $readmemh("${vectorFile}", tb_vectors);`);
  sources.forEach((src, k) => {
    src.beats.forEach((beat, i) => src.fields.forEach((f, j) => lines.push(`    tb_src${k}_${f.name}[${i}] = 'h${beat[j].toString(16)};`)));
    if (src.beats.length === 0) src.fields.forEach((f) => lines.push(`    tb_src${k}_${f.name}[0] = 0;`));
    (src.validPattern ?? [true]).forEach((v, i) => lines.push(`    tb_src${k}_pattern[${i}] = ${v ? 1 : 0};`));
  });
  sinks.forEach((sink, k) => (sink.readyPattern ?? [true]).forEach((v, i) => lines.push(`    tb_sink${k}_pattern[${i}] = ${v ? 1 : 0};`)));
  lines.push("  end");

  // Inputs change half a cycle after the edge; outputs are sampled just before the next edge, or
  // just after it.
  const applyInputs =
    vectors.length > 0
      ? `{${inputs.map((p) => p.name).join(", ")}} = tb_vectors[tb_cycle < ${resetCycles} ? 0 : tb_cycle - ${resetCycles} < ${vectors.length} ? tb_cycle - ${resetCycles} : ${vectors.length - 1}];`
      : "";
  const names = outputs.map((p) => (p.internal ? `dut.${p.name}` : p.name));
  const display = outputs.length > 0 ? `if (tb_cycle >= ${resetCycles}) $display("C %0d${" %h".repeat(outputs.length)}", tb_cycle - ${resetCycles}, ${names.join(", ")});` : "";
  const afterEdge = run.sample === "after-edge";
  lines.push("  initial begin");
  lines.push(`    for (tb_cycle = 0; tb_cycle < ${run.cycles + resetCycles}; tb_cycle = tb_cycle + 1) begin`);
  lines.push(`      tb_reset = tb_cycle < ${resetCycles};`);
  if (applyInputs) lines.push(`      ${applyInputs}`);
  sources.forEach((src, k) => {
    const valid = `${src.prefix}_${src.valid ?? "valid"}`;
    const pattern = (src.validPattern ?? [true]).length;
    lines.push(`      if (!${valid}) ${valid} = !tb_reset && tb_src${k}_index < ${src.beats.length} && tb_src${k}_pattern[tb_cycle % ${pattern}];`);
  });
  sinks.forEach((sink, k) => {
    const ready = `${sink.prefix}_${sink.ready ?? "ready"}`;
    lines.push(`      ${ready} = !tb_reset && tb_sink${k}_pattern[tb_cycle % ${(sink.readyPattern ?? [true]).length}];`);
  });
  lines.push("      #4;");
  if (display && !afterEdge) lines.push(`      ${display}`);
  sinks.forEach((sink, k) => {
    const valid = `${sink.prefix}_${sink.valid ?? "valid"}`;
    const ready = `${sink.prefix}_${sink.ready ?? "ready"}`;
    const fields = sink.fields.map((f) => `${sink.prefix}_${f.name}`);
    lines.push(`      if (${valid} && ${ready}) $display("S ${k}${" %h".repeat(fields.length)}", ${fields.join(", ")});`);
  });
  sources.forEach((src, k) => {
    lines.push(`      tb_src${k}_fire = ${src.prefix}_${src.valid ?? "valid"} && ${src.prefix}_${src.ready ?? "ready"};`);
  });
  lines.push("      #1 tb_clk = 1;", "      #1;");
  if (display && afterEdge) lines.push(`      ${display}`);
  sources.forEach((src, k) => {
    const valid = `${src.prefix}_${src.valid ?? "valid"}`;
    lines.push(`      if (tb_src${k}_fire) begin tb_src${k}_index = tb_src${k}_index + 1; ${valid} = 0; end`);
  });
  lines.push("      #4 tb_clk = 0;");
  lines.push("    end");
  sources.forEach((_, k) => lines.push(`    $display("D ${k} %0d", tb_src${k}_index);`));
  lines.push("    $finish;", "  end", "endmodule", "");
  return lines.join("\n");
}

function parseOutput(output: string, run: TestbenchRun): TestbenchResult {
  const samples: bigint[][] = [];
  const unknown: bigint[][] = [];
  const received: Record<string, bigint[][]> = {};
  const sent: Record<string, number> = {};
  for (const sink of run.sinks ?? []) received[sink.prefix] = [];
  for (const line of output.split("\n")) {
    if (line.startsWith("C ")) {
      // A sample line: the cycle, then one field per output (thousands of lines of hundreds of fields).
      const fields = sampleFields(line);
      const cycle = Number(fields[0]);
      const values: bigint[] = new Array(fields.length - 1);
      const masks: bigint[] = new Array(fields.length - 1);
      for (let i = 1; i < fields.length; i++) {
        const f = parseHex(fields[i]);
        if (f.unknown !== 0n && run.unknownBits !== "report") {
          throw new Error(`Icarus has x/z bits (mask ${f.unknown.toString(16)}) in ${run.outputs![i - 1].name} of ${run.top} at cycle ${cycle}, where the design defines a value`);
        }
        values[i - 1] = f.value;
        masks[i - 1] = f.unknown;
      }
      samples.push(values);
      unknown.push(masks);
      continue;
    }
    const parts = line.trim().split(/\s+/);
    if (parts[0] === "S") {
      const sink = run.sinks![Number(parts[1])];
      const beat = parts.slice(2).map(parseHex);
      if (beat.some((f) => f.unknown !== 0n) && run.unknownBits !== "report") {
        throw new Error(`Icarus has x/z bits in beat ${received[sink.prefix].length} that sink ${sink.prefix} of ${run.top} received`);
      }
      received[sink.prefix].push(beat.map((f) => f.value));
    } else if (parts[0] === "D") {
      sent[run.sources![Number(parts[1])].prefix] = Number(parts[2]);
    }
  }
  if (samples.length < run.cycles && (run.outputs ?? []).length > 0) {
    throw new Error(`Icarus printed ${samples.length} cycles of samples for ${run.top}, expected ${run.cycles}:\n${output.slice(0, 2000)}`);
  }
  return { samples, unknown, received, sent };
}

/** The space-separated fields of a "C cycle value..." line after its "C ". */
function sampleFields(line: string): string[] {
  const fields: string[] = [];
  let at = 2;
  while (at < line.length) {
    let end = line.indexOf(" ", at);
    if (end < 0) end = line.length;
    if (end > at) fields.push(line.slice(at, end));
    at = end + 1;
  }
  return fields;
}

const KNOWN_HEX = /^[0-9a-f]+$/i;
/** Hex digits a double holds exactly (52 bits). */
const EXACT_HEX_DIGITS = 13;

/** A `%h` field: its value with x/z digits as 0, and the mask of x/z bits. */
function parseHex(text: string): { value: bigint; unknown: bigint } {
  // Nearly every field is all known digits: parse it whole (a per-digit loop made the parse of a
  // 3000-cycle trace take longer than Icarus took to print it).
  if (KNOWN_HEX.test(text)) return { value: text.length <= EXACT_HEX_DIGITS ? BigInt(parseInt(text, 16)) : BigInt(`0x${text}`), unknown: 0n };
  let value = 0n;
  let unknown = 0n;
  for (const ch of text) {
    const known = /[0-9a-f]/i.test(ch);
    value = (value << 4n) | (known ? BigInt(parseInt(ch, 16)) : 0n);
    unknown = (unknown << 4n) | (known ? 0n : 15n);
  }
  return { value, unknown };
}
