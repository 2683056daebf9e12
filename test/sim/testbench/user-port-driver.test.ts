// The user-port driver against a TypeScript fake of the controller's user ports (user-port-fake.ts):
// a correct fake (random back-pressure, out-of-order execution, in-order completions) passes every
// workload with every byte checked, and each deliberately broken fake is caught with a message that
// says what went wrong. The fake in turn checks the driver's side of the protocol (valid held until
// ready, payload stable, write framing) and throws if the driver breaks it.
import { describe, expect, it } from "vitest";
import { generateIoWorkload } from "../../../sim/testbench/io-workloads.ts";
import { UserErrorClass, UserOpcode, type UserCommand } from "../../../sim/testbench/user-command.ts";
import { FAKE_BUGS, type FakeBug, FakeProtocolError, FakeUserCore, type FakeUserCoreOptions } from "../../../sim/testbench/user-port-fake.ts";
import { USER_PORT_DRIVER_WATCH, UserPortDriver, type UserPortDriverOptions, readIoGeometry } from "../../../sim/testbench/user-port-driver.ts";
import { patternBlocks } from "../../../sim/workload/pattern.ts";

function setup(lbaBytes: number, fake: Partial<FakeUserCoreOptions> = {}, driver: Partial<UserPortDriverOptions> = {}) {
  const namespaces = [{ nsid: 1, lbaBytes, capacityBlocks: 4096 }];
  const core = new FakeUserCore({ namespaces, ...fake });
  const d = new UserPortDriver(core, { namespaces, seed: 3, ...driver });
  return { core, driver: d, namespaces };
}

/** Every block of the region in the fake's media is what the driver's expected media says (the driver wrote the right data). */
function expectMediaAgrees(core: FakeUserCore, driver: UserPortDriver, blocks: number): void {
  const { lbaBytes } = driver.media.namespace(1);
  const bytes = new Uint8Array(blocks * lbaBytes);
  for (let lba = 0; lba < blocks; lba++) bytes.set(new Uint8Array(core.block(1, lba).buffer.slice(0)), lba * lbaBytes);
  expect(driver.media.checkBytes(1, 0, bytes)).toBeNull();
}

