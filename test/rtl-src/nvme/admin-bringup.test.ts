// admin_bringup as emitted Verilog on both engines, against a scripted admin-command peer: it takes
// each command (random ready), and for an Identify writes the page the command asks for at the
// command's PRP1 into the identify_write streams as the router would (header with its payload, in
// pieces, random gaps), then answers on the completion port. The commands must be the reference
// driver's (sim/host/commands.ts), in the driver's order; the results must be what the driver's
// parsers make of the pages (capacity, LBA size, MDTS with CAP.MPSMIN, AWUPF, the queue size with
// CAP.MQES). Faults at every step (a status, a timeout, a PCIe error) and in the data (entry sizes,
// no namespace, LBA formats, poisoned data) end in the named error and step, and `start` then runs
// the whole sequence again to done.
import { afterAll, describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap } from "../../../rtl-src/hostmem/host-memory-map.ts";
import {
  ADMIN_BRINGUP_ERRORS,
  ADMIN_BRINGUP_STEPS,
  type AdminBringupError,
  type AdminBringupStep,
  IDENTIFY_SETTLE_LIMIT,
  adminBringup,
} from "../../../rtl-src/nvme/admin-bringup.ts";
import { CqeField } from "../../../rtl-src/nvme/nvme-cqe.ts";
import { readField, readFieldBig, writeField } from "../../../rtl-src/nvme/nvme-field.ts";
import { IdentifyControllerField as Ctrl, IdentifyNamespaceField as Ns, lbaFormatField } from "../../../rtl-src/nvme/nvme-identify.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import * as cmd from "../../../sim/host/commands.ts";
import { parseIdentifyController, parseIdentifyNamespace } from "../../../sim/host/identify.ts";
import { type ControllerIdentity, identifyController, identifyNamespace } from "../../../sim/nvme/identify.ts";
import { randomInt, seededRandom } from "../../../sim/random.ts";
import { IdentifyWriteDriver, cutPage } from "../../../sim/testbench/identify-writes.ts";
import { fieldOffsets, readPagePort } from "../../../sim/testbench/page-port.ts";
import { type MonitoredSimulator, monitorStreams } from "../../../sim/testbench/stream-monitor.ts";
import { emittedSources } from "../../../sim/engine/designs.ts";

const IO_QUEUE_ENTRIES = 64;
const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];

const CONTROLLER_IDENTITY: ControllerIdentity = {
  pciVendorId: 0x1b36,
  pciSubsystemVendorId: 0x1af4,
  serial: "SN-BRINGUP-0001",
  model: "scripted admin peer",
  firmware: "2.1",
  mdts: 7,
  nn: 1,
  volatileWriteCache: true,
  awun: 15,
  awupf: 3,
  aerl: 3,
  acl: 3,
  elpe: 3,
  rtd3e: 1000,
  maxOutstandingCommands: 256,
};

interface Pages {
  controller: Uint8Array;
  namespace: Uint8Array;
}

function pages(controller: Partial<ControllerIdentity> = {}, namespace: { capacityBlocks?: number; lbaSize?: 512 | 4096; nawupf?: number } = {}): Pages {
  return {
    controller: identifyController({ ...CONTROLLER_IDENTITY, ...controller }),
    namespace: identifyNamespace({ nsid: 1, capacityBlocks: namespace.capacityBlocks ?? 2 ** 33 + 5, lbaSize: namespace.lbaSize ?? 512, nawupf: namespace.nawupf, preferredWriteBlocks: 8 }),
  };
}

/** A copy of `page` with `edit` applied. */
function edited(page: Uint8Array, edit: (p: Uint8Array) => void): Uint8Array {
  const out = new Uint8Array(page);
  edit(out);
  return out;
}

/** The 15-bit Status Field of the completion port, placed by the CQE table. */
function statusField(sct: number, sc: number, flags: { dnr?: boolean; more?: boolean } = {}): number {
  const at = (f: typeof CqeField.sc, v: number) => v << (f.lsb - CqeField.status.lsb);
  return at(CqeField.sct, sct) | at(CqeField.sc, sc) | at(CqeField.dnr, flags.dnr ? 1 : 0) | at(CqeField.more, flags.more ? 1 : 0);
}

