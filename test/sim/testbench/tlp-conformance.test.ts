// The TLP conformance checker: legal traffic of every kind reports nothing; each rule broken once is
// reported once, with its key, the cycle of the offending TLP and a message that says what is wrong;
// on a live link model the checker sees through linkOptions() what the trace sees plus the TLPs the
// link refuses, with the root port's settings as they are when each TLP goes out; and two real runs
// (pcie_requester on the TLP layer against the SSD model, the completer answering a peer's reads)
// report no violations, while the completer's trace checked against stricter settings does.
import { describe, expect, it } from "vitest";
import { AccessKind, configAddress } from "../../../rtl-src/pcie/pcie-access.ts";
import { defaultTlpLayerParams, type TlpLayerParams } from "../../../rtl-src/tlp/tlp-interfaces.ts";
import type { Simulator } from "../../../sim/engine/index.ts";
import { NvmeSsd } from "../../../sim/nvme/ssd.ts";
import { encodeTlp } from "../../../sim/pcie/codec.ts";
import { completeMemoryRead, completionWithoutData, type CompletionSplitParams } from "../../../sim/pcie/completion-split.ts";
import { LinkModel, type LinkEvent } from "../../../sim/pcie/link-model.ts";
import { DEVICE_CONTROL } from "../../../sim/pcie/rp-config-space.ts";
import { TlpPort } from "../../../sim/pcie/tlp-port.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type PcieEndpoint, type Tlp } from "../../../sim/pcie/tlp.ts";
import { teeTrace, TraceWriter, type TraceEntry } from "../../../sim/pcie/trace.ts";
import { seededRandom } from "../../../sim/random.ts";
import { accessThroughPort } from "../../../sim/testbench/access-port-client.ts";
import { buildPcieRequesterSystem } from "../../../sim/testbench/pcie-requester-system.ts";
import { RootPortBridge } from "../../../sim/testbench/root-port-bridge.ts";
import { ScriptedEndpoint } from "../../../sim/testbench/scripted-endpoint.ts";
import { buildCompleterSystemSimulator, runCompleterSystem } from "../../../sim/testbench/tlp-completer-system.ts";
import { readOfBytes } from "../../../sim/testbench/tlp-completer-harness.ts";
import { checkTrace, overrideRootPort, TlpConformanceChecker, type RootPortSettings, type TlpRule } from "../../../sim/testbench/tlp-conformance.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };
const SSD_ID = 0x0100;
const TIMEOUT = 1000;
const BAR0 = 0xe000_0000;
const rootPort: RootPortSettings = {
  maxPayloadSize: 256,
  maxReadRequestSize: 512,
  readCompletionBoundary: 64,
  secondaryBus: 1,
  subordinateBus: 1,
  extendedTagEnabled: false,
};
const split: CompletionSplitParams = { rcb: 64, mps: 256 };

function mrd(tag: number, address: number | bigint, lengthDw = 1, extra: Partial<MemRequest> = {}): MemRequest {
  return { kind: "MRd", ...plain, requesterId: 0, tag, address: BigInt(address), addr64: false, lengthDw, firstBe: 0xf, lastBe: lengthDw === 1 ? 0 : 0xf, ...extra };
}

function mwr(address: number | bigint, lengthDw = 1, extra: Partial<MemRequest> = {}): MemRequest {
  const data = new Uint8Array(lengthDw * 4).map((_, i) => i + 1);
  return { kind: "MWr", ...plain, requesterId: 0, tag: 0, address: BigInt(address), addr64: false, lengthDw, firstBe: 0xf, lastBe: lengthDw === 1 ? 0 : 0xf, data, ...extra };
}

function cfg(kind: ConfigRequest["kind"], tag: number, register: number, extra: Partial<ConfigRequest> = {}): ConfigRequest {
  const request: ConfigRequest = { kind, ...plain, requesterId: 0, tag, bus: 1, device: 0, fn: 0, register, firstBe: 0xf, ...extra };
  if ((kind === "CfgWr0" || kind === "CfgWr1") && !request.data) request.data = new Uint8Array([6, 0, 0, 0]);
  return request;
}

/** The SSD's read of `bytes` bytes at `address` (any byte alignment). */
function ssdRead(tag: number, address: number | bigint, bytes: number, extra: Partial<MemRequest> = {}): MemRequest {
  const a = BigInt(address);
  const read = readOfBytes(a & ~0xfffn, Number(a & 0xfffn), bytes, { requesterId: SSD_ID, tag, tc: 0, attr: 0 });
  return { kind: "MRd", ep: false, td: false, addr64: a >= 1n << 32n, ...read, ...extra };
}

const zeros = (_address: bigint, length: number) => new Uint8Array(length);

