// Parameters of the link + hard-IP model and the wire arithmetic they imply (facts digest §F). Time is counted
// in cycles of the 250 MHz user clock; the wire's byte budget is kept in integer "units" so every generation's
// rate is exact: Gen1/Gen2 (8b/10b) move 1 or 2 bytes per lane per cycle, Gen3 (128b/130b) 256/65.

export type Generation = 1 | 2 | 3;

/** Flow-control credits a receiver advertises; Infinity = infinite (header credits per TLP, data per 16 B). */
export interface CreditLimits {
  postedHeader: number;
  postedData: number;
  nonPostedHeader: number;
  nonPostedData: number;
  completionHeader: number;
  completionData: number;
}

export interface LinkParams {
  /** 1 = 2.5 GT/s, 2 = 5 GT/s, 3 = 8 GT/s. */
  generation: Generation;
  lanes: number;
  /** One-way latency from the last byte leaving one end to the TLP being usable at the other (PHY, DLL, wire). */
  latencyCycles: number;
  /** Cycles from reset (or PERST# release) until user_lnk_up (training + flow-control init). */
  trainingCycles: number;
  /**
   * Speed the link first trains to, at most `generation` (default: `generation`). A core that stays at
   * 2.5 GT/s until told otherwise is initialSpeed 1; a directed speed change or a Retrain moves it.
   */
  initialSpeed: Generation;
  /** The endpoint's Link Capabilities (default: the root port's `generation` and `lanes`): the link runs at the lower of both ends. */
  endpointMaxSpeed: Generation;
  endpointMaxWidth: number;
  /** The link never trains (no device, or a dead one): user_lnk_up stays 0 and the LTSSM stays in Detect. */
  noLink: boolean;
  /** Cycles a retrain (Link Control.Retrain) holds traffic before the link runs at the new speed. */
  retrainCycles: number;
  /** Device Capabilities Max_Payload_Size Supported of the root port, bytes. */
  mpsSupported: number;
  /** Reset values of the root port's Device Control MPS / MRRS, bytes; software reprograms them via cfg_mgmt. */
  mps: number;
  mrrs: number;
  /** The root port's Read Completion Boundary (Link Control bit 3, read-only for a root port), bytes. */
  rcb: 64 | 128;
  /** Core TX buffers (tx_buf_av when idle); each holds one TLP. */
  txBuffers: number;
  /** Credits the root port's receiver advertises (limits the SSD's upstream TLPs). */
  rootPortRxCredits: CreditLimits;
  /** Credits the SSD's receiver advertises (limits the root port's downstream TLPs). */
  endpointRxCredits: CreditLimits;
  /** Receivers send one Ack DLLP per this many TLPs received, or after ackMaxDelayCycles. */
  ackEveryTlps: number;
  ackMaxDelayCycles: number;
  /** Receivers return freed credits in one UpdateFC per this many TLPs of a class, or after updateFcMaxDelayCycles. */
  updateFcEveryTlps: number;
  updateFcMaxDelayCycles: number;
  /** SKP ordered set spacing in symbol times (Gen1/2: 1180..1538, default 1180; Gen3 default 370 blocks x 16). */
  skpIntervalSymbols: number;
  /** Upstream TLPs taken from the endpoint and held while they wait for credits (the SSD's TX queue). */
  endpointTxQueueDepth: number;
  /** Deliver received Msg/MsgD TLPs on m_axis_rx (default false: the core consumes and counts them). */
  forwardMessages: boolean;
  /** Cycles from cfg_mgmt rd_en/wr_en to rd_wr_done. */
  cfgMgmtLatencyCycles: number;
  /** Root port identity in its config space. */
  vendorId: number;
  deviceId: number;
  /** Keep at most this many logged events. */
  eventLogLimit: number;
}

/** STP + sequence number + LCRC + END (Gen1/2); Gen3's 4-byte STP token + LCRC costs the same 8. */
export const TLP_FRAMING_BYTES = 8;
/** SDP + 4 bytes + CRC16 + END (Gen1/2); Gen3's SDP token + 6 bytes is also 8. */
export const DLLP_BYTES = 8;
export const USER_CLOCK_HZ = 250_000_000;

