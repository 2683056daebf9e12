// The SSD's transmit queue: every TLP it originates (DMA reads and writes, CQEs, MSI-X messages,
// completions of MMIO and config reads) in the order it was produced. One FIFO keeps PCIe ordering for
// free: data MWr always precede the CQE MWr that reports them, and no completion passes a posted write.

import type { Tlp } from "../pcie/tlp.ts";

export class UpstreamQueue {
  private items: Tlp[] = [];
  private head = 0;

  push(tlp: Tlp): void {
    this.items.push(tlp);
  }

  shift(): Tlp | undefined {
    if (this.head >= this.items.length) return undefined;
    const tlp = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return tlp;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
