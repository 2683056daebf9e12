// Watches both directions of a run's TLPs and reports every PCIe rule the controller (the root-complex
// side) breaks in what it sends: its requests downstream and its completions to the SSD's reads. The
// SSD's own TLPs (upstream) are only followed to know which requests are outstanding on either side;
// their rule breaks are the SSD model's to log, not the controller's.
//
// It takes TLPs the way the trace of DESIGN.md sees them (a TraceSink: down when the last beat is taken
// on s_axis_tx, up when the last beat is taken on m_axis_rx), so it runs on a live LinkModel, on a
// full-system run, on a trace file, or on hand-made wire bytes alike. A live link model refuses some TLPs
// before the trace sees them (framing, malformed, over MPS): those come in through `linkEvent`, which
// `linkOptions()` wires up together with the trace.
//
// The rules, on what the controller sends (facts digest §B.3–B.5, §0 #7/#9/#11, §A.6 step 3):
// - everything the codec and sim/pcie/tlp-rules.ts check (header and payload agree with Length; byte
//   enables; no request across a 4 KiB boundary; DW-aligned addresses; configuration requests Length 1,
//   Last BE 0000, TC 0, Attr 0): a TLP that breaks one is reported as "format" and followed no further,
//   since a receiver discards it as malformed. Byte enables, as tlp-rules.ts applies them (§B.5): Length 1
//   → Last BE 0000 (First BE anything, 0000 being a zero-length access); Length ≥ 2 → First BE and Last
//   BE both non-zero; non-contiguous enables only in a QW-aligned 2-DW request; otherwise (Length ≥ 3, or
//   a 2-DW request not QW-aligned) First BE must be contiguous up to byte 3 and Last BE from byte 0;
// - memory requests below 4 GiB use the 3DW header ("4dw-below-4g");
// - MWr and CplD payload ≤ the root port's programmed Max_Payload_Size, MRd Length ≤ its
//   Max_Read_Request_Size, both read from the root port's config space when the TLP goes out;
// - Type 0 configuration requests go to device 0 of the root port's secondary bus only, Type 1 only to
//   the buses behind it (secondary < bus ≤ subordinate) ("config-target");
// - requests carry, and completions name as completer, the root port's own ID ("own-id");
// - a non-posted request's tag is 0..31 unless the root port's Device Control enables Extended Tags, and
//   is not in use by another outstanding non-posted request of ours ("tag-in-use"). A tag is free again
//   when its final completion has been taken on m_axis_rx (a Cpl, or a CplD whose Byte Count it covers),
//   when the link went down (PERST#: the SSD is reset and nothing in flight survives), or once the request
//   has waited `completionTimeoutCycles`: the controller times requests out and may then reuse the tag;
// - completions to the SSD's reads: each matches an outstanding read by Requester ID + Tag, copies its
//   TC and Attr; Byte Count = bytes still owed, Lower Address = address[6:0] of the next byte owed (so
//   completions go in address order and add up to the request); each CplD is a legal piece of a split
//   (completion-split.ts: ends at the read's end or on an RCB boundary); SC completions carry data; a Cpl
//   with UR or CA refuses the read and ends it (its Byte Count and Lower Address are not checked:
//   requesters must not rely on them, §B.5); CRS is for configuration requests only.
// `finish()` also reports the SSD's reads left (partly) unanswered at the end of a quiet run.

import { decodeTlp, TlpFormatError, type DecodeOptions } from "../pcie/codec.ts";
import { judgeCompletionChunk } from "../pcie/completion-split.ts";
import type { LinkEvent, LinkModelOptions } from "../pcie/link-model.ts";
import { requestedByteRange } from "../pcie/tlp-rules.ts";
import { CplStatus, type Completion, type ConfigRequest, type MemRequest, type Tlp } from "../pcie/tlp.ts";
import { teeTrace, type TraceDirection, type TraceEntry, type TraceSink } from "../pcie/trace.ts";

/** What the rules depend on, as the root port's config space holds it; LinkModel.config provides it. */
export interface RootPortSettings {
  /** Device Control Max_Payload_Size in bytes. */
  readonly maxPayloadSize: number;
  /** Device Control Max_Read_Request_Size in bytes. */
  readonly maxReadRequestSize: number;
  /** Link Control Read Completion Boundary in bytes (64 or 128). */
  readonly readCompletionBoundary: number;
  readonly secondaryBus: number;
  readonly subordinateBus: number;
  /** Device Control Extended Tag Field Enable. */
  readonly extendedTagEnabled: boolean;
}

