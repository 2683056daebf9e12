// A time-ordered event queue in user-clock cycles. The SSD model has no clock of its own: the link model
// tells it the time on every call, and the model runs whatever fell due up to then.

interface ScheduledEvent {
  cycle: number;
  seq: number;
  action: () => void;
}

export class Scheduler {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private current = 0;

  /** The latest cycle the model has been advanced to. */
  get now(): number {
    return this.current;
  }

  /** Run `action` at `cycle` (or at the current cycle if `cycle` is in the past), after earlier-scheduled events of that cycle. */
  at(cycle: number, action: () => void): void {
    const event = { cycle: Math.max(cycle, this.current), seq: this.seq++, action };
    this.heap.push(event);
    this.siftUp(this.heap.length - 1);
  }

  after(delayCycles: number, action: () => void): void {
    this.at(this.current + delayCycles, action);
  }

  /** Cycle of the earliest pending event, or undefined when idle. */
  nextEventCycle(): number | undefined {
    return this.heap.length > 0 ? this.heap[0].cycle : undefined;
  }

  /** Run every event due at or before `cycle`, in time order; events scheduled meanwhile for <= `cycle` run too. */
  runUntil(cycle: number): void {
    if (cycle > this.current) this.current = cycle;
    while (this.heap.length > 0 && this.heap[0].cycle <= this.current) {
      const event = this.pop();
      event.action();
    }
  }

  private pop(): ScheduledEvent {
    const top = this.heap[0];
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private before(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.cycle < b.cycle || (a.cycle === b.cycle && a.seq < b.seq);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l], h[m])) m = l;
      if (r < h.length && this.before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
