// identify_capture as emitted Verilog on both engines, fed with the SSD model's own Identify pages:
// the MWr TLPs the model sends at MPS 128/256/512 (several SsdOptions: strings, MDTS 0/5/7/10, LBA
// 512 and 4096, capacities beyond 2^32, atomic units), in address order and shuffled; pages cut at
// any DW or byte (byte enables on the ends, junk outside them), with a table of 16 LBA formats
// written before FLBAS; poisoned and stray writes among them; random idle cycles on both streams,
// payloads before their headers. Every kept field, the selected format and every byte of the
// quadwords the page port keeps must equal the page's (and other bytes read 0); poisoned writes are
// counted; `clear` empties everything. At line rate, with each header coming with its payload (as a
// router forwards them), the payload is held back one cycle per write at most.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import {
  CAPTURED_CONTROLLER_FIELDS,
  CAPTURED_NAMESPACE_FIELDS,
  IDENTIFY_KEPT_BYTES,
  IDENTIFY_SWEEP_CYCLES,
  READABLE_CONTROLLER_FIELDS,
  READABLE_NAMESPACE_FIELDS,
  identifyCapture,
} from "../../../rtl-src/nvme/identify-capture.ts";
import { type NvmeField, readField, readFieldBig, writeField } from "../../../rtl-src/nvme/nvme-field.ts";
import { IdentifyNamespaceField, lbaFormatField } from "../../../rtl-src/nvme/nvme-identify.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import type { SsdOptions } from "../../../sim/nvme/options.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type MemoryWrite, type WriteDriverOptions, cutPage, junkWrite, pageAfter, runWrites, shuffled, writesFromTlps } from "../../../sim/testbench/identify-writes.ts";
import { TestHost, expectOk, sqe } from "../../../sim/testbench/nvme-harness.ts";
import { fieldOffsets, readPagePort } from "../../../sim/testbench/page-port.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const CONTROLLER = HostMemoryMap.identifyController.base;
const NAMESPACE = HostMemoryMap.identifyNamespace.base;
const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

interface SsdPages {
  controller: Uint8Array;
  namespace: Uint8Array;
  /** The SSD's own MWr TLPs of both pages, as it sent them. */
  writes: MemoryWrite[];
}

/** Identify Controller and Identify Namespace `nsid` from the SSD model, DMA'd at MPS `mps` into the map's regions. */
function ssdPages(options: Partial<SsdOptions>, mps: number, nsid = 1): SsdPages {
  const host = new TestHost(options);
  host.enumerate(mps);
  host.enable();
  const from = host.upstream.length;
  expectOk(host.admin(sqe({ opcode: 0x06, prp1: BigInt(CONTROLLER), cdw10: 0x01 })), "Identify Controller");
  expectOk(host.admin(sqe({ opcode: 0x06, nsid, prp1: BigInt(NAMESPACE), cdw10: 0x00 })), "Identify Namespace");
  const writes = writesFromTlps(host.sent("MWr", from)).filter((w) => w.address >= CONTROLLER && w.address < NAMESPACE + 4096);
  const largest = Math.max(...writes.map((w) => w.data.length));
  if (largest !== mps) throw new Error(`the SSD's writes are up to ${largest} bytes, not MPS ${mps}`);
  return { controller: host.memory.read(BigInt(CONTROLLER), 4096), namespace: host.memory.read(BigInt(NAMESPACE), 4096), writes };
}

const SSD_VARIANTS: { name: string; mps: number; nsid?: number; options: Partial<SsdOptions> }[] = [
  { name: "defaults (MDTS 7, 512-byte LBAs)", mps: 128, options: {} },
  {
    name: "full-length strings, MDTS 5, 4096-byte LBAs, 2^40 + 12345 blocks, NAWUN/NAWUPF",
    mps: 256,
    options: {
      serial: "S3R1AL-0123456789ABC",
      model: "A model name of exactly forty characters",
      firmware: "FW-8CHRS",
      vendorId: 0x144d,
      subsystemVendorId: 0xa801,
      mdts: 5,
      awun: 7,
      awupf: 3,
      namespaces: [{ lbaSize: 4096, capacityBlocks: 2 ** 40 + 12345, nawun: 15, nawupf: 7 }],
      // The erase flags (OACS.Format, FNA.CryptoErase, SANICAP) in two combinations across the variants.
      formatCryptoErase: true,
      sanitizeBlockErase: true,
      sanitizeCryptoErase: true,
    },
  },
  {
    name: "MDTS 0 (unlimited), 512-byte LBAs, 2^33 + 7 blocks",
    mps: 512,
    options: { serial: "X", model: "m", firmware: "9", mdts: 0, awupf: 0x1234, namespaces: [{ lbaSize: 512, capacityBlocks: 2 ** 33 + 7 }], formatNvm: false, sanitizeOverwrite: true },
  },
  {
    name: "MDTS 10, second of three namespaces (4096, NAWUPF only), NN 8",
    mps: 256,
    nsid: 2,
    options: {
      mdts: 10,
      maxNamespaces: 8,
      awun: 0xffff,
      namespaces: [{ lbaSize: 512, capacityBlocks: 1000 }, { lbaSize: 4096, capacityBlocks: 3_000_000_001, nawupf: 31, nabspf: 63, nabo: 5 }, { lbaSize: 512, capacityBlocks: 5 }],
    },
  },
];

