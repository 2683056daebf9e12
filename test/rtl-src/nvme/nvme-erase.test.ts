// nvme_erase as emitted Verilog on both engines, with scripted stand-ins around it: the admin
// engine on the command/completion ports (random ready, completions after a random delay, a status,
// a timeout or a PCIe error on request) and log_page_refresh + log_page_capture behind `poll` (each
// poll answered after a random delay with the next scripted SPROG/SSTAT in the capture's registers,
// or with a refresh error). The Identify bits, FLBAS, ready, io_quiet and admin_busy are inputs.
// Each kind sends its command as NVMe 1.4 writes it (values by hand) and ends DONE with progress
// 100; a Format NVM shows 0 while it runs; a sanitize shows floor(SPROG x 100 / 65536) after each
// poll (random SPROG values checked one by one). Refused requests (not ready, I/O in flight, a log
// refresh pending, an unknown kind, each kind on an SSD without it) send nothing and poll nothing,
// in the documented order of precedence. Failures: a status, a timeout, a PCIe error of the command;
// each poll error cause; SSTAT failed; a sanitize that never ends gives up after exactly its poll
// budget. `running` is high exactly while the state is RUNNING, and no request is taken meanwhile.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { LOG_REFRESH_ERRORS, type LogRefreshError, logRefreshErrorCode } from "../../../rtl-src/nvme/log-page-refresh.ts";
import { SanitizeState } from "../../../rtl-src/nvme/nvme-log-page.ts";
import { ERASE_STATES, type NvmeEraseParams, SANITIZE_FAILED_STATUS, nvmeErase, sanitizePollBudget } from "../../../rtl-src/nvme/nvme-erase.ts";
import { EraseKind, UserErrorClass } from "../../../rtl-src/user/user-port.ts";
import { type EngineName, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { type EraseStatus, readEraseStatus, requestErase } from "../../../sim/system/erase-status.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const PATTERN = 0xa5c3_0f96;
/** A poll every 40 cycles, 6 polls at most. */
const PARAMS: NvmeEraseParams = { pollIntervalCycles: 40, sanitizeTimeoutCycles: 230, overwritePattern: PATTERN };
const POLLS = 6;
const COMMAND_FIELDS = ["opcode", "nsid", "prp1", "cdw10", "cdw11"] as const;
type Command = Record<(typeof COMMAND_FIELDS)[number], number>;
/** FLBAS of the namespace: format 3, metadata at the end of the block (bit 4). */
const FLBAS = 0x13;
const NSID = 0x0000_0007;

// The commands by hand (NVMe 1.4 Figures 297-299, 370-372): Format NVM CDW10 = SES [11:9] | PIL [8]
// | PI [7:5] | MSET [4] | LBAF [3:0]; Sanitize CDW10 = NDAS [9] | OIPBP [8] | OWPASS [7:4] | AUSE [3]
// | SANACT [2:0], CDW11 = the overwrite pattern.
const EXPECTED: Record<number, Command> = {
  [EraseKind.CRYPTO_ERASE]: { opcode: 0x80, nsid: NSID, prp1: 0, cdw10: (2 << 9) | (1 << 4) | 3, cdw11: 0 },
  [EraseKind.USER_DATA_ERASE]: { opcode: 0x80, nsid: NSID, prp1: 0, cdw10: (1 << 9) | (1 << 4) | 3, cdw11: 0 },
  [EraseKind.SANITIZE_BLOCK_ERASE]: { opcode: 0x84, nsid: 0, prp1: 0, cdw10: 2, cdw11: 0 },
  [EraseKind.SANITIZE_OVERWRITE]: { opcode: 0x84, nsid: 0, prp1: 0, cdw10: (1 << 4) | 3, cdw11: PATTERN },
  [EraseKind.SANITIZE_CRYPTO_ERASE]: { opcode: 0x84, nsid: 0, prp1: 0, cdw10: 4, cdw11: 0 },
};

/** The Identify bits of an SSD that offers every kind. */
const ALL_SUPPORTED = { oacs_format_nvm: 1, fna_crypto_erase: 1, sanicap_crypto_erase: 1, sanicap_block_erase: 1, sanicap_overwrite: 1 };
type IdentifyBits = typeof ALL_SUPPORTED;

/** How the admin-engine stand-in answers the next command. */
interface CommandAnswer {
  status?: number;
  timedOut?: boolean;
  pcieError?: boolean;
}
/** How the log-refresh stand-in answers the next poll: the page it captured, or an error. */
interface PollAnswer {
  sprog?: number;
  state?: number;
  error?: LogRefreshError;
  status?: number;
}

const statusField = (sct: number, sc: number, dnr = false) => (dnr ? 1 << 14 : 0) | (sct << 8) | sc;

class Bench {
  readonly commands: Command[] = [];
  polls = 0;
  /** The cycles `poll` was high in, and the cycles each poll_done was given. */
  readonly pollCycles: number[] = [];
  readonly doneCycles: number[] = [];
  cycle = 0;
  commandAnswers: CommandAnswer[] = [];
  pollAnswers: PollAnswer[] = [];
  /** Cycles `running` and the RUNNING state disagreed, and cycles user_erase_ready was high while running. */
  runningMismatches = 0;
  readyWhileRunning = 0;
  private commandDelay = -1;
  private commandAnswer: CommandAnswer = {};
  private pollDelay = -1;
  private pollAnswer: PollAnswer = {};
  private doneNext = false;
  private readonly random: () => number;

  constructor(
    readonly sim: MonitoredSimulator,
    seed: number,
  ) {
    this.random = seededRandom(seed);
    sim.reset(2);
    for (const name of ["user_erase_valid", "admin_command_ready", "admin_completion_valid", "poll_done", "poll_error", "poll_error_cause", "poll_error_status", "sanitize_sprog", "sanitize_state", "admin_busy"]) sim.poke(name, 0);
    sim.poke("ready", 1);
    sim.poke("io_quiet", 1);
    sim.poke("flbas", FLBAS);
    this.identify(ALL_SUPPORTED);
  }

  identify(bits: IdentifyBits): void {
    for (const [name, value] of Object.entries(bits)) this.sim.poke(name, value);
  }

  /** The module's outcome ports under the core's status port names (status_erase_<port>). */
  readonly statusPort = { peek: (name: string) => this.sim.peek(name.replace(/^status_erase_/, "")) };

  get status(): EraseStatus {
    return readEraseStatus(this.statusPort);
  }

  step(n = 1): void {
    for (let i = 0; i < n; i++) this.edge();
  }

  private edge(): void {
    const { sim, random } = this;
    // ---- the admin engine ----
    const idle = this.commandDelay < 0;
    const ready = idle && random() < 0.6 ? 1 : 0;
    sim.poke("admin_command_ready", ready);
    if (ready && sim.peek("admin_command_valid")) {
      this.commands.push(Object.fromEntries(COMMAND_FIELDS.map((f) => [f, sim.peek(`admin_command_${f}`) >>> 0])) as Command);
      this.commandAnswer = this.commandAnswers.shift() ?? {};
      this.commandDelay = 2 + Math.floor(random() * 30);
    }
    let offered = false;
    if (!idle) {
      if (this.commandDelay > 0) this.commandDelay--;
      else offered = true;
    }
    if (offered) {
      const a = this.commandAnswer;
      sim.poke("admin_completion_status", a.status ?? 0);
      sim.poke("admin_completion_dw0", 0);
      sim.poke("admin_completion_timed_out", a.timedOut ? 1 : 0);
      sim.poke("admin_completion_pcie_error", a.pcieError ? 1 : 0);
    }
    sim.poke("admin_completion_valid", offered ? 1 : 0);
    if (offered && sim.peek("admin_completion_ready")) this.commandDelay = -1;
    // ---- the log refresh and capture: poll -> (delay) page in the registers -> (quiet) done ----
    sim.poke("poll_done", 0);
    if (this.doneNext) {
      const a = this.pollAnswer;
      sim.poke("poll_done", 1);
      sim.poke("poll_error", a.error ? 1 : 0);
      sim.poke("poll_error_cause", a.error ? logRefreshErrorCode(a.error) : 0);
      sim.poke("poll_error_status", a.status ?? 0);
      this.doneNext = false;
      this.doneCycles.push(this.cycle);
    }
    if (sim.peek("poll")) {
      expect(this.pollDelay, "a poll while one runs").toBe(-1);
      this.polls++;
      this.pollCycles.push(this.cycle);
      this.pollAnswer = this.pollAnswers.shift() ?? { sprog: 0, state: SanitizeState.inProgress };
      this.pollDelay = 10 + Math.floor(random() * 20);
    } else if (this.pollDelay > 0) {
      this.pollDelay--;
      // The page lands some cycles before done (the refresh's settle wait).
      if (this.pollDelay === 8 && !this.pollAnswer.error) {
        sim.poke("sanitize_sprog", this.pollAnswer.sprog ?? 0);
        sim.poke("sanitize_state", this.pollAnswer.state ?? SanitizeState.inProgress);
      }
    } else if (this.pollDelay === 0) {
      this.pollDelay = -1;
      this.doneNext = true;
    }
    // ---- invariants ----
    const state = ERASE_STATES[sim.peek("state")];
    if ((sim.peek("running") === 1) !== (state === "RUNNING")) this.runningMismatches++;
    if (state === "RUNNING" && sim.peek("user_erase_ready") === 1) this.readyWhileRunning++;
    sim.step();
    this.cycle++;
  }

  /** Steps until the state is no longer RUNNING; returns the progress values seen while it ran, in order, each once. */
  finish(max = 20_000): number[] {
    const seen: number[] = [];
    for (let i = 0; i < max; i++) {
      const s = this.status;
      if (s.state !== "RUNNING") return seen;
      if (seen.at(-1) !== s.progress) seen.push(s.progress);
      this.step();
    }
    throw new Error(`the erase still runs after ${max} cycles`);
  }
}

describe.each(engines)("nvme_erase with scripted admin and log stand-ins (%s)", (engine) => {
  let sim: MonitoredSimulator | undefined;
  afterAll(() => sim?.close());
  const bench = async (seed: number) => {
    if (!sim) {
      const module = nvmeErase(PARAMS);
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
    }
    return new Bench(sim, seed);
  };
  const request = (b: Bench, kind: number, nsid = NSID) => requestErase({ sim: b.sim, step: (n) => b.step(n) }, kind, nsid, 1000);

  it("sends each kind's command as NVMe 1.4 writes it; a Format NVM shows 0 while it runs, then DONE 100", async () => {
    const b = await bench(1);
    expect(b.status).toMatchObject({ state: "IDLE", progress: 0, errorClass: "NONE" });
    for (const kind of [EraseKind.CRYPTO_ERASE, EraseKind.USER_DATA_ERASE, EraseKind.SANITIZE_BLOCK_ERASE, EraseKind.SANITIZE_OVERWRITE, EraseKind.SANITIZE_CRYPTO_ERASE]) {
      const before = b.commands.length;
      b.pollAnswers.push({ sprog: 0x8000, state: SanitizeState.inProgress }, { sprog: 0xffff, state: SanitizeState.completed });
      request(b, kind);
      expect(b.status).toMatchObject({ state: "RUNNING", progress: 0, errorClass: "NONE", status: 0 });
      expect(b.statusPort.peek("status_erase_kind")).toBe(kind);
      const seen = b.finish();
      expect(b.commands.slice(before), `kind ${kind}`).toEqual([EXPECTED[kind]]);
      expect(b.status).toMatchObject({ state: "DONE", progress: 100, errorClass: "NONE", status: 0 });
      expect(seen, `kind ${kind}`).toEqual(kind <= EraseKind.USER_DATA_ERASE ? [0] : [0, 50]);
      b.pollAnswers = [];
    }
    expect(b.polls).toBe(6);
    expect({ mismatches: b.runningMismatches, readyWhileRunning: b.readyWhileRunning }).toEqual({ mismatches: 0, readyWhileRunning: 0 });
  });

  it("a Format NVM of all namespaces sends NSID FFFFFFFFh; a sanitize sends NSID 0 whatever was asked", async () => {
    const b = await bench(2);
    request(b, EraseKind.USER_DATA_ERASE, 0xffff_ffff);
    b.finish();
    b.pollAnswers.push({ state: SanitizeState.completedNoDeallocate, sprog: 0xffff });
    request(b, EraseKind.SANITIZE_CRYPTO_ERASE, 0x1234_5678);
    b.finish();
    expect(b.commands.map((c) => c.nsid >>> 0)).toEqual([0xffff_ffff, 0]);
    expect(b.status).toMatchObject({ state: "DONE", progress: 100 });
  });

  it("reports floor(SPROG x 100 / 65536) after each poll (random SPROG values, the edges too)", async () => {
    const b = await bench(3);
    const random = seededRandom(33);
    const values = [0, 1, 655, 656, 0x7fff, 0x8000, 0xfffe, 0xffff, ...Array.from({ length: 20 }, () => Math.floor(random() * 65536))];
    // Several sanitizes (the poll budget is small), each with up to POLLS - 1 values in progress.
    for (let at = 0; at < values.length; at += POLLS - 1) {
      const chunk = values.slice(at, at + POLLS - 1);
      b.pollAnswers.push(...chunk.map((sprog) => ({ sprog, state: SanitizeState.inProgress })), { sprog: 0xffff, state: SanitizeState.completed });
      const progress: number[] = [];
      request(b, EraseKind.SANITIZE_BLOCK_ERASE);
      const base = b.polls;
      let polled = base;
      for (let i = 0; i < 20_000 && b.status.state === "RUNNING"; i++) {
        b.step();
        // The progress a poll brings is on the status port when the next poll starts.
        if (b.polls !== polled && b.status.state === "RUNNING") {
          polled = b.polls;
          if (polled - base >= 2) progress.push(b.statusPort.peek("status_erase_progress"));
        }
      }
      progress.push(b.statusPort.peek("status_erase_progress"));
      expect(b.status).toMatchObject({ state: "DONE", progress: 100 });
      expect(progress.slice(0, -1), `SPROG ${chunk.map((v) => v.toString(16)).join(" ")}`).toEqual(chunk.map((v) => Math.floor((v * 100) / 65536)));
    }
  });

  it("refuses without sending anything: not ready, I/O in flight, a log refresh pending, an unknown kind, a kind the SSD lacks; in that order", async () => {
    const b = await bench(4);
    const refused = (setup: () => void, kind: number, errorClass: keyof typeof UserErrorClass, what: string) => {
      setup();
      request(b, kind);
      expect(b.status, what).toMatchObject({ state: "REFUSED", errorClass, progress: 0, status: 0 });
      expect(b.statusPort.peek("status_erase_kind"), what).toBe(kind);
      b.step(3 * PARAMS.pollIntervalCycles);
      b.sim.poke("ready", 1);
      b.sim.poke("io_quiet", 1);
      b.sim.poke("admin_busy", 0);
      b.identify(ALL_SUPPORTED);
    };
    refused(() => b.sim.poke("ready", 0), EraseKind.USER_DATA_ERASE, "NOT_READY", "not ready");
    // Not ready outranks everything else.
    refused(() => {
      b.sim.poke("ready", 0);
      b.sim.poke("io_quiet", 0);
      b.identify({ ...ALL_SUPPORTED, sanicap_overwrite: 0 });
    }, EraseKind.SANITIZE_OVERWRITE, "NOT_READY", "not ready, busy and unsupported");
    refused(() => b.sim.poke("io_quiet", 0), EraseKind.CRYPTO_ERASE, "BUSY", "I/O in flight");
    refused(() => b.sim.poke("admin_busy", 1), EraseKind.SANITIZE_BLOCK_ERASE, "BUSY", "a log refresh pending");
    refused(() => {
      b.sim.poke("admin_busy", 1);
      b.identify({ ...ALL_SUPPORTED, sanicap_block_erase: 0 });
    }, EraseKind.SANITIZE_BLOCK_ERASE, "BUSY", "busy and unsupported");
    for (const kind of [5, 6, 7]) refused(() => b.identify({ ...ALL_SUPPORTED, oacs_format_nvm: 0 }), kind, "BAD_REQUEST", `kind ${kind}`);
    const lacking: [number, Partial<IdentifyBits>][] = [
      [EraseKind.CRYPTO_ERASE, { fna_crypto_erase: 0 }],
      [EraseKind.CRYPTO_ERASE, { oacs_format_nvm: 0 }],
      [EraseKind.USER_DATA_ERASE, { oacs_format_nvm: 0 }],
      [EraseKind.SANITIZE_BLOCK_ERASE, { sanicap_block_erase: 0 }],
      [EraseKind.SANITIZE_OVERWRITE, { sanicap_overwrite: 0 }],
      [EraseKind.SANITIZE_CRYPTO_ERASE, { sanicap_crypto_erase: 0 }],
    ];
    for (const [kind, bits] of lacking) refused(() => b.identify({ ...ALL_SUPPORTED, ...bits }), kind, "UNSUPPORTED", `kind ${kind} without ${Object.keys(bits)}`);
    // An SSD with nothing: every kind unsupported.
    const nothing = { oacs_format_nvm: 0, fna_crypto_erase: 0, sanicap_crypto_erase: 0, sanicap_block_erase: 0, sanicap_overwrite: 0 };
    for (let kind = 0; kind <= EraseKind.SANITIZE_CRYPTO_ERASE; kind++) refused(() => b.identify(nothing), kind, "UNSUPPORTED", `kind ${kind} on an SSD without erase`);
    expect({ commands: b.commands.length, polls: b.polls }).toEqual({ commands: 0, polls: 0 });
    // The kinds each bit allows still run: the supported kind goes through.
    b.identify({ ...nothing, sanicap_crypto_erase: 1 });
    b.pollAnswers.push({ sprog: 0xffff, state: SanitizeState.completed });
    request(b, EraseKind.SANITIZE_CRYPTO_ERASE);
    b.finish();
    expect(b.status).toMatchObject({ state: "DONE" });
    expect(b.commands).toEqual([EXPECTED[EraseKind.SANITIZE_CRYPTO_ERASE]]);
  });

  it("fails with the class of a failed command: an NVMe status, a timeout, a PCIe error (nothing polled)", async () => {
    const b = await bench(5);
    const cases: [CommandAnswer, number, keyof typeof UserErrorClass, number][] = [
      [{ status: statusField(0, 0x0b, true) }, EraseKind.CRYPTO_ERASE, "NVME_STATUS", statusField(0, 0x0b, true)],
      [{ status: statusField(1, 0x0a) }, EraseKind.USER_DATA_ERASE, "NVME_STATUS", statusField(1, 0x0a)],
      [{ status: statusField(0, 0x1d) }, EraseKind.SANITIZE_OVERWRITE, "NVME_STATUS", statusField(0, 0x1d)],
      [{ timedOut: true }, EraseKind.SANITIZE_BLOCK_ERASE, "TIMEOUT", 0],
      [{ pcieError: true }, EraseKind.USER_DATA_ERASE, "PCIE_FAULT", 0],
      // DNR and M alone are no failure.
      [{ status: (1 << 14) | (1 << 13) }, EraseKind.USER_DATA_ERASE, "NONE", 0],
    ];
    for (const [answer, kind, errorClass, status] of cases) {
      b.commandAnswers.push(answer);
      request(b, kind);
      b.finish();
      expect(b.status, JSON.stringify(answer)).toMatchObject({ state: errorClass === "NONE" ? "DONE" : "FAILED", errorClass, status });
    }
    expect(b.polls).toBe(0);
    expect(b.commands.length).toBe(cases.length);
  });

  it("fails a sanitize whose poll fails (each cause), whose SSTAT says failed (Sanitize Failed), or that runs past its poll budget", async () => {
    const b = await bench(6);
    const pollCases: [PollAnswer, keyof typeof UserErrorClass, number][] = [
      [{ error: "COMMAND_STATUS", status: statusField(0, 0x02, true) }, "NVME_STATUS", statusField(0, 0x02, true)],
      [{ error: "COMPLETION_TIMEOUT" }, "TIMEOUT", 0],
      [{ error: "PCIE_ERROR" }, "PCIE_FAULT", 0],
      [{ error: "DATA_POISONED" }, "PCIE_FAULT", 0],
      [{ error: "NOT_READY" }, "NOT_READY", 0],
      [{ sprog: 0x4000, state: SanitizeState.failed }, "NVME_STATUS", SANITIZE_FAILED_STATUS],
    ];
    expect(pollCases.filter(([a]) => a.error).map(([a]) => a.error).sort()).toEqual([...LOG_REFRESH_ERRORS].sort());
    for (const [answer, errorClass, status] of pollCases) {
      b.pollAnswers.push({ sprog: 0x2000, state: SanitizeState.inProgress }, answer);
      const polls = b.polls;
      request(b, EraseKind.SANITIZE_CRYPTO_ERASE);
      b.finish();
      expect(b.status, JSON.stringify(answer)).toMatchObject({ state: "FAILED", errorClass, status, progress: 12 });
      expect(b.polls - polls).toBe(2);
    }
    // Never done: TIMEOUT after exactly the budget's polls; SSTAT "never sanitized" (0) counts as not done either.
    expect(sanitizePollBudget(PARAMS)).toBe(POLLS);
    b.pollAnswers.push({ sprog: 0, state: SanitizeState.neverSanitized });
    const polls = b.polls;
    request(b, EraseKind.SANITIZE_OVERWRITE);
    const seen = b.finish();
    expect(b.status).toMatchObject({ state: "FAILED", errorClass: "TIMEOUT", status: 0 });
    expect(b.polls - polls).toBe(POLLS);
    expect(seen).toEqual([0]);
    // Each poll came the interval after the previous one's end (its done, the multiply of the progress in between).
    const gaps = b.pollCycles.slice(-POLLS + 1).map((at, i) => at - b.doneCycles[b.doneCycles.length - POLLS + i]);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(PARAMS.pollIntervalCycles);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(PARAMS.pollIntervalCycles + 30);
    expect(b.runningMismatches).toBe(0);
    // A request after a failure runs normally.
    b.pollAnswers.push({ sprog: 0xffff, state: SanitizeState.completed });
    request(b, EraseKind.SANITIZE_OVERWRITE);
    b.finish();
    expect(b.status).toMatchObject({ state: "DONE", progress: 100, errorClass: "NONE", status: 0 });
  });

  it("takes no request while one runs: a second request waits and is judged after the first ends", async () => {
    const b = await bench(7);
    b.pollAnswers.push({ sprog: 0x1000, state: SanitizeState.inProgress }, { sprog: 0x2000, state: SanitizeState.inProgress }, { sprog: 0xffff, state: SanitizeState.completed });
    request(b, EraseKind.SANITIZE_BLOCK_ERASE);
    b.sim.poke("user_erase_kind", EraseKind.USER_DATA_ERASE);
    b.sim.poke("user_erase_valid", 1);
    let waited = 0;
    while (b.sim.peek("user_erase_ready") === 0 && waited < 20_000) {
      b.step();
      waited++;
    }
    expect(b.status).toMatchObject({ state: "DONE", kind: "SANITIZE_BLOCK_ERASE" });
    expect(waited).toBeGreaterThan(3 * PARAMS.pollIntervalCycles);
    b.step();
    b.sim.poke("user_erase_valid", 0);
    b.step(2);
    expect(b.status).toMatchObject({ state: "RUNNING", kind: "USER_DATA_ERASE" });
    b.finish();
    expect(b.commands.map((c) => c.opcode)).toEqual([0x84, 0x80]);
    expect(b.readyWhileRunning).toBe(0);
  });

  it("rejects bad parameters, naming them", () => {
    expect(() => nvmeErase({ ...PARAMS, pollIntervalCycles: 0 })).toThrow(/pollIntervalCycles = 0/);
    expect(() => nvmeErase({ ...PARAMS, sanitizeTimeoutCycles: 10 })).toThrow(/sanitizeTimeoutCycles = 10/);
    expect(() => nvmeErase({ ...PARAMS, overwritePattern: 2 ** 32 })).toThrow(/overwritePattern = 4294967296/);
  });
});
