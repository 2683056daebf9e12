// fio's job options: every option the main job names (issue 11), fio's units and defaults, the job
// file's INI rules ([global] inheritance, comments, flags), the command line's rules (--name starts a
// job, options before it are global, the command line overrides the file's [global]), the notices for
// options that mean nothing here, and every kind of bad input with its exact location in the message.
import { describe, expect, it } from "vitest";
import {
  checkJobAgainstNamespace,
  DEFAULT_SYSTEM_OPTIONS,
  FIO_DEFAULT_RANDSEED,
  FioJobError,
  JOB_DEFAULTS,
  MAX_IODEPTH,
  MAX_NUMJOBS,
  parseFioSize,
  parseFioTime,
  parseJobs,
} from "../../../sim/workload/fio-job.ts";
import type { JobSpec } from "../../../sim/workload/job.ts";

/** The one job a file with these lines makes (a [global] header is added when `global` is given). */
function fileJob(body: string, global = ""): JobSpec {
  const text = `${global === "" ? "" : `[global]\n${global}\n`}[j]\n${body}\n`;
  const { jobs } = parseJobs({ file: { path: "job.fio", text } });
  expect(jobs).toHaveLength(1);
  return jobs[0];
}

/** The one job a command line makes. */
function cliJob(...args: string[]): JobSpec {
  const { jobs } = parseJobs({ args });
  expect(jobs).toHaveLength(1);
  return jobs[0];
}

function fileError(text: string, path = "job.fio"): FioJobError {
  try {
    parseJobs({ file: { path, text } });
  } catch (e) {
    expect(e).toBeInstanceOf(FioJobError);
    return e as FioJobError;
  }
  throw new Error("expected a FioJobError");
}

function cliError(...args: string[]): FioJobError {
  try {
    parseJobs({ args });
  } catch (e) {
    expect(e).toBeInstanceOf(FioJobError);
    return e as FioJobError;
  }
  throw new Error("expected a FioJobError");
}

describe("defaults", () => {
  it("are fio's: read, 4k, QD1, whole namespace, 50 % reads, one clone, no verify, seed 0x89", () => {
    const job = cliJob();
    expect(job).toEqual({ name: "job", ...JOB_DEFAULTS });
    expect(job).toEqual({
      name: "job",
      rw: "read",
      bs: 4096,
      iodepth: 1,
      size: null,
      offset: 0,
      numberIos: null,
      runtimeNs: null,
      rampTimeNs: 0,
      timeBased: false,
      rwmixread: 50,
      numjobs: 1,
      verify: false,
      randseed: 0x89,
      stonewall: false,
      groupReporting: false,
    });
    expect(FIO_DEFAULT_RANDSEED).toBe(137);
  });

  it("a file job without rw reads (fio's default), named after its section", () => {
    const job = fileJob("bs=8k");
    expect(job.rw).toBe("read");
    expect(job.name).toBe("j");
    expect(job.bs).toBe(8192);
  });
});

