// Streaming workloads through TlpPort -> LinkModel -> endpoint, measuring the payload rate the modelled link
// sustains. Shared by the link tests (short runs) and sim/bench/link-throughput.ts (long runs, wall time).

import { LinkModel } from "../pcie/link-model.ts";
import { USER_CLOCK_HZ, type LinkParamsInput } from "../pcie/link-params.ts";
import { completeMemoryRead } from "../pcie/completion-split.ts";
import { TlpPort } from "../pcie/tlp-port.ts";
import type { PcieEndpoint, Tlp } from "../pcie/tlp.ts";

export interface StreamResult {
  /** Payload bytes that reached the far side in the measured window. */
  payloadBytes: number;
  /** Simulated cycles in the measured window (first to last delivery). */
  windowCycles: number;
  /** Payload bytes per simulated second in the window. */
  bytesPerSecond: number;
  /** Total cycles stepped, including link training and the drain. */
  totalCycles: number;
  link: LinkModel;
}

const plain = { tc: 0, attr: 0, ep: false, td: false };

/** Counts what arrives and answers MRds at once with CplDs split at its own MPS (RCB 64, largest pieces). */
class StreamingEndpoint implements PcieEndpoint {
  received = 0;
  receivedPayload = 0;
  firstArrival = -1;
  lastArrival = -1;
  private readonly pending: Tlp[] = [];
  private head = 0;
  private readonly payload: Uint8Array;

  constructor(private readonly mps: number) {
    this.payload = new Uint8Array(4096);
  }

  receive(tlp: Tlp, cycle: number): void {
    this.received++;
    this.receivedPayload += tlp.data?.length ?? 0;
    if (this.firstArrival < 0) this.firstArrival = cycle;
    this.lastArrival = cycle;
    if (tlp.kind === "MRd") {
      const payload = this.payload;
      for (const cpl of completeMemoryRead(tlp, 0x0100, (_a, length) => payload.subarray(0, length), { rcb: 64, mps: this.mps })) {
        this.pending.push(cpl);
      }
    }
  }

  nextUpstream(): Tlp | undefined {
    if (this.head >= this.pending.length) return undefined;
    const tlp = this.pending[this.head];
    this.pending[this.head++] = undefined as unknown as Tlp;
    return tlp;
  }
}

function trainedPort(endpoint: PcieEndpoint, params: LinkParamsInput): TlpPort {
  const link = new LinkModel(endpoint, params);
  const port = new TlpPort(link);
  port.runUntil(() => link.ports.user_lnk_up === 1, link.params.trainingCycles + 10);
  return port;
}

/** Queue at most this many TLPs ahead in TlpPort: enough to keep s_axis_tx busy, little memory held. */
const QUEUE_AHEAD = 16;
/** Reads kept outstanding, as a host with 32 tags would. */
const OUTSTANDING_READS = 32;

/** `count` posted writes of `payloadBytes` each, issued back to back on s_axis_tx (3DW, ascending addresses). */
export function runPostedWriteStream(params: LinkParamsInput, payloadBytes: number, count: number): StreamResult {
  const endpoint = new StreamingEndpoint(params.mps ?? 128);
  const port = trainedPort(endpoint, params);
  const data = new Uint8Array(payloadBytes).fill(0xa5);
  let issued = 0;
  const maxCycles = port.cycle + count * (payloadBytes + 64) + 10_000;
  while (endpoint.received < count) {
    while (issued < count && port.pendingTx < QUEUE_AHEAD) {
      port.send({
        kind: "MWr", ...plain, requesterId: 0, tag: 0, address: BigInt(0x1000_0000 + (issued % 1024) * payloadBytes), addr64: false,
        lengthDw: payloadBytes / 4, firstBe: 0xf, lastBe: payloadBytes === 4 ? 0 : 0xf, data,
      });
      issued++;
    }
    port.step();
    if (port.cycle > maxCycles) throw new Error(`posted write stream stalled: ${endpoint.received} of ${count} delivered`);
  }
  const windowCycles = endpoint.lastArrival - endpoint.firstArrival;
  const measured = (count - 1) * payloadBytes;
  return { payloadBytes: measured, windowCycles, bytesPerSecond: (measured / windowCycles) * USER_CLOCK_HZ, totalCycles: port.cycle, link: port.link };
}

/**
 * `count` reads of `readBytes` each (aligned, MRRS-sized), 32 kept outstanding; the endpoint answers with
 * CplDs of its MPS. Measures the completion payload the user takes from m_axis_rx.
 */
export function runReadCompletionStream(params: LinkParamsInput, readBytes: number, count: number): StreamResult {
  const endpoint = new StreamingEndpoint(params.mps ?? 128);
  const port = trainedPort(endpoint, params);
  let firstCycle = -1;
  let lastCycle = -1;
  let firstPayload = 0;
  let payload = 0;
  let completedReads = 0;
  port.onReceive((tlp, cycle) => {
    const bytes = tlp.data?.length ?? 0;
    if (firstCycle < 0) {
      firstCycle = cycle;
      firstPayload = bytes;
    }
    lastCycle = cycle;
    payload += bytes;
    if (tlp.kind === "CplD" && tlp.byteCount === bytes) completedReads++;
  });
  let issued = 0;
  const maxCycles = port.cycle + count * (readBytes + 256) + 10_000;
  while (completedReads < count) {
    while (issued < count && issued - completedReads < OUTSTANDING_READS) {
      port.send({
        kind: "MRd", ...plain, requesterId: 0, tag: issued % OUTSTANDING_READS, address: BigInt(0x2000_0000 + (issued % 1024) * readBytes), addr64: false,
        lengthDw: readBytes / 4, firstBe: 0xf, lastBe: readBytes === 4 ? 0 : 0xf,
      });
      issued++;
    }
    port.step();
    if (port.cycle > maxCycles) throw new Error(`read stream stalled: ${completedReads} of ${count} reads completed`);
  }
  const measured = payload - firstPayload;
  const windowCycles = lastCycle - firstCycle;
  return { payloadBytes: measured, windowCycles, bytesPerSecond: (measured / windowCycles) * USER_CLOCK_HZ, totalCycles: port.cycle, link: port.link };
}
