// Fault injection: the misbehaviour a host must survive. Each rule matches commands (by queue, opcode,
// namespace, command ID) and fires a given number of times. The controller consults these rules at the
// points where a real device would fail; nothing here changes state by itself.

import type { NvmeStatus } from "./status.ts";

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
  private mmioReadFailures: { status: "UR" | "CA"; remaining: number }[] = [];
  private fatalEnables = 0;
  private neverReadyEnables = 0;
  private sanitizeFailures = 0;
  /** How many times each kind of fault actually fired. */
  readonly fired = { status: 0, droppedCompletion: 0, poisonedData: 0, latencySpike: 0, mmioReadFailure: 0, fatalOnEnable: 0, neverReady: 0, sanitizeFailure: 0 };

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

  /** Answer the next `count` BAR0 memory reads with an Unsupported Request or Completer Abort completion. */
  failMmioReads(status: "UR" | "CA", count = 1): void {
    this.mmioReadFailures.push({ status, remaining: count });
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

  takeMmioReadFailure(): "UR" | "CA" | undefined {
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
