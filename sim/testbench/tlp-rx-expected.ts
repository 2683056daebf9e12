// What tlp_rx must report for a list of well-formed TLPs: the reference behaviour, written from the
// TLP records (sim/pcie/tlp.ts) independently of the hardware. Payloads are compared as bytes in
// address order, which is both the TLP record's order and the memory order of the design's streams.
import type { Completion, Tlp } from "../pcie/tlp.ts";
import { CplStatus } from "../pcie/tlp.ts";
import type { RxCounters, UrCompletionRecord } from "./tlp-rx-harness.ts";
import type { ReceivedCompletionRecord, ReceivedReadRecord, ReceivedWriteRecord } from "./tlp-rx-records.ts";

export interface RxIdentity {
  requesterId: number;
  tags: number;
}

export interface ExpectedRx {
  completions: ReceivedCompletionRecord[];
  completionPayloads: Uint8Array[];
  memReads: ReceivedReadRecord[];
  memWrites: ReceivedWriteRecord[];
  memWritePayloads: Uint8Array[];
  urCompletions: UrCompletionRecord[];
  counters: RxCounters;
}

const DEFINED_STATUS = new Set<number>([CplStatus.SC, CplStatus.UR, CplStatus.CRS, CplStatus.CA]);

function isOurs(tlp: Completion, identity: RxIdentity): boolean {
  return tlp.requesterId === identity.requesterId && tlp.tag < identity.tags;
}

export function expectedRx(tlps: readonly Tlp[], identity: RxIdentity): ExpectedRx {
  const out: ExpectedRx = {
    completions: [],
    completionPayloads: [],
    memReads: [],
    memWrites: [],
    memWritePayloads: [],
    urCompletions: [],
    counters: { messages: 0, unsupported: 0, malformed: 0, poisoned: 0, unexpected: 0 },
  };
  for (const tlp of tlps) {
    switch (tlp.kind) {
      case "Cpl":
      case "CplD": {
        if (!isOurs(tlp, identity)) {
          out.counters.unexpected++;
          break;
        }
        const raw = tlp.reservedStatus ?? tlp.status;
        out.completions.push({
          hasData: tlp.kind === "CplD" ? 1 : 0,
          status: DEFINED_STATUS.has(raw) ? raw : CplStatus.UR,
          byteCount: tlp.byteCount & 0xfff,
          lowerAddress: tlp.lowerAddress,
          lengthDw: tlp.kind === "CplD" ? tlp.lengthDw & 0x3ff : 0,
          tag: tlp.tag,
          completerId: tlp.completerId,
          poisoned: tlp.ep ? 1 : 0,
        });
        if (tlp.kind === "CplD") out.completionPayloads.push(tlp.data!);
        if (tlp.ep) out.counters.poisoned++;
        break;
      }
      case "MRd":
        out.memReads.push({
          address: tlp.address,
          lengthDw: tlp.lengthDw & 0x3ff,
          firstBe: tlp.firstBe,
          lastBe: tlp.lastBe,
          requesterId: tlp.requesterId,
          tag: tlp.tag,
          tc: tlp.tc,
          attr: tlp.attr,
        });
        break;
      case "MWr":
        out.memWrites.push({ address: tlp.address, lengthDw: tlp.lengthDw & 0x3ff, firstBe: tlp.firstBe, lastBe: tlp.lastBe, poisoned: tlp.ep ? 1 : 0 });
        out.memWritePayloads.push(tlp.data!);
        if (tlp.ep) out.counters.poisoned++;
        break;
      case "Msg":
      case "MsgD":
        out.counters.messages++;
        break;
      case "CfgRd0":
      case "CfgWr0":
      case "CfgRd1":
      case "CfgWr1":
        // A configuration request reaching the root port from below: Unsupported Request, Byte Count 4.
        out.urCompletions.push({ hasData: 0, status: CplStatus.UR, byteCount: 4, lowerAddress: 0, lengthDw: 0, requesterId: tlp.requesterId, tag: tlp.tag, tc: tlp.tc, attr: tlp.attr });
        out.counters.unsupported++;
        break;
    }
  }
  return out;
}
