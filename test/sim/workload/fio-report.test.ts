// fio-style reports: figures checked against hand-computed values (IOPS, bandwidth, exact nearest-rank
// percentiles of known latency lists, fio's unit scaling), the text layout line by line, the JSON
// keys scripts read, and group_reporting's merge of clones and jobs.
import { describe, expect, it } from "vitest";
import {
  FIO_PERCENTILES,
  fioJsonReport,
  formatFioJson,
  formatFioNumber,
  formatFioText,
  formatMsec,
  groupIds,
  latencyStats,
  nearestRankPercentiles,
  reportEntries,
  sumJobResults,
  type ReportEntry,
} from "../../../sim/workload/fio-report.ts";
import { JOB_DEFAULTS } from "../../../sim/workload/fio-job.ts";
import type { DirectionResult, JobResult, JobSpec } from "../../../sim/workload/job.ts";

const NONE: DirectionResult = { ioBytes: 0, totalIos: 0, runtimeNs: 0, clatNs: [] };

function result(name: string, read: DirectionResult, write: DirectionResult = NONE, error = 0): JobResult {
  return { name, error, read, write };
}

function spec(name: string, over: Partial<JobSpec> = {}): JobSpec {
  return { ...JOB_DEFAULTS, name, ...over };
}

/** Ten reads of 4 KiB in 1 ms with latencies 50, 60, ... 140 us (shuffled: order must not matter). */
const TEN_LAT = [90_000, 50_000, 140_000, 70_000, 60_000, 130_000, 80_000, 120_000, 100_000, 110_000];
const TEN_READS: DirectionResult = { ioBytes: 10 * 4096, totalIos: 10, runtimeNs: 1_000_000, clatNs: TEN_LAT };

describe("statistics", () => {
  it("latencyStats: min, max, mean and the sample standard deviation", () => {
    // Deviations ±45, ±35, ±25, ±15, ±5 us: sum of squares 8250e6 ns², / 9 -> stdev 30276.5 ns.
    const s = latencyStats(TEN_LAT);
    expect(s).toMatchObject({ n: 10, min: 50_000, max: 140_000, mean: 95_000 });
    expect(s.stddev).toBeCloseTo(Math.sqrt(8250e6 / 9), 6);
    expect(latencyStats([100, 200, 300, 400]).stddev).toBeCloseTo(Math.sqrt(50_000 / 3), 9);
    expect(latencyStats([777])).toEqual({ n: 1, min: 777, max: 777, mean: 777, stddev: 0 });
    expect(latencyStats([])).toEqual({ n: 0, min: 0, max: 0, mean: 0, stddev: 0 });
  });

  it("keeps the variance of long runs of large latencies (no sum-of-squares cancellation)", () => {
    const ns = Array.from({ length: 100_000 }, (_, i) => 5e9 + (i % 2)); // 5 s ± 0.5 ns
    expect(latencyStats(ns).stddev).toBeCloseTo(0.5, 3);
  });

  it("nearest-rank percentiles of a known list", () => {
    // 1..100 scaled by 10, reversed: the p-th percentile is 10p for whole p.
    const list = Array.from({ length: 100 }, (_, i) => (100 - i) * 10);
    expect(nearestRankPercentiles(list, [1, 50, 99, 99.5, 100])).toEqual([10, 500, 990, 1000, 1000]);
    expect(nearestRankPercentiles(TEN_LAT)).toEqual([
      50_000, 50_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000, 110_000, 120_000, 130_000, 140_000, 140_000, 140_000, 140_000, 140_000, 140_000,
    ]);
    expect(nearestRankPercentiles([3, 1, 2], [50])).toEqual([2]); // rank ceil(1.5) = 2
    expect(nearestRankPercentiles([], [50])).toEqual([]);
  });

  it("is exact where floating point is not: 99.99 % of 10000 is rank 9999, not 10000", () => {
    const list = Array.from({ length: 10_000 }, (_, i) => i + 1);
    expect(nearestRankPercentiles(list, [99.99, 99.9, 0.01])).toEqual([9999, 9990, 1]);
  });
});

