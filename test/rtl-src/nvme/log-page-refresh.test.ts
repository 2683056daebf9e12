// log_page_refresh (the core's three logs: SMART / Health, Error Information, Sanitize Status) as
// emitted Verilog on both engines, run in lockstep with the emitted log_page_capture (its busy and
// poisoned_write wired to the refresh's inputs, as the core wires them) and a scripted admin-engine
// stand-in on the command/completion ports: the command the hardware sends is executed by the SSD
// model (after some I/O, so the counters are not zero; after a failed command, so the error log has
// an entry), or answered with a scripted page, the page's MWr TLPs driven into the capture with
// random gaps, and the completion offered on the completion port, as early as the first data write
// (the completion overtakes the data, as it can through the router) or later. Each command must be
// Get Log Page as NVMe 1.4 writes it for its log (values by hand); `<log>_done` must come only once
// the capture holds the page, with `<log>_valid`; refreshes asked for together run one at a time,
// the lowest log first, each ending with its own done; a refresh while one runs is remembered once;
// a refresh while not ready ends at once with NOT_READY; a status (the model's own, injected), a
// timeout, a PCIe error and poisoned page data end with their causes, `valid` low; a capture that
// stays busy is waited for at most LOG_SETTLE_LIMIT cycles; clear during a refresh leaves `valid`
// low.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { CqeField } from "../../../rtl-src/nvme/nvme-cqe.ts";
import { readFieldBig, writeField } from "../../../rtl-src/nvme/nvme-field.ts";
import { ErrorInformationField, SanitizeStatusField } from "../../../rtl-src/nvme/nvme-log-page.ts";
import { DEFAULT_ERROR_LOG_ENTRIES, READABLE_SMART_FIELDS, errorEntryField, logKeptOffsets, logPageCapture } from "../../../rtl-src/nvme/log-page-capture.ts";
import { LOG_QUIET_CYCLES, LOG_SETTLE_LIMIT, type LogRefreshError, coreLogPages, logPageRefresh, logRefreshErrorCode } from "../../../rtl-src/nvme/log-page-refresh.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { IdentifyWriteDriver, cutPage, writesFromTlps } from "../../../sim/testbench/identify-writes.ts";
import { DATA, TestHost, expectOk, sqe } from "../../../sim/testbench/nvme-harness.ts";
import { fieldOffsets, readPagePort } from "../../../sim/testbench/page-port.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const ENTRIES = DEFAULT_ERROR_LOG_ENTRIES;
const LOGS = coreLogPages(ENTRIES);
type LogName = (typeof LOGS)[number]["name"];
/** Get Log Page, NSID FFFFFFFFh, PRP1 the log's region, CDW10 = NUMDL (dwords - 1) << 16 | LID, CDW11 = NUMDU 0. */
const GET_SMART_LOG = { opcode: 0x02, nsid: 0xffff_ffff, prp1: 0x1000_4000, cdw10: 0x007f_0002, cdw11: 0 };
/** Four 64-byte entries: 64 dwords. */
const GET_ERROR_LOG = { opcode: 0x02, nsid: 0xffff_ffff, prp1: 0x1000_5000, cdw10: 0x003f_0001, cdw11: 0 };
const GET_SANITIZE_LOG = { opcode: 0x02, nsid: 0xffff_ffff, prp1: 0x1000_6000, cdw10: 0x007f_0081, cdw11: 0 };
const COMMAND_FIELDS = ["opcode", "nsid", "prp1", "cdw10", "cdw11"] as const;
type Command = Record<(typeof COMMAND_FIELDS)[number], number>;

/** How the stand-in answers the next command. */
interface Plan {
  /** Answer timed_out / pcie_error without running the command (the admin engine's own failures). */
  timedOut?: boolean;
  pcieError?: boolean;
  /** The completion is offered as soon as the data starts (else after the data and a gap). */
  eager?: boolean;
  /** Answer with this page (cut into writes) and success, instead of running the command on the model. */
  page?: Uint8Array;
}

async function build(module: ReturnType<typeof logPageRefresh> | ReturnType<typeof logPageCapture>, engine: EngineName): Promise<MonitoredSimulator> {
  const { files } = emitDesign(module);
  const sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
  sim.reset(2);
  return sim;
}

