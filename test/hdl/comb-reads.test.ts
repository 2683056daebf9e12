// A comb signal read inside the statement group that drives it: the read is the signal's settled
// value (hdl/README.md, "Statements and drivers"), whatever the statement order and however the
// TypeScript is factored, on every simulator.
import { describe, expect, it } from "vitest";
import { HdlError, Module, type Signal, emitDesign } from "../../hdl/index.ts";
import { settleEverywhere, type Vector } from "../../sim/testbench/run-everywhere.ts";

const vectors: Vector[] = [
  { c: 0, d: 0, a: 3, b: 7 },
  { c: 1, d: 0, a: 3, b: 7 },
  { c: 1, d: 1, a: 3, b: 7 },
  { c: 1, d: 1, a: 250, b: 255 },
  { c: 0, d: 1, a: 9, b: 9 },
  { c: 1, d: 0, a: 9, b: 9 },
];

interface Ports {
  m: Module;
  c: Signal;
  d: Signal;
  a: Signal;
  b: Signal;
  x: Signal;
  y: Signal;
}

function build(name: string, body: (p: Ports) => void, xReset = 0): Module {
  const m = new Module(name);
  const c = m.input(1, { name: "c" });
  const d = m.input(1, { name: "d" });
  const a = m.input(8, { name: "a" });
  const b = m.input(8, { name: "b" });
  const x = m.output(8, { name: "x", reset: xReset });
  const y = m.output(8, { name: "y" });
  body({ m, c, d, a, b, x, y });
  return m;
}

/** Every simulator gives `expected(vector)` for every output. */
async function expectEverywhere(m: Module, expected: (v: Vector) => Record<string, bigint>): Promise<void> {
  const results = await settleEverywhere(m, vectors);
  expect([...results.keys()]).toContain("js");
  for (const [simulator, got] of results) {
    vectors.forEach((v, i) => {
      const want = expected(v);
      const seen = Object.fromEntries(Object.keys(want).map((name) => [name, got[name][i]]));
      expect(seen, `${simulator}, vector ${JSON.stringify(v)}`).toEqual(want);
    });
  }
}

const wrap8 = (v: bigint) => v & 0xffn;
const big = (v: Vector, name: string) => BigInt(v[name]);

/** x = b when c (a is overridden), y follows x + 1 when c. */
const issueAnswer = (v: Vector) =>
  big(v, "c") ? { x: big(v, "b"), y: wrap8(big(v, "b") + 1n) } : { x: 0n, y: 0n };