/** Our completions for the SSD's read, as the reference completer cuts them. */
function answer(read: MemRequest, params: CompletionSplitParams = split): Completion[] {
  return completeMemoryRead(read, 0x0000, zeros, params);
}

/** The SSD's completion(s) to one of our requests. */
function ssdAnswer(request: MemRequest | ConfigRequest, status: CplStatus = CplStatus.SC): Completion[] {
  if (status !== CplStatus.SC || request.kind === "CfgWr0" || request.kind === "CfgWr1") return [completionWithoutData(request, SSD_ID, status)];
  if (request.kind === "MRd") return completeMemoryRead(request, SSD_ID, zeros, { rcb: 64, mps: 256, policy: "rcb" });
  return [{ kind: "CplD", ...plain, completerId: SSD_ID, status: CplStatus.SC, bcm: false, byteCount: 4, requesterId: 0, tag: request.tag, lowerAddress: 0, lengthDw: 1, data: new Uint8Array(4) }];
}

/** Feeds a checker TLPs as a trace would, ten cycles apart. */
class Feed {
  cycle = 0;
  constructor(readonly checker: TlpConformanceChecker) {}
  /** Sends downstream; returns the cycle it went out. */
  down(tlp: Tlp | Uint8Array, gap = 10): number {
    this.cycle += gap;
    this.checker.write(this.cycle, "down", tlp instanceof Uint8Array ? tlp : wire(tlp));
    return this.cycle;
  }
  up(tlp: Tlp, gap = 10): number {
    this.cycle += gap;
    this.checker.write(this.cycle, "up", wire(tlp));
    return this.cycle;
  }
  downAll(tlps: readonly Tlp[]): number {
    let cycle = 0;
    for (const tlp of tlps) cycle = this.down(tlp, 2);
    return cycle;
  }
  upAll(tlps: readonly Tlp[]): void {
    for (const tlp of tlps) this.up(tlp, 2);
  }
  event(source: LinkEvent["source"], category: string, reason = "test event"): number {
    this.cycle += 10;
    this.checker.linkEvent({ cycle: this.cycle, source, category, reason });
    return this.cycle;
  }
}

const wire = (tlp: Tlp) => encodeTlp(tlp, { skipRuleChecks: true, allow4dwBelow4G: true });

function feed(settings: Partial<RootPortSettings> = {}): Feed {
  return new Feed(new TlpConformanceChecker({ completionTimeoutCycles: TIMEOUT, rootPort: { ...rootPort, ...settings } }));
}

/** Header bytes patched after encoding: Length (DW0[9:0]) and Last BE (DW1 byte 3, high nibble). */
function withLength(bytes: Uint8Array, lengthDw: number): Uint8Array {
  const patched = bytes.slice();
  patched[2] = (patched[2] & 0xfc) | ((lengthDw >> 8) & 3);
  patched[3] = lengthDw & 0xff;
  return patched;
}

function withLastBe(bytes: Uint8Array, lastBe: number): Uint8Array {
  const patched = bytes.slice();
  patched[7] = (lastBe << 4) | (patched[7] & 0xf);
  return patched;
}