describe("fio's number formatting", () => {
  it("scales to at most four digits, power-of-2 and power-of-10 side by side", () => {
    expect(formatFioNumber(31_897_600, 4, true, "B")).toBe("30.4MiB");
    expect(formatFioNumber(1_728_000_000, 4, true, "B/s")).toBe("1648MiB/s");
    expect(formatFioNumber(1_728_000_000, 4, false, "B/s")).toBe("1728MB/s");
    expect(formatFioNumber(637_544, 4, true, "B/s")).toBe("623KiB/s");
    expect(formatFioNumber(637_544, 4, false, "B/s")).toBe("638kB/s");
    expect(formatFioNumber(4_096_000, 4, true, "B")).toBe("4000KiB");
    expect(formatFioNumber(4_096_000, 4, false, "B")).toBe("4096kB");
    expect(formatFioNumber(88, 4, false, "")).toBe("88");
    expect(formatFioNumber(9999, 4, false, "")).toBe("9999");
    expect(formatFioNumber(10_000, 4, false, "")).toBe("10.0k");
    expect(formatFioNumber(412_345, 4, false, "")).toBe("412k");
    expect(formatFioNumber(1_234_567, 6, false, "")).toBe("1234.6k"); // latency min/max use six digits
  });

  it("prints simulated runtimes in msec with up to three decimals", () => {
    expect(formatMsec(1_000_000)).toBe("1");
    expect(formatMsec(4_096_123)).toBe("4.096");
    expect(formatMsec(512_000)).toBe("0.512");
    expect(formatMsec(2_500_000_000)).toBe("2500");
  });
});

