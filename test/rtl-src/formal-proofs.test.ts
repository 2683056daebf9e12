// Every formal proof holds on the emitted Verilog of its block (proved by induction, or bounded at
// its depth, with its witness reachable so that the assumptions leave something to check), and
// every deliberately broken variant fails it. This is where the proofs run in CI.
import { describe, expect, it } from "vitest";
import { formalProofs } from "../../rtl-src/formal-proofs.ts";
import { runProof } from "../../tools/formal.ts";

describe("formal proofs", () => {
  it("cover the blocks issue 13 names", () => {
    expect(formalProofs.map((p) => p.name).sort()).toEqual(
      [
        "axis_skid_buffer",
        "axis_skid_buffer_invariants",
        "io_completion_queue",
        "io_sq_tail",
        "slot_allocator",
        "sync_fifo",
        "sync_fifo_invariants",
        "tlp_completer",
        "tlp_rx",
        "tlp_tx_packer",
      ].sort(),
    );
  });

  for (const proof of formalProofs) {
    it(`${proof.name}: holds (${proof.method}, depth ${proof.depth})`, async () => {
      const result = await runProof(proof, "design");
      expect(result.status).toBe(proof.method === "induction" ? "proved" : "bounded");
      expect(result.asserts).toBeGreaterThan(0);
      // A harness has a witness (a block proved on its own has none: its invariants need no environment).
      if (!proof.name.endsWith("_invariants")) expect(result.witnessStep).toBeDefined();
    }, 120_000);

    it(`${proof.name}: the broken variant fails (${proof.broken.description})`, async () => {
      const result = await runProof(proof, "broken");
      expect(result.status).toBe("failed");
      expect(result.failedStep).toBeGreaterThan(0);
      expect(result.failedStep).toBeLessThanOrEqual(proof.depth);
      expect(result.counterexample).toMatch(/\\clk/);
    }, 120_000);
  }
});
