// Shares the one-access-at-a-time PCIe port (pcie-access.ts) between several clients (the
// enumerator, NVMe initialisation, the admin engine's doorbells...). A client that wins keeps the
// port from its request to its response: the port never carries two accesses at once, so the
// response always belongs to the client that owns the port. Clients take turns round robin,
// starting after the last owner, so a client that keeps asking cannot starve the others.
//
// One access goes GRANT (the owner's request is copied into the output register and the owner sees
// ready), REQUEST (offered to the port until taken), RESPONSE (the port's answer is copied into the
// response register), ANSWER (offered to the owner until taken). Every output is a register or a
// decode of registers; the choice of the next owner ends in the owner register.
import { Module, type Value, bitsFor, mux } from "../../hdl/index.ts";
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
  const ctl = m.fsm(["IDLE", "GRANT", "REQUEST", "RESPONSE", "ANSWER"]);

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

  const mine = (i: number): Value => owner.eq(i);
  const ownerField = (field: (typeof REQUEST_FIELDS)[number]) =>
    ports.slice(1).reduce<Value>((value, c, j) => mux(mine(j + 1), c.request.signals[field], value), ports[0].request.signals[field]);

  const owner_took_answer = ports.map((c, i): Value => mine(i).and(c.response.signals.ready)).reduce((a, b) => a.or(b));
  const answer = Object.fromEntries(RESPONSE_FIELDS.map((f) => [f, m.signal(pcieAccessResponse.fields[f].shape.width, { resetless: true, name: `answer_${f}` })]));

  ctl.body({
    IDLE: () =>
      m.If(any_asking, () => {
        m.sync(owner, next_owner);
        ctl.next("GRANT");
      }),
    GRANT: () => {
      for (const field of REQUEST_FIELDS) m.sync(rq[field], ownerField(field));
      m.sync(rq.valid, 1);
      ctl.next("REQUEST");
    },
    REQUEST: () =>
      m.If(rq.ready, () => {
        m.sync(rq.valid, 0);
        m.sync(rs.ready, 1);
        ctl.next("RESPONSE");
      }),
    RESPONSE: () =>
      m.If(rs.valid, () => {
        m.sync(rs.ready, 0);
        for (const field of RESPONSE_FIELDS) m.sync(answer[field], rs[field]);
        ctl.next("ANSWER");
      }),
    ANSWER: () =>
      m.If(owner_took_answer, () => ctl.next("IDLE")),
  });

  ports.forEach((c, i) => {
    m.comb(c.request.signals.ready, ctl.is("GRANT").and(mine(i)));
    m.comb(c.response.signals.valid, ctl.is("ANSWER").and(mine(i)));
    for (const field of RESPONSE_FIELDS) m.comb(c.response.signals[field], answer[field]);
  });

  return m.exposing({ clients: ports, access_request, access_response });
}
