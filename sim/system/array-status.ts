// The array core's status port (rtl-src/top/nvme-array-core.ts) decoded: the front's outcome (as
// bringup.ts decodes the one-SSD core's) and, per SSD slot, its BDF, its path through the switch,
// BAR0, lane state, error and what its bring-up found (Identify fields read through the page port
// with `page_lane` set to the slot). `nvme-host identify` for several SSDs is meant to print this.
import { READABLE_CONTROLLER_FIELDS as CtrlFields, READABLE_NAMESPACE_FIELDS as NsFields } from "../../rtl-src/nvme/identify-capture.ts";
import type { NvmeField } from "../../rtl-src/nvme/nvme-field.ts";
import type { StatusPageName } from "../../rtl-src/nvme/page-field-capture.ts";
import { LANE_STATES, type LaneState } from "../../rtl-src/top/nvme-array-core.ts";
import { fieldOffsets, readPagePort } from "../testbench/page-port.ts";
import { type BringupError, STATUS_WATCH, decodeError, identifyRecords } from "./bringup.ts";
import type { FullSystem } from "./full-system.ts";

export interface ArraySsdStatus {
  /** The enumerator's slot = the lane. */
  slot: number;
  /** bus:device.function, as lspci prints it. */
  bdf: string;
  /** The switch's downstream port (its device number on the switch's internal bus). */
  port: number;
  /** "root port 00:00.0 -> 01:00.0 -> 02:<port>.0 -> <bdf>" behind a switch, "root port 00:00.0 -> <bdf>" without. */
  path: string;
  bar0: number;
  state: LaneState;
  /** The lane's error (state FAILED): where (ENUMERATE, NVME_ENABLE or ADMIN, with the step), the cause, the detail. */
  error: BringupError | null;
  nvme: { version: string; mqes: number; dstrd: number; io_queue_entries: number };
  capacity_blocks: number;
  lba_bytes: number;
  mdts_bytes: number;
  /** nvme-cli names, from the Identify pages (zeros when the lane never read them), as the one-SSD report has them (bringup.ts identifyRecords). */
  ctrl: Record<string, number | string>;
  ns: Record<string, number>;
}

export interface ArrayStatus {
  state: "ready" | "error" | "running";
  error: BringupError | null;
  switch_found: boolean;
  ports_found: number;
  ssd_count: number;
  link: { gen: number; lanes: number; mps: number; mrrs: number };
  /** Reads and writes whose Requester ID is no enumerated SSD's (dropped / answered with zeros). */
  unknown_requester: { reads: number; writes: number };
  /** One entry per slot the enumerator filled (slot < ssd_count). */
  ssds: ArraySsdStatus[];
}

/** The slots of an array core: how many status_ssd<i>_state outputs it has. */
export function arraySlots(system: FullSystem): number {
  let slots = 0;
  while (system.sim.signals.some((s) => s.name === `status_ssd${slots}_state`)) slots++;
  return slots;
}

/** Runs until the array core is READY or in FAULT (as bringup.ts's waitForOutcome). */
export function waitForArrayOutcome(system: FullSystem, maxCycles: number): number {
  const { sim } = system;
  const [, ready, fault] = STATUS_WATCH.map((name) => sim.signal(name));
  return system.runUntil(() => sim.peek(ready) === 1 || sim.peek(fault) === 1, maxCycles, "READY or FAULT");
}

const bdfText = (bdf: number) => `${((bdf >> 8) & 0xff).toString(16).padStart(2, "0")}:${((bdf >> 3) & 0x1f).toString(16).padStart(2, "0")}.${bdf & 7}`;

/** The status port as a report; steps the system a few hundred cycles per SSD to read its Identify pages. */
export function readArrayStatus(system: FullSystem): ArrayStatus {
  const { sim } = system;
  const at = (name: string) => sim.peek(name) >>> 0;
  const ready = at("status_ready") === 1;
  const fault = at("status_fault") === 1;
  const ssdCount = at("status_ssd_count");
  const slots = Math.min(ssdCount, arraySlots(system));
  const ssds: ArraySsdStatus[] = [];
  for (let i = 0; i < slots; i++) {
    const f = (field: string) => at(`status_ssd${i}_${field}`);
    const bdf = f("bdf");
    const state = LANE_STATES[f("state")] ?? "IDLE";
    const version = f("nvme_version");
    const mdtsLog2 = f("mdts_bytes_log2");
    sim.poke("page_lane", i);
    const controllerPage = readPage(system, "identifyController", CtrlFields);
    const namespacePage = readPage(system, "identifyNamespace", NsFields);
    const switchFound = at("status_switch_found") === 1;
    ssds.push({
      slot: i,
      bdf: bdfText(bdf),
      port: f("port"),
      // Behind a switch: its upstream port on the root port's secondary bus (1), the downstream port on its internal bus (2).
      path: switchFound ? `root port 00:00.0 -> ${bdfText(1 << 8)} -> ${bdfText((2 << 8) | (f("port") << 3))} -> ${bdfText(bdf)}` : `root port 00:00.0 -> ${bdfText(bdf)}`,
      bar0: f("bar0"),
      state,
      error: state === "FAILED" ? decodeError(f("error_state"), f("error_step"), f("error_code"), f("error_detail")) : null,
      nvme: { version: `${version >>> 16}.${(version >>> 8) & 0xff}.${version & 0xff}`, mqes: f("mqes"), dstrd: f("dstrd"), io_queue_entries: f("io_queue_entries") },
      capacity_blocks: Number(sim.peekBig(`status_ssd${i}_capacity_blocks`)),
      lba_bytes: f("lba_bytes"),
      mdts_bytes: mdtsLog2 === 0 ? 0 : 2 ** mdtsLog2,
      ...identifyRecords(controllerPage, namespacePage, { lbaBytes: f("lba_bytes"), mdtsLog2, capacityBlocks: Number(sim.peekBig(`status_ssd${i}_capacity_blocks`)), awupfBytes: f("awupf_bytes") }),
    });
  }
  return {
    state: ready ? "ready" : fault ? "error" : "running",
    error: fault ? decodeError(at("status_error_state"), at("status_error_step"), at("status_error_code"), at("status_error_detail")) : null,
    switch_found: at("status_switch_found") === 1,
    ports_found: at("status_ports_found"),
    ssd_count: ssdCount,
    link: { gen: at("status_link_speed"), lanes: at("status_link_width"), mps: 128 << at("status_mps_code"), mrrs: 128 << at("status_mrrs_code") },
    unknown_requester: { reads: at("status_unknown_requester_reads"), writes: at("status_unknown_requester_writes") },
    ssds,
  };
}

function readPage(system: FullSystem, page: StatusPageName, fields: Readonly<Record<string, NvmeField>>): Uint8Array {
  // One cycle first so the core takes page_lane (it is registered) before the first byte is read.
  system.step(1);
  return readPagePort(system.sim, page, fieldOffsets(fields), () => system.step(1));
}
