// Benchmark of the PCIe models alone (sim/pcie/): (a) how much simulated payload per wall second moves
// through the 7-series AXI4-Stream framing and the link + hard-IP model, so they never limit a full-system
// simulation (target >= 100 MB/s); (b) the model's throughput ceiling for Gen2 x4 at MPS 128/256/512 next
// to the arithmetic of the facts digest §F.
// Run: npx tsx sim/bench/link-throughput.ts [--cycles N] [--json]

import { tlpToBeats } from "../pcie/axis-framing.ts";
import { encodeTlp } from "../pcie/codec.ts";
import { LinkModel } from "../pcie/link-model.ts";
import { analyticPayloadCeiling, type LinkParamsInput } from "../pcie/link-params.ts";
import { runPostedWriteStream, runReadCompletionStream } from "../testbench/link-workloads.ts";
import type { Completion, MemRequest, PcieEndpoint, Tlp } from "../pcie/tlp.ts";

const plain = { tc: 0, attr: 0, ep: false, td: false };

interface SpeedResult {
  workload: string;
  simulatedCycles: number;
  payloadBytes: number;
  wallSeconds: number;
  cpuSeconds: number;
  wallMBps: number;
  cpuMBps: number;
}

/** Far side that swallows downstream TLPs and, if asked, supplies an endless stream of upstream CplDs. */
class BenchEndpoint implements PcieEndpoint {
  payloadDown = 0;
  constructor(private readonly upstream: Completion | undefined) {}
  receive(tlp: Tlp): void {
    this.payloadDown += tlp.data?.length ?? 0;
  }
  nextUpstream(): Tlp | undefined {
    return this.upstream;
  }
}

/**
 * The controller's side as a full-system simulation sees it: beats poked into s_axis_tx every cycle the
 * core is ready, m_axis_rx taken every cycle. Only the models run; the driver is a few array reads.
 */
function beatLevelRun(workload: string, cycles: number, mps: number, down: boolean, up: boolean): SpeedResult {
  const completion: Completion | undefined = up
    ? { kind: "CplD", ...plain, completerId: 0x0100, status: 0, bcm: false, byteCount: mps, requesterId: 0, tag: 0, lowerAddress: 0, lengthDw: mps / 4, data: new Uint8Array(mps) }
    : undefined;
  const endpoint = new BenchEndpoint(completion);
  const params: LinkParamsInput = { mps, trainingCycles: 100 };
  const link = new LinkModel(endpoint, params);
  const write: MemRequest = { kind: "MWr", ...plain, requesterId: 0, tag: 0, address: 0x1000_0000n, addr64: false, lengthDw: mps / 4, firstBe: 0xf, lastBe: 0xf, data: new Uint8Array(mps) };
  const beats = tlpToBeats(encodeTlp(write));
  const lo = beats.map((b) => b.lo);
  const hi = beats.map((b) => b.hi);
  const keep = beats.map((b) => b.keep);
  const last = beats.map((b) => (b.last ? 1 : 0));
  const ports = link.ports;
  ports.m_axis_rx_tready = 1;
  let beat = 0;
  let upPayload = 0;
  const drive = (n: number) => {
    for (let c = 0; c < n; c++) {
      ports.s_axis_tx_tvalid = down ? ports.user_lnk_up : 0;
      ports.s_axis_tx_tdata_lo = lo[beat];
      ports.s_axis_tx_tdata_hi = hi[beat];
      ports.s_axis_tx_tkeep = keep[beat];
      ports.s_axis_tx_tlast = last[beat];
      const taken = ports.s_axis_tx_tvalid & ports.s_axis_tx_tready;
      link.step();
      if (taken && ++beat === lo.length) beat = 0;
    }
  };
  drive(Math.min(cycles, 200_000)); // warm up the JIT
  const downBefore = endpoint.payloadDown;
  const upBefore = link.counters.deliveredUpPayload;
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  drive(cycles);
  const wallSeconds = (performance.now() - wallBefore) / 1e3;
  const cpu = process.cpuUsage(cpuBefore);
  upPayload = link.counters.deliveredUpPayload - upBefore;
  const payloadBytes = endpoint.payloadDown - downBefore + upPayload;
  return speed(workload, cycles, payloadBytes, wallSeconds, (cpu.user + cpu.system) / 1e6);
}