describe("options, each in a file and on the command line", () => {
  it("rw: every pattern, and fio's aliases rw=rw and the option name readwrite", () => {
    for (const mode of ["read", "write", "randread", "randwrite", "readwrite", "randrw"] as const) {
      expect(fileJob(`rw=${mode}`).rw).toBe(mode);
      expect(cliJob(`--rw=${mode}`).rw).toBe(mode);
    }
    expect(fileJob("rw=rw").rw).toBe("readwrite");
    expect(cliJob("--rw=rw").rw).toBe("readwrite");
    expect(fileJob("readwrite=randwrite").rw).toBe("randwrite");
    expect(cliJob("--readwrite=randrw").rw).toBe("randrw");
  });

  it("bs: plain bytes, k/m with and without b, any case, hex, and the blocksize alias", () => {
    expect(fileJob("bs=512").bs).toBe(512);
    expect(fileJob("bs=4k").bs).toBe(4096);
    expect(fileJob("bs=4K").bs).toBe(4096);
    expect(fileJob("bs=4kb").bs).toBe(4096);
    expect(fileJob("bs=16KB").bs).toBe(16384);
    expect(fileJob("bs=1m").bs).toBe(1048576);
    expect(fileJob("bs=4096b").bs).toBe(4096);
    expect(fileJob("bs=0x2000").bs).toBe(8192);
    expect(fileJob("blocksize=32k").bs).toBe(32768);
    expect(cliJob("--bs=128k").bs).toBe(131072);
    expect(cliJob("--blocksize=2k").bs).toBe(2048);
  });

  it("bs: fio's per-direction form is accepted when reads and writes agree", () => {
    expect(fileJob("bs=8k,8k").bs).toBe(8192);
    expect(fileJob("bs=8k,8k,64k").bs).toBe(8192); // the trim size never matters
    expect(fileJob("bs=,4k").bs).toBe(4096); // read = fio's default 4096
  });

  it("kb_base: 1024 (fio's default) inverts the IEC suffixes; 1000 makes k decimal and KiB binary", () => {
    const iec = parseJobs({ file: { path: "job.fio", text: "[j]\nbs=8KiB\n" } });
    expect(iec.jobs[0].bs).toBe(8000);
    expect(iec.notices).toEqual([
      "job.fio:2: bs=8KiB: with fio's default kb_base=1024, KiB/MiB/GiB mean powers of 1000 (fio's compatibility rule); write k/m/g for powers of 1024, or set kb_base=1000",
    ]);
    expect(fileJob("bs=8k\nkb_base=1000").bs).toBe(8000);
    // kb_base applies wherever it is written in the job, as fio sorts it first.
    expect(fileJob("bs=8KiB\nsize=2mib\noffset=1k", "kb_base=1000")).toMatchObject({ bs: 8192, size: 2097152, offset: 1000 });
    expect(parseJobs({ file: { path: "job.fio", text: "[j]\nkb_base=1000\nbs=8KiB\n" } }).notices).toEqual([]);
    expect(cliJob("--kb_base=1000", "--size=3m").size).toBe(3_000_000);
  });

  it("iodepth", () => {
    expect(fileJob("iodepth=32").iodepth).toBe(32);
    expect(cliJob("--iodepth=7").iodepth).toBe(7);
    expect(cliJob(`--iodepth=${MAX_IODEPTH}`).iodepth).toBe(65535);
  });

  it("size: units up to t, and 0 meaning the whole namespace (fio's unset)", () => {
    expect(fileJob("size=64m").size).toBe(64 * 2 ** 20);
    expect(fileJob("size=3g").size).toBe(3 * 2 ** 30);
    expect(fileJob("size=2t").size).toBe(2 * 2 ** 40);
    expect(fileJob("size=0").size).toBeNull();
    expect(cliJob("--size=12k").size).toBe(12288);
  });

  it("offset, and its alias fileoffset", () => {
    expect(fileJob("offset=1m").offset).toBe(2 ** 20);
    expect(fileJob("fileoffset=96k").offset).toBe(98304);
    expect(cliJob("--offset=8192").offset).toBe(8192);
  });

  it("number_ios, with 0 meaning no limit", () => {
    expect(fileJob("number_ios=1000").numberIos).toBe(1000);
    expect(fileJob("number_ios=0").numberIos).toBeNull();
    expect(cliJob("--number_ios=77").numberIos).toBe(77);
  });

  it("runtime: fio's time units, plain numbers in seconds, and the timeout alias", () => {
    expect(fileJob("runtime=2ms").runtimeNs).toBe(2_000_000);
    expect(fileJob("runtime=500us").runtimeNs).toBe(500_000);
    expect(fileJob("runtime=3").runtimeNs).toBe(3e9);
    expect(fileJob("runtime=4s").runtimeNs).toBe(4e9);
    expect(fileJob("runtime=7msec").runtimeNs).toBe(7e6);
    expect(fileJob("runtime=9usec").runtimeNs).toBe(9000);
    expect(fileJob("runtime=2MS").runtimeNs).toBe(2e6);
    expect(fileJob("runtime=1h").runtimeNs).toBe(3600e9);
    expect(fileJob("runtime=1d").runtimeNs).toBe(86400e9);
    expect(fileJob("runtime=0").runtimeNs).toBeNull();
    expect(fileJob("timeout=6ms").runtimeNs).toBe(6e6);
    expect(cliJob("--runtime=250us").runtimeNs).toBe(250_000);
  });

  it("runtime=2m is two minutes, as in fio, with a notice saying so", () => {
    const parsed = parseJobs({ args: ["--runtime=2m"] });
    expect(parsed.jobs[0].runtimeNs).toBe(120e9);
    expect(parsed.notices).toEqual(["--runtime=2m: fio reads m as minutes (120 s of simulated time); write 2ms for milliseconds"]);
  });

  it("ramp_time", () => {
    expect(fileJob("ramp_time=100us").rampTimeNs).toBe(100_000);
    expect(fileJob("ramp_time=1").rampTimeNs).toBe(1e9);
    expect(cliJob("--ramp_time=3ms").rampTimeNs).toBe(3e6);
  });

  it("time_based: bare flag, =1, =0", () => {
    expect(fileJob("time_based\nruntime=1ms").timeBased).toBe(true);
    expect(fileJob("time_based=1\nruntime=1ms").timeBased).toBe(true);
    expect(fileJob("time_based=0").timeBased).toBe(false);
    expect(cliJob("--time_based", "--runtime=1ms").timeBased).toBe(true);
    expect(cliJob("--time_based=0").timeBased).toBe(false);
  });

  it("rwmixread, and rwmixwrite as its complement; when both are given the later wins (fio)", () => {
    expect(fileJob("rw=randrw\nrwmixread=70").rwmixread).toBe(70);
    expect(fileJob("rw=randrw\nrwmixwrite=30").rwmixread).toBe(70);
    expect(fileJob("rwmixread=10\nrwmixwrite=25").rwmixread).toBe(75);
    expect(fileJob("rwmixwrite=25\nrwmixread=10").rwmixread).toBe(10);
    expect(fileJob("rwmixwrite=40", "rwmixread=90").rwmixread).toBe(60);
    expect(fileJob("rwmixread=0").rwmixread).toBe(0);
    expect(fileJob("rwmixread=100").rwmixread).toBe(100);
    expect(cliJob("--rw=rw", "--rwmixwrite=80").rwmixread).toBe(20);
  });

  it("numjobs", () => {
    expect(fileJob("numjobs=4").numjobs).toBe(4);
    expect(cliJob(`--numjobs=${MAX_NUMJOBS}`).numjobs).toBe(256);
  });

  it("verify: every checking method means check; 0 and none disable; null only pretends", () => {
    for (const method of ["md5", "crc64", "crc32", "crc32c", "crc32c-intel", "crc16", "crc7", "sha1", "sha256", "sha512", "sha3-224", "sha3-256", "sha3-384", "sha3-512", "xxhash", "meta", "pattern", "pattern_hdr"]) {
      expect(fileJob(`verify=${method}`).verify).toBe(true);
    }
    expect(fileJob("verify=0").verify).toBe(false);
    expect(fileJob("verify=none").verify).toBe(false);
    expect(cliJob("--verify=crc32c").verify).toBe(true);
    const pretend = parseJobs({ file: { path: "v.fio", text: "[j]\nverify=null\n" } });
    expect(pretend.jobs[0].verify).toBe(false);
    expect(pretend.notices).toEqual(["v.fio:2: verify=null: fio's null method only pretends to verify; reads are not checked"]);
  });

  it("verify as a bare flag checks, with a notice that fio wants a method", () => {
    const bare = parseJobs({ file: { path: "v.fio", text: "[j]\nverify\n" } });
    expect(bare.jobs[0].verify).toBe(true);
    expect(bare.notices).toEqual(['v.fio:2: verify: fio wants a method (e.g. verify=crc32c); taken as "check every read"']);
    const cli = parseJobs({ args: ["--verify", "--bs=8k"] });
    expect(cli.jobs[0]).toMatchObject({ verify: true, bs: 8192 });
  });

  it("randseed: decimal and hex", () => {
    expect(fileJob("randseed=1234").randseed).toBe(1234);
    expect(fileJob("randseed=0x10").randseed).toBe(16);
    expect(cliJob("--randseed=99").randseed).toBe(99);
  });

  it("name renames a job section; --name names a command-line job", () => {
    expect(fileJob("name=renamed").name).toBe("renamed");
    expect(cliJob("--name=seqread", "--rw=read").name).toBe("seqread");
  });

  it("stonewall, its alias wait_for_previous, and group_reporting", () => {
    expect(fileJob("stonewall").stonewall).toBe(true);
    expect(fileJob("wait_for_previous").stonewall).toBe(true);
    expect(fileJob("stonewall=0").stonewall).toBe(false);
    expect(fileJob("group_reporting").groupReporting).toBe(true);
    expect(cliJob("--stonewall", "--group_reporting").groupReporting).toBe(true);
    expect(cliJob("--wait_for_previous").stonewall).toBe(true);
  });
});