const FOUR_KIB = 4096;
/** Default SKP spacing: Gen1/2 every 1180..1538 symbol times; Gen3 every 370..375 blocks of 16 symbols. */
export const GEN12_SKP_INTERVAL_SYMBOLS = 1180;
export const GEN3_SKP_INTERVAL_SYMBOLS = 370 * 16;

export const DEFAULT_LINK_PARAMS: LinkParams = {
  generation: 2,
  lanes: 4,
  latencyCycles: 100,
  trainingCycles: 2000,
  initialSpeed: 2,
  endpointMaxSpeed: 2,
  endpointMaxWidth: 4,
  noLink: false,
  retrainCycles: 2500,
  mpsSupported: 512,
  mps: 128,
  mrrs: 512,
  rcb: 64,
  txBuffers: 32,
  rootPortRxCredits: {
    postedHeader: 32,
    postedData: 512,
    nonPostedHeader: 12,
    nonPostedData: 12,
    completionHeader: Infinity,
    completionData: Infinity,
  },
  endpointRxCredits: {
    postedHeader: 32,
    postedData: 256,
    nonPostedHeader: 16,
    nonPostedData: 16,
    completionHeader: Infinity,
    completionData: Infinity,
  },
  ackEveryTlps: 4,
  ackMaxDelayCycles: 64,
  updateFcEveryTlps: 4,
  updateFcMaxDelayCycles: 64,
  skpIntervalSymbols: GEN12_SKP_INTERVAL_SYMBOLS,
  endpointTxQueueDepth: 8,
  forwardMessages: false,
  cfgMgmtLatencyCycles: 2,
  vendorId: 0x10ee,
  deviceId: 0x7024,
  eventLogLimit: 1000,
};

export type LinkParamsInput = Partial<Omit<LinkParams, "rootPortRxCredits" | "endpointRxCredits">> & {
  rootPortRxCredits?: Partial<CreditLimits>;
  endpointRxCredits?: Partial<CreditLimits>;
};

/** Fill defaults and reject impossible values with a message naming the parameter. */
export function resolveLinkParams(input: LinkParamsInput = {}): LinkParams {
  const params: LinkParams = {
    ...DEFAULT_LINK_PARAMS,
    ...input,
    rootPortRxCredits: { ...DEFAULT_LINK_PARAMS.rootPortRxCredits, ...input.rootPortRxCredits },
    endpointRxCredits: { ...DEFAULT_LINK_PARAMS.endpointRxCredits, ...input.endpointRxCredits },
  };
  if (input.skpIntervalSymbols === undefined && params.generation === 3) params.skpIntervalSymbols = GEN3_SKP_INTERVAL_SYMBOLS;
  if (input.initialSpeed === undefined) params.initialSpeed = params.generation;
  if (input.endpointMaxSpeed === undefined) params.endpointMaxSpeed = params.generation;
  if (input.endpointMaxWidth === undefined) params.endpointMaxWidth = params.lanes;
  const fail = (name: string, why: string) => {
    throw new RangeError(`link parameter ${name} = ${JSON.stringify((params as unknown as Record<string, unknown>)[name])}: ${why}`);
  };
  if (![1, 2, 3].includes(params.generation)) fail("generation", "must be 1 (2.5 GT/s), 2 (5 GT/s) or 3 (8 GT/s)");
  if (![1, 2, 4, 8, 12, 16].includes(params.lanes)) fail("lanes", "must be 1, 2, 4, 8, 12 or 16");
  if (![1, 2, 3].includes(params.initialSpeed) || params.initialSpeed > params.generation) fail("initialSpeed", `must be 1..generation (${params.generation})`);
  if (![1, 2, 3].includes(params.endpointMaxSpeed)) fail("endpointMaxSpeed", "must be 1 (2.5 GT/s), 2 (5 GT/s) or 3 (8 GT/s)");
  if (![1, 2, 4, 8, 12, 16, 32].includes(params.endpointMaxWidth)) fail("endpointMaxWidth", "must be 1, 2, 4, 8, 12, 16 or 32");
  if (typeof params.noLink !== "boolean") fail("noLink", "must be true or false");
  for (const name of ["latencyCycles", "trainingCycles", "retrainCycles", "cfgMgmtLatencyCycles"] as const) {
    if (!Number.isInteger(params[name]) || params[name] < 0) fail(name, "must be a non-negative integer");
  }
  for (const name of ["mpsSupported", "mps", "mrrs"] as const) {
    if (!isPayloadSize(params[name])) fail(name, "must be 128, 256, 512, 1024, 2048 or 4096 bytes");
  }
  if (params.mps > params.mpsSupported) fail("mps", `exceeds mpsSupported (${params.mpsSupported})`);
  if (params.rcb !== 64 && params.rcb !== 128) fail("rcb", "must be 64 or 128 bytes");
  if (!Number.isInteger(params.txBuffers) || params.txBuffers < 1 || params.txBuffers > 63) fail("txBuffers", "must be 1..63 (tx_buf_av is 6 bits)");
  for (const name of ["ackEveryTlps", "ackMaxDelayCycles", "updateFcEveryTlps", "updateFcMaxDelayCycles", "endpointTxQueueDepth", "eventLogLimit"] as const) {
    if (!Number.isInteger(params[name]) || params[name] < 1) fail(name, "must be a positive integer");
  }
  if (!Number.isInteger(params.skpIntervalSymbols) || params.skpIntervalSymbols < 16) fail("skpIntervalSymbols", "must be an integer >= 16");
  checkCredits("rootPortRxCredits", params.rootPortRxCredits, params.mpsSupported);
  checkCredits("endpointRxCredits", params.endpointRxCredits, params.mpsSupported);
  return params;
}

