// Where a transport's device is known to differ from the outcome the specification requires. The
// suite asserts the listed outcome instead of the expected one, so a deviation that goes away (or
// changes) is noticed, and the reason is kept next to it for the README.

import type { Outcome } from "./scenario.ts";

export interface KnownDeviation {
  transport: "qemu" | "model";
  scenario: string;
  /** The complete outcome this transport produces. */
  outcome: Outcome;
  reason: string;
}

export const knownDeviations: KnownDeviation[] = [
  {
    transport: "qemu",
    scenario: "pci-command-and-device-control",
    outcome: { command: "0x0406", maxPayloadReadBack: true, maxReadRequestBytes: 128 },
    reason: "QEMU 7.2 makes PCIe Device Control MPS/MRRS read-only zero (only the error-reporting enables are writable); PCIe Base 2.1 §7.8.4 defines MRRS as RW with a reset value of 512 bytes.",
  },

  {
    transport: "qemu",
    scenario: "delete-queue-order",
    outcome: {
      deleteSq: "generic/success (0x00)",
      deleteCq: "generic/success (0x00)",
      deleteSqAgain: "commandSpecific/invalidQueueIdentifier (0x01) DNR",
      deleteCqAgain: "commandSpecific/invalidCompletionQueue (0x00) DNR",
    },
    reason: "QEMU 7.2 answers Delete I/O CQ of a nonexistent queue with Invalid Completion Queue; NVMe 1.4 §5.5 lists Invalid Queue Identifier for an invalid QID in Delete I/O Completion Queue.",
  },
  {
    transport: "qemu",
    scenario: "delete-admin-queue",
    outcome: { sq: "commandSpecific/invalidQueueIdentifier (0x01) DNR", cq: "commandSpecific/invalidCompletionQueue (0x00) DNR" },
    reason: "Same as delete-queue-order: QEMU 7.2 uses Invalid Completion Queue where NVMe 1.4 §5.5 specifies Invalid Queue Identifier (QID 0).",
  },
  {
    transport: "model",
    scenario: "fused-operation-unsupported",
    outcome: { status: "generic/invalidField (0x02) DNR" },
    reason: "The model sets DNR on the refused fused command; QEMU 7.2 does not. DNR is advisory (NVMe 1.4 §4.6.1.2), so both are compliant; the expectation follows QEMU.",
  },
  {
    transport: "qemu",
    scenario: "read-nsid-broadcast",
    outcome: { status: "generic/invalidField (0x02) DNR" },
    reason: "QEMU 7.2 accepts 0xFFFFFFFF as a valid NSID, finds no namespace object and answers Invalid Field; NVMe 1.4 §6.1 reserves the broadcast NSID for commands that support it, so Read must fail with Invalid Namespace or Format.",
  },

  {
    transport: "qemu",
    scenario: "deallocate-out-of-range",
    outcome: { status: "generic/success (0x00)" },
    reason: "QEMU 7.2 skips Dataset Management ranges that fall outside the namespace and completes successfully; NVMe 1.4 defines LBA Out of Range for a command that references LBAs beyond the namespace size.",
  },
  {
    transport: "qemu",
    scenario: "format-crypto-erase-unsupported",
    outcome: { cryptoEraseSupported: false, status: "generic/success (0x00)", blocks: "0000" },
    reason: "QEMU 7.2 ignores Format NVM's Secure Erase Settings and formats (deallocating every block); NVMe 1.4 §5.23 requires Invalid Field in Command for a Cryptographic Erase (SES 010b) when Identify FNA bit 2 reports it unsupported, as QEMU's FNA 0 does.",
  },
  {
    transport: "qemu",
    scenario: "format-reserved-secure-erase",
    outcome: { status: "generic/success (0x00)", blocks: "0000" },
    reason: "QEMU 7.2 ignores Format NVM's Secure Erase Settings, so the reserved value 011b formats too; NVMe 1.4 §5.23 Figure 328 lists 011b-111b as reserved, which a controller refuses with Invalid Field in Command.",
  },
  {
    transport: "qemu",
    scenario: "error-log-records-failure",
    outcome: { elpe: 0, used: false, sqid: 0, cidMatches: false, status: 0 },
    reason: "QEMU 7.2 never fills its Error Information log (every entry stays zero, Error Count 0) although commands fail; the model records each command completed with an error status (NVMe 1.4 §5.14.1.1), newest first, as the issue asks.",
  },
];

export function knownDeviation(transport: string, scenario: string): KnownDeviation | undefined {
  return knownDeviations.find((d) => d.transport === transport && d.scenario === scenario);
}
