// A first-in first-out queue over an array with a moving head: O(1) push and shift, no per-operation
// allocation once the backing array has grown, and indexed access for schedulers that look past the head.

export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The i-th queued item (0 = head), or undefined. */
  at(index: number): T | undefined {
    return this.items[this.head + index];
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) this.compact();
    return item;
  }

  /** Remove and return the i-th queued item, keeping the order of the rest. */
  removeAt(index: number): T | undefined {
    if (index === 0) return this.shift();
    const position = this.head + index;
    if (position >= this.items.length) return undefined;
    const [item] = this.items.splice(position, 1);
    return item;
  }

  /** Drop every queued item (a reset). */
  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private compact(): void {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }
}
