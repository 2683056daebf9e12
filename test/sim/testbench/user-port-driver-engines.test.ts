// The user-port driver on the simulation engines: the same peek-before-poke timing against emitted-
// style Verilog (a one-command-at-a-time stand-in with registered outputs and no media: writes take
// their data, reads return zeroes), with the stream monitors watching the driver's side of every
// valid/ready port. A workload of writes to one region and reads of a never-written one passes; a read
// of the written region is caught (the stand-in returns zeroes where the pattern belongs).
import { describe, expect, it } from "vitest";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { UserOpcode, type UserCommand } from "../../../sim/testbench/user-command.ts";
import { UserPortDriver, type UserPortSystem } from "../../../sim/testbench/user-port-driver.ts";
import type { FullSystem } from "../../../sim/system/full-system.ts";

// Compile-time: the driver takes a FullSystem as it is.
export const fullSystemFits: (system: FullSystem) => UserPortSystem = (system) => system;

const STAND_IN = `
// A one-command-at-a-time stand-in for the controller's user ports, with no media: writes take their
// data and complete, reads return zeroes. Every output is a register.
module user_port_echo (
  input clk,
  input rst,
  input [2:0] user_command_opcode,
  input [31:0] user_command_nsid,
  input [63:0] user_command_lba,
  input [31:0] user_command_block_count,
  input [7:0] user_command_tag,
  input user_command_fua,
  input user_command_atomic,
  input user_command_valid,
  output reg user_command_ready = 1'b0,
  input [63:0] user_write_data_tdata,
  input [7:0] user_write_data_tkeep,
  input user_write_data_tlast,
  input user_write_data_tvalid,
  output reg user_write_data_tready = 1'b0,
  output reg [63:0] user_read_data_tdata = 64'd0,
  output reg [7:0] user_read_data_tkeep = 8'hff,
  output reg user_read_data_tlast = 1'b0,
  output reg [7:0] user_read_data_tuser = 8'd0,
  output reg user_read_data_tvalid = 1'b0,
  input user_read_data_tready,
  output reg [7:0] user_completion_tag = 8'd0,
  output reg [3:0] user_completion_error_class = 4'd0,
  output reg [14:0] user_completion_status = 15'd0,
  output reg user_completion_valid = 1'b0,
  input user_completion_ready
);
  localparam IDLE = 2'd0, WRITE = 2'd1, READ = 2'd2, DONE = 2'd3;
  reg [1:0] state = IDLE;
  reg [37:0] beats = 38'd0; // beats left: block_count x 64 (512-byte blocks)
  always @(posedge clk) begin
    if (rst) begin
      state <= IDLE;
      user_command_ready <= 1'b0;
      user_write_data_tready <= 1'b0;
      user_read_data_tvalid <= 1'b0;
      user_completion_valid <= 1'b0;
    end else begin
      case (state)
        IDLE: begin
          user_command_ready <= 1'b1;
          if (user_command_valid && user_command_ready) begin
            user_command_ready <= 1'b0;
            user_completion_tag <= user_command_tag;
            user_read_data_tuser <= user_command_tag;
            beats <= {user_command_block_count, 6'd0};
            if (user_command_opcode == 3'd1) begin
              state <= WRITE;
              user_write_data_tready <= 1'b1;
            end else if (user_command_opcode == 3'd0) begin
              state <= READ;
              user_read_data_tvalid <= 1'b1;
              user_read_data_tlast <= 1'b0;
            end else begin
              state <= DONE;
              user_completion_valid <= 1'b1;
            end
          end
        end
        WRITE: if (user_write_data_tvalid && user_write_data_tready) begin
          beats <= beats - 38'd1;
          if (beats == 38'd1) begin
            user_write_data_tready <= 1'b0;
            state <= DONE;
            user_completion_valid <= 1'b1;
          end
        end
        READ: if (user_read_data_tvalid && user_read_data_tready) begin
          beats <= beats - 38'd1;
          user_read_data_tlast <= beats == 38'd2;
          if (beats == 38'd1) begin
            user_read_data_tvalid <= 1'b0;
            state <= DONE;
            user_completion_valid <= 1'b1;
          end
        end
        DONE: if (user_completion_valid && user_completion_ready) begin
          user_completion_valid <= 1'b0;
          state <= IDLE;
        end
      endcase
    end
  end
endmodule
`;

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

async function standIn(engine: EngineName): Promise<UserPortSystem> {
  const sim = monitorStreams(await createSimulator({ sources: [{ path: "user_port_echo.v", text: STAND_IN }], top: "user_port_echo", engine }));
  sim.reset(2);
  return { sim, get cycle() { return sim.cycle; }, step: (n = 1) => sim.step(n) };
}

describe.each(engines)("UserPortDriver on the %s engine", (engine) => {
  const namespaces = [{ nsid: 1, lbaBytes: 512, capacityBlocks: 2 ** 40 }];

  it("drives writes and checks reads of never-written blocks with the monitors quiet", async () => {
    const system = await standIn(engine);
    const driver = new UserPortDriver(system, { namespaces, seed: 5 });
    const commands: UserCommand[] = [];
    for (let i = 0; i < 12; i++) {
      commands.push({ opcode: UserOpcode.WRITE, nsid: 1, lba: 2 ** 33 + 8 * i, blockCount: 1 + (i % 3), pass: i + 1, fua: i % 2 === 0 });
      commands.push({ opcode: UserOpcode.READ, nsid: 1, lba: 2 ** 36 + 5 * i, blockCount: 1 + (i % 2) });
      if (i % 4 === 0) commands.push({ opcode: UserOpcode.FLUSH, nsid: 1, lba: 0, blockCount: 0 });
    }
    driver.submit(commands);
    const report = driver.run(50_000);
    expect(report.errors).toEqual([]);
    expect(report).toMatchObject({ ok: true, completed: commands.length, bytesWritten: 24 * 512, bytesRead: 18 * 512 });
    expect(report.latency.READ.min).toBeGreaterThanOrEqual(64);
  });

  it("catches wrong read data from the engine", async () => {
    const system = await standIn(engine);
    const driver = new UserPortDriver(system, { namespaces, seed: 6 });
    driver.submit([
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 100, blockCount: 2, pass: 7 },
      { opcode: UserOpcode.READ, nsid: 1, lba: 100, blockCount: 2 },
    ]);
    const report = driver.run(10_000);
    expect(report.errors).toEqual([expect.stringMatching(/#1 READ ns 1 lba 100 \+2 \(tag 1\) read wrong data: ns 1 lba 100 byte 0: expected 0x[0-9a-f]{16} \(pass 7\), got 0x0000000000000000 \(zeroes\); 128 of its 128 words wrong$/)]);
  });
});
