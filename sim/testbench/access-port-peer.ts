// A scripted peer on the PCIe access port (rtl-src/pcie/pcie-access.ts): it plays `pcie_requester`
// for a design that issues accesses (the enumerator, the NVMe initialisation), one edge at a time,
// and answers them from a real `NvmeSsd` model. Each access taken on `<request>_*` becomes the TLP
// the requester would send (CfgRd0/CfgWr0 to the secondary bus, CfgRd1/CfgWr1 beyond it, MRd/MWr of
// one DW), handed to `ssd.receive()`; the completion the SSD sends back (`ssd.nextUpstream()`)
// becomes the response on `<response>_*`, after `latencyCycles`, held until taken. A memory write is
// posted: answered SC once the SSD has it. No link, no TLP layer: this is the access port's
// contract, with the SSD's real configuration space and registers behind it.
//
// Faults a requester can report are put in per access (`inject`): a completion timeout, a UR or CA
// status, a poisoned completion, or silence (no response until `release()`), the last to test a
// design's own watchdog. `emulations` stand in for SSD options the model
// does not have (a class code, a 32-bit BAR0: see `emulate`) and for register values it never
// reads (all ones: the device gone). Back-pressure: `request_ready` comes
// with a chosen probability while the peer is idle; it is low while an access is in flight, as the
// requester serves one access at a time.
import type { Simulator } from "../engine/index.ts";
import type { NvmeSsd } from "../nvme/ssd.ts";
import { type Completion, CplStatus, type Tlp } from "../pcie/tlp.ts";
import { seededRandom } from "./tlp-rx-traffic.ts";

/** `kind` of an access (AccessKind of rtl-src/pcie/pcie-access.ts, restated: sim/ does not import rtl-src/). */
export const PeerAccessKind = { CFG_READ: 0, CFG_WRITE: 1, MEM_READ: 2, MEM_WRITE: 3 } as const;

export interface PeerAccess {
  /** Cycle the request was taken. */
  cycle: number;
  kind: number;
  address: number;
  data: number;
  byteEnable: number;
  /** Configuration accesses: bus, device, function and byte offset of the DW. */
  config?: { bus: number; device: number; fn: number; register: number };
}

export interface PeerResponse {
  data: number;
  status: number;
  timedOut: boolean;
  poisoned: boolean;
}

export type PeerFault = "timeout" | "UR" | "CA" | "poison" | "silent";

export interface AccessPortPeerOptions {
  /** Port prefixes of the design: `<request>_kind`..., `<response>_data`... */
  requestPrefix: string;
  responsePrefix: string;
  /** The root port's secondary bus: configuration accesses to it are Type 0. */
  secondaryBus: number;
  /** Cycles from a request taken to its response offered (a configuration round trip on a real link: some tens). */
  latencyCycles: number;
  /** Probability that request_ready is high in a cycle the peer could take a request. */
  readyChance: number;
  seed: number;
  /** Stand-ins for SSD options the model lacks, applied in order (see `emulate`). */
  emulations: PeerEmulation[];
}

/** Changes what the design sees of the SSD's type-0 configuration space. */
export interface PeerEmulation {
  /** A configuration read's value as the design sees it, given the SSD's answer. */
  rewriteConfigRead?: (register: number, value: number) => number;
  /** false drops a configuration write (answered SC, not applied): a read-only register the model has as writable. */
  filterConfigWrite?: (register: number, byteEnable: number, value: number) => boolean;
  /** A successful memory read's value as the design sees it, given its address and the SSD's answer (a register reading all ones: the device gone). */
  rewriteMemoryRead?: (address: number, value: number) => number;
}

export const defaultAccessPortPeerOptions: AccessPortPeerOptions = {
  requestPrefix: "request",
  responsePrefix: "response",
  secondaryBus: 1,
  latencyCycles: 12,
  readyChance: 1,
  seed: 1,
  emulations: [],
};

interface InFlight {
  access: PeerAccess;
  answerAt: number;
  response?: PeerResponse;
  fault?: PeerFault;
}

const REQUESTER_ID = 0x0000;
const ALL_ONES = 0xffff_ffff;

/** SSD features the model does not offer (yet), played by rewriting what the design reads. */
export const emulate = {
  /** Class code (dword 08h [31:8]). */
  classCode(code: number): PeerEmulation {
    return { rewriteConfigRead: (register, value) => (register === 0x08 ? ((code << 8) | (value & 0xff)) >>> 0 : value) };
  },
  /** BAR0 a 32-bit memory BAR (type 00); BAR1 then unimplemented: reads 0, writes ignored. */
  bar0Is32Bit(): PeerEmulation {
    return {
      rewriteConfigRead: (register, value) => (register === 0x10 ? (value & ~0b0110) >>> 0 : register === 0x14 ? 0 : value),
      filterConfigWrite: (register) => register !== 0x14,
    };
  },
};

