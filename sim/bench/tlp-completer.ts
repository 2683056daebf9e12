// Benchmark of the completer (rtl-src/tlp/tlp-completer.ts) at its own output: back-to-back CplDs
// answering a stream of memory reads, every output compared with the reference splitter. The
// completer hands the arbiter a header and a payload stream on separate channels, so line rate
// here means one payload beat every cycle with the next header already waiting: the packer then
// spends 2 header beats + 32 payload beats per 256-byte CplD, the 34-beat ideal. The second part
// measures that at the packer: tlp_rx + tlp_completer + tlp_tx behind the link model, peer reading
// 256-byte blocks, beats on s_axis_tx per cycle that the core held tready high.
//   npx tsx sim/bench/tlp-completer.ts [--engine js|verilator] [--reads N]
import { parseArgs } from "node:util";
import { type EngineName, resolveEngine } from "../engine/index.ts";
import type { MemRequest } from "../pcie/tlp.ts";
import { seededRandom } from "../random.ts";
import { CompleterDriver, NO_BACK_PRESSURE, type ReadRequest, buildCompleterSimulator, readOfBytes } from "../testbench/tlp-completer-harness.ts";
import { buildCompleterSystemSimulator, runCompleterSystem } from "../testbench/tlp-completer-system.ts";

const { values } = parseArgs({ options: { engine: { type: "string" }, reads: { type: "string", default: "2000" } } });
const engine = resolveEngine(values.engine) as EngineName;
const readCount = Number(values.reads);
if (!Number.isInteger(readCount) || readCount < 1) throw new RangeError(`--reads ${values.reads} is not a positive integer`);

const params = { maxPayloadBytes: 256, readCompletionBoundary: 64 };
const ids = { requesterId: 0x0100, tag: 0, tc: 0, attr: 0 };

function reads(bytes: number, offset: number): ReadRequest[] {
  return Array.from({ length: readCount }, (_, i) => readOfBytes(0x8000_0000n + BigInt(i) * 0x1000n, offset, bytes, { ...ids, tag: i & 0xff }));
}

const sim = await buildCompleterSimulator(params, engine);
sim.reset(2);
const driver = new CompleterDriver(sim);
console.log(`tlp_completer MPS ${params.maxPayloadBytes} RCB ${params.readCompletionBoundary}, ${engine} engine, ${readCount} reads per case`);

const cases: { name: string; bytes: number; offset: number; sourceLatency: number }[] = [
  { name: "256 B reads, aligned (1 CplD each)", bytes: 256, offset: 0, sourceLatency: 2 },
  { name: "256 B reads, aligned, source latency 16", bytes: 256, offset: 0, sourceLatency: 16 },
  { name: "4 KiB reads (16 CplDs each)", bytes: 4096, offset: 0, sourceLatency: 2 },
  { name: "64 B reads, aligned (8 beats each)", bytes: 64, offset: 0, sourceLatency: 2 },
  { name: "250 B reads at offset 3 (2 CplDs each)", bytes: 250, offset: 3, sourceLatency: 2 },
];
for (const c of cases) {
  const started = performance.now();
  const result = driver.run(reads(c.bytes, c.offset), { params, payload: true, backPressure: { ...NO_BACK_PRESSURE, sourceLatency: c.sourceLatency } });
  const seconds = (performance.now() - started) / 1000;
  if (result.mismatches.length > 0) throw new Error(`${c.name}: outputs differ from the reference:\n${result.mismatches.join("\n")}`);
  const beatRate = result.payloadBeats / result.cycles;
  console.log(
    `${c.name.padEnd(42)} ${result.completions} CplDs, ${result.payloadBeats} payload beats in ${result.cycles} cycles: ` +
      `payload ${(100 * beatRate).toFixed(2)} % of one beat per cycle (${(100 * result.busyCycles / result.cycles).toFixed(2)} % of cycles move a header or a beat); ` +
      `${(result.cycles / seconds / 1e6).toFixed(2)} M cycles/s simulated`,
  );
}
sim.close();

const systemParams = { ...params, tags: 32, requesterId: 0x0000 };
const system = await buildCompleterSystemSimulator(systemParams, engine);
const systemReads: MemRequest[] = reads(256, 0).slice(0, Math.min(readCount, 1000)).map((r) => ({ kind: "MRd", ep: false, td: false, addr64: false, ...r }));
const started = performance.now();
const run = runCompleterSystem(system, systemReads, { params: systemParams, random: seededRandom(1), sourceValid: 1, txBuffers: 32 });
const seconds = (performance.now() - started) / 1000;
const ideal = 34 * run.expected.length;
console.log(
  `at the packer (tlp_rx + tlp_completer + tlp_tx, link model): ${run.expected.length} CplDs of 256 B, ${run.txBeats} beats on s_axis_tx ` +
    `(ideal ${ideal}) in ${run.txReadyCycles} cycles with tready high: ${(100 * ideal / run.txReadyCycles).toFixed(2)} % of the 34-beat ideal; ` +
    `${(run.cycles / seconds / 1e6).toFixed(2)} M cycles/s simulated`,
);
system.close();
