// `synthesize(files, top, { tree: true })`: the per-instance figures of a hierarchical synthesis,
// on a tiny design whose every module has figures known by construction: two counters, a
// register-only stage, a parity tree built of 6-input XOR submodules, LUT RAM, block RAM, a
// multiplier and a black box.
import { beforeAll, describe, expect, it } from "vitest";
import { type ResourceFigures, type SynthReport, type SynthTreeNode, formatSynthTree, synthesize } from "../../tools/synth.ts";
import type { VerilogFile } from "../../tools/lint.ts";

const MODULES: Record<string, string> = {
  counter8: `module counter8 (input wire clk, input wire en, output reg [7:0] count);
  always @(posedge clk) if (en) count <= count + 8'd1;
endmodule`,
  pipe_regs: `module pipe_regs (input wire clk, input wire [7:0] d, output reg [7:0] q);
  always @(posedge clk) q <= d;
endmodule`,
  // One LUT6 from its ports to its port: a path of exactly one level.
  xor6: `module xor6 (input wire [5:0] d, output wire y);
  assign y = ^d;
endmodule`,
  // Registers -> six xor6 instances -> one LUT6 -> a register: two levels once flattened, one
  // within parity36 itself (the instances' ports end its paths).
  parity36: `module parity36 (input wire clk, input wire [35:0] d, output reg y);
  reg [35:0] r;
  wire [5:0] part;
  xor6 part0 (.d(r[5:0]), .y(part[0]));
  xor6 part1 (.d(r[11:6]), .y(part[1]));
  xor6 part2 (.d(r[17:12]), .y(part[2]));
  xor6 part3 (.d(r[23:18]), .y(part[3]));
  xor6 part4 (.d(r[29:24]), .y(part[4]));
  xor6 part5 (.d(r[35:30]), .y(part[5]));
  always @(posedge clk) begin r <= d; y <= ^part; end
endmodule`,
  lut_ram: `module lut_ram (input wire clk, input wire we, input wire [4:0] wa, input wire [4:0] ra, input wire [7:0] wd, output reg [7:0] rd);
  reg [7:0] mem [0:31];
  always @(posedge clk) begin if (we) mem[wa] <= wd; rd <= mem[ra]; end
endmodule`,
  // 1024 x 18 bits: one RAMB18E1, half a RAMB36.
  block_ram: `module block_ram (input wire clk, input wire we, input wire [9:0] wa, input wire [9:0] ra, input wire [17:0] wd, output reg [17:0] rd);
  reg [17:0] mem [0:1023];
  always @(posedge clk) begin if (we) mem[wa] <= wd; rd <= mem[ra]; end
endmodule`,
  multiplier: `module multiplier (input wire clk, input wire [15:0] a, input wire [15:0] b, output reg [31:0] p);
  reg [15:0] ra, rb;
  always @(posedge clk) begin ra <= a; rb <= b; p <= ra * rb; end
endmodule`,
  hard_block: `(* blackbox *)
module hard_block (input wire i, output wire o);
  assign o = 1'b0;
endmodule`,
  // Not instantiated: must not appear.
  unused_block: `module unused_block (input wire clk, input wire d, output reg q);
  always @(posedge clk) q <= d;
endmodule`,
  // The top's own logic: the 16-input parity of the two counters (two levels: more than 6 inputs,
  // at most 36) and the XOR feeding the stage.
  tiny_top: `module tiny_top (input wire clk, input wire en, input wire [35:0] d, input wire we, input wire [9:0] wa, input wire [9:0] ra,
    output wire [7:0] b, output wire [7:0] q, output wire y, output wire [7:0] rd, output wire [17:0] brd, output wire [31:0] p, output wire o, output reg sum);
  wire [7:0] count_a_q;
  counter8 count_a (.clk(clk), .en(en), .count(count_a_q));
  counter8 count_b (.clk(clk), .en(count_a_q[0]), .count(b));
  pipe_regs stage (.clk(clk), .d(count_a_q ^ b), .q(q));
  parity36 parity (.clk(clk), .d(d), .y(y));
  lut_ram ram (.clk(clk), .we(we), .wa(wa[4:0]), .ra(ra[4:0]), .wd(q), .rd(rd));
  block_ram bram (.clk(clk), .we(we), .wa(wa), .ra(ra), .wd({d[9:0], q}), .rd(brd));
  multiplier mul (.clk(clk), .a({q, b}), .b(d[15:0]), .p(p));
  hard_block hard (.i(y), .o(o));
  always @(posedge clk) sum <= ^(count_a_q & b);
endmodule`,
};

