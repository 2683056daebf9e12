// log_page_capture as emitted Verilog on both engines, fed with log pages as the SSD writes them:
// the SSD model's own SMART / Health page after I/O (its MWr TLPs at MPS 128/256/512, for the Get
// Log Page command log_page_refresh sends), in order and shuffled; SMART pages built by the model's
// page builder with a distinct value in every field (128-bit counters with non-zero high halves, to
// show the low bits are kept), Error Information pages with a distinct value in every field of
// every entry (more entries than kept), Sanitize Status pages, cut at any DW or byte (byte enables
// on the ends, junk outside them), shuffled, the three pages' writes mixed, with poisoned and stray
// writes among them, random idle cycles on both streams, payloads before their headers. Every kept
// byte read through the page port must equal the page's (bytes past the kept ones read 0, entries
// past `errorEntries` too), SPROG and SSTAT's state must be on their ports; a second page
// overwrites the first without a clear; poisoned writes are counted and pulse `poisoned_write`;
// `clear` zeroes everything. At line rate, with each header coming with its payload, the payload is
// held back one cycle per write at most.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { readField, readFieldBig, writeField } from "../../../rtl-src/nvme/nvme-field.ts";
import { ERROR_INFORMATION_ENTRY_BYTES, SANITIZE_STATUS_LOG_BYTES, SMART_LOG_BYTES, SanitizeStatusField, SmartLogField } from "../../../rtl-src/nvme/nvme-log-page.ts";
import {
  DEFAULT_ERROR_LOG_ENTRIES,
  ERROR_ENTRY_KEPT_BYTES,
  READABLE_ERROR_FIELDS,
  SMART_LOG_KEPT_BYTES,
  defaultLogPageCaptureParams,
  errorEntryField,
  logKeptOffsets,
  logPageCapture,
  logSweepCycles,
} from "../../../rtl-src/nvme/log-page-capture.ts";
import { coreLogPages, logPageCommand } from "../../../rtl-src/nvme/log-page-refresh.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { type SmartHealthInfo, smartHealthLog } from "../../../sim/nvme/admin.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type MemoryWrite, type WriteDriverOptions, cutPage, junkWrite, pageAfter, runWrites, shuffled, writesFromTlps } from "../../../sim/testbench/identify-writes.ts";
import { DATA, TestHost, expectOk, sqe } from "../../../sim/testbench/nvme-harness.ts";
import { readPagePort } from "../../../sim/testbench/page-port.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const BASE = HostMemoryMap.smartLog.base;
const ERROR_BASE = HostMemoryMap.errorLog.base;
const SANITIZE_BASE = HostMemoryMap.sanitizeStatusLog.base;
const ENTRIES = DEFAULT_ERROR_LOG_ENTRIES;
const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const PORTS = { headerPrefix: "log_write", payloadPrefix: "log_write_data" } as const;

/** I/O run on the model before its page is read: writes and reads of 16 blocks (two pages each). */
const WRITES = 70;
const READS = 5;
const BLOCKS = 16;

interface SsdPage {
  page: Uint8Array;
  /** The SSD's own MWr TLPs of the page. */
  writes: MemoryWrite[];
}

/** The SSD model's SMART page after WRITES writes and READS reads, Get Log Page'd at MPS `mps` into the smartLog region. */
function ssdPage(mps: number): SsdPage {
  const host = new TestHost();
  host.bringUp({ mps });
  const page2 = DATA + 4096n;
  for (let i = 0; i < WRITES + READS; i++) {
    const opcode = i < WRITES ? 0x01 : 0x02;
    expectOk(host.io(sqe({ opcode, nsid: 1, prp1: DATA, prp2: page2, cdw10: BLOCKS * i, cdw12: BLOCKS - 1 })), `I/O ${i}`);
  }
  const from = host.upstream.length;
  const c = logPageCommand(coreLogPages(ENTRIES)[0]);
  expect(c.prp1).toBe(BASE);
  expectOk(host.admin(sqe({ opcode: c.opcode, nsid: c.nsid, prp1: BigInt(c.prp1), cdw10: c.cdw10, cdw11: c.cdw11 })), "Get Log Page SMART / Health");
  const writes = writesFromTlps(host.sent("MWr", from)).filter((w) => w.address >= BASE && w.address < BASE + 4096);
  const bytes = writes.reduce((sum, w) => sum + w.data.length, 0);
  if (bytes !== SMART_LOG_BYTES) throw new Error(`the SSD wrote ${bytes} bytes of log page, not ${SMART_LOG_BYTES}`);
  return { page: host.memory.read(BigInt(BASE), SMART_LOG_BYTES), writes };
}

