// Shifts a 64-bit AXI4-Stream down by one 32-bit word: the first DW of every packet is dropped
// and each output beat is {next beat's low DW, this beat's high DW}. This is the payload of a
// TLP with a 3DW header on the 7-series interface (payload starts in the high DW of the beat
// that carries H2). tkeep is DW-granular (0xFF, or 0x0F on the last beat). A packet whose only
// DW is the dropped one produces no output. A skid buffer registers the outputs, so no
// combinational path runs from m_axis to s_axis.
import { C, Module, axiStream, cat } from "../../hdl/index.ts";
import { axisSkidBuffer } from "./axis-skid-buffer.ts";
import { KEEP_BOTH_DW, KEEP_LOW_DW } from "./stream-payload.ts";


/**
 * Shifts a 64-bit AXI4-Stream down by one DW, dropping the first DW of every packet: the payload
 * of a TLP with a 3DW header as the 7-series interface delivers it. Outputs are registered.
 */
export function axisRealignDw() {
  const def = axiStream({ dataWidth: 64 });
  const m = new Module("axis_realign_dw64");
  m.parameters({ dataWidth: 64 });
  const s_axis = m.port(def, "slave");
  const m_axis = m.port(def, "master");
  const output = m.instance(axisSkidBuffer({ dataWidth: 64 }), { name: "output_slice" });
  const to_output = output.ports.s_axis;
  m.connect(output.ports.m_axis, m_axis);

  const held = m.signal(32, { resetless: true });
  const holding = m.signal(1);
  const flushing = m.signal(1);

  const input = s_axis.signals;
  const input_high = input.tdata.bits(63, 32);
  const input_low = input.tdata.bits(31, 0);
  const input_has_high = input.tkeep.eq(KEEP_BOTH_DW);
  const out_ready = to_output.signals.tready;

  const in_ready = m.signal(1);
  const out_valid = m.signal(1);
  const out_last = m.signal(1);
  const out_keep = m.signal(8);
  const out_data = m.signal(64);
  const input_fire = input.tvalid.and(in_ready);
  const output_fire = out_valid.and(out_ready);

  m.If(flushing, () => {
    m.comb(out_valid, 1);
    m.comb(out_data, cat(C(0, 32), held));
    m.comb(out_keep, KEEP_LOW_DW);
    m.comb(out_last, 1);
  }).Elif(holding, () => {
    m.comb(in_ready, out_ready);
    m.comb(out_valid, input.tvalid);
    m.comb(out_data, cat(input_low, held));
    m.comb(out_keep, KEEP_BOTH_DW);
    m.comb(out_last, input.tlast.and(input_has_high.not()));
  }).Else(() => {
    m.comb(in_ready, 1);
  });

  m.If(flushing, () => {
    m.If(output_fire, () => {
      m.sync(flushing, 0);
      m.sync(holding, 0);
    });
  }).Elif(input_fire, () => {
    m.sync(held, input_high);
    m.If(input.tlast, () => {
      // The packet's last DW is the high one: it still has to go out, alone, in one more beat.
      m.sync(flushing, input_has_high);
      m.sync(holding, 0);
    }).Else(() => {
      m.sync(holding, 1);
    });
  });

  m.comb(input.tready, in_ready);
  m.comb(to_output.signals.tvalid, out_valid);
  m.comb(to_output.signals.tdata, out_data);
  m.comb(to_output.signals.tkeep, out_keep);
  m.comb(to_output.signals.tlast, out_last);
  return m.exposing({ s_axis, m_axis });
}
