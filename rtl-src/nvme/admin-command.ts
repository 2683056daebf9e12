// The admin command port between the bring-up sequencer (which decides what to ask) and the admin
// engine (which builds the 64-byte entry on the fly when the SSD fetches it, rings the doorbells
// and parses the completion entry as the SSD writes it). One command at a time: the admin queue
// never holds more than one entry the SSD has not completed.
import { defineBundle } from "../../hdl/index.ts";

export const adminCommand = defineBundle("admin_command", {
  /** SQE CDW0 opcode (NVMe 1.4 §5: 06h Identify, 09h Set Features, 05h Create I/O CQ, 01h Create I/O SQ...). */
  opcode: ["forward", 8],
  nsid: ["forward", 32],
  /** PRP entry 1: a virtual host address (rtl-src/hostmem/host-memory-map.ts), page aligned; 0 for no data. */
  prp1: ["forward", 32],
  cdw10: ["forward", 32],
  cdw11: ["forward", 32],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

export const adminCompletion = defineBundle("admin_completion", {
  /** The CQE's Status Field without the phase tag: {DNR, M, CRD[1:0], SCT[2:0], SC[7:0]}; 0 = success. */
  status: ["forward", 15],
  /** CQE DW0 (command specific: Set Features Number of Queues returns NSQA/NCQA there). */
  dw0: ["forward", 32],
  /** No completion entry came within the admin command timeout (the SSD or the link lost it). */
  timed_out: ["forward", 1],
  /** A doorbell write or the SQ entry fetch failed at the PCIe level (the access port reported an error). */
  pcie_error: ["forward", 1],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/** Admin opcodes the controller sends (NVMe 1.4 Figure 139). */
export const AdminOpcode = {
  deleteIoSq: 0x00,
  createIoSq: 0x01,
  getLogPage: 0x02,
  deleteIoCq: 0x04,
  createIoCq: 0x05,
  identify: 0x06,
  setFeatures: 0x09,
  getFeatures: 0x0a,
  formatNvm: 0x80,
  sanitize: 0x84,
} as const;
