// Builds a Verilator C++ model of the design plus a small N-API addon that exposes it,
// compiled with the machine's g++ against Node's own headers. Builds are cached by hash.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cacheDir, hashOf, lockBuild } from "./cache.ts";
import type { Direction } from "./simulator.ts";
import { combinationalInputs, DEPENDENCY_PASSES } from "./combinational-inputs.ts";
import { buildNetlist } from "./netlist.ts";
import { type VerilogSource, VerilogError, synthesizeNetlist } from "./yosys.ts";

export const VERILATOR_INSTALL_HINT = "sudo apt-get install -y verilator";
const BUILD_VERSION = 8;
// `--x-initial 0` fills only variables without an initialiser: a register's `= value` still holds.
const VERILATOR_FLAGS = [
  "--cc", "--x-assign", "0", "--x-initial", "0",
  "-Wno-fatal", "-Wno-lint", "-Wno-style", "-O3",
];
const CXX_FLAGS = ["-fPIC", "-O1", "-std=c++17"];
/**
 * How Verilator's makefile compiles the model's hot code (its own default, -Os). A model evaluates
 * all of its logic on every clock edge in one straight run of code (the controller's core: about
 * 110 KB at -O2, 88 KB at -Os), far more than the 32 KB instruction cache, so fetching the code is
 * what an edge costs: -Os made an edge of the core about a fifth cheaper than -O2 (1.05 against
 * 1.27 µs of CPU) and the TLP layer's no slower (0.28 against 0.30 µs); -O3 was slower still.
 */
const MODEL_OPT = "OPT_FAST=-Os";
/**
 * The model's construction and settling code (Verilator's "slow" files, a third of its C++) runs once:
 * unoptimised, a build of four lanes took 26 s instead of 31 s, and no edge costs more.
 */
const SLOW_CODE_OPT = "OPT_SLOW=-O0";
const NODE_INCLUDE = "/usr/include/node";

/** How JS finds a signal inside the model's root object. */
export interface NativeSignal {
  name: string;
  width: number;
  direction: Direction;
  /** The C++ member of the root object. */
  member: string;
  /** Storage bytes: 1, 2, 4, 8, or 0 for VlWide (32-bit words). */
  bytes: 0 | 1 | 2 | 4 | 8;
}

export interface VerilatorModel {
  top: string;
  addonPath: string;
  signals: NativeSignal[];
  hasClock: boolean;
  /**
   * Per signal (same order as `signals`): the indexes of the input ports that reach it through
   * combinational logic only, or null when unknown (every input may). Absent when the design's
   * netlist could not be built: then any written input may change any signal.
   */
  combinationalInputs?: (number[] | null)[];
  fromCache: boolean;
  seconds: number;
}

