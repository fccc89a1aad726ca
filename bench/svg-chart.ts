/**
 * A small dependency-free horizontal bar chart as SVG, for docs/benchmarks.md: one bar per row
 * (long labels fit on the left), optional series colours with a legend, optional vertical marker
 * lines (a target's threshold). Plain SVG 1.1, readable on GitHub's light and dark themes.
 */

export interface Bar {
  label: string;
  value: number;
  /** Series name: bars of one series share a colour; listed in the legend. */
  series?: string;
  /** Text after the bar; defaults to the value. */
  text?: string;
}

export interface BarChart {
  title: string;
  /** Axis caption, e.g. "µs of CPU per record". */
  unit: string;
  bars: Bar[];
  markers?: Array<{ value: number; label: string }>;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];
const ROW = 22;
const LABEL_WIDTH = 330;
const PLOT_WIDTH = 420;
const TEXT_WIDTH = 110;
const CHAR = 6.2;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function clip(text: string, width: number): string {
  const max = Math.floor(width / CHAR);
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A "nice" axis end above `max` (1, 2, 2.5 or 5 × a power of ten). */
function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return ([1, 2, 2.5, 5, 10].find((m) => m * power >= max) ?? 10) * power;
}

export function barChart(chart: BarChart): string {
  const bars = chart.bars.filter((b) => Number.isFinite(b.value));
  const series = [...new Set(bars.map((b) => b.series).filter((s): s is string => s !== undefined))];
  const colour = (b: Bar) => PALETTE[b.series === undefined ? 0 : series.indexOf(b.series) % PALETTE.length]!;
  const top = 34 + (series.length > 0 ? 20 : 0);
  const axisEnd = niceCeiling(Math.max(...bars.map((b) => b.value), ...(chart.markers ?? []).map((m) => m.value)));
  const width = LABEL_WIDTH + PLOT_WIDTH + TEXT_WIDTH;
  const x = (value: number) => LABEL_WIDTH + (value / axisEnd) * PLOT_WIDTH;
  const markers = chart.markers ?? [];
  const height = top + bars.length * ROW + 30 + 14 * Math.max(1, markers.length);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold" fill="#222">${escape(chart.title)}</text>`,
  ];
  let legendX = 8;
  series.forEach((name, i) => {
    parts.push(`<rect x="${legendX}" y="${top - 16}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${top - 7}" fill="#222">${escape(name)}</text>`);
    legendX += 14 + name.length * CHAR + 20;
  });
  bars.forEach((b, i) => {
    const y = top + i * ROW;
    const w = Math.max(1, x(b.value) - LABEL_WIDTH);
    parts.push(`<text x="${LABEL_WIDTH - 6}" y="${y + 14}" text-anchor="end" fill="#222">${escape(clip(b.label, LABEL_WIDTH - 12))}</text>`);
    parts.push(`<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${colour(b)}"/>`);
    parts.push(`<text x="${(LABEL_WIDTH + w + 4).toFixed(1)}" y="${y + 14}" fill="#222">${escape(b.text ?? String(b.value))}</text>`);
  });
  const axisY = top + bars.length * ROW + 4;
  parts.push(`<line x1="${LABEL_WIDTH}" y1="${top}" x2="${LABEL_WIDTH}" y2="${axisY}" stroke="#888"/>`);
  parts.push(`<line x1="${LABEL_WIDTH}" y1="${axisY}" x2="${LABEL_WIDTH + PLOT_WIDTH}" y2="${axisY}" stroke="#888"/>`);
  for (let t = 0; t <= 4; t++) {
    const value = (axisEnd * t) / 4;
    parts.push(`<text x="${x(value).toFixed(1)}" y="${axisY + 14}" text-anchor="middle" fill="#555">${escape(String(Number(value.toPrecision(3))))}</text>`);
  }
  parts.push(`<text x="${LABEL_WIDTH - 6}" y="${axisY + 14}" text-anchor="end" fill="#555">${escape(chart.unit)}</text>`);
  // One line of text per marker below the axis, so close markers never overprint each other.
  markers.forEach((m, i) => {
    const mx = x(m.value).toFixed(1);
    parts.push(`<line x1="${mx}" y1="${top}" x2="${mx}" y2="${axisY + 18 + 14 * i}" stroke="#c00" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${(Number(mx) + 3).toFixed(1)}" y="${axisY + 28 + 14 * i}" fill="#c00">${escape(m.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
