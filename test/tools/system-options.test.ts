import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseJobCommand } from "../../tools/sim-command.ts";
import { DEFAULT_STRIPE_BYTES, DEFAULT_SYSTEM, SystemOptionError, parseSystemArguments, topologySsdCount } from "../../tools/system-options.ts";

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

describe("the array options (issue 14)", () => {
  const dir = mkdtempSync(join(tmpdir(), "nvme-host-topology-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const parse = (args: string[]) => parseSystemArguments(args, "js", {}).system;

  it("leaves the array out for one SSD without a switch", () => {
    expect(parse([]).array).toBeUndefined();
    expect(parse(["--ssd", "consumerSsd"]).array).toBeUndefined();
  });

  it("puts --ssds N copies of the --ssd SSD behind the default switch, 128 KiB stripes", () => {
    const system = parse(["--ssds", "4", "--ssd", "consumerSsd"]);
    expect(system.array?.stripeBytes).toBe(DEFAULT_STRIPE_BYTES);
    expect(DEFAULT_STRIPE_BYTES).toBe(128 * 1024);
    expect(system.array?.topology.switch).toEqual({ preset: "gen2x4" });
    expect(system.array?.topology.ssds).toHaveLength(4);
    // Copies of the --ssd, each with its own serial number: the --ssd's (or the model's default) and its port.
    expect(system.array!.topology.ssds.map((entry) => entry?.ssd)).toEqual([0, 1, 2, 3].map((port) => ({ timing: "consumerSsd", serial: `NVMEHOST0001-${port}` })));
    const named = parse(["--ssds", "2", "--ssd", file("named-ssd.json", { preset: "fastSsd", serial: "RECORDER-SSD-0123456" })]);
    expect(named.array!.topology.ssds.map((entry) => entry?.ssd?.serial)).toEqual(["RECORDER-SSD-01234-0", "RECORDER-SSD-01234-1"]);
    expect(system.array?.source).toBe("4 x consumerSsd behind switch gen2x4");
    // One SSD behind the switch is an array too (the switch is there).
    expect(parse(["--ssds=1"]).array?.topology.ssds).toHaveLength(1);
  });

  it("takes --stripe and --switch in both spellings", () => {
    const system = parse(["--ssds=2", "--stripe", "1m", "--switch=asm1184e"]);
    expect(system.array?.stripeBytes).toBe(1024 * 1024);
    expect(system.array?.topology.switch).toEqual({ preset: "asm1184e" });
    expect(parse(["--ssds", "2", "--stripe=4k"]).array?.stripeBytes).toBe(4096);
  });

  it("reads a topology file: the switch, per-SSD options, empty ports; the SSD count is the SSDs present", () => {
    const path = file("two.json", { switch: { preset: "gen2x4x2", latencyNs: 300 }, ssds: ["consumerSsd", null, { preset: "fastSsd", mdts: 5 }] });
    const system = parse(["--topology", path, "--stripe=64k"]);
    expect(system.array?.stripeBytes).toBe(64 * 1024);
    expect(system.array?.source).toBe(path);
    expect(system.array?.topology.switch).toEqual({ preset: "gen2x4x2", latencyNs: 300 });
    expect(topologySsdCount(system.array!.topology)).toBe(2);
    expect(system.array?.topology.ssds[1]).toBeNull();
    expect(system.array?.topology.ssds[2]?.ssd).toMatchObject({ timing: "fastSsd", mdts: 5 });
  });

  it("passes the array options through the fio parser (sim and estimate)", () => {
    const parsed = parseJobCommand(["--rw=read", "--bs=128k", "--size=1m", "--ssds", "2", "--stripe=256k", "--switch", "gen2x4x2"]);
    expect(parsed.system.array?.stripeBytes).toBe(256 * 1024);
    expect(parsed.system.array?.topology.switch).toEqual({ preset: "gen2x4x2" });
  });

  const threeSsds = () => file("three.json", { ssds: ["consumerSsd", "consumerSsd", null, "fastSsd"] });
  const noSsd = () => file("none.json", { ssds: [null, null] });
  const badField = () => file("bad.json", { ssds: [{ preset: "consumerSsd", mdts: "big" }] });
  it.each([
    [() => ["--ssds=3"], "--ssds=3: not one of 1, 2, 4"],
    [() => ["--ssds=0"], "--ssds=0: not one of 1, 2, 4"],
    [() => ["--ssds=two"], "--ssds=two: not one of 1, 2, 4"],
    [() => ["--ssds=2", "--stripe=3k"], "--stripe=3k: must be a power of two from 4 KiB to 1024 KiB"],
    [() => ["--ssds=2", "--stripe=2m"], "--stripe=2m: must be a power of two"],
    [() => ["--ssds=2", "--stripe=2k"], "--stripe=2k: must be a power of two"],
    [() => ["--ssds=2", "--stripe=lots"], "--stripe=lots:"],
    [() => ["--stripe=64k"], "--stripe=64k: only with --ssds or --topology"],
    [() => ["--switch=gen2x4"], "--switch=gen2x4: only with --ssds"],
    [() => ["--ssds=2", "--switch=pex9999"], "--switch=pex9999: not one of gen2x4, gen2x4x2, asm1184e"],
    [() => ["--ssds=2", "--topology", threeSsds()], "--ssds=2 with --topology="],
    [() => ["--ssd=consumerSsd", "--topology", threeSsds()], "--ssd=consumerSsd with --topology="],
    [() => ["--topology", threeSsds(), "--switch=gen2x4"], "--switch=gen2x4: only with --ssds"],
    [() => ["--topology", threeSsds()], "three.json: 3 SSDs present; the striper takes 1, 2, 4"],
    [() => ["--topology", noSsd()], "none.json: 0 SSDs present"],
    [() => ["--topology", badField()], `field "ssds[0].mdts"`],
    [() => ["--topology", join(dir, "missing.json")], "--topology"],
  ])("refuses a bad array option or combination, naming it (%#)", (args, message) => {
    const list = args();
    expect(() => parse(list)).toThrow(SystemOptionError);
    expect(() => parse(list)).toThrow(message);
  });
});
