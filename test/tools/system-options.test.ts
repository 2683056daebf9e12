import { describe, expect, it } from "vitest";
import { DEFAULT_SYSTEM, SystemOptionError, parseSystemArguments } from "../../tools/system-options.ts";

describe("the system options of sim and estimate", () => {
  it("defaults to the generated controller at Gen2 x4 on the link-bound SSD preset", () => {
    const { system, outputFormat, positionals } = parseSystemArguments([], "js", {});
    expect(system).toMatchObject({ ...DEFAULT_SYSTEM, engine: "js" });
    expect(system.ssd.preset).toBe("fastSsd");
    expect(outputFormat).toBe("normal");
    expect(positionals).toEqual([]);
  });

  it("reads every option in both spellings", () => {
    const { system, outputFormat } = parseSystemArguments(
      ["--ssd", "consumerSsd", "--gen=1", "--lanes", "2", "--mps=512", "--mrrs", "1024", "--slots=8", "--buffer", "64k", "--max-piece=16k", "--engine=verilator", "--trace", "t.jsonl", "--output-format=json"],
      "js",
      {},
    );
    expect(system).toMatchObject({ gen: 1, lanes: 2, mps: 512, mrrs: 1024, slots: 8, bufferBytes: 65536, maxPieceBytes: 16384, engine: "verilator", trace: "t.jsonl" });
    expect(system.ssd.preset).toBe("consumerSsd");
    expect(outputFormat).toBe("json");
    expect(parseSystemArguments(["--json"], "js", {}).outputFormat).toBe("json");
  });

  it("takes the engine from NVME_HOST_ENGINE, then the caller's default", () => {
    expect(parseSystemArguments([], "verilator", {}).system.engine).toBe("verilator");
    expect(parseSystemArguments([], "verilator", { NVME_HOST_ENGINE: "js" }).system.engine).toBe("js");
  });

  it.each([
    [["--gen=4"], "--gen=4: not one of 1, 2, 3"],
    [["--mps", "300"], "--mps=300: not one of 128, 256, 512"],
    [["--slots=3"], "--slots=3: must be a power of two"],
    [["--buffer=100k"], "--buffer=100k: must be a power of two"],
    [["--buffer=12q"], "--buffer=12q:"],
    [["--max-piece=256k"], "--max-piece=262144: larger than the buffer"],
    [["--engine=icarus"], "--engine=icarus: not one of js, verilator"],
    [["--ssd=nosuch"], "--ssd nosuch"],
    [["--output-format=xml"], "--output-format=xml: not one of normal, json"],
    [["--colour=red"], "--colour: not an option"],
    [["--gen"], "--gen needs a value"],
  ])("refuses %j naming the option and value", (args, message) => {
    expect(() => parseSystemArguments(args, "js", {})).toThrow(SystemOptionError);
    expect(() => parseSystemArguments(args, "js", {})).toThrow(message);
  });
});
