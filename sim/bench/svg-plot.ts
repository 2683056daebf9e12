// Line plots as standalone SVG text, for the figures the benchmarks commit under docs/ (throughput
// against queue depth or block size). Plain code instead of a plotting library: a figure here is a
// few labelled lines on linear or base-2 logarithmic axes, and SVG written by hand stays readable in
// a diff and renders the same everywhere (GitHub shows it inline). No scripts, no external fonts or
// styles: everything the picture needs is in the file.

export type AxisScale = "linear" | "log2";

export interface AxisTick {
  value: number;
  label: string;
}

export interface PlotAxis {
  /** The axis title, with its unit ("throughput (GB/s)"). */
  label: string;
  scale: AxisScale;
  /** The range shown; default: the data's range (a linear y axis starts at 0). */
  min?: number;
  max?: number;
  /** Where the ticks go and what they say; default: round values across the range. */
  ticks?: readonly AxisTick[];
  /** How a default tick prints (default: up to 3 significant digits). */
  format?: (value: number) => string;
}

export type MarkerShape = "circle" | "square" | "triangle" | "none";

export interface PlotSeries {
  /** The legend's text. */
  name: string;
  points: readonly { x: number; y: number }[];
  /** Any SVG colour ("#1f77b4"). */
  color: string;
  /** SVG stroke-dasharray ("6 4" for dashed), or none for a solid line. */
  dash?: string;
  marker?: MarkerShape;
  /** Markers filled with the colour (default) or open (white inside): open ones show a filled one under them. */
  markerFill?: "solid" | "open";
  /** Stroke width in px (default 2). */
  width?: number;
}

export interface PlotSpec {
  title: string;
  /** A second title line in a smaller font (the configuration). */
  subtitle?: string;
  x: PlotAxis;
  y: PlotAxis;
  series: readonly PlotSeries[];
  /** Size in px of the plot with its titles and axes (default 760 x 480); the legend below adds its rows. */
  width?: number;
  height?: number;
}

/** Bad plot input: names the field and the value. */
export class PlotError extends Error {
  override name = "PlotError";
}

const FONT = "font-family=\"Helvetica, Arial, sans-serif\"";
const LEGEND_ROW = 20;
const LEGEND_SWATCH = 28;
/** Approximate width of a character of the 12 px legend font, px (for the legend box). */
const LEGEND_CHAR_WIDTH = 6.6;

