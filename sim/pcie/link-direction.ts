// One direction of the link: the serial wire with its byte budget (framing, DLLPs and SKP ordered sets all
// spend it), the TLPs and UpdateFC DLLPs in flight on it, and the Ack/UpdateFC DLLPs that the receiver at
// this direction's *sending* end owes for traffic it received from the other direction.

import { CreditGate, type FcClass } from "./flow-control.ts";
import { Fifo } from "./fifo.ts";
import { DLLP_BYTES, TLP_FRAMING_BYTES, type CreditLimits, type LinkParams, type WireRate } from "./link-params.ts";

export interface Arriving {
  /** Cycle at which the packet is usable at the far end. */
  arrival: number;
}

interface CreditReturn extends Arriving {
  fcClass: FcClass;
  header: number;
  data: number;
}

export interface DirectionCounters {
  tlps: number;
  /** Header + payload + digest bytes of the TLPs sent. */
  tlpBytes: number;
  /** Payload bytes of the TLPs sent. */
  payloadBytes: number;
  /** Everything the wire carried: TLPs with framing, DLLPs, SKP ordered sets (bytes summed over lanes). */
  wireBytes: number;
  acks: number;
  updateFcs: number;
  skpOrderedSets: number;
  /** Cycles a ready TLP waited for credits, per class (posted, non-posted, completion). */
  creditStallCycles: [number, number, number];
}

export class LinkDirection<T extends Arriving> {
  /** Credits of the receiver at the far end. */
  readonly gate: CreditGate;
  /** TLPs on the wire or in the far end's pipeline, in arrival order. */
  readonly inFlight = new Fifo<T>();
  readonly counters: DirectionCounters = {
    tlps: 0,
    tlpBytes: 0,
    payloadBytes: 0,
    wireBytes: 0,
    acks: 0,
    updateFcs: 0,
    skpOrderedSets: 0,
    creditStallCycles: [0, 0, 0],
  };
  private budget: number;
  private unitsPerCycle: number;
  private nextCreditArrival = Infinity;
  /** Some Ack or UpdateFC is owed (saves looking when none is). */
  private dllpsOwed = false;
  private skpClock = 0;
  private skpPeriodUnits = 0;
  private skpUnits = 0;
  private readonly creditReturns = new Fifo<CreditReturn>();
  private reverseGate: CreditGate | undefined;
  private readonly nearReceiverInfinite: boolean[];
  private ackOwed = 0;
  private ackOwedSince = 0;
  private readonly fcTlps = [0, 0, 0];
  private readonly fcHeader = [0, 0, 0];
  private readonly fcData = [0, 0, 0];
  private readonly fcSince = [0, 0, 0];

  constructor(
    private rate: WireRate,
    private readonly params: Pick<
      LinkParams,
      "latencyCycles" | "ackEveryTlps" | "ackMaxDelayCycles" | "updateFcEveryTlps" | "updateFcMaxDelayCycles" | "skpIntervalSymbols"
    >,
    farReceiverCredits: CreditLimits,
    nearReceiverCredits: CreditLimits,
  ) {
    this.gate = new CreditGate(farReceiverCredits);
    this.budget = rate.unitsPerCycle;
    this.unitsPerCycle = rate.unitsPerCycle;
    this.setSkpSpacing(params.skpIntervalSymbols);
    // Infinite-credit classes never send UpdateFC.
    this.nearReceiverInfinite = [
      nearReceiverCredits.postedHeader === Infinity && nearReceiverCredits.postedData === Infinity,
      nearReceiverCredits.nonPostedHeader === Infinity && nearReceiverCredits.nonPostedData === Infinity,
      nearReceiverCredits.completionHeader === Infinity && nearReceiverCredits.completionData === Infinity,
    ];
  }

  /** The link retrained to a new speed. */
  setRate(rate: WireRate, skpIntervalSymbols: number): void {
    this.rate = rate;
    this.unitsPerCycle = rate.unitsPerCycle;
    this.budget = Math.min(this.budget, rate.unitsPerCycle);
    this.setSkpSpacing(skpIntervalSymbols);
  }

