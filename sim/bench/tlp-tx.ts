// Line rate of the TLP transmit side (tlp_tx, emitted Verilog): back-to-back 256-byte MWr and
// 256-byte CplD with s_axis_tx_tready always high, i.e. the interface's own capacity, not the
// link's. A 256-byte TLP with a 3DW header is 12 + 256 bytes = 34 beats; the figure is the ideal
// beat count over the cycles from the first beat to the last. Target: >= 99 %.
//   npx tsx sim/bench/tlp-tx.ts [--engine js|verilator] [--tlps N]
import { parseArgs } from "node:util";
import { defaultTlpLayerParams } from "../../rtl-src/tlp/tlp-interfaces.ts";
import { decodeTlp } from "../pcie/codec.ts";
import type { Completion, MemRequest } from "../pcie/tlp.ts";
import { createTlpTxSimulator, TxPortCapture, TxSources } from "../testbench/tlp-tx-driver.ts";

const PAYLOAD_BYTES = 256;
const BEATS_PER_TLP = Math.ceil((12 + PAYLOAD_BYTES) / 8);
const TARGET = 0.99;

const { values } = parseArgs({ options: { engine: { type: "string", default: "js" }, tlps: { type: "string", default: "2000" } } });
const tlpCount = Number(values.tlps);
if (!Number.isInteger(tlpCount) || tlpCount < 2) throw new Error(`--tlps ${values.tlps} is not an integer >= 2`);

const params = { requesterId: defaultTlpLayerParams.requesterId, requestSources: 2, completionRun: 4 };
const sim = await createTlpTxSimulator(params, values.engine);

function payload(seed: number): Uint8Array {
  return Uint8Array.from({ length: PAYLOAD_BYTES }, (_, i) => (seed * 31 + i) & 0xff);
}

function write(i: number): MemRequest {
  return {
    kind: "MWr", tc: 0, attr: 0, ep: false, td: false, requesterId: params.requesterId, tag: 0,
    address: BigInt(0x8000_0000 + (i % 16) * PAYLOAD_BYTES), addr64: false, lengthDw: PAYLOAD_BYTES / 4, firstBe: 0xf, lastBe: 0xf, data: payload(i),
  };
}

function completion(i: number): Completion {
  return {
    kind: "CplD", tc: 0, attr: 0, ep: false, td: false, completerId: params.requesterId, status: 0, bcm: false,
    byteCount: PAYLOAD_BYTES, requesterId: 0x0100, tag: i & 0xff, lowerAddress: 0, lengthDw: PAYLOAD_BYTES / 4, data: payload(i),
  };
}

interface Scenario {
  name: string;
  writes: number;
  completions: number;
}

function measure({ name, writes, completions }: Scenario): number {
  sim.reset(2);
  const sources = new TxSources(sim, params.requestSources);
  for (let i = 0; i < writes; i++) sources.request(i % params.requestSources, write(i));
  for (let i = 0; i < completions; i++) sources.complete(completion(i));
  const port = new TxPortCapture(sim);
  const started = performance.now();
  let quiet = 0;
  for (let n = 0; quiet < 4; n++) {
    if (n > (writes + completions) * BEATS_PER_TLP * 2 + 100) throw new Error(`${name}: TLPs still pending after ${n} cycles`);
    const beats = port.beats;
    sources.beforeEdge();
    port.beforeEdge(true);
    sim.step();
    quiet = sources.idle && port.beats === beats ? quiet + 1 : 0;
  }
  const seconds = (performance.now() - started) / 1000;
  if (port.errors.length > 0) throw new Error(`${name}: framing errors: ${port.errors.slice(0, 3).join("; ")}`);
  const kinds = port.tlps.map((bytes) => decodeTlp(bytes).kind);
  if (kinds.length !== writes + completions) throw new Error(`${name}: ${kinds.length} TLPs came out, ${writes + completions} were sent`);
  const cycles = port.lastBeatCycle - port.firstBeatCycle + 1;
  const ideal = (writes + completions) * BEATS_PER_TLP;
  const fraction = ideal / cycles;
  console.log(
    `${name.padEnd(24)} ${String(writes + completions).padStart(6)} TLPs  ${String(cycles).padStart(8)} cycles  ` +
      `${String(port.beats).padStart(8)} beats  ${(100 * fraction).toFixed(2).padStart(6)} % of ${BEATS_PER_TLP} beats/TLP  ` +
      `(${Math.round(cycles / seconds).toLocaleString("en")} cycles/s on ${sim.engine})`,
  );
  return fraction;
}

console.log(`tlp_tx line rate at s_axis_tx, tready always high, ${PAYLOAD_BYTES}-byte payloads (target >= ${TARGET * 100} %)`);
const scenarios: Scenario[] = [
  { name: "MWr 256 B", writes: tlpCount, completions: 0 },
  { name: "CplD 256 B", writes: 0, completions: tlpCount },
  { name: "MWr + CplD interleaved", writes: tlpCount / 2, completions: tlpCount / 2 },
];
const worst = Math.min(...scenarios.map(measure));
sim.close();
console.log(`worst: ${(100 * worst).toFixed(2)} % ${worst >= TARGET ? "(meets" : "(MISSES"} the ${TARGET * 100} % target)`);
process.exitCode = worst >= TARGET ? 0 : 1;
