// Compiles a js-engine model into native code: native-model.ts translates the model's code to C++,
// and g++ builds it with a small N-API wrapper into an addon whose comb() and edge() replace the
// JavaScript functions. The state array stays JavaScript's (the addon works in its memory), so
// everything else of the js engine (peeks, pokes and their activity marks, port exchanges, VCD) is
// unchanged. Builds are cached by a hash of the model's code.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheDir, hashOf, lockBuild } from "./cache.ts";
import type { CompiledJsModel } from "./js-compiler.ts";
import { translateModel } from "./native-model.ts";

/** Raised when the translation (native-model.ts) changes what it prints. */
const NATIVE_BUILD_VERSION = 3;
const NODE_INCLUDE = "/usr/include/node";
/**
 * The model's code is thousands of small functions, most asleep on a given cycle: -O1 compiles the
 * core's in a fraction of -O2's time.
 */
const CXX_FLAGS = ["-shared", "-fPIC", "-O1", "-std=c++17", "-fno-exceptions", "-fno-rtti"];

/** What the addon returns for one model instance (the js engine's ModelFunctions). */
export interface NativeModelFunctions {
  comb(): void;
  edge(): void;
  F: Int32Array;
  A: Int32Array;
  evaluated(): number;
  fullEdges(): number;
  /** Blocks of logic the model is cut into (0 in full evaluation). */
  blocks: number;
  /**
   * A port exchange's run (`runUntilChange`, or `runWhileStable` when `stable`) as one native loop,
   * with the inputs already written: `table` (exchangeTable()) says how each output word is read
   * from the state and how the clock input is raised; returns what the js engine's run returns.
   */
  run(table: Int32Array, O: Uint32Array, W: Uint32Array, max: number, stable: boolean): number;
}

/** One piece of an output word: `len` bits of state word `word` from bit `shift`, placed at bit `at`. */
export interface OutputPart { word: number; shift: number; len: number; at: number }

/**
 * The table run() reads: [output words, clock's state word (-1: none), clock mark pairs, the pairs
 * (flag word, bits), each output word's start in the table, then per word: its constant bits, its
 * part count, and per part word, shift, len, at].
 */
export function exchangeTable(words: { constant: number; parts: OutputPart[] }[], clockOffset: number, clockMarks: readonly number[]): Int32Array {
  const head = [words.length, clockOffset, clockMarks.length / 2, ...clockMarks];
  const starts: number[] = [];
  const body: number[] = [];
  const bodyStart = head.length + words.length;
  for (const w of words) {
    starts.push(bodyStart + body.length);
    body.push(w.constant | 0, w.parts.length);
    for (const p of w.parts) body.push(p.word, p.shift, p.len, p.at);
  }
  return Int32Array.from([...head, ...starts, ...body]);
}

interface NativeAddon {
  create(state: ArrayBuffer): [() => void, () => void, ArrayBuffer, ArrayBuffer, () => number, () => number, number, NativeModelFunctions["run"]];
}

let available: boolean | undefined;

/** g++ and Node's headers are here (a model found in the cache needs neither). */
export function nativeAvailable(): boolean {
  available ??= spawnSync("g++", ["--version"]).status === 0 && existsSync(join(NODE_INCLUDE, "node_api.h"));
  return available;
}

/** Builds (or finds in the cache) the native addon of a compiled js model; returns its path. */
export async function buildNativeModel(model: CompiledJsModel, useCache = true): Promise<string> {
  // The wrapper's own text is part of the key, so that a change to it rebuilds every model.
  const key = hashOf(["native", String(NATIVE_BUILD_VERSION), addonSource.toString(), CXX_FLAGS.join(" "), process.version, model.code]);
  const dir = join(cacheDir("engine-native"), key);
  const addon = join(dir, "model.node");
  if (useCache && existsSync(addon)) return addon;
  if (!nativeAvailable()) throw new Error(`the native engine needs g++ and Node's headers (${NODE_INCLUDE}/node_api.h)`);
  // One process builds a model at a time; the others wait for it and load what it built.
  const release = useCache ? await lockBuild(`${dir}.lock`, () => existsSync(addon)) : () => {};
  if (release === undefined) return buildNativeModel(model, useCache);
  try {
    // Uncached: a folder of its own (Node keeps a loaded addon by its path, so a path is never reused).
    return compile(model, useCache ? dir : join(mkdtempSync(join(tmpdir(), "nvme-host-native-")), "model"));
  } finally {
    release();
  }
}

