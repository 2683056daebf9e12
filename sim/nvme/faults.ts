// Fault injection: the misbehaviour a host must survive. Each rule matches commands (by queue, opcode,
// namespace, command ID) and fires a given number of times. The controller consults these rules at the
// points where a real device would fail; nothing here changes state by itself.

import type { NvmeStatus } from "./status.ts";

/** How a BAR0 memory read fails (failMmioReads). */
export type MmioReadFailure = "UR" | "CA" | "poisoned" | "dropped";

export interface CommandMatch {
  /** Submission queue ID (0 = admin). */
  sqid?: number;
  opcode?: number;
  nsid?: number;
  cid?: number;
}

export interface CommandIdentity {
  sqid: number;
  opcode: number;
  nsid: number;
  cid: number;
}

interface Rule<T> {
  match: CommandMatch;
  remaining: number;
  value: T;
}

export class FaultInjector {
  private statusRules: Rule<NvmeStatus>[] = [];
  private dropRules: Rule<true>[] = [];
  private poisonRules: Rule<true>[] = [];
  private delayRules: Rule<number>[] = [];
  private fatalRules: Rule<true>[] = [];
  private misdirectRules: Rule<bigint>[] = [];
  private mmioReadFailures: { status: MmioReadFailure; remaining: number }[] = [];
  private ignoredDoorbells = 0;
  private fatalEnables = 0;
  private neverReadyEnables = 0;
  private sanitizeFailures = 0;
  /** How many times each kind of fault actually fired. */
  readonly fired = {
    status: 0,
    droppedCompletion: 0,
    poisonedData: 0,
    latencySpike: 0,
    mmioReadFailure: 0,
    fatalOnEnable: 0,
    neverReady: 0,
    sanitizeFailure: 0,
    fatalOnCommand: 0,
    misdirectedData: 0,
    ignoredDoorbell: 0,
  };

  /** Complete matching commands with `status` instead of executing them. */
  injectStatus(match: CommandMatch, status: NvmeStatus, count = 1): void {
    this.statusRules.push({ match, remaining: count, value: status });
  }

  /** Execute matching commands but never post their completion entry. */
  dropCompletion(match: CommandMatch, count = 1): void {
    this.dropRules.push({ match, remaining: count, value: true });
  }

  /** Send the read data of matching commands in poisoned (EP = 1) MWr TLPs. */
  poisonReadData(match: CommandMatch, count = 1): void {
    this.poisonRules.push({ match, remaining: count, value: true });
  }

  /** Delay the completion of matching commands by `extraCycles`. */
  latencySpike(match: CommandMatch, extraCycles: number, count = 1): void {
    this.delayRules.push({ match, remaining: count, value: extraCycles });
  }

  /**
   * Answer the next `count` BAR0 memory reads with an Unsupported Request or Completer Abort completion,
   * with their data in a poisoned (EP = 1) CplD ("poisoned"), or not at all ("dropped": the requester's
   * completion timeout must end the wait).
   */
  failMmioReads(status: MmioReadFailure, count = 1): void {
    this.mmioReadFailures.push({ status, remaining: count });
  }

  /**
   * The next `count` matching commands, when they would start executing, set CSTS.CFS instead: the
   * controller stops processing (it fetches, executes and completes nothing more) until it is reset.
   */
  fatalOnCommand(match: CommandMatch, count = 1): void {
    this.fatalRules.push({ match, remaining: count, value: true });
  }

  /**
   * Move the data pointer (PRP1) of the next `count` matching commands by `offset` bytes, as a corrupted
   * PRP would: the SSD reads or writes the command's first data page somewhere the host never mapped.
   */
  misdirectData(match: CommandMatch, offset: bigint, count = 1): void {
    if (offset === 0n) throw new RangeError("misdirectData: offset 0 moves nothing");
    this.misdirectRules.push({ match, remaining: count, value: offset });
  }

  /**
   * Ignore the next `count` I/O submission queue tail doorbells (default: every one until the next
   * controller reset or power-on): the SSD stops fetching commands, as a hung firmware would.
   */
  stopFetching(count = Number.POSITIVE_INFINITY): void {
    if (!(count > 0)) throw new RangeError(`stopFetching: count ${count} must be positive`);
    this.ignoredDoorbells = count;
  }