/** The refresh and the capture stepped together, with the admin-engine stand-in and the SSD model behind it. */
class Bench {
  readonly commands: Command[] = [];
  readonly host = new TestHost();
  /** Cycles a `<log>_done` was high (after the edge `cycle` counts to), with the capture's fields (SMART) and the refresh's outcome then. */
  readonly ends: { log: LogName; cycle: number; error: number; cause: number; status: number; valid: number; fields: Record<string, bigint>; quietFor: number }[] = [];
  /** The page the SSD model returned for the latest command. */
  page: Uint8Array | undefined;
  cycle = 0;
  plans: Plan[] = [];
  forceCaptureBusy = false;
  /** The cycle the latest completion was taken. */
  answeredAt = -1;
  /** A command was taken and not yet answered; cycles before its data and completion start. */
  private pending = false;
  private delay = 0;
  /** Cycles between the end of the data and the completion (unless eager). */
  private gap = 0;
  private eager = false;
  private driver: IdentifyWriteDriver | undefined;
  private answer = { status: 0, timedOut: 0, pcieError: 0 };
  private quiet = 0;
  private readonly random: () => number;

  constructor(
    readonly refresh: MonitoredSimulator,
    readonly capture: MonitoredSimulator,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    this.host.bringUp();
    // Some I/O first, so the page's counters are not zero: 4 writes, 2 reads.
    for (let i = 0; i < 6; i++) expectOk(this.host.io(sqe({ opcode: i % 3 === 0 ? 0x02 : 0x01, nsid: 1, prp1: DATA, cdw10: 8 * i, cdw12: 7 })), `I/O ${i}`);
    for (const s of [refresh, capture]) s.reset(2);
    refresh.poke("ready", 1);
    for (const name of [...LOGS.map((l) => `${l.name}_refresh`), "clear", "capture_busy", "capture_poisoned", "admin_command_ready", "admin_completion_valid"]) refresh.poke(name, 0);
    capture.poke("clear", 1);
    capture.step();
    capture.poke("clear", 0);
  }

  /** One cycle of the logs' `<log>_refresh` (or of `clear`, to both designs, as the core wires it). */
  pulse(...names: (LogName | "clear")[]): void {
    const ports = names.map((n) => (n === "clear" ? "clear" : `${n}_refresh`));
    for (const port of ports) this.refresh.poke(port, 1);
    if (names.includes("clear")) this.capture.poke("clear", 1);
    this.step();
    for (const port of ports) this.refresh.poke(port, 0);
    this.capture.poke("clear", 0);
  }

  step(n = 1): void {
    for (let i = 0; i < n; i++) this.edge();
  }

  private edge(): void {
    const { refresh: r, capture: c, random } = this;
    // The wires between the two: registered outputs of the capture.
    r.poke("capture_busy", c.peek("busy") || this.forceCaptureBusy ? 1 : 0);
    r.poke("capture_poisoned", c.peek("poisoned_write"));
    // The command port: taken with random ready while no command is in the works.
    const streaming = this.driver !== undefined && !this.driver.done;
    const ready = !this.pending && !streaming && random() < 0.5;
    r.poke("admin_command_ready", ready ? 1 : 0);
    if (ready && r.peek("admin_command_valid")) this.take();
    else if (this.delay > 0) this.delay--;
    const started = this.pending && this.delay === 0;
    if (this.driver && !this.driver.done && (started || !this.pending)) {
      this.driver.drive();
      this.driver.settle();
    } else {
      c.poke("log_write_valid", 0);
      c.poke("log_write_data_tvalid", 0);
    }
    // The completion: with the data when eager, else after the data and a gap; held until taken.
    let offered = false;
    if (started) {
      const dataDone = this.driver === undefined || this.driver.done;
      if (this.eager || dataDone) {
        if (!this.eager && this.gap > 0) this.gap--;
        else offered = true;
      }
    }
    if (offered) {
      r.poke("admin_completion_status", this.answer.status);
      r.poke("admin_completion_dw0", 0);
      r.poke("admin_completion_timed_out", this.answer.timedOut);
      r.poke("admin_completion_pcie_error", this.answer.pcieError);
    }
    r.poke("admin_completion_valid", offered ? 1 : 0);
    if (offered && r.peek("admin_completion_ready")) {
      this.pending = false;
      this.answeredAt = this.cycle;
    }
    r.step();
    c.step();
    this.cycle++;
    this.quiet = c.peek("busy") ? 0 : this.quiet + 1;
    for (const { name: log } of LOGS) {
      if (!r.peek(`${log}_done`)) continue;
      this.ends.push({
        log,
        cycle: this.cycle,
        error: r.peek(`${log}_error`),
        cause: r.peek(`${log}_error_cause`),
        status: r.peek(`${log}_error_status`),
        valid: r.peek(`${log}_valid`),
        fields: log === "smart" ? this.readFields() : {},
        quietFor: this.quiet,
      });
    }
  }

