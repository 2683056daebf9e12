// A command for the controller's user port as the test side writes it down (rtl-src/user/user-port.ts
// is the hardware contract), the namespaces it addresses, and the hazard rule shared by the workload
// generator (which keeps conflicting commands apart in the list) and the user-port driver (which never
// has two conflicting commands in flight): two commands conflict when their LBA ranges of one namespace
// overlap and at least one of them changes the media.
import { UserErrorClass, UserOpcode } from "../../rtl-src/user/user-port.ts";

export { UserErrorClass, UserOpcode };

export type UserOpcodeValue = (typeof UserOpcode)[keyof typeof UserOpcode];
export type UserErrorClassValue = (typeof UserErrorClass)[keyof typeof UserErrorClass];

export const USER_OPCODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(UserOpcode).map(([name, value]) => [value, name]));
export const USER_ERROR_CLASS_NAMES_BY_VALUE: Record<number, string> = Object.fromEntries(Object.entries(UserErrorClass).map(([name, value]) => [value, name]));

/** One namespace as the test side sees it (from the status port, or the SSD model's options). */
export interface NamespaceGeometry {
  nsid: number;
  lbaBytes: number;
  capacityBlocks: number;
}

export interface UserCommand {
  opcode: UserOpcodeValue;
  nsid: number;
  /** Starting LBA; a bigint only for requests meant to be refused (beyond 2^53, so past any capacity). */
  lba: number | bigint;
  /** Logical blocks (0..2^32-1; flush ignores it). */
  blockCount: number;
  /** Writes: which pass of the data pattern the blocks carry (sim/workload/pattern.ts). */
  pass?: number;
  fua?: boolean;
  /** Writes: the user port's `atomic` flag (one NVMe command, atomic through a power failure, or refused NOT_ATOMIC). */
  atomic?: boolean;
  /** The tag to send; default: the driver numbers commands modulo 2^tagBits. */
  tag?: number;
  /**
   * The completion's error class the test expects, or "any" (shutdown, faults). Default: BAD_REQUEST
   * when the request is invalid for the namespaces the driver knows, else NONE.
   */
  expect?: number | "any";
}

/** Error classes of a request refused before it reached the SSD: nothing was sent, a read delivers no data. */
export function isRefusal(errorClass: number): boolean {
  return (
    errorClass === UserErrorClass.BAD_REQUEST ||
    errorClass === UserErrorClass.NOT_READY ||
    errorClass === UserErrorClass.BUSY ||
    errorClass === UserErrorClass.NOT_ATOMIC
  );
}

/** Does the opcode change what the media reads as? */
export function changesMedia(opcode: number): boolean {
  return opcode === UserOpcode.WRITE || opcode === UserOpcode.WRITE_ZEROES || opcode === UserOpcode.DEALLOCATE;
}

/** Does the command address LBAs (read, write, write zeroes, deallocate)? */
export function addressesBlocks(opcode: number): boolean {
  return opcode === UserOpcode.READ || changesMedia(opcode);
}

/** Two commands that must not be in flight together: overlapping ranges of one namespace, one of them changing the media. */
export function commandsConflict(a: UserCommand, b: UserCommand): boolean {
  if (!addressesBlocks(a.opcode) || !addressesBlocks(b.opcode)) return false;
  if (!changesMedia(a.opcode) && !changesMedia(b.opcode)) return false;
  if (a.nsid !== b.nsid || a.blockCount === 0 || b.blockCount === 0) return false;
  const aStart = BigInt(a.lba);
  const bStart = BigInt(b.lba);
  return aStart < bStart + BigInt(b.blockCount) && bStart < aStart + BigInt(a.blockCount);
}

/** Number-only variant for hot paths (both LBAs numbers). */
export function rangesOverlap(aLba: number, aCount: number, bLba: number, bCount: number): boolean {
  return aLba < bLba + bCount && bLba < aLba + aCount;
}

/**
 * The error class an invalid request must get (BAD_REQUEST) or NONE: unknown opcode, unknown namespace,
 * block count 0 (except flush) or a range past the capacity.
 */
export function predictedErrorClass(command: UserCommand, namespaces: readonly NamespaceGeometry[]): number {
  const { opcode } = command;
  if (!(Object.values(UserOpcode) as number[]).includes(opcode)) return UserErrorClass.BAD_REQUEST;
  const ns = namespaces.find((n) => n.nsid === command.nsid);
  if (!ns) return UserErrorClass.BAD_REQUEST;
  if (opcode === UserOpcode.FLUSH) return UserErrorClass.NONE;
  if (command.blockCount === 0) return UserErrorClass.BAD_REQUEST;
  if (BigInt(command.lba) + BigInt(command.blockCount) > BigInt(ns.capacityBlocks)) return UserErrorClass.BAD_REQUEST;
  return UserErrorClass.NONE;
}

/** "WRITE ns 1 lba 100 +8 pass 3" */
export function describeCommand(c: UserCommand): string {
  const name = USER_OPCODE_NAMES[c.opcode] ?? `opcode ${c.opcode}`;
  if (c.opcode === UserOpcode.FLUSH) return `${name} ns ${c.nsid}`;
  return `${name} ns ${c.nsid} lba ${c.lba} +${c.blockCount}` + (c.opcode === UserOpcode.WRITE ? ` pass ${c.pass}` : "") + (c.fua ? " fua" : "") + (c.atomic ? " atomic" : "");
}

/**
 * Pairs (i, j) of conflicting commands at most `window` apart in the list (j - i <= window). The
 * generator's guarantee is that there are none, so a driver that keeps at most `window` commands in
 * flight never has to hold one back.
 */
export function findConflicts(commands: readonly UserCommand[], window: number): [number, number][] {
  const found: [number, number][] = [];
  for (let j = 0; j < commands.length; j++) {
    for (let i = Math.max(0, j - window); i < j; i++) if (commandsConflict(commands[i], commands[j])) found.push([i, j]);
  }
  return found;
}
