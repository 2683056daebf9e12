// Test pieces shared by the tests of write_buffer and read_buffer (rtl-src/hostmem/): building the
// emitted module on an engine under the stream monitor, finding its valid/ready streams, and a
// driver for the engine's strobes (slot_base, write_release), one entry per cycle from a queue.
import { type Module, emitDesign } from "../../hdl/index.ts";
import { type EngineName, type Simulator, createSimulator } from "../engine/index.ts";
import { type MonitoredSimulator, type StreamPorts, findStreams, monitorStreams } from "./stream-monitor.ts";

/** The emitted Verilog of `top` on `engine`, every stream watched by the protocol monitor. */
export async function buildMonitored(top: Module, engine: EngineName): Promise<MonitoredSimulator> {
  const { files, design } = emitDesign(top);
  const sim = await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine });
  return monitorStreams(sim);
}

/** Every input low, then `cycles` of reset: a fresh start whatever the previous test left driven. */
export function quietReset(sim: Simulator, cycles = 2): void {
  for (const s of sim.signals) if (s.direction === "input" && s.name !== "clk" && s.name !== "rst") sim.poke(s.name, 0);
  sim.reset(cycles);
}

/** The valid/ready stream `prefix` at the top of `sim`. */
export function streamPorts(sim: Simulator, prefix: string): StreamPorts {
  const ports = findStreams(sim.signals).find((s) => s.prefix === prefix);
  if (!ports) throw new Error(`${sim.top} has no stream ${prefix}`);
  return ports;
}

/**
 * Drives a strobe bundle (`<prefix>_valid` and its fields, no ready): each cycle one queued entry
 * is applied with valid high, or valid is low. Call `drive()` before the edge.
 */
export class StrobeDriver {
  private readonly queue: Record<string, number | bigint>[] = [];
  /** Entries applied so far. */
  applied = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly prefix: string,
  ) {}

  push(fields: Record<string, number | bigint>): void {
    this.queue.push(fields);
  }

  get pending(): number {
    return this.queue.length;
  }

  drive(): void {
    const entry = this.queue.shift();
    this.sim.poke(`${this.prefix}_valid`, entry ? 1 : 0);
    if (!entry) return;
    for (const [field, value] of Object.entries(entry)) this.sim.poke(`${this.prefix}_${field}`, value);
    this.applied++;
  }
}

/** A 64-bit beat from two DWs (low DW in [31:0], memory order). */
export const beatOf = (low: number, high: number): bigint => (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
export const lowDw = (beat: bigint): number => Number(beat & 0xffff_ffffn);
export const highDw = (beat: bigint): number => Number(beat >> 32n);

/** Fisher-Yates, in place. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