describe("the text report", () => {
  it("a read job: IOPS, bandwidth, clat line, percentile block, distribution, run status group", () => {
    const text = formatFioText([{ result: result("rand4k", TEN_READS), groupId: 0, members: 1 }]);
    // 10 I/Os in 1 ms = 10000 IOPS; 40960 B in 1 ms = 40960000 B/s = 39.06 MiB/s = 40.96 MB/s.
    // clat: min 50 us > 2 us, max 140 us > 99.999 us, stdev 30.28 us > 1 us: fio prints usec.
    expect(text).toBe(
      [
        "rand4k: (groupid=0, jobs=1): err= 0",
        "  read: IOPS=10.0k, BW=39.1MiB/s (41.0MB/s)(40.0KiB/1msec)",
        "    clat (usec): min=50, max=140, avg=95.00, stdev=30.28",
        "    clat percentiles (usec):",
        "     |  1.00th=[   50],  5.00th=[   50], 10.00th=[   50], 20.00th=[   60],",
        "     | 30.00th=[   70], 40.00th=[   80], 50.00th=[   90], 60.00th=[  100],",
        "     | 70.00th=[  110], 80.00th=[  120], 90.00th=[  130], 95.00th=[  140],",
        "     | 99.00th=[  140], 99.50th=[  140], 99.90th=[  140], 99.95th=[  140],",
        "     | 99.99th=[  140]",
        "  lat (usec)   : 100=50.00%, 250=50.00%",
        "     issued rwts: total=10,0,0,0 short=0,0,0,0 dropped=0,0,0,0",
        "",
        "Run status group 0 (all jobs):",
        "   READ: bw=39.1MiB/s (41.0MB/s), 39.1MiB/s-39.1MiB/s (41.0MB/s-41.0MB/s), io=40.0KiB (41.0kB), run=1-1msec",
        "",
      ].join("\n"),
    );
  });

  it("keeps nsec when the spread is small (fio's rule), while the percentile block scales by its own rule", () => {
    const tight: DirectionResult = { ioBytes: 2 * 131072, totalIos: 2, runtimeNs: 250_000, clatNs: [100_500, 100_000] };
    const lines = formatFioText([{ result: result("seq", NONE, tight), groupId: 0, members: 1 }]).split("\n");
    // 2 writes in 250 us = 8000 IOPS; 262144 B / 250 us = 1048576000 B/s = 1000 MiB/s.
    expect(lines[1]).toBe("  write: IOPS=8000, BW=1000MiB/s (1049MB/s)(256KiB/0.25msec)");
    expect(lines[2]).toBe("    clat (nsec): min=100000, max=100500, avg=100250.00, stdev=353.55");
    expect(lines[3]).toBe("    clat percentiles (usec):"); // 100.0 / 100.5 us, rounded up
    expect(lines[4]).toBe("     |  1.00th=[  100],  5.00th=[  100], 10.00th=[  100], 20.00th=[  100],");
    expect(lines[6]).toBe("     | 70.00th=[  101], 80.00th=[  101], 90.00th=[  101], 95.00th=[  101],");
    expect(lines).toContain("  WRITE: bw=1000MiB/s (1049MB/s), 1000MiB/s-1000MiB/s (1049MB/s-1049MB/s), io=256KiB (262kB), run=0.25-0.25msec");
    expect(lines.some((l) => l.startsWith("  read:") || l.startsWith("   READ:"))).toBe(false);
  });

  it("switches to msec for long, spread latencies, widening the percentile column as needed", () => {
    const slow: DirectionResult = { ioBytes: 3 * 4096, totalIos: 3, runtimeNs: 3_000_000_000, clatNs: [3_000_000, 150_000_000, 123_456_789_000] };
    const lines = formatFioText([{ result: result("slow", slow), groupId: 0, members: 1 }]).split("\n");
    expect(lines[1]).toBe("  read: IOPS=1, BW=4096B/s (4096B/s)(12.0KiB/3000msec)");
    expect(lines[2]).toMatch(/^ {4}clat \(msec\): min=3, max=123456, avg=41203\.\d\d, stdev=\d+\.\d\d$/);
    expect(lines[3]).toBe("    clat percentiles (msec):");
    // maxv 123456.789 ms -> 6 digits wide, (80 - 7) / (2 + 10 + 6) = 4 per line.
    expect(lines[4]).toBe("     |  1.00th=[     3],  5.00th=[     3], 10.00th=[     3], 20.00th=[     3],");
    expect(lines[6]).toBe("     | 70.00th=[123457], 80.00th=[123457], 90.00th=[123457], 95.00th=[123457],");
    expect(lines).toContain("  lat (msec)   : 4=33.33%, 250=33.33%, >=2000=33.33%");
  });

  it("the latency distribution spans nsec, usec and msec buckets, with 0.01 % for a rare one", () => {
    // 10000 commands: one at 999 ns, one at 1 us, 9997 at 1999 us, one at 2 ms.
    const clat = [999, 1000, ...new Array<number>(9997).fill(1_999_000), 2_000_000];
    const d: DirectionResult = { ioBytes: clat.length * 512, totalIos: clat.length, runtimeNs: 1e9, clatNs: clat };
    const lines = formatFioText([{ result: result("mix", d), groupId: 0, members: 1 }]).split("\n");
    expect(lines.filter((l) => l.startsWith("  lat ("))).toEqual(["  lat (nsec)   : 1000=0.01%", "  lat (usec)   : 2=0.01%", "  lat (msec)   : 2=99.97%, 4=0.01%"]);
  });

  it("a mixed job prints read then write; a failed job with no I/O still shows its error; an idle one is left out", () => {
    const mixed = result("mixed", TEN_READS, { ioBytes: 5 * 4096, totalIos: 5, runtimeNs: 1_000_000, clatNs: [20_000, 21_000, 22_000, 23_000, 24_000] });
    const failed = result("broken", NONE, NONE, 6);
    const idle = result("idle", NONE);
    const text = formatFioText([
      { result: mixed, groupId: 0, members: 1 },
      { result: failed, groupId: 0, members: 1 },
      { result: idle, groupId: 0, members: 1 },
    ]);
    const lines = text.split("\n");
    const readAt = lines.indexOf("  read: IOPS=10.0k, BW=39.1MiB/s (41.0MB/s)(40.0KiB/1msec)");
    const writeAt = lines.indexOf("  write: IOPS=5000, BW=19.5MiB/s (20.5MB/s)(20.0KiB/1msec)");
    expect(readAt).toBeGreaterThan(0);
    expect(writeAt).toBeGreaterThan(readAt);
    expect(lines).toContain("     issued rwts: total=10,5,0,0 short=0,0,0,0 dropped=0,0,0,0");
    expect(lines).toContain("broken: (groupid=0, jobs=1): err= 6");
    expect(text).not.toContain("idle:");
    // Both reads and writes in one distribution: 5 at 20-49 us, 5 at 50-99, 5 at 100-249 (15 commands).
    expect(lines).toContain("  lat (usec)   : 50=33.33%, 100=33.33%, 250=33.33%");
  });

  it("appends the extras after a blank line", () => {
    const text = formatFioText([{ result: result("x", TEN_READS), groupId: 0, members: 1 }], { extras: ["link ceiling: read 1.78 GB/s (2.2 % reached)", "binding: media"] });
    expect(text.endsWith("run=1-1msec\n\nlink ceiling: read 1.78 GB/s (2.2 % reached)\nbinding: media\n")).toBe(true);
  });

  it("the run status group aggregates bytes over the longest runtime and gives the entries' range", () => {
    const fast = result("a", { ioBytes: 1_000_000, totalIos: 10, runtimeNs: 1_000_000, clatNs: [1000] }); // 1e9 B/s
    const slow = result("b", { ioBytes: 1_000_000, totalIos: 10, runtimeNs: 4_000_000, clatNs: [1000] }); // 2.5e8 B/s
    const other = result("c", { ioBytes: 3_000_000, totalIos: 10, runtimeNs: 2_000_000, clatNs: [1000] });
    const text = formatFioText([
      { result: fast, groupId: 0, members: 1 },
      { result: slow, groupId: 0, members: 1 },
      { result: other, groupId: 1, members: 1 },
    ]);
    // Group 0: 2e6 B over 4 ms = 5e8 B/s = 476.8 MiB/s; entries 238 MiB/s (250 MB/s) to 954 MiB/s (1000 MB/s).
    expect(text).toContain(
      "\nRun status group 0 (all jobs):\n   READ: bw=477MiB/s (500MB/s), 238MiB/s-954MiB/s (250MB/s-1000MB/s), io=1953KiB (2000kB), run=1-4msec\n",
    );
    expect(text).toContain("\nRun status group 1 (all jobs):\n   READ: bw=1431MiB/s (1500MB/s), 1431MiB/s-1431MiB/s (1500MB/s-1500MB/s), io=2930KiB (3000kB), run=2-2msec\n");
  });
});