describe("a comb signal read inside its own group reads its settled value", () => {
  const orders: [string, (p: Ports) => void][] = [
    ["x=a; y=x+1; x=b", ({ m, a, b, x, y }) => (m.comb(x, a), m.comb(y, x.addWrap(1)), m.comb(x, b))],
    ["y=x+1; x=a; x=b", ({ m, a, b, x, y }) => (m.comb(y, x.addWrap(1)), m.comb(x, a), m.comb(x, b))],
    ["x=a; x=b; y=x+1", ({ m, a, b, x, y }) => (m.comb(x, a), m.comb(x, b), m.comb(y, x.addWrap(1)))],
  ];
  orders.forEach(([order, statements], k) => {
    it(`the issue's example, in the order ${order}: y = b + 1 on every simulator`, async () => {
      const m = build(`comb_read_order_${k}`, (p) => p.m.If(p.c, () => statements(p)));
      await expectEverywhere(m, issueAnswer);
    });
  });

  it("binding x + 1 to a const used twice does not change the answer", async () => {
    const m = build("comb_read_const", ({ m, a, b, c, x, y }) => {
      const z = m.output(8, { name: "z" });
      m.If(c, () => {
        m.comb(x, a);
        const next = x.addWrap(1);
        m.comb(y, next);
        m.comb(z, next);
        m.comb(x, b);
      });
    });
    await expectEverywhere(m, (v) => ({ ...issueAnswer(v), z: issueAnswer(v).y }));
  });

  it("a condition that reads a target of its own group sees the settled value", async () => {
    const m = build("comb_read_condition", ({ m, a, b, c, x, y }) => {
      m.If(c, () => {
        m.comb(x, a);
        m.If(x.eq(b), () => m.comb(y, 1));
        m.comb(x, b);
      });
    });
    await expectEverywhere(m, (v) => ({ x: big(v, "c") ? big(v, "b") : 0n, y: big(v, "c") }));
  });

  it("a target left at its default value is read as that default", async () => {
    const m = build(
      "comb_read_default",
      ({ m, a, c, d, x, y }) => {
        m.If(c, () => {
          m.comb(y, x.addWrap(1));
          m.If(d, () => m.comb(x, a));
        });
      },
      5,
    );
    await expectEverywhere(m, (v) => {
      const x = big(v, "c") && big(v, "d") ? big(v, "a") : 5n;
      return { x, y: big(v, "c") ? wrap8(x + 1n) : 0n };
    });
  });

  it("a read in a Switch case of a target assigned in a later case", async () => {
    const m = build("comb_read_switch", ({ m, a, b, d, x, y }) => {
      m.Switch(d, (s) => {
        s.Case(0, () => (m.comb(y, x), m.comb(x, a)));
        s.Default(() => (m.comb(x, b), m.comb(y, x.addWrap(1))));
      });
    });
    await expectEverywhere(m, (v) =>
      big(v, "d") ? { x: big(v, "b"), y: wrap8(big(v, "b") + 1n) } : { x: big(v, "a"), y: big(v, "a") },
    );
  });

  it("emits one process per target read inside the group, the others together", () => {
    const m = build("comb_read_split", ({ m, a, b, c, x, y }) => {
      const w = m.output(8, { name: "w" });
      m.If(c, () => {
        m.comb(x, a);
        m.comb(y, x.addWrap(1));
        m.comb(w, x.addWrap(2));
        m.comb(x, b);
      });
    });
    const text = emitDesign(m).files[0].text;
    const processes = text.split("always @*").slice(1).map((p) => p.slice(0, p.indexOf("\n  end\n")));
    expect(processes).toHaveLength(2);
    const [first, second] = processes;
    expect(first).toMatch(/x = b;/);
    expect(first).not.toMatch(/[yw] =/);
    expect(second).toMatch(/y = /);
    expect(second).toMatch(/w = /);
    expect(second).not.toMatch(/\bx = /);
  });

  it("a group whose targets are not read inside it stays one process", () => {
    const m = build("comb_read_none", ({ m, a, b, c, x, y }) => {
      m.If(c, () => (m.comb(x, a), m.comb(y, b)));
    });
    expect(emitDesign(m).files[0].text.split("always @*")).toHaveLength(2);
  });
});

describe("combinational loops through a group's own targets", () => {
  it("y reading x in the same group is a dependency, not a loop", () => {
    const m = build("comb_read_no_loop", ({ m, a, c, x, y }) => m.If(c, () => (m.comb(x, a), m.comb(y, x))));
    expect(() => emitDesign(m)).not.toThrow();
  });

  it("x <- y <- x inside one group is reported, naming the file and line", () => {
    const m = build("comb_read_loop", ({ m, a, c, x, y }) => {
      m.If(c, () => {
        m.comb(x, a);
        m.comb(y, x);
        m.comb(x, y);
      });
    });
    let error: unknown;
    try {
      emitDesign(m);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HdlError);
    expect((error as Error).message).toMatch(/^test\/hdl\/comb-reads\.test\.ts:\d+/);
    expect((error as Error).message).toMatch(/combinational loop.*(x -> y -> x|y -> x -> y)/);
  });

  it("x read in the condition of its own assignment is a loop", () => {
    const m = build("comb_read_self", ({ m, a, c, x, y }) => (m.If(c, () => m.If(x.eq(a), () => m.comb(x, a))), m.comb(y, 0)));
    expect(() => emitDesign(m)).toThrow(/combinational loop.*x -> x/);
  });
});