describe("job files", () => {
  const file = [
    "; a job file in fio's style",
    "# both comment characters",
    "[global]",
    "rw=randread        ; inline comment",
    "bs = 4k            # spaces around = and an inline # comment",
    "  iodepth=16",
    "ioengine=libaio",
    "",
    "[first]",
    "size=64m",
    "",
    "[second]",
    "rw=write",
    "iodepth=4",
    "",
    "[global]",
    "numjobs=3",
    "bs=8k",
    "",
    "[ third ]",
    "group_reporting",
    "[fourth]",
    "stonewall",
  ].join("\n");

  it("[global] reaches the jobs below it; a job's options override it; a later [global] affects later jobs only", () => {
    const { jobs, notices } = parseJobs({ file: { path: "suite.fio", text: file } });
    expect(jobs.map((j) => j.name)).toEqual(["first", "second", "third", "fourth"]);
    expect(jobs[0]).toMatchObject({ rw: "randread", bs: 4096, iodepth: 16, size: 64 * 2 ** 20, numjobs: 1 });
    expect(jobs[1]).toMatchObject({ rw: "write", bs: 4096, iodepth: 4, size: null, numjobs: 1 });
    expect(jobs[2]).toMatchObject({ rw: "randread", bs: 8192, iodepth: 16, numjobs: 3, groupReporting: true, stonewall: false });
    expect(jobs[3]).toMatchObject({ rw: "randread", bs: 8192, numjobs: 3, groupReporting: false, stonewall: true });
    expect(notices).toEqual(["suite.fio:7: ioengine=libaio: ignored (the controller is the I/O engine; there is no OS or host CPU in the path)"]);
  });

  it("sections with no options are jobs made of [global] alone (fio's own example)", () => {
    const { jobs } = parseJobs({ file: { path: "job.fio", text: "[global]\nrw=randread\nsize=128m\n\n[job1]\n\n[job2]\n" } });
    expect(jobs).toEqual([
      { ...JOB_DEFAULTS, name: "job1", rw: "randread", size: 128 * 2 ** 20 },
      { ...JOB_DEFAULTS, name: "job2", rw: "randread", size: 128 * 2 ** 20 },
    ]);
  });

  it("a duplicate section is a second job, with a notice", () => {
    const { jobs, notices } = parseJobs({ file: { path: "dup.fio", text: "[a]\nbs=8k\n[a]\nbs=16k\n" } });
    expect(jobs.map((j) => [j.name, j.bs])).toEqual([["a", 8192], ["a", 16384]]);
    expect(notices).toEqual(['dup.fio:3: [a]: a second job named "a"; both run and are reported separately (as in fio)']);
  });

  it("CRLF line ends, a byte-order mark, tabs, and an option repeated (the last wins)", () => {
    const { jobs } = parseJobs({ file: { path: "win.fio", text: "\uFEFF[w]\r\n\tbs=4k\r\n\tbs=16k\r\nrw=write\r\n" } });
    expect(jobs[0]).toMatchObject({ name: "w", bs: 16384, rw: "write" });
  });

  it("fio's ${VAR} expansion from the environment given; an unset one is empty, with a notice", () => {
    const { jobs } = parseJobs({ file: { path: "env.fio", text: "[e]\nsize=${SIZE}\nnumjobs=${NUMJOBS}\n" }, env: { SIZE: "64m", NUMJOBS: "4" } });
    expect(jobs[0]).toMatchObject({ size: 64 * 2 ** 20, numjobs: 4 });
    const e = fileError("[e]\nbs=${NOPE}\n", "env.fio");
    expect(e.message).toBe("env.fio:2: bs=: needs a value");
  });

  it("a value holding ; or # is cut there, as fio does", () => {
    expect(fileJob("name=disk#2").name).toBe("disk");
  });
});