function compile(model: CompiledJsModel, dir: string): string {
  const { code } = translateModel(model.code, model.top);
  const work = `${dir}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "model.cpp"), addonSource(model.top, code));
  const gxx = spawnSync("g++", [...CXX_FLAGS, "-I", NODE_INCLUDE, join(work, "model.cpp"), "-o", join(work, "model.node")], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (gxx.status !== 0) {
    const lines = `${gxx.error?.message ?? ""}\n${gxx.stderr ?? ""}`.split("\n").filter((l) => l.trim() !== "");
    const errors = lines.filter((l) => /error/.test(l));
    throw new Error(`compiling the native model of ${model.top} failed (g++ exit ${gxx.status ?? gxx.signal}):\n${(errors.length > 0 ? errors.slice(0, 20) : lines.slice(-20)).map((l) => l.slice(0, 300)).join("\n")}`);
  }
  rmSync(dir, { recursive: true, force: true });
  // A build folder only ever appears whole, by this rename.
  renameSync(work, dir);
  return join(dir, "model.node");
}

const load = createRequire(import.meta.url);

/** A native instance of the model working in `S` (which it keeps alive). */
export function instantiateNativeModel(addonPath: string, S: Int32Array): NativeModelFunctions {
  const addon = load(addonPath) as NativeAddon;
  const [comb, edge, F, A, evaluated, fullEdges, blocks, run] = addon.create(S.buffer as ArrayBuffer);
  return { comb, edge, F: new Int32Array(F), A: new Int32Array(A), evaluated, fullEdges, blocks, run };
}

function addonSource(top: string, model: string): string {
  return `// Generated by sim/engine/native-build.ts from the js engine's model of ${top}.
#include <node_api.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

// JavaScript's operators on numbers held as int64_t (see native-model.ts).
static inline int64_t jsAnd(int64_t a, int64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b)); }
static inline int64_t jsOr(int64_t a, int64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b)); }
static inline int64_t jsXor(int64_t a, int64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) ^ static_cast<uint32_t>(b)); }
static inline int64_t jsNot(int64_t a) { return static_cast<int32_t>(~static_cast<uint32_t>(a)); }
static inline int64_t jsShl(int64_t a, int64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) << (static_cast<uint32_t>(b) & 31)); }
static inline int64_t jsSar(int64_t a, int64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a)) >> (static_cast<uint32_t>(b) & 31); }
static inline int64_t jsShr(int64_t a, int64_t b) { return static_cast<uint32_t>(a) >> (static_cast<uint32_t>(b) & 31); }
static inline int64_t jsImul(int64_t a, int64_t b) { return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b)); }
static inline int64_t jsClz32(int64_t a) { const uint32_t v = static_cast<uint32_t>(a); return v == 0 ? 32 : __builtin_clz(v); }