/** A page with a distinct value in every field; counters above 2^64 where `wide`. */
function distinctPage(seed: number, wide: boolean): Uint8Array {
  const big = (k: number) => (wide ? (BigInt(0x1000 + seed * 16 + k) << 64n) : 0n) | (BigInt(0x0102_0304 * (k + 1) + seed) << 24n) | BigInt(0x50607 * k + seed);
  const info: SmartHealthInfo = {
    criticalWarning: 0x21 + seed,
    compositeTemperature: 0x1_40 + seed * 3,
    availableSpare: 87 - seed,
    availableSpareThreshold: 12 + seed,
    percentageUsed: 130 + seed,
    dataUnitsRead: big(1),
    dataUnitsWritten: big(2),
    hostReadCommands: big(3),
    hostWriteCommands: big(4),
    controllerBusyTime: big(5),
    powerCycles: big(6),
    powerOnHours: big(7),
    unsafeShutdowns: big(8),
    mediaErrors: big(9),
    errorLogEntries: big(10),
  };
  return smartHealthLog(info);
}

/** Bytes past the kept ones (they read 0), and of another page number (they read 0 here too). */
const UNKEPT = [SMART_LOG_KEPT_BYTES, 300, SMART_LOG_BYTES - 1, 4095];

/** The kept bytes of `page` (every other byte 0). */
function expected(page: Uint8Array): Uint8Array {
  const out = new Uint8Array(4096);
  out.set(page.subarray(0, SMART_LOG_KEPT_BYTES));
  return out;
}

/** The kept bytes and a few others through the page port. */
function captured(sim: Simulator): Uint8Array {
  const offsets = [...Array.from({ length: SMART_LOG_KEPT_BYTES }, (_, i) => i), ...UNKEPT];
  const other = readPagePort(sim, "identifyController", [0, 4, 77]);
  expect(other.every((b) => b === 0)).toBe(true);
  return readPagePort(sim, "smartLog", offsets);
}

/** The fields a distinct page sets (each differs between seeds). */
const DISTINCT_FIELDS = ["criticalWarning", "compositeTemperature", "availableSpare", "availableSpareThreshold", "percentageUsed", "dataUnitsRead", "dataUnitsWritten", "hostReadCommands", "hostWriteCommands", "controllerBusyTime", "powerCycles", "powerOnHours", "unsafeShutdowns", "mediaErrors", "errorLogEntries"] as const;

function clear(sim: Simulator): void {
  sim.poke("clear", 1);
  sim.step();
  sim.poke("clear", 0);
}

/** An Error Information page of `entries` entries (newest first), every field of each distinct (and different for another seed). */
function errorPage(seed: number, entries: number): Uint8Array {
  const page = new Uint8Array(entries * ERROR_INFORMATION_ENTRY_BYTES);
  for (let e = 0; e < entries; e++) {
    Object.values(READABLE_ERROR_FIELDS).forEach((f, k) => {
      const value = (BigInt(0x1_0203_0405_0607 * (k + 1) + seed * 0x1111 + e * 0x3b) << 8n) | BigInt(0x40 + 16 * e + k + seed);
      writeField(page, errorEntryField(e, f), value & ((1n << BigInt(8 * f.size)) - 1n));
    });
  }
  return page;
}

/** A Sanitize Status page: SPROG, SSTAT, and the other fields non-zero. */
function sanitizePage(sprog: number, sstat: number): Uint8Array {
  const page = new Uint8Array(SANITIZE_STATUS_LOG_BYTES);
  Object.values(SanitizeStatusField).forEach((f, k) => {
    if (f.lsb === 0 && f.width === 8 * f.size) writeField(page, f, 0x0101_0101 * (k + 3) & ((1 << Math.min(31, 8 * f.size)) - 1));
  });
  writeField(page, SanitizeStatusField.sprog, sprog);
  writeField(page, SanitizeStatusField.sstat, sstat);
  return page;
}

const ERROR_KEPT = logKeptOffsets("error");
/** Past the kept entries, and a byte beyond every page: they read 0. */
const ERROR_UNKEPT = [ENTRIES * ERROR_INFORMATION_ENTRY_BYTES, ENTRIES * ERROR_INFORMATION_ENTRY_BYTES + 13, 1000, 4095];

/** The error log through the page port: the kept bytes and the unkept ones. */
function capturedErrorLog(sim: Simulator): Uint8Array {
  return readPagePort(sim, "errorLog", [...ERROR_KEPT, ...ERROR_UNKEPT]);
}

