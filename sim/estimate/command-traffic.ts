// The TLPs one NVMe read or write puts on each direction of the link, counted the way the SSD model
// (sim/nvme/controller.ts, dma.ts, prp.ts) and the host's completer cut them: SQ tail and CQ head
// doorbells (4-byte MWr down), the SSD's SQ entry fetch (MRd up, 64-byte entries back as CplDs) shared
// by the entries one fetch brings, the PRP list fetch for more than two pages (the controller computes
// the list, the SSD still reads it), the data (a read's MWr up, cut at MPS inside each 4 KiB page; a
// write's MRd up, cut at MRRS-aligned blocks, answered by CplDs cut at the read completion boundary and
// MPS), and the CQ entry (16-byte MWr up). The cuts use the project's own functions
// (completion-split.ts, byte-enables.ts), so a change there changes the estimate.
import { pieceEnd } from "../nvme/byte-enables.ts";
import { splitReadCompletion, type CompletionSplitParams } from "../pcie/completion-split.ts";
import { tlpBeats, tlpWireBytes } from "./link-budget.ts";

/** NVMe host memory pages (CC.MPS = 0), the unit of PRP entries. */
export const HOST_PAGE_BYTES = 4096;
export const SQE_BYTES = 64;
export const CQE_BYTES = 16;
const PRP_ENTRY_BYTES = 8;
const DOORBELL_BYTES = 4;
/** A TLP may not cross a 4 KiB boundary (PROTOCOL_FACTS 0.11). */
const TLP_PAGE_BYTES = 4096;

/** TLPs of one direction: counts, bytes on the wire and beats on the 64-bit AXI side, by flow-control class. */
export interface TlpTally {
  tlps: number;
  wireBytes: number;
  beats: number;
  payloadBytes: number;
  posted: number;
  nonPosted: number;
  completions: number;
}

export interface CommandTraffic {
  /** Root complex -> SSD. */
  down: TlpTally;
  /** SSD -> root complex. */
  up: TlpTally;
}

/** How the host answers the SSD's memory reads: the controller's completer, or the reference transport's 64-byte CplDs. */
export type CompletionSplit = "largest" | "rcb";

export interface TrafficParams {
  mps: number;
  mrrs: number;
  /** The host's read completion boundary, bytes. */
  rcb: number;
  completionSplit: CompletionSplit;
  /** SQ entries one SSD fetch brings (at least 1); the fetch's MRd and CplDs are shared among them. */
  entriesPerFetch: number;
  /** SQ tail + CQ head doorbells per command (2 unless they are coalesced). */
  doorbellsPerCommand: number;
}

export function emptyTally(): TlpTally {
  return { tlps: 0, wireBytes: 0, beats: 0, payloadBytes: 0, posted: 0, nonPosted: 0, completions: 0 };
}

type FcKind = "posted" | "nonPosted" | "completions";

function add(tally: TlpTally, kind: FcKind, payloadBytes: number, count = 1): void {
  tally.tlps += count;
  tally.wireBytes += count * tlpWireBytes(payloadBytes);
  tally.beats += count * tlpBeats(payloadBytes);
  tally.payloadBytes += count * payloadBytes;
  tally[kind] += count;
}

export function addTallies(a: TlpTally, b: TlpTally, scale = 1): TlpTally {
  return {
    tlps: a.tlps + scale * b.tlps,
    wireBytes: a.wireBytes + scale * b.wireBytes,
    beats: a.beats + scale * b.beats,
    payloadBytes: a.payloadBytes + scale * b.payloadBytes,
    posted: a.posted + scale * b.posted,
    nonPosted: a.nonPosted + scale * b.nonPosted,
    completions: a.completions + scale * b.completions,
  };
}

function splitParams(p: TrafficParams): CompletionSplitParams {
  // The reference transport answers with 64-byte CplDs whatever MPS is (sim/host/model-transport.ts).
  return p.completionSplit === "rcb" ? { rcb: p.rcb, mps: 128, policy: "aligned", alignBytes: p.rcb } : { rcb: p.rcb, mps: p.mps, policy: "largest" };
}

