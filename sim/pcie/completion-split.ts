// How a completer answers a memory read (facts digest §B.5): the requested bytes go back in one or more
// CplDs in address order; every CplD but the last ends on a naturally aligned RCB boundary; no CplD carries
// more than MPS bytes of payload; Byte Count = bytes still owed including this CplD's; Lower Address =
// address[6:0] of the CplD's first returned byte. Reused by the scripted endpoint, the SSD model and the
// tests of the hardware completer.

import type { Completion, ConfigRequest, MemRequest } from "./tlp.ts";
import { CplStatus } from "./tlp.ts";
import { requestedByteRange } from "./tlp-rules.ts";

export interface CompletionSplitParams {
  /** Read Completion Boundary in bytes: 64 or 128. */
  rcb: number;
  /** Max_Payload_Size of the completer in bytes: 128 .. 4096, a power of two. */
  mps: number;
  /**
   * `largest` (default): each CplD as large as MPS allows while ending on an RCB boundary.
   * `rcb`: cut at every RCB boundary (the smallest legal pieces, as many root complexes do).
   * `aligned`: cut at every `alignBytes`-aligned address (a completer serving reads from fixed-size buffers).
   */
  policy?: "largest" | "rcb" | "aligned";
  /** Cut spacing of the `aligned` policy: a power of two from RCB to MPS. */
  alignBytes?: number;
}

export interface CompletionChunk {
  /** Address of the first requested byte this CplD returns. */
  address: bigint;
  /** Requested bytes this CplD returns. */
  bytes: number;
  /** Offset of `address` from the request's first requested byte. */
  offset: number;
  /** Byte Count field: requested bytes remaining, including this CplD's. */
  byteCount: number;
  /** Lower Address field: address[6:0]. */
  lowerAddress: number;
  /** Payload length in DW: from the DW holding the first byte to the DW holding the last. */
  lengthDw: number;
  /** DW-aligned address of the payload's first DW. */
  payloadAddress: bigint;
}

/** Throw a RangeError naming the first parameter outside its legal range. */
export function checkSplitParams(params: CompletionSplitParams): void {
  if (params.rcb !== 64 && params.rcb !== 128) throw new RangeError(`RCB ${params.rcb} is not 64 or 128 bytes`);
  if (![128, 256, 512, 1024, 2048, 4096].includes(params.mps)) {
    throw new RangeError(`MPS ${params.mps} is not a power of two in 128..4096 bytes`);
  }
  if (params.policy === "aligned") {
    const { alignBytes, rcb, mps } = params;
    if (alignBytes === undefined || !Number.isInteger(alignBytes) || alignBytes < rcb || alignBytes > mps || (alignBytes & (alignBytes - 1)) !== 0) {
      throw new RangeError(`alignBytes ${alignBytes} of the aligned policy is not a power of two from RCB ${rcb} to MPS ${mps}`);
    }
  }
}

/** Cut the `byteCount` bytes starting at `firstByteAddress` into legal completions. */
export function splitReadCompletion(firstByteAddress: bigint, byteCount: number, params: CompletionSplitParams): CompletionChunk[] {
  checkSplitParams(params);
  if (!Number.isInteger(byteCount) || byteCount < 1 || byteCount > 4096) {
    throw new RangeError(`read of ${byteCount} bytes: Byte Count must be 1..4096`);
  }
  // A legal read stays inside one 4 KiB page, so the arithmetic runs on page offsets as plain numbers.
  const page = firstByteAddress & ~0xfffn;
  const first = Number(firstByteAddress - page);
  const end = first + byteCount;
  if (end > 4096) throw new RangeError(`read 0x${firstByteAddress.toString(16)}+${byteCount} crosses a 4 KiB boundary`);
  const { rcb, mps } = params;
  const chunks: CompletionChunk[] = [];
  let cursor = first;
  while (cursor < end) {
    const payloadStart = cursor & ~3;
    let cut: number;
    if (params.policy === "rcb" || params.policy === "aligned") {
      const spacing = params.policy === "rcb" ? rcb : params.alignBytes!;
      cut = Math.min(end, (Math.floor(cursor / spacing) + 1) * spacing);
    } else {
      const restFits = alignUp4(end) - payloadStart <= mps;
      cut = restFits ? end : Math.floor((payloadStart + mps) / rcb) * rcb;
    }
    chunks.push({
      address: page + BigInt(cursor),
      bytes: cut - cursor,
      offset: cursor - first,
      byteCount: end - cursor,
      lowerAddress: cursor & 0x7f,
      lengthDw: (alignUp4(cut) - payloadStart) / 4,
      payloadAddress: page + BigInt(payloadStart),
    });
    cursor = cut;
  }
  return chunks;
}

/** What one CplD returns of a read, as `judgeCompletionChunk` sees it. */
export interface ChunkJudgement {
  /** Requested bytes the CplD returns (0 when it starts nowhere near the next byte owed). */
  bytes: number;
  /** Why the CplD is not a legal piece of any split this file's rules allow; undefined when it is. */
  violation?: string;
}