describe("legal traffic", () => {
  it("a bring-up's worth of requests, completions both ways, tag reuse after a completion, a timeout and a link reset: nothing reported", () => {
    const f = feed();
    const c = f.checker;
    // Enumeration: Type 0 to 1:0.0, a CRS then a retry on the same tag, writes, reads.
    const vendor = cfg("CfgRd0", 0, 0x00);
    f.down(vendor);
    f.up(ssdAnswer(vendor, CplStatus.CRS)[0]);
    f.down(vendor);
    f.up(ssdAnswer(vendor)[0]);
    const bar = cfg("CfgWr0", 1, 0x10, { data: new Uint8Array([0, 0, 0, 0xe0]) });
    f.down(bar);
    f.upAll(ssdAnswer(bar));
    const command = cfg("CfgWr0", 0, 0x04, { firstBe: 0b0011 });
    f.down(command);
    f.upAll(ssdAnswer(command));
    const type1 = cfg("CfgRd1", 2, 0x00, { bus: 2 });
    const switched = feed({ subordinateBus: 4 });
    switched.down(type1);
    expect(switched.checker.report()).toBe("");
    // BAR0: a register read, a zero-length read, a QW-aligned 2-DW access with non-contiguous enables.
    const cap = mrd(3, BAR0, 2);
    f.down(cap);
    f.upAll(ssdAnswer(cap));
    const flush = mrd(4, BAR0 + 0x1c, 1, { firstBe: 0 });
    f.down(flush);
    f.upAll(ssdAnswer(flush));
    f.down(mwr(BAR0 + 0x28, 2, { firstBe: 0b0101, lastBe: 0b1010 }));
    f.down(mwr(BAR0 + 0x1000, 1, { firstBe: 0b1001 }));
    f.down(mwr(0x1_0000_0000n + 0x40n, 64, { addr64: true })); // 256 B at MPS 256, 4DW above 4 GiB
    f.down(mrd(5, 0x2000, 128)); // 512 B at MRRS 512
    f.upAll(ssdAnswer(mrd(5, 0x2000, 128)));
    // A request that never completes: its tag is free again after the completion timeout.
    const lostAt = f.down(mrd(6, BAR0 + 0x08));
    f.down(mrd(6, BAR0 + 0x08), TIMEOUT);
    expect(f.cycle - lostAt).toBe(TIMEOUT);
    f.upAll(ssdAnswer(mrd(6, BAR0 + 0x08)));
    // The SSD's reads, answered by the reference completer's splits (interleaved), a UR, a zero-length read.
    const sqe = ssdRead(7, 0x1000_0000, 64);
    const prpList = ssdRead(8, 0x1_2345_6034n, 300, { attr: 2, tc: 1 });
    const data = ssdRead(9, 0x3000_0000, 4096);
    f.upAll([sqe, prpList, data]);
    const answers = [answer(sqe), answer(prpList, { rcb: 64, mps: 256, policy: "rcb" }), answer(data)];
    for (let k = 0; answers.some((a) => k < a.length); k++) for (const a of answers) if (k < a.length) f.down(a[k], 2);
    const refused = ssdRead(10, 0xd000_0000, 8);
    f.up(refused);
    f.down(completionWithoutData(refused, 0, CplStatus.UR));
    const aborted = ssdRead(10, 0xd000_0000, 8);
    f.up(aborted);
    f.down(completionWithoutData(aborted, 0, CplStatus.CA));
    const zeroLength = { ...ssdRead(11, 0x1000_0040, 4), firstBe: 0 };
    f.up(zeroLength);
    f.downAll(answer(zeroLength));
    // Extended tags once the root port enables them.
    const wide = feed({ extendedTagEnabled: true });
    wide.down(mrd(200, BAR0));
    expect(wide.checker.report()).toBe("");
    // Events that are not refusals of what the controller sent.
    f.event("tx", "tx-over-mrrs");
    f.event("tx", "tx-src-discontinue");
    f.event("rx", "rx-over-mps");
    f.event("link", "retrain");
    // PERST#: nothing outstanding survives, so a tag may be used again at once and the SSD's open read is void.
    f.down(mrd(12, BAR0));
    f.up(ssdRead(13, 0x1000_0000, 64));
    f.event("link", "perst-asserted");
    f.down(mrd(12, BAR0));
    f.upAll(ssdAnswer(mrd(12, BAR0)));

    c.finish();
    expect(c.report()).toBe("");
    expect(c.violationCount).toBe(0);
    expect(c.seen.down).toBe(40);
    expect(c.seen.up).toBe(23);
    expect(c.outstandingTags()).toEqual([]);
    expect(c.openSsdReads()).toEqual({ reads: 0, bytes: 0 });
  });

  it("follows what is outstanding: tags until their last completion, the SSD's reads until every byte is back", () => {
    const f = feed();
    const read = mrd(3, 0x4000, 32);
    f.down(read);
    expect(f.checker.outstandingTags()).toEqual([3]);
    const [first, second] = ssdAnswer(read);
    f.up(first);
    expect(f.checker.outstandingTags()).toEqual([3]);
    f.up(second);
    expect(f.checker.outstandingTags()).toEqual([]);
    const theirs = ssdRead(1, 0x1000_0034, 300);
    f.up(theirs);
    expect(f.checker.openSsdReads()).toEqual({ reads: 1, bytes: 300 });
    const pieces = answer(theirs);
    f.down(pieces[0]);
    expect(f.checker.openSsdReads()).toEqual({ reads: 1, bytes: pieces[1].byteCount });
    f.downAll(pieces.slice(1));
    expect(f.checker.openSsdReads()).toEqual({ reads: 0, bytes: 0 });
    expect(f.checker.report()).toBe("");
  });
});

interface BrokenCase {
  name: string;
  rule: TlpRule;
  message: RegExp;
  settings?: Partial<RootPortSettings>;
  /** Breaks the rule; returns the cycle the violation must carry. */
  run: (f: Feed) => number;
}