  private setSkpSpacing(skpIntervalSymbols: number): void {
    this.skpPeriodUnits = skpIntervalSymbols * this.rate.unitsPerSymbolTime;
    this.skpUnits = this.rate.skpSymbols * this.rate.unitsPerSymbolTime;
    this.skpClock = 0;
  }

  /**
   * The link went down: nothing on the wire survives, flow control starts again from the far receiver's
   * advertised credits, no Ack or UpdateFC is owed. Counters keep counting.
   */
  reset(): void {
    this.inFlight.clear();
    this.creditReturns.clear();
    this.nextCreditArrival = Infinity;
    this.gate.reset();
    this.budget = this.unitsPerCycle;
    this.skpClock = 0;
    this.dllpsOwed = false;
    this.ackOwed = 0;
    this.fcTlps.fill(0);
    this.fcHeader.fill(0);
    this.fcData.fill(0);
  }

  /**
   * The first cycle at which tick() or the model around this direction has something to do on its own:
   * a TLP or UpdateFC arriving, an Ack or UpdateFC falling due (sent then if the budget allows, else
   * later: this is a lower bound). Infinity when nothing is on the wire or owed.
   */
  nextEventCycle(): number {
    let next = this.nextCreditArrival;
    const head = this.inFlight.peek();
    if (head !== undefined && head.arrival < next) next = head.arrival;
    if (!this.dllpsOwed) return next;
    const params = this.params;
    for (let fcClass = 0; fcClass < 3; fcClass++) {
      const owed = this.fcTlps[fcClass];
      if (owed === 0) continue;
      const due = owed >= params.updateFcEveryTlps ? 0 : this.fcSince[fcClass] + params.updateFcMaxDelayCycles;
      if (due < next) next = due;
    }
    if (this.ackOwed > 0) {
      const due = this.ackOwed >= params.ackEveryTlps ? 0 : this.ackOwedSince + params.ackMaxDelayCycles;
      if (due < next) next = due;
    }
    return next;
  }

  /**
   * `cycles` calls of tick() in a stretch where nothing arrives or falls due (the caller checked
   * nextEventCycle()): the byte budget recovers and SKP ordered sets are paid for exactly as tick()
   * would, in one step per SKP instead of one per cycle. The budget never exceeds one cycle's worth, so
   * it is tracked as a deficit below that: each cycle drains unitsPerCycle of it, each SKP adds its cost.
   */
  idleTicks(cycles: number): void {
    const perCycle = this.unitsPerCycle;
    const period = this.skpPeriodUnits;
    let deficit = perCycle - this.budget;
    let left = cycles;
    for (;;) {
      // The tick that carries the clock to the period pays for the next SKP.
      const untilSkp = Math.ceil((period - this.skpClock) / perCycle);
      if (untilSkp > left) {
        deficit = Math.max(deficit - perCycle * left, 0);
        this.skpClock += perCycle * left;
        break;
      }
      deficit = Math.max(deficit - perCycle * untilSkp, 0) + this.skpUnits;
      this.skpClock += perCycle * untilSkp - period;
      this.counters.skpOrderedSets++;
      this.counters.wireBytes += this.skpUnits / this.rate.unitsPerByte;
      left -= untilSkp;
    }
    this.budget = perCycle - deficit;
  }

  /** The other direction's credit gate: UpdateFCs sent on this wire refill it when they arrive. */
  connectReverse(reverse: LinkDirection<Arriving>): void {
    this.reverseGate = reverse.gate;
  }

  /** Start of a cycle: earn this cycle's byte budget, pay for SKP, apply arrived UpdateFCs, send due DLLPs. */
  tick(cycle: number): void {
    const perCycle = this.unitsPerCycle;
    let budget = this.budget + perCycle;
    if (budget > perCycle) budget = perCycle;
    this.skpClock += perCycle;
    if (this.skpClock >= this.skpPeriodUnits) {
      this.skpClock -= this.skpPeriodUnits;
      budget -= this.skpUnits;
      this.counters.skpOrderedSets++;
      this.counters.wireBytes += this.skpUnits / this.rate.unitsPerByte;
    }
    this.budget = budget;
    if (cycle >= this.nextCreditArrival) this.applyCreditReturns(cycle);
    if (budget > 0 && this.dllpsOwed) this.sendDueDllps(cycle);
  }

