// The formal runner on small designs whose outcome is known: a property proved by induction, one
// that fails in a known cycle, one that holds but cannot close an induction, assumptions honoured,
// a design without assertions refused, a witness that cannot rise reported as vacuous, and the
// mutation helper that makes the broken variants.
import { describe, expect, it } from "vitest";
import { Module, emitDesign } from "../../hdl/index.ts";
import { type FormalProof, FormalError, applyMutation, proveFiles, runProof } from "../../tools/formal.ts";

/** A 3-bit counter that counts while `enable` is high; asserts `count != forbidden` (if given). */
function counter(name: string, options: { forbidden?: number; assumeBelow?: number; witnessAt?: number } = {}): Module {
  const m = new Module(name);
  const enable = m.input(1);
  const count = m.output(3);
  const shadow = m.signal(3);
  m.If(enable, () => {
    m.sync(count, count.addWrap(1));
    m.sync(shadow, shadow.addWrap(1));
  });
  // Inductive: the two registers always agree.
  m.assert(count.eq(shadow));
  if (options.forbidden !== undefined) m.assert(count.ne(options.forbidden));
  if (options.assumeBelow !== undefined) m.If(count.eq(options.assumeBelow - 1), () => m.assume(enable.not()));
  if (options.witnessAt !== undefined) {
    const witness = m.output(1, { name: "witness" });
    m.If(count.eq(options.witnessAt), () => m.sync(witness, 1));
  }
  return m;
}

async function prove(design: Module, depth: number, method: "induction" | "bounded") {
  return proveFiles(emitDesign(design).files, design.name, depth, method);
}

describe("formal runner", () => {
  it("proves an inductive invariant and reports the induction length", async () => {
    const result = await prove(counter("formal_counter_ok"), 4, "induction");
    expect(result.status).toBe("proved");
    // Length 2: each check is sampled by a register (async2sync), one step behind what it judges.
    expect(result.inductionLength).toBe(2);
    expect(result.asserts).toBe(1);
  });

  it("finds a failing assertion in the cycle it breaks, with the ports up to it", async () => {
    // count is 0 in cycle 1 and counts every cycle at best: it reaches 5 in cycle 6.
    for (const method of ["induction", "bounded"] as const) {
      const result = await prove(counter("formal_counter_bad", { forbidden: 5 }), 8, method);
      expect(result.status).toBe("failed");
      expect(result.failedStep).toBe(6);
      expect(result.counterexample).toMatch(/^\s+6 \\count\s+5 /m);
      expect(result.counterexample).not.toMatch(/^\s+7 /m);
    }
  });

  it("reports bounded when no counterexample fits in the depth", async () => {
    const result = await prove(counter("formal_counter_far", { forbidden: 5 }), 5, "bounded");
    expect(result.status).toBe("bounded");
    expect(result.depth).toBe(5);
  });

  it("honours assumptions: the environment that stops the counter at 4 keeps it from 5", async () => {
    const result = await prove(counter("formal_counter_assumed", { forbidden: 5, assumeBelow: 5 }), 10, "bounded");
    expect(result.status).toBe("bounded");
    expect(result.assumes).toBe(1);
  });

  it("refuses a design without assertions", async () => {
    const m = new Module("formal_nothing");
    const a = m.input(1);
    const b = m.output(1);
    m.sync(b, a);
    await expect(prove(m, 3, "bounded")).rejects.toThrow(FormalError);
    await expect(prove(m, 3, "bounded")).rejects.toThrow(/no assertion/);
  });

  it("reports a proof whose witness cannot rise as vacuous, and one whose witness rises with its cycle", async () => {
    const proofOf = (build: () => Module): FormalProof => ({
      name: "counter",
      description: "",
      depth: 8,
      method: "bounded",
      build,
      broken: { description: "", module: "", find: "", replace: "" },
    });
    const blocked = await runProof(proofOf(() => counter("formal_counter_blocked", { assumeBelow: 3, witnessAt: 4 })));
    expect(blocked.status).toBe("vacuous");
    const reached = await runProof(proofOf(() => counter("formal_counter_reached", { witnessAt: 4 })));
    expect(reached.status).toBe("bounded");
    // The count is 4 in cycle 5 at the earliest.
    expect(reached.witnessStep).toBeGreaterThanOrEqual(5);
    expect(reached.witnessStep).toBeLessThanOrEqual(8);
  });

  it("applies a mutation only where its text occurs exactly once", () => {
    const { files } = emitDesign(counter("formal_counter_text"));
    const mutated = applyMutation(files, { description: "", module: "formal_counter_text", find: "count <= count + 3'd1;", replace: "count <= count + 3'd2;" });
    expect(mutated[0].text).toContain("count <= count + 3'd2;");
    expect(mutated[0].text).not.toContain("count <= count + 3'd1;");
    expect(() => applyMutation(files, { description: "", module: "formal_counter_text", find: "no such text", replace: "" })).toThrow(/occurs 0 times/);
    expect(() => applyMutation(files, { description: "", module: "formal_counter_text", find: "count", replace: "" })).toThrow(/occurs \d+ times/);
    expect(() => applyMutation(files, { description: "", module: "other", find: "count", replace: "" })).toThrow(/no emitted module other/);
  });

  it("rejects a depth that is not a positive integer", async () => {
    await expect(prove(counter("formal_counter_depth"), 0, "bounded")).rejects.toThrow(/depth 0/);
  });
});
