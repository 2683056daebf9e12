// The SVG line plots of the benchmarks (sim/bench/svg-plot.ts): the document parses as strict XML, the
// title, axis titles, tick labels and legend entries are there, each series is one path through its
// points in x order at the right places (linear and log2 axes), and bad input names the problem.
import parseXml from "onml/parse.js";
import { describe, expect, it } from "vitest";
import { PlotError, type PlotSpec, escapeXml, linePlot, niceTicks } from "../../../sim/bench/svg-plot.ts";

type Node = [string, Record<string, string>, ...unknown[]];

function elements(node: Node): Node[] {
  const out: Node[] = [node];
  for (const child of node.slice(2)) if (Array.isArray(child)) out.push(...elements(child as Node));
  return out;
}

function texts(node: Node): string[] {
  return elements(node).filter((e) => e[0] === "text").map((e) => e.slice(2).filter((c) => typeof c === "string").join(""));
}

function inGroup(root: Node, cls: string): Node {
  const group = elements(root).find((e) => e[0] === "g" && e[1].class === cls);
  if (!group) throw new Error(`no <g class="${cls}">`);
  return group;
}

/** The path's points, in drawing order. */
function pathPoints(d: string): { x: number; y: number }[] {
  return [...d.matchAll(/[ML]([-\d.]+) ([-\d.]+)/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
}

const spec: PlotSpec = {
  title: "Throughput vs queue depth <test> & more",
  subtitle: "fastSsd, Gen2 x4, MPS 256",
  x: { label: "queue depth (log scale)", scale: "log2", ticks: [1, 2, 4, 8, 16, 32, 64].map((q) => ({ value: q, label: String(q) })) },
  y: { label: "throughput (GB/s)", scale: "linear", min: 0 },
  series: [
    // Given out of x order: the line still runs left to right.
    { name: "read, simulated", points: [{ x: 4, y: 1.2 }, { x: 1, y: 0.25 }, { x: 64, y: 1.5 }], color: "#d62728", marker: "circle" },
    { name: "read, estimate", points: [{ x: 1, y: 0.3 }, { x: 64, y: 1.6 }], color: "#d62728", dash: "6 4", marker: "square", markerFill: "open" },
    { name: "link ceiling (1.849 GB/s)", points: [{ x: 1, y: 1.849 }, { x: 64, y: 1.849 }], color: "#555555", dash: "2 3" },
  ],
  width: 700,
  height: 400,
};

describe("linePlot", () => {
  const svg = linePlot(spec);
  const root = parseXml(svg) as Node; // strict: malformed XML throws

  it("is an SVG document with the title (escaped), subtitle, axis titles and tick labels", () => {
    expect(root[0]).toBe("svg");
    // 400 px of plot, then the legend: 3 entries in 2 columns, 2 rows of 20 px and a margin of 8.
    expect(root[1]).toMatchObject({ xmlns: "http://www.w3.org/2000/svg", width: "700", height: "448", viewBox: "0 0 700 448" });
    const all = texts(root);
    expect(all).toContain("Throughput vs queue depth <test> & more");
    expect(svg).toContain("Throughput vs queue depth &lt;test&gt; &amp; more");
    expect(all).toContain("fastSsd, Gen2 x4, MPS 256");
    expect(texts(inGroup(root, "x-axis"))).toEqual(["1", "2", "4", "8", "16", "32", "64", "queue depth (log scale)"]);
    // A linear y axis from 0 to a round value above the data (1.849 -> 2), ticks every 0.5.
    expect(texts(inGroup(root, "y-axis"))).toEqual(["0", "0.5", "1", "1.5", "2", "throughput (GB/s)"]);
  });

  it("has a legend entry per series, in order, with its colour, dash and marker, below the plot area", () => {
    const legend = inGroup(root, "legend");
    expect(texts(legend)).toEqual(["read, simulated", "read, estimate", "link ceiling (1.849 GB/s)"]);
    const swatches = elements(legend).filter((e) => e[0] === "line");
    expect(swatches.map((s) => [s[1].stroke, s[1]["stroke-dasharray"]])).toEqual([["#d62728", undefined], ["#d62728", "6 4"], ["#555555", "2 3"]]);
    // Below the x axis's title (y 386), never over a line: two to a row.
    expect(swatches.map((s) => Number(s[1].y1))).toEqual([410, 410, 430]);
    expect(elements(legend).filter((e) => e[0] === "circle")).toHaveLength(1);
  });

  it("draws each series as one path through its points in x order, on log2 x and linear y", () => {
    const groups = elements(inGroup(root, "series")).filter((e) => e[0] === "g" && e[1]["data-series"] !== undefined);
    expect(groups.map((g) => g[1]["data-series"])).toEqual(["read, simulated", "read, estimate", "link ceiling (1.849 GB/s)"]);
    const simulated = pathPoints(elements(groups[0]).find((e) => e[0] === "path")![1].d);
    expect(simulated).toHaveLength(3);
    // x: log2, so 1 -> 4 is a third of the way from 1 to 64 (2 of 6 octaves); the plot area runs 72..676.
    const [left, right] = [72, 700 - 24];
    expect(simulated[0].x).toBeCloseTo(left, 1);
    expect(simulated[1].x).toBeCloseTo(left + ((right - left) * 2) / 6, 1);
    expect(simulated[2].x).toBeCloseTo(right, 1);
    // y: linear from 0 (bottom, 400 - 56) to 2 (top, 62 with a subtitle); SVG y grows downwards.
    const [bottom, top] = [400 - 56, 62];
    expect(simulated[0].y).toBeCloseTo(bottom - ((bottom - top) * 0.25) / 2, 1);
    expect(simulated[2].y).toBeCloseTo(bottom - ((bottom - top) * 1.5) / 2, 1);
    // Markers where the series asks for them: 3 circles, 2 squares, none on the ceiling.
    expect(elements(groups[0]).filter((e) => e[0] === "circle")).toHaveLength(3);
    expect(elements(groups[1]).filter((e) => e[0] === "rect")).toHaveLength(2);
    // Open markers: white inside, the colour as their outline.
    expect(elements(groups[1]).find((e) => e[0] === "rect")![1]).toMatchObject({ fill: "#ffffff", stroke: "#d62728" });
    expect(elements(groups[2]).filter((e) => e[0] !== "g" && e[0] !== "path")).toHaveLength(0);
    const ceiling = pathPoints(elements(groups[2]).find((e) => e[0] === "path")![1].d);
    expect(ceiling[0].y).toBeCloseTo(ceiling[1].y, 5);
  });

  it("puts default ticks at powers of two on a log2 axis and at round steps on a linear one", () => {
    const plain = parseXml(linePlot({ ...spec, x: { label: "bytes", scale: "log2" }, y: { label: "y", scale: "linear" }, subtitle: undefined })) as Node;
    expect(texts(inGroup(plain, "x-axis"))).toEqual(["1", "2", "4", "8", "16", "32", "64", "bytes"]);
    expect(niceTicks(0, 1.849)).toEqual([0, 0.5, 1, 1.5]);
    expect(niceTicks(0, 1.849, 10)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8]);
    expect(niceTicks(0, 450_000)).toEqual([0, 100_000, 200_000, 300_000, 400_000]);
  });

  it("names what is wrong in bad input", () => {
    expect(() => linePlot({ ...spec, series: [] })).toThrow(PlotError);
    expect(() => linePlot({ ...spec, series: [{ name: "empty", points: [], color: "#000" }] })).toThrow(/series "empty": no points/);
    expect(() => linePlot({ ...spec, series: [{ name: "nan", points: [{ x: 1, y: NaN }], color: "#000" }] })).toThrow(/series "nan": point \(1, NaN\) is not finite/);
    expect(() => linePlot({ ...spec, series: [{ name: "zero", points: [{ x: 0, y: 1 }], color: "#000" }] })).toThrow(/x: a log2 axis cannot show 0/);
    expect(escapeXml(`a<b>&"c"`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;");
  });
});
