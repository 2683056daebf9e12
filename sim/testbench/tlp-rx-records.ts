// What the consumers above tlp_rx take from its completion, mem_read and mem_write header ports, one
// record per header, field for field as the ports carry them. Shared by every run that watches those
// ports (the rx, layer and completer harnesses) so they compare like with like.

export interface ReceivedCompletionRecord {
  hasData: number;
  status: number;
  byteCount: number;
  lowerAddress: number;
  lengthDw: number;
  tag: number;
  completerId: number;
  poisoned: number;
}

export interface ReceivedReadRecord {
  address: bigint;
  lengthDw: number;
  firstBe: number;
  lastBe: number;
  requesterId: number;
  tag: number;
  tc: number;
  attr: number;
}

export interface ReceivedWriteRecord {
  address: bigint;
  lengthDw: number;
  firstBe: number;
  lastBe: number;
  poisoned: number;
  /** The Requester ID, from a parser built with memWriteRequesterId (absent otherwise). */
  requesterId?: number;
}