/** Every setting, so that a view of them cannot leave one out (the compiler checks the keys). */
const ROOT_PORT_SETTINGS: Record<keyof RootPortSettings, true> = {
  maxPayloadSize: true,
  maxReadRequestSize: true,
  readCompletionBoundary: true,
  secondaryBus: true,
  subordinateBus: true,
  extendedTagEnabled: true,
};

/** `base` with some settings replaced (a fixture that never programs the root port's bus numbers, say); the others read `base` live. */
export function overrideRootPort(base: RootPortSettings, overrides: Partial<RootPortSettings>): RootPortSettings {
  const view = {};
  for (const key of Object.keys(ROOT_PORT_SETTINGS) as (keyof RootPortSettings)[]) {
    Object.defineProperty(view, key, { get: () => overrides[key] ?? base[key], enumerable: true });
  }
  return view as RootPortSettings;
}

export interface TlpConformanceOptions {
  /**
   * The controller's completion timeout in cycles, measured from the cycle its request's last beat was
   * taken on s_axis_tx: a tag whose request has waited at least this long may be reused. Give the
   * shortest time after which the controller may give up (the TLP layer's `completionTimeoutCycles`,
   * less any cycles its requests wait between taking a tag and leaving).
   */
  completionTimeoutCycles: number;
  /** Where the root port's settings are read when a TLP goes out; can also be set later (`rootPort`). */
  rootPort?: RootPortSettings;
  /** The root port's ID: Requester ID of our requests, Completer ID of our completions (default 0x0000). */
  rootPortId?: number;
  /** Violations kept in `violations` (default 1000); `violationCount` counts them all. */
  keep?: number;
}

/** Each rule's stable key. */
export type TlpRule =
  | "format"
  | "4dw-below-4g"
  | "max-payload"
  | "max-read-request"
  | "config-target"
  | "own-id"
  | "tag-range"
  | "tag-in-use"
  | "cpl-unexpected"
  | "cpl-status"
  | "cpl-attributes"
  | "cpl-byte-count"
  | "cpl-lower-address"
  | "cpl-split"
  | "cpl-missing"
  | "link-drop";

export interface TlpViolation {
  /** The cycle the TLP went out (its last beat taken on s_axis_tx), or of the link event / finish(). */
  cycle: number;
  rule: TlpRule;
  message: string;
  /** The offending TLP in a few words, when it decoded. */
  tlp?: string;
  /** Its wire bytes in hex, as the trace holds them (absent for a TLP the link model refused). */
  hex?: string;
}

/** Our non-posted request, until its final completion. */
interface OwnRequest {
  cycle: number;
  summary: string;
}

/** The SSD's memory read, until our completions have returned every byte or refused it. */
interface SsdRead {
  cycle: number;
  request: MemRequest;
  firstByteAddress: bigint;
  byteCount: number;
  returned: number;
}

const DECODE: DecodeOptions = { allow4dwBelow4G: true, sharePayload: true };
const FOUR_GIB = 1n << 32n;
/** Link-model events about TLPs the controller sent that are not refusals (the trace has the TLP, or the controller withdrew it). */
const TX_EVENTS_NOT_DROPS = new Set(["tx-over-mrrs", "tx-src-discontinue"]);
/** Link-model events after which nothing outstanding on the link will complete. */
const LINK_DOWN_EVENTS = new Set(["perst-asserted", "link-down-lost"]);

export class TlpConformanceChecker implements TraceSink {
  /** Read at every TLP the controller sends; LinkModel.config, or fixed values. */
  rootPort: RootPortSettings | undefined;
  /** The first `keep` violations, in the order found. */
  readonly violations: TlpViolation[] = [];
  violationCount = 0;
  /** TLPs seen in each direction. */
  readonly seen = { down: 0, up: 0 };
  private readonly timeout: number;
  private readonly rootPortId: number;
  private readonly keep: number;
  private readonly ownRequests = new Map<number, OwnRequest>();
  private readonly ssdReads = new Map<number, SsdRead>();
  private lastCycle = 0;