const brokenCases: BrokenCase[] = [
  { name: "MWr across a 4 KiB boundary", rule: "format", message: /MWr 0x10000fc0\+128 B crosses a 4 KiB boundary/, run: (f) => f.down(mwr(0x1000_0fc0, 32)) },
  { name: "1-DW MRd with Last BE set", rule: "format", message: /Last BE must be 0000 for a 1-DW request \(is 1111\)/, run: (f) => f.down(mrd(1, BAR0, 1, { lastBe: 0xf })) },
  { name: "2-DW MRd with First BE 0000", rule: "format", message: /First BE must not be 0000 for a 2-DW request/, run: (f) => f.down(mrd(1, BAR0, 2, { firstBe: 0 })) },
  { name: "3-DW MWr with Last BE 0000", rule: "format", message: /Last BE must not be 0000 for a 3-DW request/, run: (f) => f.down(mwr(BAR0, 3, { lastBe: 0 })) },
  { name: "3-DW MWr with non-contiguous First BE", rule: "format", message: /First BE 0101 is not contiguous up to byte 3/, run: (f) => f.down(mwr(BAR0, 3, { firstBe: 0b0101 })) },
  {
    name: "2-DW MWr not QW-aligned with non-contiguous enables",
    rule: "format",
    message: /First BE 1010 is not contiguous up to byte 3/,
    run: (f) => f.down(mwr(BAR0 + 4, 2, { firstBe: 0b1010, lastBe: 0b0101 })),
  },
  { name: "MWr whose Length disagrees with its payload", rule: "format", message: /MWr header says Length 2 DW of payload \(20 bytes\) but the TLP is 24 bytes/, run: (f) => f.down(withLength(wire(mwr(BAR0, 3)), 2)) },
  { name: "CfgRd0 with Length 2", rule: "format", message: /CfgRd0 Length is 2 DW, must be 1/, run: (f) => f.down(withLength(wire(cfg("CfgRd0", 0, 0)), 2)) },
  { name: "CfgRd0 with Last BE set", rule: "format", message: /CfgRd0 Last BE is 1111, must be 0000/, run: (f) => f.down(withLastBe(wire(cfg("CfgRd0", 0, 0)), 0xf)) },
  { name: "CfgWr0 with TC 1", rule: "format", message: /CfgWr0 must have TC 0 \(has 1\)/, run: (f) => f.down(cfg("CfgWr0", 0, 4, { tc: 1 })) },
  { name: "CfgRd0 with Attr 2", rule: "format", message: /CfgRd0 must have Attr 0 \(has 2\)/, run: (f) => f.down(cfg("CfgRd0", 0, 4, { attr: 2 })) },
  { name: "4DW MRd below 4 GiB", rule: "4dw-below-4g", message: /MRd to 0xe0000008, below 4 GiB, uses a 4DW header/, run: (f) => f.down(mrd(1, BAR0 + 8, 1, { addr64: true })) },
  { name: "MWr over MPS", rule: "max-payload", message: /MWr carries 512 B, more than the programmed Max_Payload_Size 256 B/, run: (f) => f.down(mwr(0x1000_0000, 128)) },
  { name: "MWr over a lowered MPS", rule: "max-payload", settings: { maxPayloadSize: 128 }, message: /MWr carries 256 B, more than the programmed Max_Payload_Size 128 B/, run: (f) => f.down(mwr(0x1000_0000, 64)) },
  { name: "MRd over MRRS", rule: "max-read-request", message: /MRd asks for 256 DW \(1024 B\), more than the programmed Max_Read_Request_Size 512 B/, run: (f) => f.down(mrd(1, 0x1000_0000, 256)) },
  { name: "Type 0 to device 1", rule: "config-target", message: /Type 0 CfgRd0 to 1:1\.0: Type 0 may only address device 0 on the root port's secondary bus 1/, run: (f) => f.down(cfg("CfgRd0", 0, 0, { device: 1 })) },
  { name: "Type 0 to bus 2", rule: "config-target", message: /Type 0 CfgWr0 to 2:0\.0/, run: (f) => f.down(cfg("CfgWr0", 0, 0, { bus: 2 })) },
  { name: "Type 1 to the secondary bus", rule: "config-target", message: /Type 1 CfgRd1 to 1:0\.0: .* the root port has no bus there \(secondary 1, subordinate 1\)/, run: (f) => f.down(cfg("CfgRd1", 0, 0)) },
  { name: "request with another Requester ID", rule: "own-id", message: /MRd carries Requester ID 0x0008, not the root port's ID 0x0000/, run: (f) => f.down(mrd(1, BAR0, 1, { requesterId: 0x0008 })) },
  {
    name: "completion with another Completer ID",
    rule: "own-id",
    message: /CplD names Completer ID 0x0100/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0000, 8);
      f.up(read);
      return f.down({ ...answer(read)[0], completerId: 0x0100 });
    },
  },
  { name: "8-bit tag without Extended Tags", rule: "tag-range", message: /MRd uses tag 32, but the root port's Device Control leaves Extended Tags off: tags are 0\.\.31/, run: (f) => f.down(mrd(32, BAR0)) },
  {
    name: "tag reused before its completion",
    rule: "tag-in-use",
    message: /tag 3 is still in use by the MRd tag 3 0xe0000008 1 DW .* sent at cycle 10: no final completion yet, 50 cycles < completion timeout 1000/,
    run: (f) => {
      f.down(mrd(3, BAR0 + 8));
      return f.down(cfg("CfgRd0", 3, 0), 50);
    },
  },
  {
    name: "tag reused after the first of two completions",
    rule: "tag-in-use",
    message: /tag 4 is still in use by the MRd tag 4 0x4000 32 DW/,
    run: (f) => {
      const read = mrd(4, 0x4000, 32);
      f.down(read);
      f.up(ssdAnswer(read)[0]);
      return f.down(mrd(4, BAR0));
    },
  },
  { name: "completion without a request", rule: "cpl-unexpected", message: /CplD to requester 0x0100 tag 9 answers no outstanding read of the SSD/, run: (f) => f.down(answer(ssdRead(9, 0x1000_0000, 8))[0]) },
  {
    name: "one completion too many",
    rule: "cpl-unexpected",
    message: /CplD to requester 0x0100 tag 9 answers no outstanding read/,
    run: (f) => {
      const read = ssdRead(9, 0x1000_0000, 8);
      f.up(read);
      f.downAll(answer(read));
      return f.down(answer(read)[0]);
    },
  },
  {
    name: "Cpl SC without data for a memory read",
    rule: "cpl-status",
    message: /Cpl without data with status SC answers a memory read/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0000, 8);
      f.up(read);
      return f.down(completionWithoutData(read, 0, CplStatus.SC));
    },
  },
  {
    name: "CRS for a memory read",
    rule: "cpl-status",
    message: /CRS is for configuration requests only/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0000, 8);
      f.up(read);
      return f.down(completionWithoutData(read, 0, CplStatus.CRS));
    },
  },
  {
    name: "CplD with status UR",
    rule: "cpl-status",
    message: /CplD with status UR: completions with data are SC/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0000, 8);
      f.up(read);
      return f.down({ ...answer(read)[0], status: CplStatus.UR });
    },
  },
  {
    name: "completion that does not copy Attr",
    rule: "cpl-attributes",
    message: /CplD has TC 0 Attr 0, the read it answers TC 0 Attr 2: completions copy both/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0000, 8, { attr: 2 });
      f.up(read);
      return f.down({ ...answer(read)[0], attr: 0 });
    },
  },
  {
    name: "wrong Byte Count",
    rule: "cpl-byte-count",
    message: /CplD Byte Count 304, but 300 of the read's 300 bytes are still owed/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0034, 300);
      f.up(read);
      return f.down({ ...answer(read)[0], byteCount: 304 });
    },
  },
  {
    name: "wrong Lower Address",
    rule: "cpl-lower-address",
    message: /CplD Lower Address 0x0, but the next byte owed is at 0x10000036 \(Lower Address 0x36\)/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0036, 2);
      f.up(read);
      return f.down({ ...answer(read)[0], lowerAddress: 0 });
    },
  },
  {
    name: "CplD cut off an RCB boundary",
    rule: "cpl-split",
    message: /CplD ends at 0x10000050 before the read's end, not on a 64-byte read completion boundary \(read of 300 B at 0x10000034, 0 B returned before\)/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0034, 300);
      f.up(read);
      return f.down({ ...answer(read)[0], lengthDw: 7, data: new Uint8Array(28) });
    },
  },
  {
    name: "CplD longer than what is owed",
    rule: "cpl-split",
    message: /CplD carries 3 DW but only 2 DW \(0x10000000\.\.0x10000008\) are left of the read/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0000, 8);
      f.up(read);
      return f.down({ ...answer(read)[0], lengthDw: 3, data: new Uint8Array(12) });
    },
  },
  {
    name: "CplD over MPS",
    rule: "max-payload",
    message: /CplD carries 300 B, more than the programmed Max_Payload_Size 256 B/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0034, 300);
      f.up(read);
      return f.downAll(answer(read, { rcb: 64, mps: 512 }));
    },
  },
  {
    name: "a read left half answered",
    rule: "cpl-missing",
    message: /the SSD's read \(requester 0x0100 tag 1\) taken at cycle 10 is still owed 96 of its 300 bytes/,
    run: (f) => {
      const read = ssdRead(1, 0x1000_0034, 300);
      f.up(read);
      const end = f.down(answer(read)[0]);
      f.checker.finish();
      return end;
    },
  },
  {
    name: "a TLP the link model refused",
    rule: "link-drop",
    message: /the link model refused a TLP the controller sent \(tx-over-mps\): cycle 9: MWr payload too big/,
    run: (f) => f.event("tx", "tx-over-mps", "cycle 9: MWr payload too big"),
  },
];

