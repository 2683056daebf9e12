// Runs the emitted tlp_completer against the reference splitter (sim/pcie/completion-split.ts):
// feeds it memory reads, plays the data source (answering each payload request after a latency
// with DWs that are a function of their address), takes the CplD headers and payloads with
// optional random back-pressure on every port, and compares every header, payload request and
// payload with what the reference says the reads must produce. Used by the tests and the benchmark.
import { emitDesign } from "../../hdl/index.ts";
import { type CompleterOptions, type ServedRegion, tlpCompleter } from "../../rtl-src/tlp/tlp-completer.ts";
import type { CompleterSplitParams } from "../../rtl-src/tlp/tlp-completer-splitter.ts";
import { type CompletionChunk, splitReadCompletion } from "../pcie/completion-split.ts";
import { requestedByteRange } from "../pcie/tlp-rules.ts";
import { type SignalHandle, type Simulator, type EngineName, createSimulator } from "../engine/index.ts";
import type { ReceivedReadRecord } from "./tlp-rx-records.ts";
import { monitorStreams } from "./stream-monitor.ts";

/** A memory read as the receive parser hands it to the completer. */
export type ReadRequest = ReceivedReadRecord;

/** The read of `bytes` bytes starting `offset` bytes into the page at `pageBase`, with the given IDs. */
export function readOfBytes(pageBase: bigint, offset: number, bytes: number, ids: Pick<ReadRequest, "requesterId" | "tag" | "tc" | "attr">): ReadRequest {
  const lead = offset & 3;
  const lengthDw = (lead + bytes + 3) >> 2;
  const lastBytes = lead + bytes - 4 * (lengthDw - 1);
  const firstBe = lengthDw === 1 ? (((1 << bytes) - 1) << lead) & 0xf : (0xf << lead) & 0xf;
  const lastBe = lengthDw === 1 ? 0 : (1 << lastBytes) - 1;
  return { address: pageBase + BigInt(offset & ~3), lengthDw, firstBe, lastBe, ...ids };
}

/** The DW the data source holds at a DW-aligned address: a hash, so a misplaced DW never matches. */
export function memoryDw(address: bigint): number {
  return memoryDwAt(Number(address & 0xffffffffn), Number((address >> 32n) & 0xffffffffn));
}

/** memoryDw() of the address high:low (32-bit halves), without bigint arithmetic. */
export function memoryDwAt(low: number, high: number): number {
  return Math.imul(low ^ Math.imul(high, 0x85ebca6b) ^ (low >>> 15), 0x9e3779b1) >>> 0;
}

export async function buildCompleterSimulator(params: CompleterSplitParams, engine: EngineName, options: CompleterOptions = {}): Promise<Simulator> {
  const module = tlpCompleter(params, options);
  const { files } = emitDesign(module);
  return monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: module.name, engine }));
}

export interface BackPressure {
  /** Probability per cycle that each side is willing (1 = always). */
  readValid: number;
  requestReady: number;
  responseValid: number;
  headerReady: number;
  payloadReady: number;
  /** Cycles between a payload request and the first beat of its answer. */
  sourceLatency: number;
}

export const NO_BACK_PRESSURE: BackPressure = { readValid: 1, requestReady: 1, responseValid: 1, headerReady: 1, payloadReady: 1, sourceLatency: 2 };

export interface CompleterRunOptions {
  params: CompleterSplitParams;
  /** Play the data source and check payloads; false checks headers and requests only (faster). */
  payload: boolean;
  backPressure?: BackPressure;
  random?: () => number;
  /** Give up when nothing moves for this many cycles. */
  stallCycles?: number;
  /** The completer was built with these regions: a read outside them must get one UR completion and no data request. */
  servedRegions?: readonly ServedRegion[];
}

export interface CompleterRunResult {
  cycles: number;
  reads: number;
  completions: number;
  /** Payload beats taken from the completer. */
  payloadBeats: number;
  /** Cycles in which a header or a payload beat left the completer. */
  busyCycles: number;
  /** The first mismatches found (at most 20), empty when every output matched the reference. */
  mismatches: string[];
}

