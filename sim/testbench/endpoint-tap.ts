// Sits between the link model and a PCIe endpoint (the SSD model, a scripted peer) and records
// every TLP each way with its cycle, passing everything through unchanged.
import type { PcieEndpoint, Tlp } from "../pcie/tlp.ts";

export interface TappedTlp {
  cycle: number;
  tlp: Tlp;
}

export class EndpointTap implements PcieEndpoint {
  /** TLPs the endpoint received, in order. */
  readonly down: TappedTlp[] = [];
  /** TLPs the endpoint sent, in order. */
  readonly up: TappedTlp[] = [];
  constructor(readonly inner: PcieEndpoint) {}

  /** The TLPs the endpoint received, without their cycles. */
  get received(): Tlp[] {
    return this.down.map((d) => d.tlp);
  }

  receive(tlp: Tlp, cycle: number): void {
    this.down.push({ cycle, tlp });
    this.inner.receive(tlp, cycle);
  }

  nextUpstream(cycle: number): Tlp | undefined {
    const tlp = this.inner.nextUpstream(cycle);
    if (tlp) this.up.push({ cycle, tlp });
    return tlp;
  }
}
