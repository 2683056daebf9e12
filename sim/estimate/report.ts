// How an estimate is shown: text lines for `nvme-host estimate` (fio's units and words where fio has
// them), and a plain object with snake_case keys for `--json`, named as the sim report's `nvme_host`
// object names the same things (`link_ceiling_bytes_per_s`, `binding_constraint`).
import type { ArrayEstimate } from "./array-estimate.ts";
import type { DirectionEstimate, Estimate } from "./estimate.ts";

/** An estimate of one SSD, or of an array (array-estimate.ts) with what the array adds. */
type AnyEstimate = Estimate & { array?: ArrayEstimate };

const KIB = 1024;
const MIB = 1024 * 1024;

/** 1.83 GB/s, 812 MB/s, 45.2 kB/s: decimal, as fio prints its second bandwidth figure. */
export function formatBytesPerSecond(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e9) return `${(bytesPerSecond / 1e9).toFixed(3)} GB/s`;
  if (bytesPerSecond >= 1e6) return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  return `${(bytesPerSecond / 1e3).toFixed(1)} kB/s`;
}

/** 396.6k, 1.21M, 812: fio's IOPS style. */
export function formatIops(iops: number): string {
  if (iops >= 1e6) return `${(iops / 1e6).toFixed(2)}M`;
  if (iops >= 1e3) return `${(iops / 1e3).toFixed(1)}k`;
  return iops.toFixed(0);
}