interface Expected {
  read: ReadRequest;
  chunk: CompletionChunk;
  /** An Unsupported Request completion (no data request, no payload). */
  ur: boolean;
}

function outsideRegions(address: bigint, regions: readonly ServedRegion[] | undefined): boolean {
  if (!regions) return false;
  return !regions.some(({ base, bytes }) => address >= BigInt(base) && address < BigInt(base + bytes));
}

interface PendingAnswer {
  address: bigint;
  dwLeft: number;
  readyAt: number;
}

const MAX_MISMATCHES = 20;
const HEADER_PORTS = ["has_data", "status", "byte_count", "lower_address", "length_dw", "requester_id", "tag", "tc", "attr"] as const;

function formatHeader(values: Uint32Array): string {
  return HEADER_PORTS.map((port, i) => `${port} ${values[i]}`).join(", ");
}

/** Drives the completer until every read is answered; compares as it goes. */
export class CompleterDriver {
  private readonly h: Record<string, SignalHandle> = {};
  private readonly words = new Uint32Array(2);
  /** Last value poked per handle index, so unchanged inputs cost nothing per cycle. */
  private readonly driven = new Map<number, number>();
  private readonly headerHandles: SignalHandle[];
  private readonly header = new Uint32Array(HEADER_PORTS.length);
  private readonly wanted = new Uint32Array(HEADER_PORTS.length);

  constructor(private readonly sim: Simulator) {
    for (const name of [
      "mem_read_address", "mem_read_length_dw", "mem_read_first_be", "mem_read_last_be", "mem_read_requester_id",
      "mem_read_tag", "mem_read_tc", "mem_read_attr", "mem_read_valid", "mem_read_ready",
      "data_request_address", "data_request_length_dw", "data_request_valid", "data_request_ready",
      "data_response_tdata", "data_response_tkeep", "data_response_tlast", "data_response_tvalid", "data_response_tready",
      "completion_has_data", "completion_status", "completion_byte_count", "completion_lower_address", "completion_length_dw",
      "completion_requester_id", "completion_tag", "completion_tc", "completion_attr", "completion_valid", "completion_ready",
      "completion_payload_tdata", "completion_payload_tkeep", "completion_payload_tlast", "completion_payload_tvalid",
      "completion_payload_tready",
    ]) this.h[name] = sim.signal(name);
    this.headerHandles = HEADER_PORTS.map((port) => this.h[`completion_${port}`]);
  }

  private drive(handle: SignalHandle, value: number): void {
    if (this.driven.get(handle.index) === value) return;
    this.sim.poke(handle, value);
    this.driven.set(handle.index, value);
  }