/**
 * Judges a CplD of `lengthDw` DWs that returns the read of `byteCount` bytes at `firstByteAddress` from
 * `offset` bytes on (the bytes the completer had already returned), by the rules every split of this file
 * follows, whatever the policy: the payload starts with the DW holding the next byte owed; it either ends
 * with the DW holding the read's last byte (the final CplD) or ends exactly on a naturally aligned RCB
 * boundary, short of that; it carries at most MPS bytes. Byte Count and Lower Address are the caller's to
 * compare (`byteCount - offset`, the next byte's address[6:0]).
 */
export function judgeCompletionChunk(
  firstByteAddress: bigint,
  byteCount: number,
  offset: number,
  lengthDw: number,
  params: Pick<CompletionSplitParams, "rcb" | "mps">,
): ChunkJudgement {
  checkSplitParams(params);
  if (!Number.isInteger(byteCount) || byteCount < 1 || byteCount > 4096) {
    throw new RangeError(`read of ${byteCount} bytes: Byte Count must be 1..4096`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset >= byteCount) throw new RangeError(`offset ${offset} is not inside the read of ${byteCount} bytes`);
  if (!Number.isInteger(lengthDw) || lengthDw < 1 || lengthDw > 1024) throw new RangeError(`CplD length ${lengthDw} DW is not 1..1024`);
  const page = firstByteAddress & ~0xfffn;
  const first = Number(firstByteAddress - page);
  const cursor = first + offset;
  const end = first + byteCount;
  const payloadStart = cursor & ~3;
  const payloadEnd = payloadStart + lengthDw * 4;
  const bytes = Math.min(end, payloadEnd) - cursor;
  const at = (pageOffset: number) => `0x${(page + BigInt(pageOffset)).toString(16)}`;
  if (lengthDw * 4 > params.mps) {
    return { bytes, violation: `CplD carries ${lengthDw * 4} B, more than Max_Payload_Size ${params.mps} B` };
  }
  if (payloadEnd > alignUp4(end)) {
    const owed = (alignUp4(end) - payloadStart) / 4;
    return { bytes, violation: `CplD carries ${lengthDw} DW but only ${owed} DW (${at(payloadStart)}..${at(alignUp4(end))}) are left of the read` };
  }
  if (payloadEnd < alignUp4(end) && payloadEnd % params.rcb !== 0) {
    return { bytes, violation: `CplD ends at ${at(payloadEnd)} before the read's end, not on a ${params.rcb}-byte read completion boundary` };
  }
  return { bytes };
}

function alignUp4(offset: number): number {
  return (offset + 3) & ~3;
}

/**
 * The CplDs answering `request`, payload read through `readMemory(payloadAddress, byteLength)` (which must
 * return exactly that many bytes, in address order). TC, Attr, Requester ID and Tag are copied from the request.
 */
export function completeMemoryRead(
  request: MemRequest,
  completerId: number,
  readMemory: (payloadAddress: bigint, byteLength: number) => Uint8Array,
  params: CompletionSplitParams,
): Completion[] {
  if (request.kind !== "MRd") throw new RangeError(`completeMemoryRead needs an MRd, got ${request.kind}`);
  const { firstByteAddress, byteCount } = requestedByteRange(request);
  return splitReadCompletion(firstByteAddress, byteCount, params).map((chunk) => {
    const data = readMemory(chunk.payloadAddress, chunk.lengthDw * 4);
    if (data.length !== chunk.lengthDw * 4) {
      throw new RangeError(`readMemory returned ${data.length} bytes for a ${chunk.lengthDw * 4}-byte CplD payload`);
    }
    return {
      kind: "CplD",
      tc: request.tc,
      attr: request.attr,
      ep: false,
      td: false,
      completerId,
      status: CplStatus.SC,
      bcm: false,
      byteCount: chunk.byteCount,
      requesterId: request.requesterId,
      tag: request.tag,
      lowerAddress: chunk.lowerAddress,
      lengthDw: chunk.lengthDw,
      data,
    };
  });
}

/**
 * A Cpl without data: SC for a configuration write, or UR / CA / CRS for a request that will not be served.
 * Byte Count and Lower Address are filled as the first successful completion would carry them (memory
 * reads) or 4 / 0 (configuration requests), which is what the 7-series core does for completions it builds.
 */
export function completionWithoutData(request: MemRequest | ConfigRequest, completerId: number, status: CplStatus): Completion {
  let byteCount = 4;
  let lowerAddress = 0;
  if (request.kind === "MRd" || request.kind === "MWr") {
    const range = requestedByteRange(request);
    byteCount = range.byteCount;
    lowerAddress = Number(range.firstByteAddress & 0x7fn);
  }
  return {
    kind: "Cpl",
    tc: request.tc,
    attr: request.attr,
    ep: false,
    td: false,
    completerId,
    status,
    bcm: false,
    byteCount,
    requesterId: request.requesterId,
    tag: request.tag,
    lowerAddress,
    lengthDw: 0,
  };
}
