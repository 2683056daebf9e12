// Shares the one-access-at-a-time PCIe port (pcie-access.ts) between several clients (the
// enumerator, NVMe initialisation, the admin engine's doorbells...). A client that wins keeps the
// port from its request to its response: the port never carries two accesses at once, so the
// response always belongs to the client that owns the port. Clients take turns round robin,
// starting after the last owner, so a client that keeps asking cannot starve the others.
//
// One access goes REQUEST (the owner's request passes to the port until taken), RESPONSE (the port's
// answer is awaited, not yet taken) and ANSWER (the answer is offered to the owner, its valid a
// decode of the state and owner registers, until the owner takes it); the port's answer is taken
// from it in the cycle after (a registered ready: the port holds its answer until then, and takes
// no new request before). Nothing is copied: the owner holds its request stable until taken (the
// valid/ready rule) and the port holds its answer until taken, so the arbiter is a multiplexer
// steered by the owner register. The owner is also kept one-hot, so that multiplexer is an AND-OR
// two LUTs deep (a binary select maps to LUT + MUXF7 + MUXF8 after a LUT, too deep behind a
// client whose request data is itself a decode of its state). Combinational paths, by design: the owner's request to the port
// and the port's ready back; the port's answer fields to the clients. The choice of the next owner
// ends in the owner register.
import { Module, type Value, bitsFor, cat } from "../../hdl/index.ts";
import { pcieAccessRequest, pcieAccessResponse } from "./pcie-access.ts";

export interface PcieAccessArbiterParams {
  /** Clients sharing the port (2..16). */
  clients: number;
}

const REQUEST_FIELDS = ["kind", "address", "data", "byte_en"] as const;
const RESPONSE_FIELDS = ["data", "status", "timed_out", "poisoned"] as const;

/** Several access-port clients onto one access port, one access at a time, round robin. */
export function pcieAccessArbiter({ clients }: PcieAccessArbiterParams) {
  if (!Number.isInteger(clients) || clients < 2 || clients > 16) throw new RangeError(`pcie_access_arbiter: clients ${clients} is not an integer in 2..16`);
  const m = new Module(`pcie_access_arbiter_c${clients}`);
  m.parameters({ clients });
  m.documentCombinationalPaths("the owner's request passes to access_request, the port's answer fields to the clients, and the readies back (the owner is a register)");
  const ports = Array.from({ length: clients }, (_, i) => ({
    request: m.port(pcieAccessRequest, "slave", { prefix: `client${i}_request` }),
    response: m.port(pcieAccessResponse, "master", { prefix: `client${i}_response` }),
  }));
  const access_request = m.port(pcieAccessRequest, "master");
  const access_response = m.port(pcieAccessResponse, "slave");
  const rq = access_request.signals;
  const rs = access_response.signals;

  const ownerBits = bitsFor(clients - 1);
  const owner = m.signal(ownerBits, { reset: clients - 1 });
  const owner_onehot = m.signal(clients, { reset: 1 << (clients - 1) });
  const ctl = m.fsm(["IDLE", "REQUEST", "RESPONSE", "ANSWER"]);

  // The next owner: the first client asking, counting from the one after the last owner.
  const asking: Value[] = ports.map((c) => c.request.signals.valid);
  const any_asking = asking.reduce((a, b) => a.or(b));
  const next_owner = m.signal(ownerBits);
  m.Switch(owner, (s) => {
    for (let last = 0; last < clients; last++) {
      s.Case(last, () => {
        // Lowest priority first, so the last assignment (highest priority) wins.
        for (let k = clients; k >= 1; k--) {
          const candidate = (last + k) % clients;
          m.If(asking[candidate], () => m.comb(next_owner, candidate));
        }
      });
    }
  });

  const mine = (i: number): Value => owner_onehot.bit(i);
  const ownerValue = (value: (i: number) => Value) =>
    ports.map((_, i) => value(i).and(mine(i).repeat(value(i).width))).reduce((a, b) => a.or(b));
  const offering = ctl.is("REQUEST");
  const answering = ctl.is("ANSWER");
  const owner_valid = ownerValue((i) => ports[i].request.signals.valid);
  const owner_ready = ownerValue((i) => ports[i].response.signals.ready);

  ctl.body({
    IDLE: () =>
      m.If(any_asking, () => {
        m.sync(owner, next_owner);
        m.sync(owner_onehot, cat(...ports.map((_, i) => next_owner.eq(clients - 1 - i))));
        ctl.next("REQUEST");
      }),
    REQUEST: () => m.If(owner_valid.and(rq.ready), () => ctl.next("RESPONSE")),
    RESPONSE: () => m.If(rs.valid, () => ctl.next("ANSWER")),
    ANSWER: () => m.If(owner_ready, () => ctl.next("IDLE")),
  });

  for (const field of REQUEST_FIELDS) m.comb(rq[field], ownerValue((i) => ports[i].request.signals[field]));
  m.comb(rq.valid, offering.and(owner_valid));
  const answer_taken = m.signal(1);
  m.sync(answer_taken, answering.and(owner_ready));
  m.comb(rs.ready, answer_taken);
  ports.forEach((c, i) => {
    m.comb(c.request.signals.ready, offering.and(mine(i)).and(rq.ready));
    m.comb(c.response.signals.valid, answering.and(mine(i)));
    for (const field of RESPONSE_FIELDS) m.comb(c.response.signals[field], rs[field]);
  });

  return m.exposing({ clients: ports, access_request, access_response });
}
