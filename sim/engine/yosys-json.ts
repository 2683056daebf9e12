// The subset of Yosys's write_json format the engine reads.

/** A bit of a signal: a net bit id, or a constant. */
export type YosysBit = number | "0" | "1" | "x" | "z";

export interface YosysCell {
  type: string;
  parameters: Record<string, string | number>;
  attributes: Record<string, string | number>;
  port_directions?: Record<string, "input" | "output" | "inout">;
  connections: Record<string, YosysBit[]>;
}

export interface YosysNetname {
  hide_name: 0 | 1;
  bits: YosysBit[];
  attributes: Record<string, string | number>;
  signed?: number;
}

export interface YosysPort {
  direction: "input" | "output" | "inout";
  bits: YosysBit[];
  signed?: number;
}

export interface YosysModule {
  attributes: Record<string, string | number>;
  ports: Record<string, YosysPort>;
  cells: Record<string, YosysCell>;
  netnames: Record<string, YosysNetname>;
}

export interface YosysJson {
  creator: string;
  modules: Record<string, YosysModule>;
}