describe("group_reporting", () => {
  const a1 = result("a", { ioBytes: 4096, totalIos: 1, runtimeNs: 2_000, clatNs: [1_100] }, NONE, 0);
  const a2 = result("a", { ioBytes: 8192, totalIos: 2, runtimeNs: 3_000, clatNs: [1_200, 1_300] }, NONE, 9);
  const b1 = result("b", { ioBytes: 512, totalIos: 1, runtimeNs: 1_000, clatNs: [1_400] }, { ioBytes: 1024, totalIos: 1, runtimeNs: 5_000, clatNs: [1_500] }, 4);

  it("sumJobResults: bytes and commands add, runtime is the longest, latencies join, the first error wins", () => {
    expect(sumJobResults([a1, a2, b1])).toEqual({
      name: "a",
      error: 9,
      read: { ioBytes: 4096 + 8192 + 512, totalIos: 4, runtimeNs: 3_000, clatNs: [1_100, 1_200, 1_300, 1_400] },
      write: { ioBytes: 1024, totalIos: 1, runtimeNs: 5_000, clatNs: [1_500] },
    });
    expect(sumJobResults([b1], "renamed").name).toBe("renamed");
    expect(() => sumJobResults([])).toThrow("no results");
  });

  it("groupIds: a stonewall starts a new group, except on the first job", () => {
    expect(groupIds([{ stonewall: true }, { stonewall: false }, { stonewall: true }, { stonewall: true }, { stonewall: false }])).toEqual([0, 0, 1, 2, 2]);
  });

  it("without it every clone is an entry; with it, consecutive jobs of one group merge, named after the first", () => {
    const jobs = [spec("a", { numjobs: 2 }), spec("b")];
    expect(reportEntries(jobs, [[a1, a2], [b1]]).map((e) => [e.result.name, e.groupId, e.members, e.result.read.totalIos])).toEqual([
      ["a", 0, 1, 1],
      ["a", 0, 1, 2],
      ["b", 0, 1, 1],
    ]);
    const grouped = [spec("a", { numjobs: 2, groupReporting: true }), spec("b", { groupReporting: true })];
    const merged = reportEntries(grouped, [[a1, a2], [b1]]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toEqual({ result: sumJobResults([a1, a2, b1]), groupId: 0, members: 3 });
  });

  it("a stonewall, or a job without group_reporting, ends the merge", () => {
    const jobs = [spec("a", { numjobs: 2, groupReporting: true }), spec("b", { groupReporting: true, stonewall: true }), spec("c"), spec("d", { groupReporting: true })];
    const c1 = result("c", TEN_READS);
    const d1 = result("d", TEN_READS);
    const entries = reportEntries(jobs, [[a1, a2], [b1], [c1], [d1]]);
    expect(entries.map((e) => [e.result.name, e.groupId, e.members])).toEqual([
      ["a", 0, 2],
      ["b", 1, 1],
      ["c", 1, 1],
      ["d", 1, 1],
    ]);
    const text = formatFioText(entries);
    expect(text).toContain("a: (groupid=0, jobs=2): err= 9\n  read: IOPS=1000k, BW=3906MiB/s (4096MB/s)(12.0KiB/0.003msec)\n");
    expect(text).toContain("b: (groupid=1, jobs=1): err= 4");
  });

  it("insists on one result per clone", () => {
    expect(() => reportEntries([spec("a", { numjobs: 2 })], [[a1]])).toThrow("job a has numjobs=2 but 1 results");
    expect(() => reportEntries([spec("a")], [])).toThrow("1 jobs but results for 0");
  });
});

describe("the JSON report", () => {
  // A local time, so "time" is the same in every time zone.
  const now = new Date(2017, 5, 4, 9, 7, 54, 321);
  const nvmeHost = {
    engine: "verilator",
    verify_errors: 0,
    command_errors: 0,
    link_ceiling_bytes_per_s: { read: 1.78e9, write: 1.77e9 },
    binding_constraint: "link",
    sim: { cycles: 1_000_000, wall_s: 0.5, cycles_per_s: 2_000_000 },
  };

  it("fio's top-level keys, then nvme_host as given", () => {
    const report = fioJsonReport([{ result: result("r", TEN_READS), groupId: 0, members: 1 }], { nvmeHost, version: "nvme-host-0.1.0", now });
    expect(Object.keys(report)).toEqual(["fio version", "timestamp", "timestamp_ms", "time", "jobs", "nvme_host"]);
    expect(report["fio version"]).toBe("nvme-host-0.1.0");
    expect(report.timestamp_ms).toBe(now.getTime());
    expect(report.timestamp).toBe(Math.floor(now.getTime() / 1000));
    expect(report.time).toBe("Sun Jun  4 09:07:54 2017");
    expect(report.nvme_host).toEqual(nvmeHost);
    expect(fioJsonReport([], { nvmeHost: {} })["fio version"]).toBe("nvme-host");
  });

  it("a job's read figures, with fio's percentile keys and exact values", () => {
    const report = fioJsonReport([{ result: result("r", TEN_READS, NONE, 2), groupId: 3, members: 1 }], { nvmeHost, now });
    const job = report.jobs[0];
    expect(Object.keys(job)).toEqual(["jobname", "groupid", "error", "read", "write", "trim"]);
    expect(job).toMatchObject({ jobname: "r", groupid: 3, error: 2 });
    const read = job.read;
    expect(Object.keys(read)).toEqual(["io_bytes", "io_kbytes", "bw_bytes", "bw", "iops", "runtime", "total_ios", "short_ios", "drop_ios", "slat_ns", "clat_ns", "lat_ns"]);
    expect(read).toMatchObject({ io_bytes: 40960, io_kbytes: 40, bw_bytes: 40_960_000, bw: 40_000, iops: 10_000, runtime: 1, total_ios: 10, short_ios: 0, drop_ios: 0 });
    expect(read.clat_ns).toMatchObject({ min: 50_000, max: 140_000, mean: 95_000, N: 10 });
    expect(read.clat_ns.stddev).toBeCloseTo(Math.sqrt(8250e6 / 9), 6);
    expect(read.clat_ns.percentile).toEqual({
      "1.000000": 50_000,
      "5.000000": 50_000,
      "10.000000": 50_000,
      "20.000000": 60_000,
      "30.000000": 70_000,
      "40.000000": 80_000,
      "50.000000": 90_000,
      "60.000000": 100_000,
      "70.000000": 110_000,
      "80.000000": 120_000,
      "90.000000": 130_000,
      "95.000000": 140_000,
      "99.000000": 140_000,
      "99.500000": 140_000,
      "99.900000": 140_000,
      "99.950000": 140_000,
      "99.990000": 140_000,
    });
    expect(Object.keys(read.clat_ns.percentile ?? {})).toEqual(FIO_PERCENTILES.map((p) => p.toFixed(6)));
    // lat equals clat (no separate submission stage), without percentiles as fio's default; slat unmeasured.
    expect(read.lat_ns).toEqual({ min: 50_000, max: 140_000, mean: 95_000, stddev: read.clat_ns.stddev, N: 10 });
    expect(read.slat_ns).toEqual({ min: 0, max: 0, mean: 0, stddev: 0, N: 0 });
  });

  it("an unused direction has zero figures, runtime 0 and no percentile object", () => {
    const idleWrite: DirectionResult = { ioBytes: 0, totalIos: 0, runtimeNs: 5_000_000, clatNs: [] };
    const job = fioJsonReport([{ result: result("r", TEN_READS, idleWrite), groupId: 0, members: 1 }], { nvmeHost, now }).jobs[0];
    for (const d of [job.write, job.trim]) {
      expect(d).toMatchObject({ io_bytes: 0, io_kbytes: 0, bw_bytes: 0, bw: 0, iops: 0, runtime: 0, total_ios: 0 });
      expect(d.clat_ns).toEqual({ min: 0, max: 0, mean: 0, stddev: 0, N: 0 });
    }
  });

  it("short runtimes are fractional msec; bandwidth and IOPS come from the exact ns", () => {
    // 3 writes of 128 KiB in 333333 ns: 393216 B / 333.333 us = 1179649179 B/s (floored), 9000.009 IOPS.
    const d: DirectionResult = { ioBytes: 3 * 131072, totalIos: 3, runtimeNs: 333_333, clatNs: [1, 2, 3] };
    const write = fioJsonReport([{ result: result("w", NONE, d), groupId: 0, members: 1 }], { nvmeHost, now }).jobs[0].write;
    expect(write.runtime).toBe(0.333333);
    expect(write.bw_bytes).toBe(Math.floor(393216 / 0.000333333));
    expect(write.bw_bytes).toBe(1_179_649_179);
    expect(write.bw).toBe(Math.floor(1_179_649_179 / 1024));
    expect(write.iops).toBeCloseTo(9000.009, 3);
    expect(write.io_kbytes).toBe(384);
  });

  it("formatFioJson is that object as JSON text that parses back to it", () => {
    const entries: ReportEntry[] = [{ result: result("r", TEN_READS), groupId: 0, members: 1 }];
    const text = formatFioJson(entries, { nvmeHost, now });
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(fioJsonReport(entries, { nvmeHost, now }))));
    expect(JSON.parse(text).jobs[0].read.clat_ns.percentile["99.990000"]).toBe(140_000);
  });
});
