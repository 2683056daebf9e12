// `--ssd PRESET|FILE.json`: presets, files merged over a preset, faults applied to the model, and errors
// that name the field, the value and the file.
import { describe, expect, it } from "vitest";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { timingPresets } from "../../../sim/nvme/timing.ts";
import { applySsdFaults, hasNoLinkFault, parseSsdArgument, parseSsdSpec, SsdSpecError } from "../../../sim/system/ssd-spec.ts";

/** parseSsdArgument with an in-memory file system. */
function parseFile(name: string, content: unknown) {
  return parseSsdArgument(name, (path) => {
    if (path !== name) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    return typeof content === "string" ? content : JSON.stringify(content);
  });
}

describe("--ssd presets and files", () => {
  it("a preset name or nothing gives that preset's options and no faults", () => {
    expect(parseSsdArgument(undefined)).toEqual({ source: "fastSsd", preset: "fastSsd", options: { timing: "fastSsd" }, faults: [] });
    const consumer = parseSsdArgument("consumerSsd");
    expect(consumer.options).toEqual({ timing: "consumerSsd" });
    expect(new NvmeSsd(consumer.options).timing.params).toEqual(timingPresets.consumerSsd);
  });

  it("a file's fields are merged over its preset, and its faults reach the model", () => {
    const spec = parseFile("drive.json", {
      preset: "consumerSsd",
      mdts: 5,
      crsCycles: 100_000,
      bar0AddressBits: 32,
      namespaces: [{ lbaSize: 4096, capacityBlocks: 1000 }, { lbaSize: 512, capacityBlocks: 8, nawupf: 3 }],
      faults: [
        { inject: "injectStatus", match: { sqid: 0, opcode: 6 }, status: { sct: 0, sc: 6 }, count: 1 },
        { inject: "dropCompletion", match: { opcode: 5 } },
        { inject: "failMmioReads", status: "UR", count: 2 },
        { inject: "fatalOnEnable" },
        { inject: "neverReady", count: 3 },
        { inject: "latencySpike", match: { cid: 7 }, extraCycles: 5000 },
      ],
    });
    expect(spec.source).toBe("drive.json");
    expect(spec.options).toMatchObject({ timing: "consumerSsd", mdts: 5, crsCycles: 100_000, bar0AddressBits: 32 });
    expect(spec.faults[1]).toEqual({ inject: "dropCompletion", match: { opcode: 5 }, count: 1 });
    expect(spec.faults[0]).toEqual({ inject: "injectStatus", match: { sqid: 0, opcode: 6 }, status: { sct: 0, sc: 6, dnr: false }, count: 1 });
    expect(hasNoLinkFault(spec.faults)).toBe(false);
    const ssd = new NvmeSsd(spec.options);
    applySsdFaults(ssd, spec.faults);
    expect(ssd.options.mdts).toBe(5);
    expect(ssd.faults.takeMmioReadFailure()).toBe("UR");
    expect(ssd.faults.takeMmioReadFailure()).toBe("UR");
    expect(ssd.faults.takeMmioReadFailure()).toBeUndefined();
    expect(ssd.faults.takeStatus({ sqid: 0, opcode: 6, nsid: 0, cid: 1 })).toEqual({ sct: 0, sc: 6, dnr: false });
    expect(ssd.faults.takeDrop({ sqid: 0, opcode: 5, nsid: 0, cid: 2 })).toBe(true);
    expect(ssd.faults.takeDelay({ sqid: 1, opcode: 2, nsid: 1, cid: 7 })).toBe(5000);
    expect(ssd.faults.takeFatalOnEnable()).toBe(true);
    expect(ssd.faults.takeFatalOnEnable()).toBe(false);
    expect([1, 2, 3, 4].map(() => ssd.faults.takeNeverReady())).toEqual([true, true, true, false]);
    expect(hasNoLinkFault(parseSsdSpec({ faults: [{ inject: "noLink" }] }).faults)).toBe(true);
  });

  it("the fault matrix's faults: BAR reads poisoned or dropped, fatal at a command, a misdirected PRP, a stop in fetching", () => {
    const spec = parseSsdSpec({
      faults: [
        { inject: "failMmioReads", status: "poisoned" },
        { inject: "failMmioReads", status: "dropped" },
        { inject: "fatalOnCommand", match: { sqid: 1 } },
        { inject: "misdirectData", match: { opcode: 2 }, offset: 0x4000_0000 },
        { inject: "stopFetching", count: 2 },
      ],
    });
    const ssd = new NvmeSsd(spec.options);
    applySsdFaults(ssd, spec.faults);
    expect([ssd.faults.takeMmioReadFailure(), ssd.faults.takeMmioReadFailure()]).toEqual(["poisoned", "dropped"]);
    expect(ssd.faults.takeFatalOnCommand({ sqid: 0, opcode: 6, nsid: 0, cid: 1 })).toBe(false);
    expect(ssd.faults.takeFatalOnCommand({ sqid: 1, opcode: 2, nsid: 1, cid: 1 })).toBe(true);
    expect(ssd.faults.takeMisdirect({ sqid: 1, opcode: 2, nsid: 1, cid: 3 })).toBe(0x4000_0000n);
    expect([1, 2, 3].map(() => ssd.faults.takeIgnoredDoorbell())).toEqual([true, true, false]);
    // Without a count, the SSD stops fetching for good (until a controller reset).
    const forever = parseSsdSpec({ faults: [{ inject: "stopFetching" }] });
    expect(forever.faults[0]).toEqual({ inject: "stopFetching", count: Number.POSITIVE_INFINITY });
    expect(() => parseSsdSpec({ faults: [{ inject: "failMmioReads", status: "late" }] })).toThrow(/"status" = "late": must be "UR", "CA", "poisoned" or "dropped"/);
    expect(() => parseSsdSpec({ faults: [{ inject: "misdirectData", offset: 0 }] })).toThrow(/"offset" = 0: must be a non-zero integer/);
  });

  it("the erase support fields: consumerSsd supports every kind, a file can turn each off; failSanitize reaches the model", () => {
    const consumer = new NvmeSsd(parseSsdArgument("consumerSsd").options).options;
    expect(consumer).toMatchObject({ formatNvm: true, formatCryptoErase: true, sanitizeBlockErase: true, sanitizeOverwrite: true, sanitizeCryptoErase: true });
    const fast = new NvmeSsd(parseSsdArgument("fastSsd").options).options;
    expect(fast).toMatchObject({ formatNvm: true, formatCryptoErase: false, sanitizeBlockErase: false, sanitizeOverwrite: false, sanitizeCryptoErase: false, elpe: 0 });
    const spec = parseFile("erase.json", {
      preset: "consumerSsd",
      sanitizeOverwrite: false,
      formatCryptoErase: false,
      sanitizeNoDeallocateInhibited: true,
      formatAppliesToAllNamespaces: true,
      secureEraseAppliesToAllNamespaces: true,
      elpe: 63,
      lbaFormats: [4096, 512],
      faults: [{ inject: "failSanitize", count: 2 }],
    });
    const ssd = new NvmeSsd(spec.options);
    applySsdFaults(ssd, spec.faults);
    expect(ssd.options).toMatchObject({ sanitizeOverwrite: false, formatCryptoErase: false, sanitizeBlockErase: true, sanitizeNoDeallocateInhibited: true, elpe: 63, lbaFormats: [4096, 512] });
    expect([1, 2, 3].map(() => ssd.faults.takeSanitizeFailure())).toEqual([true, true, false]);
  });

  it("timing may be a full parameter object", () => {
    const spec = parseSsdSpec({ timing: { ...timingPresets.instant, mediaBytesPerCycle: 64 } }, "t.json");
    expect(new NvmeSsd(spec.options).timing.params.mediaBytesPerCycle).toBe(64);
  });
});