  run(reads: Iterable<ReadRequest>, options: CompleterRunOptions): CompleterRunResult {
    const { sim, h, words } = this;
    const bp = options.backPressure ?? NO_BACK_PRESSURE;
    const random = options.random ?? Math.random;
    const stallCycles = options.stallCycles ?? 1000;
    const split = { rcb: options.params.readCompletionBoundary, mps: options.params.maxPayloadBytes };
    const mismatches: string[] = [];
    const mismatch = (text: string) => { if (mismatches.length < MAX_MISMATCHES) mismatches.push(`cycle ${sim.cycle}: ${text}`); };

    const source = reads[Symbol.iterator]();
    let offered: ReadRequest | undefined = source.next().value;
    let offeredPoked = false;
    const expected: Expected[] = []; // every completion header due, in order
    let base = 0; // index of expected[0]
    const expectedData: Expected[] = []; // the CplDs among them: data requests and payloads
    let dataBase = 0;
    let headerAt = 0, requestAt = 0, payloadAt = 0;
    const answers: PendingAnswer[] = [];
    let answerAt = 0;
    const payload: number[] = [];
    const result: CompleterRunResult = { cycles: 0, reads: 0, completions: 0, payloadBeats: 0, busyCycles: 0, mismatches };
    let quiet = 0;
    const startCycle = sim.cycle;

    this.drive(h.data_response_tvalid, 0);
    let readValid = false;
    let responseValid = false;
    while (offered !== undefined || headerAt < base + expected.length || (options.payload && payloadAt < dataBase + expectedData.length)) {
      // Drive this cycle's inputs.
      // Once offered, a valid stays up until its handshake (AXI4-Stream); the monitor checks it.
      readValid = offered !== undefined && (readValid || random() < bp.readValid);
      if (offered !== undefined && !offeredPoked) {
        sim.poke(h.mem_read_address, offered.address);
        sim.poke(h.mem_read_length_dw, offered.lengthDw & 0x3ff);
        sim.poke(h.mem_read_first_be, offered.firstBe);
        sim.poke(h.mem_read_last_be, offered.lastBe);
        sim.poke(h.mem_read_requester_id, offered.requesterId);
        sim.poke(h.mem_read_tag, offered.tag);
        sim.poke(h.mem_read_tc, offered.tc);
        sim.poke(h.mem_read_attr, offered.attr);
        offeredPoked = true;
      }
      this.drive(h.mem_read_valid, readValid ? 1 : 0);
      const requestReady = !options.payload || random() < bp.requestReady;
      this.drive(h.data_request_ready, requestReady ? 1 : 0);
      const answer = answers[answerAt];
      responseValid = options.payload === true && answer !== undefined && answer.readyAt <= sim.cycle && (responseValid || random() < bp.responseValid);
      if (responseValid) {
        words[0] = memoryDw(answer.address);
        words[1] = answer.dwLeft > 1 ? memoryDw(answer.address + 4n) : 0;
        sim.pokeWords(h.data_response_tdata, words);
        this.drive(h.data_response_tkeep, answer.dwLeft > 1 ? 0xff : 0x0f);
        this.drive(h.data_response_tlast, answer.dwLeft <= 2 ? 1 : 0);
      }
      this.drive(h.data_response_tvalid, responseValid ? 1 : 0);
      const headerReady = random() < bp.headerReady;
      this.drive(h.completion_ready, headerReady ? 1 : 0);
      const payloadReady = options.payload && random() < bp.payloadReady;
      this.drive(h.completion_payload_tready, payloadReady ? 1 : 0);

      // Handshakes at this edge.
      let moved = false;
      if (readValid && sim.peek(h.mem_read_ready)) {
        const read = offered!;
        const { firstByteAddress, byteCount } = requestedByteRange(read);
        if (outsideRegions(read.address, options.servedRegions)) {
          const chunk: CompletionChunk = { address: firstByteAddress, bytes: byteCount, offset: 0, byteCount, lowerAddress: Number(firstByteAddress & 0x7fn), lengthDw: 0, payloadAddress: read.address };
          expected.push({ read, chunk, ur: true });
        } else {
          for (const chunk of splitReadCompletion(firstByteAddress, byteCount, split)) {
            const due = { read, chunk, ur: false };
            expected.push(due);
            expectedData.push(due);
          }
        }
        result.reads++;
        offered = source.next().value;
        offeredPoked = false;
        readValid = false;
        moved = true;
      }
      if (requestReady && sim.peek(h.data_request_valid)) {
        const address = sim.peekBig(h.data_request_address);
        const lengthDw = sim.peek(h.data_request_length_dw);
        const want = expectedData[requestAt - dataBase];
        if (!want) mismatch(`payload request 0x${address.toString(16)}+${lengthDw} DW with no CplD due`);
        else if (address !== want.chunk.payloadAddress || lengthDw !== want.chunk.lengthDw) {
          mismatch(`payload request ${requestAt}: 0x${address.toString(16)}+${lengthDw} DW, want 0x${want.chunk.payloadAddress.toString(16)}+${want.chunk.lengthDw} DW (${describe(want.read)})`);
        }
        if (options.payload) answers.push({ address, dwLeft: lengthDw, readyAt: sim.cycle + bp.sourceLatency });
        requestAt++;
        moved = true;
      }
      if (responseValid && sim.peek(h.data_response_tready)) {
        answer.address += 8n;
        answer.dwLeft -= 2;
        responseValid = false;
        if (answer.dwLeft <= 0) answerAt++;
        if (answerAt > 1024) {
          answers.splice(0, answerAt);
          answerAt = 0;
        }
        moved = true;
      }
      let busy = false;
      if (headerReady && sim.peek(h.completion_valid)) {
        this.checkHeader(expected[headerAt - base], headerAt, mismatch);
        headerAt++;
        result.completions++;
        busy = moved = true;
      }
      if (payloadReady && sim.peek(h.completion_payload_tvalid)) {
        sim.peekWords(h.completion_payload_tdata, words);
        const keep = sim.peek(h.completion_payload_tkeep);
        payload.push(words[0]);
        if (keep === 0xff) payload.push(words[1]);
        else if (keep !== 0x0f) mismatch(`payload beat with tkeep 0x${keep.toString(16)}`);
        result.payloadBeats++;
        if (sim.peek(h.completion_payload_tlast)) {
          this.checkPayload(expectedData[payloadAt - dataBase], payloadAt, payload, mismatch);
          payload.length = 0;
          payloadAt++;
        }
        busy = moved = true;
      }
      if (busy) result.busyCycles++;
      sim.step();

      if (headerAt - base > 4096) { expected.splice(0, headerAt - base); base = headerAt; }
      const dataDone = Math.min(requestAt, options.payload ? payloadAt : requestAt) - dataBase;
      if (dataDone > 4096) { expectedData.splice(0, dataDone); dataBase += dataDone; }
      quiet = moved ? 0 : quiet + 1;
      if (quiet > stallCycles) {
        mismatch(`stalled: nothing moved for ${stallCycles} cycles (${result.reads} reads in, ${headerAt} headers, ${payloadAt} payloads out)`);
        break;
      }
      if (mismatches.length >= MAX_MISMATCHES) break;
    }
    this.drive(h.mem_read_valid, 0);
    this.drive(h.data_response_tvalid, 0);
    result.cycles = sim.cycle - startCycle;
    return result;
  }

