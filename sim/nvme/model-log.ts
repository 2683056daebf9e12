// What the SSD model refused or found wrong, with the reason and the cycle: rejected TLPs, bad doorbell
// writes, failed DMA; and the erase operations (Format NVM, Sanitize) starting and ending. Kept bounded so a long run with a misbehaving host cannot exhaust memory; the
// per-category counts are never dropped.

export type LogCategory =
  | "tlp-rejected"
  | "completion-unexpected"
  | "dma-error"
  | "doorbell-invalid"
  | "register-write-ignored"
  | "controller-fatal"
  | "command-error"
  | "fault-injected"
  | "erase";

export interface LogEntry {
  cycle: number;
  category: LogCategory;
  reason: string;
}

export class ModelLog {
  readonly entries: LogEntry[] = [];
  readonly counts = new Map<LogCategory, number>();

  constructor(private readonly capacity = 10_000) {}

  add(cycle: number, category: LogCategory, reason: string): void {
    this.counts.set(category, (this.counts.get(category) ?? 0) + 1);
    if (this.entries.length >= this.capacity) this.entries.shift();
    this.entries.push({ cycle, category, reason });
  }

  count(category: LogCategory): number {
    return this.counts.get(category) ?? 0;
  }

  inCategory(category: LogCategory): LogEntry[] {
    return this.entries.filter((e) => e.category === category);
  }
}