  /**
   * The capture's fields through its page port (the capture alone steps: it is quiet once the refresh
   * is done, and the port's reads change nothing).
   */
  private readFields(): Record<string, bigint> {
    const c = this.capture;
    c.poke("log_write_valid", 0);
    c.poke("log_write_data_tvalid", 0);
    const bytes = readPagePort(c, "smartLog", fieldOffsets(READABLE_SMART_FIELDS));
    return expectedFields(bytes);
  }

  /** Steps until `until()` (checked before each step); throws after `max` cycles. */
  run(until: () => boolean, max: number, what: string): number {
    for (let i = 0; i < max; i++) {
      if (until()) return i;
      this.step();
    }
    throw new Error(`${what}: not within ${max} cycles`);
  }

  private take(): void {
    const r = this.refresh;
    const command = Object.fromEntries(COMMAND_FIELDS.map((f) => [f, r.peek(`admin_command_${f}`) >>> 0])) as Command;
    this.commands.push(command);
    const plan = this.plans.shift() ?? {};
    this.pending = true;
    this.delay = 2 + Math.floor(this.random() * 20);
    this.gap = Math.floor(this.random() * 6);
    this.eager = plan.eager ?? false;
    this.driver = undefined;
    if (plan.timedOut || plan.pcieError) {
      this.answer = { status: 0, timedOut: plan.timedOut ? 1 : 0, pcieError: plan.pcieError ? 1 : 0 };
      return;
    }
    const bytes = ((command.cdw10 >>> 16) + 1) * 4;
    let writes;
    if (plan.page) {
      this.answer = { status: 0, timedOut: 0, pcieError: 0 };
      writes = cutPage(command.prp1, plan.page, this.random, { maxBytes: 64, byteGranular: false });
      this.page = plan.page;
    } else {
      const from = this.host.upstream.length;
      const cqe = this.host.admin(sqe({ opcode: command.opcode, nsid: command.nsid, prp1: BigInt(command.prp1), cdw10: command.cdw10, cdw11: command.cdw11 }));
      this.answer = { status: cqe.statusField, timedOut: 0, pcieError: 0 };
      writes = writesFromTlps(this.host.sent("MWr", from)).filter((w) => w.address >= command.prp1 && w.address < command.prp1 + 4096);
      this.page = this.host.memory.read(BigInt(command.prp1), bytes);
    }
    if (writes.length > 0) {
      this.driver = new IdentifyWriteDriver(this.capture, writes, {
        headerOfferProbability: 0.7,
        payloadOfferProbability: 0.6,
        random: this.random,
        headerWithPayload: true,
        headerPrefix: "log_write",
        payloadPrefix: "log_write_data",
      });
    }
  }
}

function expectedFields(page: Uint8Array): Record<string, bigint> {
  return Object.fromEntries(Object.entries(READABLE_SMART_FIELDS).map(([n, f]) => [n, readFieldBig(page, f)]));
}

function statusField(sct: number, sc: number): number {
  return (sct << (CqeField.sct.lsb - CqeField.status.lsb)) | (sc << (CqeField.sc.lsb - CqeField.status.lsb));
}

const cause = (e: LogRefreshError) => logRefreshErrorCode(e);

