// A scripted PCIe peer for tests: a memory completer (MWr stores by byte enables, MRd answered with CplDs
// split by completion-split.ts), a small type-0 config space answering CfgRd0/CfgWr0, UR for anything it
// does not claim, and a queue of upstream TLPs a test scripts itself. Everything it receives is recorded.

import { completeMemoryRead, completionWithoutData, type CompletionSplitParams } from "../pcie/completion-split.ts";
import { Fifo } from "../pcie/fifo.ts";
import { SparseMemory } from "../pcie/sparse-memory.ts";
import type { Completion, ConfigRequest, MemRequest, PcieEndpoint, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";

export interface ScriptedEndpointOptions {
  /** Completer ID = this endpoint's BDF (default 01:00.0 = 0x0100). */
  completerId?: number;
  /** Completion splitting (default RCB 64, MPS 128, largest pieces). */
  split?: CompletionSplitParams;
  /** Cycles from receiving an MRd / config request to its first completion being ready (default 0). */
  responseLatencyCycles?: number;
  /** Claimed memory range [base, base+size); requests outside get UR (default: all addresses). */
  memoryWindow?: { base: bigint; size: bigint };
  /** Value of unwritten memory bytes (default 0). */
  fill?: number;
  /** Initial config space DWs by byte offset (default Vendor 0x1b36, Device 0x0010, class 0x010802). */
  config?: ReadonlyMap<number, number>;
}

interface Scheduled {
  ready: number;
  tlp: Tlp;
}

export class ScriptedEndpoint implements PcieEndpoint {
  readonly memory: SparseMemory;
  /** Every TLP received, with its arrival cycle. */
  readonly received: { cycle: number; tlp: Tlp }[] = [];
  /** Completions received (answers to TLPs the test scripted upstream). */
  readonly completions: Completion[] = [];
  /** Posted writes outside the memory window (dropped, as a real device would, with UR logged). */
  unclaimedWrites = 0;
  readonly configSpace = new Map<number, number>();
  private readonly upstream = new Fifo<Scheduled>();
  private readonly completerId: number;
  private readonly split: CompletionSplitParams;
  private readonly latency: number;

  constructor(private readonly options: ScriptedEndpointOptions = {}) {
    this.completerId = options.completerId ?? 0x0100;
    this.split = options.split ?? { rcb: 64, mps: 128 };
    this.latency = options.responseLatencyCycles ?? 0;
    this.memory = new SparseMemory(options.fill ?? 0);
    const defaults: [number, number][] = [
      [0x00, 0x0010_1b36],
      [0x08, 0x0108_0200],
    ];
    for (const [offset, value] of options.config ?? defaults) this.configSpace.set(offset, value >>> 0);
  }

  /** Script an upstream TLP, ready at `readyCycle` (upstream TLPs leave in the order queued). */
  queueUpstream(tlp: Tlp, readyCycle = 0): void {
    this.upstream.push({ ready: readyCycle, tlp });
  }

  receive(tlp: Tlp, cycle: number): void {
    this.received.push({ cycle, tlp });
    switch (tlp.kind) {
      case "MWr":
        return this.storeWrite(tlp);
      case "MRd":
        return this.answerRead(tlp, cycle);
      case "CfgRd0":
      case "CfgWr0":
        return this.answerConfig(tlp, cycle);
      case "CfgRd1":
      case "CfgWr1":
        // Type 1 requests are for bridges; an endpoint answers UR.
        return this.reply(completionWithoutData(tlp, this.completerId, CplStatus.UR), cycle);
      case "Cpl":
      case "CplD":
        this.completions.push(tlp);
        return;
      case "Msg":
      case "MsgD":
        return;
    }
  }

  /** The scripted endpoint acts only when a queued TLP becomes ready. */
  nextEventCycle(): number | undefined {
    return this.upstream.peek()?.ready;
  }

  nextUpstream(cycle: number): Tlp | undefined {
    const head = this.upstream.peek();
    if (head === undefined || head.ready > cycle) return undefined;
    this.upstream.shift();
    return head.tlp;
  }

  private claims(request: MemRequest): boolean {
    const window = this.options.memoryWindow;
    if (!window) return true;
    const end = request.address + BigInt(request.lengthDw * 4);
    return request.address >= window.base && end <= window.base + window.size;
  }

  private storeWrite(tlp: MemRequest): void {
    if (!this.claims(tlp)) {
      this.unclaimedWrites++;
      return;
    }
    const lastDw = tlp.lengthDw - 1;
    this.memory.write(tlp.address, tlp.data!, (index) => {
      const dw = index >> 2;
      const be = dw === 0 ? tlp.firstBe : dw === lastDw ? tlp.lastBe : 0xf;
      return ((be >> (index & 3)) & 1) === 1;
    });
  }

  private answerRead(tlp: MemRequest, cycle: number): void {
    if (!this.claims(tlp)) return this.reply(completionWithoutData(tlp, this.completerId, CplStatus.UR), cycle);
    const completions = completeMemoryRead(tlp, this.completerId, (address, length) => this.memory.read(address, length), this.split);
    for (const completion of completions) this.reply(completion, cycle);
  }

  private answerConfig(tlp: ConfigRequest, cycle: number): void {
    if (tlp.fn !== 0) return this.reply(completionWithoutData(tlp, this.completerId, CplStatus.UR), cycle);
    const current = this.configSpace.get(tlp.register) ?? 0;
    if (tlp.kind === "CfgWr0") {
      let next = current;
      for (let k = 0; k < 4; k++) {
        if ((tlp.firstBe >> k) & 1) next = (next & ~(0xff << (8 * k))) | (tlp.data![k] << (8 * k));
      }
      this.configSpace.set(tlp.register, next >>> 0);
      return this.reply(completionWithoutData(tlp, this.completerId, CplStatus.SC), cycle);
    }
    // Config data is little-endian in the register, byte k of the DW at wire byte k.
    const data = new Uint8Array([current & 0xff, (current >>> 8) & 0xff, (current >>> 16) & 0xff, current >>> 24]);
    const completion: Completion = { ...completionWithoutData(tlp, this.completerId, CplStatus.SC), kind: "CplD", lengthDw: 1, data };
    this.reply(completion, cycle);
  }

  private reply(completion: Completion, cycle: number): void {
    this.upstream.push({ ready: cycle + this.latency, tlp: completion });
  }
}
