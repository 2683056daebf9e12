// The controller's core for a RAID 0 array of SSDs behind a PCIe switch (issue 14): nvme_array_core
// (one PCIe front, one nvme_lane per SSD slot) with user_port_striper (rtl-src/user/user-port-striper.ts)
// in front of its lanes' user ports. Its user ports carry the one-SSD core's names (user_command_*,
// user_write_data_*, user_read_data_*, user_completion_*), so whatever drives nvme_host_core drives
// this unchanged; the array's PCIe ports, status (status_* and status_ssd<i>_*), page port and each
// lane's erase port (user<i>_erase_*) pass through, and the striper's array_* outputs are promoted.
//
// A separate module rather than an option of nvme_array_core: the array core stays the "each drive on
// its own" core (per-lane user ports), this one is the "one big drive" core, and neither carries the
// other's ports.
//
// What the striper is told of each lane, all registers (one stage from the array core's status):
//  - laneN_ready: the core is READY and the lane's state is READY (a lane that failed bring-up, or a
//    slot with no SSD, is a failed member: every command touching it completes MEMBER_FAILED).
//  - laneN_lba_shift / laneN_capacity_blocks: a READY lane's own (log2 of its LBA size, 0 when that is
//    not 512..4096 bytes, which the striper refuses as NOT_READY); a lane not READY reports the
//    lowest READY lane's shift and an all-ones capacity, so that a missing member leaves the array's
//    geometry to the members present (the striper's minimum) and turns commands into MEMBER_FAILED
//    rather than NOT_READY or BAD_REQUEST. While no lane is READY every lane reports shift 0:
//    commands complete NOT_READY.
import { C, Module, type Signal, type Value, mux } from "../../hdl/index.ts";
import { striperLaneTagBits, userPortStriper } from "../user/user-port-striper.ts";
import { LANE_STATES, type NvmeArrayCoreParams, hardwareArrayCoreParams, nvmeArrayCore, simulationArrayCoreParams } from "./nvme-array-core.ts";

export interface NvmeStripedCoreParams extends NvmeArrayCoreParams {
  /** The RAID 0 striper: stripe size (a power of two, 4 KiB..1 MiB) and sub-commands in flight over all lanes (1..64). */
  striper: { stripeBytes: number; maxOutstanding: number };
}

/** 128 KiB stripes: a 128 KiB command lands whole on one SSD, so QD32 sequential keeps every SSD busy. */
const DEFAULT_STRIPE_BYTES = 128 * 1024;
/** The striper's most: enough sub-commands for every lane's slots at 128 KiB pieces. */
const DEFAULT_MAX_OUTSTANDING = 64;

/** Four lanes with the hardware's waits. */
export const hardwareStripedCoreParams: NvmeStripedCoreParams = {
  ...hardwareArrayCoreParams,
  striper: { stripeBytes: DEFAULT_STRIPE_BYTES, maxOutstanding: DEFAULT_MAX_OUTSTANDING },
};
/** The same with the simulation timings. */
export const simulationStripedCoreParams: NvmeStripedCoreParams = {
  ...simulationArrayCoreParams,
  striper: { stripeBytes: DEFAULT_STRIPE_BYTES, maxOutstanding: DEFAULT_MAX_OUTSTANDING },
};

const READY_CODE = LANE_STATES.indexOf("READY");
const LBA_SHIFT_BITS = 4;
/** The LBA sizes the striper takes: 2^9..2^12 bytes. */
const LBA_SHIFTS = [9, 10, 11, 12] as const;

/** The lane parameters the striper needs: the array core's, with the lanes' tag width the striper's. */
function laneParams(p: NvmeStripedCoreParams): NvmeArrayCoreParams {
  const laneTagBits = striperLaneTagBits({ lanes: p.array.maxSsds, stripeBytes: p.striper.stripeBytes, maxOutstanding: p.striper.maxOutstanding, tagBits: p.io.tagBits });
  return { ...p, io: { ...p.io, tagBits: laneTagBits } };
}

/**
 * The NVMe host controller's core for a RAID 0 array of `array.maxSsds` (1, 2 or 4) SSDs behind a PCIe
 * switch: one set of user ports, the array's status per SSD.
 */