describe.each(engines)("log_page_refresh with log_page_capture (%s)", (engine) => {
  let refresh: MonitoredSimulator | undefined;
  let capture: MonitoredSimulator | undefined;
  afterAll(() => {
    refresh?.close();
    capture?.close();
  });
  const bench = async (seed: number) => {
    refresh ??= await build(logPageRefresh({ logs: LOGS }), engine);
    capture ??= await build(logPageCapture(), engine);
    return new Bench(refresh, capture, seed);
  };
  const idle = (b: Bench, log: LogName = "smart") => () => b.refresh.peek(`${log}_busy`) === 0;

  it("sends Get Log Page SMART / Health and says done only once the capture holds the SSD model's page, also when the completion overtakes the data", async () => {
    const b = await bench(1);
    for (const eager of [true, false, true]) {
      b.plans.push({ eager });
      const before = b.ends.length;
      b.pulse("smart");
      expect(b.refresh.peek("smart_busy")).toBe(1);
      expect(b.refresh.peek("smart_valid")).toBe(0);
      b.run(idle(b), 5000, "refresh");
      expect(b.ends.length).toBe(before + 1);
      const end = b.ends.at(-1)!;
      expect(end).toMatchObject({ error: 0, cause: 0, status: 0, valid: 1 });
      expect(end.quietFor).toBeGreaterThanOrEqual(LOG_QUIET_CYCLES);
      expect(end.fields).toEqual(expectedFields(b.page!));
      expect(b.refresh.peek("smart_valid")).toBe(1);
      // A new I/O moves the counters, so the next refresh has new values to bring.
      expectOk(b.host.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw10: 0, cdw12: 7 })), "write");
    }
    expect(b.commands).toEqual([GET_SMART_LOG, GET_SMART_LOG, GET_SMART_LOG]);
    // The model's counters, not only the page: 4 writes and 2 reads, then a write after each of the first two refreshes.
    expect({ writes: b.ends.at(-1)!.fields.hostWriteCommands, reads: b.ends.at(-1)!.fields.hostReadCommands }).toEqual({ writes: 6n, reads: 2n });
  });

  it("remembers one refresh asked for while one runs, and runs it after", async () => {
    const b = await bench(2);
    b.pulse("smart");
    b.run(() => b.commands.length === 1, 200, "first command");
    for (let i = 0; i < 3; i++) {
      b.step();
      b.pulse("smart");
    }
    b.run(() => b.ends.length === 1, 5000, "first done");
    expect(b.refresh.peek("smart_busy")).toBe(1);
    b.run(idle(b), 5000, "second refresh");
    expect(b.commands.length).toBe(2);
    expect(b.ends.map((e) => e.error)).toEqual([0, 0]);
    b.step(100);
    expect(b.commands.length).toBe(2);
    expect(b.refresh.peek("smart_busy")).toBe(0);
    expect(b.refresh.peek("smart_valid")).toBe(1);
  });

  it("ends at once with NOT_READY when the core is not ready, sending nothing", async () => {
    const b = await bench(3);
    b.pulse("smart");
    b.run(idle(b), 5000, "refresh");
    expect(b.refresh.peek("smart_valid")).toBe(1);
    b.refresh.poke("ready", 0);
    b.pulse("smart");
    expect(b.ends.at(-1)).toMatchObject({ error: 1, cause: cause("NOT_READY"), valid: 0 });
    // done right after the edge that took the pulse.
    expect(b.ends.at(-1)!.cycle).toBe(b.cycle);
    expect(b.refresh.peek("smart_busy")).toBe(0);
    b.step(50);
    expect(b.commands.length).toBe(1);
    b.refresh.poke("ready", 1);
  });

  const failures: [string, (b: Bench) => void, LogRefreshError, number][] = [
    ["a status from the SSD (Invalid Log Page, injected in the model)", (b) => b.host.ssd.faults.injectStatus({ opcode: 0x02 }, { sct: 1, sc: 0x09, dnr: true }), "COMMAND_STATUS", statusField(1, 0x09) | (1 << 14)],
    ["no completion within the engine's timeout", (b) => b.plans.push({ timedOut: true }), "COMPLETION_TIMEOUT", 0],
    ["a doorbell the link refused", (b) => b.plans.push({ pcieError: true }), "PCIE_ERROR", 0],
    ["the page in poisoned writes", (b) => b.host.ssd.faults.poisonReadData({ opcode: 0x02 }), "DATA_POISONED", 0],
  ];
  for (const [what, arrange, error, status] of failures) {
    it(`ends with ${error}: ${what}; valid stays low until a refresh succeeds`, async () => {
      const b = await bench(error.length);
      b.pulse("smart");
      b.run(idle(b), 5000, "good refresh");
      expect(b.refresh.peek("smart_valid")).toBe(1);
      arrange(b);
      b.pulse("smart");
      b.run(idle(b), 5000, "failing refresh");
      expect(b.ends.at(-1)).toMatchObject({ error: 1, cause: cause(error), status });
      expect({ error: b.refresh.peek("smart_error"), cause: b.refresh.peek("smart_error_cause"), valid: b.refresh.peek("smart_valid") }).toEqual({ error: 1, cause: cause(error), valid: 0 });
      b.pulse("smart");
      b.run(idle(b), 5000, "refresh after the failure");
      expect(b.ends.at(-1)).toMatchObject({ error: 0, cause: 0, status: 0 });
      expect(b.refresh.peek("smart_valid")).toBe(1);
      expect(b.commands.length).toBe(3);
    });
  }

  it("waits for a capture that stays busy at most LOG_SETTLE_LIMIT cycles; clear during a refresh leaves valid low", async () => {
    const b = await bench(9);
    b.forceCaptureBusy = true;
    b.pulse("smart");
    b.run(() => b.ends.length === 1, 5000, "refresh with a busy capture");
    const waited = b.ends[0].cycle - b.answeredAt;
    expect(b.ends[0]).toMatchObject({ error: 0, quietFor: expect.any(Number) });
    expect(waited).toBeGreaterThanOrEqual(LOG_SETTLE_LIMIT);
    expect(waited).toBeLessThanOrEqual(LOG_SETTLE_LIMIT + 8);
    b.forceCaptureBusy = false;
    b.run(idle(b), 100, "idle");
    b.pulse("smart");
    b.run(() => b.commands.length === 2, 200, "second command");
    b.pulse("clear");
    b.run(idle(b), 5000, "refresh with a clear");
    expect(b.ends.at(-1)).toMatchObject({ error: 0 });
    expect(b.refresh.peek("smart_valid")).toBe(0);
  });

  it("a refresh held high for a while asks for one refresh and one more, not one per cycle", async () => {
    const b = await bench(10);
    b.refresh.poke("smart_refresh", 1);
    b.run(() => b.commands.length === 1, 200, "command");
    b.refresh.poke("smart_refresh", 0);
    b.run(idle(b), 5000, "refreshes");
    // Held high from the start: one refresh, and one remembered while it ran.
    expect(b.commands.length).toBe(2);
  });

  it("reads each log with its own command; asked together, one at a time, the lowest first, each with its own done and valid", async () => {
    const b = await bench(11);
    // An I/O command that fails puts an entry in the model's error log.
    b.host.ssd.faults.injectStatus({ opcode: 0x01 }, { sct: 2, sc: 0x81, dnr: false });
    b.host.io(sqe({ opcode: 0x01, nsid: 1, prp1: DATA, cdw10: 0x345, cdw12: 3 }));
    const sanitize = new Uint8Array(512);
    writeField(sanitize, SanitizeStatusField.sprog, 0x5a5a);
    writeField(sanitize, SanitizeStatusField.sstat, 0x0002);
    b.plans.push({}, {}, { page: sanitize });
    b.pulse("smart", "error_log", "sanitize");
    for (const log of ["smart", "error_log", "sanitize"] as const) expect(b.refresh.peek(`${log}_busy`), log).toBe(1);
    b.run(() => LOGS.every((l) => b.refresh.peek(`${l.name}_busy`) === 0), 20_000, "three refreshes");
    expect(b.commands).toEqual([GET_SMART_LOG, GET_ERROR_LOG, GET_SANITIZE_LOG]);
    expect(b.ends.map((e) => [e.log, e.error, e.valid])).toEqual([
      ["smart", 0, 1],
      ["error_log", 0, 1],
      ["sanitize", 0, 1],
    ]);
    // Each refresh waited for the capture to settle, and ran after the one before had ended.
    for (const end of b.ends) expect(end.quietFor).toBeGreaterThanOrEqual(LOG_QUIET_CYCLES);
    expect({ sprog: b.capture.peek("sanitize_sprog"), state: b.capture.peek("sanitize_state") }).toEqual({ sprog: 0x5a5a, state: 2 });
    // The error log's newest entry is the failed write, as the model logged it.
    b.capture.poke("log_write_valid", 0);
    b.capture.poke("log_write_data_tvalid", 0);
    const errors = readPagePort(b.capture, "errorLog", logKeptOffsets("error"));
    const model = b.host.ssd.controller.errorLog.newestFirst[0];
    expect(model).toBeDefined();
    expect({
      count: readFieldBig(errors, errorEntryField(0, ErrorInformationField.errorCount)),
      lba: readFieldBig(errors, errorEntryField(0, ErrorInformationField.lba)),
      status: Number(readFieldBig(errors, errorEntryField(0, ErrorInformationField.statusField))) >> 1,
    }).toEqual({ count: model.errorCount, lba: model.lba, status: (2 << 8) | 0x81 });
    expect(model.errorCount).toBeGreaterThan(0n);
    // Every byte the model's page has, as far as the port keeps them.
    const page = b.host.ssd.controller.errorLog.page();
    for (const offset of logKeptOffsets("error")) expect(errors[offset], `byte ${offset}`).toBe(page[offset] ?? 0);
    // One log's refresh leaves the others' valid alone; a failed one clears only its own.
    b.plans.push({ timedOut: true });
    b.pulse("error_log");
    b.run(idle(b, "error_log"), 5000, "failing error log refresh");
    expect(b.ends.at(-1)).toMatchObject({ log: "error_log", error: 1, cause: cause("COMPLETION_TIMEOUT"), valid: 0 });
    expect(LOGS.map((l) => b.refresh.peek(`${l.name}_valid`))).toEqual([1, 0, 1]);
    expect(LOGS.map((l) => b.refresh.peek(`${l.name}_error`))).toEqual([0, 1, 0]);
  });

  it("a refresh of another log while one runs waits for it; not ready refuses every log asking", async () => {
    const b = await bench(12);
    b.plans.push({}, { page: new Uint8Array(512) });
    b.pulse("error_log");
    b.run(() => b.commands.length === 1, 200, "error log command");
    b.pulse("sanitize");
    b.pulse("smart");
    b.run(() => LOGS.every((l) => b.refresh.peek(`${l.name}_busy`) === 0), 20_000, "refreshes");
    // The running one first, then the lowest remembered.
    expect(b.commands).toEqual([GET_ERROR_LOG, GET_SMART_LOG, GET_SANITIZE_LOG]);
    expect(b.ends.map((e) => e.log)).toEqual(["error_log", "smart", "sanitize"]);
    b.refresh.poke("ready", 0);
    b.pulse("smart", "error_log", "sanitize");
    expect(b.ends.slice(-3).map((e) => [e.log, e.error, e.cause, e.valid])).toEqual(LOGS.map((l) => [l.name, 1, cause("NOT_READY"), 0]));
    b.step(50);
    expect(b.commands.length).toBe(3);
    b.refresh.poke("ready", 1);
  });

  it("rejects bad logs, naming them", () => {
    const [smart] = LOGS;
    expect(() => logPageRefresh({ logs: [] })).toThrow(/logs is empty/);
    expect(() => logPageRefresh({ logs: [{ ...smart, base: 0x1000_4004 }] })).toThrow(/smart.base = 0x10004004/);
    expect(() => logPageRefresh({ logs: [smart, { ...smart, base: 0x1000_5000 }] })).toThrow(/smart is listed twice/);
    expect(() => logPageRefresh({ logs: [{ ...smart, bytes: 4098 }] })).toThrow(/smart.bytes = 4098/);
    expect(() => logPageRefresh({ logs: [{ ...smart, lid: 256 }] })).toThrow(/smart.lid = 256/);
    expect(() => logPageRefresh({ logs: [{ ...smart, name: "Smart" }] })).toThrow(/"Smart" is not snake_case/);
  });
});
