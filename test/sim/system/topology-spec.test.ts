// The topology file of `--topology FILE.json`: presets, SSD spec objects and empty ports per downstream port,
// the switch's parameters, and errors that name the file, the field's path and the value.
import { describe, expect, it } from "vitest";
import { parseTopologyArgument, parseTopologySpec } from "../../../sim/system/topology-spec.ts";
import { buildTopology } from "../../../sim/system/topology.ts";

describe("topology spec", () => {
  it("takes a switch and per-port presets, SSD specs and empty ports, and builds the models from them", () => {
    const file = JSON.stringify({
      switch: { preset: "asm1184e", latencyNs: 300, downstreamLinks: [{ latencyCycles: 40 }] },
      ssds: ["consumerSsd", null, { preset: "fastSsd", mdts: 5, faults: [{ inject: "fatalOnEnable" }] }],
    });
    const topology = parseTopologyArgument("nas.json", () => file);
    expect(topology.ssds.map((s) => s?.ssd?.timing ?? null)).toEqual(["consumerSsd", null, "fastSsd"]);
    expect(topology.ssds[2]).toMatchObject({ ssd: { mdts: 5 }, faults: [{ inject: "fatalOnEnable", count: 1 }] });
    const built = buildTopology(topology);
    expect(built.ssds.map((s) => s?.options.mdts)).toEqual([7, undefined, 5, undefined]);
    expect(built.switch.params).toMatchObject({ vendorId: 0x1b21, latencyCycles: 75, upstreamWidth: 1 });
    expect(built.switch.ports[0].link).toMatchObject({ latencyCycles: 40, lanes: 1 });
    expect(built.switch.ports[2].device?.endpoint).toBe(built.ssds[2]);
  });

  it("names the file, the field's path and the value of every mistake", () => {
    const parse = (value: unknown) => () => parseTopologySpec(value, "t.json");
    expect(parse([])).toThrow(/t\.json: a topology is a JSON object/);
    expect(parse({ ssds: [], extra: 1 })).toThrow(/t\.json: field "extra" = 1: unknown field/);
    expect(parse({ ssds: "x" })).toThrow(/field "ssds" = "x": must be a list/);
    expect(parse({ switch: { downstreamPorts: 2 }, ssds: [null, null, null] })).toThrow(/field "ssds" = "3 entries": the switch has 2 downstream ports/);
    expect(parse({ switch: { latencyNs: -5 }, ssds: [] })).toThrow(/t\.json: field "switch\.latencyNs" = -5: must be a non-negative/);
    expect(parse({ switch: { downstreamLinks: [{}, { lanes: 3 }] }, ssds: [] })).toThrow(/field "switch\.downstreamLinks\[1\]": link parameter lanes = 3/);
    expect(parse({ switch: { colour: "red" }, ssds: [] })).toThrow(/field "switch\.colour": unknown/);
    expect(parse({ ssds: [null, "slowSsd"] })).toThrow(/field "ssds\[1\]" = "slowSsd": not a preset/);
    expect(parse({ ssds: [{ mdts: 99 }] })).toThrow(/t\.json: field "ssds\[0\]\.mdts" = 99: must be an integer 0\.\.20/);
    expect(parse({ ssds: [{}, { faults: [{ inject: "explode" }] }] })).toThrow(/t\.json.*ssds\[1\]/);
    expect(() => parseTopologyArgument("missing.json", () => { throw Object.assign(new Error("x"), { code: "ENOENT" }); })).toThrow(/--topology missing\.json: not a readable JSON file \(no such file\)/);
    expect(() => parseTopologyArgument("bad.json", () => "{")).toThrow(/bad\.json: not valid JSON/);
  });
});
