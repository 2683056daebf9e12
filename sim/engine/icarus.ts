// Runs a design in Icarus Verilog under a generated testbench that applies a stimulus
// and prints the observed signals (ports and internal signals, by hierarchical name)
// after every rising edge, as the engines see them.
//
// Power-up: Icarus starts registers at x, the engines at 0, as do 7-series flip-flops
// (INIT = 0). The testbench sets the given `reg` variables to 0 at time 0 (not wires:
// Icarus does not re-evaluate a released net whose inputs do not change). Memories
// without initial contents stay x (compared as anything).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PortSpec, Stimulus } from "./stimulus.ts";
import { wordsOf } from "./stimulus.ts";
import type { VerilogSource } from "./yosys.ts";

export interface IcarusTrace {
  /** Per cycle, the observed signals' words back to back. */
  values: Uint32Array;
  /** Bits Icarus reported as x or z (no defined value to compare). */
  unknown: Uint32Array;
}

export function icarusAvailable(): boolean {
  return spawnSync("iverilog", ["-V"], { encoding: "utf8" }).status === 0;
}

export function runIcarus(
  sources: readonly VerilogSource[], top: string, stim: Stimulus, observe: readonly PortSpec[], registers: readonly PortSpec[],
): IcarusTrace {
  const dir = mkdtempSync(join(tmpdir(), "nvme-host-icarus-"));
  try {
    const files = sources.map((s, i) => {
      const f = join(dir, `${i}_${s.path.split("/").pop()}`);
      writeFileSync(f, s.text);
      return f;
    });
    writeFileSync(join(dir, "stim.hex"), stimulusHex(stim));
    writeFileSync(join(dir, "tb.v"), testbench(top, stim, observe, registers, join(dir, "stim.hex")));
    const compile = spawnSync("iverilog", ["-g2005", "-o", join(dir, "tb.vvp"), "-s", "nvme_host_tb", join(dir, "tb.v"), ...files], { encoding: "utf8" });
    if (compile.status !== 0) throw new Error(`iverilog failed on ${top}:\n${compile.stderr || compile.stdout}`);
    const run = spawnSync("vvp", ["-n", join(dir, "tb.vvp")], { encoding: "utf8", maxBuffer: 1 << 30 });
    if (run.status !== 0) throw new Error(`vvp failed on ${top}:\n${run.stderr || run.stdout}`);
    return parseTrace(run.stdout, stim.cycles, observe);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per cycle: all inputs concatenated, first input least significant. */
function stimulusHex(stim: Stimulus): string {
  const lines: string[] = [];
  for (let c = 0; c < stim.cycles; c++) {
    let bits = "";
    stim.inputs.forEach((p, i) => {
      const nw = wordsOf(p.width);
      let s = "";
      for (let b = p.width - 1; b >= 0; b--) s += (stim.values[i][c * nw + (b >>> 5)] >>> (b & 31)) & 1;
      bits = s + bits;
    });
    lines.push(binaryToHex(bits));
  }
  return `${lines.join("\n")}\n`;
}

function binaryToHex(bits: string): string {
  const padded = bits.padStart(Math.ceil(bits.length / 4) * 4, "0");
  let hex = "";
  for (let i = 0; i < padded.length; i += 4) hex += parseInt(padded.slice(i, i + 4), 2).toString(16);
  return hex;
}

function testbench(top: string, stim: Stimulus, observe: readonly PortSpec[], powerUp: readonly PortSpec[], hexPath: string): string {
  const total = stim.inputs.reduce((n, p) => n + p.width, 0);
  const decl = (p: PortSpec) => (p.width > 1 ? `[${p.width - 1}:0] ` : "");
  const lines = [
    "`timescale 1ns/1ps",
    "module nvme_host_tb;",
    "  reg clk = 1'b0;",
    ...stim.inputs.map((p) => `  reg ${decl(p)}in_${p.name};`),
    `  reg [${Math.max(total, 1) - 1}:0] stimulus [0:${stim.cycles - 1}];`,
    "  integer cycle;",
    `  ${top} dut (`,
    [
      "    .clk(clk)",
      ...stim.inputs.map((p) => `    .${p.name}(in_${p.name})`),
    ].join(",\n"),
    "  );",
    "  initial begin",
    ...powerUp.map((p) => `    dut.${p.name} = ${p.width}'d0;`),
    "  end",
    "  initial begin",
    `    $readmemh("${hexPath}", stimulus);`,
    `    for (cycle = 0; cycle < ${stim.cycles}; cycle = cycle + 1) begin`,
    stim.inputs.length > 0 ? `      {${[...stim.inputs].reverse().map((p) => `in_${p.name}`).join(", ")}} = stimulus[cycle];` : "",
    "      #1 clk = 1'b1;",
    `      #1 $display("${observe.map(() => "%h").join(" ")}"${observe.map((p) => `, dut.${p.name}`).join("")});`,
    "      #1 clk = 1'b0;",
    "      #1;",
    "    end",
    "    $finish;",
    "  end",
    "endmodule",
    "",
  ];
  return lines.join("\n");
}

function parseTrace(stdout: string, cycles: number, observe: readonly PortSpec[]): IcarusTrace {
  const stride = observe.reduce((n, p) => n + wordsOf(p.width), 0);
  const values = new Uint32Array(cycles * stride);
  const unknown = new Uint32Array(cycles * stride);
  const lines = stdout.split("\n").filter((l) => /^[0-9a-fA-FxXzZ ]+$/.test(l) && l.trim() !== "");
  if (lines.length < cycles) throw new Error(`Icarus printed ${lines.length} cycles of outputs, expected ${cycles}:\n${stdout.slice(0, 2000)}`);
  for (let c = 0; c < cycles; c++) {
    const fields = lines[c].trim().split(/\s+/);
    let base = c * stride;
    observe.forEach((p, i) => {
      const digits = fields[i];
      for (let d = 0; d < digits.length; d++) {
        const nibble = digits.length - 1 - d; // least significant nibble last
        const ch = digits[d];
        const bit0 = nibble * 4;
        const known = /[0-9a-fA-F]/.test(ch);
        const v = known ? parseInt(ch, 16) : 0;
        for (let k = 0; k < 4 && bit0 + k < p.width; k++) {
          const b = bit0 + k;
          if (known) values[base + (b >>> 5)] |= ((v >>> k) & 1) << (b & 31);
          else unknown[base + (b >>> 5)] |= 1 << (b & 31);
        }
      }
      base += wordsOf(p.width);
    });
  }
  return { values, unknown };
}