describe("the command line", () => {
  it("without --name the options make one job named job", () => {
    const { jobs } = parseJobs({ args: ["--rw=randread", "--bs=4k", "--iodepth=32", "--size=64m", "--number_ios=500", "--runtime=2ms", "--rwmixread=70", "--numjobs=2", "--verify=md5", "--randseed=7"] });
    expect(jobs).toEqual([
      {
        ...JOB_DEFAULTS,
        name: "job",
        rw: "randread",
        bs: 4096,
        iodepth: 32,
        size: 64 * 2 ** 20,
        numberIos: 500,
        runtimeNs: 2e6,
        rwmixread: 70,
        numjobs: 2,
        verify: true,
        randseed: 7,
      },
    ]);
  });

  it("--name starts a job; options before the first --name are global; --name=global resumes global options for later jobs", () => {
    const { jobs } = parseJobs({ args: ["--iodepth=8", "--rw=write", "--name=a", "--bs=8k", "--name=b", "--rw=randread", "--name=global", "--iodepth=2", "--name=c"] });
    expect(jobs.map((j) => [j.name, j.rw, j.bs, j.iodepth])).toEqual([
      ["a", "write", 8192, 8],
      ["b", "randread", 4096, 8],
      ["c", "write", 4096, 2],
    ]);
  });

  it("takes a value from the next argument as getopt does (--bs 16k, --name seq)", () => {
    const job = cliJob("--name", "seq", "--bs", "16k", "--rw", "write");
    expect(job).toMatchObject({ name: "seq", bs: 16384, rw: "write" });
  });

  it("passes system options, short options and positionals through in order, with their values", () => {
    const { jobs, systemArgs } = parseJobs({
      args: ["--ssd", "consumer", "--bs=8k", "--gen=2", "-h", "--lanes", "4", "--json", "--engine=js", "--output-format=json", "--trace", "t.txt", "--vcd=w.vcd", "--mps=256", "--mrrs", "512", "--slots=16", "--buffer=64k", "extra"],
    });
    expect(jobs[0].bs).toBe(8192);
    expect(systemArgs).toEqual(["--ssd", "consumer", "--gen=2", "-h", "--lanes", "4", "--json", "--engine=js", "--output-format=json", "--trace", "t.txt", "--vcd=w.vcd", "--mps=256", "--mrrs", "512", "--slots=16", "--buffer=64k", "extra"]);
    expect(Object.keys(DEFAULT_SYSTEM_OPTIONS)).toEqual(expect.arrayContaining(["ssd", "gen", "lanes", "mps", "mrrs", "slots", "buffer", "engine", "trace", "vcd", "output-format", "json"]));
  });

  it("everything after -- is the CLI's", () => {
    const { jobs, systemArgs } = parseJobs({ args: ["--bs=8k", "--", "--bs=16k", "x"] });
    expect(jobs[0].bs).toBe(8192);
    expect(systemArgs).toEqual(["--", "--bs=16k", "x"]);
  });

  it("takes the CLI's own table of system options", () => {
    const { systemArgs } = parseJobs({ args: ["--seed-from", "3", "--bs=8k"], systemOptions: { "seed-from": "value" } });
    expect(systemArgs).toEqual(["--seed-from", "3"]);
    expect(() => parseJobs({ args: ["--ssd=x"], systemOptions: {} })).toThrow(/^--ssd=x: unknown option/);
  });
});

