/**
 * A standalone SVG figure of series (for papers): axes, ticks, grid, legend, log scale, one <path> per
 * series through the series' own points (no resampling: vector output can show every point). Pure.
 * Axes, ticks and legend swatches are <line>/<text>/<rect> elements, so the <path>s are exactly the
 * series. Points that cannot be drawn (left out by seriesFromTable) break nothing: the path goes on
 * between the remaining points.
 */
import { escapeControl } from '../core/text.js';
import { formatTick, type Series } from './plot.js';

export interface SvgOptions {
  readonly x: string;
  readonly y: string;
  /** The series' ys are log10 values. */
  readonly log: boolean;
  /** The series' xs are log10 values. */
  readonly logX?: boolean;
  readonly title?: string;
  readonly width?: number;
  readonly height?: number;
}

/** Colour-blind-safe palette (Okabe–Ito), then greys. */
const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#999999', '#882255', '#117733', '#332288'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

/** XML text; control characters (invalid in XML 1.0, and from data files) shown as escapes. */
function escapeXml(s: string): string {
  return escapeControl(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" ticks (1, 2, 5 × 10^k) covering [lo, hi], about `target` of them. */
export function linearTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  return ticks;
}

/** Decade ticks (in log10 units) covering [lo, hi]; every n-th decade when there are many. */
export function logTicks(lo: number, hi: number): number[] {
  const first = Math.ceil(lo - 1e-9);
  const last = Math.floor(hi + 1e-9);
  if (last < first) return linearTicks(lo, hi, 4);
  const every = Math.max(1, Math.ceil((last - first + 1) / 8));
  const ticks: number[] = [];
  for (let t = first; t <= last; t += every) ticks.push(t);
  return ticks;
}

function fmt(v: number): string {
  return String(Math.round(v * 100) / 100);
}

export function renderSvg(series: readonly Series[], options: SvgOptions): string {
  const width = options.width ?? 880;
  const height = options.height ?? 520;
  const legendWidth = 260;
  const margin = { left: 84, right: legendWidth + 20, top: 40, bottom: 60 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const drawn = series.filter((s) => s.xs.length > 0);

  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of drawn) {
    for (const x of s.xs) {
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
    }
    for (const y of s.ys) {
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  if (drawn.length === 0) {
    xMin = 0;
    xMax = 1;
    yMin = 0;
    yMax = 1;
  }
  if (xMax === xMin) {
    xMin -= 0.5;
    xMax += 0.5;
  }
  if (yMax === yMin) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const padY = (yMax - yMin) * 0.04;
  yMin -= padY;
  yMax += padY;
  const px = (x: number) => margin.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y: number) => margin.top + (1 - (y - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  const title = options.title ?? `${options.y} vs ${options.x}`;
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${fmt(margin.left + plotW / 2)}" y="24" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);

  // grid and ticks
  const xTicks = options.logX ? logTicks(xMin, xMax) : linearTicks(xMin, xMax);
  const yTicks = options.log ? logTicks(yMin, yMax) : linearTicks(yMin, yMax);
  out.push('<g class="grid" stroke="#e5e5e5" stroke-width="1">');
  for (const t of xTicks) out.push(`<line x1="${fmt(px(t))}" y1="${margin.top}" x2="${fmt(px(t))}" y2="${margin.top + plotH}"/>`);
  for (const t of yTicks) out.push(`<line x1="${margin.left}" y1="${fmt(py(t))}" x2="${margin.left + plotW}" y2="${fmt(py(t))}"/>`);
  out.push('</g>');
  out.push('<g class="axes" stroke="#000000" stroke-width="1">');
  out.push(`<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}"/>`);
  out.push(`<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}"/>`);
  for (const t of xTicks) out.push(`<line x1="${fmt(px(t))}" y1="${margin.top + plotH}" x2="${fmt(px(t))}" y2="${margin.top + plotH + 5}"/>`);
  for (const t of yTicks) out.push(`<line x1="${margin.left - 5}" y1="${fmt(py(t))}" x2="${margin.left}" y2="${fmt(py(t))}"/>`);
  out.push('</g>');
  out.push('<g class="tick-labels" fill="#000000">');
  for (const t of xTicks) {
    const text = options.logX && Number.isInteger(t) ? `1e${t}` : formatTick(options.logX ? 10 ** t : t);
    out.push(`<text x="${fmt(px(t))}" y="${margin.top + plotH + 18}" text-anchor="middle">${escapeXml(text)}</text>`);
  }
  for (const t of yTicks) {
    const text = options.log && Number.isInteger(t) ? `1e${t}` : formatTick(options.log ? 10 ** t : t);
    out.push(`<text x="${margin.left - 8}" y="${fmt(py(t) + 4)}" text-anchor="end">${escapeXml(text)}</text>`);
  }
  out.push('</g>');
  out.push(`<text x="${fmt(margin.left + plotW / 2)}" y="${height - 16}" text-anchor="middle">${escapeXml(options.logX ? `${options.x} (log scale)` : options.x)}</text>`);
  const yName = options.log ? `${options.y} (log scale)` : options.y;
  out.push(`<text x="18" y="${fmt(margin.top + plotH / 2)}" text-anchor="middle" transform="rotate(-90 18 ${fmt(margin.top + plotH / 2)})">${escapeXml(yName)}</text>`);

  // series
  out.push(`<defs><clipPath id="plot-area"><rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}"/></clipPath></defs>`);
  out.push('<g class="series" fill="none" stroke-width="1.6" clip-path="url(#plot-area)">');
  drawn.forEach((s, i) => {
    const d = s.xs.map((x, j) => `${j === 0 ? 'M' : 'L'}${fmt(px(x))} ${fmt(py(s.ys[j]))}`).join(' ');
    const dash = DASHES[Math.floor(i / COLORS.length) % DASHES.length];
    out.push(
      `<path d="${d}" stroke="${COLORS[i % COLORS.length]}"${dash ? ` stroke-dasharray="${dash}"` : ''} data-run-id="${escapeXml(s.runId)}"><title>${escapeXml(s.label)}</title></path>`,
    );
  });
  out.push('</g>');

  // legend
  const lx = margin.left + plotW + 20;
  out.push('<g class="legend">');
  drawn.forEach((s, i) => {
    const y = margin.top + 8 + i * 18;
    const dash = DASHES[Math.floor(i / COLORS.length) % DASHES.length];
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 24}" y2="${y}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    out.push(`<text x="${lx + 30}" y="${y + 4}">${escapeXml(s.label)}</text>`);
  });
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
