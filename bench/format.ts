// Number formatting shared by the report, the targets and the scale arithmetic.
import type { Spread } from './stats.ts';

export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3);
  return value.toFixed(d);
}

/** median (min–max) */
export function range(s: Spread | undefined, digits?: number): string {
  if (!s) return 'n/a';
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

export function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || !Number.isFinite(value) || !Number.isFinite(base) || base === 0) return 'n/a';
  return `${(value / base).toFixed(2)}×`;
}

/** "1.05× (0.98–1.10)": the median of per-round ratios and their range. */
export function ratioRange(s: Spread | undefined): string {
  return s ? `${fmt(s.median, 2)}× (${fmt(s.min, 2)}–${fmt(s.max, 2)})` : 'n/a';
}

