// host_memory_router, as emitted Verilog on both engines, with every port played by a script under
// random valid/ready: data requests to two read targets and to unmapped addresses (inside the map
// but served by no target, and above 4 GiB) must each be answered in request order with exactly
// the DWs asked for: the target's (distinct per target and address) or zeros; memory writes to the
// write targets' regions must reach their target, header and payload, in order, and the others be
// dropped; both kinds of unmapped access are counted.
import { describe, expect, it } from "vitest";
import { emitDesign } from "../../../hdl/index.ts";
import { HostMemoryMap, type HostMemoryRegionName } from "../../../rtl-src/hostmem/host-memory-map.ts";
import { type HostMemoryRouterParams, hostMemoryRouter } from "../../../rtl-src/hostmem/host-memory-router.ts";
import { type EngineName, type Simulator, createSimulator, verilatorAvailable } from "../../../sim/engine/index.ts";
import { seededRandom } from "../../../sim/random.ts";
import { monitorStreams } from "../../../sim/testbench/stream-monitor.ts";

const engines: EngineName[] = verilatorAvailable() ? ["js", "verilator"] : ["js"];
const PARAMS: HostMemoryRouterParams = {
  readTargets: [
    { name: "admin_sq", regions: ["adminSq"] },
    { name: "io_sq", regions: ["ioSq"] },
  ],
  writeTargets: [
    { name: "admin_cq", regions: ["adminCq"] },
    { name: "identify", regions: ["identifyController", "identifyNamespace"] },
  ],
  routeQueueDepth: 4,
};
const READ_TARGETS = PARAMS.readTargets.map((t) => t.name);
const WRITE_TARGETS = PARAMS.writeTargets.map((t) => t.name);

/** What target `t` answers for the DW at `address`: distinct per target and address. */
const targetDw = (t: number, address: bigint) => (Number((address * 0x9e37_79b1n) & 0xffff_ffffn) ^ (0x1111_1111 * (t + 1))) >>> 0;

interface ReadRequest {
  address: bigint;
  length: number;
  /** Index into READ_TARGETS, or -1 for unmapped. */
  target: number;
}

interface WriteRequest {
  address: bigint;
  dws: number[];
  firstBe: number;
  lastBe: number;
  poisoned: number;
  target: number;
}

/** A random address in `region`, DW aligned, with `dws` DWs left before its end (and before 4 KiB). */
function addressIn(random: () => number, region: HostMemoryRegionName | bigint, dws: number): bigint {
  const base = typeof region === "bigint" ? region : BigInt(HostMemoryMap[region].base);
  const page = base + BigInt(Math.floor(random() * 4)) * 4096n;
  return page + BigInt(4 * Math.floor(random() * (1024 - dws + 1)));
}

function readTraffic(random: () => number, count: number): ReadRequest[] {
  const places: [HostMemoryRegionName | bigint, number][] = [["adminSq", 0], ["ioSq", 1], ["dataWindows", -1], ["prpLists", -1], [0x1_1000_0000n, -1]];
  return Array.from({ length: count }, () => {
    const [where, target] = places[Math.floor(random() * places.length)];
    const length = random() < 0.3 ? 1 + Math.floor(random() * 3) : 1 + Math.floor(random() * 40);
    const address = where === "adminSq" ? BigInt(HostMemoryMap.adminSq.base + 4 * Math.floor(random() * (1024 - length + 1))) : addressIn(random, where, length);
    return { address, length, target };
  });
}

function writeTraffic(random: () => number, count: number): WriteRequest[] {
  const places: [HostMemoryRegionName | bigint, number][] = [["adminCq", 0], ["identifyController", 1], ["identifyNamespace", 1], ["ioCq", -1], [0x2_0000_0000n, -1]];
  return Array.from({ length: count }, (_, n) => {
    const [where, target] = places[Math.floor(random() * places.length)];
    const length = 1 + Math.floor(random() * 33);
    const address = typeof where === "bigint" ? addressIn(random, where, length) : BigInt(HostMemoryMap[where].base + 4 * Math.floor(random() * (1024 - length + 1)));
    return {
      address, target, poisoned: random() < 0.1 ? 1 : 0,
      dws: Array.from({ length }, (_, i) => (n * 0x0101_0000 + i * 0x11 + 0x5a00_0000) >>> 0),
      firstBe: 1 + Math.floor(random() * 15), lastBe: length > 1 ? 1 + Math.floor(random() * 15) : 0,
    };
  });
}

