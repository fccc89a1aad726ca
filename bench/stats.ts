// Order statistics for benchmark samples.

/** Linear-interpolated percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export interface Spread {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  n: number;
}

export function spread(samples: readonly number[]): Spread {
  return {
    median: percentile(samples, 50),
    p25: percentile(samples, 25),
    p75: percentile(samples, 75),
    min: Math.min(...samples),
    max: Math.max(...samples),
    n: samples.length,
  };
}

/** The same spread in other units (every order statistic times `factor`). */
export function scaled(s: Spread, factor: number): Spread {
  return { median: s.median * factor, p25: s.p25 * factor, p75: s.p75 * factor, min: s.min * factor, max: s.max * factor, n: s.n };
}
