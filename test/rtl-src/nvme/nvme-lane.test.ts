// nvme_lane as emitted Verilog, on the js engine (the whole lane is large; the full system runs it
// inside nvme_host_core, test/rtl-src/top/nvme-host-core*.test.ts, and inside the array core). Here
// the lane's own boundary: its ports and that no output follows an input in the same cycle (the
// boundary adds no logic, so the core keeps its registers and levels); BAR0 reaching NVMe
// initialisation (its first access is CAP at the lane's BAR0, not the first SSD's); an access
// failure coming back as the enable phase's error with nvme_init's code, the other phase and the
// other access clients untouched; the user command port refusing NOT_READY while `ready` is low.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { nvmeLane } from "../../../rtl-src/nvme/nvme-lane.ts";
import { nvmeInitErrorCode } from "../../../rtl-src/nvme/nvme-init.ts";
import { AccessKind } from "../../../rtl-src/pcie/pcie-access.ts";
import { hardwareCoreParams, simulationCoreParams } from "../../../rtl-src/top/nvme-host-core.ts";
import { CompletionStatus } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import { UserErrorClass, UserOpcode } from "../../../rtl-src/user/user-port.ts";
import { type Simulator, createSimulator } from "../../../sim/engine/index.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const laneModule = nvmeLane(simulationCoreParams);
const emitted = emitDesign(laneModule);
/** A lane's BAR0 in the second MiB of the array's window (not the first SSD's). */
const BAR0 = 0xe010_0000;
const CLIENTS = ["init", "admin", "io", "shutdown"] as const;

describe("nvme_lane (js engine)", () => {
  let sim: Simulator | undefined;
  afterAll(() => sim?.close());

  it("is named by its queues and buffers and a digest of its waits; bad parameters are refused by name", () => {
    expect(laneModule.name).toMatch(/^nvme_lane_q64_s32_w128k_r128k_p32k_h[0-9a-f]{8}$/);
    expect(nvmeLane(hardwareCoreParams).name).not.toBe(laneModule.name);
    expect(nvmeLane({ ...simulationCoreParams }).name).toBe(laneModule.name);
    expect(() => nvmeLane({ ...simulationCoreParams, adminQueueEntries: 0 })).toThrow(/adminQueueEntries 0/);
  });

  it("has the lane's ports and no combinational path through it", () => {
    const { design } = emitted;
    expect([...design.combinationalPaths.get(design.top)!]).toEqual([]);
    const top = emitted.files.find((f) => f.fileName === `${laneModule.name}.v`)!.text;
    const ports = new Set([...top.matchAll(/^\s*(?:input|output)\s+(?:wire|reg)?\s*(?:\[[^\]]+\]\s*)?(\w+)/gm)].map((match) => match[1]));
    const wanted = [
      "bar0_address",
      "enable_start",
      "admin_start",
      "ready",
      ...CLIENTS.flatMap((c) => [`${c}_access_request_valid`, `${c}_access_response_ready`]),
      "data_request_valid",
      "data_response_tvalid",
      "mem_write_valid",
      "mem_write_data_tvalid",
      "user_command_valid",
      "user_write_data_tvalid",
      "user_read_data_tvalid",
      "user_completion_valid",
      "user_erase_valid",
      "enable_done",
      "enable_error_code",
      "admin_done",
      "admin_error_code",
      "status_capacity_blocks",
      "status_io_fault",
      "page_data",
    ];
    expect(wanted.filter((name) => !ports.has(name))).toEqual([]);
  });

  it("starts NVMe initialisation at its own BAR0 and reports an access failure as the enable phase's error", async () => {
    sim = monitorStreams(await createSimulator({ sources: emitted.files.map((f) => ({ path: f.fileName, text: f.text })), top: laneModule.name, engine: "js" }));
    const s = sim;
    s.reset(2);
    s.poke("bar0_address", BAR0);
    for (const c of CLIENTS) s.poke(`${c}_access_request_ready`, 0);
    s.poke("init_access_response_valid", 0);
    // Not READY: a command is refused NOT_READY with its tag, and nothing goes to the SSD.
    s.poke("user_command_opcode", UserOpcode.FLUSH);
    s.poke("user_command_nsid", 1);
    s.poke("user_command_tag", 0x5a);
    s.poke("user_command_valid", 1);
    s.poke("user_completion_ready", 1);
    let refused: { tag: number; errorClass: number } | undefined;
    for (let cycle = 0; cycle < 500 && !refused; cycle++) {
      if (s.peek("user_completion_valid") === 1) refused = { tag: s.peek("user_completion_tag"), errorClass: s.peek("user_completion_error_class") };
      const taken = s.peek("user_command_ready") === 1;
      s.step();
      if (taken) s.poke("user_command_valid", 0);
    }
    expect(refused).toEqual({ tag: 0x5a, errorClass: UserErrorClass.NOT_READY });

    s.poke("enable_start", 1);
    s.step();
    s.poke("enable_start", 0);
    const asked = (c: string) => s.peek(`${c}_access_request_valid`) === 1;
    let waited = 0;
    while (!asked("init") && waited++ < 100) s.step();
    expect(asked("init")).toBe(true);
    expect({ kind: s.peek("init_access_request_kind"), address: s.peek("init_access_request_address") >>> 0 }).toEqual({ kind: AccessKind.MEM_READ, address: BAR0 });
    s.poke("init_access_request_ready", 1);
    s.step();
    s.poke("init_access_request_ready", 0);
    // The port answers Unsupported Request.
    s.poke("init_access_response_data", 0xffff_ffff);
    s.poke("init_access_response_status", CompletionStatus.UR);
    s.poke("init_access_response_timed_out", 0);
    s.poke("init_access_response_poisoned", 0);
    s.poke("init_access_response_valid", 1);
    waited = 0;
    while (s.peek("init_access_response_ready") === 0 && waited++ < 100) s.step();
    s.step();
    s.poke("init_access_response_valid", 0);
    const others: string[] = [];
    for (waited = 0; s.peek("enable_error") === 0 && waited < 100; waited++) {
      for (const c of CLIENTS.slice(1)) if (asked(c)) others.push(c);
      s.step();
    }
    expect({ error: s.peek("enable_error"), code: s.peek("enable_error_code"), done: s.peek("enable_done"), adminDone: s.peek("admin_done"), adminError: s.peek("admin_error") }).toEqual({
      error: 1,
      code: nvmeInitErrorCode("ACCESS_FAILED"),
      done: 0,
      adminDone: 0,
      adminError: 0,
    });
    expect(others).toEqual([]);
  });
});