const FILES: VerilogFile[] = Object.entries(MODULES).map(([moduleName, text]) => ({ fileName: `${moduleName}.v`, moduleName, text: `${text}\n` }));

const FIGURES = ["luts", "flipFlops", "blockRam36", "dsp", "lutRam"] as const;

function child(node: SynthTreeNode, instance: string): SynthTreeNode {
  const found = node.children.find((c) => c.instance === instance);
  if (!found) throw new Error(`${node.instance} has no instance ${instance}: ${node.children.map((c) => c.instance).join(", ")}`);
  return found;
}

function everyNode(node: SynthTreeNode): SynthTreeNode[] {
  return [node, ...node.children.flatMap(everyNode)];
}

describe("synthesize with { tree: true }", () => {
  let report: SynthReport;
  let tree: SynthTreeNode;
  beforeAll(async () => {
    report = await synthesize(FILES, "tiny_top", { tree: true });
    tree = report.tree!;
  }, 180_000);

  it("lists every instance by name with its module, below its parent, and nothing not instantiated", () => {
    expect(tree.instance).toBe("tiny_top");
    expect(tree.module).toBe("tiny_top");
    const modulesOf = (node: SynthTreeNode) => Object.fromEntries(node.children.map((c) => [c.instance, c.module]));
    expect(modulesOf(tree)).toEqual({
      count_a: "counter8",
      count_b: "counter8",
      stage: "pipe_regs",
      parity: "parity36",
      ram: "lut_ram",
      bram: "block_ram",
      mul: "multiplier",
      hard: "hard_block",
    });
    expect(modulesOf(child(tree, "parity"))).toEqual({ part0: "xor6", part1: "xor6", part2: "xor6", part3: "xor6", part4: "xor6", part5: "xor6" });
    expect(everyNode(tree).some((n) => n.module === "unused_block")).toBe(false);
  });

  it("adds up: every subtree is its own cells plus its children's subtrees, and the top's is the whole design", () => {
    for (const node of everyNode(tree)) {
      for (const figure of FIGURES) {
        const sum = node.children.reduce((s, c) => s + c.subtree[figure], node.own[figure]);
        expect(node.subtree[figure], `${node.instance} ${figure}`).toBe(sum);
      }
    }
    // Two counters, the stage, parity36's 36 + 1, lut_ram's read register, the top's sum register.
    expect(tree.subtree.flipFlops).toBe(8 + 8 + 8 + 37 + 8 + 1);
    expect(tree.subtree).toMatchObject({ blockRam36: 0.5, dsp: 1, lutRam: child(tree, "ram").own.lutRam });
    expect(child(tree, "parity").subtree.luts).toBe(child(tree, "parity").own.luts + 6);
    // This design leaves nothing to optimise across boundaries: both syntheses agree.
    const flattened: ResourceFigures = { luts: report.luts, flipFlops: report.flipFlops, blockRam36: report.blockRam36, dsp: report.dsp, lutRam: report.lutRam };
    expect(tree.subtree).toEqual(flattened);
  });

  it("counts each module's own cells: registers without LUTs, LUT RAM, block RAM and DSP in their own columns", () => {
    expect(child(tree, "stage").own).toEqual({ luts: 0, flipFlops: 8, blockRam36: 0, dsp: 0, lutRam: 0 });
    expect(child(tree, "count_a").own.flipFlops).toBe(8);
    expect(child(tree, "count_b").own).toEqual(child(tree, "count_a").own);
    const ram = child(tree, "ram").own;
    expect(ram.lutRam).toBeGreaterThan(0);
    expect(ram.luts).toBe(0);
    expect(child(tree, "bram").own.blockRam36).toBe(0.5);
    expect(child(tree, "mul").own.dsp).toBe(1);
    for (const part of child(tree, "parity").children) expect(part.own).toEqual({ luts: 1, flipFlops: 0, blockRam36: 0, dsp: 0, lutRam: 0 });
    expect(tree.own.flipFlops).toBe(1);
  });

  it("lists the black box with no figures and does not descend into it", () => {
    const hard = child(tree, "hard");
    expect(hard).toEqual({
      instance: "hard",
      module: "hard_block",
      blackBox: true,
      own: { luts: 0, flipFlops: 0, blockRam36: 0, dsp: 0, lutRam: 0 },
      subtree: { luts: 0, flipFlops: 0, blockRam36: 0, dsp: 0, lutRam: 0 },
      logicLevels: 0,
      children: [],
    });
    expect(everyNode(tree).filter((n) => n.blackBox).map((n) => n.instance)).toEqual(["hard"]);
    expect(report.blackBoxes).toEqual({ hard_block: 1 });
  });

  it("measures logic levels within each module, submodule ports ending a path", () => {
    const parity = child(tree, "parity");
    for (const part of parity.children) expect(part.logicLevels).toBe(1);
    expect(parity.logicLevels).toBe(1);
    expect(report.logicLevels).toBe(2);
    expect(tree.logicLevels).toBe(2);
    expect(child(tree, "stage").logicLevels).toBe(0);
  });

  it("sorts each level by subtree LUTs, most first", () => {
    for (const node of everyNode(tree)) {
      const luts = node.children.map((c) => c.subtree.luts);
      expect(luts, node.instance).toEqual([...luts].sort((a, b) => b - a));
    }
    expect(tree.children[0].instance).toBe("parity");
  });

  it("prints both totals and an indented line per instance", () => {
    const lines = formatSynthTree(report);
    const text = lines.join("\n");
    expect(text).toMatch(/totals differ from the flattened figures/);
    expect(text).toContain(`flattened:    ${report.luts} LUTs, ${report.flipFlops} FFs, 0.5 BRAM36, 1 DSP, ${report.lutRam} LUT RAM cells, 2 logic levels`);
    expect(text).toContain(`hierarchical: ${tree.subtree.luts} LUTs, ${tree.subtree.flipFlops} FFs, 0.5 BRAM36, 1 DSP`);
    const lineOf = (suffix: string) => {
      const line = lines.find((l) => l.endsWith(suffix));
      if (!line) throw new Error(`no line ends with ${suffix}:\n${text}`);
      return line;
    };
    const column = (suffix: string) => lineOf(suffix).length - suffix.length;
    expect(lineOf("tiny_top (top)")).toMatch(/^\s+\d+\s+70\s+0\.5\s+1\s+\d+\s+\d+\s+1\s+2\s+tiny_top \(top\)$/);
    expect(column("parity  parity36")).toBe(column("tiny_top (top)") + 2);
    expect(column("part3  xor6")).toBe(column("parity  parity36") + 2);
    expect(lineOf("stage  pipe_regs")).toMatch(/^\s+0\s+8\s+0\s+0\s+0\s+0\s+8\s+0\s+stage {2}pipe_regs$/);
    expect(lineOf("hard  hard_block (black box)")).toMatch(/^\s+hard {2}hard_block \(black box\)$/);
    expect(lines.findIndex((l) => l.endsWith("part5  xor6"))).toBeLessThan(lines.findIndex((l) => l.endsWith("bram  block_ram")));
  });
});