  constructor(options: TlpConformanceOptions) {
    const { completionTimeoutCycles, rootPortId = 0, keep = 1000 } = options;
    if (!Number.isSafeInteger(completionTimeoutCycles) || completionTimeoutCycles < 1) {
      throw new RangeError(`completionTimeoutCycles ${completionTimeoutCycles} is not a positive integer`);
    }
    if (!Number.isInteger(rootPortId) || rootPortId < 0 || rootPortId > 0xffff) throw new RangeError(`rootPortId ${rootPortId} is not a 16-bit ID`);
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`keep ${keep} is not a non-negative integer`);
    this.timeout = completionTimeoutCycles;
    this.rootPortId = rootPortId;
    this.keep = keep;
    this.rootPort = options.rootPort;
  }

  /**
   * LinkModel options that feed this checker: `trace` (teed with `base.trace` when there is one) and
   * `onEvent` (then `base.onEvent`). Set `rootPort = link.config` once the link model exists.
   */
  linkOptions(base: LinkModelOptions = {}): LinkModelOptions {
    const onEvent = base.onEvent;
    return {
      ...base,
      trace: base.trace ? teeTrace(base.trace, this) : this,
      onEvent: (event) => {
        this.linkEvent(event);
        onEvent?.(event);
      },
    };
  }

  /** One TLP as the trace sees it (TraceSink). */
  write(cycle: number, dir: TraceDirection, bytes: Uint8Array): void {
    if (cycle > this.lastCycle) this.lastCycle = cycle;
    if (dir === "up") {
      this.seen.up++;
      this.followUpstream(cycle, bytes);
    } else {
      this.seen.down++;
      this.checkDownstream(cycle, bytes);
    }
  }

  /** Nothing is buffered (TraceSink; a run's owner may call it when it stops). */
  flush(): void {}

  /** Nothing to release (TraceSink); the checker stays readable. */
  close(): void {}

  /** A link-model event: refusals of the controller's TLPs are violations; a link going down ends everything outstanding. */
  linkEvent(event: LinkEvent): void {
    if (event.cycle > this.lastCycle) this.lastCycle = event.cycle;
    if (event.source === "tx" && !TX_EVENTS_NOT_DROPS.has(event.category)) {
      this.flag(event.cycle, "link-drop", `the link model refused a TLP the controller sent (${event.category}): ${event.reason}`);
    } else if (event.source === "link" && LINK_DOWN_EVENTS.has(event.category)) {
      this.linkDown();
    }
  }

  /** The link went down: the SSD is reset and nothing in flight will complete, so every tag is free and no read is owed. */
  linkDown(): void {
    this.ownRequests.clear();
    this.ssdReads.clear();
  }

  /** End of a quiet run: the SSD's reads not (fully) answered are violations. */
  finish(cycle = this.lastCycle): void {
    for (const read of this.ssdReads.values()) {
      const r = read.request;
      this.flag(
        cycle,
        "cpl-missing",
        `the SSD's read (requester ${hex4(r.requesterId)} tag ${r.tag}) taken at cycle ${read.cycle} is still owed ${read.byteCount - read.returned} of its ${read.byteCount} bytes`,
        undefined,
        r,
      );
    }
    this.ssdReads.clear();
  }

  /** Tags of our non-posted requests still waiting for their final completion. */
  outstandingTags(): number[] {
    return [...this.ownRequests.keys()];
  }

  /** Open reads of the SSD: how many, and bytes still owed in all. */
  openSsdReads(): { reads: number; bytes: number } {
    let bytes = 0;
    for (const read of this.ssdReads.values()) bytes += read.byteCount - read.returned;
    return { reads: this.ssdReads.size, bytes };
  }

  /** One line per violation ("" when there are none), for an assertion message. */
  report(): string {
    const lines = this.violations.map(formatViolation);
    if (this.violationCount > this.violations.length) lines.push(`... and ${this.violationCount - this.violations.length} more`);
    return lines.join("\n");
  }

  /** Throws an Error listing the violations, if there are any. */
  assertClean(): void {
    if (this.violationCount > 0) throw new Error(`${this.violationCount} PCIe rule violation(s) by the controller:\n${this.report()}`);
  }

  // ---- downstream: what the controller sends ----

  private checkDownstream(cycle: number, bytes: Uint8Array): void {
    let tlp: Tlp;
    try {
      tlp = decodeTlp(bytes, DECODE);
    } catch (error) {
      if (!(error instanceof TlpFormatError)) throw error;
      this.flag(cycle, "format", `malformed TLP, a receiver discards it: ${error.reason}`, bytes);
      return;
    }
    switch (tlp.kind) {
      case "MRd":
      case "MWr":
        return this.checkMemoryRequest(cycle, tlp, bytes);
      case "CfgRd0":
      case "CfgWr0":
      case "CfgRd1":
      case "CfgWr1":
        return this.checkConfigRequest(cycle, tlp, bytes);
      case "Cpl":
      case "CplD":
        return this.checkCompletion(cycle, tlp, bytes);
      case "Msg":
      case "MsgD":
        return; // beyond the codec's rules, nothing to match
    }
  }

  private checkMemoryRequest(cycle: number, tlp: MemRequest, bytes: Uint8Array): void {
    const settings = this.settings();
    this.checkRequesterId(cycle, tlp, bytes);
    if (tlp.addr64 && tlp.address < FOUR_GIB) {
      this.flag(cycle, "4dw-below-4g", `${tlp.kind} to 0x${tlp.address.toString(16)}, below 4 GiB, uses a 4DW header: addresses below 4 GiB must use the 3DW header`, bytes, tlp);
    }
    if (tlp.kind === "MWr") {
      this.checkPayload(cycle, tlp, bytes, settings);
      return;
    }
    if (tlp.lengthDw * 4 > settings.maxReadRequestSize) {
      this.flag(cycle, "max-read-request", `MRd asks for ${tlp.lengthDw} DW (${tlp.lengthDw * 4} B), more than the programmed Max_Read_Request_Size ${settings.maxReadRequestSize} B`, bytes, tlp);
    }
    this.takeTag(cycle, tlp, bytes, settings);
  }

  private checkConfigRequest(cycle: number, tlp: ConfigRequest, bytes: Uint8Array): void {
    const settings = this.settings();
    this.checkRequesterId(cycle, tlp, bytes);
    const secondary = settings.secondaryBus;
    const subordinate = settings.subordinateBus;
    const target = `${tlp.bus}:${tlp.device}.${tlp.fn}`;
    if (tlp.kind === "CfgRd0" || tlp.kind === "CfgWr0") {
      if (tlp.bus !== secondary || tlp.device !== 0) {
        this.flag(cycle, "config-target", `Type 0 ${tlp.kind} to ${target}: Type 0 may only address device 0 on the root port's secondary bus ${secondary}`, bytes, tlp);
      }
    } else if (tlp.bus <= secondary || tlp.bus > subordinate) {
      const below = subordinate > secondary ? `buses ${secondary + 1}..${subordinate}` : "no bus";
      this.flag(cycle, "config-target", `Type 1 ${tlp.kind} to ${target}: Type 1 is for the buses behind a switch, and the root port has ${below} there (secondary ${secondary}, subordinate ${subordinate})`, bytes, tlp);
    }
    this.takeTag(cycle, tlp, bytes, settings);
  }

  private checkRequesterId(cycle: number, tlp: MemRequest | ConfigRequest, bytes: Uint8Array): void {
    if (tlp.requesterId !== this.rootPortId) {
      this.flag(cycle, "own-id", `${tlp.kind} carries Requester ID ${hex4(tlp.requesterId)}, not the root port's ID ${hex4(this.rootPortId)}`, bytes, tlp);
    }
  }

  private checkPayload(cycle: number, tlp: MemRequest | Completion, bytes: Uint8Array, settings: RootPortSettings): void {
    const payload = tlp.lengthDw * 4;
    if (payload > settings.maxPayloadSize) {
      this.flag(cycle, "max-payload", `${tlp.kind} carries ${payload} B, more than the programmed Max_Payload_Size ${settings.maxPayloadSize} B`, bytes, tlp);
    }
  }

  private takeTag(cycle: number, tlp: MemRequest | ConfigRequest, bytes: Uint8Array, settings: RootPortSettings): void {
    if (!settings.extendedTagEnabled && tlp.tag > 31) {
      this.flag(cycle, "tag-range", `${tlp.kind} uses tag ${tlp.tag}, but the root port's Device Control leaves Extended Tags off: tags are 0..31`, bytes, tlp);
    }
    const previous = this.ownRequests.get(tlp.tag);
    if (previous) {
      const age = cycle - previous.cycle;
      if (age < this.timeout) {
        this.flag(
          cycle,
          "tag-in-use",
          `tag ${tlp.tag} is still in use by the ${previous.summary} sent at cycle ${previous.cycle}: no final completion yet, ${age} cycles < completion timeout ${this.timeout}`,
          bytes,
          tlp,
        );
      }
    }
    this.ownRequests.set(tlp.tag, { cycle, summary: describeTlp(tlp) });
  }

  private checkCompletion(cycle: number, tlp: Completion, bytes: Uint8Array): void {
    const settings = this.settings();
    if (tlp.completerId !== this.rootPortId) {
      this.flag(cycle, "own-id", `${tlp.kind} names Completer ID ${hex4(tlp.completerId)}, not the root port's ID ${hex4(this.rootPortId)}`, bytes, tlp);
    }
    const key = (tlp.requesterId << 8) | tlp.tag;
    const read = this.ssdReads.get(key);
    if (!read) {
      this.flag(cycle, "cpl-unexpected", `${tlp.kind} to requester ${hex4(tlp.requesterId)} tag ${tlp.tag} answers no outstanding read of the SSD (never asked for, or already fully answered)`, bytes, tlp);
      return;
    }
    const request = read.request;
    if (tlp.tc !== request.tc || tlp.attr !== request.attr) {
      this.flag(cycle, "cpl-attributes", `${tlp.kind} has TC ${tlp.tc} Attr ${tlp.attr}, the read it answers TC ${request.tc} Attr ${request.attr}: completions copy both`, bytes, tlp);
    }
    if (tlp.kind === "Cpl") {
      // A completion without data ends the read whatever its status; only UR and CA are legal for a memory read.
      if (tlp.reservedStatus !== undefined) {
        this.flag(cycle, "cpl-status", `Cpl with reserved status ${tlp.reservedStatus.toString(2).padStart(3, "0")}: a refused read is answered UR or CA`, bytes, tlp);
      } else if (tlp.status === CplStatus.SC) {
        this.flag(cycle, "cpl-status", "Cpl without data with status SC answers a memory read: successful read completions are CplD", bytes, tlp);
      } else if (tlp.status === CplStatus.CRS) {
        this.flag(cycle, "cpl-status", "Cpl with status CRS answers a memory read: CRS is for configuration requests only (refuse with UR or CA)", bytes, tlp);
      }
      this.ssdReads.delete(key);
      return;
    }
    if (tlp.status !== CplStatus.SC) {
      this.flag(cycle, "cpl-status", `CplD with status ${statusName(tlp)}: completions with data are SC, refusals are Cpl without data`, bytes, tlp);
    }
    const owed = read.byteCount - read.returned;
    if (tlp.byteCount !== owed) {
      this.flag(cycle, "cpl-byte-count", `CplD Byte Count ${tlp.byteCount}, but ${owed} of the read's ${read.byteCount} bytes are still owed (Byte Count counts them, this CplD's included)`, bytes, tlp);
    }
    const next = read.firstByteAddress + BigInt(read.returned);
    const lowerAddress = Number(next & 0x7fn);
    if (tlp.lowerAddress !== lowerAddress) {
      this.flag(
        cycle,
        "cpl-lower-address",
        `CplD Lower Address 0x${tlp.lowerAddress.toString(16)}, but the next byte owed is at 0x${next.toString(16)} (Lower Address 0x${lowerAddress.toString(16)}): completions return the bytes in address order`,
        bytes,
        tlp,
      );
    }
    this.checkPayload(cycle, tlp, bytes, settings);
    // MPS is checked above against the programmed value; the split is judged for its RCB cuts and its end.
    const judged = judgeCompletionChunk(read.firstByteAddress, read.byteCount, read.returned, tlp.lengthDw, { rcb: settings.readCompletionBoundary, mps: 4096 });
    if (judged.violation) {
      this.flag(cycle, "cpl-split", `${judged.violation} (read of ${read.byteCount} B at 0x${read.firstByteAddress.toString(16)}, ${read.returned} B returned before)`, bytes, tlp);
    }
    read.returned += judged.bytes;
    if (read.returned >= read.byteCount) this.ssdReads.delete(key);
  }

  // ---- upstream: what the SSD sends, followed for the outstanding requests ----

  private followUpstream(cycle: number, bytes: Uint8Array): void {
    let tlp: Tlp;
    try {
      tlp = decodeTlp(bytes, DECODE);
    } catch (error) {
      if (!(error instanceof TlpFormatError)) throw error;
      return; // the SSD's own rule break: its model logs it
    }
    if (tlp.kind === "MRd") {
      const { firstByteAddress, byteCount } = requestedByteRange(tlp);
      this.ssdReads.set((tlp.requesterId << 8) | tlp.tag, { cycle, request: tlp, firstByteAddress, byteCount, returned: 0 });
    } else if ((tlp.kind === "Cpl" || tlp.kind === "CplD") && tlp.requesterId === this.rootPortId && isFinalCompletion(tlp)) {
      this.ownRequests.delete(tlp.tag);
    }
  }

  private settings(): RootPortSettings {
    if (this.rootPort === undefined) {
      throw new Error("TlpConformanceChecker has no root-port settings: pass `rootPort`, or set checker.rootPort = link.config before the run");
    }
    return this.rootPort;
  }

  private flag(cycle: number, rule: TlpRule, message: string, bytes?: Uint8Array, tlp?: Tlp): void {
    this.violationCount++;
    if (this.violations.length >= this.keep) return;
    const violation: TlpViolation = { cycle, rule, message };
    if (tlp) violation.tlp = describeTlp(tlp);
    if (bytes) violation.hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
    this.violations.push(violation);
  }
}

