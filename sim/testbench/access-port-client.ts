// A test playing the client of a PCIe access port (rtl-src/pcie/pcie-access.ts): one access at a
// time, the request held on `<request>_*` until taken, then the response taken from
// `<response>_*` when offered (or, with `readDelay`, a few cycles after: back-pressure). The
// caller's `step` is one clock edge of its whole testbench (the bridge to the link model, a sink
// it runs beside), so the same client serves pcie_requester's own port and a port behind an
// arbiter.
import type { Simulator } from "../engine/index.ts";

export interface AccessPortRequest {
  /** AccessKind of pcie-access.ts. */
  kind: number;
  address: number;
  data?: number;
  byteEn?: number;
}

export interface AccessPortAnswer {
  data: number;
  status: number;
  timedOut: number;
  poisoned: number;
  /** Edges from the request offered to the response read (the edge that took the request included). */
  cycles: number;
}

export interface AccessPortClientOptions {
  /** Prefix of the request port's signals (default "access": access_kind, access_valid, ...). */
  request?: string;
  /** Prefix of the response port's signals (default "response"). */
  response?: string;
  /** Edges the access may take before it is an error (default 100 000). */
  maxCycles?: number;
  /** Cycles an offered response waits before it is taken, asked once per access (default none). */
  readDelay?: () => number;
}

/** One access through the port; throws if it is not taken or answered within `maxCycles`. */
export function accessThroughPort(sim: Simulator, step: () => void, request: AccessPortRequest, options: AccessPortClientOptions = {}): AccessPortAnswer {
  const rq = options.request ?? "access";
  const rs = options.response ?? "response";
  const maxCycles = options.maxCycles ?? 100_000;
  let cycles = 0;
  const stepUntil = (done: () => boolean, what: string) => {
    while (!done()) {
      if (++cycles > maxCycles) throw new Error(`access ${what} within ${maxCycles} cycles`);
      step();
    }
  };
  sim.poke(`${rq}_kind`, request.kind);
  sim.poke(`${rq}_address`, request.address);
  sim.poke(`${rq}_data`, request.data ?? 0);
  sim.poke(`${rq}_byte_en`, request.byteEn ?? 0xf);
  sim.poke(`${rq}_valid`, 1);
  stepUntil(() => sim.peek(`${rq}_ready`) === 1, "not taken");
  step();
  cycles++;
  sim.poke(`${rq}_valid`, 0);
  let delay = options.readDelay?.() ?? 0;
  stepUntil(() => sim.peek(`${rs}_valid`) === 1 && delay-- <= 0, "not answered");
  const answer = {
    data: sim.peek(`${rs}_data`) >>> 0,
    status: sim.peek(`${rs}_status`),
    timedOut: sim.peek(`${rs}_timed_out`),
    poisoned: sim.peek(`${rs}_poisoned`),
    cycles,
  };
  sim.poke(`${rs}_ready`, 1);
  step();
  sim.poke(`${rs}_ready`, 0);
  return answer;
}