/**
 * A memory read of `bytes` at `address` as the SSD's DMA engine issues it (MRds inside MRRS-aligned
 * blocks) and as the host answers it: MRds up, CplDs down.
 */
function memoryRead(address: number, bytes: number, p: TrafficParams, down: TlpTally, up: TlpTally, scale = 1): void {
  const granule = Math.min(p.mrrs, TLP_PAGE_BYTES);
  const split = splitParams(p);
  const end = BigInt(address + bytes);
  for (let at = BigInt(address); at < end; ) {
    const next = pieceEnd(at, end, granule);
    add(up, "nonPosted", 0, scale);
    for (const chunk of splitReadCompletion(at, Number(next - at), split)) add(down, "completions", chunk.lengthDw * 4, scale);
    at = next;
  }
}

/** Posted writes of `bytes` at `address` as the SSD's DMA engine cuts them (MPS-aligned pieces). */
function memoryWrite(address: number, bytes: number, mps: number, up: TlpTally): void {
  const granule = Math.min(mps, TLP_PAGE_BYTES);
  const end = BigInt(address + bytes);
  for (let at = BigInt(address); at < end; ) {
    const next = pieceEnd(at, end, granule);
    add(up, "posted", Number(next - at));
    at = next;
  }
}

/** PRP entries in a list for a transfer of `bytes` from a page-aligned buffer (0 when PRP1/PRP2 suffice). */
export function prpListEntries(bytes: number): number {
  const pages = Math.ceil(bytes / HOST_PAGE_BYTES);
  return pages > 2 ? pages - 1 : 0;
}

/**
 * The TLPs of one NVMe read (`isRead`) or write of `bytes` from a page-aligned buffer, including its
 * share of the SQ entry fetch, its PRP list, its CQ entry and its doorbells.
 */
export function commandTraffic(isRead: boolean, bytes: number, p: TrafficParams): CommandTraffic {
  const down = emptyTally();
  const up = emptyTally();
  add(down, "posted", DOORBELL_BYTES, p.doorbellsPerCommand);
  // One fetch MRd brings `entriesPerFetch` entries, each command pays its share.
  memoryRead(0, SQE_BYTES * p.entriesPerFetch, p, down, up, 1 / p.entriesPerFetch);
  const entries = prpListEntries(bytes);
  if (entries > 0) memoryRead(0, entries * PRP_ENTRY_BYTES, p, down, up);
  for (let page = 0; page * HOST_PAGE_BYTES < bytes; page++) {
    const length = Math.min(HOST_PAGE_BYTES, bytes - page * HOST_PAGE_BYTES);
    if (isRead) memoryWrite(page * HOST_PAGE_BYTES, length, p.mps, up);
    else memoryRead(page * HOST_PAGE_BYTES, length, p, down, up);
  }
  add(up, "posted", CQE_BYTES);
  return { down, up };
}

/** The TLPs that carry the data of `bytes` (a read's MWrs, a write's MRds and CplDs), for latency: how long the transfer takes. */
export function dataTraffic(isRead: boolean, bytes: number, p: TrafficParams): CommandTraffic {
  const down = emptyTally();
  const up = emptyTally();
  for (let page = 0; page * HOST_PAGE_BYTES < bytes; page++) {
    const length = Math.min(HOST_PAGE_BYTES, bytes - page * HOST_PAGE_BYTES);
    if (isRead) memoryWrite(page * HOST_PAGE_BYTES, length, p.mps, up);
    else memoryRead(page * HOST_PAGE_BYTES, length, p, down, up);
  }
  return { down, up };
}

/** The TLPs of an SQ entry fetch of one entry or of a PRP list read: MRd up, CplDs down. */
export function fetchTraffic(bytes: number, p: TrafficParams): CommandTraffic {
  const down = emptyTally();
  const up = emptyTally();
  memoryRead(0, bytes, p, down, up);
  return { down, up };
}

export const PRP_ENTRY_SIZE = PRP_ENTRY_BYTES;
export const DOORBELL_PAYLOAD_BYTES = DOORBELL_BYTES;
