// `nvme-host identify`: the bring-up in the full system (the emitted core, the link model and one
// SSD model), and what the hardware found, laid out like `nvme id-ctrl` / `nvme id-ns`, or as one
// JSON object (DESIGN.md's layout, nvme-cli's key names).
import { ENGINES } from "../sim/engine/index.ts";
import { type BringupReport, runBringup } from "../sim/system/bringup.ts";
import { SsdSpecError, parseSsdArgument } from "../sim/system/ssd-spec.ts";

export interface IdentifyArguments {
  ssd?: string;
  engine?: string;
  json: boolean;
  trace?: string;
  vcd?: string;
}

export class IdentifyUsageError extends Error {}

/** Runs the bring-up and prints the report; 0 when the controller is ready, 1 when it reported an error. */
export async function identifyCommand(args: IdentifyArguments, print: (text: string) => void = console.log): Promise<number> {
  let spec;
  try {
    spec = parseSsdArgument(args.ssd);
  } catch (error) {
    if (error instanceof SsdSpecError) throw new IdentifyUsageError(error.message.startsWith("--ssd") ? error.message : `--ssd ${error.message}`);
    throw error;
  }
  if (args.engine !== undefined && !(ENGINES as readonly string[]).includes(args.engine)) {
    throw new IdentifyUsageError(`--engine ${args.engine}: not one of ${ENGINES.join(", ")}`);
  }
  const started = performance.now();
  const { report, system } = await runBringup({ engine: args.engine, ssd: spec.options, faults: spec.faults, trace: args.trace, vcd: args.vcd });
  const wallSeconds = (performance.now() - started) / 1000;
  system.close();
  if (args.json) print(JSON.stringify(report, null, 2));
  else print(formatIdentify(report, { engine: system.engine, ssd: spec.source, wallSeconds }));
  return report.state === "ready" ? 0 : 1;
}

const hex = (value: number | string) => `0x${Number(value).toString(16)}`;
const line = (key: string, value: string | number) => `${key.padEnd(10)}: ${value}`;

function bytes(n: number): string {
  if (n >= 2 ** 30 && n % 2 ** 20 === 0) return `${n} B (${(n / 2 ** 30).toFixed(2)} GiB)`;
  if (n >= 2 ** 20 && n % 2 ** 10 === 0) return `${n / 2 ** 20} MiB`;
  if (n >= 2 ** 10 && n % 2 ** 10 === 0) return `${n / 2 ** 10} KiB`;
  return `${n} B`;
}

/** The text report: the outcome, then PCIe, Identify Controller, Identify Namespace and the queues. */
export function formatIdentify(report: BringupReport, run: { engine: string; ssd: string; wallSeconds: number }): string {
  const out: string[] = [];
  const time = `${report.bringup_us.toFixed(3)} µs of simulated time`;
  const how = `${run.engine} engine, SSD ${run.ssd}, ${run.wallSeconds.toFixed(1)} s of wall time; the core's waits (PERST#, CRS, RDY units) are shortened for simulation`;
  if (report.error) {
    const detail = report.error.detail ? ` (${report.error.detail})` : "";
    out.push(`nvme-host identify: ERROR after ${time}: ${report.error.step} ${report.error.code}${detail}`);
  } else {
    out.push(`nvme-host identify: READY after ${time}`);
  }
  out.push(`(${how})`, "");
  const { link, pcie, nvme, ctrl, ns } = report;
  if (link.gen > 0) {
    out.push("PCIe:");
    out.push(line("link", `Gen${link.gen} x${link.lanes} (${link.gen === 1 ? "2.5" : "5.0"} GT/s)`));
    if (pcie.vendor_id !== 0) {
      out.push(line("id", `${hex(pcie.vendor_id)}:${hex(pcie.device_id)}`));
      out.push(line("bar0", `${hex(pcie.bar0)} (${bytes(pcie.bar0_bytes)})`));
      out.push(line("mps", `${link.mps} B`));
      out.push(line("mrrs", `${link.mrrs} B`));
    }
    out.push("");
  }
  if (Number(ctrl.vid) !== 0) {
    out.push("NVME Identify Controller:");
    for (const key of ["vid", "ssvid"]) out.push(line(key, hex(ctrl[key])));
    for (const key of ["sn", "mn", "fr"]) out.push(line(key, String(ctrl[key])));
    out.push(line("mdts", `${ctrl.mdts}${Number(ctrl.mdts) === 0 ? " (no limit)" : ` (${bytes(Number(ctrl.mdts_bytes))} per command)`}`));
    for (const key of ["oacs", "rtd3e"]) out.push(line(key, hex(ctrl[key])));
    for (const key of ["sqes", "cqes"]) out.push(line(key, hex(ctrl[key])));
    out.push(line("nn", ctrl.nn));
    for (const key of ["oncs", "vwc"]) out.push(line(key, hex(ctrl[key])));
    for (const key of ["awun", "awupf"]) out.push(line(key, ctrl[key]));
    out.push("");
  }
  if (ns.nsze !== 0) {
    out.push("NVME Identify Namespace 1:");
    for (const key of ["nsze", "ncap", "nsfeat"]) out.push(line(key, hex(ns[key])));
    for (const key of ["nlbaf", "flbas", "nawun", "nawupf"]) out.push(line(key, ns[key]));
    out.push(line("lba size", `${ns.lba_bytes} B`));
    out.push(line("capacity", bytes(ns.capacity_bytes)));
    out.push(line("atomic", `${bytes(ns.awupf_bytes)} (power-fail atomic write unit)`));
    out.push("");
  }
  if (report.state === "ready") {
    out.push("NVMe:");
    out.push(line("version", nvme.version));
    out.push(line("mqes", nvme.mqes));
    out.push(line("dstrd", nvme.dstrd));
    out.push(line("io queues", `1 pair (QID 1), ${nvme.io_queue_entries} entries each`));
  }
  return out.join("\n").trimEnd();
}