export class AccessPortPeer {
  readonly options: AccessPortPeerOptions;
  /** Every access taken, in order, with its response once given. */
  readonly log: { access: PeerAccess; response?: PeerResponse; fault?: PeerFault }[] = [];
  /** TLPs the SSD sent that answer no access (its DMA, messages): none expected during bring-up. */
  readonly unexpected: Tlp[] = [];
  /** Edges run. */
  cycle = 0;
  private readonly faults: { match: (a: PeerAccess) => boolean; fault: PeerFault; count: number }[] = [];
  private readonly random: () => number;
  private inFlight: InFlight | undefined;
  private offered: PeerResponse | undefined;
  private readyNow = 0;
  private nextTag = 0;
  private readonly names: Record<string, string>;

  constructor(
    private readonly sim: Simulator,
    readonly ssd: NvmeSsd,
    options: Partial<AccessPortPeerOptions> = {},
  ) {
    this.options = { ...defaultAccessPortPeerOptions, ...options };
    this.random = seededRandom(this.options.seed);
    const rq = this.options.requestPrefix;
    const rs = this.options.responsePrefix;
    this.names = {
      kind: `${rq}_kind`,
      address: `${rq}_address`,
      data: `${rq}_data`,
      byteEnable: `${rq}_byte_en`,
      valid: `${rq}_valid`,
      ready: `${rq}_ready`,
      rspData: `${rs}_data`,
      rspStatus: `${rs}_status`,
      rspTimedOut: `${rs}_timed_out`,
      rspPoisoned: `${rs}_poisoned`,
      rspValid: `${rs}_valid`,
      rspReady: `${rs}_ready`,
    };
    this.drive();
  }

  /** The next `count` accesses that `match` get `fault` instead of the SSD's answer (they still reach the SSD, but for "silent"). */
  inject(match: (a: PeerAccess) => boolean, fault: PeerFault, count = 1): void {
    this.faults.push({ match, fault, count });
  }

  /** A silent access is answered now (with the SSD's answer), as a requester's very late response. */
  release(): void {
    if (this.inFlight?.fault === "silent") {
      this.inFlight.fault = undefined;
      this.inFlight.response = this.forward(this.inFlight.access);
      this.inFlight.answerAt = this.cycle;
    }
  }

  /** Whether an access is taken and not yet answered and consumed. */
  get busy(): boolean {
    return this.inFlight !== undefined || this.offered !== undefined;
  }

  /** One clock edge of the design with the peer's inputs applied. */
  edge(): void {
    const sim = this.sim;
    const n = this.names;
    this.drive();
    const takes = this.readyNow === 1 && sim.peek(n.valid) === 1;
    const consumed = this.offered !== undefined && sim.peek(n.rspReady) === 1;
    let taken: PeerAccess | undefined;
    if (takes) {
      taken = {
        cycle: this.cycle,
        kind: sim.peek(n.kind),
        address: sim.peek(n.address),
        data: sim.peek(n.data),
        byteEnable: sim.peek(n.byteEnable),
      };
    }
    sim.step();
    this.cycle++;
    if (consumed) this.offered = undefined;
    if (taken) this.take(taken);
    if (this.inFlight && this.inFlight.fault !== "silent" && this.cycle >= this.inFlight.answerAt && !this.offered) {
      this.offered = this.inFlight.response;
      this.log.find((e) => e.access === this.inFlight!.access)!.response = this.offered;
      this.inFlight = undefined;
    }
    this.readyNow = !this.busy && this.random() < this.options.readyChance ? 1 : 0;
  }

  /** Edges until `until()` holds (checked before each); returns how many ran; throws after `max`. */
  runUntil(until: () => boolean, max: number, what: string): number {
    for (let i = 0; i < max; i++) {
      if (until()) return i;
      this.edge();
    }
    if (until()) return max;
    throw new Error(`${what}: not within ${max} cycles`);
  }

  private drive(): void {
    const sim = this.sim;
    const n = this.names;
    const r = this.offered;
    sim.poke(n.ready, this.readyNow);
    sim.poke(n.rspValid, r ? 1 : 0);
    sim.poke(n.rspData, r ? r.data >>> 0 : 0);
    sim.poke(n.rspStatus, r ? r.status : 0);
    sim.poke(n.rspTimedOut, r?.timedOut ? 1 : 0);
    sim.poke(n.rspPoisoned, r?.poisoned ? 1 : 0);
  }

