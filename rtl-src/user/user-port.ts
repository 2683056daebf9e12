// The controller's user interface (DESIGN.md "User interface of the controller"; issue 10): what an
// FPGA engineer connects a camera, an ADC or a recorder to. Five ports, all valid/ready:
//
//  - `user_command`: one command per handshake. Read and write move `block_count` logical blocks
//    starting at `lba` of namespace `nsid`; flush, write zeroes and deallocate move no data. A
//    command larger than the SSD's MDTS or the controller's buffer is split into NVMe commands by
//    the I/O engine and still completes once, with the first error of its pieces. A write flagged
//    `atomic` is never split: it goes to the SSD as one NVMe Write when it fits the SSD's power-fail
//    atomic unit (AWUPF, or NAWUPF when Identify Namespace NSFEAT.NSABP says the namespace's units
//    apply), does not cross the namespace's atomic boundary (NABSPF, NABO) and fits one NVMe command
//    (MDTS, the controller's piece size); otherwise it is refused NOT_ATOMIC and nothing is sent.
//  - `user_write_data` (in): a write command's data, `block_count` x LBA-size bytes, in command
//    order, tlast on its last beat. A stream whose tlast comes early is padded with zeros, one that
//    runs long is cut at the command's length (the rest up to tlast is dropped); both complete with
//    BAD_REQUEST. A write refused before it reaches the SSD still has its data consumed up to tlast.
//  - `user_read_data` (out): a read command's data, in the order the reads were accepted, tuser =
//    the command's tag, tlast on its last beat. Every read the controller accepted (one not refused
//    as BAD_REQUEST, NOT_READY or BUSY; a read cut short by the loss of READY was accepted) delivers
//    exactly block_count x LBA-size bytes, so a consumer never loses its framing; when its
//    completion reports an error those bytes are not the SSD's data. A refused read delivers no data.
//  - `user_completion`: one per command, in the order commands were accepted; a read's completion
//    follows the last beat of its data.
//  - `user_erase`: one erase request per handshake (taken while no erase runs); its progress and
//    outcome are on the status port (status_erase_*). While an erase runs, commands are refused
//    BUSY (a write's data still consumed up to tlast); an erase is refused BUSY while commands are
//    in flight.
//
// Payload words are in memory order: a 64-bit beat holds bytes [8k, 8k+8) of the command's data,
// byte 8k in [7:0] (little-endian, as the NVMe data is laid out in host memory).
import { type BundleDef, axiStream, defineBundle } from "../../hdl/index.ts";

/** `opcode` of a user command. */
export const UserOpcode = {
  READ: 0,
  WRITE: 1,
  FLUSH: 2,
  WRITE_ZEROES: 3,
  DEALLOCATE: 4,
} as const;
export const USER_OPCODE_BITS = 3;

/** `error_class` of a user completion: why a command failed, before or after the SSD saw it. */
export const UserErrorClass = {
  /** Success. */
  NONE: 0,
  /** The SSD completed (a piece of) the command with a non-zero status: see `status`. */
  NVME_STATUS: 1,
  /**
   * A PCIe-level fault: poisoned data or completion, a doorbell the link refused, a write of the SSD
   * to an address the host never mapped (the I/O path stops until restart). Also a command cut short
   * when the controller left READY while it was at the SSD or being split (the link lost,
   * `restart`): it may have run in part, so a write's blocks are unknown, and a read delivers its
   * bytes, which are not to be trusted.
   */
  PCIE_FAULT: 2,
  /** No completion came within the I/O timeout; the controller stops taking commands until restart. */
  TIMEOUT: 3,
  /**
   * The controller was not READY (bring-up running or failed, shutdown in progress or done, the I/O
   * path stopped by a fault until restart): refused, nothing sent. Always a refusal (a command cut
   * short by the loss of READY is PCIE_FAULT).
   */
  NOT_READY: 4,
  /** Refused before reaching the SSD: unknown opcode, block count 0, range past the capacity, bad namespace, write data of the wrong length. */
  BAD_REQUEST: 5,
  /** The SSD does not offer what was asked (an erase kind absent from Identify OACS/FNA/SANICAP); nothing was sent. */
  UNSUPPORTED: 6,
  /** Refused because of other work: an I/O command while an erase runs, an erase while I/O is in flight. */
  BUSY: 7,
  /**
   * A write flagged `atomic` that the SSD would not write atomically through a power failure: more
   * blocks than its power-fail atomic unit, across its atomic boundary, or more than one NVMe command
   * takes (MDTS, the piece size). Nothing was sent; its data was consumed up to tlast.
   */
  NOT_ATOMIC: 8,
  /**
   * Several SSDs striped into one device (user_port_striper, issue 14): the command touches a member
   * SSD that is not READY (its bring-up failed, or it failed since): nothing was sent to any member,
   * a write's data was consumed up to tlast, a read delivers its block_count x LBA-size bytes as zeros
   * (framing kept). Or a member failed while the command's part was at it (its lane answered
   * NOT_READY, TIMEOUT or PCIE_FAULT): the other members' parts ran, so a write's blocks are then
   * unknown, and a read delivers all its bytes, those of the failed member's part not its data.
   * `status` is the failed member's index (the lowest, or the first to fail). Commands that touch
   * only healthy members go on.
   */
  MEMBER_FAILED: 9,
} as const;
export const USER_ERROR_CLASS_BITS = 4;