describe("a job file with command-line options", () => {
  const text = "[global]\niodepth=4\nbs=8k\n\n[seq]\nrw=read\n\n[deep]\nrw=randread\niodepth=32\n";

  it("the command line overrides the file's [global]; a job section still wins, with a notice", () => {
    const { jobs, notices, systemArgs } = parseJobs({ file: { path: "two.fio", text }, args: ["--iodepth=64", "--bs=16k", "--engine", "verilator"] });
    expect(jobs.map((j) => [j.name, j.iodepth, j.bs])).toEqual([
      ["seq", 64, 16384],
      ["deep", 32, 16384],
    ]);
    expect(notices).toEqual(["--iodepth=64: job [deep] sets iodepth=32 (two.fio:10), which wins"]);
    expect(systemArgs).toEqual(["--engine", "verilator"]);
  });

  it("--name is refused: the jobs come from the file", () => {
    expect(() => parseJobs({ file: { path: "two.fio", text }, args: ["--name=more"] })).toThrow(
      "--name=more: jobs come from the job file; options without --name override its [global]",
    );
  });
});

describe("options that mean nothing here", () => {
  it("are accepted with one notice each, naming where they first appear", () => {
    const text = [
      "[global]",
      "filename=/dev/nvme0n1",
      "ioengine=io_uring",
      "direct=1",
      "thread",
      "norandommap",
      "randrepeat=0",
      "write_bw_log=bw",
      "write_lat_log=lat",
      "log_avg_msec=1000",
      "[a]",
      "ioengine=libaio",
      "[b]",
      "description=second job",
    ].join("\n");
    const { jobs, notices } = parseJobs({ file: { path: "n.fio", text } });
    expect(jobs.map((j) => j.name)).toEqual(["a", "b"]);
    expect(jobs[0]).toMatchObject({ ...JOB_DEFAULTS, name: "a" });
    expect(notices).toEqual([
      "n.fio:2: filename=/dev/nvme0n1: ignored (the target is the SSD model's namespace, not a file)",
      "n.fio:3: ioengine=io_uring: ignored (the controller is the I/O engine; there is no OS or host CPU in the path)",
      "n.fio:4: direct=1: ignored (the controller is the I/O engine; there is no OS or host CPU in the path)",
      "n.fio:5: thread: ignored (the controller is the I/O engine; there is no OS or host CPU in the path)",
      "n.fio:6: norandommap: ignored (offsets come from randseed; a run is always repeatable and random offsets may repeat)",
      "n.fio:7: randrepeat=0: ignored (offsets come from randseed; a run is always repeatable and random offsets may repeat)",
      "n.fio:8: write_bw_log=bw: ignored (no log files are written (the JSON output has the figures))",
      "n.fio:9: write_lat_log=lat: ignored (no log files are written (the JSON output has the figures))",
      "n.fio:10: log_avg_msec=1000: ignored (no log files are written (the JSON output has the figures))",
      "n.fio:14: description=second job: ignored (the report's statistics are fixed: completion latency with fio's default percentiles)",
    ]);
  });

  it("on the command line too", () => {
    const { notices } = parseJobs({ args: ["--ioengine=libaio", "--direct=1", "--rw=write"] });
    expect(notices).toEqual([
      "--ioengine=libaio: ignored (the controller is the I/O engine; there is no OS or host CPU in the path)",
      "--direct=1: ignored (the controller is the I/O engine; there is no OS or host CPU in the path)",
    ]);
  });
});

