// `nvme-host formal`: one line per proof, the exit status, --broken expecting failures, --json.
import { afterEach, describe, expect, it, vi } from "vitest";
import { formalCommand } from "../../tools/formal-command.ts";

describe("nvme-host formal", () => {
  afterEach(() => vi.restoreAllMocks());

  function captured(): string[] {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
    return lines;
  }

  it("prints each proof's method, depth and outcome, and exits 0 when it holds", async () => {
    const lines = captured();
    expect(await formalCommand(["slot_allocator"], { broken: false, trace: false, json: false })).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ok  slot_allocator +design induction <= 4 +17 asserts, 0 assumes: proved \(induction closed at length \d\), witness in cycle \d/);
  });

  it("with --broken, reports the failing cycle and the ports up to it, and exits 0 because the variant fails", async () => {
    const lines = captured();
    expect(await formalCommand(["slot_allocator"], { broken: true, trace: true, json: false })).toBe(0);
    expect(lines[0]).toMatch(/^ok  slot_allocator +broken .*FAILS in cycle 3/);
    expect(lines[1]).toMatch(/broken: the second group's lowest slot/);
    expect(lines[2]).toMatch(/Time Signal Name/);
    expect(lines[2]).toMatch(/^\s+3 \\index /m);
  });

  it("prints one JSON document with --json", async () => {
    const lines = captured();
    expect(await formalCommand(["io_completion_queue"], { broken: false, trace: false, json: true })).toBe(0);
    const doc = JSON.parse(lines.join("\n"));
    expect(doc.ok).toBe(true);
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({ name: "io_completion_queue", variant: "design", status: "bounded", depth: 12 });
    expect(doc.results[0].log).toBeUndefined();
  });

  it("refuses an unknown proof name", async () => {
    expect(await formalCommand(["no_such_block"], { broken: false, trace: false, json: false })).toBe("usage");
  });
});