/** The TypeScript host's path: TlpPort encodes, frames, deframes and decodes every TLP as well. */
function tlpPortRun(workload: string, run: () => { payloadBytes: number; totalCycles: number }): SpeedResult {
  run(); // warm up with the same workload
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = run();
  const wallSeconds = (performance.now() - wallBefore) / 1e3;
  const cpu = process.cpuUsage(cpuBefore);
  return speed(workload, result.totalCycles, result.payloadBytes, wallSeconds, (cpu.user + cpu.system) / 1e6);
}

function speed(workload: string, simulatedCycles: number, payloadBytes: number, wallSeconds: number, cpuSeconds: number): SpeedResult {
  return {
    workload,
    simulatedCycles,
    payloadBytes,
    wallSeconds,
    cpuSeconds,
    wallMBps: payloadBytes / wallSeconds / 1e6,
    cpuMBps: payloadBytes / cpuSeconds / 1e6,
  };
}

interface CeilingRow {
  mps: number;
  direction: string;
  modelGBps: number;
  digestGBps: number;
  digestWithSkpGBps: number;
  differencePercent: number;
}

function ceilings(tlps: number): CeilingRow[] {
  const rows: CeilingRow[] = [];
  for (const mps of [128, 256, 512]) {
    const digest = analyticPayloadCeiling(2, 4, mps, 12);
    const withSkp = analyticPayloadCeiling(2, 4, mps, 12, 1180);
    const writes = runPostedWriteStream({ mps }, mps, tlps);
    const reads = runReadCompletionStream({ mps }, 512, Math.round((tlps * mps) / 512));
    for (const [direction, result] of [["MWr down", writes], ["CplD up", reads]] as const) {
      rows.push({
        mps,
        direction,
        modelGBps: result.bytesPerSecond / 1e9,
        digestGBps: digest / 1e9,
        digestWithSkpGBps: withSkp / 1e9,
        differencePercent: (result.bytesPerSecond / digest - 1) * 100,
      });
    }
  }
  return rows;
}

function main(): void {
  const args = process.argv.slice(2);
  const cyclesArg = args.indexOf("--cycles");
  const cycles = cyclesArg >= 0 ? Number(args[cyclesArg + 1]) : 4_000_000;
  if (!Number.isInteger(cycles) || cycles < 1000) throw new Error(`--cycles must be an integer >= 1000 (got ${args[cyclesArg + 1]})`);
  const json = args.includes("--json");

  const speeds: SpeedResult[] = [
    beatLevelRun("beats: MWr 256 B down", cycles, 256, true, false),
    beatLevelRun("beats: CplD 256 B up", cycles, 256, false, true),
    beatLevelRun("beats: MWr down + CplD up, 256 B", cycles, 256, true, true),
    beatLevelRun("beats: MWr down + CplD up, 512 B", cycles, 512, true, true),
    tlpPortRun("TlpPort: MWr 256 B down", () => runPostedWriteStream({ mps: 256 }, 256, Math.max(100, Math.round(cycles / 35)))),
    tlpPortRun("TlpPort: MRd 512 B -> CplD 256 B up", () => runReadCompletionStream({ mps: 256 }, 512, Math.max(50, Math.round(cycles / 70)))),
  ];
  const rows = ceilings(2000);

  if (json) {
    console.log(JSON.stringify({ speeds, ceilings: rows }, null, 2));
    return;
  }
  console.log("(a) Simulated payload moved per second by the PCIe models (framing + link + hard IP)");
  console.log("    workload                                   sim cycles     payload MB   wall s   MB/s wall   MB/s per CPU s");
  for (const s of speeds) {
    console.log(
      `    ${s.workload.padEnd(42)} ${String(s.simulatedCycles).padStart(11)} ${(s.payloadBytes / 1e6).toFixed(1).padStart(12)} ${s.wallSeconds.toFixed(2).padStart(8)} ${s.wallMBps.toFixed(1).padStart(11)} ${s.cpuMBps.toFixed(1).padStart(16)}`,
    );
  }
  console.log("\n(b) Gen2 x4 payload ceiling, 3DW headers, back-to-back TLPs: model vs facts digest §F");
  console.log("    MPS  direction   model GB/s   §F GB/s   §F - SKP 0.34% GB/s   model vs §F");
  for (const r of rows) {
    console.log(
      `    ${String(r.mps).padStart(3)}  ${r.direction.padEnd(10)} ${r.modelGBps.toFixed(4).padStart(11)} ${r.digestGBps.toFixed(4).padStart(9)} ${r.digestWithSkpGBps.toFixed(4).padStart(21)} ${r.differencePercent.toFixed(2).padStart(10)} %`,
    );
  }
}

main();
