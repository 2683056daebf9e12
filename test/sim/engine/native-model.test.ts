// The native engine's translation (sim/engine/native-model.ts): a model's code run by V8 and the
// same code compiled by native-build.ts leave the same state, for the corners of JavaScript's
// number semantics the js compiler relies on (32-bit bitwise results, >>> as unsigned, sums past
// 2^32 before a store, exact division and remainder, Math.imul, Math.clz32) and for the multi-word
// helpers of js-runtime.ts. Whole designs are compared by agreement-core, fuzz and the engine tests.
import { describe, expect, it } from "vitest";
import { nativeAvailable } from "../../../sim/engine/index.ts";
import type { CompiledJsModel } from "../../../sim/engine/js-compiler.ts";
import { runtime } from "../../../sim/engine/js-runtime.ts";
import { buildNativeModel, instantiateNativeModel } from "../../../sim/engine/native-build.ts";
import { NativeTranslationError, translateModel } from "../../../sim/engine/native-model.ts";
import { seededRandom } from "../../../sim/random.ts";

const INPUT_WORDS = 8;
const OUTPUT_WORDS = 48;
const STATE_WORDS = INPUT_WORDS + OUTPUT_WORDS + 16;

/** Every output word from the inputs S[0..7] (as the compiler writes them: word expressions). */
const BODY = `
const a = S[0], b = S[1], c = S[2], d = S[3];
S[8] = (a >>> 3) | (b << 29);
S[9] = a >> 7;
S[10] = (a >>> 0) < (b >>> 0) ? 1 : 0;
S[11] = a < b ? 1 : 0;
S[12] = ~a & 65535;
S[13] = Math.imul(a, b);
S[14] = Math.clz32(c);
let s = (a >>> 0) + (b >>> 0) + 1; S[15] = s; S[16] = s > 4294967295 ? 1 : 0;
s = (a >>> 0) - (b >>> 0) - 1; S[17] = s; S[18] = s < 0 ? 1 : 0;
S[19] = (b === 0 ? 0 : Math.trunc(a / b));
S[20] = (b === 0 ? 0 : a % b);
S[21] = (d === 0 ? 0 : Math.trunc((a >>> 0) / (d >>> 0)));
S[22] = ((a ^ b) === 0 ? 1 : 0) + ((a & 255) !== (c & 255) ? 2 : 0);
S[23] = (c << (d & 31)) >>> (a & 7);
S[24] = -a;
S[25] = ((a << 20) >> 20) & 4095;
switch (a & 3) { case 0: S[26] = 10; break; case 1: S[26] = -1; break; case 2: S[26] = b; break; default: S[26] = 4294967295; break; }
S[27] = (a !== 0 && b !== 0) || c === d ? 1 : 0;
S[28] = bitsAt(S, 0, 100, (d & 127) - 20, (a & 1) ? -1 : 0);
S[29] = a; S[30] = b; S[31] = c;
mulInto(S, 32, 29, 4, 3);
S[40] = a; S[41] = b; S[42] = c; S[43] = d;
S[44] = b | 1; S[45] = c; S[46] = 0; S[47] = 0;
divInto(S, 48, 40, 44, 4, (d & 1) === 1, (d & 2) === 2);
shiftInto(S, 52, 70, 0, 128, (c & 255) - 100, (d & 1) ? -1 : 0);
`;

function modelOf(body: string): CompiledJsModel {
  const code = [
    '"use strict";',
    "var bitsAt = R.bitsAt, shiftInto = R.shiftInto, mulInto = R.mulInto, divInto = R.divInto;",
    `function comb() {${body}}`,
    "function edge() { S.copyWithin(60, 8, 12); }",
    "return { comb, edge, F: new Int32Array(0), A: new Int32Array(0), blocks: 0, evaluated: () => 0, fullEdges: () => 0 };",
  ].join("\n");
  return { compilerVersion: 0, top: "semantics", stateWords: STATE_WORDS, evaluation: "full", code, initial: [], signals: [], inputs: [], clock: null, cellCount: 0 };
}

describe.skipIf(!nativeAvailable())("native translation of the js engine's model code", () => {
  it("leaves the state V8 leaves, for 2 000 random inputs with their sign and carry corners", { timeout: 120_000 }, async () => {
    const model = modelOf(BODY);
    const jsState = new Int32Array(STATE_WORDS);
    const js = new Function("S", "R", model.code)(jsState, runtime) as { comb(): void; edge(): void };
    const nativeState = new Int32Array(STATE_WORDS);
    const native = instantiateNativeModel(await buildNativeModel(model, false), nativeState);
    const random = seededRandom(0x5eed);
    const corners = [0, 1, -1, 0x7fffffff, -0x80000000, 0xffff, 31, 32];
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < INPUT_WORDS; i++) {
        const v = random() < 0.3 ? corners[Math.floor(random() * corners.length)] : Math.floor(random() * 2 ** 32) | 0;
        jsState[i] = v;
        nativeState[i] = v;
      }
      js.comb();
      js.edge();
      native.comb();
      native.edge();
      expect([...nativeState], `round ${round}, inputs ${[...jsState.slice(0, INPUT_WORDS)].join(", ")}`).toEqual([...jsState]);
    }
  });

  it("names what it cannot translate and where", () => {
    const model = modelOf("S[1] = S.length;");
    expect(() => translateModel(model.code, "odd_design")).toThrow(NativeTranslationError);
    expect(() => translateModel(model.code, "odd_design")).toThrow(/cannot translate .* in the model of odd_design \(line 3 of its code: S\.length/);
  });
});
