// Parameters of the PCIe switch model (pcie-switch.ts) and its presets. Each downstream port's link is
// described with the link model's own parameters (link-params.ts), read from the switch port's side: the
// switch's downstream port plays the role the root port plays on the root link, so `generation`/`lanes`
// are the port's capabilities, `endpointMaxSpeed`/`endpointMaxWidth` the SSD's (taken from its options
// when not given), `rootPortRxCredits` the switch port's receive buffer and `endpointRxCredits` the SSD's.

import { resolveLinkParams, type Generation, type LinkParams, type LinkParamsInput } from "./link-params.ts";

export interface SwitchParams {
  /** Downstream ports (virtual PCI-to-PCI bridges on the internal bus, devices 0..N-1). */
  downstreamPorts: number;
  vendorId: number;
  deviceId: number;
  revisionId: number;
  /** The upstream port's link capabilities (the root link trains at the lower of these and the root port's). */
  upstreamSpeed: Generation;
  upstreamWidth: number;
  /** Device Capabilities Max_Payload_Size Supported of every port, bytes. */
  mpsSupported: number;
  /** Ingress-to-egress latency of the switch (cut-through), in 250 MHz cycles (from `latencyNs`, rounded up). */
  latencyCycles: number;
  /** Downstream ports report a slot (Slot Capabilities, Presence Detect State in Slot Status). */
  slots: boolean;
  /** One link per downstream port (see the header comment for how the fields are read). */
  downstreamLinks: LinkParamsInput[];
  /** Cycles after reset during which the bridges answer configuration requests with CRS (default 0). */
  crsCycles: number;
  /** Keep at most this many logged events. */
  eventLogLimit: number;
}

export interface SwitchParamsInput {
  /** Start from a preset (default "gen2x4"); the other fields override it. */
  preset?: SwitchPresetName;
  downstreamPorts?: number;
  vendorId?: number;
  deviceId?: number;
  revisionId?: number;
  upstreamSpeed?: Generation;
  upstreamWidth?: number;
  mpsSupported?: number;
  /** Switch latency in ns (default of the preset); rounded up to whole 4 ns cycles. */
  latencyNs?: number;
  slots?: boolean;
  /** Every downstream link's speed and width (the per-port `downstreamLinks` entries override them). */
  downstreamSpeed?: Generation;
  downstreamWidth?: number;
  /** Per-port link parameters, index = port; missing entries take the common ones. */
  downstreamLinks?: (LinkParamsInput | undefined)[];
  crsCycles?: number;
  eventLogLimit?: number;
}

interface SwitchPreset {
  description: string;
  params: Omit<Required<SwitchParamsInput>, "preset" | "downstreamLinks" | "eventLogLimit" | "crsCycles">;
}

const NS_PER_CYCLE = 4;
/** One-way latency of a downstream link (PHY + data link layer of both ends + trace), cycles: an assumption. */
const DEFAULT_DOWNSTREAM_LATENCY_CYCLES = 50;

/**
 * Presets. The identities are those of real parts of the class (PLX PEX 8624: Gen2, 24 lanes, 6 ports;
 * ASMedia ASM1184e: Gen2 x1 to 4 x Gen2 x1, the CM4 NAS boards' switch); the latencies and MPS limits are
 * assumptions of the model, not datasheet figures.
 */
export const switchPresets = {
  gen2x4: {
    description: "x4 Gen2 upstream, 4 x4 Gen2 downstream ports",
    params: { downstreamPorts: 4, vendorId: 0x10b5, deviceId: 0x8624, revisionId: 0xbb, upstreamSpeed: 2, upstreamWidth: 4, mpsSupported: 2048, latencyNs: 150, slots: true, downstreamSpeed: 2, downstreamWidth: 4 },
  },
  gen2x4x2: {
    description: "x4 Gen2 upstream, 4 x2 Gen2 downstream ports",
    params: { downstreamPorts: 4, vendorId: 0x10b5, deviceId: 0x8624, revisionId: 0xbb, upstreamSpeed: 2, upstreamWidth: 4, mpsSupported: 2048, latencyNs: 150, slots: true, downstreamSpeed: 2, downstreamWidth: 2 },
  },
  asm1184e: {
    description: "x1 Gen2 upstream, 4 x1 Gen2 downstream ports (ASM1184e-like, CM4 NAS boards)",
    params: { downstreamPorts: 4, vendorId: 0x1b21, deviceId: 0x1184, revisionId: 0x00, upstreamSpeed: 2, upstreamWidth: 1, mpsSupported: 128, latencyNs: 250, slots: false, downstreamSpeed: 2, downstreamWidth: 1 },
  },
} satisfies Record<string, SwitchPreset>;

export type SwitchPresetName = keyof typeof switchPresets;
export const SWITCH_PRESETS = Object.keys(switchPresets) as SwitchPresetName[];