/** Text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Coordinates with two decimals at most: enough for a screen, short in a diff. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function defaultFormat(value: number): string {
  if (value === 0) return "0";
  return String(Number(value.toPrecision(3)));
}

/** Round tick values (1, 2, 5 x 10^k steps) from min to max, about `count` of them. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

interface ResolvedAxis {
  min: number;
  max: number;
  ticks: AxisTick[];
  map: (value: number, from: number, to: number) => number;
}

function resolveAxis(axis: PlotAxis, values: number[], which: "x" | "y"): ResolvedAxis {
  const finite = values.filter((v) => Number.isFinite(v));
  if (axis.scale !== "linear" && axis.scale !== "log2") throw new PlotError(`${which}.scale=${String(axis.scale)}: not linear or log2`);
  if (axis.scale === "log2" && finite.some((v) => v <= 0)) throw new PlotError(`${which}: a log2 axis cannot show ${finite.find((v) => v <= 0)}`);
  let min = axis.min ?? (finite.length ? Math.min(...finite) : 0);
  let max = axis.max ?? (finite.length ? Math.max(...finite) : 1);
  if (axis.scale === "linear") {
    if (axis.min === undefined && which === "y") min = Math.min(0, min);
    if (max === min) max = min + 1;
    if (axis.max === undefined && which === "y") {
      // Up to the first round value with some head room above the data: the top line stays off the frame.
      const ticks = niceTicks(min, max);
      const step = ticks.length > 1 ? ticks[1] - ticks[0] : max - min;
      max = Math.ceil((max + 0.04 * (max - min)) / step - 1e-9) * step;
    }
  } else {
    if (min <= 0 || max <= 0) throw new PlotError(`${which}: a log2 axis needs min and max above 0 (got ${min}, ${max})`);
    if (max === min) max = min * 2;
  }
  if (!(max > min)) throw new PlotError(`${which}: max ${max} is not above min ${min}`);
  const format = axis.format ?? defaultFormat;
  let ticks: AxisTick[];
  if (axis.ticks) ticks = axis.ticks.filter((t) => t.value >= min && t.value <= max).map((t) => ({ ...t }));
  else if (axis.scale === "log2") {
    ticks = [];
    for (let e = Math.ceil(Math.log2(min) - 1e-9); 2 ** e <= max * (1 + 1e-9); e++) ticks.push({ value: 2 ** e, label: format(2 ** e) });
  } else ticks = niceTicks(min, max).filter((v) => v <= max + 1e-12).map((v) => ({ value: v, label: format(v) }));
  const lo = axis.scale === "log2" ? Math.log2(min) : min;
  const hi = axis.scale === "log2" ? Math.log2(max) : max;
  const map = (value: number, from: number, to: number) => {
    const v = axis.scale === "log2" ? Math.log2(value) : value;
    return from + ((v - lo) / (hi - lo)) * (to - from);
  };
  return { min, max, ticks, map };
}

function marker(shape: MarkerShape, x: number, y: number, color: string, fill: "solid" | "open" = "solid"): string {
  const paint = fill === "open" ? `fill="#ffffff" stroke="${color}" stroke-width="1.5"` : `fill="${color}"`;
  switch (shape) {
    case "circle":
      return `<circle cx="${px(x)}" cy="${px(y)}" r="3.5" ${paint}/>`;
    case "square":
      return `<rect x="${px(x - 3.5)}" y="${px(y - 3.5)}" width="7" height="7" ${paint}/>`;
    case "triangle":
      return `<path d="M${px(x)} ${px(y - 4.5)}L${px(x + 4)} ${px(y + 3)}L${px(x - 4)} ${px(y + 3)}Z" ${paint}/>`;
    case "none":
      return "";
  }
}

/**
 * The plot as an SVG document: title (and subtitle), both axes with ticks, grid and titles, one line
 * per series (points joined in x order, optional markers), and the legend below the x axis's title
 * (in columns, so that it never hides a line). Throws PlotError for a series without points, a
 * non-finite point, or a log axis reaching 0.
 */