describe("bad job files: the message names file:line, the option and the value", () => {
  it("a bad size", () => {
    const e = fileError("[global]\nrw=read\n[j]\n\n; comment\nbs=4q\n");
    expect(e.message).toBe(
      'job.fio:6: bs=4q: not a size: unknown unit "q" (a whole number of bytes with an optional unit k, m, g, t, p (kb_base=1024: powers of 1024) or KiB, MiB...; e.g. 4096, 4k, 128k, 64m)',
    );
    expect(e.location).toBe("job.fio:6");
    expect(e.option).toBe("bs");
    expect(e.value).toBe("4q");
  });

  const cases: [string, string][] = [
    ["[j]\nbs=abc", "job.fio:2: bs=abc: not a size ("],
    ["[j]\nbs=-4k", "job.fio:2: bs=-4k: not a size ("],
    ["[j]\nbs=1.5k", "job.fio:2: bs=1.5k: not a whole number (fio takes no fractions; write 1536k, not 1.5m)"],
    ["[j]\nbs=0", "job.fio:2: bs=0: must be more than 0"],
    ["[j]\nbs=2g", "job.fio:2: bs=2g: more than 1073741824 bytes (1 GiB)"],
    ["[j]\nbs=4k,8k", "job.fio:2: bs=4k,8k: different read (4096) and write (8192) block sizes are not supported (one block size per job)"],
    ["[j]\nbs=8k,", "job.fio:2: bs=8k,: different read (8192) and write (4096) block sizes"],
    ["[j]\nbs=", "job.fio:2: bs=: needs a value"],
    ["[j]\nbs", "job.fio:2: bs: needs a value"],
    ["[j]\nsize=50%", "job.fio:2: size=50%: percentages of the namespace are not supported (a job holds bytes); give a size such as 64m"],
    ["[j]\noffset=10%", "job.fio:2: offset=10%: percentages of the namespace are not supported"],
    ["[j]\nsize=4z", "job.fio:2: size=4z: zones (fio's zonemode) are not modelled"],
    ["[j]\nsize=99999999999p", "job.fio:2: size=99999999999p: too large (more than 2^53 - 1)"],
    ["[j]\niodepth=0", "job.fio:2: iodepth=0: must be at least 1"],
    ["[j]\niodepth=65536", "job.fio:2: iodepth=65536: more than 65535 (an NVMe I/O queue holds at most 65535 commands)"],
    ["[j]\niodepth=deep", "job.fio:2: iodepth=deep: not a number (a whole number, e.g. 32"],
    ["[j]\nnumjobs=0", "job.fio:2: numjobs=0: must be at least 1"],
    ["[j]\nnumjobs=257", "job.fio:2: numjobs=257: more than 256 clones"],
    ["[j]\nrwmixread=101", "job.fio:2: rwmixread=101: more than 100 (a percentage)"],
    ["[j]\nrwmixwrite=150", "job.fio:2: rwmixwrite=150: more than 100 (a percentage)"],
    ["[j]\nruntime=1.5ms", "job.fio:2: runtime=1.5ms: not a whole number (fio takes no fractions; write 1500us, not 1.5ms)"],
    ["[j]\nruntime=5x", 'job.fio:2: runtime=5x: not a time: unknown unit "x"'],
    ["[j]\nramp_time=soon", "job.fio:2: ramp_time=soon: not a time (a whole number with an optional unit d, h, m (minutes), s, ms, us; no unit = seconds, as in fio; e.g. 2ms, 500us)"],
    ["[j]\ntime_based=2", "job.fio:2: time_based=2: not 0 or 1 (a bare flag means 1)"],
    ["[j]\nstonewall=yes", "job.fio:2: stonewall=yes: not 0 or 1"],
    ["[j]\ntime_based=", "job.fio:2: time_based=: empty value (write the bare flag, or 0 or 1)"],
    ["[j]\nrw=sideways", "job.fio:2: rw=sideways: not an I/O pattern (read, write, randread, randwrite, rw/readwrite, randrw)"],
    ["[j]\nrw=randtrim", "job.fio:2: rw=randtrim: trims are not modelled"],
    ["[j]\nrw=randread:8", 'job.fio:2: rw=randread:8: fio\'s offset modifier ":8" is not supported'],
    ["[j]\nverify=sha999", "job.fio:2: verify=sha999: not a verify method (0 or none to disable; md5, crc64"],
    ["[j]\nkb_base=512", "job.fio:2: kb_base=512: not 1000 or 1024"],
    ["[j]\nbz=4k", "job.fio:2: bz=4k: unknown option (not a fio job option nvme-host knows); did you mean bs?"],
    ["[j]\nfrobnicate=1", "job.fio:2: frobnicate=1: unknown option (not a fio job option nvme-host knows)"],
    ["[j]\nbssplit=4k/50:8k/50", "job.fio:2: bssplit=4k/50:8k/50: fio's bssplit is not supported by nvme-host (one block size per job)"],
    ["[j]\nrate_iops=1000", "job.fio:2: rate_iops=1000: fio's rate_iops is not supported by nvme-host (no rate limits or think time)"],
    ["[j]\nloops=3", "job.fio:2: loops=3: fio's loops is not supported by nvme-host (size, number_ios and runtime bound the job)"],
    ["[j]\nsize=$mb_memory", "job.fio:2: size=$mb_memory: fio's $mb_memory describes the host running fio; give a number"],
    ["[j]\nsize=(1+2)", "job.fio:2: size=(1+2): fio's arithmetic expressions are not supported; give a number"],
    ["rw=read\n[j]", "job.fio:1: rw=read: option outside of a [section] (put it under [global] or a job's [name])"],
    ["[j]\n[broken\nbs=4k", "job.fio:2: [broken: not a section header (write [name] alone on the line)"],
    ["[j] extra\n", "job.fio:1: [j] extra: not a section header"],
    ["[]\n", "job.fio:1: []: a section needs a name"],
    ["[j]\ninclude other.fio", "job.fio:2: include other.fio: fio's include is not supported; put the options in this file"],
    ["[j]\nblock size=4k", "job.fio:2: block size=4k: not an option (write option=value or a bare flag)"],
    ["[j]\n=4k", "job.fio:2: =4k: not an option"],
    ["[global]\nrw=write\n", "job.fio: no job sections (only [global] or nothing): add a [name] section per job"],
    ["; nothing\n\n", "job.fio: no job sections"],
  ];
  for (const [text, message] of cases) {
    it(message, () => {
      expect(fileError(text).message.startsWith(message)).toBe(true);
    });
  }

  it("job-level contradictions name the option's line and the other one's", () => {
    expect(fileError("[global]\nbs=8k\n[j]\nsize=4k\n").message).toBe("job.fio:4: size=4k: smaller than one block (bs=8192 (job.fio:2)) in job j");
    expect(fileError("[j]\nsize=2k\n").message).toBe("job.fio:2: size=2k: smaller than one block (bs=4096, fio's default) in job j");
    expect(fileError("[global]\ntime_based\n[j]\nrw=write\n").message).toBe(
      "job.fio:2: time_based: needs runtime (it loops over the region until runtime has passed) in job j",
    );
  });

  it("a bad [global] value is an error even if every job overrides it (fio checks each line)", () => {
    expect(fileError("[global]\nbs=4q\n[j]\nbs=4k\n").message.startsWith("job.fio:2: bs=4q: not a size")).toBe(true);
  });
});