/** A namespace page with 16 distinct LBA formats (NLBAF 15) and FLBAS selecting `format` (metadata at the end bit set). */
function manyFormats(page: Uint8Array, format: number): Uint8Array {
  const out = new Uint8Array(page);
  writeField(out, IdentifyNamespaceField.nlbaf, 15);
  writeField(out, IdentifyNamespaceField.flbas, 0x10 | format);
  for (let i = 0; i < 16; i++) {
    const f = lbaFormatField(i);
    writeField(out, f.lbads, 9 + i);
    writeField(out, f.ms, 0x0101 * (i + 1));
    writeField(out, f.rp, i & 3);
  }
  return out;
}

function expected(controller: Uint8Array, namespace: Uint8Array): Record<string, bigint> {
  const all: [string, NvmeField, Uint8Array][] = [
    ...Object.entries(CAPTURED_CONTROLLER_FIELDS).map(([n, f]) => [n, f, controller] as [string, NvmeField, Uint8Array]),
    ...Object.entries(CAPTURED_NAMESPACE_FIELDS).map(([n, f]) => [n, f, namespace] as [string, NvmeField, Uint8Array]),
  ];
  const fields = Object.fromEntries(all.map(([n, f, page]) => [n, readFieldBig(page, f)]));
  const format = lbaFormatField(readField(namespace, IdentifyNamespaceField.flbasFormat));
  return {
    ...fields,
    lbads: readFieldBig(namespace, format.lbads),
    ms: readFieldBig(namespace, format.ms),
    nabo_set: readFieldBig(namespace, IdentifyNamespaceField.nabo) !== 0n ? 1n : 0n,
  };
}

function captured(sim: Simulator): Record<string, bigint> {
  const names = [...Object.keys(CAPTURED_CONTROLLER_FIELDS), ...Object.keys(CAPTURED_NAMESPACE_FIELDS), "lbads", "ms", "nabo_set"];
  return Object.fromEntries(names.map((n) => [n, sim.peekBig(n)]));
}

const CONTROLLER_READABLE = IDENTIFY_KEPT_BYTES.controller;
const NAMESPACE_READABLE = IDENTIFY_KEPT_BYTES.namespace;
/** Bytes the page port does not keep: they read 0. */
const CONTROLLER_UNREAD = [100, 300, 1000, 4095];
const NAMESPACE_UNREAD = [48, 64, 200, 4000];

it("keeps the bytes of every readable field, and not the bytes the tests expect to read 0", () => {
  for (const [fields, kept, unread] of [
    [READABLE_CONTROLLER_FIELDS, CONTROLLER_READABLE, CONTROLLER_UNREAD],
    [READABLE_NAMESPACE_FIELDS, NAMESPACE_READABLE, NAMESPACE_UNREAD],
  ] as const) {
    expect(fieldOffsets(fields).filter((o) => !kept.includes(o))).toEqual([]);
    expect(unread.filter((o) => kept.includes(o))).toEqual([]);
  }
});

/** The readable bytes of both pages (every other byte 0), through the page port, one address per cycle. */
function readPages(sim: Simulator): { controller: Uint8Array; namespace: Uint8Array } {
  return {
    controller: readPagePort(sim, "identifyController", [...CONTROLLER_READABLE, ...CONTROLLER_UNREAD]),
    namespace: readPagePort(sim, "identifyNamespace", [...NAMESPACE_READABLE, ...NAMESPACE_UNREAD]),
  };
}

/** `page` with only the bytes at `offsets` left. */
function only(page: Uint8Array, offsets: readonly number[]): Uint8Array {
  const out = new Uint8Array(page.length);
  for (const o of offsets) out[o] = page[o];
  return out;
}

function clear(sim: Simulator): void {
  sim.poke("clear", 1);
  sim.step();
  sim.poke("clear", 0);
}