// The multi-word helpers of js-runtime.ts, on the same layout (little-endian 32-bit words).
static int64_t wordWithFill(const int32_t* S, int64_t off, int64_t nw, int64_t top, int64_t w, int64_t fill) {
  if (w >= nw) return fill;
  const int64_t v = S[off + w];
  if (w == nw - 1 && top != 0 && fill != 0) return jsOr(v, jsShl(-1, top));
  return v;
}
static int64_t bitsAt(const int32_t* S, int64_t off, int64_t width, int64_t pos, int64_t fill) {
  if (pos >= width) return fill;
  if (pos <= -32) return 0;
  if (pos < 0) return jsShl(bitsAt(S, off, width, 0, fill), -pos);
  const int64_t w = pos >> 5, b = pos & 31, nw = (width + 31) >> 5, top = width & 31;
  const int64_t lo = wordWithFill(S, off, nw, top, w, fill);
  if (b == 0) return lo;
  const int64_t hi = wordWithFill(S, off, nw, top, w + 1, fill);
  return jsOr(jsShr(lo, b), jsShl(hi, 32 - b));
}
static void shiftInto(int32_t* S, int64_t dst, int64_t dstWidth, int64_t src, int64_t srcWidth, int64_t amount, int64_t fill) {
  const int64_t nw = (dstWidth + 31) >> 5;
  for (int64_t k = 0; k < nw; k++) S[dst + k] = static_cast<int32_t>(bitsAt(S, src, srcWidth, k * 32 + amount, fill));
  const int64_t top = dstWidth & 31;
  if (top != 0) S[dst + nw - 1] &= static_cast<int32_t>((UINT32_C(1) << top) - 1);
}
static void mulInto(int32_t* S, int64_t y, int64_t a, int64_t b, int64_t n) {
  static std::vector<uint32_t> scratch;
  scratch.assign(static_cast<size_t>(n), 0);
  uint32_t* out = scratch.data();
  for (int64_t i = 0; i < n; i++) {
    uint64_t carry = 0;
    const uint64_t ai = static_cast<uint32_t>(S[a + i]);
    for (int64_t j = 0; i + j < n; j++) {
      const uint64_t t = out[i + j] + ai * static_cast<uint32_t>(S[b + j]) + carry;
      out[i + j] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
  }
  for (int64_t i = 0; i < n; i++) S[y + i] = static_cast<int32_t>(out[i]);
}
static void negateWords(uint32_t* x, int64_t n) {
  uint64_t carry = 1;
  for (int64_t i = 0; i < n; i++) { const uint64_t t = static_cast<uint64_t>(~x[i]) + carry; x[i] = static_cast<uint32_t>(t); carry = t >> 32; }
}
static void divInto(int32_t* S, int64_t y, int64_t a, int64_t b, int64_t n, bool isSigned, bool remainder) {
  static std::vector<uint32_t> scratch;
  scratch.assign(static_cast<size_t>(4 * n), 0);
  uint32_t* qa = scratch.data(); uint32_t* qb = qa + n; uint32_t* rem = qb + n; uint32_t* quo = rem + n;
  bool zero = true;
  for (int64_t i = 0; i < n; i++) { qa[i] = S[a + i]; qb[i] = S[b + i]; if (qb[i] != 0) zero = false; }
  if (zero) { for (int64_t i = 0; i < n; i++) S[y + i] = 0; return; }
  const bool negA = isSigned && S[a + n - 1] < 0, negB = isSigned && S[b + n - 1] < 0;
  if (negA) negateWords(qa, n);
  if (negB) negateWords(qb, n);
  for (int64_t bit = n * 32 - 1; bit >= 0; bit--) {
    for (int64_t i = n - 1; i > 0; i--) rem[i] = (rem[i] << 1) | (rem[i - 1] >> 31);
    rem[0] = (rem[0] << 1) | ((qa[bit >> 5] >> (bit & 31)) & 1);
    bool geq = true;
    for (int64_t i = n - 1; i >= 0; i--) if (rem[i] != qb[i]) { geq = rem[i] > qb[i]; break; }
    if (geq) {
      uint64_t borrow = 0;
      for (int64_t i = 0; i < n; i++) { const uint64_t t = static_cast<uint64_t>(rem[i]) - qb[i] - borrow; rem[i] = static_cast<uint32_t>(t); borrow = (t >> 63) & 1; }
      quo[bit >> 5] |= UINT32_C(1) << (bit & 31);
    }
  }
  uint32_t* out = remainder ? rem : quo;
  if (remainder ? negA : negA != negB) negateWords(out, n);
  for (int64_t i = 0; i < n; i++) S[y + i] = static_cast<int32_t>(out[i]);
}

${model}

// One instance: freed when the last of the JavaScript objects that point into it is collected.
struct Instance { Model model; int references; napi_ref state; explicit Instance(int32_t* S) : model(S), references(0), state(nullptr) {} };

static void release(napi_env env, void*, void* hint) {
  Instance* m = static_cast<Instance*>(hint);
  if (--m->references == 0) {
    napi_delete_reference(env, m->state);
    delete m;
  }
}

static Instance* instanceOf(napi_env env, napi_callback_info info) {
  void* data = nullptr;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, nullptr, nullptr, &data);
  return static_cast<Instance*>(data);
}

static napi_value comb(napi_env env, napi_callback_info info) { instanceOf(env, info)->model.comb(); return nullptr; }
static napi_value edge(napi_env env, napi_callback_info info) { instanceOf(env, info)->model.edge(); return nullptr; }
static napi_value evaluated(napi_env env, napi_callback_info info) {
  napi_value v;
  napi_create_double(env, static_cast<double>(instanceOf(env, info)->model.evaluatedCount()), &v);
  return v;
}
static napi_value fullEdges(napi_env env, napi_callback_info info) {
  napi_value v;
  napi_create_double(env, static_cast<double>(instanceOf(env, info)->model.fullEdgesCount()), &v);
  return v;
}

// An output word from its parts (see exchangeTable() in native-build.ts).
static inline uint32_t outputWord(const int32_t* S, const int32_t* entry) {
  uint32_t v = static_cast<uint32_t>(entry[0]);
  const int32_t* p = entry + 2;
  for (int32_t i = 0; i < entry[1]; i++, p += 4) {
    const int32_t word = p[0], b = p[1], len = p[2], at = p[3];
    uint32_t bits = static_cast<uint32_t>(S[word]) >> b;
    if (b != 0 && b + len > 32) bits |= static_cast<uint32_t>(S[word + 1]) << (32 - b);
    if (len < 32) bits &= (UINT32_C(1) << len) - 1;
    v |= bits << at;
  }
  return v;
}

