// A stand-in for the controller core, to test and benchmark the full-system simulation before the real
// core exists: it has the core's pcie_7x user-side port names and does the first steps of a bring-up
// in the plainest way. It holds the SSD's PERST# low for `perstCycles`, waits for user_lnk_up, asks
// for 5 GT/s with a directed speed change if the link came up at 2.5 GT/s and both ends can do 5,
// reads the SSD's Vendor/Device ID with CfgRd0 (again after `retryGapCycles` while the SSD answers
// CRS), assigns BAR0 = 0xE000_0000 and sets Memory Space Enable with CfgWr0, then reads the
// NVMe CAP register `reads` times with MRd, one at a time. One request is in flight at a time; the
// stand-in is test equipment, not hardware (no timeouts: the simulation's runUntil bounds the waits).
import { C, Module, cat } from "../../hdl/index.ts";

export interface SystemStandInParams {
  perstCycles: number;
  retryGapCycles: number;
  /** MRd of BAR0 + 0 after enumeration (0: stop after the configuration writes). */
  reads: number;
  /** Ask for 5 GT/s when the link trained at 2.5 GT/s and both ends support it. */
  speedUp: boolean;
}

export const defaultStandInParams: SystemStandInParams = { perstCycles: 1000, retryGapCycles: 500, reads: 0, speedUp: true };

/** The BAR0 address the stand-in assigns. */
export const STAND_IN_BAR0 = 0xe000_0000;

/** The stand-in's FSM states, in the order of `state` codes. */
export const STAND_IN_STATES = ["PERST", "LINK_WAIT", "SPEED", "ISSUE", "BEAT0", "BEAT1", "AWAIT", "GAP", "DONE"] as const;

/** Requests it sends, by `op` code. */
const OP_PROBE = 0;
const OP_BAR = 1;
const OP_COMMAND = 2;
const OP_READ = 3;