describe("UserPortDriver on a correct fake", () => {
  for (const lbaBytes of [512, 4096]) {
    it(`runs a mixed random workload with every byte checked (${lbaBytes}-byte LBAs)`, () => {
      const { core, driver } = setup(lbaBytes, { queueDepth: 16 });
      const work = generateIoWorkload({ lbaBytes, capacityBlocks: 4096, mdtsBytes: 4096, maxBlocks: 24, commands: 300, seed: lbaBytes, region: { lba: 0, blocks: 400 }, conflictWindow: 16 });
      driver.submit(work.commands);
      const report = driver.run(2_000_000);
      expect(report.errors).toEqual([]);
      expect(report).toMatchObject({ ok: true, finished: true, submitted: work.commands.length, completed: work.commands.length, errorClasses: { NONE: work.commands.length } });
      expect(report.hazardStallCycles).toBe(0); // the generator's window covers the fake's queue depth
      const readBlocks = work.commands.filter((c) => c.opcode === UserOpcode.READ).reduce((n, c) => n + c.blockCount, 0);
      const writeBlocks = work.commands.filter((c) => c.opcode === UserOpcode.WRITE).reduce((n, c) => n + c.blockCount, 0);
      expect(report.bytesRead).toBe(readBlocks * lbaBytes);
      expect(report.bytesWritten).toBe(writeBlocks * lbaBytes);
      expect(report.latency.all.count).toBe(work.commands.length);
      expect(report.latency.READ.min).toBeGreaterThan(8);
      expect(core.bugFired).toBeNull();
      expectMediaAgrees(core, driver, 400);
    });
  }

  it("works with data offered only after acceptance, one command in flight, and no back-pressure at all", () => {
    for (const [fake, options] of [
      [{}, { writeDataWhen: "accepted", maxInFlight: 1 }],
      [{ commandReadyProbability: 1, writeReadyProbability: 1, readValidProbability: 1, completionValidProbability: 1 }, { writeGapProbability: 0, readReadyProbability: 1, completionReadyProbability: 1 }],
    ] as const) {
      const { core, driver } = setup(512, fake, options);
      const work = generateIoWorkload({ lbaBytes: 512, capacityBlocks: 4096, mdtsBytes: 2048, maxBlocks: 9, commands: 80, seed: 4, region: { lba: 0, blocks: 64 }, conflictWindow: 8 });
      driver.submit(work.commands);
      const report = driver.run(500_000);
      expect(report.errors).toEqual([]);
      expect(report.ok).toBe(true);
      expectMediaAgrees(core, driver, 64);
    }
  });

  it("holds back a command that conflicts with one in flight, then checks the read against the write before it", () => {
    const { core, driver } = setup(512, { queueDepth: 8, latency: [50, 60] });
    const commands: UserCommand[] = [];
    for (let pass = 1; pass <= 6; pass++) {
      commands.push({ opcode: UserOpcode.WRITE, nsid: 1, lba: 10, blockCount: 4, pass });
      commands.push({ opcode: UserOpcode.READ, nsid: 1, lba: 8, blockCount: 8 });
    }
    commands.push({ opcode: UserOpcode.WRITE_ZEROES, nsid: 1, lba: 11, blockCount: 1 }, { opcode: UserOpcode.READ, nsid: 1, lba: 10, blockCount: 4 });
    driver.submit(commands);
    const report = driver.run(100_000);
    expect(report.errors).toEqual([]);
    expect(report.hazardStallCycles).toBeGreaterThan(100);
    // Never two conflicting commands in flight: each command was accepted after the one before completed.
    const r = driver.records;
    for (let i = 1; i < r.length; i++) expect(r[i].acceptCycle).toBeGreaterThanOrEqual(r[i - 1].completeCycle);
    expect(core.block(1, 11).every((w) => w === 0)).toBe(true);
  });

  it("expects refusals of bad requests and takes no data for refused reads", () => {
    const { driver } = setup(512);
    const work = generateIoWorkload({ lbaBytes: 512, capacityBlocks: 4096, mdtsBytes: 4096, maxBlocks: 16, commands: 120, seed: 8, region: { lba: 4000, blocks: 96 }, mix: { badRequest: 30 }, conflictWindow: 8 });
    expect(work.counts.bad).toBeGreaterThan(10);
    driver.submit(work.commands);
    const report = driver.run(500_000);
    expect(report.errors).toEqual([]);
    expect(report.errorClasses.BAD_REQUEST).toBe(work.counts.bad);
  });

  it("reports an unexpected error class, and accepts any class where told to", () => {
    const { driver } = setup(512);
    driver.submit([
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 1, expect: UserErrorClass.NVME_STATUS },
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 1, expect: "any" },
    ]);
    const report = driver.run(10_000);
    expect(report.errors).toEqual([expect.stringMatching(/#0 READ ns 1 lba 0 \+1 \(tag 0\) completed with NONE \(status 0x0\), expected NVME_STATUS/)]);
  });

  it("skips idle stretches with the system's runUntil and measures the same latencies in fewer ticks", () => {
    const runs = [false, true].map((skipIdle) => {
      const { driver } = setup(512, { latency: [400, 500], seed: 2 }, { skipIdle, readReadyProbability: 1, completionReadyProbability: 1, writeGapProbability: 0 });
      driver.submit([
        { opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 2, pass: 1 },
        { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 2 },
      ]);
      const report = driver.run(10_000);
      expect(report.errors).toEqual([]);
      return report;
    });
    expect(runs[1].latency.all.min).toBeGreaterThan(400);
    expect(runs[1].latency).toEqual(runs[0].latency);
    expect(runs[1].cycles).toBe(runs[0].cycles);
    expect(runs[1].ticks).toBeLessThan(runs[0].ticks / 4);
  });

  it("refuses skipIdle on a system whose waits would not stop at the read data or the completion", () => {
    const namespaces = [{ nsid: 1, lbaBytes: 512, capacityBlocks: 4096 }];
    const core = new FakeUserCore({ namespaces });
    const watching = (names: string[]) => Object.assign(Object.create(core) as FakeUserCore, { watches: (name: string) => names.includes(name) });
    expect(() => new UserPortDriver(watching(["user_read_data_tvalid"]), { namespaces, skipIdle: true })).toThrow(/skipIdle needs the system to watch user_completion_valid \(SystemOptions.watch\)/);
    expect(() => new UserPortDriver(watching([]), { namespaces, skipIdle: true })).toThrow(/user_read_data_tvalid and user_completion_valid/);
    expect(() => new UserPortDriver(watching([...USER_PORT_DRIVER_WATCH]), { namespaces, skipIdle: true })).not.toThrow();
    expect(() => new UserPortDriver(watching([]), { namespaces, skipIdle: false })).not.toThrow();
  });

  it("throws on bad options and bad commands, naming them", () => {
    const { core, namespaces } = setup(512);
    expect(() => new UserPortDriver(core, { namespaces, readReadyProbability: 2 })).toThrow(/readReadyProbability 2/);
    expect(() => new UserPortDriver(core, { namespaces, maxInFlight: 0 })).toThrow(/maxInFlight 0/);
    const driver = new UserPortDriver(core, { namespaces });
    expect(() => driver.submit([{ opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 1 }])).toThrow(/needs a pass/);
    expect(() => driver.submit([{ opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 0, pass: 1 }])).toThrow(/0 blocks/);
    expect(() => driver.submit([{ opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 1, tag: 256 }])).toThrow(/tag 256 does not fit 8 bits/);
  });
});

describe("readIoGeometry", () => {
  it("reads namespace 1 and the largest transfer from the status port", () => {
    const status: Record<string, number> = { status_lba_bytes: 4096, status_mdts_bytes_log2: 19 };
    const sim = { peek: (name: unknown) => status[name as string], peekBig: () => 250_000_000n };
    expect(readIoGeometry(sim as never)).toEqual({ namespaces: [{ nsid: 1, lbaBytes: 4096, capacityBlocks: 250_000_000 }], mdtsBytes: 512 * 1024 });
    status.status_mdts_bytes_log2 = 0;
    expect(readIoGeometry(sim as never).mdtsBytes).toBe(0);
  });
});

describe("the fake checks the driver's side", () => {
  it("throws when command valid drops before ready or write data changes while waiting", () => {
    const core = new FakeUserCore({ namespaces: [{ nsid: 1, lbaBytes: 512, capacityBlocks: 64 }], commandReadyProbability: 0 });
    core.step(2);
    core.sim.poke("user_command_valid", 1);
    core.step(1);
    core.sim.poke("user_command_valid", 0);
    expect(() => core.step(1)).toThrow(FakeProtocolError);
  });
});

/** Two rounds of: writes over lba 0..19, reads of them, one read over all; then the completion and data checks. */
function bugWorkload(): UserCommand[] {
  const commands: UserCommand[] = [];
  let pass = 1;
  for (let round = 0; round < 2; round++) {
    for (const [lba, n] of [[0, 8], [8, 8], [16, 4]]) commands.push({ opcode: UserOpcode.WRITE, nsid: 1, lba, blockCount: n, pass: pass++ });
    for (const [lba, n] of [[0, 8], [8, 8], [16, 4], [0, 20]]) commands.push({ opcode: UserOpcode.READ, nsid: 1, lba, blockCount: n });
    commands.push({ opcode: UserOpcode.FLUSH, nsid: 1, lba: 0, blockCount: 0 });
  }
  return commands;
}

const expectedCatch: Record<FakeBug, RegExp> = {
  "misplaced-read-block": /READ ns 1 lba 0 \+8 \(tag \d+\) read wrong data: ns 1 lba 1 byte 0: expected .* got .*\(ns 1 lba 0 pass 1 byte 0\); 64 of its 512 words wrong/,
  "misplaced-write-block": /read wrong data: ns 1 lba 1 byte 0: .*\(ns 1 lba 0 pass 1 byte 0\)/,
  "dropped-read-beat": /READ ns 1 lba 0 \+8: tlast on beat 510 of 512 \(expected on beat 511\)/,
  "wrong-read-tag": /READ ns 1 lba 0 \+8: beat 0 has tuser \d+, the read's tag is 3/,
  "wrong-completion-tag": /completion with tag 3 \(NONE\), expected #2 WRITE ns 1 lba 16 \+4 pass 3 tag 2/,
  "duplicate-completion": /completion with tag 1 \(NONE\), expected #2 .*: a second completion of #1 WRITE/,
  "early-tlast": /tlast on beat 510 of 512 \(expected on beat 511\)/,
  "dropped-completion": /not finished within 200000 cycles: .*oldest #2 WRITE ns 1 lba 16 \+4 pass 3 tag 2/,
  "lost-write": /read wrong data: ns 1 lba \d+ byte 0: expected 0x[0-9a-f]+ \(pass \d\), got 0x[0-9a-f]+ \((ns 1 lba \d+ pass \d byte 0|zeroes)\)/,
  "flipped-bit": /read wrong data: ns 1 lba 0 byte 8: .*\(not pattern data\); 1 of its 512 words wrong$/,
  "completion-before-data": /READ ns 1 lba \d+ \+\d+ \(tag \d+\) completed after \d+ of its \d+ data beats \(a read completes after its last beat\)/,
};

describe("UserPortDriver catches a broken controller", () => {
  for (const bug of FAKE_BUGS) {
    it(bug, () => {
      const { core, driver } = setup(512, { bug, seed: 11 });
      driver.submit(bugWorkload());
      const report = driver.run(200_000);
      expect(core.bugFired).not.toBeNull();
      expect(report.ok).toBe(false);
      expect(report.errors[0]).toMatch(expectedCatch[bug]);
    });
  }

  it("diagnoses a lost rewrite as the previous pass's data", () => {
    const { driver } = setup(512, { bug: "lost-write", seed: 11 });
    const data = patternBlocks(1, 0, 1, 1, 512);
    expect(data.length).toBe(512);
    driver.submit([
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 4, pass: 1 },
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 4 },
      { opcode: UserOpcode.WRITE, nsid: 1, lba: 0, blockCount: 4, pass: 2 },
      { opcode: UserOpcode.READ, nsid: 1, lba: 0, blockCount: 4 },
    ]);
    const report = driver.run(50_000);
    expect(report.errors[0]).toMatch(/#3 READ ns 1 lba 0 \+4 \(tag 3\) read wrong data: ns 1 lba 0 byte 0: expected 0x[0-9a-f]+ \(pass 2\), got 0x[0-9a-f]+ \(ns 1 lba 0 pass 1 byte 0\); 256 of its 256 words wrong$/);
  });
});