describe("each rule broken once is reported once, with the cycle and a clear message", () => {
  it.each(brokenCases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const f = feed(c.settings);
    const cycle = c.run(f);
    expect(f.checker.violations.map((v) => v.rule)).toEqual([c.rule]);
    const [violation] = f.checker.violations;
    expect(violation.message).toMatch(c.message);
    expect(violation.cycle).toBe(cycle);
    if (c.rule !== "link-drop" && c.rule !== "cpl-missing") expect(violation.hex).toMatch(/^([0-9a-f]{8})+$/);
    expect(f.checker.report()).toMatch(new RegExp(`^cycle ${cycle} \\[${c.rule}\\] `));
    expect(() => f.checker.assertClean()).toThrow(/1 PCIe rule violation\(s\) by the controller/);
  });

  it("completions sent out of address order break Byte Count, Lower Address and the split", () => {
    const f = feed();
    const read = ssdRead(1, 0x1000_0034, 300);
    f.up(read);
    const [first, second] = answer(read);
    f.down(second);
    expect(f.checker.violations.map((v) => v.rule)).toEqual(["cpl-byte-count", "cpl-lower-address", "cpl-split"]);
    f.down(first);
  });

  it("keeps the first `keep` violations and counts the rest", () => {
    const c = new TlpConformanceChecker({ completionTimeoutCycles: TIMEOUT, rootPort, keep: 2 });
    for (let i = 0; i < 5; i++) c.write(i, "down", wire(mrd(40 + i, BAR0)));
    expect(c.violations).toHaveLength(2);
    expect(c.violationCount).toBe(5);
    expect(c.report().split("\n").at(-1)).toBe("... and 3 more");
  });

  it("refuses bad options, and TLPs before it knows the root port's settings", () => {
    expect(() => new TlpConformanceChecker({ completionTimeoutCycles: 0 })).toThrow(/completionTimeoutCycles 0/);
    expect(() => new TlpConformanceChecker({ completionTimeoutCycles: 10, rootPortId: 0x10000 })).toThrow(/rootPortId 65536/);
    const c = new TlpConformanceChecker({ completionTimeoutCycles: 10 });
    expect(() => c.write(1, "down", wire(mrd(1, BAR0)))).toThrow(/no root-port settings/);
  });

  it("checks a recorded trace", () => {
    const read = ssdRead(1, 0x1000_0000, 8);
    const entries: TraceEntry[] = [
      { cycle: 5, dir: "up", tlp: wire(read) },
      { cycle: 9, dir: "down", tlp: wire(mrd(1, BAR0, 1, { addr64: true })) },
    ];
    expect(checkTrace(entries, { completionTimeoutCycles: TIMEOUT, rootPort }).map((v) => [v.cycle, v.rule])).toEqual([
      [9, "4dw-below-4g"],
      [9, "cpl-missing"],
    ]);
    expect(checkTrace(entries, { completionTimeoutCycles: TIMEOUT, rootPort }, false)).toHaveLength(1);
  });
});

