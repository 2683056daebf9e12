// The sim and estimate commands end to end: a job file and options in, fio's layouts out, bad input
// named. The simulation case is a small verified run on the js engine (seconds).
import { describe, expect, it } from "vitest";
import { JobUsageError, estimateCommand, parseJobCommand, simCommand } from "../../tools/sim-command.ts";

const files: Record<string, string> = {
  "seq.fio": "[global]\nbs=64k\niodepth=8\n\n[writer]\nrw=write\nsize=1m\n\n[reader]\nstonewall\nrw=read\nsize=1m\n",
  "bad.fio": "[global]\nbs=64k\n\n[job]\nrw=sideways\n",
};
const readFile = (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
  return text;
};

describe("nvme-host sim / estimate: the command line", () => {
  it("reads a job file, lets command-line options override its [global], and takes the system options", () => {
    const parsed = parseJobCommand(["seq.fio", "--iodepth=16", "--ssd", "consumerSsd", "--mps=512", "--output-format=json"], "js", readFile);
    expect(parsed.jobFile).toBe("seq.fio");
    expect(parsed.jobs.map((j) => [j.name, j.rw, j.bs, j.iodepth, j.stonewall])).toEqual([
      ["writer", "write", 65536, 16, false],
      ["reader", "read", 65536, 16, true],
    ]);
    expect(parsed.system.ssd.preset).toBe("consumerSsd");
    expect(parsed.system.mps).toBe(512);
    expect(parsed.outputFormat).toBe("json");
  });

  it.each([
    [["bad.fio"], "bad.fio:5: rw=sideways"],
    [["missing.fio"], "missing.fio: cannot read the job file (ENOENT)"],
    [["seq.fio", "other.fio"], "one job file at most"],
    [["--rw=read", "--bs=4q"], "--bs=4q"],
    [["--rw=read", "--mps=100"], "--mps=100"],
    [["--rw=read", "--frobnicate=1"], "frobnicate"],
  ])("refuses %j, naming the problem", (args, message) => {
    expect(() => parseJobCommand(args, "js", readFile)).toThrow(JobUsageError);
    expect(() => parseJobCommand(args, "js", readFile)).toThrow(message);
  });

  it("estimates a job as text and as JSON with the binding constraint", () => {
    let text = "";
    expect(estimateCommand(["--rw=read", "--bs=128k", "--iodepth=32", "--size=16m", "--ssd=consumerSsd"], (t) => (text += t))).toBe(0);
    expect(text).toContain("binding constraint: read buffer bandwidth-delay");
    let json = "";
    estimateCommand(["--rw=randread", "--bs=4k", "--iodepth=1", "--size=1m", "--json"], (t) => (json += t));
    const [job] = JSON.parse(json).jobs;
    expect(job.binding_constraint).toBeTypeOf("string");
    expect(job.link_ceiling_bytes_per_s.read).toBeGreaterThan(1.8e9);
  });
});

describe("nvme-host sim on the js engine", () => {
  it("runs a verified write job and prints fio's JSON with the nvme_host object", async () => {
    let out = "";
    const status = await simCommand(["--rw=write", "--bs=32k", "--iodepth=4", "--size=256k", "--verify=md5", "--engine=js", "--output-format=json"], (t) => (out += t));
    expect(status).toBe(0);
    const report = JSON.parse(out);
    const [job] = report.jobs;
    expect(job.write.io_bytes).toBe(256 * 1024);
    expect(job.write.total_ios).toBe(8);
    expect(job.read.io_bytes).toBe(256 * 1024); // the verify phase reads every block back
    expect(job.write.clat_ns.percentile["50.000000"]).toBeGreaterThan(0);
    expect(report.nvme_host).toMatchObject({ engine: "js", verify_errors: 0, command_errors: 0 });
    expect(report.nvme_host.link_ceiling_bytes_per_s.write).toBeGreaterThan(1.7e9);
    expect(report.nvme_host.sim.cycles).toBeGreaterThan(0);
  }, 300_000);
});
