// Runs nvme_admin_system (nvme-admin-system.ts) behind the link model against an NvmeSsd: the
// test's own access port (configuration and register accesses, used to enumerate the SSD), the
// nvme_init start/done handshake, admin commands on the command/completion ports, and a sink for
// the Identify writes with random back-pressure. A tap between the link and the SSD records every
// TLP each way, from which the rig rebuilds what the SSD fetched from the admin SQ (entry by entry)
// and the doorbells and register writes it received.
import { AccessKind, configAddress } from "../../rtl-src/pcie/pcie-access.ts";
import type { Simulator } from "../engine/index.ts";
import { NvmeSsd } from "../nvme/ssd.ts";
import type { SsdOptions } from "../nvme/options.ts";
import { LinkModel } from "../pcie/link-model.ts";
import type { Completion, MemRequest } from "../pcie/tlp.ts";
import { HostMemoryMap } from "../../rtl-src/hostmem/host-memory-map.ts";
import { type AccessPortAnswer, accessThroughPort } from "./access-port-client.ts";
import { EndpointTap } from "./endpoint-tap.ts";
import { RootPortBridge } from "./root-port-bridge.ts";

export const RIG_BAR0 = 0xe000_0000;
const COMMAND_MEMORY_BUS_MASTER = 0x0006;

export interface AdminCommandFields {
  opcode: number;
  nsid: number;
  prp1: number;
  cdw10: number;
  cdw11: number;
}

export interface AdminAnswer {
  status: number;
  dw0: number;
  timedOut: number;
  pcieError: number;
  cycles: number;
}

export interface InitOutcome {
  done: number;
  error: number;
  code: number;
  cycles: number;
}

export class NvmeAdminRig {
  readonly ssd: NvmeSsd;
  readonly tap: EndpointTap;
  readonly link: LinkModel;
  readonly bridge: RootPortBridge;
  /** Bytes the router handed out on identify_write, by address. */
  readonly identifyBytes = new Map<number, number>();
  /** identify_write headers taken, in order. */
  readonly identifyHeaders: { address: number; lengthDw: number; poisoned: number }[] = [];
  private identifyQueue: { address: number; lengthDw: number }[] = [];
  private identifyAt = 0;
  private readonly words = new Uint32Array(2);

  constructor(
    readonly sim: Simulator,
    ssdOptions: Partial<SsdOptions>,
    private readonly random: () => number,
  ) {
    this.ssd = new NvmeSsd(ssdOptions);
    this.tap = new EndpointTap(this.ssd);
    this.link = new LinkModel(this.tap, { trainingCycles: 50 });
    this.bridge = new RootPortBridge(sim, this.link);
    sim.reset(2);
    for (const name of ["test_access_valid", "test_response_ready", "init_start", "command_valid", "completion_ready", "identify_write_ready", "identify_write_data_tready"]) sim.poke(name, 0);
    sim.poke("bar0_address", RIG_BAR0);
  }

  get cycle(): number {
    return this.link.cycle;
  }

  /** One clock edge, with the Identify sink's ready chosen at random and what it takes recorded. */
  step(cycles = 1): void {
    for (let n = 0; n < cycles; n++) {
      this.identifySink();
      this.bridge.step();
    }
  }

  /** Steps until `done()`, at most `maxCycles`; returns the cycles taken or throws. */
  until(done: () => boolean, maxCycles: number, what: string): number {
    for (let n = 0; n < maxCycles; n++) {
      if (done()) return n;
      this.step();
    }
    if (done()) return maxCycles;
    throw new Error(`${what} not reached within ${maxCycles} cycles`);
  }

  /** Link up, then BAR0 and Command through the test's own access port, as an enumerator would. */
  enumerate(): void {
    this.until(() => this.link.ports.user_lnk_up === 1, 10_000, "link up");
    const cfg = (offset: number) => configAddress(1, 0, 0, offset);
    const expectSc = (what: string, a: { status: number; timedOut: number }) => {
      if (a.status !== 0 || a.timedOut) throw new Error(`enumeration: ${what} answered status ${a.status} timed_out ${a.timedOut}`);
    };
    expectSc("BAR0", this.access(AccessKind.CFG_WRITE, cfg(0x10), RIG_BAR0));
    expectSc("BAR1", this.access(AccessKind.CFG_WRITE, cfg(0x14), 0));
    expectSc("Command", this.access(AccessKind.CFG_WRITE, cfg(0x04), COMMAND_MEMORY_BUS_MASTER, 0b0011));
  }

  /** One access on the test's port: the request held until taken, the response taken when offered. */
  access(kind: number, address: number, data = 0, byteEn = 0xf, maxCycles = 100_000): AccessPortAnswer {
    return accessThroughPort(this.sim, () => this.step(), { kind, address, data, byteEn }, { request: "test_access", response: "test_response", maxCycles });
  }