describe("bad command lines: the message starts with the option as given", () => {
  const cases: [string[], string][] = [
    [["--bs=4q"], '--bs=4q: not a size: unknown unit "q"'],
    [["--bs", "4q"], "--bs=4q: not a size"],
    [["--iodepth=0"], "--iodepth=0: must be at least 1"],
    [["--rw=randwite"], "--rw=randwite: not an I/O pattern"],
    [["--runtime=2 ms"], "--runtime=2 ms: not a time"],
    [["--rwmixread=101"], "--rwmixread=101: more than 100"],
    [["--verify=yes"], "--verify=yes: not a verify method"],
    [["--size=50%"], "--size=50%: percentages of the namespace are not supported"],
    [["--bz=4k"], "--bz=4k: unknown option (not a fio job option nvme-host knows, nor a system option); did you mean bs?"],
    [["--engin=js"], "--engin=js: unknown option (not a fio job option nvme-host knows, nor a system option); did you mean engine?"],
    [["--iodepth"], "--iodepth: needs a value"],
    [["--name="], "--name=: needs a value (the job's name)"],
    [["--name=global", "--bs=8k"], "--name=global: sets defaults only; add --name=JOB for each job"],
    [["--time_based"], "--time_based: needs runtime (it loops over the region until runtime has passed) in job job"],
    [["--name=q", "--size=1k"], "--size=1k: smaller than one block (bs=4096, fio's default) in job q"],
    [["--bs=64k", "--name=q", "--size=8k"], "--size=8k: smaller than one block (bs=65536 (--bs=64k)) in job q"],
    [["--name=q", "--time_based=1"], "--time_based=1: needs runtime"],
    [["--zonemode=zbd"], "--zonemode=zbd: fio's zonemode is not supported by nvme-host"],
  ];
  for (const [args, message] of cases) {
    it(message, () => {
      const e = cliError(...args);
      expect(e.message.startsWith(message)).toBe(true);
    });
  }

  it("carries the option and value", () => {
    const e = cliError("--numjobs=1000");
    expect(e.message).toBe("--numjobs=1000: more than 256 clones");
    expect(e.location).toBe("--numjobs");
    expect(e.option).toBe("numjobs");
    expect(e.value).toBe("1000");
  });
});

