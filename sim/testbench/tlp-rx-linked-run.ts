// One run of tlp_rx behind the link model: a ScriptedEndpoint sends the given upstream TLPs, the
// consumers take what the design reports, and the run ends when every TLP has been delivered on
// m_axis_rx and the outputs are drained. Shared by the tests and the benchmark.
import type { Simulator } from "../engine/index.ts";
import { encodeTlp } from "../pcie/codec.ts";
import { LinkModel } from "../pcie/link-model.ts";
import type { LinkParamsInput } from "../pcie/link-params.ts";
import { ScriptedEndpoint } from "./scripted-endpoint.ts";
import type { Tlp } from "../pcie/tlp.ts";
import { TraceWriter } from "../pcie/trace.ts";
import { LinkedRx, type RxConsumerPatterns } from "./tlp-rx-harness.ts";

/** Cycles run after the last delivery so the outputs drain (consumers may be stalled by their patterns). */
const DRAIN_CYCLES = 400;

export interface LinkedRunOptions {
  patterns?: RxConsumerPatterns;
  link?: LinkParamsInput;
  /** Write the link's TLP trace (DESIGN.md contract) to this file. */
  tracePath?: string;
  /** Cycle budget before the run is declared stuck. */
  maxCycles?: number;
}

export interface LinkedRunResult {
  rx: LinkedRx;
  link: LinkModel;
  /** The TLPs in the order the link delivered them on m_axis_rx (non-posted ones may be passed while rx_np_ok is low). */
  delivered: Tlp[];
  /** The cycle each of `delivered` was taken (its last beat). */
  deliveryCycles: number[];
  cycles: number;
}

export function runLinked(sim: Simulator, tlps: readonly Tlp[], options: LinkedRunOptions = {}): LinkedRunResult {
  const endpoint = new ScriptedEndpoint();
  const sentByBytes = new Map<string, Tlp[]>();
  for (const tlp of tlps) {
    endpoint.queueUpstream(tlp);
    const key = Buffer.from(encodeTlp(tlp)).toString("hex");
    sentByBytes.set(key, [...(sentByBytes.get(key) ?? []), tlp]);
  }
  const delivered: Tlp[] = [];
  const deliveryCycles: number[] = [];
  const file = options.tracePath === undefined ? undefined : new TraceWriter(options.tracePath);
  // The link model traces each TLP as the user takes its last beat: that names the delivery order.
  const trace = new TraceWriter((line) => {
    const entry = JSON.parse(line) as { cycle: number; dir: "down" | "up"; tlp: string };
    file?.write(entry.cycle, entry.dir, Buffer.from(entry.tlp, "hex"));
    if (entry.dir !== "up") return;
    const tlp = sentByBytes.get(entry.tlp)?.shift();
    if (tlp === undefined) throw new Error(`the link delivered a TLP nobody sent: ${entry.tlp}`);
    delivered.push(tlp);
    deliveryCycles.push(entry.cycle);
  });
  const link = new LinkModel(endpoint, { trainingCycles: 4, latencyCycles: 8, mps: 256, forwardMessages: true, ...options.link }, { trace });
  const rx = new LinkedRx(sim, link, options.patterns);
  const start = link.cycle;
  try {
    rx.runUntil(() => delivered.length === tlps.length, options.maxCycles ?? 200_000, `delivery of ${tlps.length} TLPs`);
    for (let i = 0; i < DRAIN_CYCLES; i++) rx.step();
  } finally {
    trace.close();
    file?.close();
  }
  return { rx, link, delivered, deliveryCycles, cycles: link.cycle - start };
}
