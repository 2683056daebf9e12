// One access at a time to the root port's own configuration space through the 7-series core's
// cfg_mgmt port (PG054; facts digest §A.7): the core samples dwaddr, di, byte_en and rd_en or
// wr_en until it pulses cfg_mgmt_rd_wr_done for one cycle, with cfg_mgmt_do valid in that cycle
// for a read. So a request taken on the request port is copied into the cfg_mgmt registers and
// held there, untouched, until done; the enable drops at the edge after done (the core ignores
// its request lines in the done cycle), and the answer waits on the response port, which holds
// it until taken. Only then is the next request taken, so there is never more than one access.
//
// The core has no way to refuse an access, but a core held in reset, or a wrong address map, can
// leave done low for ever: the wait is bounded by `timeoutCycles`. With no done by then the
// enable drops and the response carries timed_out = 1 (and data 0). A done that still comes
// later, while no access is under way, is ignored; if it came during the next access it would be
// taken for that access's, which is why a requester of this module treats a timeout as a fault
// of the whole sequence, not of one access (root-port-setup.ts starts again from the first step).
//
// cfg_mgmt_wr_readonly and cfg_mgmt_wr_rw1c_as_rw stay 0: software-visible semantics only (RO
// bits keep their values, RW1C bits clear on 1), as a host's configuration writes would have.
//
// Every output is a register. The timeout counter counts down from timeoutCycles - 1 and its
// expiry is a registered flag set when it reaches 1, so no comparison of the whole counter sits
// in front of the state register.
import { Module, bitsFor, defineBundle, mux } from "../../hdl/index.ts";

export interface CfgMgmtRequesterParams {
  /** Cycles an access may wait for cfg_mgmt_rd_wr_done before it is answered with timed_out. */
  timeoutCycles: number;
}

/** The core's DW address of its configuration space (1024 DWs, byte offset / 4). */
export const CFG_MGMT_DWADDR_BITS = 10;

/**
 * The 7-series core's cfg_mgmt port (PG054), seen from its user: forward fields go to the core,
 * backward ones (the read data and the done strobe) come from it.
 */
export const cfgMgmtPort = defineBundle("cfg_mgmt", {
  dwaddr: ["forward", CFG_MGMT_DWADDR_BITS],
  di: ["forward", 32],
  byte_en: ["forward", 4],
  wr_en: ["forward", 1],
  rd_en: ["forward", 1],
  wr_readonly: ["forward", 1],
  wr_rw1c_as_rw: ["forward", 1],
  do: ["backward", 32],
  rd_wr_done: ["backward", 1],
});

/**
 * Takes one configuration access at a time (DW address, read or write, byte enables, data), runs
 * it on the 7-series cfg_mgmt port, and answers it with the read data or a timeout.
 */
export function cfgMgmtRequester({ timeoutCycles }: CfgMgmtRequesterParams) {
  if (!Number.isInteger(timeoutCycles) || timeoutCycles < 2 || timeoutCycles > 2 ** 24) {
    throw new RangeError(`timeoutCycles ${timeoutCycles} is not an integer in 2..2^24`);
  }
  const m = new Module(`cfg_mgmt_requester_t${timeoutCycles}`);
  m.parameters({ timeoutCycles });

  const request_valid = m.input(1);
  const request_ready = m.output(1, { reset: 1 });
  const request_dwaddr = m.input(CFG_MGMT_DWADDR_BITS);
  /** 1 = write request_data under request_byte_en, 0 = read the DW. */
  const request_write = m.input(1);
  const request_byte_en = m.input(4);
  const request_data = m.input(32);

  const response_valid = m.output(1);
  const response_ready = m.input(1);
  /** The DW read (0 for a write or a timeout). */
  const response_data = m.output(32);
  /** No cfg_mgmt_rd_wr_done within timeoutCycles: the access was abandoned. */
  const response_timed_out = m.output(1);

  const cfg_mgmt = m.port(cfgMgmtPort, "master", { prefix: "cfg_mgmt" });
  const core = cfg_mgmt.signals;

  const countBits = bitsFor(timeoutCycles - 1);
  const wait_count = m.signal(countBits, { resetless: true });
  const wait_expired = m.signal(1);
  const access_write = m.signal(1, { resetless: true });

  const ctl = m.fsm(["IDLE", "ACCESS", "RESPOND"]);
  const accept = request_valid.and(request_ready);
  ctl.body({
    IDLE: () => {
      m.If(accept, () => {
        m.sync(request_ready, 0);
        m.sync(core.dwaddr, request_dwaddr);
        m.sync(core.di, request_data);
        m.sync(core.byte_en, request_byte_en);
        m.sync(core.wr_en, request_write);
        m.sync(core.rd_en, request_write.not());
        m.sync(access_write, request_write);
        m.sync(wait_count, timeoutCycles - 1);
        m.sync(wait_expired, 0);
        ctl.next("ACCESS");
      });
    },
    ACCESS: () => {
      m.sync(wait_count, wait_count.subWrap(1));
      m.sync(wait_expired, wait_count.eq(1));
      m.If(core.rd_wr_done, () => {
        m.sync(core.wr_en, 0);
        m.sync(core.rd_en, 0);
        m.sync(response_valid, 1);
        m.sync(response_data, mux(access_write, 0, core.do));
        m.sync(response_timed_out, 0);
        ctl.next("RESPOND");
      }).Elif(wait_expired, () => {
        m.sync(core.wr_en, 0);
        m.sync(core.rd_en, 0);
        m.sync(response_valid, 1);
        m.sync(response_data, 0);
        m.sync(response_timed_out, 1);
        ctl.next("RESPOND");
      });
    },
    RESPOND: () => {
      m.If(response_ready, () => {
        m.sync(response_valid, 0);
        m.sync(request_ready, 1);
        ctl.next("IDLE");
      });
    },
  });
  m.comb(core.wr_readonly, 0);
  m.comb(core.wr_rw1c_as_rw, 0);

  return m.exposing({
    request_valid,
    request_ready,
    request_dwaddr,
    request_write,
    request_byte_en,
    request_data,
    response_valid,
    response_ready,
    response_data,
    response_timed_out,
    cfg_mgmt,
  });
}