/** Fill defaults from the preset and reject impossible values with a message naming the parameter. */
export function resolveSwitchParams(input: SwitchParamsInput = {}): SwitchParams {
  const presetName = input.preset ?? "gen2x4";
  const preset = (switchPresets as Record<string, SwitchPreset>)[presetName];
  if (preset === undefined) throw new RangeError(`switch parameter preset = ${JSON.stringify(presetName)}: not a preset (${SWITCH_PRESETS.join(", ")})`);
  const p = { ...preset.params };
  for (const [key, value] of Object.entries(input)) {
    if (key === "preset" || key === "downstreamLinks" || key === "eventLogLimit" || key === "crsCycles" || value === undefined) continue;
    if (!(key in p)) throw new RangeError(`switch parameter ${key}: unknown (known: ${[...Object.keys(p), "preset", "downstreamLinks", "crsCycles", "eventLogLimit"].join(", ")})`);
    (p as Record<string, unknown>)[key] = value;
  }
  const fail = (name: string, value: unknown, why: string): never => {
    throw new RangeError(`switch parameter ${name} = ${JSON.stringify(value)}: ${why}`);
  };
  if (!Number.isInteger(p.downstreamPorts) || p.downstreamPorts < 1 || p.downstreamPorts > 32) fail("downstreamPorts", p.downstreamPorts, "must be an integer 1..32 (devices on the internal bus)");
  for (const name of ["vendorId", "deviceId"] as const) {
    if (!Number.isInteger(p[name]) || p[name] < 0 || p[name] > 0xfffe) fail(name, p[name], "must be 0..0xFFFE");
  }
  if (!Number.isInteger(p.revisionId) || p.revisionId < 0 || p.revisionId > 0xff) fail("revisionId", p.revisionId, "must be 0..0xFF");
  for (const name of ["upstreamSpeed", "downstreamSpeed"] as const) {
    if (![1, 2, 3].includes(p[name])) fail(name, p[name], "must be 1 (2.5 GT/s), 2 (5 GT/s) or 3 (8 GT/s)");
  }
  for (const name of ["upstreamWidth", "downstreamWidth"] as const) {
    if (![1, 2, 4, 8, 16].includes(p[name])) fail(name, p[name], "must be 1, 2, 4, 8 or 16 lanes");
  }
  if (![128, 256, 512, 1024, 2048, 4096].includes(p.mpsSupported)) fail("mpsSupported", p.mpsSupported, "must be 128, 256, 512, 1024, 2048 or 4096 bytes");
  if (typeof p.latencyNs !== "number" || !Number.isFinite(p.latencyNs) || p.latencyNs < 0) fail("latencyNs", p.latencyNs, "must be a non-negative number of ns");
  if (typeof p.slots !== "boolean") fail("slots", p.slots, "must be true or false");
  const crsCycles = input.crsCycles ?? 0;
  if (!Number.isSafeInteger(crsCycles) || crsCycles < 0) fail("crsCycles", crsCycles, "must be a non-negative integer");
  const eventLogLimit = input.eventLogLimit ?? 1000;
  if (!Number.isInteger(eventLogLimit) || eventLogLimit < 1) fail("eventLogLimit", eventLogLimit, "must be a positive integer");
  const links = input.downstreamLinks ?? [];
  if (!Array.isArray(links) || links.length > p.downstreamPorts) fail("downstreamLinks", links, `must be a list of at most downstreamPorts (${p.downstreamPorts}) entries`);
  const downstreamLinks: LinkParamsInput[] = [];
  for (let i = 0; i < p.downstreamPorts; i++) {
    const link: LinkParamsInput = { generation: p.downstreamSpeed, lanes: p.downstreamWidth, latencyCycles: DEFAULT_DOWNSTREAM_LATENCY_CYCLES, ...links[i] };
    try {
      resolveLinkParams(link);
    } catch (error) {
      throw new RangeError(`switch parameter downstreamLinks[${i}]: ${(error as Error).message}`);
    }
    downstreamLinks.push(link);
  }
  return {
    downstreamPorts: p.downstreamPorts,
    vendorId: p.vendorId,
    deviceId: p.deviceId,
    revisionId: p.revisionId,
    upstreamSpeed: p.upstreamSpeed,
    upstreamWidth: p.upstreamWidth,
    mpsSupported: p.mpsSupported,
    latencyCycles: Math.ceil(p.latencyNs / NS_PER_CYCLE),
    slots: p.slots,
    downstreamLinks,
    crsCycles,
    eventLogLimit,
  };
}

/** A downstream port's link parameters resolved against the device attached to it (its speed and width). */
export function resolveDownstreamLink(link: LinkParamsInput, device: { linkSpeed: number; linkWidth: number } | undefined): LinkParams {
  return resolveLinkParams({
    ...(device ? { endpointMaxSpeed: device.linkSpeed as Generation, endpointMaxWidth: device.linkWidth } : {}),
    ...link,
  });
}
