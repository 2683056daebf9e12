// The topology file of `nvme-host sim --topology FILE.json`: a switch below the root port and what sits on
// each of its downstream ports. Everything is checked before a system is built; a mistake is a
// TopologySpecError naming the file, the field (with its path, e.g. `ssds[2].mdts`) and the value.
//
//   {
//     "switch": { "preset": "asm1184e", "latencyNs": 300, "downstreamLinks": [{ "lanes": 1, "latencyCycles": 40 }] },
//     "ssds": [
//       "consumerSsd",
//       null,
//       { "preset": "fastSsd", "mdts": 5, "faults": [{ "inject": "fatalOnEnable" }] },
//       { "preset": "consumerSsd", "linkWidth": 2 }
//     ]
//   }
//
// "switch": the switch's parameters (sim/pcie/switch-params.ts; default: the "gen2x4" preset). "ssds": one
// entry per downstream port, in port order: a preset name, an SSD spec object (the `--ssd` file's format,
// ssd-spec.ts), or null for an empty port; fewer entries than ports leave the last ports empty.

import { readFileSync } from "node:fs";
import { resolveSwitchParams, type SwitchParamsInput } from "../pcie/switch-params.ts";
import { parseSsdArgument, parseSsdSpec, SSD_PRESETS, SsdSpecError } from "./ssd-spec.ts";
import type { SystemTopology, TopologySsd } from "./topology.ts";

export class TopologySpecError extends Error {
  override name = "TopologySpecError";
}

/** `--topology FILE.json`; `readFile` is for tests. */
export function parseTopologyArgument(path: string, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): SystemTopology {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new TopologySpecError(`--topology ${path}: not a readable JSON file (${why})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TopologySpecError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseTopologySpec(value, path);
}

/** A topology object (parsed JSON); `source` names it in errors. */
export function parseTopologySpec(value: unknown, source = "<topology>"): SystemTopology {
  const fail = (field: string, got: unknown, why: string): never => {
    throw new TopologySpecError(`${source}: field "${field}" = ${show(got)}: ${why}`);
  };
  if (!isRecord(value)) throw new TopologySpecError(`${source}: a topology is a JSON object with "switch" and "ssds", not ${show(value)}`);
  for (const key of Object.keys(value)) {
    if (key !== "switch" && key !== "ssds") fail(key, value[key], `unknown field (a topology has "switch" and "ssds")`);
  }
  let switchParams: SwitchParamsInput = {};
  if (value.switch !== undefined) {
    if (!isRecord(value.switch)) fail("switch", value.switch, "must be an object of switch parameters");
    switchParams = value.switch as SwitchParamsInput;
    try {
      resolveSwitchParams(switchParams);
    } catch (error) {
      // "switch parameter X = v: why" -> the field's path in the file.
      const message = (error as Error).message.replace(/^switch parameter ([^\s:]+)(.*)$/s, (_, name: string, rest: string) => `field "switch.${name}"${rest}`);
      throw new TopologySpecError(`${source}: ${message}`);
    }
  }
  const ports = resolveSwitchParams(switchParams).downstreamPorts;
  if (!Array.isArray(value.ssds)) fail("ssds", value.ssds, "must be a list with one entry per downstream port: a preset name, an SSD spec object or null");
  const list = value.ssds as unknown[];
  if (list.length > ports) fail("ssds", `${list.length} entries`, `the switch has ${ports} downstream ports`);
  const ssds: (TopologySsd | null)[] = list.map((entry, port) => {
    if (entry === null) return null;
    const where = `${source}: ssds[${port}]`;
    try {
      if (typeof entry === "string") {
        if (!SSD_PRESETS.includes(entry as (typeof SSD_PRESETS)[number])) fail(`ssds[${port}]`, entry, `not a preset (${SSD_PRESETS.join(", ")}), an object or null`);
        const spec = parseSsdArgument(entry);
        return { ssd: spec.options, faults: spec.faults };
      }
      const spec = parseSsdSpec(entry, where);
      return { ssd: spec.options, faults: spec.faults };
    } catch (error) {
      if (error instanceof SsdSpecError) throw new TopologySpecError(error.message.replace(`${where}: field "`, `${source}: field "ssds[${port}].`));
      throw error;
    }
  });
  return { switch: switchParams, ssds };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