/** The bytes of `page` the port shows for the error log (every other byte 0). */
function expectedErrorLog(page: Uint8Array): Uint8Array {
  const out = new Uint8Array(4096);
  for (const offset of ERROR_KEPT) out[offset] = page[offset] ?? 0;
  return out;
}

describe.each(engines)("log_page_capture (%s)", (engine) => {
  let sim: MonitoredSimulator | undefined;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = logPageCapture();
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
      sim.reset(2);
    }
    return sim;
  };
  /** Runs `writes`, counting poisoned_write pulses, then checks every field against the page they leave. */
  const capture = (s: MonitoredSimulator, writes: MemoryWrite[], drive: Omit<WriteDriverOptions, "headerPrefix" | "payloadPrefix">) => {
    let pulses = 0;
    const counting: Simulator = new Proxy(s, {
      get(target, key) {
        if (key === "step") return (n = 1) => {
          for (let i = 0; i < n; i++) {
            target.step();
            pulses += target.peek("poisoned_write");
          }
        };
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const cycles = runWrites(counting, writes, { ...drive, ...PORTS }, () => s.peek("busy") === 0, 100_000);
    const page = pageAfter(BASE, writes, SMART_LOG_BYTES);
    const kept = captured(s);
    expect(Buffer.from(kept)).toEqual(Buffer.from(expected(page)));
    return { cycles, page, pulses, kept };
  };

  it.each([128, 256, 512])("keeps every field of the SSD model's own page after I/O, in order and shuffled (MPS %i)", async (mps) => {
    const s = await simulator();
    clear(s);
    const ssd = ssdPage(mps);
    expect(Math.max(...ssd.writes.map((w) => w.data.length))).toBeLessThanOrEqual(mps);
    const random = seededRandom(mps);
    const inOrder = capture(s, ssd.writes, { headerOfferProbability: 0.6, payloadOfferProbability: 0.8, random });
    expect(Buffer.from(inOrder.page)).toEqual(Buffer.from(ssd.page));
    // Against what the model was asked to do, so a field table and a model that agree on a wrong offset still fail.
    const units = (commands: number) => BigInt(Math.ceil((commands * BLOCKS) / 1000));
    const kept = inOrder.kept;
    expect({
      temperature: readField(kept, SmartLogField.compositeTemperature),
      spare: readField(kept, SmartLogField.availableSpare),
      threshold: readField(kept, SmartLogField.availableSpareThreshold),
      warning: readField(kept, SmartLogField.criticalWarning),
      writes: readFieldBig(kept, SmartLogField.hostWriteCommands),
      reads: readFieldBig(kept, SmartLogField.hostReadCommands),
      written: readFieldBig(kept, SmartLogField.dataUnitsWritten),
      read: readFieldBig(kept, SmartLogField.dataUnitsRead),
    }).toEqual({ temperature: 0x143, spare: 100, threshold: 10, warning: 0, writes: BigInt(WRITES), reads: BigInt(READS), written: units(WRITES), read: units(READS) });
    clear(s);
    capture(s, shuffled(ssd.writes, random), { headerOfferProbability: 0.9, payloadOfferProbability: 0.5, random });
    expect(s.peek("poisoned_writes")).toBe(0);
  });

  it("keeps every field of pages with distinct values, cut at any DW or byte, shuffled, with poisoned and stray writes; a new page overwrites the old without clear", async () => {
    const s = await simulator();
    clear(s);
    let poisonedTotal = 0;
    let previous: Record<string, bigint> | undefined;
    for (const [seed, byteGranular, wide] of [[1, false, true], [2, true, true], [3, true, false], [4, false, false]] as const) {
      const random = seededRandom(seed);
      const page = distinctPage(seed, wide);
      const cut = cutPage(BASE, page, random, { maxBytes: 72, byteGranular });
      const poisoned = [0, 36, 150, 300, 508].map((offset) => junkWrite(BASE + offset, 1 + (offset % 5), random, true));
      const stray = [junkWrite(HostMemoryMap.identifyNamespace.base + 32, 8, random, false), junkWrite(BASE + 4096, 4, random, false), junkWrite(BASE - 8, 2, random, false)];
      // Poisoned copies of real pieces too: their bytes must not land.
      const poisonedCopies = cut.slice(0, 3).map((w) => ({ ...w, data: w.data.map((b) => b ^ 0xff), poisoned: true }));
      const writes = shuffled([...cut, ...poisoned, ...stray, ...poisonedCopies], random);
      const result = capture(s, writes, { headerOfferProbability: 0.5, payloadOfferProbability: 0.7, random });
      expect(Buffer.from(result.page)).toEqual(Buffer.from(page));
      const poisonedHere = poisoned.length + poisonedCopies.length;
      poisonedTotal += poisonedHere;
      expect(result.pulses).toBe(poisonedHere);
      expect(s.peek("poisoned_writes")).toBe(poisonedTotal);
      // Every field differs from the previous page's, so a byte of it left behind would show.
      const now = Object.fromEntries(DISTINCT_FIELDS.map((name) => [name, readFieldBig(result.kept, SmartLogField[name])]));
      if (previous) for (const name of DISTINCT_FIELDS) expect(now[name], name).not.toBe(previous[name]);
      previous = now;
    }
  });

  it("takes payloads that come before their headers, and headers far ahead of their payloads", async () => {
    const s = await simulator();
    const random = seededRandom(7);
    const page = distinctPage(5, true);
    const writes = cutPage(BASE, page, random, { maxBytes: 24, byteGranular: true });
    clear(s);
    capture(s, writes, { headerOfferProbability: 0.15, payloadOfferProbability: 1, random });
    clear(s);
    capture(s, shuffled(writes, random), { headerOfferProbability: 1, payloadOfferProbability: 0.15, random });
  });

  it("holds a payload back one cycle per write at most, at line rate, when each header comes with its payload", async () => {
    const s = await simulator();
    const random = seededRandom(11);
    const ssd = ssdPage(256);
    const small = cutPage(BASE, distinctPage(6, true), random, { maxBytes: 24, byteGranular: true });
    for (const writes of [ssd.writes, small, shuffled([...ssd.writes, ...small], random)]) {
      const payload = s.streamMonitors.get("log_write_data")!;
      const before = { stalls: payload.stallCycles, beats: payload.beats };
      const { cycles } = capture(s, writes, { headerOfferProbability: 1, payloadOfferProbability: 1, random, headerWithPayload: true });
      const beats = payload.beats - before.beats;
      expect(beats).toBe(writes.reduce((sum, w) => sum + Math.ceil(w.data.length / 8), 0));
      expect(payload.stallCycles - before.stalls).toBeLessThanOrEqual(writes.length);
      // The beats and a cycle per header, then the pipeline draining (a few cycles), nothing else.
      expect(cycles).toBeLessThanOrEqual(beats + writes.length + 6);
    }
  });

  it("clear zeroes every byte and the poisoned count", async () => {
    const s = await simulator();
    const random = seededRandom(5);
    clear(s);
    capture(s, [...cutPage(BASE, distinctPage(7, true), random, { maxBytes: 64, byteGranular: false }), junkWrite(BASE, 2, random, true)], {
      headerOfferProbability: 1,
      payloadOfferProbability: 1,
      random,
    });
    expect(s.peek("poisoned_writes")).toBe(1);
    const before = captured(s);
    expect(DISTINCT_FIELDS.every((name) => readFieldBig(before, SmartLogField[name]) !== 0n)).toBe(true);
    runWrites(s, [...cutPage(ERROR_BASE, errorPage(8, ENTRIES), random, { maxBytes: 64, byteGranular: false }), ...cutPage(SANITIZE_BASE, sanitizePage(0x4321, 2), random, { maxBytes: 64, byteGranular: false })], {
      headerOfferProbability: 1,
      payloadOfferProbability: 1,
      random,
      ...PORTS,
    }, () => s.peek("busy") === 0, 10_000);
    expect(capturedErrorLog(s).some((b) => b !== 0)).toBe(true);
    expect({ sprog: s.peek("sanitize_sprog"), state: s.peek("sanitize_state") }).toEqual({ sprog: 0x4321, state: 2 });
    clear(s);
    expect(s.peek("busy")).toBe(1);
    expect({ sprog: s.peek("sanitize_sprog"), state: s.peek("sanitize_state") }).toEqual({ sprog: 0, state: 0 });
    s.step(logSweepCycles() + 1);
    expect(s.peek("busy")).toBe(0);
    expect(captured(s).every((b) => b === 0)).toBe(true);
    expect(capturedErrorLog(s).every((b) => b === 0)).toBe(true);
    expect(s.peek("poisoned_writes")).toBe(0);
  });

  it("keeps every field of the newest error log entries (not those past errorEntries), cut, shuffled, with poisoned writes; a new page overwrites the old", async () => {
    const s = await simulator();
    clear(s);
    // Every field of every kept entry is in the kept bytes.
    for (let e = 0; e < ENTRIES; e++) for (const f of Object.values(READABLE_ERROR_FIELDS)) for (let i = 0; i < f.size; i++) expect(ERROR_KEPT).toContain(errorEntryField(e, f).offset + i);
    expect(ERROR_ENTRY_KEPT_BYTES).toBe(42);
    expect(ERROR_KEPT.filter((o) => o >= ENTRIES * ERROR_INFORMATION_ENTRY_BYTES)).toEqual([]);
    let previous: Uint8Array | undefined;
    for (const [seed, byteGranular] of [[1, true], [2, false], [3, true]] as const) {
      const random = seededRandom(100 + seed);
      // Six entries, as an SSD with a longer log would write them when asked for more: the last two are not kept.
      const page = errorPage(seed, ENTRIES + 2);
      const poisoned = [8, 70, 200].map((offset) => junkWrite(ERROR_BASE + offset, 2, random, true));
      const writes = shuffled([...cutPage(ERROR_BASE, page, random, { maxBytes: 40, byteGranular }), ...poisoned], random);
      const pulses = { n: 0 };
      const stepping: Simulator = new Proxy(s, {
        get(target, key) {
          if (key === "step") return (n = 1) => {
            for (let i = 0; i < n; i++) {
              target.step();
              pulses.n += target.peek("poisoned_write");
            }
          };
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      runWrites(stepping, writes, { headerOfferProbability: 0.6, payloadOfferProbability: 0.7, random, ...PORTS }, () => s.peek("busy") === 0, 100_000);
      const got = capturedErrorLog(s);
      expect(Buffer.from(got)).toEqual(Buffer.from(expectedErrorLog(pageAfter(ERROR_BASE, writes))));
      expect(Buffer.from(got.subarray(0, ENTRIES * ERROR_INFORMATION_ENTRY_BYTES))).toEqual(Buffer.from(page.subarray(0, ENTRIES * ERROR_INFORMATION_ENTRY_BYTES)));
      expect(pulses.n).toBe(poisoned.length);
      // Each entry's error count, as a reader decodes it, differs from the last page's.
      if (previous) for (let e = 0; e < ENTRIES; e++) expect(readFieldBig(got, errorEntryField(e, READABLE_ERROR_FIELDS.errorCount))).not.toBe(readFieldBig(previous, errorEntryField(e, READABLE_ERROR_FIELDS.errorCount)));
      previous = got;
      // The SMART page is untouched by the error log's writes.
      expect(captured(s).every((b) => b === 0)).toBe(true);
    }
  });

  it("keeps SPROG and SSTAT's state of the Sanitize Status page in registers, with the three pages' writes mixed", async () => {
    const s = await simulator();
    clear(s);
    const random = seededRandom(21);
    for (const [sprog, sstat] of [[0x1234, 0x0102], [0xffff, 0x0101], [0x8001, 0x0003], [0x0000, 0x0004]] as const) {
      const smart = distinctPage(sprog & 7, true);
      const errors = errorPage(sprog & 3, ENTRIES);
      const writes = shuffled(
        [
          ...cutPage(BASE, smart, random, { maxBytes: 48, byteGranular: true }),
          ...cutPage(ERROR_BASE, errors, random, { maxBytes: 48, byteGranular: true }),
          ...cutPage(SANITIZE_BASE, sanitizePage(sprog, sstat), random, { maxBytes: 48, byteGranular: true }),
          junkWrite(SANITIZE_BASE, 1, random, true),
        ],
        random,
      );
      runWrites(s, writes, { headerOfferProbability: 0.7, payloadOfferProbability: 0.7, random, ...PORTS }, () => s.peek("busy") === 0, 100_000);
      expect({ sprog: s.peek("sanitize_sprog"), state: s.peek("sanitize_state") }).toEqual({ sprog, state: sstat & 7 });
      expect(Buffer.from(captured(s))).toEqual(Buffer.from(expected(smart)));
      expect(Buffer.from(capturedErrorLog(s))).toEqual(Buffer.from(expectedErrorLog(errors)));
    }
  });

  it("rejects bases that are not 4 KiB pages below 4 GiB, and an error entry count out of range, naming them", () => {
    const p = defaultLogPageCaptureParams;
    expect(() => logPageCapture({ ...p, smartBase: 0x1000_4100 })).toThrow(/smartBase = 0x10004100/);
    expect(() => logPageCapture({ ...p, errorBase: 2 ** 32 })).toThrow(/errorBase = 0x100000000/);
    expect(() => logPageCapture({ ...p, sanitizeBase: p.smartBase })).toThrow(/smartBase and sanitizeBase/);
    expect(() => logPageCapture({ ...p, errorEntries: 0 })).toThrow(/errorEntries = 0/);
    expect(() => logPageCapture({ ...p, errorEntries: 65 })).toThrow(/errorEntries = 65/);
  });
});
