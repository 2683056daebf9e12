// Inputs a module reads only in part on purpose (fields of a standard bundle it has no use for):
// waiveUnread() puts a Verilator waiver and the reason around the port, so the output stays lint-clean.
import { describe, expect, it } from "vitest";
import { HdlError, Module, emitDesign } from "../../hdl/index.ts";
import { hasTool } from "../../tools/external.ts";
import { lintFiles } from "../../tools/lint.ts";

function partlyRead(waive: boolean): Module {
  const m = new Module(`partly_read_${waive ? "waived" : "plain"}`);
  const status = m.input(8);
  const flag = m.output(1);
  m.comb(flag, status.bit(0));
  if (waive) m.waiveUnread(status, "bits 7:1 are reserved");
  return m;
}

describe("waiveUnread", () => {
  it.skipIf(!hasTool("verilator"))("emits the waiver with its reason and passes Verilator -Wall, where the plain module does not", async () => {
    const waived = emitDesign(partlyRead(true)).files;
    expect(waived[0].text).toContain("/* bits 7:1 are reserved */ /* verilator lint_off UNUSEDSIGNAL */ input  wire [7:0] status /* verilator lint_on UNUSEDSIGNAL */");
    expect((await lintFiles(waived)).findings).toEqual([]);
    const plain = await lintFiles(emitDesign(partlyRead(false)).files);
    expect(plain.findings.some((f) => f.tool === "verilator" && /status/.test(f.message))).toBe(true);
  });

  it("accepts only input ports of the module and a one-line reason", () => {
    const m = new Module("waiver_checks");
    const internal = m.signal(1);
    const input = m.input(1);
    expect(() => m.waiveUnread(internal, "x")).toThrow(HdlError);
    expect(() => m.waiveUnread(input, "a */ b")).toThrow(/one-line reason/);
  });
});