/** 80.7 µs, 2.31 ms, 750 ns. */
export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return "unlimited";
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} B`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

function directionLine(label: string, d: DirectionEstimate): string {
  const mib = (d.bytesPerSecond / MIB).toFixed(0);
  return `  ${label}: IOPS=${formatIops(d.iops)}, BW=${mib}MiB/s (${formatBytesPerSecond(d.bytesPerSecond)}), mean clat ${formatNs(d.meanLatencyNs)} (unloaded ${formatNs(d.unloadedLatencyNs)})`;
}

/** The estimate as text lines, for the terminal. */
export function formatEstimate(e: AnyEstimate): string[] {
  const { job, system } = e;
  const lines: string[] = [];
  const mix = job.rw === "readwrite" || job.rw === "randrw" ? `, rwmixread=${job.readPercent}` : "";
  lines.push(`${job.name}: (rw=${job.rw}, bs=${formatBytes(job.bs)}, iodepth=${job.iodepth}${job.numjobs > 1 ? `, numjobs=${job.numjobs}` : ""}${mix})`);
  const host =
    system.host === "controller"
      ? `controller: ${system.slots} slots, ${formatBytes(system.bufferBytes ?? 0)} buffers, ${formatBytes(system.pieceBytes)} pieces`
      : `reference host, commands up to ${formatBytes(system.pieceBytes)}`;
  if (e.array) {
    const a = e.array;
    lines.push(`system: ${system.ssd}: ${a.ssdCount} SSDs striped in ${formatBytes(a.stripeBytes)} stripes, switch 0x${a.switch.vendorId.toString(16)}:0x${a.switch.deviceId.toString(16)} (${a.switch.latencyNs} ns), root link Gen${a.rootLink.gen} x${a.rootLink.lanes}, MPS ${system.mps}, MRRS ${system.mrrs}, LBA ${system.lbaBytes} B (per SSD a ${host})`);
  } else lines.push(`system: SSD ${system.ssd}, Gen${system.gen} x${system.lanes}, MPS ${system.mps}, MRRS ${system.mrrs}, LBA ${system.lbaBytes} B (${host})`);
  lines.push("estimate:");
  if (e.read.iops > 0) lines.push(directionLine("read ", e.read));
  if (e.write.iops > 0) lines.push(directionLine("write", e.write));
  const ceiling = `link ceiling: read ${formatBytesPerSecond(e.linkCeiling.read)}, write ${formatBytesPerSecond(e.linkCeiling.write)}`;
  const reached = [e.read.iops > 0 ? `read ${percent(e.linkShare.read)}` : "", e.write.iops > 0 ? `write ${percent(e.linkShare.write)}` : ""].filter(Boolean).join(", ");
  lines.push(`  ${ceiling}; reached: ${reached}`);
  lines.push(`  binding constraint: ${e.binding}`);
  if (e.writeCache) {
    const c = e.writeCache;
    const fill = Number.isFinite(c.fillSeconds) ? `full after ${formatNs(c.fillSeconds * 1e9)}` : "never full";
    lines.push(
      `  write cache ${formatBytes(c.cacheBytes)}: ${formatBytesPerSecond(c.burstBytesPerSecond)} while it takes writes, ${formatBytesPerSecond(c.sustainedBytesPerSecond)} once full (${fill}; ${percent(c.sustainedShare)} of the run)`,
    );
  }
  if (e.array) {
    const a = e.array;
    lines.push(`  the SSDs together: ${formatBytesPerSecond(a.ssdsBytesPerSecond)}; shared (root link, TLP layer, user ports): ${formatBytesPerSecond(a.sharedBytesPerSecond)}; ${a.ssdsPerCommand.toFixed(2)} SSDs per command`);
    for (const s of a.ssds) {
      lines.push(`  SSD on port ${s.port} (${s.ssd}, Gen${s.gen} x${s.lanes}): ${percent(s.share)} of the bytes, ${s.queueDepth.toFixed(1)} in flight, ${formatBytesPerSecond(s.bytesPerSecond)}; its own limit: ${s.binding}`);
    }
  }
  lines.push("constraints (what each allows this job, both directions together):");
  const width = Math.max(...e.constraints.map((c) => c.name.length));
  for (const c of [...e.constraints].sort((a, b) => a.bytesPerSecond - b.bytesPerSecond)) {
    const limit = Number.isFinite(c.bytesPerSecond) ? `${formatBytesPerSecond(c.bytesPerSecond).padStart(12)} ${`${formatIops(c.commandsPerSecond)} IOPS`.padStart(13)}` : "no limit".padStart(26);
    lines.push(`  ${c.binds ? "*" : " "} ${c.name.padEnd(width)} ${limit}${c.binds ? "  (binds)" : ""}  ${c.detail}`);
  }
  for (const [label, d] of [["read", e.read], ["write", e.write]] as const) {
    if (d.iops === 0) continue;
    lines.push(`one ${label}, unloaded (${formatNs(d.unloadedLatencyNs)}): ${d.stages.map((s) => `${s.name} ${formatNs(s.ns)}`).join(", ")}`);
  }
  for (const note of e.notes) lines.push(`note: ${note}`);
  return lines;
}

/** JSON numbers cannot be Infinity: an unlimited value is null. */
function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function directionJson(d: DirectionEstimate) {
  return {
    bw_bytes: d.bytesPerSecond,
    iops: d.iops,
    clat_mean_ns: d.meanLatencyNs,
    unloaded_clat_ns: d.unloadedLatencyNs,
    latency_stages: d.stages.map((s) => ({ name: s.name, ns: s.ns })),
  };
}

/** The estimate as a plain object with snake_case keys, for `--json`. */
export function estimateJson(e: AnyEstimate) {
  const binding = e.constraints.find((c) => c.binds);
  return {
    job: { name: e.job.name, rw: e.job.rw, bs: e.job.bs, iodepth: e.job.iodepth, numjobs: e.job.numjobs, read_percent: e.job.readPercent },
    system: {
      host: e.system.host,
      ssd: e.system.ssd,
      gen: e.system.gen,
      lanes: e.system.lanes,
      mps: e.system.mps,
      mrrs: e.system.mrrs,
      lba_bytes: e.system.lbaBytes,
      mdts_bytes: finite(e.system.mdtsBytes),
      piece_bytes: e.system.pieceBytes,
      slots: e.system.slots,
      buffer_bytes: e.system.bufferBytes,
    },
    read: directionJson(e.read),
    write: directionJson(e.write),
    total: { bw_bytes: e.total.bytesPerSecond, iops: e.total.iops },
    binding_constraint: e.binding,
    binding_constraint_key: binding?.key ?? null,
    constraints: e.constraints.map((c) => ({
      name: c.name,
      key: c.key,
      bw_bytes: finite(c.bytesPerSecond),
      iops: finite(c.commandsPerSecond),
      binds: c.binds,
      detail: c.detail,
    })),
    link_ceiling_bytes_per_s: { read: e.linkCeiling.read, write: e.linkCeiling.write },
    link_share: { read: e.linkShare.read, write: e.linkShare.write },
    write_cache: e.writeCache
      ? {
          cache_bytes: e.writeCache.cacheBytes,
          burst_bw_bytes: e.writeCache.burstBytesPerSecond,
          sustained_bw_bytes: e.writeCache.sustainedBytesPerSecond,
          fill_seconds: finite(e.writeCache.fillSeconds),
          sustained_share: e.writeCache.sustainedShare,
        }
      : null,
    notes: [...e.notes],
    ...(e.array ? { array: arrayJson(e.array) } : {}),
  };
}

/** The array's part of an estimate (SSD count, stripe, switch, each SSD's share), snake_case. */
export function arrayJson(a: ArrayEstimate) {
  return {
    ssd_count: a.ssdCount,
    stripe_bytes: a.stripeBytes,
    switch: { vendor_id: a.switch.vendorId, device_id: a.switch.deviceId, latency_ns: a.switch.latencyNs, upstream: { ...a.switch.upstream } },
    root_link: { ...a.rootLink },
    ssds_bw_bytes: a.ssdsBytesPerSecond,
    shared_bw_bytes: finite(a.sharedBytesPerSecond),
    ssds_per_command: a.ssdsPerCommand,
    ssds: a.ssds.map((s) => ({ port: s.port, ssd: s.ssd, gen: s.gen, lanes: s.lanes, share: s.share, queue_depth: s.queueDepth, bw_bytes: s.bytesPerSecond, binding: s.binding })),
  };
}