/** Names for reports, by error class value. */
export const USER_ERROR_CLASS_NAMES = Object.keys(UserErrorClass) as readonly (keyof typeof UserErrorClass)[];

/** The default width of the command tag (a parameter of the controller). */
export const DEFAULT_USER_TAG_BITS = 8;

/** The user command port; `tagBits` is the controller's tag width. */
export function userCommand(tagBits = DEFAULT_USER_TAG_BITS): BundleDef<"opcode" | "nsid" | "lba" | "block_count" | "tag" | "fua" | "atomic" | "valid" | "ready"> {
  checkTagBits(tagBits);
  return defineBundle(`user_command_t${tagBits}`, {
    opcode: ["forward", USER_OPCODE_BITS],
    /** Namespace ID, 1..NN (Identify Controller NN). */
    nsid: ["forward", 32],
    /** Starting LBA. */
    lba: ["forward", 64],
    /** Logical blocks, 1..2^32-1 (flush ignores it). */
    block_count: ["forward", 32],
    /** The user's own label, returned with the completion and on the read data. */
    tag: ["forward", tagBits],
    /** Force Unit Access (read and write). */
    fua: ["forward", 1],
    /** Write: one NVMe command, atomic through a power failure, or refused NOT_ATOMIC (other opcodes ignore it). */
    atomic: ["forward", 1],
    valid: ["forward", 1],
    ready: ["backward", 1],
  });
}

/** The user completion port. */
export function userCompletion(tagBits = DEFAULT_USER_TAG_BITS): BundleDef<"tag" | "error_class" | "status" | "valid" | "ready"> {
  checkTagBits(tagBits);
  return defineBundle(`user_completion_t${tagBits}`, {
    tag: ["forward", tagBits],
    error_class: ["forward", USER_ERROR_CLASS_BITS],
    /** With NVME_STATUS: the CQE's Status Field without the phase tag, {DNR, M, CRD[1:0], SCT[2:0], SC[7:0]}; with MEMBER_FAILED: the failed member's index; else 0. */
    status: ["forward", 15],
    valid: ["forward", 1],
    ready: ["backward", 1],
  });
}

/**
 * `kind` of an erase request (issue 15): how the SSD wipes the user data. Format NVM kinds act on
 * the request's namespace (FFFFFFFFh = all); sanitize kinds act on the whole SSD and report their
 * progress through the Sanitize Status log.
 */
export const EraseKind = {
  /** Format NVM, Secure Erase Settings = cryptographic erase (needs OACS.Format and FNA.CryptoErase). */
  CRYPTO_ERASE: 0,
  /** Format NVM, Secure Erase Settings = user data erase (needs OACS.Format). */
  USER_DATA_ERASE: 1,
  /** Sanitize, Block Erase (needs SANICAP.BES). */
  SANITIZE_BLOCK_ERASE: 2,
  /** Sanitize, Overwrite (needs SANICAP.OWS). */
  SANITIZE_OVERWRITE: 3,
  /** Sanitize, Crypto Erase (needs SANICAP.CES). */
  SANITIZE_CRYPTO_ERASE: 4,
} as const;
export const ERASE_KIND_BITS = 3;

/** The erase request port: one request per handshake, answered on the status port (status_erase_*). */
export const userErase = defineBundle("user_erase", {
  kind: ["forward", ERASE_KIND_BITS],
  /** Format NVM kinds: the namespace, or FFFFFFFFh for all; sanitize kinds ignore it. */
  nsid: ["forward", 32],
  valid: ["forward", 1],
  ready: ["backward", 1],
});

/** Write data in: tdata, tkeep (0xFF on every beat; LBA sizes are multiples of 8 bytes), tlast. */
export const userWriteData = axiStream({ dataWidth: 64 });

/** Read data out: tuser carries the command's tag. */
export function userReadData(tagBits = DEFAULT_USER_TAG_BITS) {
  checkTagBits(tagBits);
  return axiStream({ dataWidth: 64, userWidth: tagBits });
}

function checkTagBits(tagBits: number): void {
  if (!Number.isInteger(tagBits) || tagBits < 1 || tagBits > 16) throw new RangeError(`user port: tag width ${tagBits} is not an integer in 1..16`);
}