describe("on a live link model", () => {
  it("overrideRootPort: the overrides win, every other setting reads the base as it is now", () => {
    const live = { ...rootPort };
    const view = overrideRootPort(live, { secondaryBus: 7, extendedTagEnabled: false });
    live.maxPayloadSize = 512;
    live.secondaryBus = 3;
    live.extendedTagEnabled = true;
    expect({ ...view }).toEqual({ ...rootPort, maxPayloadSize: 512, secondaryBus: 7, extendedTagEnabled: false });
  });

  it("sees the trace and the link's refusals through linkOptions(), with the settings of the moment", () => {
    const endpoint = new ScriptedEndpoint({ completerId: SSD_ID });
    const lines: string[] = [];
    const checker = new TlpConformanceChecker({ completionTimeoutCycles: TIMEOUT });
    const link = new LinkModel(endpoint, { trainingCycles: 20, mps: 256, mrrs: 512 }, checker.linkOptions({ trace: new TraceWriter((line) => lines.push(line)) }));
    checker.rootPort = link.config;
    const port = new TlpPort(link);
    port.runUntil(() => link.ports.user_lnk_up === 1, 100);
    // What root_port_setup programs: primary 0, secondary 1, subordinate 1.
    port.cfgWrite(0x18 >> 2, 0x0001_0100, 0b0111);
    const exchange = (tlp: Tlp, answers: number) => {
      const before = port.receivedTlps;
      port.send(tlp);
      port.runUntil(() => port.receivedTlps === before + answers, 2000);
      while (port.receive()) {
        // drained
      }
    };
    exchange(cfg("CfgRd0", 0, 0x00), 1);
    exchange(cfg("CfgWr0", 0, 0x04, { firstBe: 0b0011 }), 1);
    exchange(mrd(1, 0x8000, 8), 1);
    // The peer reads from us; we answer with the reference completer's CplDs.
    const read = ssdRead(5, 0x1000_0034, 300);
    const before = port.receivedTlps;
    endpoint.queueUpstream(read);
    port.runUntil(() => port.receivedTlps === before + 1, 2000);
    for (const cpl of answer(read)) port.send(cpl);
    port.runUntil(() => endpoint.completions.length === answer(read).length, 2000);
    expect(checker.report()).toBe("");

    // 1 KiB read at MRRS 512: sent (the core does not police MRRS), and reported; at MRRS 1024 it is legal.
    const bigRead = mrd(2, 0x8000, 256);
    exchange(bigRead, peerCompletions(bigRead));
    const devCtl = link.config.readByteOffset(DEVICE_CONTROL, 2);
    port.cfgWrite(DEVICE_CONTROL >> 2, (devCtl & ~0x7000) | (3 << 12), 0b0011);
    expect(link.config.maxReadRequestSize).toBe(1024);
    exchange({ ...bigRead, tag: 3 }, peerCompletions(bigRead));
    // Refused by the link before the trace sees them: over MPS, a 4DW header below 4 GiB.
    port.send(mwr(0x9000, 128));
    port.sendBytes(wire(mrd(4, 0x8000, 1, { addr64: true })));
    port.runUntil(() => link.dropCount("tx-over-mps") === 1 && link.dropCount("tx-malformed") === 1, 500);

    expect(checker.violations.map((v) => v.rule)).toEqual(["max-read-request", "link-drop", "link-drop"]);
    expect(checker.violations[0].message).toMatch(/more than the programmed Max_Read_Request_Size 512 B/);
    expect(checker.violations[1].message).toMatch(/\(tx-over-mps\): .*MWr payload 512 B exceeds the programmed Max_Payload_Size 256 B/);
    expect(checker.violations[2].message).toMatch(/\(tx-malformed\): .*below 4 GiB but uses a 4DW header/);
    // The trace writer got every TLP the checker saw (the tee).
    expect(lines).toHaveLength(checker.seen.down + checker.seen.up);
    expect(checker.outstandingTags()).toEqual([]);
  });
});