interface Answer {
  status?: number;
  timedOut?: boolean;
  pcieError?: boolean;
  /** Identify data comes in poisoned writes. */
  poisonData?: boolean;
}

interface Scenario {
  pages: Pages;
  mqes: number;
  mpsmin: number;
  /** What the peer answers at one step (success elsewhere). */
  fault?: { step: AdminBringupStep } & Answer;
  seed: number;
  /**
   * Identify data written with the checked fields last (SQES..NN, NSZE..LBAF0) and the completion
   * offered the cycle after the last write was taken: the completion overtakes the data in flight.
   */
  eagerCompletion?: boolean;
  /** A second start pulse while the sequence runs: ignored. */
  startAgainAt?: number;
}

interface Command {
  opcode: number;
  nsid: number;
  prp1: number;
  cdw10: number;
  cdw11: number;
}

interface Outcome {
  commands: Command[];
  cycles: number;
  done: number;
  error: number;
  step: number;
  cause: number;
}

const COMMAND_FIELDS = ["opcode", "nsid", "prp1", "cdw10", "cdw11"] as const;

/** Runs the sequence once against the scripted peer, from a start pulse to done or error. */
function runBringup(sim: MonitoredSimulator, scenario: Scenario, maxCycles = 20_000): Outcome {
  const random = seededRandom(scenario.seed);
  const commands: Command[] = [];
  let state: "command" | "working" | "data" | "completion" = "command";
  let wait = 0;
  let driver: IdentifyWriteDriver | undefined;
  let answer: Answer = {};
  sim.poke("mqes", scenario.mqes);
  sim.poke("mpsmin", scenario.mpsmin);
  sim.poke("admin_completion_valid", 0);
  sim.poke("start", 1);
  sim.step();
  sim.poke("start", 0);
  let cycles = 1;
  for (; cycles < maxCycles && !sim.peek("done") && !sim.peek("error"); cycles++) {
    sim.poke("start", cycles === scenario.startAgainAt ? 1 : 0);
    // The command port: taken with random ready while no command is pending.
    const ready = state === "command" && random() < 0.6;
    sim.poke("admin_command_ready", ready ? 1 : 0);
    if (ready && sim.peek("admin_command_valid")) {
      const command = Object.fromEntries(COMMAND_FIELDS.map((f) => [f, sim.peek(`admin_command_${f}`) >>> 0])) as unknown as Command;
      commands.push(command);
      const step = ADMIN_BRINGUP_STEPS[commands.length - 1];
      answer = scenario.fault?.step === step ? scenario.fault : {};
      state = "working";
      wait = randomInt(random, 2, 30);
      driver = undefined;
      const failing = answer.status !== undefined || answer.timedOut || answer.pcieError;
      if (command.opcode === cmd.AdminOpcode.identify && !failing) {
        const cns = command.cdw10 & 0xff;
        const page = cns === cmd.IdentifyCns.controller ? scenario.pages.controller : command.nsid === 1 ? scenario.pages.namespace : undefined;
        if (page) {
          // Eager: the quadword holding SQES/CQES/NN or NSZE is written as zeros first, and rightly last of all.
          const checked = cns === cmd.IdentifyCns.controller ? Ctrl.sqes.offset : Ns.nsze.offset;
          const first = scenario.eagerCompletion ? edited(page, (p) => p.fill(0, checked, checked + 8)) : page;
          const writes = cutPage(command.prp1, first, random, { maxBytes: 256, byteGranular: false });
          if (scenario.eagerCompletion) writes.push({ address: command.prp1 + checked, data: page.slice(checked, checked + 8), firstBe: 0xf, lastBe: 0xf, poisoned: false });
          for (const w of writes) w.poisoned = answer.poisonData ?? false;
          driver = new IdentifyWriteDriver(sim, writes, { headerOfferProbability: 0.9, payloadOfferProbability: 0.9, random, headerWithPayload: true });
        }
      }
    } else if (state === "working" && --wait <= 0) {
      state = driver ? "data" : "completion";
      wait = 0;
    }
    if (state === "data") {
      driver!.drive();
      driver!.settle();
      if (driver!.done) {
        state = "completion";
        wait = scenario.eagerCompletion ? 0 : randomInt(random, 0, 4);
      }
    } else {
      sim.poke("identify_write_valid", 0);
      sim.poke("identify_write_data_tvalid", 0);
    }
    // The completion port: offered (after `wait`) and held until taken.
    let offered = false;
    if (state === "completion" && wait-- <= 0) {
      offered = true;
      sim.poke("admin_completion_status", answer.status ?? 0);
      sim.poke("admin_completion_dw0", 0x003f_003f);
      sim.poke("admin_completion_timed_out", answer.timedOut ? 1 : 0);
      sim.poke("admin_completion_pcie_error", answer.pcieError ? 1 : 0);
    }
    sim.poke("admin_completion_valid", offered ? 1 : 0);
    if (offered && sim.peek("admin_completion_ready")) state = "command";
    sim.step();
  }
  sim.poke("admin_completion_valid", 0);
  sim.poke("admin_command_ready", 1);
  return { commands, cycles, done: sim.peek("done"), error: sim.peek("error"), step: sim.peek("error_step"), cause: sim.peek("error_cause") };
}