/** Drives a 64-bit DW stream from a list of packets, holding each beat until taken. */
class PayloadSource {
  private packet = 0;
  private at = 0;
  private offered = false;
  private readonly words = new Uint32Array(2);
  constructor(private readonly sim: Simulator, private readonly prefix: string, private readonly packets: () => number[][], private readonly chance: () => boolean) {}
  drive(): void {
    const { sim, prefix } = this;
    const dws = this.packets()[this.packet];
    this.offered = dws !== undefined && (this.offered || this.chance());
    sim.poke(`${prefix}_tvalid`, this.offered ? 1 : 0);
    if (!this.offered) return;
    const left = dws.length - this.at;
    this.words[0] = dws[this.at];
    this.words[1] = left > 1 ? dws[this.at + 1] : 0;
    sim.pokeWords(`${prefix}_tdata`, this.words);
    sim.poke(`${prefix}_tkeep`, left > 1 ? 0xff : 0x0f);
    sim.poke(`${prefix}_tlast`, left <= 2 ? 1 : 0);
    if (sim.peek(`${prefix}_tready`)) {
      this.offered = false;
      this.at += 2;
      if (this.at >= dws.length) {
        this.packet++;
        this.at = 0;
      }
    }
  }
}

/** Takes a 64-bit DW stream and splits it into packets at tlast. */
class PayloadSink {
  readonly packets: number[][] = [];
  private current: number[] = [];
  private readonly words = new Uint32Array(2);
  constructor(private readonly sim: Simulator, private readonly prefix: string, private readonly chance: () => boolean) {}
  drive(): void {
    const { sim, prefix } = this;
    const ready = this.chance();
    sim.poke(`${prefix}_tready`, ready ? 1 : 0);
    if (!ready || !sim.peek(`${prefix}_tvalid`)) return;
    sim.peekWords(`${prefix}_tdata`, this.words);
    const keep = sim.peek(`${prefix}_tkeep`);
    expect([0xff, 0x0f]).toContain(keep);
    this.current.push(this.words[0] >>> 0);
    if (keep === 0xff) this.current.push(this.words[1] >>> 0);
    if (sim.peek(`${prefix}_tlast`)) {
      this.packets.push(this.current);
      this.current = [];
    }
  }
}

