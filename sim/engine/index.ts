// Public entry of the simulation engines: createSimulator() and the types around it.
import { resolveEngine } from "./engine-choice.ts";
import { JsSimulator, buildJsModel, resolveJsEvaluation } from "./js-engine.ts";
import type { Simulator } from "./simulator.ts";
import { buildVerilatorModel, type SignalVisibility, VerilatorSimulator } from "./verilator-engine.ts";
import { type VerilogSource, readSources } from "./yosys.ts";
import type { JsEvaluation } from "./js-compiler.ts";
import { buildNativeModel } from "./native-build.ts";

export type { Simulator, PortExchange, PortExchangeSpec, SignalHandle, SignalInfo, SignalRef, Direction } from "./simulator.ts";
export { ENGINES, ENGINE_ENV, type EngineName, engineFlag, resolveEngine } from "./engine-choice.ts";
export { SignalValueError } from "./simulator-base.ts";
export { SignalNameError } from "./signal-names.ts";
export { VerilogError, type VerilogSource } from "./yosys.ts";
export { NetlistError } from "./netlist.ts";
export type { JsEvaluation } from "./js-compiler.ts";
export { JS_EVALUATION_ENV } from "./js-engine.ts";
export { verilatorAvailable, VERILATOR_INSTALL_HINT, type SignalVisibility } from "./verilator-engine.ts";
export { nativeAvailable } from "./native-build.ts";

export interface SimulatorOptions {
  /** Verilog files: paths to read, or sources already in memory. */
  sources: readonly (string | VerilogSource)[];
  top: string;
  /** "js", "verilator" or "native"; default from NVME_HOST_ENGINE, else "js". */
  engine?: string;
  /** Start a VCD dump to this path right away. */
  vcd?: string;
  /** Reuse and store compiled models in .cache/ (default true). */
  cache?: boolean;
  /**
   * "all" (default): every named signal can be peeked. "ports": only top-level ports, which lets the
   * verilator engine optimise the rest away (about twice as fast); the js engine shows all either way.
   */
  visibility?: SignalVisibility;
  /**
   * verilator engine: a peek after a poke evaluates the model only when a written input reaches the
   * peeked signal through logic (recorded by a Yosys pass when the model is built: about 20 s for the
   * controller's core, so off by default). The js engine always works that way.
   */
  settleOnDemand?: boolean;
  /**
   * js engine: "activity" evaluates only the blocks of logic whose inputs changed; "full"
   * evaluates every cell every cycle (the reference the activity tests compare with);
   * "adaptive" is activity, switching to full evaluation while most blocks are busy. Default
   * from NVME_HOST_JS_EVALUATION, else "adaptive". No effect on the verilator engine.
   */
  jsEvaluation?: JsEvaluation;
}

export async function createSimulator(options: SimulatorOptions): Promise<Simulator> {
  const engine = resolveEngine(options.engine);
  const sources = options.sources.map((s) => (typeof s === "string" ? readSources([s])[0] : s));
  const useCache = options.cache ?? true;
  const sim = engine !== "verilator"
    ? await jsSimulator(sources, options.top, useCache, resolveJsEvaluation(options.jsEvaluation), engine === "native")
    : new VerilatorSimulator(await buildVerilatorModel(sources, options.top, useCache, options.visibility, options.settleOnDemand ?? false));
  if (options.vcd) sim.dumpVcd(options.vcd);
  return sim;
}

/** The js engine's model, run by V8 or (`native`) compiled to machine code (native-build.ts). */
async function jsSimulator(sources: VerilogSource[], top: string, useCache: boolean, evaluation: JsEvaluation, native: boolean): Promise<JsSimulator> {
  const { model, codeCache } = await buildJsModel(sources, top, useCache, evaluation);
  if (native) return new JsSimulator(model, { nativeAddon: await buildNativeModel(model, useCache) });
  return new JsSimulator(model, { codeCache });
}