/** CplDs the scripted peer sends for our read (its split: RCB 64, MPS 128). */
function peerCompletions(read: MemRequest): number {
  return completeMemoryRead(read, SSD_ID, zeros, { rcb: 64, mps: 128 }).length;
}

describe("real runs report nothing", () => {
  const TIMEOUT_CYCLES = 4096;
  const params: TlpLayerParams = { ...defaultTlpLayerParams, completionTimeoutCycles: TIMEOUT_CYCLES };

  /** One access through pcie_requester's port; returns the cycles it took. */
  function access(sim: Simulator, bridge: RootPortBridge, kind: number, address: number, data = 0, byteEn = 0xf): number {
    return accessThroughPort(sim, () => bridge.step(), { kind, address, data, byteEn }, { maxCycles: 3 * TIMEOUT_CYCLES }).cycles;
  }

  it("pcie_requester on the TLP layer against the SSD model (js engine): enumeration, BAR0 reads and writes, CRS, UR, a timeout", async () => {
    const sim = await buildPcieRequesterSystem(params, "js");
    try {
      const run = (endpoint: PcieEndpoint, accesses: (bridge: RootPortBridge) => void) => {
        // The requester's completion timeout starts when the tag is taken, a cycle or two before the TLP leaves.
        const checker = new TlpConformanceChecker({ completionTimeoutCycles: TIMEOUT_CYCLES - 16 });
        const entries: TraceEntry[] = [];
        const record = { write: (cycle: number, dir: "down" | "up", tlp: Uint8Array) => entries.push({ cycle, dir, tlp: tlp.slice() }) };
        const link = new LinkModel(endpoint, {}, checker.linkOptions({ trace: record }));
        checker.rootPort = link.config;
        link.config.write(0x18 >> 2, 0x0001_0100, 0b0111); // what root_port_setup programs: primary 0, secondary 1, subordinate 1
        const bridge = new RootPortBridge(sim, link);
        sim.reset(2);
        accesses(bridge);
        bridge.step(200);
        checker.finish();
        return { checker, entries };
      };
      const cfgAt = (offset: number) => configAddress(1, 0, 0, offset);
      const ssd = new NvmeSsd({ crsCycles: 1500 });
      const { checker: healthy } = run(ssd, (bridge) => {
        access(sim, bridge, AccessKind.CFG_READ, cfgAt(0x00)); // CRS
        bridge.step(1500);
        access(sim, bridge, AccessKind.CFG_READ, cfgAt(0x00));
        access(sim, bridge, AccessKind.CFG_WRITE, cfgAt(0x10), BAR0);
        access(sim, bridge, AccessKind.CFG_WRITE, cfgAt(0x14), 0);
        access(sim, bridge, AccessKind.CFG_WRITE, cfgAt(0x04), 0x0006, 0b0011);
        access(sim, bridge, AccessKind.CFG_READ, cfgAt(0x34));
        access(sim, bridge, AccessKind.MEM_READ, BAR0);
        access(sim, bridge, AccessKind.MEM_READ, BAR0 + 0x08);
        access(sim, bridge, AccessKind.MEM_WRITE, BAR0 + 0x24, 0x001f_0007);
        access(sim, bridge, AccessKind.MEM_READ, BAR0 + 0x24);
        access(sim, bridge, AccessKind.MEM_READ, 0xd000_0000); // UR
      });
      expect(healthy.report()).toBe("");
      expect(healthy.seen).toEqual({ down: 11, up: 10 });
      expect(ssd.config.bar0Base).toBe(BigInt(BAR0));

      const silent: PcieEndpoint = { receive() {}, nextUpstream: () => undefined };
      const { checker: lost, entries } = run(silent, (bridge) => {
        expect(access(sim, bridge, AccessKind.MEM_READ, BAR0 + 0x1c)).toBeGreaterThan(TIMEOUT_CYCLES / 2);
        access(sim, bridge, AccessKind.CFG_WRITE, cfgAt(0x04), 0x0006, 0b0011);
        access(sim, bridge, AccessKind.MEM_READ, BAR0);
      });
      expect(lost.report()).toBe("");
      expect(lost.seen).toEqual({ down: 3, up: 0 });
      // The third request took the first one's tag again once it had timed out: allowed, so not reported.
      expect(lost.outstandingTags()).toHaveLength(2);
      // With a completion timeout twice as long, that reuse would have been too early.
      const early = checkTrace(entries, { completionTimeoutCycles: 2 * TIMEOUT_CYCLES, rootPort: { ...rootPort, secondaryBus: 1 } });
      expect(early.map((v) => v.rule)).toEqual(["tag-in-use"]);
    } finally {
      sim.close();
    }
  }, 60_000);

  it("the completer answering a peer's random reads (js engine); the same trace breaks stricter settings", async () => {
    const completerParams = { maxPayloadBytes: 256, readCompletionBoundary: 64, tags: 32, requesterId: 0x0000 };
    const sim = await buildCompleterSystemSimulator(completerParams, "js");
    try {
      const random = seededRandom(7);
      const reads = Array.from({ length: 24 }, (_, i) => {
        const offset = Math.floor(random() * 4096);
        const bytes = 1 + Math.floor(random() * Math.min(random() < 0.7 ? 300 : 4096, 4096 - offset));
        const high = i % 4 === 3;
        return ssdRead(i, (high ? 0x2_0000_0000n : 0x1000_0000n) + (BigInt(i) << 12n) + BigInt(offset), bytes, { attr: i % 3 === 0 ? 2 : 0 });
      });
      const checker = new TlpConformanceChecker({ completionTimeoutCycles: TIMEOUT, rootPort });
      const entries: TraceEntry[] = [];
      const trace = { write: (cycle: number, dir: "down" | "up", tlp: Uint8Array) => entries.push({ cycle, dir, tlp: tlp.slice() }) };
      const result = runCompleterSystem(sim, reads, { params: completerParams, random, sourceValid: 0.7, txBuffers: 3, trace: teeTrace(checker, trace) });
      checker.finish();
      expect(checker.report()).toBe("");
      expect(checker.seen).toEqual({ down: result.expected.length, up: reads.length });
      expect(result.expected.length).toBeGreaterThan(reads.length);

      const strict = (settings: Partial<RootPortSettings>) => new Set(checkTrace(entries, { completionTimeoutCycles: TIMEOUT, rootPort: { ...rootPort, ...settings } }).map((v) => v.rule));
      expect(strict({})).toEqual(new Set());
      expect(strict({ readCompletionBoundary: 128 })).toEqual(new Set(["cpl-split"]));
      expect(strict({ maxPayloadSize: 128 })).toEqual(new Set(["max-payload"]));
    } finally {
      sim.close();
    }
  }, 60_000);
});