function checkCredits(name: string, credits: CreditLimits, mpsSupported: number): void {
  for (const [field, value] of Object.entries(credits)) {
    const ok = value === Infinity || (Number.isInteger(value) && value >= 1);
    if (!ok) throw new RangeError(`link parameter ${name}.${field} = ${value}: must be a positive integer or Infinity`);
  }
  // A receiver must advertise room for at least one max-size TLP of each class that carries data.
  const minData = mpsSupported / 16;
  if (credits.postedData < minData) {
    throw new RangeError(`link parameter ${name}.postedData = ${credits.postedData}: below one MPS TLP (${minData} credits)`);
  }
}

function isPayloadSize(bytes: number): boolean {
  return [128, 256, 512, 1024, 2048, 4096].includes(bytes) && bytes <= FOUR_KIB;
}

/** The wire's rate as integers: `unitsPerCycle` budget arrives each cycle, a byte costs `unitsPerByte`. */
export interface WireRate {
  unitsPerCycle: number;
  unitsPerByte: number;
  /** Units one symbol time (one byte on every lane) lasts. */
  unitsPerSymbolTime: number;
  /** SKP ordered set length per lane in symbols. */
  skpSymbols: number;
}

export function wireRate(generation: Generation, lanes: number): WireRate {
  if (generation === 3) {
    return { unitsPerCycle: 256 * lanes, unitsPerByte: 65, unitsPerSymbolTime: 65 * lanes, skpSymbols: 16 };
  }
  return { unitsPerCycle: generation * lanes, unitsPerByte: 1, unitsPerSymbolTime: lanes, skpSymbols: 4 };
}

/** Data bytes per second the wire carries in one direction, before framing, DLLP and SKP. */
export function wireBytesPerSecond(generation: Generation, lanes: number): number {
  const rate = wireRate(generation, lanes);
  return (rate.unitsPerCycle / rate.unitsPerByte) * USER_CLOCK_HZ;
}

/**
 * The §F arithmetic: payload bytes per second for a back-to-back stream of TLPs each carrying `payload`
 * bytes behind a `header`-byte header, with or without the SKP ordered-set share.
 */
export function analyticPayloadCeiling(
  generation: Generation,
  lanes: number,
  payload: number,
  header: 12 | 16,
  skpIntervalSymbols?: number,
): number {
  const efficiency = payload / (payload + header + TLP_FRAMING_BYTES);
  const skpShare = skpIntervalSymbols === undefined ? 0 : wireRate(generation, lanes).skpSymbols / skpIntervalSymbols;
  return wireBytesPerSecond(generation, lanes) * efficiency * (1 - skpShare);
}