describe("--ssd errors name the field, the value and the file", () => {
  const cases: [string, unknown, RegExp][] = [
    ["unknown field", { mdtss: 5 }, /bad\.json: field "mdtss" = 5: unknown field/],
    ["bad preset", { preset: "turboSsd" }, /bad\.json: field "preset" = "turboSsd": not a preset \(fastSsd, consumerSsd, instant\)/],
    ["wrong type", { mdts: "5" }, /bad\.json: field "mdts" = "5": must be an integer 0\.\.20/],
    ["out of range", { maxPayloadSupported: 384 }, /field "maxPayloadSupported" = 384: must be one of 128, 256/],
    ["bad BAR width", { bar0AddressBits: 48 }, /field "bar0AddressBits" = 48/],
    ["bad namespace", { namespaces: [{ lbaSize: 520, capacityBlocks: 10 }] }, /field "namespaces" = .*entry 0: lbaSize must be 512 or 4096/],
    ["model's own check", { capTimeout: 1, readyDelayCycles: 200_000_000 }, /bad\.json: field readyDelayCycles 200000000 exceeds CAP\.TO/],
    ["unknown fault", { faults: [{ inject: "explode" }] }, /bad\.json: faults\[0\]: field "inject" = "explode": not a fault/],
    ["fault argument", { faults: [{ inject: "dropCompletion", macth: {} }] }, /faults\[0\]: field "macth" = \{\}: not an argument of dropCompletion/],
    ["match key", { faults: [{ inject: "dropCompletion", match: { queue: 1 } }] }, /faults\[0\]: field "match\.queue" = 1: unknown/],
    ["status", { faults: [{ inject: "failMmioReads", status: "XX" }] }, /faults\[0\]: field "status" = "XX": must be "UR", "CA", "poisoned" or "dropped"/],
    ["count", { faults: [{ inject: "neverReady", count: 0 }] }, /faults\[0\]: field "count" = 0: must be a positive integer/],
    ["success status", { faults: [{ inject: "injectStatus", status: { sct: 0, sc: 0 } }] }, /field "status" = .*not a fault/],
    ["faults not a list", { faults: { inject: "noLink" } }, /field "faults" = .*must be a list/],
    ["not an object", [1, 2], /bad\.json: an SSD spec is a JSON object/],
    ["erase flag", { sanitizeBlockErase: "yes" }, /bad\.json: field "sanitizeBlockErase" = "yes": must be true or false/],
    ["elpe", { elpe: 256 }, /field "elpe" = 256: must be an integer 0\.\.255/],
    ["LBA formats", { lbaFormats: [512, 520] }, /field "lbaFormats" = \[512,520\]: must be a list of 1\.\.16 LBA data sizes/],
    ["namespace outside the LBA formats", { lbaFormats: [4096] }, /bad\.json: field namespaces\[0\]\.lbaSize 512 is not one of lbaFormats \[4096\]/],
    ["failSanitize argument", { faults: [{ inject: "failSanitize", match: {} }] }, /faults\[0\]: field "match" = \{\}: not an argument of failSanitize/],
    ["timing missing an erase rate", { timing: { ...timingPresets.instant, cryptoEraseCycles: undefined } }, /field "timing" = .*missing timing parameter\(s\) cryptoEraseCycles/],
  ];
  it.each(cases)("%s", (_, spec, message) => {
    expect(() => parseFile("bad.json", spec)).toThrow(SsdSpecError);
    expect(() => parseFile("bad.json", spec)).toThrow(message);
  });

  it("a name that is neither a preset nor a file, and a file that is not JSON", () => {
    expect(() => parseFile("drive.json", "{ mdts: 5 }")).toThrow(/drive\.json: not valid JSON/);
    expect(() => parseFile("drive.json", {}).source).not.toThrow();
    expect(() => parseSsdArgument("fastSSD", () => { throw Object.assign(new Error("x"), { code: "ENOENT" }); })).toThrow(
      /--ssd fastSSD: not a preset \(fastSsd, consumerSsd, instant\) and not a readable JSON file \(no such file\)/,
    );
  });
});
