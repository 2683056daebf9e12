// The user-side ports of the 7-series root port (names as in facts digest §A.2) as one plain mutable object,
// plus the SSD's PERST# (a board pin the controller drives, which the link model obeys):
// a simulation harness writes the inputs, calls LinkModel.step() once per user_clk rising edge, and reads
// the outputs, which are registered (they change only in step()). tdata is split into 32-bit halves:
// `_lo` = tdata[31:0], `_hi` = tdata[63:32]. Single-bit signals are 0 or 1.

export interface RootPortPorts {
  // Inputs (user -> core).
  s_axis_tx_tdata_lo: number;
  s_axis_tx_tdata_hi: number;
  s_axis_tx_tkeep: number;
  s_axis_tx_tlast: number;
  s_axis_tx_tvalid: number;
  s_axis_tx_tuser: number;
  m_axis_rx_tready: number;
  rx_np_ok: number;
  cfg_mgmt_dwaddr: number;
  cfg_mgmt_di: number;
  cfg_mgmt_byte_en: number;
  cfg_mgmt_wr_en: number;
  cfg_mgmt_rd_en: number;
  cfg_mgmt_wr_readonly: number;
  cfg_mgmt_wr_rw1c_as_rw: number;
  /** The SSD's PERST#, active low: 0 holds the endpoint in reset and the link down. */
  perst_n: number;
  /** 00 none, 01 width, 10 speed, 11 both; held until pl_directed_change_done. */
  pl_directed_link_change: number;
  /** 0 = 2.5 GT/s, 1 = 5 GT/s. */
  pl_directed_link_speed: number;
  /** 00 x1, 01 x2, 10 x4, 11 x8. */
  pl_directed_link_width: number;
  pl_directed_link_auton: number;
  // Outputs (core -> user).
  s_axis_tx_tready: number;
  m_axis_rx_tdata_lo: number;
  m_axis_rx_tdata_hi: number;
  m_axis_rx_tkeep: number;
  m_axis_rx_tlast: number;
  m_axis_rx_tvalid: number;
  m_axis_rx_tuser: number;
  user_lnk_up: number;
  tx_buf_av: number;
  tx_err_drop: number;
  cfg_mgmt_do: number;
  cfg_mgmt_rd_wr_done: number;
  /** Current rate: 0 = 2.5 GT/s, 1 = 5 GT/s (or faster). */
  pl_sel_lnk_rate: number;
  /** Current width: 00 x1, 01 x2, 10 x4, 11 x8 (or wider). */
  pl_sel_lnk_width: number;
  /** Both ends support 5 GT/s (valid once the link has trained). */
  pl_link_gen2_cap: number;
  /** LTSSM state (LtssmState); 0x16 = L0. */
  pl_ltssm_state: number;
  /** One-cycle pulse: the directed change asked for on pl_directed_link_* has finished. */
  pl_directed_change_done: number;
}

/** Ports at reset: every input low except rx_np_ok (tied high in the usual designs) and perst_n (released), every output low. */
export function createRootPortPorts(): RootPortPorts {
  return {
    s_axis_tx_tdata_lo: 0,
    s_axis_tx_tdata_hi: 0,
    s_axis_tx_tkeep: 0,
    s_axis_tx_tlast: 0,
    s_axis_tx_tvalid: 0,
    s_axis_tx_tuser: 0,
    m_axis_rx_tready: 0,
    rx_np_ok: 1,
    cfg_mgmt_dwaddr: 0,
    cfg_mgmt_di: 0,
    cfg_mgmt_byte_en: 0,
    cfg_mgmt_wr_en: 0,
    cfg_mgmt_rd_en: 0,
    cfg_mgmt_wr_readonly: 0,
    cfg_mgmt_wr_rw1c_as_rw: 0,
    perst_n: 1,
    pl_directed_link_change: 0,
    pl_directed_link_speed: 0,
    pl_directed_link_width: 0,
    pl_directed_link_auton: 0,
    s_axis_tx_tready: 0,
    m_axis_rx_tdata_lo: 0,
    m_axis_rx_tdata_hi: 0,
    m_axis_rx_tkeep: 0,
    m_axis_rx_tlast: 0,
    m_axis_rx_tvalid: 0,
    m_axis_rx_tuser: 0,
    user_lnk_up: 0,
    tx_buf_av: 0,
    tx_err_drop: 0,
    cfg_mgmt_do: 0,
    cfg_mgmt_rd_wr_done: 0,
    pl_sel_lnk_rate: 0,
    pl_sel_lnk_width: 0,
    pl_link_gen2_cap: 0,
    pl_ltssm_state: 0,
    pl_directed_change_done: 0,
  };
}
