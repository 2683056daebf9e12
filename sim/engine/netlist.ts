// Word-level view of a flattened Yosys netlist: every cell output is one net (a
// word of up to any width), and every cell input is a list of slices of nets and
// constants. This is what the JS compiler walks.
import type { YosysBit, YosysCell, YosysJson } from "./yosys-json.ts";

export type NetKind = "input" | "comb" | "reg";

export interface Net {
  id: number;
  width: number;
  kind: NetKind;
  /** The cell (or port) that drives the net, for messages. */
  origin: string;
}

export interface NetChunk {
  net: Net;
  /** First bit of the net used by this chunk. */
  lsb: number;
  width: number;
}

export interface ConstChunk {
  /** Constant bits, least significant first; x and z are read as 0. */
  bits: string;
  width: number;
}

export type Chunk = NetChunk | ConstChunk;

/** A value made of chunks, least significant chunk first. */
export interface Sig {
  width: number;
  chunks: Chunk[];
}

export interface Cell {
  name: string;
  type: string;
  /** Source location from Yosys's src attribute, for messages. */
  src: string;
  raw: YosysCell;
  inputs: Record<string, Sig>;
  outputs: Record<string, Net>;
}

export interface NamedSignal {
  name: string;
  width: number;
  sig: Sig;
  direction: "input" | "output" | "internal";
  /** Initial value from an `init` attribute, least significant bit first. */
  init?: string;
}

export interface Netlist {
  top: string;
  nets: Net[];
  cells: Cell[];
  signals: NamedSignal[];
  inputs: Map<string, Net>;
}

export class NetlistError extends Error {
  override name = "NetlistError";
}

export function isConst(c: Chunk): c is ConstChunk {
  return (c as ConstChunk).bits !== undefined;
}

const FLIP_FLOPS = new Set(["$dff", "$dffe", "$sdff", "$sdffe", "$sdffce"]);

export function buildNetlist(json: YosysJson, top: string): Netlist {
  const mod = json.modules[top];
  if (!mod) throw new NetlistError(`Yosys netlist has no module ${top} (modules: ${Object.keys(json.modules).join(", ")})`);
  const nets: Net[] = [];
  const driver = new Map<number, { net: Net; bit: number }>();

  const defineNet = (bits: YosysBit[], kind: NetKind, origin: string): Net => {
    const net: Net = { id: nets.length, width: bits.length, kind, origin };
    nets.push(net);
    bits.forEach((b, i) => {
      if (typeof b !== "number") throw new NetlistError(`${origin}: output bit ${i} is the constant ${b}`);
      if (driver.has(b)) throw new NetlistError(`${origin}: bit ${b} has two drivers (${driver.get(b)!.net.origin} and ${origin})`);
      driver.set(b, { net, bit: i });
    });
    return net;
  };

  const inputs = new Map<string, Net>();
  for (const [name, port] of Object.entries(mod.ports)) {
    if (port.direction === "inout") throw new NetlistError(`port ${name} of ${top} is inout; the engine simulates inputs and outputs only`);
    if (port.direction === "input") inputs.set(name, defineNet(port.bits, "input", `input ${name}`));
  }

  const pending: { name: string; raw: YosysCell; outputs: Record<string, Net> }[] = [];
  for (const [name, raw] of Object.entries(mod.cells)) {
    if (raw.type === "$scopeinfo") continue;
    const src = String(raw.attributes?.src ?? "");
    const where = `cell ${name} (${raw.type}${src ? `, ${src}` : ""})`;
    if (!raw.type.startsWith("$")) {
      throw new NetlistError(`${where}: instance of module ${raw.type}, which has no definition (black boxes cannot be simulated)`);
    }
    const outputs: Record<string, Net> = {};
    if (raw.type === "$mem_v2") {
      const ports = paramInt(raw, "RD_PORTS");
      const width = paramInt(raw, "WIDTH");
      const data = raw.connections.RD_DATA;
      for (let p = 0; p < ports; p++) {
        outputs[`RD_DATA${p}`] = defineNet(data.slice(p * width, (p + 1) * width), "comb", `${where} read port ${p}`);
      }
    } else {
      const dirs = raw.port_directions;
      if (!dirs) throw new NetlistError(`${where}: Yosys gave no port directions`);
      for (const [port, dir] of Object.entries(dirs)) {
        if (dir === "output") {
          const kind: NetKind = FLIP_FLOPS.has(raw.type) ? "reg" : "comb";
          outputs[port] = defineNet(raw.connections[port], kind, where);
        }
      }
    }
    pending.push({ name, raw, outputs });
  }

  const toSig = (bits: YosysBit[]): Sig => {
    const chunks: Chunk[] = [];
    for (const b of bits) {
      const last = chunks[chunks.length - 1];
      if (typeof b !== "number" || !driver.has(b)) {
        const v = b === "1" ? "1" : "0"; // x, z and undriven bits read as 0
        if (last && isConst(last)) {
          last.bits += v;
          last.width++;
        } else chunks.push({ bits: v, width: 1 });
        continue;
      }
      const d = driver.get(b)!;
      if (last && !isConst(last) && last.net === d.net && last.lsb + last.width === d.bit) last.width++;
      else chunks.push({ net: d.net, lsb: d.bit, width: 1 });
    }
    return { width: bits.length, chunks };
  };

  const cells: Cell[] = pending.map(({ name, raw, outputs }) => {
    const inputsOfCell: Record<string, Sig> = {};
    for (const [port, bits] of Object.entries(raw.connections)) {
      const dir = raw.type === "$mem_v2" ? (port === "RD_DATA" ? "output" : "input") : raw.port_directions?.[port];
      if (dir === "input") inputsOfCell[port] = toSig(bits);
    }
    return { name, type: raw.type, src: String(raw.attributes?.src ?? ""), raw, inputs: inputsOfCell, outputs };
  });

  const signals: NamedSignal[] = [];
  for (const [name, nn] of Object.entries(mod.netnames)) {
    if (nn.hide_name) continue;
    const port = mod.ports[name];
    const init = nn.attributes?.init;
    signals.push({
      name,
      width: nn.bits.length,
      sig: toSig(nn.bits),
      direction: port ? (port.direction === "input" ? "input" : "output") : "internal",
      init: typeof init === "string" ? [...init].reverse().join("") : undefined,
    });
  }
  signals.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { top, nets, cells, signals, inputs };
}

/** A parameter as bits, least significant first. */
export function paramBits(cell: YosysCell, name: string): string {
  const v = cell.parameters[name];
  if (v === undefined) throw new NetlistError(`cell of type ${cell.type} lacks parameter ${name}`);
  if (typeof v === "number") return v.toString(2).split("").reverse().join("").padEnd(32, "0");
  return [...v.trimEnd()].reverse().join("");
}

export function paramInt(cell: YosysCell, name: string): number {
  const bits = paramBits(cell, name);
  let v = 0;
  for (let i = Math.min(bits.length, 53) - 1; i >= 0; i--) v = v * 2 + (bits[i] === "1" ? 1 : 0);
  return v;
}

export function paramBool(cell: YosysCell, name: string): boolean {
  return paramInt(cell, name) !== 0;
}