/** The commands the reference driver sends for the same bring-up, as the port carries them. */
function driverCommands(entries: number): Command[] {
  const asPort = (c: cmd.Command): Command => ({ opcode: c.opcode, nsid: c.nsid ?? 0, prp1: Number(c.prp1 ?? 0n), cdw10: (c.cdw10 ?? 0) >>> 0, cdw11: (c.cdw11 ?? 0) >>> 0 });
  const map = HostMemoryMap;
  return [
    asPort(cmd.identify(cmd.IdentifyCns.controller, 0, { prp1: BigInt(map.identifyController.base), prp2: 0n })),
    asPort(cmd.identify(cmd.IdentifyCns.namespace, 1, { prp1: BigInt(map.identifyNamespace.base), prp2: 0n })),
    asPort(cmd.setNumberOfQueues(1, 1)),
    asPort(cmd.createIoCq({ qid: 1, entries, base: BigInt(map.ioCq.base) })),
    asPort(cmd.createIoSq({ qid: 1, entries, base: BigInt(map.ioSq.base), cqid: 1 })),
  ];
}

/** The results as the reference driver's parsers and formulas give them. */
function expectedResults(p: Pages, mqes: number, mpsmin: number) {
  const controller = parseIdentifyController(p.controller);
  const namespace = parseIdentifyNamespace(p.namespace);
  const pageBytes = 2 ** (12 + mpsmin);
  const maxTransfer = controller.mdts === 0 ? Infinity : 2 ** controller.mdts * pageBytes;
  const atomicBlocks = (namespace.nsfeat & 2 ? namespace.nawupf : controller.awupf) + 1;
  return {
    capacity_blocks: namespace.nsze,
    lba_bytes: namespace.lbaBytes,
    mdts_bytes_log2: controller.mdts === 0 ? 0 : Math.log2(maxTransfer),
    mdts_bytes: maxTransfer < 2 ** 32 ? maxTransfer : 0,
    awupf_bytes: atomicBlocks * namespace.lbaBytes,
    io_queue_entries: Math.min(IO_QUEUE_ENTRIES, mqes + 1),
    vid: controller.vid,
    nn: controller.nn,
    oncs: controller.oncs,
    vwc: controller.vwc,
    awun: controller.awun,
    nsze: namespace.nsze,
    ncap: namespace.ncap,
    nsfeat: namespace.nsfeat,
  };
}

function results(sim: Simulator) {
  const big = (n: string) => sim.peekBig(n);
  const num = (n: string) => sim.peek(n) >>> 0;
  const controllerPage = readPagePort(sim, "identifyController", fieldOffsets({ vid: Ctrl.vid, oncs: Ctrl.oncs, vwc: Ctrl.vwc, awun: Ctrl.awun }));
  const namespacePage = readPagePort(sim, "identifyNamespace", fieldOffsets({ ncap: Ns.ncap }));
  return {
    capacity_blocks: big("capacity_blocks"),
    lba_bytes: num("lba_bytes"),
    mdts_bytes_log2: num("mdts_bytes_log2"),
    mdts_bytes: num("mdts_bytes"),
    awupf_bytes: num("awupf_bytes"),
    io_queue_entries: num("io_queue_entries"),
    vid: readField(controllerPage, Ctrl.vid),
    nn: num("nn"),
    oncs: readField(controllerPage, Ctrl.oncs),
    vwc: readField(controllerPage, Ctrl.vwc),
    awun: readField(controllerPage, Ctrl.awun),
    nsze: big("nsze"),
    ncap: readFieldBig(namespacePage, Ns.ncap),
    nsfeat: num("nsfeat"),
  };
}