/**
 * Checks a recorded trace against fixed root-port settings (a trace does not hold the root port's
 * configuration); with `finish` (default true) the SSD's reads still open at the end count too.
 */
export function checkTrace(
  entries: readonly TraceEntry[],
  options: TlpConformanceOptions & { rootPort: RootPortSettings },
  finish = true,
): TlpViolation[] {
  const checker = new TlpConformanceChecker(options);
  for (const entry of entries) checker.write(entry.cycle, entry.dir, entry.tlp);
  if (finish) checker.finish();
  return checker.violations;
}

/** A completion is the last one of its request when it has no data or its payload covers its Byte Count. */
function isFinalCompletion(tlp: Completion): boolean {
  return tlp.kind === "Cpl" || tlp.byteCount <= tlp.lengthDw * 4 - (tlp.lowerAddress & 3);
}

export function formatViolation(v: TlpViolation): string {
  return `cycle ${v.cycle} [${v.rule}] ${v.message}${v.tlp ? ` | ${v.tlp}` : ""}${v.hex ? ` | ${v.hex}` : ""}`;
}

/** A TLP in a few words, for messages. */
export function describeTlp(tlp: Tlp): string {
  switch (tlp.kind) {
    case "MRd":
    case "MWr":
      return (
        `${tlp.kind}${tlp.addr64 ? " (4DW)" : ""} ${tlp.kind === "MRd" ? `tag ${tlp.tag} ` : ""}` +
        `0x${tlp.address.toString(16)} ${tlp.lengthDw} DW BE ${bin4(tlp.firstBe)}/${bin4(tlp.lastBe)} from ${hex4(tlp.requesterId)}`
      );
    case "CfgRd0":
    case "CfgWr0":
    case "CfgRd1":
    case "CfgWr1":
      return `${tlp.kind} tag ${tlp.tag} ${tlp.bus}:${tlp.device}.${tlp.fn} register 0x${tlp.register.toString(16)} BE ${bin4(tlp.firstBe)} from ${hex4(tlp.requesterId)}`;
    case "Cpl":
    case "CplD":
      return (
        `${tlp.kind} ${statusName(tlp)} to ${hex4(tlp.requesterId)} tag ${tlp.tag} from ${hex4(tlp.completerId)} ` +
        `Byte Count ${tlp.byteCount} Lower Address 0x${tlp.lowerAddress.toString(16)}${tlp.kind === "CplD" ? ` ${tlp.lengthDw} DW` : ""}`
      );
    case "Msg":
    case "MsgD":
      return `${tlp.kind} code 0x${tlp.messageCode.toString(16)} routing ${tlp.routing}`;
  }
}

function statusName(tlp: Completion): string {
  if (tlp.reservedStatus !== undefined) return `status ${tlp.reservedStatus.toString(2).padStart(3, "0")}`;
  switch (tlp.status) {
    case CplStatus.SC:
      return "SC";
    case CplStatus.UR:
      return "UR";
    case CplStatus.CRS:
      return "CRS";
    case CplStatus.CA:
      return "CA";
  }
}

function hex4(id: number): string {
  return `0x${id.toString(16).padStart(4, "0")}`;
}

function bin4(value: number): string {
  return value.toString(2).padStart(4, "0");
}
