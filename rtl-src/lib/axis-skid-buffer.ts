// A register slice for an AXI4-Stream: full throughput, every output driven by a flip-flop, and
// no combinational path from the output side back to the input side. It holds one beat in a
// "skid" register when the consumer stops while a beat is already on the way.
import { type AxiStreamOptions, Module, axiStream, cat } from "../../hdl/index.ts";
import { streamPayloadFields } from "./stream-payload.ts";

/**
 * AXI4-Stream register slice: full throughput, every output a flip-flop, one skid register for the
 * beat in flight when the consumer stops.
 */
export function axisSkidBuffer<const O extends AxiStreamOptions>(options: O) {
  const def = axiStream(options);
  const m = new Module(`axis_skid_buffer_${def.name}`);
  m.parameters({ dataWidth: options.dataWidth, userWidth: options.userWidth ?? 0, keep: options.keep ?? true, last: options.last ?? true });
  const s_axis = m.port(def, "slave");
  const m_axis = m.port(def, "master");

  const fields = streamPayloadFields(def);
  const payloadWidth = fields.reduce((sum, f) => sum + def.fields[f].shape.width, 0);
  const input_payload = cat(...fields.map((f) => s_axis.signals[f]));

  const out_payload = m.signal(payloadWidth, { resetless: true });
  const out_valid = m.signal(1);
  const skid_payload = m.signal(payloadWidth, { resetless: true });
  const skid_valid = m.signal(1);
  const in_ready = m.signal(1);

  const input_fire = s_axis.signals.tvalid.and(in_ready);
  const output_free = m_axis.signals.tready.or(out_valid.not());
  const skid_valid_next = output_free.not().and(skid_valid.or(input_fire));

  m.If(output_free, () => {
    m.If(skid_valid, () => {
      m.sync(out_payload, skid_payload);
      m.sync(out_valid, 1);
    }).Else(() => {
      m.sync(out_payload, input_payload);
      m.sync(out_valid, input_fire);
    });
  }).Elif(input_fire, () => {
    m.sync(skid_payload, input_payload);
  });
  m.sync(skid_valid, skid_valid_next);
  m.sync(in_ready, skid_valid_next.not());
  // The skid register fills only behind a full output register, and input stops while it is full.
  m.If(skid_valid, () => {
    m.assert(out_valid);
    m.assert(in_ready.not());
  });

  m.comb(s_axis.signals.tready, in_ready);
  m.comb(m_axis.signals.tvalid, out_valid);
  let lsb = payloadWidth;
  for (const field of fields) {
    const width = def.fields[field].shape.width;
    lsb -= width;
    m.comb(m_axis.signals[field], out_payload.bits(lsb + width - 1, lsb));
  }
  return m.exposing({ s_axis, m_axis });
}
