// A synthetic design for engine benchmarks, in the emitter's style: a pipeline of
// lanes (a data register and a valid bit each) mixing additions, rotations,
// exclusive-ors and multiplexers, with a registered output. 31 lanes of 64 bits are
// about 2 000 flip-flops.

export interface SyntheticDesign {
  top: string;
  text: string;
  flipFlops: number;
}

export function syntheticPipeline(lanes = 31, width = 64): SyntheticDesign {
  if (width < 8) throw new Error(`syntheticPipeline: lanes must be at least 8 bits wide, not ${width}`);
  const top = `synthetic_pipeline_${lanes}x${width}`;
  const W = width;
  const half = W >> 1;
  const regs: string[] = [];
  const body: string[] = [];
  for (let i = 0; i < lanes; i++) {
    regs.push(`  reg  [${W - 1}:0] lane_${i};`, `  reg  valid_${i};`);
    const prev = i === 0 ? "in_data" : `lane_${i - 1}`;
    const prevValid = i === 0 ? "in_valid" : `valid_${i - 1}`;
    const k = i % (W - 1);
    const mix = i % 3 === 0
      ? `${prev} + {lane_${i}[${k}:0], lane_${i}[${W - 1}:${k + 1}]}`
      : i % 3 === 1
        ? `(${prev} ^ (lane_${i} >> 3)) + ${W}'d${(i * 2654435761) % 251}`
        : `${prev}[0] ? (${prev} - lane_${i}) : (${prev} ^ {lane_${i}[${half - 1}:0], lane_${i}[${W - 1}:${half}]})`;
    body.push(
      "  always @(posedge clk) begin",
      "    if (rst) begin",
      `      lane_${i} <= ${W}'d0;`,
      `      valid_${i} <= 1'b0;`,
      "    end else begin",
      `      valid_${i} <= ${prevValid};`,
      `      if (${prevValid}) begin`,
      `        lane_${i} <= ${mix};`,
      "      end",
      "    end",
      "  end",
      "",
    );
  }
  const text = [
    "`default_nettype none",
    "",
    `module ${top} (`,
    "  input  wire clk,",
    "  input  wire rst,",
    `  input  wire [${W - 1}:0] in_data,`,
    "  input  wire in_valid,",
    `  output wire [${W - 1}:0] out_data,`,
    "  output wire out_valid",
    ");",
    ...regs,
    "",
    ...body,
    `  assign out_data = lane_${lanes - 1};`,
    `  assign out_valid = valid_${lanes - 1};`,
    "endmodule",
    "",
    "`default_nettype wire",
    "",
  ].join("\n");
  return { top, text, flipFlops: lanes * (W + 1) };
}
