// The wire and AXI arithmetic of the link model (sim/pcie/link-model.ts, link-direction.ts), in closed
// form: what a TLP costs on the serial wire and on the 64-bit AXI4-Stream side, what SKP ordered sets
// take, and how many Ack and UpdateFC DLLPs the receivers send for a stream of TLPs. Every number
// comes from the model's own parameters (DEFAULT_LINK_PARAMS, wireRate), so the estimate follows the
// model when they change.
import { DLLP_BYTES, TLP_FRAMING_BYTES, USER_CLOCK_HZ, wireRate, type Generation, type LinkParams } from "../pcie/link-params.ts";

/** The whole virtual host map (and every address the SSD model uses) lies below 4 GiB: 3DW headers only. */
export const HEADER_3DW_BYTES = 12;
const DW_BYTES = 4;
/** One beat of the 7-series 64-bit AXI4-Stream interface (PROTOCOL_FACTS A.4). */
export const AXI_BEAT_BYTES = 8;
/** A 3DW TLP without data still takes two beats: {H1, H0}, {-, H2}. */
const NO_DATA_3DW_BEATS = 2;
const HEADER_3DW_DWS = 3;
/** Points over which the uniformly distributed wait for a free wire slot is averaged. */
const WAIT_SAMPLES = 64;

/** Bytes a TLP with `payloadBytes` of payload takes on the wire: framing + 3DW header + DW-rounded payload. */
export function tlpWireBytes(payloadBytes: number): number {
  return TLP_FRAMING_BYTES + HEADER_3DW_BYTES + Math.ceil(payloadBytes / DW_BYTES) * DW_BYTES;
}

/** Beats a 3DW TLP with `payloadBytes` of payload takes on the 64-bit AXI side: a new TLP starts in a fresh beat. */
export function tlpBeats(payloadBytes: number): number {
  if (payloadBytes === 0) return NO_DATA_3DW_BEATS;
  return Math.ceil((HEADER_3DW_DWS + Math.ceil(payloadBytes / DW_BYTES)) / 2);
}

/** Bytes the wire carries per 250 MHz user-clock cycle, before SKP ordered sets (8b/10b or 128b/130b applied). */
export function wireBytesPerCycle(generation: Generation, lanes: number): number {
  const rate = wireRate(generation, lanes);
  return rate.unitsPerCycle / rate.unitsPerByte;
}

/** Share of the wire's symbol times that SKP ordered sets take (Gen1/2: 4 per 1180; Gen3: 16 per 370 x 16). */
export function skpShare(generation: Generation, lanes: number, skpIntervalSymbols: number): number {
  return wireRate(generation, lanes).skpSymbols / skpIntervalSymbols;
}

/** Bytes of TLPs (and DLLPs) per cycle the wire can carry, SKP ordered sets deducted. */
export function usableWireBytesPerCycle(generation: Generation, lanes: number, skpIntervalSymbols: number): number {
  return wireBytesPerCycle(generation, lanes) * (1 - skpShare(generation, lanes, skpIntervalSymbols));
}

export function cyclesToSeconds(cycles: number): number {
  return cycles / USER_CLOCK_HZ;
}

/** How long a DLLP that fell due waits for the wire: nothing when the wire is idle, else the rest of the TLP on it. */
export interface WireWait {
  /** Fraction of time the wire is busy with TLPs (0..1). */
  busy: number;
  /** Mean wire time of one TLP on it, cycles. */
  tlpCycles: number;
}

/**
 * Mean number of received TLPs one DLLP answers (an Ack, or an UpdateFC of one credit class). The
 * receiver owes a DLLP from the first TLP it got (LinkDirection.owesAck / returnCredits). It falls
 * due once `everyTlps` are owed (checked at the next cycle's start, so the one that made the count
 * is answered) or `maxDelayCycles` after the first (at that cycle's start: one arriving in it is
 * not), and goes out as soon as the wire has budget: at once on an idle wire, after the TLP being
 * sent on a busy one (LinkDirection.tick sends DLLPs only while the budget is positive). Every TLP
 * that arrived by then is answered. TLPs arrive every `periodCycles` (a steady stream); the wait for
 * the wire is uniform over a TLP's length when it is busy.
 */
export function tlpsPerDllp(periodCycles: number, everyTlps: number, maxDelayCycles: number, wait: WireWait): number {
  if (!Number.isFinite(periodCycles) || periodCycles <= 0) return 1;
  const byCount = (everyTlps - 1) * periodCycles < maxDelayCycles;
  const answered = (waitCycles: number) =>
    byCount ? everyTlps + Math.floor(waitCycles / periodCycles) : 1 + Math.floor((maxDelayCycles + waitCycles - 1e-9) / periodCycles);
  const busy = Math.min(1, Math.max(0, wait.busy));
  let busyMean = 0;
  for (let i = 0; i < WAIT_SAMPLES; i++) busyMean += answered(((i + 0.5) / WAIT_SAMPLES) * wait.tlpCycles);
  busyMean /= WAIT_SAMPLES;
  return (1 - busy) * answered(0) + busy * busyMean;
}

/** The link parameters the estimate uses (the link model's, with the speed and width both ends reach). */
export type LinkBudgetParams = Pick<
  LinkParams,
  | "generation"
  | "lanes"
  | "latencyCycles"
  | "ackEveryTlps"
  | "ackMaxDelayCycles"
  | "updateFcEveryTlps"
  | "updateFcMaxDelayCycles"
  | "skpIntervalSymbols"
  | "rootPortRxCredits"
  | "endpointRxCredits"
  | "rcb"
>;

/** Data-credit units of flow control: one per 16 payload bytes (PCIe Base §2.6). */
export const FC_DATA_CREDIT_BYTES = 16;

/**
 * The payload ceiling of one direction for a long stream of `payloadBytes`-sized TLPs (`analyticPayloadCeiling`
 * of sim/pcie/link-params.ts, which the link bench compares with the model) plus `dllpBytesPerTlp` of
 * DLLPs that the stream itself makes the far end send on the same wire. Bytes per second.
 */
export function streamCeiling(link: LinkBudgetParams, payloadBytes: number, dllpBytesPerTlp = 0): number {
  const perCycle = usableWireBytesPerCycle(link.generation, link.lanes, link.skpIntervalSymbols);
  return (perCycle * USER_CLOCK_HZ * payloadBytes) / (tlpWireBytes(payloadBytes) + dllpBytesPerTlp);
}

export { DLLP_BYTES, TLP_FRAMING_BYTES, USER_CLOCK_HZ };