  private applyCreditReturns(cycle: number): void {
    const returns = this.creditReturns;
    while (returns.length > 0 && returns.peek()!.arrival <= cycle) {
      const update = returns.shift()!;
      this.reverseGate?.restore(update.fcClass, update.header, update.data);
    }
    this.nextCreditArrival = returns.length > 0 ? returns.peek()!.arrival : Infinity;
  }

  /** The wire can start a packet this cycle. */
  get free(): boolean {
    return this.budget > 0;
  }

  /** Arrival cycle of the oldest TLP in flight (Infinity when none). */
  get nextArrival(): number {
    const head = this.inFlight.peek();
    return head === undefined ? Infinity : head.arrival;
  }

  /** Put a TLP of `tlpBytes` (header + payload + digest) on the wire; it arrives `item.arrival` cycles later. */
  startTlp(cycle: number, tlpBytes: number, payloadBytes: number, item: T): void {
    item.arrival = this.occupy(cycle, tlpBytes + TLP_FRAMING_BYTES) + this.params.latencyCycles;
    this.inFlight.push(item);
    this.counters.tlps++;
    this.counters.tlpBytes += tlpBytes;
    this.counters.payloadBytes += payloadBytes;
  }

  /** The receiver at this direction's sending end got a TLP from the other direction: it owes an Ack. */
  owesAck(cycle: number): void {
    if (this.ackOwed === 0) this.ackOwedSince = cycle;
    this.ackOwed++;
    this.dllpsOwed = true;
  }

  /** The receiver at this direction's sending end freed buffer space: return the credits in an UpdateFC. */
  returnCredits(cycle: number, fcClass: FcClass, dataCredits: number): void {
    if (this.nearReceiverInfinite[fcClass]) return;
    if (this.fcTlps[fcClass] === 0) this.fcSince[fcClass] = cycle;
    this.fcTlps[fcClass]++;
    this.fcHeader[fcClass]++;
    this.fcData[fcClass] += dataCredits;
    this.dllpsOwed = true;
  }

  /** Spend the budget for `wireBytes`; returns the cycle in which the last byte leaves. */
  private occupy(cycle: number, wireBytes: number): number {
    this.budget -= wireBytes * this.rate.unitsPerByte;
    this.counters.wireBytes += wireBytes;
    return this.budget >= 0 ? cycle : cycle + Math.ceil(-this.budget / this.rate.unitsPerCycle);
  }

  private sendDueDllps(cycle: number): void {
    const params = this.params;
    for (let fcClass = 0; fcClass < 3 && this.budget > 0; fcClass++) {
      const owed = this.fcTlps[fcClass];
      if (owed === 0) continue;
      if (owed < params.updateFcEveryTlps && cycle - this.fcSince[fcClass] < params.updateFcMaxDelayCycles) continue;
      const finish = this.occupy(cycle, DLLP_BYTES);
      const arrival = finish + params.latencyCycles;
      if (this.creditReturns.length === 0) this.nextCreditArrival = arrival;
      this.creditReturns.push({
        arrival,
        fcClass: fcClass as FcClass,
        header: this.fcHeader[fcClass],
        data: this.fcData[fcClass],
      });
      this.fcTlps[fcClass] = 0;
      this.fcHeader[fcClass] = 0;
      this.fcData[fcClass] = 0;
      this.counters.updateFcs++;
    }
    if (this.budget > 0 && this.ackOwed > 0) {
      if (this.ackOwed >= params.ackEveryTlps || cycle - this.ackOwedSince >= params.ackMaxDelayCycles) {
        this.occupy(cycle, DLLP_BYTES);
        this.ackOwed = 0;
        this.counters.acks++;
      }
    }
    this.dllpsOwed = this.ackOwed > 0 || this.fcTlps[0] > 0 || this.fcTlps[1] > 0 || this.fcTlps[2] > 0;
  }
}