describe("value parsers", () => {
  it("parseFioSize: kb_base 1024 and 1000, with fio's inverted IEC suffixes", () => {
    expect(parseFioSize("1t")).toBe(2 ** 40);
    expect(parseFioSize("1ti")).toBe(1e12);
    expect(parseFioSize("1000ki")).toBe(1e6);
    expect(parseFioSize("3p")).toBe(3 * 2 ** 50);
    expect(parseFioSize("1m", 1000)).toBe(1e6);
    expect(parseFioSize("1mi", 1000)).toBe(2 ** 20);
    expect(parseFioSize("4KiB", 1000)).toBe(4096);
    expect(parseFioSize(" 12 ")).toBe(12);
    expect(() => parseFioSize("1kk")).toThrow(/unknown unit "kk"/);
  });

  it("parseFioTime: ns from fio's units", () => {
    expect(parseFioTime("1")).toBe(1e9);
    expect(parseFioTime("1sec")).toBe(1e9);
    expect(parseFioTime("2m")).toBe(120e9);
    expect(parseFioTime("3H")).toBe(3 * 3600e9);
    expect(parseFioTime("15us")).toBe(15_000);
    expect(() => parseFioTime("5ns")).toThrow(/unknown unit "ns"/);
  });
});

describe("checkJobAgainstNamespace", () => {
  const ns = { lbaBytes: 512, capacityBytes: 1 << 20 };
  const job = (over: Partial<JobSpec>): JobSpec => ({ ...JOB_DEFAULTS, name: "r", ...over });

  it("returns the region: size from offset, or to the end of the namespace", () => {
    expect(checkJobAgainstNamespace(job({ offset: 4096, size: 65536 }), ns)).toEqual({ offsetBytes: 4096, regionBytes: 65536 });
    expect(checkJobAgainstNamespace(job({ offset: 8192 }), ns)).toEqual({ offsetBytes: 8192, regionBytes: (1 << 20) - 8192 });
    expect(checkJobAgainstNamespace(job({ bs: 1536 }), ns)).toEqual({ offsetBytes: 0, regionBytes: 1 << 20 });
    expect(checkJobAgainstNamespace(job({ offset: (1 << 20) - 4096 }), ns).regionBytes).toBe(4096);
  });

  it("throws for what the namespace cannot hold, naming the job, the option and the value", () => {
    const cases: [Partial<JobSpec>, string, string, string][] = [
      [{ bs: 4000 }, "bs", "4000", "job r: bs=4000: not a multiple of the namespace's LBA size (512 bytes)"],
      [{ offset: 100 }, "offset", "100", "job r: offset=100: not a multiple of the namespace's LBA size (512 bytes)"],
      [{ offset: 1 << 20 }, "offset", "1048576", "job r: offset=1048576: at or beyond the end of the namespace (1048576 bytes)"],
      [{ offset: 512 * 1024, size: 1 << 20 }, "size", "1048576", "job r: size=1048576: offset 524288 + size ends at 1572864, beyond the namespace (1048576 bytes)"],
      [{ offset: (1 << 20) - 2048 }, "bs", "4096", "job r: bs=4096: larger than the region (2048 bytes from offset 1046528)"],
    ];
    for (const [over, option, value, message] of cases) {
      let thrown: unknown;
      try {
        checkJobAgainstNamespace(job(over), ns);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(FioJobError);
      expect(thrown).toMatchObject({ message, location: "job r", option, value });
    }
  });
});
