// The controller's one-access-at-a-time PCIe port: how the bring-up blocks (enumerator, NVMe
// initialisation, admin doorbells) reach the SSD without knowing about TLPs, tags or beats. A
// request is a configuration read/write (CfgRd0/CfgWr0, or Type 1 behind a switch) or a 32-bit
// memory read/write to the SSD's BAR; its answer comes back on the response port. The requester
// (pcie-requester.ts) turns one into a TLP on the TLP layer, waits for the completion (or the
// completion timeout) and answers; a memory write is posted, so it is answered as soon as the TLP
// layer takes it. Values are register values (bit 0 is bit 0 of the register); the TLP layer does
// the byte order of the wire.
import { defineBundle } from "../../hdl/index.ts";

/** `kind` of an access. */
export const AccessKind = {
  CFG_READ: 0,
  CFG_WRITE: 1,
  MEM_READ: 2,
  MEM_WRITE: 3,
} as const;
export const ACCESS_KIND_BITS = 2;

/**
 * Configuration address as PCIe lays out DW2 of a configuration request: {bus[31:24],
 * device[23:19], function[18:16], 4'b0, extended register[11:8], register[7:2], 2'b0}. A bus
 * other than the root port's secondary bus goes out as Type 1.
 */
export function configAddress(bus: number, device: number, fn: number, byteOffset: number): number {
  return ((bus << 24) | (device << 19) | (fn << 16) | (byteOffset & 0xffc)) >>> 0;
}

export const pcieAccessRequest = defineBundle("pcie_access_request", {
  kind: ["forward", ACCESS_KIND_BITS],
  /** Memory: byte address of the DW (bits [1:0] are 0), below 4 GiB. Configuration: configAddress(). */
  address: ["forward", 32],
  /** Write data, the register's value. */
  data: ["forward", 32],
  /** Bytes of the DW to access (First DW Byte Enables); 0 is allowed for a read (PCIe zero-length read). */
  byte_en: ["forward", 4],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

export const pcieAccessResponse = defineBundle("pcie_access_response", {
  /** Read data, the register's value; all ones when the read failed (status not SC, timeout, poisoned). */
  data: ["forward", 32],
  /** The completion's status (CompletionStatus: SC, UR, CRS, CA); SC for a posted memory write. */
  status: ["forward", 3],
  /** No completion came within the completion timeout. */
  timed_out: ["forward", 1],
  /** The completion was poisoned (EP); its data is not used. */
  poisoned: ["forward", 1],
  valid: ["forward", 1],
  ready: ["backward", 1],
});