export function verilatorVersion(): string | null {
  const r = spawnSync("verilator", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function verilatorAvailable(): boolean {
  return verilatorVersion() !== null;
}

/**
 * Which signals a model exposes: "all" (every named signal, the default: --public-flat-rw keeps each one
 * a live member) or "ports" (top-level ports only, so Verilator may optimise the internals away: about
 * twice as fast on the TLP layer).
 */
export type SignalVisibility = "all" | "ports";

/**
 * `settleOnDemand`: also record which inputs reach each signal combinationally (a Yosys pass over the
 * design: under a second for a block, about 20 s for the controller's core), so that a peek after a
 * poke evaluates the model only when a written input reaches the peeked signal. Worth it for a harness
 * that pokes and peeks one signal at a time (the TLP layer's line-rate bench); the full-system runs
 * exchange ports once per cycle and gain nothing, so it is off by default (every uncached build
 * would pay it, CI's included).
 */
export async function buildVerilatorModel(sources: readonly VerilogSource[], top: string, useCache = true, visibility: SignalVisibility = "all", settleOnDemand = false): Promise<VerilatorModel> {
  const start = performance.now();
  const version = verilatorVersion();
  if (!version) throw new Error(`Verilator is not installed; install it with: ${VERILATOR_INSTALL_HINT}`);
  if (!existsSync(join(NODE_INCLUDE, "node_api.h"))) {
    throw new Error(`Node's headers are missing (${NODE_INCLUDE}/node_api.h); the verilator engine needs them to build its addon`);
  }
  const flags = visibility === "all" ? [...VERILATOR_FLAGS, "--public-flat-rw"] : VERILATOR_FLAGS;
  const key = hashOf(["verilator", String(BUILD_VERSION), version, flags.join(" "), CXX_FLAGS.join(" "), MODEL_OPT, SLOW_CODE_OPT, process.version, top, ...sources.map((s) => s.text)]);
  const dir = join(cacheDir("engine-verilator"), key);
  const manifest = join(dir, "model.json");
  if (useCache && existsSync(manifest)) {
    const model = JSON.parse(readFileSync(manifest, "utf8")) as VerilatorModel;
    if (settleOnDemand && !("combinationalInputs" in model)) {
      // A model built before the dependencies were recorded: add them to its manifest once.
      const dependencies = await combinationalDependencies(sources, top, model.signals);
      if (dependencies) {
        model.combinationalInputs = dependencies;
        writeFileSync(`${manifest}.${process.pid}.tmp`, JSON.stringify(model));
        renameSync(`${manifest}.${process.pid}.tmp`, manifest);
      }
    }
    return { ...model, addonPath: join(dir, "model.node"), fromCache: true, seconds: (performance.now() - start) / 1000 };
  }
  // One process builds a model at a time; the others wait for it and load what it built.
  const release = useCache ? await lockBuild(`${dir}.lock`, () => existsSync(manifest)) : () => {};
  if (release === undefined) return buildVerilatorModel(sources, top, useCache, visibility, settleOnDemand);
  try {
    return await compileModel(sources, top, { flags, dir, visibility, settleOnDemand, start, version });
  } finally {
    release();
  }
}

interface CompileChoices {
  flags: readonly string[];
  dir: string;
  visibility: SignalVisibility;
  settleOnDemand: boolean;
  start: number;
  /** Verilator's version (its runtime objects are per version). */
  version: string;
}

async function compileModel(sources: readonly VerilogSource[], top: string, { flags, dir, visibility, settleOnDemand, start, version }: CompileChoices): Promise<VerilatorModel> {
  // Build in a private folder, then move it into place, so parallel test workers never see half a build.
  const work = `${dir}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, "src"), { recursive: true });
  const files = sources.map((s, i) => {
    const f = join(work, "src", `${i}_${s.path.split("/").pop() ?? "design.v"}`);
    writeFileSync(f, s.text);
    return f;
  });
  const obj = join(work, "obj");
  const v = spawnSync("verilator", [
    ...flags, "--Mdir", obj, "--top-module", top,
    "-CFLAGS", CXX_FLAGS.join(" "), "-MAKEFLAGS", MODEL_OPT, "-MAKEFLAGS", SLOW_CODE_OPT, "--build", "-j", "2", ...files,
  ], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (v.status !== 0) {
    let log = `${v.stderr}\n${v.stdout}`;
    files.forEach((f, i) => (log = log.split(f).join(sources[i].path)));
    const errors = log.split("\n").filter((l) => /%Error|error:/.test(l));
    throw new VerilogError(`Verilator rejected the design (top ${top}):\n${(errors.length ? errors : log.split("\n").slice(-15)).join("\n").trim()}`);
  }
  const header = readFileSync(join(obj, `V${top}___024root.h`), "utf8");
  const signals = parseRootHeader(header, top).filter((s) => visibility === "all" || s.direction !== "internal");
  const hasClock = signals.some((s) => s.name === "clk" && s.direction === "input");
  const edgeEntry = hasClock ? edgeEntryPoints(obj, top, header) : null;
  writeFileSync(join(work, "addon.cpp"), addonSource(top, signals, hasClock, edgeEntry));
  const gxx = spawnSync("g++", [
    "-shared", ...CXX_FLAGS, "-I", NODE_INCLUDE, "-I", obj,
    "-I", "/usr/share/verilator/include", "-I", "/usr/share/verilator/include/vltstd",
    join(work, "addon.cpp"), join(obj, `V${top}__ALL.a`), ...runtimeObjects(version),
    "-o", join(work, "model.node"), "-lpthread", "-latomic",
  ], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (gxx.status !== 0) throw new Error(`compiling the Verilator addon failed:\n${gxx.stderr.split("\n").slice(0, 30).join("\n")}`);
  const dependencies = settleOnDemand ? await combinationalDependencies(sources, top, signals) : undefined;
  const model: VerilatorModel = { top, addonPath: "", signals, hasClock, ...(dependencies ? { combinationalInputs: dependencies } : {}), fromCache: false, seconds: 0 };
  writeFileSync(join(work, "model.json"), JSON.stringify(model));
  try {
    // A build folder only ever appears whole, by this rename; if another worker's rename
    // came first, its build is identical and possibly loaded already: keep it.
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
  return { ...model, addonPath: join(dir, "model.node"), seconds: (performance.now() - start) / 1000 };
}

/**
 * Which inputs reach each signal combinationally (indexes into `signals`), from the design's Yosys
 * netlist; undefined when Yosys cannot build one (the engine then settles after any input write).
 */
async function combinationalDependencies(sources: readonly VerilogSource[], top: string, signals: readonly NativeSignal[]): Promise<(number[] | null)[] | undefined> {
  let perName;
  try {
    perName = combinationalInputs(buildNetlist(await synthesizeNetlist(sources, top, DEPENDENCY_PASSES), top), signals.map((s) => s.name));
  } catch {
    return undefined;
  }
  const indexOf = new Map(signals.map((s, i) => [s.name, i]));
  return perName.map((inputs) => {
    if (inputs === null) return null;
    const indexes: number[] = [];
    for (const name of inputs) {
      const i = indexOf.get(name);
      if (i === undefined) return null;
      indexes.push(i);
    }
    return indexes;
  });
}

/** Verilator's own runtime, compiled once per Verilator version and shared by all models. */
function runtimeObjects(version: string): string[] {
  const dir = join(cacheDir("engine-verilator"), `runtime-${hashOf([version, CXX_FLAGS.join(" ")])}`);
  const units = ["verilated", "verilated_threads"];
  const objects = units.map((u) => join(dir, `${u}.o`));
  if (objects.every((o) => existsSync(o))) return objects;
  mkdirSync(dir, { recursive: true });
  for (const u of units) {
    const tmp = join(dir, `${u}.${process.pid}.o`);
    const r = spawnSync("g++", [
      "-c", ...CXX_FLAGS, "-I", "/usr/share/verilator/include", "-I", "/usr/share/verilator/include/vltstd",
      `/usr/share/verilator/include/${u}.cpp`, "-o", tmp,
    ], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`compiling Verilator's runtime (${u}.cpp) failed:\n${r.stderr.slice(0, 3000)}`);
    renameSync(tmp, join(dir, `${u}.o`));
  }
  return objects;
}

/**
 * Signals from the root class header: ports (VL_IN8(name,msb,lsb)...) and, thanks
 * to --public-flat-rw, internal signals named <top>__DOT__<inst>__DOT__<name>.
 */
export function parseRootHeader(header: string, top: string): NativeSignal[] {
  const signals = new Map<string, NativeSignal>();
  const portRe = /VL_(IN|OUT)(8|16|64|W)?\((\w+),(\d+),(\d+)(?:,\d+)?\);/g;
  for (const m of header.matchAll(portRe)) {
    const [, dir, size, member, msb, lsb] = m;
    signals.set(member, {
      name: member,
      width: Number(msb) - Number(lsb) + 1,
      direction: dir === "IN" ? "input" : "output",
      member,
      bytes: storageBytes(size ?? "32"),
    });
  }
  const varRe = /^\s*(CData|SData|IData|QData|VlWide<\d+>)\/\*(\d+):(\d+)\*\/ (\w+);/gm;
  const prefix = `${top}__DOT__`;
  for (const m of header.matchAll(varRe)) {
    const [, type, msb, lsb, member] = m;
    if (!member.startsWith(prefix)) continue;
    const name = demangle(member.slice(prefix.length));
    if (name.includes("__V") || signals.has(name)) continue;
    const bytes = type === "CData" ? 1 : type === "SData" ? 2 : type === "IData" ? 4 : type === "QData" ? 8 : 0;
    signals.set(name, { name, width: Number(msb) - Number(lsb) + 1, direction: "internal", member, bytes });
  }
  return [...signals.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function storageBytes(size: string): NativeSignal["bytes"] {
  return size === "8" ? 1 : size === "16" ? 2 : size === "64" ? 8 : size === "W" ? 0 : 4;
}

/** Verilator's member names back to DSL paths: __DOT__ separates instances, __0XX escapes a character. */
function demangle(member: string): string {
  return member.split("__DOT__").join(".").replace(/__0([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Verilator 5 runs a model's "input combinational" region (every piece of logic that a top-level input
 * reaches) at the start of every eval(), inputs changed or not, and the core's is its largest function
 * (63 KB of code, against 127 KB for the edge's whole update). An exchange cycle used to evaluate twice
 * (clock low to settle, clock high for the edge), so that region ran twice a cycle. The addon instead
 * settles only when an input differs from what the model last settled on, and applies the edge through
 * the model's own active/NBA functions without that region. Those functions and trigger vectors are
 * Verilator's internals: found in the generated code (Verilator 5.0's names), else the addon evaluates
 * as before.
 */
export interface EdgeEntryPoints {
  triggers: string;
  act: string;
  nba: string;
}

function edgeEntryPoints(obj: string, top: string, rootHeader: string): EdgeEntryPoints | null {
  const root = `V${top}___024root`;
  const names = { triggers: `${root}___eval_triggers__act`, act: `${root}___eval_act`, nba: `${root}___eval_nba` };
  if (!/VlTriggerVec<\d+> __VactTriggered;/.test(rootHeader) || !/VlTriggerVec<\d+> __VnbaTriggered;/.test(rootHeader)) return null;
  const code = readdirSync(obj).filter((f) => f.startsWith(`${root}__DepSet`) && f.endsWith(".cpp") && !f.endsWith("__Slow.cpp"))
    .map((f) => readFileSync(join(obj, f), "utf8")).join("\n");
  const defined = (name: string) => code.includes(`\nvoid ${name}(${root}* vlSelf) {`);
  // The eval loop the edge reproduces: input region, then active triggers feeding the NBA region.
  const evalShape = /__VicoIterCount = 0U;[\s\S]*__VnbaTriggered\.clear\(\);[\s\S]*___eval_triggers__act\(vlSelf\);[\s\S]*__VnbaTriggered\.set\(vlSelf->__VactTriggered\);[\s\S]*___eval_act\(vlSelf\);[\s\S]*___eval_nba\(vlSelf\);/;
  if (!defined(names.triggers) || !defined(names.act) || !defined(names.nba) || !evalShape.test(code)) return null;
  return names;
}

function addonSource(top: string, signals: readonly NativeSignal[], hasClock: boolean, edgeEntry: EdgeEntryPoints | null): string {
  const V = `V${top}`;
  const clockStep = hasClock ? "settle(m); risingEdge(m);" : "m->model->eval();";
  // An exchange cycle settles with the new inputs, captures the outputs, then the edge.
  const settle = hasClock ? "settle(m);" : "m->model->eval();";
  const edge = hasClock ? "risingEdge(m);" : "";
  const inputs = signals.filter((s) => s.direction === "input" && s.name !== "clk");
  const clockCopies = signals.filter((s) => s.direction === "internal" && s.width === 1 && s.name.endsWith(".clk"));
  const shadowType = (s: NativeSignal) => (s.bytes === 0 ? `uint32_t ${s.member}[${Math.ceil(s.width / 32)}]` : `uint${s.bytes * 8}_t ${s.member}`);
  const differs = (s: NativeSignal) => (s.bytes === 0
    ? `std::memcmp(r->${s.member}.data(), m->settledOn.${s.member}, sizeof(m->settledOn.${s.member})) != 0`
    : `r->${s.member} != m->settledOn.${s.member}`);
  const record = (s: NativeSignal) => (s.bytes === 0
    ? `std::memcpy(m->settledOn.${s.member}, r->${s.member}.data(), sizeof(m->settledOn.${s.member}));`
    : `m->settledOn.${s.member} = r->${s.member};`);
  const edgeCode = !hasClock ? "" : edgeEntry ? `
void ${edgeEntry.triggers}(${V}___024root* vlSelf);
void ${edgeEntry.act}(${V}___024root* vlSelf);
void ${edgeEntry.nba}(${V}___024root* vlSelf);

// The rising edge of clk, as eval() applies it after its input region (which settle() ran already).
static inline void risingEdge(Instance* m) {
  ${V}___024root* r = m->model->rootp;
  r->clk = 0;
  ${edgeEntry.triggers}(r);  // the model sees clk low, so that the rise below triggers
  r->clk = 1;
  for (int round = 0; ; round++) {
    // A design that does not settle: eval() reports it, as Verilator does (one clock: one round).
    if (round == 100) { m->model->eval(); break; }
    r->__VnbaTriggered.clear();
    for (int active = 0; active < 100; active++) {
      ${edgeEntry.triggers}(r);
      if (!r->__VactTriggered.any()) break;
      r->__VnbaTriggered.set(r->__VactTriggered);
      ${edgeEntry.act}(r);
    }
    if (!r->__VnbaTriggered.any()) break;
    ${edgeEntry.nba}(r);
  }
  // Instances' copies of clk live in the input region: visible signals (--public-flat-rw) show them.
  ${clockCopies.map((s) => `r->${s.member} = 1;`).join(" ")}
}
` : `
static inline void risingEdge(Instance* m) { m->model->clk = 1; m->model->eval(); }
`;
  const settleCode = !hasClock ? "" : `
// Records the inputs the model is settled on.
static inline void settled(Instance* m) {
  ${V}___024root* r = m->model->rootp;
  (void)r;
  ${inputs.map(record).join("\n  ")}
}

// Settles the combinational logic on the inputs as they are now, when they differ from those it
// last settled on (${edgeEntry ? "risingEdge() skips the input region" : "every edge settles anyway, so this always evaluates"}).
static inline void settle(Instance* m) {
  ${V}___024root* r = m->model->rootp;
  (void)r;
  ${edgeEntry ? `if (!(${inputs.map(differs).join(" ||\n      ") || "false"})) return;` : ""}
  m->model->clk = 0;
  m->model->eval();
  settled(m);
}
`;
  return `// Generated by sim/engine/verilator-build.ts for module ${top}.
#include <node_api.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>
#include "${V}.h"
#include "${V}___024root.h"
#include "verilated.h"

struct SettledInputs { ${inputs.map((s) => `${shadowType(s)};`).join(" ")} };
struct Instance { VerilatedContext* context; ${V}* model; SettledInputs settledOn; };
static std::vector<Instance*> instances;
${settleCode}${edgeCode}
static Instance* instanceOf(napi_env env, napi_value v) {
  uint32_t id = 0;
  napi_get_value_uint32(env, v, &id);
  if (id >= instances.size() || !instances[id]) { napi_throw_error(env, nullptr, "no such model instance"); return nullptr; }
  return instances[id];
}

// Returns [id, ArrayBuffer over the root object, byte offsets of the signals].
static napi_value create(napi_env env, napi_callback_info) {
  Instance* m = new Instance();
  m->context = new VerilatedContext();
  m->model = new ${V}(m->context);
  m->model->eval();
  ${hasClock ? "settled(m);" : ""}
  ${V}___024root* root = m->model->rootp;
  char* base = reinterpret_cast<char*>(root);
  const size_t offsets[] = { ${signals.map((s) => `static_cast<size_t>(reinterpret_cast<char*>(&root->${s.member}) - base)`).join(",\n    ") || "0"} };
  instances.push_back(m);
  napi_value result, id, buffer, list;
  napi_create_array_with_length(env, 3, &result);
  napi_create_uint32(env, static_cast<uint32_t>(instances.size() - 1), &id);
  napi_create_external_arraybuffer(env, root, sizeof(*root), nullptr, nullptr, &buffer);
  napi_create_array_with_length(env, ${signals.length}, &list);
  for (size_t i = 0; i < ${signals.length}; i++) {
    napi_value o;
    napi_create_uint32(env, static_cast<uint32_t>(offsets[i]), &o);
    napi_set_element(env, list, static_cast<uint32_t>(i), o);
  }
  napi_set_element(env, result, 0, id);
  napi_set_element(env, result, 1, buffer);
  napi_set_element(env, result, 2, list);
  return result;
}

static napi_value step(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Instance* m = instanceOf(env, argv[0]);
  if (!m) return nullptr;
  uint32_t n = 0;
  napi_get_value_uint32(env, argv[1], &n);
  for (uint32_t i = 0; i < n; i++) { ${clockStep} }
  return nullptr;
}

// A port exchange: the shared arrays (owned and kept alive by JS) and where each port lives.
struct ExchangePort { uint32_t offset, bytes, words, at, topMask; };
struct Exchange { Instance* m; std::vector<ExchangePort> in, out, watched; uint32_t* I; uint32_t* O; uint32_t* W; };
static std::vector<Exchange*> exchanges;

static uint32_t* arrayWords(napi_env env, napi_value v) {
  void* data = nullptr;
  size_t length = 0;
  napi_get_arraybuffer_info(env, v, &data, &length);
  return static_cast<uint32_t*>(data);
}

// exchange(id, descriptor, inputs, outputs, watch): descriptor = [inputs, outputs, then per port
// offset, bytes, words, at, topMask]; the arrays are ArrayBuffers. Returns the exchange's id.
static napi_value exchange(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Instance* m = instanceOf(env, argv[0]);
  if (!m) return nullptr;
  uint32_t* d = arrayWords(env, argv[1]);
  Exchange* x = new Exchange();
  x->m = m;
  x->I = arrayWords(env, argv[2]);
  x->O = arrayWords(env, argv[3]);
  x->W = arrayWords(env, argv[4]);
  uint32_t k = 2;
  for (uint32_t i = 0; i < d[0] + d[1]; i++, k += 5) {
    ExchangePort p = { d[k], d[k + 1], d[k + 2], d[k + 3], d[k + 4] };
    (i < d[0] ? x->in : x->out).push_back(p);
  }
  exchanges.push_back(x);
  napi_value id;
  napi_create_uint32(env, static_cast<uint32_t>(exchanges.size() - 1), &id);
  return id;
}

static inline void applyInputs(Exchange* x) {
  char* base = reinterpret_cast<char*>(x->m->model->rootp);
  for (const ExchangePort& p : x->in) {
    const uint32_t* from = x->I + p.at;
    switch (p.bytes) {
      case 1: *reinterpret_cast<uint8_t*>(base + p.offset) = static_cast<uint8_t>(from[0] & p.topMask); break;
      case 2: *reinterpret_cast<uint16_t*>(base + p.offset) = static_cast<uint16_t>(from[0] & p.topMask); break;
      case 4: *reinterpret_cast<uint32_t*>(base + p.offset) = from[0] & p.topMask; break;
      default: {
        uint32_t* to = reinterpret_cast<uint32_t*>(base + p.offset);
        for (uint32_t w = 0; w + 1 < p.words; w++) to[w] = from[w];
        to[p.words - 1] = from[p.words - 1] & p.topMask;
      }
    }
  }
}

// Writes the ports' outputs into O; returns the watched bits that changed.
static inline uint32_t capturePorts(Exchange* x, const std::vector<ExchangePort>& ports) {
  const char* base = reinterpret_cast<const char*>(x->m->model->rootp);
  uint32_t changed = 0;
  for (const ExchangePort& p : ports) {
    uint32_t* to = x->O + p.at;
    const uint32_t* watch = x->W + p.at;
    uint32_t v;
    switch (p.bytes) {
      case 1: v = *reinterpret_cast<const uint8_t*>(base + p.offset) & p.topMask; changed |= (v ^ to[0]) & watch[0]; to[0] = v; break;
      case 2: v = *reinterpret_cast<const uint16_t*>(base + p.offset) & p.topMask; changed |= (v ^ to[0]) & watch[0]; to[0] = v; break;
      case 4: v = *reinterpret_cast<const uint32_t*>(base + p.offset) & p.topMask; changed |= (v ^ to[0]) & watch[0]; to[0] = v; break;
      default: {
        const uint32_t* from = reinterpret_cast<const uint32_t*>(base + p.offset);
        for (uint32_t w = 0; w < p.words; w++) {
          v = w + 1 < p.words ? from[w] : from[w] & p.topMask;
          changed |= (v ^ to[w]) & watch[w];
          to[w] = v;
        }
      }
    }
  }
  return changed;
}

static inline uint32_t captureOutputs(Exchange* x) { return capturePorts(x, x->out); }

static Exchange* exchangeOf(napi_env env, napi_value v) {
  uint32_t id = 0;
  napi_get_value_uint32(env, v, &id);
  if (id >= exchanges.size() || !exchanges[id]) { napi_throw_error(env, nullptr, "no such port exchange"); return nullptr; }
  return exchanges[id];
}

static napi_value exchangeCycle(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Exchange* x = exchangeOf(env, argv[0]);
  if (!x) return nullptr;
  Instance* m = x->m;
  applyInputs(x);
  ${settle}
  captureOutputs(x);
  ${edge}
  return nullptr;
}

// exchangeRun(xid, max): cycles with the inputs held until a watched output bit changes; returns the cycles run.
// exchangeRunStable(xid, max): the same, but stops before the edge of the cycle whose watched outputs
// changed (that cycle's outputs are in O); returns the edges applied.
static napi_value runExchange(napi_env env, napi_callback_info info, bool stopBeforeEdge) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Exchange* x = exchangeOf(env, argv[0]);
  if (!x) return nullptr;
  uint32_t max = 0;
  napi_get_value_uint32(env, argv[1], &max);
  Instance* m = x->m;
  applyInputs(x);
  // Each cycle compares only the watched ports; every port is captured on the cycle the run ends.
  x->watched.clear();
  for (const ExchangePort& p : x->out) {
    bool watched = false;
    for (uint32_t w = 0; w < p.words; w++) watched = watched || x->W[p.at + w] != 0;
    if (watched) x->watched.push_back(p);
  }
  uint32_t n = 0;
  while (n < max) {
    ${settle}
    uint32_t changed = capturePorts(x, x->watched);
    if (changed || n + 1 == max) captureOutputs(x);
    if (changed && stopBeforeEdge) break;
    ${edge}
    n++;
    if (changed) break;
  }
  napi_value result;
  napi_create_uint32(env, n, &result);
  return result;
}

static napi_value exchangeRun(napi_env env, napi_callback_info info) { return runExchange(env, info, false); }
static napi_value exchangeRunStable(napi_env env, napi_callback_info info) { return runExchange(env, info, true); }

static napi_value evaluate(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Instance* m = instanceOf(env, argv[0]);
  if (!m) return nullptr;
  m->model->eval();
  ${hasClock ? "settled(m);" : ""}
  return nullptr;
}

static napi_value destroy(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Instance* m = instanceOf(env, argv[0]);
  if (!m) return nullptr;
  uint32_t id = 0;
  napi_get_value_uint32(env, argv[0], &id);
  for (Exchange*& x : exchanges) {
    if (x && x->m == m) { delete x; x = nullptr; }
  }
  m->model->final();
  delete m->model;
  delete m->context;
  delete m;
  instances[id] = nullptr;
  return nullptr;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "create", nullptr, create, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "step", nullptr, step, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "eval", nullptr, evaluate, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "destroy", nullptr, destroy, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "exchange", nullptr, exchange, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "exchangeCycle", nullptr, exchangeCycle, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "exchangeRun", nullptr, exchangeRun, nullptr, nullptr, nullptr, napi_default, nullptr },
    { "exchangeRunStable", nullptr, exchangeRunStable, nullptr, nullptr, nullptr, napi_default, nullptr },
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
`;
}
