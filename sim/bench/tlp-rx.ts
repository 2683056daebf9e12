// Receive-side line rate: back-to-back 256-byte MWr from the SSD side, beats poked straight onto
// m_axis_rx every cycle (the link model's byte budget is bypassed so the interface is saturated),
// every consumer always ready. Prints the share of offered cycles in which m_axis_rx_tready was high
// (target >= 99 %), for 3DW and 4DW headers, and checks every write came out whole.
//   npx tsx sim/bench/tlp-rx.ts [--engine verilator|js] [--tlps N]
import { parseArgs } from "node:util";
import { defaultTlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { tlpToBeats } from "../pcie/axis-framing.ts";
import { encodeTlp } from "../pcie/codec.ts";
import type { MemRequest } from "../pcie/tlp.ts";
import { BeatDrivenRx, createRxSimulator, emitRxDesign } from "../testbench/tlp-rx-harness.ts";

const PAYLOAD_BYTES = 256;

const { values } = parseArgs({ options: { engine: { type: "string", default: "verilator" }, tlps: { type: "string", default: "2000" } } });
const engine = values.engine;
if (engine !== "verilator" && engine !== "js") throw new Error(`--engine must be verilator or js, got ${engine}`);
const count = Number(values.tlps);
if (!Number.isInteger(count) || count < 1) throw new Error(`--tlps must be a positive integer, got ${values.tlps}`);

const params = { ...defaultTlpLayerParams, maxPayloadBytes: PAYLOAD_BYTES };
const sim = await createRxSimulator(emitRxDesign(params), engine);

for (const addr64 of [false, true]) {
  sim.reset(2);
  const rx = new BeatDrivenRx(sim);
  const data = Uint8Array.from({ length: PAYLOAD_BYTES }, (_, i) => i);
  for (let n = 0; n < count; n++) {
    const base = addr64 ? 0x1_0000_0000n : 0x1000_0000n;
    const write: MemRequest = {
      kind: "MWr", tc: 0, attr: 0, ep: false, td: false, requesterId: 0x0100, tag: 0,
      address: base + BigInt((n % 1024) * 4096), addr64, lengthDw: PAYLOAD_BYTES / 4, firstBe: 0xf, lastBe: 0xf, data,
    };
    rx.queueBeats(tlpToBeats(encodeTlp(write)));
  }
  const beats = rx.pendingBeats;
  const started = performance.now();
  rx.runUntilIdle(beats * 2);
  const seconds = (performance.now() - started) / 1000;
  const written = rx.consumers.memWriteData.packets;
  const whole = written.length === count && written.every((p) => p.length === PAYLOAD_BYTES && p.every((b, i) => b === i));
  const share = rx.takenCycles / rx.offeredCycles;
  console.log(
    `${addr64 ? "4DW" : "3DW"} MWr ${PAYLOAD_BYTES} B x ${count}: ${beats} beats (${beats / count} per TLP), ` +
      `tready high ${(share * 100).toFixed(2)} % of ${rx.offeredCycles} offered cycles (target >= 99 %), ` +
      `payloads ${whole ? "all intact" : "CORRUPT"}, ${engine} ${((rx.cycle / seconds) / 1000).toFixed(0)} kcycles/s`,
  );
  if (!whole) process.exitCode = 1;
}
sim.close();