/** Test equipment with the controller core's link ports: PERST#, speed-up, CfgRd0 with CRS retry, BAR0, MRd loop. */
export function systemStandIn(params: SystemStandInParams = defaultStandInParams) {
  const { perstCycles, retryGapCycles, reads, speedUp } = params;
  for (const [name, value] of Object.entries({ perstCycles, retryGapCycles, reads })) {
    if (!Number.isInteger(value) || value < 1 || value >= 2 ** 24) {
      if (!(name === "reads" && value === 0)) throw new RangeError(`system stand-in: ${name} = ${value} is not an integer in 1..2^24`);
    }
  }
  const m = new Module(`system_stand_in_p${perstCycles}_g${retryGapCycles}_r${reads}${speedUp ? "_s" : ""}`);
  m.parameters({ perstCycles, retryGapCycles, reads, speedUp: speedUp ? 1 : 0 });

  const perst_n = m.output(1);
  const user_lnk_up = m.input(1);
  const pl_link_gen2_cap = m.input(1);
  const pl_sel_lnk_rate = m.input(1);
  const pl_directed_change_done = m.input(1);
  const pl_directed_link_change = m.output(2);
  const pl_directed_link_speed = m.output(1);

  const s_axis_tx_tdata = m.output(64);
  const s_axis_tx_tkeep = m.output(8);
  const s_axis_tx_tlast = m.output(1);
  const s_axis_tx_tvalid = m.output(1);
  const s_axis_tx_tuser = m.output(4);
  const s_axis_tx_tready = m.input(1);
  const m_axis_rx_tdata = m.input(64);
  const m_axis_rx_tlast = m.input(1);
  const m_axis_rx_tvalid = m.input(1);
  const m_axis_rx_tready = m.output(1);
  const rx_np_ok = m.output(1);

  /** FSM state code (index in STAND_IN_STATES). */
  const state = m.output(4);
  /** Vendor ID (low half) and Device ID (high half) as read. */
  const vendor_device = m.output(32);
  const crs_retries = m.output(16);
  /** MRd answered, and the last CAP DW read. */
  const reads_done = m.output(24);
  const cap_low = m.output(32);
  const done = m.output(1);

  m.comb(m_axis_rx_tready, 1);
  m.comb(rx_np_ok, 1);
  m.comb(s_axis_tx_tuser, 0);

  // ---- receive: one completion at a time; status from beat 0, the data DW from beat 1 ----
  const rx_first = m.signal(1, { reset: 1 });
  const rx_status = m.signal(3);
  const rx_data = m.signal(32);
  const rx_done = m.signal(1);
  m.If(m_axis_rx_tvalid, () => {
    m.sync(rx_first, m_axis_rx_tlast);
    m.If(rx_first, () => m.sync(rx_status, m_axis_rx_tdata.bits(47, 45))).Else(() => m.sync(rx_data, m_axis_rx_tdata.bits(63, 32)));
  });
  m.sync(rx_done, m_axis_rx_tvalid.and(m_axis_rx_tlast));
  // Config and memory read data arrive byte-swapped in the DW (facts digest §0.2).
  const rx_value = cat(rx_data.bits(7, 0), rx_data.bits(15, 8), rx_data.bits(23, 16), rx_data.bits(31, 24));

  // ---- the request of each op: header DWs 0..2 and the data DW ----
  const op = m.signal(2);
  const hdr0 = m.signal(32);
  const hdr1 = m.signal(32);
  const hdr2 = m.signal(32);
  const payload = m.signal(32);
  const has_payload = m.signal(1);
  m.Switch(op, (s) => {
    s.Case(OP_PROBE, () => {
      m.comb(hdr0, 0x0400_0001); // CfgRd0, length 1
      m.comb(hdr1, 0x0000_000f);
      m.comb(hdr2, 0x0100_0000); // bus 1, device 0, function 0, register 0x00
    });
    s.Case(OP_BAR, () => {
      m.comb(hdr0, 0x4400_0001); // CfgWr0
      m.comb(hdr1, 0x0000_010f);
      m.comb(hdr2, 0x0100_0010); // register 0x10
      m.comb(payload, 0x0000_00e0); // 0xE000_0000, bytes in wire order
      m.comb(has_payload, 1);
    });
    s.Case(OP_COMMAND, () => {
      m.comb(hdr0, 0x4400_0001);
      m.comb(hdr1, 0x0000_020f);
      m.comb(hdr2, 0x0100_0004); // register 0x04
      m.comb(payload, 0x0600_0000); // Memory Space + Bus Master
      m.comb(has_payload, 1);
    });
    s.Case(OP_READ, () => {
      m.comb(hdr0, 0x0000_0001); // MRd32, length 1
      m.comb(hdr1, 0x0000_030f);
      m.comb(hdr2, STAND_IN_BAR0);
    });
  });

  const count = m.signal(24, { resetless: true });
  const ctl = m.fsm([...STAND_IN_STATES]);
  ctl.body({
    PERST: () => {
      m.sync(count, count.addWrap(1));
      m.If(count.eq(perstCycles - 1), () => {
        m.sync(perst_n, 1);
        ctl.next("LINK_WAIT");
      });
    },
    LINK_WAIT: () => {
      m.If(user_lnk_up, () => {
        m.sync(op, OP_PROBE);
        m.If(pl_link_gen2_cap.and(pl_sel_lnk_rate.not()).and(speedUp ? 1 : 0), () => {
          m.sync(pl_directed_link_change, 0b10);
          m.sync(pl_directed_link_speed, 1);
          ctl.next("SPEED");
        }).Else(() => ctl.next("ISSUE"));
      });
    },
    SPEED: () => {
      m.If(pl_directed_change_done, () => {
        m.sync(pl_directed_link_change, 0);
        ctl.next("ISSUE");
      });
    },
    ISSUE: () => {
      m.sync(s_axis_tx_tvalid, 1);
      m.sync(s_axis_tx_tdata, cat(hdr1, hdr0));
      m.sync(s_axis_tx_tkeep, 0xff);
      m.sync(s_axis_tx_tlast, 0);
      ctl.next("BEAT0");
    },
    BEAT0: () => {
      m.If(s_axis_tx_tready, () => {
        m.sync(s_axis_tx_tdata, cat(payload, hdr2));
        m.sync(s_axis_tx_tkeep, cat(has_payload.repeat(4), C(0xf, 4)));
        m.sync(s_axis_tx_tlast, 1);
        ctl.next("BEAT1");
      });
    },
    BEAT1: () => {
      m.If(s_axis_tx_tready, () => {
        m.sync(s_axis_tx_tvalid, 0);
        m.sync(s_axis_tx_tlast, 0);
        ctl.next("AWAIT");
      });
    },
    AWAIT: () => {
      m.If(rx_done, () => {
        m.If(op.eq(OP_PROBE).and(rx_status.eq(0b010)), () => {
          m.sync(crs_retries, crs_retries.addWrap(1));
          m.sync(count, 0);
          ctl.next("GAP");
        }).Elif(op.eq(OP_PROBE), () => {
          m.sync(vendor_device, rx_value);
          m.sync(op, OP_BAR);
          ctl.next("ISSUE");
        }).Elif(op.eq(OP_BAR), () => {
          m.sync(op, OP_COMMAND);
          ctl.next("ISSUE");
        }).Elif(op.eq(OP_COMMAND).and(reads === 0 ? 1 : 0), () => {
          ctl.next("DONE");
        }).Elif(op.eq(OP_COMMAND), () => {
          m.sync(op, OP_READ);
          ctl.next("ISSUE");
        }).Else(() => {
          m.sync(cap_low, rx_value);
          m.sync(reads_done, reads_done.addWrap(1));
          m.If(reads_done.eq(Math.max(reads, 1) - 1), () => ctl.next("DONE")).Else(() => ctl.next("ISSUE"));
        });
      });
    },
    GAP: () => {
      m.sync(count, count.addWrap(1));
      m.If(count.eq(retryGapCycles - 1), () => ctl.next("ISSUE"));
    },
    DONE: () => {},
  });
  m.Switch(ctl.state, (s) => STAND_IN_STATES.forEach((name, index) => s.Case(ctl.stateCode(name).bits_, () => m.comb(state, index))));
  m.comb(done, ctl.is("DONE"));

  return m.exposing({ perst_n, state, vendor_device, crs_retries, reads_done, cap_low, done });
}