  /** Pulses init_start and waits for done or error. */
  init(maxCycles: number): InitOutcome {
    const { sim } = this;
    sim.poke("init_start", 1);
    this.step();
    sim.poke("init_start", 0);
    const cycles = this.until(() => sim.peek("init_done") === 1 || sim.peek("init_error") === 1, maxCycles, "nvme_init done or error") + 1;
    return { done: sim.peek("init_done"), error: sim.peek("init_error"), code: sim.peek("init_error_code"), cycles };
  }

  /** One admin command: offered until taken, then its answer taken (after a random pause). */
  command(c: AdminCommandFields, maxCycles: number): AdminAnswer {
    const { sim } = this;
    for (const [field, value] of Object.entries(c)) sim.poke(`command_${field}`, value >>> 0);
    sim.poke("command_valid", 1);
    const start = this.cycle;
    this.until(() => sim.peek("command_ready") === 1, maxCycles, "command taken");
    this.step();
    sim.poke("command_valid", 0);
    // The engine holds the command: the port's fields may change once it is taken.
    for (const field of Object.keys(c)) sim.poke(`command_${field}`, Math.floor(this.random() * 256));
    this.until(() => sim.peek("completion_valid") === 1, maxCycles, "command answered");
    this.step(Math.floor(this.random() * 4));
    const answer = {
      status: sim.peek("completion_status"),
      dw0: sim.peek("completion_dw0") >>> 0,
      timedOut: sim.peek("completion_timed_out"),
      pcieError: sim.peek("completion_pcie_error"),
      cycles: this.cycle - start,
    };
    sim.poke("completion_ready", 1);
    this.step();
    sim.poke("completion_ready", 0);
    return answer;
  }

  /** The SQ entries the SSD fetched, in order: each MRd to the admin SQ region with the CplD data it got. */
  fetchedEntries(): { address: number; bytes: Uint8Array }[] {
    const { adminSq } = HostMemoryMap;
    const reads = this.tap.up
      .map((u) => u.tlp)
      .filter((t): t is MemRequest => t.kind === "MRd" && Number(t.address) >= adminSq.base && Number(t.address) < adminSq.base + adminSq.bytes);
    return reads.flatMap((read) => {
      const completions = this.tap.down.map((d) => d.tlp).filter((t): t is Completion => t.kind === "CplD" && t.tag === read.tag && t.requesterId === this.ssd.requesterId);
      const data = Buffer.concat(completions.map((c) => c.data ?? new Uint8Array(0)));
      const entries: { address: number; bytes: Uint8Array }[] = [];
      for (let at = 0; at + 64 <= data.length; at += 64) entries.push({ address: Number(read.address) + at, bytes: new Uint8Array(data.subarray(at, at + 64)) });
      return entries;
    });
  }

  /** Memory writes the SSD received (register and doorbell writes), as BAR0 offset and value. */
  registerWrites(): { offset: number; value: number }[] {
    return this.tap.down
      .map((d) => d.tlp)
      .filter((t): t is MemRequest => t.kind === "MWr")
      .map((t) => ({ offset: Number(t.address) - RIG_BAR0, value: Buffer.from(t.data!).readUInt32LE(0) }));
  }

  /** The bytes the SSD wrote to host memory in `[base, base + bytes)`, by address. */
  ssdWrites(base: number, bytes: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const { tlp } of this.tap.up) {
      if (tlp.kind !== "MWr") continue;
      const address = Number(tlp.address);
      if (address < base || address >= base + bytes) continue;
      tlp.data!.forEach((b, i) => out.set(address + i, b));
    }
    return out;
  }

  private identifySink(): void {
    const { sim } = this;
    const headerReady = this.random() < 0.7;
    sim.poke("identify_write_ready", headerReady ? 1 : 0);
    if (headerReady && sim.peek("identify_write_valid")) {
      const header = { address: Number(sim.peekBig("identify_write_address")), lengthDw: sim.peek("identify_write_length_dw") || 1024, poisoned: sim.peek("identify_write_poisoned") };
      this.identifyHeaders.push(header);
      this.identifyQueue.push(header);
    }
    // A payload beat is taken only once its header is (in this cycle or before).
    const dataReady = this.random() < 0.7 && this.identifyQueue.length > 0;
    sim.poke("identify_write_data_tready", dataReady ? 1 : 0);
    if (!dataReady || !sim.peek("identify_write_data_tvalid")) return;
    const header = this.identifyQueue[0];
    sim.peekWords("identify_write_data_tdata", this.words);
    const dws = sim.peek("identify_write_data_tkeep") === 0xff ? 2 : 1;
    for (let i = 0; i < dws; i++) {
      for (let b = 0; b < 4; b++) this.identifyBytes.set(header.address + this.identifyAt + b, (this.words[i] >>> (8 * b)) & 0xff);
      this.identifyAt += 4;
    }
    if (sim.peek("identify_write_data_tlast")) {
      if (this.identifyAt !== header.lengthDw * 4) throw new Error(`identify write at 0x${header.address.toString(16)}: ${this.identifyAt} bytes for ${header.lengthDw} DWs`);
      this.identifyQueue.shift();
      this.identifyAt = 0;
    }
  }
}