  private take(access: PeerAccess): void {
    if (access.kind === PeerAccessKind.CFG_READ || access.kind === PeerAccessKind.CFG_WRITE) {
      const a = access.address;
      access.config = { bus: a >>> 24, device: (a >>> 19) & 0x1f, fn: (a >>> 16) & 7, register: a & 0xffc };
    }
    const rule = this.faults.find((f) => f.count > 0 && f.match(access));
    if (rule) rule.count--;
    const fault = rule?.fault;
    this.log.push({ access, fault });
    let response: PeerResponse | undefined;
    if (fault === "silent") {
      response = undefined;
    } else {
      const answer = this.forward(access);
      response =
        fault === "timeout" ? { data: ALL_ONES, status: CplStatus.SC, timedOut: true, poisoned: false }
        : fault === "UR" || fault === "CA" ? { data: ALL_ONES, status: CplStatus[fault], timedOut: false, poisoned: false }
        : fault === "poison" ? { ...answer, data: ALL_ONES, poisoned: true }
        : answer;
    }
    this.inFlight = { access, answerAt: this.cycle + this.options.latencyCycles, response, fault };
  }

  /** The access as a TLP to the SSD, and its answer. */
  private forward(access: PeerAccess): PeerResponse {
    const o = this.options;
    const common = { tc: 0, attr: 0, ep: false, td: false, requesterId: REQUESTER_ID, tag: this.nextTag };
    this.nextTag = (this.nextTag + 1) % 32;
    const le = (value: number) => {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
      return bytes;
    };
    switch (access.kind) {
      case PeerAccessKind.CFG_READ:
      case PeerAccessKind.CFG_WRITE: {
        const c = access.config!;
        const write = access.kind === PeerAccessKind.CFG_WRITE;
        const type0 = c.bus === o.secondaryBus;
        if (write && type0 && o.emulations.some((e) => e.filterConfigWrite && !e.filterConfigWrite(c.register, access.byteEnable, access.data))) {
          return { data: 0, status: CplStatus.SC, timedOut: false, poisoned: false };
        }
        const kind = write ? (type0 ? "CfgWr0" : "CfgWr1") : type0 ? "CfgRd0" : "CfgRd1";
        const cpl = this.exchange({ ...common, kind, bus: c.bus, device: c.device, fn: c.fn, register: c.register, firstBe: access.byteEnable, data: write ? le(access.data) : undefined });
        const response = this.completionResponse(cpl);
        if (!write && type0 && response.status === CplStatus.SC) {
          for (const e of o.emulations) if (e.rewriteConfigRead) response.data = e.rewriteConfigRead(c.register, response.data) >>> 0;
        }
        return response;
      }
      case PeerAccessKind.MEM_READ: {
        const response = this.completionResponse(this.exchange({ ...common, kind: "MRd", address: BigInt(access.address), addr64: false, lengthDw: 1, firstBe: access.byteEnable, lastBe: 0 }));
        if (response.status === CplStatus.SC && !response.timedOut && !response.poisoned) {
          for (const e of o.emulations) if (e.rewriteMemoryRead) response.data = e.rewriteMemoryRead(access.address, response.data) >>> 0;
        }
        return response;
      }
      default:
        this.ssd.receive({ ...common, kind: "MWr", address: BigInt(access.address), addr64: false, lengthDw: 1, firstBe: access.byteEnable, lastBe: 0, data: le(access.data) }, this.cycle);
        return { data: 0, status: CplStatus.SC, timedOut: false, poisoned: false };
    }
  }

  /** Sends a non-posted request and returns its completion (the model answers at once). */
  private exchange(tlp: Tlp): Completion | undefined {
    this.ssd.receive(tlp, this.cycle);
    let answer: Completion | undefined;
    for (let t = this.ssd.nextUpstream(this.cycle); t; t = this.ssd.nextUpstream(this.cycle)) {
      if ((t.kind === "Cpl" || t.kind === "CplD") && !answer && t.tag === (tlp as { tag: number }).tag) answer = t;
      else this.unexpected.push(t);
    }
    return answer;
  }

  private completionResponse(cpl: Completion | undefined): PeerResponse {
    if (!cpl) return { data: ALL_ONES, status: CplStatus.SC, timedOut: true, poisoned: false };
    if (cpl.status !== CplStatus.SC) return { data: ALL_ONES, status: cpl.status, timedOut: false, poisoned: false };
    const data = cpl.data && cpl.data.length >= 4 ? new DataView(cpl.data.buffer, cpl.data.byteOffset, 4).getUint32(0, true) : 0;
    return { data: cpl.ep ? ALL_ONES : data, status: cpl.status, timedOut: false, poisoned: cpl.ep };
  }
}