  private checkHeader(want: Expected | undefined, index: number, mismatch: (text: string) => void): void {
    const { sim, headerHandles, header, wanted } = this;
    for (let i = 0; i < headerHandles.length; i++) header[i] = sim.peek(headerHandles[i]);
    if (!want) return mismatch(`CplD header ${index} with no CplD due: ${formatHeader(header)}`);
    const { read, chunk } = want;
    wanted[0] = want.ur ? 0 : 1;
    wanted[1] = want.ur ? 1 : 0;
    wanted[2] = chunk.byteCount & 0xfff;
    wanted[3] = chunk.lowerAddress;
    wanted[4] = chunk.lengthDw & 0x3ff;
    wanted[5] = read.requesterId;
    wanted[6] = read.tag;
    wanted[7] = read.tc;
    wanted[8] = read.attr;
    for (let i = 0; i < header.length; i++) {
      if (header[i] !== wanted[i]) {
        return mismatch(`CplD header ${index} (${describe(read)}): got ${formatHeader(header)}, want ${formatHeader(wanted)}`);
      }
    }
  }

  private checkPayload(want: Expected | undefined, index: number, dws: number[], mismatch: (text: string) => void): void {
    if (!want) return mismatch(`CplD payload ${index} (${dws.length} DW) with no CplD due`);
    const { chunk, read } = want;
    if (dws.length !== chunk.lengthDw) return mismatch(`CplD payload ${index} (${describe(read)}) has ${dws.length} DW, want ${chunk.lengthDw}`);
    for (let i = 0; i < dws.length; i++) {
      const address = chunk.payloadAddress + BigInt(4 * i);
      if (dws[i] !== memoryDw(address)) {
        return mismatch(`CplD payload ${index} (${describe(read)}) DW ${i} is 0x${dws[i].toString(16)}, want the DW at 0x${address.toString(16)}`);
      }
    }
  }
}

function describe(read: ReadRequest): string {
  const be = (v: number) => v.toString(2).padStart(4, "0");
  return `MRd 0x${read.address.toString(16)} ${read.lengthDw} DW BE ${be(read.firstBe)}/${be(read.lastBe)} tag ${read.tag}`;
}