describe.each(engines)("identify_capture (%s)", (engine) => {
  let sim: MonitoredSimulator | undefined;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = identifyCapture();
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
      sim.reset(2);
    }
    return sim;
  };
  const idle = (s: Simulator) => () => s.peek("busy") === 0;
  /** Runs `writes`, then checks every field and string byte against the pages they leave. */
  const capture = (s: MonitoredSimulator, writes: MemoryWrite[], drive: WriteDriverOptions, waitForSweep = true) => {
    clear(s);
    while (waitForSweep && s.peek("busy")) s.step();
    const cycles = runWrites(s, writes, drive, idle(s), 200_000);
    const controller = pageAfter(CONTROLLER, writes);
    const namespace = pageAfter(NAMESPACE, writes);
    expect(captured(s)).toEqual(expected(controller, namespace));
    const read = readPages(s);
    expect(Buffer.from(read.controller)).toEqual(Buffer.from(only(controller, CONTROLLER_READABLE)));
    expect(Buffer.from(read.namespace)).toEqual(Buffer.from(only(namespace, NAMESPACE_READABLE)));
    return { cycles, controller, namespace };
  };

  it.each(SSD_VARIANTS)("keeps every field of the SSD's pages, in order and shuffled: $name (MPS $mps)", async ({ mps, nsid, options }) => {
    const s = await simulator();
    const pages = ssdPages(options, mps, nsid);
    const random = seededRandom(mps + (nsid ?? 0));
    const inOrder = capture(s, pages.writes, { headerOfferProbability: 0.6, payloadOfferProbability: 0.8, random });
    // The pages as the SSD wrote them, so the comparison is with the model, not with pageAfter.
    expect(Buffer.from(inOrder.controller)).toEqual(Buffer.from(pages.controller));
    expect(Buffer.from(inOrder.namespace)).toEqual(Buffer.from(pages.namespace));
    // Spot checks against the options, so a field table and a model that agree on a wrong offset still fail.
    const ns = (options.namespaces ?? [{ lbaSize: 512, capacityBlocks: 2 * 1024 * 1024 }])[(nsid ?? 1) - 1];
    expect({ nsze: s.peekBig("nsze"), mdts: s.peek("mdts"), lbads: s.peek("lbads"), ms: s.peek("ms"), sqes: s.peek("sqes"), cqes: s.peek("cqes") }).toEqual({
      nsze: BigInt(ns.capacityBlocks),
      mdts: options.mdts ?? 7,
      lbads: Math.log2(ns.lbaSize),
      ms: 0,
      sqes: 0x66,
      cqes: 0x44,
    });
    const serial = Buffer.from(readPages(s).controller.subarray(4, 24)).toString("latin1").trimEnd();
    expect(serial).toBe(options.serial ?? "NVMEHOST0001");
    const flag = (on: boolean | undefined) => (on ? 1 : 0);
    expect({
      format: s.peek("oacs_format_nvm"),
      crypto: s.peek("fna_crypto_erase"),
      sanitizeCrypto: s.peek("sanicap_crypto_erase"),
      sanitizeBlock: s.peek("sanicap_block_erase"),
      sanitizeOverwrite: s.peek("sanicap_overwrite"),
    }).toEqual({
      format: flag(options.formatNvm ?? true),
      crypto: flag(options.formatCryptoErase),
      sanitizeCrypto: flag(options.sanitizeCryptoErase),
      sanitizeBlock: flag(options.sanitizeBlockErase),
      sanitizeOverwrite: flag(options.sanitizeOverwrite),
    });
    capture(s, shuffled(pages.writes, random), { headerOfferProbability: 0.9, payloadOfferProbability: 0.5, random });
    expect(s.peek("poisoned_writes")).toBe(0);
  });

  it("keeps every field of pages cut at any DW or byte, shuffled, with 16 LBA formats, poisoned and stray writes among them", async () => {
    const s = await simulator();
    const pages = ssdPages(SSD_VARIANTS[1].options, 256);
    for (const [seed, format, byteGranular] of [[1, 11, false], [2, 15, true], [3, 0, true], [4, 6, false]] as const) {
      const random = seededRandom(seed);
      const namespace = manyFormats(pages.namespace, format);
      // NABO with one byte set, the low or the high one (a flip-flop per byte says "not zero").
      const nabo = seed === 3 ? 0 : seed % 2 ? 0x0004 : 0x0300;
      writeField(namespace, IdentifyNamespaceField.nabo, nabo);
      const cut = [...cutPage(CONTROLLER, pages.controller, random, { maxBytes: 160, byteGranular }), ...cutPage(NAMESPACE, namespace, random, { maxBytes: 160, byteGranular })];
      // The LBA format table (bytes 128..191) before FLBAS (byte 26): all namespace writes from byte 64 on first.
      const late = cut.filter((w) => w.address >= NAMESPACE && w.address < NAMESPACE + 64);
      const rest = shuffled(cut.filter((w) => !late.includes(w)), random);
      const poisoned = [0, 24, 500, 4000].map((offset) => junkWrite(CONTROLLER + offset, 5, random, true));
      poisoned.push(junkWrite(NAMESPACE + 24, 2, random, true), junkWrite(NAMESPACE + 128, 16, random, true));
      const stray = [junkWrite(HostMemoryMap.adminCq.base, 4, random, false), junkWrite(NAMESPACE + 4096, 8, random, false), junkWrite(CONTROLLER - 8, 2, random, false)];
      const writes = shuffled([...rest, ...poisoned, ...stray], random).concat(shuffled([...late, ...poisoned.slice(0, 2)], random));
      const { controller, namespace: kept } = capture(s, writes, { headerOfferProbability: 0.5, payloadOfferProbability: 0.7, random });
      expect(Buffer.from(controller)).toEqual(Buffer.from(pages.controller));
      expect(Buffer.from(kept)).toEqual(Buffer.from(namespace));
      expect({ lbads: s.peek("lbads"), ms: s.peek("ms"), flbas: s.peek("flbas"), nlbaf: s.peek("nlbaf") }).toEqual({ lbads: 9 + format, ms: 0x0101 * (format + 1), flbas: 0x10 | format, nlbaf: 15 });
      expect({ poisoned: s.peek("poisoned_writes"), seen: s.peek("poisoned_seen") }).toEqual({ poisoned: 8, seen: 1 });
      expect({ nabo_set: s.peek("nabo_set"), nabspf: s.peek("nabspf") }).toEqual({ nabo_set: nabo === 0 ? 0 : 1, nabspf: readField(namespace, IdentifyNamespaceField.nabspf) });
    }
  });

  it("takes payloads that come before their headers, and headers far ahead of their payloads", async () => {
    const s = await simulator();
    const pages = ssdPages(SSD_VARIANTS[2].options, 128);
    const random = seededRandom(7);
    const writes = cutPage(NAMESPACE, manyFormats(pages.namespace, 3), random, { maxBytes: 24, byteGranular: true });
    writes.push(...cutPage(CONTROLLER, pages.controller, random, { maxBytes: 40, byteGranular: false }));
    capture(s, writes, { headerOfferProbability: 0.15, payloadOfferProbability: 1, random });
    capture(s, shuffled(writes, random), { headerOfferProbability: 1, payloadOfferProbability: 0.15, random });
  });

  it("holds a payload back one cycle per write at most, at line rate, when each header comes with its payload", async () => {
    const s = await simulator();
    const pages = ssdPages(SSD_VARIANTS[1].options, 256);
    const random = seededRandom(11);
    const small = cutPage(NAMESPACE, pages.namespace, random, { maxBytes: 24, byteGranular: true });
    for (const writes of [pages.writes, small, shuffled([...pages.writes, ...small], random)]) {
      const payload = s.streamMonitors.get("identify_write_data")!;
      const before = { stalls: payload.stallCycles, beats: payload.beats };
      const { cycles } = capture(s, writes, { headerOfferProbability: 1, payloadOfferProbability: 1, random, headerWithPayload: true });
      const beats = payload.beats - before.beats;
      expect(beats).toBe(writes.reduce((sum, w) => sum + Math.ceil(w.data.length / 8), 0));
      expect(payload.stallCycles - before.stalls).toBeLessThanOrEqual(writes.length);
      // The beats and a cycle per header, then the pipeline draining (a few cycles), nothing else.
      expect(cycles).toBeLessThanOrEqual(beats + writes.length + 6);
    }
  });

  it("clear empties every field, the page memory and the poisoned count; the sweep holds writes back and then takes them", async () => {
    const s = await simulator();
    const pages = ssdPages({}, 128);
    const random = seededRandom(5);
    capture(s, [...pages.writes, junkWrite(CONTROLLER, 2, random, true)], { headerOfferProbability: 1, payloadOfferProbability: 1, random });
    expect(s.peek("poisoned_writes")).toBe(1);
    clear(s);
    expect(s.peek("busy")).toBe(1);
    s.step(IDENTIFY_SWEEP_CYCLES + 4);
    expect(s.peek("busy")).toBe(0);
    const zeros = Object.fromEntries(Object.keys(captured(s)).map((n) => [n, 0n]));
    expect(captured(s)).toEqual(zeros);
    const read = readPages(s);
    expect(read.controller.every((b) => b === 0) && read.namespace.every((b) => b === 0)).toBe(true);
    expect({ poisoned: s.peek("poisoned_writes"), seen: s.peek("poisoned_seen") }).toEqual({ poisoned: 0, seen: 0 });
    // Writes offered right after clear wait out the sweep and land whole.
    const { cycles } = capture(s, pages.writes, { headerOfferProbability: 1, payloadOfferProbability: 1, random }, false);
    expect(cycles).toBeGreaterThanOrEqual(pages.writes.length * 16 + IDENTIFY_SWEEP_CYCLES - 1);
    expect(cycles).toBeLessThanOrEqual(pages.writes.length * 16 + IDENTIFY_SWEEP_CYCLES - 1 + 6);
  });
});