  /** The next `count` times the host sets CC.EN to 1, set CSTS.CFS at once instead of becoming ready. */
  fatalOnEnable(count = 1): void {
    this.fatalEnables += count;
  }

  /** The next `count` times the host sets CC.EN to 1, never set CSTS.RDY (the host's CAP.TO wait runs out). */
  neverReady(count = 1): void {
    this.neverReadyEnables += count;
  }

  /**
   * The next `count` sanitize operations (block erase, overwrite, crypto erase) fail when they would
   * have finished: the Sanitize Status log reports failed and the controller enters the failure mode.
   */
  failSanitize(count = 1): void {
    this.sanitizeFailures += count;
  }

  clear(): void {
    this.sanitizeFailures = 0;
    this.fatalEnables = 0;
    this.neverReadyEnables = 0;
    this.statusRules = [];
    this.dropRules = [];
    this.poisonRules = [];
    this.delayRules = [];
    this.mmioReadFailures = [];
    this.fatalRules = [];
    this.misdirectRules = [];
    this.ignoredDoorbells = 0;
  }

  takeFatalOnCommand(cmd: CommandIdentity): boolean {
    const v = take(this.fatalRules, cmd) === true;
    if (v) this.fired.fatalOnCommand++;
    return v;
  }

  /** The offset to move a command's PRP1 by, or 0n. */
  takeMisdirect(cmd: CommandIdentity): bigint {
    const v = take(this.misdirectRules, cmd) ?? 0n;
    if (v !== 0n) this.fired.misdirectedData++;
    return v;
  }

  /** Whether to ignore this I/O SQ tail doorbell. */
  takeIgnoredDoorbell(): boolean {
    if (this.ignoredDoorbells <= 0) return false;
    this.ignoredDoorbells--;
    this.fired.ignoredDoorbell++;
    return true;
  }

  /** A controller reset or power-on restarts the firmware: an SSD that stopped fetching fetches again. */
  controllerReset(): void {
    this.ignoredDoorbells = 0;
  }

  takeStatus(cmd: CommandIdentity): NvmeStatus | undefined {
    const v = take(this.statusRules, cmd);
    if (v) this.fired.status++;
    return v;
  }

  takeDrop(cmd: CommandIdentity): boolean {
    const v = take(this.dropRules, cmd) === true;
    if (v) this.fired.droppedCompletion++;
    return v;
  }

  takePoison(cmd: CommandIdentity): boolean {
    const v = take(this.poisonRules, cmd) === true;
    if (v) this.fired.poisonedData++;
    return v;
  }

  takeDelay(cmd: CommandIdentity): number {
    const v = take(this.delayRules, cmd) ?? 0;
    if (v > 0) this.fired.latencySpike++;
    return v;
  }

  takeFatalOnEnable(): boolean {
    if (this.fatalEnables === 0) return false;
    this.fatalEnables--;
    this.fired.fatalOnEnable++;
    return true;
  }

  takeNeverReady(): boolean {
    if (this.neverReadyEnables === 0) return false;
    this.neverReadyEnables--;
    this.fired.neverReady++;
    return true;
  }

  takeSanitizeFailure(): boolean {
    if (this.sanitizeFailures === 0) return false;
    this.sanitizeFailures--;
    this.fired.sanitizeFailure++;
    return true;
  }

  takeMmioReadFailure(): MmioReadFailure | undefined {
    const rule = this.mmioReadFailures.find((r) => r.remaining > 0);
    if (!rule) return undefined;
    rule.remaining--;
    this.fired.mmioReadFailure++;
    return rule.status;
  }
}

function matches(m: CommandMatch, c: CommandIdentity): boolean {
  return (
    (m.sqid === undefined || m.sqid === c.sqid) &&
    (m.opcode === undefined || m.opcode === c.opcode) &&
    (m.nsid === undefined || m.nsid === c.nsid) &&
    (m.cid === undefined || m.cid === c.cid)
  );
}

function take<T>(rules: Rule<T>[], cmd: CommandIdentity): T | undefined {
  const rule = rules.find((r) => r.remaining > 0 && matches(r.match, cmd));
  if (!rule) return undefined;
  rule.remaining--;
  return rule.value;
}