/** An ASCII field of the controller page through the page port, trailing spaces dropped. */
function readString(sim: Simulator, offset: number, length: number): string {
  const bytes = readPagePort(sim, "identifyController", Array.from({ length }, (_, i) => offset + i));
  return String.fromCharCode(...bytes.subarray(offset, offset + length)).trimEnd();
}

const stepNumber = (step: AdminBringupStep) => ADMIN_BRINGUP_STEPS.indexOf(step) + 1;
const causeNumber = (cause: AdminBringupError) => ADMIN_BRINGUP_ERRORS.indexOf(cause) + 1;

/** Cycles a healthy run may take at most: per command the peer's delays, per Identify a 4 KiB page at 8 bytes a cycle with gaps, and the settle wait. */
const HEALTHY_BOUND = 5 * 120 + 2 * (4096 / 8 / 0.8 + IDENTIFY_SETTLE_LIMIT);

describe.each(engines)("admin_bringup (%s)", (engine) => {
  let sim: MonitoredSimulator | undefined;
  afterAll(() => sim?.close());
  const simulator = async () => {
    if (!sim) {
      const module = adminBringup({ ioQueueEntries: IO_QUEUE_ENTRIES });
      const { files } = emitDesign(module);
      sim = monitorStreams(await createSimulator({ sources: emittedSources(files), top: module.name, engine }));
      sim.reset(2);
    }
    return sim;
  };

  const healthy: { name: string; scenario: Omit<Scenario, "seed"> }[] = [
    { name: "MDTS 7, 512-byte blocks, 2^33 + 5 of them, MQES 2047", scenario: { pages: pages(), mqes: 0x7ff, mpsmin: 0, startAgainAt: 300 } },
    {
      name: "MDTS 5 with MPSMIN 1, 4096-byte blocks with NAWUPF (NSABP), MQES 15: a queue of 16",
      scenario: { pages: pages({ mdts: 5, awupf: 1 }, { lbaSize: 4096, capacityBlocks: 1_000_000, nawupf: 7 }), mqes: 15, mpsmin: 1, eagerCompletion: true },
    },
    { name: "MDTS 0 (no limit), MQES 63: exactly the 64 wanted", scenario: { pages: pages({ mdts: 0, awupf: 0x0fff }), mqes: 63, mpsmin: 0, eagerCompletion: true } },
    { name: "MDTS 20: a limit of 4 GiB, beyond 32 bits", scenario: { pages: pages({ mdts: 20 }, { capacityBlocks: 7 }), mqes: 1, mpsmin: 0 } },
  ];

  it.each(healthy)("sends the driver's commands and reports what the pages say: $name", async ({ scenario }) => {
    const s = await simulator();
    const run = runBringup(s, { ...scenario, seed: scenario.mqes + scenario.mpsmin });
    expect({ done: run.done, error: run.error, step: run.step, cause: run.cause }).toEqual({ done: 1, error: 0, step: 0, cause: 0 });
    expect(run.commands).toEqual(driverCommands(Math.min(IO_QUEUE_ENTRIES, scenario.mqes + 1)));
    expect(run.cycles).toBeLessThanOrEqual(HEALTHY_BOUND);
    expect(results(s)).toEqual(expectedResults(scenario.pages, scenario.mqes, scenario.mpsmin));
    const identity = parseIdentifyController(scenario.pages.controller);
    expect([readString(s, Ctrl.sn.offset, Ctrl.sn.size), readString(s, Ctrl.mn.offset, Ctrl.mn.size), readString(s, Ctrl.fr.offset, Ctrl.fr.size)]).toEqual([
      identity.serial,
      identity.model,
      identity.firmware,
    ]);
    // done holds, with nothing offered.
    s.step(30);
    expect({ done: s.peek("done"), busy: s.peek("busy"), valid: s.peek("admin_command_valid") }).toEqual({ done: 1, busy: 0, valid: 0 });
  });

  const commandFaults: [string, Answer, AdminBringupError][] = [
    ["an error status", {}, "COMMAND_STATUS"],
    ["a completion timeout", { timedOut: true }, "COMPLETION_TIMEOUT"],
    ["a PCIe error", { pcieError: true }, "PCIE_ERROR"],
  ];
  /** A status each step may really get (NVMe 1.4 Figures 126, 127). */
  const statusOf: Record<AdminBringupStep, number> = {
    IDENTIFY_CONTROLLER: statusField(0, 0x02),
    IDENTIFY_NAMESPACE: statusField(0, 0x0b, { dnr: true }),
    SET_NUMBER_OF_QUEUES: statusField(0, 0x0c),
    CREATE_IO_CQ: statusField(1, 0x02, { dnr: true }),
    CREATE_IO_SQ: statusField(1, 0x00, { dnr: true, more: true }),
  };

  it.each(commandFaults)("stops at the step that gets %s, names it, and runs again to done", async (_, fault, cause) => {
    const s = await simulator();
    for (const step of ADMIN_BRINGUP_STEPS) {
      const status = cause === "COMMAND_STATUS" ? statusOf[step] : fault.timedOut ? statusField(0, 0x06) : undefined;
      const run = runBringup(s, { pages: pages(), mqes: 0x7ff, mpsmin: 0, fault: { step, ...fault, status }, seed: stepNumber(step) });
      expect({ step: run.step, cause: run.cause, done: run.done, error: run.error }, step).toEqual({ step: stepNumber(step), cause: causeNumber(cause), done: 0, error: 1 });
      expect(s.peek("error_status")).toBe(cause === "COMMAND_STATUS" ? statusOf[step] : 0);
      expect(run.commands).toEqual(driverCommands(IO_QUEUE_ENTRIES).slice(0, stepNumber(step)));
      // error holds; nothing is offered.
      s.step(20);
      expect({ error: s.peek("error"), valid: s.peek("admin_command_valid"), ready: s.peek("admin_completion_ready"), busy: s.peek("busy") }).toEqual({ error: 1, valid: 0, ready: 0, busy: 0 });
      const again = runBringup(s, { pages: pages({}, { lbaSize: 4096 }), mqes: 31, mpsmin: 0, seed: 100 + stepNumber(step) });
      expect({ done: again.done, error: again.error, step: s.peek("error_step"), cause: s.peek("error_cause"), status: s.peek("error_status") }).toEqual({ done: 1, error: 0, step: 0, cause: 0, status: 0 });
      expect(again.commands).toEqual(driverCommands(32));
      expect(results(s)).toEqual(expectedResults(pages({}, { lbaSize: 4096 }), 31, 0));
    }
  });

  it("takes DNR or More alone with a success status as success", async () => {
    const s = await simulator();
    const run = runBringup(s, { pages: pages(), mqes: 0x7ff, mpsmin: 0, fault: { step: "SET_NUMBER_OF_QUEUES", status: statusField(0, 0, { dnr: true, more: true }) }, seed: 3 });
    expect({ done: run.done, error: run.error }).toEqual({ done: 1, error: 0 });
  });

  const { controller: goodController, namespace: goodNamespace } = pages();
  const dataFaults: [string, Pages, Answer | undefined, AdminBringupStep, AdminBringupError][] = [
    ["SQES 0x55 (64-byte entries not allowed)", { controller: edited(goodController, (p) => writeField(p, Ctrl.sqes, 0x55)), namespace: goodNamespace }, undefined, "IDENTIFY_CONTROLLER", "QUEUE_ENTRY_SIZES"],
    ["SQES 0x77 (minimum above 64 bytes)", { controller: edited(goodController, (p) => writeField(p, Ctrl.sqes, 0x77)), namespace: goodNamespace }, undefined, "IDENTIFY_CONTROLLER", "QUEUE_ENTRY_SIZES"],
    ["CQES 0x33", { controller: edited(goodController, (p) => writeField(p, Ctrl.cqes, 0x33)), namespace: goodNamespace }, undefined, "IDENTIFY_CONTROLLER", "QUEUE_ENTRY_SIZES"],
    ["NN 0", pages({ nn: 0 }), undefined, "IDENTIFY_CONTROLLER", "NO_NAMESPACE"],
    ["poisoned Identify Controller data", pages(), { poisonData: true }, "IDENTIFY_CONTROLLER", "IDENTIFY_DATA_POISONED"],
    ["NSZE 0", { controller: goodController, namespace: edited(goodNamespace, (p) => writeField(p, Ns.nsze, 0)) }, undefined, "IDENTIFY_NAMESPACE", "NO_NAMESPACE"],
    ["1024-byte blocks (LBADS 10)", { controller: goodController, namespace: edited(goodNamespace, (p) => writeField(p, lbaFormatField(0).lbads, 10)) }, undefined, "IDENTIFY_NAMESPACE", "LBA_FORMAT"],
    ["8 bytes of metadata per block", { controller: goodController, namespace: edited(goodNamespace, (p) => writeField(p, lbaFormatField(0).ms, 8)) }, undefined, "IDENTIFY_NAMESPACE", "LBA_FORMAT"],
    ["FLBAS selecting format 2 of 1", { controller: goodController, namespace: edited(goodNamespace, (p) => { writeField(p, Ns.flbas, 2); writeField(p, lbaFormatField(2).lbads, 12); }) }, undefined, "IDENTIFY_NAMESPACE", "LBA_FORMAT"],
    ["poisoned Identify Namespace data", pages(), { poisonData: true }, "IDENTIFY_NAMESPACE", "IDENTIFY_DATA_POISONED"],
  ];

  it.each(dataFaults)("checks the Identify data: %s fails its step with its cause, and the next start succeeds", async (_, faultyPages, answer, step, cause) => {
    const s = await simulator();
    const run = runBringup(s, { pages: faultyPages, mqes: 0x7ff, mpsmin: 0, fault: answer ? { step, ...answer } : undefined, seed: 40 + causeNumber(cause) });
    expect({ step: run.step, cause: run.cause, done: run.done, error: run.error, status: s.peek("error_status") }).toEqual({ step: stepNumber(step), cause: causeNumber(cause), done: 0, error: 1, status: 0 });
    expect(run.commands.length).toBe(stepNumber(step));
    const again = runBringup(s, { pages: pages(), mqes: 0x7ff, mpsmin: 0, seed: 60 + causeNumber(cause) });
    expect({ done: again.done, error: again.error }).toEqual({ done: 1, error: 0 });
    expect(results(s)).toEqual(expectedResults(pages(), 0x7ff, 0));
  });

  it("accepts a format other than 0 when FLBAS selects it (format 3 of 4: 4096 bytes, no metadata)", async () => {
    const s = await simulator();
    const namespace = edited(goodNamespace, (p) => {
      writeField(p, Ns.nlbaf, 3);
      writeField(p, Ns.flbas, 3);
      writeField(p, lbaFormatField(1).lbads, 9);
      writeField(p, lbaFormatField(1).ms, 8);
      writeField(p, lbaFormatField(2).lbads, 12);
      writeField(p, lbaFormatField(2).ms, 64);
      writeField(p, lbaFormatField(3).lbads, 12);
    });
    const run = runBringup(s, { pages: { controller: goodController, namespace }, mqes: 0x7ff, mpsmin: 0, seed: 77 });
    expect({ done: run.done, error: run.error }).toEqual({ done: 1, error: 0 });
    expect({ lba_bytes: s.peek("lba_bytes"), awupf_bytes: s.peek("awupf_bytes"), lbads: s.peek("lbads"), ms: s.peek("ms") }).toEqual({
      lba_bytes: 4096,
      awupf_bytes: (readField(goodController, Ctrl.awupf) + 1) * 4096,
      lbads: 12,
      ms: 0,
    });
    expect(s.peekBig("capacity_blocks")).toBe(readFieldBig(namespace, Ns.nsze));
  });
});
