// Flow-control credit accounting (PCIe Base 2.1 §2.6): three classes (posted, non-posted, completion), each
// with header credits (one per TLP) and data credits (one per 16 payload bytes). A transmitter sends only
// while the receiver's advertised credits cover the TLP; the receiver returns credits in UpdateFC DLLPs as
// its buffers drain.

import type { Tlp } from "./tlp.ts";
import type { CreditLimits } from "./link-params.ts";

export const FcClass = { posted: 0, nonPosted: 1, completion: 2 } as const;
export type FcClass = (typeof FcClass)[keyof typeof FcClass];

export function fcClassOf(tlp: Tlp): FcClass {
  switch (tlp.kind) {
    case "MWr":
    case "Msg":
    case "MsgD":
      return FcClass.posted;
    case "Cpl":
    case "CplD":
      return FcClass.completion;
    default:
      return FcClass.nonPosted;
  }
}

export function dataCreditsFor(payloadBytes: number): number {
  return Math.ceil(payloadBytes / 16);
}

/** The transmitter's view of one receiver's credits: what may still be sent in each class. */
export class CreditGate {
  /** [class*2] = header credits available, [class*2+1] = data credits available (Infinity = infinite). */
  private readonly available = new Float64Array(6);

  constructor(private readonly limits: CreditLimits) {
    this.reset();
  }

  /** Back to the advertised limits (the link was reset and flow control initialises again). */
  reset(): void {
    const limits = this.limits;
    this.available[0] = limits.postedHeader;
    this.available[1] = limits.postedData;
    this.available[2] = limits.nonPostedHeader;
    this.available[3] = limits.nonPostedData;
    this.available[4] = limits.completionHeader;
    this.available[5] = limits.completionData;
  }

  allows(fcClass: FcClass, dataCredits: number): boolean {
    return this.available[fcClass * 2] >= 1 && this.available[fcClass * 2 + 1] >= dataCredits;
  }

  consume(fcClass: FcClass, dataCredits: number): void {
    this.available[fcClass * 2] -= 1;
    this.available[fcClass * 2 + 1] -= dataCredits;
  }

  restore(fcClass: FcClass, headerCredits: number, dataCredits: number): void {
    this.available[fcClass * 2] += headerCredits;
    this.available[fcClass * 2 + 1] += dataCredits;
  }

  headerCredits(fcClass: FcClass): number {
    return this.available[fcClass * 2];
  }

  dataCredits(fcClass: FcClass): number {
    return this.available[fcClass * 2 + 1];
  }
}