export function nvmeStripedCore(p: NvmeStripedCoreParams = hardwareStripedCoreParams) {
  const N = p.array.maxSsds;
  if (![1, 2, 4].includes(N)) throw new RangeError(`nvme_striped_core: array.maxSsds ${N} is not 1, 2 or 4`);
  const { stripeBytes, maxOutstanding } = p.striper;
  const striperModule = userPortStriper({ lanes: N, stripeBytes, maxOutstanding, tagBits: p.io.tagBits });
  const arrayModule = nvmeArrayCore(laneParams(p));
  const m = new Module(`nvme_striped_core_${arrayModule.name.replace(/^nvme_array_core_/, "")}_st${stripeBytes / 1024}k_o${maxOutstanding}_t${p.io.tagBits}`);
  m.parameters({ maxSsds: N, stripeBytes, maxOutstanding, tagBits: p.io.tagBits });
  const array = m.instance(arrayModule, { name: "array" });
  const striper = m.instance(striperModule, { name: "striper" });
  const a = array.ports;
  const st = striper.ports;

  // ---- the array core's PCIe side, controls, status and pages, under their own names ----
  const pcie = {
    s_axis_tx: m.promote(a.s_axis_tx),
    m_axis_rx: m.promote(a.m_axis_rx),
    rx_np_ok: m.promote(a.rx_np_ok),
    cfg_mgmt: m.promote(a.cfg_mgmt, { prefix: "cfg_mgmt" }),
    user_lnk_up: m.promote(a.user_lnk_up),
    pl_sel_lnk_rate: m.promote(a.pl_sel_lnk_rate),
    pl_sel_lnk_width: m.promote(a.pl_sel_lnk_width),
    pl_link_gen2_cap: m.promote(a.pl_link_gen2_cap),
    pl_directed_change_done: m.promote(a.pl_directed_change_done),
    pl_ltssm_state: m.promote(a.pl_ltssm_state),
    pl_directed_link_change: m.promote(a.pl_directed_link_change),
    pl_directed_link_speed: m.promote(a.pl_directed_link_speed),
    pl_directed_link_width: m.promote(a.pl_directed_link_width),
    pl_directed_link_auton: m.promote(a.pl_directed_link_auton),
    perst_n: m.promote(a.perst_n),
  };
  const controls = {
    restart: m.promote(a.restart),
    shutdown: m.promote(a.shutdown),
    smart_refresh: m.promote(a.smart_refresh),
    error_log_refresh: m.promote(a.error_log_refresh),
  };
  const status: Record<string, Signal> = {};
  for (const [name, signal] of Object.entries(a.status)) status[name] = m.promote(signal, { name });
  const ssdStatus = a.ssdStatus.map((fields, i) => Object.fromEntries(Object.entries(fields).map(([field, signal]) => [field, m.promote(signal, { name: `status_ssd${i}_${field}` })])) as Record<string, Signal>);
  const page_lane = m.promote(a.page_lane);
  const page_address = m.promote(a.page_address);
  const page_data = m.promote(a.page_data);
  const user_erase = a.user_erase.map((port, i) => m.promote(port, { prefix: `user${i}_erase` }));

  // ---- the user ports: the striper's, under the one-SSD core's names ----
  const user_command = m.promote(st.user_command, { prefix: "user_command" });
  const user_write_data = m.promote(st.user_write_data, { prefix: "user_write_data" });
  const user_read_data = m.promote(st.user_read_data, { prefix: "user_read_data" });
  const user_completion = m.promote(st.user_completion, { prefix: "user_completion" });
  const arrayStatus = {
    array_capacity_blocks: m.promote(st.array_capacity_blocks, { name: "array_capacity_blocks" }),
    array_lba_shift: m.promote(st.array_lba_shift, { name: "array_lba_shift" }),
    array_config_ok: m.promote(st.array_config_ok, { name: "array_config_ok" }),
    array_in_flight: m.promote(st.array_in_flight, { name: "array_in_flight" }),
  };
  for (let i = 0; i < N; i++) {
    m.connect(st.lane_command[i], a.user_command[i]);
    m.connect(st.lane_write_data[i], a.user_write_data[i]);
    m.connect(a.user_read_data[i], st.lane_read_data[i]);
    m.connect(a.user_completion[i], st.lane_completion[i]);
  }

  // ---- what the striper knows of each lane (registers; see the header) ----
  const coreReady = a.status.status_ready;
  const lane_ready = ssdStatus.map((_, i) => m.signal(1, { name: `lane${i}_ready` }));
  const own_shift = ssdStatus.map((_, i) => m.signal(LBA_SHIFT_BITS, { name: `lane${i}_own_shift`, resetless: true }));
  ssdStatus.forEach((fields, i) => {
    m.sync(lane_ready[i], coreReady.and(fields.state.eq(READY_CODE)));
    // lba_bytes is a power of two: its bit k set means shift k (0 for any size outside 512..4096).
    let shift: Value = C(0, LBA_SHIFT_BITS);
    for (const k of LBA_SHIFTS) shift = mux(fields.lba_bytes.bit(k), C(k, LBA_SHIFT_BITS), shift);
    m.sync(own_shift[i], shift);
  });
  // The lowest READY lane's shift, for the lanes that are not (0 while none is).
  let common: Value = C(0, LBA_SHIFT_BITS);
  for (let i = N - 1; i >= 0; i--) common = mux(lane_ready[i], own_shift[i], common);
  const common_shift = m.signal(LBA_SHIFT_BITS, { name: "common_shift", resetless: true });
  m.sync(common_shift, common);
  ssdStatus.forEach((fields, i) => {
    const lane_shift = m.signal(LBA_SHIFT_BITS, { name: `lane${i}_shift`, resetless: true });
    const lane_capacity = m.signal(64, { name: `lane${i}_capacity`, resetless: true });
    m.sync(lane_shift, mux(lane_ready[i], own_shift[i], common_shift));
    m.sync(lane_capacity, mux(lane_ready[i], fields.capacity_blocks.zext(64), C((1n << 64n) - 1n, 64)));
    m.comb(st.lane_ready[i], lane_ready[i]);
    m.comb(st.lane_lba_shift[i], lane_shift);
    m.comb(st.lane_capacity_blocks[i], lane_capacity);
  });

  return m.exposing({ ...pcie, ...controls, status, ssdStatus, page_lane, page_address, page_data, user_erase, user_command, user_write_data, user_read_data, user_completion, ...arrayStatus });
}