describe.each(engines)("host_memory_router, %s engine", (engine) => {
  let sim: Simulator | undefined;
  const build = async () => {
    if (!sim) {
      const { files, design } = emitDesign(hostMemoryRouter(PARAMS));
      sim = monitorStreams(await createSimulator({ sources: files.map((f) => ({ path: f.fileName, text: f.text })), top: design.top.name, engine }));
    }
    return sim;
  };

  for (const [readiness, seed] of [[0.5, 1], [1, 2]] as const) {
    it(`routes reads and writes by region, in order, under ${readiness === 1 ? "no" : "random"} back-pressure`, async () => {
      const s = await build();
      s.reset(2);
      const random = seededRandom(seed + (engine === "js" ? 0 : 100));
      const chance = () => random() < readiness;
      const reads = readTraffic(random, 120);
      const writes = writeTraffic(random, 120);

      // Reads: the completer's requests in, the targets' answers, the answers out.
      let nextRead = 0;
      let readOffered = false;
      const targetQueues: ReadRequest[][] = READ_TARGETS.map(() => []);
      const targetSources = READ_TARGETS.map((name, t) => new PayloadSource(s, `${name}_response`, () => targetQueues[t].map((r) => Array.from({ length: r.length }, (_, i) => targetDw(t, r.address + BigInt(4 * i)))), chance));
      const answers = new PayloadSink(s, "data_response", chance);
      // Writes: headers and payloads in (independently offered), each target's headers and payloads out.
      let nextHeader = 0;
      let headerOffered = false;
      const writePayloads = new PayloadSource(s, "mem_write_data", () => writes.map((w) => w.dws), chance);
      const received = WRITE_TARGETS.map(() => [] as { address: bigint; firstBe: number; lastBe: number; poisoned: number; lengthDw: number }[]);
      const receivedData = WRITE_TARGETS.map((name) => new PayloadSink(s, `${name}_write_data`, chance));

      let cycles = 0;
      /** unmapped_write pulses: one per dropped write, for the I/O engine's fault. */
      let strayPulses = 0;
      for (let cycle = 0; answers.packets.length < reads.length || receivedData.some((sink, t) => sink.packets.length < writes.filter((w) => w.target === t).length); cycle++) {
        if (cycle > 40_000) throw new Error(`stuck: ${answers.packets.length}/${reads.length} reads answered`);
        const r = reads[nextRead];
        readOffered = r !== undefined && (readOffered || chance());
        s.poke("data_request_valid", readOffered ? 1 : 0);
        if (readOffered) {
          s.poke("data_request_address", r.address);
          s.poke("data_request_length_dw", r.length);
          if (s.peek("data_request_ready")) {
            nextRead++;
            readOffered = false;
          }
        }
        READ_TARGETS.forEach((name, t) => {
          const ready = chance();
          s.poke(`${name}_request_ready`, ready ? 1 : 0);
          if (ready && s.peek(`${name}_request_valid`)) {
            targetQueues[t].push({ address: s.peekBig(`${name}_request_address`), length: s.peek(`${name}_request_length_dw`), target: t });
          }
          targetSources[t].drive();
        });
        answers.drive();

        const w = writes[nextHeader];
        headerOffered = w !== undefined && (headerOffered || chance());
        s.poke("mem_write_valid", headerOffered ? 1 : 0);
        if (headerOffered) {
          s.poke("mem_write_address", w.address);
          s.poke("mem_write_length_dw", w.dws.length);
          s.poke("mem_write_first_be", w.firstBe);
          s.poke("mem_write_last_be", w.lastBe);
          s.poke("mem_write_poisoned", w.poisoned);
          if (s.peek("mem_write_ready")) {
            nextHeader++;
            headerOffered = false;
          }
        }
        writePayloads.drive();
        WRITE_TARGETS.forEach((name, t) => {
          const ready = chance();
          s.poke(`${name}_write_ready`, ready ? 1 : 0);
          if (ready && s.peek(`${name}_write_valid`)) {
            received[t].push({
              address: s.peekBig(`${name}_write_address`), firstBe: s.peek(`${name}_write_first_be`), lastBe: s.peek(`${name}_write_last_be`),
              poisoned: s.peek(`${name}_write_poisoned`), lengthDw: s.peek(`${name}_write_length_dw`),
            });
          }
          receivedData[t].drive();
        });
        s.step();
        strayPulses += s.peek("unmapped_write");
        cycles = cycle + 1;
      }
      const readBeats = reads.reduce((sum, r) => sum + Math.ceil(r.length / 2), 0);
      const writeBeats = writes.reduce((sum, w) => sum + Math.ceil(w.dws.length / 2), 0);
      // With nothing holding it back, both directions flow at a beat per cycle, with no gap between packets.
      if (readiness === 1) expect(cycles).toBeLessThan(Math.max(readBeats, writeBeats) + 20);

      // Each target saw its own requests, in order, as sent.
      READ_TARGETS.forEach((_, t) => {
        expect(targetQueues[t].map((r) => `${r.address.toString(16)}/${r.length}`)).toEqual(reads.filter((r) => r.target === t).map((r) => `${r.address.toString(16)}/${r.length}`));
      });
      // Every request answered, in order, with exactly its DWs.
      expect(answers.packets).toEqual(reads.map((r) => Array.from({ length: r.length }, (_, i) => (r.target < 0 ? 0 : targetDw(r.target, r.address + BigInt(4 * i))))));
      WRITE_TARGETS.forEach((_, t) => {
        const mine = writes.filter((w) => w.target === t);
        expect(received[t]).toEqual(mine.map((w) => ({ address: w.address, firstBe: w.firstBe, lastBe: w.lastBe, poisoned: w.poisoned, lengthDw: w.dws.length })));
        expect(receivedData[t].packets).toEqual(mine.map((w) => w.dws));
      });
      for (let i = 0; i < 10; i++) {
        s.step();
        strayPulses += s.peek("unmapped_write");
      }
      expect(strayPulses).toBe(writes.filter((w) => w.target < 0).length);
      expect(s.peek("unmapped_reads")).toBe(reads.filter((r) => r.target < 0).length);
      expect(s.peek("unmapped_writes")).toBe(writes.filter((w) => w.target < 0).length);
      expect(reads.filter((r) => r.target < 0).length).toBeGreaterThan(10);
      expect(writes.filter((w) => w.target < 0).length).toBeGreaterThan(10);
    });
  }

  it("rejects bad target lists, naming them", () => {
    expect(() => hostMemoryRouter({ readTargets: [{ name: "AdminSq", regions: ["adminSq"] }], writeTargets: [] })).toThrow(/AdminSq.*snake_case/);
    expect(() => hostMemoryRouter({ readTargets: [{ name: "a", regions: ["adminSq"] }, { name: "b", regions: ["adminSq"] }], writeTargets: [] })).toThrow(/adminSq is served by read targets a and b/);
    expect(() => hostMemoryRouter({ readTargets: [{ name: "a", regions: ["nowhere" as HostMemoryRegionName] }], writeTargets: [] })).toThrow(/"nowhere" is not in the host-memory map/);
    expect(() => hostMemoryRouter({ readTargets: [], writeTargets: [], routeQueueDepth: 1 })).toThrow(/routeQueueDepth 1/);
  });
});
