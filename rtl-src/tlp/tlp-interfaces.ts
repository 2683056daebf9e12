// The contracts of the TLP layer: everything above it speaks TLP *fields* through these bundles,
// never 7-series beats. Payload streams carry memory-order data: a 64-bit word holds two DWs, the
// lower-addressed DW in [31:0], and inside each DW the byte of the lowest address in [7:0]
// (little-endian, as the NVMe structures are defined). The packer and the parser do the per-DW
// byte swap and the 3DW-header realignment of the 7-series interface (PROTOCOL_FACTS §A.4).
import { type BundleDef, axiStream, defineBundle } from "../../hdl/index.ts";

/** The parameters of the TLP layer; every block takes the ones it needs. */
export interface TlpLayerParams {
  /** Max_Payload_Size in bytes (128, 256 or 512): MWr and CplD payloads never exceed it. */
  maxPayloadBytes: number;
  /** Max_Read_Request_Size in bytes: our MRd never ask for more. */
  maxReadRequestBytes: number;
  /** Read completion boundary in bytes (64 or 128). */
  readCompletionBoundary: number;
  /** Tags for our own non-posted requests (a power of two, at most 256). */
  tags: number;
  /** Our Requester/Completer ID: {bus, device, function}; 0x0000 for the root port. */
  requesterId: number;
  /** Completion timeout in user-clock cycles (250 MHz: 4 ns each). */
  completionTimeoutCycles: number;
}

/** A 16-bit requester/completer ID as a module header lists it: `0x0000`. */
export function hex16(id: number): string {
  return `0x${id.toString(16).padStart(4, "0")}`;
}

export const defaultTlpLayerParams: TlpLayerParams = {
  maxPayloadBytes: 256,
  maxReadRequestBytes: 512,
  readCompletionBoundary: 64,
  tags: 32,
  requesterId: 0x0000,
  completionTimeoutCycles: 12_500_000, // 50 ms
};

/** `kind` of a request we send (the TX request header). */
export const RequestKind = {
  MRd: 0,
  MWr: 1,
  CfgRd0: 2,
  CfgWr0: 3,
  CfgRd1: 4,
  CfgWr1: 5,
} as const;
export const REQUEST_KIND_BITS = 3;

/** Completion status codes (PCIe Base §2.2.9). */
export const CompletionStatus = { SC: 0, UR: 1, CRS: 2, CA: 4 } as const;

/** Payload of requests and completions, in memory order; tkeep is DW-granular: 0xFF, or 0x0F on the last beat. */
export const payloadStream = axiStream({ dataWidth: 64 });

/**
 * A request we send: a memory read/write to the SSD's BAR, or a configuration request. Writes
 * (MWr, CfgWr*) come with `length_dw` DWs on a payload stream; the packer starts the TLP when the
 * header is taken and reads the payload as it goes. For configuration requests `address[31:0]`
 * holds DW2 exactly as PCIe lays it out ({bus, device, function, 4'b0, ext register, register, 2'b0})
 * and `length_dw` is 1. Addresses below 4 GiB go out with 3DW headers, at or above with 4DW.
 */
export const requestHeader = defineBundle("tlp_request", {
  kind: ["forward", REQUEST_KIND_BITS],
  address: ["forward", 64],
  /** Length in DW, 1..1024 (0 encodes 1024). */
  length_dw: ["forward", 10],
  first_be: ["forward", 4],
  last_be: ["forward", 4],
  tag: ["forward", 8],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/**
 * A completion we send, answering the SSD's memory read (CplD with `length_dw` DWs on a payload
 * stream) or refusing a request (Cpl, `has_data` 0, with status UR or CA). The completer ID is
 * `requesterId` of the layer's parameters.
 */
export const completionHeader = defineBundle("tlp_completion", {
  has_data: ["forward", 1],
  status: ["forward", 3],
  /** Remaining bytes including this completion's, 1..4096 (0 encodes 4096). */
  byte_count: ["forward", 12],
  lower_address: ["forward", 7],
  length_dw: ["forward", 10],
  requester_id: ["forward", 16],
  tag: ["forward", 8],
  /** Copied from the request. */
  tc: ["forward", 3],
  attr: ["forward", 2],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/**
 * A completion received for one of our requests, routed to the requester that owns its tag; the
 * data (if any) follows on a payload stream, realigned to memory order (first byte of the
 * completion's data at the DW given by lower_address[2], i.e. the stream starts with the DW that
 * holds it).
 */
export const receivedCompletion = defineBundle("tlp_rx_completion", {
  has_data: ["forward", 1],
  status: ["forward", 3],
  byte_count: ["forward", 12],
  lower_address: ["forward", 7],
  length_dw: ["forward", 10],
  tag: ["forward", 8],
  completer_id: ["forward", 16],
  poisoned: ["forward", 1],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/**
 * A memory read the SSD sent us (SQE, PRP list or write-data fetch): answered by the completer.
 * (A layer built with the receive option `collapseHighAddress` delivers the addresses of this
 * bundle and of receivedMemoryWrite as bits [31:0] with bit 32 set for any address at or above
 * 4 GiB, bits [63:33] zero: for host memory that lies below 4 GiB.)
 */
export const receivedMemoryRead = defineBundle("tlp_rx_mem_read", {
  address: ["forward", 64],
  length_dw: ["forward", 10],
  first_be: ["forward", 4],
  last_be: ["forward", 4],
  requester_id: ["forward", 16],
  tag: ["forward", 8],
  tc: ["forward", 3],
  attr: ["forward", 2],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/** A memory write the SSD sent us (read data, CQ entries, MSI-X): payload follows on a payload stream. */
export const receivedMemoryWrite = defineBundle("tlp_rx_mem_write", {
  address: ["forward", 64],
  length_dw: ["forward", 10],
  first_be: ["forward", 4],
  last_be: ["forward", 4],
  poisoned: ["forward", 1],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/** The 7-series root port's transmit port as the core sees it (PG054 §A.2 names, tuser[3:0]). */
export const coreTxStream = axiStream({ dataWidth: 64, userWidth: 4 });
/** The 7-series root port's receive port (tuser[21:0]). */
export const coreRxStream = axiStream({ dataWidth: 64, userWidth: 22 });

/**
 * The completer's request to the data source (virtual host memory) for the payload of one CplD:
 * `length_dw` DWs (1..1024) from the DW-aligned `address`. The source answers every request, in
 * request order, on a payload stream carrying exactly those DWs (first DW in [31:0] of the first
 * beat), the last beat with tlast (and tkeep 0x0F when the count is odd).
 */
export const completerDataRequest = defineBundle("tlp_completer_data_request", {
  address: ["forward", 64],
  length_dw: ["forward", 11],
  valid: ["forward", 1],
  ready: ["backward", 1],
});