static uint32_t* typedArrayData(napi_env env, napi_value v, size_t* length) {
  napi_typedarray_type type;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  napi_get_typedarray_info(env, v, &type, length, &data, &buffer, &offset);
  return static_cast<uint32_t*>(data);
}

// run(table, O, W, max, stable): the js engine's runUntilChange (stable false) or runWhileStable
// (stable true) loop, with the same results, the inputs written by the caller.
static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  Model& model = static_cast<Instance*>(data)->model;
  size_t tableLength = 0, outputs = 0, watches = 0;
  const int32_t* table = reinterpret_cast<const int32_t*>(typedArrayData(env, argv[0], &tableLength));
  uint32_t* O = typedArrayData(env, argv[1], &outputs);
  const uint32_t* W = typedArrayData(env, argv[2], &watches);
  uint32_t max = 0;
  bool stable = false;
  napi_get_value_uint32(env, argv[3], &max);
  napi_get_value_bool(env, argv[4], &stable);
  const int32_t words = table[0], clock = table[1], clockMarks = table[2];
  const int32_t* marks = table + 3;
  const int32_t* starts = marks + 2 * clockMarks;
  int32_t* S = model.S;
  auto raiseClock = [&]() {
    if (clock < 0 || S[clock] == 1) return;
    S[clock] = 1;
    for (int32_t i = 0; i < clockMarks; i++) {
      const int32_t w = marks[2 * i];
      model.F[w] |= marks[2 * i + 1];
      model.A[w >> 5] |= static_cast<int32_t>(UINT32_C(1) << (w & 31));
    }
  };
  // Each cycle reads only the watched words; the others on the cycle the run ends.
  auto watched = [&]() {
    uint32_t changed = 0;
    for (int32_t k = 0; k < words; k++) {
      if (W[k] == 0) continue;
      const uint32_t v = outputWord(S, table + starts[k]);
      changed |= (v ^ O[k]) & W[k];
      O[k] = v;
    }
    return changed;
  };
  auto rest = [&]() {
    for (int32_t k = 0; k < words; k++) if (W[k] == 0) O[k] = outputWord(S, table + starts[k]);
  };
  uint32_t ran = max;
  if (!stable) {
    for (uint32_t n = 1; n <= max; n++) {
      model.comb();
      if (watched() != 0 || n == max) { rest(); model.edge(); ran = n; break; }
      model.edge();
    }
    raiseClock();
  } else {
    for (uint32_t n = 0; n < max; n++) {
      model.comb();
      if (watched() != 0) { rest(); ran = n; break; }
      if (n == max - 1) rest();
      model.edge();
      raiseClock();
    }
  }
  napi_value result;
  napi_create_uint32(env, ran, &result);
  return result;
}

// create(state: ArrayBuffer) -> [comb, edge, F, A, evaluated, fullEdges, blocks, run]
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  size_t length = 0;
  napi_get_arraybuffer_info(env, argv[0], &data, &length);
  Instance* m = new Instance(static_cast<int32_t*>(data));
  napi_create_reference(env, argv[0], 1, &m->state);
  napi_value out[8];
  napi_create_function(env, "comb", NAPI_AUTO_LENGTH, comb, m, &out[0]);
  napi_create_function(env, "edge", NAPI_AUTO_LENGTH, edge, m, &out[1]);
  napi_create_external_arraybuffer(env, m->model.F, sizeof(m->model.F), release, m, &out[2]);
  napi_create_external_arraybuffer(env, m->model.A, sizeof(m->model.A), release, m, &out[3]);
  napi_create_function(env, "evaluated", NAPI_AUTO_LENGTH, evaluated, m, &out[4]);
  napi_create_function(env, "fullEdges", NAPI_AUTO_LENGTH, fullEdges, m, &out[5]);
  napi_create_double(env, static_cast<double>(Model::blocks), &out[6]);
  napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, m, &out[7]);
  m->references = 7;
  for (int i : { 0, 1, 4, 5, 7 }) napi_add_finalizer(env, out[i], m, release, m, nullptr);
  napi_value result;
  napi_create_array_with_length(env, 8, &result);
  for (uint32_t i = 0; i < 8; i++) napi_set_element(env, result, i, out[i]);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = { { "create", nullptr, create, nullptr, nullptr, nullptr, napi_default, nullptr } };
  napi_define_properties(env, exports, 1, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
`;
}