export function linePlot(spec: PlotSpec): string {
  const width = spec.width ?? 760;
  const plotHeight = spec.height ?? 480;
  if (spec.series.length === 0) throw new PlotError("series: none to plot");
  for (const s of spec.series) {
    if (s.points.length === 0) throw new PlotError(`series "${s.name}": no points`);
    const bad = s.points.find((p) => !Number.isFinite(p.x) || !Number.isFinite(p.y));
    if (bad) throw new PlotError(`series "${s.name}": point (${bad.x}, ${bad.y}) is not finite`);
  }
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p.y));
  const xAxis = resolveAxis(spec.x, xs, "x");
  const yAxis = resolveAxis(spec.y, ys, "y");

  const top = spec.subtitle ? 62 : 44;
  const left = 72;
  const right = width - 24;
  const bottom = plotHeight - 56;
  // The legend: as many columns as fit under the plot area, filled row by row.
  const entryWidth = LEGEND_SWATCH + 18 + LEGEND_CHAR_WIDTH * Math.max(...spec.series.map((s) => s.name.length));
  const columns = Math.max(1, Math.min(spec.series.length, Math.floor((right - left) / entryWidth)));
  const rows = Math.ceil(spec.series.length / columns);
  const height = plotHeight + rows * LEGEND_ROW + 8;
  const X = (v: number) => xAxis.map(v, left, right);
  const Y = (v: number) => yAxis.map(v, bottom, top);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`);
  out.push(`<title>${escapeXml(spec.subtitle ? `${spec.title} (${spec.subtitle})` : spec.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${px(width / 2)}" y="22" text-anchor="middle" font-size="16" font-weight="bold" ${FONT}>${escapeXml(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${px(width / 2)}" y="42" text-anchor="middle" font-size="12" fill="#333333" ${FONT}>${escapeXml(spec.subtitle)}</text>`);

  // Grid and ticks.
  out.push(`<g class="grid" stroke="#dddddd" stroke-width="1">`);
  for (const t of xAxis.ticks) out.push(`<line x1="${px(X(t.value))}" y1="${px(top)}" x2="${px(X(t.value))}" y2="${px(bottom)}"/>`);
  for (const t of yAxis.ticks) out.push(`<line x1="${px(left)}" y1="${px(Y(t.value))}" x2="${px(right)}" y2="${px(Y(t.value))}"/>`);
  out.push(`</g>`);
  out.push(`<g class="x-axis" font-size="12" ${FONT}>`);
  out.push(`<line x1="${px(left)}" y1="${px(bottom)}" x2="${px(right)}" y2="${px(bottom)}" stroke="#000000"/>`);
  for (const t of xAxis.ticks) {
    out.push(`<line x1="${px(X(t.value))}" y1="${px(bottom)}" x2="${px(X(t.value))}" y2="${px(bottom + 5)}" stroke="#000000"/>`);
    out.push(`<text x="${px(X(t.value))}" y="${px(bottom + 19)}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  out.push(`<text class="axis-label" x="${px((left + right) / 2)}" y="${px(plotHeight - 14)}" text-anchor="middle" font-size="13">${escapeXml(spec.x.label)}</text>`);
  out.push(`</g>`);
  out.push(`<g class="y-axis" font-size="12" ${FONT}>`);
  out.push(`<line x1="${px(left)}" y1="${px(top)}" x2="${px(left)}" y2="${px(bottom)}" stroke="#000000"/>`);
  for (const t of yAxis.ticks) {
    out.push(`<line x1="${px(left - 5)}" y1="${px(Y(t.value))}" x2="${px(left)}" y2="${px(Y(t.value))}" stroke="#000000"/>`);
    out.push(`<text x="${px(left - 8)}" y="${px(Y(t.value) + 4)}" text-anchor="end">${escapeXml(t.label)}</text>`);
  }
  const yMid = (top + bottom) / 2;
  out.push(`<text class="axis-label" x="18" y="${px(yMid)}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${px(yMid)})">${escapeXml(spec.y.label)}</text>`);
  out.push(`</g>`);

  // The series, clipped to the plot area (a point outside a fixed range does not spill over the axes)
  // and a margin, so that a marker on the frame shows whole.
  const margin = 6;
  out.push(`<clipPath id="plot-area"><rect x="${px(left - margin)}" y="${px(top - margin)}" width="${px(right - left + 2 * margin)}" height="${px(bottom - top + 2 * margin)}"/></clipPath>`);
  out.push(`<g class="series" clip-path="url(#plot-area)" fill="none">`);
  for (const s of spec.series) {
    const points = [...s.points].sort((a, b) => a.x - b.x);
    const path = points.map((p, i) => `${i === 0 ? "M" : "L"}${px(X(p.x))} ${px(Y(p.y))}`).join("");
    out.push(`<g data-series="${escapeXml(s.name)}">`);
    out.push(`<path d="${path}" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    for (const p of points) out.push(marker(s.marker ?? "none", X(p.x), Y(p.y), s.color, s.markerFill));
    out.push(`</g>`);
  }
  out.push(`</g>`);

  // Legend: under the x axis's title, centred, in columns.
  const lx = (left + right) / 2 - (columns * entryWidth) / 2;
  const ly = plotHeight;
  out.push(`<g class="legend" font-size="12" ${FONT}>`);
  spec.series.forEach((s, i) => {
    const x = lx + (i % columns) * entryWidth;
    const y = ly + Math.floor(i / columns) * LEGEND_ROW + LEGEND_ROW / 2;
    out.push(`<line x1="${px(x)}" y1="${px(y)}" x2="${px(x + LEGEND_SWATCH)}" y2="${px(y)}" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    out.push(marker(s.marker ?? "none", x + LEGEND_SWATCH / 2, y, s.color, s.markerFill));
    out.push(`<text x="${px(x + LEGEND_SWATCH + 8)}" y="${px(y + 4)}">${escapeXml(s.name)}</text>`);
  });
  out.push(`</g>`);
  out.push(`</svg>`);
  return `${out.filter((line) => line !== "").join("\n")}\n`;
}
